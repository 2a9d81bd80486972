package ui

import (
	"cmp"
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/synscope/synscope/analysis"
	"github.com/synscope/synscope/themes"
)

// pathWords says the path findings of one connection: in sentences
// (Path.Sentence, from their typed values and the packets they name, with
// the terminal's glyphs), which the JSON record and export comments say
// too, and in short words for list and ladder rows.
type pathWords struct {
	pa *analysis.Path
	c  *analysis.Connection
	g  themes.Glyphs
}

// refAt returns the packet of point p's flow with the given frame.
func (w *pathWords) refAt(p int, frame uint64) (analysis.PacketRef, bool) {
	if p < 0 || p >= len(w.c.Flows) || w.c.Flows[p] == nil {
		return analysis.PacketRef{}, false
	}
	refs := w.c.Flows[p].Refs
	i := sort.Search(len(refs), func(i int) bool { return refs[i].Frame >= frame })
	for ; i < len(refs) && refs[i].Frame == frame; i++ {
		if refs[i].Bits&analysis.RefFragment == 0 {
			return refs[i], true
		}
	}
	return analysis.PacketRef{}, false
}

// point names a capture point: its label, or its file's base name.
func (w *pathWords) point(p int) string {
	if p < 0 || p >= len(w.pa.Points) {
		return "?"
	}
	return filepath.Base(w.pa.Points[p])
}

// shortSeg names a segment in a word or two: "data 127B" for a data
// segment.
func shortSeg(r analysis.PacketRef) string {
	if s := analysis.SegmentName(r); !strings.HasPrefix(s, "data") {
		return s
	}
	return fmt.Sprintf("data %dB", r.Len)
}

// flowLevel reports the findings about a flow as a whole (they sit on its
// first frame), not about one of its packets.
func flowLevel(c analysis.PathCode) bool {
	switch c {
	case analysis.PathNAT, analysis.PathISNRewritten, analysis.PathTTL, analysis.PathClockOffset, analysis.PathUnjoined:
		return true
	}
	return false
}

// sentence says one path finding in words, as the analysis says it
// (Path.Sentence) with this terminal's glyphs.
func (w *pathWords) sentence(fi analysis.PathFinding) string {
	return w.pa.Sentence(w.c, fi, analysis.PathGlyphs{Arrow: w.g.Arrow, NotEqual: w.g.NotEqual, Sep: w.g.Sep})
}

