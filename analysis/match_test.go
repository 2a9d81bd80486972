package analysis

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/pcapgo"

	"github.com/synscope/synscope/analysis/filter"
	"github.com/synscope/synscope/capture"
)

// tcpdumpBin finds tcpdump, the reference for which packets a filter
// expression matches, skipping (or failing, with SYNSCOPE_REQUIRE_TSHARK=1)
// without it.
func tcpdumpBin(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("tcpdump"); err == nil {
		return p
	}
	for _, p := range []string{"/usr/sbin/tcpdump", "/usr/bin/tcpdump"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	skipOrFail(t, "SYNSCOPE_REQUIRE_TSHARK", "tcpdump not installed: differential test skipped (apt-get install tcpdump)")
	return ""
}

// tcpdumpMatches says, frame by frame, which frames of file tcpdump's
// filter expr accepts: tcpdump writes the packets it accepts, in order,
// and they are found in the file as a subsequence of its frames (a packet
// identical to the next is interchangeable with it).
func tcpdumpMatches(t *testing.T, tcpdump, file, expr string) []bool {
	t.Helper()
	var stderr bytes.Buffer
	cmd := exec.Command(tcpdump, "-r", file, "-w", "-", expr)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil && strings.Contains(stderr.String(), "expression rejects all packets") {
		// libpcap's optimiser found that no packet can match ("tcp and
		// udp port 4789" on the outermost header).
		return make([]bool, len(readFrames(t, file)))
	}
	if err != nil {
		t.Fatalf("tcpdump -r %s %q: %v: %s", file, expr, err, stderr.String())
	}
	r, err := pcapgo.NewReader(bytes.NewReader(out))
	if err != nil {
		t.Fatalf("tcpdump -r %s %q: %v", file, expr, err)
	}
	var kept [][]byte
	for {
		data, _, err := r.ReadPacketData()
		if err != nil {
			break
		}
		kept = append(kept, data)
	}
	frames := readFrames(t, file)
	got := make([]bool, len(frames))
	for i, data := range frames {
		if len(kept) > 0 && bytes.Equal(kept[0], data) {
			got[i], kept = true, kept[1:]
		}
	}
	if len(kept) > 0 {
		t.Fatalf("tcpdump -r %s %q: %d packets not found in the file", file, expr, len(kept))
	}
	return got
}

// readFrames returns the bytes of every frame of file.
func readFrames(t *testing.T, file string) [][]byte {
	t.Helper()
	r, err := capture.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var frames [][]byte
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			return frames
		}
		if err != nil {
			t.Fatal(err)
		}
		frames = append(frames, bytes.Clone(rec.Data))
	}
}

// ourMatches decodes every frame of file and says which ones the filter
// expr accepts, as the analysis applies it (Matcher); outer reports, per
// frame, how many tunnel headers the decoder kept.
func ourMatches(t *testing.T, file, expr string) (match []bool, outer []int) {
	t.Helper()
	e, err := filter.Parse(expr)
	if err != nil {
		t.Fatal(err)
	}
	m := Matcher(e)
	r, err := capture.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	d := NewDecoder()
	var p Packet
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			return match, outer
		}
		if err != nil {
			t.Fatal(err)
		}
		d.Decode(rec, &p)
		match = append(match, m(&p))
		outer = append(outer, len(p.Outer))
	}
}

