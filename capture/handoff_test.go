package capture_test

import (
	"bytes"
	"sync"
	"testing"
	"time"

	"github.com/synscope/synscope/capture"
)

func TestHandoffNeverBlocks(t *testing.T) {
	h := capture.NewHandoff(8)
	rec := &capture.Record{Data: make([]byte, 100)}
	// Nobody receives: the first 8 are queued, the rest dropped, and
	// Offer returns at once every time.
	start := time.Now()
	for i := 0; i < 1000; i++ {
		rec.Frame = uint64(i + 1)
		rec.Data[0] = byte(i)
		ok := h.Offer(rec)
		if ok != (i < 8) {
			t.Fatalf("offer %d: queued %v", i, ok)
		}
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("1000 offers took %v", d)
	}
	if h.Dropped() != 992 || h.Offered() != 1000 || h.Len() != 8 {
		t.Errorf("dropped %d, offered %d, queued %d", h.Dropped(), h.Offered(), h.Len())
	}
	// The queued ones are copies: changing rec did not change them.
	for i := 0; i < 8; i++ {
		r := <-h.C()
		if r.Frame != uint64(i+1) || r.Data[0] != byte(i) || len(r.Data) != 100 {
			t.Fatalf("queued packet %d: frame %d, first byte %d", i, r.Frame, r.Data[0])
		}
		h.Release(r)
	}
	h.Close()
	h.Close()
	if h.Offer(rec) {
		t.Error("Offer after Close queued")
	}
	if _, ok := <-h.C(); ok {
		t.Error("channel still open after Close")
	}
}

func TestHandoffConcurrent(t *testing.T) {
	h := capture.NewHandoff(64)
	var got [][]byte
	done := make(chan struct{})
	go func() {
		defer close(done)
		for r := range h.C() {
			got = append(got, bytes.Clone(r.Data))
			h.Release(r)
		}
	}()
	var wg sync.WaitGroup
	for p := 0; p < 4; p++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rec := &capture.Record{}
			for i := 0; i < 5000; i++ {
				rec.Data = append(rec.Data[:0], byte(p), byte(i), byte(i>>8))
				h.Offer(rec)
			}
		}()
	}
	wg.Wait()
	h.Close()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("consumer did not finish")
	}
	if uint64(len(got))+h.Dropped() != 20000 || h.Offered() != 20000 {
		t.Errorf("received %d + dropped %d, offered %d; want 20000", len(got), h.Dropped(), h.Offered())
	}
	t.Logf("received %d, dropped %d", len(got), h.Dropped())
}

// TestHandoffByteBound: however many packets the queue may hold, it holds
// no more than capture.HandoffMaxBytes of their data; what the consumer releases
// makes room again.
func TestHandoffByteBound(t *testing.T) {
	h := capture.NewHandoff(1 << 20)
	big := &capture.Record{Data: make([]byte, 1<<20)}
	n := 0
	for h.Offer(big) {
		n++
	}
	if n != capture.HandoffMaxBytes>>20 || h.Dropped() != 1 {
		t.Fatalf("%d 1 MB packets queued, %d dropped; want %d and 1", n, h.Dropped(), capture.HandoffMaxBytes>>20)
	}
	h.Release(<-h.C())
	if !h.Offer(big) {
		t.Error("a released packet made no room")
	}
	if h.Offer(big) {
		t.Error("the queue went past its byte bound")
	}
	h.Close()
	for r := range h.C() {
		h.Release(r)
	}
	if q := h.QueuedBytes(); q != 0 {
		t.Errorf("%d bytes counted as queued after everything was released", q)
	}
}

// TestHandoffReuse: a buffer that held a jumbo frame is not kept for
// reuse, so that small packets queued later do not each sit in 9 KB.
func TestHandoffReuse(t *testing.T) {
	h := capture.NewHandoff(4)
	h.Offer(&capture.Record{Data: make([]byte, 9000)})
	h.Release(<-h.C())
	h.Offer(&capture.Record{Data: make([]byte, 100)})
	r := <-h.C()
	if cap(r.Data) > 2<<10 {
		t.Errorf("a 100-byte packet sits in a %d-byte buffer", cap(r.Data))
	}
	if q := h.QueuedBytes(); q != int64(cap(r.Data)) {
		t.Errorf("%d bytes counted as queued for one %d-byte buffer", q, cap(r.Data))
	}
	h.Release(r)
}
