package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/synscope/synscope/analysis"
	"github.com/synscope/synscope/analysis/filter"
	"github.com/synscope/synscope/capture"
	"github.com/synscope/synscope/ui"
)

// loaded is one input read to its end (or to its damage).
type loaded struct {
	in     input
	reader *capture.Reader
	res    *analysis.Result
}

// runHeadless reads every input and writes what the flags ask for: the
// JSON records, the report, or an export (-w). Several inputs are capture
// points of one path, client side first.
func runHeadless(ctx context.Context, o options, match func(*analysis.Packet) bool, stdout, stderr io.Writer) int {
	status := 0
	cfg := analysis.Config{Match: match, MaxFlows: o.maxFlows}
	// The per-packet index serves reading packets back (-w) and joining
	// capture points; one capture's records and report need neither.
	cfg.NoPacketIndex = o.write == "" && len(o.inputs()) == 1
	// Several inputs are compared segment by segment, bytes included.
	cfg.PayloadSums = len(o.inputs()) > 1
	if cfg.NoPacketIndex && os.Getenv("GOGC") == "" {
		// Then the heap is nearly all flows, kept to the end: a
		// collection finds almost nothing to free, and each one scans
		// every flow. Collecting when the heap has tripled, not
		// doubled, cuts the instructions of a run by 6% (1M packets,
		// 40k or 100k flows); peak RSS grows by 2-3% (DEVELOPERS.md).
		defer debug.SetGCPercent(debug.SetGCPercent(200))
	}
	// Several inputs are the points of one path: the expression picks
	// connections, each whole and at every point, once they are joined
	// (a connection whose flow matches at one point only, behind a NAT,
	// is still compared with the others). Leaving packets out before
	// that would leave out its flows at the other points.
	// Each primitive of it holds for a connection when it holds for a
	// packet of the connection at any point, and and/or/not combine
	// those (analysis.Path.Selector): "not port P" leaves out the
	// connection seen with port P at one point.
	selectConns := len(o.inputs()) > 1 && match != nil
	var sel *filter.Expr
	switch {
	case selectConns:
		// Parsed before, by compileFilter: it cannot fail here.
		sel, _ = filter.ParseArgs(o.expr)
		cfg.Match, cfg.Select = nil, sel
	case o.write != "" && len(o.flows) == 0 && len(o.expr) > 0:
		// -w OUT EXPR: the expression picks whole flows, it does not
		// leave packets out of them.
		cfg.Match, cfg.Mark = nil, match
	}
	if o.write != "" && !o.overwrite {
		// Say so before reading the captures, which can take a while;
		// the export checks again when it puts the file in place.
		if _, err := os.Lstat(o.write); err == nil {
			fmt.Fprintf(stderr, "synscope: %s\n", ui.Safe(overwriteHint(o.write, fs.ErrExist).Error(), false))
			return 1
		}
	}
	if o.write != "" {
		// A directory that does not exist, or may not be written in:
		// said before reading (it was said once the whole input had
		// been read). The file itself is created at the end.
		af, err := capture.CreateAtomic(o.write, o.overwrite)
		if err != nil {
			fmt.Fprintf(stderr, "synscope: -w %s\n", ui.Safe(overwriteHint(o.write, err).Error(), false))
			return 1
		}
		af.Abort()
	}
	var all []loaded
	defer func() {
		for _, l := range all {
			l.reader.Close()
		}
	}()
	for _, in := range o.inputs() {
		r, err := in.open(ctx)
		if err != nil {
			fmt.Fprintf(stderr, "synscope: %s\n", ui.Safe(err.Error(), false))
			status = 1
			if ctx.Err() != nil {
				break
			}
			if len(o.inputs()) > 1 {
				// A path without one of its points is another path:
				// its JSON "points" and an export's interfaces said
				// nothing of the one left out. Refused, as the view
				// refuses it.
				return 1
			}
			continue
		}
		cfg.Name = in.name
		res, err := analysis.Run(ctx, r, cfg)
		if err != nil {
			// Damage, or a stop (a signal): either way the output
			// holds only the frames before it, and the exit status
			// says so.
			fmt.Fprintf(stderr, "synscope: %s\n", ui.Safe(err.Error(), false))
			status = 1
		}
		for _, note := range res.Notes {
			fmt.Fprintf(stderr, "synscope: %s: %s\n", ui.Safe(in.name, false), ui.Safe(note, false))
		}
		if res.Evicted > 0 {
			// The output leaves flows out, as after damage: a script
			// that reads the records must know they are not all (an
			// export's exit status said so; --json's and --report's
			// did not).
			fmt.Fprintf(stderr, "synscope: %s: %s\n", ui.Safe(in.name, false), evictedNote(res))
			status = 1
		}
		if note := res.OutsideNote(); note != "" && o.json {
			// The report lists them; the records have no place for
			// them (a capture whose only TCP was damaged gave no
			// record and no word).
			fmt.Fprintf(stderr, "synscope: %s: %s: not in the records\n", ui.Safe(in.name, false), ui.Safe(note, false))
		}
		if note := res.NotDecodedNote(); note != "" {
			// Not damage (the exit status stays 0), but never silent:
			// a capture of a link type synscope cannot read would
			// otherwise look like one without TCP.
			fmt.Fprintf(stderr, "synscope: %s: %s: any TCP in them is not in the output\n", ui.Safe(in.name, false), note)
		}
		all = append(all, loaded{in: in, reader: r, res: res})
		if ctx.Err() != nil {
			break
		}
	}
	var (
		results []*analysis.Result
		pa      *analysis.Path
	)
	for _, l := range all {
		results = append(results, l.res)
	}
	if len(all) > 1 {
		var closers []io.Closer
		pa, closers = correlate(all)
		defer func() {
			for _, c := range closers {
				c.Close()
			}
		}()
		// The report says it at its head; the records and an export
		// would not say it at all.
		for _, w := range pa.Warnings(analysis.PathGlyphs{Arrow: "→", NotEqual: "≠", Sep: " · "}) {
			if o.report {
				break
			}
			fmt.Fprintf(stderr, "synscope: %s\n", ui.Safe(w, false))
		}
		if selectConns {
			pa = pa.Select(pa.Selector(sel))
			results = pa.Results()
		}
	} else if selectConns {
		// One input was read (the others could not be): its flows
		// for which the expression holds (Flow.Marked, as
		// Config.Select decides it).
		for i, res := range results {
			kept := *res
			kept.Flows = nil
			for _, f := range res.Flows {
				if f.Marked {
					kept.Flows = append(kept.Flows, f)
				}
			}
			results[i] = &kept
		}
	}
	if o.write != "" {
		if err := export(o, all, results, pa, selectConns, stdout); err != nil {
			if err != errEvicted {
				fmt.Fprintf(stderr, "synscope: %s\n", ui.Safe(err.Error(), false))
			}
			return 1
		}
		return status
	}
	var err error
	words := filterWords(o)
	if o.json && words != "" && len(all) > 0 && noFlows(results) {
		// No record at all is right for NDJSON, but would read as a
		// capture without TCP; the view and the report say why.
		what := "flow"
		if len(all) > 1 {
			what = "connection"
		}
		fmt.Fprintf(stderr, "synscope: no %s matches the filter %s given on the command line\n", what, ui.Safe(words, false))
	}
	switch {
	case o.json && pa != nil:
		err = pa.WriteJSON(stdout)
	case o.json:
		for _, res := range results {
			if err = res.WriteJSON(stdout); err != nil {
				break
			}
		}
	case o.report:
		err = ui.WriteReport(stdout, results, ui.ReportOptions{ASCII: o.ascii, Path: pa, Filter: words})
	}
	if err != nil {
		return writeFailed(stderr, err)
	}
	return status
}

