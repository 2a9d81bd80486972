package analysis

import (
	"fmt"
	"path/filepath"
	"slices"
)

// TTL falls along a path: each router on the way takes one off, in
// both directions. Points given server side first (the order synscope
// takes them in is client side first) show each packet with more TTL
// at the point it reaches second, and every finding reads the wrong
// way round: a drop becomes an injected packet or one copy too many, a
// grown SYN-ACK one that shrank. That is said once for the path,
// where the clocks are (a device on the way that raises TTL, an IPS
// normalising it, looks the same, and the text says so).

// TTLRise is a pair of neighbouring points between which the packets of
// most connections gained TTL, in the direction each travelled.
type TTLRise struct {
	Up, Down int // the points, in the order given
	// Rose is how many connections' matched packets gained TTL from one
	// point to the next more often than they lost it, Fell how many the
	// other way (those whose TTL did not change are in neither).
	Rose, Fell int
}

// ttlRiseMin is how many connections must gain TTL, and how many times
// more than lose it, before a pair of points is said to be the wrong way
// round: one connection routed differently, or a few through a device
// that raises TTL, is not the order of the captures.
const (
	ttlRiseMin   = 3
	ttlRiseRatio = 10
)

// ttlVotes counts, per pair of neighbouring points (by the first one's
// index), the connections whose packets gained TTL and those that lost
// it between them.
type ttlVotes map[int]*[2]int

// vote counts one connection between points i and i+1 from the TTL
// differences of its matched packets (upstream less downstream, per
// packet): rose when more of them gained TTL than lost it.
func (v ttlVotes) vote(i int, gained, lost int) {
	if gained == lost {
		return
	}
	c := v[i]
	if c == nil {
		c = new([2]int)
		v[i] = c
	}
	if gained > lost {
		c[0]++
	} else {
		c[1]++
	}
}

// ttlRises returns the pairs of neighbouring points whose connections
// gained TTL on the way (ttlRiseMin, ttlRiseRatio).
func (pa *Path) ttlRises() []TTLRise {
	var out []TTLRise
	for i := 0; i+1 < len(pa.Points); i++ {
		c := pa.ttl[i]
		if c == nil || c[0] < ttlRiseMin || c[0] < ttlRiseRatio*c[1] {
			continue
		}
		out = append(out, TTLRise{Up: i, Down: i + 1, Rose: c[0], Fell: c[1]})
	}
	return out
}

// TTLRiseText says a TTLRise in words, with the glyphs g: once for the
// path, where the clock offsets are said.
func (pa *Path) TTLRiseText(r TTLRise, g PathGlyphs) string {
	name := func(p int) string {
		if p < 0 || p >= len(pa.Points) {
			return "?"
		}
		return filepath.Base(pa.Points[p])
	}
	order := "the points look given server side first (give them client side first, as -r CLIENT … -r SERVER)"
	if !pa.reversed() {
		// Only some pairs: with the middle two of four points swapped,
		// "server side first" was said of a path given client side
		// first.
		order = fmt.Sprintf("%s and %s may be given in the wrong order (%s before %s, as the TTL says)", name(r.Up), name(r.Down), name(r.Down), name(r.Up))
	}
	return fmt.Sprintf("the packets gain TTL from %s to %s (%d connection%s, %d the other way): %s, or a device between them raises TTL; in that order a drop reads as an injected packet and a grown segment as one that shrank",
		name(r.Up), name(r.Down), r.Rose, plural(r.Rose), r.Fell, order)
}

// reversed reports whether the packets gain TTL between every pair of
// neighbouring points whose TTLs say anything (on a path where only a
// router between two of them takes TTL off, only those two do): the
// path given server side first. Where another pair's packets lose TTL,
// the path runs client side first, and the pairs that gain are two
// points swapped.
func (pa *Path) reversed() bool {
	if len(pa.TTLRises) == 0 {
		return false
	}
	for i, c := range pa.ttl {
		if c[1] > c[0] && !slices.ContainsFunc(pa.TTLRises, func(r TTLRise) bool { return r.Up == i }) {
			return false
		}
	}
	return true
}

// A point none of whose connections any other point saw (a client's
// tcpdump on the wrong interface, or with a filter that caught nothing;
// the wrong file) is said once for the path, where the clocks are: the
// other points are compared without it, and its clock is unknown.

// LonePoint is a capture point that shares no connection with the other
// points of the path.
type LonePoint struct {
	Point int
	Flows int // the TCP flows its capture holds
}

// lonePoints returns the points that share no connection with another.
func (pa *Path) lonePoints() []LonePoint {
	if len(pa.points) < 2 {
		return nil
	}
	shared := make([]bool, len(pa.points))
	for _, c := range pa.Conns {
		n := 0
		for _, f := range c.Flows {
			if f != nil {
				n++
			}
		}
		if n < 2 {
			continue
		}
		for p, f := range c.Flows {
			if f != nil {
				shared[p] = true
			}
		}
	}
	var out []LonePoint
	for p, ok := range shared {
		if !ok {
			out = append(out, LonePoint{Point: p, Flows: len(pa.points[p].Result.Flows)})
		}
	}
	return out
}

