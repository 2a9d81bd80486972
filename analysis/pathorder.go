package analysis

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"sort"
)

// fragmentsAt returns how many IP fragments the packet f.Refs[idx] was
// reassembled from, 0 when it came whole. The refs of a datagram's
// earlier fragments come right before its own (Flow.Refs, RefFragment).
func fragmentsAt(f *Flow, idx int) int {
	n := 0
	for k := idx - 1; k >= 0 && f.Refs[k].Bits&RefFragment != 0; k-- {
		n++
	}
	if n == 0 {
		return 0
	}
	return n + 1
}

// refIndex returns the index in f.Refs of the packet (not an earlier
// fragment) with the given frame, or -1.
func refIndex(f *Flow, frame uint64) int {
	refs := f.Refs
	i := sort.Search(len(refs), func(i int) bool { return refs[i].Frame >= frame })
	for ; i < len(refs) && refs[i].Frame == frame; i++ {
		if refs[i].Bits&RefFragment == 0 {
			return i
		}
	}
	return -1
}

// fragmentation is what compareFlows gathers of one side's segments whose
// IP fragmentation differs between the two points.
type fragmentation struct {
	n      int // segments fragmented differently
	ru, rd PacketRef
}

// see counts pair ru (upstream, f.Refs[iu] of fu) and rd (downstream) when
// their datagrams came in a different number of fragments.
func (g *fragmentation) see(fu *Flow, iu int, fd *Flow, id int, ru, rd PacketRef) {
	if fragmentsAt(fu, iu) == fragmentsAt(fd, id) {
		return
	}
	if g.n == 0 {
		g.ru, g.rd = ru, rd
	}
	g.n++
}

// transit is one paired segment's times at the point it passed first and
// at the next.
type transit struct {
	up, down           int64
	upFrame, downFrame uint64
}

// reordering finds the segments of one side that reached the next point
// after a segment that passed the first point later: reordered between
// the two (parallel links). Each point's times are compared only with its
// own, so the clock offset does not matter; equal times at the first point
// say no order. It returns how many were overtaken, and the first of them
// with the segment that overtook it.
func reordering(ts []transit) (n int, late, early transit) {
	slices.SortFunc(ts, func(x, y transit) int {
		return cmp.Or(cmp.Compare(x.up, y.up), cmp.Compare(x.upFrame, y.upFrame))
	})
	// Walking back from the last sent, min is the earliest arrival of the
	// segments sent strictly later than the current group.
	var (
		have bool
		min  transit
	)
	for hi := len(ts); hi > 0; {
		lo := hi - 1
		for lo > 0 && ts[lo-1].up == ts[hi-1].up {
			lo--
		}
		for _, t := range ts[lo:hi] {
			if have && t.down > min.down {
				n++
				late, early = t, min
			}
		}
		for _, t := range ts[lo:hi] {
			if !have || t.down < min.down {
				have, min = true, t
			}
		}
		hi = lo
	}
	return n, late, early
}

// fragmentedText says a path.fragmented finding: the datagram's fragments
// at the two points.
func fragmentedText(w *pathWords, fi PathFinding) string {
	at, rel := w.point(fi.Point), w.point(fi.RelatedPoint)
	r, _ := w.refAt(fi.Point, fi.Frame)
	nd, nu := w.fragments(fi.Point, fi.Frame), w.fragments(fi.RelatedPoint, fi.RelatedFrame)
	pieces := func(n int) string {
		if n == 0 {
			return "whole"
		}
		return fmt.Sprintf("in %d IP fragments", n)
	}
	how := "fragmented again between them"
	ru, _ := w.refAt(fi.RelatedPoint, fi.RelatedFrame)
	switch {
	case nu == 0 && ru.Bits&RefDF != 0:
		// The sender asked for no fragmenting: a device between the
		// points cleared DF (a firewall's or VPN's "clear DF").
		how = fmt.Sprintf("fragmented between them, though DF was set at %s: a device on the way cleared it, before a link with a smaller MTU", rel)
	case nu == 0:
		how = "fragmented between them: a link with a smaller MTU on the way, and the sender's DF clear"
	case nd == 0:
		how = "reassembled between them (a firewall's virtual reassembly)"
	}
	s := fmt.Sprintf("%s (frame %d at %s) left %s %s and reached %s %s: %s", SegmentName(r), fi.Frame, at, rel, pieces(nu), at, pieces(nd), how)
	if fi.Count > 1 {
		s += fmt.Sprintf("; %d of the %s's segments in all", fi.Count, sideWord(fi.RelatedPoint, fi.Point))
	}
	return s
}

