package analysis

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/synscope/synscope/capture"
	"github.com/synscope/synscope/capture/fixture/synth"
)

// synthCapture builds an in-memory pcap of conns interleaved connections,
// each a handshake, segs data segments with their ACKs, and a close.
func synthCapture(tb testing.TB, conns, segs int) ([]byte, int) {
	tb.Helper()
	var buf bytes.Buffer
	w := pcapgo.NewWriterNanos(&buf)
	if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		tb.Fatal(err)
	}
	sb := gopacket.NewSerializeBuffer()
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	payload := bytes.Repeat([]byte("x"), 1200)
	ts := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	n := 0
	write := func(c int, fromClient bool, flags string, seq, ack uint32, plen int) {
		cl := net.IPv4(10, 1, byte(c>>8), byte(c))
		sv := net.IPv4(192, 168, 0, 1)
		ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: cl, DstIP: sv}
		tcp := &layers.TCP{SrcPort: layers.TCPPort(10000 + c), DstPort: 443, Seq: seq, Ack: ack, Window: 65535}
		if !fromClient {
			ip.SrcIP, ip.DstIP = sv, cl
			tcp.SrcPort, tcp.DstPort = tcp.DstPort, tcp.SrcPort
		}
		for _, f := range flags {
			switch f {
			case 'S':
				tcp.SYN = true
				tcp.Options = []layers.TCPOption{{OptionType: layers.TCPOptionKindMSS, OptionLength: 4, OptionData: []byte{5, 180}}}
			case 'A':
				tcp.ACK = true
			case 'P':
				tcp.PSH = true
			case 'F':
				tcp.FIN = true
			}
		}
		tcp.SetNetworkLayerForChecksum(ip)
		eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{0, 1, 2, 3, 4, 5}, DstMAC: net.HardwareAddr{0, 1, 2, 3, 4, 6}, EthernetType: layers.EthernetTypeIPv4}
		if err := gopacket.SerializeLayers(sb, opts, eth, ip, tcp, gopacket.Payload(payload[:plen])); err != nil {
			tb.Fatal(err)
		}
		ts = ts.Add(50 * time.Microsecond)
		data := sb.Bytes()
		if err := w.WritePacket(gopacket.CaptureInfo{Timestamp: ts, CaptureLength: len(data), Length: len(data)}, data); err != nil {
			tb.Fatal(err)
		}
		n++
	}
	const cisn, sisn = 1000, 900000
	for c := range conns {
		write(c, true, "S", cisn, 0, 0)
		write(c, false, "SA", sisn, cisn+1, 0)
		write(c, true, "A", cisn+1, sisn+1, 0)
	}
	for i := range segs {
		for c := range conns {
			seq := uint32(cisn + 1 + i*1200)
			write(c, true, "PA", seq, sisn+1, 1200)
			write(c, false, "A", sisn+1, seq+1200, 0)
		}
	}
	for c := range conns {
		end := uint32(cisn + 1 + segs*1200)
		write(c, true, "FA", end, sisn+1, 0)
		write(c, false, "FA", sisn+1, end+1, 0)
		write(c, true, "A", end+1, sisn+2, 0)
	}
	return buf.Bytes(), n
}

// BenchmarkReadDecodeFlow measures the whole fast path, read → decode →
// flow update → verdicts, and reports packets per second and allocations
// per packet.
func BenchmarkReadDecodeFlow(b *testing.B) {
	data, n := synthCapture(b, 500, 40)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		r, err := capture.NewReader(bytes.NewReader(data), "bench", int64(len(data)))
		if err != nil {
			b.Fatal(err)
		}
		res, err := Run(context.Background(), r, Config{Name: "bench"})
		if err != nil || len(res.Flows) != 500 {
			b.Fatalf("%v, %d flows", err, len(res.Flows))
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "packets/s")
}

// BenchmarkDecode measures the decoder alone on one data segment.
func BenchmarkDecode(b *testing.B) {
	data, _ := synthCapture(b, 1, 1)
	r, _ := capture.NewReader(bytes.NewReader(data), "bench", -1)
	var rec capture.Record
	for range 4 { // the first data segment is the 4th record
		x, err := r.Next()
		if err != nil {
			b.Fatal(err)
		}
		rec = *x
		rec.Data = append([]byte(nil), x.Data...)
	}
	d := NewDecoder()
	var p Packet
	b.ReportAllocs()
	for b.Loop() {
		d.Decode(&rec, &p)
	}
	if !p.HasTCP || p.PayloadLen != 1200 {
		b.Fatalf("decoded %+v", p)
	}
}

