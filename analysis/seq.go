package analysis

// This file holds the checks after the handshake, made as Wireshark 4.0's
// TCP sequence analysis makes them (epan/dissectors/packet-tcp.c,
// tcp_analyze_sequence_number), in the same order and with the same quirks,
// so that counts can be compared with `tshark -Y tcp.analysis.<name>` on the
// same file. Like Wireshark it works on raw sequence numbers, where 0 in
// nextSeq, maxSeqToAck and lastAck means "not known yet".
//
// Limitations: packets are taken in capture order; only the highest
// sequence number seen is tracked, not holes, so a segment filling a hole is
// told apart from a retransmission by timing alone; Wireshark's cap of 10000
// unacknowledged segments per direction (past which a SYN or FIN no longer
// counts one sequence number) is not reproduced.

// Wireshark's per-segment analysis flags (TCP_A_*).
const (
	aRetransmission uint16 = 1 << iota
	aLostPacket
	aAckLostPacket
	aKeepAlive
	aDupAck
	aZeroWindow
	aZeroWindowProbe
	aZeroWindowProbeAck
	aKeepAliveAck
	aOutOfOrder
	aFastRetransmission
	aWindowUpdate
	aWindowFull
	aReusedPorts
	aSpuriousRetransmission
)

// Window scale states, as Wireshark keeps them.
const (
	wsUnknown = -1 // no SYN seen from this side
	wsNone    = -2 // the handshake was seen and window scaling is not in use
)

// dupPoisoned is the value Wireshark's unsigned dup-ACK counter takes after
// an ACK of unseen data (it assigns -1 to a guint32).
const dupPoisoned = ^uint32(0)

// dirState is what Wireshark's tcp_flow_t keeps of one direction, and what
// copyOf needs of the last packet sent. Its fields leave no padding: every
// flow has two.
type dirState struct {
	nextSeqTime int64
	lastAckTime int64 // time of the last packet from this side
	// origTime, origID and origTTL are the time, IPv4 ID (0: none) and TTL
	// of the last packet from this side, not a copy, that ended at nextSeq:
	// the one a copy would repeat (copy.go).
	origTime    int64
	baseSeq     uint32
	nextSeq     uint32 // highest seq+len seen (0: unknown)
	maxSeqToAck uint32 // highest contiguous sequence number (0: unknown)
	lastAck     uint32 // raw ack field of the last packet (0: unknown)
	window      uint32 // raw window of the last packet; 0xFFFFFFFF before any
	dupAcks     uint32
	// nextSeqFrame is the frame that set nextSeq (Wireshark's
	// nextseqframe, the retransmissions' rto_frame), lastNonDupAck the
	// last frame from this side whose ACK moved (Wireshark's
	// lastnondupack, the duplicate ACKs' duplicate_ack_frame): as
	// Flow.frameRef keeps them.
	nextSeqFrame  uint32
	lastNonDupAck uint32
	lastFlags     uint16
	origID        uint16
	winScale      int8
	baseSet       bool
	isFirstAck    bool // the last SYN from this side is not yet followed by its ACK
	origTTL       uint8
}

// newDirState is a side's state before its first segment. (newFlow, whose
// flows are zero, sets only the fields that are not.)
func newDirState() dirState {
	return dirState{window: 0xFFFFFFFF, winScale: wsUnknown}
}

// seqLT and friends compare sequence numbers modulo 2^32 (RFC 1982).
func seqLT(a, b uint32) bool { return int32(a-b) < 0 }
func seqGT(a, b uint32) bool { return int32(a-b) > 0 }
func seqLE(a, b uint32) bool { return int32(a-b) <= 0 }

// within reports whether now-ref lies in [0, limit): Wireshark stores the
// difference unsigned, so a negative one never counts as within.
func within(now, ref, limit int64) bool {
	d := now - ref
	return d >= 0 && d < limit
}

// reuseSYN applies Wireshark's port-reuse rule for a pure SYN before the
// analysis: it reports whether p opens a new connection (its ISN differs
// from the one this side started with). A SYN with the same ISN is a
// retransmission, after which the next expected sequence number drops back.
func (f *Flow) reuseSYN(p *Packet, side Side) bool {
	fwd := &f.dir[side]
	if p.Flags&(FlagSYN|FlagACK) != FlagSYN || !fwd.baseSet {
		return false
	}
	if p.Seq != fwd.baseSeq {
		return true
	}
	fwd.nextSeq = fwd.maxSeqToAck
	return false
}

