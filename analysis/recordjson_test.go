package analysis

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
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
		r := f.Record(res.Name)
		r.InputEndsEarly = res.EndsEarly()
		if err := enc.Encode(r); err != nil {
			return err
		}
	}
	return nil
}

// TestInputEndsEarly: every record of a capture read only up to damage
// says so, with the last frame read and why: a script saw only exit
// status 1 and a line on stderr, and the flow whose SYN-ACK was the
// damaged frame read "unanswered". A capture read whole has no such key.
func TestInputEndsEarly(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "testdata", "seed-client.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	cut := data[:140] // inside frame 2, the SYN-ACK
	r, err := capture.NewReader(bytes.NewReader(cut), "cut.pcap", int64(len(cut)))
	if err != nil {
		t.Fatal(err)
	}
	res, err := Run(context.Background(), r, Config{Name: "cut.pcap"})
	if err == nil {
		t.Fatal("no damage found")
	}
	checkSameJSON(t, "cut.pcap", res)
	var out bytes.Buffer
	res.WriteJSON(&out)
	var rec struct {
		End *RecordEnd `json:"input_ends_early"`
	}
	if err := json.Unmarshal(out.Bytes(), &rec); err != nil {
		t.Fatal(err)
	}
	if rec.End == nil || rec.End.AfterFrame != 1 || rec.End.Why != res.Damage || !strings.Contains(rec.End.Why, "damaged at byte 106 after frame 1") {
		t.Errorf("input_ends_early %+v, damage %q", rec.End, res.Damage)
	}
	whole, _ := analyzeFile(filepath.Join("..", "testdata", "seed-client.pcap"))
	out.Reset()
	whole.WriteJSON(&out)
	if strings.Contains(out.String(), "input_ends_early") {
		t.Errorf("a capture read whole: %s", out.String())
	}
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
	// Longer runs of plain ASCII, with a byte that needs escaping (or a
	// multibyte rune) here and there, for the eight-byte scan.
	special := []string{"\"", "\\", "\x00", "\x1f", "\x7f", "\x80", "\xff", "\u2028", "é", "\n", " ", "~"}
	for range 5000 {
		b := make([]byte, rng.IntN(40))
		for i := range b {
			b[i] = byte(0x20 + rng.IntN(0x5f))
		}
		s := string(b)
		for range rng.IntN(3) {
			i := rng.IntN(len(s) + 1)
			s = s[:i] + special[rng.IntN(len(special))] + s[i:]
		}
		strs = append(strs, s)
	}
	for _, s := range strs {
		if got, want := appendJSONString(nil, []byte(s)), appendJSONString(nil, s); !bytes.Equal(got, want) {
			t.Errorf("[]byte %q: %s, want %s", s, got, want)
		}
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
	for _, ns := range []int64{0, 1, -1, 499, 500, -500, -501, 1e3, 1500, 999999999, 1e9, 2974553123, -2974553123,
		1e18 - 1, 1e18 + 500, math.MaxInt64, math.MinInt64} {
		for _, unit := range []uint64{1e3, 1e6} {
			want := appendJSONFloat(nil, math.Round(float64(ns)/1e3)/float64(unit))
			if got := appendJSONMicros(nil, ns, unit); string(got) != string(want) {
				t.Errorf("micros %d/%d: %s, want %s", ns, unit, got, want)
			}
		}
	}
	for range 200000 {
		ns := int64(rng.Uint64()) >> rng.IntN(64)
		for _, unit := range []uint64{1e3, 1e6} {
			want := appendJSONFloat(nil, math.Round(float64(ns)/1e3)/float64(unit))
			if got := appendJSONMicros(nil, ns, unit); string(got) != string(want) {
				t.Fatalf("micros %d/%d: %s, want %s", ns, unit, got, want)
			}
		}
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

// TestAppendTimeUTC compares the timestamp writer, each time with no date
// kept (TestDateTextKept keeps it), with the time package on the ends of
// the int64 range, around day, month, year and leap-year boundaries, on
// fractions with and without trailing zeros, and on random values.
func TestAppendTimeUTC(t *testing.T) {
	ns := []int64{0, 1, -1, 1e9, -1e9, 1e9 - 1, -1e9 + 1, 1e8, 1e3, 123456789, -123456789,
		math.MaxInt64, math.MinInt64, math.MaxInt64 - 1, math.MinInt64 + 1}
	for _, day := range []time.Time{
		time.Date(1677, 9, 22, 0, 0, 0, 0, time.UTC), time.Date(1700, 2, 28, 0, 0, 0, 0, time.UTC),
		time.Date(1800, 3, 1, 0, 0, 0, 0, time.UTC), time.Date(1899, 12, 31, 0, 0, 0, 0, time.UTC),
		time.Date(1900, 2, 28, 0, 0, 0, 0, time.UTC), time.Date(1969, 12, 31, 0, 0, 0, 0, time.UTC),
		time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(1999, 12, 31, 0, 0, 0, 0, time.UTC),
		time.Date(2000, 2, 28, 0, 0, 0, 0, time.UTC), time.Date(2000, 2, 29, 0, 0, 0, 0, time.UTC),
		time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC), time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC),
		time.Date(2100, 2, 28, 0, 0, 0, 0, time.UTC), time.Date(2262, 4, 11, 0, 0, 0, 0, time.UTC),
	} {
		for _, d := range []int64{-1, 0, 1, 86399e9 + 999999999, 86400e9, 86400e9 - 1} {
			ns = append(ns, day.UnixNano()+d)
		}
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for range 100000 {
		v := int64(rng.Uint64())
		ns = append(ns, v, v/1e9*1e9, v/1e6*1e6, v/1e3*1e3, v/10*10)
	}
	for _, n := range ns {
		want := time.Unix(0, n).UTC().AppendFormat(nil, time.RFC3339Nano)
		if got := new(dateText).appendTime([]byte("x"), n); string(got) != "x"+string(want) {
			t.Fatalf("%d: %s, want x%s", n, got, want)
		}
	}
}

// testEndpoints are endpoints of each kind the writers meet: IPv4, IPv6,
// zones (one that JSON must escape), an IPv4-mapped address, and none.
var testEndpoints = []netip.AddrPort{
	netip.MustParseAddrPort("192.0.2.1:443"),
	netip.MustParseAddrPort("[2001:db8::1]:8080"),
	netip.MustParseAddrPort("[fe80::1%eth0]:22"),
	netip.MustParseAddrPort("[fe80::2%a\"b\u2028]:1"),
	netip.MustParseAddrPort("[::ffff:10.0.0.1]:80"),
	{},
}

// TestAppendMessage holds appendMessage (and Message, and the JSON
// message writer) to the sentences of messageRef, for every code, on
// flows with IPv4, IPv6, zoned, mapped and missing addresses, in varied
// handshake states, with finding numbers around each sentence's cases.
func TestAppendMessage(t *testing.T) {
	addrs := testEndpoints
	rng := rand.New(rand.NewPCG(5, 6))
	var flows []*Flow
	for i := range 400 {
		f := &Flow{}
		f.SetEnds(addrs[i%len(addrs)], addrs[(i/len(addrs)+i)%len(addrs)])
		h := &f.Handshake
		h.SynFrame, h.SynAckFrame = uint64(rng.IntN(100)), uint64(rng.IntN(100))
		h.ClientISN, h.ServerISN = rng.Uint32(), rng.Uint32()
		h.SynPayload = []int32{0, 1, 7, 40}[rng.IntN(4)]
		h.SynAckPayload = []int32{0, 1, 5, 20}[rng.IntN(4)]
		h.SynAckPadding = []int32{0, 1, 6}[rng.IntN(3)]
		synN := min(h.SynPayload, synBytesKept, []int32{0, 3, 16}[rng.IntN(3)])
		synAckN := min(h.SynAckPayload, synBytesKept, []int32{0, 2, 16}[rng.IntN(3)])
		var syn, synAck [synBytesKept]byte
		for j := range syn {
			syn[j], synAck[j] = byte(rng.Uint32()), byte(rng.Uint32())
		}
		h.keepPayload(true, syn[:synN])
		h.keepPayload(false, synAck[:synAckN])
		h.Client.TFO = rng.IntN(2) == 0
		h.HaveSyn, h.HaveSynAck, h.tfoRequest = rng.IntN(4) != 0, rng.IntN(4) != 0, rng.IntN(3) == 0
		h.SynAckAck = h.ClientISN + 1 + uint32(rng.IntN(45)) - 2
		h.Client.HasWScale, h.Client.WScale = rng.IntN(2) == 0, uint8(rng.IntN(15))
		h.Server.HasWScale, h.Server.WScale = rng.IntN(2) == 0, uint8(rng.IntN(15))
		h.Client.Seen, h.Client.Cut = rng.IntN(4) != 0, rng.IntN(2) == 0
		h.Server.Seen, h.Server.Cut = rng.IntN(4) != 0, rng.IntN(2) == 0
		f.note().malformed = []malformedNote{{3, "TCP", "TCP header truncated: 7 of 20 bytes captured"}, {4, "IP \"v\"", "a\nb\x01\xff é"}}
		// The seed's RST (tcp.rst) is as far behind as the client's ACK
		// was ahead of the server's ISN+1.
		h.AckChecked, h.AckFrame = rng.IntN(2) == 0, uint64(rng.IntN(100))
		h.ExpectedAck = h.ServerISN + 1
		h.ActualAck = h.ExpectedAck + []uint32{0, 1, 2, 1 << 31, ^uint32(0)}[rng.IntN(5)]
		if i%4 == 1 {
			// The client reset an older connection the server held
			// (rstStale), at frame 1 or 2: the SYN sent again, the
			// SYN-ACK and the client's ACK after it say so.
			h.SynAckFrame = uint64(rng.IntN(6))
			f.addFinding(Finding{Code: CodeRST, Frame: uint64(1 + rng.IntN(2)), RelatedFrame: uint64(rng.IntN(2)),
				A: int64(FromClient) | rstStale<<1 | int64(rng.IntN(2))<<4, B: int64(rng.Uint32()) << 32})
		}
		flows = append(flows, f)
	}
	nums := []int64{0, 1, -1, 2, 5, 6, 16, 20, 255, 256, 1e6, 1499999, 1500000, 59999999999, 3600e9 + 1,
		1<<32 + 1, 1<<31 - 1, -1 << 31, math.MaxInt64, math.MinInt64}
	checked, copies := 0, 0
	for i, f := range flows {
		h := &f.Handshake
		for c := range numCodes + 1 {
			for k := range 30 {
				fi := Finding{Code: c, Frame: uint64(k % 6), RelatedFrame: uint64(rng.IntN(1000)),
					A: nums[rng.IntN(len(nums))], B: nums[rng.IntN(len(nums))]}
				switch k % 5 {
				case 1:
					fi.B = int64(rng.IntN(4)) - 1
				case 2:
					fi.A, fi.B = int64(rng.Uint32()), int64(rng.Uint32())
				case 3:
					fi.A = int64(rng.Uint32())
					fi.B = int64(uint32(fi.A) + uint32(h.SynAckPayload))
				case 4:
					fi.A = int64(rng.Uint32())
					fi.B = int64(uint32(fi.A) + uint32(h.SynAckPadding))
				}
				if k%6 == 5 {
					fi.Frame = h.SynAckFrame
				}
				if k%11 == 10 {
					// Around the handshake's numbers: below ISN+1, the
					// client's own, inside the SYN's or SYN-ACK's payload.
					fi.A = int64([]uint32{h.ServerISN + 1, h.ClientISN + 1}[rng.IntN(2)])
					fi.B = int64([]uint32{uint32(fi.A) + uint32(rng.IntN(45)) - 4, h.ClientISN, h.ClientISN + 1}[rng.IntN(3)])
				}
				if k%7 == 6 {
					// About a copy of an earlier packet: bit 62, the
					// microseconds, the TTLs, the IP ID and the side.
					us := []int64{0, 1, 2, 15, 999, 1000, 1001, 1010, 1500, 12345, 999999, 1<<22 - 1}[rng.IntN(12)]
					ttl := int64(rng.IntN(256))
					copyTTL := []int64{ttl, ttl - 1, ttl - 3, int64(rng.IntN(256))}[rng.IntN(4)] & 0xff
					fi.B = 1<<62 | us<<40 | copyTTL<<32 | ttl<<24 | int64(rng.IntN(1<<16))<<8 | int64(rng.IntN(2))
				}
				if c == CodeDupAck && k%4 == 3 {
					// A D-SACK block with its numbers: bit 7, the
					// relative left edge, the length, the side.
					n := []int64{1, 1448, 1<<22 - 1, int64(rng.IntN(1 << 22))}[rng.IntN(4)]
					fi.B = 1<<7 | int64(rng.Uint32())<<8 | n<<40 | int64(rng.IntN(4))
				}
				if c == CodeRST && k%3 == 2 {
					// The seed's RST: seq ISN+1, the client's ACK next
					// expected; each side, each verdict.
					fi.A = int64(rng.IntN(2)) | int64(rng.IntN(4))<<1 | int64(rng.IntN(3))<<8
					fi.B = int64(uint64(h.ExpectedAck)<<32 | uint64(h.ActualAck))
				}
				if st, ok := staleRef(f, 100); ok && k%4 == 0 {
					// On the findings the stale reset's words apply to.
					fi.RelatedFrame = st.RelatedFrame
					if c == CodeReusedPorts {
						fi.B = 1
					}
					if c == CodeAckUnseen {
						fi.A, fi.B = int64(h.ServerISN+1), int64(FromClient)
					}
				}
				if c == CodeRST && k%5 == 4 {
					// A RST that cleared an older connection (rstStale),
					// its FIN and unacknowledged bits, the frame it names
					// before the RST, at it, or past the first frame.
					fi.A = int64(FromClient) | rstStale<<1 | int64(rng.IntN(4))<<4
					fi.B = int64(uint64(rng.Uint32())<<32 | uint64([]uint32{0, 1, 2, 5, 7}[rng.IntN(5)]))
				}
				if (c == CodeSynAckPayload || c == CodeSynPayload) && fi.A < 0 {
					fi.A = -fi.A & math.MaxInt32 // payloadHex panics on a negative length
				}
				want := messageRef(f, fi)
				if _, ok := copyMessageRef(fi); ok {
					copies++
				}
				if got := f.Message(fi); got != want {
					t.Fatalf("flow %d, %v %+v: %q, want %q", i, c, fi, got, want)
				}
				if got := string(f.appendMessage([]byte("x"), fi)); got != "x"+want {
					t.Fatalf("flow %d, %v %+v: appended %q, want %q", i, c, fi, got, "x"+want)
				}
				wantJSON := string(appendJSONString([]byte("x"), want))
				if got := string(f.appendJSONMessage([]byte(`x"`), fi)); got != wantJSON {
					t.Fatalf("flow %d, %v %+v: JSON %s, want %s", i, c, fi, got, wantJSON)
				}
				checked++
			}
		}
	}
	t.Logf("%d messages compared, %d about copies", checked, copies)
	if copies < 1000 {
		t.Errorf("only %d messages about copies compared", copies)
	}
}

// messageRef is Flow.Message as it was written with fmt, before
// appendMessage: the sentences appendMessage must match byte for byte.
func messageRef(f *Flow, fi Finding) string {
	msg := sentenceRef(f, fi) + staleNoteRef(f, fi)
	// A finding of the sequence analysis keeps its side in bit 0 of B,
	// and bit 1 marks a frame whose TCP header was cut.
	if fi.Code >= CodeRetransmission && fi.Code <= CodeKeepAlive && fi.B >= 0 && fi.B&2 != 0 {
		msg += " (its TCP header was not captured whole: Wireshark shows no analysis flags on such a frame)"
	}
	return msg
}

// staleRef is the flow's first tcp.rst finding about a RST that cleared
// an older connection (A's bits 1-3 are 4) before frame.
func staleRef(f *Flow, before uint64) (Finding, bool) {
	for _, g := range f.Findings {
		if g.Code == CodeRST && g.A>>1&7 == 4 && g.Frame < before {
			return g, true
		}
	}
	return Finding{}, false
}

// staleSegRef names the server's segment of the older connection conn
// that the RST of st answered.
func staleSegRef(st Finding, conn string) string {
	what := "an ACK of "
	if st.A&16 != 0 {
		what = "a FIN of "
	}
	if st.RelatedFrame == 0 {
		return what + conn
	}
	return fmt.Sprintf("%s%s (frame %d)", what, conn, st.RelatedFrame)
}

// staleNoteRef is what a lost segment on the first SYN-ACK, or the
// client's ACK of it, adds after a RST that cleared an older connection.
func staleNoteRef(f *Flow, fi Finding) string {
	h := &f.Handshake
	st, ok := staleRef(f, fi.Frame)
	if !h.HaveSynAck || !ok || st.RelatedFrame == 0 {
		return ""
	}
	switch {
	case fi.Code == CodeLostSegment && fi.Frame == h.SynAckFrame && fi.RelatedFrame == st.RelatedFrame:
		return fmt.Sprintf(": frame %d was of an older connection on these ports and this SYN-ACK is the server's first segment of this one: "+
			"Wireshark counts the distance between their numbers", st.RelatedFrame)
	case fi.Code == CodeAckUnseen && fi.B&1 == int64(FromClient) && uint32(fi.A) == h.ServerISN+1:
		return fmt.Sprintf(": it acknowledges the SYN-ACK (frame %d); Wireshark counts a gap before it from the numbers of an older connection on these ports (frame %d)",
			h.SynAckFrame, st.RelatedFrame)
	}
	return ""
}

// sentenceRef is messageRef but for the note on a frame whose TCP header
// was cut.
func sentenceRef(f *Flow, fi Finding) string {
	if msg, ok := copyMessageRef(fi); ok {
		return msg
	}
	h := &f.Handshake
	switch fi.Code {
	case CodeSynAckPayload:
		n := int(fi.A)
		msg := fmt.Sprintf("SYN-ACK carries %d byte%s of TCP payload (%s); a SYN-ACK should carry none",
			n, plural(n), payloadHexRef(h.SynAckBytes(), n))
		if fi.B == 1 {
			msg += ": the bytes look like Ethernet padding taken into the IP datagram by a device in the path"
		}
		return msg
	case CodeAckMismatch:
		exp, act := uint32(fi.A), uint32(fi.B)
		diff := int32(act - exp)
		msg := fmt.Sprintf("ACK expected %d (server ISN+1), got %d (%+d)", exp, act, diff)
		switch {
		case h.SynAckPayload > 0 && act == exp+uint32(h.SynAckPayload):
			msg += fmt.Sprintf(": the client acknowledged the %d byte%s of SYN-ACK payload (frame %d). RFC 9293 allows it, "+
				"but stateful firewalls that require ACK = ISN+1 drop this segment (Microsoft TMG logs FWX_E_SEQ_ACK_MISMATCH 0xC0040034), "+
				"so the connection never establishes through them",
				h.SynAckPayload, plural(int(h.SynAckPayload)), h.SynAckFrame)
		case h.SynAckPadding > 0 && int(diff) == int(h.SynAckPadding):
			msg += fmt.Sprintf(": it acknowledges %d byte%s the server never sent. The SYN-ACK (frame %d) left here with %d byte%s of "+
				"Ethernet padding: a device between here and the client that takes padding into the IP datagram would make the client "+
				"acknowledge exactly these. Stateful firewalls drop this segment (Microsoft TMG: FWX_E_SEQ_ACK_MISMATCH)",
				diff, plural(int(diff)), h.SynAckFrame, h.SynAckPadding, plural(int(h.SynAckPadding)))
		case diff < 0 || (h.HaveSyn && (act == h.ClientISN+1 || act == h.ClientISN)):
			msg += ": it does not acknowledge the SYN-ACK"
			if diff < 0 {
				msg += fmt.Sprintf(" (%d below ISN+1)", -int64(diff))
			}
			if h.HaveSyn && (act == h.ClientISN+1 || act == h.ClientISN) {
				msg += "; it is the client's own sequence number"
			}
			msg += "; stateful firewalls drop this segment"
		case diff < h.SynAckPayload:
			msg += fmt.Sprintf(": it acknowledges %d of the SYN-ACK's %d payload byte%s; stateful firewalls drop this segment",
				diff, h.SynAckPayload, plural(int(h.SynAckPayload)))
		default:
			msg += ": it acknowledges bytes that were never sent; stateful firewalls drop this segment"
		}
		return msg
	case CodeSynAckAckMismatch:
		exp, act := uint32(fi.A), uint32(fi.B)
		k, n := int32(act-exp), h.SynPayload
		head := fmt.Sprintf("SYN-ACK acknowledges %d, expected %d (client ISN+1%s): ", act, exp, tfoNoteRef(h))
		switch {
		case n > 0 && k == n:
			return head + fmt.Sprintf("it acknowledges the SYN's %d byte%s of data, without a Fast Open cookie (RFC 9293 allows it)", n, plural(int(n)))
		case n > 0 && k > 0 && k < n && h.Client.TFO:
			return head + fmt.Sprintf("the server accepted %d of the SYN's %d byte%s of Fast Open data", k, n, plural(int(n)))
		case n > 0 && k > 0 && k < n:
			return head + fmt.Sprintf("it acknowledges %d of the SYN's %d byte%s of data", k, n, plural(int(n)))
		case k < 0:
			return head + fmt.Sprintf("it does not acknowledge the SYN of frame %d (%d below ISN+1)", h.SynFrame, -int64(k))
		}
		return head + fmt.Sprintf("it does not answer the SYN of frame %d", h.SynFrame)
	case CodeSynPayload:
		if h.Client.Cut {
			return fmt.Sprintf("SYN carries %d byte%s of data (%s); its options were not captured whole: whether it carries a TCP Fast Open cookie is unknown",
				fi.A, plural(int(fi.A)), payloadHexRef(h.SynBytes(), int(fi.A)))
		}
		return fmt.Sprintf("SYN carries %d byte%s of data (%s) without a TCP Fast Open cookie", fi.A, plural(int(fi.A)),
			payloadHexRef(h.SynBytes(), int(fi.A)))
	case CodeTFO:
		cookie := "cookie"
		if h.tfoRequest {
			cookie = "cookie request"
		}
		k := int64(int32(h.SynAckAck - h.ClientISN - 1))
		switch {
		case fi.A == 0:
			return "SYN carries a TCP Fast Open " + cookie + ", no data"
		case fi.B == 1:
			return fmt.Sprintf("SYN carries a TCP Fast Open %s and %d byte%s of data; the server accepted the data", cookie, fi.A, plural(int(fi.A)))
		case fi.B == 0 && h.HaveSynAck && k > 0 && k < fi.A:
			return fmt.Sprintf("SYN carries a TCP Fast Open %s and %d byte%s of data; the server accepted %d of the %d byte%s",
				cookie, fi.A, plural(int(fi.A)), k, fi.A, plural(int(fi.A)))
		case fi.B == 0:
			return fmt.Sprintf("SYN carries a TCP Fast Open %s and %d byte%s of data; the server did not accept the data", cookie, fi.A, plural(int(fi.A)))
		}
		return fmt.Sprintf("SYN carries a TCP Fast Open %s and %d byte%s of data; no SYN-ACK seen", cookie, fi.A, plural(int(fi.A)))
	case CodeRefused:
		if fi.A == 1 {
			return fmt.Sprintf("the SYN (frame %d) was refused with a RST from %s; the client tried again, and the server answered (SYN-ACK, frame %d)", fi.RelatedFrame, f.Server(), uint64(fi.B))
		}
		return fmt.Sprintf("connection refused: the SYN (frame %d) was answered with a RST from %s", fi.RelatedFrame, f.Server())
	case CodeUnanswered:
		return fmt.Sprintf("%d SYN%s over %s with no SYN-ACK or RST from the server in the capture", fi.A, plural(int(fi.A)), secondsRef(fi.B))
	case CodeSynRetransmit:
		if rst, ok := f.First(CodeRefused); ok && rst.Frame < fi.Frame {
			return fmt.Sprintf("SYN sent again (same ISN %d, #%d) after the reset (frame %d): the client tries again", h.ClientISN, fi.A, rst.Frame)
		}
		if h.HaveSynAck && h.SynAckFrame < fi.Frame {
			return fmt.Sprintf("SYN sent again (same ISN %d, #%d) after the SYN-ACK (frame %d): the client did not get it, or did not accept it", h.ClientISN, fi.A, h.SynAckFrame)
		}
		if st, ok := staleRef(f, fi.Frame); ok {
			return fmt.Sprintf("SYN sent again (same ISN %d, #%d): the first was answered with %s, which the client reset (frame %d)",
				h.ClientISN, fi.A, staleSegRef(st, "an older connection on these ports"), st.Frame)
		}
		return fmt.Sprintf("SYN sent again (same ISN %d, #%d): the first was not answered", h.ClientISN, fi.A)
	case CodeSynAckRetransmit:
		return fmt.Sprintf("SYN-ACK sent again (same ISN %d, #%d): the server never saw an acceptable third segment", h.ServerISN, fi.A)
	case CodeIncomplete:
		if fi.A == 1 {
			return fmt.Sprintf("SYN and SYN-ACK seen, but no third segment from the client: the client reset the connection instead (frame %d)", fi.RelatedFrame)
		}
		return "SYN and SYN-ACK seen, but no third segment from the client"
	case CodeSynAckWithoutSyn:
		if fi.A == 1 {
			return fmt.Sprintf("SYN-ACK captured before its SYN (frame %d): the two directions' time stamps disagree (captures merged from two points, or clocks apart)", fi.RelatedFrame)
		}
		return "SYN-ACK with no SYN in the capture"
	case CodeNotSeen:
		const missed = ": the SYN-ACK was sent but not captured (dropped by the capture, or it took a path the capture " +
			"does not see: asymmetric routing, a one-way SPAN), not an unanswered SYN"
		switch {
		case fi.A == 1 && fi.RelatedFrame == 0:
			return "no SYN-ACK in the capture, but a later packet from the server shows that the SYN was answered" + missed
		case fi.A == 1:
			return fmt.Sprintf("no SYN-ACK in the capture, but frame %d from the server shows that the SYN was answered", fi.RelatedFrame) + missed
		case fi.A == 2 && fi.RelatedFrame == 0:
			return "no SYN-ACK in the capture, but a later ACK from the client shows that it received one" + missed
		case fi.A == 2:
			return fmt.Sprintf("no SYN-ACK in the capture, but the client's ACK in frame %d shows that it received one", fi.RelatedFrame) + missed
		case fi.A == 3:
			return "no handshake in this flow: the connection's earlier packets, its handshake probably among them, were in a flow evicted to stay within --max-flows"
		}
		return "the capture starts mid-connection: no handshake seen"
	case CodeWScaleOneSided:
		c, s := "did not", "did not"
		if h.Client.HasWScale {
			c = fmt.Sprintf("offered shift %d", h.Client.WScale)
		}
		if h.Server.HasWScale {
			s = fmt.Sprintf("offered shift %d", h.Server.WScale)
		}
		return fmt.Sprintf("window scaling offered by one side only (client %s, server %s): neither side scales", c, s)
	case CodeMSSMissing:
		if fi.Frame == h.SynAckFrame {
			return "SYN-ACK without the MSS option"
		}
		return "SYN without the MSS option"
	case CodeRetransmission, CodeFastRetransmission, CodeSpuriousRetransmission:
		// B bit 2: the segment ends where its related frame did; bit 3:
		// past it.
		kind := map[Code]string{CodeRetransmission: "retransmission", CodeFastRetransmission: "fast retransmission",
			CodeSpuriousRetransmission: "spurious retransmission"}[fi.Code]
		of, tail := "", ""
		switch {
		case fi.RelatedFrame == 0:
		case fi.B&4 != 0:
			of = fmt.Sprintf(" of frame %d", fi.RelatedFrame)
		case fi.B&8 != 0:
			tail = fmt.Sprintf(", some of them new after frame %d's", fi.RelatedFrame)
		default:
			tail = fmt.Sprintf("; frame %d had already gone past them", fi.RelatedFrame) + ignoredRSTRef(f, fi)
		}
		msg := fmt.Sprintf("%s%s by the %s", kind, of, sideName(Side(fi.B&1)))
		if fi.Code == CodeFastRetransmission {
			msg += " after duplicate ACKs"
		}
		msg += fmt.Sprintf(" (%s%s)", sentRef(fi), tail)
		if fi.Code == CodeSpuriousRetransmission {
			msg += ": the data was already acknowledged"
		}
		return msg
	case CodeOutOfOrder:
		if fi.B >= 0 && fi.B&(1<<62) == 0 && fi.B&128 != 0 {
			// B bit 7: every byte captured before; bits 4-6 the
			// segment's flags, as on a retransmission.
			by := ", all captured before"
			if fi.RelatedFrame != 0 {
				by = fmt.Sprintf(", all captured by frame %d", fi.RelatedFrame)
			}
			return fmt.Sprintf("retransmission by the %s (%s%s): not a late arrival; Wireshark calls it out of order",
				sideName(Side(fi.B&1)), sentRef(fi), by)
		}
		if fi.RelatedFrame != 0 {
			return fmt.Sprintf("out-of-order segment from the %s: frame %d, captured before it, is further in the sequence", sideName(Side(fi.B&1)), fi.RelatedFrame) + ignoredRSTRef(f, fi)
		}
		return fmt.Sprintf("out-of-order segment from the %s", sideName(Side(fi.B&1)))
	case CodeLostSegment:
		if fi.RelatedFrame != 0 {
			return fmt.Sprintf("previous segment from the %s not captured (%d bytes missing after frame %d)", sideName(Side(fi.B&1)), fi.A, fi.RelatedFrame)
		}
		return fmt.Sprintf("previous segment from the %s not captured (%d bytes missing)", sideName(Side(fi.B&1)), fi.A)
	case CodeAckUnseen:
		return fmt.Sprintf("the %s acknowledges data that was never captured (ACK %d)", sideName(Side(fi.B&1)), uint32(fi.A))
	case CodeDupAck:
		msg := fmt.Sprintf("duplicate ACK #%d from the %s", fi.A, sideName(Side(fi.B&1)))
		if fi.RelatedFrame != 0 {
			msg += fmt.Sprintf(": the ACK of frame %d again", fi.RelatedFrame)
		}
		if fi.B >= 0 && fi.B&(1<<62) == 0 && fi.B&128 != 0 {
			// B bit 7: a D-SACK block, its relative left edge in bits
			// 8-39 and its length in bits 40-61 (0: not known).
			lo, n := uint32(fi.B>>8), uint32(fi.B>>40&(1<<22-1))
			if n == 0 {
				msg += ", and reports bytes received twice (D-SACK)"
			} else {
				msg += fmt.Sprintf(", and reports bytes %d-%d (relative) received twice (D-SACK)", lo, lo+n)
			}
			msg += fmt.Sprintf(": the %s's retransmission of them was spurious, the original having arrived too, or the network duplicated them",
				sideName(1-Side(fi.B&1)))
		}
		return msg
	case CodeZeroWindow:
		return fmt.Sprintf("zero window from the %s: it cannot take more data", sideName(Side(fi.B&1)))
	case CodeZeroWindowProbe:
		if fi.RelatedFrame != 0 {
			return fmt.Sprintf("zero window probe from the %s: the %s's window has been zero since frame %d",
				sideName(Side(fi.B&1)), sideName(1-Side(fi.B&1)), fi.RelatedFrame)
		}
		return fmt.Sprintf("zero window probe from the %s", sideName(Side(fi.B&1)))
	case CodeWindowFull:
		return fmt.Sprintf("the %s filled the receiver's window", sideName(Side(fi.B&1)))
	case CodeWindowUpdate:
		// B bits 8-15: the sender's window scale, -1 unknown, -2 none.
		ws := min(int8(uint8(fi.B>>8)), 14)
		s := Side(fi.B & 1)
		switch {
		case ws > 0:
			return fmt.Sprintf("window update from the %s (window %d bytes, field %d × %d)", sideName(s), fi.A<<ws, fi.A, 1<<ws)
		case ws == -1:
			syn, o := "SYN", h.Client
			if s == FromServer {
				syn, o = "SYN-ACK", h.Server
			}
			if o.Seen && o.Cut {
				return fmt.Sprintf("window update from the %s (window field %d, unscaled: the options of the %s were not captured whole, so the window scale is unknown)", sideName(s), fi.A, syn)
			}
			return fmt.Sprintf("window update from the %s (window field %d, unscaled: the %s is not in the capture, so the window scale is unknown)", sideName(s), fi.A, syn)
		}
		return fmt.Sprintf("window update from the %s (window %d bytes)", sideName(s), fi.A)
	case CodeKeepAlive:
		if s := Side(fi.B & 1); fi.B >= 0 && fi.B&(1<<62) == 0 && fi.B&128 != 0 {
			// B bit 7: the other side's window was zero.
			since := ""
			if fi.RelatedFrame != 0 {
				since = fmt.Sprintf(" since frame %d", fi.RelatedFrame)
			}
			return fmt.Sprintf("zero window probe from the %s, shaped like a keep-alive (%d byte%s at one below its next sequence number, "+
				"as Linux sends them): the %s's window has been zero%s; Wireshark calls it a keep-alive", sideName(s), fi.A, plural(int(fi.A)), sideName(1-s), since)
		}
		return fmt.Sprintf("keep-alive from the %s", sideName(Side(fi.B&1)))
	case CodeReusedPorts:
		if fi.B == 1 {
			if rf, ok := f.First(CodeRefused); ok && rf.Frame < fi.Frame {
				return fmt.Sprintf("SYN-ACK after the server's reset (frame %d): its ISN is new to Wireshark, which counts the ports reused", rf.Frame)
			}
			if st, ok := staleRef(f, fi.Frame); ok && fi.Frame == h.SynAckFrame {
				return fmt.Sprintf("SYN-ACK after the client's reset of an older connection on these ports (frame %d): "+
					"the first answer to this SYN; its ISN is new to Wireshark, which counts the ports reused", st.Frame)
			}
			return "SYN-ACK with a new ISN: the server started the connection over"
		}
		return fmt.Sprintf("a new connection (flow %d) took over these ports before this one ended", fi.A)
	case CodeRST:
		// A: the side in bit 0, what the receiver did in bits 1-2, the
		// range of next expected numbers from bit 8; B: the RST's seq
		// and the lowest next expected.
		s, kind := Side(fi.A&1), fi.A>>1&7
		if kind == 4 {
			// The client's RST from SYN-SENT that cleared an older
			// connection: bit 4 of A a stale FIN, bit 5 the frame B
			// names (in its low 32 bits, back from the RST) unacknowledged.
			seg := "an ACK of that connection"
			if fi.A&16 != 0 {
				seg = "a FIN of that connection"
			}
			if fi.RelatedFrame != 0 {
				seg += fmt.Sprintf(" (frame %d)", fi.RelatedFrame)
			}
			held := ""
			if back := uint64(uint32(fi.B)); back != 0 && back < fi.Frame {
				held = fmt.Sprintf(" (the client's last ACK of it, frame %d, not taken)", fi.Frame-back)
				if fi.A&32 != 0 {
					held = fmt.Sprintf(" (the client never acknowledged its last segment, frame %d)", fi.Frame-back)
				}
			}
			return fmt.Sprintf("reset by the client (%s) of an older connection on these ports, not of this one: the server answered the SYN with %s, which it still held%s; "+
				"a client in SYN-SENT answers such a segment with a RST at its ACK number (seq %d, RFC 9293 §3.10.7.3), which clears it",
				endpointRef(f, FromClient), seg, held, uint32(uint64(fi.B)>>32))
		}
		who := fmt.Sprintf("reset by the %s (%s)", sideName(s), endpointRef(f, s))
		if kind == 0 || kind == 2 {
			who = "connection " + who
		}
		if kind == 0 {
			return who
		}
		seq, lo, span := uint32(uint64(fi.B)>>32), uint32(fi.B), uint32(fi.A>>8)
		next := fmt.Sprint(lo)
		if span != 0 {
			next = fmt.Sprintf("between %d and %d", lo, lo+span)
		}
		peer := sideName(s.other())
		switch kind {
		case 1:
			if d := h.ActualAck - h.ExpectedAck; s == FromServer && h.AckChecked && int32(d) > 0 && lo-seq == d {
				return fmt.Sprintf("%s with seq %d outside the %s's window (next expected %s): the %s ignores it: its ACK (frame %d) counts %d byte%s that the server's sequence numbers do not",
					who, seq, peer, next, peer, h.AckFrame, d, plural(int(d)))
			}
			return fmt.Sprintf("%s with seq %d outside the %s's window (next expected %s): the %s ignores it (forged or stale?)", who, seq, peer, next, peer)
		case 3:
			return fmt.Sprintf("%s with seq %d, in the %s's window but not the next expected %s: a receiver following RFC 5961 answers it with a challenge ACK, and the connection went on", who, seq, peer, next)
		}
		return fmt.Sprintf("%s with seq %d, in the %s's window but not the next expected %s (a receiver following RFC 5961 answers it with a challenge ACK and goes on; no challenge ACK follows in the capture)", who, seq, peer, next)
	case CodeDataAfterClose:
		// B: the side in bit 0; bit 1 marks data past the sender's own
		// FIN, whose seq is in bits 8-39.
		if fi.B&2 == 0 {
			return fmt.Sprintf("%d bytes of data from the %s after the connection was reset", fi.A, sideName(Side(fi.B&1)))
		}
		return fmt.Sprintf("%d bytes of data from the %s past its own FIN (seq %d): nothing may follow a FIN", fi.A, sideName(Side(fi.B&1)), uint32(fi.B>>8))
	case CodeChecksumOffload:
		if fi.B&(sumSent|sumIPv4Bad|sumTCPBad) == sumTCPBad {
			sums := "TCP checksums"
			if fi.A == 1 {
				sums = "a TCP checksum"
			}
			return fmt.Sprintf("%d packet%s with %s left unfinished (the pseudo-header sum a stack leaves for the NIC): checksum offload on the sending host, captured before its NIC or passed on unfinished by a virtual interface (veth, a bridge); not damage",
				fi.A, plural(int(fi.A)), sums)
		}
		return fmt.Sprintf("%d packet%s sent by the capturing host with %s: checksum offload (the NIC fills them in after the capture point)",
			fi.A, plural(int(fi.A)), badSumsRef(fi.B, fi.A == 1))
	case CodeChecksumBad:
		msg := fmt.Sprintf("bad %s on a packet from the %s (%s)", sumNamesRef(fi.B), sideName(Side(fi.A)), endpointRef(f, Side(fi.A)))
		if fi.B&(sumTCPBad|sumTCPUnverified) == sumTCPUnverified {
			msg += "; its TCP checksum is unverified: the segment was not captured whole"
		}
		return msg
	case CodeMalformed:
		for _, m := range f.note().malformed {
			if m.frame == fi.Frame {
				return fmt.Sprintf("damaged packet: %s at byte %d: %s", m.layer, fi.A, m.reason)
			}
		}
		return fmt.Sprintf("damaged packet: decoding stops at byte %d", fi.A)
	}
	return fi.Code.String()
}

// sentRef says, made with fmt, what a segment sent again carries: A its
// length, B bits 4, 5 and 6 its SYN, FIN and ACK flags.
func sentRef(fi Finding) string {
	sent := fmt.Sprintf("%d byte%s", fi.A, plural(int(fi.A)))
	flag := ""
	switch {
	case fi.B&16 != 0 && fi.B&64 != 0:
		flag = "SYN-ACK"
	case fi.B&16 != 0:
		flag = "SYN"
	case fi.B&32 != 0:
		flag = "FIN"
	}
	switch {
	case flag != "" && fi.A == 0:
		sent = flag
	case flag == "FIN":
		sent += " and FIN"
	case flag != "":
		sent = flag + " with " + sent
	}
	return sent
}

// copyMessageRef is the sentence of a finding about a copy of an earlier
// packet, made with fmt, and false when fi is not about one: a code that
// takes a packet seen twice for one sent twice, with bit 62 of B set (and
// B positive). B holds the microseconds in bits 40-61, the copy's TTL in
// 32-39, the first packet's in 24-31, the IP ID in 8-23 and the side in bit 0.
func copyMessageRef(fi Finding) (string, bool) {
	var counts string
	switch fi.Code {
	case CodeSynRetransmit, CodeSynAckRetransmit, CodeRetransmission:
		counts = "a retransmission"
	case CodeFastRetransmission:
		counts = "a fast retransmission"
	case CodeSpuriousRetransmission:
		counts = "a spurious retransmission"
	case CodeOutOfOrder:
		counts = "out-of-order"
	case CodeDupAck:
		counts = fmt.Sprintf("duplicate ACK #%d", fi.A)
	default:
		return "", false
	}
	if fi.B < 0 || fi.B&(1<<62) == 0 {
		return "", false
	}
	us := fi.B >> 40 & (1<<22 - 1)
	copyTTL, ttl := fi.B>>32&0xff, fi.B>>24&0xff
	id := fi.B >> 8 & 0xffff
	side := sideName(Side(fi.B & 1))
	var what string
	switch fi.Code {
	case CodeSynRetransmit:
		what, side = "SYN", "client"
	case CodeSynAckRetransmit:
		what, side = "SYN-ACK", "server"
	case CodeDupAck:
		what = "ACK from the " + side
	default:
		what = "segment from the " + side
		if fi.A > 0 {
			what = fmt.Sprintf("%d-byte %s", fi.A, what)
		}
	}
	ttls := fmt.Sprintf("TTL %d then %d", ttl, copyTTL)
	if ttl == copyTTL {
		ttls = fmt.Sprintf("TTL %d both times", ttl)
	}
	var later string
	switch {
	case us == 0:
		later = "less than a microsecond"
	case us == 1:
		later = "1 microsecond"
	case us < 1000:
		later = fmt.Sprintf("%d microseconds", us)
	case us == 1000:
		later = "1 millisecond"
	default:
		ms := strings.TrimRight(strings.TrimRight(fmt.Sprintf("%d.%03d", us/1000, us%1000), "0"), ".")
		later = ms + " milliseconds"
	}
	not := "retransmission by the " + side
	switch fi.Code {
	case CodeDupAck:
		not = "duplicate ACK from the " + side
	case CodeOutOfOrder:
		not = "segment sent out of order by the " + side
	}
	return fmt.Sprintf("the same %s seen again (IP ID 0x%04x, %s, %s later): a copy of one packet captured at two points "+
		"(routed between VLANs, or mirrored twice), not a %s; Wireshark counts it as %s", what, id, ttls, later, not, counts), true
}

// endpointRef is the old Flow.endpoint.
func endpointRef(f *Flow, s Side) string {
	if s == FromClient {
		return f.Client().String()
	}
	return f.Server().String()
}

// tfoNoteRef is the old tfoNote.
func tfoNoteRef(h *Handshake) string {
	if (h.Client.TFO || h.Client.Cut) && h.SynPayload > 0 {
		return fmt.Sprintf(", or +%d with Fast Open data", h.SynPayload)
	}
	return ""
}

// sumNamesRef names the bad checksums of B: "IPv4 header checksum", "TCP
// checksum", "IPv4 header and TCP checksums".
func sumNamesRef(b int64) string {
	switch {
	case b&sumIPv4Bad != 0 && b&sumTCPBad != 0:
		return "IPv4 header and TCP checksums"
	case b&sumIPv4Bad != 0:
		return "IPv4 header checksum"
	case b&sumTCPBad != 0:
		return "TCP checksum"
	}
	return "checksum"
}

// badSumsRef names the bad checksums of a checksum.offload finding: those
// of one packet with an article, of several in the plural.
func badSumsRef(b int64, one bool) string {
	names := sumNamesRef(b)
	switch {
	case strings.HasSuffix(names, "s"):
		return "bad " + names
	case one:
		return "a bad " + names
	}
	return "bad " + names + "s"
}

// payloadHexRef is the old payloadHex: the first bytes of a payload in
// hex, noting how many more there are, and those not captured: fewer kept
// than synBytesKept.
func payloadHexRef(b []byte, n int) string {
	shown := min(n, len(b))
	if shown == 0 {
		return "by its IP length; the bytes were not captured"
	}
	s := spacedHexRef(b[:shown])
	if n > shown {
		s += fmt.Sprintf(" …+%d", n-shown)
		if shown < synBytesKept {
			s += " not captured"
		}
	}
	return "bytes " + s
}

// spacedHexRef is the old spacedHex.
func spacedHexRef(b []byte) string {
	var sb strings.Builder
	for i, c := range b {
		if i > 0 {
			sb.WriteByte(' ')
		}
		sb.WriteString(hex.EncodeToString([]byte{c}))
	}
	return sb.String()
}

// secondsRef is the old seconds.
func secondsRef(ns int64) string {
	return time.Duration(ns).Round(time.Millisecond).String()
}

// TestJSONSafe8 compares the eight-byte test with the byte table on every
// pair of byte values at every two places in a word of plain bytes.
func TestJSONSafe8(t *testing.T) {
	for _, bg := range []byte{' ', 'a', '~'} {
		for p := range 8 {
			for q := p + 1; q < 8; q++ {
				for v := range 256 {
					for w := range 256 {
						var x uint64
						for i := range 8 {
							c := bg
							switch i {
							case p:
								c = byte(v)
							case q:
								c = byte(w)
							}
							x |= uint64(c) << (8 * i)
						}
						want := jsonSafe[v] && jsonSafe[w]
						if got := jsonSafe8(x); got != want {
							t.Fatalf("%016x: %v, want %v", x, got, want)
						}
					}
				}
			}
		}
	}
}

// TestAppendUint compares the integer writers with strconv around every
// power of ten, at the ends of the ranges and on random values.
func TestAppendUint(t *testing.T) {
	us := []uint64{0, math.MaxUint64, math.MaxUint64 - 1, math.MaxInt64, math.MaxInt64 + 1}
	for p := uint64(1); p <= 1e19; p *= 10 {
		us = append(us, p-1, p, p+1)
		if p == 1e19 {
			break
		}
	}
	rng := rand.New(rand.NewPCG(7, 8))
	for range 200000 {
		us = append(us, rng.Uint64()>>rng.IntN(64))
	}
	for _, u := range us {
		if got, want := appendUint([]byte("x"), u), strconv.AppendUint([]byte("x"), u, 10); string(got) != string(want) {
			t.Fatalf("%d: %s, want %s", u, got, want)
		}
		v := int64(u)
		if got, want := appendInt([]byte("x"), v), strconv.AppendInt([]byte("x"), v, 10); string(got) != string(want) {
			t.Fatalf("%d: %s, want %s", v, got, want)
		}
	}
}

// TestAppendJSONAddrPort holds appendJSONAddrPort to encoding/json's
// quoting of String, on testEndpoints, edge values and random IPv4
// endpoints.
func TestAppendJSONAddrPort(t *testing.T) {
	aps := append(slices.Clone(testEndpoints), netip.MustParseAddrPort("0.0.0.0:0"),
		netip.MustParseAddrPort("255.255.255.255:65535"), netip.MustParseAddrPort("10.9.99.100:9"))
	rng := rand.New(rand.NewPCG(8, 9))
	for range 5000 {
		aps = append(aps, netip.AddrPortFrom(netip.AddrFrom4([4]byte{byte(rng.IntN(256)), byte(rng.IntN(256)), byte(rng.IntN(256)), byte(rng.IntN(256))}), uint16(rng.IntN(65536))))
	}
	for _, ap := range aps {
		want, _ := json.Marshal(ap.String())
		if got := appendJSONAddrPort([]byte("x"), ap); string(got) != "x"+string(want) {
			t.Fatalf("%v: %s, want x%s", ap, got, want)
		}
	}
}

// TestJSONNamesPlain: every name appendJSONName writes unescaped is one
// appendJSONString would not escape either.
func TestJSONNamesPlain(t *testing.T) {
	var names []string
	for v := range 256 {
		names = append(names, Code(v).String(), Severity(v).String(), Status(v).String(),
			HandshakeStatus(v).String(), Tunnel(v).String())
	}
	for _, n := range names {
		if got, want := string(appendJSONName(nil, n)), string(appendJSONString(nil, n)); got != want {
			t.Errorf("%q: %s, appendJSONString writes %s", n, got, want)
		}
	}
}

// TestJSONAddrPort holds appendJSONAddrPort to netip's text.
func TestJSONAddrPort(t *testing.T) {
	for _, s := range []string{"0.0.0.0:0", "1.2.3.4:5", "9.10.99.100:80", "255.255.255.255:65535", "10.0.200.1:443",
		"[::ffff:1.2.3.4]:80", "[2001:db8::1]:443", "[fe80::1%eth0]:22", "[::]:0"} {
		ap := netip.MustParseAddrPort(s)
		if got, want := string(appendJSONAddrPort(nil, ap)), `"`+ap.String()+`"`; got != want {
			t.Errorf("%s: %s, want %s", s, got, want)
		}
	}
	if got := string(appendJSONAddrPort(nil, netip.AddrPort{})); got != `"invalid AddrPort"` {
		t.Errorf("the zero AddrPort: %s", got)
	}
}

// ignoredRSTRef is what a sequence finding adds when the frame it names is
// a RST its receiver ignored.
func ignoredRSTRef(f *Flow, fi Finding) string {
	for _, g := range f.Findings {
		if g.Code == CodeRST && (g.A>>1&7 == rstOutside || g.A>>1&7 == rstWentOn) && g.Frame == fi.RelatedFrame {
			return ": it is a RST the receiver ignored, whose sequence number Wireshark counts"
		}
	}
	return ""
}

// TestAppendJSONEndpoint holds the IPv4 endpoints written from the digit
// table to netip's AppendTo (appendJSONAddrPort) on every value of each
// octet and the ports' edges, and the other families to it as well.
func TestAppendJSONEndpoint(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	var addrs []netip.Addr
	for i := range 256 {
		o := byte(i)
		addrs = append(addrs, netip.AddrFrom4([4]byte{o, 0, 0, 0}), netip.AddrFrom4([4]byte{9, o, 99, 100}),
			netip.AddrFrom4([4]byte{255, 10, o, 1}), netip.AddrFrom4([4]byte{1, 200, 7, o}), netip.AddrFrom4([4]byte{o, o, o, o}))
	}
	for range 2000 {
		var a [4]byte
		binary.LittleEndian.PutUint32(a[:], rng.Uint32())
		addrs = append(addrs, netip.AddrFrom4(a))
	}
	addrs = append(addrs, netip.MustParseAddr("::ffff:10.1.2.3"), netip.MustParseAddr("2001:db8::1"),
		netip.MustParseAddr("::"), netip.MustParseAddr("fe80::1"))
	for i, a := range addrs {
		for _, port := range []uint16{0, 1, 9, 10, 99, 100, 443, 9999, 10000, 65535, uint16(i)} {
			want := string(appendJSONAddrPort(nil, netip.AddrPortFrom(a, port)))
			k := kindOf(a)
			if got := string(appendJSONEndpoint(nil, k, addrWords(a), port)); got != want {
				t.Fatalf("%v port %d: %s, want %s", a, port, got, want)
			}
			if k.addr(addrWords(a)) != a {
				t.Fatalf("%v: the words give %v", a, k.addr(addrWords(a)))
			}
		}
	}
}

// TestDigits8 holds digits8 to strconv on every value of each half of
// four digits (the halves' lanes are worked out apart, and so are the two
// digits' within each), with the other half at its ends and at random.
func TestDigits8(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for x := range uint32(1e4) {
		for _, y := range []uint32{0, 1, 9, 10, 99, 100, 4999, 9999, rng.Uint32N(1e4)} {
			for _, v := range []uint32{x*1e4 + y, y*1e4 + x} {
				var got [8]byte
				binary.LittleEndian.PutUint64(got[:], digits8(v)|ascii0s)
				if want := fmt.Sprintf("%08d", v); string(got[:]) != want {
					t.Fatalf("digits8(%d): %q, want %q", v, got, want)
				}
			}
		}
	}
}

// TestAppendUintEvery holds appendUint to strconv on every value below a
// million (each length of digits8's and the four-digit way's text) and on
// either side of each length of the longer ways, into buffers whose
// spare capacity is short, none or ample: the bytes before the number
// stay, and the result's capacity holds them.
func TestAppendUintEvery(t *testing.T) {
	us := make([]uint64, 0, 1e6+100)
	for u := range uint64(1e6) {
		us = append(us, u)
	}
	for _, p := range []uint64{1e8, 1e9, 1e10, 1e15, 1e16, 1e17, 1e19} {
		for d := range uint64(20) {
			us = append(us, p-10+d)
		}
	}
	for _, u := range us {
		want := strconv.AppendUint([]byte("ab"), u, 10)
		for _, spare := range []int{0, 3, 23, 24, 100} {
			b := make([]byte, 2, 2+spare)
			copy(b, "ab")
			if got := appendUint(b, u); string(got) != string(want) {
				t.Fatalf("%d, %d spare: %s, want %s", u, spare, got, want)
			}
		}
	}
}

// TestAppendJSONMicrosRounding holds the integer rounding of
// appendJSONMicros to math.Round of the float64 quotient where the two
// could part: at the halves of a microsecond, just below the 1e15 ns from
// which the float way takes over, and past it.
func TestAppendJSONMicrosRounding(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	var ns []int64
	for _, base := range []int64{0, 1e3, 1e9, 1e12, 1e14, 1e15 - 1e6, 1e15, 1e15 + 1e6, 1 << 53, 1e17, 1e18} {
		for _, r := range []int64{0, 1, 499, 500, 501, 999} {
			ns = append(ns, base+r, base-1000+r)
		}
	}
	for range 100000 {
		q := rng.Int64N(1e12)
		ns = append(ns, q*1000+499, q*1000+500, q*1000+501, rng.Int64N(1e15))
	}
	for _, n := range ns {
		for _, unit := range []uint64{1e3, 1e6} {
			want := appendJSONFloat(nil, math.Round(float64(n)/1e3)/float64(unit))
			if got := appendJSONMicros(nil, n, unit); string(got) != string(want) {
				t.Fatalf("micros %d/%d: %s, want %s", n, unit, got, want)
			}
		}
	}
}

// TestDateTextKept holds the date a recordHead keeps between records to
// the time package, on times in the order of a capture's flows (a day's
// flows, then the next day's), out of order across days, months, years and
// leap days, and at random.
func TestDateTextKept(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	var ns []int64
	start := time.Date(2026, 3, 1, 23, 59, 0, 0, time.UTC).UnixNano()
	for i := range int64(5000) {
		ns = append(ns, start+i*37e9+rng.Int64N(1e9))
	}
	for _, day := range []time.Time{
		time.Date(2024, 2, 28, 23, 0, 0, 0, time.UTC), time.Date(2024, 2, 29, 1, 0, 0, 0, time.UTC),
		time.Date(1999, 12, 31, 23, 0, 0, 0, time.UTC), time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(1969, 12, 31, 23, 59, 59, 999999999, time.UTC), time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2024, 2, 28, 23, 0, 0, 0, time.UTC), time.Date(2100, 3, 1, 0, 0, 0, 1, time.UTC),
	} {
		ns = append(ns, day.UnixNano(), day.UnixNano()+86400e9, day.UnixNano())
	}
	for range 20000 {
		ns = append(ns, int64(rng.Uint64()), start+rng.Int64N(3*86400e9))
	}
	ns = append(ns, math.MinInt64, math.MaxInt64, 0)
	var d dateText
	for _, n := range ns {
		want := time.Unix(0, n).UTC().AppendFormat([]byte("x"), time.RFC3339Nano)
		if got := d.appendTime([]byte("x"), n); string(got) != string(want) {
			t.Fatalf("%d after day %d: %s, want %s", n, d.day, got, want)
		}
	}
}

// TestAppendJSONEndpointIPv6 holds the IPv6 and IPv4-mapped endpoints to
// netip's text (appendJSONAddrPort): every set of zero groups, the other
// groups with each count of leading zero nibbles and each hex digit, and
// random addresses, some with many zero groups; and no address.
func TestAppendJSONEndpointIPv6(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 18))
	groups := []uint16{1, 0xf, 0x10, 0xa0, 0xfff, 0x100, 0x1000, 0xffff, 0xabcd, 0x9, 0x90, 0x900, 0x9000, 0x1234}
	var addrs []netip.Addr
	for zeros := range 256 {
		for range 8 {
			var a [16]byte
			for g := range 8 {
				if zeros>>g&1 == 0 {
					v := groups[rng.IntN(len(groups))]
					if rng.IntN(3) == 0 {
						v = uint16(1 + rng.IntN(0xffff))
					}
					binary.BigEndian.PutUint16(a[2*g:], v)
				}
			}
			addrs = append(addrs, netip.AddrFrom16(a))
		}
	}
	for range 5000 {
		var a [16]byte
		for g := range 8 {
			if rng.IntN(2) == 0 {
				binary.BigEndian.PutUint16(a[2*g:], uint16(rng.Uint32()))
			}
		}
		addrs = append(addrs, netip.AddrFrom16(a))
	}
	for _, o := range []byte{0, 1, 9, 10, 99, 100, 199, 255} {
		addrs = append(addrs, netip.AddrFrom16([16]byte{10: 0xff, 11: 0xff, 12: o, 13: 255 - o, 14: o, 15: 1}),
			netip.AddrFrom16([16]byte{10: 0xff, 11: 0xfe, 12: o, 15: 1}), netip.AddrFrom16([16]byte{9: 1, 10: 0xff, 11: 0xff, 12: o}))
	}
	for i, a := range addrs {
		for _, port := range []uint16{0, 9, 80, 443, 65535, uint16(i)} {
			want := string(appendJSONAddrPort([]byte("x"), netip.AddrPortFrom(a, port)))
			if got := string(appendJSONEndpoint([]byte("x"), addrV6, addrWords(a), port)); got != want {
				t.Fatalf("%v port %d: %s, want %s", a, port, got, want)
			}
		}
	}
	if got := string(appendJSONEndpoint(nil, addrNone, [2]uint64{}, 80)); got != `"invalid AddrPort"` {
		t.Errorf("no address: %s", got)
	}
}

