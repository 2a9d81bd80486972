package filter

import (
	"errors"
	"fmt"
	"math/bits"
	"net/netip"
	"strings"
)

const supportedList = "supported: host, net, port, portrange, src/dst, ip/ip6/tcp/udp/icmp, vlan, less/greater, and/or/not"

// maxNest bounds the nesting of parentheses and "not"s.
const maxNest = 200

type addrKind uint8

const (
	aDefault addrKind = iota // no type given: a host
	aHost
	aNet
	aPort
	aPortRange
	aProto
)

var addrNames = [...]string{aDefault: "host", aHost: "host", aNet: "net", aPort: "port", aPortRange: "portrange", aProto: "proto"}

// qual is a primitive's qualifier list; it is what a bare value inherits
// (libpcap's struct qual). ok is false for libpcap's qerr: after "tcp",
// "vlan", "less"... a bare value has nothing to inherit.
type qual struct {
	ok     bool
	proto  string // "", "ip", "ip6", "tcp", "udp", "sctp", "icmp"...
	protoT token  // where proto was written, for errors
	dir    dirKind
	addr   addrKind
}

var qerr = qual{}

type parser struct {
	src   string
	toks  []token
	pos   int
	vlans int // vlan keywords seen so far: the tag depth of the next one
	nest  int
}

func newParser(s string) (*parser, error) {
	toks, err := lex(s)
	if err != nil {
		return nil, err
	}
	return &parser{src: s, toks: toks}, nil
}

func (p *parser) peek() token { return p.toks[p.pos] }
func (p *parser) peekN(n int) token {
	if p.pos+n < len(p.toks) {
		return p.toks[p.pos+n]
	}
	return p.toks[len(p.toks)-1]
}
func (p *parser) next() token {
	t := p.toks[p.pos]
	if t.kind != tEOF {
		p.pos++
	}
	return t
}

func (p *parser) col(t token) int { return column(p.src, t.off) }

func (p *parser) errf(format string, args ...any) error {
	return errors.New("filter: " + fmt.Sprintf(format, args...))
}

// describe names a token for "got ..." in messages.
func (p *parser) describe(t token) string {
	if t.kind == tEOF {
		return "end of expression"
	}
	return fmt.Sprintf("%q", t.text)
}

func (p *parser) unsupported(t token) error {
	return p.errf("%q at column %d is not supported (%s)", t.text, p.col(t), supportedList)
}

// isOpWord reports a word that can only be part of a byte-offset or
// arithmetic expression ("tcp[13]", "0xf&2", "a==b").
func isOpWord(w string) bool {
	return strings.ContainsAny(w, "[]<>=&|+*^~")
}

// isValue reports whether t can be a value (an address, number or name)
// rather than a keyword or operator.
func isValue(t token) bool {
	if t.kind != tWord {
		return false
	}
	w := t.text
	if supportedKeywords[w] || unsupportedKeywords[w] || isOpWord(w) {
		return false
	}
	if strings.HasPrefix(w, "-") {
		return false
	}
	return true
}

func (p *parser) enter(t token) error {
	p.nest++
	if p.nest > maxNest {
		return p.errf("expression nested too deeply at column %d (more than %d parentheses or nots)", p.col(t), maxNest)
	}
	return nil
}

func (p *parser) leave() { p.nest-- }

func (p *parser) parse() (*node, error) {
	if p.peek().kind == tEOF {
		return nil, nil
	}
	n, _, err := p.parseExpr(qerr, false)
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tEOF {
		return nil, p.unexpected(t, false)
	}
	return n, nil
}

// unexpected reports a token where an operator or the end was expected.
func (p *parser) unexpected(t token, nested bool) error {
	if t.kind == tOther || (t.kind == tWord && (unsupportedKeywords[t.text] || isOpWord(t.text))) {
		return p.unsupported(t)
	}
	want := "'and', 'or' or the end of the expression"
	if nested {
		want = "'and', 'or' or ')'"
	}
	if t.kind == tRParen && !nested {
		return p.errf("unbalanced ')' at column %d", p.col(t))
	}
	return p.errf("unexpected %s at column %d (expected %s)", p.describe(t), p.col(t), want)
}