// TestDecodeAllocatesNothing holds the fast path to its promise: decoding a
// common TCP segment allocates nothing.
func TestDecodeAllocatesNothing(t *testing.T) {
	data, _ := synthCapture(t, 1, 1)
	r, _ := capture.NewReader(bytes.NewReader(data), "t", -1)
	d := NewDecoder()
	var p Packet
	for {
		rec, err := r.Next()
		if err != nil {
			break
		}
		allocs := testing.AllocsPerRun(10, func() { d.Decode(rec, &p) })
		if allocs != 0 {
			t.Errorf("frame %d: %v allocations per decode", rec.Frame, allocs)
		}
	}
}

// FuzzDecode feeds arbitrary frames of every supported link type through the
// decoder and the flow analysis: no panic, and what is decoded stays within
// the frame. extra is how much longer than the captured frame the frame
// on the wire was (a snap length cut it): the fast path and the general
// one must agree either way; a frame captured whole has no header cut
// (HeaderCut), and one cut short is damaged only where it is damaged
// whole. Decoding into a Packet and with a Decoder that decoded other
// frames before must give what fresh ones give.
func FuzzDecode(f *testing.F) {
	// NFLOG cut in an attribute's header: the cut was said at the end
	// of the frame, with a reason no other cut has.
	f.Add(uint16(LinkTypeNFLOG), []byte("0000\x00\b000000"), uint16(96))
	data, _ := synthCapture(f, 1, 2)
	r, _ := capture.NewReader(bytes.NewReader(data), "seed", -1)
	for {
		rec, err := r.Next()
		if err != nil {
			break
		}
		f.Add(uint16(layers.LinkTypeEthernet), bytes.Clone(rec.Data), uint16(0))
		f.Add(uint16(layers.LinkTypeRaw), bytes.Clone(rec.Data[14:]), uint16(0))
		for _, kind := range []string{"vlan", "qinq", "sll", "sll2"} {
			data, lt := rewrap(rec.Data, kind, 5)
			f.Add(uint16(lt), data, uint16(0))
		}
		// Behind every other link header and encapsulation, whole and
		// cut at each snap length of the snap-length tests.
		et := uint16(rec.Data[12])<<8 | uint16(rec.Data[13])
		for _, w := range linkWraps {
			data := w.wrap(bytes.Clone(rec.Data[14:]), et)
			f.Add(uint16(w.lt), data, uint16(0))
			for _, snap := range snapLens {
				if snap < len(data) {
					f.Add(uint16(w.lt), data[:snap], uint16(len(data)-snap))
				}
			}
		}
		for _, snap := range snapLens {
			if snap < len(rec.Data) {
				f.Add(uint16(layers.LinkTypeEthernet), bytes.Clone(rec.Data[:snap]), uint16(len(rec.Data)-snap))
			}
		}
	}
	// Every header TestSnapLengthCutLayers cuts, cut there.
	for _, c := range snapLayerFrames {
		f.Add(uint16(c.lt), c.frame[:c.cut], uint16(len(c.frame)-c.cut))
	}
	// Every frame of the fixtures, and the first frames of each corpus
	// capture: every link type and encapsulation there is.
	for _, file := range captureFiles(1) {
		r, err := capture.Open(file)
		if err != nil {
			continue
		}
		for n := 0; n < 4 || !strings.HasPrefix(file, corpusDir); n++ {
			rec, err := r.Next()
			if err != nil {
				break
			}
			f.Add(uint16(rec.LinkType), bytes.Clone(rec.Data), uint16(rec.OrigLen-rec.CapLen))
		}
		r.Close()
	}
	used := usedDecodes(f)
	f.Fuzz(func(t *testing.T, lt uint16, frame []byte, extra uint16) {
		a := NewAnalyzer(Config{Name: "fuzz"})
		wire := len(frame) + int(extra)
		rec := capture.Record{Frame: 1, LinkType: layers.LinkType(lt), Data: frame, CapLen: uint32(len(frame)), OrigLen: uint32(wire)}
		var p, ps Packet
		a.dec.Decode(&rec, &p)
		// The fast path and gopacket's layers must agree on every frame.
		ds := NewDecoder()
		ds.slow = true
		ds.Decode(&rec, &ps)
		checkRare(t, &p)
		if !sameFields(p, ps) {
			t.Fatalf("fast path\n%+v\ngeneral path\n%+v", p, ps)
		}
		// A Packet and a Decoder used before: nothing of the frames
		// before may stay.
		du, pu := used.decoded()
		du.Decode(&rec, &pu)
		checkRare(t, &pu)
		if !samePacket(&p, &pu) {
			t.Fatalf("fresh\n%+v\nafter other frames\n%+v", p, pu)
		}
		if len(p.Payload) > len(frame) || len(p.Padding) > len(frame) {
			t.Fatalf("payload %d / padding %d bytes from a %d-byte frame", len(p.Payload), len(p.Padding), len(frame))
		}
		if extra == 0 && p.HeaderCut {
			t.Fatalf("a frame captured whole has a header cut: %s at byte %d: %s", p.MalformedLayer, p.MalformedOffset, p.MalformedReason)
		}
		if p.HeaderCut && !p.HasTCP && !strings.HasSuffix(p.MalformedLayer, "fragment") && !cutAt(&p, len(frame)) {
			t.Fatalf("header cut at byte %d of %d captured: %s: %s", p.MalformedOffset, len(frame), p.MalformedLayer, p.MalformedReason)
		}
		if extra > 0 && p.MalformedLayer != "" && !p.HeaderCut {
			// Damaged when cut: so it is when whole; the cut adds no
			// damage.
			whole := rec
			whole.OrigLen = whole.CapLen
			var pw Packet
			NewDecoder().Decode(&whole, &pw)
			if pw.MalformedLayer == "" {
				t.Fatalf("cut from %d bytes, damaged (%s at byte %d: %s); captured whole, not", wire, p.MalformedLayer, p.MalformedOffset, p.MalformedReason)
			}
		}
		// The same frame twice, and its halves, through the analysis.
		for i := range 3 {
			rec.Frame = uint64(i + 1)
			a.Add(&rec)
		}
		rec.Data = frame[:len(frame)/2]
		rec.CapLen = uint32(len(rec.Data))
		a.Add(&rec)
		res := a.Finish()
		var buf bytes.Buffer
		if err := res.WriteJSON(&buf); err != nil {
			t.Fatal(err)
		}
	})
}

