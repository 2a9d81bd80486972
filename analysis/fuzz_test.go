package analysis

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math"
	"net/netip"
	"path/filepath"
	"testing"

	"github.com/synscope/synscope/capture"
)

// segmentsOf reads fuzz input as a sequence of segments of one or two
// connections: 9 bytes each, around ISNs taken from the first 8 bytes, so
// that wrap-around, retransmissions, overlaps, out-of-order and odd flag
// combinations all come up.
//
//	byte 0    bits 0-5 flags (S A P F R U), bit 6 from the server, bit 7
//	          second connection (another client port, reusing the first's
//	          when its low seq bit is set)
//	byte 1-2  sequence number, relative to the sender's ISN (int16)
//	byte 3-4  acknowledgement number, relative to the other's ISN + 1 (int16)
//	byte 5-6  payload length (& 0x7ff)
//	byte 7    milliseconds since the previous segment
//	byte 8    bit 0 MSS, 1 window scale, 2 SACK permitted, 3 timestamps,
//	          4 padding, 5 bad checksum, 6-7 window bits
func segmentsOf(data []byte) []fuzzSeg {
	if len(data) < 8 {
		return nil
	}
	cISN, sISN := binary.BigEndian.Uint32(data), binary.BigEndian.Uint32(data[4:])
	data = data[8:]
	var (
		segs []fuzzSeg
		ms   float64
	)
	for len(data) >= 9 && len(segs) < 512 {
		b := data[:9]
		data = data[9:]
		var flags string
		for i, f := range "SAPFRU" {
			if b[0]&(1<<i) != 0 {
				flags += string(f)
			}
		}
		sg := fuzzSeg{seg: seg{fromServer: b[0]&0x40 != 0, flags: flags, len: int(binary.BigEndian.Uint16(b[5:]) & 0x7ff)}}
		own, other := cISN, sISN
		if sg.fromServer {
			own, other = sISN, cISN
		}
		sg.seq = own + uint32(int16(binary.BigEndian.Uint16(b[1:])))
		sg.ack = other + 1 + uint32(int16(binary.BigEndian.Uint16(b[3:])))
		ms += float64(b[7])
		sg.ms = ms
		o := b[8]
		sg.opts = Options{MSS: 536 + uint16(o)*4, HasMSS: o&1 != 0, WScale: o >> 6, HasWScale: o&2 != 0, SACKPerm: o&4 != 0,
			HasTS: o&8 != 0, TSVal: uint32(ms), TSEcr: uint32(ms) / 2}
		if o&16 != 0 && sg.len < 6 {
			sg.pad = 6 - sg.len
		}
		sg.bad = o&32 != 0
		sg.second = b[0]&0x80 != 0
		segs = append(segs, sg)
	}
	return segs
}

// fuzzSeg is a segment of FuzzSegments.
type fuzzSeg struct {
	seg
	bad    bool // a bad TCP checksum
	second bool // of the second connection
}

// FuzzSegments runs arbitrary sequences of segments through the flow
// analysis and a path of two points (the second seeing the segments with
// its ISNs shifted and some left out): no panic, and what comes out holds
// together: every packet in one flow, findings on frames of their flow,
// one JSON object per line, a message for every finding.
func FuzzSegments(f *testing.F) {
	f.Add(seedSegments())
	f.Add(append(seedSegments(), 0x42, 0xff, 0xff, 0, 0, 0, 0, 1, 0))
	f.Add([]byte("\xff\xff\xff\xf0\x00\x00\x00\x10\x01\x00\x00\x00\x00\x00\x00\x00\x01\x43\x00\x00\x00\x00\x00\x00\x05\x01"))
	// Real connections: the first two of every fixture and of a sample of
	// the corpus, in the encoding above.
	for _, file := range captureFiles(8) {
		if b := captureSegments(file); b != nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		segs := segmentsOf(data)
		if len(segs) == 0 {
			return
		}
		res := analyzeFuzz(segs, 0, nil)
		checkResult(t, res, len(segs))
		// The second point: ISNs shifted by a constant (a rewriting
		// middlebox), every seventh segment dropped, clock 2.5 s behind.
		drop := func(i int) bool { return i%7 == 6 }
		res2 := analyzeFuzz(segs, 0x10000, drop)
		pa := Correlate([]Point{{Name: "a", Result: res}, {Name: "b", Result: res2}})
		seen := map[*Flow]bool{}
		for _, c := range pa.Conns {
			if len(c.Flows) != 2 {
				t.Fatalf("connection %d has %d flows for 2 points", c.ID, len(c.Flows))
			}
			for _, fl := range c.Flows {
				if fl == nil {
					continue
				}
				if seen[fl] {
					t.Fatalf("flow %d in two connections", fl.ID)
				}
				seen[fl] = true
			}
		}
		for fl, pfs := range pa.Findings {
			if !seen[fl] {
				t.Fatalf("path findings on flow %d of no connection", fl.ID)
			}
			_ = pfs
		}
		for _, off := range pa.Offset {
			if math.IsInf(off, 0) {
				t.Fatalf("clock offset %v", off)
			}
		}
		var buf bytes.Buffer
		if err := pa.WriteJSON(&buf); err != nil {
			t.Fatal(err)
		}
		checkJSONLines(t, buf.Bytes())
	})
}

