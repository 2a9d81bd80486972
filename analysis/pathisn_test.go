package analysis

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/synscope/synscope/capture/fixture"
)

// A server under SYN load (SYN cookies) answers a retried SYN with a
// SYN-ACK of a new ISN; a firewall between two points dropped one of the
// two. Each point's first SYN-ACK read as an ISN rewritten between them,
// every later segment of the server as dropped at one point and injected
// at the other, and the SYN-ACK that got through as the one dropped
// (review realpath2 s3cookie, s3v6).

// cookieConn is such a connection as the point nearest the server saw
// it: the first SYN-ACK (ISN 5000, line 1) went unanswered, the client
// sent its SYN again a second later, and the server, which had kept no
// state, answered it with ISN 90000 (line 3); the client acknowledged
// that one, and 4 requests and answers follow.
func cookieConn() []string {
	lines := []string{
		"+0      C>S S  seq=1000 mss=1460",
		"+0.0001 S>C SA seq=5000 ack=1001 mss=1460",
		"+1      C>S S  seq=1000 mss=1460",
		"+0.0001 S>C SA seq=90000 ack=1001 mss=1460",
		"+0.0002 C>S A  seq=1001 ack=90001",
	}
	for i := range 4 {
		c, s := 1001+48*i, 90001+10*i
		lines = append(lines,
			fmt.Sprintf("+0.25 C>S PA seq=%d ack=%d len=48", c, s),
			fmt.Sprintf("+0.02 S>C PA seq=%d ack=%d len=10", s, c+48))
	}
	return lines
}

// isnHead is pathHead with the capture's start, a fraction of a second
// after midnight.
func isnHead(at string) string { return pathHead + "time 2026-01-01T00:00:00." + at + "Z\n" }

// The first SYN-ACK dropped between two points: it is the drop, at the
// point nearest the server; the second, seen at both, is one packet; no
// ISN was rewritten, and the rest of the connection is clean.
func TestPathNewISNFirstSynAckDropped(t *testing.T) {
	lines := cookieConn()
	pa, c := pathCase(t, isnHead("0000")+withIDs(lines, 100, 1), isnHead("0003")+withIDs(lines, 100))
	far := c.Flows[1]
	if !far.Has(CodeReusedPorts) || far.Handshake.ServerISN != 5000 {
		t.Fatalf("far's flow: no SYN-ACK with a new ISN, or its first ISN %d: the case tests nothing", far.Handshake.ServerISN)
	}
	got := codesOf(pa, c, PathTTL, PathClockOffset)
	if want := []string{"far:path.dropped@2"}; !slices.Equal(got, want) {
		t.Fatalf("findings %v, want %v (the SYN-ACK of ISN 5000, frame 2 at far)", got, want)
	}
	if msg := pathFindings(pa, far, PathDropped)[0].Message; !strings.Contains(msg, "SYN-ACK (frame 2 at far) never reached near") {
		t.Errorf("dropped: %q", msg)
	}
	// The SYN-ACK that got through is one packet at both points, on one
	// row of the ladder.
	rows := pa.Ladder(c)
	if k := slices.IndexFunc(rows, func(r LadderRow) bool { return r.Refs[1] == 3 }); k < 0 || rows[k].Refs[0] != 2 {
		t.Errorf("far's frame 4 (ISN 90000) is not on near's frame 3's row: %+v", rows)
	}
	if k := slices.IndexFunc(rows, func(r LadderRow) bool { return r.Refs[1] == 1 }); k < 0 || rows[k].Refs[0] != -1 {
		t.Errorf("far's frame 2 (ISN 5000) is on a row with near's: %+v", rows)
	}
	// Given the other way round (near and far swapped in the list, the
	// server's side first) the pair still counts from ISN 90000.
	a, b := far, c.Flows[0]
	if ia, ib, ok := pairISNs(a, b, FromServer); !ok || ia != 90000 || ib != 90000 {
		t.Errorf("pairISNs(far, near) = %d, %d, %v; want 90000 at both", ia, ib, ok)
	}
}

