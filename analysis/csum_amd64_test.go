package analysis

import "testing"

// scalarSum turns the vector kernel off until the test ends, and skips
// the test where there is none to turn off.
func scalarSum(tb testing.TB) {
	tb.Helper()
	if !wideSum {
		tb.Skip("no AVX2: the scalar loop is the only one")
	}
	wideSum = false
	tb.Cleanup(func() { wideSum = true })
}

// TestChecksumScalar holds the eight-bytes-at-a-time loop to the
// reference too, which on a processor with AVX2 runs only on the short
// ends of long segments.
func TestChecksumScalar(t *testing.T) {
	scalarSum(t)
	checkChecksumReference(t)
}

// BenchmarkChecksumScalar is BenchmarkChecksum without the vector kernel.
func BenchmarkChecksumScalar(b *testing.B) {
	scalarSum(b)
	BenchmarkChecksum(b)
}
