package analysis

import (
	"context"
	"errors"
	"io"

	"github.com/synscope/synscope/capture"
)

// Run reads every record of r into a new Analyzer and returns the result.
// When the capture is damaged part way, the result holds everything up to
// the damage, Result.Damage says where it starts, and the damage is also
// returned as the error. Run stops early, with ctx's error, when ctx is done.
//
// With two cores or more, reading and decoding run on a goroutine of their
// own, ahead of the flow analysis (pipeline.go); the result is the same.
func Run(ctx context.Context, r *capture.Reader, cfg Config) (*Result, error) {
	a := NewAnalyzer(cfg)
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
func runSequential(ctx context.Context, r *capture.Reader, a *Analyzer) error {
	var err error
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
