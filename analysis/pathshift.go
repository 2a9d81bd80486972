package analysis

import (
	"math"
	"net/netip"
	"slices"
)

// shifts holds, for joined flows (a, b) of neighbouring points whose
// numbers a middlebox rewrote and which did not both see the handshake,
// how much each side's sequence numbers at b exceed those at a
// (joinByShift). Pairs joined otherwise count from their own ISNs or from
// the same numbers, and have none.
type shifts map[[2]*Flow][2]uint32

func (s shifts) of(a, b *Flow) [2]uint32 { return s[[2]*Flow{a, b}] }

// shiftSegments is how many of a flow's first segments (with ACK) a join
// by shift compares.
const shiftSegments = 64

// joinByShift joins the flows still left over, with the same addresses
// and ports at both points or (behind NAT) sharing numbers, whose
// segments carry one side's
// numbers unchanged and the other's moved by a constant (an ISN-
// randomising firewall such as an ASA), where one point did not see the
// handshake (its capture started late): there were no ISNs to compare,
// and joinBySeq needs both numbers equal. Three different segments must
// agree on one constant, and no other constant may come close.
func joinByShift(a, b *Result, joined map[*Flow]*Flow, sh shifts) {
	fa, fb, _ := leftOver(a, b, joined)
	if len(fa) == 0 || len(fb) == 0 {
		return
	}
	type ends struct{ client, server string }
	byEnds := map[ends][]*Flow{}
	for _, g := range fb {
		k := ends{g.Client().String(), g.Server().String()}
		byEnds[k] = append(byEnds[k], g)
	}
	used := map[*Flow]bool{}
	for _, f := range fa {
		var (
			best     *Flow
			bestSh   [2]uint32
			bestVote int
		)
		for _, g := range byEnds[ends{f.Client().String(), f.Server().String()}] {
			if used[g] {
				continue
			}
			if s, n, ok := shiftBetween(f, g); ok && n > bestVote {
				best, bestSh, bestVote = g, s, n
			}
		}
		if best != nil {
			used[best] = true
			joined[f] = best
			sh[[2]*Flow{f, best}] = bestSh
		}
	}
	// Behind NAT as well (an ASA translates the client and randomises its
	// ISN by default), the ends differ at the two points: the connection
	// was two, each "seen at one point only". The candidates then come
	// from the numbers: those of the side left unchanged are the same at
	// both points, so a flow at b is one when its first segments carry
	// one of the numbers of f's. A number many flows share (a generator's
	// fixed ISN) names none of them. Two candidates as good
	// join neither.
	byNum := map[uint32][]*Flow{}
	for _, g := range fb {
		if !used[g] {
			for _, n := range firstNumbers(g) {
				byNum[n] = append(byNum[n], g)
			}
		}
	}
	for _, f := range fa {
		if _, ok := joined[f]; ok {
			continue
		}
		cands := map[*Flow]bool{}
		for _, n := range firstNumbers(f) {
			if gs := byNum[n]; len(gs) <= maxFlowsANumber {
				for _, g := range gs {
					cands[g] = !used[g]
				}
			}
		}
		var (
			best     *Flow
			bestSh   [2]uint32
			bestVote int
			tie      bool
		)
		for g, free := range cands {
			if !free {
				continue
			}
			if s, n, ok := shiftBetween(f, g); ok {
				switch {
				case n > bestVote:
					best, bestSh, bestVote, tie = g, s, n, false
				case n == bestVote:
					tie = true
				}
			}
		}
		if best != nil && !tie {
			used[best] = true
			joined[f] = best
			sh[[2]*Flow{f, best}] = bestSh
		}
	}
}

// maxFlowsANumber is how many flows at a point may carry one number for
// it to name them as candidates of a join by shift.
const maxFlowsANumber = 8

// firstNumbers returns the distinct sequence and ACK numbers of f's first
// segments that joinByShift compares (shiftBetween's), of both sides: the
// unchanged side's numbers are in its own segments' sequence numbers and
// in the other's ACKs, the only place a point that captured one
// direction has them.
func firstNumbers(f *Flow) []uint32 {
	var out []uint32
	n := 0
	for _, r := range f.Refs {
		if r.Bits&RefFragment != 0 || r.Flags&FlagACK == 0 {
			continue
		}
		for _, v := range [2]uint32{r.Seq, r.Ack} {
			if !slices.Contains(out, v) {
				out = append(out, v)
			}
		}
		if n++; n == shiftSegments {
			break
		}
	}
	return out
}