// analyzeSeq applies Wireshark's sequence analysis to one segment; cp says
// whether the segment is a copy of an earlier one (copyOf).
//
// Not inlined: with the build profile (default.pgo) the compiler put it
// in Flow.add (now addAny), which then grew past the size from which a
// function's callees are no longer inlined into it (afterSeq,
// retransmissionKind, seqFindings, zeekState.ackReceived were calls
// again): 40 more instructions a packet on the benchmark file.
//
//go:noinline
func (f *Flow) analyzeSeq(p *Packet, side Side, cp *copyNote) {
	fwd, rev := &f.dir[side], &f.dir[side.other()]
	seq, ack, flags := p.Seq, p.Ack, p.Flags
	var ta uint16

	// A SYN-ACK with a new ISN: the server restarted the connection.
	// On a SYN-ACK whose header the capture cut short, tshark 4.0 moves
	// its base all the same (the SYN-ACK captured whole after it is a
	// retransmission, not a reuse) but shows no flag, and nor does
	// synscope: seed-client-ipv6ext.pcap cut at 74 bytes has the SYN-ACK
	// sent again after a base the client's ACKs set (ISN+3, for its 2
	// bytes of payload), and "the server started the connection over"
	// was false.
	if flags&(FlagSYN|FlagACK) == FlagSYN|FlagACK && fwd.baseSet && seq != fwd.baseSeq {
		fwd.baseSeq = seq
		if !p.HeaderCut {
			ta |= aReusedPorts
		}
		f.forgetCaptured(side, seq)
	}
	// Base sequence numbers, as Wireshark sets them.
	if !fwd.baseSet {
		fwd.baseSet = true
		fwd.baseSeq = seq
		if flags&FlagSYN == 0 {
			fwd.baseSeq = seq - 1
		}
	}
	if flags&FlagACK != 0 && !rev.baseSet {
		rev.baseSet = true
		rev.baseSeq = ack - 1
	}

	seglen := uint32(p.PayloadLen)
	window := uint32(p.Window)
	noSFR := flags&(FlagSYN|FlagFIN|FlagRST) == 0
	// What explains this segment's findings, as it stands before the
	// segment moves it: seqFindings works it out, for the few segments
	// that have findings.
	rel := seqRelated{nextSeq: fwd.nextSeq, front: fwd.nextSeqFrame, dupOf: fwd.lastNonDupAck}
	if fwd.nextSeq == 0 && flags&FlagSYN == 0 && seqGT(seq, fwd.baseSeq+1) {
		// The side's first segment starts past its base, which the
		// other side's ACK set: the bytes between were sent before the
		// capture saw this side.
		f.addHole(side, fwd.baseSeq+1, seq)
	}

	func() {
		if seglen == 1 && seq == fwd.nextSeq && rev.window == 0 {
			ta |= aZeroWindowProbe
			return
		}
		if window == 0 && noSFR {
			ta |= aZeroWindow
		}
		if fwd.nextSeq != 0 && seqGT(seq, fwd.nextSeq) {
			// A RST moves the next sequence number too, without a
			// flag (Wireshark's quirk): either way the bytes skipped
			// are not in the capture.
			if flags&FlagRST == 0 {
				ta |= aLostPacket
			}
			f.addHole(side, fwd.nextSeq, seq)
		}
		if seglen <= 1 && seq == fwd.nextSeq-1 && noSFR {
			ta |= aKeepAlive
		}
		if seglen == 0 && window != 0 && window != fwd.window && seq == fwd.nextSeq && ack == fwd.lastAck && noSFR {
			ta |= aWindowUpdate
		}
		if seglen > 0 && rev.winScale != wsUnknown && noSFR {
			shift := uint32(0)
			if !rev.isFirstAck && rev.winScale > 0 {
				shift = uint32(rev.winScale)
			}
			if seq+seglen == rev.lastAck+(rev.window<<shift) {
				ta |= aWindowFull
			}
		}
		same := seglen == 0 && window == fwd.window && seq == fwd.nextSeq && ack == fwd.lastAck && noSFR
		if same && window != 0 && rev.lastFlags&aKeepAlive != 0 {
			ta |= aKeepAliveAck
			return
		}
		if same && window == 0 && rev.lastFlags&aZeroWindowProbe != 0 {
			ta |= aZeroWindowProbeAck
			return
		}
		if same && window != 0 {
			if fwd.dupAcks == dupPoisoned {
				fwd.dupAcks = 1
			} else {
				fwd.dupAcks++
			}
			ta |= aDupAck
		}
	}()
	dupNum := fwd.dupAcks
	if ack != fwd.lastAck {
		fwd.dupAcks = 0
		fwd.lastNonDupAck = f.frameRef(p.Frame)
	}
	if ta&(aZeroWindowProbe|aKeepAlive) != 0 {
		// Before this segment's own window can take the one slot.
		rel.zeroWin = f.zeroWindowOf(side.other())
	}

	// An ACK beyond what the other side is known to have sent.
	if rev.maxSeqToAck != 0 && seqGT(ack, rev.maxSeqToAck) && flags&FlagACK != 0 {
		if seqLT(rev.maxSeqToAck, rev.nextSeq) {
			rev.maxSeqToAck = rev.nextSeq
			ta |= aAckLostPacket
		} else {
			if rev.dupAcks == 0 {
				ta |= aAckLostPacket
			}
			rev.dupAcks = dupPoisoned
		}
	}

	if seglen > 0 || flags&(FlagSYN|FlagFIN) != 0 {
		ta |= f.retransmissionKind(p, fwd, rev, ta, seglen)
	}

	next := seq + seglen
	if seglen > 0 || flags&(FlagSYN|FlagFIN) != 0 {
		if flags&(FlagSYN|FlagFIN) != 0 {
			next++
		}
	}
	if ta&aZeroWindowProbe == 0 {
		if seqGT(next, fwd.nextSeq) || fwd.nextSeq == 0 {
			fwd.nextSeq = next
			fwd.nextSeqTime = p.Time
			fwd.nextSeqFrame = f.frameRef(p.Frame)
		}
		if seq == fwd.maxSeqToAck || fwd.maxSeqToAck == 0 {
			fwd.maxSeqToAck = fwd.nextSeq
		}
	}
	if next == fwd.nextSeq && !cp.ok() {
		fwd.setOriginal(p)
	}
	if window == 0 && fwd.window != 0 {
		f.setZeroWindow(p.Frame, side)
	}
	fwd.window = window
	fwd.lastAck = ack
	fwd.lastAckTime = p.Time
	fwd.lastFlags = ta

	f.afterSeq(p, side)
	if ta != 0 {
		// Most segments have no finding: the call alone, its arguments
		// (seqRelated is 24 bytes) and its frame, was 25 instructions a
		// packet on the benchmark file.
		f.seqFindings(p, side, ta, dupNum, *cp, rel)
	}
}

