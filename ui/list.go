package ui

import (
	"fmt"
	"maps"
	"strconv"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/synscope/synscope/analysis"
	"github.com/synscope/synscope/themes"
)

// syncViewLimit is the number of rows up to which the list is filtered and
// sorted on the UI goroutine; above it, in a tea.Cmd.
const syncViewLimit = 5000

// listModel is the flow list. It draws only the rows on screen.
type listModel struct {
	c     *common
	ncaps int

	rows   []Row // the latest snapshot's rows
	counts [4]int
	view   listView // what is shown: may lag rows while a view is computed
	gen    int      // generation of the latest view asked for
	busy   bool     // a view is being computed off the UI goroutine
	stale  bool     // rows arrived while busy: compute them next
	// none says why the list is empty once every capture has been read
	// (Model.noneNote); while reading, and live, it is empty and the
	// list says "no flows yet".
	none string

	cursor, offset int
	sel            flowRef // the selected flow, kept across new views
	hasSel         bool
	// top: the cursor is on the first row, and stays there as new views
	// come (the rows of a capture still loading, live flows, a filter),
	// showing the worst flows first, until a key moves it down or a new
	// sort order keeps it on its flow; from then on the flow it is on
	// stays selected.
	top    bool
	height int // rows on screen

	sortCol  sortColumn
	sortDesc bool

	input     textinput.Model
	typing    bool   // the filter input has the keys
	filter    string // the filter applied
	query     query  // the filter in force: filter's, or the words typed so far when they parse
	queryText string // the text query was parsed from
	filterErr string

	marks map[flowRef]bool

	// points names the capture points in path mode, when the rows are
	// connections; path holds the connections, whose flows at every point
	// the filter's address words are tested on.
	points []string
	path   *analysis.Path
}

func newListModel(c *common, ncaps int) listModel {
	in := textinput.New()
	// No placeholder: textinput draws a placeholder's first letter under
	// the cursor, and without a width set only that letter ("/t", which
	// read as typed text). statusLine adds the hint after the cursor.
	in.Prompt = "/"
	in.SetStyles(inputStyles(in.Styles(), c.styles))
	in.CharLimit = 512
	return listModel{c: c, ncaps: ncaps, input: in, marks: map[flowRef]bool{}, sortCol: sortStatus, top: true}
}

// inputStyles styles the filter input from the theme. Its cursor does not
// blink: a blinking cursor redraws twice a second, over SSH too.
func inputStyles(st textinput.Styles, s *themes.Styles) textinput.Styles {
	st.Cursor.Blink = false
	st.Focused.Prompt = s.FilterPrompt
	st.Blurred.Prompt = s.FilterPrompt
	st.Focused.Placeholder = s.Dim
	st.Blurred.Placeholder = s.Dim
	st.Focused.Text = lipgloss.NewStyle()
	st.Blurred.Text = lipgloss.NewStyle()
	return st
}

// setRows takes the rows of a new snapshot.
func (l listModel) setRows(rows []Row, counts [4]int) (listModel, tea.Cmd) {
	l.rows, l.counts = rows, counts
	if l.busy {
		// A view of older rows is being computed: let it finish and be
		// shown, then compute these (the newest rows wait, older ones
		// are dropped). Starting over each time would show nothing
		// while snapshots come faster than a view of a large list.
		l.stale = true
		return l, nil
	}
	return l.refresh()
}

// refresh filters and sorts the rows again: at once for a small list, in a
// tea.Cmd for a large one (the old view stays until the new one is ready).
func (l listModel) refresh() (listModel, tea.Cmd) {
	l.gen++
	l.stale = false
	q := l.query
	if q.hasMarked() {
		q.marks = maps.Clone(l.marks)
	}
	q.path = l.path
	rows, counts, col, desc, ncaps, gen := l.rows, l.counts, l.sortCol, l.sortDesc, l.ncaps, l.gen
	sel, hasSel, prev := l.sel, l.hasSel, l.view
	if len(rows) <= syncViewLimit {
		l.apply(computeView(rows, counts, q, col, desc, ncaps, prev))
		return l, nil
	}
	l.busy = true
	return l, func() tea.Msg {
		v := computeView(rows, counts, q, col, desc, ncaps, prev)
		if hasSel {
			v.locate(sel)
		}
		return viewMsg{gen: gen, view: v}
	}
}

