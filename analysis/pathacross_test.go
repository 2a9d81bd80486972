package analysis

import (
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/synscope/synscope/capture/fixture"
)

// requestLost leaves out connection 3's last request and its answer
// (lines 25 and 26), as a point behind where the request was dropped
// sees it.
func requestLost(k int, lines []string) []string {
	if k == 3 {
		return lines[:25]
	}
	return lines
}

// A point added downstream took a finding between two others away. The
// middle of three points captured the client's direction only, and the
// router between p0 and p1 takes a hop off the server's TTL (as a real
// one does); connection 3's last request was dropped between p0 and p1.
// Comparing the server's side across p1 (compareSideAcross) sorted p0's
// findings with the new ones, the TTL's on p0's first frame among them,
// and then kept only the first as many as p0 had before: the drop fell
// out, and the TTL finding stayed in its place. On a review's real path
// (client, SNAT router, server) 6 of 18 drops between inside and outside
// went so, once the server's capture was added.
func TestPathOneWayMiddleKeepsNeighbourDrops(t *testing.T) {
	n := oneWayPointMin
	near := strings.Replace(manyConnsEdited("2026-01-01T00:00:00Z", repeat(n, ""), lastAnswerLost), "ttl=60", "ttl=59", 1)
	mid := manyConnsEdited("2026-01-01T00:00:00.001Z", repeat(n, "C>S"), requestLost)
	far := manyConnsEdited("2026-01-01T00:00:00.002Z", repeat(n, ""), requestLost)
	want := map[string]int{"path.dropped": 1}
	for _, descs := range [][]string{{near, mid}, {near, mid, far}} {
		pa := correlate(t, n, descs...)
		if got := pathCodes(pa); !maps.Equal(got, want) {
			t.Errorf("%d points: findings %v, want %v", len(descs), got, want)
			continue
		}
		fi := pathFindings(pa, pa.Conns[3].Flows[0], PathDropped)
		if len(fi) != 1 || fi[0].Frame != 107 || fi[0].RelatedPoint != 1 ||
			!strings.Contains(fi[0].Message, "data segment (48 bytes) (frame 107 at p0) never reached p1: dropped between them") {
			t.Errorf("%d points: dropped %+v", len(descs), fi)
		}
		// Every connection lost the same hop: said on all of them or on
		// none, not on the one whose drop it took the place of.
		said := 0
		for _, c := range pa.Conns {
			if len(pathFindings(pa, c.Flows[0], PathTTL)) > 0 {
				said++
			}
		}
		if said != 0 && said != n {
			t.Errorf("%d points: the server's TTL said at p0 on %d connections of %d", len(descs), said, n)
		}
	}
}

// lateFrom is desc (manyConns's) as a capture started just before its
// k-th connection: the connections before it are not in it.
func lateFrom(t *testing.T, desc string, k int) string {
	t.Helper()
	const first = "client 10.0.0.5:40010\n"
	head, rest, ok := strings.Cut(desc, first)
	_, ts, _ := strings.Cut(head, "\ntime ")
	at, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(ts))
	if !ok || err != nil {
		t.Fatalf("not manyConns's description: %v", err)
	}
	var out []string
	conn := -1
	for _, l := range strings.Split(strings.TrimSuffix(first+rest, "\n"), "\n") {
		if strings.HasPrefix(l, "client ") {
			if conn++; conn >= k {
				out = append(out, l)
			}
			continue
		}
		f := strings.Fields(l)
		d, err := time.ParseDuration(strings.TrimPrefix(f[0], "+") + "s")
		if err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		at = at.Add(d)
		if conn < k {
			continue
		}
		if len(out) == 1 {
			f[0] = at.Format(time.RFC3339Nano)
			l = strings.Join(f, " ")
		}
		out = append(out, l)
	}
	return head + strings.Join(out, "\n") + "\n"
}

