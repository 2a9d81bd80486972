package ui

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/synscope/synscope/themes"
)

// humanBytes shows a byte count in at most 6 columns: exact below 10 000,
// then with a K, M or G suffix (powers of 1024).
func humanBytes(n int64) string {
	if n < 10000 {
		return strconv.FormatInt(n, 10)
	}
	f := float64(n)
	for _, u := range []string{"K", "M", "G", "T"} {
		f /= 1024
		if f < 999.95 {
			if f < 10 {
				return fmt.Sprintf("%.1f%s", f, u)
			}
			return fmt.Sprintf("%.0f%s", f, u)
		}
	}
	return fmt.Sprintf("%.0fP", f/1024)
}

// shortDuration shows a span of capture time in at most 6 columns.
func shortDuration(ns int64) string {
	d := time.Duration(ns)
	switch {
	case d < 0:
		return "-"
	case d < time.Millisecond:
		return fmt.Sprintf("%dus", d/time.Microsecond)
	case d < 100*time.Millisecond:
		return fmt.Sprintf("%.1fms", float64(d)/1e6)
	case d < time.Second:
		return fmt.Sprintf("%.0fms", float64(d)/1e6)
	case d < 10*time.Second:
		return fmt.Sprintf("%.3fs", d.Seconds())
	case d < time.Minute:
		return fmt.Sprintf("%.2fs", d.Seconds())
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	}
	return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
}

// clockDuration shows a wall-clock span as m:ss or h:mm:ss, for the ETA.
func clockDuration(d time.Duration) string {
	s := int(d.Round(time.Second).Seconds())
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

// elideAddr fits an address:port into w columns by cutting the start of
// the address, never its end or the port: "…0.233.50:50183". Hosts of one
// subnet differ in their last digits: cut after its first ones, .200 and
// .201 both read "192.168.…:51234".
func elideAddr(s string, w int, ellipsis string) string {
	if width(s) <= w {
		return s
	}
	i := strings.LastIndexByte(s, ':')
	if i < 0 || w < len(s[i:])+width(ellipsis)+2 {
		return truncate(s, w, ellipsis)
	}
	port, addr := s[i:], []rune(s[:i])
	keep := w - len(port) - width(ellipsis)
	return ellipsis + string(addr[len(addr)-keep:]) + port
}

// commas writes n with thousands separators.
func commas(n uint64) string {
	s := strconv.FormatUint(n, 10)
	if len(s) <= 3 {
		return s
	}
	var b strings.Builder
	pre := len(s) % 3
	if pre > 0 {
		b.WriteString(s[:pre])
	}
	for i := pre; i < len(s); i += 3 {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(s[i : i+3])
	}
	return b.String()
}

// width is the number of columns s takes, escape sequences aside.
//
// Most of what the views draw is printable ASCII, the glyphs and SGR style
// sequences: that is counted byte by byte, without the grapheme
// segmentation lipgloss.Width does (which costs most of a frame's
// drawing). Anything else goes to lipgloss.Width.
func width(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 0x20 && c < 0x7f:
			n++
		case c == 0x1b && i+1 < len(s) && s[i+1] == '[':
			// CSI: parameter and intermediate bytes, then a final byte.
			j := i + 2
			for j < len(s) && s[j] >= 0x20 && s[j] < 0x40 {
				j++
			}
			if j == len(s) || s[j] < 0x40 || s[j] > 0x7e {
				return lipgloss.Width(s)
			}
			i = j
		case c >= 0x80:
			// A glyph is a grapheme cluster of its own when what follows
			// is ASCII, an escape or another glyph: none of them extends
			// a cluster.
			r, size := utf8.DecodeRuneInString(s[i:])
			gw, ok := glyphWidth[r]
			if !ok {
				return lipgloss.Width(s)
			}
			n += gw
			i += size - 1
		default:
			return lipgloss.Width(s)
		}
	}
	return n
}

// glyphWidth is the width of each rune the glyphs and the views' own text
// use.
var glyphWidth = func() map[rune]int {
	m := map[rune]int{}
	for _, r := range "✓✗·→←…▶●○▲▼≠█░─│Δ×" {
		m[r] = lipgloss.Width(string(r))
	}
	return m
}()

// truncate cuts s (which may hold style escapes) to at most w columns,
// ending it with tail when it had to be cut.
func truncate(s string, w int, tail string) string {
	if w <= 0 {
		return ""
	}
	if width(s) <= w {
		return s
	}
	if width(tail) >= w {
		tail = ""
	}
	return ansi.Truncate(s, w, tail)
}

