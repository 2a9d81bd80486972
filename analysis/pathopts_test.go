package analysis

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/synscope/synscope/capture/fixture"
)

// tsConn is a connection whose ends negotiated timestamps, the server
// answering four requests; serverOpts gives the options of the server's
// segments after the handshake (by their index, 0 the first), as near
// sees them.
func tsConn(serverOpts func(k int) string) string {
	s := pathHead + "time 2026-01-01T00:00:00Z\n" +
		"+0 C>S S seq=1000 mss=1460 sackok ts=100/0\n" +
		"+0.02 S>C SA seq=5000 ack=1001 mss=1460 sackok ts=900/100\n" +
		"+0.0002 C>S A seq=1001 ack=5001 nop nop ts=101/900\n"
	k := 0
	for i := range 4 {
		s += fmt.Sprintf("+0.001 C>S PA seq=%d ack=%d len=100 nop nop ts=%d/%d\n", 1001+100*i, 5001+200*i, 102+i, 901+i)
		s += fmt.Sprintf("+0.02 S>C PA seq=%d ack=%d len=200 %s\n", 5001+200*i, 1101+100*i, serverOpts(k))
		k++
	}
	return s
}

// The review's s4ts: a router resetting the timestamp option on every
// segment of the server's after the handshake (nftables' "reset tcp
// option timestamp": NOP NOP TS becomes 12 NOPs, the header's length the
// same) was not said, and the view said the options the same at every
// point. Said once per side and pair, on the first changed segment, with
// how many of the side's segments changed; nothing where none did; one
// segment whose timestamp went (its header shorter) counted alone.
func TestPathSegmentOptions(t *testing.T) {
	ts := func(k int) string { return fmt.Sprintf("nop nop ts=%d/%d", 901+k, 102+k) }
	nops := func(int) string { return strings.Repeat("nop ", 12) }
	far := tsConn(ts)

	pa, c := pathCase(t, tsConn(nops), shiftTime(far, "2026-01-01T00:00:00.001Z"))
	if !pa.SegmentOptionsCompared() {
		t.Fatal("segment options not compared, with every point re-readable")
	}
	got := pathFindings(pa, c.Flows[0], PathOptionsChanged)
	if len(got) != 1 || len(pathFindings(pa, c.Flows[1], PathOptionsChanged)) != 0 {
		t.Fatalf("near %+v, far %+v: want one, at near", got, pathFindings(pa, c.Flows[1], PathOptionsChanged))
	}
	fi := got[0]
	// Frame 5 is the server's first segment after the handshake at both.
	if fi.Frame != 5 || fi.RelatedPoint != 1 || fi.RelatedFrame != 5 || fi.Count != 4 || fi.Options == nil || fi.Options.Compared != 4 {
		t.Errorf("finding %+v %+v: want frame 5 at near, against frame 5 at far, 4 of 4 changed", fi, fi.Options)
	}
	for _, s := range []string{
		"timestamps removed from every one of the server's 4 segments after the handshake between far and near",
		"frame 5 at far, NOP NOP TS → frame 5 at near, 12 NOPs",
	} {
		if !strings.Contains(fi.Message, s) {
			t.Errorf("message %q\nlacks %q", fi.Message, s)
		}
	}
	if fi.Code.Severity() != Warning || pa.Status(c.Flows[0]) != StatusWarning {
		t.Errorf("severity %v, near's status %v: want warnings", fi.Code.Severity(), pa.Status(c.Flows[0]))
	}

	// Unchanged: nothing.
	pa, c = pathCase(t, far, shiftTime(far, "2026-01-01T00:00:00.001Z"))
	if got := codesOf(pa, c, PathTTL, PathClockOffset); len(got) > 0 {
		t.Errorf("unchanged: %v", got)
	}

	// Only the third segment's timestamp removed, its header 12 bytes
	// shorter: found by its length, counted alone.
	one := func(k int) string {
		if k == 2 {
			return ""
		}
		return ts(k)
	}
	pa, c = pathCase(t, tsConn(one), shiftTime(far, "2026-01-01T00:00:00.001Z"))
	got = pathFindings(pa, c.Flows[0], PathOptionsChanged)
	if len(got) != 1 || got[0].Frame != 9 || got[0].Count != 1 || got[0].Options.Compared != 4 ||
		!strings.Contains(got[0].Message, "timestamps removed from 1 of the server's 4 segments") ||
		!strings.Contains(got[0].Message, "NOP NOP TS → frame 9 at near, none") {
		t.Errorf("one segment: %+v", got)
	}

	// Points that cannot be read back: not compared, and said so.
	near, farP := pointOf(t, "near", fixture.Build(tsConn(nops))), pointOf(t, "far", fixture.Build(shiftTime(far, "2026-01-01T00:00:00.001Z")))
	near.Reread = nil
	pa = Correlate([]Point{near, farP})
	if pa.SegmentOptionsCompared() || len(pa.Conns) != 1 || len(pathFindings(pa, pa.Conns[0].Flows[0], PathOptionsChanged)) != 0 {
		t.Errorf("not re-readable: compared %v, %d connections", pa.SegmentOptionsCompared(), len(pa.Conns))
	}
}

