package ui

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"

	"github.com/synscope/synscope/analysis"
	"github.com/synscope/synscope/capture"
	"github.com/synscope/synscope/capture/fixture"
	"github.com/synscope/synscope/themes"
)

// TestPathList: several captures are the points of one path; once read,
// the list has a row per connection with where it was seen.
func TestPathList(t *testing.T) {
	m := newLoaded(t, testConfig(seedPath(t)), 80, 24)
	if m.path == nil || m.correlating {
		t.Fatalf("not joined: path %v, correlating %v", m.path, m.correlating)
	}
	if len(m.list.rows) != 1 {
		t.Fatalf("%d rows, want the one connection", len(m.list.rows))
	}
	r := m.list.rows[0]
	if r.Cap != pathCap || r.Present != 0b111 || r.Status != analysis.StatusInvalid || !r.HasVerdict || r.Verdict.Code != analysis.PathPayloadAdded {
		t.Errorf("row %+v", r)
	}
	mustContain(t, m, "1 client → 2 fw-inside → 3 fw-outside", "1 2 3", "● ● ● invalid", "SYN-ACK +2B",
		"1 connection, 1 at more than one point")
	// cap:N keeps the connections seen at point N.
	m = press(t, m, "/", "c", "a", "p", ":", "3", "enter")
	if len(m.list.view.idx) != 1 {
		t.Errorf("cap:3 shows %d connections", len(m.list.view.idx))
	}
}

// TestPathVerdict: the verdict's sentences are the issue's, made from the
// findings' typed values and the packets they name, not from the
// analysis' message text.
func TestPathVerdict(t *testing.T) {
	m := newLoaded(t, testConfig(seedPath(t)), 80, 24)
	for _, fs := range m.path.Findings {
		for i := range fs {
			fs[i].Message = "not this"
		}
	}
	m = press(t, m, "enter")
	if m.state != statePath {
		t.Fatalf("state %d after enter", m.state)
	}
	p := &m.pathView
	want := []string{
		"SYN-ACK grew by 2 bytes between fw-inside and client (IP length 44 → 46, bytes 00 00: Ethernet padding?)",
		"ACK (frame 3 at fw-inside) never reached fw-outside: dropped on the way; ACK 2180033888 ≠ server ISN+1 2180033886",
		"data segment (127 bytes) (frame 4 at fw-inside) never reached fw-outside: dropped between them",
		"RST grew by 6 bytes between fw-inside and client (IP length 40 → 46, bytes 00 00 00 00 00 00: Ethernet padding?)",
	}
	if len(p.verdict) != len(want) {
		t.Fatalf("%d verdict lines, want %d", len(p.verdict), len(want))
	}
	for i, w := range want {
		if got := p.words.sentence(p.verdict[i].fi); got != w {
			t.Errorf("verdict %d:\n got %q\nwant %q", i+1, got, w)
		}
	}
	// The retransmitted SYN-ACK and the second ACK go with the first.
	if p.verdict[0].more != 1 || p.verdict[1].more != 1 || p.verdict[2].more != 5 {
		t.Errorf("alike findings: %d, %d, %d more", p.verdict[0].more, p.verdict[1].more, p.verdict[2].more)
	}
	if strings.Contains(plain(m), "not this") {
		t.Error("the view shows the analysis' message text")
	}
	mustContain(t, m, "✗ SYN-ACK grew by 2 bytes between fw-inside and client (IP length 44 → 46, bytes",
		"✗ ACK (frame 3 at fw-inside) never reached fw-outside: dropped on the way; ACK",
		"  2180033888 ≠ server ISN+1 2180033886", "fw-inside clock -642.250s")
	// Info findings in words.
	for _, f := range p.conn.Flows {
		for _, fi := range m.path.Findings[f] {
			switch fi.Code {
			case analysis.PathClockOffset:
				if s := p.words.sentence(fi); fi.Point == 1 && s != "fw-inside's clock is 642.250 s (10m42s) behind client's (estimated from matched packets, path delay taken out)" {
					t.Errorf("clock: %q", s)
				}
			case analysis.PathNAT:
				if s := p.words.sentence(fi); !strings.HasPrefix(s, "address translation: client 10.110.233.50:50183 at fw-inside is 10.110.235.202:") {
					t.Errorf("NAT: %q", s)
				}
			}
		}
	}
}

