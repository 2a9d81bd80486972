package analysis

import (
	"fmt"
	"maps"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"unsafe"
)

// copyWords is what every message about a copy says, and no other does.
const copyWords = "a copy of one packet captured at two points"

// holeFilledTwice follows a handshake that leaves the client's IP ID at 3:
// a segment is lost, three duplicate ACKs bring its fast retransmission
// (IP ID 5), which is seen twice.
const holeFilledTwice = `
+0.01     C>S PA len=100                       # 1001-1101, id 3
+0.002    C>S PA len=100 seq=1201              # 1101-1201 is lost
+0.008    S>C A  ack=1101
+0.001    S>C A  ack=1101                      # dup #1
+0.001    S>C A  ack=1101                      # dup #2
+0.001    S>C A  ack=1101                      # dup #3
+0.002    C>S PA len=100 seq=1101              # id 5
+0.000015 C>S PA len=100 seq=1101 id=5 ttl=63  # the same datagram again
+0.005    S>C A  ack=1301`

// trunkHandshake is a handshake captured on a trunk, each packet seen
// twice, 15 microseconds apart, one hop apart: frames 1-6.
const trunkHandshake = `
0         C>S S  mss=1460                       # 1: id 1
+0.000015 C>S S  seq=1000 id=1 ttl=63 mss=1460  # 2: frame 1 again
+0.01     S>C SA mss=1460                       # 3: id 1
+0.000015 S>C SA seq=5000 id=1 ttl=63 mss=1460  # 4: frame 3 again
+0.01     C>S A                                 # 5: id 2
+0.000015 C>S A  seq=1001 id=2 ttl=63           # 6: frame 5 again
`

// A copyCase is a capture in which some packets may be copies of others.
type copyCase struct {
	name string
	text string // a description, after ruleHosts
	// copies and plain list the frames whose retransmission and
	// duplicate-ACK findings must be about a copy, and must not be; every
	// such finding is on one of them.
	copies, plain []uint64
	// msg maps a frame to a phrase of the message of its first finding.
	msg map[uint64]string
}

