package analysis

import (
	"slices"
	"strings"
	"testing"
)

// Three points with a router between each, the last two given the wrong
// way round (client, outside, inside, as an engineer may list a
// firewall's legs): TTL falls from the first to the second, as the path
// runs client side first, and rises from the second to the third. It was
// said as "the points look given server side first"; it names the two.
// The whole path given server side first is still said so.
func TestPathTTLRisesSwappedPair(t *testing.T) {
	n := 5
	at := func(start, client, server string) string {
		return strings.NewReplacer("ttl=64", "ttl="+client, "ttl=60", "ttl="+server).Replace(manyConns(start, repeat(n, "")))
	}
	a := at("2026-01-01T00:00:00Z", "64", "58")
	b := at("2026-01-01T00:00:00.001Z", "63", "59")
	c := at("2026-01-01T00:00:00.002Z", "62", "60")
	pa := correlate(t, n, a, c, b)
	if want := []TTLRise{{Up: 1, Down: 2, Rose: n}}; !slices.Equal(pa.TTLRises, want) {
		t.Fatalf("TTLRises %+v, want %+v", pa.TTLRises, want)
	}
	got := pa.TTLRiseText(pa.TTLRises[0], unicodeGlyphs)
	if want := "the packets gain TTL from p1 to p2 (5 connections, 0 the other way): p1 and p2 may be given in the wrong order (p2 before p1, as the TTL says), or a device between them raises TTL"; !strings.HasPrefix(got, want) {
		t.Errorf("text %q, want it to start %q", got, want)
	}
	if got := pa.WarningsShort(); !slices.Contains(got, "p2 before p1? TTL rises") {
		t.Errorf("short warnings %q", got)
	}
	pa = correlate(t, n, c, b, a)
	if len(pa.TTLRises) != 2 || !strings.Contains(pa.TTLRiseText(pa.TTLRises[0], unicodeGlyphs), "the points look given server side first") ||
		!slices.Contains(pa.WarningsShort(), "server side first? TTL rises") {
		t.Errorf("server side first: TTLRises %+v, %q", pa.TTLRises, pa.WarningsShort())
	}
}
