package capture

import (
	"bytes"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/gopacket/gopacket/layers"
)

// TestNextShortcutsSameRecords holds Next's shortcuts for mapped files
// (a little-endian classic pcap's records, a pcapng's enhanced packet
// blocks; epbFast's time stamps without stampNanos) to the general way:
// each file is read mapped, where the shortcuts take what they can, and
// as a stream, where they never run, and must give the same records,
// error and notes. The files mix records the shortcuts take with every
// kind they must leave to the general way: a sub-second field out of
// range, fewer bytes on the wire than captured, a pcap file header joined
// in, a damaged length, a record cut short at the end, an interface a
// packet names for the first time, time stamps before 1970 or past 2262,
// an offset, a binary resolution, direction flags, and a big-endian
// section after a little-endian one.
func TestNextShortcutsSameRecords(t *testing.T) {
	skipNoMapping(t)
	sec := int64(1_700_000_000)
	pcapOf := func(nano bool, lt uint32, extra ...[4]uint32) []byte {
		b := pcapFile(le, nano, lt, pkt{ts: sec*1e9 + 123_456_789, data: payload(1, 60)},
			pkt{ts: sec*1e9 + 999_999_999, data: payload(2, 1514), orig: 1600})
		for _, r := range extra { // seconds, sub-second, captured, on the wire
			b = le.AppendUint32(b, r[0])
			b = le.AppendUint32(b, r[1])
			b = le.AppendUint32(b, r[2])
			b = le.AppendUint32(b, r[3])
			b = append(b, payload(int(r[0]), int(min(r[2], 100)))...)
		}
		return b
	}
	joined := pcapOf(false, 1)
	joined = append(joined, pcapFile(le, false, 1, pkt{ts: sec * 1e9, data: payload(9, 70)})...)
	sll := pcapOf(true, uint32(layers.LinkTypeLinuxSLL))
	sll = append(sll, pcapFile(le, true, uint32(layers.LinkTypeLinuxSLL), pkt{ts: 5, data: append([]byte{0, 4}, payload(8, 40)...)})[24:]...)
	ng := (&ngWriter{}).shb(le).
		idb(layers.LinkTypeEthernet, 0).
		idb(layers.LinkTypeEthernet, 0, opt{optIfTsresol, []byte{9}}, opt{optIfTsoffset, le.AppendUint64(nil, 3600)}).
		idb(layers.LinkTypeLinuxSLL2, 0, opt{optIfTsresol, []byte{0x94}}).
		idb(layers.LinkTypeEthernet, 0, opt{optIfTsresol, []byte{3}}).
		epb(0, pkt{ts: sec * 1e6, data: payload(1, 60)}).
		epb(1, pkt{ts: sec * 1e9, data: payload(2, 61)}).
		epb(0, pkt{ts: sec*1e6 + 1, data: payload(3, 62), orig: 40}).
		epb(2, pkt{ts: sec << 20, data: payload(4, 63)}, opt{optEpbFlags, le.AppendUint32(nil, 2)}).
		epb(0, pkt{ts: -1, data: payload(5, 64)}).                      // past 2262
		epb(3, pkt{ts: 1 << 62, data: payload(6, 65)}).                 // milliseconds, past 2262
		epb(0, pkt{ts: 1e16, data: payload(6, 65)}).                    // past 2262 in 64 bits unsigned
		epb(0, pkt{ts: sec*1e6 + 2, data: payload(7, 66), orig: 1500}). // after the odd ones
		shb(be).idb(layers.LinkTypeEthernet, 0).
		epb(0, pkt{ts: sec * 1e6, data: payload(8, 60)}).
		shb(le).idb(layers.LinkTypeEthernet, 0).
		epb(0, pkt{ts: sec*1e6 + 3, data: payload(9, 60)}).b
	files := map[string][]byte{
		"micro.pcap": pcapOf(false, 1,
			[4]uint32{uint32(sec), 1_000_000, 20, 20},     // sub-second out of range
			[4]uint32{uint32(sec), 5, 30, 10},             // fewer on the wire
			[4]uint32{uint32(sec), 6, 40, 40},             // ordinary again
			[4]uint32{0xa1b2c3d4, 7, 20, 20},              // seconds that look like a magic number
			[4]uint32{uint32(sec), 8, MaxCapLen + 1, 100}, // damage
		),
		"nano.pcap":       pcapOf(true, 1, [4]uint32{uint32(sec), 999_999_999, 20, 20}, [4]uint32{uint32(sec), 1e9, 20, 20}, [4]uint32{uint32(sec), 9, 100, 100}),
		"joined.pcap":     joined,
		"sll.pcap":        sll,
		"sections.pcapng": ng,
		"cut.pcapng":      ng[:len(ng)-30],
	}
	for name, data := range files {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), name)
			if err := os.WriteFile(path, data, 0o600); err != nil {
				t.Fatal(err)
			}
			mapped := openMapped(t, path)
			if filepath.Ext(name) == ".pcap" && mapped.plain == nil || filepath.Ext(name) == ".pcapng" && !mapped.plainNG {
				t.Fatal("the shortcut is off for this file: the test would not exercise it")
			}
			stream, err := NewReader(bytes.NewReader(data), path, int64(len(data)))
			if err != nil {
				t.Fatal(err)
			}
			got, gerr := readRecords(mapped)
			want, werr := readRecords(stream)
			if len(want) < 3 {
				t.Fatalf("%d records: the file is not what the test means", len(want))
			}
			checkRecords(t, got, want)
			if (gerr == nil) != (werr == nil) || gerr != nil && gerr.Error() != werr.Error() {
				t.Errorf("mapped: %v, stream: %v", gerr, werr)
			}
			if g, w := mapped.Notes(), stream.Notes(); !slices.Equal(g, w) {
				t.Errorf("mapped notes %q, stream notes %q", g, w)
			}
			if name != "sections.pcapng" {
				return
			}
			// stamp serves both ways: its times, against what they are.
			var times []int64
			for _, rec := range got {
				times = append(times, rec.Timestamp)
			}
			if want := []int64{sec * 1e9, (sec + 3600) * 1e9, sec*1e9 + 1000, sec * 1e9, math.MaxInt64, math.MaxInt64, math.MaxInt64,
				sec*1e9 + 2000, sec * 1e9, sec*1e9 + 3000}; !slices.Equal(times, want) {
				t.Errorf("times %v, want %v", times, want)
			}
		})
	}
}

