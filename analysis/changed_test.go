package analysis

import (
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/synscope/synscope/capture/fixture/synth"
)

// TestChangedReturnsTouchedFlows reads a generated capture a few hundred
// packets at a time, as a loading ui would between two ticks, and checks
// each Changed against the full Summaries: it returns exactly the flows
// whose summary changed or that are new (and may return a flow whose
// packet changed nothing the summary shows), in id order, and those
// summaries are current. Flows evicted since the last call come back with
// Evicted set.
func TestChangedReturnsTouchedFlows(t *testing.T) {
	r, _, err := synth.Reader(synth.Config{Seed: 4, Conns: 1500, Anomalies: 0.2, Flood: 3000, FloodRate: 2e3}, "synth")
	if err != nil {
		t.Fatal(err)
	}
	a := NewAnalyzer(Config{Name: "synth", MaxFlows: 1200})
	// The first call gives every flow: none yet.
	got, gen, full := a.Changed(nil, 0)
	if len(got) != 0 || !full {
		t.Fatalf("%d summaries before any packet, full %v", len(got), full)
	}
	view := map[int]FlowSummary{} // what a ui would show
	var all []FlowSummary
	calls, partial, evicted := 0, 0, 0
	for done := false; !done; {
		for range 300 {
			rec, err := r.Next()
			if err != nil {
				done = true
				break
			}
			a.Add(rec)
		}
		got, gen, full = a.Changed(got[:0], gen)
		calls++
		if full {
			t.Fatalf("call %d: every flow given, with %d changes between calls", calls, 300)
		}
		if !slices.IsSortedFunc(got, func(x, y FlowSummary) int { return x.ID - y.ID }) {
			t.Fatalf("call %d: summaries not in id order", calls)
		}
		for _, s := range got {
			if s.Evicted {
				if _, ok := view[s.ID]; !ok && s.ID <= 0 {
					t.Fatalf("call %d: eviction of unknown flow %d", calls, s.ID)
				}
				delete(view, s.ID)
				evicted++
				continue
			}
			view[s.ID] = s
		}
		partial += len(got)
		// The view must now be what Summaries says.
		all = a.Summaries(all[:0])
		if len(all) != len(view) {
			t.Fatalf("call %d: the view has %d flows, Summaries %d", calls, len(view), len(all))
		}
		for _, s := range all {
			if v, ok := view[s.ID]; !ok || !reflect.DeepEqual(v, s) {
				t.Fatalf("call %d: flow %d in the view is %+v, want %+v", calls, s.ID, v, s)
			}
		}
	}
	if evicted == 0 || a.Progress().Evicted == 0 {
		t.Fatal("no eviction seen: the test does not test it")
	}
	// A gen that is not the last one returned asks for everything.
	got, gen, full = a.Changed(got[:0], gen-1)
	if len(got) != len(a.Summaries(nil)) || !full {
		t.Fatalf("a stale gen gave %d summaries, want all %d", len(got), len(all))
	}
	// After Finish, whose verdicts touch no flow, the next call gives
	// every flow with its final summary.
	res := a.Finish()
	got, _, full = a.Changed(got[:0], gen)
	if !full || len(got) != len(res.Flows) {
		t.Fatalf("after Finish: %d summaries (full %v), want all %d", len(got), full, len(res.Flows))
	}
	for i, f := range res.Flows {
		if !reflect.DeepEqual(got[i], f.Summary()) {
			t.Fatalf("after Finish: flow %d is %+v, want its final %+v", f.ID, got[i], f.Summary())
		}
	}
	t.Logf("%d calls returned %d summaries in all (%d evictions); Summaries each time would have copied %d", calls, partial, evicted, calls*len(all))
}

// TestChangedBounded: a reader that calls Changed late, here never during a
// flood of 50,000 connections through MaxFlows 1000, does not make the
// Analyzer's notes grow with the flood: past trackMax it stops noting, and
// the next call gives every flow.
func TestChangedBounded(t *testing.T) {
	r, _, err := synth.Reader(synth.Config{Seed: 4, Conns: 10, Anomalies: -1, Flood: 50_000, FloodRate: 1e5, Duration: time.Second}, "flood")
	if err != nil {
		t.Fatal(err)
	}
	a := NewAnalyzer(Config{Name: "flood", MaxFlows: 1000})
	_, gen, _ := a.Changed(nil, 0)
	most := 0
	for {
		rec, err := r.Next()
		if err != nil {
			break
		}
		a.Add(rec)
		most = max(most, len(a.dirty)+len(a.gone))
	}
	if most > a.trackMax()+1 {
		t.Errorf("%d notes held at most, bound %d", most, a.trackMax())
	}
	got, _, full := a.Changed(nil, gen)
	if !full || len(got) != len(a.Summaries(nil)) {
		t.Errorf("after the notes overflowed: %d summaries, full %v; want every flow (%d)", len(got), full, len(a.Summaries(nil)))
	}
	t.Logf("at most %d notes (bound %d) for %d flows evicted", most, a.trackMax(), a.res.Evicted)
}
