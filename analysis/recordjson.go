package analysis

import (
	"encoding/binary"
	"encoding/hex"
	"math"
	"math/bits"
	"net/netip"
	"slices"
	"strconv"
	"unicode/utf8"
)

// This file writes the JSON record of a flow without reflection and without
// building a Record: the same bytes encoding/json writes for Flow.Record
// with HTML escaping off (TestAppendJSONMatchesEncoder holds it to that), at
// a small fraction of the cost. Keys are in Record's field order and follow
// its omitempty rules.

// recordHead is what the records of a capture share: their start up to
// the id, with the capture's name, escaped once for all its records, and
// where reading it ended early (Result.EndsEarly), when it did; and the
// date of the last start time written. A head is for one goroutine.
type recordHead struct {
	text []byte
	date dateText
}

// jsonHead returns the head of the records of a capture.
func jsonHead(capture string, end *RecordEnd) *recordHead {
	b := appendJSONString([]byte(`{"capture":`), capture)
	if end != nil {
		b = append(b, `,"input_ends_early":{"after_frame":`...)
		b = appendUint(b, end.AfterFrame)
		b = append(b, `,"why":`...)
		b = append(appendJSONString(b, end.Why), '}')
	}
	return &recordHead{text: append(b, `,"id":`...)}
}

// appendJSON appends the flow's record and a newline; head is the
// capture's (jsonHead).
func (f *Flow) appendJSON(b []byte, head *recordHead) []byte {
	h := &f.Handshake
	b = append(b, head.text...)
	b = appendInt(b, int64(f.ID))
	b = append(b, `,"client":`...)
	b = appendJSONEndpoint(b, f.clientKind, f.clientW, f.clientPort)
	b = append(b, `,"server":`...)
	b = appendJSONEndpoint(b, f.serverKind, f.serverW, f.serverPort)
	if f.DirectionGuessed {
		b = appendJSONText(b, &directionTexts[1])
	} else {
		b = appendJSONText(b, &directionTexts[0])
	}
	b = appendUint(b, f.FirstFrame)
	b = append(b, `,"last_frame":`...)
	b = appendUint(b, f.LastFrame)
	b = append(b, `,"packets":`...)
	b = appendInt(b, int64(f.Packets))
	b = append(b, `,"bytes":`...)
	b = appendInt(b, f.Bytes)
	b = append(b, `,"start":"`...)
	b = head.date.appendTime(b, f.Start)
	b = append(b, `","duration_s":`...)
	b = appendJSONMicros(b, f.End-f.Start, 1e6)
	b = appendJSONText(b, &statusTexts[f.Status])
	b = appendJSONName(b, f.ConnState())
	b = append(b, `,"history":`...)
	b = f.zeek.appendJSONHistory(b)
	if f.VLAN != 0 {
		b = append(b, `,"vlan":`...)
		b = appendUint(b, uint64(f.VLAN))
	}
	if f.Tunnel != TunnelNone {
		if t := f.Tunnel.String(); t != "" {
			b = append(b, `,"tunnel":`...)
			b = appendJSONName(b, t)
		}
	}

	b = appendJSONText(b, &handshakeTexts[h.Status])
	if h.HaveSyn && h.SynFrame != 0 {
		b = append(b, `,"syn_frame":`...)
		b = appendUint(b, h.SynFrame)
	}
	if h.HaveSynAck && h.SynAckFrame != 0 {
		b = append(b, `,"synack_frame":`...)
		b = appendUint(b, h.SynAckFrame)
	}
	if h.AckChecked && h.AckFrame != 0 {
		b = append(b, `,"ack_frame":`...)
		b = appendUint(b, h.AckFrame)
	}
	if h.HaveSyn {
		b = append(b, `,"client_isn":`...)
		b = appendUint(b, uint64(h.ClientISN))
	}
	if h.HaveSynAck {
		b = append(b, `,"server_isn":`...)
		b = appendUint(b, uint64(h.ServerISN))
	}
	if h.HaveSyn {
		b = append(b, `,"syn_payload":`...)
		b = appendInt(b, int64(h.SynPayload))
	}
	if h.HaveSynAck {
		b = appendJSONText(b, &synAckPayloadKey)
		b = appendInt(b, int64(h.SynAckPayload))
	}
	if h.AckChecked {
		b = append(b, `,"expected_ack":`...)
		b = appendUint(b, uint64(h.ExpectedAck))
		b = append(b, `,"actual_ack":`...)
		b = appendUint(b, uint64(h.ActualAck))
	}
	if ns, ok := h.IRTT(); ok {
		b = append(b, `,"irtt_ms":`...)
		b = appendJSONMicros(b, ns, 1e3)
	}
	if h.HaveSyn {
		b = appendJSONOptions(b, &clientOptionsKey, h.Client)
	}
	if h.HaveSynAck {
		b = appendJSONOptions(b, &serverOptionsKey, h.Server)
	}
	if len(f.Findings) == 0 {
		b = append(b, `},"findings":[]`...)
	} else {
		b = append(b, `},"findings":[`...)
		b = f.appendJSONFindings(b)
		b = append(b, ']')
	}
	if c := f.overCounts(); c != &noCounts {
		b = appendJSONCounts(b, c)
	}
	return append(b, '}', '\n')
}