// padRight pads s with spaces to w columns, cutting it when longer.
func padRight(s string, w int, tail string) string {
	s = truncate(s, w, tail)
	if n := w - width(s); n > 0 {
		s += strings.Repeat(" ", n)
	}
	return s
}

// padLeft right-aligns s in w columns.
func padLeft(s string, w int) string {
	if n := w - width(s); n > 0 {
		return strings.Repeat(" ", n) + s
	}
	return s
}

// screen makes lines fill exactly h lines of at most w columns, so that the
// frame never scrolls the terminal.
func screen(lines []string, w, h int, tail string) string {
	if len(lines) > h {
		lines = lines[:h]
	}
	var b strings.Builder
	for i := range h {
		if i > 0 {
			b.WriteByte('\n')
		}
		if i < len(lines) {
			b.WriteString(truncate(lines[i], w, tail))
		}
	}
	return b.String()
}

// fitParts joins parts with sep into lines of at most w columns, breaking
// only between parts; lines after the first start with indent. A part
// wider than a line is cut.
func fitParts(parts []string, sep, indent string, w int, tail string) []string {
	var lines []string
	cur, curW := "", 0
	for _, p := range parts {
		if p == "" {
			continue
		}
		pw := width(p)
		switch {
		case cur == "":
			cur, curW = p, pw
		case curW+width(sep)+pw <= w:
			cur += sep + p
			curW += width(sep) + pw
		default:
			lines = append(lines, truncate(cur, w, tail))
			cur, curW = indent+p, width(indent)+pw
		}
	}
	if cur != "" {
		lines = append(lines, truncate(cur, w, tail))
	}
	return lines
}

// plainWrap word-wraps plain text s to w columns, the first line indented
// by first and the others by rest. Styles are applied by the caller.
func plainWrap(s string, w int, first, rest string) []string {
	return Wrap(s, w, first, rest)
}

// scrollNote says how many rows are out of view above and below a list or
// pane, as the help page does: "▲ 3 above · ▼ 12 more packets below",
// else, to fit in room columns, "▲ 3 more · ▼ 12 more" or "▲ 3 · ▼ 12".
// what names a row ("packet"); the note is empty when every row is in
// view. The count above comes first: scrolling one row changes both
// counts, and the renderer sends the columns from the first change to the
// last, fewer when the counts are close (TestScrollBytes at 200x50: 249
// bytes a row without the note, 303 with the count below first, 293 with
// it second).
func scrollNote(g themes.Glyphs, above, below int, what string, room int) string {
	var forms [3][]string
	if above > 0 {
		n := g.SortAsc + " " + commas(uint64(above))
		forms[0] = append(forms[0], n+" above")
		forms[1] = append(forms[1], n+" more")
		forms[2] = append(forms[2], n)
	}
	if below > 0 {
		n := g.SortDesc + " " + commas(uint64(below))
		forms[0] = append(forms[0], fmt.Sprintf("%s more %s%s below", n, what, plural(below)))
		forms[1] = append(forms[1], n+" more")
		forms[2] = append(forms[2], n)
	}
	for _, f := range forms[:2] {
		if s := strings.Join(f, g.Sep); width(s) <= room {
			return s
		}
	}
	return strings.Join(forms[2], g.Sep)
}

// rightNote ends a title line of w columns with note, in style sty, at its
// right edge, cutting the title when both do not fit: what is out of view
// matters more than the end of a title.
func rightNote(line, note string, sty lipgloss.Style, w int, tail string) string {
	if note == "" {
		return truncate(line, w, tail)
	}
	nw := width(note)
	if nw+2 > w {
		return sty.Render(truncate(note, w, tail))
	}
	line = truncate(line, w-nw-2, tail)
	return line + strings.Repeat(" ", w-width(line)-nw) + sty.Render(note)
}

// shortenMiddle fits a file name or path into w columns by cutting its
// middle, so that both its start and its end (the file's own name) stay.
func shortenMiddle(s string, w int, ellipsis string) string {
	if width(s) <= w {
		return s
	}
	r := []rune(s)
	keep := w - width(ellipsis)
	if keep < 2 {
		return truncate(s, w, "")
	}
	head := keep / 3
	return truncate(string(r[:head])+ellipsis+string(r[len(r)-(keep-head):]), w, "")
}