// parseExpr parses "term { (and|or) (term|id) }" with and/or of equal
// precedence, left-associative. left is the qualifier a bare value would
// inherit at this point (libpcap's $<blk>0).
func (p *parser) parseExpr(left qual, nested bool) (*node, qual, error) {
	n, q, err := p.parseTerm(left)
	if err != nil {
		return nil, qual{}, err
	}
	for {
		t := p.peek()
		if t.kind != tAnd && t.kind != tOr {
			break
		}
		p.next()
		op := opAnd
		if t.kind == tOr {
			op = opOr
		}
		var r *node
		if p.startsID() {
			r, q, err = p.parseID(q, t)
		} else {
			r, q, err = p.parseTerm(q)
		}
		if err != nil {
			return nil, qual{}, err
		}
		n = combine(op, n, r)
	}
	if t := p.peek(); t.kind != tEOF && !(nested && t.kind == tRParen) {
		return nil, qual{}, p.unexpected(t, nested)
	}
	return n, q, nil
}

// startsID reports whether what follows is libpcap's "id": a bare value,
// possibly under nots and parentheses, that inherits qualifiers.
func (p *parser) startsID() bool {
	for i := p.pos; i < len(p.toks); i++ {
		switch t := p.toks[i]; t.kind {
		case tNot, tLParen:
			continue
		default:
			return isValue(t)
		}
	}
	return false
}

func (p *parser) parseTerm(left qual) (*node, qual, error) {
	t := p.peek()
	if t.kind == tNot {
		if err := p.enter(t); err != nil {
			return nil, qual{}, err
		}
		p.next()
		n, q, err := p.parseTerm(left)
		p.leave()
		if err != nil {
			return nil, qual{}, err
		}
		return &node{op: opNot, kids: []*node{n}}, q, nil
	}
	return p.parseRterm(left)
}

func (p *parser) prev() token {
	if p.pos > 0 {
		return p.toks[p.pos-1]
	}
	return token{}
}

// expectedPrimitive reports a token where a primitive should start.
func (p *parser) expectedPrimitive(t token) error {
	if t.kind == tOther {
		return p.unsupported(t)
	}
	if pr := p.prev(); pr.text != "" {
		return p.errf("expected a primitive after '%s' at column %d, got %s", pr.text, p.col(t), p.describe(t))
	}
	return p.errf("expected a primitive at column %d, got %s", p.col(t), p.describe(t))
}

func (p *parser) parseRterm(left qual) (*node, qual, error) {
	t := p.peek()
	switch t.kind {
	case tLParen:
		if err := p.enter(t); err != nil {
			return nil, qual{}, err
		}
		p.next()
		n, _, err := p.parseExpr(left, true)
		p.leave()
		if err != nil {
			return nil, qual{}, err
		}
		if c := p.next(); c.kind != tRParen {
			return nil, qual{}, p.errf("missing ')' at column %d for '(' at column %d", p.col(c), p.col(t))
		}
		// libpcap: after "( expr )" the qualifiers in force are those
		// before the '('.
		return n, left, nil
	case tWord:
	default:
		return nil, qual{}, p.expectedPrimitive(t)
	}

	w := t.text
	switch {
	case unsupportedKeywords[w] || isOpWord(w) || strings.HasPrefix(w, "tcp-") || strings.HasPrefix(w, "icmp-") || strings.HasPrefix(w, "icmp6-"):
		return nil, qual{}, p.unsupported(t)
	case !supportedKeywords[w]:
		if lw := strings.ToLower(w); lw != w && (supportedKeywords[lw] || unsupportedKeywords[lw]) {
			return nil, qual{}, p.errf("%q at column %d: keywords are lower case (%q)", w, p.col(t), lw)
		}
		return nil, qual{}, p.errf("%q at column %d needs a qualifier such as host, net or port (there is none to inherit here)", w, p.col(t))
	}

	switch w {
	case "vlan":
		p.next()
		pr := prim{kind: pVLAN, depth: p.vlans}
		p.vlans++
		if v := p.peek(); v.kind == tWord && v.text[0] >= '0' && v.text[0] <= '9' {
			p.next()
			id, err := p.number(v, 4095, "VLAN ID")
			if err != nil {
				return nil, qual{}, err
			}
			if pr.depth >= 4 {
				return nil, qual{}, p.errf("'vlan %s' at column %d tests tag %d, but only 4 VLAN tags are decoded", v.text, p.col(t), pr.depth+1)
			}
			pr.hasID, pr.num = true, int(id)
		}
		return &node{p: pr}, qerr, nil
	case "less", "greater":
		p.next()
		v := p.peek()
		if v.kind != tWord || !isValue(v) {
			return nil, qual{}, p.errf("expected a length after '%s' at column %d, got %s", w, p.col(v), p.describe(v))
		}
		p.next()
		n, err := p.number(v, 1<<32-1, "length")
		if err != nil {
			return nil, qual{}, err
		}
		k := pLess
		if w == "greater" {
			k = pGreater
		}
		return &node{p: prim{kind: k, size: int64(n)}}, qerr, nil
	case "ip", "ip6", "tcp", "udp", "sctp", "icmp", "icmp6", "igmp", "pim", "vrrp", "ah", "esp":
		p.next()
		nt := p.peek()
		if nt.kind == tWord {
			switch nt.text {
			case "src", "dst", "host", "net", "port", "portrange", "proto":
				return p.parseHead(t)
			}
		}
		// A protocol on its own.
		if w == "ip" || w == "ip6" {
			v := uint8(4)
			if w == "ip6" {
				v = 6
			}
			return &node{p: prim{kind: pIPVer, ipver: v, qual: w}}, qerr, nil
		}
		a := protoAbbrevs[w]
		return &node{p: prim{kind: pProto, ipver: a.ipver, num: int(a.num), name: w}}, qerr, nil
	case "src", "dst", "host", "net", "port", "portrange", "proto":
		return p.parseHead(token{})
	default: // "mask"
		return nil, qual{}, p.errf("unexpected 'mask' at column %d ('mask' follows a network address: net 10.0.0.0 mask 255.0.0.0)", p.col(t))
	}
}

