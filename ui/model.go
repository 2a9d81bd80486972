package ui

import (
	"cmp"
	"fmt"
	"image/color"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/progress"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/colorprofile"

	"github.com/synscope/synscope/analysis"
	"github.com/synscope/synscope/themes"
)

// viewState is what the root shows.
type viewState int

const (
	stateList viewState = iota
	stateDetail
	statePath // a connection across the capture points
)

// Model is the root of the TUI: it holds the loading state and its two
// children, routes messages to them and lays the screen out.
type Model struct {
	c   *common
	cfg Config

	loader *loader
	tick   func(n int) tea.Cmd
	// A live capture (cfg.Live): its last status, whether one was
	// taken, how many of its notes the user has seen, and the poll
	// pacing.
	liveStatus LiveStatus
	livePolled bool
	liveSeen   int
	liveTick   func(took time.Duration) tea.Cmd
	liveStore  *packetStore
	snaps      int  // snapshots taken while loading
	loading    bool // some capture is still being read
	caps       []CapProgress
	taken      time.Time

	// Several captures are the points of a path: once read, they are
	// joined (correlating while that runs) and the list shows
	// connections.
	path        *analysis.Path
	correlating bool

	state      viewState
	help       bool
	helpTop    int         // the first line of the full help on screen
	helpUnder  []helpGroup // the keys of the view under the help
	list       listModel
	detail     detailModel
	detailBack viewState // where Back leaves the drill-down for
	pathView   pathModel
	export     exportModel // w's file name prompt

	pending    flowRef // a flow to open once its capture is read
	hasPending bool
	note       string // a one-line message on the status line
	noteErr    bool   // the note says what failed
}

// New returns the root model for the captures of cfg. Nothing is read
// until the program runs Init's commands.
func New(cfg Config) Model {
	now := cfg.now
	if now == nil {
		now = time.Now
	}
	g := themes.Unicode
	if cfg.ASCII {
		g = themes.ASCII
	}
	theme, ok := themes.Named(cfg.Theme)
	switch {
	case cfg.NoColor:
		theme = themes.Mono
	case !ok:
		theme = themes.Dark
	}
	c := &common{styles: themes.New(theme), g: g, ascii: cfg.ASCII, keys: DefaultKeyMap(cfg.ASCII), now: now}
	m := Model{c: c, cfg: cfg, liveTick: liveTickCmd, loading: len(cfg.Sources) > 0 && cfg.Live == nil}
	if cfg.Live != nil {
		cfg.Sources, m.cfg.Sources = nil, nil
		m.caps = []CapProgress{{Name: cfg.Live.Name(), Size: -1}}
		m.liveStore = liveStore(cfg.Live)
	}
	m.loader = newLoader(cfg.Sources, cfg.Match, cfg.Filter, cfg.MaxFlows, now)
	l := m.loader
	m.tick = func(n int) tea.Cmd { return tickCmd(n, time.Duration(l.took.Load())) }
	for _, cl := range m.loader.caps {
		m.caps = append(m.caps, CapProgress{Name: cl.name, Size: cl.size})
	}
	m.taken = m.loader.start
	m.list = newListModel(c, len(m.caps))
	m.export = newExportModel(c)
	m.updateKeys()
	return m
}

// Init starts reading the captures and the snapshot ticker, and asks the
// terminal for its background colour when the theme is not the user's
// choice.
func (m Model) Init() tea.Cmd {
	cmds := []tea.Cmd{m.loader.runCmd(), m.tick(0)}
	if m.cfg.Live != nil {
		cmds = []tea.Cmd{livePollCmd(m.cfg.Live, m.liveStatus, true)}
	}
	if m.cfg.Theme == "" && !m.cfg.NoColor {
		cmds = append(cmds, tea.RequestBackgroundColor)
	}
	return tea.Batch(cmds...)
}

