package analysis

import (
	"cmp"
	"net/netip"
	"slices"

	"github.com/synscope/synscope/capture"
)

// Config tunes an Analyzer.
type Config struct {
	// Name is the capture's name as the user gave it (the JSON "capture").
	Name string
	// Match, when set, keeps only the packets it accepts (the user's
	// tcpdump-syntax filter, evaluated on decoded fields).
	Match func(*Packet) bool
	// Mark, when set, marks the flows that have a packet it accepts
	// (Flow.Marked), without leaving other packets out: for exporting
	// whole flows that match an expression.
	Mark func(*Packet) bool
}

// flowKey is the same for both directions of a connection.
type flowKey struct {
	a, b netip.AddrPort
}

func keyOf(p *Packet) (flowKey, bool) {
	s, d := p.SrcAddrPort(), p.DstAddrPort()
	if s.Compare(d) <= 0 {
		return flowKey{s, d}, true
	}
	return flowKey{d, s}, false
}

// CaptureFinding is a finding about a frame that belongs to no flow (a
// damaged frame whose TCP ports could not be read).
type CaptureFinding struct {
	Frame  uint64
	Layer  string
	Offset int
	Reason string
}

// Result is what the analysis of one capture found.
type Result struct {
	Name      string
	Flows     []*Flow
	Frames    uint64 // frames read
	TCPFrames uint64 // frames counted in a flow
	Filtered  uint64 // frames the filter rejected
	// Malformed lists damaged frames that could not be put in a flow.
	Malformed      []CaptureFinding
	MalformedCount uint64
	// Damage says where a damaged capture stops being readable; the
	// result holds everything before it. Empty when the file read cleanly.
	Damage string
}

// Analyzer builds the flow table of one capture, a frame at a time.
type Analyzer struct {
	cfg   Config
	dec   *Decoder
	pkt   Packet
	byKey map[flowKey]*Flow
	res   Result
}

// NewAnalyzer returns an Analyzer for one capture.
func NewAnalyzer(cfg Config) *Analyzer {
	return &Analyzer{
		cfg:   cfg,
		dec:   NewDecoder(),
		byKey: make(map[flowKey]*Flow),
		res:   Result{Name: cfg.Name},
	}
}

// Add decodes one record and updates the flow it belongs to.
func (a *Analyzer) Add(rec *capture.Record) {
	a.res.Frames++
	p := &a.pkt
	a.dec.Decode(rec, p)
	a.addPacket(p)
}

// addPacket puts one decoded packet in its flow.
func (a *Analyzer) addPacket(p *Packet) {
	if a.cfg.Match != nil && !a.cfg.Match(p) {
		a.res.Filtered++
		return
	}
	if !p.HasTCP {
		if p.MalformedLayer != "" && (p.Proto == 6 || p.IPVersion == 0 || p.MalformedLayer == "TCP") {
			a.res.MalformedCount++
			if len(a.res.Malformed) < maxFindingsPerCode {
				a.res.Malformed = append(a.res.Malformed, CaptureFinding{p.Frame, p.MalformedLayer, p.MalformedOffset, p.MalformedReason})
			}
		}
		return
	}
	a.res.TCPFrames++
	key, _ := keyOf(p)
	f := a.byKey[key]
	if f != nil && !p.NoAnalysis && f.reuseSYN(p, f.sideOf(p)) {
		// A new connection on the same ports, as Wireshark decides it.
		old := f
		f = a.newFlow(key, p)
		f.PrevID = old.ID
		if !old.closed {
			old.addFinding(Finding{Code: CodeReusedPorts, Frame: p.Frame, RelatedFrame: old.LastFrame, A: int64(f.ID)})
		}
	}
	if f == nil {
		f = a.newFlow(key, p)
	}
	if a.cfg.Mark != nil && !f.Marked && a.cfg.Mark(p) {
		f.Marked = true
	}
	f.add(p)
}

// newFlow starts a flow at p, deciding which side is the client: the sender
// of a pure SYN; the receiver of a SYN-ACK; otherwise the side with the
// higher port (the server has the well-known or lower port), marked as a
// guess.
func (a *Analyzer) newFlow(key flowKey, p *Packet) *Flow {
	f := &Flow{ID: len(a.res.Flows) + 1, FirstFrame: p.Frame, Start: p.Time}
	f.dir = [2]dirState{newDirState(), newDirState()}
	src, dst := p.SrcAddrPort(), p.DstAddrPort()
	switch {
	case p.Has(FlagSYN) && p.Flags&FlagACK == 0:
		f.Client, f.Server = src, dst
	case p.Has(FlagSYN | FlagACK):
		f.Client, f.Server = dst, src
	default:
		f.DirectionGuessed = true
		if serverLike(p.DstPort, p.SrcPort) {
			f.Client, f.Server = src, dst
		} else {
			f.Client, f.Server = dst, src
		}
	}
	if p.NVLAN > 0 {
		f.VLAN = p.VLAN[0]
	}
	f.Tunnel = p.Tunnel
	if f.sideOf(p) == FromServer {
		f.firstSender = FromServer
	}
	a.res.Flows = append(a.res.Flows, f)
	a.byKey[key] = f
	return f
}

