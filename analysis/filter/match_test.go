package filter

import (
	"net/netip"
	"slices"
	"sort"
	"strings"
	"testing"
)

func ip(s string) netip.Addr { return netip.MustParseAddr(s) }

// matchFields is the table of packets the match tests run over.
var matchFields = []struct {
	name string
	f    Fields
}{
	{"v4tcp", Fields{IPVersion: 4, Src: ip("10.0.0.1"), Dst: ip("192.168.1.10"), Proto: 6, HasPorts: true, SrcPort: 34567, DstPort: 80, Length: 74}},
	{"v4tcpRev", Fields{IPVersion: 4, Src: ip("192.168.1.10"), Dst: ip("10.0.0.1"), Proto: 6, HasPorts: true, SrcPort: 80, DstPort: 34567, Length: 1514}},
	{"v4ssh", Fields{IPVersion: 4, Src: ip("10.0.0.2"), Dst: ip("10.0.0.1"), Proto: 6, HasPorts: true, SrcPort: 51000, DstPort: 22, Length: 66}},
	{"v4dns", Fields{IPVersion: 4, Src: ip("10.1.2.3"), Dst: ip("8.8.8.8"), Proto: 17, HasPorts: true, SrcPort: 53000, DstPort: 53, Length: 80}},
	{"v4ntp", Fields{IPVersion: 4, Src: ip("172.16.5.4"), Dst: ip("172.31.255.1"), Proto: 17, HasPorts: true, SrcPort: 123, DstPort: 123, Length: 90}},
	{"v4icmp", Fields{IPVersion: 4, Src: ip("10.0.0.1"), Dst: ip("1.1.1.1"), Proto: 1, Length: 98}},
	{"v4self", Fields{IPVersion: 4, Src: ip("10.0.0.1"), Dst: ip("10.0.0.1"), Proto: 6, HasPorts: true, SrcPort: 5000, DstPort: 5001, Length: 60}},
	{"v4frag", Fields{IPVersion: 4, Src: ip("10.0.0.9"), Dst: ip("10.0.0.10"), Proto: 17, Length: 600}},
	{"v4gre", Fields{IPVersion: 4, Src: ip("10.0.0.5"), Dst: ip("10.0.0.6"), Proto: 47, Length: 100}},
	{"v4sctp", Fields{IPVersion: 4, Src: ip("10.0.0.5"), Dst: ip("10.0.0.6"), Proto: 132, HasPorts: true, SrcPort: 2905, DstPort: 2905, Length: 100}},
	{"v4udplite", Fields{IPVersion: 4, Src: ip("10.0.0.5"), Dst: ip("10.0.0.6"), Proto: 136, HasPorts: true, SrcPort: 80, DstPort: 80, Length: 100}},
	// A decoder that hands IPv4 addresses over in their 16-byte form.
	{"v4as16", Fields{IPVersion: 4, Src: ip("::ffff:10.0.0.1"), Dst: ip("::ffff:10.0.0.3"), Proto: 6, HasPorts: true, SrcPort: 40000, DstPort: 443, Length: 60}},
	{"v6tcp", Fields{IPVersion: 6, Src: ip("2001:db8:1::2"), Dst: ip("2001:db8::1"), Proto: 6, HasPorts: true, SrcPort: 50000, DstPort: 443, Length: 86}},
	{"v6mdns", Fields{IPVersion: 6, Src: ip("fe80::1%eth0"), Dst: ip("ff02::fb"), Proto: 17, HasPorts: true, SrcPort: 5353, DstPort: 5353, Length: 120}},
	{"v6icmp", Fields{IPVersion: 6, Src: ip("2001:db8::1"), Dst: ip("2001:db8::2"), Proto: 58, Length: 118}},
	// An IPv6 packet carrying an IPv4-mapped address.
	{"v6mapped", Fields{IPVersion: 6, Src: ip("::ffff:10.0.0.1"), Dst: ip("2001:db8::1"), Proto: 6, HasPorts: true, SrcPort: 34000, DstPort: 80, Length: 86}},
	{"vlan100", Fields{VLANs: [4]uint16{100}, NVLAN: 1, IPVersion: 4, Src: ip("10.0.0.1"), Dst: ip("192.168.1.10"), Proto: 6, HasPorts: true, SrcPort: 34567, DstPort: 80, Length: 78}},
	{"vlan200v6", Fields{VLANs: [4]uint16{200}, NVLAN: 1, IPVersion: 6, Src: ip("2001:db8::1"), Dst: ip("2001:db8::53"), Proto: 17, HasPorts: true, SrcPort: 40000, DstPort: 53, Length: 100}},
	{"qinq", Fields{VLANs: [4]uint16{100, 200}, NVLAN: 2, IPVersion: 4, Src: ip("10.1.2.3"), Dst: ip("8.8.8.8"), Proto: 17, HasPorts: true, SrcPort: 53000, DstPort: 53, Length: 88}},
	{"qinq300", Fields{VLANs: [4]uint16{300, 100}, NVLAN: 2, IPVersion: 4, Src: ip("192.168.7.7"), Dst: ip("10.0.0.1"), Proto: 6, HasPorts: true, SrcPort: 443, DstPort: 40001, Length: 70}},
	{"deep5", Fields{VLANs: [4]uint16{1, 2, 3, 4}, NVLAN: 5, IPVersion: 4, Src: ip("10.9.9.9"), Dst: ip("10.9.9.8"), Proto: 6, HasPorts: true, SrcPort: 1, DstPort: 2, Length: 90}},
	{"nonip", Fields{Length: 60}},
	// IPVersion is authoritative: left-over fields of a non-IP packet are ignored.
	{"nonipStale", Fields{Src: ip("10.0.0.1"), Dst: ip("10.0.0.2"), Proto: 6, HasPorts: true, SrcPort: 80, DstPort: 80, Length: 64}},
}

