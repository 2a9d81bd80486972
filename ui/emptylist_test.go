package ui

import (
	"encoding/binary"
	"strings"
	"testing"

	"github.com/synscope/synscope/analysis"
	"github.com/synscope/synscope/analysis/filter"
)

// TestEmptyListSays: once every capture has been read, an empty list says
// why (the command line's filter, or no TCP in the captures) instead of
// "no flows yet", which reads as if the reading had not finished.
func TestEmptyListSays(t *testing.T) {
	e, err := filter.Parse("port 1")
	if err != nil {
		t.Fatal(err)
	}
	one := testConfig(seed(t, "seed-client.pcap"))
	one.Match, one.Filter = analysis.Matcher(e), e
	m := newLoaded(t, one, 80, 24)
	mustContain(t, m, "0 flows", "no flow matches the filter port 1 given on the command line")
	mustLack(t, m, "no flows yet")

	several := testConfig(seedPath(t))
	several.Match, several.Filter = analysis.Matcher(e), e
	m = newLoaded(t, several, 80, 24)
	mustContain(t, m, "0 connections", "no connection matches the filter port 1 given on the command line")

	m = newLoaded(t, testConfig([]Source{memSource(t, "empty.pcap", headerOnlyPcap())}), 80, 24)
	mustContain(t, m, "0 flows", "no TCP flow in this capture")
	mustLack(t, m, "no flows yet")
}

// headerOnlyPcap is a pcap file of no record: an Ethernet capture in
// which nothing was seen.
func headerOnlyPcap() []byte {
	b := make([]byte, 24)
	binary.LittleEndian.PutUint32(b[0:], 0xa1b2c3d4)
	binary.LittleEndian.PutUint16(b[4:], 2)
	binary.LittleEndian.PutUint16(b[6:], 4)
	binary.LittleEndian.PutUint32(b[16:], 65535)
	binary.LittleEndian.PutUint32(b[20:], 1)
	return b
}

func mustLack(t testing.TB, m Model, unwanted ...string) {
	t.Helper()
	v := plain(m)
	for _, w := range unwanted {
		if strings.Contains(v, w) {
			t.Fatalf("view has %q:\n%s", w, v)
		}
	}
}
