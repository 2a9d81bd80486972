package capture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/layers"
)

var (
	le = binary.LittleEndian
	be = binary.BigEndian
)

// checkOneLine fails unless err is a one-line error naming name.
func checkOneLine(t *testing.T, err error, name string) {
	t.Helper()
	if err == nil {
		return
	}
	msg := err.Error()
	if strings.ContainsAny(msg, "\r\n") || !strings.HasPrefix(msg, name+": ") {
		t.Errorf("error %q is not one line starting with %q", msg, name+": ")
	}
}

// checkRecords compares records with what was expected.
func checkRecords(t *testing.T, got, want []Record) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d records, want %d", len(got), len(want))
	}
	for i := range got {
		if !sameRecord(got[i], want[i]) {
			g, w := got[i], want[i]
			g.Data, w.Data = nil, nil
			t.Errorf("record %d:\n got %+v data %x\nwant %+v data %x", i, g, got[i].Data, w, want[i].Data)
		}
	}
}

// testPackets are the packets most tests write: ordinary, full-size, empty
// with a longer original, and one at the epoch.
var testPackets = []pkt{
	{ts: 1_700_000_000_123_456_789, data: payload(1, 60)},
	{ts: 1_700_000_001_000_001_000, data: payload(2, 1514)},
	{ts: 1_700_000_002_999_999_999, data: nil, orig: 100},
	{ts: 0, data: payload(4, 3), orig: 1500},
}

// pcapRecords returns what reading pcapFile(o, nano, 1, pkts...) gives.
func pcapRecords(nano bool, hdrLen int, pkts []pkt) []Record {
	var recs []Record
	off := int64(pcapFileHeaderLen)
	for i, p := range pkts {
		ts := p.ts
		if !nano {
			ts -= ts % 1000
		}
		recs = append(recs, Record{
			Frame: uint64(i + 1), Offset: off, Timestamp: ts,
			CapLen: uint32(len(p.data)), OrigLen: p.origLen(),
			LinkType: layers.LinkTypeEthernet, Data: p.data,
		})
		off += int64(hdrLen + len(p.data))
	}
	return recs
}

func TestPcapVariants(t *testing.T) {
	for _, tc := range []struct {
		name   string
		o      byteOrder
		nano   bool
		format string
	}{
		{"le-us", le, false, "pcap"},
		{"be-us", be, false, "pcap"},
		{"le-ns", le, true, "pcap-ns"},
		{"be-ns", be, true, "pcap-ns"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := pcapFile(tc.o, tc.nano, 1, testPackets...)
			recs, r, err := readAll(t, data, "x.pcap")
			if err != nil {
				t.Fatal(err)
			}
			checkRecords(t, recs, pcapRecords(tc.nano, 16, testPackets))
			if r.Format() != tc.format {
				t.Errorf("Format() = %q, want %q", r.Format(), tc.format)
			}
			if _, err := r.Next(); err != io.EOF {
				t.Errorf("Next after the end = %v, want io.EOF", err)
			}
			if r.BytesRead() != int64(len(data)) || r.Size() != int64(len(data)) {
				t.Errorf("BytesRead %d, Size %d, want %d", r.BytesRead(), r.Size(), len(data))
			}
			ifs := r.Interfaces()
			res := uint8(6)
			if tc.nano {
				res = 9
			}
			want := []Interface{{LinkType: layers.LinkTypeEthernet, SnapLen: 65535, TsResol: res, FCSLen: -1}}
			if len(ifs) != 1 || !reflect.DeepEqual(ifs[0], want[0]) {
				t.Errorf("Interfaces() = %+v, want %+v", ifs, want)
			}
		})
	}
}

func TestPcapModified(t *testing.T) {
	for _, o := range []byteOrder{le, be} {
		types := []uint8{sllHost, sllOutgoing, sllBroadcast, 6}
		data := modifiedPcapFile(o, types, testPackets...)
		recs, r, err := readAll(t, data, "m.pcap")
		if err != nil {
			t.Fatal(err)
		}
		want := pcapRecords(false, modifiedRecordHeadLen, testPackets)
		for i, d := range []Direction{DirInbound, DirOutbound, DirInbound, DirUnknown} {
			want[i].Direction = d
		}
		checkRecords(t, recs, want)
		if r.Format() != "pcap-modified" {
			t.Errorf("Format() = %q", r.Format())
		}
	}
}

