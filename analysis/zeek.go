package analysis

import (
	"math/bits"
	"strings"
)

// This file computes what Zeek logs in conn.log for one TCP connection: the
// conn_state and history fields. It follows Zeek's TCP analyzer
// (src/packet_analysis/protocol/tcp/TCPSessionAdapter.cc: Process,
// update_history, update_window, update_last_seq, init_endpoint, init_peer
// and the Update*State functions; TCPAnalyzer::WantConnection and
// ValidateChecksum in TCP.cc), the endpoint's scaled history entries
// (TCP_Endpoint.cc, Connection::ScaledHistoryEntry), the content-gap check of
// TCP_Reassembler (Gap, Undelivered, AckReceived) and the conn_state function
// of scripts/base/protocols/conn/main.zeek.

// zeekTooLargeSeqDelta is TOO_LARGE_SEQ_DELTA: SYN and RST sequence numbers
// that far from the last one seen are not trusted.
const zeekTooLargeSeqDelta = 1048576

// zeekHistoryMax is the room for history letters; see zeekState.
const zeekHistoryMax = 24

// Bits of Connection::hist_seen (TCP_Endpoint.h HIST_*). The responder's
// bits are shifted left by 16.
const (
	zeekHistSYN    uint32 = 0x1
	zeekHistFIN    uint32 = 0x2
	zeekHistRST    uint32 = 0x4
	zeekHistFINRST uint32 = 0x8
	zeekHistData   uint32 = 0x10
	zeekHistACK    uint32 = 0x20
	zeekHistMulti  uint32 = 0x40
)

// zeekSeg is one TCP segment as Zeek's TCP analyzer sees it.
type zeekSeg struct {
	FromFirst   bool   // sent by the endpoint that sent the connection's first captured packet
	Flags       uint8  // TCP flags byte: FIN 0x01 SYN 0x02 RST 0x04 PSH 0x08 ACK 0x10 URG 0x20 ECE 0x40 CWR 0x80
	Seq, Ack    uint32 // sequence and acknowledgement numbers, absolute
	PayloadLen  int    // TCP payload length from the IP length (not the captured length)
	Window      uint16 // raw window field
	BadChecksum bool   // checksum verified and wrong (Zeek skips such packets except for the 'c' letter)
}

// zeekEndpointState is Zeek's TCP endpoint state (TCP_ENDPOINT_*, the
// script-level TCP_INACTIVE … TCP_RESET).
type zeekEndpointState uint8

// The endpoint states of Zeek's TCP analyzer.
const (
	zeekInactive zeekEndpointState = iota
	zeekSynSent
	zeekSynAckSent
	zeekPartial
	zeekEstablished
	zeekClosed
	zeekReset
)

func (s zeekEndpointState) String() string {
	switch s {
	case zeekInactive:
		return "INACTIVE"
	case zeekSynSent:
		return "SYN_SENT"
	case zeekSynAckSent:
		return "SYN_ACK_SENT"
	case zeekPartial:
		return "PARTIAL"
	case zeekEstablished:
		return "ESTABLISHED"
	case zeekClosed:
		return "CLOSED"
	case zeekReset:
		return "RESET"
	}
	return "?"
}

// going reports whether an endpoint in state s takes a segment without
// SYN, FIN or RST as an established one does (process): init_endpoint
// and the state machine leave it as it is, and update_last_seq moves it.
// All states do but inactive (an endpoint's first segment) and reset
// (nothing after a RST is trusted). The shortcuts take both endpoints'
// segments in these states: with established ones alone, the segments
// after a connection's first FIN went through process (19 instructions a
// packet on the benchmark file, 55 on small frames; cachegrind, builds
// without default.pgo).
func (s zeekEndpointState) going() bool { return s-zeekSynSent <= zeekClosed-zeekSynSent }

// zeekEndpoint is the part of Zeek's TCP_Endpoint (and of its
// TCP_Reassembler) that conn_state and history depend on. Sequence numbers
// are absolute except where marked relative (to start, as Zeek's rel_seq).
type zeekEndpoint struct {
	start, last, ack uint32 // start_seq, last_seq (one past the highest segment), ack_seq (highest ACK from the peer)
	// reassem is the relative sequence number up to which this endpoint's
	// stream was seen without a hole (TCP_Reassembler::last_reassem_seq;
	// 0 stands for its initial value 1).
	reassem                   uint32
	lastSYN, lastFIN, lastRST uint32 // hist_last_SYN/FIN/RST, relative
	chk, rxmt, win0           uint32 // counters of the scaled letters c, t, w
	gap                       uint16 // counter of the scaled letter g (stops at 65535)
	state, prev               zeekEndpointState
}

