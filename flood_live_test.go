//go:build linux

package main

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/synscope/synscope/capture/fixture/synth"
)

// TestLiveFloodBoundedMemory floods a veth pair from inside a network
// namespace of the test's own with SYNs of 500,000 distinct connections,
// as fast as a packet socket sends them, while synscope captures the host
// end with --max-flows 10000. It must keep running (never OOM-killed),
// keep at most that many flows, count the ones it evicted, and stay well
// below what they would cost unbounded. Measured here: 55 MB with
// --max-flows 10000 (the 32 MB kernel ring touched whole); 207 MB when
// the 145,000 flows that got past the queue were all kept.
func TestLiveFloodBoundedMemory(t *testing.T) {
	requireLiveRoot(t)
	if raceEnabled {
		t.Skip("the race detector multiplies memory: the bound is checked without it")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		liveSkipOrFail(t, "the ip command (iproute2) is needed: "+liveRootMsg)
	}
	const (
		floodConns = 500_000
		maxFlows   = 10_000
		rssLimit   = 96 << 20 // 40 MB to start, the 32 MB ring, 2 KB a flow kept
	)
	host, ns, peer := floodVeth(t)
	fd, ifindex := packetSocketIn(t, ns, peer)
	defer unix.Close(fd)
	p := startSynscope(t, "-i", host, "--json", "--max-flows", fmt.Sprint(maxFlows), "-n")
	// The child's own high-water mark, read while it runs: its ru_maxrss
	// would count this process's memory at the time it was started, as
	// the two shared it until exec.
	hwm := make(chan int64, 1)
	go func() {
		var peak int64
		status := fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid)
		for {
			select {
			case <-p.waited:
				hwm <- peak
				return
			case <-time.After(5 * time.Millisecond):
			}
			if kb := vmHWM(status); kb > 0 {
				peak = kb << 10
			}
		}
	}()
	frames := floodFrames(t, floodConns)
	to := &unix.SockaddrLinklayer{Ifindex: ifindex, Halen: 6}
	start := time.Now()
	sent := 0
	for _, fr := range frames {
		if err := unix.Sendto(fd, fr, 0, to); err != nil {
			if err == unix.ENOBUFS {
				time.Sleep(50 * time.Microsecond)
				continue
			}
			t.Fatalf("sendto after %d frames: %v", sent, err)
		}
		sent++
	}
	took := time.Since(start)
	time.Sleep(time.Second)
	p.cmd.Process.Signal(syscall.SIGTERM)
	if code := p.wait(t, 60*time.Second); code != 0 {
		t.Fatalf("synscope exited %d:\n%s", code, p.stderr.String())
	}
	rss := <-hwm
	flows := strings.Count(p.stdout.String(), "\n")
	summary := p.stderr.String()
	t.Logf("sent %d SYNs in %v (%.0f/s); %d flows reported; peak RSS %d MB\n%s",
		sent, took.Round(time.Millisecond), float64(sent)/took.Seconds(), flows, rss>>20, summary)
	if flows == 0 || flows > maxFlows {
		t.Errorf("%d flows reported, want 1 to %d", flows, maxFlows)
	}
	if !strings.Contains(summary, "evicted") {
		t.Errorf("the summary does not say how many flows were evicted:\n%s", summary)
	}
	if rss > rssLimit {
		t.Errorf("peak RSS %d MB, over %d MB", rss>>20, rssLimit>>20)
	}
}

// floodFrames generates a SYN flood of n distinct connections and returns
// its Ethernet frames.
func floodFrames(t *testing.T, n int) [][]byte {
	t.Helper()
	r, _, err := synth.Reader(synth.Config{Seed: 7, Conns: 10, Anomalies: -1, Flood: n, FloodRate: 1e6, Duration: time.Second}, "flood")
	if err != nil {
		t.Fatal(err)
	}
	var frames [][]byte
	for {
		rec, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		frames = append(frames, bytes.Clone(rec.Data))
	}
	if len(frames) < n {
		t.Fatalf("%d frames generated for a flood of %d", len(frames), n)
	}
	return frames
}

// floodVeth makes a namespace with one end of a veth pair in it; the
// other end stays here. Both go with the test.
func floodVeth(t testing.TB) (host, ns, peer string) {
	t.Helper()
	id := fmt.Sprintf("%d", os.Getpid()%100000)
	ns, host, peer = "synscope-flood-"+id, "ssfh"+id, "ssfp"+id
	ip := func(args ...string) {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
		}
	}
	exec.Command("ip", "netns", "del", ns).Run()
	exec.Command("ip", "link", "del", host).Run()
	ip("netns", "add", ns)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
	ip("link", "add", host, "type", "veth", "peer", "name", peer)
	t.Cleanup(func() { exec.Command("ip", "link", "del", host).Run() })
	ip("link", "set", peer, "netns", ns)
	ip("link", "set", host, "up")
	ip("-n", ns, "link", "set", peer, "up")
	deadline := time.Now().Add(5 * time.Second)
	for {
		b, _ := os.ReadFile("/sys/class/net/" + host + "/operstate")
		if strings.TrimSpace(string(b)) == "up" {
			return host, ns, peer
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not up after 5 s", host)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// inNamespace runs fn on a thread moved into the namespace ns. The thread
// is left to die with its goroutine rather than return to the pool in the
// namespace; what fn opens there (a socket) stays there.
func inNamespace(ns string, fn func() error) error {
	ch := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		f, err := os.Open("/var/run/netns/" + ns)
		if err != nil {
			ch <- err
			return
		}
		defer f.Close()
		if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
			ch <- fmt.Errorf("setns %s: %w", ns, err)
			return
		}
		ch <- fn()
	}()
	return <-ch
}

// packetSocketIn opens a sending packet socket on an interface inside a
// namespace.
func packetSocketIn(t testing.TB, ns, ifname string) (fd, ifindex int) {
	t.Helper()
	err := inNamespace(ns, func() error {
		ifc, err := net.InterfaceByName(ifname)
		if err != nil {
			return err
		}
		// Protocol 0: the socket sends and receives nothing.
		ifindex = ifc.Index
		fd, err = unix.Socket(unix.AF_PACKET, unix.SOCK_RAW, 0)
		return err
	})
	if err != nil {
		t.Fatalf("packet socket in %s: %v", ns, err)
	}
	return fd, ifindex
}

// vmHWM returns the VmHWM line of a /proc/PID/status file, in KiB; 0 when
// the process is gone.
func vmHWM(status string) int64 {
	b, err := os.ReadFile(status)
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return n
		}
	}
	return 0
}
