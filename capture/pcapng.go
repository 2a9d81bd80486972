package capture

import (
	"fmt"
	"math"
	"math/big"
	"math/bits"
	"time"

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
// an EPB, SPB or PB into rec, but for what its interface gives (Record's
// onInterface does that): it returns the interface ID the block names and
// the ticks of its time stamp, or a non-empty reason when the block cannot
// be right. rec.Data points into body.
func decodePacketBlock(typ uint32, body []byte, be bool, rec *Record) (id uint32, ticks uint64, reason string) {
	var (
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
			return 0, 0, fmt.Sprintf("%s claims %d captured bytes, more than the maximum of %d", blockName(typ), caplen, MaxCapLen)
		}
		if int(caplen) > len(body)-20 {
			return 0, 0, fmt.Sprintf("%s claims %d captured bytes but holds only %d", blockName(typ), caplen, len(body)-20)
		}
		data = body[20 : 20+caplen]
		opts = body[min(len(body), 20+int((caplen+3)&^3)):]
	case blockSPB:
		// The Simple Packet Block has no captured length: it is the
		// original length cut to the snapshot length of interface 0
		// (onInterface), and no more than the block holds. It has no
		// time stamp either: Timestamp is 0.
		origlen = u32(body, be)
		caplen = min(origlen, uint32(len(body)-4))
		data = body[4 : 4+caplen]
	default:
		return 0, 0, blockName(typ) + " is not a packet block"
	}
	rec.CapLen = caplen
	rec.OrigLen = max(origlen, caplen)
	rec.odd = 0
	if origlen < caplen && typ != blockSPB {
		rec.odd, rec.oddOrig = oddLen, origlen
	}
	rec.Data = data
	rec.Direction = flagsDirection(opts, be)
	return id, ticks, ""
}

// onInterface completes rec, decoded from a packet block of type typ whose
// time stamp is ticks (decodePacketBlock), with what its interface ifc
// gives: link type, index, time, and a Simple Packet Block's snapshot
// length. It returns a non-empty reason when the block cannot be right.
func (rec *Record) onInterface(typ uint32, ifc *Interface, ticks uint64) string {
	rec.LinkType = ifc.LinkType
	rec.Interface = ifc.Index
	if typ == blockSPB {
		rec.Timestamp = 0
		if ifc.SnapLen != 0 && rec.CapLen > ifc.SnapLen {
			rec.CapLen = ifc.SnapLen
			rec.Data = rec.Data[:ifc.SnapLen]
		}
		if rec.CapLen > MaxCapLen {
			return fmt.Sprintf("%s holds %d captured bytes, more than the maximum of %d", blockName(typ), rec.CapLen, MaxCapLen)
		}
		return ""
	}
	rec.stamp(ticks, ifc)
	return ""
}

// stamp sets rec's Timestamp from ticks of interface ifc, and notes
// (Record.odd) a time that does not fit.
func (rec *Record) stamp(ticks uint64, ifc *Interface) {
	if ns, ok := plainNanos(ticks, ifc); ok {
		rec.Timestamp = ns
		return
	}
	hi, lo := stampNanos(ticks, ifc.TsResol, ifc.TsOffset)
	ns, ok := fitNanos(hi, lo)
	rec.Timestamp = ns
	if !ok {
		rec.odd |= oddTime
		rec.oddStamp = [2]uint64{hi, lo}
	}
}

