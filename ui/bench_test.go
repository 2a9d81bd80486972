package ui

import (
	"bufio"
	"bytes"
	"fmt"
	"math/bits"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/synscope/synscope/analysis"
	"github.com/synscope/synscope/capture"
	"github.com/synscope/synscope/capture/fixture/synth"
)

// The TUI's goals (issue #6), as benchmarks:
//
//	go test -run '^$' -bench . -benchmem ./ui
//
// BenchmarkList1M: a key press to its frame with 1M flows listed (< 16 ms),
// and sorting and filtering 1M flows (< 300 ms, off the UI goroutine).
// BenchmarkSortCycle1M: every sort in turn after reading, as synbench
// does them, on a SYN flood of 1M flows.
// BenchmarkFile: drill-down into a flow of a 1M-packet capture, its
// packets read back by offset (< 50 ms), and the first rows on screen
// after start (< 200 ms), on a small capture and on the large one.

// benchFlows is the number of flows BenchmarkList1M lists.
const benchFlows = 1_000_000

// rows1M are benchFlows rows, built once per process.
var rows1M = sync.OnceValues(func() ([]Row, [4]int) { return syntheticRows(benchFlows) })

// syntheticRows builds n rows as a large capture gives them: clients
// spread over 10.0.0.0/8 and some IPv6, a few hundred servers on common
// ports, every status, and a finding on one flow in ten.
func syntheticRows(n int) ([]Row, [4]int) {
	rng := rand.New(rand.NewPCG(6, 7))
	ports := []uint16{443, 80, 22, 8443, 53, 25}
	codes := []analysis.Code{analysis.CodeRetransmission, analysis.CodeSynAckPayload, analysis.CodeRefused,
		analysis.CodeZeroWindow, analysis.CodeDupAck, analysis.CodeRST}
	statuses := []analysis.Status{analysis.StatusOK, analysis.StatusOK, analysis.StatusOK, analysis.StatusWarning,
		analysis.StatusPartial, analysis.StatusInvalid}
	rows := make([]Row, n)
	var counts [4]int
	start := testClock.UnixNano()
	for i := range rows {
		var client netip.Addr
		if i%10 == 9 {
			client = netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 14: byte(i >> 8), 15: byte(i)})
		} else {
			client = netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		}
		server := netip.AddrFrom4([4]byte{192, 0, 2, byte(rng.IntN(250) + 1)})
		if client.Is6() {
			server = netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 0, 1, 15: byte(rng.IntN(250) + 1)})
		}
		r := &rows[i]
		r.ID = i + 1
		r.Client = netip.AddrPortFrom(client, uint16(32768+rng.IntN(28000)))
		r.Server = netip.AddrPortFrom(server, ports[rng.IntN(len(ports))])
		r.Status = statuses[rng.IntN(len(statuses))]
		r.Handshake = analysis.HandshakeStatus(rng.IntN(int(analysis.HSIncomplete) + 1))
		r.Packets = 3 + rng.IntN(200)
		r.Bytes = int64(r.Packets) * int64(60+rng.IntN(1400))
		r.Start = start + int64(i)*60_000
		r.End = r.Start + rng.Int64N(int64(30*time.Second))
		if i%10 == 0 {
			c := codes[rng.IntN(len(codes))]
			r.First, r.HasFirst = analysis.Finding{Code: c, Frame: uint64(i * 7)}, true
			r.Codes = 1 << c
		}
		counts[r.Status]++
	}
	return rows, counts
}

// runAll runs a command and the commands of its batches to their end, as
// the program would (no time limit: a view of 1M rows takes a while).
func runAll(cmd tea.Cmd) []tea.Msg {
	if cmd == nil {
		return nil
	}
	switch msg := cmd().(type) {
	case nil:
		return nil
	case tea.BatchMsg:
		var out []tea.Msg
		for _, c := range msg {
			out = append(out, runAll(c)...)
		}
		return out
	default:
		return []tea.Msg{msg}
	}
}

