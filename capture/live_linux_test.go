//go:build linux

package capture_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"

	"github.com/synscope/synscope/analysis/filter"
	"github.com/synscope/synscope/capture"
)

// The live capture tests need root (CAP_NET_RAW for the packet sockets,
// CAP_NET_ADMIN and CAP_SYS_ADMIN for the namespaces and veth pairs).
// Elsewhere they skip; CI runs them as root with SYNSCOPE_REQUIRE_ROOT=1,
// which turns every skip into a failure.

const rootMsg = "live capture tests need root (CAP_NET_RAW, CAP_NET_ADMIN); CI runs them as root with SYNSCOPE_REQUIRE_ROOT=1"

func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() == 0 {
		return
	}
	skipOrFail(t, rootMsg)
}

func skipOrFail(t *testing.T, msg string) {
	t.Helper()
	if os.Getenv("SYNSCOPE_REQUIRE_ROOT") == "1" {
		t.Fatal(msg + " (SYNSCOPE_REQUIRE_ROOT=1)")
	}
	t.Skip(msg)
}

// openLive opens a live source, closed at the end of the test.
func openLive(t *testing.T, opts capture.LiveOptions) *capture.LiveSource {
	t.Helper()
	requireRoot(t)
	src, err := capture.OpenLive(opts)
	if errors.Is(err, capture.ErrPermission) {
		skipOrFail(t, rootMsg+": "+err.Error())
	}
	if err != nil {
		t.Fatalf("OpenLive(%+v): %v", opts, err)
	}
	t.Cleanup(func() { src.Close() })
	return src
}

// compile compiles a tcpdump expression for a live interface.
func compile(t *testing.T, iface, expr string, snaplen int) []bpf.Instruction {
	t.Helper()
	e, err := filter.Parse(expr)
	if err != nil {
		t.Fatalf("filter.Parse(%q): %v", expr, err)
	}
	lt, err := capture.FilterLinkType(iface)
	if err != nil {
		t.Fatalf("FilterLinkType(%s): %v", iface, err)
	}
	prog, err := e.CompileBPF(int(lt), snaplen)
	if err != nil {
		t.Fatalf("CompileBPF(%q, %v): %v", expr, lt, err)
	}
	return prog
}

// pkt is a copy of a captured record.
type pkt struct {
	frame uint64
	ts    int64
	orig  uint32
	dir   capture.Direction
	lt    layers.LinkType
	data  []byte
}

func copyRec(r *capture.Record) pkt {
	return pkt{frame: r.Frame, ts: r.Timestamp, orig: r.OrigLen, dir: r.Direction, lt: r.LinkType, data: bytes.Clone(r.Data)}
}

// collector reads a source in a goroutine until Close.
type collector struct {
	src  *capture.LiveSource
	mu   sync.Mutex
	pkts []pkt
	err  error
	done chan struct{}
	n    atomic.Int64
}

func collect(src *capture.LiveSource) *collector {
	c := &collector{src: src, done: make(chan struct{})}
	go func() {
		defer close(c.done)
		for i := 0; ; i++ {
			// Every other packet through NextFunc, whose Data is
			// the ring's own bytes on Ethernet: the same packets.
			var p pkt
			var err error
			if i%2 == 0 {
				var r *capture.Record
				if r, err = src.Next(); err == nil {
					p = copyRec(r)
				}
			} else {
				err = src.NextFunc(func(r *capture.Record) { p = copyRec(r) })
			}
			if err != nil {
				if err != io.EOF {
					c.mu.Lock()
					c.err = err
					c.mu.Unlock()
				}
				return
			}
			c.mu.Lock()
			c.pkts = append(c.pkts, p)
			c.mu.Unlock()
			c.n.Add(1)
		}
	}()
	return c
}

// stop closes the source and returns what was read.
func (c *collector) stop(t *testing.T) []pkt {
	t.Helper()
	if err := c.src.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	select {
	case <-c.done:
	case <-time.After(5 * time.Second):
		t.Fatal("Next did not return within 5 s of Close")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		t.Fatalf("Next: %v", c.err)
	}
	return c.pkts
}

// tcpdump runs /usr/bin/tcpdump on iface, writing a file, until stop.
type tcpdump struct {
	cmd    *exec.Cmd
	path   string
	stderr *bytes.Buffer
	mu     *sync.Mutex
}

func startTcpdump(t *testing.T, iface, expr string) *tcpdump {
	t.Helper()
	bin, err := exec.LookPath("tcpdump")
	if err != nil {
		bin = "/usr/bin/tcpdump"
		if _, err := os.Stat(bin); err != nil {
			skipOrFail(t, "tcpdump is not installed: the comparison needs it")
		}
	}
	path := filepath.Join(t.TempDir(), "tcpdump.pcap")
	// A large buffer: in immediate mode libpcap's ring holds few
	// packets, and tcpdump -i any drops some of a burst on lo.
	cmd := exec.Command(bin, "-i", iface, "-n", "-U", "--immediate-mode", "-B", "65536",
		"--time-stamp-precision=nano", "-Z", "root", "-w", path, expr)
	pr, pw := io.Pipe()
	cmd.Stderr = pw
	if err := cmd.Start(); err != nil {
		t.Fatalf("tcpdump: %v", err)
	}
	td := &tcpdump{cmd: cmd, path: path, stderr: &bytes.Buffer{}, mu: &sync.Mutex{}}
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(pr)
		once := false
		for sc.Scan() {
			td.mu.Lock()
			td.stderr.WriteString(sc.Text() + "\n")
			td.mu.Unlock()
			if !once && strings.Contains(sc.Text(), "listening on") {
				once = true
				close(ready)
			}
		}
	}()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
		pw.Close()
	})
	select {
	case <-ready:
	case <-time.After(10 * time.Second):
		td.mu.Lock()
		defer td.mu.Unlock()
		t.Fatalf("tcpdump did not start listening within 10 s: %s", td.stderr)
	}
	return td
}