func TestPcapHeaderFields(t *testing.T) {
	for _, tc := range []struct {
		name     string
		lt       uint32
		wantLT   layers.LinkType
		wantFCS  int
		version  [2]uint16
		swap     bool // record lengths written in pre-2.3 order
		wantErr  string
		caplen   uint32
		origlen  uint32
		wantCap  uint32
		wantOrig uint32
	}{
		{name: "fcs bits", lt: 0x14000001, wantLT: 1, wantFCS: 2, version: [2]uint16{2, 4}, caplen: 10, origlen: 20, wantCap: 10, wantOrig: 20},
		{name: "upper bits masked", lt: 0x30000084, wantLT: 0x84, wantFCS: -1, version: [2]uint16{2, 4}, caplen: 10, origlen: 20, wantCap: 10, wantOrig: 20},
		{name: "version 2.2 swapped", lt: 1, wantLT: 1, wantFCS: -1, version: [2]uint16{2, 2}, swap: true, caplen: 10, origlen: 20, wantCap: 10, wantOrig: 20},
		{name: "version 543.0 swapped", lt: 1, wantLT: 1, wantFCS: -1, version: [2]uint16{543, 0}, swap: true, caplen: 10, origlen: 20, wantCap: 10, wantOrig: 20},
		{name: "version 2.3 maybe swapped", lt: 1, wantLT: 1, wantFCS: -1, version: [2]uint16{2, 3}, swap: true, caplen: 10, origlen: 20, wantCap: 10, wantOrig: 20},
		{name: "version 2.3 not swapped", lt: 1, wantLT: 1, wantFCS: -1, version: [2]uint16{2, 3}, caplen: 10, origlen: 20, wantCap: 10, wantOrig: 20},
		{name: "caplen above origlen", lt: 1, wantLT: 1, wantFCS: -1, version: [2]uint16{2, 4}, caplen: 60, origlen: 40, wantCap: 60, wantOrig: 60},
		{name: "version 3.0", lt: 1, version: [2]uint16{3, 0}, wantErr: "t.pcap: unsupported pcap version 3.0"},
		{name: "version 1.0", lt: 1, version: [2]uint16{1, 0}, wantErr: "t.pcap: unsupported pcap version 1.0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := pcapFile(le, false, tc.lt, pkt{ts: 1e9, data: payload(1, int(tc.caplen)), orig: tc.origlen})
			le.PutUint16(data[4:], tc.version[0])
			le.PutUint16(data[6:], tc.version[1])
			if tc.swap {
				le.PutUint32(data[24+8:], tc.origlen)
				le.PutUint32(data[24+12:], tc.caplen)
			}
			recs, r, err := readAll(t, data, "t.pcap")
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(recs) != 1 {
				t.Fatalf("%d records", len(recs))
			}
			if recs[0].LinkType != tc.wantLT || r.Interfaces()[0].FCSLen != tc.wantFCS {
				t.Errorf("link type %d FCS %d, want %d %d", recs[0].LinkType, r.Interfaces()[0].FCSLen, tc.wantLT, tc.wantFCS)
			}
			if recs[0].CapLen != tc.wantCap || recs[0].OrigLen != tc.wantOrig || len(recs[0].Data) != int(tc.wantCap) {
				t.Errorf("caplen %d origlen %d, want %d %d", recs[0].CapLen, recs[0].OrigLen, tc.wantCap, tc.wantOrig)
			}
		})
	}
}

