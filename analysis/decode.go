package analysis

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"net/netip"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/synscope/synscope/analysis/filter"
	"github.com/synscope/synscope/capture"
)

// Link types for raw IP that gopacket names differently or not at all.
const (
	linkTypeRawIPv4 layers.LinkType = 228
	linkTypeRawIPv6 layers.LinkType = 229
	linkTypeRaw     layers.LinkType = 101 // LINKTYPE_RAW; DLT_RAW is 12 or 14 on some systems
)

// maxDecodeLayers bounds the layers followed in one frame, so that a frame
// of nested tunnels cannot keep the decoder busy.
const maxDecodeLayers = 24

// Decoder turns capture records into Packets. It is the fast path: one set of
// preallocated gopacket decoding layers, walked as gopacket's
// DecodingLayerParser walks them, but recording each layer's fields as it
// goes (a DecodingLayerParser only keeps the last instance of each layer
// type, which loses the outer VLAN tag of QinQ and the outer header of a
// tunnel). TCP headers and options are decoded here rather than by
// layers.TCP so that a damaged header still yields every field it holds,
// and the option that runs past the header is named.
//
// A Decoder is not safe for concurrent use.
type Decoder struct {
	layers    gopacket.DecodingLayerSparse
	truncated bool

	eth   layers.Ethernet
	dot1q layers.Dot1Q
	sll   layers.LinuxSLL
	sll2  layers.LinuxSLL2
	loop  layers.Loopback
	ip4   layers.IPv4
	ip6   layers.IPv6
	ip6x  layers.IPv6ExtensionSkipper
	ip6f  layers.IPv6Fragment
	gre   layers.GRE
	udp   layers.UDP
	vxlan layers.VXLAN
	gen   layers.Geneve
	// Layers gopacket has no DecodingLayer for (encap.go), and ERSPAN.
	ppp    pppLayer
	pppoe  pppoeLayer
	mpls   mplsLayer
	erspan layers.ERSPANII

	reasm *reassembler
	// tooBig keeps the ICMP errors that say a TCP segment was too big
	// for a link on the way (icmp.go), read on the general path only.
	tooBig tooBigList
	// inFull is set while walk decodes a datagram reassembled from
	// fragments, whose offsets are in it and not in the frame;
	// fullOuter is len(Packet.Outer) then, so that an IP header
	// tunnelled inside it can be told from the one fragmented.
	inFull    bool
	fullOuter int
	// slow turns the fast path off (for the test that compares the two).
	slow bool
}

// NewDecoder returns a Decoder with its layers allocated once.
func NewDecoder() *Decoder {
	d := &Decoder{reasm: newReassembler()}
	var c gopacket.DecodingLayerContainer = gopacket.DecodingLayerSparse(nil)
	for _, l := range []gopacket.DecodingLayer{
		&d.eth, &d.dot1q, &d.sll, &d.sll2, &d.loop, &d.ip4, &d.ip6,
		&d.ip6x, &d.ip6f, &d.gre, &d.udp, &d.vxlan, &d.gen,
		&d.ppp, &d.pppoe, &d.mpls, &d.erspan,
	} {
		c = c.Put(l)
	}
	d.layers = c.(gopacket.DecodingLayerSparse)
	return d
}

// SetTruncated implements gopacket.DecodeFeedback.
func (d *Decoder) SetTruncated() { d.truncated = true }

// Decode decodes one record into p, which it resets first. It never fails:
// what cannot be decoded is recorded in p.MalformedLayer and friends, and a
// frame that holds no TCP segment has p.HasTCP false.
//
// The fast path sets every field of p itself (clearRare): clearing the
// whole Packet first was 61 instructions a packet, a loop over its 520
// bytes. Decode is small enough to be inlined: one call, to the fast path,
// which calls the general one (decodeWalk) for a frame it declines. As a
// call of its own before fast's, it took 12 instructions a packet more on
// the benchmark file and 10 on small frames (cachegrind, -pgo=off).
func (d *Decoder) Decode(rec *capture.Record, p *Packet) {
	d.fastOr(p, rec, true)
}

// decodeWalk is Decode for a frame the fast path does not take.
func (d *Decoder) decodeWalk(rec *capture.Record, p *Packet) {
	// Cleared in place, then set: a composite literal assigned to *p is
	// built in a temporary on the stack and copied (424 bytes twice, the
	// copy stalling on the fields just stored), a tenth of Decode.
	frags, outer := p.FragmentFrames[:0], p.Outer[:0]
	*p = Packet{}
	p.rare = true
	p.Frame, p.Offset, p.Time = rec.Frame, rec.Offset, rec.Timestamp
	p.WireLen, p.CapLen = int(rec.OrigLen), len(rec.Data)
	p.LinkType, p.Direction = rec.LinkType, rec.Direction
	p.TCPOffset = -1
	p.FragmentFrames, p.Outer = frags, outer
	data := rec.Data
	typ, off, known := linkHeader(p, rec.LinkType, data)
	if !known {
		p.Undecoded = UndecodedLinkType
		return
	}
	if typ == gopacket.LayerTypeZero {
		return
	}
	d.walk(p, typ, data[off:], off, rec.Frame, rec.Timestamp)
}

