package ui

import (
	"cmp"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/synscope/synscope/analysis"
	"github.com/synscope/synscope/themes"
)

// pane is one part of the drill-down that can have the keys.
type pane int

const (
	paneLadder pane = iota
	panePacket
	paneFindings
	numPanes
)

func (p pane) String() string { return [...]string{"packets", "packet", "findings"}[p] }

// readAhead is how many packets one read-back fetches around the cursor.
const (
	readBehind = 16
	readAhead  = 48
)

// frameNote is what the ladder shows of a frame's findings: its worst,
// a flow finding (first) or a path finding (path, when isPath).
type frameNote struct {
	worst  analysis.Severity
	first  analysis.Finding
	path   analysis.PathFinding
	isPath bool
}

// paneFinding is one finding of the findings pane: the flow's own
// (flow, an index in flow.Findings), or one the other capture points
// gave it (path, an index in detailModel.path; flow is -1).
type paneFinding struct{ flow, path int }

// cappedCode is a code of which the flow has more findings than it keeps
// (analysis keeps the first 1,000 of each code and counts the others): the
// ladder marks the kept ones only, so it says where its marks of the code
// stop.
type cappedCode struct {
	code analysis.Code
	kept int    // findings listed and marked
	more int    // counted, not kept
	last uint64 // the last frame marked with the code
}

// detailModel is the drill-down into one flow: the handshake summary, the
// packet ladder, the selected packet decoded (or its hex dump) and the
// flow's findings. The flow is final (its capture has been read) and is
// never changed.
type detailModel struct {
	c       *common
	cap     int
	capName string
	flow    *analysis.Flow
	store   *packetStore

	pane     pane
	cursor   int // ladder: index in flow.Refs
	offset   int
	absolute bool // absolute sequence numbers
	hex      bool // hex dump instead of decoded headers
	pktOff   int  // scroll of the packet pane
	fcursor  int  // findings: index in items
	foffset  int  // first line of the findings pane
	// fbottom: a move down was made on the last finding, so the
	// findings pane shows its last lines, the notes of findings not kept
	// under that finding, where they do not fit with it (fix).
	fbottom bool

	infos     map[int]*pktInfo // read-back packets by Refs index
	requested map[int]bool     // Refs indexes asked for

	notes                  map[uint64]frameNote
	capped                 []cappedCode // in code order
	clientBase, serverBase uint32
	haveBase               [2]bool
	relWidth               int // widest relative seq or ack
	winWidth               int // widest window (window)
	flagsWidth             int // widest flags (flagLetters), 5 at least

	// flines caches the findings laid out at one width: they never change.
	flines *findingLayout

	// A flow opened from a connection seen at several capture points
	// (withPath): the findings the path gave it (analysis.Path.Findings),
	// in frame order, said in the connection's words; its status counts
	// them (analysis.Path.Status), as --report and --json do. Without
	// them the packet a path.dropped names was unmarked, and the flow
	// read ! where the report said ✗.
	path   []analysis.PathFinding
	pwords pathWords
	// pa is the path, for the flow's own findings in its words
	// (Path.FlowMessage: a copy a device on the way made).
	pa     *analysis.Path
	status analysis.Status
	items  []paneFinding // the findings pane: the flow's, the path's among them by frame
}

// findingLayout is the findings pane's text: per line, the text and the
// finding it belongs to; head lines start a finding.
type findingLayout struct {
	width  int
	lines  []string
	owner  []int // index in Findings; -1 for the notes of findings not kept
	head   []bool
	starts []int // first line of each finding
}

func newDetailModel(c *common, capIdx int, capName string, f *analysis.Flow, ps *packetStore) detailModel {
	d := detailModel{c: c, cap: capIdx, capName: capName, flow: f, store: ps, status: f.Status,
		infos: map[int]*pktInfo{}, requested: map[int]bool{}, notes: map[uint64]frameNote{}}
	d.items = make([]paneFinding, len(f.Findings))
	for i := range f.Findings {
		d.items[i] = paneFinding{flow: i, path: -1}
	}
	counts := f.Counts()
	kept, last := make([]int, len(counts)), make([]uint64, len(counts))
	for _, fi := range f.Findings {
		n, ok := d.notes[fi.Frame]
		if !ok || fi.Severity() > n.worst {
			d.notes[fi.Frame] = frameNote{worst: fi.Severity(), first: fi}
		}
		kept[fi.Code]++
		last[fi.Code] = max(last[fi.Code], fi.Frame)
	}
	for c, n := range counts {
		if int(n) > kept[c] {
			d.capped = append(d.capped, cappedCode{code: analysis.Code(c), kept: kept[c], more: int(n) - kept[c], last: last[c]})
		}
	}
	h := &f.Handshake
	if h.HaveSyn {
		d.clientBase, d.haveBase[analysis.FromClient] = h.ClientISN, true
	}
	if h.HaveSynAck {
		d.serverBase, d.haveBase[analysis.FromServer] = h.ServerISN, true
	}
	setBase := func(s analysis.Side, v uint32) {
		d.haveBase[s] = true
		if s == analysis.FromClient {
			d.clientBase = v
		} else {
			d.serverBase = v
		}
	}
	for _, r := range f.Refs {
		if r.Bits&analysis.RefFragment != 0 {
			continue
		}
		// Without its SYN, a side counts from its first number less
		// one, and a side never seen from the first ACK of it less
		// one, as Wireshark does (its first segment is 1, not 0; the
		// ACK of a side not seen was absolute under "(relative)").
		s := r.Side()
		if !d.haveBase[s] {
			if r.Flags&analysis.FlagSYN != 0 {
				setBase(s, r.Seq)
			} else {
				setBase(s, r.Seq-1)
			}
		}
		if r.Flags&analysis.FlagACK != 0 && !d.haveBase[1-s] {
			setBase(1-s, r.Ack-1)
		}
	}
	d.relWidth, d.winWidth, d.flagsWidth = 3, 5, 5
	for _, r := range f.Refs {
		d.relWidth = max(d.relWidth, len(d.rel(r.Seq, r.Side())), len(d.rel(r.Ack, 1-r.Side())))
		d.winWidth = max(d.winWidth, len(d.window(r)))
		// All the flags: an Xmas-tree probe cut to five read SFRPA,
		// its URG, ECE and CWR gone.
		d.flagsWidth = max(d.flagsWidth, len(flagLetters(r.Flags)))
	}
	return d
}

