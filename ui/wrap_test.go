package ui

import (
	"slices"
	"testing"
)

func TestWrapKeepsUnitWithNumber(t *testing.T) {
	for _, c := range []struct {
		s     string
		width int
		want  []string
	}{
		// The clock line of a two-point report left "s" alone on a line.
		{"clocks relative to near: far +0.001 s", 30, []string{"clocks relative to near: far", "  +0.001 s"}},
		{"it took 12 ms to answer", 11, []string{"it took", "  12 ms to", "  answer"}},
		// Not a unit: the break stays where it fits.
		{"frames 3 to 7 of 12", 18, []string{"frames 3 to 7 of", "  12"}},
	} {
		if got := Wrap(c.s, c.width, "", "  "); !slices.Equal(got, c.want) {
			t.Errorf("Wrap(%q, %d) = %q, want %q", c.s, c.width, got, c.want)
		}
	}
}
