package ui

import (
	"errors"
	"fmt"
	"slices"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/synscope/synscope/analysis"
	"github.com/synscope/synscope/capture"
)

// Live is a live capture as the TUI sees it. The command runs the capture,
// the spool and the analysis; the TUI takes snapshots of the flows, reads
// packets back from the spool and exports flows through this. Every
// method may be called from any goroutine.
type Live interface {
	// Name is the interface captured on.
	Name() string
	// Status returns the counters; it is cheap.
	Status() LiveStatus
	// Snapshot appends the summaries of every flow so far to dst, in id
	// order, and returns the counters they go with.
	Snapshot(dst []analysis.FlowSummary) ([]analysis.FlowSummary, LiveStatus)
	// Flow returns a copy of a flow as it stands (its status
	// provisional while the capture runs).
	Flow(id int) (*analysis.Flow, bool)
	// ReadPacket reads a packet back from the spool. One rotated out of
	// it gives an error that says so.
	ReadPacket(ref analysis.PacketRef) (*capture.Record, error)
	// Export writes the packets of flows, read back from the spool, to
	// path (.pcapng or .pcap), atomically and 0600, and returns how many
	// it wrote.
	Export(path string, ids []int, overwrite bool) (int, error)
}

// LiveStatus is what the status bar shows of a live capture.
type LiveStatus struct {
	Packets        uint64 // packets that matched EXPR: spooled and analysed
	Flows          int
	Evicted        uint64 // flows evicted to stay within --max-flows
	MaxFlows       int    // that bound
	NotDecoded     uint64 // frames the decoder could not look inside
	KernelDrops    uint64 // the kernel's ring was full
	QueueDrops     uint64 // the analysis fell behind the capture
	Rotations      uint64 // spool files rotated out
	RotatedPackets uint64 // packets in them
	OldestFrame    uint64 // the oldest packet the spool still holds
	// Stopped says why the capture stopped (-c, --duration, an error);
	// empty while it runs. The flows are final then.
	Stopped string
	// Down is when the interface went down (ip link set down, an HA
	// failover), zero while it is up: the capture waits for it.
	Down time.Time
	// Notes are things to say once each (the filter runs in userspace
	// only, the spool is full, a write failed), oldest first. The slice
	// only grows.
	Notes []LiveNote
	// WaitEnds is when the first SYN or SYN-ACK still waiting for its
	// answer stops waiting (Unix nanoseconds; 0 when none waits): its
	// row changes then without a packet (analysis.Analyzer.Age).
	WaitEnds int64
}

// LiveNote is one thing to tell the user about a live capture.
type LiveNote struct {
	Text string
	Err  bool // something failed
}

// same reports whether two statuses show the same thing.
func (s LiveStatus) same(t LiveStatus) bool {
	return s.Packets == t.Packets && s.Flows == t.Flows && s.Evicted == t.Evicted && s.NotDecoded == t.NotDecoded &&
		s.KernelDrops == t.KernelDrops && s.QueueDrops == t.QueueDrops &&
		s.Rotations == t.Rotations && s.OldestFrame == t.OldestFrame && s.Stopped == t.Stopped && s.Down.Equal(t.Down) && len(s.Notes) == len(t.Notes)
}

// Live snapshots are taken every liveTick at most, slower when a snapshot
// takes long (a large flow table), so that they never take more than a
// fifth of the time.
const (
	liveTick    = 100 * time.Millisecond
	liveTickMax = 2 * time.Second
)

// liveIdleMsg says that nothing changed since the last snapshot.
type liveIdleMsg struct{}

// liveFlowMsg carries a copy of a live flow for the drill-down.
type liveFlowMsg struct {
	id      int
	flow    *analysis.Flow
	packets uint64 // packets captured when it was taken
}

// liveStore reads packets back from a live capture's spool.
func liveStore(l Live) *packetStore {
	return &packetStore{read: l.ReadPacket}
}

// livePollCmd takes a snapshot when the capture has changed since prev,
// off the UI goroutine.
func livePollCmd(l Live, prev LiveStatus, first bool) tea.Cmd {
	return func() tea.Msg {
		if st := l.Status(); !first && st.same(prev) && (st.WaitEnds == 0 || time.Now().UnixNano() < st.WaitEnds) {
			return liveIdleMsg{}
		}
		start := time.Now()
		sums, st := l.Snapshot(nil)
		s := SnapshotMsg{Taken: start, Live: &st, took: time.Since(start)}
		s.Rows = make([]Row, len(sums))
		for i, sm := range sums {
			s.Rows[i] = Row{FlowSummary: sm}
			s.Counts[sm.Status]++
		}
		s.Caps = []CapProgress{{Name: l.Name(), Frames: st.Packets, Flows: st.Flows, Evicted: st.Evicted, MaxFlows: st.MaxFlows,
			Done: st.Stopped != ""}}
		return s
	}
}

