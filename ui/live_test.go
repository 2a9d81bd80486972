package ui

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/synscope/synscope/analysis"
	"github.com/synscope/synscope/capture"
)

// fakeLive plays a capture file as a live capture: feed adds packets as
// the capture goroutine would. Packets before oldest count as rotated out
// of the spool.
type fakeLive struct {
	t    testing.TB
	src  Source
	mu   sync.Mutex
	an   *analysis.Analyzer
	rr   *capture.Rereader
	st   LiveStatus
	done bool
}

func newFakeLive(t testing.TB, src Source) *fakeLive {
	return newFakeLiveMax(t, src, 0)
}

// newFakeLiveMax is a fake live capture whose analysis keeps at most
// maxFlows flows (--max-flows).
func newFakeLiveMax(t testing.TB, src Source, maxFlows int) *fakeLive {
	rr, err := src.Reader.Rereader()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rr.Close() })
	return &fakeLive{t: t, src: src, rr: rr, an: analysis.NewAnalyzer(analysis.Config{Name: "eth0", MaxFlows: maxFlows})}
}

// feed adds up to n packets; false when the capture has no more.
func (f *fakeLive) feed(n int) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	for range n {
		rec, err := f.src.Reader.Next()
		if errors.Is(err, io.EOF) {
			return false
		}
		if err != nil {
			f.t.Fatal(err)
		}
		f.an.Add(rec)
		f.st.Packets++
	}
	return true
}

// stop ends the capture: the flows are final.
func (f *fakeLive) stop(why string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.an.Finish()
	f.st.Stopped = why
}

func (f *fakeLive) set(change func(*LiveStatus)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	change(&f.st)
}

func (f *fakeLive) Name() string { return "eth0" }

func (f *fakeLive) Status() LiveStatus {
	f.mu.Lock()
	defer f.mu.Unlock()
	st := f.st
	pr := f.an.Progress()
	st.Flows, st.Evicted, st.NotDecoded = pr.Flows, pr.Evicted, pr.NotDecoded
	if pr.Evicted > 0 {
		st.MaxFlows = pr.Flows
	}
	st.Notes = append([]LiveNote(nil), st.Notes...)
	return st
}

func (f *fakeLive) Snapshot(dst []analysis.FlowSummary) ([]analysis.FlowSummary, LiveStatus) {
	f.mu.Lock()
	dst = f.an.Summaries(dst)
	f.mu.Unlock()
	return dst, f.Status()
}

func (f *fakeLive) Flow(id int) (*analysis.Flow, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.an.FlowCopy(id)
}

func (f *fakeLive) ReadPacket(ref analysis.PacketRef) (*capture.Record, error) {
	f.mu.Lock()
	oldest := f.st.OldestFrame
	f.mu.Unlock()
	if ref.Frame < oldest {
		return nil, fmt.Errorf("frame %d: %w (it holds frames %d and later; --spool-size keeps more)", ref.Frame, capture.ErrRotatedOut, oldest)
	}
	return f.rr.ReadAt(ref.Offset, ref.Frame)
}

func (f *fakeLive) Export(path string, ids []int, overwrite bool) (int, error) {
	f.mu.Lock()
	items, err := f.an.ExportItems(ids)
	f.mu.Unlock()
	if err != nil {
		return 0, err
	}
	return capture.Export(path, []capture.ExportSource{{Reader: f.src.Reader, Items: items}}, overwrite)
}

// newLive builds the view of a live capture at a size, with its first
// snapshot taken, and polls run by hand (poll).
func newLive(t testing.TB, l Live, w, h int) Model {
	t.Helper()
	m := New(Config{Live: l, Theme: "dark", now: func() time.Time { return testClock }})
	m.liveTick = func(time.Duration) tea.Cmd { return nil }
	m = update(t, m, tea.WindowSizeMsg{Width: w, Height: h})
	return update(t, m, m.Init()())
}

