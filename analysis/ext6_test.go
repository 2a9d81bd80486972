package analysis

import (
	"bytes"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/synscope/synscope/capture"
	"github.com/synscope/synscope/capture/fixture"
)

// jumbogram is a connection over IPv6 whose request is a jumbogram (RFC
// 2675): IPv6 payload length 0, the length in the hop-by-hop header's
// Jumbo Payload option. The 4 bytes after it are not the datagram's.
const jumbogram = `
snaplen 262144
client [2001:db8::1]:40000
server [2001:db8::2]:443
+0    C>S S  mss=1440
+0.01 S>C SA mss=1440
+0.01 C>S A
+0.01 C>S PA len=70000 hbh=jumbo pad=hex:0badcafe
+0.01 S>C A
+0.01 C>S PA len=10 hbh=ra
`

// decodeRecords decodes every frame of a capture held in data.
func decodeRecords(t *testing.T, name string, data []byte) ([]*capture.Record, []Packet) {
	t.Helper()
	r, err := capture.NewReader(bytes.NewReader(data), name, int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	d := NewDecoder()
	var recs []*capture.Record
	var pkts []Packet
	for {
		rec, err := r.Next()
		if err != nil {
			break
		}
		c := *rec
		c.Data = bytes.Clone(rec.Data)
		var p Packet
		d.Decode(&c, &p)
		recs, pkts = append(recs, &c), append(pkts, p)
	}
	return recs, pkts
}

// TestIPv6ExtensionHeadersSameSegments: seed-client-ipv6ext is
// seed-client-ipv6 with hop-by-hop, routing and destination options
// headers, and the same TCP segments: frame for frame, they must decode
// alike, and the TCP header be where the decoder says. gopacket keeps a
// hop-by-hop header inside its IPv6 layer, and the decoder counted its
// bytes in the TCP segment: the SYN carried 8 bytes, the SYN-ACK 10, the
// ACK was a retransmission.
func TestIPv6ExtensionHeadersSameSegments(t *testing.T) {
	plain, err := os.ReadFile("../testdata/seed-client-ipv6.pcap")
	if err != nil {
		t.Fatal(err)
	}
	ext, err := os.ReadFile("../testdata/seed-client-ipv6ext.pcap")
	if err != nil {
		t.Fatal(err)
	}
	_, want := decodeRecords(t, "plain", plain)
	recs, got := decodeRecords(t, "ext", ext)
	var segs []Packet
	for i, p := range got {
		if !p.HasTCP {
			if !p.Fragment {
				t.Errorf("frame %d: no TCP, and not a fragment: %s", i+1, p.MalformedReason)
			}
			continue
		}
		if p.MalformedLayer != "" {
			t.Errorf("frame %d: %s damaged: %s", i+1, p.MalformedLayer, p.MalformedReason)
		}
		if o := p.TCPOffset; o >= 0 {
			h := recs[i].Data[o:]
			if binary.BigEndian.Uint16(h) != p.SrcPort || binary.BigEndian.Uint32(h[4:]) != p.Seq {
				t.Errorf("frame %d: the bytes at TCP offset %d are not the header of port %d, seq %d", i+1, o, p.SrcPort, p.Seq)
			}
		}
		segs = append(segs, p)
	}
	if len(segs) != len(want) {
		t.Fatalf("%d TCP segments, want %d", len(segs), len(want))
	}
	type facts struct {
		Seq, Ack            uint32
		Flags               uint8
		HeaderLen, Payload  int
		Bytes               []byte
		Checksum            Check
		Opts                Options
		SrcPort, DstPort    uint16
		TrafficClass, Limit uint8
	}
	of := func(p Packet) facts {
		return facts{p.Seq, p.Ack, p.Flags, p.HeaderLen, p.PayloadLen, p.Payload, p.TCPChecksum, p.Opts, p.SrcPort, p.DstPort, p.TOS, p.TTL}
	}
	for i := range want {
		if g, w := of(segs[i]), of(want[i]); !reflect.DeepEqual(g, w) {
			t.Errorf("segment %d:\n got %+v\nwant %+v", i+1, g, w)
		}
	}
}

// TestJumbogram: the TCP segment of a jumbogram is as long as its Jumbo
// Payload option says, less the hop-by-hop and TCP headers, and what the
// frame holds after it is not the segment's.
func TestJumbogram(t *testing.T) {
	recs, pkts := decodeRecords(t, "jumbo.pcap", fixture.Build(jumbogram))
	if len(pkts) != 6 {
		t.Fatalf("%d frames, want 6", len(pkts))
	}
	p := pkts[3]
	if plen := binary.BigEndian.Uint16(recs[3].Data[14+4:]); plen != 0 {
		t.Fatalf("the fixture's jumbogram has payload length %d, want 0", plen)
	}
	if !p.HasTCP || p.PayloadLen != 70000 || len(p.Payload) != 70000 || p.TCPChecksum != CheckGood || p.Truncated {
		t.Errorf("jumbogram: payload %d (%d captured), checksum %v, truncated %v; want 70000, good, whole",
			p.PayloadLen, len(p.Payload), p.TCPChecksum, p.Truncated)
	}
	if p.IPTotalLen != 40+8+20+70000 || !bytes.Equal(p.Padding, []byte{0x0b, 0xad, 0xca, 0xfe}) {
		t.Errorf("IP length %d, after it % x; want %d and 0b ad ca fe", p.IPTotalLen, p.Padding, 40+8+20+70000)
	}
	res, err := Run(t.Context(), mustReader(t, fixture.Build(jumbogram)), Config{Name: "jumbo.pcap"})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Flows) != 1 || len(res.Flows[0].Findings) != 0 {
		t.Errorf("%d flows, findings %v; want one flow without findings", len(res.Flows), res.Flows[0].Findings)
	}
}

