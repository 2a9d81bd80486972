package analysis

import (
	"slices"
	"strings"
	"testing"
)

// closeHandshake is a clean handshake and 100 bytes from the client, frames
// 1-5: the client then expects 5001 (sISN+1) with a window of 1024 bytes
// (no window scale), and has sent up to 1101.
var closeHandshake = []seg{
	c("S", cISN, 0, 0, 0), s("SA", sISN, cISN+1, 0, 10), c("A", cISN+1, sISN+1, 0, 20),
	c("PA", cISN+1, sISN+1, 100, 30), s("A", sISN+1, cISN+101, 0, 40),
}

// closeGoesOn is what follows a RST the client did not take: more data
// both ways and a close with FINs.
func closeGoesOn(ms float64) []seg {
	return []seg{
		c("PA", cISN+101, sISN+1, 100, ms), s("PA", sISN+1, cISN+201, 300, ms+10),
		c("FA", cISN+201, sISN+301, 0, ms+20), s("FA", sISN+301, cISN+202, 0, ms+30), c("A", cISN+202, sISN+302, 0, ms+40),
	}
}

// framesOf returns the frames of f's findings with the code.
func framesOf(f *Flow, code Code) []uint64 {
	var out []uint64
	for _, fi := range f.Findings {
		if fi.Code == code {
			out = append(out, fi.Frame)
		}
	}
	return out
}