// Bits of zeekState.bits.
const (
	zeekStarted      uint8 = 1 << iota // the first segment was seen
	zeekSecondIsOrig                   // roles flipped: the first sender is Zeek's responder
	zeekPartialConn                    // TCPSessionAdapter::is_partial
	zeekSeenOrig                       // first_packet_seen & ORIG
	zeekSeenResp                       // first_packet_seen & RESP
	zeekFINFirst                       // FIN_cnt > 0 for ep[0]
	zeekFINSecond                      // FIN_cnt > 0 for ep[1]
)

// zeekState reproduces Zeek's conn_state and history for one TCP connection,
// fed every segment of the flow in capture order. It is 120 bytes, and
// observe never allocates (the history is kept in a fixed array).
//
// What it models, as Zeek does:
//   - the endpoint state machine (INACTIVE, SYN_SENT, SYN_ACK_SENT, PARTIAL,
//     ESTABLISHED, CLOSED, RESET), including partial connections, the
//     re-initialisation of sequence numbers by SYNs, and the SYN/SYN-ACK
//     reversal that flips the roles ('^');
//   - the letters s h a d f r i q, once per direction for a d i q, and for
//     s h f r again whenever the relative sequence number differs from the
//     last packet of that kind (a SYN-ACK or FIN carrying data adds no 'd');
//   - c t w g with Zeek's logarithmic repeats: the letter is added at the
//     1st, 10th, 100th … event of its kind from that endpoint
//     (Connection::ScaledHistoryEntry, base 10; the gap counter stops at
//     65535 events, the others at 2^32-1);
//   - 'c': a segment with BadChecksum adds c/C and is otherwise ignored, as
//     Zeek drops it before the TCP analyzer (so a lone bad SYN is "C", OTH);
//   - 't' is not "a retransmission" in the Wireshark sense: Zeek adds it for
//     any segment with payload whose end (seq+len, counting SYN and FIN, not
//     counting the payload of a RST) is not beyond the highest end already
//     seen from that endpoint. That includes out-of-order segments, 1-byte
//     keep-alives, a RST carrying bytes below the highest sequence seen, and
//     a SYN or SYN-ACK carrying data (Zeek sets last_seq to the end of the
//     SYN before it checks, so TFO and the seed's 2-byte SYN-ACK give 't');
//   - 'w': a segment advertising a zero window, except with or after a RST,
//     or after the peer's FIN;
//   - 'g': the peer acknowledges data of this endpoint that was not seen
//     (a content gap), only while both endpoints are established or closing
//     cleanly, and not for the first ACK of a partial connection.
//
// Limits:
//   - Roles. Zeek's originator is the first packet's sender, flipped when its
//     source port is in likely_server_ports (which depends on the Zeek
//     version and the scripts loaded). Without ports, a connection whose
//     first packet is a SYN-ACK is always flipped ('^' first): that is what
//     Zeek does for a SYN-ACK from a server port, and what Zeek 5.1 and
//     later do anyway when an ACK or data follows it (zeek/zeek#2191). A
//     lone SYN-ACK, or one answered only by a RST, from a port Zeek does not
//     know stays unflipped in Zeek. A mid-stream first packet from a server
//     port is never flipped here; Zeek flips it.
//   - Reuse. Zeek starts a new conn.log entry when a SYN does not carry the
//     connection's ISN, when any SYN follows a FIN or RST, or when a SYN-ACK
//     reaches an originator that has sent nothing and does not carry the
//     responder's ISN (TCPSessionAdapter::IsReuse, checked before the
//     checksum).
//     The flow code may keep such segments in one flow; then connState and
//     history describe Zeek's last connection and connCount says how many
//     Zeek logged.
//   - No timers. Zeek also ends a connection on timeouts: a SYN unanswered
//     for tcp_attempt_delay (5 s) is logged and later SYNs start a new
//     entry; so do packets later than tcp_close_delay (5 s) after a close,
//     or than tcp_inactivity_timeout (5 min) after the last one. Segments
//     carry no time here; the flow code decides where a connection ends.
//   - Gaps: the reassembler is reduced to one contiguous-until mark per
//     endpoint. A hole is reported once when the peer's ACK crosses it;
//     data seen above a hole is assumed contiguous when the hole is filled
//     or skipped. Zeek's 'g' also follows from truncated payloads
//     (snaplen), which this API cannot see.
//   - Sequence space beyond 2 GiB per direction (Zeek's wrap counters) is
//     not tracked.
//   - The history is cut after zeekHistoryMax letters (Zeek's is not);
//     only long runs of s/h/f/r with changing sequence numbers get there.
type zeekState struct {
	ep       [2]zeekEndpoint // [0] sent the first captured segment, [1] is its peer
	histSeen uint32          // Connection::hist_seen: low 16 bits originator, high 16 responder
	hist     [zeekHistoryMax]byte
	histLen  uint8
	bits     uint8
	conns    uint8 // conn.log entries so far, see connCount
}

