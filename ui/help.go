package ui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// helpGroups are the full help's columns for the view on screen: the
// enabled bindings of the KeyMap only, so help never lies. updateKeys
// takes them for the view under the help (helpUnder) before it gives the
// keys to the help itself.
func (m *Model) helpGroups() []helpGroup {
	k := m.c.keys
	move := helpGroup{"move", enabled(k.Up, k.Down, k.Top, k.Bottom, k.HalfPageDown, k.HalfPageUp, k.PageDown, k.PageUp)}
	general := helpGroup{"general", enabled(k.Help, k.Quit, k.ForceQuit)}
	switch m.state {
	case stateDetail:
		return []helpGroup{move, {"drill-down", enabled(k.NextPane, k.PrevPane, k.Jump, k.Relative, k.Hex, k.Export, k.Back)}, general}
	case statePath:
		return []helpGroup{move, {"connection", enabled(k.NextPoint, k.PrevPoint, k.Open, k.Export, k.Back)}, general}
	}
	return []helpGroup{move, {"flows", enabled(k.Open, k.Filter, k.ClearFilter, k.Sort, k.SortReverse, k.Mark, k.MarkAll, k.Export)}, general}
}

// shortHelp is the one line of keys at the bottom of the screen.
func (m *Model) shortHelp() []key.Binding {
	k := m.c.keys
	switch {
	case m.export.stage == exportNaming:
		return enabled(k.Write, k.Cancel, k.ForceQuit)
	case m.export.stage == exportConfirm:
		return enabled(k.Overwrite, k.Keep, k.ForceQuit)
	case m.export.stage == exportBusy:
		return enabled(k.ForceQuit)
	case m.help:
		return enabled(k.Down, k.Up, k.CloseHelp, k.Quit)
	case m.state == stateList && m.list.typing:
		return enabled(k.Apply, k.Cancel, k.ForceQuit)
	case m.state == stateDetail:
		return enabled(k.NextPane, k.Down, k.Up, k.Jump, k.Relative, k.Hex, k.Back, k.Export, k.Help, k.Quit)
	case m.state == statePath:
		return enabled(k.Down, k.Up, k.NextPoint, k.Open, k.Back, k.Export, k.Help, k.Quit)
	}
	return enabled(k.Down, k.Up, k.Open, k.Filter, k.Sort, k.Mark, k.Export, k.Help, k.Quit)
}

// helpLine draws the short help, cut to the width.
func (m *Model) helpLine() string {
	h := help.New()
	h.Styles = help.Styles{
		ShortKey:       m.c.styles.HelpKey,
		ShortDesc:      m.c.styles.Dim,
		ShortSeparator: m.c.styles.Dim,
		Ellipsis:       m.c.styles.Dim,
	}
	h.ShortSeparator = " " + m.c.g.Sep[1:]
	h.Ellipsis = m.c.g.Ellipsis
	h.SetWidth(m.c.width)
	return h.ShortHelpView(m.shortHelp())
}

// helpView is the full help: a column per group; on a larger terminal the
// filter words and the glyphs too.
func (m *Model) helpView() []string {
	st, g := m.c.styles, m.c.g
	w := m.c.width
	lines := []string{st.Title.Render("synscope keys") + st.Dim.Render("   (? or esc closes)"), ""}
	var cols [][]string
	for _, grp := range m.helpUnder {
		if len(grp.bindings) == 0 {
			continue
		}
		kw := 0
		for _, b := range grp.bindings {
			kw = max(kw, width(b.Help().Key))
		}
		col := []string{st.HelpHeading.Render(grp.title)}
		for _, b := range grp.bindings {
			col = append(col, st.HelpKey.Render(padRight(b.Help().Key, kw, ""))+"  "+st.HelpDesc.Render(b.Help().Desc))
		}
		cols = append(cols, col)
	}
	lines = append(lines, layoutColumns(cols, w, 4)...)
	// The filter words only where / filters: the drill-down's help
	// listed them, and / does nothing there.
	list := m.state == stateList
	if m.c.height >= 30 || w >= 100 {
		if list {
			lines = append(lines, "", st.HelpHeading.Render("filter words")+st.Dim.Render(" (/ in the list; all must hold)"))
			lines = append(lines, plainWrap(filterHelp(g), w, "  ", "  ")...)
		}
		lines = append(lines, "", st.HelpHeading.Render("status"))
		lines = append(lines, "  "+st.Status.Invalid.Render(g.Invalid+" invalid")+"  "+st.Status.Warning.Render(g.Warning+" warning")+"  "+
			st.Status.OK.Render(g.OK+" ok")+"  "+st.Status.Partial.Render(g.Partial+" partial")+"  "+st.Status.Info.Render(g.Info+" info"))
		lines = append(lines, "  "+st.Expected.Render("expected")+" against "+st.Actual.Render("actual")+"  "+
			st.PayloadOnSYN.Render("payload on a SYN")+"  "+st.Padding.Render("Ethernet padding"))
	} else {
		lines = append(lines, "")
		for _, l := range plainWrap(filterHelp(g), w, "filter: ", "        ") {
			if list {
				lines = append(lines, st.Dim.Render(l))
			}
		}
		lines = append(lines, "status: "+st.Status.Invalid.Render(g.Invalid+" invalid")+"  "+st.Status.Warning.Render(g.Warning+" warning")+"  "+
			st.Status.OK.Render(g.OK+" ok")+"  "+st.Status.Partial.Render(g.Partial+" partial"))
	}
	return lines
}

