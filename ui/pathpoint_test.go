package ui

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/synscope/synscope/analysis"
	"github.com/synscope/synscope/capture/fixture"
)

// pointSources are fixture descriptions as the capture points of one
// path, labelled with names. Descriptions joined with a line "next" are
// one capture, each built on its own (a description has one client and
// one server) and the captures concatenated.
func pointSources(t *testing.T, names []string, descs ...string) []Source {
	t.Helper()
	var out []Source
	for i, d := range descs {
		var data []byte
		for k, part := range strings.Split(d, "\nnext\n") {
			b := fixture.Build(part)
			if k > 0 {
				b = b[24:] // without the pcap file header
			}
			data = append(data, b...)
		}
		out = append(out, memSource(t, names[i], data))
	}
	return out
}

// dropHead starts the two points' descriptions of dropLines: the client
// a hop nearer at inside.
const (
	insideHead  = "format pcap\nlink ethernet\nclient 10.0.0.5:40010 ttl=64\nserver 203.0.113.10:443 ttl=60\n"
	outsideHead = "format pcap\nlink ethernet\nclient 10.0.0.5:40010 ttl=63\nserver 203.0.113.10:443 ttl=61\n"
)

// dropLines is a connection whose first data segment (line 4) inside saw
// and outside did not: its retransmission 250 ms later went through.
var dropLines = []string{
	"+0 C>S S seq=1000 mss=1460", "+0.02 S>C SA seq=5000 ack=1001 mss=1460", "+0.0002 C>S A seq=1001 ack=5001",
	"+0.001 C>S PA seq=1001 ack=5001 len=200", "+0.25 C>S PA seq=1001 ack=5001 len=200", "+0.02 S>C A seq=5001 ack=1201",
	"+0.01 C>S FA seq=1201 ack=5001", "+0.02 S>C FA seq=5001 ack=1202", "+0.0002 C>S A seq=1202 ack=5002",
}

func dropPath(t *testing.T) []Source {
	out := append([]string{}, dropLines[:3]...)
	out = append(out, "+0.251 C>S PA seq=1001 ack=5001 len=200")
	out = append(out, dropLines[5:]...)
	return pointSources(t, []string{"inside", "outside"},
		insideHead+"time 2026-01-01T00:00:00Z\n"+strings.Join(dropLines, "\n")+"\n",
		outsideHead+"time 2026-01-01T00:00:00.0005Z\n"+strings.Join(out, "\n")+"\n")
}

// TestPathPointFindings: a point's flow opened from its connection (enter)
// shows the findings the path gave it, as --report does: the status they
// make (✗, where the flow alone is !), the dropped packet marked, the
// finding whole in the findings pane. It showed the flow's own only.
func TestPathPointFindings(t *testing.T) {
	m := press(t, newLoaded(t, testConfig(dropPath(t)), 80, 24), "enter")
	if m.state != statePath {
		t.Fatalf("state %d", m.state)
	}
	p := &m.pathView
	f := p.conn.Flows[0]
	if p.point != 0 || f.Status != analysis.StatusWarning || m.path.Status(f) != analysis.StatusInvalid {
		t.Fatalf("point %d, inside's flow %v alone and %v with the path: the case tests nothing", p.point, f.Status, m.path.Status(f))
	}
	if ref, ok := p.selected(); !ok || ref.Frame != 4 {
		t.Fatalf("the ladder opens on %+v, want inside's frame 4, the dropped segment", ref)
	}
	m = press(t, m, "enter")
	if m.state != stateDetail || m.detail.flow != f || m.detail.flow.Refs[m.detail.cursor].Frame != 4 {
		t.Fatalf("state %d, at frame %d", m.state, m.detail.flow.Refs[m.detail.cursor].Frame)
	}
	mustContain(t, m, "✗ flow 1  10.0.0.5:40010 → 203.0.113.10:443  inside", "✗ data 200B dropped", "! retransmission")
	if m.note != "" {
		t.Errorf("note %q on a segment the point saw", m.note)
	}
	m = press(t, m, "G", "tab", "tab")
	mustContain(t, m, "findings (3)", "✗ frame 4  path.dropped",
		"data segment (200 bytes) (frame 4 at inside) never reached outside: dropped", "! frame 5  tcp.retransmission")
	// The findings are in frame order, the path's among the flow's own,
	// and enter goes to the frame of the selected one.
	var frames []uint64
	for i := range m.detail.items {
		frames = append(frames, m.detail.itemFrame(i))
	}
	if fmt.Sprint(frames) != "[1 4 5]" {
		t.Errorf("findings on frames %v, want [1 4 5] (TTL, the drop, the retransmission)", frames)
	}
	m = press(t, m, "j", "enter")
	if got := m.detail.flow.Refs[m.detail.cursor].Frame; got != 4 {
		t.Errorf("enter on the path finding: frame %d, want 4", got)
	}
	// outside's flow, whose only path finding is info, keeps its own
	// status.
	m = press(t, m, "esc", "tab", "j", "enter")
	if g := p.conn.Flows[1]; m.state != stateDetail || m.detail.flow != g || m.detail.status != g.Status || g.Status != m.path.Status(g) {
		t.Errorf("state %d, outside's flow shown %v, its own %v", m.state, m.detail.status, g.Status)
	}
}

