package analysis

import (
	"math/bits"
	"slices"
)

// This file writes numbers and times in decimal with appends only, for the
// JSON records and the finding messages: the bytes strconv and the time
// package write, in less time.

// appendUint appends u in decimal, as strconv.AppendUint(b, u, 10) does,
// but writes the digits in place instead of copying them from a buffer.
func appendUint(b []byte, u uint64) []byte {
	if u < 10 {
		return append(b, byte('0'+u))
	}
	// The digits: log10 from the bit length, then one comparison.
	t := bits.Len64(u) * 1233 >> 12
	n := t + 1
	if u < pow10[t] {
		n = t
	}
	if cap(b)-len(b) < n {
		b = slices.Grow(b, n)
	}
	d := b[len(b) : len(b)+n]
	i := n
	for u >= 100 {
		q := u / 100
		r := u - q*100
		i -= 2
		d[i], d[i+1] = digitPairs[2*r], digitPairs[2*r+1]
		u = q
	}
	if u >= 10 {
		d[0], d[1] = digitPairs[2*u], digitPairs[2*u+1]
	} else {
		d[0] = byte('0' + u)
	}
	return b[:len(b)+n]
}

// appendInt appends v in decimal, as strconv.AppendInt(b, v, 10) does.
func appendInt(b []byte, v int64) []byte {
	if v < 0 {
		return appendUint(append(b, '-'), -uint64(v))
	}
	return appendUint(b, uint64(v))
}

// pow10 holds the powers of ten that fit in a uint64.
var pow10 = [20]uint64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19}

// appendTimeUTC appends the Unix time ns (nanoseconds) as
// time.Unix(0, ns).UTC().AppendFormat(b, time.RFC3339Nano) does: the
// fraction of a second without its trailing zeros, none when it is zero.
// An int64 of nanoseconds spans the years 1677 to 2262: always four digits.
func appendTimeUTC(b []byte, ns int64) []byte {
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
	var t [30]byte // 2006-01-02T15:04:05.999999999Z
	put2(t[0:], uint32(year/100))
	put2(t[2:], uint32(year%100))
	t[4] = '-'
	put2(t[5:], uint32(month))
	t[7] = '-'
	put2(t[8:], uint32(day))
	t[10] = 'T'
	put2(t[11:], clock/3600)
	t[13] = ':'
	put2(t[14:], clock/60%60)
	t[16] = ':'
	put2(t[17:], clock%60)
	n := 19
	if frac != 0 {
		frac := uint32(frac)
		t[19] = '.'
		t[20] = byte('0' + frac/1e8)
		put2(t[21:], frac/1e6%100)
		put2(t[23:], frac/1e4%100)
		put2(t[25:], frac/100%100)
		put2(t[27:], frac%100)
		n = 29
		for t[n-1] == '0' {
			n--
		}
	}
	t[n] = 'Z'
	return append(b, t[:n+1]...)
}

// put2 writes v, under 100, as two decimal digits.
func put2(t []byte, v uint32) {
	t[0], t[1] = digitPairs[2*v], digitPairs[2*v+1]
}

// digitPairs holds "00" to "99".
const digitPairs = "00010203040506070809101112131415161718192021222324252627282930313233343536373839404142434445464748495051525354555657585960616263646566676869707172737475767778798081828384858687888990919293949596979899"