// stop interrupts tcpdump and returns the packets it wrote.
func (td *tcpdump) stop(t *testing.T) []pkt {
	t.Helper()
	td.cmd.Process.Signal(os.Interrupt)
	done := make(chan error, 1)
	go func() { done <- td.cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		td.cmd.Process.Kill()
		<-done
		t.Fatal("tcpdump did not stop within 10 s of SIGINT")
	}
	td.mu.Lock()
	msg := strings.ReplaceAll(strings.TrimSpace(td.stderr.String()), "\n", "; ")
	td.mu.Unlock()
	t.Logf("tcpdump: %s", msg)
	if strings.Contains(msg, "dropped by kernel") && !strings.Contains(msg, " 0 packets dropped by kernel") {
		t.Fatalf("tcpdump itself dropped packets, no comparison possible: %s", msg)
	}
	r, err := capture.Open(td.path)
	if err != nil {
		td.mu.Lock()
		defer td.mu.Unlock()
		t.Fatalf("reading tcpdump's capture: %v (%s)", err, td.stderr)
	}
	defer r.Close()
	var out []pkt
	for {
		rec, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("reading tcpdump's capture: %v", err)
		}
		out = append(out, copyRec(rec))
	}
	return out
}

// server answers "N\n" with N bytes, then closes.
func serve(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			c.SetDeadline(time.Now().Add(10 * time.Second))
			line, err := bufio.NewReader(c).ReadString('\n')
			if err != nil {
				return
			}
			n, _ := strconv.Atoi(strings.TrimSpace(line))
			c.Write(bytes.Repeat([]byte{'x'}, n))
		}()
	}
}

