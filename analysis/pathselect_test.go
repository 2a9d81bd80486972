package analysis

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/synscope/synscope/analysis/filter"
	"github.com/synscope/synscope/capture"
	"github.com/synscope/synscope/capture/fixture"
)

// markedPoint reads a capture into a path Point with the filter expr
// recording each flow's primitives (Config.Select), as the command line
// does with several captures.
func markedPoint(t *testing.T, name string, data []byte, expr string) Point {
	t.Helper()
	e, err := filter.Parse(expr)
	if err != nil {
		t.Fatal(err)
	}
	r, err := capture.NewReader(bytes.NewReader(data), name, int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	res, err := Run(context.Background(), r, Config{Name: name, Select: e})
	if err != nil {
		t.Fatal(err)
	}
	rr, err := r.Rereader()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rr.Close() })
	return Point{Name: name, Result: res, Reread: rr.ReadAt}
}

// secondConn is a second connection, from another client, a second after
// pathConn's start.
const secondConn = `
format pcap
link ethernet
client 10.0.0.2:40001
server 192.0.2.80:443
time 2026-01-01T00:00:01Z
+0      C>S S  seq=3000 mss=1460 ws=7 sackok
+0.020  S>C SA seq=8000 ack=3001 mss=1460 ws=7 sackok
+0.0002 C>S A  seq=3001 ack=8001
+0.001  C>S PA seq=3001 ack=8001 len=100
+0.020  S>C A  seq=8001 ack=3101
`

// twoConns is a pcap of pathConn then secondConn (first and second are
// their descriptions).
func twoConns(first, second string) []byte {
	return append(fixture.Build(first), fixture.Build(second)[24:]...) // without the second pcap file header
}

// TestPathSelectAnyPoint: with several captures, a filter picks
// connections, and keeps each whole: each primitive holds for a connection
// when it holds for a packet of its flow at any point, and and/or/not
// combine those. The second connection is NAT'd between the points:
// 10.0.0.2:40001 at near, 203.0.113.9:61000 at far.
func TestPathSelectAnyPoint(t *testing.T) {
	// The far point's clock runs 7 s behind, the packets take 1 ms on
	// the way.
	near := twoConns(pathConn, secondConn)
	far := twoConns(shiftTime(pathConn, "2025-12-31T23:59:53.001Z"),
		strings.NewReplacer("client 10.0.0.2:40001", "client 203.0.113.9:61000",
			"time 2026-01-01T00:00:01Z", "time 2025-12-31T23:59:54.001Z").Replace(secondConn))
	tests := []struct {
		expr string
		ids  []int // the connections kept, in order
	}{
		{"host 203.0.113.9", []int{2}}, // at far only
		{"port 61000", []int{2}},
		{"host 10.0.0.2", []int{2}}, // at near only
		{"host 10.0.0.1", []int{1}},
		{"host 192.0.2.80", []int{1, 2}},
		{"not host 203.0.113.9", []int{1}}, // seen with it at far: left out
		{"not port 61000", []int{1}},
		{"not host 10.0.0.2", []int{1}}, // seen with it at near
		{"not host 10.9.9.9", []int{1, 2}},
		{"host 10.0.0.2 and port 61000", []int{2}},         // at near, and at far
		{"host 10.0.0.2 and not port 61000", []int{}},      // not port 61000 is false of it
		{"host 10.0.0.1 or port 61000", []int{1, 2}},       // one at each
		{"src host 10.0.0.2 and src port 61000", []int{2}}, // client side at either point
		{"not (host 10.0.0.2 and port 40001)", []int{1}},
		{"host 10.9.9.9", []int{}},
	}
	for _, tt := range tests {
		all := Correlate([]Point{markedPoint(t, "near", near, tt.expr), markedPoint(t, "far", far, tt.expr)})
		if len(all.Conns) != 2 || all.Conns[1].Flows[0] == nil || all.Conns[1].Flows[1] == nil {
			t.Fatalf("%q: %d connections before selecting, want 2 joined", tt.expr, len(all.Conns))
		}
		before := len(all.Findings[all.Conns[0].Flows[1]])
		pa := all.Select(all.Selector(mustParse(t, tt.expr)))
		var ids []int
		for _, c := range pa.Conns {
			ids = append(ids, c.ID)
			if pa.Conn(c.ID) != c || pa.ConnectionOf(c.Flows[1]) != c {
				t.Errorf("%q: connection %d not found by its id or its flow", tt.expr, c.ID)
			}
			for i, f := range c.Flows {
				if f == nil {
					t.Errorf("%q: connection %d lost its flow at point %d", tt.expr, c.ID, i)
					continue
				}
				// Whole flows, path findings as before.
				if f.Packets != all.Conn(c.ID).Flows[i].Packets || len(f.Refs) != f.Packets {
					t.Errorf("%q: connection %d at point %d: %d packets", tt.expr, c.ID, i, f.Packets)
				}
				if got, was := pa.Findings[f], all.Findings[f]; !reflect.DeepEqual(nonClock(got), nonClock(was)) {
					t.Errorf("%q: connection %d at point %d: path findings %+v, were %+v", tt.expr, c.ID, i, got, was)
				}
			}
		}
		if !slices.Equal(ids, tt.ids) {
			t.Errorf("%q: connections %v kept, want %v", tt.expr, ids, tt.ids)
		}
		for _, id := range []int{1, 2} {
			if kept := pa.Conn(id) != nil; kept != slices.Contains(tt.ids, id) {
				t.Errorf("%q: Conn(%d) found %v", tt.expr, id, kept)
			}
		}
		// Each point's result holds the kept connections' flows.
		for i, res := range pa.Results() {
			if len(res.Flows) != len(tt.ids) || res.Frames != all.Results()[i].Frames {
				t.Errorf("%q: point %d: %d flows of %d frames", tt.expr, i, len(res.Flows), res.Frames)
			}
			for _, f := range res.Flows {
				if pa.ConnectionOf(f) == nil {
					t.Errorf("%q: point %d: flow %d of no kept connection", tt.expr, i, f.ID)
				}
			}
		}
		// The far point's clock offset is said once, on a kept
		// connection.
		clocks := 0
		for _, c := range pa.Conns {
			for _, fi := range pathFindings(pa, c.Flows[1], PathClockOffset) {
				clocks++
				// Moved to a kept connection, it was said with no
				// words (the JSON message and the export comment
				// empty).
				if !strings.Contains(fi.Message, "clock is") {
					t.Errorf("%q: clock offset finding's message %q", tt.expr, fi.Message)
				}
			}
		}
		if want := min(len(tt.ids), 1); clocks != want {
			t.Errorf("%q: %d clock offset findings, want %d", tt.expr, clocks, want)
		}
		if n := len(all.Findings[all.Conns[0].Flows[1]]); n != before {
			t.Errorf("%q: Select changed the path it was given (%d findings, were %d)", tt.expr, n, before)
		}
		// The JSON records: those flows, with their path id.
		var buf bytes.Buffer
		if err := pa.WriteJSON(&buf); err != nil {
			t.Fatal(err)
		}
		var recs []int
		for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
			if line == "" {
				continue
			}
			var r struct {
				Path struct{ ID int } `json:"path"`
			}
			if err := json.Unmarshal([]byte(line), &r); err != nil {
				t.Fatal(err)
			}
			recs = append(recs, r.Path.ID)
		}
		if len(recs) != 2*len(tt.ids) {
			t.Errorf("%q: JSON records of connections %v, want two each of %v", tt.expr, recs, tt.ids)
		}
	}
}

