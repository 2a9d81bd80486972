package capture_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/layers"

	"github.com/synscope/synscope/capture"
)

func spoolRecord(frame uint64) *capture.Record {
	data := bytes.Repeat([]byte{byte(frame)}, 900+int(frame%200))
	return &capture.Record{
		Frame:     frame,
		Offset:    -1,
		Timestamp: 1_700_000_000_123_456_789 + int64(frame)*1000,
		CapLen:    uint32(len(data)),
		OrigLen:   uint32(len(data) + 10),
		LinkType:  layers.LinkTypeEthernet,
		Direction: capture.Direction(frame%2 + 1),
		Data:      data,
	}
}

func readSpoolFile(t *testing.T, path string) []*capture.Record {
	t.Helper()
	r, err := capture.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var out []*capture.Record
	for {
		rec, err := r.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		c := *rec
		c.Data = bytes.Clone(rec.Data)
		out = append(out, &c)
	}
}

func TestSpoolRotates(t *testing.T) {
	parent := t.TempDir()
	var rotations []capture.SpoolRotation
	const maxSize, segs = 64 << 10, 4
	iface := capture.Interface{Name: "lo", LinkType: layers.LinkTypeEthernet, SnapLen: 262144, TsResol: 9}
	sp, err := capture.NewSpool(capture.SpoolOptions{Dir: parent, MaxSize: maxSize, Segments: segs,
		OnRotate: func(r capture.SpoolRotation) { rotations = append(rotations, r) }}, iface)
	if err != nil {
		t.Fatal(err)
	}
	defer sp.Close()
	if !strings.HasPrefix(sp.Dir(), parent+string(filepath.Separator)) {
		t.Errorf("spool directory %s not in %s", sp.Dir(), parent)
	}
	fi, err := os.Stat(sp.Dir())
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("spool directory: %v, mode %v; want 0700", err, fi.Mode())
	}
	const n = 300
	refs := map[uint64]capture.SpoolRef{}
	for f := uint64(1); f <= n; f++ {
		var comments []string
		if f%50 == 0 {
			comments = []string{fmt.Sprintf("frame %d matters", f)}
		}
		ref, err := sp.WritePacket(spoolRecord(f), comments...)
		if err != nil {
			t.Fatal(err)
		}
		refs[f] = ref
		// Bounded at every step.
		var total int64
		for _, g := range sp.Segments() {
			total += g.Size
		}
		if total > maxSize || len(sp.Segments()) > segs {
			t.Fatalf("after frame %d: %d bytes in %d files, bound %d in %d", f, total, len(sp.Segments()), maxSize, segs)
		}
	}
	if err := sp.Flush(); err != nil {
		t.Fatal(err)
	}
	st := sp.Stats()
	t.Logf("stats %+v; %d rotation notes", st, len(rotations))
	if st.Rotations == 0 || uint64(len(rotations)) != st.Rotations || rotations[len(rotations)-1].Rotations != st.Rotations {
		t.Errorf("%d rotations counted, %d notes", st.Rotations, len(rotations))
	}
	if st.Packets != n || st.Segments > segs || st.Bytes > maxSize {
		t.Errorf("stats %+v", st)
	}
	// What is on disk is the newest packets, contiguous, whole.
	segments := sp.Segments()
	var onDisk []*capture.Record
	var size int64
	for _, g := range segments {
		fi, err := os.Stat(g.Path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, want 0600", g.Path, fi.Mode())
		}
		if fi.Size() != g.Size {
			t.Errorf("%s: %d bytes, segment says %d", g.Path, fi.Size(), g.Size)
		}
		size += fi.Size()
		recs := readSpoolFile(t, g.Path)
		if uint64(len(recs)) != g.Packets || recs[0].Frame != 1 {
			t.Errorf("%s: %d packets, segment says %d", g.Path, len(recs), g.Packets)
		}
		onDisk = append(onDisk, recs...)
	}
	if size != st.Bytes {
		t.Errorf("%d bytes on disk, stats say %d", size, st.Bytes)
	}
	first := uint64(n - len(onDisk) + 1)
	if st.OldestFrame != first || st.RotatedPackets != first-1 || segments[0].FirstFrame != first {
		t.Errorf("%d packets on disk: oldest frame %d, %d rotated out; first segment starts at %d", len(onDisk), st.OldestFrame, st.RotatedPackets, segments[0].FirstFrame)
	}
	for i, rec := range onDisk {
		want := spoolRecord(first + uint64(i))
		if !bytes.Equal(rec.Data, want.Data) || rec.Timestamp != want.Timestamp || rec.OrigLen != want.OrigLen || rec.Direction != want.Direction || rec.LinkType != want.LinkType {
			t.Fatalf("packet %d of the spool differs from frame %d written", i, first+uint64(i))
		}
	}
	// The references read the packets back.
	readers := map[uint64]*capture.Rereader{}
	for f := first; f <= n; f++ {
		ref := refs[f]
		rr := readers[ref.Seq]
		if rr == nil {
			path, ok := sp.SegmentPath(ref.Seq)
			if !ok {
				t.Fatalf("frame %d: segment %d gone", f, ref.Seq)
			}
			r, err := capture.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			for {
				if _, err := r.Next(); err != nil {
					break
				}
			}
			if rr, err = r.Rereader(); err != nil {
				t.Fatal(err)
			}
			defer rr.Close()
			readers[ref.Seq] = rr
		}
		rec, err := rr.ReadAt(ref.Offset, f)
		if err != nil {
			t.Fatalf("frame %d at %+v: %v", f, ref, err)
		}
		if !bytes.Equal(rec.Data, spoolRecord(f).Data) {
			t.Fatalf("frame %d at %+v: other bytes", f, ref)
		}
	}
	if _, ok := sp.SegmentPath(refs[1].Seq); ok {
		t.Errorf("segment %d of frame 1 still there", refs[1].Seq)
	}
	dir := sp.Dir()
	if err := sp.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("spool directory after Close: %v", err)
	}
	if _, err := sp.WritePacket(spoolRecord(1)); err == nil {
		t.Error("WritePacket after Close did not fail")
	}
}

