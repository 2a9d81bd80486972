package ui

import (
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strings"

	tea "charm.land/bubbletea/v2"

	"github.com/synscope/synscope/analysis"
	"github.com/synscope/synscope/analysis/filter"
	"github.com/synscope/synscope/themes"
)

// Several captures are the capture points of one path, client side first:
// once they are read, the list shows one row per connection, joined across
// the points (analysis.Correlate), with a presence column per point.

// pathCap is the Row.Cap of a connection's row.
const pathCap = -1

// pathMsg carries the capture points joined.
type pathMsg struct{ pa *analysis.Path }

// correlateCmd joins the captures, off the UI goroutine, and keeps the
// connections the command-line filter sel holds for when it is not nil
// (loader.selectConns). The bytes a finding names are read back through
// the captures' stores.
func correlateCmd(caps []CapProgress, stores []*packetStore, sel *filter.Expr) tea.Cmd {
	points := make([]analysis.Point, len(caps))
	for i, c := range caps {
		points[i] = analysis.Point{Name: c.Name, Result: c.Result, Reread: stores[i].readAt}
	}
	return func() tea.Msg {
		pa := analysis.Correlate(points)
		if sel != nil {
			pa = pa.Select(pa.Selector(sel))
		}
		return pathMsg{pa: pa}
	}
}

// pathRows makes a row of each connection: the flow at the first point
// that saw it (the client side), the status counting every point's flow
// and its path findings (partial only where no point judged it), the
// presence at each point, and its verdict.
func pathRows(pa *analysis.Path, g themes.Glyphs) ([]Row, [4]int) {
	var counts [4]int
	rows := make([]Row, 0, len(pa.Conns))
	for _, c := range pa.Conns {
		var r Row
		r.Cap = pathCap
		first, judged := true, false
		for i, f := range c.Flows {
			if f == nil {
				continue
			}
			r.Present |= 1 << i
			st := pa.Status(f)
			if first {
				r.FlowSummary = f.Summary()
				first = false
			}
			// Partial at one point (its capture started late, or left
			// one side out) and judged at another is the other's
			// verdict: with a one-way point, 2,921 clean connections of
			// 3,000 were "?", the list's ✓ counting 59.
			switch {
			case st == analysis.StatusPartial:
				if !judged {
					r.Status = st
				}
			case !judged || statusRank(st) > statusRank(r.Status):
				r.Status, judged = st, true
			}
			s := f.Summary()
			if s.HasFirst && (!r.HasFirst || s.First.Severity() > r.First.Severity()) {
				r.First, r.HasFirst = s.First, true
			}
			r.Codes |= s.Codes
			for _, fi := range pa.Findings[f] {
				r.PathCodes |= 1 << fi.Code
				if fi.Code.Severity() >= analysis.Warning && (!r.HasVerdict || fi.Code.Severity() > r.Verdict.Code.Severity() ||
					fi.Code.Severity() == r.Verdict.Code.Severity() && i < r.Verdict.Point) {
					r.Verdict, r.HasVerdict = fi, true
				}
			}
		}
		r.ID = c.ID
		if r.HasVerdict {
			w := pathWords{pa: pa, c: c, g: g}
			r.Short = w.short(r.Verdict)
		}
		rows = append(rows, r)
		counts[r.Status]++
	}
	return rows, counts
}

// statusRank orders statuses by how much they need a look: invalid, then
// warning, then partial, then ok.
func statusRank(s analysis.Status) int {
	switch s {
	case analysis.StatusInvalid:
		return 3
	case analysis.StatusWarning:
		return 2
	case analysis.StatusPartial:
		return 1
	}
	return 0
}