// TestPathSelectSeed is the reviewer's case: the seed connection picked by
// its address after the firewall's NAT, seen at fw-outside only, keeps
// every point and its diagnosis (the ACK dropped between fw-inside and
// fw-outside).
func TestPathSelectSeed(t *testing.T) {
	read := func(expr string) *Path {
		var points []Point
		for _, p := range []struct{ name, file string }{
			{"client", "../testdata/seed-client.pcap"}, {"fw-inside", "../testdata/seed-inside.pcap"}, {"fw-outside", "../testdata/seed-outside.pcap"},
		} {
			data, err := os.ReadFile(p.file)
			if err != nil {
				t.Fatal(err)
			}
			points = append(points, markedPoint(t, p.name, data, expr))
		}
		all := Correlate(points)
		return all.Select(all.Selector(mustParse(t, expr)))
	}
	// The client is 10.110.233.50:50183 at client and fw-inside,
	// 10.110.235.202:55073 at fw-outside.
	for _, expr := range []string{"host 10.110.235.202", "port 55073", "host 10.110.233.50 and port 50183",
		"host 10.110.233.50 and port 55073", "port 50183 and port 55073", "not port 443 or port 55073"} {
		pa := read(expr)
		if len(pa.Conns) != 1 {
			t.Fatalf("%q: %d connections", expr, len(pa.Conns))
		}
		c := pa.Conns[0]
		for i, f := range c.Flows {
			if f == nil {
				t.Fatalf("%q: not seen at point %d", expr, i)
			}
		}
		d := pathFindings(pa, c.Flows[1], PathDropped)
		if len(d) == 0 || d[0].Frame != 3 || !strings.Contains(d[0].Message, "never reached fw-outside") {
			t.Errorf("%q: dropped %+v", expr, d)
		}
	}
	for _, expr := range []string{"host 10.110.235.203", "not port 55073", "not host 10.110.235.202",
		"not host 10.110.233.50", "host 10.110.233.50 and not port 55073", "not (port 50183 or port 55073)"} {
		if pa := read(expr); len(pa.Conns) != 0 {
			t.Errorf("%q keeps %d connections, want none: it is false of the seed connection", expr, len(pa.Conns))
		}
	}
}

func mustParse(t *testing.T, expr string) *filter.Expr {
	t.Helper()
	e, err := filter.Parse(expr)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func nonClock(fs []PathFinding) []PathFinding {
	var out []PathFinding
	for _, fi := range fs {
		if fi.Code != PathClockOffset {
			out = append(out, fi)
		}
	}
	return out
}
