package analysis

import (
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/synscope/synscope/capture/fixture"
)

// The path cases a review found wrong: each is a connection seen at two
// points, "near" (the client's side) and "far", whose captures differ the
// way real ones do. Every number is written out, so that both points'
// packets carry exactly the numbers the case is about.

// pathCase joins near and far, checks that they are one connection seen
// at both points, and returns the path and the connection.
func pathCase(t *testing.T, near, far string) (*Path, *Connection) {
	t.Helper()
	pa := Correlate([]Point{pointOf(t, "near", fixture.Build(near)), pointOf(t, "far", fixture.Build(far))})
	var both []*Connection
	for _, c := range pa.Conns {
		if c.Flows[0] != nil && c.Flows[1] != nil {
			both = append(both, c)
		}
	}
	if len(both) != 1 {
		t.Fatalf("%d connections seen at both points (%d in all), want 1", len(both), len(pa.Conns))
	}
	return pa, both[0]
}

// codesOf lists the codes of the path findings of the flows of c, at
// every point, as "point:code@frame", but those in skip.
func codesOf(pa *Path, c *Connection, skip ...PathCode) []string {
	var out []string
	for _, f := range c.Flows {
		if f == nil {
			continue
		}
		for _, fi := range pa.Findings[f] {
			if !slices.Contains(skip, fi.Code) {
				out = append(out, fmt.Sprintf("%s:%s@%d", pa.Points[fi.Point], fi.Code, fi.Frame))
			}
		}
	}
	slices.Sort(out)
	return out
}

// from returns packet lines from the k-th on, the k-th at +0.
func from(lines []string, k int) string {
	first := strings.Fields(lines[k])
	first[0] = "+0"
	return strings.Join(append([]string{strings.Join(first, " ")}, lines[k+1:]...), "\n") + "\n"
}

const pathHead = `format pcap
link ethernet
client 10.0.0.5:40010 ttl=64
server 203.0.113.10:443 ttl=60
`

// longConn is a connection of 12 requests and answers, 270 ms apart.
func longConn() []string {
	lines := []string{
		"+0      C>S S  seq=1000 mss=1460",
		"+0.020  S>C SA seq=5000 ack=1001 mss=1460",
		"+0.0002 C>S A  seq=1001 ack=5001",
	}
	for i := range 12 {
		c, s := 1001+48*i, 5001+10*i
		lines = append(lines,
			fmt.Sprintf("+0.25 C>S PA seq=%d ack=%d len=48", c, s),
			fmt.Sprintf("+0.02 S>C PA seq=%d ack=%d len=10", s, c+48))
	}
	return lines
}

// A long connection: the far point's capture starts in its middle, 1.5 s
// after the near one's, and holds no handshake. It was taken for a second
// connection, and every packet of both for a drop at the other point.
func TestPathLateCapture(t *testing.T) {
	lines := longConn()
	near := pathHead + "time 2026-01-01T00:00:00Z\n" + strings.Join(lines, "\n") + "\n"
	// From the 7th request on (sent at 1.8902 s), 1 ms later.
	far := pathHead + "time 2026-01-01T00:00:01.8912Z\n" + from(lines, 15)
	pa, c := pathCase(t, near, far)
	if c.Flows[1].Handshake.HaveSyn || len(pa.Conns) != 1 {
		t.Fatalf("far point saw the handshake, or %d connections: the case tests nothing", len(pa.Conns))
	}
	if got := codesOf(pa, c, PathTTL, PathClockOffset); len(got) > 0 {
		t.Errorf("findings %v, want none but TTL and clock", got)
	}
	if math.Abs(pa.Offset[1]-0.001) > 0.0005 {
		t.Errorf("clock offset %.4f s, want 0.001", pa.Offset[1])
	}
	// The other way round: the near point's capture started late.
	pa, c = pathCase(t, pathHead+"time 2026-01-01T00:00:01.8902Z\n"+from(lines, 15),
		pathHead+"time 2026-01-01T00:00:00.001Z\n"+strings.Join(lines, "\n")+"\n")
	if got := codesOf(pa, c, PathTTL, PathClockOffset); len(got) > 0 {
		t.Errorf("near capture started late: findings %v, want none but TTL and clock", got)
	}
}

// A connection that ended before the far point's capture started is not
// "dropped" there: nothing shows the capture was running. A second's slack
// before its first packet called it so.
func TestPathBeforeCaptureStart(t *testing.T) {
	lines := longConn()
	short := "client 10.0.0.5:40011\n" +
		"+0 C>S S seq=7000 mss=1460\n+0.02 S>C SA seq=9000 ack=7001 mss=1460\n+0.0002 C>S A seq=7001 ack=9001\n" +
		"+0.001 C>S PA seq=7001 ack=9001 len=20\n+0.02 S>C FA seq=9001 ack=7021\n+0.0002 C>S FA seq=7021 ack=9002\n"
	// The short connection runs from 1.2 s to 1.24 s at near; the far
	// capture starts at 1.8912 s.
	near := pathHead + "time 2026-01-01T00:00:00Z\n" + strings.Join(lines[:10], "\n") + "\n" + short +
		"client 10.0.0.5:40010\n" + strings.Join(lines[10:], "\n") + "\n"
	far := pathHead + "time 2026-01-01T00:00:01.8912Z\n" + from(lines, 15)
	pa := Correlate([]Point{pointOf(t, "near", fixture.Build(near)), pointOf(t, "far", fixture.Build(far))})
	if len(pa.Conns) != 2 {
		t.Fatalf("%d connections, want 2", len(pa.Conns))
	}
	for _, c := range pa.Conns {
		if got := codesOf(pa, c, PathTTL, PathClockOffset, PathUnjoined); len(got) > 0 {
			t.Errorf("connection %d (%s): findings %v, want none", c.ID, c.Flows[0].Client(), got)
		}
	}
}

// oneWay keeps the lines of one direction ("C>S" or "S>C"), the first at
// +0, with their times as they were.
func oneWay(lines []string, dir string) string {
	var out []string
	var at, last float64
	for _, l := range lines {
		f := strings.Fields(l)
		var d float64
		fmt.Sscanf(f[0], "+%g", &d)
		at += d
		if f[1] == dir {
			f[0] = fmt.Sprintf("+%.6f", at-last)
			if len(out) == 0 {
				f[0] = "+0"
			}
			last = at
			out = append(out, strings.Join(f, " "))
		}
	}
	return strings.Join(out, "\n") + "\n"
}

// A firewall that sees only the client's direction (the server's answers
// take another route, or its capture filter leaves them out). The
// client's packets, the same at both points, were all "dropped" at one and
// "injected" at the other, and each of the server's "injected": one
// path.one_way now says what happened.
func TestPathOneWay(t *testing.T) {
	lines := longConn()
	near := pathHead + "time 2026-01-01T00:00:00Z\n" + strings.Join(lines, "\n") + "\n"
	far := pathHead + "time 2026-01-01T00:00:00.001Z\n" + oneWay(lines, "C>S")
	pa, c := pathCase(t, near, far)
	got := codesOf(pa, c, PathTTL, PathClockOffset)
	if want := []string{"near:path.one_way@2"}; !slices.Equal(got, want) {
		t.Fatalf("findings %v, want %v", got, want)
	}
	fi := pathFindings(pa, c.Flows[0], PathOneWay)[0]
	// The last answer came after far's capture ended. The client's ACK
	// at far (frame 2) acknowledges the SYN-ACK: sent past far.
	if fi.Count != 12 || fi.RelatedFrame != 2 || !strings.Contains(fi.Message, "none of the server's 12 packets seen at near while far's capture ran (from frame 2) is in far's capture, though the client acknowledged them there (frame 2 at far)") {
		t.Errorf("one_way %+v", fi)
	}
	// Two of the server's packets, the client's ACKs at far
	// acknowledging them: one-way for this connection too, however few.
	short := append(slices.Clone(lines[:6]), "+0.001 C>S A seq=1097 ack=5011")
	pa, c = pathCase(t, pathHead+"time 2026-01-01T00:00:00Z\n"+strings.Join(short, "\n")+"\n",
		pathHead+"time 2026-01-01T00:00:00.001Z\n"+oneWay(short, "C>S"))
	got = codesOf(pa, c, PathTTL, PathClockOffset)
	if want := []string{"near:path.one_way@2"}; !slices.Equal(got, want) {
		t.Errorf("two of the server's packets missing, acknowledged: findings %v, want %v", got, want)
	}
	// Fewer than three of the server's packets missing at far, which the
	// client's packets there do not acknowledge (its SYNs, and the RST
	// it gave up with, no ACK among them: the SYN-ACKs never taken), are
	// each injected (as a middlebox's forged packet is), not a route.
	synsOnly := []string{
		"+0    C>S S  seq=1000 mss=1460",
		"+0.02 S>C SA seq=5000 ack=1001 mss=1460",
		"+1    C>S S  seq=1000 mss=1460",
		"+0.02 S>C SA seq=5000 ack=1001 mss=1460",
		"+2    C>S R  seq=1001",
	}
	pa, c = pathCase(t, pathHead+"time 2026-01-01T00:00:00Z\n"+strings.Join(synsOnly, "\n")+"\n",
		pathHead+"time 2026-01-01T00:00:00.001Z\n"+oneWay(synsOnly, "C>S"))
	got = codesOf(pa, c, PathTTL, PathClockOffset)
	if want := []string{"near:path.injected@2", "near:path.injected@4"}; !slices.Equal(got, want) {
		t.Errorf("two SYN-ACKs missing, nothing acknowledged: findings %v, want %v", got, want)
	}
}

// A capture on the sending host sees a segment as large as the NIC will
// cut (TSO/GSO); the next hop sees the pieces. A capture on the receiving
// host sees the pieces merged (GRO/LRO). Both were called payload removed
// or added (errors, the seed's own signature) with each other piece
// injected or dropped.
func TestPathResegmented(t *testing.T) {
	hs := []string{
		"+0      C>S S  seq=1000 mss=1460",
		"+0.020  S>C SA seq=5000 ack=1001 mss=1460",
		"+0.0002 C>S A  seq=1001 ack=5001",
	}
	tail := []string{
		"+0.020 S>C A seq=5001 ack=5001",
		"+0.001 C>S PA seq=5001 ack=5001 len=100",
		"+0.020 S>C A seq=5001 ack=5101",
	}
	whole := append(append(slices.Clone(hs), "+0.001 C>S PA seq=1001 ack=5001 len=4000"), tail...)
	cut := append(append(slices.Clone(hs),
		"+0.001 C>S A seq=1001 ack=5001 len=1448",
		"+0      C>S A seq=2449 ack=5001 len=1448",
		"+0      C>S PA seq=3897 ack=5001 len=1104"), tail...)
	host := pathHead + "time 2026-01-01T00:00:00Z\n" + strings.Join(whole, "\n") + "\n"
	wire := pathHead + "time 2026-01-01T00:00:00.0005Z\n" + strings.Join(cut, "\n") + "\n"

	pa, c := pathCase(t, host, wire)
	if got, want := codesOf(pa, c, PathTTL, PathClockOffset), []string{"near:path.resegmented@4"}; !slices.Equal(got, want) {
		t.Fatalf("TSO: findings %v, want %v", got, want)
	}
	fi := pathFindings(pa, c.Flows[0], PathResegmented)[0]
	if !slices.Equal(fi.Pieces, []uint32{1448, 1448, 1104}) || fi.Count != 1 || fi.RelatedFrame != 4 ||
		!strings.Contains(fi.Message, "the client's 4000-byte data segment (frame 4 at near) is 3 segments at far (1448+1448+1104 bytes, from frame 4 at far)") ||
		!strings.Contains(fi.Message, "TSO/GSO") {
		t.Errorf("TSO: %+v", fi)
	}
	// The same segments, the host now the receiver, after the wire.
	pa, c = pathCase(t, strings.Replace(wire, ":00.0005Z", ":00Z", 1), strings.Replace(host, ":00Z", ":00.0005Z", 1))
	if got, want := codesOf(pa, c, PathTTL, PathClockOffset), []string{"far:path.resegmented@4"}; !slices.Equal(got, want) {
		t.Fatalf("GRO: findings %v, want %v", got, want)
	}
	if fi := pathFindings(pa, c.Flows[1], PathResegmented)[0]; !strings.Contains(fi.Message, "GRO/LRO") {
		t.Errorf("GRO: %+v", fi)
	}
	// The middle piece lost on the wire, and sent again later: the
	// segment was still resegmented, and that piece dropped (it was
	// payload removed, an error, and the last piece injected).
	lost := strings.Replace(wire, "+0      C>S A seq=2449 ack=5001 len=1448\n", "", 1) +
		"+0.2 C>S A seq=2449 ack=5001 len=1448\n"
	hostLost := host + "+0.2 C>S A seq=2449 ack=5001 len=1448\n"
	pa, c = pathCase(t, hostLost, lost)
	got := codesOf(pa, c, PathTTL, PathClockOffset)
	if want := []string{"near:path.dropped@4", "near:path.resegmented@4"}; !slices.Equal(got, want) {
		t.Errorf("TSO, a piece lost: findings %v, want %v", got, want)
	} else if fi := pathFindings(pa, c.Flows[0], PathDropped)[0]; fi.Bytes != 1448 ||
		!strings.Contains(fi.Message, "1448 of the 4000 bytes of data segment (4000 bytes) (frame 4 at near) never reached far") {
		t.Errorf("TSO, a piece lost: %+v", fi)
	}
	// Pieces that do not make up the whole are not resegmentation: the
	// bytes lost between the points stay a finding.
	short := strings.Replace(wire, "C>S PA seq=3897 ack=5001 len=1104", "C>S PA seq=3897 ack=5001 len=1000", 1)
	pa, c = pathCase(t, host, short)
	if got := codesOf(pa, c, PathTTL, PathClockOffset); slices.ContainsFunc(got, func(s string) bool { return strings.Contains(s, "resegmented") }) || len(got) == 0 {
		t.Errorf("pieces 96 bytes short: findings %v, want no resegmentation", got)
	}
}