// withPath adds the findings pa gave the flow, point d.cap of connection
// conn: its status counts them, the ladder marks the packets they name
// (not those about the flow as a whole, NAT or clocks, which sit on its
// first frame, as the connection's ladder leaves them unmarked), and the
// findings pane lists them among the flow's own, by frame, whole.
func (d detailModel) withPath(pa *analysis.Path, conn *analysis.Connection) detailModel {
	d.pa, d.flines = pa, nil
	d.path = slices.Clone(pa.Findings[d.flow])
	if len(d.path) == 0 {
		return d
	}
	slices.SortStableFunc(d.path, func(a, b analysis.PathFinding) int { return cmp.Compare(a.Frame, b.Frame) })
	d.pwords = pathWords{pa: pa, c: conn, g: d.c.g}
	d.status = pa.Status(d.flow)
	for _, fi := range d.path {
		if fi.Point != d.cap || flowLevel(fi.Code) {
			continue
		}
		if n, ok := d.notes[fi.Frame]; !ok || fi.Code.Severity() > n.worst {
			d.notes[fi.Frame] = frameNote{worst: fi.Code.Severity(), path: fi, isPath: true}
		}
	}
	// Merged by frame: each path finding before the first of the flow's
	// own on a later frame.
	items := make([]paneFinding, 0, len(d.flow.Findings)+len(d.path))
	k := 0
	for i, fi := range d.flow.Findings {
		for ; k < len(d.path) && d.path[k].Frame < fi.Frame; k++ {
			items = append(items, paneFinding{flow: -1, path: k})
		}
		items = append(items, paneFinding{flow: i, path: -1})
	}
	for ; k < len(d.path); k++ {
		items = append(items, paneFinding{flow: -1, path: k})
	}
	d.items, d.flines = items, nil
	return d
}

// itemFrame is the frame a finding of the pane names.
func (d *detailModel) itemFrame(i int) uint64 {
	if it := d.items[i]; it.flow >= 0 {
		return d.flow.Findings[it.flow].Frame
	}
	return d.path[d.items[i].path].Frame
}

// itemSeverity is the severity of a finding of the pane.
func (d *detailModel) itemSeverity(i int) analysis.Severity {
	if it := d.items[i]; it.flow >= 0 {
		return d.flow.Findings[it.flow].Severity()
	}
	return d.path[d.items[i].path].Code.Severity()
}

// window returns a segment's window as the ladder shows it: in bytes,
// scaled by its sender's window scale, as tshark's Win= ("64" on lo was
// 65536 bytes); the field with a "?" when the scale is unknown.
func (d *detailModel) window(r analysis.PacketRef) string {
	n, ok := d.flow.WindowBytes(r)
	if !ok {
		return strconv.FormatUint(n, 10) + "?"
	}
	return strconv.FormatUint(n, 10)
}

// init starts the drill-down on the flow's most telling packet: the frame
// of its first error (a path finding's too), else the first packet.
func (d detailModel) init() (detailModel, tea.Cmd) {
	for i := range d.items {
		if d.itemSeverity(i) == analysis.Error {
			d.cursor = d.refIndex(d.itemFrame(i))
			break
		}
	}
	d.clampLadder()
	return d, d.ensure()
}

// at moves the ladder to a frame and reads the packets around it.
func (d detailModel) at(frame uint64) (detailModel, tea.Cmd) {
	d.cursor = d.refIndex(frame)
	d.clampLadder()
	d.fix()
	return d, d.ensure()
}

