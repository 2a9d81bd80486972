package analysis

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/synscope/synscope/capture/fixture"
)

// retriedConn is a client that sent its SYN n times, a second apart, and
// a server that answered each with a SYN-ACK of a new ISN; the client
// acknowledged the last, and 4 requests and answers follow. It returns
// the lines and the indexes of the SYN-ACKs but the last.
func retriedConn(n int) (lines []string, early []int) {
	for i := range n {
		lines = append(lines,
			"+1      C>S S  seq=1000 mss=1460",
			fmt.Sprintf("+0.0001 S>C SA seq=%d ack=1001 mss=1460", 7000000+1000003*i))
		if i < n-1 {
			early = append(early, 2*i+1)
		}
	}
	last := uint32(7000000 + 1000003*(n-1))
	lines = append(lines, fmt.Sprintf("+0.0002 C>S A  seq=1001 ack=%d", last+1))
	for i := range 4 {
		c, s := 1001+48*i, last+1+uint32(10*i)
		lines = append(lines,
			fmt.Sprintf("+0.25 C>S PA seq=%d ack=%d len=48", c, s),
			fmt.Sprintf("+0.02 S>C PA seq=%d ack=%d len=10", s, c+48))
	}
	return lines, early
}

// A server answered 9 or more retried SYNs with a new ISN each, and a
// firewall between the points dropped all SYN-ACKs but the last. The
// list of ISNs stopped at 8, so far (nearer the server) had lost the one
// near saw: the pair read as an ISN rewritten, far's clock 1 s off (one
// SYN's retry apart), and the later segments as dropped, injected and
// uncaptured (review diff21, defect 2). Each early SYN-ACK is the drop,
// at far, and nothing else; with 8, as before.
func TestPathNewISNMoreThanListHolds(t *testing.T) {
	for _, n := range []int{8, 9, 12, 40} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			lines, early := retriedConn(n)
			pa, c := pathCase(t, isnHead("0000")+withIDs(lines, 100, early...), isnHead("0003")+withIDs(lines, 100))
			var want []string
			for _, k := range early {
				want = append(want, fmt.Sprintf("far:path.dropped@%d", k+1))
			}
			slices.Sort(want)
			if got := codesOf(pa, c, PathTTL, PathClockOffset); !slices.Equal(got, want) {
				t.Errorf("findings %v, want %v", got, want)
			}
			if d := pa.Offset[1]; math.IsNaN(d) || math.Abs(d) > 0.001 {
				t.Errorf("far's clock offset %v s, want within 1 ms (0.3 ms apart)", d)
			}
			last := uint32(7000000 + 1000003*(n-1))
			if ia, ib, ok := pairISNs(c.Flows[0], c.Flows[1], FromServer); !ok || ia != last || ib != last {
				t.Errorf("pairISNs = %d, %d, %v; want %d at both", ia, ib, ok, last)
			}
		})
	}
}

// A full list keeps its first ISN (the handshake's) and the one the
// client acknowledged, whatever comes after; the others are the latest,
// in capture order. Here the client acknowledged the 3rd of 20 ISNs, and
// SYN-ACKs kept coming (a SYN flood tool on the client's address).
func TestISNListKeepsFirstAckedLast(t *testing.T) {
	var lines []string
	isn := func(i int) uint32 { return uint32(7000000 + 1000003*i) }
	for i := range 20 {
		lines = append(lines,
			"+0.01   C>S S  seq=1000 mss=1460",
			fmt.Sprintf("+0.0001 S>C SA seq=%d ack=1001 mss=1460", isn(i)))
		if i == 2 {
			lines = append(lines, fmt.Sprintf("+0.0002 C>S A  seq=1001 ack=%d", isn(i)+1))
		}
	}
	pt := pointOf(t, "near", fixture.Build(isnHead("0000")+withIDs(lines, 100)))
	if len(pt.Result.Flows) != 1 {
		t.Fatalf("%d flows, want 1", len(pt.Result.Flows))
	}
	l, ok := synISNs(pt.Result.Flows[0], FromServer)
	if !ok || l.n != maxISNs {
		t.Fatalf("list of %d (ok %v), want %d", l.n, ok, maxISNs)
	}
	want := []uint32{isn(0), isn(2)}
	for i := 20 - (maxISNs - 2); i < 20; i++ {
		want = append(want, isn(i))
	}
	if !slices.Equal(l.v[:l.n], want) || l.acked != 1 || l.own() != isn(2) {
		t.Errorf("list %v acked %d, want %v acked 1 (ISN %d)", l.v[:l.n], l.acked, want, isn(2))
	}
}