// Copies of one segment pair by time: the copy that got through is the
// one matched, and the one that did not is the one dropped. Paired in
// order, the first SYN was matched with the retry the far point saw, and
// the retry called dropped.
func TestPathRetransmissionsByTime(t *testing.T) {
	// The far point's capture runs from before the first SYN (an
	// earlier connection's packets).
	other := "client 10.0.0.5:40001\n+0 C>S S seq=100 mss=1460\n+0.02 S>C R seq=0 ack=101\n+0.5 C>S S seq=200 mss=1460\n+0.02 S>C R seq=0 ack=201\n"
	syns := []string{
		"+0      C>S S  seq=1000 mss=1460",
		"+1      C>S S  seq=1000 mss=1460",
		"+2      C>S S  seq=1000 mss=1460",
		"+0.020  S>C SA seq=5000 ack=1001 mss=1460",
		"+0.0002 C>S A  seq=1001 ack=5001",
		"+0.001  C>S PA seq=1001 ack=5001 len=100",
		"+0.3    C>S PA seq=1001 ack=5001 len=100",
		"+0.020  S>C A  seq=5001 ack=1101",
	}
	near := pathHead + "time 2026-01-01T00:00:01Z\n" + strings.Join(syns, "\n") + "\n"
	// Only the third SYN and the second copy of the data got through.
	through := []string{syns[2], syns[3], syns[4], syns[6], syns[7]}
	far := pathHead + "time 2026-01-01T00:00:00Z\n" + other + "client 10.0.0.5:40010\n+3.4605 " +
		strings.Join(strings.Fields(through[0])[1:], " ") + "\n" + strings.Join(through[1:], "\n") + "\n"
	far = strings.Replace(far, "+0.3    C>S PA", "+0.301  C>S PA", 1)
	pa, c := pathCase(t, near, far)
	got := codesOf(pa, c, PathTTL, PathClockOffset)
	if want := []string{"near:path.dropped@1", "near:path.dropped@2", "near:path.dropped@6"}; !slices.Equal(got, want) {
		t.Errorf("findings %v, want %v", got, want)
	}
	if math.Abs(pa.Offset[1]-0.0005) > 0.001 {
		t.Errorf("clock offset %.4f s, want 0.0005", pa.Offset[1])
	}
}

// A segment the far point saw twice and the near point once was copied
// between them (a mirror, a loop, a bonding fault): not injected.
func TestPathDuplicated(t *testing.T) {
	lines := longConn()[:7]
	near := pathHead + "time 2026-01-01T00:00:00Z\n" + strings.Join(lines, "\n") + "\n"
	twice := slices.Insert(slices.Clone(lines), 4, "+0.00001 C>S PA seq=1001 ack=5001 len=48")
	pa, c := pathCase(t, near, pathHead+"time 2026-01-01T00:00:00.001Z\n"+strings.Join(twice, "\n")+"\n")
	got := codesOf(pa, c, PathTTL, PathClockOffset)
	if want := []string{"far:path.duplicated@5"}; !slices.Equal(got, want) {
		t.Fatalf("findings %v, want %v", got, want)
	}
	if fi := pathFindings(pa, c.Flows[1], PathDuplicated)[0]; fi.RelatedFrame != 4 || !strings.Contains(fi.Message, "one more copy of frame 4 at near") {
		t.Errorf("duplicated %+v", fi)
	}
}

// The path's findings go into an export's packet comments with the
// flow's own: the pcapng an engineer hands on carried none of them.
func TestPathExportComments(t *testing.T) {
	pa := Correlate([]Point{
		pointFile(t, "client", "../testdata/seed-client.pcap"),
		pointFile(t, "fw-inside", "../testdata/seed-inside.pcap"),
		pointFile(t, "fw-outside", "../testdata/seed-outside.pcap"),
	})
	inside := pa.Results()[1]
	items, err := inside.ExportItems([]int{1})
	if err != nil {
		t.Fatal(err)
	}
	pa.ExportComments(1, []int{1}, items)
	var frame3 []string
	n := 0
	for _, it := range items {
		if it.Frame == 3 {
			frame3 = it.Comments
		}
		for _, c := range it.Comments {
			if strings.HasPrefix(c, "synscope: path.dropped: ") {
				n++
			}
		}
	}
	if !slices.ContainsFunc(frame3, func(c string) bool {
		return strings.HasPrefix(c, "synscope: path.dropped: ACK (frame 3 at fw-inside) never reached fw-outside")
	}) || !slices.ContainsFunc(frame3, func(c string) bool { return strings.HasPrefix(c, "synscope: handshake.ack_mismatch: ") }) {
		t.Errorf("frame 3's comments %q: want its ack_mismatch and its path.dropped", frame3)
	}
	if want := len(pathFindings(pa, inside.Flows[0], PathDropped)); n != want || n == 0 {
		t.Errorf("%d path.dropped comments, want %d", n, want)
	}
}

// Clocks less than half a millisecond apart read as such, not as
// "-0.000 s" or "0.000 s behind".
func TestClockWithinAMillisecond(t *testing.T) {
	for _, d := range []float64{0, -0.0004, 0.0004} {
		if got := ClockOffset(d); got != "±0" {
			t.Errorf("ClockOffset(%g) = %q", d, got)
		}
		if got := clockText("fw", "host", d); !strings.HasPrefix(got, "fw's clock is within 1 ms of host's") {
			t.Errorf("clockText(%g) = %q", d, got)
		}
	}
	if got := ClockOffset(-0.0006); got != "-0.001" {
		t.Errorf("ClockOffset(-0.0006) = %q", got)
	}
}

// Each end scales only when its SYN and the SYN-ACK it saw both carry
// window scaling. A middlebox that strips the option from the SYN-ACK
// leaves the server scaling and the client not: an error of its own, not
// only "options changed". Stripped from the SYN, a server that follows the
// RFC answers without it and the ends agree.
func TestPathScalingAgreement(t *testing.T) {
	conn := func(syn, synack, at string) string {
		return pathHead + "time 2026-01-01T00:00:00" + at + "Z\n" +
			"+0 C>S S seq=1000 mss=1460" + syn + "\n+0.02 S>C SA seq=5000 ack=1001 mss=1460" + synack + "\n" +
			"+0.0002 C>S A seq=1001 ack=5001\n+0.001 C>S PA seq=1001 ack=5001 len=100\n+0.02 S>C A seq=5001 ack=1101\n"
	}
	// at is the point the finding sits on: where the option changed (the
	// SYN-ACK reaches near after the change, the SYN far).
	for _, tc := range []struct {
		name                             string
		nearSyn, nearAck, farSyn, farAck string
		want                             string
		at                               int
	}{
		{"stripped from the SYN-ACK", " ws=7", "", " ws=7", " ws=8",
			"the client does not (at near: the SYN-ACK has no WS), the server scales (at far: SYN WS 7, SYN-ACK WS 8)", 0},
		{"stripped from the SYN, the server answers with it", " ws=7", " ws=8", "", " ws=8",
			"the client scales (at near: SYN WS 7, SYN-ACK WS 8), the server does not (at far: the SYN has no WS)", 1},
		{"the SYN's shift changed", " ws=7", " ws=8", " ws=2", " ws=8",
			"the client scales (at near: SYN WS 7, SYN-ACK WS 8), the server scales (at far: SYN WS 2, SYN-ACK WS 8)", 1},
		{"stripped from the SYN, the server answers without", " ws=7", "", "", "", "", 0},
		{"untouched", " ws=7", " ws=8", " ws=7", " ws=8", "", 0},
	} {
		pa, c := pathCase(t, conn(tc.nearSyn, tc.nearAck, ""), conn(tc.farSyn, tc.farAck, ".001"))
		got := slices.Concat(pathFindings(pa, c.Flows[0], PathScaling), pathFindings(pa, c.Flows[1], PathScaling))
		switch {
		case tc.want == "" && len(got) > 0:
			t.Errorf("%s: %+v", tc.name, got)
		case tc.want != "" && (len(got) != 1 || !strings.Contains(got[0].Message, tc.want)):
			t.Errorf("%s: %+v, want %q", tc.name, got, tc.want)
		case tc.want != "" && (got[0].Point != tc.at || got[0].RelatedPoint != 1-tc.at || !strings.Contains(got[0].Message, "window scaling changed between "+pa.Points[1-tc.at]+" and "+pa.Points[tc.at])):
			t.Errorf("%s: said at %s (against %s), want at %s: %s", tc.name, pa.Points[got[0].Point], pa.Points[got[0].RelatedPoint], pa.Points[tc.at], got[0].Message)
		}
	}
}

// A segment missing from the far point's capture that the receiver there
// acknowledged, with no copy of it coming, was not dropped: far's capture
// missed it (a busy firewall's tcpdump drops packets). It was
// path.dropped, an error, against far's own tcp.ack_unseen.
func TestPathUncaptured(t *testing.T) {
	far := strings.Replace(pathConn, "+0.001  C>S PA seq=1001 ack=5001 len=200\n", "", 1)
	pa, c := pathCase(t, pathConn, shiftTime(far, "2026-01-01T00:00:00.001Z"))
	got := codesOf(pa, c, PathTTL, PathClockOffset)
	if want := []string{"near:path.uncaptured@4"}; !slices.Equal(got, want) {
		t.Fatalf("findings %v, want %v", got, want)
	}
	fi := pathFindings(pa, c.Flows[0], PathUncaptured)[0]
	if !strings.Contains(fi.Message, "data segment (200 bytes) (frame 4 at near) is not in far's capture, though its receiver acknowledged it there (frame 4 at far)") {
		t.Errorf("uncaptured %+v", fi)
	}
}

