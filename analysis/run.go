package analysis

import (
	"context"
	"errors"
	"io"
	"runtime/debug"

	"github.com/synscope/synscope/capture"
)

// Run reads every record of r into a new Analyzer and returns the result.
// When the capture is damaged part way, the result holds everything up to
// the damage, Result.Damage says where it starts, and the damage is also
// returned as the error. When ctx is done first, Run stops early: the
// result holds the frames read, and Result.Stopped and the error (a
// *capture.InterruptedError naming context.Cause(ctx), "SIGINT") say
// after which.
//
// With two cores or more, reading and decoding run on a goroutine of their
// own, ahead of the flow analysis (pipeline.go); the result is the same.
//
// Run reads a capture file through a memory mapping when it can
// (capture.Reader.MapInput): every goroutine that touches the records
// recovers the fault of a file truncated meanwhile, which ends the capture
// there as damage.
func Run(ctx context.Context, r *capture.Reader, cfg Config) (*Result, error) {
	a := NewAnalyzer(cfg)
	r.MapInput()
	var err error
	if pipelined() {
		err = runPipelined(ctx, r, a)
	} else {
		err = runSequential(ctx, r, a)
	}
	res := a.Finish()
	res.Notes = append(r.Notes(), res.Notes...)
	var ie *capture.InterruptedError
	switch {
	case err == nil:
	case errors.As(err, &ie):
		// The input gave way to ctx (capture.OpenContext).
		res.Stopped = err.Error()
	case ctx.Err() != nil && errors.Is(err, ctx.Err()):
		err = r.Interrupted(context.Cause(ctx))
		res.Stopped = err.Error()
	default:
		res.Damage = err.Error()
	}
	return res, err
}

// runSequential is Run on one goroutine. While many connections are open
// at once it hands over to runAhead, which loads each packet's flow ahead
// of time (a.manyOpen). It asks every 1,024 packets, from a loop of its
// own: with a count tested every packet, 5 instructions a packet more
// (cachegrind, -pgo=off).
func runSequential(ctx context.Context, r *capture.Reader, a *Analyzer) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer recoverFault(r, &err)
	for {
		if (ctx.Err() != nil || a.manyOpen()) && runAhead(ctx, r, a, &err) {
			return err
		}
		for range 1024 { // default.pgo names the calls below by their lines: keep them here
			rec, rerr := r.Next()
			if rerr != nil {
				if !errors.Is(rerr, io.EOF) {
					err = rerr
				}
				return err
			}
			a.Add(rec)
		}
	}
}

// aheadMinOpen is the number of open connections from which the flow
// stages load each packet's flow ahead of time: 4,096 Flows take 2.6 MB,
// more than a core's own cache here (2 MB). A connection is open until
// its FINs or a RST.
//
// On a capture of 40,000 connections all open at once (the independent
// generator's SLL file) the slot and the flow missed the cache for a
// fifth of a one-core run, and loading them ahead took it to 0.82-0.89
// of the time. Where the open flows stay in the cache (every other
// capture measured had at most 1,228 open at a time), the same work was
// 2-9% more time.
const aheadMinOpen = 4096

// manyOpen reports whether more than aheadMinOpen connections are open.
func (a *Analyzer) manyOpen() bool {
	return a.lists[evictOpenClean].n+a.lists[evictOpenNoted].n > aheadMinOpen
}

// runAhead is runSequential while many connections are open: it decodes
// each packet aheadSlot packets before it puts it in its flow, so that
// the packet's slot in the flow table and its flow are loaded meanwhile
// (see aheadSlot); the packets in between are kept as the pipeline keeps
// them (decodeKept). It returns false, with every packet it decoded put in
// its flow, once few connections are open. It returns true when the run is
// over: at the capture's end (*err nil), at damage, or when ctx is done
// (*err says which).
func runAhead(ctx context.Context, r *capture.Reader, a *Analyzer, err *error) bool {
	q := new(aheadQueue)
	var e error
	for e == nil && a.manyOpen() {
		if e = ctx.Err(); e == nil {
			e = q.run(r, a, 1024)
		}
	}
	if e == nil {
		e = ctx.Err() // runSequential asks only when it is done or many are open
	}
	// The packets decoded before the end or the damage.
	for ; q.added < q.decoded; q.added++ {
		i := q.added & aheadMask
		a.addDecoded(&q.pkts[i], q.hash[i], q.state[i])
	}
	a.ahead += uint64(q.decoded)
	if e == nil {
		return false
	}
	if !errors.Is(e, io.EOF) {
		*err = e
	}
	return true
}

// aheadDepth is the size of runSequential's ring of packets: the one it
// decodes, and those decoded but not yet put in their flows.
const (
	aheadDepth = 4
	aheadMask  = aheadDepth - 1
)

var _ [aheadDepth - aheadSlot - 1]struct{} // the ring holds them

// aheadQueue holds the packets runSequential has decoded, by number modulo
// aheadDepth.
type aheadQueue struct {
	pkts           [aheadDepth]Packet
	hash           [aheadDepth]uint64
	state          [aheadDepth]int8
	bufs           [aheadDepth][]byte
	decoded, added uint
}

// run decodes up to n records, and puts in its flow each packet aheadSlot
// packets after it was decoded. It returns the reader's error (io.EOF at
// the end) or the damage; the packets decoded whole are in q.
func (q *aheadQueue) run(r *capture.Reader, a *Analyzer, n int) (err error) {
	defer recoverFault(r, &err)
	for range n {
		rec, rerr := r.Next()
		if rerr != nil {
			return rerr
		}
		m := q.decoded
		i := m & aheadMask
		decodeKept(rec, a.dec, &a.cfg, &q.pkts[i], &q.hash[i], &q.state[i], &q.bufs[i])
		q.decoded++ // the packet is whole: a fault above leaves it out
		a.tab.prefetchSlot(q.hash[i])
		if m-q.added == aheadSlot {
			a.tab.prefetchFlow(q.hash[(m-aheadFlow)&aheadMask], a.res.Flows)
			j := q.added & aheadMask
			a.addDecoded(&q.pkts[j], q.hash[j], q.state[j])
			q.added++
		}
	}
	return nil
}

// recoverFault, deferred, turns the fault of a mapped capture file that
// shrank while it was read (see capture.Reader.MapInput) into the damage
// error *err; any other panic goes on. The goroutine must run with
// debug.SetPanicOnFault(true).
func recoverFault(r *capture.Reader, err *error) {
	if v := recover(); v != nil {
		ferr := r.FaultError(v)
		if ferr == nil {
			panic(v)
		}
		*err = ferr
	}
}
