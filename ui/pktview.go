package ui

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
	"time"

	"charm.land/lipgloss/v2"

	"github.com/synscope/synscope/analysis"
	"github.com/synscope/synscope/capture"
)

// packetPane draws the selected packet: its decoded headers, or its hex
// dump, scrolled to pktOff.
func (d *detailModel) packetPane(w, h int) []string {
	all := d.packetLines(w)
	off := max(0, min(d.pktOff, len(all)-h))
	end := min(len(all), off+h)
	lines := []string{d.tabs(panePacket, w, off, len(all)-end, "line")}
	for i := off; i < end; i++ {
		lines = append(lines, all[i])
	}
	return lines
}

// packetLines are the selected packet's lines at width w.
func (d *detailModel) packetLines(w int) []string {
	st := d.c.styles
	if d.cursor >= len(d.flow.Refs) {
		return nil
	}
	info, ok := d.infos[d.cursor]
	switch {
	case !ok:
		return []string{st.Dim.Render("  reading frame " + strconv.FormatUint(d.flow.Refs[d.cursor].Frame, 10) + d.c.g.Ellipsis)}
	case info.err != "":
		return plainWrap(d.c.safe(info.err), w, "  ", "  ")
	case d.hex:
		return d.hexLines(info, w)
	}
	return d.headerLines(info, w)
}

// text makes descriptive text ready for the terminal: arrows and other
// symbols as the glyphs say, then Safe.
func (d *detailModel) text(s string) string {
	if d.c.ascii {
		s = strings.NewReplacer("→", d.c.g.Arrow, "×", "x", "…", d.c.g.Ellipsis).Replace(s)
	}
	return d.c.safe(s)
}

