package analysis

import (
	"cmp"
	"math"
	"net/netip"
	"slices"

	"github.com/synscope/synscope/analysis/filter"
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
	// Select, when set, records for each flow which primitives of the
	// expression its packets matched (Result.PrimSet), for picking
	// connections seen at several capture points (Path.Selector), and
	// marks the flows for which the expression holds as a whole
	// (filter.Expr.MatchSet: "not port 80" marks a flow none of whose
	// packets has port 80). Mark is not used then. No packet is left out.
	Select *filter.Expr
	// MaxFlows bounds the flows kept at once: past it, the flows idle the
	// longest are evicted, clean ones before those with findings (see
	// evict.go), and Result.Evicted counts them. 0 means DefaultMaxFlows,
	// sized to the machine's memory; a negative value means no bound.
	MaxFlows int
	// NoPacketIndex leaves Flow.Refs empty, for a caller that will neither
	// read packets back (drill-down, export) nor join capture points: the
	// JSON records and the report are made without it. The index is most
	// of the analysis's memory (48 bytes a packet).
	NoPacketIndex bool
	// PayloadSums sets each packet's PacketRef.PaySum, for comparing a
	// segment's bytes between capture points: a second pass over each
	// payload's bytes (just summed for the checksum, so in the cache),
	// made only when there are points to compare.
	PayloadSums bool
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
	// NotDecoded counts the frames the decoder could not look inside
	// (an unknown link type, an encapsulation it does not follow), by
	// what stopped it, in the order first met: the TCP they may hold is
	// in no flow (NotDecodedNote says so). NotDecodedFrames counts them
	// all, also past the kinds NotDecoded has room for.
	NotDecoded       []NotDecoded
	NotDecodedFrames uint64
	// Uncaptured lists frames that could not be put in a flow because
	// the capture's snap length cut them before their TCP sequence
	// numbers, or cut an IP fragment: sent whole, captured in part, not
	// damaged.
	Uncaptured      []CaptureFinding
	UncapturedCount uint64
	// Damage says where a damaged capture stops being readable; the
	// result holds everything before it. Empty when the file read cleanly.
	Damage string
	// Stopped says where reading stopped because the run was stopped
	// (ctrl-c, a signal): not damage; the result holds the frames
	// before it (capture.InterruptedError).
	Stopped string
	// Notes are what the reader found worth a word about the input that
	// is not damage (capture.Reader.Notes), one line each.
	Notes []string
	// Evicted counts the flows dropped to stay within Config.MaxFlows
	// (they are not in Flows); MaxFlows is the bound that applied.
	Evicted  uint64
	MaxFlows int
	// prims holds the sets of Config.Select's primitives per flow id,
	// primWords words each (PrimSet).
	prims     []uint64
	primWords int
	// tooBig lists the ICMP "too big" errors the capture holds (icmp.go).
	tooBig tooBigList
}

// Flow returns the flow with the given id, or nil when there is none: ids
// start at 1, and a flow evicted to stay within Config.MaxFlows has none.
// Without evictions Flows[id-1] is the flow; with them, use Flow.
func (res *Result) Flow(id int) *Flow {
	if id >= 1 && id <= len(res.Flows) && res.Flows[id-1] != nil && res.Flows[id-1].ID == id {
		return res.Flows[id-1]
	}
	// Flows are in id order; evicted ones leave no entry (after Finish)
	// or a nil one (while reading).
	lo, hi := 0, min(id, len(res.Flows))
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		j := m
		for j < hi && res.Flows[j] == nil {
			j++
		}
		switch {
		case j == hi:
			hi = m
		case res.Flows[j].ID == id:
			return res.Flows[j]
		case res.Flows[j].ID < id:
			lo = j + 1
		default:
			hi = m
		}
	}
	return nil
}

// Analyzer builds the flow table of one capture, a frame at a time.
type Analyzer struct {
	cfg  Config
	dec  *Decoder
	pkt  Packet
	tab  flowTable
	refs refPool
	res  Result
	odd  oddFrames

	// Eviction (evict.go): the flows in their eviction classes, the
	// number of packets seen (the clock), and the evicted flows' holes
	// in res.Flows.
	maxFlows int
	live     int
	lists    [numEvictClasses]flowList
	tick     uint32
	holes    int
	lastID   int

	// Changed (summary.go): the flows touched since the last call.
	gen      Gen
	tracking bool
	finished bool // Finish was called: Changed gives every flow
	dirty    []dirtyFlow
	gone     []FlowSummary // flows evicted since the last call
	// Age (summary.go): the clock it last gave, 0 until it is called,
	// and the handshakes waiting for their answer, in the order their
	// waits end (waitFrom is the first not yet over); waitsAll is the
	// latest end of the waits left out when there were too many to note.
	now      int64
	waits    []handshakeWait
	waitFrom int
	waitsAll int64
	// evictedConns is a Bloom filter of the connections evicted
	// (noteEvicted), nil until the first eviction.
	evictedConns []uint64
	// spare is an evicted flow, cleared, for the next new flow.
	spare *Flow
	// slab holds new flows not handed out yet, of an array of slabN
	// (allocFlow).
	slab  []Flow
	slabN int
	// selFields is scratch space for Config.Select.
	selFields filter.Fields
	// ahead counts the packets put in their flows by runAhead and
	// addAhead, which load each packet's flow ahead of time.
	ahead uint64
	// offload is offloadSender of the flows held, for FlowCopy.
	offload offloadTally
	// sumSender is offload's sender when Changed last gave summaries.
	sumSender netip.Addr
}

