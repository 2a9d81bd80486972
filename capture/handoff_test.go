package capture_test

import (
	"bytes"
	"sync"
	"testing"
	"time"

	"github.com/synscope/synscope/capture"
)

// receive takes the batches queued now, without waiting, and returns
// copies of their packets; it releases the batches.
func receive(t *testing.T, h *capture.Handoff) []capture.Record {
	t.Helper()
	var out []capture.Record
	for {
		select {
		case b, ok := <-h.C():
			if !ok {
				return out
			}
			for _, r := range b.Recs {
				r.Data = bytes.Clone(r.Data)
				out = append(out, r)
			}
			h.Release(b)
		default:
			return out
		}
	}
}

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
	// They wait in the batch being filled until Flush.
	if got := receive(t, h); len(got) != 0 {
		t.Fatalf("%d packets handed over before Flush", len(got))
	}
	h.Flush()
	// The queued ones are copies: changing rec did not change them.
	got := receive(t, h)
	if len(got) != 8 {
		t.Fatalf("%d packets after Flush, want 8", len(got))
	}
	for i, r := range got {
		if r.Frame != uint64(i+1) || r.Data[0] != byte(i) || len(r.Data) != 100 {
			t.Fatalf("queued packet %d: frame %d, first byte %d", i, r.Frame, r.Data[0])
		}
	}
	if h.Len() != 0 || !h.Offer(rec) {
		t.Errorf("released packets made no room: %d queued", h.Len())
	}
	h.Close()
	h.Close()
	if h.Offer(rec) {
		t.Error("Offer after Close queued")
	}
	// Close handed over the packet offered before it.
	if got := receive(t, h); len(got) != 1 || got[0].Frame != 1000 {
		t.Errorf("after Close: %d packets, want frame 1000", len(got))
	}
	if _, ok := <-h.C(); ok {
		t.Error("channel still open after Close")
	}
}

// TestHandoffBatches: a batch goes to the consumer when it is full, and
// when its packets span 5 ms of capture time; packets keep their order
// and their bytes.
func TestHandoffBatches(t *testing.T) {
	h := capture.NewHandoff(1 << 20)
	rec := &capture.Record{}
	var n int
	offer := func(ts int64, size int) {
		n++
		rec.Frame, rec.Timestamp = uint64(n), ts
		rec.Data = bytes.Repeat([]byte{byte(n)}, size)
		if !h.Offer(rec) {
			t.Fatalf("packet %d dropped", n)
		}
	}
	for range 600 { // 512 fill a batch
		offer(0, 60)
	}
	if got := receive(t, h); len(got) != 512 {
		t.Fatalf("%d packets handed over after 600 small ones, want a batch of 512", len(got))
	}
	offer(4_999_999, 60)
	if got := receive(t, h); len(got) != 0 {
		t.Fatalf("%d packets handed over within 5 ms", len(got))
	}
	offer(5_000_000, 60)
	got := receive(t, h)
	if len(got) != 90 {
		t.Fatalf("%d packets handed over at 5 ms, want 90", len(got))
	}
	for i, r := range got {
		if r.Frame != uint64(513+i) || !bytes.Equal(r.Data, bytes.Repeat([]byte{byte(r.Frame)}, 60)) {
			t.Fatalf("packet %d: frame %d, data % x", i, r.Frame, r.Data[:4])
		}
	}
	// A clock that goes back does not hold packets back either.
	offer(6_000_000, 60)
	offer(1_000_000, 60)
	if got := receive(t, h); len(got) != 2 {
		t.Fatalf("%d packets handed over when the time stamps went back, want 2", len(got))
	}
	// A batch's bytes run out before its 512 packets: 1,500-byte
	// packets, 174 to a 256 KB batch.
	for range 175 {
		offer(6_000_000, 1500)
	}
	if got := receive(t, h); len(got) != 174 {
		t.Errorf("%d full-size packets in the first batch, want 174", len(got))
	}
}

func TestHandoffConcurrent(t *testing.T) {
	h := capture.NewHandoff(64)
	var got [][]byte
	done := make(chan struct{})
	go func() {
		defer close(done)
		for b := range h.C() {
			for _, r := range b.Recs {
				got = append(got, bytes.Clone(r.Data))
			}
			h.Release(b)
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
				if i%100 == 0 {
					h.Flush()
				}
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
	// Each producer's packets arrive in the order it offered them.
	last := map[byte]int{}
	for _, d := range got {
		i := int(d[1]) | int(d[2])<<8
		if prev, ok := last[d[0]]; ok && i <= prev {
			t.Fatalf("producer %d: packet %d after %d", d[0], i, prev)
		}
		last[d[0]] = i
	}
	t.Logf("received %d, dropped %d", len(got), h.Dropped())
}

// TestHandoffByteBound: however many packets the queue may hold, its
// buffers hold no more than capture.HandoffMaxBytes; what the consumer
// releases makes room again.
func TestHandoffByteBound(t *testing.T) {
	h := capture.NewHandoff(1 << 20)
	big := &capture.Record{Data: make([]byte, 100<<10)}
	n := 0
	for h.Offer(big) {
		n++
	}
	// Two 100 KB packets to a 256 KB batch.
	if want := 2 * capture.HandoffMaxBytes / (256 << 10); n != want || h.Dropped() != 1 {
		t.Fatalf("%d 100 KB packets queued, %d dropped; want %d and 1", n, h.Dropped(), want)
	}
	if b := h.HeldBytes(); b > capture.HandoffMaxBytes {
		t.Fatalf("%d bytes of buffers, the bound is %d", b, capture.HandoffMaxBytes)
	}
	h.Release(<-h.C())
	if !h.Offer(big) || !h.Offer(big) {
		t.Error("a released batch made no room for its two packets")
	}
	if h.Offer(big) {
		t.Error("the queue went past its byte bound")
	}
	h.Close()
	receive(t, h)
	if q := h.Len(); q != 0 {
		t.Errorf("%d packets counted as queued after everything was released", q)
	}
	if b := h.HeldBytes(); b > capture.HandoffMaxBytes {
		t.Errorf("%d bytes of buffers after the run, the bound is %d", b, capture.HandoffMaxBytes)
	}
}

// TestHandoffJumbo: a packet bigger than a batch's buffer gets a batch to
// itself, which is not kept for reuse, so that small packets queued later
// do not sit in its buffer.
func TestHandoffJumbo(t *testing.T) {
	h := capture.NewHandoff(1024)
	h.Offer(&capture.Record{Frame: 1, Data: make([]byte, 100)})
	h.Offer(&capture.Record{Frame: 2, Data: bytes.Repeat([]byte{7}, 300<<10)})
	h.Flush()
	got := receive(t, h)
	if len(got) != 2 || got[1].Frame != 2 || len(got[1].Data) != 300<<10 || got[1].Data[300<<10-1] != 7 {
		t.Fatalf("got %d packets", len(got))
	}
	if b := h.HeldBytes(); b != 256<<10 {
		t.Errorf("%d bytes of buffers kept after the jumbo packet's batch was released, want one batch's 256 KB", b)
	}
}
