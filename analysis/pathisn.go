package analysis

// This file chooses which ISN a side's numbers count from at a point, for
// joining and pairing, where its SYNs (SYN-ACKs) there carried more than
// one.
//
// A server under SYN load (SYN cookies) answers a retried SYN with a
// SYN-ACK of a new ISN (tcp.reused_ports, "SYN-ACK with a new ISN"). With
// the first SYN-ACK dropped between two points, the point nearer the
// server saw both ISNs and the other the second only. Taking each point's
// first SYN-ACK (Handshake.ServerISN) read as an ISN rewritten between
// them, every later segment of the server was keyed on a different
// number at each point ("dropped" at one, "injected" at the other), and
// the SYN-ACK that got through was named dropped while the one dropped
// was not (review realpath2 s3cookie: 4 of 20 connections; s3v6). A
// client's SYN with a new ISN starts a new flow (reuseSYN, as Wireshark),
// so in practice only the server's side has several; the rule is the
// same for both.

// maxISNs is how many different ISNs of one side a flow's list holds: a
// server answers a handful of retried SYNs at most. A client retrying more
// often (tcp_syn_retries 8 and up, a SYN flood tool) gets more; the list
// then keeps the first, the one acknowledged and the latest (isnList.add).
const maxISNs = 8

// isnList is the distinct ISNs one side's SYNs (SYN-ACKs) carried at a
// point, in capture order, and which of them (index, -1 for none) the
// other side acknowledged first there (its ACK is that ISN+1).
type isnList struct {
	v     [maxISNs]uint32
	n     int
	acked int
}

// add appends v. A full list drops the oldest but the first (the
// handshake's, Handshake.ServerISN) and the one acknowledged: the SYN-ACK
// that got through is the last the server sent before the client's ACK,
// and with the list stopping at 8 the 9th ISN, the one both points saw,
// was missing at the point that saw them all; the pair shared no ISN and
// read as rewritten, with a clock offset of the second between two SYNs
// and every later segment dropped at one point and injected at the other
// (review diff21, defect 2). Kept in capture order; a flood of new ISNs
// costs maxISNs a SYN-ACK (3000 in 0.2 s).
func (l *isnList) add(v uint32) {
	if l.n < maxISNs {
		l.v[l.n] = v
		l.n++
		return
	}
	k := 1
	if l.acked == 1 {
		k = 2
	}
	copy(l.v[k:], l.v[k+1:])
	l.v[maxISNs-1] = v
	if l.acked > k {
		l.acked--
	}
}

func (l *isnList) has(v uint32) bool {
	for _, x := range l.v[:l.n] {
		if x == v {
			return true
		}
	}
	return false
}

// own returns the ISN the side's numbers count from at the point alone:
// the one acknowledged, else the last (Wireshark moves its base to each
// SYN-ACK with a new ISN).
func (l *isnList) own() uint32 {
	if l.acked >= 0 {
		return l.v[l.acked]
	}
	return l.v[l.n-1]
}

// synISNs returns the ISNs side s's SYNs (SYN-ACKs) carried in f; ok is
// false when f saw none. Only a flow with tcp.reused_ports can have more
// than its handshake's first: the others' refs are not read.
func synISNs(f *Flow, s Side) (l isnList, ok bool) {
	h := &f.Handshake
	l.acked = -1
	switch {
	case s == FromClient && h.HaveSyn:
		l.v[0] = h.ClientISN
	case s == FromServer && h.HaveSynAck:
		l.v[0] = h.ServerISN
	default:
		return l, false
	}
	l.n = 1
	if !f.Has(CodeReusedPorts) {
		return l, true
	}
	want := uint8(FlagSYN)
	if s == FromServer {
		want |= FlagACK
	}
	for _, r := range f.Refs {
		if r.Bits&RefFragment != 0 {
			continue
		}
		if r.Side() == s {
			if r.Flags&(FlagSYN|FlagACK) == want && !l.has(r.Seq) {
				l.add(r.Seq)
			}
			continue
		}
		if l.acked < 0 && r.Flags&FlagACK != 0 && r.Flags&FlagRST == 0 {
			for k, v := range l.v[:l.n] {
				if r.Ack == v+1 {
					l.acked = k
					break
				}
			}
		}
	}
	return l, true
}

// sideISN returns the ISN side s's numbers count from at f's point alone
// (isnList.own); ok is false when f saw no SYN (SYN-ACK) of s.
func sideISN(f *Flow, s Side) (uint32, bool) {
	l, ok := synISNs(f, s)
	if !ok {
		return 0, false
	}
	return l.own(), true
}

// pairISNs returns the ISNs side s's numbers count from at two points'
// flows a and b of one connection, both of which saw one (ok false
// otherwise). Where the points share one of their ISNs, both count from
// it: the SYN-ACK each saw is one packet, and one seen at one point only
// was dropped between them (or injected), not rewritten. Of several
// shared, the one the other side acknowledged (at a, else at b), else the
// last. Where they share none, each counts from its own: a middlebox
// rewrote the numbers by a constant (an ASA's ISN randomisation).
func pairISNs(a, b *Flow, s Side) (ia, ib uint32, ok bool) {
	la, okA := synISNs(a, s)
	lb, okB := synISNs(b, s)
	if !okA || !okB {
		return 0, 0, false
	}
	if la.n == 1 && lb.n == 1 {
		return la.v[0], lb.v[0], true
	}
	switch {
	case la.acked >= 0 && lb.has(la.v[la.acked]):
		return la.v[la.acked], la.v[la.acked], true
	case lb.acked >= 0 && la.has(lb.v[lb.acked]):
		return lb.v[lb.acked], lb.v[lb.acked], true
	}
	for k := la.n - 1; k >= 0; k-- {
		if lb.has(la.v[k]) {
			return la.v[k], la.v[k], true
		}
	}
	return la.own(), lb.own(), true
}

// isnsDiffer reports whether side s's ISN differs between two points'
// flows of a connection that both saw one (pairISNs): a rewrite.
func isnsDiffer(a, b *Flow, s Side) bool {
	ia, ib, ok := pairISNs(a, b, s)
	return ok && ia != ib
}

// allISNs appends to buf the ISNs of side s's SYNs (SYN-ACKs) in f, the
// one its numbers count from at its point first (sideISN), for the joins
// that look flows up by ISN: a flow at the next point that saw only the
// SYN-ACK that got through has that one.
func allISNs(f *Flow, s Side, buf []uint32) []uint32 {
	l, ok := synISNs(f, s)
	if !ok {
		return buf
	}
	own := l.own()
	buf = append(buf, own)
	for _, v := range l.v[:l.n] {
		if v != own {
			buf = append(buf, v)
		}
	}
	return buf
}