// parseHead parses "[proto] [dir] [type] value", the current token being
// the one after the protocol qualifier (protoT, zero if none).
func (p *parser) parseHead(protoT token) (*node, qual, error) {
	q := qual{ok: true, proto: protoT.text, protoT: protoT}
	last := protoT
	if t := p.peek(); t.kind == tWord && (t.text == "src" || t.text == "dst") {
		p.next()
		last = t
		q.dir = dirSrc
		other := "dst"
		if t.text == "dst" {
			q.dir = dirDst
			other = "src"
		}
		if op, o := p.peek(), p.peekN(1); (op.kind == tAnd || op.kind == tOr) && o.kind == tWord && o.text == other {
			p.next()
			p.next()
			last = o
			if op.kind == tAnd {
				q.dir = dirBoth
			} else {
				q.dir = dirEither
			}
		}
	}
	if t := p.peek(); t.kind == tWord {
		switch t.text {
		case "host", "net", "port", "portrange":
			p.next()
			last = t
			switch t.text {
			case "host":
				q.addr = aHost
			case "net":
				q.addr = aNet
			case "port":
				q.addr = aPort
			default:
				q.addr = aPortRange
			}
		case "proto":
			p.next()
			if last.text == "src" || last.text == "dst" {
				return nil, qual{}, p.errf("'%s' cannot qualify 'proto' at column %d", last.text, p.col(t))
			}
			last = t
			q.addr = aProto
			// Accept protocol keywords after "proto" ("proto tcp"), which
			// tcpdump only takes escaped ("proto \tcp").
			if v := p.peek(); v.kind == tWord && protoAbbrevs[v.text].num != 0 {
				p.next()
				n, err := p.buildPrim(q, value{tok: v, text: v.text})
				return n, q, err
			}
		}
	}
	v := p.peek()
	if !isValue(v) {
		if v.kind == tWord && (unsupportedKeywords[v.text] || isOpWord(v.text)) || v.kind == tOther {
			return nil, qual{}, p.unsupported(v)
		}
		return nil, qual{}, p.errf("expected a value after '%s' at column %d, got %s", last.text, p.col(v), p.describe(v))
	}
	val, err := p.parseValue()
	if err != nil {
		return nil, qual{}, err
	}
	n, err := p.buildPrim(q, val)
	if err != nil {
		return nil, qual{}, err
	}
	return n, q, nil
}

