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
func Run(ctx context.Context, r *capture.Reader, cfg Config) (*Result, error) {
	a := NewAnalyzer(cfg)
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
	res := a.Finish()
	if err != nil {
		res.Damage = err.Error()
	}
	return res, err
}
