package analysis

import (
	"testing"

	"github.com/synscope/synscope/capture"
)

// TestFlowCopyWhileReading: a copy of a flow taken part way through a
// capture keeps what it had, with the status the flow would have if the
// capture ended there, while the Analyzer goes on; ExportItems lists the
// packets read so far.
func TestFlowCopyWhileReading(t *testing.T) {
	r, err := capture.Open("../testdata/seed-client.pcap")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	a := NewAnalyzer(Config{Name: "seed-client.pcap"})
	for range 3 {
		rec, err := r.Next()
		if err != nil {
			t.Fatal(err)
		}
		a.Add(rec)
	}
	if _, ok := a.FlowCopy(2); ok {
		t.Error("a copy of flow 2, which does not exist")
	}
	f, ok := a.FlowCopy(1)
	if !ok {
		t.Fatal("no flow 1")
	}
	items, err := a.ExportItems([]int{1})
	if err != nil || len(items) != 3 {
		t.Fatalf("export items so far: %d, %v", len(items), err)
	}
	for {
		rec, err := r.Next()
		if err != nil {
			break
		}
		a.Add(rec)
	}
	res := a.Finish()
	if len(f.Refs) != 3 || f.Packets != 3 || len(res.Flows[0].Refs) != 12 {
		t.Errorf("copy has %d refs (%d packets), the flow %d", len(f.Refs), f.Packets, len(res.Flows[0].Refs))
	}
	if f.Status != StatusInvalid || f.Handshake.Status != HSInvalid {
		t.Errorf("copy status %s, handshake %s; want invalid, invalid", f.Status, f.Handshake.Status)
	}
	if !f.Has(CodeAckMismatch) {
		t.Error("the copy lacks the wrong ACK of frame 3")
	}
	if items, _ := a.ExportItems([]int{1}); len(items) != 12 {
		t.Errorf("%d export items after Finish", len(items))
	}
}