// poll is what the ticker does: a snapshot if anything changed.
func poll(t testing.TB, m Model) (Model, bool) {
	t.Helper()
	msg := livePollCmd(m.cfg.Live, m.liveStatus, !m.livePolled)()
	_, idle := msg.(liveIdleMsg)
	return update(t, m, msg), !idle
}

// TestLiveFlowsAppear: flows appear and update as packets arrive; a poll
// that finds nothing new takes no snapshot and changes nothing on screen.
func TestLiveFlowsAppear(t *testing.T) {
	l := newFakeLive(t, memSource(t, "many.pcap", manyFlows(20)))
	m := newLive(t, l, 80, 24)
	mustContain(t, m, "live eth0", "0 pkts", "0 flows", "no flows yet")
	l.feed(3)
	m, took := poll(t, m)
	if !took {
		t.Fatal("no snapshot after new packets")
	}
	mustContain(t, m, "3 pkts", "1 flow", "10.1.0.1:40000", "drops: 0 kernel, 0 queue")
	before := plain(m)
	m, took = poll(t, m)
	if took || plain(m) != before {
		t.Error("a poll with nothing new changed the screen")
	}
	l.feed(40)
	m, _ = poll(t, m)
	mustContain(t, m, "43 pkts", "10.1.0.9:40008")
	if got := len(m.list.rows); got != 11 {
		t.Errorf("%d rows, want 11", got)
	}
	// Drops and rotations show, with their warning glyph.
	l.set(func(s *LiveStatus) { s.KernelDrops, s.QueueDrops, s.Rotations, s.OldestFrame = 7, 2, 1, 20 })
	m, _ = poll(t, m)
	mustContain(t, m, "! drops: 7 kernel, 2 queue · ! spool from frame 20")
	// Stopped (-c): the flows are final and say so.
	l.feed(1000)
	l.stop("after 100 packets (-c)")
	m, _ = poll(t, m)
	mustContain(t, m, "stopped eth0", "capture stopped: after 100 packets (-c); the flows are final")
}

// TestLivePacing: a poll asks for the next one after at least a tenth of
// a second, later when snapshots are slow, never later than two seconds.
func TestLivePacing(t *testing.T) {
	for _, c := range []struct{ took, want time.Duration }{
		{0, 100 * time.Millisecond}, {10 * time.Millisecond, 100 * time.Millisecond},
		{100 * time.Millisecond, 500 * time.Millisecond}, {time.Second, 2 * time.Second},
	} {
		if got := min(liveTickMax, max(liveTick, 5*c.took)); got != c.want {
			t.Errorf("snapshot took %v: next poll after %v, want %v", c.took, got, c.want)
		}
	}
}

// TestLiveNotes: each note shows until a key is pressed, once.
func TestLiveNotes(t *testing.T) {
	l := newFakeLive(t, memSource(t, "many.pcap", manyFlows(5)))
	l.set(func(s *LiveStatus) {
		s.Notes = append(s.Notes, LiveNote{Text: "filter runs in userspace only: vlan is not compiled"})
	})
	l.feed(10)
	m := newLive(t, l, 80, 24)
	mustContain(t, m, "! filter runs in userspace only: vlan is not compiled")
	m = press(t, m, "j")
	if containsPlain(m, "userspace only") {
		t.Error("the note stays after a key")
	}
	l.set(func(s *LiveStatus) {
		s.Notes = append(s.Notes, LiveNote{Text: "spool /tmp/x: no space left on device: packets are no longer spooled", Err: true})
	})
	m, _ = poll(t, m)
	mustContain(t, m, "✗ spool /tmp/x: no space left on device")
	if containsPlain(m, "userspace only") {
		t.Error("a seen note came back")
	}
}