// analyzeFuzz runs the segments through a fresh Analyzer; shift moves both
// ISNs, skip leaves segments out.
func analyzeFuzz(segs []fuzzSeg, shift uint32, skip func(int) bool) *Result {
	a := NewAnalyzer(Config{Name: "fuzz"})
	second := testClient
	frame := 0
	for i, sg := range segs {
		if skip != nil && skip(i) {
			continue
		}
		sg.seq += shift
		sg.ack += shift
		p := packetOf(frame, sg.seg)
		frame++
		if sg.bad {
			p.TCPChecksum = CheckBad
		}
		if sg.second {
			// Another connection between the same hosts; when the low
			// bit of its seq is set it reuses the first one's ports.
			if sg.seq&1 == 0 {
				second = netip.AddrPortFrom(testClient.Addr(), testClient.Port()+1)
			} else {
				second = testClient
			}
			if sg.fromServer {
				p.DstPort = second.Port()
			} else {
				p.SrcPort = second.Port()
			}
		}
		a.res.Frames++
		a.addPacket(&p)
	}
	return a.Finish()
}

// checkResult checks what a result must hold whatever the packets.
func checkResult(t *testing.T, res *Result, n int) {
	t.Helper()
	total := 0
	for _, fl := range res.Flows {
		total += fl.Packets
		if fl.Packets != len(fl.Refs) {
			t.Fatalf("flow %d: %d packets, %d refs", fl.ID, fl.Packets, len(fl.Refs))
		}
		frames := map[uint64]bool{}
		for _, r := range fl.Refs {
			frames[r.Frame] = true
		}
		for _, fi := range fl.Findings {
			if fi.Code == CodeReusedPorts && fi.B == 0 {
				// On the old flow, about the SYN that starts the new
				// one (flow A), where Wireshark flags it.
				if fi.A < 1 || int(fi.A) > len(res.Flows) || res.Flows[fi.A-1].FirstFrame != fi.Frame {
					t.Fatalf("flow %d: %s on frame %d, not the first of flow %d", fl.ID, fi.Code, fi.Frame, fi.A)
				}
			} else if !frames[fi.Frame] {
				t.Fatalf("flow %d: %s on frame %d, not one of its packets", fl.ID, fi.Code, fi.Frame)
			}
			if msg := fl.Message(fi); msg == "" {
				t.Fatalf("flow %d: %s has no message", fl.ID, fi.Code)
			}
		}
		if fl.FirstFrame > fl.LastFrame || fl.Start > fl.End {
			t.Fatalf("flow %d: frames %d-%d, times %d-%d", fl.ID, fl.FirstFrame, fl.LastFrame, fl.Start, fl.End)
		}
	}
	if total != n || res.TCPFrames != uint64(n) {
		t.Fatalf("%d packets in flows, %d TCP frames, %d segments", total, res.TCPFrames, n)
	}
	var buf bytes.Buffer
	if err := res.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	checkJSONLines(t, buf.Bytes())
}

func checkJSONLines(t *testing.T, b []byte) {
	t.Helper()
	for _, line := range bytes.Split(bytes.TrimSuffix(b, []byte("\n")), []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		var v map[string]any
		if err := json.Unmarshal(line, &v); err != nil {
			t.Fatalf("not a JSON object: %v\n%s", err, line)
		}
	}
}

// seedSegments encodes a handshake like the seed's (SYN-ACK with 2 bytes,
// ACK of ISN+3), data both ways and a close.
func seedSegments() []byte {
	b := []byte{0x15, 0xe7, 0xc5, 0xff, 0x81, 0xf0, 0x3a, 0x5d}
	add := func(flags byte, seq, ack int16, n uint16, ms, opts byte) {
		b = binary.BigEndian.AppendUint16(append(b, flags), uint16(seq))
		b = binary.BigEndian.AppendUint16(b, uint16(ack))
		b = binary.BigEndian.AppendUint16(b, n)
		b = append(b, ms, opts)
	}
	const S, A, P, F = 1, 2, 4, 8
	add(S, 0, -1, 0, 0, 1|2|4)
	add(0x40|S|A, 0, 0, 2, 17, 1)
	add(A, 1, 2, 0, 0, 0)
	add(P|A, 1, 2, 127, 2, 0)
	add(P|A, 1, 2, 127, 200, 0)
	add(0x40|P|A, 1, 128, 1300, 20, 0)
	add(F|A, 128, 1301, 0, 5, 0)
	add(0x40|F|A, 1301, 129, 0, 1, 0)
	add(A, 129, 1302, 0, 1, 0)
	return b
}

