//go:build !amd64

package analysis

// wideSum is false: there is no vector kernel for this architecture, and
// internetChecksum adds eight bytes at a time.
const wideSum = false

const wideMin = 256

func sumWide(b []byte) uint64 { panic("analysis: sumWide without a vector kernel") }
