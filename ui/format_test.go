package ui

import (
	"math/rand/v2"
	"strings"
	"testing"

	"charm.land/lipgloss/v2"
)

// TestWidthMatchesLipgloss checks width's fast path against lipgloss.Width
// on strings made of what the views draw (ASCII, glyphs, SGR sequences)
// and of what it must hand over (wide and combining runes, emoji with
// variation selectors, other escapes, controls, invalid UTF-8).
func TestWidthMatchesLipgloss(t *testing.T) {
	pieces := []string{"a", "flow 12", " ", "→", "✗", "…", "·", "●", "█", "░", "│", "Δ", "×",
		"\x1b[1m", "\x1b[38;2;10;20;30m", "\x1b[4:3m", "\x1b[0m", "\x1b[m",
		"漢", "e\u0301", "⚠", "\ufe0f", "👍", "\u200d", "\x1b]8;;x\x07", "\x1b[", "\x07", "\t", "\n", "\xff", "é"}
	styled := lipgloss.NewStyle().Bold(true).Underline(true).Foreground(lipgloss.Color("#ff0000"))
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		var b strings.Builder
		for range rng.IntN(8) {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		s := b.String()
		if rng.IntN(4) == 0 {
			s = styled.Render(s)
		}
		if got, want := width(s), lipgloss.Width(s); got != want {
			t.Fatalf("width(%q) = %d, lipgloss.Width = %d", s, got, want)
		}
	}
}
