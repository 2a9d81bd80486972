package analysis

import (
	"cmp"
	"iter"
	"net/netip"
	"slices"
	"time"
)

// FlowSummary is a copy of what a flow list shows of one flow. The ui takes
// summaries while a capture is still being read (the flows themselves
// belong to the goroutine that reads), and keeps them when it is done.
type FlowSummary struct {
	ID               int
	Client, Server   netip.AddrPort
	DirectionGuessed bool
	Status           Status
	Handshake        HandshakeStatus
	Packets          int
	Bytes            int64
	Start, End       int64
	// First is the flow's most severe finding (the first of those), the
	// one a list row shows in a few words; HasFirst is false when the flow
	// has none.
	First    Finding
	HasFirst bool
	// Codes is a bit set of the codes the flow has findings for.
	Codes uint64
	// Evicted is set in a summary Analyzer.Changed returns for a flow
	// that was evicted (Config.MaxFlows): the list should drop it.
	Evicted bool
	// Marked is Flow.Marked: a packet of the flow matched Config.Mark.
	Marked bool
}

// Summary returns the flow's summary. Before Finish, status and handshake
// status are provisional: the verdicts that need the whole capture
// (unanswered, incomplete, not seen) are not in yet, and its bad checksums
// have no finding yet (the Analyzer's summaries give them, as FlowCopy).
func (f *Flow) Summary() FlowSummary {
	return f.summary(false, netip.Addr{}, 0)
}

// summary is Summary. Before Finish, with checksums set, it also counts
// the findings the flow's bad checksums would come to if the capture ended
// now, offload being the capture's offload sender so far: a live list
// showed a flow with bad checksums as ok, and code:checksum.bad found
// nothing, until the capture stopped. So it does the handshake finding
// that overdue gives at now.
func (f *Flow) summary(checksums bool, offload netip.Addr, now int64) FlowSummary {
	s := FlowSummary{
		ID: f.ID, Client: f.Client(), Server: f.Server(), DirectionGuessed: f.DirectionGuessed,
		Status: f.Status, Handshake: f.Handshake.Status, Packets: f.Packets, Bytes: f.Bytes,
		Start: f.Start, End: f.End, Codes: uint64(f.codes),
	}
	worst := Info
	for _, fi := range f.Findings {
		if !s.HasFirst || fi.Severity() > s.First.Severity() {
			s.First, s.HasFirst = fi, true
		}
		worst = max(worst, fi.Severity())
	}
	if !f.finished {
		// A finding Finish would add if the capture ended now.
		add := func(fi Finding) {
			s.Codes |= 1 << fi.Code
			// As after Finish, whose findings are in frame order.
			if sev := fi.Severity(); !s.HasFirst || sev > s.First.Severity() ||
				(sev == s.First.Severity() && fi.Frame < s.First.Frame) {
				s.First, s.HasFirst = fi, true
			}
			worst = max(worst, fi.Severity())
		}
		if checksums && f.notes != nil && f.notes.bad != nil {
			f.checksumFindings(offload, add)
		}
		if fi, due := f.overdue(now); due {
			add(fi)
		}
		s.Status, s.Handshake = f.provisional(worst)
	}
	s.Evicted, s.Marked = f.evicted, f.Marked
	return s
}

// provisional gives the status and handshake status the flow would have if
// the capture ended now, worst being the most severe of its findings (Info
// when it has none) and of the one overdue gives. A SYN not answered, or
// a SYN-ACK not acknowledged, is pending (partial) until overdue says its
// wait is over: its answer may be one round trip away.
func (f *Flow) provisional(worst Severity) (Status, HandshakeStatus) {
	h := &f.Handshake
	hs := f.handshakeStatus() // as finishHandshake will set it
	st := StatusOK
	switch {
	case worst == Error:
		st = StatusInvalid
	case hs == HSUnanswered:
		// One SYN, its answer perhaps on its way: pending, not ok,
		// and not ✗ for the round trip of every new connection.
		st = StatusPartial
	case hs == HSNotSeen || (!h.HaveSyn && h.HaveSynAck):
		st = StatusPartial
	case worst == Warning:
		st = StatusWarning
	case hs == HSIncomplete:
		// The third segment perhaps one round trip away: pending.
		st = StatusPartial
	}
	return st, hs
}

