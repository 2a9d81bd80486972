package analysis

import (
	"bytes"
	"encoding/binary"
	"math"
	"net/netip"

	"github.com/synscope/synscope/capture"
)

// Side names one end of a connection.
type Side uint8

// The two sides. Packets sent by the client travel FromClient.
const (
	FromClient Side = 0
	FromServer Side = 1
)

func (s Side) other() Side { return 1 - s }

// Status is a flow's overall verdict: the worst severity among its findings.
type Status uint8

// The flow statuses, in the order the report lists them.
const (
	StatusInvalid Status = iota
	StatusWarning
	StatusPartial
	StatusOK
)

func (s Status) String() string {
	switch s {
	case StatusInvalid:
		return "invalid"
	case StatusWarning:
		return "warning"
	case StatusPartial:
		return "partial"
	}
	return "ok"
}

// HandshakeStatus is the verdict on a flow's three-way handshake.
type HandshakeStatus uint8

// The handshake statuses of the contract.
const (
	HSNotSeen HandshakeStatus = iota
	HSComplete
	HSInvalid
	HSRefused
	HSUnanswered
	HSIncomplete
)

func (h HandshakeStatus) String() string {
	switch h {
	case HSComplete:
		return "complete"
	case HSInvalid:
		return "invalid"
	case HSRefused:
		return "refused"
	case HSUnanswered:
		return "unanswered"
	case HSIncomplete:
		return "incomplete"
	}
	return "not_seen"
}

// PacketRef is what a flow keeps of each of its packets: enough to draw the
// packet ladder, to compare the packet with the same segment seen at another
// capture point, and to read it back from its file. It is 48 bytes.
type PacketRef struct {
	Frame  uint64
	Offset int64 // byte offset of the record in the capture file
	Time   int64 // Unix nanoseconds
	Seq    uint32
	Ack    uint32
	Len    uint32 // TCP payload length
	Window uint16
	Flags  uint8
	// Bits: RefFromServer, RefFragment (an earlier fragment of the datagram
	// completed at a later frame: not counted as a packet), RefMalformed
	// and the others below.
	Bits uint8
	// IPLen is the IP datagram's total length; TTL and TOS its hop limit
	// and traffic class.
	IPLen uint16
	TTL   uint8
	TOS   uint8
	// PaySum is the one's complement sum of the TCP payload, folded to
	// 1-0xffff (0xffff for a payload that sums to zero), or 0 when not
	// known: no payload, a payload the capture did not hold whole, or an
	// Analyzer not asked for it (Config.PayloadSums, Packet.setPaySum). Two copies of one
	// segment with different sums differ in their bytes
	// (path.payload_changed). It takes bytes the struct's alignment left
	// unused: a PacketRef is 48 bytes with it or without it.
	PaySum uint16
	// IPID is the IPv4 identification, 0 for IPv6. It tells apart two
	// copies of one segment sent microseconds apart, which nothing else
	// does (pairCopies); it takes the last two bytes alignment left.
	IPID uint16
}

// PacketRef bits.
const (
	RefFromServer uint8 = 1 << iota
	RefFragment
	RefMalformed
	RefBadChecksum
	// RefBadHeader marks a TCP header whose data offset is below 20.
	// Wireshark leaves such packets out of its conversation table;
	// synscope keeps them in their flow, where they are evidence.
	RefBadHeader
	// RefHeaderCut marks a TCP header the capture's snap length cut
	// short (Packet.HeaderCut).
	RefHeaderCut
	// RefDF marks an IPv4 datagram with don't-fragment set: a segment
	// fragmented between two points whose copy upstream had it was
	// fragmented by a device that cleared it (path.fragmented).
	RefDF
)

// Side returns which side sent the packet.
func (r PacketRef) Side() Side {
	if r.Bits&RefFromServer != 0 {
		return FromServer
	}
	return FromClient
}

// SideOptions are the options one side announced in its SYN or SYN-ACK.
type SideOptions struct {
	Seen bool
	// Cut is set when the capture's snap length cut the options short:
	// an option missing here may have been sent (Options.Cut).
	Cut       bool
	MSS       uint16
	HasMSS    bool
	WScale    uint8
	HasWScale bool
	SACKPerm  bool
	HasTS     bool
	TFO       bool
}

func optionsOf(o *Options) SideOptions {
	return SideOptions{Seen: true, Cut: o.Cut, MSS: o.MSS, HasMSS: o.HasMSS, WScale: o.WScale, HasWScale: o.HasWScale,
		SACKPerm: o.SACKPerm, HasTS: o.HasTS, TFO: o.TFO}
}

