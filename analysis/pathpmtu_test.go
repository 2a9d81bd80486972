package analysis

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// Segments too big for a link between two points (pathmtu.go): refused
// with an ICMP "too big" and sent again smaller (path MTU discovery), or
// dropped unsaid (an MTU black hole). realpath3 s1ok: the 11 refused
// segments were path.uncaptured, "inside's capture missed it", because
// their receiver acknowledged the bytes, which came in smaller segments.

const pmtuHead = `format pcap
link ethernet
client 10.0.0.5:40010 ttl=64
server 203.0.113.10:443 ttl=60
`

// fragNeeded is an Ethernet frame holding the ICMP "fragmentation needed"
// that router 10.0.0.1 sends the client 10.0.0.5 for its segment of
// seq and ipLen bytes to 203.0.113.10:443 (port 40010), naming mtu: as
// Linux sends it, the quoted IP header and the TCP header's first bytes.
func fragNeeded(t *testing.T, seq uint32, ipLen, mtu int) string {
	t.Helper()
	q := make([]byte, 28)
	q[0], q[8], q[9] = 0x45, 63, 6
	binary.BigEndian.PutUint16(q[2:4], uint16(ipLen))
	binary.BigEndian.PutUint16(q[6:8], 0x4000) // DF
	copy(q[12:16], net.ParseIP("10.0.0.5").To4())
	copy(q[16:20], net.ParseIP("203.0.113.10").To4())
	binary.BigEndian.PutUint16(q[20:22], 40010)
	binary.BigEndian.PutUint16(q[22:24], 443)
	binary.BigEndian.PutUint32(q[24:28], seq)
	eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 5}, EthernetType: layers.EthernetTypeIPv4}
	ip := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: layers.IPProtocolICMPv4,
		SrcIP: net.ParseIP("10.0.0.1").To4(), DstIP: net.ParseIP("10.0.0.5").To4()}
	icmp := &layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(3, 4), Seq: uint16(mtu)}
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, eth, ip, icmp, gopacket.Payload(q)); err != nil {
		t.Fatal(err)
	}
	return "raw=hex:" + hex.EncodeToString(buf.Bytes())
}

// pmtuConn is a download from the client's side: a segment of 1448 bytes
// (frame 4 at near), and its bytes again in 1228 and 220 (frames 5-6 at
// near without the ICMP error; 6-7 with it), acknowledged by the server.
// icmp is the line of the ICMP error after the big segment, or "".
func pmtuConn(icmp string) []string {
	lines := []string{
		"+0      C>S S  seq=1000 mss=1460",
		"+0.020  S>C SA seq=5000 ack=1001 mss=1460",
		"+0.0002 C>S A  seq=1001 ack=5001",
		"+0.001  C>S A  seq=1001 ack=5001 len=1448",
	}
	if icmp != "" {
		lines = append(lines, "+0.0004 "+icmp)
	}
	return append(lines,
		"+0.0001 C>S A  seq=1001 ack=5001 len=1228",
		"+0.0001 C>S PA seq=2229 ack=5001 len=220",
		"+0.020  S>C A  seq=5001 ack=2449",
		"+0.050  C>S FA seq=2449 ack=5001",
		"+0.020  S>C FA seq=5001 ack=2450",
		"+0.0002 C>S A  seq=2450 ack=5002")
}

// farOf is lines as the far point saw them: without the big segment and
// the ICMP error, which never passed the router, 1 ms later.
func farOf(lines []string) string {
	var out []string
	for _, l := range lines {
		if !strings.Contains(l, "len=1448") && !strings.Contains(l, "raw=") {
			out = append(out, l)
		}
	}
	out[0] = strings.Replace(out[0], "+0 ", "+0.001 ", 1)
	return pmtuHead + "time 2026-01-01T00:00:00Z\n" + strings.Join(out, "\n") + "\n"
}

func nearOf(lines []string) string {
	return pmtuHead + "time 2026-01-01T00:00:00Z\n" + strings.Join(lines, "\n") + "\n"
}

