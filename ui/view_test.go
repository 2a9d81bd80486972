package ui

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/exp/golden"
)

// The goldens are the View's content, escape sequences stripped, at the
// two sizes the TUI lays out differently. Refresh them with
//
//	go test ./ui -update
var sizes = []struct{ w, h int }{{80, 24}, {120, 40}}

func sizeName(w, h int) string { return fmt.Sprintf("%dx%d", w, h) }

// checkFrame checks what every frame must be: exactly h lines of at most w
// columns.
func checkFrame(t *testing.T, m Model, w, h int) {
	t.Helper()
	lines := strings.Split(plain(m), "\n")
	if len(lines) != h {
		t.Errorf("%d lines, want %d", len(lines), h)
	}
	for i, l := range lines {
		if width(l) > w {
			t.Errorf("line %d is %d columns wide: %q", i+1, width(l), l)
		}
	}
}

func TestGoldenList(t *testing.T) {
	for _, sz := range sizes {
		t.Run(sizeName(sz.w, sz.h), func(t *testing.T) {
			m := newLoaded(t, testConfig(seed(t, "seed-client.pcap", "seed-inside.pcap", "seed-outside.pcap")), sz.w, sz.h)
			checkFrame(t, m, sz.w, sz.h)
			golden.RequireEqual(t, plain(m))
		})
	}
}

func TestGoldenListSeedClient(t *testing.T) {
	for _, sz := range sizes {
		t.Run(sizeName(sz.w, sz.h), func(t *testing.T) {
			m := newLoaded(t, testConfig(seed(t, "seed-client.pcap")), sz.w, sz.h)
			checkFrame(t, m, sz.w, sz.h)
			mustContain(t, m, "✗ 1", "10.110.233.50:50183 → 172.16.1.1:443", "invalid")
			golden.RequireEqual(t, plain(m))
		})
	}
}

func TestGoldenListMany(t *testing.T) {
	for _, sz := range sizes {
		t.Run(sizeName(sz.w, sz.h), func(t *testing.T) {
			m := newLoaded(t, testConfig([]Source{memSource(t, "many.pcap", manyFlows(60))}), sz.w, sz.h)
			m = press(t, m, "j", "j", "space", "j")
			checkFrame(t, m, sz.w, sz.h)
			golden.RequireEqual(t, plain(m))
		})
	}
}

// TestGoldenDetail is the seed incident's drill-down: the wrong ACK on one
// line with absolute numbers, the ladder, and the SYN-ACK decoded with its
// 2 bytes of payload.
func TestGoldenDetail(t *testing.T) {
	for _, sz := range sizes {
		t.Run(sizeName(sz.w, sz.h), func(t *testing.T) {
			m := newLoaded(t, testConfig(seed(t, "seed-client.pcap")), sz.w, sz.h)
			m = press(t, m, "enter")
			checkFrame(t, m, sz.w, sz.h)
			mustContain(t, m, "ACK expected 2180033886 (server ISN+1), got 2180033888 (+2):", "payload 2 bytes on a SYN-ACK")
			golden.RequireEqual(t, plain(m))
		})
	}
}

// TestGoldenDetailPanes walks the drill-down's other views: the third
// segment, absolute numbers, the hex dump, the findings.
func TestGoldenDetailPanes(t *testing.T) {
	steps := []struct {
		name string
		keys []string
		want []string
	}{
		{"ack", []string{"j"}, []string{"ack 2180033888 (+2) ≠ expected 2180033886 (server ISN+1)"}},
		{"absolute", []string{"r"}, []string{"(absolute)", "2180033888"}},
		{"hex", []string{"k", "x"}, []string{"0000  00 11 22 33 44 55 00 12  34 56 78 1b 08 00 45 00", "payload on a SYN"}},
		{"findings", []string{"x", "tab", "tab", "j"}, []string{"handshake.synack_payload", "SYN-ACK carries 2 bytes of TCP payload"}},
	}
	for _, sz := range sizes {
		t.Run(sizeName(sz.w, sz.h), func(t *testing.T) {
			m := newLoaded(t, testConfig(seed(t, "seed-client.pcap")), sz.w, sz.h)
			m = press(t, m, "enter")
			for _, st := range steps {
				t.Run(st.name, func(t *testing.T) {
					m = press(t, m, st.keys...)
					checkFrame(t, m, sz.w, sz.h)
					mustContain(t, m, st.want...)
					golden.RequireEqual(t, plain(m))
				})
			}
		})
	}
}

