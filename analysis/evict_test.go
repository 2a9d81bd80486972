package analysis

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/synscope/synscope/capture"
	"github.com/synscope/synscope/capture/fixture/synth"
)

// evictPkt is a segment of connection i (client 10.9.x.y:40000+i to
// 192.0.2.1:443).
func evictPkt(frame, i int, fromServer bool, flags string, seq, ack uint32, n int) *Packet {
	p := packetOf(frame-1, seg{fromServer: fromServer, flags: flags, seq: seq, ack: ack, len: n, ms: float64(frame)})
	cl := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 9, byte(i >> 8), byte(i)}), uint16(40000+i))
	sv := netip.MustParseAddrPort("192.0.2.1:443")
	if fromServer {
		cl, sv = sv, cl
	}
	p.Src, p.SrcPort, p.Dst, p.DstPort = cl.Addr(), cl.Port(), sv.Addr(), sv.Port()
	if flags == "S" || flags == "SA" {
		p.Opts = Options{MSS: 1460, HasMSS: true}
	}
	return &p
}

func ids(res *Result) []int {
	var out []int
	for _, f := range res.Flows {
		if f != nil {
			out = append(out, f.ID)
		}
	}
	return out
}

// TestEvictionOrder: past MaxFlows, clean closed flows go first, then
// clean open ones idle the longest, and flows with a warning or an error
// only when no clean flow is left.
func TestEvictionOrder(t *testing.T) {
	a := NewAnalyzer(Config{Name: "t", MaxFlows: 4})
	frame := 0
	add := func(i int, fromServer bool, flags string, seq, ack uint32, n int) {
		frame++
		a.addPacket(evictPkt(frame, i, fromServer, flags, seq, ack, n))
	}
	// 1: clean, closed by FINs both ways.
	add(1, false, "S", 100, 0, 0)
	add(1, true, "SA", 500, 101, 0)
	add(1, false, "A", 101, 501, 0)
	add(1, false, "FA", 101, 501, 0)
	add(1, true, "FA", 501, 102, 0)
	add(1, false, "A", 102, 502, 0)
	// 2: clean, open. 3: reset (a warning), closed. 4: a SYN with data
	// (a warning), open.
	add(2, false, "S", 200, 0, 0)
	add(3, false, "S", 300, 0, 0)
	add(3, true, "SA", 700, 301, 0)
	add(3, false, "A", 301, 701, 0)
	add(3, false, "RA", 301, 701, 0)
	add(4, false, "S", 400, 0, 20)
	if got := ids(&a.res); !slices.Equal(got, []int{1, 2, 3, 4}) {
		t.Fatalf("flows %v before any eviction", got)
	}
	add(5, false, "S", 500, 0, 0) // evicts 1, clean and closed
	if got := ids(&a.res); !slices.Equal(got, []int{2, 3, 4, 5}) {
		t.Fatalf("flows %v, want 1 (clean, closed) evicted first", got)
	}
	add(2, true, "SA", 900, 201, 0) // 2 is active again: 5 is idle the longest
	add(6, false, "S", 600, 0, 0)
	if got := ids(&a.res); !slices.Equal(got, []int{2, 3, 4, 6}) {
		t.Fatalf("flows %v, want 5 (clean, idle the longest) evicted", got)
	}
	add(7, false, "S", 700, 0, 0) // evicts 2, the last clean flow but 6
	add(8, false, "S", 800, 0, 0) // evicts 6
	if got := ids(&a.res); !slices.Equal(got, []int{3, 4, 7, 8}) {
		t.Fatalf("flows %v, want the flows with findings kept", got)
	}
	if a.Progress().Evicted != 4 || a.Progress().Flows != 4 {
		t.Errorf("progress %+v, want 4 flows and 4 evicted", a.Progress())
	}
	// Once only flows with findings are left, they go too, closed first.
	b := NewAnalyzer(Config{Name: "t", MaxFlows: 2})
	a = b
	add(3, false, "S", 300, 0, 0)
	add(3, true, "SA", 700, 301, 0)
	add(3, false, "A", 301, 701, 0)
	add(3, false, "RA", 301, 701, 0)
	add(4, false, "S", 400, 0, 20)
	add(9, false, "S", 900, 0, 20)
	if got := ids(&a.res); len(got) != 2 || got[0] != 2 {
		t.Fatalf("flows %v, want flow 2 (open, a warning) kept over flow 1 (closed, a warning)", got)
	}
	res := a.Finish()
	if res.Evicted != 1 || res.MaxFlows != 2 || len(res.Flows) != 2 {
		t.Fatalf("result: %d flows, %d evicted, max %d", len(res.Flows), res.Evicted, res.MaxFlows)
	}
	if f := res.Flow(3); f == nil || f.ID != 3 || res.Flow(1) != nil || res.Flow(2) == nil {
		t.Errorf("Flow(id) lookups wrong after eviction")
	}
}