// refIndex returns the index in Refs of a frame (0 when absent).
func (d *detailModel) refIndex(frame uint64) int {
	for i, r := range d.flow.Refs {
		if r.Frame == frame && r.Bits&analysis.RefFragment == 0 {
			return i
		}
	}
	for i, r := range d.flow.Refs {
		if r.Frame == frame {
			return i
		}
	}
	return 0
}

// ensure asks for the packets around the cursor when they have not been
// read back yet.
func (d *detailModel) ensure() tea.Cmd {
	if len(d.flow.Refs) == 0 || d.requested[d.cursor] {
		return nil
	}
	lo := max(0, d.cursor-readBehind)
	hi := min(len(d.flow.Refs), d.cursor+readAhead)
	// Start at the first fragment of a datagram the read would start
	// inside of, or right after (the frame that completes it), so that
	// the decoder reassembles it: a datagram's earlier fragments come
	// right before that frame in Refs. Started at that frame, the read
	// showed its segment as "reassembled from fragments (their bytes
	// are not shown)" whenever a jump or a scroll put it first in a
	// read.
	for lo > 0 && d.flow.Refs[lo-1].Bits&analysis.RefFragment != 0 {
		lo--
	}
	for i := lo; i < hi; i++ {
		d.requested[i] = true
	}
	refs := d.flow.Refs[lo:hi]
	return readPacketsCmd(d.store, d.cap, d.flow.ID, refs, lo)
}

// Update handles the drill-down's keys and the packets read back.
func (d detailModel) Update(msg tea.Msg) (detailModel, tea.Cmd) {
	switch msg := msg.(type) {
	case packetsMsg:
		if msg.cap == d.cap && msg.flow == d.flow.ID {
			for i, info := range msg.infos {
				d.infos[msg.first+i] = info
			}
		}
		return d, nil
	case tea.KeyPressMsg:
		var cmd tea.Cmd
		d, cmd = d.updateKeys(msg)
		d.fix()
		return d, cmd
	}
	return d, nil
}

func (d detailModel) updateKeys(msg tea.KeyPressMsg) (detailModel, tea.Cmd) {
	k := d.c.keys
	switch {
	case key.Matches(msg, k.NextPane):
		d.pane = (d.pane + 1) % numPanes
		return d, nil
	case key.Matches(msg, k.PrevPane):
		d.pane = (d.pane + numPanes - 1) % numPanes
		return d, nil
	case key.Matches(msg, k.Relative):
		d.absolute = !d.absolute
		return d, nil
	case key.Matches(msg, k.Hex):
		d.hex = !d.hex
		d.pktOff = 0
		return d, nil
	case key.Matches(msg, k.Jump):
		if d.fcursor < len(d.items) {
			d.cursor = d.refIndex(d.itemFrame(d.fcursor))
			d.pane = paneLadder
			d.pktOff = 0
			d.clampLadder()
			return d, d.ensure()
		}
		return d, nil
	}
	delta, ok := d.moveDelta(msg)
	if !ok {
		return d, nil
	}
	switch d.pane {
	case paneLadder:
		before := d.cursor
		d.cursor += delta
		d.clampLadder()
		if d.cursor != before {
			d.pktOff = 0
		}
		return d, d.ensure()
	case panePacket:
		d.pktOff = max(0, d.pktOff+delta) // clamped when drawn
	case paneFindings:
		last := len(d.items) - 1
		d.fbottom = delta > 0 && d.fcursor == last
		d.fcursor = max(0, min(d.fcursor+delta, last))
	}
	return d, nil
}

// moveDelta turns a movement key into a number of rows for the focused
// pane.
func (d *detailModel) moveDelta(msg tea.KeyPressMsg) (int, bool) {
	k := d.c.keys
	h := max(1, d.paneHeight())
	const far = 1 << 30
	switch {
	case key.Matches(msg, k.Up):
		return -1, true
	case key.Matches(msg, k.Down):
		return 1, true
	case key.Matches(msg, k.Top):
		return -far, true
	case key.Matches(msg, k.Bottom):
		return far, true
	case key.Matches(msg, k.HalfPageDown):
		return h / 2, true
	case key.Matches(msg, k.HalfPageUp):
		return -h / 2, true
	case key.Matches(msg, k.PageDown):
		return h, true
	case key.Matches(msg, k.PageUp):
		return -h, true
	}
	return 0, false
}

func (d *detailModel) clampLadder() {
	n := len(d.flow.Refs)
	d.cursor = max(0, min(d.cursor, n-1))
}

// detailLayout is the drill-down's geometry at the current size.
type detailLayout struct {
	wide                    bool
	summary                 []string
	ladderH, packetH, findH int // rows of content (titles aside)
	packetW, findW          int
}

// paneHeight is the content height of the focused pane.
func (d *detailModel) paneHeight() int {
	lay := d.layout()
	switch d.pane {
	case panePacket:
		return lay.packetH
	case paneFindings:
		return lay.findH
	}
	return lay.ladderH
}

