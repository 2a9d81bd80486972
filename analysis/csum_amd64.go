package analysis

import "golang.org/x/sys/cpu"

// sumDwordsAVX2 returns the sum of b's little-endian 32-bit words. len(b)
// must be a multiple of 128.
//
//go:noescape
func sumDwordsAVX2(b []byte) uint64

// wideSum is true where sumWide may be called: the processor has AVX2.
var wideSum = cpu.X86.HasAVX2

// wideMin is the shortest run of bytes worth handing to sumWide: below it,
// the scalar loop is as fast.
const wideMin = 256

// sumWide returns the sum of b's little-endian 32-bit words, for
// len(b) a multiple of 128.
func sumWide(b []byte) uint64 { return sumDwordsAVX2(b) }
