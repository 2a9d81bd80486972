package ui

import (
	"encoding/binary"
	"fmt"
	"strings"

	tea "charm.land/bubbletea/v2"
	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/synscope/synscope/analysis"
	"github.com/synscope/synscope/capture"
)

// pktInfo is one packet read back from its file and decoded for display.
// Everything in it is owned by it (no buffer of a reader or decoder).
type pktInfo struct {
	ref      analysis.PacketRef
	err      string // why the packet could not be read again
	data     []byte // the captured bytes
	wireLen  int
	linkType layers.LinkType
	dir      capture.Direction
	p        analysis.Packet
	// outer describes the link and encapsulation layers, outermost first,
	// before the innermost IP header, each in parts that wrap. Plain text
	// made of numbers and addresses only.
	outer [][]string
	// offload is set when the packet's bad checksums are checksum offload
	// on the capturing host (see detailModel.offloaded); judged says it was
	// worked out.
	offload, judged bool
}

// packetsMsg carries packets of a flow read back for the drill-down.
type packetsMsg struct {
	cap, flow int
	first     int // index in the flow's Refs of infos[0]
	infos     []*pktInfo
}

// readPacketsCmd reads refs[first:first+n] of a flow back from the
// capture, off the UI goroutine.
func readPacketsCmd(ps *packetStore, capIdx, flowID int, refs []analysis.PacketRef, first int) tea.Cmd {
	return func() tea.Msg {
		return packetsMsg{cap: capIdx, flow: flowID, first: first, infos: readPackets(ps, refs)}
	}
}

// readPackets reads and decodes refs, in order (so that fragments are
// reassembled when all of them are in refs: detailModel.ensure starts a
// read at a datagram's first fragment). A fragment that cannot be read
// again (a live capture's spool rotated it out) says why, and the frame
// that completes its datagram, which then does not reassemble, shows the
// segment's numbers from the flow (pktInfo.p.Fragment).
func readPackets(ps *packetStore, refs []analysis.PacketRef) []*pktInfo {
	infos := make([]*pktInfo, len(refs))
	ps.mu.Lock()
	defer ps.mu.Unlock()
	dec := analysis.NewDecoder()
	for i, ref := range refs {
		info := &pktInfo{ref: ref}
		infos[i] = info
		if ref.Bits&analysis.RefFragment != 0 && ref.Offset == 0 {
			// Offset 0 is the file header, never a record: a ref made
			// without the fragment's offset (Packet.FragmentOffsets).
			info.err = fmt.Sprintf("frame %d is an earlier IP fragment of a datagram reassembled at a later frame; "+
				"where it is in the file was not kept, so its bytes cannot be shown", ref.Frame)
			continue
		}
		if ps.read == nil {
			info.err = ps.why().Error()
			continue
		}
		rec, err := ps.read(ref)
		if err != nil {
			info.err = err.Error()
			continue
		}
		info.data = append([]byte(nil), rec.Data...)
		info.wireLen = int(rec.OrigLen)
		info.linkType = rec.LinkType
		info.dir = rec.Direction
		own := *rec
		own.Data = info.data
		dec.Decode(&own, &info.p)
		// The decoder's slices may point into its reassembly buffers:
		// keep copies.
		info.p.Payload = append([]byte(nil), info.p.Payload...)
		info.p.Padding = append([]byte(nil), info.p.Padding...)
		info.p.FragmentFrames = append([]uint64(nil), info.p.FragmentFrames...)
		info.outer = outerLayers(info.data, info.linkType, info.p.IPOffset, info.p.IPVersion != 0)
	}
	return infos
}

