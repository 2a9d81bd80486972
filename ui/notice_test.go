package ui

import (
	"context"
	"encoding/binary"
	"fmt"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/synscope/synscope/analysis"
	"github.com/synscope/synscope/analysis/filter"
	"github.com/synscope/synscope/capture"
)

// cutCapture is manyFlows(n) cut in the middle of its record k+1: the
// first k frames are whole, and the damage starts at byte off, where that
// record does (found by walking the pcap records' lengths).
func cutCapture(t *testing.T, n, k int) (data []byte, off int) {
	t.Helper()
	data = manyFlows(n)
	off = 24
	for range k {
		off += 16 + int(binary.LittleEndian.Uint32(data[off+8:]))
	}
	if off+16+5 >= len(data) {
		t.Fatalf("manyFlows(%d) has fewer than %d frames", n, k+1)
	}
	return data[:off+16+5], off
}

// screenLine returns line i (0-based) of the model's screen.
func screenLine(m Model, i int) string {
	lines := strings.Split(plain(m), "\n")
	if i < 0 {
		i += len(lines)
	}
	return lines[i]
}

// TestDamageUnderFilter: a capture read only up to damage says where the
// damage starts whatever the status line shows. A filter took the status
// line, and nothing on the screen said the capture was cut short. The
// progress line keeps it; the status line, when free, says where in full,
// and at 80 columns the part that matters is not cut.
func TestDamageUnderFilter(t *testing.T) {
	data, off := cutCapture(t, 12, 20)
	m := newLoaded(t, testConfig([]Source{memSource(t, "cut.pcap", data)}), 80, 24)
	if m.caps[0].Damage == nil {
		t.Fatalf("no damage: %q", m.caps[0].Err)
	}
	progress := "✗ damaged after frame 20"
	whole := fmt.Sprintf("✗ cut.pcap: damaged at byte %d after frame 20; everything before it is shown", off)
	if l := screenLine(m, 1); !strings.Contains(l, progress) {
		t.Errorf("progress line %q lacks %q", l, progress)
	}
	if l := screenLine(m, -2); !strings.HasPrefix(l, whole) {
		t.Errorf("status line %q, want it to start %q", l, whole)
	}
	checkFrame(t, m, 80, 24)

	for _, f := range []string{"status:invalid", "443", "marked"} {
		fm := typeFilter(t, m, f)
		if l := screenLine(fm, -2); !strings.HasPrefix(l, "filter: "+f) {
			t.Fatalf("filter %s: status line %q", f, l)
		}
		if l := screenLine(fm, 1); !strings.Contains(l, progress) {
			t.Errorf("filter %s: progress line %q lacks %q", f, l, progress)
		}
		// Typing a filter keeps it too.
		fm = press(t, fm, "/", "x")
		if l := screenLine(fm, 1); !strings.Contains(l, progress) {
			t.Errorf("filter %s, typing: progress line %q lacks %q", f, l, progress)
		}
	}

	// A long name at 80 columns: cut in its middle, the rest whole.
	name := "/var/tmp/captures/firewall-outside-2024-05-01-incident.pcap"
	m = newLoaded(t, testConfig([]Source{memSource(t, name, data)}), 80, 24)
	l := screenLine(m, -2)
	rest := fmt.Sprintf(": damaged at byte %d after frame 20; shown up to there", off)
	if !strings.HasPrefix(l, "✗ /var/") || !strings.Contains(l, "incident.pcap"+rest) || strings.HasSuffix(l, "…") {
		t.Errorf("status line %q: want the name cut in its middle, then %q whole", l, rest)
	}
	checkFrame(t, m, 80, 24)

	// Two points, one damaged: the progress line names it.
	m = newLoaded(t, testConfig([]Source{memSource(t, "client.pcap", manyFlows(12)), memSource(t, "fw.pcap", data)}), 80, 24)
	m = typeFilter(t, m, "status:invalid")
	if l := screenLine(m, 1); !strings.Contains(l, "✗ fw.pcap damaged after frame 20") {
		t.Errorf("two points, filtered: progress line %q does not say fw.pcap is damaged", l)
	}
}

// TestNotDecodedUnderFilter: the count of frames not decoded stays on the
// progress line while a filter has the status line.
func TestNotDecodedUnderFilter(t *testing.T) {
	m := newLoaded(t, testConfig([]Source{memSource(t, "serial.pcapng", serialCapture(t))}), 80, 24)
	m = typeFilter(t, m, "status:ok")
	if l := screenLine(m, 1); !strings.Contains(l, "! 3 not decoded") {
		t.Errorf("progress line %q lacks the frames not decoded", l)
	}
	if l := screenLine(m, -2); !strings.HasPrefix(l, "filter: status:ok") {
		t.Errorf("status line %q", l)
	}
}