// TestPathWordsInReport: --report says every path finding in the words
// the view says it (pathWords), so one finding never reads two ways (the
// drop of the wrong ACK was "dropped by the firewall" in the view and
// "dropped on the way" in the report).
func TestPathWordsInReport(t *testing.T) {
	m := newLoaded(t, testConfig(seedPath(t)), 80, 24)
	results := make([]*analysis.Result, len(m.caps))
	for i, c := range m.caps {
		results[i] = c.Result
	}
	var buf strings.Builder
	if err := WriteReport(&buf, results, ReportOptions{Path: m.path, PerCode: 100}); err != nil {
		t.Fatal(err)
	}
	// The report wraps at 80 columns: compare with its lines joined.
	report := strings.Join(strings.Fields(buf.String()), " ")
	n := 0
	for _, c := range m.path.Conns {
		w := pathWords{pa: m.path, c: c, g: themes.Unicode}
		for _, f := range c.Flows {
			for _, fi := range m.path.Findings[f] {
				s := strings.Join(strings.Fields(w.sentence(fi)), " ")
				if !strings.Contains(report, fmt.Sprintf("frame %d: %s: %s", fi.Frame, fi.Code, s)) {
					t.Errorf("the report lacks the view's %s of frame %d at %s: %q", fi.Code, fi.Frame, m.path.Points[fi.Point], s)
				}
				n++
			}
		}
	}
	if n < 10 {
		t.Fatalf("%d path findings compared", n)
	}
	drop := "ACK (frame 3 at fw-inside) never reached fw-outside: dropped on the way; ACK 2180033888 ≠ server ISN+1 2180033886"
	if !strings.Contains(report, drop) {
		t.Errorf("the report lacks %q", drop)
	}
	m = press(t, m, "enter")
	mustContain(t, m, "✗ ACK (frame 3 at fw-inside) never reached fw-outside: dropped on the way; ACK")
}

// TestPathLadder: one row per segment across the points, the SYN-ACK's
// longer payload and IP length marked where it changed, the ACK dropped
// between fw-inside and fw-outside.
func TestPathLadder(t *testing.T) {
	m := press(t, newLoaded(t, testConfig(seedPath(t)), 80, 24), "enter")
	p := &m.pathView
	// It opens on the verdict's segment at the point where it was seen.
	if p.cursor != 1 || p.point != 0 {
		t.Errorf("cursor on row %d, point %d; want the SYN-ACK (row 1) at the client (0)", p.cursor, p.point)
	}
	lay := p.layout()
	synack := plainCell(p.cell(1, 0, lay))
	if !strings.Contains(synack, "2  46"+m.c.g.Changed) {
		t.Errorf("SYN-ACK at the client: %q, want its 2 bytes and IP length 46 marked changed", synack)
	}
	if c := plainCell(p.cell(1, 1, lay)); strings.Contains(c, m.c.g.Changed) {
		t.Errorf("SYN-ACK at fw-inside marked changed: %q", c)
	}
	if c := plainCell(p.cell(2, 2, lay)); !strings.Contains(c, "✗ dropped") {
		t.Errorf("ACK at fw-outside: %q, want dropped", c)
	}
	// Every frame of every point is on the ladder once.
	n := 0
	for _, r := range p.rows {
		for _, idx := range r.Refs {
			if idx >= 0 {
				n++
			}
		}
	}
	if n != 12+12+4 {
		t.Errorf("%d cells, want the 28 frames", n)
	}
}

func plainCell(s string) string { return strings.TrimRight(ansi.Strip(s), " ") }

