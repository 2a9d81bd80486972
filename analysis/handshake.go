package analysis

import "math"

// This file holds the handshake rules of the contract: what the SYN, the
// SYN-ACK and the third segment must look like, checked as each arrives,
// and the verdicts that need the whole capture (unanswered, incomplete, not
// seen) at the end.

// handshake applies the handshake rules to one segment of f; cp says
// whether the segment is a copy of an earlier one (copyOf).
func (f *Flow) handshake(p *Packet, side Side, cp copyNote) {
	h := &f.Handshake
	syn, ack, rst := p.Flags&FlagSYN != 0, p.Flags&FlagACK != 0, p.Flags&FlagRST != 0
	switch {
	case syn && !ack && side == FromClient:
		f.onSyn(p, cp)
	case syn && ack && (side == FromServer || f.selfConnected()):
		// A socket connected to its own address and port (the ephemeral
		// port self-connect) opens simultaneously with itself: its
		// packets all come from the client's side, and its SYN-ACK
		// repeats the SYN's ISN (tshark flags it a retransmission).
		f.onSynAck(p, cp)
	case rst && side == FromServer && h.HaveSyn && !h.HaveSynAck && !h.HaveAck && h.answeredAfter == 0:
		// The answer to the SYN is a reset: the port is closed, or a
		// firewall refused the connection.
		if !f.Has(CodeRefused) {
			f.addFinding(Finding{Code: CodeRefused, Frame: p.Frame, RelatedFrame: h.SynFrame})
		}
	case rst && side == FromClient && h.HaveSyn && h.HaveSynAck && !h.HaveAck:
		// The client aborts the handshake (it timed out, or its socket
		// was closed; Windows answers with RST,ACK): a reset is never the
		// third segment, whatever its ACK says. RFC 9293 takes the server
		// back to LISTEN, no firewall lets the connection through, and
		// Zeek's history has no 'A' (RSTO ShR). The finding is made now,
		// and it ends the search for a third segment.
		if !f.Has(CodeIncomplete) {
			f.addFinding(Finding{Code: CodeIncomplete, Frame: h.SynAckFrame, RelatedFrame: p.Frame, A: incompleteReset})
		}
	case ack && !syn && !rst && side == FromClient && h.HaveSynAck && !h.HaveAck && !f.Has(CodeIncomplete):
		f.onThirdSegment(p)
	case ack && !syn && !rst && h.HaveSyn && !h.HaveSynAck && h.answeredAfter == 0 && !f.Has(CodeRefused):
		f.noteAnswer(p, side)
	}
}

// Finding.A of a handshake.incomplete finding: the client reset the
// connection instead of sending the third segment (RelatedFrame is the
// reset).
const incompleteReset = 1

// Finding.A of a handshake.not_seen finding: the capture starts
// mid-connection; or it has the SYN but not the SYN-ACK, which a later
// packet from the server, or an ACK from the client, shows was sent
// (RelatedFrame is that packet, 0 when too far from the SYN to name).
const (
	notSeenMidConnection = iota
	notSeenSynAckByServer
	notSeenSynAckByClient
	// notSeenAfterEviction: the flow's connection had an earlier flow,
	// evicted to stay within --max-flows (Analyzer.evictedBefore).
	notSeenAfterEviction
)

// noteAnswer notes p when it shows that the SYN was answered though the
// capture has no SYN-ACK: a segment from the server that acknowledges the
// SYN and no more than the client has sent (so the server had the SYN, and
// answered it with a SYN-ACK the capture missed), or an ACK from the
// client after its SYN (a client sends no ACK before it has a SYN-ACK).
// The capture dropped the SYN-ACK, or holds one direction only (asymmetric
// routing, a one-way SPAN, tcpdump -Q out): the SYN was not unanswered,
// and calling it so sends the engineer looking for a firewall that drops
// SYNs. A server that still holds an older connection on these ports
// answers with a challenge ACK (RFC 5961) for that connection's numbers
// instead: no answer to this SYN, and the client resets.
func (f *Flow) noteAnswer(p *Packet, side Side) {
	h := &f.Handshake
	switch {
	case side == FromClient && seqLT(p.Seq, h.ClientISN+1):
		return // not after this SYN
	case side == FromServer && seqLT(p.Ack, h.ClientISN+1):
		return // not about this SYN
	case side == FromServer && f.dir[FromClient].nextSeq != 0 && seqGT(p.Ack, f.dir[FromClient].nextSeq):
		return // acknowledges what the client never sent: not this connection's
	}
	h.answeredBy = side
	h.answeredAfter = uint32(min(p.Frame-h.SynFrame, math.MaxUint32))
	if h.answeredAfter == 0 {
		h.answeredAfter = 1 // the same frame number: a capture that repeats them
	}
}

