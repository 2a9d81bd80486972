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
