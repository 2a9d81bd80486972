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

// offloadSender returns the one address all bad checksums of the capture
// come from, when that address also sent packets with good checksums after
// its first bad one in the same flow. It returns the zero Addr otherwise.
func offloadSender(flows []*Flow) netip.Addr {
	var (
		sender netip.Addr
		late   bool
	)
	for _, f := range flows {
		if f.notes == nil {
			continue
		}
		for i, b := range f.notes.badSums {
			addr := f.addrOf(b.side)
			if !sender.IsValid() {
				sender = addr
			} else if addr != sender {
				return netip.Addr{}
			}
			if i == 0 && f.goodAfterBad {
				late = true
			}
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
// change it (Flow.add), and an evicted flow takes its part out (remove):
// nothing is done for a flow without bad checksums.
type offloadTally struct {
	// senders counts the flow sides with a bad checksum in badSums, by
	// the address that sent them.
	senders map[netip.Addr]int
	late    int // flows with goodAfterBad
}

// addSide counts side s of f, which has its first bad checksum in badSums.
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
// count), and one checksum.bad finding per other packet.
func (f *Flow) finishChecksums(offload netip.Addr) {
	if f.notes == nil {
		return
	}
	f.checksumFindings(offload, f.addFinding)
	f.notes.badSums = nil
}

// checksumFindings calls add with each finding the flow's bad checksums
// come to, offload the capture's offload sender: finishChecksums adds
// them, and a summary before Finish looks at them (Summary).
func (f *Flow) checksumFindings(offload netip.Addr, add func(Finding)) {
	var first uint64
	n := 0
	var sums uint8
	for _, b := range f.notes.badSums {
		// A packet the capture marks as received is not the capturing
		// host's own, whatever its sender does later.
		// A checksum field holding the pseudo-header sum was left for a
		// NIC to finish: offload on the host that sent it, which is the
		// capturing host (on lo, both ends are).
		own := b.partial || b.dir == capture.DirOutbound ||
			(b.dir == capture.DirUnknown && offload.IsValid() && f.addrOf(b.side) == offload)
		if own {
			if n == 0 {
				first = b.frame
			}
			n++
			sums |= b.sums
			continue
		}
		add(Finding{Code: CodeChecksumBad, Frame: b.frame, A: int64(b.side), B: int64(b.sums)})
	}
	if n > 0 {
		add(Finding{Code: CodeChecksumOffload, Frame: first, A: int64(n), B: int64(sums &^ sumTCPUnverified)})
	}
}