// captureSegments encodes the TCP segments of the first two connections of
// a capture file as FuzzSegments input (see segmentsOf): sequence and
// acknowledgement numbers relative to the first numbers each side of the
// first connection sent, flags, lengths, gaps and options as captured. It
// returns nil for a file with no TCP segment.
func captureSegments(path string) []byte {
	r, err := capture.Open(path)
	if err != nil {
		return nil
	}
	defer r.Close()
	type captured struct {
		b0       byte // flags, direction and connection bits
		seq, ack uint32
		n        int
		time     int64
		opts     byte
	}
	var (
		d       = NewDecoder()
		p       Packet
		clients []netip.AddrPort // the client of each connection: the first sender
		servers []netip.AddrPort
		isn     [2]uint32 // the first seq of each side of the first connection
		haveISN [2]bool
		segs    []captured
	)
	for len(segs) < 512 {
		rec, err := r.Next()
		if err != nil {
			break
		}
		d.Decode(rec, &p)
		if !p.HasTCP {
			continue
		}
		src, dst := netip.AddrPortFrom(p.Src, p.SrcPort), netip.AddrPortFrom(p.Dst, p.DstPort)
		conn, side := -1, 0
		for i := range clients {
			if clients[i] == src && servers[i] == dst {
				conn = i
			} else if clients[i] == dst && servers[i] == src {
				conn, side = i, 1
			}
		}
		if conn < 0 {
			if len(clients) == 2 {
				continue
			}
			clients, servers = append(clients, src), append(servers, dst)
			conn = len(clients) - 1
		}
		if conn == 0 && !haveISN[side] {
			isn[side], haveISN[side] = p.Seq, true
		}
		c := captured{seq: p.Seq, ack: p.Ack, n: min(p.PayloadLen, 0x7ff), time: p.Time}
		for i, fl := range []uint8{FlagSYN, FlagACK, FlagPSH, FlagFIN, FlagRST, FlagURG} {
			if p.Flags&fl != 0 {
				c.b0 |= 1 << i
			}
		}
		if side == 1 {
			c.b0 |= 0x40
		}
		if conn == 1 {
			c.b0 |= 0x80
		}
		if p.Opts.HasMSS {
			c.opts |= 1
		}
		if p.Opts.HasWScale {
			c.opts |= 2 | min(p.Opts.WScale, 3)<<6
		}
		if p.Opts.SACKPerm {
			c.opts |= 4
		}
		if p.Opts.HasTS {
			c.opts |= 8
		}
		if len(p.Padding) > 0 {
			c.opts |= 16
		}
		if p.TCPChecksum == CheckBad {
			c.opts |= 32
		}
		segs = append(segs, c)
	}
	if len(segs) == 0 {
		return nil
	}
	out := binary.BigEndian.AppendUint32(nil, isn[0])
	out = binary.BigEndian.AppendUint32(out, isn[1])
	last := segs[0].time
	for _, c := range segs {
		own, other := isn[0], isn[1]
		if c.b0&0x40 != 0 {
			own, other = other, own
		}
		out = append(out, c.b0)
		out = binary.BigEndian.AppendUint16(out, uint16(c.seq-own))
		out = binary.BigEndian.AppendUint16(out, uint16(c.ack-other-1))
		out = binary.BigEndian.AppendUint16(out, uint16(c.n))
		out = append(out, byte(min(max((c.time-last)/1e6, 0), 255)), c.opts)
		last = c.time
	}
	return out
}

// TestCaptureSegmentsSeed: the seed client's capture, encoded for
// FuzzSegments, decodes back to its 12 segments with the SYN-ACK's 2 bytes
// and the client's ACK of ISN+3.
func TestCaptureSegmentsSeed(t *testing.T) {
	segs := segmentsOf(captureSegments("../testdata/seed-client.pcap"))
	if len(segs) != 12 {
		t.Fatalf("%d segments, want 12", len(segs))
	}
	synack, ack := segs[1], segs[2]
	if !synack.fromServer || synack.flags != "SA" || synack.len != 2 {
		t.Errorf("segment 2: %+v, want a 2-byte SYN-ACK from the server", synack)
	}
	if ack.fromServer || ack.flags != "A" || ack.ack-segs[1].seq != 3 {
		t.Errorf("segment 3: %+v, want the client's ACK of server ISN+3", ack)
	}
}

// captureFiles lists the fixture captures of testdata/ and every nth
// capture of the corpus (none when it is not there).
func captureFiles(nth int) []string {
	files, _ := filepath.Glob("../testdata/*.pcap*")
	corpus, _ := filepath.Glob(corpusDir + "/*")
	for i, file := range corpus {
		if i%nth == 0 {
			files = append(files, file)
		}
	}
	return files
}