// TestEvictionKeepsPlantedAnomalies runs a generated capture with a SYN
// flood through an Analyzer with a small MaxFlows: every planted anomaly
// is still found, every flow is either reported or counted as evicted,
// and no more than MaxFlows are kept.
func TestEvictionKeepsPlantedAnomalies(t *testing.T) {
	var buf bytes.Buffer
	sum, err := synth.Write(&buf, synth.Config{Seed: 11, Conns: 300, Anomalies: 1, Kinds: synth.FloodKinds, Flood: 60000, FloodRate: 1e4, Duration: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	r, err := capture.NewReader(bytes.NewReader(buf.Bytes()), "flood", int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	const maxFlows = 5000
	res, err := Run(context.Background(), r, Config{Name: "flood", MaxFlows: maxFlows})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Flows) > maxFlows || res.Evicted == 0 || len(res.Flows)+int(res.Evicted) != sum.Flows {
		t.Fatalf("%d flows kept, %d evicted, of %d", len(res.Flows), res.Evicted, sum.Flows)
	}
	var js bytes.Buffer
	if err := res.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	v, err := synth.Check(sum, &js)
	if err != nil {
		t.Fatal(err)
	}
	if !v.OK() {
		t.Fatalf("%s\n%s", v, v.Details(20))
	}
}

// TestSynthPlantsFound: on a generated capture, the analysis finds every
// planted anomaly of every kind, and no warning or error on the other
// flows; the flows are all there.
func TestSynthPlantsFound(t *testing.T) {
	var buf bytes.Buffer
	sum, err := synth.Write(&buf, synth.Config{Seed: 2, Conns: 2000, Anomalies: 0.3})
	if err != nil {
		t.Fatal(err)
	}
	r, err := capture.NewReader(bytes.NewReader(buf.Bytes()), "synth", int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	res, err := Run(context.Background(), r, Config{Name: "synth"})
	if err != nil {
		t.Fatal(err)
	}
	var js bytes.Buffer
	if err := res.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	v, err := synth.Check(sum, &js)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]bool{}
	for _, p := range sum.Plants {
		kinds[p.Kind] = true
	}
	if !v.OK() || v.Flows != sum.Flows || len(kinds) != len(synth.Kinds()) || res.Frames != uint64(sum.Packets) {
		t.Fatalf("%s; %d kinds of %d planted; %d frames of %d\n%s", v, len(kinds), len(synth.Kinds()), res.Frames, sum.Packets, v.Details(20))
	}
}

// floodResult is what the child of TestFloodBoundedMemory reports.
type floodResult struct {
	Flows   int
	Evicted uint64
	Frames  uint64
	PeakRSS int64 // bytes
}

// floodRun pipes a generated SYN flood of n connections (and 200 with a
// planted anomaly) into a child process that analyses it with maxFlows,
// checks what the child reports, and returns the child's peak RSS in
// bytes.
func floodRun(t *testing.T, n, maxFlows int) int64 {
	t.Helper()
	// 10,000 SYNs a second: 20,000 flows hold the last 2 s, longer than
	// any planted connection stays idle before its anomaly shows.
	cfg := synth.Config{Seed: 12, Conns: 200, Anomalies: 1, Kinds: synth.FloodKinds, Flood: n, FloodRate: 1e4, Duration: 10 * time.Second}
	cmd := exec.Command(os.Args[0], "-test.run=^TestFloodBoundedMemory$")
	cmd.Env = append(os.Environ(), "SYNSCOPE_FLOOD_CHILD=1", "SYNSCOPE_FLOOD_MAX="+strconv.Itoa(maxFlows))
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	bw := bufio.NewWriterSize(in, 1<<20)
	sum, genErr := synth.Write(bw, cfg)
	if genErr == nil {
		genErr = bw.Flush()
	}
	in.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("child: %v\n%s%s", err, out.String(), errOut.String())
	}
	if genErr != nil {
		t.Fatal(genErr)
	}
	recs, line, ok := bytes.Cut(out.Bytes(), []byte("FLOOD:"))
	if !ok {
		t.Fatalf("child said nothing:\n%s%s", out.String(), errOut.String())
	}
	line, _, _ = bytes.Cut(line, []byte("\n"))
	var fr floodResult
	if err := json.Unmarshal(line, &fr); err != nil {
		t.Fatal(err)
	}
	rss := fr.PeakRSS
	t.Logf("%d connections (%d packets, %.0f MB) through MaxFlows %d: %d flows kept, %d evicted; peak RSS %.1f MB",
		sum.Flows, sum.Packets, float64(sum.Bytes)/1e6, maxFlows, fr.Flows, fr.Evicted, float64(rss)/1e6)
	if fr.Frames != uint64(sum.Packets) || fr.Flows > maxFlows || fr.Flows+int(fr.Evicted) != sum.Flows {
		t.Errorf("%d frames of %d; %d flows + %d evicted, want %d, at most %d kept", fr.Frames, sum.Packets, fr.Flows, fr.Evicted, sum.Flows, maxFlows)
	}
	v, err := synth.Check(sum, bytes.NewReader(recs))
	if err != nil {
		t.Fatal(err)
	}
	if !v.OK() {
		t.Errorf("%s\n%s", v, v.Details(20))
	}
	return rss
}

// floodBase is the peak RSS of the flood child with next to no flows:
// the test binary, the reader's buffers, the decode pipeline and the
// output buffer (measured: 10 MB; the rest is headroom for other Go
// versions and platforms).
const floodBase = 24 << 20

// TestFloodBoundedMemory pipes generated SYN floods into a child process
// that analyses them with a MaxFlows, and holds the child's peak RSS to
// what that many flows may cost (bytesPerFlow each, over floodBase), and
// to what a flood a tenth the size through the same MaxFlows cost: memory
// must grow with the flows kept, not with the flood. The larger flood has
// 400,000 connections here; SYNSCOPE_FLOOD=5000000 runs the full-size one
// (ten seconds or so).
//
// The peak RSS is the child's own (VmHWM, see peakRSS), so what the
// package's other tests hold does not count, and the garbage collector
// paces by heap size, not time, so a slow or busy machine does not change
// it either (measured: 39.8 MB for 20,000 flows, whether of 40,000 or
// 5,000,000 connections; 295 MB for 200,000). Under the race detector RSS
// is mostly its shadow memory, three times the heap (122 MB here): the
// bound on what the flows cost is not checked, the growth is.
func TestFloodBoundedMemory(t *testing.T) {
	if os.Getenv("SYNSCOPE_FLOOD_CHILD") == "1" {
		floodChild(t)
		return
	}
	if runtime.GOOS != "linux" {
		t.Skip("peak RSS is read from Linux's /proc/self/status")
	}
	const maxFlows = 20000
	n := 400_000
	if raceEnabled {
		n = 200_000 // the race detector slows the child tenfold
	}
	if s := os.Getenv("SYNSCOPE_FLOOD"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil || n < 20*maxFlows {
			t.Fatalf("SYNSCOPE_FLOOD=%q is not a number of connections of %d or more", s, 20*maxFlows)
		}
	}
	// The smaller flood evicts too (twice MaxFlows at least), so that
	// both runs reach the steady state where each new flow takes an
	// evicted one's place.
	smallN := max(n/10, 2*maxFlows)
	small := floodRun(t, smallN, maxFlows)
	large := floodRun(t, n, maxFlows)
	limit := int64(floodBase + maxFlows*bytesPerFlow)
	if raceEnabled {
		t.Logf("race detector: peak RSS not held to the %.0f MB that %d flows may cost (shadow memory)", float64(limit)/1e6, maxFlows)
	} else if large > limit {
		t.Errorf("peak RSS %.1f MB, over the %.1f MB that %d flows may cost", float64(large)/1e6, float64(limit)/1e6, maxFlows)
	}
	// Many times the connections through the same MaxFlows: the same
	// memory, give or take the garbage collector's timing (measured: 0.5
	// MB apart). 8 MB is 20 bytes kept per evicted connection at 400,000.
	if growth := large - small; growth > 8<<20 {
		t.Errorf("peak RSS %.1f MB with %d connections, %.1f MB with %d: memory grows with the flood",
			float64(large)/1e6, n, float64(small)/1e6, smallN)
	}
}

// floodChild is the child of TestFloodBoundedMemory: it reads a capture
// from standard input, writes the JSON records, and then what it found and
// its peak RSS.
func floodChild(t *testing.T) {
	maxFlows, _ := strconv.Atoi(os.Getenv("SYNSCOPE_FLOOD_MAX"))
	r, err := capture.NewReader(os.Stdin, "flood", -1)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Run(context.Background(), r, Config{Name: "flood", MaxFlows: maxFlows})
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, os.Stdin)
	if err := res.WriteJSON(os.Stdout); err != nil {
		t.Fatal(err)
	}
	peak, err := peakRSS()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(floodResult{Flows: len(res.Flows), Evicted: res.Evicted, Frames: res.Frames, PeakRSS: peak})
	fmt.Printf("FLOOD:%s\n", b)
}