// observe feeds one segment, p, in capture order; fromFirst says whether
// the endpoint that sent the connection's first captured packet sent it.
// Most segments take established, or closing, straight from the Packet:
// building the zeekSeg that observeAll takes, and passing it, was 25-35
// instructions a packet.
func (z *zeekState) observe(p *Packet, fromFirst bool) {
	if !z.shortcut(p, fromFirst) {
		z.observePacket(p, fromFirst)
	}
}

// shortcut takes p as observe does when established or closing can, and
// reports whether it did; having changed nothing when it did not.
func (z *zeekState) shortcut(p *Packet, fromFirst bool) bool {
	if p.Flags&(FlagSYN|FlagRST) != 0 || p.TCPChecksum == CheckBad {
		return false
	}
	if p.Flags&FlagFIN == 0 {
		return z.established(p, fromFirst)
	}
	return z.closing(p, fromFirst)
}

// observePacket is observeAll for p.
func (z *zeekState) observePacket(p *Packet, fromFirst bool) {
	z.observeAll(zeekSeg{FromFirst: fromFirst, Flags: p.Flags, Seq: p.Seq, Ack: p.Ack,
		PayloadLen: p.PayloadLen, Window: p.Window, BadChecksum: p.TCPChecksum == CheckBad})
}

// established takes a segment, s, of an established connection, without SYN,
// FIN or RST, and with a checksum not known bad, in a few steps: what
// process does with such a segment once both endpoints are established
// (or in any state but inactive and reset: going) and the segment's role
// has been seen. It reports false, having changed nothing, for any other
// segment. TestZeekEstablishedSame holds it to observeAll.
//
// It writes the segment's history letter (D, or A) the first time too:
// declining those, each connection's first data from either side and
// first ACK went through process, 51 instructions a packet on the
// benchmark file and 122 on small frames. The tail of update_last_seq and
// AckReceived that only a retransmission or an ACK past the reassembled
// stream reaches stays in updateLastSeq and ackReceived, called for those
// alone: calling them for every segment was 38 and 29 a packet.
func (z *zeekState) established(s *Packet, fromFirst bool) bool {
	i := 1
	if fromFirst {
		i = 0
	}
	e, p := &z.ep[i], &z.ep[1-i]
	if !e.state.going() || !p.state.going() || s.Window == 0 || z.bits&zeekStarted == 0 {
		return false
	}
	orig := z.isOrig(i)
	seen := zeekSeenResp
	if orig {
		seen = zeekSeenOrig
	}
	if z.bits&seen == 0 {
		return false
	}
	n := max(s.PayloadLen, 0)
	ack := s.Flags&FlagACK != 0
	// update_history.
	if n > 0 || ack {
		mask, code := zeekHistACK, byte('A')
		if n > 0 {
			mask, code = zeekHistData, 'D'
		}
		if !orig {
			mask <<= 16
		}
		if z.histSeen&mask == 0 {
			z.histSeen |= mask
			z.add(i, code)
		}
	}
	var relAck uint32
	if ack {
		relAck = p.ackSeen(s.Ack, false)
	}
	// update_last_seq, for a segment without SYN, FIN or RST from an
	// endpoint that is not reset.
	if end := s.Seq + uint32(n); int32(end-e.last) > 0 {
		e.last = end
	} else if n > 0 {
		z.updateLastSeq(i, e, s.Flags, end, n)
	}
	// AckReceived does nothing with an ACK that is not past the peer's
	// reassembled stream (the FIN can only lower it).
	if ack && relAck > max(p.reassem, 1) {
		z.ackReceived(1-i, relAck)
	}
	if rel := s.Seq - e.start; n > 0 && int32(rel) >= 0 {
		z.dataSent(e, rel, uint32(n))
	}
	return true
}