// Update routes a message.
func (m Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	var cmd tea.Cmd
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.c.width, m.c.height = msg.Width, msg.Height
		m.relayout()
	case tea.ColorProfileMsg:
		m.c.noAttrs = msg.Profile <= colorprofile.NoTTY
	case tea.BackgroundColorMsg:
		if m.cfg.Theme == "" && !m.cfg.NoColor {
			t := themes.Dark
			if !msg.IsDark() {
				t = themes.Light
			}
			m.setTheme(t)
		}
	case tickMsg:
		switch {
		case m.cfg.Live != nil:
			cmd = livePollCmd(m.cfg.Live, m.liveStatus, !m.livePolled)
		case m.loading:
			cmd = m.loader.snapshotCmd()
		}
	case liveIdleMsg:
		cmd = m.liveTick(0)
	case liveFlowMsg:
		if m.state == stateList && !m.help {
			name := fmt.Sprintf("%s, live: as of packet %s", m.cfg.Live.Name(), commas(msg.packets))
			if m.liveStatus.Stopped != "" {
				name = m.cfg.Live.Name() + ", capture stopped"
			}
			m, cmd = m.openDetail(0, name, msg.flow, m.liveStore)
		}
	case loadDoneMsg:
		cmd = m.loader.snapshotCmd()
	case SnapshotMsg:
		if msg.Live != nil {
			m, cmd = m.applyLive(msg)
		} else {
			m, cmd = m.applySnapshot(msg)
		}
	case pathMsg:
		m, cmd = m.applyPath(msg.pa)
	case viewMsg:
		m.list, cmd = m.list.Update(msg)
	case packetsMsg:
		if m.state == stateDetail {
			m.detail, cmd = m.detail.Update(msg)
			m.detail.fix()
		}
	case exportCheckedMsg:
		m.export, cmd = m.export.Update(msg)
	case exportDoneMsg:
		m.export, cmd = m.export.Update(msg)
		m.note, m.noteErr = doneNote(msg)
	case tea.KeyPressMsg:
		m.updateKeys()
		m, cmd = m.handleKey(msg)
	}
	m.updateKeys()
	return m, cmd
}

// noneNote is what an empty list says once every capture has been read:
// that the command line's filter left nothing out of what was read, or
// that the captures hold no TCP flow. "no flows yet" would read as if
// the reading had not finished.
func (m Model) noneNote() string {
	what, where := "flow", "this capture"
	if len(m.cfg.Sources) > 1 {
		what, where = "connection", "these captures"
	}
	if !m.cfg.Filter.MatchesAll() || (m.cfg.Filter == nil && m.cfg.Match != nil) {
		if e := m.cfg.Filter.String(); e != "" {
			return fmt.Sprintf("no %s matches the filter %s given on the command line", what, m.c.safe(e))
		}
		return fmt.Sprintf("no %s matches the filter given on the command line", what)
	}
	return "no TCP flow in " + where
}

// applySnapshot shows a new snapshot and asks for the next one while
// loading. Snapshots may arrive out of order: a stale one is dropped.
func (m Model) applySnapshot(s SnapshotMsg) (Model, tea.Cmd) {
	if !m.loading || (!s.Done && s.Taken.Before(m.taken)) {
		// Reading is over, or this snapshot is older than the one shown.
		return m, nil
	}
	m.caps, m.taken, m.loading = s.Caps, s.Taken, !s.Done
	if !m.loading {
		m.list.none = m.noneNote()
	}
	var cmds []tea.Cmd
	var cmd tea.Cmd
	m.list, cmd = m.list.setRows(s.Rows, s.Counts)
	cmds = append(cmds, cmd)
	if m.loading {
		m.snaps++
		cmds = append(cmds, m.tick(m.snaps))
	} else if len(m.caps) > 1 && m.path == nil {
		m.correlating = true
		stores := make([]*packetStore, len(m.loader.caps))
		for i, c := range m.loader.caps {
			stores[i] = c.store
		}
		cmds = append(cmds, correlateCmd(m.caps, stores, m.loader.selectedBy()))
	}
	if m.hasPending && m.state == stateList && m.caps[m.pending.cap].Done {
		m.hasPending = false
		m.note = ""
		m, cmd = m.openFlow(m.pending)
		cmds = append(cmds, cmd)
	}
	return m, tea.Batch(cmds...)
}

