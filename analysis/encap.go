package analysis

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// Undecoded names what kept the decoder from looking inside a frame that
// may hold TCP: a link type it does not know, or an encapsulation it does
// not follow (Packet.UndecodedProto says which protocol that carried). A
// frame that plainly holds no TCP (ARP, a PPP control protocol, IS-IS) is
// not undecoded: it is simply not TCP, and nothing is said about it.
type Undecoded uint8

// What stopped the decoder.
const (
	UndecodedNone Undecoded = iota
	// UndecodedLinkType: the capture's link type (Packet.LinkType).
	UndecodedLinkType
	// UndecodedGRE: GRE carrying protocol UndecodedProto.
	UndecodedGRE
	// UndecodedMPLS: an MPLS label stack followed by neither IPv4 nor
	// IPv6 (an Ethernet pseudowire, say); UndecodedProto is the first
	// nibble after it.
	UndecodedMPLS
	// UndecodedPPP: a PPP protocol that carries packets the decoder cannot
	// read (compressed, multilink fragments, bridged frames).
	UndecodedPPP
	// UndecodedEtherType: an Ethernet type that carries frames the decoder
	// does not follow (MACsec, 802.1ah, Cisco MetaData).
	UndecodedEtherType
)

// Link types the decoder reads besides those gopacket names (decode.go).
const (
	linkTypePPPSerial    layers.LinkType = 50  // PPP in HDLC-like framing, or Cisco HDLC
	linkTypeCHDLC        layers.LinkType = 104 // Cisco HDLC
	linkTypeARCNETLinux  layers.LinkType = 129
	linkTypeJuniperEther layers.LinkType = 178
	linkTypeIPoIB        layers.LinkType = 242
)

// Ethernet types and PPP protocols the decoder treats itself.
const (
	etherTypeWCCP   = 0x883e // a WCCP redirect in GRE (Cisco)
	etherTypeMACsec = 0x88e5
	etherTypePBB    = 0x88e7 // 802.1ah, MAC-in-MAC
	etherTypeOSI    = 0x00fe // in GRE: IS-IS
	etherTypeNHRP   = 0x2001 // in GRE: DMVPN's resolution protocol
	etherTypeCDP    = 0x2000 // in GRE: Cisco Discovery Protocol
	etherTypeCMD    = 0x8909 // Cisco MetaData: TrustSec's security group tag
)

// linkHeader finds where the payload of a frame of link type lt starts, and
// what it is: the layer to decode next (gopacket.LayerTypeZero for a frame
// that holds nothing the decoder follows) and its offset. known is false
// for a link type the decoder does not read. A header too short or
// damaged is recorded in p as malformed, with LayerTypeZero.
func linkHeader(p *Packet, lt layers.LinkType, data []byte) (typ gopacket.LayerType, off int, known bool) {
	switch lt {
	case layers.LinkTypeEthernet:
		return layers.LayerTypeEthernet, 0, true
	case layers.LinkTypeLinuxSLL:
		return layers.LayerTypeLinuxSLL, 0, true
	case layers.LinkTypeLinuxSLL2:
		return layers.LayerTypeLinuxSLL2, 0, true
	case layers.LinkTypeNull, layers.LinkTypeLoop:
		return layers.LayerTypeLoopback, 0, true
	case linkTypeRawIPv4:
		return layers.LayerTypeIPv4, 0, true
	case linkTypeRawIPv6:
		return layers.LayerTypeIPv6, 0, true
	case linkTypeRaw, 12, 14:
		if len(data) > 0 {
			if typ := ipByVersion(data); typ != gopacket.LayerTypeZero {
				return typ, 0, true
			}
			p.malformed("IP", 0, fmt.Sprintf("IP version %d is neither 4 nor 6", data[0]>>4))
		}
		return gopacket.LayerTypeZero, 0, true
	case layers.LinkTypePPP:
		return layers.LayerTypePPP, 0, true
	case linkTypePPPSerial:
		// RFC 1662 framing starts with the address 0xff; Cisco's PPP
		// in HDLC framing (RFC 1547 4.3.1) with 0x0f or 0x8f, and is
		// Cisco HDLC (as tcpdump reads DLT_PPP_SERIAL).
		if len(data) > 0 && (data[0] == 0x0f || data[0] == 0x8f) {
			return etherHeader(p, "Cisco HDLC", data, 4, 2)
		}
		return layers.LayerTypePPP, 0, true
	case linkTypeCHDLC:
		// Address, control, then an Ethernet type.
		return etherHeader(p, "Cisco HDLC", data, 4, 2)
	case linkTypeIPoIB:
		// As tcpdump's print-ipoib.c reads it (IPOIB_HDRLEN 44), and
		// as the corpus's ipoib.pcap has it: 40 bytes of hardware
		// addresses, then RFC 4391's 4 bytes, an Ethernet type and 2
		// reserved.
		return etherHeader(p, "IPoIB", data, 44, 40)
	case linkTypeJuniperEther:
		return juniperEther(p, data)
	case linkTypeARCNETLinux:
		return arcnetLinux(p, data)
	case LinkTypeNFLOG:
		return nflogHeader(p, data)
	case LinkTypePKTAP, linkTypeUser2:
		return pktapHeader(p, lt, data)
	}
	return gopacket.LayerTypeZero, 0, false
}

