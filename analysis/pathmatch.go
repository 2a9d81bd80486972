package analysis

// This file matches the segments of one connection seen at two
// neighbouring capture points: which packet at one point is which at the
// other.

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// segKey identifies a segment independently of the capture point: its
// direction, its sequence and acknowledgement numbers relative to what
// each side's sequence space counts from at that point (pairBases), and
// its SYN/FIN/RST flags. A retransmission has the key of the segment it
// repeats.
type segKey struct {
	side     Side
	rel, ack uint32
	flags    uint8
}

// shapeKey is a segment's key and payload length, for joinByShape.
type shapeKey struct {
	segKey
	len uint32
}

// sideBases returns, per side, what a flow's sequence numbers count from
// at its point: the ISN when the handshake showed it (isn; of several,
// sideISN's), else the first number seen less one; have is false for a
// side that sent nothing there.
func sideBases(f *Flow) (b [2]uint32, isn, have [2]bool) {
	for s := range Side(2) {
		if v, ok := sideISN(f, s); ok {
			b[s], isn[s], have[s] = v, true, true
		}
	}
	for _, r := range f.Refs {
		if r.Bits&RefFragment != 0 {
			continue
		}
		if s := r.Side(); !have[s] {
			b[s], have[s] = r.Seq-1, true
		}
		if have[FromClient] && have[FromServer] {
			break
		}
	}
	return b, isn, have
}

// base returns the sequence numbers a flow's sides count from at its own
// point alone (sideBases), for its shape.
func base(f *Flow) (client, server uint32) {
	b, _, _ := sideBases(f)
	return b[FromClient], b[FromServer]
}

// pairBases returns what each side's sequence numbers count from at two
// points' flows of one connection, so that one segment has one key at
// both. Where both points saw a side's ISN, each counts from its own,
// which takes out a middlebox's constant rewriting (joinByISN, joinByShape
// found it). Otherwise the numbers are taken as unchanged between the
// points and both count from the same one: a point that missed the
// handshake (its capture started late, or the connection is older), or
// that saw no packet of a side at all (a one-way capture), counted from
// its own first number or from zero, and matched nothing of the other's.
// A side whose numbers b's exceed by shift (joinByShift) counts from a's
// base plus the shift. Where a side's SYNs (SYN-ACKs) carried several
// ISNs, both count from one both points saw (pairISNs).
func pairBases(a, b *Flow, shift [2]uint32) (ba, bb [2]uint32) {
	na, isnA, haveA := sideBases(a)
	nb, isnB, _ := sideBases(b)
	for s := range Side(2) {
		switch {
		case shift[s] != 0 && haveA[s]:
			// Rewritten by a constant where one point missed the
			// handshake (joinByShift).
			ba[s], bb[s] = na[s], na[s]+shift[s]
		case shift[s] != 0:
			ba[s], bb[s] = nb[s]-shift[s], nb[s]
		case isnA[s] && isnB[s]:
			ba[s], bb[s], _ = pairISNs(a, b, s)
		case isnA[s] || (!isnB[s] && haveA[s]):
			ba[s], bb[s] = na[s], na[s]
		default:
			ba[s], bb[s] = nb[s], nb[s]
		}
	}
	return ba, bb
}

func keyOfRef(r PacketRef, b [2]uint32) segKey {
	k := segKey{side: r.Side(), flags: r.Flags & (FlagSYN | FlagFIN | FlagRST)}
	k.rel = r.Seq - b[k.side]
	if r.Flags&FlagACK != 0 {
		k.ack = r.Ack - b[1-k.side]
	}
	return k
}

// segIndex lists a flow's segments by key: the indexes in f.Refs of each
// key's copies, in capture order. IP fragments that only complete a
// datagram are left out.
func segIndex(f *Flow, b [2]uint32) map[segKey][]int {
	out := make(map[segKey][]int, len(f.Refs))
	for i, r := range f.Refs {
		if r.Bits&RefFragment == 0 {
			k := keyOfRef(r, b)
			out[k] = append(out[k], i)
		}
	}
	return out
}