// handleKey routes a key: quitting and help first, then the filter input
// (which takes every other key while focused), then the view.
func (m Model) handleKey(msg tea.KeyPressMsg) (Model, tea.Cmd) {
	k := m.c.keys
	if key.Matches(msg, k.ForceQuit) {
		return m.quit()
	}
	if m.tooSmall() {
		// Only the request to enlarge the terminal is on screen: any other
		// key would act out of sight (w would write a file).
		if key.Matches(msg, k.Quit) {
			return m.quit()
		}
		return m, nil
	}
	if m.export.active() {
		var cmd tea.Cmd
		m.export, cmd = m.export.Update(msg)
		return m, cmd
	}
	if m.state == stateList && m.list.typing {
		var cmd tea.Cmd
		m.list, cmd = m.list.Update(msg)
		return m, cmd
	}
	switch {
	case key.Matches(msg, k.Quit):
		return m.quit()
	case m.help:
		if key.Matches(msg, k.CloseHelp) {
			m.help = false
			return m, nil
		}
		m.scrollHelp(msg)
		return m, nil
	case key.Matches(msg, k.Help):
		m.help, m.helpTop = true, 0
		return m, nil
	}
	m.note = ""
	m.liveSeen = len(m.liveStatus.Notes)
	if key.Matches(msg, k.Export) {
		if refs := m.exportRefs(); len(refs) > 0 {
			return m.startExport(refs)
		}
		return m, nil
	}
	var cmd tea.Cmd
	switch m.state {
	case stateList:
		if key.Matches(msg, k.Open) {
			if r := m.list.current(); r != nil {
				return m.openFlow(r.ref())
			}
			return m, nil
		}
		m.list, cmd = m.list.Update(msg)
	case stateDetail:
		if key.Matches(msg, k.Back) {
			m.state = m.detailBack
			m.detail = detailModel{}
			return m, nil
		}
		m.detail, cmd = m.detail.Update(msg)
	case statePath:
		switch {
		case key.Matches(msg, k.Back):
			m.state = stateList
			m.pathView = pathModel{}
			return m, nil
		case key.Matches(msg, k.Open):
			return m.openPoint()
		}
		m.pathView, cmd = m.pathView.Update(msg)
	}
	return m, cmd
}

// openPoint opens the flow of the selected point in the connection's
// drill-down, at the selected segment, with the findings the path gave it.
// Where that point has no packet of the segment (dropped before it, not
// seen, or a one-way capture's other direction), it opens at the packet
// nearest to where the segment would have been, and the status line says
// so: it opened at the flow's first frame, without a word.
func (m Model) openPoint() (Model, tea.Cmd) {
	pv := &m.pathView
	f := pv.conn.Flows[pv.point]
	if f == nil {
		m.note = fmt.Sprintf("%s did not see this connection", pv.words.point(pv.point))
		return m, nil
	}
	d := newDetailModel(m.c, pv.point, m.caps[pv.point].Name, f, m.loader.caps[pv.point].store).withPath(m.path, pv.conn)
	d, cmd := d.init()
	d.fix()
	m.detail, m.state, m.detailBack = d, stateDetail, statePath
	frame, note := pv.openAt()
	if frame != 0 {
		var c2 tea.Cmd
		m.detail, c2 = m.detail.at(frame)
		cmd = tea.Batch(cmd, c2)
	}
	m.note = note
	return m, cmd
}

// quit stops the reading and ends the program (which restores the
// terminal).
func (m Model) quit() (Model, tea.Cmd) {
	m.loader.stop()
	return m, tea.Quit
}

// openFlow opens the drill-down of a flow, or notes it to be opened when
// its capture has been read (flows are final only then).
func (m Model) openFlow(ref flowRef) (Model, tea.Cmd) {
	if m.cfg.Live != nil {
		return m, liveFlowCmd(m.cfg.Live, ref.id)
	}
	if ref.cap == pathCap {
		if c := m.conn(ref.id); c != nil {
			m.pathView, m.state = newPathModel(m.c, m.path, c), statePath
			m.pathView.fix()
		}
		return m, nil
	}
	if ref.cap >= len(m.caps) || !m.caps[ref.cap].Done {
		m.pending, m.hasPending = ref, true
		m.note = fmt.Sprintf("flow %d opens when its capture has been read%s", ref.id, m.c.g.Ellipsis)
		return m, nil
	}
	f := m.caps[ref.cap].Result.Flow(ref.id)
	if f == nil {
		return m, nil
	}
	return m.openDetail(ref.cap, m.caps[ref.cap].Name, f, m.loader.caps[ref.cap].store)
}

// openDetail shows a flow's drill-down, its packets read back from ps.
func (m Model) openDetail(capIdx int, name string, f *analysis.Flow, ps *packetStore) (Model, tea.Cmd) {
	d := newDetailModel(m.c, capIdx, name, f, ps)
	d, cmd := d.init()
	d.fix()
	m.detail, m.state, m.detailBack = d, stateDetail, stateList
	return m, cmd
}