// TestAppendJSONHistory holds the history's eight-byte copy to
// appendJSONString on every length, on Zeek's letters and on bytes that
// need escaping (which take appendJSONString's way), at each place.
func TestAppendJSONHistory(t *testing.T) {
	rng := rand.New(rand.NewPCG(19, 20))
	letters := "ShADadFfRrTtWwCcGgIiQq^"
	odd := []byte{'"', '\\', 0, '\n', 0x1f, 0x7f, 0x80, 0xff}
	var z zeekState
	for n := range len(z.hist) + 1 {
		for trial := range 200 {
			for i := range z.hist {
				z.hist[i] = byte(rng.Uint32()) // past the history: anything
			}
			for i := range n {
				z.hist[i] = letters[rng.IntN(len(letters))]
			}
			if trial%2 == 1 && n > 0 {
				z.hist[rng.IntN(n)] = odd[rng.IntN(len(odd))]
			}
			z.histLen = uint8(n)
			want := string(appendJSONString([]byte("x"), z.hist[:n]))
			if got := string(z.appendJSONHistory([]byte("x"))); got != want {
				t.Fatalf("history %q: %s, want %s", z.hist[:n], got, want)
			}
		}
	}
}

// TestAppendJSONOptions holds the options writer, with its MSS shortcut
// and its table of options of bool, to encoding/json's object for every
// set of options and the values' ends.
func TestAppendJSONOptions(t *testing.T) {
	for bits := range 1 << 6 {
		for _, v := range [][2]int{{0, 0}, {1460, 7}, {65535, 255}, {9, 14}} {
			o := SideOptions{Seen: true, HasMSS: bits&1 != 0, HasWScale: bits&2 != 0, SACKPerm: bits&4 != 0,
				HasTS: bits&8 != 0, TFO: bits&16 != 0, Cut: bits&32 != 0, MSS: uint16(v[0]), WScale: uint8(v[1])}
			obj, err := json.Marshal(recordOptions(o))
			if err != nil {
				t.Fatal(err)
			}
			for _, key := range []*jsonText{&clientOptionsKey, &serverOptionsKey} {
				name := `,"client_options":`
				if key == &serverOptionsKey {
					name = `,"server_options":`
				}
				want := "x" + name + string(obj)
				if got := string(appendJSONOptions([]byte("x"), key, o)); got != want {
					t.Fatalf("%+v: %s, want %s", o, got, want)
				}
			}
			if got, want := string(appendJSONOptionsGeneral(nil, o)), string(obj); got != want {
				t.Fatalf("general, %+v: %s, want %s", o, got, want)
			}
		}
	}
}