// NewAnalyzer returns an Analyzer for one capture.
func NewAnalyzer(cfg Config) *Analyzer {
	a := &Analyzer{
		cfg: cfg,
		dec: NewDecoder(),
		res: Result{Name: cfg.Name},
		gen: 1,
	}
	a.maxFlows = cfg.MaxFlows
	if a.maxFlows == 0 {
		a.maxFlows = DefaultMaxFlows()
	}
	if a.maxFlows > 0 {
		a.res.MaxFlows = a.maxFlows
	}
	return a
}

// Add decodes one record and updates the flow it belongs to.
func (a *Analyzer) Add(rec *capture.Record) {
	p := &a.pkt
	a.dec.Decode(rec, p)
	if a.cfg.PayloadSums {
		p.setPaySum()
	}
	// Counted once decoded: a mapped file truncated meanwhile faults in
	// Decode (Run), and the packet is not analysed.
	a.res.Frames++
	a.odd.see(p)
	if a.cfg.Match == nil && p.HasTCP {
		// addPacket's common case, by hand: its call and frame were
		// 16 instructions a packet.
		a.addHashed(p, packetHash(p), markLazy)
		return
	}
	a.addPacket(p)
}

// addPacket puts one decoded packet in its flow, unless the filter
// (Config.Match) leaves it out.
func (a *Analyzer) addPacket(p *Packet) {
	if a.cfg.Match != nil && !a.cfg.Match(p) {
		a.res.Filtered++
		if p.Undecoded != UndecodedNone {
			a.res.notDecoded(p) // the filter could not look inside either
		}
		return
	}
	h := uint64(0)
	if p.HasTCP {
		h = packetHash(p)
	}
	a.addHashed(p, h, markLazy)
}

// How addPacket learns whether a packet is marked (Config.Mark).
const (
	markLazy int8 = iota // ask Config.Mark, if the flow is not marked yet
	markNo
	markYes
)

// addHashed puts one decoded packet, which the filter accepted, in its
// flow. h is its connHash.
//
// What most packets need (a flow the recent cache holds, no SYN) is here;
// the rest is in addOther and flowFor, so that this function's frame and
// spills are those of the common case: about 24 instructions a packet
// fewer on the benchmark file (builds without default.pgo) than when it
// was all in one.
func (a *Analyzer) addHashed(p *Packet, h uint64, mark int8) {
	a.tick++
	if !p.HasTCP {
		a.addOther(p)
		return
	}
	a.res.TCPFrames++
	// The recent cache's flow, and the side that sent p, which comparing
	// the connection tells (connSide; flowTable.recentFlow says why).
	f, side := a.tab.recentFlow(h), notConn
	if f != nil {
		side = connSide(f, p)
	}
	if side == notConn {
		f = nil
	}
	if f == nil || p.Flags&(FlagSYN|FlagACK) == FlagSYN {
		f, side = a.flowFor(p, h, f, side)
	}
	switch {
	case a.cfg.Select != nil:
		a.selectPacket(f, p)
	case mark == markLazy:
		if a.cfg.Mark != nil && !f.Marked && a.cfg.Mark(p) {
			f.Marked = true
		}
	case mark == markYes:
		f.Marked = true
	}
	f.lastActive = a.tick
	pool := &a.refs
	if a.cfg.NoPacketIndex {
		pool = nil
	}
	// The shortcut, or else the general path. (A method of Flow that did
	// both was not inlined, and its frame was 15 instructions a packet.)
	if !f.addInOrder(p, side, pool) {
		f.addAny(p, side, pool, &a.offload)
	}
	a.touch(f)
	if p.Flags&(FlagSYN|FlagRST) != 0 {
		if p.Flags&FlagSYN != 0 && a.now != 0 {
			a.await(f, p.Time)
		}
		if p.Flags&FlagRST != 0 && f.PrevID != 0 {
			a.nameStaleAck(f, p)
		}
	}
	if f.list != f.evictClass() {
		a.requeue(f)
	}
}

// addOther counts a packet that is not in a TCP flow.
func (a *Analyzer) addOther(p *Packet) {
	if p.Undecoded != UndecodedNone {
		a.res.notDecoded(p)
	}
	// Damage counts where the frame may hold TCP: in TCP, before
	// the IP header, or in an IPv6 extension header, which hides
	// what follows it (a routing header cut by -s 74 dropped its
	// frame unsaid).
	if p.MalformedLayer != "" && (p.Proto == 6 || p.IPVersion == 0 || p.MalformedLayer == "TCP" || p.inIPv6Ext()) {
		list, n := &a.res.Malformed, &a.res.MalformedCount
		if p.HeaderCut {
			list, n = &a.res.Uncaptured, &a.res.UncapturedCount
		}
		*n++
		if len(*list) < maxFindingsPerCode {
			*list = append(*list, CaptureFinding{p.Frame, p.MalformedLayer, p.MalformedOffset, p.MalformedReason})
		}
	}
}

