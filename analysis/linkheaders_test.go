package analysis

import (
	"bytes"
	"context"
	"encoding/binary"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/synscope/synscope/capture"
)

type byteOrder interface {
	binary.ByteOrder
	binary.AppendByteOrder
}

// nflogFrame wraps IP datagram d as tcpdump -i nflog:N writes it: the
// NFLOG header, a packet header attribute, the rule's log prefix and the
// payload, attribute headers in order o.
func nflogFrame(o byteOrder, prefix string, d []byte) []byte {
	b := []byte{2, 0, 0, 20} // AF_INET, version 0, resource id 20
	attr := func(typ uint16, v []byte) {
		b = o.AppendUint16(b, uint16(4+len(v)))
		b = o.AppendUint16(b, typ)
		b = append(b, v...)
		if typ != nflogPayload {
			b = append(b, make([]byte, (4-len(v)%4)%4)...)
		}
	}
	attr(1, []byte{0x08, 0x00, 1, 0}) // hw protocol IPv4, hook local in
	attr(nflogPrefix, append([]byte(prefix), 0))
	attr(nflogPayload, d)
	return b
}

// nflogCopy writes the seed client's packets, their IP datagrams wrapped
// as NFLOG frames, to a pcap.
func nflogCopy(t *testing.T, o byteOrder) []byte {
	return seedAs(t, LinkTypeNFLOG, func(f []byte) []byte {
		ip := f[14:]
		return nflogFrame(o, "DROP-FWD: ", ip[:binary.BigEndian.Uint16(ip[2:])]) // no Ethernet padding
	})
}

// TestNFLOG: a capture of Linux's netfilter log (tcpdump -i nflog:N, the
// packets a firewall rule logged) was "not decoded"; its TCP is now read
// as the same packets on Ethernet are, whichever byte order the capturing
// host wrote the attribute headers in.
func TestNFLOG(t *testing.T) {
	want, err := analyzeFile(filepath.Join("..", "testdata", "seed-client.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	var wantJSON bytes.Buffer
	want.Name = "x"
	want.WriteJSON(&wantJSON)
	for _, o := range []byteOrder{binary.LittleEndian, binary.BigEndian} {
		data := nflogCopy(t, o)
		r, err := capture.NewReader(bytes.NewReader(data), "x", int64(len(data)))
		if err != nil {
			t.Fatal(err)
		}
		res, err := Run(context.Background(), r, Config{Name: "x"})
		if err != nil || res.NotDecodedFrames != 0 {
			t.Fatalf("%v: %v, %q", o, err, res.NotDecodedNote())
		}
		var got bytes.Buffer
		res.WriteJSON(&got)
		// The bytes on the wire differ by the link headers.
		bytesKey := regexp.MustCompile(`("packets":\d+),"bytes":\d+`)
		norm := func(s string) string { return bytesKey.ReplaceAllString(s, `$1,"bytes":N`) }
		if norm(got.String()) != norm(wantJSON.String()) {
			t.Errorf("%v:\n got %s\nwant %s", o, got.String(), wantJSON.String())
		}
		if p, ok := NFLOGPrefix(nflogFrame(o, "DROP-FWD: ", []byte{0x45})); !ok || p != "DROP-FWD: " {
			t.Errorf("%v: prefix %q %v", o, p, ok)
		}
	}
	// The corpus's NFLOG capture (UDP only) is decoded whole, not counted
	// as undecoded.
	if res, err := analyzeFile(filepath.Join("..", "..", "shared", "corpus", "tcpdump-tests", "nflog.pcap")); err == nil && res.NotDecodedFrames != 0 {
		t.Errorf("nflog.pcap: %s", res.NotDecodedNote())
	} else if err != nil && !os.IsNotExist(err) {
		t.Errorf("nflog.pcap: %v", err)
	}
}

// TestNFLOGCut: an NFLOG frame the snap length ended before its packet is
// not captured, and says where: in the payload attribute's header (it
// said "stopped 30 bytes into its 31", a made-up length).
func TestNFLOGCut(t *testing.T) {
	full := nflogFrame(binary.LittleEndian, "DROP-FWD: ", make([]byte, 40))
	var out bytes.Buffer
	w, _ := capture.NewPcapWriter(&out, LinkTypeNFLOG, 30, false)
	w.WritePacket(&capture.Record{Timestamp: 1, CapLen: 30, OrigLen: uint32(len(full)), Data: full[:30]})
	w.Flush()
	r, _ := capture.NewReader(bytes.NewReader(out.Bytes()), "x", int64(out.Len()))
	res, _ := Run(context.Background(), r, Config{Name: "x"})
	want := CaptureFinding{Frame: 1, Layer: "Linux NFLOG attribute", Offset: 28, Reason: "header not captured whole: the capture stopped 2 bytes into its 4, at byte 30 (snap length)"}
	if res.MalformedCount != 0 || res.UncapturedCount != 1 || res.Uncaptured[0] != want {
		t.Errorf("damaged %d, cut %d: %+v", res.MalformedCount, res.UncapturedCount, res.Uncaptured)
	}
}