// walk decodes layers from typ onwards. data starts at byte off of the frame.
func (d *Decoder) walk(p *Packet, typ gopacket.LayerType, data []byte, off int, frame uint64, ts int64) {
	ipDepth := 0
	// The layer that named typ, and the Ethernet type that did when a
	// link layer named it: what notFollowed needs to know.
	var prev gopacket.LayerType
	var et uint16
	for range maxDecodeLayers {
		if typ == layers.LayerTypeTCP {
			d.decodeTCP(p, data, off)
			return
		}
		if typ == gopacket.LayerTypeFragment {
			d.fragment(p, data, off, frame, ts)
			return
		}
		dec, ok := d.layers.Decoder(typ)
		if !ok {
			if typ == layers.LayerTypeICMPv4 || typ == layers.LayerTypeICMPv6 {
				d.icmpError(p, typ, data) // not TCP: the fast path never comes here
			}
			d.notFollowed(p, prev, et, data)
			return
		}
		d.truncated = false
		err := dec.DecodeFromBytes(data, d)
		optAt, optWhy := 0, ""
		if err != nil && typ == layers.LayerTypeIPv4 {
			// gopacket refuses the whole IPv4 header for one damaged
			// option, and the segment after it fell out of its flow
			// (the ACK of it became a false tcp.ack_unseen); tshark
			// decodes TCP after the header length and warns of the
			// option.
			if optAt, optWhy = d.ipv4BadOption(data); optWhy != "" {
				err = nil
			}
		}
		if err != nil {
			if need := headerNeed(typ, data); p.cutIn(off, len(data), need) {
				p.headerCut(typ.String(), off, len(data), need)
				return
			}
			p.malformed(typ.String(), off, err.Error())
			return
		}
		contents := len(dec.(interface{ LayerContents() []byte }).LayerContents())
		next := dec.NextLayerType()
		payload := dec.LayerPayload()
		nextEt := uint16(0)
		switch typ {
		case layers.LayerTypeEthernet:
			nextEt = uint16(d.eth.EthernetType)
		case layers.LayerTypeDot1Q:
			nextEt = uint16(d.dot1q.Type)
			if p.NVLAN < len(p.VLAN) {
				p.VLAN[p.NVLAN] = d.dot1q.VLANIdentifier
				p.NVLAN++
			}
		case layers.LayerTypeLinuxSLL:
			nextEt = uint16(d.sll.EthernetType)
			if p.Direction == capture.DirUnknown {
				p.Direction = sllDirection(uint16(d.sll.PacketType))
			}
		case layers.LayerTypeLinuxSLL2:
			nextEt = uint16(d.sll2.ProtocolType)
			if p.Direction == capture.DirUnknown {
				p.Direction = sllDirection(uint16(d.sll2.PacketType))
			}
		case layers.LayerTypeIPv4:
			if ipDepth > 0 && p.Tunnel == TunnelNone {
				p.Tunnel = TunnelIPIP
			}
			ipDepth++
			p.keepOuter()
			d.recordIPv4(p, data, off)
			if optWhy != "" {
				p.malformed("IPv4 option", off+optAt, optWhy)
			}
		case layers.LayerTypeIPv6:
			if ipDepth > 0 && p.Tunnel == TunnelNone {
				p.Tunnel = TunnelIPIP
			}
			ipDepth++
			p.keepOuter()
			d.recordIPv6(p, data, off)
			// gopacket keeps a hop-by-hop header in the IPv6 layer:
			// its Contents are the 40 fixed bytes, its Payload starts
			// after the hop-by-hop header. Counted from Contents alone,
			// every offset after it was short by the header (8 bytes
			// or more): the TCP header was read at the hop-by-hop one,
			// and its segment was as much longer (a SYN "carrying 8
			// bytes", retransmissions that were not).
			if d.ip6.HopByHop != nil {
				contents += d.ip6.HopByHop.ActualLength
			}
		case layers.LayerTypeIPv6Fragment:
			p.IPID = d.ip6f.Identification
		case layers.LayerTypeGRE:
			p.Tunnel = TunnelGRE
			if d.gre.Protocol == etherTypeWCCP {
				// A web cache redirect: WCCPv2 puts a 4-byte
				// redirect header before the IP header, v1 none;
				// like Wireshark, take a first byte that does not
				// start an IPv4 header for the redirect header.
				if len(payload) > 0 && payload[0]>>4 != 4 {
					if len(payload) < 4 {
						if at := off + contents; p.cutIn(at, len(payload), 4) {
							p.headerCut("WCCP", at, len(payload), 4)
						} else {
							p.malformed("WCCP", at, fmt.Sprintf("WCCP redirect header truncated: %d of 4 bytes captured", len(payload)))
						}
						return
					}
					contents += 4
					payload = payload[4:]
				}
				next = ipByVersion(payload)
			}
		case layers.LayerTypeUDP:
			p.Proto = uint8(layers.IPProtocolUDP)
			p.SrcPort, p.DstPort = uint16(d.udp.SrcPort), uint16(d.udp.DstPort)
			if next != layers.LayerTypeVXLAN && next != layers.LayerTypeGeneve {
				return
			}
		case layers.LayerTypeVXLAN:
			p.Tunnel = TunnelVXLAN
		case layers.LayerTypeGeneve:
			p.Tunnel = TunnelGeneve
		}
		off += contents
		data = payload
		prev, et = typ, nextEt
		typ = next
	}
}

// ipv4BadOption decodes into d.ip4 the IPv4 header at data that gopacket
// refused for a damaged option: an option whose length runs past the
// header, is below 2, or was left out (a type byte ending the options).
// It returns the option's offset in the header and what is wrong with
// it; "" when the header is damaged otherwise, or is whole, and it sets
// nothing then. The fields are read as gopacket reads them, without the
// options (which the analysis does not use).
func (d *Decoder) ipv4BadOption(data []byte) (int, string) {
	if len(data) < 20 || data[0]>>4 != 4 {
		// A version other than 4: tshark stops at "Bogus IPv4
		// version", whatever the options hold.
		return 0, ""
	}
	hl := int(data[0]&0x0f) * 4
	length := int(binary.BigEndian.Uint16(data[2:4]))
	if length == 0 {
		length = len(data) // TSO, as gopacket takes it
	}
	if hl < 20 || hl > length || hl > len(data) {
		return 0, ""
	}
	at, why := ipv4OptionDamage(data[20:hl], hl)
	if why == "" {
		return 0, ""
	}
	ip := &d.ip4
	ip.Version, ip.IHL, ip.TOS = 4, data[0]&0x0f, data[1]
	ip.Length = uint16(min(length, 0xffff))
	ip.Id = binary.BigEndian.Uint16(data[4:6])
	ff := binary.BigEndian.Uint16(data[6:8])
	ip.Flags, ip.FragOffset = layers.IPv4Flag(ff>>13), ff&0x1fff
	ip.TTL, ip.Protocol = data[8], layers.IPProtocol(data[9])
	ip.Checksum = binary.BigEndian.Uint16(data[10:12])
	ip.SrcIP, ip.DstIP = data[12:16], data[16:20]
	ip.Options, ip.Padding = ip.Options[:0], nil
	ip.Contents, ip.Payload = data[:hl], data[hl:min(length, len(data))]
	return 20 + at, why
}

// ipv4OptionDamage walks the options b of an hl-byte IPv4 header as
// gopacket does, and returns the offset in b of the first option it
// would refuse, with the reason; "" when it would refuse none.
func ipv4OptionDamage(b []byte, hl int) (int, string) {
	for i := 0; i < len(b); {
		switch b[i] {
		case 0: // end of list
			return 0, ""
		case 1: // no-operation
			i++
			continue
		}
		if i+1 >= len(b) {
			return i, fmt.Sprintf("option type %d has no length byte: the %d-byte header ends first", b[i], hl)
		}
		switch n := int(b[i+1]); {
		case n > len(b)-i:
			return i, fmt.Sprintf("option type %d of length %d runs past the %d-byte header", b[i], n, hl)
		case n < 2:
			return i, fmt.Sprintf("option type %d of length %d: too short for its type and length bytes", b[i], n)
		default:
			i += n
		}
	}
	return 0, ""
}

// keepOuter appends the IP header recorded so far, if any, to p.Outer
// before a tunnelled one replaces it: the tunnel's addresses, protocol
// and, over UDP (VXLAN, Geneve), ports. IPVersion rather than walk's depth
// tells, as a tunnel in a reassembled datagram is walked afresh.
func (p *Packet) keepOuter() {
	if p.IPVersion == 0 {
		return
	}
	p.Outer = append(p.Outer, filter.IPLayer{IPVersion: int(p.IPVersion), Src: p.Src, Dst: p.Dst, Proto: p.Proto,
		HasPorts: p.Proto == uint8(layers.IPProtocolUDP), SrcPort: p.SrcPort, DstPort: p.DstPort})
}

// notFollowed notes on p, whose next layer the decoder does not follow,
// whether that layer may hold TCP (Packet.Undecoded). data is the next
// layer's bytes; prev is the layer that named it, et the Ethernet type
// that did when a link layer named it.
func (d *Decoder) notFollowed(p *Packet, prev gopacket.LayerType, et uint16, data []byte) {
	if len(data) == 0 {
		return
	}
	switch {
	case prev == layers.LayerTypeGRE:
		switch proto := uint16(d.gre.Protocol); proto {
		case uint16(layers.EthernetTypeARP), etherTypeOSI, etherTypeNHRP, etherTypeCDP:
			// Not a carrier of IP datagrams.
		default:
			p.Undecoded, p.UndecodedProto = UndecodedGRE, proto
		}
	case prev == layers.LayerTypeMPLS:
		p.Undecoded, p.UndecodedProto = UndecodedMPLS, uint16(data[0]>>4)
	case prev == layers.LayerTypePPP:
		if pppCarrier(d.ppp.proto) != "" {
			p.Undecoded, p.UndecodedProto = UndecodedPPP, d.ppp.proto
		}
	case et == etherTypeMACsec || et == etherTypePBB || et == etherTypeCMD:
		p.Undecoded, p.UndecodedProto = UndecodedEtherType, et
	}
}

