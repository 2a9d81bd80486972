//go:build linux

package main

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestLiveLinkFlap is the review's case: `synscope -i VETH -w f.pcap
// --report`, three connections, the link taken down at once (ip link set
// down, as an HA failover does), then up again for a fourth. synscope used
// to stop at the down with "packet poll failed" and lose the packets of
// the ring block the kernel had not handed over yet ("28 packets captured,
// 38 received by filter, 0 dropped"). Now it says once that the link went
// down and once that it came back, keeps capturing until SIGTERM, and the
// summary adds up: every packet received by the filter is in the -w file
// (a veth has no loopback copies). With EXPR tcp, whose kernel filter is
// coarser than EXPR: it let a veth's ICMPv6 through, and the summary said
// "48 packets captured, 51 received by filter, 0 dropped". The kernel's
// counters are read when the stop begins and exactly the packets they
// counted are read: read after the drain, they counted the MLD reports
// (IPv6 with a hop-by-hop header, which the filter for tcp lets through)
// both ends send about a second after the link comes up, which nothing
// read ("48 packets captured, 49 received by filter", once in a loaded go
// test ./...; every run with a 1 s sleep before the counters were read).
func TestLiveLinkFlap(t *testing.T) {
	requireLiveRoot(t)
	if _, err := exec.LookPath("ip"); err != nil {
		liveSkipOrFail(t, "the ip command (iproute2) is needed: "+liveRootMsg)
	}
	host, addr := flapVeth(t)
	out := filepath.Join(t.TempDir(), "flap.pcap")
	syn := startSynscope(t, "-i", host, "-w", out, "--report", "tcp")
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	fetch := func() {
		t.Helper()
		resp, err := c.Get("http://" + addr + "/")
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	for range 3 {
		fetch()
	}
	ipRun(t, "link", "set", host, "down")
	if !syn.stderr.waitFor(host+" went down at ", 3*time.Second) {
		t.Fatalf("no word of the link going down within 3 s\nstderr: %s", syn.stderr.String())
	}
	ipRun(t, "link", "set", host, "up")
	waitLinkUp(t, host)
	if !syn.stderr.waitFor(host+" came back up at ", 3*time.Second) {
		t.Fatalf("no word of the link coming back up within 3 s\nstderr: %s", syn.stderr.String())
	}
	fetch()
	time.Sleep(300 * time.Millisecond)
	syn.cmd.Process.Signal(syscall.SIGTERM)
	code := syn.wait(t, 10*time.Second)
	stderr := syn.stderr.String()
	t.Logf("stderr:\n%s", stderr)
	if code != 0 {
		t.Errorf("exit status %d, want 0", code)
	}
	for _, s := range []string{" went down at ", " came back up at "} {
		if n := strings.Count(stderr, s); n != 1 {
			t.Errorf("%q said %d times, want once", s, n)
		}
	}
	m := regexp.MustCompile(`(\d+) packets captured, (\d+) received by filter, (\d+) dropped by kernel, (\d+) dropped by synscope`).FindStringSubmatch(stderr)
	if m == nil {
		t.Fatalf("no summary line")
	}
	captured, received, kernel, queue := atoi(t, m[1]), atoi(t, m[2]), atoi(t, m[3]), atoi(t, m[4])
	if captured+kernel+queue != received || kernel+queue != 0 {
		t.Errorf("summary %q: want every packet received by the filter captured", m[0])
	}
	if n := countPackets(t, out); n != captured {
		t.Errorf("-w file: %d packets, %d captured", n, captured)
	}
	report := syn.stdout.String()
	if !strings.Contains(report, host+": ") || !strings.Contains(report, " 4 TCP flows") {
		t.Errorf("report does not hold the 4 connections:\n%s", report)
	}
}

// flapVeth makes a namespace with one end of a veth pair in it, serving a
// page over HTTP; the other end stays here. It returns the host end's
// name and the server's address. Both go with the test.
func flapVeth(t *testing.T) (host, addr string) {
	t.Helper()
	id := fmt.Sprintf("%d", os.Getpid()%100000)
	ns, host, peer := "synscope-flap-"+id, "sslh"+id, "sslp"+id
	subnet := os.Getpid() % 250
	hostIP, peerIP := fmt.Sprintf("10.98.%d.1", subnet), fmt.Sprintf("10.98.%d.2", subnet)
	exec.Command("ip", "netns", "del", ns).Run()
	exec.Command("ip", "link", "del", host).Run()
	ipRun(t, "netns", "add", ns)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
	ipRun(t, "link", "add", host, "type", "veth", "peer", "name", peer)
	t.Cleanup(func() { exec.Command("ip", "link", "del", host).Run() })
	ipRun(t, "link", "set", peer, "netns", ns)
	ipRun(t, "addr", "add", hostIP+"/24", "dev", host)
	ipRun(t, "link", "set", host, "up")
	ipRun(t, "-n", ns, "addr", "add", peerIP+"/24", "dev", peer)
	ipRun(t, "-n", ns, "link", "set", peer, "up")
	waitLinkUp(t, host)

	// The listening socket is opened in the namespace, and stays there.
	var ln net.Listener
	err := inNamespace(ns, func() (err error) {
		ln, err = net.Listen("tcp4", peerIP+":0")
		return err
	})
	if err != nil {
		t.Fatalf("listening in %s: %v", ns, err)
	}
	page := bytes.Repeat([]byte("synscope link flap test\n"), 200)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write(page) }),
		ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return host, ln.Addr().String()
}

// ipLink runs ip with args.
func ipRun(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

// waitLinkUp waits until a veth is up at both ends.
func waitLinkUp(t *testing.T, name string) {
	t.Helper()
	for end := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		b, _ := os.ReadFile("/sys/class/net/" + name + "/operstate")
		if strings.TrimSpace(string(b)) == "up" {
			return
		}
		if time.Now().After(end) {
			t.Fatalf("%s not up after 5 s: %s", name, b)
		}
	}
}
