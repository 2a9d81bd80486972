package ui

import (
	"context"
	"errors"
	"io"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/synscope/synscope/analysis"
	"github.com/synscope/synscope/analysis/filter"
	"github.com/synscope/synscope/capture"
)

// Snapshot pacing, as termshark does it: a snapshot every 100 ms for the
// first ten, then one a second. Over SSH, fewer frames is kinder. A
// snapshot that took long (a million flows to copy, then to sort) is
// followed by a longer pause, so that snapshots never take more than a
// tenth of the time: the reading comes first.
const (
	// firstTick is sooner: the first snapshot of a large capture is
	// small, quick to copy and sort, and its rows are on screen well
	// within 200 ms.
	firstTick    = 40 * time.Millisecond
	fastTick     = 100 * time.Millisecond
	fastTicks    = 10
	slowTick     = time.Second
	snapshotCost = 10 // pause at least this many times the last snapshot's time
	maxTick      = 10 * time.Second
)

// capLoad is one capture being read. The reading goroutine owns the Reader
// and the Analyzer; snapshots are taken under mu from another goroutine.
type capLoad struct {
	name string
	size int64 // bytes on disk, -1 when unknown (a pipe)
	rd   *capture.Reader

	// store reads packets again for the drill-down.
	store *packetStore

	mu    sync.Mutex
	an    *analysis.Analyzer
	bytes int64
	done  bool
	res   *analysis.Result
	err   error
	// stopped says where reading stopped when the loader was stopped
	// before the capture's end (a *capture.InterruptedError): not
	// damage.
	stopped error
	final   []Row // the rows of a finished capture, made once
}

// loader reads every capture in turn, in a tea.Cmd, and hands out
// snapshots of what it has found so far.
type loader struct {
	caps   []*capLoad
	start  time.Time
	ctx    context.Context
	cancel context.CancelCauseFunc
	// started is set when runCmd's reading begins, and finished is
	// closed when it ends.
	started  atomic.Bool
	finished chan struct{}
	match    func(*analysis.Packet) bool
	// selectConns is set when the filter picks connections (several
	// captures, as points of one path): it leaves no packet out, records
	// which of its primitives each flow's packets match
	// (analysis.Config.Select), and the connections it holds for are kept
	// once the points are joined (analysis.Path.Selector), whole at every
	// point. sel is the filter then.
	selectConns bool
	sel         *filter.Expr
	now         func() time.Time
	// maxFlows is the analysis's bound on flows kept (Config.MaxFlows,
	// or its default).
	maxFlows int
	// took is how long the last snapshot took, in nanoseconds.
	took atomic.Int64
}

func newLoader(sources []Source, match func(*analysis.Packet) bool, sel *filter.Expr, maxFlows int, now func() time.Time) *loader {
	ctx, cancel := context.WithCancelCause(context.Background())
	l := &loader{start: now(), ctx: ctx, cancel: cancel, finished: make(chan struct{}), match: match, now: now, maxFlows: maxFlows,
		selectConns: len(sources) > 1 && !sel.MatchesAll(), sel: sel}
	if maxFlows <= 0 {
		l.maxFlows = analysis.DefaultMaxFlows()
	}
	for _, s := range sources {
		c := &capLoad{name: s.Name, size: -1, rd: s.Reader, store: &packetStore{err: errors.New(s.Name + ": no input")}}
		if s.Reader != nil {
			c.size = s.Reader.Size()
			c.store = fileStore(s.Reader)
		}
		cfg := analysis.Config{Name: s.Name, Match: match, MaxFlows: maxFlows, PayloadSums: len(sources) > 1}
		if l.selectConns {
			cfg.Match, cfg.Select = nil, sel
		}
		c.an = analysis.NewAnalyzer(cfg)
		l.caps = append(l.caps, c)
	}
	return l
}

// loadDoneMsg says that every capture has been read (or reading stopped).
type loadDoneMsg struct{}

// tickMsg asks for the next snapshot while loading.
type tickMsg struct{}

// SnapshotMsg is a copy of what the captures hold so far: the rows of the
// flow list and the progress of the reading. Rows is never changed after
// the message is sent.
type SnapshotMsg struct {
	Rows   []Row
	Caps   []CapProgress
	Done   bool // every capture is read: Rows are final
	Taken  time.Time
	Counts [4]int // rows per analysis.Status
	// Live is the live capture's status, for a snapshot of one.
	Live *LiveStatus
	took time.Duration // how long the snapshot took
}

