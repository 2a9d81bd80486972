package filter

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

type tokKind uint8

const (
	tEOF    tokKind = iota
	tWord           // keyword or value
	tLParen         // (
	tRParen         // )
	tAnd            // and, &&
	tOr             // or, ||
	tNot            // not, !
	tSlash          // /
	tOther          // != and other operator characters: never valid
)

type token struct {
	kind tokKind
	text string
	off  int // byte offset in the source
}

// isOpChar reports characters that in pcap-filter only occur in arithmetic
// and byte-offset expressions (tcp[13] & 2 != 0, len > 100...).
func isOpChar(c byte) bool {
	return strings.IndexByte("[]<>=&|+*%^~-", c) >= 0
}

func lex(s string) ([]token, error) {
	var toks []token
	i := 0
	for i < len(s) {
		c := s[i]
		switch {
		case isSpace(c):
			i++
		case c == '(':
			toks = append(toks, token{tLParen, "(", i})
			i++
		case c == ')':
			toks = append(toks, token{tRParen, ")", i})
			i++
		case c == '/':
			toks = append(toks, token{tSlash, "/", i})
			i++
		case c == '&' && i+1 < len(s) && s[i+1] == '&':
			toks = append(toks, token{tAnd, "&&", i})
			i += 2
		case c == '|' && i+1 < len(s) && s[i+1] == '|':
			toks = append(toks, token{tOr, "||", i})
			i += 2
		case c == '!' && !(i+1 < len(s) && s[i+1] == '='):
			toks = append(toks, token{tNot, "!", i})
			i++
		case c == '!' || isOpChar(c):
			// Never valid: keep the rest of the word ("[13]", "!=0")
			// so that the error names it whole.
			j := i + 1
			for j < len(s) && !isSpace(s[j]) && s[j] != '(' && s[j] != ')' && s[j] >= 0x20 && s[j] != 0x7f {
				j++
			}
			toks = append(toks, token{tOther, s[i:j], i})
			i = j
		case c < 0x20 || c == 0x7f:
			return nil, fmt.Errorf("filter: control character %q at column %d", s[i:i+1], column(s, i))
		default:
			// A word runs to the next space, parenthesis, '/', '!' or
			// "&&"/"||". It keeps '[', ']', '&', '=', '-'... so that
			// "tcp[13]" or "1-1024" stay one token.
			j := i
			for j < len(s) {
				d := s[j]
				if isSpace(d) || d == '(' || d == ')' || d == '/' || d == '!' || d < 0x20 || d == 0x7f {
					break
				}
				if (d == '&' || d == '|') && j+1 < len(s) && s[j+1] == d {
					break
				}
				j++
			}
			w := s[i:j]
			kind := tWord
			switch w {
			case "and":
				kind = tAnd
			case "or":
				kind = tOr
			case "not":
				kind = tNot
			}
			toks = append(toks, token{kind, w, i})
			i = j
		}
	}
	toks = append(toks, token{tEOF, "", len(s)})
	return toks, nil
}

// column converts a byte offset into a 1-based character column.
func column(s string, off int) int {
	if off > len(s) {
		off = len(s)
	}
	return utf8.RuneCountInString(s[:off]) + 1
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}