var copyCases = []copyCase{
	{name: "SYN mirrored twice",
		// Same TTL: seen on two mirrored ports, 2.5 ms apart.
		text: `
0       C>S S  mss=1460
+0.0025 C>S S  seq=1000 id=1 mss=1460
+0.01   S>C SA mss=1460
+0.01   C>S A`,
		copies: []uint64{2},
		msg: map[uint64]string{2: "the same SYN seen again (IP ID 0x0001, TTL 64 both times, 2.5 milliseconds later): " + copyWords +
			" (routed between VLANs, or mirrored twice), not a retransmission by the client; Wireshark counts it as a retransmission"}},

	{name: "IP ID 0 proves nothing",
		// Some stacks send ID 0 on every datagram with DF set.
		text: `
0         C>S S  mss=1460 id=0 df
+0.000015 C>S S  seq=1000 id=0 df ttl=63 mss=1460
+0.01     S>C SA mss=1460
+0.01     C>S A`,
		plain: []uint64{2},
		msg:   map[uint64]string{2: "SYN sent again (same ISN 1000, #2): the first was not answered"}},

	{name: "a new IP ID is a retransmission",
		text: `
0         C>S S  mss=1460
+0.000015 C>S S  seq=1000 mss=1460
+0.01     S>C SA mss=1460
+0.01     C>S A`,
		plain: []uint64{2}},

	{name: "the same IP ID too late",
		// 200 ms (Linux's shortest retransmission timeout) is past
		// copyWindow: a sender that repeats IP IDs, sending again.
		text: `
0     C>S S  mss=1460
+0.2  C>S S  seq=1000 id=1 mss=1460
+0.01 S>C SA mss=1460
+0.01 C>S A`,
		plain: []uint64{2}},

	{name: "IPv6 has no IP ID",
		text: `
client [2001:db8::1]:40000
server [2001:db8::2]:80
0         C>S S  mss=1460
+0.000015 C>S S  seq=1000 ttl=63 mss=1460
+0.01     S>C SA mss=1460
+0.01     C>S A`,
		plain: []uint64{2}},

	{name: "seen three times",
		text: `
0         C>S S  mss=1460
+0.000015 C>S S  seq=1000 id=1 ttl=63 mss=1460
+0.000015 C>S S  seq=1000 id=1 ttl=62 mss=1460
+0.01     S>C SA mss=1460
+0.01     C>S A`,
		copies: []uint64{2, 3},
		msg:    map[uint64]string{3: "(IP ID 0x0001, TTL 64 then 62, 30 microseconds later)"}},

	{name: "a burst through a router",
		// Two segments, then both copies: the first copy comes after the
		// second segment and looks out of order; it is not recognised, as
		// the flow has shown no copy before (a limitation), but its bytes
		// were captured before (frame 4), so its words do not send anyone
		// looking for reordering. The second is a copy of the last
		// segment sent.
		text: ruleHandshake + `
+0.001    C>S PA len=100                       # 4: id 3
+0.000001 C>S PA len=100                       # 5: id 4
+0.000014 C>S PA len=100 seq=1001 id=3 ttl=63  # 6: frame 4 again
+0.000001 C>S PA len=100 seq=1101 id=4 ttl=63  # 7: frame 5 again
+0.01     S>C A`,
		copies: []uint64{7},
		plain:  []uint64{6},
		msg: map[uint64]string{
			6: "retransmission by the client (100 bytes, all captured by frame 5): not a late arrival; Wireshark calls it out of order",
			7: "the same 100-byte segment from the client seen again (IP ID 0x0004, TTL 64 then 63, 15 microseconds later)",
		}},

	{name: "bursts through a router, on a trunk",
		// The handshake seen twice shows the flow's copies; from then on
		// each side's last packets are remembered, and a copy that trails
		// later segments is recognised too (Wireshark: out of order).
		text: trunkHandshake + `
+0.001    C>S PA len=100                       # 7: id 3
+0.000001 C>S PA len=100                       # 8: id 4
+0.000001 C>S PA len=100                       # 9: id 5
+0.000013 C>S PA len=100 seq=1001 id=3 ttl=63  # 10: frame 7 again
+0.000001 C>S PA len=100 seq=1101 id=4 ttl=63  # 11: frame 8 again
+0.000001 C>S PA len=100 seq=1201 id=5 ttl=63  # 12: frame 9 again
+0.01     S>C PA len=50                        # 13: id 2, acknowledges all
+0.000001 S>C PA len=50                        # 14: id 3
+0.000014 S>C PA len=50 seq=5001 id=2 ttl=63   # 15: frame 13 again
+0.000001 S>C PA len=50 seq=5051 id=3 ttl=63   # 16: frame 14 again`,
		copies: []uint64{2, 4, 6, 10, 11, 12, 15, 16},
		msg: map[uint64]string{
			10: "the same 100-byte segment from the client seen again (IP ID 0x0003, TTL 64 then 63, 15 microseconds later): " + copyWords +
				" (routed between VLANs, or mirrored twice), not a segment sent out of order by the client; Wireshark counts it as out-of-order",
			11: "the same 100-byte segment from the client seen again (IP ID 0x0004, TTL 64 then 63, 15 microseconds later)",
			12: "(IP ID 0x0005, TTL 64 then 63, 15 microseconds later)",
			15: "the same 50-byte segment from the server seen again (IP ID 0x0002, TTL 64 then 63, 15 microseconds later)",
		}},

	{name: "a fast retransmission seen twice, on a trunk",
		// The resent segment fills a hole, not at the front of the
		// client's sequence space: once the flow has shown a copy, its
		// copy is recognised.
		text:   trunkHandshake + holeFilledTwice, // frames 7-15
		copies: []uint64{2, 4, 6, 14},
		plain:  []uint64{10, 11, 12, 13},
		msg: map[uint64]string{
			13: "fast retransmission by the client after duplicate ACKs (100 bytes; frame 8 had already gone past them)",
			14: "the same 100-byte segment from the client seen again (IP ID 0x0005, TTL 64 then 63, 15 microseconds later)",
		}},

	{name: "a sender that repeats its IP ID, on a trunk",
		// Every data segment has IP ID 9: a resend within copyWindow
		// of its original is no copy, and keeps its words.
		text: trunkHandshake + `
+0.01     C>S PA len=100 id=9          # 7: 1001-1101
+0.001    C>S PA len=100 id=9          # 8: 1101-1201
+0.001    C>S PA len=100 id=9          # 9: 1201-1301
+0.008    S>C A  ack=1101              # 10
+0.001    S>C A  ack=1101              # 11: dup #1
+0.001    S>C A  ack=1101              # 12: dup #2
+0.001    S>C A  ack=1101              # 13: dup #3
+0.001    C>S PA len=100 seq=1101 id=9 # 14: 1101-1201 sent again
+0.005    S>C A  ack=1301`,
		copies: []uint64{2, 4, 6},
		plain:  []uint64{11, 12, 13, 14},
		msg:    map[uint64]string{14: "fast retransmission by the client after duplicate ACKs (100 bytes; frame 9 had already gone past them)"}},

	{name: "a fast retransmission seen twice",
		// The resent segment fills a hole: it is not at the front of the
		// client's sequence space, and as the flow has shown no copy
		// before, its copy is not recognised (a limitation: it keeps
		// Wireshark's words).
		text:  ruleHandshake + holeFilledTwice, // frames 4-12
		plain: []uint64{7, 8, 9, 10, 11},
		msg: map[uint64]string{
			10: "fast retransmission by the client after duplicate ACKs (100 bytes; frame 5 had already gone past them)",
			11: "fast retransmission by the client after duplicate ACKs (100 bytes; frame 5 had already gone past them)",
		}},

	{name: "a FIN seen twice",
		text: ruleHandshake + `
+0.01     C>S FA
+0.000015 C>S FA seq=1001 id=3 ttl=63
+0.01     S>C FA
+0.01     C>S A`,
		copies: []uint64{5},
		msg:    map[uint64]string{5: "the same segment from the client seen again (IP ID 0x0003, TTL 64 then 63, 15 microseconds later)"}},

	{name: "a duplicate ACK seen twice",
		text: ruleHandshake + `
+0.01     C>S PA len=100             # 4
+0.01     S>C A                      # 5: id 2
+0.01     S>C A                      # 6: id 3, a duplicate ACK
+0.000015 S>C A  id=3 ttl=63         # 7: frame 6 again`,
		copies: []uint64{7},
		plain:  []uint64{6},
		msg: map[uint64]string{
			6: "duplicate ACK #1 from the server",
			7: "the same ACK from the server seen again (IP ID 0x0003, TTL 64 then 63, 15 microseconds later): " + copyWords +
				" (routed between VLANs, or mirrored twice), not a duplicate ACK from the server; Wireshark counts it as duplicate ACK #2",
		}},
}

