package analysis

import (
	"fmt"
	"path/filepath"
)

// oneWayPointMin is how many connections joined at a point, whose packets
// of a side other points saw, must all lack that side there before the
// point's capture, not each connection, is said to leave the side out.
// Below it the connections say it each (path.one_way), a few lines: two
// or three connections without a direction may each take another route,
// while ten or more on every route the point sees, none with a single
// packet of one side, is the capture (a SPAN of one direction, a
// "src host" filter, a route all of that side takes round the point).
// At 10,000 connections one point captured client→server only: every
// connection at the point before it said path.one_way, and turned from
// ok to warning, for one fact about one capture.
const oneWayPointMin = 10

// OneWayPoint is a capture point that holds none of one side's packets of
// the connections joined there, though other points saw them.
type OneWayPoint struct {
	Point   int
	Missing Side // the side whose packets the capture leaves out
	// Conns is how many connections joined at Point had packets of
	// Missing at another point: none of them had one at Point.
	Conns int
}

// oneWayPoints finds the points whose capture left one side out
// (oneWayPointMin). Only flows whose direction came from a SYN or SYN-ACK
// are counted: one whose direction was guessed may have its sides
// swapped, and one "server" packet of it would hide the fact, or make it.
func (pa *Path) oneWayPoints() []OneWayPoint {
	var out []OneWayPoint
	for p := range pa.points {
		var elsewhere, here [2]int
		for _, c := range pa.Conns {
			f := c.Flows[p]
			if f == nil || f.DirectionGuessed {
				continue
			}
			var other [2]bool
			for q, g := range c.Flows {
				if q != p && g != nil && !g.DirectionGuessed {
					h := hasSides(g)
					other[0], other[1] = other[0] || h[0], other[1] || h[1]
				}
			}
			at := hasSides(f)
			for s := range 2 {
				if other[s] {
					elsewhere[s]++
					if at[s] {
						here[s]++
					}
				}
			}
		}
		for s := range 2 {
			if elsewhere[s] >= oneWayPointMin && here[s] == 0 {
				out = append(out, OneWayPoint{Point: p, Missing: Side(s), Conns: elsewhere[s]})
			}
		}
	}
	return out
}

// hasSides reports whether f holds packets (not fragments) of each side.
func hasSides(f *Flow) [2]bool {
	var h [2]bool
	for _, r := range f.Refs {
		if r.Bits&RefFragment == 0 {
			h[r.Side()] = true
			if h[0] && h[1] {
				break
			}
		}
	}
	return h
}

// lacks reports whether point p's capture leaves side s out (OneWay).
func (pa *Path) lacks(p int, s Side) bool {
	for _, o := range pa.OneWay {
		if o.Point == p && o.Missing == s {
			return true
		}
	}
	return false
}

// connOneWay is what oneWayConns found of one side of a connection's
// flow at a point whose capture holds none of that side's packets.
type connOneWay struct {
	// ack is the frame at the point whose ACK acknowledged the side's
	// packets seen at a neighbouring point; 0 when none did, and the
	// side is not taken as left out.
	ack uint64
	// say is the neighbouring point whose flow says the connection's
	// path.one_way: the one the side's packets reach next, else the one
	// they came from.
	say int
}

// ackSlack is how far beyond the last byte of a side a neighbouring point
// saw sent an ACK number at the one-way point may go and still count as
// acknowledging it: a middlebox between them may add bytes (the seed's
// 2 bytes of SYN-ACK padding are acknowledged at the inside, not sent at
// the outside), but a receiver acknowledges no more than a window (64 KB
// unscaled) beyond what was sent, and numbers rewritten on the way (a SYN
// proxy's own ISN) land in 64 KB of 4 GB by chance once in 65,536.
const ackSlack = 65535

// oneWayConns finds, below the point-wide rule (oneWayPointMin), the
// connections a point's capture holds one direction of: their flow there
// has no packet of one side, and the other side's ACKs there acknowledge
// that side's SYN or data as a neighbouring point saw it. Those packets
// were sent past the point and the capture left them out (a one-way
// SPAN or a "src host" filter with fewer than 10 connections, a route
// of one direction round the point): the seed with its inside filtered
// to the client's direction had its two SYN-ACKs "injected" between the
// inside and the client, though the inside's own flow said they were
// sent (handshake.not_seen, from the client's ACK). Without such an ACK
// (the SYN-ACK dropped before the point, the client sending SYNs only)
// nothing shows that they passed, and the side is compared as before.
func (pa *Path) oneWayConns() map[*Flow]*[2]connOneWay {
	out := map[*Flow]*[2]connOneWay{}
	for _, c := range pa.Conns {
		for k, mid := range c.Flows {
			if mid == nil {
				continue
			}
			at := hasSides(mid)
			for s := range Side(2) {
				if at[s] || !at[1-s] || pa.lacks(k, s) {
					continue
				}
				var w connOneWay
				down, up := -1, -1
				for _, q := range pa.partners(c, k) {
					g := c.Flows[q]
					if !hasSides(g)[s] {
						continue
					}
					if ack, ok := pa.acknowledgedAt(k, q, mid, g, s); ok && (w.ack == 0 || ack < w.ack) {
						w.ack = ack
					}
					// The client's packets travel to higher points.
					if (s == FromClient) == (q > k) {
						down = q
					} else {
						up = q
					}
				}
				if w.ack == 0 {
					continue
				}
				w.say = down
				if down < 0 {
					w.say = up
				}
				if out[mid] == nil {
					out[mid] = &[2]connOneWay{}
				}
				out[mid][s] = w
			}
		}
	}
	return out
}