// outerLayers describes the layers before the innermost IP header, which
// starts at byte ipOff, with gopacket: one entry per layer, in parts that
// wrap. A link header gopacket does not read (the decoder strips it by
// hand: IPoIB, Cisco HDLC, Juniper, ARCNET) is named with its length, so
// that every byte before the IP header is accounted for.
func outerLayers(data []byte, lt layers.LinkType, ipOff int, hasIP bool) [][]string {
	if lt == analysis.LinkTypeNFLOG && hasIP && ipOff >= 4 {
		// The rule's log prefix is what says which rule logged it.
		parts := []string{fmt.Sprintf("Linux NFLOG, group %d", binary.BigEndian.Uint16(data[2:4]))}
		if prefix, ok := analysis.NFLOGPrefix(data); ok {
			parts = append(parts, fmt.Sprintf("rule prefix %q", prefix))
		}
		return [][]string{append(parts, fmt.Sprintf("%d bytes", ipOff))}
	}
	if h, ok := analysis.ParsePKTAP(data); ok && (lt == analysis.LinkTypePKTAP || lt == 149) && hasIP && ipOff >= h.HeaderLen {
		// macOS names the interface and the process of each frame.
		parts := []string{"Apple PKTAP", "interface " + h.Interface}
		if h.PID > 0 {
			proc := fmt.Sprintf("process %d", h.PID)
			if h.Command != "" {
				proc += " (" + h.Command + ")"
			}
			parts = append(parts, proc)
		}
		parts = append(parts, fmt.Sprintf("%d bytes", h.HeaderLen))
		return append([][]string{parts}, outerLayers(data[h.HeaderLen:], h.LinkType, ipOff-h.HeaderLen, hasIP)...)
	}
	pk := gopacket.NewPacket(data, lt, gopacket.DecodeOptions{NoCopy: true, Lazy: false})
	var out [][]string
	add := func(parts ...string) { out = append(out, parts) }
	off := 0
	// tpid is the Ethernet type that announced the layer being read: an
	// 802.1ad (QinQ) service tag is 0x88a8, a customer tag 0x8100.
	var tpid layers.EthernetType
	for _, l := range pk.Layers() {
		// Where the layer starts: its bytes are data's (NoCopy), and
		// some layers' Contents leave out bytes they skip (PPP's
		// address and control, 0xff 0x03): the sum of the Contents
		// before it took the IP header of a PPP frame for an outer one.
		if c := l.LayerContents(); len(c) > 0 && cap(c) <= cap(data) {
			off = cap(data) - cap(c)
		}
		if hasIP && off >= ipOff {
			break
		}
		switch l := l.(type) {
		case *layers.Ethernet:
			add(fmt.Sprintf("Ethernet %s → %s, type %s", l.SrcMAC, l.DstMAC, etherType(l.EthernetType)))
			tpid = l.EthernetType
		case *layers.Dot1Q:
			tag := "802.1Q VLAN"
			if tpid == layers.EthernetTypeQinQ {
				tag = "802.1ad (QinQ) VLAN"
			}
			add(fmt.Sprintf("%s %d, priority %d, type %s", tag, l.VLANIdentifier, l.Priority, etherType(l.Type)))
			tpid = l.Type
		case *layers.LinuxSLL:
			add(fmt.Sprintf("Linux cooked (SLL), protocol %s", etherType(l.EthernetType)),
				"packet type "+l.PacketType.String(), fmt.Sprintf("address %s", l.Addr))
		case *layers.LinuxSLL2:
			add(fmt.Sprintf("Linux cooked (SLL2), protocol %s", etherType(l.ProtocolType)),
				"packet type "+layers.LinuxSLLPacketType(l.PacketType).String(),
				fmt.Sprintf("interface %d", l.InterfaceIndex), fmt.Sprintf("address %s", l.Addr))
		case *layers.Loopback:
			add(fmt.Sprintf("Loopback, family %d", l.Family))
		case *layers.IPv4:
			add(fmt.Sprintf("outer IPv4 %s → %s, TTL %d, ID %d, protocol %d", l.SrcIP, l.DstIP, l.TTL, l.Id, l.Protocol))
		case *layers.IPv6:
			add(fmt.Sprintf("outer IPv6 %s → %s, hop limit %d, next header %d", l.SrcIP, l.DstIP, l.HopLimit, l.NextHeader))
		case *layers.GRE:
			s := fmt.Sprintf("GRE, protocol 0x%04x", uint16(l.Protocol))
			if l.KeyPresent {
				s += fmt.Sprintf(", key %d", l.Key)
			}
			add(s)
		case *layers.UDP:
			add(fmt.Sprintf("UDP %d → %d, length %d", l.SrcPort, l.DstPort, l.Length))
		case *layers.VXLAN:
			add(fmt.Sprintf("VXLAN, VNI %d", l.VNI))
		case *layers.Geneve:
			add(fmt.Sprintf("Geneve, VNI %d", l.VNI))
		case *layers.PPP:
			add(fmt.Sprintf("PPP, protocol 0x%04x", uint16(l.PPPType)))
		case *layers.PPPoE:
			add(fmt.Sprintf("PPPoE, session 0x%04x", l.SessionId))
		case *layers.MPLS:
			add(fmt.Sprintf("MPLS label %d, TTL %d", l.Label, l.TTL))
		case *layers.IPv6HopByHop:
			add(outerExt6(ext6HopByHop, l.Contents))
		case *layers.IPv6Destination:
			add(outerExt6(ext6DstOpts, l.Contents))
		case *layers.IPv6Routing:
			add(outerExt6(ext6Routing, l.Contents))
		case *layers.IPv6Fragment:
			add(outerExt6(ext6Fragment, l.Contents))
		default:
			if !hasIP || ipOff <= off {
				break
			}
			// A layer this view does not describe: say what it
			// is and how long, up to the IP header.
			what := l.LayerType().String() + " header"
			if off == 0 {
				what = analysis.LinkTypeName(lt) + " link header"
			}
			add(fmt.Sprintf("%s, %d bytes", what, ipOff-off), "not decoded here")
			return out
		}
		off += len(l.LayerContents())
	}
	return out
}

