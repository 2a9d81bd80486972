package analysis

import "net/netip"

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
}

// Summary returns the flow's summary. Before Finish, status and handshake
// status are provisional: the verdicts that need the whole capture
// (unanswered, incomplete, not seen) are not in yet.
func (f *Flow) Summary() FlowSummary {
	s := FlowSummary{
		ID: f.ID, Client: f.Client, Server: f.Server, DirectionGuessed: f.DirectionGuessed,
		Status: f.Status, Handshake: f.Handshake.Status, Packets: f.Packets, Bytes: f.Bytes,
		Start: f.Start, End: f.End,
	}
	for c, n := range f.Counts {
		if n > 0 {
			s.Codes |= 1 << c
		}
	}
	for _, fi := range f.Findings {
		if !s.HasFirst || fi.Severity() > s.First.Severity() {
			s.First, s.HasFirst = fi, true
		}
	}
	if !f.finished {
		s.Status, s.Handshake = f.provisional()
	}
	return s
}

// provisional gives the status and handshake status the flow would have if
// the capture ended now, without adding findings.
func (f *Flow) provisional() (Status, HandshakeStatus) {
	h := &f.Handshake
	worst, _ := f.WorstSeverity()
	hs := HSNotSeen
	switch {
	case f.Has(CodeRefused):
		hs = HSRefused
	case h.HaveSyn && h.HaveSynAck && h.HaveAck:
		hs = HSComplete
	case h.HaveSyn && !h.HaveSynAck:
		hs = HSUnanswered
	case h.HaveSyn || h.HaveSynAck:
		hs = HSIncomplete
	}
	for _, fi := range f.Findings {
		if fi.Code.IsHandshake() && fi.Severity() == Error && fi.Code != CodeRefused && fi.Code != CodeUnanswered {
			hs = HSInvalid
		}
	}
	st := StatusOK
	switch {
	case worst == Error:
		st = StatusInvalid
	case hs == HSNotSeen || (!h.HaveSyn && h.HaveSynAck):
		st = StatusPartial
	case worst == Warning:
		st = StatusWarning
	}
	return st, hs
}

// Summaries appends the summaries of every flow so far to dst, in id order.
// It is the snapshot a loading ui takes, from the reading goroutine.
func (a *Analyzer) Summaries(dst []FlowSummary) []FlowSummary {
	for _, f := range a.res.Flows {
		dst = append(dst, f.Summary())
	}
	return dst
}

// Progress is what a loading ui shows of the reading so far.
type Progress struct {
	Frames    uint64
	TCPFrames uint64
	Flows     int
}

// Progress returns the counts so far.
func (a *Analyzer) Progress() Progress {
	return Progress{Frames: a.res.Frames, TCPFrames: a.res.TCPFrames, Flows: len(a.res.Flows)}
}

const _ = uint(64 - numCodes) // FlowSummary.Codes holds one bit per code