// shortPath says a path finding in a few words, for a list or ladder row.
func (w *pathWords) short(fi analysis.PathFinding) string {
	switch fi.Code {
	case analysis.PathPayloadAdded:
		r, _ := w.refAt(fi.RelatedPoint, fi.RelatedFrame)
		return fmt.Sprintf("%s +%dB", shortSeg(r), fi.Bytes)
	case analysis.PathPayloadRemoved:
		r, _ := w.refAt(fi.RelatedPoint, fi.RelatedFrame)
		return fmt.Sprintf("%s -%dB", shortSeg(r), fi.Bytes)
	case analysis.PathPayloadChanged:
		r, _ := w.refAt(fi.RelatedPoint, fi.RelatedFrame)
		return shortSeg(r) + " changed"
	case analysis.PathDropped:
		r, _ := w.refAt(fi.Point, fi.Frame)
		if fi.Bytes > 0 && uint32(fi.Bytes) < r.Len {
			return fmt.Sprintf("%dB of %s dropped", fi.Bytes, shortSeg(r))
		}
		return shortSeg(r) + " dropped"
	case analysis.PathTooBig:
		r, _ := w.refAt(fi.Point, fi.Frame)
		return shortSeg(r) + " too big"
	case analysis.PathInjected:
		return "injected"
	case analysis.PathMSSChanged:
		return "MSS clamped"
	case analysis.PathOptionsChanged:
		return "options changed"
	case analysis.PathWindowChanged:
		return "window changed"
	case analysis.PathTOSChanged:
		return "TOS changed"
	case analysis.PathNAT:
		return "NAT"
	case analysis.PathISNRewritten:
		return "ISN rewritten"
	case analysis.PathTTL:
		if fi.Count > 0 {
			// A packet whose TTL changed unlike its side's.
			rd, _ := w.refAt(fi.Point, fi.OtherFrame)
			ru, _ := w.refAt(fi.RelatedPoint, fi.RelatedFrame)
			return fmt.Sprintf("%s TTL %d%s%d", shortSeg(rd), ru.TTL, w.g.Arrow, rd.TTL)
		}
		return fmt.Sprintf("TTL -%d", fi.Hops)
	case analysis.PathClockOffset:
		return "clock"
	case analysis.PathUnjoined:
		return "one point only"
	case analysis.PathResegmented:
		r, _ := w.refAt(fi.Point, fi.Frame)
		return fmt.Sprintf("%s = %d segs", shortSeg(r), len(fi.Pieces))
	case analysis.PathDuplicated:
		return "duplicated"
	case analysis.PathOneWay:
		return "one way"
	case analysis.PathScaling:
		return "WS mismatch"
	case analysis.PathSynProxy:
		if fi.RelatedFrame == 0 {
			return "sent by proxy"
		}
		return "SYN proxy"
	case analysis.PathAnswered:
		return "answered on the way"
	case analysis.PathUncaptured:
		return "not captured"
	case analysis.PathSwapped:
		return "direction guessed"
	case analysis.PathFragmented:
		return "fragmented"
	case analysis.PathReordered:
		return "reordered"
	case analysis.PathBypassed:
		return "bypassed " + w.point(fi.RelatedPoint)
	case analysis.PathCaptureEnded:
		return fmt.Sprintf("%d not compared", fi.Count)
	}
	return fi.Code.String()
}

// verdictItem is one line of a connection's verdict: a finding, and how
// many more of the same kind there are (the same code on the same kind of
// segment between the same points).
type verdictItem struct {
	fi   analysis.PathFinding
	more int
}

// verdict lists the connection's warnings and errors (and resegmented
// segments, and a connection seen at one point only), most severe first,
// then in the order the segments travelled (row gives a finding's ladder
// row), alike ones together.
func (w *pathWords) verdict(row func(analysis.PathFinding) int) []verdictItem {
	var all []analysis.PathFinding
	for _, f := range w.c.Flows {
		if f == nil {
			continue
		}
		for _, fi := range w.pa.Findings[f] {
			// Resegmentation too, though only info: without it the
			// view said "the same segments, lengths and options at
			// every point" of a connection whose segments differed;
			// and a connection seen at one point only, of which it
			// said the same.
			// And a packet whose TTL changed unlike its side's (a
			// SYN proxy's SYN-ACK): info, and said nowhere else; and
			// a handshake a device answered, whose packets are not
			// "the same ... at every point".
			if fi.Code.Severity() >= analysis.Warning || fi.Code == analysis.PathResegmented || fi.Code == analysis.PathUnjoined ||
				fi.Code == analysis.PathTTL && fi.Count > 0 || fi.Code == analysis.PathSynProxy {
				all = append(all, fi)
			}
		}
	}
	slices.SortStableFunc(all, func(a, b analysis.PathFinding) int {
		return cmp.Or(cmp.Compare(b.Code.Severity(), a.Code.Severity()), cmp.Compare(row(a), row(b)), cmp.Compare(a.Point, b.Point))
	})
	type kind struct {
		code     analysis.PathCode
		seg      string
		from, to int
	}
	var items []verdictItem
	at := map[kind]int{}
	for _, fi := range all {
		r, _ := w.refAt(fi.Point, fi.Frame)
		k := kind{fi.Code, analysis.SegmentName(r), fi.Point, fi.RelatedPoint}
		if i, ok := at[k]; ok {
			items[i].more++
			continue
		}
		at[k] = len(items)
		items = append(items, verdictItem{fi: fi})
	}
	return items
}