// outerExt6 describes an extension header of an outer IPv6 header.
func outerExt6(next uint8, b []byte) string {
	return fmt.Sprintf("outer IPv6 %s, %d bytes", ext6Name(next), len(b))
}

// etherType writes an Ethernet type with its name: "0x0800 IPv4",
// "0x88a8 802.1ad" (gopacket calls it Dot1Q, as it does 0x8100).
func etherType(t layers.EthernetType) string {
	switch t {
	case layers.EthernetTypeDot1Q:
		return "0x8100 802.1Q"
	case layers.EthernetTypeQinQ:
		return "0x88a8 802.1ad"
	}
	return fmt.Sprintf("0x%04x %s", uint16(t), t)
}

// hdrOption is one option of a TCP or IP header as the header holds it.
type hdrOption struct {
	kind  byte
	text  string // what it says, numbers only
	bad   bool   // its length is impossible
	bytes int    // its length in bytes
}

// tcpOptions lists every option of a raw option area, in order, unknown
// kinds by number. sack writes a SACK block's edge (relative to the other
// side's ISN, or not); three NOPs or more in a row are one entry
// ("NOP ×14": 14 words of a pane 10 lines high at 80x24).
func tcpOptions(b []byte, sack func(uint32) string) []hdrOption {
	return tcpOptionsDSACK(b, sack, false)
}

