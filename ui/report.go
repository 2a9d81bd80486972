package ui

import (
	"bufio"
	"cmp"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/synscope/synscope/analysis"
	"github.com/synscope/synscope/themes"
)

// ReportOptions tune the --report text.
type ReportOptions struct {
	Width int  // columns to wrap at; 80 when zero
	ASCII bool // ASCII glyphs, and every non-ASCII byte escaped
	// PerCode is how many findings of one code are listed per flow before
	// the rest are summed up; 3 when zero.
	PerCode int
	// Path, when the captures are points of one path, adds each flow's
	// connection and path findings.
	Path *analysis.Path
	// Filter is the command line's filter (filter.Expr.String), "" for
	// none: each capture's heading says its flows are those that match
	// it, so that "0 TCP flows" is not read as a capture without TCP.
	Filter string
}

// WriteReport writes the readable report of one or more captures: per
// capture a heading, one block per flow (invalid first, then warning,
// partial, ok) with its findings, and a summary line with counts per
// status; with several points (o.Path), a last line that sums up the path.
func WriteReport(w io.Writer, results []*analysis.Result, o ReportOptions) error {
	if o.Width <= 0 {
		o.Width = 80
	}
	if o.PerCode <= 0 {
		o.PerCode = 3
	}
	g := themes.Unicode
	if o.ASCII {
		g = themes.ASCII
	}
	bw := bufio.NewWriter(w)
	rp := reporter{w: bw, o: o, g: g}
	if o.Path != nil {
		rp.pathHeader(o.Path)
	}
	for i, res := range results {
		if i > 0 {
			bw.WriteString("\n")
		}
		rp.capture(res)
	}
	if o.Path != nil {
		rp.pathSummary(o.Path)
	}
	return bw.Flush()
}

// pathSummary ends the report of several points with one line for the
// path: its connections counted by status as the view's title bar counts
// them (each the worst over its points), and the warnings said once for
// the path at the head. The last line was the last point's own summary:
// "… --report | tail -1" said "✗ 0 invalid  ! 0 warning  ✓ 12 ok" of the
// server's capture, where the inside point had 12 warnings (review
// realpath2 s1b).
func (rp *reporter) pathSummary(pa *analysis.Path) {
	_, n := pathRows(pa, rp.g)
	line := fmt.Sprintf("\npath summary: %d connection%s, %s %d invalid  %s %d warning  %s %d ok  %s %d partial",
		len(pa.Conns), plural(len(pa.Conns)), rp.g.Invalid, n[analysis.StatusInvalid], rp.g.Warning, n[analysis.StatusWarning],
		rp.g.OK, n[analysis.StatusOK], rp.g.Partial, n[analysis.StatusPartial])
	// On the line, not wrapped (nor is a point's summary): the path's
	// warnings are what a clean count hides.
	if w := len(pa.OneWay) + len(pa.Warnings(analysis.PathGlyphs{})); w > 0 {
		line += fmt.Sprintf("; %s %d path warning%s above", rp.g.Warning, w, plural(w))
	}
	fmt.Fprintln(rp.w, line)
}

type reporter struct {
	w *bufio.Writer
	o ReportOptions
	g themes.Glyphs
}

// StatusGlyph returns the glyph that shows a flow status without colour.
func StatusGlyph(g themes.Glyphs, s analysis.Status) string {
	switch s {
	case analysis.StatusInvalid:
		return g.Invalid
	case analysis.StatusWarning:
		return g.Warning
	case analysis.StatusPartial:
		return g.Partial
	}
	return g.OK
}

// SeverityGlyph returns the glyph of a finding's severity.
func SeverityGlyph(g themes.Glyphs, s analysis.Severity) string {
	switch s {
	case analysis.Error:
		return g.Invalid
	case analysis.Warning:
		return g.Warning
	}
	return g.Info
}

func (rp *reporter) safe(s string) string { return Safe(s, rp.o.ASCII) }

// frames lists the frames of a capture that are in no flow, count of them
// (the list holds the first), under a heading whose %s takes the plural.
func (rp *reporter) frames(list []analysis.CaptureFinding, count uint64, heading string) {
	if count == 0 {
		return
	}
	fmt.Fprintf(rp.w, "\n%s %d "+heading+":\n", rp.g.Warning, count, plural(int(count)))
	for i, m := range list {
		if i == rp.o.PerCode {
			fmt.Fprintf(rp.w, "    %s %d more\n", rp.g.Ellipsis, count-uint64(i))
			break
		}
		rp.wrap(fmt.Sprintf("frame %d: %s at byte %d: %s", m.Frame, m.Layer, m.Offset, rp.safe(m.Reason)), "    ", "      ")
	}
}

