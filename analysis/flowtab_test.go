package analysis

import (
	"encoding/binary"
	"math/rand/v2"
	"net"
	"net/netip"
	"slices"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/synscope/synscope/capture"
)

// TestFlowTableAgainstMap drives the flow table and a map with the same
// random finds, inserts and removals, with real hashes and with hashes
// forced to collide (long probe runs, wrapping around the end), and checks
// that they agree; the list of flows closes up its removed flows' places
// now and then, as Analyzer.compact does.
func TestFlowTableAgainstMap(t *testing.T) {
	for _, collide := range []bool{false, true} {
		rng := rand.New(rand.NewPCG(1, 2))
		var (
			tab   flowTable
			flows []*Flow // as Result.Flows: nil where a flow was removed
		)
		ref := map[[2]netip.AddrPort]*Flow{}
		hash := func(p *Packet) uint64 {
			if collide {
				// The home is the top bits: near the end of the table,
				// whatever its size, and the same tag for a quarter of
				// the connections.
				return uint64(1020+p.SrcPort%4) << 54
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
			want := ref[key(p)]
			// The recent cache has the table's flow, or nothing.
			if c := tab.recentFlow(h); c != nil && sameConn(c, p) && c != want {
				t.Fatalf("collide=%v op %d: the recent cache has flow %p, the table %p", collide, op, c, want)
			}
			slot := tab.find(h, p, flows)
			got := tab.flow(slot, flows)
			if got != want {
				t.Fatalf("collide=%v op %d: flow %p, want %p", collide, op, got, want)
			}
			if got != nil && rng.IntN(3) == 0 {
				tab.remember(h, got) // as Analyzer.addHashed after a find
			}
			newFlow := func() *Flow {
				f := &Flow{pos: int32(len(flows))}
				f.SetEnds(p.SrcAddrPort(), p.DstAddrPort())
				flows = append(flows, f)
				tab.set(slot, h, f)
				ref[key(p)] = f
				return f
			}
			switch r := rng.IntN(4); {
			case want == nil:
				newFlow()
			case r == 0:
				// A new connection on the same ports: the new flow
				// takes the old one's slot; the old one stays in flows.
				newFlow()
			case r == 1:
				tab.remove(h, want)
				flows[want.pos] = nil
				delete(ref, key(p))
			}
			if tab.n != len(ref) {
				t.Fatalf("collide=%v op %d: %d flows in the table, want %d", collide, op, tab.n, len(ref))
			}
			if op%997 == 996 { // close up, as Analyzer.compact
				n := int32(0)
				for _, f := range flows {
					if f != nil {
						f.pos = n
						n++
					}
				}
				tab.renumber(flows)
				flows = slices.DeleteFunc(flows, func(f *Flow) bool { return f == nil })
			}
		}
		if len(tab.slots) < 4096 {
			t.Errorf("collide=%v: the table never grew past %d slots", collide, len(tab.slots))
		}
	}
}

// TestConnHashBothWays: both directions of a connection hash alike; an
// IPv4 address and the same address mapped into IPv6 key alike, and
// sameConn tells their connections apart.
func TestConnHashBothWays(t *testing.T) {
	a, b := netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("192.168.1.2")
	if connHash(a, 1000, b, 443) != connHash(b, 443, a, 1000) {
		t.Error("the two directions hash differently")
	}
	m, n := netip.MustParseAddr("::ffff:10.0.0.1"), netip.MustParseAddr("::ffff:192.168.1.2")
	f := &Flow{}
	f.SetEnds(netip.AddrPortFrom(a, 1000), netip.AddrPortFrom(b, 443))
	for _, c := range []struct {
		src, dst netip.Addr
		want     bool
	}{{a, b, true}, {b, a, true}, {m, n, false}, {n, m, false}} {
		for _, decoded := range []bool{false, true} {
			p := &Packet{Src: c.src, Dst: c.dst, SrcPort: 1000, DstPort: 443}
			if c.src == b || c.src == n {
				p.SrcPort, p.DstPort = 443, 1000
			}
			if decoded {
				p.IPVersion = 4
				if c.src.Is6() {
					p.IPVersion = 6
				}
				p.srcW, p.dstW, p.keysSet = addrWords(c.src), addrWords(c.dst), true
			}
			if got := sameConn(f, p); got != c.want {
				t.Errorf("sameConn(%s, %s -> %s, decoded %v) = %v", f.Client(), c.src, c.dst, decoded, got)
			}
		}
	}
}

// TestSameConnEqualPorts: sameConn compares the two ports as one word,
// each way; a connection between two equal ports matches both ways too,
// and only between its own addresses.
func TestSameConnEqualPorts(t *testing.T) {
	a, b, c := netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2"), netip.MustParseAddr("10.0.0.3")
	for _, ports := range [][2]uint16{{7000, 7000}, {7000, 443}, {443, 7000}} {
		f := &Flow{}
		f.SetEnds(netip.AddrPortFrom(a, ports[0]), netip.AddrPortFrom(b, ports[1]))
		for _, c := range []struct {
			src, dst     netip.Addr
			sport, dport uint16
			want         bool
		}{
			{a, b, ports[0], ports[1], true},
			{b, a, ports[1], ports[0], true},
			{a, b, ports[1], ports[0], ports[0] == ports[1]},
			{a, c, ports[0], ports[1], false},
			{c, a, ports[1], ports[0], false},
			{b, b, ports[1], ports[0], false},
		} {
			p := &Packet{Src: c.src, Dst: c.dst, SrcPort: c.sport, DstPort: c.dport, IPVersion: 4,
				srcW: addrWords(c.src), dstW: addrWords(c.dst), keysSet: true}
			if got := sameConn(f, p); got != c.want {
				t.Errorf("sameConn(%s-%s, %s:%d -> %s:%d) = %v", f.Client(), f.Server(), c.src, c.sport, c.dst, c.dport, got)
			}
		}
	}
}

// TestConnSideIsSideOf: connSide, which addHashed takes the sender's side
// from, says what sameConn and sideOf say, for decoded packets (the
// words) and others (the addresses): between few addresses (IPv4, the
// same mapped into IPv6, IPv6) and ports, so that ends are often equal,
// a connection to itself included, where both ways match.
func TestConnSideIsSideOf(t *testing.T) {
	addrs := []netip.Addr{netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2"),
		netip.MustParseAddr("::ffff:10.0.0.1"), netip.MustParseAddr("2001:db8::1")}
	ports := []uint16{80, 7000}
	var ends []netip.AddrPort
	for _, a := range addrs {
		for _, port := range ports {
			ends = append(ends, netip.AddrPortFrom(a, port))
		}
	}
	matched, fromServer := 0, 0
	for _, c := range ends {
		for _, s := range ends {
			if c.Addr().Is4() != s.Addr().Is4() {
				continue // a packet's two addresses are of one family
			}
			f := &Flow{}
			f.SetEnds(c, s)
			for _, src := range ends {
				for _, dst := range ends {
					if src.Addr().Is4() != dst.Addr().Is4() {
						continue
					}
					for _, decoded := range []bool{false, true} {
						p := &Packet{Src: src.Addr(), Dst: dst.Addr(), SrcPort: src.Port(), DstPort: dst.Port()}
						if decoded {
							p.IPVersion = 4
							if src.Addr().Is6() {
								p.IPVersion = 6
							}
							p.srcW, p.dstW, p.keysSet = addrWords(src.Addr()), addrWords(dst.Addr()), true
						}
						want := notConn
						if c == src && s == dst || c == dst && s == src {
							want = f.sideOf(p)
						}
						if got := connSide(f, p); got != want {
							t.Errorf("connSide(%s-%s, %s -> %s, decoded %v) = %d, want %d", c, s, src, dst, decoded, got, want)
						}
						if want != notConn {
							matched++
							if want == FromServer {
								fromServer++
							}
						}
					}
				}
			}
		}
	}
	if matched == 0 || fromServer == 0 {
		t.Errorf("%d packets of their flow, %d from the server: the test compares too little", matched, fromServer)
	}
}

// TestEndpointKeyIPv4: an IPv4 address, read with As4, keys as its 16
// bytes (the IPv4-mapped form) would.
func TestEndpointKeyIPv4(t *testing.T) {
	for _, s := range []string{"0.0.0.0", "10.0.0.1", "192.168.1.2", "255.255.255.255", "172.16.2.179"} {
		a := netip.MustParseAddr(s)
		b := a.As16()
		hi, lo := binary.LittleEndian.Uint64(b[:8]), binary.LittleEndian.Uint64(b[8:])
		for _, port := range []uint16{0, 443, 65535} {
			want := (mix64(hi^hashKey[0]) ^ lo) + uint64(port)*0xc2b2ae3d27d4eb4f
			if got := endpointKey(a, port); got != want {
				t.Errorf("%s:%d: key %#x, want %#x", s, port, got, want)
			}
		}
	}
}

// TestPacketHash: the hash of a packet taken from the words the decoder
// read (Packet.srcW) is connHash of its addresses, as is the hash eviction
// computes from the flow's endpoints (flowHash), and the pseudo-header sum
// from the decoder's addrSum is the one the addresses give; an IPv4 packet
// inside IPv6 takes the inner addresses'.
func TestPacketHash(t *testing.T) {
	rnd := rand.New(rand.NewPCG(3, 4))
	for i := range 400 {
		var s, d [16]byte
		for j := range s {
			s[j], d[j] = byte(rnd.Uint32()), byte(rnd.Uint32())
		}
		var p Packet
		if i%2 == 0 {
			p.IPVersion = 4
			p.setKeys4(s[:4], d[:4])
			p.Src, p.Dst = netip.AddrFrom4([4]byte(s[:4])), netip.AddrFrom4([4]byte(d[:4]))
		} else {
			p.IPVersion = 6
			p.setKeys6(s[:], d[:])
			p.Src, p.Dst = netip.AddrFrom16(s), netip.AddrFrom16(d)
		}
		p.SrcPort, p.DstPort = uint16(rnd.Uint32()), uint16(rnd.Uint32())
		want := connHash(p.Src, p.SrcPort, p.Dst, p.DstPort)
		if got := packetHash(&p); got != want {
			t.Fatalf("case %d %v:%d > %v:%d: packetHash %#x, connHash %#x", i, p.Src, p.SrcPort, p.Dst, p.DstPort, got, want)
		}
		var f Flow
		f.SetEnds(p.DstAddrPort(), p.SrcAddrPort())
		if got := flowHash(&f); got != want {
			t.Fatalf("case %d %v:%d > %v:%d: flowHash %#x, connHash %#x", i, p.Src, p.SrcPort, p.Dst, p.DstPort, got, want)
		}
		q := p
		q.keysSet = false
		if got, want := pseudoSum(&p, 100), pseudoSum(&q, 100); got != want {
			t.Fatalf("case %d %v > %v: pseudo-header sum %#x from the decoder's, %#x from the addresses", i, p.Src, p.Dst, got, want)
		}
	}

	// IPv4 in IPv6: the decoder goes through the IPv6 header first.
	eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{0, 1, 2, 3, 4, 5}, DstMAC: net.HardwareAddr{0, 1, 2, 3, 4, 6}, EthernetType: layers.EthernetTypeIPv6}
	outer := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolIPv4,
		SrcIP: net.ParseIP("2001:db8::1"), DstIP: net.ParseIP("2001:db8::2")}
	inner := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: net.IPv4(10, 0, 0, 1), DstIP: net.IPv4(10, 0, 0, 2)}
	tcp := &layers.TCP{SrcPort: 40000, DstPort: 443, Seq: 1, SYN: true, Window: 1000}
	if err := tcp.SetNetworkLayerForChecksum(inner); err != nil {
		t.Fatal(err)
	}
	sb := gopacket.NewSerializeBuffer()
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	if err := gopacket.SerializeLayers(sb, opts, eth, outer, inner, tcp); err != nil {
		t.Fatal(err)
	}
	var p Packet
	NewDecoder().Decode(&capture.Record{Frame: 1, Data: sb.Bytes(), OrigLen: uint32(len(sb.Bytes())), LinkType: layers.LinkTypeEthernet}, &p)
	if p.Tunnel != TunnelIPIP || p.IPVersion != 4 || p.TCPChecksum != CheckGood {
		t.Fatalf("IPv4 in IPv6: tunnel %v, IP version %d, checksum %v", p.Tunnel, p.IPVersion, p.TCPChecksum)
	}
	if got, want := packetHash(&p), connHash(p.Src, p.SrcPort, p.Dst, p.DstPort); got != want {
		t.Errorf("IPv4 in IPv6: packetHash %#x, connHash %#x", got, want)
	}
}

