package analysis

import (
	"testing"
)

// TestLadderSeed lines the seed's connection up across its three points:
// the SYN-ACK at all three, the ACK of frame 3 at client and fw-inside
// only (the firewall dropped it), in the order the segments travelled.
func TestLadderSeed(t *testing.T) {
	var points []Point
	for _, p := range [][2]string{{"client", "client"}, {"fw-inside", "inside"}, {"fw-outside", "outside"}} {
		points = append(points, pointFile(t, p[0], "../testdata/seed-"+p[1]+".pcap"))
	}
	pa := Correlate(points)
	if len(pa.Conns) != 1 {
		t.Fatalf("%d connections", len(pa.Conns))
	}
	c := pa.Conns[0]
	rows := pa.Ladder(c)
	seen := 0
	for _, f := range c.Flows {
		seen += len(f.Refs)
	}
	cells := 0
	for i, r := range rows {
		for p, idx := range r.Refs {
			if idx < 0 {
				continue
			}
			cells++
			if got := c.Flows[p].Refs[idx].Side(); got != r.Side {
				t.Errorf("row %d, point %d: side %d, row says %d", i, p, got, r.Side)
			}
		}
	}
	if cells != seen {
		t.Errorf("%d cells for %d packets: every packet is in one row", cells, seen)
	}
	frame := func(r LadderRow, p int) uint64 {
		if r.Refs[p] < 0 {
			return 0
		}
		return c.Flows[p].Refs[r.Refs[p]].Frame
	}
	// SYN, SYN-ACK, then the client's ACK, which fw-outside never saw.
	if frame(rows[0], 0) != 1 || frame(rows[0], 1) != 1 || frame(rows[0], 2) != 1 {
		t.Errorf("row 1: frames %v", rows[0].Refs)
	}
	if rows[1].Side != FromServer || frame(rows[1], 0) != 2 || frame(rows[1], 2) == 0 {
		t.Errorf("row 2 is not the SYN-ACK at every point: %+v", rows[1])
	}
	if rows[2].Side != FromClient || frame(rows[2], 0) != 3 || frame(rows[2], 1) != 3 || rows[2].Refs[2] != -1 {
		t.Errorf("row 3 is not the ACK seen at client and fw-inside only: %+v", rows[2])
	}
}