// TestRSTTakenOnlyInWindow: a RST ends the connection only when its
// receiver takes it. In a synchronized state RFC 9293 §3.10.7.4 ignores a
// RST outside the receiver's window, and RFC 5961 §3.2 answers one in the
// window but not at the next expected sequence number with a challenge
// ACK. Such a RST does not close the flow, and what follows it is not data
// after close; its tcp.rst finding says what became of it. Where the
// capture does not know the receiver's state, a RST is taken as before.
// Zeek's conn_state takes every RST, as Zeek does.
func TestRSTTakenOnlyInWindow(t *testing.T) {
	scaled := []seg{
		c("S", cISN, 0, 0, 0).with(func(s *seg) { s.opts = mssWS }), s("SA", sISN, cISN+1, 0, 10).with(func(s *seg) { s.opts = mssWS }),
		c("A", cISN+1, sISN+1, 0, 20), c("PA", cISN+1, sISN+1, 100, 30).with(func(s *seg) { s.win = 100 }), // 100 × 128 bytes
		s("A", sISN+1, cISN+101, 0, 40),
	}
	midStream := []seg{ // no handshake: the client's window scale is unknown
		c("PA", cISN+1, sISN+1, 100, 0), s("A", sISN+1, cISN+101, 0, 10), c("A", cISN+101, sISN+1, 0, 20),
	}
	inFlight := append(slices.Clone(closeHandshake), s("PA", sISN+1, cISN+101, 300, 45)) // frame 6: 5001-5301, not yet acknowledged
	cases := []struct {
		name string
		segs []seg
		msgs []string // the tcp.rst findings' messages, each by a phrase
		rst  rstState // at the end
		data []uint64 // frames of tcp.data_after_close
		zeek string   // conn_state, empty: not checked
	}{
		{name: "at the next expected",
			segs: append(slices.Clone(closeHandshake), s("RA", sISN+1, cISN+101, 0, 50), c("PA", cISN+101, sISN+1, 50, 60)),
			msgs: []string{"connection reset by the server (10.0.0.2:443)"}, rst: rstTaken, data: []uint64{7}, zeek: "RSTR"},
		{name: "far outside the window (blind)",
			segs: slices.Concat(closeHandshake, []seg{s("R", 123456789, 0, 0, 50)}, closeGoesOn(60)),
			msgs: []string{"reset by the server (10.0.0.2:443) with seq 123456789 outside the client's window (next expected 5001): the client ignores it (forged or stale?)"},
			rst:  rstNone, zeek: "RSTR"},
		{name: "behind the next expected (stale)",
			segs: slices.Concat(closeHandshake, []seg{s("R", sISN+1-2000, 0, 0, 50)}, closeGoesOn(60)),
			msgs: []string{"with seq 3001 outside the client's window (next expected 5001)"}, rst: rstNone},
		{name: "just past the window",
			segs: slices.Concat(closeHandshake, []seg{s("R", sISN+1+1024, 0, 0, 50)}, closeGoesOn(60)),
			msgs: []string{"with seq 6025 outside the client's window"}, rst: rstNone},
		{name: "in the window, challenged, and the connection went on",
			segs: slices.Concat(closeHandshake, []seg{s("R", sISN+1+1023, 0, 0, 50), c("A", cISN+101, sISN+1, 0, 51)}, closeGoesOn(60)),
			msgs: []string{"reset by the server (10.0.0.2:443) with seq 6024, in the client's window but not the next expected 5001: a receiver following RFC 5961 answers it with a challenge ACK, and the connection went on"},
			rst:  rstNone, zeek: "RSTR"},
		{name: "in the window, nothing after",
			segs: append(slices.Clone(closeHandshake), s("R", sISN+501, 0, 0, 50)),
			msgs: []string{"connection reset by the server (10.0.0.2:443) with seq 5501, in the client's window but not the next expected 5001 (a receiver following RFC 5961"},
			rst:  rstWaits},
		{name: "in the window, then at the next expected",
			segs: append(slices.Clone(closeHandshake), s("R", sISN+501, 0, 0, 50), s("R", sISN+1, 0, 0, 51), c("PA", cISN+101, sISN+1, 50, 60)),
			msgs: []string{"no challenge ACK follows in the capture", "connection reset by the server (10.0.0.2:443)"},
			rst:  rstTaken, data: []uint64{8}},
		{name: "forged RSTs in turn",
			// The sequence analysis, as Wireshark's, moves the server's
			// next sequence number to the first RST's; the second is still
			// judged by the server's own segments, and is not taken.
			segs: slices.Concat(closeHandshake, []seg{s("R", sISN+1+3000, 0, 0, 50), s("R", sISN+501, 0, 0, 51), c("A", cISN+101, sISN+1, 0, 52)}, closeGoesOn(60)),
			msgs: []string{"with seq 8001 outside the client's window", "with seq 5501, in the client's window but not the next expected 5001: a receiver following RFC 5961 answers it with a challenge ACK, and the connection went on"},
			rst:  rstNone},
		{name: "forged RSTs both ways",
			// The client's forged RST carries no ACK: the server's that
			// follows is judged by the client's own last ACK.
			segs: slices.Concat(closeHandshake, []seg{c("R", cISN+50101, 0, 0, 50), s("R", 123456789, 0, 0, 51)}, closeGoesOn(60)),
			msgs: []string{"reset by the client (10.0.0.1:40000) with seq 51101 outside the server's window (next expected 1101)", "with seq 123456789 outside the client's window (next expected 5001)"},
			rst:  rstNone},
		{name: "window scale",
			segs: slices.Concat(scaled, []seg{s("R", sISN+1+12000, 0, 0, 50), s("R", sISN+1+13000, 0, 0, 51)}, closeGoesOn(60)),
			msgs: []string{"with seq 17001, in the client's window", "with seq 18001 outside the client's window"}, rst: rstNone},
		{name: "data on its way: the next expected is not known to the byte",
			segs: append(slices.Clone(inFlight), s("R", sISN+301, 0, 0, 50), c("PA", cISN+101, sISN+1, 50, 60)),
			msgs: []string{"connection reset by the server (10.0.0.2:443)"}, rst: rstTaken, data: []uint64{8}},
		{name: "data on its way, RST past it",
			// The client's ACK of the data was on its way when the
			// server reset (an abort whose last segment the capture
			// lost): it moves on, and is no challenge ACK.
			segs: slices.Concat(inFlight, []seg{s("R", sISN+401, 0, 0, 50), c("A", cISN+101, sISN+301, 0, 51)}),
			msgs: []string{"with seq 5401, in the client's window but not the next expected between 5001 and 5301 (a receiver following RFC 5961 answers it with a challenge ACK and goes on; no challenge ACK follows in the capture)"},
			rst:  rstWaits},
		{name: "data on its way, RST past it, then a challenge ACK",
			segs: slices.Concat(inFlight, []seg{s("R", sISN+401, 0, 0, 50), c("A", cISN+101, sISN+301, 0, 51), c("A", cISN+101, sISN+301, 0, 52)}),
			msgs: []string{"with seq 5401, in the client's window but not the next expected between 5001 and 5301: a receiver following RFC 5961"},
			rst:  rstNone},
		{name: "at the FIN's sequence number, after the sender's FIN",
			// Linux's tcp_reset_check takes it (some stacks reset so).
			segs: append(slices.Clone(closeHandshake), s("FA", sISN+1, cISN+101, 0, 50), c("A", cISN+101, sISN+2, 0, 51), s("R", sISN+1, 0, 0, 52)),
			msgs: []string{"connection reset by the server (10.0.0.2:443)"}, rst: rstTaken},
		{name: "one below the next expected, without a FIN",
			segs: slices.Concat(closeHandshake, []seg{s("R", sISN, 0, 0, 50)}, closeGoesOn(60)),
			msgs: []string{"with seq 5000 outside the client's window"}, rst: rstNone},
		{name: "after both FINs: nothing to judge",
			segs: append(slices.Clone(closeHandshake), c("FA", cISN+101, sISN+1, 0, 50), s("FA", sISN+1, cISN+102, 0, 51), s("R", 99999, 0, 0, 52)),
			msgs: []string{"connection reset by the server (10.0.0.2:443)"}, rst: rstTaken},
		{name: "the client's RST after the SYN-ACK",
			segs: []seg{c("S", cISN, 0, 0, 0), s("SA", sISN, cISN+1, 0, 10), c("R", cISN+1, 0, 0, 20)},
			msgs: []string{"connection reset by the client (10.0.0.1:40000)"}, rst: rstTaken},
		{name: "the client's RST after the SYN-ACK, outside the server's window",
			segs: []seg{c("S", cISN, 0, 0, 0), s("SA", sISN, cISN+1, 0, 10), c("R", cISN+5000, 0, 0, 20)},
			msgs: []string{"reset by the client (10.0.0.1:40000) with seq 6000 outside the server's window (next expected 1001)"}, rst: rstNone},
		{name: "refused: the handshake's finding",
			segs: []seg{c("S", cISN, 0, 0, 0), s("RA", 0, cISN+1, 0, 1)},
			rst:  rstTaken},
		{name: "no handshake, nothing from the receiver: taken",
			segs: []seg{s("PA", sISN+1, cISN+1, 100, 0), s("R", 99999, 0, 0, 10), s("PA", sISN+101, cISN+1, 100, 20)},
			msgs: []string{"connection reset by the server (10.0.0.2:443)"}, rst: rstTaken, data: []uint64{3}},
		{name: "no handshake: the window scale is taken as 14",
			segs: append(slices.Clone(midStream), s("R", sISN+1+100000, 0, 0, 30), s("R", sISN+1-10, 0, 0, 31), s("PA", sISN+1, cISN+101, 100, 40)),
			msgs: []string{"with seq 105001, in the client's window", "with seq 4991 outside the client's window"}, rst: rstNone},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := analyze(t, tc.segs)
			if len(res.Flows) != 1 {
				t.Fatalf("case %d: %d flows, want 1", i, len(res.Flows))
			}
			f := res.Flows[0]
			var msgs []string
			for _, fi := range f.Findings {
				if fi.Code == CodeRST {
					msgs = append(msgs, f.Message(fi))
				}
			}
			if len(msgs) != len(tc.msgs) {
				t.Fatalf("case %d: tcp.rst %q, want %d saying %q; findings %v", i, msgs, len(tc.msgs), tc.msgs, codes(f))
			}
			for j, want := range tc.msgs {
				if !strings.Contains(msgs[j], want) {
					t.Errorf("case %d: tcp.rst %q does not say %q", i, msgs[j], want)
				}
			}
			for _, fi := range f.Findings {
				msg := f.Message(fi)
				ignored, outside := fi.RSTIgnored()
				if fi.Code == CodeRST && (ignored != (strings.Contains(msg, "ignores it") || strings.Contains(msg, "went on")) || outside != strings.Contains(msg, "outside")) {
					t.Errorf("case %d: RSTIgnored %v %v on %q", i, ignored, outside, msg)
				}
			}
			if f.rst != tc.rst {
				t.Errorf("case %d: rst state %d, want %d", i, f.rst, tc.rst)
			}
			if got := framesOf(f, CodeDataAfterClose); !slices.Equal(got, tc.data) {
				t.Errorf("case %d: data_after_close on frames %v, want %v", i, got, tc.data)
			}
			if tc.zeek != "" && f.ConnState() != tc.zeek {
				t.Errorf("case %d: conn_state %s, want %s (%v)", i, f.ConnState(), tc.zeek, &f.zeek)
			}
		})
	}
}

