package analysis

import (
	"bytes"
	"context"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/synscope/synscope/capture"
	"github.com/synscope/synscope/capture/fixture"
)

// pointOf reads a capture into a path Point that can read packets back.
func pointOf(t *testing.T, name string, data []byte) Point {
	t.Helper()
	r, err := capture.NewReader(bytes.NewReader(data), name, int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	res, err := Run(context.Background(), r, Config{Name: name, PayloadSums: true})
	if err != nil {
		t.Fatal(err)
	}
	rr, err := r.Rereader()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rr.Close() })
	return Point{Name: name, Result: res, Reread: rr.ReadAt}
}

func pointFile(t *testing.T, name, file string) Point {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return pointOf(t, name, data)
}

func pathFindings(pa *Path, f *Flow, code PathCode) []PathFinding {
	var out []PathFinding
	for _, fi := range pa.Findings[f] {
		if fi.Code == code {
			out = append(out, fi)
		}
	}
	return out
}

func TestPathSeed(t *testing.T) {
	pa := Correlate([]Point{
		pointFile(t, "client", "../testdata/seed-client.pcap"),
		pointFile(t, "fw-inside", "../testdata/seed-inside.pcap"),
		pointFile(t, "fw-outside", "../testdata/seed-outside.pcap"),
	})
	if len(pa.Conns) != 1 {
		t.Fatalf("%d connections, want 1", len(pa.Conns))
	}
	c := pa.Conns[0]
	client, inside, outside := c.Flows[0], c.Flows[1], c.Flows[2]
	if client == nil || inside == nil || outside == nil {
		t.Fatalf("connection not seen at every point: %v", c.Present())
	}
	// The SYN-ACK grew between the firewall's inside and the client.
	added := pathFindings(pa, client, PathPayloadAdded)
	if len(added) == 0 || added[0].Frame != 2 || added[0].RelatedFrame != 2 || added[0].Bytes != 2 {
		t.Fatalf("payload_added %+v", added)
	}
	for _, want := range []string{"SYN-ACK grew by 2 bytes between fw-inside and client", "IP length 44 → 46", "bytes 00 00", "Ethernet padding?"} {
		if !strings.Contains(added[0].Message, want) {
			t.Errorf("payload_added message %q lacks %q", added[0].Message, want)
		}
	}
	// The ACK of ISN+3 never left the firewall.
	dropped := pathFindings(pa, inside, PathDropped)
	if len(dropped) == 0 || dropped[0].Frame != 3 || pa.Points[dropped[0].RelatedPoint] != "fw-outside" {
		t.Fatalf("dropped %+v", dropped)
	}
	for _, want := range []string{"ACK (frame 3 at fw-inside) never reached fw-outside", "2180033888 ≠ server ISN+1 2180033886"} {
		if !strings.Contains(dropped[0].Message, want) {
			t.Errorf("dropped message %q lacks %q", dropped[0].Message, want)
		}
	}
	// NAT names both endpoints.
	nat := pathFindings(pa, outside, PathNAT)
	if len(nat) != 1 || !strings.Contains(nat[0].Message, "10.110.233.50:50183") || !strings.Contains(nat[0].Message, "10.110.235.202:55073") {
		t.Errorf("nat %+v", nat)
	}
	// The client's clock ran about 10 min 42 s ahead of the firewall's.
	if off := pa.Offset[1]; math.Abs(off+642.25) > 1 {
		t.Errorf("fw-inside clock offset %.3f s, want about -642.25", off)
	}
	co := pathFindings(pa, inside, PathClockOffset)
	if len(co) != 1 || math.Abs(math.Abs(co[0].Seconds)-642.25) > 1 || !strings.Contains(co[0].Message, "behind") {
		t.Errorf("clock offset finding %+v", co)
	}
	// Nothing was injected, and the SYN and SYN-ACK passed everywhere.
	for _, f := range c.Flows {
		if inj := pathFindings(pa, f, PathInjected); len(inj) > 0 {
			t.Errorf("injected: %+v", inj)
		}
	}
	for _, fi := range pathFindings(pa, client, PathDropped) {
		t.Errorf("client flow: dropped %+v", fi)
	}
	// Everything the client sent after its bad ACK died at the firewall
	// too: the ClientHello, its five retransmissions and the second ACK.
	var frames []uint64
	for _, fi := range dropped {
		frames = append(frames, fi.Frame)
	}
	if want := []uint64{3, 4, 5, 6, 7, 9, 10, 11}; !slices.Equal(frames, want) {
		t.Errorf("dropped at fw-inside: frames %v, want %v", frames, want)
	}
	// The JSON record carries the path id and the findings' captures.
	rec := client.Record("client")
	pa.Decorate(&rec, client)
	if rec.Path == nil || rec.Path.ID != 1 || len(rec.Path.Points) != 3 {
		t.Errorf("path record %+v", rec.Path)
	}
	found := false
	for _, f := range rec.Findings {
		if f.Code == "path.payload_added" && f.Capture == "client" && f.RelatedCapture == "fw-inside" && f.Bytes == 2 && f.Data == "0000" {
			found = true
		}
	}
	if !found {
		t.Errorf("record findings %+v", rec.Findings)
	}
}

