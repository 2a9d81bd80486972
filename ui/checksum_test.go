package ui

import (
	"fmt"
	"strings"
	"testing"

	"github.com/synscope/synscope/analysis"
	"github.com/synscope/synscope/capture/fixture"
)

// checksumLine is the packet pane's checksum verdicts of a frame of the
// first flow, drawn wide enough to be on one line each.
func checksumLine(t *testing.T, m Model, frame uint64) string {
	t.Helper()
	var sums []string
	for _, l := range paneAt(t, m, frame, 200) {
		for _, part := range strings.Split(l, " · ") {
			if strings.HasPrefix(strings.TrimSpace(part), "checksum") {
				sums = append(sums, strings.TrimSpace(part))
			}
		}
	}
	return strings.Join(sums, "; ")
}

// TestChecksumOffloadVerdict: a bad checksum the analysis explains by
// checksum offload on the capturing host shows as not verifiable, in a
// file and live; one it does not stays bad.
func TestChecksumOffloadVerdict(t *testing.T) {
	const hs = `+0    C>S S  mss=1460
+0.01 S>C SA mss=1460
+0.01 C>S A
`
	cases := []struct {
		name, desc string
		frame      uint64
		offload    bool
	}{
		// The field holds the pseudo-header sum a stack leaves for its NIC
		// (lo): offload whatever the capture says of the direction.
		{"pseudo-header sum", "client 10.0.0.1:40000\nserver 10.0.0.2:443\n" + hs + "+0.01 C>S PA len=100 badsum\n+0.01 S>C A\n", 4, true},
		{"pseudo-header sum, marked received", "link sll\nclient 10.0.0.1:40000 dir=in\nserver 10.0.0.2:443 dir=in\n" + hs +
			"+0.01 C>S PA len=100 badsum\n+0.01 S>C A\n", 4, true},
		// A wrong value: the direction decides.
		{"marked outgoing", "format pcapng\nclient 10.0.0.1:40000 dir=out\nserver 10.0.0.2:443 dir=in\n" + hs +
			"+0.01 C>S PA len=100 badsum=0x1234\n+0.01 S>C A\n", 4, true},
		{"marked received", "format pcapng\nclient 10.0.0.1:40000 dir=in\nserver 10.0.0.2:443 dir=in\n" + hs +
			"+0.01 C>S PA len=100 badsum=0x1234\n+0.01 S>C A\n", 4, false},
		// No direction: offload when every bad checksum comes from one
		// address that sends good ones later (the analysis's offload
		// sender).
		{"one sender with good ones later", "client 10.0.0.1:40000\nserver 10.0.0.2:443\n" +
			"0 C>S S mss=1460 badsum=0x1234\n+0.01 S>C SA mss=1460\n+0.01 C>S A badsum=0x1234\n+0.01 C>S PA len=100\n+0.01 S>C A\n", 3, true},
		{"two senders", "client 10.0.0.1:40000\nserver 10.0.0.2:443\n" +
			"0 C>S S mss=1460 badsum=0x1234\n+0.01 S>C SA mss=1460 badsum=0x1234\n+0.01 C>S A badsum=0x1234\n+0.01 C>S PA len=100\n+0.01 S>C A\n", 3, false},
		{"IPv4 header, marked outgoing", "format pcapng\nclient 10.0.0.1:40000 dir=out\nserver 10.0.0.2:443 dir=in\n" + hs +
			"+0.01 C>S PA len=100 ipbadsum=0x1234\n+0.01 S>C A\n", 4, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			data := fixture.Build(tc.desc)
			m := newLoaded(t, testConfig([]Source{memSource(t, "c.pcap", data)}), 120, 40)
			got := checksumLine(t, m, tc.frame)
			bad := strings.Contains(got, "✗ bad")
			off := strings.Contains(got, "not verifiable (offload)")
			if off != tc.offload || bad == tc.offload {
				t.Fatalf("frame %d: %q, want offload %v", tc.frame, got, tc.offload)
			}
			if !strings.Contains(got, "good") {
				t.Errorf("frame %d: the good checksum is not said: %q", tc.frame, got)
			}
			// A good packet of the flow stays good.
			if g := checksumLine(t, m, 5); strings.Contains(g, "bad") || strings.Contains(g, "offload") {
				t.Errorf("frame 5: %q", g)
			}

			// Live: the flow is not final, but its copy is judged as if
			// the capture ended at it, against every flow so far (the
			// rule is capture-wide): the same verdict, in the packet
			// pane and as a finding, as once the capture stops.
			l := newFakeLive(t, memSource(t, "c.pcap", data))
			l.feed(100)
			lm := newLive(t, l, 120, 40)
			lm = update(t, lm, runCmd(liveFlowCmd(l, 1))...)
			got = checksumLine(t, lm, tc.frame)
			if strings.Contains(got, "not verifiable (offload)") != tc.offload || strings.Contains(got, "✗ bad") == tc.offload {
				t.Fatalf("live, frame %d: %q, want offload %v", tc.frame, got, tc.offload)
			}
			code := analysis.CodeChecksumBad
			if tc.offload {
				code = analysis.CodeChecksumOffload
			}
			if !lm.detail.flow.Has(code) || lm.detail.flow.Has(analysis.CodeChecksumBad) == tc.offload {
				t.Errorf("live flow's findings %+v, want %s", lm.detail.flow.Findings, code)
			}
			final := m.caps[0].Result.Flow(1)
			if len(lm.detail.flow.Findings) != len(final.Findings) || lm.detail.flow.Status != final.Status {
				t.Errorf("live: %d findings, %s; the file: %d, %s", len(lm.detail.flow.Findings), lm.detail.flow.Status, len(final.Findings), final.Status)
			}
			mustContain(t, lm, fmt.Sprintf("findings (%d)", len(final.Findings)))
		})
	}
}
