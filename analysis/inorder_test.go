package analysis

import (
	"math/rand/v2"
	"net/netip"
	"reflect"
	"testing"
)

// TestAddInOrderSame holds Flow.addInOrder, the shortcut for an in-order
// segment of an established connection, to addAny, the general path: it
// replays random connections (handshakes whole, partial or missing,
// IPv4 and IPv6, data and ACKs in order, and among them every segment
// the shortcut must decline: retransmissions, holes, duplicate ACKs,
// window updates, zero windows and their probes, full windows,
// keep-alives, copies with the last packet's IP ID, ACKs of unseen data,
// FINs out of order or after data, RSTs, bad checksums, damaged
// segments) into two flows, one as addHashed feeds it (the shortcut, or
// else addAny) and one through addAny alone, and compares the whole of
// the two flows after every segment.
func TestAddInOrderSame(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	fast, total := 0, 0
	// One goroutine: the race detector adds nothing here but a tenfold
	// cost (35 s of CI's race run for 3,000 connections).
	runs := 3000
	if raceEnabled {
		runs = 300
	}
	for run := range runs {
		g := newInOrderGen(r, run)
		var fa, fb *Flow
		aa, ab := NewAnalyzer(Config{}), NewAnalyzer(Config{})
		var ta, tb offloadTally
		withRefs := run%3 == 0
		for k := 0; k < g.n; k++ {
			p := g.next()
			if fa == nil {
				fa, fb = aa.newFlow(&p), ab.newFlow(&p)
			}
			side := fa.sideOf(&p)
			if fa.reuseSYN(&p, side) != fb.reuseSYN(&p, side) {
				t.Fatalf("run %d, segment %d: reuseSYN differs", run, k)
			}
			if !reflect.DeepEqual(fa, fb) {
				t.Fatalf("run %d, segment %d: reuseSYN left the flows apart", run, k)
			}
			if fa.dir[side].baseSet && p.Flags&(FlagSYN|FlagACK) == FlagSYN && p.Seq != fa.dir[side].baseSeq {
				break // a new connection on these ports: another flow's
			}
			total++
			pa, pb := &aa.refs, &ab.refs
			if !withRefs {
				pa, pb = nil, nil
			}
			// As addHashed does.
			if fa.addInOrder(&p, side, pa) {
				fast++
			} else {
				fa.addAny(&p, side, pa, &ta)
			}
			fb.addAny(&p, side, pb, &tb)
			g.saw(fb, &p)
			if !reflect.DeepEqual(fa, fb) || !reflect.DeepEqual(ta, tb) {
				t.Fatalf("run %d, segment %d %+v:\nshortcut %+v\ngeneral  %+v", run, k, p, fa, fb)
			}
		}
	}
	if fast < total/3 {
		t.Fatalf("the shortcut took %d segments of %d: the test does not exercise it", fast, total)
	}
	t.Logf("%d segments, %d through the shortcut", total, fast)
}

// inOrderGen makes the segments of one random connection, mostly in
// order, with the cases the shortcut declines mixed in; some are made
// from the flow's state (a segment that exactly fills the peer's window,
// an ACK that repeats the last one, a copy of the last packet).
type inOrderGen struct {
	r    *rand.Rand
	n    int
	six  bool
	ends [2]netip.AddrPort
	seq  [2]uint32 // the next sequence number each side sends
	id   [2]uint16
	last [2]*Packet
	hs   []Packet // the handshake's segments still to send
	time int64
	fr   uint64
	flow *Flow
}

