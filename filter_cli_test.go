package main

import (
	"encoding/json"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/synscope/synscope/analysis/filter"
	"github.com/synscope/synscope/capture"
)

// seedPathArgs are the seed's three captures as the points of one path.
var seedPathArgs = []string{"-r", "client=testdata/seed-client.pcap", "-r", "fw-inside=testdata/seed-inside.pcap",
	"-r", "fw-outside=testdata/seed-outside.pcap"}

// TestPathFilterCLI: with several captures, EXPR picks connections and
// keeps each whole: each primitive holds for a connection when it holds
// for a packet of its flow at any point, and and/or/not combine those.
// 10.110.235.202:55073 is the seed's client after the firewall's NAT,
// seen at fw-outside only; 10.110.233.50:50183 before it.
func TestPathFilterCLI(t *testing.T) {
	_, full, _ := runCLI(t, append(seedPathArgs, "--report")...)
	for _, expr := range []string{"host 10.110.235.202", "port 55073", "host 10.110.233.50",
		"host 10.110.233.50 and port 55073"} {
		code, out, errs := runCLI(t, append(seedPathArgs, "--report", expr)...)
		if code != 0 || errs != "" {
			t.Fatalf("%q: exit %d, stderr %q", expr, code, errs)
		}
		// The one connection, as without the filter: every point,
		// the drop diagnosed; only the headings name the filter.
		if out = unfiltered(t, out, expr); out != full {
			t.Errorf("%q: the report differs from the unfiltered one:\n%s", expr, out)
		}
		if !strings.Contains(out, "1 connection, 1 seen at more than one point") || !strings.Contains(out, "path.dropped") {
			t.Errorf("%q: report\n%s", expr, out)
		}
		code, out, _ = runCLI(t, append(seedPathArgs, "--json", expr)...)
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if code != 0 || len(lines) != 3 {
			t.Fatalf("%q: exit %d, %d JSON records, want the connection's flow at each of 3 points", expr, code, len(lines))
		}
		for _, l := range lines {
			var r struct {
				Capture string `json:"capture"`
				Path    struct{ ID int }
			}
			if err := json.Unmarshal([]byte(l), &r); err != nil || r.Path.ID != 1 {
				t.Errorf("%q: record %s", expr, l)
			}
		}
		// -w: the connection's packets at every point.
		out2 := filepath.Join(t.TempDir(), "conn.pcapng")
		code, msg, errs := runCLI(t, append(seedPathArgs, "-w", out2, expr)...)
		if code != 0 || !strings.Contains(msg, "wrote 28 packets of 3 flows") {
			t.Errorf("%q -w: exit %d, %q %q", expr, code, msg, errs)
		}
		r, err := capture.Open(out2)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for {
			if _, err := r.Next(); err != nil {
				break
			}
			n++
		}
		r.Close()
		if n != 28 {
			t.Errorf("%q -w: %d packets in the file, want 28", expr, n)
		}
	}
	// Negated, a primitive that holds at one point is false of the
	// connection: the packets at the other points do not bring it back.
	for _, expr := range []string{"host 10.1.2.3", "not port 55073", "not host 10.110.235.202", "not host 10.110.233.50"} {
		code, out, _ := runCLI(t, append(seedPathArgs, "--report", expr)...)
		if out = unfiltered(t, out, expr); code != 0 || !strings.Contains(out, "0 connections, 0 seen at more than one point") || strings.Contains(out, "10.110.") {
			t.Errorf("%q: exit %d, want no connection\n%s", expr, code, out)
		}
	}
	code, out, _ := runCLI(t, append(seedPathArgs, "--report", "not host 10.1.2.3")...)
	if code != 0 || unfiltered(t, out, "not host 10.1.2.3") != full {
		t.Errorf("not host 10.1.2.3: exit %d, want the unfiltered report\n%s", code, out)
	}
	// A second input that cannot be read leaves one: the filter still
	// applies to it.
	code, out, _ = runCLI(t, "-r", "testdata/seed-client.pcap", "-r", filepath.Join(t.TempDir(), "missing.pcap"), "--json", "host 10.1.2.3")
	if code != 1 || out != "" {
		t.Errorf("one of two inputs missing, a filter matching nothing: exit %d, records\n%s", code, out)
	}
	// One capture: the filter still leaves the server's packets out.
	var all, one struct{ Packets int }
	_, out, _ = runCLI(t, "-r", "testdata/seed-client.pcap", "--json")
	json.Unmarshal([]byte(out), &all)
	code, out, _ = runCLI(t, "-r", "testdata/seed-client.pcap", "--json", "src host 10.110.233.50")
	if err := json.Unmarshal([]byte(out), &one); code != 0 || err != nil || one.Packets == 0 || one.Packets >= all.Packets {
		t.Errorf("one capture, src host: exit %d, %d packets of %d (%v), want the client's only", code, one.Packets, all.Packets, err)
	}
}

// TestTunnelFilterCLI is the reviewer's case: a filter on a VXLAN
// capture's tunnel endpoint or port finds the connection inside, every
// packet of it (tcpdump's filter matches every frame of the capture too;
// analysis.TestFilterTunnelHeaders compares frame by frame).
func TestTunnelFilterCLI(t *testing.T) {
	const file = "testdata/seed-client-vxlan.pcap"
	var all struct{ Packets int }
	_, out, _ := runCLI(t, "-r", file, "--json")
	if err := json.Unmarshal([]byte(out), &all); err != nil || all.Packets == 0 {
		t.Fatalf("unfiltered: %v\n%s", err, out)
	}
	for _, expr := range []string{"host 192.0.2.1", "udp port 4789", "host 10.110.233.50"} {
		code, out, errs := runCLI(t, "-r", file, "--json", expr)
		var rec struct{ Packets int }
		if err := json.Unmarshal([]byte(out), &rec); code != 0 || errs != "" || err != nil || rec.Packets != all.Packets {
			t.Errorf("%q: exit %d, stderr %q, %d packets (%v), want all %d", expr, code, errs, rec.Packets, err, all.Packets)
		}
	}
}

// unfiltered takes out of a report of several points the words each
// point's heading gives the filter expr, checking that every heading has
// them.
func unfiltered(t *testing.T, report, expr string) string {
	t.Helper()
	e, err := filter.ParseArgs([]string{expr})
	if err != nil {
		t.Fatal(err)
	}
	words := " of the connections that match the filter " + e.String()
	// A heading that does not fit in 80 columns is wrapped: join its
	// lines first.
	joined := regexp.MustCompile(`(?m)^([^ \n][^\n]*flows? of the connections[^\n]*)\n  `).ReplaceAllString(report, "$1 ")
	if n := strings.Count(joined, words); n != 3 {
		t.Errorf("%q: %d headings name the filter, want 3:\n%s", expr, n, report)
	}
	return strings.ReplaceAll(joined, words, "")
}