// closing is established for a FIN (without SYN or RST): what process
// does with it when both endpoints are going and its role has been seen.
// It reports false, having changed nothing, for any other segment.
// Through process, a connection's FINs cost 17 instructions a packet on
// the benchmark file and 38 on small frames.
func (z *zeekState) closing(s *Packet, fromFirst bool) bool {
	i := 1
	if fromFirst {
		i = 0
	}
	e, p := &z.ep[i], &z.ep[1-i]
	if !e.state.going() || !p.state.going() || s.Window == 0 || z.bits&zeekStarted == 0 {
		return false
	}
	seen := zeekSeenResp
	if z.isOrig(i) {
		seen = zeekSeenOrig
	}
	if z.bits&seen == 0 {
		return false
	}
	n := max(s.PayloadLen, 0)
	ack := s.Flags&FlagACK != 0
	rel := s.Seq - e.start
	// update_history: F, the first time or at another sequence number
	// (the one after the data); no D for the data.
	if z.checkHistory(i, zeekHistFIN, 'F') && rel+uint32(n) != e.lastFIN {
		z.add(i, 'F')
	}
	e.lastFIN = rel + uint32(n)
	z.setFINSeen(i)
	var relAck uint32
	if ack {
		relAck = p.ackSeen(s.Ack, false)
	}
	z.updateLastSeq(i, e, s.Flags, s.Seq+uint32(n)+1, n)
	// The state machine: a FIN closes an endpoint in any going state
	// (the peer, going, is not reset).
	e.set(zeekClosed)
	if ack {
		z.ackReceived(1-i, relAck)
	}
	if n > 0 && int32(rel) >= 0 {
		z.dataSent(e, rel, uint32(n))
	}
	return true
}

// observeAll is observe for any segment.
func (z *zeekState) observeAll(s zeekSeg) {
	i := 1
	if s.FromFirst {
		i = 0
	}
	if z.bits&zeekStarted != 0 && z.isReuse(s) {
		// Zeek logs the connection so far and starts a new one with
		// this segment.
		conns := z.conns
		*z = zeekState{conns: conns}
	}
	if z.bits&zeekStarted == 0 {
		z.bits |= zeekStarted
		if z.conns < ^uint8(0) {
			z.conns++
		}
		if i == 1 {
			z.bits |= zeekSecondIsOrig
		}
		// TCPAnalyzer::WantConnection decides the roles on the first
		// packet, even one whose checksum is bad. See the limits above.
		if s.Flags&(FlagSYN|FlagACK) == FlagSYN|FlagACK {
			z.flipRoles()
		}
	}
	if s.BadChecksum {
		// TCPAnalyzer::ValidateChecksum: ChecksumError, then the packet
		// is dropped.
		z.scaled(i, zeekBump(&z.ep[i].chk), 'C')
		return
	}
	z.process(i, s)
}

// isReuse is TCPSessionAdapter::IsReuse, which Zeek asks before the
// checksum is verified: a SYN whose sequence number is not the
// connection's ISN, any SYN once an endpoint has closed, or a SYN-ACK at an
// originator that has sent nothing and with a sequence number that is not
// the responder's ISN, starts a new connection.
func (z *zeekState) isReuse(s zeekSeg) bool {
	if s.Flags&FlagSYN == 0 {
		return false
	}
	o := z.origIndex()
	orig, resp := &z.ep[o], &z.ep[1-o]
	connOrig := orig
	if s.Flags&FlagACK != 0 {
		if orig.state != zeekInactive {
			return false
		}
		connOrig = resp
	}
	if z.closed() {
		return true
	}
	if s.Seq == connOrig.start {
		return false
	}
	// A SYN that belongs before a SYN-ACK already seen.
	return s.Flags&FlagACK != 0 || connOrig.state != zeekSynAckSent || resp.state != zeekInactive || s.Seq != resp.start
}

// closed is TCPSessionAdapter::IsClosed: an endpoint closed with a FIN or a
// RST.
func (z *zeekState) closed() bool {
	for _, e := range z.ep {
		if e.state == zeekClosed || e.state == zeekReset {
			return true
		}
	}
	return false
}

