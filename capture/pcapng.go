package capture

import (
	"fmt"
	"math/bits"

	"github.com/gopacket/gopacket/layers"
)

// pcapng block types.
const (
	blockSHB = 0x0a0d0d0a // Section Header Block
	blockIDB = 0x00000001 // Interface Description Block
	blockPB  = 0x00000002 // Packet Block (obsolete)
	blockSPB = 0x00000003 // Simple Packet Block
	blockEPB = 0x00000006 // Enhanced Packet Block
)

// The pcapng Section Header Block's byte-order magic, as read big-endian
// from a big-endian and a little-endian section.
const (
	byteOrderMagic        = 0x1a2b3c4d
	byteOrderMagicSwapped = 0x4d3c2b1a
)

// Option codes used here.
const (
	optEndOfOpt   = 0
	optComment    = 1 // opt_comment, in any block
	optIfName     = 2
	optIfDesc     = 3
	optIfTsresol  = 9
	optIfFilter   = 11
	optIfOS       = 12
	optIfFcslen   = 13
	optIfTsoffset = 14
	optEpbFlags   = 2 // epb_flags, and pack_flags in the obsolete Packet Block
)

const (
	blockOverhead   = 12   // block type, length and trailing length
	defaultTsResol  = 6    // if_tsresol when absent: microseconds
	maxOptionString = 4096 // longer interface strings are cut
	maxIfComments   = 64   // an interface's comments past these are dropped
)

// minBlockLen returns the smallest valid total length of a block of type
// typ: the 12 bytes of type, length and trailing length, plus the fixed part
// of the body.
func minBlockLen(typ uint32) uint32 {
	switch typ {
	case blockSHB:
		return blockOverhead + 16 // byte-order magic, versions, section length
	case blockIDB:
		return blockOverhead + 8 // link type, reserved, snaplen
	case blockEPB, blockPB:
		return blockOverhead + 20 // interface, time stamp, lengths
	case blockSPB:
		return blockOverhead + 4 // original length
	}
	return blockOverhead
}

// checkBlockLen returns why a block of type typ cannot have total length n,
// or "" if it can.
func checkBlockLen(typ, n uint32) string {
	switch {
	case n < minBlockLen(typ):
		return fmt.Sprintf("%s length %d is less than the minimum of %d", blockName(typ), n, minBlockLen(typ))
	case n%4 != 0:
		return fmt.Sprintf("%s length %d is not a multiple of 4", blockName(typ), n)
	case n > MaxBlockLen:
		return fmt.Sprintf("%s length %d exceeds the maximum of %d", blockName(typ), n, MaxBlockLen)
	}
	return ""
}

// blockName names a block type for messages.
func blockName(typ uint32) string {
	switch typ {
	case blockSHB:
		return "section header block"
	case blockIDB:
		return "interface description block"
	case blockPB:
		return "packet block"
	case blockSPB:
		return "simple packet block"
	case blockEPB:
		return "enhanced packet block"
	}
	return fmt.Sprintf("block of type 0x%08x", typ)
}

// isPacketBlock tells the block types that hold a packet.
func isPacketBlock(typ uint32) bool {
	return typ == blockEPB || typ == blockSPB || typ == blockPB
}

// section is one pcapng section: where it starts, its byte order, and where
// its interfaces are in the list of all interfaces.
type section struct {
	offset     int64 // offset of the Section Header Block
	be         bool  // big-endian section
	firstIface int   // index of its first interface in layout.ifaces
	nIfaces    int   // number of interfaces defined so far
}

// options iterates over the options of a block body. A malformed option
// list (an option running past the end of the block) ends the iteration,
// and sets bad: options only refine what we show, so a broken one is
// ignored rather than taken as damage, as Wireshark does for most of them.
// Only an interface's is noted (decodeIDB says why).
type options struct {
	b   []byte
	be  bool
	bad bool // an option ran past the end of the block
}