// etherHeader reads a link header of n bytes with the Ethernet type of its
// payload at byte at.
func etherHeader(p *Packet, name string, data []byte, n, at int) (gopacket.LayerType, int, bool) {
	if len(data) < n {
		return linkTruncated(p, name, name+" header", 0, data, n)
	}
	return layers.EthernetType(binary.BigEndian.Uint16(data[at : at+2])).LayerType(), n, true
}

// linkTruncated records on p a link header of n bytes of which data holds
// fewer: cut by the snap length (cutIn), or damaged from byte at, where
// the part of the header what names starts. It returns what linkHeader
// returns.
func linkTruncated(p *Packet, name, what string, at int, data []byte, n int) (gopacket.LayerType, int, bool) {
	if p.cutIn(0, len(data), n) {
		p.headerCut(name, 0, len(data), n)
	} else {
		p.malformed(name, at, fmt.Sprintf("%s truncated: %d of %d bytes captured", what, len(data), n))
	}
	return gopacket.LayerTypeZero, 0, true
}

// ipByVersion is the IP layer whose version the first nibble of b names,
// or LayerTypeZero.
func ipByVersion(b []byte) gopacket.LayerType {
	if len(b) > 0 {
		switch b[0] >> 4 {
		case 4:
			return layers.LayerTypeIPv4
		case 6:
			return layers.LayerTypeIPv6
		}
	}
	return gopacket.LayerTypeZero
}

// juniperEther reads the header Juniper routers put before the Ethernet
// frames they capture (DLT_JUNIPER_ETHER), as tcpdump's print-juniper.c
// reads it: the magic "MGC", a flags byte, and when flag 0x80 is set a
// 2-byte length of extension TLVs that follow. Flag 0x02 says the L2
// header was stripped: then 4 bytes more, and IP, which tcpdump (and so
// this) recognises by its version.
func juniperEther(p *Packet, data []byte) (gopacket.LayerType, int, bool) {
	const name = "Juniper"
	if len(data) < 4 {
		return linkTruncated(p, name, "Juniper header", 0, data, 4)
	}
	if data[0] != 'M' || data[1] != 'G' || data[2] != 'C' {
		p.malformed(name, 0, fmt.Sprintf("no Juniper magic number (0x4d4743): 0x%02x%02x%02x", data[0], data[1], data[2]))
		return gopacket.LayerTypeZero, 0, true
	}
	flags, n := data[3], 4
	if flags&0x80 != 0 {
		if len(data) < 6 {
			return linkTruncated(p, name, "Juniper extension length", 4, data, 6)
		}
		n = 6 + int(binary.BigEndian.Uint16(data[4:6]))
	}
	if flags&0x02 != 0 {
		// With the IP version after it: what follows.
		n += 4
		if len(data) < n+1 {
			return linkTruncated(p, name, "Juniper header", 0, data, n+1)
		}
		return ipByVersion(data[n:]), n, true
	}
	if len(data) < n {
		return linkTruncated(p, name, "Juniper extensions", 4, data, n)
	}
	return layers.LayerTypeEthernet, n, true
}

// arcnetLinux reads the header of ARCNET frames as Linux captures them
// (DLT_ARCNET_LINUX), as tcpdump's print-arcnet.c reads it: source and
// destination station, a 2-byte offset, the protocol; RFC 1201's
// protocols add a split flag and a sequence number, RFC 1051's do not.
// Linux reassembles split packets before they are captured.
func arcnetLinux(p *Packet, data []byte) (gopacket.LayerType, int, bool) {
	if len(data) < 5 {
		return linkTruncated(p, "ARCNET", "ARCNET header", 0, data, 5)
	}
	var typ gopacket.LayerType
	switch data[4] {
	case 240: // RFC 1051 IP
		return layers.LayerTypeIPv4, 5, true
	case 241, 128: // RFC 1051 ARP, diagnostics: 5-byte header
		return gopacket.LayerTypeZero, 5, true
	case 212: // RFC 1201 IP
		typ = layers.LayerTypeIPv4
	case 0xc4: // RFC 2497 IPv6
		typ = layers.LayerTypeIPv6
	}
	if len(data) < 8 {
		return linkTruncated(p, "ARCNET", "ARCNET header", 0, data, 8)
	}
	return typ, 8, true
}