// checkCopies holds the findings of res to the frames of a copyCase: those
// that take a packet seen twice for one sent twice are about a copy on the
// copies' frames only, and only their messages say so.
func checkCopies(t *testing.T, res *Result, copies, plain []uint64, msg map[uint64]string) {
	t.Helper()
	seen := map[uint64]bool{}
	for _, f := range res.Flows {
		for _, fi := range f.Findings {
			m := f.Message(fi)
			isCopy := slices.Contains(copies, fi.Frame)
			if fi.Code.canBeCopy() {
				if !isCopy && !slices.Contains(plain, fi.Frame) {
					t.Errorf("%s on frame %d, which the case does not list: %s", fi.Code, fi.Frame, m)
				}
				seen[fi.Frame] = true
			} else {
				isCopy = false
			}
			if fi.IsCopy() != isCopy || strings.Contains(m, copyWords) != isCopy || strings.Contains(m, "Wireshark counts it") != isCopy {
				t.Errorf("frame %d %s: IsCopy %v, want %v: %s", fi.Frame, fi.Code, fi.IsCopy(), isCopy, m)
			}
			if want := fi.Code.Severity(); isCopy {
				want = Info
				if fi.Severity() != want {
					t.Errorf("frame %d %s about a copy: severity %v, want %v", fi.Frame, fi.Code, fi.Severity(), want)
				}
			} else if fi.Severity() != want {
				t.Errorf("frame %d %s: severity %v, want its code's, %v", fi.Frame, fi.Code, fi.Severity(), want)
			}
			if want, ok := msg[fi.Frame]; ok && !strings.Contains(m, want) {
				t.Errorf("frame %d %s: %q does not say %q", fi.Frame, fi.Code, m, want)
			}
			delete(msg, fi.Frame) // the first finding of the frame only
		}
	}
	for _, fr := range append(slices.Clone(copies), plain...) {
		if !seen[fr] {
			t.Errorf("no retransmission or duplicate ACK on frame %d", fr)
		}
	}
	for fr, want := range msg {
		t.Errorf("no finding on frame %d (want %q)", fr, want)
	}
	if t.Failed() {
		t.Logf("found:%s", summary(res))
	}
}

