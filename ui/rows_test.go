package ui

import (
	"cmp"
	"math/bits"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"

	"github.com/synscope/synscope/analysis"
)

func TestFilterQuery(t *testing.T) {
	row := Row{Cap: 1, FlowSummary: analysis.FlowSummary{
		ID: 7, Client: netip.MustParseAddrPort("10.110.233.50:50183"), Server: netip.MustParseAddrPort("172.16.1.1:443"),
		Status: analysis.StatusInvalid, Handshake: analysis.HSInvalid,
		Codes: 1<<analysis.CodeAckMismatch | 1<<analysis.CodeSynAckPayload,
	}}
	v6 := Row{FlowSummary: analysis.FlowSummary{ID: 1, Client: netip.MustParseAddrPort("[2001:db8::50]:50183"),
		Server: netip.MustParseAddrPort("[2001:db8::1]:443"), Status: analysis.StatusOK, Handshake: analysis.HSComplete}}
	cases := []struct {
		q     string
		row   Row
		match bool
	}{
		{"", row, true},
		{"10.110", row, true},
		{"50183", row, true},
		{"10.111", row, false},
		{"status:invalid", row, true},
		{"status:ok", row, false},
		{"-status:ok", row, true},
		{"port:443", row, true},
		{"port:50183", row, true},
		{"port:80", row, false},
		{"host:10.110.233.50", row, true},
		{"host:172.16.1.1", row, true},
		{"host:10.1.2.3", row, false},
		{"net:10.0.0.0/8", row, true},
		{"net:192.168.0.0/16", row, false},
		{"code:handshake.ack_mismatch", row, true},
		{"code:ack_mismatch", row, true},
		{"code:handshake.", row, true},
		{"code:tcp.retransmission", row, false},
		{"hs:invalid", row, true},
		{"hs:complete", row, false},
		{"cap:2", row, true},
		{"cap:1", row, false},
		{"status:invalid port:443 host:10.110.233.50 code:handshake.ack_mismatch", row, true},
		{"status:invalid port:80", row, false},
		{"STATUS:Invalid", row, true},
		{"2001:db8::50", v6, true},
		{"[2001:db8::1]:443", v6, true},
		{"host:2001:db8::1", v6, true},
		{"host:[2001:db8::1]", v6, true},
		{"marked", row, true},
		{"-marked", v6, true},
		// tcpdump's habits.
		{"port 443", row, true},
		{"port 80", row, false},
		{"tcp port 443", row, true},
		{"host 10.110.233.50 and port 50183", row, true},
		{"host 10.110.233.50 and port 80", row, false},
		{"not port 80", row, true},
		{"not port 443", row, false},
		{"not -port 443", row, true},
		{"! host 10.1.2.3", row, true},
		{"net 172.16.0.0/12", row, true},
		{"status invalid", row, true},
		{"port", row, false}, // a key with no value is text
	}
	marks := map[flowRef]bool{row.ref(): true}
	for _, tc := range cases {
		q, err := parseQuery(tc.q, 2)
		if err != nil {
			t.Errorf("%q: %v", tc.q, err)
			continue
		}
		q.marks = marks
		if got := q.match(&tc.row, nil); got != tc.match {
			t.Errorf("%q on flow %d: %v, want %v", tc.q, tc.row.ID, got, tc.match)
		}
	}
	for _, bad := range []string{"status:bogus", "port:http", "port:70000", "host:10.1", "net:10.0.0.0", "code:nonsense", "hs:maybe", "cap:3", "cap:x",
		"port 443 or port 80", "port http", "not", "port 443 not", "src host 10.1.2.3", "dst port 443", "-"} {
		if _, err := parseQuery(bad, 2); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestSortColumns(t *testing.T) {
	a := Row{FlowSummary: analysis.FlowSummary{ID: 1, Status: analysis.StatusOK, Packets: 10, Bytes: 5, Start: 0, End: 10,
		Client: netip.MustParseAddrPort("10.0.0.2:1"), Server: netip.MustParseAddrPort("10.0.0.9:80")}}
	b := Row{FlowSummary: analysis.FlowSummary{ID: 2, Status: analysis.StatusInvalid, Packets: 3, Bytes: 50, Start: 0, End: 5,
		Client: netip.MustParseAddrPort("10.0.0.1:1"), Server: netip.MustParseAddrPort("10.0.0.9:443"),
		HasFirst: true, First: analysis.Finding{Code: analysis.CodeAckMismatch}}}
	want := map[sortColumn]int{ // sign of compare(a, b)
		sortStatus: 1, sortID: -1, sortClient: 1, sortServer: -1, sortHandshake: 0, sortPackets: 1,
		sortBytes: -1, sortDuration: 1, sortFinding: 1,
	}
	for col, w := range want {
		got := compareRows(&a, &b, col)
		if w == 0 {
			w = -1 // ties break by id
		}
		if (got < 0) != (w < 0) {
			t.Errorf("sort by %s: compare %d, want sign %d", col, got, w)
		}
	}
}

// TestSortKeys checks the keyed sort of computeView against comparing the
// rows field by field, for every column both ways, on rows with IPv4,
// IPv6, mapped and zoned addresses, equal keys and path connections, and
// addrPortLen against the addresses' text.
func TestSortKeys(t *testing.T) {
	rows, _ := syntheticRows(3000)
	addrs := []string{"10.0.0.1:80", "[::ffff:10.0.0.1]:80", "[fe80::1%eth0]:22", "[fe80::1%eth1]:21", "[fe80::1]:23", "255.255.255.255:65535", "0.0.0.0:0", "[2001:db8::1]:443"}
	for i := range rows {
		r := &rows[i]
		if i%7 == 0 {
			r.Client = netip.MustParseAddrPort(addrs[i%len(addrs)])
		}
		if i%11 == 0 {
			r.Server = netip.MustParseAddrPort(addrs[(i/11)%len(addrs)])
		}
		if i%13 == 0 {
			r.Cap, r.HasVerdict = pathCap, true
			r.Verdict.Code = analysis.PathDropped
		}
		if i%17 == 0 {
			r.Cap = 1
		}
		r.Packets %= 5 // many ties
	}
	// The reference: the columns compared on the rows themselves.
	ref := func(a, b *Row, col sortColumn) int {
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
			c = cmp.Compare(findingRank(b), findingRank(a))
			if c == 0 {
				code := func(r *Row) int {
					if r.HasFirst {
						return int(r.First.Code) + 1
					}
					return 0
				}
				c = cmp.Compare(code(a), code(b))
			}
		}
		return cmp.Or(c, cmp.Compare(a.Cap, b.Cap), cmp.Compare(a.ID, b.ID))
	}
	check := func(name string, rows []Row, q query) {
		// The view shown before: one of the same rows, which found their
		// order (or not), and one of none.
		shown := computeView(rows, [4]int{}, query{}, sortStatus, false, 2, listView{})
		for col := range numSortColumns {
			for _, desc := range []bool{false, true} {
				v := computeView(rows, [4]int{}, q, col, desc, 2, listView{})
				if after := computeView(rows, [4]int{}, q, col, desc, 2, shown); !slices.Equal(after.idx, v.idx) || after.inOrder != shown.inOrder {
					t.Fatalf("%s: sort by %s (desc %v) after a view of the rows differs from one after none", name, col, desc)
				}
				n := 0
				for i := range rows {
					if len(q.terms) == 0 || q.match(&rows[i], nil) {
						n++
					}
				}
				if len(v.idx) != n {
					t.Fatalf("%s: %d rows in the view, %d pass", name, len(v.idx), n)
				}
				for i := 1; i < len(v.idx); i++ {
					a, b := &rows[v.idx[i-1]], &rows[v.idx[i]]
					c := ref(a, b, col)
					if desc {
						c = -c
					}
					if c >= 0 {
						t.Fatalf("%s: sort by %s (desc %v): flow %d (%s) before flow %d (%s)", name, col, desc, a.ID, a.Client, b.ID, b.Client)
					}
				}
			}
		}
	}
	// Rows out of capture order, zoned addresses: the keys compared.
	check("compared", rows, query{})
	if v := computeView(rows, [4]int{}, query{}, sortID, false, 2, listView{}); v.inOrder {
		t.Fatal("rows out of order found in order")
	}
	// Rows in capture and id order, as snapshots give them: radix sorted.
	ordered, _ := syntheticRows(3000)
	for i := range ordered {
		r := &ordered[i]
		if i%7 == 0 && !strings.Contains(addrs[i%len(addrs)], "%") {
			r.Client = netip.MustParseAddrPort(addrs[i%len(addrs)])
		}
		r.Packets %= 5
		r.Bytes = int64(i%3) << (i % 50)
		r.End = r.Start + int64(i%4)<<40 - int64(i%2)<<20
		if i >= 1500 {
			r.Cap = 1
		}
		if i%101 == 0 {
			r.Server = netip.AddrPort{} // before every valid address
		}
	}
	check("radix", ordered, query{})
	if v := computeView(ordered, [4]int{}, query{}, sortID, false, 2, listView{}); !v.inOrder {
		t.Fatal("rows in order not found so")
	}
	q, err := parseQuery("-port:22", 2)
	if err != nil {
		t.Fatal(err)
	}
	check("radix, filtered", ordered, q)
	// Nothing passes; no IPv4 address passes.
	for _, f := range []string{"port:1", "2001:db8:"} {
		q, err := parseQuery(f, 2)
		if err != nil {
			t.Fatal(err)
		}
		check("radix, filtered by "+f, ordered, q)
	}
	// Zoned addresses among rows in order: compared.
	zoned := slices.Clone(ordered)
	zoned[10].Client = netip.MustParseAddrPort("[fe80::1%eth1]:22")
	zoned[20].Client = netip.MustParseAddrPort("[fe80::1%eth0]:22")
	check("zoned", zoned, query{})
	var buf []byte
	for _, s := range addrs {
		ap := netip.MustParseAddrPort(s)
		if n := addrPortLen(ap, &buf); n != len(ap.String()) {
			t.Errorf("addrPortLen(%s) = %d", s, n)
		}
	}
	for i := range rows {
		if n := addrPortLen(rows[i].Client, &buf); n != len(rows[i].Client.String()) {
			t.Fatalf("addrPortLen(%s) = %d", rows[i].Client, n)
		}
	}
}

// TestLargeListOffUIGoroutine: with more rows than syncViewLimit, a new
// snapshot, a sort and a filter are computed in a command, not in Update:
// Update returns at once with the old view still shown, and the view the
// command computes is applied when its message comes back, the selected
// flow kept selected.
func TestLargeListOffUIGoroutine(t *testing.T) {
	rows, counts := syntheticRows(syncViewLimit + 1000)
	m := New(testConfig([]Source{{Name: "synth.pcap"}}))
	m.tick = func(int) tea.Cmd { return nil }
	m = update(t, m, tea.WindowSizeMsg{Width: 120, Height: 40})
	m.loading = true
	tm, cmd := m.Update(SnapshotMsg{Rows: rows, Counts: counts, Done: true, Taken: testClock,
		Caps: []CapProgress{{Name: "synth.pcap", Done: true, Flows: len(rows)}}})
	m = tm.(Model)
	if cmd == nil || !m.list.busy || len(m.list.view.idx) != 0 {
		t.Fatalf("the snapshot's view was computed in Update (busy %v, %d rows shown)", m.list.busy, len(m.list.view.idx))
	}
	mustContain(t, m, "sorting")
	m = update(t, m, runAll(cmd)...)
	if n, _ := m.list.shown(); n != len(rows) || m.list.busy {
		t.Fatalf("%d rows shown, busy %v", n, m.list.busy)
	}
	m = press(t, m, "G", "k", "k")
	sel := m.list.current().ref()
	before := slices.Clone(m.list.view.idx)

	// Sort.
	tm, cmd = m.Update(keyMsg("s"))
	m = tm.(Model)
	if cmd == nil || !m.list.busy || !slices.Equal(m.list.view.idx, before) {
		t.Fatal("the sort was computed in Update")
	}
	m = update(t, m, runAll(cmd)...)
	if m.list.busy || m.list.sortCol != sortID || m.list.current().ref() != sel {
		t.Fatalf("after the sort: busy %v, sorted by %s, flow %d selected, want %d", m.list.busy, m.list.sortCol, m.list.current().ID, sel.id)
	}
	for i := 1; i < len(m.list.view.idx); i++ {
		if rows[m.list.view.idx[i-1]].ID > rows[m.list.view.idx[i]].ID {
			t.Fatal("not sorted by id")
		}
	}

	// Filter: typing does not filter a large list; enter does, in a
	// command.
	before = slices.Clone(m.list.view.idx)
	m = press(t, m, "/", "p", "o", "r", "t", ":", "2", "2")
	if !slices.Equal(m.list.view.idx, before) {
		t.Fatal("typing filtered a large list in Update")
	}
	tm, cmd = m.Update(keyMsg("enter"))
	m = tm.(Model)
	if cmd == nil || !m.list.busy || !slices.Equal(m.list.view.idx, before) {
		t.Fatal("the filter was computed in Update")
	}
	m = update(t, m, runAll(cmd)...)
	shown, all := m.list.shown()
	if m.list.busy || shown == 0 || shown == all {
		t.Fatalf("after the filter: busy %v, %d of %d shown", m.list.busy, shown, all)
	}
	for _, i := range m.list.view.idx {
		if rows[i].Server.Port() != 22 && rows[i].Client.Port() != 22 {
			t.Fatalf("flow %d passes port:22", rows[i].ID)
		}
	}
}

// TestSnapshotsWhileBusy: snapshots of a large list that come faster than
// its view is computed do not restart the computation each time (which
// would show nothing new for as long as they come): the view under way is
// shown, then one of the newest rows.
func TestSnapshotsWhileBusy(t *testing.T) {
	rows, counts := syntheticRows(syncViewLimit + 1000)
	l := New(testConfig([]Source{{Name: "synth.pcap"}})).list
	l, first := l.setRows(rows[:syncViewLimit+500], counts)
	if first == nil || !l.busy {
		t.Fatal("the first view was not computed in a command")
	}
	// Two more snapshots while it is computed.
	l, cmd := l.setRows(rows[:syncViewLimit+700], counts)
	if cmd != nil || !l.stale {
		t.Fatal("a snapshot while busy started another computation")
	}
	l, cmd = l.setRows(rows, counts)
	if cmd != nil {
		t.Fatal("a snapshot while busy started another computation")
	}
	l, next := l.Update(first())
	if n, _ := l.shown(); n != syncViewLimit+500 || next == nil {
		t.Fatalf("the first view shows %d rows (want %d), next computation %v", n, syncViewLimit+500, next != nil)
	}
	l, cmd = l.Update(next())
	if n, _ := l.shown(); n != len(rows) || l.busy || cmd != nil {
		t.Fatalf("then %d rows shown (want the newest snapshot's %d), busy %v", n, len(rows), l.busy)
	}
}

// TestRadixRows checks the radix sorts of keys in words, radixRows (one
// word, its bits packed with the row's in a word or not) and sortAddrs
// (IPv4 address and port), on many keys with many ties: ascending keys,
// and the rows of equal keys in their order (the sorts are stable), every
// row once, the rows being those of a filtered view (not every index).
func TestRadixRows(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	keys := map[string]func() uint64{
		"one byte":    func() uint64 { return uint64(r.IntN(50)) },
		"bytes apart": func() uint64 { return uint64(r.IntN(50)) << (8 * uint(r.IntN(8))) },
		"44 bits":     func() uint64 { return uint64(r.Int64N(1<<44)) << 3 },
		"every bit":   func() uint64 { return r.Uint64() >> uint(r.IntN(2)*63) },
		"all alike":   func() uint64 { return 7 << 40 },
		// Addresses and ports: the bits in which they differ, or not.
		"IPv4 address, port":   func() uint64 { return uint64(r.Uint32())<<16 | uint64(r.IntN(65536)) },
		"a few addresses":      func() uint64 { return uint64(r.IntN(3))<<40 | uint64(r.IntN(65536)) },
		"one address":          func() uint64 { return 0xc0000250<<16 | uint64(1024+r.IntN(100)) },
		"one port":             func() uint64 { return uint64(r.Uint32())<<16 | 443 },
		"one address and port": func() uint64 { return 0xc0000250<<16 | 80 },
	}
	for name, key := range keys {
		for _, n := range []int{1, 2, 3, 255, 100_000} {
			type keyRow struct {
				k   uint64
				row int32
			}
			pairs := make([]keyRow, n)
			row := int32(0)
			for i := range pairs {
				row += int32(1 + r.IntN(3))
				pairs[i] = keyRow{k: key(), row: row}
			}
			want := slices.Clone(pairs)
			slices.SortStableFunc(want, func(a, b keyRow) int { return cmp.Compare(a.k, b.k) })
			check := func(sort string, idx []int32) {
				t.Helper()
				for i := range want {
					if idx[i] != want[i].row {
						t.Fatalf("%s, %s, %d keys: position %d holds row %d, want %d (key %#x)", sort, name, n, i, idx[i], want[i].row, want[i].k)
					}
				}
			}
			rowBits := uint(bits.Len(uint(row)))
			words := make([]uint64, 2*n)
			var or, and uint64 = 0, ^uint64(0)
			for i, p := range pairs {
				words[2*i], words[2*i+1] = p.k, uint64(p.row)
				or, and = or|p.k, and&p.k
			}
			idx := make([]int32, n)
			radixRows(words, idx, or^and, rowBits)
			check("radixRows", idx)
			if slices.ContainsFunc(pairs, func(p keyRow) bool { return p.k>>48 != 0 }) {
				continue // not an address and port
			}
			var portOr, portAnd, addrOr, addrAnd uint64 = 0, ^uint64(0), 0, ^uint64(0)
			for i, p := range pairs {
				addr, port := p.k>>16, p.k&0xffff
				words[i], words[n+i] = port, addr<<rowBits|uint64(p.row)
				portOr, portAnd, addrOr, addrAnd = portOr|port, portAnd&port, addrOr|addr, addrAnd&addr
			}
			clear(idx)
			sortAddrs(words[:n], words[n:], idx, portOr^portAnd, addrOr^addrAnd, rowBits)
			check("sortAddrs", idx)
		}
	}
}

// TestLocate checks that the selected flow is found in a view of rows in
// order as in one of rows out of order, and not found when filtered out
// or gone.
func TestLocate(t *testing.T) {
	rows, counts := syntheticRows(3000)
	for i := range rows[1500:] {
		rows[1500+i].Cap = 1
	}
	shuffled := slices.Clone(rows)
	rand.New(rand.NewPCG(5, 6)).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	q, err := parseQuery("-port:22", 2)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		rows    []Row
		inOrder bool
	}{{"in order", rows, true}, {"shuffled", shuffled, false}} {
		// Filtered, after an unfiltered view that found the rows' order.
		v := computeView(tc.rows, counts, q, sortBytes, true, 2, computeView(tc.rows, counts, query{}, sortID, false, 2, listView{}))
		if v.inOrder != tc.inOrder {
			t.Fatalf("%s: inOrder %v", tc.name, v.inOrder)
		}
		for _, i := range []int{0, 1, 700, 1499, 1500, 2999} {
			r := &tc.rows[i]
			v.locate(r.ref())
			want := slices.IndexFunc(v.idx, func(j int32) bool { return tc.rows[j].ref() == r.ref() })
			if v.selPos != want || !v.located || v.sel != r.ref() {
				t.Errorf("%s: flow %d:%d located at %d, want %d", tc.name, r.Cap, r.ID, v.selPos, want)
			}
			if want < 0 && q.match(r, nil) {
				t.Errorf("%s: flow %d:%d passes the filter but is not in the view", tc.name, r.Cap, r.ID)
			}
		}
		v.locate(flowRef{1, 1_000_000})
		if v.selPos != -1 {
			t.Errorf("%s: a flow not in the rows located at %d", tc.name, v.selPos)
		}
	}
}

