package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/synscope/synscope/capture"
)

// The live-capture tests run the real binary as root on the loopback
// device, with real connections, next to tcpdump. Elsewhere they skip; CI
// runs them as root with SYNSCOPE_REQUIRE_ROOT=1, and then they fail
// instead.

const liveRootMsg = "live capture tests need root on Linux (CAP_NET_RAW); CI runs them as root with SYNSCOPE_REQUIRE_ROOT=1"

func liveSkipOrFail(t *testing.T, msg string) {
	t.Helper()
	if os.Getenv("SYNSCOPE_REQUIRE_ROOT") == "1" {
		t.Fatal(msg + " (SYNSCOPE_REQUIRE_ROOT=1)")
	}
	t.Skip(msg)
}

func requireLiveRoot(t *testing.T) {
	t.Helper()
	if runtime.GOOS != "linux" || os.Geteuid() != 0 {
		liveSkipOrFail(t, liveRootMsg)
	}
}

// needTool returns the path of a program the test cannot do without.
func needTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		liveSkipOrFail(t, name+" is not installed: "+liveRootMsg)
	}
	return p
}

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// synscopeBinary builds the command once per test run, into a directory
// any user may read (the non-root test runs it as nobody).
func synscopeBinary(t testing.TB) string {
	t.Helper()
	binOnce.Do(func() {
		if _, bench := t.(*testing.B); bench && os.Getenv("SYNSCOPE_BENCH_BINARY") != "" {
			// Benchmarks may measure a build given by path (to compare two).
			binPath = os.Getenv("SYNSCOPE_BENCH_BINARY")
			return
		}
		dir, err := os.MkdirTemp("", "synscope-live-test-")
		if err != nil {
			binErr = err
			return
		}
		os.Chmod(dir, 0o755)
		binPath = filepath.Join(dir, "synscope")
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "go", "build", "-o", binPath, ".")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0") // as shipped
		if out, err := cmd.CombinedOutput(); err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" && binPath != os.Getenv("SYNSCOPE_BENCH_BINARY") {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

// lineBuffer collects a process's output and tells when a line containing
// a string has appeared.
type lineBuffer struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	cond *sync.Cond
	done bool
}

func newLineBuffer(r io.Reader) *lineBuffer {
	b := &lineBuffer{}
	b.cond = sync.NewCond(&b.mu)
	go func() {
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 64<<10), 16<<20)
		for sc.Scan() {
			b.mu.Lock()
			b.buf.Write(sc.Bytes())
			b.buf.WriteByte('\n')
			b.cond.Broadcast()
			b.mu.Unlock()
		}
		io.Copy(io.Discard, r)
		b.mu.Lock()
		b.done = true
		b.cond.Broadcast()
		b.mu.Unlock()
	}()
	return b
}

func (b *lineBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// waitFor waits up to d for s to appear; false if it did not.
func (b *lineBuffer) waitFor(s string, d time.Duration) bool {
	timer := time.AfterFunc(d, func() {
		b.mu.Lock()
		b.cond.Broadcast()
		b.mu.Unlock()
	})
	defer timer.Stop()
	end := time.Now().Add(d)
	b.mu.Lock()
	defer b.mu.Unlock()
	for !strings.Contains(b.buf.String(), s) {
		if b.done || !time.Now().Before(end) {
			return false
		}
		b.cond.Wait()
	}
	return true
}

// waitDone waits until the output is closed.
func (b *lineBuffer) waitDone(d time.Duration) {
	end := time.Now().Add(d)
	timer := time.AfterFunc(d, func() {
		b.mu.Lock()
		b.cond.Broadcast()
		b.mu.Unlock()
	})
	defer timer.Stop()
	b.mu.Lock()
	defer b.mu.Unlock()
	for !b.done && time.Now().Before(end) {
		b.cond.Wait()
	}
}

// proc is a program the test started, killed at cleanup if still running.
type proc struct {
	cmd    *exec.Cmd
	stdout *lineBuffer
	stderr *lineBuffer
	waited chan struct{}
	err    error
}

func start(t *testing.T, name string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.WaitDelay = 2 * time.Second
	so, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	se, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	p := &proc{cmd: cmd, stdout: newLineBuffer(so), stderr: newLineBuffer(se), waited: make(chan struct{})}
	go func() {
		// The pipes are read to their end before Wait closes them.
		p.stdout.waitDone(time.Minute)
		p.stderr.waitDone(time.Minute)
		p.err = cmd.Wait()
		close(p.waited)
	}()
	t.Cleanup(func() {
		select {
		case <-p.waited:
		default:
			cmd.Process.Kill()
			<-p.waited
		}
	})
	return p
}

// wait waits up to d for the program to exit and returns its status.
func (p *proc) wait(t *testing.T, d time.Duration) int {
	t.Helper()
	select {
	case <-p.waited:
	case <-time.After(d):
		p.cmd.Process.Kill()
		<-p.waited
		t.Fatalf("%s did not exit within %v\nstderr: %s", p.cmd.Path, d, p.stderr.String())
	}
	var ee *exec.ExitError
	switch {
	case p.err == nil:
		return 0
	case errors.As(p.err, &ee) && ee.Exited():
		return ee.ExitCode()
	default:
		t.Fatalf("%s: %v\nstderr: %s", p.cmd.Path, p.err, p.stderr.String())
		return -1
	}
}

// startSynscope runs synscope and waits until it is listening.
func startSynscope(t *testing.T, args ...string) *proc {
	t.Helper()
	p := start(t, synscopeBinary(t), args...)
	if !p.stderr.waitFor("listening on", 10*time.Second) {
		t.Fatalf("synscope %s did not start listening\nstderr: %s", strings.Join(args, " "), p.stderr.String())
	}
	return p
}

// httpServer serves a page of a few segments on 127.0.0.1 and returns its
// port.
func httpServer(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	page := bytes.Repeat([]byte("synscope live test\n"), 400)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write(page)
	}), ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().(*net.TCPAddr).Port
}

