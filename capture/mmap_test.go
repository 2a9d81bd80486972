package capture

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

// readFileMapped reads every record of a file with Open, mapped or not, and
// returns copies of them, how many bytes were consumed and the error that
// ended the reading.
func readFileMapped(t *testing.T, path string, mapped bool) ([]Record, int64, error) {
	t.Helper()
	r, err := Open(path)
	if err != nil {
		return nil, 0, err
	}
	defer r.Close()
	if mapped && !r.MapInput() && !r.meta.gzip {
		t.Fatalf("%s: MapInput refused a regular file", path)
	}
	recs, err := readRecords(r)
	return recs, r.BytesRead(), err
}

func skipNoMapping(t *testing.T) {
	if runtime.GOOS != "linux" && runtime.GOOS != "darwin" {
		t.Skip("no memory mapping of files on " + runtime.GOOS)
	}
}

// bigCapture is a pcap file of several mapping windows, whose records of
// uneven sizes straddle the windows' ends.
func bigCapture() []byte {
	var pkts []pkt
	size := 0
	for i := 0; size < 3*mapWindow+mapWindow/2; i++ {
		n := 1 + (i*7919)%9000
		if i%1000 == 999 {
			n = 200_000 // larger than some windows' remainder
		}
		pkts = append(pkts, pkt{ts: 1_700_000_000_000_000_000 + int64(i)*1000, data: payload(i, n)})
		size += 16 + n
	}
	return pcapFile(le, true, 1, pkts...)
}

// TestMapInputSameRecords reads files both ways, through read calls and
// through a mapping of the file: the records, the error at the end and the
// bytes consumed must be the same. The files: the project's fixtures, the
// corpus, a file of several mapping windows, and small files cut at every
// byte.
func TestMapInputSameRecords(t *testing.T) {
	skipNoMapping(t)
	dir := t.TempDir()
	big := filepath.Join(dir, "big.pcap")
	if err := os.WriteFile(big, bigCapture(), 0o600); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob("../testdata/*.pcap*")
	files = append(files, big)
	if entries, err := os.ReadDir(corpusDir); err == nil {
		for _, e := range entries {
			files = append(files, filepath.Join(corpusDir, e.Name()))
		}
	}
	ng, _, _ := multiSection()
	for name, full := range map[string][]byte{"pcap": pcapFile(le, false, 1, testPackets...), "pcapng": ng} {
		for cut := 0; cut <= len(full); cut++ {
			path := filepath.Join(dir, name+"-"+itoa(cut))
			if err := os.WriteFile(path, full[:cut], 0o600); err != nil {
				t.Fatal(err)
			}
			files = append(files, path)
		}
	}
	for _, file := range files {
		if strings.HasSuffix(file, ".md") {
			continue
		}
		want, wn, werr := readFileMapped(t, file, false)
		got, gn, gerr := readFileMapped(t, file, true)
		if (werr == nil) != (gerr == nil) || (werr != nil && werr.Error() != gerr.Error()) {
			t.Fatalf("%s: read calls end with %v, the mapping with %v", file, werr, gerr)
		}
		checkRecords(t, got, want)
		if wn != gn {
			t.Errorf("%s: %d bytes read through read calls, %d through the mapping", file, wn, gn)
		}
	}
	t.Logf("%d files compared", len(files))
}

func itoa(n int) string {
	b := []byte{}
	for {
		b = append([]byte{byte('0' + n%10)}, b...)
		if n /= 10; n == 0 {
			return string(b)
		}
	}
}

// openMapped opens path and reads it through the mapping; the reader is
// closed when the test ends.
func openMapped(t *testing.T, path string) *Reader {
	t.Helper()
	r, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	if !r.MapInput() {
		t.Fatal("MapInput refused a regular file")
	}
	return r
}

// openMappedAtFirst opens path through a mapping and reads its first
// record.
func openMappedAtFirst(t *testing.T, path string) *Reader {
	t.Helper()
	r := openMapped(t, path)
	if _, err := r.Next(); err != nil {
		t.Fatal(err)
	}
	return r
}

// mapSink keeps the reading of the data from being optimised away.
var mapSink int

// TestMapInputTruncatedWhileRead truncates a mapped file under the reader:
// touching the pages it no longer has faults, and the fault must become a
// DamageError at the last whole record, not a crash.
func TestMapInputTruncatedWhileRead(t *testing.T) {
	skipNoMapping(t)
	path := filepath.Join(t.TempDir(), "big.pcap")
	data := bigCapture()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	all, _, err := readFileMapped(t, path, false)
	if err != nil {
		t.Fatal(err)
	}
	r := openMappedAtFirst(t, path)
	// The first window is mapped; cut the file inside it.
	cut := int64(mapWindow / 2)
	if err := os.Truncate(path, cut); err != nil {
		t.Fatal(err)
	}
	n := 1
	err = func() (err error) {
		defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
		defer func() {
			if v := recover(); v != nil {
				if err = r.FaultError(v); err == nil {
					panic(v)
				}
			}
		}()
		for {
			rec, err := r.Next()
			if err != nil {
				return err
			}
			// Read the data, as a decoder does.
			for _, b := range rec.Data {
				mapSink += int(b)
			}
			n++
		}
	}()
	var de *DamageError
	if !errors.As(err, &de) || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("after the truncation: %v, want a DamageError", err)
	}
	if de.Frame != uint64(n) || de.Offset > cut || int(de.Frame) >= len(all) {
		t.Errorf("%v: frame %d offset %d, want frame %d (records read whole) and an offset before %d", err, de.Frame, de.Offset, n, cut)
	}
	if strings.ContainsAny(err.Error(), "\n\r") || !strings.HasPrefix(err.Error(), path+": ") {
		t.Errorf("error %q is not one line naming the file", err)
	}
	if _, again := r.Next(); again == nil || again.Error() != err.Error() {
		t.Errorf("Next after the damage: %v, want the same error", again)
	}
	t.Logf("%v", err)
}

// TestFaultErrorOnlyInTheMapping checks that a fault outside the mapped
// window (a nil pointer, which SetPanicOnFault also gives an address) is
// not taken for a truncated file: it is a bug, to panic with again.
func TestFaultErrorOnlyInTheMapping(t *testing.T) {
	skipNoMapping(t)
	path := filepath.Join(t.TempDir(), "small.pcap")
	if err := os.WriteFile(path, pcapFile(le, false, 1, testPackets...), 0o600); err != nil {
		t.Fatal(err)
	}
	r := openMappedAtFirst(t, path)
	var nilPtr *int
	v := func() (v any) {
		defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
		defer func() { v = recover() }()
		mapSink += *nilPtr
		return nil
	}()
	if v == nil {
		t.Fatal("no fault")
	}
	if err := r.FaultError(v); err != nil {
		t.Errorf("a nil pointer's fault taken for damage: %v", err)
	}
	if _, err := r.Next(); err != nil {
		t.Errorf("the reader is broken after an unrelated fault: %v", err)
	}
}
