package analysis

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/synscope/synscope/capture"
)

// ExportItems lists the packets of the given flows (all of them: earlier
// IP fragments too) in capture order, each with its findings as comments
// ("synscope: code: message") for a pcapng export. An unknown flow id is an
// error.
func (res *Result) ExportItems(ids []int) ([]capture.ExportItem, error) {
	flows, err := res.exportFlows(ids)
	if err != nil {
		return nil, err
	}
	return exportItems(flows), nil
}

// exportFlows returns the flows of ids, each once.
func (res *Result) exportFlows(ids []int) ([]*Flow, error) {
	var flows []*Flow
	seen := make(map[int]bool, len(ids))
	for _, id := range ids {
		f := res.Flow(id)
		if f == nil {
			if id >= 1 && res.Evicted > 0 {
				return nil, fmt.Errorf("%s: no flow %d (evicted to stay within --max-flows, or never there)", res.Name, id)
			}
			return nil, fmt.Errorf("%s: no flow %d (flows are 1 to %d)", res.Name, id, len(res.Flows))
		}
		if !seen[id] {
			seen[id] = true
			flows = append(flows, f)
		}
	}
	return flows, nil
}

// exportItems lists the packets of flows with their findings as comments,
// in capture order.
func exportItems(flows []*Flow) []capture.ExportItem {
	var items []capture.ExportItem
	for _, f := range flows {
		comments := map[uint64][]string{}
		for _, fi := range f.Findings {
			comments[fi.Frame] = append(comments[fi.Frame], "synscope: "+fi.Code.String()+": "+f.Message(fi))
		}
		for _, r := range f.Refs {
			items = append(items, capture.ExportItem{Offset: r.Offset, Frame: r.Frame, Comments: comments[r.Frame]})
		}
	}
	slices.SortFunc(items, func(a, b capture.ExportItem) int { return cmp.Compare(a.Frame, b.Frame) })
	return items
}

// MarkedIDs returns the ids of the flows that had a packet the Config's
// Mark function accepted.
func (res *Result) MarkedIDs() []int {
	var ids []int
	for _, f := range res.Flows {
		if f.Marked {
			ids = append(ids, f.ID)
		}
	}
	return ids
}

// ExportItems is Result.ExportItems for the flows read so far, before
// Finish: for exporting flows of a live capture while it goes on. The
// comments are the findings as the view shows them, FlowCopy's: the
// checksum findings come only at Finish, and an export of the live view
// had no checksum.offload where the list showed it. The analysis is left
// as it was. The caller serialises it with Add.
func (a *Analyzer) ExportItems(ids []int) ([]capture.ExportItem, error) {
	flows, err := a.res.exportFlows(ids)
	if err != nil {
		return nil, err
	}
	for i, f := range flows {
		if c, ok := a.FlowCopy(f.ID); ok {
			flows[i] = c
		}
	}
	return exportItems(flows), nil
}

// FlowCopy returns a copy of flow id as it stands, with its provisional
// status before Finish (see Summary), that another goroutine may read
// while the Analyzer goes on: its packets and findings are copied. Before
// Finish the copy also has the checksum findings Finish would give it if
// the capture ended now (checksum.offload, or checksum.bad), judged
// against every flow held so far as the rule is capture-wide: without them a
// live drill-down showed no finding where the report of the same packets
// had checksum.offload. So it has the handshake finding of a SYN or
// SYN-ACK whose wait for an answer is over (overdue), which the list row
// counts. The caller serialises FlowCopy with Add. It returns false for
// an unknown id.
func (a *Analyzer) FlowCopy(id int) (*Flow, bool) {
	g := a.res.Flow(id)
	if g == nil {
		return nil, false
	}
	f := *g
	f.Refs = slices.Clone(f.Refs)
	f.Findings = slices.Clone(f.Findings)
	if g.notes != nil {
		n := *g.notes
		n.badSums = slices.Clone(n.badSums)
		if n.bad != nil {
			t := *n.bad
			n.bad = &t
		}
		n.malformed = slices.Clone(n.malformed)
		// For the analysis only, which goes on with the original.
		n.sent, n.holes, f.copies = nil, nil, false
		f.notes = &n
	}
	if !f.finished {
		if f.notes != nil && f.notes.bad != nil {
			// The capture's offload sender, for a packet whose direction
			// is unknown, and for the words of one whose checksum field
			// holds the pseudo-header sum (its sender's own, said so, as
			// Finish says it). It is kept as packets are added
			// (offloadTally): finding it here read every flow, under the
			// caller's lock, on every poll of a live drill-down.
			f.finishChecksums(a.offload.sender())
		}
		fi, due := f.overdue(a.now)
		if due {
			f.addFinding(fi)
		}
		if due || len(f.Findings) != len(g.Findings) {
			// As Finish leaves them.
			sortFlowFindings(f.Findings)
		}
		worst, _ := f.WorstSeverity()
		f.Status, f.Handshake.Status = f.provisional(worst)
	}
	return &f, true
}
