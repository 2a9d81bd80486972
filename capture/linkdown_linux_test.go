//go:build linux

package capture_test

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/synscope/synscope/capture"
)

// The interface going down (ip link set down, an HA failover) does not end
// a capture, and its removal ends it only once the ring is drained. The
// packets the kernel took just before either sit in a ring block it hands
// over by its retire timer, after it has said ENETDOWN: a capture that
// stopped at the ENETDOWN lost them (10 of 38 in the review), though the
// kernel had counted them as received and not as dropped.

// linkWatch collects what LiveOptions.OnLink tells.
type linkWatch struct {
	mu      sync.Mutex
	changes []capture.LinkChange
	ch      chan capture.LinkChange
}

func newLinkWatch() *linkWatch { return &linkWatch{ch: make(chan capture.LinkChange, 16)} }

func (w *linkWatch) onLink(c capture.LinkChange) {
	w.mu.Lock()
	w.changes = append(w.changes, c)
	w.mu.Unlock()
	w.ch <- c
}

func (w *linkWatch) all() []capture.LinkChange {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]capture.LinkChange(nil), w.changes...)
}

// wait waits for the next change, which must be up or down as asked.
func (w *linkWatch) wait(t *testing.T, up bool) capture.LinkChange {
	t.Helper()
	select {
	case c := <-w.ch:
		if c.Up != up {
			t.Fatalf("link change %+v, want up=%v", c, up)
		}
		return c
	case <-time.After(3 * time.Second):
		t.Fatalf("no link change (up=%v) told within 3 s", up)
	}
	return capture.LinkChange{}
}

// waitCaptured waits until the source has returned every packet the kernel
// counted, and returns how long that took from `from`, or fails after 2 s.
func waitCaptured(t *testing.T, src *capture.LiveSource, c *collector, from time.Time) time.Duration {
	t.Helper()
	for end := time.Now().Add(2 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		st, err := src.Stats()
		if err != nil {
			t.Fatal(err)
		}
		if st.Received > 0 && uint64(c.n.Load()) == st.Received-st.Dropped {
			return time.Since(from)
		}
		if time.Now().After(end) {
			t.Fatalf("2 s after the link went down, %d packets returned, the kernel counted %+v", c.n.Load(), st)
		}
	}
}

// checkClosed checks that each client's connection is there with the FIN of
// each side: the last packets the test sent before the link went away.
func checkClosed(t *testing.T, pkts []pkt, sport int, clients []int) {
	t.Helper()
	conns := byConn(t, pkts, sport)
	for _, c := range clients {
		fins := map[bool]bool{}
		for _, p := range conns[c] {
			if _, _, tcp := tcpOf(p); tcp.FIN {
				fins[int(tcp.DstPort) == sport] = true
			}
		}
		if len(conns[c]) == 0 || !fins[true] || !fins[false] {
			t.Errorf("connection from port %d: %d packets, FIN to the server %v, from it %v", c, len(conns[c]), fins[true], fins[false])
		}
	}
}

// noIPv6 turns IPv6 off on both ends of v: a veth that comes up sends
// MLD reports about a second later, whose hop-by-hop header the kernel
// filter for "tcp port N" lets through for a decoder to judge. One that
// came after the reader stopped, and before Close read the counters, was
// counted and never returned ("42 packets returned; Received:43").
func noIPv6(t *testing.T, v *veth) {
	t.Helper()
	if err := os.WriteFile("/proc/sys/net/ipv6/conf/"+v.host+"/disable_ipv6", []byte("1"), 0o644); err != nil {
		t.Fatal(err)
	}
	ipCmd(t, "netns", "exec", v.ns, "sysctl", "-q", "-w", "net.ipv6.conf."+v.peer+".disable_ipv6=1")
}

// checkCounts checks the accounting: every packet the kernel counted as
// received was returned or counted as dropped (a veth has no loopback
// copies).
func checkCounts(t *testing.T, src *capture.LiveSource, returned int) {
	t.Helper()
	st, err := src.Stats()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d packets returned; kernel %+v", returned, st)
	if st.Captured != uint64(returned) || st.Received != st.Captured+st.Dropped {
		t.Errorf("%d packets returned; stats %+v: want Captured = returned, Received = Captured + Dropped", returned, st)
	}
}

