package ui

import (
	"slices"
	"strings"
	"testing"
)

// TestInvalidFilterKeepsApplied: words that do not parse are never in
// force, whatever the mistake. Some (cap:4, status:bogus, port:99999)
// left the list empty under "no flow matches the filter cap:4", as if
// the filter had been applied and matched nothing (the words typed so far,
// "cap", had); others (net:10.0.0.0/33, code:bogus, -) kept the list. Now
// every one keeps the filter applied before, typed or entered, and enter
// says what is wrong with the prompt still open; esc goes back to the
// applied filter.
func TestInvalidFilterKeepsApplied(t *testing.T) {
	data := manyFlows(12)
	srcs := []Source{memSource(t, "a.pcap", data), memSource(t, "b.pcap", data), memSource(t, "c.pcap", data)}
	base := newLoaded(t, testConfig(srcs), 80, 24)
	for _, applied := range []string{"", "port:443"} {
		m := base
		if applied != "" {
			m = typeFilter(t, m, applied)
		}
		want := slices.Clone(m.list.view.idx)
		if len(want) == 0 || applied != "" && len(want) == len(m.list.rows) {
			t.Fatalf("filter %q shows %d of %d", applied, len(want), len(m.list.rows))
		}
		for _, bad := range []string{"cap:4", "status:bogus", "hs:bogus", "port:99999", "net:10.0.0.0/33",
			"code:bogus", "-", "foo:bar", "port 443 or port 80", "not"} {
			typed := press(t, m, "/")
			for range len([]rune(typed.list.input.Value())) {
				typed = press(t, typed, "backspace")
			}
			for _, r := range bad {
				k := string(r)
				if r == ' ' {
					k = "space"
				}
				typed = press(t, typed, k)
				if !slices.Equal(typed.list.view.idx, want) && !parses(typed.list.input.Value()) {
					t.Errorf("%q after %q, typing %q: %d rows shown, want the %d of %q", applied, bad,
						typed.list.input.Value(), len(typed.list.view.idx), len(want), applied)
				}
			}
			entered := press(t, typed, "enter")
			where := "applied " + applied + ", " + bad
			switch {
			case !entered.list.typing || entered.list.filterErr == "":
				t.Errorf("%s: enter closed the prompt, error %q", where, entered.list.filterErr)
			case !slices.Equal(entered.list.view.idx, want):
				t.Errorf("%s: %d rows shown, want the %d of the applied filter", where, len(entered.list.view.idx), len(want))
			case entered.list.filter != applied:
				t.Errorf("%s: filter %q", where, entered.list.filter)
			}
			v := plain(entered)
			if strings.Contains(v, "no flow matches") {
				t.Errorf("%s: the list says no flow matches:\n%s", where, v)
			}
			// The words on the status line, the error after them or, too
			// long for that, wrapped on the lines above.
			lines := strings.Split(v, "\n")
			bottom := strings.Join(strings.Fields(strings.Join(lines[len(lines)-5:len(lines)-1], " ")), " ")
			if l := screenLine(entered, -2); !strings.HasPrefix(l, "/"+bad) || !strings.Contains(bottom, entered.list.filterErr) {
				t.Errorf("%s: status lines %q, want the words and %q", where, bottom, entered.list.filterErr)
			}
			back := press(t, entered, "esc")
			if back.list.typing || back.list.filter != applied || !slices.Equal(back.list.view.idx, want) {
				t.Errorf("%s, esc: typing %v, filter %q, %d shown", where, back.list.typing, back.list.filter, len(back.list.view.idx))
			}
		}
	}

	// A filter that parses and matches nothing says so, naming it.
	m := typeFilter(t, base, "port:1")
	mustContain(t, m, "no flow matches the filter port:1 (esc clears it)")
}

// parses reports whether the filter words parse with three captures.
func parses(s string) bool {
	_, err := parseQuery(s, 3)
	return err == nil
}