// get makes n HTTP requests, each on its own connection.
func get(t *testing.T, port, n int) {
	t.Helper()
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	for range n {
		resp, err := c.Get(fmt.Sprintf("http://127.0.0.1:%d/", port))
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}

// liveFlow is the part of a JSON record the tests look at.
type liveFlow struct {
	Capture   string `json:"capture"`
	ID        int    `json:"id"`
	Client    string `json:"client"`
	Server    string `json:"server"`
	Status    string `json:"status"`
	Packets   int    `json:"packets"`
	Handshake struct {
		Status string `json:"status"`
	} `json:"handshake"`
	Findings []struct {
		Code     string `json:"code"`
		Severity string `json:"severity"`
	} `json:"findings"`
}

func parseFlows(t *testing.T, out string) []liveFlow {
	t.Helper()
	var flows []liveFlow
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if line == "" {
			continue
		}
		var f liveFlow
		if err := json.Unmarshal([]byte(line), &f); err != nil {
			t.Fatalf("JSON %q: %v", line, err)
		}
		flows = append(flows, f)
	}
	return flows
}

// byClient returns the packets of each flow by client address.
func byClient(flows []liveFlow) map[string]int {
	m := map[string]int{}
	for _, f := range flows {
		m[f.Client] = f.Packets
	}
	return m
}

// checkHealthy checks that a loopback HTTP flow is a complete connection
// with nothing wrong. Loopback packets carry the kernel's partial
// checksums (CHECKSUM_PARTIAL): those the analysis reports as checksum
// findings, in tcpdump's capture of the same traffic as well, and they are
// the only warnings tolerated.
func checkHealthy(t *testing.T, f liveFlow) {
	t.Helper()
	if f.Handshake.Status != "complete" {
		t.Errorf("flow %d (%s): handshake %s, want complete", f.ID, f.Client, f.Handshake.Status)
	}
	// On lo every packet carries the checksum the stack left for the NIC:
	// that is offload (info), so a clean connection is ok.
	if f.Status != "ok" {
		t.Errorf("flow %d (%s): status %s, want ok; findings %+v", f.ID, f.Client, f.Status, f.Findings)
	}
}

// tsharkStreams returns the packets per tcp.stream of a capture, by the
// stream's client address (the sender of its first packet, a SYN here).
func tsharkStreams(t *testing.T, tshark, file string) map[string]int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, tshark, "-n", "-r", file, "-T", "fields", "-E", "separator=,",
		"-e", "tcp.stream", "-e", "ip.src", "-e", "tcp.srcport").Output()
	if err != nil {
		t.Fatalf("tshark -r %s: %v", file, err)
	}
	counts := map[string]int{}
	client := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		parts := strings.Split(line, ",")
		if len(parts) != 3 {
			continue
		}
		if _, ok := client[parts[0]]; !ok {
			client[parts[0]] = parts[1] + ":" + parts[2]
		}
		counts[client[parts[0]]]++
	}
	return counts
}

// countPackets reads a capture with our reader.
func countPackets(t *testing.T, file string) int {
	t.Helper()
	r, err := capture.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	n := 0
	for {
		if _, err := r.Next(); err != nil {
			if !errors.Is(err, io.EOF) {
				t.Fatalf("%s: %v", file, err)
			}
			return n
		}
		n++
	}
}

