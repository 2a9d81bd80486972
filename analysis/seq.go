package analysis

// This file holds the checks after the handshake, as Wireshark's TCP
// sequence analysis makes them (epan/dissectors/packet-tcp.c,
// tcp_analyze_sequence_number), with the same names, so that counts can be
// compared with `tshark -Y tcp.analysis.<name>` on the same file.
//
// Limitations, shared with Wireshark: packets are taken in capture order;
// only the highest sequence number seen is tracked, not the holes, so a
// segment filling a hole is a retransmission or out-of-order by timing; at
// most maxUnacked segments per direction are remembered for RTT and
// spurious checks.

// Wireshark's per-segment analysis flags that we track.
const (
	aZeroWindowProbe uint16 = 1 << iota
	aZeroWindow
	aLostPacket
	aKeepAlive
	aWindowUpdate
	aWindowFull
	aKeepAliveAck
	aZeroWindowProbeAck
	aDupAck
	aAckLostPacket
	aFastRetransmission
	aOutOfOrder
	aSpuriousRetransmission
	aRetransmission
)

// Window scale states, as Wireshark keeps them.
const (
	wsUnknown = -1 // no SYN seen yet
	wsNone    = -2 // the handshake was seen and window scaling is not in use
)

// dirState is what Wireshark's tcp_flow_t keeps of one direction.
type dirState struct {
	seqSet       bool // a segment was seen in this direction (base_seq set)
	nextSet      bool
	nextSeq      uint32 // the highest seq+len seen
	nextSeqTime  int64
	maxSeqToAck  uint32 // highest contiguous sequence number, for ack_lost
	maxSeqSet    bool
	lastAck      uint32
	lastAckSet   bool
	lastAckTime  int64
	window       uint32 // raw window field; windowSet false until one is seen
	windowSet    bool
	winScale     int8
	dupAcks      int
	lastNonDup   uint64
	lastSegFlags uint16
	firstAck     bool // no ACK seen yet from this side: its window is not scaled
}

// seqLT and friends compare sequence numbers modulo 2^32 (RFC 1982).
func seqLT(a, b uint32) bool { return int32(a-b) < 0 }
func seqGT(a, b uint32) bool { return int32(a-b) > 0 }
func seqLE(a, b uint32) bool { return int32(a-b) <= 0 }

// analyzeSeq applies Wireshark's sequence analysis to one segment.
func (f *Flow) analyzeSeq(p *Packet, side Side) {
	fwd, rev := &f.dir[side], &f.dir[side.other()]
	fwd.seqSet = true
	seq, ack, flags := p.Seq, p.Ack, p.Flags
	seglen := uint32(p.PayloadLen)
	window := uint32(p.Window)
	noSFR := flags&(FlagSYN|FlagFIN|FlagRST) == 0
	var ta uint16
	gap := int64(int32(seq - fwd.nextSeq)) // bytes missing before this segment, for lost_segment

	f.windowScaling(p, side)

	func() {
		// Zero window probe: one byte at the next expected sequence number
		// while the other side's window is zero.
		if seglen == 1 && fwd.nextSet && seq == fwd.nextSeq && rev.windowSet && rev.window == 0 {
			ta |= aZeroWindowProbe
			return
		}
		if window == 0 && noSFR {
			ta |= aZeroWindow
		}
		if fwd.nextSet && seqGT(seq, fwd.nextSeq) && flags&FlagRST == 0 {
			ta |= aLostPacket
		}
		if seglen <= 1 && fwd.nextSet && seq == fwd.nextSeq-1 && noSFR {
			ta |= aKeepAlive
		}
		if seglen == 0 && window != 0 && fwd.windowSet && window != fwd.window && fwd.nextSet && seq == fwd.nextSeq &&
			fwd.lastAckSet && ack == fwd.lastAck && noSFR {
			ta |= aWindowUpdate
		}
		if seglen > 0 && rev.winScale != wsUnknown && rev.lastAckSet && rev.windowSet && noSFR {
			shift := uint32(0)
			if !rev.firstAck && rev.winScale > 0 {
				shift = uint32(rev.winScale)
			}
			if seq+seglen == rev.lastAck+(rev.window<<shift) {
				ta |= aWindowFull
			}
		}
		same := seglen == 0 && fwd.windowSet && window == fwd.window && fwd.nextSet && seq == fwd.nextSeq && noSFR
		if same && window != 0 && fwd.lastAckSet && ack == fwd.lastAck && rev.lastSegFlags&aKeepAlive != 0 {
			ta |= aKeepAliveAck
			return
		}
		if same && window == 0 && fwd.lastAckSet && (ack == fwd.lastAck || ack == fwd.lastAck+1) && rev.lastSegFlags&aZeroWindowProbe != 0 {
			ta |= aZeroWindowProbeAck
			return
		}
		if same && window != 0 && fwd.lastAckSet && ack == fwd.lastAck {
			fwd.dupAcks++
			ta |= aDupAck
		}
	}()
	if ta&aDupAck == 0 {
		fwd.lastNonDup = p.Frame
		fwd.dupAcks = 0
	}

	// An ACK beyond what the other side is known to have sent: segments
	// were sent that the capture missed.
	if rev.maxSeqSet && seqGT(ack, rev.maxSeqToAck) && flags&FlagACK != 0 {
		ta |= aAckLostPacket
		rev.maxSeqToAck = rev.nextSeq
	}

	if ta&aKeepAlive == 0 && (seglen > 0 || flags&(FlagSYN|FlagFIN) != 0) && fwd.nextSet && seqLT(seq, fwd.nextSeq) {
		ta |= retransmissionKind(f, p, fwd, rev, seglen)
	}

	next := seq + seglen
	if flags&(FlagSYN|FlagFIN) != 0 {
		next++
	}
	if !fwd.nextSet || seqGT(next, fwd.nextSeq) {
		if ta&aZeroWindowProbe == 0 {
			fwd.nextSet = true
			fwd.nextSeq = next
			fwd.nextSeqTime = p.Time
		}
	}
	if !fwd.maxSeqSet || seq == fwd.maxSeqToAck {
		if ta&aZeroWindowProbe == 0 {
			fwd.maxSeqSet = true
			fwd.maxSeqToAck = fwd.nextSeq
		}
	}
	fwd.window, fwd.windowSet = window, true
	if flags&FlagACK != 0 {
		fwd.lastAck, fwd.lastAckSet = ack, true
		fwd.lastAckTime = p.Time
		fwd.firstAck = false
	}
	fwd.lastSegFlags = ta

	f.seqFindings(p, side, ta, gap)
}

