package ui

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/synscope/synscope/analysis"
	"github.com/synscope/synscope/themes"
)

// Row is one flow of the list: its summary and the capture it is in (an
// index into the sources).
type Row struct {
	Cap int
	analysis.FlowSummary
	// A connection's row in path mode (Cap is pathCap, ID the
	// connection's): bit i of Present is set when point i saw it; Verdict
	// is its most severe path finding, if any is a warning or an error.
	// The summary is its flow at the first point that saw it.
	Present    uint64
	Verdict    analysis.PathFinding
	HasVerdict bool
	Short      string // the verdict in a few words
}

// flowRef names a flow across captures.
type flowRef struct {
	cap, id int
}

func (r *Row) ref() flowRef { return flowRef{r.Cap, r.ID} }

// duration is the flow's span of capture time.
func (r *Row) duration() int64 { return r.End - r.Start }

// sortColumn is a column the list can be sorted by.
type sortColumn int

// The sort columns, in the order `s` cycles through them.
const (
	sortStatus sortColumn = iota
	sortID
	sortClient
	sortServer
	sortHandshake
	sortPackets
	sortBytes
	sortDuration
	sortFinding
	numSortColumns
)

func (c sortColumn) String() string {
	return [...]string{"status", "id", "client", "server", "handshake", "packets", "bytes", "duration", "finding"}[c]
}

// compareRows orders two rows by the column, ties broken by capture and
// flow id so that the order is total and stable across snapshots.
func compareRows(a, b *Row, col sortColumn) int {
	var c int
	switch col {
	case sortStatus:
		c = cmp.Compare(a.Status, b.Status)
	case sortClient:
		c = a.Client.Compare(b.Client)
	case sortServer:
		c = a.Server.Compare(b.Server)
	case sortHandshake:
		c = cmp.Compare(a.Handshake.String(), b.Handshake.String())
	case sortPackets:
		c = cmp.Compare(a.Packets, b.Packets)
	case sortBytes:
		c = cmp.Compare(a.Bytes, b.Bytes)
	case sortDuration:
		c = cmp.Compare(a.duration(), b.duration())
	case sortFinding:
		// Most severe first, then by code.
		c = cmp.Compare(findingRank(b), findingRank(a))
		if c == 0 && a.HasFirst && b.HasFirst {
			c = cmp.Compare(a.First.Code, b.First.Code)
		}
	}
	return cmp.Or(c, cmp.Compare(a.Cap, b.Cap), cmp.Compare(a.ID, b.ID))
}

func findingRank(r *Row) int {
	switch {
	case r.HasVerdict && (!r.HasFirst || r.Verdict.Code.Severity() >= r.First.Severity()):
		return int(r.Verdict.Code.Severity())
	case !r.HasFirst:
		return -1
	}
	return int(r.First.Severity())
}

// termKind is what one word of a filter tests.
type termKind int

const (
	termText termKind = iota
	termStatus
	termPort
	termHost
	termNet
	termCode
	termHandshake
	termCapture
	termMarked
)

// term is one word of a filter query.
type term struct {
	kind   termKind
	neg    bool
	text   string
	status analysis.Status
	port   uint16
	addr   netip.Addr
	prefix netip.Prefix
	codes  uint64 // bit set of codes
	hs     analysis.HandshakeStatus
	cap    int
}

// query is a parsed filter: every term must hold (AND).
type query struct {
	terms []term
	marks map[flowRef]bool // for "marked"
}

// filterHelp is the reminder of the filter words.
func filterHelp(g themes.Glyphs) string {
	return strings.Join([]string{"text", "status:invalid", "port:443", "host:10.1.2.3", "net:10.0.0.0/8",
		"code:ack_mismatch", "hs:refused", "cap:2", "marked", "-word negates"}, g.Sep)
}