// TestDataAfterClose: tcp.data_after_close is for bytes at or past the
// sender's own FIN, whether or not the peer closed, and for data after a
// RST its receiver took. Bytes sent before the FIN and sent again after
// both FINs are loss recovery at close; a side's data after the peer's FIN
// is a half-close.
func TestDataAfterClose(t *testing.T) {
	cases := []struct {
		name    string
		segs    []seg
		frames  []uint64 // of tcp.data_after_close
		related uint64   // of the first
		msg     string   // a phrase of the first
	}{
		{name: "bytes before the FIN sent again after both FINs",
			segs: append(slices.Clone(closeHandshake),
				s("PA", sISN+1, cISN+101, 1000, 50), s("PA", sISN+1001, cISN+101, 1000, 51), // 6, 7 (lost past the capture point)
				s("FA", sISN+2001, cISN+101, 0, 52), c("A", cISN+101, sISN+1001, 0, 60), // 8: FIN at 7001
				c("FA", cISN+101, sISN+1001, 0, 61), s("PA", sISN+1001, cISN+102, 1000, 260), // 11: sent again
				c("A", cISN+102, sISN+2002, 0, 270))},
		{name: "data past the sender's own FIN, the peer still open",
			segs: append(slices.Clone(closeHandshake), c("FA", cISN+101, sISN+1, 0, 50), s("A", sISN+1, cISN+102, 0, 60),
				c("PA", cISN+102, sISN+1, 50, 70)),
			frames: []uint64{8}, related: 6, msg: "50 bytes of data from the client past its own FIN (seq 1101): nothing may follow a FIN"},
		{name: "data past the sender's own FIN, after both FINs",
			segs: append(slices.Clone(closeHandshake), c("FA", cISN+101, sISN+1, 0, 50), s("FA", sISN+1, cISN+102, 0, 60),
				c("A", cISN+102, sISN+2, 0, 70), c("PA", cISN+102, sISN+2, 10, 80), c("PA", cISN+102, sISN+2, 10, 90)),
			frames: []uint64{9, 10}, related: 6, msg: "10 bytes of data from the client past its own FIN (seq 1101)"},
		{name: "data at the FIN's own sequence number",
			segs:   append(slices.Clone(closeHandshake), c("FA", cISN+101, sISN+1, 0, 50), c("PA", cISN+101, sISN+1, 20, 60)),
			frames: []uint64{7}, related: 6, msg: "20 bytes of data from the client past its own FIN (seq 1101)"},
		{name: "a keep-alive after the FIN",
			segs: append(slices.Clone(closeHandshake), c("FA", cISN+101, sISN+1, 0, 50), s("A", sISN+1, cISN+102, 0, 60),
				c("A", cISN+101, sISN+1, 1, 7000))},
		{name: "a FIN with data sent again",
			segs: append(slices.Clone(closeHandshake), c("FPA", cISN+101, sISN+1, 100, 50), c("FPA", cISN+101, sISN+1, 100, 300))},
		{name: "the peer's data after a FIN (half-close)",
			segs: append(slices.Clone(closeHandshake), c("FA", cISN+101, sISN+1, 0, 50), s("A", sISN+1, cISN+102, 0, 60),
				s("PA", sISN+1, cISN+102, 500, 70), s("FA", sISN+501, cISN+102, 0, 80), c("A", cISN+102, sISN+502, 0, 90))},
		{name: "after a RST the receiver took",
			segs:   append(slices.Clone(closeHandshake), s("RA", sISN+1, cISN+101, 0, 50), c("PA", cISN+101, sISN+1, 50, 60)),
			frames: []uint64{7}, related: 6, msg: "50 bytes of data from the client after the connection was reset"},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := analyze(t, tc.segs).Flows[0]
			got := framesOf(f, CodeDataAfterClose)
			if !slices.Equal(got, tc.frames) {
				t.Fatalf("case %d: data_after_close on frames %v, want %v; findings %v", i, got, tc.frames, codes(f))
			}
			if len(got) == 0 {
				return
			}
			fi, _ := f.First(CodeDataAfterClose)
			if fi.RelatedFrame != tc.related || !strings.Contains(f.Message(fi), tc.msg) {
				t.Errorf("case %d: related frame %d, message %q; want %d, %q", i, fi.RelatedFrame, f.Message(fi), tc.related, tc.msg)
			}
		})
	}
}