// TestViewWidthsReused checks that a sort of the rows shown takes the
// shown view's column widths, and that they are those measured afresh; a
// filtered view's widths, or other rows', are not taken.
func TestViewWidthsReused(t *testing.T) {
	rows, counts := syntheticRows(2000)
	widthsOf := func(v listView) [5]int { return [5]int{v.wClient, v.wServer, v.wHS, v.wID, v.wPkts} }
	fresh := computeView(rows, counts, query{}, sortClient, false, 1, listView{})
	shown := computeView(rows, counts, query{}, sortID, false, 1, listView{})
	if got := computeView(rows, counts, query{}, sortClient, false, 1, shown); widthsOf(got) != widthsOf(fresh) {
		t.Errorf("widths after a sort %v, measured %v", widthsOf(got), widthsOf(fresh))
	}
	// A filtered view's widths are the filtered rows'.
	q, err := parseQuery("10.", 1) // IPv4 only: narrower than the IPv6 rows
	if err != nil {
		t.Fatal(err)
	}
	filtered := computeView(rows, counts, q, sortID, false, 1, listView{})
	if widthsOf(filtered) == widthsOf(fresh) {
		t.Fatal("the filter does not change the widths: the test shows nothing")
	}
	if got := computeView(rows, counts, query{}, sortClient, false, 1, filtered); widthsOf(got) != widthsOf(fresh) {
		t.Errorf("widths after a filtered view %v, measured %v", widthsOf(got), widthsOf(fresh))
	}
	// Other rows (a copy) are measured.
	other := slices.Clone(rows[:1000])
	if got, want := computeView(other, counts, query{}, sortClient, false, 1, shown), computeView(other, counts, query{}, sortClient, false, 1, listView{}); widthsOf(got) != widthsOf(want) {
		t.Errorf("widths of other rows %v, measured %v", widthsOf(got), widthsOf(want))
	}
}

