package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/synscope/synscope/analysis"
	"github.com/synscope/synscope/capture"
	"github.com/synscope/synscope/ui"
)

// Issue 7's hostile files: every truncation of every fixture capture, and
// random byte flips of real captures, go through the whole pipeline that
// the headless modes run (read, decode, analysis, JSON, report, path
// correlation with packets read back). None may panic or hang, memory
// stays bounded by what the file holds, and nothing that reaches the
// terminal carries a raw control byte.

// pipelineOut is what one run of the pipeline produced.
type pipelineOut struct {
	res    *analysis.Result
	err    error // the reader's error: nil, damage, or a rejected file
	output []byte
}

// runPipeline reads the capture at path as the headless modes do and
// renders both outputs. A panic is returned as an error with its stack.
func runPipeline(path string, others ...string) (out pipelineOut, perr error) {
	defer func() {
		if r := recover(); r != nil {
			perr = fmt.Errorf("panic: %v\n%s", r, debug.Stack())
		}
	}()
	var buf bytes.Buffer
	var points []analysis.Point
	for i, p := range append([]string{path}, others...) {
		r, err := capture.Open(p)
		if err != nil {
			if i == 0 {
				out.err = err
				buf.WriteString(ui.Safe(err.Error(), false))
				out.output = buf.Bytes()
				return out, nil
			}
			return out, err
		}
		defer r.Close()
		res, err := analysis.Run(context.Background(), r, analysis.Config{Name: filepath.Base(p)})
		if i == 0 {
			out.res, out.err = res, err
			if err != nil {
				buf.WriteString(ui.Safe(err.Error(), false) + "\n")
			}
			if err := res.WriteJSON(&buf); err != nil {
				return out, err
			}
		}
		pt := analysis.Point{Name: filepath.Base(p), Result: res}
		if rr, err := r.Rereader(); err == nil {
			defer rr.Close()
			pt.Reread = rr.ReadAt
		}
		points = append(points, pt)
	}
	var pa *analysis.Path
	if len(points) > 1 {
		pa = analysis.Correlate(points)
		if err := pa.WriteJSON(&buf); err != nil {
			return out, err
		}
	}
	results := []*analysis.Result{out.res}
	if err := ui.WriteReport(&buf, results, ui.ReportOptions{Path: pa}); err != nil {
		return out, err
	}
	out.output = buf.Bytes()
	return out, nil
}

// checkTerminalSafe fails on any byte of output a terminal would act on:
// C0 controls but newline, DEL, C1 controls, bidi overrides and
// invalid UTF-8.
func checkTerminalSafe(out []byte) error {
	for i := 0; i < len(out); {
		r, n := utf8.DecodeRune(out[i:])
		switch {
		case r == utf8.RuneError && n <= 1:
			return fmt.Errorf("invalid UTF-8 at byte %d: % x", i, out[i:min(i+8, len(out))])
		case r < 0x20 && r != '\n', r == 0x7f, r >= 0x80 && r <= 0x9f:
			return fmt.Errorf("control %U at byte %d: %q", r, i, out[max(0, i-20):min(i+20, len(out))])
		case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0x200e, r == 0x200f, r == 0x061c:
			return fmt.Errorf("bidi control %U at byte %d", r, i)
		}
		i += n
	}
	return nil
}

// recordEnds returns, for each packet of a well-formed capture, the byte
// offset where its record or block ends.
func recordEnds(t *testing.T, data []byte, path string) []int64 {
	t.Helper()
	r, err := capture.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ng := strings.HasPrefix(r.Format(), "pcapng")
	var bo binary.ByteOrder = binary.LittleEndian
	if ng && binary.BigEndian.Uint32(data[8:]) == 0x1a2b3c4d {
		bo = binary.BigEndian
	}
	var ends []int64
	for {
		rec, err := r.Next()
		if err != nil {
			break
		}
		if ng {
			ends = append(ends, rec.Offset+int64(bo.Uint32(data[rec.Offset+4:])))
		} else {
			ends = append(ends, rec.Offset+16+int64(rec.CapLen))
		}
	}
	return ends
}

// fixtureCaptures lists the project's fixture captures that are not
// compressed (a truncated gzip stream is tested apart).
func fixtureCaptures(t *testing.T) []string {
	files, _ := filepath.Glob("testdata/*.pcap*")
	var out []string
	for _, f := range files {
		if !strings.HasSuffix(f, ".gz") {
			out = append(out, f)
		}
	}
	if len(out) < 10 {
		t.Fatalf("only %d fixture captures in testdata", len(out))
	}
	return out
}

