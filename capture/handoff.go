package capture

import (
	"sync"
	"sync/atomic"
)

// Handoff passes packets from the capture goroutine to a slower consumer
// (analysis, the spool) through a bounded queue without ever making the
// capture wait: when the queue is full, Offer drops the packet and counts
// it. A kernel ring that overflows because its reader waited loses packets
// silently in bursts; this way the loss is in one place, and counted.
//
// Packets travel in batches: Offer copies each into the batch being
// filled, whose bytes are one buffer, and the batch goes to the consumer
// when it is full, when it holds packets captured batchAge apart, or at
// Flush. Handing packets over one by one cost two channel operations and
// a buffer from a free list each (and often a wake-up of the consumer):
// Offer was a sixth of the process's CPU samples at 300,000 packets a
// second with the view open, and buffers grown to a bigger packet's size
// were garbage to clear.
type Handoff struct {
	mu      sync.Mutex // guards cur, held and closed
	cur     *Batch     // being filled; nil when none is
	held    int        // bytes of the batches' buffers, at most handoffMaxBytes
	closed  bool
	ch      chan *Batch
	free    chan *Batch
	max     int // packets the queue may hold
	queued  atomic.Int64
	offered atomic.Uint64
	dropped atomic.Uint64
}

// A Batch is packets handed over together. Recs' Data point into the
// batch's buffer: they are valid until the batch is released.
type Batch struct {
	Recs  []Record
	buf   []byte
	first int64 // Timestamp of Recs[0]
}

// The queue holds at most handoffMaxBytes of batches' buffers, each of
// batchBytes (a packet bigger than that gets a batch to itself), and at
// most the packet count NewHandoff was given. A batch holds up to
// batchPackets packets, and goes to the consumer once its packets span
// batchAge of capture time, so that a slow trickle is not held back.
const (
	handoffMaxBytes = 64 << 20
	batchBytes      = 256 << 10
	batchPackets    = 512
	batchAge        = 5e6 // ns
)

// NewHandoff returns a queue that holds up to size packets (at least 1).
func NewHandoff(size int) *Handoff {
	size = max(size, 1)
	n := handoffMaxBytes / batchBytes // the most batches there can be
	return &Handoff{ch: make(chan *Batch, n), free: make(chan *Batch, n), max: size}
}

// Offer queues a copy of rec, Data included, and reports whether it was
// queued: false if the queue is full (the packet is counted as dropped) or
// closed. It never blocks.
func (h *Handoff) Offer(rec *Record) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return false
	}
	h.offered.Add(1)
	if h.queued.Load() >= int64(h.max) {
		h.dropped.Add(1)
		return false
	}
	b := h.cur
	if b != nil && (len(b.Recs) == cap(b.Recs) || len(b.buf)+len(rec.Data) > cap(b.buf)) {
		h.publish()
		b = nil
	}
	if b == nil {
		if b = h.batch(len(rec.Data)); b == nil {
			h.dropped.Add(1)
			return false
		}
		h.cur = b
		b.first = rec.Timestamp
	}
	start := len(b.buf)
	b.buf = append(b.buf, rec.Data...)
	r := *rec
	r.Data = b.buf[start:len(b.buf):len(b.buf)]
	b.Recs = append(b.Recs, r)
	h.queued.Add(1)
	if d := rec.Timestamp - b.first; d >= batchAge || d < 0 { // < 0: the clock went back
		h.publish()
	}
	return true
}

// batch returns an empty batch with room for n bytes: a released one, or a
// new one while the queue's bound allows. It returns nil when none is
// free. Under h.mu.
func (h *Handoff) batch(n int) *Batch {
	for {
		var b *Batch
		select {
		case b = <-h.free:
		default:
		}
		if b == nil {
			break
		}
		if cap(b.buf) >= n {
			return b
		}
		h.held -= cap(b.buf) // too small for a jumbo packet: make one to fit
	}
	size := max(n, batchBytes)
	if h.held+size > handoffMaxBytes {
		return nil
	}
	h.held += size
	return &Batch{Recs: make([]Record, 0, batchPackets), buf: make([]byte, 0, size)}
}

// publish sends the batch being filled to the consumer. Under h.mu. The
// channel has room for every batch made, so the send never waits.
func (h *Handoff) publish() {
	if h.cur != nil && len(h.cur.Recs) > 0 {
		h.ch <- h.cur
		h.cur = nil
	}
}

// Flush sends the packets offered so far to the consumer, however few:
// the capture calls it when the kernel has no packet for it.
func (h *Handoff) Flush() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.closed {
		h.publish()
	}
}

// C returns the channel the consumer receives batches from. It is closed
// by Close, after the batches queued before it.
func (h *Handoff) C() <-chan *Batch { return h.ch }

// Release gives a received batch back for reuse by Offer: the consumer
// calls it for every batch it received, once done with its packets. The
// batch must not be used afterwards.
func (h *Handoff) Release(b *Batch) {
	h.queued.Add(-int64(len(b.Recs)))
	clear(b.Recs) // no pointer into the buffer outlives the batch's use
	b.Recs, b.buf = b.Recs[:0], b.buf[:0]
	if cap(b.buf) > batchBytes {
		// A jumbo packet's batch is not kept: its buffer would
		// hold every later batch's few packets.
		h.mu.Lock()
		h.held -= cap(b.buf)
		h.mu.Unlock()
		return
	}
	h.free <- b // room for every batch there can be
}

// Dropped returns the number of packets Offer had to drop.
func (h *Handoff) Dropped() uint64 { return h.dropped.Load() }

// Offered returns the number of packets offered (queued or dropped).
func (h *Handoff) Offered() uint64 { return h.offered.Load() }

// Len returns the number of packets queued and not yet released.
func (h *Handoff) Len() int { return int(h.queued.Load()) }

// Close sends what is being filled, then closes the channel: the consumer
// receives what is queued, then sees it closed. Offers after Close are
// refused. Close may be called more than once.
func (h *Handoff) Close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.closed {
		h.publish()
		h.closed = true
		close(h.ch)
	}
}
