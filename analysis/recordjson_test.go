package analysis

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/synscope/synscope/capture"
	"github.com/synscope/synscope/capture/fixture/synth"
)

// writeJSONEncoder writes the records as encoding/json writes them: what
// WriteJSON must match byte for byte.
func writeJSONEncoder(res *Result, w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for _, f := range res.Flows {
		if err := enc.Encode(f.Record(res.Name)); err != nil {
			return err
		}
	}
	return nil
}

func checkSameJSON(t *testing.T, name string, res *Result) {
	t.Helper()
	var fast, slow bytes.Buffer
	if err := res.WriteJSON(&fast); err != nil {
		t.Fatal(err)
	}
	if err := writeJSONEncoder(res, &slow); err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(fast.Bytes(), slow.Bytes()) {
		return
	}
	fl, sl := strings.Split(fast.String(), "\n"), strings.Split(slow.String(), "\n")
	for i := range min(len(fl), len(sl)) {
		if fl[i] != sl[i] {
			t.Fatalf("%s: record %d differs:\n got %s\nwant %s", name, i+1, fl[i], sl[i])
		}
	}
	t.Fatalf("%s: %d records, want %d", name, len(fl), len(sl))
}

// TestAppendJSONMatchesEncoder holds WriteJSON to the bytes encoding/json
// writes for Flow.Record, on every capture of testdata/, the corpus, and a
// generated capture with every planted anomaly.
func TestAppendJSONMatchesEncoder(t *testing.T) {
	files := captureFiles(1)
	n := 0
	for _, file := range files {
		if strings.HasSuffix(file, ".md") {
			continue
		}
		res, _ := analyzeFile(file)
		if res == nil {
			continue
		}
		checkSameJSON(t, file, res)
		n += len(res.Flows)
	}
	var buf bytes.Buffer
	if _, err := synth.Write(&buf, synth.Config{Seed: 3, Conns: 600, Anomalies: 0.5}); err != nil {
		t.Fatal(err)
	}
	r, err := capture.NewReader(bytes.NewReader(buf.Bytes()), "synth \"quoted\" \x01 \u2028 \xff.pcap", int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	res, err := Run(context.Background(), r, Config{Name: "synth \"quoted\" \x01 \u2028 \xff.pcap"})
	if err != nil {
		t.Fatal(err)
	}
	checkSameJSON(t, "synth", res)
	n += len(res.Flows)
	t.Logf("%d records compared", n)
}

// TestAppendJSONStringAndFloat compares the string and number writers with
// encoding/json on awkward values.
func TestAppendJSONStringAndFloat(t *testing.T) {
	strs := []string{"", "plain", "\"\\/<>&\x7f", "\x00\x01\x08\x09\x0a\x0c\x0d\x1f", "\u2028\u2029é€😀", "\xff\xfe", "a\xc3", "\xed\xa0\x80"}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		b := make([]byte, rng.IntN(12))
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		strs = append(strs, string(b))
	}
	for _, s := range strs {
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(s); err != nil {
			t.Fatal(err)
		}
		if got := string(appendJSONString(nil, s)) + "\n"; got != want.String() {
			t.Errorf("string %q: %s, want %s", s, got, want.String())
		}
		if !utf8.Valid(appendJSONString(nil, s)) {
			t.Errorf("string %q: invalid UTF-8 out", s)
		}
	}
	floats := []float64{0, 1, -1, 0.5, 1e-7, 1e-6, 123456.789, 1e20, 1e21, 1.5e300, -2.5e-9, math.SmallestNonzeroFloat64, 6.048, 17}
	for range 2000 {
		floats = append(floats, math.Round(rng.NormFloat64()*1e9)/1e6, rng.ExpFloat64()*math.Pow(10, float64(rng.IntN(40)-20)))
	}
	for _, f := range floats {
		want, _ := json.Marshal(f)
		if got := appendJSONFloat(nil, f); string(got) != string(want) {
			t.Errorf("float %v: %s, want %s", f, got, want)
		}
	}
}

// BenchmarkWriteJSON measures the JSON writer on a generated capture's flows.
func BenchmarkWriteJSON(b *testing.B) {
	var buf bytes.Buffer
	if _, err := synth.Write(&buf, synth.Config{Seed: 1, Conns: 2000, Packets: 20000}); err != nil {
		b.Fatal(err)
	}
	r, _ := capture.NewReader(bytes.NewReader(buf.Bytes()), "bench", int64(buf.Len()))
	res, err := Run(context.Background(), r, Config{Name: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := res.WriteJSON(io.Discard); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(res.Flows)*b.N)/b.Elapsed().Seconds(), "flows/s")
}

// failAfter is a writer that fails once n bytes have been written.
type failAfter struct{ n int }

func (w *failAfter) Write(b []byte) (int, error) {
	if w.n -= len(b); w.n < 0 {
		return 0, io.ErrShortWrite
	}
	return len(b), nil
}

// TestWriteJSONPaired: on two goroutines (writeJSONPaired, many flows),
// WriteJSON writes the same bytes as the encoder, in id order, and a
// failed write stops it with the error.
func TestWriteJSONPaired(t *testing.T) {
	var buf bytes.Buffer
	if _, err := synth.Write(&buf, synth.Config{Seed: 5, Conns: 4*jsonRun + 300, Packets: 30 * jsonRun, Anomalies: 0.2}); err != nil {
		t.Fatal(err)
	}
	r, _ := capture.NewReader(bytes.NewReader(buf.Bytes()), "paired", int64(buf.Len()))
	res, err := Run(context.Background(), r, Config{Name: "paired"})
	if err != nil {
		t.Fatal(err)
	}
	var got, want bytes.Buffer
	if err := res.writeJSONPaired(&got); err != nil {
		t.Fatal(err)
	}
	if err := writeJSONEncoder(res, &want); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), want.Bytes()) {
		t.Fatalf("writeJSONPaired: %d bytes, the encoder %d; they differ", got.Len(), want.Len())
	}
	for _, n := range []int{0, got.Len() / 3, got.Len() - 1} {
		if err := res.writeJSONPaired(&failAfter{n}); err != io.ErrShortWrite {
			t.Errorf("failing after %d bytes: %v, want %v", n, err, io.ErrShortWrite)
		}
	}
}