// Handshake is what was seen of a flow's three-way handshake. Its fields
// are ordered to leave no padding: every flow has one.
type Handshake struct {
	Status                       HandshakeStatus
	HaveSyn, HaveSynAck, HaveAck bool
	AckChecked                   bool // the third segment was seen and its ACK compared
	TFOAccepted                  bool
	Client, Server               SideOptions
	// When the capture has no SYN-ACK, answeredAfter is how many frames
	// after the SYN came the first packet that shows the SYN was answered
	// (answered), and answeredBy the side that sent it: 0 when none. They
	// fill what was padding before SynFrame.
	answeredBy Side
	// tfoRequest: the SYN's Fast Open option is a cookie request (no
	// cookie). It fills the byte of padding after answeredBy.
	tfoRequest    bool
	answeredAfter uint32

	SynFrame, SynAckFrame, AckFrame uint64
	SynTime, SynAckTime, AckTime    int64
	LastSynTime                     int64
	ClientISN, ServerISN            uint32
	SynAckAck                       uint32
	ExpectedAck                     uint32
	ActualAck                       uint32
	SynPayload, SynAckPayload       int32
	// SynAckPadding is the Ethernet padding that followed the SYN-ACK.
	SynAckPadding int32
	Syns, SynAcks int32
	// payloads holds the first bytes of the SYN's and the SYN-ACK's
	// payloads (SynBytes, SynAckBytes): nil while neither carried any, as
	// in almost every flow, which saves each flow 32 bytes. It is set
	// anew, never changed in place, so that copies of a Flow (FlowCopy)
	// may share it.
	payloads *synPayloads
}

// synPayloads holds the first bytes of a SYN's and a SYN-ACK's payloads.
type synPayloads struct {
	syn, synAck []byte
}

// synBytesKept is how many bytes of a SYN's or SYN-ACK's payload a flow
// keeps, to show them.
const synBytesKept = 16

// SynBytes returns the first bytes of the SYN's payload that the capture
// holds, up to 16.
func (h *Handshake) SynBytes() []byte {
	if h.payloads == nil {
		return nil
	}
	return h.payloads.syn
}

// SynAckBytes returns the first bytes of the SYN-ACK's payload that the
// capture holds, up to 16.
func (h *Handshake) SynAckBytes() []byte {
	if h.payloads == nil {
		return nil
	}
	return h.payloads.synAck
}

// keepPayload keeps the first bytes of b, the payload of the SYN (syn) or
// of the SYN-ACK.
func (h *Handshake) keepPayload(syn bool, b []byte) {
	if len(b) == 0 {
		return
	}
	b = bytes.Clone(b[:min(len(b), synBytesKept)])
	var np synPayloads
	if h.payloads != nil {
		np = *h.payloads
	}
	if syn {
		np.syn = b
	} else {
		np.synAck = b
	}
	h.payloads = &np
}

// IRTT returns the initial round-trip time (third segment minus SYN), as
// Wireshark's tcp.analysis.initial_rtt, and whether it is known. The SYN
// is the last one sent before the third segment, as Wireshark's
// (ts_mru_syn): from the first, a SYN sent again took the client's
// retransmission timeout into the round trip (1.002 s where tshark gives
// 2.3 ms on routed-vlans.pcap).
//
// A client ACK of server data that the capture shows after the SYN-ACK
// means the third segment was not captured (onThirdSegment): the time to
// that ACK is no round trip, and the iRTT is not known. (tshark times the
// first segment with ACK from either side then: the server's banner.)
func (h *Handshake) IRTT() (ns int64, ok bool) {
	if !h.HaveSyn || !h.HaveAck || !h.AckChecked {
		return 0, false
	}
	syn := h.LastSynTime
	if syn > h.AckTime {
		// Sent again after the third segment: the last before it is
		// not kept, the first is.
		syn = h.SynTime
	}
	return h.AckTime - syn, true
}

