package ui

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/synscope/synscope/analysis"
)

// pointFrame names a packet by its capture point and frame.
type pointFrame struct {
	point int
	frame uint64
}

// pathModel is the drill-down into one connection seen at several capture
// points: the verdict on top, then the packet ladder with one column per
// point, the values that differ from the point before highlighted. Enter
// opens the selected point's flow at the selected segment.
type pathModel struct {
	c     *common
	pa    *analysis.Path
	conn  *analysis.Connection
	words pathWords

	rows    []analysis.LadderRow
	cb, sb  []uint32                     // each point's client and server base, for relative numbers
	rowOf   map[pointFrame]int           // the ladder row of a packet
	notes   map[int]analysis.PathFinding // per row, its most severe path finding
	verdict []verdictItem
	// Per row, its path findings, most severe first; and the findings
	// about the connection as a whole that say more than the info line
	// (its NAT mapping, its rewritten ISNs): the lines under the ladder
	// say the selected row's whole, or else the connection's.
	rowFinds map[int][]analysis.PathFinding
	connInfo []analysis.PathFinding
	// The lines under the ladder (1 at least: the status line), for
	// the screen's size blockAt: as many as the longest of those takes,
	// up to a sixth of the screen.
	blockH  int
	blockAt [2]int

	cursor, offset int
	point          int // the selected point
}

func newPathModel(c *common, pa *analysis.Path, conn *analysis.Connection) pathModel {
	p := pathModel{c: c, pa: pa, conn: conn, words: pathWords{pa: pa, c: conn, g: c.g},
		rows: pa.Ladder(conn), rowOf: map[pointFrame]int{}, notes: map[int]analysis.PathFinding{}, rowFinds: map[int][]analysis.PathFinding{}}
	for i, r := range p.rows {
		for pt, idx := range r.Refs {
			if idx >= 0 {
				p.rowOf[pointFrame{pt, conn.Flows[pt].Refs[idx].Frame}] = i
			}
		}
	}
	for _, f := range conn.Flows {
		if f == nil {
			continue
		}
		for _, fi := range pa.Findings[f] {
			switch fi.Code {
			case analysis.PathNAT, analysis.PathISNRewritten, analysis.PathSwapped:
				p.connInfo = append(p.connInfo, fi)
			}
			i, ok := p.rowOf[pointFrame{fi.Point, fi.Frame}]
			if !ok || flowLevel(fi.Code) {
				continue
			}
			if n, seen := p.notes[i]; !seen || fi.Code.Severity() > n.Code.Severity() {
				p.notes[i] = fi
			}
			p.rowFinds[i] = append(p.rowFinds[i], fi)
		}
	}
	for _, fs := range p.rowFinds {
		slices.SortStableFunc(fs, func(a, b analysis.PathFinding) int {
			return cmp.Or(cmp.Compare(b.Code.Severity(), a.Code.Severity()), cmp.Compare(a.Point, b.Point))
		})
	}
	p.cb, p.sb = p.bases()
	p.verdict = p.words.verdict(p.rowFor)
	// Start on the verdict's first segment, at the point where it was
	// seen; else on the first segment, at the first point that saw it.
	for pt, f := range conn.Flows {
		if f != nil {
			p.point = pt
			break
		}
	}
	if len(p.verdict) > 0 {
		fi := p.verdict[0].fi
		p.cursor, p.point = p.rowFor(fi), fi.Point
	}
	return p
}

// rowFor returns the ladder row of a path finding's packet (the last row
// when it has none).
func (p *pathModel) rowFor(fi analysis.PathFinding) int {
	if i, ok := p.rowOf[pointFrame{fi.Point, fi.Frame}]; ok {
		return i
	}
	return len(p.rows)
}

// selected returns the selected segment's packet at the selected point.
func (p *pathModel) selected() (analysis.PacketRef, bool) {
	if p.cursor >= len(p.rows) {
		return analysis.PacketRef{}, false
	}
	idx := p.rows[p.cursor].Refs[p.point]
	if idx < 0 {
		return analysis.PacketRef{}, false
	}
	return p.conn.Flows[p.point].Refs[idx], true
}