// TestPathKeys: tab picks a point, enter opens its flow at the selected
// segment, esc comes back to the connection, then to the list.
func TestPathKeys(t *testing.T) {
	m := press(t, newLoaded(t, testConfig(seedPath(t)), 80, 24), "enter")
	m = press(t, m, "tab")
	if m.pathView.point != 1 {
		t.Fatalf("tab: point %d", m.pathView.point)
	}
	m = press(t, m, "enter")
	if m.state != stateDetail || m.detail.cap != 1 || m.detail.flow.Refs[m.detail.cursor].Frame != 2 {
		t.Fatalf("state %d, capture %d, ladder at frame %d; want fw-inside's frame 2", m.state, m.detail.cap, m.detail.flow.Refs[m.detail.cursor].Frame)
	}
	mustContain(t, m, "fw-inside", "[frame 2]", "Ethernet padding 2 bytes")
	m = press(t, m, "esc")
	if m.state != statePath || m.pathView.point != 1 {
		t.Fatalf("esc from the drill-down: state %d, point %d", m.state, m.pathView.point)
	}
	m = press(t, m, "shift+tab", "shift+tab", "j")
	if m.pathView.point != 2 || m.pathView.cursor != 2 {
		t.Fatalf("point %d, row %d", m.pathView.point, m.pathView.cursor)
	}
	// fw-outside never saw that ACK: its flow opens where it starts.
	m = press(t, m, "enter")
	if m.state != stateDetail || m.detail.cap != 2 {
		t.Fatalf("state %d, capture %d", m.state, m.detail.cap)
	}
	m = press(t, m, "esc", "esc")
	if m.state != stateList {
		t.Fatalf("state %d after esc esc", m.state)
	}
	// Help offers the connection's keys, not the drill-down's.
	h := press(t, m, "enter", "?")
	if !containsPlain(h, "next point") || containsPlain(h, "next pane") {
		t.Errorf("help over a connection:\n%s", plain(h))
	}
}

// TestPathExport: w on a connection writes one pcapng with one interface
// per capture point, named as the point, each point's packets byte for
// byte.
func TestPathExport(t *testing.T) {
	srcs := seedPath(t)
	m := press(t, newLoaded(t, testConfig(srcs), 80, 24), "enter", "w")
	if got := m.export.input.Value(); got != "client-conn1.pcapng" {
		t.Errorf("offered %q", got)
	}
	mustContain(t, m, "write connection 1 (3 flows) to client-conn1.pcapng")
	dir := t.TempDir()
	m = press(t, typeName(t, m, filepath.Join(dir, "c.pcap")), "enter")
	if m.export.stage != exportNaming || !strings.Contains(m.export.err, "packets of 3 captures go into a pcapng file") {
		t.Fatalf("a .pcap for three points: stage %d, %q", m.export.stage, m.export.err)
	}
	out := filepath.Join(dir, "c.pcapng")
	m = press(t, typeName(t, m, out), "enter")
	if want := "wrote 28 packets of connection 1 (3 flows) to " + out; m.note != want {
		t.Fatalf("note %q, want %q", m.note, want)
	}
	r, err := capture.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	per := make([][]packet, 3)
	for {
		rec, err := r.Next()
		if err != nil {
			break
		}
		per[rec.Interface] = append(per[rec.Interface], packet{rec.Timestamp, rec.OrigLen, int(rec.LinkType), append([]byte(nil), rec.Data...)})
	}
	if n := len(r.Interfaces()); n != 3 {
		t.Fatalf("%d interfaces, want one per point", n)
	}
	// Each named by its point's label, as the view names it, its file in
	// the description (tshark's frame.interface_name and _description).
	for i, in := range r.Interfaces() {
		if want := []string{"client", "fw-inside", "fw-outside"}[i]; in.Name != want || in.Description != filepath.Base(srcs[i].Reader.Name()) {
			t.Errorf("interface %d: name %q, description %q; want %q, %q", i, in.Name, in.Description, want, filepath.Base(srcs[i].Reader.Name()))
		}
	}
	for i, f := range m.pathView.conn.Flows {
		samePackets(t, m.path.Points[i], per[i], flowPackets(t, srcs[i], f))
	}
	// From the list, the selected connection too.
	m = press(t, m, "esc", "w")
	if !strings.HasPrefix(m.export.input.Prompt, "write connection 1 (3 flows)") {
		t.Errorf("w in the list: %q", m.export.input.Prompt)
	}
}

