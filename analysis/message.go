package analysis

import (
	"net/netip"
	"time"
)

// Message returns the sentence a person reads for one of f's findings. It
// is plain text: the ui and the report style it.
func (f *Flow) Message(fi Finding) string {
	var buf [192]byte // most sentences fit: one allocation, the string
	return string(f.appendMessage(buf[:0], fi))
}

// appendMessage appends Message's sentence for fi, made with appends only:
// the JSON records write one per finding.
func (f *Flow) appendMessage(b []byte, fi Finding) []byte {
	b = f.appendSentence(b, fi)
	if fi.Code == CodeLostSegment || fi.Code == CodeAckUnseen {
		b = f.appendStaleNote(b, fi)
	}
	return appendHeaderCutNote(b, fi)
}

// appendHeaderCutNote appends the note on a frame whose TCP header the
// snap length cut, when fi is about one.
func appendHeaderCutNote(b []byte, fi Finding) []byte {
	if fi.onHeaderCut() {
		// tshark 4.0 analyses such a frame (the next ACK's "ACK to the
		// segment in frame N" counts it) but stops at the options it
		// cannot read before it shows the frame's tcp.analysis flags.
		b = append(b, " (its TCP header was not captured whole: Wireshark shows no analysis flags on such a frame)"...)
	}
	return b
}