func TestSpoolKeep(t *testing.T) {
	iface := capture.Interface{Name: "eth0", LinkType: layers.LinkTypeEthernet, TsResol: 9}
	sp, err := capture.NewSpool(capture.SpoolOptions{Dir: t.TempDir()}, iface)
	if err != nil {
		t.Fatal(err)
	}
	for f := uint64(1); f <= 10; f++ {
		if _, err := sp.WritePacket(spoolRecord(f)); err != nil {
			t.Fatal(err)
		}
	}
	sp.SetKeep(true)
	if err := sp.Close(); err != nil {
		t.Fatal(err)
	}
	segs := sp.Segments()
	if len(segs) != 1 {
		t.Fatalf("%d segments", len(segs))
	}
	// Closed: everything flushed.
	recs := readSpoolFile(t, segs[0].Path)
	if len(recs) != 10 {
		t.Errorf("kept spool holds %d packets, want 10", len(recs))
	}
	r, err := capture.Open(segs[0].Path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := r.Next(); err != nil {
		t.Fatal(err)
	}
	if in := r.Interfaces(); len(in) != 1 || in[0].Name != "eth0" || in[0].TsResol != 9 {
		t.Errorf("interfaces %+v", in)
	}
}

func TestSpoolErrors(t *testing.T) {
	iface := capture.Interface{LinkType: layers.LinkTypeEthernet}
	if _, err := capture.NewSpool(capture.SpoolOptions{Dir: t.TempDir(), MaxSize: 1000}, iface); err == nil {
		t.Error("a 1000-byte spool was accepted")
	}
	if _, err := capture.NewSpool(capture.SpoolOptions{Dir: t.TempDir()}); err == nil {
		t.Error("a spool without interfaces was accepted")
	}
	if _, err := capture.NewSpool(capture.SpoolOptions{Dir: filepath.Join(t.TempDir(), "none")}, iface); err == nil {
		t.Error("a spool in a missing directory was accepted")
	}
	sp, err := capture.NewSpool(capture.SpoolOptions{Dir: t.TempDir()}, iface)
	if err != nil {
		t.Fatal(err)
	}
	defer sp.Close()
	rec := spoolRecord(1)
	rec.Interface = 1
	if _, err := sp.WritePacket(rec); err == nil {
		t.Error("a packet on an interface the spool does not have was accepted")
	}
	// A packet bigger than a segment gets one to itself.
	sp2, err := capture.NewSpool(capture.SpoolOptions{Dir: t.TempDir(), MaxSize: 32 << 10, Segments: 4}, iface)
	if err != nil {
		t.Fatal(err)
	}
	defer sp2.Close()
	big := spoolRecord(2)
	big.Data = make([]byte, 20000)
	for f := uint64(1); f <= 3; f++ {
		big.Frame = f
		if _, err := sp2.WritePacket(big); err != nil {
			t.Fatal(err)
		}
	}
	if st := sp2.Stats(); st.Segments != 3 || st.Packets != 3 {
		t.Errorf("three packets larger than a segment: %+v", st)
	}
}

// loSpool is a spool of maxSize bytes in segs files for packets of a
// loopback capture, closed at the test's end.
func loSpool(t *testing.T, maxSize int64, segs int) *capture.Spool {
	t.Helper()
	iface := capture.Interface{Name: "lo", LinkType: layers.LinkTypeEthernet, SnapLen: 262144, TsResol: 9}
	sp, err := capture.NewSpool(capture.SpoolOptions{Dir: t.TempDir(), MaxSize: maxSize, Segments: segs}, iface)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sp.Close() })
	return sp
}

