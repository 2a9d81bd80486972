package analysis

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/synscope/synscope/capture/fixture"
)

// manyConns is n of longConn's connections one after the other, 1 s
// apart, each from its own port with its own client ISN, as a capture
// point sees them: whole, or in one direction ("C>S", "S>C") when dir[k]
// says so for the k-th.
func manyConns(start string, dir []string) string { return manyConnsEdited(start, dir, nil) }

// manyConnsEdited is manyConns with the lines of each connection passed
// through edit (with its index), when not nil, before dir applies.
func manyConnsEdited(start string, dir []string, edit func(k int, lines []string) []string) string {
	var b strings.Builder
	b.WriteString(pathHead + "time " + start + "\n")
	for k, d := range dir {
		lines := serverShifted(shifted(longConn(), uint32(1000*k)), uint32(1000*k))
		if edit != nil {
			lines = edit(k, lines)
		}
		if d != "" {
			lines = strings.Split(strings.TrimSuffix(oneWay(lines, d), "\n"), "\n")
		}
		f := strings.Fields(lines[0])
		if k > 0 {
			f[0] = "+1"
		}
		lines[0] = strings.Join(f, " ")
		fmt.Fprintf(&b, "client 10.0.0.5:%d\n%s\n", 40010+k, strings.Join(lines, "\n"))
	}
	return b.String()
}

// serverShifted moves the server's numbers by d in lines (its seq, and
// the client's ACK of them), so each connection has its own ISN pair.
func serverShifted(lines []string, d uint32) []string { return numbersShifted(lines, d, "S>C") }

func repeat(n int, s string) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}

// correlate joins the descriptions as points p0, p1, ... and checks that
// each connection was joined at every point.
func correlate(t *testing.T, n int, descs ...string) *Path {
	t.Helper()
	var pts []Point
	for i, d := range descs {
		pts = append(pts, pointOf(t, fmt.Sprintf("p%d", i), fixture.Build(d)))
	}
	pa := Correlate(pts)
	if len(pa.Conns) != n {
		t.Fatalf("%d connections, want %d", len(pa.Conns), n)
	}
	for _, c := range pa.Conns {
		if slices.Contains(c.Present(), false) {
			t.Fatalf("connection %d seen at %v, want every point", c.ID, c.Present())
		}
	}
	return pa
}

// pathCodes counts the path findings of every connection by code, but
// path.clock_offset and path.ttl.
func pathCodes(pa *Path) map[string]int {
	out := map[string]int{}
	for _, fs := range pa.Findings {
		for _, fi := range fs {
			if fi.Code != PathClockOffset && fi.Code != PathTTL {
				out[fi.Code.String()]++
			}
		}
	}
	return out
}

// A point whose capture holds the client's direction only (a SPAN of one
// direction): each of 10,000 connections said path.one_way at the point
// before it, and turned from ok to warning. The fact is said once, for the
// path, and the connections keep their own status.
func TestPathOneWayPoint(t *testing.T) {
	const n = oneWayPointMin
	near := manyConns("2026-01-01T00:00:00Z", repeat(n, ""))
	far := manyConns("2026-01-01T00:00:00.001Z", repeat(n, "C>S"))
	pa := correlate(t, n, near, far)
	if want := []OneWayPoint{{Point: 1, Missing: FromServer, Conns: n}}; !slices.Equal(pa.OneWay, want) {
		t.Fatalf("OneWay %+v, want %+v", pa.OneWay, want)
	}
	if got := pathCodes(pa); len(got) > 0 {
		t.Errorf("findings %v, want none", got)
	}
	for _, c := range pa.Conns {
		if f := c.Flows[0]; pa.Status(f) != f.Status {
			t.Errorf("connection %d at near: status %v, with the path %v, want the same", c.ID, f.Status, pa.Status(f))
		}
	}
	want := fmt.Sprintf("p1 captured client→server packets only, in all %d connections whose server packets other points saw: its capture leaves the server's out (a one-way SPAN?), or they take another route", n)
	if got := pa.OneWayText(pa.OneWay[0], unicodeGlyphs); !strings.HasPrefix(got, want) {
		t.Errorf("text %q, want it to start %q", got, want)
	}
	// Every JSON record carries it, as it carries the points.
	c := pa.Conns[n-1]
	r := c.Flows[0].Record("p0")
	pa.Decorate(&r, c.Flows[0])
	if r.Status != c.Flows[0].Status.String() || len(r.Findings) != 0 {
		t.Errorf("record status %s, findings %+v", r.Status, r.Findings)
	}
	if o := r.Path.OneWay; len(o) != 1 || o[0].Capture != "p1" || o[0].Missing != "server" || o[0].Connections != n || !strings.HasPrefix(o[0].Message, want) {
		t.Errorf("record one_way %+v", o)
	}
}

