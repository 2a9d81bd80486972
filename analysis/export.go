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
	byID := make(map[int]*Flow, len(ids))
	for _, id := range ids {
		f := res.Flow(id)
		if f == nil {
			if id >= 1 && res.Evicted > 0 {
				return nil, fmt.Errorf("%s: no flow %d (evicted to stay within --max-flows, or never there)", res.Name, id)
			}
			return nil, fmt.Errorf("%s: no flow %d (flows are 1 to %d)", res.Name, id, len(res.Flows))
		}
		byID[id] = f
	}
	var items []capture.ExportItem
	for _, f := range byID {
		comments := map[uint64][]string{}
		for _, fi := range f.Findings {
			comments[fi.Frame] = append(comments[fi.Frame], "synscope: "+fi.Code.String()+": "+f.Message(fi))
		}
		for _, r := range f.Refs {
			items = append(items, capture.ExportItem{Offset: r.Offset, Frame: r.Frame, Comments: comments[r.Frame]})
		}
	}
	slices.SortFunc(items, func(a, b capture.ExportItem) int { return cmp.Compare(a.Frame, b.Frame) })
	return items, nil
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
// caller serialises it with Add.
func (a *Analyzer) ExportItems(ids []int) ([]capture.ExportItem, error) {
	return a.res.ExportItems(ids)
}

// FlowCopy returns a copy of flow id as it stands, with its provisional
// status before Finish (see Summary), that another goroutine may read
// while the Analyzer goes on: its packets and findings are copied. The
// caller serialises FlowCopy with Add. It returns false for an unknown id.
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
		n.malformed = slices.Clone(n.malformed)
		// For the analysis only, which goes on with the original.
		n.sent, f.copies = nil, false
		f.notes = &n
	}
	if !f.finished {
		f.Status, f.Handshake.Status = f.provisional()
	}
	return &f, true
}
