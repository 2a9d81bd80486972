package analysis

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// Apple's PKTAP (tcpdump -i pktap on macOS): each frame has a header that
// names its interface and the process that sent or received it, then the
// frame in its own link type. libpcap calls it 258; macOS's tcpdump wrote
// it as user link type 2 (149), which tshark reads as PKTAP too.
const (
	LinkTypePKTAP layers.LinkType = 258
	linkTypeUser2 layers.LinkType = 149
)

// PKTAP is what a PKTAP header says (net/pktap.h, little-endian, as macOS
// writes it on both its architectures).
type PKTAP struct {
	HeaderLen int
	LinkType  layers.LinkType // the frame's own, after the header
	Interface string
	PID       int32
	Command   string // the process's name, "" when not known
}

// pktapMin is the length of the header up to the process's name.
const pktapMin = 73

// ParsePKTAP reads a PKTAP header; ok is false when data does not start
// with one (too short, a length past the frame, not a packet record).
func ParsePKTAP(data []byte) (PKTAP, bool) {
	if len(data) < pktapMin {
		return PKTAP{}, false
	}
	le := binary.LittleEndian
	n, typ := int(le.Uint32(data[0:])), le.Uint32(data[4:])
	if n < pktapMin || n > len(data) || typ != 1 { // PTH_TYPE_PACKET
		return PKTAP{}, false
	}
	cstr := func(b []byte) string {
		if i := bytes.IndexByte(b, 0); i >= 0 {
			b = b[:i]
		}
		return string(b)
	}
	return PKTAP{HeaderLen: n, LinkType: layers.LinkType(le.Uint32(data[8:])), Interface: cstr(data[12:36]),
		PID: int32(le.Uint32(data[52:])), Command: cstr(data[56:73])}, true
}

// pktapHeader finds the frame after a PKTAP header and reads its own link
// header. Link type 149 is taken for PKTAP only when it reads as one.
func pktapHeader(p *Packet, lt layers.LinkType, data []byte) (gopacket.LayerType, int, bool) {
	h, ok := ParsePKTAP(data)
	var n int
	if len(data) >= 8 {
		n = int(binary.LittleEndian.Uint32(data))
	}
	switch {
	case !ok && lt == linkTypeUser2:
		return gopacket.LayerTypeZero, 0, false
	case !ok && len(data) < pktapMin:
		return linkTruncated(p, "PKTAP", "PKTAP header", 0, data, pktapMin)
	case !ok && n > len(data) && binary.LittleEndian.Uint32(data[4:]) == 1:
		// A packet record whose header the snap length cut (macOS
		// writes 156 bytes of it): not captured, not damaged.
		return linkTruncated(p, "PKTAP", "PKTAP header", 0, data, n)
	case !ok:
		p.malformed("PKTAP", 0, fmt.Sprintf("header length %d, record type %d: not a packet record", binary.LittleEndian.Uint32(data), binary.LittleEndian.Uint32(data[4:])))
		return gopacket.LayerTypeZero, 0, true
	case h.LinkType == LinkTypePKTAP || h.LinkType == linkTypeUser2:
		p.malformed("PKTAP", 8, fmt.Sprintf("a PKTAP frame inside a PKTAP frame (link type %d)", h.LinkType))
		return gopacket.LayerTypeZero, 0, true
	}
	typ, off, known := linkHeader(p, h.LinkType, data[h.HeaderLen:])
	return typ, h.HeaderLen + off, known
}
