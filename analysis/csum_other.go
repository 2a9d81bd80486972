//go:build !amd64

package analysis

// wideSum is false: there is no vector kernel for this architecture, and
// internetChecksum adds eight bytes at a time.
const wideSum = false

func checksumAVX2(b []byte, acc uint64) uint16 {
	panic("analysis: checksumAVX2 without a vector kernel")
}