func (q query) hasMarked() bool {
	for _, t := range q.terms {
		if t.kind == termMarked {
			return true
		}
	}
	return false
}

// apply shows a computed view, keeping the selected flow selected.
func (l *listModel) apply(v listView) {
	l.view = v
	l.busy = false
	if l.top {
		l.cursor = 0
		l.clamp()
		l.remember()
		return
	}
	if l.hasSel && v.located && v.sel == l.sel {
		// Found by the command: a scan of a large list here would hold
		// up the frame.
		if v.selPos >= 0 {
			l.cursor = v.selPos
		}
		l.clamp()
		if v.selPos < 0 {
			l.remember()
		}
		return
	}
	if l.hasSel {
		for pos, i := range v.idx {
			if v.rows[i].ref() == l.sel {
				l.cursor = pos
				l.clamp()
				return
			}
		}
	}
	l.clamp()
	l.remember()
}

// remember notes which flow the cursor is on.
func (l *listModel) remember() {
	if r := l.current(); r != nil {
		l.sel, l.hasSel = r.ref(), true
	}
}

// current returns the selected row, nil when the list is empty.
func (l *listModel) current() *Row {
	if l.cursor < 0 || l.cursor >= len(l.view.idx) {
		return nil
	}
	return &l.view.rows[l.view.idx[l.cursor]]
}

// rowsShown is how many rows are on screen: the list's height, less the
// line that says how many are out of view when they do not all fit.
func (l *listModel) rowsShown() int {
	h := max(1, l.height)
	if len(l.view.idx) > h && h > 1 {
		return h - 1
	}
	return h
}

// clamp keeps the cursor on a row and the row on screen.
func (l *listModel) clamp() {
	n := len(l.view.idx)
	l.cursor = max(0, min(l.cursor, n-1))
	h := l.rowsShown()
	if l.cursor < l.offset {
		l.offset = l.cursor
	}
	if l.cursor >= l.offset+h {
		l.offset = l.cursor - h + 1
	}
	l.offset = max(0, min(l.offset, n-h))
}

func (l *listModel) move(delta int) {
	l.cursor += delta
	l.clamp()
	l.top = l.cursor == 0
	l.remember()
}

// Update handles the list's keys and its computed views.
func (l listModel) Update(msg tea.Msg) (listModel, tea.Cmd) {
	switch msg := msg.(type) {
	case viewMsg:
		if msg.gen == l.gen {
			l.apply(msg.view)
			if l.stale {
				l.stale = false
				return l.refresh()
			}
		}
		return l, nil
	case tea.KeyPressMsg:
		if l.typing {
			return l.updateInput(msg)
		}
		return l.updateKeys(msg)
	}
	return l, nil
}

func (l listModel) updateKeys(msg tea.KeyPressMsg) (listModel, tea.Cmd) {
	k := l.c.keys
	h := l.rowsShown()
	switch {
	case key.Matches(msg, k.Up):
		l.move(-1)
	case key.Matches(msg, k.Down):
		l.move(1)
	case key.Matches(msg, k.Top):
		l.move(-len(l.view.idx))
	case key.Matches(msg, k.Bottom):
		l.move(len(l.view.idx))
	case key.Matches(msg, k.HalfPageDown):
		l.offset += h / 2
		l.move(h / 2)
	case key.Matches(msg, k.HalfPageUp):
		l.offset -= h / 2
		l.move(-h / 2)
	case key.Matches(msg, k.PageDown):
		l.offset += h
		l.move(h)
	case key.Matches(msg, k.PageUp):
		l.offset -= h
		l.move(-h)
	case key.Matches(msg, k.Filter):
		l.typing = true
		l.input.SetValue(l.filter)
		l.input.CursorEnd()
		return l, l.input.Focus()
	case key.Matches(msg, k.ClearFilter):
		l.input.SetValue("")
		return l.setFilter("")
	case key.Matches(msg, k.Sort):
		l.sortCol = (l.sortCol + 1) % numSortColumns
		l.top = false // a new order keeps the cursor on its flow
		return l.refresh()
	case key.Matches(msg, k.SortReverse):
		l.sortDesc = !l.sortDesc
		l.top = false
		return l.refresh()
	case key.Matches(msg, k.Mark):
		if r := l.current(); r != nil {
			ref := r.ref()
			if l.marks[ref] {
				delete(l.marks, ref)
			} else {
				l.marks[ref] = true
			}
			l.move(1)
		}
	case key.Matches(msg, k.MarkAll):
		all := true
		for _, i := range l.view.idx {
			if !l.marks[l.view.rows[i].ref()] {
				all = false
				break
			}
		}
		for _, i := range l.view.idx {
			if all {
				delete(l.marks, l.view.rows[i].ref())
			} else {
				l.marks[l.view.rows[i].ref()] = true
			}
		}
	}
	return l, nil
}

