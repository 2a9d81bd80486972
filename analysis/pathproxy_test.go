package analysis

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/synscope/synscope/capture/fixture"
)

// proxyRow is one packet of a connection through a router between the
// inside and outside points, with its time at each point (client, inside,
// outside, server) in µs, -1 where it was not seen, and its attributes on
// the client's side of the router (near: client and inside) and on the
// server's (far: outside and server).
type proxyRow struct {
	dir       string
	t         [4]int
	near, far string
}

// proxyPoints are the points of a proxy case, client side first.
var proxyPoints = []string{"client", "inside", "outside", "server"}

// proxyCaptures writes the four points' descriptions of rows. Across the
// router the client's packets lose a hop (64 → 63), the server's too:
// what the device sends itself says ttl=64 where it arrives.
func proxyCaptures(rows []proxyRow) []string {
	ttl := [4][2]int{{64, 63}, {64, 63}, {63, 64}, {63, 64}} // client's, server's
	out := make([]string, 4)
	for p := range out {
		var b strings.Builder
		fmt.Fprintf(&b, "format pcap\nlink ethernet\nclient 10.0.0.5:40010 ttl=%d\nserver 203.0.113.10:443 ttl=%d\ntime 2026-01-01T00:00:00Z\n", ttl[p][0], ttl[p][1])
		for _, r := range rows {
			if r.t[p] < 0 {
				continue
			}
			attrs := r.near
			if p >= 2 {
				attrs = r.far
			}
			fmt.Fprintf(&b, "%.6f %s %s\n", float64(r.t[p])/1e6, r.dir, attrs)
		}
		out[p] = b.String()
	}
	return out
}

// synProxyRows is an HTTP request through nftables' synproxy between
// inside and outside, as the review's s1b captured it: the router answers
// the client's SYN itself (its own ISN 9000, window 0, TTL 64, WS ws),
// opens its own connection to the server once the client's ACK comes
// (its SYN, window 63, IP ID 0), swallows the server's SYN-ACK (ISN 5100),
// ACKs it, and sends the client its own window update 12 µs before the
// server's ACK passes outside; the server's numbers are shifted by 3900
// from then on (seqadj).
func synProxyRows(ws int) []proxyRow {
	no := -1
	return []proxyRow{
		{"C>S", [4]int{0, 2, no, no}, "S seq=1000 mss=1460 ws=10 sackok", ""},
		{"S>C", [4]int{40, 36, no, no}, fmt.Sprintf("SA seq=9000 ack=1001 win=0 mss=1400 ws=%d sackok ttl=64 id=0", ws), ""},
		{"C>S", [4]int{60, 62, no, no}, "A seq=1001 ack=9001 win=63", ""},
		{"C>S", [4]int{no, no, 75, 79}, "", "S seq=1000 win=63 mss=1460 ws=10 sackok ttl=64 id=0"},
		{"S>C", [4]int{no, no, 95, 90}, "", "SA seq=5100 ack=1001 win=65160 mss=1460 ws=10 sackok id=0"},
		{"C>S", [4]int{no, no, 101, 105}, "", "A seq=1001 ack=5101 win=63 ttl=64 id=0"},
		{"S>C", [4]int{109, 105, no, no}, "A seq=9001 ack=1001 win=63 ttl=64 id=0", ""},
		{"S>C", [4]int{124, 120, 117, 112}, "A seq=9001 ack=1001 win=63 id=0", "A seq=5101 ack=1001 win=63 id=0"},
		{"C>S", [4]int{172, 174, 177, 181}, "PA seq=1001 ack=9001 win=63 len=87 id=3", "PA seq=1001 ack=5101 win=63 len=87 id=3"},
		{"S>C", [4]int{203, 199, 195, 190}, "A seq=9001 ack=1088 win=64 id=100", "A seq=5101 ack=1088 win=64 id=100"},
		{"S>C", [4]int{4400, 4396, 4392, 4388}, "PA seq=9001 ack=1088 win=64 len=187", "PA seq=5101 ack=1088 win=64 len=187"},
		{"C>S", [4]int{4420, 4422, 4425, 4429}, "A seq=1088 ack=9188 win=63", "A seq=1088 ack=5288 win=63"},
		{"S>C", [4]int{4460, 4456, 4452, 4448}, "PA seq=9188 ack=1088 win=64 len=406", "PA seq=5288 ack=1088 win=64 len=406"},
		{"C>S", [4]int{4470, 4472, 4475, 4479}, "A seq=1088 ack=9594 win=63", "A seq=1088 ack=5694 win=63"},
		{"S>C", [4]int{4500, 4496, 4492, 4488}, "FA seq=9594 ack=1088 win=64", "FA seq=5694 ack=1088 win=64"},
		{"C>S", [4]int{4520, 4522, 4525, 4529}, "FA seq=1088 ack=9595 win=63", "FA seq=1088 ack=5695 win=63"},
		{"S>C", [4]int{4560, 4556, 4552, 4548}, "A seq=9595 ack=1089 win=64", "A seq=5695 ack=1089 win=64"},
	}
}

