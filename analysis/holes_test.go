package analysis

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestSeqHoles drives one side's holes through a table of steps, as
// gopacket's tcpcheck_test does a state machine: each step adds a hole or
// fills one, and the holes after it are checked, with what capturedBefore
// says of a range.
func TestSeqHoles(t *testing.T) {
	type step struct {
		add, fill [2]uint32 // a hole made, a range filled (zero: none)
		holes     [][2]uint32
		full      bool
		ask       [2]uint32 // a range asked about
		captured  bool
	}
	for _, c := range []struct {
		name  string
		steps []step
	}{
		{"no hole: all captured above the base", []step{
			{ask: [2]uint32{1001, 1101}, captured: true},
			{ask: [2]uint32{1000, 1100}, captured: false}, // the base itself
		}},
		{"a hole, then filled whole", []step{
			{add: [2]uint32{1101, 1201}, holes: [][2]uint32{{1101, 1201}}, ask: [2]uint32{1151, 1251}},
			{ask: [2]uint32{1201, 1301}, holes: [][2]uint32{{1101, 1201}}, captured: true},
			{ask: [2]uint32{1001, 1101}, holes: [][2]uint32{{1101, 1201}}, captured: true},
			{fill: [2]uint32{1101, 1201}, ask: [2]uint32{1101, 1201}, captured: true},
		}},
		{"filled at its start, its end, its middle", []step{
			{add: [2]uint32{1101, 1501}, holes: [][2]uint32{{1101, 1501}}},
			{fill: [2]uint32{1001, 1151}, holes: [][2]uint32{{1151, 1501}}},
			{fill: [2]uint32{1451, 1601}, holes: [][2]uint32{{1151, 1451}}},
			{fill: [2]uint32{1201, 1301}, holes: [][2]uint32{{1151, 1201}, {1301, 1451}}, ask: [2]uint32{1201, 1301}, captured: true},
			{ask: [2]uint32{1200, 1301}, holes: [][2]uint32{{1151, 1201}, {1301, 1451}}},
		}},
		{"a fill over two holes", []step{
			{add: [2]uint32{1101, 1201}, holes: [][2]uint32{{1101, 1201}}},
			{add: [2]uint32{1301, 1401}, holes: [][2]uint32{{1101, 1201}, {1301, 1401}}},
			{fill: [2]uint32{1001, 1501}, ask: [2]uint32{1001, 1501}, captured: true},
		}},
		{"across sequence number 0", []step{
			{add: [2]uint32{0xffffff00, 0x100}, holes: [][2]uint32{{0xffffff00, 0x100}}, ask: [2]uint32{0xfffffff0, 0x10}},
			{fill: [2]uint32{0xffffff00, 0x10}, holes: [][2]uint32{{0x10, 0x100}}, ask: [2]uint32{0xffffff00, 0x10}, captured: true},
		}},
	} {
		f := &Flow{}
		f.dir[FromClient] = newDirState()
		f.dir[FromClient].baseSeq, f.dir[FromClient].baseSet = 1000, true
		if c.name == "across sequence number 0" {
			f.dir[FromClient].baseSeq = 0xfffff000
		}
		for i, s := range c.steps {
			if s.add != [2]uint32{} {
				f.addHole(FromClient, s.add[0], s.add[1])
			}
			if s.fill != [2]uint32{} {
				f.fillHoles(FromClient, s.fill[0], s.fill[1])
			}
			var got [][2]uint32
			var full bool
			if f.notes != nil && f.notes.holes != nil {
				h := &f.notes.holes[FromClient]
				got, full = slices.Clone(h.h[:h.n]), h.full
			}
			slices.SortFunc(got, func(a, b [2]uint32) int { return int(int32(a[0] - b[0])) })
			if !slices.Equal(got, s.holes) || full != s.full {
				t.Fatalf("%s, step %d: holes %v (full %v), want %v (full %v)", c.name, i, got, full, s.holes, s.full)
			}
			if s.ask != [2]uint32{} {
				if ok := f.capturedBefore(FromClient, s.ask[0], s.ask[1]); ok != s.captured {
					t.Fatalf("%s, step %d: %d-%d captured before: %v, want %v; holes %v", c.name, i, s.ask[0], s.ask[1], ok, s.captured, got)
				}
			}
		}
	}
}