// listen starts a server on addr, in the current network namespace.
func listen(t *testing.T, addr string) (net.Listener, int) {
	t.Helper()
	ln, err := net.Listen("tcp4", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go serve(ln)
	return ln, ln.Addr().(*net.TCPAddr).Port
}

// exchange makes one connection to addr: asks for size bytes, reads them
// all and closes. It returns the client's port.
func exchange(t *testing.T, addr string, size int) int {
	t.Helper()
	c, err := net.DialTimeout("tcp4", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := fmt.Fprintf(c, "%d\n", size); err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(io.Discard, c)
	if err != nil || n != int64(size) {
		t.Fatalf("read %d of %d bytes: %v", n, size, err)
	}
	return c.LocalAddr().(*net.TCPAddr).Port
}

// tcpOf decodes a packet's TCP layer and the network layer's addresses.
func tcpOf(p pkt) (src, dst string, tcp *layers.TCP) {
	pk := gopacket.NewPacket(p.data, p.lt, gopacket.NoCopy)
	if l, ok := pk.Layer(layers.LayerTypeTCP).(*layers.TCP); ok {
		tcp = l
	}
	if n := pk.NetworkLayer(); n != nil {
		src, dst = n.NetworkFlow().Src().String(), n.NetworkFlow().Dst().String()
	}
	return src, dst, tcp
}

// byConn groups packets by the client port of the connection to server
// port sport.
func byConn(t *testing.T, pkts []pkt, sport int) map[int][]pkt {
	t.Helper()
	m := map[int][]pkt{}
	for _, p := range pkts {
		_, _, tcp := tcpOf(p)
		if tcp == nil {
			continue
		}
		switch {
		case int(tcp.DstPort) == sport:
			m[int(tcp.SrcPort)] = append(m[int(tcp.SrcPort)], p)
		case int(tcp.SrcPort) == sport:
			m[int(tcp.DstPort)] = append(m[int(tcp.DstPort)], p)
		}
	}
	return m
}

// compareConns checks that ours has every connection of want's with the
// same packets, byte for byte, each once, in the same order in each
// direction, and reports how their time stamps compare. The order of the
// two directions' packets between each other may differ: each capturing
// socket takes them from whichever CPU processes them, so two sockets may
// interleave packets sent at the same time differently.
// sameButOrder reports whether a and b hold the same packets, and how
// many stand at another place.
func sameButOrder(a, b []pkt) (moved int, same bool) {
	if len(a) != len(b) {
		return 0, false
	}
	count := map[string]int{}
	for i := range a {
		if !bytes.Equal(a[i].data, b[i].data) {
			moved++
		}
		count[string(a[i].data)]++
		count[string(b[i].data)]--
	}
	for _, n := range count {
		if n != 0 {
			return moved, false
		}
	}
	return moved, true
}

func compareConns(t *testing.T, ours, want []pkt, sport int, clients []int) {
	t.Helper()
	o, w := byConn(t, ours, sport), byConn(t, want, sport)
	if len(o) != len(w) {
		t.Errorf("connections: ours %d, tcpdump %d", len(o), len(w))
	}
	var maxSkew int64
	interleaved := 0
	for _, c := range clients {
		op, wp := o[c], w[c]
		t.Logf("connection from port %d: %d packets, tcpdump %d", c, len(op), len(wp))
		if len(op) != len(wp) || len(op) == 0 {
			t.Errorf("connection from port %d: %d packets, tcpdump has %d", c, len(op), len(wp))
			continue
		}
		if _, _, tcp := tcpOf(op[0]); tcp == nil || !tcp.SYN || tcp.ACK {
			t.Errorf("connection from port %d: the first packet is not the SYN", c)
		}
		for i := range op {
			if !bytes.Equal(op[i].data, wp[i].data) {
				interleaved++
				break
			}
		}
		for _, toServer := range []bool{true, false} {
			od, wd := direction(op, sport, toServer), direction(wp, sport, toServer)
			if len(od) != len(wd) {
				t.Errorf("connection from port %d, to server %v: %d packets, tcpdump %d", c, toServer, len(od), len(wd))
				continue
			}
			if moved, ok := sameButOrder(od, wd); !ok {
				t.Errorf("connection from port %d, to server %v: packets differ from tcpdump's", c, toServer)
			} else if moved > 0 {
				// A sender's segments sent from two CPUs reach two
				// sockets of one interface in either order; the
				// kernel and tcpdump disagree on them as well. The
				// same packets, a few places apart, once in CI.
				t.Logf("connection from port %d, to server %v: %d packets in another order than tcpdump's", c, toServer, moved)
				if moved > max(2, len(od)/10) {
					t.Errorf("connection from port %d, to server %v: %d of %d packets in another order than tcpdump's", c, toServer, moved, len(od))
				}
			}
			for i := range od {
				if !bytes.Equal(od[i].data, wd[i].data) {
					continue
				}
				if od[i].orig != wd[i].orig {
					t.Errorf("connection from port %d, packet %d: original length %d, tcpdump %d", c, i, od[i].orig, wd[i].orig)
				}
				maxSkew = max(maxSkew, abs(od[i].ts-wd[i].ts))
				if i > 0 && od[i].ts < od[i-1].ts {
					t.Errorf("connection from port %d, to server %v, packet %d: time stamp goes back %d ns", c, toServer, i, od[i-1].ts-od[i].ts)
				}
			}
		}
	}
	t.Logf("largest time stamp difference with tcpdump: %d ns; connections whose two directions interleave differently: %d", maxSkew, interleaved)
	if maxSkew > int64(time.Millisecond) {
		t.Errorf("time stamps differ from tcpdump's by up to %v", time.Duration(maxSkew))
	}
}

// direction returns the packets going to the server, or from it.
func direction(pkts []pkt, sport int, toServer bool) []pkt {
	var out []pkt
	for _, p := range pkts {
		if _, _, tcp := tcpOf(p); tcp != nil && (int(tcp.DstPort) == sport) == toServer {
			out = append(out, p)
		}
	}
	return out
}

// onPorts counts the TCP packets to or from any of ports: the kernel
// filter is a pre-filter and may let other packets through (ARP, for one),
// which the expression, applied to the decoded packets, leaves out.
func onPorts(pkts []pkt, ports ...int) int { return len(portsOnly(pkts, ports...)) }

// portsOnly keeps the TCP packets to or from one of the ports: the test's
// own, without what a pre-filter lets through (IPv6 neighbour discovery
// on a fresh veth, say).
func portsOnly(pkts []pkt, ports ...int) []pkt {
	var out []pkt
	for _, p := range pkts {
		if _, _, tcp := tcpOf(p); tcp != nil && (slices.Contains(ports, int(tcp.SrcPort)) || slices.Contains(ports, int(tcp.DstPort))) {
			out = append(out, p)
		}
	}
	return out
}

func abs(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}

// checkTimes checks that every time stamp lies in [from, to].
func checkTimes(t *testing.T, pkts []pkt, from, to time.Time) {
	t.Helper()
	for _, p := range pkts {
		if p.ts < from.UnixNano() || p.ts > to.UnixNano() {
			t.Errorf("frame %d: time stamp %v outside the test's %v..%v", p.frame, time.Unix(0, p.ts), from, to)
			return
		}
	}
}

// settle gives the kernel and both capturers time to hand over the last
// packets (block retire timeouts).
func settle() { time.Sleep(300 * time.Millisecond) }

func TestLiveLoopbackMatchesTcpdump(t *testing.T) {
	requireRoot(t)
	_, port := listen(t, "127.0.0.1:0")
	expr := fmt.Sprintf("tcp port %d", port)
	td := startTcpdump(t, "lo", expr)
	src := openLive(t, capture.LiveOptions{Interface: "lo", Promisc: true, Filter: compile(t, "lo", expr, 0)})
	if src.LinkType() != layers.LinkTypeEthernet || !src.KernelFilter() {
		t.Errorf("lo: link type %v, kernel filter %v; want Ethernet, true", src.LinkType(), src.KernelFilter())
	}
	c := collect(src)
	// The status bar reads the counters while the capture goes on.
	polling := make(chan struct{})
	pollDone := make(chan struct{})
	go func() {
		defer close(pollDone)
		for {
			select {
			case <-polling:
				return
			case <-time.After(5 * time.Millisecond):
				if _, err := src.Stats(); err != nil {
					t.Errorf("Stats during the capture: %v", err)
					return
				}
			}
		}
	}()
	start := time.Now()
	var clients []int
	for _, size := range []int{10, 5000, 300000, 2 << 20, 100, 100, 100, 100} {
		clients = append(clients, exchange(t, fmt.Sprintf("127.0.0.1:%d", port), size))
	}
	settle()
	end := time.Now()
	want := td.stop(t)
	ours := c.stop(t)
	close(polling)
	<-pollDone
	st, err := src.Stats()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("ours %d packets, tcpdump %d; stats %+v", len(ours), len(want), st)
	if len(ours) != len(want) || onPorts(ours, port) != len(ours) {
		t.Errorf("ours %d packets (%d on port %d), tcpdump %d", len(ours), onPorts(ours, port), port, len(want))
	}
	compareConns(t, ours, want, port, clients)
	checkTimes(t, ours, start, end)
	for i, p := range ours {
		if p.frame != uint64(i+1) {
			t.Fatalf("packet %d has frame %d", i, p.frame)
		}
		if p.dir != capture.DirInbound {
			t.Errorf("frame %d: direction %v; on lo only the incoming copy is kept", p.frame, p.dir)
			break
		}
	}
	// The kernel counted both copies of each packet, and we skipped
	// the outgoing ones.
	if st.Captured != uint64(len(ours)) || st.Duplicates < uint64(len(ours)) || st.Received < 2*uint64(len(ours)) {
		t.Errorf("stats %+v for %d packets: want Captured = n, Duplicates >= n, Received >= 2n", st, len(ours))
	}
}

// veth is a veth pair with one end in the root namespace and the other in
// a namespace of the test's own, cleaned up with the test.
type veth struct {
	ns               string
	host, peer       string
	hostIP, peerIP   string
	hostIndex        int
	subnet           int
	hostMAC, peerMAC net.HardwareAddr
}

var vethCount atomic.Int32

func ipCmd(t *testing.T, args ...string) {
	t.Helper()
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

func newVeth(t *testing.T) *veth {
	t.Helper()
	requireRoot(t)
	if _, err := exec.LookPath("ip"); err != nil {
		skipOrFail(t, "the ip command (iproute2) is needed for the namespace tests")
	}
	sweepNamespaces()
	n := int(vethCount.Add(1))
	id := fmt.Sprintf("%d%c", os.Getpid()%100000, 'a'+n%26)
	v := &veth{
		ns:     "synscope-test-" + id,
		host:   "ssh" + id,
		peer:   "ssp" + id,
		subnet: 100 + (os.Getpid()+n)%150,
	}
	v.hostIP = fmt.Sprintf("10.99.%d.1", v.subnet)
	v.peerIP = fmt.Sprintf("10.99.%d.2", v.subnet)
	ipCmd(t, "netns", "add", v.ns)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", v.ns).Run() })
	ipCmd(t, "link", "add", v.host, "type", "veth", "peer", "name", v.peer)
	t.Cleanup(func() { exec.Command("ip", "link", "del", v.host).Run() })
	ipCmd(t, "link", "set", v.peer, "netns", v.ns)
	ipCmd(t, "addr", "add", v.hostIP+"/24", "dev", v.host)
	ipCmd(t, "link", "set", v.host, "up")
	ipCmd(t, "-n", v.ns, "addr", "add", v.peerIP+"/24", "dev", v.peer)
	ipCmd(t, "-n", v.ns, "link", "set", v.peer, "up")
	ipCmd(t, "-n", v.ns, "link", "set", "lo", "up")
	ifc, err := net.InterfaceByName(v.host)
	if err != nil {
		t.Fatal(err)
	}
	v.hostIndex, v.hostMAC = ifc.Index, ifc.HardwareAddr
	waitOperUp(t, v.host)
	return v
}

// waitOperUp waits until a veth's link is up at both ends (a veth is up
// when its peer is).
func waitOperUp(t *testing.T, name string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		out, _ := os.ReadFile("/sys/class/net/" + name + "/operstate")
		if strings.TrimSpace(string(out)) == "up" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not up after 5 s: %s", name, out)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// sweepNamespaces deletes the namespaces of test processes that died
// without cleaning up (killed at a timeout, say); deleting a namespace
// deletes the veth pair with its end in it.
func sweepNamespaces() {
	names, _ := filepath.Glob("/var/run/netns/synscope-test-*")
	for _, p := range names {
		id := strings.TrimPrefix(filepath.Base(p), "synscope-test-")
		pid, err := strconv.Atoi(strings.TrimRight(id, "abcdefghijklmnopqrstuvwxyz"))
		if err != nil || pid == os.Getpid()%100000 {
			continue
		}
		if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); err == nil {
			continue // perhaps alive (pids are cut to 5 digits): leave it
		}
		exec.Command("ip", "netns", "del", filepath.Base(p)).Run()
	}
}

// listenIn starts a server inside the namespace: a goroutine locked to a
// thread moves that thread into it and opens the socket, which stays in
// the namespace. The thread is never unlocked, so it dies with its
// goroutine rather than go back to the pool in the wrong namespace.
func (v *veth) listenIn(t *testing.T) int {
	t.Helper()
	type res struct {
		ln  net.Listener
		err error
	}
	ch := make(chan res, 1)
	go func() {
		runtime.LockOSThread()
		f, err := os.Open("/var/run/netns/" + v.ns)
		if err != nil {
			ch <- res{err: err}
			return
		}
		defer f.Close()
		if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
			ch <- res{err: fmt.Errorf("setns: %w", err)}
			return
		}
		ln, err := net.Listen("tcp4", v.peerIP+":0")
		ch <- res{ln, err}
	}()
	r := <-ch
	if r.err != nil {
		t.Fatalf("listening in %s: %v", v.ns, r.err)
	}
	t.Cleanup(func() { r.ln.Close() })
	go serve(r.ln)
	return r.ln.Addr().(*net.TCPAddr).Port
}

func TestLiveVethNamespace(t *testing.T) {
	v := newVeth(t)
	port := v.listenIn(t)
	expr := fmt.Sprintf("tcp port %d", port)
	td := startTcpdump(t, v.host, expr)
	src := openLive(t, capture.LiveOptions{Interface: v.host, Promisc: true, Filter: compile(t, v.host, expr, 0)})
	c := collect(src)
	start := time.Now()
	var clients []int
	for _, size := range []int{100, 70000} {
		clients = append(clients, exchange(t, fmt.Sprintf("%s:%d", v.peerIP, port), size))
	}
	settle()
	end := time.Now()
	want := td.stop(t)
	ours := c.stop(t)
	t.Logf("ours %d packets (%d on port %d), tcpdump %d", len(ours), onPorts(ours, port), port, len(want))
	if onPorts(ours, port) != len(want) {
		t.Errorf("ours %d packets on port %d, tcpdump %d", onPorts(ours, port), port, len(want))
	}
	compareConns(t, ours, want, port, clients)
	checkTimes(t, portsOnly(ours, port), start, end)
	// The host end sends what the host sends and receives the
	// namespace's answers.
	var in, out int
	for _, p := range ours {
		src, _, tcp := tcpOf(p)
		if tcp == nil {
			continue // a pre-filter's extra: IPv6 with extension headers, for one
		}
		want := capture.DirInbound
		if src == v.hostIP {
			want = capture.DirOutbound
		}
		if p.dir != want {
			t.Errorf("frame %d from %s: direction %v, want %v", p.frame, src, p.dir, want)
		}
		if p.dir == capture.DirInbound {
			in++
		} else {
			out++
		}
	}
	t.Logf("%d inbound, %d outbound", in, out)
	if in == 0 || out == 0 {
		t.Errorf("%d inbound, %d outbound packets: want both", in, out)
	}
}

func TestLiveAnyDevice(t *testing.T) {
	v := newVeth(t)
	vport := v.listenIn(t)
	_, lport := listen(t, "127.0.0.1:0")
	expr := fmt.Sprintf("tcp port %d or tcp port %d", lport, vport)
	td := startTcpdump(t, "any", expr)
	if lt, _ := capture.FilterLinkType("any"); lt != layers.LinkTypeRaw {
		t.Errorf("FilterLinkType(any) = %v, want raw IP", lt)
	}
	src := openLive(t, capture.LiveOptions{Interface: "any", Promisc: true, Filter: compile(t, "any", expr, 0)})
	if src.LinkType() != layers.LinkTypeLinuxSLL2 {
		t.Errorf("any: link type %v, want LINUX_SLL2", src.LinkType())
	}
	c := collect(src)
	lclients := []int{exchange(t, fmt.Sprintf("127.0.0.1:%d", lport), 20000)}
	vclients := []int{exchange(t, fmt.Sprintf("%s:%d", v.peerIP, vport), 20000)}
	settle()
	want := td.stop(t)
	ours := c.stop(t)
	t.Logf("ours %d packets (%d on the two ports), tcpdump %d", len(ours), onPorts(ours, lport, vport), len(want))
	if onPorts(ours, lport, vport) != len(want) {
		t.Errorf("ours %d packets on the two ports, tcpdump %d", onPorts(ours, lport, vport), len(want))
	}
	// Byte for byte, the LINUX_SLL2 headers included.
	compareConns(t, ours, want, lport, lclients)
	compareConns(t, ours, want, vport, vclients)
	lo, _ := net.InterfaceByName("lo")
	// Only the test's own connections: the kernel filter is a leaky
	// pre-filter, and other tests (go test ./... runs packages at once)
	// send traffic of their own through other interfaces meanwhile.
	for _, p := range portsOnly(ours, lport, vport) {
		var sll layers.LinuxSLL2
		if err := sll.DecodeFromBytes(p.data, gopacket.NilDecodeFeedback); err != nil {
			t.Fatalf("frame %d: %v", p.frame, err)
		}
		if int(sll.InterfaceIndex) != lo.Index && int(sll.InterfaceIndex) != v.hostIndex {
			t.Errorf("frame %d: interface %d, neither lo (%d) nor %s (%d)", p.frame, sll.InterfaceIndex, lo.Index, v.host, v.hostIndex)
		}
		if int(sll.InterfaceIndex) == lo.Index && p.dir != capture.DirInbound {
			t.Errorf("frame %d: an outgoing loopback copy was kept", p.frame)
		}
	}
}

func TestLiveKernelFilterKeepsPacketsOut(t *testing.T) {
	requireRoot(t)
	_, p1 := listen(t, "127.0.0.1:0")
	_, p2 := listen(t, "127.0.0.1:0")
	// As "not port 22" keeps one's own SSH session out. Both sockets
	// see only the test's two ports, so that other traffic on lo (tests
	// of other packages) does not blur the kernel's counts.
	both := fmt.Sprintf("port %d or port %d", p1, p2)
	filtered := openLive(t, capture.LiveOptions{Interface: "lo", Filter: compile(t, "lo", fmt.Sprintf("(%s) and not port %d", both, p1), 0)})
	all := openLive(t, capture.LiveOptions{Interface: "lo", Filter: compile(t, "lo", both, 0)})
	cf, ca := collect(filtered), collect(all)
	exchange(t, fmt.Sprintf("127.0.0.1:%d", p1), 200000)
	exchange(t, fmt.Sprintf("127.0.0.1:%d", p2), 1000)
	settle()
	pf, pa := cf.stop(t), ca.stop(t)
	sf, _ := filtered.Stats()
	sa, _ := all.Stats()
	count := func(pkts []pkt, port int) int {
		n := 0
		for _, p := range pkts {
			if _, _, tcp := tcpOf(p); tcp != nil && (int(tcp.SrcPort) == port || int(tcp.DstPort) == port) {
				n++
			}
		}
		return n
	}
	f1, a1, f2, a2 := count(pf, p1), count(pa, p1), count(pf, p2), count(pa, p2)
	t.Logf("port %d (filtered out): %d packets with the filter, %d without; port %d: %d and %d", p1, f1, a1, p2, f2, a2)
	t.Logf("kernel: filtered %+v; unfiltered %+v", sf, sa)
	if f1 != 0 || a1 == 0 {
		t.Errorf("port %d: %d packets got through the filter, %d without it", p1, f1, a1)
	}
	if f2 == 0 || f2 != a2 {
		t.Errorf("port %d: %d packets with the filter, %d without: want the same", p2, f2, a2)
	}
	// The kernel never counted the filtered packets: each of them is two
	// copies on lo.
	if sf.Received != uint64(2*f2) || sa.Received != sf.Received+uint64(2*a1) {
		t.Errorf("kernel counted %d packets with the filter and %d without, for %d packets (each twice on lo) kept out and %d let through", sf.Received, sa.Received, a1, f2)
	}
}

func TestLiveCloseUnblocksNext(t *testing.T) {
	reject := []bpf.Instruction{bpf.RetConstant{Val: 0}}
	// Close stops a waiting Next within about pollSlice (25 ms). The best
	// of five rounds is held to 200 ms, not the worst: on a loaded machine
	// (the race detector's run, with other packages' tests) one round took
	// 231 ms, the scheduler's delay, not the source's. A source that waited
	// for a longer timeout would miss it in every round; one that never
	// woke fails the 2 s wait below.
	var best, worst time.Duration
	for i := 0; i < 5; i++ {
		src := openLive(t, capture.LiveOptions{Interface: "lo", Filter: reject})
		done := make(chan error, 1)
		go func() {
			_, err := src.Next()
			done <- err
		}()
		time.Sleep(100 * time.Millisecond)
		select {
		case err := <-done:
			t.Fatalf("Next returned before Close: %v", err)
		default:
		}
		t0 := time.Now()
		if err := src.Close(); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-done:
			d := time.Since(t0)
			worst = max(worst, d)
			if i == 0 || d < best {
				best = d
			}
			if err != io.EOF {
				t.Errorf("Next after Close: %v, want io.EOF", err)
			}
		case <-time.After(2 * time.Second):
			t.Fatal("Next still blocked 2 s after Close")
		}
		if _, err := src.Next(); err != io.EOF {
			t.Errorf("Next on a closed source: %v, want io.EOF", err)
		}
		if err := src.Close(); err != nil {
			t.Errorf("second Close: %v", err)
		}
	}
	t.Logf("Close unblocked Next within %v (best of 5) to %v (worst)", best, worst)
	if best > 200*time.Millisecond {
		t.Errorf("Close took at least %v to unblock Next in each of 5 rounds, want < 200 ms", best)
	}
}

func TestLiveTimeout(t *testing.T) {
	src := openLive(t, capture.LiveOptions{Interface: "lo", Timeout: 150 * time.Millisecond,
		Filter: []bpf.Instruction{bpf.RetConstant{Val: 0}}})
	t0 := time.Now()
	_, err := src.Next()
	d := time.Since(t0)
	if err != capture.ErrTimeout {
		t.Fatalf("Next: %v, want ErrTimeout", err)
	}
	t.Logf("ErrTimeout after %v", d)
	// Not before the timeout; after it by at most a second, which a
	// loaded machine's scheduler can take (a Close took 231 ms once where
	// it takes 1-30): a timeout ignored, as go-pcap's, never returns.
	if d < 150*time.Millisecond || d > 1150*time.Millisecond {
		t.Errorf("ErrTimeout after %v, want about 150 ms", d)
	}
}

func TestLiveDropsCounted(t *testing.T) {
	requireRoot(t)
	_, port := listen(t, "127.0.0.1:0")
	// The smallest ring, never read: it fills, freezes and drops.
	src := openLive(t, capture.LiveOptions{Interface: "lo", BufferSize: capture.MinBufferSize,
		Filter: compile(t, "lo", fmt.Sprintf("tcp port %d", port), 0)})
	for i := 0; i < 5; i++ {
		exchange(t, fmt.Sprintf("127.0.0.1:%d", port), 2<<20)
	}
	settle()
	st, err := src.Stats()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("ring of %d bytes, not read: %+v", src.BufferSize(), st)
	if st.Dropped == 0 || st.QueueFreezes == 0 || st.Received <= st.Dropped {
		t.Errorf("stats %+v: want drops and queue freezes", st)
	}
	src.Close()
	after, _ := src.Stats()
	if after.Received < st.Received {
		t.Errorf("stats after Close %+v went back from %+v", after, st)
	}
}

func TestLiveSnapLen(t *testing.T) {
	requireRoot(t)
	_, port := listen(t, "127.0.0.1:0")
	src := openLive(t, capture.LiveOptions{Interface: "lo", SnapLen: 96,
		Filter: compile(t, "lo", fmt.Sprintf("tcp port %d", port), 0)})
	c := collect(src)
	exchange(t, fmt.Sprintf("127.0.0.1:%d", port), 50000)
	settle()
	pkts := c.stop(t)
	long := 0
	for _, p := range pkts {
		if len(p.data) > 96 {
			t.Fatalf("frame %d: %d bytes captured with a snapshot length of 96", p.frame, len(p.data))
		}
		if p.orig > 96 {
			long++
		}
	}
	if len(pkts) == 0 || long == 0 {
		t.Errorf("%d packets, %d longer than the snapshot length", len(pkts), long)
	}
	if got := src.Interface().SnapLen; got != 96 {
		t.Errorf("Interface().SnapLen = %d", got)
	}
}

func promiscuity(t *testing.T, iface string) int {
	t.Helper()
	out, err := exec.Command("ip", "-d", "link", "show", iface).CombinedOutput()
	if err != nil {
		t.Fatalf("ip -d link show %s: %v: %s", iface, err, out)
	}
	f := strings.Fields(string(out))
	i := slices.Index(f, "promiscuity")
	if i < 0 || i+1 >= len(f) {
		t.Fatalf("no promiscuity in %s", out)
	}
	n, _ := strconv.Atoi(f[i+1])
	return n
}

func TestLivePromiscuous(t *testing.T) {
	v := newVeth(t)
	if n := promiscuity(t, v.host); n != 0 {
		t.Fatalf("promiscuity %d before", n)
	}
	src := openLive(t, capture.LiveOptions{Interface: v.host, Promisc: true})
	if n := promiscuity(t, v.host); n != 1 {
		t.Errorf("promiscuity %d with Promisc, want 1", n)
	}
	src.Close()
	if n := promiscuity(t, v.host); n != 0 {
		t.Errorf("promiscuity %d after Close, want 0", n)
	}
	src = openLive(t, capture.LiveOptions{Interface: v.host, Promisc: false})
	if n := promiscuity(t, v.host); n != 0 {
		t.Errorf("promiscuity %d without Promisc (-p), want 0", n)
	}
	src.Close()
}

func TestLiveBadInterface(t *testing.T) {
	requireRoot(t)
	_, err := capture.OpenLive(capture.LiveOptions{Interface: "nosuch0"})
	if err == nil || !strings.Contains(err.Error(), "nosuch0: no such interface") || !strings.Contains(err.Error(), "lo") {
		t.Errorf("OpenLive(nosuch0): %v", err)
	}
	// A program the kernel's checker refuses: a jump out of it.
	_, err = capture.OpenLive(capture.LiveOptions{Interface: "lo", Filter: []bpf.Instruction{bpf.Jump{Skip: 5}}})
	if err == nil || !strings.Contains(err.Error(), "refused the filter") {
		t.Errorf("OpenLive with a bad program: %v", err)
	}
	if _, err := capture.FilterLinkType("nosuch0"); err == nil {
		t.Error("FilterLinkType(nosuch0) did not fail")
	}
	v := newVeth(t)
	ipCmd(t, "link", "set", v.host, "down")
	_, err = capture.OpenLive(capture.LiveOptions{Interface: v.host})
	if err == nil || !strings.Contains(err.Error(), "not up") {
		t.Errorf("OpenLive on a down interface: %v", err)
	}
}

func TestLiveBufferSize(t *testing.T) {
	for _, size := range []int{0, capture.MinBufferSize, 3 << 20, 64 << 20} {
		src := openLive(t, capture.LiveOptions{Interface: "lo", BufferSize: size})
		want := size
		if size == 0 {
			want = capture.DefaultBufferSize
		}
		got := src.BufferSize()
		t.Logf("BufferSize %d: ring of %d bytes", size, got)
		if got > want || got < want/2 {
			t.Errorf("BufferSize %d: ring of %d bytes", size, got)
		}
		src.Close()
	}
}

// inject sends frames out of the namespace's end of the pair, from a
// packet socket opened in the namespace.
func (v *veth) inject(t *testing.T, frames func(peerMAC net.HardwareAddr) [][]byte) {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: see listenIn
		f, err := os.Open("/var/run/netns/" + v.ns)
		if err != nil {
			done <- err
			return
		}
		defer f.Close()
		if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
			done <- fmt.Errorf("setns: %w", err)
			return
		}
		ifc, err := net.InterfaceByName(v.peer)
		if err != nil {
			done <- err
			return
		}
		fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW, 0) // protocol 0: receives nothing
		if err != nil {
			done <- err
			return
		}
		defer unix.Close(fd)
		for _, fr := range frames(ifc.HardwareAddr) {
			if err := unix.Sendto(fd, fr, 0, &unix.SockaddrLinklayer{Ifindex: ifc.Index}); err != nil {
				done <- fmt.Errorf("sendto: %w", err)
				return
			}
		}
		done <- nil
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("injecting frames in %s: %v", v.ns, err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("injecting frames took more than 5 s")
	}
}