// TestForgedRSTFlood: each RST the receiver ignores has its finding, up to
// maxFindingsPerCode kept and the rest counted, as any code; the flow is
// not closed by them, and the data that goes on is not after close.
func TestForgedRSTFlood(t *testing.T) {
	const n = maxFindingsPerCode + 500
	segs := slices.Clone(closeHandshake)
	for i := range n {
		segs = append(segs, s("R", sISN+1+uint32(i+1)*100000, 0, 0, 50+float64(i)/100))
	}
	segs = append(segs, closeGoesOn(100)...)
	f := analyze(t, segs).Flows[0]
	if got := f.Count(CodeRST); got != n {
		t.Errorf("%d tcp.rst counted, want %d", got, n)
	}
	if got := len(framesOf(f, CodeRST)); got != maxFindingsPerCode {
		t.Errorf("%d tcp.rst kept, want %d", got, maxFindingsPerCode)
	}
	if f.Has(CodeDataAfterClose) || f.rst != rstNone {
		t.Errorf("forged RSTs closed the flow: rst state %d, findings %v", f.rst, f.Counts())
	}
	rec := string(f.appendJSON(nil, jsonHead("test", nil)))
	if want := `"finding_counts":{"tcp.rst":1500}`; !strings.Contains(rec, want) {
		t.Errorf("record lacks %s", want)
	}
}

