package ui

import "charm.land/bubbles/v2/key"

// KeyMap is every key binding of the TUI, in one place. The root enables
// the bindings that apply to what is on screen (updateKeys) before every
// frame, so that matching and the help drawn from these same bindings
// agree: a disabled binding neither matches nor shows in help.
type KeyMap struct {
	// Moving in a list: the flow list, the packet ladder, the findings,
	// the decoded packet.
	Up, Down           key.Binding
	Top, Bottom        key.Binding
	HalfPageDown       key.Binding
	HalfPageUp         key.Binding
	PageDown, PageUp   key.Binding
	Open               key.Binding // the selected flow's drill-down
	Back               key.Binding // out of the drill-down or help
	Filter             key.Binding
	ClearFilter        key.Binding
	Sort, SortReverse  key.Binding
	Mark, MarkAll      key.Binding
	NextPane, PrevPane key.Binding
	NextPoint          key.Binding // the capture point a connection's ladder opens
	PrevPoint          key.Binding
	Relative           key.Binding // relative or absolute seq/ack
	Hex                key.Binding // hex dump or decoded headers
	Jump               key.Binding // to a finding's frame
	Apply, Cancel      key.Binding // in the filter input
	Export             key.Binding // write flows to a capture file
	Write              key.Binding // in the file name prompt
	Overwrite, Keep    key.Binding // when the file exists
	Help, CloseHelp    key.Binding
	Quit, ForceQuit    key.Binding
}

// DefaultKeyMap returns the bindings: vim keys and arrows both, every
// action on a key. With ascii set, help names the arrow keys in words.
func DefaultKeyMap(ascii bool) *KeyMap {
	up, down := "↑/k", "↓/j"
	if ascii {
		up, down = "up/k", "down/j"
	}
	return &KeyMap{
		Up:           key.NewBinding(key.WithKeys("k", "up"), key.WithHelp(up, "up")),
		Down:         key.NewBinding(key.WithKeys("j", "down"), key.WithHelp(down, "down")),
		Top:          key.NewBinding(key.WithKeys("g", "home"), key.WithHelp("g/home", "first")),
		Bottom:       key.NewBinding(key.WithKeys("G", "end"), key.WithHelp("G/end", "last")),
		HalfPageDown: key.NewBinding(key.WithKeys("ctrl+d"), key.WithHelp("ctrl+d", "half page down")),
		HalfPageUp:   key.NewBinding(key.WithKeys("ctrl+u"), key.WithHelp("ctrl+u", "half page up")),
		PageDown:     key.NewBinding(key.WithKeys("pgdown", "ctrl+f"), key.WithHelp("pgdn", "page down")),
		PageUp:       key.NewBinding(key.WithKeys("pgup", "ctrl+b"), key.WithHelp("pgup", "page up")),
		Open:         key.NewBinding(key.WithKeys("enter", "l", "right"), key.WithHelp("enter", "open flow")),
		Back:         key.NewBinding(key.WithKeys("esc", "backspace", "h", "left"), key.WithHelp("esc/bksp", "back")),
		Filter:       key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "filter")),
		ClearFilter:  key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "clear filter")),
		Sort:         key.NewBinding(key.WithKeys("s"), key.WithHelp("s", "sort column")),
		SortReverse:  key.NewBinding(key.WithKeys("S"), key.WithHelp("S", "reverse sort")),
		Mark:         key.NewBinding(key.WithKeys("space"), key.WithHelp("space", "mark flow")),
		MarkAll:      key.NewBinding(key.WithKeys("a"), key.WithHelp("a", "mark all shown")),
		NextPane:     key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "next pane")),
		PrevPane:     key.NewBinding(key.WithKeys("shift+tab"), key.WithHelp("shift+tab", "previous pane")),
		NextPoint:    key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "next point")),
		PrevPoint:    key.NewBinding(key.WithKeys("shift+tab"), key.WithHelp("shift+tab", "previous point")),
		Relative:     key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "absolute/relative seq")),
		Hex:          key.NewBinding(key.WithKeys("x"), key.WithHelp("x", "hex dump")),
		Jump:         key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "go to frame")),
		Apply:        key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "apply filter")),
		Cancel:       key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "cancel")),
		Export:       key.NewBinding(key.WithKeys("w"), key.WithHelp("w", "write file")),
		Write:        key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "write")),
		Overwrite:    key.NewBinding(key.WithKeys("y"), key.WithHelp("y", "overwrite")),
		Keep:         key.NewBinding(key.WithKeys("n", "esc"), key.WithHelp("n/esc", "keep it")),
		Help:         key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "help")),
		CloseHelp:    key.NewBinding(key.WithKeys("?", "esc", "backspace"), key.WithHelp("?/esc", "close help")),
		Quit:         key.NewBinding(key.WithKeys("q"), key.WithHelp("q", "quit")),
		ForceQuit:    key.NewBinding(key.WithKeys("ctrl+c"), key.WithHelp("ctrl+c", "quit")),
	}
}

// all returns every binding, for enabling and disabling them together.
func (k *KeyMap) all() []*key.Binding {
	return []*key.Binding{&k.Up, &k.Down, &k.Top, &k.Bottom, &k.HalfPageDown, &k.HalfPageUp, &k.PageDown, &k.PageUp,
		&k.Open, &k.Back, &k.Filter, &k.ClearFilter, &k.Sort, &k.SortReverse, &k.Mark, &k.MarkAll,
		&k.NextPane, &k.PrevPane, &k.NextPoint, &k.PrevPoint, &k.Relative, &k.Hex, &k.Jump, &k.Apply, &k.Cancel,
		&k.Export, &k.Write, &k.Overwrite, &k.Keep,
		&k.Help, &k.CloseHelp, &k.Quit, &k.ForceQuit}
}

// setAll enables or disables every binding.
func (k *KeyMap) setAll(on bool) {
	for _, b := range k.all() {
		b.SetEnabled(on)
	}
}

// helpGroup is a titled column of the full help.
type helpGroup struct {
	title    string
	bindings []key.Binding
}

// enabled returns the bindings of bs that are enabled.
func enabled(bs ...key.Binding) []key.Binding {
	var out []key.Binding
	for _, b := range bs {
		if b.Enabled() {
			out = append(out, b)
		}
	}
	return out
}
