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

// TestLadderAcrossOneWay: the middle of three points captured the
// client's direction only, and connection 3's last answer was lost
// between p2 and p0. The server's segments are matched across p1, as the
// analysis compares them: one row each, at p0 and p2, the lost one at p2
// only. Matched only between neighbours, each was two rows ("not seen" at
// p0 in one, at p2 in the other), and the one drop read as every
// segment of that side missing at both ends.
func TestLadderAcrossOneWay(t *testing.T) {
	pa := oneWayMiddleAnswerLost(t)
	for _, k := range []int{3, 4} {
		c := pa.Conns[k]
		rows := pa.Ladder(c)
		cells, seen := 0, 0
		for _, f := range c.Flows {
			seen += len(f.Refs)
		}
		var lost []uint64 // frames at p2 of server segments not at p0
		server := 0
		for i, r := range rows {
			for _, idx := range r.Refs {
				if idx >= 0 {
					cells++
				}
			}
			if r.Side != FromServer {
				continue
			}
			server++
			if r.Refs[1] >= 0 {
				t.Errorf("connection %d, row %d: a server segment at the client-only point p1", k, i)
			}
			switch {
			case r.Refs[2] < 0:
				t.Errorf("connection %d, row %d: a server segment seen at p0 only: %v", k, i, r.Refs)
			case r.Refs[0] < 0:
				lost = append(lost, c.Flows[2].Refs[r.Refs[2]].Frame)
			}
		}
		if cells != seen {
			t.Errorf("connection %d: %d cells for %d packets: every packet is in one row", k, cells, seen)
		}
		if n := countSide(c.Flows[2], FromServer); server != n {
			t.Errorf("connection %d: %d server rows for the %d server segments at p2", k, server, n)
		}
		want := 0
		if k == 3 {
			want = 1
		}
		if len(lost) != want || want == 1 && lost[0] != 108 {
			t.Errorf("connection %d: server segments missing at p0: frames %v, want %d (frame 108)", k, lost, want)
		}
	}
}

func countSide(f *Flow, s Side) int {
	n := 0
	for _, r := range f.Refs {
		if r.Side() == s && r.Bits&RefFragment == 0 {
			n++
		}
	}
	return n
}