// segPair is one segment seen at two points: its indexes in each flow's
// Refs. unique is set when its key has one copy at each point.
type segPair struct {
	a, b   int
	unique bool
}

// segMatch is what matchSegs found of two points' flows of a connection.
type segMatch struct {
	ba, bb       [2]uint32        // pairBases
	ka, kb       map[segKey][]int // segIndex at each point
	pairs        []segPair        // by index at a
	onlyA, onlyB []int            // copies seen at one point only, in order
	// hops is what each side's packets lose of TTL between the points
	// (sideHops), found when first needed (hopsOf).
	hops    [2]hopCount
	hopsSet bool
	off     float64 // b's clock less a's, in seconds (NaN: not known)
}

// hopsOf returns the hops each side's packets lose between a and b.
func (m *segMatch) hopsOf(a, b *Flow) [2]hopCount {
	if !m.hopsSet {
		m.hops, m.hopsSet = sideHops(a, b, m.ka, m.kb, m.off), true
	}
	return m.hops
}

// matchSegs matches the segments of a connection's flows at two
// neighbouring points, a before b, off being b's clock less a's in seconds
// (NaN when not known). A key with one copy at each point is one segment.
// The copies of a retransmitted segment are paired by time: each with the
// copy at the other point nearest in time, clock offset taken out, so that
// of a SYN sent three times the one that got through is the one matched
// (pairing in order matched the first, and called the one that passed
// "dropped"). Without an offset they pair in order.
func matchSegs(a, b *Flow, off float64, shift [2]uint32) segMatch {
	m := segMatch{off: off}
	m.ba, m.bb = pairBases(a, b, shift)
	m.ka, m.kb = segIndex(a, m.ba), segIndex(b, m.bb)
	usedB := map[int]bool{}
	var keeps *[2]bool // keepsIPID, found when a key first has copies
	for k, la := range m.ka {
		lb := m.kb[k]
		switch {
		case len(lb) == 0:
			m.onlyA = append(m.onlyA, la...)
			continue
		case len(la) == 1 && len(lb) == 1:
			m.pairs = append(m.pairs, segPair{la[0], lb[0], true})
			usedB[lb[0]] = true
			continue
		}
		if keeps == nil {
			kept := keepsIPID(a, b, m.ka, m.kb)
			keeps = &kept
		}
		paired := pairCopies(a, b, la, lb, off, keeps[k.side], m.hopsOf(a, b)[k.side])
		// Copies a capture made of one packet (a SPAN of both
		// directions) come within a millisecond: one segment, which
		// tells the clocks as well as a key seen once.
		once := spanUnder(a, la, time.Millisecond) && spanUnder(b, lb, time.Millisecond)
		usedA := map[int]bool{}
		for _, p := range paired {
			p.unique = once
			m.pairs = append(m.pairs, p)
			usedA[p.a], usedB[p.b] = true, true
		}
		for _, i := range la {
			if !usedA[i] {
				m.onlyA = append(m.onlyA, i)
			}
		}
	}
	for _, lb := range m.kb {
		for _, i := range lb {
			if !usedB[i] {
				m.onlyB = append(m.onlyB, i)
			}
		}
	}
	slices.SortFunc(m.pairs, func(x, y segPair) int { return cmp.Compare(x.a, y.a) })
	slices.Sort(m.onlyA)
	slices.Sort(m.onlyB)
	return m
}

// keepsIPID reports, per side, whether the IP IDs of a side's segments
// are the same at both points: every segment seen once at each (ka, kb)
// whose IDs are known (not 0) has the same one, and there is at least one.
// Only then do IP IDs pair copies (pairCopies): a middlebox that rewrites
// them (a scrubbing firewall, some NATs) makes equal IDs chance.
func keepsIPID(a, b *Flow, ka, kb map[segKey][]int) (out [2]bool) {
	var seen, differ [2]int
	for k, la := range ka {
		lb := kb[k]
		if len(la) != 1 || len(lb) != 1 {
			continue
		}
		ra, rb := a.Refs[la[0]], b.Refs[lb[0]]
		if ra.IPID == 0 || rb.IPID == 0 {
			continue
		}
		seen[k.side]++
		if ra.IPID != rb.IPID {
			differ[k.side]++
		}
	}
	for s := range out {
		out[s] = seen[s] > 0 && differ[s] == 0
	}
	return out
}