// noFlows reports whether no result holds a flow.
func noFlows(results []*analysis.Result) bool {
	for _, res := range results {
		if len(res.Flows) > 0 {
			return false
		}
	}
	return true
}

// correlate joins the inputs as the capture points of one path. The
// rereaders it opens (to read the bytes a path finding names) are returned
// for the caller to close.
func correlate(all []loaded) (*analysis.Path, []io.Closer) {
	var (
		points  []analysis.Point
		closers []io.Closer
	)
	for _, l := range all {
		p := analysis.Point{Name: l.in.name, Result: l.res}
		if rr, err := l.reader.Rereader(); err == nil {
			p.Reread = rr.ReadAt
			closers = append(closers, rr)
		}
		points = append(points, p)
	}
	return analysis.Correlate(points), closers
}

// export writes the flows the flags pick (--flow IDs, or those with a
// packet matching EXPR, or all) of every input to o.write. With several
// inputs joined (pa) and selected by EXPR (selected), results holds each
// point's flows of the connections EXPR picked. The path's findings go
// into the packets' comments with the flows' own, and each interface is
// named as the report names its point.
func export(o options, all []loaded, results []*analysis.Result, pa *analysis.Path, selected bool, stdout io.Writer) error {
	var (
		srcs    []capture.ExportSource
		flows   int
		evicted uint64
	)
	for i, l := range all {
		ids := o.flows
		switch {
		case len(ids) > 0:
			if len(all) > 1 {
				return fmt.Errorf("--flow picks flows of one capture; give one -r with it")
			}
		case selected:
			for _, f := range results[i].Flows {
				ids = append(ids, f.ID)
			}
		case len(o.expr) > 0:
			ids = l.res.MarkedIDs()
		default:
			for _, f := range l.res.Flows {
				ids = append(ids, f.ID)
			}
		}
		items, err := l.res.ExportItems(ids)
		if err != nil {
			return err
		}
		if pa != nil {
			pa.ExportComments(i, ids, items)
		}
		// -r NAME=FILE names its interfaces, one capture or several
		// (a single one's label was dropped, where the view's w kept
		// it).
		label := ""
		if l.in.name != l.reader.Name() && l.in.name != capture.StdinName {
			label = l.in.name
		}
		flows += len(ids)
		if l.res.Evicted > 0 {
			evicted += l.res.Evicted
		}
		srcs = append(srcs, capture.ExportSource{Reader: l.reader, Items: items, Label: label})
	}
	if len(srcs) > 1 && capture.ExportFormat(o.write) != "pcapng" {
		return fmt.Errorf("%s: packets of several captures go into a pcapng file (one interface per capture): name it .pcapng", o.write)
	}
	n, err := capture.Export(o.write, srcs, o.overwrite)
	if err != nil {
		return overwriteHint(o.write, err)
	}
	fmt.Fprintf(stdout, "wrote %d packet%s of %d flow%s to %s\n", n, plural(n), flows, plural(flows), ui.Safe(o.write, false))
	if evicted > 0 {
		// stderr named them; the file lacks flows it was asked for.
		return errEvicted
	}
	return nil
}

