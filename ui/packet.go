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
	// before the innermost IP header. Plain text made of numbers and
	// addresses only.
	outer []string
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
// reassembled when all of them are in refs).
func readPackets(ps *packetStore, refs []analysis.PacketRef) []*pktInfo {
	infos := make([]*pktInfo, len(refs))
	ps.mu.Lock()
	defer ps.mu.Unlock()
	dec := analysis.NewDecoder()
	for i, ref := range refs {
		info := &pktInfo{ref: ref}
		infos[i] = info
		if ref.Bits&analysis.RefFragment != 0 && ref.Offset == 0 {
			// The flow keeps only the frame numbers of a datagram's earlier
			// fragments, not where they are in the file.
			info.err = fmt.Sprintf("frame %d is an earlier IP fragment of a datagram reassembled at a later frame; "+
				"the analysis does not keep where fragments are in the file, so its bytes cannot be shown", ref.Frame)
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
// starts at byte ipOff, with gopacket.
func outerLayers(data []byte, lt layers.LinkType, ipOff int, hasIP bool) []string {
	pk := gopacket.NewPacket(data, lt, gopacket.DecodeOptions{NoCopy: true, Lazy: false})
	var out []string
	off := 0
	for _, l := range pk.Layers() {
		if hasIP && off >= ipOff {
			break
		}
		switch l := l.(type) {
		case *layers.Ethernet:
			out = append(out, fmt.Sprintf("Ethernet %s → %s, type 0x%04x %s", l.SrcMAC, l.DstMAC, uint16(l.EthernetType), l.EthernetType))
		case *layers.Dot1Q:
			out = append(out, fmt.Sprintf("802.1Q VLAN %d, priority %d, type 0x%04x %s", l.VLANIdentifier, l.Priority, uint16(l.Type), l.Type))
		case *layers.LinuxSLL:
			out = append(out, fmt.Sprintf("Linux cooked (SLL), packet type %s, address %s, protocol 0x%04x", l.PacketType, l.Addr, uint16(l.EthernetType)))
		case *layers.LinuxSLL2:
			out = append(out, fmt.Sprintf("Linux cooked (SLL2), interface %d, packet type %d, address %s, protocol 0x%04x", l.InterfaceIndex, l.PacketType, l.Addr, uint16(l.ProtocolType)))
		case *layers.Loopback:
			out = append(out, fmt.Sprintf("Loopback, family %d", l.Family))
		case *layers.IPv4:
			out = append(out, fmt.Sprintf("outer IPv4 %s → %s, TTL %d, ID %d, protocol %d", l.SrcIP, l.DstIP, l.TTL, l.Id, l.Protocol))
		case *layers.IPv6:
			out = append(out, fmt.Sprintf("outer IPv6 %s → %s, hop limit %d, next header %d", l.SrcIP, l.DstIP, l.HopLimit, l.NextHeader))
		case *layers.GRE:
			s := fmt.Sprintf("GRE, protocol 0x%04x", uint16(l.Protocol))
			if l.KeyPresent {
				s += fmt.Sprintf(", key %d", l.Key)
			}
			out = append(out, s)
		case *layers.UDP:
			out = append(out, fmt.Sprintf("UDP %d → %d, length %d", l.SrcPort, l.DstPort, l.Length))
		case *layers.VXLAN:
			out = append(out, fmt.Sprintf("VXLAN, VNI %d", l.VNI))
		case *layers.Geneve:
			out = append(out, fmt.Sprintf("Geneve, VNI %d", l.VNI))
		}
		off += len(l.LayerContents())
	}
	return out
}

// tcpOption is one TCP option as the header holds it.
type tcpOption struct {
	kind  byte
	text  string // what it says, numbers only
	bad   bool   // its length is impossible
	bytes int    // its length in bytes
}

// tcpOptions lists every option of a raw option area, in order, unknown
// kinds by number.
func tcpOptions(b []byte) []tcpOption {
	var opts []tcpOption
	for i := 0; i < len(b); {
		kind := b[i]
		switch kind {
		case 0:
			opts = append(opts, tcpOption{kind: 0, text: "EOL", bytes: len(b) - i})
			return opts
		case 1:
			opts = append(opts, tcpOption{kind: 1, text: "NOP", bytes: 1})
			i++
			continue
		}
		if i+1 >= len(b) || b[i+1] < 2 || i+int(b[i+1]) > len(b) {
			n := -1
			if i+1 < len(b) {
				n = int(b[i+1])
			}
			opts = append(opts, tcpOption{kind: kind, bad: true, bytes: len(b) - i,
				text: fmt.Sprintf("kind %d at option byte %d: length %d runs past the header or is too short", kind, i, n)})
			return opts
		}
		n := int(b[i+1])
		v := b[i+2 : i+n]
		o := tcpOption{kind: kind, bytes: n}
		switch {
		case kind == 2 && n == 4:
			o.text = fmt.Sprintf("MSS %d", binary.BigEndian.Uint16(v))
		case kind == 3 && n == 3:
			o.text = fmt.Sprintf("WS %d (×%d)", v[0], 1<<min(v[0], 14))
		case kind == 4 && n == 2:
			o.text = "SACK permitted"
		case kind == 5 && n > 2 && (n-2)%8 == 0:
			var blocks []string
			for j := 0; j+8 <= len(v); j += 8 {
				blocks = append(blocks, fmt.Sprintf("%d-%d", binary.BigEndian.Uint32(v[j:]), binary.BigEndian.Uint32(v[j+4:])))
			}
			o.text = "SACK " + strings.Join(blocks, " ")
		case kind == 8 && n == 10:
			o.text = fmt.Sprintf("TS val %d ecr %d", binary.BigEndian.Uint32(v), binary.BigEndian.Uint32(v[4:]))
		case kind == 34:
			if len(v) == 0 {
				o.text = "TFO cookie request"
			} else {
				o.text = "TFO cookie " + hexBytes(v, 16)
			}
		case kind == 254 && n >= 4 && binary.BigEndian.Uint16(v) == 0xF989:
			o.text = "TFO (experimental 254) cookie " + hexBytes(v[2:], 16)
		default:
			o.text = fmt.Sprintf("kind %d, length %d", kind, n)
			if len(v) > 0 {
				o.text += ": " + hexBytes(v, 16)
			}
			if kind == 2 || kind == 3 || kind == 4 || kind == 5 || kind == 8 {
				o.bad = true
				o.text += " (wrong length for its kind)"
			}
		}
		opts = append(opts, o)
		i += n
	}
	return opts
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
		w = append(w, "NS")
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
