package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/charmbracelet/x/term"
	"golang.org/x/net/bpf"

	"github.com/synscope/synscope/analysis"
	"github.com/synscope/synscope/analysis/filter"
	"github.com/synscope/synscope/capture"
	"github.com/synscope/synscope/ui"
)

// handoffSize is how many packets may wait between the capture goroutine
// and the analysis one before the capture has to drop (and count) them:
// at 300,000 packets a second, 400 ms of traffic, time for the analysis
// to wait for the view's snapshot or the garbage collector. The queue's
// 64 MB of batches (capture.Handoff) bound it first for packets longer
// than 512 bytes, and when batches go out part full.
const handoffSize = 131072

// Stopping on a signal or --duration, the capture reads the kernel's
// counters for the last time (capture.LiveSource.Settle) and goes on
// reading the packets they counted, for at most drainMax: nothing captured
// before the stop is lost, and every packet received by the filter is
// captured or left out by EXPR. Where the backend cannot tell which
// packets were counted (macOS), it reads until the kernel has been idle
// for drainIdle. Whenever the kernel has had no packet for flushIdle, the
// capture hands over the packets it has batched (capture.Handoff.Flush).
const (
	drainIdle = 100 * time.Millisecond
	drainMax  = 500 * time.Millisecond
	flushIdle = 20 * time.Millisecond
)

// runLive captures on o.live.iface until COUNT packets matched EXPR, D
// passed, or ctx is done (SIGINT, SIGTERM, SIGHUP), then writes what
// runHeadless writes for a file: the JSON records or the report, and with
// -w the captured packets. A one-line summary goes to stderr at the end, as
// tcpdump's.
func runLive(ctx context.Context, o options, match func(*analysis.Packet) bool, stdout, stderr io.Writer) int {
	say := func(msg string) { fmt.Fprintf(stderr, "synscope: %s\n", ui.Safe(msg, false)) }
	// A closed pipe on stderr or stdout must not kill the process before
	// the files are flushed: let the write fail instead.
	signal.Ignore(syscall.SIGPIPE)

	p, status := openLive(o, match, func(n ui.LiveNote) { say(n.Text) })
	if p == nil {
		return status
	}
	defer p.close()
	say(fmt.Sprintf("listening on %s, link-type %s, snapshot length %d bytes", p.src.Name(), p.src.LinkType(), p.in.SnapLen))
	p.start()
	p.waitStop(ctx)
	p.close()
	// The files first: should the terminal be gone (SIGHUP), the
	// capture is safe before anything is written to it.
	status = p.report(say)

	var werr error
	switch {
	case o.json:
		werr = p.res.WriteJSON(stdout)
	case o.report:
		if kd, qd := p.stats.Dropped, p.h.Dropped(); kd+qd > 0 && p.res != nil {
			// Said at the head of a report that may be saved: a flow
			// that lost packets reads as whole ("complete", -B 1).
			p.res.Notes = append(p.res.Notes, fmt.Sprintf("%d packet%s dropped by the kernel and %d by synscope while capturing: flows may lack packets, and verdicts where they do may mislead", kd, plural(int(kd)), qd))
		}
		werr = ui.WriteReport(stdout, []*analysis.Result{p.res}, ui.ReportOptions{ASCII: o.ascii, Filter: filterWords(o)})
	}
	if werr != nil {
		if st := writeFailed(stderr, werr); st != 0 {
			status = st
		}
	}
	p.summary(stderr, say)
	return status
}