// errEvicted ends an export that left out flows --max-flows evicted: the
// file holds the others, stderr said how many, and the exit status is 1.
var errEvicted = errors.New("evicted")

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// parseFlowIDs reads --flow's list: "3", "3,5", "3-7,9".
func parseFlowIDs(s string) ([]int, error) {
	var ids []int
	seen := map[int]bool{}
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(strings.TrimSpace(part), "-")
		a, err := strconv.Atoi(lo)
		if err != nil || a < 1 {
			return nil, fmt.Errorf("--flow %q: %q is not a flow id (1, 2, 3…)", s, part)
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil || b < a {
				return nil, fmt.Errorf("--flow %q: %q is not a range of flow ids", s, part)
			}
		}
		for id := a; id <= b; id++ {
			if seen[id] {
				continue // 1,1 or 1-3,2: one flow, counted once
			}
			seen[id] = true
			ids = append(ids, id)
			if len(ids) > 1_000_000 {
				return nil, fmt.Errorf("--flow %q: too many flows", s)
			}
		}
	}
	return ids, nil
}

// filterWords is the command line's filter as the report's heading names
// it, "" for none.
func filterWords(o options) string {
	if len(o.expr) == 0 {
		return ""
	}
	// Parsed before, by compileFilter: it cannot fail here.
	e, _ := filter.ParseArgs(o.expr)
	return e.String()
}
