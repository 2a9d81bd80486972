package capture

import (
	"encoding/binary"
	"fmt"

	"github.com/gopacket/gopacket/layers"
)

// Magic numbers, as 32-bit values in the byte order of the file that holds
// them.
const (
	magicPcap     = 0xa1b2c3d4 // classic pcap, microsecond time stamps
	magicPcapNs   = 0xa1b23c4d // classic pcap, nanosecond time stamps
	magicModified = 0xa1b2cd34 // Alexey Kuznetzov's "modified pcap"
	magicPcapng   = 0x0a0d0d0a // pcapng Section Header Block type (a palindrome)
	magicGzip     = 0x1f8b     // the first two bytes of a gzip stream
)

// Limits on what a file may claim before we call it damaged.
const (
	// MaxCapLen is the largest captured packet we accept, tcpdump's
	// MAXIMUM_SNAPLEN. libpcap and Wireshark allow more for a handful of
	// link types (D-Bus, USBPcap, EBHSCR) that do not carry TCP; we do
	// not, and report such packets as damage.
	MaxCapLen = 262144
	// MaxBlockLen is the largest pcapng block we accept (libpcap's
	// limit too).
	MaxBlockLen = 16 << 20
	// maxInterfaces bounds the number of pcapng interfaces one section
	// may define, so that a file made of nothing but tiny Interface
	// Description Blocks cannot make us hold millions of them. It bounds
	// a section, not the file: interface numbers start again in each
	// section, and a day of per-second dumpcap files joined with cat
	// has 86,400 sections of one interface each (the Reader keeps one).
	maxInterfaces = 1 << 16
)

// Sizes of the classic pcap headers.
const (
	pcapFileHeaderLen     = 24
	pcapRecordHeaderLen   = 16
	modifiedRecordHeadLen = 24 // 16 + ifindex(4) + protocol(2) + pkt_type(1) + pad(1)
)

// How the caplen and len fields of a record header are ordered. They were
// exchanged in pcap version 2.3; libpcap still reads the older files.
const (
	lengthsNotSwapped   = iota
	lengthsMaybeSwapped // version 2.3: swapped if caplen > len
	lengthsSwapped      // versions before 2.3, and DG/UX's 543.0
)

// pcapFormat is what the file header of a classic pcap file tells about
// its records.
type pcapFormat struct {
	be        bool // big-endian file
	nano      bool // nanosecond time stamps
	modified  bool // Kuznetzov's format, 24-byte record headers
	hdrLen    int  // record header length
	swapLens  int  // lengths* constant
	linkType  layers.LinkType
	snapLen   uint32
	fcsLen    int
	verMajor  uint16
	verMinor  uint16
	magicName string
}

// parsePcapHeader decodes a 24-byte classic pcap file header. The caller
// has checked the magic number; the error is a reason for rejecting the
// file.
func parsePcapHeader(h []byte) (pcapFormat, error) {
	var f pcapFormat
	magic := binary.LittleEndian.Uint32(h)
	switch magic {
	case magicPcap, magicPcapNs, magicModified:
	default:
		f.be = true
		magic = binary.BigEndian.Uint32(h)
	}
	f.nano = magic == magicPcapNs
	f.modified = magic == magicModified
	f.hdrLen = pcapRecordHeaderLen
	if f.modified {
		f.hdrLen = modifiedRecordHeadLen
	}
	f.verMajor = u16(h[4:], f.be)
	f.verMinor = u16(h[6:], f.be)
	// Like libpcap: versions 2.0 to 2.4, and 543.0 written by DG/UX.
	switch {
	case f.verMajor == 2 && f.verMinor < 3, f.verMajor == 543 && f.verMinor == 0:
		f.swapLens = lengthsSwapped
	case f.verMajor == 2 && f.verMinor == 3:
		f.swapLens = lengthsMaybeSwapped
	case f.verMajor == 2 && f.verMinor == 4:
		f.swapLens = lengthsNotSwapped
	default:
		return f, fmt.Errorf("unsupported pcap version %d.%d", f.verMajor, f.verMinor)
	}
	f.snapLen = u32(h[16:], f.be)
	// The "LinkType and additional information" field: the link type is
	// in the low 16 bits; bit 26 says whether bits 28-31 hold the length
	// of the frame check sequence, in 16-bit words.
	lt := u32(h[20:], f.be)
	f.linkType = layers.LinkType(lt & 0xffff)
	f.fcsLen = -1
	if lt&0x04000000 != 0 {
		f.fcsLen = int(lt>>28) * 2
	}
	return f, nil
}

