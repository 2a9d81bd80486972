package ui

import (
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// bindingCase presses one key of one binding after some setup keys and
// checks the state it leads to, and the command.
type bindingCase struct {
	binding string   // KeyMap field
	key     string   // one of its keys
	setup   []string // keys pressed first
	check   func(t *testing.T, m Model, cmd tea.Cmd)
}

// step sends one key without running the command, so that the test can
// look at it.
func step(t *testing.T, m Model, k string) (Model, tea.Cmd) {
	t.Helper()
	tm, cmd := m.Update(keyMsg(k))
	return tm.(Model), cmd
}

func isQuit(cmd tea.Cmd) bool {
	if cmd == nil {
		return false
	}
	_, ok := cmd().(tea.QuitMsg)
	return ok
}

func cursorAt(want int) func(t *testing.T, m Model, cmd tea.Cmd) {
	return func(t *testing.T, m Model, _ tea.Cmd) {
		t.Helper()
		if m.list.cursor != want {
			t.Errorf("list cursor %d, want %d", m.list.cursor, want)
		}
	}
}

func ladderAt(want int) func(t *testing.T, m Model, cmd tea.Cmd) {
	return func(t *testing.T, m Model, _ tea.Cmd) {
		t.Helper()
		if m.state != stateDetail || m.detail.cursor != want {
			t.Errorf("state %d, ladder cursor %d, want %d", m.state, m.detail.cursor, want)
		}
	}
}

func quits(t *testing.T, m Model, cmd tea.Cmd) {
	t.Helper()
	if !isQuit(cmd) {
		t.Error("no quit command")
	}
	if m.loader.ctx.Err() == nil {
		t.Error("reading not stopped")
	}
}

func inState(s viewState) func(t *testing.T, m Model, cmd tea.Cmd) {
	return func(t *testing.T, m Model, _ tea.Cmd) {
		t.Helper()
		if m.state != s || m.help {
			t.Errorf("state %d (help %v), want %d", m.state, m.help, s)
		}
	}
}

// listCases run on a list of 60 flows at 80x24 (18 rows on screen, and
// the line that says how many are above and below).
var listCases = []bindingCase{
	{"Down", "j", nil, cursorAt(1)},
	{"Down", "down", nil, cursorAt(1)},
	{"Up", "k", []string{"j", "j"}, cursorAt(1)},
	{"Up", "up", []string{"j", "j"}, cursorAt(1)},
	{"Bottom", "G", nil, cursorAt(59)},
	{"Bottom", "end", nil, cursorAt(59)},
	{"Top", "g", []string{"G"}, cursorAt(0)},
	{"Top", "home", []string{"G"}, cursorAt(0)},
	{"HalfPageDown", "ctrl+d", nil, cursorAt(9)},
	{"HalfPageUp", "ctrl+u", []string{"G"}, cursorAt(50)},
	{"PageDown", "pgdown", nil, cursorAt(18)},
	{"PageDown", "ctrl+f", nil, cursorAt(18)},
	{"PageUp", "pgup", []string{"G"}, cursorAt(41)},
	{"PageUp", "ctrl+b", []string{"G"}, cursorAt(41)},
	{"Open", "enter", nil, func(t *testing.T, m Model, cmd tea.Cmd) {
		inState(stateDetail)(t, m, cmd)
		if cmd == nil {
			t.Error("no command to read the flow's packets")
		} else if _, ok := cmd().(packetsMsg); !ok {
			t.Error("the command does not read packets")
		}
	}},
	{"Open", "l", nil, inState(stateDetail)},
	{"Open", "right", nil, inState(stateDetail)},
	{"Filter", "/", nil, func(t *testing.T, m Model, _ tea.Cmd) {
		if !m.list.typing || !m.list.input.Focused() {
			t.Error("filter input not focused")
		}
	}},
	{"ClearFilter", "esc", []string{"/", "p", "o", "r", "t", ":", "2", "2", "enter"}, func(t *testing.T, m Model, _ tea.Cmd) {
		if m.list.filter != "" || len(m.list.view.idx) != 60 {
			t.Errorf("filter %q, %d shown", m.list.filter, len(m.list.view.idx))
		}
	}},
	// Sorting keeps the cursor on the flow it was on (flow 2, the first
	// invalid one).
	{"Sort", "s", nil, func(t *testing.T, m Model, _ tea.Cmd) {
		first := &m.list.view.rows[m.list.view.idx[0]]
		if m.list.sortCol != sortID || first.ID != 1 || m.list.current().ID != 2 {
			t.Errorf("sorted by %s, first row %d, cursor on flow %d", m.list.sortCol, first.ID, m.list.current().ID)
		}
	}},
	{"SortReverse", "S", []string{"s"}, func(t *testing.T, m Model, _ tea.Cmd) {
		first := &m.list.view.rows[m.list.view.idx[0]]
		if !m.list.sortDesc || first.ID != 60 || m.list.current().ID != 2 {
			t.Errorf("desc %v, first row %d, cursor on flow %d", m.list.sortDesc, first.ID, m.list.current().ID)
		}
	}},
	{"Mark", "space", nil, func(t *testing.T, m Model, _ tea.Cmd) {
		if len(m.list.marks) != 1 || m.list.cursor != 1 {
			t.Errorf("%d marked, cursor %d", len(m.list.marks), m.list.cursor)
		}
	}},
	{"MarkAll", "a", []string{"/", "p", "o", "r", "t", ":", "2", "2", "enter"}, func(t *testing.T, m Model, _ tea.Cmd) {
		if len(m.list.marks) != 15 {
			t.Errorf("%d marked, want the 15 shown", len(m.list.marks))
		}
		m = press(t, m, "a")
		if len(m.list.marks) != 0 {
			t.Errorf("a again leaves %d marked", len(m.list.marks))
		}
	}},
	{"Help", "?", nil, func(t *testing.T, m Model, _ tea.Cmd) {
		if !m.help {
			t.Error("no help")
		}
	}},
	{"CloseHelp", "?", []string{"?"}, inState(stateList)},
	{"CloseHelp", "esc", []string{"?"}, inState(stateList)},
	{"CloseHelp", "backspace", []string{"?"}, inState(stateList)},
	{"Quit", "q", nil, quits},
	{"Quit", "q", []string{"?"}, quits},
	{"ForceQuit", "ctrl+c", nil, quits},
	{"ForceQuit", "ctrl+c", []string{"/", "x"}, quits},
	// The filter input takes every key but enter, esc and ctrl+c.
	{"Apply", "enter", []string{"/", "s", "t", "a", "t", "u", "s", ":", "i", "n", "v", "a", "l", "i", "d"}, func(t *testing.T, m Model, _ tea.Cmd) {
		if m.list.typing || m.list.filter != "status:invalid" || len(m.list.view.idx) != 24 {
			t.Errorf("typing %v, filter %q, %d shown", m.list.typing, m.list.filter, len(m.list.view.idx))
		}
	}},
	{"Apply", "enter", []string{"/", "s", "t", "a", "t", "u", "s", ":", "b", "a", "d"}, func(t *testing.T, m Model, _ tea.Cmd) {
		if !m.list.typing || m.list.filterErr == "" {
			t.Errorf("a bad filter was taken: typing %v, error %q", m.list.typing, m.list.filterErr)
		}
	}},
	{"Cancel", "esc", []string{"/", "q", "j", "k"}, func(t *testing.T, m Model, _ tea.Cmd) {
		if m.list.typing || m.list.filter != "" || len(m.list.view.idx) != 60 {
			t.Errorf("typing %v, filter %q, %d shown", m.list.typing, m.list.filter, len(m.list.view.idx))
		}
	}},
}

// detailCases run in the drill-down of the seed client's flow (12
// packets; it opens on frame 2, index 1) at 80x16, where every pane
// scrolls.
var detailCases = []bindingCase{
	{"Down", "j", nil, ladderAt(2)},
	{"Down", "down", nil, ladderAt(2)},
	{"Up", "k", nil, ladderAt(0)},
	{"Up", "up", nil, ladderAt(0)},
	{"Bottom", "G", nil, ladderAt(11)},
	{"Bottom", "end", nil, ladderAt(11)},
	{"Top", "g", []string{"G"}, ladderAt(0)},
	{"Top", "home", []string{"G"}, ladderAt(0)},
	{"HalfPageDown", "ctrl+d", []string{"g"}, ladderAt(1)},
	{"HalfPageUp", "ctrl+u", []string{"G"}, ladderAt(10)},
	{"PageDown", "pgdown", []string{"g"}, ladderAt(3)},
	{"PageDown", "ctrl+f", []string{"g"}, ladderAt(3)},
	{"PageUp", "pgup", []string{"G"}, ladderAt(8)},
	{"PageUp", "ctrl+b", []string{"G"}, ladderAt(8)},
	{"NextPane", "tab", nil, func(t *testing.T, m Model, _ tea.Cmd) {
		if m.detail.pane != panePacket {
			t.Errorf("pane %s", m.detail.pane)
		}
		m = press(t, m, "j", "j")
		if m.detail.pktOff != 2 || m.detail.cursor != 1 {
			t.Errorf("packet pane scrolled to %d, ladder at %d", m.detail.pktOff, m.detail.cursor)
		}
	}},
	{"PrevPane", "shift+tab", nil, func(t *testing.T, m Model, _ tea.Cmd) {
		if m.detail.pane != paneFindings {
			t.Errorf("pane %s", m.detail.pane)
		}
	}},
	{"Relative", "r", nil, func(t *testing.T, m Model, _ tea.Cmd) {
		if !m.detail.absolute {
			t.Error("not absolute")
		}
		mustContain(t, m, "2180033885")
	}},
	{"Hex", "x", nil, func(t *testing.T, m Model, _ tea.Cmd) {
		if !m.detail.hex {
			t.Error("no hex dump")
		}
		mustContain(t, m, "0000  00 11 22 33")
	}},
	{"Jump", "enter", []string{"shift+tab", "j", "j", "j"}, func(t *testing.T, m Model, _ tea.Cmd) {
		// The fourth finding is the wrong ACK of frame 3.
		if m.detail.pane != paneLadder || m.detail.cursor != 2 {
			t.Errorf("pane %s, ladder at %d", m.detail.pane, m.detail.cursor)
		}
	}},
	{"Back", "esc", nil, inState(stateList)},
	{"Back", "backspace", nil, inState(stateList)},
	{"Back", "h", nil, inState(stateList)},
	{"Back", "left", nil, inState(stateList)},
	{"Help", "?", nil, func(t *testing.T, m Model, _ tea.Cmd) {
		if !m.help || m.state != stateDetail {
			t.Error("no help over the drill-down")
		}
	}},
	{"CloseHelp", "esc", []string{"?"}, inState(stateDetail)},
	{"Quit", "q", nil, quits},
	{"ForceQuit", "ctrl+c", nil, quits},
}

// exportCases run on the list of 60 flows, in a directory that holds the
// file w offers for the selected flow (flow 2).
var exportCases = []bindingCase{
	{"Export", "w", nil, func(t *testing.T, m Model, _ tea.Cmd) {
		if m.export.stage != exportNaming || m.export.input.Value() != "many-flow2.pcapng" {
			t.Errorf("stage %d, name %q", m.export.stage, m.export.input.Value())
		}
	}},
	{"Write", "enter", []string{"w"}, func(t *testing.T, m Model, cmd tea.Cmd) {
		if m.export.stage != exportBusy || cmd == nil {
			t.Fatalf("stage %d, command %v", m.export.stage, cmd)
		}
		if msg, ok := cmd().(exportCheckedMsg); !ok || !msg.exists {
			t.Errorf("the command does not find the file: %+v", msg)
		}
	}},
	{"Cancel", "esc", []string{"w"}, func(t *testing.T, m Model, _ tea.Cmd) {
		if m.export.active() {
			t.Error("prompt still open")
		}
	}},
	{"Overwrite", "y", []string{"w", "enter"}, func(t *testing.T, m Model, cmd tea.Cmd) {
		if m.export.stage != exportBusy || cmd == nil {
			t.Fatalf("stage %d, command %v", m.export.stage, cmd)
		}
		if msg, ok := cmd().(exportDoneMsg); !ok || msg.err != nil || msg.packets != 3 {
			t.Errorf("the command did not overwrite: %+v", msg)
		}
	}},
	{"Keep", "n", []string{"w", "enter"}, func(t *testing.T, m Model, _ tea.Cmd) {
		if m.export.stage != exportNaming {
			t.Errorf("stage %d, want the name prompt", m.export.stage)
		}
	}},
	{"Keep", "esc", []string{"w", "enter"}, func(t *testing.T, m Model, _ tea.Cmd) {
		if m.export.stage != exportNaming {
			t.Errorf("stage %d, want the name prompt", m.export.stage)
		}
	}},
}

// pathCases run on the seed's connection across its three capture points
// at 80x24 (it opens on the SYN-ACK, row 1, at the client).
var pathCases = []bindingCase{
	{"NextPoint", "tab", nil, func(t *testing.T, m Model, _ tea.Cmd) {
		if m.state != statePath || m.pathView.point != 1 {
			t.Errorf("state %d, point %d", m.state, m.pathView.point)
		}
	}},
	{"PrevPoint", "shift+tab", nil, func(t *testing.T, m Model, _ tea.Cmd) {
		if m.pathView.point != 2 {
			t.Errorf("point %d, want the last", m.pathView.point)
		}
	}},
	{"Down", "j", nil, func(t *testing.T, m Model, _ tea.Cmd) {
		if m.pathView.cursor != 2 {
			t.Errorf("row %d", m.pathView.cursor)
		}
	}},
	{"Bottom", "G", nil, func(t *testing.T, m Model, _ tea.Cmd) {
		if m.pathView.cursor != len(m.pathView.rows)-1 {
			t.Errorf("row %d of %d", m.pathView.cursor, len(m.pathView.rows))
		}
	}},
	{"Open", "enter", []string{"tab"}, func(t *testing.T, m Model, cmd tea.Cmd) {
		if m.state != stateDetail || m.detail.cap != 1 || cmd == nil {
			t.Errorf("state %d, capture %d, command %v", m.state, m.detail.cap, cmd)
		}
	}},
	{"Back", "esc", nil, inState(stateList)},
	{"Export", "w", nil, func(t *testing.T, m Model, _ tea.Cmd) {
		if m.export.stage != exportNaming || m.export.input.Value() != "client-conn1.pcapng" {
			t.Errorf("stage %d, name %q", m.export.stage, m.export.input.Value())
		}
	}},
}

func runCases(t *testing.T, name string, base func(t *testing.T) Model, cases []bindingCase, covered map[string][]string) {
	for _, tc := range cases {
		t.Run(name+"/"+tc.binding+"/"+tc.key, func(t *testing.T) {
			m := press(t, base(t), tc.setup...)
			m, cmd := step(t, m, tc.key)
			tc.check(t, m, cmd)
		})
		covered[tc.binding] = append(covered[tc.binding], tc.key)
	}
}

// TestBindings presses every key of every binding of the KeyMap, with no
// terminal: build the model, send tea.KeyPressMsg, check the state and the
// command.
func TestBindings(t *testing.T) {
	covered := map[string][]string{}
	many := manyFlows(60)
	runCases(t, "list", func(t *testing.T) Model {
		return newLoaded(t, testConfig([]Source{memSource(t, "many.pcap", many)}), 80, 24)
	}, listCases, covered)
	runCases(t, "export", func(t *testing.T) Model {
		t.Chdir(t.TempDir())
		if err := os.WriteFile("many-flow2.pcapng", nil, 0o600); err != nil {
			t.Fatal(err)
		}
		return newLoaded(t, testConfig([]Source{memSource(t, "many.pcap", many)}), 80, 24)
	}, exportCases, covered)
	runCases(t, "path", func(t *testing.T) Model {
		return press(t, newLoaded(t, testConfig(seedPath(t)), 80, 24), "enter")
	}, pathCases, covered)
	runCases(t, "detail", func(t *testing.T) Model {
		return press(t, newLoaded(t, testConfig(seed(t, "seed-client.pcap")), 80, 16), "enter")
	}, detailCases, covered)

	// Every key of every binding has a case.
	km := reflect.ValueOf(DefaultKeyMap(false)).Elem()
	for i := range km.NumField() {
		f := km.Type().Field(i)
		b, ok := km.Field(i).Interface().(key.Binding)
		if !ok {
			continue
		}
		for _, k := range b.Keys() {
			if !slices.Contains(covered[f.Name], k) {
				t.Errorf("binding %s: key %q has no Update test", f.Name, k)
			}
		}
	}
}

// TestHelpNeverLies checks that help shows only bindings that work where
// it is opened.
func TestHelpNeverLies(t *testing.T) {
	m := newLoaded(t, testConfig(seed(t, "seed-client.pcap")), 80, 24)
	// One flow: nothing to move to, so no movement keys in help.
	h := press(t, m, "?")
	for _, absent := range []string{"half page down", "next pane", "hex dump"} {
		if containsPlain(h, absent) {
			t.Errorf("help over a one-flow list offers %q", absent)
		}
	}
	// In the drill-down, "go to frame" only where the findings have the
	// keys.
	d := press(t, m, "enter", "?")
	if containsPlain(d, "go to frame") {
		t.Error("help offers go to frame in the packet ladder")
	}
	d = press(t, m, "enter", "shift+tab", "?")
	if !containsPlain(d, "go to frame") {
		t.Error("help lacks go to frame in the findings")
	}
}

func containsPlain(m Model, s string) bool { return strings.Contains(plain(m), s) }
