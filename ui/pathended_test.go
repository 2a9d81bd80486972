package ui

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/synscope/synscope/analysis"
)

// endedLines is a connection of 6 requests, each answered, then a 7th
// retried 5 times over 6 s and never answered (review realpath2 s4b: a
// conntrack flush on the way, the client's retransmissions after it).
// answered is how many lines hold the requests answered.
func endedLines() (lines []string, answered int) {
	lines = []string{"+0 C>S S seq=1000 mss=1460", "+0.02 S>C SA seq=5000 ack=1001 mss=1460", "+0.0002 C>S A seq=1001 ack=5001"}
	for i := range 6 {
		c, s := 1001+48*i, 5001+10*i
		lines = append(lines, fmt.Sprintf("+0.25 C>S PA seq=%d ack=%d len=48", c, s), fmt.Sprintf("+0.02 S>C PA seq=%d ack=%d len=10", s, c+48))
	}
	answered = len(lines)
	for _, d := range []string{"+0.25", "+0.4", "+0.8", "+1.6", "+3.2"} {
		lines = append(lines, d+" C>S PA seq=1289 ack=5061 len=48")
	}
	return lines, answered
}

// endedPath is endedLines at inside, and at outside up to the last
// answer: outside's last packet 6.25 s before inside's.
func endedPath(t *testing.T) []Source {
	lines, answered := endedLines()
	return pointSources(t, []string{"inside", "outside"},
		insideHead+"time 2026-01-01T00:00:00Z\n"+strings.Join(lines, "\n")+"\n",
		outsideHead+"time 2026-01-01T00:00:00.0005Z\n"+strings.Join(lines[:answered], "\n")+"\n")
}

