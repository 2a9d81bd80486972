package analysis

import (
	"io"
	"testing"
	"time"

	"github.com/synscope/synscope/capture/fixture/synth"
)

// TestExportItemsAfterEviction: once MaxFlows has evicted flows, ids are no
// longer positions in Result.Flows; exporting any kept flow, while reading
// and after Finish, gives exactly its own packets, and an evicted flow is
// an error that says so.
func TestExportItemsAfterEviction(t *testing.T) {
	r, _, err := synth.Reader(synth.Config{Seed: 9, Conns: 300, Packets: 6000, Flood: 3000, FloodRate: 2e3, Duration: 2 * time.Second}, "t")
	if err != nil {
		t.Fatal(err)
	}
	a := NewAnalyzer(Config{Name: "t", MaxFlows: 500})
	check := func(when string) {
		checked := 0
		for _, f := range a.res.Flows {
			if f == nil {
				continue
			}
			items, err := a.ExportItems([]int{f.ID})
			if err != nil {
				t.Fatalf("%s: flow %d: %v", when, f.ID, err)
			}
			if len(items) != len(f.Refs) {
				t.Fatalf("%s: flow %d: %d items for %d packets", when, f.ID, len(items), len(f.Refs))
			}
			for i := range items {
				if items[i].Frame != f.Refs[i].Frame {
					t.Fatalf("%s: flow %d: item %d is frame %d, want %d", when, f.ID, i, items[i].Frame, f.Refs[i].Frame)
				}
			}
			checked++
		}
		if checked == 0 {
			t.Fatalf("%s: no flow to export", when)
		}
	}
	for n := 1; ; n++ {
		rec, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		a.Add(rec)
		if n%1500 == 0 {
			check("while reading")
		}
	}
	res := a.Finish()
	check("after Finish")
	if res.Evicted == 0 {
		t.Fatal("nothing was evicted: the test needs evictions")
	}
	if _, err := res.ExportItems([]int{res.Flows[0].ID - 1}); err == nil && res.Flows[0].ID > 1 {
		t.Error("exporting an evicted flow gave no error")
	}
}
