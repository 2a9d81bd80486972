package ui

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"strings"
)

// IPv6 extension headers the packet pane reads (RFC 8200): the ones the
// decoder walks through to the TCP header.
const (
	ext6HopByHop = 0
	ext6Routing  = 43
	ext6Fragment = 44
	ext6DstOpts  = 60
)

// ext6Name names an IPv6 extension header by its next-header number.
func ext6Name(next uint8) string {
	switch next {
	case ext6HopByHop:
		return "hop-by-hop options"
	case ext6Routing:
		return "routing header"
	case ext6Fragment:
		return "fragment header"
	case ext6DstOpts:
		return "destination options"
	}
	return fmt.Sprintf("header %d", next)
}

// IPv4 option kinds with names here (RFC 791, 2113).
const (
	ipOptRR   = 7
	ipOptTS   = 68
	ipOptLSRR = 131
	ipOptSSRR = 137
	ipOptRA   = 148
)

// ipv4Options lists the options of an IPv4 header, in order: b is the
// header after its 20 fixed bytes. Firewalls drop or strip datagrams with
// options, so they are named: Router Alert, Record Route, Timestamp and
// the source routes; other kinds by number and length.
func ipv4Options(b []byte) []hdrOption {
	return walkOptions(b, func(kind byte, n int, v []byte) (string, bool) {
		switch {
		case kind == ipOptRA && n == 4:
			return fmt.Sprintf("Router Alert %d", binary.BigEndian.Uint16(v)), true
		case (kind == ipOptRR || kind == ipOptLSRR || kind == ipOptSSRR) && n >= 3 && (n-3)%4 == 0:
			return ipv4Route(kind, v), true
		case kind == ipOptTS && n >= 4:
			return ipv4Timestamp(v), true
		}
		switch kind {
		case ipOptRA, ipOptRR, ipOptLSRR, ipOptSSRR, ipOptTS:
			return "", false
		}
		return "", true
	})
}

// ipv4Route describes a Record Route or source route option: v is the
// option after its kind and length, the pointer first (RFC 791: the
// option's byte, from 1, of the next address to fill or to go to).
func ipv4Route(kind byte, v []byte) string {
	ptr, n := int(v[0]), len(v)+2
	var addrs []string
	for j := 1; j+4 <= len(v); j += 4 {
		addrs = append(addrs, netip.AddrFrom4([4]byte(v[j:j+4])).String())
	}
	// The slot the pointer names, counted from 0; past the end when
	// every slot is filled or every hop taken.
	next := len(addrs)
	if ptr >= 4 && ptr <= n && ptr%4 == 0 {
		next = (ptr - 4) / 4
	}
	bad := ""
	if ptr < 4 || ptr%4 != 0 {
		bad = fmt.Sprintf(", pointer %d", ptr)
	}
	if kind == ipOptRR {
		if next == 0 {
			return fmt.Sprintf("Record Route, %d slots, none recorded%s", len(addrs), bad)
		}
		return fmt.Sprintf("Record Route %s (%d of %d slots free%s)", strings.Join(addrs[:next], " "), len(addrs)-next, len(addrs), bad)
	}
	name := "Loose Source Route"
	if kind == ipOptSSRR {
		name = "Strict Source Route"
	}
	at := fmt.Sprintf("next hop %d of %d", next+1, len(addrs))
	if next >= len(addrs) {
		at = "every hop taken"
	}
	return fmt.Sprintf("%s %s (%s%s)", name, strings.Join(addrs, " "), at, bad)
}

// ipv4Timestamp describes a Timestamp option (RFC 791): v is the option
// after its kind and length: pointer, overflow and flag, then the slots.
func ipv4Timestamp(v []byte) string {
	ptr, oflw, flg := int(v[0]), v[1]>>4, v[1]&0x0f
	slots := v[2:]
	size, what := 4, "timestamps only"
	switch flg {
	case 1:
		size, what = 8, "with addresses"
	case 3:
		size, what = 8, "prespecified addresses"
	case 0:
	default:
		what = fmt.Sprintf("flag %d", flg)
	}
	total := len(slots) / size
	used := min(max((ptr-5)/size, 0), total)
	var rec []string
	for k := range used {
		s := slots[k*size:]
		if size == 8 {
			rec = append(rec, fmt.Sprintf("%s@%d", netip.AddrFrom4([4]byte(s[:4])), binary.BigEndian.Uint32(s[4:])))
		} else {
			rec = append(rec, fmt.Sprint(binary.BigEndian.Uint32(s)))
		}
	}
	text := fmt.Sprintf("Timestamp (%s), %d slots, none recorded", what, total)
	if used > 0 {
		text = fmt.Sprintf("Timestamp (%s) %s (%d of %d slots free)", what, strings.Join(rec, " "), total-used, total)
	}
	if oflw > 0 {
		text += fmt.Sprintf(", overflow %d", oflw)
	}
	return text
}

