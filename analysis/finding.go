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
