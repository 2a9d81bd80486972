package ui

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/exp/golden"

	"github.com/synscope/synscope/analysis"
	"github.com/synscope/synscope/capture"
)

// typeName replaces the export prompt's file name.
func typeName(t *testing.T, m Model, name string) Model {
	t.Helper()
	if m.export.stage != exportNaming {
		t.Fatalf("export stage %d, want the name prompt", m.export.stage)
	}
	m.export.input.SetValue("")
	for _, r := range name {
		m = update(t, m, tea.KeyPressMsg{Code: r, Text: string(r)})
	}
	return m
}

// readAll reads every packet of a capture file: frame, time stamp, bytes.
type packet struct {
	ts   int64
	orig uint32
	lt   int
	data []byte
}

func readAll(t *testing.T, path string) []packet {
	t.Helper()
	r, err := capture.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var out []packet
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, packet{rec.Timestamp, rec.OrigLen, int(rec.LinkType), bytes.Clone(rec.Data)})
	}
}

// flowPackets reads a flow's packets back from its source, in order.
func flowPackets(t *testing.T, src Source, f *analysis.Flow) []packet {
	t.Helper()
	rr, err := src.Reader.Rereader()
	if err != nil {
		t.Fatal(err)
	}
	defer rr.Close()
	var out []packet
	for _, ref := range f.Refs {
		rec, err := rr.ReadAt(ref.Offset, ref.Frame)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, packet{rec.Timestamp, rec.OrigLen, int(rec.LinkType), bytes.Clone(rec.Data)})
	}
	return out
}

func samePackets(t *testing.T, what string, got, want []packet) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d packets, want %d", what, len(got), len(want))
	}
	for i := range got {
		if got[i].ts != want[i].ts || got[i].orig != want[i].orig || got[i].lt != want[i].lt || !bytes.Equal(got[i].data, want[i].data) {
			t.Errorf("%s: packet %d differs: %+v, want %+v", what, i+1, got[i], want[i])
		}
	}
}

// TestExportCurrentFlow: w on the list with nothing marked offers a name
// made of the capture's and the flow's, takes every key while open (q does
// not quit), writes the flow's packets byte for byte, 0600, and says so.
func TestExportCurrentFlow(t *testing.T) {
	src := memSource(t, "many.pcap", manyFlows(12))
	m := newLoaded(t, testConfig([]Source{src}), 80, 24)
	m = press(t, m, "s", "g", "j", "j") // sorted by id: flow 3
	m = press(t, m, "w")
	if m.export.stage != exportNaming || m.export.input.Value() != "many-flow3.pcapng" {
		t.Fatalf("stage %d, name %q", m.export.stage, m.export.input.Value())
	}
	mustContain(t, m, "write flow 3 to many-flow3.pcapng", "enter write")
	// A name long enough to wrap whatever the temporary directory's
	// random part (8 digits made the line exactly 80 columns).
	out := filepath.Join(t.TempDir(), "flow-three-of-many-flows.pcapng")
	m = typeName(t, m, out+"q")
	m = press(t, m, "backspace")
	if m.export.input.Value() != out || m.state != stateList || m.list.cursor != 2 {
		t.Fatalf("keys leaked out of the prompt: value %q, state %d, cursor %d", m.export.input.Value(), m.state, m.list.cursor)
	}
	m = press(t, m, "enter")
	if m.export.active() {
		t.Fatalf("prompt still open at stage %d: %s", m.export.stage, plain(m))
	}
	f := m.caps[0].Result.Flows[2]
	if want := "wrote 2 packets of flow 3 to " + out; m.note != want || m.noteErr {
		t.Errorf("note %q, want %q", m.note, want)
	}
	// Longer than the line: the path goes whole on the next one.
	mustContain(t, m, "wrote 2 packets of flow 3 to\n  "+out+"\n")
	samePackets(t, "flow 3", readAll(t, out), flowPackets(t, src, f))
	if fi, err := os.Stat(out); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("%s: %v, %v; want mode 0600", out, fi.Mode(), err)
	}
	// pcapng carries the findings as comments: not checked here
	// (capture's tests do), but the note is gone at the next key.
	m = press(t, m, "j")
	if strings.Contains(plain(m), "wrote 2 packets") {
		t.Error("the note stays after a key")
	}
}

