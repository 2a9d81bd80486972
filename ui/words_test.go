package ui

import (
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
	res = resultOf(t, `
client 10.77.0.1:40000
server 10.77.0.2:5024
0      C>S S  seq=3023880037 mss=1460
+11us  S>C A  seq=2668504825 ack=3023814500
+8us   C>S R  seq=3023814500
+15ms  C>S S  seq=3023880037 mss=1460
+52us  S>C SA seq=2669235953 ack=3023880038 mss=1460`)
	fi, ok = res.Flows[0].First(analysis.CodeRST)
	if got := shortFinding(fi, themes.Unicode, 80); !ok || !fi.RSTOfStale() || got != "RST of stale conn." {
		t.Errorf("the RST of a stale connection (%v, %v) reads %q, want RST of stale conn.", ok, fi.RSTOfStale(), got)
	}
}

// TestResentProbeDSACKWords: where the capture shows more than
// Wireshark's words, the list and the ladder say it: an out-of-order
// segment whose bytes were captured before was sent again, a keep-alive
// into a zero window is a probe of it, and a duplicate ACK with a D-SACK
// block says so. Without those facts the words are the codes'.
func TestResentProbeDSACKWords(t *testing.T) {
	const desc = `
client 10.0.0.1:40000 isn=1000
server 10.0.0.2:80 isn=5000
+0     C>S S  mss=1460 sackok
+0.01  S>C SA mss=1460 sackok
+0.01  C>S A
+0.01  C>S PA len=100               # 4: 1001-1101
+0.001 C>S PA len=100               # 5: 1101-1201
+0.002 C>S PA len=100 seq=1001      # 6: 4's bytes again: resent
+0.01  S>C A  ack=1201              # 7
+0.001 S>C A  ack=1201 sack=1001-1101  # 8: dup ACK, D-SACK
+0.01  S>C A  ack=1201 win=0        # 9: the window closes
+0.2   C>S A  seq=1200              # 10: Linux's probe
+0.001 S>C A  ack=1201 win=1000     # 11: open again
+5     C>S A  seq=1200              # 12: a keep-alive
`
	res := resultOf(t, desc)
	got := map[uint64]string{}
	for _, fi := range res.Flows[0].Findings {
		got[fi.Frame] = shortFinding(fi, themes.Unicode, 80) + " / " + shortFinding(fi, themes.Unicode, 12)
	}
	for frame, want := range map[uint64]string{
		6:  "resent (out of order) / resent (ooo)",
		8:  "dup ack, D-SACK / dup ack D-SACK",
		10: "zw probe / zw probe",
		12: "keep alive / keep alive",
	} {
		if got[frame] != want {
			t.Errorf("frame %d reads %q, want %q; all: %v", frame, got[frame], want, got)
		}
	}

	m := newLoaded(t, testConfig([]Source{memSource(t, "words.pcap", fixture.Build(desc))}), 80, 24)
	m = press(t, m, "enter")
	d, cmd := m.detail.at(10)
	m.detail = d
	m = update(t, m, runCmd(cmd)...)
	mustContain(t, m, "! resent (ooo)", "· dup ack, D-SACK", "! zero window", "· zw probe")
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