// openAt returns the frame at which Enter opens the selected point's
// flow: the selected segment's packet there; where the point has none,
// the packet nearest in time to where it would have been (the time at
// the nearest point that saw it, the two clocks' offset taken out), or,
// with a clock not known, the nearest row's packet at the point; with a
// note that says so. 0 when the flow has nothing to open at.
func (p *pathModel) openAt() (uint64, string) {
	if ref, ok := p.selected(); ok {
		return ref.Frame, ""
	}
	if p.cursor >= len(p.rows) {
		return 0, ""
	}
	r := p.rows[p.cursor]
	pt := p.point
	f := p.conn.Flows[pt]
	q := -1 // the nearest point that saw the segment
	for d := 1; d < len(r.Refs) && q < 0; d++ {
		for _, c := range []int{pt - d, pt + d} {
			if c >= 0 && c < len(r.Refs) && r.Refs[c] >= 0 && q < 0 {
				q = c
			}
		}
	}
	if q < 0 {
		return 0, ""
	}
	seg := p.conn.Flows[q].Refs[r.Refs[q]]
	why := fmt.Sprintf("%s has no packet of this %s", p.words.point(pt), shortSeg(seg))
	if p.lacks(pt, r.Side) {
		why = fmt.Sprintf("%s captured %s packets only, not this %s", p.words.point(pt), p.oneWayDir(r.Side), shortSeg(seg))
	}
	offs := p.pa.Offset
	if pt < len(offs) && q < len(offs) && !math.IsNaN(offs[pt]) && !math.IsNaN(offs[q]) {
		t := seg.Time + int64((offs[pt]-offs[q])*1e9)
		best, found := analysis.PacketRef{}, false
		for _, x := range f.Refs {
			if x.Bits&analysis.RefFragment == 0 && (!found || abs64(x.Time-t) < abs64(best.Time-t)) {
				best, found = x, true
			}
		}
		if found {
			return best.Frame, fmt.Sprintf("%s: opened at frame %d, the nearest in time to where it would have been (clock offset taken out)", why, best.Frame)
		}
		return 0, ""
	}
	// No clock to go by: the ladder's order, the nearest row with a
	// packet at the point (the one before on a tie).
	for d := 1; d < len(p.rows); d++ {
		for _, i := range []int{p.cursor - d, p.cursor + d} {
			if i >= 0 && i < len(p.rows) && p.rows[i].Refs[pt] >= 0 {
				fr := f.Refs[p.rows[i].Refs[pt]].Frame
				where := "before"
				if i > p.cursor {
					where = "after"
				}
				return fr, fmt.Sprintf("%s: opened at frame %d, the nearest %s it on the ladder (the clock offset is not known)", why, fr, where)
			}
		}
	}
	return 0, ""
}

// oneWayDir names the direction a point that left side's packets out did
// capture, "client→server".
func (p *pathModel) oneWayDir(side analysis.Side) string {
	return analysis.OneWayPoint{Missing: side}.Direction(p.c.g.Arrow)
}

func abs64(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}

// Update handles the ladder's keys.
func (p pathModel) Update(msg tea.Msg) (pathModel, tea.Cmd) {
	km, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return p, nil
	}
	k := p.c.keys
	n := len(p.conn.Flows)
	h := p.rowsShown()
	const far = 1 << 30
	switch {
	case key.Matches(km, k.NextPoint):
		p.point = (p.point + 1) % n
	case key.Matches(km, k.PrevPoint):
		p.point = (p.point + n - 1) % n
	case key.Matches(km, k.Up):
		p.cursor--
	case key.Matches(km, k.Down):
		p.cursor++
	case key.Matches(km, k.Top):
		p.cursor -= far
	case key.Matches(km, k.Bottom):
		p.cursor += far
	case key.Matches(km, k.HalfPageDown):
		p.cursor += h / 2
	case key.Matches(km, k.HalfPageUp):
		p.cursor -= h / 2
	case key.Matches(km, k.PageDown):
		p.cursor += h
	case key.Matches(km, k.PageUp):
		p.cursor -= h
	}
	p.fix()
	return p, nil
}

// rowsShown is how many of the ladder's rows are on screen: its height,
// less the line that says how many are out of view when they do not all
// fit.
func (p *pathModel) rowsShown() int {
	h := max(1, p.ladderHeight())
	if len(p.rows) > h && h > 1 {
		return h - 1
	}
	return h
}

// fix keeps the cursor on a row and the row on screen.
func (p *pathModel) fix() {
	if at := [2]int{p.c.width, p.c.height}; p.blockAt != at {
		p.blockH, p.blockAt = p.blockHeight(), at
	}
	p.cursor = max(0, min(p.cursor, len(p.rows)-1))
	h := p.rowsShown()
	if p.cursor < p.offset {
		p.offset = p.cursor
	}
	if p.cursor >= p.offset+h {
		p.offset = p.cursor - h + 1
	}
	p.offset = max(0, min(p.offset, len(p.rows)-h))
}