// headerNeed is how many bytes the header of a layer of type typ takes, as
// far as its first bytes (data) tell; 0 for a layer it does not know.
// walk compares it with the bytes captured to tell a header the snap
// length cut short from a damaged one.
func headerNeed(typ gopacket.LayerType, data []byte) int {
	switch typ {
	case layers.LayerTypeEthernet:
		return 14
	case layers.LayerTypeDot1Q, layers.LayerTypeLoopback:
		return 4
	case layers.LayerTypeLinuxSLL:
		return 16
	case layers.LayerTypeLinuxSLL2:
		return 20
	case layers.LayerTypeIPv4:
		if len(data) == 0 {
			return 20
		}
		if data[0]>>4 != 4 || data[0]&0x0f < 5 {
			return 0 // damaged, however much was captured
		}
		return int(data[0]&0x0f) * 4
	case layers.LayerTypeIPv6:
		if len(data) > 0 && data[0]>>4 != 6 {
			return 0
		}
		if len(data) > 6 && data[6] == 0 {
			// The hop-by-hop header is decoded with the IPv6 one: 8
			// bytes or more, as its length byte says.
			if len(data) > 41 {
				return 40 + (int(data[41])+1)*8
			}
			return 48
		}
		return 40
	case layers.LayerTypeIPv6HopByHop, layers.LayerTypeIPv6Routing, layers.LayerTypeIPv6Destination:
		if len(data) > 1 {
			return (int(data[1]) + 1) * 8
		}
		return 8
	case layers.LayerTypeIPv6Fragment, layers.LayerTypeUDP, layers.LayerTypeVXLAN:
		return 8
	case layers.LayerTypeGeneve:
		if len(data) > 0 {
			return 8 + int(data[0]&0x3f)*4
		}
		return 8
	case layers.LayerTypeGRE:
		return greNeed(data)
	case layers.LayerTypePPP:
		// The address and control bytes (0xff 0x03), if there, then a
		// protocol of one byte, or two when its first is even.
		n := 0
		if len(data) >= 2 && data[0] == 0xff {
			n = 2
		}
		if len(data) > n && data[n]&1 == 0 {
			return n + 2
		}
		return n + 1
	case layers.LayerTypePPPoE:
		return 6
	case layers.LayerTypeMPLS:
		// The label stack ends with the entry whose bottom-of-stack
		// bit is set; without one captured, at least one entry more.
		off := 0
		for ; off+4 <= len(data); off += 4 {
			if data[off+2]&1 != 0 {
				return off + 4
			}
		}
		return off + 4
	case layers.LayerTypeERSPANII:
		if len(data) > 0 && data[0]>>4 > layers.ERSPANIIVersion {
			return 0 // Type III or unknown: not this header
		}
		return 8
	}
	return 0
}

// greNeed is headerNeed for GRE (RFC 2784, 2890; RFC 2637's enhanced GRE
// of version 1): 4 bytes, then the checksum and offset, key and sequence
// number fields the flags say are there, the source routes of RFC 1701
// (as far as they were captured: each says its own length) and version
// 1's acknowledgement number, as gopacket's GRE reads them.
func greNeed(data []byte) int {
	if len(data) < 2 {
		return 4
	}
	n := 4 + 4*int(data[0]>>7|data[0]>>6&1) + 4*int(data[0]>>5&1) + 4*int(data[0]>>4&1)
	if data[0]&0x40 != 0 {
		// Source route entries up to the null one, as long as each
		// entry's header was captured; one that was not is at least 4.
		for range maxGRERoutes + 1 {
			if len(data) < n+4 {
				n += 4
				break
			}
			l := int(data[n+3])
			n += 4 + l
			if l == 0 && data[n-4] == 0 && data[n-3] == 0 {
				break
			}
		}
	}
	if data[1]&7 == 1 && data[1]&0x80 != 0 {
		n += 4 // the acknowledgement number
	}
	return n
}

// maxGRERoutes is gopacket's bound on the source route entries of a GRE
// header (maxGRESourceRouteEntries): past it the header is refused as
// damaged, whatever was captured.
const maxGRERoutes = 32

// fast decodes the common frame without gopacket's layers: Ethernet with
// up to four 802.1Q or 802.1ad tags, or Linux cooked capture (SLL or
// SLL2), then an IPv4 header without options or an IPv6 header, not a
// fragment, then a TCP segment of at least 20 bytes. The fields it sets
// are those walk sets for such a frame (TestFastDecodeMatchesWalk and
// FuzzDecode hold it to that), and it sets every field of p, whatever p
// held (TestFastDecodeSetsEveryField). It returns false for any other
// frame, having set only fields that Decode's general path sets anew
// (not Outer or FragmentFrames, whose arrays that path reuses).
//
// The datagram lies whole in the frame, captured and on the wire, so what
// setPadding and decodeTCP would work out is known here: the bytes after
// it are padding, and the segment is the rest of it (decodeTCPAt's
// segLen): 38 fewer instructions a packet on the benchmark file, 46 on
// small frames (cachegrind, builds without default.pgo). A record whose
// OrigLen is less than the bytes it holds (capture's readers never give
// one) goes the general way, and so does a segment shorter than a TCP
// header, of which decodeTCPAt sets only some fields.
//
// The IP header is read in fastOr rather than in a function of its own
// (fastIP, which returned before the record's fields were stored), and
// the record's fields are stored as soon as the link header is read:
// fewer values live across the IP header, which the compiler had kept on
// the stack and read back, 12 fewer instructions a packet on the
// benchmark file, 13 on small frames (cachegrind, -pgo=off). The TCP
// segment is read there too (below).
func (d *Decoder) fast(p *Packet, rec *capture.Record) bool {
	return d.fastOr(p, rec, false)
}