// TestExportMarked writes the marked flows, in capture order, as pcap.
func TestExportMarked(t *testing.T) {
	src := memSource(t, "many.pcap", manyFlows(12))
	m := newLoaded(t, testConfig([]Source{src}), 80, 24)
	m = press(t, m, "s", "g", "j", "space", "j", "j", "space") // flows 2 and 5
	m = press(t, m, "w")
	if got := m.export.input.Value(); got != "many-flows-2-5.pcapng" {
		t.Errorf("offered %q", got)
	}
	out := filepath.Join(t.TempDir(), "two.pcap")
	m = typeName(t, m, out)
	m = press(t, m, "enter")
	res := m.caps[0].Result
	want := append(flowPackets(t, src, res.Flows[1]), flowPackets(t, src, res.Flows[4])...)
	if want := "wrote 5 packets of 2 flows to " + out; m.note != want {
		t.Errorf("note %q, want %q", m.note, want)
	}
	got := readAll(t, out)
	// In capture order: the two flows' packets interleave by frame.
	samePackets(t, "flows 2 and 5", sortByTime(got), sortByTime(want))
	r, err := capture.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.Format() != "pcap" && !strings.HasPrefix(r.Format(), "pcap ") {
		t.Errorf("%s is %s, want pcap", out, r.Format())
	}
}

func sortByTime(p []packet) []packet {
	out := append([]packet(nil), p...)
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].ts < out[j-1].ts; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// TestExportOverwrite: an existing file is replaced only after y; n goes
// back to the name.
func TestExportOverwrite(t *testing.T) {
	m := newLoaded(t, testConfig(seed(t, "seed-client.pcap")), 80, 24)
	out := filepath.Join(t.TempDir(), "x.pcap")
	if err := os.WriteFile(out, []byte("keep me"), 0o644); err != nil {
		t.Fatal(err)
	}
	m = typeName(t, press(t, m, "w"), out)
	m = press(t, m, "enter")
	if m.export.stage != exportConfirm {
		t.Fatalf("stage %d, want the overwrite question", m.export.stage)
	}
	mustContain(t, m, "x.pcap exists: overwrite it? y/n", "y overwrite", "n/esc keep it")
	m = press(t, m, "n")
	if m.export.stage != exportNaming {
		t.Fatalf("n: stage %d, want the name again", m.export.stage)
	}
	if b, _ := os.ReadFile(out); string(b) != "keep me" {
		t.Fatal("the file was touched before y")
	}
	m = press(t, m, "enter", "y")
	mustContain(t, m, "wrote 12 packets of flow 1")
	if n := len(readAll(t, out)); n != 12 {
		t.Errorf("%d packets after overwriting", n)
	}
	if fi, _ := os.Stat(out); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v after overwriting, want 0600", fi.Mode())
	}
}

// TestExportErrors: a failed write is one line on the status line, and
// the prompt refuses what cannot work before writing anything.
func TestExportErrors(t *testing.T) {
	m := newLoaded(t, testConfig(seed(t, "seed-client.pcap")), 80, 24)
	m = typeName(t, press(t, m, "w"), "")
	m = press(t, m, "enter")
	if m.export.stage != exportNaming || m.export.err == "" {
		t.Fatalf("an empty name was taken: stage %d", m.export.stage)
	}
	missing := filepath.Join(t.TempDir(), "no", "such", "dir.pcapng")
	m = typeName(t, m, missing)
	m = press(t, m, "enter")
	if m.export.active() || !m.noteErr || !strings.Contains(m.note, missing) {
		t.Fatalf("stage %d, note %q (error %v)", m.export.stage, m.note, m.noteErr)
	}
	v := plain(m)
	if !strings.Contains(v, "✗ "+missing) {
		t.Errorf("no error line:\n%s", v)
	}
	// esc closes the prompt and writes nothing.
	m = press(t, m, "w", "esc")
	if m.export.active() {
		t.Error("esc left the prompt open")
	}
}

// TestExportWhileLoading: no w until the captures are read; help does not
// offer it.
func TestExportWhileLoading(t *testing.T) {
	m := partlyRead(t, 3)
	m = press(t, m, "w")
	if m.export.active() {
		t.Fatal("w while loading")
	}
	if containsPlain(press(t, m, "?"), "write file") {
		t.Error("help offers w while loading")
	}
}

