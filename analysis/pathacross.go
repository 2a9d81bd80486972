package analysis

// sideSpan is a side of a connection compared between points i and j
// (i < j), with no point between them that saw the connection and
// captured that side.
type sideSpan struct {
	i, j int
	side Side
}

// widerSpans returns the sides of connection c whose nearest points that
// saw them are three or more apart: each point between them either
// missed the connection (its capture started late) or leaves the side
// out (Path.OneWay, or for this connection: leftOut). The neighbours'
// comparisons and those across one point (compare, compareSideAcross)
// compared them with nothing: behind
// a one-way outside capture and an inside one started late, the server's
// SYN-ACKs the router dropped before the inside capture began were not
// said at all, though the client's capture ran (5 of 14 in a review's
// real capture), while the client's side, skipping the late point only,
// was compared.
func (pa *Path) widerSpans(c *Connection) []sideSpan {
	var out []sideSpan
	for _, s := range []Side{FromClient, FromServer} {
		prev := -1
		for k, f := range c.Flows {
			if f == nil || pa.leftOut(k, f, s) {
				continue
			}
			if prev >= 0 && k-prev >= 3 && pa.comparableSpan(c, prev, k) {
				out = append(out, sideSpan{i: prev, j: k, side: s})
			}
			prev = k
		}
	}
	return out
}

// comparableSpan is comparableAcross over the points i to j of c: the
// flows at i and j compare without those between them, none of whose
// joins swapped the sides.
func (pa *Path) comparableSpan(c *Connection, i, j int) bool {
	var seen []*Flow
	for k := i; k <= j; k++ {
		if f := c.Flows[k]; f != nil {
			if n := len(seen); n > 0 && pa.swapped[seen[n-1]] == f {
				return false
			}
			seen = append(seen, f)
		}
	}
	ha, hb := &c.Flows[i].Handshake, &c.Flows[j].Handshake
	if ha.HaveSyn && ha.HaveSynAck && hb.HaveSyn && hb.HaveSynAck {
		return true
	}
	for k := 1; k < len(seen); k++ {
		x, y := seen[k-1], seen[k]
		if pa.shifts.of(x, y) != [2]uint32{} || isnsDiffer(x, y, FromClient) || isnsDiffer(x, y, FromServer) {
			return false
		}
	}
	return true
}