// flowFor returns the flow of p, a TCP packet whose connection hashes to
// h, and the side that sent it, making the flow if there is none: for a
// packet whose flow the recent cache did not hold (f nil), or a pure SYN,
// which may start a new connection on the flow's ports (f the flow the
// cache held, side the side of it that sent p).
func (a *Analyzer) flowFor(p *Packet, h uint64, f *Flow, side Side) (*Flow, Side) {
	slot := -1 // found only on a miss of the recent cache
	if f == nil {
		slot = a.tab.find(h, p, a.res.Flows)
		if f = a.tab.flow(slot, a.res.Flows); f != nil {
			a.tab.remember(h, f)
			side = f.sideOf(p)
		}
	}
	if f != nil && !p.NoAnalysis && f.reuseSYN(p, side) {
		// A new connection on the same ports, as Wireshark decides it.
		old, oldID := f, f.ID
		a.makeRoom()
		evicted := a.spare == old // and about to be reused for the new flow
		f = a.newFlow(p)
		f.PrevID = oldID
		if !evicted && !old.ended() {
			old.addFinding(Finding{Code: CodeReusedPorts, Frame: p.Frame, RelatedFrame: old.LastFrame, A: int64(f.ID)})
			a.touch(old)
			a.requeue(old)
		}
		a.tab.set(a.tab.find(h, p, a.res.Flows), h, f)
		side = f.sideOf(p)
	}
	if f == nil {
		if a.makeRoom() {
			slot = a.tab.find(h, p, a.res.Flows) // the table changed
		}
		f = a.newFlow(p)
		a.tab.set(slot, h, f)
		side = f.sideOf(p)
		if a.evictedConns != nil && p.Flags&FlagSYN == 0 && a.evictedBefore(h) {
			f.note().afterEviction = true
		}
	}
	return f, side
}

// nameStaleAck gives the tcp.rst finding of a RST that cleared an older
// connection on these ports (rstStale), when p is one, the frame that
// says why the server still held it, from the flow whose ports f took
// over (PrevID). The server's stale segment acknowledges all the client
// had sent there (the RST's sequence number is the client's next) when
// it is that connection's. If the client had acknowledged all the server
// sent, the server did not take that ACK (the LAST-ACK of manyloss-a.pcap,
// whose client's final ACK was dropped at the server): the frame named is
// the client's first ACK of it all. If not, the server's last segment
// (its FIN, lost on its way to the client) was never acknowledged, and
// the server waits for that ACK: that segment's frame is named.
func (a *Analyzer) nameStaleAck(f *Flow, p *Packet) {
	i := len(f.Findings) - 1
	for i >= 0 && f.Findings[i].Frame == p.Frame && !f.Findings[i].RSTOfStale() {
		i--
	}
	old := a.res.Flow(f.PrevID)
	if i < 0 || f.Findings[i].Frame != p.Frame || old == nil {
		return
	}
	cs := old.sideOf(p)
	cl, sv := &old.dir[cs], &old.dir[cs.other()]
	if p.Seq != cl.nextSeq || sv.nextSeq == 0 || seqGT(cl.lastAck, sv.nextSeq) {
		return
	}
	fr, unacked := old.frameAt(cl.lastNonDupAck), int64(0)
	if cl.lastAck != sv.nextSeq {
		fr, unacked = old.frameAt(sv.nextSeqFrame), rstStaleUnacked
	}
	if fr != 0 && fr < p.Frame {
		f.Findings[i].A |= unacked
		f.Findings[i].B |= int64(min(p.Frame-fr, math.MaxUint32))
	}
}

// makeRoom evicts a flow when the Analyzer holds MaxFlows, and reports
// whether it did.
func (a *Analyzer) makeRoom() bool {
	if a.maxFlows > 0 && a.live >= a.maxFlows && a.evictOne() {
		a.live--
		return true
	}
	return false
}

// newFlow starts a flow at p, deciding which side is the client: the sender
// of a pure SYN; the receiver of a SYN-ACK; otherwise the side with the
// higher port (the server has the well-known or lower port), marked as a
// guess.
func (a *Analyzer) newFlow(p *Packet) *Flow {
	f := a.spare
	a.spare = nil
	if f == nil {
		f = a.allocFlow()
	}
	f.ID, f.FirstFrame, f.Start, f.End, f.pos = a.nextID(), p.Frame, p.Time, p.Time, int32(len(a.res.Flows))
	// The flow is zero (allocFlow's, or a spare that evictOne cleared):
	// of newDirState, only the fields that are not. Written whole, the
	// two dirStates were about 40 instructions a new flow more, 4 a
	// packet on small frames (10 packets a connection; cachegrind,
	// -pgo=off). TestNewFlowDirs.
	for i := range f.dir {
		f.dir[i].window, f.dir[i].winScale = 0xFFFFFFFF, wsUnknown
	}
	srcIsClient := true
	switch {
	case p.Has(FlagSYN) && p.Flags&FlagACK == 0:
	case p.Has(FlagSYN | FlagACK):
		srcIsClient = false
	default:
		f.DirectionGuessed = true
		srcIsClient = serverLike(p.DstPort, p.SrcPort)
	}
	f.setEndsOf(p, srcIsClient)
	if p.NVLAN > 0 {
		f.VLAN = p.VLAN[0]
	}
	f.Tunnel = p.Tunnel
	if f.sideOf(p) == FromServer {
		f.firstSender = FromServer
	}
	a.res.Flows = append(a.res.Flows, f)
	a.live++
	f.list, f.queuedAt = evictOpenClean, a.tick
	a.lists[evictOpenClean].pushBack(f)
	return f
}

