package ui

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/synscope/synscope/analysis"
	"github.com/synscope/synscope/capture/fixture"
)

// capFlow describes one connection whose client sends its first segment
// 1+retx times and whose server then sends dup segments of data, each
// answered by the client with the ACK it gave before: retx retransmissions
// and dup duplicate ACKs, past the cap on findings as a segment sent a
// million times is, at a size a test builds in a moment.
func capFlow(retx, dup int) string {
	var b strings.Builder
	b.WriteString(`client 10.0.0.1:40000 isn=1000
server 10.0.0.2:80 isn=5000
+0 C>S S mss=1460
+0.001 S>C SA mss=1460
+0.001 C>S A
+0.001 C>S PA len=100
`)
	for range retx {
		b.WriteString("+0.0002 C>S PA seq=1001 len=100\n")
	}
	if dup > 0 {
		b.WriteString("+0.001 S>C PA len=100\n+0.001 C>S A\n")
	}
	for range dup {
		b.WriteString("+0.0001 S>C PA len=100\n+0.0001 C>S A ack=5101\n")
	}
	return b.String()
}

// capModel opens the drill-down of capFlow(retx, dup) at w x h.
func capModel(t *testing.T, retx, dup, w, h int) Model {
	t.Helper()
	m := newLoaded(t, testConfig([]Source{memSource(t, "cap.pcap", fixture.Build(capFlow(retx, dup)))}), w, h)
	m = press(t, m, "enter")
	if m.state != stateDetail {
		t.Fatalf("state %d, want the drill-down", m.state)
	}
	return m
}

// retxKept returns how many retransmissions of the flow the view lists and
// the frame of the last, failing unless the analysis capped them.
func retxKept(t *testing.T, f *analysis.Flow) (kept int, last uint64) {
	t.Helper()
	for _, fi := range f.Findings {
		if fi.Code == analysis.CodeRetransmission {
			kept++
			last = max(last, fi.Frame)
		}
	}
	if n := f.Count(analysis.CodeRetransmission); kept == 0 || kept >= n {
		t.Fatalf("%d of %d retransmissions kept: the flow is not capped", kept, n)
	}
	return kept, last
}

