package ui

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"github.com/synscope/synscope/capture/fixture"

	"github.com/synscope/synscope/analysis"
)

// TestOuterLayersNFLOG: an NFLOG frame's link line names the log group and
// the rule's prefix, which tell which firewall rule logged the packet; it
// read "Linux NFLOG (239) link header, 32 bytes · not decoded here".
func TestOuterLayersNFLOG(t *testing.T) {
	// Group 20; a packet header attribute; the prefix "DROP-FWD: " with
	// its NUL, padded; the payload attribute's header; then the packet.
	data := []byte{2, 0, 0, 20,
		8, 0, 1, 0, 0x08, 0x00, 1, 0,
		15, 0, 10, 0, 'D', 'R', 'O', 'P', '-', 'F', 'W', 'D', ':', ' ', 0, 0,
		24, 0, 9, 0}
	ipOff := len(data)
	data = append(data, 0x45, 0, 0, 20, 0, 0, 0, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2)
	got := outerLayers(data, analysis.LinkTypeNFLOG, ipOff, true)
	want := []string{"Linux NFLOG, group 20", `rule prefix "DROP-FWD: "`, "32 bytes"}
	if len(got) != 1 || !slices.Equal(got[0], want) {
		t.Errorf("outerLayers = %q, want [%q]", got, strings.Join(want, " · "))
	}
}

// TestOuterLayersPKTAP: a macOS PKTAP frame's lines name its interface and
// process, then its own Ethernet header.
func TestOuterLayersPKTAP(t *testing.T) {
	h := make([]byte, 108)
	copy(h, []byte{108, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 'e', 'n', '0'})
	copy(h[52:], []byte{0, 2, 0, 0, 'c', 'u', 'r', 'l'})
	eth := []byte{0, 0x1e, 0x49, 0x1f, 0xf2, 0xc4, 0x70, 0x73, 0xcb, 0x0b, 0x26, 0x2a, 0x08, 0x00}
	ip := []byte{0x45, 0, 0, 20, 0, 0, 0, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2}
	data := append(append(h, eth...), ip...)
	got := outerLayers(data, analysis.LinkTypePKTAP, 108+14, true)
	want := [][]string{{"Apple PKTAP", "interface en0", "process 512 (curl)", "108 bytes"},
		{"Ethernet 70:73:cb:0b:26:2a → 00:1e:49:1f:f2:c4, type 0x0800 IPv4"}}
	if len(got) != 2 || !slices.Equal(got[0], want[0]) || !slices.Equal(got[1], want[1]) {
		t.Errorf("outerLayers = %q, want %q", got, want)
	}
}

// TestPaneASCIIAndFlags: --ascii left × in a scaled window and … in a long
// payload's hex (mojibake on a C-locale console); the ladder's flags
// column cut an Xmas-tree probe to SFRPA, its URG, ECE and CWR gone; bit
// 8 is AE (Accurate ECN), as tshark names it, not the historic NS.
func TestPaneASCIIAndFlags(t *testing.T) {
	cfg := testConfig(seed(t, "seed-client.pcap"))
	cfg.ASCII = true
	m := newLoaded(t, cfg, 80, 24)
	for _, l := range paneAt(t, m, 4, 80) {
		for _, r := range l {
			if r > 0x7e {
				t.Errorf("--ascii: %q", l)
				break
			}
		}
	}
	if _, err := os.Stat(corpusDir); err != nil {
		t.Skip("corpus not found: ", err)
	}
	m = newLoaded(t, testConfig([]Source{openFile(t, filepath.Join(corpusDir, "tcp_eight_lowest_weight_flags_set.pcap"))}), 80, 24)
	m = press(t, m, "enter")
	if s := ansi.Strip(m.View().Content); !strings.Contains(s, " SFRPAUEC ") {
		t.Errorf("the ladder's flags:\n%s", s)
	}
	m = newLoaded(t, testConfig([]Source{openFile(t, filepath.Join(corpusDir, "accecn_handshake.pcap"))}), 80, 24)
	hasLine(t, "accecn", paneAt(t, m, 1, 80), "flags 0x1c2 AE CWR ECE SYN…")
}

// TestRelativeWithoutHandshake: a capture started mid-connection counts
// each side from its first number less one, and a side never seen from
// the first ACK of it less one, as tshark's relative numbers do: the first
// segment read 0, and the ACK of a side not seen was absolute under
// "(relative)".
func TestRelativeWithoutHandshake(t *testing.T) {
	for _, c := range []struct {
		desc string
		rows [][2]string // seq, ack of each packet, as tshark gives them
	}{
		{"+0 C>S PA seq=1000 ack=5000 len=10\n+0.01 S>C A seq=5000 ack=1010\n+0.01 S>C PA seq=5000 ack=1010 len=20\n",
			[][2]string{{"1", "1"}, {"1", "11"}, {"1", "11"}}},
		{"+0 S>C PA seq=5000 ack=1000 len=20\n+0.01 S>C PA seq=5020 ack=1000 len=20\n",
			[][2]string{{"1", "1"}, {"21", "1"}}},
	} {
		data := fixture.Build("format pcap\nlink ethernet\nclient 10.0.0.1:40000\nserver 10.0.0.2:443\ntime 2026-01-15T10:00:00Z\n" + c.desc)
		m := press(t, newLoaded(t, testConfig([]Source{memSource(t, "mid.pcap", data)}), 80, 24), "enter")
		var got [][2]string
		for _, l := range strings.Split(ansi.Strip(m.View().Content), "\n") {
			f := strings.Fields(l)
			// " →     1  0.000000 PA  seq  ack  len  win ..."
			if len(f) >= 6 && (f[0] == "→" || f[0] == "←" || f[0] == "▶") && f[1] != "frame" {
				if f[0] == "▶" {
					f = f[1:]
				}
				got = append(got, [2]string{f[4], f[5]})
			}
		}
		if !slices.Equal(got, c.rows) {
			t.Errorf("%s: seq/ack %v, want %v", c.desc, got, c.rows)
		}
	}
}

// TestLadderAt60Columns: at 60 columns the ladder lost its mode label and
// every row's verdict (✗ SYN-ACK +2B became …); the time column goes
// first now.
func TestLadderAt60Columns(t *testing.T) {
	m := press(t, newLoaded(t, testConfig(seed(t, "seed-client.pcap")), 60, 20), "enter")
	mustContain(t, m, "(relative)", "2 SA             0          1     2 64240 ✗ SYN-ACK", "3 A              1          3     0 64860 ✗")
	checkFrame(t, m, 60, 20)
}
