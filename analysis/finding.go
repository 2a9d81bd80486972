package analysis

// Severity ranks a finding. A flow's status is the worst severity among its
// findings.
type Severity uint8

// The severities, from least to most severe.
const (
	Info Severity = iota
	Warning
	Error
)

func (s Severity) String() string {
	switch s {
	case Warning:
		return "warning"
	case Error:
		return "error"
	}
	return "info"
}

// Code identifies a rule of the analysis contract.
type Code uint8

// The finding codes of the analysis contract (shared/spec/tcp-analysis.md).
const (
	CodeSynAckPayload Code = iota
	CodeAckMismatch
	CodeSynAckAckMismatch
	CodeSynPayload
	CodeTFO
	CodeRefused
	CodeUnanswered
	CodeSynRetransmit
	CodeSynAckRetransmit
	CodeIncomplete
	CodeSynAckWithoutSyn
	CodeNotSeen
	CodeWScaleOneSided
	CodeMSSMissing

	CodeRetransmission
	CodeFastRetransmission
	CodeSpuriousRetransmission
	CodeOutOfOrder
	CodeLostSegment
	CodeAckUnseen
	CodeDupAck
	CodeZeroWindow
	CodeZeroWindowProbe
	CodeWindowFull
	CodeWindowUpdate
	CodeKeepAlive
	CodeReusedPorts
	CodeRST
	CodeDataAfterClose

	CodeChecksumOffload
	CodeChecksumBad
	CodeMalformed

	numCodes
)

var codeInfo = [numCodes]struct {
	name string
	sev  Severity
}{
	CodeSynAckPayload:     {"handshake.synack_payload", Error},
	CodeAckMismatch:       {"handshake.ack_mismatch", Error},
	CodeSynAckAckMismatch: {"handshake.synack_ack_mismatch", Error},
	CodeSynPayload:        {"handshake.syn_payload", Warning},
	CodeTFO:               {"handshake.tfo", Info},
	CodeRefused:           {"handshake.refused", Error},
	CodeUnanswered:        {"handshake.unanswered", Error},
	CodeSynRetransmit:     {"handshake.syn_retransmit", Warning},
	CodeSynAckRetransmit:  {"handshake.synack_retransmit", Warning},
	CodeIncomplete:        {"handshake.incomplete", Warning},
	CodeSynAckWithoutSyn:  {"handshake.synack_without_syn", Info},
	CodeNotSeen:           {"handshake.not_seen", Info},
	CodeWScaleOneSided:    {"handshake.wscale_one_sided", Info},
	CodeMSSMissing:        {"handshake.mss_missing", Info},

	CodeRetransmission:         {"tcp.retransmission", Warning},
	CodeFastRetransmission:     {"tcp.fast_retransmission", Warning},
	CodeSpuriousRetransmission: {"tcp.spurious_retransmission", Warning},
	CodeOutOfOrder:             {"tcp.out_of_order", Warning},
	CodeLostSegment:            {"tcp.lost_segment", Warning},
	CodeAckUnseen:              {"tcp.ack_unseen", Warning},
	CodeDupAck:                 {"tcp.dup_ack", Info},
	CodeZeroWindow:             {"tcp.zero_window", Warning},
	CodeZeroWindowProbe:        {"tcp.zero_window_probe", Info},
	CodeWindowFull:             {"tcp.window_full", Warning},
	CodeWindowUpdate:           {"tcp.window_update", Info},
	CodeKeepAlive:              {"tcp.keep_alive", Info},
	CodeReusedPorts:            {"tcp.reused_ports", Warning},
	CodeRST:                    {"tcp.rst", Warning},
	CodeDataAfterClose:         {"tcp.data_after_close", Warning},

	CodeChecksumOffload: {"checksum.offload", Info},
	CodeChecksumBad:     {"checksum.bad", Warning},
	CodeMalformed:       {"decode.malformed", Warning},
}

func (c Code) String() string {
	if c < numCodes {
		return codeInfo[c].name
	}
	return "unknown"
}

// Severity returns the code's severity.
func (c Code) Severity() Severity {
	if c < numCodes {
		return codeInfo[c].sev
	}
	return Info
}

// IsHandshake reports whether the code is one of the handshake rules.
func (c Code) IsHandshake() bool { return c <= CodeMSSMissing }

// Finding is one verdict of a rule on a flow: typed values only. The text a
// person reads is made from them by Flow.Message.
type Finding struct {
	Code         Code
	Frame        uint64 // the frame it is about
	RelatedFrame uint64 // the frame that explains it, 0 when none
	// A and B carry the rule's numbers (see Flow.Message for each code).
	// A finding about a copy of an earlier packet (IsCopy) keeps the
	// evidence in B (copy.go).
	A, B int64
}

// Severity returns the finding's severity: its code's, except for a
// finding about a copy of an earlier packet (IsCopy), which is info. A copy
// says where the capture was taken, not that the network lost anything;
// were it a warning, on a trunk that sees every packet twice every flow
// would be one, and the flows that matter would not stand out. Its message
// says that Wireshark counts it as a retransmission.
func (f Finding) Severity() Severity {
	if f.IsCopy() {
		return Info
	}
	if f.Code == CodeRefused && f.A == refusedRetried {
		return Warning
	}
	return f.Code.Severity()
}

