package analysis

// This file joins the captures of one path: the same connections seen at
// several capture points (client side first), so that synscope can say
// where a packet changed or vanished. Flows are joined by their ISN pair,
// whatever NAT did to addresses and ports, or, when a middlebox rewrites
// ISNs, by the shape of their first segments. Segments are joined by their
// sequence numbers relative to each side's ISN at that point, with
// retransmissions matched by order.
//
// Limitations: points are taken as a chain (each compared with its
// neighbours); a connection must keep its ISN pair, or its segment shape,
// across each hop; a drop is only called where the next point's capture
// covers the time the packet should have reached it (a point whose
// capture ended well before its neighbour's, nothing coming back through
// it, is said: pathended.go).

import (
	"cmp"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/synscope/synscope/analysis/filter"
	"github.com/synscope/synscope/capture"
)

// PathCode identifies a finding about a connection across capture points.
type PathCode uint8

// The path finding codes.
const (
	PathPayloadAdded PathCode = iota
	PathPayloadRemoved
	PathDropped
	PathInjected
	PathNAT
	PathISNRewritten
	PathMSSChanged
	PathOptionsChanged
	PathWindowChanged
	PathTOSChanged
	PathTTL
	PathClockOffset
	PathUnjoined
	PathResegmented
	PathDuplicated
	PathOneWay
	PathScaling
	PathUncaptured
	PathBypassed
	PathSwapped
	PathFragmented
	PathReordered
	PathPayloadChanged
	PathCaptureEnded
	PathSynProxy
	PathAnswered
	PathTooBig
	numPathCodes
)

var pathCodeInfo = [numPathCodes]struct {
	name string
	sev  Severity
}{
	PathPayloadAdded:   {"path.payload_added", Error},
	PathPayloadRemoved: {"path.payload_removed", Error},
	PathDropped:        {"path.dropped", Error},
	PathInjected:       {"path.injected", Warning},
	PathNAT:            {"path.nat", Info},
	PathISNRewritten:   {"path.isn_rewritten", Info},
	PathMSSChanged:     {"path.mss_changed", Info},
	PathOptionsChanged: {"path.options_changed", Warning},
	PathWindowChanged:  {"path.window_changed", Info},
	PathTOSChanged:     {"path.tos_changed", Info},
	PathTTL:            {"path.ttl", Info},
	PathClockOffset:    {"path.clock_offset", Info},
	PathUnjoined:       {"path.unjoined", Info},
	PathResegmented:    {"path.resegmented", Info},
	PathDuplicated:     {"path.duplicated", Warning},
	PathOneWay:         {"path.one_way", Warning},
	PathScaling:        {"path.wscale_mismatch", Error},
	PathUncaptured:     {"path.uncaptured", Info},
	PathBypassed:       {"path.bypassed", Warning},
	PathSwapped:        {"path.direction_guessed", Info},
	PathFragmented:     {"path.fragmented", Warning},
	PathReordered:      {"path.reordered", Info},
	PathPayloadChanged: {"path.payload_changed", Error},
	PathCaptureEnded:   {"path.capture_ended", Warning},
	PathSynProxy:       {"path.syn_proxy", Info},
	PathAnswered:       {"path.answered_between", Warning},
	PathTooBig:         {"path.too_big", Info},
}

func (c PathCode) String() string {
	if c >= numPathCodes {
		return "unknown"
	}
	return pathCodeInfo[c].name
}

// Severity returns the code's severity.
func (c PathCode) Severity() Severity {
	if c >= numPathCodes {
		return Info
	}
	return pathCodeInfo[c].sev
}

// PathFinding is a finding about a flow as seen from another capture point.
// It sits on the flow (Point, Frame) where the change is seen.
type PathFinding struct {
	Code         PathCode
	Point        int
	Frame        uint64
	RelatedPoint int // -1 when none
	RelatedFrame uint64
	Bytes        int     // bytes added or removed
	Seconds      float64 // clock offset
	Hops         int     // TTL difference
	Data         []byte  // the bytes added or removed, or changed to, when they could be read
	// Was is what the changed bytes of a path.payload_changed were at
	// RelatedPoint (Data what they became), At where in the payload they
	// start; Bytes counts the bytes that differ, Count the span from the
	// first to the last of them, of which Was and Data keep up to
	// maxChangedBytes.
	Was []byte
	At  int
	// Count is how many packets or segments the finding stands for
	// (path.resegmented, path.one_way); Pieces the payload lengths a
	// resegmented segment was cut into.
	Count  int
	Pieces []uint32
	// OtherFrame is a second frame at Point the finding names
	// (path.reordered: the segment that overtook this one).
	OtherFrame uint64
	// MTU and Resent say why a path.dropped segment was dropped
	// (pathmtu.go): MTU the next hop's MTU that an ICMP "too big" at
	// Point (OtherFrame) named, Resent the largest of the other segments
	// in which its bytes passed both points later (0: none did).
	MTU    int
	Resent uint32
	// Options is what a path.options_changed on a segment after the
	// handshake tells (pathopts.go); nil on the SYN's and SYN-ACK's.
	Options *OptionChange
	Message string
}

// Point is one capture point along the path.
type Point struct {
	Name   string
	Result *Result
	// Reread reads a packet back by its offset, for the bytes a path
	// finding names. It may be nil.
	Reread func(offset int64, frame uint64) (*capture.Record, error)
}

// Connection is one TCP connection as seen at the points of a path.
type Connection struct {
	ID    int
	Flows []*Flow // per point, nil where the connection was not seen
}

// Present reports at which points the connection was seen.
func (c *Connection) Present() []bool {
	p := make([]bool, len(c.Flows))
	for i, f := range c.Flows {
		p[i] = f != nil
	}
	return p
}

// Path is the result of joining the captures of one path.
type Path struct {
	Points []string
	Conns  []*Connection
	// Offset is each point's clock offset from the first point's, in
	// seconds (point 0 is 0); NaN where no matched packet tells it.
	Offset []float64
	// Findings lists the path findings per flow.
	Findings map[*Flow][]PathFinding
	// OneWay lists the points whose capture leaves one side's packets
	// out, said once for the path: no connection's packets of that side
	// are compared with that point.
	OneWay []OneWayPoint
	// connOneWay holds, per flow, the sides its point's capture left out
	// for its connection alone (oneWayConns): compared as OneWay's are,
	// and said on the connection (path.one_way).
	connOneWay map[*Flow]*[2]connOneWay
	// oneWayRec is OneWay as every JSON record carries it.
	oneWayRec []OneWayRecord
	// TTLRises lists the neighbouring points between which packets gain
	// TTL: given server side first, most likely (pathorder_ttl.go).
	TTLRises []TTLRise
	ttl      ttlVotes
	// Lone lists the points that share no connection with the others,
	// Same the neighbouring points that hold the same packets; said once
	// for the path (Warnings).
	Lone []LonePoint
	Same []SamePackets
	same sameVotes
	// Ended lists the points whose capture ended well before their
	// neighbour's, nothing coming back through them after (pathended.go):
	// said once for the path, and on the connections left waiting.
	Ended []CaptureEnd
	// rel is each point's clock offset from the first point of its
	// component (comp: the points whose connections joined, directly or
	// through others, named by the first of them); Offset is rel for the
	// first point's component and NaN elsewhere.
	rel    []float64
	comp   []int
	conn   map[*Flow]*Connection
	points []Point
	// span is each point's capture time span (first and last packet of
	// its flows), in its own clock.
	span [][2]int64
	// swapped holds the joins of flows whose sides differ (joinSwapped),
	// from the earlier point's flow: their packets are not compared.
	swapped map[*Flow]*Flow
	// shifts holds the rewritten numbers of flows joined by joinByShift.
	shifts shifts
	// twins are the flows at other points that an unjoined flow's
	// addresses, ports and time suggest it is (findTwins).
	twins map[*Flow]twin
	// wayCopy holds, per flow, the frames that are copies a device on the
	// way made (copyCheck), and where.
	wayCopy map[*Flow]map[uint64]wayCopy
	// sizes tallies, per pair of points and side, the data segments that
	// passed and those dropped, for the pattern of an MTU black hole
	// (pathmtu.go).
	sizes sizeTally
	// optCands are the sides of connections whose segments' options are
	// read back and compared once every connection is compared
	// (segmentOptions); segOpts tells whether they were; across is set
	// while compareSideAcross runs, whose pairs the neighbours compare.
	optCands []*optCand
	segOpts  bool
	across   bool
	// Answered lists the pairs of points between which several
	// connections were answered (pathanswered.go): said once for the
	// path. answered counts them by the first point of the pair.
	Answered []AnsweredPair
	// Changed lists the points whose file held other packets, when read
	// back, than where they had been read (overwritten in place since):
	// their segments' options were not compared (pathopts.go).
	Changed  []int
	answered map[int]int
}

// ConnectionOf returns the connection a flow belongs to.
func (pa *Path) ConnectionOf(f *Flow) *Connection { return pa.conn[f] }

// Conn returns the connection with the given id, or nil when there is none
// (or Select left it out).
func (pa *Path) Conn(id int) *Connection {
	i, ok := slices.BinarySearchFunc(pa.Conns, id, func(c *Connection, id int) int { return cmp.Compare(c.ID, id) })
	if !ok {
		return nil
	}
	return pa.Conns[i]
}

// Selector returns the function that tells whether the filter e, which
// the points were read with as Config.Select, holds for a connection seen
// at several points: each primitive (host, port, tcp...) holds when it
// holds for a packet of the connection's flow at any point, and and, or,
// not combine those (filter.Expr.MatchSet). Behind a NAT, "port P" keeps
// the connection seen with port P at one point, "not port P" leaves it
// out, and "host A and port P" keeps it when the client A is seen at one
// point and the port P it was given at another. For Select.
func (pa *Path) Selector(e *filter.Expr) func(*Connection) bool {
	set := make([]uint64, max(1, (e.Prims()+63)/64))
	return func(c *Connection) bool {
		clear(set)
		for i, f := range c.Flows {
			if f == nil {
				continue
			}
			for w, b := range pa.points[i].Result.PrimSet(f) {
				set[w] |= b
			}
		}
		return e.MatchSet(set)
	}
}