// tcpOptionsDSACK is tcpOptions for a segment whose first SACK block is a
// D-SACK block (dsack: analysis.Options.DSACK), which it marks: "SACK
// D-SACK 208689-210001, 211449-212897". Shown as an ordinary block, the
// proof that a retransmission was spurious read as a hole's edge.
func tcpOptionsDSACK(b []byte, sack func(uint32) string, dsack bool) []hdrOption {
	return walkOptions(b, func(kind byte, n int, v []byte) (string, bool) {
		switch {
		case kind == 2 && n == 4:
			return fmt.Sprintf("MSS %d", binary.BigEndian.Uint16(v)), true
		case kind == 3 && n == 3:
			if v[0] > 14 {
				// RFC 7323 §2.3: taken as 14 (tshark warns "Window
				// scale shift exceeds 14").
				return fmt.Sprintf("WS %d (over 14: taken as 14, ×%d)", v[0], 1<<14), true
			}
			return fmt.Sprintf("WS %d (×%d)", v[0], 1<<v[0]), true
		case kind == 4 && n == 2:
			return "SACK permitted", true
		case kind == 5 && n > 2 && (n-2)%8 == 0:
			var blocks []string
			for j := 0; j+8 <= len(v); j += 8 {
				blocks = append(blocks, sack(binary.BigEndian.Uint32(v[j:]))+"-"+sack(binary.BigEndian.Uint32(v[j+4:])))
			}
			if dsack {
				// The first block of the first SACK option, as tshark
				// reads it; a comma keeps it apart from the others.
				dsack = false
				return "SACK D-SACK " + strings.Join(blocks, ", "), true
			}
			return "SACK " + strings.Join(blocks, " "), true
		case kind == 8 && n == 10:
			return fmt.Sprintf("TS val %d ecr %d", binary.BigEndian.Uint32(v), binary.BigEndian.Uint32(v[4:])), true
		case kind == 30 && n >= 3:
			return mptcpOption(v), true
		case kind == 34 && len(v) == 0:
			return "TFO cookie request", true
		case kind == 34:
			return "TFO cookie " + hexBytes(v, 16), true
		case kind == 254 && n == 4 && binary.BigEndian.Uint16(v) == 0xF989:
			return "TFO (experimental 254) cookie request", true
		case kind == 254 && n > 4 && binary.BigEndian.Uint16(v) == 0xF989:
			return "TFO (experimental 254) cookie " + hexBytes(v[2:], 16), true
		}
		// The known kinds of another length are wrong.
		return "", kind != 2 && kind != 3 && kind != 4 && kind != 5 && kind != 8
	})
}

// walkOptions lists the options of an IPv4 or TCP option area b, in order:
// EOL and NOP themselves, a length that runs past the area as one bad
// entry, and every other option as name words it (its text, and false
// for a kind it knows whose length is wrong; "" and true for a kind it
// does not know, named by number).
func walkOptions(b []byte, name func(kind byte, n int, v []byte) (string, bool)) []hdrOption {
	var opts []hdrOption
	for i := 0; i < len(b); {
		kind := b[i]
		switch kind {
		case 0:
			opts = append(opts, hdrOption{kind: 0, text: "EOL", bytes: len(b) - i})
			return collapseNOPs(opts)
		case 1:
			opts = append(opts, hdrOption{kind: 1, text: "NOP", bytes: 1})
			i++
			continue
		}
		if i+1 >= len(b) || b[i+1] < 2 || i+int(b[i+1]) > len(b) {
			n := -1
			if i+1 < len(b) {
				n = int(b[i+1])
			}
			opts = append(opts, hdrOption{kind: kind, bad: true, bytes: len(b) - i,
				text: fmt.Sprintf("kind %d at option byte %d: length %d runs past the header or is too short", kind, i, n)})
			return collapseNOPs(opts)
		}
		n := int(b[i+1])
		v := b[i+2 : i+n]
		o := hdrOption{kind: kind, bytes: n}
		text, ok := name(kind, n, v)
		if text == "" {
			o.text = fmt.Sprintf("kind %d, length %d", kind, n)
			if !ok {
				// The verdict before the bytes: at 80 columns the
				// line is cut, and a SACK's 14 bytes took it.
				o.bad = true
				o.text += " (wrong length for its kind)"
			}
			if len(v) > 0 {
				o.text += ": " + hexBytes(v, 16)
			}
		} else {
			o.text = text
		}
		opts = append(opts, o)
		i += n
	}
	return collapseNOPs(opts)
}

// collapseNOPs makes a run of three NOPs or more one entry, "NOP ×N";
// the two before a timestamp or SACK, as Linux and Windows lay them out,
// stay as tshark lists them.
func collapseNOPs(opts []hdrOption) []hdrOption {
	var out []hdrOption
	for i := 0; i < len(opts); {
		j := i
		for j < len(opts) && opts[j].kind == 1 {
			j++
		}
		switch {
		case j-i >= 3:
			out = append(out, hdrOption{kind: 1, text: fmt.Sprintf("NOP ×%d", j-i), bytes: j - i})
		case j == i:
			j++
			fallthrough
		default:
			out = append(out, opts[i:j]...)
		}
		i = j
	}
	return out
}

