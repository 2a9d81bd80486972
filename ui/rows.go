package ui

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"net/netip"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

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
	// PathCodes is a bit set of the codes of its path findings.
	PathCodes uint32
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
	ka, kb := rowKey(a, col, 0), rowKey(b, col, 0)
	return compareKeys(&ka, &kb, col, nil)
}

// sortKey is what a row is sorted by for one column, in fixed-size
// integers, so that sorting a large list compares keys held together in
// memory instead of rows scattered over it: k1, k2, k3, k4, then the
// capture and the flow id.
type sortKey struct {
	k1, k2, k3, k4 uint64
	tie            uint64 // capture, flow id
	row            int32  // index in the rows
	zoned          bool   // an address with a zone: compare the rows
}

// signed maps an int64 onto a uint64 in the same order.
func signed(v int64) uint64 { return uint64(v) ^ 1<<63 }

// rowKey is row r's key (r is rows[i]) for the column.
func rowKey(r *Row, col sortColumn, i int32) sortKey {
	k := sortKey{tie: tieOf(r.ref()), row: i}
	addr := func(ap netip.AddrPort) {
		a := ap.Addr()
		b := a.As16()
		k.k1 = uint64(a.BitLen())
		k.k2 = binary.BigEndian.Uint64(b[:8])
		k.k3 = binary.BigEndian.Uint64(b[8:])
		k.k4 = uint64(ap.Port())
		k.zoned = a.Zone() != ""
	}
	switch col {
	case sortClient:
		addr(r.Client)
	case sortServer:
		addr(r.Server)
	default:
		k.k1 = rowWord(r, col)
	}
	return k
}

// tieOf is a flow's place in the sort's tie order, capture and flow id, in
// a word (captures, pathCap negative, and ids are far within 32 bits).
func tieOf(ref flowRef) uint64 {
	return uint64(uint32(int32(ref.cap))^1<<31)<<32 | uint64(uint32(ref.id))
}

// rowWord is row r's key for a column other than the addresses: rowKey's
// k1, the only word it sets (0 for the id, whose order is the ties').
func rowWord(r *Row, col sortColumn) uint64 {
	switch col {
	case sortStatus:
		return uint64(r.Status)
	case sortHandshake:
		return uint64(hsRank[uint8(r.Handshake)])
	case sortPackets:
		return signed(int64(r.Packets))
	case sortBytes:
		return signed(r.Bytes)
	case sortDuration:
		return signed(r.duration())
	case sortFinding:
		// Most severe first, then by code; no finding last.
		k := uint64(16-findingRank(r)) << 16
		if r.HasFirst {
			k |= uint64(r.First.Code) + 1
		}
		return k
	}
	return 0
}

// addrWord is an address column's key in one word for an IPv4 address,
// address and port, in the order of rowKey's words (ok false for any other
// address: its key is rowKey's).
func addrWord(ap netip.AddrPort) (k uint64, ok bool) {
	a := ap.Addr()
	if !a.Is4() {
		return 0, false
	}
	b := a.As4()
	return uint64(binary.BigEndian.Uint32(b[:]))<<16 | uint64(ap.Port()), true
}

// compareKeys orders two keys; rows resolves the rare ties on addresses
// with zones (nil: zones are not compared).
func compareKeys(a, b *sortKey, col sortColumn, rows []Row) int {
	if c := cmp.Compare(a.k1, b.k1); c != 0 {
		return c
	}
	if c := cmp.Compare(a.k2, b.k2); c != 0 {
		return c
	}
	if c := cmp.Compare(a.k3, b.k3); c != 0 {
		return c
	}
	if (a.zoned || b.zoned) && rows != nil {
		// netip orders zones before ports.
		ra, rb := &rows[a.row], &rows[b.row]
		x, y := ra.Client.Addr(), rb.Client.Addr()
		if col == sortServer {
			x, y = ra.Server.Addr(), rb.Server.Addr()
		}
		if c := cmp.Compare(x.Zone(), y.Zone()); c != 0 {
			return c
		}
	}
	if c := cmp.Compare(a.k4, b.k4); c != 0 {
		return c
	}
	if c := cmp.Compare(a.tie, b.tie); c != 0 {
		return c
	}
	return cmp.Compare(a.row, b.row)
}

