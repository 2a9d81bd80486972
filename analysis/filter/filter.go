// Package filter implements a tcpdump-syntax packet filter (the subset of
// pcap-filter(7) that network engineers use day to day) that is evaluated on
// the fields the decoder already extracted from a packet, not on raw bytes.
// Because of that it gives the same answer whatever lies between the
// Ethernet header and the innermost IP layer: VLAN tags, QinQ, tunnels, IPv6
// extension headers.
//
// # Grammar
//
// Primitives, with the qualifiers pcap-filter(7) allows on them:
//
//	[ip|ip6] [DIR] host ADDR        ADDR is a numeric IPv4 or IPv6 address
//	[ip|ip6] [DIR] ADDR             same as host (DIR given, no type)
//	[ip|ip6] [DIR] net NET          NET: 10, 10.1, 10.1.2 (abbreviated, as
//	                                pcap-filter: /8, /16, /24), 10.1.2.3 (/32),
//	                                10.0.0.0/8, 10.1/16, 2001:db8::/32,
//	                                10.0.0.0 mask 255.0.0.0 (IPv4 only)
//	[tcp|udp|sctp] [DIR] port P     P: 0-65535 or a well-known name (http...)
//	[tcp|udp|sctp] [DIR] portrange A-B
//	[ip|ip6] proto N                N: 0-255, or a name (\tcp, ospf, gre...)
//	ip, ip6, tcp, udp, sctp, icmp, icmp6, igmp, pim, vrrp, ah, esp
//	vlan, vlan N
//	less N, greater N               wire length of the frame <= N, >= N
//
// DIR is src, dst, src or dst (the default), src and dst (also "dst or src"
// and "dst and src"). Numbers are decimal or 0x-prefixed hexadecimal. A
// number with a leading zero is rejected: tcpdump reads it as octal, which is
// rarely what was meant.
//
// Primitives combine with and (&&), or (||), not (!) and parentheses. As in
// pcap-filter(7), not binds tightest and "and" and "or" have EQUAL precedence
// and associate left to right: "a or b and c" is "(a or b) and c".
//
// A bare value after and/or inherits the complete qualifier list of the
// primitive before it, exactly as in libpcap's grammar: "host 1.2.3.4 or
// 5.6.7.8", "tcp port 80 or 443", "not host a and b" (that is "(not host a)
// and host b"), "host a and (port 80) or b" (b inherits host: after a
// parenthesised group the qualifiers in force are those before the group).
// A bare value with nothing to inherit (at the start, or after tcp, vlan,
// less...) is an error, as in tcpdump.
//
// Port names come from a small built-in table copied from Debian's netbase
// /etc/services (no file is read). As in libpcap, a name only defined for
// TCP (http, ssh, smtp...) means TCP only: "port http" is "tcp port 80",
// whereas "port 80" also matches UDP and SCTP; "udp port http" is an error.
//
// # Semantics on decoded fields
//
// Every IP-level primitive (host, net, port, portrange, proto, ip, ip6, tcp,
// udp...) looks at the innermost IP layer and its transport header, as the
// decoder reports them in Fields. "ip" is true when that layer is IPv4, "tcp"
// when its protocol (after IPv6 extension headers) is 6.
//
// Tunnels: an IP-level primitive also matches when it matches any IP header
// of a tunnel around the innermost layer (Fields.Outer: VXLAN, Geneve, GRE,
// IP-in-IP), with the UDP ports of VXLAN and Geneve. Network engineers
// filter on the tunnel endpoints ("host 192.0.2.1", "udp port 4789", as
// tcpdump reads them) and on the connection inside ("host 10.1.2.3", "tcp
// port 443"); both work. Each primitive is tested on one layer at a time:
// "tcp port 443" needs TCP and port 443 in the same layer, but "udp port
// 4789 and tcp port 443" is the HTTPS connection inside VXLAN. A negated
// primitive is negated as a whole: "not udp" leaves out every packet that
// went through VXLAN, "not host 192.0.2.1" every packet of that tunnel
// endpoint. An IPv4 address
// never matches an IPv6 packet, including one carrying the IPv4-mapped form
// ::ffff:a.b.c.d, and vice versa (as in tcpdump; write "host ::ffff:1.2.3.4"
// to match the mapped form inside IPv6). port and portrange need
// Fields.HasPorts and a TCP, UDP or SCTP protocol, as in tcpdump (which also
// skips non-first IPv4 fragments: the decoder must not set HasPorts there).
//
// VLAN: as in pcap-filter(7), each vlan keyword moves one tag deeper for the
// vlan primitives that follow it in the text of the expression, whatever the
// and/or/not structure. Mapped onto the decoded tag list: the k-th vlan
// keyword (counting from 0, left to right) tests tag k of Fields.VLANs
// (outermost first); "vlan" alone is true when the frame has more than k
// tags (NVLAN > k), "vlan N" when in addition VLANs[k] == N. So "vlan 100
// and vlan 200" is outer tag 100 with inner tag 200, "vlan and vlan 200" is
// inner tag 200 under any outer tag, and "vlan 100 or vlan 200" is, exactly
// as in tcpdump, "outer tag 100, or second tag 200". Only 4 tag IDs are
// decoded, so "vlan N" as the 5th vlan keyword or later is a parse error
// (a bare "vlan" there only tests NVLAN).
//
// Where this deliberately differs from tcpdump, which works on byte offsets:
// IP-level primitives match at any VLAN depth ("host 10.0.0.1" matches a
// QinQ-tagged packet; tcpdump needs "vlan and vlan and host 10.0.0.1" and
// then only matches frames with exactly two tags), in tunnels they look at the
// inner packet as well as the outer headers (tcpdump sees only the outermost
// header unless the expression steps in with libpcap's "geneve": there "tcp"
// does not match a VXLAN packet, and "not tcp" does), "tcp" and "port"
// follow all IPv6 extension headers, and "host" does not match ARP/RARP
// packets (there are no ARP fields).
//
// # Rejected
//
// Anything outside this grammar is a one-line error naming the token and its
// column (1-based, in characters): byte-offset and arithmetic expressions
// (tcp[13] & 2 != 0, len > 100), link-layer and other protocols (ether, arp,
// wlan, mpls, pppoes, geneve, decnet...), gateway, broadcast, multicast,
// protochain, host names (nothing is resolved) and zone suffixes (fe80::1%eth0).
// Keywords are lower case, as in tcpdump. A filter is never silently changed
// into a different one.
//
// Where the parser deliberately differs from libpcap's: these are refused
// although tcpdump takes them, because tcpdump's reading is rarely what was
// meant: "host 10.1" (libpcap: the network 10.1.0.0/16; write "net 10.1"),
// a host given as one number ("host 167772161"), numbers with a leading zero
// (octal in libpcap), "ip proto 256" (never matches in libpcap), port names
// in portrange, a number in parentheses right after its keyword ("vlan
// (100)", "port (80)") and more than 200 nested parentheses or nots. These are
// accepted although tcpdump refuses them, with their obvious meaning:
// "net 10/8", an unescaped protocol keyword after proto ("ip proto tcp",
// tcpdump needs "ip proto \tcp"), the name "icmp6" after proto, and
// parentheses around a single bare value ("host a or ((b))").
package filter