// TestEveryTruncation cuts every fixture capture at every byte offset and
// runs the pipeline on each cut. The result must hold exactly the packets
// whose records end before the cut, and the damage must be reported at the
// first incomplete record, in one line that names the file.
func TestEveryTruncation(t *testing.T) {
	dir := t.TempDir()
	var runs, clean int
	for _, src := range fixtureCaptures(t) {
		data, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		ends := recordEnds(t, data, src)
		cut := filepath.Join(dir, filepath.Base(src))
		// The seed's inside capture is also cut as the middle point of the
		// seed's path, with the client and outside captures whole.
		var others []string
		if filepath.Base(src) == "seed-inside.pcap" {
			others = []string{"testdata/seed-outside.pcap"}
		}
		step := 1
		if raceEnabled {
			step = 7 // every offset is cut in the run without -race
		}
		for k := 0; k < len(data); k += step {
			if err := os.WriteFile(cut, data[:k], 0o600); err != nil {
				t.Fatal(err)
			}
			out, err := runPipeline(cut, others...)
			runs++
			if err != nil {
				t.Fatalf("%s cut at %d: %v", src, k, err)
			}
			if err := checkTerminalSafe(out.output); err != nil {
				t.Fatalf("%s cut at %d: %v", src, k, err)
			}
			want := 0
			for want < len(ends) && ends[want] <= int64(k) {
				want++
			}
			if out.err != nil && (strings.Contains(out.err.Error(), "\n") || !strings.Contains(out.err.Error(), cut)) {
				t.Fatalf("%s cut at %d: error is not one line naming the file: %q", src, k, out.err)
			}
			if out.res == nil {
				// Rejected: only a cut inside the file header may be.
				if want > 0 || out.err == nil {
					t.Fatalf("%s cut at %d: rejected (%v) though %d packets are whole", src, k, out.err, want)
				}
				continue
			}
			if got := int(out.res.Frames); got != want {
				t.Fatalf("%s cut at %d: %d frames read, want %d (err %v)", src, k, got, want, out.err)
			}
			var de *capture.DamageError
			switch {
			case want > 0 && int64(k) == ends[want-1] || want == 0 && out.err == nil:
				// A cut on a record boundary is a shorter, valid capture.
				if out.err != nil {
					t.Fatalf("%s cut at %d (a record boundary): %v", src, k, out.err)
				}
				clean++
			case !errors.As(out.err, &de):
				t.Fatalf("%s cut at %d: want a damage report, got %v", src, k, out.err)
			case want > 0 && de.Offset != ends[want-1] || de.Frame != uint64(want):
				t.Fatalf("%s cut at %d: damage at byte %d after frame %d, want byte %d after frame %d", src, k, de.Offset, de.Frame, ends[max(want-1, 0)], want)
			case !strings.Contains(out.res.Damage, fmt.Sprintf("damaged at byte %d", de.Offset)):
				t.Fatalf("%s cut at %d: the result's damage %q does not say where", src, k, out.res.Damage)
			case !bytes.Contains(out.output, []byte("damaged at byte")):
				t.Fatalf("%s cut at %d: the output does not say where the damage starts", src, k)
			}
		}
	}
	t.Logf("%d cuts, %d of them on a record boundary", runs, clean)
}

// TestTruncatedGzip cuts a compressed capture at every offset: the packets
// decompressed before the cut are read, the rest is reported as damage.
func TestTruncatedGzip(t *testing.T) {
	data, err := os.ReadFile("testdata/seed-client.pcap.gz")
	if err != nil {
		t.Fatal(err)
	}
	cut := filepath.Join(t.TempDir(), "cut.pcap.gz")
	for k := 0; k < len(data); k++ {
		os.WriteFile(cut, data[:k], 0o600)
		out, err := runPipeline(cut)
		if err != nil {
			t.Fatalf("cut at %d: %v", k, err)
		}
		if err := checkTerminalSafe(out.output); err != nil {
			t.Fatalf("cut at %d: %v", k, err)
		}
		if out.err == nil && k < len(data)-8 {
			t.Fatalf("cut at %d of %d: read as whole", k, len(data))
		}
	}
}

