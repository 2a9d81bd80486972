package filter

import "testing"

// Hooks for the external test package (filter_test), whose tests need the
// analysis decoder, which imports this package.

// TcpdumpPath is tcpdumpPath for filter_test.
func TcpdumpPath(t *testing.T) string { return tcpdumpPath(t) }

// DiffExprs returns the expressions of the tcpdump differential test on
// Match, for reuse by the BPF differential test.
func DiffExprs() []string {
	var s []string
	for _, tc := range diffExprs {
		s = append(s, tc.expr)
	}
	return s
}

// UsesFrameLevel reports whether e uses vlan, less or greater, which
// CompileBPF refuses.
func UsesFrameLevel(e *Expr) bool { return frameLevel(e.root) != "" }

// AllTestExpressions returns every expression of the package's tests, accepted
// and refused: the fuzz seeds, the parser's tables and the differential
// test's.
func AllTestExpressions() []string {
	s := append([]string(nil), fuzzSeeds...)
	for _, tt := range parseTests {
		s = append(s, tt.in)
	}
	for _, tt := range parseErrorTests {
		s = append(s, tt.in)
	}
	return append(s, DiffExprs()...)
}

// MatchFieldsTable returns the Fields of the match tests.
func MatchFieldsTable() []Fields {
	var fs []Fields
	for _, mf := range matchFields {
		fs = append(fs, mf.f)
	}
	return fs
}

// BPFTestFrames returns the hand-built Ethernet frames of the BPF tests.
func BPFTestFrames(t testing.TB) [][]byte {
	var frames [][]byte
	for _, tp := range bpfPackets {
		frames = append(frames, tp.build(t))
	}
	return frames
}