// reorderedText says a path.reordered finding.
func reorderedText(w *pathWords, fi PathFinding) string {
	at, rel := w.point(fi.Point), w.point(fi.RelatedPoint)
	r, _ := w.refAt(fi.Point, fi.Frame)
	s := fmt.Sprintf("%s (frame %d at %s) passed %s before the segment of frame %d at %s, but reached %s after it: reordered between them (parallel links: ECMP, a bond, a load balancer)",
		SegmentName(r), fi.Frame, at, rel, fi.OtherFrame, at, at)
	if fi.Count > 1 {
		s += fmt.Sprintf("; %d of the %s's segments were overtaken", fi.Count, sideWord(fi.RelatedPoint, fi.Point))
	}
	return s
}

// fragments returns how many IP fragments point p's packet of the given
// frame was reassembled from (0: it came whole).
func (w *pathWords) fragments(p int, frame uint64) int {
	if p < 0 || p >= len(w.c.Flows) || w.c.Flows[p] == nil {
		return 0
	}
	f := w.c.Flows[p]
	if i := refIndex(f, frame); i >= 0 {
		return fragmentsAt(f, i)
	}
	return 0
}

// spanCopies returns the frames of f (point x of a compared pair: 0 for
// a, 1 for b in pairs) that are one packet with another of its frames,
// as a point capturing each packet twice makes them (Finding.IsCopy: the
// same IP ID, microseconds apart), and so are not to be called dropped
// or duplicated: every copy, and the first packet of a copy that was
// paired. Matched to the nearer copy by time, with the directions' delays
// unequal, the later one was paired half the time, and the first, left
// over, was "dropped" (every server packet, ✗ with nothing lost). When
// neither was paired, the first stays: it may have been dropped.
func spanCopies(f *Flow, x int, pairs []segPair) map[uint64]bool {
	copies := map[uint64]bool{}
	var paired map[uint64]bool
	for _, fi := range f.Findings {
		if !fi.IsCopy() {
			continue
		}
		copies[fi.Frame] = true
		if paired == nil {
			paired = map[uint64]bool{}
			for _, p := range pairs {
				i := p.a
				if x == 1 {
					i = p.b
				}
				paired[f.Refs[i].Frame] = true
			}
		}
		if !paired[fi.Frame] {
			continue
		}
		// The first packet: the latest before it from the same side
		// with the same numbers.
		c := refIndex(f, fi.Frame)
		if c < 0 {
			continue
		}
		rc := f.Refs[c]
		for j := c - 1; j >= 0; j-- {
			r := f.Refs[j]
			if r.Bits&RefFragment == 0 && r.Side() == rc.Side() && r.Seq == rc.Seq && r.Ack == rc.Ack && r.Len == rc.Len && r.Flags == rc.Flags {
				copies[r.Frame] = true
				break
			}
		}
	}
	return copies
}

// twin is a flow at another point with the same addresses and ports as an
// unjoined one, at an overlapping time: most likely the same connection,
// whose numbers did not match (path.unjoined says so, not "no flow").
type twin struct {
	point int
	id    int
}

// findTwins finds the twins of the flows seen at one point only.
func (pa *Path) findTwins() map[*Flow]twin {
	type ends struct{ client, server string }
	type at struct {
		point int
		f     *Flow
	}
	var alone []at
	byEnds := map[ends][]at{}
	for _, c := range pa.Conns {
		seen, point := 0, 0
		for i, f := range c.Flows {
			if f != nil {
				seen, point = seen+1, i
			}
		}
		if seen != 1 {
			continue
		}
		f := c.Flows[point]
		k := ends{f.Client().String(), f.Server().String()}
		alone = append(alone, at{point, f})
		byEnds[k] = append(byEnds[k], at{point, f})
	}
	out := map[*Flow]twin{}
	for _, a := range alone {
		for _, b := range byEnds[ends{a.f.Client().String(), a.f.Server().String()}] {
			if b.point != a.point && pa.roughlyOverlap(b.point, a.point, a.f.Start, a.f.End, b.f) {
				out[a.f] = twin{b.point, b.f.ID}
				break
			}
		}
	}
	return out
}

