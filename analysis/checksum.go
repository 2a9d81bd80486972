package analysis

import (
	"net/netip"

	"github.com/synscope/synscope/capture"
)

// A bad checksum on a packet sent by the capturing host is almost always
// checksum offload: the NIC fills the checksum in after the capture point.
// The contract calls it offload when the capture marks the packet outgoing,
// or when every bad checksum in the capture comes from one address that
// also sends good ones later in the flow; anything else is checksum.bad. A
// packet the capture marks as received is never the capturing host's own,
// so it is never offload, unless its checksum field holds the pseudo-header
// sum that a stack leaves for its NIC (Linux CHECKSUM_PARTIAL, as on lo).

// Which checksums a checksum finding is about, as bits of Finding.B (and
// of badSum.sums): for checksum.bad those of its packet, for
// checksum.offload those of all the packets it counts.
const (
	sumIPv4Bad       = 1 << iota // the IPv4 header checksum is wrong
	sumTCPBad                    // the TCP checksum is wrong
	sumTCPUnverified             // the TCP segment was not captured whole
	// sumSent, in checksum.offload's B, says that a packet it counts is
	// known to be the capturing host's: marked outgoing, or from the
	// capture's offload sender. Without it every one held the
	// pseudo-header sum a stack leaves for its NIC, which a router's
	// capture on a veth shows on the packets it only forwards, both
	// ways: "sent by the capturing host" was said, not known.
	sumSent
)

// sumsOf returns the checksum bits of a packet with a bad checksum.
func sumsOf(p *Packet) uint8 {
	var s uint8
	if p.IPChecksum == CheckBad {
		s |= sumIPv4Bad
	}
	switch p.TCPChecksum {
	case CheckBad:
		s |= sumTCPBad
	case CheckUnverified:
		s |= sumTCPUnverified
	}
	return s
}

// The kinds of bad checksums, as checksumFindings judges them (badTally).
const (
	badOwn     = iota // the pseudo-header sum left for the NIC, or marked outgoing: offload
	badUnknown        // direction unknown: offload when from the capture's offload sender
	badInbound        // marked received: never the capturing host's own
	numBadKinds
)

// badTally counts a flow's packets with a bad checksum, by side and kind,
// whether badSums lists them or not: checksum.offload counted the list,
// which stops at maxFindingsPerCode, and said "1000 packets" of 4,076 on
// a Linux sender's bulk transfer (bulkloss-a.pcap). firstFrame and
// firstSide are the flow's first packet with a bad checksum.
type badTally struct {
	by         [2][numBadKinds]badCount
	firstFrame uint64
	firstSide  Side
}

// badCount is the packets of one side and kind of bad checksum: how many,
// the first one's frame, and which checksums were bad (sumIPv4Bad and
// friends).
type badCount struct {
	n, first uint64
	sums     uint8
}

// noteBadSum notes p, from side, whose checksum is bad: counted by kind,
// listed when it may be damage, and its side made known to tally (the
// offload sender's rule needs every side, also those whose first bad
// checksum comes after the list is full).
func (f *Flow) noteBadSum(p *Packet, side Side, tally *offloadTally) {
	n := f.note()
	t := n.bad
	if t == nil {
		t = &badTally{firstFrame: p.Frame, firstSide: side}
		n.bad = t
	}
	kind, sums := badUnknown, sumsOf(p)
	switch {
	case p.PartialChecksum && p.IPChecksum != CheckBad, p.Direction == capture.DirOutbound:
		// A checksum field holding the pseudo-header sum was left for
		// a NIC to finish: offload on the host that sent it, which is
		// the capturing host (on lo, both ends are).
		kind = badOwn
	case p.Direction == capture.DirInbound:
		kind = badInbound
	}
	if p.Direction == capture.DirOutbound {
		sums |= sumSent
	}
	c := &t.by[side][kind]
	if c.n == 0 {
		c.first = p.Frame
	}
	c.n++
	c.sums |= sums
	if kind != badOwn && len(n.badSums) < maxFindingsPerCode {
		n.badSums = append(n.badSums, badSum{p.Frame, side, p.Direction, sums})
	}
	if n.badSides&(1<<side) == 0 {
		n.badSides |= 1 << side
		tally.addSide(f, side)
	}
}

