package analysis

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"unsafe"

	"github.com/synscope/synscope/capture"
	"github.com/synscope/synscope/capture/fixture/synth"
)

// fillNonZero sets every field of the value v points to, at any depth, to
// something other than its zero: numbers to n, booleans true, strings,
// slices of two filled elements, pointers to a filled new value. It
// fails on a kind it does not know, so that a field added to Packet is
// filled too, or the test says why not.
func fillNonZero(tb testing.TB, v reflect.Value, n int) {
	tb.Helper()
	if v.Type() == reflect.TypeFor[netip.Addr]() {
		v.Set(reflect.ValueOf(netip.AddrFrom16([16]byte{0x20, 1, 0xd, 0xb8, 15: byte(n)})))
		return
	}
	switch v.Kind() {
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(int64(n))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(uint64(n))
	case reflect.String:
		v.SetString("stale")
	case reflect.Array:
		for i := range v.Len() {
			fillNonZero(tb, v.Index(i), n+i)
		}
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 2, 2)
		for i := range 2 {
			fillNonZero(tb, s.Index(i), n+i)
		}
		v.Set(s)
	case reflect.Struct:
		for i := range v.NumField() {
			f := v.Field(i)
			f = reflect.NewAt(f.Type(), unsafe.Pointer(f.UnsafeAddr())).Elem() // unexported too
			fillNonZero(tb, f, n+i)
		}
	default:
		tb.Fatalf("fillNonZero: %s (%s) not handled", v.Type(), v.Kind())
	}
}

// sameFields reports whether a and b hold the same fields, Packet.rare
// aside: the general path always sets it, the fast path only for some
// frames.
func sameFields(a, b Packet) bool {
	a.rare, b.rare = false, false
	return reflect.DeepEqual(a, b)
}

// checkRare fails when p says (Packet.rare clear) that the fields the fast
// path leaves at zero on its common frames are zero, and one is not.
func checkRare(tb testing.TB, p *Packet) {
	tb.Helper()
	if p.rare {
		return
	}
	q := *p
	q.clearRare()
	q.Opts.TSVal, q.Opts.TSEcr, q.Opts.HasTS = p.Opts.TSVal, p.Opts.TSEcr, p.Opts.HasTS
	if !samePacket(p, &q) {
		tb.Fatalf("a Packet whose rare fields should be zero:\n%+v\nwith them cleared:\n%+v", *p, q)
	}
}