// doubledOn writes a side's packets (lines with their IP IDs, withIDs)
// twice, the copy 15 µs after with the same IP ID: a device between two
// points duplicated them (a bridge loop, nftables' dup).
func doubledOn(text, side string) string {
	var out []string
	for _, l := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		out = append(out, l)
		if strings.Contains(l, " "+side+" ") {
			f := strings.Fields(l)
			f[0] = "+0.000015"
			out = append(out, strings.Join(f, " "))
		}
	}
	return strings.Join(out, "\n") + "\n"
}

// Every packet of one side duplicated between the points (same IP ID,
// 15 µs apart): each extra copy is path.duplicated, on the second copy,
// where its flow's own finding (the SYN or SYN-ACK seen again,
// tcp.dup_ack, tcp.retransmission) is; and every such finding that names
// path.duplicated has one. The SYN, the near capture's first packet, got
// none though its handshake.syn_retransmit named it (the copy fell
// before near's capture, the clocks' offset estimated 71 µs off), and the
// ACK's path.duplicated was on the first copy, its tcp.dup_ack on the
// second (review diff21, defect 3). With a FIN, and with a RST, as well;
// the RST's copy, near's last packet, comes after near's capture with the
// offset taken out, and its flow does not take it for a copy either: it
// is said by neither (a capture's end is as far as a point tells).
func TestPathDuplicatedOnTheWaySaid(t *testing.T) {
	conn := slices.Concat(longConn()[:7], []string{
		"+0.02   C>S FA seq=1097 ack=5021",
		"+0.0001 S>C FA seq=5021 ack=1098",
		"+0.0001 C>S A  seq=1098 ack=5022",
	})
	reset := slices.Concat(longConn()[:7], []string{"+0.02 C>S R seq=1097"})
	for _, tc := range []struct {
		name  string
		lines []string
		side  string // the side duplicated
		last  bool   // the last line's copy said
	}{
		{"client's packets, FIN", conn, "C>S", true},
		{"server's packets, FIN", conn, "S>C", true},
		{"client's packets, RST", reset, "C>S", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			plain := withIDs(tc.lines, 100)
			near, far := plain, doubledOn(plain, tc.side)
			// The server's packets pass far first: near sees them twice.
			doubled := 1
			if tc.side == "S>C" {
				near, far, doubled = far, plain, 0
			}
			pa, c := pathCase(t, isnHead("0000")+near, isnHead("0003")+far)
			f := c.Flows[doubled]
			var want []string
			// The frames of the extra copies: each follows its original.
			frame := 0
			for k, l := range tc.lines {
				frame++
				if strings.Contains(l, tc.side) {
					frame++
					if k < len(tc.lines)-1 || tc.last {
						want = append(want, fmt.Sprintf("%s:path.duplicated@%d", pa.Points[doubled], frame))
					}
				}
			}
			slices.Sort(want)
			if got := codesOf(pa, c, PathTTL, PathClockOffset); !slices.Equal(got, want) {
				t.Errorf("findings %v, want %v", got, want)
			}
			dup := map[uint64]bool{}
			for _, fi := range pathFindings(pa, f, PathDuplicated) {
				dup[fi.Frame] = true
			}
			copies := 0
			for _, fi := range f.Findings {
				if !fi.IsCopy() {
					continue
				}
				copies++
				msg := pa.FlowMessage(f, fi)
				if !strings.Contains(msg, "path.duplicated") {
					t.Errorf("frame %d: %s: %q does not say the copy was made on the way", fi.Frame, fi.Code, msg)
				}
				if !dup[fi.Frame] {
					t.Errorf("frame %d: %s names a path.duplicated it does not have: %q", fi.Frame, fi.Code, msg)
				}
			}
			if copies == 0 {
				t.Fatal("no finding about a copy in the doubled flow: the case tests nothing")
			}
		})
	}
}

// checksum.offload in the singular reads "with a TCP checksum" (review
// diff21, defect 5), in the plural "with TCP checksums"; those the
// capturing host sent, "with a bad TCP checksum" and "with bad ... ".
func TestChecksumOffloadMessageNumber(t *testing.T) {
	f := &Flow{}
	for _, tc := range []struct {
		n, sums int64
		want    string
	}{
		{1, sumTCPBad, "1 packet with a TCP checksum left unfinished (the"},
		{2, sumTCPBad, "2 packets with TCP checksums left unfinished (the"},
		{1, sumTCPBad | sumSent, "1 packet sent by the capturing host with a bad TCP checksum: "},
		{3, sumTCPBad | sumSent, "3 packets sent by the capturing host with bad TCP checksums: "},
		{1, sumTCPBad | sumIPv4Bad | sumSent, "1 packet sent by the capturing host with bad IPv4 header and TCP checksums: "},
	} {
		msg := f.Message(Finding{Code: CodeChecksumOffload, A: tc.n, B: tc.sums})
		if !strings.HasPrefix(msg, tc.want) {
			t.Errorf("%d packets, sums %#x: %q, want it to start %q", tc.n, tc.sums, msg, tc.want)
		}
	}
}