// runLiveTUI opens the interactive view on a live capture: flows appear
// and update as packets arrive, drill-down and export read the packets back
// from the spool. q, ctrl-c, SIGTERM and SIGHUP stop the capture and flush
// every file; -c and --duration stop the capture and leave the view open
// on the final flows. What tcpdump says at the end goes to stderr once the
// terminal is restored.
func runLiveTUI(ctx context.Context, o options, match func(*analysis.Packet) bool, stdout, stderr io.Writer) int {
	if f, ok := stdout.(*os.File); !ok || !term.IsTerminal(f.Fd()) {
		fmt.Fprintf(stderr, "synscope: the interactive view needs a terminal: add --report or --json\n")
		return 1
	}
	say := func(msg string) { fmt.Fprintf(stderr, "synscope: %s\n", ui.Safe(msg, false)) }
	signal.Ignore(syscall.SIGPIPE)
	// What stops the view from starting goes to stderr; the rest (the
	// filter note, the spool's rotation) to its status bar.
	p, status := openLive(o, match, func(n ui.LiveNote) {
		if n.Err {
			say(n.Text)
		}
	})
	if p == nil {
		return status
	}
	defer p.close()
	p.toNotes()
	p.start()
	// -c, --duration, a capture error or a signal stop the capture; a
	// signal also flushes the files at once, in case the terminal is gone
	// (SIGHUP) and restoring it hangs.
	watch, unwatch := context.WithCancel(context.Background())
	defer unwatch()
	go func() {
		p.waitStop(watch)
		if ctx.Err() != nil {
			p.close()
		}
	}()
	go func() {
		select {
		case <-ctx.Done():
			unwatch()
		case <-watch.Done():
		}
	}()
	// The filter is shown on the view's title line. Parsed before, by
	// compileFilter: it cannot fail here.
	sel, _ := filter.ParseArgs(o.expr)
	cfg := ui.Config{Live: p, Filter: sel, MaxFlows: o.maxFlows, Theme: o.theme, ASCII: o.ascii || !ui.LocaleIsUTF8(), NoColor: os.Getenv("NO_COLOR") != ""}
	uiErr := ui.Run(ctx, cfg)
	unwatch()
	p.stop("")
	p.close()
	status = p.report(say)
	if uiErr != nil {
		say(uiErr.Error())
		status = 1
	}
	p.summary(stderr, say)
	return status
}

// kernelFilter compiles the filter expression for the interface's socket.
// An expression outside the compiled subset gives no program and a note
// saying why: it runs in userspace only. The userspace filter (the
// Analyzer's Match) is applied in every case.
func kernelFilter(o options) (prog []bpf.Instruction, note string, err error) {
	if len(o.expr) == 0 {
		return nil, "", nil
	}
	e, err := filter.ParseArgs(o.expr)
	if err != nil {
		return nil, "", err
	}
	if e.MatchesAll() {
		return nil, "", nil
	}
	lt, err := capture.FilterLinkType(o.live.iface)
	if err != nil {
		// OpenLive says what is wrong with the interface.
		return nil, "", nil
	}
	prog, err = e.CompileBPF(int(lt), o.live.snaplen)
	if err != nil {
		return nil, strings.TrimPrefix(err.Error(), "filter: "), nil
	}
	return prog, "", nil
}

// livePipeline is a running live capture, shared by the headless mode and
// the interactive view.
//
// The order is tcpdump's: open the socket (the one step that needs
// privilege), drop privileges (-Z), then create the files, so that they
// belong to the user. Packets go from the capture goroutine through a
// bounded queue (capture.Handoff, which drops rather than make the capture
// wait) to the analysis goroutine, which numbers them from 1, writes them
// to the spool (and to -w), and feeds the Analyzer. Frame numbers are thus
// those of the -w file, and of the spool's segments read one after the
// other; a flow's packet offsets point into the spool's segment holding
// that frame, which is how drill-down and export read live flows back
// (capture.Spool.ReadPacket, Spool.Export).
//
// It implements ui.Live for the interactive view.
type livePipeline struct {
	o     options
	src   *capture.LiveSource
	in    capture.Interface
	spool *capture.Spool
	out   *liveOut
	h     *capture.Handoff
	lr    *liveRun

	notesMu sync.Mutex
	notes   []ui.LiveNote
	tell    func(ui.LiveNote) // where notes go: stderr, or only notes
	down    time.Time         // when the interface went down; zero while it is up

	stopping atomic.Bool
	capErr   error
	capDone  chan struct{}
	anaDone  chan struct{}

	stopOnce sync.Once
	stopMu   sync.Mutex
	stopped  string // why, once stopped
	res      *analysis.Result
	stats    capture.LiveStats
	statsErr error
	outErr   error

	closeOnce  sync.Once
	spoolErr   error
	spoolStats capture.SpoolStats

	// The summaries Snapshot last returned, in id order, and the
	// Analyzer's Gen then: each Snapshot copies only the flows that
	// changed since, so that the analysis waits for the view no longer
	// than that takes.
	snapMu  sync.Mutex
	sums    []analysis.FlowSummary
	sumsGen analysis.Gen
	changed []analysis.FlowSummary
}