// TestMatch evaluates each expression over matchFields and compares the set
// of packets it accepts.
func TestMatch(t *testing.T) {
	const all = "*"
	tests := []struct {
		expr string
		want string // space-separated names, "*" for all, "-" prefix for all but
	}{
		{"", all},

		// Protocols.
		{"ip", "v4tcp v4tcpRev v4ssh v4dns v4ntp v4icmp v4self v4frag v4gre v4sctp v4udplite v4as16 vlan100 qinq qinq300 deep5"},
		{"ip6", "v6tcp v6mdns v6icmp v6mapped vlan200v6"},
		{"tcp", "v4tcp v4tcpRev v4ssh v4self v4as16 v6tcp v6mapped vlan100 qinq300 deep5"},
		{"udp", "v4dns v4ntp v4frag v6mdns vlan200v6 qinq"},
		{"icmp", "v4icmp"},
		{"icmp6", "v6icmp"},
		{"sctp", "v4sctp"},
		{"ip proto 47", "v4gre"},
		{"proto 47", "v4gre"},
		{"ip6 proto 47", ""},
		{"ip proto 17", "v4dns v4ntp v4frag qinq"},
		{"ip6 proto 17", "v6mdns vlan200v6"},
		{"proto 136", "v4udplite"},
		{`proto \icmp6`, "v6icmp"},
		{"ip proto 58", ""},
		{"not ip and not ip6", "nonip nonipStale"},

		// host.
		{"host 10.0.0.1", "v4tcp v4tcpRev v4ssh v4icmp v4self v4as16 vlan100 qinq300"},
		{"src host 10.0.0.1", "v4tcp v4icmp v4self v4as16 vlan100"},
		{"dst host 10.0.0.1", "v4tcpRev v4ssh v4self qinq300"},
		{"src and dst host 10.0.0.1", "v4self"},
		{"src or dst host 10.0.0.1", "v4tcp v4tcpRev v4ssh v4icmp v4self v4as16 vlan100 qinq300"},
		{"ip host 10.0.0.1", "v4tcp v4tcpRev v4ssh v4icmp v4self v4as16 vlan100 qinq300"},
		{"host 10.0.0.3", "v4as16"},
		{"host ::ffff:10.0.0.1", "v6mapped"},
		{"ip6 host ::ffff:10.0.0.1", "v6mapped"},
		{"host 2001:db8::1", "v6tcp v6icmp v6mapped vlan200v6"},
		{"ip6 src 2001:db8::1", "v6icmp vlan200v6"},
		{"host fe80::1", "v6mdns"}, // the packet's zone is ignored
		{"dst host ff02::fb", "v6mdns"},
		{"host 1.2.3.4 or 8.8.8.8", "v4dns qinq"},

		// net.
		{"net 10", "v4tcp v4tcpRev v4ssh v4dns v4icmp v4self v4frag v4gre v4sctp v4udplite v4as16 vlan100 qinq qinq300 deep5"},
		{"net 10.1", "v4dns qinq"},
		{"net 10.1.2", "v4dns qinq"},
		{"net 10.1.2.3", "v4dns qinq"},
		{"net 172.16.0.0/12", "v4ntp"},
		{"net 172.16/12", "v4ntp"},
		{"src net 172.16/16", "v4ntp"},
		{"dst net 172.16/16", ""},
		{"dst net 192.168", "v4tcp vlan100"},
		{"src and dst net 10.0.0.0/24", "v4ssh v4self v4as16 v4frag v4gre v4sctp v4udplite"},
		{"net 10.0.0.0 mask 255.0.0.0", "v4tcp v4tcpRev v4ssh v4dns v4icmp v4self v4frag v4gre v4sctp v4udplite v4as16 vlan100 qinq qinq300 deep5"},
		{"net 10.0.0.0 mask 255.0.255.0", "v4tcp v4tcpRev v4ssh v4icmp v4self v4frag v4gre v4sctp v4udplite v4as16 vlan100 qinq300"},
		{"net 0.0.0.0/0", "v4tcp v4tcpRev v4ssh v4dns v4ntp v4icmp v4self v4frag v4gre v4sctp v4udplite v4as16 vlan100 qinq qinq300 deep5"},
		{"ip6 net 2001:db8::/32", "v6tcp v6icmp v6mapped vlan200v6"},
		{"src net 2001:db8:1::/48", "v6tcp"},
		{"net fe80::/10", "v6mdns"},
		{"net ::ffff:0:0/96", "v6mapped"},
		{"net ::/0", "v6tcp v6mdns v6icmp v6mapped vlan200v6"},

		// port and portrange.
		{"port 80", "v4tcp v4tcpRev v6mapped vlan100"},
		{"tcp port 80", "v4tcp v4tcpRev v6mapped vlan100"},
		{"udp port 80", ""},
		{"port http", "v4tcp v4tcpRev v6mapped vlan100"},
		{"src port 80", "v4tcpRev"},
		{"dst port 80", "v4tcp v6mapped vlan100"},
		{"port 53", "v4dns vlan200v6 qinq"},
		{"port domain", "v4dns vlan200v6 qinq"},
		{"tcp port domain", ""},
		{"src and dst port 123", "v4ntp"},
		{"udp src and dst port 123", "v4ntp"},
		{"tcp src and dst port 123", ""},
		{"port 2905", "v4sctp"},
		{"sctp port 2905", "v4sctp"},
		{"udp port 2905", ""},
		{"port 443", "v4as16 v6tcp qinq300"},
		{"port https", "v4as16 v6tcp qinq300"},
		{"port ssh", "v4ssh"},
		{"portrange 1-1024", "v4tcp v4tcpRev v4ssh v4dns v4ntp v4as16 v6tcp v6mapped vlan100 vlan200v6 qinq qinq300 deep5"},
		{"portrange 1024-1", "v4tcp v4tcpRev v4ssh v4dns v4ntp v4as16 v6tcp v6mapped vlan100 vlan200v6 qinq qinq300 deep5"},
		{"udp src portrange 1-1024", "v4ntp"},
		{"tcp dst portrange 40000-40001", "qinq300"},
		{"portrange 5000-5001", "v4self"},
		{"src and dst portrange 5000-5001", "v4self"},
		{"src and dst portrange 5000-5000", ""},

		// vlan, less, greater.
		{"vlan", "vlan100 vlan200v6 qinq qinq300 deep5"},
		{"not vlan", "-vlan100 vlan200v6 qinq qinq300 deep5"},
		{"vlan 100", "vlan100 qinq"},
		{"vlan 200", "vlan200v6"},
		{"vlan 100 and vlan 200", "qinq"},
		{"vlan 300 and vlan 100", "qinq300"},
		{"vlan and vlan 100", "qinq300"},
		{"vlan and vlan", "qinq qinq300 deep5"},
		{"vlan 100 or vlan 200", "vlan100 qinq"}, // pcap: outer 100, or second tag 200
		{"vlan 100 or vlan", "vlan100 qinq qinq300 deep5"},
		{"not vlan 100 and vlan", "qinq300 deep5"},
		{"vlan and vlan and vlan and vlan 4", "deep5"},
		{"vlan and vlan and vlan and vlan and vlan", "deep5"},
		{"vlan 100 and host 10.0.0.1", "vlan100"},
		{"vlan 100 and udp port 53", "qinq"},
		{"vlan and vlan and tcp", "qinq300 deep5"},
		{"less 60", "v4self v4as16 nonip"},
		{"less 59", ""},
		{"greater 1000", "v4tcpRev"},
		{"greater 1514", "v4tcpRev"},
		{"greater 1515", ""},
		{"less 80 and greater 70", "v4tcp v4dns vlan100 qinq300"},

		// Precedence: not binds tightest, and/or equal and left-associative.
		{"not port 22 and host 10.0.0.1", "v4tcp v4tcpRev v4icmp v4self v4as16 vlan100 qinq300"},
		{"tcp or udp and host 10.0.0.1", "v4tcp v4tcpRev v4ssh v4self v4as16 vlan100 qinq300"},                                          // (tcp or udp) and host
		{"tcp or (udp and host 10.0.0.1)", "v4tcp v4tcpRev v4ssh v4self v4as16 v6tcp v6mapped vlan100 qinq300 deep5"},                   // explicit
		{"host 10.0.0.1 and tcp or udp", "v4tcp v4tcpRev v4ssh v4self v4as16 vlan100 qinq300 v4dns v4ntp v4frag v6mdns vlan200v6 qinq"}, // (host and tcp) or udp
		{"icmp or icmp6 and src host 2001:db8::1", "v6icmp"},
		{"not tcp and not udp", "v4icmp v4gre v4sctp v4udplite v6icmp nonip nonipStale"},
		{"not (tcp or udp)", "v4icmp v4gre v4sctp v4udplite v6icmp nonip nonipStale"},
		{"not tcp or udp", "v4dns v4ntp v4frag v6mdns vlan200v6 qinq v4icmp v4gre v4sctp v4udplite v6icmp nonip nonipStale"},
		{"! tcp && ! udp", "v4icmp v4gre v4sctp v4udplite v6icmp nonip nonipStale"},
		{"not not tcp", "v4tcp v4tcpRev v4ssh v4self v4as16 v6tcp v6mapped vlan100 qinq300 deep5"},
		{"tcp and not port 22 and (host 10.0.0.1 or net 192.168.0.0/16)", "v4tcp v4tcpRev v4self v4as16 vlan100 qinq300"},

		// Inheritance.
		{"host 10.0.0.2 or 8.8.8.8", "v4ssh v4dns qinq"},
		{"port 22 or 53", "v4ssh v4dns vlan200v6 qinq"},
		{"udp port 22 or 53", "v4dns vlan200v6 qinq"},
		{"not host 10.0.0.1 or 10.0.0.2", "-v4tcp v4tcpRev v4icmp v4self v4as16 vlan100 qinq300"}, // (not host .1) or host .2
		{"host 10.0.0.1 and not 192.168.1.10", "v4ssh v4icmp v4self v4as16 qinq300"},
		{"host 10.0.0.1 and (192.168.1.10 or 10.0.0.2)", "v4tcp v4tcpRev v4ssh vlan100"},
		{"host 8.8.8.8 and (port 53) or 10.0.0.2", "v4dns qinq v4ssh"},
		{"udp and (port 53 or 123)", "v4dns v4ntp vlan200v6 qinq"},
	}
	for _, tt := range tests {
		e, err := Parse(tt.expr)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.expr, err)
			continue
		}
		want := expand(tt.want)
		var got []string
		for _, mf := range matchFields {
			f := mf.f
			if e.Match(&f) {
				got = append(got, mf.name)
			}
			// A connection of one packet: the primitives that hold
			// for it, combined, give the packet's answer.
			set := make([]uint64, (e.Prims()+63)/64)
			e.MatchPrims(&f, set)
			if e.MatchSet(set) != e.Match(&f) {
				t.Errorf("%q on %s: MatchSet %v, Match %v", tt.expr, mf.name, e.MatchSet(set), e.Match(&f))
			}
		}
		sort.Strings(got)
		if !slices.Equal(got, want) {
			t.Errorf("%q (%s) matches\n  %v\nwant\n  %v", tt.expr, e, got, want)
		}
	}
}

