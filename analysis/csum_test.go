package analysis

import (
	"math/rand/v2"
	"testing"
)

// refChecksum is RFC 1071's one's complement sum, 16 bits at a time in
// network order, folded into sum and complemented: what internetChecksum
// must give, however it adds.
func refChecksum(b []byte, sum uint32) uint16 {
	for len(b) >= 2 {
		sum += uint32(b[0])<<8 | uint32(b[1])
		b = b[2:]
	}
	if len(b) == 1 {
		sum += uint32(b[0]) << 8
	}
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	return ^uint16(sum)
}

// TestChecksumEveryLength holds internetChecksum to the reference on every
// length from 0 to 2,000 bytes at each of eight alignments, random bytes
// and all ones (a carry at every add): the vector kernel (where there is
// one) takes each whole 8 bytes in steps of 128, 32 and 8, and the scalar
// code the last 0-7, so every split between them is met.
func TestChecksumEveryLength(t *testing.T) {
	rnd := rand.New(rand.NewPCG(3, 4))
	buf := make([]byte, 2000+8)
	for _, ones := range []bool{false, true} {
		for i := range buf {
			buf[i] = byte(rnd.Uint32())
			if ones {
				buf[i] = 0xff
			}
		}
		for n := 0; n <= 2000; n++ {
			for off := range 8 {
				b := buf[off : off+n]
				for _, sum := range []uint32{0, 0x2fffd} {
					if got, want := internetChecksum(b, sum), refChecksum(b, sum); got != want {
						t.Fatalf("ones %v, length %d offset %d, sum %#x: %#04x, want %#04x", ones, n, off, sum, got, want)
					}
				}
			}
		}
	}
}

// TestChecksumKernel holds the vector kernel, where there is one, to the
// scalar code on every length to 2,000 at odd alignments (each of its
// loops and tails, alone and after the others) with initial sums up to
// the largest a uint32 holds, whose bytes the kernel takes swapped by a
// multiplication.
func TestChecksumKernel(t *testing.T) {
	if !wideSum {
		t.Skip("no vector kernel")
	}
	rnd := rand.New(rand.NewPCG(5, 6))
	buf := make([]byte, 2000+8)
	for i := range buf {
		buf[i] = byte(rnd.Uint32())
	}
	sums := []uint32{0, 1, 0xff, 0xff00, 0xffff, 0x10000, 0xfffeffff, 0xffffffff}
	for n := 0; n <= 2000; n++ {
		for off := range 8 {
			b := buf[off : off+n]
			for _, sum := range append(sums, rnd.Uint32()) {
				if got, want := checksumAVX2(b, uint64(sum)<<8), checksumScalar(b, sum); got != want {
					t.Fatalf("length %d offset %d, sum %#x: %#04x, want %#04x", n, off, sum, got, want)
				}
			}
		}
	}
}

// FuzzChecksum holds internetChecksum to the reference on any bytes, at
// any of eight alignments, with any initial sum.
func FuzzChecksum(f *testing.F) {
	f.Add([]byte{}, uint8(0), uint32(0))
	f.Add([]byte{0xff, 0xff, 0xff}, uint8(1), uint32(0xffff))
	f.Add(make([]byte, 300), uint8(3), uint32(0x1fffe))
	f.Fuzz(func(t *testing.T, data []byte, align uint8, sum uint32) {
		sum &= 0x7fffffff                   // below what an unfolded sum of headers can reach
		data = data[:min(len(data), 60000)] // refChecksum's uint32 holds the sum
		buf := make([]byte, len(data)+8)
		off := int(align % 8)
		b := buf[off : off+len(data)]
		copy(b, data)
		if got, want := internetChecksum(b, sum), refChecksum(b, sum); got != want {
			t.Fatalf("length %d offset %d, sum %#x: %#04x, want %#04x", len(b), off, sum, got, want)
		}
	})
}