// appendJSONFindings appends the objects of the flow's findings.
func (f *Flow) appendJSONFindings(b []byte) []byte {
	h := &f.Handshake
	for i, fi := range f.Findings {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"code":`...)
		b = appendJSONName(b, fi.Code.String())
		b = append(b, `,"severity":`...)
		b = appendJSONName(b, fi.Severity().String())
		b = append(b, `,"frame":`...)
		b = appendUint(b, fi.Frame)
		if fi.RelatedFrame != 0 {
			b = append(b, `,"related_frame":`...)
			b = appendUint(b, fi.RelatedFrame)
		}
		b = append(b, `,"message":"`...)
		b = f.appendJSONMessage(b, fi)
		var (
			n    int
			data []byte
		)
		switch fi.Code {
		case CodeSynAckPayload:
			n, data = int(h.SynAckPayload), h.SynAckBytes()
		case CodeSynPayload, CodeTFO:
			n, data = int(h.SynPayload), h.SynBytes()
		}
		if n != 0 {
			b = append(b, `,"bytes":`...)
			b = appendInt(b, int64(n))
		}
		if len(data) > 0 {
			b = append(b, `,"data":"`...)
			b = hex.AppendEncode(b, data)
			b = append(b, '"')
		}
		b = append(b, '}')
	}
	return b
}

// appendJSONHistory appends the history (Flow.History) as a JSON string,
// without making its string: its words copied eight bytes at a time, and
// the quote after its length. Its letters need no escaping (zeekState.add
// writes letters, flipRoles '^'), which jsonSafe8 confirms on each word, its
// bytes past the history's end taken as 'a', at a fraction of the cost of
// appendJSONString's scan; should one not, appendJSONString writes it.
func (z *zeekState) appendJSONHistory(b []byte) []byte {
	const max = len(z.hist)
	if cap(b)-len(b) < max+2 {
		b = slices.Grow(b, max+2)
	}
	hl := min(int(z.histLen), max)
	n := len(b)
	d := b[n : n+max+2]
	d[0] = '"'
	for i := 0; i < hl; i += 8 {
		w := binary.LittleEndian.Uint64(z.hist[i:])
		x := w
		if i+8 > hl {
			keep := uint64(1)<<(8*(hl-i)) - 1
			x = x&keep | 0x6161616161616161&^keep
		}
		if !jsonSafe8(x) {
			return appendJSONString(b, z.hist[:hl])
		}
		binary.LittleEndian.PutUint64(d[1+i:], w)
	}
	d[1+hl] = '"'
	return b[:n+hl+2]
}

// jsonText is a constant piece of a record longer than 16 bytes (a key, or
// a key and one of the few values that follow it) in its first bytes, and
// that text's length in the last: appendJSONText stores all 48 bytes, 16 at
// a time, where append calls memmove for a constant of more than 16 bytes
// (about 30 instructions with the call), as does an assignment of more
// than 16 bytes, the compiler not knowing that the two do not overlap.
type jsonText [3][16]byte

// appendJSONText appends the text of t.
func appendJSONText(b []byte, t *jsonText) []byte {
	n := len(b)
	if cap(b)-n < 48 {
		b = append(b, make([]byte, 48)...)[:n] // slices.Grow, which the compiler does not inline here
	}
	d := (*[48]byte)(b[n : n+48])
	*(*[16]byte)(d[:16]) = t[0]
	*(*[16]byte)(d[16:32]) = t[1]
	*(*[16]byte)(d[32:]) = t[2]
	return b[:n+int(t[2][15])]
}