// applyPath shows the connections instead of the flows. Flows marked
// meanwhile mark their connections.
func (m Model) applyPath(pa *analysis.Path) (Model, tea.Cmd) {
	m.path, m.correlating = pa, false
	marks := map[flowRef]bool{}
	for ref := range m.list.marks {
		if ref.cap >= 0 && ref.cap < len(m.caps) {
			if f := m.caps[ref.cap].Result.Flow(ref.id); f != nil {
				if c := pa.ConnectionOf(f); c != nil {
					marks[flowRef{pathCap, c.ID}] = true
				}
			}
		}
	}
	m.list.marks = marks
	m.list.points, m.list.path = pa.Points, pa
	rows, counts := pathRows(pa, m.c.g)
	var cmd tea.Cmd
	m.list, cmd = m.list.setRows(rows, counts)
	return m, cmd
}

// conn returns the connection with the given id.
func (m *Model) conn(id int) *analysis.Connection {
	if m.path == nil {
		return nil
	}
	return m.path.Conn(id)
}

// pathExportJob writes connections: one export source per capture point,
// so that the pcapng file has one interface per point.
func (m *Model) pathExportJob(ids []int) exportJob {
	var refs []flowRef
	for _, id := range ids {
		for p, f := range m.conn(id).Flows {
			if f != nil {
				refs = append(refs, flowRef{p, f.ID})
			}
		}
	}
	job := m.fileExportJob(refs)
	what := fmt.Sprintf("%d connections", len(ids))
	if len(ids) == 1 {
		what = fmt.Sprintf("connection %d", ids[0])
	}
	job.what = fmt.Sprintf("%s (%d flow%s)", what, len(refs), plural(len(refs)))
	job.name = connExportName(m.caps[0].Name, ids)
	return job
}

// connExportName offers a file name for connections, as exportName does
// for flows: the first point's name, then the connection ids.
func connExportName(first string, ids []int) string {
	refs := make([]flowRef, len(ids))
	for i, id := range ids {
		refs[i] = flowRef{0, id}
	}
	return strings.Replace(exportName(first, refs, false), "-flow", "-conn", 1)
}

// joinedConns counts the connections seen at more than one point.
func joinedConns(pa *analysis.Path) int {
	joined := 0
	for _, c := range pa.Conns {
		n := 0
		for _, f := range c.Flows {
			if f != nil {
				n++
			}
		}
		if n > 1 {
			joined++
		}
	}
	return joined
}

// pathProgress is the line under the title in path mode: the points'
// frames, the connections, and each point's clock against the first.
func (m *Model) pathProgress() string {
	pa := m.path
	var frames, evicted, undecoded uint64
	for _, c := range m.caps {
		frames += c.Frames
		evicted += c.Evicted
		undecoded += c.NotDecoded
	}
	parts := []string{fmt.Sprintf("%s frame%s", commas(frames), plural(int(frames))),
		fmt.Sprintf("%d connection%s, %d at more than one point", len(pa.Conns), plural(len(pa.Conns)), joinedConns(pa))}
	if evicted > 0 {
		parts = append(parts, m.evictedNote(evicted))
	}
	if undecoded > 0 {
		parts = append(parts, m.notDecodedNote(undecoded))
	}
	// A point that captured one direction only stays on the line: it is
	// why that side is "not seen" there with no finding on any connection.
	for _, o := range pa.OneWay {
		parts = append(parts, m.c.safe(filepath.Base(pa.Points[o.Point]))+" "+o.Direction(m.c.g.Arrow)+" only")
	}
	// What makes the path's findings unreliable or empty (points given
	// server side first, a point that shares nothing, the same capture
	// twice): said after the frames (which a narrow line leaves out
	// first), before anything else.
	for k, w := range pa.WarningsShort() {
		parts = slices.Insert(parts, 1+k, m.c.safe(w))
	}
	n := len(parts) // what follows, the clocks, goes first when the line is too narrow
	var offs []string
	for i := 1; i < len(pa.Points); i++ {
		if !math.IsNaN(pa.Offset[i]) {
			offs = append(offs, m.c.safe(filepath.Base(pa.Points[i]))+" "+analysis.ClockOffset(pa.Offset[i])+"s")
		}
	}
	if len(offs) > 0 {
		parts = append(parts, "clocks "+strings.Join(offs, ", "))
	}
	return m.fitProgress(parts[:n], parts[n:]...)
}
