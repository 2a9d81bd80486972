package analysis

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/layers"

	"github.com/synscope/synscope/capture"
	"github.com/synscope/synscope/capture/fixture"
	"github.com/synscope/synscope/capture/fixture/synth"
)

// linkKind names a frame's link-layer shape, for counting which shapes the
// fast path took.
func linkKind(lt layers.LinkType, nvlan int) string {
	if nvlan > 0 {
		return fmt.Sprintf("%s+%d tags", lt, nvlan)
	}
	return lt.String()
}

// compareDecoders decodes rec with the fast path and with gopacket's layers
// only: the packets must be the same, field for field. It returns the
// frame's shape when the fast path took it, "" when it did not.
func compareDecoders(t testing.TB, df, ds *Decoder, name string, rec *capture.Record) string {
	var pf, ps Packet
	probe := Packet{WireLen: int(rec.OrigLen), TCPOffset: -1}
	took := df.fast(&probe, rec)
	df.Decode(rec, &pf)
	ds.Decode(rec, &ps)
	checkRare(t, &pf)
	if !sameFields(pf, ps) {
		t.Fatalf("%s frame %d (link type %d, % x): fast path\n%+v\ngeneral path\n%+v", name, rec.Frame, rec.LinkType, rec.Data[:min(len(rec.Data), 64)], pf, ps)
	}
	if !took {
		return ""
	}
	return linkKind(rec.LinkType, probe.NVLAN)
}

// rewrap returns an Ethernet frame's IP datagram behind another link
// header: kind is "vlan", "qinq", "sll" or "sll2".
func rewrap(frame []byte, kind string, vid uint16) ([]byte, layers.LinkType) {
	et, ip := frame[12:14], frame[14:]
	var hdr []byte
	lt := layers.LinkTypeEthernet
	switch kind {
	case "vlan":
		hdr = append(bytes.Clone(frame[:12]), 0x81, 0x00, byte(vid>>8), byte(vid), et[0], et[1])
	case "qinq":
		hdr = append(bytes.Clone(frame[:12]), 0x88, 0xa8, 0x20|byte(vid>>8), byte(vid), 0x81, 0x00, 0, 7, et[0], et[1])
	case "sll":
		lt = layers.LinkTypeLinuxSLL
		// packet type, ARPHRD_ETHER, address length 6, address, protocol
		hdr = []byte{0, byte(vid % 5), 0, 1, 0, 6}
		hdr = append(hdr, frame[6:12]...)
		hdr = append(hdr, 0, 0, et[0], et[1])
	case "sll2":
		lt = layers.LinkTypeLinuxSLL2
		// protocol, reserved, interface index, ARPHRD_ETHER, packet type, address length, address
		hdr = []byte{et[0], et[1], 0, 0, 0, 0, 0, 3, 0, 1, byte(vid % 5), 6}
		hdr = append(hdr, frame[6:12]...)
		hdr = append(hdr, 0, 0)
	}
	return append(hdr, ip...), lt
}