// TestPathOpenWhereMissing: enter on a segment the selected point has no
// packet of opens its flow at the packet nearest in time to where it
// would have been, the clock offset taken out, and says so; it opened at
// the flow's first frame, without a word.
func TestPathOpenWhereMissing(t *testing.T) {
	m := press(t, newLoaded(t, testConfig(dropPath(t)), 80, 24), "enter", "tab")
	p := &m.pathView
	if _, ok := p.selected(); ok || p.point != 1 {
		t.Fatalf("point %d has the selected segment: the case tests nothing", p.point)
	}
	mustContain(t, m, "✗ dropped")
	m = press(t, m, "enter")
	// outside's frame 3, the ACK sent 1 ms before the lost segment (the
	// retransmission, frame 4, came 250 ms after it).
	if m.state != stateDetail || m.detail.cap != 1 || m.detail.flow.Refs[m.detail.cursor].Frame != 3 {
		t.Fatalf("state %d, point %d, at frame %d; want outside's frame 3", m.state, m.detail.cap, m.detail.flow.Refs[m.detail.cursor].Frame)
	}
	want := "outside has no packet of this data 200B: opened at frame 3, the nearest in time to where it would have been (clock offset taken out)"
	if m.note != want {
		t.Errorf("note %q, want %q", m.note, want)
	}
	mustContain(t, m, "outside has no packet of this data 200B: opened at frame 3")
	checkFrame(t, m, 80, 24)
	// Without a clock offset, the ladder's order: the row before.
	m = press(t, m, "esc")
	m.pathView.pa.Offset[1] = math.NaN()
	m = press(t, m, "enter")
	if got := m.detail.flow.Refs[m.detail.cursor].Frame; got != 3 || !strings.Contains(m.note, "opened at frame 3, the nearest before it on the ladder (the clock offset is not known)") {
		t.Errorf("no clock offset: frame %d, note %q", got, m.note)
	}
}