// fastOr is fast, and when walk is set, decodes a frame fast declines the
// general way (decodeWalk), as it does every frame when d.slow is set.
func (d *Decoder) fastOr(p *Packet, rec *capture.Record, walk bool) bool {
	if d.slow && walk {
		return d.declined(p, rec, walk)
	}
	var et uint16 // the EtherType of what starts at off
	var off int
	data, lt, dir := rec.Data, rec.LinkType, rec.Direction
	switch lt {
	case layers.LinkTypeEthernet:
		if len(data) < 14+20 {
			return d.declined(p, rec, walk)
		}
		et, off = binary.BigEndian.Uint16(data[12:14]), 14
	case layers.LinkTypeLinuxSLL:
		if len(data) < 16+20 || binary.BigEndian.Uint16(data[4:6]) > 8 {
			return d.declined(p, rec, walk) // gopacket refuses an address longer than 8 bytes
		}
		if dir == capture.DirUnknown {
			dir = sllDirection(binary.BigEndian.Uint16(data[0:2]))
		}
		et, off = binary.BigEndian.Uint16(data[14:16]), 16
	case layers.LinkTypeLinuxSLL2:
		if len(data) < 20+20 || data[11] > 8 {
			return d.declined(p, rec, walk)
		}
		if dir == capture.DirUnknown {
			dir = sllDirection(uint16(data[10]))
		}
		et, off = binary.BigEndian.Uint16(data[0:2]), 20
	default:
		return d.declined(p, rec, walk)
	}
	var vlan [len(p.VLAN)]uint16
	nvlan := 0
	for et == 0x8100 || et == 0x88a8 { // 802.1Q, 802.1ad (QinQ)
		if nvlan == len(vlan) || len(data) < off+4 {
			return d.declined(p, rec, walk)
		}
		vlan[nvlan] = binary.BigEndian.Uint16(data[off:off+2]) & 0x0fff
		nvlan++
		et = binary.BigEndian.Uint16(data[off+2 : off+4])
		off += 4
	}
	// What the record gives, stored before the IP header is read, so
	// that none of it is kept across it (for a frame declined below, the
	// general path sets these anew).
	p.Direction = dir
	p.VLAN, p.NVLAN = vlan, nvlan
	p.Frame, p.Offset, p.Time = rec.Frame, rec.Offset, rec.Timestamp
	p.WireLen, p.CapLen = int(rec.OrigLen), len(data)
	p.LinkType = lt
	ip := data[off:]
	var ihl, length int // the IP header's length and the datagram's
	switch et {
	case 0x0800:
		if len(ip) < 20 {
			return d.declined(p, rec, walk)
		}
		length = int(binary.BigEndian.Uint16(ip[2:4]))
		flags := binary.BigEndian.Uint16(ip[6:8])
		if ip[0] != 0x45 || length < 40 || length > len(ip) || flags&0x3fff != 0 || ip[9] != 6 || off+length > p.WireLen {
			return d.declined(p, rec, walk) // options, truncated, a fragment, not TCP: the general path
		}
		p.IPVersion = 4
		p.setKeys4(ip[12:16], ip[16:20])
		p.Src, p.Dst = netip.AddrFrom4([4]byte(ip[12:16])), netip.AddrFrom4([4]byte(ip[16:20]))
		p.IPID = uint32(binary.BigEndian.Uint16(ip[4:6]))
		p.TTL = ip[8]
		p.TOS = ip[1]
		p.DF = flags&0x4000 != 0
		p.IPChecksum = CheckBad
		if ipv4HeaderSumOK((*[20]byte)(ip)) {
			p.IPChecksum = CheckGood
		}
		ihl = 20
	case 0x86DD:
		if len(ip) < 40 {
			return d.declined(p, rec, walk)
		}
		length = 40 + int(binary.BigEndian.Uint16(ip[4:6]))
		if ip[0]>>4 != 6 || ip[6] != 6 || length < 40+20 || length > len(ip) || off+length > p.WireLen {
			return d.declined(p, rec, walk)
		}
		p.fastIPv6((*[40]byte)(ip))
		ihl = 40
	default:
		return d.declined(p, rec, walk)
	}
	p.Proto = 6
	p.IPOffset = off
	p.IPTotalLen = length
	if len(ip) > length {
		p.Padding = ip[length:]
	} else {
		p.Padding = nil
	}
	if p.rare {
		p.clearRare()
	}
	p.paySum = 0
	// The TCP segment: decodeTCPAt for a segment all in the frame
	// (captured and on the wire) and at least 20 bytes long, without the
	// cases that cannot arise here, and with the header's fields kept in
	// registers instead of read back from p: 37 fewer instructions a
	// packet on the benchmark file (cachegrind, its first 150k packets).
	// It sets Payload, and Padding above, which are not cleared first
	// (each a pointer store with its write barrier check). A header
	// length under 20 or past the segment goes to decodeTCPAt, which sets
	// what it finds wrong. The fields p.rare stands for are zero here
	// (clearRare), but for the timestamp's three, which are set: p.rare is
	// set when any other is. As a function of its own (fastTCP), the
	// segment took 16 instructions a packet more on both files
	// (cachegrind, -pgo=off).
	seg, at := ip[ihl:length], off+ihl
	h := (*[20]byte)(seg)
	hl := int(h[12]>>4) * 4
	if hl < 20 || hl > len(seg) {
		p.Payload = nil // which decodeTCPAt leaves unset here
		p.Opts.TSVal, p.Opts.TSEcr, p.Opts.HasTS = 0, 0, false
		p.rare = true
		d.decodeTCPAt(p, seg, at, len(seg))
		return true
	}
	p.TCPOffset = at
	p.HasTCP = true
	p.SrcPort = binary.BigEndian.Uint16(h[0:2])
	p.DstPort = binary.BigEndian.Uint16(h[2:4])
	p.Seq = binary.BigEndian.Uint32(h[4:8])
	p.Ack = binary.BigEndian.Uint32(h[8:12])
	p.HeaderLen = hl
	p.NS = h[12]&1 != 0
	p.Flags = h[13]
	p.Window = binary.BigEndian.Uint16(h[14:16])
	p.Urgent = binary.BigEndian.Uint16(h[18:20])
	p.PayloadLen = len(seg) - hl
	if hl == 32 && binary.BigEndian.Uint32(seg[20:]) == 0x0101080a {
		// parseOptions's shortcut for the timestamp alone, on every
		// segment of a Linux connection after the handshake.
		p.Opts.TSVal, p.Opts.TSEcr, p.Opts.HasTS = binary.BigEndian.Uint32(seg[24:]), binary.BigEndian.Uint32(seg[28:]), true
	} else {
		p.Opts.TSVal, p.Opts.TSEcr, p.Opts.HasTS = 0, 0, false
		if hl > 20 {
			p.rare = true
			parseOptions(&p.Opts, seg[20:hl])
			if p.Opts.Malformed {
				p.badOption(at)
			}
		}
	}
	p.Payload = seg[hl:]
	// pseudoSum with the sum setKeys4 or setKeys6 has just left in p,
	// and internetChecksum's kernel called here: through
	// internetChecksum, which is not inlined (cost 129), 10 instructions
	// a packet more.
	n := uint32(len(seg))
	pseudo := p.addrSum + n>>16 + n&0xffff + 6
	var sum uint16
	if wideSum {
		sum = checksumAVX2(seg, uint64(pseudo)<<8)
	} else {
		sum = checksumScalar(seg, pseudo)
	}
	if sum == 0 {
		p.TCPChecksum = CheckGood
		return true
	}
	p.TCPChecksum = CheckBad
	// As decodeTCPAt: checksum offload's pseudo-header sum.
	field := binary.BigEndian.Uint16(h[16:18])
	ps := ^internetChecksum(nil, pseudoSum(p, len(seg)))
	if field == ps || field == ^ps {
		p.PartialChecksum, p.rare = true, true
	}
	return true
}

// declined decodes rec, which fast declined, the general way when walk is
// set (fastOr), and returns false.
func (d *Decoder) declined(p *Packet, rec *capture.Record, walk bool) bool {
	if walk {
		d.decodeWalk(rec, p)
	}
	return false
}

// fastIPv6 sets the fields of an IPv6 header h (without extension headers)
// that fast does not set for both versions.
func (p *Packet) fastIPv6(h *[40]byte) {
	p.IPVersion = 6
	p.setKeys6(h[8:24], h[24:40])
	p.Src, p.Dst = netip.AddrFrom16([16]byte(h[8:24])), netip.AddrFrom16([16]byte(h[24:40]))
	p.TTL = h[7]
	p.TOS = uint8(binary.BigEndian.Uint16(h[0:2]) >> 4)
	p.IPID, p.DF = 0, false
	p.IPChecksum = CheckNone
}