// cutAt reports whether p's header cut (Packet.headerCut) says the
// capture stopped at byte n, inside the header that starts at
// MalformedOffset, or where it starts.
func cutAt(p *Packet, n int) bool {
	if p.MalformedOffset == n {
		return strings.Contains(p.MalformedReason, "stopped where it starts")
	}
	return p.MalformedOffset < n && strings.HasSuffix(p.MalformedReason, fmt.Sprintf(", at byte %d (snap length)", n))
}

// usedFrames are frames decoded into a Packet, with one Decoder, before
// FuzzDecode's frame: a datagram of two IPv4 fragments carrying a TCP
// segment with options through a GRE tunnel with a VLAN tag, the second
// fragment last (so the Packet holds its FragmentFrames and Outer, the
// slices Decode keeps for their room), after frames of PPP, MPLS and a
// damaged one, which leave their own state in the Decoder's layers.
type usedFrames struct {
	recs []capture.Record
}

// decoded is a Decoder that decoded the frames, and the Packet it decoded
// them into.
func (u usedFrames) decoded() (*Decoder, Packet) {
	var p Packet
	d := NewDecoder()
	for i := range u.recs {
		d.Decode(&u.recs[i], &p)
	}
	return d, p
}

func usedDecodes(tb testing.TB) usedFrames {
	tb.Helper()
	sb := gopacket.NewSerializeBuffer()
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: net.IPv4(10, 7, 0, 1), DstIP: net.IPv4(10, 7, 0, 2), Id: 77}
	tcp := &layers.TCP{SrcPort: 4000, DstPort: 443, Seq: 1, SYN: true, Window: 1000,
		Options: []layers.TCPOption{{OptionType: layers.TCPOptionKindMSS, OptionLength: 4, OptionData: []byte{5, 180}},
			{OptionType: layers.TCPOptionKindSACKPermitted, OptionLength: 2}}}
	tcp.SetNetworkLayerForChecksum(ip)
	if err := gopacket.SerializeLayers(sb, opts, ip, tcp, gopacket.Payload(bytes.Repeat([]byte("u"), 40))); err != nil {
		tb.Fatal(err)
	}
	dgram := bytes.Clone(sb.Bytes())
	// The datagram in two fragments: 24 bytes of its payload, then the rest.
	var frags [][]byte
	for i, part := range [][2]int{{0, 24}, {24, len(dgram) - 20}} {
		h := bytes.Clone(dgram[:20])
		n := 20 + part[1] - part[0]
		h[2], h[3] = byte(n>>8), byte(n)
		fo := uint16(part[0] / 8)
		if i == 0 {
			fo |= 0x2000 // more fragments
		}
		h[6], h[7] = byte(fo>>8), byte(fo)
		h[10], h[11] = 0, 0
		sum := internetChecksum(h, 0)
		h[10], h[11] = byte(sum>>8), byte(sum)
		inner := append(h, dgram[20+part[0]:20+part[1]]...)
		frame := append([]byte{0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 6, 0x81, 0, 0, 42, 0x08, 0}, greIPv4(append([]byte{0, 0, 0x08, 0}, inner...))...)
		frags = append(frags, frame)
	}
	var u usedFrames
	add := func(lt layers.LinkType, data []byte, wire int) {
		u.recs = append(u.recs, capture.Record{Frame: uint64(len(u.recs) + 1), Timestamp: int64(len(u.recs)), LinkType: lt, Data: data,
			CapLen: uint32(len(data)), OrigLen: uint32(wire)})
	}
	add(layers.LinkTypePPP, append([]byte{0xff, 0x03, 0, 0x21}, snapIPv4...), 44)
	add(layers.LinkTypeEthernet, append(append(ethHeader(0x8847), 0, 0x10, 0, 64, 0, 0x20, 1, 64), snapIPv4...), 62)
	add(linkTypeJuniperEther, []byte("MGC\x80\x00"), 100)
	add(layers.LinkTypeEthernet, frags[0], len(frags[0]))
	add(layers.LinkTypeEthernet, frags[1], len(frags[1]))
	// Hold the frames to what this says of them.
	_, p := u.decoded()
	if !p.HasTCP || p.Fragments != 2 || len(p.FragmentFrames) != 1 || len(p.Outer) != 1 || !p.Opts.HasMSS || p.NVLAN != 1 {
		tb.Fatalf("the frames before decode to %+v", p)
	}
	return u
}

