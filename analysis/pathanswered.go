package analysis

// This file says a connection that ends between two points: its SYN
// never reached the next point on its way, though that capture ran, and
// its SYN-ACK came back without having passed there. A transparent proxy
// (an nftables redirect to a relay on the router, review realpath3
// s3transp) answers the client's connection itself and opens its own to
// the server; the client's was "✓ the same segments at every point that
// saw them", nothing said, while a SYN that never reached the next point
// unanswered is a drop (s5full). path.syn_proxy is another story: there
// the device passes the connection on (the client's ISN reaches the
// server), here it ends it.
//
// A connection of the firewall's other interfaces (a client on the
// inside talking to a host on a DMZ) looks the same from two points: its
// SYN-ACK did not pass outside either. It is told apart by the server:
// said only where the next point saw the server's address and port in
// another connection, the server being reached that way, and by the
// SYN-ACK's TTL (notForwarded).

import (
	"fmt"
	"math"
	"slices"
)

// AnsweredPair is a pair of neighbouring points between which several
// connections were answered (path.answered_between), said once for the
// path.
type AnsweredPair struct {
	Up, Down int
	Conns    int
}

// answeredBetween says, on flow f at point at, that the connection was
// answered between at and the next point to on its way to the server:
// called where the SYN-ACK (at at) was not seen at to while its capture
// ran (missing). It reports whether it said so.
func (pa *Path) answeredBetween(at, to int, f *Flow) bool {
	h := &f.Handshake
	if to != at+1 || !h.HaveSyn || !h.HaveSynAck || pa.lacks(to, FromClient) || pa.lacks(to, FromServer) {
		return false
	}
	syn, ok := refOf(f, h.SynFrame)
	sa, ok2 := refOf(f, h.SynAckFrame)
	if !ok || !ok2 || !pa.ranDuring(to, at, f) || !pa.notForwarded(at, to, f, sa) {
		return false
	}
	pa.add(f, PathFinding{Code: PathAnswered, Point: at, Frame: sa.Frame, RelatedPoint: to, OtherFrame: syn.Frame})
	if pa.answered == nil {
		pa.answered = map[int]int{}
	}
	pa.answered[at]++
	return true
}

// ranDuring reports whether point to's capture ran while a packet of f
// (at point at) passed: between its first and last packet, the clocks'
// offset taken out, or taken as none where no connection tells it (the
// proxy ended every connection that would have). The SYN and SYN-ACK
// may come before to's first packet: a proxy opens its own connection
// once it answered the client's.
func (pa *Path) ranDuring(to, at int, f *Flow) bool {
	off := pa.pairOff(at, to)
	if math.IsNaN(off) {
		off = 0
	}
	first, last := pa.span[to][0], pa.span[to][1]
	for _, r := range f.Refs {
		if tt := r.Time + int64(off*1e9); r.Bits&RefFragment == 0 && tt >= first && tt <= last {
			return true
		}
	}
	return false
}

// notForwarded reports whether the SYN-ACK sa, at point at, cannot be the
// server's forwarded from point to: to saw the server (its address and
// port) in other connections, and sa's TTL is not below the TTL the
// server's packets have at to (a router between them takes one off, a
// proxy on it sends with its own, 64 on Linux), nor the one those of its
// connections that passed both points arrive at at with. A connection of
// a client on the same LAN as the server, or of a firewall's other
// interface, whose SYN-ACK came another way, has the TTL of the server's
// forwarded packets (review realpath3, s3transp: 64 at inside, from the
// router; the server's 64 at outside).
func (pa *Path) notForwarded(at, to int, f *Flow, sa PacketRef) bool {
	server := f.Server()
	seen := false
	for _, g := range pa.points[to].Result.Flows {
		if g.Server() != server {
			continue
		}
		seen = true
		if r, ok := firstOfSide(g, FromServer); ok && sa.TTL < r.TTL {
			return false
		}
	}
	if !seen {
		return false
	}
	for _, g := range pa.points[at].Result.Flows {
		if c := pa.conn[g]; g == f || g.Server() != server || c == nil || c.Flows[to] == nil {
			continue
		}
		if r, ok := firstOfSide(g, FromServer); ok && r.TTL == sa.TTL {
			return false
		}
	}
	return true
}

// firstOfSide returns f's first packet of side s.
func firstOfSide(f *Flow, s Side) (PacketRef, bool) {
	for _, r := range f.Refs {
		if r.Bits&RefFragment == 0 && r.Side() == s {
			return r, true
		}
	}
	return PacketRef{}, false
}

// answeredPairs returns the pairs of points between which more than one
// connection was answered.
func (pa *Path) answeredPairs() []AnsweredPair {
	var out []AnsweredPair
	for i := range pa.points {
		if n := pa.answered[i]; n > 1 {
			out = append(out, AnsweredPair{Up: i, Down: i + 1, Conns: n})
		}
	}
	return out
}

// explainedLone returns pa.Lone without the points of a pair between
// which connections were answered: a proxy between inside and outside
// ends the client's connections at inside and opens its own at outside,
// so the two points share none, and "the wrong file, interface or
// capture filter?" sent the engineer to check a capture that was right
// (the realpath3 review's transparent relay, with those two points only).
// The pair's own line says what they saw.
func (pa *Path) explainedLone() []LonePoint {
	var out []LonePoint
	for _, l := range pa.Lone {
		if !slices.ContainsFunc(pa.Answered, func(a AnsweredPair) bool { return a.Up == l.Point || a.Down == l.Point }) {
			out = append(out, l)
		}
	}
	return out
}

// answeredText says a path.answered_between finding.
func answeredText(w *pathWords, fi PathFinding, at, rel string) string {
	f := w.c.Flows[fi.Point]
	ran := rel + "'s capture ran"
	if math.IsNaN(w.pa.pairOff(fi.Point, fi.RelatedPoint)) {
		// No connection passed both: the clocks taken as the same.
		ran += " (clocks taken as the same: no connection passed both)"
	}
	return fmt.Sprintf("answered between %s and %s: its SYN (frame %d at %s) never reached %s and its SYN-ACK (frame %d) did not come from there, though %s and saw the server %s: a proxy (transparent, or a device answering for the server) ended it, or it left %s another way",
		at, rel, fi.OtherFrame, at, rel, fi.Frame, ran, f.Server(), at)
}

// AnsweredPairText says an AnsweredPair in words, once for the path.
func (pa *Path) AnsweredPairText(p AnsweredPair) string {
	return fmt.Sprintf("%d connections were answered between %s and %s: their SYNs never reached %s, nor did their SYN-ACKs come from there (a proxy between them?); they are compared up to %s only",
		p.Conns, pa.pointName(p.Up), pa.pointName(p.Down), pa.pointName(p.Down), pa.pointName(p.Up))
}