// Drops before a late middle point began, next to a one-way point: of
// client, inside (started at connection 4), outside (the client's
// direction only) and server, connection 3's last answer was lost
// between server and client. For the server's side both points between
// them had to be skipped, and nothing compared it (a review's real
// capture: 5 of 14 SYN-ACKs the router dropped said nowhere, the
// client's drops at the same time said, skipping the inside point). It
// is compared between server and client, as without the inside point.
func TestPathLateThenOneWayDropAcross(t *testing.T) {
	n := oneWayPointMin
	client := manyConnsEdited("2026-01-01T00:00:00Z", repeat(n, ""), lastAnswerLost)
	inside := lateFrom(t, manyConns("2026-01-01T00:00:00.001Z", repeat(n, "")), 4)
	outside := manyConns("2026-01-01T00:00:00.002Z", repeat(n, "C>S"))
	server := manyConns("2026-01-01T00:00:00.003Z", repeat(n, ""))
	for _, descs := range [][]string{{client, inside, outside, server}, {client, outside, server}} {
		var pts []Point
		for i, d := range descs {
			pts = append(pts, pointOf(t, "p"+string(rune('0'+i)), fixture.Build(d)))
		}
		pa := Correlate(pts)
		last := len(descs) - 1
		if len(pa.Conns) != n || !slices.Equal(pa.OneWay, []OneWayPoint{{Point: last - 1, Missing: FromServer, Conns: n}}) {
			t.Fatalf("%d points: %d connections, OneWay %+v: the case tests nothing", len(descs), len(pa.Conns), pa.OneWay)
		}
		for k, c := range pa.Conns {
			if want := len(descs) == 3 || k >= 4; c.Flows[1] != nil != want {
				t.Fatalf("%d points: connection %d seen at %v", len(descs), c.ID, c.Present())
			}
		}
		if got, want := pathCodes(pa), map[string]int{"path.dropped": 1}; !maps.Equal(got, want) {
			t.Fatalf("%d points: findings %v, want %v", len(descs), got, want)
		}
		fi := pathFindings(pa, pa.Conns[3].Flows[last], PathDropped)
		if len(fi) != 1 || fi[0].RelatedPoint != 0 ||
			!strings.Contains(fi[0].Message, "data segment (10 bytes) (frame 108 at p"+string(rune('0'+last))+") never reached p0: dropped between them") {
			t.Errorf("%d points: dropped %+v", len(descs), fi)
		}
	}
}

// TestLadderLateThenOneWay: the server's segments of a connection the
// inside point missed, across the one-way outside point, are one row each
// at server and client, as compare matches them (widerSpans); the one lost
// at the server only.
func TestLadderLateThenOneWay(t *testing.T) {
	n := oneWayPointMin
	var pts []Point
	for i, d := range []string{
		manyConnsEdited("2026-01-01T00:00:00Z", repeat(n, ""), lastAnswerLost),
		lateFrom(t, manyConns("2026-01-01T00:00:00.001Z", repeat(n, "")), 4),
		manyConns("2026-01-01T00:00:00.002Z", repeat(n, "C>S")),
		manyConns("2026-01-01T00:00:00.003Z", repeat(n, "")),
	} {
		pts = append(pts, pointOf(t, "p"+string(rune('0'+i)), fixture.Build(d)))
	}
	pa := Correlate(pts)
	for _, k := range []int{2, 3} {
		c := pa.Conns[k]
		var lost []uint64
		server := 0
		for i, r := range pa.Ladder(c) {
			if r.Side != FromServer {
				continue
			}
			server++
			switch {
			case r.Refs[3] < 0:
				t.Errorf("connection %d, row %d: a server segment not at the server: %v", k, i, r.Refs)
			case r.Refs[0] < 0:
				lost = append(lost, c.Flows[3].Refs[r.Refs[3]].Frame)
			}
		}
		if want := countSide(c.Flows[3], FromServer); server != want {
			t.Errorf("connection %d: %d server rows for the %d server segments at p3", k, server, want)
		}
		var want []uint64
		if k == 3 {
			want = []uint64{108}
		}
		if !slices.Equal(lost, want) {
			t.Errorf("connection %d: server segments missing at p0: frames %v, want %v", k, lost, want)
		}
	}
}
