package analysis

import (
	"fmt"
	"math"
	"strings"
)

// A packet is compared with the next point only while that point's capture
// ran (covers: between its first and last packet). A device that loses a
// connection's state (a conntrack flush, an HA failover without state
// sync, a rule pushed mid-connection) drops everything from then on, so
// the next point's last packet comes just before the failure and nothing
// after it is compared: the connection read "the same segments … at every
// point that saw them" (review realpath2 s4b: outside's last packet 7.5 s
// before inside's, the client's 7 retransmissions after it only "not
// seen"). A capture stopped early looks the same from its own packets;
// what tells them apart is the neighbour's: there the path went dark,
// nothing coming back through the point while senders kept waiting for an
// answer. That is said once for the path, and on each connection that was
// left waiting; nothing is called dropped for it.

// CaptureEnd is a point whose last packet comes well before its
// neighbour's on the way to it, nothing coming back through it after.
type CaptureEnd struct {
	// Point is the point whose capture ended first, Neighbour the one
	// before it on Side's way that kept capturing.
	Point, Neighbour int
	Side             Side
	// Seconds is from Point's last packet to Neighbour's last of the
	// connections both saw; Packets is how many of Side's packets of
	// those connections Neighbour saw after Point's last packet, Conns
	// how many connections they belong to.
	Seconds float64
	Packets int
	Conns   int
	// Passed is how many of those packets a point beyond Point on Side's
	// way captured (Beyond, the nearest that did; -1 when none did):
	// they passed Point, whose capture stopped, and nothing was dropped
	// there.
	Passed int
	Beyond int
}

// endedMin is how long after a point's last packet its neighbour must
// have kept seeing the connections both saw, unanswered, before the
// point is said to have ended early: a second, RFC 6298's initial
// retransmission timeout, so that a sender left without answer had time
// to retransmit, and far beyond the milliseconds that the last packets of
// captures stopped after the traffic ended lie apart (the four points of
// review realpath s1clean end within 8 µs). endedSlack is how long after
// that last packet an answer from beyond the point may still reach the
// neighbour (in flight when the capture ended; a firewall's two sides are
// microseconds apart), and how long a capture must have run past a
// segment for its answer to have had time to come.
const (
	endedMin   = int64(1e9)
	endedSlack = int64(200e6)
)

// lateRefs returns, of flow a at point up, the indexes in a.Refs of side
// s's segments after end (down's last packet in up's clock) that were not
// matched with one of b, the connection's flow at down (the clocks'
// offset is known to the path's delay: the client's last ACK, outside's
// last packet too, came 8 µs "after" it at inside in s4b), and how many of
// those were left waiting: segments that ask for an answer (data, SYN,
// FIN), which the other side never acknowledged at up, and which were
// sent again (their sender waited a timeout for that answer) or were
// followed by endedSlack of up's capture in which it did not come.
func (pa *Path) lateRefs(up, down int, a, b *Flow, s Side, end int64) (late []int, waiting int) {
	var matched map[int]bool
	answered, _ := answeredRefs(a, s)
	base, _, _ := sideBases(a)
	var sent int64 // the end of side s's data so far, relative
	for i, r := range a.Refs {
		if r.Bits&RefFragment != 0 || r.Side() != s {
			continue
		}
		rel := int64(int32(r.Seq - base[s]))
		segEnd := rel + int64(r.Len)
		if r.Flags&(FlagSYN|FlagFIN) != 0 {
			segEnd++
		}
		again := segEnd <= sent
		sent = max(sent, segEnd)
		if r.Time <= end {
			continue
		}
		if matched == nil {
			matched = pa.matchedAt(up, down, a, b)
		}
		if matched[i] {
			continue
		}
		late = append(late, i)
		asks := r.Len > 0 || r.Flags&(FlagSYN|FlagFIN) != 0
		if asks && r.Flags&FlagRST == 0 && !answered[i] && (again || pa.span[up][1]-r.Time >= endedSlack) {
			waiting++
		}
	}
	return late, waiting
}

// matchedAt returns the indexes in a.Refs (a the flow at point up, b the
// same connection's at down) of the segments matched with one at down.
func (pa *Path) matchedAt(up, down int, a, b *Flow) map[int]bool {
	out := map[int]bool{}
	if up < down {
		for _, p := range matchSegs(a, b, pa.pairOff(up, down), pa.shifts.of(a, b)).pairs {
			out[p.a] = true
		}
		return out
	}
	for _, p := range matchSegs(b, a, pa.pairOff(down, up), pa.shifts.of(b, a)).pairs {
		out[p.b] = true
	}
	return out
}

// endIn returns point down's last packet in point up's clock; false when
// the two clocks are not known against each other or down holds nothing.
func (pa *Path) endIn(up, down int) (int64, bool) {
	off := pa.pairOff(up, down)
	sd := pa.span[down]
	if math.IsNaN(off) || sd[0] > sd[1] {
		return 0, false
	}
	return sd[1] - int64(off*1e9), true
}