// CapProgress is the progress of one capture.
type CapProgress struct {
	Name        string
	Bytes, Size int64
	Frames      uint64
	Flows       int
	Evicted     uint64 // flows evicted to stay within MaxFlows
	MaxFlows    int    // the bound that applied
	NotDecoded  uint64 // frames the decoder could not look inside
	Done        bool
	Err         string // damage or a read error, already made Safe
	// Damage is Err when it is damage: where it starts.
	Damage    *capture.DamageError
	Result    *analysis.Result
	RereadErr string // why packets cannot be read again, if so
}

// runCmd reads every capture and returns loadDoneMsg when done. It runs in
// its own goroutine, as every tea.Cmd does.
func (l *loader) runCmd() tea.Cmd {
	return func() tea.Msg {
		l.started.Store(true)
		defer close(l.finished)
		for _, c := range l.caps {
			l.read(c)
		}
		return loadDoneMsg{}
	}
}

// read reads one capture to its end, the Analyzer updated under c.mu one
// packet at a time, so that a snapshot is never blocked by a slow input.
func (l *loader) read(c *capLoad) {
	var err error
	if c.rd == nil {
		err = errors.New(c.name + ": no input")
	} else {
		err = l.readAll(c)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.res = c.an.Finish()
	c.an = nil
	if c.rd != nil {
		c.bytes = c.rd.BytesRead()
		c.res.Notes = append(c.rd.Notes(), c.res.Notes...)
	}
	var ie *capture.InterruptedError
	switch {
	case errors.As(err, &ie):
		// The input gave way to the run's context (a signal).
		c.stopped = err
	case errors.Is(err, context.Canceled):
		// The loader was stopped: q, or a signal (stopBy's cause).
		c.stopped = c.rd.Interrupted(context.Cause(l.ctx))
	case err != nil:
		c.res.Damage = err.Error()
		c.err = err
	}
	if c.stopped != nil {
		c.res.Stopped = c.stopped.Error()
	}
	c.done = true
}

// readAll reads c's capture, through a mapping of the file when it can
// (capture.Reader.MapInput); a file truncated meanwhile faults, which ends
// the capture there as damage. It returns nil at a clean end.
func (l *loader) readAll(c *capLoad) (err error) {
	c.rd.MapInput()
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if v := recover(); v != nil {
			if err = c.rd.FaultError(v); err == nil {
				panic(v)
			}
		}
	}()
	for n := 0; ; n++ {
		if n&255 == 0 && l.ctx.Err() != nil {
			return l.ctx.Err()
		}
		rec, err := c.rd.Next()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		c.add(rec)
	}
}

// add puts one packet in c's Analyzer, under c.mu (released even if the
// packet's bytes fault).
func (c *capLoad) add(rec *capture.Record) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.an.Add(rec)
	c.bytes = c.rd.BytesRead()
}

// snapshotCmd takes a snapshot off the UI goroutine.
func (l *loader) snapshotCmd() tea.Cmd {
	return func() tea.Msg { return l.snapshot(l.now()) }
}

