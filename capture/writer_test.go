package capture

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"io"
	"testing"

	"github.com/gopacket/gopacket/layers"
)

// This file holds the small writers the tests build capture files with,
// byte by byte, and helpers to read them back.

// byteOrder is binary.BigEndian or binary.LittleEndian.
type byteOrder interface {
	binary.ByteOrder
	binary.AppendByteOrder
}

// pkt is one packet to write.
type pkt struct {
	ts   int64  // Unix nanoseconds (pcap) or raw ticks (pcapng)
	data []byte // captured bytes
	orig uint32 // original length; 0 means len(data)
}

func (p pkt) origLen() uint32 {
	if p.orig == 0 {
		return uint32(len(p.data))
	}
	return p.orig
}

// pcapFile builds a classic pcap file: microsecond or nanosecond time
// stamps, either byte order, the given 32-bit link type field.
func pcapFile(o byteOrder, nano bool, linkType uint32, pkts ...pkt) []byte {
	var b []byte
	magic := uint32(magicPcap)
	if nano {
		magic = magicPcapNs
	}
	b = o.AppendUint32(b, magic)
	b = o.AppendUint16(b, 2)
	b = o.AppendUint16(b, 4)
	b = o.AppendUint32(b, 0)     // thiszone
	b = o.AppendUint32(b, 0)     // sigfigs
	b = o.AppendUint32(b, 65535) // snaplen
	b = o.AppendUint32(b, linkType)
	for _, p := range pkts {
		sec, frac := p.ts/1e9, p.ts%1e9
		if !nano {
			frac /= 1000
		}
		b = o.AppendUint32(b, uint32(sec))
		b = o.AppendUint32(b, uint32(frac))
		b = o.AppendUint32(b, uint32(len(p.data)))
		b = o.AppendUint32(b, p.origLen())
		b = append(b, p.data...)
	}
	return b
}

// modifiedPcapFile builds a "modified pcap" (Kuznetzov) file, whose record
// headers carry ifindex, protocol and packet type.
func modifiedPcapFile(o byteOrder, pktType []uint8, pkts ...pkt) []byte {
	b := pcapFile(o, false, uint32(layers.LinkTypeEthernet))
	o.PutUint32(b, magicModified)
	for i, p := range pkts {
		b = o.AppendUint32(b, uint32(p.ts/1e9))
		b = o.AppendUint32(b, uint32(p.ts%1e9/1000))
		b = o.AppendUint32(b, uint32(len(p.data)))
		b = o.AppendUint32(b, p.origLen())
		b = o.AppendUint32(b, 7)      // ifindex
		b = o.AppendUint16(b, 0x0800) // protocol
		b = append(b, pktType[i], 0)  // packet type, pad
		b = append(b, p.data...)
	}
	return b
}

// opt is a pcapng option.
type opt struct {
	code uint16
	val  []byte
}

// ngWriter builds pcapng files block by block.
type ngWriter struct {
	o byteOrder
	b []byte
}

// pad4 rounds n up to a multiple of 4.
func pad4(n int) int { return (n + 3) &^ 3 }

// block appends a block with the given body, padded to 4 bytes.
func (w *ngWriter) block(typ uint32, body []byte) *ngWriter {
	n := 12 + pad4(len(body))
	w.b = w.o.AppendUint32(w.b, typ)
	w.b = w.o.AppendUint32(w.b, uint32(n))
	w.b = append(w.b, body...)
	w.b = append(w.b, make([]byte, pad4(len(body))-len(body))...)
	w.b = w.o.AppendUint32(w.b, uint32(n))
	return w
}

// options encodes options, with an end-of-options marker when there are
// any.
func (w *ngWriter) options(opts []opt) []byte {
	var b []byte
	for _, op := range opts {
		b = w.o.AppendUint16(b, op.code)
		b = w.o.AppendUint16(b, uint16(len(op.val)))
		b = append(b, op.val...)
		b = append(b, make([]byte, pad4(len(op.val))-len(op.val))...)
	}
	if len(b) > 0 {
		b = append(b, 0, 0, 0, 0)
	}
	return b
}

