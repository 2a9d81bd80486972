package capture

import (
	"bufio"
	"compress/gzip"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
)

// rereadBufferSize is the buffer over a gzip stream being re-read: reads
// are scattered, so a large one would not help much.
const rereadBufferSize = 64 << 10

// Rereader reads packets again by their Record.Offset, so that a program
// can keep offsets instead of packets.
//
// On an uncompressed file each ReadAt is one or two positioned reads. A
// gzip stream cannot be entered in the middle: ReadAt decompresses from the
// start of the file up to the offset, continuing from where the previous
// ReadAt stopped when the offset lies ahead of it, so re-reading records
// in increasing order costs one decompression in all, but each step
// backwards costs a decompression from the start. Standard input read from
// a pipe cannot be re-read at all.
//
// A Rereader learns the file's sections and interfaces from the Reader it
// came from, as that Reader discovers them: it may be used in another
// goroutine while the Reader goes on reading, and after the Reader is
// closed. It is not safe for concurrent use itself: use one per goroutine.
type Rereader struct {
	name   string
	meta   *layout
	ra     io.ReaderAt // the input
	base   int64       // offset of the capture's first byte in ra
	closer io.Closer   // the file the Rereader opened, if any

	// gzip only: a decompressor positioned at s.pos
	gz   *gzip.Reader
	s    stream
	gzbr *bufio.Reader // rr.s's source
	disk *bufio.Reader

	hdr [modifiedRecordHeadLen]byte
	buf []byte
	rec Record
	// comments are the opt_comment options of the packet block ReadAt
	// read last (Comments).
	comments []string
	// point is the capture point of the Reader it came from, if that
	// reads one (SelectPoint): a record's Interface is its index among
	// the point's interfaces (local).
	point *pointSel
	local pointIndex
}

// Rereader returns a Rereader for the Reader's input. It fails for input
// that cannot be read twice, such as standard input from a pipe.
func (r *Reader) Rereader() (*Rereader, error) {
	rr := &Rereader{name: r.name, meta: r.meta, point: r.point}
	switch {
	case r.path != "":
		// A file we opened by name: open it again, so that the
		// Rereader does not depend on the Reader staying open.
		f, err := os.Open(r.path)
		if err != nil {
			return nil, fmt.Errorf("%s: cannot open for re-reading: %w", r.name, BareError(err))
		}
		rr.ra, rr.closer = f, f
	case r.ra != nil:
		rr.ra, rr.base = r.ra, r.base
	case r.stdin:
		return nil, fmt.Errorf("%s: cannot re-read packets from standard input (a pipe); save the capture to a file first", r.name)
	default:
		return nil, fmt.Errorf("%s: cannot re-read packets: the input is a stream, not a file", r.name)
	}
	return rr, nil
}

// ReadAt reads the packet record or block at offset, a Record.Offset from
// the Reader; frame is the Record.Frame to give it back. The Record and its
// Data are valid until the next call to ReadAt.
func (rr *Rereader) ReadAt(offset int64, frame uint64) (*Record, error) {
	if rr.ra == nil {
		return nil, fmt.Errorf("%s: rereader is closed", rr.name)
	}
	if offset < 0 {
		return nil, rr.errorf(offset, frame, "negative offset")
	}
	// No record starts inside the file header. Read there, a pcap's
	// header passed for a record (an export of IP fragments, whose
	// offsets were not kept, wrote 0-byte packets dated 2055): an offset
	// that cannot be a record's is a caller's mistake, said as one.
	if head := rr.headerLen(); offset < head {
		return nil, rr.errorf(offset, frame, "that is inside the file header (%d bytes): no packet record starts there", head)
	}
	var err error
	rr.comments = rr.comments[:0]
	switch rr.meta.kind {
	case kindPcap:
		err = rr.readPcap(offset, frame)
	case kindPcapng:
		err = rr.readPcapng(offset, frame)
	default:
		err = rr.errorf(offset, frame, "unknown format")
	}
	if err != nil {
		return nil, err
	}
	if rr.point != nil {
		m := rr.meta
		m.mu.RLock()
		l := rr.local.of(rr.point, m.ifaces, rr.rec.Interface)
		m.mu.RUnlock()
		if l < 0 {
			return nil, rr.errorf(offset, frame, "the packet there is on interface %d, which is not capture point %s's", rr.rec.Interface, rr.point.name)
		}
		rr.rec.Interface = l
	}
	rr.rec.Frame = frame
	rr.rec.Offset = offset
	if rr.rec.Direction == DirUnknown {
		rr.rec.Direction = linkDirection(rr.rec.LinkType, rr.rec.Data)
	}
	return &rr.rec, nil
}

// headerLen is the length of what comes before the first record: the pcap
// file header, or the smallest section header block a pcapng file starts
// with (each section's own is refused by readPcapng, which finds it there).
func (rr *Rereader) headerLen() int64 {
	if rr.meta.kind == kindPcapng {
		return int64(minBlockLen(blockSHB))
	}
	return pcapFileHeaderLen
}

// readPcap reads the classic pcap record at offset into rr.rec.
func (rr *Rereader) readPcap(offset int64, frame uint64) error {
	f := &rr.meta.pcap // set before the Reader was returned, never changed
	h := rr.hdr[:f.hdrLen]
	if err := rr.fetch(offset, h); err != nil {
		return rr.fetchError(offset, frame, err)
	}
	caplen, reason := f.decodeRecordHeader(h, &rr.rec)
	if reason != "" {
		return rr.errorf(offset, frame, "%s", reason)
	}
	data := rr.buffer(int(caplen))
	if err := rr.fetch(offset+int64(f.hdrLen), data); err != nil {
		return rr.fetchError(offset, frame, err)
	}
	rr.rec.Data = data
	return nil
}

