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
// returned as the error. Run stops early, with ctx's error, when ctx is done.
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
	if err != nil {
		res.Damage = err.Error()
	}
	return res, err
}

// runSequential is Run on one goroutine.
func runSequential(ctx context.Context, r *capture.Reader, a *Analyzer) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer recoverFault(r, &err)
	for n := 0; ; n++ {
		if n&1023 == 0 && ctx.Err() != nil {
			err = ctx.Err()
			break
		}
		rec, rerr := r.Next()
		if rerr != nil {
			if !errors.Is(rerr, io.EOF) {
				err = rerr
			}
			break
		}
		a.Add(rec)
	}
	return err
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