// headerLines decodes the packet: frame, link and tunnel layers, the IP
// header, every TCP field and option, the payload and the padding.
func (d *detailModel) headerLines(info *pktInfo, w int) []string {
	st, g := d.c.styles, d.c.g
	p := &info.p
	sep := g.Sep
	var lines []string
	add := func(parts ...string) {
		lines = append(lines, fitParts(parts, sep, "    ", w, g.Ellipsis)...)
	}
	ts := time.Unix(0, info.ref.Time).UTC().Format("2006-01-02 15:04:05.000000")
	frame := []string{st.Header.Render(fmt.Sprintf("frame %d", info.ref.Frame)),
		fmt.Sprintf("%d bytes on the wire, %d captured", info.wireLen, len(info.data)), ts + " UTC"}
	if info.dir != 0 {
		frame = append(frame, info.dir.String())
	}
	add(frame...)
	for _, o := range info.outer {
		ps := make([]string, len(o))
		for i, part := range o {
			ps[i] = d.text(part)
		}
		add(ps...)
	}
	if p.MalformedLayer != "" {
		lines = append(lines, plainWrap(d.text(fmt.Sprintf("%s %s damaged at byte %d: %s", g.Invalid, p.MalformedLayer, p.MalformedOffset, p.MalformedReason)), w, "", "    ")...)
	}
	data := info.data
	switch p.IPVersion {
	case 4:
		parts := []string{st.Header.Render(fmt.Sprintf("IPv4 %s %s %s", p.Src, g.Arrow, p.Dst))}
		// The header's length where it has options (IHL > 5); they
		// follow on a line of their own.
		ihl := 0
		if o := p.IPOffset; o < len(data) && data[o]>>4 == 4 {
			ihl = int(data[o]&0x0f) * 4
		}
		if ihl > 20 {
			parts = append(parts, fmt.Sprintf("header %d bytes", ihl))
		}
		total := fmt.Sprintf("total length %d", p.IPTotalLen)
		if o := p.IPOffset; p.Fragments > 0 && o+4 <= len(data) {
			// This frame's own field, as tshark and the hex show it;
			// the reassembled datagram's after it.
			total = fmt.Sprintf("total length %d (the datagram %d)", binary.BigEndian.Uint16(data[o+2:]), p.IPTotalLen)
		}
		parts = append(parts, total, fmt.Sprintf("ID %d (0x%04x)", p.IPID, p.IPID),
			fmt.Sprintf("TTL %d", p.TTL))
		if p.TOS != 0 {
			parts = append(parts, fmt.Sprintf("DSCP %d ECN %d", p.TOS>>2, p.TOS&3))
		}
		if o := p.IPOffset; o+8 <= len(data) && data[o]>>4 == 4 {
			fl := binary.BigEndian.Uint16(data[o+6:])
			if fl&0x8000 != 0 {
				// RFC 791's reserved flag (RFC 3514's evil bit):
				// must be zero, and some firewalls drop it.
				parts = append(parts, "reserved bit set")
			}
			var flags []string
			if fl&0x4000 != 0 {
				flags = append(flags, "DF")
			}
			if fl&0x2000 != 0 {
				flags = append(flags, "MF")
			}
			if len(flags) > 0 {
				parts = append(parts, strings.Join(flags, " "))
			}
			if fo := fl & 0x1fff; fo != 0 {
				parts = append(parts, fmt.Sprintf("fragment offset %d", int(fo)*8))
			}
			if o+12 <= len(data) {
				parts = append(parts, "checksum "+d.check(fmt.Sprintf("0x%04x", binary.BigEndian.Uint16(data[o+10:])), p.IPChecksum, d.offloaded(info)))
			}
		} else {
			parts = append(parts, "checksum "+d.check("", p.IPChecksum, d.offloaded(info)))
		}
		if p.Fragments > 0 {
			parts = append(parts, fmt.Sprintf("reassembled from %d fragments", p.Fragments))
		}
		add(parts...)
		if ihl > 20 {
			o := p.IPOffset
			add(d.optionParts("IP options ", ipv4Options(data[min(o+20, len(data)):min(o+ihl, len(data))]),
				ihl-20)...)
		}
	case 6:
		plen := fmt.Sprintf("payload length %d", p.IPTotalLen-40)
		switch o := p.IPOffset; {
		case p.Fragments > 0 && o+6 <= len(data):
			plen = fmt.Sprintf("payload length %d (the datagram %d)", binary.BigEndian.Uint16(data[o+4:]), p.IPTotalLen-40)
		case o+6 <= len(data) && binary.BigEndian.Uint16(data[o+4:]) == 0 && p.IPTotalLen > 40:
			plen = fmt.Sprintf("payload length 0 (jumbogram of %d)", p.IPTotalLen-40)
		}
		parts := []string{st.Header.Render(fmt.Sprintf("IPv6 %s %s %s", p.Src, g.Arrow, p.Dst)),
			plen, fmt.Sprintf("hop limit %d", p.TTL)}
		if p.TOS != 0 {
			parts = append(parts, fmt.Sprintf("traffic class 0x%02x", p.TOS))
		}
		if o := p.IPOffset; o+4 <= len(data) {
			parts = append(parts, fmt.Sprintf("flow label 0x%05x", binary.BigEndian.Uint32(data[o:])&0xfffff))
		}
		if p.Fragments > 0 {
			parts = append(parts, fmt.Sprintf("reassembled from %d fragments", p.Fragments))
		}
		add(parts...)
		lines = append(lines, d.ext6Lines(info, w)...)
	}
	if p.Fragment {
		if info.ref.Bits&analysis.RefFragment != 0 {
			add("IP fragment: its datagram is completed and decoded at a later frame")
			return lines
		}
		// The last fragment: read alone, it does not reassemble. The flow
		// has the reassembled segment's numbers.
		r := info.ref
		add(st.Header.Render("TCP")+" reassembled from fragments (their bytes are not shown)",
			"seq "+d.rel(r.Seq, r.Side()), "ack "+d.rel(r.Ack, 1-r.Side()), "flags "+flagWords(r.Flags, false),
			d.text(d.windowWords(r)), fmt.Sprintf("payload %d bytes", r.Len))
		return lines
	}
	if !p.HasTCP {
		if p.IPVersion == 0 && p.MalformedLayer == "" {
			add("no IP layer found")
		}
		return lines
	}
	lines = append(lines, d.tcpLines(info, w)...)
	return lines
}

// optionParts shows a header's options as parts of a line, the first
// after label, a damaged one marked, and says how many of the size bytes
// of options are not in the frame (snap length).
func (d *detailModel) optionParts(label string, opts []hdrOption, size int) []string {
	st, g := d.c.styles, d.c.g
	var ps []string
	shown := 0
	for _, op := range opts {
		s := d.text(op.text)
		if op.bad {
			s = st.Status.Invalid.Render(g.Invalid + " " + s)
		}
		ps = append(ps, s)
		shown += op.bytes
	}
	if shown < size {
		ps = append(ps, fmt.Sprintf("%d bytes not captured", size-shown))
	}
	if len(ps) > 0 {
		ps[0] = label + ps[0]
	}
	return ps
}