// TestHashCraftedCollisions: connections made to collide under the flow
// table's old hash get distinct hashes. Between two IPv4 addresses on equal
// ports, swapping address bits between the ends kept the keys' AND and XOR,
// which were all the old combination kept (128k such SYNs took 70 s, each
// compared with every flow before it); IPv6 addresses whose low word
// cancels the high word's product had one key whatever the address.
func TestHashCraftedCollisions(t *testing.T) {
	const n = 4096
	seen := map[uint64]int{}
	homes := map[uint32]int{}
	for i := range n {
		// Bits 0-11 of i decide which end has each of twelve bits;
		// bit 12 is the first end's, so that no two are one connection.
		var a, b uint32 = 0x0a001000, 0x0a000000
		for bit := range 12 {
			if i>>bit&1 == 0 {
				a |= 1 << bit
			} else {
				b |= 1 << bit
			}
		}
		src := netip.AddrFrom4([4]byte{byte(a >> 24), byte(a >> 16), byte(a >> 8), byte(a)})
		dst := netip.AddrFrom4([4]byte{byte(b >> 24), byte(b >> 16), byte(b >> 8), byte(b)})
		h := connHash(src, 80, dst, 80)
		seen[h]++
		homes[uint32(h>>32)>>20]++
	}
	if len(seen) != n {
		t.Errorf("%d bit-swapped IPv4 connections on port 80 have %d distinct hashes", n, len(seen))
	}
	// Spread over 4,096 homes (the top 12 bits): a fair hash leaves
	// about 37% empty and puts at most a dozen in one.
	worst := 0
	for _, c := range homes {
		worst = max(worst, c)
	}
	if worst > 16 {
		t.Errorf("%d of the bit-swapped connections start at one slot of 4,096", worst)
	}
	keys := map[uint64]bool{}
	for i := range n {
		var b [16]byte
		hi := uint64(0x20010db8_00000000) | uint64(i)
		lo := 0x1234 ^ hi*0x9e3779b97f4a7c15
		binary.LittleEndian.PutUint64(b[:8], hi)
		binary.LittleEndian.PutUint64(b[8:], lo)
		keys[endpointKey(netip.AddrFrom16(b), 443)] = true
	}
	if len(keys) != n {
		t.Errorf("%d IPv6 addresses made to cancel have %d distinct keys", n, len(keys))
	}
}

