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
		if id < 1 || id > len(res.Flows) {
			return nil, fmt.Errorf("%s: no flow %d (flows are 1 to %d)", res.Name, id, len(res.Flows))
		}
		byID[id] = res.Flows[id-1]
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