func TestCopies(t *testing.T) {
	for _, cc := range copyCases {
		t.Run(cc.name, func(t *testing.T) {
			d := analyzeDescription(t, cc.name, cc.text)
			checkCopies(t, d.res, cc.copies, cc.plain, maps.Clone(cc.msg))
			// Copies leave a flow ok: they say where the capture was
			// taken, not that anything was lost.
			for _, f := range d.res.Flows {
				copies, worse := 0, false
				for _, fi := range f.Findings {
					if fi.IsCopy() {
						copies++
					} else if fi.Severity() >= Warning {
						worse = true
					}
				}
				if copies > 0 && !worse && f.Status != StatusOK {
					t.Errorf("flow %d with copies and nothing worse than info is %v, want ok:%s", f.ID, f.Status, summary(d.res))
				}
			}
		})
	}
}

// TestCopiesRoutedVLANs reads testdata/routed-vlans.pcap, a connection
// routed between two VLANs with every packet seen twice, and a SYN and a
// data segment that the client really sent twice.
func TestCopiesRoutedVLANs(t *testing.T) {
	res, err := analyzeFile("../testdata/routed-vlans.pcap")
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Flows) != 1 {
		t.Fatalf("%d flows, want 1", len(res.Flows))
	}
	f := res.Flows[0]
	var got []string
	for _, fi := range f.Findings {
		got = append(got, fmt.Sprintf("%d %s", fi.Frame, fi.Code))
	}
	want := []string{
		"2 handshake.syn_retransmit", "2 tcp.retransmission", // the SYN's copy
		"3 handshake.syn_retransmit", "3 tcp.retransmission", // the SYN sent again
		"4 handshake.syn_retransmit", "4 tcp.retransmission", // its copy
		"6 handshake.synack_retransmit", "6 tcp.retransmission",
		"8 tcp.dup_ack", "10 tcp.retransmission", "12 tcp.dup_ack", "14 tcp.retransmission", "16 tcp.dup_ack",
		"18 tcp.retransmission", "19 tcp.retransmission", "20 tcp.retransmission", // data, sent again, its copy
		"22 tcp.dup_ack", "24 tcp.retransmission", "26 tcp.retransmission", "28 tcp.dup_ack",
	}
	if !slices.Equal(got, want) {
		t.Errorf("findings:\n got %v\nwant %v", got, want)
	}
	if s := stateOf(f); s != "warning/complete" {
		t.Errorf("flow is %s, want warning/complete", s)
	}
	copies := []uint64{2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28}
	checkCopies(t, res, copies, []uint64{3, 19}, map[uint64]string{
		2: "the same SYN seen again (IP ID 0x1a2b, TTL 64 then 63, 15 microseconds later): a copy of one packet captured at two points " +
			"(routed between VLANs, or mirrored twice), not a retransmission by the client; Wireshark counts it as a retransmission",
		3:  "SYN sent again (same ISN 1000, #2): the first was not answered",
		4:  "the same SYN seen again (IP ID 0x1a2c, TTL 64 then 63, 15 microseconds later)",
		6:  "the same SYN-ACK seen again (IP ID 0x0c40, TTL 64 then 63, 15 microseconds later)",
		8:  "the same ACK from the client seen again (IP ID 0x1a2d,",
		10: "the same 120-byte segment from the client seen again (IP ID 0x1a2e,",
		19: "retransmission of frame 17 by the client (80 bytes)",
		20: "the same 80-byte segment from the client seen again (IP ID 0x1a31,",
		24: "the same segment from the client seen again (IP ID 0x1a32,",
		26: "the same segment from the server seen again (IP ID 0x0c44,",
	})
}