// parseQuery parses a filter: words separated by spaces, each either free
// text (matched on the client and server address:port) or key:value. A
// leading - or ! negates a word.
func parseQuery(s string, ncaps int) (query, error) {
	var q query
	for _, w := range strings.Fields(s) {
		var t term
		if len(w) > 1 && (w[0] == '-' || w[0] == '!') {
			t.neg = true
			w = w[1:]
		}
		k, v, ok := strings.Cut(w, ":")
		// An IPv6 address has colons: "2001:db8::1" is text, not a key.
		if ok && !isKey(k) {
			ok = false
		}
		if !ok {
			if strings.ToLower(w) == "marked" {
				t.kind = termMarked
			} else {
				t.kind, t.text = termText, strings.ToLower(w)
			}
			q.terms = append(q.terms, t)
			continue
		}
		if err := t.parse(strings.ToLower(k), v, ncaps); err != nil {
			return query{}, err
		}
		q.terms = append(q.terms, t)
	}
	return q, nil
}

func isKey(k string) bool {
	switch strings.ToLower(k) {
	case "status", "port", "host", "net", "code", "hs", "handshake", "cap", "capture":
		return true
	}
	return false
}

func (t *term) parse(k, v string, ncaps int) error {
	switch k {
	case "status":
		t.kind = termStatus
		switch strings.ToLower(v) {
		case "invalid", "error", "x":
			t.status = analysis.StatusInvalid
		case "warning", "warn":
			t.status = analysis.StatusWarning
		case "partial":
			t.status = analysis.StatusPartial
		case "ok":
			t.status = analysis.StatusOK
		default:
			return fmt.Errorf("status:%s: use invalid, warning, partial or ok", v)
		}
	case "port":
		n, err := strconv.ParseUint(v, 10, 16)
		if err != nil {
			return fmt.Errorf("port:%s: not a port number", v)
		}
		t.kind, t.port = termPort, uint16(n)
	case "host":
		a, err := netip.ParseAddr(strings.Trim(v, "[]"))
		if err != nil {
			return fmt.Errorf("host:%s: not an IP address", v)
		}
		t.kind, t.addr = termHost, a.Unmap()
	case "net":
		p, err := netip.ParsePrefix(v)
		if err != nil {
			return fmt.Errorf("net:%s: not a network such as 10.0.0.0/8", v)
		}
		t.kind, t.prefix = termNet, p.Masked()
	case "code":
		t.kind = termCode
		t.codes = codesMatching(strings.ToLower(v))
		if t.codes == 0 {
			return fmt.Errorf("code:%s: no finding code is called that (e.g. code:handshake.ack_mismatch)", v)
		}
	case "hs", "handshake":
		t.kind = termHandshake
		found := false
		for h := analysis.HSNotSeen; h <= analysis.HSIncomplete; h++ {
			if h.String() == strings.ToLower(v) || strings.ReplaceAll(h.String(), "_", "-") == strings.ToLower(v) {
				t.hs, found = h, true
			}
		}
		if !found {
			return fmt.Errorf("hs:%s: use complete, invalid, refused, unanswered, incomplete or not_seen", v)
		}
	case "cap", "capture":
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > ncaps {
			return fmt.Errorf("cap:%s: captures are numbered 1 to %d", v, ncaps)
		}
		t.kind, t.cap = termCapture, n-1
	}
	return nil
}

// allCodes lists the finding codes, in order.
var allCodes = func() []analysis.Code {
	var cs []analysis.Code
	for c := analysis.Code(0); c < 64; c++ {
		if c.String() == "unknown" {
			break
		}
		cs = append(cs, c)
	}
	return cs
}()

// codesMatching returns the codes named v: the full name
// (handshake.ack_mismatch), the part after the dot (ack_mismatch), or a
// prefix (handshake. for every handshake code).
func codesMatching(v string) uint64 {
	var set uint64
	for _, c := range allCodes {
		name := c.String()
		_, short, _ := strings.Cut(name, ".")
		if name == v || short == v {
			set |= 1 << c
		}
	}
	if set != 0 {
		return set
	}
	for _, c := range allCodes {
		if strings.HasPrefix(c.String(), v) {
			set |= 1 << c
		}
	}
	return set
}