// next returns the next option, or ok=false at the end.
func (o *options) next() (code uint16, val []byte, ok bool) {
	if len(o.b) < 4 {
		return 0, nil, false
	}
	code = u16(o.b, o.be)
	n := int(u16(o.b[2:], o.be))
	if code == optEndOfOpt || 4+n > len(o.b) {
		o.bad = code != optEndOfOpt
		o.b = nil
		return 0, nil, false
	}
	val = o.b[4 : 4+n]
	o.b = o.b[min(len(o.b), 4+(n+3)&^3):]
	return code, val, true
}

// decodeIDB decodes the body of an Interface Description Block (without
// the block header and trailer). bad reports a malformed option list: the
// options from the broken one on are lost, and among them may be the
// interface's if_tsresol or if_tsoffset, without which every time stamp
// of the interface is wrong (read as microseconds, or off by the offset).
func decodeIDB(body []byte, be bool) (ifc Interface, bad bool) {
	ifc = Interface{
		LinkType: layers.LinkType(u16(body, be)),
		SnapLen:  u32(body[4:], be),
		TsResol:  defaultTsResol,
		FCSLen:   -1,
	}
	opts := options{b: body[8:], be: be}
	for {
		code, val, ok := opts.next()
		if !ok {
			return ifc, opts.bad
		}
		switch code {
		case optIfName:
			ifc.Name = optString(val)
		case optIfDesc:
			ifc.Description = optString(val)
		case optIfFilter:
			// The first byte says what kind of filter follows; 0 is
			// a libpcap filter string.
			if len(val) > 1 && val[0] == 0 {
				ifc.Filter = optString(val[1:])
			}
		case optIfOS:
			ifc.OS = optString(val)
		case optComment:
			if len(ifc.Comments) < maxIfComments {
				ifc.Comments = append(ifc.Comments, optString(val))
			}
		case optIfTsresol:
			if len(val) == 1 {
				ifc.TsResol = val[0]
			}
		case optIfTsoffset:
			if len(val) == 8 {
				ifc.TsOffset = int64(u64(val, be))
			}
		case optIfFcslen:
			if len(val) == 1 {
				ifc.FCSLen = int(val[0])
			}
		}
	}
}

// optString turns an option value into a string, dropping any trailing NUL
// bytes some writers add and cutting absurdly long values.
func optString(b []byte) string {
	for len(b) > 0 && b[len(b)-1] == 0 {
		b = b[:len(b)-1]
	}
	if len(b) > maxOptionString {
		b = b[:maxOptionString]
	}
	return string(b)
}