// parseID parses libpcap's "id": a bare value inheriting left, "not id",
// or a parenthesised and/or list of ids. opTok is the and/or before it.
func (p *parser) parseID(left qual, opTok token) (*node, qual, error) {
	t := p.peek()
	switch t.kind {
	case tNot:
		if err := p.enter(t); err != nil {
			return nil, qual{}, err
		}
		p.next()
		n, q, err := p.parseID(left, opTok)
		p.leave()
		if err != nil {
			return nil, qual{}, err
		}
		return &node{op: opNot, kids: []*node{n}}, q, nil
	case tLParen:
		if err := p.enter(t); err != nil {
			return nil, qual{}, err
		}
		p.next()
		n, q, err := p.parseID(left, opTok)
		for err == nil {
			o := p.peek()
			if o.kind != tAnd && o.kind != tOr {
				break
			}
			p.next()
			op := opAnd
			if o.kind == tOr {
				op = opOr
			}
			var r *node
			r, q, err = p.parseID(q, o)
			if err == nil {
				n = combine(op, n, r)
			}
		}
		p.leave()
		if err != nil {
			return nil, qual{}, err
		}
		if c := p.next(); c.kind != tRParen {
			if c.kind == tWord && !isValue(c) {
				return nil, qual{}, p.errf("%q at column %d: a parenthesised list of bare values cannot contain a primitive; give every value its qualifier", c.text, p.col(c))
			}
			return nil, qual{}, p.unexpected(c, true)
		}
		return n, q, nil
	}
	if !isValue(t) {
		if t.kind == tWord && (unsupportedKeywords[t.text] || isOpWord(t.text)) || t.kind == tOther {
			return nil, qual{}, p.unsupported(t)
		}
		return nil, qual{}, p.errf("%q at column %d: a parenthesised list of bare values cannot contain a primitive; give every value its qualifier", t.text, p.col(t))
	}
	if !left.ok {
		return nil, qual{}, p.errf("%q at column %d needs a qualifier such as host, net or port (there is none to inherit from before '%s')", t.text, p.col(t), opTok.text)
	}
	val, err := p.parseValue()
	if err != nil {
		return nil, qual{}, err
	}
	n, err := p.buildPrim(left, val)
	if err != nil {
		return nil, qual{}, err
	}
	return n, left, nil
}

// value is a value token with its optional "/len" or "mask M" suffix.
type value struct {
	tok     token
	text    string
	hasLen  bool
	lenTok  token
	hasMask bool
	maskKw  token // the "mask" keyword
	maskTok token
}

func (p *parser) parseValue() (value, error) {
	t := p.next()
	v := value{tok: t, text: t.text}
	switch s := p.peek(); {
	case s.kind == tSlash:
		p.next()
		n := p.peek()
		if n.kind != tWord {
			return v, p.errf("expected a prefix length after '/' at column %d, got %s", p.col(n), p.describe(n))
		}
		p.next()
		v.hasLen, v.lenTok = true, n
	case s.kind == tWord && s.text == "mask":
		p.next()
		v.maskKw = s
		n := p.peek()
		if !isValue(n) {
			return v, p.errf("expected a netmask after 'mask' at column %d, got %s", p.col(n), p.describe(n))
		}
		p.next()
		v.hasMask, v.maskTok = true, n
	}
	return v, nil
}

// parseNum parses a decimal or 0x-hexadecimal number. Leading zeros are
// refused: libpcap reads them as octal.
func parseNum(s string) (uint64, string) {
	if s == "" {
		return 0, "is not a number"
	}
	base := uint64(10)
	digits := s
	if len(s) > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') {
		base, digits = 16, s[2:]
	} else if len(s) > 1 && s[0] == '0' {
		for i := 1; i < len(s); i++ {
			if s[i] < '0' || s[i] > '9' {
				return 0, "is not a number"
			}
		}
		return 0, "has a leading zero (tcpdump would read it as octal); write it without the zero, or in hex with 0x"
	}
	var v uint64
	for i := 0; i < len(digits); i++ {
		c := digits[i]
		var d uint64
		switch {
		case c >= '0' && c <= '9':
			d = uint64(c - '0')
		case base == 16 && c >= 'a' && c <= 'f':
			d = uint64(c-'a') + 10
		case base == 16 && c >= 'A' && c <= 'F':
			d = uint64(c-'A') + 10
		default:
			return 0, "is not a number"
		}
		v = v*base + d
		if v > 1<<40 {
			return 0, "is too large"
		}
	}
	return v, ""
}