// LonePointText says a LonePoint in words, once for the path.
func (pa *Path) LonePointText(l LonePoint) string {
	at := "?"
	if l.Point >= 0 && l.Point < len(pa.Points) {
		at = filepath.Base(pa.Points[l.Point])
	}
	holds := "no TCP flow"
	if l.Flows > 0 {
		holds = fmt.Sprintf("%d TCP flow%s, none of them", l.Flows, plural(l.Flows))
	}
	return fmt.Sprintf("%s shares no connection with the other points: its capture holds %s seen at another point (the wrong file, interface or capture filter?); the other points are compared without it",
		at, holds)
}

// The same capture given twice under two names (client.pcap
// tab-completed for fw-inside.pcap) reads as a perfect path: every packet
// passed unchanged, every fault between the two real points hidden. Two
// neighbouring points whose matched packets are each at the same time
// with the same TTL, window, TOS and length, none seen at one of them
// only, are said once for the path.

// SamePackets is a pair of neighbouring points that hold the same packets.
type SamePackets struct {
	Up, Down int
	Packets  int // the packets matched, each the same at both
}

// samePacketsMin is how many packets two points must hold alike, and no
// other, to be said to be one capture.
const samePacketsMin = 10

// sameVotes counts, per pair of neighbouring points, the packets matched
// between them, those alike in every field kept (time included), and
// those seen at one of them only.
type sameVotes map[int]*[3]int

func (v sameVotes) add(i, matched, alike, alone int) {
	c := v[i]
	if c == nil {
		c = new([3]int)
		v[i] = c
	}
	c[0] += matched
	c[1] += alike
	c[2] += alone
}

// samePackets returns the neighbouring points that hold the same packets.
func (pa *Path) samePackets() []SamePackets {
	var out []SamePackets
	for i := 0; i+1 < len(pa.Points); i++ {
		c := pa.same[i]
		if c == nil || c[0] < samePacketsMin || c[1] != c[0] || c[2] != 0 ||
			pa.points[i].Result.Frames != pa.points[i+1].Result.Frames {
			continue
		}
		out = append(out, SamePackets{Up: i, Down: i + 1, Packets: c[0]})
	}
	return out
}

// Warnings says, once for the path, what makes its findings unreliable or
// empty: a point that shares nothing with the others, points given server
// side first, the same capture given twice, a point whose capture ended
// well before its neighbour's, connections answered between two points
// (a proxy). g gives the glyphs.
func (pa *Path) Warnings(g PathGlyphs) []string {
	var out []string
	for _, l := range pa.Lone {
		out = append(out, pa.LonePointText(l))
	}
	for _, r := range pa.TTLRises {
		out = append(out, pa.TTLRiseText(r, g))
	}
	for _, s := range pa.Same {
		out = append(out, fmt.Sprintf("%s holds the same packets as %s (%d, each at the same time with the same TTL and length, none at one of them only): the same capture given twice? Nothing between them can be found",
			pa.pointName(s.Down), pa.pointName(s.Up), s.Packets))
	}
	for _, e := range pa.Ended {
		out = append(out, pa.CaptureEndText(e))
	}
	for _, a := range pa.Answered {
		out = append(out, pa.AnsweredPairText(a))
	}
	for _, p := range pa.Changed {
		out = append(out, fmt.Sprintf("%s changed since it was read (other packets where it had them: overwritten in place, a tcpdump -W ring?): its segments' options were not compared", pa.pointName(p)))
	}
	return out
}

// WarningsShort says Warnings in a few words each, for a title line.
func (pa *Path) WarningsShort() []string {
	var out []string
	for _, l := range pa.Lone {
		out = append(out, pa.pointName(l.Point)+": nothing in common")
	}
	switch {
	case pa.reversed():
		out = append(out, "server side first? TTL rises")
	case len(pa.TTLRises) > 0:
		for _, r := range pa.TTLRises {
			out = append(out, pa.pointName(r.Down)+" before "+pa.pointName(r.Up)+"? TTL rises")
		}
	}
	for _, s := range pa.Same {
		out = append(out, pa.pointName(s.Down)+" = "+pa.pointName(s.Up)+"?")
	}
	for _, e := range pa.Ended {
		out = append(out, pa.CaptureEndShort(e))
	}
	for _, a := range pa.Answered {
		out = append(out, fmt.Sprintf("%d answered between %s and %s", a.Conns, pa.pointName(a.Up), pa.pointName(a.Down)))
	}
	for _, p := range pa.Changed {
		out = append(out, pa.pointName(p)+" changed since read")
	}
	return out
}

// pointName names point p by its label or file's base name.
func (pa *Path) pointName(p int) string {
	if p < 0 || p >= len(pa.Points) {
		return "?"
	}
	return filepath.Base(pa.Points[p])
}