// Below oneWayPointMin connections, or where one connection's server
// packets did reach the point, each one-way connection says so itself:
// that is a connection's route, not the point's capture.
func TestPathOneWayPointNotThePoint(t *testing.T) {
	few := oneWayPointMin - 1
	pa := correlate(t, few, manyConns("2026-01-01T00:00:00Z", repeat(few, "")),
		manyConns("2026-01-01T00:00:00.001Z", repeat(few, "C>S")))
	if len(pa.OneWay) != 0 {
		t.Errorf("%d connections: OneWay %+v, want none", few, pa.OneWay)
	}
	if got, want := pathCodes(pa), map[string]int{"path.one_way": few}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("%d connections: findings %v, want %v", few, got, want)
	}

	n := oneWayPointMin + 2
	dir := repeat(n, "C>S")
	dir[3] = ""
	pa = correlate(t, n, manyConns("2026-01-01T00:00:00Z", repeat(n, "")), manyConns("2026-01-01T00:00:00.001Z", dir))
	if len(pa.OneWay) != 0 {
		t.Errorf("one connection whole: OneWay %+v, want none", pa.OneWay)
	}
	if got, want := pathCodes(pa), map[string]int{"path.one_way": n - 1}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("one connection whole: findings %v, want %v", got, want)
	}
	if pa.Status(pa.Conns[0].Flows[0]) != StatusWarning {
		t.Errorf("a one-way connection's status %v, want warning", pa.Status(pa.Conns[0].Flows[0]))
	}
}

// The middle of three points captured the client's direction only: the
// server's packets at the last point, not at the middle one, were each
// "dropped" between them (2,000 errors in 2,000 connections), and those at
// the first point path.one_way. Said once, and nothing on the connections.
func TestPathOneWayMiddlePoint(t *testing.T) {
	n := oneWayPointMin
	pa := correlate(t, n, manyConns("2026-01-01T00:00:00Z", repeat(n, "")),
		manyConns("2026-01-01T00:00:00.001Z", repeat(n, "C>S")),
		manyConns("2026-01-01T00:00:00.002Z", repeat(n, "")))
	if want := []OneWayPoint{{Point: 1, Missing: FromServer, Conns: n}}; !slices.Equal(pa.OneWay, want) {
		t.Fatalf("OneWay %+v, want %+v", pa.OneWay, want)
	}
	if got := pathCodes(pa); len(got) > 0 {
		t.Errorf("findings %v, want none", got)
	}
}

// lastAnswerLost leaves out connection 3's last answer (line 26), as a
// point it never reached sees it.
func lastAnswerLost(k int, lines []string) []string {
	if k == 3 {
		return lines[:26]
	}
	return lines
}

// oneWayMiddleAnswerLost is oneWayPointMin connections at three points,
// the middle one capturing client→server only, connection 3's last answer
// lost between p2 and p0 (the client never acknowledged it at p0).
func oneWayMiddleAnswerLost(t *testing.T) *Path {
	t.Helper()
	n := oneWayPointMin
	return correlate(t, n, manyConnsEdited("2026-01-01T00:00:00Z", repeat(n, ""), lastAnswerLost),
		manyConns("2026-01-01T00:00:00.001Z", repeat(n, "C>S")),
		manyConns("2026-01-01T00:00:00.002Z", repeat(n, "")))
}

// With the middle point one-way, the server's direction was compared with
// neither neighbour: an answer dropped between the last point and the
// first was unsaid. That side is now compared across the middle point,
// and the drop named where it happened; the client's side stays with the
// neighbours, and nothing else is said.
func TestPathOneWayMiddleDropAcross(t *testing.T) {
	n := oneWayPointMin
	pa := oneWayMiddleAnswerLost(t)
	if want := []OneWayPoint{{Point: 1, Missing: FromServer, Conns: n}}; !slices.Equal(pa.OneWay, want) {
		t.Fatalf("OneWay %+v, want %+v", pa.OneWay, want)
	}
	if got, want := pathCodes(pa), map[string]int{"path.dropped": 1}; !maps.Equal(got, want) {
		t.Fatalf("findings %v, want %v", got, want)
	}
	c := pa.Conns[3]
	fi := pathFindings(pa, c.Flows[2], PathDropped)
	if len(fi) != 1 || fi[0].Point != 2 || fi[0].RelatedPoint != 0 ||
		!strings.Contains(fi[0].Message, "data segment (10 bytes) (frame 108 at p2) never reached p0: dropped between them") {
		t.Errorf("dropped %+v", fi)
	}
	// A client's request lost between p1 and p2 is still said by the
	// neighbours, once.
	requestLost := func(k int, lines []string) []string {
		if k == 3 {
			return lines[:25]
		}
		return lines
	}
	pa = correlate(t, n, manyConnsEdited("2026-01-01T00:00:00Z", repeat(n, ""), lastAnswerLost),
		manyConnsEdited("2026-01-01T00:00:00.001Z", repeat(n, "C>S"), lastAnswerLost),
		manyConnsEdited("2026-01-01T00:00:00.002Z", repeat(n, ""), requestLost))
	if got, want := pathCodes(pa), map[string]int{"path.dropped": 1}; !maps.Equal(got, want) {
		t.Fatalf("request lost: findings %v, want %v", got, want)
	}
	if fi := pathFindings(pa, pa.Conns[3].Flows[1], PathDropped); len(fi) != 1 || fi[0].RelatedPoint != 2 {
		t.Errorf("request lost: %+v", fi)
	}
}