// connCount is the number of conn.log entries Zeek writes for the segments
// observed: more than one when Zeek saw a reuse of the connection (see
// isReuse). connState and history describe the last of them.
func (z *zeekState) connCount() int { return int(z.conns) }

// connState is conn_state as base/protocols/conn/main.zeek computes it.
func (z *zeekState) connState() string {
	o, r := z.origIndex(), 1-z.origIndex()
	os, rs := z.ep[o].state, z.ep[r].state
	oInactive := os == zeekInactive || os == zeekPartial
	rInactive := rs == zeekInactive || rs == zeekPartial
	switch {
	case rs == zeekReset:
		if os == zeekSynSent || os == zeekSynAckSent || (os == zeekReset && z.size(o) == 0 && z.size(r) == 0) {
			return "REJ"
		}
		if oInactive {
			return "RSTRH"
		}
		return "RSTR"
	case os == zeekReset:
		if rInactive {
			if zeekRSTOS0History(z.history()) {
				return "RSTOS0"
			}
			return "OTH"
		}
		return "RSTO"
	case rs == zeekClosed && os == zeekClosed:
		return "SF"
	case os == zeekClosed:
		if rInactive {
			return "SH"
		}
		return "S2"
	case rs == zeekClosed:
		if oInactive {
			return "SHR"
		}
		return "S3"
	case os == zeekSynSent && rs == zeekInactive:
		return "S0"
	case os == zeekEstablished && rs == zeekEstablished:
		return "S1"
	}
	return "OTH"
}

// history is the history string as Zeek logs it.
func (z *zeekState) history() string { return string(z.hist[:z.histLen]) }

// flipped reports whether Zeek's originator (in its last connection, see
// connCount) is the endpoint that did not send the flow's first segment:
// Zeek swapped the roles, as it does when the first packet is a SYN-ACK.
// Each swap writes a '^' into the history.
func (z *zeekState) flipped() bool { return z.bits&zeekSecondIsOrig != 0 }

// String describes the state, for test failures and debugging.
func (z *zeekState) String() string {
	o := z.origIndex()
	var b strings.Builder
	b.WriteString("zeek{orig=")
	b.WriteString(z.ep[o].state.String())
	b.WriteString(" resp=")
	b.WriteString(z.ep[1-o].state.String())
	if z.flipped() {
		b.WriteString(" flipped")
	}
	b.WriteString(" conn_state=")
	b.WriteString(z.connState())
	b.WriteString(" history=")
	b.WriteString(z.history())
	b.WriteString("}")
	return b.String()
}

// zeekRSTOS0History matches the history against /\^?S[^HAFGIQ]*R.*/, the
// pattern conn_state uses to tell RSTOS0 from OTH.
func zeekRSTOS0History(h string) bool {
	h = strings.TrimPrefix(h, "^")
	if !strings.HasPrefix(h, "S") {
		return false
	}
	for _, c := range h[1:] {
		switch c {
		case 'R':
			return true
		case 'H', 'A', 'F', 'G', 'I', 'Q':
			return false
		}
	}
	return false
}

func (z *zeekState) origIndex() int {
	if z.bits&zeekSecondIsOrig != 0 {
		return 1
	}
	return 0
}

func (z *zeekState) isOrig(i int) bool { return i == z.origIndex() }

func (z *zeekState) partial() bool { return z.bits&zeekPartialConn != 0 }

func (z *zeekState) setPartial(v bool) {
	if v {
		z.bits |= zeekPartialConn
	} else {
		z.bits &^= zeekPartialConn
	}
}

// setFirstPacketSeen is TCPSessionAdapter::SetFirstPacketSeen.
func (z *zeekState) setFirstPacketSeen(orig bool) {
	if orig {
		z.bits |= zeekSeenOrig
	} else {
		z.bits |= zeekSeenResp
	}
}

// flipRoles is Connection::FlipRoles with TCPSessionAdapter::FlipRoles: the
// endpoints swap roles (hist_seen is not swapped) and '^' is appended.
func (z *zeekState) flipRoles() {
	z.bits ^= zeekSecondIsOrig
	seen := z.bits & (zeekSeenOrig | zeekSeenResp)
	z.bits &^= zeekSeenOrig | zeekSeenResp
	if seen&zeekSeenOrig != 0 {
		z.bits |= zeekSeenResp
	}
	if seen&zeekSeenResp != 0 {
		z.bits |= zeekSeenOrig
	}
	z.setPartial(false)
	z.addRaw('^')
}

