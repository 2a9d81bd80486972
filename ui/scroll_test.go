package ui

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"

	"github.com/synscope/synscope/capture/fixture"
	"github.com/synscope/synscope/themes"
)

// TestListScrollNote: when the flows do not all fit, the line under the
// rows says how many are above and below, as the help page does; the list
// said nothing of flows out of view. At 80x24 the list has 19 lines: 18
// rows and the note, or 19 rows when they all fit.
func TestListScrollNote(t *testing.T) {
	m := newLoaded(t, testConfig([]Source{memSource(t, "many.pcap", manyFlows(60))}), 80, 24)
	note := func(m Model) string { return screenLine(m, 21) }
	if got, want := note(m), "  ▼ 42 more flows below"; got != want {
		t.Errorf("at the top: %q, want %q", got, want)
	}
	m = press(t, m, "G")
	if got, want := note(m), "  ▲ 42 above"; got != want {
		t.Errorf("at the bottom: %q, want %q", got, want)
	}
	// The last flow is on the row above the note.
	if last := m.list.current(); !strings.Contains(screenLine(m, 20), fmt.Sprintf("%d ", last.ID)) || m.list.cursor != 59 {
		t.Errorf("the last flow (%d) is not on the last row: %q", last.ID, screenLine(m, 20))
	}
	m = press(t, m, "g", "pgdown", "j", "j", "j", "j", "j", "j", "j", "j", "j", "j", "j", "j", "j", "j", "j", "j", "j", "j")
	// The cursor on row 36, the last one on screen: rows 19 to 36.
	if got, want := note(m), "  ▲ 19 above · ▼ 23 more flows below"; got != want {
		t.Errorf("in the middle: %q, want %q", got, want)
	}
	checkFrame(t, m, 80, 24)

	// 19 flows fit in the 19 lines: no note; 20 do not.
	m = newLoaded(t, testConfig([]Source{memSource(t, "many.pcap", manyFlows(19))}), 80, 24)
	if l := screenLine(m, 21); strings.Contains(l, "▼") || !strings.Contains(l, "10.1.0.") {
		t.Errorf("19 flows: line 22 is %q, want the last flow", l)
	}
	m = newLoaded(t, testConfig([]Source{memSource(t, "many.pcap", manyFlows(20))}), 80, 24)
	if got, want := note(m), "  ▼ 2 more flows below"; got != want {
		t.Errorf("20 flows: %q, want %q", got, want)
	}

	// Connections at several points.
	data := manyFlows(40)
	m = newLoaded(t, testConfig([]Source{memSource(t, "client.pcap", data), memSource(t, "fw.pcap", data)}), 80, 24)
	n := len(m.list.view.idx)
	if got, want := note(m), fmt.Sprintf("  ▼ %d more connections below", n-18); got != want {
		t.Errorf("path mode: %q, want %q", got, want)
	}
}

// paneTitleLine returns the first screen line that holds title.
func paneTitleLine(t *testing.T, m Model, title string) string {
	t.Helper()
	for _, l := range strings.Split(plain(m), "\n") {
		if strings.Contains(l, title) {
			return l
		}
	}
	t.Fatalf("no line holds %q:\n%s", title, plain(m))
	return ""
}

// TestDetailScrollNotes: each pane of the drill-down says, on its title
// line, how much of it is out of view. The seed client's flow at 80x24:
// the ladder shows 5 of 12 packets, the findings pane 3 of 14 findings.
func TestDetailScrollNotes(t *testing.T) {
	m := newLoaded(t, testConfig(seed(t, "seed-client.pcap")), 80, 24)
	m = press(t, m, "enter")
	lay := m.detail.layout()
	n := len(m.detail.flow.Refs)
	if l := paneTitleLine(t, m, "(relative)"); !strings.HasSuffix(l, fmt.Sprintf("(relative)  ▼ %d more", n-lay.ladderH)) {
		t.Errorf("ladder at the top: %q", l)
	}
	m = press(t, m, "G")
	if l := paneTitleLine(t, m, "(relative)"); !strings.HasSuffix(l, fmt.Sprintf("(relative)  ▲ %d more", n-lay.ladderH)) {
		t.Errorf("ladder at the bottom: %q", l)
	}

	// The findings: a head line starts each one on screen.
	m = press(t, m, "tab", "tab")
	heads := regexp.MustCompile(`(?m)^[✗!·] frame \d+  `)
	total := len(m.detail.flow.Findings)
	on := len(heads.FindAllString(plain(m), -1))
	if on == 0 || on >= total {
		t.Fatalf("%d of %d findings on screen", on, total)
	}
	want := fmt.Sprintf("[findings (%d)]", total)
	if l := paneTitleLine(t, m, want); !strings.HasSuffix(l, fmt.Sprintf("▼ %d more findings below", total-on)) {
		t.Errorf("findings at the top: %q", l)
	}
	m = press(t, m, "G")
	on = len(heads.FindAllString(plain(m), -1))
	if l := paneTitleLine(t, m, want); !strings.HasSuffix(l, fmt.Sprintf("▲ %d above", total-on)) || strings.Contains(l, "▼") {
		t.Errorf("findings at the bottom: %q", l)
	}

	// The packet: its decode is longer than its pane at 80x20.
	m = newLoaded(t, testConfig(seed(t, "seed-client.pcap")), 80, 20)
	m = press(t, m, "enter")
	lay = m.detail.layout()
	hidden := len(m.detail.packetLines(lay.packetW)) - lay.packetH
	if hidden <= 0 {
		t.Fatalf("the packet pane holds the whole packet (%d lines)", lay.packetH)
	}
	frame := fmt.Sprintf("[frame %d]", m.detail.flow.Refs[m.detail.cursor].Frame)
	if l := paneTitleLine(t, m, frame); !strings.HasSuffix(l, fmt.Sprintf("▼ %d more line%s below", hidden, plural(hidden))) {
		t.Errorf("packet at the top: %q", l)
	}
	m = press(t, m, "tab", "G")
	if l := paneTitleLine(t, m, frame); !strings.HasSuffix(l, fmt.Sprintf("▲ %d above", hidden)) {
		t.Errorf("packet at the bottom: %q", l)
	}
	checkFrame(t, m, 80, 20)

	// Wide: the findings pane's title, beside the packet's.
	m = newLoaded(t, testConfig(seed(t, "seed-client.pcap")), 120, 40)
	m = press(t, m, "enter")
	if l := paneTitleLine(t, m, "findings (14)"); !regexp.MustCompile(`findings \(14\) +▼ \d+ more findings below$`).MatchString(l) {
		t.Errorf("wide: %q", l)
	}
}