// Three points, the first SYN-ACK dropped between mid and far, then
// between near and mid: named at the pair that lost it, and the pair
// that both saw both SYN-ACKs (mid and far) counts from the one the
// client acknowledged.
func TestPathNewISNThreePoints(t *testing.T) {
	lines := cookieConn()
	for _, tc := range []struct {
		name  string
		drops [3][]int
		want  []string
	}{
		{"dropped between mid and far", [3][]int{{1}, {1}, nil}, []string{"far:path.dropped@2"}},
		{"dropped between near and mid", [3][]int{{1}, nil, nil}, []string{"mid:path.dropped@2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pa := Correlate([]Point{
				pointOf(t, "near", fixture.Build(isnHead("0000")+withIDs(lines, 100, tc.drops[0]...))),
				pointOf(t, "mid", fixture.Build(isnHead("0001")+withIDs(lines, 100, tc.drops[1]...))),
				pointOf(t, "far", fixture.Build(isnHead("0002")+withIDs(lines, 100, tc.drops[2]...))),
			})
			if len(pa.Conns) != 1 {
				t.Fatalf("%d connections, want 1", len(pa.Conns))
			}
			c := pa.Conns[0]
			if got := codesOf(pa, c, PathTTL, PathClockOffset); !slices.Equal(got, tc.want) {
				t.Errorf("findings %v, want %v", got, tc.want)
			}
		})
	}
}

// The second SYN-ACK is the one dropped: the first got through, the
// client acknowledged it, and the connection goes on in its numbers (a
// cookie is good for a while); the server's answer to the retried SYN,
// of a new ISN, never reached near. Both SYN-ACKs are at far: the one
// the client acknowledged is what both count from.
func TestPathNewISNSecondSynAckDropped(t *testing.T) {
	lines := []string{
		"+0      C>S S  seq=1000 mss=1460",
		"+1      C>S S  seq=1000 mss=1460",
		"+0.0001 S>C SA seq=5000 ack=1001 mss=1460", // the first SYN's, late
		"+0.0001 S>C SA seq=90000 ack=1001 mss=1460",
		"+0.0002 C>S A  seq=1001 ack=5001",
	}
	for i := range 4 {
		c, s := 1001+48*i, 5001+10*i
		lines = append(lines,
			fmt.Sprintf("+0.25 C>S PA seq=%d ack=%d len=48", c, s),
			fmt.Sprintf("+0.02 S>C PA seq=%d ack=%d len=10", s, c+48))
	}
	pa, c := pathCase(t, isnHead("0000")+withIDs(lines, 100, 3), isnHead("0003")+withIDs(lines, 100))
	if !c.Flows[1].Has(CodeReusedPorts) {
		t.Fatal("far's flow has no SYN-ACK with a new ISN: the case tests nothing")
	}
	got := codesOf(pa, c, PathTTL, PathClockOffset)
	if want := []string{"far:path.dropped@4"}; !slices.Equal(got, want) {
		t.Errorf("findings %v, want %v (the SYN-ACK of ISN 90000, frame 4 at far)", got, want)
	}
}

// A middlebox between the points that rewrites the server's numbers by a
// constant is still named, with the ISNs the numbers count from: with the
// server's SYN-ACKs of two ISNs at far (the first dropped), none is the
// same at near, and the one the client acknowledged at each point is
// moved by the constant. And without a new ISN, as before.
func TestPathNewISNRewriteStillNamed(t *testing.T) {
	lines := cookieConn()
	near := isnHead("0000") + withIDs(numbersShifted(lines, 1000000, "S>C"), 100, 1)
	pa, c := pathCase(t, near, isnHead("0003")+withIDs(lines, 100))
	got := codesOf(pa, c, PathTTL, PathClockOffset)
	if want := []string{"far:path.dropped@2", "far:path.isn_rewritten@1"}; !slices.Equal(got, want) {
		t.Fatalf("findings %v, want %v", got, want)
	}
	rw := pathFindings(pa, c.Flows[1], PathISNRewritten)
	if want := "server ISN 1090000 at near is 90000 at far (-1000000)"; !strings.Contains(rw[0].Message, want) {
		t.Errorf("isn_rewritten %q, want it to say %q", rw[0].Message, want)
	}
	// A connection with one SYN-ACK, its server numbers rewritten.
	one := longConn()
	pa, c = pathCase(t, isnHead("0000")+withIDs(numbersShifted(one, 1000000, "S>C"), 100),
		isnHead("0003")+withIDs(one, 100))
	if got, want := codesOf(pa, c, PathTTL, PathClockOffset), []string{"far:path.isn_rewritten@1"}; !slices.Equal(got, want) {
		t.Errorf("one SYN-ACK: findings %v, want %v", got, want)
	}
	rw = pathFindings(pa, c.Flows[1], PathISNRewritten)
	if want := "server ISN 1005000 at near is 5000 at far (-1000000)"; len(rw) != 1 || !strings.Contains(rw[0].Message, want) {
		t.Errorf("one SYN-ACK: isn_rewritten %+v, want %q", rw, want)
	}
}