// spanUnder reports whether the packets of f at idx span less than d.
func spanUnder(f *Flow, idx []int, d time.Duration) bool {
	lo, hi := f.Refs[idx[0]].Time, f.Refs[idx[0]].Time
	for _, i := range idx[1:] {
		lo, hi = min(lo, f.Refs[i].Time), max(hi, f.Refs[i].Time)
	}
	return hi-lo < int64(d)
}

// pairedFrames reports whether frame fa of a and frame fb of b are one
// segment, as matched.
func (m *segMatch) pairedFrames(a, b *Flow, fa, fb uint64) bool {
	for _, p := range m.pairs {
		if a.Refs[p.a].Frame == fa {
			return b.Refs[p.b].Frame == fb
		}
	}
	return false
}

// pairCopies pairs the copies of one segment at two points (ref indexes
// la at a, lb at b): those of the same IP ID first where the hop keeps
// the side's IDs (byID, keepsIPID), then of the same payload length, then
// those that lost the side's hops of TTL (hops) and reached the second
// point after they passed the first, then nearest in time (in order
// without a clock offset).
func pairCopies(a, b *Flow, la, lb []int, off float64, byID bool, hops hopCount) []segPair {
	n := min(len(la), len(lb))
	out := make([]segPair, 0, n)
	// A key seen thousands of times (keep-alives, a storm of duplicate
	// ACKs) would make every pair a candidate: walk the two lists in time
	// order instead, pairing copies less than a second apart (in order,
	// a capture that started late paired host's first keep-alive with
	// fw's first, and called the last 30 dropped).
	if len(la)*len(lb) > 4096 {
		if math.IsNaN(off) {
			for i := range n {
				out = append(out, segPair{a: la[i], b: lb[i]})
			}
			return out
		}
		for i, j := 0, 0; i < len(la) && j < len(lb); {
			d := float64(b.Refs[lb[j]].Time-a.Refs[la[i]].Time)/1e9 - off
			switch {
			case math.Abs(d) < 1:
				out = append(out, segPair{a: la[i], b: lb[j]})
				i, j = i+1, j+1
			case d > 0:
				i++
			default:
				j++
			}
		}
		return out
	}
	type cand struct {
		i, j   int
		noID   bool // IP IDs differ, or are 0
		other  bool // payload lengths differ
		sent   bool // not forwarded: other hops of TTL, or came first
		later  bool // the second copy of one datagram at a point (laterCopies)
		unlike bool // windows or TOS differ
		d      float64
	}
	side := a.Refs[la[0]].Side()
	laterA, laterB := laterCopies(a, la), laterCopies(b, lb)
	cands := make([]cand, 0, len(la)*len(lb))
	for i, x := range la {
		for j, y := range lb {
			d := float64(b.Refs[y].Time-a.Refs[x].Time)/1e9 - off
			if math.IsNaN(off) {
				d = float64(i - j) // in order
			}
			up, down := a.Refs[x], b.Refs[y]
			if side == FromServer {
				up, down = down, up
			}
			sent := hops.unlike(up, down) || hops.before(up, down, side, off)
			cands = append(cands, cand{i, j, !byID || !sameIPID(a.Refs[x], b.Refs[y]), a.Refs[x].Len != b.Refs[y].Len, sent, laterA[i] || laterB[j], !alike(a.Refs[x], b.Refs[y]), math.Abs(d)})
		}
	}
	// The same IP ID first: NAT keeps it, and a sender gives each
	// datagram its own, so of two copies sent microseconds apart (a
	// handshake ACK sent twice, 8 µs apart, the first dropped by a
	// firewall) it names the one that got through, which time could not
	// (the other was called dropped). Where a middlebox rewrote the IDs
	// (byID false) the order below decides alone.
	// A pure ACK and the data segment after it have one key: the same
	// length next; then copies alike in window and TOS (a burst of
	// duplicate ACKs differs in its windows, a retransmission in its TOS:
	// Linux sends them without ECT; a path that reordered the burst paired
	// each ACK with another and called the window changed); then the
	// nearest in time, to 100 µs (copies closer than that pair in order; a
	// fast retransmission in a data centre comes 0.3 ms after the
	// original, which a millisecond did not tell apart).
	// Before alike and time: a copy at the second point that lost other
	// hops of TTL than its side's, or came before the one at the first,
	// was not forwarded from it. A SYN proxy's own ACK to the client
	// (TTL 64, 12 µs before the server's ACK passed the outside point)
	// was paired with the server's, and the server's forwarded ACK (TTL
	// 63) called a duplicate.
	slices.SortStableFunc(cands, func(x, y cand) int {
		return cmp.Or(falseFirst(x.noID, y.noID), falseFirst(x.other, y.other), falseFirst(x.sent, y.sent),
			falseFirst(x.later, y.later), falseFirst(x.unlike, y.unlike),
			cmp.Compare(math.Round(x.d*1e4), math.Round(y.d*1e4)))
	})
	usedA, usedB := make([]bool, len(la)), make([]bool, len(lb))
	for _, c := range cands {
		if !usedA[c.i] && !usedB[c.j] {
			usedA[c.i], usedB[c.j] = true, true
			out = append(out, segPair{a: la[c.i], b: lb[c.j]})
		}
	}
	uncross(a, b, out, byID)
	return out
}