// hsRank orders handshake statuses by their names, as the column shows
// them.
var hsRank = func() [256]uint8 {
	var names []string
	for h := range 256 {
		names = append(names, analysis.HandshakeStatus(h).String())
	}
	uniq := slices.Compact(slices.Sorted(slices.Values(names)))
	var rank [256]uint8
	for h, n := range names {
		rank[h] = uint8(slices.Index(uniq, n))
	}
	return rank
}()

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
	lower  []byte // text, for termText
	status analysis.Status
	port   uint16
	addr   netip.Addr
	prefix netip.Prefix
	codes  uint64 // bit set of codes
	pcodes uint32 // bit set of path codes
	hs     analysis.HandshakeStatus
	cap    int
}

// query is a parsed filter: every term must hold (AND).
type query struct {
	terms []term
	marks map[flowRef]bool // for "marked"
	// path holds the connections of path mode's rows: on a connection,
	// a word about addresses and ports holds when it holds for its flow
	// at any point, as NAT gives it other ones at each (host:X finds the
	// connection seen with X behind the NAT, -host:X leaves it out).
	path *analysis.Path
}

// filterHelp is the reminder of the filter words.
func filterHelp(g themes.Glyphs) string {
	return strings.Join([]string{"text", "status:invalid", "port:443", "host:10.1.2.3", "net:10.0.0.0/8",
		"code:ack_mismatch", "hs:refused", "cap:2", "marked", "-word negates"}, g.Sep)
}

// parseQuery parses a filter: words separated by spaces, each either free
// text (matched on the client and server address:port) or key:value. A
// leading - or ! negates a word. As tcpdump's habits would have it, a key
// and its value may also be two words ("port 443", "host 10.1.2.3"), "not"
// negates the next word, and "and" and "tcp" are no-ops (every word must
// hold, and every flow is TCP); "or" is refused rather than taken for text
// that matches nothing.
func parseQuery(s string, ncaps int) (query, error) {
	var q query
	words := strings.Fields(s)
	neg := false
	for i := 0; i < len(words); i++ {
		w := words[i]
		switch strings.ToLower(w) {
		case "and", "&&", "tcp":
			continue
		case "not", "!":
			neg = !neg
			continue
		case "or", "||":
			return query{}, fmt.Errorf("%s: not supported: every word of the filter must hold", w)
		case "src", "dst":
			return query{}, fmt.Errorf("%s: not supported: host and port match either end", w)
		case "-":
			return query{}, errors.New("-: nothing to negate (-word negates the word)")
		}
		t := term{neg: neg}
		neg = false
		if len(w) > 1 && (w[0] == '-' || w[0] == '!') {
			t.neg = !t.neg
			w = w[1:]
		}
		if isKey(w) && i+1 < len(words) {
			i++
			w += ":" + words[i] // "port 443" is port:443
		}
		k, v, ok := strings.Cut(w, ":")
		if ok && !isKey(k) {
			// An address, or an address and port, has colons:
			// "2001:db8::1", "[2001:db8::1]:443", "10.1.2.3:443" and
			// ":443" are text. Another key is a mistake, which as
			// text would quietly match nothing.
			if !addressText(w) {
				return query{}, fmt.Errorf("%s: unknown key %s (%s)", w, k, keyNames)
			}
			ok = false
		}
		if !ok {
			if strings.ToLower(w) == "marked" {
				t.kind = termMarked
			} else {
				t.kind, t.text = termText, strings.ToLower(w)
				t.lower = []byte(t.text)
			}
			q.terms = append(q.terms, t)
			continue
		}
		if err := t.parse(strings.ToLower(k), v, ncaps); err != nil {
			return query{}, err
		}
		q.terms = append(q.terms, t)
	}
	if neg {
		return query{}, errors.New("not: nothing follows it")
	}
	return q, nil
}

// keyNames lists the filter keys, for the error on another.
const keyNames = "status, port, host, net, code, hs, cap"

