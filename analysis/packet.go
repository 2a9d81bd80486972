package analysis

import (
	"net/netip"

	"github.com/gopacket/gopacket/layers"

	"github.com/synscope/synscope/analysis/filter"
	"github.com/synscope/synscope/capture"
)

// TCP flag bits as they sit in byte 13 of the TCP header.
const (
	FlagFIN uint8 = 0x01
	FlagSYN uint8 = 0x02
	FlagRST uint8 = 0x04
	FlagPSH uint8 = 0x08
	FlagACK uint8 = 0x10
	FlagURG uint8 = 0x20
	FlagECE uint8 = 0x40
	FlagCWR uint8 = 0x80
)

// Check is the outcome of a checksum verification.
type Check uint8

const (
	// CheckNone means there is no checksum to verify (IPv6 header).
	CheckNone Check = iota
	// CheckGood means the checksum was verified and is right.
	CheckGood
	// CheckBad means the checksum was verified and is wrong.
	CheckBad
	// CheckUnverified means the bytes needed to verify it were not captured.
	CheckUnverified
)

func (c Check) String() string {
	switch c {
	case CheckGood:
		return "good"
	case CheckBad:
		return "bad"
	case CheckUnverified:
		return "unverified"
	}
	return "none"
}

// Tunnel names the encapsulation the innermost IP datagram was found in.
type Tunnel uint8

// The encapsulations the decoder follows.
const (
	TunnelNone Tunnel = iota
	TunnelGRE
	TunnelVXLAN
	TunnelGeneve
	TunnelIPIP
)

func (t Tunnel) String() string {
	switch t {
	case TunnelGRE:
		return "GRE"
	case TunnelVXLAN:
		return "VXLAN"
	case TunnelGeneve:
		return "Geneve"
	case TunnelIPIP:
		return "IP-in-IP"
	}
	return ""
}

// Options holds every TCP option of one segment, decoded into fixed fields
// so that decoding allocates nothing.
type Options struct {
	MSS       uint16
	HasMSS    bool
	WScale    uint8
	HasWScale bool
	SACKPerm  bool
	SACK      [4][2]uint32 // left and right edges of up to four SACK blocks
	NSACK     uint8
	TSVal     uint32
	TSEcr     uint32
	HasTS     bool
	// TFO is set when a TCP Fast Open option is present: kind 34, or the
	// experimental kind 254 with magic 0xF989 (TFOExp). TFOCookieLen is 0 for
	// a cookie request.
	TFO          bool
	TFOExp       bool
	TFOCookieLen uint8
	// Unknown lists the kinds of other options, in order, as numbers.
	Unknown  [8]uint8
	NUnknown uint8
	// Malformed is set when an option's length runs past the header or is
	// too short for its kind; MalformedAt is its byte offset in the header.
	Malformed bool
	// Cut is set when the capture stopped inside the options (snap
	// length): the options from the first one not captured whole on are
	// unknown, and an option missing here may have been sent.
	Cut         bool
	MalformedAt int
}

