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
type Handoff struct {
	ch      chan *Record
	free    chan *Record
	mu      sync.RWMutex // Offer holds it for reading, Close for writing
	closed  bool
	offered atomic.Uint64
	dropped atomic.Uint64
	queued  atomic.Int64 // bytes of packet buffers in the queue (capacity)
}

// The queue holds at most handoffMaxBytes of packet buffers (their
// capacity, which is what they cost), whatever the number of packets
// allows; Records whose buffer grew past handoffReuseMax (a jumbo frame, a
// packet merged by GRO) are left to the garbage collector rather than kept
// for reuse, so that the free list holds at most size buffers of an
// Ethernet frame's size.
const (
	handoffMaxBytes = 64 << 20
	handoffReuseMax = 2 << 10
)

// NewHandoff returns a queue that holds up to size packets (at least 1).
func NewHandoff(size int) *Handoff {
	size = max(size, 1)
	return &Handoff{ch: make(chan *Record, size), free: make(chan *Record, size)}
}

// Offer queues a copy of rec, Data included, and reports whether it was
// queued: false if the queue is full (the packet is counted as dropped) or
// closed. It never blocks.
func (h *Handoff) Offer(rec *Record) bool {
	h.mu.RLock()
	defer h.mu.RUnlock()
	if h.closed {
		return false
	}
	h.offered.Add(1)
	if len(h.ch) == cap(h.ch) || h.queued.Load()+int64(len(rec.Data)) > handoffMaxBytes {
		h.dropped.Add(1)
		return false
	}
	var r *Record
	select {
	case r = <-h.free:
	default:
		r = new(Record)
	}
	data := append(r.Data[:0], rec.Data...)
	*r = *rec
	r.Data = data
	h.queued.Add(int64(cap(data)))
	select {
	case h.ch <- r:
		return true
	default: // another Offer filled the queue meanwhile
		h.dropped.Add(1)
		h.Release(r)
		return false
	}
}

// C returns the channel the consumer receives from. It is closed by Close,
// after the packets queued before it.
func (h *Handoff) C() <-chan *Record { return h.ch }

// Release gives a received Record back for reuse by Offer, and its bytes
// back to the queue's budget: the consumer calls it for every Record it
// received, once done with it. It must not be used afterwards.
func (h *Handoff) Release(r *Record) {
	h.queued.Add(-int64(cap(r.Data)))
	if cap(r.Data) > handoffReuseMax {
		return
	}
	select {
	case h.free <- r:
	default:
	}
}

// Dropped returns the number of packets Offer had to drop.
func (h *Handoff) Dropped() uint64 { return h.dropped.Load() }

// Offered returns the number of packets offered (queued or dropped).
func (h *Handoff) Offered() uint64 { return h.offered.Load() }

// Len returns the number of packets waiting in the queue.
func (h *Handoff) Len() int { return len(h.ch) }

// Close closes the channel: the consumer receives what is queued, then
// sees it closed. Offers after Close are refused. Close may be called more
// than once.
func (h *Handoff) Close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.closed {
		h.closed = true
		close(h.ch)
	}
}