// TestCopiesAgainstTshark: the findings on copies keep Wireshark's codes, so
// tshark's retransmission and duplicate-ACK frames are still ours, on
// testdata/routed-vlans.pcap and on every copyCase.
func TestCopiesAgainstTshark(t *testing.T) {
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		skipOrFail(t, "SYNSCOPE_REQUIRE_TSHARK", "tshark not installed: copies not compared with tshark (apt-get install tshark)")
	}
	compare := func(name string, res *Result, v tsharkView, from, to uint64) {
		t.Helper()
		for _, fl := range tsharkFlags {
			ours := tsharkFramesOf(res, fl.code)
			var theirs []uint64
			for _, fr := range v.frames[fl.field] {
				if fr > from && fr <= to {
					theirs = append(theirs, fr-from)
				}
			}
			if !slices.Equal(ours, theirs) {
				t.Errorf("%s: %s on frames %v, tshark %s on %v; found:%s", name, fl.code, ours, fl.field, theirs, summary(res))
			}
		}
	}
	file := "../testdata/routed-vlans.pcap"
	res, err := analyzeFile(file)
	if err != nil {
		t.Fatal(err)
	}
	v, err := runTshark(t, tshark, file)
	if err != nil {
		t.Fatal(err)
	}
	compare(file, res, v, 0, res.Frames)
	if n := len(v.frames["tcp.analysis.retransmission"]); n != 11 {
		t.Errorf("%s: tshark has %d retransmissions, want 11", file, n)
	}
	if n := len(v.frames["tcp.analysis.duplicate_ack"]); n != 5 {
		t.Errorf("%s: tshark has %d duplicate ACKs, want 5", file, n)
	}

	caps := make([]described, len(copyCases))
	for i, cc := range copyCases {
		caps[i] = analyzeDescription(t, cc.name, withClientPort(cc.text, uint16(42000+i)))
	}
	v, first := tsharkConcat(t, tshark, caps, "copies.pcap")
	for i, d := range caps {
		compare(d.name, d.res, v, first[i], first[i+1])
	}
}

// TestCopyStateFits: what copyOf keeps of the last packet sent takes no
// room in dirState beyond the 8 bytes of the field it replaced (56 bytes),
// and the two frames the sequence findings name (nextSeqFrame,
// lastNonDupAck) take 8 more without padding.
func TestCopyStateFits(t *testing.T) {
	if n := unsafe.Sizeof(dirState{}); n != 64 {
		t.Errorf("dirState is %d bytes, want 64", n)
	}
}