// openLive opens the capture, drops privileges and creates the spool and
// the -w file. On failure it has said why and returns nil with the exit
// status.
func openLive(o options, match func(*analysis.Packet) bool, tell func(ui.LiveNote)) (*livePipeline, int) {
	lo := o.live
	p := &livePipeline{o: o, tell: tell}
	fail := func(err error) (*livePipeline, int) {
		p.note(err.Error(), true)
		p.close()
		return nil, 1
	}
	prog, filterNote, err := kernelFilter(o)
	if err != nil {
		return fail(err)
	}
	p.src, err = capture.OpenLive(capture.LiveOptions{
		Interface:  lo.iface,
		SnapLen:    lo.snaplen,
		Promisc:    !lo.noPromisc,
		BufferSize: lo.bufferKiB << 10,
		Filter:     prog,
		Timeout:    flushIdle,
		OnLink:     p.linkNote,
	})
	if err != nil {
		return fail(err)
	}
	if prog != nil && !p.src.KernelFilter() && filterNote == "" {
		filterNote = "this system's capture backend attaches no kernel filter"
	}
	if filterNote != "" {
		p.note("filter runs in userspace only: "+filterNote, false)
	}
	kernelChecked := prog != nil && filterNote == ""
	if lo.user != "" {
		if err := capture.DropPrivileges(lo.user); err != nil {
			return fail(err)
		}
	}
	p.in = p.src.Interface()
	// The spool serves reading packets back: the interactive view's
	// drill-down and export. The headless modes read nothing back (-w is
	// written as packets arrive), so they spool only when asked to
	// (--spool, --keep-spool): copying every packet to disk cost a fifth
	// of the analysis goroutine's time at 300,000 packets a second.
	spooled := o.tui() || lo.spoolDir != "" || lo.keepSpool
	if spooled {
		if p.spool, err = newLiveSpool(p, lo); err != nil {
			if de := (*capture.SpoolDirError)(nil); errors.As(err, &de) {
				flag := "--spool " + de.Dir
				if lo.spoolDir == "" {
					flag = "the spool's default directory " + de.Dir + " (--spool DIR chooses another)"
				}
				err = fmt.Errorf("%s: cannot make the spool's directory there: %w", flag, de.Err)
			}
			return fail(userHint(lo.user, err))
		}
	}
	if o.write != "" {
		if p.out, err = newLiveOut(o.write, o.overwrite, p.in); err != nil {
			return fail(userHint(lo.user, overwriteHint(o.write, err)))
		}
	}
	// EXPR is applied in analyse, before the spool and -w; -c counts the
	// packets that match it, as tcpdump does. Without a spool, a flow's
	// packets cannot be read back: the Analyzer keeps no index of them.
	p.lr = &liveRun{
		spool: p.spool,
		out:   p.out,
		count: uint64(lo.count),
		full:  make(chan struct{}),
		note:  func(s string) { p.note(s, true) },
		match: match,
		// The kernel filter saw each packet whole: what the snap
		// length cut before EXPR's fields matched it there.
		kernelChecked: kernelChecked,
		snaplen:       lo.snaplen,
		dec:           analysis.NewDecoder(),
		an:            analysis.NewAnalyzer(analysis.Config{Name: lo.iface, MaxFlows: o.maxFlows, NoPacketIndex: !spooled}),
	}
	p.h = capture.NewHandoff(handoffSize)
	return p, 0
}