// helpPage is the part of the full help that fits above the help line.
// When it does not all fit, its last line says how much more there is and
// which keys scroll: at 60x15, 14 lines above the help line, the
// drill-down's help is 21 lines and its general column, with quit, was cut
// off.
func (m *Model) helpPage() []string {
	lines := m.helpView()
	room := m.c.height - 1
	if len(lines) <= room {
		return lines
	}
	top := max(0, min(m.helpTop, m.helpMaxTop()))
	shown := lines[top : top+room-1]
	below := len(lines) - top - len(shown)
	var parts []string
	if below > 0 {
		parts = append(parts, fmt.Sprintf("%s %d more line%s below", m.c.g.SortDesc, below, plural(below)))
	}
	if top > 0 {
		parts = append(parts, fmt.Sprintf("%s %d above", m.c.g.SortAsc, top))
	}
	return append(shown, m.c.styles.Dim.Render(strings.Join(parts, m.c.g.Sep)+"  (j/k, pgdn/pgup, g/G scroll)"))
}

// helpMaxTop is the last first line the full help scrolls to: 0 when it
// fits. Its last line on screen says what is out of sight.
func (m *Model) helpMaxTop() int {
	room := m.c.height - 1
	n := len(m.helpView())
	if n <= room {
		return 0
	}
	return n - (room - 1)
}

// scrollHelp moves the full help by a scrolling key.
func (m *Model) scrollHelp(msg tea.KeyPressMsg) {
	k := m.c.keys
	page := max(1, m.c.height-2)
	switch {
	case key.Matches(msg, k.Down):
		m.helpTop++
	case key.Matches(msg, k.Up):
		m.helpTop--
	case key.Matches(msg, k.PageDown):
		m.helpTop += page
	case key.Matches(msg, k.PageUp):
		m.helpTop -= page
	case key.Matches(msg, k.HalfPageDown):
		m.helpTop += page / 2
	case key.Matches(msg, k.HalfPageUp):
		m.helpTop -= page / 2
	case key.Matches(msg, k.Top):
		m.helpTop = 0
	case key.Matches(msg, k.Bottom):
		m.helpTop = m.helpMaxTop()
	}
	m.helpTop = max(0, min(m.helpTop, m.helpMaxTop()))
}

// layoutColumns sets columns side by side as far as the width allows,
// then starts a new band of columns below.
func layoutColumns(cols [][]string, w, gap int) []string {
	var out []string
	for len(cols) > 0 {
		n, used := 0, 0
		for n < len(cols) {
			cw := colWidth(cols[n])
			if n > 0 && used+gap+cw > w {
				break
			}
			if n > 0 {
				used += gap
			}
			used += cw
			n++
		}
		band := cols[:n]
		cols = cols[n:]
		rows := 0
		for _, c := range band {
			rows = max(rows, len(c))
		}
		for r := range rows {
			var b strings.Builder
			for i, c := range band {
				cell := ""
				if r < len(c) {
					cell = c[r]
				}
				if i < len(band)-1 {
					cell = padRight(cell, colWidth(c)+gap, "")
				}
				b.WriteString(cell)
			}
			out = append(out, b.String())
		}
		if len(cols) > 0 {
			out = append(out, "")
		}
	}
	return out
}

func colWidth(c []string) int {
	n := 0
	for _, s := range c {
		n = max(n, width(s))
	}
	return n
}