// addressText reports whether w, which has a colon, can be (part of) an
// address or an address and port as the list writes them: hex digits,
// dots, colons and brackets, then perhaps a zone after %.
func addressText(w string) bool {
	w, _, _ = strings.Cut(w, "%")
	for _, c := range w {
		switch {
		case c >= '0' && c <= '9', c >= 'a' && c <= 'f', c >= 'A' && c <= 'F',
			c == '.', c == ':', c == '[', c == ']':
		default:
			return false
		}
	}
	return true
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
		t.codes, t.pcodes = codesMatching(strings.ToLower(v)), pathCodesMatching(strings.ToLower(v))
		if t.codes == 0 && t.pcodes == 0 {
			return fmt.Errorf("code:%s: no finding code is called that (e.g. code:ack_mismatch, code:path.dropped)", v)
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

// pathCodesMatching is codesMatching for the path findings' codes
// (path.dropped, dropped, path.): code:path.dropped found nothing in the
// view of several captures, which is there to find such connections.
func pathCodesMatching(v string) uint32 {
	var set uint32
	for c := analysis.PathCode(0); c.String() != "unknown"; c++ {
		name := c.String()
		_, short, _ := strings.Cut(name, ".")
		if name == v || short == v {
			set |= 1 << c
		}
	}
	if set != 0 {
		return set
	}
	for c := analysis.PathCode(0); c.String() != "unknown"; c++ {
		if strings.HasPrefix(c.String(), v) {
			set |= 1 << c
		}
	}
	return set
}

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
		if t.test(r, q, buf) == t.neg {
			return false
		}
	}
	return true
}

func (t *term) test(r *Row, q *query, buf []byte) bool {
	switch t.kind {
	case termText, termPort, termHost, termNet:
		if r.Cap == pathCap && q.path != nil {
			if c := q.path.Conn(r.ID); c != nil {
				for _, f := range c.Flows {
					if f != nil && t.testEnds(f.Client(), f.Server(), buf) {
						return true
					}
				}
				return false
			}
		}
		return t.testEnds(r.Client, r.Server, buf)
	case termStatus:
		return r.Status == t.status
	case termCode:
		return r.Codes&t.codes != 0 || r.PathCodes&t.pcodes != 0
	case termHandshake:
		return r.Handshake == t.hs
	case termCapture:
		if r.Cap == pathCap {
			// A connection: seen at that capture point.
			return r.Present&(1<<t.cap) != 0
		}
		return r.Cap == t.cap
	case termMarked:
		return q.marks[r.ref()]
	}
	return true
}

// testEnds tests a word about addresses and ports on a flow's ends.
func (t *term) testEnds(client, server netip.AddrPort, buf []byte) bool {
	switch t.kind {
	case termText:
		buf = client.AppendTo(buf[:0])
		buf = append(buf, ' ')
		buf = server.AppendTo(buf)
		// Addresses are written in lower case; a zone may not be.
		for i, c := range buf {
			if c >= 'A' && c <= 'Z' {
				buf[i] = c + 'a' - 'A'
			}
		}
		return bytes.Contains(buf, t.lower)
	case termPort:
		return client.Port() == t.port || server.Port() == t.port
	case termHost:
		return client.Addr().Unmap() == t.addr || server.Addr().Unmap() == t.addr
	case termNet:
		return t.prefix.Contains(client.Addr().Unmap()) || t.prefix.Contains(server.Addr().Unmap())
	}
	return false
}

// listView is the list as shown: the rows of a snapshot, the indexes of
// those that pass the filter in sorted order, and the column widths they
// need. It is computed off the UI goroutine for large lists.
type listView struct {
	rows   []Row
	idx    []int32
	counts [4]int // per status, over every row

	wClient, wServer, wHS, wID, wPkts int
	allRows                           bool // no filter: every row is listed
	ncaps                             int  // the ncaps the widths were measured for
	// inOrder: every row was found in the sort's tie order, capture and
	// flow id (snapshots give them so).
	inOrder bool

	// sel is at idx[selPos] (-1: filtered out), when located is set:
	// the command that computed the view looked for it.
	sel     flowRef
	selPos  int
	located bool
}

