package analysis

import "golang.org/x/sys/cpu"

// sumDwordsAVX2 returns the sum of b's little-endian 32-bit words. len(b)
// must be a multiple of 8.
//
//go:noescape
func sumDwordsAVX2(b []byte) uint64

// wideSum is true where sumWide may be called: the processor has AVX2.
var wideSum = cpu.X86.HasAVX2

// wideMin is the shortest run of bytes worth handing to sumWide: below it,
// the scalar loop is as fast. Since the kernel takes 32 and 8 bytes a step
// after its 128-byte blocks, 64, though it hardly matters: outside the
// runtime, 2,167.7 instructions a packet with 256, 2,166.9 with 64 and
// 2,167.7 with 24 on the first 150k packets of the benchmark file, and
// 2,474.7, 2,473.1 and 2,477.1 on small frames (cachegrind, one core).
const wideMin = 64

// sumWide returns the sum of b's little-endian 32-bit words, for
// len(b) a multiple of 8.
func sumWide(b []byte) uint64 { return sumDwordsAVX2(b) }