// Select returns the path restricted to the connections keep accepts,
// each whole: with its flow at every point, its path findings, and its id.
// The points' Results are restricted to those flows (Results). The clock
// offsets stay those estimated from every connection (the more matched
// packets, the better the estimate), and each point's path.clock_offset
// finding moves to the first connection kept that can carry it when the
// one it was on is left out. pa is not changed.
func (pa *Path) Select(keep func(*Connection) bool) *Path {
	out := *pa
	out.Conns = nil
	out.conn = map[*Flow]*Connection{}
	out.Findings = map[*Flow][]PathFinding{}
	for _, c := range pa.Conns {
		if !keep(c) {
			continue
		}
		out.Conns = append(out.Conns, c)
		for _, f := range c.Flows {
			if f != nil {
				out.conn[f] = c
				if fs, ok := pa.Findings[f]; ok {
					out.Findings[f] = fs
				}
			}
		}
	}
	for i := 1; i < len(pa.points); i++ {
		was, now := pa.clockConn(i), out.clockConn(i)
		if math.IsNaN(pa.Offset[i]) || was == now || now == nil {
			continue
		}
		f := now.Flows[i]
		fi := pa.clockFinding(i, now)
		// Worded here: sentences ran before (the JSON record's
		// message and an export's comment were empty).
		fi.Message = pa.Sentence(now, fi, unicodeGlyphs)
		out.Findings[f] = append(slices.Clip(out.Findings[f]), fi)
	}
	out.points = make([]Point, len(pa.points))
	for i, p := range pa.points {
		res := *p.Result
		res.Flows = nil
		for _, f := range p.Result.Flows {
			if out.conn[f] != nil {
				res.Flows = append(res.Flows, f)
			}
		}
		p.Result = &res
		out.points[i] = p
	}
	return &out
}

// Results returns each point's Result, in path order: as given to
// Correlate, or restricted to the connections Select kept.
func (pa *Path) Results() []*Result {
	out := make([]*Result, len(pa.points))
	for i, p := range pa.points {
		out[i] = p.Result
	}
	return out
}

// shape is a flow's first segments, relative numbers and lengths, for
// joining flows whose ISNs a middlebox rewrote.
func shape(f *Flow, n int) []shapeKey {
	cb, sb := base(f)
	var out []shapeKey
	for _, r := range f.Refs {
		if r.Bits&RefFragment != 0 {
			continue
		}
		out = append(out, shapeKey{keyOfRef(r, [2]uint32{cb, sb}), r.Len})
		if len(out) == n {
			break
		}
	}
	return out
}

// Correlate joins the captures of one path, given in path order (client
// side first).
func Correlate(points []Point) *Path {
	pa := &Path{Findings: map[*Flow][]PathFinding{}, conn: map[*Flow]*Connection{}, points: points, swapped: map[*Flow]*Flow{}, shifts: shifts{}}
	for _, p := range points {
		pa.Points = append(pa.Points, p.Name)
	}
	pa.Offset = make([]float64, len(points))
	pa.rel, pa.comp = make([]float64, len(points)), make([]int, len(points))
	for _, p := range points {
		first, last := int64(math.MaxInt64), int64(math.MinInt64)
		for _, f := range p.Result.Flows {
			first, last = min(first, f.Start), max(last, f.End)
		}
		pa.span = append(pa.span, [2]int64{first, last})
	}
	// next[i] maps a flow at point i to its flow at point i+1.
	next := make([]map[*Flow]*Flow, len(points))
	for i := 0; i+1 < len(points); i++ {
		next[i] = joinByISN(points[i].Result, points[i+1].Result)
	}
	// Clock offsets from the ISN joins, then the joins by shape, which
	// use them.
	for i := 0; i+1 < len(points); i++ {
		off := pairOffset(next[i], nil)
		joinByShape(points[i].Result, points[i+1].Result, next[i], off)
		joinBySeq(points[i].Result, points[i+1].Result, next[i])
		joinByShift(points[i].Result, points[i+1].Result, next[i], pa.shifts)
		if n := pairOffset(next[i], pa.shifts); !math.IsNaN(n) {
			off = n
		}
		joinByOneISN(points[i].Result, points[i+1].Result, next[i], off)
		joinByAckOfISN(points[i].Result, points[i+1].Result, next[i], off)
		pa.shiftsOfHalfSeen(next[i])
		for f, g := range joinSwapped(points[i].Result, points[i+1].Result, next[i]) {
			next[i][f] = g
			pa.swapped[f] = g
		}
		if n := pairOffset(next[i], pa.shifts); !math.IsNaN(n) {
			off = n
		}
		// Each point's clock is known against the points it joined
		// connections with, directly or through others (its component).
		// Chained from the first point alone, a first point that shared
		// nothing with the others (a client tcpdump that caught nothing,
		// the wrong file) made every later offset unknown, and with them
		// every drop between the later points went unsaid.
		if math.IsNaN(off) {
			pa.rel[i+1], pa.comp[i+1] = 0, i+1
		} else {
			pa.rel[i+1], pa.comp[i+1] = pa.rel[i]+off, pa.comp[i]
		}
	}
	// A connection the middle one of three points missed (another route,
	// the other firewall of a pair): its flows at the points either side
	// join by their ISNs. It was two connections, "unjoined", every packet
	// "dropped" on its way to the middle point.
	skip := make([]map[*Flow]*Flow, len(points))
	for i := 0; i+2 < len(points); i++ {
		skip[i] = pa.joinAcross(points[i].Result, points[i+2].Result, next[i], next[i+1], pa.pairOff(i, i+2))
		if len(skip[i]) > 0 && pa.comp[i+2] != pa.comp[i] {
			if off := pairOffset(skip[i], pa.shifts); !math.IsNaN(off) {
				pa.mergeClocks(i, i+2, off)
			}
		}
	}
	for i := range points {
		pa.Offset[i] = math.NaN()
		if pa.comp[i] == pa.comp[0] {
			pa.Offset[i] = pa.rel[i]
		}
	}
	pa.buildConnections(next, skip)
	pa.Lone = pa.lonePoints()
	pa.OneWay = pa.oneWayPoints()
	pa.connOneWay = pa.oneWayConns()
	pa.ttl, pa.same = ttlVotes{}, sameVotes{}
	for _, c := range pa.Conns {
		pa.compare(c)
	}
	pa.segmentOptions()
	pa.Answered = pa.answeredPairs()
	pa.Lone = pa.explainedLone()
	pa.TTLRises = pa.ttlRises()
	pa.Same = pa.samePackets()
	pa.Ended = pa.capturesEnded()
	pa.endedFindings()
	pa.sizes.tallyDrops(pa)
	for i := 1; i < len(points); i++ {
		if math.IsNaN(pa.Offset[i]) {
			continue
		}
		// The offset is said once per point, on the first flow of
		// that point joined with the first point.
		if c := pa.clockConn(i); c != nil {
			pa.add(c.Flows[i], pa.clockFinding(i, c))
		}
	}
	pa.twins = pa.findTwins()
	pa.sentences()
	pa.oneWayRec = pa.oneWayRecords()
	return pa
}

// ClockAgainst returns the point whose clock point i's is known against
// when it is not known against the first point's (Offset is NaN): the
// first point of those it joined connections with, and i's clock less
// that one's, in seconds; ok is false when i shares its clock with no
// earlier point.
func (pa *Path) ClockAgainst(i int) (ref int, off float64, ok bool) {
	if i < 0 || i >= len(pa.comp) || pa.comp[i] == i {
		return 0, 0, false
	}
	return pa.comp[i], pa.rel[i], true
}

// mergeClocks joins point j's component to point i's, j's clock being
// off seconds ahead of i's.
func (pa *Path) mergeClocks(i, j int, off float64) {
	from, d := pa.comp[j], pa.rel[i]+off-pa.rel[j]
	for k := range pa.comp {
		if pa.comp[k] == from {
			pa.rel[k] += d
			pa.comp[k] = pa.comp[i]
		}
	}
}

// clockConn returns the first connection seen at point i and at the first
// point, whose flow at point i says point i's clock offset; nil if none.
func (pa *Path) clockConn(i int) *Connection {
	for _, c := range pa.Conns {
		if c.Flows[0] != nil && c.Flows[i] != nil {
			return c
		}
	}
	return nil
}

// clockFinding says point i's clock offset on connection c's flow there.
func (pa *Path) clockFinding(i int, c *Connection) PathFinding {
	f, d := c.Flows[i], pa.Offset[i]
	return PathFinding{Code: PathClockOffset, Point: i, Frame: f.FirstFrame, RelatedPoint: 0,
		RelatedFrame: c.Flows[0].FirstFrame, Seconds: round6(d)}
}

// clockText says a path.clock_offset finding: point at's clock against
// point rel's, seconds apart.
func clockText(at, rel string, seconds float64) string {
	return fmt.Sprintf("%s's clock is %s %s's (estimated from matched packets, path delay taken out)", at, clockDifference(seconds), rel)
}

// ClockOffset says a point's clock offset in seconds, for the caller to
// add the unit: "+0.500", or "±0" under half a millisecond, which
// "-0.000" said before.
func ClockOffset(seconds float64) string {
	if math.Abs(seconds) < 0.0005 {
		return "±0"
	}
	return fmt.Sprintf("%+.3f", seconds)
}

func round6(x float64) float64 { return math.Round(x*1e6) / 1e6 }

func aheadBehind(d float64) string {
	if d < 0 {
		return "behind"
	}
	return "ahead of"
}

func clockSpan(s float64) string {
	d := time.Duration(s * 1e9)
	if d >= time.Minute {
		return fmt.Sprintf("%.3f s (%s)", s, d.Round(time.Second))
	}
	return fmt.Sprintf("%.3f s", s)
}

// joinByISN joins the flows of two neighbouring points that have the same
// ISN pair (or the same ISN where only one side's is known at one of them).
// A flow whose SYN-ACKs carried several ISNs (a server under SYN load
// answering a retried SYN anew) is looked up by each (allISNs): the point
// that missed the first SYN-ACK saw only the second.
func joinByISN(a, b *Result) map[*Flow]*Flow {
	type isns struct{ c, s uint32 }
	byPair := map[isns][]*Flow{}
	byClient := map[uint32][]*Flow{}
	byServer := map[uint32][]*Flow{}
	var cb, sb [maxISNs]uint32
	for _, f := range b.Flows {
		cs, ss := allISNs(f, FromClient, cb[:0]), allISNs(f, FromServer, sb[:0])
		for _, c := range cs {
			for _, s := range ss {
				byPair[isns{c, s}] = append(byPair[isns{c, s}], f)
			}
			byClient[c] = append(byClient[c], f)
		}
		for _, s := range ss {
			byServer[s] = append(byServer[s], f)
		}
	}
	used := map[*Flow]bool{}
	out := map[*Flow]*Flow{}
	// An ISN pair is 64 random bits: the match needs no help from
	// addresses or ports, which NAT and PAT change anyway.
	take := func(f *Flow, cands []*Flow) bool {
		for _, g := range cands {
			if !used[g] {
				used[g] = true
				out[f] = g
				return true
			}
		}
		return false
	}
	// takeAny takes the first free flow looked up by each of keys in turn.
	takeAny := func(f *Flow, keys []uint32, look func(uint32) []*Flow) bool {
		for _, k := range keys {
			if take(f, look(k)) {
				return true
			}
		}
		return false
	}
	for _, f := range a.Flows {
		cs, ss := allISNs(f, FromClient, cb[:0]), allISNs(f, FromServer, sb[:0])
		switch {
		case len(cs) > 0 && len(ss) > 0:
			if slices.ContainsFunc(cs, func(c uint32) bool {
				return takeAny(f, ss, func(s uint32) []*Flow { return byPair[isns{c, s}] })
			}) {
				continue
			}
			// One side's ISN only at the other point.
			if !takeAny(f, cs, func(c uint32) []*Flow { return onlyOneSide(byClient[c], true) }) {
				takeAny(f, ss, func(s uint32) []*Flow { return onlyOneSide(byServer[s], false) })
			}
		case len(cs) > 0:
			takeAny(f, cs, func(c uint32) []*Flow { return byClient[c] })
		case len(ss) > 0:
			takeAny(f, ss, func(s uint32) []*Flow { return byServer[s] })
		}
	}
	return out
}