// locate finds where the flow sel is in the view. Rows in order are
// searched for it, and its index in idx, which are read in order: going
// through idx to the rows, scattered over hundreds of megabytes, took 11
// ms for a flow at the end of a million.
func (v *listView) locate(sel flowRef) {
	v.sel, v.selPos, v.located = sel, -1, true
	if !v.inOrder {
		for pos, i := range v.idx {
			if v.rows[i].ref() == sel {
				v.selPos = pos
				return
			}
		}
		return
	}
	t := tieOf(sel)
	i := sort.Search(len(v.rows), func(i int) bool { return tieOf(v.rows[i].ref()) >= t })
	if i == len(v.rows) || v.rows[i].ref() != sel {
		return
	}
	v.selPos = slices.Index(v.idx, int32(i))
}

// viewMsg carries a listView computed by viewCmd.
type viewMsg struct {
	gen  int
	view listView
}

// computeView filters and sorts rows, in one pass over them: the filter,
// the column widths and the sort keys.
//
// Sorting moves keys held together in memory, never the rows (320 bytes
// each, scattered over hundreds of megabytes: a cache miss or two per
// comparison). Rows come in capture and flow id order, the sort's tie
// order: then a stable radix sort on the column's key alone gives the
// order, in a few passes over the keys (those of a byte all keys share are
// skipped). A key is one word (rowWord), sorted with its row; an IPv4
// address and port two, sorted by sortAddrs; other addresses rowKey's
// four, sorted apart. Otherwise, and for zoned addresses, rowKey's keys
// are compared.
//
// All of it in one buffer of two words a row (sortWords), which the pass
// over the rows fills. Memory touched for the first time comes slowly
// (page faults: 2 to 3 ms a megabyte with 1.9 GB in use), and the buffers
// sorts took besides, from a sync.Pool, were new whenever those put back
// were of the wrong size, on another P, or dropped by the collector,
// which made a sort two to three times as long as the same sort again
// (synscope on synbench's SYN flood of a million flows: the first sort by
// handshake 220 ms, the next ones 65 to 90; one by server 284 ms, 53 of
// them for a new 16 MB).
//
// prev is the view shown (zero if none). When it was of the same rows, the
// rows' order it found is taken; when it was unfiltered, and this one is
// unfiltered too (a sort), its column widths are taken as they are,
// rather than measured again on every row (a million rows' addresses took
// a third of a sort's time).
func computeView(rows []Row, counts [4]int, q query, col sortColumn, desc bool, ncaps int, prev listView) listView {
	v := listView{rows: rows, counts: counts, allRows: len(q.terms) == 0, ncaps: ncaps}
	// prev holds its rows: while it does, no other rows can be at their
	// address.
	sameRows := len(rows) > 0 && len(prev.rows) == len(rows) && &prev.rows[0] == &rows[0]
	sameWidths := v.allRows && prev.allRows && sameRows && prev.ncaps == ncaps
	if sameWidths {
		v.wClient, v.wServer, v.wHS, v.wID, v.wPkts = prev.wClient, prev.wServer, prev.wHS, prev.wID, prev.wPkts
	}
	v.inOrder = sameRows && prev.inOrder
	if v.inOrder && sameWidths && col == sortID {
		// Every row, in its order: nothing to read.
		v.idx = make([]int32, len(rows))
		for i := range v.idx {
			v.idx[i] = int32(i)
		}
		if desc {
			slices.Reverse(v.idx)
		}
		return v
	}

	// The keys, two words each: a word and its row at words[2n:], or an
	// IPv4 address's port at words[n] and its address over its row at
	// words[len(rows)+n].
	words := sortWords.get(2 * len(rows))
	defer func() { sortWords.put(words) }()
	rowBits := uint(bits.Len(uint(len(rows))))
	addrs := col == sortClient || col == sortServer
	var wide []sortKey // the addresses other than IPv4
	if addrs {
		wide = wideKeys.get(0)
		defer func() { wideKeys.put(wide) }()
	}
	// The bits in which keys (ports, addresses) differ.
	var or, and, orAddr, andAddr uint64 = 0, ^uint64(0), 0, ^uint64(0)
	ordered, zoned := true, false
	var last uint64
	var w widths
	w.start()
	buf := make([]byte, 0, 128)
	n := 0
	// Two loops, alike but for the keys: in one, the packets' sort took a
	// sixth longer (interleaved runs).
	if !addrs {
		for i := range rows {
			r := &rows[i]
			if !v.allRows && !q.match(r, buf) {
				continue
			}
			if !v.inOrder {
				t := tieOf(r.ref())
				ordered = ordered && t >= last
				last = t
			}
			if !sameWidths {
				w.add(r, &buf)
			}
			k := rowWord(r, col)
			words[2*n], words[2*n+1] = k, uint64(i)
			or |= k
			and &= k
			n++
		}
	} else {
		for i := range rows {
			r := &rows[i]
			if !v.allRows && !q.match(r, buf) {
				continue
			}
			if !v.inOrder {
				t := tieOf(r.ref())
				ordered = ordered && t >= last
				last = t
			}
			if !sameWidths {
				w.add(r, &buf)
			}
			ap := r.Client
			if col == sortServer {
				ap = r.Server
			}
			a := ap.Addr()
			if !a.Is4() {
				k := rowKey(r, col, int32(i))
				zoned = zoned || k.zoned
				wide = append(wide, k)
				continue
			}
			b := a.As4()
			addr, port := uint64(binary.BigEndian.Uint32(b[:])), uint64(ap.Port())
			words[n], words[len(rows)+n] = port, addr<<rowBits|uint64(i)
			or |= port
			and &= port
			orAddr |= addr
			andAddr &= addr
			n++
		}
	}
	if !sameWidths {
		w.finish(&v, ncaps)
	}
	v.inOrder = v.inOrder || v.allRows && ordered
	if !ordered || zoned {
		v.idx = sortCompared(rows, q, col, desc, n+len(wide))
		return v
	}
	v.idx = make([]int32, n+len(wide))
	// The other addresses: the invalid one before IPv4, IPv6 after, as
	// netip orders addresses by their length first.
	split := 0
	if len(wide) > 0 {
		scratch := wideKeys.get(len(wide))
		sorted := radixSort(wide, scratch, 4)
		for split < len(sorted) && sorted[split].k1 < 32 {
			split++
		}
		for j, k := range sorted {
			if j >= split {
				j += n
			}
			v.idx[j] = k.row
		}
		wideKeys.put(scratch)
	}
	switch {
	case n == 0:
	case addrs:
		sortAddrs(words[:n], words[len(rows):len(rows)+n], v.idx[split:split+n], or^and, orAddr^andAddr, rowBits)
	default:
		radixRows(words[:2*n], v.idx, or^and, rowBits)
	}
	if desc {
		// The order is total: descending is ascending reversed.
		slices.Reverse(v.idx)
	}
	return v
}