// addRaw appends one letter to the history.
func (z *zeekState) addRaw(c byte) {
	if int(z.histLen) == len(z.hist) {
		return
	}
	z.hist[z.histLen] = c
	z.histLen++
}

// add is TCP_Endpoint::AddHistory: the letter in the case of endpoint i's
// current role.
func (z *zeekState) add(i int, code byte) {
	if !z.isOrig(i) {
		code += 'a' - 'A'
	}
	z.addRaw(code)
}

// checkHistory is TCP_Endpoint::CheckHistory: it adds the letter the first
// time and reports whether it had been seen before.
func (z *zeekState) checkHistory(i int, mask uint32, code byte) bool {
	if !z.isOrig(i) {
		mask <<= 16
	}
	if z.histSeen&mask != 0 {
		return true
	}
	z.histSeen |= mask
	z.add(i, code)
	return false
}

// scaled adds the letter of a Connection::ScaledHistoryEntry (base 10) when
// zeekBump reports that its counter reached 1, 10, 100, ….
func (z *zeekState) scaled(i int, hit bool, code byte) {
	if hit {
		z.add(i, code)
	}
}

// zeekBump increments a scaled-letter counter, stopping at its maximum, and
// reports whether it has just reached a power of 10.
func zeekBump[T uint16 | uint32](counter *T) bool {
	if *counter == ^T(0) {
		return false
	}
	*counter++
	n := uint32(*counter)
	for n%10 == 0 {
		n /= 10
	}
	return n == 1
}

// finSeen reports FIN_cnt > 0 for endpoint i; setFINSeen sets it.
func (z *zeekState) finSeen(i int) bool { return z.bits&(zeekFINFirst<<i) != 0 }

func (z *zeekState) setFINSeen(i int) { z.bits |= zeekFINFirst << i }

// set is TCP_Endpoint::SetState.
func (e *zeekEndpoint) set(s zeekEndpointState) {
	if s != e.state {
		e.prev = e.state
		e.state = s
	}
}

// clean is is_clean in TCP_Reassembler.cc.
func (e *zeekEndpoint) clean() bool {
	return e.state == zeekEstablished || (e.state == zeekClosed && e.prev == zeekEstablished)
}

// relLast is last_seq relative to start_seq.
func (e *zeekEndpoint) relLast() uint32 { return e.last - e.start }

// size is TCP_Endpoint::Size (without 64-bit wrap counting).
func (z *zeekState) size(i int) uint32 {
	e, p := &z.ep[i], &z.ep[1-i]
	noDataAcked := e.ack == e.start || e.ack == e.start+1
	if e.prev == zeekSynSent && e.state == zeekReset && p.state == zeekInactive && !noDataAcked {
		return 0
	}
	d := int32(e.last - e.start)
	if a := int32(e.ack - e.start); a > d {
		d = a
	}
	if d <= 0 {
		return 0
	}
	n := uint32(d) - 1
	if z.finSeen(i) && n != 0 {
		n--
	}
	return n
}

// process is TCPSessionAdapter::Process for a segment from endpoint i.
func (z *zeekState) process(i int, s zeekSeg) {
	e, p := &z.ep[i], &z.ep[1-i]
	isOrig := z.isOrig(i)
	syn, fin, rst, ack := s.Flags&FlagSYN != 0, s.Flags&FlagFIN != 0, s.Flags&FlagRST != 0, s.Flags&FlagACK != 0
	n := s.PayloadLen
	if n < 0 {
		n = 0
	}

	// SetPartialStatus.
	if isOrig {
		if z.bits&zeekSeenOrig == 0 {
			z.setPartial(!syn || ack)
		}
	} else if z.bits&zeekSeenResp == 0 && !z.partial() {
		z.setPartial(!syn)
	}

	segLen := n
	if syn {
		segLen++
	}
	if fin {
		segLen++
	}
	if rst {
		segLen -= n
	}
	end := s.Seq + uint32(segLen)

	e.initEndpoint(syn, s.Seq, end)
	rel := s.Seq - e.start // get_relative_seq (no wrap counting)
	underflow := int32(rel) < 0

	z.updateHistory(i, e, s.Flags, rel, uint32(n))

	// update_window: a zero window is zero whatever the scale.
	if s.Window == 0 && !rst && p.state != zeekClosed && e.state != zeekReset {
		z.scaled(i, zeekBump(&e.win0), 'W')
	}

	if fin {
		z.setFINSeen(i)
	}

	var relAck uint32
	if ack {
		if p.state == zeekInactive {
			// init_peer: number the peer as if its SYN had been seen.
			relAck = 1
			p.start, p.ack, p.last = s.Ack-1, s.Ack-1, s.Ack-1
		} else {
			relAck = p.ackSeen(s.Ack, rst)
		}
	}

	z.updateLastSeq(i, e, s.Flags, end, n)
	z.updateStateMachine(i, e, p, s, n, isOrig)

	if ack {
		z.ackReceived(1-i, relAck)
	}

	// CheckPIA_FirstPacket marks the direction with the is_orig the packet
	// arrived with, even if the roles flipped meanwhile.
	z.setFirstPacketSeen(isOrig)

	if n > 0 && !rst && !underflow {
		relData := rel
		if syn {
			relData++
		}
		z.dataSent(e, relData, uint32(n))
	}
}

