package ui

import (
	"testing"

	"github.com/synscope/synscope/capture/fixture"
)

// TestDrillDownWindowBytes: the packet ladder's win column and the packet
// pane give the window in bytes, scaled by the sender's window scale, as
// tshark's Win=: on lo "win 64" was 65536 bytes.
func TestDrillDownWindowBytes(t *testing.T) {
	data := fixture.Build(`client 10.0.0.1:40000
server 10.0.0.2:443
+0     C>S S  seq=1000 mss=1460 ws=10 win=65495
+0.01  S>C SA seq=5000 ack=1001 mss=1460 ws=10 win=65483
+0.001 C>S A  seq=1001 ack=5001 win=64
`)
	m := newLoaded(t, testConfig([]Source{memSource(t, "lo.pcap", data)}), 80, 24)
	m = press(t, m, "enter", "j", "j")
	mustContain(t, m, "65536", "window 64 × 1024 = 65536 bytes", "65495")
}