// verdictBudget is how many lines the verdict may take.
func (p *pathModel) verdictBudget() int {
	if p.c.wide() {
		return 10
	}
	return 5
}

// head is everything above the ladder's rows: title, verdict, what the
// points tell (clocks, NAT), the points' names and the column names.
func (p *pathModel) head() []string {
	lines := []string{p.titleLine()}
	lines = append(lines, p.verdictLines()...)
	if info := p.infoLine(); info != "" {
		lines = append(lines, info)
	}
	return append(lines, p.headerLines(p.layout())...)
}

// ladderHeight is the rows of the ladder on screen: under the head, above
// the lines that say the selected row's findings (the first is the status
// line) and the help line.
func (p *pathModel) ladderHeight() int {
	return p.c.height - len(p.head()) - 1 - max(1, p.blockH)
}

// blockMost is the most lines the selected row's findings may take under
// the ladder: a sixth of the screen (4 at 24 rows, where a NAT mapping
// and rewritten ISNs take 4 at 80 columns), or more where the head is
// short enough to leave the ladder ladderRows rows (the NAT mapping and
// an ISN shift found from the segments took 6 at 80x24, and the ISN's
// was cut).
func (p *pathModel) blockMost() int {
	return max(2, p.c.height/6, p.c.height-len(p.head())-1-ladderRows)
}

// ladderRows is how many rows the ladder keeps when the findings under it
// take more than a sixth of the screen: a handshake, a request and the
// answers to it.
const ladderRows = 10

// blockFindings are the findings said under the ladder for a row: its
// own, else the connection's.
func (p *pathModel) blockFindings(row int) []analysis.PathFinding {
	if fs := p.rowFinds[row]; len(fs) > 0 {
		return fs
	}
	return p.connInfo
}

// blockLine is one line of findings laid out whole: head starts a
// finding, with its severity's glyph.
type blockLine struct {
	text string
	sev  analysis.Severity
	head bool
}

// findingText lays findings out whole at the width, each its severity's
// glyph and its sentence, as the verdict says it.
func (p *pathModel) findingText(fs []analysis.PathFinding) []blockLine {
	var out []blockLine
	for _, fi := range fs {
		sev := fi.Code.Severity()
		for i, l := range plainWrap(p.c.safe(p.words.sentence(fi)), p.c.width, SeverityGlyph(p.c.g, sev)+" ", "  ") {
			out = append(out, blockLine{text: l, sev: sev, head: i == 0})
		}
	}
	return out
}

// blockHeight is how many lines the findings under the ladder take: the
// most any row's (or the connection's) take, up to blockMost, so that the
// ladder does not change height from row to row. It is worked out once
// per screen size; a connection with thousands of findings has its first
// thousand laid out, and a later row's text longer than those is cut.
func (p *pathModel) blockHeight() int {
	most := p.blockMost()
	h := min(most, len(p.findingText(p.connInfo)))
	n := 0
	for i := range p.rows {
		fs := p.rowFinds[i]
		if len(fs) == 0 {
			continue
		}
		h = max(h, min(most, len(p.findingText(fs))))
		if n += len(fs); h == most || n > 1000 {
			break
		}
	}
	// A ladder that fits whole with the status line alone keeps its
	// rows: the seed's 12 rows at 80x24 lost their last two (the
	// server's reset among them) to two lines that said again what the
	// lines above the ladder say; Enter on a point lists its findings
	// whole.
	if free := p.c.height - len(p.head()) - 1; len(p.rows) > free-max(1, h) && len(p.rows) <= free-1 {
		return 1
	}
	return max(1, h)
}

// blockLines draws the selected row's findings (or the connection's)
// whole under the ladder, in blockH lines; cut with an ellipsis past
// them.
func (p *pathModel) blockLines() []string {
	st, g := p.c.styles, p.c.g
	h := max(1, p.blockH)
	text := p.findingText(p.blockFindings(p.cursor))
	if len(text) > h {
		text = text[:h]
		text[h-1].text = truncate(text[h-1].text+" "+g.Ellipsis, p.c.width, g.Ellipsis)
	}
	out := make([]string, h)
	for i, l := range text {
		out[i] = truncate(l.text, p.c.width, g.Ellipsis)
		if gl := SeverityGlyph(g, l.sev); l.head && strings.HasPrefix(out[i], gl) {
			out[i] = severityStyle(st, l.sev).Render(gl) + out[i][len(gl):]
		}
	}
	return out
}