// updateInput gives every key to the filter input, except enter (apply)
// and esc (cancel). A small list filters as the user types.
//
// Words that do not parse are never in force: the filter applied before
// stays, so the list never says "no flow matches" a filter that was not
// applied. Enter on them keeps the prompt open and says what is wrong,
// whatever the mistake (an unknown key, a bad value, a word alone).
func (l listModel) updateInput(msg tea.KeyPressMsg) (listModel, tea.Cmd) {
	k := l.c.keys
	switch {
	case key.Matches(msg, k.Apply):
		q, err := parseQuery(l.input.Value(), l.ncaps)
		if err != nil {
			l.filterErr = err.Error()
			return l.keepApplied()
		}
		l.typing = false
		l.input.Blur()
		l.filter, l.filterErr = strings.TrimSpace(l.input.Value()), ""
		l.query, l.queryText = q, l.filter
		return l.refresh()
	case key.Matches(msg, k.Cancel):
		l.typing = false
		l.input.Blur()
		l.input.SetValue(l.filter)
		l.filterErr = ""
		return l.keepApplied()
	}
	var cmd tea.Cmd
	before := l.input.Value()
	l.input, cmd = l.input.Update(msg)
	if v := l.input.Value(); v != before {
		// A small list follows the words as they are typed; words that
		// do not parse (status:partia, a word not finished) leave the
		// applied filter in force, and are explained only on enter.
		l.filterErr = ""
		if len(l.rows) <= syncViewLimit {
			var c2 tea.Cmd
			if q, err := parseQuery(v, l.ncaps); err == nil {
				l.query, l.queryText = q, strings.TrimSpace(v)
				l, c2 = l.refresh()
			} else {
				l, c2 = l.keepApplied()
			}
			cmd = tea.Batch(cmd, c2)
		}
	}
	return l, cmd
}

// keepApplied puts the applied filter back in force, when the words typed
// were.
func (l listModel) keepApplied() (listModel, tea.Cmd) {
	if l.queryText == l.filter {
		return l, nil
	}
	q, _ := parseQuery(l.filter, l.ncaps)
	l.query, l.queryText = q, l.filter
	return l.refresh()
}

// setFilter applies a filter text.
func (l listModel) setFilter(s string) (listModel, tea.Cmd) {
	q, err := parseQuery(s, l.ncaps)
	if err != nil {
		l.filterErr = err.Error()
		return l, nil
	}
	l.filter, l.filterErr = strings.TrimSpace(s), ""
	l.query, l.queryText = q, l.filter
	return l.refresh()
}

// columns are the widths of the list's columns at the current size.
type columns struct {
	id, client, server, hs, pkts, bytes, dur, finding int
	points                                            int // the presence column in path mode; 0 else
	arrow                                             string
}

const (
	colBytes = 5
	colDur   = 6
)

// layoutColumns fits the columns into the terminal's width: the finding
// takes what the other columns leave; only when that is less than a few
// words do the addresses give way (down to 15 columns, the port kept).
func (l *listModel) layoutColumns() columns {
	v := &l.view
	c := columns{id: v.wID, client: v.wClient, server: v.wServer, hs: v.wHS, pkts: v.wPkts,
		bytes: colBytes, dur: colDur, arrow: l.c.g.Arrow}
	if l.points != nil {
		// A connection: where it was seen instead of its bytes and
		// duration at one point.
		c.points, c.bytes, c.dur = 2*len(l.points)-1, 0, 0
	}
	fixed := func() int {
		// mark glyph sp id sp client sp arrow sp server sp [points sp] hs sp pkts sp [bytes sp dur sp]
		w := 3 + c.id + 1 + c.client + 1 + width(c.arrow) + 1 + c.server + 1 + c.hs + 1 + c.pkts + 1
		if c.points > 0 {
			w += c.points + 1
		}
		if c.bytes > 0 {
			w += c.bytes + 1 + c.dur + 1
		}
		return w
	}
	const minFinding, minAddr = 10, 15
	for fixed()+minFinding > l.c.width && (c.client > minAddr || c.server > minAddr) {
		if c.client >= c.server {
			c.client--
		} else {
			c.server--
		}
	}
	c.finding = max(0, l.c.width-fixed())
	return c
}