// clearRare clears the fields of p that the frames the fast path takes
// leave at zero (but for damage, options and a checksum left to the NIC in
// the TCP header, which set p.rare again): those a frame before set, when
// p.rare says one may have. The fast path cleared them on every frame
// (startFast, and fast after it): 25 stores and two write barrier checks.
// Clean Packets are the rule; with the test of p.rare instead, and the
// timestamp's shortcut in fastOr (parseOptions is a call), 19 fewer
// instructions a packet on the benchmark file, 31 on small frames
// (cachegrind, -pgo=off). TestFastDecodeSetsEveryField decodes into
// Packets that other frames left, clean or not, and it, FuzzDecode and
// TestFastDecodeMatchesWalk check the rule (checkRare).
func (p *Packet) clearRare() {
	p.MalformedLayer, p.MalformedReason = "", ""
	p.MalformedOffset = 0
	p.PartialChecksum = false
	p.BadHeader, p.NoAnalysis, p.Truncated, p.HeaderCut = false, false, false, false
	p.Opts = Options{}
	p.Outer, p.FragmentFrames, p.FragmentOffsets = p.Outer[:0], p.FragmentFrames[:0], nil
	p.Tunnel, p.Undecoded, p.UndecodedProto = TunnelNone, 0, 0
	p.Fragments, p.Fragment = 0, false
	p.rare = false
}

func sllDirection(packetType uint16) capture.Direction {
	switch packetType {
	case 4: // LINUX_SLL_OUTGOING
		return capture.DirOutbound
	case 0, 1, 2, 3: // to us, broadcast, multicast, to another host
		return capture.DirInbound
	}
	return capture.DirUnknown
}

// cutIn reports whether the capture stopped inside a header of need bytes
// at byte at of the frame, of which it holds have: the record is shorter
// than the frame on the wire (snap length) and its bytes end inside the
// header. That header was sent whole and not captured, which is not
// damage; a header that ends early anywhere else (a frame captured whole,
// or bytes that end before the record does, bounded by the length of a
// header around them) is. Every decision between the two is made here.
// A datagram reassembled from fragments (Packet.Fragments) was captured
// whole, or it would not have been reassembled: nothing in it is cut.
func (p *Packet) cutIn(at, have, need int) bool {
	return have < need && p.CapLen < p.WireLen && at+have == p.CapLen && p.Fragments == 0
}

// headerCut records on p that the capture stopped inside the header of
// layer (cutIn), which starts at byte at: where the header starts, and
// how far into it the capture stopped. The offset is the header's, as
// in every "LAYER at byte N" message; with the cut's byte instead, "TCP
// at byte 44: ... 10 of 20 bytes" read as if TCP started at byte 44,
// where it started at 34. A frame damaged before the cut (an IPv4
// option) is damaged, and says where: the cut after it is not recorded.
func (p *Packet) headerCut(layer string, at, have, need int) {
	if p.MalformedLayer != "" {
		return
	}
	why := fmt.Sprintf("header not captured whole: the capture stopped %d bytes into its %d, at byte %d (snap length)", have, need, at+have)
	if have == 0 {
		why = fmt.Sprintf("header not captured: the capture stopped where it starts, %d bytes short (snap length)", need)
	}
	p.malformed(layer, at, why)
	p.HeaderCut = true
}

func (p *Packet) malformed(layer string, off int, reason string) {
	if p.MalformedLayer != "" {
		return
	}
	p.MalformedLayer = layer
	p.MalformedOffset = off
	p.MalformedReason = reason
}

// setKeys4 sets p's address words and sum (Packet.keysSet) from the 4 bytes
// of each IPv4 address.
func (p *Packet) setKeys4(src, dst []byte) {
	s, d := binary.BigEndian.Uint32(src[:4]), binary.BigEndian.Uint32(dst[:4])
	p.srcW = [2]uint64{0, uint64(bits.ReverseBytes32(s))<<32 | 0xffff0000}
	p.dstW = [2]uint64{0, uint64(bits.ReverseBytes32(d))<<32 | 0xffff0000}
	p.addrSum = s>>16 + s&0xffff + d>>16 + d&0xffff
	p.keysSet = true
}

// setKeys6 sets p's address words and sum (Packet.keysSet) from the 16
// bytes of each IPv6 address.
func (p *Packet) setKeys6(src, dst []byte) {
	sh, sl := binary.BigEndian.Uint64(src[:8]), binary.BigEndian.Uint64(src[8:16])
	dh, dl := binary.BigEndian.Uint64(dst[:8]), binary.BigEndian.Uint64(dst[8:16])
	p.srcW = [2]uint64{bits.ReverseBytes64(sh), bits.ReverseBytes64(sl)}
	p.dstW = [2]uint64{bits.ReverseBytes64(dh), bits.ReverseBytes64(dl)}
	p.addrSum = words16(sh) + words16(sl) + words16(dh) + words16(dl)
	p.keysSet = true
}

// words16 sums the four 16-bit words of x.
func words16(x uint64) uint32 {
	return uint32(x>>48) + uint32(x>>32)&0xffff + uint32(x>>16)&0xffff + uint32(x)&0xffff
}

func (d *Decoder) recordIPv4(p *Packet, data []byte, off int) {
	ip := &d.ip4
	p.IPVersion = 4
	p.setKeys4(ip.SrcIP.To4(), ip.DstIP.To4())
	p.Src = netip.AddrFrom4([4]byte(ip.SrcIP.To4()))
	p.Dst = netip.AddrFrom4([4]byte(ip.DstIP.To4()))
	p.Proto = uint8(ip.Protocol)
	p.IPOffset = off
	p.IPTotalLen = int(ip.Length)
	p.IPID = uint32(ip.Id)
	p.TTL = ip.TTL
	p.TOS = ip.TOS
	p.DF = ip.Flags&layers.IPv4DontFragment != 0
	hl := int(ip.IHL) * 4
	if len(data) >= hl {
		if internetChecksum(data[:hl], 0) == 0 {
			p.IPChecksum = CheckGood
		} else {
			p.IPChecksum = CheckBad
		}
	} else {
		p.IPChecksum = CheckUnverified
	}
	p.setPadding(data, off)
}

func (d *Decoder) recordIPv6(p *Packet, data []byte, off int) {
	ip := &d.ip6
	p.IPVersion = 6
	p.setKeys6(ip.SrcIP.To16(), ip.DstIP.To16())
	p.Src = netip.AddrFrom16([16]byte(ip.SrcIP.To16()))
	p.Dst = netip.AddrFrom16([16]byte(ip.DstIP.To16()))
	p.Proto = uint8(ip.NextHeader)
	p.IPOffset = off
	p.IPTotalLen = 40 + int(ip.Length)
	if n, ok := jumboLength(ip); ok && ip.Length == 0 {
		// A jumbogram (RFC 2675; Linux BIG TCP sent them before 6.3):
		// the length is the Jumbo Payload option's, which counts the
		// hop-by-hop header, as tshark takes it. gopacket refuses a
		// zero length without the option.
		p.IPTotalLen = 40 + int(n)
	}
	p.IPID = 0
	p.TTL = ip.HopLimit
	p.TOS = ip.TrafficClass
	p.DF = false
	p.IPChecksum = CheckNone
	p.setPadding(data, off)
}