// laterCopies marks, of the copies of one segment at a point (ref indexes
// l, in capture order), those that are a later copy of the datagram just
// before: its IP ID, microseconds after (Finding.IsCopy). A datagram
// duplicated on the way, or by the point's capture, is paired by its first
// copy, and the extra one is what the flow's own finding (tcp.dup_ack,
// tcp.retransmission) and path.duplicated are about. By time alone, with
// the clocks' offset estimated 71 µs off, the ACK's second copy 15 µs
// later came nearer than its first: path.duplicated was on the first
// copy and tcp.dup_ack on the second, while a data segment's were both on
// the second (review diff21, defect 3).
func laterCopies(f *Flow, l []int) []bool {
	out := make([]bool, len(l))
	for i := 1; i < len(l); i++ {
		p, r := f.Refs[l[i-1]], f.Refs[l[i]]
		out[i] = sameIPID(p, r) && p.Len == r.Len && r.Time-p.Time < int64(time.Millisecond)
	}
	return out
}

// sameIPID reports whether two copies of one segment carry the same IPv4
// identification, and it is not 0 (some stacks send 0 on every datagram
// with DF set: it tells nothing).
func sameIPID(x, y PacketRef) bool { return x.IPID != 0 && x.IPID == y.IPID }

// alike reports whether two copies of one segment carry the same window
// and TOS: the fields besides the length that tell copies apart.
func alike(x, y PacketRef) bool { return x.Window == y.Window && x.TOS == y.TOS }