// multiSection builds a pcapng file of two sections, big-endian then
// little-endian, with three interfaces of different link types and time
// stamp resolutions, every packet block type and some blocks to skip. It
// returns the file and the records reading it must give.
func multiSection() ([]byte, []Record, []Interface) {
	w := &ngWriter{}
	var recs []Record
	add := func(rec Record) {
		rec.Frame = uint64(len(recs) + 1)
		recs = append(recs, rec)
	}
	w.shb(be, opt{4, []byte("synscope test")})
	w.idb(layers.LinkTypeEthernet, 65535, opt{optIfName, []byte("eth0")})
	w.idb(layers.LinkTypeRaw, 0, opt{optIfName, []byte("tun0\x00")}, opt{optIfDesc, []byte("tunnel")},
		opt{optIfTsresol, []byte{9}}, opt{optIfFilter, []byte("\x00tcp port 80")}, opt{optIfOS, []byte("Linux")})
	// Interface 0: microseconds, inbound.
	off := int64(len(w.b))
	p := pkt{ts: 1_700_000_000_123_456, data: payload(1, 60)}
	w.epb(0, p, flags(be, 1), opt{1, []byte("a comment")})
	add(Record{Offset: off, Timestamp: 1_700_000_000_123_456_000, CapLen: 60, OrigLen: 60,
		LinkType: layers.LinkTypeEthernet, Interface: 0, Direction: DirInbound, Data: p.data})
	// Interface 1: nanoseconds, outbound, cut by the snapshot.
	off = int64(len(w.b))
	p = pkt{ts: 1_700_000_000_123_456_789, data: payload(2, 41), orig: 1500}
	w.epb(1, p, flags(be, 2))
	add(Record{Offset: off, Timestamp: 1_700_000_000_123_456_789, CapLen: 41, OrigLen: 1500,
		LinkType: layers.LinkTypeRaw, Interface: 1, Direction: DirOutbound, Data: p.data})
	// Blocks to skip: name resolution, interface statistics, a custom
	// block, and an unknown type.
	w.block(4, []byte{0, 0, 0, 0})
	w.block(5, make([]byte, 12))
	w.block(0x00000bad, []byte("\x00\x00\x7f\xffcustom data"))
	w.block(0x12345678, nil)
	// A Simple Packet Block: interface 0, no time stamp, cut to the
	// snapshot length... of 65535, so not cut.
	off = int64(len(w.b))
	p = pkt{data: payload(3, 61), orig: 61}
	w.spb(p)
	add(Record{Offset: off, CapLen: 61, OrigLen: 61, LinkType: layers.LinkTypeEthernet, Data: p.data})
	// An obsolete Packet Block on interface 1 with pack_flags.
	off = int64(len(w.b))
	p = pkt{ts: 42, data: payload(4, 20)}
	w.pb(1, p, flags(be, 1))
	add(Record{Offset: off, Timestamp: 42, CapLen: 20, OrigLen: 20, LinkType: layers.LinkTypeRaw,
		Interface: 1, Direction: DirInbound, Data: p.data})

	// Second section, little-endian, its interface 0 is the third one
	// of the file: time stamps in 2^-20 s, offset by 1000 s.
	w.shb(le)
	w.idb(layers.LinkTypeNull, 128, opt{optIfTsresol, []byte{0x80 | 20}}, opt{optIfTsoffset, le.AppendUint64(nil, 1000)},
		opt{optIfFcslen, []byte{4}})
	off = int64(len(w.b))
	p = pkt{ts: 3<<20 | 1<<19, data: payload(5, 10)}
	w.epb(0, p)
	add(Record{Offset: off, Timestamp: 1003_500_000_000, CapLen: 10, OrigLen: 10, LinkType: layers.LinkTypeNull,
		Interface: 2, Data: p.data})
	// epb_flags with both direction bits set: unknown.
	off = int64(len(w.b))
	p = pkt{ts: 1 << 20, data: payload(6, 1)}
	w.epb(0, p, flags(le, 3))
	add(Record{Offset: off, Timestamp: 1001_000_000_000, CapLen: 1, OrigLen: 1, LinkType: layers.LinkTypeNull,
		Interface: 2, Data: p.data})
	// A Simple Packet Block longer than the snapshot length.
	off = int64(len(w.b))
	p = pkt{data: payload(7, 200)}
	w.spb(p)
	add(Record{Offset: off, CapLen: 128, OrigLen: 200, LinkType: layers.LinkTypeNull, Interface: 2, Data: p.data[:128]})

	ifaces := []Interface{
		{Index: 0, Section: 0, ID: 0, LinkType: layers.LinkTypeEthernet, SnapLen: 65535, TsResol: 6, FCSLen: -1, Name: "eth0"},
		{Index: 1, Section: 0, ID: 1, LinkType: layers.LinkTypeRaw, TsResol: 9, FCSLen: -1, Name: "tun0", Description: "tunnel", Filter: "tcp port 80", OS: "Linux"},
		{Index: 2, Section: 1, ID: 0, LinkType: layers.LinkTypeNull, SnapLen: 128, TsResol: 0x80 | 20, TsOffset: 1000, FCSLen: 4},
	}
	return w.b, recs, ifaces
}

func TestPcapngSections(t *testing.T) {
	data, want, wantIfaces := multiSection()
	recs, r, err := readAll(t, data, "multi.pcapng")
	if err != nil {
		t.Fatal(err)
	}
	checkRecords(t, recs, want)
	if r.Format() != "pcapng" {
		t.Errorf("Format() = %q", r.Format())
	}
	ifs := r.Interfaces()
	if len(ifs) != len(wantIfaces) {
		t.Fatalf("%d interfaces, want %d", len(ifs), len(wantIfaces))
	}
	for i := range ifs {
		if !reflect.DeepEqual(ifs[i], wantIfaces[i]) {
			t.Errorf("interface %d:\n got %+v\nwant %+v", i, ifs[i], wantIfaces[i])
		}
	}
	if r.BytesRead() != int64(len(data)) {
		t.Errorf("BytesRead() = %d, want %d", r.BytesRead(), len(data))
	}
}

// TestEmptySections checks sections without interfaces or packets. The
// Ethernet interface of the fifth section is described as the third's
// was: the two are one (Interface 0). The Raw one, which no packet names,
// is kept as the last section's (a capture without packets still says
// what it was).
func TestEmptySections(t *testing.T) {
	w := (&ngWriter{}).shb(le).shb(be).shb(le)
	w.idb(layers.LinkTypeEthernet, 0)
	off := len(w.b)
	w.epb(0, pkt{ts: 7, data: payload(1, 30)})
	w.shb(be).shb(be).idb(layers.LinkTypeRaw, 0).idb(layers.LinkTypeEthernet, 0)
	off2 := len(w.b)
	w.epb(1, pkt{ts: 8, data: payload(2, 30)})
	recs, r, err := readAll(t, w.b, "e.pcapng")
	if err != nil {
		t.Fatal(err)
	}
	checkRecords(t, recs, []Record{
		{Frame: 1, Offset: int64(off), Timestamp: 7000, CapLen: 30, OrigLen: 30, LinkType: layers.LinkTypeEthernet, Data: payload(1, 30)},
		{Frame: 2, Offset: int64(off2), Timestamp: 8000, CapLen: 30, OrigLen: 30, LinkType: layers.LinkTypeEthernet, Interface: 0, Data: payload(2, 30)},
	})
	ifs := r.Interfaces()
	if len(ifs) != 2 || ifs[0].Section != 2 || ifs[0].LinkType != layers.LinkTypeEthernet ||
		ifs[1].Section != 4 || ifs[1].ID != 0 || ifs[1].LinkType != layers.LinkTypeRaw {
		t.Errorf("interfaces %+v", ifs)
	}
}