import (
	"net/netip"
	"strconv"
	"strings"
)

// Fields are what the decoder extracted from one packet, innermost IP and
// transport layer, and the IP headers of the tunnels around it.
type Fields struct {
	// VLANs holds the 802.1Q/802.1ad (QinQ) tag VLAN IDs, outermost first.
	VLANs [4]uint16
	// NVLAN is the number of VLAN tags in the frame. It may exceed
	// len(VLANs) if the decoder counts tags it does not store.
	NVLAN int
	// IPVersion is 0 (no IP layer), 4 or 6; it is authoritative: with 0 no
	// IP-level primitive matches, whatever Src and Dst hold.
	IPVersion int
	// Src and Dst are the innermost IP addresses. For IPv4 either the 4-byte
	// or the IPv4-mapped 16-byte form is accepted. A zone is ignored.
	Src, Dst netip.Addr
	// Proto is the innermost IP protocol (6 tcp, 17 udp, 1 icmp, 58 icmpv6,
	// 132 sctp...), after any IPv6 extension headers.
	Proto uint8
	// HasPorts is true when SrcPort and DstPort were decoded (TCP, UDP,
	// SCTP, first fragment only).
	HasPorts         bool
	SrcPort, DstPort uint16
	// Length is the wire (original) length of the frame, for less/greater.
	Length int
	// Outer lists the IP headers the innermost one was tunnelled in
	// (VXLAN, Geneve, GRE, IP-in-IP), outermost first; empty without a
	// tunnel. An IP-level primitive matches when it matches the innermost
	// layer or any of these.
	Outer []IPLayer
}

// IPLayer is one IP header of a tunnel around the innermost datagram: its
// addresses, its protocol, and the ports of the UDP header after it when the
// tunnel runs over UDP (VXLAN, Geneve). The fields mean what Fields' fields
// of the same names mean.
type IPLayer struct {
	IPVersion        int
	Src, Dst         netip.Addr
	Proto            uint8
	HasPorts         bool
	SrcPort, DstPort uint16
}