func (rp *reporter) capture(res *analysis.Result) {
	head := fmt.Sprintf("%s: %d frame%s, %d TCP flow%s", rp.safe(res.Name), res.Frames, plural(int(res.Frames)),
		len(res.Flows), plural(len(res.Flows)))
	switch {
	case rp.o.Filter != "" && rp.o.Path != nil:
		// Several points: the filter picks connections (the view's
		// "no connection matches the filter ...").
		head += " of the connections that match the filter " + rp.safe(rp.o.Filter)
	case rp.o.Filter != "" && len(res.Flows) == 1:
		head += " matches the filter " + rp.safe(rp.o.Filter)
	case rp.o.Filter != "":
		head += " match the filter " + rp.safe(rp.o.Filter)
	}
	if utf8.RuneCountInString(head) > rp.o.Width {
		head = strings.Join(Wrap(head, rp.o.Width, "", "  "), "\n")
	}
	if note := res.NotDecodedNote(); note != "" {
		// Frames it could not look inside: their TCP is not here, and
		// the heading says so, on its line when it fits.
		if utf8.RuneCountInString(head)+2+len(note) <= rp.o.Width {
			head += "; " + note
		} else {
			head += ";\n" + strings.Join(Wrap(note, rp.o.Width, "  ", "    "), "\n")
		}
	}
	rp.w.WriteString(head)
	for _, note := range res.Notes {
		// Not damage: said where the report starts, as on stderr.
		rp.w.WriteString("\n" + strings.Join(Wrap(rp.safe(note), rp.o.Width, "  ", "    "), "\n"))
	}
	if res.Evicted > 0 {
		// The flows left out are counted where the report starts, not
		// only on stderr: a report saved to a file says it is partial.
		fmt.Fprintf(rp.w, "\n  and %d more, evicted to stay within --max-flows %d: not reported", res.Evicted, res.MaxFlows)
	}
	fmt.Fprintln(rp.w)
	flows := slices.Clone(res.Flows)
	slices.SortStableFunc(flows, func(a, b *analysis.Flow) int {
		return cmp.Or(cmp.Compare(rp.status(a), rp.status(b)), cmp.Compare(a.ID, b.ID))
	})
	for _, f := range flows {
		rp.flow(f)
	}
	rp.frames(res.Malformed, res.MalformedCount, "damaged frame%s outside any flow")
	rp.frames(res.Uncaptured, res.UncapturedCount, "frame%s cut short by the snap length, outside any flow")
	var n [4]int
	for _, f := range res.Flows {
		n[rp.status(f)]++
	}
	fmt.Fprintf(rp.w, "\nsummary: %s %d invalid  %s %d warning  %s %d ok  %s %d partial\n",
		rp.g.Invalid, n[analysis.StatusInvalid], rp.g.Warning, n[analysis.StatusWarning],
		rp.g.OK, n[analysis.StatusOK], rp.g.Partial, n[analysis.StatusPartial])
	if res.Damage != "" {
		rp.wrap(fmt.Sprintf("%s %s: the flows above hold everything before that point", rp.g.Invalid, rp.safe(res.Damage)), "", "  ")
	}
	if res.Stopped != "" {
		// Not damage (no ✗): the run was stopped (ctrl-c, a signal).
		rp.wrap(fmt.Sprintf("%s %s", rp.g.Info, rp.safe(res.Stopped)), "", "  ")
	}
}

func (rp *reporter) flow(f *analysis.Flow) {
	guess := ""
	if f.DirectionGuessed {
		guess = " (direction guessed)"
	}
	fmt.Fprintf(rp.w, "\n%s %d  %s %s %s%s\n", StatusGlyph(rp.g, rp.status(f)), f.ID, f.Client(), rp.g.Arrow, f.Server(), guess)
	sep := " · "
	if rp.o.ASCII {
		sep = ", "
	}
	parts := []string{
		"handshake " + f.Handshake.Status.String(),
		fmt.Sprintf("%d packet%s", f.Packets, plural(f.Packets)),
		fmt.Sprintf("%d bytes", f.Bytes),
		Duration(f.End - f.Start),
		fmt.Sprintf("frames %d-%d", f.FirstFrame, f.LastFrame),
	}
	if cs := f.ConnState(); cs != "" {
		parts = append(parts, "zeek "+cs+" "+f.History())
	}
	rp.joinWrapped(parts, sep, "    ")
	shown := map[analysis.Code]int{}
	listed := map[analysis.Code]*[analysis.Error + 1]int{} // by severity
	for _, fi := range f.Findings {
		shown[fi.Code]++
		n := shown[fi.Code]
		if n > rp.o.PerCode {
			if n == rp.o.PerCode+1 {
				rp.wrap(rp.moreLine(f, fi.Code, listed[fi.Code]), "    ", "      ")
			}
			continue
		}
		if listed[fi.Code] == nil {
			listed[fi.Code] = new([analysis.Error + 1]int)
		}
		listed[fi.Code][fi.Severity()]++
		msg := f.Message(fi)
		if rp.o.Path != nil {
			msg = rp.o.Path.FlowMessage(f, fi)
		}
		line := fmt.Sprintf("%s frame %d: %s: %s", SeverityGlyph(rp.g, fi.Severity()), fi.Frame, fi.Code, rp.safe(msg))
		rp.wrap(line, "    ", "      ")
	}
	if rp.o.Path != nil {
		rp.pathFindings(f)
	}
}