// shiftBetween finds the constant by which one side's numbers at g exceed
// those at f, the other side's being equal: each looks up the other's
// first segments (either capture may have started later). It returns the
// shift, how many different segments agree on it, and whether that is
// enough.
func shiftBetween(f, g *Flow) ([2]uint32, int, bool) {
	type shift struct {
		side Side // whose numbers moved
		d    uint32
	}
	votes := map[shift]map[[2]uint32]bool{}
	look := func(from, into *Flow, sign uint32) {
		type num struct {
			side    Side
			isAck   bool
			v       uint32
			already bool
		}
		index := map[num][]PacketRef{}
		n := 0
		for _, r := range into.Refs {
			if r.Bits&RefFragment != 0 || r.Flags&FlagACK == 0 {
				continue
			}
			index[num{side: r.Side(), v: r.Seq}] = append(index[num{side: r.Side(), v: r.Seq}], r)
			index[num{side: r.Side(), isAck: true, v: r.Ack}] = append(index[num{side: r.Side(), isAck: true, v: r.Ack}], r)
			if n++; n == shiftSegments {
				break
			}
		}
		for _, r := range from.Refs {
			if r.Bits&RefFragment != 0 || r.Flags&FlagACK == 0 {
				continue
			}
			side := r.Side()
			// The same seq: the ACK (the other side's number) moved.
			for _, o := range index[num{side: side, v: r.Seq}] {
				if d := (o.Ack - r.Ack) * sign; d != 0 && o.Len == r.Len {
					k := shift{1 - side, d}
					if votes[k] == nil {
						votes[k] = map[[2]uint32]bool{}
					}
					votes[k][[2]uint32{r.Seq, r.Ack}] = true
				}
			}
			// The same ACK: the seq (the sender's number) moved.
			for _, o := range index[num{side: side, isAck: true, v: r.Ack}] {
				if d := (o.Seq - r.Seq) * sign; d != 0 && o.Len == r.Len {
					k := shift{side, d}
					if votes[k] == nil {
						votes[k] = map[[2]uint32]bool{}
					}
					votes[k][[2]uint32{r.Seq, r.Ack}] = true
				}
			}
		}
	}
	look(f, g, 1)
	// g's numbers less f's: looking f's first segments up from g's, the
	// difference is the other way round.
	look(g, f, ^uint32(0))
	var best, second int
	var won shift
	for k, v := range votes {
		switch n := len(v); {
		case n > best:
			best, second, won = n, best, k
		case n > second:
			second = n
		}
	}
	if best < 3 || second*2 >= best {
		return [2]uint32{}, 0, false
	}
	var out [2]uint32
	out[won.side] = won.d
	return out, best, true
}

// shiftsOfHalfSeen finds the shift of joined pairs where one point saw a
// side's ISN and the other did not (its capture started between the SYN
// and the SYN-ACK, or after the handshake), joined by the other side's
// ISN or shape: the side's numbers were taken as unchanged, and with an
// ISN-randomising firewall between the points every segment of that side
// was "dropped" at one point and "injected" at the other. When the
// segments say that side's numbers moved by one constant (shiftBetween),
// the pair counts with it, as joinByShift's do.
func (pa *Path) shiftsOfHalfSeen(joined map[*Flow]*Flow) {
	for f, g := range joined {
		if pa.shifts.of(f, g) != [2]uint32{} {
			continue
		}
		_, isnF, _ := sideBases(f)
		_, isnG, _ := sideBases(g)
		if isnF == isnG {
			continue
		}
		if s, _, ok := shiftBetween(f, g); ok {
			pa.shifts[[2]*Flow{f, g}] = s
		}
	}
}