// Expr is a compiled filter expression. The zero value and a nil *Expr match
// every packet. An Expr is immutable and safe for concurrent use.
type Expr struct {
	root  *node   // nil: match everything
	prims []*prim // the primitives, numbered as Prims and MatchPrims number them
}

// Parse compiles a filter expression. An empty or all-space string gives a
// non-nil Expr that matches every packet (as tcpdump without an expression)
// and whose String is "". Errors are one line, start with "filter: " and name
// the offending token and its column.
func Parse(s string) (*Expr, error) {
	p, err := newParser(s)
	if err != nil {
		return nil, err
	}
	root, err := p.parse()
	if err != nil {
		return nil, err
	}
	e := &Expr{root: root}
	if root != nil {
		root.number(&e.prims)
	}
	return e, nil
}

// number gives each primitive under n its place in prims, left to right.
func (n *node) number(prims *[]*prim) {
	if n.op == opPrim {
		n.idx = len(*prims)
		*prims = append(*prims, &n.p)
		return
	}
	for _, k := range n.kids {
		k.number(prims)
	}
}

// ParseArgs compiles the filter given as trailing command-line arguments,
// which are joined with single spaces as tcpdump does. Error columns refer
// to the joined string. No arguments give a match-all Expr.
func ParseArgs(args []string) (*Expr, error) {
	return Parse(strings.Join(args, " "))
}

// MatchesAll reports whether e is the empty filter that accepts everything.
func (e *Expr) MatchesAll() bool { return e == nil || e.root == nil }

// Match reports whether the packet described by f passes the filter. It does
// not allocate. A nil f is treated as a packet with no fields set.
func (e *Expr) Match(f *Fields) bool {
	if e == nil || e.root == nil {
		return true
	}
	var zero Fields
	if f == nil {
		f = &zero
	}
	in := IPLayer{IPVersion: f.IPVersion, Src: f.Src, Dst: f.Dst, Proto: f.Proto,
		HasPorts: f.HasPorts, SrcPort: f.SrcPort, DstPort: f.DstPort}
	return e.root.match(f, &in)
}

// Prims returns the number of primitives in e (host, port, tcp, vlan...,
// each as often as it is written), which MatchPrims numbers from 0, left to
// right. A set of them takes (Prims()+63)/64 words.
func (e *Expr) Prims() int {
	if e == nil {
		return 0
	}
	return len(e.prims)
}

// MatchPrims sets bit i of set (set[i/64] bit i%64) for each primitive i
// of e that holds for the packet described by f, leaving the other bits as
// they are. Over the packets of a connection, set then says which
// primitives hold for some packet of it, for MatchSet. set has at least
// (Prims()+63)/64 words. A nil f is treated as a packet with no fields set.
func (e *Expr) MatchPrims(f *Fields, set []uint64) {
	if e == nil || len(e.prims) == 0 {
		return
	}
	var zero Fields
	if f == nil {
		f = &zero
	}
	in := IPLayer{IPVersion: f.IPVersion, Src: f.Src, Dst: f.Dst, Proto: f.Proto,
		HasPorts: f.HasPorts, SrcPort: f.SrcPort, DstPort: f.DstPort}
	for i, p := range e.prims {
		w, b := i>>6, uint64(1)<<(i&63)
		if set[w]&b == 0 && p.match(f, &in) {
			set[w] |= b
		}
	}
}

// MatchSet evaluates e with each primitive i true when bit i of set is
// (as MatchPrims fills it), and and, or, not combining those: the filter
// applied to a whole connection, whose primitives hold when they hold for
// any of its packets. "not port 80" is then true of a connection none of
// whose packets has port 80, and "host a and port b" of one with a packet
// from host a and a packet on port b. A nil or match-all e gives true.
func (e *Expr) MatchSet(set []uint64) bool {
	if e == nil || e.root == nil {
		return true
	}
	return e.root.eval(set)
}

// eval evaluates n on a set of primitives that hold (MatchSet).
func (n *node) eval(set []uint64) bool {
	switch n.op {
	case opAnd:
		for _, k := range n.kids {
			if !k.eval(set) {
				return false
			}
		}
		return true
	case opOr:
		for _, k := range n.kids {
			if k.eval(set) {
				return true
			}
		}
		return false
	case opNot:
		return !n.kids[0].eval(set)
	default:
		return set[n.idx>>6]&(1<<(n.idx&63)) != 0
	}
}

