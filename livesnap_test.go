package main

import (
	"io"
	"reflect"
	"testing"
	"time"

	"github.com/synscope/synscope/analysis"
	"github.com/synscope/synscope/capture/fixture/synth"
)

// TestMergeSummaries reads a generated capture, with a SYN flood that makes
// the Analyzer evict flows, a few hundred packets at a time as the live
// view's polls would, and checks that the summaries kept up to date from
// Analyzer.Changed alone (mergeSummaries, what Snapshot does) equal the
// Analyzer's full Summaries after every poll.
func TestMergeSummaries(t *testing.T) {
	r, _, err := synth.Reader(synth.Config{Seed: 5, Conns: 300, Packets: 6000, Flood: 3000, FloodRate: 2e3, Duration: 2 * time.Second}, "t")
	if err != nil {
		t.Fatal(err)
	}
	an := analysis.NewAnalyzer(analysis.Config{Name: "t", MaxFlows: 500})
	var (
		sums, changed []analysis.FlowSummary
		gen           analysis.Gen
		polls, evict  int
	)
	poll := func() {
		var full bool
		changed, gen, full = an.Changed(changed[:0], gen)
		for _, c := range changed {
			if c.Evicted {
				evict++
			}
		}
		if full {
			sums = append([]analysis.FlowSummary(nil), changed...)
		} else {
			sums = mergeSummaries(sums, changed)
		}
		want := an.Summaries(nil)
		if !reflect.DeepEqual(sums, want) {
			t.Fatalf("poll %d: %d summaries merged, %d from Summaries", polls, len(sums), len(want))
		}
		polls++
	}
	for n := 1; ; n++ {
		rec, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		an.Add(rec)
		if n%337 == 0 {
			poll()
		}
	}
	poll()
	if evict == 0 || len(sums) > 500 {
		t.Errorf("%d evictions seen, %d flows at the end: the test should evict, and keep at most 500", evict, len(sums))
	}
	t.Logf("%d polls, %d evictions seen, %d flows at the end", polls, evict, len(sums))
}