func TestGoldenPath(t *testing.T) {
	for _, sz := range sizes {
		t.Run(sizeName(sz.w, sz.h), func(t *testing.T) {
			m := newLoaded(t, testConfig(seedPath(t)), sz.w, sz.h)
			for _, step := range []struct {
				name string
				keys []string
			}{{"list", nil}, {"connection", []string{"enter"}}, {"point", []string{"tab", "j"}}} {
				t.Run(step.name, func(t *testing.T) {
					m = press(t, m, step.keys...)
					checkFrame(t, m, sz.w, sz.h)
					golden.RequireEqual(t, plain(m))
				})
			}
		})
	}
}

// TestGoldenPathASCII: the presence column and the ladder in ASCII.
func TestGoldenPathASCII(t *testing.T) {
	cfg := testConfig(seedPath(t))
	cfg.ASCII = true
	m := newLoaded(t, cfg, 80, 24)
	mustContain(t, m, "o o o invalid")
	m = press(t, m, "enter")
	v := plain(m)
	for i, r := range v {
		if r > 0x7e || (r < 0x20 && r != '\n') {
			t.Fatalf("non-ASCII %q at byte %d:\n%s", r, i, v)
		}
	}
	mustContain(t, m, "46~", "x dropped", "2180033888 != server ISN+1 2180033886")
	golden.RequireEqual(t, v)
}

// TestPathResize lays the connection out at every size down to the
// minimum, with three points and with six: every frame fits, the cursor's
// row stays on screen.
func TestPathResize(t *testing.T) {
	six := append(seedPath(t), seedPath(t)...)
	for i := 3; i < 6; i++ {
		six[i].Name = fmt.Sprintf("again-%d", i+1)
	}
	for _, srcs := range [][]Source{seedPath(t), six} {
		m := press(t, newLoaded(t, testConfig(srcs), 120, 40), "enter", "G")
		for _, sz := range []struct{ w, h int }{{80, 24}, {60, 15}, {200, 60}, {100, 20}, {120, 40}} {
			m = update(t, m, tea.WindowSizeMsg{Width: sz.w, Height: sz.h})
			checkFrame(t, m, sz.w, sz.h)
			mustContain(t, m, " ← RA ") // the last segment, where the cursor is
		}
	}
}

// TestPathMono: the changed values and the drops keep their attributes
// without colour.
func TestPathMono(t *testing.T) {
	cfg := testConfig(seedPath(t))
	cfg.Theme = "mono"
	m := press(t, newLoaded(t, cfg, 80, 24), "enter", "j")
	v := m.View().Content
	if c := colours(v); len(c) > 0 {
		t.Errorf("mono path view has colour escapes: %q", c)
	}
	if !regexp.MustCompile(`\x1b\[(1;7|7;1)m *46`).MatchString(v) {
		t.Errorf("the changed IP length is not bold and reversed:\n%q", v)
	}
}