// appendSentence appends the sentence of appendMessage, but for the note
// on a frame whose TCP header was cut.
func (f *Flow) appendSentence(b []byte, fi Finding) []byte {
	h := &f.Handshake
	if c, ok := fi.copied(); ok {
		return appendCopyMessage(b, fi, c, capturedTwice)
	}
	switch fi.Code {
	case CodeSynAckPayload:
		n := int(fi.A)
		b = append(b, "SYN-ACK carries "...)
		b = appendCount(b, n, " byte")
		b = append(b, " of TCP payload ("...)
		b = appendPayloadHex(b, h.SynAckBytes(), n)
		b = append(b, "); a SYN-ACK should carry none"...)
		if fi.B == 1 {
			b = append(b, ": the bytes look like Ethernet padding taken into the IP datagram by a device in the path"...)
		}
		return b
	case CodeAckMismatch:
		exp, act := uint32(fi.A), uint32(fi.B)
		diff := int32(act - exp)
		b = append(b, "ACK expected "...)
		b = appendUint(b, uint64(exp))
		b = append(b, " (server ISN+1), got "...)
		b = appendUint(b, uint64(act))
		b = append(b, " ("...)
		if diff >= 0 {
			b = append(b, '+')
		}
		b = appendInt(b, int64(diff))
		b = append(b, ')')
		switch {
		case h.SynAckPayload > 0 && act == exp+uint32(h.SynAckPayload):
			b = append(b, ": the client acknowledged the "...)
			b = appendCount(b, int(h.SynAckPayload), " byte")
			b = append(b, " of SYN-ACK payload (frame "...)
			b = appendUint(b, h.SynAckFrame)
			b = append(b, "). RFC 9293 allows it, "+
				"but stateful firewalls that require ACK = ISN+1 drop this segment (Microsoft TMG logs FWX_E_SEQ_ACK_MISMATCH 0xC0040034), "+
				"so the connection never establishes through them"...)
		case h.SynAckPadding > 0 && int(diff) == int(h.SynAckPadding):
			b = append(b, ": it acknowledges "...)
			b = appendCount(b, int(diff), " byte")
			b = append(b, " the server never sent. The SYN-ACK (frame "...)
			b = appendUint(b, h.SynAckFrame)
			b = append(b, ") left here with "...)
			b = appendCount(b, int(h.SynAckPadding), " byte")
			b = append(b, " of Ethernet padding: a device between here and the client that takes padding into the IP datagram would make the client "+
				"acknowledge exactly these. Stateful firewalls drop this segment (Microsoft TMG: FWX_E_SEQ_ACK_MISMATCH)"...)
		default:
			b = h.appendAckWhy(append(b, ": "...), exp, act)
			b = append(b, "; stateful firewalls drop this segment"...)
		}
		return b
	case CodeSynAckAckMismatch:
		b = append(b, "SYN-ACK acknowledges "...)
		b = appendUint(b, uint64(uint32(fi.B)))
		b = append(b, ", expected "...)
		b = appendUint(b, uint64(uint32(fi.A)))
		b = append(b, " ("...)
		b = h.appendSynAckExpected(b)
		b = append(b, "): "...)
		return h.appendSynAckAckWhy(b, uint32(fi.A), uint32(fi.B))
	case CodeSynPayload:
		b = append(b, "SYN carries "...)
		b = appendCount64(b, fi.A, " byte")
		b = append(b, " of data ("...)
		b = appendPayloadHex(b, h.SynBytes(), int(fi.A))
		if h.Client.Cut {
			return append(b, "); its options were not captured whole: whether it carries a TCP Fast Open cookie is unknown"...)
		}
		return append(b, ") without a TCP Fast Open cookie"...)
	case CodeTFO:
		b = append(b, "SYN carries a TCP Fast Open cookie"...)
		if h.tfoRequest {
			b = append(b, " request"...)
		}
		if fi.A == 0 {
			return append(b, ", no data"...)
		}
		b = append(b, " and "...)
		b = appendCount64(b, fi.A, " byte")
		switch fi.B {
		case 1:
			return append(b, " of data; the server accepted the data"...)
		case 0:
			if k := int64(int32(h.SynAckAck - (h.ClientISN + 1))); h.HaveSynAck && k > 0 && k < fi.A {
				b = append(b, " of data; the server accepted "...)
				b = appendInt(b, k)
				b = append(b, " of the "...)
				return appendCount64(b, fi.A, " byte")
			}
			return append(b, " of data; the server did not accept the data"...)
		}
		return append(b, " of data; no SYN-ACK seen"...)
	case CodeRefused:
		if fi.A == refusedRetried {
			b = append(b, "the SYN (frame "...)
			b = appendUint(b, fi.RelatedFrame)
			b = append(b, ") was refused with a RST from "...)
			b = appendAddrPort(b, f.Server())
			b = append(b, "; the client tried again, and the server answered (SYN-ACK, frame "...)
			b = appendUint(b, uint64(fi.B))
			return append(b, ')')
		}
		b = append(b, "connection refused: the SYN (frame "...)
		b = appendUint(b, fi.RelatedFrame)
		b = append(b, ") was answered with a RST from "...)
		return appendAddrPort(b, f.Server())
	case CodeUnanswered:
		b = appendCount64(b, fi.A, " SYN")
		b = append(b, " over "...)
		b = append(b, time.Duration(fi.B).Round(time.Millisecond).String()...)
		return append(b, " with no SYN-ACK or RST from the server in the capture"...)
	case CodeSynRetransmit:
		b = append(b, "SYN sent again (same ISN "...)
		b = appendUint(b, uint64(h.ClientISN))
		b = append(b, ", #"...)
		b = appendInt(b, fi.A)
		// Said of what the capture holds before it: a SYN-ACK the
		// client did not get (lost past this point) points the other
		// way from a SYN nobody answered.
		if rst, ok := f.First(CodeRefused); ok && rst.Frame < fi.Frame {
			b = append(b, ") after the reset (frame "...)
			b = appendUint(b, rst.Frame)
			return append(b, "): the client tries again"...)
		}
		if h.HaveSynAck && h.SynAckFrame < fi.Frame {
			b = append(b, ") after the SYN-ACK (frame "...)
			b = appendUint(b, h.SynAckFrame)
			return append(b, "): the client did not get it, or did not accept it"...)
		}
		if st, ok := f.staleReset(fi.Frame); ok {
			b = append(b, "): the first was answered with "...)
			b = appendStaleSegment(b, st, "an older connection on these ports")
			b = append(b, ", which the client reset (frame "...)
			b = appendUint(b, st.Frame)
			return append(b, ')')
		}
		return append(b, "): the first was not answered"...)
	case CodeSynAckRetransmit:
		b = append(b, "SYN-ACK sent again (same ISN "...)
		b = appendUint(b, uint64(h.ServerISN))
		b = append(b, ", #"...)
		b = appendInt(b, fi.A)
		return append(b, "): the server never saw an acceptable third segment"...)
	case CodeIncomplete:
		b = append(b, "SYN and SYN-ACK seen, but no third segment from the client"...)
		if fi.A == incompleteReset {
			b = append(b, ": the client reset the connection instead (frame "...)
			b = appendUint(b, fi.RelatedFrame)
			b = append(b, ')')
		}
		return b
	case CodeSynAckWithoutSyn:
		if fi.A == synAckBeforeSyn {
			b = append(b, "SYN-ACK captured before its SYN (frame "...)
			b = appendUint(b, fi.RelatedFrame)
			return append(b, "): the two directions' time stamps disagree (captures merged from two points, or clocks apart)"...)
		}
		return append(b, "SYN-ACK with no SYN in the capture"...)
	case CodeNotSeen:
		switch fi.A {
		case notSeenSynAckByServer, notSeenSynAckByClient:
			b = append(b, "no SYN-ACK in the capture, but "...)
			b = appendAnswer(b, fi)
			return append(b, ": the SYN-ACK was sent but not captured (dropped by the capture, or it took a path the capture "+
				"does not see: asymmetric routing, a one-way SPAN), not an unanswered SYN"...)
		}
		if fi.A == notSeenAfterEviction {
			return append(b, "no handshake in this flow: the connection's earlier packets, its handshake probably among them, "+
				"were in a flow evicted to stay within --max-flows"...)
		}
		return append(b, "the capture starts mid-connection: no handshake seen"...)
	case CodeWScaleOneSided:
		b = append(b, "window scaling offered by one side only (client "...)
		b = appendShift(b, h.Client)
		b = append(b, ", server "...)
		b = appendShift(b, h.Server)
		return append(b, "): neither side scales"...)
	case CodeMSSMissing:
		if fi.Frame == h.SynAckFrame {
			return append(b, "SYN-ACK without the MSS option"...)
		}
		return append(b, "SYN without the MSS option"...)
	case CodeRetransmission:
		b = appendRetransmission(b, fi, "retransmission")
		return f.appendRetransmitted(b, fi)
	case CodeFastRetransmission:
		b = appendRetransmission(b, fi, "fast retransmission")
		b = append(b, " after duplicate ACKs"...)
		return f.appendRetransmitted(b, fi)
	case CodeSpuriousRetransmission:
		b = appendRetransmission(b, fi, "spurious retransmission")
		b = f.appendRetransmitted(b, fi)
		return append(b, ": the data was already acknowledged"...)
	case CodeOutOfOrder:
		if fi.CapturedBefore() {
			// Wireshark's words point at reordering; the capture
			// shows a segment sent again.
			b = append(b, "retransmission by the "...)
			b = append(b, sideName(fi.side())...)
			b = appendSent(append(b, " ("...), fi)
			if fi.RelatedFrame != 0 {
				b = append(b, ", all captured by frame "...)
				b = appendUint(b, fi.RelatedFrame)
			} else {
				b = append(b, ", all captured before"...)
			}
			return append(b, "): not a late arrival; Wireshark calls it out of order"...)
		}
		b = append(b, "out-of-order segment from the "...)
		b = append(b, sideName(fi.side())...)
		if fi.RelatedFrame != 0 {
			b = append(b, ": frame "...)
			b = appendUint(b, fi.RelatedFrame)
			b = append(b, ", captured before it, is further in the sequence"...)
			b = f.appendIgnoredRST(b, fi)
		}
		return b
	case CodeLostSegment:
		b = append(b, "previous segment from the "...)
		b = append(b, sideName(fi.side())...)
		b = append(b, " not captured ("...)
		b = appendInt(b, fi.A)
		b = append(b, " bytes missing"...)
		if fi.RelatedFrame != 0 {
			b = append(b, " after frame "...)
			b = appendUint(b, fi.RelatedFrame)
		}
		return append(b, ')')
	case CodeAckUnseen:
		b = append(b, "the "...)
		b = append(b, sideName(fi.side())...)
		b = append(b, " acknowledges data that was never captured (ACK "...)
		b = appendUint(b, uint64(uint32(fi.A)))
		return append(b, ')')
	case CodeDupAck:
		b = append(b, "duplicate ACK #"...)
		b = appendInt(b, fi.A)
		b = append(b, " from the "...)
		b = append(b, sideName(fi.side())...)
		if fi.RelatedFrame != 0 {
			b = append(b, ": the ACK of frame "...)
			b = appendUint(b, fi.RelatedFrame)
			b = append(b, " again"...)
		}
		if fi.HasDSACK() {
			b = appendDSACK(b, fi)
		}
		return b
	case CodeZeroWindow:
		b = append(b, "zero window from the "...)
		b = append(b, sideName(fi.side())...)
		return append(b, ": it cannot take more data"...)
	case CodeZeroWindowProbe:
		b = append(b, "zero window probe from the "...)
		b = append(b, sideName(fi.side())...)
		if fi.RelatedFrame != 0 {
			b = append(b, ": the "...)
			b = append(b, sideName(fi.side().other())...)
			b = append(b, "'s window has been zero since frame "...)
			b = appendUint(b, fi.RelatedFrame)
		}
		return b
	case CodeWindowFull:
		b = append(b, "the "...)
		b = append(b, sideName(fi.side())...)
		return append(b, " filled the receiver's window"...)
	case CodeWindowUpdate:
		b = append(b, "window update from the "...)
		b = append(b, sideName(fi.side())...)
		b = append(b, " ("...)
		b = f.appendWindow(b, fi)
		return append(b, ')')
	case CodeKeepAlive:
		if fi.ProbesZeroWindow() {
			s := fi.side()
			b = append(b, "zero window probe from the "...)
			b = append(b, sideName(s)...)
			b = append(b, ", shaped like a keep-alive ("...)
			b = appendCount64(b, fi.A, " byte")
			b = append(b, " at one below its next sequence number, as Linux sends them): the "...)
			b = append(b, sideName(s.other())...)
			b = append(b, "'s window has been zero"...)
			if fi.RelatedFrame != 0 {
				b = append(b, " since frame "...)
				b = appendUint(b, fi.RelatedFrame)
			}
			return append(b, "; Wireshark calls it a keep-alive"...)
		}
		b = append(b, "keep-alive from the "...)
		return append(b, sideName(fi.side())...)
	case CodeReusedPorts:
		if fi.B == 1 {
			if rf, ok := f.First(CodeRefused); ok && rf.Frame < fi.Frame {
				b = append(b, "SYN-ACK after the server's reset (frame "...)
				b = appendUint(b, rf.Frame)
				return append(b, "): its ISN is new to Wireshark, which counts the ports reused"...)
			}
			if st, ok := f.staleReset(fi.Frame); ok && fi.Frame == f.Handshake.SynAckFrame {
				b = append(b, "SYN-ACK after the client's reset of an older connection on these ports (frame "...)
				b = appendUint(b, st.Frame)
				return append(b, "): the first answer to this SYN; its ISN is new to Wireshark, which counts the ports reused"...)
			}
			return append(b, "SYN-ACK with a new ISN: the server started the connection over"...)
		}
		b = append(b, "a new connection (flow "...)
		b = appendInt(b, fi.A)
		return append(b, ") took over these ports before this one ended"...)
	case CodeRST:
		return f.appendRST(b, fi)
	case CodeDataAfterClose:
		b = appendInt(b, fi.A)
		b = append(b, " bytes of data from the "...)
		b = append(b, sideName(fi.side())...)
		if fi.B&dataPastFIN == 0 {
			return append(b, " after the connection was reset"...)
		}
		b = append(b, " past its own FIN (seq "...)
		b = appendUint(b, uint64(uint32(fi.B>>8)))
		return append(b, "): nothing may follow a FIN"...)
	case CodeChecksumOffload:
		b = appendCount64(b, fi.A, " packet")
		if fi.B&(sumSent|sumIPv4Bad|sumTCPBad) == sumTCPBad {
			// Known only by the pseudo-header sum in the field: a
			// router's capture on a veth shows it on the packets it
			// forwards, both ways.
			if fi.A == 1 {
				b = append(b, " with a TCP checksum"...)
			} else {
				b = append(b, " with TCP checksums"...)
			}
			return append(b, " left unfinished (the pseudo-header sum a stack leaves for the NIC): checksum offload on the sending host, captured before its NIC or passed on unfinished by a virtual interface (veth, a bridge); not damage"...)
		}
		b = append(b, " sent by the capturing host with "...)
		b = appendBadSums(b, fi.B, fi.A == 1, fi.A != 1)
		return append(b, ": checksum offload (the NIC fills them in after the capture point)"...)
	case CodeChecksumBad:
		b = appendBadSums(b, fi.B, false, false)
		b = append(b, " on a packet from the "...)
		b = append(b, sideName(Side(fi.A))...)
		b = append(b, " ("...)
		b = f.appendEndpoint(b, Side(fi.A))
		b = append(b, ')')
		if fi.B&(sumTCPBad|sumTCPUnverified) == sumTCPUnverified {
			b = append(b, "; its TCP checksum is unverified: the segment was not captured whole"...)
		}
		return b
	case CodeMalformed:
		var notes []malformedNote
		if f.notes != nil {
			notes = f.notes.malformed
		}
		for _, m := range notes {
			if m.frame == fi.Frame {
				b = append(b, "damaged packet: "...)
				b = append(b, m.layer...)
				b = append(b, " at byte "...)
				b = appendInt(b, fi.A)
				b = append(b, ": "...)
				return append(b, m.reason...)
			}
		}
		b = append(b, "damaged packet: decoding stops at byte "...)
		return appendInt(b, fi.A)
	}
	return append(b, fi.Code.String()...)
}