// Points given server side first: every packet has more TTL at the point
// it reaches second, and each drop read as an injected packet. Said once
// for the path (Path.TTLRises), with what else raises TTL; not in order,
// nor where TTL does not change (an ASA does not take one off), nor for
// a connection or two routed round a device that raises it.
func TestPathTTLRises(t *testing.T) {
	n := 5
	near := manyConns("2026-01-01T00:00:00Z", repeat(n, ""))
	far := strings.NewReplacer("ttl=64", "ttl=62", "ttl=60", "ttl=62").Replace(manyConns("2026-01-01T00:00:00.001Z", repeat(n, "")))
	if !strings.Contains(far, "ttl=62") {
		t.Fatal("the fixture's TTLs are not where the test changes them")
	}
	pa := correlate(t, n, far, near)
	if want := []TTLRise{{Up: 0, Down: 1, Rose: n}}; !slices.Equal(pa.TTLRises, want) {
		t.Fatalf("TTLRises %+v, want %+v", pa.TTLRises, want)
	}
	if got := pa.TTLRiseText(pa.TTLRises[0], unicodeGlyphs); !strings.HasPrefix(got, "the packets gain TTL from p0 to p1 (5 connections, 0 the other way): the points look given server side first") ||
		!strings.Contains(got, "or a device between them raises TTL") {
		t.Errorf("text %q", got)
	}
	if pa := correlate(t, n, near, far); len(pa.TTLRises) > 0 {
		t.Errorf("in order: TTLRises %+v", pa.TTLRises)
	}
	if pa := correlate(t, n, near, strings.Replace(near, ":00Z", ":00.001Z", 1)); len(pa.TTLRises) > 0 {
		t.Errorf("TTL the same at both: TTLRises %+v", pa.TTLRises)
	}
	// Two connections of five routed through a device that raises TTL,
	// three the usual way: not the order of the points.
	mixed := manyConnsEdited("2026-01-01T00:00:00.001Z", repeat(n, ""), func(k int, lines []string) []string {
		ttl := map[string]string{"C>S": " ttl=66", "S>C": " ttl=58"} // one hop lost each way
		if k < 2 {
			ttl = map[string]string{"C>S": " ttl=62", "S>C": " ttl=62"}
		}
		out := make([]string, len(lines))
		for i, l := range lines {
			out[i] = l + ttl[strings.Fields(l)[1]]
		}
		return out
	})
	pa = correlate(t, n, mixed, near)
	if len(pa.TTLRises) > 0 || *pa.ttl[0] != [2]int{2, 3} {
		t.Errorf("two of five rise: TTLRises %+v, votes %v, want none, [2 3]", pa.TTLRises, *pa.ttl[0])
	}
}