// headerLine is the line of column names, the sorted one underlined.
func (l *listModel) headerLine(c columns) string {
	st := l.c.styles
	name := func(col sortColumn, s string) string {
		if l.sortCol == col {
			return st.Header.Underline(true).Render(s)
		}
		return st.Header.Render(s)
	}
	var b strings.Builder
	b.WriteString(" " + name(sortStatus, "s") + " ")
	b.WriteString(padLeft(name(sortID, "id"), c.id))
	b.WriteByte(' ')
	b.WriteString(padRight(name(sortClient, "client"), c.client, ""))
	b.WriteString(strings.Repeat(" ", width(c.arrow)+2))
	b.WriteString(padRight(name(sortServer, "server"), c.server, ""))
	b.WriteByte(' ')
	if c.points > 0 {
		// The points by number, each over its column.
		nums := make([]string, len(l.points))
		for i := range nums {
			nums[i] = strconv.Itoa(i + 1)
		}
		head := strings.Join(nums, " ")
		if len(l.points) > 9 {
			head = "points"
		}
		b.WriteString(padRight(st.Header.Render(head), c.points, ""))
		b.WriteByte(' ')
	}
	hs := "hs"
	if c.hs >= len("handshake") {
		hs = "handshake"
	}
	b.WriteString(padRight(name(sortHandshake, hs), c.hs, ""))
	b.WriteByte(' ')
	b.WriteString(padLeft(name(sortPackets, "pkts"), c.pkts))
	b.WriteByte(' ')
	if c.bytes > 0 {
		b.WriteString(padLeft(name(sortBytes, "bytes"), c.bytes))
		b.WriteByte(' ')
		b.WriteString(padLeft(name(sortDuration, "dur"), c.dur))
		b.WriteByte(' ')
	}
	switch {
	case c.finding >= len("first finding"):
		b.WriteString(name(sortFinding, "first finding"))
	case c.finding > 0:
		b.WriteString(name(sortFinding, truncate("finding", c.finding, "")))
	}
	return truncate(b.String(), l.c.width, "")
}

// sortLabel says how the list is sorted.
func (l *listModel) sortLabel() string {
	arrow := l.c.g.SortAsc
	if l.sortDesc {
		arrow = l.c.g.SortDesc
	}
	return "sort " + l.sortCol.String() + " " + arrow
}

