package capture

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fuzzSeedFiles are corpus files given to the fuzzer as seeds, when the
// corpus is there: small ones of each format with assorted features.
var fuzzSeedFiles = []string{
	"OSPFv2_Capture_FINAL.pcapng",
	"time_2106_overflow.pcapng",
	"empty.pcapng",
	"vsock-1.pcapng",
	"atm-oam-loopback-print-overrun.pcap",
	"slip-sliplink_print-oobr.pcap",
	"hoobr_juniper3.pcap",
}

// FuzzReader feeds arbitrary bytes to the readers: reading must end with
// io.EOF or a one-line error and never panic; reading the same bytes from a
// file must give the same records; and the Rereader must return every
// record identically.
func FuzzReader(f *testing.F) {
	ng, _, _ := multiSection()
	pc, _ := manyPackets(3)
	for _, seed := range [][]byte{
		pcapFile(le, false, 1, testPackets...),
		pcapFile(be, true, 113, testPackets[:2]...),
		modifiedPcapFile(le, []uint8{0, 4}, testPackets[:2]...),
		ng,
		gz(f, pc),
		gz(f, ng[:200]),
		// Files joined with cat: a second pcap header, sections of one
		// interface each, and a time stamp past 2262.
		append(pcapFile(le, false, 1, testPackets[:1]...), pcapFile(le, false, 1, testPackets[1:2]...)...),
		append(append(bytes.Clone(ng), ng...), timesFile(6, -2e9, 1e15, 1<<63)...),
	} {
		f.Add(seed)
	}
	for _, name := range fuzzSeedFiles {
		if b, err := os.ReadFile(filepath.Join(corpusDir, name)); err == nil && len(b) < 64<<10 {
			f.Add(b)
		}
	}
	// The project's fixtures: every link type and format it writes.
	fixtures, _ := filepath.Glob("../testdata/*.pcap*")
	for _, name := range fixtures {
		if b, err := os.ReadFile(name); err == nil && len(b) < 64<<10 {
			f.Add(b)
		}
	}
	// One file per fuzzing process, rewritten for each input: a
	// directory per input would cost more than the reading.
	path := filepath.Join(f.TempDir(), "fuzz.pcap")
	f.Fuzz(func(t *testing.T, data []byte) {
		const name = "fuzz.pcap"
		first, firstErr := fuzzRead(t, data, name, func() (*Reader, error) {
			return NewReader(bytes.NewReader(data), name, int64(len(data)))
		})
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		var r *Reader
		second, secondErr := fuzzRead(t, data, path, func() (*Reader, error) {
			// Through a mapping of the file, as synscope reads
			// files: the same records as read calls give.
			var err error
			if r, err = Open(path); err == nil {
				r.MapInput()
			}
			return r, err
		})
		if len(first) != len(second) || (firstErr == nil) != (secondErr == nil) {
			t.Fatalf("from memory: %d records, %v; from a file: %d records, %v", len(first), firstErr, len(second), secondErr)
		}
		for i := range first {
			if !sameRecord(first[i], second[i]) {
				t.Fatalf("frame %d differs between memory and file", i+1)
			}
		}
		if r == nil {
			return
		}
		defer r.Close()
		rr, err := r.Rereader()
		if err != nil {
			t.Fatal(err)
		}
		defer rr.Close()
		for i := len(second) - 1; i >= 0; i-- {
			want := second[i]
			got, err := rr.ReadAt(want.Offset, want.Frame)
			if err != nil {
				t.Fatalf("re-reading: %v", err)
			}
			if !sameRecord(*got, want) {
				t.Fatalf("frame %d re-read differently", want.Frame)
			}
		}
	})
}

// fuzzRead opens a reader with open and drains it, checking what every
// record and error must satisfy. It returns copies of the records (at most
// a few thousand) and the error that ended the reading, nil for io.EOF.
func fuzzRead(t *testing.T, data []byte, name string, open func() (*Reader, error)) ([]Record, error) {
	r, err := open()
	if err != nil {
		checkFuzzError(t, err, name)
		return nil, err
	}
	var recs []Record
	for {
		rec, err := r.Next()
		if err == io.EOF {
			if r.BytesRead() != int64(len(data)) && !strings.HasSuffix(r.Format(), "(gzip)") {
				t.Fatalf("clean end after %d of %d bytes", r.BytesRead(), len(data))
			}
			return recs, nil
		}
		if err != nil {
			checkFuzzError(t, err, name)
			var de *DamageError
			if errors.As(err, &de) && de.Frame != uint64(len(recs)) {
				t.Fatalf("damage after frame %d, but %d records were read", de.Frame, len(recs))
			}
			if _, again := r.Next(); again == nil || again.Error() != err.Error() {
				t.Fatalf("error not sticky: %v then %v", err, again)
			}
			return recs, err
		}
		if rec.Frame != uint64(len(recs)+1) || int(rec.CapLen) != len(rec.Data) ||
			rec.OrigLen < rec.CapLen || rec.CapLen > MaxCapLen || rec.Offset < 0 || rec.Offset >= int64(len(data)) && !strings.HasSuffix(r.Format(), "(gzip)") {
			t.Fatalf("inconsistent record %+v", *rec)
		}
		if rec.Interface < 0 || rec.Interface >= len(r.Interfaces()) {
			t.Fatalf("record names interface %d of %d", rec.Interface, len(r.Interfaces()))
		}
		recs = append(recs, copyRecord(rec))
	}
}

// checkFuzzError fails unless err is one line naming the input.
func checkFuzzError(t *testing.T, err error, name string) {
	t.Helper()
	msg := err.Error()
	if strings.ContainsAny(msg, "\r\n") || !strings.HasPrefix(msg, name+": ") {
		t.Fatalf("bad error message %q", msg)
	}
}
