package ui

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestEverySeedCapture opens the drill-down of every seed capture (every
// link type, encapsulation, IPv6, fragments, pcapng, gzip) and walks its
// packets in both views at 80x24, checking that each frame fits and that
// the layers are named.
func TestEverySeedCapture(t *testing.T) {
	want := map[string][]string{
		"seed-client-vlan.pcap":     {"802.1Q VLAN 100"},
		"seed-client-qinq.pcap":     {"802.1ad (QinQ) VLAN 200", "802.1Q VLAN 100"},
		"seed-client-ipv6.pcap":     {"IPv6 2001:db8:172::1 → 2001:db8:10::50", "flow label"},
		"seed-client-ipv6ext.pcap":  {"hop-by-hop options, 8 bytes", "destination options, 8 bytes", "fragment header, 8 bytes", "routing header, 24 bytes"},
		"seed-client-gre.pcap":      {"GRE, protocol 0x0800", "outer IPv4 192.0.2.2 → 192.0.2.1"},
		"seed-client-vxlan.pcap":    {"VXLAN, VNI 100", "UDP"},
		"seed-client-sll.pcap":      {"Linux cooked (SLL)"},
		"seed-client-sll2.pcap":     {"Linux cooked (SLL2)"},
		"seed-client-pcapng.pcapng": {"inbound"},
		"seed-client.pcap.gz":       {"payload 2 bytes on a SYN-ACK"},
		"seed-client-frag.pcap":     {"ACK expected 2180033886"},
		"seed-client-raw.pcap":      {"IPv4 172.16.1.1 → 10.110.233.50"},
		"seed-client-null.pcap":     {"Loopback, family 2"},
		"seed-client-be.pcap":       {"payload 2 bytes on a SYN-ACK"},
		"seed-client-ns.pcap":       {"payload 2 bytes on a SYN-ACK"},
		"seed-inside.pcap":          {"Ethernet padding 2 bytes (not payload)"},
		"seed-outside.pcap":         {"10.110.235.202"},
		"seed-client-geneve.pcap":   {"Geneve"},
		"seed-client-ipip.pcap":     {"outer IPv4"},
	}
	files, _ := filepath.Glob(filepath.Join(seedDir, "seed-*.pcap*"))
	if len(files) < 15 {
		t.Fatalf("only %d seed captures", len(files))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			m := newLoaded(t, testConfig([]Source{openFile(t, f)}), 80, 24)
			m = press(t, m, "enter", "g")
			seen := ""
			for i := range len(m.detail.flow.Refs) {
				checkFrame(t, m, 80, 24)
				m = press(t, m, "tab")
				for range 8 {
					seen += plain(m)
					m = press(t, m, "j")
				}
				m = press(t, m, "x")
				checkFrame(t, m, 80, 24)
				m = press(t, m, "x", "shift+tab")
				if i < len(m.detail.flow.Refs)-1 {
					m = press(t, m, "j")
				}
			}
			for _, w := range want[filepath.Base(f)] {
				if !strings.Contains(seen, w) {
					t.Errorf("no %q in any packet", w)
				}
			}
		})
	}
}
