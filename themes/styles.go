package themes

import (
	"image/color"

	"charm.land/lipgloss/v2"
)

// StatusStyles style the four flow statuses and the info severity.
type StatusStyles struct {
	OK, Warning, Invalid, Partial, Info lipgloss.Style
}

// Styles are every style the interface uses, built from one Theme by New.
// Views use these by role (styles.Status.Invalid, styles.Expected), never a
// colour.
type Styles struct {
	Theme Theme

	Status StatusStyles

	Title     lipgloss.Style // the top line
	Header    lipgloss.Style // column headers
	Dim       lipgloss.Style // secondary text
	Border    lipgloss.Style // lines between panes
	Selected  lipgloss.Style // the selected row of the focused pane
	Unfocused lipgloss.Style // the selected row of a pane without focus
	Mark      lipgloss.Style // the mark of a marked flow

	PaneTitle        lipgloss.Style // a pane's title
	PaneTitleFocused lipgloss.Style // the focused pane's title

	Expected     lipgloss.Style // the number that should have been
	Actual       lipgloss.Style // the number that was, where it differs
	PayloadOnSYN lipgloss.Style // payload on a SYN or SYN-ACK
	Padding      lipgloss.Style // Ethernet padding

	HelpKey     lipgloss.Style
	HelpDesc    lipgloss.Style
	HelpHeading lipgloss.Style

	FilterPrompt lipgloss.Style
	Error        lipgloss.Style // a message about something that failed

	ProgressFull, ProgressEmpty color.Color
}

// fg sets a foreground colour when the role has one.
func fg(s lipgloss.Style, c color.Color) lipgloss.Style {
	if c == nil {
		return s
	}
	return s.Foreground(c)
}

// New builds the styles of a theme. The attributes (bold, reverse,
// underline, faint) are the same in every theme: they are what the mono
// theme and NO_COLOR keep.
func New(t Theme) *Styles {
	n := lipgloss.NewStyle
	s := &Styles{Theme: t}
	s.Status = StatusStyles{
		OK:      fg(n(), t.OK),
		Warning: fg(n().Bold(true), t.Warning),
		Invalid: fg(n().Bold(true), t.Invalid),
		Partial: fg(n().Italic(true), t.Partial),
		Info:    fg(n().Faint(true), t.Info),
	}
	s.Title = fg(n().Bold(true), t.Title)
	s.Header = fg(n().Bold(true), t.Header)
	s.Dim = fg(n().Faint(true), t.Dim)
	s.Border = fg(n(), t.Border)
	// The selected row is reversed in mono (no background to paint).
	// A colour theme paints both its background and its foreground, so
	// that it reads whatever the terminal's default colours are. Where
	// the terminal shows no attribute at all (TERM=dumb), the views put
	// the cursor glyph in the row's first column.
	if t.Selected == nil {
		s.Selected = n().Reverse(true)
	} else {
		s.Selected = fg(n().Background(t.Selected).Bold(true), t.SelectedText)
	}
	s.Unfocused = n().Underline(true)
	s.Mark = fg(n().Bold(true), t.Mark)
	s.PaneTitle = fg(n(), t.Dim)
	s.PaneTitleFocused = fg(n().Bold(true).Underline(true), t.Header)
	s.Expected = fg(n().Underline(true), t.Expected)
	s.Actual = fg(n().Bold(true).Reverse(true), t.Actual)
	s.PayloadOnSYN = fg(n().Bold(true).Reverse(true), t.PayloadOnSYN)
	s.Padding = fg(n().Faint(true).Italic(true), t.Padding)
	s.HelpKey = fg(n().Bold(true), t.Accent)
	s.HelpDesc = n()
	s.HelpHeading = fg(n().Bold(true).Underline(true), t.Header)
	s.FilterPrompt = fg(n().Bold(true), t.Accent)
	s.Error = fg(n().Bold(true), t.Invalid)
	s.ProgressFull, s.ProgressEmpty = t.ProgressFull, t.ProgressEmpty
	return s
}
