package analysis

import "maps"

// A middle point whose capture started after a connection began (or
// stopped before it ended) compares with its neighbours only the packets
// that passed while it ran (covers): its neighbours' packets outside that
// span were compared with nothing. A request dropped between near and far
// before mid's capture began, said path.dropped with near and far alone,
// went unsaid once mid was added, and the ladder showed near's and far's
// packets of that time "not seen" at each other (review diff21: 0 of 8
// planted drops in the first 15 s of a scale run, the inside capture
// started at 15 s, all 8 said with the two outer points). Engineers start
// the firewall's capture last. Those packets are compared between the
// points either side of it, as a point that left a side out is
// (compareSideAcross), and matched there on the ladder.

// outsideMid is a connection's middle point k whose capture missed some of
// its neighbours' packets, and the sides compared across it for them.
type outsideMid struct {
	k     int
	sides [2]bool
	// inMid holds, per neighbour (0: k-1, 1: k+1), the indexes in its
	// flow's Refs of the packets matched with one at k: compared with k,
	// wherever its capture's ends lie in that neighbour's clock.
	inMid [2]map[int]bool
}

// outside reports whether packet idx of the flow at point p (k-1 or k+1)
// passed while k's capture was not running, and k did not capture it.
func (pa *Path) outside(o *outsideMid, p int, f *Flow, idx int) bool {
	x := 0
	if p > o.k {
		x = 1
	}
	r := f.Refs[idx]
	if r.Bits&RefFragment != 0 || !o.sides[r.Side()] || o.inMid[x][idx] {
		return false
	}
	before, after := pa.OutsideCapture(o.k, p, r.Time)
	return before || after
}

// outsideMids returns the middle points of connection c whose capture ran
// for part of the connection only, the points either side of which saw it
// and compare without it (comparableAcross), with the sides not already
// compared across it because it left them out (leftOut).
func (pa *Path) outsideMids(c *Connection) []outsideMid {
	var out []outsideMid
	for k := 1; k+1 < len(c.Flows); k++ {
		a, mid, b := c.Flows[k-1], c.Flows[k], c.Flows[k+1]
		if a == nil || mid == nil || b == nil || pa.swapped[a] == mid || pa.swapped[mid] == b {
			continue
		}
		o := outsideMid{k: k}
		some := false
		for _, s := range []Side{FromClient, FromServer} {
			o.sides[s] = !pa.leftOut(k, mid, s) && !pa.leftOut(k-1, a, s) && !pa.leftOut(k+1, b, s)
			some = some || o.sides[s]
		}
		if !some || !pa.missedSome(&o, a, b) || !pa.comparableAcross(a, mid, b) {
			continue
		}
		o.inMid[0], o.inMid[1] = map[int]bool{}, map[int]bool{}
		for _, p := range matchSegs(a, mid, pa.pairOff(k-1, k), pa.shifts.of(a, mid)).pairs {
			o.inMid[0][p.a] = true
		}
		for _, p := range matchSegs(mid, b, pa.pairOff(k, k+1), pa.shifts.of(mid, b)).pairs {
			o.inMid[1][p.b] = true
		}
		out = append(out, o)
	}
	return out
}

// missedSome reports whether a packet of a (at k-1) or b (at k+1) of the
// sides compared passed while k's capture was not running: cheap, before
// any matching, so that a middle point that saw the whole connection
// costs nothing.
func (pa *Path) missedSome(o *outsideMid, a, b *Flow) bool {
	for x, f := range []*Flow{a, b} {
		for _, r := range f.Refs {
			if r.Bits&RefFragment == 0 && o.sides[r.Side()] {
				if before, after := pa.OutsideCapture(o.k, o.k-1+2*x, r.Time); before || after {
					return true
				}
			}
		}
	}
	return false
}

// onceCodes are the findings compareFlows says once per side of a pair of
// points, at the first packet that shows them: said across a middle point
// only where neither hop through it said them.
var onceCodes = map[PathCode]bool{
	PathWindowChanged: true, PathTOSChanged: true, PathReordered: true, PathFragmented: true,
}

// compareOutside compares the packets of connection c's flows either side
// of middle point o.k that passed while o.k's capture was not running:
// of what compareFlows finds between them, it keeps what is about those
// packets (the rest the middle point's own comparisons said).
func (pa *Path) compareOutside(c *Connection, o *outsideMid) {
	i, j := o.k-1, o.k+1
	a, b := c.Flows[i], c.Flows[j]
	said := map[PathCode]bool{}
	for _, f := range c.Flows[i : j+1] {
		for _, fi := range pa.Findings[f] {
			if onceCodes[fi.Code] {
				said[fi.Code] = true
			}
		}
	}
	// across, as in compareSideAcross: the options of the segments after
	// the handshake are compared between neighbours only. Compared here,
	// the pair's whole connection was compared across mid, and one change
	// said again between points that are not neighbours
	// (TestPathLateMiddleOptionsSaidOnce).
	copies := pa.wayCopiesOf(c)
	pa.compareKeeping(i, j, a, b, func(f *Flow, point int, fi PathFinding) bool {
		if !acrossCodes[fi.Code] || fi.Point != point || onceCodes[fi.Code] && said[fi.Code] {
			return false
		}
		idx := refIndex(f, fi.Frame)
		return idx >= 0 && pa.outside(o, point, f, idx)
	})
	pa.keepWayCopies(c, o, copies)
}

// wayCopiesOf returns a copy of what Path.wayCopy notes of connection c's
// flows.
func (pa *Path) wayCopiesOf(c *Connection) map[*Flow]map[uint64]wayCopy {
	out := map[*Flow]map[uint64]wayCopy{}
	for _, f := range c.Flows {
		if m := pa.wayCopy[f]; f != nil && m != nil {
			out[f] = maps.Clone(m)
		}
	}
	return out
}

// keepWayCopies undoes what compareOutside's comparison noted in
// Path.wayCopy (copies made between the points either side of o.k) of
// the packets o.k's own comparisons saw, as they were before (old): those
// comparisons placed the copy more closely. A packet no comparison had
// noted keeps the note.
func (pa *Path) keepWayCopies(c *Connection, o *outsideMid, old map[*Flow]map[uint64]wayCopy) {
	for p, f := range c.Flows {
		m := pa.wayCopy[f]
		if f == nil || m == nil {
			continue
		}
		for frame, w := range m {
			prev, had := old[f][frame]
			if had && prev == w {
				continue
			}
			if p == o.k-1 || p == o.k+1 {
				if idx := refIndex(f, frame); idx >= 0 && pa.outside(o, p, f, idx) {
					continue
				}
			} else if !had {
				continue
			}
			if had {
				m[frame] = prev
			} else {
				delete(m, frame)
			}
		}
	}
}
