package analysis

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
)

// seg describes one segment of a table test, from the client (c) or the
// server (s).
type seg struct {
	fromServer bool
	flags      string // letters: S A P F R U
	seq, ack   uint32
	len        int
	ms         float64 // capture time in milliseconds
	opts       Options
	pad        int // bytes of Ethernet padding after the datagram
	data       []byte
	win        uint16 // the window field; 0 stands for 1024
}

const (
	cISN = 1000
	sISN = 5000
)

var (
	testClient = netip.MustParseAddrPort("10.0.0.1:40000")
	testServer = netip.MustParseAddrPort("10.0.0.2:443")
	mss        = Options{MSS: 1460, HasMSS: true}
	mssWS      = Options{MSS: 1460, HasMSS: true, WScale: 7, HasWScale: true}
)

func c(flags string, seq, ack uint32, n int, ms float64) seg {
	return seg{flags: flags, seq: seq, ack: ack, len: n, ms: ms, opts: optsFor(flags)}
}

func s(flags string, seq, ack uint32, n int, ms float64) seg {
	return seg{fromServer: true, flags: flags, seq: seq, ack: ack, len: n, ms: ms, opts: optsFor(flags)}
}

func optsFor(flags string) Options {
	if strings.Contains(flags, "S") {
		return mss
	}
	return Options{}
}

func (sg seg) with(f func(*seg)) seg { f(&sg); return sg }

func flagBits(s string) uint8 {
	var b uint8
	for _, r := range s {
		b |= map[rune]uint8{'S': FlagSYN, 'A': FlagACK, 'P': FlagPSH, 'F': FlagFIN, 'R': FlagRST, 'U': FlagURG}[r]
	}
	return b
}

// packetOf builds the decoded packet a segment would give.
func packetOf(i int, sg seg) Packet {
	p := Packet{
		Frame: uint64(i + 1), Time: int64(sg.ms * 1e6), IPVersion: 4, Proto: 6, HasTCP: true,
		Seq: sg.seq, Ack: sg.ack, Flags: flagBits(sg.flags), Window: 1024, Opts: sg.opts,
		PayloadLen: sg.len, HeaderLen: 20, TCPChecksum: CheckGood, IPChecksum: CheckGood, TCPOffset: 34, IPOffset: 14,
	}
	src, dst := testClient, testServer
	if sg.fromServer {
		src, dst = dst, src
	}
	p.Src, p.SrcPort, p.Dst, p.DstPort = src.Addr(), src.Port(), dst.Addr(), dst.Port()
	if sg.win != 0 {
		p.Window = sg.win
	}
	p.Payload = sg.data
	if p.Payload == nil {
		p.Payload = make([]byte, sg.len)
	}
	p.HeaderLen = 20 + optLen(sg.opts)
	p.IPTotalLen = 20 + p.HeaderLen + sg.len
	p.Padding = make([]byte, sg.pad)
	p.WireLen = 14 + p.IPTotalLen + sg.pad
	p.CapLen = p.WireLen
	return p
}

// optLen is the header space the options take, NOP-padded to 4 bytes each.
func optLen(o Options) int {
	n := 0
	for _, b := range []bool{o.HasMSS, o.HasWScale, o.SACKPerm} {
		if b {
			n += 4
		}
	}
	if o.HasTS {
		n += 12
	}
	return n
}

// analyze runs the segments through a fresh Analyzer.
func analyze(t *testing.T, segs []seg) *Result {
	t.Helper()
	a := NewAnalyzer(Config{Name: "test"})
	for i, sg := range segs {
		p := packetOf(i, sg)
		a.res.Frames++
		a.addPacket(&p)
	}
	return a.Finish()
}

func codes(f *Flow) []string {
	var out []string
	for _, fi := range f.Findings {
		out = append(out, fi.Code.String())
	}
	return out
}

// The seed's client view, reduced to its handshake: the SYN-ACK arrives with
// 2 zero bytes in a minimum-size frame and the client acknowledges them.
var seedHandshake = []seg{
	c("S", cISN, 0, 0, 0).with(func(s *seg) { s.opts = Options{MSS: 1460, HasMSS: true, WScale: 2, HasWScale: true, SACKPerm: true} }),
	s("SA", sISN, cISN+1, 2, 17),
	c("A", cISN+1, sISN+3, 0, 17.02),
}

