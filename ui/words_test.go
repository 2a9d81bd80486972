package ui

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"

	"github.com/synscope/synscope/analysis"
	"github.com/synscope/synscope/capture"
	"github.com/synscope/synscope/capture/fixture"
	"github.com/synscope/synscope/themes"
)

// TestCopyWords: a finding about a copy (one packet captured at two points,
// which keeps Wireshark's retransmission or duplicate-ACK code) reads as a
// copy in the list and the ladder, in words unlike those of a packet sent
// again, and the drill-down gives its sentence.
func TestCopyWords(t *testing.T) {
	path := filepath.Join(seedDir, "routed-vlans.pcap")
	res := readSeed(t, path)
	want := map[string]int{}
	for _, fi := range res.Flows[0].Findings {
		long, short := shortFinding(fi, themes.Unicode, 80), shortFinding(fi, themes.Unicode, 12)
		want[fi.Code.String()+": "+long+" / "+short]++
	}
	for k, n := range map[string]int{
		"handshake.syn_retransmit: same SYN seen again / SYN copy":            2,
		"handshake.syn_retransmit: SYN sent again / SYN sent again":           1,
		"handshake.synack_retransmit: same SYN-ACK seen again / SYN-ACK copy": 1,
		"tcp.retransmission: same segment seen again / segment copy":          9,
		"tcp.retransmission: retransmission / retransmission":                 2,
		"tcp.dup_ack: same ACK seen again / ACK copy":                         5,
	} {
		if want[k] != n {
			t.Errorf("%q %d times, want %d; all: %v", k, want[k], n, want)
		}
	}

	m := newLoaded(t, testConfig(seed(t, "routed-vlans.pcap")), 120, 40)
	m = press(t, m, "enter")
	// A copy is info (·), a SYN sent again a warning (!).
	mustContain(t, m, "· same SYN seen again", "! SYN sent again", "the same SYN seen again (IP ID 0x1a2b,", "TTL 64 then 63, 15 microseconds later): a")
}

// TestRSTWords: a RST its receiver ignored does not read "reset" in the
// list and the ladder: the seed's firewall RST is 2 bytes behind what the
// client expects, outside its window. One that ends the connection does.
func TestRSTWords(t *testing.T) {
	path := filepath.Join(seedDir, "seed-client.pcap")
	res := readSeed(t, path)
	fi, ok := res.Flows[0].First(analysis.CodeRST)
	if got := shortFinding(fi, themes.Unicode, 80); !ok || got != "RST out of window" {
		t.Errorf("tcp.rst %v reads %q, want RST out of window", ok, got)
	}
	taken := analysis.Finding{Code: analysis.CodeRST, Frame: 5, A: int64(analysis.FromServer)}
	if got := shortFinding(taken, themes.Unicode, 80); got != "reset" {
		t.Errorf("a RST taken reads %q, want reset", got)
	}

	// The client's RST from SYN-SENT at the ACK number of the server's
	// ACK of an older connection on these ports (manyloss-a.pcap, frames
	// 479-483) cleared that connection, not this one.
	data := fixture.Build(`
client 10.77.0.1:40000
server 10.77.0.2:5024
0      C>S S  seq=3023880037 mss=1460
+11us  S>C A  seq=2668504825 ack=3023814500
+8us   C>S R  seq=3023814500
+15ms  C>S S  seq=3023880037 mss=1460
+52us  S>C SA seq=2669235953 ack=3023880038 mss=1460`)
	r, err := capture.NewReader(bytes.NewReader(data), "stale.pcap", int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	res, err = analysis.Run(context.Background(), r, analysis.Config{Name: "stale.pcap"})
	if err != nil {
		t.Fatal(err)
	}
	fi, ok = res.Flows[0].First(analysis.CodeRST)
	if got := shortFinding(fi, themes.Unicode, 80); !ok || !fi.RSTOfStale() || got != "RST of stale conn." {
		t.Errorf("the RST of a stale connection (%v, %v) reads %q, want RST of stale conn.", ok, fi.RSTOfStale(), got)
	}
}

// readSeed analyses a capture of the seed's directory.
func readSeed(t *testing.T, path string) *analysis.Result {
	t.Helper()
	r, err := capture.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	res, err := analysis.Run(context.Background(), r, analysis.Config{Name: path})
	if err != nil {
		t.Fatal(err)
	}
	return res
}