// newLiveSpool creates the spool of a live capture.
func newLiveSpool(p *livePipeline, lo liveOptions) (*capture.Spool, error) {
	var rotated atomic.Bool
	return capture.NewSpool(capture.SpoolOptions{
		Dir:     lo.spoolDir,
		MaxSize: lo.spoolSize,
		Keep:    lo.keepSpool,
		OnRotate: func(r capture.SpoolRotation) {
			if !rotated.Swap(true) {
				p.note(fmt.Sprintf("spool full: the oldest packets are being rotated out (frames %d-%d first); --spool-size raises the bound", r.Segment.FirstFrame, r.Segment.LastFrame), false)
			}
		},
	}, p.in)
}

// note says something to the user, once.
func (p *livePipeline) note(text string, isErr bool) {
	n := ui.LiveNote{Text: text, Err: isErr}
	p.notesMu.Lock()
	p.notes = append(p.notes, n)
	tell := p.tell
	p.notesMu.Unlock()
	if tell != nil {
		tell(n)
	}
}

// linkNote says that the interface went down or came back up
// (capture.LiveOptions.OnLink): the capture goes on, and a gap in the
// traffic has its reason.
func (p *livePipeline) linkNote(c capture.LinkChange) {
	name, at := p.o.live.iface, c.Time.Format("15:04:05")
	p.notesMu.Lock()
	since := p.down
	p.down = time.Time{}
	if !c.Up {
		p.down = c.Time
	}
	p.notesMu.Unlock()
	if !c.Up {
		p.note(fmt.Sprintf("%s went down at %s: still capturing, waiting for it to come back up", name, at), false)
		return
	}
	p.note(fmt.Sprintf("%s came back up at %s (down for about %s)", name, at, c.Time.Sub(since).Round(100*time.Millisecond)), false)
}

// toNotes keeps the notes from now on for the interactive view's status
// bar, instead of writing them to stderr.
func (p *livePipeline) toNotes() {
	p.notesMu.Lock()
	p.tell = nil
	p.notesMu.Unlock()
}

// start runs the capture and analysis goroutines.
func (p *livePipeline) start() {
	p.capDone, p.anaDone = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(p.capDone)
		defer p.h.Close()
		p.capErr = capturePackets(p.src, p.h, &p.stopping)
	}()
	go func() {
		defer close(p.anaDone)
		p.lr.analyse(p.h)
	}()
}

// waitStop waits until COUNT packets matched, D passed, the capture ended
// (an error) or ctx is done, and stops the capture.
func (p *livePipeline) waitStop(ctx context.Context) {
	lo := p.o.live
	var timeout <-chan time.Time
	if lo.duration > 0 {
		t := time.NewTimer(lo.duration)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case <-ctx.Done():
		p.stop("")
	case <-timeout:
		p.stop(fmt.Sprintf("after %s (--duration)", lo.duration))
	case <-p.lr.full:
		p.stop(fmt.Sprintf("after %d packet%s (-c)", lo.count, plural(lo.count)))
	case <-p.capDone:
		p.stop("the capture ended")
	}
}

// stop stops the capture, the kernel's packets drained (but for -c, which
// wants no more), lets the analysis take what is queued, finishes it and
// commits the -w file. Only the first call does anything; the others wait
// for it.
func (p *livePipeline) stop(why string) {
	p.stopOnce.Do(func() {
		select {
		case <-p.lr.full:
			p.src.Close() // -c: no more packets wanted
		default:
			p.stopping.Store(true)
		}
		select {
		case <-p.capDone:
		case <-time.After(2 * drainMax):
		}
		p.src.Close()
		<-p.capDone
		<-p.anaDone
		p.lr.mu.Lock()
		res := p.lr.an.Finish()
		p.lr.mu.Unlock()
		stats, statsErr := p.src.Stats()
		var outErr error
		if p.out != nil {
			outErr = p.out.commit()
		}
		if p.capErr != nil {
			why = p.capErr.Error()
		}
		if why == "" {
			why = "stopped"
		}
		p.stopMu.Lock()
		p.res, p.stats, p.statsErr, p.outErr, p.stopped = res, stats, statsErr, outErr, why
		p.stopMu.Unlock()
		if p.capErr != nil {
			// The view shows it before any note not yet seen, such
			// as the interface going down just before it was
			// removed; stderr has it from report.
			p.notesMu.Lock()
			p.notes = append(p.notes, ui.LiveNote{Text: why, Err: true})
			p.notesMu.Unlock()
		}
	})
}