// textOf makes the jsonText of s.
func textOf(s string) (t jsonText) {
	var a [48]byte
	if len(s) >= len(a) {
		panic("textOf: " + s + " is too long")
	}
	copy(a[:], s)
	a[len(a)-1] = byte(len(s))
	return jsonText{[16]byte(a[:16]), [16]byte(a[16:32]), [16]byte(a[32:])}
}

// textsOf makes the table of key, then the name that String gives each
// value of an enumeration of one byte, then after.
func textsOf[T ~uint8](key string, String func(T) string, after string) (t [256]jsonText) {
	for v := range t {
		t[v] = textOf(key + string(appendJSONName(nil, String(T(v)))) + after)
	}
	return t
}

var (
	directionTexts = [2]jsonText{textOf(`,"direction_guessed":false,"first_frame":`),
		textOf(`,"direction_guessed":true,"first_frame":`)}
	statusTexts      = textsOf(`,"status":`, Status.String, `,"conn_state":`)
	handshakeTexts   = textsOf(`,"handshake":{"status":`, HandshakeStatus.String, "")
	synAckPayloadKey = textOf(`,"synack_payload":`)
	clientOptionsKey = textOf(`,"client_options":{"mss":`)
	serverOptionsKey = textOf(`,"server_options":{"mss":`)
	// optionFlags holds the options of bool after the MSS and window
	// scale, a bit each (optionBits), and the closing brace, where
	// they fit.
	optionFlags = func() (t [16]jsonText) {
		for f := range t {
			s := ""
			for i, key := range []string{`,"sack_permitted":true`, `,"timestamps":true`, `,"fast_open":true`, `,"truncated":true`} {
				if f>>i&1 != 0 {
					s += key
				}
			}
			if s += "}"; len(s) < 48 {
				t[f] = textOf(s)
			}
		}
		return t
	}()
)

// appendJSONMessage appends the message of fi and its closing quote to b,
// which ends with the opening quote. The sentence is written in place and
// escaped only when it needs to be (an address with a zone, "…" in a
// payload, a decoder's reason).
func (f *Flow) appendJSONMessage(b []byte, fi Finding) []byte {
	start := len(b)
	b = f.appendMessage(b, fi)
	if jsonSafeRun(b, start) == len(b) {
		return append(b, '"')
	}
	var buf [256]byte
	msg := append(buf[:0], b[start:]...)
	return appendJSONString(b[:start-1], msg)
}

// appendJSONCounts appends "finding_counts", the codes that fired more often
// than the findings list keeps, in the order encoding/json sorts map keys.
func appendJSONCounts(b []byte, counts *[numCodes]uint32) []byte {
	var over [numCodes]Code
	n := 0
	for c, k := range counts {
		if k > maxFindingsPerCode {
			over[n] = Code(c)
			n++
		}
	}
	if n == 0 {
		return b
	}
	codes := over[:n]
	slices.SortFunc(codes, func(x, y Code) int {
		if x.String() < y.String() {
			return -1
		}
		if x.String() > y.String() {
			return 1
		}
		return 0
	})
	b = append(b, `,"finding_counts":{`...)
	for i, c := range codes {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONName(b, c.String())
		b = append(b, ':')
		b = appendUint(b, uint64(counts[c]))
	}
	return append(b, '}')
}

// appendJSONOptions appends key, `,"client_options":{"mss":` or the
// server's, and the side's options. With the MSS, which every handshake
// but a few has, each key that follows starts with a comma, and the
// options of bool with the closing brace are one of optionFlags.
func appendJSONOptions(b []byte, key *jsonText, o SideOptions) []byte {
	if !o.HasMSS {
		b = appendJSONText(b, key)
		b = b[:len(b)-len(`{"mss":`)]
		return appendJSONOptionsGeneral(b, o)
	}
	b = appendJSONText(b, key)
	b = appendUint(b, uint64(o.MSS))
	if o.HasWScale {
		b = append(b, `,"wscale":`...)
		b = appendUint(b, uint64(o.WScale))
	}
	if t := &optionFlags[optionBits(o)]; t[2][15] != 0 {
		return appendJSONText(b, t)
	}
	if o.SACKPerm {
		b = append(b, `,"sack_permitted":true`...)
	}
	if o.HasTS {
		b = append(b, `,"timestamps":true`...)
	}
	if o.TFO {
		b = append(b, `,"fast_open":true`...)
	}
	if o.Cut {
		b = append(b, `,"truncated":true`...)
	}
	return append(b, '}')
}