// TestSeqHolesFull fills a side's list of holes: past maxHoles, nothing
// from the first hole that did not fit is known to be captured, and a hole
// that would split in two stays whole.
func TestSeqHolesFull(t *testing.T) {
	f := &Flow{}
	f.dir[FromClient].baseSeq = 1000
	for i := range uint32(maxHoles + 2) {
		f.addHole(FromClient, 2000+i*1000, 2100+i*1000)
	}
	h := &f.notes.holes[FromClient]
	lost := uint32(2000 + maxHoles*1000)
	if h.n != maxHoles || !h.full || h.lost != lost {
		t.Fatalf("%d holes, full %v from %d; want %d, full from %d", h.n, h.full, h.lost, maxHoles, lost)
	}
	if !f.capturedBefore(FromClient, 1001, 2000) || f.capturedBefore(FromClient, lost-500, lost+1) {
		t.Errorf("captured before the first hole: %v; across the lost one: %v", f.capturedBefore(FromClient, 1001, 2000), f.capturedBefore(FromClient, lost-500, lost+1))
	}
	f.fillHoles(FromClient, 2040, 2060) // the middle of the first hole
	if h.n != maxHoles || h.h[0] != [2]uint32{2000, 2100} {
		t.Errorf("a full list split a hole: %d holes, the first %v", h.n, h.h[0])
	}
}

// capturedCases are captures described for capture/fixture, with the
// frames where Wireshark sees tcp.out_of_order and, for each, whether
// every byte of the segment was captured before (a retransmission, said
// so) or not (its bytes fill a hole: Wireshark's words).
var capturedCases = []struct {
	name string
	text string
	// captured and late list the out-of-order frames whose bytes were,
	// and were not, all captured before. The test checks that tshark
	// flags exactly these frames out of order.
	captured, late []uint64
}{
	{name: "go-back-N after an RTO, on the sender's capture",
		// The client sends 1001-1301, nothing is acknowledged, and after
		// its RTO it sends 1001 again; the server acknowledges it, the
		// client sends new data and goes back to 1101 and 1201, within
		// the 20 ms iRTT of the new data: out of order to Wireshark, all
		// sent (and captured) before (realtcp rto-a.pcap: 29 of them).
		text: ruleHandshake + `
+0.01  C>S PA len=100            # 4: 1001-1101
+0.001 C>S PA len=100            # 5: 1101-1201
+0.001 C>S PA len=100            # 6: 1201-1301
+0.3   C>S PA len=100 seq=1001   # 7: the RTO: a retransmission
+0.001 S>C A  ack=1101           # 8
+0.001 C>S PA len=100 seq=1301   # 9: new data, 1301-1401
+0.001 C>S PA len=100 seq=1101   # 10: go-back-N
+0.001 C>S PA len=100 seq=1201   # 11
+0.01  S>C A  ack=1401`,
		captured: []uint64{10, 11}},

	{name: "a hole filled, then bytes above it again, on the receiver's capture",
		// 1101-1201 is lost before the capture point (a hole); its
		// retransmission fills it and is out of order, its bytes never
		// captured before. 1201-1301 sent again was captured (frame 5).
		text: ruleHandshake + `
+0.01  C>S PA len=100            # 4: 1001-1101
+0.001 C>S PA len=100 seq=1201   # 5: 1101-1201 not captured
+0.001 C>S PA len=100            # 6: 1301-1401
+0.002 C>S PA len=100 seq=1101   # 7: fills the hole
+0.002 C>S PA len=100 seq=1201   # 8: 5's bytes again
+0.01  S>C A  ack=1401`,
		captured: []uint64{8}, late: []uint64{7}},

	{name: "half over a hole",
		// 1051-1151: half captured (frame 4), half never.
		text: ruleHandshake + `
+0.01  C>S PA len=100            # 4: 1001-1101
+0.001 C>S PA len=100 seq=1201   # 5: 1101-1201 not captured
+0.002 C>S PA len=100 seq=1051   # 6
+0.01  S>C A  ack=1301`,
		late: []uint64{6}},

	{name: "a hole split by a segment in its middle",
		// 1101-1401 is lost; 1201-1301 comes late (out of order), then
		// 1201-1301 again (captured), then 1301-1401 (still a hole).
		text: ruleHandshake + `
+0.01  C>S PA len=100            # 4: 1001-1101
+0.001 C>S PA len=100 seq=1401   # 5: 1101-1401 not captured
+0.002 C>S PA len=100 seq=1201   # 6
+0.002 C>S PA len=100 seq=1201   # 7: 6's bytes again
+0.002 C>S PA len=100 seq=1301   # 8
+0.01  S>C A  ack=1501`,
		captured: []uint64{7}, late: []uint64{6, 8}},

	{name: "a RST past the next sequence number",
		// A RST far outside the window moves Wireshark's next sequence
		// number without a flag; the bytes it skipped were never
		// captured, so the client's next segment is not a
		// retransmission of captured bytes.
		text: ruleHandshake + `
+0.01  C>S PA len=100               # 4: 1001-1101
+0.001 C>S R  seq=201101            # 5: outside the server's window
+0.002 C>S PA len=100 seq=1101      # 6
+0.01  S>C A  ack=1201`,
		late: []uint64{6}},

	{name: "the server's first segment past the client's ACK",
		// No handshake: the client's ACK sets the server's base (5000);
		// the server's first segment starts at 5101, so 5001-5101 were
		// sent before the capture saw the server. Sent again within 3 ms
		// (Wireshark's threshold without an iRTT), they are out of order
		// and were never captured; 5101-5201 again was.
		text: `
0      C>S A  seq=1001 ack=5001
+0.01  S>C PA seq=5101 ack=1001 len=100   # 2
+0.001 S>C PA seq=5201 ack=1001 len=100   # 3
+0.001 S>C PA seq=5001 ack=1001 len=100   # 4
+0.001 S>C PA seq=5101 ack=1001 len=100   # 5`,
		captured: []uint64{5}, late: []uint64{4}},

	{name: "more holes than a flow remembers",
		// Nine segments lost, one every other: past maxHoles (8) the
		// ninth hole starts where nothing is known captured. The bytes
		// before the first hole still are.
		text: ruleHandshake + `
+0.01  C>S PA len=100            # 4: 1001-1101
+0.001 C>S PA len=100 seq=1201   # 5: a hole at 1101
+0.001 C>S PA len=100 seq=1401   # 6
+0.001 C>S PA len=100 seq=1601   # 7
+0.001 C>S PA len=100 seq=1801   # 8
+0.001 C>S PA len=100 seq=2001   # 9
+0.001 C>S PA len=100 seq=2201   # 10
+0.001 C>S PA len=100 seq=2401   # 11
+0.001 C>S PA len=100 seq=2601   # 12: the eighth hole, at 2501
+0.001 C>S PA len=100 seq=2801   # 13: the ninth, at 2701: no room
+0.001 C>S PA len=100 seq=3001   # 14
+0.002 C>S PA len=100 seq=2801   # 15: captured (13), but past the ninth hole
+0.001 C>S PA len=100 seq=1001   # 16: captured (4), before the first`,
		captured: []uint64{16}, late: []uint64{15}},

	{name: "a SYN-ACK with a new ISN below the old one",
		// The server starts its numbers over at 3000 (tcp.reused_ports):
		// Wireshark's next sequence number stays at 5001, so the new
		// SYN-ACK and the server's first bytes from 3001 look old; they
		// were never captured.
		text: `
0      C>S S  mss=1460
+0.01  S>C SA mss=1460
+0.001 S>C SA mss=1460 seq=3000     # 3: a new ISN
+0.001 C>S A  ack=3001              # 4
+0.001 S>C PA seq=3001 ack=1001 len=100  # 5`,
		late: []uint64{3, 5}},
}