// pendingWait is how long a SYN or SYN-ACK sent once may wait for its
// answer before a live view calls it unanswered (overdue): 3 s, RFC 2988's
// initial retransmission timeout, which RFC 6298 lowered to 1 s. A stack
// that has not sent it again by then has given up (a scan's probe), or
// the capture missed the retransmission; either way the answer is not
// coming. A row for a SYN a firewall dropped went from ? to ✗ only when the
// SYN was sent again, and a SYN sent once stayed ? until the capture
// stopped.
const pendingWait = 3 * int64(time.Second)

// overdue returns the handshake finding Finish would give f if the capture
// ended now (finishHandshake), once the wait for it is over: a SYN not
// answered (handshake.unanswered), or a SYN-ACK not acknowledged
// (handshake.incomplete), that was sent again, or sent pendingWait or more
// before now. now is 0 where no clock is kept (a file being read): only a
// retransmission ends the wait then.
func (f *Flow) overdue(now int64) (Finding, bool) {
	h := &f.Handshake
	late := func(t int64) bool { return now != 0 && now-t >= pendingWait }
	switch {
	case h.HaveSyn && !h.HaveSynAck && h.answeredAfter == 0 && !f.Has(CodeRefused):
		if h.Syns > 1 || late(h.LastSynTime) {
			return Finding{Code: CodeUnanswered, Frame: h.SynFrame, A: int64(h.Syns), B: h.LastSynTime - h.SynTime}, true
		}
	case h.HaveSyn && h.HaveSynAck && !h.HaveAck && !f.Has(CodeIncomplete):
		if h.SynAcks > 1 || late(h.SynAckTime) {
			return Finding{Code: CodeIncomplete, Frame: h.SynAckFrame, RelatedFrame: h.SynFrame}, true
		}
	}
	return Finding{}, false
}

// Summaries appends the summaries of every flow so far to dst, in id order.
// It is the snapshot a loading ui takes, from the reading goroutine. To
// copy only what changed since the last snapshot, use Changed.
func (a *Analyzer) Summaries(dst []FlowSummary) []FlowSummary {
	for s := range a.AllSummaries() {
		dst = append(dst, s)
	}
	return dst
}

// AllSummaries yields the summaries of the flows kept, in id order, as
// Summaries gives them, for a caller that stores them in its own form (a
// copy fewer, which counts at a million flows).
func (a *Analyzer) AllSummaries() iter.Seq[FlowSummary] {
	return func(yield func(FlowSummary) bool) {
		sender := a.offload.sender()
		for _, f := range a.res.Flows {
			if f != nil && !yield(f.summary(true, sender, a.now)) {
				return
			}
		}
	}
}

// Gen marks a point in an Analyzer's updates, for Changed.
type Gen uint64

// Changed appends to dst the summaries of the flows added, updated or
// evicted (FlowSummary.Evicted) since since, in id order, and returns the
// Gen to pass to the next call. since is the Gen the previous call
// returned; 0, or any other value, asks for every flow, as Summaries gives
// them. full reports that every flow was given (and no eviction): so it is
// on the first call, after Finish (whose verdicts change flows without
// touching them), and when more changed between two calls than is worth
// tracking one by one (trackMax). A loading ui calls it on each tick, with the same serialisation
// as Add, and copies only what changed: a capture with 250,000 flows of
// which a few thousand see packets between two ticks costs a few thousand
// summaries, not 250,000.
//
// The Analyzer notes touched flows only once Changed has been called, so
// that a reader that never calls it pays nothing.
func (a *Analyzer) Changed(dst []FlowSummary, since Gen) (_ []FlowSummary, _ Gen, full bool) {
	// A change of the capture's offload sender changes the checksum
	// findings of flows it does not touch: give every flow.
	sender := a.offload.sender()
	if sender != a.sumSender {
		a.sumSender, a.tracking = sender, false
	}
	if !a.tracking || since != a.gen {
		a.tracking = !a.finished
		dst = a.Summaries(dst)
		full = true
	} else {
		start := len(dst)
		for _, d := range a.dirty {
			// An entry is stale when its flow was evicted and the
			// Flow reused for another: the eviction is in gone.
			if d.f.ID == d.id && !d.f.evicted {
				dst = append(dst, d.f.summary(true, sender, a.now))
			}
		}
		dst = append(dst, a.gone...)
		slices.SortFunc(dst[start:], func(x, y FlowSummary) int { return cmp.Compare(x.ID, y.ID) })
	}
	clear(a.dirty)
	a.dirty = a.dirty[:0]
	a.gone = a.gone[:0]
	a.gen++
	return dst, a.gen, full
}