// optionBits returns the options of bool of o, a bit each, in the order
// of their keys.
func optionBits(o SideOptions) int {
	f := 0
	if o.SACKPerm {
		f |= 1
	}
	if o.HasTS {
		f |= 2
	}
	if o.TFO {
		f |= 4
	}
	if o.Cut {
		f |= 8
	}
	return f
}

// appendJSONOptionsGeneral appends the side's options as an object the
// general way, each key looked at in turn and every one but the first
// after a comma: for a side without the MSS, and in tests.
func appendJSONOptionsGeneral(b []byte, o SideOptions) []byte {
	b = append(b, '{')
	sep := func(b []byte) []byte {
		if b[len(b)-1] != '{' {
			b = append(b, ',')
		}
		return b
	}
	if o.HasMSS {
		b = append(b, `"mss":`...)
		b = appendUint(b, uint64(o.MSS))
	}
	if o.HasWScale {
		b = append(sep(b), `"wscale":`...)
		b = appendUint(b, uint64(o.WScale))
	}
	if o.SACKPerm {
		b = append(sep(b), `"sack_permitted":true`...)
	}
	if o.HasTS {
		b = append(sep(b), `"timestamps":true`...)
	}
	if o.TFO {
		b = append(sep(b), `"fast_open":true`...)
	}
	if o.Cut {
		b = append(sep(b), `"truncated":true`...)
	}
	return append(b, '}')
}

// appendJSONEndpoint appends an endpoint as a Flow keeps it (its family,
// words and port) as appendJSONAddrPort does, without netip: netip's
// AppendTo took 260 instructions an IPv4 endpoint and 1,000 an IPv6 one
// on the benchmark file, this takes about 200 and 400 with the port. The
// text is written in b's spare capacity, some of it a few bytes at a time
// past where it ends.
func appendJSONEndpoint(b []byte, k addrKind, w [2]uint64, port uint16) []byte {
	if k != addrV4 && k != addrV6 {
		return appendJSONAddrPort(b, netip.AddrPortFrom(k.addr(w), port)) // "invalid AddrPort"
	}
	if cap(b)-len(b) < endpointMax {
		b = slices.Grow(b, endpointMax)
	}
	n := len(b)
	d := b[n : n+endpointMax]
	var i int
	switch {
	case k == addrV4:
		d[0] = '"'
		i = putIPv4(d, 1, uint32(w[1]>>32))
	case w[0] == 0 && uint32(w[1]) == 0xffff0000: // IPv4-mapped, as netip writes it
		binary.LittleEndian.PutUint64(d, '"'|'['<<8|':'<<16|':'<<24|'f'<<32|'f'<<40|'f'<<48|'f'<<56)
		d[8] = ':'
		i = putIPv4(d, 9, uint32(w[1]>>32))
		d[i-1] = ']'
		i++
	default:
		d[0], d[1] = '"', '['
		i = putIPv6(d, 2, w)
		d[i] = ']'
		i += 2
	}
	d[i-1] = ':'
	// The port, from 1 to 5 digits (0 is "0"), and the closing quote.
	z := digits8(uint32(port))
	lead := bits.TrailingZeros64(z|1<<56) & 56
	binary.LittleEndian.PutUint64(d[i:], z>>lead|ascii0s)
	i += 8 - lead>>3
	d[i] = '"'
	return b[:n+i+1]
}

// endpointMax is the most appendJSONEndpoint writes past b's length:
// `"[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535"` is 48 bytes, and the
// port's digits are stored eight at a time.
const endpointMax = 56

// putIPv4 writes the IPv4 address whose bytes are those of a, the first
// lowest, at d[i:], each octet's digits and the dot after them from a
// table, and returns where the last dot ends.
func putIPv4(d []byte, i int, a uint32) int {
	o := decOctets[byte(a)]
	binary.LittleEndian.PutUint32(d[i:], uint32(o))
	i += int(o >> 32)
	o = decOctets[byte(a>>8)]
	binary.LittleEndian.PutUint32(d[i:], uint32(o))
	i += int(o >> 32)
	o = decOctets[byte(a>>16)]
	binary.LittleEndian.PutUint32(d[i:], uint32(o))
	i += int(o >> 32)
	o = decOctets[a>>24]
	binary.LittleEndian.PutUint32(d[i:], uint32(o))
	return i + int(o>>32)
}