// TestProgressKeepsShownMarked: with two capture points the progress line
// ended with the clocks, then how many flows are shown and marked, and
// the sort; at 80 columns the ends were cut, so nothing said that w
// would write flows the filter hid. The clocks go first, then the sort,
// then the frames; never what is shown and marked.
func TestProgressKeepsShownMarked(t *testing.T) {
	// The firewall's copies one hop on (the same packets at both points
	// would be the same capture given twice, which the line says first).
	data, fw := manyFlows(12), manyFlowsEdited(12, func(d string) string { return strings.Replace(d, "isn=1000", "isn=1000 ttl=63", 1) })
	for _, w := range []int{60, 80, 200} {
		m := newLoaded(t, testConfig([]Source{memSource(t, "client.pcap", data), memSource(t, "fw.pcap", fw)}), w, 24)
		m = press(t, m, "space", "space")
		m = typeFilter(t, m, "status:invalid")
		shown, all := m.list.shown()
		if shown == all || shown == 0 {
			t.Fatalf("%d of %d shown: the filter should hide some", shown, all)
		}
		l := screenLine(m, 1)
		for _, want := range []string{fmt.Sprintf("%d shown", shown), "● 2 marked"} {
			if !strings.Contains(l, want) {
				t.Errorf("%d columns: progress line %q lacks %q", w, l, want)
			}
		}
		clocks, sort, frames := strings.Contains(l, "clocks fw.pcap ±0s"), strings.Contains(l, "sort status ▲"), strings.Contains(l, " frames")
		switch {
		case w == 200 && !(clocks && sort && frames):
			t.Errorf("200 columns: progress line %q leaves out what fits", l)
		case w < 200 && clocks:
			t.Errorf("%d columns: progress line %q keeps the clocks", w, l)
		case sort && !frames, clocks && !sort:
			t.Errorf("%d columns: progress line %q leaves out a part before a less important one", w, l)
		case w == 80 && !frames:
			t.Errorf("80 columns: progress line %q leaves out the frames, which fit", l)
		}
		if width(l) > w {
			t.Errorf("%d columns: progress line %q is %d wide", w, l, width(l))
		}
	}
}

// TestCommandLineFilterShown: the command line's filter is on the title
// line, with one capture, several, and live. With one capture it leaves
// out packets before the analysis, so the flows are numbered among the
// packets it keeps, as --json numbers them (analysis.Run with the same
// Match): flow 2 of the whole file is flow 1 here. The title says why.
func TestCommandLineFilterShown(t *testing.T) {
	e, err := filter.ParseArgs([]string{"port", "80"})
	if err != nil {
		t.Fatal(err)
	}
	data := manyFlows(12)
	cfg := testConfig([]Source{memSource(t, "many.pcap", data)})
	cfg.Match, cfg.Filter = analysis.Matcher(e), e
	m := newLoaded(t, cfg, 80, 24)
	if l := screenLine(m, 0); !strings.HasPrefix(l, "synscope  many.pcap  filter port 80 ") {
		t.Errorf("title %q does not show the filter", l)
	}
	r, err := capture.NewReader(strings.NewReader(string(data)), "many.pcap", int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	res, err := analysis.Run(context.Background(), r, analysis.Config{Match: analysis.Matcher(e)})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Flows) != len(m.list.rows) || len(res.Flows) == 0 {
		t.Fatalf("%d rows, --json has %d flows", len(m.list.rows), len(res.Flows))
	}
	for _, row := range m.list.rows {
		f := res.Flow(row.ID)
		if f == nil || f.Client() != row.Client || f.Server().Port() != 80 {
			t.Errorf("row %d (%v) is not --json's flow %d", row.ID, row.Client, row.ID)
		}
	}

	// Several points: the names give way to the filter.
	cfg = testConfig([]Source{memSource(t, "client-side-capture.pcap", data), memSource(t, "firewall-outside-capture.pcap", data)})
	cfg.Match, cfg.Filter = analysis.Matcher(e), e
	m = newLoaded(t, cfg, 80, 24)
	if l := screenLine(m, 0); !strings.Contains(l, "  filter port 80") || !strings.HasPrefix(l, "synscope  1 client") {
		t.Errorf("title %q does not show the filter", l)
	}
	checkFrame(t, m, 80, 24)

	// Live.
	l := newFakeLive(t, memSource(t, "many.pcap", data))
	l.feed(1000)
	lm := New(Config{Live: l, Filter: e, Theme: "dark", now: func() time.Time { return testClock }})
	lm.liveTick = func(time.Duration) tea.Cmd { return nil }
	lm = update(t, lm, tea.WindowSizeMsg{Width: 80, Height: 24})
	lm = update(t, lm, lm.Init()())
	if s := screenLine(lm, 0); !strings.HasPrefix(s, "synscope  live eth0  filter port 80 ") {
		t.Errorf("live title %q does not show the filter", s)
	}

	// No filter, no word of one.
	m = newLoaded(t, testConfig([]Source{memSource(t, "many.pcap", data)}), 80, 24)
	if l := screenLine(m, 0); strings.Contains(l, "filter") {
		t.Errorf("title %q speaks of a filter", l)
	}
}
