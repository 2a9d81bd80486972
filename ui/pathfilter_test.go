package ui

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/synscope/synscope/analysis"
	"github.com/synscope/synscope/analysis/filter"
)

// typeFilter opens the filter input, replaces its text with s and applies
// it.
func typeFilter(t *testing.T, m Model, s string) Model {
	t.Helper()
	m = press(t, m, "/")
	var keys []string
	for range len([]rune(m.list.input.Value())) {
		keys = append(keys, "backspace")
	}
	for _, r := range s {
		if r == ' ' {
			keys = append(keys, "space")
		} else {
			keys = append(keys, string(r))
		}
	}
	return press(t, m, append(keys, "enter")...)
}

// TestPathFilterAnyPoint: in path mode a word about addresses and ports
// holds for a connection when it holds at any point. The seed connection
// is 10.110.233.50:50183 at the client and fw-inside, and
// 10.110.235.202:55073 after the firewall's NAT, at fw-outside only.
func TestPathFilterAnyPoint(t *testing.T) {
	m := newLoaded(t, testConfig(seedPath(t)), 80, 24)
	if m.path == nil || len(m.list.rows) != 1 {
		t.Fatalf("not joined into one connection: path %v, %d rows", m.path, len(m.list.rows))
	}
	outside := m.path.Conns[0].Flows[2]
	if outside == nil || outside.Client().String() != "10.110.235.202:55073" {
		t.Fatalf("the connection at fw-outside: %v, want the NAT'd client 10.110.235.202:55073", outside)
	}
	cases := []struct {
		filter string
		shown  int
	}{
		{"host 10.110.235.202", 1}, // the reviewer's case: the address after NAT
		{"host:10.110.235.202", 1},
		{"55073", 1},
		{"10.110.235", 1},
		{"port:55073", 1},
		{"net:10.110.235.0/24", 1},
		{"host:10.110.233.50 host:10.110.235.202", 1}, // both sides of the NAT
		{"host:10.110.233.50", 1},
		{"-host:10.110.235.202", 0}, // seen with it at one point: left out
		{"not port 55073", 0},
		{"host:10.1.2.3", 0},
		{"port:55074", 0},
		{"cap:3 host:10.110.235.202", 1},
	}
	for _, tc := range cases {
		m = typeFilter(t, m, tc.filter)
		if m.list.filterErr != "" {
			t.Fatalf("%q: %s", tc.filter, m.list.filterErr)
		}
		if m.list.filter != tc.filter {
			t.Fatalf("filter applied %q, typed %q", m.list.filter, tc.filter)
		}
		if got := len(m.list.view.idx); got != tc.shown {
			t.Errorf("%q shows %d connections, want %d", tc.filter, got, tc.shown)
		}
		if tc.shown == 1 && strings.Contains(plain(m), "matches the filter") {
			t.Errorf("%q: the view says nothing matches:\n%s", tc.filter, plain(m))
		}
	}
	// The connection found by its outside address opens whole: every
	// point, and the drop between fw-inside and fw-outside.
	m = typeFilter(t, m, "host 10.110.235.202")
	m = press(t, m, "enter")
	if m.state != statePath || len(m.pathView.conn.Flows) != 3 {
		t.Fatalf("state %d after enter on the connection", m.state)
	}
	mustContain(t, m, "never reached fw-outside")
}

// TestPathCommandLineFilter: with several captures the command-line
// filter picks connections, and keeps each whole (every point, its path
// findings), as --report does: each primitive holds for a connection when
// it holds for a packet of its flow at any point, and and/or/not combine
// those, as the view's words do (TestPathFilterAnyPoint).
func TestPathCommandLineFilter(t *testing.T) {
	for _, tc := range []struct {
		expr  string
		conns int
	}{
		{"host 10.110.235.202", 1}, // at fw-outside only
		{"port 55073", 1},
		{"host 10.110.233.50", 1}, // at the client and fw-inside
		{"host 10.110.233.50 and port 55073", 1},
		{"not host 10.1.2.3", 1},
		{"host 10.1.2.3", 0},
		{"not port 55073", 0}, // seen with it at fw-outside: left out
		{"not host 10.110.235.202", 0},
	} {
		e, err := filter.Parse(tc.expr)
		if err != nil {
			t.Fatal(err)
		}
		cfg := testConfig(seedPath(t))
		cfg.Match, cfg.Filter = analysis.Matcher(e), e
		m := newLoaded(t, cfg, 80, 24)
		if m.path == nil {
			t.Fatalf("%q: the points are not joined", tc.expr)
		}
		if len(m.path.Conns) != tc.conns || len(m.list.rows) != tc.conns {
			t.Fatalf("%q: %d connections, %d rows; want %d", tc.expr, len(m.path.Conns), len(m.list.rows), tc.conns)
		}
		if tc.conns == 0 {
			continue
		}
		if r := m.list.rows[0]; r.Present != 0b111 {
			t.Errorf("%q: the connection is seen at points %03b, want all three", tc.expr, r.Present)
		}
		// No packet was left out of the flows.
		for i, f := range m.path.Conns[0].Flows {
			if f.Packets != int(m.caps[i].Result.Frames) {
				t.Errorf("%q: %s flow has %d packets of the capture's %d", tc.expr, m.caps[i].Name, f.Packets, m.caps[i].Result.Frames)
			}
		}
		mustContain(t, m, "1 connection, 1 at more than one point", "● ● ● invalid")
		m = press(t, m, "enter")
		mustContain(t, m, "never reached fw-outside")
	}
}

