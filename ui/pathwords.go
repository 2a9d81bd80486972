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

// pathWords turns the path findings of one connection into sentences,
// from their typed values and the packets they name: never from the
// analysis' own message text. The view and --report both say them, so
// that one finding reads the same in both.
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

// sideWord names the side that sends the packets travelling from point up
// to point down.
func sideWord(up, down int) string {
	if up < down {
		return "client"
	}
	return "server"
}

// sentence says one path finding in words.
func (w *pathWords) sentence(fi analysis.PathFinding) string {
	at, rel := w.point(fi.Point), w.point(fi.RelatedPoint)
	r, _ := w.refAt(fi.Point, fi.Frame)
	ru, _ := w.refAt(fi.RelatedPoint, fi.RelatedFrame)
	switch fi.Code {
	case analysis.PathPayloadAdded, analysis.PathPayloadRemoved:
		verb := "grew"
		if fi.Code == analysis.PathPayloadRemoved {
			verb = "shrank"
		}
		detail := fmt.Sprintf("IP length %d %s %d", ru.IPLen, w.g.Arrow, r.IPLen)
		if len(fi.Data) > 0 {
			detail += ", bytes " + hexBytes(fi.Data, 16)
			if allZero(fi.Data) && int(r.IPLen)+14 <= 64 {
				detail += ": Ethernet padding?"
			}
		}
		return fmt.Sprintf("%s %s by %d byte%s between %s and %s (%s)", analysis.SegmentName(ru), verb, fi.Bytes, plural(fi.Bytes), rel, at, detail)
	case analysis.PathDropped:
		how := "between them"
		if f := w.c.Flows[fi.Point]; f != nil {
			if a, ok := f.First(analysis.CodeAckMismatch); ok && a.Frame == fi.Frame {
				// The wrong ACK is what a stateful firewall refuses
				// (the flow's ack_mismatch finding says so); the points
				// do not tell which device between them dropped it.
				how = fmt.Sprintf("on the way; ACK %d %s server ISN+1 %d", uint32(a.B), w.g.NotEqual, uint32(a.A))
			}
		}
		return fmt.Sprintf("%s (frame %d at %s) never reached %s: dropped %s", analysis.SegmentName(r), fi.Frame, at, rel, how)
	case analysis.PathInjected:
		return fmt.Sprintf("%s (frame %d at %s) was not seen at %s, which it should have passed: injected between them", analysis.SegmentName(r), fi.Frame, at, rel)
	case analysis.PathMSSChanged, analysis.PathOptionsChanged:
		name, ou, od := w.synOptions(fi)
		if fi.Code == analysis.PathMSSChanged {
			return fmt.Sprintf("%s's MSS changed from %s at %s to %s at %s: MSS clamping", name, mssWord(ou), rel, mssWord(od), at)
		}
		return fmt.Sprintf("%s's options changed between %s and %s: %s %s %s", name, rel, at, optionsText(ou, w.g), w.g.Arrow, optionsText(od, w.g))
	case analysis.PathWindowChanged:
		return fmt.Sprintf("the %s's window changed from %d at %s to %d at %s (%s, frame %d)", sideWord(fi.RelatedPoint, fi.Point), ru.Window, rel, r.Window, at, analysis.SegmentName(r), fi.Frame)
	case analysis.PathTOSChanged:
		return fmt.Sprintf("the %s's TOS changed from %#02x at %s to %#02x at %s", sideWord(fi.RelatedPoint, fi.Point), ru.TOS, rel, r.TOS, at)
	case analysis.PathTTL:
		return fmt.Sprintf("the %s's packets lose %d hop%s of TTL between %s and %s", sideWord(fi.RelatedPoint, fi.Point), fi.Hops, plural(fi.Hops), rel, at)
	case analysis.PathClockOffset:
		return analysis.ClockText(at, rel, fi.Seconds)
	case analysis.PathNAT:
		a, b := w.c.Flows[fi.RelatedPoint], w.c.Flows[fi.Point]
		var parts []string
		if a.Client() != b.Client() {
			parts = append(parts, fmt.Sprintf("client %s at %s is %s at %s", a.Client(), rel, b.Client(), at))
		}
		if a.Server() != b.Server() {
			parts = append(parts, fmt.Sprintf("server %s at %s is %s at %s", a.Server(), rel, b.Server(), at))
		}
		return "address translation: " + strings.Join(parts, "; ")
	case analysis.PathISNRewritten:
		ha, hb := &w.c.Flows[fi.RelatedPoint].Handshake, &w.c.Flows[fi.Point].Handshake
		var parts []string
		if ha.HaveSyn && hb.HaveSyn && ha.ClientISN != hb.ClientISN {
			parts = append(parts, fmt.Sprintf("client ISN %+d", int32(hb.ClientISN-ha.ClientISN)))
		}
		if ha.HaveSynAck && hb.HaveSynAck && ha.ServerISN != hb.ServerISN {
			parts = append(parts, fmt.Sprintf("server ISN %+d", int32(hb.ServerISN-ha.ServerISN)))
		}
		return fmt.Sprintf("sequence numbers rewritten between %s and %s: %s", rel, at, strings.Join(parts, ", "))
	case analysis.PathUnjoined:
		return fmt.Sprintf("seen at %s only: no flow at the other points has its ISNs or its segments", at)
	case analysis.PathResegmented:
		return analysis.ResegmentedText(fi, r, at, rel)
	case analysis.PathDuplicated:
		return fmt.Sprintf("%s (frame %d at %s) is one more copy of frame %d at %s, which %s saw fewer times: duplicated between them",
			analysis.SegmentName(r), fi.Frame, at, fi.RelatedFrame, rel, rel)
	case analysis.PathOneWay:
		return analysis.OneWayText(fi, r.Side(), at, rel)
	case analysis.PathScaling:
		return analysis.ScalingText(fi, rel, at, &w.c.Flows[fi.RelatedPoint].Handshake, &w.c.Flows[fi.Point].Handshake)
	}
	return fi.Code.String()
}

