package analysis

import (
	"fmt"
	"slices"
)

// A segment too big for a link on the way. With path MTU discovery
// working, a router refuses a full-size segment with an ICMP "too big",
// and the sender sends its bytes again in smaller segments, which pass:
// the receiver acknowledges the bytes at the next point, though the
// refused segment never came there. Read as "acknowledged, so the capture
// there missed it", the 11 refused segments of realpath3 s1ok were
// path.uncaptured and the connection "the same segments at every point".
// They are dropped between the points; the ICMP error, when a capture
// holds it, says why. Where the ICMP errors are dropped too (a black
// hole), every segment over a size is dropped and the smaller ones pass:
// Path.SizeLimit says so.

// resentSpans finds, for a segment seen at one of two points only, the
// other segments of its side in which its bytes passed both points: the
// byte ranges of the segments matched at both, at the first point's
// numbers, built when first asked for.
type resentSpans struct {
	flows [2]*Flow
	pairs []segPair
	bases [2][2]uint32
	built [2]bool
	spans [2][2][]seqSpan // per point x, per side, by start
}

type seqSpan struct{ from, to, len uint32 }

// of returns the largest of the segments matched at both points that
// carried, between them, every byte of r (seen at point x, from rel on at
// x's numbers); 0 when some byte of it passed in none.
func (rs *resentSpans) of(x int, r PacketRef, rel uint32) uint32 {
	if r.Len == 0 {
		return 0
	}
	if !rs.built[x] {
		rs.built[x] = true
		f := rs.flows[x]
		for _, p := range rs.pairs {
			i := p.a
			if x == 1 {
				i = p.b
			}
			o := f.Refs[i]
			if o.Len == 0 {
				continue
			}
			k := keyOfRef(o, rs.bases[x])
			rs.spans[x][k.side] = append(rs.spans[x][k.side], seqSpan{k.rel, k.rel + o.Len, o.Len})
		}
		for s := range rs.spans[x] {
			slices.SortFunc(rs.spans[x][s], func(a, b seqSpan) int { return int(int32(a.from - b.from)) })
		}
	}
	// Walk the spans from the segment's first byte: each must start at or
	// before the first byte not yet covered.
	at, end, most := rel, rel+r.Len, uint32(0)
	for _, sp := range rs.spans[x][r.Side()] {
		if int32(sp.to-at) <= 0 {
			continue
		}
		if int32(sp.from-at) > 0 {
			break
		}
		at, most = sp.to, max(most, sp.len)
		if int32(at-end) >= 0 {
			return most
		}
	}
	return 0
}

// droppedWhy is segment r of flow f, seen at point at and not at point
// to, dropped between them: with the ICMP error at its point that refused
// it as too big (OtherFrame, MTU), and the largest of the segments in
// which its bytes passed later (resent, 0 for none).
func (pa *Path) droppedWhy(f *Flow, at, to int, r PacketRef, resent uint32) PathFinding {
	fi := pa.dropped(at, to, r)
	fi.Resent = resent
	if at >= 0 && at < len(pa.points) && pa.points[at].Result != nil {
		if tb, ok := pa.points[at].Result.tooBigFor(f, r); ok {
			fi.OtherFrame, fi.MTU = tb.Frame, tb.MTU
		}
	}
	// Path MTU discovery at work: a router refused the segment as too
	// big and said so (the ICMP error is in the capture), and its bytes
	// passed later in smaller segments. The transfer went on; an error
	// (✗) beside real loss was too loud for what every tunnel and PPPoE
	// link does (review diff21b): path.too_big, info, with the same words.
	if fi.OtherFrame != 0 && resent > 0 && resent < r.Len {
		fi.Code = PathTooBig
	}
	return fi
}

// tooBigText says why a dropped segment was dropped: the ICMP error that
// refused it (how: "dropped between them, too big for the next hop (MTU
// 1280: ICMP fragmentation needed at outside frame 9)"), and the segments
// its bytes passed in after (tail). how is "" when no ICMP error named it.
func tooBigText(w *pathWords, fi PathFinding, r PacketRef, at string) (how, tail string) {
	if fi.OtherFrame != 0 {
		what := "ICMP fragmentation needed"
		if f := w.c.Flows[fi.Point]; f != nil && f.ClientAddr().Is6() && !f.ClientAddr().Is4In6() {
			what = "ICMPv6 packet too big"
		}
		mtu := ""
		if fi.MTU > 0 {
			mtu = fmt.Sprintf("MTU %d: ", fi.MTU)
		}
		how = fmt.Sprintf("dropped between them, too big for the next hop (%s%s at %s frame %d)", mtu, what, at, fi.OtherFrame)
	}
	switch {
	case fi.Resent == 0:
	case fi.Resent < r.Len && fi.OtherFrame != 0:
		tail = "; its bytes were sent again in smaller segments, which passed"
	case fi.Resent < r.Len:
		tail = "; its bytes were sent again in smaller segments, which passed: a size limit on the way (MTU?)"
	default:
		tail = "; its bytes passed later in other segments"
	}
	return how, tail
}