// liveTickCmd asks for the next poll, later when snapshots are slow.
func liveTickCmd(took time.Duration) tea.Cmd {
	d := min(liveTickMax, max(liveTick, 5*took))
	return tea.Tick(d, func(time.Time) tea.Msg { return tickMsg{} })
}

// liveFlowCmd copies a flow of the live capture, off the UI goroutine.
func liveFlowCmd(l Live, id int) tea.Cmd {
	return func() tea.Msg {
		f, ok := l.Flow(id)
		if !ok {
			return nil
		}
		return liveFlowMsg{id: id, flow: f, packets: l.Status().Packets}
	}
}

// applyLive shows a snapshot of the live capture and schedules the next
// poll.
func (m Model) applyLive(s SnapshotMsg) (Model, tea.Cmd) {
	m.liveStatus, m.livePolled = *s.Live, true
	m.caps = s.Caps
	var cmd tea.Cmd
	m.list, cmd = m.list.setRows(s.Rows, s.Counts)
	return m, tea.Batch(cmd, m.liveTick(s.took))
}

// liveExportJob writes flows of the live capture from its spool.
func (m *Model) liveExportJob(refs []flowRef) exportJob {
	ids := make([]int, len(refs))
	for i, r := range refs {
		ids[i] = r.id
	}
	slices.Sort(ids)
	l := m.cfg.Live
	return exportJob{
		what: flowsWhat(refs, false), name: exportName(l.Name(), refs, false), sources: 1,
		write: func(path string, overwrite bool) (int, error) {
			if len(ids) == 0 {
				return 0, errors.New("no flow to write")
			}
			return l.Export(path, ids, overwrite)
		},
	}
}

// liveName is the title's name of the capture: the interface, and whether
// the capture runs.
func (m *Model) liveName() string {
	state := "live"
	if m.liveStatus.Stopped != "" {
		state = "stopped"
	}
	return state + " " + m.c.safe(m.cfg.Live.Name())
}

// liveProgress is the line under the title: packets, flows, drops and the
// spool's rotations, then what the list shows. Parts that do not fit are
// left out from the end.
func (m *Model) liveProgress() string {
	st, g := m.c.styles, m.c.g
	s := &m.liveStatus
	parts := []string{fmt.Sprintf("%s pkt%s", commas(s.Packets), plural(int(s.Packets))),
		fmt.Sprintf("%s flow%s", commas(uint64(s.Flows)), plural(s.Flows))}
	drops := fmt.Sprintf("drops: %s kernel, %s queue", commas(s.KernelDrops), commas(s.QueueDrops))
	if s.KernelDrops+s.QueueDrops > 0 {
		drops = st.Status.Warning.Render(g.Warning + " " + drops)
	}
	parts = append(parts, drops)
	if s.Evicted > 0 {
		parts = append(parts, m.evictedNote(s.Evicted))
	}
	if s.NotDecoded > 0 {
		parts = append(parts, m.notDecodedNote(s.NotDecoded))
	}
	if s.Rotations > 0 {
		// The oldest part of the spool is gone: drill-down and export
		// reach back to this frame only.
		parts = append(parts, st.Status.Warning.Render(fmt.Sprintf("%s spool from frame %s", g.Warning, commas(s.OldestFrame))))
	}
	return m.fitProgress(parts)
}

// liveNote is the status line of a live capture: the newest note not yet
// seen (a key press sees them), else why the capture stopped, else that
// the interface is down, for as long as it is: no packet comes then, and a
// quiet list must not read as quiet traffic.
func (m *Model) liveNote() string {
	if m.cfg.Live == nil {
		return ""
	}
	st, g := m.c.styles, m.c.g
	s := &m.liveStatus
	if n := len(s.Notes); n > m.liveSeen {
		note := s.Notes[n-1]
		if note.Err {
			return st.Error.Render(g.Invalid + " " + m.c.safe(note.Text))
		}
		return st.Status.Warning.Render(g.Warning + " " + m.c.safe(note.Text))
	}
	if s.Stopped != "" {
		return st.Dim.Render("capture stopped: " + m.c.safe(s.Stopped) + "; the flows are final")
	}
	if !s.Down.IsZero() {
		return st.Status.Warning.Render(fmt.Sprintf("%s %s is down since %s: waiting for it to come back up",
			g.Warning, m.c.safe(m.cfg.Live.Name()), s.Down.Format("15:04:05")))
	}
	return ""
}