// TestGoldenInside is the firewall's inside capture: the SYN-ACK left with
// 2 bytes of Ethernet padding, shown as padding, not payload.
func TestGoldenInside(t *testing.T) {
	m := newLoaded(t, testConfig(seed(t, "seed-inside.pcap")), 80, 24)
	m = press(t, m, "enter", "g", "j")
	mustContain(t, m, "payload 0 bytes", "Ethernet padding 2 bytes (not payload)", "with 2 bytes of Ethernet padding")
	golden.RequireEqual(t, plain(m))
}

func TestGoldenHelp(t *testing.T) {
	for _, sz := range sizes {
		t.Run(sizeName(sz.w, sz.h), func(t *testing.T) {
			m := newLoaded(t, testConfig(seed(t, "seed-client.pcap")), sz.w, sz.h)
			t.Run("list", func(t *testing.T) {
				m := press(t, m, "?")
				checkFrame(t, m, sz.w, sz.h)
				mustContain(t, m, "open flow", "filter")
				golden.RequireEqual(t, plain(m))
			})
			t.Run("detail", func(t *testing.T) {
				m := press(t, m, "enter", "?")
				checkFrame(t, m, sz.w, sz.h)
				mustContain(t, m, "next pane", "hex dump")
				golden.RequireEqual(t, plain(m))
			})
		})
	}
}

// TestGoldenLoading is the list while the captures are being read: the
// first read, the second part way, the third not begun.
func TestGoldenLoading(t *testing.T) {
	for _, sz := range sizes {
		t.Run(sizeName(sz.w, sz.h), func(t *testing.T) {
			cfg := testConfig(seed(t, "seed-client.pcap", "seed-inside.pcap", "seed-outside.pcap"))
			m := New(cfg)
			m.tick = func(int) tea.Cmd { return nil }
			m = update(t, m, tea.WindowSizeMsg{Width: sz.w, Height: sz.h})
			l := m.loader
			l.read(l.caps[0])
			c := l.caps[1]
			for range 5 {
				rec, err := c.rd.Next()
				if err != nil {
					t.Fatal(err)
				}
				c.an.Add(rec)
				c.bytes = c.rd.BytesRead()
			}
			m = update(t, m, l.snapshot(testClock.Add(1500*time.Millisecond)))
			if !m.loading {
				t.Fatal("not loading")
			}
			checkFrame(t, m, sz.w, sz.h)
			mustContain(t, m, "reading", "ETA")
			golden.RequireEqual(t, plain(m))
		})
	}
}

// TestGoldenStdin is the progress of a capture of unknown size: no total,
// no bar, no ETA.
func TestGoldenStdin(t *testing.T) {
	src := openFile(t, seedDir+"/seed-client.pcap")
	cfg := testConfig([]Source{src})
	m := New(cfg)
	m.tick = func(int) tea.Cmd { return nil }
	m = update(t, m, tea.WindowSizeMsg{Width: 80, Height: 24})
	c := m.loader.caps[0]
	c.size = -1
	for range 6 {
		rec, err := c.rd.Next()
		if err != nil {
			t.Fatal(err)
		}
		c.an.Add(rec)
		c.bytes = c.rd.BytesRead()
	}
	m = update(t, m, m.loader.snapshot(testClock.Add(time.Second)))
	mustContain(t, m, "6 pkts", "read")
	v := plain(m)
	if strings.Contains(v, "ETA") || strings.Contains(v, "%") {
		t.Errorf("progress of unknown size shows a total:\n%s", v)
	}
	golden.RequireEqual(t, v)
}

