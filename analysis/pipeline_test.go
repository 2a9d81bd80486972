package analysis

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/synscope/synscope/capture"
	"github.com/synscope/synscope/capture/fixture/synth"
)

// TestPipelineMatchesSequential reads every capture of testdata/, the
// corpus and a generated one both ways, on one goroutine through read
// calls and on two through a mapping of the file, with and without a
// filter and a mark: the results must be the same.
func TestPipelineMatchesSequential(t *testing.T) {
	files := captureFiles(1)
	var gen bytes.Buffer
	if _, err := synth.Write(&gen, synth.Config{Seed: 7, Conns: 500, Anomalies: 0.5}); err != nil {
		t.Fatal(err)
	}
	open := func(file string) (*capture.Reader, error) {
		if file == "synth" {
			return capture.NewReader(bytes.NewReader(gen.Bytes()), "synth", int64(gen.Len()))
		}
		return capture.Open(file)
	}
	odd := func(p *Packet) bool { return p.SrcPort%2 == 1 || p.DstPort%3 == 0 }
	compared := 0
	for _, file := range append(files, "synth") {
		if strings.HasSuffix(file, ".md") {
			continue
		}
		for _, cfg := range []Config{{Name: file}, {Name: file, Match: odd}, {Name: file, Mark: odd}} {
			run := func(pipe bool) (*Result, error) {
				r, err := open(file)
				if err != nil {
					return nil, err
				}
				defer r.Close()
				a := NewAnalyzer(cfg)
				if pipe {
					// Through a mapping of the file, as Run
					// reads: the same again.
					r.MapInput()
					err = runPipelined(context.Background(), r, a)
				} else {
					err = runSequential(context.Background(), r, a)
				}
				res := a.Finish()
				if err != nil {
					res.Damage = err.Error()
				}
				return res, err
			}
			seq, err1 := run(false)
			if seq == nil {
				continue
			}
			pipe, err2 := run(true)
			if (err1 == nil) != (err2 == nil) || (err1 != nil && err1.Error() != err2.Error()) {
				t.Fatalf("%s: errors %v and %v", file, err1, err2)
			}
			sameResult(t, file, seq, pipe)
			compared++
		}
	}
	t.Logf("%d runs compared", compared)
}

// sameResult compares two results of the same capture.
func sameResult(t *testing.T, name string, x, y *Result) {
	t.Helper()
	if x.Frames != y.Frames || x.TCPFrames != y.TCPFrames || x.Filtered != y.Filtered ||
		x.MalformedCount != y.MalformedCount || x.Damage != y.Damage || x.Evicted != y.Evicted ||
		!reflect.DeepEqual(x.Malformed, y.Malformed) || len(x.Flows) != len(y.Flows) {
		t.Fatalf("%s: results differ: %d/%d/%d frames %d/%d flows, %q; %d/%d/%d frames %d/%d flows, %q",
			name, x.Frames, x.TCPFrames, x.Filtered, len(x.Flows), x.Evicted, x.Damage,
			y.Frames, y.TCPFrames, y.Filtered, len(y.Flows), y.Evicted, y.Damage)
	}
	var jx, jy bytes.Buffer
	x.WriteJSON(&jx)
	y.WriteJSON(&jy)
	if !bytes.Equal(jx.Bytes(), jy.Bytes()) {
		t.Fatalf("%s: JSON records differ", name)
	}
	for i, f := range x.Flows {
		g := y.Flows[i]
		if !reflect.DeepEqual(f.Refs, g.Refs) || f.Marked != g.Marked || f.PrevID != g.PrevID || f.ID != g.ID {
			t.Fatalf("%s: flow %d differs", name, f.ID)
		}
	}
}