func TestHandshakeRules(t *testing.T) {
	synData := c("S", cISN, 0, 10, 0)
	tfo := synData.with(func(s *seg) { s.opts.TFO, s.opts.TFOCookieLen = true, 8 })
	cases := []struct {
		name   string
		segs   []seg
		want   []string // codes that must fire
		absent []string // codes that must not
		hs     HandshakeStatus
		status Status
	}{
		{"clean handshake", []seg{c("S", cISN, 0, 0, 0), s("SA", sISN, cISN+1, 0, 10), c("A", cISN+1, sISN+1, 0, 20)},
			nil, []string{"handshake.ack_mismatch", "handshake.synack_payload", "handshake.incomplete"}, HSComplete, StatusOK},
		{"synack payload acknowledged (the seed)", seedHandshake,
			[]string{"handshake.synack_payload", "handshake.ack_mismatch", "handshake.wscale_one_sided"}, nil, HSInvalid, StatusInvalid},
		{"synack padding is not payload", []seg{c("S", cISN, 0, 0, 0), s("SA", sISN, cISN+1, 0, 17).with(func(s *seg) { s.pad = 2 }), c("A", cISN+1, sISN+1, 0, 18)},
			nil, []string{"handshake.synack_payload", "handshake.ack_mismatch"}, HSComplete, StatusOK},
		{"ack acknowledges bytes never sent", []seg{c("S", cISN, 0, 0, 0), s("SA", sISN, cISN+1, 0, 17), c("A", cISN+1, sISN+3, 0, 18)},
			[]string{"handshake.ack_mismatch"}, []string{"handshake.synack_payload"}, HSInvalid, StatusInvalid},
		{"synack acks the wrong number", []seg{c("S", cISN, 0, 0, 0), s("SA", sISN, cISN+5, 0, 10), c("A", cISN+1, sISN+1, 0, 20)},
			[]string{"handshake.synack_ack_mismatch"}, nil, HSInvalid, StatusInvalid},
		{"syn with data, no cookie", []seg{synData, s("SA", sISN, cISN+1, 0, 10), c("A", cISN+11, sISN+1, 0, 20)},
			[]string{"handshake.syn_payload"}, []string{"handshake.tfo"}, HSComplete, StatusWarning},
		{"syn with data and a fast open cookie, accepted", []seg{tfo, s("SA", sISN, cISN+11, 0, 10), c("A", cISN+11, sISN+1, 0, 20)},
			[]string{"handshake.tfo"}, []string{"handshake.syn_payload", "handshake.synack_ack_mismatch"}, HSComplete, StatusOK},
		{"refused", []seg{c("S", cISN, 0, 0, 0), s("RA", 0, cISN+1, 0, 1)},
			[]string{"handshake.refused"}, []string{"handshake.unanswered", "tcp.rst"}, HSRefused, StatusInvalid},
		{"unanswered", []seg{c("S", cISN, 0, 0, 0), c("S", cISN, 0, 0, 1000), c("S", cISN, 0, 0, 3000)},
			[]string{"handshake.unanswered", "handshake.syn_retransmit"}, []string{"handshake.refused"}, HSUnanswered, StatusInvalid},
		{"synack retransmitted, no third segment", []seg{c("S", cISN, 0, 0, 0), s("SA", sISN, cISN+1, 0, 10), s("SA", sISN, cISN+1, 0, 3010)},
			[]string{"handshake.synack_retransmit", "handshake.incomplete"}, []string{"handshake.ack_mismatch"}, HSIncomplete, StatusWarning},
		{"synack without syn", []seg{s("SA", sISN, cISN+1, 0, 10), c("A", cISN+1, sISN+1, 0, 20)},
			[]string{"handshake.synack_without_syn"}, []string{"handshake.not_seen"}, HSNotSeen, StatusPartial},
		{"mid-connection", []seg{c("PA", cISN+1, sISN+1, 100, 0), s("A", sISN+1, cISN+101, 0, 10)},
			[]string{"handshake.not_seen"}, nil, HSNotSeen, StatusPartial},
		{"window scaling on one side", []seg{c("S", cISN, 0, 0, 0).with(func(s *seg) { s.opts = mssWS }), s("SA", sISN, cISN+1, 0, 10), c("A", cISN+1, sISN+1, 0, 20)},
			[]string{"handshake.wscale_one_sided"}, nil, HSComplete, StatusOK},
		{"window scaling on both sides", []seg{c("S", cISN, 0, 0, 0).with(func(s *seg) { s.opts = mssWS }), s("SA", sISN, cISN+1, 0, 10).with(func(s *seg) { s.opts = mssWS }), c("A", cISN+1, sISN+1, 0, 20)},
			nil, []string{"handshake.wscale_one_sided"}, HSComplete, StatusOK},
		{"mss missing", []seg{c("S", cISN, 0, 0, 0).with(func(s *seg) { s.opts = Options{} }), s("SA", sISN, cISN+1, 0, 10), c("A", cISN+1, sISN+1, 0, 20)},
			[]string{"handshake.mss_missing"}, nil, HSComplete, StatusOK},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := analyze(t, tc.segs)
			if len(res.Flows) != 1 {
				t.Fatalf("%d flows, want 1", len(res.Flows))
			}
			f := res.Flows[0]
			got := codes(f)
			for _, w := range tc.want {
				if !slices.Contains(got, w) {
					t.Errorf("missing %s; findings %v", w, got)
				}
			}
			for _, w := range tc.absent {
				if slices.Contains(got, w) {
					t.Errorf("unexpected %s; findings %v", w, got)
				}
			}
			if f.Handshake.Status != tc.hs {
				t.Errorf("handshake %s, want %s", f.Handshake.Status, tc.hs)
			}
			if f.Status != tc.status {
				t.Errorf("status %s, want %s (findings %v)", f.Status, tc.status, got)
			}
			if f.Client() != testClient {
				t.Errorf("client %s, want %s", f.Client(), testClient)
			}
		})
	}
}