// A small connection described for the path tests: the handshake and a
// request and its answer, seen at two points.
const pathConn = `
format pcap
link ethernet
client 10.0.0.1:40000
server 192.0.2.80:443
time 2026-01-01T00:00:00Z
+0      C>S S  seq=1000 mss=1460 ws=7 sackok
+0.020  S>C SA seq=5000 ack=1001 mss=1460 ws=7 sackok
+0.0002 C>S A  seq=1001 ack=5001
+0.001  C>S PA seq=1001 ack=5001 len=200
+0.020  S>C PA seq=5001 ack=1201 len=900
+0.0002 C>S A  seq=1201 ack=5901
+0.050  C>S FA seq=1201 ack=5901
+0.020  S>C FA seq=5901 ack=1202
+0.0002 C>S A  seq=1202 ack=5902
`

func TestPathVariants(t *testing.T) {
	near := pathConn
	cases := []struct {
		name   string
		far    string // the second point's description, from pathConn
		check  func(t *testing.T, pa *Path)
		joined bool
	}{
		{"NAT and PAT", strings.Replace(near, "client 10.0.0.1:40000", "client 203.0.113.9:61000", 1),
			func(t *testing.T, pa *Path) {
				nat := pathFindings(pa, pa.Conns[0].Flows[1], PathNAT)
				if len(nat) != 1 || !strings.Contains(nat[0].Message, "10.0.0.1:40000 at near is 203.0.113.9:61000 at far") {
					t.Errorf("nat %+v", nat)
				}
			}, true},
		{"ISN rewriting middlebox", rewriteClientISN(near, 776777),
			func(t *testing.T, pa *Path) {
				rw := pathFindings(pa, pa.Conns[0].Flows[1], PathISNRewritten)
				if len(rw) != 1 || !strings.Contains(rw[0].Message, "client ISN 1000 at near is 777777 at far (+776777)") {
					t.Errorf("isn_rewritten %+v", rw)
				}
				for _, f := range pa.Conns[0].Flows {
					if d := pathFindings(pa, f, PathDropped); len(d) > 0 {
						t.Errorf("dropped after ISN rewriting: %+v", d)
					}
				}
			}, true},
		{"MSS clamping", strings.Replace(near, "C>S S  seq=1000 mss=1460", "C>S S  seq=1000 mss=1380", 1),
			func(t *testing.T, pa *Path) {
				m := pathFindings(pa, pa.Conns[0].Flows[1], PathMSSChanged)
				if len(m) != 1 || !strings.Contains(m[0].Message, "SYN's MSS changed from 1460 at near to 1380 at far") {
					t.Errorf("mss_changed %+v", m)
				}
			}, true},
		// The request never reached far, so the server there never
		// acknowledged it (an ACK of it at far says far's capture
		// missed it: TestPathUncaptured).
		{"a drop between the points", strings.NewReplacer("+0.001  C>S PA seq=1001 ack=5001 len=200\n", "",
			"ack=1201 len=900", "ack=1001 len=900", "S>C FA seq=5901 ack=1202", "S>C FA seq=5901 ack=1001").Replace(near),
			func(t *testing.T, pa *Path) {
				d := pathFindings(pa, pa.Conns[0].Flows[0], PathDropped)
				if len(d) != 1 || d[0].Frame != 4 || !strings.Contains(d[0].Message, "data segment (200 bytes) (frame 4 at near) never reached far") {
					t.Errorf("dropped %+v", d)
				}
			}, true},
		{"TTL and window", strings.ReplaceAll(strings.Replace(near, "client 10.0.0.1:40000", "client 10.0.0.1:40000 ttl=61", 1), "len=200", "len=200 win=999"),
			func(t *testing.T, pa *Path) {
				f := pa.Conns[0].Flows[1]
				if h := pathFindings(pa, f, PathTTL); len(h) != 1 || h[0].Hops != 3 {
					t.Errorf("ttl %+v", h)
				}
				if w := pathFindings(pa, f, PathWindowChanged); len(w) != 1 {
					t.Errorf("window %+v", w)
				}
			}, true},
		{"IPv6", "",
			nil, true},
		{"unrelated connections sharing a port", rewriteServerISN(rewriteClientISN(near, 30337), 4999),
			func(t *testing.T, pa *Path) {
				if len(pa.Conns) != 2 {
					t.Fatalf("%d connections, want 2 (not joined)", len(pa.Conns))
				}
				if u := pathFindings(pa, pa.Conns[0].Flows[0], PathUnjoined); len(u) != 1 {
					t.Errorf("unjoined %+v", u)
				}
			}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			nearText, farText := near, tc.far
			if tc.name == "IPv6" {
				nearText = strings.NewReplacer("10.0.0.1:40000", "[2001:db8::1]:40000", "192.0.2.80:443", "[2001:db8:80::1]:443").Replace(near)
				farText = strings.Replace(nearText, "[2001:db8::1]:40000", "[2001:db8:ffff::9]:40000", 1)
			}
			// The far point's clock runs 7 s behind, and the packets
			// take 1 ms on the way.
			farText = shiftTime(farText, "2025-12-31T23:59:53.001Z")
			pa := Correlate([]Point{
				pointOf(t, "near", fixture.Build(nearText)),
				pointOf(t, "far", fixture.Build(farText)),
			})
			if tc.joined {
				if len(pa.Conns) != 1 || pa.Conns[0].Flows[1] == nil {
					t.Fatalf("not joined: %d connections", len(pa.Conns))
				}
				if off := pa.Offset[1]; math.Abs(off+7) > 0.01 {
					t.Errorf("clock offset %.4f s, want -7", off)
				}
			}
			if tc.check != nil {
				tc.check(t, pa)
			}
		})
	}
}