// layout decides how the panes share the screen, under the summary and
// above the help line. Small: the ladder, then the packet or the findings
// (whichever has or last had the focus) in one pane. Wide: the ladder,
// then the packet and the findings side by side.
func (d *detailModel) layout() detailLayout {
	c := d.c
	lay := detailLayout{wide: c.wide()}
	lay.summary = d.summaryLines(c.width)
	rest := c.height - len(lay.summary) - 1 - 2 // help line, two pane titles
	// The line under the ladder that says where its marks of a capped
	// code stop is taken from the pane below, not from the ladder.
	foot := 0
	if len(d.capped) > 0 {
		foot = 1
	}
	if lay.wide {
		lay.ladderH = max(3, min(len(d.flow.Refs), rest*2/5))
		lay.packetH = max(1, rest-lay.ladderH-foot)
		lay.findH = lay.packetH
		lay.packetW = max(74, c.width*3/5)
		lay.findW = c.width - lay.packetW - 1
		return lay
	}
	lay.ladderH = max(3, min(len(d.flow.Refs), rest/3))
	lay.packetH = max(1, rest-lay.ladderH-foot)
	lay.findH = lay.packetH
	lay.packetW, lay.findW = c.width, c.width
	return lay
}

// View draws the drill-down.
func (d *detailModel) View() []string {
	lay := d.layout()
	lines := append([]string(nil), lay.summary...)
	lines = append(lines, d.ladderLines(d.c.width, lay.ladderH)...)
	if len(d.capped) > 0 {
		lines = append(lines, d.c.styles.Dim.Render(d.capLine(d.c.width)))
	}
	if lay.wide {
		left := d.packetPane(lay.packetW, lay.packetH)
		right := d.findingsPane(lay.findW, lay.findH)
		vl := d.c.styles.Border.Render(d.c.g.VLine)
		for i := range max(len(left), len(right)) {
			var l, r string
			if i < len(left) {
				l = left[i]
			}
			if i < len(right) {
				r = right[i]
			}
			lines = append(lines, padRight(l, lay.packetW, "")+vl+truncate(r, lay.findW, ""))
		}
		return lines
	}
	if d.pane == paneFindings {
		return append(lines, d.findingsPane(d.c.width, lay.findH)...)
	}
	return append(lines, d.packetPane(d.c.width, lay.packetH)...)
}

// paneTitle draws a pane's title, marked when it has the focus.
func (d *detailModel) paneTitle(p pane, text string) string {
	st := d.c.styles
	if d.pane == p {
		return st.PaneTitleFocused.Render(d.c.g.Cursor + " " + text)
	}
	return st.PaneTitle.Render("  " + text)
}

// summaryLines are the flow's title, its facts, both sides' ISN and
// options, and the wrong ACK, if any, on one line with absolute numbers.
func (d *detailModel) summaryLines(w int) []string {
	c := d.c
	st, g := c.styles, c.g
	f := d.flow
	h := &f.Handshake
	title := statusStyle(st, d.status).Render(StatusGlyph(g, d.status)+" flow "+strconv.Itoa(f.ID)) + "  " +
		st.Title.Render(f.Client().String()+" "+g.Arrow+" "+f.Server().String())
	if f.DirectionGuessed {
		title += st.Dim.Render(" (direction guessed)")
	}
	title += "  " + st.Dim.Render(c.safe(d.capName))
	lines := []string{truncate(title, w, g.Ellipsis)}

	facts := []string{"handshake " + hsStyle(st, h.Status).Render(h.Status.String()),
		fmt.Sprintf("%d packet%s", f.Packets, plural(f.Packets)),
		fmt.Sprintf("%d bytes", f.Bytes),
		Duration(f.End - f.Start)}
	if rtt, ok := h.IRTT(); ok {
		facts = append(facts, "iRTT "+Duration(rtt))
	}
	if f.VLAN != 0 {
		facts = append(facts, fmt.Sprintf("VLAN %d", f.VLAN))
	}
	if f.Tunnel != analysis.TunnelNone {
		facts = append(facts, "in "+f.Tunnel.String())
	}
	lines = append(lines, fitParts(facts, g.Sep, "  ", w, g.Ellipsis)...)

	isn := func(name string, have bool, v uint32, o analysis.SideOptions) string {
		s := fmt.Sprintf("%s ISN ", name)
		if !have {
			return s + st.Dim.Render("not seen")
		}
		s += fmt.Sprintf("%-10d", v)
		if !o.Seen {
			return s
		}
		opt := []string{}
		// Options the snap length cut off are not known to be missing.
		no := func(name string) {
			if !o.Cut {
				opt = append(opt, "no "+name)
			}
		}
		if o.HasMSS {
			opt = append(opt, fmt.Sprintf("MSS %d", o.MSS))
		} else {
			no("MSS")
		}
		if o.HasWScale {
			if o.WScale > 14 {
				opt = append(opt, fmt.Sprintf("WS %d (as 14)", o.WScale))
			} else {
				opt = append(opt, fmt.Sprintf("WS %d", o.WScale))
			}
		} else {
			no("WS")
		}
		if o.SACKPerm {
			opt = append(opt, "SACK")
		} else {
			no("SACK")
		}
		if o.HasTS {
			opt = append(opt, "TS")
		} else {
			no("TS")
		}
		if o.TFO {
			opt = append(opt, "TFO")
		}
		if o.Cut {
			opt = append(opt, "options not captured whole")
		}
		return s + "  " + strings.Join(opt, g.Sep)
	}
	lines = append(lines, truncate(isn("client", h.HaveSyn, h.ClientISN, h.Client), w, g.Ellipsis))
	lines = append(lines, truncate(isn("server", h.HaveSynAck, h.ServerISN, h.Server), w, g.Ellipsis))
	if h.AckChecked && h.ActualAck != h.ExpectedAck {
		lines = append(lines, d.numbersLine(d.ackLine(), h.ExpectedAck, h.ActualAck, w)...)
	}
	if fi, ok := f.First(analysis.CodeSynAckAckMismatch); ok {
		exp, act := uint32(fi.A), uint32(fi.B)
		s := fmt.Sprintf("SYN-ACK's ACK expected %d (%s), got %d (%+d): %s", exp, h.SynAckExpected(), act, int32(act-exp),
			h.SynAckAckWhy(exp, act))
		lines = append(lines, d.numbersLine(s, exp, act, w)...)
	}
	return lines
}