// TestLiveLinkDown: the interface going down is a note, as any; once a
// key has seen it, the status line still says that the interface is down
// for as long as it is, and says nothing once it is back up.
func TestLiveLinkDown(t *testing.T) {
	l := newFakeLive(t, memSource(t, "many.pcap", manyFlows(5)))
	l.feed(10)
	m := newLive(t, l, 80, 24)
	down := time.Date(2026, 12, 4, 14, 3, 7, 0, time.Local)
	l.set(func(s *LiveStatus) {
		s.Down = down
		s.Notes = append(s.Notes, LiveNote{Text: "eth0 went down at 14:03:07: still capturing, waiting for it to come back up"})
	})
	m, _ = poll(t, m)
	mustContain(t, m, "! eth0 went down at 14:03:07: still capturing")
	m = press(t, m, "j")
	mustContain(t, m, "! eth0 is down since 14:03:07: waiting for it to come back up")
	l.set(func(s *LiveStatus) {
		s.Down = time.Time{}
		s.Notes = append(s.Notes, LiveNote{Text: "eth0 came back up at 14:03:09 (down for about 2s)"})
	})
	m, _ = poll(t, m)
	mustContain(t, m, "! eth0 came back up at 14:03:09 (down for about 2s)")
	m = press(t, m, "k")
	if containsPlain(m, "eth0 is down") || containsPlain(m, "came back up") {
		t.Errorf("the status line still speaks of the link:\n%s", plain(m))
	}
	// A capture that stopped while the interface was down says why it
	// stopped.
	l.set(func(s *LiveStatus) { s.Down = down })
	l.stop("capturing on eth0: the interface was removed")
	m, _ = poll(t, m)
	mustContain(t, m, "capture stopped: capturing on eth0: the interface was removed")
}

// TestLiveDrillDown: Enter copies the flow as it stands and reads its
// packets back from the spool; a packet rotated out says so.
func TestLiveDrillDown(t *testing.T) {
	l := newFakeLive(t, seed(t, "seed-client.pcap")[0])
	l.feed(5)
	m := newLive(t, l, 80, 24)
	m = press(t, m, "enter")
	if m.state != stateDetail {
		t.Fatalf("state %d after enter", m.state)
	}
	mustContain(t, m, "flow 1", "eth0, live: as of packet 5", "5 packets", "ACK expected 2180033886")
	// The capture goes on; the drill-down shows the flow as it was.
	l.feed(20)
	m, _ = poll(t, m)
	if len(m.detail.flow.Refs) != 5 {
		t.Errorf("the drill-down's flow changed under it: %d packets", len(m.detail.flow.Refs))
	}
	m = press(t, m, "esc", "enter", "g")
	mustContain(t, m, "as of packet 12", "12 packets", "frame 1 · 66 bytes")
	// Frames before 4 rotated out of the spool.
	l.set(func(s *LiveStatus) { s.Rotations, s.OldestFrame = 1, 4 })
	m = press(t, m, "esc", "enter", "g")
	mustContain(t, m, "frame 1: rotated out of the spool (it holds frames 4 and later")
	m = press(t, m, "j", "j", "j")
	mustContain(t, m, "frame 4 · ")
}

// TestLiveExport writes a live flow from the spool, byte for byte.
func TestLiveExport(t *testing.T) {
	src := seed(t, "seed-client.pcap")[0]
	l := newFakeLive(t, src)
	l.feed(100)
	m := newLive(t, l, 80, 24)
	m = press(t, m, "w")
	if got := m.export.input.Value(); got != "eth0-flow1.pcapng" {
		t.Errorf("offered %q", got)
	}
	out := filepath.Join(t.TempDir(), "live.pcapng")
	m = press(t, typeName(t, m, out), "enter")
	if want := "wrote 12 packets of flow 1 to " + out; m.note != want || m.noteErr {
		t.Fatalf("note %q (error %v), want %q", m.note, m.noteErr, want)
	}
	f, _ := l.Flow(1)
	samePackets(t, "live flow 1", readAll(t, out), flowPackets(t, seed(t, "seed-client.pcap")[0], f))
}