// peakRSS returns this process's peak RSS in bytes, from VmHWM in
// /proc/self/status. Not getrusage's ru_maxrss of the child, which counts
// the parent too: Go starts a child with vfork, sharing the parent's
// memory until exec, and Linux carries the RSS high-water mark of that
// memory over the exec into the child's ru_maxrss. The parent holds the
// records of the earlier run, and in CI whatever the package's other
// tests left.
func peakRSS() (int64, error) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, err
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("VmHWM %q: %v", v, err)
			}
			return kb << 10, nil
		}
	}
	return 0, errors.New("no VmHWM in /proc/self/status")
}

// TestEvictionOnPortReuse: a SYN that takes over a connection's ports when
// MaxFlows is reached may evict that very connection; the new flow still
// names it as the one it took over, and gets no finding meant for it.
func TestEvictionOnPortReuse(t *testing.T) {
	a := NewAnalyzer(Config{Name: "t", MaxFlows: 1})
	frame := 0
	add := func(fromServer bool, flags string, seq, ack uint32, n int) {
		frame++
		a.addPacket(evictPkt(frame, 1, fromServer, flags, seq, ack, n))
	}
	add(false, "S", 100, 0, 0)
	add(true, "SA", 500, 101, 0)
	add(false, "A", 101, 501, 0)
	add(false, "S", 9000, 0, 0) // a new ISN: a new connection
	res := a.Finish()
	if len(res.Flows) != 1 || res.Evicted != 1 {
		t.Fatalf("%d flows, %d evicted; want 1 and 1", len(res.Flows), res.Evicted)
	}
	f := res.Flows[0]
	if f.ID != 2 || f.PrevID != 1 || f.Has(CodeReusedPorts) || f.Packets != 1 {
		t.Errorf("flow %d (prev %d, %d packets) findings %v", f.ID, f.PrevID, f.Packets, codes(f))
	}
}