// AckWhy says what the third segment acknowledges when its ACK is not the
// server's ISN+1 and neither the SYN-ACK's payload nor its padding
// explains it: the words of handshake.ack_mismatch's message after the
// numbers, which the drill-down's ACK line uses too.
func (h *Handshake) AckWhy() string { return string(h.appendAckWhy(nil, h.ExpectedAck, h.ActualAck)) }

// appendAckWhy appends AckWhy's words for a third segment that
// acknowledges act where exp (ISN+1) was expected. The contract's "acknowledges bytes that were never
// sent" holds only past the SYN-ACK's payload: an ACK below ISN+1 (ISN+0
// from an off-by-one stack or middlebox, or the client's own sequence
// number) acknowledges nothing of the SYN-ACK, and one inside the
// SYN-ACK's payload acknowledges part of what was sent.
func (h *Handshake) appendAckWhy(b []byte, exp, act uint32) []byte {
	diff := int32(act - exp)
	own := h.HaveSyn && (act == h.ClientISN+1 || act == h.ClientISN)
	switch {
	case diff < 0 || own:
		b = append(b, "it does not acknowledge the SYN-ACK"...)
		if diff < 0 {
			b = append(b, " ("...)
			b = appendInt(b, -int64(diff))
			b = append(b, " below ISN+1)"...)
		}
		if own {
			b = append(b, "; it is the client's own sequence number"...)
		}
		return b
	case diff < h.SynAckPayload:
		b = append(b, "it acknowledges "...)
		b = appendInt(b, int64(diff))
		b = append(b, " of the SYN-ACK's "...)
		return appendCount(b, int(h.SynAckPayload), " payload byte")
	}
	return append(b, "it acknowledges bytes that were never sent"...)
}

