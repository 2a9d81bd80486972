package capture_test

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/gopacket/gopacket/layers"

	"github.com/synscope/synscope/capture"
)

// bigCapture writes a pcap of n packets of size bytes each.
func bigCapture(t *testing.T, n, size int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "big.pcap")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := capture.NewPcapWriter(f, layers.LinkTypeEthernet, 65535, false)
	if err != nil {
		t.Fatal(err)
	}
	data := make([]byte, size)
	for i := 0; i < n; i++ {
		data[0] = byte(i)
		if err := w.WritePacket(&capture.Record{Timestamp: int64(i) * 1000, CapLen: uint32(size), OrigLen: uint32(size), Data: data}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return path
}

// smallDisk mounts a tmpfs of size bytes for the test.
func smallDisk(t *testing.T, size string) string {
	t.Helper()
	requireRoot(t)
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size+",mode=0700", "synscope-test", dir).CombinedOutput(); err != nil {
		t.Fatalf("mount tmpfs: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", dir).Run() })
	return dir
}

// TestExportDiskFull: an export that fills the disk says so in one line
// and leaves a valid capture of the packets that fitted, in place under
// its name; the packets in it are the first ones, whole.
func TestExportDiskFull(t *testing.T) {
	disk := smallDisk(t, "256k")
	for _, name := range []string{"out.pcap", "out.pcapng"} {
		t.Run(name, func(t *testing.T) {
			recs, r := readAll(t, bigCapture(t, 400, 1500))
			defer r.Close()
			out := filepath.Join(disk, name)
			n, err := capture.Export(out, []capture.ExportSource{{Reader: r, Items: allItems(recs)}}, false)
			var pe *capture.PartialError
			if !errors.As(err, &pe) || !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("want a partial export for lack of space, got %d, %v", n, err)
			}
			if msg := err.Error(); strings.Contains(msg, "\n") || !strings.Contains(msg, out) || !strings.Contains(msg, "no space left") {
				t.Errorf("error %q: want one line naming the file and the cause", msg)
			}
			if pe.Written != n || n == 0 || n >= len(recs) || pe.Total != len(recs) {
				t.Errorf("kept %d (error says %d of %d) of %d", n, pe.Written, pe.Total, len(recs))
			}
			got, gr := readAll(t, out)
			defer gr.Close()
			if len(got) != n {
				t.Fatalf("the file holds %d packets, the export said %d", len(got), n)
			}
			sameRecords(t, got, recs[:n], false)
			if fi, err := os.Stat(out); err != nil || fi.Mode().Perm() != 0o600 {
				t.Errorf("mode %v, %v", fi.Mode(), err)
			}
			entries, _ := os.ReadDir(disk)
			for _, e := range entries {
				if strings.Contains(e.Name(), ".tmp") {
					t.Errorf("temporary file left behind: %s", e.Name())
				}
			}
			os.Remove(out)
		})
	}
	// Not even the file header fits: nothing is put in place.
	fill, _ := os.Create(filepath.Join(disk, "fill"))
	buf := make([]byte, 4096)
	for {
		if _, err := fill.Write(buf); err != nil {
			break
		}
	}
	fill.Close()
	recs, r := readAll(t, bigCapture(t, 10, 1500))
	defer r.Close()
	out := filepath.Join(disk, "none.pcap")
	if _, err := capture.Export(out, []capture.ExportSource{{Reader: r, Items: allItems(recs)}}, false); err == nil || !strings.Contains(err.Error(), "nothing written") {
		t.Errorf("full disk: %v", err)
	}
	if _, err := os.Lstat(out); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a file was left at %s: %v", out, err)
	}
}

// TestCommitDoesNotClobber: a file that appears under the name while the
// export is written (a race, or another user's planted link) is not
// replaced without overwrite.
func TestCommitDoesNotClobber(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "x.pcap")
	a, err := capture.CreateAtomic(out, false)
	if err != nil {
		t.Fatal(err)
	}
	a.Write([]byte("new"))
	os.Symlink("/etc/passwd", out)
	if err := a.Commit(); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("commit over a link planted meanwhile: %v", err)
	}
	if target, err := os.Readlink(out); err != nil || target != "/etc/passwd" {
		t.Errorf("the planted link was replaced: %q %v", target, err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("left behind: %v", entries)
	}
	// With overwrite, a link planted meanwhile is refused too, not followed.
	os.Remove(out)
	a, _ = capture.CreateAtomic(out, true)
	os.Symlink("/etc/passwd", out)
	if err := a.Commit(); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("overwrite of a link planted meanwhile: %v", err)
	}
}