// inIPv6Ext reports whether p's innermost IP header is IPv6 and the
// header after it an extension header the decoder walks through.
func (p *Packet) inIPv6Ext() bool {
	switch layers.IPProtocol(p.Proto) {
	case layers.IPProtocolIPv6HopByHop, layers.IPProtocolIPv6Routing, layers.IPProtocolIPv6Fragment, layers.IPProtocolIPv6Destination:
		return p.IPVersion == 6
	}
	return false
}

// jumboLength is the Jumbo Payload option (RFC 2675) of ip's hop-by-hop
// header, if it has one of the right length.
func jumboLength(ip *layers.IPv6) (uint32, bool) {
	if ip.HopByHop == nil {
		return 0, false
	}
	for _, o := range ip.HopByHop.Options {
		if o.OptionType == layers.IPv6HopByHopOptionJumbogram && len(o.OptionData) == 4 {
			return binary.BigEndian.Uint32(o.OptionData), true
		}
	}
	return 0, false
}

// setPadding records the bytes after the IP datagram, and notes a datagram
// the capture holds only part of. data starts at the IP header.
func (p *Packet) setPadding(data []byte, off int) {
	p.Padding = nil
	p.Truncated = false
	switch {
	case len(data) > p.IPTotalLen && p.IPTotalLen >= 20:
		p.Padding = data[p.IPTotalLen:]
	case len(data) < p.IPTotalLen:
		p.Truncated = true
	}
}

// fragment feeds one IP fragment to the reassembler. When it completes a
// datagram, the transport header is decoded from the reassembled bytes and
// the segment is counted at this frame, as Wireshark does.
func (d *Decoder) fragment(p *Packet, data []byte, at int, frame uint64, ts int64) {
	var (
		key  fragKey
		off  int // the fragment's offset in the datagram
		more bool
	)
	key.src, key.dst, key.proto = p.Src, p.Dst, p.Proto
	if p.IPVersion == 4 {
		key.id = uint32(d.ip4.Id)
		off = int(d.ip4.FragOffset) * 8
		more = d.ip4.Flags&layers.IPv4MoreFragments != 0
		// The claimed length of this fragment's payload, not the captured one.
		if n := int(d.ip4.Length) - int(d.ip4.IHL)*4; n < len(data) {
			data = data[:max(n, 0)]
		}
	} else {
		key.id = d.ip6f.Identification
		key.v6 = true
		key.proto = uint8(d.ip6f.NextHeader)
		p.Proto = key.proto
		off = int(d.ip6f.FragmentOffset) * 8
		more = d.ip6f.MoreFragments
	}
	full, frames, offsets, err := d.reasm.add(key, off, more, data, frame, p.Offset, ts, p.Truncated)
	if err == errFragTrunc && off == 0 && key.proto == uint8(layers.IPProtocolTCP) {
		// The first fragment, cut by the capture: it cannot be
		// reassembled, but its TCP header is there. Like Wireshark,
		// count it in its flow without analysing it.
		d.decodeTCP(p, data, at)
		p.NoAnalysis = true
		return
	}
	if err != nil {
		layer := fmt.Sprintf("IPv%d fragment", p.IPVersion)
		if err == errFragTrunc && !p.cutIn(at, len(data), p.IPOffset+p.IPTotalLen-at) {
			// Not the snap length: the IP length runs past the frame.
			p.malformed(layer, p.IPOffset, fmt.Sprintf("IP length %d, %d bytes there: the fragment's datagram cannot be reassembled", p.IPTotalLen, at+len(data)-p.IPOffset))
			return
		}
		// Cut by the snap length, the fragment was sent whole: its
		// datagram is lost to the capture, not damaged (unless its
		// IPv4 header is: headerCut).
		damaged := p.MalformedLayer != ""
		p.malformed(layer, p.IPOffset, err.Error())
		p.HeaderCut = err == errFragTrunc && !damaged
		return
	}
	if full == nil {
		p.Fragment = true
		return
	}
	p.Fragments = len(frames) + 1
	p.FragmentFrames = append(p.FragmentFrames, frames...)
	p.FragmentOffsets = append(p.FragmentOffsets, offsets...)
	// The reassembled datagram: its transport layer starts at byte 0 and it
	// is as long as the IP header says, with nothing truncated.
	p.Truncated = false
	p.IPTotalLen = len(full) + (p.IPTotalLen - len(data)) // header size kept for display
	if p.Proto == uint8(layers.IPProtocolTCP) {
		d.decodeTCPAt(p, full, -1, len(full))
		return
	}
	typ := layers.IPProtocol(p.Proto).LayerType()
	d.inFull, d.fullOuter = true, len(p.Outer)
	d.walk(p, typ, full, 0, frame, ts)
	d.inFull = false
}

// decodeTCP decodes the TCP header at data, which starts at byte off of the
// frame, inside the innermost IP datagram.
func (d *Decoder) decodeTCP(p *Packet, data []byte, off int) {
	if d.inFull {
		// In a datagram reassembled from fragments, after IPv6
		// destination options (or another header) that travelled in
		// them: the segment is the rest of the datagram, or of an IP
		// datagram tunnelled inside it. The bytes are not the frame's.
		// With the fragmented header's offset and the frame's length,
		// a 127-byte segment after 8 bytes of destination options came
		// out as 85 bytes of payload with a bad checksum.
		segLen := len(data)
		if len(p.Outer) > d.fullOuter {
			segLen = min(max(p.IPOffset+p.IPTotalLen-off, 0), len(data))
		}
		d.decodeTCPAt(p, data[:segLen], -1, segLen)
		return
	}
	// The datagram's end: the TCP segment is what remains of the IP
	// datagram after the headers before it.
	segLen := p.IPOffset + p.IPTotalLen - off
	if p.IPVersion == 0 || segLen < 0 {
		segLen = len(data)
	}
	// An IP length longer than the frame on the wire is not believed:
	// the segment ends with the frame, as Wireshark takes it.
	segLen = min(segLen, p.WireLen-off)
	if len(data) > segLen {
		data = data[:segLen]
	}
	d.decodeTCPAt(p, data, off, segLen)
}