// Three points; the second connection passed the first and the third but
// not the middle one (another route, the other firewall of a pair), whose
// capture ran throughout. It was two connections, each "unjoined" though
// the other point had its ISNs, with every packet "dropped" on its way to
// the middle point.
func TestPathAcrossAMissingPoint(t *testing.T) {
	x := strings.Join(longConn()[:7], "\n") + "\n"
	y := "client 10.0.0.5:40070\n+0.01 C>S S seq=7000 mss=1460\n+0.02 S>C SA seq=9000 ack=7001 mss=1460\n" +
		"+0.0002 C>S A seq=7001 ack=9001\n+0.001 C>S PA seq=7001 ack=9001 len=20\n+0.02 S>C A seq=9001 ack=7021\n"
	after := "client 10.0.0.5:40010\n+0.01 C>S A seq=1145 ack=5031\n"
	with := pathHead + "time 2026-01-01T00:00:00Z\n" + x + y + after
	without := pathHead + "time 2026-01-01T00:00:00Z\n" + x + strings.Replace(after, "+0.01", "+0.0612", 1)
	pa := Correlate([]Point{
		pointOf(t, "a", fixture.Build(with)),
		pointOf(t, "b", fixture.Build(strings.Replace(without, ":00Z", ":00.001Z", 1))),
		pointOf(t, "c", fixture.Build(strings.Replace(with, ":00Z", ":00.002Z", 1))),
	})
	if len(pa.Conns) != 2 {
		t.Fatalf("%d connections, want 2", len(pa.Conns))
	}
	c := pa.Conns[1]
	if c.Flows[0] == nil || c.Flows[1] != nil || c.Flows[2] == nil {
		t.Fatalf("the second connection seen at %v, want a and c", c.Present())
	}
	if got, want := codesOf(pa, c, PathTTL, PathClockOffset), []string{"a:path.bypassed@8"}; !slices.Equal(got, want) {
		t.Errorf("findings %v, want %v", got, want)
	}
	fi := pathFindings(pa, c.Flows[0], PathBypassed)[0]
	if !strings.Contains(fi.Message, "the connection was not seen at b, though a and c saw it") {
		t.Errorf("bypassed %+v", fi)
	}
	// The ladder lines a and c up.
	for _, r := range pa.Ladder(c) {
		if r.Refs[0] < 0 || r.Refs[1] >= 0 || r.Refs[2] < 0 {
			t.Errorf("ladder row %+v: want seen at a and c", r)
		}
	}
	// b's capture ended before the connection began: nothing says it
	// went another way (it was "bypassed", a warning, sending the
	// engineer after a route); it is still one connection, compared
	// across the gap.
	pa = Correlate([]Point{
		pointOf(t, "a", fixture.Build(with)),
		pointOf(t, "b", fixture.Build(strings.Replace(pathHead+"time 2026-01-01T00:00:00Z\n"+x, ":00Z", ":00.001Z", 1))),
		pointOf(t, "c", fixture.Build(strings.Replace(with, ":00Z", ":00.002Z", 1))),
	})
	c = pa.Conns[len(pa.Conns)-1]
	if len(pa.Conns) != 2 || c.Flows[0] == nil || c.Flows[2] == nil {
		t.Fatalf("b's capture over: %d connections, the last seen at %v", len(pa.Conns), c.Present())
	}
	if got := codesOf(pa, c, PathTTL, PathClockOffset); len(got) > 0 {
		t.Errorf("b's capture over: findings %v, want none", got)
	}
	// c behind an ASA (NAT, the client's ISN randomised): joined across b
	// by the server's ISN and the shape, as neighbours are; by ISN alone
	// each end's flow was "seen at one point only".
	asa := strings.NewReplacer("client 10.0.0.5:40010", "client 198.51.100.7:1142", "client 10.0.0.5:40070", "client 198.51.100.7:1170").Replace(
		pathHead + "time 2026-01-01T00:00:00.002Z\n" + strings.Join(shifted(strings.Split(strings.TrimSpace(x+y+after), "\n"), 3000000), "\n") + "\n")
	pa = Correlate([]Point{
		pointOf(t, "a", fixture.Build(with)),
		pointOf(t, "b", fixture.Build(strings.Replace(pathHead+"time 2026-01-01T00:00:00Z\n"+x, ":00Z", ":00.001Z", 1))),
		pointOf(t, "c", fixture.Build(asa)),
	})
	c = pa.Conns[len(pa.Conns)-1]
	if len(pa.Conns) != 2 || c.Flows[0] == nil || c.Flows[2] == nil {
		t.Fatalf("c behind an ASA: %d connections, the last seen at %v", len(pa.Conns), c.Present())
	}
	if got, want := codesOf(pa, c, PathTTL, PathClockOffset), []string{"c:path.isn_rewritten@8", "c:path.nat@8"}; !slices.Equal(got, want) {
		t.Errorf("c behind an ASA: findings %v, want %v", got, want)
	}
}

// PAT to a port below the server's, and a far capture that started after
// the SYN: there synscope guesses the direction from the ports, the other
// way round. The two flows are one connection (its numbers, sides turned
// over), said once, not compared: it was two connections, each with every
// packet "dropped" at the other point.
func TestPathDirectionGuessedTheOtherWay(t *testing.T) {
	near := "format pcap\nlink ethernet\nclient 10.0.0.5:50123\nserver 203.0.113.10:8443\ntime 2026-01-01T00:00:00Z\n" +
		strings.Join(longConn()[:9], "\n") + "\n"
	far := "format pcap\nlink ethernet\nclient 198.51.100.1:1500\nserver 203.0.113.10:8443\ntime 2026-01-01T00:00:00.001Z\n" +
		from(longConn()[:9], 3)
	pa, c := pathCase(t, near, far)
	if !c.Flows[1].DirectionGuessed || c.Flows[1].Client().Port() != 8443 {
		t.Fatalf("far's flow %s → %s, guessed %v: the case tests nothing", c.Flows[1].Client(), c.Flows[1].Server(), c.Flows[1].DirectionGuessed)
	}
	if got, want := codesOf(pa, c), []string{"far:path.direction_guessed@1"}; !slices.Equal(got, want) {
		t.Errorf("findings %v, want %v", got, want)
	}
}

// A point whose capture holds every packet twice (a SPAN of both
// directions, -i any on a router): its flow's analysis recognises the
// copies (same IP ID, 20 µs apart), and the path takes each pair for one
// packet. The copies were each "dropped" or "duplicated" on the way.
func TestPathPointSeesEachPacketTwice(t *testing.T) {
	lines := longConn()[:7]
	var near, far []string
	for i, l := range lines {
		l = fmt.Sprintf("%s id=%d", l, 100+i)
		near = append(near, l)
		f := strings.Fields(l)
		far = append(far, l, strings.Join(append([]string{"+0.00002"}, f[1:]...), " "))
	}
	pa, c := pathCase(t, pathHead+"time 2026-01-01T00:00:00Z\n"+strings.Join(near, "\n")+"\n",
		pathHead+"time 2026-01-01T00:00:00.001Z\n"+strings.Join(far, "\n")+"\n")
	copies := 0
	for _, fi := range c.Flows[1].Findings {
		if fi.IsCopy() {
			copies++
		}
	}
	if copies == 0 {
		t.Fatal("far's flow shows no copy: the case tests nothing")
	}
	if got := codesOf(pa, c, PathTTL, PathClockOffset); len(got) > 0 {
		t.Errorf("findings %v, want none", got)
	}
	if math.Abs(pa.Offset[1]-0.001) > 0.0005 {
		t.Errorf("clock offset %v, want 0.001 s: a packet and its copy tell the clocks", pa.Offset[1])
	}
}

// A segment sent whole at near and in IP fragments at far (a link with a
// smaller MTU between them, DF clear), and the other way round (a
// firewall's virtual reassembly): both said, once per side, by
// path.fragmented. They matched and nothing was said.
func TestPathFragmented(t *testing.T) {
	lines := longConn()
	frag := slices.Clone(lines)
	frag[3] += " frag=24"
	frag[5] += " frag=24"
	whole := pathHead + "time 2026-01-01T00:00:00Z\n" + strings.Join(lines, "\n") + "\n"
	split := pathHead + "time 2026-01-01T00:00:00.001Z\n" + strings.Join(frag, "\n") + "\n"
	pa, c := pathCase(t, whole, split)
	got := codesOf(pa, c, PathTTL, PathClockOffset)
	// Frames 4-6 at far are the first request's fragments.
	if want := []string{"far:path.fragmented@6"}; !slices.Equal(got, want) {
		t.Fatalf("findings %v, want %v", got, want)
	}
	fi := pathFindings(pa, c.Flows[1], PathFragmented)[0]
	if fi.Count != 2 || fi.Code.Severity() != Warning ||
		!strings.Contains(fi.Message, "(frame 6 at far) left near whole and reached far in 3 IP fragments: fragmented between them: a link with a smaller MTU") ||
		!strings.Contains(fi.Message, "2 of the client's segments in all") {
		t.Errorf("fragmented %+v", fi)
	}
	// Reassembled on the way.
	pa, c = pathCase(t, pathHead+"time 2026-01-01T00:00:00Z\n"+strings.Join(frag, "\n")+"\n",
		pathHead+"time 2026-01-01T00:00:00.001Z\n"+strings.Join(lines, "\n")+"\n")
	got = codesOf(pa, c, PathTTL, PathClockOffset)
	if want := []string{"far:path.fragmented@4"}; !slices.Equal(got, want) {
		t.Fatalf("reassembled: findings %v, want %v", got, want)
	}
	if fi := pathFindings(pa, c.Flows[1], PathFragmented)[0]; !strings.Contains(fi.Message, "left near in 3 IP fragments and reached far whole: reassembled between them") {
		t.Errorf("reassembled %+v", fi)
	}
	// DF set at near: a device between the points cleared it (a
	// firewall's "clear DF"), not the sender.
	withDF := slices.Clone(lines)
	withDF[3] += " df"
	pa, c = pathCase(t, pathHead+"time 2026-01-01T00:00:00Z\n"+strings.Join(withDF, "\n")+"\n", split)
	if fi := pathFindings(pa, c.Flows[1], PathFragmented); len(fi) != 1 || !strings.Contains(fi[0].Message, "fragmented between them, though DF was set at near: a device on the way cleared it") {
		t.Errorf("DF set upstream: %+v", fi)
	}
	// Fragmented alike at both points: nothing to say.
	pa, c = pathCase(t, pathHead+"time 2026-01-01T00:00:00Z\n"+strings.Join(frag, "\n")+"\n", split)
	if got := codesOf(pa, c, PathTTL, PathClockOffset); len(got) > 0 {
		t.Errorf("fragmented alike: findings %v, want none", got)
	}
}

// Two requests sent back to back reach far the other way round (parallel
// links): path.reordered at far, on the one overtaken. Each point's times
// are compared with its own only, so a clock offset does not matter.
func TestPathReordered(t *testing.T) {
	hs := []string{
		"+0      C>S S  seq=1000 mss=1460",
		"+0.020  S>C SA seq=5000 ack=1001 mss=1460",
		"+0.0002 C>S A  seq=1001 ack=5001",
	}
	sent := append(slices.Clone(hs),
		"+0.25   C>S PA seq=1001 ack=5001 len=48",
		"+0.0001 C>S PA seq=1049 ack=5001 len=48",
		"+0.0001 C>S PA seq=1097 ack=5001 len=48",
		"+0.02   S>C A  seq=5001 ack=1145",
	)
	arrived := append(slices.Clone(hs),
		"+0.25   C>S PA seq=1049 ack=5001 len=48",
		"+0.0001 C>S PA seq=1001 ack=5001 len=48",
		"+0.0001 C>S PA seq=1097 ack=5001 len=48",
		"+0.02   S>C A  seq=5001 ack=1145",
	)
	near := pathHead + "time 2026-01-01T00:00:00Z\n" + strings.Join(sent, "\n") + "\n"
	far := pathHead + "time 2026-01-01T00:00:07Z\n" + strings.Join(arrived, "\n") + "\n"
	pa, c := pathCase(t, near, far)
	got := codesOf(pa, c, PathTTL, PathClockOffset)
	if want := []string{"far:path.reordered@5"}; !slices.Equal(got, want) {
		t.Fatalf("findings %v, want %v", got, want)
	}
	fi := pathFindings(pa, c.Flows[1], PathReordered)[0]
	if fi.Count != 1 || fi.OtherFrame != 4 || fi.Code.Severity() != Info ||
		!strings.Contains(fi.Message, "(frame 5 at far) passed near before the segment of frame 4 at far, but reached far after it: reordered between them") {
		t.Errorf("reordered %+v", fi)
	}
	// In order at both points: nothing.
	pa, c = pathCase(t, near, pathHead+"time 2026-01-01T00:00:07Z\n"+strings.Join(sent, "\n")+"\n")
	if got := codesOf(pa, c, PathTTL, PathClockOffset); len(got) > 0 {
		t.Errorf("in order: findings %v, want none", got)
	}
}

func TestReorderingSameTimeSaysNoOrder(t *testing.T) {
	// Sent in the same microsecond at the first point: either order at
	// the next is no reordering.
	ts := []transit{{up: 10, down: 20, upFrame: 1, downFrame: 2}, {up: 10, down: 19, upFrame: 2, downFrame: 1}, {up: 11, down: 21, upFrame: 3, downFrame: 3}}
	if n, _, _ := reordering(ts); n != 0 {
		t.Errorf("%d reordered, want 0", n)
	}
	ts = append(ts, transit{up: 12, down: 18, upFrame: 4, downFrame: 0})
	if n, late, early := reordering(ts); n != 3 || late.upFrame != 1 && late.upFrame != 2 || early.upFrame != 4 {
		t.Errorf("%d reordered (late %+v, early %+v), want 3 overtaken by frame 4", n, late, early)
	}
}