// TestEvictionOffloadIsClean: a checksum left to the NIC (a partial sum,
// or a packet the capturing host sent) does not make a flow one "with
// findings": a flow with a real warning is kept over it.
func TestEvictionOffloadIsClean(t *testing.T) {
	for _, offload := range []string{"partial", "outbound"} {
		a := NewAnalyzer(Config{Name: "t", MaxFlows: 2})
		frame := 0
		a.addPacket(evictPkt(frame+1, 1, false, "S", 100, 0, 20)) // a SYN with data: a warning
		frame++
		for i := 2; i <= 6; i++ {
			frame++
			a.addPacket(evictPkt(frame, i, false, "S", uint32(100*i), 0, 0))
			frame++
			p := evictPkt(frame, i, true, "SA", 9000, uint32(100*i+1), 0)
			p.TCPChecksum = CheckBad
			if offload == "partial" {
				p.PartialChecksum = true
			} else {
				p.Direction = capture.DirOutbound
			}
			a.addPacket(p)
		}
		if got := ids(&a.res); !slices.Contains(got, 1) {
			t.Errorf("%s checksums: flows %v; the flow with a warning was evicted before offloaded ones", offload, got)
		}
	}
}

// TestEvictedConnectionResumes: a connection whose flow was evicted, and
// whose packets resume after, starts a flow that says its handshake went
// with the evicted flow, where it said "the capture starts mid-connection"
// with the handshake at frames 1 to 3. A connection never evicted that
// starts mid-stream still says that the capture starts mid-connection.
func TestEvictedConnectionResumes(t *testing.T) {
	a := NewAnalyzer(Config{Name: "t", MaxFlows: 100})
	frame := 0
	add := func(i int, fromServer bool, flags string, seq, ack uint32, n int) {
		frame++
		a.addPacket(evictPkt(frame, i, fromServer, flags, seq, ack, n))
	}
	add(0, false, "S", 100, 0, 0)
	add(0, true, "SA", 500, 101, 0)
	add(0, false, "A", 101, 501, 0)
	for i := 1; i <= 1000; i++ { // a flood: connection 0 is evicted
		add(i, false, "S", 7, 0, 0)
	}
	add(0, false, "PA", 101, 501, 10) // connection 0 goes on
	add(0, true, "A", 501, 111, 0)
	add(5000, false, "PA", 3000, 9000, 10) // never seen before
	res := a.Finish()
	var resumed, fresh *Flow
	for _, f := range res.Flows {
		switch f.Client().Port() {
		case 40000:
			resumed = f
		case 40000 + 5000%65536:
			fresh = f
		}
	}
	if resumed == nil || fresh == nil {
		t.Fatalf("flows of the resumed and the new connection: %v, %v", resumed, fresh)
	}
	fi, ok := resumed.First(CodeNotSeen)
	if !ok || fi.A != notSeenAfterEviction || !strings.Contains(resumed.Message(fi), "evicted to stay within --max-flows") {
		t.Errorf("the resumed connection: %v %q", fi, resumed.Message(fi))
	}
	fi, ok = fresh.First(CodeNotSeen)
	if !ok || fi.A != notSeenMidConnection {
		t.Errorf("the connection never evicted: %v %q", fi, fresh.Message(fi))
	}
}