// uncross puts the pairs of copies that look alike (length, window, TOS)
// back in time order at both points. Nearest first, two pairs whose differences tie to 100 µs
// can cross: a retransmission that went straight through was taken for
// the original, which had waited in the queue that overflowed, and the
// original for the retransmission; each copy's own TOS (Linux sends
// retransmissions without ECT) and window then read as changed on the
// way, and the two as reordered, across one veth pair. In time order the
// sum of the differences is never larger, and the copies each point saw
// stay the ones paired.
func uncross(a, b *Flow, pairs []segPair, byID bool) {
	if len(pairs) < 2 {
		return
	}
	// Copies that look alike: the same length, window and TOS.
	type look struct {
		len uint32
		win uint16
		tos uint8
	}
	byLook := map[look][]int{} // positions in pairs
	for k, p := range pairs {
		ra, rb := a.Refs[p.a], b.Refs[p.b]
		// Paired by their IP ID: one datagram, whatever the times say.
		if ra.Len == rb.Len && alike(ra, rb) && !(byID && sameIPID(ra, rb)) {
			l := look{len: ra.Len, win: ra.Window, tos: ra.TOS}
			byLook[l] = append(byLook[l], k)
		}
	}
	for _, pos := range byLook {
		if len(pos) < 2 {
			continue
		}
		as, bs := make([]int, len(pos)), make([]int, len(pos))
		for t, k := range pos {
			as[t], bs[t] = pairs[k].a, pairs[k].b
		}
		inOrder := func(f *Flow) func(x, y int) int {
			return func(x, y int) int {
				return cmp.Or(cmp.Compare(f.Refs[x].Time, f.Refs[y].Time), cmp.Compare(x, y))
			}
		}
		slices.SortFunc(as, inOrder(a))
		slices.SortFunc(bs, inOrder(b))
		slices.Sort(pos)
		for t, k := range pos {
			pairs[k] = segPair{a: as[t], b: bs[t]}
		}
	}
}

// Ladder lines a connection's segments up across its capture points, as
// Correlate matched them (matchSegs between each pair of neighbouring
// points), in the order they travelled: by the time each was first seen,
// each point's clock offset taken out. IP fragments that only complete a
// datagram are left out. The side a point did not capture (Path.OneWay)
// is matched between the points either side of it, as compare compares
// it (compareSideAcross): matched only with the one-way point, each of
// its segments was two rows, "not seen" at each end, and one segment
// lost between the outer points read as four missing. So is a side the
// points between two others all missed (widerSpans).
func (pa *Path) Ladder(c *Connection) []LadderRow {
	type node struct{ point, idx int }
	rowOf := map[node]*LadderRow{}
	var rows []*LadderRow
	newRow := func(n node, side Side) *LadderRow {
		r := &LadderRow{Side: side, Refs: make([]int, len(c.Flows))}
		for j := range r.Refs {
			r.Refs[j] = -1
		}
		r.Refs[n.point] = n.idx
		rowOf[n] = r
		rows = append(rows, r)
		return r
	}
	wider := pa.widerSpans(c)
	outside := pa.outsideMids(c)
	for i, f := range c.Flows {
		if f == nil {
			continue
		}
		// The next point that saw it: the one after, or the one after
		// that when the middle point missed it (joinAcross).
		var m segMatch
		k := i + 1
		if k < len(c.Flows) && c.Flows[k] == nil && k+1 < len(c.Flows) {
			k++
		}
		g := (*Flow)(nil)
		if k < len(c.Flows) {
			g = c.Flows[k]
		}
		if g != nil {
			m = matchSegs(f, g, pa.pairOff(i, k), pa.shifts.of(f, g))
		}
		for idx, r := range f.Refs {
			if r.Bits&RefFragment == 0 && rowOf[node{i, idx}] == nil {
				newRow(node{i, idx}, r.Side())
			}
		}
		link := func(m segMatch, k int, sides [2]bool) {
			for _, p := range m.pairs {
				// A packet is on one row: one the match across the
				// one-way point before it linked stays there.
				if !sides[f.Refs[p.a].Side()] || rowOf[node{k, p.b}] != nil {
					continue
				}
				r := rowOf[node{i, p.a}]
				r.Refs[k] = p.b
				rowOf[node{k, p.b}] = r
			}
		}
		link(m, k, [2]bool{true, true})
		if sides := pa.acrossSides(c, i+1); sides != [2]bool{} {
			g := c.Flows[i+2]
			link(matchSegs(f, g, pa.pairOff(i, i+2), pa.shifts.of(f, g)), i+2, sides)
		}
		for _, o := range outside {
			if o.k == i+1 {
				g := c.Flows[i+2]
				m := matchSegs(f, g, pa.pairOff(i, i+2), pa.shifts.of(f, g))
				m.pairs = slices.DeleteFunc(m.pairs, func(p segPair) bool {
					return !pa.outside(&o, i, f, p.a) || !pa.outside(&o, i+2, g, p.b)
				})
				link(m, i+2, o.sides)
			}
		}
		for _, sp := range wider {
			if sp.i == i {
				var sides [2]bool
				sides[sp.side] = true
				g := c.Flows[sp.j]
				link(matchSegs(f, g, pa.pairOff(i, sp.j), pa.shifts.of(f, g)), sp.j, sides)
			}
		}
	}
	at := map[*LadderRow]int64{}
	for _, r := range rows {
		at[r] = math.MaxInt64
		for i, idx := range r.Refs {
			if idx < 0 {
				continue
			}
			off := int64(0)
			if i < len(pa.Offset) && !math.IsNaN(pa.Offset[i]) {
				off = int64(pa.Offset[i] * 1e9)
			}
			at[r] = min(at[r], c.Flows[i].Refs[idx].Time-off)
		}
	}
	// Same time: the order the first point to see both saw them in.
	firstIdx := func(r *LadderRow) (int, int) {
		for i, idx := range r.Refs {
			if idx >= 0 {
				return i, idx
			}
		}
		return len(r.Refs), 0
	}
	slices.SortFunc(rows, func(a, b *LadderRow) int {
		if c := cmp.Compare(at[a], at[b]); c != 0 {
			return c
		}
		ptA, ia := firstIdx(a)
		ptB, ib := firstIdx(b)
		return cmp.Or(cmp.Compare(ptA, ptB), cmp.Compare(ia, ib))
	})
	out := make([]LadderRow, len(rows))
	for i, r := range rows {
		out[i] = *r
	}
	return out
}