// roughlyOverlap reports whether flow g of point to ran while point at's
// flow did (start to end), the clocks' offset taken out; with the offset
// unknown (nothing joined between the points), within a minute of it.
func (pa *Path) roughlyOverlap(to, at int, start, end int64, g *Flow) bool {
	var d, slack int64
	if off := pa.pairOff(at, to); math.IsNaN(off) {
		slack = 60e9
	} else {
		d = int64(off * 1e9)
	}
	return start+d-slack <= g.End && end+d+slack >= g.Start
}

// copyCheck decides, at point at (flow f) of a compared pair, which of the
// copies spanCopies found there came on the way: a device between the
// two points duplicated the packet (a bridge loop, a bad LAG, nftables'
// dup), where the point before saw it once and the points after see it
// twice. spanCopies took every copy for the point's capture taking each
// packet twice, and 47 of 54 duplications on a real path went unsaid
// while the copy sat on the ladder.
type copyCheck struct {
	pa        *Path
	f         *Flow
	at, other int  // the point, and the one compared with, before it on the way
	doubles   bool // at's capture doubles packets (doublesOwn)
	index     map[int]copyIndex
	// pending is what the last onTheWay found to note (Path.wayCopy),
	// noted once path.duplicated is said of the copy (said): a flow's
	// finding named a path.duplicated that a copy outside the other
	// point's capture, or not a copy there (notCopy), never got.
	pending []wayNote
	w       wayCopy
}

// wayNote is a flow's copies (indexes in its Refs) of a packet duplicated
// on the way.
type wayNote struct {
	g   *Flow
	idx []int
}

// wayCopy is where a device duplicated a packet: between points from
// (one copy) and to (two).
type wayCopy struct{ from, to int }

// copyIndex is a flow at another point, its segments by key, and what f's
// and its numbers count from when compared.
type copyIndex struct {
	g      *Flow
	bf, bg [2]uint32
	kg     map[segKey][]int
}

// doublesOwn reports whether point x of a compared pair (only: its
// segments the other point did not see; copies: spanCopies) holds an
// unpaired copy of a packet of the side it passes first: no device
// between the two points can have duplicated that one on its way to x,
// so x's capture takes packets twice (a SPAN of both directions, -i any
// on a router). upOf is which of the pair a side passes first.
func doublesOwn(f *Flow, x int, only []int, copies map[uint64]bool, upOf func(Side) int) bool {
	for _, idx := range only {
		r := f.Refs[idx]
		if copies[r.Frame] && upOf(r.Side()) == x {
			return true
		}
	}
	return false
}

// onTheWay reports whether r, a copy at c.at of a segment the point
// before it on its side's way saw once, was duplicated on the way. The
// next point on that way decides where it saw the connection while its
// capture ran: two copies there, the copy travelled on (and those copies
// are noted, as far as they go, Path.wayCopy); one, c.at's capture made
// it. Else c.doubles does. When it returns true, r's copies at c.at (same
// key and length: ka) and those further are to be noted once
// path.duplicated is said of r (said).
func (c *copyCheck) onTheWay(r PacketRef, ka []int) bool {
	pa, side := c.pa, r.Side()
	step := 1
	if side == FromServer {
		step = -1
	}
	conn := pa.conn[c.f]
	seen := false
	c.pending = append(c.pending[:0], wayNote{c.f, ka})
	prev, prevAt, pr := c.f, c.at, r
	for at := c.at + step; conn != nil && at >= 0 && at < len(conn.Flows); at += step {
		g := conn.Flows[at]
		if g == nil || pa.lacks(at, side) || !pa.covers(at, prevAt, pr.Time) {
			break
		}
		ix := c.indexAt(prev, prevAt, g, at)
		same := sameLen(g, ix.kg[keyOfRef(pr, ix.bf)], pr.Len)
		if !seen && len(same) == 1 {
			return false // carried on once: at's own capture doubled it
		}
		if len(same) < 2 {
			break
		}
		seen = true
		c.pending = append(c.pending, wayNote{g, same})
		prev, prevAt, pr = g, at, g.Refs[same[0]]
	}
	if !seen && c.doubles {
		return false
	}
	c.w = wayCopy{c.other, c.at}
	return true
}