// sortCompared filters rows and sorts those that pass (n) by comparing
// their keys (rowKey), and returns their indexes in that order.
func sortCompared(rows []Row, q query, col sortColumn, desc bool, n int) []int32 {
	keys := wideKeys.get(n)[:0]
	defer func() { wideKeys.put(keys) }()
	buf := make([]byte, 0, 128)
	for i := range rows {
		if len(q.terms) == 0 || q.match(&rows[i], buf) {
			keys = append(keys, rowKey(&rows[i], col, int32(i)))
		}
	}
	sorted := sortKeys(keys, func(a, b sortKey) int {
		c := compareKeys(&a, &b, col, rows)
		if desc {
			return -c
		}
		return c
	})
	idx := make([]int32, len(sorted))
	for i := range sorted {
		idx[i] = sorted[i].row
	}
	return idx
}

// bufCache keeps buffers of sort keys between views, the largest two (a
// view takes one or two), for as long as the program runs: for a million
// rows, 18 MB of sortWords (sync.Pool held 128 MB until two collections).
type bufCache[T any] struct {
	mu   sync.Mutex
	free [][]T
}

var (
	sortWords bufCache[uint64]
	wideKeys  bufCache[sortKey]
)

// get returns a buffer of length n: the smallest kept that is large
// enough, or a new one (with room for an eighth more, as the rows of a
// live capture grow).
func (c *bufCache[T]) get(n int) []T {
	c.mu.Lock()
	defer c.mu.Unlock()
	best := -1
	for i, b := range c.free {
		if cap(b) >= n && (best < 0 || cap(b) < cap(c.free[best])) {
			best = i
		}
	}
	if best < 0 {
		return make([]T, n, n+n/8)
	}
	b := c.free[best]
	c.free = slices.Delete(c.free, best, best+1)
	return b[:n]
}