func newInOrderGen(r *rand.Rand, run int) *inOrderGen {
	g := &inOrderGen{r: r, n: 1 + r.IntN(80), six: run%5 == 4}
	g.ends = [2]netip.AddrPort{netip.MustParseAddrPort("10.0.0.1:40000"), netip.MustParseAddrPort("10.0.0.2:443")}
	if g.six {
		g.ends = [2]netip.AddrPort{netip.MustParseAddrPort("[2001:db8::1]:40000"), netip.MustParseAddrPort("[2001:db8::2]:443")}
	}
	g.seq = [2]uint32{r.Uint32(), r.Uint32()}
	if run%7 == 0 {
		// Sequence numbers that wrap, or start at 0: a next sequence
		// number of 0 is "unknown" to the analysis.
		g.seq = [2]uint32{-uint32(r.IntN(5000)), -uint32(r.IntN(3) * r.IntN(5000))}
	}
	g.id = [2]uint16{uint16(r.Uint32()), uint16(r.Uint32())}
	g.time = 1e15 + r.Int64N(1e9)
	ws := func(side int) Options {
		o := Options{MSS: 1460, HasMSS: true}
		if r.IntN(3) > 0 {
			o.WScale, o.HasWScale = uint8(r.IntN(15)), true
		}
		return o
	}
	syn := g.pkt(0, FlagSYN, 0)
	syn.Opts = ws(0)
	synAck := g.pkt(1, FlagSYN|FlagACK, 0)
	synAck.Opts = ws(1)
	synAck.Ack = g.seq[0] + 1
	third := g.pkt(0, FlagACK, 0)
	third.Seq, third.Ack = g.seq[0]+1, g.seq[1]+1
	switch run % 6 {
	case 0, 1, 2: // whole
		g.hs = []Packet{syn, synAck, third}
	case 3: // no handshake: the capture starts mid-connection
	case 4: // the SYN-ACK missed
		g.hs = []Packet{syn}
	case 5: // the third segment missed
		g.hs = []Packet{syn, synAck}
	}
	if run%6 != 3 {
		g.seq[0]++
		g.seq[1]++
	}
	return g
}

// pkt returns a segment from side, at its next sequence number, ACKing
// all the other side sent.
func (g *inOrderGen) pkt(side int, flags uint8, n int) Packet {
	src, dst := g.ends[side], g.ends[1-side]
	g.fr++
	p := Packet{Frame: g.fr, Time: g.time, IPVersion: 4, Proto: 6, HasTCP: true, Src: src.Addr(), Dst: dst.Addr(),
		SrcPort: src.Port(), DstPort: dst.Port(), Seq: g.seq[side], Ack: g.seq[1-side], Flags: flags,
		Window: uint16(1 + g.r.IntN(2000)), PayloadLen: n, HeaderLen: 20,
		TCPChecksum: CheckGood, IPChecksum: CheckGood, TTL: 64}
	if g.six {
		p.IPVersion = 6
	} else {
		g.id[side]++
		p.IPID = uint32(g.id[side])
	}
	p.IPTotalLen = 20 + p.HeaderLen + n
	p.WireLen = 14 + p.IPTotalLen
	p.CapLen = p.WireLen
	return p
}