// close closes the socket, the spool (removed unless kept) and any -w file
// not committed. Only the first call does anything.
func (p *livePipeline) close() {
	p.closeOnce.Do(func() {
		if p.src != nil {
			p.src.Close()
		}
		if p.out != nil {
			p.out.abort()
		}
		if p.spool != nil {
			p.spoolStats = p.spool.Stats()
			p.spoolErr = p.spool.Close()
		}
	})
}

// report says how the capture ended: a capture error, the -w file, the
// spool. It returns the exit status.
func (p *livePipeline) report(say func(string)) int {
	status := 0
	if p.capErr != nil {
		say(p.capErr.Error())
		status = 1
	}
	if p.out != nil {
		if p.outErr != nil {
			say(overwriteHint(p.o.write, p.outErr).Error())
			status = 1
		} else {
			say(fmt.Sprintf("wrote %d packet%s to %s", p.out.n, plural(p.out.n), p.o.write))
		}
	}
	if p.lr.spoolErr != nil {
		status = 1
	}
	if p.spoolErr != nil && p.lr.spoolErr == nil {
		say(p.spoolErr.Error())
		status = 1
	}
	if p.o.live.keepSpool && p.spool != nil {
		say("spool kept in " + p.spool.Dir())
	}
	return status
}

// summary writes tcpdump's last lines: what was captured and dropped, and
// what the spool rotated out.
func (p *livePipeline) summary(stderr io.Writer, say func(string)) {
	if p.statsErr != nil {
		say(p.statsErr.Error())
	}
	// Received by filter as tcpdump means it: by EXPR. The kernel counted
	// what its coarser filter let through (tcp on a veth: 51 received,
	// 48 captured, 0 dropped, three ICMPv6 packets unaccounted for).
	received := p.stats.Received - min(p.stats.Received, p.lr.rejected.Load())
	fmt.Fprintf(stderr, "%d packet%s captured, %d received by filter, %d dropped by kernel, %d dropped by synscope\n",
		p.lr.n.Load(), plural(int(p.lr.n.Load())), received, p.stats.Dropped, p.h.Dropped())
	if p.res != nil && p.res.Evicted > 0 {
		say(evictedNote(p.res))
	}
	if p.res != nil && p.res.NotDecodedFrames > 0 {
		say(p.res.NotDecodedNote() + ": any TCP in them is not in the output")
	}
	if st := p.spoolStats; st.Rotations > 0 {
		fmt.Fprintf(stderr, "%d spool rotation%s: the oldest %d packets were rotated out of the spool\n",
			st.Rotations, plural(int(st.Rotations)), st.RotatedPackets)
	}
}

// Name returns the interface's name (ui.Live).
func (p *livePipeline) Name() string { return p.o.live.iface }

// Status returns the counters (ui.Live).
func (p *livePipeline) Status() ui.LiveStatus {
	p.lr.mu.Lock()
	pr := p.lr.an.Progress()
	p.lr.mu.Unlock()
	return p.status(pr)
}