func (p *parser) number(t token, max uint64, what string) (uint64, error) {
	v, msg := parseNum(t.text)
	if msg != "" {
		return 0, p.errf("%s %q at column %d %s", what, t.text, p.col(t), msg)
	}
	if v > max {
		return 0, p.errf("%s %q at column %d is out of range (0-%d)", what, t.text, p.col(t), max)
	}
	return v, nil
}

// badQual reports a protocol qualifier that cannot qualify this type.
func (p *parser) badQual(q qual, v value, allowed string) error {
	kind := addrNames[q.addr]
	at := q.protoT
	if at.text == "" {
		at = v.tok
	}
	return p.errf("'%s' cannot qualify %s at column %d (%s takes %s; write '%s and %s %s')",
		q.proto, kind, p.col(at), kind, allowed, q.proto, kind, v.text)
}

func (p *parser) buildPrim(q qual, v value) (*node, error) {
	pr := prim{dir: q.dir, qual: q.proto}
	switch q.proto {
	case "ip":
		pr.ipver = 4
	case "ip6":
		pr.ipver = 6
	}
	text := strings.TrimPrefix(v.text, `\`)
	if text != v.text && q.addr != aProto {
		return nil, p.errf("unexpected %q at column %d (a backslash only escapes protocol names after 'proto')", v.text, p.col(v.tok))
	}
	switch q.addr {
	case aDefault, aHost:
		if q.proto != "" && q.proto != "ip" && q.proto != "ip6" {
			return nil, p.badQual(q, v, "ip or ip6")
		}
		if v.hasLen || v.hasMask {
			return nil, p.errf("%q at column %d: mask syntax is for networks only (use 'net')", v.text, p.col(v.tok))
		}
		a, err := p.hostAddr(v)
		if err != nil {
			return nil, err
		}
		if err := p.checkFamily(q, v, a.Is4(), "host"); err != nil {
			return nil, err
		}
		pr.kind, pr.addr = pHost, a
	case aNet:
		if q.proto != "" && q.proto != "ip" && q.proto != "ip6" {
			return nil, p.badQual(q, v, "ip or ip6")
		}
		if err := p.netValue(q, v, &pr); err != nil {
			return nil, err
		}
	case aPort, aPortRange:
		if q.proto != "" && q.proto != "tcp" && q.proto != "udp" && q.proto != "sctp" {
			return nil, p.badQual(q, v, "tcp, udp or sctp")
		}
		if v.hasLen || v.hasMask {
			return nil, p.errf("%q at column %d: '/' and 'mask' only follow network addresses", v.text, p.col(v.tok))
		}
		switch q.proto {
		case "tcp":
			pr.tproto = 6
		case "udp":
			pr.tproto = 17
		case "sctp":
			pr.tproto = 132
		}
		if q.addr == aPort {
			if err := p.portValue(q, v, &pr); err != nil {
				return nil, err
			}
		} else if err := p.portRangeValue(v, &pr); err != nil {
			return nil, err
		}
	case aProto:
		if q.proto != "" && q.proto != "ip" && q.proto != "ip6" {
			return nil, p.badQual(q, v, "ip or ip6")
		}
		if v.hasLen || v.hasMask {
			return nil, p.errf("%q at column %d: '/' and 'mask' only follow network addresses", v.text, p.col(v.tok))
		}
		pr.kind = pProto
		if text != "" && text[0] >= '0' && text[0] <= '9' {
			n, err := p.number(v.tok, 255, "protocol number")
			if err != nil {
				return nil, err
			}
			pr.num = int(n)
		} else if n, ok := ipProtocols[text]; ok {
			pr.num = int(n)
		} else {
			return nil, p.errf("unknown IP protocol %q at column %d (use a number 0-255)", v.text, p.col(v.tok))
		}
	}
	return &node{p: pr}, nil
}

func (p *parser) checkFamily(q qual, v value, is4 bool, what string) error {
	if q.proto == "ip" && !is4 {
		return p.errf("'ip' qualifies an IPv6 %s %q at column %d (use 'ip6')", what, v.text, p.col(v.tok))
	}
	if q.proto == "ip6" && is4 {
		return p.errf("'ip6' qualifies an IPv4 %s %q at column %d (use 'ip')", what, v.text, p.col(v.tok))
	}
	return nil
}

// looksIPv4ish reports text made only of digits and dots.
func looksIPv4ish(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if (s[i] < '0' || s[i] > '9') && s[i] != '.' {
			return false
		}
	}
	return true
}

func (p *parser) addrError(v value, what string) error {
	s := v.text
	c := p.col(v.tok)
	if i := strings.IndexByte(s, '%'); i >= 0 {
		if _, err := netip.ParseAddr(s[:i]); err == nil {
			return p.errf("%q at column %d: zones (%%...) are not supported in filters", s, c)
		}
	}
	switch {
	case looksIPv4ish(s) && !strings.Contains(s, "."):
		return p.errf("%q at column %d is a number, not an IP address (write a dotted IPv4 or an IPv6 address)", s, c)
	case looksIPv4ish(s):
		if what == "host" && strings.Count(s, ".") < 3 {
			if _, _, ok := abbrevIPv4(s); ok {
				return p.errf("%q at column %d is not a complete IPv4 address (use 'net %s' for a network)", s, c, s)
			}
		}
		return p.errf("%q at column %d is not a valid IPv4 address", s, c)
	case strings.Contains(s, ":"):
		return p.errf("%q at column %d is not a valid IPv6 address", s, c)
	}
	return p.errf("%q at column %d: %s names are not resolved (use a numeric IPv4 or IPv6 address)", s, c, what)
}

func (p *parser) hostAddr(v value) (netip.Addr, error) {
	a, err := netip.ParseAddr(v.text)
	if err != nil || a.Zone() != "" {
		return netip.Addr{}, p.addrError(v, "host")
	}
	return a, nil
}

// abbrevIPv4 parses pcap-filter's abbreviated IPv4 networks: 1 to 4 dotted
// decimal octets, "10" being 10.0.0.0/8, "10.1" 10.1.0.0/16... It returns
// the address with missing octets zero and the implied prefix length.
func abbrevIPv4(s string) (uint32, int, bool) {
	parts := strings.Split(s, ".")
	if len(parts) > 4 {
		return 0, 0, false
	}
	var v uint32
	for _, part := range parts {
		if part == "" || len(part) > 3 || (len(part) > 1 && part[0] == '0') {
			return 0, 0, false
		}
		n := 0
		for i := 0; i < len(part); i++ {
			if part[i] < '0' || part[i] > '9' {
				return 0, 0, false
			}
			n = n*10 + int(part[i]-'0')
		}
		if n > 255 {
			return 0, 0, false
		}
		v = v<<8 | uint32(n)
	}
	l := 8 * len(parts)
	v <<= 32 - l
	return v, l, true
}

func (p *parser) netValue(q qual, v value, pr *prim) error {
	s := v.text
	c := p.col(v.tok)
	pr.kind = pNet
	if strings.Contains(s, ":") {
		a, err := netip.ParseAddr(s)
		if err != nil || a.Zone() != "" {
			return p.addrError(v, "network")
		}
		if err := p.checkFamily(q, v, a.Is4(), "network"); err != nil {
			return err
		}
		if v.hasMask {
			return p.errf("'mask' at column %d is for IPv4 networks only (write %s/LEN)", p.col(v.maskKw), s)
		}
		l := 128
		if v.hasLen {
			n, err := p.number(v.lenTok, 128, "prefix length")
			if err != nil {
				return err
			}
			l = int(n)
		}
		pfx := netip.PrefixFrom(a, l)
		if pfx.Masked().Addr() != a {
			return p.errf("non-network bits set in %q at column %d (did you mean %s?)", s+"/"+itoa(l), c, pfx.Masked())
		}
		pr.pfx = pfx
		return nil
	}
	addr, l, ok := abbrevIPv4(s)
	if !ok {
		if looksIPv4ish(s) && !strings.Contains(s, ".") {
			return p.errf("network %q at column %d: a bare number must be 1-255, the first octet (net 10 is 10.0.0.0/8)", s, c)
		}
		return p.addrError(v, "network")
	}
	if !strings.Contains(s, ".") && addr == 0 {
		return p.errf("network %q at column %d is ambiguous (write 0.0.0.0/0 or 0.0.0.0/32)", s, c)
	}
	if err := p.checkFamily(q, v, true, "network"); err != nil {
		return err
	}
	mask := uint32(0xffffffff) << (32 - l)
	if l == 0 {
		mask = 0
	}
	suffix := ""
	switch {
	case v.hasLen:
		n, err := p.number(v.lenTok, 32, "prefix length")
		if err != nil {
			return err
		}
		l = int(n)
		mask = 0
		if l > 0 {
			mask = 0xffffffff << (32 - l)
		}
		suffix = "/" + v.lenTok.text
	case v.hasMask:
		m, _, ok := abbrevIPv4(v.maskTok.text)
		if !ok {
			return p.errf("netmask %q at column %d is not a dotted IPv4 mask", v.maskTok.text, p.col(v.maskTok))
		}
		mask = m
		suffix = " mask " + v.maskTok.text
	}
	if addr&^mask != 0 {
		return p.errf("non-network bits set in %q at column %d", s+suffix, c)
	}
	if ones := bits.OnesCount32(mask); mask == ^uint32(0)<<(32-ones) {
		// Contiguous (ones == 0 included: the shift gives 0): a prefix.
		pr.pfx = netip.PrefixFrom(u32ToAddr(addr), ones)
		return nil
	}
	pr.mask, pr.mnet, pr.mbits = true, addr, mask
	return nil
}

func itoa(n int) string { return fmt.Sprint(n) }

func (p *parser) portValue(q qual, v value, pr *prim) error {
	pr.kind = pPort
	s := v.text
	c := p.col(v.tok)
	if s[0] >= '0' && s[0] <= '9' {
		if strings.Contains(s, "-") {
			return p.errf("%q at column %d is a range: use 'portrange %s'", s, c, s)
		}
		n, err := p.number(v.tok, 65535, "port")
		if err != nil {
			return err
		}
		pr.lo, pr.hi = uint16(n), uint16(n)
		return nil
	}
	svc, ok := services[s]
	if !ok {
		return p.errf("unknown port name %q at column %d (use a number; only common names such as http, https, ssh, domain, smtp are built in)", s, c)
	}
	pr.lo, pr.hi = svc.port, svc.port
	// libpcap's rules (gen_scode): a name known for one protocol only
	// restricts the port to it; qualifying it with another is an error.
	switch q.proto {
	case "":
		switch svc.proto {
		case svcTCP:
			pr.tproto, pr.qual = 6, "tcp"
		case svcUDP:
			pr.tproto, pr.qual = 17, "udp"
		}
	case "udp", "sctp":
		if svc.proto == svcTCP {
			return p.errf("port %q at column %d is tcp only (it is %d/tcp; write '%s port %d' for that number)", s, c, svc.port, q.proto, svc.port)
		}
		if q.proto == "sctp" && svc.proto == svcUDP {
			return p.errf("port %q at column %d is udp only (it is %d/udp; write 'sctp port %d' for that number)", s, c, svc.port, svc.port)
		}
	case "tcp":
		if svc.proto == svcUDP {
			return p.errf("port %q at column %d is udp only (it is %d/udp; write 'tcp port %d' for that number)", s, c, svc.port, svc.port)
		}
	}
	return nil
}

func (p *parser) portRangeValue(v value, pr *prim) error {
	pr.kind = pPortRange
	s := v.text
	c := p.col(v.tok)
	a, b, found := strings.Cut(s, "-")
	if !found {
		b = a
	}
	if a == "" || b == "" || a[0] < '0' || a[0] > '9' || b[0] < '0' || b[0] > '9' {
		return p.errf("portrange %q at column %d: write two port numbers, LOW-HIGH (names are not supported in ranges)", s, c)
	}
	lo, msg := parseNum(a)
	if msg == "" {
		var hi uint64
		hi, msg = parseNum(b)
		if msg == "" {
			if lo > 65535 || hi > 65535 {
				return p.errf("portrange %q at column %d: port numbers are 0-65535", s, c)
			}
			if lo > hi { // as libpcap
				lo, hi = hi, lo
			}
			pr.lo, pr.hi = uint16(lo), uint16(hi)
			return nil
		}
	}
	return p.errf("portrange %q at column %d: %s", s, c, strings.TrimPrefix(msg, "is "))
}