// TestPathWordsNewCodes: the path findings a session-17 review asked for
// (a segment resegmented by TSO, a one-way point, a copy made on the way)
// read in the view's words as the analysis says them, and the view's
// verdict names a resegmented segment rather than "the same segments".
func TestPathWordsNewCodes(t *testing.T) {
	head := "format pcap\nlink ethernet\nclient 10.0.0.5:40010\nserver 203.0.113.10:443\n"
	conn := []string{
		"+0 C>S S seq=1000 mss=1460", "+0.02 S>C SA seq=5000 ack=1001 mss=1460", "+0.0002 C>S A seq=1001 ack=5001",
		"+0.001 C>S PA seq=1001 ack=5001 len=3000", "+0.02 S>C PA seq=5001 ack=4001 len=10", "+0.02 S>C PA seq=5011 ack=4001 len=10",
		"+0.02 S>C PA seq=5021 ack=4001 len=10", "+0.02 C>S A seq=4001 ack=5031",
	}
	// The far point: the data cut in two, none of the server's packets,
	// the last ACK twice.
	far := []string{conn[0], conn[2], "+0.001 C>S A seq=1001 ack=5001 len=1500", "+0 C>S PA seq=2501 ack=5001 len=1500",
		"+0.08 C>S A seq=4001 ack=5031", "+0.0001 C>S A seq=4001 ack=5031"}
	points := []analysis.Point{
		{Name: "host", Result: resultOf(t, head+"time 2026-01-01T00:00:00Z\n"+strings.Join(conn, "\n")+"\n")},
		{Name: "fw", Result: resultOf(t, head+"time 2026-01-01T00:00:00.0002Z\n"+strings.Join(far, "\n")+"\n")},
	}
	pa := analysis.Correlate(points)
	if len(pa.Conns) != 1 {
		t.Fatalf("%d connections", len(pa.Conns))
	}
	w := pathWords{pa: pa, c: pa.Conns[0], g: themes.Unicode}
	seen := map[analysis.PathCode]bool{}
	for _, f := range pa.Conns[0].Flows {
		for _, fi := range pa.Findings[f] {
			seen[fi.Code] = true
			if s := w.sentence(fi); s != fi.Message {
				t.Errorf("%s:\n view %q\n analysis %q", fi.Code, s, fi.Message)
			}
		}
	}
	for _, c := range []analysis.PathCode{analysis.PathResegmented, analysis.PathOneWay, analysis.PathDuplicated} {
		if !seen[c] {
			t.Errorf("no %s finding: the case tests too little", c)
		}
	}
	items := w.verdict(func(analysis.PathFinding) int { return 0 })
	if !slices.ContainsFunc(items, func(it verdictItem) bool { return it.fi.Code == analysis.PathResegmented }) {
		t.Errorf("the verdict leaves out the resegmented segment: %+v", items)
	}
}