// snapshot copies the rows and progress of every capture. A capture's
// reading waits while its rows are made from its flows, each row made
// once, straight from its flow.
func (l *loader) snapshot(now time.Time) SnapshotMsg {
	start := time.Now()
	s := SnapshotMsg{Done: true, Taken: now}
	for i, c := range l.caps {
		c.mu.Lock()
		p := CapProgress{Name: c.name, Bytes: c.bytes, Size: c.size, Done: c.done}
		if c.done {
			if c.final == nil {
				c.final = make([]Row, 0, len(c.res.Flows))
				for _, f := range c.res.Flows {
					if f != nil && (f.Marked || !l.selectConns) {
						c.final = append(c.final, Row{Cap: i, FlowSummary: f.Summary()})
					}
				}
			}
			if len(l.caps) == 1 {
				// Rows are never changed once made: one capture's
				// final rows are shared, not copied (a million flows
				// are 180 MB).
				s.Rows = c.final
			} else {
				s.Rows = append(s.Rows, c.final...)
			}
			p.Flows = len(c.res.Flows)
			p.Frames = c.res.Frames
			p.Evicted, p.MaxFlows = c.res.Evicted, c.res.MaxFlows
			p.NotDecoded = c.res.NotDecodedFrames
			p.Result = c.res
			if c.err != nil {
				p.Err = c.err.Error()
				errors.As(c.err, &p.Damage)
			}
		} else {
			s.Done = false
			pr := c.an.Progress()
			s.Rows = slices.Grow(s.Rows, pr.Flows)
			for sm := range c.an.AllSummaries() {
				// Until the points are joined, the flows the
				// filter holds for themselves.
				if sm.Marked || !l.selectConns {
					s.Rows = append(s.Rows, Row{Cap: i, FlowSummary: sm})
				}
			}
			p.Frames, p.Flows, p.Evicted, p.MaxFlows = pr.Frames, pr.Flows, pr.Evicted, l.maxFlows
			p.NotDecoded = pr.NotDecoded
		}
		c.mu.Unlock()
		if c.store.err != nil {
			p.RereadErr = c.store.err.Error()
		}
		s.Caps = append(s.Caps, p)
	}
	for i := range s.Rows {
		s.Counts[s.Rows[i].Status]++
	}
	l.took.Store(int64(time.Since(start)))
	return s
}

// stop ends the reading at the next packet and closes the rereaders.
func (l *loader) stop() { l.stopBy(nil) }

// stopBy is stop, for cause (a signal; nil: the user quit).
func (l *loader) stopBy(cause error) {
	l.cancel(cause)
	for _, c := range l.caps {
		c.store.close()
	}
}

// wait waits until the reading has ended, if it began.
func (l *loader) wait() {
	if l.started.Load() {
		<-l.finished
	}
}

// packetStore reads packets of flows back, for the drill-down, the
// correlation of capture points and export checks. Reads are serialised: a
// Rereader is not safe for concurrent use, and a Record read is valid only
// until the next read.
type packetStore struct {
	mu      sync.Mutex
	read    func(ref analysis.PacketRef) (*capture.Record, error) // nil when packets cannot be read again
	err     error                                                 // why, then
	closeFn func() error
}

// fileStore reads packets back from a capture file (or an in-memory
// capture) by their offsets.
func fileStore(r *capture.Reader) *packetStore {
	rr, err := r.Rereader()
	if err != nil {
		return &packetStore{err: err}
	}
	return &packetStore{
		read:    func(ref analysis.PacketRef) (*capture.Record, error) { return rr.ReadAt(ref.Offset, ref.Frame) },
		closeFn: rr.Close,
	}
}

// readAt reads one packet back and returns a copy of it.
func (s *packetStore) readAt(offset int64, frame uint64) (*capture.Record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.read == nil {
		return nil, s.why()
	}
	rec, err := s.read(analysis.PacketRef{Offset: offset, Frame: frame})
	if err != nil {
		return nil, err
	}
	c := *rec
	c.Data = append([]byte(nil), rec.Data...)
	return &c, nil
}

// why says why packets cannot be read again.
func (s *packetStore) why() error {
	if s.err != nil {
		return s.err
	}
	return errors.New("cannot read packets again")
}

// close releases the store's file; reads fail afterwards.
func (s *packetStore) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closeFn != nil {
		s.closeFn()
		s.closeFn = nil
	}
	if s.read != nil {
		s.read, s.err = nil, errors.New("the capture is closed")
	}
}

// tickCmd asks for the n-th snapshot after the pacing delay, longer when
// the last snapshot took long.
func tickCmd(n int, took time.Duration) tea.Cmd {
	return tea.Tick(tickDelay(n, took), func(time.Time) tea.Msg { return tickMsg{} })
}

func tickDelay(n int, took time.Duration) time.Duration {
	d := fastTick
	switch {
	case n == 0:
		d = firstTick
	case n >= fastTicks:
		d = slowTick
	}
	return max(d, min(maxTick, snapshotCost*took))
}

// selectedBy returns the filter that picks connections once the points
// are joined, or nil when none does (selectConns).
func (l *loader) selectedBy() *filter.Expr {
	if !l.selectConns {
		return nil
	}
	return l.sel
}