// optionLayout and kindsDiff, the words of the finding.
func TestOptionWords(t *testing.T) {
	for _, c := range []struct {
		was, now []byte
		layout   string
		diff     string
	}{
		{[]byte{1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2}, []byte{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}, "NOP NOP TS", "timestamps removed"},
		{[]byte{1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2}, []byte{1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2, 1, 1, 5, 10, 0, 0, 0, 1, 0, 0, 0, 2}, "NOP NOP TS", "SACK blocks added"},
		{nil, []byte{19, 18, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, "none", "MD5 signature added"},
	} {
		if got := optionLayout(c.was); got != c.layout {
			t.Errorf("optionLayout(% x) = %q, want %q", c.was, got, c.layout)
		}
		if got := kindsDiff(c.was, c.now); got != c.diff {
			t.Errorf("kindsDiff(% x, % x) = %q, want %q", c.was, c.now, got, c.diff)
		}
	}
	if got := optionLayout([]byte{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}); got != "12 NOPs" {
		t.Errorf("12 NOPs: %q", got)
	}
}

// proxiedPath is the review's s3transp between inside and outside: the
// client's connections (from 10.0.0.5) answered by a relay on the router
// (its SYN-ACK with the router's TTL 64, the server's packets arriving
// with 60) and the relay's own to the server (from 198.51.100.1) at
// outside. before, if any, is a connection that passed both points first
// (its clock offset known then).
func proxiedPath(t *testing.T, n int, before string) *Path {
	t.Helper()
	client := func(port, at int) string {
		return strings.Replace(pathHead, ":40010", fmt.Sprintf(":%d", port), 1) + fmt.Sprintf("time 2026-01-01T00:00:%02dZ\n", at) +
			"+0 C>S S seq=1000 mss=1460\n+0.0001 S>C SA seq=7000 ack=1001 mss=1460 ttl=64\n+0.0002 C>S A seq=1001 ack=7001\n" +
			"+0.001 C>S PA seq=1001 ack=7001 len=50\n+0.003 S>C PA seq=7001 ack=1051 len=300 ttl=64\n+0.0002 C>S A seq=1051 ack=7301\n"
	}
	relay := func(port, at int) string {
		return strings.Replace(pathHead, "10.0.0.5:40010 ttl=64", fmt.Sprintf("198.51.100.1:%d ttl=64", port), 1) +
			fmt.Sprintf("time 2026-01-01T00:00:%02d.0005Z\n", at) +
			"+0 C>S S seq=3000 mss=1460\n+0.001 S>C SA seq=9000 ack=3001 mss=1460\n+0.0002 C>S A seq=3001 ack=9001\n" +
			"+0.0002 C>S PA seq=3001 ack=9001 len=50\n+0.001 S>C PA seq=9001 ack=3051 len=300\n+0.0002 C>S A seq=3051 ack=9301\n"
	}
	var inside, outside []byte
	if before != "" {
		inside, outside = fixture.Build(before), fixture.Build(shiftTime(before, "2026-01-01T00:00:00.001Z"))
	}
	for k := range n {
		for _, x := range []struct {
			to   *[]byte
			text string
		}{{&inside, client(40100+k, 1+k)}, {&outside, relay(50100+k, 1+k)}} {
			b := fixture.Build(x.text)
			if len(*x.to) > 0 {
				b = b[24:]
			}
			*x.to = append(*x.to, b...)
		}
	}
	return Correlate([]Point{pointOf(t, "inside", inside), pointOf(t, "outside", outside)})
}

// The review's s3transp: a transparent proxy on the router (an nft
// redirect to a relay) ended the client's connections between inside and
// outside, and the view said "✓ the same segments at every point that
// saw them" and nothing else. Each is said answered between them, on
// its SYN-ACK, and once for the path when several are.
func TestPathAnsweredBetween(t *testing.T) {
	for _, tc := range []struct {
		name   string
		before string
		clock  string
	}{
		{"no connection passed both", "", "clocks taken as the same"},
		{"the clocks known", pathHead + "time 2026-01-01T00:00:00Z\n" + strings.Join(longConn()[:6], "\n") + "\n", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pa := proxiedPath(t, 3, tc.before)
			said := 0
			for _, c := range pa.Conns {
				f := c.Flows[0]
				if f == nil || c.Flows[1] != nil {
					continue
				}
				got := pathFindings(pa, f, PathAnswered)
				if len(got) != 1 || got[0].Frame != f.Handshake.SynAckFrame || got[0].OtherFrame != f.Handshake.SynFrame || got[0].RelatedPoint != 1 {
					t.Errorf("connection %d: %+v, want one on its SYN-ACK", c.ID, got)
					continue
				}
				said++
				for _, s := range []string{
					"answered between inside and outside: its SYN (frame",
					"never reached outside and its SYN-ACK (frame",
					"saw the server 203.0.113.10:443: a proxy",
					tc.clock,
				} {
					if !strings.Contains(got[0].Message, s) {
						t.Errorf("%q\nlacks %q", got[0].Message, s)
					}
				}
				if fs := pathFindings(pa, f, PathDropped); len(fs) > 0 {
					t.Errorf("connection %d: dropped %+v", c.ID, fs)
				}
				if pa.Status(f) != StatusWarning {
					t.Errorf("connection %d: %v, want warning", c.ID, pa.Status(f))
				}
			}
			if said != 3 {
				t.Errorf("%d connections said answered, want 3", said)
			}
			if len(pa.Answered) != 1 || pa.Answered[0].Conns != 3 ||
				!slices.ContainsFunc(pa.Warnings(unicodeGlyphs), func(w string) bool {
					return strings.HasPrefix(w, "3 connections were answered between inside and outside")
				}) || !slices.Contains(pa.WarningsShort(), "3 answered between inside and outside") {
				t.Errorf("head: %+v %q %q", pa.Answered, pa.Warnings(unicodeGlyphs), pa.WarningsShort())
			}
			// With no connection through both, the two points shared
			// none, and each was said lone ("the wrong file, interface
			// or capture filter?"): the proxy explains it.
			if len(pa.Lone) != 0 || slices.ContainsFunc(pa.Warnings(unicodeGlyphs), func(w string) bool {
				return strings.Contains(w, "shares no connection")
			}) {
				t.Errorf("lone points %+v beside the proxy's line: %q", pa.Lone, pa.Warnings(unicodeGlyphs))
			}
		})
	}
	// One: said on it, not in the head.
	if pa := proxiedPath(t, 1, ""); len(pa.Answered) != 0 {
		t.Errorf("one connection: head %+v", pa.Answered)
	}
}

