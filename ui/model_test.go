package ui

import (
	"image/color"
	"io"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/exp/teatest/v2"
)

// TestOpenWhileLoading: Enter on a flow whose capture is still being read
// opens it as soon as the capture is done.
func TestOpenWhileLoading(t *testing.T) {
	m := partlyRead(t, 3)
	mustContain(t, m, "reading", "10.110.233.50:50183")
	m = press(t, m, "enter")
	if m.state != stateList || !m.hasPending {
		t.Fatalf("state %d, pending %v", m.state, m.hasPending)
	}
	mustContain(t, m, "flow 1 opens when its capture has been read")
	m = update(t, m, m.loader.runCmd()())
	if m.state != stateDetail {
		t.Fatal("the flow did not open when its capture was read")
	}
	mustContain(t, m, "ACK expected 2180033886")
}

// TestSnapshotPacing: 100 ms snapshots at first, then one a second; none
// after the reading is done.
func TestSnapshotPacing(t *testing.T) {
	m := New(testConfig(seed(t, "seed-client.pcap")))
	var asked []int
	m.tick = func(n int) tea.Cmd { asked = append(asked, n); return nil }
	for i := range 12 {
		tm, _ := m.Update(m.loader.snapshot(testClock.Add(time.Duration(i) * time.Millisecond)))
		m = tm.(Model)
	}
	if len(asked) != 12 || asked[11] != 12 {
		t.Fatalf("ticks asked: %v", asked)
	}
	m = update(t, m, m.loader.runCmd()())
	n := len(asked)
	tm, cmd := m.Update(tickMsg{})
	if cmd != nil || len(asked) != n || tm.(Model).loading {
		t.Error("snapshots go on after the reading is done")
	}
}

// TestResize lays the drill-down out again at every size, down to below
// the minimum and back.
func TestResize(t *testing.T) {
	m := newLoaded(t, testConfig(seed(t, "seed-client.pcap")), 120, 40)
	m = press(t, m, "enter", "G")
	for _, sz := range []struct{ w, h int }{{80, 24}, {200, 60}, {59, 30}, {60, 15}, {100, 20}, {120, 40}} {
		m = update(t, m, tea.WindowSizeMsg{Width: sz.w, Height: sz.h})
		checkFrame(t, m, sz.w, sz.h)
		if sz.w >= minWidth && sz.h >= minHeight {
			// The cursor (frame 12) stays on screen; at 60 columns
			// without its time, which leaves room for the verdicts.
			if sz.w >= 80 {
				mustContain(t, m, "6.047779")
			} else {
				mustContain(t, m, "12 RA")
			}
		}
	}
	m = press(t, m, "esc")
	for _, sz := range []struct{ w, h int }{{80, 24}, {60, 15}} {
		m = update(t, m, tea.WindowSizeMsg{Width: sz.w, Height: sz.h})
		checkFrame(t, m, sz.w, sz.h)
	}
}

// TestIdleWritesNothing: once the capture is read, a screen nobody
// touches writes nothing to the terminal.
func TestIdleWritesNothing(t *testing.T) {
	tm := teatest.NewTestModel(t, New(testConfig(seed(t, "seed-client.pcap"))), teatest.WithInitialTermSize(80, 24))
	waitFor(t, tm, "12 frames")
	time.Sleep(300 * time.Millisecond) // the last tick of the loading
	io.ReadAll(tm.Output())
	time.Sleep(1500 * time.Millisecond)
	if b, _ := io.ReadAll(tm.Output()); len(b) > 0 {
		t.Errorf("an idle screen wrote %d bytes: %q", len(b), b)
	}
	tm.Send(keyMsg("q"))
	tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
}

// TestBackgroundPicksTheme: without --theme, light or dark follows the
// background the terminal reports; a theme the user chose stays.
func TestBackgroundPicksTheme(t *testing.T) {
	cfg := testConfig(seed(t, "seed-client.pcap"))
	cfg.Theme = ""
	m := newLoaded(t, cfg, 80, 24)
	if m.c.styles.Theme.Name != "dark" {
		t.Fatalf("default theme %s", m.c.styles.Theme.Name)
	}
	m = update(t, m, tea.BackgroundColorMsg{Color: color.White})
	if m.c.styles.Theme.Name != "light" {
		t.Errorf("on a white background: %s", m.c.styles.Theme.Name)
	}
	m = update(t, m, tea.BackgroundColorMsg{Color: color.Black})
	if m.c.styles.Theme.Name != "dark" {
		t.Errorf("on a black background: %s", m.c.styles.Theme.Name)
	}
	cfg.Theme = "high-contrast"
	m = newLoaded(t, cfg, 80, 24)
	m = update(t, m, tea.BackgroundColorMsg{Color: color.White})
	if m.c.styles.Theme.Name != "high-contrast" {
		t.Errorf("the user's theme became %s", m.c.styles.Theme.Name)
	}
}

// TestTickDelay: the first snapshot comes soon, then ten at 100 ms, then
// one a second; a snapshot that took long is followed by a pause ten times
// as long (at most 10 s), so that copying and sorting a million flows
// never takes more than a tenth of the time the reading has.
func TestTickDelay(t *testing.T) {
	for _, tc := range []struct {
		n    int
		took time.Duration
		want time.Duration
	}{
		{0, 0, 40 * time.Millisecond},
		{1, 0, 100 * time.Millisecond},
		{9, time.Millisecond, 100 * time.Millisecond},
		{10, 0, time.Second},
		{3, 50 * time.Millisecond, 500 * time.Millisecond},
		{0, 30 * time.Millisecond, 300 * time.Millisecond},
		{20, 300 * time.Millisecond, 3 * time.Second},
		{20, 5 * time.Second, 10 * time.Second},
	} {
		if got := tickDelay(tc.n, tc.took); got != tc.want {
			t.Errorf("tickDelay(%d, %v) = %v, want %v", tc.n, tc.took, got, tc.want)
		}
	}
}
