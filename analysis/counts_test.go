package analysis

import (
	"math/rand/v2"
	"net/netip"
	"testing"
	"unsafe"
)

// TestFindingCounts adds findings to a flow one at a time, past the point
// where the flow starts counting them by code and past the cap on stored
// findings, and checks Count, Counts, Has, the stored findings and the
// counts the JSON record reports against a plain recount at every step.
func TestFindingCounts(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := range 20 {
		var f Flow
		var want [numCodes]uint32
		var wantSev [numCodes][Error + 1]int
		// A few codes get most findings, so that some pass the cap.
		hot := []Code{Code(rng.IntN(int(numCodes))), Code(rng.IntN(int(numCodes)))}
		n := []int{3, 15, 16, 17, 40, 2500}[trial%6]
		for i := range n {
			c := Code(rng.IntN(int(numCodes)))
			if rng.IntN(4) > 0 {
				c = hot[rng.IntN(len(hot))]
			}
			fi := Finding{Code: c, Frame: uint64(i + 1)}
			if c.canBeCopy() && rng.IntN(3) == 0 {
				fi.B = copyNote{ipID: 7, ttl: 64, copyTTL: 63}.pack(FromClient) // info, whatever the code's severity
			}
			f.addFinding(fi)
			want[c]++
			wantSev[c][fi.Severity()]++
			if i%7 == 0 || i == n-1 {
				checkCounts(t, &f, &want)
				for c := range numCodes {
					if got := f.SeverityCounts(c); got != wantSev[c] {
						t.Fatalf("after %d findings, code %v: SeverityCounts %v, want %v", i+1, c, got, wantSev[c])
					}
				}
			}
		}
		// A copy for another goroutine has its own counts.
		g := f
		if f.notes != nil {
			notes := *f.notes
			g.notes = &notes
		}
		f.addFinding(Finding{Code: hot[0], Frame: uint64(n + 1)})
		checkCounts(t, &g, &want)
	}
}

func checkCounts(t *testing.T, f *Flow, want *[numCodes]uint32) {
	t.Helper()
	var stored [numCodes]int
	for _, fi := range f.Findings {
		stored[fi.Code]++
	}
	if got := f.Counts(); got != *want {
		t.Fatalf("after %d findings: Counts %v, want %v", len(f.Findings), got, *want)
	}
	over := f.overCounts()
	for c := range numCodes {
		if f.Count(c) != int(want[c]) || f.Has(c) != (want[c] > 0) {
			t.Fatalf("code %v: Count %d Has %v, want %d", c, f.Count(c), f.Has(c), want[c])
		}
		if stored[c] != min(int(want[c]), maxFindingsPerCode) {
			t.Fatalf("code %v: %d stored of %d, cap %d", c, stored[c], want[c], maxFindingsPerCode)
		}
		if want[c] > maxFindingsPerCode && over[c] != want[c] {
			t.Fatalf("code %v: %d past the cap reported as %d", c, want[c], over[c])
		}
		if over[c] > maxFindingsPerCode && over[c] != want[c] {
			t.Fatalf("code %v: reported past the cap as %d, want %d", c, over[c], want[c])
		}
	}
	if s := f.Summary(); s.Codes != codeSet(want) {
		t.Fatalf("Summary.Codes %#x, want %#x", s.Codes, codeSet(want))
	}
}

func codeSet(counts *[numCodes]uint32) uint64 {
	var s uint64
	for c, n := range counts {
		if n > 0 {
			s |= 1 << c
		}
	}
	return s
}

// TestFlowSize guards the memory a flow costs: every connection of a
// capture has a Flow, so a field added carelessly costs megabytes on a
// large capture (1M flows: 64 MB more for 64 bytes). Grow the limit only
// on purpose, and say what for in the commit.
func TestFlowSize(t *testing.T) {
	// 608, then 624: each side keeps the frames its retransmissions and
	// duplicate ACKs name (tshark's rto_frame and duplicate_ack_frame).
	const limit = 624
	if n := unsafe.Sizeof(Flow{}); n > limit {
		t.Errorf("Flow is %d bytes, more than %d: keep rare fields in flowNotes, and mind the padding", n, limit)
	}
}

// TestFlowEnds: the endpoints a Flow keeps in its compact form (SetEnds)
// come back as they were given, for IPv4, IPv6, IPv4-mapped IPv6 and the
// zero address, at random and at the edges; a zone is dropped.
func TestFlowEnds(t *testing.T) {
	ends := []netip.AddrPort{
		netip.MustParseAddrPort("0.0.0.0:0"),
		netip.MustParseAddrPort("255.255.255.255:65535"),
		netip.MustParseAddrPort("10.110.233.50:50183"),
		netip.MustParseAddrPort("[::]:1"),
		netip.MustParseAddrPort("[::ffff:10.0.0.1]:80"),
		netip.MustParseAddrPort("[2001:db8::1]:443"),
		netip.MustParseAddrPort("[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535"),
		{},
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for range 200 {
		var b [16]byte
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		port := uint16(rng.Uint32())
		ends = append(ends, netip.AddrPortFrom(netip.AddrFrom16(b), port), netip.AddrPortFrom(netip.AddrFrom4([4]byte(b[:4])), port))
	}
	for i, c := range ends {
		s := ends[(i*7+3)%len(ends)]
		var f Flow
		f.SetEnds(c, s)
		if f.Client() != c || f.Server() != s || f.ClientAddr() != c.Addr() || f.ServerAddr() != s.Addr() {
			t.Errorf("SetEnds(%v, %v): Client %v, Server %v", c, s, f.Client(), f.Server())
		}
	}
	var f Flow
	f.SetEnds(netip.MustParseAddrPort("[fe80::1%eth0]:22"), netip.MustParseAddrPort("[fe80::2]:1"))
	if got := f.Client(); got != netip.MustParseAddrPort("[fe80::1]:22") {
		t.Errorf("zoned client: %v", got)
	}
}