// blackHoleMin is how many data segments of a side must have been
// dropped between two points, and how many passed, for SizeLimit to tell
// a size from chance.
const blackHoleMin = 3

// sizeTally counts, per pair of points and side, the data segments that
// passed (matched at both) and those dropped between them.
type sizeTally map[sizeKey]*sizeCount

type sizeKey struct {
	up, down int // the points, in path order
	side     Side
}

type sizeCount struct {
	passed, dropped int
	passedMax       uint32 // the largest that passed
	droppedMin      uint32 // the smallest dropped
	tooBig          bool   // an ICMP error said why one was dropped
}

func (t *sizeTally) at(k sizeKey) *sizeCount {
	if *t == nil {
		*t = sizeTally{}
	}
	c := (*t)[k]
	if c == nil {
		c = &sizeCount{}
		(*t)[k] = c
	}
	return c
}

// tallyPassed counts the data segments matched at points i and j (a's
// and b's flows).
func (t *sizeTally) tallyPassed(i, j int, a, b *Flow, pairs []segPair) {
	var cs [2]*sizeCount
	for _, p := range pairs {
		ra, rb := a.Refs[p.a], b.Refs[p.b]
		if ra.Len == 0 || rb.Len != ra.Len {
			continue
		}
		s := ra.Side()
		if cs[s] == nil {
			cs[s] = t.at(sizeKey{i, j, s})
		}
		cs[s].passed++
		cs[s].passedMax = max(cs[s].passedMax, ra.Len)
	}
}

// tallyDrops counts the data segments dropped whole between two points,
// from the path's findings.
func (t *sizeTally) tallyDrops(pa *Path) {
	for _, c := range pa.Conns {
		for _, f := range c.Flows {
			for _, fi := range pa.Findings[f] {
				r, ok := dropSize(f, fi)
				if !ok {
					continue
				}
				n := t.at(sizeKey{min(fi.Point, fi.RelatedPoint), max(fi.Point, fi.RelatedPoint), r.Side()})
				if n.dropped == 0 || r.Len < n.droppedMin {
					n.droppedMin = r.Len
				}
				n.dropped++
				n.tooBig = n.tooBig || fi.OtherFrame != 0
			}
		}
	}
}

// dropSize returns the data segment a path.dropped finding drops whole.
func dropSize(f *Flow, fi PathFinding) (PacketRef, bool) {
	if fi.Code != PathDropped || f == nil {
		return PacketRef{}, false
	}
	r, ok := refOf(f, fi.Frame)
	if !ok || r.Len == 0 || (fi.Bytes > 0 && uint32(fi.Bytes) < r.Len) {
		return PacketRef{}, false
	}
	return r, true
}

// BlackHole is the pattern of an MTU black hole between two points: every
// data segment of a side dropped between them was bigger than every one
// that passed there (of all connections), at least blackHoleMin of each,
// and no ICMP error said why.
type BlackHole struct {
	Up, Down int // the points, in path order
	Side     Side
	Dropped  int    // data segments dropped whole
	From     uint32 // the smallest of them
	Passed   int    // data segments that passed
	Most     uint32 // the largest of them
}

// SizeLimit returns the MTU black hole a path.dropped finding of flow f
// is part of; ok is false when the finding is not a data segment dropped
// whole, or its side's drops between its points do not show one.
func (pa *Path) SizeLimit(f *Flow, fi PathFinding) (BlackHole, bool) {
	r, ok := dropSize(f, fi)
	if !ok {
		return BlackHole{}, false
	}
	k := sizeKey{min(fi.Point, fi.RelatedPoint), max(fi.Point, fi.RelatedPoint), r.Side()}
	n := pa.sizes[k]
	if n == nil || n.tooBig || n.dropped < blackHoleMin || n.passed < blackHoleMin || n.droppedMin <= n.passedMax {
		return BlackHole{}, false
	}
	return BlackHole{k.up, k.down, k.side, n.dropped, n.droppedMin, n.passed, n.passedMax}, true
}

// Sentence says b whole: "every data segment from the client of 1448
// bytes or more was dropped between inside and outside (17), the 5
// smaller (up to 154 bytes) passed: an MTU black hole?".
func (b BlackHole) Sentence(pa *Path) string {
	w := pathWords{pa: pa}
	return fmt.Sprintf("every data segment from the %s of %d bytes or more was dropped between %s and %s (%d), the %d smaller (up to %d bytes) passed: an MTU black hole?",
		sideName(b.Side), b.From, w.point(b.Up), w.point(b.Down), b.Dropped, b.Passed, b.Most)
}

// Short says b in a line of 80 columns, under the drop it explains: "all
// client segments of 1448+ B dropped, 5 smaller passed: MTU black hole?".
func (b BlackHole) Short() string {
	return fmt.Sprintf("all %s segments of %d+ B dropped, %d smaller passed: MTU black hole?", sideName(b.Side), b.From, b.Passed)
}