// TestFastDecodeMatchesWalk decodes every frame of testdata/, the corpus
// and a generated capture twice, with the fast path and with gopacket's
// layers only: the packets must be the same, field for field. The
// generated frames, and those with IPv6 extension headers (which the fast
// path must leave to the walk), are also decoded behind 802.1Q and QinQ
// tags and Linux cooked headers, and with bytes of their headers changed
// at random.
func TestFastDecodeMatchesWalk(t *testing.T) {
	files := captureFiles(1)
	var gen bytes.Buffer
	if _, err := synth.Write(&gen, synth.Config{Seed: 5, Conns: 300, Anomalies: 0.5}); err != nil {
		t.Fatal(err)
	}
	took := map[string]int{}
	total := 0
	df, ds := NewDecoder(), NewDecoder()
	ds.slow = true
	check := func(name string, r *capture.Reader) {
		for {
			rec, err := r.Next()
			if err != nil {
				return
			}
			total++
			if kind := compareDecoders(t, df, ds, name, rec); kind != "" {
				took[kind]++
			}
		}
	}
	for _, file := range files {
		if strings.HasSuffix(file, ".md") {
			continue
		}
		r, err := capture.Open(file)
		if err != nil {
			continue
		}
		check(file, r)
		r.Close()
	}
	rng := rand.New(rand.NewPCG(6, 7))
	// The generated frames, and those with IPv6 extension headers (which
	// the fast path leaves to the walk, damaged or not), rewrapped.
	ext, err := os.ReadFile("../testdata/seed-client-ipv6ext.pcap")
	if err != nil {
		t.Fatal(err)
	}
	for _, src := range []struct {
		name string
		data []byte
	}{{"synth", gen.Bytes()}, {"ipv6ext", ext}, {"jumbogram", fixture.Build(jumbogram)}} {
		r, err := capture.NewReader(bytes.NewReader(src.data), src.name, int64(len(src.data)))
		if err != nil {
			t.Fatal(err)
		}
		for n := 0; ; n++ {
			rec, err := r.Next()
			if err != nil {
				break
			}
			total++
			if kind := compareDecoders(t, df, ds, src.name, rec); kind != "" {
				took[kind]++
			}
			for _, kind := range []string{"vlan", "qinq", "sll", "sll2"} {
				data, lt := rewrap(rec.Data, kind, uint16(n))
				w := capture.Record{Frame: rec.Frame, LinkType: lt, Data: data, OrigLen: uint32(len(data))}
				total++
				if kind := compareDecoders(t, df, ds, src.name+" "+kind, &w); kind != "" {
					took[kind]++
				}
				// Damage: one to three bytes of the first 80 changed.
				for range 3 {
					m := bytes.Clone(data)
					for range 1 + rng.IntN(3) {
						m[rng.IntN(min(80, len(m)))] = byte(rng.Uint32())
					}
					if rng.IntN(4) == 0 {
						m = m[:rng.IntN(len(m)+1)]
					}
					w := capture.Record{Frame: rec.Frame, LinkType: lt, Data: m, OrigLen: uint32(len(data))}
					total++
					compareDecoders(t, df, ds, "damaged "+src.name+" "+kind, &w)
				}
			}
		}
	}
	for _, kind := range []string{
		linkKind(layers.LinkTypeEthernet, 0), linkKind(layers.LinkTypeEthernet, 1),
		linkKind(layers.LinkTypeEthernet, 2), linkKind(layers.LinkTypeLinuxSLL, 0),
		linkKind(layers.LinkTypeLinuxSLL2, 0),
	} {
		if took[kind] == 0 {
			t.Errorf("no %s frame took the fast path", kind)
		}
	}
	t.Logf("%d frames; on the fast path: %v", total, took)
}

// TestFastDecodeLimits checks what the fast path leaves to gopacket: a
// fifth VLAN tag (Packet holds four) and a cooked header with an address
// longer than its 8-byte field.
func TestFastDecodeLimits(t *testing.T) {
	var gen bytes.Buffer
	if _, err := synth.Write(&gen, synth.Config{Seed: 5, Conns: 1, Anomalies: -1, IPv6: -1}); err != nil {
		t.Fatal(err)
	}
	r, err := capture.NewReader(bytes.NewReader(gen.Bytes()), "synth", int64(gen.Len()))
	if err != nil {
		t.Fatal(err)
	}
	rec, err := r.Next()
	if err != nil {
		t.Fatal(err)
	}
	df, ds := NewDecoder(), NewDecoder()
	ds.slow = true
	frame := rec.Data
	for range 5 {
		frame, _ = rewrap(frame, "vlan", 9)
	}
	w := capture.Record{Frame: 1, LinkType: layers.LinkTypeEthernet, Data: frame, OrigLen: uint32(len(frame))}
	if kind := compareDecoders(t, df, ds, "5 tags", &w); kind != "" {
		t.Errorf("a frame with 5 VLAN tags took the fast path as %s", kind)
	}
	sll, lt := rewrap(rec.Data, "sll", 0)
	binary.BigEndian.PutUint16(sll[4:6], 9)
	w = capture.Record{Frame: 1, LinkType: lt, Data: sll, OrigLen: uint32(len(sll))}
	if kind := compareDecoders(t, df, ds, "SLL address length 9", &w); kind != "" {
		t.Errorf("an SLL header with a 9-byte address took the fast path")
	}
	var p Packet
	ds.Decode(&w, &p)
	if p.MalformedLayer == "" {
		t.Errorf("an SLL header with a 9-byte address decoded without a complaint: %+v", p)
	}
}