// ackLine says, with absolute numbers, what the third segment acknowledged
// and why.
func (d *detailModel) ackLine() string {
	h := &d.flow.Handshake
	exp, act := h.ExpectedAck, h.ActualAck
	diff := int32(act - exp)
	s := fmt.Sprintf("ACK expected %d (server ISN+1), got %d (%+d): ", exp, act, diff)
	switch {
	case h.SynAckPayload > 0 && act == exp+uint32(h.SynAckPayload):
		s += fmt.Sprintf("the SYN-ACK carried %d byte%s", h.SynAckPayload, plural(int(h.SynAckPayload)))
	case h.SynAckPadding > 0 && diff == h.SynAckPadding:
		s += fmt.Sprintf("the SYN-ACK left here with %d byte%s of Ethernet padding", h.SynAckPadding, plural(int(h.SynAckPadding)))
	default:
		s += h.AckWhy() // the words of the finding's message
	}
	return s
}

// numbersLine wraps a plain sentence and styles the expected and actual
// numbers in it.
func (d *detailModel) numbersLine(s string, exp, act uint32, w int) []string {
	st := d.c.styles
	es, as := strconv.FormatUint(uint64(exp), 10), strconv.FormatUint(uint64(act), 10)
	var out []string
	for _, line := range plainWrap(s, w, "", "  ") {
		line = strings.Replace(line, es, st.Expected.Render(es), 1)
		line = strings.Replace(line, as, st.Actual.Render(as), 1)
		out = append(out, line)
	}
	return out
}

// rel returns a sequence number as shown: relative to its side's base
// unless absolute numbers were asked for.
func (d *detailModel) rel(v uint32, side analysis.Side) string {
	if d.absolute || !d.haveBase[side] {
		return strconv.FormatUint(uint64(v), 10)
	}
	base := d.clientBase
	if side == analysis.FromServer {
		base = d.serverBase
	}
	return strconv.FormatUint(uint64(v-base), 10)
}

// ladderCols are the widths of the ladder's columns.
type ladderCols struct{ frame, num, win, flags int }

func (d *detailModel) ladderCols() ladderCols {
	lc := ladderCols{frame: len("frame"), num: d.relWidth, win: d.winWidth, flags: d.flagsWidth}
	if n := len(d.flow.Refs); n > 0 {
		lc.frame = max(lc.frame, len(strconv.FormatUint(d.flow.Refs[n-1].Frame, 10)))
	}
	if d.absolute {
		lc.num = 10
	}
	return lc
}