// packetsSoFar counts the packets of a capture being written, 0 when it
// cannot be read yet.
func packetsSoFar(file string) int {
	r, err := capture.Open(file)
	if err != nil {
		return 0
	}
	defer r.Close()
	n := 0
	for {
		if _, err := r.Next(); err != nil {
			return n
		}
		n++
	}
}

// TestLiveLoopbackHTTP is the test: three HTTP requests to a local
// server during a 6-second capture give three complete connections with the
// same packets per connection as tcpdump captured at the same time (and
// tshark's tcp.stream on tcpdump's file).
func TestLiveLoopbackHTTP(t *testing.T) {
	requireLiveRoot(t)
	td := needTool(t, "tcpdump")
	t.Parallel()
	dir := t.TempDir()
	port := httpServer(t)
	expr := fmt.Sprintf("tcp port %d", port)
	ref := filepath.Join(dir, "ref.pcap")

	// --immediate-mode: else libpcap hands packets over a second late;
	// then its ring is small unless -B says otherwise, and a busy machine
	// (go test ./... runs packages in parallel) makes it drop.
	dump := start(t, td, "-i", "lo", "-n", "--immediate-mode", "-U", "-B", "65536", "-Z", "root", "-w", ref, expr)
	if !dump.stderr.waitFor("listening on", 10*time.Second) {
		t.Fatalf("tcpdump did not start: %s", dump.stderr.String())
	}
	began := time.Now()
	syn := startSynscope(t, "-i", "lo", "--json", "--duration", "6s", expr)
	get(t, port, 3)

	if code := syn.wait(t, 20*time.Second); code != 0 {
		t.Fatalf("exit status %d\nstderr: %s", code, syn.stderr.String())
	}
	if el := time.Since(began); el < 5*time.Second || el > 12*time.Second {
		t.Errorf("--duration 6s took %v", el)
	}
	stderr := syn.stderr.String()
	t.Logf("synscope stderr:\n%s", stderr)
	live := parseFlows(t, syn.stdout.String())
	total := 0
	for _, f := range live {
		total += f.Packets
	}
	// tcpdump writes each packet as it reads it (-U): give it time to
	// catch up before stopping it, as a stop loses what it has not read.
	for end := time.Now().Add(5 * time.Second); packetsSoFar(ref) < total && time.Now().Before(end); {
		time.Sleep(50 * time.Millisecond)
	}
	dump.cmd.Process.Signal(syscall.SIGINT)
	dump.wait(t, 10*time.Second)
	t.Logf("tcpdump stderr:\n%s", dump.stderr.String())

	if !strings.Contains(stderr, "dropped by kernel, 0 dropped by synscope") {
		t.Errorf("no summary line, or synscope dropped packets: %s", stderr)
	}
	if len(live) != 3 {
		t.Fatalf("%d flows, want 3:\n%s", len(live), syn.stdout.String())
	}
	for _, f := range live {
		checkHealthy(t, f)
		if f.Capture != "lo" {
			t.Errorf("capture %q, want lo", f.Capture)
		}
	}

	code, out, errs := runCLI(t, "-r", ref, "--json")
	if code != 0 {
		t.Fatalf("synscope -r %s: exit %d: %s", ref, code, errs)
	}
	theirs := parseFlows(t, out)
	got, want := byClient(live), byClient(theirs)
	t.Logf("packets per connection: synscope -i lo %v, tcpdump %v", got, want)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("packets per connection: synscope -i lo %v, tcpdump %v", got, want)
	}
	for i := range min(len(live), len(theirs)) {
		if live[i].Status != theirs[i].Status || live[i].Handshake.Status != theirs[i].Handshake.Status {
			t.Errorf("flow %d: live %s/%s, tcpdump's file %s/%s", i+1, live[i].Status, live[i].Handshake.Status, theirs[i].Status, theirs[i].Handshake.Status)
		}
	}
	if ts, err := exec.LookPath("tshark"); err == nil {
		streams := tsharkStreams(t, ts, ref)
		t.Logf("tshark tcp.stream packets: %v", streams)
		if fmt.Sprint(streams) != fmt.Sprint(want) {
			t.Errorf("tshark's tcp.stream counts %v, synscope -r %v", streams, want)
		}
	} else {
		t.Log("tshark not installed: tcp.stream counts not compared")
	}
}