// TestRSTAndReusedPorts: a RST its receiver ignored leaves the connection
// open, so a new SYN with another ISN takes over ports of a connection
// that had not ended (tcp.reused_ports); one in the window with nothing
// after it may have ended it, and the new SYN says it did.
func TestRSTAndReusedPorts(t *testing.T) {
	for _, tc := range []struct {
		rst    seg
		reused bool
	}{
		{s("R", 123456789, 0, 0, 50), true},
		{s("R", sISN+501, 0, 0, 50), false},
		{s("R", sISN+1, 0, 0, 50), false},
	} {
		segs := append(slices.Clone(closeHandshake), tc.rst, c("S", 90000, 0, 0, 1000), s("SA", 70000, 90001, 0, 1010))
		res := analyze(t, segs)
		if len(res.Flows) != 2 {
			t.Fatalf("RST seq %d: %d flows, want 2", tc.rst.seq, len(res.Flows))
		}
		if got := res.Flows[0].Has(CodeReusedPorts); got != tc.reused {
			t.Errorf("RST seq %d: reused_ports %v, want %v", tc.rst.seq, got, tc.reused)
		}
	}
}

// TestSeedRSTBehindTheClient: in the seed the client acknowledged the
// SYN-ACK's 2 bytes, which the firewall that resets does not count: its
// RST (ISN+1) is 2 bytes behind what the client expects, and the client
// ignores it. The message says why, not "forged or stale".
func TestSeedRSTBehindTheClient(t *testing.T) {
	segs := append(slices.Clone(seedHandshake), c("PA", cISN+1, sISN+3, 127, 20), s("RA", sISN+1, cISN+1, 0, 6000))
	f := analyze(t, segs).Flows[0]
	fi, ok := f.First(CodeRST)
	want := "reset by the server (10.0.0.2:443) with seq 5001 outside the client's window (next expected 5003): the client ignores it: its ACK (frame 3) counts 2 bytes that the server's sequence numbers do not"
	if !ok || f.Message(fi) != want {
		t.Errorf("tcp.rst %v %q, want %q", ok, f.Message(fi), want)
	}
	if ignored, outside := fi.RSTIgnored(); !ignored || !outside {
		t.Errorf("RSTIgnored %v %v, want true true", ignored, outside)
	}
}

// TestIgnoredRSTNamedBySeqFindings: the sequence analysis, as Wireshark's,
// takes an ignored RST's sequence number, so the server's next real
// segment is "out of order" or a "retransmission" behind it; the message
// says that the frame it names is a RST the receiver ignored, where it read
// as if real data had gone past.
func TestIgnoredRSTNamedBySeqFindings(t *testing.T) {
	segs := slices.Concat(closeHandshake, []seg{s("R", sISN+1+3000, 0, 0, 50)}, closeGoesOn(60))
	f := analyze(t, segs).Flows[0]
	const rstFrame = 6
	n := 0
	for _, fi := range f.Findings {
		if fi.RelatedFrame != rstFrame || fi.Code == CodeRST {
			continue
		}
		n++
		if msg := f.Message(fi); !strings.Contains(msg, "frame 6") || !strings.Contains(msg, "it is a RST the receiver ignored") {
			t.Errorf("%s on frame %d: %q", fi.Code, fi.Frame, msg)
		}
	}
	if n == 0 {
		t.Fatalf("no sequence finding names the RST (frame %d): %v", rstFrame, codes(f))
	}
}