// TestGoldenLive is the view of a live capture: counters, drops, the
// rotated spool, a note.
func TestGoldenLive(t *testing.T) {
	for _, sz := range sizes {
		t.Run(sizeName(sz.w, sz.h), func(t *testing.T) {
			l := newFakeLive(t, memSource(t, "many.pcap", manyFlows(30)))
			l.feed(60)
			l.set(func(s *LiveStatus) {
				s.KernelDrops, s.Rotations, s.OldestFrame = 3, 2, 41
				s.Notes = []LiveNote{{Text: "spool full: the oldest packets are being rotated out (frames 1-20 first); --spool-size raises the bound"}}
			})
			m := newLive(t, l, sz.w, sz.h)
			checkFrame(t, m, sz.w, sz.h)
			mustContain(t, m, "live eth0", "60 pkts", "! drops: 3 kernel, 0 queue · ! spool from frame 41", "spool full")
			golden.RequireEqual(t, plain(m))
		})
	}
}

// TestLiveIdleWritesNothing: the program polls ten times a second, and a
// capture where nothing happens writes nothing to the terminal.
func TestLiveIdleWritesNothing(t *testing.T) {
	l := newFakeLive(t, seed(t, "seed-client.pcap")[0])
	l.feed(12)
	m := New(Config{Live: l, Theme: "dark", now: func() time.Time { return testClock }})
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(80, 24))
	waitFor(t, tm, "10.110.233.50:50183")
	time.Sleep(300 * time.Millisecond)
	io.ReadAll(tm.Output())
	time.Sleep(1500 * time.Millisecond)
	if b, _ := io.ReadAll(tm.Output()); len(b) > 0 {
		t.Errorf("an idle live capture wrote %d bytes: %q", len(b), b)
	}
	// New packets show without a key.
	l.set(func(s *LiveStatus) { s.KernelDrops = 1234567 })
	waitFor(t, tm, "1,234,567")
	tm.Send(keyMsg("q"))
	tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
	if fm := tm.FinalModel(t).(Model); !strings.Contains(plain(fm), "1,234,567") {
		t.Error("final model lacks the drops")
	}
}

// TestEvictedCounter: flows evicted to stay within --max-flows are
// counted in the status bar, in a file as it is read and once read, and
// in a live capture; none evicted, nothing is said.
func TestEvictedCounter(t *testing.T) {
	data := manyFlows(30)
	cfg := testConfig([]Source{memSource(t, "many.pcap", data)})
	cfg.MaxFlows = 10
	m := newLoaded(t, cfg, 80, 24)
	if n, _ := m.list.shown(); n != 10 {
		t.Fatalf("%d flows listed, want the 10 kept", n)
	}
	mustContain(t, m, "10 flows · ! 20 evicted (max 10)")
	checkFrame(t, m, 80, 24)
	golden.RequireEqual(t, plain(m))

	// While reading: the analysis's count so far.
	cfg = testConfig([]Source{memSource(t, "many.pcap", data)})
	cfg.MaxFlows = 10
	m = New(cfg)
	m.tick = func(int) tea.Cmd { return nil }
	m = update(t, m, tea.WindowSizeMsg{Width: 120, Height: 40})
	c := m.loader.caps[0]
	for range 15 * 4 {
		rec, err := c.rd.Next()
		if err != nil {
			t.Fatal(err)
		}
		c.an.Add(rec)
	}
	m = update(t, m, m.loader.snapshot(testClock))
	if !m.loading {
		t.Fatal("the capture reads as done")
	}
	mustContain(t, m, "flows · ! ")
	if ev := m.caps[0].Evicted; ev == 0 || !containsPlain(m, fmt.Sprintf("! %d evicted (max 10)", ev)) {
		t.Fatalf("%d evicted while reading, not shown:\n%s", ev, plain(m))
	}

	// Live.
	l := newFakeLiveMax(t, memSource(t, "many.pcap", data), 10)
	l.feed(1000)
	m = newLive(t, l, 120, 40)
	mustContain(t, m, "10 flows · drops: 0 kernel, 0 queue · ! 20 evicted (max 10)")
	m = newLive(t, newFakeLive(t, memSource(t, "many.pcap", data)), 120, 40)
	if containsPlain(m, "evicted") {
		t.Error("nothing was evicted, yet the status bar says so")
	}
}