// TestLiveCount checks that -c stops after that many packets.
func TestLiveCount(t *testing.T) {
	requireLiveRoot(t)
	t.Parallel()
	port := httpServer(t)
	out := filepath.Join(t.TempDir(), "five.pcap")
	syn := startSynscope(t, "-i", "lo", "--json", "-c", "5", "-w", out, fmt.Sprintf("tcp port %d", port))
	// Each request is about a dozen packets.
	get(t, port, 2)
	if code := syn.wait(t, 10*time.Second); code != 0 {
		t.Fatalf("exit status %d\nstderr: %s", code, syn.stderr.String())
	}
	total := 0
	for _, f := range parseFlows(t, syn.stdout.String()) {
		total += f.Packets
	}
	if total != 5 {
		t.Errorf("%d packets in the flows, want 5", total)
	}
	if !strings.Contains(syn.stderr.String(), "5 packets captured") {
		t.Errorf("stderr %q: want 5 packets captured", syn.stderr.String())
	}
	if n := countPackets(t, out); n != 5 {
		t.Errorf("-w %s holds %d packets, want 5", out, n)
	}
}

// TestLiveWriteDiskFull: a -w file that fills its disk keeps the packets
// that fitted, as a valid capture under its name, and says so: at once
// (the capture goes on) and at the end, with exit status 1. It once kept
// nothing: the file was removed with the error.
func TestLiveWriteDiskFull(t *testing.T) {
	requireLiveRoot(t)
	t.Parallel()
	disk := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=64k,mode=0700", "synscope-test", disk).CombinedOutput(); err != nil {
		t.Fatalf("mount tmpfs: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", disk).Run() })
	port := httpServer(t)
	out := filepath.Join(disk, "out.pcap")
	syn := startSynscope(t, "-i", "lo", "--json", "-w", out, fmt.Sprintf("tcp port %d", port))
	get(t, port, 20) // 20 pages of 7,600 bytes: over 150 KB of packets
	if !syn.stderr.waitFor("no more packets are saved (the capture goes on)", 5*time.Second) {
		t.Fatalf("no word of the full disk during the capture\nstderr: %s", syn.stderr.String())
	}
	syn.cmd.Process.Signal(syscall.SIGTERM)
	if code := syn.wait(t, 10*time.Second); code != 1 {
		t.Fatalf("exit status %d, want 1\nstderr: %s", code, syn.stderr.String())
	}
	total := 0
	for _, f := range parseFlows(t, syn.stdout.String()) {
		total += f.Packets
	}
	m := regexp.MustCompile(`synscope: ` + regexp.QuoteMeta(out) + `: no space left on device: the file holds only the first (\d+) of (\d+) packets\n`).FindStringSubmatch(syn.stderr.String())
	if m == nil {
		t.Fatalf("stderr %q: want the line saying how many packets the file holds", syn.stderr.String())
	}
	kept, all := atoi(t, m[1]), atoi(t, m[2])
	if n := countPackets(t, out); n != kept || kept == 0 || kept >= all || all != total {
		t.Errorf("the file holds %d packets; stderr says %d of %d; the flows have %d", n, kept, all, total)
	}
	if left, _ := filepath.Glob(filepath.Join(disk, ".out.pcap.tmp*")); len(left) != 0 {
		t.Errorf("left behind: %v", left)
	}
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestLiveSignals checks that SIGTERM and SIGHUP (the SSH session dropped)
// stop the capture cleanly: exit status 0, the JSON printed, the -w file
// complete and readable by tshark, the spool removed.
func TestLiveSignals(t *testing.T) {
	requireLiveRoot(t)
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGHUP, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			port := httpServer(t)
			out := filepath.Join(dir, "out.pcapng")
			spool := filepath.Join(dir, "spool")
			if err := os.Mkdir(spool, 0o700); err != nil {
				t.Fatal(err)
			}
			syn := startSynscope(t, "-i", "lo", "--json", "-w", out, "--spool", spool, fmt.Sprintf("tcp port %d", port))
			get(t, port, 3)
			time.Sleep(200 * time.Millisecond)
			syn.cmd.Process.Signal(sig)
			if code := syn.wait(t, 10*time.Second); code != 0 {
				t.Fatalf("exit status %d after %v\nstderr: %s", code, sig, syn.stderr.String())
			}
			flows := parseFlows(t, syn.stdout.String())
			if len(flows) != 3 {
				t.Fatalf("%d flows after %v, want 3", len(flows), sig)
			}
			total := 0
			for _, f := range flows {
				checkHealthy(t, f)
				total += f.Packets
			}
			if n := countPackets(t, out); n != total {
				t.Errorf("-w file: %d packets, the flows %d", n, total)
			}
			if ts, err := exec.LookPath("tshark"); err == nil {
				streams := tsharkStreams(t, ts, out)
				if fmt.Sprint(streams) != fmt.Sprint(byClient(flows)) {
					t.Errorf("tshark on -w file: %v, flows %v", streams, byClient(flows))
				}
			}
			if fi, err := os.Stat(out); err != nil || fi.Mode().Perm() != 0o600 {
				t.Errorf("-w file: %v, %v; want mode 0600", fi.Mode(), err)
			}
			left, _ := os.ReadDir(spool)
			leftOut, _ := filepath.Glob(filepath.Join(dir, ".out.pcapng.tmp*"))
			if len(left) != 0 || len(leftOut) != 0 {
				t.Errorf("left behind: spool %v, temporary %v", left, leftOut)
			}
		})
	}
}

