package analysis

import (
	"bytes"
	"context"
	"math"
	"net/netip"
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

// TestEvictOldestFragmentTies: past maxPendingDatagrams the datagram begun
// first is forgotten. When every datagram began at one time (a capture
// whose times are clamped to the end of what an int64 of nanoseconds
// holds), the earliest frame is: the map's order, which varies from run
// to run, chose before, and one capture gave other flows and notes each
// time it was read.
func TestEvictOldestFragmentTies(t *testing.T) {
	for _, ts := range []int64{0, math.MaxInt64} {
		for run := range 20 {
			r := newReassembler()
			key := func(i int) fragKey {
				return fragKey{src: netip.AddrFrom4([4]byte{10, 0, 0, 1}), dst: netip.AddrFrom4([4]byte{10, 0, 0, 2}), id: uint32(i), proto: 6}
			}
			// Frames in an order of their own, not that of the keys.
			for i := range maxPendingDatagrams {
				frame := uint64(1000 + (i*37+run)%maxPendingDatagrams)
				if _, _, _, err := r.add(key(i), 0, true, make([]byte, 8), frame, 0, ts, false); err != nil {
					t.Fatal(err)
				}
			}
			var first fragKey
			for k, d := range r.pending {
				if d.frames[0] == 1000 {
					first = k
				}
			}
			r.add(key(maxPendingDatagrams), 0, true, make([]byte, 8), 5000, 0, ts, false)
			if _, ok := r.pending[first]; ok || len(r.pending) != maxPendingDatagrams {
				t.Fatalf("ts %d run %d: datagram of frame 1000 (id %d) kept, %d pending", ts, run, first.id, len(r.pending))
			}
			if r.lost != 1 || r.lostFirst != 1000 {
				t.Fatalf("ts %d run %d: lost %d, first %d; want 1, frame 1000", ts, run, r.lost, r.lostFirst)
			}
		}
	}
}