// proxyPath joins the points of rows (those named in points) and returns
// the path and its one connection, seen at all of them.
func proxyPath(t *testing.T, rows []proxyRow, points ...string) (*Path, *Connection) {
	t.Helper()
	descs := proxyCaptures(rows)
	var ps []Point
	for _, name := range points {
		ps = append(ps, pointOf(t, name, fixture.Build(descs[slices.Index(proxyPoints, name)])))
	}
	pa := Correlate(ps)
	if len(pa.Conns) != 1 || slices.Contains(pa.Conns[0].Present(), false) {
		t.Fatalf("%d connections, want 1 seen at every point", len(pa.Conns))
	}
	return pa, pa.Conns[0]
}

// A SYN proxy between inside and outside (review realpath2, s1b and
// s1synproxy): every connection was "path.duplicated", the server's
// forwarded ACK (inside frame 5, TTL 63) named as one more copy of the
// proxy's own (inside frame 4, TTL 64, sent before the server's ACK passed
// outside), and the proxy's SYN-ACK was the server's "MSS clamped",
// "options changed" and "window changed". The handshake is said answered
// between outside and inside, the proxy's ACK sent by it, the ISN
// translation rewritten as before, and with the proxy's WS 7 against the
// server's 10 the ends' disagreement is the one error.
func TestPathSynProxy(t *testing.T) {
	for _, points := range [][]string{{"inside", "outside"}, proxyPoints} {
		t.Run(strings.Join(points, "-"), func(t *testing.T) {
			pa, c := proxyPath(t, synProxyRows(7), points...)
			in, out := slices.Index(points, "inside"), slices.Index(points, "outside")
			got := codesOf(pa, c, PathTTL, PathClockOffset, PathScaling)
			want := []string{"inside:path.syn_proxy@2", "inside:path.syn_proxy@4", "outside:path.isn_rewritten@1"}
			if !slices.Equal(got, want) {
				t.Fatalf("findings %v, want %v", got, want)
			}
			fis := pathFindings(pa, c.Flows[in], PathSynProxy)
			hs, dev := fis[0], fis[1]
			if hs.Code.Severity() != Info || hs.RelatedPoint != out || hs.RelatedFrame != 2 || hs.OtherFrame != 5 {
				t.Errorf("handshake %+v: want the SYN-ACK at outside (frame 2), TTL from frame 5", hs)
			}
			for _, s := range []string{
				"the handshake was answered between outside and inside (a SYN proxy): the SYN-ACK at inside (frame 2) is the device's, not the server's (frame 2 at outside)",
				"ISN 9000, not 5100", "window 0, not 65160",
				"options MSS 1400 · WS 7 · SACK · no TS, not MSS 1460 · WS 10 · SACK · no TS",
				"TTL 64 where the server's packets arrive with 63 (frame 5)",
				"sent before the server's SYN-ACK reached outside",
				"the client's ISN 1000 is the same at both",
			} {
				if !strings.Contains(hs.Message, s) {
					t.Errorf("handshake %q\nlacks %q", hs.Message, s)
				}
			}
			if dev.RelatedPoint != out || dev.RelatedFrame != 0 || dev.OtherFrame != 5 ||
				dev.Message != "ACK (frame 4 at inside) was not seen at outside: sent by the device between outside and inside that answered the handshake (a SYN proxy), not by the server: TTL 64 where the server's packets arrive with 63 (frame 5)" {
				t.Errorf("the proxy's ACK: %+v", dev)
			}
			// The ladder lines the server's ACK at outside up with the one
			// forwarded (inside frame 5), not with the proxy's.
			fin, fout := c.Flows[in], c.Flows[out]
			for _, r := range pa.Ladder(c) {
				if r.Refs[out] >= 0 && fout.Refs[r.Refs[out]].Frame == 4 && fout.Refs[r.Refs[out]].Side() == FromServer {
					if r.Refs[in] < 0 || fin.Refs[r.Refs[in]].Frame != 5 {
						t.Errorf("outside frame 4 on a row with inside %v, want frame 5", r.Refs)
					}
				}
			}
			// Said where the option changed: on the proxy's SYN-ACK at
			// inside, against the server's at outside.
			sc := pathFindings(pa, c.Flows[in], PathScaling)
			if len(sc) != 1 || sc[0].Frame != 2 || sc[0].RelatedPoint != out ||
				!strings.Contains(sc[0].Message, "window scaling changed between outside and inside") ||
				!strings.Contains(sc[0].Message, "the server's windows, sent with shift 10, are read by the client with 7: 8× too small, which slows the connection") {
				t.Errorf("scaling %+v", sc)
			}
		})
	}
	// The proxy configured with the server's WS 10: nothing wrong, every
	// point's flow ok.
	pa, c := proxyPath(t, synProxyRows(10), proxyPoints...)
	if got := codesOf(pa, c, PathTTL, PathClockOffset, PathSynProxy, PathISNRewritten); len(got) > 0 {
		t.Errorf("WS 10: findings %v, want the proxy only", got)
	}
	for i, f := range c.Flows {
		if st := pa.Status(f); st != StatusOK {
			t.Errorf("WS 10: %s's flow %v, want ok", proxyPoints[i], st)
		}
	}
}