// resetsStale reports whether p, a RST from the client, answers the
// server's ACK of an older connection on these ports, and returns that
// ACK's frame. A server that still holds the older connection (in
// LAST-ACK, the client's last ACK of it lost; or waiting for the ACK of
// its own FIN) answers the new SYN with an ACK of that connection's
// numbers (a challenge ACK, RFC 5961 §4), or sends its FIN again. In
// SYN-SENT an ACK that acknowledges neither the SYN nor anything after it
// is unacceptable, and RFC 9293 §3.10.7.3 has the client answer it with
// <SEQ=SEG.ACK><CTL=RST>, which clears the older connection on the
// server; the client sends its SYN again (Linux after its retransmission
// timer), and that one opens this connection. Taken as a reset of this
// connection (rstVerdict finds it at the number the stale ACK expects),
// such a RST made every later segment with data "after the connection
// was reset". A RST whose sequence number is not that ACK's is the
// client's own abort, and ends the connection as before.
func (f *Flow) resetsStale(p *Packet) (uint64, bool) {
	h := &f.Handshake
	if !h.HaveSyn || h.HaveSynAck {
		return 0, false
	}
	sv := f.sideState(FromServer)
	if sv.window == 0xFFFFFFFF || p.Seq != sv.ack {
		return 0, false // nothing from the server, or not its ACK number
	}
	if seqGT(sv.ack, h.ClientISN) && seqLE(sv.ack, h.ClientISN+1+uint32(max(h.SynPayload, 0))) {
		return 0, false // it acknowledges the SYN (or its data): an answer to this connection
	}
	return f.frameAt(f.dir[FromServer].lastNonDupAck), true
}

// answerFrame returns the frame noteAnswer noted, 0 when it is too far
// from the SYN to name.
func (h *Handshake) answerFrame() uint64 {
	if h.answeredAfter == math.MaxUint32 {
		return 0
	}
	return h.SynFrame + uint64(h.answeredAfter)
}

// selfConnected reports whether both ends of f are one address and port.
func (f *Flow) selfConnected() bool {
	return f.clientPort == f.serverPort && f.clientW == f.serverW && f.clientKind == f.serverKind
}

func (f *Flow) onSyn(p *Packet, cp copyNote) {
	h := &f.Handshake
	if h.HaveSyn {
		if p.Seq == h.ClientISN {
			// A copy is not a SYN the client sent: Syns (#n in the
			// message, and the unanswered SYNs) counts those it sent.
			fi := Finding{Code: CodeSynRetransmit, Frame: p.Frame, RelatedFrame: h.SynFrame}
			if cp.ok() {
				fi.B = cp.pack(FromClient)
			} else {
				h.Syns++
				h.LastSynTime = p.Time
			}
			fi.A = int64(h.Syns)
			f.addFinding(fi)
		}
		return
	}
	h.HaveSyn = true
	h.Syns = 1
	h.SynFrame, h.SynTime, h.LastSynTime = p.Frame, p.Time, p.Time
	h.ClientISN = p.Seq
	h.SynPayload = int32(p.PayloadLen)
	h.keepPayload(true, p.Payload)
	h.Client = optionsOf(&p.Opts)
	h.tfoRequest = p.Opts.TFO && p.Opts.TFOCookieLen == 0
	switch {
	case p.Opts.TFO:
		// Whether the server accepted the data is known from the SYN-ACK.
		f.addFinding(Finding{Code: CodeTFO, Frame: p.Frame, A: int64(p.PayloadLen), B: -1})
	case p.PayloadLen > 0:
		f.addFinding(Finding{Code: CodeSynPayload, Frame: p.Frame, A: int64(p.PayloadLen)})
	}
	if !p.Opts.HasMSS && !p.Opts.Cut {
		f.addFinding(Finding{Code: CodeMSSMissing, Frame: p.Frame})
	}
	if h.HaveSynAck {
		f.onLateSyn(p)
	}
}