// acrossSides returns the sides of connection c that compare compares
// across point k, between the points either side of it, because k did
// not capture them (compareSideAcross), under the same conditions.
func (pa *Path) acrossSides(c *Connection, k int) [2]bool {
	var out [2]bool
	if k < 1 || k+1 >= len(c.Flows) {
		return out
	}
	a, mid, b := c.Flows[k-1], c.Flows[k], c.Flows[k+1]
	if a == nil || mid == nil || b == nil || pa.swapped[a] == mid || pa.swapped[mid] == b || !pa.comparableAcross(a, mid, b) {
		return out
	}
	for _, s := range []Side{FromClient, FromServer} {
		out[s] = pa.leftOut(k, mid, s) && !pa.leftOut(k-1, a, s) && !pa.leftOut(k+1, b, s)
	}
	return out
}

// pairOff returns point j's clock less point i's, in seconds; NaN when
// not known (no connection joined them, directly or through others).
func (pa *Path) pairOff(i, j int) float64 {
	if pa.comp[i] != pa.comp[j] {
		return math.NaN()
	}
	return pa.rel[j] - pa.rel[i]
}

// resegmented finds the data segments that one point of a pair (i, i+1)
// saw as one and the other as several: a capture on the sending host
// sees a segment as large as the NIC will cut (TSO/GSO), a capture on the
// receiving host one the NIC or stack merged (GRO/LRO), and a middlebox
// may resegment too. The first piece has the whole segment's key, so it
// was matched to it (and its length difference taken for bytes added or
// removed); the rest were seen at one point only (and taken for dropped
// or injected). When the pieces' payloads tile the whole one exactly, the
// pair is marked in the result (by index in m.pairs), the other pieces in
// explained, and one path.resegmented finding per side says so.
func (pa *Path) resegmented(i, j int, a, b *Flow, m *segMatch, explained *[2]map[int]bool) map[int]bool {
	flows, bases := [2]*Flow{a, b}, [2][2]uint32{m.ba, m.bb}
	type start struct {
		side Side
		rel  uint32
	}
	// The data segments seen at one point only, by where they start.
	var loose [2]map[start][]int
	for x, only := range [2][]int{m.onlyA, m.onlyB} {
		loose[x] = map[start][]int{}
		for _, idx := range only {
			r := flows[x].Refs[idx]
			if r.Len > 0 && r.Flags&FlagSYN == 0 {
				k := start{r.Side(), keyOfRef(r, bases[x]).rel}
				loose[x][k] = append(loose[x][k], idx)
			}
		}
	}
	// Where each point's loose data segments start, per side, in order.
	var starts [2][2][]uint32
	for x := range loose {
		for k := range loose[x] {
			starts[x][k.side] = append(starts[x][k.side], k.rel)
		}
		for s := range starts[x] {
			slices.SortFunc(starts[x][s], func(p, q uint32) int { return cmp.Compare(int32(p-q), 0) })
		}
	}
	type gap struct {
		big, small int
		ref        PacketRef
		bytes      uint32
	}
	var gaps []gap
	type first struct {
		big, small int // 0 for a, 1 for b
		bigRef     PacketRef
		pieces     []PacketRef
		n          int
	}
	var said [2]*first
	var out map[int]bool
	for n, p := range m.pairs {
		ra, rb := a.Refs[p.a], b.Refs[p.b]
		if ra.Len == rb.Len || ra.Len == 0 || rb.Len == 0 || ra.Flags&FlagSYN != 0 {
			continue
		}
		big, small := 0, 1
		if rb.Len > ra.Len {
			big, small = 1, 0
		}
		idx := [2]int{p.a, p.b}
		bigRef, smallRef := flows[big].Refs[idx[big]], flows[small].Refs[idx[small]]
		side := bigRef.Side()
		rel := keyOfRef(smallRef, bases[small]).rel
		cur, end := rel+smallRef.Len, rel+bigRef.Len
		pieces := []int{idx[small]}
		var holes []uint32
		for cur != end {
			next := -1
			for _, c := range loose[small][start{side, cur}] {
				if !explained[small][c] && !slices.Contains(pieces, c) {
					next = c
					break
				}
			}
			if next < 0 && big == int(side) {
				// Seen whole nearer its sender (TSO), a piece missing
				// further on: that piece was lost on the way. The
				// next piece that starts within the segment goes on.
				st := starts[small][side]
				k := sort.Search(len(st), func(k int) bool { return int32(st[k]-cur) > 0 })
				if k < len(st) && int32(st[k]-end) < 0 {
					holes = append(holes, st[k]-cur)
					cur = st[k]
					continue
				}
			}
			if next < 0 || int32(cur+flows[small].Refs[next].Len-end) > 0 {
				break
			}
			pieces = append(pieces, next)
			cur += flows[small].Refs[next].Len
		}
		if cur != end {
			continue
		}
		for _, h := range holes {
			gaps = append(gaps, gap{big, small, bigRef, h})
		}
		if out == nil {
			out = map[int]bool{}
		}
		out[n] = true
		for _, c := range pieces[1:] {
			explained[small][c] = true
		}
		if said[side] == nil {
			fs := &first{big: big, small: small, bigRef: bigRef}
			for _, c := range pieces {
				fs.pieces = append(fs.pieces, flows[small].Refs[c])
			}
			said[side] = fs
		}
		said[side].n++
	}
	pts := [2]int{i, j}
	for _, g := range gaps {
		pa.add(flows[g.big], PathFinding{Code: PathDropped, Point: pts[g.big], Frame: g.ref.Frame, RelatedPoint: pts[g.small], Bytes: int(g.bytes)})
	}
	for _, fs := range said {
		if fs == nil {
			continue
		}
		lens := make([]uint32, len(fs.pieces))
		for k, r := range fs.pieces {
			lens[k] = r.Len
		}
		fi := PathFinding{Code: PathResegmented, Point: pts[fs.big], Frame: fs.bigRef.Frame, RelatedPoint: pts[fs.small],
			RelatedFrame: fs.pieces[0].Frame, Count: fs.n, Pieces: lens}
		pa.add(flows[fs.big], fi)
	}
	return out
}