// decodeTCPAt decodes a TCP segment whose claimed length is segLen and whose
// captured bytes are data. off is the header's offset in the frame, or -1
// when the segment was reassembled from fragments.
func (d *Decoder) decodeTCPAt(p *Packet, data []byte, off int, segLen int) {
	p.TCPOffset = off
	at := max(off, 0)
	p.Proto = uint8(layers.IPProtocolTCP)
	if len(data) < 16 {
		if len(data) >= 4 {
			p.SrcPort = binary.BigEndian.Uint16(data[0:2])
			p.DstPort = binary.BigEndian.Uint16(data[2:4])
		}
		switch {
		case segLen < 20:
			p.malformed("TCP", at, fmt.Sprintf("the %d-byte segment is shorter than a TCP header", segLen))
		case p.cutIn(at, len(data), 20):
			// The datagram holds a whole header, the capture only its
			// first bytes: sent, not captured (snap length). Without
			// the sequence numbers the segment belongs in no flow.
			p.headerCut("TCP", at, len(data), 20)
		default:
			// The datagram claims a whole header, but the header
			// around it (a tunnel's outer IP length) ends before.
			p.malformed("TCP", at+len(data), fmt.Sprintf("header truncated: %d of 20 bytes", len(data)))
		}
		return
	}
	// Ports, sequence numbers, flags and window: enough for the segment to
	// count in its flow even if the rest is missing, as Wireshark counts it.
	p.HasTCP = true
	p.SrcPort = binary.BigEndian.Uint16(data[0:2])
	p.DstPort = binary.BigEndian.Uint16(data[2:4])
	p.Seq = binary.BigEndian.Uint32(data[4:8])
	p.Ack = binary.BigEndian.Uint32(data[8:12])
	p.HeaderLen = int(data[12]>>4) * 4
	p.NS = data[12]&1 != 0
	p.Flags = data[13]
	p.Window = binary.BigEndian.Uint16(data[14:16])
	if len(data) >= 20 {
		p.Urgent = binary.BigEndian.Uint16(data[18:20])
	}
	switch {
	case p.HeaderLen < 20:
		p.malformed("TCP", at+12, fmt.Sprintf("bad TCP data offset %d (header length %d < 20)", p.HeaderLen/4, p.HeaderLen))
		p.BadHeader = true
		p.TCPChecksum = CheckUnverified
		p.PayloadLen = max(segLen-p.HeaderLen, 0)
		return
	case p.HeaderLen > segLen:
		p.malformed("TCP", at+12, fmt.Sprintf("bad TCP data offset %d: header length %d runs past the %d-byte segment", p.HeaderLen/4, p.HeaderLen, segLen))
		p.TCPChecksum = CheckUnverified
		p.PayloadLen = 0
		p.NoAnalysis = true
		return
	}
	p.PayloadLen = segLen - p.HeaderLen
	if len(data) < p.HeaderLen {
		// Never so on the fast path: its segment is all captured.
		p.TCPChecksum = CheckUnverified
		if !p.cutIn(at, len(data), p.HeaderLen) {
			// The segment holds the whole header (HeaderLen <=
			// segLen) but the datagram around it ends before.
			p.malformed("TCP", at+len(data), fmt.Sprintf("header truncated: %d of %d bytes", len(data), p.HeaderLen))
			p.NoAnalysis = true
			return
		}
		// The capture stopped inside the header: the snap length
		// (tcpdump -s 54 ends an Ethernet frame at the fixed TCP
		// header), not damage. The options captured whole are kept;
		// the rest are unknown.
		p.HeaderCut = true
		if p.HeaderLen > 20 {
			parseCutOptions(&p.Opts, data[min(len(data), 20):], p.HeaderLen-20)
			if p.Opts.Malformed {
				p.badOption(at)
			}
		}
		return
	}
	if p.HeaderLen > 20 {
		// Segments without options are common (Windows sends no
		// timestamps by default, nor does the benchmark's generator):
		// parseOptions for none was 35-40 instructions a packet there.
		parseOptions(&p.Opts, data[20:p.HeaderLen])
		if p.Opts.Malformed {
			p.badOption(at)
		}
	}
	p.Payload = data[p.HeaderLen:]
	if len(data) < segLen || p.Truncated {
		p.TCPChecksum = CheckUnverified
		return
	}
	if tcpChecksum(p, data) == 0 {
		p.TCPChecksum = CheckGood
	} else {
		p.TCPChecksum = CheckBad
		// With checksum offload the field still holds what the stack
		// left for the NIC: the folded pseudo-header sum (Linux
		// CHECKSUM_PARTIAL, seen on every packet captured on lo).
		field := binary.BigEndian.Uint16(data[16:18])
		ps := ^internetChecksum(nil, pseudoSum(p, len(data)))
		p.PartialChecksum = field == ps || field == ^ps
	}
}

// badOption records the damaged TCP option p.Opts found in the header at
// byte at of the frame.
func (p *Packet) badOption(at int) {
	p.malformed("TCP option", at+20+p.Opts.MalformedAt, "option length runs past the TCP header or is too short for its kind")
}

// parseOptions decodes TCP options into o. It stops at the end-of-list
// option, and at the first option whose length is impossible (marking o
// malformed).
//
// Three layouts, which Linux sends, are taken without the walk: the
// timestamp alone, on every segment after the handshake, and the SYN's and
// SYN-ACK's, with timestamps or without. The walk took about 210
// instructions for a SYN's options (the benchmark file, 8% of its packets;
// small frames, 18%), the shortcut 20 (TestParseOptionsShortcut).
func parseOptions(o *Options, b []byte) {
	switch len(b) {
	case 12:
		w := binary.BigEndian.Uint64(b)
		if w>>32 == 0x0101080a {
			// No-operation twice, then a timestamp.
			o.TSVal, o.TSEcr, o.HasTS = uint32(w), binary.BigEndian.Uint32(b[8:]), true
			return
		}
		if w&0xffff0000ffffffff == 0x0204000001010402 && binary.BigEndian.Uint32(b[8:])>>8 == 0x010303 {
			// MSS, no-operation twice, SACK permitted, no-operation,
			// window scale: a SYN-ACK without timestamps.
			o.MSS, o.HasMSS, o.SACKPerm = uint16(w>>32), true, true
			o.WScale, o.HasWScale = b[11], true
			return
		}
	case 20:
		w := binary.BigEndian.Uint64(b)
		if w&0xffff0000ffffffff == 0x020400000402080a && binary.BigEndian.Uint32(b[16:])>>8 == 0x010303 {
			// MSS, SACK permitted, timestamp, no-operation, window
			// scale: a SYN or SYN-ACK with timestamps.
			o.MSS, o.HasMSS, o.SACKPerm = uint16(w>>32), true, true
			o.TSVal, o.TSEcr, o.HasTS = binary.BigEndian.Uint32(b[8:]), binary.BigEndian.Uint32(b[12:]), true
			o.WScale, o.HasWScale = b[19], true
			return
		}
	}
	parseOptionList(o, b)
}

// parseOptionList is parseOptions without its shortcut. It reports
// whether it met the end-of-list option.
func parseOptionList(o *Options, b []byte) bool {
	for i := 0; i < len(b); {
		kind := b[i]
		if kind == 0 { // end of list
			return true
		}
		if kind == 1 { // no-operation
			i++
			continue
		}
		if i+1 >= len(b) || b[i+1] < 2 || i+int(b[i+1]) > len(b) {
			o.Malformed, o.MalformedAt = true, i
			return false
		}
		n := int(b[i+1])
		v := b[i+2 : i+n]
		ok := true
		switch kind {
		case 2:
			ok = n == 4
			if ok {
				o.MSS, o.HasMSS = binary.BigEndian.Uint16(v), true
			}
		case 3:
			ok = n == 3
			if ok {
				o.WScale, o.HasWScale = v[0], true
			}
		case 4:
			ok = n == 2
			o.SACKPerm = ok
		case 5:
			ok = (n-2)%8 == 0 && n > 2
			for j := 0; ok && j+8 <= len(v) && o.NSACK < 4; j += 8 {
				o.SACK[o.NSACK] = [2]uint32{binary.BigEndian.Uint32(v[j:]), binary.BigEndian.Uint32(v[j+4:])}
				o.NSACK++
			}
		case 8:
			ok = n == 10
			if ok {
				o.TSVal, o.TSEcr, o.HasTS = binary.BigEndian.Uint32(v), binary.BigEndian.Uint32(v[4:]), true
			}
		case 34:
			o.TFO, o.TFOCookieLen = true, uint8(n-2)
		case 254:
			if n >= 4 && binary.BigEndian.Uint16(v) == 0xF989 {
				o.TFO, o.TFOExp, o.TFOCookieLen = true, true, uint8(n-4)
			} else if o.NUnknown < uint8(len(o.Unknown)) {
				o.Unknown[o.NUnknown] = kind
				o.NUnknown++
			}
		default:
			if o.NUnknown < uint8(len(o.Unknown)) {
				o.Unknown[o.NUnknown] = kind
				o.NUnknown++
			}
		}
		if !ok {
			o.Malformed, o.MalformedAt = true, i
			return false
		}
		i += n
	}
	return false
}

