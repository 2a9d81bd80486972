package filter

import (
	"strconv"
	"strings"
	"testing"
)

// TestMatchSet: over several packets (one connection seen before and after
// a NAT), each primitive holds when it holds for one of them, and and, or,
// not combine those; a packet-level filter would answer otherwise for
// every negation below.
func TestMatchSet(t *testing.T) {
	// The client 10.110.233.50:50183 before the NAT, 10.110.235.202:55073
	// after it; the server 10.110.240.10:443.
	before := Fields{IPVersion: 4, Src: ip("10.110.233.50"), Dst: ip("10.110.240.10"), Proto: 6, HasPorts: true, SrcPort: 50183, DstPort: 443, Length: 74}
	after := Fields{IPVersion: 4, Src: ip("10.110.235.202"), Dst: ip("10.110.240.10"), Proto: 6, HasPorts: true, SrcPort: 55073, DstPort: 443, Length: 74}
	tests := []struct {
		expr string
		want bool
	}{
		{"port 55073", true},
		{"not port 55073", false}, // the packet before the NAT matches it
		{"host 10.110.233.50 and port 55073", true},
		{"src host 10.110.233.50 and src port 55073", true},
		{"not host 10.110.235.202", false},
		{"not host 10.9.9.9", true},
		{"host 10.110.233.50 and not port 55073", false},
		{"not (port 50183 and port 55073)", false},
		{"not port 50183 or not port 55073", false},
		{"tcp and not udp", true},
		{"port 443 and not (host 10.9.9.9 or port 80)", true},
		{"", true},
	}
	for _, tt := range tests {
		e, err := Parse(tt.expr)
		if err != nil {
			t.Fatal(err)
		}
		set := make([]uint64, max(1, (e.Prims()+63)/64))
		e.MatchPrims(&before, set)
		e.MatchPrims(&after, set)
		if got := e.MatchSet(set); got != tt.want {
			t.Errorf("%q: %v, want %v (primitives %b)", tt.expr, got, tt.want, set)
		}
	}
}

// TestMatchSetManyPrims: primitives past the 64th go in the next words of
// the set, numbered left to right.
func TestMatchSetManyPrims(t *testing.T) {
	var words []string
	for p := 1; p <= 130; p++ {
		words = append(words, "port "+strconv.Itoa(p))
	}
	e, err := Parse("not (" + strings.Join(words, " or ") + ") or port 129")
	if err != nil {
		t.Fatal(err)
	}
	if e.Prims() != 131 {
		t.Fatalf("%d primitives, want 131", e.Prims())
	}
	set := make([]uint64, 3)
	f := Fields{IPVersion: 4, Src: ip("10.0.0.1"), Dst: ip("10.0.0.2"), Proto: 6, HasPorts: true, SrcPort: 40000, DstPort: 129}
	e.MatchPrims(&f, set)
	// Primitive 128 (port 129 in the list) and 130 (the last).
	if want := []uint64{0, 0, 1<<0 | 1<<2}; set[0] != want[0] || set[1] != want[1] || set[2] != want[2] {
		t.Fatalf("primitives %b, want %b", set, want)
	}
	if !e.MatchSet(set) || !e.Match(&f) {
		t.Errorf("port 129: MatchSet %v, Match %v; want true", e.MatchSet(set), e.Match(&f))
	}
	set[2] &^= 1 << 2 // as if the last "port 129" had not held
	if e.MatchSet(set) {
		t.Error("with only the list's port 129: true, want false (not (... or port 129))")
	}
}