// Flow is one TCP connection.
type Flow struct {
	ID int

	// The endpoints, which Client and Server return: each address's 16
	// bytes (an IPv4 address IPv4-mapped) as two little-endian words
	// (addrWords), its family (addrKind) and its port. Two netip.AddrPort
	// took 64 bytes with their zones' pointers; these, with the small
	// fields that follow, 24 fewer.
	clientW, serverW       [2]uint64
	clientPort, serverPort uint16
	clientKind, serverKind addrKind

	// The small fields share the endpoints' last word.
	DirectionGuessed bool
	Status           Status
	Tunnel           Tunnel
	// Marked is set when a packet of the flow matched Config.Mark.
	Marked bool
	// VLAN is the outermost VLAN tag of the first packet (0 when none).
	VLAN uint16
	// zeroWin is the frame (frameRef) at which a side's window last
	// closed, that side in its top bit: the frame a zero window probe
	// of the other side names. It fills what was padding; one for both
	// sides, as both are rarely closed at once (zeroWindowOf).
	zeroWin uint32

	FirstFrame, LastFrame uint64
	Start, End            int64 // Unix nanoseconds of the earliest and latest packet
	Packets               int
	Bytes                 int64 // wire bytes of the flow's frames

	Handshake Handshake
	Findings  []Finding

	// Refs lists the flow's packets in capture order.
	Refs []PacketRef

	// PrevID is the flow whose ports this one took over (a new SYN with
	// another ISN on the same addresses and ports), 0 when none.
	PrevID int

	firstSender Side
	finSeen     [2]bool
	// rst is what the flow's RSTs did; closed: FINs from both sides, or
	// a RST its receiver took (closeState).
	rst         rstState
	closed      bool
	finished    bool // the capture's end has been seen: verdicts are final
	haveSynTime bool
	noted       bool // has a warning or an error
	evicted     bool
	list        int8 // eviction class, evictNone when in no queue
	// goodAfterBad: a good checksum came from the side of the flow's
	// first bad one, after it.
	goodAfterBad bool
	// copies: the flow has shown a copy of a packet, and remembers each
	// side's last packets (notes.sent).
	copies bool
	codes  uint32 // a bit set of the codes of the flow's findings

	dir         [2]dirState
	zeek        zeekState
	closeFrame  uint64 // the RST that ended the connection (rstTaken), or that waits (rstWaits)
	firstRTT    int64  // Wireshark's ts_first_rtt: first ACK after the last SYN
	lastSynTime int64
	// notes holds what few flows need; nil until the first finding, bad
	// checksum or malformed packet.
	notes *flowNotes

	// The Analyzer's bookkeeping: the flow's place in Result.Flows, its
	// eviction queue (evict.go) and when it was last touched
	// (Analyzer.Changed). Clocks count packets, modulo 2^32.
	lprev, lnext *Flow
	pos          int32
	queuedAt     uint32
	lastActive   uint32
	touched      uint32
}

// frameRef returns how a flow keeps one of its frames in 32 bits: its
// distance from the flow's first frame, plus one. 0 stands for none, and
// for a frame 4 billion frames or more after the first (an hour of a
// live capture at a million packets a second): a frame named in 32 bits
// costs 8 bytes a flow less than in 64, and the frames a finding names
// are those just before it.
func (f *Flow) frameRef(frame uint64) uint32 {
	d := frame - f.FirstFrame
	if frame < f.FirstFrame || d >= math.MaxUint32 {
		return 0
	}
	return uint32(d + 1)
}

// frameAt returns the frame that frameRef gave r for, 0 for none.
func (f *Flow) frameAt(r uint32) uint64 {
	if r == 0 {
		return 0
	}
	return f.FirstFrame + uint64(r-1)
}

// setZeroWindow notes that side's window closed at frame.
func (f *Flow) setZeroWindow(frame uint64, side Side) {
	r := f.frameRef(frame)
	if r >= 1<<31 {
		r = 0
	}
	f.zeroWin = r | uint32(side)<<31
}

// zeroWindowOf returns the frame at which side's window last closed, 0
// when unknown: when the other side's closed since.
func (f *Flow) zeroWindowOf(side Side) uint64 {
	if Side(f.zeroWin>>31) != side {
		return 0
	}
	return f.frameAt(f.zeroWin &^ (1 << 31))
}

// Client returns the endpoint that opened the connection (or, when the
// capture has not its SYN, the one that looks the more like a client:
// DirectionGuessed).
func (f *Flow) Client() netip.AddrPort { return netip.AddrPortFrom(f.ClientAddr(), f.clientPort) }

// Server returns the other endpoint.
func (f *Flow) Server() netip.AddrPort { return netip.AddrPortFrom(f.ServerAddr(), f.serverPort) }

// ClientAddr is Client().Addr(), and ServerAddr Server().Addr().
func (f *Flow) ClientAddr() netip.Addr { return f.clientKind.addr(f.clientW) }
func (f *Flow) ServerAddr() netip.Addr { return f.serverKind.addr(f.serverW) }

// srcWords returns p's source address as a Flow keeps its endpoints
// (addrWords): as the decoder read it, or made from Src for a packet made
// otherwise.
func (p *Packet) srcWords() [2]uint64 {
	if p.keysSet {
		return p.srcW
	}
	return addrWords(p.Src)
}