// TestDetailCappedFindings: a flow keeps the first 1,000 findings of a
// code and counts the others. The drill-down of a segment sent 1,011
// times gave its findings pane the number listed as its count, could
// never scroll to the line under the last finding that says how many
// were not kept ("▼ 1 more finding below" whatever the keys), and left
// the ladder's rows after the last kept retransmission bare, as if the
// retransmissions had stopped.
func TestDetailCappedFindings(t *testing.T) {
	const retx = 1010
	for _, sz := range []struct{ w, h int }{{80, 24}, {80, 40}, {60, 15}, {120, 40}} {
		t.Run(sizeName(sz.w, sz.h), func(t *testing.T) {
			m := capModel(t, retx, 0, sz.w, sz.h)
			f := m.detail.flow
			if n := f.Count(analysis.CodeRetransmission); n != retx {
				t.Fatalf("%d retransmissions counted, want %d", n, retx)
			}
			kept, last := retxKept(t, f)
			more := retx - kept
			total := 0
			for _, n := range f.Counts() {
				total += int(n)
			}

			// The pane's title: every finding, and how many are listed.
			title := fmt.Sprintf("findings (%s; %s listed)", commas(uint64(total)), commas(uint64(len(f.Findings))))
			m = press(t, m, "tab", "tab")
			paneTitleLine(t, m, title)

			// The ladder's marks stop at the last kept retransmission,
			// and the line under the ladder says so. No row after it
			// is marked.
			lay := m.detail.layout()
			lines := strings.Split(plain(m), "\n")
			foot := lines[len(lay.summary)+1+lay.ladderH]
			long := fmt.Sprintf("  … tcp.retransmission marks stop at frame %d: %s more not marked", last, commas(uint64(more)))
			short := fmt.Sprintf("  … tcp.retransmission marks stop at %d: +%s", last, commas(uint64(more)))
			want := long
			if width(long) > sz.w {
				want = short
			}
			if foot != want {
				t.Errorf("under the ladder: %q, want %q", foot, want)
			}
			m = press(t, m, "tab", "G") // the ladder, its last packet
			if r := f.Refs[m.detail.cursor]; r.Frame <= last {
				t.Fatalf("the last packet is frame %d, not past %d", r.Frame, last)
			}
			lines = strings.Split(plain(m), "\n")
			rows := 0
			for _, l := range lines[len(lay.summary)+1:][:lay.ladderH] {
				var frame uint64
				if _, err := fmt.Sscanf(strings.TrimLeft(l, " →▶"), "%d", &frame); err != nil {
					t.Fatalf("ladder row %q: %v", l, err)
				}
				if frame > last {
					rows++
					if strings.Contains(l, "retransmission") {
						t.Errorf("frame %d, past %d, is marked: %q", frame, last, l)
					}
				}
			}
			if rows == 0 {
				t.Errorf("no ladder row past frame %d at the end", last)
			}
			if got := lines[len(lay.summary)+1+lay.ladderH]; got != foot {
				t.Errorf("under the ladder at its end: %q, want %q", got, foot)
			}

			// The note of the findings not kept comes on screen under the
			// last finding when the cursor gets there, with the finding
			// where both fit, and by a move down from it where they do
			// not (60x15).
			note := fmt.Sprintf("… %s more tcp.retransmission not kept: only the first %s are listed", commas(uint64(more)), commas(uint64(kept)))
			head := regexp.MustCompile(fmt.Sprintf(`(?m)^. frame %d  tcp.retransmission`, f.Findings[len(f.Findings)-1].Frame))
			// findings is the findings pane's text: the right of the
			// screen in the wide layout.
			findings := func(m Model) string {
				var out []string
				for _, l := range strings.Split(plain(m), "\n") {
					if m.c.wide() {
						_, l, _ = strings.Cut(l, "│")
					}
					out = append(out, l)
				}
				return strings.Join(out, "\n")
			}
			lay = m.detail.layout()
			fl := m.detail.findingLines(lay.findW)
			fits := len(fl.lines)-fl.starts[len(fl.starts)-1] <= lay.findH
			m = press(t, m, "tab", "tab") // the findings
			for _, keys := range [][]string{{"G"}, {"j"}, {"g", "G", "j"}, {"g", "end", "pgdown"}, {"k", "j", "j"}, {"k", "pgdown", "ctrl+d"}} {
				m = press(t, m, keys...)
				name := strings.Join(keys, " ")
				if m.detail.fcursor != len(f.Findings)-1 {
					t.Fatalf("after %s the cursor is on finding %d of %d", name, m.detail.fcursor, len(f.Findings))
				}
				v := findings(m)
				if name == "G" {
					if !head.MatchString(v) {
						t.Errorf("after G the last finding's first line is not on screen:\n%s", v)
					}
					if !fits {
						continue
					}
				}
				// Wrapped at 60 columns: the lines joined.
				if !strings.Contains(strings.Join(strings.Fields(v), " "), note) {
					t.Errorf("after %s the note %q is not on screen:\n%s", name, note, v)
				}
				if l := paneTitleLine(t, m, title); strings.Contains(l, "▼") {
					t.Errorf("after %s the title says more is below: %q", name, l)
				}
				if fits && !head.MatchString(v) {
					t.Errorf("after %s the last finding's first line is not on screen:\n%s", name, v)
				}
			}
			checkFrame(t, m, sz.w, sz.h)
		})
	}
}

