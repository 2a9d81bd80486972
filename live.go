package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/net/bpf"

	"github.com/synscope/synscope/analysis"
	"github.com/synscope/synscope/analysis/filter"
	"github.com/synscope/synscope/capture"
	"github.com/synscope/synscope/ui"
)

// handoffSize is how many packets may wait between the capture goroutine
// and the analysis one before the capture has to drop (and count) them.
const handoffSize = 4096

// Stopping on a signal or --duration, the capture goes on reading what the
// kernel already holds until it has been idle for drainIdle, for at most
// drainMax: nothing captured before the stop is lost.
const (
	drainIdle = 100 * time.Millisecond
	drainMax  = 500 * time.Millisecond
)

// runLive captures on o.live.iface until COUNT packets matched EXPR, D
// passed, or ctx is done (SIGINT, SIGTERM, SIGHUP), then writes what
// runHeadless writes for a file: the JSON records or the report, and with
// -w the captured packets. A one-line summary goes to stderr at the end, as
// tcpdump's.
//
// The order is tcpdump's: open the socket (the one step that needs
// privilege), drop privileges (-Z), then create the files, so that they
// belong to the user. Packets go from the capture goroutine through a
// bounded queue (capture.Handoff, which drops rather than make the capture
// wait) to the analysis goroutine, which numbers them from 1, writes them
// to the spool (and to -w), and feeds the Analyzer. Frame numbers are thus
// those of the -w file, and of the spool's segments read one after the
// other; a flow's packet offsets point into the spool's segment holding
// that frame (capture.Spool.Segments gives each segment's frame range).
//
// TODO(issue 4, TUI): the interactive view of live capture is not built:
// parseArgs refuses -i without --json, --report or -w. Its drill-down will
// read a live flow's packets back from the spool: for a PacketRef, the
// segment whose FirstFrame..LastFrame holds ref.Frame (Spool.Segments;
// gone if rotated out), then capture.Open(seg.Path) and
// Rereader.ReadAt(ref.Offset, ref.Frame).
func runLive(ctx context.Context, o options, match func(*analysis.Packet) bool, stdout, stderr io.Writer) int {
	lo := o.live
	say := func(msg string) { fmt.Fprintf(stderr, "synscope: %s\n", ui.Safe(msg, false)) }

	// A closed pipe on stderr or stdout must not kill the process before
	// the files are flushed: let the write fail instead.
	signal.Ignore(syscall.SIGPIPE)

	prog, note, err := kernelFilter(o)
	if err != nil {
		say(err.Error())
		return 2
	}
	src, err := capture.OpenLive(capture.LiveOptions{
		Interface:  lo.iface,
		SnapLen:    lo.snaplen,
		Promisc:    !lo.noPromisc,
		BufferSize: lo.bufferKiB << 10,
		Filter:     prog,
		Timeout:    drainIdle,
	})
	if err != nil {
		say(err.Error())
		return 1
	}
	defer src.Close()
	if prog != nil && !src.KernelFilter() && note == "" {
		note = "this system's capture backend attaches no kernel filter"
	}
	if note != "" {
		say("filter runs in userspace only: " + note)
	}
	if lo.user != "" {
		if err := capture.DropPrivileges(lo.user); err != nil {
			say(err.Error())
			return 1
		}
	}

	in := src.Interface()
	rotated := false
	spool, err := capture.NewSpool(capture.SpoolOptions{
		Dir:     lo.spoolDir,
		MaxSize: lo.spoolSize,
		Keep:    lo.keepSpool,
		OnRotate: func(r capture.SpoolRotation) {
			if !rotated {
				rotated = true
				say(fmt.Sprintf("spool full: the oldest packets are being rotated out (frames %d-%d first); --spool-size raises the bound", r.Segment.FirstFrame, r.Segment.LastFrame))
			}
		},
	}, in)
	if err != nil {
		say(err.Error())
		return 1
	}
	defer spool.Close()
	var out *liveOut
	if o.write != "" {
		if out, err = newLiveOut(o.write, o.overwrite, in); err != nil {
			say(err.Error())
			return 1
		}
		defer out.abort()
	}
	snap := in.SnapLen
	say(fmt.Sprintf("listening on %s, link-type %s, snapshot length %d bytes", src.Name(), src.LinkType(), snap))

	lr := &liveRun{
		spool: spool,
		out:   out,
		count: uint64(lo.count),
		full:  make(chan struct{}),
		say:   say,
	}
	// EXPR is applied in analyse, before the spool and -w; -c counts the
	// packets that match it, as tcpdump does.
	lr.match, lr.dec = match, analysis.NewDecoder()
	lr.an = analysis.NewAnalyzer(analysis.Config{Name: lo.iface})

	h := capture.NewHandoff(handoffSize)
	var stopping atomic.Bool
	var capErr error
	capDone := make(chan struct{})
	go func() {
		defer close(capDone)
		defer h.Close()
		capErr = capturePackets(src, h, &stopping)
	}()
	anaDone := make(chan struct{})
	go func() {
		defer close(anaDone)
		lr.analyse(h)
	}()

	var timeout <-chan time.Time
	if lo.duration > 0 {
		t := time.NewTimer(lo.duration)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case <-ctx.Done():
		stopping.Store(true)
	case <-timeout:
		stopping.Store(true)
	case <-lr.full:
		src.Close() // -c: no more packets wanted
	case <-capDone:
	}
	select {
	case <-capDone:
	case <-time.After(2 * drainMax):
	}
	src.Close()
	<-capDone
	<-anaDone
	res := lr.an.Finish()
	stats, statsErr := src.Stats()

	status := 0
	if capErr != nil {
		say(capErr.Error())
		status = 1
	}
	// The files first: should the terminal be gone (SIGHUP), the
	// capture is safe before anything is written to it.
	if out != nil {
		if err := out.commit(); err != nil {
			say(err.Error())
			status = 1
		} else if o.write != "" {
			say(fmt.Sprintf("wrote %d packet%s to %s", out.n, plural(out.n), o.write))
		}
	}
	if lr.spoolErr != nil {
		status = 1
	}
	spoolStats := spool.Stats()
	if err := spool.Close(); err != nil && lr.spoolErr == nil {
		say(err.Error())
		status = 1
	}
	if lo.keepSpool {
		say("spool kept in " + spool.Dir())
	}

	var werr error
	switch {
	case o.json:
		werr = res.WriteJSON(stdout)
	case o.report:
		werr = ui.WriteReport(stdout, []*analysis.Result{res}, ui.ReportOptions{ASCII: o.ascii})
	}
	if werr != nil {
		if st := writeFailed(stderr, werr); st != 0 {
			status = st
		}
	}

	if statsErr != nil {
		say(statsErr.Error())
	}
	fmt.Fprintf(stderr, "%d packet%s captured, %d received by filter, %d dropped by kernel, %d dropped by synscope\n",
		lr.n, plural(int(lr.n)), stats.Received, stats.Dropped, h.Dropped())
	if spoolStats.Rotations > 0 {
		fmt.Fprintf(stderr, "%d spool rotation%s: the oldest %d packets were rotated out of the spool\n",
			spoolStats.Rotations, plural(int(spoolStats.Rotations)), spoolStats.RotatedPackets)
	}
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

// capturePackets reads src into h until src is closed, or, once stopping
// is set, until the kernel has no more packets (or drainMax has passed).
func capturePackets(src *capture.LiveSource, h *capture.Handoff, stopping *atomic.Bool) error {
	var drainEnd time.Time
	for {
		rec, err := src.Next()
		switch {
		case err == nil:
			h.Offer(rec)
		case errors.Is(err, capture.ErrTimeout):
			if stopping.Load() {
				return nil
			}
			continue
		case errors.Is(err, io.EOF):
			return nil
		default:
			return err
		}
		if stopping.Load() {
			if drainEnd.IsZero() {
				drainEnd = time.Now().Add(drainMax)
			} else if time.Now().After(drainEnd) {
				return nil
			}
		}
	}
}

// liveRun is the analysis side of a live capture: it runs in one goroutine
// and its fields are read once it is done.
type liveRun struct {
	an       *analysis.Analyzer
	spool    *capture.Spool
	out      *liveOut
	count    uint64 // -c; 0: no limit
	matched  uint64 // packets that matched EXPR
	match    func(*analysis.Packet) bool
	dec      *analysis.Decoder
	pkt      analysis.Packet
	n        uint64 // packets taken from the queue
	full     chan struct{}
	spoolErr error
	say      func(string)
}

// analyse takes the packets from h until it is closed.
func (lr *liveRun) analyse(h *capture.Handoff) {
	done := false
	for rec := range h.C() {
		if done {
			h.Release(rec)
			continue
		}
		// The kernel filter only pre-filters (it may be leaky or
		// absent): packets that fail EXPR are neither spooled, written
		// nor analysed, so that -w holds exactly what EXPR selects and its
		// frame numbers are the flows' frame numbers.
		if lr.match != nil {
			lr.dec.Decode(rec, &lr.pkt)
			if !lr.match(&lr.pkt) {
				h.Release(rec)
				continue
			}
		}
		lr.matched++
		lr.n++
		rec.Frame = lr.n
		rec.Offset = -1
		if lr.spoolErr == nil {
			ref, err := lr.spool.WritePacket(rec)
			if err != nil {
				lr.spoolErr = err
				lr.say(err.Error() + ": packets are no longer spooled")
			} else {
				rec.Offset = ref.Offset
			}
		}
		if lr.out != nil {
			lr.out.write(rec)
		}
		lr.an.Add(rec)
		h.Release(rec)
		if lr.count > 0 && lr.matched >= lr.count {
			done = true
			close(lr.full)
		}
	}
}

// liveOut writes the captured packets to the -w file, atomically: under a
// temporary name until commit.
type liveOut struct {
	path string
	f    *capture.AtomicFile
	pw   *capture.PcapWriter
	nw   *capture.PcapngWriter
	id   int
	n    int
	err  error
}

// newLiveOut starts the -w file: pcapng, or pcap for a name that does not
// end in .pcapng (with nanosecond time stamps, which live capture has).
func newLiveOut(path string, overwrite bool, in capture.Interface) (*liveOut, error) {
	f, err := capture.CreateAtomic(path, overwrite)
	if err != nil {
		if !overwrite && strings.Contains(err.Error(), "already exists") {
			err = fmt.Errorf("%s: already exists; choose another name, or add --overwrite", path)
		}
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
// reports it).
func (lw *liveOut) write(rec *capture.Record) {
	if lw.err != nil {
		return
	}
	if lw.pw != nil {
		lw.err = lw.pw.WritePacket(rec)
	} else {
		lw.err = lw.nw.WritePacket(lw.id, rec)
	}
	if lw.err == nil {
		lw.n++
	}
}

// commit flushes the file and renames it into place.
func (lw *liveOut) commit() error {
	if lw.err == nil {
		if lw.pw != nil {
			lw.err = lw.pw.Flush()
		} else {
			lw.err = lw.nw.Flush()
		}
	}
	if lw.err != nil {
		lw.f.Abort()
		return fmt.Errorf("%s: %w", lw.path, lw.err)
	}
	return lw.f.Commit()
}

// abort removes the temporary file unless commit put it in place.
func (lw *liveOut) abort() { lw.f.Abort() }
