package capture

import (
	"bytes"
	"context"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/layers"
)

// TestPointCommentForm: the mark is one fixed form, read back exactly,
// and nothing else passes for it.
func TestPointCommentForm(t *testing.T) {
	if c := PointComment(2, 3, "fw-inside"); c != "synscope point 2 of 3: fw-inside" {
		t.Errorf("PointComment = %q", c)
	}
	for _, name := range []string{"fw-inside", "x", "a: b", "frame 3", "café #2"} {
		k, n, got, ok := parsePointComment(PointComment(3, 4, name))
		if !ok || k != 3 || n != 4 || got != name {
			t.Errorf("%q: read back as %d of %d: %q, %v", name, k, n, got, ok)
		}
	}
	for _, c := range []string{
		"synscope point 0 of 3: a", "synscope point 4 of 3: a", "synscope point 2 of 3: ",
		"synscope point 2 of 3 a", "synscope point two of 3: a", "Synscope point 1 of 2: a",
		"synscope point -1 of 2: a", "note: synscope point 1 of 2: a", "synscope: tcp.rst: frame 1",
	} {
		if _, _, _, ok := parsePointComment(c); ok {
			t.Errorf("%q read as a mark", c)
		}
	}
}

// seedSources opens the seed's three captures as the labelled sources of
// an export, with all their packets.
func seedSources(t *testing.T) ([]ExportSource, [][]Record) {
	t.Helper()
	var (
		srcs []ExportSource
		recs [][]Record
	)
	for _, p := range []struct{ label, file string }{
		{"client", "seed-client.pcap"}, {"fw-inside", "seed-inside.pcap"}, {"fw-outside", "seed-outside.pcap"},
	} {
		r, err := Open(filepath.Join("..", "testdata", p.file))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { r.Close() })
		items, rs := itemsOf(t, r)
		srcs = append(srcs, ExportSource{Reader: r, Items: items, Label: p.label})
		recs = append(recs, rs)
	}
	return srcs, recs
}

// readPoint reads capture point name of the file at path alone: its
// records, and each re-read by its offset.
func readPoint(t *testing.T, path, name string) (*Reader, []Record) {
	t.Helper()
	r, err := OpenPoint(context.Background(), path, name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	items, recs := itemsOf(t, r)
	rr, err := r.Rereader()
	if err != nil {
		t.Fatal(err)
	}
	defer rr.Close()
	for i, it := range items {
		rec, err := rr.ReadAt(it.Offset, it.Frame)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(rec.Data, recs[i].Data) || rec.Interface != recs[i].Interface || rec.Frame != uint64(i+1) {
			t.Errorf("%s, point %s, frame %d: re-read on interface %d as frame %d, read on %d (data equal %v)",
				path, name, i+1, rec.Interface, rec.Frame, recs[i].Interface, bytes.Equal(rec.Data, recs[i].Data))
		}
	}
	return r, recs
}

// samePackets compares what a point read back must have of its source:
// frame numbers, bytes, time stamps, lengths, link type.
func samePackets(t *testing.T, what string, got, want []Record) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d packets, want %d", what, len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Frame != w.Frame || !bytes.Equal(g.Data, w.Data) || g.Timestamp != w.Timestamp || g.OrigLen != w.OrigLen || g.LinkType != w.LinkType {
			t.Errorf("%s: packet %d is frame %d (ts %d, %d bytes), want frame %d (ts %d, %d bytes)", what, i+1,
				g.Frame, g.Timestamp, len(g.Data), w.Frame, w.Timestamp, len(w.Data))
		}
	}
}