// SetEnds sets the flow's client and server. A zone is not kept: a
// packet's addresses have none.
func (f *Flow) SetEnds(client, server netip.AddrPort) {
	f.clientW, f.clientPort, f.clientKind = addrWords(client.Addr()), client.Port(), kindOf(client.Addr())
	f.serverW, f.serverPort, f.serverKind = addrWords(server.Addr()), server.Port(), kindOf(server.Addr())
}

// setEndsOf is SetEnds of p's sender and receiver, the sender the client
// when srcIsClient, from the words the decoder read (Packet.keysSet) when
// it did: newFlow's AddrPorts and SetEnds's addrWords were about 30
// instructions a new flow more, 3 a packet on small frames (cachegrind,
// -pgo=off; TestSetEndsOf).
func (f *Flow) setEndsOf(p *Packet, srcIsClient bool) {
	sw, dw := p.srcW, p.dstW
	if !p.keysSet {
		sw, dw = addrWords(p.Src), addrWords(p.Dst)
	}
	sp, dp, sk, dk := p.SrcPort, p.DstPort, kindOf(p.Src), kindOf(p.Dst)
	if !srcIsClient {
		sw, dw, sp, dp, sk, dk = dw, sw, dp, sp, dk, sk
	}
	f.clientW, f.clientPort, f.clientKind = sw, sp, sk
	f.serverW, f.serverPort, f.serverKind = dw, dp, dk
}

// addrWords returns a's 16 bytes (As16) as two little-endian words: the
// form a comparison takes in the fewest instructions (none to swap
// bytes, which As16 has already done).
func addrWords(a netip.Addr) [2]uint64 {
	b := a.As16()
	return [2]uint64{binary.LittleEndian.Uint64(b[:8]), binary.LittleEndian.Uint64(b[8:])}
}

// addrKind is an address's family as a Flow keeps it.
type addrKind uint8

const (
	addrNone addrKind = iota // the zero Addr
	addrV4
	addrV6
)

func kindOf(a netip.Addr) addrKind {
	switch {
	case a.Is4():
		return addrV4
	case a.Is6():
		return addrV6
	}
	return addrNone
}

// addr returns the address whose words (addrWords) are w.
func (k addrKind) addr(w [2]uint64) netip.Addr {
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], w[0])
	binary.LittleEndian.PutUint64(b[8:], w[1])
	switch k {
	case addrV4:
		return netip.AddrFrom4([4]byte(b[12:]))
	case addrV6:
		return netip.AddrFrom16(b)
	}
	return netip.Addr{}
}

// flowNotes is the part of a Flow that few flows need, kept apart so that
// the many flows of a busy capture or a SYN flood are smaller.
type flowNotes struct {
	// counts counts findings per code, including those past the cap on
	// stored findings, once counted is set: a flow counts its findings
	// when it has more than countAfter (before that, its Findings are its
	// counts).
	counts [numCodes]uint32
	// copyCounts counts, as counts does, the findings about a copy of a
	// packet, which are info whatever their code's severity
	// (Finding.Severity): SeverityCounts tells those past the cap apart.
	copyCounts [numCodes]uint32
	counted    bool
	// badSums lists the first maxFindingsPerCode packets with a bad
	// checksum that may be damage (badUnknown, badInbound), which
	// checksumFindings judges by the capture's offload sender; bad counts
	// every packet with a bad checksum, listed or not (nil when none);
	// badSides has the bit 1<<Side of every side that sent one.
	badSums   []badSum
	bad       *badTally
	badSides  uint8
	malformed []malformedNote
	// sent holds the last packets of each side once the flow has shown a
	// copy (Flow.copies; copy.go). An evicted flow keeps it for the flow
	// that reuses it, which clears it when it shows a copy.
	sent *[2]sentRing
	// afterEviction: the flow began without a SYN on a connection whose
	// earlier flow was evicted (Analyzer.evictedBefore), so its
	// handshake is not "before the capture".
	afterEviction bool
	// rstSides: what closeState knows of the sides that sent a RST their
	// receiver did not take.
	rstSides *rstSides
	// holes: where the capture misses each side's bytes (holes.go), from
	// the flow's first such hole on.
	holes *[2]seqHoles
}

// countAfter is the number of findings a flow keeps without counting
// them by code.
const countAfter = 16

// Flow.codes is a bit set of codes.
var _ [32 - numCodes]byte