// next returns the connection's next segment.
func (g *inOrderGen) next() Packet {
	r := g.r
	switch r.IntN(8) {
	case 0:
		g.time += r.Int64N(2e9) // a pause past the copy window and the RTT
	case 1:
		g.time -= r.Int64N(1e6) // a capture not in time order
	default:
		g.time += r.Int64N(2e6)
	}
	if len(g.hs) > 0 {
		p := g.hs[0]
		g.hs = g.hs[1:]
		p.Time = g.time
		g.fr++
		p.Frame = g.fr
		return p
	}
	side := r.IntN(2)
	var p Packet
	switch k := r.IntN(80) - 39; {
	case k < 0: // in-order data
		p = g.pkt(side, FlagACK|FlagPSH, 1+r.IntN(1460))
	case k < 26: // an ACK of all the other side sent
		p = g.pkt(side, FlagACK, 0)
	case k < 28 && r.IntN(2) == 0: // a FIN, with data or without
		p = g.pkt(side, FlagFIN|FlagACK, r.IntN(2)*r.IntN(1000))
	case k == 26 && g.last[side] != nil && r.IntN(3) == 0: // a copy of the side's last packet
		p = *g.last[side]
		g.fr++
		p.Frame, p.Time = g.fr, g.time
		p.TTL--
	case k == 27: // a retransmission
		p = g.pkt(side, FlagACK, 1+r.IntN(1460))
		p.Seq -= uint32(r.IntN(4000))
	case k == 28: // a hole before it
		p = g.pkt(side, FlagACK, r.IntN(1460))
		p.Seq += uint32(1 + r.IntN(4000))
	case k == 29: // a keep-alive
		p = g.pkt(side, FlagACK, r.IntN(2))
		p.Seq--
	case k == 30: // a zero window
		p = g.pkt(side, FlagACK, r.IntN(2)*r.IntN(100))
		p.Window = 0
	case k == 31 && g.flow != nil: // data that fills the other side's window
		rev := &g.flow.dir[1-side]
		shift := uint32(0)
		if rev.winScale > 0 && !rev.isFirstAck {
			shift = uint32(rev.winScale)
		}
		n := int32(rev.lastAck + rev.window<<shift - g.seq[side])
		if n <= 0 || n > 60000 {
			n = 1
		}
		p = g.pkt(side, FlagACK, int(n))
	case k == 32 && g.flow != nil: // the side's last ACK and window again, or a new window
		fwd := &g.flow.dir[side]
		p = g.pkt(side, FlagACK, 0)
		p.Ack = fwd.lastAck
		if r.IntN(2) == 0 && fwd.window <= 0xffff {
			p.Window = uint16(fwd.window)
		}
	case k == 33: // an ACK of data not seen, or of less than was sent
		p = g.pkt(side, FlagACK, r.IntN(2)*r.IntN(1000))
		if r.IntN(2) == 0 {
			p.Ack += uint32(1 + r.IntN(5000))
		} else {
			p.Ack -= uint32(r.IntN(5000))
		}
	case k == 34 && r.IntN(3) == 0: // FIN, RST, or both
		fl := []uint8{FlagFIN | FlagACK, FlagRST, FlagRST | FlagACK, FlagFIN | FlagRST | FlagACK}[r.IntN(4)]
		p = g.pkt(side, fl, r.IntN(2)*r.IntN(100))
		if r.IntN(3) == 0 {
			p.Seq += uint32(r.IntN(100000)) - 50000
		}
	case k == 35 && r.IntN(3) == 0: // a SYN again, with the ISN or another
		fl := []uint8{FlagSYN, FlagSYN | FlagACK}[r.IntN(2)]
		p = g.pkt(side, fl, 0)
		switch r.IntN(3) {
		case 0:
			p.Seq-- // the ISN, after the handshake
		case 1:
			p.Seq = r.Uint32()
		}
	case k == 36 && r.IntN(3) == 0: // a bad checksum, or damage
		p = g.pkt(side, FlagACK, r.IntN(2)*r.IntN(1000))
		switch r.IntN(4) {
		case 0:
			p.TCPChecksum = CheckBad
		case 1:
			p.IPChecksum = CheckBad
		case 2:
			p.MalformedLayer, p.MalformedReason = "TCP", "test"
		case 3:
			p.NoAnalysis = true
		}
	case k == 37: // a segment without ACK
		p = g.pkt(side, FlagPSH, r.IntN(2)*r.IntN(1000))
	case k == 38: // options, a cut header, IP ID 0 or repeated
		p = g.pkt(side, FlagACK, r.IntN(2)*r.IntN(1000))
		p.Opts.HasWScale, p.Opts.WScale = r.IntN(2) == 0, uint8(r.IntN(16))
		p.HeaderCut = r.IntN(2) == 0
		if !g.six && r.IntN(2) == 0 {
			p.IPID = 0
		}
	case k == 39 && g.flow != nil && !g.six: // an ACK with the IP ID of the side's last packet at the front
		p = g.pkt(side, FlagACK, 0)
		p.IPID = uint32(g.flow.dir[side].origID)
		if r.IntN(2) == 0 {
			p.Ack = g.flow.dir[side].lastAck - uint32(1+r.IntN(100)) // not a duplicate ACK
		}
		if r.IntN(2) == 0 {
			g.time += 50e6 + r.Int64N(100e6) // within the copy window, or past it
			p.Time = g.time
		}
	case k == 40: // a zero window probe, when the other side's window is shut
		p = g.pkt(side, FlagACK, 1)
	default:
		p = g.pkt(side, FlagACK|FlagPSH, 1+r.IntN(1460))
	}
	return p
}

// saw moves the model on after f (the general path's flow) took p.
func (g *inOrderGen) saw(f *Flow, p *Packet) {
	g.flow = f
	i := 0
	if p.Src != g.ends[0].Addr() {
		i = 1
	}
	end := p.Seq + p.SegLen()
	if seqGT(end, g.seq[i]) {
		g.seq[i] = end
	}
	q := *p
	g.last[i] = &q
}