// TestNoPacketIndexSameRecords: leaving the per-packet index out changes
// nothing of the records, only Flow.Refs, for every capture of testdata/,
// the corpus and a generated one, with a filter, and under eviction.
func TestNoPacketIndexSameRecords(t *testing.T) {
	var gen bytes.Buffer
	if _, err := synth.Write(&gen, synth.Config{Seed: 9, Conns: 800, Anomalies: 0.5, Flood: 2000, FloodRate: 1e4}); err != nil {
		t.Fatal(err)
	}
	odd := func(p *Packet) bool { return p.SrcPort%2 == 1 || p.DstPort%3 == 0 }
	compared := 0
	for _, file := range append(captureFiles(1), "synth") {
		if strings.HasSuffix(file, ".md") {
			continue
		}
		for _, cfg := range []Config{{Name: file}, {Name: file, Match: odd}, {Name: file, MaxFlows: 100}} {
			run := func(noIndex bool) *Result {
				var (
					r   *capture.Reader
					err error
				)
				if file == "synth" {
					r, err = capture.NewReader(bytes.NewReader(gen.Bytes()), "synth", int64(gen.Len()))
				} else {
					r, err = capture.Open(file)
				}
				if err != nil {
					return nil
				}
				defer r.Close()
				c := cfg
				c.NoPacketIndex = noIndex
				res, _ := Run(context.Background(), r, c)
				return res
			}
			with, without := run(false), run(true)
			if with == nil {
				continue
			}
			packets := 0
			for _, f := range without.Flows {
				if len(f.Refs) != 0 {
					t.Fatalf("%s: flow %d keeps %d refs without the index", file, f.ID, len(f.Refs))
				}
				packets += f.Packets
			}
			for _, f := range with.Flows {
				f.Refs = nil
			}
			sameResult(t, file, with, without)
			if file == "synth" && (packets == 0 || (cfg.MaxFlows > 0 && without.Evicted == 0)) {
				t.Fatalf("synth: %d packets, %d evicted: the comparison proves little", packets, without.Evicted)
			}
			compared++
		}
	}
	t.Logf("%d runs compared", compared)
}

// TestRunTruncatedWhileRead truncates a capture file under Run, which reads
// it through a mapping, on one goroutine and on two: the pages the file no
// longer has fault when touched, and Run must report the damage at the
// last whole packet, with the flows up to it, instead of crashing.
func TestRunTruncatedWhileRead(t *testing.T) {
	var gen bytes.Buffer
	if _, err := synth.Write(&gen, synth.Config{Seed: 3, Conns: 400, Packets: 20000}); err != nil {
		t.Fatal(err)
	}
	// And with many connections open at the cut, where the flow stages
	// hold packets decoded ahead.
	ahead := aheadCapture(t, 20000)
	for _, c := range [][]byte{gen.Bytes(), ahead} {
		if len(c) < 8<<20 {
			t.Fatalf("the generated capture is %d bytes: too small to cut inside the first mapped window", len(c))
		}
	}
	for i, pipe := range []bool{false, true, false, true} {
		capt := gen.Bytes()
		if i >= 2 {
			capt = ahead
		}
		path := filepath.Join(t.TempDir(), "cut.pcap")
		if err := os.WriteFile(path, capt, 0o600); err != nil {
			t.Fatal(err)
		}
		r, err := capture.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		if !r.MapInput() {
			r.Close()
			t.Skip("no memory mapping on this system")
		}
		// The first window is mapped: cut the file inside it.
		if err := os.Truncate(path, 1<<20); err != nil {
			t.Fatal(err)
		}
		a := NewAnalyzer(Config{Name: path})
		if pipe {
			err = runPipelined(context.Background(), r, a)
		} else {
			err = runSequential(context.Background(), r, a)
		}
		res := a.Finish()
		r.Close()
		var de *capture.DamageError
		if !errors.As(err, &de) || !strings.Contains(err.Error(), "shrank") {
			t.Fatalf("pipelined %v: %v, want the damage of a file that shrank", pipe, err)
		}
		if res.Frames == 0 || res.Frames != de.Frame || de.Offset > 1<<20 {
			t.Errorf("pipelined %v: %d frames analysed, the damage after frame %d at byte %d", pipe, res.Frames, de.Frame, de.Offset)
		}
		if i >= 2 && a.ahead == 0 {
			t.Errorf("pipelined %v: no packet was put in its flow ahead", pipe)
		}
		t.Logf("pipelined %v: %v", pipe, err)
	}
}