// moreLine says how many of the flow's findings with the code are not
// listed (those past the cap on stored findings included), with the glyph
// of the worst of them: a real retransmission (a warning) among copies of
// packets (info) showed as info when the first one left out was a copy.
// When they are not all of one severity it says how many of each, worst
// first: "… 8 more tcp.retransmission (1 warning, 7 info)".
func (rp *reporter) moreLine(f *analysis.Flow, c analysis.Code, listed *[analysis.Error + 1]int) string {
	more := f.SeverityCounts(c)
	total, kinds, worst := 0, 0, analysis.Info
	for s := range more {
		if listed != nil {
			more[s] -= listed[s]
		}
		if more[s] > 0 {
			total += more[s]
			kinds++
			worst = analysis.Severity(s)
		}
	}
	line := fmt.Sprintf("%s %s %d more %s", SeverityGlyph(rp.g, worst), rp.g.Ellipsis, total, c)
	if kinds < 2 {
		return line
	}
	var each []string
	for s := analysis.Error; ; s-- {
		if more[s] > 0 {
			each = append(each, fmt.Sprintf("%d %s", more[s], s))
		}
		if s == analysis.Info {
			break
		}
	}
	return line + " (" + strings.Join(each, ", ") + ")"
}

// status is a flow's status, with its path findings counted in.
func (rp *reporter) status(f *analysis.Flow) analysis.Status {
	if rp.o.Path != nil {
		return rp.o.Path.Status(f)
	}
	return f.Status
}

// pathHeader names the points of the path and their clock offsets.
func (rp *reporter) pathHeader(pa *analysis.Path) {
	names := make([]string, len(pa.Points))
	for i, p := range pa.Points {
		names[i] = rp.safe(p)
	}
	rp.wrap("path: "+strings.Join(names, " "+rp.g.Arrow+" "), "", "      ")
	var offs []string
	for i := 1; i < len(pa.Points); i++ {
		if ref, off, ok := pa.ClockAgainst(i); ok && math.IsNaN(pa.Offset[i]) {
			offs = append(offs, names[i]+" "+analysis.ClockOffset(off)+" s against "+names[ref])
		} else if math.IsNaN(pa.Offset[i]) {
			offs = append(offs, names[i]+" unknown")
		} else {
			offs = append(offs, names[i]+" "+analysis.ClockOffset(pa.Offset[i])+" s")
		}
	}
	rp.wrap(fmt.Sprintf("%d connection%s, %d seen at more than one point; clocks relative to %s: %s",
		len(pa.Conns), plural(len(pa.Conns)), joinedConns(pa), names[0], strings.Join(offs, ", ")), "", "  ")
	// Said once here, as the clocks are: the connections' findings leave
	// that side out at that point.
	for _, o := range pa.OneWay {
		rp.wrap(SeverityGlyph(rp.g, analysis.Warning)+" "+rp.safe(pa.OneWayText(o, analysis.PathGlyphs{Arrow: rp.g.Arrow, NotEqual: rp.g.NotEqual, Sep: rp.g.Sep})), "", "  ")
	}
	for _, w := range pa.Warnings(analysis.PathGlyphs{Arrow: rp.g.Arrow, NotEqual: rp.g.NotEqual, Sep: rp.g.Sep}) {
		rp.wrap(SeverityGlyph(rp.g, analysis.Warning)+" "+rp.safe(w), "", "  ")
	}
	rp.w.WriteString("\n")
}