func (f *Flow) onSynAck(p *Packet, cp copyNote) {
	h := &f.Handshake
	if h.HaveSynAck {
		if p.Seq == h.ServerISN {
			fi := Finding{Code: CodeSynAckRetransmit, Frame: p.Frame, RelatedFrame: h.SynAckFrame}
			if cp.ok() {
				fi.B = cp.pack(FromServer)
			} else {
				h.SynAcks++
			}
			fi.A = int64(h.SynAcks)
			f.addFinding(fi)
		}
		return
	}
	h.HaveSynAck = true
	h.SynAcks = 1
	h.SynAckFrame, h.SynAckTime = p.Frame, p.Time
	f.answeredAfterRefusal(p)
	h.ServerISN = p.Seq
	h.SynAckAck = p.Ack
	h.SynAckPayload = int32(p.PayloadLen)
	h.SynAckPadding = int32(len(p.Padding))
	h.keepPayload(false, p.Payload)
	h.Server = optionsOf(&p.Opts)
	if !h.HaveSyn {
		f.addFinding(Finding{Code: CodeSynAckWithoutSyn, Frame: p.Frame})
	} else {
		f.checkSynAck()
	}
	if p.PayloadLen > 0 {
		hint := int64(0)
		if looksLikePadding(p) {
			hint = 1
		}
		f.addFinding(Finding{Code: CodeSynAckPayload, Frame: p.Frame, A: int64(p.PayloadLen), B: hint})
	}
	if !p.Opts.HasMSS && !p.Opts.Cut {
		f.addFinding(Finding{Code: CodeMSSMissing, Frame: p.Frame})
	}
}

// checkSynAck checks the SYN-ACK's ACK and options against the SYN's, once
// both are known.
func (f *Flow) checkSynAck() {
	h := &f.Handshake
	ack := h.SynAckAck
	expected := h.ClientISN + 1
	switch {
	case h.Client.TFO && ack == h.ClientISN+1+uint32(h.SynPayload):
		expected = ack
		h.TFOAccepted = h.SynPayload > 0
	case h.Client.Cut && h.SynPayload > 0 && ack == h.ClientISN+1+uint32(h.SynPayload):
		// The SYN's options were not all captured: a Fast Open
		// cookie may be among them, and this ACK accepts its data.
		expected = ack
	}
	for i := range f.Findings {
		if fi := &f.Findings[i]; fi.Code == CodeTFO {
			fi.B = 0
			if h.TFOAccepted {
				fi.B = 1
			}
		}
	}
	if ack != expected {
		f.addFinding(Finding{Code: CodeSynAckAckMismatch, Frame: h.SynAckFrame, RelatedFrame: h.SynFrame,
			A: int64(expected), B: int64(ack)})
	}
	// A side whose options were not all captured may have offered
	// the window scale that is missing: nothing to conclude.
	if h.Client.HasWScale != h.Server.HasWScale && !(h.Client.Cut && !h.Client.HasWScale) && !(h.Server.Cut && !h.Server.HasWScale) {
		f.addFinding(Finding{Code: CodeWScaleOneSided, Frame: h.SynAckFrame, RelatedFrame: h.SynFrame})
	}
}

// synAckBeforeSyn, in A of a handshake.synack_without_syn finding: the
// SYN came after all, later in the capture than its SYN-ACK (RelatedFrame).
const synAckBeforeSyn = 1

// onLateSyn is onSyn's end when the SYN-ACK came first in the capture:
// two directions captured apart (two taps, a tap per direction) and
// merged, whose clocks put the answer before the question. When the
// SYN-ACK answers this SYN, its synack_without_syn finding says so, for
// "no SYN in the capture" was false with the SYN the next frame, and the
// checks of the SYN-ACK against the SYN are made now.
func (f *Flow) onLateSyn(p *Packet) {
	h := &f.Handshake
	if !seqLE(p.Seq+1, h.SynAckAck) || !seqLE(h.SynAckAck, p.Seq+1+uint32(p.PayloadLen)) {
		return
	}
	for i := range f.Findings {
		if fi := &f.Findings[i]; fi.Code == CodeSynAckWithoutSyn && fi.A == 0 {
			fi.A, fi.RelatedFrame = synAckBeforeSyn, p.Frame
		}
	}
	f.checkSynAck()
}

// refusedRetried, in A of a handshake.refused finding: the client sent
// its SYN again after the reset, and the server answered it (B is the
// SYN-ACK's frame). A warning: Windows tries a refused connect() again, and
// a service that came up (a load balancer's pool that recovered) lets the
// connection through; it read "handshake refused ✗" though established.
const refusedRetried = 1

// answeredAfterRefusal notes, at the first SYN-ACK, that a refusal before
// it did not end the connection: the refusal's finding says the client
// tried again and was answered, and the reset that closed the flow no
// longer does (closeState), or the connection's data would be "after the
// connection was reset".
func (f *Flow) answeredAfterRefusal(p *Packet) {
	if !f.Has(CodeRefused) {
		return
	}
	for i := range f.Findings {
		if fi := &f.Findings[i]; fi.Code == CodeRefused && fi.A == 0 {
			fi.A, fi.B = refusedRetried, int64(p.Frame)
			if f.rst == rstTaken && f.closeFrame == fi.Frame {
				f.rst, f.closed, f.closeFrame = rstNone, false, 0
			}
		}
	}
}