// samePacket reports whether a and b decoded the same, but for the room of
// the slices Decode keeps (FragmentFrames and Outer: empty is nil).
func samePacket(a, b *Packet) bool {
	x, y := *a, *b
	for _, p := range []*Packet{&x, &y} {
		if len(p.FragmentFrames) == 0 {
			p.FragmentFrames = nil
		}
		if len(p.Outer) == 0 {
			p.Outer = nil
		}
	}
	return reflect.DeepEqual(x, y)
}

// TestChecksumMatchesReference checks the fast one's complement sum against
// the plain 16-bit one on lengths to 3,096 bytes (every one to 256), a few
// alignments and initial sums, and data that carries at every add (all
// ones), none (zeros) or at random.
func TestChecksumMatchesReference(t *testing.T) { checkChecksumReference(t) }

// checkChecksumReference is TestChecksumMatchesReference, also run with
// the vector kernel turned off where there is one (csum_amd64_test.go),
// and on a few lengths of TSO segments up to 64 KiB, where each of the
// kernel's lanes adds many words.
func checkChecksumReference(t *testing.T) {
	ref := refChecksum
	rnd := rand.New(rand.NewPCG(1, 2))
	fills := map[string]func(i int) byte{
		"pattern": func(i int) byte { return byte(i*7 + i>>3) },
		"ones":    func(int) byte { return 0xff }, // every carry
		"zeros":   func(int) byte { return 0 },
		"random":  func(int) byte { return byte(rnd.Uint32()) },
	}
	for name, fill := range fills {
		buf := make([]byte, 3100)
		for i := range buf {
			buf[i] = fill(i)
		}
		for n := 0; n < len(buf)-3; n += 1 + n/256 {
			for off := range 3 {
				b := buf[off : off+n]
				for _, sum := range []uint32{0, 0x1fffe, 0xffff} {
					if got, want := internetChecksum(b, sum), ref(b, sum); got != want {
						t.Fatalf("%s, length %d offset %d, sum %#x: %#04x, want %#04x", name, n, off, sum, got, want)
					}
				}
			}
		}
		big := make([]byte, 65536+3)
		for i := range big {
			big[i] = fill(i)
		}
		for _, n := range []int{4096, 9000, 32768 + 7, 65535, 65536} {
			for off := range 3 {
				b := big[off : off+n]
				if got, want := internetChecksum(b, 0xffff), ref(b, 0xffff); got != want {
					t.Fatalf("%s, length %d offset %d: %#04x, want %#04x", name, n, off, got, want)
				}
			}
		}
	}
}