// serverLike reports whether port a looks more like a server's port than b:
// a well-known port (below 1024) over one that is not, else the lower.
func serverLike(a, b uint16) bool {
	if (a < 1024) != (b < 1024) {
		return a < 1024
	}
	return a <= b
}

// sideOf returns which side of f sent p.
func (f *Flow) sideOf(p *Packet) Side {
	if p.SrcPort == f.Client.Port() && p.Src == f.Client.Addr() {
		return FromClient
	}
	return FromServer
}

// add updates f with one of its packets.
func (f *Flow) add(p *Packet) {
	side := f.sideOf(p)
	ref := PacketRef{Frame: p.Frame, Offset: p.Offset, Time: p.Time, Seq: p.Seq, Ack: p.Ack,
		Len: uint32(p.PayloadLen), Window: p.Window, Flags: p.Flags,
		IPLen: uint16(min(p.IPTotalLen, 0xffff)), TTL: p.TTL, TOS: p.TOS}
	if side == FromServer {
		ref.Bits |= RefFromServer
	}
	if p.BadHeader {
		ref.Bits |= RefBadHeader
	}
	if p.MalformedLayer != "" {
		ref.Bits |= RefMalformed
		f.addFinding(Finding{Code: CodeMalformed, Frame: p.Frame, A: int64(p.MalformedOffset)})
		if len(f.malformed) < maxFindingsPerCode {
			f.malformed = append(f.malformed, malformedNote{p.Frame, p.MalformedLayer, p.MalformedReason})
		}
	}
	if p.TCPChecksum == CheckBad || p.IPChecksum == CheckBad {
		ref.Bits |= RefBadChecksum
		if len(f.badSums) < maxFindingsPerCode {
			f.badSums = append(f.badSums, badSum{p.Frame, side, p.Direction, p.PartialChecksum && p.IPChecksum != CheckBad})
		}
	}
	if p.TCPChecksum == CheckGood {
		f.lastGood[side] = p.Frame
	}
	for _, fr := range p.FragmentFrames {
		f.Refs = append(f.Refs, PacketRef{Frame: fr, Time: p.Time, Bits: ref.Bits | RefFragment})
	}
	f.Refs = append(f.Refs, ref)
	f.Packets++
	f.Bytes += int64(p.WireLen)
	f.LastFrame = p.Frame
	f.End = p.Time

	if p.NoAnalysis {
		// A first fragment that could not be reassembled, or a segment
		// shorter than its header: counted, not analysed (as Wireshark).
		return
	}
	f.handshake(p, side)
	f.analyzeSeq(p, side)
	f.zeek.observe(zeekSeg{FromFirst: side == f.firstSender, Flags: p.Flags, Seq: p.Seq, Ack: p.Ack,
		PayloadLen: p.PayloadLen, Window: p.Window, BadChecksum: p.TCPChecksum == CheckBad})
	f.closeState(p, side)
}

// closeState tracks FIN and RST, and flags data sent after the connection
// was closed.
func (f *Flow) closeState(p *Packet, side Side) {
	if f.closed && p.PayloadLen > 0 && p.Flags&FlagRST == 0 {
		f.addFinding(Finding{Code: CodeDataAfterClose, Frame: p.Frame, RelatedFrame: f.closeFrame, A: int64(p.PayloadLen)})
	}
	if p.Flags&FlagFIN != 0 {
		f.finSeen[side] = true
	}
	if p.Flags&FlagRST != 0 {
		if !f.rstSeen {
			f.rstSeen = true
			f.rstFrame = p.Frame
			if !f.Has(CodeRefused) {
				f.addFinding(Finding{Code: CodeRST, Frame: p.Frame, A: int64(side)})
			}
		}
		if !f.closed {
			f.closeFrame = p.Frame
		}
		f.closed = true
	}
	if f.finSeen[0] && f.finSeen[1] && !f.closed {
		f.closed = true
		f.closeFrame = p.Frame
	}
}

// Finish ends the analysis: it gives the verdicts that need the whole
// capture and returns the result. The Analyzer must not be used after.
func (a *Analyzer) Finish() *Result {
	offload := offloadSender(a.res.Flows)
	for _, f := range a.res.Flows {
		f.finishHandshake()
		f.finishChecksums(offload)
		f.finishStatus()
		f.finished = true
		slices.SortStableFunc(f.Findings, func(x, y Finding) int {
			return cmp.Or(cmp.Compare(x.Frame, y.Frame), cmp.Compare(y.Severity(), x.Severity()))
		})
	}
	return &a.res
}

// finishStatus sets the flow's status: the worst severity among its
// findings; partial when the handshake was not seen and nothing is wrong.
func (f *Flow) finishStatus() {
	worst, _ := f.WorstSeverity()
	switch {
	case worst == Error:
		f.Status = StatusInvalid
	case f.Handshake.Status == HSNotSeen || (!f.Handshake.HaveSyn && f.Handshake.HaveSynAck):
		f.Status = StatusPartial
	case worst == Warning:
		f.Status = StatusWarning
	default:
		f.Status = StatusOK
	}
}