func (p *pathModel) titleLine() string {
	st, g := p.c.styles, p.c.g
	var f *analysis.Flow
	status := analysis.StatusOK
	for _, g := range p.conn.Flows {
		if g == nil {
			continue
		}
		if f == nil {
			f = g
		}
		if s := p.pa.Status(g); statusRank(s) > statusRank(status) {
			status = s
		}
	}
	title := statusStyle(st, status).Render(StatusGlyph(g, status)+" connection "+strconv.Itoa(p.conn.ID)) + "  " +
		st.Title.Render(f.Client().String()+" "+g.Arrow+" "+f.Server().String())
	names := make([]string, len(p.pa.Points))
	for i := range p.pa.Points {
		names[i] = p.c.safe(p.words.point(i))
	}
	title += "  " + st.Dim.Render(strings.Join(names, " "+g.Arrow+" "))
	return truncate(title, p.c.width, g.Ellipsis)
}

// verdictLines say the connection's warnings and errors, most telling
// first, as far as the budget goes.
func (p *pathModel) verdictLines() []string {
	st, g := p.c.styles, p.c.g
	w := p.c.width
	if len(p.verdict) == 0 {
		var out []string
		for _, l := range plainWrap(p.sameText(), w, g.OK+" ", "  ") {
			out = append(out, st.Status.OK.Render(l))
		}
		return out
	}
	budget := p.verdictBudget()
	var out []string
	for i, it := range p.verdict {
		s := p.c.safe(p.words.sentence(it.fi))
		if it.more > 0 {
			s += fmt.Sprintf(" (%d more like it)", it.more)
		}
		sev := it.fi.Code.Severity()
		wrapped := plainWrap(s, w, SeverityGlyph(g, sev)+" ", "  ")
		// Drops all bigger than every segment that passed: the size is
		// the story (an MTU black hole), said under the drop.
		if bh, ok := p.pa.SizeLimit(p.conn.Flows[it.fi.Point], it.fi); ok {
			wrapped = append(wrapped, plainWrap(p.c.safe(bh.Short()), w, "  ", "  ")...)
		}
		left := len(p.verdict) - i
		room := budget - len(out) - min(1, left-1) // a line kept for the rest
		if len(wrapped) > room {
			if i > 0 {
				out = append(out, st.Dim.Render(fmt.Sprintf("%s %d more finding%s: the ladder marks them", g.Ellipsis, left, plural(left))))
				break
			}
			// The first always shows, cut to the budget.
			wrapped = wrapped[:max(1, room)]
		}
		for j, l := range wrapped {
			if j == 0 {
				l = severityStyle(st, sev).Render(l[:len(SeverityGlyph(g, sev))]) + p.numbers(l[len(SeverityGlyph(g, sev)):], it.fi)
			} else {
				l = p.numbers(l, it.fi)
			}
			out = append(out, l)
		}
	}
	return out
}

// sameText says what is the same at every point of a connection with no
// warning or error, and what changed on the way (info findings: MSS
// clamping, windows, TOS, address translation, ISN rewriting), in a few
// words that the rows' marks and the lines under the ladder say whole.
// "the same ... options at every point" was said over a row marked "MSS
// clamped".
func (p *pathModel) sameText() string {
	var has [32]bool
	for _, f := range p.conn.Flows {
		if f == nil {
			continue
		}
		for _, fi := range p.pa.Findings[f] {
			has[fi.Code] = true
		}
	}
	var changed []string
	for _, c := range []struct {
		code analysis.PathCode
		what string
	}{{analysis.PathMSSChanged, "MSS"}, {analysis.PathOptionsChanged, "options"}, {analysis.PathWindowChanged, "window"},
		{analysis.PathTOSChanged, "TOS"}, {analysis.PathNAT, "addresses (NAT)"}, {analysis.PathISNRewritten, "ISNs"}} {
		if has[c.code] {
			changed = append(changed, c.what)
		}
	}
	// Where the points cannot be read back, the options of the segments
	// after the handshake were not compared (analysis/pathopts.go): only
	// the SYN's and SYN-ACK's are said the same.
	same := "the same segments, lengths and options"
	if !p.pa.SegmentOptionsCompared() {
		same = "the same segments, lengths and SYN options"
	}
	if len(changed) == 0 {
		return same + " at every point that saw them"
	}
	if has[analysis.PathMSSChanged] || has[analysis.PathOptionsChanged] {
		same = "the same segments and lengths"
	}
	return same + " at every point that saw them; changed: " + strings.Join(changed, ", ")
}

