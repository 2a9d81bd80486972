package ui

import (
	"slices"
	"strings"
	"testing"

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
