package analysis

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

// TestDurationOutOfTimeOrder: a flow of a capture not in time order spans
// its earliest to its latest time, as tshark's conversation table does
// (of10_inv_OFPST_FLOW.pcap gave a duration of -1381533734.99 s, tshark
// 1381533734.99 s): the record's start is the earliest time, and its
// duration is never negative.
func TestDurationOutOfTimeOrder(t *testing.T) {
	for _, tc := range []struct {
		name, text  string
		t1          float64 // the time of frame 1 in the description
		start, end  float64 // seconds, in the description's times
		first, last uint64
	}{
		{"in order", ruleHandshake + `
+1 C>S FA
+1 S>C FA`, 0, 0, 2.02, 1, 5},
		// The SYN-ACK and third segment stamped 3 s before the SYN (a
		// clock stepped back), the FINs after.
		{"stepped back", `
10    C>S S  mss=1460
7     S>C SA mss=1460
7.01  C>S A
8     C>S FA
12    S>C FA`, 10, 7, 12, 1, 5},
		// The last frame is the earliest.
		{"last frame earliest", `
10    C>S S  mss=1460
10.01 S>C SA mss=1460
10.02 C>S A
1     C>S FA`, 10, 1, 10.02, 1, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := analyzeDescription(t, tc.name, tc.text).res
			if len(res.Flows) != 1 {
				t.Fatalf("%d flows, want 1", len(res.Flows))
			}
			f := res.Flows[0]
			base := f.Refs[0].Time - int64(tc.t1*1e9)
			if got := float64(f.Start-base) / 1e9; !nearSeconds(got, tc.start) {
				t.Errorf("Start %.6f s, want %.6f", got, tc.start)
			}
			if got := float64(f.End-base) / 1e9; !nearSeconds(got, tc.end) {
				t.Errorf("End %.6f s, want %.6f", got, tc.end)
			}
			if f.FirstFrame != tc.first || f.LastFrame != tc.last {
				t.Errorf("frames %d-%d, want %d-%d", f.FirstFrame, f.LastFrame, tc.first, tc.last)
			}
			var rec struct {
				Start    string  `json:"start"`
				Duration float64 `json:"duration_s"`
			}
			line := f.appendJSON(nil, jsonHead("c", nil))
			if err := json.NewDecoder(bytes.NewReader(line)).Decode(&rec); err != nil {
				t.Fatalf("%v: %s", err, line)
			}
			if !nearSeconds(rec.Duration, tc.end-tc.start) {
				t.Errorf("duration_s %v, want %v", rec.Duration, tc.end-tc.start)
			}
			if want := time.Unix(0, f.Start).UTC().Format(time.RFC3339Nano); rec.Start != want {
				t.Errorf("start %s, want %s (the earliest time)", rec.Start, want)
			}
		})
	}
}

// nearSeconds reports whether two times in seconds agree to the microsecond.
func nearSeconds(a, b float64) bool { return a-b < 1e-6 && b-a < 1e-6 }