// onlyOneSide keeps the flows that have only the client's ISN (client) or
// only the server's.
func onlyOneSide(fs []*Flow, client bool) []*Flow {
	var out []*Flow
	for _, f := range fs {
		h := &f.Handshake
		if client && !h.HaveSynAck || !client && !h.HaveSyn {
			out = append(out, f)
		}
	}
	return out
}

// joinByShape joins the flows left over by joinByISN that have one ISN
// the same at both points (a middlebox that rewrites ISNs rewrites one
// side's, the inside host's), the same server or client port, first
// segments of mostly the same relative numbers, lengths and flags, and
// times that agree given the clock offset: a middlebox that rewrites
// ISNs by a constant keeps all of that.
//
// The candidates are looked up by ISN, not tried one by one: every
// unjoined flow of one point against every free flow of the next took
// 38 s for 40,000 connections behind an ISN-randomising firewall (89% of
// the CPU here; one capture reads in 0.28 s).
//
// The segments are compared in order with gaps (their longest common
// subsequence), not position by position: a segment dropped between the
// points, or a retransmission seen only upstream, shifted every later
// position, so exactly the connections with damage to show were not
// joined, and each point's half of them had every packet "dropped".
//
// It returns how many pairs of shapes it compared, for the test that
// holds it to about one per flow.
func joinByShape(a, b *Result, joined map[*Flow]*Flow, off float64) (compared int) {
	const n = 12
	fa, fb, taken := leftOver(a, b, joined)
	byClient := map[uint32][]*Flow{}
	byServer := map[uint32][]*Flow{}
	var buf [maxISNs]uint32
	for _, g := range fb {
		for _, v := range allISNs(g, FromClient, buf[:0]) {
			byClient[v] = append(byClient[v], g)
		}
		for _, v := range allISNs(g, FromServer, buf[:0]) {
			byServer[v] = append(byServer[v], g)
		}
	}
	if len(byClient) == 0 && len(byServer) == 0 {
		return 0
	}
	shapes := map[*Flow][]shapeKey{}
	shapeOf := func(f *Flow) []shapeKey {
		s, ok := shapes[f]
		if !ok {
			s = shape(f, n)
			shapes[f] = s
		}
		return s
	}
	// pass proposes, for each flow of a still unjoined, the candidate
	// whose shape agrees best (exact: in every position, as a clean
	// connection's does), and joins those that no other candidate or
	// flow ties with.
	pass := func(off float64, exact bool) (d []float64) {
		type proposal struct {
			f     *Flow
			score int
		}
		best := map[*Flow]proposal{} // by candidate
		tied := map[*Flow]bool{}     // candidates two flows want as much
		var order []*Flow
		for _, f := range fa {
			if _, ok := joined[f]; ok {
				continue
			}
			fs := shapeOf(f)
			if len(fs) < 3 {
				continue
			}
			var cands []*Flow
			for _, v := range allISNs(f, FromClient, buf[:0]) {
				for _, g := range byClient[v] {
					if !slices.Contains(cands, g) {
						cands = append(cands, g)
					}
				}
			}
			for _, v := range allISNs(f, FromServer, buf[:0]) {
				for _, g := range byServer[v] {
					if !slices.Contains(cands, g) {
						cands = append(cands, g)
					}
				}
			}
			var top *Flow
			topScore, ties := 0, 0
			for _, g := range cands {
				if taken[g] || g.Server().Port() != f.Server().Port() && g.Client().Port() != f.Client().Port() {
					continue
				}
				if !math.IsNaN(off) && math.Abs(float64(g.Start-f.Start)/1e9-off) > 1 {
					continue
				}
				gs := shapeOf(g)
				compared++
				var score int
				if exact {
					score = samePlaces(fs, gs)
					if score < min(len(fs), len(gs)) {
						continue
					}
				} else {
					score = commonInOrder(fs, gs)
				}
				// Most of the shape must agree: two unrelated
				// connections to the same port differ in lengths
				// and numbers long before that.
				if score < 3 || score*4 < min(len(fs), len(gs))*3 {
					continue
				}
				switch {
				case score > topScore:
					top, topScore, ties = g, score, 0
				case score == topScore:
					ties++
				}
			}
			if top == nil || ties > 0 {
				continue
			}
			switch p, ok := best[top]; {
			case !ok:
				best[top] = proposal{f, topScore}
				order = append(order, top)
			case topScore > p.score:
				best[top], tied[top] = proposal{f, topScore}, false
			case topScore == p.score:
				tied[top] = true
			}
		}
		for _, g := range order {
			if f := best[g].f; !tied[g] {
				joined[f], taken[g] = g, true
				d = append(d, float64(g.Start-f.Start)/1e9)
			}
		}
		return d
	}
	if math.IsNaN(off) {
		// No ISN join told the clock offset: the clean connections,
		// their shapes the same in every position, tell it first, so
		// that a damaged one is joined only near its time.
		if d := pass(off, true); len(d) > 0 {
			off = median(d)
		}
	}
	pass(off, false)
	return compared
}

// samePlaces counts the positions where two shapes have the same segment.
func samePlaces(x, y []shapeKey) int {
	n := 0
	for i := range min(len(x), len(y)) {
		if x[i] == y[i] {
			n++
		}
	}
	return n
}

// commonInOrder is the length of the longest common subsequence of two
// shapes: how many segments they share in the same order, whatever is
// missing from or added to either between them.
func commonInOrder(x, y []shapeKey) int {
	prev := make([]int, len(y)+1)
	cur := make([]int, len(y)+1)
	for i := range x {
		for j := range y {
			switch {
			case x[i] == y[j]:
				cur[j+1] = prev[j] + 1
			default:
				cur[j+1] = max(prev[j+1], cur[j])
			}
		}
		prev, cur = cur, prev
	}
	return prev[len(y)]
}

// joinBySeq joins the flows still left over when their segments carry
// the same absolute sequence and acknowledgement numbers: a connection
// whose handshake one point did not see (its capture started later, or
// the connection is older than both) has no ISN to join by and no shape
// from its start, and was taken for two connections, each with every
// packet "dropped" at the other point. A sequence number and an
// acknowledgement number together are 64 bits no unrelated connection
// shares; two segments must agree (one when a flow has only one).
// Numbers a middlebox rewrote, or sides swapped by a guessed direction,
// do not join this way.
func joinBySeq(a, b *Result, joined map[*Flow]*Flow) {
	fa, fb, taken := leftOver(a, b, joined)
	// The capture that started later holds the other's segments from its
	// own first ones on: index the first segments of each flow of one
	// point (not all, which would cost a map entry per packet), look up
	// every segment of the other's, then the other way round.
	seqJoin(fa, fb, false, func(f, g *Flow) { joined[f] = g })
	left := fb[:0]
	for _, g := range fb {
		if !taken[g] {
			left = append(left, g)
		}
	}
	seqJoin(left, fa, false, func(g, f *Flow) {
		if _, ok := joined[f]; !ok {
			joined[f] = g
		}
	})
}

// ackOf returns a segment's ACK number, 0 when it has no ACK flag.
func ackOf(r PacketRef) uint32 {
	if r.Flags&FlagACK == 0 {
		return 0
	}
	return r.Ack
}

// joinAcross joins, by their ISNs or (a middlebox between them rewrote
// one, an ASA's default) by their shapes, the flows of point a (left over
// by its join with the next point, ab) and of the point after that, c
// (left over by its join with the one before, bc); off is c's clock less
// a's, NaN when not known yet. By ISN alone, a middle capture started a
// minute after the others (connections that ended before it) left 1,634
// of 4,000 connections "seen at one point only" at each end.
func (pa *Path) joinAcross(a, c *Result, ab, bc map[*Flow]*Flow, off float64) map[*Flow]*Flow {
	fromB := map[*Flow]bool{}
	for _, g := range bc {
		fromB[g] = true
	}
	// la and lc are the flows left over; ha and hc those of them with a
	// handshake, for the joins by ISN and by shape.
	var la, lc, ha, hc Result
	for _, f := range a.Flows {
		if _, ok := ab[f]; !ok {
			la.Flows = append(la.Flows, f)
			if f.Handshake.HaveSyn || f.Handshake.HaveSynAck {
				ha.Flows = append(ha.Flows, f)
			}
		}
	}
	for _, g := range c.Flows {
		if !fromB[g] {
			lc.Flows = append(lc.Flows, g)
			if g.Handshake.HaveSyn || g.Handshake.HaveSynAck {
				hc.Flows = append(hc.Flows, g)
			}
		}
	}
	if len(la.Flows) == 0 || len(lc.Flows) == 0 {
		return nil
	}
	m := joinByISN(&ha, &hc)
	joinByShape(&ha, &hc, m, off)
	joinByOneISN(&ha, &hc, m, off)
	// A capture at a or c started late (no handshake), or a one-way one
	// (no ISN of one side), with numbers rewritten between them: as
	// neighbours join.
	joinBySeq(&la, &lc, m)
	joinByShift(&la, &lc, m, pa.shifts)
	pa.shiftsOfHalfSeen(m)
	return m
}

// leftOver returns the flows of a and of b that joined does not join, and
// the flows of b it does.
func leftOver(a, b *Result, joined map[*Flow]*Flow) (fa, fb []*Flow, taken map[*Flow]bool) {
	taken = map[*Flow]bool{}
	for _, g := range joined {
		taken[g] = true
	}
	for _, f := range a.Flows {
		if _, ok := joined[f]; !ok {
			fa = append(fa, f)
		}
	}
	for _, g := range b.Flows {
		if !taken[g] {
			fb = append(fb, g)
		}
	}
	return fa, fb, taken
}