// TestGoldenExport is the prompt, in the list and in the drill-down, and
// the overwrite question.
func TestGoldenExport(t *testing.T) {
	for _, sz := range sizes {
		t.Run(sizeName(sz.w, sz.h), func(t *testing.T) {
			m := newLoaded(t, testConfig([]Source{memSource(t, "many.pcap", manyFlows(30))}), sz.w, sz.h)
			t.Run("list", func(t *testing.T) {
				m := press(t, m, "j", "space", "j", "space", "w")
				checkFrame(t, m, sz.w, sz.h)
				mustContain(t, m, "write 2 flows to many-flows-")
				golden.RequireEqual(t, plain(m))
			})
			t.Run("detail", func(t *testing.T) {
				m := press(t, m, "enter", "w")
				checkFrame(t, m, sz.w, sz.h)
				mustContain(t, m, "write flow 2 to many-flow2.pcapng")
				golden.RequireEqual(t, plain(m))
			})
			t.Run("overwrite", func(t *testing.T) {
				m := press(t, m, "w")
				m.export.stage, m.export.path = exportConfirm, "many-flow2.pcapng"
				m.updateKeys()
				checkFrame(t, m, sz.w, sz.h)
				golden.RequireEqual(t, plain(m))
			})
		})
	}
}

// bottom joins the screen's lines above the help line that a message may
// take, a wrapped line's break and indent read as a space: what the user
// reads.
func bottom(m Model) string {
	lines := strings.Split(plain(m), "\n")
	return strings.ReplaceAll(strings.Join(lines[len(lines)-1-noteLines-1:len(lines)-1], "\n"), "\n  ", " ")
}

// TestExportPromptSays: the prompt says why it refuses a name, in full,
// at 80 columns. A directory asked "overwrite it?", and only y said it
// would not be replaced; why a name was refused went after the input,
// which takes the whole line, so an empty name said nothing at all; and
// messages longer than the line lost their end (the advice, the file's
// name).
func TestExportPromptSays(t *testing.T) {
	m := newLoaded(t, testConfig(seed(t, "seed-client.pcap")), 80, 24)
	dir := t.TempDir()
	link := filepath.Join(dir, "link.pcapng")
	if err := os.Symlink(filepath.Join(dir, "elsewhere"), link); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, says string }{
		{dir, "✗ " + dir + " is a directory: name a file in it"},
		{link, "✗ " + link + " exists and is not a regular file: it is never replaced"},
		{"", "✗ give a file name (.pcapng or .pcap)"},
		{"   ", "✗ give a file name (.pcapng or .pcap)"},
		{"x.pcap.gz", "✗ x.pcap.gz: cannot write a compressed (.gz) capture: name it .pcapng or .pcap, and compress it afterwards"},
	} {
		p := press(t, typeName(t, press(t, m, "w"), tc.name), "enter")
		if p.export.stage != exportNaming {
			t.Errorf("%q: stage %d, want the name prompt still open", tc.name, p.export.stage)
		}
		// The name is still there to correct, on the last line.
		if l := screenLine(p, -2); !strings.HasPrefix(l, "write flow 1 to "+tc.name) {
			t.Errorf("%q: status line %q", tc.name, l)
		}
		if b := bottom(p); !strings.Contains(b, tc.says) {
			t.Errorf("%q: the screen's bottom lines do not say %q:\n%s", tc.name, tc.says, b)
		}
		checkFrame(t, p, 80, 24)
	}
	if _, err := os.Lstat(filepath.Join(dir, "elsewhere")); err == nil {
		t.Error("the link was followed")
	}

	// A path longer than the line: written, and said whole.
	long := filepath.Join(dir, strings.Repeat("a", 90)+".pcapng")
	p := press(t, typeName(t, press(t, m, "w"), long), "enter")
	// Cut where the line ends: read without the spaces.
	if b := strings.ReplaceAll(bottom(p), " ", ""); !strings.Contains(b, "wrote12packetsofflow1to"+long) {
		t.Errorf("the note does not say the whole path:\n%s", b)
	}
	checkFrame(t, p, 80, 24)
	// Exists: the question keeps the file's name and y/n, the path cut in
	// its middle.
	p = press(t, typeName(t, press(t, p, "w"), long), "enter")
	l := screenLine(p, -2)
	if p.export.stage != exportConfirm || !strings.HasPrefix(l, "! "+dir[:5]) || !strings.HasSuffix(l, "aaaa.pcapng exists: overwrite it? y/n") {
		t.Errorf("stage %d, question %q", p.export.stage, l)
	}
	checkFrame(t, p, 80, 24)
}