// joinByOneISN joins the flows still left over that share one side's ISN
// and that side's address and port (the side a middlebox left alone),
// where that is the only candidate either way and, with the clock offset
// off known (NaN when not), the flows start within a second of each other
// with it taken out. The seed's fault behind an ASA (NAT, the client's
// ISN randomised): the SYN-ACK grew on the way and the client's ACK was
// dropped, so the shape join found too few segments in common, and the
// connection was two, each "seen at one point only", its SYN called
// dropped between points that had both seen it. A 32-bit ISN chosen at
// random, from the same server, is the same connection.
func joinByOneISN(a, b *Result, joined map[*Flow]*Flow, off float64) {
	fa, fb, _ := leftOver(a, b, joined)
	if len(fa) == 0 || len(fb) == 0 {
		return
	}
	type key struct {
		side Side
		isn  uint32
		end  netip.AddrPort
	}
	// Each ISN of a side whose SYNs (SYN-ACKs) carried several
	// (allISNs): the point that missed the first saw the second only.
	keys := func(f *Flow) []key {
		var k []key
		var buf [maxISNs]uint32
		for _, v := range allISNs(f, FromServer, buf[:0]) {
			k = append(k, key{FromServer, v, f.Server()})
		}
		for _, v := range allISNs(f, FromClient, buf[:0]) {
			k = append(k, key{FromClient, v, f.Client()})
		}
		return k
	}
	count := func(fs []*Flow) map[key][]*Flow {
		m := map[key][]*Flow{}
		for _, f := range fs {
			for _, k := range keys(f) {
				m[k] = append(m[k], f)
			}
		}
		return m
	}
	inA, inB := count(fa), count(fb)
	taken := map[*Flow]bool{}
	for _, f := range fa {
		var match *Flow
		for _, k := range keys(f) {
			if len(inA[k]) != 1 || len(inB[k]) != 1 {
				continue
			}
			g := inB[k][0]
			if match != nil && match != g {
				match = nil // the two ISNs name two flows
				break
			}
			match = g
		}
		if match == nil || taken[match] {
			continue
		}
		if !math.IsNaN(off) && math.Abs(float64(match.Start-f.Start)/1e9-off) > 1 {
			continue
		}
		taken[match] = true
		joined[f] = match
	}
}

// joinByAckOfISN joins left-over flows where one point saw the SYN-ACK
// and the other captured the client's direction only (a one-way SPAN):
// there the server's ISN is known only from the client's ACKs, which the
// seed's fault moves (the SYN-ACK grew by 2 bytes, the client
// acknowledged ISN+3), so no ISN, shape or shift join found the flow, and
// its SYN was "dropped" at one point while the other held it. A flow
// whose first ACK from the client lies within 64 KB after the other's
// server ISN, to the same server address and port, within a second with
// the clock offset known, the only candidate either way, is the same
// connection. With the offset not known (nothing else joined the two
// points), within 64 bytes: what a SYN-ACK grown on the way moves it by.
func joinByAckOfISN(a, b *Result, joined map[*Flow]*Flow, off float64) {
	fa, fb, _ := leftOver(a, b, joined)
	if len(fa) == 0 || len(fb) == 0 {
		return
	}
	window := uint32(1 << 16)
	if math.IsNaN(off) {
		window = 64
	}
	// firstAck is the ACK number of f's first segment from the client
	// that carries one, when f saw no SYN-ACK.
	firstAck := func(f *Flow) (uint32, bool) {
		if f.Handshake.HaveSynAck {
			return 0, false
		}
		for _, r := range f.Refs {
			if r.Bits&RefFragment == 0 && r.Side() == FromClient && r.Flags&FlagACK != 0 && r.Flags&FlagRST == 0 {
				return r.Ack, true
			}
		}
		return 0, false
	}
	fits := func(withAck, withISN *Flow) bool {
		// Both saw the SYN: each side's numbers then count from their
		// own ISNs at both points (a flow that started late, without
		// one, is joinByShift's, which refuses an ambiguous shift).
		ack, ok := firstAck(withAck)
		if !ok || !withISN.Handshake.HaveSynAck || !withAck.Handshake.HaveSyn || !withISN.Handshake.HaveSyn || withAck.Server() != withISN.Server() {
			return false
		}
		var buf [maxISNs]uint32
		return slices.ContainsFunc(allISNs(withISN, FromServer, buf[:0]), func(isn uint32) bool { return ack-(isn+1) < window })
	}
	// Candidates by server endpoint, each way.
	byServer := map[netip.AddrPort][]*Flow{}
	for _, g := range fb {
		byServer[g.Server()] = append(byServer[g.Server()], g)
	}
	wanted := map[*Flow]int{} // how many flows at a want each flow at b
	pick := map[*Flow]*Flow{}
	for _, f := range fa {
		var match *Flow
		n := 0
		for _, g := range byServer[f.Server()] {
			d := float64(g.Start-f.Start)/1e9 - off
			if math.Abs(d) > 1 && !math.IsNaN(off) || !(fits(f, g) || fits(g, f)) {
				continue
			}
			match, n = g, n+1
		}
		if n == 1 {
			pick[f] = match
			wanted[match]++
		}
	}
	for f, g := range pick {
		if wanted[g] == 1 {
			joined[f] = g
		}
	}
}