// TestExportPointsRoundTrip: an export of the seed's three capture points
// marks each point's interface, and reads back as the three points, each
// as its own file was: the same frames, numbered the same, re-read by
// offset from the one file. Exported again, the points give the same
// file, byte for byte. tshark reads it, with the marks as interface
// comments. Read as one capture (standard input, a pipe), the reader says
// what it merges.
func TestExportPointsRoundTrip(t *testing.T) {
	srcs, want := seedSources(t)
	out := filepath.Join(t.TempDir(), "case.pcapng")
	if n, err := Export(out, srcs, false); err != nil || n != 28 {
		t.Fatalf("export: %d, %v", n, err)
	}
	names := []string{"client", "fw-inside", "fw-outside"}
	pts := FilePoints(out)
	if len(pts) != 3 {
		t.Fatalf("points %+v, want 3", pts)
	}
	for i, p := range pts {
		if p.Name != names[i] || !slices.Equal(p.Interfaces, []int{i}) {
			t.Errorf("point %d: %+v, want %s on interface %d", i+1, p, names[i], i)
		}
	}
	again := make([]ExportSource, 3)
	for i, name := range names {
		r, got := readPoint(t, out, name)
		samePackets(t, name, got, want[i])
		ifs := r.Interfaces()
		if len(ifs) != 1 || ifs[0].Index != 0 || ifs[0].Name != name || ifs[0].Description != filepath.Base(srcs[i].Reader.Name()) {
			t.Errorf("point %s: interfaces %+v, want its own one, named %s", name, ifs, name)
		}
		if r.Name() != out+", point "+name {
			t.Errorf("point %s: reader named %q", name, r.Name())
		}
		again[i] = ExportSource{Reader: r, Items: itemsOfRecords(got), Label: name}
	}
	// A point's Rereader refuses another point's record.
	r, _ := readPoint(t, out, "fw-outside")
	rr, err := r.Rereader()
	if err != nil {
		t.Fatal(err)
	}
	_, clientRecs := readPoint(t, out, "client")
	if _, err := rr.ReadAt(clientRecs[0].Offset, 1); err == nil || !strings.Contains(err.Error(), "not capture point fw-outside's") {
		t.Errorf("re-reading the client's frame 1 as fw-outside's: %v", err)
	}
	rr.Close()

	out2 := filepath.Join(t.TempDir(), "again.pcapng")
	if n, err := Export(out2, again, false); err != nil || n != 28 {
		t.Fatalf("export again: %d, %v", n, err)
	}
	a, _ := os.ReadFile(out)
	b, _ := os.ReadFile(out2)
	if !bytes.Equal(a, b) {
		t.Errorf("the points exported again differ from the first export (%d and %d bytes)", len(a), len(b))
	}

	// Read as one capture: every frame, and a note saying so.
	one, err := NewReader(bytes.NewReader(a), "standard input", int64(len(a)))
	if err != nil {
		t.Fatal(err)
	}
	if items, _ := itemsOf(t, one); len(items) != 28 {
		t.Errorf("read as one capture: %d frames, want 28", len(items))
	}
	if notes := one.Notes(); len(notes) != 1 || !strings.Contains(notes[0], "3 capture points that synscope wrote (client, fw-inside, fw-outside), read here as one capture") {
		t.Errorf("read as one capture, notes %q", notes)
	}

	if tshark, err := exec.LookPath("tshark"); err == nil {
		c, err := exec.Command(tshark, "-r", out, "-T", "fields", "-e", "frame.interface_name").Output()
		if err != nil {
			t.Fatalf("tshark: %v", err)
		}
		count := map[string]int{}
		for _, n := range strings.Fields(string(c)) {
			count[n]++
		}
		if count["client"] != 12 || count["fw-inside"] != 12 || count["fw-outside"] != 4 || len(count) != 3 {
			t.Errorf("tshark reads frames per interface %v, want client 12, fw-inside 12, fw-outside 4", count)
		}
		info, err := exec.Command("capinfos", out).Output()
		if err == nil && !strings.Contains(string(info), "Comment = synscope point 2 of 3: fw-inside") {
			t.Errorf("capinfos does not show the marks:\n%s", info)
		}
	}
}

// itemsOfRecords are export items for every record read.
func itemsOfRecords(recs []Record) []ExportItem {
	items := make([]ExportItem, len(recs))
	for i, r := range recs {
		items[i] = ExportItem{Offset: r.Offset, Frame: r.Frame}
	}
	return items
}

