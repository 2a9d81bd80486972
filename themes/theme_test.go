package themes

import (
	"image/color"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"charm.land/lipgloss/v2"
)

func TestThemes(t *testing.T) {
	for _, name := range Names() {
		th, ok := Named(name)
		if !ok || th.Name != name {
			t.Fatalf("theme %q not found", name)
		}
		s := New(th)
		out := s.Status.Invalid.Render("x") + s.Selected.Render("x") + s.Expected.Render("x") + s.Actual.Render("x")
		if hasColour := colour(out); hasColour != (name != "mono") {
			t.Errorf("theme %s renders %q: colour %v", name, out, hasColour)
		}
		// Every role but mono's has a colour, except the dark theme's
		// title (TestUnknownBackground).
		if name != "mono" {
			v := reflect.ValueOf(th)
			for i := range v.NumField() {
				role := v.Type().Field(i).Name
				if f := v.Field(i); f.Kind() == reflect.Interface && f.IsNil() && (name != "dark" || role != "Title") {
					t.Errorf("theme %s: role %s has no colour", name, role)
				}
			}
		}
		// ok and invalid differ by more than colour.
		if s.Status.OK.GetBold() == s.Status.Invalid.GetBold() {
			t.Errorf("theme %s: ok and invalid differ only in colour", name)
		}
	}
	if _, ok := Named("pink"); ok {
		t.Error("a theme called pink")
	}
}

// TestUnknownBackground: a terminal that does not answer the background
// query gets the dark theme, light background or not. What must read on
// either: the selected row paints its own foreground on its background
// (it was the terminal's default foreground, black on a light terminal,
// on dark grey), and the title keeps the terminal's foreground (bright
// white was invisible on white). A colour theme's selection sets both;
// mono reverses.
func TestUnknownBackground(t *testing.T) {
	for _, name := range Names() {
		th, _ := Named(name)
		s := New(th)
		_, fgSet := s.Selected.GetForeground().(lipgloss.NoColor)
		_, bgSet := s.Selected.GetBackground().(lipgloss.NoColor)
		switch {
		case name == "mono" && !s.Selected.GetReverse():
			t.Errorf("mono: the selected row is not reversed")
		case name != "mono" && (fgSet || bgSet):
			t.Errorf("theme %s: the selected row sets its foreground %v and background %v: it needs both",
				name, !fgSet, !bgSet)
		}
	}
	s := New(Dark)
	if _, ok := s.Title.GetForeground().(lipgloss.NoColor); !ok || !s.Title.GetBold() {
		t.Errorf("dark: the title is %v, bold %v: want the terminal's own foreground, bold", s.Title.GetForeground(), s.Title.GetBold())
	}
	// The selected row's colours differ in lightness (a 256-colour grey
	// on a 256-colour grey, far apart).
	bg, fg := s.Selected.GetBackground(), s.Selected.GetForeground()
	lum := func(c color.Color) uint32 {
		r, g, b, _ := c.RGBA()
		return (r + g + b) / 3 >> 8
	}
	if d := int(lum(fg)) - int(lum(bg)); d < 128 {
		t.Errorf("dark: the selected row's foreground %v is too close to its background %v (%d)", fg, bg, d)
	}
}

var sgr = regexp.MustCompile(`\x1b\[([0-9;:]*)m`)

// colour reports whether s has an SGR sequence that sets a colour.
func colour(s string) bool {
	for _, m := range sgr.FindAllStringSubmatch(s, -1) {
		for _, p := range strings.FieldsFunc(m[1], func(r rune) bool { return r == ';' || r == ':' }) {
			n, _ := strconv.Atoi(p)
			if (n >= 30 && n <= 38) || (n >= 40 && n <= 48) || (n >= 90 && n <= 97) || (n >= 100 && n <= 107) {
				return true
			}
		}
	}
	return false
}

func TestGlyphs(t *testing.T) {
	for name, g := range map[string]Glyphs{"unicode": Unicode, "ascii": ASCII} {
		v := reflect.ValueOf(g)
		seen := map[string]bool{}
		for i := range v.NumField() {
			f := v.Field(i)
			var s string
			switch f.Kind() {
			case reflect.String:
				s = f.String()
			case reflect.Int32:
				s = string(rune(f.Int()))
			}
			if strings.TrimSpace(s) == "" && v.Type().Field(i).Name != "Sep" {
				t.Errorf("%s: %s is empty", name, v.Type().Field(i).Name)
			}
			if name == "ascii" {
				for _, r := range s {
					if r >= utf8.RuneSelf {
						t.Errorf("ascii: %s is %q", v.Type().Field(i).Name, s)
					}
				}
			}
			seen[s] = true
		}
		// Statuses are told apart by their glyphs.
		if g.OK == g.Invalid || g.OK == g.Warning || g.Invalid == g.Partial {
			t.Errorf("%s: status glyphs repeat", name)
		}
	}
}
