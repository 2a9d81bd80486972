package analysis

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/synscope/synscope/capture/fixture"
)

// A point's capture that ends well before its neighbour's, nothing coming
// back through it after, while the neighbour's senders wait for an answer
// (review realpath2 s4b: a conntrack flush, outside's last packet 7.5 s
// before inside's). Its packets after that were not compared, and the
// connection read "the same segments … at every point that saw them".

// retried returns the request after longConn's 12th (client seq 1577, the
// server's 5121), sent at +0.25 s and again after 0.4, 0.8, 1.6 and 3.2 s
// with no answer: a sender's retransmission timer backing off.
func retried(dir string) []string {
	seq, ack, n := 1577, 5121, 48
	if dir == "S>C" {
		seq, ack, n = 5121, 1577, 10
	}
	var out []string
	for _, d := range []string{"+0.25", "+0.4", "+0.8", "+1.6", "+3.2"} {
		out = append(out, fmt.Sprintf("%s %s PA seq=%d ack=%d len=%d", d, dir, seq, ack, n))
	}
	return out
}

func endedCase(start string, lines []string) string {
	return pathHead + "time " + start + "\n" + strings.Join(lines, "\n") + "\n"
}

// The client's request is retransmitted at near for 6.25 s after far's
// last packet, never answered: far's capture stopped, or everything was
// dropped from then on. Said once for the path, and on the connection as
// 5 segments not compared; none called dropped.
func TestPathCaptureEndedDark(t *testing.T) {
	lines := longConn()
	pa, c := pathCase(t, endedCase("2026-01-01T00:00:00Z", append(slices.Clone(lines), retried("C>S")...)),
		endedCase("2026-01-01T00:00:00.001Z", lines))
	if len(pa.Ended) != 1 {
		t.Fatalf("Ended %+v, want far's capture", pa.Ended)
	}
	e := pa.Ended[0]
	if e.Point != 1 || e.Neighbour != 0 || e.Side != FromClient || e.Packets != 5 || e.Conns != 1 || math.Abs(e.Seconds-6.25) > 0.01 {
		t.Errorf("Ended %+v, want far after near, the client's side, 5 packets of 1 connection, 6.25 s", e)
	}
	if got := codesOf(pa, c, PathTTL, PathClockOffset); !slices.Equal(got, []string{"near:path.capture_ended@28"}) {
		t.Fatalf("findings %v, want near:path.capture_ended@28 (the first retry), nothing dropped", got)
	}
	fi := pathFindings(pa, c.Flows[0], PathCaptureEnded)[0]
	if fi.Count != 5 || fi.RelatedPoint != 1 || fi.RelatedFrame != 27 || fi.Code.Severity() != Warning {
		t.Errorf("finding %+v, want 5 segments, far's last frame 27, a warning", fi)
	}
	for _, want := range []string{"5 client segments from frame 28 at near on came after far's last packet (frame 27 of this connection there), the last 6.2 s later, and were not compared with it",
		"none of them was answered", "far's capture stopped, or they were dropped between near and far from then on"} {
		if !strings.Contains(fi.Message, want) {
			t.Errorf("message %q lacks %q", fi.Message, want)
		}
	}
	if st := pa.Status(c.Flows[0]); st != StatusWarning {
		t.Errorf("near's status %v, want warning", st)
	}
	w := pa.Warnings(unicodeGlyphs)
	if len(w) != 1 || !strings.HasPrefix(w[0], "far's last packet is 6.2 s before near's, and nothing came back through it after: 5 packets of 1 connection that near saw after it were not compared (far's capture stopped, or everything was dropped from then on") {
		t.Errorf("warnings %q", w)
	}
	if s := pa.WarningsShort(); !slices.Equal(s, []string{"far ends 6.2 s before near?"}) {
		t.Errorf("short warnings %q", s)
	}
	// The ladder's cells: each retry after far's capture ended, the
	// handshake while it ran.
	near := c.Flows[0]
	if before, after := pa.OutsideCapture(1, 0, near.Refs[28].Time); before || !after {
		t.Errorf("a retry at far: before %v after %v, want after", before, after)
	}
	if before, after := pa.OutsideCapture(1, 0, near.Refs[0].Time); before || after {
		t.Errorf("the SYN at far: before %v after %v, want neither", before, after)
	}
}

// The same, the other way: the client side's capture ended, the server
// retransmitting at far, none of its retries answered.
func TestPathCaptureEndedDarkServerSide(t *testing.T) {
	lines := longConn()
	pa, c := pathCase(t, endedCase("2026-01-01T00:00:00Z", lines),
		endedCase("2026-01-01T00:00:00.001Z", append(slices.Clone(lines), retried("S>C")...)))
	if len(pa.Ended) != 1 || pa.Ended[0].Point != 0 || pa.Ended[0].Neighbour != 1 || pa.Ended[0].Side != FromServer {
		t.Fatalf("Ended %+v, want near's capture, ended before far's on the server's way", pa.Ended)
	}
	if got := codesOf(pa, c, PathTTL, PathClockOffset); !slices.Equal(got, []string{"far:path.capture_ended@28"}) {
		t.Errorf("findings %v, want far:path.capture_ended@28", got)
	}
	if fi := pathFindings(pa, c.Flows[1], PathCaptureEnded); len(fi) == 1 && !strings.HasPrefix(fi[0].Message, "5 server segments from frame 28 at far on came after near's last packet") {
		t.Errorf("message %q", fi[0].Message)
	}
}