// ladderLines draws the packet ladder: its header and the rows on screen.
func (d *detailModel) ladderLines(w, h int) []string {
	st, g := d.c.styles, d.c.g
	lc := d.ladderCols()
	mode := "relative"
	if d.absolute {
		mode = "absolute"
	}
	// Narrower than the row and its verdict glyph (60 columns), the
	// time goes: every row's ✗ and the mode were cut off instead.
	cellsW := lc.frame + 1 + 9 + 1 + lc.flags + 1 + 2*lc.num + 2 + 5 + 1 + lc.win
	noTime := 3+cellsW+2+9 > w // the glyph and a few words
	timeHead := padLeft("time", 9) + " "
	if noTime {
		timeHead = ""
	}
	head := fmt.Sprintf("%s %s%s %s %s %s %s %s", padLeft("frame", lc.frame), timeHead, padRight("flags", lc.flags, ""),
		padLeft("seq", lc.num), padLeft("ack", lc.num), padLeft("len", 5), padLeft("win", lc.win), "  ("+mode+")")
	title := d.paneTitle(paneLadder, "") + st.Header.Render(head)
	off := max(0, min(d.offset, len(d.flow.Refs)-h))
	end := min(len(d.flow.Refs), off+h)
	// One column between the title and the note, where others have two:
	// at 80 columns it makes room for "▲14k▼6k".
	note := ladderNote(g, off, len(d.flow.Refs)-end, w-width(title)-1)
	lines := []string{rightNote(title, note, st.Dim, w, "")}
	if note != "" && width(title)+1+width(note) <= w {
		lines[0] = title + strings.Repeat(" ", w-width(title)-width(note)) + st.Dim.Render(note)
	}
	hs := &d.flow.Handshake
	start := d.flow.Start
	for i := off; i < end; i++ {
		r := d.flow.Refs[i]
		side := r.Side()
		arrow := g.ToServer
		if side == analysis.FromServer {
			arrow = g.ToClient
		}
		t := fmt.Sprintf("%.6f", float64(r.Time-start)/1e9)
		var seq, ack, ln, win, flags string
		if r.Bits&analysis.RefFragment != 0 {
			flags = "frag"
		} else {
			flags = flagLetters(r.Flags)
			seq = d.rel(r.Seq, side)
			if r.Flags&analysis.FlagACK != 0 {
				ack = d.rel(r.Ack, 1-side)
			}
			ln = strconv.FormatUint(uint64(r.Len), 10)
			win = d.window(r)
		}
		cells := []string{padLeft(strconv.FormatUint(r.Frame, 10), lc.frame), padLeft(t, 9), padRight(flags, lc.flags, ""),
			padLeft(seq, lc.num), padLeft(ack, lc.num), padLeft(ln, 5), padLeft(win, lc.win)}
		join := func(cells []string) string {
			if noTime {
				return cells[0] + " " + strings.Join(cells[2:], " ")
			}
			return strings.Join(cells, " ")
		}
		note, hasNote := d.notes[r.Frame]
		glyph, words := " ", ""
		if hasNote && r.Bits&analysis.RefFragment == 0 {
			glyph = SeverityGlyph(g, note.worst)
			used := 2 + 1 + len(join(cells)) + 3
			if note.isPath {
				words = truncate(d.c.safe(d.pwords.short(note.path)), max(0, w-used), g.Ellipsis)
			} else {
				words = shortFinding(note.first, g, max(0, w-used))
			}
		}
		selected := i == d.cursor
		if selected {
			line := d.c.cursorLead(" " + arrow + " " + join(cells) + " " + glyph + " " + words)
			sty := st.Selected
			if d.pane != paneLadder {
				sty = st.Unfocused
			}
			lines = append(lines, sty.Render(padRight(line, w, g.Ellipsis)))
			continue
		}
		// The wrong ACK and payload on a SYN stand out in the ladder too.
		if hs.AckChecked && hs.ActualAck != hs.ExpectedAck && r.Frame == hs.AckFrame && ack != "" {
			cells[4] = st.Actual.Render(cells[4])
		}
		if r.Flags&analysis.FlagSYN != 0 && r.Len > 0 {
			cells[5] = st.PayloadOnSYN.Render(cells[5])
		}
		if hasNote {
			glyph = severityStyle(st, note.worst).Render(glyph)
			words = st.Dim.Render(words)
		}
		arrowSt := st.Dim
		lines = append(lines, truncate(" "+arrowSt.Render(arrow)+" "+join(cells)+" "+glyph+" "+words, w, g.Ellipsis))
	}
	for len(lines) < h+1 {
		lines = append(lines, "")
	}
	return lines
}

// capLine is the line under the ladder of a flow with more findings of a
// code than it keeps: the ladder marks only the frames of kept findings,
// and the rows after the last one looked clean. A flow of one segment sent
// 1,000,000 times marked frames 5 to 1004 "! retransmission" and left the
// 999,000 rows after them bare, as if the retransmissions had stopped.
// The findings past the cap are counted, not kept, so which frames they
// are on is not known: the line gives the frame the marks of the code
// stop at and how many are not marked, and no row gets a mark the
// analysis did not give it.
func (d *detailModel) capLine(w int) string {
	g := d.c.g
	lead := "  " + g.Ellipsis + " "
	var forms []string
	if len(d.capped) == 1 {
		cc := d.capped[0]
		forms = []string{
			fmt.Sprintf("%s marks stop at frame %d: %s more not marked", cc.code, cc.last, commas(uint64(cc.more))),
			fmt.Sprintf("%s marks stop at %d: +%s", cc.code, cc.last, commas(uint64(cc.more))),
		}
	} else {
		var long, mid, short []string
		for _, cc := range d.capped {
			n := commas(uint64(cc.more))
			long = append(long, fmt.Sprintf("%s at frame %d (%s more)", cc.code, cc.last, n))
			mid = append(mid, fmt.Sprintf("%s at %d (%s more)", cc.code, cc.last, n))
			short = append(short, fmt.Sprintf("%s at %d (+%s)", cc.code, cc.last, n))
		}
		forms = []string{
			"marks stop, the rest not marked: " + strings.Join(long, g.Sep),
			"marks stop: " + strings.Join(mid, g.Sep),
			"marks stop: " + strings.Join(short, g.Sep),
		}
	}
	for _, f := range forms {
		if width(lead+f) <= w {
			return lead + f
		}
	}
	return truncate(lead+forms[len(forms)-1], w, g.Ellipsis)
}

