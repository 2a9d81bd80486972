// Package themes holds synscope's look: the glyphs that carry each status
// without colour, and (with the TUI) the lipgloss styles built from a
// theme's semantic roles. Only the ui package uses it.
package themes

// Glyphs are the symbols that make a status readable without colour.
type Glyphs struct {
	OK, Warning, Invalid, Partial, Info string
	Arrow                               string // client → server
	Ellipsis                            string
}

// Unicode glyphs, for UTF-8 terminals.
var Unicode = Glyphs{OK: "✓", Warning: "!", Invalid: "✗", Partial: "?", Info: "·", Arrow: "→", Ellipsis: "…"}

// ASCII glyphs, for --ascii and terminals whose locale is not UTF-8.
var ASCII = Glyphs{OK: "+", Warning: "!", Invalid: "x", Partial: "?", Info: "-", Arrow: "->", Ellipsis: "..."}