// joinSwapped joins the flows still left over whose segments carry the
// same absolute numbers with the sides the other way round, where one of
// them had its direction guessed (no SYN seen at its point): PAT to a port
// below the server's made the guess take the server for the client, and
// the connection was two, each with every packet "dropped" at the other
// point. They are one connection, whose packets are not compared.
func joinSwapped(a, b *Result, joined map[*Flow]*Flow) map[*Flow]*Flow {
	fa, fb, _ := leftOver(a, b, joined)
	if len(fa) == 0 || len(fb) == 0 {
		return nil
	}
	// Either capture may have started later: look up each side's
	// segments among the other's first ones, the sides turned over.
	out := map[*Flow]*Flow{}
	usedB := map[*Flow]bool{}
	seqJoin(fa, fb, true, func(f, g *Flow) {
		if f.DirectionGuessed || g.DirectionGuessed {
			out[f], usedB[g] = g, true
		}
	})
	var la, lb []*Flow
	for _, f := range fa {
		if out[f] == nil {
			la = append(la, f)
		}
	}
	for _, g := range fb {
		if !usedB[g] {
			lb = append(lb, g)
		}
	}
	seqJoin(lb, la, true, func(g, f *Flow) {
		if (f.DirectionGuessed || g.DirectionGuessed) && out[f] == nil {
			out[f] = g
		}
	})
	return out
}

// seqJoin joins each flow of from to the flow of into whose first
// segments carry the same absolute numbers as its own (joinBySeq); join
// is called once for each, and a flow of into is joined once.
func seqJoin(from, into []*Flow, turn bool, join func(from, into *Flow)) {
	const first = 32
	type abs struct {
		side     Side
		seq, ack uint32
	}
	index := map[abs][]*Flow{}
	for _, g := range into {
		n := 0
		for _, r := range g.Refs {
			if r.Bits&RefFragment != 0 {
				continue
			}
			k := abs{r.Side(), r.Seq, ackOf(r)}
			if turn {
				k.side = 1 - k.side
			}
			if l := index[k]; len(l) == 0 || l[len(l)-1] != g {
				index[k] = append(l, g)
			}
			if n++; n == first {
				break
			}
		}
	}
	if len(index) == 0 {
		return
	}
	used := map[*Flow]bool{}
	for _, f := range from {
		votes := map[*Flow]int{}
		var best *Flow
		for _, r := range f.Refs {
			if r.Bits&RefFragment != 0 {
				continue
			}
			for _, g := range index[abs{r.Side(), r.Seq, ackOf(r)}] {
				// Without an ACK number, 32 bits: only with the
				// same addresses and ports, the same way round.
				if used[g] || r.Flags&FlagACK == 0 && (turn || g.Client() != f.Client() || g.Server() != f.Server()) {
					continue
				}
				votes[g]++
				if best == nil || votes[g] > votes[best] {
					best = g
				}
			}
			if best != nil && votes[best] >= 4 {
				break
			}
		}
		if best != nil && votes[best] >= min(2, len(f.Refs), len(best.Refs)) {
			used[best] = true
			join(f, best)
		}
	}
}

// pairOffset estimates the clock offset between two neighbouring points,
// in seconds (the later point's clock minus the earlier one's), from the
// matched segments of the joined flows: half the sum of the median
// difference each way, which takes out the path delay when it is the same
// both ways. Only segments seen once at each point count: a
// retransmission paired with the wrong copy is off by its RTO. NaN when
// no such segment was matched.
func pairOffset(joined map[*Flow]*Flow, sh shifts) float64 {
	var d [2][2][]float64 // [unique][side]
	for a, b := range joined {
		m := matchSegs(a, b, math.NaN(), sh.of(a, b))
		for _, p := range m.pairs {
			side, u := a.Refs[p.a].Side(), 0
			if p.unique {
				u = 1
			}
			d[u][side] = append(d[u][side], float64(b.Refs[p.b].Time-a.Refs[p.a].Time)/1e9)
		}
	}
	// Copies paired in order (no offset yet) may be minutes apart: a
	// keep-alive connection gave 675 s where the clocks were 0.5 ms apart.
	for _, dd := range [][2][]float64{d[1]} {
		toServer, toClient := dd[FromClient], dd[FromServer]
		switch {
		case len(toServer) > 0 && len(toClient) > 0:
			return (median(toServer) + median(toClient)) / 2
		case len(toServer) > 0:
			return median(toServer)
		case len(toClient) > 0:
			return median(toClient)
		}
	}
	return math.NaN()
}

func median(x []float64) float64 {
	slices.Sort(x)
	n := len(x)
	if n%2 == 1 {
		return x[n/2]
	}
	return (x[n/2-1] + x[n/2]) / 2
}

// buildConnections chains the joins into connections, numbered in order of
// their first flow (point by point).
func (pa *Path) buildConnections(next, skip []map[*Flow]*Flow) {
	prev := make([]map[*Flow]bool, len(pa.points))
	mark := func(at int, m map[*Flow]*Flow) {
		if prev[at] == nil {
			prev[at] = map[*Flow]bool{}
		}
		for _, g := range m {
			prev[at][g] = true
		}
	}
	for i := range next {
		if next[i] != nil {
			mark(i+1, next[i])
		}
		if skip[i] != nil {
			mark(i+2, skip[i])
		}
	}
	for i, p := range pa.points {
		for _, f := range p.Result.Flows {
			if _, ok := pa.conn[f]; ok || (prev[i] != nil && prev[i][f]) {
				continue
			}
			c := &Connection{ID: len(pa.Conns) + 1, Flows: make([]*Flow, len(pa.points))}
			for j, g := i, f; g != nil; {
				c.Flows[j] = g
				pa.conn[g] = c
				if j+1 >= len(pa.points) || next[j] == nil {
					break
				}
				if h := next[j][g]; h != nil || skip[j] == nil || skip[j][g] == nil {
					g, j = h, j+1
				} else {
					g, j = skip[j][g], j+2
				}
			}
			pa.Conns = append(pa.Conns, c)
		}
	}
}

func (pa *Path) add(f *Flow, fi PathFinding) {
	pa.Findings[f] = append(pa.Findings[f], fi)
}

// compare compares a connection's flows at neighbouring points.
func (pa *Path) compare(c *Connection) {
	seen := 0
	for _, f := range c.Flows {
		if f != nil {
			seen++
		}
	}
	if seen == 1 && len(c.Flows) > 1 {
		for i, f := range c.Flows {
			if f == nil {
				continue
			}
			// Its receiver's answer, said with it: the packets went
			// another way (another interface of a firewall, a host on
			// the client's own LAN), they were not dropped.
			fi := PathFinding{Code: PathUnjoined, Point: i, Frame: f.FirstFrame, RelatedPoint: -1}
			for _, s := range []Side{FromClient, FromServer} {
				if _, first := answeredRefs(f, s); first != 0 && (fi.OtherFrame == 0 || first < fi.OtherFrame) {
					fi.OtherFrame = first
				}
			}
			pa.add(f, fi)
		}
	}
	for i := 0; i+1 < len(c.Flows); i++ {
		a, b := c.Flows[i], c.Flows[i+1]
		// Seen either side of point i+1 (joinAcross), not there.
		across := i+2 < len(c.Flows) && b == nil && a != nil && c.Flows[i+2] != nil
		behind := i >= 1 && a == nil && b != nil && c.Flows[i-1] != nil
		switch {
		case across:
			// Only when the middle point's capture ran while a packet
			// of the connection it would have captured passed: one that
			// ended a minute before it, or holds nothing, sent the
			// engineer after a route, and so did one whose client
			// packets all came before a one-way middle capture began.
			if pa.missedThere(i, i+1, a) {
				pa.add(a, PathFinding{Code: PathBypassed, Point: i, Frame: a.FirstFrame, RelatedPoint: i + 1, RelatedFrame: c.Flows[i+2].FirstFrame})
			}
			pa.compareFlows(i, i+2, a, c.Flows[i+2])
		case behind:
		case a != nil && b != nil && pa.swapped[a] == b:
			// Said on the flow whose direction was guessed.
			g, at, other := b, i+1, i
			if a.DirectionGuessed && !b.DirectionGuessed {
				g, at, other = a, i, i+1
			}
			pa.add(g, PathFinding{Code: PathSwapped, Point: at, Frame: g.FirstFrame, RelatedPoint: other})
		case a != nil && b != nil:
			pa.compareFlows(i, i+1, a, b)
		case a != nil && b == nil:
			pa.missing(i, i+1, a, FromClient)
		case a == nil && b != nil:
			pa.missing(i+1, i, b, FromServer)
		}
	}
	// A point whose capture leaves a side out (Path.OneWay, or for this
	// connection alone) compared that side with neither neighbour: a
	// drop of it anywhere between them went unsaid. It is compared
	// between the points either side.
	for k := 1; k+1 < len(c.Flows); k++ {
		a, mid, b := c.Flows[k-1], c.Flows[k], c.Flows[k+1]
		if a == nil || mid == nil || b == nil || pa.swapped[a] == mid || pa.swapped[mid] == b || !pa.comparableAcross(a, mid, b) {
			continue
		}
		for _, s := range []Side{FromClient, FromServer} {
			if pa.leftOut(k, mid, s) && !pa.leftOut(k-1, a, s) && !pa.leftOut(k+1, b, s) {
				pa.compareSideAcross(k-1, k+1, a, b, s)
			}
		}
	}
	// The packets of a middle point's neighbours that passed while its
	// capture was not running (it started late, or stopped early) are
	// compared between those neighbours (pathlatemid.go).
	for _, o := range pa.outsideMids(c) {
		pa.compareOutside(c, &o)
	}
	// A side the points between two others all missed (one started late,
	// the next one-way) is compared between those two (widerSpans).
	for _, sp := range pa.widerSpans(c) {
		pa.compareSideAcross(sp.i, sp.j, c.Flows[sp.i], c.Flows[sp.j], sp.side)
	}
	pa.scalingAgreement(c)
}

// comparableAcross reports whether the flows a and b, either side of mid,
// have numbers that compare without mid: both saw the whole handshake
// (each side counts from its own ISN), or neither hop rewrote them (no
// shift found, no ISN that differs between two points that saw it).
func (pa *Path) comparableAcross(a, mid, b *Flow) bool {
	ha, hb := &a.Handshake, &b.Handshake
	if ha.HaveSyn && ha.HaveSynAck && hb.HaveSyn && hb.HaveSynAck {
		return true
	}
	for _, hop := range [][2]*Flow{{a, mid}, {mid, b}} {
		if pa.shifts.of(hop[0], hop[1]) != [2]uint32{} || isnsDiffer(hop[0], hop[1], FromClient) || isnsDiffer(hop[0], hop[1], FromServer) {
			return false
		}
	}
	return true
}

// acrossCodes are the findings compareSideAcross keeps: those about one
// side's segments.
var acrossCodes = map[PathCode]bool{
	PathPayloadAdded: true, PathPayloadRemoved: true, PathPayloadChanged: true,
	PathDropped: true, PathTooBig: true, PathInjected: true, PathDuplicated: true, PathUncaptured: true,
	PathResegmented: true, PathFragmented: true, PathReordered: true,
	PathWindowChanged: true, PathTOSChanged: true,
}