// ackSeen takes an ACK of endpoint p's data, ack, in a segment that is a
// RST or not: it returns the ACK relative to p's start (0 below it) and
// does update_ack_seq (ACKs in RSTs are not trusted).
func (p *zeekEndpoint) ackSeen(ack uint32, rst bool) uint32 {
	d := int32(ack - p.start)
	if d < 0 {
		return 0
	}
	if da := int32(ack - p.ack); !rst && !(ack == 0 && da > zeekTooLargeSeqDelta) && da > 0 {
		p.ack = ack
	}
	return uint32(d)
}

// initEndpoint is init_endpoint.
func (e *zeekEndpoint) initEndpoint(syn bool, seq, end uint32) {
	switch e.state {
	case zeekInactive:
		if syn {
			e.start, e.ack = seq, seq
		} else {
			// A partial connection: number it as if a SYN had been seen,
			// and do not count its first packet as a retransmission.
			e.start, e.ack = seq-1, seq-1
			end = seq
		}
		e.last = end
	case zeekSynSent, zeekSynAckSent:
		if syn && seq != e.start {
			e.start, e.ack, e.last = seq, seq, end
		}
	case zeekEstablished, zeekPartial:
		if syn {
			e.start, e.ack, e.last = seq, seq, end
		}
	case zeekReset:
		if syn && e.prev == zeekInactive {
			e.start, e.ack, e.last = seq, seq, end
		}
	}
}

// updateHistory is update_history.
func (z *zeekState) updateHistory(i int, e *zeekEndpoint, flags uint8, rel, n uint32) {
	syn, fin, rst := flags&FlagSYN != 0, flags&FlagFIN != 0, flags&FlagRST != 0
	switch {
	case bits.OnesCount8(flags&(FlagSYN|FlagFIN|FlagRST)) > 1:
		if fin && rst {
			z.checkHistory(i, zeekHistFINRST, 'I')
		} else {
			z.checkHistory(i, zeekHistMulti, 'Q')
		}
	case syn:
		code := byte('S')
		if flags&FlagACK != 0 {
			code = 'H'
		}
		if z.checkHistory(i, zeekHistSYN, code) && rel != e.lastSYN {
			z.add(i, code)
		}
		e.lastSYN = rel
	case fin:
		// For FINs the sequence number that counts is the one after the
		// data.
		if z.checkHistory(i, zeekHistFIN, 'F') && rel+n != e.lastFIN {
			z.add(i, 'F')
		}
		e.lastFIN = rel + n
	case rst:
		if z.checkHistory(i, zeekHistRST, 'R') && rel != e.lastRST {
			z.add(i, 'R')
		}
		e.lastRST = rel
	case n > 0:
		z.checkHistory(i, zeekHistData, 'D')
	case flags&FlagACK != 0:
		z.checkHistory(i, zeekHistACK, 'A')
	}
}

// updateLastSeq is update_last_seq, where Zeek counts retransmissions.
func (z *zeekState) updateLastSeq(i int, e *zeekEndpoint, flags uint8, end uint32, n int) {
	delta := int32(end - e.last)
	switch {
	case flags&(FlagSYN|FlagRST) != 0 && (delta > zeekTooLargeSeqDelta || delta < -zeekTooLargeSeqDelta):
		// Outlandish SYN or RST sequence numbers are not trusted.
	case flags&FlagFIN != 0 && e.last == e.start+1:
		e.last = end
	case e.state == zeekReset:
		// Nothing after a RST is trusted.
	case delta > 0:
		e.last = end
	case n > 0:
		z.scaled(i, zeekBump(&e.rxmt), 'T')
	}
}

