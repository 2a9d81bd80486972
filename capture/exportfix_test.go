package capture

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/layers"
)

// openBytes writes data to a file named name in a temporary directory and
// opens it, for Export, which re-reads its sources.
func openBytes(t *testing.T, name string, data []byte) *Reader {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	r, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// itemsOf reads every record of r, returning export items for them and
// copies of the records.
func itemsOf(t *testing.T, r *Reader) ([]ExportItem, []Record) {
	t.Helper()
	var (
		items []ExportItem
		recs  []Record
	)
	for {
		rec, err := r.Next()
		if err != nil {
			return items, recs
		}
		items = append(items, ExportItem{Offset: rec.Offset, Frame: rec.Frame})
		recs = append(recs, copyRecord(rec))
	}
}

// exported reads an exported file back: its records and each packet's
// comments.
func exported(t *testing.T, path string) ([]Record, [][]string) {
	t.Helper()
	r, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	items, recs := itemsOf(t, r)
	rr, err := r.Rereader()
	if err != nil {
		t.Fatal(err)
	}
	defer rr.Close()
	var comments [][]string
	for _, it := range items {
		if _, err := rr.ReadAt(it.Offset, it.Frame); err != nil {
			t.Fatal(err)
		}
		comments = append(comments, slices.Clone(rr.Comments()))
	}
	return recs, comments
}

// TestExportPcapLinkTypeOfItems: a pcap export takes its link type, snap
// length and time-stamp precision from the interfaces of the packets it
// writes, not from every interface of the source: a flow of Ethernet
// packets from a pcapng that also held Linux cooked v2 ones was refused as
// "several link types (276 and 1)", which was false (tshark writes it).
// Mixed packets are still refused, with the link types named.
func TestExportPcapLinkTypeOfItems(t *testing.T) {
	o := binary.LittleEndian
	w := (&ngWriter{}).shb(o).
		idb(layers.LinkTypeLinuxSLL2, 262144, opt{optIfTsresol, []byte{9}}).
		idb(layers.LinkTypeEthernet, 1514)
	w.epb(0, pkt{ts: 1_700_000_000_123456789, data: payload(1, 60)})
	w.epb(1, pkt{ts: 1_700_000_001_000001, data: payload(2, 70)})
	w.epb(1, pkt{ts: 1_700_000_002_000002, data: payload(3, 80)})
	r := openBytes(t, "mixed.pcapng", w.b)
	items, recs := itemsOf(t, r)

	out := filepath.Join(t.TempDir(), "eth.pcap")
	n, err := Export(out, []ExportSource{{Reader: r, Items: items[1:]}}, false)
	if err != nil || n != 2 {
		t.Fatalf("export of the Ethernet packets: %d, %v", n, err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	// Interface 1's: Ethernet, snap length 1514, microseconds (the
	// magic a1b2c3d4), not interface 0's 262144 and nanoseconds.
	if magic, snap, lt := o.Uint32(b), o.Uint32(b[16:]), o.Uint32(b[20:]); magic != magicPcap || snap != 1514 || lt != uint32(layers.LinkTypeEthernet) {
		t.Errorf("pcap header: magic %08x, snap length %d, link type %d; want a1b2c3d4, 1514, 1", magic, snap, lt)
	}
	got, _ := exported(t, out)
	if len(got) != 2 || !bytes.Equal(got[0].Data, recs[1].Data) || got[1].Timestamp != recs[2].Timestamp {
		t.Errorf("exported %d packets, not the two Ethernet ones as they were", len(got))
	}

	_, err = Export(filepath.Join(t.TempDir(), "all.pcap"), []ExportSource{{Reader: r, Items: items}}, false)
	if err == nil || !strings.Contains(err.Error(), "several link types (Linux cooked v2 (276) and Ethernet (1))") || !strings.Contains(err.Error(), ".pcapng") {
		t.Errorf("export of both link types to pcap: %v", err)
	}
	// To pcapng they go, each on its interface.
	if n, err := Export(filepath.Join(t.TempDir(), "all.pcapng"), []ExportSource{{Reader: r, Items: items}}, false); err != nil || n != 3 {
		t.Errorf("export of both link types to pcapng: %d, %v", n, err)
	}
}

// TestExportKeepsPacketComments: the comments (opt_comment) of the input's
// packet blocks stay in a pcapng export, before synscope's own, as tshark
// keeps them: an analyst's notes were dropped without a word.
func TestExportKeepsPacketComments(t *testing.T) {
	for _, o := range []byteOrder{binary.LittleEndian, binary.BigEndian} {
		w := (&ngWriter{}).shb(o).idb(layers.LinkTypeEthernet, 0)
		w.epb(0, pkt{ts: 1, data: payload(1, 60)}, opt{optComment, []byte("original analyst note")})
		w.epb(0, pkt{ts: 2, data: payload(2, 61)})
		w.epb(0, pkt{ts: 3, data: payload(3, 62)}, opt{optComment, []byte("ticket 4711\x00")}, flags(o, 1), opt{optComment, []byte("second, UTF-8: café")})
		w.pb(0, pkt{ts: 4, data: payload(4, 63)}, opt{optComment, []byte("in an obsolete packet block")})
		r := openBytes(t, "cmt.pcapng", w.b)
		items, _ := itemsOf(t, r)
		items[2].Comments = []string{"synscope: tcp.rst: ours"}
		items[1].Comments = []string{"synscope: tcp.dup_ack: ours too"}
		out := filepath.Join(t.TempDir(), "x.pcapng")
		if _, err := Export(out, []ExportSource{{Reader: r, Items: items}}, false); err != nil {
			t.Fatal(err)
		}
		_, got := exported(t, out)
		want := [][]string{
			{"original analyst note"},
			{"synscope: tcp.dup_ack: ours too"},
			{"ticket 4711", "second, UTF-8: café", "synscope: tcp.rst: ours"},
			{"in an obsolete packet block"},
		}
		if len(got) != len(want) {
			t.Fatalf("%d packets, want %d", len(got), len(want))
		}
		for i := range want {
			if !slices.Equal(got[i], want[i]) {
				t.Errorf("packet %d: comments %q, want %q", i+1, got[i], want[i])
			}
		}
		if tshark, err := exec.LookPath("tshark"); err == nil {
			c, err := exec.Command(tshark, "-r", out, "-T", "fields", "-e", "frame.comment").Output()
			if err != nil || !strings.Contains(string(c), "original analyst note") || !strings.Contains(string(c), "ticket 4711,second, UTF-8: café,synscope: tcp.rst: ours") {
				t.Errorf("tshark's comments: %q %v", c, err)
			}
		}
	}
}

// TestTicksRoundTrip: a time stamp read from a pcapng and written with the
// same if_tsresol has the same ticks. With a binary resolution the
// fraction was truncated on reading and again on writing: 12 of 12 time
// stamps of a 2^-20 file came out one tick early, 7 of 12 at 2^-10.
func TestTicksRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, resol := range []uint8{0x80 | 10, 0x80 | 20, 0x80 | 29, 0x80, 3, 6, 9} {
		var unit uint64 = 1
		if resol&0x80 != 0 {
			unit <<= resol & 0x7f
		} else {
			unit = pow10[resol]
		}
		secs := []uint64{0, 1, 1335883472, 4102444800}
		for k := range 2000 {
			sec := secs[k%len(secs)]
			frac := rng.Uint64N(unit)
			switch k % 7 {
			case 0:
				frac = 0
			case 1:
				frac = unit - 1
			}
			ticks := sec*unit + frac
			if got := nanosToTicks(ticksToNanos(ticks, resol), resol); got != ticks {
				t.Fatalf("if_tsresol %#x: ticks %d read as %d ns, written as %d", resol, ticks, ticksToNanos(ticks, resol), got)
			}
		}
	}

	// Through a file: every packet of a 2^-20 capture keeps its time.
	o := binary.LittleEndian
	w := (&ngWriter{}).shb(o).idb(layers.LinkTypeEthernet, 0, opt{optIfTsresol, []byte{0x94}})
	for i := range 12 {
		w.epb(0, pkt{ts: int64(1400775347817654 + 104729*i*i), data: payload(i, 60)})
	}
	r := openBytes(t, "res0x94.pcapng", w.b)
	items, recs := itemsOf(t, r)
	out := filepath.Join(t.TempDir(), "out.pcapng")
	if _, err := Export(out, []ExportSource{{Reader: r, Items: items}}, false); err != nil {
		t.Fatal(err)
	}
	got, _ := exported(t, out)
	for i := range recs {
		if got[i].Timestamp != recs[i].Timestamp {
			t.Errorf("packet %d: time stamp %d, was %d", i+1, got[i].Timestamp, recs[i].Timestamp)
		}
	}
}

// TestExportRenumbersFrames: the frame references in the comments an
// export writes name frames as the file written numbers them: "frame 176"
// of the source, in a 12-packet file, pointed at another packet or at
// none. A frame not written is named with its capture's file; "frame N
// at POINT" goes through that point's frames; nothing but frame
// references changes, not even a point named like one.
func TestExportRenumbersFrames(t *testing.T) {
	// Two sources: "near" wrote its frames 176, 180, 181 (export frames
	// 1-3), "frame 9" (a label that reads like a reference) its frames
	// 3 and 4 (export frames 4-5).
	num := &exportNumbering{srcs: []numberedSource{
		{point: "near", file: "cat.pcap", out: map[uint64]uint64{176: 1, 180: 2, 181: 3}},
		{point: "frame 9", file: "in.pcap", out: map[uint64]uint64{3: 4, 4: 5}},
	}}
	for _, tc := range []struct {
		src       int
		in, want  string
		unchanged bool
	}{
		{0, "the client acknowledged the 2 bytes of SYN-ACK payload (frame 176). RFC 9293", "the client acknowledged the 2 bytes of SYN-ACK payload (frame 1). RFC 9293", false},
		{0, "frame 180 from the server shows that the SYN was answered", "frame 2 from the server shows that the SYN was answered", false},
		{0, "the client's ACK in frame 12 shows", "the client's ACK in frame 12 of cat.pcap shows", false},
		{0, "ACK (frame 3 at frame 9) never reached near", "ACK (frame 4 at frame 9) never reached near", false},
		{1, "the window changed from 5 at frame 9 to 7 at near (ACK, frame 4)", "the window changed from 5 at frame 9 to 7 at near (ACK, frame 5)", false},
		{1, "SYN (frame 181 at near) is one more copy of frame 7 at near", "SYN (frame 3 at near) is one more copy of frame 7 of cat.pcap at near", false},
		{0, "(frame 176 at nearby) and frame 176", "(frame 1 at nearby) and frame 1", false},
		// Not frame references.
		{0, "frames 176 and 180, subframe 176, frame 0176, frame 176x, frame 176.5, frame 176-180, frame", "", true},
		{0, "Wireshark shows no analysis flags on such a frame)", "", true},
		{0, "frame 99999999999999999999 is no number", "", true},
	} {
		want := tc.want
		if tc.unchanged {
			want = tc.in
		}
		if got := num.rewrite(tc.src, tc.in); got != want {
			t.Errorf("rewrite(%d, %q)\n = %q\nwant %q", tc.src, tc.in, got, want)
		}
	}

	// Through Export: two labelled sources, the second's frames after
	// the first's.
	a, err := Open("../testdata/seed-client.pcap")
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := Open("../testdata/seed-inside.pcap")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ia, _ := itemsOf(t, a)
	ib, _ := itemsOf(t, b)
	ia, ib = ia[1:4], ib[2:4] // client frames 2-4, fw-inside frames 3-4
	ia[1].Comments = []string{"synscope: handshake.ack_mismatch: the client acknowledged the 2 bytes of SYN-ACK payload (frame 2)."}
	ib[0].Comments = []string{"synscope: path.dropped: ACK (frame 3 at fw-inside) never reached fw-outside; cf. frame 4 at client"}
	out := filepath.Join(t.TempDir(), "two.pcapng")
	if _, err := Export(out, []ExportSource{{Reader: a, Items: ia, Label: "client"}, {Reader: b, Items: ib, Label: "fw-inside"}}, false); err != nil {
		t.Fatal(err)
	}
	_, got := exported(t, out)
	want := [][]string{nil,
		{"synscope: handshake.ack_mismatch: the client acknowledged the 2 bytes of SYN-ACK payload (frame 1)."},
		nil,
		{"synscope: path.dropped: ACK (frame 4 at fw-inside) never reached fw-outside; cf. frame 3 at client"},
		nil,
	}
	for i := range want {
		if !slices.Equal(got[i], want[i]) {
			t.Errorf("packet %d: comments %q, want %q", i+1, got[i], want[i])
		}
	}
}