// aheadCapture is a capture whose connections are many and open at once,
// so that the flow stages load flows ahead of time (Analyzer.manyOpen): a
// SYN flood leaves more than aheadMinOpen connections open, and the
// connections that follow meet them, half of them with an anomaly.
func aheadCapture(t *testing.T, packets int) []byte {
	t.Helper()
	var gen bytes.Buffer
	cfg := synth.Config{Seed: 11, Conns: 3000, Packets: packets, Anomalies: 0.5, Flood: 2*aheadMinOpen + 500, FloodRate: 1e6}
	if _, err := synth.Write(&gen, cfg); err != nil {
		t.Fatal(err)
	}
	return gen.Bytes()
}

// TestAheadMatchesPlain: putting packets in their flows while loading the
// flows ahead of time, on one goroutine (runAhead) or two (addAhead),
// gives the result Analyzer.Add gives packet by packet, with a filter, a
// mark, and under eviction.
func TestAheadMatchesPlain(t *testing.T) {
	capt := aheadCapture(t, 40000)
	odd := func(p *Packet) bool { return p.SrcPort%2 == 1 || p.DstPort%3 == 0 }
	cfgs := []Config{{Name: "ahead"}, {Name: "ahead", Match: odd}, {Name: "ahead", Mark: odd}, {Name: "ahead", MaxFlows: 2*aheadMinOpen + 2000}}
	for _, cfg := range cfgs {
		run := func(how string) (*Result, uint64) { return runHow(t, capt, cfg, how) }
		want, _ := run("add")
		if want.Frames < 40000 {
			t.Fatalf("%d frames", want.Frames)
		}
		for _, how := range []string{"sequential", "pipelined"} {
			got, ahead := run(how)
			// Most packets come after the flood: most go ahead.
			if ahead < want.Frames/2 {
				t.Fatalf("%s, %+v: %d of %d packets loaded their flows ahead", how, cfg, ahead, want.Frames)
			}
			sameResult(t, how, want, got)
		}
		if cfg.MaxFlows > 0 && want.Evicted == 0 {
			t.Fatalf("MaxFlows %d: nothing evicted", cfg.MaxFlows)
		}
	}
}

// runHow analyses capt with cfg: packet by packet through Analyzer.Add
// ("add"), or as Run does on one goroutine ("sequential") or two
// ("pipelined"). It returns the result and the number of packets whose
// flows were loaded ahead.
func runHow(t *testing.T, capt []byte, cfg Config, how string) (*Result, uint64) {
	t.Helper()
	r, err := capture.NewReader(bytes.NewReader(capt), cfg.Name, int64(len(capt)))
	if err != nil {
		t.Fatal(err)
	}
	a := NewAnalyzer(cfg)
	switch how {
	case "add":
		for {
			rec, err := r.Next()
			if err != nil {
				break
			}
			a.Add(rec)
		}
	case "sequential":
		err = runSequential(context.Background(), r, a)
	case "pipelined":
		err = runPipelined(context.Background(), r, a)
	}
	if err != nil {
		t.Fatalf("%s: %v", how, err)
	}
	return a.Finish(), a.ahead
}

// TestAheadSwitchesBack: the flow stages load flows ahead only while many
// connections are open, and go back to the plain path, with no packet held
// back, once they close. The capture opens 4,600 connections, sends a
// segment on each, and closes them: both paths are taken, and the result
// is what Analyzer.Add gives packet by packet.
func TestAheadSwitchesBack(t *testing.T) {
	const conns = aheadMinOpen + 504
	capt, _ := synthCapture(t, conns, 1)
	run := func(how string) (*Result, uint64) { return runHow(t, capt, Config{Name: "switch"}, how) }
	want, _ := run("add")
	if len(want.Flows) != conns {
		t.Fatalf("%d flows, want %d", len(want.Flows), conns)
	}
	for _, how := range []string{"sequential", "pipelined"} {
		got, ahead := run(how)
		// The segments are looked ahead; most of the closing is not.
		if ahead < 2000 || ahead > want.Frames-2000 {
			t.Fatalf("%s: %d of %d packets loaded their flows ahead", how, ahead, want.Frames)
		}
		t.Logf("%s: %d of %d packets loaded their flows ahead", how, ahead, want.Frames)
		sameResult(t, how, want, got)
	}
}

