package analysis

import (
	"encoding/binary"
	"math/rand/v2"
	"net/netip"
	"testing"
)

// TestFlowTableAgainstMap drives the flow table and a map with the same
// random finds, inserts and removals, with real hashes and with hashes
// forced to collide (long probe runs, wrapping around the end), and checks
// that they agree.
func TestFlowTableAgainstMap(t *testing.T) {
	for _, collide := range []bool{false, true} {
		rng := rand.New(rand.NewPCG(1, 2))
		var tab flowTable
		ref := map[[2]netip.AddrPort]*Flow{}
		hash := func(p *Packet) uint64 {
			if collide {
				return uint64(p.SrcPort%4) + 1022 // near the end of the first table
			}
			return connHash(p.Src, p.SrcPort, p.Dst, p.DstPort)
		}
		pkt := func(i int) *Packet {
			p := &Packet{Src: netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}), SrcPort: uint16(i), Dst: netip.MustParseAddr("2001:db8::1"), DstPort: 443}
			if i%2 == 1 { // the other direction
				p.Src, p.Dst, p.SrcPort, p.DstPort = p.Dst, p.Src, p.DstPort, p.SrcPort
			}
			return p
		}
		key := func(p *Packet) [2]netip.AddrPort {
			a, b := p.SrcAddrPort(), p.DstAddrPort()
			if a.Compare(b) > 0 {
				a, b = b, a
			}
			return [2]netip.AddrPort{a, b}
		}
		for op := range 20000 {
			i := rng.IntN(3000)
			p := pkt(i)
			h := hash(p)
			slot := tab.find(h, p)
			got := tab.slots[slot].f
			want := ref[key(p)]
			if got != want {
				t.Fatalf("collide=%v op %d: flow %p, want %p", collide, op, got, want)
			}
			switch {
			case want == nil:
				f := &Flow{Client: p.SrcAddrPort(), Server: p.DstAddrPort()}
				tab.set(slot, h, f)
				ref[key(p)] = f
			case rng.IntN(2) == 0:
				tab.remove(h, want)
				delete(ref, key(p))
			}
			if tab.n != len(ref) {
				t.Fatalf("collide=%v op %d: %d flows in the table, want %d", collide, op, tab.n, len(ref))
			}
		}
	}
}

// TestConnHashBothWays: both directions of a connection hash alike, and
// IPv4 and IPv4-mapped IPv6 addresses do not.
func TestConnHashBothWays(t *testing.T) {
	a, b := netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("192.168.1.2")
	if connHash(a, 1000, b, 443) != connHash(b, 443, a, 1000) {
		t.Error("the two directions hash differently")
	}
	m := netip.MustParseAddr("::ffff:10.0.0.1")
	if endpointKey(a, 1000) == endpointKey(m, 1000) {
		t.Error("10.0.0.1 and ::ffff:10.0.0.1 have the same key")
	}
}

// TestEndpointKeyIPv4: an IPv4 address, read with As4, keys as its 16
// bytes (the IPv4-mapped form) would, with the top bit flipped.
func TestEndpointKeyIPv4(t *testing.T) {
	for _, s := range []string{"0.0.0.0", "10.0.0.1", "192.168.1.2", "255.255.255.255", "172.16.2.179"} {
		a := netip.MustParseAddr(s)
		b := a.As16()
		hi, lo := binary.LittleEndian.Uint64(b[:8]), binary.LittleEndian.Uint64(b[8:])
		for _, port := range []uint16{0, 443, 65535} {
			want := (hi*0x9e3779b97f4a7c15 ^ lo) + uint64(port)*0xc2b2ae3d27d4eb4f ^ 1<<63
			if got := endpointKey(a, port); got != want {
				t.Errorf("%s:%d: key %#x, want %#x", s, port, got, want)
			}
		}
	}
}