// shifted moves the client's numbers by d in lines (its seq, and the
// server's ACK of them): an ISN-randomising firewall between the points.
func shifted(lines []string, d uint32) []string { return numbersShifted(lines, d, "C>S") }

// numbersShifted moves one side's numbers by d in lines: the seq of the
// lines it sends (dir, "C>S" or "S>C"), and the ACK of the others. The
// bytes stay: the fixture's filler (len=N) follows the sequence number,
// so it is written out as it was before the shift.
func numbersShifted(lines []string, d uint32, dir string) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		f := strings.Fields(l)
		key := "ack="
		if f[1] == dir {
			key = "seq="
			keepFiller(f)
		}
		for k, w := range f {
			if v, ok := strings.CutPrefix(w, key); ok {
				var n uint32
				fmt.Sscan(v, &n)
				f[k] = fmt.Sprintf("%s%d", key, n+d)
			}
		}
		out[i] = strings.Join(f, " ")
	}
	return out
}

// keepFiller writes a packet line's len=N (fields f) out as the filler
// bytes the fixture gives its sequence number: "abc…" from seq%26.
func keepFiller(f []string) {
	var seq uint32
	for _, w := range f {
		if v, ok := strings.CutPrefix(w, "seq="); ok {
			fmt.Sscan(v, &seq)
		}
	}
	for k, w := range f {
		if v, ok := strings.CutPrefix(w, "len="); ok {
			var n int
			fmt.Sscan(v, &n)
			b := make([]byte, n)
			for j := range b {
				b[j] = 'a' + byte((seq+uint32(j))%26)
			}
			f[k] = "data=text:" + string(b)
		}
	}
}

// A firewall that randomises the client's ISN, and a capture behind it
// started mid-connection: no ISNs to compare, and the client's numbers
// differ, so no join by numbers either. The connection was two, each
// "seen at one point only". Joined now by the server's numbers, the same
// at both points, and the client's, moved by one constant in every
// segment.
func TestPathRewrittenLateCapture(t *testing.T) {
	lines := longConn()
	const d = 3000000
	near := pathHead + "time 2026-01-01T00:00:00Z\n" + strings.Join(lines, "\n") + "\n"
	farLines := shifted(strings.Split(strings.TrimSpace(from(lines, 15)), "\n"), d)
	far := pathHead + "time 2026-01-01T00:00:01.8912Z\n" + strings.Join(farLines, "\n") + "\n"
	pa, c := pathCase(t, near, far)
	if got := codesOf(pa, c, PathTTL, PathClockOffset); !slices.Equal(got, []string{"far:path.isn_rewritten@1"}) {
		t.Fatalf("findings %v, want only far:path.isn_rewritten@1", got)
	}
	if fi := pathFindings(pa, c.Flows[1], PathISNRewritten)[0]; !strings.Contains(fi.Message, "the client's numbers at far are those at near +3000000 (far saw no handshake") {
		t.Errorf("isn_rewritten %q", fi.Message)
	}
	if math.Abs(pa.Offset[1]-0.001) > 0.0005 {
		t.Errorf("clock offset %.4f s, want 0.001", pa.Offset[1])
	}
	// The packets are compared: the last answer, 2 bytes longer at far
	// (the server's side), shrank on its way to near.
	longer := slices.Clone(farLines)
	longer[len(longer)-1] = strings.Replace(longer[len(longer)-1], "len=10", "len=12", 1)
	pa, c = pathCase(t, near, pathHead+"time 2026-01-01T00:00:01.8912Z\n"+strings.Join(longer, "\n")+"\n")
	got := codesOf(pa, c, PathTTL, PathClockOffset, PathISNRewritten)
	if want := []string{"near:path.payload_removed@27"}; !slices.Equal(got, want) {
		t.Errorf("an answer changed: findings %v, want %v", got, want)
	}
	// The near capture started late, far saw the handshake.
	pa, c = pathCase(t, pathHead+"time 2026-01-01T00:00:01.8902Z\n"+from(lines, 15),
		pathHead+"time 2026-01-01T00:00:00.001Z\n"+strings.Join(shifted(lines, d), "\n")+"\n")
	if got := codesOf(pa, c, PathTTL, PathClockOffset); !slices.Equal(got, []string{"far:path.isn_rewritten@1"}) {
		t.Errorf("near started late: findings %v, want only far:path.isn_rewritten@1", got)
	} else if fi := pathFindings(pa, c.Flows[1], PathISNRewritten)[0]; !strings.Contains(fi.Message, "+3000000 (near saw no handshake") {
		t.Errorf("near started late: isn_rewritten %q", fi.Message)
	}
}

// A one-way bulk transfer whose ACK never changes: shifting the client's
// numbers by one segment's length matches as many segments as the true
// shift. Ambiguous, so not joined (a wrong join would compare every
// segment with the one after it).
func TestPathShiftAmbiguousNotJoined(t *testing.T) {
	lines := []string{
		"+0      C>S S  seq=1000 mss=1460",
		"+0.020  S>C SA seq=5000 ack=1001 mss=1460",
		"+0.0002 C>S A  seq=1001 ack=5001",
	}
	for i := range 20 {
		lines = append(lines, fmt.Sprintf("+0.01 C>S A seq=%d ack=5001 len=100", 1001+100*i))
	}
	near := pathHead + "time 2026-01-01T00:00:00Z\n" + strings.Join(lines, "\n") + "\n"
	far := pathHead + "time 2026-01-01T00:00:00.101Z\n" + strings.Join(shifted(strings.Split(strings.TrimSpace(from(lines, 10)), "\n"), 777), "\n") + "\n"
	pa := Correlate([]Point{pointOf(t, "near", fixture.Build(near)), pointOf(t, "far", fixture.Build(far))})
	if len(pa.Conns) != 2 {
		t.Fatalf("%d connections, want 2 (not joined)", len(pa.Conns))
	}
	// Not joined, but not "no flow at the other points has its
	// segments" either: the flow with its addresses and ports is named.
	fi := pathFindings(pa, pa.Conns[0].Flows[0], PathUnjoined)
	if len(fi) != 1 || !strings.Contains(fi[0].Message, "seen at near only: flow 1 at far has its addresses and ports at the same time, but not its ISNs") {
		t.Errorf("unjoined %+v", fi)
	}
}

