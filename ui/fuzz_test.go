package ui

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/gopacket/gopacket/layers"

	"github.com/synscope/synscope/analysis"
	"github.com/synscope/synscope/capture"
	"github.com/synscope/synscope/capture/fixture"
)

// corpusDir holds the capture corpus (not in the repository).
var corpusDir = filepath.Join("..", "..", "shared", "corpus", "tcpdump-tests")

// fuzzHang is how long one run of FuzzView may take before it is taken
// for a hang.
const fuzzHang = 10 * time.Second

// fuzzFrameMax bounds a fuzzed frame, so that each run stays fast.
const fuzzFrameMax = 2048

// fuzzSizes are the terminal sizes every fuzzed packet is drawn at, the
// goldens' two (small and wide layouts); a third comes from the input,
// from the smallest laid out up.
var fuzzSizes = []struct{ w, h int }{{80, 24}, {120, 40}}

// terminalSeeds are payloads that would steer a terminal if they reached
// it, one concern each.
var terminalSeeds = map[string]string{
	"osc-title":   "\x1b]0;pwned\x07\x1b]2;pwned\x1b\\",
	"clear":       "\x1b[2J\x1b[H\x1b[3J\x1bc",
	"osc8":        "\x1b]8;;http://evil.example/\x07click\x1b]8;;\x07",
	"dcs":         "\x1bP1$r\x1b\\\x1bPq#0;2;0;0;0\x1b\\",
	"c1":          "\u009b31m\x9b31m\x9d0;x\x9c\u0090q\u009c",
	"bidi":        "\u202eevil\u202c\u2066x\u2069\u200f\u061c",
	"invalid-utf": "\xff\xfe\xc3\x28\xe2\x82\xf0\x28\x8c\xbc\xed\xa0\x80",
	"controls":    "\x00\x07\x08\x0d\x7f\x1b",
}

// FuzzView decodes an arbitrary frame of any link type as the TUI does and
// draws everything that shows a packet: the list row of its flow, the
// drill-down's summary, ladder, decoded headers and hex dump, and the
// packet pane on its own (for a frame that makes no flow), at several
// terminal sizes. No panic; every frame exactly fills the terminal; and
// nothing but the views' own SGR styling reaches it: no C0 or C1 control,
// no other escape sequence, no bidi control, only valid UTF-8, no window
// title.
func FuzzView(f *testing.F) {
	for _, p := range fuzzSeedPackets(f) {
		f.Add(uint16(p.lt), p.data, uint8(len(p.data)))
	}
	f.Fuzz(func(t *testing.T, lt uint16, frame []byte, size uint8) {
		if len(frame) > fuzzFrameMax {
			frame = frame[:fuzzFrameMax]
		}
		// A run that hangs says where, with its input.
		watch := time.AfterFunc(fuzzHang, func() {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			fmt.Fprintf(os.Stderr, "FuzzView: no end after %v on link type %d, size %d, frame %x\n%s", fuzzHang, lt, size, frame, buf)
			os.Exit(2)
		})
		defer watch.Stop()
		ascii := size&0x80 != 0
		sizes := append(fuzzSizes[:len(fuzzSizes):len(fuzzSizes)], struct{ w, h int }{minWidth + int(size&0x7f)*2, minHeight + int(size&0x1f)})
		data := fuzzCapture(t, layers.LinkType(lt), frame)
		viewModel(t, data, ascii, sizes)
		viewPacket(t, layers.LinkType(lt), frame, ascii, sizes)
	})
}