func TestTicksToNanos(t *testing.T) {
	for _, tc := range []struct {
		ticks uint64
		resol uint8
		want  int64
	}{
		{1_000_000, 6, 1e9},
		{5, 9, 5},
		{7, 0, 7e9},
		{123, 10, 12},
		{1e19, 28, 1},
		{1 << 60, 29, 0},
		{1 << 63, 127, 0},
		{3<<20 | 1<<19, 0x80 | 20, 3_500_000_000},
		{1, 0x80, 1e9},
		{1, 0x80 | 1, 5e8},
		{1 << 40, 0x80 | 40, 1e9},
		{3, 0x80 | 64, 0},
		{1 << 63, 0x80 | 64, 5e8},
		{1 << 63, 0x80 | 127, 0},
		{^uint64(0), 0x80 | 63, 1_999_999_999},
	} {
		if got := ticksToNanos(tc.ticks, tc.resol); got != tc.want {
			t.Errorf("ticksToNanos(%d, %#x) = %d, want %d", tc.ticks, tc.resol, got, tc.want)
		}
	}
}

func TestGzip(t *testing.T) {
	ng, ngRecs, _ := multiSection()
	pc := pcapFile(be, true, 1, testPackets...)
	half := len(pc) / 2
	for _, tc := range []struct {
		name   string
		plain  []byte
		data   []byte
		format string
		want   []Record
	}{
		{"pcap", pc, gz(t, pc), "pcap-ns (gzip)", pcapRecords(true, 16, testPackets)},
		{"pcapng", ng, gz(t, ng), "pcapng (gzip)", ngRecs},
		// Two gzip members one after the other, as "cat a.gz b.gz"
		// makes: they form one stream.
		{"multi-member", pc, append(gz(t, pc[:half]), gz(t, pc[half:])...), "pcap-ns (gzip)", pcapRecords(true, 16, testPackets)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			recs, r, err := readAll(t, tc.data, "c.gz")
			if err != nil {
				t.Fatal(err)
			}
			checkRecords(t, recs, tc.want)
			if r.Format() != tc.format {
				t.Errorf("Format() = %q, want %q", r.Format(), tc.format)
			}
			if r.Size() != int64(len(tc.data)) || r.BytesRead() != r.Size() {
				t.Errorf("Size() %d, BytesRead() %d, want %d", r.Size(), r.BytesRead(), len(tc.data))
			}
		})
	}
}

func TestGzipCorrupt(t *testing.T) {
	data := gz(t, pcapFile(le, false, 1, testPackets...))
	// Flip a bit of the CRC-32 in the trailer: every packet comes out,
	// then the checksum error is damage.
	bad := bytes.Clone(data)
	bad[len(bad)-6] ^= 1
	recs, _, err := readAll(t, bad, "crc.gz")
	var de *DamageError
	if !errors.As(err, &de) || len(recs) != len(testPackets) {
		t.Errorf("got %d records and %v, want %d and a checksum DamageError", len(recs), err, len(testPackets))
	}
	checkOneLine(t, err, "crc.gz")
	// Garbage after the end of the gzip stream.
	recs, _, err = readAll(t, append(bytes.Clone(data), "trailing garbage"...), "tail.gz")
	if !errors.As(err, &de) || len(recs) != len(testPackets) {
		t.Errorf("got %d records and %v, want %d and a DamageError", len(recs), err, len(testPackets))
	}
	checkOneLine(t, err, "tail.gz")
}

// blockEnds returns the offsets at which a file may end cleanly: after the
// file header and after each record (pcap), after each block (pcapng).
func blockEnds(t *testing.T, data []byte) []int {
	t.Helper()
	var ends []int
	if binary.BigEndian.Uint32(data) == magicPcapng {
		bigEndian := false
		for off := 0; off < len(data); {
			if binary.BigEndian.Uint32(data[off:]) == blockSHB {
				bigEndian = binary.BigEndian.Uint32(data[off+8:]) == byteOrderMagic
			}
			off += int(u32(data[off+4:], bigEndian))
			ends = append(ends, off)
		}
		return ends
	}
	recs, _, err := readAll(t, data, "x")
	if err != nil {
		t.Fatal(err)
	}
	ends = append(ends, pcapFileHeaderLen)
	for i := 1; i < len(recs); i++ {
		ends = append(ends, int(recs[i].Offset))
	}
	return append(ends, len(data))
}

