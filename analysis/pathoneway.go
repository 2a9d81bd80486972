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