func (p *livePipeline) status(pr analysis.Progress) ui.LiveStatus {
	st := ui.LiveStatus{Packets: p.lr.n.Load(), Flows: pr.Flows, QueueDrops: p.h.Dropped(),
		Evicted: pr.Evicted, MaxFlows: p.o.maxFlows, NotDecoded: pr.NotDecoded, WaitEnds: pr.WaitEnds}
	if st.MaxFlows == 0 {
		st.MaxFlows = analysis.DefaultMaxFlows()
	}
	if ks, err := p.src.Stats(); err == nil {
		st.KernelDrops = ks.Dropped
	}
	if p.spool != nil {
		sp := p.spool.Stats()
		st.Rotations, st.RotatedPackets, st.OldestFrame = sp.Rotations, sp.RotatedPackets, sp.OldestFrame
	}
	p.stopMu.Lock()
	st.Stopped = p.stopped
	p.stopMu.Unlock()
	p.notesMu.Lock()
	st.Notes = append([]ui.LiveNote(nil), p.notes...)
	st.Down = p.down
	p.notesMu.Unlock()
	return st
}

// Snapshot returns the flows' summaries and the counters (ui.Live).
func (p *livePipeline) Snapshot(dst []analysis.FlowSummary) ([]analysis.FlowSummary, ui.LiveStatus) {
	p.snapMu.Lock()
	defer p.snapMu.Unlock()
	var full bool
	p.lr.mu.Lock()
	// The kernel stamps packets with this clock: a SYN unanswered for
	// 3 s of it is no longer pending (analysis.Analyzer.Age).
	p.lr.an.Age(time.Now().UnixNano())
	p.changed, p.sumsGen, full = p.lr.an.Changed(p.changed[:0], p.sumsGen)
	pr := p.lr.an.Progress()
	p.lr.mu.Unlock()
	if full {
		p.sums = slices.Clone(p.changed)
	} else {
		p.sums = mergeSummaries(p.sums, p.changed)
	}
	return append(dst, p.sums...), p.status(pr)
}

// mergeSummaries returns the summaries of old updated by changed (both in
// id order): a changed flow replaces its old summary, an evicted one is
// left out, a new one is added. It makes a new slice: old is not modified.
func mergeSummaries(old, changed []analysis.FlowSummary) []analysis.FlowSummary {
	out := make([]analysis.FlowSummary, 0, len(old)+len(changed))
	i := 0
	for _, c := range changed {
		for i < len(old) && old[i].ID < c.ID {
			out = append(out, old[i])
			i++
		}
		if i < len(old) && old[i].ID == c.ID {
			i++
		}
		if !c.Evicted {
			out = append(out, c)
		}
	}
	return append(out, old[i:]...)
}

// Flow returns a copy of a flow (ui.Live).
func (p *livePipeline) Flow(id int) (*analysis.Flow, bool) {
	p.lr.mu.Lock()
	defer p.lr.mu.Unlock()
	return p.lr.an.FlowCopy(id)
}

// ReadPacket reads a packet back from the spool (ui.Live).
func (p *livePipeline) ReadPacket(ref analysis.PacketRef) (*capture.Record, error) {
	return p.spool.ReadPacket(ref.Frame, ref.Offset)
}

func (p *livePipeline) exportItems(ids []int) ([]capture.ExportItem, error) {
	p.lr.mu.Lock()
	defer p.lr.mu.Unlock()
	return p.lr.an.ExportItems(ids)
}

// Export writes flows from the spool to path (ui.Live).
func (p *livePipeline) Export(path string, ids []int, overwrite bool) (int, error) {
	items, err := p.exportItems(ids)
	if err != nil {
		return 0, err
	}
	return p.spool.Export(path, items, overwrite)
}

// capturePackets reads src into h until src is closed, or, once stopping
// is set, until it has read the packets the kernel had counted then (or,
// where the backend cannot tell those, until the kernel has no more), for
// at most drainMax.
func capturePackets(src *capture.LiveSource, h *capture.Handoff, stopping *atomic.Bool) error {
	var drainEnd, idleSince time.Time
	settled, exact := false, false
	offer := func(rec *capture.Record) { h.Offer(rec) } // copies the ring's bytes
	for {
		if !settled && stopping.Load() {
			// An error reading the counters is Stats', said in the
			// summary: the capture drains until idle then.
			settled, drainEnd = true, time.Now().Add(drainMax)
			exact, _ = src.Settle()
		}
		err := src.NextFunc(offer)
		switch {
		case err == nil:
			idleSince = time.Time{}
		case errors.Is(err, capture.ErrTimeout):
			h.Flush()
			if idleSince.IsZero() {
				idleSince = time.Now().Add(-flushIdle)
			}
			// Settled, the packets counted in the block the kernel
			// is filling come when its retire timer hands it over.
			if settled && (!exact && time.Since(idleSince) >= drainIdle || time.Now().After(drainEnd)) {
				return nil
			}
			continue
		case errors.Is(err, io.EOF):
			return nil
		default:
			return err
		}
		if settled && time.Now().After(drainEnd) {
			return nil
		}
	}
}