// fuzzCapture is a pcap of the frame twice (a flow of two packets, the
// second a retransmission) and its first half.
func fuzzCapture(t *testing.T, lt layers.LinkType, frame []byte) []byte {
	var buf bytes.Buffer
	w, err := capture.NewPcapWriter(&buf, lt, 0, true)
	if err != nil {
		t.Fatal(err)
	}
	for i, d := range [][]byte{frame, frame, frame[:len(frame)/2]} {
		rec := capture.Record{Timestamp: 1714564800e9 + int64(i)*1e6, Data: d, OrigLen: uint32(len(frame))}
		if err := w.WritePacket(&rec); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// viewModel runs the TUI on the capture and walks the views of its first
// flow: the list at every size, then each packet decoded and in hex, the
// packet pane scrolled to its end, absolute numbers and the findings, each
// at one of the sizes in turn (drawing is what takes the time).
func viewModel(t *testing.T, data []byte, ascii bool, sizes []struct{ w, h int }) {
	r, err := capture.NewReader(bytes.NewReader(data), "fuzz.pcap", int64(len(data)))
	if err != nil {
		return // a link type the reader refuses
	}
	cfg := testConfig([]Source{{Name: "fuzz.pcap", Reader: r}})
	cfg.ASCII = ascii
	m := newLoaded(t, cfg, sizes[0].w, sizes[0].h)
	for i, sz := range sizes {
		m = update(t, m, tea.WindowSizeMsg{Width: sz.w, Height: sz.h})
		checkFuzzFrame(t, "list", m, sz.w, sz.h, i == 0)
	}
	if m.list.current() == nil {
		return
	}
	m = press(t, m, "enter")
	if m.state != stateDetail {
		t.Fatalf("enter on flow %d did not open it", m.list.current().ID)
	}
	n := 0
	check := func(where string) {
		t.Helper()
		sz := sizes[n%len(sizes)]
		m = update(t, m, tea.WindowSizeMsg{Width: sz.w, Height: sz.h})
		checkFuzzFrame(t, where, m, sz.w, sz.h, n == 0)
		n++
	}
	for i := range len(m.detail.flow.Refs) {
		check("ladder")
		m = press(t, m, "x")
		check("hex")
		m = press(t, m, "x")
		if i < len(m.detail.flow.Refs)-1 {
			m = press(t, m, "j")
		}
	}
	m = press(t, m, "tab", "G")
	check("packet pane, end")
	m = press(t, m, "shift+tab", "r")
	check("ladder, absolute")
	m = press(t, m, "shift+tab")
	check("findings")
}

// viewPacket draws the packet pane of the frame decoded on its own, as
// the drill-down would show it if it were part of a flow: the frames that
// make no flow (not TCP, damaged) are drawn too.
func viewPacket(t *testing.T, lt layers.LinkType, frame []byte, ascii bool, sizes []struct{ w, h int }) {
	rec := capture.Record{Frame: 1, Timestamp: 1714564800e9, LinkType: lt, Data: frame,
		CapLen: uint32(len(frame)), OrigLen: uint32(len(frame)) + 4, Direction: capture.Direction(len(frame) % 3)}
	ps := &packetStore{read: func(analysis.PacketRef) (*capture.Record, error) { return &rec, nil }}
	var p analysis.Packet
	analysis.NewDecoder().Decode(&rec, &p)
	ref := analysis.PacketRef{Frame: 1, Time: rec.Timestamp, Seq: p.Seq, Ack: p.Ack, Flags: p.Flags, Len: uint32(max(0, p.PayloadLen))}
	if p.Fragment {
		ref.Bits |= analysis.RefFragment
		ref.Offset = 24
	}
	fl := &analysis.Flow{ID: 1, Refs: []analysis.PacketRef{ref}, Packets: 1}
	if p.HasTCP {
		fl.SetEnds(netip.AddrPortFrom(p.Src, p.SrcPort), netip.AddrPortFrom(p.Dst, p.DstPort))
	}
	cfg := testConfig(nil)
	cfg.ASCII = ascii
	m := New(cfg)
	infos := readPackets(ps, fl.Refs)
	for i, hex := range []bool{false, true} {
		sz := sizes[len(sizes)-1-i]
		m.c.width, m.c.height = sz.w, sz.h
		d := newDetailModel(m.c, 0, "fuzz\x1b]0;pwned\x07.pcap", fl, ps)
		d.infos[0] = infos[0]
		d.hex = hex
		d.fix()
		m.detail, m.state = d, stateDetail
		checkFuzzFrame(t, "packet", m, sz.w, sz.h, false)
		for _, l := range d.packetLines(sz.w) {
			checkInertText(t, "packet line", l)
		}
	}
}

// checkFuzzFrame checks a frame: inert (checkInert at the first size,
// then every byte), of exactly h lines of at most w columns.
func checkFuzzFrame(t *testing.T, where string, m Model, w, h int, first bool) {
	t.Helper()
	if first {
		checkInert(t, where, m)
	}
	v := m.View()
	checkInertText(t, where, v.Content)
	if v.WindowTitle != "" {
		t.Fatalf("%s: window title %q", where, v.WindowTitle)
	}
	lines := strings.Split(ansi.Strip(v.Content), "\n")
	if len(lines) != h {
		t.Fatalf("%s at %dx%d: %d lines", where, w, h, len(lines))
	}
	for i, l := range lines {
		if width(l) > w {
			t.Fatalf("%s at %dx%d: line %d is %d columns wide: %q", where, w, h, i+1, width(l), l)
		}
	}
}

// checkInertText fails unless s, its SGR sequences removed, is valid UTF-8
// with no control character but newlines, no C1 control and no bidi
// control.
func checkInertText(t *testing.T, where, s string) {
	t.Helper()
	s = onlySGR.ReplaceAllString(s, "")
	if !utf8.ValidString(s) {
		i := 0
		for i < len(s) {
			r, n := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && n <= 1 {
				break
			}
			i += n
		}
		t.Fatalf("%s: invalid UTF-8 at byte %d: %q", where, i, s[max(0, i-40):min(len(s), i+40)])
	}
	for i, r := range s {
		if (r < 0x20 && r != '\n') || (r >= 0x7f && r < 0xa0) || isBidiControl(r) {
			t.Fatalf("%s: %U at byte %d: %q", where, r, i, s[max(0, i-40):min(len(s), i+40)])
		}
	}
}

// seedPacket is one frame for the fuzzer's seed corpus.
type seedPacket struct {
	lt   layers.LinkType
	data []byte
}

// fuzzSeedPackets are the seeds: every packet of the project's fixtures,
// TCP packets carrying each terminal attack in their payload and options,
// and a sample of the corpus's packets (skipped without the corpus unless
// SYNSCOPE_REQUIRE_CORPUS=1).
func fuzzSeedPackets(f *testing.F) []seedPacket {
	var out []seedPacket
	add := func(data []byte, max int) {
		r, err := capture.NewReader(bytes.NewReader(data), "seed", int64(len(data)))
		if err != nil {
			return
		}
		defer r.Close()
		for n := 0; n < max; n++ {
			rec, err := r.Next()
			if err != nil {
				return
			}
			if len(rec.Data) <= fuzzFrameMax {
				out = append(out, seedPacket{rec.LinkType, bytes.Clone(rec.Data)})
			}
		}
	}
	files, _ := filepath.Glob(filepath.Join(seedDir, "seed-*.pcap*"))
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		add(b, 1<<20)
	}
	for _, p := range sortedKeys(terminalSeeds) {
		evil := terminalSeeds[p]
		text := strconv.Quote(evil)
		add(fixture.Build(`
client 10.0.0.1:40000
server 10.0.0.2:443
+0    C>S S  mss=1460 data=text:`+text+`
+0.01 S>C SA mss=1460 opt=99:`+hex.EncodeToString([]byte(evil[:min(len(evil), 16)]))+`
+0.01 C>S PA data=text:`+text+`
`), 1<<20)
	}
	files, _ = filepath.Glob(filepath.Join(corpusDir, "*.pcap*"))
	if len(files) == 0 {
		if os.Getenv("SYNSCOPE_REQUIRE_CORPUS") == "1" {
			f.Fatalf("no capture corpus at %s", corpusDir)
		}
		f.Logf("no capture corpus at %s: seeding from the fixtures only", corpusDir)
		return out
	}
	// Two packets of every corpus file: the first, and the first TCP one.
	dec := analysis.NewDecoder()
	for _, file := range files {
		r, err := capture.Open(file)
		if err != nil {
			continue
		}
		var p analysis.Packet
		for n, tcp := 0, false; n < 200 && !tcp; n++ {
			rec, err := r.Next()
			if errors.Is(err, io.EOF) || err != nil {
				break
			}
			dec.Decode(rec, &p)
			tcp = p.HasTCP
			if (n == 0 || tcp) && len(rec.Data) <= fuzzFrameMax {
				out = append(out, seedPacket{rec.LinkType, bytes.Clone(rec.Data)})
			}
		}
		r.Close()
	}
	return out
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