// TestParseOptionsShortcut holds parseOptions's shortcuts for the timestamp
// layout and the SYN's two to what the option walk makes of the same bytes,
// on those layouts, on layouts that differ from them in one byte, and on
// random ones.
func TestParseOptionsShortcut(t *testing.T) {
	rng := rand.New(rand.NewPCG(6, 12))
	check := func(b []byte) {
		t.Helper()
		var got, want Options
		parseOptions(&got, b)
		parseOptionList(&want, b)
		if got != want {
			t.Fatalf("options % x: shortcut %+v, walk %+v", b, got, want)
		}
	}
	ts := []byte{1, 1, 8, 10, 0, 0, 0, 0, 0, 0, 0, 0}
	for range 1000 {
		b := slices.Clone(ts)
		binary.BigEndian.PutUint64(b[4:], rng.Uint64())
		check(b)
		check(b[:11])
		check(append(b, 0))
		c := slices.Clone(b)
		c[rng.IntN(4)] = byte(rng.IntN(256))
		check(c)
		for i := range c {
			c[i] = byte(rng.IntN(12))
		}
		check(c)
	}
	synNoTS := []byte{2, 4, 0, 0, 1, 1, 4, 2, 1, 3, 3, 0}
	synTS := []byte{2, 4, 0, 0, 4, 2, 8, 10, 0, 0, 0, 0, 0, 0, 0, 0, 1, 3, 3, 0}
	for range 1000 {
		for _, layout := range [][]byte{synNoTS, synTS} {
			b := slices.Clone(layout)
			binary.BigEndian.PutUint16(b[2:], uint16(rng.Uint32()))
			b[len(b)-1] = byte(rng.Uint32())
			if len(b) == 20 {
				binary.BigEndian.PutUint64(b[8:], rng.Uint64())
			}
			check(b)
			check(b[:len(b)-1])
			check(append(b, 0))
			// One byte changed, anywhere: a kind, a length, a value.
			c := slices.Clone(b)
			c[rng.IntN(len(c))] = byte(rng.IntN(12))
			check(c)
			c = slices.Clone(b)
			c[rng.IntN(len(c))] ^= byte(1 << rng.IntN(8))
			check(c)
		}
	}
}

// TestIPv4HeaderSum holds ipv4HeaderSumOK to internetChecksum on random
// headers, on the same headers with their checksum set right, and on
// headers of all zeros and all ones.
func TestIPv4HeaderSum(t *testing.T) {
	rng := rand.New(rand.NewPCG(20, 4))
	var hs [][20]byte
	var ones [20]byte
	for i := range ones {
		ones[i] = 0xff
	}
	hs = append(hs, [20]byte{}, ones)
	for range 20000 {
		var h [20]byte
		for i := range h {
			h[i] = byte(rng.Uint32())
		}
		hs = append(hs, h)
		binary.BigEndian.PutUint16(h[10:], 0)
		binary.BigEndian.PutUint16(h[10:], internetChecksum(h[:], 0))
		hs = append(hs, h)
	}
	good := 0
	for _, h := range hs {
		want := internetChecksum(h[:], 0) == 0
		if got := ipv4HeaderSumOK(&h); got != want {
			t.Fatalf("% x: ipv4HeaderSumOK %v, internetChecksum says %v", h, got, want)
		}
		if want {
			good++
		}
	}
	if good < 20000 {
		t.Fatalf("only %d of the headers were intact", good)
	}
}
