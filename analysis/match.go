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
		fl = filter.Fields{
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
		return e.Match(&fl)
	}
}