// put gives a buffer back; the smallest is dropped when three are kept.
func (c *bufCache[T]) put(b []T) {
	if cap(b) < 1024 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.free = append(c.free, b[:0])
	if len(c.free) > 2 {
		i := 0
		for j, f := range c.free {
			if cap(f) < cap(c.free[i]) {
				i = j
			}
		}
		c.free = slices.Delete(c.free, i, i+1)
	}
}

// radixSort sorts keys by their first words words (k1 most significant),
// stably, least significant byte first, using scratch (as long as keys),
// and returns them sorted, in keys or in scratch.
func radixSort(keys, scratch []sortKey, words int) []sortKey {
	if words == 0 || len(keys) < 2 {
		return keys
	}
	get := [4]func(*sortKey) uint64{
		func(k *sortKey) uint64 { return k.k1 }, func(k *sortKey) uint64 { return k.k2 },
		func(k *sortKey) uint64 { return k.k3 }, func(k *sortKey) uint64 { return k.k4 },
	}
	counts := make([][8][256]int, words)
	for i := range keys {
		for wd := range words {
			x := get[wd](&keys[i])
			for b := range 8 {
				counts[wd][b][byte(x>>(8*b))]++
			}
		}
	}
	src, dst := keys, scratch[:len(keys)]
	for wd := words - 1; wd >= 0; wd-- {
		g := get[wd]
		for b := range 8 {
			c := &counts[wd][b]
			if c[byte(g(&src[0])>>(8*b))] == len(src) {
				continue // every key has this byte
			}
			var off [256]int
			sum := 0
			for x := range 256 {
				off[x], sum = sum, sum+c[x]
			}
			shift := 8 * b
			for i := range src {
				x := byte(g(&src[i]) >> shift)
				dst[off[x]] = src[i]
				off[x]++
			}
			src, dst = dst, src
		}
	}
	return src
}

// radixRows sorts keys, pairs of words (a key, then a row below
// 1<<rowBits, the rows ascending), by key, stably, and writes their rows
// in that order to idx. It sorts on the bits in which keys differ alone
// (those of varying), a byte at a time, least significant first, skipping
// a byte all keys share, the last pass straight into idx. (Eleven bits at
// a time, a pass fewer on 48 bits, took twice as long: 2048 buckets
// written at once, on as many pages, more than the TLB holds.) When those
// bits and the row's fit in a word, as they do for a million rows' keys
// up to 44 bits (durations up to 4.9 hours), it sorts such words, made in
// the first half of keys, into the second: half the memory moved, and as
// stable, the rows being in order. Otherwise it moves the pairs, into a
// second buffer.
func radixRows(keys []uint64, idx []int32, varying uint64, rowBits uint) {
	n := len(keys) / 2
	if varying == 0 {
		for i := range n {
			idx[i] = int32(keys[2*i+1])
		}
		return
	}
	lo := uint(bits.TrailingZeros64(varying))
	span := uint(bits.Len64(varying)) - lo
	counts := make([][256]int32, (span+7)/8)
	if span+rowBits > 64 {
		for i := range n {
			k := keys[2*i] >> lo
			for d := range counts {
				counts[d][byte(k>>(8*d))]++
			}
		}
		tmp := sortWords.get(len(keys))
		defer sortWords.put(tmp)
		src, dst := keys, tmp
		last := lastByte(counts, n)
		for d := range last + 1 {
			c := &counts[d]
			if d < last && slices.Contains(c[:], int32(n)) {
				continue // every key has this byte
			}
			off := starts(c)
			shift := lo + uint(8*d)
			if d == last {
				for i := 0; i < len(src); i += 2 {
					x := byte(src[i] >> shift)
					idx[off[x]] = int32(src[i+1])
					off[x]++
				}
				return
			}
			for i := 0; i < len(src); i += 2 {
				x := byte(src[i] >> shift)
				j := 2 * off[x]
				dst[j], dst[j+1] = src[i], src[i+1]
				off[x]++
			}
			src, dst = dst, src
		}
		return
	}
	mask := uint64(1)<<span - 1
	for i := range n {
		// keys[i] is no longer needed when it is written (i ≤ 2i).
		keys[i] = keys[2*i]>>lo&mask<<rowBits | keys[2*i+1]
	}
	countBytes(keys[:n], rowBits, counts)
	radixWords(keys[:n], keys[n:], counts, rowBits, idx)
}

