package ui

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"runtime"
	"slices"
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
	// Captures (pathCap is negative) and ids are far within 32 bits.
	k := sortKey{tie: uint64(uint32(int32(r.Cap))^1<<31)<<32 | uint64(uint32(r.ID)), row: i}
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
	case sortStatus:
		k.k1 = uint64(r.Status)
	case sortClient:
		addr(r.Client)
	case sortServer:
		addr(r.Server)
	case sortHandshake:
		k.k1 = uint64(hsRank[uint8(r.Handshake)])
	case sortPackets:
		k.k1 = signed(int64(r.Packets))
	case sortBytes:
		k.k1 = signed(r.Bytes)
	case sortDuration:
		k.k1 = signed(r.duration())
	case sortFinding:
		// Most severe first, then by code; no finding last.
		k.k1 = uint64(16-findingRank(r)) << 16
		if r.HasFirst {
			k.k1 |= uint64(r.First.Code) + 1
		}
	}
	return k
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

	// sel is at idx[selPos] (-1: filtered out), when located is set:
	// the command that computed the view looked for it.
	sel     flowRef
	selPos  int
	located bool
}

// locate finds where the flow sel is in the view.
func (v *listView) locate(sel flowRef) {
	v.sel, v.selPos, v.located = sel, -1, true
	for pos, i := range v.idx {
		if v.rows[i].ref() == sel {
			v.selPos = pos
			return
		}
	}
}

// viewMsg carries a listView computed by viewCmd.
type viewMsg struct {
	gen  int
	view listView
}

// computeView filters and sorts rows, in one pass over them: the filter,
// the column widths and the sort keys (rowKey).
//
// Sorting compares keys held together in memory, never the rows (320
// bytes each, scattered over hundreds of megabytes: a cache miss or two
// per comparison). Rows come in capture and flow id order, the sort's tie
// order: then a stable radix sort on the column's words alone gives the
// order, in a few passes over the keys (those of a byte all keys share
// are skipped). Otherwise, and for zoned addresses, the keys are compared.
//
// prev is the view shown (zero if none): when it was of the same rows,
// unfiltered, and this one is unfiltered too (a sort), its column widths
// are taken as they are, rather than measured again on every row (a
// million rows' addresses took a third of a sort's time).
func computeView(rows []Row, counts [4]int, q query, col sortColumn, desc bool, ncaps int, prev listView) listView {
	v := listView{rows: rows, counts: counts, allRows: len(q.terms) == 0}
	keys := getKeys(len(rows))
	defer putKeys(keys)
	ordered, zoned := true, false
	var w widths
	w.start()
	// prev holds its rows: while it does, no other rows can be at their
	// address.
	sameWidths := v.allRows && prev.allRows && len(rows) > 0 && len(prev.rows) == len(rows) &&
		&prev.rows[0] == &rows[0] && prev.ncaps == ncaps
	buf := make([]byte, 0, 128)
	for i := range rows {
		r := &rows[i]
		if len(q.terms) > 0 && !q.match(r, buf) {
			continue
		}
		k := rowKey(r, col, int32(i))
		if n := len(keys); n > 0 && k.tie < keys[n-1].tie {
			ordered = false
		}
		zoned = zoned || k.zoned
		keys = append(keys, k)
		if !sameWidths {
			w.add(r, &buf)
		}
	}
	w.finish(&v, ncaps)
	if sameWidths {
		v.wClient, v.wServer, v.wHS, v.wID, v.wPkts = prev.wClient, prev.wServer, prev.wHS, prev.wID, prev.wPkts
	}
	v.ncaps = ncaps
	// The sorted keys, in segments.
	var segs [][]sortKey
	reverse := false
	switch {
	case ordered && !zoned:
		scratch := getKeys(len(keys))[:len(keys)]
		defer putKeys(scratch)
		switch col {
		case sortID:
			segs = [][]sortKey{keys}
		case sortClient, sortServer:
			segs = radixSortAddrs(keys, scratch)
		default:
			segs = [][]sortKey{radixSort(keys, scratch, 1)}
		}
		// The order is total: descending is ascending reversed.
		reverse = desc
	default:
		segs = [][]sortKey{sortKeys(keys, func(a, b sortKey) int {
			c := compareKeys(&a, &b, col, rows)
			if desc {
				return -c
			}
			return c
		})}
	}
	v.idx = make([]int32, 0, len(keys))
	if reverse {
		for s := len(segs) - 1; s >= 0; s-- {
			for j := len(segs[s]) - 1; j >= 0; j-- {
				v.idx = append(v.idx, segs[s][j].row)
			}
		}
		return v
	}
	for _, seg := range segs {
		for j := range seg {
			v.idx = append(v.idx, seg[j].row)
		}
	}
	return v
}