// readPcapng reads the pcapng packet block at offset into rr.rec.
func (rr *Rereader) readPcapng(offset int64, frame uint64) error {
	h := rr.hdr[:8]
	if err := rr.fetch(offset, h); err != nil {
		return rr.fetchError(offset, frame, err)
	}
	// The block's type tells the section's byte order: a packet
	// block's type read in the other order is none (0x06000000).
	be := false
	typ := u32(h, be)
	if !isPacketBlock(typ) && isPacketBlock(u32(h, true)) {
		be = true
		typ = u32(h, be)
	}
	if !isPacketBlock(typ) {
		return rr.errorf(offset, frame, "no packet block there (found a %s)", blockName(typ))
	}
	length := u32(h[4:], be)
	if reason := checkBlockLen(typ, length); reason != "" {
		return rr.errorf(offset, frame, "%s", reason)
	}
	b := rr.buffer(int(length) - 8)
	if err := rr.fetch(offset+8, b); err != nil {
		return rr.fetchError(offset, frame, err)
	}
	if tl := u32(b[len(b)-4:], be); tl != length {
		return rr.errorf(offset, frame, "%s trailing length %d does not match its length %d", blockName(typ), tl, length)
	}
	id, ticks, reason := decodePacketBlock(typ, b[:len(b)-4], be, &rr.rec)
	if reason != "" {
		return rr.errorf(offset, frame, "%s", reason)
	}
	// The interface the block's ID meant in the run of sections the
	// offset is in, as the Reader knows it now. Interfaces are never
	// changed once added: the pointer stays good after the lock.
	m := rr.meta
	m.mu.RLock()
	var ifc *Interface
	if run := sort.Search(len(m.runs), func(i int) bool { return m.runs[i] > offset }) - 1; run >= 0 {
		if g, ok := m.ids[runID(run, id)]; ok {
			ifc = &m.ifaces[g]
		}
	}
	m.mu.RUnlock()
	if ifc == nil {
		return rr.errorf(offset, frame, "%s names interface %d, which no packet the reader read before named", blockName(typ), id)
	}
	if reason := rr.rec.onInterface(typ, ifc, ticks); reason != "" {
		return rr.errorf(offset, frame, "%s", reason)
	}
	if typ != blockSPB {
		// The options follow the packet's bytes, padded to 4.
		rr.comments = appendComments(rr.comments, b[min(len(b)-4, 20+int((rr.rec.CapLen+3)&^3)):len(b)-4], be)
	}
	return nil
}

// Comments returns the comments (opt_comment) of the packet block the last
// ReadAt read, in their order; none for a pcap record. An export keeps
// them, as tshark does: they are an analyst's notes on the packet. They
// are valid until the next ReadAt.
func (rr *Rereader) Comments() []string { return rr.comments }

// buffer returns rr.buf resized to n bytes.
func (rr *Rereader) buffer(n int) []byte {
	if cap(rr.buf) < n {
		rr.buf = make([]byte, n)
	}
	return rr.buf[:n]
}

// fetch fills dst with the bytes of the (decompressed) capture at offset.
func (rr *Rereader) fetch(offset int64, dst []byte) error {
	if !rr.meta.gzip {
		n, err := rr.ra.ReadAt(dst, rr.base+offset)
		if n == len(dst) {
			return nil
		}
		if err == nil || err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return err
	}
	if rr.gz == nil || offset < rr.s.pos {
		if err := rr.rewind(); err != nil {
			return err
		}
	}
	if _, err := rr.s.skip(offset - rr.s.pos); err != nil {
		return truncated(err)
	}
	n, err := io.ReadFull(rr.s.br, dst)
	rr.s.pos += int64(n)
	return truncated(err)
}

// rewind starts decompressing from the beginning of the input.
func (rr *Rereader) rewind() error {
	src := io.NewSectionReader(rr.ra, rr.base, math.MaxInt64-rr.base)
	if rr.disk == nil {
		rr.disk = bufio.NewReaderSize(src, diskBufferSize)
	} else {
		rr.disk.Reset(src)
	}
	var err error
	if rr.gz == nil {
		rr.gz, err = gzip.NewReader(rr.disk)
	} else {
		err = rr.gz.Reset(rr.disk)
	}
	if err != nil {
		rr.gz = nil
		return err
	}
	if rr.gzbr == nil {
		rr.gzbr = bufio.NewReaderSize(rr.gz, rereadBufferSize)
	} else {
		rr.gzbr.Reset(rr.gz)
	}
	rr.s.br = rr.gzbr
	rr.s.pos = 0
	return nil
}

// errorf formats a ReadAt error: one line naming the file, frame and offset.
func (rr *Rereader) errorf(offset int64, frame uint64, format string, args ...any) error {
	return fmt.Errorf("%s: re-reading frame %d at byte %d: %s", rr.name, frame, offset, fmt.Sprintf(format, args...))
}

// fetchError reports a failed fetch.
func (rr *Rereader) fetchError(offset int64, frame uint64, err error) error {
	if err == io.ErrUnexpectedEOF {
		return fmt.Errorf("%s: re-reading frame %d at byte %d: the file ends before the record does: %w", rr.name, frame, offset, err)
	}
	return fmt.Errorf("%s: re-reading frame %d at byte %d: %w", rr.name, frame, offset, BareError(err))
}

// Close releases the file the Rereader opened, if any.
func (rr *Rereader) Close() error {
	rr.ra = nil
	if rr.closer == nil {
		return nil
	}
	c := rr.closer
	rr.closer = nil
	if err := c.Close(); err != nil {
		return fmt.Errorf("%s: close: %w", rr.name, BareError(err))
	}
	return nil
}