// pathFindings writes the flow's connection (where it was seen) and the
// findings the other points gave it.
func (rp *reporter) pathFindings(f *analysis.Flow) {
	pa := rp.o.Path
	c := pa.ConnectionOf(f)
	if c == nil {
		return
	}
	seen, unseen := "●", "○"
	if rp.o.ASCII {
		seen, unseen = "*", "-"
	}
	marks := make([]string, len(c.Flows))
	for i, g := range c.Flows {
		m := unseen
		if g != nil {
			m = seen
		}
		marks[i] = m + " " + rp.safe(pa.Points[i])
	}
	rp.joinWrapped(append([]string{fmt.Sprintf("path %d:", c.ID)}, marks...), "  ", "    ")
	words := pathWords{pa: pa, c: c, g: rp.g}
	shown := map[analysis.PathCode]int{}
	all := pa.Findings[f]
	for _, fi := range all {
		shown[fi.Code]++
		if n := shown[fi.Code]; n > rp.o.PerCode {
			if n == rp.o.PerCode+1 {
				rest := 0
				for _, x := range all {
					if x.Code == fi.Code {
						rest++
					}
				}
				rp.wrap(fmt.Sprintf("%s %s %d more %s", SeverityGlyph(rp.g, fi.Code.Severity()), rp.g.Ellipsis, rest-rp.o.PerCode, fi.Code), "    ", "      ")
			}
			continue
		}
		line := fmt.Sprintf("%s %s frame %d: %s: %s", SeverityGlyph(rp.g, fi.Code.Severity()), rp.safe(pa.Points[fi.Point]), fi.Frame, fi.Code, rp.safe(words.sentence(fi)))
		rp.wrap(line, "    ", "      ")
	}
	// Drops all bigger than every segment that passed: said once under
	// the connection's findings.
	var holes []analysis.BlackHole
	for _, fi := range all {
		if bh, ok := pa.SizeLimit(f, fi); ok && !slices.Contains(holes, bh) {
			holes = append(holes, bh)
			rp.wrap(fmt.Sprintf("%s %s", SeverityGlyph(rp.g, analysis.Info), rp.safe(bh.Sentence(pa))), "    ", "      ")
		}
	}
}

// joinWrapped writes parts joined by sep, starting a new line (indented)
// before a part that would cross the width, so no part is split.
func (rp *reporter) joinWrapped(parts []string, sep, indent string) {
	line := indent
	for i, p := range parts {
		switch {
		case i == 0:
			line += p
		case utf8.RuneCountInString(line+sep+p) > rp.o.Width:
			rp.w.WriteString(line + "\n")
			line = indent + p
		default:
			line += sep + p
		}
	}
	rp.w.WriteString(line + "\n")
}

// wrap writes s word-wrapped at the report's width, the first line indented
// by first and the others by rest.
func (rp *reporter) wrap(s, first, rest string) {
	for _, line := range Wrap(s, rp.o.Width, first, rest) {
		rp.w.WriteString(line)
		rp.w.WriteByte('\n')
	}
}

// unitAfter reports whether the space at s[sp] is between a number and
// its unit ("0.001 s", "48 ms").
func unitAfter(s string, sp int) bool {
	if sp == 0 || s[sp-1] < '0' || s[sp-1] > '9' {
		return false
	}
	w := s[sp+1:]
	if i := strings.IndexAny(w, " ,;:)"); i >= 0 {
		w = w[:i]
	}
	switch w {
	case "s", "ms", "µs", "ns", "%":
		return true
	}
	return false
}

// Wrap breaks s into lines of at most width columns at spaces, the first
// indented by first and the others by rest. A word longer than a line is
// cut.
func Wrap(s string, width int, first, rest string) []string {
	var lines []string
	indent := first
	for s != "" {
		room := width - utf8.RuneCountInString(indent)
		if room < 10 {
			room = 10
		}
		if utf8.RuneCountInString(s) <= room {
			lines = append(lines, indent+s)
			break
		}
		cut := runeIndex(s, room)
		sp := strings.LastIndexByte(s[:cut+1], ' ')
		for sp > 0 && unitAfter(s, sp) {
			// "+0.001 s" stays on one line: a unit is not left alone.
			if before := strings.LastIndexByte(s[:sp], ' '); before > 0 {
				sp = before
			} else {
				break
			}
		}
		if sp <= 0 {
			sp = cut
		}
		lines = append(lines, indent+strings.TrimRight(s[:sp], " "))
		s = strings.TrimLeft(s[sp:], " ")
		indent = rest
	}
	return lines
}

// runeIndex returns the byte index of the n-th rune of s (len(s) if fewer).
func runeIndex(s string, n int) int {
	for i := range s {
		if n == 0 {
			return i
		}
		n--
	}
	return len(s)
}

// Duration shows a span of capture time in a few characters.
func Duration(ns int64) string {
	d := time.Duration(ns)
	switch {
	case d < time.Second:
		return fmt.Sprintf("%.3f ms", float64(d)/1e6)
	case d < time.Minute:
		return fmt.Sprintf("%.3f s", d.Seconds())
	}
	return d.Round(time.Second).String()
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