// ext6Lines are the IPv6 extension headers between the IPv6 header and
// the TCP header, in order, each with its length, so that every byte of
// the datagram's headers is accounted for ("payload length 40" before a
// 24-byte TCP header said nothing of 16 bytes of destination options).
func (d *detailModel) ext6Lines(info *pktInfo, w int) []string {
	p, data := &info.p, info.data
	o := p.IPOffset
	if o+40 > len(data) || data[o]>>4 != 6 {
		return nil
	}
	var lines []string
	add := func(parts []string) {
		lines = append(lines, fitParts(parts, d.c.g.Sep, "    ", w, d.c.g.Ellipsis)...)
	}
	next, at := data[o+6], o+40
	end := min(len(data), o+p.IPTotalLen)
	if p.TCPOffset >= 0 {
		end = p.TCPOffset
	}
	for at < end {
		switch next {
		case ext6HopByHop, ext6Routing, ext6DstOpts, ext6Fragment:
		default:
			return lines
		}
		n := 8
		if next != ext6Fragment && at+1 < len(data) {
			n = (int(data[at+1]) + 1) * 8
		}
		if at+n > len(data) {
			add([]string{d.text(fmt.Sprintf("%s, %d bytes, %d captured", ext6Name(next), n, len(data)-at))})
			return lines
		}
		h := data[at : at+n]
		opts, more := ext6Header(next, h)
		add(d.optionParts("", opts, 0))
		if !more {
			return lines
		}
		next, at = h[0], at+n
	}
	if p.TCPOffset >= 0 && at != p.TCPOffset {
		add([]string{d.c.styles.Dim.Render(fmt.Sprintf("%d bytes before the TCP header not decoded here", p.TCPOffset-at))})
	}
	return lines
}

// check shows a checksum value and its verdict; a bad one stands out,
// unless it is checksum offload on the capturing host: the NIC fills the
// checksum in after the capture point, so the captured one cannot be
// verified.
func (d *detailModel) check(v string, c analysis.Check, offload bool) string {
	if v != "" {
		v += " "
	}
	switch {
	case c == analysis.CheckBad && offload:
		return v + d.c.styles.Dim.Render("not verifiable (offload)")
	case c == analysis.CheckBad:
		return v + d.c.styles.Status.Invalid.Render(d.c.g.Invalid+" bad")
	case c == analysis.CheckGood:
		return v + "good"
	}
	return v + c.String()
}

// offloaded reports whether the packet's bad checksums are checksum
// offload on the capturing host, as the analysis judges them
// (analysis/checksum.go): the TCP checksum field holds the pseudo-header
// sum a stack leaves for its NIC (on lo, every locally sent packet); the
// capture marks the packet outgoing; or, the direction unknown, the
// finished analysis counted it in the flow's checksum.offload finding
// (its sender is the one address all the capture's bad checksums come
// from, and it sent good ones too) rather than giving it a checksum.bad
// finding. A packet the capture marks as received is never the capturing
// host's own.
func (d *detailModel) offloaded(info *pktInfo) bool {
	if info.judged {
		return info.offload
	}
	info.judged = true
	p := &info.p
	switch {
	case p.TCPChecksum != analysis.CheckBad && p.IPChecksum != analysis.CheckBad:
		return false
	case p.PartialChecksum && p.IPChecksum != analysis.CheckBad, info.dir == capture.DirOutbound:
		info.offload = true
		return true
	case info.dir != capture.DirUnknown:
		return false
	}
	f := d.flow
	off, ok := f.First(analysis.CodeChecksumOffload)
	if !ok {
		return false // not offload, or a flow not final yet (live)
	}
	for _, fi := range f.Findings {
		if fi.Code == analysis.CodeChecksumBad && fi.Frame == info.ref.Frame {
			return false
		}
	}
	// The analysis judges a flow's first bad-checksum packets only, as
	// many as it has findings for: this one must be among them.
	judged := int(off.A) + f.Count(analysis.CodeChecksumBad)
	n := 0
	for _, r := range f.Refs {
		if r.Frame == info.ref.Frame {
			info.offload = n < judged
			return info.offload
		}
		if r.Bits&analysis.RefBadChecksum != 0 && r.Bits&analysis.RefFragment == 0 {
			n++
		}
	}
	return false
}