// countBytes counts, for each byte d of words above their low shift bits
// (up to 8), how many words have each value, into counts[d]: the two
// halves at once, into two sets of counts, as radixWords places them.
func countBytes(words []uint64, shift uint, counts [][256]int32) {
	var second [8][256]int32
	h := len(words) / 2
	for i := range h {
		a, b := words[i]>>shift, words[h+i]>>shift
		for d := range counts {
			counts[d][byte(a>>(8*d))]++
			second[d][byte(b>>(8*d))]++
		}
	}
	if len(words)%2 == 1 {
		a := words[len(words)-1] >> shift
		for d := range counts {
			counts[d][byte(a>>(8*d))]++
		}
	}
	for d := range counts {
		for x := range counts[d] {
			counts[d][x] += second[d][x]
		}
	}
}

// radixWords sorts words stably by their bytes above the low shift bits,
// least significant first (counts[d]: how many words have each value of
// byte d, skipped when all have one), using dst (as long as src), and
// writes their low shift bits in that order to idx.
//
// Each pass places words from both ends at once, the first ones from the
// start of their byte's place up, the last ones from its end down: two
// chains of counts to add to, where one had every word wait for the last
// when most have one value (a flood's durations, nearly all 0, took 38
// ms to sort with one chain, 27 with two, counted so too).
func radixWords(src, dst []uint64, counts [][256]int32, shift uint, idx []int32) {
	mask := uint64(1)<<shift - 1
	last := lastByte(counts, len(src))
	for d := range last + 1 {
		c := &counts[d]
		if d < last && slices.Contains(c[:], int32(len(src))) {
			continue // every word has this byte
		}
		up := starts(c)
		var down [256]int32
		for x := range down {
			down[x] = up[x] + c[x]
		}
		s := shift + uint(8*d)
		i, j := 0, len(src)-1
		if d == last {
			for ; i < j; i, j = i+1, j-1 {
				a, b := src[i], src[j]
				x, y := byte(a>>s), byte(b>>s)
				idx[up[x]] = int32(a & mask)
				up[x]++
				down[y]--
				idx[down[y]] = int32(b & mask)
			}
			if i == j {
				idx[up[byte(src[i]>>s)]] = int32(src[i] & mask)
			}
			return
		}
		for ; i < j; i, j = i+1, j-1 {
			a, b := src[i], src[j]
			x, y := byte(a>>s), byte(b>>s)
			dst[up[x]] = a
			up[x]++
			down[y]--
			dst[down[y]] = b
		}
		if i == j {
			dst[up[byte(src[i]>>s)]] = src[i]
		}
		src, dst = dst, src
	}
}

// sortAddrs sorts IPv4 addresses and ports, stably, and writes their rows
// in that order to idx: ports[i] is key i's port, addrs[i] its address
// over its row (below 1<<rowBits, the rows ascending), portBits and
// addrBits the bits in which ports and addresses differ. Address, port
// and row are more than a word: the keys are sorted by port first, a
// counting sort of their places into idx, whose addrs are then taken in
// that order into ports, and sorted by address by radixWords. That needs
// no memory but the two words a key computeView's pass over the rows
// filled; moving pairs of key and row took a second buffer, new the first
// time.
func sortAddrs(ports, addrs []uint64, idx []int32, portBits, addrBits uint64, rowBits uint) {
	src, dst := addrs, ports
	if portBits != 0 {
		lo := uint(bits.TrailingZeros64(portBits))
		counts := make([]int32, 1<<(uint(bits.Len64(portBits))-lo))
		for _, p := range ports {
			counts[p>>lo&uint64(len(counts)-1)]++
		}
		var sum int32
		for x, c := range counts {
			counts[x], sum = sum, sum+c
		}
		for i, p := range ports {
			x := p >> lo & uint64(len(counts)-1)
			idx[counts[x]] = int32(i)
			counts[x]++
		}
		for j, i := range idx {
			ports[j] = addrs[i]
		}
		src, dst = ports, addrs
	}
	if addrBits == 0 {
		for j, w := range src {
			idx[j] = int32(w & (1<<rowBits - 1))
		}
		return
	}
	counts := make([][256]int32, (bits.Len64(addrBits)+7)/8)
	countBytes(src, rowBits, counts)
	radixWords(src, dst, counts, rowBits, idx)
}

