package capture_test

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/synscope/synscope/capture"
)

// readAll reads every record of a capture, copying the data.
func readAll(t *testing.T, path string) ([]capture.Record, *capture.Reader) {
	t.Helper()
	r, err := capture.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	var recs []capture.Record
	for {
		rec, err := r.Next()
		if err != nil {
			break
		}
		c := *rec
		c.Data = bytes.Clone(rec.Data)
		recs = append(recs, c)
	}
	return recs, r
}

func allItems(recs []capture.Record) []capture.ExportItem {
	var items []capture.ExportItem
	for _, r := range recs {
		items = append(items, capture.ExportItem{Offset: r.Offset, Frame: r.Frame})
	}
	return items
}

// sameRecords compares what an export must keep: bytes, time stamps,
// lengths and link type (and the direction, for pcapng).
func sameRecords(t *testing.T, got, want []capture.Record, direction bool) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d records, want %d", len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if !bytes.Equal(g.Data, w.Data) || g.Timestamp != w.Timestamp || g.OrigLen != w.OrigLen || g.LinkType != w.LinkType {
			t.Errorf("record %d: got ts %d len %d/%d lt %d, want ts %d len %d/%d lt %d (data equal %v)", i+1,
				g.Timestamp, len(g.Data), g.OrigLen, g.LinkType, w.Timestamp, len(w.Data), w.OrigLen, w.LinkType, bytes.Equal(g.Data, w.Data))
		}
		if direction && g.Direction != w.Direction {
			t.Errorf("record %d: direction %s, want %s", i+1, g.Direction, w.Direction)
		}
	}
}

func TestExportRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		src, out, format string
	}{
		{"seed-client.pcap", "a.pcap", "pcap"},
		{"seed-client-ns.pcap", "b.pcap", "pcap-ns"},
		{"seed-client-pcapng.pcapng", "c.pcapng", "pcapng"},
		{"seed-client-be.pcap", "d.pcapng", "pcapng"},
		{"seed-client.pcap.gz", "e.pcap", "pcap"},
		{"seed-client-sll2.pcap", "f.pcap", "pcap"},
	} {
		t.Run(tc.src, func(t *testing.T) {
			want, r := readAll(t, filepath.Join("..", "testdata", tc.src))
			defer r.Close()
			out := filepath.Join(t.TempDir(), tc.out)
			n, err := capture.Export(out, []capture.ExportSource{{Reader: r, Items: allItems(want)}}, false)
			if err != nil || n != len(want) {
				t.Fatalf("export: %d packets, %v", n, err)
			}
			fi, _ := os.Stat(out)
			if fi.Mode().Perm() != 0o600 {
				t.Errorf("mode %v, want 0600", fi.Mode().Perm())
			}
			got, r2 := readAll(t, out)
			defer r2.Close()
			if r2.Format() != tc.format {
				t.Errorf("format %s, want %s", r2.Format(), tc.format)
			}
			sameRecords(t, got, want, tc.format == "pcapng")
		})
	}
}

func TestExportCommentsAndSeveralSources(t *testing.T) {
	a, ra := readAll(t, "../testdata/seed-client.pcap")
	b, rb := readAll(t, "../testdata/seed-client-sll.pcap")
	defer ra.Close()
	defer rb.Close()
	items := allItems(a[:3])
	items[2].Comments = []string{"synscope: handshake.ack_mismatch: ACK expected 2180033886"}
	out := filepath.Join(t.TempDir(), "both.pcapng")
	n, err := capture.Export(out, []capture.ExportSource{{Reader: ra, Items: items}, {Reader: rb, Items: allItems(b[:2])}}, false)
	if err != nil || n != 5 {
		t.Fatalf("export: %d, %v", n, err)
	}
	got, r := readAll(t, out)
	defer r.Close()
	if len(r.Interfaces()) != 2 || got[0].LinkType == got[4].LinkType {
		t.Errorf("%d interfaces, link types %d and %d: want one interface per source", len(r.Interfaces()), got[0].LinkType, got[4].LinkType)
	}
	sameRecords(t, got[:3], a[:3], false)
	// The same to a .pcap is refused: one link type per pcap file.
	_, err = capture.Export(filepath.Join(t.TempDir(), "both.pcap"), []capture.ExportSource{{Reader: ra, Items: items}, {Reader: rb, Items: allItems(b[:2])}}, false)
	if err == nil || !strings.Contains(err.Error(), ".pcapng") {
		t.Errorf("mixed link types to pcap: %v", err)
	}
	if tshark, err := exec.LookPath("tshark"); err == nil {
		c, err := exec.Command(tshark, "-r", out, "-T", "fields", "-e", "frame.comment").Output()
		if err != nil || !strings.Contains(string(c), "handshake.ack_mismatch") {
			t.Errorf("tshark does not show the comment: %q %v", c, err)
		}
	}
}

