// Package themes holds synscope's look: the glyphs that carry each status
// without colour, the themes (semantic colour roles) and the lipgloss
// styles built from a theme. Only the ui package uses it.
package themes

// Glyphs are the symbols that make a status readable without colour, and
// the few other symbols the interface draws. Every field has an ASCII
// counterpart, for --ascii and terminals whose locale is not UTF-8.
type Glyphs struct {
	OK, Warning, Invalid, Partial, Info string
	Arrow                               string // client → server
	Ellipsis                            string

	// ToServer and ToClient mark a packet's direction in the packet ladder.
	ToServer, ToClient string
	// Cursor marks the selected row; Mark a row marked with space.
	Cursor, Mark string
	// SortAsc and SortDesc follow the sorted column's name.
	SortAsc, SortDesc string
	// Sep separates facts on one line.
	Sep string
	// NotEqual sits between an actual and an expected number.
	NotEqual string
	// BarFull and BarEmpty draw the progress bar.
	BarFull, BarEmpty rune
	// HLine and VLine draw the lines between panes.
	HLine, VLine string
	// Present and Absent say whether a capture point saw a connection
	// or a segment; Changed marks a value that differs from the one the
	// point before it on the path saw.
	Present, Absent, Changed string
}

// Unicode glyphs, for UTF-8 terminals.
var Unicode = Glyphs{OK: "✓", Warning: "!", Invalid: "✗", Partial: "?", Info: "·", Arrow: "→", Ellipsis: "…",
	ToServer: "→", ToClient: "←", Cursor: "▶", Mark: "●", SortAsc: "▲", SortDesc: "▼", Sep: " · ",
	NotEqual: "≠", BarFull: '█', BarEmpty: '░', HLine: "─", VLine: "│",
	Present: "●", Absent: "○", Changed: "Δ"}

// ASCII glyphs, for --ascii and terminals whose locale is not UTF-8.
var ASCII = Glyphs{OK: "+", Warning: "!", Invalid: "x", Partial: "?", Info: "-", Arrow: "->", Ellipsis: "...",
	ToServer: ">", ToClient: "<", Cursor: ">", Mark: "*", SortAsc: "^", SortDesc: "v", Sep: ", ",
	NotEqual: "!=", BarFull: '#', BarEmpty: '-', HLine: "-", VLine: "|",
	Present: "o", Absent: ".", Changed: "~"}