// resegmentedText says a path.resegmented finding fi, whose segment r
// point whole saw as one and point split as fi.Pieces.
func resegmentedText(fi PathFinding, r PacketRef, whole, split string) string {
	words := make([]string, len(fi.Pieces))
	for k, n := range fi.Pieces {
		words[k] = strconv.Itoa(int(n))
	}
	more := ""
	if fi.Count > 1 {
		more = fmt.Sprintf(", and %d more like it", fi.Count-1)
	}
	// Seen whole nearer its sender: the client's travel to later points.
	side := r.Side()
	why := fmt.Sprintf("merged before %s's capture saw them, as the receiving host's GRO/LRO does", whole)
	if side == FromClient && fi.Point < fi.RelatedPoint || side == FromServer && fi.Point > fi.RelatedPoint {
		why = fmt.Sprintf("cut after %s's capture saw it, as the sending host's TSO/GSO does", whole)
	}
	return fmt.Sprintf("the %s's %d-byte data segment (frame %d at %s) is %d segments at %s (%s bytes, from frame %d at %s)%s: %s",
		sideName(side), r.Len, fi.Frame, whole, len(fi.Pieces), split, strings.Join(words, "+"), fi.RelatedFrame, split, more, why)
}

// oneWayText says a path.one_way finding fi about side's packets.
func oneWayText(fi PathFinding, side Side, at, other string) string {
	if fi.RelatedFrame != 0 {
		// The other side's ACKs at the point acknowledge them: sent
		// past it, and left out of its capture (oneWayConns).
		return fmt.Sprintf("none of the %s's %d packets seen at %s while %s's capture ran (from frame %d) is in %s's capture, though the %s acknowledged them there (frame %d at %s): %s's capture holds the %s's direction of this connection only (a one-way SPAN, a capture filter), or they passed it another way; neither dropped nor injected",
			sideName(side), fi.Count, at, other, fi.Frame, other, sideName(1-side), fi.RelatedFrame, other, other, sideName(1-side))
	}
	return fmt.Sprintf("none of the %s's %d packets seen at %s while %s's capture ran (from frame %d) passed %s: they take another route (asymmetric routing), or %s's capture leaves them out",
		sideName(side), fi.Count, at, other, fi.Frame, other, other)
}

