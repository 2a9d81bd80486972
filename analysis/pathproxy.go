package analysis

// This file tells the packets a device between two points made itself
// from those it forwarded. A forwarded packet loses the same hops of TTL
// as the rest of its side and reaches the next point after it passed the
// one before; a packet the device sent has the device's own TTL (64 on
// Linux, no hop lost) and may come first. A SYN proxy (nftables'
// synproxy, a firewall's SYN flood protection) answers the client's SYN
// itself, with its own ISN and window 0, opens its own connection to the
// server, swallows the server's SYN-ACK and sends the client its own ACK;
// from then on it shifts the server's numbers (seqadj). Its ACK, 12 µs
// before the server's reached the outside point, was taken for a copy of
// the server's, and the forwarded one for the extra copy (review
// realpath2, s1b: every connection "duplicated").

import (
	"cmp"
	"fmt"
	"math"
	"slices"
)

// hopCount is how a side's packets travel from the point they pass first
// to the next: the hops of TTL they lose, and the least time one took,
// the clocks' offset taken out (lead, in ns; it may be below 0, the offset
// being estimated); known and timed are false where no packet tells them.
type hopCount struct {
	hops  int
	known bool
	lead  int64
	timed bool
}

// sideHops returns, per side, how its segments seen once at each of two
// points (ka at a, kb at b, by key) travel between them (off: b's clock
// less a's, in seconds, NaN when not known): the median hops lost, and
// the least lead, SYNs and SYN-ACKs left out (a SYN proxy answers those
// itself, with its own TTL, before the server's come).
func sideHops(a, b *Flow, ka, kb map[segKey][]int, off float64) (out [2]hopCount) {
	var d [2][]int
	for k, la := range ka {
		lb := kb[k]
		if len(la) != 1 || len(lb) != 1 || k.flags&FlagSYN != 0 {
			continue
		}
		up, down := a.Refs[la[0]], b.Refs[lb[0]]
		if k.side == FromServer {
			up, down = down, up
		}
		d[k.side] = append(d[k.side], int(up.TTL)-int(down.TTL))
		if l, ok := lead(up, down, k.side, off); ok && (!out[k.side].timed || l < out[k.side].lead) {
			out[k.side].lead, out[k.side].timed = l, true
		}
	}
	for s := range out {
		if n := len(d[s]); n > 0 {
			slices.Sort(d[s])
			out[s].hops, out[s].known = d[s][n/2], true
		}
	}
	return out
}

// lead returns how long after up, at the point a side's packets pass
// first, down was captured at the next, the clocks' offset taken out (off:
// the client side's second point's clock less its first's, in seconds).
func lead(up, down PacketRef, side Side, off float64) (int64, bool) {
	if math.IsNaN(off) {
		return 0, false
	}
	if side == FromServer {
		off = -off
	}
	return down.Time - int64(math.Round(off*1e9)) - up.Time, true
}

// unlike reports whether a packet seen as up at the point its side passes
// first and as down at the next lost other than its side's hops: not the
// same packet forwarded, most likely, but one a device between them sent.
func (h hopCount) unlike(up, down PacketRef) bool {
	return h.known && int(up.TTL)-int(down.TTL) != h.hops
}

// before reports whether down, at the point a side's packets reach second,
// was captured before up, at the point they pass first, and sooner after
// it than any of the side's forwarded packets took (their least lead), by
// more than causalSlack: it cannot be up forwarded.
func (h hopCount) before(up, down PacketRef, side Side, off float64) bool {
	l, ok := lead(up, down, side, off)
	return ok && h.timed && l < min(0, h.lead)-causalSlack
}

// causalSlack is how much sooner than possible a packet may seem to come
// and still be the one forwarded: the clocks' offset is estimated (half
// the difference of the two directions' delays off), and capture times
// jitter. A copy 10 µs after the original, on a path whose offset came
// out 7.5 µs off, seemed to come first. A SYN proxy's SYN-ACK comes a
// round trip to the server sooner (59 µs between namespaces on one host),
// the server's second SYN-ACK 39 µs after the first had passed (s6odd);
// its own ACK only 12 µs sooner, but with its own TTL.
const causalSlack = 20_000 // ns

// synProxy is a connection's handshake as answered between two points of
// a pair (a on the client's side, b on the server's): the SYN-ACK at a is
// not the server's at b but the device's, and its SYN at b not the
// client's at a.
type synProxy struct {
	on bool
	// ttl is the device's TTL at the point its packets of each side
	// reach: its SYN's at b (client side), its SYN-ACK's at a (server
	// side).
	ttl [2]uint8
}

// answeredBetween reports whether a device between points i and j (flows
// a and b) answered the connection's handshake: the client's ISN is the
// same at both, the server's differs, and the SYN-ACK at a lost other
// than the server's packets' hops or came before the server's passed b.
// An ISN rewritten on the way alone (a firewall randomising ISNs) keeps
// the SYN-ACK forwarded: its hops and time are the side's.
func answeredBetween(a, b *Flow, hops [2]hopCount, off float64) synProxy {
	ha, hb := &a.Handshake, &b.Handshake
	if !ha.HaveSyn || !hb.HaveSyn || !ha.HaveSynAck || !hb.HaveSynAck || ha.ClientISN != hb.ClientISN || ha.ServerISN == hb.ServerISN {
		return synProxy{}
	}
	ra, okA := refOf(a, ha.SynAckFrame)
	rb, okB := refOf(b, hb.SynAckFrame)
	sb, okS := refOf(b, hb.SynFrame)
	if !okA || !okB || !okS {
		return synProxy{}
	}
	if !hops[FromServer].unlike(rb, ra) && !hops[FromServer].before(rb, ra, FromServer, off) {
		return synProxy{}
	}
	return synProxy{on: true, ttl: [2]uint8{FromClient: sb.TTL, FromServer: ra.TTL}}
}