// TestLiveKeepSpool checks --keep-spool: the spool's segments hold the
// packets, readable again at the offsets the flows give.
func TestLiveKeepSpool(t *testing.T) {
	requireLiveRoot(t)
	t.Parallel()
	dir := t.TempDir()
	port := httpServer(t)
	syn := startSynscope(t, "-i", "lo", "--json", "--keep-spool", "--spool", dir, "--duration", "2s", fmt.Sprintf("tcp port %d", port))
	get(t, port, 2)
	if code := syn.wait(t, 10*time.Second); code != 0 {
		t.Fatalf("exit status %d\nstderr: %s", code, syn.stderr.String())
	}
	if !strings.Contains(syn.stderr.String(), "spool kept in "+dir) {
		t.Errorf("stderr does not say where the spool is: %s", syn.stderr.String())
	}
	segs, _ := filepath.Glob(filepath.Join(dir, "synscope-spool-*", "spool-*.pcapng"))
	if len(segs) != 1 {
		t.Fatalf("spool segments %v, want one", segs)
	}
	total := 0
	for _, f := range parseFlows(t, syn.stdout.String()) {
		total += f.Packets
	}
	if n := countPackets(t, segs[0]); n != total || n == 0 {
		t.Errorf("spool: %d packets, the flows %d", n, total)
	}
}

// TestLiveHeadlessNoSpool checks that --json without --spool or
// --keep-spool writes no spool (nothing reads packets back), and that the
// records are whole all the same.
func TestLiveHeadlessNoSpool(t *testing.T) {
	requireLiveRoot(t)
	synscopeBinary(t) // built under the real TMPDIR, before it changes
	dir := t.TempDir()
	t.Setenv("TMPDIR", dir) // where a spool would go
	port := httpServer(t)
	syn := startSynscope(t, "-i", "lo", "--json", "--duration", "2s", fmt.Sprintf("tcp port %d", port))
	get(t, port, 2)
	if segs, _ := filepath.Glob(filepath.Join(dir, "synscope-spool-*")); len(segs) != 0 {
		t.Errorf("a headless capture made a spool: %v", segs)
	}
	if code := syn.wait(t, 10*time.Second); code != 0 {
		t.Fatalf("exit status %d\nstderr: %s", code, syn.stderr.String())
	}
	flows := parseFlows(t, syn.stdout.String())
	if len(flows) != 2 {
		t.Fatalf("%d flows, want 2: %s", len(flows), syn.stdout.String())
	}
	for _, f := range flows {
		checkHealthy(t, f)
	}
}

// TestLiveUserspaceFilter checks that an expression the kernel filter
// cannot take (vlan) says so once and still filters in userspace.
func TestLiveUserspaceFilter(t *testing.T) {
	requireLiveRoot(t)
	t.Parallel()
	port := httpServer(t)
	syn := startSynscope(t, "-i", "lo", "--json", "--duration", "2s", fmt.Sprintf("tcp port %d and not vlan", port))
	get(t, port, 1)
	if code := syn.wait(t, 10*time.Second); code != 0 {
		t.Fatalf("exit status %d\nstderr: %s", code, syn.stderr.String())
	}
	if n := strings.Count(syn.stderr.String(), "filter runs in userspace only"); n != 1 {
		t.Errorf("%d userspace-only notes, want 1: %s", n, syn.stderr.String())
	}
	flows := parseFlows(t, syn.stdout.String())
	if len(flows) != 1 || !strings.HasSuffix(flows[0].Server, fmt.Sprintf(":%d", port)) {
		t.Errorf("flows %+v, want the one to port %d", flows, port)
	}
}

// TestLiveNotRoot checks the one line a user without CAP_NET_RAW gets.
func TestLiveNotRoot(t *testing.T) {
	requireLiveRoot(t)
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		t.Skip("setpriv not installed: cannot run synscope as nobody")
	}
	t.Parallel()
	bin := synscopeBinary(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", bin, "-i", "lo", "--json", "--duration", "1s")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("as nobody: %v, want exit status 1\nstderr: %s", err, stderr.String())
	}
	lines := strings.Split(strings.TrimSuffix(stderr.String(), "\n"), "\n")
	if len(lines) != 1 || !strings.Contains(lines[0], "capturing on lo needs CAP_NET_RAW: run as root, or setcap cap_net_raw,cap_net_admin+eip") {
		t.Errorf("stderr %q: want the one CAP_NET_RAW line", stderr.String())
	}
	if stdout.Len() != 0 {
		t.Errorf("stdout %q", stdout.String())
	}
}