// TestTruncatedEverywhere cuts small files at every byte: the reader must
// return the records before the cut, then io.EOF if the cut falls between
// records, a DamageError naming the cut record otherwise.
func TestTruncatedEverywhere(t *testing.T) {
	ng, _, _ := multiSection()
	files := map[string][]byte{
		"pcap":     pcapFile(le, false, 1, testPackets...),
		"pcap-ns":  pcapFile(be, true, 1, testPackets[:2]...),
		"modified": modifiedPcapFile(be, []uint8{0, 4}, testPackets[:2]...),
		"pcapng":   ng,
	}
	for name, full := range files {
		t.Run(name, func(t *testing.T) {
			all, _, err := readAll(t, full, name)
			if err != nil {
				t.Fatal(err)
			}
			ends := blockEnds(t, full)
			for cut := 0; cut < len(full); cut++ {
				recs, _, err := readAll(t, full[:cut], name)
				checkOneLine(t, err, name)
				if len(recs) > len(all) {
					t.Fatalf("cut at %d: %d records from a file of %d", cut, len(recs), len(all))
				}
				checkRecords(t, recs, all[:len(recs)])
				if cut < ends[0] {
					// Inside the file header or first SHB.
					if err == nil {
						t.Errorf("cut at %d: no error", cut)
					}
					continue
				}
				prev := 0 // last clean end at or before the cut
				for _, e := range ends {
					if e <= cut {
						prev = e
					}
				}
				var de *DamageError
				switch {
				case prev == cut && err != nil:
					t.Errorf("cut at %d, a record boundary: %v", cut, err)
				case prev != cut && !errors.As(err, &de):
					t.Errorf("cut at %d: got %v, want a DamageError", cut, err)
				case prev != cut:
					if de.Offset != int64(prev) || de.Frame != uint64(len(recs)) || !errors.Is(err, io.ErrUnexpectedEOF) {
						t.Errorf("cut at %d: %v: want offset %d, frame %d, io.ErrUnexpectedEOF", cut, err, prev, len(recs))
					}
				}
			}
		})
	}
}

// TestTruncatedGzip cuts a compressed file at every byte: the records that
// come out must be right, and the end must be an error.
func TestTruncatedGzip(t *testing.T) {
	ng, want, _ := multiSection()
	data := gz(t, ng)
	for cut := 0; cut < len(data); cut++ {
		recs, _, err := readAll(t, data[:cut], "cut.gz")
		if err == nil {
			t.Fatalf("cut at %d of %d: no error", cut, len(data))
		}
		checkOneLine(t, err, "cut.gz")
		if len(recs) > len(want) {
			t.Fatalf("cut at %d: too many records", cut)
		}
		checkRecords(t, recs, want[:len(recs)])
	}
}

// allocated returns the bytes allocated while f runs.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestHugeLengths checks that lengths claimed by headers are capped and do
// not make the reader allocate what they claim.
func TestHugeLengths(t *testing.T) {
	good := pkt{ts: 1e9, data: payload(1, 60)}
	pcapWith := func(caplen uint32, data []byte) []byte {
		b := pcapFile(le, false, 1, good)
		b = le.AppendUint32(b, 2)
		b = le.AppendUint32(b, 0)
		b = le.AppendUint32(b, caplen)
		b = le.AppendUint32(b, caplen)
		return append(b, data...)
	}
	ngWith := func(f func(w *ngWriter)) []byte {
		w := &ngWriter{}
		w.shb(le).idb(layers.LinkTypeEthernet, 0).epb(0, good)
		f(w)
		return w.b
	}
	for _, tc := range []struct {
		name   string
		data   []byte
		reason string
	}{
		{"pcap 4 GB", pcapWith(0xffffffff, payload(2, 100)), "4294967295 captured bytes, more than the maximum of 262144"},
		{"pcap max+1", pcapWith(MaxCapLen+1, make([]byte, MaxCapLen+1)), "more than the maximum"},
		{"pcap max truncated", pcapWith(MaxCapLen, payload(2, 100)), "packet data truncated: 100 of 262144 bytes"},
		{"epb 4 GB caplen", ngWith(func(w *ngWriter) {
			w.epb(0, pkt{data: payload(2, 100)})
			le.PutUint32(w.b[len(w.b)-4-100-8:], 0xfffffff0)
		}), "4294967280 captured bytes"},
		{"block 4 GB", ngWith(func(w *ngWriter) {
			w.b = le.AppendUint32(w.b, blockEPB)
			w.b = le.AppendUint32(w.b, 0xfffffffc)
			w.b = append(w.b, make([]byte, 100)...)
		}), "enhanced packet block length 4294967292 exceeds the maximum of 16777216"},
		{"block 16 MiB truncated", ngWith(func(w *ngWriter) {
			w.b = le.AppendUint32(w.b, 0xbad)
			w.b = le.AppendUint32(w.b, MaxBlockLen)
			w.b = append(w.b, make([]byte, 100)...)
		}), "block of type 0x00000bad truncated: 108 of 16777216 bytes"},
		{"epb 16 MiB truncated", ngWith(func(w *ngWriter) {
			w.b = le.AppendUint32(w.b, blockEPB)
			w.b = le.AppendUint32(w.b, MaxBlockLen)
			w.b = append(w.b, make([]byte, 2<<20)...)
		}), "enhanced packet block truncated: 2097160 of 16777216 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var (
				recs []Record
				err  error
			)
			n := allocated(func() { recs, _, err = readAll(t, tc.data, "huge") })
			var de *DamageError
			if !errors.As(err, &de) || !strings.Contains(de.Reason, tc.reason) {
				t.Fatalf("got %v, want a DamageError with %q", err, tc.reason)
			}
			if len(recs) != 1 || de.Frame != 1 {
				t.Errorf("%d records, frame %d, want 1", len(recs), de.Frame)
			}
			// The buffers (about 1.3 MiB), the records kept, and for
			// the big block a buffer growing by doubling up to
			// twice what the file really holds: far less than the
			// 16 MiB claimed.
			if limit := uint64(4<<20 + 4*len(tc.data)); n > limit {
				t.Errorf("allocated %d bytes, more than %d", n, limit)
			}
		})
	}
}