// mptcpSubtypes are the Multipath TCP option subtypes (RFC 8684, IANA).
var mptcpSubtypes = []string{"MP_CAPABLE", "MP_JOIN", "DSS", "ADD_ADDR", "REMOVE_ADDR",
	"MP_PRIO", "MP_FAIL", "MP_FASTCLOSE", "MP_TCPRST"}

// mptcpOption names a Multipath TCP option (kind 30) by its subtype, the
// high nibble of its first byte: "MPTCP MP_CAPABLE v1, length 4: 01 01".
// v is the option after its kind and length.
func mptcpOption(v []byte) string {
	st := int(v[0] >> 4)
	name := fmt.Sprintf("subtype %d", st)
	switch {
	case st < len(mptcpSubtypes):
		name = mptcpSubtypes[st]
	case st == 0xf:
		name = "MP_EXPERIMENTAL"
	}
	if st == 0 {
		name += fmt.Sprintf(" v%d", v[0]&0x0f) // MP_CAPABLE's version
	}
	// 12 bytes of hex: an MP_CAPABLE's 20 bytes, the longest kind of
	// line, then fit in 80 columns.
	return fmt.Sprintf("MPTCP %s, length %d: %s", name, len(v)+2, hexBytes(v, 12))
}

// hexBytes writes up to max bytes of b in hex, spaced, noting the rest.
func hexBytes(b []byte, max int) string {
	var sb strings.Builder
	for i, c := range b {
		if i == max {
			fmt.Fprintf(&sb, " …+%d", len(b)-max)
			break
		}
		if i > 0 {
			sb.WriteByte(' ')
		}
		fmt.Fprintf(&sb, "%02x", c)
	}
	return sb.String()
}

// printable shows bytes as ASCII, every byte outside 0x20-0x7e as a dot.
// Nothing it returns can steer a terminal.
func printable(b []byte) string {
	out := make([]byte, len(b))
	for i, c := range b {
		if c >= 0x20 && c < 0x7f {
			out[i] = c
		} else {
			out[i] = '.'
		}
	}
	return string(out)
}

// flagWords names the TCP flags set in f (and NS), in header order.
func flagWords(f uint8, ns bool) string {
	var w []string
	if ns {
		// Bit 8: RFC 3540's nonce sum is historic (RFC 8311); Accurate
		// ECN uses it, and tshark calls it AE.
		w = append(w, "AE")
	}
	for _, x := range []struct {
		bit  uint8
		name string
	}{{analysis.FlagCWR, "CWR"}, {analysis.FlagECE, "ECE"}, {analysis.FlagURG, "URG"}, {analysis.FlagACK, "ACK"},
		{analysis.FlagPSH, "PSH"}, {analysis.FlagRST, "RST"}, {analysis.FlagSYN, "SYN"}, {analysis.FlagFIN, "FIN"}} {
		if f&x.bit != 0 {
			w = append(w, x.name)
		}
	}
	if len(w) == 0 {
		return "none"
	}
	return strings.Join(w, " ")
}

// flagLetters writes the flags compactly, as the fixture descriptions do:
// S SYN, A ACK, P PSH, F FIN, R RST, U URG, E ECE, C CWR.
func flagLetters(f uint8) string {
	var b []byte
	for _, x := range []struct {
		bit uint8
		c   byte
	}{{analysis.FlagSYN, 'S'}, {analysis.FlagFIN, 'F'}, {analysis.FlagRST, 'R'}, {analysis.FlagPSH, 'P'},
		{analysis.FlagACK, 'A'}, {analysis.FlagURG, 'U'}, {analysis.FlagECE, 'E'}, {analysis.FlagCWR, 'C'}} {
		if f&x.bit != 0 {
			b = append(b, x.c)
		}
	}
	if len(b) == 0 {
		return "-"
	}
	return string(b)
}
