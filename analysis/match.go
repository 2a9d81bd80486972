package analysis

import "github.com/synscope/synscope/analysis/filter"

// Matcher returns a Config.Match function that applies a tcpdump-syntax
// filter to decoded packets, or nil when the expression accepts everything.
// The filter sees the innermost IP datagram and transport ports (the
// connection's own addresses under tunnels), the tunnels' IP headers and
// UDP ports around it (Packet.Outer), and every VLAN tag.
func Matcher(e *filter.Expr) func(*Packet) bool {
	if e.MatchesAll() {
		return nil
	}
	var fl filter.Fields
	return func(p *Packet) bool {
		fieldsOf(p, &fl)
		return e.Match(&fl)
	}
}

// fieldsOf puts what the filter sees of p in fl.
func fieldsOf(p *Packet, fl *filter.Fields) {
	*fl = filter.Fields{
		VLANs:     p.VLAN,
		NVLAN:     p.NVLAN,
		IPVersion: int(p.IPVersion),
		Src:       p.Src,
		Dst:       p.Dst,
		Proto:     p.Proto,
		HasPorts:  p.HasTCP || p.Proto == 17,
		SrcPort:   p.SrcPort,
		DstPort:   p.DstPort,
		Length:    p.WireLen,
		Outer:     p.Outer,
	}
}

// selectPacket records which primitives of Config.Select the packet p of
// flow f matches, and marks f when the expression holds for the flow as a
// whole (filter.Expr.MatchSet): Flow.Marked may then go back to false
// ("not port 80" and a packet on port 80 comes).
func (a *Analyzer) selectPacket(f *Flow, p *Packet) {
	e := a.cfg.Select
	set := a.res.primSet(f.ID, e)
	fieldsOf(p, &a.selFields)
	e.MatchPrims(&a.selFields, set)
	f.Marked = e.MatchSet(set)
}

// primSet returns the set of Config.Select's primitives that the packets of
// the flow with the given id matched, making room for it. Sets are kept by
// id, outside Flow, which does not grow for a feature most runs do not use.
func (res *Result) primSet(id int, e *filter.Expr) []uint64 {
	if res.primWords == 0 {
		res.primWords = max(1, (e.Prims()+63)/64)
	}
	w := res.primWords
	i := (id - 1) * w
	if n := i + w - len(res.prims); n > 0 {
		res.prims = append(res.prims, make([]uint64, n)...)
	}
	return res.prims[i : i+w : i+w]
}

// PrimSet returns the set of Config.Select's primitives (filter.Expr
// MatchPrims) that the packets of f, a flow of res, matched; nil when the
// analysis had no Config.Select.
func (res *Result) PrimSet(f *Flow) []uint64 {
	w := res.primWords
	if w == 0 || f == nil || f.ID < 1 {
		return nil
	}
	i := (f.ID - 1) * w
	if i+w > len(res.prims) {
		return make([]uint64, w) // no packet of it was seen: none matched
	}
	return res.prims[i : i+w : i+w]
}
