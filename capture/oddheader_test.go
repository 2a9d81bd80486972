package capture

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/gopacket/gopacket/layers"
)

// oddPcap is a microsecond pcap of three 20-byte records: the second's
// sub-second field is 1000000 and the third's 2147483648 (as the corpus's
// timestamp_invalid_micro.pcap), and the third claims 10 bytes on the wire.
func oddPcap() []byte {
	le := binary.LittleEndian
	b := le.AppendUint32(nil, magicPcap)
	b = le.AppendUint16(b, 2)
	b = le.AppendUint16(b, 4)
	b = le.AppendUint32(b, 0)
	b = le.AppendUint32(b, 0)
	b = le.AppendUint32(b, 65535)
	b = le.AppendUint32(b, 1)
	for _, r := range [][3]uint32{{999999, 20, 20}, {1000000, 20, 20}, {2147483648, 20, 10}} {
		b = le.AppendUint32(b, 1418145369)
		b = le.AppendUint32(b, r[0])
		b = le.AppendUint32(b, r[1])
		b = le.AppendUint32(b, r[2])
		b = append(b, make([]byte, r[1])...)
	}
	return b
}

// TestOddRecordHeaders: a sub-second field out of range (a 35-minute
// handshake RTT in the JSON record), and fewer bytes on the wire than
// captured, were read without a word; both are read as before, and noted,
// from a mapped file and from a stream alike.
func TestOddRecordHeaders(t *testing.T) {
	data := oddPcap()
	path := filepath.Join(t.TempDir(), "odd.pcap")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"2 frames have a time stamp whose microseconds field is out of range (the first, frame 2: 1000000; at most 999999): added to the seconds as they are, so their times are off",
		"frame 3 claims fewer bytes on the wire (10) than it holds: read as its captured length",
	}
	fromFile, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fromFile.Close()
	fromStream, err := NewReader(bytes.NewReader(data), "odd.pcap", int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	for name, r := range map[string]*Reader{"file": fromFile, "stream": fromStream} {
		var times []int64
		for {
			rec, err := r.Next()
			if err != nil {
				break
			}
			times = append(times, rec.Timestamp)
			if rec.Frame == 3 && rec.OrigLen != 20 {
				t.Errorf("%s: frame 3 OrigLen %d, want 20", name, rec.OrigLen)
			}
		}
		if base := int64(1418145369) * 1e9; !slices.Equal(times, []int64{base + 999999000, base + 1e9, base + 2147483648000}) {
			t.Errorf("%s: times %v", name, times)
		}
		if got := r.Notes(); !slices.Equal(got, want) {
			t.Errorf("%s: notes\n%q\nwant\n%q", name, got, want)
		}
	}
}

// TestOddPcapngLength: an Enhanced Packet Block claiming fewer original
// bytes than it holds is noted too, from a mapped file (the fast path)
// and from a stream (the general one), in either byte order.
func TestOddPcapngLength(t *testing.T) {
	want := []string{"2 frames claim fewer bytes on the wire than they hold (the first, frame 2: 40): read as their captured length"}
	for _, o := range []byteOrder{le, be} {
		data := (&ngWriter{}).shb(o).idb(layers.LinkTypeEthernet, 0).
			epb(0, pkt{ts: 1, data: payload(1, 60)}).
			epb(0, pkt{ts: 2, data: payload(2, 60), orig: 40}).
			epb(0, pkt{ts: 3, data: payload(3, 60), orig: 50}).b
		_, r, err := readAll(t, data, "odd.pcapng")
		if err != nil {
			t.Fatal(err)
		}
		if got := r.Notes(); !slices.Equal(got, want) {
			t.Errorf("stream: notes %q, want %q", got, want)
		}
		path := filepath.Join(t.TempDir(), "odd.pcapng")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		f, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		for {
			if _, err := f.Next(); err != nil {
				break
			}
		}
		if got := f.Notes(); !slices.Equal(got, want) {
			t.Errorf("file: notes %q, want %q", got, want)
		}
		f.Close()
	}
}