// TestPathConnectionWords: a connection with no warning says what is the
// same at every point and what changed on the way (it said "the same ...
// options" over a row marked "MSS clamped"); the lines under the ladder
// say the selected row's finding whole, or the connection's NAT mapping;
// a connection seen at one point only says so.
func TestPathConnectionWords(t *testing.T) {
	clean := []string{
		"+0 C>S S seq=1000 mss=1460", "+0.02 S>C SA seq=5000 ack=1001 mss=1460", "+0.0002 C>S A seq=1001 ack=5001",
		"+0.001 C>S PA seq=1001 ack=5001 len=200", "+0.02 S>C A seq=5001 ack=1201",
		"+0.01 C>S FA seq=1201 ack=5001", "+0.02 S>C FA seq=5001 ack=1202", "+0.0002 C>S A seq=1202 ack=5002",
	}
	far := append([]string{"+0 C>S S seq=1000 mss=1380"}, clean[1:]...)
	// A second connection, to another server, seen inside only.
	other := "next\nformat pcap\nlink ethernet\nclient 10.0.0.5:40011\nserver 192.0.2.9:22\ntime 2026-01-01T00:00:01Z\n" +
		"+0 C>S S seq=7000 mss=1460\n+0.02 S>C SA seq=9000 ack=7001 mss=1460\n+0.0002 C>S A seq=7001 ack=9001\n"
	srcs := pointSources(t, []string{"inside", "outside"},
		insideHead+"time 2026-01-01T00:00:00Z\n"+strings.Join(clean, "\n")+"\n"+other,
		"format pcap\nlink ethernet\nclient 198.51.100.7:61000 ttl=63\nserver 203.0.113.10:443 ttl=61\ntime 2026-01-01T00:00:00.0005Z\n"+strings.Join(far, "\n")+"\n")
	m := newLoaded(t, testConfig(srcs), 80, 24)
	if len(m.path.Conns) != 2 {
		t.Fatalf("%d connections, want 2", len(m.path.Conns))
	}
	m = press(t, m, "enter")
	mustContain(t, m, "✓ the same segments and lengths at every point that saw them; changed: MSS,", "addresses (NAT)")
	if containsPlain(m, "lengths and options") {
		t.Error("the same options, said of a connection whose MSS was clamped")
	}
	// On the SYN, its clamped MSS, whole.
	if m.pathView.cursor != 0 {
		t.Fatalf("cursor on row %d", m.pathView.cursor)
	}
	mustContain(t, m, "· MSS clamped", "· SYN's MSS changed from 1460 at inside to 1380 at outside: MSS clamping")
	checkFrame(t, m, 80, 24)
	// On a row without a finding, the connection's address translation.
	m = press(t, m, "j")
	mustContain(t, m, "· address translation: client 10.0.0.5:40010 at inside is 198.51.100.7:61000 at", "outside")
	if containsPlain(m, "SYN's MSS changed") {
		t.Error("the SYN's finding under another row")
	}
	checkFrame(t, m, 80, 24)
	// The connection seen inside only.
	m = press(t, m, "esc", "j", "enter")
	if c := m.pathView.conn; c.Flows[1] != nil {
		t.Fatalf("connection %d seen outside", c.ID)
	}
	mustContain(t, m, "· seen at inside only: no flow at the other points has its ISNs or its")
	if containsPlain(m, "the same segments") {
		t.Error("a connection seen at one point only reads as the same at every point")
	}
	checkFrame(t, m, 80, 24)
}

// oneWaySpanDesc describes n short connections one second apart, from
// start, as a point sees them: whole, or the client's packets only.
func oneWaySpanDesc(n int, start float64, clientOnly bool) string {
	var parts []string
	for k := range n {
		var b strings.Builder
		fmt.Fprintf(&b, "format pcap\nlink ethernet\nserver 203.0.113.10:443\nclient 10.0.0.5:%d\ntime 2026-01-01T00:00:%09.6fZ\n", 40010+k, float64(k)+start)
		last := 0.0
		c, s := 1000+100000*k, 5000+100000*k
		for _, p := range []struct {
			at   float64
			line string
		}{
			{0, fmt.Sprintf("C>S S seq=%d mss=1460", c)}, {0.02, fmt.Sprintf("S>C SA seq=%d ack=%d mss=1460", s, c+1)},
			{0.0202, fmt.Sprintf("C>S A seq=%d ack=%d", c+1, s+1)}, {0.0212, fmt.Sprintf("C>S PA seq=%d ack=%d len=100", c+1, s+1)},
			{0.0412, fmt.Sprintf("S>C PA seq=%d ack=%d len=300", s+1, c+101)}, {0.0422, fmt.Sprintf("C>S A seq=%d ack=%d", c+101, s+301)},
			{0.0522, fmt.Sprintf("C>S FA seq=%d ack=%d", c+101, s+301)}, {0.0722, fmt.Sprintf("S>C FA seq=%d ack=%d", s+301, c+102)},
			{0.0724, fmt.Sprintf("C>S A seq=%d ack=%d", c+102, s+302)},
		} {
			if clientOnly && !strings.HasPrefix(p.line, "C>S") {
				continue
			}
			fmt.Fprintf(&b, "+%.6f %s\n", p.at-last, p.line)
			last = p.at
		}
		parts = append(parts, b.String())
	}
	return strings.Join(parts, "\nnext\n")
}