// seqRelated is the sender's state before one segment that the segment's
// findings refer to: the sequence number it was expected to go on from
// (the gap of a lost segment is measured from it), and the frames they
// name as the one that explains them (Finding.RelatedFrame). The frames
// are kept as Flow.frameRef gives them, and turned into frame numbers by
// seqFindings only when there is a finding: working it all out for every
// segment was 25 instructions a packet on the benchmark file, 8 on small
// frames (cachegrind, builds without default.pgo).
type seqRelated struct {
	nextSeq uint32
	// front is the frame that took the sender's sequence number
	// furthest: tshark's rto_frame of a retransmission, the segment an
	// out-of-order one came after, the last before a gap.
	front   uint32
	dupOf   uint32 // the frame whose ACK a duplicate ACK repeats (tshark's duplicate_ack_frame)
	zeroWin uint64 // the other side's frame that closed its window, for a zero window probe
}

// retransmissionKind tells a segment that does not advance the sequence
// number apart, in Wireshark's order: spurious, fast retransmission,
// out-of-order, retransmission.
func (f *Flow) retransmissionKind(p *Packet, fwd, rev *dirState, ta uint16, seglen uint32) uint16 {
	if ta&aKeepAlive != 0 {
		return 0
	}
	seq := p.Seq
	notAdvanced := fwd.nextSeq != 0 && seqLT(seq, fwd.nextSeq)
	if seglen > 1 && fwd.nextSeq-1 == seq {
		notAdvanced = false // the byte after a zero window probe
	}
	if seglen > 0 && rev.lastAck != 0 && seqLE(seq+seglen, rev.lastAck) {
		return aSpuriousRetransmission
	}
	if notAdvanced && rev.dupAcks >= 2 && rev.lastAck == seq && within(p.Time, rev.lastAckTime, 20e6) {
		return aFastRetransmission
	}
	thres := int64(3e6)
	if f.firstRTT != 0 {
		thres = f.firstRTT
	}
	end := seq + seglen
	if p.Flags&(FlagSYN|FlagFIN) != 0 {
		end++
	}
	if notAdvanced && fwd.nextSeq != end && (within(p.Time, fwd.nextSeqTime, thres) || (thres < 0 && p.Time >= fwd.nextSeqTime)) {
		return aOutOfOrder
	}
	if notAdvanced {
		return aRetransmission
	}
	return 0
}