// synOptions returns the SYN's or SYN-ACK's name and options upstream and
// downstream for an options finding.
func (w *pathWords) synOptions(fi analysis.PathFinding) (string, analysis.SideOptions, analysis.SideOptions) {
	down, up := w.c.Flows[fi.Point], w.c.Flows[fi.RelatedPoint]
	if down.Handshake.HaveSynAck && fi.Frame == down.Handshake.SynAckFrame {
		return "SYN-ACK", up.Handshake.Server, down.Handshake.Server
	}
	return "SYN", up.Handshake.Client, down.Handshake.Client
}

func mssWord(o analysis.SideOptions) string {
	if !o.HasMSS {
		return "none"
	}
	return fmt.Sprint(o.MSS)
}

// optionsText lists the options a side announced: "MSS 1460 · WS 2 · SACK
// · no TS".
func optionsText(o analysis.SideOptions, g themes.Glyphs) string {
	opt := []string{"no MSS", "no WS", "no SACK", "no TS"}
	if o.HasMSS {
		opt[0] = fmt.Sprintf("MSS %d", o.MSS)
	}
	if o.HasWScale {
		opt[1] = fmt.Sprintf("WS %d", o.WScale)
	}
	if o.SACKPerm {
		opt[2] = "SACK"
	}
	if o.HasTS {
		opt[3] = "TS"
	}
	if o.TFO {
		opt = append(opt, "TFO")
	}
	return strings.Join(opt, g.Sep)
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
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
	case analysis.PathDropped:
		r, _ := w.refAt(fi.Point, fi.Frame)
		return shortSeg(r) + " dropped"
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
// segments), most severe first,
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
			// every point" of a connection whose segments differed.
			if fi.Code.Severity() >= analysis.Warning || fi.Code == analysis.PathResegmented {
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