// TestLiveLinkDownAndUp takes the interface down right after three
// connections, and up again for a fourth: the first three are captured
// whole before it comes back (tcpdump's too), the capture goes on, the
// fourth is captured, and OnLink is told of the down and the up, once
// each.
func TestLiveLinkDownAndUp(t *testing.T) {
	v := newVeth(t)
	noIPv6(t, v)
	port := v.listenIn(t)
	expr := fmt.Sprintf("tcp port %d", port)
	td := startTcpdump(t, v.host, expr)
	w := newLinkWatch()
	src := openLive(t, capture.LiveOptions{Interface: v.host, Promisc: true, Filter: compile(t, v.host, expr, 0), OnLink: w.onLink})
	c := collect(src)
	addr := fmt.Sprintf("%s:%d", v.peerIP, port)
	var clients []int
	for range 3 {
		clients = append(clients, exchange(t, addr, 2000))
	}
	downAt := time.Now()
	ipCmd(t, "link", "set", v.host, "down")
	down := w.wait(t, false)
	took := waitCaptured(t, src, c, downAt)
	t.Logf("down told %v after ip link set down; every packet returned %v after it", down.Time.Sub(downAt), took)
	c.mu.Lock()
	before := append([]pkt(nil), c.pkts...)
	c.mu.Unlock()
	checkClosed(t, before, port, clients)
	checkCounts(t, src, len(before))

	upAt := time.Now()
	ipCmd(t, "link", "set", v.host, "up")
	waitOperUp(t, v.host)
	up := w.wait(t, true)
	t.Logf("up told %v after ip link set up", up.Time.Sub(upAt))
	clients = append(clients, exchange(t, addr, 2000))
	settle()
	want := td.stop(t)
	ours := c.stop(t)
	t.Logf("ours %d packets (%d on port %d), %d before the down; tcpdump %d", len(ours), onPorts(ours, port), port, len(before), len(want))
	if onPorts(ours, port) != len(want) {
		t.Errorf("ours %d packets on port %d, tcpdump %d", onPorts(ours, port), port, len(want))
	}
	checkClosed(t, ours, port, clients)
	compareConns(t, ours, want, port, clients)
	checkCounts(t, src, len(ours))
	if ch := w.all(); len(ch) != 2 {
		t.Errorf("link changes told: %+v, want one down and one up", ch)
	}
	if !down.Time.Before(up.Time) || down.Time.Before(downAt) || up.Time.Before(upAt) {
		t.Errorf("down told at %v, up at %v; ip link set down at %v, up at %v", down.Time, up.Time, downAt, upAt)
	}
}

// TestLiveInterfaceRemoved deletes the interface right after three
// connections: Next ends with ErrInterfaceRemoved, naming the interface,
// but only once it has returned every packet the kernel took.
func TestLiveInterfaceRemoved(t *testing.T) {
	v := newVeth(t)
	noIPv6(t, v)
	port := v.listenIn(t)
	expr := fmt.Sprintf("tcp port %d", port)
	w := newLinkWatch()
	src := openLive(t, capture.LiveOptions{Interface: v.host, Filter: compile(t, v.host, expr, 0), OnLink: w.onLink})
	type result struct {
		pkts []pkt
		err  error
	}
	done := make(chan result, 1)
	go func() {
		var r result
		for {
			rec, err := src.Next()
			if err != nil {
				r.err = err
				done <- r
				return
			}
			r.pkts = append(r.pkts, copyRec(rec))
		}
	}()
	addr := fmt.Sprintf("%s:%d", v.peerIP, port)
	var clients []int
	for range 3 {
		clients = append(clients, exchange(t, addr, 2000))
	}
	delAt := time.Now()
	ipCmd(t, "link", "del", v.host)
	var r result
	select {
	case r = <-done:
	case <-time.After(3 * time.Second):
		src.Close()
		t.Fatal("Next still waiting 3 s after the interface was removed")
	}
	t.Logf("Next ended %v after ip link del: %v", time.Since(delAt), r.err)
	if !errors.Is(r.err, capture.ErrInterfaceRemoved) || !strings.Contains(r.err.Error(), v.host) {
		t.Errorf("Next after the interface was removed: %v, want ErrInterfaceRemoved naming %s", r.err, v.host)
	}
	checkClosed(t, r.pkts, port, clients)
	checkCounts(t, src, len(r.pkts))
	if ch := w.all(); len(ch) != 1 || ch[0].Up {
		t.Errorf("link changes told: %+v, want one down", ch)
	}
}