// match reports whether the row passes every term. buf is scratch space
// for address text.
func (q *query) match(r *Row, buf []byte) bool {
	for i := range q.terms {
		t := &q.terms[i]
		if t.test(r, q.marks, buf) == t.neg {
			return false
		}
	}
	return true
}

func (t *term) test(r *Row, marks map[flowRef]bool, buf []byte) bool {
	switch t.kind {
	case termText:
		buf = r.Client.AppendTo(buf[:0])
		buf = append(buf, ' ')
		buf = r.Server.AppendTo(buf)
		return strings.Contains(strings.ToLower(string(buf)), t.text)
	case termStatus:
		return r.Status == t.status
	case termPort:
		return r.Client.Port() == t.port || r.Server.Port() == t.port
	case termHost:
		return r.Client.Addr().Unmap() == t.addr || r.Server.Addr().Unmap() == t.addr
	case termNet:
		return t.prefix.Contains(r.Client.Addr().Unmap()) || t.prefix.Contains(r.Server.Addr().Unmap())
	case termCode:
		return r.Codes&t.codes != 0
	case termHandshake:
		return r.Handshake == t.hs
	case termCapture:
		if r.Cap == pathCap {
			// A connection: seen at that capture point.
			return r.Present&(1<<t.cap) != 0
		}
		return r.Cap == t.cap
	case termMarked:
		return marks[r.ref()]
	}
	return true
}

// listView is the list as shown: the rows of a snapshot, the indexes of
// those that pass the filter in sorted order, and the column widths they
// need. It is computed off the UI goroutine for large lists.
type listView struct {
	rows   []Row
	idx    []int32
	counts [4]int // per status, over every row

	wClient, wServer, wHS, wID, wPkts int
}

// viewMsg carries a listView computed by viewCmd.
type viewMsg struct {
	gen  int
	view listView
}

// computeView filters and sorts rows.
func computeView(rows []Row, counts [4]int, q query, col sortColumn, desc bool, ncaps int) listView {
	v := listView{rows: rows, counts: counts, idx: make([]int32, 0, len(rows))}
	buf := make([]byte, 0, 128)
	for i := range rows {
		if len(q.terms) == 0 || q.match(&rows[i], buf) {
			v.idx = append(v.idx, int32(i))
		}
	}
	slices.SortFunc(v.idx, func(a, b int32) int {
		c := compareRows(&rows[a], &rows[b], col)
		if desc {
			return -c
		}
		return c
	})
	v.measure(ncaps)
	return v
}

// measure finds the column widths the shown rows need.
func (v *listView) measure(ncaps int) {
	v.wClient, v.wServer, v.wHS, v.wID, v.wPkts = len("client"), len("server"), len("hs"), len("id"), len("pkts")
	buf := make([]byte, 0, 64)
	maxID, maxPkts := 0, 0
	capped := false
	for _, i := range v.idx {
		r := &v.rows[i]
		buf = r.Client.AppendTo(buf[:0])
		v.wClient = max(v.wClient, len(buf))
		buf = r.Server.AppendTo(buf[:0])
		v.wServer = max(v.wServer, len(buf))
		v.wHS = max(v.wHS, len(r.Handshake.String()))
		maxID = max(maxID, r.ID)
		maxPkts = max(maxPkts, r.Packets)
		// Flows of several captures are "2:14"; connections are not.
		if r.Cap != pathCap {
			capped = true
		}
	}
	v.wID = max(v.wID, len(strconv.Itoa(maxID)))
	if ncaps > 1 && capped {
		v.wID += len(strconv.Itoa(ncaps)) + 1
	}
	v.wPkts = max(v.wPkts, len(strconv.Itoa(maxPkts)))
}