// TestSpoolReadPacket reads packets back while more are written: from the
// segment being written (flushed on demand), from older ones, and not
// from those rotated out, which say so.
func TestSpoolReadPacket(t *testing.T) {
	sp := loSpool(t, 64<<10, 4)
	refs := map[uint64]capture.SpoolRef{}
	check := func(f uint64) {
		t.Helper()
		rec, err := sp.ReadPacket(f, refs[f].Offset)
		if err != nil {
			t.Fatalf("frame %d: %v", f, err)
		}
		want := spoolRecord(f)
		if rec.Frame != f || !bytes.Equal(rec.Data, want.Data) || rec.Timestamp != want.Timestamp || rec.OrigLen != want.OrigLen {
			t.Fatalf("frame %d read back differs", f)
		}
	}
	for f := uint64(1); f <= 300; f++ {
		ref, err := sp.WritePacket(spoolRecord(f))
		if err != nil {
			t.Fatal(err)
		}
		refs[f] = ref
		// The newest packet, still in the write buffer, and one a
		// little older.
		check(f)
		if f > 20 {
			check(f - 20)
		}
	}
	st := sp.Stats()
	if st.Rotations == 0 {
		t.Fatal("no rotation: the test needs one")
	}
	check(st.OldestFrame)
	_, err := sp.ReadPacket(1, refs[1].Offset)
	if !errors.Is(err, capture.ErrRotatedOut) || !strings.Contains(err.Error(), fmt.Sprintf("it holds frames %d and later", st.OldestFrame)) {
		t.Errorf("frame 1 after rotation: %v", err)
	}
	if _, err := sp.ReadPacket(301, 0); err == nil || errors.Is(err, capture.ErrRotatedOut) {
		t.Errorf("frame 301, never written: %v", err)
	}
	if _, err := sp.ReadPacket(300, -1); err == nil || !strings.Contains(err.Error(), "not written to the spool") {
		t.Errorf("offset -1: %v", err)
	}
	sp.Close()
	if _, err := sp.ReadPacket(300, refs[300].Offset); err == nil {
		t.Error("ReadPacket after Close did not fail")
	}
}

// TestSpoolExport writes packets from several segments, with comments, to
// pcapng (the spool's one interface) and pcap (nanoseconds), byte for byte.
func TestSpoolExport(t *testing.T) {
	sp := loSpool(t, 256<<10, 8)
	var items []capture.ExportItem
	for f := uint64(1); f <= 200; f++ {
		ref, err := sp.WritePacket(spoolRecord(f))
		if err != nil {
			t.Fatal(err)
		}
		if f%7 == 0 {
			// Out of order: Export sorts by frame.
			items = append([]capture.ExportItem{{Offset: ref.Offset, Frame: f, Comments: []string{fmt.Sprintf("frame %d, not frame 3", f)}}}, items...)
		}
	}
	if len(sp.Segments()) < 3 {
		t.Fatalf("%d segments: the test needs several", len(sp.Segments()))
	}
	dir := t.TempDir()
	for _, name := range []string{"out.pcapng", "out.pcap"} {
		path := filepath.Join(dir, name)
		n, err := sp.Export(path, items, false)
		if err != nil || n != len(items) {
			t.Fatalf("%s: %d packets, %v", name, n, err)
		}
		recs := readSpoolFile(t, path)
		if len(recs) != len(items) {
			t.Fatalf("%s holds %d packets, want %d", name, len(recs), len(items))
		}
		for i, rec := range recs {
			want := spoolRecord(uint64(7 * (i + 1)))
			if !bytes.Equal(rec.Data, want.Data) || rec.Timestamp != want.Timestamp || rec.OrigLen != want.OrigLen {
				t.Fatalf("%s: packet %d differs from frame %d", name, i+1, 7*(i+1))
			}
		}
		r, err := capture.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		r.Next()
		if in := r.Interfaces(); len(in) != 1 || in[0].TsResol != 9 {
			t.Errorf("%s: interfaces %+v, want one with nanoseconds", name, in)
		}
		if name == "out.pcapng" {
			// The comments name frames as the file does: the live
			// capture's frame 7 is its first; frame 3 is not in it.
			rr, err := r.Rereader()
			if err != nil {
				t.Fatal(err)
			}
			if _, err := rr.ReadAt(recs[1].Offset, 2); err != nil {
				t.Fatal(err)
			}
			if c := rr.Comments(); len(c) != 1 || c[0] != "frame 2, not frame 3 of the live capture" {
				t.Errorf("the second packet's comments: %q", c)
			}
			rr.Close()
		}
		r.Close()
		if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v, %v; want 0600", name, fi.Mode(), err)
		}
		if _, err := sp.Export(path, items, false); err == nil || !strings.Contains(err.Error(), "already exists") {
			t.Errorf("%s again without overwrite: %v", name, err)
		}
	}
	// A compressed name is refused, as for a file's export.
	gz := filepath.Join(dir, "out.pcap.gz")
	if _, err := sp.Export(gz, items, false); err == nil || !strings.Contains(err.Error(), "cannot write a compressed (.gz) capture") {
		t.Errorf("export to %s: %v", gz, err)
	}
	if _, err := os.Stat(gz); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a refused export left %s: %v", gz, err)
	}
	// A packet that is not there fails the whole export.
	bad := append(items, capture.ExportItem{Frame: 999, Offset: 0})
	path := filepath.Join(dir, "bad.pcapng")
	if _, err := sp.Export(path, bad, false); err == nil || !strings.Contains(err.Error(), "frame 999") {
		t.Errorf("export of a missing frame: %v", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a failed export left %s: %v", path, err)
	}
}