// TestPathScrollNote: the ladder of a connection across the points says,
// under its rows, how many are above and below.
func TestPathScrollNote(t *testing.T) {
	m := newLoaded(t, testConfig(seedPath(t)), 80, 20)
	m = press(t, m, "enter")
	if m.state != statePath {
		t.Fatalf("state %d", m.state)
	}
	pv := &m.pathView
	shown, n := pv.rowsShown(), len(pv.rows)
	if shown >= n {
		t.Fatalf("%d of %d rows on screen", shown, n)
	}
	lines := strings.Split(plain(m), "\n")
	// Under the rows, over the status and help lines.
	at := len(pv.head()) + shown
	top := pv.offset
	if got, want := lines[at], scrollNoteWant(top, n-top-shown, "segment"); got != want {
		t.Errorf("line %d is %q, want %q", at+1, got, want)
	}
	m = press(t, m, "G")
	lines = strings.Split(plain(m), "\n")
	if got, want := lines[at], fmt.Sprintf("  ▲ %d above", n-shown); got != want {
		t.Errorf("at the bottom: line %d is %q, want %q", at+1, got, want)
	}
	checkFrame(t, m, 80, 20)

	// At 80x25 the seed's 12 rows fit (at 80x24 the selected row's
	// finding, whole under the ladder, takes the line of one): no note.
	m = newLoaded(t, testConfig(seedPath(t)), 80, 25)
	m = press(t, m, "enter")
	if strings.Contains(plain(m), "above") || strings.Contains(plain(m), "more segments") {
		t.Errorf("a note though every row fits:\n%s", plain(m))
	}
}

// scrollNoteWant is the note's long form, written out.
func scrollNoteWant(above, below int, what string) string {
	var parts []string
	if above > 0 {
		parts = append(parts, fmt.Sprintf("▲ %d above", above))
	}
	if below > 0 {
		parts = append(parts, fmt.Sprintf("▼ %d more %s%s below", below, what, plural(below)))
	}
	return "  " + strings.Join(parts, " · ")
}