// plainNanos is ticks of interface ifc in nanoseconds, when its units are
// decimal, no finer than nanoseconds, without offset (as nearly every
// writer has), and the time is after 1970 and fits: stampNanos's first
// case, and fitNanos's, without the calls. ok is false otherwise. It is
// small enough to be inlined (stamp is not): epbFast calls it first, 22
// fewer instructions a packet on a pcapng of small frames than with stamp
// a call (cachegrind, -pgo=off).
func plainNanos(ticks uint64, ifc *Interface) (ns int64, ok bool) {
	if r := ifc.TsResol; r <= 9 && ifc.TsOffset == 0 {
		if hi, lo := bits.Mul64(ticks, pow10[9-r]); hi == 0 && lo <= math.MaxInt64 {
			return int64(lo), true
		}
	}
	return 0, false
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

// stampNanos returns the time of a pcapng time stamp, ticks counted in
// units given by the raw if_tsresol value resol, plus offset seconds (the
// interface's if_tsoffset), in Unix nanoseconds, exactly: a signed 128-bit
// hi:lo (the ticks are below 2^64 × 10^9 ns and the offset's magnitude
// below 2^63 × 10^9, so it cannot overflow). Absurd resolutions (finer
// than 10^-19 or 2^-127 s) give 0 ticks rather than an error.
func stampNanos(ticks uint64, resol uint8, offset int64) (hi, lo uint64) {
	if resol&0x80 == 0 {
		n := int(resol)
		switch {
		case n <= 9:
			hi, lo = bits.Mul64(ticks, pow10[9-n])
		case n-9 < len(pow10):
			lo = ticks / pow10[n-9]
		}
	} else if n := uint(resol & 0x7f); n == 0 {
		hi, lo = bits.Mul64(ticks, 1e9)
	} else {
		// Units of 2^-n seconds: whole seconds, then the fraction
		// scaled with a 128-bit product.
		secs := ticks >> n // 0 when n >= 64
		frac := ticks
		if n < 64 {
			frac &= 1<<n - 1
		}
		fh, fl := bits.Mul64(frac, 1e9)
		var fracNs uint64
		if n < 64 {
			fracNs = fl>>n | fh<<(64-n)
		} else {
			fracNs = fh >> (n - 64)
		}
		var c uint64
		hi, lo = bits.Mul64(secs, 1e9)
		lo, c = bits.Add64(lo, fracNs, 0)
		hi += c
	}
	if offset != 0 {
		mag := uint64(offset)
		if offset < 0 {
			mag = -mag
		}
		oh, ol := bits.Mul64(mag, 1e9)
		if offset < 0 {
			var b uint64
			ol, b = bits.Sub64(0, ol, 0)
			oh, _ = bits.Sub64(0, oh, b)
		}
		var c uint64
		lo, c = bits.Add64(lo, ol, 0)
		hi, _ = bits.Add64(hi, oh, c)
	}
	return hi, lo
}

// fitNanos returns the signed 128-bit time hi:lo (stampNanos) as an int64
// of Unix nanoseconds, which holds 1677-09-21 to 2262-04-11, and false
// when it does not fit: then the nearest it holds. A time that did not fit
// wrapped around: the year 3000 read as 1830, ticks near 2^64 as 1969,
// without a word. tshark shows them (it keeps seconds and nanoseconds
// apart); synscope's times are one int64 in every flow and packet, and
// these files are odd or damaged, so the time is pinned and noted
// (Reader.Notes) rather than carried wider everywhere.
func fitNanos(hi, lo uint64) (int64, bool) {
	switch {
	case hi == 0 && lo <= math.MaxInt64, hi == math.MaxUint64 && lo > math.MaxInt64:
		return int64(lo), true
	case int64(hi) < 0:
		return math.MinInt64, false
	}
	return math.MaxInt64, false
}

// ticksToNanos converts a pcapng time stamp, counted in units given by the
// raw if_tsresol value resol, to nanoseconds; past 2262 it gives the
// latest time an int64 holds (fitNanos).
func ticksToNanos(ticks uint64, resol uint8) int64 {
	ns, _ := fitNanos(stampNanos(ticks, resol, 0))
	return ns
}

// stampText says when the signed 128-bit time hi:lo (stampNanos) is, for a
// note: the UTC date and time to the second for the years 1 to 9999, the
// year (of 365.2425 days) beyond.
func stampText(hi, lo uint64) string {
	v := new(big.Int).SetUint64(hi)
	v.Lsh(v, 64).Or(v, new(big.Int).SetUint64(lo))
	if int64(hi) < 0 {
		v.Sub(v, new(big.Int).Lsh(big.NewInt(1), 128))
	}
	secs := new(big.Int).Div(v, big.NewInt(1e9))   // rounds towards -∞
	const first, last = -62135596800, 253402300799 // 0001-01-01, 9999-12-31 23:59:59
	if secs.IsInt64() && secs.Int64() >= first && secs.Int64() <= last {
		return time.Unix(secs.Int64(), 0).UTC().Format("2006-01-02 15:04:05 UTC")
	}
	year := secs.Div(secs, big.NewInt(31556952))
	return "the year " + year.Add(year, big.NewInt(1970)).String()
}