// Packet is one decoded frame: what the fast path keeps of it. It is reused
// from frame to frame; slices point into the record's buffer and are valid
// only until the next Decode.
type Packet struct {
	Frame     uint64
	Offset    int64 // byte offset of the record in its capture file
	Time      int64 // Unix nanoseconds
	WireLen   int   // original length on the wire
	CapLen    int   // captured length
	LinkType  layers.LinkType
	Direction capture.Direction

	VLAN   [4]uint16 // 802.1Q tags, outermost first
	NVLAN  int
	Tunnel Tunnel
	// Outer lists the IP headers the innermost IP datagram was tunnelled
	// in, outermost first, each with the ports of the UDP header after it
	// for VXLAN and Geneve; empty without a tunnel. It is what the packet
	// filter tests besides the innermost layer (tcpdump users filter on
	// the tunnel endpoints). Like FragmentFrames, it is valid until the
	// next Decode.
	Outer []filter.IPLayer
	// Undecoded is set on a frame that may hold TCP but whose insides
	// the decoder could not reach: an unknown link type, or an
	// encapsulation it does not follow, which carried UndecodedProto.
	Undecoded      Undecoded
	UndecodedProto uint16

	IPVersion uint8 // 0 when no IP layer was found
	Src, Dst  netip.Addr
	// srcW and dstW are Src's and Dst's 16 bytes (an IPv4 address
	// IPv4-mapped) as two little-endian words (addrWords), as a Flow keeps
	// its endpoints, and addrSum the sum of their 16-bit words for the
	// pseudo-header, read from the IP header's bytes by the decoder
	// (keysSet): the flow table's key (wordsKey) and comparisons start
	// from them. netip.Addr gives an IPv6 address's bytes only as an
	// array, which the compiler builds with two 8-byte stores and copies
	// with one 16-byte load: a failed store forward, 7% of a one-core run
	// on an IPv6 capture when the hash and the checksum took them there.
	srcW, dstW [2]uint64
	addrSum    uint32
	keysSet    bool
	// rare is clear when the fields the decoder's fast path leaves at
	// zero on the frames it takes are all zero (Packet.clearRare): a
	// Packet the fast path decoded last, with no damage, no options but
	// the timestamps and no checksum left to the NIC. The fast path
	// clears them only when it is set.
	rare       bool
	Proto      uint8 // protocol of the innermost IP datagram
	IPOffset   int   // byte offset of the innermost IP header in the frame
	IPTotalLen int   // IPv4 total length, or 40 + IPv6 payload length
	IPID       uint32
	TTL        uint8
	TOS        uint8
	DF         bool
	IPChecksum Check
	// Fragments is the number of IP fragments this datagram was reassembled
	// from (0 when it was not fragmented). FragmentFrames lists the frames
	// that held the earlier fragments; it is valid until the next Decode.
	// FragmentOffsets holds their records' byte offsets in the file
	// (Record.Offset), in the same order, for reading them back: an
	// export without them took byte 0, the file header, for their
	// records. Decode does not reuse it: a datagram in fragments is rare.
	Fragments       int
	FragmentFrames  []uint64
	FragmentOffsets []int64
	// Fragment is set on a frame that holds a fragment of a datagram that is
	// not yet complete; such a frame carries no TCP segment of its own.
	Fragment bool

	HasTCP      bool
	TCPOffset   int // byte offset of the TCP header in the frame (-1 when reassembled)
	SrcPort     uint16
	DstPort     uint16
	Seq, Ack    uint32
	Flags       uint8
	NS          bool
	Window      uint16
	Urgent      uint16
	HeaderLen   int // TCP header length in bytes
	TCPChecksum Check
	// PartialChecksum is set on a bad TCP checksum whose field holds the
	// pseudo-header sum: the sender left it for its NIC to finish
	// (checksum offload on the capturing host).
	PartialChecksum bool
	Opts            Options
	// PayloadLen is the TCP payload length the IP header claims;
	// Payload holds the bytes of it that were captured.
	PayloadLen int
	Payload    []byte
	// paySum is PacketRef.PaySum, set (setPaySum) where Config.PayloadSums
	// asks for it, before the pipeline lets go of Payload.
	paySum uint16
	// Padding holds the bytes that follow the IP datagram in the frame
	// (Ethernet padding): never payload.
	Padding []byte

	// MalformedLayer names the layer that could not be decoded, at byte
	// MalformedOffset of the frame, for MalformedReason. Empty when the
	// frame decoded cleanly.
	MalformedLayer  string
	MalformedOffset int
	MalformedReason string
	// BadHeader is set when the TCP data offset is below 20.
	BadHeader bool
	// NoAnalysis is set on a TCP segment that is counted in its flow but
	// not analysed: the first fragment of a datagram that cannot be
	// reassembled, or a segment shorter than its header.
	NoAnalysis bool
	// Truncated is set when the capture holds fewer bytes than the IP
	// datagram (snap length).
	Truncated bool
	// HeaderCut is set when the capture's snap length cut one of the
	// frame's headers short: the bytes were sent but not captured, which
	// is not damage. With HasTCP, it is the TCP header: what lies past
	// the cut (the checksum, options from Opts.Cut on) is unknown, and no
	// rule concludes anything from its absence. Without, the cut came
	// before the TCP sequence numbers (or in an IP fragment, whose
	// datagram cannot then be reassembled), and MalformedLayer and
	// friends say in which header and where.
	HeaderCut bool
}

// Has reports whether all the given TCP flag bits are set.
func (p *Packet) Has(flags uint8) bool { return p.Flags&flags == flags }

// SegLen is the sequence space the segment occupies: its payload, plus one
// for SYN and one for FIN.
func (p *Packet) SegLen() uint32 {
	n := uint32(p.PayloadLen)
	if p.Flags&FlagSYN != 0 {
		n++
	}
	if p.Flags&FlagFIN != 0 {
		n++
	}
	return n
}

// DSACK reports whether the first SACK block of a segment whose ACK field
// is ack is a D-SACK block (RFC 2883 §4): it reports bytes the receiver got
// twice, not bytes it holds above a hole. Told as tshark 4.0 tells it
// (packet-tcp.c, dissect_tcpopt_sack, "D-SACK Left Edge"): the block ends
// at or below the ACK, or inside the second block (that block starts
// before its end and ends at or after it). It is a fact of the segment
// alone, its blocks against its own ACK: no flow state.
func (o *Options) DSACK(ack uint32) bool {
	if o.NSACK == 0 {
		return false
	}
	end := o.SACK[0][1]
	return seqLE(end, ack) || (o.NSACK > 1 && seqLT(o.SACK[1][0], end) && seqLE(end, o.SACK[1][1]))
}

// SrcAddrPort returns the sender's address and port.
func (p *Packet) SrcAddrPort() netip.AddrPort { return netip.AddrPortFrom(p.Src, p.SrcPort) }

// DstAddrPort returns the receiver's address and port.
func (p *Packet) DstAddrPort() netip.AddrPort { return netip.AddrPortFrom(p.Dst, p.DstPort) }

// setPaySum sets p.paySum: its payload's folded one's complement sum when
// the capture holds the payload whole (its checksum could be verified),
// else 0.
func (p *Packet) setPaySum() {
	p.paySum = 0
	if p.PayloadLen > 0 && len(p.Payload) == p.PayloadLen && p.TCPChecksum != CheckUnverified {
		p.paySum = payloadSum(p.Payload)
	}
}

// payloadSum is b's one's complement sum folded to 1-0xffff: a sum of
// zero is 0xffff, its other form, so that 0 can mean "not known". Two
// byte strings of one length with different sums differ; the sum misses
// only changes it cannot see (16-bit words swapped, 0x0000 made 0xffff).
func payloadSum(b []byte) uint16 {
	s := ^internetChecksum(b, 0)
	if s == 0 {
		s = 0xffff
	}
	return s
}