// ackLine is how far a point saw one side's data acknowledged, packet by
// packet: the highest relative ACK number so far, and the frame that
// brought it.
type ackLine struct {
	upTo  []int64 // non-decreasing
	frame []uint64
}

// ackLines returns, per side, how far f's point saw that side's data
// acknowledged (by the other side's packets), in the numbers bases count
// from.
func ackLines(f *Flow, b [2]uint32) [2]ackLine {
	var out [2]ackLine
	for _, r := range f.Refs {
		if r.Bits&RefFragment != 0 || r.Flags&FlagACK == 0 {
			continue
		}
		data := 1 - r.Side() // the side whose data this acknowledges
		rel := int64(int32(r.Ack - b[data]))
		l := &out[data]
		if n := len(l.upTo); n == 0 || rel > l.upTo[n-1] {
			l.upTo = append(l.upTo, rel)
			l.frame = append(l.frame, r.Frame)
		}
	}
	return out
}

// by returns the first frame that acknowledged everything up to end, a
// relative sequence number.
func (l *ackLine) by(end uint32) (uint64, bool) {
	i := sort.Search(len(l.upTo), func(i int) bool { return l.upTo[i] >= int64(int32(end)) })
	if i == len(l.upTo) {
		return 0, false
	}
	return l.frame[i], true
}

// falseFirst orders false before true, for a sort's comparison.
func falseFirst(x, y bool) int {
	switch {
	case x == y:
		return 0
	case x:
		return 1
	}
	return -1
}