// endedPair reports whether connection c was seen at both up and down,
// compared there (not swapped, side s not left out at down): whose side s
// packets at up after down's last packet are said.
func (pa *Path) endedPair(c *Connection, up, down int, s Side) (a, b *Flow, ok bool) {
	a, b = c.Flows[up], c.Flows[down]
	if a == nil || b == nil || pa.swapped[a] == b || pa.swapped[b] == a || pa.leftOut(down, b, s) {
		return nil, nil, false
	}
	return a, b, true
}

// capturesEnded returns the points whose capture ended well before their
// neighbour's (CaptureEnd): after the point's last packet its neighbour
// on side s's way kept seeing side s's packets of the connections both
// saw for endedMin or more, some of them left waiting for an answer, and
// none of the other side's came back to it (past endedSlack). A capture
// stopped while the traffic went on gets the answers, which passed the
// point uncaptured: not said.
func (pa *Path) capturesEnded() []CaptureEnd {
	var out []CaptureEnd
	for i := 0; i+1 < len(pa.points); i++ {
		for _, s := range []Side{FromClient, FromServer} {
			up, down := i, i+1
			if s == FromServer {
				up, down = i+1, i
			}
			if e, ok := pa.captureEnded(up, down, s); ok {
				out = append(out, e)
			}
		}
	}
	return out
}

func (pa *Path) captureEnded(up, down int, s Side) (CaptureEnd, bool) {
	e := CaptureEnd{Point: down, Neighbour: up, Side: s, Beyond: -1}
	end, ok := pa.endIn(up, down)
	// Nothing comes back to a point whose capture leaves the other side
	// out: it cannot tell.
	if !ok || pa.lacks(down, s) || pa.lacks(up, 1-s) {
		return e, false
	}
	last, waiting := end, 0
	for _, c := range pa.Conns {
		a, b, ok := pa.endedPair(c, up, down, s)
		if !ok || pa.leftOut(up, a, 1-s) {
			continue
		}
		for _, r := range a.Refs {
			if r.Bits&RefFragment == 0 && r.Side() != s && r.Time > end+endedSlack {
				// An answer came back through the point after its last
				// packet: its capture stopped, the path ran.
				return e, false
			}
		}
		late, w := pa.lateRefs(up, down, a, b, s, end)
		if len(late) == 0 {
			continue
		}
		e.Packets += len(late)
		e.Conns++
		waiting += w
		if q, n := pa.passedBeyond(c, up, down, s, a, late); n > 0 {
			e.Passed += n
			if e.Beyond < 0 || abs(q-down) < abs(e.Beyond-down) {
				e.Beyond = q
			}
		}
		last = max(last, a.Refs[late[len(late)-1]].Time)
	}
	e.Seconds = float64(last-end) / 1e9
	return e, waiting > 0 && last-end >= endedMin
}