func mustOpenPoint(t *testing.T, path, name string) *Reader {
	t.Helper()
	r, err := OpenPoint(context.Background(), path, name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// twoInterfaces builds a pcapng of two Ethernet interfaces, eth0 and eth1,
// and 6 packets on them in turn, with comments opts on each interface.
func twoInterfaces(opts0, opts1 []opt) []byte {
	o := binary.LittleEndian
	w := (&ngWriter{}).shb(o).
		idb(layers.LinkTypeEthernet, 1514, append([]opt{{optIfName, []byte("eth0")}}, opts0...)...).
		idb(layers.LinkTypeEthernet, 1514, append([]opt{{optIfName, []byte("eth1")}}, opts1...)...)
	for i := range 6 {
		w.epb(uint32(i%2), pkt{ts: int64(1_700_000_000_000000 + i), data: payload(i, 60+i)})
	}
	return w.b
}

// TestPointOfTwoInterfaces: a capture point may own several interfaces (a
// pcapng taken on two): read back, the point has both, numbered among
// its own, and its frames as they were.
func TestPointOfTwoInterfaces(t *testing.T) {
	srcs, want := seedSources(t)
	fw := openBytes(t, "fw.pcapng", twoInterfaces(nil, nil))
	items, fwRecs := itemsOf(t, fw)
	srcs = []ExportSource{srcs[0], {Reader: fw, Items: items, Label: "fw"}}
	out := filepath.Join(t.TempDir(), "case.pcapng")
	if n, err := Export(out, srcs, false); err != nil || n != 18 {
		t.Fatalf("export: %d, %v", n, err)
	}
	pts := FilePoints(out)
	if len(pts) != 2 || pts[0].Name != "client" || pts[1].Name != "fw" || !slices.Equal(pts[1].Interfaces, []int{1, 2}) {
		t.Fatalf("points %+v, want client and fw (interfaces 1 and 2)", pts)
	}
	_, got := readPoint(t, out, "client")
	samePackets(t, "client", got, want[0])
	r, got := readPoint(t, out, "fw")
	samePackets(t, "fw", got, fwRecs)
	for i := range got {
		if got[i].Interface != fwRecs[i].Interface {
			t.Errorf("fw frame %d on interface %d, want %d", i+1, got[i].Interface, fwRecs[i].Interface)
		}
	}
	var ifs []string
	for i, in := range r.Interfaces() {
		if in.Index != i {
			t.Errorf("interface %s has index %d, want %d", in.Name, in.Index, i)
		}
		ifs = append(ifs, in.Name)
	}
	if !slices.Equal(ifs, []string{"fw eth0", "fw eth1"}) {
		t.Errorf("fw's interfaces %q", ifs)
	}
	// Exported again, the same file: the interfaces keep the names the
	// first export gave them ("fw eth0", not "fw fw eth0").
	rc, crecs := readPoint(t, out, "client")
	out2 := filepath.Join(t.TempDir(), "again.pcapng")
	if _, err := Export(out2, []ExportSource{{Reader: rc, Items: itemsOfRecords(crecs), Label: "client"}, {Reader: r, Items: itemsOfRecords(got), Label: "fw"}}, false); err != nil {
		t.Fatal(err)
	}
	a, _ := os.ReadFile(out)
	b, _ := os.ReadFile(out2)
	if !bytes.Equal(a, b) {
		t.Errorf("exported again, a different file")
	}
}

// TestPointsNotSplit: a multi-interface pcapng is read as one capture
// unless its interfaces carry marks that make sense together: a plain
// one, one synscope wrote from one capture, and marks that do not add up.
func TestPointsNotSplit(t *testing.T) {
	mark := func(k, n int, name string) []opt { return []opt{{optComment, []byte(PointComment(k, n, name))}} }
	for _, tc := range []struct {
		name     string
		opts0    []opt
		opts1    []opt
		exported bool // exported by synscope as the one source
	}{
		{name: "plain"},
		{name: "synscope's, of one capture", exported: true},
		{name: "commented", opts0: []opt{{optComment, []byte("uplink to the core")}}},
		{name: "one point of two", opts0: mark(1, 2, "a"), opts1: mark(1, 2, "a")},
		{name: "one name twice", opts0: mark(1, 2, "a"), opts1: mark(2, 2, "a")},
		{name: "two counts", opts0: mark(1, 2, "a"), opts1: mark(2, 3, "b")},
		{name: "two names of one point", opts0: append(mark(1, 2, "a"), mark(2, 2, "b")...), opts1: mark(2, 2, "b")},
		{name: "one of one", opts0: mark(1, 1, "a"), opts1: mark(1, 1, "a")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := openBytes(t, "two.pcapng", twoInterfaces(tc.opts0, tc.opts1))
			path := r.Name()
			if tc.exported {
				items, _ := itemsOf(t, r)
				path = filepath.Join(t.TempDir(), "one.pcapng")
				if _, err := Export(path, []ExportSource{{Reader: r, Items: items, Label: "fw"}}, false); err != nil {
					t.Fatal(err)
				}
			}
			if pts := FilePoints(path); pts != nil {
				t.Errorf("points %+v, want none", pts)
			}
			one, err := Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer one.Close()
			if items, _ := itemsOf(t, one); len(items) != 6 || len(one.Interfaces()) != 2 {
				t.Errorf("%d frames on %d interfaces, want 6 on 2", len(items), len(one.Interfaces()))
			}
			if notes := one.Notes(); len(notes) != 0 {
				t.Errorf("notes %q", notes)
			}
		})
	}
	if pts := FilePoints("../testdata/seed-client.pcap"); pts != nil {
		t.Errorf("a pcap file: points %+v", pts)
	}
	if pts := FilePoints("../testdata/no-such-file.pcapng"); pts != nil {
		t.Errorf("no file: points %+v", pts)
	}
}

// TestPointsOtherInterfaces: interfaces without a mark (a capture merged
// in with mergecap) are one more point, after the marked ones, named by
// the file; an interface described after the packets began, in a file
// where every interface was marked, is in no point, and the first
// point's reader says how many frames that left out.
func TestPointsOtherInterfaces(t *testing.T) {
	o := binary.LittleEndian
	mark := func(k, n int, name string) opt { return opt{optComment, []byte(PointComment(k, n, name))} }
	w := (&ngWriter{}).shb(o).
		idb(layers.LinkTypeEthernet, 0, mark(1, 2, "a")).
		idb(layers.LinkTypeEthernet, 0, mark(2, 2, "b")).
		idb(layers.LinkTypeEthernet, 0)
	for i := range 6 {
		w.epb(uint32(i%3), pkt{ts: int64(i), data: payload(i, 60)})
	}
	path := filepath.Join(t.TempDir(), "merged.pcapng")
	os.WriteFile(path, w.b, 0o600)
	pts := FilePoints(path)
	if len(pts) != 3 || pts[2].Name != "merged.pcapng" || !slices.Equal(pts[2].Interfaces, []int{2}) {
		t.Fatalf("points %+v, want a, b and merged.pcapng", pts)
	}
	_, recs := readPoint(t, path, "merged.pcapng")
	if len(recs) != 2 || !bytes.Equal(recs[1].Data, payload(5, 60)) || recs[1].Frame != 2 {
		t.Errorf("the other interfaces' point: %d frames", len(recs))
	}

	w = (&ngWriter{}).shb(o).
		idb(layers.LinkTypeEthernet, 0, mark(1, 2, "a")).
		idb(layers.LinkTypeEthernet, 0, mark(2, 2, "b"))
	w.epb(0, pkt{ts: 1, data: payload(1, 60)})
	w.epb(1, pkt{ts: 2, data: payload(2, 60)})
	w.idb(layers.LinkTypeEthernet, 0)
	w.epb(2, pkt{ts: 3, data: payload(3, 60)})
	w.epb(2, pkt{ts: 4, data: payload(4, 60)})
	w.epb(0, pkt{ts: 5, data: payload(5, 60)})
	path = filepath.Join(t.TempDir(), "late.pcapng")
	os.WriteFile(path, w.b, 0o600)
	if pts := FilePoints(path); len(pts) != 2 {
		t.Fatalf("points %+v, want a and b", pts)
	}
	ra, recs := readPoint(t, path, "a")
	if len(recs) != 2 || recs[1].Frame != 2 || !bytes.Equal(recs[1].Data, payload(5, 60)) {
		t.Errorf("point a: %d frames", len(recs))
	}
	if notes := ra.Notes(); len(notes) != 1 || !strings.HasPrefix(notes[0], "2 frames on interfaces that no capture point's mark names (the first on interface 2") {
		t.Errorf("point a's notes %q", notes)
	}
	if rb, _ := readPoint(t, path, "b"); len(rb.Notes()) != 0 {
		t.Errorf("point b's notes %q: the first point's say it", rb.Notes())
	}
}

// TestPointsGzipAndDamage: a gzip-compressed file of points is read as
// its points; damage is said by the point's reader, naming the point and
// its frame.
func TestPointsGzipAndDamage(t *testing.T) {
	srcs, want := seedSources(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "case.pcapng")
	if _, err := Export(out, srcs, false); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(out)
	gzPath := filepath.Join(dir, "case.pcapng.gz")
	os.WriteFile(gzPath, gz(t, data), 0o600)
	if pts := FilePoints(gzPath); len(pts) != 3 {
		t.Fatalf("gzip: points %+v", pts)
	}
	_, got := readPoint(t, gzPath, "fw-inside")
	samePackets(t, "fw-inside (gzip)", got, want[1])

	// Cut in the middle of fw-inside's fifth packet.
	items, _ := itemsOf(t, mustOpenPoint(t, out, "fw-inside"))
	cut := filepath.Join(dir, "cut.pcapng")
	os.WriteFile(cut, data[:items[4].Offset+20], 0o600)
	r := mustOpenPoint(t, cut, "fw-inside")
	n := 0
	var err error
	for ; ; n++ {
		if _, err = r.Next(); err != nil {
			break
		}
	}
	if n != 4 || err == nil || !strings.HasPrefix(err.Error(), cut+", point fw-inside: damaged at byte ") || !strings.Contains(err.Error(), " after frame 4: ") {
		t.Errorf("cut file: %d frames, then %v", n, err)
	}
	if _, err := OpenPoint(context.Background(), out, "server"); err == nil || !strings.Contains(err.Error(), "holds no capture point server") {
		t.Errorf("a point the file lacks: %v", err)
	}
}