// send updates the model with msg and, unless the commands are to be left,
// the messages of its commands in turn.
func send(m Model, msgs ...tea.Msg) Model {
	for len(msgs) > 0 {
		tm, cmd := m.Update(msgs[0])
		m = tm.(Model)
		msgs = append(msgs[1:], runAll(cmd)...)
	}
	return m
}

// listedModel is the TUI at w×h with rows listed, as when a capture of
// that many flows has been read.
func listedModel(tb testing.TB, rows []Row, counts [4]int, w, h int) Model {
	tb.Helper()
	m := New(testConfig([]Source{{Name: "synth.pcap"}}))
	m.tick = func(int) tea.Cmd { return nil }
	m = send(m, tea.WindowSizeMsg{Width: w, Height: h})
	var frames uint64
	for i := range rows {
		frames += uint64(rows[i].Packets)
	}
	m = send(m, SnapshotMsg{Rows: rows, Counts: counts, Done: true, Taken: testClock,
		Caps: []CapProgress{{Name: "synth.pcap", Size: 1 << 30, Bytes: 1 << 30, Frames: frames, Flows: len(rows), Done: true}}})
	if n, _ := m.list.shown(); n != len(rows) {
		tb.Fatalf("%d rows listed, want %d", n, len(rows))
	}
	return m
}

// BenchmarkList1M measures the list with 1M flows: a key press to its
// frame (Update and View, at 200x50), and sorting and filtering, both the
// whole of it and the part on the UI goroutine.
func BenchmarkList1M(b *testing.B) {
	rows, counts := rows1M()
	m := listedModel(b, rows, counts, 200, 50)

	// Key press to frame: each pair of keys goes there and back, so that
	// every press moves.
	for _, keys := range [][2]string{{"j", "k"}, {"pgdown", "pgup"}, {"G", "g"}, {"ctrl+d", "ctrl+u"}} {
		b.Run("key/"+keys[0], func(b *testing.B) {
			mm := press(b, m, "g")
			if keys[0] == "j" || keys[0] == "pgdown" || keys[0] == "ctrl+d" {
				mm = press(b, mm, "ctrl+d", "ctrl+d") // mid-screen
			}
			k := [2]tea.KeyPressMsg{keyMsg(keys[0]), keyMsg(keys[1])}
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				tm, _ := mm.Update(k[i&1])
				mm = tm.(Model)
				if mm.View().Content == "" {
					b.Fatal("empty frame")
				}
			}
		})
	}

	// Sorting and filtering, computed as the command does it.
	// A sort follows the view shown, of the same rows (its widths are
	// reused).
	shown := computeView(rows, counts, query{}, sortID, false, 1, listView{})
	for _, col := range []sortColumn{sortStatus, sortClient, sortServer, sortFinding, sortBytes} {
		b.Run("sort/"+col.String(), func(b *testing.B) {
			b.ReportAllocs()
			for range b.N {
				v := computeView(rows, counts, query{}, col, false, 1, shown)
				if len(v.idx) != len(rows) {
					b.Fatal(len(v.idx))
				}
			}
		})
	}
	for _, f := range []string{"port:443", "status:invalid", "10.1.", "code:retransmission -hs:complete", "net:10.0.0.0/12 -port:22"} {
		q, err := parseQuery(f, 1)
		if err != nil {
			b.Fatal(err)
		}
		b.Run("filter/"+f, func(b *testing.B) {
			b.ReportAllocs()
			for range b.N {
				v := computeView(rows, counts, q, sortStatus, false, 1, shown)
				if len(v.idx) == 0 {
					b.Fatal("nothing matches")
				}
			}
		})
	}

	// The same through the model: the key (or the filter's enter) on the
	// UI goroutine, the view in its command, its message back on the UI
	// goroutine and the frame. ui-ns/op is the UI goroutine's part.
	roundTrip := func(b *testing.B, before func(Model) Model, keys ...string) {
		b.ReportAllocs()
		var ui time.Duration
		for range b.N {
			b.StopTimer()
			mm := before(m)
			b.StartTimer()
			for _, k := range keys[:len(keys)-1] {
				tm, _ := mm.Update(keyMsg(k))
				mm = tm.(Model)
			}
			t0 := time.Now()
			tm, cmd := mm.Update(keyMsg(keys[len(keys)-1]))
			mm = tm.(Model)
			ui += time.Since(t0)
			if cmd == nil || !mm.list.busy {
				b.Fatal("the view is not computed in a command")
			}
			msgs := runAll(cmd)
			t0 = time.Now()
			for _, msg := range msgs {
				tm, _ = mm.Update(msg)
				mm = tm.(Model)
			}
			_ = mm.View()
			ui += time.Since(t0)
			if mm.list.busy {
				b.Fatal("the view never came")
			}
		}
		b.ReportMetric(float64(ui.Nanoseconds())/float64(b.N), "ui-ns/op")
	}
	b.Run("model/sort", func(b *testing.B) {
		roundTrip(b, func(m Model) Model { return m }, "s")
	})
	b.Run("model/filter", func(b *testing.B) {
		typed := append([]string{"/"}, strings.Split("port:443", "")...)
		roundTrip(b, func(m Model) Model { return press(b, m, typed...) }, "enter")
	})
}

