package analysis

import "golang.org/x/sys/cpu"

// checksumAVX2 is internetChecksum of b with acc as the initial sum taken
// little-endian (csum_amd64.s).
//
//go:noescape
func checksumAVX2(b []byte, acc uint64) uint16

// wideSum is true where checksumAVX2 may be called: the processor has AVX2.
var wideSum = cpu.X86.HasAVX2
