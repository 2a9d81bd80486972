package analysis

import (
	"math/rand/v2"
	"testing"
	"unsafe"
)

// TestFindingCounts adds findings to a flow one at a time, past the point
// where the flow starts counting them by code and past the cap on stored
// findings, and checks Count, Counts, Has, the stored findings and the
// counts the JSON record reports against a plain recount at every step.
func TestFindingCounts(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := range 20 {
		var f Flow
		var want [numCodes]uint32
		// A few codes get most findings, so that some pass the cap.
		hot := []Code{Code(rng.IntN(int(numCodes))), Code(rng.IntN(int(numCodes)))}
		n := []int{3, 15, 16, 17, 40, 2500}[trial%6]
		for i := range n {
			c := Code(rng.IntN(int(numCodes)))
			if rng.IntN(4) > 0 {
				c = hot[rng.IntN(len(hot))]
			}
			f.addFinding(Finding{Code: c, Frame: uint64(i + 1)})
			want[c]++
			if i%7 == 0 || i == n-1 {
				checkCounts(t, &f, &want)
			}
		}
		// A copy for another goroutine has its own counts.
		g := f
		if f.notes != nil {
			notes := *f.notes
			g.notes = &notes
		}
		f.addFinding(Finding{Code: hot[0], Frame: uint64(n + 1)})
		checkCounts(t, &g, &want)
	}
}

func checkCounts(t *testing.T, f *Flow, want *[numCodes]uint32) {
	t.Helper()
	var stored [numCodes]int
	for _, fi := range f.Findings {
		stored[fi.Code]++
	}
	if got := f.Counts(); got != *want {
		t.Fatalf("after %d findings: Counts %v, want %v", len(f.Findings), got, *want)
	}
	over := f.overCounts()
	for c := range numCodes {
		if f.Count(c) != int(want[c]) || f.Has(c) != (want[c] > 0) {
			t.Fatalf("code %v: Count %d Has %v, want %d", c, f.Count(c), f.Has(c), want[c])
		}
		if stored[c] != min(int(want[c]), maxFindingsPerCode) {
			t.Fatalf("code %v: %d stored of %d, cap %d", c, stored[c], want[c], maxFindingsPerCode)
		}
		if want[c] > maxFindingsPerCode && over[c] != want[c] {
			t.Fatalf("code %v: %d past the cap reported as %d", c, want[c], over[c])
		}
		if over[c] > maxFindingsPerCode && over[c] != want[c] {
			t.Fatalf("code %v: reported past the cap as %d, want %d", c, over[c], want[c])
		}
	}
	if s := f.Summary(); s.Codes != codeSet(want) {
		t.Fatalf("Summary.Codes %#x, want %#x", s.Codes, codeSet(want))
	}
}

func codeSet(counts *[numCodes]uint32) uint64 {
	var s uint64
	for c, n := range counts {
		if n > 0 {
			s |= 1 << c
		}
	}
	return s
}

// TestFlowSize guards the memory a flow costs: every connection of a
// capture has a Flow, so a field added carelessly costs megabytes on a
// large capture (1M flows: 64 MB more for 64 bytes). Grow the limit only
// on purpose, and say what for in the commit.
func TestFlowSize(t *testing.T) {
	const limit = 608
	if n := unsafe.Sizeof(Flow{}); n > limit {
		t.Errorf("Flow is %d bytes, more than %d: keep rare fields in flowNotes, and mind the padding", n, limit)
	}
}
