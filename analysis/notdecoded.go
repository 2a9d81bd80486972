package analysis

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/gopacket/gopacket/layers"
	"github.com/synscope/synscope/capture"
)

// NotDecoded counts the frames of one capture that the decoder could not
// look inside for one reason (Packet.Undecoded): their TCP, if they hold
// any, is in no flow. Such frames must be said to exist: a capture of a
// link type synscope does not read would otherwise show no flows, as if it
// held no TCP.
type NotDecoded struct {
	What     Undecoded
	LinkType layers.LinkType // for UndecodedLinkType
	Proto    uint16          // the protocol the encapsulation carried
	Frames   uint64
	First    uint64 // the first such frame
}

// maxNotDecodedKinds bounds Result.NotDecoded: a hostile capture could
// name a new GRE protocol in every frame.
const maxNotDecodedKinds = 16

// notDecoded counts p, which the decoder could not look inside.
func (res *Result) notDecoded(p *Packet) { res.addNotDecoded(NotDecodedOf(p)) }

// NotDecodedOf is frame p, which the decoder could not look inside
// (p.Undecoded is not UndecodedNone), as Result.NotDecoded counts it.
func NotDecodedOf(p *Packet) NotDecoded {
	n := NotDecoded{What: p.Undecoded, Proto: p.UndecodedProto, Frames: 1, First: p.Frame}
	if p.Undecoded == UndecodedLinkType {
		n.LinkType = p.LinkType
	}
	return n
}

// Same reports whether n and m count frames not decoded for one reason.
func (n NotDecoded) Same(m NotDecoded) bool {
	return n.What == m.What && n.Proto == m.Proto && n.LinkType == m.LinkType
}

// addNotDecoded counts the frames of n.
func (res *Result) addNotDecoded(n NotDecoded) {
	res.NotDecodedFrames += n.Frames
	for i := range res.NotDecoded {
		if m := &res.NotDecoded[i]; m.Same(n) {
			m.Frames += n.Frames
			return
		}
	}
	if len(res.NotDecoded) < maxNotDecodedKinds {
		res.NotDecoded = append(res.NotDecoded, n)
	}
}

// AddNotDecoded counts frames that the decoder could not look inside and
// that the caller's own filter left out, as Add counts those that
// Config.Match leaves out: the filter could not look inside them either,
// and a live capture with a filter on a link type synscope does not read
// would otherwise show nothing and not say why. n is one or several
// frames of one kind (NotDecodedOf, its Frames added up).
func (a *Analyzer) AddNotDecoded(n NotDecoded) {
	a.res.addNotDecoded(n)
}

// String says which frames these are: "30 frames of link type IPoIB (242)".
func (n NotDecoded) String() string {
	s := "frames"
	if n.Frames == 1 {
		s = "frame"
	}
	s = strconv.FormatUint(n.Frames, 10) + " " + s
	switch n.What {
	case UndecodedLinkType:
		return s + " of link type " + LinkTypeName(n.LinkType)
	case UndecodedGRE:
		return fmt.Sprintf("%s in GRE carrying protocol 0x%04x", s, n.Proto)
	case UndecodedMPLS:
		return s + " in MPLS carrying neither IPv4 nor IPv6"
	case UndecodedPPP:
		return fmt.Sprintf("%s in PPP protocol 0x%04x (%s)", s, n.Proto, pppCarrier(n.Proto))
	case UndecodedEtherType:
		name := "MACsec"
		switch n.Proto {
		case etherTypePBB:
			name = "802.1ah"
		case etherTypeCMD:
			name = "Cisco MetaData"
		}
		return fmt.Sprintf("%s of Ethernet type 0x%04x (%s)", s, n.Proto, name)
	}
	return s
}

// NotDecodedNote says which frames the decoder could not look inside, in
// one line ("30 frames of link type IPoIB (242) not decoded"), or "" when
// it looked inside every frame. Frames that hold no TCP and say so (ARP,
// ICMP, a PPP control protocol) are not in it.
func (res *Result) NotDecodedNote() string {
	if res.NotDecodedFrames == 0 {
		return ""
	}
	parts := make([]string, 0, len(res.NotDecoded)+1)
	var named uint64
	for _, n := range res.NotDecoded {
		parts = append(parts, n.String())
		named += n.Frames
	}
	if rest := res.NotDecodedFrames - named; rest > 0 {
		parts = append(parts, fmt.Sprintf("%d more of other kinds", rest))
	}
	return strings.Join(parts, ", ") + " not decoded"
}

// LinkTypeName names a link type as "IPoIB (242)", or "242" when it has no
// name (capture.LinkTypeName: the export names link types too).
func LinkTypeName(lt layers.LinkType) string { return capture.LinkTypeName(lt) }

// OutsideNote says which TCP frames are in no flow because they were
// damaged, or cut by the snap length before their sequence numbers, in
// one line ("1 damaged TCP frame outside any flow (frame 4: TCP at byte
// 34: ...)"), or "" when there are none. The report lists them; --json
// and the view, which have no place for them in a flow, say this (a
// capture whose only TCP was damaged gave no record and no word).
func (res *Result) OutsideNote() string {
	var parts []string
	say := func(list []CaptureFinding, n uint64, what string) {
		if n == 0 || len(list) == 0 {
			return
		}
		m, first := list[0], "frame"
		if n > 1 {
			first = "the first, frame"
		}
		parts = append(parts, fmt.Sprintf("%d %s outside any flow (%s %d: %s at byte %d: %s)",
			n, fmt.Sprintf(what, plural(int(n))), first, m.Frame, m.Layer, m.Offset, m.Reason))
	}
	say(res.Malformed, res.MalformedCount, "damaged TCP frame%s")
	say(res.Uncaptured, res.UncapturedCount, "TCP frame%s cut by the snap length")
	return strings.Join(parts, "; ")
}