// tcpLines are the TCP header, field by field, the payload and the
// padding.
func (d *detailModel) tcpLines(info *pktInfo, w int) []string {
	st, g := d.c.styles, d.c.g
	p := &info.p
	f := d.flow
	side := info.ref.Side()
	var lines []string
	add := func(parts ...string) {
		lines = append(lines, fitParts(parts, g.Sep, "    ", w, g.Ellipsis)...)
	}
	add(st.Header.Render(fmt.Sprintf("TCP %d %s %d", p.SrcPort, g.Arrow, p.DstPort)),
		fmt.Sprintf("header %d bytes", p.HeaderLen))

	seq := fmt.Sprintf("seq %d", p.Seq)
	if d.haveBase[side] {
		seq += " (relative " + d.relAlways(p.Seq, side) + ")"
	}
	ack := fmt.Sprintf("ack %d", p.Ack)
	if p.Flags&analysis.FlagACK != 0 && d.haveBase[1-side] {
		ack += " (relative " + d.relAlways(p.Ack, 1-side) + ")"
	}
	// Where the ACK is wrong, show it against the expected one.
	for _, fi := range f.Findings {
		if fi.Frame != info.ref.Frame || (fi.Code != analysis.CodeAckMismatch && fi.Code != analysis.CodeSynAckAckMismatch) {
			continue
		}
		exp, act := uint32(fi.A), uint32(fi.B)
		if act != p.Ack {
			continue
		}
		who := "server"
		if fi.Code == analysis.CodeSynAckAckMismatch {
			who = "client"
		}
		ack = "ack " + st.Actual.Render(strconv.FormatUint(uint64(act), 10)) +
			fmt.Sprintf(" (%+d) %s expected ", int32(act-exp), g.NotEqual) +
			st.Expected.Render(strconv.FormatUint(uint64(exp), 10)) + " (" + who + " ISN+1)"
	}
	add(seq, ack)

	flags := fmt.Sprintf("flags 0x%03x %s", uint16(p.Flags)|boolBit(p.NS)<<8, flagWords(p.Flags, p.NS))
	parts := []string{flags, d.text(d.windowWords(info.ref))}
	if o := p.TCPOffset; o >= 0 && o+18 <= len(info.data) {
		if res := info.data[o+12] & 0x0e; res != 0 {
			parts = append(parts, fmt.Sprintf("reserved bits 0x%x", res>>1))
		}
		parts = append(parts, "checksum "+d.check(fmt.Sprintf("0x%04x", binary.BigEndian.Uint16(info.data[o+16:])), p.TCPChecksum, d.offloaded(info)))
	} else {
		parts = append(parts, "checksum "+d.check("", p.TCPChecksum, d.offloaded(info)))
	}
	parts = append(parts, fmt.Sprintf("urgent %d", p.Urgent))
	add(parts...)

	// Options, from the raw header when the frame holds it.
	if o := p.TCPOffset; o >= 0 && p.HeaderLen > 20 && o+20 <= len(info.data) {
		end := min(o+p.HeaderLen, len(info.data))
		// SACK blocks are the other side's sequence numbers: relative
		// to its ISN when the view shows relative numbers, as tshark's
		// SLE and SRE are with relative_sequence_numbers.
		edge := func(v uint32) string { return strconv.FormatUint(uint64(v), 10) }
		if !d.absolute && d.haveBase[1-side] {
			edge = func(v uint32) string { return d.relAlways(v, 1-side) }
		}
		opts := tcpOptionsDSACK(info.data[o+20:end], edge, p.Opts.DSACK(p.Ack))
		if n := len(opts); p.Opts.Cut && n > 0 && opts[n-1].bad {
			opts = opts[:n-1] // the option the snap length cut: not damaged
		}
		if !d.absolute && d.haveBase[1-side] {
			for i := range opts {
				if opts[i].kind == 5 && !opts[i].bad {
					opts[i].text += " (relative)"
				}
			}
		}
		add(d.optionParts("options ", opts, p.HeaderLen-20)...)
	} else if p.HeaderLen > 20 {
		add(fmt.Sprintf("options %d bytes, not captured", p.HeaderLen-20))
	}

	// Payload: highlighted on a SYN or SYN-ACK, where it should not be.
	pl := fmt.Sprintf("payload %d byte%s", p.PayloadLen, plural(p.PayloadLen))
	if p.PayloadLen > 0 {
		if len(p.Payload) < p.PayloadLen {
			pl += fmt.Sprintf(" (%d captured)", len(p.Payload))
		}
		var ps []string
		if p.Flags&analysis.FlagSYN != 0 {
			on := "SYN"
			if p.Flags&analysis.FlagACK != 0 {
				on = "SYN-ACK"
			}
			ps = append(ps, st.PayloadOnSYN.Render(pl+" on a "+on))
		} else {
			ps = append(ps, pl)
		}
		if len(p.Payload) > 0 {
			ps = append(ps, d.text(hexBytes(p.Payload, 16)))
			ps = append(ps, "\""+printable(p.Payload[:min(len(p.Payload), 32)])+"\"")
		}
		add(ps...)
	} else {
		add(pl)
	}
	if len(p.Padding) > 0 {
		what := "Ethernet padding"
		if p.LinkType == analysis.LinkTypeNFLOG {
			// The log attribute's alignment, not a NIC's.
			what = "NFLOG attribute padding"
		}
		add(st.Padding.Render(fmt.Sprintf("%s %d byte%s (not payload)", what, len(p.Padding), plural(len(p.Padding)))),
			st.Padding.Render(d.text(hexBytes(p.Padding, 16))))
	}
	if p.Truncated {
		add(st.Dim.Render("the capture holds only part of this datagram (snap length)"))
	}
	return lines
}