// compareSideAcross compares side s of a connection between points i and
// j, whose flows are a and b, across a point between them that did not
// capture s: of what compareFlows finds, it keeps what is about s's
// segments (the rest, and the other side, the neighbours said).
func (pa *Path) compareSideAcross(i, j int, a, b *Flow, s Side) {
	// The flows' findings so far are set aside while compareFlows runs:
	// it sorts each flow's findings by frame, and the findings before
	// the first new one were all that was kept (a one-way connection's
	// path.one_way on frame 2 went, a path.ttl on frame 1 taking its
	// place; a SYN-ACK dropped between server and inside took the
	// client's drops between inside and outside with it).
	pa.compareKeeping(i, j, a, b, func(f *Flow, point int, fi PathFinding) bool {
		r, ok := refOf(f, fi.Frame)
		return ok && acrossCodes[fi.Code] && fi.Point == point && r.Side() == s
	})
}

// compareKeeping compares flows a and b at points i and j, which are not
// neighbours, and of what compareFlows finds keeps what keep takes (what
// the neighbours' comparisons could not say). The flows' findings so far
// are set aside while it runs: it sorts each flow's findings. The
// options of the segments after the handshake are compared between
// neighbours only (across: segmentOptions).
func (pa *Path) compareKeeping(i, j int, a, b *Flow, keep func(f *Flow, point int, fi PathFinding) bool) {
	had := [2][]PathFinding{pa.Findings[a], pa.Findings[b]}
	delete(pa.Findings, a)
	delete(pa.Findings, b)
	pa.across = true
	pa.compareFlows(i, j, a, b)
	pa.across = false
	for x, y := range []struct {
		f     *Flow
		point int
	}{{a, i}, {b, j}} {
		kept := had[x]
		for _, fi := range pa.Findings[y.f] {
			if keep(y.f, y.point, fi) {
				kept = append(kept, fi)
			}
		}
		if kept == nil {
			delete(pa.Findings, y.f)
			continue
		}
		pa.Findings[y.f] = kept
		sortFindings(kept)
	}
}

// nearestRef returns the packet of refs (in time order) nearest in time to
// t, if one is within d of it.
func nearestRef(refs []PacketRef, t, d int64) (PacketRef, bool) {
	i := sort.Search(len(refs), func(i int) bool { return refs[i].Time >= t })
	var best PacketRef
	found := false
	for _, k := range []int{i - 1, i} {
		if k >= 0 && k < len(refs) {
			if dt := abs64(refs[k].Time - t); dt <= d && (!found || dt < abs64(best.Time-t)) {
				best, found = refs[k], true
			}
		}
	}
	return best, found
}

func abs64(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}

// refOf returns f's packet with the given frame (not an earlier fragment).
func refOf(f *Flow, frame uint64) (PacketRef, bool) {
	refs := f.Refs
	i := sort.Search(len(refs), func(i int) bool { return refs[i].Frame >= frame })
	for ; i < len(refs) && refs[i].Frame == frame; i++ {
		if refs[i].Bits&RefFragment == 0 {
			return refs[i], true
		}
	}
	return PacketRef{}, false
}

// scalingAgreement says when the two ends of a connection disagree about
// window scaling because a middlebox changed the option on the way (one
// finding per hop says that it changed): each end scales only when both
// its SYN and the SYN-ACK it saw carried it, so with the option stripped
// from one of them on one side only, one end multiplies every window the
// other announces, or neither is read as it was meant.
func (pa *Path) scalingAgreement(c *Connection) {
	cl, sv := scalingEnds(c)
	if cl < 0 || cl == sv {
		return
	}
	hc, hs := &c.Flows[cl].Handshake, &c.Flows[sv].Handshake
	clientScales := hc.Client.HasWScale && hc.Server.HasWScale
	serverScales := hs.Client.HasWScale && hs.Server.HasWScale
	if clientScales == serverScales && (!clientScales || hc.Server.WScale == hs.Server.WScale && hc.Client.WScale == hs.Client.WScale) {
		return
	}
	// Said where the option changed (review realpath3, s4wsack: WS
	// stripped from the SYN-ACK between outside and inside was said on
	// the server's SYN): on the SYN-ACK at the point it reached after the
	// change, or the SYN; at the server's SYN when no two neighbouring
	// points that saw the handshake tell where.
	fi := PathFinding{Code: PathScaling, Point: sv, Frame: hs.SynFrame, RelatedPoint: cl, RelatedFrame: hc.SynAckFrame}
	p := cl
	for q := cl + 1; q <= sv; q++ {
		if !scalingView(c.Flows[q]) {
			continue
		}
		hp, hq := &c.Flows[p].Handshake, &c.Flows[q].Handshake
		if hp.Server.HasWScale != hq.Server.HasWScale || hp.Server.WScale != hq.Server.WScale {
			fi.Point, fi.Frame, fi.RelatedPoint, fi.RelatedFrame = p, hp.SynAckFrame, q, hq.SynAckFrame
			break
		}
		if hp.Client.HasWScale != hq.Client.HasWScale || hp.Client.WScale != hq.Client.WScale {
			fi.Point, fi.Frame, fi.RelatedPoint, fi.RelatedFrame = q, hq.SynFrame, p, hp.SynFrame
			break
		}
		p = q
	}
	pa.add(c.Flows[fi.Point], fi)
}

// scalingView reports whether f (nil where the connection was not seen)
// saw the whole handshake, its options not cut by a snap length.
func scalingView(f *Flow) bool {
	return f != nil && f.Handshake.HaveSyn && f.Handshake.HaveSynAck && !f.Handshake.Client.Cut && !f.Handshake.Server.Cut
}

// scalingEnds returns the ends' views of a connection's window scaling:
// the points nearest each end that saw the whole handshake (cl the
// client's, sv the server's), -1 when none did.
func scalingEnds(c *Connection) (cl, sv int) {
	cl, sv = -1, -1
	for i, f := range c.Flows {
		if !scalingView(f) {
			continue
		}
		if cl < 0 {
			cl = i
		}
		sv = i
	}
	return cl, sv
}

// scalingText says a path.wscale_mismatch finding, which sits where the
// option changed (between points rel and at): the handshake as the
// client's side saw it (hc, at point cl) and as the server's (hs, at sv).
func scalingText(fi PathFinding, cl, sv, rel, at string, hc, hs *Handshake) string {
	view := func(h *Handshake, who, at string) string {
		switch {
		case h.Client.HasWScale && h.Server.HasWScale:
			return fmt.Sprintf("the %s scales (at %s: SYN WS %d, SYN-ACK WS %d)", who, at, h.Client.WScale, h.Server.WScale)
		case !h.Client.HasWScale && !h.Server.HasWScale:
			return fmt.Sprintf("the %s does not (at %s: neither SYN nor SYN-ACK has WS)", who, at)
		case !h.Client.HasWScale:
			return fmt.Sprintf("the %s does not (at %s: the SYN has no WS)", who, at)
		}
		return fmt.Sprintf("the %s does not (at %s: the SYN-ACK has no WS)", who, at)
	}
	return fmt.Sprintf("window scaling changed between %s and %s, so the ends disagree: %s, %s; %s",
		rel, at, view(hc, "client", cl), view(hs, "server", sv), misreadText(hc, hs))
}

// misreadText says which end reads the other's windows with another shift
// than they were sent with, and what that does: the two shifts, and the
// factor. "Stalls or floods" was said of a SYN proxy's WS 7 against the
// server's 10 (review realpath2), where the client read the server's
// windows 8× too small, which slows the transfer but neither stalls nor
// floods it.
func misreadText(hc, hs *Handshake) string {
	shift := func(h *Handshake, o SideOptions) int {
		if !h.Client.HasWScale || !h.Server.HasWScale {
			return 0
		}
		return min(int(o.WScale), 14) // RFC 7323: more is taken as 14
	}
	var parts []string
	for _, w := range []struct {
		sender, reader string
		sent, read     int
	}{
		{"server", "client", shift(hs, hs.Server), shift(hc, hc.Server)},
		{"client", "server", shift(hc, hc.Client), shift(hs, hs.Client)},
	} {
		switch {
		case w.sent > w.read:
			parts = append(parts, fmt.Sprintf("the %s's windows, sent with shift %d, are read by the %s with %d: %d× too small, which slows the connection",
				w.sender, w.sent, w.reader, w.read, 1<<(w.sent-w.read)))
		case w.sent < w.read:
			parts = append(parts, fmt.Sprintf("the %s's windows, sent with shift %d, are read by the %s with %d: %d× too large, so the %s may send more than the %s can take (drops, retransmissions)",
				w.sender, w.sent, w.reader, w.read, 1<<(w.read-w.sent), w.reader, w.sender))
		}
	}
	if len(parts) == 0 {
		return "every window still reads as it was meant (a shift over 14 counts as 14)"
	}
	return strings.Join(parts, "; ")
}

// missing reports the packets of flow f at point at that travel towards a
// neighbouring point where the connection was not seen at all, when that
// point's capture covers their time, and their receiver never answered
// them. One it acknowledged (at point at) reached it, another way: a
// connection of the firewall's other interfaces in its outside capture,
// or a client's to a host on its own LAN, was ✗ with every packet
// "dropped" (2,040 false errors in 20,000 connections). Where the side
// was answered at all, its pure ACKs, which nothing answers, went that
// way too.
func (pa *Path) missing(at, to int, f *Flow, travel Side) {
	if pa.lacks(to, travel) {
		return
	}
	// A packet of the other side that point to did not see either, while
	// its capture ran: the connection does not pass there (a client on
	// another interface of the firewall), and nothing of it was dropped
	// on the way. A RST does not count: a middlebox refusing the
	// connection sends it in the receiver's name. Nor does a side that
	// point's capture leaves out (Path.OneWay).
	for _, r := range f.Refs {
		if r.Bits&RefFragment == 0 && r.Side() != travel && r.Flags&FlagRST == 0 && !pa.lacks(to, r.Side()) && pa.covers(to, at, r.Time) {
			// Unless it was answered between the points, a proxy
			// ending it there (pathanswered.go).
			if travel == FromClient {
				pa.answeredBetween(at, to, f)
			}
			return
		}
	}
	// No connection passed both points, their clocks unknown against
	// each other (every one of the client's connections ended by a
	// proxy between them): nothing below can be said (covers), but the
	// proxy can.
	if travel == FromClient && math.IsNaN(pa.pairOff(at, to)) {
		pa.answeredBetween(at, to, f)
		return
	}
	answered, first := answeredRefs(f, travel)
	for i, r := range f.Refs {
		if r.Bits&RefFragment != 0 || r.Side() != travel || answered[i] {
			continue
		}
		if first != 0 && r.Len == 0 && r.Flags&(FlagSYN|FlagFIN) == 0 {
			continue
		}
		if pa.covers(to, at, r.Time) {
			pa.add(f, pa.dropped(at, to, r))
		}
	}
}