// shb starts a section in byte order o.
func (w *ngWriter) shb(o byteOrder, opts ...opt) *ngWriter {
	w.o = o
	var b []byte
	b = o.AppendUint32(b, byteOrderMagic)
	b = o.AppendUint16(b, 1)
	b = o.AppendUint16(b, 0)
	b = o.AppendUint64(b, ^uint64(0)) // section length unknown
	b = append(b, w.options(opts)...)
	return w.block(blockSHB, b)
}

// idb defines an interface.
func (w *ngWriter) idb(lt layers.LinkType, snap uint32, opts ...opt) *ngWriter {
	var b []byte
	b = w.o.AppendUint16(b, uint16(lt))
	b = w.o.AppendUint16(b, 0)
	b = w.o.AppendUint32(b, snap)
	b = append(b, w.options(opts)...)
	return w.block(blockIDB, b)
}

// epb appends an Enhanced Packet Block; p.ts is in the interface's ticks.
func (w *ngWriter) epb(iface uint32, p pkt, opts ...opt) *ngWriter {
	var b []byte
	b = w.o.AppendUint32(b, iface)
	b = w.o.AppendUint32(b, uint32(uint64(p.ts)>>32))
	b = w.o.AppendUint32(b, uint32(p.ts))
	b = w.o.AppendUint32(b, uint32(len(p.data)))
	b = w.o.AppendUint32(b, p.origLen())
	b = append(b, p.data...)
	b = append(b, make([]byte, pad4(len(p.data))-len(p.data))...)
	b = append(b, w.options(opts)...)
	return w.block(blockEPB, b)
}

// pb appends an obsolete Packet Block.
func (w *ngWriter) pb(iface uint16, p pkt, opts ...opt) *ngWriter {
	var b []byte
	b = w.o.AppendUint16(b, iface)
	b = w.o.AppendUint16(b, 0) // drops
	b = w.o.AppendUint32(b, uint32(uint64(p.ts)>>32))
	b = w.o.AppendUint32(b, uint32(p.ts))
	b = w.o.AppendUint32(b, uint32(len(p.data)))
	b = w.o.AppendUint32(b, p.origLen())
	b = append(b, p.data...)
	b = append(b, make([]byte, pad4(len(p.data))-len(p.data))...)
	b = append(b, w.options(opts)...)
	return w.block(blockPB, b)
}

// spb appends a Simple Packet Block.
func (w *ngWriter) spb(p pkt) *ngWriter {
	b := w.o.AppendUint32(nil, p.origLen())
	b = append(b, p.data...)
	return w.block(blockSPB, b)
}

// flags is an epb_flags option.
func flags(o byteOrder, v uint32) opt {
	return opt{optEpbFlags, o.AppendUint32(nil, v)}
}

// gz compresses b.
func gz(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// payload returns n bytes of recognisable data.
func payload(seed, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(seed*31 + i)
	}
	return b
}

// copyRecord returns a deep copy of rec.
func copyRecord(rec *Record) Record {
	c := *rec
	c.Data = bytes.Clone(rec.Data)
	return c
}

// readAll reads every record of data, returning deep copies, and the error
// that ended the reading (nil for a clean io.EOF). A nil Reader means
// NewReader failed with err. It also checks that a Rereader gives every
// record back identically.
func readAll(t testing.TB, data []byte, name string) ([]Record, *Reader, error) {
	t.Helper()
	r, err := NewReader(bytes.NewReader(data), name, int64(len(data)))
	if err != nil {
		return nil, nil, err
	}
	var recs []Record
	for {
		rec, err := r.Next()
		if err == nil {
			recs = append(recs, copyRecord(rec))
			continue
		}
		if err == io.EOF {
			err = nil
		}
		rr, rerr := r.Rereader()
		if rerr != nil {
			t.Fatalf("Rereader: %v", rerr)
		}
		for _, want := range recs {
			got, rerr := rr.ReadAt(want.Offset, want.Frame)
			if rerr != nil || !sameRecord(*got, want) {
				t.Fatalf("frame %d re-read differently (%v)", want.Frame, rerr)
			}
		}
		return recs, r, err
	}
}