// TestOutOfOrderCapturedBefore checks, on the captures of capturedCases,
// which out-of-order segments are said to be retransmissions of bytes
// captured before, and, with tshark, that the code stays Wireshark's on
// exactly those frames.
func TestOutOfOrderCapturedBefore(t *testing.T) {
	var caps []described
	for _, c := range capturedCases {
		d := analyzeDescription(t, c.name, withClientPort(c.text, uint16(42000+len(caps))))
		caps = append(caps, d)
		var captured, late []uint64
		for _, f := range d.res.Flows {
			for _, fi := range f.Findings {
				if fi.Code != CodeOutOfOrder {
					continue
				}
				msg := f.Message(fi)
				said := strings.HasPrefix(msg, "retransmission by the ") && strings.HasSuffix(msg, "not a late arrival; Wireshark calls it out of order")
				if said != fi.CapturedBefore() {
					t.Errorf("%s: frame %d: CapturedBefore %v, but the message is %q", c.name, fi.Frame, fi.CapturedBefore(), msg)
				}
				if fi.CapturedBefore() {
					captured = append(captured, fi.Frame)
				} else {
					late = append(late, fi.Frame)
					if !strings.HasPrefix(msg, "out-of-order segment from the ") {
						t.Errorf("%s: frame %d: %q", c.name, fi.Frame, msg)
					}
				}
			}
		}
		if !slices.Equal(captured, c.captured) || !slices.Equal(late, c.late) {
			t.Errorf("%s: out of order, captured before on %v and not on %v; want %v and %v; found:%s", c.name, captured, late, c.captured, c.late, summary(d.res))
		}
	}

	tshark, err := exec.LookPath("tshark")
	if err != nil {
		skipOrFail(t, "SYNSCOPE_REQUIRE_TSHARK", "tshark not installed: out-of-order frames not compared with tshark")
	}
	v, first := tsharkConcat(t, tshark, caps, "captured.pcap")
	for i, c := range capturedCases {
		theirs := framesIn(v.frames["tcp.analysis.out_of_order"], first, i)
		ours := slices.Sorted(slices.Values(append(slices.Clone(c.captured), c.late...)))
		if !slices.Equal(ours, theirs) {
			t.Errorf("%s: out of order on %v, tshark on %v", c.name, ours, theirs)
		}
	}
}
