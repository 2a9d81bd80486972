package ui

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Safe returns s with everything that could steer a terminal made visible
// and inert: C0 and C1 control characters (ESC among them, so no CSI, OSC or
// DCS sequence survives), DEL, bidirectional overrides and isolates, and
// invalid UTF-8 are written as \xNN or \u{NNNN} escapes. With ascii set,
// every non-ASCII rune is escaped too. File names, interface names and any
// text taken from a packet go through it before reaching the terminal.
func Safe(s string, ascii bool) string {
	clean := true
	for _, r := range s {
		if r >= 0x80 || r < 0x20 || r == 0x7f {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n <= 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
			fmt.Fprintf(&b, `\x%02x`, r)
		case isBidiControl(r) || (ascii && r >= 0x80) || (!unicode.IsPrint(r) && r != ' '):
			fmt.Fprintf(&b, `\u{%04x}`, r)
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// isBidiControl reports the formatting characters that reorder text on
// screen (Trojan Source): embeddings, overrides, isolates and marks.
func isBidiControl(r rune) bool {
	switch {
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0x200e, r == 0x200f, r == 0x061c:
		return true
	}
	return false
}