// TestBadBlocks checks that malformed pcapng blocks after a good packet are
// reported as damage at the right place.
func TestBadBlocks(t *testing.T) {
	good := pkt{ts: 1, data: payload(1, 20)}
	for _, tc := range []struct {
		name   string
		bad    func(w *ngWriter)
		reason string
	}{
		{"length not multiple of 4", func(w *ngWriter) {
			w.epb(0, good)
			le.PutUint32(w.b[len(w.b)-52+4:], 45)
		}, "enhanced packet block length 45 is not a multiple of 4"},
		{"length below 12", func(w *ngWriter) {
			w.b = le.AppendUint32(w.b, 0x99)
			w.b = le.AppendUint32(w.b, 8)
			w.b = le.AppendUint32(w.b, 8)
		}, "block of type 0x00000099 length 8 is less than the minimum of 12"},
		{"epb below minimum", func(w *ngWriter) {
			w.block(blockEPB, make([]byte, 16))
		}, "enhanced packet block length 28 is less than the minimum of 32"},
		{"trailing length", func(w *ngWriter) {
			w.epb(0, good)
			le.PutUint32(w.b[len(w.b)-4:], 56)
		}, "enhanced packet block trailing length 56 does not match its length 52"},
		{"skipped block trailing length", func(w *ngWriter) {
			w.block(0x77, make([]byte, 8))
			le.PutUint32(w.b[len(w.b)-4:], 24)
		}, "block of type 0x00000077 trailing length 24 does not match its length 20"},
		{"caplen beyond block", func(w *ngWriter) {
			w.epb(0, good)
			le.PutUint32(w.b[len(w.b)-52+20:], 24)
		}, "enhanced packet block claims 24 captured bytes but holds only 20"},
		{"unknown interface", func(w *ngWriter) {
			w.epb(1, good)
		}, "enhanced packet block names interface 1 but the section defines 1"},
		{"packet before interface", func(w *ngWriter) {
			w.shb(be)
			w.spb(good)
		}, "simple packet block names interface 0 but the section defines 0"},
		{"bad byte-order magic", func(w *ngWriter) {
			w.shb(le)
			le.PutUint32(w.b[len(w.b)-28+8:], 0x12345678)
		}, "section header block has a bad byte-order magic 0x78563412"},
		{"section version 2", func(w *ngWriter) {
			w.shb(be)
			be.PutUint16(w.b[len(w.b)-28+12:], 2)
		}, "unsupported pcapng version 2.0"},
		{"too many interfaces", func(w *ngWriter) {
			for range maxInterfaces {
				w.idb(layers.LinkTypeEthernet, 0)
			}
		}, "more than 65536 interfaces in one section"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := &ngWriter{}
			w.shb(le).idb(layers.LinkTypeEthernet, 0).epb(0, good)
			off := len(w.b)
			tc.bad(w)
			recs, _, err := readAll(t, w.b, "bad.pcapng")
			var de *DamageError
			if !errors.As(err, &de) {
				t.Fatalf("got %v, want a DamageError", err)
			}
			if de.Reason != tc.reason || len(recs) != 1 || de.Frame != 1 {
				t.Errorf("got %d records and %q, want 1 record and %q", len(recs), err, tc.reason)
			}
			if tc.name != "too many interfaces" && tc.name != "packet before interface" && de.Offset != int64(off) {
				t.Errorf("damage at %d, want %d", de.Offset, off)
			}
			checkOneLine(t, err, "bad.pcapng")
		})
	}
}

