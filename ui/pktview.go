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
		add(d.text(o))
	}
	if p.MalformedLayer != "" {
		lines = append(lines, plainWrap(d.text(fmt.Sprintf("%s %s damaged at byte %d: %s", g.Invalid, p.MalformedLayer, p.MalformedOffset, p.MalformedReason)), w, "", "    ")...)
	}
	data := info.data
	switch p.IPVersion {
	case 4:
		parts := []string{st.Header.Render(fmt.Sprintf("IPv4 %s %s %s", p.Src, g.Arrow, p.Dst)),
			fmt.Sprintf("total length %d", p.IPTotalLen), fmt.Sprintf("ID %d (0x%04x)", p.IPID, p.IPID),
			fmt.Sprintf("TTL %d", p.TTL)}
		if p.TOS != 0 {
			parts = append(parts, fmt.Sprintf("DSCP %d ECN %d", p.TOS>>2, p.TOS&3))
		}
		if o := p.IPOffset; o+8 <= len(data) && data[o]>>4 == 4 {
			fl := binary.BigEndian.Uint16(data[o+6:])
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
	case 6:
		parts := []string{st.Header.Render(fmt.Sprintf("IPv6 %s %s %s", p.Src, g.Arrow, p.Dst)),
			fmt.Sprintf("payload length %d", p.IPTotalLen-40), fmt.Sprintf("hop limit %d", p.TTL)}
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
			d.windowWords(r), fmt.Sprintf("payload %d bytes", r.Len))
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
	parts := []string{flags, d.windowWords(info.ref)}
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
		opts := tcpOptions(info.data[o+20 : end])
		if n := len(opts); p.Opts.Cut && n > 0 && opts[n-1].bad {
			opts = opts[:n-1] // the option the snap length cut: not damaged
		}
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
		if p.Opts.Cut {
			ps = append(ps, fmt.Sprintf("%d bytes not captured", p.HeaderLen-20-shown))
		}
		if len(ps) > 0 {
			ps[0] = "options " + ps[0]
		}
		add(ps...)
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
			ps = append(ps, hexBytes(p.Payload, 16))
			ps = append(ps, "\""+printable(p.Payload[:min(len(p.Payload), 32)])+"\"")
		}
		add(ps...)
	} else {
		add(pl)
	}
	if len(p.Padding) > 0 {
		add(st.Padding.Render(fmt.Sprintf("Ethernet padding %d byte%s (not payload)", len(p.Padding), plural(len(p.Padding)))),
			st.Padding.Render(hexBytes(p.Padding, 16)))
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
	style := func(i int) *lipgloss.Style {
		switch {
		case i >= payFrom && i < payTo:
			return &st.PayloadOnSYN
		case padFrom >= 0 && i >= padFrom:
			return &st.Padding
		}
		return nil
	}
	var lines []string
	for off := 0; off < len(data); off += per {
		row := data[off:min(off+per, len(data))]
		var hx, asc strings.Builder
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
			if s := style(off + i); s != nil {
				h, a = s.Render(h), s.Render(a)
			}
			hx.WriteString(h + " ")
			asc.WriteString(a)
		}
		lines = append(lines, fmt.Sprintf("%04x  %s %s", off, hx.String(), asc.String()))
	}
	var legend []string
	if payFrom >= 0 {
		legend = append(legend, st.PayloadOnSYN.Render("payload on a SYN"))
	}
	if padFrom >= 0 {
		legend = append(legend, st.Padding.Render("padding"))
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