// ladderNote is the note of the packets out of view that ends the
// ladder's title, in room columns after one of space: scrollNote's where
// it fits after two, else the
// counts rounded and packed ("▲14k▼6k"), else the arrows alone, else
// none. The title's mode, "(relative)" or "(absolute)", is never cut for
// it: with small ISNs 1001 reads either way, and the drill-down is where
// ACK = ISN+1 is checked. At 80 columns a flow of 20,000 packets left
// room for 7 columns, and rightNote cut "(relative)" to "(relativ".
func ladderNote(g themes.Glyphs, above, below, room int) string {
	// scrollNote's forms keep the two columns other titles have.
	if s := scrollNote(g, above, below, "packet", room-1); width(s) <= room-1 {
		return s
	}
	var packed, arrows string
	if above > 0 {
		packed, arrows = g.SortAsc+roundCount(above), g.SortAsc
	}
	if below > 0 {
		packed, arrows = packed+g.SortDesc+roundCount(below), arrows+g.SortDesc
	}
	for _, s := range []string{packed, arrows} {
		if width(s) <= room {
			return s
		}
	}
	return ""
}

// roundCount writes a count in at most four columns, rounded down: 999,
// 14k, 6M, 2G.
func roundCount(n int) string {
	switch {
	case n < 1000:
		return strconv.Itoa(n)
	case n < 1_000_000:
		return strconv.Itoa(n/1000) + "k"
	case n < 1_000_000_000:
		return strconv.Itoa(n/1_000_000) + "M"
	}
	return strconv.Itoa(n/1_000_000_000) + "G"
}

// findingsPane draws the flow's findings, each with its message: only
// the lines on screen are styled.
func (d *detailModel) findingsPane(w, h int) []string {
	st, g := d.c.styles, d.c.g
	if len(d.items) == 0 {
		return []string{d.tabs(paneFindings, w, 0, 0, ""), st.Dim.Render("  no findings: nothing wrong was seen in this flow")}
	}
	fl := d.findingLines(w)
	off := max(0, min(d.foffset, len(fl.lines)-h))
	end := min(len(fl.lines), off+h)
	// The findings not wholly on screen: above, those that start above
	// it; below, those that end below it (the last with the note of
	// findings not kept).
	above, below := 0, 0
	for i, start := range fl.starts {
		stop := len(fl.lines)
		if i+1 < len(fl.starts) {
			stop = fl.starts[i+1]
		}
		if start < off {
			above++
		}
		if stop > end {
			below++
		}
	}
	lines := []string{d.tabs(paneFindings, w, above, below, "finding")}
	for i := off; i < end; i++ {
		text := fl.lines[i]
		switch {
		case fl.owner[i] < 0:
			text = st.Dim.Render(text)
		case !fl.head[i]:
		case fl.owner[i] == d.fcursor && d.pane == paneFindings:
			if d.c.noAttrs {
				text = g.Cursor + text
			}
			text = st.Selected.Render(padRight(text, w, g.Ellipsis))
		default:
			text = severityStyle(st, d.itemSeverity(fl.owner[i])).Render(truncate(text, w, g.Ellipsis))
		}
		lines = append(lines, text)
	}
	return lines
}

// findingLines lays out every finding at width w (a head line, then its
// message wrapped), once per width.
func (d *detailModel) findingLines(w int) *findingLayout {
	if d.flines != nil && d.flines.width == w {
		return d.flines
	}
	g := d.c.g
	f := d.flow
	fl := &findingLayout{width: w}
	add := func(s string, owner int, head bool) {
		fl.lines = append(fl.lines, s)
		fl.owner = append(fl.owner, owner)
		fl.head = append(fl.head, head)
	}
	for i, it := range d.items {
		fl.starts = append(fl.starts, len(fl.lines))
		var head, msg string
		if it.flow >= 0 {
			fi := f.Findings[it.flow]
			head = fmt.Sprintf("%s frame %d  %s", SeverityGlyph(g, fi.Severity()), fi.Frame, fi.Code)
			if fi.RelatedFrame != 0 {
				head += fmt.Sprintf(" (see frame %d)", fi.RelatedFrame)
			}
			msg = f.Message(fi)
			if d.pa != nil {
				msg = d.pa.FlowMessage(f, fi)
			}
		} else {
			// In the words of the connection's view and --report.
			fi := d.path[it.path]
			head = fmt.Sprintf("%s frame %d  %s", SeverityGlyph(g, fi.Code.Severity()), fi.Frame, fi.Code)
			msg = d.pwords.sentence(fi)
		}
		add(head, i, true)
		for _, l := range plainWrap(d.c.safe(msg), w, "    ", "    ") {
			add(l, i, false)
		}
	}
	// What the cap left out, under the last finding, which brings it on
	// screen (fix).
	for _, cc := range d.capped {
		s := fmt.Sprintf("%s %s more %s not kept: only the first %s are listed", g.Ellipsis, commas(uint64(cc.more)), cc.code,
			commas(uint64(cc.kept)))
		for _, l := range plainWrap(s, w, "  ", "    ") {
			add(l, -1, false)
		}
	}
	d.flines = fl
	return fl
}