// TestLiveVLANTagsRestored sends VLAN-tagged frames into the host's end of
// a veth pair. Receiving them, the kernel moves the tag out of the frame
// into the packet's metadata (skb_vlan_untag), as NICs with VLAN offload
// do; the capture must put it back, as libpcap does, with its TPID
// (802.1Q or 802.1ad) and priority.
func TestLiveVLANTagsRestored(t *testing.T) {
	v := newVeth(t)
	const port = 47011
	expr := fmt.Sprintf("udp port %d", port)
	td := startTcpdump(t, v.host, expr)
	src := openLive(t, capture.LiveOptions{Interface: v.host, Promisc: true, Filter: compile(t, v.host, expr, 0)})
	c := collect(src)
	type tag struct {
		tpid     layers.EthernetType
		prio     uint8
		vid      uint16
		pktIndex int
	}
	tags := []tag{{layers.EthernetTypeDot1Q, 0, 10, 0}, {layers.EthernetTypeDot1Q, 5, 20, 1}, {layers.EthernetTypeQinQ, 3, 30, 2}, {layers.EthernetTypeDot1Q, 0, 4094, 3}}
	v.inject(t, func(peerMAC net.HardwareAddr) [][]byte {
		var out [][]byte
		for _, tg := range tags {
			buf := gopacket.NewSerializeBuffer()
			ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolUDP, SrcIP: net.ParseIP(v.peerIP), DstIP: net.ParseIP(v.hostIP)}
			udp := &layers.UDP{SrcPort: 40000, DstPort: port}
			udp.SetNetworkLayerForChecksum(ip)
			err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true},
				&layers.Ethernet{SrcMAC: peerMAC, DstMAC: v.hostMAC, EthernetType: tg.tpid},
				&layers.Dot1Q{Priority: tg.prio, VLANIdentifier: tg.vid, Type: layers.EthernetTypeIPv4},
				ip, udp, gopacket.Payload(fmt.Sprintf("tagged frame %d", tg.pktIndex)))
			if err != nil {
				t.Error(err)
			}
			out = append(out, buf.Bytes())
		}
		return out
	})
	settle()
	want := td.stop(t)
	ours := c.stop(t)
	var got []pkt
	for _, p := range ours {
		pk := gopacket.NewPacket(p.data, p.lt, gopacket.NoCopy)
		if u, ok := pk.Layer(layers.LayerTypeUDP).(*layers.UDP); ok && u.DstPort == port {
			got = append(got, p)
		}
	}
	t.Logf("ours %d frames to port %d, tcpdump %d", len(got), port, len(want))
	if len(got) != len(tags) || len(want) != len(tags) {
		t.Fatalf("%d frames captured, tcpdump %d, %d sent", len(got), len(want), len(tags))
	}
	for i, p := range got {
		if !bytes.Equal(p.data, want[i].data) || p.orig != want[i].orig {
			t.Errorf("frame %d differs from tcpdump's (length %d, tcpdump %d)\nours    % x\ntcpdump % x", i, p.orig, want[i].orig, p.data[:min(22, len(p.data))], want[i].data[:min(22, len(want[i].data))])
		}
		eth := layers.EthernetType(uint16(p.data[12])<<8 | uint16(p.data[13]))
		tci := uint16(p.data[14])<<8 | uint16(p.data[15])
		if eth != tags[i].tpid || tci>>13 != uint16(tags[i].prio) || tci&0xfff != tags[i].vid {
			t.Errorf("frame %d: TPID %#x TCI %#x, sent TPID %#x priority %d VLAN %d", i, uint16(eth), tci, uint16(tags[i].tpid), tags[i].prio, tags[i].vid)
		}
		if p.dir != capture.DirInbound {
			t.Errorf("frame %d: direction %v", i, p.dir)
		}
	}
}