// parseCutOptions decodes the options of a TCP header the capture cut
// short (snap length): b holds the first bytes of its optLen bytes of
// options. An option that runs past b but not past optLen was sent whole
// and not captured: it and those after it are unknown (o.Cut), which is
// not damage. An option whose length is impossible (for its kind, or
// within the header) is.
func parseCutOptions(o *Options, b []byte, optLen int) {
	if parseOptionList(o, b) {
		return // the list ended before the cut: nothing is missing
	}
	if !o.Malformed {
		o.Cut = true
		return
	}
	i := o.MalformedAt
	if i+1 >= len(b) {
		o.Malformed, o.MalformedAt, o.Cut = false, 0, true // its length was not captured
		return
	}
	n, fixed := int(b[i+1]), 0 // fixed: the length of its kind, if it has one
	switch b[i] {
	case 2:
		fixed = 4 // MSS
	case 3:
		fixed = 3 // window scale
	case 4:
		fixed = 2 // SACK permitted
	case 8:
		fixed = 10 // timestamps
	}
	if n >= 2 && i+n > len(b) && i+n <= optLen && (fixed == 0 || n == fixed) {
		o.Malformed, o.MalformedAt, o.Cut = false, 0, true
	}
}

// ipv4HeaderSumOK reports whether an IPv4 header without options is
// intact: internetChecksum(h[:], 0) == 0, for the one size every fast-path
// packet has. The header is intact when the one's complement sum of its
// 16-bit words is 0xffff, that is, when their plain sum is not zero and a
// multiple of 0xffff (2^16 is 1 modulo 0xffff, so any sum of the words at
// multiples of 16 bits will do). Its five 32-bit words, summed in 64 bits,
// cannot overflow; they are read in little-endian order, as two 64-bit
// loads and one 32-bit, which makes the sum 256 times the big-endian one
// modulo 0xffff, a multiple of 0xffff when that one is (RFC 1071). Five
// big-endian words folded to 16 bits took 13 instructions a packet more
// on both files (cachegrind, -pgo=off; TestIPv4HeaderSum).
func ipv4HeaderSumOK(h *[20]byte) bool {
	a, b := binary.LittleEndian.Uint64(h[0:]), binary.LittleEndian.Uint64(h[8:])
	s := a>>32 + a&0xffffffff + b>>32 + b&0xffffffff + uint64(binary.LittleEndian.Uint32(h[16:]))
	return s != 0 && s%0xffff == 0
}

// internetChecksum folds the one's complement sum of b into sum and returns
// the complement: zero when b (with its checksum field) is intact. The one's
// complement sum does not depend on byte order and may be taken over any
// word size (RFC 1071), so b is summed as little-endian words and the
// folded result swapped back to network order. With AVX2 the assembly
// kernel does it all (checksumAVX2); sum goes in times 256, which modulo
// 0xffff is its bytes swapped (x·2^8 moves each byte by one place, and
// 2^16 is 1), and is zero only when sum is.
func internetChecksum(b []byte, sum uint32) uint16 {
	if wideSum {
		return checksumAVX2(b, uint64(sum)<<8)
	}
	return checksumScalar(b, sum)
}

// checksumScalar is internetChecksum without the kernel: 64-bit words with
// add-with-carry. The loop takes 64 bytes at a time: the carry is saved and
// restored once per iteration, a serial step that with 32 bytes held the
// sum to 17 GB/s; with 64, 23 (BenchmarkChecksumScalar).
func checksumScalar(b []byte, sum uint32) uint16 {
	// The initial sum, folded and put in little-endian order.
	s0 := sum>>16 + sum&0xffff
	s0 = s0>>16 + s0&0xffff
	acc, c := uint64(bits.ReverseBytes16(uint16(s0))), uint64(0)
	for len(b) >= 64 {
		acc, c = bits.Add64(acc, binary.LittleEndian.Uint64(b[0:]), c)
		acc, c = bits.Add64(acc, binary.LittleEndian.Uint64(b[8:]), c)
		acc, c = bits.Add64(acc, binary.LittleEndian.Uint64(b[16:]), c)
		acc, c = bits.Add64(acc, binary.LittleEndian.Uint64(b[24:]), c)
		acc, c = bits.Add64(acc, binary.LittleEndian.Uint64(b[32:]), c)
		acc, c = bits.Add64(acc, binary.LittleEndian.Uint64(b[40:]), c)
		acc, c = bits.Add64(acc, binary.LittleEndian.Uint64(b[48:]), c)
		acc, c = bits.Add64(acc, binary.LittleEndian.Uint64(b[56:]), c)
		b = b[64:]
	}
	for len(b) >= 8 {
		acc, c = bits.Add64(acc, binary.LittleEndian.Uint64(b), c)
		b = b[8:]
	}
	if len(b) >= 4 {
		acc, c = bits.Add64(acc, uint64(binary.LittleEndian.Uint32(b)), c)
		b = b[4:]
	}
	if len(b) >= 2 {
		acc, c = bits.Add64(acc, uint64(binary.LittleEndian.Uint16(b)), c)
		b = b[2:]
	}
	if len(b) == 1 {
		acc, c = bits.Add64(acc, uint64(b[0]), c)
	}
	acc, c = bits.Add64(acc, 0, c)
	acc += c // acc was 0 if this carries: no overflow
	acc = acc>>32 + acc&0xffffffff
	acc = acc>>32 + acc&0xffffffff
	acc = acc>>16 + acc&0xffff
	acc = acc>>16 + acc&0xffff
	acc = acc>>16 + acc&0xffff
	return ^bits.ReverseBytes16(uint16(acc))
}

// tcpChecksum verifies seg (the whole TCP segment) against the pseudo-header
// of p's innermost IP datagram: zero means good.
func tcpChecksum(p *Packet, seg []byte) uint16 {
	return internetChecksum(seg, pseudoSum(p, len(seg)))
}

// pseudoSum is the unfolded sum of the TCP pseudo-header of p's innermost
// IP datagram, for a segment of n bytes.
func pseudoSum(p *Packet, n int) uint32 {
	var sum uint32
	switch {
	case p.keysSet:
		sum = p.addrSum
	case p.IPVersion == 4:
		s, d := p.Src.As4(), p.Dst.As4()
		sum = words16(uint64(binary.BigEndian.Uint32(s[:]))) + words16(uint64(binary.BigEndian.Uint32(d[:])))
	default:
		s, d := p.Src.As16(), p.Dst.As16()
		sum = words16(binary.BigEndian.Uint64(s[:8])) + words16(binary.BigEndian.Uint64(s[8:])) +
			words16(binary.BigEndian.Uint64(d[:8])) + words16(binary.BigEndian.Uint64(d[8:]))
	}
	return sum + uint32(n)>>16 + uint32(n)&0xffff + 6
}