func mustReader(t *testing.T, data []byte) *capture.Reader {
	t.Helper()
	r, err := capture.NewReader(bytes.NewReader(data), "c.pcap", int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestIPv6ExtensionHeadersAgainstTshark holds every TCP segment behind
// IPv6 extension headers to tshark: its length, header length, checksum
// verdict and timestamps, on the fixture, the jumbogram above and the
// corpus's BIG TCP capture (a 80094-byte jumbogram, where the decoder
// said "80008 bytes (80000 captured)", reserved bits set and the options
// damaged).
func TestIPv6ExtensionHeadersAgainstTshark(t *testing.T) {
	tshark := tsharkPath(t)
	jumbo := filepath.Join(t.TempDir(), "jumbo.pcap")
	if err := os.WriteFile(jumbo, fixture.Build(jumbogram), 0o644); err != nil {
		t.Fatal(err)
	}
	files := []string{"../testdata/seed-client-ipv6ext.pcap", jumbo}
	if _, err := os.Stat(corpusDir + "/bigtcp-ipv6-hbh.pcap"); err == nil {
		files = append(files, corpusDir+"/bigtcp-ipv6-hbh.pcap")
	} else {
		skipOrFail(t, "SYNSCOPE_REQUIRE_CORPUS", "capture corpus not found at "+corpusDir)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			_, pkts := decodeRecords(t, file, data)
			cmd := exec.Command(tshark, "-n", "-r", file, "-o", "tcp.check_checksum:TRUE",
				"-T", "fields", "-E", "separator=/t", "-e", "frame.number", "-e", "tcp.len", "-e", "tcp.hdr_len",
				"-e", "tcp.checksum.status", "-e", "tcp.options.timestamp.tsval", "-e", "tcp.flags.res")
			cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("tshark: %v", err)
			}
			n := 0
			for line := range strings.SplitSeq(strings.TrimRight(string(out), "\n"), "\n") {
				c := strings.Split(line, "\t")
				frame, _ := strconv.Atoi(c[0])
				if frame < 1 || frame > len(pkts) || c[1] == "" {
					continue // an earlier fragment
				}
				p := pkts[frame-1]
				ts := ""
				if p.Opts.HasTS {
					ts = strconv.FormatUint(uint64(p.Opts.TSVal), 10)
				}
				sum := map[Check]string{CheckGood: "1", CheckBad: "0", CheckUnverified: "2"}[p.TCPChecksum]
				res := "?"
				if o := p.TCPOffset; o >= 0 {
					res = "0" // tshark's tcp.flags.res: set or not
					if data[o+12]&0x0e != 0 {
						res = "1"
					}
				}
				got := []string{strconv.Itoa(p.PayloadLen), strconv.Itoa(p.HeaderLen), sum, ts, res}
				want := c[1:6]
				if p.TCPOffset < 0 {
					want[4] = "?" // reassembled: not in the frame's bytes
				}
				if strings.Join(got, " ") != strings.Join(want, " ") {
					t.Errorf("frame %d: length, header, checksum, tsval, reserved %q; tshark %q", frame, got, want)
				}
				n++
			}
			if n == 0 {
				t.Errorf("tshark shows no TCP segment")
			}
		})
	}
}