// TestSentRing: the ring finds the last sentLen packets it was given, by IP
// ID and end, within copyWindow, the latest first, and forgets older ones.
func TestSentRing(t *testing.T) {
	var r sentRing
	const n = 3*sentLen + 2
	for i := range n {
		p := &Packet{Time: int64(i) * 1e6, TTL: uint8(64 - i%2)}
		r.add(p, uint16(100+i), uint32(1000*i))
	}
	copyAt := func(id uint16, end uint32, ms int64) copyNote {
		return r.find(&Packet{Time: ms * 1e6, TTL: 60}, id, end)
	}
	for i := range n {
		c := copyAt(uint16(100+i), uint32(1000*i), n)
		if want := i >= n-sentLen; c.ok() != want {
			t.Errorf("packet %d: found %v, want %v", i, c.ok(), want)
		}
		if c.ok() && (c.ttl != uint8(64-i%2) || c.copyTTL != 60 || c.micros != int64(n-i)*1000) {
			t.Errorf("packet %d: %+v", i, c)
		}
	}
	last := n - 1
	if c := copyAt(uint16(100+last), uint32(1000*last)+1, n); c.ok() {
		t.Errorf("another end: %+v", c)
	}
	if c := copyAt(uint16(100+last), uint32(1000*last), int64(last)+copyWindow/1e6); c.ok() {
		t.Errorf("copyWindow later: %+v", c)
	}
	// Two packets with one IP ID (a sender that repeats IDs): the ring
	// proves nothing from then on.
	r.add(&Packet{Time: 100e6, TTL: 50}, 7, 7)
	if c := copyAt(7, 7, 101); !c.ok() {
		t.Errorf("before the repeat: no copy")
	}
	r.add(&Packet{Time: 101e6, TTL: 51}, 7, 8)
	if c := copyAt(uint16(100+last), uint32(1000*last), int64(last)+1); c.ok() {
		t.Errorf("after a repeated ID: %+v", c)
	}
}

// TestCopiesAfterEviction: a flow evicted after showing copies leaves its
// rings to the flow that reuses its memory; that flow must not find the
// old flow's packets in them.
func TestCopiesAfterEviction(t *testing.T) {
	a := NewAnalyzer(Config{Name: "t", MaxFlows: 1})
	frame := 0
	add := func(conn int, flags string, seq, ack uint32, n int, id uint16, ttl uint8) {
		frame++
		p := evictPkt(frame, conn, false, flags, seq, ack, n)
		p.IPID, p.TTL = uint32(id), ttl
		a.addPacket(p)
	}
	// Connection 0, on a trunk: the SYN and its copy, then a segment
	// with IP ID 50, which its ring keeps.
	add(0, "S", 1000, 0, 0, 1, 64)
	add(0, "S", 1000, 0, 0, 1, 63)
	add(0, "PA", 1001, 1, 100, 50, 64)
	// Connection 1 evicts it (MaxFlows 1) and shows a copy too; then a
	// segment, and the segment sent again with IP ID 50: the old flow's
	// packet, not one of this flow's.
	add(1, "S", 1000, 0, 0, 1, 64)
	add(1, "S", 1000, 0, 0, 1, 63)
	add(1, "PA", 1001, 1, 100, 2, 64)
	add(1, "PA", 1001, 1, 100, 50, 64)
	res := a.Finish()
	if res.Evicted != 1 || len(ids(res)) != 1 {
		t.Fatalf("evicted %d, flows %v: want connection 0 evicted", res.Evicted, ids(res))
	}
	var got []string
	for _, f := range res.Flows {
		if f == nil {
			continue
		}
		for _, fi := range f.Findings {
			if fi.Code.canBeCopy() {
				got = append(got, fmt.Sprintf("%d %s copy=%v", fi.Frame, fi.Code, fi.IsCopy()))
			}
		}
	}
	want := []string{"5 handshake.syn_retransmit copy=true", "5 tcp.retransmission copy=true", "7 tcp.retransmission copy=false"}
	if !slices.Equal(got, want) {
		t.Errorf("findings %v, want %v", got, want)
	}
}