// answeredRefs returns which of f's segments from side s (by index in
// f.Refs) the other side acknowledged at f's own point, and the first
// frame that acknowledged one (0 if none). An RST does not count: it is
// what a middlebox that refuses the connection sends in the receiver's
// name.
func answeredRefs(f *Flow, s Side) (map[int]bool, uint64) {
	b, _, have := sideBases(f)
	if !have[s] {
		return nil, 0
	}
	var line ackLine
	for _, r := range f.Refs {
		if r.Bits&RefFragment != 0 || r.Side() == s || r.Flags&FlagACK == 0 || r.Flags&FlagRST != 0 {
			continue
		}
		rel := int64(int32(r.Ack - b[s]))
		if n := len(line.upTo); n == 0 || rel > line.upTo[n-1] {
			line.upTo = append(line.upTo, rel)
			line.frame = append(line.frame, r.Frame)
		}
	}
	var out map[int]bool
	var first uint64
	for i, r := range f.Refs {
		if r.Bits&RefFragment != 0 || r.Side() != s || r.Len == 0 && r.Flags&(FlagSYN|FlagFIN) == 0 {
			continue
		}
		// A SYN-ACK of another ISN than the one the side counts from
		// (sideISN: the one acknowledged) was not answered: its number
		// less the base is any number, which read as acknowledged, and
		// a SYN-ACK dropped on the way as missed by the capture. Only a
		// flow with tcp.reused_ports has one (synISNs).
		if r.Flags&FlagSYN != 0 && r.Seq != b[s] && f.Has(CodeReusedPorts) {
			continue
		}
		end := r.Seq - b[s] + r.Len
		if r.Flags&FlagSYN != 0 {
			end++
		}
		if r.Flags&FlagFIN != 0 {
			end++
		}
		if ack, ok := line.by(end); ok {
			if out == nil {
				out = map[int]bool{}
			}
			out[i] = true
			if first == 0 || ack < first {
				first = ack
			}
		}
	}
	return out, first
}

// covers reports whether point to's capture was running when a packet seen
// at point at, at capture time t, would have reached it.
func (pa *Path) covers(to, at int, t int64) bool {
	first, last := pa.span[to][0], pa.span[to][1]
	off := pa.pairOff(at, to)
	if first > last || math.IsNaN(off) {
		return false
	}
	// Only between the first and last packet the capture holds: before
	// its first packet it may not have been running (a second's slack
	// called a connection that ended before the capture started
	// "dropped").
	tt := t + int64(off*1e9)
	return tt >= first && tt <= last
}

// missedThere reports whether point to's capture ran when one of f's
// packets (at point at) that it would have captured passed: of a side it
// does not leave out (Path.OneWay), within its span.
func (pa *Path) missedThere(at, to int, f *Flow) bool {
	for _, r := range f.Refs {
		if r.Bits&RefFragment == 0 && !pa.lacks(to, r.Side()) && pa.covers(to, at, r.Time) {
			return true
		}
	}
	return false
}

func (pa *Path) dropped(at, to int, r PacketRef) PathFinding {
	return PathFinding{Code: PathDropped, Point: at, Frame: r.Frame, RelatedPoint: to}
}

// segName names a segment by its flags, as a person would.
func segName(r PacketRef) string {
	switch {
	case r.Flags&(FlagSYN|FlagACK) == FlagSYN:
		return "SYN"
	case r.Flags&(FlagSYN|FlagACK) == FlagSYN|FlagACK:
		return "SYN-ACK"
	case r.Flags&FlagRST != 0:
		return "RST"
	case r.Flags&FlagFIN != 0:
		return "FIN"
	case r.Len > 0:
		return fmt.Sprintf("data segment (%d bytes)", r.Len)
	}
	return "ACK"
}