// lastByte is the highest byte that keys do not all share (counts are
// those of n keys). Some byte is not shared when some bit varies.
func lastByte(counts [][256]int32, n int) int {
	for d := len(counts) - 1; d > 0; d-- {
		if !slices.Contains(counts[d][:], int32(n)) {
			return d
		}
	}
	return 0
}

// starts is where the keys of each byte value start, from their counts.
func starts(c *[256]int32) [256]int32 {
	var off [256]int32
	var sum int32
	for x := range c {
		off[x], sum = sum, sum+c[x]
	}
	return off
}

// sortKeys sorts keys, a large slice in two halves at once, and returns
// them sorted (in keys, or in a new slice).
func sortKeys[K any](keys []K, compare func(a, b K) int) []K {
	if len(keys) < 1<<15 || runtime.GOMAXPROCS(0) < 2 {
		slices.SortFunc(keys, compare)
		return keys
	}
	a, b := keys[:len(keys)/2], keys[len(keys)/2:]
	done := make(chan struct{})
	go func() {
		slices.SortFunc(a, compare)
		close(done)
	}()
	slices.SortFunc(b, compare)
	<-done
	out := make([]K, 0, len(keys))
	for len(a) > 0 && len(b) > 0 {
		if compare(b[0], a[0]) < 0 {
			out = append(out, b[0])
			b = b[1:]
		} else {
			out = append(out, a[0])
			a = a[1:]
		}
	}
	out = append(out, a...)
	return append(out, b...)
}

// widths measures the column widths rows need.
type widths struct {
	client, server int
	maxID, maxPkts int
	capped         bool
	hs             [256]bool
}

func (w *widths) start() {
	w.client, w.server = len("client"), len("server")
}

func (w *widths) add(r *Row, buf *[]byte) {
	w.client = max(w.client, addrPortLen(r.Client, buf))
	w.server = max(w.server, addrPortLen(r.Server, buf))
	w.hs[uint8(r.Handshake)] = true
	w.maxID = max(w.maxID, r.ID)
	w.maxPkts = max(w.maxPkts, r.Packets)
	// Flows of several captures are "2:14"; connections are not.
	if r.Cap != pathCap {
		w.capped = true
	}
}

func (w *widths) finish(v *listView, ncaps int) {
	v.wClient, v.wServer, v.wHS, v.wID, v.wPkts = w.client, w.server, len("hs"), len("id"), len("pkts")
	for h, seen := range w.hs {
		if seen {
			v.wHS = max(v.wHS, len(analysis.HandshakeStatus(h).String()))
		}
	}
	v.wID = max(v.wID, len(strconv.Itoa(w.maxID)))
	if ncaps > 1 && w.capped {
		v.wID += len(strconv.Itoa(ncaps)) + 1
	}
	v.wPkts = max(v.wPkts, len(strconv.Itoa(w.maxPkts)))
}

// addrPortLen is len(ap.String()), counted without formatting for IPv4;
// buf is scratch space for the others.
func addrPortLen(ap netip.AddrPort, buf *[]byte) int {
	a := ap.Addr()
	if !a.Is4() {
		*buf = ap.AppendTo((*buf)[:0])
		return len(*buf)
	}
	b := a.As4()
	n := 3 + 1 + decimalLen(uint32(ap.Port())) // dots and colon
	for _, x := range b {
		n += decimalLen(uint32(x))
	}
	return n
}

// decimalLen is the number of decimal digits of x.
func decimalLen(x uint32) int {
	n := 1
	for x >= 10 {
		x /= 10
		n++
	}
	return n
}