// partners returns the points whose flows of c compare compares with the
// flow at point k: the neighbours, or the point beyond one that missed
// the connection (joinAcross); not a neighbour whose sides were swapped.
func (pa *Path) partners(c *Connection, k int) []int {
	var out []int
	for _, d := range []int{-1, 1} {
		q := k + d
		if q >= 0 && q < len(c.Flows) && c.Flows[q] == nil {
			q += d
		}
		if q < 0 || q >= len(c.Flows) || c.Flows[q] == nil {
			continue
		}
		lo, hi := min(k, q), max(k, q)
		if pa.swapped[c.Flows[lo]] == c.Flows[hi] {
			continue
		}
		out = append(out, q)
	}
	return out
}

// acknowledgedAt reports whether the flow mid at point k, which holds no
// packet of side s, acknowledges a SYN or data segment of s that the flow
// g at point q saw: an ACK number at k, in the numbers the two compare
// in (pairBases), from the end of g's first such segment to ackSlack past
// its last. It returns the first frame at k that does.
func (pa *Path) acknowledgedAt(k, q int, mid, g *Flow, s Side) (uint64, bool) {
	var bm, bg [2]uint32
	if k < q {
		bm, bg = pairBases(mid, g, pa.shifts.of(mid, g))
	} else {
		bg, bm = pairBases(g, mid, pa.shifts.of(g, mid))
	}
	first, last, any := int64(0), int64(0), false
	for _, r := range g.Refs {
		if r.Bits&RefFragment != 0 || r.Side() != s || r.Flags&FlagRST != 0 || r.Len == 0 && r.Flags&(FlagSYN|FlagFIN) == 0 {
			continue
		}
		end := r.Seq - bg[s] + r.Len
		if r.Flags&FlagSYN != 0 {
			end++
		}
		if r.Flags&FlagFIN != 0 {
			end++
		}
		e := int64(int32(end))
		if !any || e < first {
			first = e
		}
		if !any || e > last {
			last = e
		}
		any = true
	}
	if !any {
		return 0, false
	}
	for _, r := range mid.Refs {
		if r.Bits&RefFragment != 0 || r.Side() == s || r.Flags&FlagACK == 0 || r.Flags&FlagRST != 0 {
			continue
		}
		if rel := int64(int32(r.Ack - bm[s])); rel >= first && rel <= last+ackSlack {
			return r.Frame, true
		}
	}
	return 0, false
}

// leftOut reports whether side s of the flow f at point p is not in p's
// capture: the point leaves it out for every connection (OneWay), or for
// f's (oneWayConns).
func (pa *Path) leftOut(p int, f *Flow, s Side) bool {
	if pa.lacks(p, s) {
		return true
	}
	w := pa.connOneWay[f]
	return f != nil && w != nil && w[s].ack != 0
}

// LeftOut reports whether connection c's side s is not in point p's
// capture: the point holds the other direction only, for every
// connection (OneWay) or for c (its ACKs there acknowledge what the
// capture does not hold). That side's packets are compared between the
// points either side of p, not with p.
func (pa *Path) LeftOut(c *Connection, p int, s Side) bool {
	if p < 0 || p >= len(c.Flows) {
		return false
	}
	return pa.leftOut(p, c.Flows[p], s)
}

// OneWayText says a one-way point in words, with the glyphs g: once for
// the path, where the clock offsets are said.
func (pa *Path) OneWayText(o OneWayPoint, g PathGlyphs) string {
	at := "?"
	if o.Point >= 0 && o.Point < len(pa.Points) {
		at = filepath.Base(pa.Points[o.Point])
	}
	return fmt.Sprintf("%s captured %s packets only, in all %d connection%s whose %s packets other points saw: its capture leaves the %s's out (a one-way SPAN?), or they take another route; no connection is called one-way or dropped for that",
		at, o.Direction(g.Arrow), o.Conns, plural(o.Conns), sideName(o.Missing), sideName(o.Missing))
}

// Direction names the direction the point did capture, "client→server"
// with arrow "→".
func (o OneWayPoint) Direction(arrow string) string {
	if o.Missing == FromClient {
		return "server" + arrow + "client"
	}
	return "client" + arrow + "server"
}

// OneWayRecord is a one-way point in the "path" object of a JSON record.
type OneWayRecord struct {
	Capture     string `json:"capture"`
	Missing     string `json:"missing"` // "client" or "server": whose packets it leaves out
	Connections int    `json:"connections"`
	Message     string `json:"message"`
}

// oneWayRecords returns the path's one-way points for the JSON record,
// nil when there are none.
func (pa *Path) oneWayRecords() []OneWayRecord {
	var out []OneWayRecord
	for _, o := range pa.OneWay {
		out = append(out, OneWayRecord{Capture: pa.Points[o.Point], Missing: sideName(o.Missing), Connections: o.Conns, Message: pa.OneWayText(o, unicodeGlyphs)})
	}
	return out
}
