package ui

import (
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
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

// TestTooSmallKeys: while the screen asks for a larger terminal, only q
// and ctrl+c act. w then enter wrote a file nobody saw (the demo's
// client-conn1.pcapng, at 40x12), and enter and ? changed the view out of
// sight.
func TestTooSmallKeys(t *testing.T) {
	srcs := seedPath(t)
	t.Chdir(t.TempDir()) // where w would write
	m := newLoaded(t, testConfig(srcs), 40, 12)
	for _, keys := range [][]string{{"w", "enter"}, {"enter"}, {"?"}, {"/", "x", "enter"}, {"s"}, {"space"}, {"esc"}} {
		before := m
		m = press(t, m, keys...)
		if m.state != stateList || m.help || m.export.active() || m.list.typing || m.list.filter != "" ||
			m.list.sortCol != before.list.sortCol || len(m.list.marks) > 0 || m.note != "" {
			t.Errorf("%v acted while too small: state %d, help %v, export %d, typing %v, filter %q, sort %d, marks %d, note %q",
				keys, m.state, m.help, m.export.stage, m.list.typing, m.list.filter, m.list.sortCol, len(m.list.marks), m.note)
		}
		mustContain(t, m, "at least", "60x15", "40x12", "press q to quit")
	}
	if files, _ := os.ReadDir("."); len(files) > 0 {
		t.Errorf("written while too small: %v", files)
	}
	for _, k := range []string{"q", "ctrl+c"} {
		if _, cmd := step(t, m, k); !isQuit(cmd) {
			t.Errorf("%s does not quit while too small", k)
		}
	}
	// Large enough again, the keys act.
	m = update(t, m, tea.WindowSizeMsg{Width: 80, Height: 24})
	m = press(t, m, "enter")
	if m.state != statePath {
		t.Fatalf("enter at 80x24: state %d", m.state)
	}
	mustContain(t, m, "connection 1")
	// Shrinking in the drill-down keeps it, and the keys, for later.
	m = update(t, m, tea.WindowSizeMsg{Width: 59, Height: 30})
	m = press(t, m, "esc", "w")
	m = update(t, m, tea.WindowSizeMsg{Width: 80, Height: 24})
	if m.state != statePath || m.export.active() {
		t.Errorf("after esc and w while too small: state %d, export %d", m.state, m.export.stage)
	}
	checkFrame(t, m, 80, 24)
}

// TestFilterPromptEmpty: the empty filter prompt is / and the cursor on a
// blank, then a dim hint in parentheses: textinput drew the placeholder's
// first letter under the cursor ("/t"), which read as typed.
func TestFilterPromptEmpty(t *testing.T) {
	for _, sz := range []struct{ w, h int }{{60, 15}, {80, 24}, {120, 40}, {200, 50}} {
		t.Run(sizeName(sz.w, sz.h), func(t *testing.T) {
			m := press(t, newLoaded(t, testConfig(seed(t, "seed-client.pcap")), sz.w, sz.h), "/")
			lines := strings.Split(plain(m), "\n")
			status := lines[sz.h-2]
			if !strings.HasPrefix(status, "/  (filter words: text · status:invalid") {
				t.Errorf("empty prompt %q", status)
			}
			// The cursor is a blank in reverse video, not a letter.
			raw := strings.Split(m.View().Content, "\n")[sz.h-2]
			if !regexp.MustCompile(`/(\x1b\[[0-9;]*m)*\x1b\[[0-9;]*7m(\x1b\[[0-9;]*m)* `).MatchString(raw) {
				t.Errorf("no blank cursor after /: %q", raw)
			}
			// Typing takes the hint away.
			m = press(t, m, "p")
			if status := strings.Split(plain(m), "\n")[sz.h-2]; strings.TrimRight(status, " ") != "/p" {
				t.Errorf("prompt with p typed: %q", status)
			}
			m = press(t, m, "backspace")
			mustContain(t, m, "/  (filter words:")
			checkFrame(t, m, sz.w, sz.h)
		})
	}
}

// TestHelpScrolls: help taller than the screen scrolls with the move keys,
// its last line saying what is out of sight, so that at 60x15 the general
// column (quit) can be reached; help that fits neither scrolls nor says so.
func TestHelpScrolls(t *testing.T) {
	many := manyFlows(30)
	m := newLoaded(t, testConfig([]Source{memSource(t, "many.pcap", many)}), 60, 15)
	m = press(t, m, "?")
	checkFrame(t, m, 60, 15)
	lines := strings.Split(plain(m), "\n")
	if !strings.HasPrefix(lines[0], "synscope keys") || !strings.Contains(lines[13], "more lines below") {
		t.Fatalf("top of help:\n%s", plain(m))
	}
	if strings.Contains(plain(m), "ctrl+c  quit") {
		t.Fatalf("the general column fits: nothing to test\n%s", plain(m))
	}
	mustContain(t, m, "?/esc close help", "q quit", "↓/j down")
	all := m.helpView()
	for _, tc := range []struct {
		key string
		top int // the help line shown first
	}{{"j", 1}, {"down", 2}, {"k", 1}, {"up", 0}, {"up", 0}, {"pgdown", 13}, {"pgup", 0}, {"ctrl+d", 6}, {"ctrl+u", 0},
		{"G", len(all) - 13}, {"j", len(all) - 13}, {"g", 0}, {"end", len(all) - 13}, {"home", 0}} {
		m = press(t, m, tc.key)
		want := min(tc.top, len(all)-13)
		if m.helpTop != want || strings.Split(plain(m), "\n")[0] != ansi.Strip(all[want]) {
			t.Fatalf("after %s: top %d, want %d:\n%s", tc.key, m.helpTop, want, plain(m))
		}
		if !m.help || m.state != stateList || m.list.cursor != 0 {
			t.Fatalf("%s left the help or moved the list: help %v, cursor %d", tc.key, m.help, m.list.cursor)
		}
	}
	m = press(t, m, "G")
	mustContain(t, m, "ctrl+c  quit", "above")
	if strings.Contains(plain(m), "below") {
		t.Errorf("at the end, more below:\n%s", plain(m))
	}
	// Larger, the help fits: no scrolling, nothing said.
	m = update(t, m, tea.WindowSizeMsg{Width: 120, Height: 40})
	if m.helpTop != 0 || strings.Contains(plain(m), "more lines") || strings.Contains(plain(m), "↓/j down") {
		t.Errorf("help that fits: top %d\n%s", m.helpTop, plain(m))
	}
	m = press(t, m, "j")
	if m.helpTop != 0 || !m.help {
		t.Errorf("j scrolled help that fits: top %d", m.helpTop)
	}
	checkFrame(t, m, 120, 40)
	// Smaller again: still within bounds, and esc closes.
	m = update(t, m, tea.WindowSizeMsg{Width: 60, Height: 15})
	m = press(t, m, "G", "esc")
	if m.help || m.state != stateList {
		t.Errorf("esc: help %v, state %d", m.help, m.state)
	}

	// Over a one-flow list the help scrolls too, and still lists no
	// movement keys, which that list does not have.
	one := press(t, newLoaded(t, testConfig(seed(t, "seed-client.pcap")), 60, 15), "?")
	mustContain(t, one, "more lines below", "↓/j down")
	one = press(t, one, "G")
	mustContain(t, one, "ctrl+c  quit")
	for _, l := range strings.Split(plain(one), "\n")[:14] {
		if strings.Contains(l, "half page") || strings.Contains(l, "first") {
			t.Errorf("help over a one-flow list offers %q", l)
		}
	}
}