// An ISN-randomising firewall that also clamps the MSS forwards the
// server's SYN-ACK: it loses the server's hop like the rest and comes
// after the server's passed outside. Its MSS changed on the way (MSS
// clamping, as before), its ISN rewritten; not a SYN proxy.
func TestPathMSSClampedNotProxy(t *testing.T) {
	rows := synProxyRows(10)
	rows = slices.Delete(rows, 3, 7) // no SYN, ACK or window update of the router's own
	rows[0].t = [4]int{0, 2, 5, 9}
	rows[0].far = "S seq=1000 mss=1460 ws=10 sackok"
	rows[1] = proxyRow{"S>C", [4]int{40, 36, 33, 29}, "SA seq=9000 ack=1001 win=65160 mss=1400 ws=10 sackok id=0", "SA seq=5100 ack=1001 win=65160 mss=1460 ws=10 sackok id=0"}
	rows[2].t = [4]int{60, 62, 65, 69}
	rows[2].far = "A seq=1001 ack=5101 win=63"
	pa, c := proxyPath(t, rows, proxyPoints...)
	got := codesOf(pa, c, PathTTL, PathClockOffset)
	want := []string{"inside:path.mss_changed@2", "outside:path.isn_rewritten@1"}
	if !slices.Equal(got, want) {
		t.Fatalf("findings %v, want %v", got, want)
	}
	if fi := pathFindings(pa, c.Flows[1], PathMSSChanged)[0]; fi.Message != "SYN-ACK's MSS changed from 1460 at outside to 1400 at inside: MSS clamping" {
		t.Errorf("MSS %q", fi.Message)
	}
}

