package ui

import (
	"net/netip"
	"testing"

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
	for _, bad := range []string{"status:bogus", "port:http", "port:70000", "host:10.1", "net:10.0.0.0", "code:nonsense", "hs:maybe", "cap:3", "cap:x"} {
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