// Not a proxy: a SYN that never reached outside, unanswered, is dropped
// there, as the review's s5full (a connection limit) is; and a SYN-ACK
// with the TTL the server's forwarded packets arrive with (a host on the
// client's own LAN, another interface of a firewall) came another way.
func TestPathAnsweredBetweenNot(t *testing.T) {
	long := longConn()
	head := pathHead + "time 2026-01-01T00:00:00Z\n" + strings.Join(long[:6], "\n") + "\n"
	build := func(short string) *Path {
		near := fixture.Build(head)
		near = append(near, fixture.Build(strings.Replace(pathHead, ":40010", ":40011", 1) + "time 2026-01-01T00:00:00.03Z\n" + short)[24:]...)
		near = append(near, fixture.Build(pathHead + "time 2026-01-01T00:00:00.5Z\n" + from(long, 6))[24:]...)
		far := fixture.Build(shiftTime(pathHead+"time 2026-01-01T00:00:00Z\n"+strings.Join(long, "\n")+"\n", "2026-01-01T00:00:00.001Z"))
		return Correlate([]Point{pointOf(t, "inside", near), pointOf(t, "outside", far)})
	}
	short := func(pa *Path) *Connection {
		for _, c := range pa.Conns {
			if c.Flows[0] != nil && c.Flows[1] == nil {
				return c
			}
		}
		t.Fatal("no connection at inside only")
		return nil
	}
	pa := build("+0 C>S S seq=7000 mss=1460\n+1 C>S S seq=7000 mss=1460\n")
	c := short(pa)
	if got, want := codesOf(pa, c, PathTTL, PathClockOffset), []string{"inside:path.dropped@7", "inside:path.dropped@8", "inside:path.unjoined@7"}; !slices.Equal(got, want) {
		t.Errorf("SYN unanswered: %v, want %v", got, want)
	}
	pa = build("+0 C>S S seq=7000 mss=1460\n+0.002 S>C SA seq=9000 ack=7001 mss=1460\n+0.0002 C>S A seq=7001 ack=9001\n")
	if got := pathFindings(pa, short(pa).Flows[0], PathAnswered); len(got) > 0 || len(pa.Answered) > 0 {
		t.Errorf("SYN-ACK with the server's TTL: %+v", got)
	}
}