// TestFilterUnknownKey: a key the filter does not know is an error naming
// the keys it does, rather than text that quietly matches nothing; words
// with colons that read as an address, or an address and port, stay text.
func TestFilterUnknownKey(t *testing.T) {
	for _, tc := range []struct{ bad, key string }{
		{"foo:bar", "foo"}, {"-foo:bar", "foo"}, {"not foo:bar", "foo"}, {"Status2:ok", "Status2"},
		{"web01:443", "web01"}, {"proto:tcp", "proto"}, {"hosts:10.1.2.3", "hosts"}, {"cafe:bar", "cafe"},
	} {
		_, err := parseQuery(tc.bad, 2)
		want := tc.key + " (status, port, host, net, code, hs, cap)"
		if err == nil || !strings.Contains(err.Error(), "unknown key "+want) {
			t.Errorf("%q: error %v, want unknown key %s", tc.bad, err, want)
		}
	}
	v4 := Row{Cap: 0, FlowSummary: analysis.FlowSummary{ID: 1,
		Client: mustAddrPort("10.110.233.50:50183"), Server: mustAddrPort("172.16.1.1:443")}}
	v6 := Row{Cap: 0, FlowSummary: analysis.FlowSummary{ID: 2,
		Client: mustAddrPort("[2001:db8::50]:50183"), Server: mustAddrPort("[2001:db8::1]:443")}}
	zoned := Row{Cap: 0, FlowSummary: analysis.FlowSummary{ID: 3,
		Client: mustAddrPort("[fe80::1%eth0]:40000"), Server: mustAddrPort("[fe80::2%eth0]:22")}}
	for _, tc := range []struct {
		q     string
		row   Row
		match bool
	}{
		{"172.16.1.1:443", v4, true}, // address:port
		{"10.110.233.50:50183", v4, true},
		{"10.110.233.50:443", v4, false},
		{":443", v4, true},
		{"1.1:44", v4, true}, // part of one
		{"2001:db8::1", v6, true},
		{"[2001:db8::1]:443", v6, true},
		{"db8::50", v6, true},
		{"DB8::50", v6, true},
		{"[2001:db8::50]:443", v6, false},
		{"fe80::1%eth0", zoned, true},
		{"[fe80::2%eth0]:22", zoned, true},
		{"fe80::1%eth1", zoned, false},
	} {
		q, err := parseQuery(tc.q, 2)
		if err != nil {
			t.Errorf("%q: %v", tc.q, err)
			continue
		}
		if len(q.terms) != 1 || q.terms[0].kind != termText {
			t.Errorf("%q: not one text word: %+v", tc.q, q.terms)
			continue
		}
		if got := q.match(&tc.row, nil); got != tc.match {
			t.Errorf("%q on %s %s: %v, want %v", tc.q, tc.row.Client, tc.row.Server, got, tc.match)
		}
	}
	// In the view: the error is shown, the filter before it stays.
	m := newLoaded(t, testConfig(seed(t, "seed-client.pcap")), 80, 24)
	m = typeFilter(t, m, "port:443")
	m = typeFilter(t, m, "foo:bar")
	if m.list.filter != "port:443" || m.list.filterErr == "" {
		t.Fatalf("filter %q, error %q", m.list.filter, m.list.filterErr)
	}
	mustContain(t, m, "foo:bar: unknown key foo (status, port, host, net, code, hs, cap)")
}

func mustAddrPort(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }
