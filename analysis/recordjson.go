package analysis

import (
	"encoding/binary"
	"encoding/hex"
	"math"
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

// jsonHead is the start of every record of a capture, up to the id:
// the capture's name, escaped once for all its records, and where reading
// it ended early (Result.EndsEarly), when it did.
func jsonHead(capture string, end *RecordEnd) []byte {
	b := appendJSONString([]byte(`{"capture":`), capture)
	if end != nil {
		b = append(b, `,"input_ends_early":{"after_frame":`...)
		b = appendUint(b, end.AfterFrame)
		b = append(b, `,"why":`...)
		b = append(appendJSONString(b, end.Why), '}')
	}
	return append(b, `,"id":`...)
}

// appendJSON appends the flow's record and a newline; head is
// jsonHead(the capture's name).
func (f *Flow) appendJSON(b, head []byte) []byte {
	h := &f.Handshake
	b = append(b, head...)
	b = appendInt(b, int64(f.ID))
	b = append(b, `,"client":`...)
	b = appendJSONEndpoint(b, f.clientKind, f.clientW, f.clientPort)
	b = append(b, `,"server":`...)
	b = appendJSONEndpoint(b, f.serverKind, f.serverW, f.serverPort)
	b = append(b, `,"direction_guessed":`...)
	b = strconv.AppendBool(b, f.DirectionGuessed)
	b = append(b, `,"first_frame":`...)
	b = appendUint(b, f.FirstFrame)
	b = append(b, `,"last_frame":`...)
	b = appendUint(b, f.LastFrame)
	b = append(b, `,"packets":`...)
	b = appendInt(b, int64(f.Packets))
	b = append(b, `,"bytes":`...)
	b = appendInt(b, f.Bytes)
	b = append(b, `,"start":"`...)
	b = appendTimeUTC(b, f.Start)
	b = append(b, `","duration_s":`...)
	b = appendJSONMicros(b, f.End-f.Start, 1e6)
	b = append(b, `,"status":`...)
	b = appendJSONName(b, f.Status.String())
	b = append(b, `,"conn_state":`...)
	b = appendJSONString(b, f.ConnState())
	b = append(b, `,"history":`...)
	z := &f.zeek
	b = appendJSONString(b, z.hist[:z.histLen]) // History, without its string
	if f.VLAN != 0 {
		b = append(b, `,"vlan":`...)
		b = appendUint(b, uint64(f.VLAN))
	}
	if t := f.Tunnel.String(); t != "" {
		b = append(b, `,"tunnel":`...)
		b = appendJSONName(b, t)
	}

	b = append(b, `,"handshake":{"status":`...)
	b = appendJSONName(b, h.Status.String())
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
		b = append(b, `,"synack_payload":`...)
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
		b = append(b, `,"client_options":`...)
		b = appendJSONOptions(b, h.Client)
	}
	if h.HaveSynAck {
		b = append(b, `,"server_options":`...)
		b = appendJSONOptions(b, h.Server)
	}
	b = append(b, `},"findings":[`...)
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
	b = append(b, ']')
	b = appendJSONCounts(b, f.overCounts())
	return append(b, '}', '\n')
}

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
	if counts == &noCounts {
		return b // most flows
	}
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

func appendJSONOptions(b []byte, o SideOptions) []byte {
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
// words and port) as appendJSONAddrPort does: an IPv4 one written here,
// each octet's digits from a table, where netip's AppendTo, for every
// family, took 260 instructions an endpoint on the benchmark file.
func appendJSONEndpoint(b []byte, k addrKind, w [2]uint64, port uint16) []byte {
	if k != addrV4 {
		return appendJSONAddrPort(b, netip.AddrPortFrom(k.addr(w), port))
	}
	var t [24]byte // "255.255.255.255:
	t[0] = '"'
	n := 1
	a := uint32(w[1] >> 32) // the address's bytes, the first lowest (addrWords)
	for range 4 {
		o := decOctets[byte(a)]
		binary.LittleEndian.PutUint32(t[n:], o)
		n += int(o >> 24)
		t[n] = '.'
		n++
		a >>= 8
	}
	t[n-1] = ':'
	b = append(b, t[:n]...)
	b = appendUint(b, uint64(port))
	return append(b, '"')
}

// decOctets holds each byte's decimal digits in its low three bytes and
// their count in the top one.
var decOctets = func() (t [256]uint32) {
	for i := range t {
		s := strconv.Itoa(i)
		var d [4]byte
		copy(d[:], s)
		d[3] = byte(len(s))
		t[i] = binary.LittleEndian.Uint32(d[:])
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
	if frac := uint32(u % unit); frac != 0 {
		// Two digits at a time from digitPairs, where a loop over the
		// digits, and one over unit for their count, took 350
		// instructions a record (its two durations).
		var d [8]byte // .999999
		d[0] = '.'
		n := 4
		if unit == 1e6 {
			put2(d[1:], frac/1e4)
			put2(d[3:], frac/100%100)
			put2(d[5:], frac%100)
			n = 7
		} else { // 1e3
			d[1] = byte('0' + frac/100)
			put2(d[2:], frac%100)
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