// TestListFollowsTop: while the cursor is on the first row, rows arriving
// (a capture loading, live flows) keep it there, on the worst flow, rather
// than on whichever flow was first when the first rows came. Once a key
// moves it down, its flow stays selected as rows arrive; back on the top
// (g), it follows the top again.
func TestListFollowsTop(t *testing.T) {
	all, _ := syntheticRows(40)
	for i := range all {
		all[i].Status = analysis.StatusOK
	}
	snapshot := func(m Model, n int, invalid ...int) Model {
		rows := slices.Clone(all[:n])
		var counts [4]int
		for i := range rows {
			if slices.Contains(invalid, rows[i].ID) {
				rows[i].Status = analysis.StatusInvalid
			}
			counts[rows[i].Status]++
		}
		return update(t, m, SnapshotMsg{Rows: rows, Counts: counts, Taken: testClock,
			Caps: []CapProgress{{Name: "synth.pcap", Flows: n}}})
	}
	m := New(testConfig([]Source{{Name: "synth.pcap"}}))
	m.tick = func(int) tea.Cmd { return nil }
	m = update(t, m, tea.WindowSizeMsg{Width: 120, Height: 40})
	m.loading = true
	m = snapshot(m, 10)
	if id := m.list.current().ID; id != 1 {
		t.Fatalf("first snapshot: cursor on flow %d, want 1", id)
	}
	m = snapshot(m, 20, 15)
	if id := m.list.current().ID; id != 15 || m.list.cursor != 0 {
		t.Fatalf("an invalid flow arrived: cursor on flow %d (row %d), want 15 on the first row", id, m.list.cursor)
	}
	m = press(t, m, "j")
	sel := m.list.current().ID
	m = snapshot(m, 30, 15, 25)
	if id := m.list.current().ID; id != sel {
		t.Fatalf("moved down to flow %d, then rows arrived: cursor on flow %d", sel, id)
	}
	m = press(t, m, "g")
	m = snapshot(m, 40, 15, 25, 35)
	if m.list.cursor != 0 {
		t.Fatalf("back on the top, then rows arrived: cursor on row %d", m.list.cursor)
	}
}