// A segment a router refused as too big, its bytes sent again in smaller
// segments that passed both points, was refused between them, not missed
// by the far capture: its receiver acknowledged the bytes, not it. With
// the ICMP error in the near capture, the finding names it and the MTU;
// it is path MTU discovery at work, the transfer going on, so it is
// path.too_big (info), not an error beside real loss (review diff21b).
func TestPathTooBigDropped(t *testing.T) {
	lines := pmtuConn(fragNeeded(t, 1001, 1488, 1280))
	pa, c := pathCase(t, nearOf(lines), farOf(lines))
	if got, want := codesOf(pa, c, PathTTL, PathClockOffset), []string{"near:path.too_big@4"}; !slices.Equal(got, want) {
		t.Fatalf("findings %v, want %v", got, want)
	}
	fi := pathFindings(pa, c.Flows[0], PathTooBig)[0]
	if fi.MTU != 1280 || fi.OtherFrame != 5 || fi.Resent != 1228 {
		t.Errorf("MTU %d, ICMP frame %d, resent %d; want 1280, 5, 1228", fi.MTU, fi.OtherFrame, fi.Resent)
	}
	want := "data segment (1448 bytes) (frame 4 at near) never reached far: dropped between them, too big for the next hop (MTU 1280: ICMP fragmentation needed at near frame 5); its bytes were sent again in smaller segments, which passed (path MTU discovery)"
	if fi.Message != want {
		t.Errorf("message\n%q, want\n%q", fi.Message, want)
	}
	if fi.Code.Severity() != Info || pa.Status(c.Flows[0]) == StatusInvalid {
		t.Errorf("severity %v, near's status %v: want info, not invalid", fi.Code.Severity(), pa.Status(c.Flows[0]))
	}
	// A drop with the reason known is no black hole.
	if bh, ok := pa.SizeLimit(c.Flows[0], fi); ok {
		t.Errorf("SizeLimit %+v for a segment an ICMP error refused", bh)
	}
}

// Without the ICMP error (not captured, or filtered), the bytes sent
// again smaller and passing still show the drop, and say what it hints.
func TestPathResentSmallerDropped(t *testing.T) {
	lines := pmtuConn("")
	pa, c := pathCase(t, nearOf(lines), farOf(lines))
	if got, want := codesOf(pa, c, PathTTL, PathClockOffset), []string{"near:path.dropped@4"}; !slices.Equal(got, want) {
		t.Fatalf("findings %v, want %v", got, want)
	}
	fi := pathFindings(pa, c.Flows[0], PathDropped)[0]
	if want := "data segment (1448 bytes) (frame 4 at near) never reached far: dropped between them; its bytes were sent again in smaller segments, which passed: a size limit on the way (MTU?)"; fi.Message != want {
		t.Errorf("message\n%q, want\n%q", fi.Message, want)
	}
	// An ICMP error about another segment (another sequence number), or
	// one naming an MTU the segment fits, says nothing of this one.
	for _, icmp := range []string{fragNeeded(t, 2229, 1488, 1280), fragNeeded(t, 1001, 1488, 1500)} {
		lines := pmtuConn(icmp)
		pa, c := pathCase(t, nearOf(lines), farOf(lines))
		if fs := pathFindings(pa, c.Flows[0], PathDropped); len(fs) != 1 || fs[0].OtherFrame != 0 || fs[0].MTU != 0 {
			t.Errorf("ICMP not about the segment: drops %+v, want one without MTU", fs)
		}
	}
}

// A capture gap (a ring buffer overflowing) that lost the segment at far,
// where nothing else carried its bytes at both points, stays uncaptured:
// its receiver acknowledged the segment itself.
func TestPathGapStillUncaptured(t *testing.T) {
	lines := pmtuConn("")
	// The client sent the 1448 bytes once; far's capture missed them.
	once := slices.Concat(lines[:4], []string{"+0.020  S>C A  seq=5001 ack=2449", "+0.050  C>S FA seq=2449 ack=5001"}, lines[len(lines)-2:])
	pa, c := pathCase(t, nearOf(once), farOf(once))
	if got, want := codesOf(pa, c, PathTTL, PathClockOffset), []string{"near:path.uncaptured@4"}; !slices.Equal(got, want) {
		t.Fatalf("findings %v, want %v", got, want)
	}
	// Sent again smaller, amid a gap in far's capture that missed other
	// acknowledged segments within a second: far's capture missed the
	// first one too, most likely.
	gap := slices.Concat(lines[:4], []string{"+0.0001 C>S A seq=2449 ack=5001 len=100"}, lines[4:6],
		[]string{"+0.020  S>C A  seq=5001 ack=2549", "+0.050  C>S FA seq=2549 ack=5001", "+0.020  S>C FA seq=5001 ack=2550", "+0.0002 C>S A  seq=2550 ack=5002"})
	far := farOf(slices.Concat(gap[:4], gap[5:]))
	pa, c = pathCase(t, nearOf(gap), far)
	if got, want := codesOf(pa, c, PathTTL, PathClockOffset), []string{"near:path.uncaptured@4", "near:path.uncaptured@5"}; !slices.Equal(got, want) {
		t.Errorf("amid a gap: findings %v, want %v", got, want)
	}
}