// fix scrolls each pane so that its cursor is on screen. Update calls it
// after every change, and the root on a resize.
func (d *detailModel) fix() {
	if d.flow == nil {
		return
	}
	lay := d.layout()
	h := lay.ladderH
	d.clampLadder()
	if d.cursor < d.offset {
		d.offset = d.cursor
	}
	if d.cursor >= d.offset+h {
		d.offset = d.cursor - h + 1
	}
	d.offset = max(0, min(d.offset, len(d.flow.Refs)-h))

	if len(d.items) > 0 {
		fl := d.findingLines(lay.findW)
		all, starts := fl.lines, fl.starts
		cur := starts[min(d.fcursor, len(starts)-1)]
		end := len(all)
		if d.fcursor+1 < len(starts) {
			end = starts[d.fcursor+1]
		}
		if cur < d.foffset {
			d.foffset = cur
		}
		if end > d.foffset+lay.findH {
			d.foffset = min(cur, end-lay.findH)
		}
		d.foffset = max(0, min(d.foffset, len(all)-lay.findH))
		// Start at a finding's first line: back at the one the pane
		// starts inside of when that keeps the cursor's finding whole on
		// screen (as much of it as fits), else on at the next. The last
		// finding's extent takes in the notes of the findings not kept:
		// going back whenever the cursor's first line stayed on screen
		// left those notes one row below the pane whatever the keys ("▼ 1
		// more finding below" for good), and cut the end of a finding
		// scrolled down to.
		if i := sort.SearchInts(starts, d.foffset+1) - 1; i >= 0 && starts[i] < d.foffset {
			switch {
			case min(end, cur+lay.findH) <= starts[i]+lay.findH:
				d.foffset = starts[i]
			case i+1 < len(starts) && starts[i+1] <= len(all)-lay.findH:
				d.foffset = starts[i+1] // at most cur: the pane starts above it
			}
		}
		// Where the last finding and the notes under it do not fit (two
		// codes past the cap at 60x15), a move down from the last finding
		// goes on to the end.
		if d.fbottom && d.fcursor == len(starts)-1 {
			d.foffset = max(0, len(all)-lay.findH)
		}
	}
	n := len(d.packetLines(lay.packetW))
	d.pktOff = max(0, min(d.pktOff, n-lay.packetH))
}

// sumCounts counts every finding of the flow, kept or not.
func sumCounts(f *analysis.Flow) uint64 {
	var n uint64
	for _, c := range f.Counts() {
		n += uint64(c)
	}
	return n
}

// findingsTitle names the findings pane with the flow's findings: all of
// them, and how many the pane lists when the cap left some out
// ("findings (1,000,001; 1,002 listed)"). It gave the number listed alone,
// 1002 for a flow of 1,000,001.
func (d *detailModel) findingsTitle() string {
	listed := uint64(len(d.items))
	if all := sumCounts(d.flow) + uint64(len(d.path)); all > listed {
		return fmt.Sprintf("findings (%s; %s listed)", commas(all), commas(listed))
	}
	return fmt.Sprintf("findings (%s)", commas(listed))
}

// tabs is the title line of the lower pane: in the small layout it names
// both the packet and the findings, the one shown in brackets. It ends
// with how many of the pane's rows (what) are out of view above and below.
func (d *detailModel) tabs(shown pane, w, above, below int, what string) string {
	names := d.tabNames(shown, w)
	note := scrollNote(d.c.g, above, below, what, w-width(names)-2)
	return rightNote(names, note, d.c.styles.Dim, w, "")
}

// tabNames is tabs without its note.
func (d *detailModel) tabNames(shown pane, w int) string {
	st := d.c.styles
	pkt := "packet"
	if d.cursor < len(d.flow.Refs) {
		pkt = fmt.Sprintf("frame %d", d.flow.Refs[d.cursor].Frame)
		if d.hex {
			pkt += " hex"
		}
	}
	find := d.findingsTitle()
	if d.c.wide() {
		if shown == paneFindings {
			return truncate(d.paneTitle(paneFindings, find), w, "")
		}
		return truncate(d.paneTitle(panePacket, pkt), w, "")
	}
	label := func(p pane, s string) string {
		if p == shown {
			return "[" + s + "]"
		}
		return st.Dim.Render(" " + s + " ")
	}
	marker := "  "
	if d.pane == shown {
		marker = d.c.g.Cursor + " "
	}
	text := label(panePacket, pkt) + " " + label(paneFindings, find)
	if d.pane == shown {
		return truncate(st.PaneTitleFocused.Render(marker)+text, w, "")
	}
	return truncate(marker+text, w, "")
}