// TestFilterTunnelHeaders holds the filter's semantics under tunnels: a
// primitive matches when it matches the tunnelled connection (the
// innermost IP datagram and its TCP header) or any IP header of the tunnel
// around it, with its UDP ports. Each seed-client-<tunnel> capture is
// seed-client.pcap wrapped frame by frame, so tcpdump gives both answers:
// on the tunnel capture it sees the outer header only, on seed-client.pcap
// the inner one. A primitive must then match exactly the frames where
// either of them does, and an expression is those primitives' answers
// combined by its and/or/not.
func TestFilterTunnelHeaders(t *testing.T) {
	tcpdump := tcpdumpBin(t)
	const plain = "../testdata/seed-client.pcap"
	tunnels := []struct {
		file string
		// proto is the tunnel's own primitive: its UDP port or IP
		// protocol.
		proto string
	}{
		{"../testdata/seed-client-vxlan.pcap", "udp port 4789"},
		{"../testdata/seed-client-geneve.pcap", "udp port 6081"},
		{"../testdata/seed-client-gre.pcap", `ip proto \gre`},
		{"../testdata/seed-client-ipip.pcap", "ip proto 4"},
	}
	const proto = "PROTO" // stands for the tunnel's primitive
	tests := []struct {
		expr  string
		op    string   // how the parts' answers combine: "" (one part), "and", "or", "not"
		parts []string // the primitives; nil: expr itself
		// why is empty where synscope agrees with tcpdump on the tunnel
		// capture frame for frame (the expression is about the tunnel);
		// else it says why synscope deliberately matches other frames.
		why string
	}{
		{expr: "host 192.0.2.1"},
		{expr: "src host 192.0.2.1"},
		{expr: "dst host 192.0.2.2"},
		{expr: "net 192.0.2.0/24"},
		{expr: "not host 192.0.2.1", op: "not", parts: []string{"host 192.0.2.1"}},
		{expr: proto},
		{expr: "ip"},
		{expr: "ip6"},
		{expr: "udp"},
		{expr: "src host 192.0.2.1 or host 198.51.100.7", op: "or", parts: []string{"src host 192.0.2.1", "host 198.51.100.7"}},

		{expr: "tcp", why: "tcpdump sees the tunnel's UDP, GRE or IP-in-IP header; the TCP connection is inside"},
		{expr: "port 443", why: "tcpdump sees the tunnel's ports, or none; synscope also the connection's"},
		{expr: "tcp port 443", why: "the connection's protocol and port are both inside, in one layer"},
		{expr: "src host 10.110.233.50", why: "the connection's own address is in the inner header"},
		{expr: "net 172.16.0.0/12", why: "the connection's server address is in the inner header"},
		{expr: "not tcp", op: "not", parts: []string{"tcp"},
			why: "not tcp leaves out every frame carrying the TCP connection, tunnelled or not"},
		{expr: "tcp and " + proto, op: "and", parts: []string{"tcp", proto},
			why: "each primitive may match in its own layer: TCP inside, the tunnel outside"},
		{expr: "src host 192.0.2.1 and dst port 443", op: "and", parts: []string{"src host 192.0.2.1", "dst port 443"},
			why: "the tunnel endpoint in the outer header, the server port in the inner one"},
	}
	for _, tun := range tunnels {
		t.Run(filepath.Base(tun.file), func(t *testing.T) {
			sub := func(s string) string { return strings.ReplaceAll(s, proto, tun.proto) }
			// either is the frames where tcpdump matches s on the tunnel
			// capture or on the same frames without the tunnel.
			either := func(s string) []bool {
				outer := tcpdumpMatches(t, tcpdump, tun.file, s)
				inner := tcpdumpMatches(t, tcpdump, plain, s)
				if len(outer) != len(inner) {
					t.Fatalf("%d frames in %s, %d in %s", len(outer), tun.file, len(inner), plain)
				}
				for i := range outer {
					outer[i] = outer[i] || inner[i]
				}
				return outer
			}
			for _, tt := range tests {
				expr := sub(tt.expr)
				parts := tt.parts
				if parts == nil {
					parts = []string{tt.expr}
				}
				want := either(sub(parts[0]))
				for _, s := range parts[1:] {
					b := either(sub(s))
					for i := range want {
						if tt.op == "and" {
							want[i] = want[i] && b[i]
						} else {
							want[i] = want[i] || b[i]
						}
					}
				}
				if tt.op == "not" {
					for i := range want {
						want[i] = !want[i]
					}
				}
				got, outer := ourMatches(t, tun.file, expr)
				for i, n := range outer {
					if n != 1 {
						t.Fatalf("frame %d: %d tunnel headers kept, want 1", i+1, n)
					}
				}
				if !slices.Equal(got, want) {
					t.Errorf("%q: synscope matches frames %v, want %v", expr, frameNums(got), frameNums(want))
				}
				td := tcpdumpMatches(t, tcpdump, tun.file, expr)
				switch {
				case tt.why == "" && !slices.Equal(got, td):
					t.Errorf("%q: synscope matches frames %v, tcpdump %v: they should agree", expr, frameNums(got), frameNums(td))
				case tt.why != "" && slices.Equal(got, td):
					t.Errorf("%q: synscope and tcpdump agree (frames %v), but the test says they differ: %s", expr, frameNums(got), tt.why)
				}
			}
		})
	}
}