// allocFlow returns a new, zero Flow. Flows are allocated in arrays, from
// 4 to 512 at a time as the capture proves to hold more. Allocated one by
// one, a Flow (624 bytes with pointers) would take 640 bytes, its type
// header tipping it into the next size class, and the allocator's work was
// a tenth of the flow stage; in arrays a Flow takes 624 bytes at a
// fraction of the cost. An array past 32 KB takes whole 8 KB pages: 512
// flows fill 39 exactly, where 256 took 20 pages for 19.5 (640 bytes a
// flow). A flow keeps its array alive; evicted flows are reused
// (Analyzer.spare), so the arrays hold no dead flows.
func (a *Analyzer) allocFlow() *Flow {
	if len(a.slab) == 0 {
		a.slabN = min(max(2*a.slabN, 4), 512)
		a.slab = make([]Flow, a.slabN)
	}
	f := &a.slab[0]
	a.slab = a.slab[1:]
	return f
}

// nextID is the id of the next new flow.
func (a *Analyzer) nextID() int {
	a.lastID++
	return a.lastID
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
	if p.SrcPort == f.clientPort && f.clientW == p.srcWords() {
		return FromClient
	}
	return FromServer
}

// addInOrder takes p, from side, in a few steps when it is the segment
// most of a connection is made of: an ACK, with data or without, or a FIN
// with ACK, of an established connection, at the sender's next sequence
// number, that none of the analysis's rules flags. It checks all of that
// first, against the flow's state as it stands, and reports false, having
// changed nothing, for any other segment, which addAny takes. For the
// segments it takes, it does what addAny does, and only that:
// TestAddInOrderSame replays random connections both ways and compares
// the whole flow after every segment. Most segments of a connection take
// it: 91% of the benchmark file's, 78% of small frames'.
//
// What addAny's steps do with such a segment, and why nothing else
// needs doing: no bad checksum or malformed layer to note; copyOf finds
// no copy (data or a FIN at the next sequence number cannot end there,
// a pure ACK with the IP ID of the side's last packet at the front is
// declined, and so is a flow that showed a copy); handshake is called as
// addAny calls it while the handshake is not settled (the third
// segment), and has nothing to do after; the sequence analysis raises
// no flag (each rule's condition is declined below) and moves the
// sender's state forward; closeState has no RST or data past the
// sender's FIN to judge, and notes a FIN.
func (f *Flow) addInOrder(p *Packet, side Side, pool *refPool) bool {
	if p.Flags&(FlagSYN|FlagRST|FlagACK) != FlagACK || p.MalformedLayer != "" || p.NoAnalysis ||
		p.TCPChecksum == CheckBad || p.IPChecksum == CheckBad || f.rst != rstNone || f.copies {
		return false
	}
	if n := f.notes; n != nil && (n.bad != nil || n.rstSides != nil) {
		return false // goodAfterBad, closeState's and sideState's RST sides
	}
	seglen := uint32(p.PayloadLen)
	if f.finSeen[side] && seglen != 0 {
		// Data past the sender's FIN. (After both FINs the flow is
		// closed: closeState, which ends every segment's analysis,
		// closes it again where answeredAfterRefusal reopened it.)
		return false
	}
	fwd, rev := &f.dir[side], &f.dir[side.other()]
	seq, ack, window := p.Seq, p.Ack, uint32(p.Window)
	if seq != fwd.nextSeq || fwd.nextSeq == 0 || !rev.baseSet || window == 0 || rev.window == 0 {
		// Out of order, lost before it, the side's first (a side with a
		// next sequence number has its base), the other side's base
		// not set yet, a zero window or a zero window probe.
		return false
	}
	if rev.maxSeqToAck != 0 && seqGT(ack, rev.maxSeqToAck) {
		return false // an ACK of what was not seen
	}
	// A FIN is no window update, duplicate ACK, keep-alive or full
	// window (those rules take segments without SYN, FIN or RST), nor a
	// copy at the front (it ends one past it).
	fin := p.Flags&FlagFIN != 0
	if seglen == 0 {
		if fin {
			// Nothing to decline.
		} else if ack == fwd.lastAck {
			return false // a window update, a duplicate ACK or a keep-alive's ACK
		} else if id := uint16(p.IPID); p.IPVersion == 4 && id != 0 && id == fwd.origID && within(p.Time, fwd.origTime, copyWindow) {
			return false // a copy of the last packet at the front
		}
	} else {
		if rev.lastAck != 0 && seqLE(seq+seglen, rev.lastAck) {
			return false // a spurious retransmission
		}
		if rev.winScale != wsUnknown && !fin {
			shift := uint32(0)
			if !rev.isFirstAck && rev.winScale > 0 {
				shift = uint32(rev.winScale)
			}
			if seq+seglen == rev.lastAck+(rev.window<<shift) {
				return false // the window is full
			}
		}
	}

	if pool != nil {
		f.keepRef(p, side, pool)
	}
	if h := &f.Handshake; h.HaveSynAck != h.HaveAck || h.HaveSyn && !h.HaveSynAck {
		// The third segment, or an answer to a SYN whose SYN-ACK the
		// capture missed: addAny's handshake step, which reads none of
		// what this function changes.
		f.handshake(p, side, copyNote{})
	}
	f.Packets++
	f.Bytes += int64(p.WireLen)
	f.LastFrame = p.Frame
	// min and max, as addAny, in 5 fewer instructions a packet, since
	// Start <= End.
	if t := p.Time; t >= f.End {
		f.End = t
	} else if t < f.Start {
		f.Start = t
	}

	// analyzeSeq and afterSeq.
	if ack != fwd.lastAck {
		fwd.dupAcks = 0
		fwd.lastNonDupAck = f.frameRef(p.Frame)
	}
	next := seq + seglen
	if fin {
		next++
	}
	if seqGT(next, seq) {
		fwd.nextSeq = next
		fwd.nextSeqTime = p.Time
		fwd.nextSeqFrame = f.frameRef(p.Frame)
	}
	if seq == fwd.maxSeqToAck || fwd.maxSeqToAck == 0 {
		fwd.maxSeqToAck = fwd.nextSeq
	}
	// Now next == fwd.nextSeq (a segment's length is below 2^31), and
	// the segment is no copy: it is the side's packet at the front.
	fwd.setOriginal(p)
	fwd.window = window
	fwd.lastAck = ack
	fwd.lastAckTime = p.Time
	fwd.lastFlags = 0
	if f.haveSynTime && f.firstRTT == 0 {
		f.firstRTT = p.Time - f.lastSynTime
	}
	fwd.isFirstAck = false
	if p.Opts.HasWScale {
		fwd.winScale = int8(min(p.Opts.WScale, 14))
	}

	// zeekState.observe, whose tests this segment has passed.
	fromFirst := side == f.firstSender
	if fin {
		if !f.zeek.closing(p, fromFirst) {
			f.zeek.observePacket(p, fromFirst)
		}
		// closeState.
		f.finSeen[side] = true
		if f.finSeen[side.other()] {
			f.closed = true
		}
		return true
	}
	if !f.zeek.established(p, fromFirst) {
		f.zeek.observePacket(p, fromFirst)
	}
	return true
}