// TestDetailCappedTwoCodes: with two codes past the cap, the line under
// the ladder names both, with the frame each code's marks stop at, and
// the findings pane ends with a note for each.
func TestDetailCappedTwoCodes(t *testing.T) {
	const retx, dup = 1010, 1005
	m := capModel(t, retx, dup, 80, 24)
	f := m.detail.flow
	if f.Count(analysis.CodeRetransmission) != retx || f.Count(analysis.CodeDupAck) != dup {
		t.Fatalf("%d retransmissions and %d dup ACKs counted, want %d and %d",
			f.Count(analysis.CodeRetransmission), f.Count(analysis.CodeDupAck), retx, dup)
	}
	lastOf := func(c analysis.Code) (n int, last uint64) {
		for _, fi := range f.Findings {
			if fi.Code == c {
				n++
				last = max(last, fi.Frame)
			}
		}
		return n, last
	}
	rk, rl := lastOf(analysis.CodeRetransmission)
	dk, dl := lastOf(analysis.CodeDupAck)
	lay := m.detail.layout()
	foot := strings.Split(plain(m), "\n")[len(lay.summary)+1+lay.ladderH]
	want := fmt.Sprintf("  … marks stop: tcp.retransmission at %d (+%d) · tcp.dup_ack at %d (+%d)", rl, retx-rk, dl, dup-dk)
	if foot != want {
		t.Errorf("under the ladder: %q, want %q", foot, want)
	}
	m = press(t, m, "tab", "tab", "G")
	mustContain(t, m,
		fmt.Sprintf("  … %d more tcp.retransmission not kept: only the first %s are listed", retx-rk, commas(uint64(rk))),
		fmt.Sprintf("  … %d more tcp.dup_ack not kept: only the first %s are listed", dup-dk, commas(uint64(dk))))
	checkFrame(t, m, 80, 24)

	// Wider, the long form.
	m = capModel(t, retx, dup, 160, 40)
	lay = m.detail.layout()
	foot = strings.Split(plain(m), "\n")[len(lay.summary)+1+lay.ladderH]
	want = fmt.Sprintf("  … marks stop, the rest not marked: tcp.retransmission at frame %d (%d more) · tcp.dup_ack at frame %d (%d more)",
		rl, retx-rk, dl, dup-dk)
	if foot != want {
		t.Errorf("at 160 columns, under the ladder: %q, want %q", foot, want)
	}
}

// TestDetailUncappedFindings: a flow under the cap has no line under its
// ladder and its findings pane gives one number.
func TestDetailUncappedFindings(t *testing.T) {
	m := capModel(t, 20, 0, 80, 24)
	f := m.detail.flow
	lay := m.detail.layout()
	m = press(t, m, "tab", "tab", "G")
	paneTitleLine(t, m, fmt.Sprintf("[findings (%d)]", len(f.Findings)))
	if v := plain(m); strings.Contains(v, "marks stop") || strings.Contains(v, "not kept") {
		t.Errorf("a flow under the cap speaks of it:\n%s", v)
	}
	// The lower pane starts right under the ladder.
	if l := strings.Split(plain(m), "\n")[len(lay.summary)+1+lay.ladderH]; !strings.Contains(l, "[findings") {
		t.Errorf("under the ladder: %q, want the lower pane's title", l)
	}
}

// TestFindingsCursorWhole: moving down the findings, the selected finding
// is on screen whole when it fits, and the pane starts at a finding's
// first line where it can. Going back to the first line of the finding
// the pane started inside of, the pane cut the end of the one selected.
func TestFindingsCursorWhole(t *testing.T) {
	for _, h := range []int{24, 20, 17} {
		t.Run(sizeName(80, h), func(t *testing.T) {
			m := newLoaded(t, testConfig(seed(t, "seed-client.pcap")), 80, h)
			m = press(t, m, "enter", "tab", "tab")
			d := &m.detail
			n := len(d.flow.Findings)
			for step := 0; step < 2*n; step++ {
				k := "j"
				if step >= n {
					k = "k"
				}
				m = press(t, m, k)
				d = &m.detail
				lay := d.layout()
				fl := d.findingLines(lay.findW)
				off := max(0, min(d.foffset, len(fl.lines)-lay.findH))
				cur := fl.starts[d.fcursor]
				end := len(fl.lines)
				if d.fcursor+1 < len(fl.starts) {
					end = fl.starts[d.fcursor+1]
				}
				if cur < off || min(end, cur+lay.findH) > off+lay.findH {
					t.Errorf("%s to finding %d (lines %d-%d): the pane shows lines %d-%d:\n%s",
						k, d.fcursor, cur, end-1, off, off+lay.findH-1, plain(m))
				}
				if !fl.head[off] && off < len(fl.lines)-lay.findH {
					t.Errorf("%s to finding %d: the pane starts inside a finding (line %d)", k, d.fcursor, off)
				}
			}
		})
	}
}