// exportRefs are the flows w writes: the current flow in the drill-down;
// in the list the marked flows, or the selected one when none is marked.
func (m *Model) exportRefs() []flowRef {
	switch m.state {
	case stateDetail:
		return []flowRef{{m.detail.cap, m.detail.flow.ID}}
	case statePath:
		return []flowRef{{pathCap, m.pathView.conn.ID}}
	}
	if len(m.list.marks) > 0 {
		refs := slices.Collect(maps.Keys(m.list.marks))
		slices.SortFunc(refs, func(a, b flowRef) int { return cmp.Or(cmp.Compare(a.cap, b.cap), cmp.Compare(a.id, b.id)) })
		return refs
	}
	if r := m.list.current(); r != nil {
		return []flowRef{r.ref()}
	}
	return nil
}

// startExport opens w's prompt for flows.
func (m Model) startExport(refs []flowRef) (Model, tea.Cmd) {
	var job exportJob
	switch {
	case m.cfg.Live != nil:
		job = m.liveExportJob(refs)
	case refs[0].cap == pathCap:
		ids := make([]int, len(refs))
		for i, r := range refs {
			ids[i] = r.id
		}
		job = m.pathExportJob(ids)
	default:
		job = m.fileExportJob(refs)
	}
	var cmd tea.Cmd
	m.export, cmd = m.export.start(job)
	return m, cmd
}

// setTheme rebuilds the styles.
func (m *Model) setTheme(t themes.Theme) {
	m.c.styles = themes.New(t)
	m.list.input.SetStyles(inputStyles(m.list.input.Styles(), m.c.styles))
	m.export.input.SetStyles(inputStyles(m.export.input.Styles(), m.c.styles))
}

// relayout fits the children to a new size.
func (m *Model) relayout() {
	m.list.height = max(1, m.c.height-listChrome)
	m.list.clamp()
	m.export.fit()
	m.helpTop = min(m.helpTop, m.helpMaxTop())
	switch m.state {
	case stateDetail:
		m.detail.fix()
	case statePath:
		m.pathView.fix()
	}
}

// listChrome counts the list screen's lines that are not rows: title,
// progress, column header, status line, help line.
const listChrome = 5

// updateKeys enables the bindings that apply to what is on screen.
func (m *Model) updateKeys() {
	k := m.c.keys
	k.setAll(false)
	k.ForceQuit.SetEnabled(true)
	if m.tooSmall() {
		k.Quit.SetEnabled(true)
		return
	}
	switch m.export.stage {
	case exportNaming:
		k.Write.SetEnabled(true)
		k.Cancel.SetEnabled(true)
		return
	case exportConfirm:
		k.Overwrite.SetEnabled(true)
		k.Keep.SetEnabled(true)
		return
	case exportBusy:
		return
	}
	if m.state == stateList && m.list.typing {
		k.Apply.SetEnabled(true)
		k.Cancel.SetEnabled(true)
		return
	}
	k.Quit.SetEnabled(true)
	k.Help.SetEnabled(true)
	k.CloseHelp.SetEnabled(m.help)
	switch m.state {
	case stateList:
		n := len(m.list.view.idx)
		for _, b := range []*key.Binding{&k.Up, &k.Down, &k.Top, &k.Bottom, &k.HalfPageDown, &k.HalfPageUp, &k.PageDown, &k.PageUp} {
			b.SetEnabled(n > 1)
		}
		k.Open.SetEnabled(n > 0)
		k.Filter.SetEnabled(true)
		k.ClearFilter.SetEnabled(m.list.filter != "")
		k.Sort.SetEnabled(len(m.list.rows) > 0)
		k.SortReverse.SetEnabled(len(m.list.rows) > 0)
		k.Mark.SetEnabled(n > 0)
		k.MarkAll.SetEnabled(n > 0)
		// The flows are final, and their packets can be read again,
		// once the captures are read.
		k.Export.SetEnabled(!m.loading && !m.correlating && (n > 0 || len(m.list.marks) > 0))
	case stateDetail:
		k.Export.SetEnabled(true)
		for _, b := range []*key.Binding{&k.Up, &k.Down, &k.Top, &k.Bottom, &k.HalfPageDown, &k.HalfPageUp, &k.PageDown, &k.PageUp} {
			b.SetEnabled(true)
		}
		k.Back.SetEnabled(true)
		k.NextPane.SetEnabled(true)
		k.PrevPane.SetEnabled(true)
		k.Relative.SetEnabled(true)
		k.Hex.SetEnabled(m.detail.pane != paneFindings || m.c.wide())
		k.Jump.SetEnabled(m.detail.pane == paneFindings && len(m.detail.items) > 0)
	case statePath:
		for _, b := range []*key.Binding{&k.Up, &k.Down, &k.Top, &k.Bottom, &k.HalfPageDown, &k.HalfPageUp, &k.PageDown, &k.PageUp} {
			b.SetEnabled(len(m.pathView.rows) > 1)
		}
		k.NextPoint.SetEnabled(true)
		k.PrevPoint.SetEnabled(true)
		k.Open.SetEnabled(m.pathView.conn.Flows[m.pathView.point] != nil)
		k.Back.SetEnabled(true)
		k.Export.SetEnabled(true)
	}
	if m.help {
		// The help lists the keys of the view under it; its own keys
		// scroll it (when it is taller than the screen) and close it.
		m.helpUnder = m.helpGroups()
		k.setAll(false)
		k.ForceQuit.SetEnabled(true)
		k.Quit.SetEnabled(true)
		k.CloseHelp.SetEnabled(true)
		scroll := m.helpMaxTop() > 0
		for _, b := range []*key.Binding{&k.Up, &k.Down, &k.Top, &k.Bottom, &k.HalfPageDown, &k.HalfPageUp, &k.PageDown, &k.PageUp} {
			b.SetEnabled(scroll)
		}
	}
}