// TestRejected checks the files refused outright, and the empty captures
// that are not errors.
func TestRejected(t *testing.T) {
	ngHeader := (&ngWriter{}).shb(le).b
	ngBadVersion := bytes.Clone(ngHeader)
	le.PutUint16(ngBadVersion[12:], 2)
	ngBadBOM := bytes.Clone(ngHeader)
	copy(ngBadBOM[8:], "abcd")
	pcapBadVersion := pcapFile(le, false, 1)
	le.PutUint16(pcapBadVersion[4:], 3)
	for _, tc := range []struct {
		name    string
		data    []byte
		err     string // "" if reading must end with io.EOF and no records
		damaged bool
	}{
		{"empty", nil, "f: empty file, not a capture", false},
		{"text", []byte("GET / HTTP/1.1\r\n"), "f: not a pcap or pcapng file (starts with 0x47455420)", false},
		{"two bytes", []byte("ab"), "f: not a pcap or pcapng file (only 2 bytes: 0x6162)", false},
		{"pcap header only", pcapFile(le, false, 1), "", false},
		{"pcap ns header only", pcapFile(be, true, 1), "", false},
		{"pcapng SHB only", ngHeader, "", false},
		{"pcapng SHB and IDB only", (&ngWriter{}).shb(be).idb(1, 0).b, "", false},
		{"pcap bad version", pcapBadVersion, "f: unsupported pcap version 3.4", false},
		{"pcapng bad version", ngBadVersion, "f: unsupported pcapng version 2.0", false},
		{"pcapng bad BOM", ngBadBOM, "f: not a pcapng file: bad byte-order magic 0x61626364", false},
		{"pcap header truncated", pcapFile(le, false, 1)[:10], "f: damaged at byte 0: pcap file header truncated: 10 of 24 bytes", true},
		{"pcapng SHB truncated", ngHeader[:20], "f: damaged at byte 0: section header block truncated: 20 of 28 bytes", true},
		{"gzip empty", gz(t, nil), "f: empty capture (the gzip data decompresses to nothing)", false},
		{"gzip bad header", []byte{0x1f, 0x8b, 0, 0, 0, 0, 0, 0, 0, 0}, "f: bad gzip header: gzip: invalid header", false},
		{"gzip truncated header", []byte{0x1f, 0x8b, 8}, "f: gzip header truncated", false},
		{"gzip text", gz(t, []byte("hello")), "f: not a pcap or pcapng file (starts with 0x68656c6c)", false},
		// Other compressions, by their magic numbers: named, with the
		// command that undoes them, not by their first bytes.
		{"xz", []byte("\xfd7zXZ\x00\x00\x04"), "f: xz-compressed: decompress it first (xz -d); synscope reads gzip only", false},
		{"zstd", []byte{0x28, 0xb5, 0x2f, 0xfd, 0x24, 0x00}, "f: zstd-compressed: decompress it first (zstd -d); synscope reads gzip only", false},
		{"bzip2", []byte("BZh91AY&SY"), "f: bzip2-compressed: decompress it first (bzip2 -d); synscope reads gzip only", false},
		{"lz4", []byte{0x04, 0x22, 0x4d, 0x18, 0x64, 0x40}, "f: lz4-compressed: decompress it first (lz4 -d); synscope reads gzip only", false},
		{"lz4 legacy", []byte{0x02, 0x21, 0x4c, 0x18, 0, 0}, "f: lz4-compressed: decompress it first (lz4 -d); synscope reads gzip only", false},
		{"BZh not bzip2", []byte("BZhx"), "f: not a pcap or pcapng file (starts with 0x425a6878)", false},
		{"gzip of xz", gz(t, []byte("\xfd7zXZ\x00\x00\x04")), "f: not a pcap or pcapng file (starts with 0xfd377a58)", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			recs, r, err := readAll(t, tc.data, "f")
			if tc.err == "" {
				if err != nil || len(recs) != 0 || r == nil {
					t.Fatalf("got %d records, %v; want none and io.EOF", len(recs), err)
				}
				return
			}
			if err == nil || err.Error() != tc.err {
				t.Fatalf("got %v, want %q", err, tc.err)
			}
			var de *DamageError
			if errors.As(err, &de) != tc.damaged {
				t.Errorf("DamageError: %v, want %v", !tc.damaged, tc.damaged)
			}
		})
	}
}

func TestOpen(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a.pcap")
	data := pcapFile(le, false, 1, testPackets...)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if r.Name() != path || r.Size() != int64(len(data)) || r.BytesRead() != pcapFileHeaderLen {
		t.Errorf("Name %q Size %d BytesRead %d", r.Name(), r.Size(), r.BytesRead())
	}
	n := 0
	for {
		if _, err := r.Next(); err != nil {
			if err != io.EOF {
				t.Fatal(err)
			}
			break
		}
		n++
	}
	if n != len(testPackets) || r.BytesRead() != r.Size() {
		t.Errorf("%d records, BytesRead %d of %d", n, r.BytesRead(), r.Size())
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Next(); err == nil || !strings.Contains(err.Error(), "closed") {
		t.Errorf("Next after Close: %v", err)
	}

	missing := filepath.Join(dir, "missing.pcap")
	_, err = Open(missing)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Open(missing) = %v, want fs.ErrNotExist", err)
	}
	checkOneLine(t, err, missing)
	_, err = Open(dir)
	if err == nil || err.Error() != dir+": is a directory, not a capture file" {
		t.Errorf("Open(dir) = %v", err)
	}
}

// withStdin runs f with os.Stdin replaced by file.
func withStdin(t *testing.T, file *os.File, f func()) {
	t.Helper()
	saved := os.Stdin
	os.Stdin = file
	defer func() { os.Stdin = saved }()
	f()
}

