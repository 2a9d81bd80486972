package analysis

import (
	"encoding/hex"
	"math"
	"net/netip"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"
)

// This file writes the JSON record of a flow without reflection and without
// building a Record: the same bytes encoding/json writes for Flow.Record
// with HTML escaping off (TestAppendJSONMatchesEncoder holds it to that), at
// a small fraction of the cost. Keys are in Record's field order and follow
// its omitempty rules.

// appendJSON appends the flow's record and a newline.
func (f *Flow) appendJSON(b []byte, capture string) []byte {
	h := &f.Handshake
	b = append(b, `{"capture":`...)
	b = appendJSONString(b, capture)
	b = append(b, `,"id":`...)
	b = strconv.AppendInt(b, int64(f.ID), 10)
	b = append(b, `,"client":`...)
	b = appendJSONAddrPort(b, f.Client)
	b = append(b, `,"server":`...)
	b = appendJSONAddrPort(b, f.Server)
	b = append(b, `,"direction_guessed":`...)
	b = strconv.AppendBool(b, f.DirectionGuessed)
	b = append(b, `,"first_frame":`...)
	b = strconv.AppendUint(b, f.FirstFrame, 10)
	b = append(b, `,"last_frame":`...)
	b = strconv.AppendUint(b, f.LastFrame, 10)
	b = append(b, `,"packets":`...)
	b = strconv.AppendInt(b, int64(f.Packets), 10)
	b = append(b, `,"bytes":`...)
	b = strconv.AppendInt(b, f.Bytes, 10)
	b = append(b, `,"start":"`...)
	b = time.Unix(0, f.Start).UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","duration_s":`...)
	b = appendJSONFloat(b, math.Round(float64(f.End-f.Start)/1e3)/1e6)
	b = append(b, `,"status":`...)
	b = appendJSONString(b, f.Status.String())
	b = append(b, `,"conn_state":`...)
	b = appendJSONString(b, f.ConnState())
	b = append(b, `,"history":`...)
	b = appendJSONString(b, f.History())
	if f.VLAN != 0 {
		b = append(b, `,"vlan":`...)
		b = strconv.AppendUint(b, uint64(f.VLAN), 10)
	}
	if t := f.Tunnel.String(); t != "" {
		b = append(b, `,"tunnel":`...)
		b = appendJSONString(b, t)
	}

	b = append(b, `,"handshake":{"status":`...)
	b = appendJSONString(b, h.Status.String())
	if h.HaveSyn && h.SynFrame != 0 {
		b = append(b, `,"syn_frame":`...)
		b = strconv.AppendUint(b, h.SynFrame, 10)
	}
	if h.HaveSynAck && h.SynAckFrame != 0 {
		b = append(b, `,"synack_frame":`...)
		b = strconv.AppendUint(b, h.SynAckFrame, 10)
	}
	if h.AckChecked && h.AckFrame != 0 {
		b = append(b, `,"ack_frame":`...)
		b = strconv.AppendUint(b, h.AckFrame, 10)
	}
	if h.HaveSyn {
		b = append(b, `,"client_isn":`...)
		b = strconv.AppendUint(b, uint64(h.ClientISN), 10)
	}
	if h.HaveSynAck {
		b = append(b, `,"server_isn":`...)
		b = strconv.AppendUint(b, uint64(h.ServerISN), 10)
	}
	if h.HaveSyn {
		b = append(b, `,"syn_payload":`...)
		b = strconv.AppendInt(b, int64(h.SynPayload), 10)
	}
	if h.HaveSynAck {
		b = append(b, `,"synack_payload":`...)
		b = strconv.AppendInt(b, int64(h.SynAckPayload), 10)
	}
	if h.AckChecked {
		b = append(b, `,"expected_ack":`...)
		b = strconv.AppendUint(b, uint64(h.ExpectedAck), 10)
		b = append(b, `,"actual_ack":`...)
		b = strconv.AppendUint(b, uint64(h.ActualAck), 10)
	}
	if ns, ok := h.IRTT(); ok {
		b = append(b, `,"irtt_ms":`...)
		b = appendJSONFloat(b, math.Round(float64(ns)/1e3)/1e3)
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
		b = appendJSONString(b, fi.Code.String())
		b = append(b, `,"severity":`...)
		b = appendJSONString(b, fi.Severity().String())
		b = append(b, `,"frame":`...)
		b = strconv.AppendUint(b, fi.Frame, 10)
		if fi.RelatedFrame != 0 {
			b = append(b, `,"related_frame":`...)
			b = strconv.AppendUint(b, fi.RelatedFrame, 10)
		}
		b = append(b, `,"message":`...)
		b = appendJSONString(b, f.Message(fi))
		var (
			n    int
			data []byte
		)
		switch fi.Code {
		case CodeSynAckPayload:
			n, data = h.SynAckPayload, h.SynAckBytes[:h.SynAckCaptured]
		case CodeSynPayload, CodeTFO:
			n, data = h.SynPayload, h.SynBytes[:h.SynCaptured]
		}
		if n != 0 {
			b = append(b, `,"bytes":`...)
			b = strconv.AppendInt(b, int64(n), 10)
		}
		if len(data) > 0 {
			b = append(b, `,"data":"`...)
			b = hex.AppendEncode(b, data)
			b = append(b, '"')
		}
		b = append(b, '}')
	}
	b = append(b, ']')
	b = appendJSONCounts(b, &f.Counts)
	return append(b, '}', '\n')
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
		b = appendJSONString(b, c.String())
		b = append(b, ':')
		b = strconv.AppendUint(b, uint64(counts[c]), 10)
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
		b = strconv.AppendUint(b, uint64(o.MSS), 10)
	}
	if o.HasWScale {
		b = append(sep(b), `"wscale":`...)
		b = strconv.AppendUint(b, uint64(o.WScale), 10)
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
	return append(b, '}')
}

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

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string, escaped as encoding/json
// escapes it with HTML escaping off: quotes, backslashes and control
// characters, U+2028 and U+2029, and invalid UTF-8 as U+FFFD.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
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
		r, size := utf8.DecodeRuneInString(s[i:])
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
