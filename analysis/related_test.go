package analysis

import (
	"math"
	"strings"
	"testing"
)

// TestZeroWindowProbeNamesTheClosingFrame: a zero window probe names the
// frame at which the other side's window closed, through the answers that
// keep it closed, and a window closed anew is named anew. The flow keeps
// one closing frame for both sides: when the prober's own window closed
// since, the probe names none rather than a wrong one.
func TestZeroWindowProbeNamesTheClosingFrame(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		probe      uint64 // the probe's frame
		related    uint64
	}{
		{"still closed", ruleHandshake + `
+0.01 C>S PA len=100             # 4: 1001-1101
+0.01 S>C A  win=0               # 5: closed
+0.3  C>S A  len=1               # 6: probe
+0.01 S>C A  win=0 ack=1101      # 7: still closed
+0.6  C>S A  len=1 seq=1101      # 8: probe again`, 8, 5},
		{"closed again", ruleHandshake + `
+0.01 C>S PA len=100             # 4: 1001-1101
+0.01 S>C A  win=0               # 5: closed
+0.3  S>C A  win=100             # 6: open
+0.01 C>S PA len=100             # 7: 1101-1201
+0.01 S>C A  win=0               # 8: closed again
+0.3  C>S A  len=1               # 9: probe`, 9, 8},
		{"both sides closed", ruleHandshake + `
+0.01 C>S PA len=100             # 4: 1001-1101
+0.01 S>C A  win=0               # 5: the server's window closed
+0.01 C>S A  win=0               # 6: the client's too
+0.3  C>S A  len=1 win=0         # 7: probe`, 7, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := analyzeDescription(t, tc.name, tc.text).res
			var probe *Finding
			f := res.Flows[0]
			for i, fi := range f.Findings {
				if fi.Code == CodeZeroWindowProbe && fi.Frame == tc.probe {
					probe = &f.Findings[i]
				}
			}
			if probe == nil {
				t.Fatalf("no zero window probe at frame %d:%s", tc.probe, summary(res))
			}
			if probe.RelatedFrame != tc.related {
				t.Errorf("the probe names frame %d, want %d", probe.RelatedFrame, tc.related)
			}
			msg := f.Message(*probe)
			if names := strings.Contains(msg, "since frame"); names != (tc.related != 0) {
				t.Errorf("message %q, related frame %d", msg, tc.related)
			}
		})
	}
}

// TestFrameRef: a flow keeps the frames its findings name in 32 bits, as
// distances from its first frame; one too far to keep is none, never
// another frame.
func TestFrameRef(t *testing.T) {
	f := &Flow{FirstFrame: 10}
	for _, tc := range []struct {
		frame uint64
		ref   uint32
	}{
		{10, 1}, {11, 2}, {9, 0}, {0, 0},
		{10 + math.MaxUint32 - 1, math.MaxUint32},
		{10 + math.MaxUint32, 0}, {math.MaxUint64, 0},
	} {
		r := f.frameRef(tc.frame)
		if r != tc.ref {
			t.Errorf("frameRef(%d) = %d, want %d", tc.frame, r, tc.ref)
		}
		if r != 0 && f.frameAt(r) != tc.frame {
			t.Errorf("frameAt(frameRef(%d)) = %d", tc.frame, f.frameAt(r))
		}
	}
	if f.frameAt(0) != 0 {
		t.Errorf("frameAt(0) = %d, want 0 (none)", f.frameAt(0))
	}
	// The closing frame keeps its side in the top bit: a frame past 2^31
	// of the first is none.
	f.setZeroWindow(10+1<<31, FromServer)
	if got := f.zeroWindowOf(FromServer); got != 0 {
		t.Errorf("zero window at frame 2^31 after the first: %d, want 0 (none)", got)
	}
	f.setZeroWindow(12, FromServer)
	if got, other := f.zeroWindowOf(FromServer), f.zeroWindowOf(FromClient); got != 12 || other != 0 {
		t.Errorf("zero window of the server %d (want 12), of the client %d (want 0)", got, other)
	}
}