// TestPathCellsAfterCapture: the ladder's cells of segments that would
// have passed a point after its capture's last packet say so, not "not
// seen" as of a packet it missed while running; the verdict says the
// segments were not compared (analysis.TestPathCaptureEndedDark), the
// line under the title that outside's capture ended first.
func TestPathCellsAfterCapture(t *testing.T) {
	m := newLoaded(t, testConfig(endedPath(t)), 80, 24)
	if len(m.path.Ended) != 1 {
		t.Fatalf("Ended %+v: the case tests nothing", m.path.Ended)
	}
	m = press(t, m, "enter")
	p := &m.pathView
	lay := p.layout()
	_, answered := endedLines()
	for i, r := range p.rows {
		c := plainCell(p.cell(i, 1, lay))
		switch {
		case i >= answered:
			if c != "○ after capture" {
				t.Errorf("row %d (a retry) at outside: %q, want ○ after capture", i, c)
			}
		case r.Refs[1] < 0:
			t.Errorf("row %d at outside: %q, want its packet", i, c)
		}
	}
	if len(p.rows) != answered+5 {
		t.Errorf("%d rows, want %d", len(p.rows), answered+5)
	}
	// Narrower (four points at 80 columns, review realpath2 s4b), in
	// fewer words: "○ not seen" took 10 columns.
	for w, want := range map[int]string{10: "○ past end", 9: "○ after", 4: "○ after"} {
		if c := plainCell(p.outsideCell(p.rows[answered], 1, w)); c != want {
			t.Errorf("cell of %d columns %q, want %q", w, c, want)
		}
	}
	if c := plainCell(p.outsideCell(p.rows[0], 1, 20)); c != "" {
		t.Errorf("the SYN, while outside's capture ran: %q, want none", c)
	}
	got := plain(m)
	for _, want := range []string{"! connection 1", "5 client segments from frame 16 at inside on came after outside's", "outside ends 6.2 s before inside?"} {
		if !strings.Contains(strings.Join(strings.Fields(got), " "), want) {
			t.Errorf("view lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "not seen") || strings.Contains(got, "the same segments") {
		t.Errorf("view:\n%s", got)
	}
	checkFrame(t, m, 80, 24)
}

// TestPathCellsBeforeCapture: outside's capture began at the 4th request:
// the cells there before it say so.
func TestPathCellsBeforeCapture(t *testing.T) {
	lines, answered := endedLines()
	late := slices.Clone(lines[9:answered])
	late[0] = strings.Replace(late[0], "+0.25", "+0", 1)
	srcs := pointSources(t, []string{"inside", "outside"},
		insideHead+"time 2026-01-01T00:00:00Z\n"+strings.Join(lines[:answered], "\n")+"\n",
		outsideHead+"time 2026-01-01T00:00:01.0812Z\n"+strings.Join(late, "\n")+"\n")
	m := newLoaded(t, testConfig(srcs), 80, 24)
	if len(m.path.Conns) != 1 || m.path.Conns[0].Flows[1] == nil {
		t.Fatalf("%d connections: the case tests nothing", len(m.path.Conns))
	}
	m = press(t, m, "enter")
	p := &m.pathView
	lay := p.layout()
	for i := range 9 {
		if c := plainCell(p.cell(i, 1, lay)); c != "○ before capture" {
			t.Errorf("row %d at outside: %q, want ○ before capture", i, c)
		}
	}
	if p.rows[9].Refs[1] < 0 {
		t.Errorf("the 4th request at outside: %v", p.rows[9].Refs)
	}
	for w, want := range map[int]string{14: "○ before start", 10: "○ before", 8: "○ before"} {
		if c := plainCell(p.outsideCell(p.rows[0], 1, w)); c != want {
			t.Errorf("cell of %d columns %q, want %q", w, c, want)
		}
	}
	checkFrame(t, m, 80, 24)
}

// TestPathReportSummary: the report of several points ends with the
// path's summary, each connection counted once at its worst point (as the
// view's title bar counts), and the path's warnings: it ended with the
// last point's own summary, which said all clean where another point had
// warnings (review realpath2 s1b). The points' own summaries stay.
func TestPathReportSummary(t *testing.T) {
	for _, tc := range []struct {
		name string
		srcs []Source
		last string
	}{
		// The seed: ✗ (its SYN-ACK grew, its ACK was dropped).
		{"seed", seedPath(t), "path summary: 1 connection, ✗ 1 invalid  ! 0 warning  ✓ 0 ok  ? 0 partial"},
		// inside is ! (its segments not compared), outside ✓.
		{"ended", endedPath(t), "path summary: 1 connection, ✗ 0 invalid  ! 1 warning  ✓ 0 ok  ? 0 partial; ! 1 path warning above"},
	} {
		m := newLoaded(t, testConfig(tc.srcs), 80, 24)
		results := make([]*analysis.Result, len(m.caps))
		for i, c := range m.caps {
			results[i] = c.Result
		}
		var buf strings.Builder
		if err := WriteReport(&buf, results, ReportOptions{Path: m.path}); err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimRight(buf.String(), "\n"), "\n")
		if got := lines[len(lines)-1]; got != tc.last {
			t.Errorf("%s: last line %q, want %q", tc.name, got, tc.last)
		}
		if n := strings.Count(buf.String(), "\nsummary: "); n != len(m.caps) {
			t.Errorf("%s: %d points' summaries, want %d", tc.name, n, len(m.caps))
		}
		// The title bar counts the same.
		_, counts := pathRows(m.path, m.c.g)
		title := strings.Fields(strings.SplitN(plain(m), "\n", 2)[0])
		want := []string{"✗", fmt.Sprint(counts[analysis.StatusInvalid]), "!", fmt.Sprint(counts[analysis.StatusWarning])}
		if got := strings.Join(title[len(title)-8:len(title)-4], " "); got != strings.Join(want, " ") {
			t.Errorf("%s: title bar %q, want %q", tc.name, got, want)
		}
	}
	// The ended case's outside alone is clean: its summary, the last
	// before, said so.
	m := newLoaded(t, testConfig(endedPath(t)), 80, 24)
	var buf strings.Builder
	if err := WriteReport(&buf, []*analysis.Result{m.caps[0].Result, m.caps[1].Result}, ReportOptions{Path: m.path}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "summary: ✗ 0 invalid  ! 0 warning  ✓ 1 ok  ? 0 partial\n\npath summary:") {
		t.Errorf("report's end:\n%s", buf.String()[max(0, buf.Len()-300):])
	}
}