// afterSeq updates what Wireshark updates after the analysis of a segment:
// the initial RTT, the first-ACK state and the window scale.
func (f *Flow) afterSeq(p *Packet, side Side) {
	fwd, rev := &f.dir[side], &f.dir[side.other()]
	syn, ack := p.Flags&FlagSYN != 0, p.Flags&FlagACK != 0
	if syn {
		fwd.isFirstAck = true
		if !ack {
			f.lastSynTime = p.Time
			f.haveSynTime = true
		}
	}
	if !syn && ack {
		if f.haveSynTime && f.firstRTT == 0 {
			f.firstRTT = p.Time - f.lastSynTime
		}
		fwd.isFirstAck = false
	}
	if p.Opts.HasWScale {
		fwd.winScale = int8(min(p.Opts.WScale, 14))
	}
	// A SYN whose header the capture cut short may carry a window scale
	// that was not captured: the scale stays unknown, as in tshark 4.0,
	// which checks it only after the options it cannot read.
	if syn && !p.HeaderCut {
		switch {
		case fwd.winScale == wsUnknown:
			fwd.winScale, rev.winScale = wsNone, wsNone
		case ack && rev.winScale == wsNone:
			fwd.winScale = wsNone
		}
	}
}

// windowScaleShift is where B of a tcp.window_update finding keeps the
// sender's window scale, as dirState.winScale holds it (a shift, wsUnknown
// or wsNone), in 8 bits.
const windowScaleShift = 8

// windowScaleOf returns the sender's window scale that a tcp.window_update
// finding keeps (a shift of at most 14, wsUnknown or wsNone).
func windowScaleOf(fi Finding) int8 {
	ws := int8(uint8(fi.B >> windowScaleShift))
	if ws > 14 {
		return 14 // as afterSeq caps it
	}
	return ws
}

// windowBytes returns the window of a tcp.window_update finding in bytes,
// as tshark's tcp.window_size gives it: the field shifted by the sender's
// window scale; and false when that scale is unknown, and the number is
// the field.
func windowBytes(fi Finding) (int64, bool) {
	switch ws := windowScaleOf(fi); {
	case ws > 0:
		return fi.A << ws, true
	case ws == wsUnknown:
		return fi.A, false
	}
	return fi.A, true
}