// TestPathOneWayCells: across a point that captured the client's packets
// only, the server's segments are one row each (analysis.TestLadderAcrossOneWay),
// whose cell at that point says it captured the other way, not "not
// seen"; enter there opens that point's flow near where the segment
// would have been, and says why it has none.
func TestPathOneWayCells(t *testing.T) {
	const n = 10 // analysis' oneWayPointMin: fewer are each the connection's own
	desc := func(start float64, clientOnly bool) string { return oneWaySpanDesc(n, start, clientOnly) }
	srcs := pointSources(t, []string{"host", "span", "fw"}, desc(0, false), desc(0.001, true), desc(0.002, false))
	m := newLoaded(t, testConfig(srcs), 80, 24)
	if len(m.path.OneWay) != 1 || m.path.OneWay[0].Point != 1 {
		t.Fatalf("OneWay %+v: the case tests nothing", m.path.OneWay)
	}
	m = press(t, m, "enter")
	p := &m.pathView
	lay := p.layout()
	server := 0
	for i, r := range p.rows {
		if r.Side != analysis.FromServer {
			continue
		}
		server++
		if r.Refs[0] < 0 || r.Refs[2] < 0 {
			t.Errorf("row %d: server segment at %v, want host and fw on one row", i, r.Refs)
		}
		if c := plainCell(p.cell(i, 1, lay)); c != "○ one-way" {
			t.Errorf("row %d at span: %q, want ○ one-way", i, c)
		}
	}
	if server != 3 {
		t.Errorf("%d server rows, want 3", server)
	}
	if containsPlain(m, "not seen") {
		t.Errorf("a segment not seen:\n%s", plain(m))
	}
	// Wide enough, the cell says it whole.
	if c := plainCell(p.oneWayCell(30)); c != "○ not captured (one-way)" {
		t.Errorf("wide cell %q", c)
	}
	// The SYN-ACK, at span: its ACK came 0.2 ms after it, the SYN 20 ms
	// before.
	m = press(t, m, "tab", "j", "enter")
	if m.state != stateDetail || m.detail.cap != 1 || m.detail.flow.Refs[m.detail.cursor].Frame != 2 {
		t.Fatalf("state %d, point %d, at frame %d", m.state, m.detail.cap, m.detail.flow.Refs[m.detail.cursor].Frame)
	}
	if want := "span captured client→server packets only, not this SYN-ACK: opened at frame 2, the nearest in time"; !strings.HasPrefix(m.note, want) {
		t.Errorf("note %q, want it to start %q", m.note, want)
	}
}

// TestPathOneWayConnCells: two connections whose middle point captured
// the client's packets only (too few for the point's capture to be
// told), the client's ACKs there acknowledging the server's: the same
// cells, the line under the title says that point holds the client's
// direction of this connection, and enter there says why it has none.
func TestPathOneWayConnCells(t *testing.T) {
	const n = 2
	srcs := pointSources(t, []string{"host", "span", "fw"}, oneWaySpanDesc(n, 0, false), oneWaySpanDesc(n, 0.001, true), oneWaySpanDesc(n, 0.002, false))
	m := newLoaded(t, testConfig(srcs), 80, 24)
	if len(m.path.OneWay) != 0 || len(m.path.Conns) != n {
		t.Fatalf("OneWay %+v, %d connections: the case tests nothing", m.path.OneWay, len(m.path.Conns))
	}
	m = press(t, m, "enter")
	p := &m.pathView
	lay := p.layout()
	for i, r := range p.rows {
		if r.Side != analysis.FromServer {
			continue
		}
		if r.Refs[0] < 0 || r.Refs[2] < 0 {
			t.Errorf("row %d: server segment at %v, want host and fw on one row", i, r.Refs)
		}
		if c := plainCell(p.cell(i, 1, lay)); c != "○ one-way" {
			t.Errorf("row %d at span: %q, want ○ one-way", i, c)
		}
	}
	if !strings.Contains(plain(m), "span client→server only ·") || containsPlain(m, "not seen") || containsPlain(m, "injected between") || containsPlain(m, "dropped between") {
		t.Errorf("view:\n%s", plain(m))
	}
	// The cursor starts on the SYN-ACK, the first row with a finding.
	m = press(t, m, "tab", "enter")
	if want := "span captured client→server packets only, not this SYN-ACK: opened at frame 2"; m.state != stateDetail || !strings.HasPrefix(m.note, want) {
		t.Errorf("state %d, note %q, want it to start %q", m.state, m.note, want)
	}
	checkFrame(t, m, 80, 24)
}