// TestLiveIntoSpool runs the live pipeline: the capture goroutine hands
// packets over without waiting, a consumer writes them to a spool, and the
// spool reads back as what was captured.
func TestLiveIntoSpool(t *testing.T) {
	requireRoot(t)
	_, port := listen(t, "127.0.0.1:0")
	src := openLive(t, capture.LiveOptions{Interface: "lo", Filter: compile(t, "lo", fmt.Sprintf("tcp port %d", port), 0)})
	sp, err := capture.NewSpool(capture.SpoolOptions{Dir: t.TempDir()}, src.Interface())
	if err != nil {
		t.Fatal(err)
	}
	defer sp.Close()
	h := capture.NewHandoff(1024)
	var captured []pkt
	capDone := make(chan error, 1)
	go func() {
		defer h.Close()
		for {
			r, err := src.Next()
			if err != nil {
				if err == io.EOF {
					err = nil
				}
				capDone <- err
				return
			}
			captured = append(captured, copyRec(r))
			h.Offer(r)
		}
	}()
	var refs []capture.SpoolRef
	spoolDone := make(chan error, 1)
	go func() {
		for b := range h.C() {
			for i := range b.Recs {
				ref, err := sp.WritePacket(&b.Recs[i])
				if err != nil {
					spoolDone <- err
					return
				}
				refs = append(refs, ref)
			}
			h.Release(b)
		}
		spoolDone <- nil
	}()
	for i := 0; i < 3; i++ {
		exchange(t, fmt.Sprintf("127.0.0.1:%d", port), 100000)
	}
	settle()
	src.Close()
	for _, ch := range []chan error{capDone, spoolDone} {
		select {
		case err := <-ch:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("pipeline did not stop within 5 s")
		}
	}
	if err := sp.Flush(); err != nil {
		t.Fatal(err)
	}
	t.Logf("captured %d, handed over %d, dropped %d, spooled %d", len(captured), h.Offered(), h.Dropped(), len(refs))
	if h.Dropped() != 0 || len(refs) != len(captured) || len(captured) == 0 {
		t.Fatalf("captured %d, dropped %d, spooled %d", len(captured), h.Dropped(), len(refs))
	}
	segs := sp.Segments()
	r, err := capture.Open(segs[0].Path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for i := 0; ; i++ {
		rec, err := r.Next()
		if err == io.EOF {
			if i != len(captured) {
				t.Errorf("spool holds %d packets, %d captured", i, len(captured))
			}
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		p := captured[i]
		if !bytes.Equal(rec.Data, p.data) || rec.Timestamp != p.ts || rec.OrigLen != p.orig || rec.Direction != p.dir || rec.LinkType != p.lt {
			t.Fatalf("spooled packet %d differs from the captured one", i)
		}
	}
}

// TestLiveSettle stops a capture the way synscope's live mode does, with
// packets the kernel counted still in the ring (in the block it has not
// handed over yet, mostly: the 20 ms retire timer has not run) and more
// coming after the stop. Next returns exactly the packets counted at
// Settle, then io.EOF, so that the summary adds up: reading the counters
// at Close, after the drain, counted IPv6 MLD reports that came in
// between and were never read (TestLiveLinkFlap, "48 packets captured, 49
// received by filter, 0 dropped").
func TestLiveSettle(t *testing.T) {
	v := newVeth(t)
	const port = 47012
	expr := fmt.Sprintf("udp port %d", port)
	src := openLive(t, capture.LiveOptions{Interface: v.host, Promisc: true, Filter: compile(t, v.host, expr, 0), Timeout: 20 * time.Millisecond})
	frames := func(what string) func(net.HardwareAddr) [][]byte {
		return func(peerMAC net.HardwareAddr) [][]byte {
			var out [][]byte
			for i := range 5 {
				buf := gopacket.NewSerializeBuffer()
				ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolUDP, SrcIP: net.ParseIP(v.peerIP), DstIP: net.ParseIP(v.hostIP)}
				udp := &layers.UDP{SrcPort: 40000, DstPort: port}
				udp.SetNetworkLayerForChecksum(ip)
				if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true},
					&layers.Ethernet{SrcMAC: peerMAC, DstMAC: v.hostMAC, EthernetType: layers.EthernetTypeIPv4},
					ip, udp, gopacket.Payload(fmt.Sprintf("%s %d", what, i))); err != nil {
					t.Error(err)
				}
				out = append(out, buf.Bytes())
			}
			return out
		}
	}
	v.inject(t, frames("before"))
	// Counted (the kernel counts a packet as it puts it in the ring), not
	// read.
	for end := time.Now().Add(2 * time.Second); ; time.Sleep(time.Millisecond) {
		st, err := src.Stats()
		if err != nil {
			t.Fatal(err)
		}
		if st.Received == 5 {
			break
		}
		if time.Now().After(end) {
			t.Fatalf("stats %+v: the kernel did not count the 5 frames within 2 s", st)
		}
	}
	exact, err := src.Settle()
	if err != nil || !exact {
		t.Fatalf("Settle: %v, %v; want exact", exact, err)
	}
	v.inject(t, frames("after"))
	var got []string
	start := time.Now()
	for {
		rec, err := src.Next()
		if err == capture.ErrTimeout {
			if time.Since(start) > 2*time.Second {
				t.Fatalf("no io.EOF 2 s after Settle; read %q", got)
			}
			continue
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, string(bytes.TrimRight(rec.Data[42:], "\x00"))) // the padding to 60 bytes off
	}
	t.Logf("read %q in %v after Settle", got, time.Since(start).Round(time.Millisecond))
	if want := []string{"before 0", "before 1", "before 2", "before 3", "before 4"}; !slices.Equal(got, want) {
		t.Errorf("read %q after Settle, want %q", got, want)
	}
	if _, err := src.Next(); err != io.EOF {
		t.Errorf("Next after the last counted packet: %v, want io.EOF", err)
	}
	src.Close()
	st, err := src.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if st.Received != 5 || st.Captured != 5 || st.Dropped != 0 {
		t.Errorf("stats after Close %+v, want the 5 counted at Settle, all captured", st)
	}
}