// readRecords reads r to its end and returns copies of its records and
// the error that ended the reading (nil at a clean end).
func readRecords(r *Reader) ([]Record, error) {
	var recs []Record
	for {
		rec, err := r.Next()
		if err != nil {
			if err == io.EOF {
				err = nil
			}
			return recs, err
		}
		recs = append(recs, copyRecord(rec))
	}
}

// TestMappedPointSameRecords: a Reader of one capture point passes over
// the other points' records, which Next's shortcuts would not. Whether
// the point is selected before the file is mapped (OpenPoint, then
// MapInput, as Run does) or after, the mapped Reader gives the records a
// stream gives.
func TestMappedPointSameRecords(t *testing.T) {
	skipNoMapping(t)
	mark := func(k, n int, name string) []opt { return []opt{{optComment, []byte(PointComment(k, n, name))}} }
	w := (&ngWriter{}).shb(le).
		idb(layers.LinkTypeEthernet, 0, mark(1, 2, "a")...).
		idb(layers.LinkTypeEthernet, 0, mark(2, 2, "b")...)
	for i := range 8 {
		w.epb(uint32(i%2), pkt{ts: int64(i), data: payload(i, 60+i)})
	}
	path := filepath.Join(t.TempDir(), "points.pcapng")
	if err := os.WriteFile(path, w.b, 0o600); err != nil {
		t.Fatal(err)
	}
	for i, name := range []string{"a", "b"} {
		stream, err := OpenPoint(t.Context(), path, name)
		if err != nil {
			t.Fatal(err)
		}
		want, werr := readRecords(stream)
		stream.Close()
		if werr != nil || len(want) != 4 {
			t.Fatalf("point %s: %d records, %v; want 4", name, len(want), werr)
		}
		before, err := OpenPoint(t.Context(), path, name)
		if err != nil {
			t.Fatal(err)
		}
		after := openMapped(t, path)
		if !before.MapInput() || !after.plainNG {
			t.Fatal("not mapped")
		}
		if err := after.SelectPoint(i); err != nil {
			t.Fatal(err)
		}
		for how, r := range map[string]*Reader{"selected, then mapped": before, "mapped, then selected": after} {
			got, err := readRecords(r)
			if err != nil {
				t.Fatalf("point %s, %s: %v", name, how, err)
			}
			checkRecords(t, got, want)
		}
		before.Close()
	}
}
