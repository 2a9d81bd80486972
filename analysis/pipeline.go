package analysis

import (
	"context"
	"errors"
	"io"
	"runtime"
	"runtime/debug"

	"github.com/synscope/synscope/capture"
)

// With two cores or more, Run reads in two stages: one goroutine reads the
// records, decodes them, applies the filter and hashes each connection;
// the caller's goroutine puts the decoded packets in their flows, in
// capture order. They pass batches of packets, recycled through a free
// list, so that memory stays bounded whatever the capture. The decoder is
// the same one, fed the same records in the same order, and the flow
// stage does exactly what Analyzer.Add does, so the result is the same as
// a single goroutine's (TestPipelineMatchesSequential).
//
// A decoded Packet points into the reader's buffer, which the next record
// overwrites: the bytes the flow stage reads (a SYN's or SYN-ACK's
// payload and the padding after it) are copied into the batch; other
// packets reach it with Payload and Padding nil.

// batchSize is the packets per batch; batches is how many are in flight
// (about 2 MB in all). Each hand-off between the goroutines may park one
// and wake the other, at a few microseconds each: with batches of 128, on
// 2 cores, the hand-offs ate the second core's gain (a 1M-packet capture
// took 0.44 s on 2 cores as on 1); with 1024, 0.25 s.
const (
	batchSize = 1024
	batches   = 4
)

// batch is a run of decoded packets.
type batch struct {
	pkts  [batchSize]Packet
	hash  [batchSize]uint64
	state [batchSize]int8 // mark* (for packets the filter kept), or dropped
	bufs  [batchSize][]byte
	n     int
	err   error // set on the last batch: io.EOF, the damage, or ctx's error
}

// dropped is a batch.state: the filter left the packet out.
const dropped int8 = -1

// runPipelined is Run on two goroutines.
func runPipelined(ctx context.Context, r *capture.Reader, a *Analyzer) error {
	full := make(chan *batch, batches)
	free := make(chan *batch, batches)
	for range batches {
		free <- new(batch)
	}
	stop := make(chan struct{})
	go decodeStage(ctx, r, a.dec, a.cfg, free, full, stop)
	defer close(stop)
	for b := range full {
		for i := range a.addAhead(b) {
			p := &b.pkts[i]
			a.res.Frames++
			a.odd.see(p)
			if b.state[i] == dropped {
				a.res.Filtered++
				if p.Undecoded != UndecodedNone {
					a.res.notDecoded(p)
				}
				continue
			}
			a.addHashed(p, b.hash[i], b.state[i])
		}
		if b.err != nil {
			if errors.Is(b.err, io.EOF) {
				return nil
			}
			return b.err
		}
		free <- b
	}
	return nil // not reached: the last batch carries an error
}

// decodeStage reads, decodes, filters and hashes packets into batches
// until the capture ends, an error, or ctx is done; the last batch carries
// the error (io.EOF at a clean end). It stops early when stop is closed.
func decodeStage(ctx context.Context, r *capture.Reader, dec *Decoder, cfg Config, free <-chan *batch, full chan<- *batch, stop <-chan struct{}) {
	defer close(full)
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	for {
		var b *batch
		select {
		case b = <-free:
		case <-stop:
			return
		}
		b.n = 0
		if b.err = ctx.Err(); b.err == nil {
			b.err = fillBatch(r, dec, cfg, b)
		}
		full <- b
		if b.err != nil {
			return
		}
	}
}

// fillBatch reads, decodes, filters and hashes packets into b until it is
// full (it returns nil), the capture ends or is damaged (it returns the
// error; b holds the packets before it).
func fillBatch(r *capture.Reader, dec *Decoder, cfg Config, b *batch) (err error) {
	defer recoverFault(r, &err)
	for b.n < batchSize {
		rec, rerr := r.Next()
		if rerr != nil {
			return rerr
		}
		i := b.n
		decodeKept(rec, dec, &cfg, &b.pkts[i], &b.hash[i], &b.state[i], &b.bufs[i])
		b.n++ // the packet is whole: a fault above leaves it out
	}
	return nil
}

// decodeKept decodes rec into p, filters and hashes it, and keeps the
// bytes the flow stage reads (a SYN's or SYN-ACK's payload and padding) in
// buf: p no longer points into the reader's buffer, which the next record
// overwrites.
func decodeKept(rec *capture.Record, dec *Decoder, cfg *Config, p *Packet, hash *uint64, state *int8, buf *[]byte) {
	dec.Decode(rec, p)
	*state = markNo
	switch {
	case cfg.Match != nil && !cfg.Match(p):
		*state = dropped
	case cfg.Mark != nil && cfg.Mark(p):
		*state = markYes
	}
	if p.HasTCP && *state != dropped {
		*hash = packetHash(p)
	}
	if cfg.PayloadSums {
		p.setPaySum()
	}
	if *state != dropped && p.Flags&FlagSYN != 0 && (len(p.Payload) > 0 || len(p.Padding) > 0) {
		b := append((*buf)[:0], p.Payload...)
		b = append(b, p.Padding...)
		*buf = b
		p.Payload, p.Padding = b[:len(p.Payload):len(p.Payload)], b[len(p.Payload):]
	} else {
		p.Payload, p.Padding = nil, nil
	}
}

// addDecoded counts a packet that decodeKept decoded and puts it in its
// flow, unless the filter left it out.
func (a *Analyzer) addDecoded(p *Packet, hash uint64, state int8) {
	a.res.Frames++
	a.odd.see(p)
	if state == dropped {
		a.res.Filtered++
		if p.Undecoded != UndecodedNone {
			a.res.notDecoded(p)
		}
		return
	}
	a.addHashed(p, hash, state)
}

// addAhead puts the packets of b in their flows, loading each one's flow
// ahead of time, when many connections are open (Analyzer.manyOpen), and
// returns 0; otherwise it returns the number of packets, for the caller to
// add them. (This way the caller's loop keeps its place in the function,
// which the profile in default.pgo names.)
func (a *Analyzer) addAhead(b *batch) int {
	if !a.manyOpen() {
		return b.n
	}
	for i := range b.n {
		if j := i + aheadSlot; j < b.n {
			a.tab.prefetchSlot(b.hash[j])
		}
		if j := i + aheadFlow; j < b.n {
			a.tab.prefetchFlow(b.hash[j], a.res.Flows)
		}
		a.addDecoded(&b.pkts[i], b.hash[i], b.state[i])
	}
	a.ahead += uint64(b.n)
	return 0
}

// Looking ahead: a packet's flow is found through its slot in the flow
// table and then the Flow, two loads that miss the cache when a capture's
// connections are many and all open at once (a fifth of a one-core run).
// Both stages therefore start loading them a few packets before they are
// needed: the slot of the packet aheadSlot packets on, and the flow its
// slot names (read by then) aheadFlow packets on. These are hints: a slot
// or flow that changes meanwhile is found as usual.
const (
	aheadSlot = 2
	aheadFlow = 1
)

// pipelined reports whether Run should use two goroutines.
func pipelined() bool { return runtime.GOMAXPROCS(0) >= 2 }