// expand turns a TestMatch want string into the sorted list of names.
func expand(s string) []string {
	var names []string
	switch {
	case s == "*":
		for _, mf := range matchFields {
			names = append(names, mf.name)
		}
	case strings.HasPrefix(s, "-"):
		except := strings.Fields(s[1:])
		for _, mf := range matchFields {
			if !slices.Contains(except, mf.name) {
				names = append(names, mf.name)
			}
		}
	default:
		names = strings.Fields(s)
	}
	sort.Strings(names)
	return names
}

func TestExpandNames(t *testing.T) {
	// Guard against typos in TestMatch's want lists.
	known := map[string]bool{}
	for _, mf := range matchFields {
		known[mf.name] = true
	}
	for _, n := range []string{"v4tcp", "v4tcpRev", "v4ssh", "v4dns", "v4ntp", "v4icmp", "v4self", "v4frag", "v4gre", "v4sctp", "v4udplite", "v4as16", "v6tcp", "v6mdns", "v6icmp", "v6mapped", "vlan100", "vlan200v6", "qinq", "qinq300", "deep5", "nonip", "nonipStale"} {
		if !known[n] {
			t.Errorf("unknown field set %q", n)
		}
	}
}

func TestMatchNil(t *testing.T) {
	var e *Expr
	if !e.Match(&Fields{}) || !e.MatchesAll() || e.String() != "" {
		t.Error("nil *Expr must match everything")
	}
	var z Expr
	if !z.Match(nil) || !z.MatchesAll() {
		t.Error("zero Expr must match everything")
	}
	e, _ = Parse("not tcp")
	if !e.Match(nil) {
		t.Error("nil Fields is a packet with no fields: 'not tcp' matches")
	}
	if e.MatchesAll() {
		t.Error("'not tcp' is not the empty filter")
	}
}

