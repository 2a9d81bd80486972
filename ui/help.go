package ui

import (
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
)

// helpGroups are the full help's columns for what is under the help: the
// enabled bindings of the KeyMap only, so help never lies.
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
		return enabled(k.CloseHelp, k.Quit)
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
	for _, grp := range m.helpGroups() {
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
	if m.c.height >= 30 || w >= 100 {
		lines = append(lines, "", st.HelpHeading.Render("filter words")+st.Dim.Render(" (/ in the list; all must hold)"))
		lines = append(lines, plainWrap(filterHelp(g), w, "  ", "  ")...)
		lines = append(lines, "", st.HelpHeading.Render("status"))
		lines = append(lines, "  "+st.Status.Invalid.Render(g.Invalid+" invalid")+"  "+st.Status.Warning.Render(g.Warning+" warning")+"  "+
			st.Status.OK.Render(g.OK+" ok")+"  "+st.Status.Partial.Render(g.Partial+" partial")+"  "+st.Status.Info.Render(g.Info+" info"))
		lines = append(lines, "  "+st.Expected.Render("expected")+" against "+st.Actual.Render("actual")+"  "+
			st.PayloadOnSYN.Render("payload on a SYN")+"  "+st.Padding.Render("Ethernet padding"))
	} else {
		lines = append(lines, "")
		for _, l := range plainWrap(filterHelp(g), w, "filter: ", "        ") {
			lines = append(lines, st.Dim.Render(l))
		}
		lines = append(lines, "status: "+st.Status.Invalid.Render(g.Invalid+" invalid")+"  "+st.Status.Warning.Render(g.Warning+" warning")+"  "+
			st.Status.OK.Render(g.OK+" ok")+"  "+st.Status.Partial.Render(g.Partial+" partial"))
	}
	return lines
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