// compareFlows compares the same connection at points i and i+1.
func (pa *Path) compareFlows(i, j int, a, b *Flow) {
	// Addresses and ports: NAT.
	if a.Client() != b.Client() || a.Server() != b.Server() {
		var parts []string
		if a.Client() != b.Client() {
			parts = append(parts, fmt.Sprintf("client %s at %s is %s at %s", a.Client(), pa.Points[i], b.Client(), pa.Points[j]))
		}
		if a.Server() != b.Server() {
			parts = append(parts, fmt.Sprintf("server %s at %s is %s at %s", a.Server(), pa.Points[i], b.Server(), pa.Points[j]))
		}
		pa.add(b, PathFinding{Code: PathNAT, Point: j, Frame: b.FirstFrame, RelatedPoint: i, RelatedFrame: a.FirstFrame})
	}
	// ISNs rewritten by a constant offset.
	// A server's SYN-ACKs of several ISNs, one of which both points saw,
	// rewrote nothing (pairISNs).
	if isnsDiffer(a, b, FromClient) || isnsDiffer(a, b, FromServer) || pa.shifts.of(a, b) != [2]uint32{} {
		pa.add(b, PathFinding{Code: PathISNRewritten, Point: j, Frame: b.FirstFrame, RelatedPoint: i, RelatedFrame: a.FirstFrame})
	}

	m := matchSegs(a, b, pa.pairOff(i, j), pa.shifts.of(a, b))
	hops := m.hopsOf(a, b)
	// A device between the points that answered the handshake (a SYN
	// proxy) sent the SYN-ACK at a and the SYN at b: their options,
	// window and TTL are its own, not the ends' changed on the way
	// (pathproxy.go).
	proxy := answeredBetween(a, b, hops, pa.pairOff(i, j))
	if !proxy.on {
		pa.compareOptions(i, j, a, b, &m)
	}
	var arrive arrivals
	flows, pts := [2]*Flow{a, b}, [2]int{i, j}
	bases := [2][2]uint32{m.ba, m.bb}
	index := [2]map[segKey][]int{m.ka, m.kb}
	// upOf is which of the two (0 for a, 1 for b) a side's packets pass
	// first: the client's travel from a to b.
	upOf := func(s Side) int { return int(s) }
	explained := [2]map[int]bool{{}, {}}
	reseg := pa.resegmented(i, j, a, b, &m, &explained)
	var ttlDiff [2][]int
	var ttlEach [2][]ttlChange
	gained, lost := 0, 0 // matched packets that gained and lost TTL
	alikeAll := 0        // matched packets alike in every field, time included
	windowSaid, tosSaid := [2]bool{}, [2]bool{}
	var frag [2]fragmentation
	var transits [2][]transit
	opts := [2]*optCand{{a: a, b: b, i: i, j: j, side: FromClient}, {a: a, b: b, i: i, j: j, side: FromServer}}
	for n, p := range m.pairs {
		ra, rb := a.Refs[p.a], b.Refs[p.b]
		side := ra.Side()
		// up is where the segment was first, down where it went next.
		up, down, fd, ru, rd := i, j, b, ra, rb
		fu, iu, id := a, p.a, p.b
		if side == FromServer {
			up, down, fd, ru, rd = j, i, a, rb, ra
			fu, iu, id = b, p.b, p.a
		}
		if proxy.handshake(a, ra) || proxy.handshake(b, rb) {
			continue
		}
		if !hops[side].unlike(ru, rd) {
			arrive[side] = append(arrive[side], rd)
		}
		if !reseg[n] {
			if rd.Len != ru.Len {
				pa.add(fd, pa.payloadChange(up, down, ru, rd))
			} else if ru.PaySum != rd.PaySum && ru.PaySum != 0 && rd.PaySum != 0 {
				pa.add(fd, pa.payloadRewrite(up, down, ru, rd))
			}
			frag[side].see(fu, iu, fd, id, ru, rd)
			opts[side].see(ru, rd)
			if ru.Len > 0 || ru.Flags&(FlagSYN|FlagFIN) != 0 {
				transits[side] = append(transits[side], transit{up: ru.Time, down: rd.Time, upFrame: ru.Frame, downFrame: rd.Frame})
			}
		}
		if ru.TTL >= rd.TTL {
			ttlDiff[side] = append(ttlDiff[side], int(ru.TTL)-int(rd.TTL))
		}
		ttlEach[side] = append(ttlEach[side], ttlChange{ru, rd})
		switch {
		case ru.TTL < rd.TTL:
			gained++
		case ru.TTL > rd.TTL:
			lost++
		}
		if ra.Time+int64(pa.pairOff(i, j)*1e9) == rb.Time && ra.TTL == rb.TTL && ra.Len == rb.Len && ra.IPLen == rb.IPLen && alike(ra, rb) {
			alikeAll++
		}
		if ru.Window != rd.Window && !windowSaid[side] {
			windowSaid[side] = true
			pa.add(fd, PathFinding{Code: PathWindowChanged, Point: down, Frame: rd.Frame, RelatedPoint: up, RelatedFrame: ru.Frame})
		}
		if ru.TOS != rd.TOS && !tosSaid[side] {
			tosSaid[side] = true
			pa.add(fd, PathFinding{Code: PathTOSChanged, Point: down, Frame: rd.Frame, RelatedPoint: up, RelatedFrame: ru.Frame})
		}
	}
	arrive.sort()
	for _, c := range opts {
		if len(c.pairs) > 0 && !pa.across && pa.swapped[a] != b {
			pa.optCands = append(pa.optCands, c)
		}
	}
	if proxy.on {
		fi := PathFinding{Code: PathSynProxy, Point: i, Frame: a.Handshake.SynAckFrame, RelatedPoint: j, RelatedFrame: b.Handshake.SynAckFrame, Hops: hops[FromServer].hops}
		if r, ok := refOf(a, a.Handshake.SynAckFrame); ok {
			if fwd, ok := arrive.near(FromServer, r.Time); ok {
				fi.OtherFrame = fwd.Frame
			}
		}
		pa.add(a, fi)
	}
	pa.sizes.tallyPassed(i, j, a, b, m.pairs)
	if j == i+1 {
		pa.ttl.vote(i, gained, lost)
		pa.same.add(i, len(m.pairs), alikeAll, len(m.onlyA)+len(m.onlyB))
	}
	for side := range 2 {
		up, down, fd := i, j, b
		if Side(side) == FromServer {
			up, down, fd = j, i, a
		}
		if g := frag[side]; g.n > 0 {
			pa.add(fd, PathFinding{Code: PathFragmented, Point: down, Frame: g.rd.Frame, RelatedPoint: up, RelatedFrame: g.ru.Frame, Count: g.n})
		}
		if n, late, early := reordering(transits[side]); n > 0 {
			pa.add(fd, PathFinding{Code: PathReordered, Point: down, Frame: late.downFrame, RelatedPoint: up, RelatedFrame: late.upFrame, OtherFrame: early.downFrame, Count: n})
		}
	}
	// The packets each point saw of each side.
	var sent [2][2]int
	for x, f := range flows {
		for _, r := range f.Refs {
			if r.Bits&RefFragment == 0 {
				sent[x][r.Side()]++
			}
		}
	}
	// How far each point saw each side's data acknowledged.
	acked := [2][2]ackLine{}
	for x, f := range flows {
		acked[x] = ackLines(f, bases[x])
	}
	// Segments seen at one point only: dropped when the point is where
	// they come from, else copied or injected on the way.
	var unseen [2][]PacketRef // per side, seen downstream only
	// missed holds, per flow, its segments the other point's capture
	// missed though their receiver acknowledged them there
	// (path.uncaptured): evidence that it missed others around then.
	var missed [2][]PacketRef
	type uncapturedCand struct {
		r    PacketRef
		ack  uint64 // the frame at the other point that acknowledged it
		copy uint64 // the frame at the other point of a copy that came
		// resent is the largest of the other segments in which its bytes
		// passed both points (resentSpans), where no copy came.
		resent uint32
	}
	var acknowledgedCopy [2][]uncapturedCand
	resent := resentSpans{flows: flows, pairs: m.pairs, bases: bases}
	// oneWay holds, per flow, its segments of a side the other point's
	// capture left out for this connection (oneWayConns), where this
	// flow says so.
	var oneWay [2][]PacketRef
	for x, only := range [2][]int{m.onlyA, m.onlyB} {
		f, at, other := flows[x], pts[x], pts[1-x]
		// A point that captures each packet twice (a SPAN of both
		// directions, -i any on a router) has copies the flow's own
		// analysis recognised (same IP ID, microseconds apart): one
		// packet, not one dropped or duplicated on the way. But a copy
		// of a packet the point before saw once, which the points after
		// see twice too, a device between them made (copyCheck).
		copies := spanCopies(f, x, m.pairs)
		var check *copyCheck
		for _, idx := range only {
			r := f.Refs[idx]
			side := r.Side()
			if explained[x][idx] {
				continue
			}
			way := false
			if copies[r.Frame] {
				if x == upOf(side) {
					continue
				}
				if check == nil {
					check = &copyCheck{pa: pa, f: f, at: at, other: other, doubles: doublesOwn(f, x, only, copies, upOf)}
				}
				k := keyOfRef(r, bases[x])
				if !check.onTheWay(r, sameLen(f, index[x][k], r.Len)) {
					continue
				}
				way = true
			}
			// Not at a point whose capture leaves the side out: said
			// once for the path (OneWay), not dropped, one-way or
			// injected on each connection. A copy made on the way of a
			// packet the other point holds: that capture was running. A
			// SYN duplicated on the way, 15 µs after the original that
			// was near's first packet, fell before near's capture with
			// the clocks' offset estimated 71 µs off, and went unsaid
			// while its flow's finding named its path.duplicated (review
			// diff21, defect 3).
			covered := pa.covers(other, at, r.Time)
			if way && !covered {
				covered = slices.ContainsFunc(index[1-x][keyOfRef(r, bases[x])], func(c int) bool { return flows[1-x].Refs[c].Len == r.Len })
			}
			if !covered || pa.lacks(other, side) {
				continue
			}
			// Nor where the other point's capture left the side out for
			// this connection, its receiver's ACKs there acknowledging
			// it: said once, on the connection.
			if w := pa.connOneWay[flows[1-x]]; w != nil && w[side].ack != 0 {
				if w[side].say == at {
					oneWay[x] = append(oneWay[x], r)
				}
				continue
			}
			if x == upOf(side) {
				// Not at the next point, but its receiver acknowledged
				// it there, and no copy of it reached that point: the
				// capture there missed it (a busy firewall's tcpdump
				// drops packets), or it went another way. It was called
				// dropped, against that point's own ack_unseen.
				k := keyOfRef(r, bases[x])
				sameLen := func(c int) bool { return flows[1-x].Refs[c].Len == r.Len }
				// A SYN or SYN-ACK counts as one byte too: the other
				// side's ACK of it at the next point is its answer (a
				// one-way capture there misses the SYN-ACK, not the
				// client's ACK of it).
				end := k.rel + r.Len
				if r.Flags&(FlagSYN|FlagFIN) != 0 {
					end++
				}
				// A SYN-ACK of another ISN than the one the numbers
				// count from (pairISNs: the one both points saw) is
				// answered by nothing: its relative number is any
				// number, which read as acknowledged, and the first
				// SYN-ACK of a server under SYN load, dropped on the
				// way, as missed by the capture.
				otherISN := r.Flags&FlagSYN != 0 && r.Seq != bases[x][side] && f.Has(CodeReusedPorts)
				if (r.Len > 0 || r.Flags&(FlagSYN|FlagFIN) != 0) && !otherISN {
					if ack, ok := acked[1-x][side].by(end); ok {
						if !slices.ContainsFunc(index[1-x][k], sameLen) {
							// Its bytes passed both points in other
							// segments (sent again smaller, after a
							// router refused it as too big: PMTUD):
							// what its receiver acknowledged came in
							// those, not in it. Decided with the
							// copies below.
							if n := resent.of(x, r, k.rel); n > 0 {
								acknowledgedCopy[x] = append(acknowledgedCopy[x], uncapturedCand{r: r, ack: ack, resent: n})
								continue
							}
							pa.add(f, PathFinding{Code: PathUncaptured, Point: at, Frame: r.Frame, RelatedPoint: other, RelatedFrame: ack})
							missed[x] = append(missed[x], r)
							continue
						}
						// A copy came (the original, lost on the
						// receiving host after its capture point), and the
						// receiver acknowledged the bytes: decided once the
						// capture's other misses are known.
						cp := index[1-x][k][slices.IndexFunc(index[1-x][k], sameLen)]
						acknowledgedCopy[x] = append(acknowledgedCopy[x], uncapturedCand{r: r, ack: ack, copy: flows[1-x].Refs[cp].Frame})
						continue
					}
				}
				pa.add(f, pa.droppedWhy(f, at, other, r, 0))
				continue
			}
			// A copy of the same length at the other point (a pure ACK
			// and the data after it have one key), which it came after,
			// having lost the side's hops of TTL: one that came first,
			// or with another TTL, a device between them sent (notCopy).
			copies := index[1-x][keyOfRef(r, bases[x])]
			if k := slices.IndexFunc(copies, func(k int) bool {
				ro := flows[1-x].Refs[k]
				return ro.Len == r.Len && !notCopy(ro, r, side, hops[side], pa.pairOff(i, j))
			}); k >= 0 {
				ro := flows[1-x].Refs[copies[k]]
				pa.add(f, PathFinding{Code: PathDuplicated, Point: at, Frame: r.Frame, RelatedPoint: other, RelatedFrame: ro.Frame})
				if way {
					check.said()
				}
				continue
			}
			unseen[side] = append(unseen[side], r)
		}
	}
	// A copy of a segment seen upstream only, another copy of which came
	// and whose bytes the receiver acknowledged: where the capture
	// downstream missed other acknowledged segments within a second, it
	// missed this one too (the first copy lost on the receiving host after
	// its capture point, this one the one taken); else it was dropped on
	// the way, the receiver having the bytes already (a spurious
	// retransmission) or from a later copy.
	// The same for a segment whose bytes passed both points in other
	// segments, unless an ICMP error at its point says a router refused
	// it as too big (droppedWhy).
	for x, cands := range acknowledgedCopy {
		f, at, other := flows[x], pts[x], pts[1-x]
		for _, c := range cands {
			fi := pa.droppedWhy(f, at, other, c.r, c.resent)
			if _, ok := nearestRef(missed[x], c.r.Time, int64(time.Second)); ok && fi.OtherFrame == 0 {
				fi = PathFinding{Code: PathUncaptured, Point: at, Frame: c.r.Frame, RelatedPoint: other, RelatedFrame: c.ack, OtherFrame: c.copy}
			}
			pa.add(f, fi)
		}
	}
	for x, rs := range oneWay {
		if len(rs) > 0 {
			ack := pa.connOneWay[flows[1-x]][rs[0].Side()].ack
			pa.add(flows[x], PathFinding{Code: PathOneWay, Point: pts[x], Frame: rs[0].Frame, RelatedPoint: pts[1-x], RelatedFrame: ack, Count: len(rs)})
		}
	}
	for side, rs := range unseen {
		if len(rs) == 0 {
			continue
		}
		x := 1 - upOf(Side(side))
		f, at, other := flows[x], pts[x], pts[1-x]
		// None of a side's packets at the point they should have passed
		// first: they took another way (asymmetric routing), or that
		// capture leaves them out. Said once, not as a forged packet
		// each. A few (a RST a middlebox forged) stay injected.
		if sent[1-x][side] == 0 && len(rs) >= 3 {
			fi := PathFinding{Code: PathOneWay, Point: at, Frame: rs[0].Frame, RelatedPoint: other, Count: len(rs)}
			pa.add(f, fi)
			continue
		}
		for _, r := range rs {
			// The device that answered the handshake sent it (its own
			// ACK to the client), with its own TTL: said with the
			// handshake, not as a forged packet.
			fwd, known := arrive.near(Side(side), r.Time)
			if proxy.own(r, Side(side), fwd.TTL) {
				fi := PathFinding{Code: PathSynProxy, Point: at, Frame: r.Frame, RelatedPoint: other}
				if known {
					fi.OtherFrame = fwd.Frame
				}
				pa.add(f, fi)
				continue
			}
			// Where the other point's capture missed acknowledged
			// segments of this connection within a second, it missed
			// this one too, most likely (a tcpdump ring overflowing on
			// a busy host): the server's own ACKs in such a gap were
			// "injected", a warning, beside its data "uncaptured". A
			// RST stays injected: that is what a middlebox forges.
			if near, ok := nearestRef(missed[x], r.Time, int64(time.Second)); ok && r.Flags&FlagRST == 0 {
				pa.add(f, PathFinding{Code: PathUncaptured, Point: at, Frame: r.Frame, RelatedPoint: other, OtherFrame: near.Frame, Count: len(missed[x])})
				continue
			}
			// Its TTL not the one the side's forwarded packets arrive
			// with: a device between the points sent it (named, with
			// the forwarded packet nearest in time).
			fi := PathFinding{Code: PathInjected, Point: at, Frame: r.Frame, RelatedPoint: other}
			if known && fwd.TTL != r.TTL {
				fi.OtherFrame = fwd.Frame
			}
			pa.add(f, fi)
		}
	}
	for side, d := range ttlDiff {
		hops := 0
		if len(d) > 0 {
			slices.Sort(d)
			hops = d[len(d)/2]
		}
		up, down, f := i, j, b
		if Side(side) == FromServer {
			up, down, f = j, i, a
		}
		fi := PathFinding{Code: PathTTL, Point: down, Frame: f.FirstFrame, RelatedPoint: up, Hops: hops}
		if n, odd := oddTTL(ttlEach[side], hops); n > 0 {
			fi.Count, fi.RelatedFrame, fi.OtherFrame = n, odd.up.Frame, odd.down.Frame
		}
		if hops != 0 || fi.Count > 0 {
			pa.add(f, fi)
		}
	}
	sortFindings(pa.Findings[a])
	sortFindings(pa.Findings[b])
}

func sortFindings(fs []PathFinding) {
	slices.SortStableFunc(fs, func(x, y PathFinding) int { return cmp.Compare(x.Frame, y.Frame) })
}