// addAny updates f with one of its packets, any packet, which side sent
// (sideOf). Refs grow from pool; with no pool, they are not kept. tally
// learns of the flow's bad checksums.
func (f *Flow) addAny(p *Packet, side Side, pool *refPool, tally *offloadTally) {
	if p.MalformedLayer != "" {
		f.addFinding(Finding{Code: CodeMalformed, Frame: p.Frame, A: int64(p.MalformedOffset)})
		if n := f.note(); len(n.malformed) < maxFindingsPerCode {
			n.malformed = append(n.malformed, malformedNote{p.Frame, p.MalformedLayer, p.MalformedReason})
		}
	}
	if p.TCPChecksum == CheckBad || p.IPChecksum == CheckBad {
		// A bad checksum's finding comes at Finish: keep the flow till
		// then, unless the checksum is plainly left to the NIC (a
		// partial sum, or a packet this host sent), which Finish turns
		// into an offload note, not a finding that matters.
		if !(p.PartialChecksum && p.IPChecksum != CheckBad) && p.Direction != capture.DirOutbound {
			f.noted = true
		}
		f.noteBadSum(p, side, tally)
	}
	if p.TCPChecksum == CheckGood && f.notes != nil && f.notes.bad != nil && f.notes.bad.firstSide == side && f.notes.bad.firstFrame < p.Frame {
		if !f.goodAfterBad {
			tally.late++
		}
		f.goodAfterBad = true
	}
	if pool != nil {
		f.keepRef(p, side, pool)
	}
	f.Packets++
	f.Bytes += int64(p.WireLen)
	f.LastFrame = p.Frame
	// A capture not in time order (captures merged unsorted, a clock
	// stepped back) has frames earlier than the flow's first: the flow
	// spans its earliest to its latest time, as tshark's conversation
	// table, never a negative duration.
	f.Start, f.End = min(f.Start, p.Time), max(f.End, p.Time)

	if p.NoAnalysis {
		// A first fragment that could not be reassembled, or a segment
		// shorter than its header: counted, not analysed (as Wireshark).
		return
	}
	cp := f.copyOf(p, side)
	own := f.sideState(side) // before analyzeSeq moves it
	f.handshake(p, side, cp)
	f.analyzeSeq(p, side, &cp)
	f.zeek.observe(p, side == f.firstSender)
	f.closeState(p, side, own)
}

