package themes

import (
	"image/color"
	"slices"

	"charm.land/lipgloss/v2"
)

// Theme is a set of semantic colour roles. Views never name a colour: they
// use the Styles built from a theme (New), so that a theme is the only
// place a colour is chosen. A nil role means "the terminal's default".
//
// Meaning never rides on colour alone: every status also has a glyph and
// the styles add attributes (bold, reverse, underline, faint) that every
// theme shares, so the mono theme and NO_COLOR lose nothing but colour.
type Theme struct {
	Name string
	// Dark says the theme is meant for a dark background.
	Dark bool

	// Flow statuses and finding severities.
	OK, Warning, Invalid, Partial, Info color.Color

	Title    color.Color // the top line
	Header   color.Color // column headers, pane titles
	Dim      color.Color // secondary text
	Border   color.Color // lines between panes
	Accent   color.Color // keys in help, the filter prompt
	Selected color.Color // background of the selected row
	// SelectedText is the selected row's foreground: with its own
	// background the row must not take the terminal's default
	// foreground, which on a light terminal the dark theme was chosen
	// for (one that does not answer the background query) is black on
	// Selected's dark grey.
	SelectedText color.Color
	Mark         color.Color // the mark of a marked flow

	// Expected and Actual show a number that should have been (expected)
	// against the one that was (actual), as for a wrong ACK.
	Expected, Actual color.Color
	// PayloadOnSYN highlights payload carried by a SYN or SYN-ACK.
	PayloadOnSYN color.Color
	// Padding shows Ethernet padding, which is not payload.
	Padding color.Color

	// ProgressFull and ProgressEmpty colour the loading bar.
	ProgressFull, ProgressEmpty color.Color
}

// The themes --theme chooses from.
var (
	// Dark is the default: the 16 ANSI colours, which follow the user's
	// terminal palette. It is also what a terminal that does not answer
	// the background query gets (PuTTY, serial consoles), light or not:
	// the title keeps the terminal's own foreground (bright white was
	// invisible on white), and the selected row sets its foreground
	// with its background.
	Dark = Theme{
		Name: "dark", Dark: true,
		OK: lipgloss.Green, Warning: lipgloss.Yellow, Invalid: lipgloss.BrightRed, Partial: lipgloss.Cyan, Info: lipgloss.BrightBlack,
		Title: nil, Header: lipgloss.BrightBlue, Dim: lipgloss.BrightBlack, Border: lipgloss.BrightBlack,
		Accent: lipgloss.BrightCyan, Selected: lipgloss.Color("237"), SelectedText: lipgloss.Color("255"), Mark: lipgloss.BrightMagenta,
		Expected: lipgloss.BrightGreen, Actual: lipgloss.BrightRed,
		PayloadOnSYN: lipgloss.BrightYellow, Padding: lipgloss.BrightBlack,
		ProgressFull: lipgloss.BrightCyan, ProgressEmpty: lipgloss.BrightBlack,
	}
	// Light is for light backgrounds: darker hues, a pale selection.
	Light = Theme{
		Name: "light", Dark: false,
		OK: lipgloss.Color("28"), Warning: lipgloss.Color("130"), Invalid: lipgloss.Color("160"), Partial: lipgloss.Color("25"),
		Info:  lipgloss.Color("244"),
		Title: lipgloss.Black, Header: lipgloss.Color("25"), Dim: lipgloss.Color("244"), Border: lipgloss.Color("250"),
		Accent: lipgloss.Color("31"), Selected: lipgloss.Color("254"), SelectedText: lipgloss.Color("232"), Mark: lipgloss.Color("127"),
		Expected: lipgloss.Color("28"), Actual: lipgloss.Color("160"),
		PayloadOnSYN: lipgloss.Color("130"), Padding: lipgloss.Color("244"),
		ProgressFull: lipgloss.Color("31"), ProgressEmpty: lipgloss.Color("250"),
	}
	// HighContrast uses bright colours only and a blue selection: ok is
	// blue-green rather than green, invalid a bright red-orange, so that the
	// two differ in lightness as well as hue.
	HighContrast = Theme{
		Name: "high-contrast", Dark: true,
		OK: lipgloss.BrightCyan, Warning: lipgloss.BrightYellow, Invalid: lipgloss.Color("202"), Partial: lipgloss.BrightMagenta,
		Info:  lipgloss.BrightWhite,
		Title: lipgloss.BrightWhite, Header: lipgloss.BrightWhite, Dim: lipgloss.White, Border: lipgloss.BrightWhite,
		Accent: lipgloss.BrightYellow, Selected: lipgloss.Blue, SelectedText: lipgloss.BrightWhite, Mark: lipgloss.BrightYellow,
		Expected: lipgloss.BrightCyan, Actual: lipgloss.Color("202"),
		PayloadOnSYN: lipgloss.BrightYellow, Padding: lipgloss.White,
		ProgressFull: lipgloss.BrightWhite, ProgressEmpty: lipgloss.White,
	}
	// Mono has no colour at all: attributes and glyphs carry everything.
	// NO_COLOR chooses it.
	Mono = Theme{Name: "mono", Dark: true}
)

var all = []Theme{Dark, Light, HighContrast, Mono}

// Names returns the names --theme accepts.
func Names() []string {
	names := make([]string, len(all))
	for i, t := range all {
		names[i] = t.Name
	}
	return names
}

// Named returns the theme with the given name.
func Named(name string) (Theme, bool) {
	i := slices.IndexFunc(all, func(t Theme) bool { return t.Name == name })
	if i < 0 {
		return Theme{}, false
	}
	return all[i], true
}
