package ui

import (
	"regexp"
	"strings"
	"testing"

	"github.com/synscope/synscope/capture/fixture"
)

// evil is a payload that would steer a terminal if it reached one: an OSC
// window title, a screen clear, an OSC 8 hyperlink, a C1 CSI (as UTF-8 and
// as a raw byte), a bidi override, a bell and a DEL.
const evil = `"\x1b]0;pwned\x07\x1b[2J\x1b[H\x1b]8;;http://evil.example/\x07click\x1b]8;;\x07\u009b31m\x9b31m\u202eevil\x7f\x1bP1$r\x1b\\"`

// onlySGR removes the style sequences the views write themselves (SGR,
// ESC [ … m); what remains must hold no escape at all.
var onlySGR = regexp.MustCompile(`\x1b\[[0-9;:]*m`)

func checkInert(t *testing.T, where string, m Model) {
	t.Helper()
	v := onlySGR.ReplaceAllString(m.View().Content, "")
	for _, bad := range []string{"\x1b", "\x07", "\x9b", "\u009b", "\u202e", "\x7f", "pwned\x07"} {
		if i := strings.Index(v, bad); i >= 0 {
			t.Fatalf("%s: %q reaches the view at byte %d: %q", where, bad, i, v[max(0, i-40):min(len(v), i+40)])
		}
	}
	if strings.Contains(m.View().WindowTitle, "pwned") {
		t.Fatalf("%s: the window title was set from a packet", where)
	}
}

// TestPacketBytesNeverReachTheTerminal walks every view of a capture whose
// payloads (on the SYN, the SYN-ACK and data segments) and whose file name
// hold escape sequences, and checks that nothing but the views' own style
// sequences is in any frame.
func TestPacketBytesNeverReachTheTerminal(t *testing.T) {
	data := fixture.Build(`
client 10.0.0.1:40000
server 10.0.0.2:443
+0    C>S S  mss=1460 data=text:` + evil + `
+0.01 S>C SA mss=1460 data=text:` + evil + `
+0.01 C>S A
+0.01 C>S PA data=text:` + evil + `
+0.01 S>C PA data=text:` + evil + `
+0.01 C>S PA opt=99:1b5d303b7077 data=text:` + evil + `
`)
	for _, ascii := range []bool{false, true} {
		for _, sz := range sizes {
			cfg := testConfig([]Source{memSource(t, "evil\x1b]0;name\x07\x1b[2J.pcap", data)})
			cfg.ASCII = ascii
			m := newLoaded(t, cfg, sz.w, sz.h)
			checkInert(t, "list", m)
			m = press(t, m, "/", "\x1b", "]")
			checkInert(t, "filter input", m)
			m = press(t, m, "esc", "enter", "g")
			for i := range len(m.detail.flow.Refs) {
				checkInert(t, "ladder", m)
				m = press(t, m, "x")
				checkInert(t, "hex", m)
				m = press(t, m, "x", "tab")
				for range 10 {
					m = press(t, m, "j")
					checkInert(t, "packet pane", m)
				}
				m = press(t, m, "shift+tab")
				if i < len(m.detail.flow.Refs)-1 {
					m = press(t, m, "j")
				}
			}
			m = press(t, m, "shift+tab")
			for range len(m.detail.flow.Findings) {
				checkInert(t, "findings", m)
				m = press(t, m, "j")
			}
			m = press(t, m, "?")
			checkInert(t, "help", m)
		}
	}
}