// A client that tried again with a new ISN from the same port: its first
// try is a flow of its own at each point that saw it (a new ISN is a new
// connection, as Wireshark takes it), the second joins by its ISNs, and
// nothing was rewritten. With the first SYN dropped between the points,
// the first try was seen at near only; with the server's answer to it
// dropped, the SYN-ACK is the drop.
func TestPathNewClientISN(t *testing.T) {
	lines := []string{
		"+0      C>S S  seq=1000 mss=1460",
		"+0.0001 S>C SA seq=3000 ack=1001 mss=1460",
		"+3      C>S S  seq=77000 mss=1460",
		"+0.0001 S>C SA seq=5000 ack=77001 mss=1460",
		"+0.0002 C>S A  seq=77001 ack=5001",
		"+0.25   C>S PA seq=77001 ack=5001 len=48",
		"+0.02   S>C PA seq=5001 ack=77049 len=10",
		"+0.0002 C>S A  seq=77049 ack=5011",
	}
	for _, tc := range []struct {
		name      string
		near, far []int // lines dropped before each point
		want      []string
	}{
		{"first SYN dropped", []int{1}, []int{0, 1}, []string{"near:path.unjoined@1"}},
		{"first SYN-ACK dropped", []int{1}, nil, []string{"far:path.dropped@2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pa := Correlate([]Point{
				pointOf(t, "near", fixture.Build(isnHead("0000")+withIDs(lines, 100, tc.near...))),
				pointOf(t, "far", fixture.Build(isnHead("0003")+withIDs(lines, 100, tc.far...))),
			})
			var all []string
			for _, c := range pa.Conns {
				all = append(all, codesOf(pa, c, PathTTL, PathClockOffset)...)
			}
			slices.Sort(all)
			if len(pa.Conns) != 2 || !slices.Equal(all, tc.want) {
				t.Errorf("%d connections, findings %v; want 2 and %v", len(pa.Conns), all, tc.want)
			}
		})
	}
}

// Behind an ASA (NAT, the client's ISN randomised) as well: no ISN pair
// is the same at both points, and the join by the server's ISN and the
// first segments' shape looked far's flow up by its first SYN-ACK's ISN,
// which near never saw: two connections, each "seen at one point only".
// Looked up by each of its ISNs, it joins; the client's ISN is named
// rewritten, the server's is not, and the first SYN-ACK is the drop.
func TestPathNewISNBehindASA(t *testing.T) {
	lines := cookieConn()
	near := isnHead("0000") + withIDs(lines, 100, 1)
	pa, c := pathCase(t, near, behindASA(lines))
	got := codesOf(pa, c, PathTTL, PathClockOffset, PathNAT)
	if want := []string{"far:path.dropped@2", "far:path.isn_rewritten@1"}; !slices.Equal(got, want) {
		t.Fatalf("findings %v, want %v", got, want)
	}
	msg := pathFindings(pa, c.Flows[1], PathISNRewritten)[0].Message
	if !strings.Contains(msg, "client ISN 1000 at near is 3001000 at far") || strings.Contains(msg, "server ISN") {
		t.Errorf("isn_rewritten %q: want the client's ISN only", msg)
	}
}
