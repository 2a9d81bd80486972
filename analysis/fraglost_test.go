package analysis

import (
	"bytes"
	"context"
	"path/filepath"
	"slices"
	"testing"

	"github.com/synscope/synscope/capture"
)

// TestFragmentsNeverCompleted: the ClientHello of seed-client-frag in three
// IPv4 fragments, the middle one lost on the way (a device that drops
// fragments): the other two were in no flow, and nothing said so.
func TestFragmentsNeverCompleted(t *testing.T) {
	r, err := capture.Open(filepath.Join("..", "testdata", "seed-client-frag.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var out bytes.Buffer
	w, _ := capture.NewPcapWriter(&out, 1, 65535, false)
	for {
		rec, err := r.Next()
		if err != nil {
			break
		}
		if rec.Frame != 5 { // the middle fragment
			w.WritePacket(rec)
		}
	}
	w.Flush()
	lost, err := capture.NewReader(bytes.NewReader(out.Bytes()), "lost", int64(out.Len()))
	if err != nil {
		t.Fatal(err)
	}
	res, err := Run(context.Background(), lost, Config{Name: "lost"})
	if err != nil {
		t.Fatal(err)
	}
	want := "2 IP fragments (the first, frame 4) belong to datagrams never completed (the rest of each never came, or came after 1m0s): they are in no flow"
	if !slices.Contains(res.Notes, want) {
		t.Errorf("notes %q, want %q", res.Notes, want)
	}
	if whole, _ := analyzeFile(filepath.Join("..", "testdata", "seed-client-frag.pcap")); len(whole.Notes) != 0 {
		t.Errorf("all fragments there: notes %q", whole.Notes)
	}
}