// updateStateMachine is TCPSessionAdapter::UpdateStateMachine and the
// Update*State functions it calls.
func (z *zeekState) updateStateMachine(i int, e, p *zeekEndpoint, s zeekSeg, n int, isOrig bool) {
	syn, fin, rst, ack := s.Flags&FlagSYN != 0, s.Flags&FlagFIN != 0, s.Flags&FlagRST != 0, s.Flags&FlagACK != 0
	switch e.state {
	case zeekInactive:
		if syn {
			switch {
			case isOrig && ack:
				e.set(zeekSynAckSent)
			case isOrig:
				e.set(zeekSynSent)
			default:
				if !ack && p.state == zeekSynAckSent && s.Seq == e.start {
					// The SYN arrived after the SYN-ACK: swap the
					// roles and establish the connection.
					z.flipRoles()
					p.set(zeekEstablished)
					z.setFirstPacketSeen(true)
				}
				if p.state == zeekSynSent {
					p.set(zeekEstablished)
				}
				e.set(zeekEstablished)
			}
		}
		if fin {
			e.set(zeekClosed)
		}
		if rst {
			e.set(zeekReset)
		}
		if e.state == zeekInactive {
			switch {
			case !isOrig && n == 0 && z.ep[z.origIndex()].state == zeekSynSent:
				// An ACK of the SYN before the SYN-ACK: not yet a
				// partial connection.
			case ack && p.state == zeekEstablished:
				// The peer's SYN-ACK was seen and this is its ACK:
				// the SYN was missed, the connection is established.
				e.set(zeekEstablished)
				z.setPartial(false)
				z.setFirstPacketSeen(isOrig)
			default:
				e.set(zeekPartial)
			}
		}
	case zeekSynSent, zeekSynAckSent:
		if fin {
			e.set(zeekClosed)
		}
		if rst {
			e.set(zeekReset)
		}
	case zeekEstablished, zeekPartial:
		if syn && e.state == zeekPartial && p.state == zeekInactive && !ack {
			e.set(zeekSynSent)
		}
		if fin && !rst {
			e.set(zeekClosed)
			if p.state == zeekReset && p.prev == zeekClosed {
				// A FIN, then a RST, from the peer, and now our FIN:
				// a normal close after all.
				p.set(zeekClosed)
			}
		}
		if rst {
			e.set(zeekReset)
		}
	case zeekClosed:
		if rst && p.state != zeekClosed {
			e.set(zeekReset)
		}
	}
}

// ackReceived is TCP_Reassembler::AckReceived on endpoint i's stream, with
// the part of Undelivered and Gap that the history depends on.
func (z *zeekState) ackReceived(i int, relAck uint32) {
	e := &z.ep[i]
	up := relAck
	if z.finSeen(i) && up > e.lastFIN {
		// FIN_seq - 1: the FIN is not data. hist_last_FIN holds it for
		// any FIN without SYN or RST; after those the endpoint is not
		// clean and reports no gap anyway.
		up = e.lastFIN
	}
	seen := e.reassem
	if seen == 0 {
		seen = 1
	}
	if up <= seen {
		return
	}
	if up <= 2 && z.partial() {
		// The first ACK of a partial connection, whose sequence numbers
		// were made up.
		return
	}
	if e.clean() && z.ep[1-i].clean() {
		z.scaled(i, zeekBump(&e.gap), 'G')
	}
	// Data seen above the hole is taken as contiguous.
	if l := e.relLast(); int32(l) > int32(up) {
		up = l
	}
	e.reassem = up
}

// dataSent advances endpoint e's contiguous stream mark for payload at
// relative sequence number rel (TCP_Reassembler::DataSent and
// BlockInserted).
func (z *zeekState) dataSent(e *zeekEndpoint, rel, n uint32) {
	seen := e.reassem
	if seen == 0 {
		seen = 1
	}
	if int32(rel-seen) > 0 {
		return // above a hole
	}
	end := rel + n
	if int32(end-seen) <= 0 {
		return // already seen
	}
	// Anything seen above a hole that this segment fills is taken as
	// contiguous.
	if l := e.relLast(); int32(l-end) > 0 {
		end = l
	}
	e.reassem = end
}