// decOctets holds each byte's decimal digits and a dot in its low four
// bytes, and their count in the high ones.
var decOctets = func() (t [256]uint64) {
	for i := range t {
		s := strconv.Itoa(i) + "."
		var d [4]byte
		copy(d[:], s)
		t[i] = uint64(binary.LittleEndian.Uint32(d[:])) | uint64(len(s))<<32
	}
	return t
}()

// putIPv6 writes the IPv6 address whose words (addrWords) are w at d[i:]
// as netip's Addr.AppendTo does (RFC 5952: each 16-bit group in lower-case
// hex without leading zeros, the longest run of two or more zero groups,
// the first of equals, as "::") and returns where it ends.
func putIPv6(d []byte, i int, w [2]uint64) int {
	run := v6ZeroRuns[zeroGroups(w[0])|zeroGroups(w[1])<<4]
	start, end := int(run>>4), int(run&15)
	for g := 0; g < 8; g++ {
		if g == start {
			d[i], d[i+1] = ':', ':'
			i += 2
			g = end
			if g >= 8 {
				break
			}
		} else if g > 0 {
			d[i] = ':'
			i++
		}
		// The group's two bytes, first in the low byte, as four nibbles
		// in four bytes, the first lowest; then each in hex.
		v := uint32(w[g>>2] >> (16 * (g & 3)) & 0xffff)
		v = v&0xff | v&0xff00<<8
		v = v>>4&0x000f000f | v&0x000f000f<<8
		lead := bits.TrailingZeros32(v|1<<24) & 24 // zero nibbles before the first digit
		v >>= lead
		v += 0x30303030 + (v+0x06060606)>>4&0x01010101*('a'-'0'-10)
		binary.LittleEndian.PutUint32(d[i:], v)
		i += 4 - lead>>3
	}
	return i
}

// zeroGroups returns the zero groups of the four 16-bit groups of x, one
// bit each, the first group's lowest: each group's two bytes ORed into its
// low byte, 0xff added to set bit 8 of those that are not zero, and those
// bits gathered by a multiply that moves the bit of group k from 16k to
// 48+k (no two of its partial products land on the same bit).
func zeroGroups(x uint64) uint8 {
	x = (x | x>>8) & 0x00ff_00ff_00ff_00ff
	x = (x + 0x00ff_00ff_00ff_00ff) >> 8 & 0x0001_0001_0001_0001
	return uint8(x*(1<<48|1<<33|1<<18|1<<3)>>48) ^ 15
}

// v6ZeroRuns holds, for each set of zero groups (zeroGroups of both
// words, the first group lowest), the run netip writes as "::": its first
// group in the high nibble and the group after it in the low; 8 and 8
// when no run of two or more.
var v6ZeroRuns = func() (t [256]uint8) {
	for m := range t {
		start, end := 8, 8
		for i := 0; i < 8; i++ {
			j := i
			for j < 8 && m>>j&1 != 0 {
				j++
			}
			if j-i >= 2 && j-i > end-start {
				start, end = i, j
			}
		}
		t[m] = uint8(start<<4 | end)
	}
	return t
}()

// appendJSONAddrPort appends an address and port as a JSON string, as
// AddrPort.String writes it.
func appendJSONAddrPort(b []byte, ap netip.AddrPort) []byte {
	if !ap.Addr().IsValid() || ap.Addr().Zone() != "" {
		return appendJSONString(b, ap.String())
	}
	b = append(b, '"')
	b = ap.AppendTo(b)
	return append(b, '"')
}

// appendJSONName appends one of the names of an enumeration (a finding's
// code, a severity, a status, a tunnel) as a JSON string. Such names need
// no escaping, so they are copied without the scan appendJSONString makes
// (TestJSONNamesPlain holds every name to that).
func appendJSONName(b []byte, name string) []byte {
	b = append(b, '"')
	b = append(b, name...)
	return append(b, '"')
}