// TestLiveUsage checks the command line of live capture; it needs no
// privilege.
func TestLiveUsage(t *testing.T) {
	cases := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"no such interface", []string{"-i", "nosuchif0", "--json"}, 1, "capturing on nosuchif0: no such interface"},
		{"-r and -i", []string{"-r", "x", "-i", "lo", "--json"}, 1, "-i captures live; it cannot be combined with -r"},
		{"-demo and -i", []string{"--demo", "-i", "lo", "--report"}, 1, "cannot be combined with -r or --demo"},
		{"-c without -i", []string{"-r", "testdata/seed-client.pcap", "--json", "-c", "5"}, 1, "-c is a live-capture flag: add -i IFACE"},
		{"-c 0", []string{"-i", "lo", "--json", "-c", "0"}, 1, `flag -c: "0" is not a number of 1 or more`},
		{"-c missing", []string{"-i", "lo", "--json", "-c"}, 1, "flag -c needs a packet count"},
		{"bad duration", []string{"-i", "lo", "--json", "--duration", "soon"}, 1, `--duration "soon": not a duration`},
		{"bad spool size", []string{"-i", "lo", "--json", "--spool-size", "big"}, 1, `--spool-size "big": not a size`},
		{"--flow with -i", []string{"-i", "lo", "-w", "x.pcap", "--flow", "1"}, 1, "--flow picks flows of a capture file"},
		{"json and report", []string{"-i", "lo", "--json", "--report"}, 1, "--json and --report cannot be used together"},
		{"bad expression", []string{"-i", "lo", "--json", "tcp", "port"}, 1, "synscope: "},
		{"interactive view without a terminal", []string{"-i", "lo", "tcp"}, 1, "the interactive view needs a terminal: add --report or --json"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := runCLI(t, tc.args...)
			if code != tc.code || !strings.Contains(errs, tc.stderr) || out != "" {
				t.Errorf("exit %d (want %d)\nstderr %q (want %q)\nstdout %q", code, tc.code, errs, tc.stderr, out)
			}
			if strings.Count(errs, "\n") != 1 {
				t.Errorf("stderr %q: want one line", errs)
			}
		})
	}
}

func TestParseLiveFlags(t *testing.T) {
	o, err := parseArgs([]string{"-i", "eth0", "--json", "-c", "10", "--duration", "1m", "-s", "128", "-p", "-B", "4096",
		"-Z", "nobody", "--spool", "/var/tmp", "--spool-size", "64M", "--keep-spool", "-nn", "-w", "out.pcapng", "not", "port", "22"})
	if err != nil {
		t.Fatal(err)
	}
	want := liveOptions{iface: "eth0", count: 10, duration: time.Minute, snaplen: 128, noPromisc: true, bufferKiB: 4096,
		user: "nobody", spoolDir: "/var/tmp", spoolSize: 64 << 20, keepSpool: true}
	got := o.live
	got.set = nil
	if fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", want) || o.write != "out.pcapng" || !o.json || strings.Join(o.expr, " ") != "not port 22" {
		t.Errorf("parsed %+v", o)
	}
	// tcpdump's glued forms.
	o, err = parseArgs([]string{"-ilo", "-c5", "-s0", "--duration=6s", "--report", "-pn", "tcp"})
	if err != nil {
		t.Fatal(err)
	}
	if o.live.iface != "lo" || o.live.count != 5 || o.live.duration != 6*time.Second || !o.live.noPromisc || !o.report {
		t.Errorf("parsed %+v", o.live)
	}
	for _, s := range []struct {
		in   string
		want int64
	}{{"1024", 1024}, {"64K", 64 << 10}, {"512M", 512 << 20}, {"2G", 2 << 30}, {"100MiB", 100 << 20}, {"1.5g", 3 << 29}} {
		if got, err := parseSize(s.in); err != nil || got != s.want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", s.in, got, err, s.want)
		}
	}
	if d, err := parseDuration("2.5"); err != nil || d != 2500*time.Millisecond {
		t.Errorf("parseDuration(2.5) = %v, %v", d, err)
	}
	// -n is tcpdump's habit with files too.
	if _, err := parseArgs([]string{"-n", "-r", "x.pcap", "--json"}); err != nil {
		t.Errorf("-n with -r: %v", err)
	}
}