// An extra pure ACK at near with TTL 64, where the server's packets
// arrive with 59 and the ISNs are the same at both points (no proxy): sent
// by a device between them, not one more copy of the server's ACK.
func TestPathInjectedByTTL(t *testing.T) {
	lines := slices.Insert(longConn()[:9], 5, "+0.001 S>C A seq=5011 ack=1049")
	far := ttlAt(ttlAt(lines, "C>S", 63, -1, 0), "S>C", 60, -1, 0)
	near := ttlAt(ttlAt(lines, "C>S", 64, -1, 0), "S>C", 59, -1, 0)
	near = slices.Insert(near, 6, "+0.00001 S>C A seq=5011 ack=1049 ttl=64")
	pa, c := pathCase(t, pathHead+"time 2026-01-01T00:00:00Z\n"+strings.Join(near, "\n")+"\n",
		pathHead+"time 2026-01-01T00:00:00.0003Z\n"+strings.Join(far, "\n")+"\n")
	got := codesOf(pa, c, PathTTL, PathClockOffset)
	if want := []string{"near:path.injected@7"}; !slices.Equal(got, want) {
		t.Fatalf("findings %v, want %v", got, want)
	}
	fi := pathFindings(pa, c.Flows[0], PathInjected)[0]
	want := "ACK (frame 7 at near) was not seen at far, which it should have passed: sent by a device between far and near: TTL 64 where the server's packets arrive with 59 (frame 6)"
	if fi.Message != want {
		t.Errorf("message %q, want %q", fi.Message, want)
	}
	// The same copy with the server's TTL, after it: one more copy.
	near[6] = "+0.00001 S>C A seq=5011 ack=1049 ttl=59"
	pa, c = pathCase(t, pathHead+"time 2026-01-01T00:00:00Z\n"+strings.Join(near, "\n")+"\n",
		pathHead+"time 2026-01-01T00:00:00.0003Z\n"+strings.Join(far, "\n")+"\n")
	if got, want := codesOf(pa, c, PathTTL, PathClockOffset), []string{"near:path.duplicated@7"}; !slices.Equal(got, want) {
		t.Errorf("the server's TTL: findings %v, want %v", got, want)
	}
}

// The scaling error names the two shifts that disagree and what the
// reader's wrong factor does: too small slows the connection, too large
// lets the reader send more than the other end can take.
func TestScalingMisread(t *testing.T) {
	opts := func(syn, synack int) Handshake {
		var h Handshake
		if syn >= 0 {
			h.Client.HasWScale, h.Client.WScale = true, uint8(syn)
		}
		if synack >= 0 {
			h.Server.HasWScale, h.Server.WScale = true, uint8(synack)
		}
		return h
	}
	for _, tc := range []struct {
		name   string
		hc, hs Handshake
		want   string
	}{
		{"proxy WS 7, server 10", opts(10, 7), opts(10, 10),
			"the server's windows, sent with shift 10, are read by the client with 7: 8× too small, which slows the connection"},
		{"the SYN's shift raised", opts(2, 8), opts(7, 8),
			"the client's windows, sent with shift 2, are read by the server with 7: 32× too large, so the server may send more than the client can take (drops, retransmissions)"},
		{"stripped from the SYN-ACK", opts(7, -1), opts(7, 8),
			"the server's windows, sent with shift 8, are read by the client with 0: 256× too small, which slows the connection; " +
				"the client's windows, sent with shift 0, are read by the server with 7: 128× too large, so the server may send more than the client can take (drops, retransmissions)"},
		{"beyond 14", opts(7, 15), opts(7, 14), "every window still reads as it was meant (a shift over 14 counts as 14)"},
	} {
		if got := misreadText(&tc.hc, &tc.hs); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}