// SynAckExpected names what the SYN-ACK's ACK should be: the client's
// ISN+1, or past the SYN's data when the client offered Fast Open (or its
// options were not captured whole). SynAckAckWhy says what it
// acknowledges instead. Both are the words of handshake.synack_ack_mismatch's
// message, which the drill-down's SYN-ACK line uses too.
func (h *Handshake) SynAckExpected() string { return string(h.appendSynAckExpected(nil)) }

// SynAckAckWhy is SynAckExpected's pair: what a SYN-ACK that acknowledges
// act acknowledges, where exp (the client's ISN+1) was expected.
func (h *Handshake) SynAckAckWhy(exp, act uint32) string {
	return string(h.appendSynAckAckWhy(nil, exp, act))
}

func (h *Handshake) appendSynAckExpected(b []byte) []byte {
	b = append(b, "client ISN+1"...)
	if (h.Client.TFO || h.Client.Cut) && h.SynPayload > 0 {
		b = append(b, ", or +"...)
		b = appendInt(b, int64(h.SynPayload))
		b = append(b, " with Fast Open data"...)
	}
	return b
}

// appendSynAckAckWhy appends SynAckAckWhy's words. RFC 9293 lets a server
// queue a SYN's data and acknowledge it without Fast Open: a SYN-ACK that
// acknowledges exactly the SYN's data answers the SYN, which "does not
// answer the SYN" denied; one that acknowledges part of it took part.
func (h *Handshake) appendSynAckAckWhy(b []byte, exp, act uint32) []byte {
	k := int32(act - exp)
	n := h.SynPayload
	switch {
	case n > 0 && k == n:
		b = append(b, "it acknowledges the SYN's "...)
		b = appendCount(b, int(n), " byte")
		return append(b, " of data, without a Fast Open cookie (RFC 9293 allows it)"...)
	case n > 0 && k > 0 && k < n:
		if h.Client.TFO {
			b = append(b, "the server accepted "...)
		} else {
			b = append(b, "it acknowledges "...)
		}
		b = appendInt(b, int64(k))
		b = append(b, " of the SYN's "...)
		b = appendCount(b, int(n), " byte")
		if h.Client.TFO {
			return append(b, " of Fast Open data"...)
		}
		return append(b, " of data"...)
	case k < 0:
		b = append(b, "it does not acknowledge the SYN of frame "...)
		b = appendUint(b, h.SynFrame)
		b = append(b, " ("...)
		b = appendInt(b, -int64(k))
		return append(b, " below ISN+1)"...)
	}
	b = append(b, "it does not answer the SYN of frame "...)
	return appendUint(b, h.SynFrame)
}