// retransmissionKind tells a segment that does not advance the sequence
// number apart: fast retransmission, out-of-order, spurious or plain
// retransmission, in Wireshark's order.
func retransmissionKind(f *Flow, p *Packet, fwd, rev *dirState, seglen uint32) uint16 {
	seq := p.Seq
	// Two or more duplicate ACKs for this sequence number, and the segment
	// within 20 ms of the last of them.
	if rev.dupAcks >= 2 && rev.lastAckSet && rev.lastAck == seq && p.Time-rev.lastAckTime < 20e6 {
		return aFastRetransmission
	}
	// Close in time to the segment with the highest sequence number, and
	// not the same segment again: out of order.
	thres := int64(3e6)
	if rtt, ok := f.Handshake.IRTT(); ok && rtt > 0 {
		thres = rtt
	}
	if p.Time-fwd.nextSeqTime < thres && fwd.nextSeq != seq+seglen {
		return aOutOfOrder
	}
	if seglen > 0 && rev.lastAckSet && seqLE(seq+seglen, rev.lastAck) {
		return aSpuriousRetransmission
	}
	return aRetransmission
}

// windowScaling records each side's window scale from the handshake, as
// Wireshark does: the shift applies only when both SYNs carried the option.
func (f *Flow) windowScaling(p *Packet, side Side) {
	if p.Flags&FlagSYN == 0 {
		return
	}
	fwd, rev := &f.dir[side], &f.dir[side.other()]
	if p.Opts.HasWScale {
		fwd.winScale = int8(min(p.Opts.WScale, 14))
	} else {
		fwd.winScale = wsNone
	}
	if p.Flags&FlagACK != 0 && (fwd.winScale == wsNone || rev.winScale == wsNone) {
		// One side did not offer scaling: neither side scales.
		fwd.winScale, rev.winScale = wsNone, wsNone
	}
}

// seqFindings turns the analysis flags of one segment into findings.
func (f *Flow) seqFindings(p *Packet, side Side, ta uint16, gap int64) {
	if ta == 0 {
		return
	}
	add := func(bit uint16, c Code, a int64) {
		if ta&bit != 0 {
			f.addFinding(Finding{Code: c, Frame: p.Frame, A: a, B: int64(side)})
		}
	}
	add(aRetransmission, CodeRetransmission, int64(p.PayloadLen))
	add(aFastRetransmission, CodeFastRetransmission, int64(p.PayloadLen))
	add(aSpuriousRetransmission, CodeSpuriousRetransmission, int64(p.PayloadLen))
	add(aOutOfOrder, CodeOutOfOrder, int64(p.PayloadLen))
	add(aLostPacket, CodeLostSegment, gap)
	add(aAckLostPacket, CodeAckUnseen, int64(p.Ack))
	add(aDupAck, CodeDupAck, int64(f.dir[side].dupAcks))
	add(aZeroWindow, CodeZeroWindow, 0)
	add(aZeroWindowProbe, CodeZeroWindowProbe, 0)
	add(aWindowFull, CodeWindowFull, 0)
	add(aWindowUpdate, CodeWindowUpdate, int64(p.Window))
	add(aKeepAlive, CodeKeepAlive, 0)
}