func boolBit(b bool) uint16 {
	if b {
		return 1
	}
	return 0
}

// relAlways returns v relative to its side's base.
func (d *detailModel) relAlways(v uint32, side analysis.Side) string {
	base := d.clientBase
	if side == analysis.FromServer {
		base = d.serverBase
	}
	return strconv.FormatUint(uint64(v-base), 10)
}

// hexLines draws the hex and ASCII dump: 16 bytes a line when there is
// room, else 8. Payload on a SYN is highlighted, padding shown as padding;
// every byte outside printable ASCII is a dot.
func (d *detailModel) hexLines(info *pktInfo, w int) []string {
	st := d.c.styles
	p := &info.p
	data := info.data
	per := 16
	if w < 4+2+16*3+1+1+16 {
		per = 8
	}
	// Byte ranges to style.
	var payFrom, payTo, padFrom int = -1, -1, -1
	if p.HasTCP && p.TCPOffset >= 0 && p.Flags&analysis.FlagSYN != 0 && len(p.Payload) > 0 {
		payFrom = p.TCPOffset + p.HeaderLen
		payTo = payFrom + len(p.Payload)
	}
	if len(p.Padding) > 0 {
		padFrom = len(data) - len(p.Padding)
	}
	// style gives a byte's highlight, and the mark that stands under it
	// on a line of its own where the terminal shows no attribute
	// (TERM=dumb): there the legend named highlighting that was not
	// drawn, and the seed's 2 bytes of SYN-ACK payload were not marked.
	style := func(i int) (*lipgloss.Style, byte) {
		switch {
		case i >= payFrom && i < payTo:
			return &st.PayloadOnSYN, '^'
		case padFrom >= 0 && i >= padFrom:
			return &st.Padding, '~'
		}
		return nil, ' '
	}
	var lines []string
	for off := 0; off < len(data); off += per {
		row := data[off:min(off+per, len(data))]
		var hx, asc strings.Builder
		ascAt := 6 + per*3 + (per-1)/8 + 1 // the column of the row's first character
		marks := []byte(strings.Repeat(" ", ascAt+per))
		marked := false
		for i := range per {
			if i == 8 {
				hx.WriteByte(' ')
			}
			if i >= len(row) {
				hx.WriteString("   ")
				continue
			}
			b := row[i]
			h := fmt.Sprintf("%02x", b)
			a := printable([]byte{b})
			if s, m := style(off + i); s != nil {
				h, a = s.Render(h), s.Render(a)
				col := 6 + i*3 + i/8 // the byte's hex digits
				marks[col], marks[col+1] = m, m
				marks[ascAt+i] = m // and its character
				marked = true
			}
			hx.WriteString(h + " ")
			asc.WriteString(a)
		}
		lines = append(lines, fmt.Sprintf("%04x  %s %s", off, hx.String(), asc.String()))
		if marked && d.c.noAttrs {
			lines = append(lines, strings.TrimRight(string(marks), " "))
		}
	}
	var legend []string
	mark := func(m string) string {
		if d.c.noAttrs {
			return m + " "
		}
		return ""
	}
	if payFrom >= 0 {
		legend = append(legend, st.PayloadOnSYN.Render(mark("^^")+"payload on a SYN"))
	}
	if padFrom >= 0 {
		legend = append(legend, st.Padding.Render(mark("~~")+"padding"))
	}
	if len(legend) > 0 {
		lines = append(lines, "      "+strings.Join(legend, "  "))
	}
	return lines
}

// windowWords says a segment's window: the field, and in bytes when its
// sender scales ("window 93 × 1024 = 95232 bytes", tshark's calculated
// window size).
func (d *detailModel) windowWords(r analysis.PacketRef) string {
	shift, ok := d.flow.WindowShift(r.Side())
	switch {
	case r.Flags&analysis.FlagSYN != 0 || ok && shift == 0:
		return fmt.Sprintf("window %d", r.Window)
	case !ok:
		return fmt.Sprintf("window %d (scale unknown: no handshake captured)", r.Window)
	}
	return fmt.Sprintf("window %d × %d = %d bytes", r.Window, 1<<shift, uint64(r.Window)<<shift)
}