// payloadChange is the finding on a segment whose payload length changed
// between up (where it was first) and down, with the bytes added when
// they can be read back.
func (pa *Path) payloadChange(up, down int, ru, rd PacketRef) PathFinding {
	code := PathPayloadAdded
	n := int(rd.Len) - int(ru.Len)
	if n < 0 {
		code, n = PathPayloadRemoved, -n
	}
	fi := PathFinding{Code: code, Point: down, Frame: rd.Frame, RelatedPoint: up, RelatedFrame: ru.Frame, Bytes: n}
	if code == PathPayloadAdded {
		fi.Data = pa.payloadTail(down, rd, int(ru.Len))
	}
	return fi
}

// payloadRewrite is the finding on a segment whose payload kept its length
// but not its bytes between up and down (their sums differ): an ALG or
// proxy rewriting text in place, a device corrupting data and fixing the
// checksum. The bytes are read back at both points to say which changed.
func (pa *Path) payloadRewrite(up, down int, ru, rd PacketRef) PathFinding {
	fi := PathFinding{Code: PathPayloadChanged, Point: down, Frame: rd.Frame, RelatedPoint: up, RelatedFrame: ru.Frame}
	was, now := pa.payloadTail(up, ru, 0), pa.payloadTail(down, rd, 0)
	if len(was) != len(now) || len(now) == 0 {
		return fi
	}
	first, last := -1, -1
	for k := range now {
		if now[k] != was[k] {
			if first < 0 {
				first = k
			}
			last = k
			fi.Bytes++
		}
	}
	if first < 0 {
		// Read back alike: the files changed since they were read.
		return fi
	}
	end := min(last+1, first+maxChangedBytes)
	fi.At, fi.Count, fi.Was, fi.Data = first, last+1-first, slices.Clone(was[first:end]), slices.Clone(now[first:end])
	return fi
}

// maxChangedBytes bounds the bytes a path.payload_changed keeps of each
// copy: from the first that differs, up to the last or this many.
const maxChangedBytes = 64

// payloadTail reads a packet back and returns its payload past the first
// skip bytes, or nil when it cannot be read.
func (pa *Path) payloadTail(point int, r PacketRef, skip int) []byte {
	rr := pa.points[point].Reread
	if rr == nil {
		return nil
	}
	rec, err := rr(r.Offset, r.Frame)
	if err != nil {
		return nil
	}
	var p Packet
	NewDecoder().Decode(rec, &p)
	if skip > len(p.Payload) {
		return nil
	}
	return append([]byte(nil), p.Payload[skip:]...)
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// compareOptions compares the options of the SYN and the SYN-ACK between
// two points: MSS clamping, and any other option that came or went.
func (pa *Path) compareOptions(i, j int, a, b *Flow, m *segMatch) {
	ha, hb := &a.Handshake, &b.Handshake
	type syn struct {
		have     bool
		oa, ob   SideOptions
		fa, fb   uint64
		fromSide Side
	}
	for _, s := range []syn{
		{ha.HaveSyn && hb.HaveSyn, ha.Client, hb.Client, ha.SynFrame, hb.SynFrame, FromClient},
		{ha.HaveSynAck && hb.HaveSynAck, ha.Server, hb.Server, ha.SynAckFrame, hb.SynAckFrame, FromServer},
	} {
		// The options kept are the first SYN's (SYN-ACK's) at each
		// point: compared only when those are one packet. A SYN lost
		// before the next point, and retried with fewer options (macOS
		// drops them on retries), changed nothing on the way.
		if !s.have || !m.pairedFrames(a, b, s.fa, s.fb) {
			continue
		}
		up, down, ou, od, fu, fd, flow := i, j, s.oa, s.ob, s.fa, s.fb, b
		if s.fromSide == FromServer {
			up, down, ou, od, fu, fd, flow = j, i, s.ob, s.oa, s.fb, s.fa, a
		}
		// An option absent where the capture stopped inside the options
		// (SideOptions.Cut) is unknown there, not missing: a point
		// captured with a short snap length changes nothing.
		unknown := func(has func(o SideOptions) bool) bool {
			return ou.Cut && !has(ou) || od.Cut && !has(od)
		}
		if (ou.HasMSS != od.HasMSS || ou.MSS != od.MSS) && !unknown(func(o SideOptions) bool { return o.HasMSS }) {
			pa.add(flow, PathFinding{Code: PathMSSChanged, Point: down, Frame: fd, RelatedPoint: up, RelatedFrame: fu})
		}
		changed := (ou.HasWScale != od.HasWScale || ou.WScale != od.WScale) && !unknown(func(o SideOptions) bool { return o.HasWScale }) ||
			ou.SACKPerm != od.SACKPerm && !unknown(func(o SideOptions) bool { return o.SACKPerm }) ||
			ou.HasTS != od.HasTS && !unknown(func(o SideOptions) bool { return o.HasTS }) ||
			ou.TFO != od.TFO && !unknown(func(o SideOptions) bool { return o.TFO })
		if changed {
			pa.add(flow, PathFinding{Code: PathOptionsChanged, Point: down, Frame: fd, RelatedPoint: up, RelatedFrame: fu})
		}
	}
}

// PathRecord is the "path" object of a flow's JSON record.
type PathRecord struct {
	ID     int      `json:"id"`
	Points []string `json:"points"`
	// OneWay is the points whose capture leaves one side out (Path.OneWay),
	// on every record as the points are: a fact about the path, not about
	// the flow, whose findings leave that side out.
	OneWay []OneWayRecord `json:"one_way,omitempty"`
}

// Decorate adds what the path knows of f to its JSON record: the path id
// and points, the path findings (with their capture points), and the
// status they imply.
func (pa *Path) Decorate(r *Record, f *Flow) {
	c := pa.conn[f]
	if c == nil {
		return
	}
	r.Path = &PathRecord{ID: c.ID, Points: pa.Points, OneWay: pa.oneWayRec}
	// The flow's own findings, in order first (Flow.Record): a copy a
	// device on the way made is said as such.
	if way := pa.wayCopy[f]; way != nil && len(r.Findings) >= len(f.Findings) {
		for k, fi := range f.Findings {
			if _, ok := way[fi.Frame]; ok && fi.IsCopy() {
				r.Findings[k].Message = pa.FlowMessage(f, fi)
			}
		}
	}
	worst := Info
	for _, fi := range pa.Findings[f] {
		rf := RecordFinding{
			Code: fi.Code.String(), Severity: fi.Code.Severity().String(), Frame: fi.Frame,
			RelatedFrame: fi.RelatedFrame, Message: fi.Message, Capture: pa.Points[fi.Point],
			Bytes: fi.Bytes, Seconds: fi.Seconds, Hops: fi.Hops,
		}
		if fi.RelatedPoint >= 0 {
			rf.RelatedCapture = pa.Points[fi.RelatedPoint]
		}
		if fi.Data != nil {
			rf.Data = hex.EncodeToString(fi.Data)
		}
		if fi.Was != nil {
			rf.Was, rf.Offset = hex.EncodeToString(fi.Was), ptr(fi.At)
		}
		if (fi.Code == PathDropped || fi.Code == PathTooBig) && fi.OtherFrame != 0 {
			rf.MTU, rf.ICMPFrame = fi.MTU, fi.OtherFrame
		}
		r.Findings = append(r.Findings, rf)
		worst = max(worst, fi.Code.Severity())
	}
	slices.SortStableFunc(r.Findings, func(x, y RecordFinding) int { return cmp.Compare(x.Frame, y.Frame) })
	if worst == Error {
		r.Status = StatusInvalid.String()
	} else if worst == Warning && r.Status == StatusOK.String() {
		r.Status = StatusWarning.String()
	}
}

// ExportComments adds the path findings of point p's flows ids to the
// comments of their packets among items (Result.ExportItems of those
// flows), as "synscope: path.dropped: message": the pcapng an engineer
// hands on carried the flows' own findings and none of the path's
// diagnosis.
func (pa *Path) ExportComments(p int, ids []int, items []capture.ExportItem) {
	if p < 0 || p >= len(pa.points) {
		return
	}
	res := pa.points[p].Result
	byFrame := map[uint64][]string{}
	reworded := map[string]string{} // a flow's comment on a copy made on the way
	for _, id := range ids {
		f := res.Flow(id)
		if f == nil {
			continue
		}
		for _, fi := range pa.Findings[f] {
			byFrame[fi.Frame] = append(byFrame[fi.Frame], "synscope: "+fi.Code.String()+": "+fi.Message)
		}
		for _, fi := range f.Findings {
			if _, ok := pa.wayCopy[f][fi.Frame]; ok && fi.IsCopy() {
				head := "synscope: " + fi.Code.String() + ": "
				reworded[head+f.Message(fi)] = head + pa.FlowMessage(f, fi)
			}
		}
	}
	for i := range items {
		for k, c := range items[i].Comments {
			if w, ok := reworded[c]; ok {
				items[i].Comments[k] = w
			}
		}
		if c := byFrame[items[i].Frame]; c != nil {
			items[i].Comments = slices.Concat(items[i].Comments, c)
			delete(byFrame, items[i].Frame)
		}
	}
}

// Status returns a flow's status with its path findings counted in.
func (pa *Path) Status(f *Flow) Status {
	st := f.Status
	for _, fi := range pa.Findings[f] {
		switch {
		case fi.Code.Severity() == Error:
			st = StatusInvalid
		case fi.Code.Severity() == Warning && st == StatusOK:
			st = StatusWarning
		}
	}
	return st
}

// WriteJSON writes one JSON record per flow, point by point and in id
// order within each, each with its path and path findings.
func (pa *Path) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for _, p := range pa.points {
		for _, f := range p.Result.Flows {
			r := f.Record(p.Name)
			r.InputEndsEarly = p.Result.EndsEarly()
			pa.Decorate(&r, f)
			if err := enc.Encode(r); err != nil {
				return err
			}
		}
	}
	return nil
}

// clockDifference says a clock offset in seconds (a PathFinding's Seconds)
// in words: "642.249 s (10m42s) behind", "0.250 s ahead of", "within 1 ms
// of".
func clockDifference(seconds float64) string {
	if math.Abs(seconds) < 0.0005 {
		return "within 1 ms of"
	}
	return clockSpan(math.Abs(seconds)) + " " + aheadBehind(seconds)
}

// SegmentName names a segment by its flags, as a person would: "SYN",
// "SYN-ACK", "RST", "FIN", "data segment (127 bytes)", "ACK".
func SegmentName(r PacketRef) string { return segName(r) }

// LadderRow is one segment of a connection as seen at each capture point:
// per point, the index of the segment in that point's flow's Refs, -1
// where it was not seen.
type LadderRow struct {
	Side Side
	Refs []int
}

const _ = uint(32 - numPathCodes) // the view's rows hold one bit per path code in a uint32