// appendRetransmission appends the start of a retransmission finding's
// sentence: what (kind), of which frame when the segment ends where its
// related frame did (relEndsFlag: it repeats that segment), and by whom.
func appendRetransmission(b []byte, fi Finding, kind string) []byte {
	b = append(b, kind...)
	if fi.RelatedFrame != 0 && fi.B&relEndsFlag != 0 {
		b = append(b, " of frame "...)
		b = appendUint(b, fi.RelatedFrame)
	}
	b = append(b, " by the "...)
	return append(b, sideName(fi.side())...)
}

// appendRetransmitted appends a retransmission's length and, when it does
// not repeat its related frame, how it stands against it: tshark's
// rto_frame is the frame that took the sender's sequence furthest, which
// an older segment sent again is behind (the segment it repeats is not
// known: a flow keeps no list of the segments sent).
func (f *Flow) appendRetransmitted(b []byte, fi Finding) []byte {
	b = appendSent(append(b, " ("...), fi)
	switch {
	case fi.RelatedFrame == 0 || fi.B&relEndsFlag != 0:
	case fi.B&relPastFlag != 0:
		b = append(b, ", some of them new after frame "...)
		b = appendUint(b, fi.RelatedFrame)
		b = append(b, "'s"...)
	default:
		b = append(b, "; frame "...)
		b = appendUint(b, fi.RelatedFrame)
		b = append(b, " had already gone past them"...)
		b = f.appendIgnoredRST(b, fi)
	}
	return append(b, ')')
}

// appendSent appends what a segment sent again carries, from its length
// (Finding.A) and flags (segSynFlag and friends in B): "100 bytes", "FIN",
// "100 bytes and FIN", "SYN-ACK", "SYN with 5 bytes".
func appendSent(b []byte, fi Finding) []byte {
	var flag string
	switch {
	case fi.B&segSynFlag != 0 && fi.B&segAckFlag != 0:
		flag = "SYN-ACK"
	case fi.B&segSynFlag != 0:
		flag = "SYN"
	case fi.B&segFinFlag != 0:
		flag = "FIN"
	}
	switch {
	case flag == "":
		return appendCount64(b, fi.A, " byte")
	case fi.A == 0:
		return append(b, flag...)
	case flag == "FIN":
		b = appendCount64(b, fi.A, " byte")
		return append(b, " and FIN"...)
	}
	b = append(b, flag...)
	b = append(b, " with "...)
	return appendCount64(b, fi.A, " byte")
}