// TestHashSpread holds the hash of connections shaped as captures shape
// them (a SYN flood from one /16 to one port, one client's every port to
// one server, a grid of hosts on one port pair, IPv6 hosts counted up) to
// what a random function gives, under several keys: every hash distinct,
// at most 16 of 65,536 in one home of a 65,536-slot table (a fair hash puts
// about 8 in the fullest) and at most 48 in one of the recent cache's 4,096
// entries (about 32). The top bits give the home, the low bits the entry.
func TestHashSpread(t *testing.T) {
	const n = 1 << 16
	v4 := func(a uint32) netip.Addr {
		return netip.AddrFrom4([4]byte{byte(a >> 24), byte(a >> 16), byte(a >> 8), byte(a)})
	}
	v6 := func(i int) netip.Addr {
		var b [16]byte
		b[0], b[1], b[2], b[3] = 0x20, 0x01, 0x0d, 0xb8
		binary.BigEndian.PutUint32(b[12:], uint32(i))
		return netip.AddrFrom16(b)
	}
	families := map[string]func(i int) (netip.Addr, uint16, netip.Addr, uint16){
		"syn flood": func(i int) (netip.Addr, uint16, netip.Addr, uint16) {
			return v4(0x0a000000 | uint32(i)), uint16(1024 + i%50000), v4(0xc0000201), 443
		},
		"one client's ports": func(i int) (netip.Addr, uint16, netip.Addr, uint16) {
			return v4(0x0a000001), uint16(i), v4(0x0a000002), 80
		},
		"host grid": func(i int) (netip.Addr, uint16, netip.Addr, uint16) {
			return v4(0x0a000000 | uint32(i>>8)), 40000, v4(0x0a010000 | uint32(i&0xff)), 443
		},
		"ipv6 hosts": func(i int) (netip.Addr, uint16, netip.Addr, uint16) {
			return v6(i + 2), 50000, v6(1), 443
		},
	}
	saved, savedV4 := hashKey, v4Key
	t.Cleanup(func() { hashKey, v4Key = saved, savedV4 })
	rnd := rand.New(rand.NewPCG(7, 8))
	for round := range 4 {
		hashKey = [3]uint64{rnd.Uint64(), rnd.Uint64(), rnd.Uint64()}
		v4Key = mix64(hashKey[0])
		for name, conn := range families {
			seen := make(map[uint64]bool, n)
			var homes [n]uint16
			var entries [recentN]uint16
			for i := range n {
				src, sport, dst, dport := conn(i)
				h := connHash(src, sport, dst, dport)
				seen[h] = true
				homes[uint32(h>>32)>>16]++
				entries[h&(recentN-1)]++
			}
			if len(seen) != n {
				t.Errorf("round %d, %s: %d connections have %d distinct hashes", round, name, n, len(seen))
			}
			if w := slices.Max(homes[:]); w > 16 {
				t.Errorf("round %d, %s: %d connections start at one slot of %d", round, name, w, n)
			}
			if w := slices.Max(entries[:]); w > 48 {
				t.Errorf("round %d, %s: %d connections share one of the recent cache's %d entries", round, name, w, recentN)
			}
		}
	}
}