// resultOf reads a fixture description into a Result.
func resultOf(t testing.TB, desc string) *analysis.Result {
	t.Helper()
	data := fixture.Build(desc)
	r, err := capture.NewReader(bytes.NewReader(data), "c.pcap", int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	res, err := analysis.Run(context.Background(), r, analysis.Config{Name: "c.pcap"})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// TestPathCodeFilter: code: takes the path findings' codes too, by name,
// the part after the dot, or a prefix: code:path.dropped said "no finding
// code is called that" in the view of several captures.
func TestPathCodeFilter(t *testing.T) {
	m := newLoaded(t, testConfig(seedPath(t)), 80, 24)
	for _, f := range []string{"code:path.dropped", "code:dropped", "code:path.", "code:path.nat"} {
		m2 := typeFilter(t, m, f)
		if m2.list.filterErr != "" || len(m2.list.view.idx) != 1 {
			t.Errorf("%s: %d connections shown, error %v", f, len(m2.list.view.idx), m2.list.filterErr)
		}
	}
	m2 := typeFilter(t, m, "code:path.duplicated")
	if m2.list.filterErr != "" || len(m2.list.view.idx) != 0 {
		t.Errorf("code:path.duplicated: %d connections shown, error %v", len(m2.list.view.idx), m2.list.filterErr)
	}
	m2 = typeFilter(t, m, "code:path.bogus")
	if m2.list.filterErr == "" {
		t.Error("code:path.bogus: no error")
	}
}

// reportHead returns the head of the report of m's path (up to its first
// empty line), its words on one line.
func reportHead(t *testing.T, m Model) string {
	t.Helper()
	results := make([]*analysis.Result, len(m.caps))
	for i, c := range m.caps {
		results[i] = c.Result
	}
	var buf strings.Builder
	if err := WriteReport(&buf, results, ReportOptions{Path: m.path, PerCode: 100}); err != nil {
		t.Fatal(err)
	}
	return strings.Join(strings.Fields(strings.SplitN(buf.String(), "\n\n", 2)[0]), " ")
}

// TestPathOneWayHead: a point that captured one direction only is said
// once, at the report's head under the clocks and on the view's progress
// line (the analysis finds it: analysis.TestPathOneWayPoint).
func TestPathOneWayHead(t *testing.T) {
	m := newLoaded(t, testConfig(seedPath(t)), 80, 24)
	m.path.OneWay = []analysis.OneWayPoint{{Point: 2, Missing: analysis.FromServer, Conns: 12}}
	head := reportHead(t, m)
	if want := "! fw-outside captured client→server packets only, in all 12 connections whose server packets other points saw"; !strings.Contains(head, want) {
		t.Errorf("head %q lacks %q", head, want)
	}
	if got := m.pathProgress(); !strings.Contains(ansi.Strip(got), "fw-outside client→server only") {
		t.Errorf("progress line %q", ansi.Strip(got))
	}
}

// TestPathTTLRisesHead: points that look given in the wrong order are
// said once, at the report's head and on the view's progress line and the
// drill-down's info line (the analysis finds them:
// analysis.TestPathTTLRises). Here the seed's first pair gains TTL and its
// second loses it: the first two points swapped, not the path given
// server side first (analysis.TestPathTTLRisesSwappedPair).
func TestPathTTLRisesHead(t *testing.T) {
	m := newLoaded(t, testConfig(seedPath(t)), 80, 24)
	m.path.TTLRises = []analysis.TTLRise{{Up: 0, Down: 1, Rose: 12}}
	head := reportHead(t, m)
	if want := "! the packets gain TTL from client to fw-inside (12 connections, 0 the other way): client and fw-inside may be given in the wrong order"; !strings.Contains(head, want) {
		t.Errorf("head %q lacks %q", head, want)
	}
	const short = "fw-inside before client? TTL rises"
	if got := ansi.Strip(m.pathProgress()); !strings.Contains(got, short) {
		t.Errorf("progress line %q", got)
	}
	if got := plain(press(t, m, "enter")); !strings.Contains(got, short) {
		t.Errorf("drill-down lacks the note:\n%s", got)
	}
}

// TestPathRowPartialJudgedElsewhere: a connection whose handshake one
// point did not see (its capture started late, or left a side out) and
// another judged is the other's verdict in the list, not "?": with a
// one-way point, 2,921 clean connections of 3,000 were partial.
func TestPathRowPartialJudgedElsewhere(t *testing.T) {
	lines := []string{"+0 C>S S seq=1000", "+0.02 S>C SA seq=5000 ack=1001", "+0.0002 C>S A seq=1001 ack=5001"}
	for i := range 6 {
		lines = append(lines, fmt.Sprintf("+0.25 C>S PA seq=%d ack=%d len=48", 1001+48*i, 5001+10*i),
			fmt.Sprintf("+0.02 S>C PA seq=%d ack=%d len=10", 5001+10*i, 1049+48*i))
	}
	head := "format pcap\nlink ethernet\nclient 10.0.0.5:40010\nserver 203.0.113.10:443\n"
	near := fixture.Build(head + "time 2026-01-01T00:00:00Z\n" + strings.Join(lines, "\n") + "\n")
	late := fixture.Build(head + "time 2026-01-01T00:00:00.5412Z\n" + strings.Join(lines[5:], "\n") + "\n")
	m := newLoaded(t, testConfig([]Source{memSource(t, "near", near), memSource(t, "far", late)}), 80, 24)
	if l := screenLine(m, 0); !strings.Contains(l, "✓ 1") || !strings.Contains(l, "? 0") {
		t.Errorf("title %q, want the connection ✓ (near judged it; far saw no handshake)", l)
	}
	// Partial at every point: partial.
	m = newLoaded(t, testConfig([]Source{memSource(t, "near", late), memSource(t, "far", late)}), 80, 24)
	if l := screenLine(m, 0); !strings.Contains(l, "? 1") {
		t.Errorf("title %q, want the connection ? (no point saw its handshake)", l)
	}
}
