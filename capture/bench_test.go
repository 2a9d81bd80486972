package capture

import (
	"bytes"
	"io"
	"testing"
)

// BenchmarkReader reads generated captures of 20,000 packets of 54 to 1513
// bytes from memory. One op is one packet (a call to Next); the file is
// opened again when it ends, which the many packets amortise, so allocs/op
// shows the per-packet allocations: none.
func BenchmarkReader(b *testing.B) {
	const n = 20000
	pc, ng := manyPackets(n)
	for _, bc := range []struct {
		name string
		data []byte
	}{
		{"pcap", pc},
		{"pcapng", ng},
		{"pcapng-gzip", gz(b, ng)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(ng)) / n) // bytes of the uncompressed capture per packet
			var r *Reader
			open := func() {
				var err error
				r, err = NewReader(bytes.NewReader(bc.data), bc.name, int64(len(bc.data)))
				if err != nil {
					b.Fatal(err)
				}
			}
			open()
			for b.Loop() {
				_, err := r.Next()
				if err == io.EOF {
					open()
					_, err = r.Next()
				}
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "packets/s")
		})
	}
}

// BenchmarkRereader re-reads packets of a file at random offsets.
func BenchmarkRereader(b *testing.B) {
	_, ng := manyPackets(5000)
	r, err := NewReader(bytes.NewReader(ng), "bench", int64(len(ng)))
	if err != nil {
		b.Fatal(err)
	}
	var offsets []int64
	for {
		rec, err := r.Next()
		if err != nil {
			break
		}
		offsets = append(offsets, rec.Offset)
	}
	rr, err := r.Rereader()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i = (i + 7919) % len(offsets)
		if _, err := rr.ReadAt(offsets[i], uint64(i+1)); err != nil {
			b.Fatal(err)
		}
	}
}