// TestPacketRefSize holds the per-packet index to its budget: at most 48
// bytes per packet.
func TestPacketRefSize(t *testing.T) {
	if n := unsafe.Sizeof(PacketRef{}); n > 48 {
		t.Errorf("PacketRef is %d bytes, the budget is 48", n)
	}
}

// BenchmarkChecksum measures the one's complement sum over a full-size
// segment.
func BenchmarkChecksum(b *testing.B) {
	buf := make([]byte, 1480)
	for i := range buf {
		buf[i] = byte(i * 7)
	}
	b.SetBytes(int64(len(buf)))
	var s uint16
	for b.Loop() {
		s += internetChecksum(buf, 0x1234)
	}
	_ = s
}

// benchCapture is a generated capture of 2,000 connections (about 50,000
// packets) with 4% of them with an anomaly, as the benchmark file holds.
func benchCapture(b *testing.B) []byte {
	b.Helper()
	var buf bytes.Buffer
	if _, err := synth.Write(&buf, synth.Config{Seed: 1, Conns: 2000, Packets: 50000}); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}

// BenchmarkRead measures reading alone: the records of the benchmark
// capture, from memory, through capture.Reader (what the decode stage
// reads from). One op is one packet.
func BenchmarkRead(b *testing.B) {
	data := benchCapture(b)
	open := func() *capture.Reader {
		r, err := capture.NewReader(bytes.NewReader(data), "bench", int64(len(data)))
		if err != nil {
			b.Fatal(err)
		}
		return r
	}
	r := open()
	b.ReportAllocs()
	n, bytes0 := 0, int64(0)
	for b.Loop() {
		rec, err := r.Next()
		if err != nil {
			// The end of the capture: start it again.
			b.StopTimer()
			r = open()
			b.StartTimer()
			if rec, err = r.Next(); err != nil {
				b.Fatal(err)
			}
		}
		n++
		bytes0 += int64(len(rec.Data))
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "packets/s")
	b.ReportMetric(float64(bytes0)/1e6/b.Elapsed().Seconds(), "MB/s")
}

// BenchmarkDecodeCapture measures the decoder over the benchmark
// capture's packets (read beforehand): every layer, the checksums, the
// options. One op is one packet.
func BenchmarkDecodeCapture(b *testing.B) {
	data := benchCapture(b)
	r, _ := capture.NewReader(bytes.NewReader(data), "bench", int64(len(data)))
	recs := ownRecords(r)
	d := NewDecoder()
	var p Packet
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		d.Decode(&recs[i], &p)
		if i++; i == len(recs) {
			i = 0
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "packets/s")
}

// BenchmarkDrillDown measures opening a flow as the interactive view
// does: every packet of the flow read back from the file by its offset
// (PacketRef.Offset, through capture.Rereader) and decoded. One op is the
// drill-down into the capture's largest flow; ns/packet is per packet
// read back.
func BenchmarkDrillDown(b *testing.B) {
	path := filepath.Join(b.TempDir(), "bench.pcap")
	if err := os.WriteFile(path, benchCapture(b), 0o600); err != nil {
		b.Fatal(err)
	}
	r, err := capture.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	res, err := Run(context.Background(), r, Config{Name: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	f := res.Flows[0]
	for _, g := range res.Flows {
		if len(g.Refs) > len(f.Refs) {
			f = g
		}
	}
	rr, err := r.Rereader()
	if err != nil {
		b.Fatal(err)
	}
	defer rr.Close()
	d := NewDecoder()
	var p Packet
	b.ReportAllocs()
	for b.Loop() {
		for _, ref := range f.Refs {
			if ref.Bits&RefFragment != 0 {
				continue
			}
			rec, err := rr.ReadAt(ref.Offset, ref.Frame)
			if err != nil {
				b.Fatal(err)
			}
			d.Decode(rec, &p)
			if p.Frame != ref.Frame || p.Seq != ref.Seq {
				b.Fatalf("frame %d read back as frame %d, seq %d", ref.Frame, p.Frame, p.Seq)
			}
		}
	}
	b.ReportMetric(float64(len(f.Refs)), "packets/op")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(f.Refs)), "ns/packet")
}