// spanCase is longConn's first n packets at near, and at far as a point
// capturing each packet twice (20 µs apart, one IP ID) would see them:
// the client's 0.3 ms after near, the server's 0.8 ms before near (far is
// nearer the server), less those of near's frames in drop.
func spanCase(n int, drop ...int) (near, far string) {
	type pkt struct {
		at   float64
		line string
	}
	var at float64
	var ns, fs []pkt
	for i, l := range longConn()[:n] {
		f := strings.Fields(l)
		var d float64
		fmt.Sscanf(f[0], "+%g", &d)
		at += d
		body := strings.Join(f[1:], " ") + fmt.Sprintf(" id=%d", 100+i)
		if !slices.Contains(drop, i+1) {
			ns = append(ns, pkt{at, body})
		}
		delay := 0.0003
		if f[1] == "S>C" {
			delay = -0.0008
		}
		fs = append(fs, pkt{at + delay, body}, pkt{at + delay + 0.00002, body})
	}
	render := func(ps []pkt) string {
		slices.SortStableFunc(ps, func(x, y pkt) int { return cmpFloat(x.at, y.at) })
		var out []string
		last := ps[0].at
		for _, p := range ps {
			out = append(out, fmt.Sprintf("+%.6f %s", p.at-last, p.line))
			last = p.at
		}
		return strings.Join(out, "\n") + "\n"
	}
	return pathHead + "time 2026-01-01T00:00:00Z\n" + render(ns), pathHead + "time 2026-01-01T00:00:00Z\n" + render(fs)
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// A point that captures each packet twice, its two directions' delays
// unequal (the usual case): pairing by time took the later copy of the
// server's packets half the time, and left the first over as "dropped",
// every server packet ✗ with nothing lost. A packet that really did not
// reach the other point is still dropped, once.
func TestPathSpanCopiesUnequalDelays(t *testing.T) {
	near, far := spanCase(13)
	pa, c := pathCase(t, near, far)
	if got := codesOf(pa, c, PathTTL, PathClockOffset); len(got) > 0 {
		t.Errorf("findings %v, want none", got)
	}
	// The server's 4th answer (near's frame 11) missing at near, and
	// acknowledged there by the next request: said once, of the first
	// of its two copies at far.
	near, far = spanCase(13, 11)
	pa, c = pathCase(t, near, far)
	got := codesOf(pa, c, PathTTL, PathClockOffset)
	if want := []string{"far:path.uncaptured@21"}; !slices.Equal(got, want) {
		t.Errorf("one answer missing: findings %v, want %v", got, want)
	}
}

// without removes line k of lines, its time added to the next line's.
func without(lines []string, k int) []string {
	out := slices.Clone(lines)
	var d, e float64
	fmt.Sscanf(strings.Fields(out[k])[0], "+%g", &d)
	next := strings.Fields(out[k+1])
	fmt.Sscanf(next[0], "+%g", &e)
	next[0] = fmt.Sprintf("+%g", d+e)
	out[k+1] = strings.Join(next, " ")
	return slices.Delete(out, k, k+1)
}

// behindASA is lines as seen outside a firewall that translates the
// client's address and port and randomises its ISN (a Cisco ASA's
// default), whose clock runs 7 s behind, the packets taking 1 ms.
func behindASA(lines []string) string {
	head := strings.Replace(pathHead, "client 10.0.0.5:40010", "client 198.51.100.7:1142", 1)
	return head + "time 2025-12-31T23:59:53.001Z\n" + strings.Join(shifted(lines, 3000000), "\n") + "\n"
}

// Behind NAT and an ISN-randomising firewall, only the server's ISN and
// the shape of the first segments join the two points. Compared position
// by position, one segment dropped between them (or a retransmission
// seen on one side only) moved every later one, so exactly the
// connections with damage to show were not joined: each point's half was
// "seen at one point only", every packet "dropped". In order with gaps,
// they join, and the one dropped segment is named at its point.
func TestPathRewrittenNATDamage(t *testing.T) {
	lines := longConn()
	// The third request (line 7) dropped between the points and sent
	// again 250 ms later: both copies at near, the second at far.
	retrans := slices.Insert(slices.Clone(lines), 8, strings.Replace(lines[7], "+0.25", "+0.25", 1))
	retrans[9] = strings.Replace(retrans[9], "+0.02", "+0.0003", 1)
	near := pathHead + "time 2026-01-01T00:00:00Z\n" + strings.Join(retrans, "\n") + "\n"
	pa, c := pathCase(t, near, behindASA(without(retrans, 7)))
	skip := []PathCode{PathTTL, PathClockOffset, PathNAT, PathISNRewritten}
	if got, want := codesOf(pa, c, skip...), []string{"near:path.dropped@8"}; !slices.Equal(got, want) {
		t.Errorf("request dropped: findings %v, want %v", got, want)
	}
	// The server's third answer (line 8) dropped between far and near,
	// and sent again 200 ms later.
	retrans = slices.Insert(slices.Clone(lines), 9, strings.Replace(lines[8], "+0.02", "+0.2", 1))
	retrans[10] = strings.Replace(retrans[10], "+0.25", "+0.05", 1)
	pa, c = pathCase(t, pathHead+"time 2026-01-01T00:00:00Z\n"+strings.Join(without(retrans, 8), "\n")+"\n", behindASA(retrans))
	if got, want := codesOf(pa, c, skip...), []string{"far:path.dropped@9"}; !slices.Equal(got, want) {
		t.Errorf("answer dropped: findings %v, want %v", got, want)
	}
	if math.Abs(pa.Offset[1]+7) > 0.01 {
		t.Errorf("clock offset %.4f s, want -7", pa.Offset[1])
	}
}

// Two flows at far with the server's ISN and the shape of one at near (a
// capture that holds the connection twice, through two interfaces with
// their own NAT): which one is the connection is not known, so neither
// is joined, as elsewhere; the first was taken.
func TestPathShapeAmbiguousNotJoined(t *testing.T) {
	lines := longConn()
	near := pathHead + "time 2026-01-01T00:00:00Z\n" + strings.Join(lines, "\n") + "\n"
	other := strings.NewReplacer("198.51.100.7:1142", "198.51.100.8:2242", "23:59:53.001Z", "23:59:53.002Z").Replace(behindASA(lines))
	far := twoConns(behindASA(lines), other)
	pa := Correlate([]Point{pointOf(t, "near", fixture.Build(near)), pointOf(t, "far", far)})
	if len(pa.Conns) != 3 {
		t.Errorf("%d connections, want 3 (none joined)", len(pa.Conns))
	}
}

// Behind NAT and an ISN-randomising firewall, every connection joins by
// shape. Each unjoined flow of one point was compared with every free
// flow of the next: 40,000 connections took 38 s, 89% of it here. Looked
// up by ISN, each flow is compared with its own and no other.
func TestPathShapeJoinLookedUp(t *testing.T) {
	const n = 300
	var near, far []byte
	for i := range n {
		conn := fmt.Sprintf(`format pcap
link ethernet
client 10.0.%d.%d:%d
server 203.0.113.10:443
time 2026-01-01T00:00:%02d.%03dZ
+0      C>S S  seq=%d mss=1460
+0.020  S>C SA seq=%d mss=1460
+0.0002 C>S A
+0.001  C>S PA len=200
+0.020  S>C PA len=500
+0.0002 C>S A
+0.010  C>S FA
+0.020  S>C FA
+0.0002 C>S A
`, i/200, i%200+1, 40000+i, i/100, i%100*10, 1000+7919*i, 5000+104729*i)
		outside := strings.Replace(conn, fmt.Sprintf("client 10.0.%d.%d:%d", i/200, i%200+1, 40000+i), fmt.Sprintf("client 198.51.100.7:%d", 1024+i), 1)
		outside = strings.Replace(outside, fmt.Sprintf("seq=%d mss", 1000+7919*i), fmt.Sprintf("seq=%d mss", 3001000+7919*i), 1)
		nb, fb := fixture.Build(conn), fixture.Build(outside)
		if i > 0 {
			nb, fb = nb[24:], fb[24:]
		}
		near, far = append(near, nb...), append(far, fb...)
	}
	a, b := pointOf(t, "near", near), pointOf(t, "far", far)
	if len(a.Result.Flows) != n || len(b.Result.Flows) != n {
		t.Fatalf("%d and %d flows, want %d", len(a.Result.Flows), len(b.Result.Flows), n)
	}
	if j := joinByISN(a.Result, b.Result); len(j) != 0 {
		t.Fatalf("%d joined by ISN, want none: the case tests nothing", len(j))
	}
	joined := map[*Flow]*Flow{}
	compared := joinByShape(a.Result, b.Result, joined, math.NaN())
	if len(joined) != n {
		t.Errorf("%d of %d joined", len(joined), n)
	}
	for f, g := range joined {
		if f.Handshake.ServerISN != g.Handshake.ServerISN {
			t.Errorf("%s joined with %s", f.Client(), g.Client())
		}
	}
	if compared > n {
		t.Errorf("%d shapes compared for %d flows", compared, n)
	}
}

// A connection seen at near only (a client's to a host on its own LAN,
// or, in a firewall's outside capture, one of its other interfaces'),
// while far's capture ran: its SYN, data and FIN were answered, so they
// reached the server another way. Every packet of it was "dropped"
// between the points, the connection ✗. Packets never answered, or
// answered by an RST (what a firewall that refuses them sends), are
// still dropped.
func TestPathUnjoinedAnswered(t *testing.T) {
	lines := longConn()
	run := func(short string) (*Path, *Connection) {
		// The short connection runs from 1.2 s at near, inside far's
		// capture; the long one tells the clock offset.
		// (A fixture's endpoints hold for all its lines: the short
		// connection is a file of its own, appended.)
		near := fixture.Build(pathHead + "time 2026-01-01T00:00:00Z\n" + strings.Join(lines[:10], "\n") + "\n")
		near = append(near, fixture.Build(strings.Replace(pathHead, ":40010", ":40011", 1) + "time 2026-01-01T00:00:01.085Z\n" + short)[24:]...)
		near = append(near, fixture.Build(pathHead + "time 2026-01-01T00:00:01.1002Z\n" + from(lines, 10))[24:]...)
		far := pathHead + "time 2026-01-01T00:00:00.001Z\n" + strings.Join(lines, "\n") + "\n"
		pa := Correlate([]Point{pointOf(t, "near", near), pointOf(t, "far", fixture.Build(far))})
		if len(pa.Conns) != 2 || pa.Conns[1].Flows[1] != nil {
			t.Fatalf("%d connections, want the long one and one at near only", len(pa.Conns))
		}
		return pa, pa.Conns[1]
	}
	pa, c := run("+0 C>S S seq=7000 mss=1460\n+0.002 S>C SA seq=9000 ack=7001 mss=1460\n+0.0002 C>S A seq=7001 ack=9001\n" +
		"+0.001 C>S PA seq=7001 ack=9001 len=20\n+0.002 S>C PA seq=9001 ack=7021 len=30\n+0.0002 C>S A seq=7021 ack=9031\n" +
		"+0.001 C>S FA seq=7021 ack=9031\n+0.002 S>C FA seq=9031 ack=7022\n+0.0002 C>S A seq=7022 ack=9032\n")
	if got, want := codesOf(pa, c), []string{"near:path.unjoined@11"}; !slices.Equal(got, want) {
		t.Errorf("answered: findings %v, want %v", got, want)
	}
	if u := pathFindings(pa, c.Flows[0], PathUnjoined); len(u) != 1 || !strings.Contains(u[0].Message, "its packets were answered (frame 12 at near), so they went another way") {
		t.Errorf("unjoined %+v", u)
	}
	if s := pa.Status(c.Flows[0]); s != StatusOK {
		t.Errorf("status %v, want ok (%+v)", s, c.Flows[0].Findings)
	}
	// A SYN sent twice, never answered: both dropped.
	pa, c = run("+0 C>S S seq=7000 mss=1460\n+0.005 C>S S seq=7000 mss=1460\n")
	if got, want := codesOf(pa, c), []string{"near:path.dropped@11", "near:path.dropped@12", "near:path.unjoined@11"}; !slices.Equal(got, want) {
		t.Errorf("unanswered: findings %v, want %v", got, want)
	}
	// Refused with an RST: still dropped.
	pa, c = run("+0 C>S S seq=7000 mss=1460\n+0.002 S>C RA seq=0 ack=7001\n")
	if got, want := codesOf(pa, c), []string{"near:path.dropped@11", "near:path.unjoined@11"}; !slices.Equal(got, want) {
		t.Errorf("refused: findings %v, want %v", got, want)
	}
}

// Three points, the middle one's capture over before the connection, the
// last one behind an ASA (NAT, the client's ISN randomised) and started
// in the middle of it: joined across the middle point, by the server's
// numbers and the client's shift, as neighbours are. It was one flow at
// each end, each "seen at one point only".
func TestPathAcrossLateBehindASA(t *testing.T) {
	lines := longConn()
	near := pathHead + "time 2026-01-01T00:00:00Z\n" + strings.Join(lines, "\n") + "\n"
	mid := strings.Replace(pathHead, "10.0.0.5:40010", "10.0.0.6:40099", 1) + "time 2025-12-31T23:59:50Z\n" + strings.Join(serverShifted(shifted(lines[:5], 77777), 55555), "\n") + "\n"
	pa := Correlate([]Point{
		pointOf(t, "near", fixture.Build(near)),
		pointOf(t, "mid", fixture.Build(mid)),
		pointOf(t, "far", fixture.Build(behindASALate(lines, 15, "2025-12-31T23:59:54.8912Z"))),
	})
	c := pa.Conns[0]
	if len(pa.Conns) != 2 || c.Flows[0] == nil || c.Flows[1] != nil || c.Flows[2] == nil {
		t.Fatalf("%d connections, the first seen at %v, want near and far", len(pa.Conns), c.Present())
	}
	if got, want := codesOf(pa, c, PathTTL, PathClockOffset), []string{"far:path.isn_rewritten@1", "far:path.nat@1"}; !slices.Equal(got, want) {
		t.Errorf("findings %v, want %v", got, want)
	}
	if math.Abs(pa.Offset[2]+7) > 0.01 {
		t.Errorf("far's clock offset %.4f s, want -7", pa.Offset[2])
	}
}

// A connection at far only, from a client behind another interface of
// the firewall, whose handshake failed: its SYN-ACKs and the server's
// reset were each "dropped" on the way to near, where the client's SYN
// had never been either. The SYN, not at near while near's capture ran,
// shows that the connection does not pass near.
func TestPathUnjoinedOtherRoute(t *testing.T) {
	lines := longConn()
	near := pathHead + "time 2026-01-01T00:00:00Z\n" + strings.Join(lines, "\n") + "\n"
	far := fixture.Build(pathHead + "time 2026-01-01T00:00:00.001Z\n" + strings.Join(lines[:10], "\n") + "\n")
	far = append(far, fixture.Build(strings.Replace(pathHead, "10.0.0.5:40010", "10.9.0.5:40011", 1) + "time 2026-01-01T00:00:01.085Z\n" +
		"+0 C>S S seq=7000 mss=1460\n+0.002 S>C SA seq=9000 ack=7001 mss=1460\n+1 S>C SA seq=9000 ack=7001 mss=1460\n+2 S>C RA seq=9001 ack=7001\n")[24:]...)
	far = append(far, fixture.Build(pathHead + "time 2026-01-01T00:00:01.1012Z\n" + from(lines, 10))[24:]...)
	pa := Correlate([]Point{pointOf(t, "near", fixture.Build(near)), pointOf(t, "far", far)})
	if len(pa.Conns) != 2 || pa.Conns[1].Flows[0] != nil {
		t.Fatalf("%d connections, want the long one and one at far only", len(pa.Conns))
	}
	if got, want := codesOf(pa, pa.Conns[1]), []string{"far:path.unjoined@11"}; !slices.Equal(got, want) {
		t.Errorf("findings %v, want %v", got, want)
	}
}

// A request rewritten in place between the points, its length kept (an
// FTP ALG putting the NAT address in a PORT command of the same length, a
// device corrupting bytes and fixing the checksum): path.payload_changed
// at far, with the bytes at both points. Before, only a change of length
// was seen, and this connection read clean.
func TestPathPayloadChanged(t *testing.T) {
	conn := func(req, answer string) string {
		return pathHead + "time 2026-01-01T00:00:00Z\n" + strings.Join([]string{
			"+0      C>S S  seq=1000 mss=1460",
			"+0.020  S>C SA seq=5000 ack=1001 mss=1460",
			"+0.0002 C>S A  seq=1001 ack=5001",
			"+0.25   C>S PA seq=1001 ack=5001 data=" + req,
			"+0.02   S>C PA seq=5001 ack=1026 data=" + answer,
		}, "\n") + "\n"
	}
	const port, ok = `text:"PORT 10,0,0,5,195,80\r\n"`, `text:"200 PORT command successful\r\n"`
	pa, c := pathCase(t, conn(port, ok), conn(`text:"PORT 10,0,0,9,195,80\r\n"`, ok))
	if got, want := codesOf(pa, c, PathTTL, PathClockOffset), []string{"far:path.payload_changed@4"}; !slices.Equal(got, want) {
		t.Fatalf("findings %v, want %v", got, want)
	}
	fi := pathFindings(pa, c.Flows[1], PathPayloadChanged)[0]
	if fi.Code.Severity() != Error || fi.RelatedPoint != 0 || fi.RelatedFrame != 4 || fi.At != 12 || fi.Bytes != 1 ||
		string(fi.Was) != "5" || string(fi.Data) != "9" {
		t.Errorf("changed %+v", fi)
	}
	if want := `data segment (22 bytes) changed between near and far, its length the same: payload byte 12 differs ("5" → "9")`; fi.Message != want {
		t.Errorf("message %q\nwant    %q", fi.Message, want)
	}
	r := c.Flows[1].Record("far")
	pa.Decorate(&r, c.Flows[1])
	var rf *RecordFinding
	for i := range r.Findings {
		if r.Findings[i].Code == "path.payload_changed" {
			rf = &r.Findings[i]
		}
	}
	if rf == nil || rf.Was != "35" || rf.Data != "39" || rf.Offset == nil || *rf.Offset != 12 || rf.Bytes != 1 || rf.Capture != "far" || rf.RelatedCapture != "near" {
		t.Errorf("JSON finding %+v", rf)
	}

	// The server's answer, binary, changed in two places: the span from
	// the first to the last, in hex.
	pa, c = pathCase(t, conn(port, "hex:0001020304050607"), conn(port, "hex:00ff0203040506ee"))
	fi = pathFindings(pa, c.Flows[0], PathPayloadChanged)[0]
	if fi.Point != 0 || fi.RelatedPoint != 1 || fi.Frame != 5 ||
		!strings.Contains(fi.Message, "data segment (8 bytes) changed between far and near, its length the same: 2 bytes differ in payload bytes 1-7 (ff 02 03 04 05 06 ee → 01 02 03 04 05 06 07)") {
		t.Errorf("server's answer: %+v", fi)
	}

	// Alike at both points, NAT or not: nothing said. The far point's
	// copies have other addresses, so other checksums, and the same bytes.
	nat := strings.Replace(conn(port, ok), "client 10.0.0.5:40010", "client 198.51.100.7:61000", 1)
	pa, c = pathCase(t, conn(port, ok), nat)
	if got := codesOf(pa, c, PathTTL, PathClockOffset, PathNAT); len(got) > 0 {
		t.Errorf("same bytes behind NAT: findings %v, want none", got)
	}

	// A point whose capture cut the payload short cannot say: nothing
	// said, where a sum over part of it would differ.
	cut := strings.Replace(conn(`text:"PORT 10,0,0,9,195,80\r\n"`, ok), "link ethernet\n", "link ethernet\nsnaplen 70\n", 1)
	pa, c = pathCase(t, conn(port, ok), cut)
	if got := pathFindings(pa, c.Flows[1], PathPayloadChanged); len(got) > 0 {
		t.Errorf("payload cut at far: %+v, want nothing", got)
	}

	// Packets that cannot be read back (a capture read from a pipe): the
	// sums still tell that the bytes changed.
	near, far := pointOf(t, "near", fixture.Build(conn(port, ok))), pointOf(t, "far", fixture.Build(conn(`text:"PORT 10,0,0,9,195,80\r\n"`, ok)))
	near.Reread, far.Reread = nil, nil
	pa = Correlate([]Point{near, far})
	if got := pathFindings(pa, pa.Conns[0].Flows[1], PathPayloadChanged); len(got) != 1 ||
		!strings.HasSuffix(got[0].Message, "its length the same: its bytes sum differently at the two points (they could not be read back to say which changed)") {
		t.Errorf("no reread: %+v", got)
	}
}

// behindASALate is lines from the k-th on as a capture outside an ASA
// (NAT, the client's ISN randomised, the clock 7 s behind, 1 ms on the
// way) started in the middle of the connection sees them.
func behindASALate(lines []string, k int, start string) string {
	head := strings.Replace(pathHead, "client 10.0.0.5:40010", "client 198.51.100.7:1142", 1)
	return head + "time " + start + "\n" + strings.Join(shifted(strings.Split(strings.TrimSpace(from(lines, k)), "\n"), 3000000), "\n") + "\n"
}

// An ASA's defaults (NAT and ISN randomising) with the outside capture
// started while the connection ran (a long-lived one: a database
// session, a tunnel): no ISNs, other addresses, other client numbers.
// The connection was two, each "seen at one point only", which sent the
// engineer after a route. The server's numbers, the same at both points,
// find the flow; the client's, moved by one constant, join it.
func TestPathRewrittenNATLateCapture(t *testing.T) {
	lines := longConn()
	near := pathHead + "time 2026-01-01T00:00:00Z\n" + strings.Join(lines, "\n") + "\n"
	pa, c := pathCase(t, near, behindASALate(lines, 15, "2025-12-31T23:59:54.8912Z"))
	if got, want := codesOf(pa, c, PathTTL, PathClockOffset), []string{"far:path.isn_rewritten@1", "far:path.nat@1"}; !slices.Equal(got, want) {
		t.Fatalf("findings %v, want %v", got, want)
	}
	if fi := pathFindings(pa, c.Flows[1], PathISNRewritten)[0]; !strings.Contains(fi.Message, "the client's numbers at far are those at near +3000000 (far saw no handshake") {
		t.Errorf("isn_rewritten %q", fi.Message)
	}
	if math.Abs(pa.Offset[1]+7) > 0.01 {
		t.Errorf("clock offset %.4f s, want -7", pa.Offset[1])
	}
	// The capture at far started between the SYN and the SYN-ACK: joined
	// by the server's ISN, the client's numbers were taken as unchanged,
	// so nothing matched: no clock offset, and where one was known (other
	// connections gave it) every client segment was "dropped" at near and
	// "injected" at far.
	pa, c = pathCase(t, near, behindASALate(lines, 1, "2025-12-31T23:59:53.021Z"))
	if got, want := codesOf(pa, c, PathTTL, PathClockOffset), []string{"far:path.isn_rewritten@1", "far:path.nat@1"}; !slices.Equal(got, want) {
		t.Errorf("far started after the SYN: findings %v, want %v", got, want)
	}
	if math.Abs(pa.Offset[1]+7) > 0.01 {
		t.Errorf("far started after the SYN: clock offset %.4f s, want -7 (unknown, nothing was compared)", pa.Offset[1])
	}
	// The last request dropped by the firewall (never at far, never
	// answered; the client resets a second later) is named at its point.
	rst := "+1 C>S RA seq=1577 ack=5111"
	pa, c = pathCase(t, pathHead+"time 2026-01-01T00:00:00Z\n"+strings.Join(append(slices.Clone(lines[:26]), rst), "\n")+"\n",
		behindASALate(append(slices.Clone(lines[:25]), strings.Replace(rst, "+1", "+1.27", 1)), 15, "2025-12-31T23:59:54.8912Z"))
	if got, want := codesOf(pa, c, PathTTL, PathClockOffset, PathNAT, PathISNRewritten), []string{"near:path.dropped@26"}; !slices.Equal(got, want) {
		t.Errorf("request dropped: findings %v, want %v", got, want)
	}
	// The connection twice at far, through two interfaces with their own
	// NAT: which one it is is not known, so neither is joined.
	other := strings.Replace(behindASALate(lines, 15, "2025-12-31T23:59:54.8922Z"), "198.51.100.7:1142", "198.51.100.8:2242", 1)
	far := twoConns(behindASALate(lines, 15, "2025-12-31T23:59:54.8912Z"), other)
	pa = Correlate([]Point{pointOf(t, "near", fixture.Build(near)), pointOf(t, "far", far)})
	if len(pa.Conns) != 3 {
		t.Errorf("twice at far: %d connections, want 3 (none joined)", len(pa.Conns))
	}
}

// A segment sent twice: the original waited 87 µs in a queue on the way,
// the retransmission (without ECT, as Linux sends them) went through in
// 1 µs. Nearest first, to 100 µs, the retransmission at near was paired
// with the original at far: a TOS "changed on the way" and a segment
// "reordered" across one veth pair. Copies that look alike pair in time
// order, and the TOS tells the two apart.
func TestPathCopiesNotCrossed(t *testing.T) {
	lines := longConn()
	near := slices.Clone(lines)
	near[7] += " tos=2"
	near = slices.Insert(near, 8, "+0.000135 C>S PA seq=1097 ack=5021 len=48")
	near[9] = strings.Replace(near[9], "+0.02", "+0.019865", 1)
	far := slices.Clone(lines)
	far[7] = strings.Replace(far[7], "+0.25", "+0.250086", 1) + " tos=2"
	far = slices.Insert(far, 8, "+0.00005 C>S PA seq=1097 ack=5021 len=48")
	far[9] = strings.Replace(far[9], "+0.02", "+0.019778", 1)
	pa, c := pathCase(t, pathHead+"time 2026-01-01T00:00:00Z\n"+strings.Join(near, "\n")+"\n", pathHead+"time 2026-01-01T00:00:00.000001Z\n"+strings.Join(far, "\n")+"\n")
	if got := codesOf(pa, c, PathTTL, PathClockOffset); len(got) > 0 {
		t.Errorf("retransmission: findings %v, want none", got)
	}
	// A burst of duplicate ACKs (one key, the window growing) that the
	// path reordered: each ACK pairs with its own window, not its place.
	// Each keeps the IP ID its sender gave it (the fixture's numbering
	// in capture order gave the reordered ones each other's).
	acks := func(order []int) []string {
		out := slices.Clone(lines[:8])
		for _, w := range order {
			out = append(out, fmt.Sprintf("+0.00001 S>C A seq=5021 ack=1145 win=%d id=%d", 1000+w, 900+w))
		}
		return append(out, lines[8:]...)
	}
	pa, c = pathCase(t, pathHead+"time 2026-01-01T00:00:00Z\n"+strings.Join(acks([]int{0, 1, 2, 3, 4}), "\n")+"\n",
		pathHead+"time 2026-01-01T00:00:00.000001Z\n"+strings.Join(acks([]int{2, 0, 1, 3, 4}), "\n")+"\n")
	if got := codesOf(pa, c, PathTTL, PathClockOffset, PathReordered); len(got) > 0 {
		t.Errorf("duplicate ACKs reordered: findings %v, want none (no window changed)", got)
	}
}

// The server's capture (near the receiver of the client's data, and the
// sender of the ACKs) missed a run of packets, as a busy host's tcpdump
// does: its data is path.uncaptured (its receiver acknowledged it), and
// its own ACKs in the same gap were "injected between them", a warning.
// They are uncaptured too; a RST in the gap stays injected. A
// retransmission whose original reached that capture (and was lost on the
// host after it) was "dropped", an error, though the receiver took it.
func TestPathCaptureGapNotInjected(t *testing.T) {
	lines := longConn()
	client := pathHead + "time 2026-01-01T00:00:00Z\n" + strings.Join(lines, "\n") + "\n"
	// The server's capture (the later point for the client's data) lost
	// requests 5 and 6 (lines 11, 13) and its own answers to them (12,
	// 14), the server's capture clock 1 ms later.
	gap := slices.Clone(lines)
	for _, k := range []int{14, 13, 12, 11} {
		gap = without(gap, k)
	}
	pa, c := pathCase(t, client, pathHead+"time 2026-01-01T00:00:00.001Z\n"+strings.Join(gap, "\n")+"\n")
	got := codesOf(pa, c, PathTTL, PathClockOffset)
	if want := []string{"near:path.uncaptured@12", "near:path.uncaptured@13", "near:path.uncaptured@14", "near:path.uncaptured@15"}; !slices.Equal(got, want) {
		t.Fatalf("findings %v, want %v", got, want)
	}
	fi := pathFindings(pa, c.Flows[0], PathUncaptured)
	if !strings.Contains(fi[1].Message, "data segment (10 bytes) (frame 13 at near) is not in far's capture, which missed 2 packets of this connection around then that their receiver acknowledged there (the nearest, frame 12 at near)") {
		t.Errorf("the server's answer: %q", fi[1].Message)
	}
	// A RST from the server at near only, in the gap: what a middlebox
	// forges, still injected.
	withRST := slices.Insert(slices.Clone(lines), 12, "+0.001 S>C R seq=5061")
	withRST[13] = strings.Replace(withRST[13], "+0.02", "+0.019", 1)
	pa, c = pathCase(t, pathHead+"time 2026-01-01T00:00:00Z\n"+strings.Join(withRST, "\n")+"\n", pathHead+"time 2026-01-01T00:00:00.001Z\n"+strings.Join(gap, "\n")+"\n")
	if got := codesOf(pa, c, PathTTL, PathClockOffset, PathUncaptured); !slices.Equal(got, []string{"near:path.injected@13"}) {
		t.Errorf("a RST in the gap: findings %v, want near:path.injected@13", got)
	}
	// Request 5 sent twice; far has its first copy (lost on the server's
	// host after the capture), not the second, which the server took
	// (its answer acknowledges it). With request 6 and its answer missing
	// from far's capture too, the second copy is uncaptured; with no
	// other gap, it was dropped on the way.
	twice := slices.Insert(slices.Clone(lines), 12, strings.Replace(lines[11], "+0.25", "+0.2", 1))
	twice[13] = strings.Replace(twice[13], "+0.02", "+0.0003", 1)
	farTwice := without(slices.Clone(twice), 12)
	pa, c = pathCase(t, pathHead+"time 2026-01-01T00:00:00Z\n"+strings.Join(twice, "\n")+"\n",
		pathHead+"time 2026-01-01T00:00:00.001Z\n"+strings.Join(without(without(farTwice, 14), 13), "\n")+"\n")
	got = codesOf(pa, c, PathTTL, PathClockOffset)
	if want := []string{"near:path.uncaptured@13", "near:path.uncaptured@15", "near:path.uncaptured@16"}; !slices.Equal(got, want) {
		t.Errorf("second copy amid a gap: findings %v, want %v", got, want)
	} else if fi := pathFindings(pa, c.Flows[0], PathUncaptured)[0]; !strings.Contains(fi.Message, "an earlier copy having reached that point (frame 12 at far)") {
		t.Errorf("second copy amid a gap: %q", fi.Message)
	}
	pa, c = pathCase(t, pathHead+"time 2026-01-01T00:00:00Z\n"+strings.Join(twice, "\n")+"\n",
		pathHead+"time 2026-01-01T00:00:00.001Z\n"+strings.Join(farTwice, "\n")+"\n")
	if got := codesOf(pa, c, PathTTL, PathClockOffset); !slices.Equal(got, []string{"near:path.dropped@13"}) {
		t.Errorf("second copy, no gap: findings %v, want near:path.dropped@13", got)
	}
}

// A first point that shares no connection with the others (a client's
// tcpdump that caught nothing, or the wrong file): the clocks were
// chained from it, so every later offset was unknown, and no drop between
// the later points was said. The later points are compared as without
// it, and the lone point is said once.
func TestPathLoneFirstPoint(t *testing.T) {
	lines := longConn()
	near := pathHead + "time 2026-01-01T00:00:00Z\n" + strings.Join(lines, "\n") + "\n"
	far := pathHead + "time 2026-01-01T00:00:00.001Z\n" + strings.Join(without(lines, 7), "\n") + "\n"
	other := strings.Replace(pathHead, "10.0.0.5:40010", "10.9.9.9:50000", 1) + "time 2026-01-01T00:00:00Z\n" +
		strings.Join(serverShifted(shifted(lines[:5], 777777), 555555), "\n") + "\n"
	for _, tc := range []struct {
		name, first string
		flows       int
	}{
		{"empty", "format pcap\nlink ethernet\n", 0},
		{"unrelated", other, 1},
	} {
		pa := Correlate([]Point{pointOf(t, "client", fixture.Build(tc.first)), pointOf(t, "near", fixture.Build(near)), pointOf(t, "far", fixture.Build(far))})
		var c *Connection
		for _, x := range pa.Conns {
			if x.Flows[1] != nil && x.Flows[2] != nil {
				c = x
			}
		}
		if c == nil {
			t.Fatalf("%s: near and far not joined", tc.name)
		}
		// The request missing at far, its answer acknowledging it there:
		// far's capture missed it (said only with the clocks known).
		if got, want := codesOf(pa, c, PathTTL, PathClockOffset), []string{"near:path.uncaptured@8"}; !slices.Equal(got, want) {
			t.Errorf("%s: findings %v, want %v", tc.name, got, want)
		}
		if want := []LonePoint{{Point: 0, Flows: tc.flows}}; !slices.Equal(pa.Lone, want) {
			t.Errorf("%s: Lone %+v, want %+v", tc.name, pa.Lone, want)
		}
		if !math.IsNaN(pa.Offset[2]) {
			t.Errorf("%s: far's offset against client %v, want unknown", tc.name, pa.Offset[2])
		}
		if ref, off, ok := pa.ClockAgainst(2); !ok || ref != 1 || math.Abs(off-0.001) > 0.0005 {
			t.Errorf("%s: far's clock against %d: %v %v, want near, 0.001", tc.name, ref, off, ok)
		}
	}
	if got := (&Path{Points: []string{"x/client"}}).LonePointText(LonePoint{Point: 0, Flows: 3}); got != "client shares no connection with the other points: its capture holds 3 TCP flows, none of them seen at another point (the wrong file, interface or capture filter?); the other points are compared without it" {
		t.Errorf("text %q", got)
	}
}

// The seed's fault behind an ASA (NAT, the client's ISN randomised), seen
// at the client and outside the firewall: the SYN-ACK grew by 2 bytes on
// the way to the client, whose ACK (ISN+3) the firewall dropped. Too few
// segments in common for the shape join: two connections, each "seen at
// one point only". The server's ISN, the same at both points, joins them.
func TestPathSeedBehindASA(t *testing.T) {
	seed := func(pad string) []string {
		return []string{
			"+0      C>S S  seq=1000 mss=1460",
			"+0.020  S>C SA seq=5000 ack=1001 mss=1460" + pad,
			"+0.0002 C>S A  seq=1001 ack=5003",
			"+0.001  C>S PA seq=1001 ack=5003 len=200",
			"+1      S>C SA seq=5000 ack=1001 mss=1460" + pad,
			"+0.0002 C>S A  seq=1201 ack=5003",
			"+2      S>C RA seq=5001 ack=1001",
		}
	}
	client := pathHead + "time 2026-01-01T00:00:00Z\n" + strings.Join(seed(" data=zero:2"), "\n") + "\n"
	outside := slices.DeleteFunc(seed(""), func(l string) bool { return strings.Contains(l, "C>S A") || strings.Contains(l, "C>S PA") })
	pa, c := pathCase(t, client, behindASALate(outside, 0, "2025-12-31T23:59:53.001Z"))
	got := codesOf(pa, c, PathTTL, PathClockOffset, PathNAT, PathISNRewritten)
	if want := []string{"near:path.dropped@3", "near:path.dropped@4", "near:path.dropped@6", "near:path.payload_added@2", "near:path.payload_added@5"}; !slices.Equal(got, want) {
		t.Errorf("findings %v, want %v", got, want)
	}
	// Two flows at the outside with that server ISN (the capture holds
	// the connection twice): neither is joined.
	other := strings.Replace(behindASALate(outside, 0, "2025-12-31T23:59:53.002Z"), "198.51.100.7:1142", "198.51.100.8:2242", 1)
	pa = Correlate([]Point{pointOf(t, "near", fixture.Build(client)), pointOf(t, "far", twoConns(behindASALate(outside, 0, "2025-12-31T23:59:53.001Z"), other))})
	if len(pa.Conns) != 3 {
		t.Errorf("twice at far: %d connections, want 3 (none joined)", len(pa.Conns))
	}
}

// The same capture given twice under two names reads as a perfect path
// (every packet passed unchanged), hiding every fault between the real
// points: said once for the path. Two real points, a microsecond apart,
// are not.
func TestPathSamePackets(t *testing.T) {
	near := pathHead + "time 2026-01-01T00:00:00Z\n" + strings.Join(longConn(), "\n") + "\n"
	pa, _ := pathCase(t, near, near)
	if want := []SamePackets{{Up: 0, Down: 1, Packets: 27}}; !slices.Equal(pa.Same, want) {
		t.Fatalf("Same %+v, want %+v", pa.Same, want)
	}
	if w := pa.Warnings(unicodeGlyphs); len(w) != 1 || !strings.HasPrefix(w[0], "far holds the same packets as near (27, each at the same time with the same TTL and length, none at one of them only): the same capture given twice?") {
		t.Errorf("warnings %q", w)
	}
	if w := pa.WarningsShort(); !slices.Equal(w, []string{"far = near?"}) {
		t.Errorf("short %q", w)
	}
	// Its copy with every time moved by 7 s (editcap -t): the same.
	pa, _ = pathCase(t, near, strings.Replace(near, "00:00:00Z", "00:00:07Z", 1))
	if len(pa.Same) != 1 {
		t.Errorf("moved by 7 s: Same %+v, want one", pa.Same)
	}
	// Two real points: the delays between them vary.
	lines := longConn()
	lines[5] = strings.Replace(lines[5], "+0.25", "+0.25003", 1)
	lines[6] = strings.Replace(lines[6], "+0.02", "+0.01997", 1)
	pa, _ = pathCase(t, near, pathHead+"time 2026-01-01T00:00:00.000001Z\n"+strings.Join(lines, "\n")+"\n")
	if len(pa.Same) > 0 || len(pa.Warnings(unicodeGlyphs)) > 0 {
		t.Errorf("two points: Same %+v", pa.Same)
	}
}

// The seed's fault behind an ASA where the inside capture holds the
// client's direction only (a one-way SPAN): the inside knows the server's
// ISN only from the client's ACK, which the grown SYN-ACK moved by 2, so
// no join found the connection, and its SYN was "dropped" though the
// outside held it. The client's first ACK, 2 past the outside's server
// ISN+1, joins them; the ACK and the data are the drops. (With a single
// connection the inside is not known to be one-way: that takes
// oneWayPointMin.)
func TestPathSeedOneWayInside(t *testing.T) {
	seed := []string{
		"+0      C>S S  seq=1000 mss=1460",
		"+0.020  S>C SA seq=5000 ack=1001 mss=1460",
		"+0.0002 C>S A  seq=1001 ack=5003",
		"+0.001  C>S PA seq=1001 ack=5003 len=200",
		"+1      S>C SA seq=5000 ack=1001 mss=1460",
		"+2      S>C RA seq=5001 ack=1001",
	}
	inside := pathHead + "time 2026-01-01T00:00:00Z\n" + oneWay(seed, "C>S")
	outside := slices.DeleteFunc(slices.Clone(seed), func(l string) bool { return strings.Contains(l, "C>S A") || strings.Contains(l, "C>S PA") })
	pa, c := pathCase(t, inside, behindASALate(outside, 0, "2025-12-31T23:59:53.001Z"))
	got := codesOf(pa, c, PathTTL, PathClockOffset, PathNAT, PathISNRewritten)
	// The SYN-ACK, not in the inside's capture (its direction left out),
	// is acknowledged there by the client: the inside's capture holds the
	// client's direction of this connection only, the SYN-ACK not
	// dropped. (The second one and the RST came after that capture
	// ended.)
	if want := []string{"far:path.one_way@2", "near:path.dropped@2", "near:path.dropped@3"}; !slices.Equal(got, want) {
		t.Errorf("findings %v, want %v", got, want)
	}
	if fi := pathFindings(pa, c.Flows[1], PathOneWay); len(fi) != 1 || fi[0].Count != 1 || fi[0].RelatedPoint != 0 || fi[0].RelatedFrame != 2 {
		t.Errorf("one_way %+v", fi)
	}
}

// describedOneWay builds the described capture in file keeping the
// packets of one direction ("C>S" or "S>C") only, each at the time it had
// (the deltas of the packets left out added to the next one kept), as a
// capture filtered to that direction holds them.
func describedOneWay(t *testing.T, file, dir string) []byte {
	t.Helper()
	text, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	carry := 0.0
	for _, l := range strings.Split(string(text), "\n") {
		f := strings.Fields(l)
		if len(f) < 2 || !strings.HasPrefix(f[0], "+") {
			out = append(out, l)
			continue
		}
		d, err := strconv.ParseFloat(f[0][1:], 64)
		if err != nil {
			t.Fatalf("%s: %q: %v", file, l, err)
		}
		if f[1] != dir {
			carry += d
			continue
		}
		out = append(out, fmt.Sprintf("+%.7f %s", carry+d, strings.Join(f[1:], " ")))
		carry = 0
	}
	c, err := fixture.Parse(file, strings.Join(out, "\n"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The seed at its three points, the firewall's inside capture filtered
// to the client's direction (one connection: below oneWayPointMin). The
// server's two SYN-ACKs were "injected" between the inside and the
// client, though the client's ACKs at the inside acknowledge them (the
// inside's own flow says handshake.not_seen: sent, not captured). The
// inside holds the client's direction of this connection only: the
// SYN-ACKs are neither dropped nor injected there, they are compared
// between the outside and the client, where they grew, and the fault
// itself (the ACK of ISN+3 the firewall dropped) is still said between
// the inside and the outside.
func TestPathSeedOneWayInsideThreePoints(t *testing.T) {
	inside := describedOneWay(t, "../testdata/seed-inside.txt", "C>S")
	pa := Correlate([]Point{
		pointFile(t, "client", "../testdata/seed-client.pcap"),
		pointOf(t, "fw-inside", inside),
		pointFile(t, "fw-outside", "../testdata/seed-outside.pcap"),
	})
	if len(pa.Conns) != 1 || slices.Contains(pa.Conns[0].Present(), false) {
		t.Fatalf("%d connections, want 1 seen at every point", len(pa.Conns))
	}
	if len(pa.OneWay) != 0 {
		t.Fatalf("OneWay %+v: one connection is not the point's capture", pa.OneWay)
	}
	c := pa.Conns[0]
	if c.Flows[1].Handshake.HaveSynAck || !pa.LeftOut(c, 1, FromServer) || pa.LeftOut(c, 1, FromClient) || pa.LeftOut(c, 0, FromServer) {
		t.Fatalf("the inside's flow holds a SYN-ACK, or its server side is not left out")
	}
	got := codesOf(pa, c, PathTTL, PathClockOffset, PathNAT)
	want := []string{
		"client:path.one_way@2",
		"client:path.payload_added@12", "client:path.payload_added@2", "client:path.payload_added@8",
		// The ACK (frame 2 at the inside), the ClientHello and its
		// retransmissions, the second ACK.
		"fw-inside:path.dropped@2", "fw-inside:path.dropped@3", "fw-inside:path.dropped@4", "fw-inside:path.dropped@5",
		"fw-inside:path.dropped@6", "fw-inside:path.dropped@7", "fw-inside:path.dropped@8", "fw-inside:path.dropped@9",
	}
	if !slices.Equal(got, want) {
		t.Errorf("findings %v, want %v", got, want)
	}
	for _, fi := range pathFindings(pa, c.Flows[0], PathPayloadAdded)[:2] {
		if fi.RelatedPoint != 2 || fi.Bytes != 2 || !strings.HasPrefix(fi.Message, "SYN-ACK grew by 2 bytes between fw-outside and client") {
			t.Errorf("payload_added %+v", fi)
		}
	}
	dropped := pathFindings(pa, c.Flows[1], PathDropped)
	if !strings.HasPrefix(dropped[0].Message, "ACK (frame 2 at fw-inside) never reached fw-outside") {
		t.Errorf("dropped %+v", dropped[0])
	}
	// Both SYN-ACKs (the RST came after the inside's capture ended); the
	// client's first ACK at the inside acknowledges them.
	ow := pathFindings(pa, c.Flows[0], PathOneWay)[0]
	if ow.Count != 2 || ow.RelatedPoint != 1 || ow.RelatedFrame != 2 ||
		!strings.HasPrefix(ow.Message, "none of the server's 2 packets seen at client while fw-inside's capture ran (from frame 2) is in fw-inside's capture, though the client acknowledged them there (frame 2 at fw-inside)") {
		t.Errorf("one_way %+v", ow)
	}
	// The ladder has each SYN-ACK on one row, from the outside to the
	// client.
	for _, r := range pa.Ladder(c) {
		if r.Side == FromServer && (r.Refs[0] < 0 || r.Refs[1] >= 0 || r.Refs[2] < 0) {
			t.Errorf("ladder row %+v: a server segment not on one row from fw-outside to client", r.Refs)
		}
	}
}

// withIDs gives each line the IP ID first+k (its k-th), as a sender that
// numbers each datagram does; keep leaves out the lines of those indexes
// (dropped before the point), their time added to the next line's.
func withIDs(lines []string, first int, drop ...int) string {
	var out []string
	for k, l := range lines {
		out = append(out, fmt.Sprintf("%s id=%d", l, first+k))
	}
	for _, k := range slices.Backward(drop) {
		out = without(out, k)
		// To the nanosecond: the sum's float tail is more digits than
		// a fixture's time takes.
		f := strings.Fields(out[k])
		var d float64
		fmt.Sscanf(f[0], "+%g", &d)
		f[0] = "+" + strconv.FormatFloat(math.Round(d*1e9)/1e9, 'f', -1, 64)
		out[k] = strings.Join(f, " ")
	}
	return strings.Join(out, "\n") + "\n"
}

// The client sends its handshake ACK twice, 8 µs apart, each with its
// own IP ID, and a firewall drops the first: the far point has the
// second, its IP ID kept. Time cannot tell the copies apart, and the one
// that got through was named dropped; the IP ID can. Where a middlebox
// rewrote the IDs (none of the segments seen once at each point keeps
// its own) an equal ID is chance and time decides.
func TestPathCopiesPairedByIPID(t *testing.T) {
	lines := slices.Insert(longConn()[:7], 3, "+0.000008 C>S A seq=1001 ack=5001")
	near := pathHead + "time 2026-01-01T00:00:00Z\n" + withIDs(lines, 100)
	far := pathHead + "time 2026-01-01T00:00:00.0003Z\n" + withIDs(lines, 100, 2)
	pa, c := pathCase(t, near, far)
	got := codesOf(pa, c, PathTTL, PathClockOffset)
	if want := []string{"near:path.dropped@3"}; !slices.Equal(got, want) {
		t.Errorf("IP IDs kept: findings %v, want %v (the first ACK, IP ID 102, was dropped)", got, want)
	}
	// The same ACK sent again 0.2 s later, the first dropped, and the IDs
	// renumbered at far one lower: the one that passed is 103 at near and
	// 102 at far, the dropped one's ID at near. Time pairs them.
	lines[3] = "+0.2 C>S A seq=1001 ack=5001"
	near = pathHead + "time 2026-01-01T00:00:00Z\n" + withIDs(lines, 100)
	far = pathHead + "time 2026-01-01T00:00:00.0003Z\n" + withIDs(lines, 99, 2)
	pa, c = pathCase(t, near, far)
	got = codesOf(pa, c, PathTTL, PathClockOffset)
	if want := []string{"near:path.dropped@3"}; !slices.Equal(got, want) {
		t.Errorf("IP IDs rewritten: findings %v, want %v (time says the first was dropped)", got, want)
	}
}

// withCopies is lines, each with its IP ID (100 on), and a copy of each
// of the lines of those indexes 5 µs after it, as a device that
// duplicates packets sends it on (the same datagram: the same IP ID).
func withCopies(lines []string, copies ...int) string {
	var out []string
	for k, l := range lines {
		l = fmt.Sprintf("%s id=%d", l, 100+k)
		out = append(out, l)
		if slices.Contains(copies, k) {
			out = append(out, strings.Join(append([]string{"+0.000005"}, strings.Fields(l)[1:]...), " "))
		}
	}
	return strings.Join(out, "\n") + "\n"
}

// Three points; a device between near and mid duplicates the client's
// second request (mid and far see it twice), and the server's second
// answer (mid and near see it twice). Each point's own analysis takes the
// second copy for one packet captured twice (the same IP ID, 5 µs later),
// and the path took it so too and said nothing: 47 of 54 duplications on
// a real path went unsaid. The point before has one copy, the points
// after two: duplicated between near and mid. The flows past the device
// say the copy was made on the way, not captured twice.
func TestPathDuplicatedOnTheWay(t *testing.T) {
	lines := longConn()[:9]
	head := func(at string) string { return pathHead + "time 2026-01-01T00:00:00." + at + "Z\n" }
	pa := Correlate([]Point{
		pointOf(t, "near", fixture.Build(head("0000")+withCopies(lines, 6))),
		pointOf(t, "mid", fixture.Build(head("0001")+withCopies(lines, 5, 6))),
		pointOf(t, "far", fixture.Build(head("0002")+withCopies(lines, 5))),
	})
	if len(pa.Conns) != 1 {
		t.Fatalf("%d connections, want 1", len(pa.Conns))
	}
	c := pa.Conns[0]
	for i, f := range c.Flows {
		if copies := slices.IndexFunc(f.Findings, Finding.IsCopy); i != 0 && copies < 0 {
			t.Fatalf("%s's flow shows no copy: the case tests nothing", pa.Points[i])
		}
	}
	got := codesOf(pa, c, PathTTL, PathClockOffset)
	if want := []string{"mid:path.duplicated@7", "mid:path.duplicated@9"}; !slices.Equal(got, want) {
		t.Fatalf("findings %v, want %v", got, want)
	}
	for _, fi := range pathFindings(pa, c.Flows[1], PathDuplicated) {
		if fi.RelatedPoint == 1 || fi.RelatedFrame == 0 {
			t.Errorf("duplicated %+v: want the frame at the point before", fi)
		}
	}
	// The far point's copy of the request, the server's own capture in a
	// real path (it D-SACKs the request it got twice): not "captured at
	// two points".
	far := c.Flows[2]
	k := slices.IndexFunc(far.Findings, Finding.IsCopy)
	msg := pa.FlowMessage(far, far.Findings[k])
	if strings.Contains(msg, "captured at two points") || !strings.Contains(msg, "a device duplicated between near and mid") {
		t.Errorf("far's copy: %q", msg)
	}
	if got := far.Message(far.Findings[k]); !strings.Contains(got, "captured at two points") {
		t.Errorf("the flow alone: %q", got)
	}
	// Two points, the device between them: the far point, the last on
	// the request's way, has the copy of it and nothing of its own twice.
	pa2, c2 := pathCase(t, head("0000")+withCopies(lines), head("0002")+withCopies(lines, 5))
	if got, want := codesOf(pa2, c2, PathTTL, PathClockOffset), []string{"far:path.duplicated@7"}; !slices.Equal(got, want) {
		t.Errorf("two points: findings %v, want %v", got, want)
	}
}

// The middle one of three points captures each packet twice (-i any on a
// router: both directions, every packet), the points either side once:
// one packet each, nothing duplicated on the way.
func TestPathMiddlePointSeesEachPacketTwice(t *testing.T) {
	lines := longConn()[:9]
	head := func(at string) string { return pathHead + "time 2026-01-01T00:00:00." + at + "Z\n" }
	all := []int{0, 1, 2, 3, 4, 5, 6, 7, 8}
	pa := Correlate([]Point{
		pointOf(t, "near", fixture.Build(head("0000")+withCopies(lines))),
		pointOf(t, "mid", fixture.Build(head("0001")+withCopies(lines, all...))),
		pointOf(t, "far", fixture.Build(head("0002")+withCopies(lines))),
	})
	if len(pa.Conns) != 1 || !slices.ContainsFunc(pa.Conns[0].Flows[1].Findings, Finding.IsCopy) {
		t.Fatalf("%d connections, or mid shows no copy: the case tests nothing", len(pa.Conns))
	}
	if got := codesOf(pa, pa.Conns[0], PathTTL, PathClockOffset); len(got) > 0 {
		t.Errorf("findings %v, want none", got)
	}
}

// ttlAt gives the lines of one direction ("C>S" or "S>C") the TTL ttl,
// and line k (if >= 0) the TTL odd.
func ttlAt(lines []string, dir string, ttl, k, odd int) []string {
	out := slices.Clone(lines)
	for i, l := range out {
		if strings.Fields(l)[1] != dir {
			continue
		}
		t := ttl
		if i == k {
			t = odd
		}
		out[i] = fmt.Sprintf("%s ttl=%d", l, t)
	}
	return out
}

// A device between the points answers the handshake for the server (a
// SYN proxy) or forges its SYN-ACK: the server's packets lose a hop from
// far to near, its SYN-ACK gains 140. The side's median loss was all the
// path said, and a SYN-ACK from another TTL went unsaid. The TTLs of the
// two hosts differing (64 and 60), and a hop lost on the way, are not
// odd.
func TestPathTTLOddPacket(t *testing.T) {
	lines := longConn()[:9]
	farLines := ttlAt(ttlAt(lines, "C>S", 63, -1, 0), "S>C", 60, -1, 0)
	nearLines := ttlAt(ttlAt(lines, "C>S", 64, -1, 0), "S>C", 59, 1, 200)
	pa, c := pathCase(t, pathHead+"time 2026-01-01T00:00:00Z\n"+strings.Join(nearLines, "\n")+"\n",
		pathHead+"time 2026-01-01T00:00:00.0003Z\n"+strings.Join(farLines, "\n")+"\n")
	var odd []PathFinding
	for _, f := range c.Flows {
		for _, fi := range pathFindings(pa, f, PathTTL) {
			if fi.Count > 0 {
				odd = append(odd, fi)
			}
		}
	}
	if len(odd) != 1 || odd[0].Point != 0 || odd[0].OtherFrame != 2 || odd[0].RelatedFrame != 2 || odd[0].Hops != 1 {
		t.Fatalf("odd TTL findings %+v, want one at near, frame 2, the side losing 1 hop", odd)
	}
	want := "the server's packets lose 1 hop of TTL between far and near; but its SYN-ACK (frame 2 at near) has TTL 200 there and had 60 at far (gained 140): a device between them sent or rewrote it in the server's name (a SYN proxy"
	if !strings.HasPrefix(odd[0].Message, want) {
		t.Errorf("message %q, want it to start %q", odd[0].Message, want)
	}
	// The same without the odd SYN-ACK: only the side's loss.
	nearLines = ttlAt(ttlAt(lines, "C>S", 64, -1, 0), "S>C", 59, -1, 0)
	pa, c = pathCase(t, pathHead+"time 2026-01-01T00:00:00Z\n"+strings.Join(nearLines, "\n")+"\n",
		pathHead+"time 2026-01-01T00:00:00.0003Z\n"+strings.Join(farLines, "\n")+"\n")
	for _, f := range c.Flows {
		for _, fi := range pathFindings(pa, f, PathTTL) {
			if fi.Count > 0 || fi.Hops != 1 {
				t.Errorf("ordinary TTLs: %+v, want each side losing 1 hop, nothing odd", fi)
			}
		}
	}
}