func frameNums(m []bool) []int {
	var n []int
	for i, ok := range m {
		if ok {
			n = append(n, i+1)
		}
	}
	return n
}

// TestFilterTunnelCorpus checks the same semantics on the corpus's tunnel
// captures, which mix the families (IPv4 in IPv6 and the reverse) and
// carry BIG TCP and GSO frames: on a frame in one tunnel, a primitive
// matches where tcpdump's does (on the outer header) or where it matches
// the inner layer alone.
func TestFilterTunnelCorpus(t *testing.T) {
	tcpdump := tcpdumpBin(t)
	var files []string
	for _, pat := range []string{"vxlan.pcap", "geneve*.pcap", "gso-*-vxlan-*.pcap", "gso-*-geneve-*.pcap",
		"bigtcp-*-vxlan-*.pcap", "bigtcp-*-geneve-*.pcap"} {
		m, _ := filepath.Glob(filepath.Join(corpusDir, pat))
		files = append(files, m...)
	}
	if len(files) == 0 {
		skipOrFail(t, "SYNSCOPE_REQUIRE_CORPUS", "capture corpus not found at "+corpusDir)
	}
	exprs := []string{"ip", "ip6", "tcp", "udp", "udp port 4789", "udp port 6081", "port 443", "portrange 1-1024",
		"udp dst port 4789", "src net 10.0.0.0/8", "net 192.168.0.0/16", "host 192.168.1.1", "net 2604:1380::/32"}
	tunnelled := 0
	for _, file := range files {
		for _, expr := range exprs {
			e, err := filter.Parse(expr)
			if err != nil {
				t.Fatal(err)
			}
			td := tcpdumpMatches(t, tcpdump, file, expr)
			got, _ := ourMatches(t, file, expr)
			if len(got) != len(td) {
				t.Fatalf("%s: %d frames, tcpdump %d", file, len(got), len(td))
			}
			r, err := capture.Open(file)
			if err != nil {
				t.Fatal(err)
			}
			d := NewDecoder()
			var p Packet
			for i := 0; ; i++ {
				rec, err := r.Next()
				if err != nil {
					break
				}
				d.Decode(rec, &p)
				if len(p.Outer) != 1 || p.NVLAN != 0 {
					continue
				}
				tunnelled++
				inner := filter.Fields{IPVersion: int(p.IPVersion), Src: p.Src, Dst: p.Dst, Proto: p.Proto,
					HasPorts: p.HasTCP || p.Proto == 17, SrcPort: p.SrcPort, DstPort: p.DstPort, Length: p.WireLen}
				if want := td[i] || e.Match(&inner); got[i] != want {
					t.Errorf("%s frame %d (%s in %v, outer %+v): %q matches %v, want %v (tcpdump %v)",
						filepath.Base(file), i+1, p.SrcAddrPort(), p.Tunnel, p.Outer[0], expr, got[i], want, td[i])
				}
			}
			r.Close()
		}
	}
	if tunnelled == 0 {
		t.Fatal("no tunnelled frame decoded in the corpus's tunnel captures")
	}
}

// TestFilterTunnelRun is the reviewer's case end to end: a filter on the
// VXLAN endpoints, or on VXLAN's port, keeps the connection inside.
func TestFilterTunnelRun(t *testing.T) {
	for _, expr := range []string{"host 192.0.2.1", "udp port 4789", "udp port 4789 and tcp port 443"} {
		e, err := filter.Parse(expr)
		if err != nil {
			t.Fatal(err)
		}
		r, err := capture.Open("../testdata/seed-client-vxlan.pcap")
		if err != nil {
			t.Fatal(err)
		}
		res, err := Run(context.Background(), r, Config{Match: Matcher(e)})
		r.Close()
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Flows) != 1 || res.TCPFrames != res.Frames || res.Filtered != 0 {
			t.Errorf("%q: %d flows, %d of %d frames in them, %d filtered; want the one flow with every frame",
				expr, len(res.Flows), res.TCPFrames, res.Frames, res.Filtered)
		} else if c := res.Flows[0].Client(); c.Port() != 50183 {
			t.Errorf("%q: the flow's client is %s, want the inner connection's", expr, c)
		}
	}
}