// said notes the copies the last onTheWay found (Path.wayCopy): their
// path.duplicated was said.
func (c *copyCheck) said() {
	for _, n := range c.pending {
		c.pa.noteWayCopies(n.g, n.idx, c.w)
	}
	c.pending = c.pending[:0]
}

// indexAt returns g's (at point at) segments by key, compared with f's
// (at point from).
func (c *copyCheck) indexAt(f *Flow, from int, g *Flow, at int) copyIndex {
	if ix, ok := c.index[at]; ok && ix.g == g {
		return ix
	}
	ix := copyIndex{g: g}
	if from < at {
		ix.bf, ix.bg = pairBases(f, g, c.pa.shifts.of(f, g))
	} else {
		ix.bg, ix.bf = pairBases(g, f, c.pa.shifts.of(g, f))
	}
	ix.kg = segIndex(g, ix.bg)
	if c.index == nil {
		c.index = map[int]copyIndex{}
	}
	c.index[at] = ix
	return ix
}

// sameLen keeps the indexes of g's segments (of one key) of length n.
func sameLen(g *Flow, idx []int, n uint32) []int {
	var out []int
	for _, i := range idx {
		if g.Refs[i].Len == n {
			out = append(out, i)
		}
	}
	return out
}

// noteWayCopies notes the packets of f (indexes in f.Refs) as copies a
// device between the points of w made: their flow's own findings about
// them say so (Path.FlowMessage), not that one packet was captured twice.
func (pa *Path) noteWayCopies(f *Flow, idx []int, w wayCopy) {
	if pa.wayCopy == nil {
		pa.wayCopy = map[*Flow]map[uint64]wayCopy{}
	}
	m := pa.wayCopy[f]
	if m == nil {
		m = map[uint64]wayCopy{}
		pa.wayCopy[f] = m
	}
	for _, i := range idx {
		m[f.Refs[i].Frame] = w
	}
}

// FlowMessage is f.Message(fi), but for a finding about a copy that a
// device between two points made (copyCheck): the flow alone takes it
// for one packet captured twice, which at a host's own capture (the
// server D-SACKing the request it got twice) is false.
func (pa *Path) FlowMessage(f *Flow, fi Finding) string {
	c, ok := fi.copied()
	if !ok {
		return f.Message(fi)
	}
	w, ok := pa.wayCopy[f][fi.Frame]
	if !ok {
		return f.Message(fi)
	}
	how := fmt.Sprintf("that a device duplicated between %s and %s (seen once at %s: path.duplicated)", pa.Points[w.from], pa.Points[w.to], pa.Points[w.from])
	return string(appendHeaderCutNote(appendCopyMessage(nil, fi, c, how), fi))
}

// ttlChange is one matched packet of a side at the point it passed first
// (up) and the next (down).
type ttlChange struct{ up, down PacketRef }

// oddTTL finds the packets of one side whose TTL changed between two
// points unlike the rest of the side's (hops, the median loss): by more
// than the hops themselves, and more than 2 (parallel paths of unequal
// length). A forwarded packet loses a hop per router, the same for every
// packet of the side; one that gains TTL, or loses far more, was sent or
// rewritten between the points: a SYN-ACK from a SYN proxy answering for
// the server, a forged reset, an nftables rule setting it. Only a few
// (less than half of 3 or more): a device that raises every packet's TTL
// (an IPS) changes the side's, which path.ttl says. It returns how many,
// and the first.
func oddTTL(cs []ttlChange, hops int) (n int, first ttlChange) {
	if len(cs) < 3 {
		return 0, first
	}
	limit := max(2, hops)
	for _, c := range cs {
		d := int(c.up.TTL) - int(c.down.TTL)
		if d-hops > limit || hops-d > limit {
			if n == 0 || c.down.Frame < first.down.Frame {
				first = c
			}
			n++
		}
	}
	if n*2 >= len(cs) {
		return 0, ttlChange{}
	}
	return n, first
}