// String returns the canonical form of e: every primitive with all its
// qualifiers spelled out (no inheritance), numbers in decimal, port and
// protocol names replaced by their numbers, and every and/or/not group in
// parentheses, e.g. "((tcp and (not port 22)) and (host 10.0.0.1 or net
// 192.168.0.0/16))". Parse(e.String()) gives an equal Expr. The match-all
// Expr gives "".
func (e *Expr) String() string {
	if e == nil || e.root == nil {
		return ""
	}
	var b strings.Builder
	e.root.format(&b)
	return b.String()
}

type opKind uint8

const (
	opPrim opKind = iota
	opAnd
	opOr
	opNot
)

type node struct {
	op   opKind
	kids []*node // opAnd, opOr: two or more; opNot: exactly one
	p    prim    // opPrim
	idx  int     // opPrim: its number in Expr.prims
}

// match evaluates n on f, whose innermost IP layer is in.
func (n *node) match(f *Fields, in *IPLayer) bool {
	switch n.op {
	case opAnd:
		for _, k := range n.kids {
			if !k.match(f, in) {
				return false
			}
		}
		return true
	case opOr:
		for _, k := range n.kids {
			if k.match(f, in) {
				return true
			}
		}
		return false
	case opNot:
		return !n.kids[0].match(f, in)
	default:
		return n.p.match(f, in)
	}
}

func (n *node) format(b *strings.Builder) {
	switch n.op {
	case opAnd, opOr:
		sep := " and "
		if n.op == opOr {
			sep = " or "
		}
		b.WriteByte('(')
		for i, k := range n.kids {
			if i > 0 {
				b.WriteString(sep)
			}
			k.format(b)
		}
		b.WriteByte(')')
	case opNot:
		b.WriteString("(not ")
		n.kids[0].format(b)
		b.WriteByte(')')
	default:
		n.p.format(b)
	}
}

// combine builds "l op r", flattening chains of the same operator so that
// long left-associative chains do not make deep trees.
func combine(op opKind, l, r *node) *node {
	if l.op == op {
		l.kids = append(l.kids, r)
		return l
	}
	return &node{op: op, kids: []*node{l, r}}
}

type primKind uint8

const (
	pHost      primKind = iota // addr
	pNet                       // pfx, or mask form (maskNet/maskBits)
	pPort                      // lo
	pPortRange                 // lo..hi
	pProto                     // ipver (0 = 4 or 6), num; name for display
	pIPVer                     // ipver
	pVLAN                      // depth, hasID, num
	pLess                      // size
	pGreater                   // size
)

type dirKind uint8

const (
	dirEither dirKind = iota // src or dst (default)
	dirSrc
	dirDst
	dirBoth // src and dst
)

type prim struct {
	kind   primKind
	dir    dirKind
	ipver  uint8  // host, net: 0 (family of the address decides), 4 or 6 as qualifier ("ip host"); proto: 0, 4 or 6
	tproto uint8  // port, portrange: 0 (tcp, udp or sctp), 6, 17 or 132
	qual   string // the protocol qualifier as written ("ip", "ip6", "tcp"...), for String
	name   string // standalone protocol keyword ("tcp", "icmp"...) for pProto
	addr   netip.Addr
	pfx    netip.Prefix
	mask   bool   // net given as "N mask M" with a non-contiguous mask
	mnet   uint32 // mask form: network
	mbits  uint32 // mask form: mask
	lo, hi uint16
	num    int   // proto: protocol number; vlan: ID
	size   int64 // less, greater: 0 to 2^32-1
	depth  int
	hasID  bool
}

// match evaluates the primitive on f, whose innermost IP layer is in: the
// frame-level ones on the frame, the IP-level ones on in and then on each
// tunnel header around it, true at the first layer that matches. Each
// layer is tested on its own ("src host A and dst port B" may find A in
// the outer header and B in the inner one, but "tcp port 80" needs both in
// one layer), as tcpdump tests each primitive at its own offset.
func (p *prim) match(f *Fields, in *IPLayer) bool {
	switch p.kind {
	case pVLAN:
		if f.NVLAN <= p.depth {
			return false
		}
		if !p.hasID {
			return true
		}
		return p.depth < len(f.VLANs) && int(f.VLANs[p.depth]) == p.num
	case pLess:
		return int64(f.Length) <= p.size
	case pGreater:
		return int64(f.Length) >= p.size
	}
	if p.matchIP(in) {
		return true
	}
	for i := range f.Outer {
		if p.matchIP(&f.Outer[i]) {
			return true
		}
	}
	return false
}

