package ui

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/synscope/synscope/capture"
	"github.com/synscope/synscope/capture/fixture"
)

// seedDir holds the seed incident's captures.
var seedDir = filepath.Join("..", "testdata")

// testClock is the fixed time tests run at.
var testClock = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

// openFile opens a capture file for a test.
func openFile(t testing.TB, path string) Source {
	t.Helper()
	r, err := capture.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return Source{Name: path, Reader: r}
}

// memSource is a capture held in memory, as --demo has them.
func memSource(t testing.TB, name string, data []byte) Source {
	t.Helper()
	r, err := capture.NewReader(bytes.NewReader(data), name, int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	return Source{Name: name, Reader: r}
}

// seed opens seed captures by base name.
func seed(t testing.TB, names ...string) []Source {
	var out []Source
	for _, n := range names {
		out = append(out, openFile(t, filepath.Join(seedDir, n)))
	}
	return out
}

// testConfig is a configuration with a fixed clock and no theme detection.
func testConfig(sources []Source) Config {
	return Config{Sources: sources, Theme: "dark", now: func() time.Time { return testClock }}
}

// newLoaded builds a model at a size and reads its captures to the end,
// synchronously, as the program would in its commands.
func newLoaded(t testing.TB, cfg Config, w, h int) Model {
	t.Helper()
	m := New(cfg)
	m.tick = func(int) tea.Cmd { return nil }
	m = update(t, m, tea.WindowSizeMsg{Width: w, Height: h})
	m = update(t, m, m.loader.runCmd()())
	return m
}

// update sends msg and runs the commands it returns, feeding their
// messages back, as the program would (ticks aside: tests set m.tick).
func update(t testing.TB, m Model, msgs ...tea.Msg) Model {
	t.Helper()
	queue := append([]tea.Msg(nil), msgs...)
	for n := 0; len(queue) > 0; n++ {
		if n > 1000 {
			t.Fatal("update: too many messages")
		}
		msg := queue[0]
		queue = queue[1:]
		tm, cmd := m.Update(msg)
		m = tm.(Model)
		queue = append(queue, runCmd(cmd)...)
	}
	return m
}

// runCmd runs a command and the commands in its batches, giving up on one
// that does not return within a second (a cursor blink, say).
func runCmd(cmd tea.Cmd) []tea.Msg {
	if cmd == nil {
		return nil
	}
	ch := make(chan tea.Msg, 1)
	go func() { ch <- cmd() }()
	var msg tea.Msg
	select {
	case msg = <-ch:
	case <-time.After(time.Second):
		return nil
	}
	switch msg := msg.(type) {
	case nil:
		return nil
	case tea.BatchMsg:
		var out []tea.Msg
		for _, c := range msg {
			out = append(out, runCmd(c)...)
		}
		return out
	case tea.QuitMsg:
		return nil
	}
	return []tea.Msg{msg}
}

// keyMsg makes the key press a terminal would send for a key name as
// bubbles/key writes it ("j", "enter", "ctrl+d", "shift+tab", "space").
func keyMsg(name string) tea.KeyPressMsg {
	special := map[string]rune{
		"enter": tea.KeyEnter, "esc": tea.KeyEscape, "tab": tea.KeyTab, "backspace": tea.KeyBackspace,
		"up": tea.KeyUp, "down": tea.KeyDown, "left": tea.KeyLeft, "right": tea.KeyRight,
		"pgup": tea.KeyPgUp, "pgdown": tea.KeyPgDown, "home": tea.KeyHome, "end": tea.KeyEnd,
	}
	switch {
	case name == "space":
		return tea.KeyPressMsg{Code: tea.KeySpace, Text: " "}
	case strings.HasPrefix(name, "ctrl+"):
		return tea.KeyPressMsg{Code: rune(name[len(name)-1]), Mod: tea.ModCtrl}
	case name == "shift+tab":
		return tea.KeyPressMsg{Code: tea.KeyTab, Mod: tea.ModShift}
	}
	if r, ok := special[name]; ok {
		return tea.KeyPressMsg{Code: r}
	}
	if len([]rune(name)) != 1 {
		panic("keyMsg: unknown key " + name)
	}
	r := []rune(name)[0]
	return tea.KeyPressMsg{Code: r, Text: name}
}

// press sends keys one by one.
func press(t testing.TB, m Model, keys ...string) Model {
	t.Helper()
	for _, k := range keys {
		m = update(t, m, keyMsg(k))
	}
	return m
}

// plain is the model's view without escape sequences.
func plain(m Model) string { return ansi.Strip(m.View().Content) }

// mustContain fails unless the view holds every string.
func mustContain(t testing.TB, m Model, want ...string) {
	t.Helper()
	v := plain(m)
	for _, w := range want {
		if !strings.Contains(v, w) {
			t.Fatalf("view lacks %q:\n%s", w, v)
		}
	}
}

// flowTemplates are the kinds of flows manyFlows cycles through.
var flowTemplates = []string{
	// ok: handshake, data, FIN both ways
	`+0 C>S S mss=1460 ws=7 sackok
+0.010 S>C SA mss=1400 ws=7 sackok
+0.0001 C>S A
+0.001 C>S PA len=100
+0.010 S>C A
+0.001 C>S FA
+0.010 S>C FA
+0.0001 C>S A`,
	// invalid: the seed's SYN-ACK payload and ACK
	`+0 C>S S mss=1460
+0.017 S>C SA mss=1380 data=zero:2
+0.00002 C>S A ack=+3`,
	// refused
	`+0 C>S S mss=1460
+0.001 S>C RA`,
	// warning: reset by the server after data
	`+0 C>S S mss=1460 ws=7 sackok
+0.010 S>C SA mss=1400 ws=7 sackok
+0.0001 C>S A
+0.001 C>S PA len=50
+0.010 S>C RA`,
	// partial: mid-connection
	`+0 C>S PA len=10
+0.01 S>C A`,
}

// manyFlows builds a capture of n flows by concatenating captures built by
// capture/fixture, one flow each: flow i from 10.1.x.y, cycling through
// flowTemplates.
func manyFlows(n int) []byte { return manyFlowsEdited(n, nil) }

// manyFlowsEdited is manyFlows with each flow's description passed through
// edit, when not nil.
func manyFlowsEdited(n int, edit func(string) string) []byte {
	var out []byte
	for i := range n {
		tmpl := flowTemplates[i%len(flowTemplates)]
		tmpl = strings.ReplaceAll(tmpl, "ack=+3", fmt.Sprintf("ack=%d", 5000+3))
		at := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * 100 * time.Millisecond)
		desc := fmt.Sprintf("time %s\nclient 10.1.%d.%d:%d isn=1000\nserver 192.0.2.%d:%d isn=5000\n%s\n",
			at.Format(time.RFC3339Nano), i/250, i%250+1, 40000+i%20000, i%4+1, []int{443, 80, 22, 8443}[i%4], tmpl)
		if edit != nil {
			desc = edit(desc)
		}
		b := fixture.Build(desc)
		if len(out) == 0 {
			out = append(out, b...)
		} else {
			out = append(out, b[24:]...) // without the pcap file header
		}
	}
	return out
}

// seedPath is the seed's three captures as the capture points of one
// path, labelled as in the issue (-r client=… -r fw-inside=… -r
// fw-outside=…).
func seedPath(t testing.TB) []Source {
	srcs := seed(t, "seed-client.pcap", "seed-inside.pcap", "seed-outside.pcap")
	for i, name := range []string{"client", "fw-inside", "fw-outside"} {
		srcs[i].Name = name
	}
	return srcs
}

// partlyRead is the seed client's capture at 80x24 with its first n
// packets read and shown, the rest not yet.
func partlyRead(t testing.TB, n int) Model {
	t.Helper()
	m := New(testConfig(seed(t, "seed-client.pcap")))
	m.tick = func(int) tea.Cmd { return nil }
	m = update(t, m, tea.WindowSizeMsg{Width: 80, Height: 24})
	c := m.loader.caps[0]
	for range n {
		rec, err := c.rd.Next()
		if err != nil {
			t.Fatal(err)
		}
		c.an.Add(rec)
	}
	return update(t, m, m.loader.snapshot(testClock))
}
