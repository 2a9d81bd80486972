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

// TestElideAddrKeepsTheEnd: a narrow address column keeps an address's
// last digits and its port: two clients of one subnet, .200 and .201,
// both read "192.168.…:51234" when the middle was cut.
func TestElideAddrKeepsTheEnd(t *testing.T) {
	for _, c := range []struct {
		in   string
		w    int
		want string
	}{
		{"192.168.100.200:51234", 15, "….100.200:51234"},
		{"192.168.100.201:51234", 15, "….100.201:51234"},
		{"[2001:db8::1]:443", 12, "…db8::1]:443"},
		{"10.0.0.1:80", 15, "10.0.0.1:80"},
	} {
		if got := elideAddr(c.in, c.w, "…"); got != c.want || width(got) > c.w {
			t.Errorf("elideAddr(%q, %d) = %q, want %q", c.in, c.w, got, c.want)
		}
	}
}