// matchIP evaluates an IP-level primitive on one IP layer.
func (p *prim) matchIP(f *IPLayer) bool {
	switch p.kind {
	case pHost:
		if !ipVersionIs(f, p.addr) {
			return false
		}
		return p.dirMatch(p.hostEq(f.Src), p.hostEq(f.Dst))
	case pNet:
		if f.IPVersion != 4 && f.IPVersion != 6 {
			return false
		}
		if p.mask || p.pfx.Addr().Is4() {
			if f.IPVersion != 4 {
				return false
			}
		} else if f.IPVersion != 6 {
			return false
		}
		return p.dirMatch(p.netContains(f.Src, f.IPVersion), p.netContains(f.Dst, f.IPVersion))
	case pPort, pPortRange:
		if !f.HasPorts || (f.IPVersion != 4 && f.IPVersion != 6) {
			return false
		}
		if p.tproto != 0 {
			if f.Proto != p.tproto {
				return false
			}
		} else if f.Proto != 6 && f.Proto != 17 && f.Proto != 132 {
			return false
		}
		return p.dirMatch(f.SrcPort >= p.lo && f.SrcPort <= p.hi, f.DstPort >= p.lo && f.DstPort <= p.hi)
	case pProto:
		if p.ipver == 0 {
			if f.IPVersion != 4 && f.IPVersion != 6 {
				return false
			}
		} else if int(p.ipver) != f.IPVersion {
			return false
		}
		return int(f.Proto) == p.num
	case pIPVer:
		return int(p.ipver) == f.IPVersion
	}
	return false
}

func (p *prim) dirMatch(src, dst bool) bool {
	switch p.dir {
	case dirSrc:
		return src
	case dirDst:
		return dst
	case dirBoth:
		return src && dst
	default:
		return src || dst
	}
}

// ipVersionIs reports whether the layer's IP version is the family of a.
func ipVersionIs(f *IPLayer, a netip.Addr) bool {
	if a.Is4() {
		return f.IPVersion == 4
	}
	return f.IPVersion == 6
}

// norm puts a packet address in the form filter addresses are kept in:
// 4-byte for IPv4 packets, 16-byte without zone for IPv6 packets.
func norm(a netip.Addr, ipver int) netip.Addr {
	if ipver == 4 {
		return a.Unmap()
	}
	if a.Zone() != "" {
		return a.WithZone("")
	}
	return a
}

func (p *prim) hostEq(a netip.Addr) bool {
	if p.addr.Is4() {
		return a.Unmap() == p.addr
	}
	return norm(a, 6) == p.addr
}

func (p *prim) netContains(a netip.Addr, ipver int) bool {
	a = norm(a, ipver)
	if p.mask {
		if !a.Is4() {
			return false
		}
		b := a.As4()
		v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
		return v&p.mbits == p.mnet
	}
	return p.pfx.Contains(a)
}

func (p *prim) format(b *strings.Builder) {
	q := func() {
		if p.qual != "" {
			b.WriteString(p.qual)
			b.WriteByte(' ')
		}
		switch p.dir {
		case dirSrc:
			b.WriteString("src ")
		case dirDst:
			b.WriteString("dst ")
		case dirBoth:
			b.WriteString("src and dst ")
		}
	}
	switch p.kind {
	case pHost:
		q()
		b.WriteString("host ")
		b.WriteString(p.addr.String())
	case pNet:
		q()
		b.WriteString("net ")
		if p.mask {
			b.WriteString(u32ToAddr(p.mnet).String())
			b.WriteString(" mask ")
			b.WriteString(u32ToAddr(p.mbits).String())
		} else {
			b.WriteString(p.pfx.String())
		}
	case pPort:
		q()
		b.WriteString("port ")
		b.WriteString(strconv.Itoa(int(p.lo)))
	case pPortRange:
		q()
		b.WriteString("portrange ")
		b.WriteString(strconv.Itoa(int(p.lo)))
		b.WriteByte('-')
		b.WriteString(strconv.Itoa(int(p.hi)))
	case pProto:
		if p.name != "" {
			b.WriteString(p.name)
			return
		}
		q()
		b.WriteString("proto ")
		b.WriteString(strconv.Itoa(p.num))
	case pIPVer:
		b.WriteString(p.qual)
	case pVLAN:
		b.WriteString("vlan")
		if p.hasID {
			b.WriteByte(' ')
			b.WriteString(strconv.Itoa(p.num))
		}
	case pLess:
		b.WriteString("less ")
		b.WriteString(strconv.FormatInt(p.size, 10))
	case pGreater:
		b.WriteString("greater ")
		b.WriteString(strconv.FormatInt(p.size, 10))
	}
}

func u32ToAddr(v uint32) netip.Addr {
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}