// passedBeyond returns how many of the late segments of flow a at point up
// (indexes in a.Refs, after point down's last packet) the nearest point
// beyond down on side s's way that saw connection c captured, and which
// point that is: a segment there passed down, whose capture had stopped;
// it was not dropped between up and down (review diff21: mid's capture
// stopped, far captured the client's 5 retransmissions, and mid was said
// to have stopped "or they were dropped between near and mid (state
// lost?)"). 0 when no point beyond saw the connection and captured side s.
func (pa *Path) passedBeyond(c *Connection, up, down int, s Side, a *Flow, late []int) (beyond, n int) {
	step := 1
	if s == FromServer {
		step = -1
	}
	q := down + step
	for q >= 0 && q < len(c.Flows) && c.Flows[q] == nil {
		q += step
	}
	if q < 0 || q >= len(c.Flows) {
		return -1, 0
	}
	g := c.Flows[q]
	if pa.swapped[a] == g || pa.swapped[g] == a || pa.leftOut(q, g, s) {
		return -1, 0
	}
	matched := pa.matchedAt(up, q, a, g)
	for _, i := range late {
		if matched[i] {
			n++
		}
	}
	return q, n
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// endedFindings says on each connection left waiting after a point's
// capture ended (Path.Ended) how many of its segments came after the
// point's last packet (path.capture_ended, on the neighbour's flow, at the
// first of them): not compared, neither passed nor dropped.
func (pa *Path) endedFindings() {
	for _, e := range pa.Ended {
		end, _ := pa.endIn(e.Neighbour, e.Point)
		for _, c := range pa.Conns {
			a, b, ok := pa.endedPair(c, e.Neighbour, e.Point, e.Side)
			if !ok {
				continue
			}
			late, waiting := pa.lateRefs(e.Neighbour, e.Point, a, b, e.Side, end)
			if waiting == 0 {
				continue
			}
			lastRef := a.Refs[late[len(late)-1]]
			pa.add(a, PathFinding{Code: PathCaptureEnded, Point: e.Neighbour, Frame: a.Refs[late[0]].Frame,
				RelatedPoint: e.Point, RelatedFrame: b.LastFrame, Count: len(late), Seconds: round6(float64(lastRef.Time-end) / 1e9)})
			sortFindings(pa.Findings[a])
		}
	}
}

// endedText says a path.capture_ended finding.
func endedText(w *pathWords, fi PathFinding, at, rel string) string {
	who := sideWord(fi.Point, fi.RelatedPoint)
	answered, beyond, passed := 0, -1, 0
	side := FromClient
	if fi.Point > fi.RelatedPoint {
		side = FromServer
	}
	if f, g := w.c.Flows[fi.Point], w.c.Flows[fi.RelatedPoint]; f != nil && g != nil {
		if end, ok := w.pa.endIn(fi.Point, fi.RelatedPoint); ok {
			late, _ := w.pa.lateRefs(fi.Point, fi.RelatedPoint, f, g, side, end)
			a, _ := answeredRefs(f, side)
			for _, i := range late {
				if a[i] {
					answered++
				}
			}
			beyond, passed = w.pa.passedBeyond(w.c, fi.Point, fi.RelatedPoint, side, f, late)
		}
	}
	tail := fmt.Sprintf("%s's capture stopped, or they were dropped between %s and %s from then on (state lost: a conntrack flush, a failover?)", rel, at, rel)
	if passed > 0 {
		// A point beyond captured them: they passed rel.
		tail = fmt.Sprintf("%s's capture stopped (%s, beyond it, captured %s)", rel, w.point(beyond), ofThem(passed, fi.Count))
	}
	if fi.Count == 1 {
		ans := "it was not answered"
		if answered > 0 {
			ans = "it was answered"
		}
		return fmt.Sprintf("a %s segment (frame %d at %s) came after %s's last packet (frame %d of this connection there), %s later, and was not compared with it; %s: %s",
			who, fi.Frame, at, rel, fi.RelatedFrame, secondsText(fi.Seconds), ans, strings.Replace(tail, "they were", "it was", 1))
	}
	ans := "none of them was answered"
	if answered > 0 {
		ans = fmt.Sprintf("%d of them were answered", answered)
	}
	return fmt.Sprintf("%d %s segments from frame %d at %s on came after %s's last packet (frame %d of this connection there), the last %s later, and were not compared with it; %s: %s",
		fi.Count, who, fi.Frame, at, rel, fi.RelatedFrame, secondsText(fi.Seconds), ans, tail)
}

// ofThem says how many of count segments: "them", "it", "3 of them".
func ofThem(n, count int) string {
	switch {
	case n == count && count == 1:
		return "it"
	case n == count:
		return "them"
	}
	return fmt.Sprintf("%d of them", n)
}

func wereWas(n int) string {
	if n == 1 {
		return "was"
	}
	return "were"
}

// secondsText says a span of seconds to a tenth (a thousandth under one).
func secondsText(s float64) string {
	if s < 1 {
		return fmt.Sprintf("%.3f s", s)
	}
	return fmt.Sprintf("%.1f s", s)
}

// CaptureEndText says a CaptureEnd in words, once for the path.
func (pa *Path) CaptureEndText(e CaptureEnd) string {
	if e.Passed > 0 {
		return fmt.Sprintf("%s's last packet is %s before %s's: %d packet%s of %d connection%s that %s saw after it %s not compared (%s's capture stopped: %s, beyond it, captured %s)",
			pa.pointName(e.Point), secondsText(e.Seconds), pa.pointName(e.Neighbour), e.Packets, plural(e.Packets), e.Conns, plural(e.Conns),
			pa.pointName(e.Neighbour), wereWas(e.Packets), pa.pointName(e.Point), pa.pointName(e.Beyond), ofThem(e.Passed, e.Packets))
	}
	return fmt.Sprintf("%s's last packet is %s before %s's, and nothing came back through it after: %d packet%s of %d connection%s that %s saw after it %s not compared (%s's capture stopped, or everything was dropped from then on: state lost in a conntrack flush or a failover?)",
		pa.pointName(e.Point), secondsText(e.Seconds), pa.pointName(e.Neighbour), e.Packets, plural(e.Packets), e.Conns, plural(e.Conns),
		pa.pointName(e.Neighbour), wereWas(e.Packets), pa.pointName(e.Point))
}

// CaptureEndShort says a CaptureEnd in a few words, for a title line.
func (pa *Path) CaptureEndShort(e CaptureEnd) string {
	if e.Passed > 0 {
		return fmt.Sprintf("%s's capture ends %s before %s's", pa.pointName(e.Point), secondsText(e.Seconds), pa.pointName(e.Neighbour))
	}
	return fmt.Sprintf("%s ends %s before %s?", pa.pointName(e.Point), secondsText(e.Seconds), pa.pointName(e.Neighbour))
}

// OutsideCapture reports whether a packet seen at point at, at capture
// time t, would have passed point to before its capture's first packet or
// after its last: not compared there, neither passed nor dropped. Both
// are false where the capture ran, or the clocks are not known.
func (pa *Path) OutsideCapture(to, at int, t int64) (before, after bool) {
	if to < 0 || to >= len(pa.span) || at < 0 || at >= len(pa.span) {
		return false, false
	}
	first, last := pa.span[to][0], pa.span[to][1]
	off := pa.pairOff(at, to)
	if first > last || math.IsNaN(off) {
		return false, false
	}
	tt := t + int64(off*1e9)
	return tt < first, tt > last
}