// note returns f's notes, allocating them on first use.
func (f *Flow) note() *flowNotes {
	if f.notes == nil {
		f.notes = new(flowNotes)
	}
	return f.notes
}

// noCounts stands for the counts of a flow without any past the cap.
var noCounts [numCodes]uint32

// overCounts returns counts of findings per code from which those past the
// cap on stored findings can be read: when the flow's findings are not
// counted, none is past the cap and it returns zeros.
func (f *Flow) overCounts() *[numCodes]uint32 {
	if f.notes == nil || !f.notes.counted {
		return &noCounts
	}
	return &f.notes.counts
}

// Counts returns the number of findings per code, including those past the
// cap on stored findings (maxFindingsPerCode).
func (f *Flow) Counts() [numCodes]uint32 {
	if f.notes != nil && f.notes.counted {
		return f.notes.counts
	}
	var c [numCodes]uint32
	for _, fi := range f.Findings {
		c[fi.Code]++
	}
	return c
}

// Count returns the number of findings with the code, including those past
// the cap on stored findings.
func (f *Flow) Count(c Code) int {
	switch {
	case f.notes != nil && f.notes.counted:
		return int(f.notes.counts[c])
	case !f.Has(c):
		return 0
	}
	n := 0
	for _, fi := range f.Findings {
		if fi.Code == c {
			n++
		}
	}
	return n
}

// SeverityCounts returns how many of the flow's findings with the code
// are of each severity, those past the cap on stored findings included: a
// finding about a copy of a packet is info (Finding.Severity), the others
// have their code's severity.
func (f *Flow) SeverityCounts(c Code) (n [Error + 1]int) {
	if f.notes != nil && f.notes.counted {
		cp := int(f.notes.copyCounts[c])
		n[Info] += cp
		n[c.Severity()] += int(f.notes.counts[c]) - cp
		return n
	}
	for _, fi := range f.Findings {
		if fi.Code == c {
			n[fi.Severity()]++
		}
	}
	return n
}

// badSum is a packet with a bad checksum that may be damage (badSums).
type badSum struct {
	frame uint64
	side  Side
	dir   capture.Direction // as the capture marks the packet: unknown or inbound
	sums  uint8             // which checksums (sumIPv4Bad and friends)
}

// malformedNote keeps what a decode.malformed finding's message needs.
type malformedNote struct {
	frame  uint64
	layer  string
	reason string
}

// addFinding records a finding, keeping at most maxFindingsPerCode of each code.
func (f *Flow) addFinding(fi Finding) {
	if fi.Severity() >= Warning {
		f.noted = true
	}
	f.codes |= 1 << fi.Code
	if f.notes == nil || !f.notes.counted {
		if len(f.Findings) < countAfter {
			f.Findings = append(f.Findings, fi)
			return
		}
		n := f.note()
		for _, g := range f.Findings {
			n.counts[g.Code]++
			if g.IsCopy() {
				n.copyCounts[g.Code]++
			}
		}
		n.counted = true
	}
	n := f.notes
	n.counts[fi.Code]++
	if fi.IsCopy() {
		n.copyCounts[fi.Code]++
	}
	if n.counts[fi.Code] <= maxFindingsPerCode {
		f.Findings = append(f.Findings, fi)
	}
}

// countUnlisted counts k more findings of code c that are not kept, as
// addFinding counts those past maxFindingsPerCode: the bad checksums past
// the flow's list of them (badSums), whose frames are not known.
func (f *Flow) countUnlisted(c Code, k uint64) {
	if k == 0 {
		return
	}
	if c.Severity() >= Warning {
		f.noted = true
	}
	f.codes |= 1 << c
	n := f.note()
	if !n.counted {
		for _, g := range f.Findings {
			n.counts[g.Code]++
			if g.IsCopy() {
				n.copyCounts[g.Code]++
			}
		}
		n.counted = true
	}
	n.counts[c] = uint32(min(uint64(n.counts[c])+k, math.MaxUint32))
}

// Has reports whether the flow has a finding with the code.
func (f *Flow) Has(c Code) bool { return f.codes&(1<<c) != 0 }

// First returns the flow's first finding with the code.
func (f *Flow) First(c Code) (Finding, bool) {
	for _, fi := range f.Findings {
		if fi.Code == c {
			return fi, true
		}
	}
	return Finding{}, false
}

// WorstSeverity returns the flow's worst finding severity, and false when it
// has no findings.
func (f *Flow) WorstSeverity() (Severity, bool) {
	worst, any := Info, false
	for _, fi := range f.Findings {
		any = true
		worst = max(worst, fi.Severity())
	}
	return worst, any
}
