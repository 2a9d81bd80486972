package analysis

import (
	"math/rand/v2"
	"net/netip"
	"runtime"
	"testing"
)

// tallyPkt is a segment of connection i (client 10.a.b.c:40000 to
// 192.0.2.1:443, c.f. evictPkt, for up to 2^24 connections).
func tallyPkt(frame, i int, fromServer bool, flags string, seq uint32) *Packet {
	p := packetOf(frame-1, seg{fromServer: fromServer, flags: flags, seq: seq, ms: float64(frame)})
	cl := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), 40000)
	sv := netip.MustParseAddrPort("192.0.2.1:443")
	if fromServer {
		cl, sv = sv, cl
	}
	p.Src, p.SrcPort, p.Dst, p.DstPort = cl.Addr(), cl.Port(), sv.Addr(), sv.Port()
	return &p
}

// TestOffloadTally: the offload sender kept as packets are added is the
// one offloadSender finds by reading every flow held, after every packet
// of a random capture whose bad checksums come now from the server, now
// from the clients, with flows evicted (and their parts taken out) as it
// goes. FlowCopy asks the tally, not every flow.
func TestOffloadTally(t *testing.T) {
	for seed := range uint64(20) {
		rng := rand.New(rand.NewPCG(seed, 1))
		a := NewAnalyzer(Config{Name: "t", MaxFlows: 4})
		valid, changes := 0, 0
		var last netip.Addr
		for frame := 1; frame <= 400; frame++ {
			i := 1 + rng.IntN(8)
			fromServer := rng.IntN(4) != 0
			p := tallyPkt(frame, i, fromServer, "A", uint32(frame*100))
			if rng.IntN(3) == 0 {
				p.TCPChecksum = CheckBad
			}
			a.addPacket(p)

			var flows []*Flow
			wantSenders, wantLate := map[netip.Addr]int{}, 0
			for _, f := range a.res.Flows {
				if f == nil {
					continue
				}
				flows = append(flows, f)
				if f.notes == nil {
					continue
				}
				for s := range Side(2) {
					if t := f.notes.bad; t != nil && t.by[s][badOwn].n+t.by[s][badUnknown].n+t.by[s][badInbound].n > 0 {
						wantSenders[f.addrOf(s)]++
					}
				}
				if f.goodAfterBad {
					wantLate++
				}
			}
			want, got := offloadSender(flows), a.offload.sender()
			if got != want || wantLate != a.offload.late || !sameCounts(wantSenders, a.offload.senders) {
				t.Fatalf("seed %d frame %d: tally says %v (senders %v, %d late), the flows %v (senders %v, %d late)",
					seed, frame, got, a.offload.senders, a.offload.late, want, wantSenders, wantLate)
			}
			if got.IsValid() {
				valid++
			}
			if got != last {
				changes++
				last = got
			}
		}
		if a.res.Evicted == 0 || valid == 0 || changes < 2 {
			t.Errorf("seed %d: %d evicted, an offload sender after %d packets, %d changes: the capture tests too little",
				seed, a.res.Evicted, valid, changes)
		}
	}
}

// offloadFlows returns an Analyzer holding n flows of one SYN each, past
// a MaxFlows of 3n/4 (so res.Flows has holes), and a flow whose client
// sent a bad checksum, its direction unknown, and good ones later: the
// flow FlowCopy must judge against the whole capture.
func offloadFlows(tb testing.TB, n int) (*Analyzer, int) {
	a := NewAnalyzer(Config{Name: "t", MaxFlows: 3 * n / 4, NoPacketIndex: true})
	frame := 0
	for i := 1; i <= n; i++ {
		frame++
		a.addPacket(tallyPkt(frame, i, false, "S", 100))
	}
	const c = 1 << 23
	for k, bad := range []bool{true, false, false} {
		frame++
		p := tallyPkt(frame, c, false, "A", uint32(200+k))
		if bad {
			p.TCPChecksum = CheckBad
		}
		a.addPacket(p)
	}
	id := a.lastID
	if a.holes == 0 || a.res.Flow(id) == nil {
		tb.Fatalf("%d holes, flow %d %v", a.holes, id, a.res.Flow(id))
	}
	return a, id
}

// TestFlowCopyReadsNoOtherFlow: a copy of a flow whose bad checksum needs
// the capture's offload sender costs what the flow costs, not what the
// capture's flows do. Reading every flow for it, and cloning the list of
// flows when some were evicted (8 bytes a flow), held the Analyzer's lock
// on every poll of a live drill-down.
func TestFlowCopyReadsNoOtherFlow(t *testing.T) {
	a, id := offloadFlows(t, 200_000)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range 10 {
		f, ok := a.FlowCopy(id)
		if !ok || !f.Has(CodeChecksumOffload) {
			t.Fatalf("copy of flow %d: %v, findings %v", id, ok, codes(f))
		}
	}
	runtime.ReadMemStats(&after)
	// The copy itself: the Flow, its findings and notes, a few KB.
	if got := after.TotalAlloc - before.TotalAlloc; got > 10*16<<10 {
		t.Errorf("10 copies allocated %d bytes", got)
	}
}

// BenchmarkFlowCopy: a copy of a flow that needs the offload sender, with
// a million flows held (a quarter of them evicted).
func BenchmarkFlowCopy(b *testing.B) {
	a, id := offloadFlows(b, 1_000_000)
	b.ReportAllocs()
	for b.Loop() {
		a.FlowCopy(id)
	}
}

func sameCounts(x, y map[netip.Addr]int) bool {
	if len(x) != len(y) {
		return false
	}
	for k, v := range x {
		if w, ok := y[k]; !ok || w != v {
			return false
		}
	}
	return true
}