// ext6Options lists the options of a hop-by-hop or destination options
// header: b is the header after its next-header and length bytes. Pad1
// and PadN in a row are one "padding N" (every byte counted).
func ext6Options(b []byte) []hdrOption {
	var opts []hdrOption
	pad := 0
	flush := func() {
		if pad > 0 {
			opts = append(opts, hdrOption{text: fmt.Sprintf("padding %d", pad), bytes: pad})
			pad = 0
		}
	}
	for i := 0; i < len(b); {
		typ := b[i]
		if typ == 0 { // Pad1
			pad++
			i++
			continue
		}
		if i+1 >= len(b) || i+2+int(b[i+1]) > len(b) {
			flush()
			n := -1
			if i+1 < len(b) {
				n = int(b[i+1])
			}
			opts = append(opts, hdrOption{kind: typ, bad: true, bytes: len(b) - i,
				text: fmt.Sprintf("option 0x%02x at byte %d: length %d runs past the header", typ, i+2, n)})
			return opts
		}
		n := int(b[i+1])
		v := b[i+2 : i+2+n]
		i += 2 + n
		if typ == 1 { // PadN
			pad += 2 + n
			continue
		}
		flush()
		o := hdrOption{kind: typ, bytes: 2 + n}
		switch {
		case typ == 0x05 && n == 2:
			o.text = fmt.Sprintf("Router Alert %d", binary.BigEndian.Uint16(v))
			switch binary.BigEndian.Uint16(v) {
			case 0:
				o.text += " (MLD)"
			case 1:
				o.text += " (RSVP)"
			}
		case typ == 0xc2 && n == 4:
			o.text = fmt.Sprintf("Jumbo Payload %d", binary.BigEndian.Uint32(v))
		case typ == 0x04 && n == 1:
			o.text = fmt.Sprintf("Tunnel Encapsulation Limit %d", v[0])
		case typ == 0xc9 && n == 16:
			o.text = "Home Address " + netip.AddrFrom16([16]byte(v)).String()
		default:
			o.text = fmt.Sprintf("option 0x%02x, length %d", typ, n)
			if typ == 0x05 || typ == 0xc2 || typ == 0x04 || typ == 0xc9 {
				o.bad = true
				o.text += " (wrong length for its type)"
			}
			if n > 0 {
				o.text += ": " + hexBytes(v, 16)
			}
		}
		opts = append(opts, o)
	}
	flush()
	return opts
}

// ext6Header describes one IPv6 extension header h (all of it) whose
// type is next, as parts of a line; more is false when the headers after
// it are not in this frame (a fragment header of a later fragment).
func ext6Header(next uint8, h []byte) (parts []hdrOption, more bool) {
	parts = []hdrOption{{text: fmt.Sprintf("%s, %d bytes", ext6Name(next), len(h))}}
	switch next {
	case ext6HopByHop, ext6DstOpts:
		parts = append(parts, ext6Options(h[2:])...)
	case ext6Routing:
		typ, left := h[2], h[3]
		var name string
		var addrs []byte
		switch typ {
		case 0:
			name, addrs = "type 0 (source route, deprecated)", h[8:]
		case 2:
			name, addrs = "type 2 (Mobile IPv6)", h[8:]
		case 3:
			name = "type 3 (RPL)"
		case 4:
			name, addrs = "segment routing (type 4)", h[8:]
			addrs = addrs[:min(len(addrs), 16*(int(h[4])+1))] // up to the last entry; TLVs follow
		default:
			name = fmt.Sprintf("type %d", typ)
		}
		parts = append(parts, hdrOption{text: name}, hdrOption{text: fmt.Sprintf("segments left %d", left)})
		for j := 0; j+16 <= len(addrs); j += 16 {
			parts = append(parts, hdrOption{text: netip.AddrFrom16([16]byte(addrs[j : j+16])).String()})
		}
	case ext6Fragment:
		fo := binary.BigEndian.Uint16(h[2:])
		m := "last fragment"
		if fo&1 != 0 {
			m = "more fragments"
		}
		id := binary.BigEndian.Uint32(h[4:])
		parts = append(parts, hdrOption{text: fmt.Sprintf("offset %d", int(fo>>3)*8)}, hdrOption{text: m},
			hdrOption{text: fmt.Sprintf("ID %d (0x%08x)", id, id)})
		return parts, fo>>3 == 0
	}
	return parts, true
}