// TestPathClockAhead checks the other sign: the later point's clock ahead.
func TestPathClockAhead(t *testing.T) {
	pa := Correlate([]Point{
		pointOf(t, "near", fixture.Build(pathConn)),
		pointOf(t, "far", fixture.Build(shiftTime(pathConn, "2026-01-01T00:10:00.001Z"))),
	})
	if off := pa.Offset[1]; math.Abs(off-600) > 0.01 {
		t.Errorf("clock offset %.4f s, want +600", off)
	}
	co := pathFindings(pa, pa.Conns[0].Flows[1], PathClockOffset)
	if len(co) != 1 || !strings.Contains(co[0].Message, "ahead of near") {
		t.Errorf("clock finding %+v", co)
	}
}

func shiftTime(text, to string) string {
	return strings.Replace(text, "time 2026-01-01T00:00:00Z", "time "+to, 1)
}

// rewriteClientISN moves the client's sequence numbers at the far point by
// an offset (and the server's acknowledgements with them), as a Cisco ASA
// does for the inside host.
func rewriteClientISN(text string, by uint32) string { return rewriteISN(text, " C>S ", " S>C ", by) }

// rewriteServerISN moves the server's sequence numbers, as
// rewriteClientISN the client's.
func rewriteServerISN(text string, by uint32) string { return rewriteISN(text, " S>C ", " C>S ", by) }

func rewriteISN(text, sender, receiver string, by uint32) string {
	var out []string
	for _, line := range strings.Split(text, "\n") {
		key := ""
		switch {
		case strings.Contains(line, sender):
			key = "seq="
		case strings.Contains(line, receiver):
			key = "ack="
		}
		if i := strings.Index(line, key); key != "" && i >= 0 {
			j := i + len(key)
			k := j
			for k < len(line) && line[k] >= '0' && line[k] <= '9' {
				k++
			}
			n, _ := strconv.ParseUint(line[j:k], 10, 32)
			line = line[:j] + strconv.FormatUint(uint64(uint32(n)+by), 10) + line[k:]
		}
		out = append(out, line)
	}
	return strings.Join(out, "\n")
}

// TestPathSnapLength: a point captured with a short snap length, whose SYN
// and SYN-ACK options were cut off, tells nothing about the options, so
// the other point's options are not "changed" (they were reported as MSS
// clamping and options changed before); at every snap length the seed's
// own path findings stay.
func TestPathSnapLength(t *testing.T) {
	dir := t.TempDir()
	for _, snap := range snapLens {
		cut := snapCopy(t, "../testdata/seed-client.pcap", snap, dir)
		pa := Correlate([]Point{pointFile(t, "client", cut), pointFile(t, "fw-inside", "../testdata/seed-inside.pcap")})
		if len(pa.Conns) != 1 || pa.Conns[0].Flows[0] == nil || pa.Conns[0].Flows[1] == nil {
			t.Fatalf("-s %d: not one connection seen at both points", snap)
		}
		for _, f := range pa.Conns[0].Flows {
			for _, code := range []PathCode{PathMSSChanged, PathOptionsChanged} {
				if fs := pathFindings(pa, f, code); len(fs) > 0 {
					t.Errorf("-s %d: %+v", snap, fs)
				}
			}
		}
		if added := pathFindings(pa, pa.Conns[0].Flows[0], PathPayloadAdded); len(added) == 0 || added[0].Bytes != 2 {
			t.Errorf("-s %d: payload_added %+v", snap, added)
		}
	}
}