// TestCgroupLimit: the memory limit is the lowest of the process's own
// cgroup and its ancestors', v2 or v1, where only the mount's root was read
// (a service's MemoryMax= under systemd was not seen); "max" and v1's huge
// number are no limit.
func TestCgroupLimit(t *testing.T) {
	files := map[string]string{
		"/sys/fs/cgroup/memory.max":                                   "max\n",
		"/sys/fs/cgroup/system.slice/memory.max":                      "max\n",
		"/sys/fs/cgroup/system.slice/synscope.service/memory.max":     "268435456\n",
		"/sys/fs/cgroup/user.slice/memory.max":                        "1073741824\n",
		"/sys/fs/cgroup/user.slice/user-0.slice/session-1.scope/x":    "",
		"/sys/fs/cgroup/memory/memory.limit_in_bytes":                 "9223372036854771712\n",
		"/sys/fs/cgroup/memory/process_api/abc/memory.limit_in_bytes": "536870912\n",
	}
	read := func(p string) ([]byte, error) {
		if s, ok := files[p]; ok {
			return []byte(s), nil
		}
		return nil, os.ErrNotExist
	}
	for _, c := range []struct {
		self string
		want int64
	}{
		{"0::/system.slice/synscope.service\n", 256 << 20},
		{"0::/user.slice/user-0.slice/session-1.scope\n", 1 << 30}, // an ancestor's
		{"0::/\n", 0},
		{"4:memory:/process_api/abc\n0::/\n", 512 << 20},
		{"4:cpu,memory:/process_api/abc\n", 512 << 20},
		{"4:memory:/\n", 0},
		{"", 0},
	} {
		if got := cgroupLimit(c.self, read); got != c.want {
			t.Errorf("%q: %d, want %d", c.self, got, c.want)
		}
	}
}