// trackMax is how many changed flows and evictions the Analyzer notes
// between two calls of Changed before it stops and lets the next call give
// every flow: a reader that calls late (a view held up by a slow
// terminal) must not let the notes grow with a flood.
func (a *Analyzer) trackMax() int { return a.maxFlows/4 + 10_000 }

// untrack stops noting changes until the next Changed, which then gives
// every flow.
func (a *Analyzer) untrack() {
	a.tracking = false
	clear(a.dirty)
	a.dirty = a.dirty[:0]
	a.gone = a.gone[:0]
}

// dirtyFlow is a flow touched since the last Changed, with its id then.
type dirtyFlow struct {
	f  *Flow
	id int
}

// touch notes that f changed, for Changed.
func (a *Analyzer) touch(f *Flow) {
	if a.tracking && f.touched != uint32(a.gen) {
		f.touched = uint32(a.gen)
		a.dirty = append(a.dirty, dirtyFlow{f, f.ID})
		if len(a.dirty)+len(a.gone) > a.trackMax() {
			a.untrack()
		}
	}
}

// Age tells the Analyzer the time now (Unix nanoseconds, the clock of a
// live capture's time stamps), before Changed and FlowCopy, so that a SYN
// or SYN-ACK sent once whose answer has not come by pendingWait is no
// longer pending (overdue): its flow gets no more packets, so Age touches
// it for Changed. A reader of a file never calls it: its flows wait for
// Finish. The caller serialises it with Add.
func (a *Analyzer) Age(now int64) {
	a.now = now
	i := a.waitFrom
	for ; i < len(a.waits) && a.waits[i].end <= now; i++ {
		// Stale when the flow was evicted and the Flow reused.
		if w := a.waits[i]; w.f.ID == w.id && !w.f.evicted {
			a.touch(w.f)
		}
		a.waits[i] = handshakeWait{}
	}
	a.waitFrom = i
	if a.waitFrom > len(a.waits)/2 {
		a.waits = a.waits[:copy(a.waits, a.waits[a.waitFrom:])]
		a.waitFrom = 0
	}
	if a.waitsAll != 0 && a.waitsAll <= now {
		// Some waits were not noted: give every flow.
		a.waitsAll = 0
		a.untrack()
	}
}

// handshakeWait is a flow whose SYN or SYN-ACK waits for its answer until
// end, with its id then.
type handshakeWait struct {
	f   *Flow
	id  int
	end int64
}

// await notes, after a segment with SYN sent at t, that f waits for an
// answer if it now does: a SYN sent once, or a SYN-ACK sent once, unanswered.
// A flood of SYNs would make the notes grow with it: past trackMax, only
// the latest end of the waits left out is kept, and when it has passed,
// Age has Changed give every flow.
func (a *Analyzer) await(f *Flow, t int64) {
	h := &f.Handshake
	if !(h.Syns == 1 && !h.HaveSynAck || h.SynAcks == 1 && !h.HaveAck) {
		return
	}
	end := t + pendingWait
	if len(a.waits)-a.waitFrom >= a.trackMax() {
		a.waitsAll = max(a.waitsAll, end)
		return
	}
	a.waits = append(a.waits, handshakeWait{f, f.ID, end})
}

// Progress is what a loading ui shows of the reading so far.
type Progress struct {
	Frames    uint64
	TCPFrames uint64
	Flows     int    // flows kept
	Evicted   uint64 // flows evicted (Config.MaxFlows)
	// NotDecoded counts the frames the decoder could not look inside
	// (Result.NotDecodedFrames).
	NotDecoded uint64
	// WaitEnds is when the first handshake waiting for its answer stops
	// waiting (Age), 0 when none waits or Age was never called.
	WaitEnds int64
}

// Progress returns the counts so far.
func (a *Analyzer) Progress() Progress {
	p := Progress{Frames: a.res.Frames, TCPFrames: a.res.TCPFrames, Flows: a.live, Evicted: a.res.Evicted, NotDecoded: a.res.NotDecodedFrames}
	if a.waitFrom < len(a.waits) {
		p.WaitEnds = a.waits[a.waitFrom].end
	}
	if a.waitsAll != 0 && (p.WaitEnds == 0 || a.waitsAll < p.WaitEnds) {
		p.WaitEnds = a.waitsAll
	}
	return p
}

const _ = uint(64 - numCodes) // FlowSummary.Codes holds one bit per code