// blackHole is a connection whose client sent 3 small requests, which
// passed, and then 4 segments of 1448 bytes, each dropped between the
// points (an MTU black hole: the ICMP errors dropped too); far saw the
// rest. passBig lets a segment of big bytes pass before them.
func blackHole(big int, passBig bool) (near, far string) {
	lines := []string{
		"+0      C>S S  seq=1000 mss=1460",
		"+0.020  S>C SA seq=5000 ack=1001 mss=1460",
		"+0.0002 C>S A  seq=1001 ack=5001",
	}
	seq := 1001
	for range 3 {
		lines = append(lines, fmt.Sprintf("+0.01 C>S PA seq=%d ack=5001 len=100", seq), fmt.Sprintf("+0.02 S>C A seq=5001 ack=%d", seq+100))
		seq += 100
	}
	var farLines []string
	farLines = append(farLines, lines...)
	if passBig {
		l := fmt.Sprintf("+0.01 C>S PA seq=%d ack=5001 len=%d", seq, big)
		lines, farLines = append(lines, l), append(farLines, l, fmt.Sprintf("+0.02 S>C A seq=5001 ack=%d", seq+big))
		lines = append(lines, fmt.Sprintf("+0.02 S>C A seq=5001 ack=%d", seq+big))
		seq += big
	}
	for i := range 4 {
		lines = append(lines, fmt.Sprintf("+0.001 C>S A seq=%d ack=5001 len=1448", seq+1448*i))
	}
	end := fmt.Sprintf("+1 S>C FA seq=5001 ack=%d", seq)
	lines, farLines = append(lines, end), append(farLines, end)
	farLines[0] = strings.Replace(farLines[0], "+0 ", "+0.001 ", 1)
	return pmtuHead + "time 2026-01-01T00:00:00Z\n" + strings.Join(lines, "\n") + "\n",
		pmtuHead + "time 2026-01-01T00:00:00Z\n" + strings.Join(farLines, "\n") + "\n"
}

// Every data segment dropped between two points bigger than every one
// that passed, at least 3 of each: the size is the story.
func TestPathBlackHole(t *testing.T) {
	near, far := blackHole(0, false)
	pa, c := pathCase(t, near, far)
	drops := pathFindings(pa, c.Flows[0], PathDropped)
	if len(drops) != 4 {
		t.Fatalf("%d drops, want 4: %v", len(drops), codesOf(pa, c))
	}
	bh, ok := pa.SizeLimit(c.Flows[0], drops[0])
	if !ok {
		t.Fatal("no black hole said")
	}
	if want := "every data segment from the client of 1448 bytes or more was dropped between near and far (4), the 3 smaller (up to 100 bytes) passed: an MTU black hole?"; bh.Sentence(pa) != want {
		t.Errorf("sentence\n%q, want\n%q", bh.Sentence(pa), want)
	}
	if s := bh.Short(); len(s)+2 > 80 {
		t.Errorf("short line %q is %d columns with its indent", s, len(s)+2)
	}
	// Mixed sizes: a segment of 1448 bytes passed, so the drops are not
	// about size.
	near, far = blackHole(1448, true)
	pa, c = pathCase(t, near, far)
	drops = pathFindings(pa, c.Flows[0], PathDropped)
	if len(drops) != 4 {
		t.Fatalf("mixed: %d drops, want 4: %v", len(drops), codesOf(pa, c))
	}
	if bh, ok := pa.SizeLimit(c.Flows[0], drops[0]); ok {
		t.Errorf("mixed sizes: black hole %+v", bh)
	}
}

// The ICMPv6 "packet too big" is read as the IPv4 error is; other ICMP
// messages, and errors quoting no TCP, are not kept.
func TestParseTooBig(t *testing.T) {
	v6 := make([]byte, 8+48)
	v6[0] = 2
	binary.BigEndian.PutUint32(v6[4:8], 1280)
	q := v6[8:]
	q[0], q[6] = 0x60, 6
	binary.BigEndian.PutUint16(q[4:6], 1448+32)
	copy(q[8:24], net.ParseIP("fd79:2::2"))
	copy(q[24:40], net.ParseIP("fd79:1::2"))
	binary.BigEndian.PutUint16(q[40:42], 8080)
	binary.BigEndian.PutUint16(q[42:44], 46604)
	binary.BigEndian.PutUint32(q[44:48], 0xdeadbeef)
	tb, ok := parseTooBig(true, v6)
	if !ok || tb.MTU != 1280 || tb.IPLen != 1520 || tb.Seq != 0xdeadbeef || tb.Src.String() != "[fd79:2::2]:8080" || tb.Dst.String() != "[fd79:1::2]:46604" {
		t.Errorf("ICMPv6 packet too big: %+v %v", tb, ok)
	}
	udp := slices.Clone(v6)
	udp[8+6] = 17
	if _, ok := parseTooBig(true, udp); ok {
		t.Error("a quoted UDP datagram was kept")
	}
	unreach := slices.Clone(v6)
	unreach[0] = 1
	if _, ok := parseTooBig(true, unreach); ok {
		t.Error("an ICMPv6 destination unreachable was kept")
	}
	if _, ok := parseTooBig(true, v6[:8+47]); ok {
		t.Error("an error cut before the sequence number was kept")
	}
}