// TestNewFlowDirs: newFlow sets only the fields of newDirState that are
// not zero, on a flow allocFlow gave and on one an eviction cleared (the
// spare), whose sides had seen a handshake, data and window scaling.
func TestNewFlowDirs(t *testing.T) {
	want := [2]dirState{newDirState(), newDirState()}
	a := NewAnalyzer(Config{Name: "t", MaxFlows: 1})
	frame := 0
	add := func(p *Packet) {
		frame++
		a.addPacket(p)
	}
	syn, synAck := evictPkt(1, 1, false, "S", 100, 0, 0), evictPkt(2, 1, true, "SA", 500, 101, 0)
	syn.Opts.WScale, syn.Opts.HasWScale = 7, true
	synAck.Opts.WScale, synAck.Opts.HasWScale = 2, true
	add(syn)
	add(synAck)
	add(evictPkt(3, 1, false, "A", 101, 501, 10))
	add(evictPkt(4, 1, true, "A", 501, 111, 20))
	old := a.res.Flows[0]
	if old.dir == want {
		t.Fatal("the first flow's sides kept newDirState: the test shows nothing")
	}
	if !a.makeRoom() || a.spare != old {
		t.Fatal("makeRoom evicted nothing, or its flow is not the spare")
	}
	if f := a.newFlow(evictPkt(5, 2, false, "S", 200, 0, 0)); f != old || f.dir != want {
		t.Errorf("the spare flow's sides %+v, want %+v", f.dir, want)
	}
	b := NewAnalyzer(Config{Name: "t"})
	if f := b.newFlow(evictPkt(1, 3, true, "SA", 300, 1, 0)); f.dir != want {
		t.Errorf("a new flow's sides %+v, want %+v", f.dir, want)
	}
}

// TestSetEndsOf: newFlow's setEndsOf, from the decoder's words, makes the
// ends SetEnds makes from the addresses, either way round, for IPv4, IPv6
// and IPv4 mapped into IPv6, decoded or not.
func TestSetEndsOf(t *testing.T) {
	for _, pair := range [][2]string{{"10.0.0.1", "192.0.2.7"}, {"2001:db8::1", "2001:db8::2"}, {"::ffff:10.0.0.1", "::ffff:10.0.0.2"}} {
		src, dst := netip.MustParseAddr(pair[0]), netip.MustParseAddr(pair[1])
		for _, decoded := range []bool{false, true} {
			p := &Packet{Src: src, Dst: dst, SrcPort: 40000, DstPort: 443}
			if decoded {
				p.srcW, p.dstW, p.keysSet = addrWords(src), addrWords(dst), true
			}
			for _, srcIsClient := range []bool{true, false} {
				got, want := &Flow{}, &Flow{}
				got.setEndsOf(p, srcIsClient)
				if srcIsClient {
					want.SetEnds(p.SrcAddrPort(), p.DstAddrPort())
				} else {
					want.SetEnds(p.DstAddrPort(), p.SrcAddrPort())
				}
				if got.clientW != want.clientW || got.serverW != want.serverW || got.clientKind != want.clientKind || got.serverKind != want.serverKind ||
					got.clientPort != want.clientPort || got.serverPort != want.serverPort || got.Client() != want.Client() || got.Server() != want.Server() {
					t.Errorf("%s -> %s, decoded %v, client the sender %v: ends %s-%s, want %s-%s",
						src, dst, decoded, srcIsClient, got.Client(), got.Server(), want.Client(), want.Server())
				}
			}
		}
	}
}