func TestStdinPipe(t *testing.T) {
	data, want, _ := multiSection()
	compressed := gz(t, data)
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	go func() {
		pw.Write(compressed)
		pw.Close()
	}()
	withStdin(t, pr, func() {
		r, err := Open("-")
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		if r.Name() != StdinName || r.Size() != -1 || r.Format() != "pcapng (gzip)" {
			t.Errorf("Name %q Size %d Format %q", r.Name(), r.Size(), r.Format())
		}
		var recs []Record
		for {
			rec, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			recs = append(recs, copyRecord(rec))
		}
		checkRecords(t, recs, want)
		if r.BytesRead() != int64(len(compressed)) {
			t.Errorf("BytesRead %d, want %d", r.BytesRead(), len(compressed))
		}
		_, err = r.Rereader()
		if err == nil || !strings.Contains(err.Error(), "cannot re-read packets from standard input") {
			t.Errorf("Rereader on a pipe: %v", err)
		}
		checkOneLine(t, err, StdinName)
	})
}

// TestStdinFile checks that standard input redirected from a file can be
// re-read.
func TestStdinFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "in.pcap")
	if err := os.WriteFile(path, pcapFile(le, true, 1, testPackets...), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	withStdin(t, f, func() {
		r, err := Open("-")
		if err != nil {
			t.Fatal(err)
		}
		rec, err := r.Next()
		if err != nil {
			t.Fatal(err)
		}
		first := copyRecord(rec)
		rr, err := r.Rereader()
		if err != nil {
			t.Fatal(err)
		}
		defer rr.Close()
		again, err := rr.ReadAt(first.Offset, first.Frame)
		if err != nil || !sameRecord(*again, first) {
			t.Errorf("re-read: %v", err)
		}
	})
}

func TestLinuxCookedDirection(t *testing.T) {
	sll := func(pt uint16) []byte {
		b := payload(1, 16)
		be.PutUint16(b, pt)
		return b
	}
	sll2 := func(pt uint8) []byte {
		b := payload(1, 20)
		b[10] = pt
		return b
	}
	for _, tc := range []struct {
		lt   layers.LinkType
		data []byte
		want Direction
	}{
		{layers.LinkTypeLinuxSLL, sll(0), DirInbound},
		{layers.LinkTypeLinuxSLL, sll(3), DirInbound},
		{layers.LinkTypeLinuxSLL, sll(4), DirOutbound},
		{layers.LinkTypeLinuxSLL, sll(5), DirUnknown},
		{layers.LinkTypeLinuxSLL, []byte{0}, DirUnknown},
		{layers.LinkTypeLinuxSLL2, sll2(4), DirOutbound},
		{layers.LinkTypeLinuxSLL2, sll2(1), DirInbound},
		{layers.LinkTypeLinuxSLL2, sll2(4)[:10], DirUnknown},
		{layers.LinkTypeEthernet, sll(4), DirUnknown},
	} {
		recs, _, err := readAll(t, pcapFile(le, false, uint32(tc.lt), pkt{data: tc.data}), "sll")
		if err != nil || len(recs) != 1 || recs[0].Direction != tc.want {
			t.Errorf("%v %x: %v %v, want %v", tc.lt, tc.data, recs, err, tc.want)
		}
	}
	// epb_flags win over the cooked header.
	w := (&ngWriter{}).shb(le).idb(layers.LinkTypeLinuxSLL, 0).epb(0, pkt{data: sll(4)}, flags(le, 1))
	recs, _, err := readAll(t, w.b, "sll")
	if err != nil || len(recs) != 1 || recs[0].Direction != DirInbound {
		t.Errorf("epb_flags inbound over SLL outgoing: %v %v", recs, err)
	}
}

func TestDirectionString(t *testing.T) {
	for d, want := range map[Direction]string{DirUnknown: "unknown", DirInbound: "inbound", DirOutbound: "outbound", 7: "Direction(7)"} {
		if d.String() != want {
			t.Errorf("%d.String() = %q, want %q", d, d.String(), want)
		}
	}
}

// manyPackets builds pcap and pcapng files of n packets of assorted sizes.
func manyPackets(n int) (pcap, pcapng []byte) {
	pkts := make([]pkt, n)
	w := (&ngWriter{}).shb(le).idb(layers.LinkTypeEthernet, 262144, opt{optIfTsresol, []byte{9}})
	for i := range pkts {
		pkts[i] = pkt{ts: 1_700_000_000e9 + int64(i)*1000, data: payload(i, 54+(i*97)%1460)}
		w.epb(0, pkts[i], flags(le, uint32(1+i%2)))
	}
	return pcapFile(le, false, 1, pkts...), w.b
}

// TestNoAllocationPerPacket checks that Next allocates nothing once warm.
func TestNoAllocationPerPacket(t *testing.T) {
	pc, ng := manyPackets(3000)
	for name, data := range map[string][]byte{"pcap": pc, "pcapng": ng, "gzip": gz(t, ng)} {
		r, err := NewReader(bytes.NewReader(data), name, int64(len(data)))
		if err != nil {
			t.Fatal(err)
		}
		for range 100 {
			if _, err := r.Next(); err != nil {
				t.Fatal(err)
			}
		}
		allocs := testing.AllocsPerRun(2000, func() {
			if _, err := r.Next(); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("%s: %v allocations per packet", name, allocs)
		}
	}
}
