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
		for i := range b.n {
			p := &b.pkts[i]
			a.res.Frames++
			if b.state[i] == dropped {
				a.res.Filtered++
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
		p := &b.pkts[i]
		dec.Decode(rec, p)
		b.state[i] = markNo
		switch {
		case cfg.Match != nil && !cfg.Match(p):
			b.state[i] = dropped
		case cfg.Mark != nil && cfg.Mark(p):
			b.state[i] = markYes
		}
		if p.HasTCP && b.state[i] != dropped {
			b.hash[i] = packetHash(p)
		}
		// Keep the bytes the flow stage reads; drop the others'
		// references to the reader's buffer.
		if b.state[i] != dropped && p.Flags&FlagSYN != 0 && (len(p.Payload) > 0 || len(p.Padding) > 0) {
			buf := append(b.bufs[i][:0], p.Payload...)
			buf = append(buf, p.Padding...)
			b.bufs[i] = buf
			p.Payload, p.Padding = buf[:len(p.Payload):len(p.Payload)], buf[len(p.Payload):]
		} else {
			p.Payload, p.Padding = nil, nil
		}
		b.n++ // the packet is whole: a fault above leaves it out
	}
	return nil
}

// pipelined reports whether Run should use two goroutines.
func pipelined() bool { return runtime.GOMAXPROCS(0) >= 2 }
