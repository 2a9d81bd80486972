package capture

import (
	"path/filepath"
	"strconv"
	"strings"
)

// exportNumbering is how an export numbers the frames it writes, for the
// frame references in the items' comments: a comment says "frame 176"
// by the source capture's numbering (or "frame 3 at fw-inside", a capture
// point's), which in a 12-packet file points at another packet or at none.
// rewrite turns each into the frame's number in the file written, or, for
// a frame not written, names the capture it is in ("frame 176 of
// cat.pcap").
type exportNumbering struct {
	srcs []numberedSource
}

type numberedSource struct {
	// point is what comments call the source after "at": its label, or
	// its file's base name (as analysis.Path names points); file is the
	// file's base name.
	point, file string
	out         map[uint64]uint64 // frame in the source → frame in the export
}

// newExportNumbering numbers the items as writeExport writes them: source
// by source, each source's items (sorted) in order.
func newExportNumbering(srcs []ExportSource, sorted [][]ExportItem) *exportNumbering {
	en := &exportNumbering{srcs: make([]numberedSource, len(srcs))}
	var n uint64
	for i, s := range srcs {
		ns := numberedSource{point: s.Label, file: filepath.Base(s.Reader.Name()), out: make(map[uint64]uint64, len(sorted[i]))}
		if ns.point == "" {
			ns.point = ns.file
		}
		for _, it := range sorted[i] {
			n++
			if _, ok := ns.out[it.Frame]; !ok {
				ns.out[it.Frame] = n
			}
		}
		en.srcs[i] = ns
	}
	return en
}

// spoolNumbering numbers a live capture's items, sorted, as Spool.Export
// writes them; a frame not written is "frame N of the live capture".
func spoolNumbering(items []ExportItem) *exportNumbering {
	ns := numberedSource{file: "the live capture", out: make(map[uint64]uint64, len(items))}
	for i, it := range items {
		if _, ok := ns.out[it.Frame]; !ok {
			ns.out[it.Frame] = uint64(i + 1)
		}
	}
	return &exportNumbering{srcs: []numberedSource{ns}}
}

// rewrite returns comment, written for a packet of source src, with its
// frame references numbered as the export numbers them. A reference is
// "frame N" as a word (N a decimal number, not part of a longer word or
// number), followed by " at POINT" when it names a frame of another
// capture point; a bare one is src's. Nothing else is changed: the point
// names in the comment, which the user chose (-r NAME=FILE, and a NAME
// may read "frame 3"), are copied as they are wherever they stand as
// words, unless a reference's " at POINT" takes them.
func (en *exportNumbering) rewrite(src int, comment string) string {
	if !strings.Contains(comment, "frame ") {
		return comment
	}
	var b strings.Builder
	for i := 0; i < len(comment); {
		frame, end, at := en.reference(comment, i)
		if at < 0 {
			// Not followed by a point: a point's name here is a name.
			if n := en.pointAt(comment, i); n > 0 {
				b.WriteString(comment[i : i+n])
				i += n
				continue
			}
		}
		if end == 0 {
			b.WriteByte(comment[i])
			i++
			continue
		}
		s := src
		if at >= 0 {
			s = at
		}
		b.WriteString("frame ")
		if n, ok := en.srcs[s].out[frame]; ok {
			b.WriteString(strconv.FormatUint(n, 10))
		} else {
			b.WriteString(strconv.FormatUint(frame, 10))
			b.WriteString(" of ")
			b.WriteString(en.srcs[s].file)
		}
		if at >= 0 {
			b.WriteString(" at ")
			b.WriteString(en.srcs[at].point)
		}
		i = end
	}
	return b.String()
}

// reference reads a frame reference at byte i of c: the frame's number,
// where the reference ends (0 when there is none at i), and the source
// its " at POINT" names (-1 for none).
func (en *exportNumbering) reference(c string, i int) (frame uint64, end, at int) {
	const word = "frame "
	if !strings.HasPrefix(c[i:], word) || i > 0 && wordByte(c[i-1]) {
		return 0, 0, -1
	}
	j := i + len(word)
	k := j
	for k < len(c) && k-j < 19 && c[k] >= '0' && c[k] <= '9' {
		k++
	}
	// Digits, not starting with 0 (no frame is 0), and a whole word:
	// not "frame 12ab", nor "frame 1.5", nor the start of a longer number.
	if k == j || c[j] == '0' || k < len(c) && (wordByte(c[k]) || c[k] == '.' && k+1 < len(c) && wordByte(c[k+1])) {
		return 0, 0, -1
	}
	frame, err := strconv.ParseUint(c[j:k], 10, 64)
	if err != nil {
		return 0, 0, -1
	}
	at = -1
	if rest := c[k:]; strings.HasPrefix(rest, " at ") {
		best := 0
		for s, ns := range en.srcs {
			if n := len(ns.point); n > best && nameAt(rest[len(" at "):], ns.point) {
				at, best = s, n
			}
		}
		if at >= 0 {
			k += len(" at ") + best
		}
	}
	return frame, k, at
}

// pointAt returns the length of the longest point name that stands as a
// word at byte i of c, 0 for none.
func (en *exportNumbering) pointAt(c string, i int) int {
	if i > 0 && wordByte(c[i-1]) {
		return 0
	}
	best := 0
	for _, ns := range en.srcs {
		if len(ns.point) > best && nameAt(c[i:], ns.point) {
			best = len(ns.point)
		}
	}
	return best
}

// nameAt tells whether s starts with name as a whole word (what follows
// is not a letter, digit, '-' or '_': "fw" is not at "fw-inside").
func nameAt(s, name string) bool {
	return name != "" && strings.HasPrefix(s, name) && (len(s) == len(name) || !wordByte(s[len(name)]))
}

// wordByte tells the bytes that continue a word or a number.
func wordByte(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c == '-' || c >= 0x80
}