// What a capture stopped before its neighbour's looks like, and is not
// said: the traffic went on and its answers came back through the point
// uncaptured; or the senders were not left waiting (a RST, which nothing
// answers; a request the neighbour's capture stopped right after, its
// answer not yet due); or the last packets lie milliseconds apart.
func TestPathCaptureStoppedNotSaid(t *testing.T) {
	lines := longConn()
	more := slices.Clone(lines)
	for i := 12; i < 24; i++ {
		c, s := 1001+48*i, 5001+10*i
		more = append(more, fmt.Sprintf("+0.25 C>S PA seq=%d ack=%d len=48", c, s), fmt.Sprintf("+0.02 S>C PA seq=%d ack=%d len=10", s, c+48))
	}
	for name, near := range map[string][]string{
		// far stopped 3.2 s before near, 12 more requests answered.
		"answered": more,
		// A RST 2 s after far's last packet.
		"rst": append(slices.Clone(lines), "+2 C>S R seq=1577"),
		// A request 2 s after far's last packet, near's last packet.
		"last request": append(slices.Clone(lines), "+2 C>S PA seq=1577 ack=5121 len=48"),
		// The request retried within half a second: not a second.
		"half a second": append(slices.Clone(lines), retried("C>S")[:2]...),
	} {
		pa, c := pathCase(t, endedCase("2026-01-01T00:00:00Z", near), endedCase("2026-01-01T00:00:00.001Z", lines))
		if len(pa.Ended) != 0 || len(pa.Warnings(unicodeGlyphs)) != 0 {
			t.Errorf("%s: Ended %+v, warnings %q, want none", name, pa.Ended, pa.Warnings(unicodeGlyphs))
		}
		if got := codesOf(pa, c, PathTTL, PathClockOffset); len(got) > 0 {
			t.Errorf("%s: findings %v, want none", name, got)
		}
	}
}

// A point whose capture began after the connection's first packets: its
// cells before then are "before capture", not "not seen".
func TestPathOutsideCaptureBefore(t *testing.T) {
	lines := longConn()
	pa, c := pathCase(t, endedCase("2026-01-01T00:00:00Z", lines), pathHead+"time 2026-01-01T00:00:01.8912Z\n"+from(lines, 15))
	if before, after := pa.OutsideCapture(1, 0, c.Flows[0].Refs[0].Time); !before || after {
		t.Errorf("the SYN at far, whose capture began at the 7th request: before %v after %v, want before", before, after)
	}
	if before, after := pa.OutsideCapture(1, 0, c.Flows[0].Refs[20].Time); before || after {
		t.Errorf("the 9th request at far: before %v after %v, want neither", before, after)
	}
	if len(pa.Ended) != 0 {
		t.Errorf("Ended %+v, want none", pa.Ended)
	}
}

// Two connections: far's capture stopped 2 s before near's, one of them
// still answered through far after its last packet, the other's request
// retried unanswered. The path ran (the answers passed far uncaptured):
// far's capture stopped, and a drop of the retried request beyond it, or
// between, is not told by these captures; neither is said.
func TestPathCaptureStoppedPathRan(t *testing.T) {
	lines := longConn()
	// (A fixture's endpoints hold for all its lines: each connection's
	// packets are a file of their own, appended in time order.)
	other := strings.Replace(pathHead, ":40010", ":40011", 1)
	part := func(head, start, text string) []byte { return fixture.Build(head + "time " + start + "\n" + text)[24:] }
	shake := "+0 C>S S seq=7000 mss=1460\n+0.02 S>C SA seq=9000 ack=7001 mss=1460\n+0.0002 C>S A seq=7001 ack=9001\n"
	var more []string
	for i := 12; i < 16; i++ {
		c, s := 1001+48*i, 5001+10*i
		more = append(more, fmt.Sprintf("+0.25 C>S PA seq=%d ack=%d len=48", c, s), fmt.Sprintf("+0.02 S>C PA seq=%d ack=%d len=10", s, c+48))
	}
	more[0] = strings.Replace(more[0], "+0.25", "+0", 1)
	near := fixture.Build(endedCase("2026-01-01T00:00:00Z", lines))
	near = append(near, part(other, "2026-01-01T00:00:03.3Z", shake)...)
	near = append(near, part(pathHead, "2026-01-01T00:00:03.51Z", strings.Join(more, "\n")+"\n")...)
	near = append(near, part(other, "2026-01-01T00:00:04.4Z", "+0 C>S PA seq=7001 ack=9001 len=20\n+0.4 C>S PA seq=7001 ack=9001 len=20\n+0.8 C>S PA seq=7001 ack=9001 len=20\n")...)
	far := fixture.Build(endedCase("2026-01-01T00:00:00.001Z", lines))
	far = append(far, part(other, "2026-01-01T00:00:03.301Z", shake)...)
	pa := Correlate([]Point{pointOf(t, "near", near), pointOf(t, "far", far)})
	if len(pa.Conns) != 2 || pa.Conns[1].Flows[1] == nil {
		t.Fatalf("%d connections, want 2, both at both points", len(pa.Conns))
	}
	if len(pa.Ended) != 0 {
		t.Errorf("Ended %+v, want none: answers came back through far", pa.Ended)
	}
	for _, c := range pa.Conns {
		if got := codesOf(pa, c, PathTTL, PathClockOffset); len(got) > 0 {
			t.Errorf("connection %d: findings %v, want none", c.ID, got)
		}
	}
}