// tooSmall reports whether the terminal is below the minimum size, when
// the screen asks for a larger one instead of drawing.
func (m *Model) tooSmall() bool {
	w, h := m.c.width, m.c.height
	return w > 0 && h > 0 && (w < minWidth || h < minHeight)
}

// View draws the screen.
func (m Model) View() tea.View {
	v := tea.NewView(m.render())
	v.AltScreen = true
	return v
}

// render draws the screen's content: exactly the terminal's size.
func (m Model) render() string {
	w, h := m.c.width, m.c.height
	if w <= 0 || h <= 0 {
		return ""
	}
	g := m.c.g
	if w < minWidth || h < minHeight {
		msg := fmt.Sprintf("synscope needs a terminal of at least %dx%d; this one is %dx%d. Enlarge it, or press q to quit.",
			minWidth, minHeight, w, h)
		return screen(plainWrap(msg, w, "", ""), w, h, g.Ellipsis)
	}
	var lines []string
	switch {
	case m.help:
		lines = m.helpPage()
	case m.state == stateDetail || m.state == statePath:
		if m.state == stateDetail {
			lines = m.detail.View()
		} else {
			lines = m.pathView.View()
		}
		lines = placeStatus(lines, m.statusLines(), h)
	default:
		lines = append(lines, m.titleLine(), m.progressLine())
		lines = append(lines, m.list.rowsView()...)
		lines = placeStatus(lines, m.statusLines(), h)
	}
	for len(lines) < h-1 {
		lines = append(lines, "")
	}
	lines = append(lines[:h-1], m.helpLine())
	return screen(lines, w, h, g.Ellipsis)
}

// placeStatus puts the status lines at the bottom of the screen's lines,
// over the help line. A message longer than the line (an export's error,
// a long path) takes the lines above it for as long as it is shown.
func placeStatus(lines, status []string, h int) []string {
	for len(lines) < h-1 {
		lines = append(lines, "")
	}
	lines = lines[:h-1]
	if len(status) > h-3 {
		status = status[len(status)-(h-3):]
	}
	copy(lines[h-1-len(status):], status)
	return lines
}