// TestGoldenMono keeps the escape sequences: the mono theme has
// attributes (bold, reverse, underline) and not one colour.
func TestGoldenMono(t *testing.T) {
	for _, sz := range sizes {
		t.Run(sizeName(sz.w, sz.h), func(t *testing.T) {
			cfg := testConfig(seed(t, "seed-client.pcap"))
			cfg.Theme = "mono"
			m := newLoaded(t, cfg, sz.w, sz.h)
			for _, step := range []struct {
				name string
				keys []string
			}{{"list", nil}, {"detail", []string{"enter"}}, {"hex", []string{"enter", "x"}}, {"help", []string{"?"}}} {
				t.Run(step.name, func(t *testing.T) {
					m := press(t, m, step.keys...)
					v := m.View().Content
					if c := colours(v); len(c) > 0 {
						t.Errorf("mono view has colour escapes: %q", c)
					}
					if !strings.Contains(v, "\x1b[") {
						t.Error("mono view has no attributes at all")
					}
					golden.RequireEqual(t, plain(m))
				})
			}
		})
	}
}

// TestNoColor: with NO_COLOR, whatever the theme asked for, mono.
func TestNoColor(t *testing.T) {
	cfg := testConfig(seed(t, "seed-client.pcap"))
	cfg.Theme, cfg.NoColor = "high-contrast", true
	m := newLoaded(t, cfg, 80, 24)
	for _, keys := range [][]string{nil, {"enter"}, {"enter", "x"}, {"?"}} {
		if c := colours(press(t, m, keys...).View().Content); len(c) > 0 {
			t.Errorf("NO_COLOR, keys %v: colour escapes %q", keys, c)
		}
	}
	// Without it the theme's colours are there (the check can fail).
	cfg.NoColor = false
	if c := colours(newLoaded(t, cfg, 80, 24).View().Content); len(c) == 0 {
		t.Error("high-contrast has no colour")
	}
}

// sgr matches a Select Graphic Rendition sequence.
var sgr = regexp.MustCompile(`\x1b\[([0-9;:]*)m`)

// colours returns the SGR sequences of s that set a colour (30-38, 40-48,
// 90-97, 100-107).
func colours(s string) []string {
	var out []string
	for _, m := range sgr.FindAllStringSubmatch(s, -1) {
		for _, p := range strings.FieldsFunc(m[1], func(r rune) bool { return r == ';' || r == ':' }) {
			n, _ := strconv.Atoi(p)
			if (n >= 30 && n <= 38) || (n >= 40 && n <= 48) || (n >= 90 && n <= 97) || (n >= 100 && n <= 107) {
				out = append(out, m[0])
				break
			}
			if n == 38 || n == 48 {
				break
			}
		}
	}
	return out
}

func TestGoldenASCII(t *testing.T) {
	cfg := testConfig(seed(t, "seed-client.pcap"))
	cfg.ASCII = true
	m := newLoaded(t, cfg, 80, 24)
	for _, step := range []struct {
		name string
		keys []string
	}{{"list", nil}, {"detail", []string{"enter"}}, {"help", []string{"?"}}} {
		t.Run(step.name, func(t *testing.T) {
			m := press(t, m, step.keys...)
			v := plain(m)
			for i, r := range v {
				if r > 0x7e || (r < 0x20 && r != '\n') {
					t.Fatalf("non-ASCII %q at byte %d:\n%s", r, i, v)
				}
			}
			golden.RequireEqual(t, v)
		})
	}
}

func TestTooSmall(t *testing.T) {
	m := newLoaded(t, testConfig(seed(t, "seed-client.pcap")), 50, 10)
	mustContain(t, m, "at least 60x15", "50x10")
	checkFrame(t, m, 50, 10)
	// Growing again brings the list back.
	m = update(t, m, tea.WindowSizeMsg{Width: 80, Height: 24})
	mustContain(t, m, "10.110.233.50:50183")
}
