package analysis

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"time"
)

// Limits of IP fragment reassembly. They bound memory whatever the capture
// holds: a flood of fragments that never complete costs at most
// maxPendingDatagrams × maxDatagram bytes, and is forgotten after
// fragTimeout of capture time.
const (
	maxPendingDatagrams = 256
	maxDatagram         = 65535 + 8
	maxFragments        = 128
	fragTimeout         = 60e9 // nanoseconds of capture time
)

type fragKey struct {
	src, dst netip.Addr
	id       uint32
	proto    uint8
	v6       bool
}

type fragPiece struct {
	off, end int
}

type pendingDatagram struct {
	buf    []byte
	pieces []fragPiece
	frames []uint64
	// offsets are the frames' records' byte offsets in the file
	// (Record.Offset), so that the fragments can be read back (export,
	// drill-down) as the frame that completes the datagram is.
	offsets []int64
	total   int // length of the whole datagram, -1 until the last fragment is seen
	first   int64
}

// reassembler puts IPv4 and IPv6 fragments back together. Overlapping
// fragments keep the bytes that arrived first.
type reassembler struct {
	pending map[fragKey]*pendingDatagram
	out     []byte
	frames  []uint64
	offsets []int64
	// lost counts the fragments of datagrams given up (expired, evicted,
	// past maxFragments, cut by the snap length), lostFirst the first
	// of them: they are in no flow, and notes says so.
	lost      uint64
	lostFirst uint64
}

// forget gives up datagram k's fragments.
func (r *reassembler) forget(k fragKey) {
	d := r.pending[k]
	if d == nil {
		return
	}
	delete(r.pending, k)
	r.lose(d.frames)
}

func (r *reassembler) lose(frames []uint64) {
	for _, f := range frames {
		if r.lost == 0 || f < r.lostFirst {
			r.lostFirst = f
		}
		r.lost++
	}
}

// notes says, once the capture is read, how many fragments belong to
// datagrams never completed: a device on the way that drops fragments
// (all but the first, say) left them in no flow, and nothing said so.
func (r *reassembler) notes() []string {
	for _, d := range r.pending {
		r.lose(d.frames)
	}
	clear(r.pending)
	if r.lost == 0 {
		return nil
	}
	if r.lost == 1 {
		return []string{fmt.Sprintf("frame %d is an IP fragment of a datagram whose other fragments never came: it is in no flow", r.lostFirst)}
	}
	return []string{fmt.Sprintf("%d IP fragments (the first, frame %d) belong to datagrams never completed (the rest of each never came, or came after %v): they are in no flow",
		r.lost, r.lostFirst, time.Duration(fragTimeout))}
}

func newReassembler() *reassembler {
	return &reassembler{pending: make(map[fragKey]*pendingDatagram)}
}

var (
	errFragTooLong  = errors.New("fragment runs past 65535 bytes")
	errFragTooMany  = errors.New("more than 128 fragments in one datagram")
	errFragTrunc    = errors.New("fragment not captured whole (snap length): its datagram cannot be reassembled")
	errFragMisalign = errors.New("fragment that is not the last is not a multiple of 8 bytes")
)

// add adds one fragment, the frame at byte offset at of the file. It returns
// the whole datagram's payload and the frames of the earlier fragments with
// their offsets (all valid until the next add) once the datagram is
// complete, or nil while it is not.
func (r *reassembler) add(k fragKey, off int, more bool, data []byte, frame uint64, at, ts int64, truncated bool) ([]byte, []uint64, []int64, error) {
	r.expire(ts)
	if truncated {
		r.forget(k)
		return nil, nil, nil, errFragTrunc
	}
	end := off + len(data)
	if end > maxDatagram {
		return nil, nil, nil, errFragTooLong
	}
	if more && len(data)%8 != 0 {
		return nil, nil, nil, errFragMisalign
	}
	d := r.pending[k]
	if d == nil {
		if len(r.pending) >= maxPendingDatagrams {
			r.evictOldest()
		}
		d = &pendingDatagram{total: -1, first: ts}
		r.pending[k] = d
	}
	if len(d.pieces) >= maxFragments {
		r.forget(k)
		return nil, nil, nil, errFragTooMany
	}
	if !more {
		d.total = end
	}
	if len(d.buf) < end {
		d.buf = append(d.buf, make([]byte, end-len(d.buf))...)
	}
	// Copy only the bytes no earlier fragment covered.
	for i := off; i < end; {
		covered := false
		for _, p := range d.pieces {
			if i >= p.off && i < p.end {
				i = p.end
				covered = true
				break
			}
		}
		if covered {
			continue
		}
		j := end
		for _, p := range d.pieces {
			if p.off > i && p.off < j {
				j = p.off
			}
		}
		copy(d.buf[i:j], data[i-off:j-off])
		i = j
	}
	d.pieces = append(d.pieces, fragPiece{off, end})
	d.frames = append(d.frames, frame)
	d.offsets = append(d.offsets, at)
	if d.total < 0 || !complete(d.pieces, d.total) {
		return nil, nil, nil, nil
	}
	delete(r.pending, k)
	r.out = append(r.out[:0], d.buf[:d.total]...)
	r.frames = append(r.frames[:0], d.frames[:len(d.frames)-1]...)
	r.offsets = append(r.offsets[:0], d.offsets[:len(d.offsets)-1]...)
	return r.out, r.frames, r.offsets, nil
}

// complete reports whether pieces cover [0, total).
func complete(pieces []fragPiece, total int) bool {
	ps := slices.Clone(pieces)
	slices.SortFunc(ps, func(a, b fragPiece) int { return a.off - b.off })
	at := 0
	for _, p := range ps {
		if p.off > at {
			return false
		}
		at = max(at, p.end)
	}
	return at >= total
}

func (r *reassembler) expire(now int64) {
	if len(r.pending) == 0 {
		return
	}
	for k, d := range r.pending {
		if now-d.first > fragTimeout || d.first-now > fragTimeout {
			r.forget(k)
		}
	}
}

// evictOldest forgets the datagram whose first fragment came first: the
// earliest in time, and of those the earliest frame. Without the frame,
// datagrams begun at one time (a capture whose times are all clamped to
// 2262, or stepped back onto one another) were told apart by the map's
// order, which Go varies from run to run: the same file gave other
// flows, packet counts and notes each time it was read (a capture of
// 92,000 frames, 7,000 flows and fragments; differential run against
// the build before the performance passes, which did the same).
func (r *reassembler) evictOldest() {
	var (
		oldest  fragKey
		at      int64
		atFrame uint64
		found   bool
	)
	for k, d := range r.pending {
		if !found || d.first < at || d.first == at && d.frames[0] < atFrame {
			oldest, at, atFrame, found = k, d.first, d.frames[0], true
		}
	}
	r.forget(oldest)
}