// titleLine names the captures and counts the flows per status.
func (m *Model) titleLine() string {
	st, g := m.c.styles, m.c.g
	n := m.list.counts
	counts := strings.Join([]string{
		st.Status.Invalid.Render(fmt.Sprintf("%s %d", g.Invalid, n[analysis.StatusInvalid])),
		st.Status.Warning.Render(fmt.Sprintf("%s %d", g.Warning, n[analysis.StatusWarning])),
		st.Status.OK.Render(fmt.Sprintf("%s %d", g.OK, n[analysis.StatusOK])),
		st.Status.Partial.Render(fmt.Sprintf("%s %d", g.Partial, n[analysis.StatusPartial])),
	}, "  ")
	var names []string
	if m.cfg.Live != nil {
		names = append(names, m.liveName())
	}
	for i, s := range m.cfg.Sources {
		name := m.c.safe(filepath.Base(s.Name))
		if len(m.cfg.Sources) > 1 {
			name = fmt.Sprintf("%d %s", i+1, name)
		}
		names = append(names, name)
	}
	sep := "  "
	if len(m.cfg.Sources) > 1 {
		// The capture points, in path order.
		sep = " " + m.c.g.Arrow + " "
	}
	left := st.Title.Render("synscope") + "  "
	room := m.c.width - width(counts) - 1
	if e := m.cfg.Filter.String(); e != "" {
		// The command line's filter: the list holds only what it
		// matched (and, with one capture, numbers the flows among the
		// packets it kept). The names give way to it, down to a few
		// columns.
		expr := st.Dim.Render("filter ") + m.c.safe(e)
		nw := max(12, room-width(left)-2-width(expr))
		left += truncate(strings.Join(names, sep), nw, g.Ellipsis) + "  " + expr
	} else {
		left += strings.Join(names, sep)
	}
	left = truncate(left, room, g.Ellipsis)
	return left + strings.Repeat(" ", max(1, m.c.width-width(left)-width(counts))) + counts
}

// progressLine shows the reading while loading (bytes of total with a bar,
// packets, flows, rate, ETA), then what the list shows.
func (m *Model) progressLine() string {
	st, g := m.c.styles, m.c.g
	var read, total int64
	var frames, evicted, undecoded uint64
	flows := 0
	known := true
	for _, c := range m.caps {
		read += c.Bytes
		frames += c.Frames
		flows += c.Flows
		evicted += c.Evicted
		undecoded += c.NotDecoded
		if c.Size < 0 {
			known = false
		}
		total += c.Size
	}
	if m.cfg.Live != nil {
		return m.liveProgress()
	}
	if m.path != nil {
		return m.pathProgress()
	}
	if m.correlating {
		return st.Dim.Render("joining the capture points" + g.Ellipsis)
	}
	if !m.loading {
		_, all := m.list.shown()
		parts := []string{fmt.Sprintf("%s frame%s", commas(frames), plural(int(frames))),
			fmt.Sprintf("%s flow%s", commas(uint64(all)), plural(all))}
		if evicted > 0 {
			parts = append(parts, m.evictedNote(evicted))
		}
		if undecoded > 0 {
			parts = append(parts, m.notDecodedNote(undecoded))
		}
		return m.fitProgress(parts)
	}
	elapsed := m.taken.Sub(m.loader.start)
	var rate float64
	if elapsed > 0 {
		rate = float64(read) / elapsed.Seconds()
	}
	var parts []string
	if known && total > 0 {
		pct := min(1, float64(read)/float64(total))
		bar := progress.New(progress.WithWidth(max(10, min(30, m.c.width-66))), progress.WithFillCharacters(g.BarFull, g.BarEmpty),
			progress.WithColors(colorOr(st.ProgressFull)))
		bar.EmptyColor = colorOr(st.ProgressEmpty)
		bar.PercentageStyle = lipgloss.NewStyle()
		parts = append(parts, "reading "+bar.ViewAs(pct),
			fmt.Sprintf("%s/%s", humanBytes(read), humanBytes(total)))
	} else {
		parts = append(parts, "reading "+m.c.safe(m.currentName()), humanBytes(read)+" read")
	}
	parts = append(parts, fmt.Sprintf("%s pkts", commas(frames)), fmt.Sprintf("%s flow%s", commas(uint64(flows)), plural(flows)))
	if evicted > 0 {
		parts = append(parts, m.evictedNote(evicted))
	}
	if undecoded > 0 {
		parts = append(parts, m.notDecodedNote(undecoded))
	}
	if rate > 0 {
		parts = append(parts, humanBytes(int64(rate))+"B/s")
		if known && total > read {
			eta := time.Duration(float64(total-read) / rate * float64(time.Second))
			parts = append(parts, "ETA "+clockDuration(eta))
		}
	}
	return truncate(strings.Join(parts, g.Sep), m.c.width, g.Ellipsis)
}