// TestJSONTexts: the tables of constant pieces hold their keys and every
// value's name as appendJSONName writes them, and appendJSONText writes
// them whole into buffers with no spare capacity or some.
func TestJSONTexts(t *testing.T) {
	check := func(t *testing.T, text *jsonText, want string) {
		t.Helper()
		for _, spare := range []int{0, 5, 47, 48} {
			b := make([]byte, 1, 1+spare)
			b[0] = 'x'
			if got := string(appendJSONText(b, text)); got != "x"+want {
				t.Fatalf("%s, want x%s", got, want)
			}
		}
	}
	for v := range 256 {
		check(t, &statusTexts[v], `,"status":`+string(appendJSONName(nil, Status(v).String()))+`,"conn_state":`)
		check(t, &handshakeTexts[v], `,"handshake":{"status":`+string(appendJSONName(nil, HandshakeStatus(v).String())))
	}
	check(t, &directionTexts[0], `,"direction_guessed":false,"first_frame":`)
	check(t, &directionTexts[1], `,"direction_guessed":true,"first_frame":`)
	check(t, &synAckPayloadKey, `,"synack_payload":`)
}

// TestConnStatePlain: every conn_state that connState gives, over all the
// pairs of endpoint states, either originator and a history of RSTOS0's,
// is a name that appendJSONName may write unescaped.
func TestConnStatePlain(t *testing.T) {
	seen := map[string]bool{}
	for o := range 256 {
		for r := range 256 {
			for _, bits := range []uint8{0, zeekSecondIsOrig} {
				for _, acked := range []uint32{0, 100} {
					var z zeekState
					z.bits = bits
					z.hist[0], z.hist[1], z.histLen = 'S', 'R', 2 // RSTOS0's
					z.ep[0].state, z.ep[1].state = zeekEndpointState(o), zeekEndpointState(r)
					z.ep[0].prev, z.ep[1].prev = zeekSynSent, zeekSynSent
					z.ep[0].ack, z.ep[1].ack = acked, acked
					seen[z.connState()] = true
				}
			}
		}
	}
	for s := range seen {
		if got, want := string(appendJSONName(nil, s)), string(appendJSONString(nil, s)); got != want {
			t.Errorf("conn_state %q: %s, appendJSONString writes %s", s, got, want)
		}
	}
	if len(seen) < 13 {
		t.Errorf("%d conn_states seen, want the 13 of Zeek: %v", len(seen), seen)
	}
}