// rowLine draws one flow.
func (l *listModel) rowLine(r *Row, c columns, selected bool) string {
	st := l.c.styles
	g := l.c.g
	glyph := StatusGlyph(g, r.Status)
	mark := " "
	if l.marks[r.ref()] {
		mark = g.Mark
	}
	id := strconv.Itoa(r.ID)
	if l.ncaps > 1 && r.Cap != pathCap {
		id = strconv.Itoa(r.Cap+1) + ":" + id
	}
	hs := r.Handshake.String()
	finding, sev := "", r.First.Severity()
	switch {
	case c.finding == 0:
	case r.HasVerdict && findingRank(r) == int(r.Verdict.Code.Severity()):
		finding, sev = r.Short, r.Verdict.Code.Severity()
	case r.HasFirst:
		finding = shortFinding(r.First, g, c.finding)
	}
	cells := []string{
		padLeft(id, c.id),
		padRight(elideAddr(r.Client.String(), c.client, g.Ellipsis), c.client, ""),
		c.arrow,
		padRight(elideAddr(r.Server.String(), c.server, g.Ellipsis), c.server, ""),
	}
	if c.points > 0 {
		seen := make([]string, len(l.points))
		for i := range seen {
			seen[i] = g.Absent
			if r.Present&(1<<i) != 0 {
				seen[i] = g.Present
			}
		}
		cells = append(cells, padRight(strings.Join(seen, " "), c.points, ""))
	}
	hsAt := len(cells)
	cells = append(cells, padRight(hs, c.hs, ""), padLeft(strconv.Itoa(r.Packets), c.pkts))
	if c.bytes > 0 {
		cells = append(cells, padLeft(humanBytes(r.Bytes), c.bytes), padLeft(shortDuration(r.duration()), c.dur))
	}
	cells = append(cells, truncate(finding, c.finding, g.Ellipsis))
	if selected {
		lead := mark + glyph + " "
		if l.c.noAttrs {
			// No background or reverse reaches the terminal: the
			// cursor takes the mark's column, the mark the column after
			// the status.
			lead = g.Cursor + glyph + mark
		}
		return st.Selected.Render(padRight(lead+strings.Join(cells, " "), l.c.width, ""))
	}
	ss := statusStyle(st, r.Status)
	if mark != " " {
		mark = st.Mark.Render(mark)
	}
	cells[hsAt] = hsStyle(st, r.Handshake).Render(cells[hsAt])
	if finding != "" {
		cells[len(cells)-1] = severityStyle(st, sev).Render(cells[len(cells)-1])
	}
	return mark + ss.Render(glyph) + " " + strings.Join(cells, " ")
}

// rowsView draws the visible rows, and under them, when some are out of
// view, how many are above and below.
func (l *listModel) rowsView() []string {
	c := l.layoutColumns()
	lines := []string{l.headerLine(c)}
	n := len(l.view.idx)
	end := min(l.offset+l.rowsShown(), n)
	for pos := l.offset; pos < end; pos++ {
		r := &l.view.rows[l.view.idx[pos]]
		lines = append(lines, l.rowLine(r, c, pos == l.cursor))
	}
	if l.offset > 0 || end < n {
		what := "flow"
		if l.points != nil {
			what = "connection"
		}
		note := scrollNote(l.c.g, l.offset, n-end, what, l.c.width-2)
		lines = append(lines, l.c.styles.Dim.Render("  "+note))
	}
	if n == 0 {
		msg := "no flows yet"
		if l.none != "" {
			msg = l.none
		}
		switch {
		case l.busy:
			msg = "sorting" + l.c.g.Ellipsis
		case len(l.rows) > 0:
			// The filter in force, which is never words that did not
			// parse.
			msg = fmt.Sprintf("no flow matches the filter %s (esc clears it)", l.c.safe(l.queryText))
		}
		lines = append(lines, l.c.styles.Dim.Render("  "+msg))
	}
	for len(lines) < l.height+1 {
		lines = append(lines, "")
	}
	return lines
}

// statusLines are the lines under the rows: the filter input while
// typing, else the filter in force or why it was refused. An error too
// long to follow the input goes on the lines above it.
func (l *listModel) statusLines() []string {
	st, g, w := l.c.styles, l.c.g, l.c.width
	switch {
	case l.typing && l.filterErr != "":
		in, msg := l.input.View(), l.c.safe(l.filterErr)
		if width(in)+2+width(msg) <= w {
			return []string{in + "  " + st.Error.Render(msg)}
		}
		return append(wrapStyled(st.Error, msg, w, "", "  ", g.Ellipsis), in)
	case l.typing && l.input.Value() == "":
		// A hint, dim and in parentheses after the cursor, that cannot
		// be taken for what was typed.
		return []string{l.input.View() + " " + st.Dim.Render("(filter words: "+filterHelp(l.c.g)+")")}
	case l.typing:
		return []string{l.input.View()}
	case l.filterErr != "":
		return wrapStyled(st.Error, l.c.safe(l.filterErr), w, "", "  ", g.Ellipsis)
	case l.filter != "":
		return []string{st.FilterPrompt.Render("filter: ") + l.c.safe(l.filter) + st.Dim.Render("  (/ edits, esc clears)")}
	}
	return nil
}

// shown returns how many flows pass the filter, and how many there are.
func (l *listModel) shown() (int, int) { return len(l.view.idx), len(l.view.rows) }

// markedCount counts the marked flows.
func (l *listModel) markedCount() int { return len(l.marks) }