// keyPool keeps key buffers between views: a million rows' keys are 48
// MB, and allocating them for every view makes the garbage collector scan
// the rows again and again.
var keyPool sync.Pool

// getKeys returns an empty key buffer of capacity n at least.
func getKeys(n int) []sortKey {
	if p, ok := keyPool.Get().(*[]sortKey); ok && cap(*p) >= n {
		return (*p)[:0]
	}
	return make([]sortKey, 0, n)
}

// putKeys gives a buffer back to the pool.
func putKeys(k []sortKey) {
	if cap(k) >= 1024 {
		keyPool.Put(&k)
	}
}

// radixSortAddrs sorts the keys of an address column, scratch as long as
// keys, and returns them sorted in segments: the invalid address, IPv4
// sorted on one word (address and port), IPv6 on all four, as netip
// orders addresses by their length first.
func radixSortAddrs(keys, scratch []sortKey) [][]sortKey {
	// IPv4 to scratch's front, the others to keys' front.
	v4 := scratch[:0]
	n := 0
	for _, k := range keys {
		if k.k1 == 32 {
			// k3 is the address mapped into IPv6: its low 32 bits are it.
			k.k1 = (k.k3&0xffffffff)<<16 | k.k4
			v4 = append(v4, k)
		} else {
			keys[n] = k
			n++
		}
	}
	other := radixSort(keys[:n], scratch[len(v4):], 4)
	v4 = radixSort(v4, keys[n:], 1)
	split := 0
	for split < len(other) && other[split].k1 < 32 {
		split++
	}
	return [][]sortKey{other[:split], v4, other[split:]}
}

// radixSort sorts keys by their first words words (k1 most significant),
// stably, least significant byte first, using scratch (as long as keys),
// and returns them sorted, in keys or in scratch.
func radixSort(keys, scratch []sortKey, words int) []sortKey {
	if words == 0 || len(keys) < 2 {
		return keys
	}
	if words == 1 {
		return radixSort1(keys)
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

// keyRow is a sort key's first word and its row: what radixSort1 moves.
type keyRow struct {
	k   uint64
	row int32
}

// keyRowPool keeps radixSort1's buffers between sorts (16 MB each for a
// million rows).
var keyRowPool sync.Pool

func getKeyRows(n int) []keyRow {
	if p, ok := keyRowPool.Get().(*[]keyRow); ok && cap(*p) >= n {
		return (*p)[:n]
	}
	return make([]keyRow, n)
}

// radixSort1 is radixSort on k1 alone, the sort of every column but the
// IPv6 addresses. It sorts 16-byte pairs of k1 and row rather than the
// 48-byte keys, a third of the memory moved by each pass: a million IPv4
// clients sorted in 330 ms before, 150 to 185 now (BenchmarkRadix1M; two
// halves sorted at once and merged were within noise of that). It returns
// keys in order with k1 and row set: nothing else is read after sorting.
func radixSort1(keys []sortKey) []sortKey {
	src, tmp := getKeyRows(len(keys)), getKeyRows(len(keys))
	defer func() {
		keyRowPool.Put(&src)
		keyRowPool.Put(&tmp)
	}()
	for i := range keys {
		src[i] = keyRow{keys[i].k1, keys[i].row}
	}
	for i, p := range radixPairs(src, tmp) {
		keys[i] = sortKey{k1: p.k, row: p.row}
	}
	return keys
}

// radixPairs sorts pairs by k, stably, least significant byte first, using
// dst (as long as src), and returns them sorted, in src or in dst.
func radixPairs(src, dst []keyRow) []keyRow {
	var counts [8][256]int
	for i := range src {
		x := src[i].k
		for b := range 8 {
			counts[b][byte(x>>(8*b))]++
		}
	}
	for b := range 8 {
		c := &counts[b]
		if c[byte(src[0].k>>(8*b))] == len(src) {
			continue // every key has this byte
		}
		var off [256]int
		sum := 0
		for x := range 256 {
			off[x], sum = sum, sum+c[x]
		}
		shift := 8 * b
		for i := range src {
			x := byte(src[i].k >> shift)
			dst[off[x]] = src[i]
			off[x]++
		}
		src, dst = dst, src
	}
	return src
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