// TestExportLabels: a labelled source (-r NAME=FILE, a capture point)
// names its interfaces in a pcapng export by its label, as the view names
// the point, and the name they had goes in their description; an
// unlabelled one keeps its interfaces' names (the file's base name when
// they have none), and descriptions are kept.
func TestExportLabels(t *testing.T) {
	client, rc := readAll(t, "../testdata/seed-client.pcap")
	defer rc.Close()
	// A pcapng of two interfaces: one named, one described only.
	multi := filepath.Join(t.TempDir(), "multi.pcapng")
	f, err := os.Create(multi)
	if err != nil {
		t.Fatal(err)
	}
	nw, err := capture.NewPcapngWriter(f)
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range []capture.Interface{{Name: "eth0"}, {Description: "uplink"}} {
		in.LinkType, in.TsResol = client[0].LinkType, 6
		if _, err := nw.AddInterfaceLike(in); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 4 {
		if err := nw.WritePacket(i%2, &client[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := nw.Flush(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	mrecs, rm := readAll(t, multi)
	defer rm.Close()

	type iface struct{ name, descr string }
	cases := []struct {
		name  string
		label string
		want  []iface
	}{
		{"labelled", "fw", []iface{{"client", "seed-client.pcap"}, {"fw eth0", "multi.pcapng, interface eth0"}, {"fw #2", "uplink"}}},
		// The file's base name: the path as typed put the user's
		// directories in a file handed to a vendor.
		{"unlabelled", "", []iface{{"client", "seed-client.pcap"}, {"eth0", ""}, {"multi.pcapng", "uplink"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out.pcapng")
			srcs := []capture.ExportSource{
				{Reader: rc, Items: allItems(client[:2]), Label: "client"},
				{Reader: rm, Items: allItems(mrecs), Label: tc.label},
			}
			if n, err := capture.Export(out, srcs, false); err != nil || n != 6 {
				t.Fatalf("export: %d, %v", n, err)
			}
			got, r := readAll(t, out)
			defer r.Close()
			var ifs []iface
			for _, in := range r.Interfaces() {
				ifs = append(ifs, iface{in.Name, in.Description})
			}
			if !slices.Equal(ifs, tc.want) {
				t.Errorf("interfaces %q, want %q", ifs, tc.want)
			}
			sameRecords(t, got[2:], mrecs, true)
			if tshark, err := exec.LookPath("tshark"); err == nil {
				c, err := exec.Command(tshark, "-r", out, "-T", "fields", "-e", "frame.interface_name").Output()
				names := strings.Split(strings.TrimSpace(string(c)), "\n")
				if err != nil || len(names) != 6 || names[0] != "client" || names[2] != tc.want[1].name || names[3] != tc.want[2].name {
					t.Errorf("tshark reads the interface names as %q, %v", names, err)
				}
			}
		})
	}
}

func TestExportRefusesToOverwriteOrFollowLinks(t *testing.T) {
	recs, r := readAll(t, "../testdata/seed-outside.pcap")
	defer r.Close()
	src := []capture.ExportSource{{Reader: r, Items: allItems(recs)}}
	dir := t.TempDir()
	out := filepath.Join(dir, "x.pcap")
	os.WriteFile(out, []byte("precious"), 0o600)
	if _, err := capture.Export(out, src, false); err == nil || !strings.Contains(err.Error(), "already exists") || !errors.Is(err, fs.ErrExist) {
		t.Errorf("overwrote without leave: %v (want fs.ErrExist, for the command line to name --overwrite)", err)
	}
	if b, _ := os.ReadFile(out); string(b) != "precious" {
		t.Errorf("existing file changed")
	}
	if _, err := capture.Export(out, src, true); err != nil {
		t.Errorf("overwrite allowed: %v", err)
	}
	target := filepath.Join(dir, "target")
	os.WriteFile(target, []byte("elsewhere"), 0o600)
	link := filepath.Join(dir, "link.pcap")
	os.Symlink(target, link)
	if _, err := capture.Export(link, src, true); err == nil {
		t.Errorf("replaced a symlink")
	}
	if b, _ := os.ReadFile(target); string(b) != "elsewhere" {
		t.Errorf("wrote through a symlink")
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp") {
			t.Errorf("temporary file left behind: %s", e.Name())
		}
	}
}

// TestExportRefusesCompressedNames: exports are written uncompressed, so a
// name that says compressed is refused, and nothing is written, rather
// than a pcap under a .gz name (as -w out.pcap.gz once gave).
func TestExportRefusesCompressedNames(t *testing.T) {
	recs, r := readAll(t, "../testdata/seed-outside.pcap")
	defer r.Close()
	src := []capture.ExportSource{{Reader: r, Items: allItems(recs)}}
	dir := t.TempDir()
	for _, name := range []string{"x.pcap.gz", "x.pcapng.GZ", "x.gzip", "x.tgz", "x.pcap.xz", "x.pcap.zst", "x.pcap.bz2", "x.pcap.Z", "x.lz4", "x.zip", "x.7z"} {
		out := filepath.Join(dir, name)
		ext := strings.ToLower(filepath.Ext(name))
		want := out + ": cannot write a compressed (" + ext + ") capture: name it .pcapng or .pcap, and compress it afterwards"
		if _, err := capture.Export(out, src, true); err == nil || err.Error() != want {
			t.Errorf("%s: %v, want %q", name, err, want)
		}
		if err := capture.CheckExportName(out); err == nil || err.Error() != want {
			t.Errorf("CheckExportName(%s): %v", name, err)
		}
		if _, err := os.Lstat(out); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s was written: %v", name, err)
		}
	}
	for _, name := range []string{"x.pcap", "x.pcapng", "x.cap", "x.txt", "gz", "x.gz.pcap"} {
		if err := capture.CheckExportName(filepath.Join(dir, name)); err != nil {
			t.Errorf("CheckExportName(%s): %v", name, err)
		}
	}
}

// TestDiskFullAndBareError: the helpers a live capture's -w file shares
// with Export. A write that failed for lack of space, wrapped as os.File
// wraps it, is told apart from any other failure; BareError keeps the
// cause of a *fs.PathError without the (temporary) file's name, and
// leaves any other error as it is.
func TestDiskFullAndBareError(t *testing.T) {
	tmp := &fs.PathError{Op: "write", Path: "out.pcap.tmp123", Err: syscall.ENOSPC}
	for _, c := range []struct {
		err  error
		full bool
		bare string
	}{
		{tmp, true, "no space left on device"},
		{fmt.Errorf("flush: %w", &fs.PathError{Op: "write", Path: "x.tmp1", Err: syscall.EDQUOT}), true, "disk quota exceeded"},
		{&fs.PathError{Op: "write", Path: "x.tmp1", Err: syscall.EFBIG}, true, "file too large"},
		{&fs.PathError{Op: "write", Path: "x.tmp1", Err: syscall.EIO}, false, "input/output error"},
		{errors.New("short write"), false, "short write"},
	} {
		if got := capture.DiskFull(c.err); got != c.full {
			t.Errorf("DiskFull(%v) = %v, want %v", c.err, got, c.full)
		}
		bare := capture.BareError(c.err)
		if bare.Error() != c.bare || strings.Contains(bare.Error(), ".tmp") {
			t.Errorf("BareError(%v) = %q, want %q", c.err, bare, c.bare)
		}
	}
	if !errors.Is(capture.BareError(tmp), syscall.ENOSPC) {
		t.Error("BareError lost the cause")
	}
}

// TestExportNothing: an export with no packet (a filter that matched
// nothing) keeps the capture's link type, as tcpdump's empty -w file
// does: a pcap said link type 0 (BSD loopback), a pcapng had no
// interface at all.
func TestExportNothing(t *testing.T) {
	_, r := readAll(t, "../testdata/seed-client.pcap")
	defer r.Close()
	for _, name := range []string{"none.pcap", "none.pcapng"} {
		out := filepath.Join(t.TempDir(), name)
		if n, err := capture.Export(out, []capture.ExportSource{{Reader: r}}, false); err != nil || n != 0 {
			t.Fatalf("%s: %d, %v", name, n, err)
		}
		got, rr := readAll(t, out)
		ifs := rr.Interfaces()
		rr.Close()
		if len(got) != 0 || len(ifs) != 1 || ifs[0].LinkType != r.Interfaces()[0].LinkType {
			t.Errorf("%s: %d packets, interfaces %+v: want none and the source's link type", name, len(got), ifs)
		}
	}
}