// appendJSONFloat appends a float64 as encoding/json does (ES6 number
// formatting). The values written here are finite.
func appendJSONFloat(b []byte, f float64) []byte {
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// e-09 becomes e-9.
		n := len(b)
		if n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

// appendJSONMicros appends ns, in nanoseconds, rounded to microseconds and
// divided by unit (1e3 for milliseconds, 1e6 for seconds, the only two):
// appendJSONFloat(b, math.Round(float64(ns)/1e3)/unit), without its cost.
// That float's shortest decimal is the microseconds with the point moved,
// when they have at most 15 digits: two decimals of at most 15 significant
// digits differ by more than a float64's rounding.
func appendJSONMicros(b []byte, ns int64, unit uint64) []byte {
	if ns < 0 || ns >= 1e15 {
		return appendJSONMicrosFloat(b, ns, unit)
	}
	// Below 1e15 ns (11.6 days), float64(ns) is exact and a float64 near
	// ns/1e3 (below 2^40) is within 2^-14 of it, so math.Round of the
	// quotient rounds as this does: half up, and up only from half.
	us := (uint64(ns) + 500) / 1e3
	if us == 0 {
		return append(b, '0')
	}
	whole, frac := us/unit, uint32(us%unit)
	if whole < 10 {
		b = append(b, byte('0'+whole))
	} else {
		b = appendUint(b, whole)
	}
	if frac != 0 {
		// The point and the fraction's digits (six or three, the first
		// two or five of digits8 being zero) stored at once, up to the
		// last that is not zero: where a loop over the digits, and one
		// over unit for their count, took 350 instructions a record (its
		// two durations), and two digits at a time from digitPairs and
		// math.Round 180 a duration; this, rounding in integers, 105.
		z := digits8(frac) >> 16
		if unit != 1e6 { // 1e3
			z >>= 24
		}
		if cap(b)-len(b) < 8 {
			b = slices.Grow(b, 8)
		}
		n := len(b)
		binary.LittleEndian.PutUint64(b[n:n+8], '.'|(z|ascii0s)<<8)
		return b[:n+9-bits.LeadingZeros64(z)>>3]
	}
	return b
}

// appendJSONMicrosFloat is appendJSONMicros by way of float64, for the
// negative durations and those of 1e15 ns or more.
func appendJSONMicrosFloat(b []byte, ns int64, unit uint64) []byte {
	us := math.Round(float64(ns) / 1e3)
	if us == 0 && !math.Signbit(us) {
		return append(b, '0')
	}
	if us == 0 || math.Abs(us) >= 1e15 {
		return appendJSONFloat(b, us/float64(unit))
	}
	u := uint64(math.Abs(us))
	if us < 0 {
		b = append(b, '-')
	}
	b = appendUint(b, u/unit)
	if frac := u % unit; frac != 0 {
		var d [8]byte // .999999
		d[0] = '.'
		n := 1
		for p := unit / 10; p > 0; p /= 10 {
			d[n] = byte('0' + frac/p%10)
			n++
		}
		for d[n-1] == '0' {
			n--
		}
		b = append(b, d[:n]...)
	}
	return b
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string, escaped as encoding/json
// escapes it with HTML escaping off: quotes, backslashes and control
// characters, U+2028 and U+2029, and invalid UTF-8 as U+FFFD.
func appendJSONString[S string | []byte](b []byte, s S) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		i = jsonSafeRun(s, i)
		if i == len(s) {
			break
		}
		c := s[i]
		if c < utf8.RuneSelf {
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		var p [utf8.UTFMax]byte
		r, size := utf8.DecodeRune(p[:copy(p[:], s[i:])])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// jsonSafeRun returns where the run of bytes from s[i] on that
// appendJSONString copies as they are ends, looking at eight at a time.
func jsonSafeRun[S string | []byte](s S, i int) int {
	for ; i+8 <= len(s); i += 8 {
		w := s[i : i+8]
		x := uint64(w[0]) | uint64(w[1])<<8 | uint64(w[2])<<16 | uint64(w[3])<<24 |
			uint64(w[4])<<32 | uint64(w[5])<<40 | uint64(w[6])<<48 | uint64(w[7])<<56
		if !jsonSafe8(x) {
			break
		}
	}
	for i < len(s) && jsonSafe[s[i]] {
		i++
	}
	return i
}

// jsonSafe marks the bytes appendJSONString copies as they are: printable
// ASCII but for the quote and the backslash.
var jsonSafe = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// jsonSafe8 reports whether none of the eight bytes of x needs escaping: no
// control character, quote, backslash or byte of 0x80 or more. With no byte
// of 0x80 or more, subtracting 0x20 (or 1) from each byte borrows, setting
// its high bit, only at a byte under 0x20 (or at a zero byte, which x^'"'
// and x^'\\' have where x has a quote or a backslash).
func jsonSafe8(x uint64) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	q, bs := x^(ones*'"'), x^(ones*'\\')
	return (x|(x-ones*0x20)|(q-ones)|(bs-ones))&highs == 0
}