// decodePacketBlock decodes the body (without block header and trailer) of
// an EPB, SPB or PB into rec: everything but Frame and Offset. ifaces are
// the interfaces of the block's section. It returns a non-empty reason when
// the block cannot be right. rec.Data points into body.
func decodePacketBlock(typ uint32, body []byte, be bool, ifaces []Interface, rec *Record) string {
	var (
		id              uint32
		ticks           uint64
		caplen, origlen uint32
		data            []byte
		opts            []byte
	)
	switch typ {
	case blockEPB, blockPB:
		if typ == blockEPB {
			id = u32(body, be)
		} else {
			id = uint32(u16(body, be)) // then a 16-bit drops count
		}
		ticks = uint64(u32(body[4:], be))<<32 | uint64(u32(body[8:], be))
		caplen = u32(body[12:], be)
		origlen = u32(body[16:], be)
		if caplen > MaxCapLen {
			return fmt.Sprintf("%s claims %d captured bytes, more than the maximum of %d", blockName(typ), caplen, MaxCapLen)
		}
		if int(caplen) > len(body)-20 {
			return fmt.Sprintf("%s claims %d captured bytes but holds only %d", blockName(typ), caplen, len(body)-20)
		}
		data = body[20 : 20+caplen]
		opts = body[min(len(body), 20+int((caplen+3)&^3)):]
	case blockSPB:
		// The Simple Packet Block has no captured length: it is the
		// original length cut to the snapshot length of interface 0,
		// and no more than the block holds. It has no time stamp
		// either: Timestamp is 0.
		origlen = u32(body, be)
		caplen = origlen
		if len(ifaces) > 0 && ifaces[0].SnapLen != 0 {
			caplen = min(caplen, ifaces[0].SnapLen)
		}
		caplen = min(caplen, uint32(len(body)-4))
		if caplen > MaxCapLen {
			return fmt.Sprintf("%s holds %d captured bytes, more than the maximum of %d", blockName(typ), caplen, MaxCapLen)
		}
		data = body[4 : 4+caplen]
	default:
		return blockName(typ) + " is not a packet block"
	}
	if uint64(id) >= uint64(len(ifaces)) {
		return fmt.Sprintf("%s names interface %d but the section defines %d", blockName(typ), id, len(ifaces))
	}
	ifc := &ifaces[id]
	rec.Timestamp = 0
	if typ != blockSPB {
		rec.Timestamp = ticksToNanos(ticks, ifc.TsResol) + ifc.TsOffset*1e9
	}
	rec.CapLen = caplen
	rec.OrigLen = max(origlen, caplen)
	rec.odd = 0
	if origlen < caplen && typ != blockSPB {
		rec.odd, rec.oddOrig = oddLen, origlen
	}
	rec.LinkType = ifc.LinkType
	rec.Interface = ifc.Index
	rec.Data = data
	rec.Direction = flagsDirection(opts, be)
	return ""
}

// flagsDirection returns the direction that a packet block's options give
// in their epb_flags (the last one, if several), DirUnknown without.
func flagsDirection(opts []byte, be bool) Direction {
	dir := DirUnknown
	o := options{b: opts, be: be}
	for {
		code, val, ok := o.next()
		if !ok {
			return dir
		}
		if code == optEpbFlags && len(val) == 4 {
			dir = directionFromFlags(u32(val, be))
		}
	}
}

// appendComments appends the opt_comment options among a packet block's
// options to dst, as they are (UTF-8, any length) but for the NUL bytes
// some writers end them with.
func appendComments(dst []string, opts []byte, be bool) []string {
	o := options{b: opts, be: be}
	for {
		code, val, ok := o.next()
		if !ok {
			return dst
		}
		if code == optComment {
			for len(val) > 0 && val[len(val)-1] == 0 {
				val = val[:len(val)-1]
			}
			dst = append(dst, string(val))
		}
	}
}

// pow10 holds the powers of ten that fit in a uint64.
var pow10 = [20]uint64{
	1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9,
	1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19,
}

// ticksToNanos converts a pcapng time stamp, counted in units given by the
// raw if_tsresol value resol, to nanoseconds. Absurd resolutions (finer
// than 10^-19 or 2^-127 s) give 0 rather than an error; values that do not
// fit in an int64 wrap around.
func ticksToNanos(ticks uint64, resol uint8) int64 {
	if resol&0x80 == 0 {
		n := int(resol)
		switch {
		case n <= 9:
			return int64(ticks * pow10[9-n])
		case n-9 < len(pow10):
			return int64(ticks / pow10[n-9])
		}
		return 0
	}
	// Units of 2^-n seconds: whole seconds, then the fraction scaled with
	// a 128-bit product so that nothing overflows.
	n := uint(resol & 0x7f)
	if n == 0 {
		return int64(ticks * 1e9)
	}
	secs := ticks >> n // 0 when n >= 64
	frac := ticks
	if n < 64 {
		frac &= 1<<n - 1
	}
	hi, lo := bits.Mul64(frac, 1e9)
	var fracNs uint64
	if n < 64 {
		fracNs = lo>>n | hi<<(64-n)
	} else {
		fracNs = hi >> (n - 64)
	}
	return int64(secs*1e9 + fracNs)
}