// headerCutFlag, in B of a finding of the sequence analysis (whose bit 0
// is the side), marks a frame whose TCP header the capture's snap length
// cut short (Packet.HeaderCut).
const headerCutFlag int64 = 1 << 1

// relEndsFlag and relPastFlag, in B of a retransmission finding, say
// where the segment ends against its RelatedFrame's, the sender's
// furthest: at the same sequence number (it repeats that segment, or its
// end), or past it (it carries new bytes too). Neither: before it, so
// that its bytes were sent in that frame or before it, in a segment the
// flow does not know.
const (
	relEndsFlag int64 = 1 << 2
	relPastFlag int64 = 1 << 3
)

// segSynFlag, segFinFlag and segAckFlag, in B of a retransmission finding,
// are the segment's SYN, FIN and ACK flags, so that its message names what
// was sent again: "(FIN)", "(SYN-ACK)", "(100 bytes and FIN)", where it
// said "(0 bytes)".
const (
	segSynFlag int64 = 1 << 4
	segFinFlag int64 = 1 << 5
	segAckFlag int64 = 1 << 6
)

// capturedFlag, probeFlag and dsackFlag are bit 7 of B, each on its own
// code's findings (none of which is about a copy: copy.go packs B
// otherwise):
//   - capturedFlag, on tcp.out_of_order: every byte of the segment was
//     captured before (Flow.capturedBefore), so it is a retransmission;
//     bits 4-6 are then the segment's flags, as on a retransmission.
//   - probeFlag, on tcp.keep_alive: the other side's last segment
//     advertised a zero window, which the keep-alive probes (RelatedFrame
//     is where it closed).
//   - dsackFlag, on tcp.dup_ack: the ACK carries a D-SACK block (RFC
//     2883): bits 8-39 its left edge relative to the other side's base,
//     bits 40-61 its length, 0 when not known (dsackBits).
const (
	capturedFlag int64 = 1 << 7
	probeFlag    int64 = 1 << 7
	dsackFlag    int64 = 1 << 7
)

// dsackLenMax is the longest D-SACK block B keeps the numbers of: 4 MiB,
// far more than a segment (64 KiB, 512 KiB with BIG TCP), which a D-SACK
// block reports.
const dsackLenMax = 1<<22 - 1

// CapturedBefore reports whether fi is a tcp.out_of_order finding on a
// segment all of whose bytes the capture held before: a retransmission,
// which Wireshark calls out of order.
func (fi Finding) CapturedBefore() bool {
	return fi.Code == CodeOutOfOrder && fi.ownFlag(capturedFlag)
}

// ProbesZeroWindow reports whether fi is a tcp.keep_alive finding on a
// probe of the other side's zero window: shaped like a keep-alive, as
// Linux sends them.
func (fi Finding) ProbesZeroWindow() bool {
	return fi.Code == CodeKeepAlive && fi.ownFlag(probeFlag)
}

// HasDSACK reports whether fi is a tcp.dup_ack finding on an ACK that
// carries a D-SACK block: bytes the receiver got twice.
func (fi Finding) HasDSACK() bool {
	return fi.Code == CodeDupAck && fi.ownFlag(dsackFlag)
}

// ownFlag reports whether B, not packed for a copy, has the flag.
func (fi Finding) ownFlag(flag int64) bool {
	return fi.B >= 0 && fi.B&copyFlag == 0 && fi.B&flag != 0
}

// dsackRange returns the D-SACK block of a tcp.dup_ack finding
// (HasDSACK), relative to the other side's base, and false when B does
// not keep its numbers.
func (fi Finding) dsackRange() (lo, hi uint32, ok bool) {
	n := uint32(fi.B >> 40 & dsackLenMax)
	if !fi.HasDSACK() || n == 0 {
		return 0, 0, false
	}
	lo = uint32(fi.B >> 8)
	return lo, lo + n, true
}

// dsackBits returns B's bits for the D-SACK block of o, which side's
// duplicate ACK carries (Options.DSACK): dsackFlag, and its numbers
// relative to the other side's base when that is known and the block's
// length is within dsackLenMax.
func (f *Flow) dsackBits(o *Options, side Side) int64 {
	b := dsackFlag
	d := &f.dir[side.other()]
	lo, hi := o.SACK[0][0], o.SACK[0][1]
	if n := hi - lo; d.baseSet && n > 0 && n <= dsackLenMax {
		b |= int64(lo-d.baseSeq)<<8 | int64(n)<<40
	}
	return b
}

// side returns the side that sent the packet of a finding of the sequence
// analysis, which B holds in bit 0.
func (fi Finding) side() Side { return Side(fi.B & 1) }

// onHeaderCut reports whether fi is a finding of the sequence analysis on
// a frame whose TCP header the capture cut short.
func (fi Finding) onHeaderCut() bool {
	return fi.Code >= CodeRetransmission && fi.Code <= CodeKeepAlive && fi.B >= 0 && fi.B&headerCutFlag != 0
}

// maxFindingsPerCode bounds the findings kept per code in one flow; Flow.Counts
// keeps counting past it.
const maxFindingsPerCode = 1000