// offloadSender returns the one address all bad checksums of the capture
// come from, when that address also sent packets with good checksums after
// its first bad one in the same flow. It returns the zero Addr otherwise.
func offloadSender(flows []*Flow) netip.Addr {
	var (
		sender netip.Addr
		late   bool
	)
	for _, f := range flows {
		if f.notes == nil || f.notes.bad == nil {
			continue
		}
		for s := range Side(2) {
			if f.notes.badSides&(1<<s) == 0 {
				continue
			}
			addr := f.addrOf(s)
			if !sender.IsValid() {
				sender = addr
			} else if addr != sender {
				return netip.Addr{}
			}
		}
		if f.goodAfterBad {
			late = true
		}
	}
	if !late {
		return netip.Addr{}
	}
	return sender
}

// offloadTally is what offloadSender finds, kept up to date as packets are
// added, for FlowCopy before Finish: a live drill-down asks for it on
// every poll, and reading every flow for it held the Analyzer's lock, and
// so the capture's queue, for as long as a million flows take. Only a
// flow side's first bad checksum and a flow's first good one after them
// change it (Flow.addAny; addInOrder takes no segment of a flow with
// bad checksums), and an evicted flow takes its part out (remove):
// nothing is done for a flow without bad checksums.
type offloadTally struct {
	// senders counts the flow sides with a bad checksum (badSides), by
	// the address that sent them.
	senders map[netip.Addr]int
	late    int // flows with goodAfterBad
}

// addSide counts side s of f, which has sent its first bad checksum.
func (t *offloadTally) addSide(f *Flow, s Side) {
	if t.senders == nil {
		t.senders = make(map[netip.Addr]int)
	}
	t.senders[f.addrOf(s)]++
}

// remove takes out what f counted, before f is evicted.
func (t *offloadTally) remove(f *Flow) {
	if f.notes == nil {
		return
	}
	for s := range Side(2) {
		if f.notes.badSides&(1<<s) == 0 {
			continue
		}
		addr := f.addrOf(s)
		if t.senders[addr]--; t.senders[addr] <= 0 {
			delete(t.senders, addr)
		}
	}
	if f.goodAfterBad {
		t.late--
	}
}

// sender is offloadSender of the flows the Analyzer holds.
func (t *offloadTally) sender() netip.Addr {
	if t.late > 0 && len(t.senders) == 1 {
		for addr := range t.senders {
			return addr
		}
	}
	return netip.Addr{}
}

func (f *Flow) addrOf(s Side) netip.Addr {
	if s == FromClient {
		return f.ClientAddr()
	}
	return f.ServerAddr()
}

// finishChecksums turns the flow's bad checksums into findings: one
// checksum.offload finding for all those explained by offload (with their
// count), and one checksum.bad finding per other packet, those past the
// list counted (Count, finding_counts) but not kept.
func (f *Flow) finishChecksums(offload netip.Addr) {
	if f.notes == nil || f.notes.bad == nil {
		return
	}
	f.countUnlisted(CodeChecksumBad, f.checksumFindings(offload, f.addFinding))
	f.notes.badSums, f.notes.bad = nil, nil
}

// checksumFindings calls add with each finding the flow's bad checksums
// (f.notes.bad, not nil) come to, offload the capture's offload sender:
// finishChecksums adds them, and a summary before Finish looks at them
// (Summary). It returns the number of checksum.bad packets past the list
// (badSums), which have no finding of their own.
func (f *Flow) checksumFindings(offload netip.Addr, add func(Finding)) uint64 {
	t := f.notes.bad
	var own badCount
	take := func(c badCount) {
		if c.n == 0 {
			return
		}
		if own.n == 0 || c.first < own.first {
			own.first = c.first
		}
		own.n += c.n
		own.sums |= c.sums
	}
	// A packet whose direction the capture does not say is offload when
	// its sender is the capture's offload sender. One the capture marks
	// as received is not the capturing host's own, whatever its sender
	// does later.
	isOffload := func(s Side) bool { return offload.IsValid() && f.addrOf(s) == offload }
	var bad uint64
	for s := range Side(2) {
		take(t.by[s][badOwn])
		if isOffload(s) {
			c := t.by[s][badUnknown]
			c.sums |= sumSent
			take(c)
			if t.by[s][badOwn].n > 0 {
				// The offload sender's pseudo-header sums are its own
				// too.
				own.sums |= sumSent
			}
		} else {
			bad += t.by[s][badUnknown].n
		}
		bad += t.by[s][badInbound].n
	}
	for _, b := range f.notes.badSums {
		if b.dir == capture.DirUnknown && isOffload(b.side) {
			continue
		}
		add(Finding{Code: CodeChecksumBad, Frame: b.frame, A: int64(b.side), B: int64(b.sums)})
		bad--
	}
	if own.n > 0 {
		add(Finding{Code: CodeChecksumOffload, Frame: own.first, A: int64(own.n), B: int64(own.sums &^ sumTCPUnverified)})
	}
	return bad
}