// TestNoAttributesCursor: TERM=dumb gives a colour profile without
// attributes (colorprofile.NoTTY), which strips the selection's
// background and reverse alike: every row looked the same. Then the
// selected row carries the cursor glyph in its first column, in the list,
// both ladders and the findings pane; a terminal that shows attributes
// (NO_COLOR's ASCII profile keeps reverse) does not need it.
func TestNoAttributesCursor(t *testing.T) {
	for _, tc := range []struct {
		profile colorprofile.Profile
		cursor  bool
	}{{colorprofile.NoTTY, true}, {colorprofile.ASCII, false}, {colorprofile.ANSI256, false}} {
		t.Run(tc.profile.String(), func(t *testing.T) {
			m := newLoaded(t, testConfig([]Source{memSource(t, "many.pcap", manyFlows(12))}), 80, 24)
			m = update(t, m, tea.ColorProfileMsg{Profile: tc.profile})
			m = press(t, m, "j", "space") // the second flow marked, the cursor on the third
			rows := func(m Model) (sel []string) {
				for _, l := range strings.Split(plain(m), "\n") {
					if strings.HasPrefix(l, "▶") {
						sel = append(sel, l)
					}
				}
				return sel
			}
			sel := rows(m)
			if !tc.cursor {
				if len(sel) != 0 {
					t.Errorf("cursor glyphs with attributes: %q", sel)
				}
				return
			}
			cur := m.list.current()
			if len(sel) != 1 || !strings.HasPrefix(sel[0], fmt.Sprintf("▶%s  %d ", StatusGlyph(m.c.g, cur.Status), cur.ID)) {
				t.Fatalf("selected rows %q, want flow %d's", sel, cur.ID)
			}
			// The marked flow, selected: the mark moves after the status.
			m = press(t, m, "k")
			if sel = rows(m); len(sel) != 1 || !strings.HasPrefix(sel[0], "▶"+StatusGlyph(m.c.g, m.list.current().Status)+"● ") {
				t.Errorf("marked and selected: %q", sel)
			}
			// The ladder, then the findings pane.
			m = press(t, m, "enter")
			if sel = rows(m); len(sel) != 2 || !strings.HasPrefix(sel[0], "▶ frame") || !strings.HasPrefix(sel[1], "▶→") && !strings.HasPrefix(sel[1], "▶←") {
				t.Errorf("ladder: %q", sel)
			}
			m = press(t, m, "tab", "tab")
			found := false
			for _, l := range rows(m) {
				found = found || regexp.MustCompile(`^▶[✗!·] frame \d+  `).MatchString(l)
			}
			if !found {
				t.Errorf("no selected finding:\n%s", plain(m))
			}
			// The connection's ladder.
			pm := newLoaded(t, testConfig(seedPath(t)), 80, 24)
			pm = update(t, pm, tea.ColorProfileMsg{Profile: tc.profile})
			pm = press(t, pm, "enter")
			if sel = rows(pm); len(sel) != 1 || !strings.Contains(sel[0], "✗ SYN-ACK +2B") {
				t.Errorf("connection ladder: %q", sel)
			}
		})
	}
}

// TestLadderModeAlwaysShown: at 80 columns the ladder's title of a flow of
// 20,003 packets has room for 7 columns after "(relative)": the note of the
// packets out of view gets shorter ("▲14k▼6k", the arrows alone), and the
// mode stays whole, relative and absolute, at the top, in the middle and
// at the bottom. rightNote used to cut the mode to "(relativ" and then to
// nothing, so that r changed every number with nothing saying which were
// shown.
func TestLadderModeAlwaysShown(t *testing.T) {
	var desc strings.Builder
	desc.WriteString(`client 10.0.0.1:40000 isn=1000 win=64240
server 10.0.0.2:443 isn=5000 win=65535
+0 C>S S mss=1460 ws=7 sackok
+0.01 S>C SA mss=1460 ws=7 sackok
+0.001 C>S A
`)
	for range 10000 {
		desc.WriteString("+0.0001 S>C A len=1000\n+0.0001 C>S A\n")
	}
	m := newLoaded(t, testConfig([]Source{memSource(t, "big.pcap", fixture.Build(desc.String()))}), 80, 24)
	m = press(t, m, "enter")
	if n := len(m.detail.flow.Refs); n != 20003 {
		t.Fatalf("%d packets in the flow, want 20003", n)
	}
	title := func(m Model, mode string) string {
		l := paneTitleLine(t, m, "frame      time")
		if !strings.Contains(l, "("+mode+")") {
			t.Errorf("ladder title without %q: %q", "("+mode+")", l)
		}
		return l
	}
	if l := title(m, "relative"); !strings.HasSuffix(l, "(relative)    ▼19k") {
		t.Errorf("at the top: %q", l)
	}
	m = press(t, m, "G")
	if l := title(m, "relative"); !strings.HasSuffix(l, "(relative)    ▲19k") {
		t.Errorf("at the bottom: %q", l)
	}
	m.detail.offset = 14000
	if l := title(m, "relative"); !strings.HasSuffix(l, "(relative) ▲14k▼5k") {
		t.Errorf("in the middle: %q", l)
	}
	m = press(t, m, "r")
	m.detail.offset = 14000
	if l := title(m, "absolute"); !strings.HasSuffix(l, "(absolute) ▲14k▼5k") {
		t.Errorf("absolute, in the middle: %q", l)
	}
	checkFrame(t, m, 80, 24)
}

// TestLadderNote: the ladder's note at each room it may get (after one
// column of space; scrollNote's forms keep two).
func TestLadderNote(t *testing.T) {
	g := themes.Unicode
	for _, tc := range []struct {
		above, below, room int
		want               string
	}{
		{0, 0, 40, ""},
		{3, 9, 40, "▲ 3 above · ▼ 9 more packets below"},
		{14001, 6001, 19, "▲ 14,001 · ▼ 6,001"},
		{14001, 6001, 18, "▲14k▼6k"},
		{14001, 6001, 17, "▲14k▼6k"},
		{14001, 6001, 7, "▲14k▼6k"},
		{14001, 6001, 6, "▲▼"},
		{14001, 0, 4, "▲14k"},
		{999, 1_500_000, 7, "▲999▼1M"},
		{0, 2_000_000_001, 3, "▼2G"},
		{14001, 6001, 1, ""},
	} {
		if got := ladderNote(g, tc.above, tc.below, tc.room); got != tc.want {
			t.Errorf("%d above, %d below, %d columns: %q, want %q", tc.above, tc.below, tc.room, got, tc.want)
		}
	}
}
