package capture

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unsafe"
)

// TestMapWindowAligned reads a file of several windows through the
// mapping and checks each window against the process's own map
// (/proc/self/maps): the window starts at a mapAlign boundary of both the
// file and the address space, exactly the window's pages are mapped from
// the file, and the rest of the reserved range is mapped from nothing,
// so that a shorter window (the file's last) leaves none of the previous
// one behind.
func TestMapWindowAligned(t *testing.T) {
	path := filepath.Join(t.TempDir(), "big.pcap")
	if err := os.WriteFile(path, bigCapture(), 0o600); err != nil {
		t.Fatal(err)
	}
	r := openMapped(t, path)
	m := r.mapped
	resStart := uintptr(unsafe.Pointer(unsafe.SliceData(m.reserved)))
	resEnd := resStart + uintptr(len(m.reserved))
	windows, shrank, lastLen := 0, false, 0
	check := func() {
		t.Helper()
		windows++
		base := uintptr(m.base)
		if m.off%mapAlign != 0 || base%mapAlign != 0 {
			t.Fatalf("window at file offset %#x, address %#x: want both on a %#x boundary", m.off, base, mapAlign)
		}
		if got := uintptr(unsafe.Pointer(unsafe.SliceData(m.win))); got != base {
			t.Fatalf("window at %#x, not at the base %#x", got, base)
		}
		if len(m.win) < lastLen {
			shrank = true
		}
		lastLen = len(m.win)
		fileEnd := base + uintptr((len(m.win)+os.Getpagesize()-1)&^(os.Getpagesize()-1))
		for _, mp := range procMaps(t, resStart, resEnd) {
			fromFile := strings.HasSuffix(mp.name, filepath.Base(path))
			switch {
			case mp.start >= base && mp.end <= fileEnd:
				if !fromFile || mp.off != uint64(m.off)+uint64(mp.start-base) {
					t.Fatalf("window %d: %#x-%#x is %q at offset %#x, want the file at %#x", windows, mp.start, mp.end, mp.name, mp.off, uint64(m.off)+uint64(mp.start-base))
				}
			case fromFile:
				t.Fatalf("window %d (%#x-%#x): %#x-%#x is still mapped from the file", windows, base, fileEnd, mp.start, mp.end)
			case mp.perms != "---p":
				t.Fatalf("window %d: %#x-%#x of the reserved range is %s", windows, mp.start, mp.end, mp.perms)
			}
		}
	}
	check()
	off, n := m.off, 0
	for {
		_, err := r.Next()
		if err != nil {
			break
		}
		n++
		if m.off != off {
			off = m.off
			check()
		}
	}
	if windows < 4 || !shrank {
		t.Fatalf("%d records in %d windows (shrank: %v): want several windows and a shorter last one", n, windows, shrank)
	}
}

type procMap struct {
	start, end uintptr
	perms      string
	off        uint64
	name       string
}

// procMaps returns the entries of /proc/self/maps that overlap
// [from, to), cut to it.
func procMaps(t *testing.T, from, to uintptr) []procMap {
	t.Helper()
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []procMap
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var mp procMap
		var dev string
		var inode uint64
		fields := strings.Fields(sc.Text())
		if _, err := fmt.Sscanf(sc.Text(), "%x-%x %s %x %s %d", &mp.start, &mp.end, &mp.perms, &mp.off, &dev, &inode); err != nil {
			t.Fatalf("/proc/self/maps: %q: %v", sc.Text(), err)
		}
		if len(fields) > 5 {
			mp.name = fields[5]
		}
		if mp.end <= from || mp.start >= to {
			continue
		}
		if mp.start < from {
			mp.off += uint64(from - mp.start)
			mp.start = from
		}
		mp.end = min(mp.end, to)
		out = append(out, mp)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