// seqFindings turns the analysis flags of one segment into findings. On a
// copy (cp), those that take it for a packet sent again carry its evidence.
func (f *Flow) seqFindings(p *Packet, side Side, ta uint16, dupNum uint32, cp copyNote, rel seqRelated) {
	if ta == 0 {
		return
	}
	seglen := uint32(p.PayloadLen)
	gap := int64(int32(p.Seq - rel.nextSeq)) // bytes missing before this segment, for lost_segment
	// Where this segment ends against the front: relEndsFlag,
	// relPastFlag, or 0 (before it, or unknown).
	frontEnd := int64(0)
	if rel.nextSeq != 0 {
		end := p.Seq + seglen
		if p.Flags&(FlagSYN|FlagFIN) != 0 {
			end++
		}
		switch {
		case end == rel.nextSeq:
			frontEnd = relEndsFlag
		case seqGT(end, rel.nextSeq):
			frontEnd = relPastFlag
		}
	}
	cut := int64(0)
	if p.HeaderCut {
		cut = headerCutFlag
	}
	add := func(bit uint16, c Code, a int64, related uint64, flags int64) {
		if ta&bit != 0 {
			b := int64(side)
			if cp.ok() && c.canBeCopy() {
				b = cp.pack(side)
			}
			f.addFinding(Finding{Code: c, Frame: p.Frame, RelatedFrame: related, A: a, B: b | cut | flags})
		}
	}
	front := f.frameAt(rel.front)
	sent := frontEnd
	if p.Flags&FlagSYN != 0 {
		sent |= segSynFlag
	}
	if p.Flags&FlagFIN != 0 {
		sent |= segFinFlag
	}
	if p.Flags&FlagACK != 0 {
		sent |= segAckFlag
	}
	// A segment behind the sender's next sequence number: whether its
	// bytes were all captured before, then what it fills of the holes.
	ooo := int64(0)
	if ta&(aRetransmission|aFastRetransmission|aSpuriousRetransmission|aOutOfOrder) != 0 {
		end := p.Seq + p.SegLen()
		if ta&aOutOfOrder != 0 && frontEnd == 0 && !cp.ok() && f.capturedBefore(side, p.Seq, end) {
			ooo = capturedFlag | sent
		}
		f.fillHoles(side, p.Seq, end)
	}
	add(aRetransmission, CodeRetransmission, int64(p.PayloadLen), front, sent)
	add(aFastRetransmission, CodeFastRetransmission, int64(p.PayloadLen), front, sent)
	add(aSpuriousRetransmission, CodeSpuriousRetransmission, int64(p.PayloadLen), front, sent)
	add(aOutOfOrder, CodeOutOfOrder, int64(p.PayloadLen), front, ooo)
	add(aLostPacket, CodeLostSegment, gap, front, 0)
	add(aAckLostPacket, CodeAckUnseen, int64(p.Ack), 0, 0)
	dsack := int64(0)
	if ta&aDupAck != 0 && !cp.ok() && p.Opts.DSACK(p.Ack) {
		dsack = f.dsackBits(&p.Opts, side)
	}
	add(aDupAck, CodeDupAck, int64(dupNum), f.frameAt(rel.dupOf), dsack)
	add(aZeroWindow, CodeZeroWindow, 0, 0, 0)
	add(aZeroWindowProbe, CodeZeroWindowProbe, 0, rel.zeroWin, 0)
	add(aWindowFull, CodeWindowFull, 0, 0, 0)
	if ta&aWindowUpdate != 0 {
		// B holds the sender's window scale too (windowScaleOf).
		f.addFinding(Finding{Code: CodeWindowUpdate, Frame: p.Frame, A: int64(p.Window),
			B: int64(side) | cut | int64(uint8(f.dir[side].winScale))<<windowScaleShift})
	}
	if ta&aKeepAlive != 0 {
		// Linux probes a closed window with a keep-alive's shape
		// (tcp_xmit_probe_skb: no data, at snd_una-1), and Wireshark
		// calls it one: the other side's last segment, which
		// advertised the zero window, tells it apart.
		var probe int64
		var closed uint64
		if rev := &f.dir[side.other()]; rev.window == 0 && rev.lastFlags&aZeroWindow != 0 {
			probe, closed = probeFlag, rel.zeroWin
		}
		f.addFinding(Finding{Code: CodeKeepAlive, Frame: p.Frame, RelatedFrame: closed, A: int64(p.PayloadLen), B: int64(side) | cut | probe})
	}
	if ta&aReusedPorts != 0 {
		f.addFinding(Finding{Code: CodeReusedPorts, Frame: p.Frame, A: int64(f.ID), B: 1})
	}
}

// WindowShift returns the window scale of side's packets: the shift its
// windows are multiplied by after the handshake (0 when the handshake
// showed that no side scales), and false when the capture does not tell
// (no handshake, or its options cut). A SYN's window is never scaled.
func (f *Flow) WindowShift(side Side) (uint8, bool) {
	switch ws := f.dir[side].winScale; {
	case ws == wsUnknown:
		return 0, false
	case ws > 0:
		return uint8(min(ws, 14)), true
	}
	return 0, true
}

// WindowBytes returns the window a segment of the flow announces, in
// bytes: its field shifted by the sender's window scale, as tshark's
// tcp.window_size; and false when the scale is unknown and the number is
// the field.
func (f *Flow) WindowBytes(r PacketRef) (uint64, bool) {
	if r.Flags&FlagSYN != 0 {
		return uint64(r.Window), true
	}
	shift, ok := f.WindowShift(r.Side())
	return uint64(r.Window) << shift, ok
}