// appendDSACK appends what a duplicate ACK's D-SACK block (RFC 2883)
// reports, and what that proves: the receiver got those bytes twice, so
// the sender's retransmission of them was not needed.
func appendDSACK(b []byte, fi Finding) []byte {
	lo, hi, ok := fi.dsackRange()
	if !ok {
		b = append(b, ", and reports bytes received twice (D-SACK)"...)
	} else {
		b = append(b, ", and reports bytes "...)
		b = appendUint(b, uint64(lo))
		b = append(b, "-"...)
		b = appendUint(b, uint64(hi))
		b = append(b, " (relative) received twice (D-SACK)"...)
	}
	b = append(b, ": the "...)
	b = append(b, sideName(fi.side().other())...)
	return append(b, "'s retransmission of them was spurious, the original having arrived too, or the network duplicated them"...)
}

// appendAnswer appends what shows that the SYN of a handshake.not_seen
// finding was answered (notSeenSynAckByServer or ByClient).
func appendAnswer(b []byte, fi Finding) []byte {
	if fi.A == notSeenSynAckByServer {
		if fi.RelatedFrame == 0 {
			return append(b, "a later packet from the server shows that the SYN was answered"...)
		}
		b = append(b, "frame "...)
		b = appendUint(b, fi.RelatedFrame)
		return append(b, " from the server shows that the SYN was answered"...)
	}
	if fi.RelatedFrame == 0 {
		return append(b, "a later ACK from the client shows that it received one"...)
	}
	b = append(b, "the client's ACK in frame "...)
	b = appendUint(b, fi.RelatedFrame)
	return append(b, " shows that it received one"...)
}

// appendWindow appends the window of a tcp.window_update finding: in
// bytes, the field scaled by the sender's window scale (Finding.A is the
// field, B the scale: windowScaleOf), as Wireshark's tcp.window_size and
// its Info column (Win=) show it. Unscaled, "window 93" read as 93 bytes
// where Linux on lo meant 95,232 (shift 10), and with the internet's
// usual shift of 7 every window read 128 times too small.
func (f *Flow) appendWindow(b []byte, fi Finding) []byte {
	n, known := windowBytes(fi)
	switch ws := windowScaleOf(fi); {
	case ws > 0:
		b = append(b, "window "...)
		b = appendInt(b, n)
		b = append(b, " bytes, field "...)
		b = appendInt(b, fi.A)
		b = append(b, " × "...)
		return appendInt(b, 1<<ws)
	case !known:
		b = append(b, "window field "...)
		b = appendInt(b, fi.A)
		b = append(b, ", unscaled: "...)
		syn, o := "SYN", &f.Handshake.Client
		if fi.side() == FromServer {
			syn, o = "SYN-ACK", &f.Handshake.Server
		}
		if o.Seen && o.Cut {
			b = append(b, "the options of the "...)
			b = append(b, syn...)
			return append(b, " were not captured whole, so the window scale is unknown"...)
		}
		b = append(b, "the "...)
		b = append(b, syn...)
		return append(b, " is not in the capture, so the window scale is unknown"...)
	}
	// No window scaling (wsNone), or a shift of 0: the field is the
	// window.
	b = append(b, "window "...)
	b = appendInt(b, n)
	return append(b, " bytes"...)
}

// appendBadSums names the bad checksums of a checksum finding, whose B
// holds sumIPv4Bad and friends: "bad TCP checksum", "bad IPv4 header and
// TCP checksums". The checksums of several packets (many) take a plural,
// those of one packet an article: "a bad TCP checksum".
func appendBadSums(b []byte, sums int64, one, many bool) []byte {
	both := sums&(sumIPv4Bad|sumTCPBad) == sumIPv4Bad|sumTCPBad
	if one && !both {
		b = append(b, "a "...)
	}
	b = append(b, "bad "...)
	switch {
	case both:
		return append(b, "IPv4 header and TCP checksums"...)
	case sums&sumIPv4Bad != 0:
		b = append(b, "IPv4 header checksum"...)
	case sums&sumTCPBad != 0:
		b = append(b, "TCP checksum"...)
	default:
		b = append(b, "checksum"...)
	}
	if many {
		b = append(b, 's')
	}
	return b
}

// appendEndpoint appends the address and port of side s, as
// netip.AddrPort.String writes them.
func (f *Flow) appendEndpoint(b []byte, s Side) []byte {
	if s == FromClient {
		return appendAddrPort(b, f.Client())
	}
	return appendAddrPort(b, f.Server())
}