func TestSeedAckMismatchMessage(t *testing.T) {
	f := analyze(t, seedHandshake).Flows[0]
	fi, ok := f.First(CodeAckMismatch)
	if !ok {
		t.Fatal("no ack mismatch")
	}
	if fi.Frame != 3 || fi.RelatedFrame != 2 {
		t.Errorf("ack mismatch on frame %d related %d, want 3 and 2", fi.Frame, fi.RelatedFrame)
	}
	msg := f.Message(fi)
	for _, want := range []string{"expected 5001 (server ISN+1)", "got 5003 (+2)", "acknowledged the 2 bytes of SYN-ACK payload", "FWX_E_SEQ_ACK_MISMATCH"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q lacks %q", msg, want)
		}
	}
	pay, _ := f.First(CodeSynAckPayload)
	if msg := f.Message(pay); !strings.Contains(msg, "2 bytes") || !strings.Contains(msg, "00 00") || !strings.Contains(msg, "Ethernet padding") {
		t.Errorf("synack payload message %q", msg)
	}
	h := f.Handshake
	if h.ExpectedAck != sISN+1 || h.ActualAck != sISN+3 {
		t.Errorf("expected/actual %d/%d", h.ExpectedAck, h.ActualAck)
	}
}

func TestPaddingHintNeedsZeroBytesAndMinimumFrame(t *testing.T) {
	nonzero := slices.Clone(seedHandshake)
	nonzero[1] = nonzero[1].with(func(s *seg) { s.data = []byte{0x17, 0x03} })
	f := analyze(t, nonzero).Flows[0]
	fi, _ := f.First(CodeSynAckPayload)
	if strings.Contains(f.Message(fi), "Ethernet padding") {
		t.Errorf("non-zero payload called padding: %q", f.Message(fi))
	}
}

func TestPortReuseStartsNewFlow(t *testing.T) {
	segs := []seg{
		c("S", cISN, 0, 0, 0), s("SA", sISN, cISN+1, 0, 10), c("A", cISN+1, sISN+1, 0, 20),
		c("FA", cISN+1, sISN+1, 0, 30), s("FA", sISN+1, cISN+2, 0, 40), c("A", cISN+2, sISN+2, 0, 50),
		c("S", 90000, 0, 0, 1000), s("SA", 70000, 90001, 0, 1010), c("A", 90001, 70001, 0, 1020),
	}
	res := analyze(t, segs)
	if len(res.Flows) != 2 {
		t.Fatalf("%d flows, want 2", len(res.Flows))
	}
	if res.Flows[0].Packets != 6 || res.Flows[1].Packets != 3 {
		t.Errorf("packets %d and %d, want 6 and 3", res.Flows[0].Packets, res.Flows[1].Packets)
	}
	if res.Flows[0].Has(CodeReusedPorts) || res.Flows[1].Has(CodeReusedPorts) {
		t.Errorf("reuse after a clean close flagged reused_ports")
	}
	if res.Flows[1].PrevID != 1 {
		t.Errorf("flow 2 took over from flow %d, want 1", res.Flows[1].PrevID)
	}
	// The same, without the close: the old connection had not ended.
	open := append(slices.Clone(segs[:3]), segs[6:]...)
	res = analyze(t, open)
	if len(res.Flows) != 2 || !res.Flows[0].Has(CodeReusedPorts) {
		t.Fatalf("new SYN on an open connection: %d flows, reused_ports on the old one %v", len(res.Flows), res.Flows[0].Has(CodeReusedPorts))
	}
	fi, _ := res.Flows[0].First(CodeReusedPorts)
	if fi.Frame != 4 || !strings.Contains(res.Flows[0].Message(fi), "flow 2") {
		t.Errorf("reused_ports on frame %d: %q", fi.Frame, res.Flows[0].Message(fi))
	}
}

func TestRSTSaysWho(t *testing.T) {
	segs := []seg{c("S", cISN, 0, 0, 0), s("SA", sISN, cISN+1, 0, 10), c("A", cISN+1, sISN+1, 0, 20), s("RA", sISN+1, cISN+1, 0, 30)}
	f := analyze(t, segs).Flows[0]
	fi, ok := f.First(CodeRST)
	if !ok || !strings.Contains(f.Message(fi), "reset by the server (10.0.0.2:443)") {
		t.Errorf("rst finding %v %q", ok, f.Message(fi))
	}
}

func TestSeqWrapAround(t *testing.T) {
	isn := uint32(0xfffffff0)
	segs := []seg{
		c("S", isn, 0, 0, 0), s("SA", sISN, isn+1, 0, 10), c("A", isn+1, sISN+1, 0, 20),
		c("PA", isn+1, sISN+1, 100, 30), s("A", sISN+1, isn+101, 0, 40),
		c("PA", isn+101, sISN+1, 100, 50), s("A", sISN+1, isn+201, 0, 60),
	}
	f := analyze(t, segs).Flows[0]
	for _, fi := range f.Findings {
		if fi.Code != CodeMSSMissing {
			t.Errorf("wrap-around gave %s on frame %d", fi.Code, fi.Frame)
		}
	}
}
