package analysis

import (
	"fmt"
	"path/filepath"
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
	return fmt.Sprintf("the packets gain TTL from %s to %s (%d connection%s, %d the other way): the points look given server side first (give them client side first, as -r CLIENT … -r SERVER), or a device between them raises TTL; in that order a drop reads as an injected packet and a grown segment as one that shrank",
		name(r.Up), name(r.Down), r.Rose, plural(r.Rose), r.Fell)
}
