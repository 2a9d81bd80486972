package analysis

import (
	"encoding/binary"
	"math/bits"
	"slices"
)

// This file writes numbers and times in decimal with appends only, for the
// JSON records and the finding messages: the bytes strconv and the time
// package write, in less time.

// appendUint appends u in decimal, as strconv.AppendUint(b, u, 10) does.
// The digits are worked out eight at a time in one word (digits8) and
// stored eight bytes at once: it may write up to 24 bytes of b's spare
// capacity past the digits, as an append that grew b would. A loop of
// two digits at a time, dividing by 100, took 2,000 instructions a record
// on the benchmark file (about 90 a number, 44% of the record); this
// takes 1,050 (65 to 95 a number).
func appendUint(b []byte, u uint64) []byte {
	if u < 10 {
		return append(b, byte('0'+u))
	}
	if cap(b)-len(b) < 24 {
		b = slices.Grow(b, 24)
	}
	n := len(b)
	if u < 100 {
		b = b[:n+2]
		put2(b[n:], uint32(u))
		return b
	}
	if u < 1e4 {
		// Half of digits8's work, for an MSS, a count of packets, ….
		hi := uint32(u) / 100
		x := hi | (uint32(u)-hi*100)<<16
		q := x * 103 >> 10 & 0x000f_000f
		x = q | (x-q*10)<<8
		lead := bits.TrailingZeros32(x) & 24
		binary.LittleEndian.PutUint32(b[n:n+4], x>>lead|0x30303030)
		return b[:n+4-lead>>3]
	}
	if u < 1e8 {
		z := digits8(uint32(u))
		lead := bits.TrailingZeros64(z) & 56 // the leading zeros' bits
		binary.LittleEndian.PutUint64(b[n:n+8], z>>lead|ascii0s)
		return b[:n+8-lead>>3]
	}
	hi, lo := u/1e8, u%1e8 // the digits before the last eight, then those
	if hi < 100 {
		// As a uint32 (a sequence number) has.
		if hi < 10 {
			b = b[:n+1]
			b[n] = byte('0' + hi)
		} else {
			b = b[:n+2]
			put2(b[n:], uint32(hi))
		}
		n = len(b)
	} else {
		var mid uint64
		if hi >= 1e8 {
			hi, mid = hi/1e8, hi%1e8
		}
		z := digits8(uint32(hi))
		lead := bits.TrailingZeros64(z) & 56
		binary.LittleEndian.PutUint64(b[n:n+8], z>>lead|ascii0s)
		n += 8 - lead>>3
		if u >= 1e16 {
			binary.LittleEndian.PutUint64(b[n:n+8], digits8(uint32(mid))|ascii0s)
			n += 8
		}
	}
	binary.LittleEndian.PutUint64(b[n:n+8], digits8(uint32(lo))|ascii0s)
	return b[:n+8]
}

// ascii0s turns the digits of digits8, 0 to 9 a byte, into text.
const ascii0s = 0x3030303030303030

// digits8 returns the eight decimal digits of v < 1e8, leading zeros and
// all, one a byte, the first in the lowest: in the order in which
// binary.LittleEndian stores them. v is split into two halves of four
// digits, each 32 bits of one word, each of those into two halves of two
// digits (16 bits), and each of those into its two digits (8 bits), every
// lane by the same multiply and shift: x*10486>>20 is x/100 for x < 43,699
// and x*103>>10 is x/10 for x < 179, and no lane's product reaches the
// bits its quotient is taken from in the next (TestDigits8 on every
// half's values).
func digits8(v uint32) uint64 {
	hi := v / 1e4
	x := uint64(hi) | uint64(v-hi*1e4)<<32
	q := x * 10486 >> 20 & 0x0000007f_0000007f
	x = q | (x-q*100)<<16
	q = x * 103 >> 10 & 0x000f_000f_000f_000f
	return q | (x-q*10)<<8
}

// appendInt appends v in decimal, as strconv.AppendInt(b, v, 10) does.
func appendInt(b []byte, v int64) []byte {
	u := uint64(v)
	if v < 0 {
		b, u = append(b, '-'), -u
	}
	return appendUint(b, u)
}

// dateText keeps the text of the last date appendTime wrote,
// "2006-01-02T", so that the records of a capture, whose flows mostly
// start on one day, work out the calendar once a day: 120 instructions a
// record on the benchmark file.
type dateText struct {
	day  uint64   // days since 1600-03-01, plus one (0: none yet)
	text [16]byte // the date, 'T' and five bytes that do not matter
}

// appendTime appends the Unix time ns (nanoseconds) as
// time.Unix(0, ns).UTC().AppendFormat(b, time.RFC3339Nano) does: the
// fraction of a second without its trailing zeros, none when it is zero.
// An int64 of nanoseconds spans the years 1677 to 2262: always four digits.
// d is the date of the last time written, and becomes this one's.
func (d *dateText) appendTime(b []byte, ns int64) []byte {
	sec, frac := ns/1e9, ns%1e9
	if frac < 0 {
		sec, frac = sec-1, frac+1e9
	}
	// Seconds since 1600-03-01, the start of an era of 400 years (146097
	// days) that begins just after a leap day: positive for every int64
	// ns, so the rest is unsigned.
	const epoch = 135080 * 86400 // 1600-03-01 to 1970-01-01
	u := uint64(sec + epoch)
	days, clock := u/86400, uint32(u%86400)
	if days+1 != d.day {
		d.set(days)
	}
	// Written in b's spare capacity: copying from an array on the stack
	// cost a call to memmove.
	if cap(b)-len(b) < 32 {
		b = slices.Grow(b, 32)
	}
	l := len(b)
	t := b[l : l+32] // 2006-01-02T15:04:05.999999999Z
	*(*[16]byte)(t[:16]) = d.text
	hour, minute := clock/3600, clock/60%60
	put2(t[11:], hour)
	t[13] = ':'
	put2(t[14:], minute)
	t[16] = ':'
	put2(t[17:], clock-hour*3600-minute*60)
	n := 19
	if frac != 0 {
		// The first digit, then the other eight at once: the trailing
		// zeros are the top bytes of digits8 that are zero.
		t[19] = '.'
		t[20] = byte('0' + frac/1e8)
		z := digits8(uint32(frac % 1e8))
		binary.LittleEndian.PutUint64(t[21:], z|ascii0s)
		n = 29 - bits.LeadingZeros64(z)>>3
	}
	t[n] = 'Z'
	return b[:l+n+1]
}

// set makes d the date of the day days after 1600-03-01.
func (d *dateText) set(days uint64) {
	// Howard Hinnant's civil_from_days, from March 1 of year 1600.
	era := days / 146097
	doe := days - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	day := doy - (153*mp+2)/5 + 1
	year, month := 1600+era*400+yoe, mp+3
	if month > 12 {
		year, month = year+1, month-12
	}
	t := d.text[:]
	put2(t[0:], uint32(year/100))
	put2(t[2:], uint32(year%100))
	t[4] = '-'
	put2(t[5:], uint32(month))
	t[7] = '-'
	put2(t[8:], uint32(day))
	t[10] = 'T'
	d.day = days + 1
}

// put2 writes v, under 100, as two decimal digits.
func put2(t []byte, v uint32) {
	binary.LittleEndian.PutUint16(t, digitPairs[v])
}

// digitPairs holds "00" to "99", each two digits as binary.LittleEndian
// stores them: one load where two bytes of a string took 17 instructions
// with their bounds checks.
var digitPairs = func() (t [100]uint16) {
	for i := range t {
		t[i] = uint16('0'+i/10) | uint16('0'+i%10)<<8
	}
	return t
}()