// appendAddrPort appends ap as netip.AddrPort.String writes it.
func appendAddrPort(b []byte, ap netip.AddrPort) []byte {
	if !ap.Addr().IsValid() {
		return append(b, "invalid AddrPort"...)
	}
	return ap.AppendTo(b)
}

// appendShift appends what one side did about window scaling, for
// CodeWScaleOneSided.
func appendShift(b []byte, o SideOptions) []byte {
	if !o.HasWScale {
		return append(b, "did not"...)
	}
	b = append(b, "offered shift "...)
	return appendUint(b, uint64(o.WScale))
}

// appendRST appends the sentence of a tcp.rst finding: who reset, and,
// when its receiver did not take the RST or may not have (rstVerdict),
// its sequence number against the one expected, and what the receiver
// did with it.
func (f *Flow) appendRST(b []byte, fi Finding) []byte {
	s, kind := Side(fi.A&1), fi.rstKind()
	if kind == rstStale {
		return f.appendStaleRST(b, fi)
	}
	if kind != rstEnded && kind != rstInWindow {
		b = append(b, "reset by the "...)
	} else {
		b = append(b, "connection reset by the "...)
	}
	b = append(b, sideName(s)...)
	b = append(b, " ("...)
	b = f.appendEndpoint(b, s)
	b = append(b, ')')
	if kind == rstEnded {
		return b
	}
	seq, lo, span := uint32(uint64(fi.B)>>32), uint32(fi.B), uint32(fi.A>>8)
	b = append(b, " with seq "...)
	b = appendUint(b, uint64(seq))
	if kind == rstOutside {
		b = append(b, " outside the "...)
		b = append(b, sideName(s.other())...)
		b = append(b, "'s window (next expected "...)
		b = appendNextExpected(b, lo, span)
		b = append(b, "): the "...)
		b = append(b, sideName(s.other())...)
		if h := &f.Handshake; s == FromServer && h.AckChecked && int32(h.ActualAck-h.ExpectedAck) > 0 && lo-seq == h.ActualAck-h.ExpectedAck {
			// The seed: the client counts 2 bytes (SYN-ACK payload it
			// was given, or padding a device took in) that the server
			// does not, and its RST is as far behind as the ACK ahead.
			b = append(b, " ignores it: its ACK (frame "...)
			b = appendUint(b, h.AckFrame)
			b = append(b, ") counts "...)
			b = appendCount64(b, int64(h.ActualAck-h.ExpectedAck), " byte")
			return append(b, " that the server's sequence numbers do not"...)
		}
		return append(b, " ignores it (forged or stale?)"...)
	}
	b = append(b, ", in the "...)
	b = append(b, sideName(s.other())...)
	b = append(b, "'s window but not the next expected "...)
	b = appendNextExpected(b, lo, span)
	if kind == rstWentOn {
		return append(b, ": a receiver following RFC 5961 answers it with a challenge ACK, and the connection went on"...)
	}
	return append(b, " (a receiver following RFC 5961 answers it with a challenge ACK and goes on; no challenge ACK follows in the capture)"...)
}

// appendStaleRST appends the sentence of a tcp.rst finding of kind
// rstStale: the client's RST from SYN-SENT that cleared an older
// connection the server still held on these ports (resetsStale).
func (f *Flow) appendStaleRST(b []byte, fi Finding) []byte {
	b = append(b, "reset by the client ("...)
	b = f.appendEndpoint(b, FromClient)
	b = append(b, ") of an older connection on these ports, not of this one: the server answered the SYN with "...)
	b = appendStaleSegment(b, fi, "that connection")
	b = append(b, ", which it still held"...)
	if back := uint32(fi.B); back != 0 && uint64(back) < fi.Frame {
		if fi.A&rstStaleUnacked != 0 {
			b = append(b, " (the client never acknowledged its last segment, frame "...)
			b = appendUint(b, fi.Frame-uint64(back))
			b = append(b, ')')
		} else {
			b = append(b, " (the client's last ACK of it, frame "...)
			b = appendUint(b, fi.Frame-uint64(back))
			b = append(b, ", not taken)"...)
		}
	}
	b = append(b, "; a client in SYN-SENT answers such a segment with a RST at its ACK number (seq "...)
	b = appendUint(b, uint64(uint32(uint64(fi.B)>>32)))
	return append(b, ", RFC 9293 §3.10.7.3), which clears it"...)
}

// appendStaleSegment names the server's segment of an older connection
// (conn) that a rstStale RST answered: "an ACK of that connection (frame
// 480)".
func appendStaleSegment(b []byte, fi Finding, conn string) []byte {
	if fi.A&rstStaleFIN != 0 {
		b = append(b, "a FIN of "...)
	} else {
		b = append(b, "an ACK of "...)
	}
	b = append(b, conn...)
	if fi.RelatedFrame != 0 {
		b = append(b, " (frame "...)
		b = appendUint(b, fi.RelatedFrame)
		b = append(b, ')')
	}
	return b
}