// pppLayer decodes a PPP header (RFC 1661): the address and control bytes
// of HDLC-like framing (0xff 0x03) when present, then a protocol field of
// one byte (compressed) or two. gopacket's PPP is not a DecodingLayer.
type pppLayer struct {
	layers.BaseLayer
	proto uint16
}

func (l *pppLayer) CanDecode() gopacket.LayerClass { return layers.LayerTypePPP }

func (l *pppLayer) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	off := 0
	if len(data) >= 2 && data[0] == 0xff {
		// The address; tcpdump skips the control byte after it
		// whatever it holds.
		off = 2
	}
	if len(data) < off+1 {
		df.SetTruncated()
		return errors.New("PPP header truncated")
	}
	n := 1
	if data[off]&1 == 0 {
		// A protocol whose low byte is even is invalid (RFC 1661 2),
		// but tcpdump and Wireshark take it as an unknown protocol,
		// and so does this: it holds no TCP.
		n = 2
		if len(data) < off+2 {
			df.SetTruncated()
			return errors.New("PPP protocol field truncated")
		}
		l.proto = binary.BigEndian.Uint16(data[off:])
	} else {
		l.proto = uint16(data[off])
	}
	l.BaseLayer = layers.BaseLayer{Contents: data[:off+n], Payload: data[off+n:]}
	return nil
}

func (l *pppLayer) NextLayerType() gopacket.LayerType {
	switch l.proto {
	case 0x0021:
		return layers.LayerTypeIPv4
	case 0x0057:
		return layers.LayerTypeIPv6
	case 0x0281, 0x0283:
		return layers.LayerTypeMPLS
	}
	return gopacket.LayerTypeZero
}

// pppCarrier names the PPP protocols that carry packets the decoder cannot
// read, so that their frames are said not to be decoded; "" for the others
// (control protocols, and network protocols other than IP).
func pppCarrier(proto uint16) string {
	switch proto {
	case 0x002d:
		return "Van Jacobson compressed TCP/IP"
	case 0x002f:
		return "Van Jacobson uncompressed TCP/IP"
	case 0x0031:
		return "bridged frames"
	case 0x003d:
		return "multilink fragments"
	case 0x00fb, 0x00fd:
		return "compressed datagrams"
	}
	return ""
}

// pppoeLayer decodes a PPPoE header (RFC 2516): session packets carry
// PPP; discovery packets nothing that can hold TCP.
type pppoeLayer struct {
	layers.BaseLayer
	code uint8
}

func (l *pppoeLayer) CanDecode() gopacket.LayerClass { return layers.LayerTypePPPoE }

func (l *pppoeLayer) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	if len(data) < 6 {
		df.SetTruncated()
		return fmt.Errorf("PPPoE header truncated: %d of 6 bytes captured", len(data))
	}
	l.code = data[1]
	end := 6 + int(binary.BigEndian.Uint16(data[4:6]))
	// The length leaves out Ethernet padding; the IP header bounds the
	// datagram anyway, so a length past the frame is not an error.
	l.BaseLayer = layers.BaseLayer{Contents: data[:6], Payload: data[6:min(end, len(data))]}
	return nil
}

func (l *pppoeLayer) NextLayerType() gopacket.LayerType {
	if l.code == 0 { // session data
		return layers.LayerTypePPP
	}
	return gopacket.LayerTypeZero
}

// mplsLayer decodes an MPLS label stack (RFC 3032) to its bottom entry.
// What follows is IPv4 or IPv6 by its first nibble, as Wireshark guesses
// it; anything else (a pseudowire) is not followed.
type mplsLayer struct {
	layers.BaseLayer
}

func (l *mplsLayer) CanDecode() gopacket.LayerClass { return layers.LayerTypeMPLS }

func (l *mplsLayer) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	for off := 0; off+4 <= len(data); off += 4 {
		if data[off+2]&1 != 0 { // bottom of stack
			l.BaseLayer = layers.BaseLayer{Contents: data[:off+4], Payload: data[off+4:]}
			return nil
		}
	}
	df.SetTruncated()
	return fmt.Errorf("MPLS label stack truncated: no bottom-of-stack entry in %d bytes", len(data))
}

func (l *mplsLayer) NextLayerType() gopacket.LayerType { return ipByVersion(l.Payload) }
