package analysis

import (
	"bytes"
	"context"
	"encoding/binary"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/gopacket/gopacket/layers"

	"github.com/synscope/synscope/capture"
)

// pktapFrame puts a 108-byte PKTAP header (interface en0, process 512
// "curl") before Ethernet frame f, as macOS's tcpdump -i pktap writes it.
func pktapFrame(f []byte) []byte {
	h := make([]byte, 108)
	le := binary.LittleEndian
	le.PutUint32(h[0:], 108)
	le.PutUint32(h[4:], 1) // a packet
	le.PutUint32(h[8:], 1) // Ethernet
	copy(h[12:], "en0")
	le.PutUint32(h[52:], 512)
	copy(h[56:], "curl")
	return append(h, f...)
}

// TestPKTAP: a macOS capture with process and interface metadata (tcpdump
// -i pktap; link type 258, or 149 as macOS wrote it) was "not decoded";
// its TCP is read as the same frames without the header are. A frame of
// link type 149 that is no PKTAP stays undecoded.
func TestPKTAP(t *testing.T) {
	want, err := analyzeFile(filepath.Join("..", "testdata", "seed-client.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	want.Name = "x"
	var wantJSON bytes.Buffer
	want.WriteJSON(&wantJSON)
	bytesKey := regexp.MustCompile(`("packets":\d+),"bytes":\d+`)
	norm := func(s string) string { return bytesKey.ReplaceAllString(s, `$1,"bytes":N`) }
	for _, lt := range []layers.LinkType{LinkTypePKTAP, linkTypeUser2} {
		data := seedAs(t, lt, pktapFrame)
		r, err := capture.NewReader(bytes.NewReader(data), "x", int64(len(data)))
		if err != nil {
			t.Fatal(err)
		}
		res, err := Run(context.Background(), r, Config{Name: "x"})
		if err != nil || res.NotDecodedFrames != 0 {
			t.Fatalf("link type %d: %v, %q", lt, err, res.NotDecodedNote())
		}
		var got bytes.Buffer
		res.WriteJSON(&got)
		if norm(got.String()) != norm(wantJSON.String()) {
			t.Errorf("link type %d:\n got %s\nwant %s", lt, got.String(), wantJSON.String())
		}
	}
	h, ok := ParsePKTAP(pktapFrame(nil))
	if !ok || h != (PKTAP{HeaderLen: 108, LinkType: layers.LinkTypeEthernet, Interface: "en0", PID: 512, Command: "curl"}) {
		t.Errorf("ParsePKTAP = %+v, %v", h, ok)
	}
	// User link type 2 holding something else.
	data := seedAs(t, linkTypeUser2, func(f []byte) []byte { return f })
	r, _ := capture.NewReader(bytes.NewReader(data), "x", int64(len(data)))
	if res, _ := Run(context.Background(), r, Config{Name: "x"}); res.NotDecodedFrames != 12 || len(res.Flows) != 0 {
		t.Errorf("user 2 without PKTAP: %d flows, %q", len(res.Flows), res.NotDecodedNote())
	}
}

// seedAs writes the seed client's frames, each passed through wrap, as a
// pcap of link type lt.
func seedAs(t *testing.T, lt layers.LinkType, wrap func([]byte) []byte) []byte {
	t.Helper()
	r, err := capture.Open(filepath.Join("..", "testdata", "seed-client.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var out bytes.Buffer
	w, err := capture.NewPcapWriter(&out, lt, 65535, false)
	if err != nil {
		t.Fatal(err)
	}
	for {
		rec, err := r.Next()
		if err != nil {
			break
		}
		c := *rec
		c.Data = wrap(append([]byte(nil), rec.Data...))
		c.CapLen, c.OrigLen = uint32(len(c.Data)), uint32(len(c.Data))
		if err := w.WritePacket(&c); err != nil {
			t.Fatal(err)
		}
	}
	w.Flush()
	return out.Bytes()
}

// TestPKTAPCut: a PKTAP frame the snap length cut inside its header (-s
// 100 of macOS's 156 bytes) is not captured, not damaged ("record type 1:
// not a packet record", said of a packet record).
func TestPKTAPCut(t *testing.T) {
	full := pktapFrame(make([]byte, 60))
	le := binary.LittleEndian
	le.PutUint32(full[0:], 156) // macOS's header, longer than 108
	var out bytes.Buffer
	w, _ := capture.NewPcapWriter(&out, LinkTypePKTAP, 100, false)
	w.WritePacket(&capture.Record{Timestamp: 1, CapLen: 100, OrigLen: uint32(len(full) + 48), Data: full[:100]})
	w.Flush()
	r, _ := capture.NewReader(bytes.NewReader(out.Bytes()), "x", int64(out.Len()))
	res, _ := Run(context.Background(), r, Config{Name: "x"})
	if res.MalformedCount != 0 || res.UncapturedCount != 1 || res.Uncaptured[0].Layer != "PKTAP" {
		t.Errorf("damaged %d, cut %d (%+v)", res.MalformedCount, res.UncapturedCount, res.Uncaptured)
	}
}