// liveRun is the analysis side of a live capture: it runs in one
// goroutine. The Analyzer is shared with the interactive view under mu;
// the other fields are read once it is done (n at any time).
type liveRun struct {
	mu      sync.Mutex
	an      *analysis.Analyzer
	spool   *capture.Spool
	out     *liveOut
	count   uint64 // -c; 0: no limit
	matched uint64 // packets that matched EXPR
	match   func(*analysis.Packet) bool
	dec     *analysis.Decoder
	pkt     analysis.Packet
	undec   []analysis.NotDecoded // of the batch, left out by EXPR
	n       atomic.Uint64         // packets taken from the queue
	// rejected counts the packets the kernel's filter let through and
	// EXPR, checked on the decoded packet, left out: the kernel's is a
	// coarser pre-filter (it lets tunnels and IPv6 extension headers
	// through for the decoder to look inside).
	rejected atomic.Uint64
	// kernelChecked is set when the kernel's filter ran EXPR on every
	// packet whole, before the snap length cut it: a packet cut before
	// the fields EXPR looks at matched there, and is kept (-s 64 with
	// "port 443" on IPv6 kept none, where tcpdump keeps them all).
	// Without it, such packets are left out and said once (cutSaid).
	kernelChecked bool
	cutSaid       bool
	snaplen       int
	full          chan struct{}
	spoolErr      error
	note          func(string)
}

// analyse takes the packets from h until it is closed.
func (lr *liveRun) analyse(h *capture.Handoff) {
	done := false
	for b := range h.C() {
		if !done {
			done = lr.batch(b.Recs)
		}
		h.Release(b)
	}
}

// batch numbers, spools, writes and analyses one batch of packets, and
// reports whether -c is reached. The Analyzer is locked once for the
// batch, not once a packet: the view's snapshot waits at most for a batch
// (512 packets, about half a millisecond of analysis).
func (lr *liveRun) batch(recs []capture.Record) (done bool) {
	kept := recs[:0]
	n := lr.n.Load()
	for i := range recs {
		rec := &recs[i]
		// The kernel filter only pre-filters (it may be leaky or
		// absent): packets that fail EXPR are neither spooled, written
		// nor analysed, so that -w holds exactly what EXPR selects and its
		// frame numbers are the flows' frame numbers.
		if lr.match != nil {
			lr.dec.Decode(rec, &lr.pkt)
			if !lr.match(&lr.pkt) && !(lr.pkt.HeaderCut && lr.kernelChecked) {
				if lr.pkt.HeaderCut && !lr.cutSaid {
					lr.cutSaid = true
					lr.note(fmt.Sprintf("packets cut by -s %d before the fields the filter looks at are left out: the filter runs in userspace only here; a larger -s keeps them", lr.snaplen))
				}
				lr.rejected.Add(1)
				if lr.pkt.Undecoded != analysis.UndecodedNone {
					lr.notDecoded(&lr.pkt)
				}
				continue
			}
		}
		lr.matched++
		n++
		rec.Frame = n
		rec.Offset = -1
		if lr.spool != nil && lr.spoolErr == nil {
			ref, err := lr.spool.WritePacket(rec)
			if err != nil {
				lr.spoolErr = err
				lr.note(err.Error() + ": packets are no longer spooled")
			} else {
				rec.Offset = ref.Offset
			}
		}
		if lr.out != nil {
			if err := lr.out.write(rec); err != nil {
				lr.note(fmt.Sprintf("%s: %v: no more packets are saved (the capture goes on)", lr.out.path, capture.BareError(err)))
			}
		}
		kept = append(kept, *rec)
		if lr.count > 0 && lr.matched >= lr.count {
			done = true
			break
		}
	}
	lr.mu.Lock()
	for _, u := range lr.undec {
		lr.an.AddNotDecoded(u)
	}
	for i := range kept {
		lr.an.Add(&kept[i])
	}
	lr.mu.Unlock()
	lr.undec = lr.undec[:0]
	lr.n.Store(n)
	if done {
		close(lr.full)
	}
	return done
}

