package capture

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"testing"
)

// TestGzipTrailing appends bytes that are not gzip to a compressed capture
// (the review's "printf garbage | cat c.pcap.gz -"). They were called
// "record header truncated: 0 of 16 bytes (compressed data ends)" when
// fewer than gzip's 10-byte header, and an invalid gzip header when more:
// neither says what is there. Every frame before them comes out; the end is
// still damage (the input is not what it claims), named as what it is.
func TestGzipTrailing(t *testing.T) {
	plain := pcapFile(le, false, 1, testPackets...)
	whole := gz(t, plain)
	n := len(whole)
	// A member that ends inside a record (the second's data, at byte
	// 100): the record is cut, and then comes the junk.
	const second = pcapFileHeaderLen + 16 + 60
	cut := second + 16 + 100
	cutMember := gz(t, plain[:cut])
	for _, tc := range []struct {
		name   string
		data   []byte
		size   int64 // -1: as from a pipe
		frames int
		want   string
	}{
		{"7 bytes", append(bytes.Clone(whole), "garbage"...), -2, len(testPackets),
			fmt.Sprintf("t.gz: damaged at byte %d after frame %d: 7 bytes after the end of the gzip data (bytes %d-%d of the input) are not gzip", len(plain), len(testPackets), n, n+6)},
		{"1 byte", append(bytes.Clone(whole), 'x'), -2, len(testPackets),
			fmt.Sprintf("t.gz: damaged at byte %d after frame %d: 1 byte after the end of the gzip data (byte %d of the input) is not gzip", len(plain), len(testPackets), n)},
		{"16 bytes", append(bytes.Clone(whole), "trailing garbage"...), -2, len(testPackets),
			fmt.Sprintf("t.gz: damaged at byte %d after frame %d: 16 bytes after the end of the gzip data (bytes %d-%d of the input) are not gzip", len(plain), len(testPackets), n, n+15)},
		{"pipe", append(bytes.Clone(whole), "garbage"...), -1, len(testPackets),
			fmt.Sprintf("t.gz: damaged at byte %d after frame %d: the bytes after the end of the gzip data (from byte %d of the input) are not gzip", len(plain), len(testPackets), n)},
		{"inside a record", append(bytes.Clone(cutMember), "garbage"...), -2, 1,
			fmt.Sprintf("t.gz: damaged at byte %d after frame 1: packet data truncated: 100 of 1514 bytes (the gzip data ends there, followed by 7 bytes that are not gzip, from byte %d of the input)",
				second, len(cutMember))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			size := tc.size
			if size == -2 {
				size = int64(len(tc.data))
			}
			r, err := NewReader(struct{ io.Reader }{bytes.NewReader(tc.data)}, "t.gz", size)
			if err != nil {
				t.Fatal(err)
			}
			frames := 0
			for {
				if _, err = r.Next(); err != nil {
					break
				}
				frames++
			}
			var de *DamageError
			if frames != tc.frames || !errors.As(err, &de) {
				t.Fatalf("%d frames, %v; want %d and a DamageError", frames, err, tc.frames)
			}
			if err.Error() != tc.want {
				t.Errorf("got  %s\nwant %s", err, tc.want)
			}
		})
	}
	// Members one after the other are one stream, whatever their
	// number, with nothing after them.
	three := append(append(gz(t, plain[:30]), gz(t, plain[30:100])...), gz(t, plain[100:])...)
	recs, _, err := readAll(t, three, "three.gz")
	if err != nil || len(recs) != len(testPackets) {
		t.Errorf("three members: %d records, %v", len(recs), err)
	}
	// A member whose gzip header is cut after its magic is truncation.
	recs, _, err = readAll(t, append(bytes.Clone(whole), 0x1f, 0x8b, 8), "cut.gz")
	if !errors.Is(err, io.ErrUnexpectedEOF) || len(recs) != len(testPackets) || !bytes.Contains([]byte(err.Error()), []byte("(compressed data ends)")) {
		t.Errorf("a cut member: %d records, %v", len(recs), err)
	}
}
