package capture

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/gopacket/gopacket/layers"
)

// readFile opens path and reads all its records.
func readFile(t *testing.T, path string) (*Reader, []Record) {
	t.Helper()
	r, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	var recs []Record
	for {
		rec, err := r.Next()
		if err == io.EOF {
			return r, recs
		}
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, copyRecord(rec))
	}
}

// rereadAll re-reads recs in the given order and compares.
func rereadAll(t *testing.T, rr *Rereader, recs []Record, order []int) {
	t.Helper()
	for _, i := range order {
		want := recs[i]
		got, err := rr.ReadAt(want.Offset, want.Frame)
		if err != nil {
			t.Fatalf("frame %d: %v", want.Frame, err)
		}
		if !sameRecord(*got, want) {
			t.Fatalf("frame %d re-read as %+v, want %+v", want.Frame, *got, want)
		}
	}
}

func TestRereader(t *testing.T) {
	ng, _, _ := multiSection()
	pc, png := manyPackets(500)
	files := map[string][]byte{
		"pcap-le-us":  pcapFile(le, false, 1, testPackets...),
		"pcap-be-ns":  pcapFile(be, true, 1, testPackets...),
		"modified":    modifiedPcapFile(le, []uint8{4, 0, 1, 2}, testPackets...),
		"pcapng":      ng,
		"many-pcap":   pc,
		"many-pcapng": png,
	}
	dir := t.TempDir()
	for name, data := range files {
		for _, compress := range []bool{false, true} {
			if compress {
				name += ".gz"
				data = gz(t, data)
			}
			t.Run(name, func(t *testing.T) {
				path := filepath.Join(dir, name)
				if err := os.WriteFile(path, data, 0o644); err != nil {
					t.Fatal(err)
				}
				r, recs := readFile(t, path)
				rr, err := r.Rereader()
				if err != nil {
					t.Fatal(err)
				}
				// The Rereader outlives its Reader.
				r.Close()
				defer rr.Close()
				n := len(recs)
				forward, backward := make([]int, n), make([]int, n)
				for i := range n {
					forward[i], backward[i] = i, n-1-i
				}
				if compress {
					// Every step backwards decompresses from
					// the start: keep it short.
					backward = backward[:min(n, 20)]
				}
				rereadAll(t, rr, recs, forward)
				rereadAll(t, rr, recs, backward)
				rereadAll(t, rr, recs, rand.New(rand.NewPCG(1, 2)).Perm(n)[:min(n, 20)])

				// Offsets that hold no packet.
				for _, off := range []int64{-1, int64(len(data)) * 10} {
					if _, err := rr.ReadAt(off, 99); err == nil {
						t.Errorf("ReadAt(%d) succeeded", off)
					} else {
						checkOneLine(t, err, path)
					}
				}
				// No record starts in the file header. Read at 0, a
				// pcap's header passed for a 0-byte record dated 2055
				// (an export of IP fragments, whose offsets were not
				// kept), and a pcapng's section header block failed the
				// export with "no packet block there".
				for _, off := range []int64{0, 8, 16} {
					_, err := rr.ReadAt(off, 4)
					if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("re-reading frame 4 at byte %d: that is inside the file header", off)) {
						t.Errorf("ReadAt(%d) = %v", off, err)
					} else {
						checkOneLine(t, err, path)
					}
				}
				if err := rr.Close(); err != nil {
					t.Fatal(err)
				}
				if _, err := rr.ReadAt(recs[0].Offset, 1); err == nil {
					t.Error("ReadAt after Close succeeded")
				}
			})
		}
	}
}

// TestRereaderInputs checks which inputs given to NewReader can be re-read.
func TestRereaderInputs(t *testing.T) {
	data := pcapFile(le, false, 1, testPackets...)

	// A bytes.Reader is an io.ReaderAt.
	r, err := NewReader(bytes.NewReader(data), "mem", int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	rec, _ := r.Next()
	first := copyRecord(rec)
	rr, err := r.Rereader()
	if err != nil {
		t.Fatal(err)
	}
	if got, err := rr.ReadAt(first.Offset, 1); err != nil || !sameRecord(*got, first) {
		t.Errorf("bytes.Reader: %v", err)
	}

	// An *os.File positioned after some other data: offsets are
	// relative to where the capture starts.
	path := filepath.Join(t.TempDir(), "prefixed")
	if err := os.WriteFile(path, append([]byte("0123456789"), data...), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.Seek(10, io.SeekStart)
	r, err = NewReader(f, "prefixed", int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	r.Next()
	rec, _ = r.Next()
	second := copyRecord(rec)
	rr, err = r.Rereader()
	if err != nil {
		t.Fatal(err)
	}
	if got, err := rr.ReadAt(second.Offset, 2); err != nil || !sameRecord(*got, second) {
		t.Errorf("positioned file: %v", err)
	}

	// A plain stream cannot be re-read.
	r, err = NewReader(io.MultiReader(bytes.NewReader(data)), "stream", -1)
	if err != nil {
		t.Fatal(err)
	}
	_, err = r.Rereader()
	if err == nil || err.Error() != "stream: cannot re-read packets: the input is a stream, not a file" {
		t.Errorf("Rereader on a stream: %v", err)
	}
}

// TestRereaderConcurrent re-reads packets in one goroutine while the Reader
// goes on reading new sections and interfaces in another (run with -race).
// Every section describes the same three interfaces, the odd ones in the
// other byte order and the other way round: three interfaces in all, and
// each section means others by its IDs than the one before.
func TestRereaderConcurrent(t *testing.T) {
	w := &ngWriter{}
	for s := range 20 {
		o := byteOrder(le)
		if s%2 == 1 {
			o = be
		}
		w.shb(o)
		for i := range 3 {
			if s%2 == 1 {
				i = 2 - i
			}
			w.idb(layers.LinkType(1+i), 0, opt{optIfTsresol, []byte{uint8(3 + i)}})
		}
		for i := range 30 {
			w.epb(uint32(i%3), pkt{ts: int64(s*1000 + i), data: payload(s+i, 40+i)})
		}
	}
	path := filepath.Join(t.TempDir(), "c.pcapng")
	if err := os.WriteFile(path, w.b, 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	rr, err := r.Rereader()
	if err != nil {
		t.Fatal(err)
	}
	defer rr.Close()

	seen := make(chan Record, 16)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for want := range seen {
			got, err := rr.ReadAt(want.Offset, want.Frame)
			if err != nil {
				t.Error(err)
				continue
			}
			if !sameRecord(*got, want) {
				t.Errorf("frame %d differs", want.Frame)
			}
		}
	}()
	n := 0
	for {
		rec, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		n++
		seen <- copyRecord(rec)
		_ = r.Interfaces()
	}
	close(seen)
	wg.Wait()
	if n != 600 || len(r.Interfaces()) != 3 || len(r.meta.runs) != 20 {
		t.Errorf("%d records, %d interfaces, %d runs of sections: want 600, 3 and 20", n, len(r.Interfaces()), len(r.meta.runs))
	}
}