// A point's file overwritten in place after it was read (a tcpdump -W
// ring, a capture run again under the same name) held other packets where
// the index had them: their options were compared as the indexed ones',
// the real change went unsaid and a false one was said (review diff21b).
// A packet read back must be the one indexed (its numbers, length and
// flags); where it is not, the point is said once as changed and its
// segments are not compared.
func TestPathSegmentOptionsFileChanged(t *testing.T) {
	ts := func(k int) string { return fmt.Sprintf("nop nop ts=%d/%d", 901+k, 102+k) }
	nops := func(int) string { return strings.Repeat("nop ", 12) }
	far := shiftTime(tsConn(ts), "2026-01-01T00:00:00.001Z")
	near := pointOf(t, "near", fixture.Build(tsConn(nops)))
	// What the file holds now: the same sizes, the server's numbers and
	// options other.
	now := pointOf(t, "near", fixture.Build(strings.ReplaceAll(tsConn(ts), "S>C PA seq=5", "S>C PA seq=7")))
	near.Reread = now.Reread
	pa := Correlate([]Point{near, pointOf(t, "far", fixture.Build(far))})
	if len(pa.Conns) != 1 {
		t.Fatalf("%d connections, want 1", len(pa.Conns))
	}
	c := pa.Conns[0]
	for _, f := range c.Flows {
		if got := pathFindings(pa, f, PathOptionsChanged); len(got) != 0 {
			t.Errorf("options_changed %+v from packets the file no longer holds", got)
		}
	}
	if !slices.Equal(pa.Changed, []int{0}) {
		t.Errorf("changed points %v, want [0]", pa.Changed)
	}
	w := strings.Join(pa.Warnings(PathGlyphs{}), "\n")
	if !strings.Contains(w, "near changed since it was read") || !slices.Contains(pa.WarningsShort(), "near changed since read") {
		t.Errorf("warnings %q / %q: want near said changed", w, pa.WarningsShort())
	}
}