func TestMatchDoesNotAllocate(t *testing.T) {
	exprs := []string{
		"tcp and not port 22 and (host 10.0.0.1 or net 192.168.0.0/16)",
		"host fe80::1 or net 10.0.0.0 mask 255.0.255.0 or ip6 net 2001:db8::/32",
		"vlan 100 and vlan and udp portrange 1-1024 or less 100 or greater 1000 or proto 47",
	}
	for _, s := range exprs {
		e, err := Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range matchFields {
			f := mf.f
			if n := testing.AllocsPerRun(100, func() { e.Match(&f) }); n != 0 {
				t.Errorf("%q on %s: %v allocs per Match", s, mf.name, n)
			}
		}
	}
}

func BenchmarkMatch(b *testing.B) {
	e, err := Parse("tcp and not port 22 and (host 10.0.0.1 or net 192.168.0.0/16)")
	if err != nil {
		b.Fatal(err)
	}
	fs := make([]Fields, len(matchFields))
	for i, mf := range matchFields {
		fs[i] = mf.f
	}
	b.ReportAllocs()
	b.ResetTimer()
	n := 0
	for i := 0; i < b.N; i++ {
		if e.Match(&fs[i%len(fs)]) {
			n++
		}
	}
	_ = n
}

func BenchmarkParse(b *testing.B) {
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := Parse("tcp and not port 22 and (host 10.0.0.1 or net 192.168.0.0/16)"); err != nil {
			b.Fatal(err)
		}
	}
}