// onThirdSegment checks the first segment from the client with ACK set after
// the SYN-ACK: its ACK must be the server's ISN+1.
func (f *Flow) onThirdSegment(p *Packet) {
	h := &f.Handshake
	h.HaveAck = true
	h.AckFrame, h.AckTime = p.Frame, p.Time
	h.ExpectedAck = h.ServerISN + 1
	h.ActualAck = p.Ack
	// A client ACK of server data the capture holds, beyond the SYN-ACK's
	// own payload, means the capture missed the third segment (a server
	// that speaks first, SSH or SMTP, answers it at once): this one
	// acknowledges bytes that were sent, and is no third segment to
	// compare with ISN+1.
	if sv := &f.dir[FromServer]; p.Ack != h.ExpectedAck && sv.nextSeq != 0 &&
		seqGT(p.Ack, h.ExpectedAck+uint32(max(h.SynAckPayload, 0))) && seqLE(p.Ack, sv.nextSeq) {
		return
	}
	h.AckChecked = true
	if p.Ack != h.ExpectedAck {
		f.addFinding(Finding{Code: CodeAckMismatch, Frame: p.Frame, RelatedFrame: h.SynAckFrame,
			A: int64(h.ExpectedAck), B: int64(p.Ack)})
	}
}

// finishHandshake gives the verdicts that need the whole capture, and sets
// the handshake status.
func (f *Flow) finishHandshake() {
	h := &f.Handshake
	switch {
	case h.HaveSyn && !h.HaveSynAck && h.answeredAfter != 0:
		a := int64(notSeenSynAckByServer)
		if h.answeredBy == FromClient {
			a = notSeenSynAckByClient
		}
		f.addFinding(Finding{Code: CodeNotSeen, Frame: h.SynFrame, RelatedFrame: h.answerFrame(), A: a})
	case h.HaveSyn && !h.HaveSynAck && !f.Has(CodeRefused):
		f.addFinding(Finding{Code: CodeUnanswered, Frame: h.SynFrame, A: int64(h.Syns), B: h.LastSynTime - h.SynTime})
	case h.HaveSyn && h.HaveSynAck && !h.HaveAck && !f.Has(CodeIncomplete):
		f.addFinding(Finding{Code: CodeIncomplete, Frame: h.SynAckFrame, RelatedFrame: h.SynFrame})
	case !h.HaveSyn && !h.HaveSynAck:
		a := int64(notSeenMidConnection)
		if f.notes != nil && f.notes.afterEviction {
			a = notSeenAfterEviction
		}
		f.addFinding(Finding{Code: CodeNotSeen, Frame: f.FirstFrame, A: a})
	}
	h.Status = f.handshakeStatus()
}

// handshakeStatus returns the handshake status of what was seen so far.
// finishHandshake sets it, and provisional gives it before the end.
//
// The contract defines incomplete as "SYN and SYN-ACK seen, no third
// segment", and complete as all three. Where it is silent, the status says
// what a network engineer would conclude: a SYN-ACK whose SYN came before
// the capture (it started just after the client connected) is not_seen,
// with handshake.synack_without_syn, whether or not the third segment
// follows; so is a SYN whose SYN-ACK the capture missed though a later
// packet shows it was sent (noteAnswer), not unanswered.
func (f *Flow) handshakeStatus() HandshakeStatus {
	h := &f.Handshake
	for _, fi := range f.Findings {
		if fi.Code.IsHandshake() && fi.Severity() == Error && fi.Code != CodeRefused && fi.Code != CodeUnanswered {
			return HSInvalid
		}
	}
	switch {
	case f.Has(CodeRefused) && !h.HaveSynAck:
		return HSRefused
	case !h.HaveSyn:
		return HSNotSeen
	case h.HaveSynAck && h.HaveAck:
		return HSComplete
	case h.HaveSynAck:
		return HSIncomplete
	case h.answeredAfter != 0:
		return HSNotSeen
	}
	return HSUnanswered
}

// looksLikePadding reports whether a segment's payload is what a device in
// the path would make of Ethernet padding taken into the IP datagram: all
// zero bytes, in a datagram that exactly fills a minimum-size Ethernet frame
// (60 bytes without the FCS, or 64 with an 802.1Q tag). An IPv6 TCP segment
// never needs padding, so its payload never looks like it.
func looksLikePadding(p *Packet) bool {
	if p.PayloadLen == 0 || len(p.Payload) < p.PayloadLen {
		return false
	}
	for _, b := range p.Payload {
		if b != 0 {
			return false
		}
	}
	// The datagram fills a minimum frame untagged (46 bytes of IP), or
	// with the tags the capture shows.
	eth := p.IPTotalLen + 14
	tagged := eth + 4*p.NVLAN
	return eth == 60 || tagged == 60 || tagged == 64
}