// TestFastDecodeSetsEveryField: the fast path does not clear the Packet
// before it decodes (Decode's startFast), so every field a frame before
// could have set must be set again or cleared by it. Frames that take the
// fast path (generated connections with options, padding, bad checksums
// and damage, behind every link header it reads, and the same with bytes
// changed) are decoded into Packets left by other frames, and must give
// what decoding into a fresh Packet gives: a Packet with every field set
// (a field added to Packet is set too: fillNonZero fails on a type it
// does not know), and Packets that decoded frames with a tunnel, VLAN
// tags, fragments, IP options, TCP options, padding, a snap length cut,
// damage, or no TCP at all.
func TestFastDecodeSetsEveryField(t *testing.T) {
	var all Packet
	fillNonZero(t, reflect.ValueOf(&all).Elem(), 7)
	for i := range reflect.ValueOf(all).NumField() {
		if f := reflect.ValueOf(all).Field(i); f.IsZero() {
			t.Fatalf("field %s left zero", reflect.TypeOf(all).Field(i).Name)
		}
	}
	dirty := map[string]Packet{"every field set": all}
	_, used := usedDecodes(t).decoded()
	dirty["tunnel, VLAN tag, fragments, options"] = used
	// A Packet of each kind the general path leaves, from the fixtures
	// and the corpus: the first frame that has each.
	kinds := map[string]func(p *Packet) bool{
		"IP options":       func(p *Packet) bool { return p.IPVersion == 4 && p.IPOffset+20 < p.TCPOffset && p.Tunnel == TunnelNone },
		"padding":          func(p *Packet) bool { return len(p.Padding) > 0 },
		"truncated":        func(p *Packet) bool { return p.Truncated },
		"header cut":       func(p *Packet) bool { return p.HeaderCut },
		"damaged":          func(p *Packet) bool { return p.MalformedLayer != "" && !p.HeaderCut },
		"bad data offset":  func(p *Packet) bool { return p.BadHeader },
		"not analysed":     func(p *Packet) bool { return p.NoAnalysis },
		"partial checksum": func(p *Packet) bool { return p.PartialChecksum },
		"undecoded":        func(p *Packet) bool { return p.Undecoded != 0 },
		"no TCP":           func(p *Packet) bool { return !p.HasTCP && p.MalformedLayer == "" },
		"fragment":         func(p *Packet) bool { return p.Fragment },
		"reassembled":      func(p *Packet) bool { return p.Fragments > 0 },
		"tunnel":           func(p *Packet) bool { return p.Tunnel != TunnelNone },
		"SACK blocks":      func(p *Packet) bool { return p.Opts.NSACK > 0 },
		"TCP options":      func(p *Packet) bool { return p.Opts.HasMSS && p.Opts.HasWScale && p.Opts.SACKPerm },
		// The fast path's clean Packet (Packet.rare clear), with the
		// timestamps it keeps there.
		"timestamps only": func(p *Packet) bool { return !p.rare && p.Opts.HasTS },
	}
	var gen bytes.Buffer
	if _, err := synth.Write(&gen, synth.Config{Seed: 9, Conns: 60, Anomalies: 0.5}); err != nil {
		t.Fatal(err)
	}
	r, err := capture.NewReader(bytes.NewReader(gen.Bytes()), "synth", int64(gen.Len()))
	if err != nil {
		t.Fatal(err)
	}
	var frames []capture.Record
	for n := 0; ; n++ {
		rec, err := r.Next()
		if err != nil {
			break
		}
		frames = append(frames, capture.Record{Frame: rec.Frame, Offset: rec.Offset, Timestamp: rec.Timestamp, LinkType: rec.LinkType, Data: bytes.Clone(rec.Data), OrigLen: rec.OrigLen})
		for _, kind := range []string{"vlan", "qinq", "sll", "sll2"} {
			data, lt := rewrap(rec.Data, kind, uint16(n))
			frames = append(frames, capture.Record{Frame: rec.Frame, LinkType: lt, Data: data, OrigLen: uint32(len(data)), Direction: capture.Direction(n % 3)})
		}
		// Ethernet padding, a bad data offset, a data offset past the
		// segment, a damaged option list.
		pad := append(bytes.Clone(rec.Data), make([]byte, 6)...)
		frames = append(frames, capture.Record{Frame: rec.Frame, LinkType: rec.LinkType, Data: pad, OrigLen: uint32(len(pad))})
		if rec.Data[12] == 0x08 && rec.Data[13] == 0 {
			// IP options (three no-operations and the end of the
			// list), which the fast path leaves to the walk.
			ipo := append(bytes.Clone(rec.Data[:14+20]), 1, 1, 1, 0)
			ipo = append(ipo, rec.Data[14+20:]...)
			ipo[14] = 0x46
			binary.BigEndian.PutUint16(ipo[16:], binary.BigEndian.Uint16(ipo[16:])+4)
			frames = append(frames, capture.Record{Frame: rec.Frame, LinkType: rec.LinkType, Data: ipo, OrigLen: uint32(len(ipo))})
			for _, b := range []byte{0x40, 0xf0, 0x60} {
				m := bytes.Clone(rec.Data)
				m[14+20+12] = b
				if b == 0x60 {
					m[14+20+20] = 2 // an MSS option of length 0xff or what follows
				}
				frames = append(frames, capture.Record{Frame: rec.Frame, LinkType: rec.LinkType, Data: m, OrigLen: uint32(len(m))})
			}
		}
	}
	d := NewDecoder()
	for _, file := range captureFiles(1) {
		if strings.HasSuffix(file, ".md") {
			continue
		}
		r, err := capture.Open(file)
		if err != nil {
			continue
		}
		for {
			rec, err := r.Next()
			if err != nil {
				break
			}
			var p Packet
			d.Decode(rec, &p)
			for kind, has := range kinds {
				if _, ok := dirty[kind]; !ok && has(&p) {
					dirty[kind] = p
				}
			}
		}
		r.Close()
	}
	for i := range frames {
		var p Packet
		d.Decode(&frames[i], &p)
		for kind, has := range kinds {
			if _, ok := dirty[kind]; !ok && has(&p) {
				dirty[kind] = p
			}
		}
	}
	for kind := range kinds {
		if _, ok := dirty[kind]; !ok {
			t.Errorf("no frame decodes with %s", kind)
		}
	}

	fast := map[string]int{}
	for i := range frames {
		rec := &frames[i]
		var fresh Packet
		NewDecoder().Decode(rec, &fresh)
		probe := Packet{}
		if !NewDecoder().fast(&probe, rec) {
			continue
		}
		fast[linkKind(rec.LinkType, probe.NVLAN)]++
		checkRare(t, &fresh)
		for kind, before := range dirty {
			p := before
			NewDecoder().Decode(rec, &p)
			checkRare(t, &p)
			if !samePacket(&p, &fresh) {
				t.Fatalf("frame %d (% x) decoded into a Packet with %s:\n%+v\nfresh:\n%+v", rec.Frame, rec.Data[:min(64, len(rec.Data))], kind, p, fresh)
			}
		}
	}
	if len(fast) < 5 {
		t.Errorf("frames on the fast path: %v", fast)
	}
	t.Logf("%d kinds of Packet before; frames on the fast path: %v", len(dirty), fast)
}