// keepRef appends p's PacketRef, and those of the fragments it was
// reassembled from, to f.Refs.
func (f *Flow) keepRef(p *Packet, side Side, pool *refPool) {
	bits := refBits(p, side)
	for i, fr := range p.FragmentFrames {
		// Where the fragment's record is, for the export and the
		// drill-down to read it back (0, the file header, without).
		var at int64
		if i < len(p.FragmentOffsets) {
			at = p.FragmentOffsets[i]
		}
		f.Refs = pool.appendRef(f.Refs, PacketRef{Frame: fr, Offset: at, Time: p.Time, Bits: bits | RefFragment})
	}
	ref := PacketRef{Frame: p.Frame, Offset: p.Offset, Time: p.Time, Seq: p.Seq, Ack: p.Ack,
		Len: uint32(p.PayloadLen), Window: p.Window, Flags: p.Flags, Bits: bits,
		IPLen: uint16(min(p.IPTotalLen, 0xffff)), TTL: p.TTL, TOS: p.TOS, PaySum: p.paySum}
	if p.IPVersion == 4 {
		ref.IPID = uint16(p.IPID)
	}
	f.Refs = pool.appendRef(f.Refs, ref)
}

// refBits returns the PacketRef.Bits of p, which side sent. keepRef asks,
// only when the flow keeps the packet's PacketRef: without an index (--json,
// --report), working them out for every packet was 11-12 instructions a
// packet for nothing.
func refBits(p *Packet, side Side) uint8 {
	var bits uint8
	if p.DF {
		bits |= RefDF
	}
	if side == FromServer {
		bits |= RefFromServer
	}
	if p.BadHeader {
		bits |= RefBadHeader
	}
	if p.HeaderCut {
		bits |= RefHeaderCut
	}
	if p.MalformedLayer != "" {
		bits |= RefMalformed
	}
	if p.TCPChecksum == CheckBad || p.IPChecksum == CheckBad {
		bits |= RefBadChecksum
	}
	return bits
}

// rstState is what a flow's RSTs did to the connection (closeState).
type rstState uint8

const (
	rstNone rstState = iota
	// rstWaits: a RST in its receiver's window but not at the sequence
	// number it expects came last. RFC 5961 §3.2 has the receiver answer
	// it with a challenge ACK and go on, an older stack takes it: the next
	// segment that is not a RST says which (closeState).
	rstWaits
	// rstTaken: a RST ended the connection (closeFrame).
	rstTaken
)

// What a tcp.rst finding's receiver did with the RST, in bits 1-3 of A
// (bit 0 is the sender's side; bits 8 and up the width of the range the
// next expected sequence number is in, rstVerdict). B holds the RST's
// sequence number in its top 32 bits and the lowest next expected one in
// the low 32, for rstOutside, rstInWindow and rstWentOn.
const (
	rstEnded    int64 = iota // it took it; or the capture cannot tell, and it is taken as it always was
	rstOutside               // outside the receiver's window: RFC 9293 ignores it
	rstInWindow              // in the window, not at the next expected: nothing but RSTs came after it (yet)
	rstWentOn                // the same, and the connection went on: RFC 5961's challenge ACK
	// rstStale: the client's answer in SYN-SENT to the server's ACK of an
	// older connection on these ports (resetsStale): it clears that one,
	// not this. RelatedFrame is the server's segment; B holds the RST's
	// sequence number in its top 32 bits and, in the low 32, how many
	// frames before the RST is the frame of the older connection that
	// says why the server held it (nameStaleAck; 0: not known).
	rstStale
)

// In A of a tcp.rst finding of kind rstStale: rstStaleFIN, the server's
// segment of the older connection was a FIN (sent again, as in LAST-ACK);
// rstStaleUnacked, the frame B names is the server's last segment of the
// older connection, which the client never acknowledged (without it, the
// client's ACK of all the server sent, which the server did not take).
const (
	rstStaleFIN     int64 = 1 << 4
	rstStaleUnacked int64 = 1 << 5
)

// rstKind returns the kind of a tcp.rst finding (rstEnded and friends).
func (fi Finding) rstKind() int64 { return fi.A >> 1 & 7 }

// sideState is what closeState knows of one side: how far its segments
// went (seq+len, SYN and FIN counted; 0: unknown) and the frame that took
// it there (frameRef), the ACK field and the window of its last segment
// (0 and 0xFFFFFFFF: none). The side's dirState holds the same, but the
// sequence analysis, as Wireshark's, takes a RST's numbers too: once a
// side sent a RST its receiver did not take, the flow keeps them apart
// (flowNotes.rstSides), from its other segments only, or a forged RST
// would make the next one look taken.
type sideState struct{ next, frame, ack, window uint32 }

// sideState returns side's, as it stands.
func (f *Flow) sideState(side Side) sideState {
	if f.notes != nil && f.notes.rstSides != nil && f.notes.rstSides.kept[side] {
		return f.notes.rstSides.s[side]
	}
	d := &f.dir[side]
	return sideState{d.nextSeq, d.nextSeqFrame, d.lastAck, d.window}
}

// rstSides holds the sideState of the sides that sent a RST their
// receiver did not take (sideState).
type rstSides struct {
	s    [2]sideState
	kept [2]bool
}

// ended reports whether the connection may be over as far as the
// capture shows: closed, or a RST in the window waits (rstWaits), which a
// stack older than RFC 5961 takes.
func (f *Flow) ended() bool { return f.closed || f.rst == rstWaits }