// TestRunCancelled: Run stops soon after its context is cancelled, with the
// context's error, on one goroutine and two, and while flows are loaded
// ahead: the filter cancels it at the 10,000th packet, and Run must stop
// within a few batches of it.
func TestRunCancelled(t *testing.T) {
	var gen bytes.Buffer
	if _, err := synth.Write(&gen, synth.Config{Seed: 5, Conns: 400, Packets: 40000}); err != nil {
		t.Fatal(err)
	}
	for _, capt := range [][]byte{gen.Bytes(), aheadCapture(t, 40000)} {
		for _, pipe := range []bool{false, true} {
			ctx, cancel := context.WithCancel(context.Background())
			seen := 0
			cfg := Config{Name: "cancel", Match: func(*Packet) bool {
				if seen++; seen == 10000 {
					cancel()
				}
				return true
			}}
			r, err := capture.NewReader(bytes.NewReader(capt), "cancel", int64(len(capt)))
			if err != nil {
				t.Fatal(err)
			}
			a := NewAnalyzer(cfg)
			if pipe {
				err = runPipelined(ctx, r, a)
			} else {
				err = runSequential(ctx, r, a)
			}
			cancel()
			res := a.Finish()
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("pipelined %v: %v, want the context's error", pipe, err)
			}
			if res.Frames < 9000 || res.Frames > 10000+(batches+2)*batchSize {
				t.Fatalf("pipelined %v: %d frames analysed, cancelled at the 10,000th", pipe, res.Frames)
			}
			t.Logf("pipelined %v, %d packets loaded ahead: stopped after %d frames", pipe, a.ahead, res.Frames)
		}
	}
}

// TestRunInterrupted: a run stopped by a signal (its context cancelled
// with the signal as the cause, as main does) is not damage. Run used to
// put "context canceled" in Result.Damage, which the report showed as
// "✗ context canceled". Now Result.Stopped and the error say which signal
// stopped reading and after which frame, and where the next one starts,
// on one goroutine and two.
func TestRunInterrupted(t *testing.T) {
	var gen bytes.Buffer
	if _, err := synth.Write(&gen, synth.Config{Seed: 5, Conns: 400, Packets: 40000}); err != nil {
		t.Fatal(err)
	}
	capt := gen.Bytes()
	sigint := errors.New("SIGINT")
	for _, procs := range []int{1, 2} {
		prev := runtime.GOMAXPROCS(procs)
		ctx, cancel := context.WithCancelCause(context.Background())
		seen := 0
		cfg := Config{Name: "big.pcap", Match: func(*Packet) bool {
			if seen++; seen == 10000 {
				cancel(sigint)
			}
			return true
		}}
		r, err := capture.NewReader(bytes.NewReader(capt), "big.pcap", int64(len(capt)))
		if err != nil {
			t.Fatal(err)
		}
		res, err := Run(ctx, r, cfg)
		runtime.GOMAXPROCS(prev)
		var ie *capture.InterruptedError
		if !errors.As(err, &ie) || !errors.Is(err, sigint) {
			t.Fatalf("GOMAXPROCS %d: %v, want an InterruptedError naming SIGINT", procs, err)
		}
		if res.Damage != "" || res.Stopped != err.Error() || ie.Frame != res.Frames || res.Frames < 10000 || res.Frames > 20000 {
			t.Fatalf("GOMAXPROCS %d: %d frames, damage %q, stopped %q", procs, res.Frames, res.Damage, res.Stopped)
		}
		// Where the next frame starts, as a Reader gives it.
		again, _ := capture.NewReader(bytes.NewReader(capt), "big.pcap", int64(len(capt)))
		var next int64
		for range res.Frames + 1 {
			rec, err := again.Next()
			if err != nil {
				t.Fatal(err)
			}
			next = rec.Offset
		}
		want := fmt.Sprintf("big.pcap: reading stopped by SIGINT after frame %d (at byte %d): the output holds the frames before it", res.Frames, next)
		if err.Error() != want {
			t.Errorf("GOMAXPROCS %d:\n got %s\nwant %s", procs, err, want)
		}
	}
}