// evictedNote counts the flows evicted to stay within --max-flows: they
// are in no list, no count and no export.
func (m *Model) evictedNote(n uint64) string {
	st, g := m.c.styles, m.c.g
	s := fmt.Sprintf("%s %s evicted", g.Warning, commas(n))
	for _, c := range m.caps {
		if c.MaxFlows > 0 {
			s += fmt.Sprintf(" (max %s)", commas(uint64(c.MaxFlows)))
			break
		}
	}
	return st.Status.Warning.Render(s)
}

// notDecodedNote counts the frames the decoder could not look inside (a
// link type or encapsulation it does not read): their TCP is in no flow.
// The status line says which they are.
func (m *Model) notDecodedNote(n uint64) string {
	return m.c.styles.Status.Warning.Render(fmt.Sprintf("%s %s not decoded", m.c.g.Warning, commas(n)))
}

// fitProgress ends the progress line's parts with a damaged capture's
// notice, then spare (facts the line can do without: the points' clocks),
// then what the list shows (how many pass the filter, the marks, the
// sort). A line too narrow for them all leaves out spare first, then the
// sort, then the first part (the frames or packets counted), then cuts the
// longest part left; never a warning, nor what is shown and marked (w
// writes marked flows even when the filter hides them). At 80 columns the
// clocks of two points had pushed out "5 shown · ● 2 marked".
func (m *Model) fitProgress(parts []string, spare ...string) string {
	st, g := m.c.styles, m.c.g
	type part struct {
		text string
		drop int // the highest is left out first; 0 never
	}
	var all []part
	for i, p := range parts {
		drop := 0
		if i == 0 {
			drop = 1
		}
		all = append(all, part{p, drop})
	}
	if d := m.damagePart(); d != "" {
		all = append(all, part{d, 0})
	}
	for _, p := range spare {
		all = append(all, part{p, 3})
	}
	shown, total := m.list.shown()
	if shown != total {
		all = append(all, part{fmt.Sprintf("%s shown", commas(uint64(shown))), 0})
	}
	if n := m.list.markedCount(); n > 0 {
		all = append(all, part{st.Mark.Render(fmt.Sprintf("%s %d marked", g.Mark, n)), 0})
	}
	all = append(all, part{m.list.sortLabel(), 2})
	line := func() string {
		s := make([]string, len(all))
		for i, p := range all {
			s[i] = p.text
		}
		return strings.Join(s, g.Sep)
	}
	for width(line()) > m.c.width {
		drop := -1
		for i, p := range all {
			if p.drop > 0 && (drop < 0 || p.drop >= all[drop].drop) {
				drop = i
			}
		}
		if drop < 0 {
			// Only what must stay is left: the longest part gives way.
			long := 0
			for i, p := range all {
				if width(p.text) > width(all[long].text) {
					long = i
				}
			}
			if cut := width(all[long].text) - (width(line()) - m.c.width); cut >= 10 {
				all[long].text = truncate(all[long].text, cut, g.Ellipsis)
			}
			break
		}
		all = slices.Delete(all, drop, drop+1)
	}
	return truncate(line(), m.c.width, g.Ellipsis)
}

// damagePart is the progress line's word on captures read only up to
// damage, which stays whatever the status line shows (a filter, a note):
// where the damage starts, "✗ damaged after frame 135".
func (m *Model) damagePart() string {
	var bad []CapProgress
	for _, c := range m.caps {
		if c.Err != "" {
			bad = append(bad, c)
		}
	}
	if len(bad) == 0 {
		return ""
	}
	s := fmt.Sprintf("%s %d captures damaged", m.c.g.Invalid, len(bad))
	if len(bad) == 1 {
		c := bad[0]
		frame := c.Frames
		if c.Damage != nil {
			frame = c.Damage.Frame
		}
		name := ""
		if len(m.caps) > 1 {
			name = m.c.safe(filepath.Base(c.Name)) + " "
		}
		s = fmt.Sprintf("%s %sdamaged after frame %s", m.c.g.Invalid, name, commas(frame))
	}
	return m.c.styles.Error.Render(s)
}