// closeState tracks FIN and RST, and flags data sent after the connection
// was closed: by a RST its receiver took, or past the sender's own FIN.
// own is the sender's sideState before this segment.
//
// A RST ends the connection only when its receiver takes it. In a
// synchronized state RFC 9293 §3.10.7.4 ignores one whose sequence number
// is outside the receiver's window, and RFC 5961 §3.2 (Linux since 3.6)
// answers one in the window but not at the next expected sequence number
// with a challenge ACK: a forged or blind reset, an IPS's or a load
// balancer's stale one, after which the connection goes on and closes
// with FINs. Each such RST has its finding (up to maxFindingsPerCode,
// counted past it as any code); Zeek's conn_state and history still take
// it, as Zeek does (zeekState: any RST moves its endpoint to RESET).
//
// Data after both FINs is no fault in itself: the bytes a side sent
// before its FIN and sends again are loss recovery at close. Data past
// the sender's own FIN is, whether or not the peer closed.
func (f *Flow) closeState(p *Packet, side Side, own sideState) {
	rst := p.Flags&FlagRST != 0
	if !rst {
		if f.rst == rstWaits && f.goesOn(p, side, own) {
			f.wentOn()
		}
		if n := f.notes; n != nil && n.rstSides != nil && n.rstSides.kept[side] {
			s := &n.rstSides.s[side]
			end := p.Seq + uint32(p.PayloadLen)
			if p.Flags&(FlagSYN|FlagFIN) != 0 {
				end++
			}
			if seqGT(end, s.next) {
				s.next, s.frame = end, f.frameRef(p.Frame)
			}
			s.ack, s.window = p.Ack, uint32(p.Window)
		}
	}
	if p.PayloadLen > 0 && !rst {
		switch {
		case f.rst == rstTaken:
			f.addFinding(Finding{Code: CodeDataAfterClose, Frame: p.Frame, RelatedFrame: f.closeFrame,
				A: int64(p.PayloadLen), B: int64(side)})
		case f.finSeen[side] && own.next != 0 && !seqLT(p.Seq+uint32(p.PayloadLen), own.next) &&
			!(p.PayloadLen == 1 && p.Seq == own.next-1):
			// The sender went no further than its FIN (own.next is
			// FIN+1, own.frame the FIN) unless data past it did. A byte
			// at the FIN's sequence number is a keep-alive, as the
			// sequence analysis takes it.
			f.addFinding(Finding{Code: CodeDataAfterClose, Frame: p.Frame, RelatedFrame: f.frameAt(own.frame),
				A: int64(p.PayloadLen), B: int64(side) | dataPastFIN | int64(own.next-1)<<8})
		}
	}
	if p.Flags&FlagFIN != 0 {
		f.finSeen[side] = true
	}
	if rst {
		switch {
		case f.rst == rstTaken:
			// The connection is over: later RSTs answer segments that
			// were on their way.
		case f.closed:
			// Both sides sent a FIN: there is no window left to judge.
			f.takeRST(p, side)
		default:
			if side == FromClient {
				if stale, ok := f.resetsStale(p); ok {
					// Not this connection's: it goes on, and its SYN
					// sent again opens it. A FIN among the server's
					// stale segments was the older connection's.
					a := int64(side) | rstStale<<1
					if f.finSeen[FromServer] {
						a |= rstStaleFIN
						f.finSeen[FromServer] = false
					}
					f.addFinding(Finding{Code: CodeRST, Frame: p.Frame, RelatedFrame: stale, A: a, B: int64(uint64(p.Seq) << 32)})
					break
				}
			}
			kind, lo, span := f.rstVerdict(p, side, own)
			if kind == rstEnded {
				f.takeRST(p, side)
				break
			}
			f.addFinding(Finding{Code: CodeRST, Frame: p.Frame,
				A: int64(side) | kind<<1 | int64(span)<<8, B: int64(uint64(p.Seq)<<32 | uint64(lo))})
			if kind == rstInWindow && f.rst != rstWaits {
				f.rst, f.closeFrame = rstWaits, p.Frame
			}
			n := f.note()
			if n.rstSides == nil {
				n.rstSides = new(rstSides)
			}
			if !n.rstSides.kept[side] {
				n.rstSides.s[side], n.rstSides.kept[side] = own, true
			}
		}
	}
	if f.finSeen[0] && f.finSeen[1] && !f.closed {
		f.closed = true
	}
}

// dataPastFIN, in B of a tcp.data_after_close finding (whose bit 0 is
// the side), marks data past the sender's own FIN, whose sequence number
// is in bits 8-39; without it, the data came after a RST ended the
// connection.
const dataPastFIN int64 = 1 << 1

// takeRST ends the connection with the RST p from side. Its finding is
// the refusal's when the RST answers the SYN.
func (f *Flow) takeRST(p *Packet, side Side) {
	if fi, ok := f.First(CodeRefused); !ok || fi.Frame != p.Frame {
		f.addFinding(Finding{Code: CodeRST, Frame: p.Frame, A: int64(side)})
	}
	f.rst, f.closed, f.closeFrame = rstTaken, true, p.Frame
}