// format returns the name Reader.Format uses.
func (f *pcapFormat) format() string {
	switch {
	case f.modified:
		return "pcap-modified"
	case f.nano:
		return "pcap-ns"
	}
	return "pcap"
}

// unlike says how the header of a second file joined to this one (g)
// differs from this file's in what its records mean: link type, frame
// check sequence, time stamp precision, byte order, record format or
// version; "" when it does not (Reader.joinedHeader). The snap length and
// the other fields do not change what a record means.
func (f *pcapFormat) unlike(g *pcapFormat) string {
	order := func(be bool) string {
		if be {
			return "big-endian"
		}
		return "little-endian"
	}
	switch {
	case g.linkType != f.linkType:
		return fmt.Sprintf("with link type %s where the first has %s", LinkTypeName(g.linkType), LinkTypeName(f.linkType))
	case g.fcsLen != f.fcsLen:
		return fmt.Sprintf("with a frame check sequence of %d bytes where the first has %d (-1: unknown)", g.fcsLen, f.fcsLen)
	case g.nano != f.nano || g.modified != f.modified:
		return fmt.Sprintf("%s where the first is %s", g.format(), f.format())
	case g.be != f.be:
		return fmt.Sprintf("%s where the first is %s", order(g.be), order(f.be))
	case g.swapLens != f.swapLens:
		return fmt.Sprintf("version %d.%d where the first is %d.%d", g.verMajor, g.verMinor, f.verMajor, f.verMinor)
	}
	return ""
}

// iface returns the one interface of a classic pcap file.
func (f *pcapFormat) iface() Interface {
	res := uint8(6)
	if f.nano {
		res = 9
	}
	return Interface{LinkType: f.linkType, SnapLen: f.snapLen, TsResol: res, FCSLen: f.fcsLen}
}

// decodeRecordHeader decodes a record header (f.hdrLen bytes) into rec:
// everything but Frame, Offset and Data. It returns the captured length,
// or a non-empty reason when the header cannot be right.
func (f *pcapFormat) decodeRecordHeader(h []byte, rec *Record) (uint32, string) {
	var sec, frac, caplen, origlen uint32
	a := (*[16]byte)(h)
	if f.be {
		sec, frac = binary.BigEndian.Uint32(a[0:]), binary.BigEndian.Uint32(a[4:])
		caplen, origlen = binary.BigEndian.Uint32(a[8:]), binary.BigEndian.Uint32(a[12:])
	} else {
		sec, frac = binary.LittleEndian.Uint32(a[0:]), binary.LittleEndian.Uint32(a[4:])
		caplen, origlen = binary.LittleEndian.Uint32(a[8:]), binary.LittleEndian.Uint32(a[12:])
	}
	switch f.swapLens {
	case lengthsSwapped:
		caplen, origlen = origlen, caplen
	case lengthsMaybeSwapped:
		if caplen > origlen {
			caplen, origlen = origlen, caplen
		}
	}
	if caplen > MaxCapLen {
		return 0, fmt.Sprintf("record claims %d captured bytes, more than the maximum of %d", caplen, MaxCapLen)
	}
	// The seconds are unsigned in the file format. A sub-second field
	// that is out of range (a broken writer) is simply added, as
	// tcpdump does, and noted (Reader.Notes).
	ns, limit := int64(frac), uint32(1e9)
	if !f.nano {
		ns *= 1000
		limit = 1e6
	}
	rec.odd = 0
	if frac >= limit {
		rec.odd, rec.oddVal = oddFrac, frac
	}
	if origlen < caplen {
		rec.odd |= oddLen
		rec.oddOrig = origlen
	}
	rec.Timestamp = int64(sec)*1e9 + ns
	rec.CapLen = caplen
	rec.OrigLen = max(origlen, caplen)
	rec.LinkType = f.linkType
	rec.Interface = 0
	rec.Direction = DirUnknown
	if f.modified {
		// ifindex(4) protocol(2) pkt_type(1) pad(1): pkt_type is a
		// Linux packet type.
		rec.Direction = DirectionFromSLLPacketType(uint16(h[22]))
	}
	return caplen, ""
}

// u16, u32 and u64 decode integers in the byte order of the file.
func u16(b []byte, be bool) uint16 {
	if be {
		return binary.BigEndian.Uint16(b)
	}
	return binary.LittleEndian.Uint16(b)
}

func u32(b []byte, be bool) uint32 {
	if be {
		return binary.BigEndian.Uint32(b)
	}
	return binary.LittleEndian.Uint32(b)
}

func u64(b []byte, be bool) uint64 {
	if be {
		return binary.BigEndian.Uint64(b)
	}
	return binary.LittleEndian.Uint64(b)
}
