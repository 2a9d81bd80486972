package analysis

import (
	"encoding/binary"
	"fmt"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// LinkTypeNFLOG is Linux's netfilter log (tcpdump -i nflog:N): the packets
// an iptables or nftables rule with the NFLOG/log group target logged,
// dropped ones among them, which is how a Linux firewall shows what its
// rules did to a connection.
const LinkTypeNFLOG layers.LinkType = 239

// NFLOG's attribute types (linux/netfilter/nfnetlink_log.h) that matter
// here.
const (
	nflogPayload = 9  // NFULA_PAYLOAD: the packet, from its IP header
	nflogPrefix  = 10 // NFULA_PREFIX: the rule's log prefix
)

// nflogHeader finds the packet in an NFLOG frame, as libpcap's
// pcap/nflog.h lays it out: family, version and resource id (4 bytes),
// then attributes, each a 2-byte length (the 4-byte attribute header
// included) and a 2-byte type, padded to 4 bytes. Both are in the byte
// order of the host that captured, which the file does not say to the
// decoder: the first attribute's length is read both ways, and the one
// that fits is taken (libpcap swaps them by the file's byte order; this
// agrees with it on every file whose first attribute is shorter than 256
// bytes, as the packet header that comes first is).
func nflogHeader(p *Packet, data []byte) (gopacket.LayerType, int, bool) {
	const name = "Linux NFLOG"
	if len(data) < 8 {
		return linkTruncated(p, name, name+" header", 0, data, 8)
	}
	order := nflogOrder(data)
	at := 4
	for at+4 <= len(data) {
		n, typ := int(order.Uint16(data[at:])), order.Uint16(data[at+2:])&0x7fff
		if n < 4 {
			p.malformed(name, at, fmt.Sprintf("attribute of type %d claims %d bytes, less than its own header", typ, n))
			return gopacket.LayerTypeZero, 0, true
		}
		if typ == nflogPayload {
			payload := at + 4
			if payload > len(data) {
				break
			}
			if t := ipByVersion(data[payload:]); t != gopacket.LayerTypeZero {
				return t, payload, true
			}
			if payload == len(data) {
				break
			}
			p.malformed(name, payload, fmt.Sprintf("payload's IP version %d is neither 4 nor 6", data[payload]>>4))
			return gopacket.LayerTypeZero, 0, true
		}
		if at+n > len(data) {
			return linkTruncated(p, name, fmt.Sprintf("attribute of type %d", typ), at, data, at+n)
		}
		at += (n + 3) &^ 3
	}
	if p.cutIn(0, len(data), len(data)+1) {
		// The snap length ended the frame before its packet, in or
		// right before an attribute's 4-byte header.
		at = min(at, len(data))
		p.headerCut(name+" attribute", at, len(data)-at, 4)
	}
	// No packet logged (a rule may log without it): nothing to follow.
	return gopacket.LayerTypeZero, 0, true
}

// nflogOrder is the byte order of an NFLOG frame's attribute headers (at
// least 8 bytes): the one in which the first attribute's length fits.
func nflogOrder(data []byte) binary.ByteOrder {
	if n := int(binary.LittleEndian.Uint16(data[4:])); n < 4 || n > len(data)-4 {
		return binary.BigEndian
	}
	return binary.LittleEndian
}

// NFLOGPrefix returns the log prefix of an NFLOG frame's rule ("DROP-IN:
// "), and whether the frame has one: what the drill-down names the frame
// by, as it is what tells which rule logged the packet.
func NFLOGPrefix(data []byte) (string, bool) {
	if len(data) < 8 {
		return "", false
	}
	order := nflogOrder(data)
	for at := 4; at+4 <= len(data); {
		n, typ := int(order.Uint16(data[at:])), order.Uint16(data[at+2:])&0x7fff
		if n < 4 || at+n > len(data) {
			return "", false
		}
		if typ == nflogPrefix {
			v := data[at+4 : at+n]
			for len(v) > 0 && v[len(v)-1] == 0 {
				v = v[:len(v)-1]
			}
			return string(v), true
		}
		at += (n + 3) &^ 3
	}
	return "", false
}