// notDecoded keeps p, which EXPR left out, for the Analyzer to count when
// the decoder could not look inside it, as the analysis of a file does:
// EXPR could not look inside it either, and on a link type synscope does
// not decode a capture with a filter showed no flows and did not say why.
// Such frames are counted by kind, a batch's run of one kind at once.
func (lr *liveRun) notDecoded(p *analysis.Packet) {
	u := analysis.NotDecodedOf(p)
	if k := len(lr.undec) - 1; k >= 0 && lr.undec[k].Same(u) {
		lr.undec[k].Frames++
		return
	}
	lr.undec = append(lr.undec, u)
}

// liveOut writes the captured packets to the -w file, atomically: under a
// temporary name until commit.
type liveOut struct {
	path  string
	f     *capture.AtomicFile
	pw    *capture.PcapWriter
	nw    *capture.PcapngWriter
	id    int
	n     int // packets written
	total int // packets given to write, written or not
	err   error
}

// newLiveOut starts the -w file: pcapng, or pcap for a name that does not
// end in .pcapng (with nanosecond time stamps, which live capture has).
func newLiveOut(path string, overwrite bool, in capture.Interface) (*liveOut, error) {
	f, err := capture.CreateAtomic(path, overwrite)
	if err != nil {
		return nil, err
	}
	lw := &liveOut{path: path, f: f}
	if capture.ExportFormat(path) == "pcap" {
		lw.pw, err = capture.NewPcapWriter(f, in.LinkType, in.SnapLen, true)
	} else if lw.nw, err = capture.NewPcapngWriter(f); err == nil {
		lw.id, err = lw.nw.AddInterfaceLike(in)
	}
	if err != nil {
		f.Abort()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return lw, nil
}

// write appends one packet; after an error it does nothing (commit
// reports it). It returns the error the first time a write fails.
func (lw *liveOut) write(rec *capture.Record) error {
	lw.total++
	if lw.err != nil {
		return nil
	}
	if lw.pw != nil {
		lw.err = lw.pw.WritePacket(rec)
	} else {
		lw.err = lw.nw.WritePacket(lw.id, rec)
	}
	if lw.err == nil {
		lw.n++
	}
	return lw.err
}

// commit flushes the file and renames it into place. On a full disk it
// keeps the packets that fitted, as an export does: the file is cut after
// its last whole record and put in place, and a capture.PartialError says
// how many it holds.
func (lw *liveOut) commit() error {
	if lw.err == nil {
		if lw.pw != nil {
			lw.err = lw.pw.Flush()
		} else {
			lw.err = lw.nw.Flush()
		}
	}
	if lw.err == nil {
		return lw.f.Commit()
	}
	err := capture.BareError(lw.err)
	if !capture.DiskFull(lw.err) {
		lw.f.Abort()
		return fmt.Errorf("%s: %w", lw.path, err)
	}
	kept, cerr := lw.f.CommitPartial()
	switch {
	case cerr != nil:
		return fmt.Errorf("%s: %v; and keeping what was written failed: %v", lw.path, err, cerr)
	case kept == 0:
		return fmt.Errorf("%s: %v: nothing written", lw.path, err)
	}
	lw.n = kept
	return &capture.PartialError{Path: lw.path, Written: kept, Total: lw.total, Err: err}
}

// abort removes the temporary file unless commit put it in place.
func (lw *liveOut) abort() { lw.f.Abort() }