// liveTUI starts the real binary's interactive view of live capture in a
// tmux session at 80x24, in dir, and waits for its first screen. It
// returns the session and the file the shell writes synscope's process id
// to.
func liveTUI(t *testing.T, dir string, args ...string) (*tmuxSession, string) {
	t.Helper()
	needTmux(t)
	bin := synscopeBinary(t)
	pidFile := filepath.Join(dir, "synscope.pid")
	s := newTmux(t, 80, 24, "LANG=C.UTF-8", "TERM=xterm-256color")
	// A script, so that the arguments need one level of quoting; exec
	// keeps the process id it wrote down.
	script := fmt.Sprintf("echo $$ > '%s'\nexec '%s'", pidFile, bin)
	for _, a := range args {
		if strings.Contains(a, "'") {
			t.Fatalf("argument %q: no quotes, please", a)
		}
		script += " '" + a + "'"
	}
	run := filepath.Join(dir, "run.sh")
	if err := os.WriteFile(run, []byte(script+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s.keys(fmt.Sprintf("cd '%s' && clear && sh '%s'", dir, run), "Enter")
	ifname := "lo"
	if i := slices.Index(args, "-i"); i >= 0 && i+1 < len(args) {
		ifname = args[i+1]
	}
	s.waitFor("live "+ifname, "0 pkts")
	return s, pidFile
}

// processGone waits up to d for the process in pidFile to exit.
func processGone(t *testing.T, pidFile string, d time.Duration) bool {
	t.Helper()
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	proc := "/proc/" + strings.TrimSpace(string(b))
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		if _, err := os.Stat(proc); errors.Is(err, os.ErrNotExist) {
			return true
		}
	}
	return false
}

// TestLiveTUI drives the interactive view of live capture as a user over
// SSH would, on lo with real connections: the flows appear as they are
// made, Enter opens one with its packets read back from the spool, w writes
// it to a file, q stops the capture and gives the terminal back with
// tcpdump's summary line, the spool removed.
func TestLiveTUI(t *testing.T) {
	requireLiveRoot(t)
	dir := t.TempDir()
	spool := filepath.Join(dir, "spool")
	if err := os.Mkdir(spool, 0o700); err != nil {
		t.Fatal(err)
	}
	port := httpServer(t)
	// An expression outside the kernel's subset says so once, on the
	// status line.
	s, _ := liveTUI(t, dir, "-i", "lo", "--spool", spool, fmt.Sprintf("tcp port %d and not vlan", port))
	s.waitFor("! filter runs in userspace only")
	get(t, port, 3)
	p := s.waitFor("3 flows", "drops: 0 kernel, 0 queue")
	if n := strings.Count(p, fmt.Sprintf(":%d complete", port)); n != 3 {
		t.Errorf("%d complete flows to port %d on screen, want 3:\n%s", n, port, p)
	}
	// One more connection while the view is open; a key has seen the
	// note.
	s.keys("j")
	get(t, port, 1)
	if p := s.waitFor("4 flows"); strings.Contains(p, "userspace only") {
		t.Errorf("the note stays after a key:\n%s", p)
	}
	s.keys("g")
	s.keys("Enter")
	p = s.waitFor("✓ flow 1", "live: as of packet", "[frame ")
	m := regexp.MustCompile(`· (\d+) packets ·`).FindStringSubmatch(p)
	if m == nil {
		t.Fatalf("no packet count in the drill-down:\n%s", p)
	}
	packets, _ := strconv.Atoi(m[1])
	s.keys("g")
	s.waitFor("frame 1 · ", "IPv4 127.0.0.1 → 127.0.0.1")
	s.keys("w")
	s.waitFor("write flow 1 to lo-flow1.pcapng")
	s.keys("Enter")
	s.waitFor(fmt.Sprintf("wrote %d packets of flow 1 to lo-flow1.pcapng", packets))
	out := filepath.Join(dir, "lo-flow1.pcapng")
	if fi, err := os.Stat(out); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("%s: %v, %v; want mode 0600", out, fi, err)
	}
	code, js, errs := runCLI(t, "-r", out, "--json")
	if code != 0 {
		t.Fatalf("synscope -r %s: exit %d: %s", out, code, errs)
	}
	flows := parseFlows(t, js)
	if len(flows) != 1 || flows[0].Packets != packets {
		t.Fatalf("the written file holds %+v, want one flow of %d packets", flows, packets)
	}
	checkHealthy(t, flows[0])
	s.keys("q")
	p = s.waitFor("READY$", "packets captured")
	if strings.Contains(p, "live lo") {
		t.Errorf("the screen was not restored after q:\n%s", p)
	}
	if left, _ := os.ReadDir(spool); len(left) != 0 {
		t.Errorf("spool left behind: %v", left)
	}
}