// goesOn reports whether p, from side (own: its sideState before p),
// shows that the receiver of the RST that waits (rstWaits) did not take
// it: the RST's sender sends on, which it would not have done had it reset
// the connection, or the receiver answers with a challenge ACK, its last
// ACK again with no data (RFC 5961 §3.2). The receiver's ACKs that move on
// were sent before the RST reached it (an abort with data in flight that
// the capture lost), and say nothing: they made such an abort read "the
// connection went on".
func (f *Flow) goesOn(p *Packet, side Side, own sideState) bool {
	for i := len(f.Findings) - 1; i >= 0 && f.Findings[i].Frame >= f.closeFrame; i-- {
		if fi := f.Findings[i]; fi.Code == CodeRST && fi.rstKind() == rstInWindow {
			return Side(fi.A&1) == side || p.Flags&FlagACK != 0 && p.PayloadLen == 0 && p.Ack == own.ack
		}
	}
	// Its finding was not kept (past the cap): as any segment after it.
	return true
}

// wentOn notes that the connection went on after the RSTs that waited
// (rstWaits): their receiver did not take them. Their findings, the last
// of the flow's since the first of them, say so.
func (f *Flow) wentOn() {
	for i := len(f.Findings) - 1; i >= 0 && f.Findings[i].Frame >= f.closeFrame; i-- {
		if fi := &f.Findings[i]; fi.Code == CodeRST && fi.rstKind() == rstInWindow {
			fi.A += (rstWentOn - rstInWindow) << 1
		}
	}
	f.rst, f.closeFrame = rstNone, 0
}

// rstVerdict judges a RST from side before it is taken, by what the
// capture knows of its receiver (sideState): the next sequence number it
// expects lies between its last ACK (lo) and the furthest the sender
// (own) had gone, span bytes above lo, and its window is that of its last
// segment. A RST in that range is taken (rstEnded), and so is one just
// below it after the sender's FIN (Linux's tcp_reset_check: some stacks
// reset with the FIN's sequence number). Outside the window (below lo,
// or past the range and the window) it is rstOutside; in the window,
// rstInWindow. Where the capture does not know (no segment with an ACK
// from the receiver, its last a SYN, or its window unknown) the RST is
// taken, as it always was. The window scale, when the handshake was not
// seen, is taken as 14, the largest: a RST judged outside is outside any
// window the receiver could have offered.
func (f *Flow) rstVerdict(p *Packet, side Side, own sideState) (kind int64, lo, span uint32) {
	rs := side.other()
	rcv, d := f.sideState(rs), &f.dir[rs]
	if rcv.ack == 0 || rcv.window == 0xFFFFFFFF || (d.isFirstAck && rs == FromClient) {
		return rstEnded, 0, 0
	}
	lo, seq := rcv.ack, p.Seq
	if own.next != 0 && seqGT(own.next, lo) {
		span = own.next - lo
	}
	if (seqLE(lo, seq) && seqLE(seq, lo+span)) || (f.finSeen[side] && seq == lo-1) {
		return rstEnded, lo, span
	}
	shift := uint(0)
	switch ws := d.winScale; {
	case ws == wsUnknown:
		shift = 14
	case ws > 0 && !d.isFirstAck:
		shift = uint(ws)
	}
	if seqGT(seq, lo) && uint64(seq-lo) < uint64(span)+uint64(rcv.window)<<shift {
		return rstInWindow, lo, span
	}
	return rstOutside, lo, span
}

// RSTIgnored reports whether a tcp.rst finding is about a RST that its
// receiver ignored, as the capture shows: outside its window (outside),
// or in it and followed by the connection going on.
func (fi Finding) RSTIgnored() (ignored, outside bool) {
	if fi.Code != CodeRST {
		return false, false
	}
	k := fi.rstKind()
	return k == rstOutside || k == rstWentOn, k == rstOutside
}

// RSTOfStale reports whether a tcp.rst finding is about the client's RST
// that cleared an older connection on these ports, which the server still
// held, from SYN-SENT (resetsStale): not a reset of the flow's connection.
func (fi Finding) RSTOfStale() bool {
	return fi.Code == CodeRST && fi.rstKind() == rstStale
}

// Finish ends the analysis: it gives the verdicts that need the whole
// capture and returns the result. The Analyzer must not be used after.
func (a *Analyzer) Finish() *Result {
	if a.holes > 0 {
		a.compact()
	}
	a.lists = [numEvictClasses]flowList{}
	a.tab = flowTable{}
	a.refs = refPool{}
	a.dirty, a.gone, a.spare, a.slab = nil, nil, nil, nil
	// Finish's verdicts change flows without touching them: the next
	// Changed gives every flow.
	a.tracking, a.finished = false, true
	// What a reader of the capture should know that is not damage; the
	// reader's own notes go before them (Run, the view's loader).
	a.res.Notes = append(append(a.res.Notes, a.odd.notes()...), a.dec.reasm.notes()...)
	a.res.tooBig = a.dec.tooBig
	offload := offloadSender(a.res.Flows)
	for _, f := range a.res.Flows {
		f.finishHandshake()
		f.finishChecksums(offload)
		f.finishStatus()
		f.finished = true
		sortFlowFindings(f.Findings)
	}
	return &a.res
}

// sortFlowFindings puts findings in frame order, the most severe first on a
// frame, as Finish leaves them.
func sortFlowFindings(fs []Finding) {
	slices.SortStableFunc(fs, func(x, y Finding) int {
		return cmp.Or(cmp.Compare(x.Frame, y.Frame), cmp.Compare(y.Severity(), x.Severity()))
	})
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
