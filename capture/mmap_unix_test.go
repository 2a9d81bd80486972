//go:build linux || darwin

package capture

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestDropBehind reads a capture through the mapping past the point where
// the pages behind the reading are dropped from the page tables
// (dropBehind): the pages are dropped, and a record's bytes read before
// it, in the same window, still hold the record when read again (the page
// is mapped again from the page cache).
func TestDropBehind(t *testing.T) {
	skipNoMapping(t)
	path := filepath.Join(t.TempDir(), "big.pcap")
	if err := os.WriteFile(path, bigCapture(), 0o600); err != nil {
		t.Fatal(err)
	}
	want, _, err := readFileMapped(t, path, false)
	if err != nil {
		t.Fatal(err)
	}
	r := openMapped(t, path)
	first, err := r.Next()
	if err != nil {
		t.Fatal(err)
	}
	data, off := first.Data, r.mapped.off
	dropped := false
	for i := 1; i < len(want); i++ {
		rec, err := r.Next()
		if err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		if !bytes.Equal(rec.Data, want[i].Data) {
			t.Fatalf("record %d differs", i)
		}
		if r.mapped.off != off {
			break // the next window: data is gone with the first
		}
		if r.mapped.kept > 0 && !dropped {
			dropped = true
			if !bytes.Equal(data, want[0].Data) {
				t.Fatal("the first record's bytes changed once its page was dropped")
			}
		}
	}
	if !dropped {
		t.Fatalf("no page dropped in the first window (%d records)", len(want))
	}
}