// staleReset returns the flow's first tcp.rst finding of kind rstStale
// before frame: the client cleared an older connection the server held on
// these ports, and the findings after it that Wireshark's reckoning makes
// of the older connection's numbers say so.
func (f *Flow) staleReset(before uint64) (Finding, bool) {
	if !f.Has(CodeRST) {
		return Finding{}, false
	}
	for _, fi := range f.Findings {
		if fi.RSTOfStale() && fi.Frame < before {
			return fi, true
		}
	}
	return Finding{}, false
}

// appendStaleNote says, of the findings on the first SYN-ACK after a
// stale reset and on the client's ACK of it, that what Wireshark counts
// missing lies between the older connection's numbers (the server's
// stale segment) and this connection's ISN: nothing of this connection
// was missed. tshark flags them all the same, and so do we.
func (f *Flow) appendStaleNote(b []byte, fi Finding) []byte {
	h := &f.Handshake
	if !h.HaveSynAck || (fi.Code != CodeLostSegment && fi.Code != CodeAckUnseen) {
		return b
	}
	st, ok := f.staleReset(fi.Frame)
	switch {
	case !ok || st.RelatedFrame == 0:
		return b
	case fi.Code == CodeLostSegment && fi.Frame == h.SynAckFrame && fi.RelatedFrame == st.RelatedFrame:
		b = append(b, ": frame "...)
		b = appendUint(b, st.RelatedFrame)
		b = append(b, " was of an older connection on these ports and this SYN-ACK is the server's first segment of this one: "+
			"Wireshark counts the distance between their numbers"...)
	case fi.Code == CodeAckUnseen && fi.side() == FromClient && uint32(fi.A) == h.ServerISN+1:
		b = append(b, ": it acknowledges the SYN-ACK (frame "...)
		b = appendUint(b, h.SynAckFrame)
		b = append(b, "); Wireshark counts a gap before it from the numbers of an older connection on these ports (frame "...)
		b = appendUint(b, st.RelatedFrame)
		b = append(b, ')')
	}
	return b
}

// appendIgnoredRST says, when the frame a sequence finding names is a RST
// its receiver ignored (tcp.rst), that only Wireshark's reckoning, which
// takes any RST's sequence number, has the segment behind it: a forged
// RST far ahead made the sender's next real segment read "frame 6 had
// already gone past them".
func (f *Flow) appendIgnoredRST(b []byte, fi Finding) []byte {
	for _, g := range f.Findings {
		if ignored, _ := g.RSTIgnored(); ignored && g.Frame == fi.RelatedFrame {
			return append(b, ": it is a RST the receiver ignored, whose sequence number Wireshark counts"...)
		}
	}
	return b
}

// appendNextExpected appends the next sequence number a receiver expects:
// lo, or between lo and lo+span when the capture does not tell which.
func appendNextExpected(b []byte, lo, span uint32) []byte {
	if span == 0 {
		return appendUint(b, uint64(lo))
	}
	b = append(b, "between "...)
	b = appendUint(b, uint64(lo))
	b = append(b, " and "...)
	return appendUint(b, uint64(lo+span))
}

// sideName names side s in a sentence.
func sideName(s Side) string {
	if s == FromClient {
		return "client"
	}
	return "server"
}

// plural returns the s that follows a count of n things.
func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// appendCount appends n and the unit, with an s unless n is 1: "3 bytes".
func appendCount(b []byte, n int, unit string) []byte { return appendCount64(b, int64(n), unit) }

// appendCount64 is appendCount for a finding's number.
func appendCount64(b []byte, n int64, unit string) []byte {
	b = appendInt(b, n)
	b = append(b, unit...)
	if n != 1 {
		b = append(b, 's')
	}
	return b
}

// appendPayloadHex shows the first bytes of a payload of n bytes in hex
// (data holds those kept, at most synBytesKept), noting how many more
// there are, and those the capture did not hold (snap length): fewer kept
// than synBytesKept means the capture ended there.
func appendPayloadHex(b, data []byte, n int) []byte {
	shown := min(n, len(data))
	data = data[:shown]
	if shown == 0 {
		return append(b, "by its IP length; the bytes were not captured"...)
	}
	b = appendSpacedHex(append(b, "bytes "...), data)
	if n > shown {
		b = append(b, " …+"...)
		b = appendInt(b, int64(n-shown))
		if shown < synBytesKept {
			b = append(b, " not captured"...)
		}
	}
	return b
}

// spacedHex writes b in hex, a space between bytes.
func spacedHex(b []byte) string { return string(appendSpacedHex(nil, b)) }

// appendSpacedHex appends data in hex, a space between bytes.
func appendSpacedHex(b, data []byte) []byte {
	for i, c := range data {
		if i > 0 {
			b = append(b, ' ')
		}
		b = append(b, hexDigits[c>>4], hexDigits[c&0xF])
	}
	return b
}