// benchFile is the 1M-packet capture, written once per process by synth's
// defaults (about 650 MB in 40,000 connections), and its directory to
// remove.
var benchFile struct {
	once sync.Once
	dir  string
	path string
	err  error
}

// bigCapture writes the benchmark capture, once.
func bigCapture(b *testing.B) string {
	benchFile.once.Do(func() {
		benchFile.dir, benchFile.err = os.MkdirTemp("", "synscope-bench-")
		if benchFile.err != nil {
			return
		}
		benchFile.path = filepath.Join(benchFile.dir, "synth.pcap")
		f, err := os.Create(benchFile.path)
		if err != nil {
			benchFile.err = err
			return
		}
		w := bufio.NewWriterSize(f, 1<<20)
		_, err = synth.Write(w, synth.Default())
		if err == nil {
			err = w.Flush()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		benchFile.err = err
	})
	if benchFile.err != nil {
		b.Fatal(benchFile.err)
	}
	return benchFile.path
}

// removeBenchFile removes the benchmark capture, if one was written.
func removeBenchFile() {
	if benchFile.dir != "" {
		os.RemoveAll(benchFile.dir)
	}
}

// BenchmarkFile measures, on the 1M-packet capture, the drill-down into a
// flow (its packets read back by offset, decoded and drawn) and the first
// rows on screen after start, against a small capture.
func BenchmarkFile(b *testing.B) {
	path := bigCapture(b)
	if fi, err := os.Stat(path); err == nil {
		b.Logf("%s: %d MB", path, fi.Size()>>20)
	}
	b.Run("first-rows/seed-client.pcap", func(b *testing.B) {
		benchFirstRows(b, filepath.Join(seedDir, "seed-client.pcap"))
	})
	b.Run("first-rows/synth-1M-packets", func(b *testing.B) {
		benchFirstRows(b, path)
	})

	m := newLoaded(b, testConfig([]Source{openFile(b, path)}), 200, 50)
	res := m.caps[0].Result
	if len(res.Flows) < 1000 {
		b.Fatalf("%d flows", len(res.Flows))
	}
	b.Logf("%d frames, %d flows", res.Frames, len(res.Flows))
	largest := slices.MaxFunc(res.Flows, func(x, y *analysis.Flow) int { return x.Packets - y.Packets })
	flows := map[string][]*analysis.Flow{
		// Every 97th flow: spread over the whole file.
		"spread": func() []*analysis.Flow {
			var fs []*analysis.Flow
			for i := 0; i < len(res.Flows); i += 97 {
				fs = append(fs, res.Flows[i])
			}
			return fs
		}(),
		"last":                  {res.Flows[len(res.Flows)-1]},
		"largest":               {largest},
		"largest-at-its-middle": {largest},
	}
	for _, name := range []string{"spread", "last", "largest", "largest-at-its-middle"} {
		fs := flows[name]
		b.Run("drill-down/"+name, func(b *testing.B) {
			b.ReportAllocs()
			for i := range b.N {
				f := fs[i%len(fs)]
				mm, cmd := m.openFlow(flowRef{0, f.ID})
				if name == "largest-at-its-middle" {
					var c2 tea.Cmd
					mm.detail, c2 = mm.detail.at(f.Refs[len(f.Refs)/2].Frame)
					cmd = tea.Batch(cmd, c2)
				}
				mm = send(mm, runAll(cmd)...)
				if _, ok := mm.detail.infos[mm.detail.cursor]; !ok || mm.state != stateDetail {
					b.Fatal("the packet was not read")
				}
				if v := mm.View().Content; !strings.Contains(v, fmt.Sprintf("flow %d", f.ID)) {
					b.Fatalf("flow %d not shown:\n%s", f.ID, v)
				}
			}
			b.ReportMetric(float64(len(fs[0].Refs)), "packets-in-flow")
		})
	}
}

// benchFirstRows measures how long after start the first rows are on
// screen, as the program does it: the reading starts; the first snapshot
// is taken when the snapshot tick fires, or at once when the reading is
// done before it; the list's view is computed (in a command when large)
// and the frame drawn.
func benchFirstRows(b *testing.B, path string) {
	type nextTick struct{ n int }
	var total time.Duration
	for range b.N {
		r, err := capture.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		m := New(testConfig([]Source{{Name: path, Reader: r}}))
		m.tick = func(n int) tea.Cmd { return func() tea.Msg { return nextTick{n} } }
		m = send(m, tea.WindowSizeMsg{Width: 200, Height: 50})
		done := make(chan tea.Msg, 1)
		go func() { done <- m.loader.runCmd()() }()
		read := false
		queue := []tea.Msg{nextTick{0}}
		for len(queue) > 0 {
			msg := queue[0]
			queue = queue[1:]
			if t, ok := msg.(nextTick); ok {
				// Wait for the tick, as tickCmd would, unless the
				// reading ends first.
				d := tickDelay(t.n, 0)
				select {
				case <-time.After(d):
					msg = tickMsg{}
				case msg = <-done:
					read = true
				}
			}
			tm, cmd := m.Update(msg)
			m = tm.(Model)
			if shown, _ := m.list.shown(); shown > 0 && strings.Contains(plain(m), "→") {
				break
			}
			queue = append(queue, runAll(cmd)...)
		}
		total += time.Since(start)
		if shown, _ := m.list.shown(); shown == 0 {
			b.Fatal("no rows")
		}
		m.loader.stop()
		if !read {
			<-done
		}
		r.Close()
	}
	b.ReportMetric(float64(total.Microseconds())/1000/float64(b.N), "ms-to-rows")
}

// BenchmarkRadix1M measures the sort of a million IPv4 clients (address
// and port) and their rows, as a million rows' client column is sorted.
func BenchmarkRadix1M(b *testing.B) {
	const n = 1_000_000
	r := rand.New(rand.NewPCG(1, 2))
	rowBits := uint(bits.Len(n))
	base := make([]uint64, 2*n)
	var portOr, portAnd, addrOr, addrAnd uint64 = 0, ^uint64(0), 0, ^uint64(0)
	for i := range n {
		addr, port := uint64(r.Uint32()), uint64(r.IntN(65536))
		base[i], base[n+i] = port, addr<<rowBits|uint64(i)
		portOr, portAnd, addrOr, addrAnd = portOr|port, portAnd&port, addrOr|addr, addrAnd&addr
	}
	words := make([]uint64, 2*n)
	idx := make([]int32, n)
	for b.Loop() {
		copy(words, base)
		sortAddrs(words[:n], words[n:], idx, portOr^portAnd, addrOr^addrAnd, rowBits)
	}
}

// floodRows are the rows of synbench's view capture, a SYN flood of a
// million flows among 100 connections (synth, seed 1), read once per
// process (a few seconds). Most columns' keys are all alike there: the
// flood's flows differ only by client.
var floodRows = sync.OnceValues(func() ([]Row, [4]int) {
	var pcap bytes.Buffer
	cfg := synth.Config{Seed: 1, Conns: 100, Flood: benchFlows, Start: synth.Default().Start, Duration: time.Second}
	if _, err := synth.Write(&pcap, cfg); err != nil {
		panic(err)
	}
	r, err := capture.NewReader(bytes.NewReader(pcap.Bytes()), "flood.pcap", int64(pcap.Len()))
	if err != nil {
		panic(err)
	}
	m := New(Config{Sources: []Source{{Name: "flood.pcap", Reader: r}}, Theme: "dark", now: func() time.Time { return testClock }})
	m.tick = func(int) tea.Cmd { return nil }
	m = send(m, tea.WindowSizeMsg{Width: 200, Height: 50})
	m = send(m, m.loader.runCmd()())
	return m.list.rows, m.list.counts
})

// BenchmarkSortCycle1M measures `s` pressed through every column and back
// to the first after reading a capture (synbench presses it six times),
// on the rows of a SYN flood of a million flows and on BenchmarkList1M's:
// each sort from
// the view shown before it, in a goroutine of its own as the program's
// commands are. Each cycle starts as after reading: the sort's buffers
// and the memory freed given back, the last view (sorted by status)
// computed. ns/op is the 9 sorts of a cycle; COLUMN-ms each column's sort,
// worst-ms the slowest sort of the run, worst-cpu-ms the most CPU time
// one took, faults/op the page faults of a cycle (memory touched for the
// first time: 2 to 3 ms a megabyte under synbench).
func BenchmarkSortCycle1M(b *testing.B) {
	for _, set := range []struct {
		name string
		rows func() ([]Row, [4]int)
	}{{"flood", floodRows}, {"synthetic", rows1M}} {
		b.Run(set.name, func(b *testing.B) {
			rows, counts := set.rows()
			if len(rows) < benchFlows {
				b.Fatalf("%d rows", len(rows))
			}
			var took [numSortColumns]time.Duration
			var worst, worstCPU time.Duration
			var faults int64
			b.ResetTimer()
			for range b.N {
				b.StopTimer()
				dropSortBuffers()
				debug.FreeOSMemory()
				shown := computeView(rows, counts, query{}, sortStatus, false, 1, listView{})
				f0 := minorFaults(b)
				b.StartTimer()
				for c := range numSortColumns {
					col := (sortStatus + 1 + c) % numSortColumns
					done := make(chan listView)
					var cpu time.Duration
					t0 := time.Now()
					go func() {
						runtime.LockOSThread()
						defer runtime.UnlockOSThread()
						c0 := threadCPU()
						v := computeView(rows, counts, query{}, col, false, 1, shown)
						cpu = threadCPU() - c0
						done <- v
					}()
					shown = <-done
					d := time.Since(t0)
					took[col] += d
					worst, worstCPU = max(worst, d), max(worstCPU, cpu)
					if len(shown.idx) != len(rows) {
						b.Fatal(len(shown.idx))
					}
				}
				b.StopTimer()
				faults += minorFaults(b) - f0
				b.StartTimer()
			}
			for col, d := range took {
				b.ReportMetric(float64(d.Microseconds())/1000/float64(b.N), sortColumn(col).String()+"-ms")
			}
			b.ReportMetric(float64(worst.Microseconds())/1000, "worst-ms")
			if worstCPU > 0 {
				b.ReportMetric(float64(worstCPU.Microseconds())/1000, "worst-cpu-ms")
			}
			b.ReportMetric(float64(faults)/float64(b.N), "faults/op")
		})
	}
}

// dropSortBuffers forgets the buffers sorts keep, as before a list's
// first sort.
func dropSortBuffers() {
	sortWords.mu.Lock()
	sortWords.free = nil
	sortWords.mu.Unlock()
	wideKeys.mu.Lock()
	wideKeys.free = nil
	wideKeys.mu.Unlock()
}

// threadCPU is the CPU time of the calling thread (0 where the system
// does not tell): the sort's own, which other processes on the machine
// do not lengthen as they do its wall time (much, on the shared VM this
// was measured on).
func threadCPU() time.Duration {
	var ru syscall.Rusage
	if runtime.GOOS != "linux" || syscall.Getrusage(1 /* RUSAGE_THREAD */, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// minorFaults is the process's page faults so far that read no file:
// memory touched for the first time.
func minorFaults(b *testing.B) int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return ru.Minflt
}