// numbers styles the expected and actual ACK of a drop's sentence, as the
// drill-down does.
func (p *pathModel) numbers(line string, fi analysis.PathFinding) string {
	if fi.Code != analysis.PathDropped {
		return line
	}
	f := p.conn.Flows[fi.Point]
	a, ok := f.First(analysis.CodeAckMismatch)
	if !ok || a.Frame != fi.Frame {
		return line
	}
	st := p.c.styles
	es, as := strconv.FormatUint(uint64(uint32(a.A)), 10), strconv.FormatUint(uint64(uint32(a.B)), 10)
	line = strings.Replace(line, as, st.Actual.Render(as), 1)
	return strings.Replace(line, es, st.Expected.Render(es), 1)
}

// infoLine says what the points tell besides: each point's clock against
// the first, a point that captured one direction only, address
// translation and rewritten sequence numbers.
func (p *pathModel) infoLine() string {
	st, g := p.c.styles, p.c.g
	var parts []string
	// First: it is why that side is "not seen" there, with no finding.
	for _, w := range p.pa.WarningsShort() {
		parts = append(parts, p.c.safe(w))
	}
	for _, o := range p.pa.OneWay {
		parts = append(parts, p.c.safe(p.words.point(o.Point))+" "+o.Direction(p.c.g.Arrow)+" only")
	}
	// A point that captured one direction of this connection only (its
	// ACKs there acknowledge the other's packets): the same "one-way"
	// cells, for this connection alone.
	for pt := range p.conn.Flows {
		for _, side := range []analysis.Side{analysis.FromClient, analysis.FromServer} {
			wide := slices.ContainsFunc(p.pa.OneWay, func(o analysis.OneWayPoint) bool { return o.Point == pt && o.Missing == side })
			if !wide && p.lacks(pt, side) {
				parts = append(parts, p.c.safe(p.words.point(pt))+" "+p.oneWayDir(side)+" only")
			}
		}
	}
	for i := 1; i < len(p.pa.Points); i++ {
		if !math.IsNaN(p.pa.Offset[i]) {
			parts = append(parts, p.c.safe(p.words.point(i))+" clock "+analysis.ClockOffset(p.pa.Offset[i])+"s")
		}
	}
	for _, f := range p.conn.Flows {
		if f == nil {
			continue
		}
		for _, fi := range p.pa.Findings[f] {
			switch fi.Code {
			case analysis.PathNAT:
				parts = append(parts, fmt.Sprintf("NAT %s%s%s", p.c.safe(p.words.point(fi.RelatedPoint)), g.Arrow, p.c.safe(p.words.point(fi.Point))))
			case analysis.PathISNRewritten:
				parts = append(parts, fmt.Sprintf("ISN rewritten %s%s%s", p.c.safe(p.words.point(fi.RelatedPoint)), g.Arrow, p.c.safe(p.words.point(fi.Point))))
			}
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return st.Dim.Render(truncate(strings.Join(parts, g.Sep), p.c.width, g.Ellipsis))
}

// pathLayout is the ladder's geometry: the shared columns (direction,
// flags, relative seq and ack), then a cell per point.
type pathLayout struct {
	flags, seq, ack       int
	frame, ln, ip, ttl    int
	win, time             int // 0 when left out
	cell, shared, sepW    int
	showIP, showTTL, wide bool
}

// cellSep separates the points' cells.
func (p *pathModel) cellSep() string { return " " + p.c.g.VLine + " " }

// layout fits the cells into the width, leaving out time, window, TTL and
// IP length, in that order, when they do not fit.
func (p *pathModel) layout() pathLayout {
	lay := pathLayout{flags: len("flags"), seq: 3, ack: 3, frame: len("frm"), ln: len("len"), ip: 3, ttl: 3, sepW: width(p.cellSep())}
	for _, r := range p.rows {
		for pt, idx := range r.Refs {
			if idx < 0 {
				continue
			}
			ref := p.conn.Flows[pt].Refs[idx]
			lay.flags = max(lay.flags, len(flagLetters(ref.Flags)))
			lay.frame = max(lay.frame, len(strconv.FormatUint(ref.Frame, 10)))
			lay.ln = max(lay.ln, len(strconv.FormatUint(uint64(ref.Len), 10)))
			lay.ip = max(lay.ip, len(strconv.Itoa(int(ref.IPLen))))
			seq, ack := relNumbers(ref, p.cb[pt], p.sb[pt])
			lay.seq, lay.ack = max(lay.seq, len(seq)), max(lay.ack, len(ack))
		}
	}
	lay.shared = 3 + lay.flags + 1 + lay.seq + 1 + lay.ack + 1
	n := len(p.conn.Flows)
	const minWords = 12
	for _, try := range []struct{ ip, ttl, win, time bool }{
		{true, true, true, true}, {true, true, true, false}, {true, true, false, false}, {true, false, false, false}, {},
	} {
		lay.showIP, lay.showTTL, lay.win, lay.time = try.ip, try.ttl, 0, 0
		if try.win {
			lay.win = 5
		}
		if try.time {
			lay.time = 9
		}
		lay.cell = lay.frame + 1 + lay.ln + 1 // the mark
		if lay.showIP {
			lay.cell += 1 + lay.ip
		}
		if lay.showTTL {
			lay.cell += 1 + lay.ttl
		}
		if lay.win > 0 {
			lay.cell += 1 + lay.win
		}
		if lay.time > 0 {
			lay.cell += 1 + lay.time
		}
		if lay.shared+n*lay.cell+(n-1)*lay.sepW+minWords <= p.c.width {
			break
		}
	}
	// Room to spare widens the cells up to the points' names.
	want := 0
	for i := range p.pa.Points {
		want = max(want, width(fmt.Sprintf("%s %d %s", p.c.g.Cursor, i+1, p.c.safe(p.words.point(i)))))
	}
	spare := (p.c.width - minWords - lay.shared - n*lay.cell - (n-1)*lay.sepW) / n
	lay.cell += max(0, min(spare, want-lay.cell))
	return lay
}

// bases returns each point's client and server ISN (or first sequence
// number), for relative numbers.
func (p *pathModel) bases() (client, server []uint32) {
	client, server = make([]uint32, len(p.conn.Flows)), make([]uint32, len(p.conn.Flows))
	for i, f := range p.conn.Flows {
		if f == nil {
			continue
		}
		h := &f.Handshake
		haveC, haveS := h.HaveSyn, h.HaveSynAck
		client[i], server[i] = h.ClientISN, h.ServerISN
		for _, r := range f.Refs {
			if r.Bits&analysis.RefFragment != 0 {
				continue
			}
			if r.Side() == analysis.FromClient && !haveC {
				client[i], haveC = r.Seq-1, true
			}
			if r.Side() == analysis.FromServer && !haveS {
				server[i], haveS = r.Seq-1, true
			}
		}
		// A side the point never saw (it captured the other direction
		// only) counts from the first ACK of it less one, as the
		// drill-down does: from zero, its ACKs were ten digits wide and
		// widened every row's column.
		for _, r := range f.Refs {
			if haveC && haveS {
				break
			}
			if r.Bits&analysis.RefFragment != 0 || r.Flags&analysis.FlagACK == 0 {
				continue
			}
			if r.Side() == analysis.FromServer && !haveC {
				client[i], haveC = r.Ack-1, true
			}
			if r.Side() == analysis.FromClient && !haveS {
				server[i], haveS = r.Ack-1, true
			}
		}
	}
	return client, server
}

// relNumbers returns a packet's seq and ack relative to each side's base.
func relNumbers(r analysis.PacketRef, cb, sb uint32) (string, string) {
	mine, theirs := cb, sb
	if r.Side() == analysis.FromServer {
		mine, theirs = sb, cb
	}
	seq := strconv.FormatUint(uint64(r.Seq-mine), 10)
	ack := ""
	if r.Flags&analysis.FlagACK != 0 {
		ack = strconv.FormatUint(uint64(r.Ack-theirs), 10)
	}
	return seq, ack
}

// headerLines name the points over their cells (the selected one marked),
// say which flow each point saw, and name the columns.
func (p *pathModel) headerLines(lay pathLayout) []string {
	st, g := p.c.styles, p.c.g
	lead := strings.Repeat(" ", lay.shared)
	names, flows := lead, lead
	for i, f := range p.conn.Flows {
		if i > 0 {
			names += strings.Repeat(" ", lay.sepW)
			flows += strings.Repeat(" ", lay.sepW)
		}
		name := fmt.Sprintf("%d %s", i+1, p.c.safe(p.words.point(i)))
		if i == p.point {
			names += st.PaneTitleFocused.Render(padRight(g.Cursor+" "+name, lay.cell, g.Ellipsis))
		} else {
			names += st.PaneTitle.Render(padRight("  "+name, lay.cell, g.Ellipsis))
		}
		what := st.Dim.Render(padRight(g.Absent+" not seen", lay.cell, g.Ellipsis))
		if f != nil {
			what = padRight(fmt.Sprintf("%s flow %d", g.Present, f.ID), lay.cell, g.Ellipsis)
		}
		flows += what
	}
	cols := " " + padRight("", 2, "") + padRight("flags", lay.flags, "") + " " + padLeft("seq", lay.seq) + " " + padLeft("ack", lay.ack) + " "
	for i := range p.conn.Flows {
		if i > 0 {
			cols += strings.Repeat(" ", lay.sepW)
		}
		c := padLeft("frm", lay.frame) + " " + padLeft("len", lay.ln)
		if lay.showIP {
			c += " " + padLeft("ip", lay.ip)
		}
		if lay.showTTL {
			c += " " + padLeft("ttl", lay.ttl)
		}
		if lay.win > 0 {
			c += " " + padLeft("win", lay.win)
		}
		if lay.time > 0 {
			c += " " + padLeft("time", lay.time)
		}
		cols += padRight(c, lay.cell, "")
	}
	return []string{truncate(names, p.c.width, ""), truncate(flows, p.c.width, ""), truncate(st.Header.Render(cols), p.c.width, "")}
}

// upstream returns the point before pt on the segment's way that saw it:
// towards the client for the client's segments, towards the server for
// the server's; -1 when none did.
func upstream(r analysis.LadderRow, pt int) int {
	step := -1
	if r.Side == analysis.FromServer {
		step = 1
	}
	for q := pt + step; q >= 0 && q < len(r.Refs); q += step {
		if r.Refs[q] >= 0 {
			return q
		}
	}
	return -1
}

// cell draws one point's view of one segment: frame, payload length, IP
// length, TTL, window and time, the values that differ from the point
// before it marked; or why it is not there.
func (p *pathModel) cell(row int, pt int, lay pathLayout) string {
	st, g := p.c.styles, p.c.g
	r := p.rows[row]
	idx := r.Refs[pt]
	if idx < 0 {
		// Dropped on its way to this point, or never meant to pass it.
		for q, j := range r.Refs {
			if j < 0 {
				continue
			}
			fi, ok := p.notes[row]
			if ok && fi.Code == analysis.PathDropped && fi.RelatedPoint == pt && fi.Point == q {
				return st.Status.Invalid.Render(padRight(g.Invalid+" dropped", lay.cell, g.Ellipsis))
			}
			if ok && fi.Code == analysis.PathTooBig && fi.RelatedPoint == pt && fi.Point == q {
				// Refused as too big, the ICMP error saying so: path
				// MTU discovery, not loss.
				return st.Dim.Render(padRight(g.Absent+" too big", lay.cell, g.Ellipsis))
			}
		}
		if p.lacks(pt, r.Side) {
			// The point's capture holds the other direction only: the
			// segment was not in it to be seen (the info line says which
			// direction it holds).
			return st.Dim.Render(padRight(p.oneWayCell(lay.cell), lay.cell, g.Ellipsis))
		}
		if w := p.outsideCell(r, pt, lay.cell); w != "" {
			return st.Dim.Render(padRight(w, lay.cell, g.Ellipsis))
		}
		return st.Dim.Render(padRight(g.Absent+" not seen", lay.cell, g.Ellipsis))
	}
	f := p.conn.Flows[pt]
	ref := f.Refs[idx]
	var up analysis.PacketRef
	u := upstream(r, pt)
	if u >= 0 {
		up = p.conn.Flows[u].Refs[r.Refs[u]]
	}
	changed := false
	field := func(s string, w int, differs bool) string {
		s = padLeft(s, w)
		if u >= 0 && differs {
			changed = true
			return st.Actual.Render(s)
		}
		return s
	}
	c := padLeft(strconv.FormatUint(ref.Frame, 10), lay.frame) + " " + field(strconv.FormatUint(uint64(ref.Len), 10), lay.ln, ref.Len != up.Len)
	if lay.showIP {
		c += " " + field(strconv.Itoa(int(ref.IPLen)), lay.ip, ref.IPLen != up.IPLen)
	}
	if lay.showTTL {
		// The TTL goes down by a hop at each router: that is no change.
		c += " " + padLeft(strconv.Itoa(int(ref.TTL)), lay.ttl)
	}
	if lay.win > 0 {
		c += " " + field(strconv.Itoa(int(ref.Window)), lay.win, ref.Window != up.Window)
	}
	if lay.time > 0 {
		c += " " + padLeft(fmt.Sprintf("%.6f", float64(ref.Time-f.Start)/1e9), lay.time)
	}
	if u >= 0 && ref.TOS != up.TOS {
		changed = true
	}
	mark := " "
	if changed {
		mark = st.Actual.Render(g.Changed)
	}
	return padRight(c+mark, lay.cell, "")
}

// lacks reports whether point pt captured the other direction only, for
// every connection (analysis.Path.OneWay) or for this one
// (analysis.Path.LeftOut): side's segments are not in its capture.
func (p *pathModel) lacks(pt int, side analysis.Side) bool {
	return p.pa.LeftOut(p.conn, pt, side)
}

// oneWayCell is the cell of a segment at a point that captured the other
// direction only, in w columns: neither "not seen" nor "dropped".
func (p *pathModel) oneWayCell(w int) string {
	g := p.c.g
	for _, s := range []string{"not captured (one-way)", "one-way capture"} {
		if width(g.Absent+" "+s) <= w {
			return g.Absent + " " + s
		}
	}
	return g.Absent + " one-way"
}

// outsideCell is the cell, in w columns, of a segment that would have
// passed point pt before its capture's first packet or after its last (as
// the nearest point on its way that saw it tells, clock offset taken
// out): not compared there, which "not seen", as of a packet the capture
// missed while running, did not say (review realpath2 s4b: the client's
// retransmissions after outside's capture ended). "" when it was running,
// or the clocks are not known.
func (p *pathModel) outsideCell(r analysis.LadderRow, pt, w int) string {
	q := upstream(r, pt)
	if q < 0 {
		for i, idx := range r.Refs {
			if idx >= 0 {
				q = i
				break
			}
		}
	}
	if q < 0 {
		return ""
	}
	before, after := p.pa.OutsideCapture(pt, q, p.conn.Flows[q].Refs[r.Refs[q]].Time)
	words := []string{"after capture", "past end", "after"}
	switch {
	case before:
		words = []string{"before capture", "before start", "before"}
	case !after:
		return ""
	}
	g := p.c.g
	for _, s := range words {
		if width(g.Absent+" "+s) <= w {
			return g.Absent + " " + s
		}
	}
	return g.Absent + " " + words[len(words)-1]
}

// rowLine draws one segment across the points.
func (p *pathModel) rowLine(i int, lay pathLayout) string {
	st, g := p.c.styles, p.c.g
	r := p.rows[i]
	// The shared part comes from the first point that saw the segment:
	// relative numbers are the same at every point.
	var ref analysis.PacketRef
	for pt, idx := range r.Refs {
		if idx >= 0 {
			ref = p.conn.Flows[pt].Refs[idx]
			seq, ack := relNumbers(ref, p.cb[pt], p.sb[pt])
			arrow := g.ToServer
			if r.Side == analysis.FromServer {
				arrow = g.ToClient
			}
			line := " " + st.Dim.Render(arrow) + " " + padRight(flagLetters(ref.Flags), lay.flags, "") + " " + padLeft(seq, lay.seq) + " " + padLeft(ack, lay.ack) + " "
			cells := make([]string, len(r.Refs))
			for q := range r.Refs {
				cells[q] = p.cell(i, q, lay)
			}
			line += strings.Join(cells, st.Border.Render(p.cellSep()))
			if fi, ok := p.notes[i]; ok {
				sev := fi.Code.Severity()
				room := p.c.width - width(line) - 3
				line += " " + severityStyle(st, sev).Render(SeverityGlyph(g, sev)) + " " + st.Dim.Render(truncate(p.words.short(fi), room, g.Ellipsis))
			}
			if i == p.cursor {
				return st.Selected.Render(padRight(p.c.cursorLead(ansi.Strip(line)), p.c.width, g.Ellipsis))
			}
			return truncate(line, p.c.width, g.Ellipsis)
		}
	}
	return ""
}

// View draws the connection's drill-down, without the help line; under
// the ladder, when some of its rows are out of view, how many are above
// and below; at the bottom, the selected row's findings whole (a note on
// the status line goes over them).
func (p *pathModel) View() []string {
	lines := p.head()
	lay := p.layout()
	end := min(len(p.rows), p.offset+p.rowsShown())
	for i := p.offset; i < end; i++ {
		lines = append(lines, p.rowLine(i, lay))
	}
	if p.offset > 0 || end < len(p.rows) {
		note := scrollNote(p.c.g, p.offset, len(p.rows)-end, "segment", p.c.width-2)
		lines = append(lines, p.c.styles.Dim.Render("  "+note))
	}
	block := p.blockLines()
	for len(lines) < p.c.height-1-len(block) {
		lines = append(lines, "")
	}
	return append(lines, block...)
}