// handshake reports whether r is one of the handshake's SYNs or SYN-ACKs
// at f's point: the device's own where it answered.
func (p synProxy) handshake(f *Flow, r PacketRef) bool {
	h := &f.Handshake
	return p.on && (h.HaveSyn && r.Frame == h.SynFrame || h.HaveSynAck && r.Frame == h.SynAckFrame)
}

// own reports whether r, a packet of side s at the point that side's
// packets reach second and not seen at the one before, is the device's
// that answered the handshake: a pure ACK (its window update to the
// client) with the device's TTL where the side's forwarded packets
// arrive with another (arrive, 0 when none tells it). A RST or data stay
// injected.
func (p synProxy) own(r PacketRef, s Side, arrive uint8) bool {
	return p.on && r.Len == 0 && r.Flags&(FlagSYN|FlagFIN|FlagRST) == 0 && r.TTL == p.ttl[s] && r.TTL != arrive
}

// arrivals lists, per side, the packets at the point its packets reach
// second that lost the side's hops on the way: forwarded, their TTL the
// one the side's packets arrive with there. In time order.
type arrivals [2][]PacketRef

func (v *arrivals) sort() {
	for s := range v {
		slices.SortFunc(v[s], func(x, y PacketRef) int { return cmp.Compare(x.Time, y.Time) })
	}
}

// near returns the forwarded packet of side s nearest in time to t.
func (v *arrivals) near(s Side, t int64) (PacketRef, bool) {
	return nearestRef(v[s], t, math.MaxInt64/2)
}

// notCopy reports whether r, a packet of side s at the point that side's
// packets reach second, is not a copy of ro, the same segment at the one
// before: it came before ro, or lost other than the side's hops, and has
// not ro's IP ID (a copy a device made keeps it).
func notCopy(ro, r PacketRef, s Side, h hopCount, off float64) bool {
	return !sameIPID(ro, r) && (h.unlike(ro, r) || h.before(ro, r, s, off))
}

// proxyText says a path.syn_proxy finding: the handshake answered between
// two points (on the SYN-ACK the device sent), or a packet the device
// sent (RelatedFrame 0).
func proxyText(w *pathWords, fi PathFinding, at, rel string) string {
	r, _ := w.refAt(fi.Point, fi.Frame)
	ttl := ""
	if o, ok := w.refAt(fi.Point, fi.OtherFrame); ok && fi.OtherFrame != 0 {
		ttl = fmt.Sprintf("TTL %d where the %s's packets arrive with %d (frame %d)", r.TTL, sideWord(fi.RelatedPoint, fi.Point), o.TTL, o.Frame)
	}
	if fi.RelatedFrame == 0 {
		s := fmt.Sprintf("%s (frame %d at %s) was not seen at %s: sent by the device between %s and %s that answered the handshake (a SYN proxy), not by the %s",
			SegmentName(r), fi.Frame, at, rel, rel, at, sideWord(fi.RelatedPoint, fi.Point))
		if ttl != "" {
			s += ": " + ttl
		}
		return s
	}
	ru, _ := w.refAt(fi.RelatedPoint, fi.RelatedFrame)
	down, up := &w.c.Flows[fi.Point].Handshake, &w.c.Flows[fi.RelatedPoint].Handshake
	diff := []string{fmt.Sprintf("ISN %d, not %d", down.ServerISN, up.ServerISN)}
	if r.Window != ru.Window {
		diff = append(diff, fmt.Sprintf("window %d, not %d", r.Window, ru.Window))
	}
	// Its options are the device's (MSS, window scale), not clamped.
	if od, ou := optionsText(down.Server, w.g.Sep), optionsText(up.Server, w.g.Sep); od != ou {
		diff = append(diff, fmt.Sprintf("options %s, not %s", od, ou))
	}
	if ttl != "" && int(ru.TTL)-int(r.TTL) != fi.Hops {
		diff = append(diff, ttl)
	}
	// The finding sits on the client's side of the pair (Point before
	// RelatedPoint).
	if l, ok := lead(ru, r, FromServer, w.pa.pairOff(fi.Point, fi.RelatedPoint)); ok && l < 0 {
		diff = append(diff, fmt.Sprintf("sent before the server's SYN-ACK reached %s", rel))
	}
	s := fmt.Sprintf("the handshake was answered between %s and %s (a SYN proxy): the SYN-ACK at %s (frame %d) is the device's, not the server's (frame %d at %s): ",
		rel, at, at, fi.Frame, fi.RelatedFrame, rel)
	for k, d := range diff {
		if k > 0 {
			s += "; "
		}
		s += d
	}
	return s + fmt.Sprintf("; the client's ISN %d is the same at both", down.ClientISN)
}
