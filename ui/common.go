package ui

import (
	"os"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/synscope/synscope/analysis"
	"github.com/synscope/synscope/analysis/filter"
	"github.com/synscope/synscope/capture"
	"github.com/synscope/synscope/themes"
)

// Source is one capture for the TUI to read: an opened Reader and the name
// the user knows it by.
type Source struct {
	Name   string
	Reader *capture.Reader
}

// Config is what the TUI needs from the command line.
type Config struct {
	Sources []Source
	// Match, when set, keeps only the packets it accepts (the tcpdump
	// filter of the command line).
	Match func(*analysis.Packet) bool
	// Filter is the expression Match was made from. With several
	// Sources (the capture points of one path) it picks connections
	// instead, each whole at every point: a primitive of it (host, port,
	// tcp...) holds for a connection when it holds for a packet of the
	// connection at any point, and and, or, not combine those
	// (analysis.Path.Selector). The title line shows it, a live
	// capture's too (which the capture applies: Match is nil then).
	Filter *filter.Expr
	// Theme names the theme (ThemeNames); empty for the default, dark or
	// light as the terminal's background is.
	Theme string
	// ASCII draws with ASCII glyphs and escapes every non-ASCII byte of
	// packet-derived text.
	ASCII bool
	// NoColor removes every colour escape (NO_COLOR).
	NoColor bool
	// Live, when set, is a live capture to show instead of Sources.
	Live Live
	// MaxFlows bounds the flows kept per capture (--max-flows): past it,
	// the analysis evicts flows and the status bar counts them. 0 is
	// analysis.DefaultMaxFlows.
	MaxFlows int

	// now is the clock (tests fix it).
	now func() time.Time
}

// Minimum terminal size: below it the TUI says so instead of drawing.
const (
	minWidth  = 60
	minHeight = 15
)

// Sizes from which the drill-down lays its panes side by side.
const (
	wideWidth  = 120
	wideHeight = 32
)

// common is what every view shares: the terminal size, the styles, the
// glyphs and the key map (soft-serve's common.Common).
type common struct {
	width, height int
	styles        *themes.Styles
	g             themes.Glyphs
	ascii         bool
	keys          *KeyMap
	now           func() time.Time
	// noAttrs: the terminal shows no attribute at all (TERM=dumb is
	// colorprofile.NoTTY), so neither the selection's background nor
	// reverse reaches it: the selected row carries the cursor glyph in
	// its first column instead (cursorLead).
	noAttrs bool
}

// cursorLead puts the cursor glyph in the first column of a selected row's
// plain text, which is blank, when the terminal shows no attribute; else
// it returns the line as it is.
func (c *common) cursorLead(line string) string {
	if !c.noAttrs || line == "" {
		return line
	}
	_, size := utf8.DecodeRuneInString(line)
	return c.g.Cursor + line[size:]
}

// safe makes text taken from a packet or a file name harmless for the
// terminal (see Safe).
func (c *common) safe(s string) string { return Safe(s, c.ascii) }

// wide reports whether the terminal is large enough for the wide layouts.
func (c *common) wide() bool { return c.width >= wideWidth && c.height >= wideHeight }

// LocaleIsUTF8 reports whether the locale (LC_ALL, then LC_CTYPE, then
// LANG, the first one set) names UTF-8. An unset locale is the C locale,
// which is ASCII.
func LocaleIsUTF8() bool {
	for _, v := range []string{"LC_ALL", "LC_CTYPE", "LANG"} {
		if s := os.Getenv(v); s != "" {
			s = strings.ToLower(s)
			return strings.Contains(s, "utf-8") || strings.Contains(s, "utf8")
		}
	}
	return false
}