// One to three connections whose middle point captured the client's
// direction only (too few for the point's capture to be told:
// oneWayPointMin). Each server packet at the last point was "dropped" or
// "uncaptured" on its way to the middle one, and the answers at the first
// point one path.one_way (a few, "injected" each). The client's ACKs at
// the middle point acknowledge them: each connection says path.one_way
// once, nothing is dropped or injected, the server's side is compared
// between the first and last points, and a real drop there is still said.
func TestPathOneWayFewConnsMiddle(t *testing.T) {
	for n := 1; n <= 3; n++ {
		pa := correlate(t, n, manyConns("2026-01-01T00:00:00Z", repeat(n, "")),
			manyConns("2026-01-01T00:00:00.001Z", repeat(n, "C>S")),
			manyConns("2026-01-01T00:00:00.002Z", repeat(n, "")))
		if len(pa.OneWay) != 0 {
			t.Fatalf("%d connections: OneWay %+v, want none", n, pa.OneWay)
		}
		if got, want := pathCodes(pa), map[string]int{"path.one_way": n}; !maps.Equal(got, want) {
			t.Errorf("%d connections: findings %v, want %v", n, got, want)
		}
		for _, c := range pa.Conns {
			if !pa.LeftOut(c, 1, FromServer) || pa.LeftOut(c, 1, FromClient) || pa.LeftOut(c, 0, FromServer) || pa.LeftOut(c, 2, FromServer) {
				t.Errorf("%d connections: connection %d: the middle point's server side not the only one left out", n, c.ID)
			}
			// On the first point's flow, the answers' next point, with
			// the client's ACK at the middle one that acknowledged them:
			// the SYN-ACK and 12 answers, the last connection's last
			// answer after the middle point's capture ended.
			count := 13
			if c == pa.Conns[n-1] {
				count = 12
			}
			fi := pathFindings(pa, c.Flows[0], PathOneWay)
			if len(fi) != 1 || fi[0].RelatedPoint != 1 || fi[0].RelatedFrame == 0 || fi[0].Count != count {
				t.Errorf("%d connections: connection %d: one_way %+v", n, c.ID, fi)
			}
			for _, r := range pa.Ladder(c) {
				if r.Side == FromServer && (r.Refs[0] < 0 || r.Refs[1] >= 0 || r.Refs[2] < 0) {
					t.Errorf("%d connections: connection %d: ladder row %v, want the server's segment from p2 to p0", n, c.ID, r.Refs)
				}
			}
		}
	}
	// Connection 1's last answer lost between p2 and p0: said there.
	lost := func(k int, lines []string) []string {
		if k == 1 {
			return lines[:26]
		}
		return lines
	}
	pa := correlate(t, 3, manyConnsEdited("2026-01-01T00:00:00Z", repeat(3, ""), lost),
		manyConns("2026-01-01T00:00:00.001Z", repeat(3, "C>S")),
		manyConns("2026-01-01T00:00:00.002Z", repeat(3, "")))
	if got, want := pathCodes(pa), map[string]int{"path.one_way": 3, "path.dropped": 1}; !maps.Equal(got, want) {
		t.Fatalf("an answer lost: findings %v, want %v", got, want)
	}
	if fi := pathFindings(pa, pa.Conns[1].Flows[2], PathDropped); len(fi) != 1 || fi[0].RelatedPoint != 0 || !strings.Contains(fi[0].Message, "data segment (10 bytes)") {
		t.Errorf("an answer lost: dropped %+v", fi)
	}
}

// A firewall that drops a connection's SYN-ACKs, its inside capture
// holding the client's direction of each connection only (two others
// acknowledged there, one-way): that connection too has no server packet
// at the inside, but its client sent SYNs only, acknowledging nothing.
// Nothing shows the SYN-ACKs passed: they are still dropped between the
// outside and the inside.
func TestPathOneWayConnRealDrop(t *testing.T) {
	refused := []string{
		"+0    C>S S  seq=90000 mss=1460",
		"+0.02 S>C SA seq=95000 ack=90001 mss=1460",
		"+1    C>S S  seq=90000 mss=1460",
		"+0.02 S>C SA seq=95000 ack=90001 mss=1460",
		"+2    C>S S  seq=90000 mss=1460",
	}
	// Connection 2 is refused: whole at the outside, the client's SYNs
	// at the client.
	third := func(dir string) func(k int, lines []string) []string {
		return func(k int, lines []string) []string {
			if k != 2 {
				return lines
			}
			if dir == "" {
				return slices.Clone(refused)
			}
			return strings.Split(strings.TrimSuffix(oneWay(refused, dir), "\n"), "\n")
		}
	}
	pa := correlate(t, 3, manyConnsEdited("2026-01-01T00:00:00Z", repeat(3, ""), third("C>S")),
		manyConnsEdited("2026-01-01T00:00:00.001Z", repeat(3, "C>S"), third("")),
		manyConnsEdited("2026-01-01T00:00:00.002Z", repeat(3, ""), third("")))
	if got, want := pathCodes(pa), map[string]int{"path.one_way": 2, "path.dropped": 2}; !maps.Equal(got, want) {
		t.Fatalf("findings %v, want %v", got, want)
	}
	c := pa.Conns[2]
	if pa.LeftOut(c, 1, FromServer) {
		t.Errorf("the refused connection's server side taken as left out at the inside")
	}
	for _, fi := range pathFindings(pa, c.Flows[2], PathDropped) {
		if r, _ := refOf(c.Flows[2], fi.Frame); r.Flags&(FlagSYN|FlagACK) != FlagSYN|FlagACK || fi.RelatedPoint != 1 {
			t.Errorf("dropped %+v, want a SYN-ACK dropped between p2 and p1", fi)
		}
	}
}