// TestLiveTUIRotation: a spool too small for the traffic rotates its
// oldest part out; the status bar says so, and the drill-down of the first
// flow says its packets were rotated out instead of showing others.
func TestLiveTUIRotation(t *testing.T) {
	requireLiveRoot(t)
	dir := t.TempDir()
	port := httpServer(t)
	s, pidFile := liveTUI(t, dir, "-i", "lo", "--spool", dir, "--spool-size", "32K", fmt.Sprintf("tcp port %d", port))
	get(t, port, 8)
	s.waitFor("8 flows", "! spool from frame", "spool full: the oldest packets are being rotated out")
	s.keys("s", "g", "Enter") // sorted by id: flow 1
	s.waitFor("flow 1 ", "rotated out of the spool (it holds frames")
	// SIGTERM stops it as q does.
	b, _ := os.ReadFile(pidFile)
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	syscall.Kill(pid, syscall.SIGTERM)
	p := s.waitFor("READY$", "packets captured")
	if !strings.Contains(p, "spool rotation") {
		t.Errorf("no word of the rotations at the end:\n%s", p)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "synscope-spool-*")); len(left) != 0 {
		t.Errorf("spool left behind: %v", left)
	}
}

// TestLiveTUIHangup: the SSH session drops (the terminal goes away:
// SIGHUP) while the view runs with --keep-spool; synscope exits and the
// spool it keeps is a valid capture of every packet it showed.
func TestLiveTUIHangup(t *testing.T) {
	requireLiveRoot(t)
	dir := t.TempDir()
	port := httpServer(t)
	s, pidFile := liveTUI(t, dir, "-i", "lo", "--spool", dir, "--keep-spool", fmt.Sprintf("tcp port %d", port))
	get(t, port, 3)
	s.waitFor("3 flows")
	// The third flow shows with its first packet: wait for the count to
	// settle (under -race the view showed 30 of the 36 packets).
	pkts := regexp.MustCompile(`(\d+) pkts`)
	shown := -1
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(300 * time.Millisecond) {
		p := s.pane()
		m := pkts.FindStringSubmatch(p)
		if m == nil {
			t.Fatalf("no packet count:\n%s", p)
		}
		n, _ := strconv.Atoi(m[1])
		if n == shown || time.Now().After(deadline) {
			break
		}
		shown = n
	}
	s.tmux("kill-server")
	if !processGone(t, pidFile, 10*time.Second) {
		t.Fatal("synscope still runs 10 s after its terminal went away")
	}
	segs, _ := filepath.Glob(filepath.Join(dir, "synscope-spool-*", "spool-*.pcapng"))
	if len(segs) != 1 {
		t.Fatalf("spool segments %v, want one", segs)
	}
	code, js, errs := runCLI(t, "-r", segs[0], "--json")
	if code != 0 {
		t.Fatalf("the kept spool does not read cleanly: exit %d: %s", code, errs)
	}
	total := 0
	for _, f := range parseFlows(t, js) {
		checkHealthy(t, f)
		total += f.Packets
	}
	if total != shown {
		t.Errorf("the kept spool holds %d packets, the view showed %d", total, shown)
	}
}

// TestLiveSnapCutFilter: a snap length that cuts the TCP header before
// the fields the filter looks at (-s 40 leaves 6 bytes of it on lo) kept
// none of the matching packets ("0 packets captured, 24 received"), where
// tcpdump keeps them all: the kernel's filter saw each packet whole and
// matched it, and the decoder, which could not reach the ports, said no.
func TestLiveSnapCutFilter(t *testing.T) {
	requireLiveRoot(t)
	t.Parallel()
	port := httpServer(t)
	out := filepath.Join(t.TempDir(), "cut.pcap")
	syn := startSynscope(t, "-i", "lo", "--report", "-s", "40", "--duration", "4s", "-w", out, fmt.Sprintf("tcp port %d", port))
	if !syn.stderr.waitFor("listening on", 10*time.Second) {
		t.Fatalf("synscope did not start: %s", syn.stderr.String())
	}
	get(t, port, 2)
	if code := syn.wait(t, 15*time.Second); code != 0 {
		t.Fatalf("exit status %d\nstderr: %s", code, syn.stderr.String())
	}
	// Two requests of a 7,600-byte page: a dozen packets or more each.
	if n := countPackets(t, out); n < 16 {
		t.Errorf("-w %s holds %d packets, want every one of the two connections'; stderr %s", out, n, syn.stderr.String())
	}
	// The live report's heading names the filter, as a file's does.
	if head := fmt.Sprintf("lo: %d frames, 0 TCP flows match the filter tcp port %d", countPackets(t, out), port); !strings.HasPrefix(syn.stdout.String(), head) {
		t.Errorf("the report starts %.80q, want %q", syn.stdout.String(), head)
	}
	if !strings.Contains(syn.stdout.String(), "frames cut short by the snap length") {
		t.Errorf("the report does not say the frames were cut:\n%s", syn.stdout.String())
	}
}