// TestByteFlips flips random bytes of real captures (the corpus and the
// fixtures), deterministically, and runs the pipeline on each: no panic, no
// hang, output safe for a terminal, allocation bounded by the file's size.
func TestByteFlips(t *testing.T) {
	files := fixtureCaptures(t)
	corpus, _ := filepath.Glob("../shared/corpus/tcpdump-tests/*.pcap*")
	if len(corpus) == 0 {
		if os.Getenv("SYNSCOPE_REQUIRE_CORPUS") == "1" {
			t.Fatal("capture corpus not found at ../shared/corpus, and SYNSCOPE_REQUIRE_CORPUS=1")
		}
		t.Log("capture corpus not found at ../shared/corpus: flipping the fixtures only")
	}
	rng := rand.New(rand.NewPCG(7, 7))
	// A sample of the corpus, the same every run, small captures favoured
	// so that the flips land in headers as often as in payloads.
	for _, f := range corpus {
		if st, err := os.Stat(f); err == nil && st.Size() < 256<<10 && rng.IntN(4) == 0 {
			files = append(files, f)
		}
	}
	mutants := 40
	if testing.Short() || raceEnabled {
		mutants = 5
	}
	dir := t.TempDir()
	var runs, damaged int
	for _, src := range files {
		data, err := os.ReadFile(src)
		if err != nil || len(data) < 32 {
			continue
		}
		for m := 0; m < mutants; m++ {
			mut := bytes.Clone(data)
			for n := 1 + rng.IntN(8); n > 0; n-- {
				i := rng.IntN(len(mut))
				switch rng.IntN(3) {
				case 0:
					mut[i] ^= 1 << rng.IntN(8)
				case 1:
					mut[i] = byte(rng.IntN(256))
				default:
					mut[i] = []byte{0x00, 0xff, 0x7f, 0x80, 0x1b, 0x9b}[rng.IntN(6)]
				}
			}
			path := filepath.Join(dir, fmt.Sprintf("flip-%d%s", m, filepath.Ext(src)))
			if err := os.WriteFile(path, mut, 0o600); err != nil {
				t.Fatal(err)
			}
			out, alloc, err := runBounded(t, path)
			runs++
			if err != nil {
				os.WriteFile(filepath.Join(os.TempDir(), "synscope-flip-crasher"+filepath.Ext(src)), mut, 0o600)
				t.Fatalf("%s mutant %d: %v (kept in %s)", src, m, err, os.TempDir())
			}
			if out.err != nil {
				damaged++
			}
			if err := checkTerminalSafe(out.output); err != nil {
				t.Fatalf("%s mutant %d: %v", src, m, err)
			}
			if limit := uint64(64<<20 + 64*len(mut)); alloc > limit {
				t.Errorf("%s mutant %d: allocated %d MB for a %d byte file", src, m, alloc>>20, len(mut))
			}
		}
	}
	t.Logf("%d mutants of %d captures, %d read up to damage or rejected", runs, len(files), damaged)
}

// runBounded runs the pipeline with a deadline and returns how many bytes
// it allocated.
func runBounded(t *testing.T, path string) (pipelineOut, uint64, error) {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	type result struct {
		out pipelineOut
		err error
	}
	done := make(chan result, 1)
	go func() {
		out, err := runPipeline(path)
		done <- result{out, err}
	}()
	select {
	case r := <-done:
		runtime.ReadMemStats(&after)
		return r.out, after.TotalAlloc - before.TotalAlloc, r.err
	case <-time.After(30 * time.Second):
		return pipelineOut{}, 0, errors.New("no result after 30 s")
	}
}

// TestHugeRecordClaims: headers that claim enormous packets or blocks are
// damage, found without allocating what they claim.
func TestHugeRecordClaims(t *testing.T) {
	seed, err := os.ReadFile("testdata/seed-client.pcap")
	if err != nil {
		t.Fatal(err)
	}
	ng, err := os.ReadFile("testdata/seed-client-pcapng.pcapng")
	if err != nil {
		t.Fatal(err)
	}
	ends := recordEnds(t, ng, "testdata/seed-client-pcapng.pcapng")
	firstEPB := ends[0] - int64(binary.LittleEndian.Uint32(ng[ends[0]-4:]))
	cases := []struct {
		name string
		data []byte
		at   int // where the claim is written, little-endian
		v    uint32
		ok   bool // the claim is harmless: the file reads as whole
	}{
		// libpcap reads a file whose header claims a huge snap length: it
		// is what a capture with -s 0 wrote on some systems.
		{"pcap snaplen 4 GB", seed, 16, 0xffffffff, true},
		{"pcap record caplen 4 GB", seed, 24 + 8, 0xfffffff0, false},
		{"pcap record caplen 1 MB", seed, 24 + 8, 1 << 20, false},
		{"pcap second record 4 GB", seed, int(recordEnds(t, seed, "testdata/seed-client.pcap")[0]) + 8, 0xfffffff0, false},
		{"pcapng block 4 GB", ng, int(firstEPB) + 4, 0xfffffff0, false},
		{"pcapng captured length 4 GB", ng, int(firstEPB) + 20, 0xfffffff0, false},
		{"pcapng section header 2 GB", ng, 4, 0x7ffffff0, false},
	}
	dir := t.TempDir()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			data := bytes.Clone(tc.data)
			binary.LittleEndian.PutUint32(data[tc.at:], tc.v)
			path := filepath.Join(dir, "huge.cap")
			os.WriteFile(path, data, 0o600)
			out, alloc, err := runBounded(t, path)
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case tc.ok && out.err != nil:
				t.Errorf("want the file read as whole: %v", out.err)
			case tc.ok:
			case out.err == nil:
				t.Errorf("read as whole; want a damage report")
			case strings.Contains(out.err.Error(), "\n") || !strings.Contains(out.err.Error(), path):
				t.Errorf("error is not one line naming the file: %q", out.err)
			}
			if alloc > 32<<20 {
				t.Errorf("allocated %d MB", alloc>>20)
			}
		})
	}
}