// TestSpoolConcurrent reads packets back and exports them while more are
// written, from three goroutines: each packet read is the one written
// (run with -race).
func TestSpoolConcurrent(t *testing.T) {
	sp := loSpool(t, 1<<20, 8)
	type written struct {
		frame uint64
		off   int64
	}
	ch := make(chan written, 400)
	done := make(chan struct{})
	go func() {
		defer close(ch)
		for f := uint64(1); f <= 300; f++ {
			ref, err := sp.WritePacket(spoolRecord(f))
			if err != nil {
				t.Error(err)
				return
			}
			ch <- written{f, ref.Offset}
		}
	}()
	var seen []capture.ExportItem
	exported := make(chan error, 1)
	go func() {
		defer close(done)
		for w := range ch {
			rec, err := sp.ReadPacket(w.frame, w.off)
			if err != nil {
				t.Errorf("frame %d: %v", w.frame, err)
				return
			}
			if !bytes.Equal(rec.Data, spoolRecord(w.frame).Data) {
				t.Errorf("frame %d read back differs", w.frame)
				return
			}
			seen = append(seen, capture.ExportItem{Frame: w.frame, Offset: w.off})
			if len(seen) == 150 {
				items := slices.Clone(seen)
				go func() {
					_, err := sp.Export(filepath.Join(t.TempDir(), "half.pcapng"), items, false)
					exported <- err
				}()
			}
		}
	}()
	<-done
	if len(seen) < 150 {
		return // an error was reported
	}
	if err := <-exported; err != nil {
		t.Errorf("export while writing: %v", err)
	}
}

// TestSpoolClosesRotatedReaders: a segment read back (a drill-down) and
// then rotated out is closed at the rotation, not at the next read, so
// its space is given back at once.
func TestSpoolClosesRotatedReaders(t *testing.T) {
	iface := capture.Interface{Name: "lo", LinkType: layers.LinkTypeEthernet, SnapLen: 262144, TsResol: 9}
	sp, err := capture.NewSpool(capture.SpoolOptions{Dir: t.TempDir(), MaxSize: 64 << 10, Segments: 4}, iface)
	if err != nil {
		t.Fatal(err)
	}
	defer sp.Close()
	ref, err := sp.WritePacket(spoolRecord(1))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sp.ReadPacket(1, ref.Offset); err != nil {
		t.Fatal(err)
	}
	deletedOpen := func() int {
		n := 0
		fds, _ := os.ReadDir("/proc/self/fd")
		for _, fd := range fds {
			if l, err := os.Readlink("/proc/self/fd/" + fd.Name()); err == nil && strings.HasPrefix(l, sp.Dir()) && strings.HasSuffix(l, " (deleted)") {
				n++
			}
		}
		return n
	}
	for f := uint64(2); sp.Stats().Rotations == 0; f++ {
		if _, err := sp.WritePacket(spoolRecord(f)); err != nil {
			t.Fatal(err)
		}
	}
	if runtime.GOOS == "linux" {
		if n := deletedOpen(); n != 0 {
			t.Errorf("%d rotated-out spool files still open", n)
		}
	}
}