// damageNote is the status line's notice of a capture read only up to
// damage: the capture, where the damage starts and that the flows hold
// everything before it come first, in w columns (the capture's name cut
// in its middle when needed); the reason follows as far as it fits.
func (m *Model) damageNote(c CapProgress, w int) string {
	g := m.c.g
	d := c.Damage
	if d == nil {
		return g.Invalid + " " + m.c.safe(c.Err) + ": the flows hold everything before it"
	}
	where := fmt.Sprintf(": damaged at byte %d after frame %d", d.Offset, d.Frame)
	name := m.c.safe(c.Name)
	var s string
	for _, held := range []string{"; everything before it is shown", "; shown up to there"} {
		s = g.Invalid + " " + name + where + held
		if width(s) <= w {
			break
		}
	}
	if width(s) > w {
		room := w - (width(s) - width(name))
		s = g.Invalid + " " + shortenMiddle(name, max(8, room), g.Ellipsis) + where + "; shown up to there"
	}
	if w-width(s) < 8 {
		// Too little room for the reason to say anything: without it,
		// no ellipsis cuts the end of the sentence.
		return s
	}
	return s + " (" + m.c.safe(d.Reason) + ")"
}

// currentName is the name of the capture being read.
func (m *Model) currentName() string {
	for _, c := range m.caps {
		if !c.Done {
			return c.Name
		}
	}
	if len(m.cfg.Sources) > 0 {
		return m.cfg.Sources[0].Name
	}
	return ""
}

// statusLines are the lines under the list (or the drill-down): the
// export prompt, a note, the filter, or what went wrong reading a capture.
// Most are one line; a note or an error longer than the line is wrapped.
func (m *Model) statusLines() []string {
	st, g, w := m.c.styles, m.c.g, m.c.width
	if m.export.active() {
		return m.export.View()
	}
	if m.note != "" {
		if m.noteErr {
			return wrapStyled(st.Error, m.c.safe(m.note), w, g.Invalid+" ", "  ", g.Ellipsis)
		}
		return wrapStyled(st.Dim, m.c.safe(m.note), w, "", "  ", g.Ellipsis)
	}
	if m.state != stateList {
		return nil
	}
	if s := m.list.statusLines(); len(s) > 0 {
		return s
	}
	if s := m.liveNote(); s != "" {
		return []string{s}
	}
	for _, c := range m.caps {
		if c.Err != "" {
			return []string{st.Error.Render(truncate(m.damageNote(c, w), w, g.Ellipsis))}
		}
	}
	for _, c := range m.caps {
		if c.Result == nil || c.Result.NotDecodedFrames == 0 {
			continue
		}
		note := c.Result.NotDecodedNote()
		if len(m.caps) > 1 {
			note = m.c.safe(c.Name) + ": " + note
		}
		return []string{st.Status.Warning.Render(m.c.g.Warning + " " + note + ": their TCP is in no flow")}
	}
	for _, c := range m.caps {
		if c.Result == nil {
			continue
		}
		if note := c.Result.OutsideNote(); note != "" {
			if len(m.caps) > 1 {
				note = c.Name + ": " + note
			}
			return wrapStyled(st.Status.Warning, m.c.safe(note), w, g.Warning+" ", "  ", g.Ellipsis)
		}
	}
	for _, c := range m.caps {
		// What stderr and the report's head say of the capture (not in
		// time order, fragments never completed, odd record headers):
		// the view said none of it.
		if c.Result == nil || len(c.Result.Notes) == 0 {
			continue
		}
		note := c.Result.Notes[0]
		if len(m.caps) > 1 {
			note = c.Name + ": " + note
		}
		if n := len(c.Result.Notes); n > 1 {
			note += fmt.Sprintf(" (and %d more notes: --report lists them)", n-1)
		}
		return wrapStyled(st.Dim, m.c.safe(note), w, g.Info+" ", "  ", g.Ellipsis)
	}
	return nil
}

// noteLines is how many lines a message may take at the bottom of the
// screen: past them it is cut, with an ellipsis.
const noteLines = 3

// wrapStyled wraps plain text s into at most noteLines lines of w
// columns, the first starting with first, and styles each.
func wrapStyled(sty lipgloss.Style, s string, w int, first, rest, tail string) []string {
	lines := plainWrap(s, w, first, rest)
	if len(lines) > noteLines {
		lines = lines[:noteLines]
		lines[noteLines-1] = truncate(lines[noteLines-1]+" "+tail, w, tail)
	}
	for i, l := range lines {
		lines[i] = sty.Render(truncate(l, w, tail))
	}
	return lines
}

// colorOr returns c, or no colour when the theme has none for the role.
func colorOr(c color.Color) color.Color {
	if c == nil {
		return lipgloss.NoColor{}
	}
	return c
}
