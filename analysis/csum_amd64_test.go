package analysis

import "testing"

// TestChecksumScalar holds the eight-bytes-at-a-time loop to the
// reference too, which on a processor with AVX2 runs only on the short
// ends of long segments.
func TestChecksumScalar(t *testing.T) {
	if !wideSum {
		t.Skip("no AVX2: TestChecksumMatchesReference already ran the scalar loop")
	}
	wideSum = false
	defer func() { wideSum = true }()
	checkChecksumReference(t)
}

// BenchmarkChecksumScalar is BenchmarkChecksum without the vector kernel.
func BenchmarkChecksumScalar(b *testing.B) {
	if !wideSum {
		b.Skip("no AVX2")
	}
	wideSum = false
	defer func() { wideSum = true }()
	BenchmarkChecksum(b)
}