// BenchmarkFlowUpdate measures the flow stage alone: packets decoded
// beforehand go through the flow table, the handshake, sequence and Zeek
// analyses, and the packet index. One op is one packet.
func BenchmarkFlowUpdate(b *testing.B) {
	data := benchCapture(b)
	r, _ := capture.NewReader(bytes.NewReader(data), "bench", int64(len(data)))
	d := NewDecoder()
	recs := ownRecords(r)
	pkts := make([]Packet, len(recs))
	for i := range recs {
		d.Decode(&recs[i], &pkts[i])
	}
	hashes := make([]uint64, len(pkts))
	for i := range pkts {
		hashes[i] = connHash(pkts[i].Src, pkts[i].SrcPort, pkts[i].Dst, pkts[i].DstPort)
	}
	b.ReportAllocs()
	var a *Analyzer
	i := len(pkts)
	for b.Loop() {
		if i == len(pkts) {
			b.StopTimer()
			a, i = NewAnalyzer(Config{Name: "bench"}), 0
			b.StartTimer()
		}
		a.addHashed(&pkts[i], hashes[i], markNo)
		i++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "packets/s")
}

// BenchmarkRun measures Run, read to verdicts, on a generated capture in
// memory, as synscope -r does it (two goroutines with GOMAXPROCS 2 or
// more, -cpu 1,2 compares).
func BenchmarkRun(b *testing.B) {
	data := benchCapture(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		r, err := capture.NewReader(bytes.NewReader(data), "bench", int64(len(data)))
		if err != nil {
			b.Fatal(err)
		}
		res, err := Run(context.Background(), r, Config{Name: "bench"})
		if err != nil {
			b.Fatal(err)
		}
		n += int(res.Frames)
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "packets/s")
}

// ownRecords reads every record of r, each with a copy of its data.
func ownRecords(r *capture.Reader) []capture.Record {
	var recs []capture.Record
	for {
		rec, err := r.Next()
		if err != nil {
			return recs
		}
		own := *rec
		own.Data = bytes.Clone(rec.Data)
		recs = append(recs, own)
	}
}

// TestPseudoSum holds pseudoSum to the plain sum of the pseudo-header's
// 16-bit words, for IPv4 and IPv6 addresses of every byte value.
func TestPseudoSum(t *testing.T) {
	ref := func(p *Packet, n int) uint32 {
		var b []byte
		if p.IPVersion == 4 {
			s, d := p.Src.As4(), p.Dst.As4()
			b = append(s[:], d[:]...)
		} else {
			s, d := p.Src.As16(), p.Dst.As16()
			b = append(s[:], d[:]...)
		}
		var sum uint32
		for i := 0; i+1 < len(b); i += 2 {
			sum += uint32(b[i])<<8 | uint32(b[i+1])
		}
		return sum + uint32(n)>>16 + uint32(n)&0xffff + 6
	}
	for i := range 256 {
		c := byte(i)
		v4 := &Packet{IPVersion: 4, Src: netip.AddrFrom4([4]byte{c, 255 - c, c ^ 0x5a, 255}), Dst: netip.AddrFrom4([4]byte{255, c, 0, c})}
		var a, b [16]byte
		for j := range a {
			a[j], b[j] = c+byte(j*37), 255-c-byte(j)
		}
		v6 := &Packet{IPVersion: 6, Src: netip.AddrFrom16(a), Dst: netip.AddrFrom16(b)}
		for _, n := range []int{0, 1, 20, 1480, 65535, 70000} {
			for _, p := range []*Packet{v4, v6} {
				if got, want := pseudoSum(p, n), ref(p, n); got != want {
					t.Fatalf("%v > %v, %d bytes: %#x, want %#x", p.Src, p.Dst, n, got, want)
				}
			}
		}
	}
}

// BenchmarkRunFile measures Run as synscope -r F --json does it, from a
// file through the memory mapping (capture.Reader.MapInput), on a capture
// larger than the processor's caches, so that the packets come from
// memory as they do from a large file (BenchmarkRun's come from a buffer
// the caches hold in part). -cpu 1,2 compares one core and two.
func BenchmarkRunFile(b *testing.B) {
	path := filepath.Join(b.TempDir(), "run.pcap")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := synth.Write(f, synth.Config{Seed: 1, Conns: 8000, Packets: 200000}); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	fi, _ := os.Stat(path)
	b.SetBytes(fi.Size())
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		r, err := capture.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		if !r.MapInput() {
			b.Fatal("not mapped")
		}
		res, err := Run(context.Background(), r, Config{Name: "bench"})
		if err != nil {
			b.Fatal(err)
		}
		r.Close()
		n += int(res.Frames)
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "packets/s")
}
