package capture

import (
	"bufio"
	"compress/flate"
	"compress/gzip"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sync"
	"time"

	"github.com/gopacket/gopacket/layers"
)

// StdinName is the name a Reader opened on "-" goes by.
const StdinName = "standard input"

// Kinds of capture files.
const (
	kindPcap = iota + 1
	kindPcapng
)

// layout is what a Reader learns about a file's structure that is needed
// to decode records again later: the pcap header, or the pcapng interfaces
// and what the packet blocks' interface IDs mean. The Reader is its only
// writer and adds under mu; Rereaders read it under mu, possibly while the
// Reader goes on. Nothing is changed once added, except a pcap's snap
// length (joinedHeader).
type layout struct {
	mu   sync.RWMutex
	kind int
	gzip bool
	pcap pcapFormat
	// ifaces are the interfaces (Reader.Interfaces). A pcapng's are
	// kept when a packet names them (Reader.publish), once for all the
	// sections that describe them alike.
	ifaces []Interface
	// runs are the offsets where runs of pcapng sections start whose
	// packet blocks mean the same interfaces by the same IDs, and ids
	// maps a run and an ID (runID) to the index in ifaces. A Rereader
	// finds the run an offset is in, and the block gives the ID and, by
	// its type's byte order, the section's byte order. A day of
	// per-second dumpcap files joined with cat is one run of one
	// interface: what is kept grows with the interfaces that packets
	// name and with the sections that name them otherwise than the
	// sections before, not with the sections.
	runs []int64
	ids  map[uint64]int32
}

// runID is the key of layout.ids for interface id of run.
func runID(run int, id uint32) uint64 { return uint64(run)<<32 | uint64(id) }

// Reader reads the packets of one pcap or pcapng capture, possibly gzip
// compressed, from a file or a stream. It is not safe for concurrent use,
// but Rereaders made from it may be used in other goroutines while it
// reads.
type Reader struct {
	name   string
	size   int64
	closer io.Closer   // the file Open opened; nil otherwise
	path   string      // a path Rereader can open, "" if none
	ra     io.ReaderAt // the input, if Rereader can read it again
	base   int64       // offset of the capture's first byte in ra
	stdin  bool
	ctx    context.Context // OpenContext's; nil otherwise

	s      stream
	disk   *countingReader // counts the bytes read from the input
	diskBr *bufio.Reader   // buffer between disk and the decompressor or s
	mapped *mapSource      // s's source, once MapInput mapped the file
	inNext bool            // Next is running
	// plain is mapped when Next may take records straight from it: a
	// classic pcap, little-endian, with 16-byte record headers whose
	// lengths are in today's order, and no point selected (MapInput,
	// SelectPoint). plainFracLimit is the bound of the sub-second field,
	// plainFracScale what it is multiplied by to make nanoseconds.
	plain *mapSource
	// plainNG is set when Next may take enhanced packet blocks straight
	// from the mapping (epbFast): a pcapng, mapped, no point selected.
	plainNG        bool
	plainFracLimit uint32
	plainFracScale int64

	meta   *layout
	format string
	frame  uint64 // frames returned so far
	err    error  // sticky error, returned by every Next after it
	rec    Record

	// pcapng: the current section, once a section header block was
	// read (inSection): where it starts, its byte order, its number,
	// and its interfaces by the ID its packet blocks name them by. An
	// interface's Index is ^ID until a packet names it (publish); run
	// is the entry of meta.runs its interfaces are in, -1 until then.
	inSection bool
	secBE     bool
	secOff    int64
	secNum    int
	ifaces    []Interface
	run       int
	// idbs counts the interface description blocks read, idbBase those
	// before the current section: Wireshark numbers them so
	// (frame.interface_id), and the notes do too.
	idbs, idbBase int
	// shared finds a published interface by what it says, so that the
	// sections that describe an interface alike share it; secShared
	// counts the current section's interfaces published of each kind
	// (its second of a kind is not its first: ifaceKey.nth).
	shared    map[ifaceKey]int32
	secShared map[ifaceKey]int32

	// oddFrac and oddLen count the records whose sub-second field was
	// out of range, and those that claimed fewer original bytes than
	// they hold; oddFracAt and oddLenAt are the first of each (its
	// frame, and the value). oddTime counts the pcapng time stamps
	// beyond an int64 of nanoseconds, oddTimeFrame and oddTimeAt are
	// the first's frame and its time (stampNanos).
	oddFrac, oddLen     uint64
	oddFracAt, oddLenAt [2]uint64
	oddTime             uint64
	oddTimeFrame        uint64
	oddTimeAt           [2]uint64
	// joined counts the pcap file headers found where a record was due
	// and read past (joinedHeader); joinedAt and joinedFrame are the
	// first's offset and the frame after it.
	joined      uint64
	joinedAt    int64
	joinedFrame uint64
	// badOpts counts the interface description blocks with a malformed
	// option list; badOpt is the first one's note.
	badOpts int
	badOpt  string

	// point is the capture point the Reader reads alone (SelectPoint),
	// nil for the whole file; local gives its index of an interface of
	// the file. strays counts the records of no point, strayIface is the
	// first one's interface.
	point      *pointSel
	local      pointIndex
	strays     uint64
	strayIface int
}

// BareError strips the *fs.PathError wrapping, whose message repeats the
// path, keeping the cause (so errors.Is(err, fs.ErrNotExist) still holds):
// for a message that names the file itself, or names another (a temporary
// file's name, .out.pcap.tmp123, means nothing to the user, who is told
// the name they gave).
func BareError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// NewReader reads a capture from r. name is used in error messages and by
// Name; size is the total number of bytes r holds, or -1 if unknown.
// If r is an io.ReaderAt (an *os.File on a regular file, a bytes.Reader),
// Rereader works too, reading r again; r must then stay open.
func NewReader(r io.Reader, name string, size int64) (*Reader, error) {
	if r == nil {
		return nil, fmt.Errorf("%s: no input", name)
	}
	return newReader(nil, r, name, size)
}

// newReader reads a capture from src; ctx is OpenContext's, whose cause
// an *InterruptedError names (src gives way to it, ctxReader), or nil.
func newReader(ctx context.Context, src io.Reader, name string, size int64) (*Reader, error) {
	return newReaderSized(ctx, src, name, size, readBufferSize)
}

// newReaderSized is newReader with a read buffer of at most bufSize
// bytes: FilePoints reads a file's first blocks only.
func newReaderSized(ctx context.Context, src io.Reader, name string, size int64, bufSize int) (*Reader, error) {
	r := &Reader{name: name, size: size, meta: &layout{}, ctx: ctx, run: -1}
	// Remember whether the input can be read again by offset: a file
	// or anything else with ReadAt, except what cannot seek (a pipe).
	if ra, ok := src.(io.ReaderAt); ok {
		if sk, ok := src.(io.Seeker); !ok {
			r.ra = ra
		} else if pos, err := sk.Seek(0, io.SeekCurrent); err == nil {
			r.ra, r.base = ra, pos
		}
	}
	// disk counts what is read from the input; diskBr lets us look at
	// the first bytes, then feeds the decompressor or the main buffer.
	r.disk = &countingReader{r: src}
	diskSize := min(diskBufferSize, bufSize)
	if size >= 0 && size < int64(diskSize) {
		diskSize = max(int(size), 512)
	}
	r.diskBr = bufio.NewReaderSize(r.disk, diskSize)
	m, err := r.diskBr.Peek(2)
	if err != nil && err != io.EOF {
		return nil, r.readError(0, err, "cannot read")
	}
	if len(m) == 2 && binary.BigEndian.Uint16(m) == magicGzip {
		r.meta.gzip = true
		gz, err := newGzipStream(r)
		if err != nil {
			if isStopped(err) {
				return nil, r.interrupted(0, err)
			}
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				return nil, fmt.Errorf("%s: gzip header truncated", name)
			}
			return nil, fmt.Errorf("%s: bad gzip header: %v", name, err)
		}
		r.s.br = bufio.NewReaderSize(gz, bufSize)
	} else {
		// Not compressed. Once diskBr's few peeked bytes are used up,
		// bufio passes the large reads of r.s.br straight through. A
		// small file gets a buffer of its size: records that do not
		// fit in the buffer are still read, by copying.
		if size >= 0 && size < int64(bufSize) {
			bufSize = max(int(size), 4096)
		}
		r.s.br = bufio.NewReaderSize(r.diskBr, bufSize)
	}
	if err := r.readHeader(); err != nil {
		return nil, err
	}
	return r, nil
}

// readHeader recognises the format and reads the file header (pcap) or the
// first Section Header Block (pcapng).
func (r *Reader) readHeader() error {
	m, err := r.s.peek(4)
	if len(m) == 0 {
		switch {
		case err == io.EOF && r.meta.gzip:
			return fmt.Errorf("%s: empty capture (the gzip data decompresses to nothing)", r.name)
		case err == io.EOF:
			return fmt.Errorf("%s: empty file, not a capture", r.name)
		}
		return r.readError(0, err, "cannot read")
	}
	if len(m) < 4 {
		if err != nil && err != io.ErrUnexpectedEOF {
			return r.readError(0, err, "cannot read")
		}
		return fmt.Errorf("%s: not a pcap or pcapng file (only %d bytes: 0x%x)", r.name, len(m), m)
	}
	be := binary.BigEndian.Uint32(m)
	le := binary.LittleEndian.Uint32(m)
	switch {
	case be == magicPcapng:
		return r.readSHB()
	case be == magicPcap || be == magicPcapNs || be == magicModified ||
		le == magicPcap || le == magicPcapNs || le == magicModified:
		return r.readPcapHeader()
	}
	if what := compression(m); what != "" && !r.meta.gzip {
		return fmt.Errorf("%s: %s; synscope reads gzip only", r.name, what)
	}
	return fmt.Errorf("%s: not a pcap or pcapng file (starts with 0x%x)", r.name, m)
}

// compression names the compression (or archive) whose magic number a file
// starts with, and says how to undo it; "" for none synscope knows. tshark
// reads xz, zstd and lz4 itself; synscope reads gzip only.
func compression(m []byte) string {
	switch be := binary.BigEndian.Uint32(m); {
	case be == 0xfd377a58: // FD '7zXZ' 00
		return "xz-compressed: decompress it first (xz -d)"
	case be == 0x28b52ffd: // frame magic 0xFD2FB528, little-endian
		return "zstd-compressed: decompress it first (zstd -d)"
	case be>>8 == 0x425a68 && m[3] >= '1' && m[3] <= '9': // 'BZh' and the block size
		return "bzip2-compressed: decompress it first (bzip2 -d)"
	case be == 0x04224d18 || be == 0x02214c18: // frame, legacy frame
		return "lz4-compressed: decompress it first (lz4 -d)"
	case be == 0x4c5a4950: // 'LZIP'
		return "lzip-compressed: decompress it first (lzip -d)"
	case be>>16 == 0x1f9d:
		return "compressed by compress(1): decompress it first (uncompress, or gzip -d)"
	case be == 0x504b0304: // 'PK' 03 04
		return "a zip archive: extract the capture first (unzip)"
	}
	return ""
}

// readPcapHeader reads the 24-byte header of a classic pcap file.
func (r *Reader) readPcapHeader() error {
	h, err := r.s.next(pcapFileHeaderLen)
	if err != nil {
		return r.damage(0, err, fmt.Sprintf("pcap file header truncated: %d of %d bytes", len(h), pcapFileHeaderLen))
	}
	f, err := parsePcapHeader(h)
	if err != nil {
		return fmt.Errorf("%s: %v", r.name, err)
	}
	r.meta.kind = kindPcap
	r.meta.pcap = f
	r.meta.ifaces = []Interface{f.iface()}
	r.format = f.format()
	return nil
}

// readSHB reads the first Section Header Block of a pcapng file. Errors in
// it make the file unreadable, so it is rejected outright.
func (r *Reader) readSHB() error {
	r.meta.kind = kindPcapng
	r.format = "pcapng"
	h, err := r.s.peek(12)
	if err != nil {
		r.s.next(len(h))
		return r.damage(0, err, fmt.Sprintf("section header block truncated: %d of at least %d bytes", len(h), minBlockLen(blockSHB)))
	}
	if bom := binary.BigEndian.Uint32(h[8:]); bom != byteOrderMagic && bom != byteOrderMagicSwapped {
		return fmt.Errorf("%s: not a pcapng file: bad byte-order magic 0x%08x", r.name, bom)
	}
	// The first block is handled like any later SHB, except that a
	// version we cannot read makes startSection reject the file.
	typ, err := r.readBlock()
	if err == io.EOF || (err == nil && typ != blockSHB) {
		// Cannot happen: we have seen the SHB's first 12 bytes.
		return fmt.Errorf("%s: internal error reading the section header block", r.name)
	}
	return err
}

// Next returns the next packet. It returns io.EOF at a clean end of the
// input, and a *DamageError when the input is truncated or corrupt; all
// later calls return the same error. The Record and its Data are valid
// until the next call to Next.
func (r *Reader) Next() (*Record, error) {
	if m := r.plain; m != nil && r.err == nil {
		// A classic little-endian pcap read through the mapping, and
		// no point selected: most records are whole in the window and
		// nothing in their header is odd. Such a record is taken here,
		// as nextPcap and decodeRecordHeader would take it, without
		// their general checks (the format's byte order and layout,
		// the point, the odd fields' notes); any other goes the
		// general way. About 75 fewer instructions a packet.
		r.inNext = true // for FaultError: the header is read here
		if w := m.available(); len(w) >= pcapRecordHeaderLen {
			h := (*[pcapRecordHeaderLen]byte)(w)
			sec, frac := binary.LittleEndian.Uint32(h[0:]), binary.LittleEndian.Uint32(h[4:])
			caplen, origlen := binary.LittleEndian.Uint32(h[8:]), binary.LittleEndian.Uint32(h[12:])
			n := pcapRecordHeaderLen + int(caplen)
			if caplen <= MaxCapLen && n <= len(w) && frac < r.plainFracLimit && origlen >= caplen &&
				sec>>16 != 0xa1b2 && sec&0xffff != 0xb2a1 { // !pcapMagicLike(w)
				off := r.s.pos
				m.pos += n
				m.moved()
				r.s.pos += int64(n)
				r.frame++
				rec := &r.rec
				rec.Frame = r.frame
				rec.Offset = off
				rec.Timestamp = int64(sec)*1e9 + int64(frac)*r.plainFracScale
				rec.CapLen = caplen
				rec.OrigLen = origlen
				rec.LinkType = r.meta.pcap.linkType
				rec.Interface = 0
				rec.odd = 0
				rec.Data = w[pcapRecordHeaderLen:n:n]
				rec.Direction = linkDirection(rec.LinkType, rec.Data)
				r.inNext = false
				return rec, nil
			}
		}
	}
	if r.plainNG && r.err == nil && r.inSection && !r.secBE {
		// A pcapng read through the mapping, and no point selected:
		// an enhanced packet block of a little-endian section, whole
		// in the window, is taken here (epbFast) without the general
		// way's switch and checks. Its interface not yet published or
		// an odd header take the general way's tail.
		r.inNext = true
		if r.epbFast() {
			if r.rec.Interface < 0 || r.rec.odd != 0 {
				return r.finish(r.publishRecord())
			}
			r.inNext = false
			r.frame++
			r.rec.Frame = r.frame
			if r.rec.Direction == DirUnknown {
				r.rec.Direction = linkDirection(r.rec.LinkType, r.rec.Data)
			}
			return &r.rec, nil
		}
	}
	if r.meta == nil {
		return nil, errors.New("capture: Next on a Reader not made by Open or NewReader")
	}
	if r.err != nil {
		return nil, r.err
	}
	var err error
	r.inNext = true // for FaultError
	for {
		switch r.meta.kind {
		case kindPcap:
			err = r.nextPcap()
		case kindPcapng:
			err = r.nextPacketBlock()
		default:
			err = fmt.Errorf("%s: reader not initialised", r.name)
		}
		// A point's Reader passes over the other points' records.
		if err != nil || r.point == nil || r.inPoint() {
			break
		}
	}
	return r.finish(err)
}

// finish is the end of Next for the record read into r.rec, or for err.
func (r *Reader) finish(err error) (*Record, error) {
	r.inNext = false
	if err != nil {
		if r.meta.kind == kindPcapng {
			// The last section's interfaces are kept though no
			// packet names them: a capture without packets still
			// says what it was (an export of it writes them).
			r.publishAll()
		}
		r.err = err
		return nil, err
	}
	r.frame++
	r.rec.Frame = r.frame
	if r.rec.odd != 0 {
		r.noteOdd()
	}
	if r.rec.Direction == DirUnknown {
		r.rec.Direction = linkDirection(r.rec.LinkType, r.rec.Data)
	}
	return &r.rec, nil
}

// nextPcap reads the next record of a classic pcap file into r.rec.
func (r *Reader) nextPcap() error {
	f := &r.meta.pcap
	for {
		off := r.s.pos
		if m := r.mapped; m != nil {
			// Straight from the mapped window when the record is
			// whole in it: what peek, decodeRecordHeader and next do
			// below, at half the cost.
			if w := m.available(); len(w) >= f.hdrLen {
				caplen, reason := f.decodeRecordHeader(w[:f.hdrLen], &r.rec)
				if n := f.hdrLen + int(caplen); reason == "" && n <= len(w) && !pcapMagicLike(w) {
					m.pos += n
					m.moved()
					r.s.pos += int64(n)
					r.rec.Offset = off
					r.rec.Data = w[f.hdrLen:n:n]
					return nil
				}
			}
		}
		h, err := r.s.peek(f.hdrLen)
		if err == io.EOF {
			return io.EOF
		}
		if len(h) >= 8 && isPcapHeader(h) {
			if err := r.joinedHeader(off); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			r.s.next(len(h))
			return r.damage(off, err, fmt.Sprintf("record header truncated: %d of %d bytes", len(h), f.hdrLen))
		}
		caplen, reason := f.decodeRecordHeader(h, &r.rec)
		if reason != "" {
			if isSHB(h) {
				reason = "a pcapng section header block, where a pcap record was due: a pcapng file joined to a pcap file (cat)? the rest of the file is " +
					r.restOf(off, "pcapng") + "; mergecap joins captures"
			}
			return r.damage(off, nil, reason)
		}
		b, err := r.s.next(f.hdrLen + int(caplen))
		if err != nil {
			return r.damage(off, err, fmt.Sprintf("packet data truncated: %d of %d bytes", max(0, len(b)-f.hdrLen), caplen))
		}
		r.rec.Offset = off
		r.rec.Data = b[f.hdrLen:]
		return nil
	}
}

// pcapMagicLike is a cheap first test for isPcapHeader, for every record:
// the first four bytes, read little-endian, start or end as a pcap magic
// number written in either byte order does (a1b2c3d4, a1b23c4d and
// a1b2cd34, or these reversed).
func pcapMagicLike(b []byte) bool {
	x := binary.LittleEndian.Uint32(b)
	return x>>16 == 0xa1b2 || x&0xffff == 0xb2a1
}

// isPcapHeader tells whether b (8 bytes or more) starts as a pcap file
// header does: a magic number, then version 2.4 in the same byte order.
// In place of a record header, it is a second file's header: files joined
// with cat, or tcpdump -w - appended to a file (>>). As a record header it
// would say 2055 or 2083, and 262,146 or 131,076 µs; a real record saying
// so (a microseconds field out of range, at that second) is not to be met.
func isPcapHeader(b []byte) bool {
	if !pcapMagicLike(b) {
		return false
	}
	for _, o := range []binary.ByteOrder{binary.LittleEndian, binary.BigEndian} {
		switch o.Uint32(b) {
		case magicPcap, magicPcapNs, magicModified:
			return o.Uint16(b[4:]) == 2 && o.Uint16(b[6:]) == 4
		}
	}
	return false
}

// isSHB tells whether b (12 bytes or more) starts as a pcapng section
// header block does: its type, a length, and the byte-order magic.
func isSHB(b []byte) bool {
	if binary.BigEndian.Uint32(b) != blockSHB {
		return false
	}
	bom := binary.BigEndian.Uint32(b[8:])
	return bom == byteOrderMagic || bom == byteOrderMagicSwapped
}

// restOf names the capture that starts at off inside the file, with the
// command that cuts it out (a file of its own, mergecap's to join: it
// cannot read the joined one); ext is its kind.
func (r *Reader) restOf(off int64, ext string) string {
	rest := "a capture of its own"
	if !r.meta.gzip && r.path != "" {
		rest += fmt.Sprintf(" (tail -c +%d %s > rest.%s)", off+1, r.path, ext)
	}
	return rest
}

// joinedHeader handles the pcap file header at off, where a record was
// due (isPcapHeader). A header like the first (the same byte order, time
// stamp precision, format and link type) is read past, and noted: the
// records after it are read as those before. A network engineer who
// joined files with cat, or whose tcpdump -w - >> FILE restarted, wants
// every packet, and no other tool gives them: tcpdump and tshark read the
// header as a record and stop soon after with an error, and neither
// mergecap nor editcap reads past it either. A header unlike the first
// starts another capture, which the records' offsets (Rereader) cannot
// tell apart from this one: that is damage, saying how to read the rest.
// A larger snap length is the file's (an export writes it).
func (r *Reader) joinedHeader(off int64) error {
	h, err := r.s.peek(pcapFileHeaderLen)
	if err != nil {
		r.s.next(len(h))
		return r.damage(off, err, fmt.Sprintf("a second pcap file header (files joined with cat?), truncated: %d of %d bytes", len(h), pcapFileHeaderLen))
	}
	f, err := parsePcapHeader(h)
	if err != nil {
		// Cannot happen: isPcapHeader saw version 2.4.
		return r.damage(off, nil, fmt.Sprintf("a second pcap file header (files joined with cat?): %v", err))
	}
	first := &r.meta.pcap
	if d := first.unlike(&f); d != "" {
		return r.damage(off, nil, fmt.Sprintf("a second pcap file header (files joined with cat?), %s: the rest of the file is %s; mergecap joins captures", d, r.restOf(off, "pcap")))
	}
	r.s.next(pcapFileHeaderLen)
	if m := r.meta; f.snapLen > m.ifaces[0].SnapLen {
		m.mu.Lock()
		m.ifaces[0].SnapLen = f.snapLen
		m.mu.Unlock()
	}
	if r.joined++; r.joined == 1 {
		r.joinedAt, r.joinedFrame = off, r.frame+1
	}
	return nil
}

// nextPacketBlock reads pcapng blocks until it has read a packet into
// r.rec.
func (r *Reader) nextPacketBlock() error {
	if r.mapped == nil || !r.inSection || r.secBE || !r.epbFast() {
		for {
			typ, err := r.readBlock()
			if err != nil {
				return err
			}
			if isPacketBlock(typ) {
				break
			}
		}
	}
	return r.publishRecord()
}

// publishRecord publishes the interface of the packet block just read into
// r.rec when it is the first to name it, and gives the record its index.
func (r *Reader) publishRecord() error {
	if r.rec.Interface < 0 {
		if !r.publish(^r.rec.Interface) {
			return r.damage(r.rec.Offset, nil, fmt.Sprintf("more than %d different interfaces in the file (sections that describe an interface alike count once): the packet block here names one more", maxInterfaces))
		}
		r.rec.Interface = r.ifaces[^r.rec.Interface].Index
	}
	return nil
}

// epbFast takes the next block straight from the mapped window when it is
// an enhanced packet block of a little-endian section (what capture tools
// write on the machines they run on), whole in the window and sound, and
// reports whether it did. It does what readBlock's fast path does, without
// the byte-order tests, error messages and block types that such a block
// needs none of: about 190 instructions a record less. Anything else is
// left to readBlock, which also says what is wrong
// (TestMapInputSameRecords, FuzzReader).
func (r *Reader) epbFast() bool {
	w := r.mapped.available()
	if len(w) < 32 {
		return false
	}
	length := binary.LittleEndian.Uint32(w[4:])
	if binary.LittleEndian.Uint32(w) != blockEPB || length < 32 || length%4 != 0 || length > MaxBlockLen ||
		uint64(length) > uint64(len(w)) || binary.LittleEndian.Uint32(w[length-4:]) != length {
		return false
	}
	body := w[8 : length-4]
	id := binary.LittleEndian.Uint32(body)
	caplen := binary.LittleEndian.Uint32(body[12:])
	if uint64(id) >= uint64(len(r.ifaces)) || caplen > MaxCapLen || int(caplen) > len(body)-20 {
		return false
	}
	ifc := &r.ifaces[id]
	ticks := uint64(binary.LittleEndian.Uint32(body[4:]))<<32 | uint64(binary.LittleEndian.Uint32(body[8:]))
	rec := &r.rec
	rec.CapLen = caplen
	rec.OrigLen = max(binary.LittleEndian.Uint32(body[16:]), caplen)
	rec.odd = 0
	if rec.OrigLen != binary.LittleEndian.Uint32(body[16:]) {
		rec.odd, rec.oddOrig = oddLen, binary.LittleEndian.Uint32(body[16:])
	}
	if ns, ok := plainNanos(ticks, ifc); ok {
		rec.Timestamp = ns
	} else {
		rec.stamp(ticks, ifc)
	}
	rec.LinkType = ifc.LinkType
	rec.Interface = ifc.Index
	rec.Data = body[20 : 20+caplen]
	rec.Direction = DirUnknown
	// The options, if any: tested on their offset before they are
	// sliced, 10 fewer instructions a packet than slicing them first.
	if at := 20 + int((caplen+3)&^3); len(body)-at >= 4 {
		rec.Direction = flagsDirection(body[at:], false)
	}
	rec.Offset = r.s.pos
	r.mapped.pos += int(length)
	r.mapped.moved()
	r.s.pos += int64(length)
	return true
}

// readBlock reads one pcapng block and returns its type. It handles
// section and interface blocks, decodes packet blocks into r.rec, and
// skips the others.
func (r *Reader) readBlock() (uint32, error) {
	off := r.s.pos
	if r.mapped != nil && r.inSection {
		// An enhanced packet block whole in the mapped window, and
		// sound, is taken straight from it: what the code below does,
		// at half the cost. Anything else goes the long way, which
		// also says what is wrong.
		if w := r.mapped.available(); len(w) >= int(minBlockLen(blockEPB)) {
			be := r.secBE
			length := u32(w[4:], be)
			if u32(w, be) == blockEPB && checkBlockLen(blockEPB, length) == "" && int(length) <= len(w) &&
				u32(w[length-4:], be) == length && r.decodePacket(blockEPB, w[8:length-4], be) == "" {
				r.mapped.pos += int(length)
				r.mapped.moved()
				r.s.pos += int64(length)
				r.rec.Offset = off
				return blockEPB, nil
			}
		}
	}
	h, err := r.s.peek(8)
	if err == io.EOF {
		return 0, io.EOF
	}
	if err != nil {
		r.s.next(len(h))
		return 0, r.damage(off, err, fmt.Sprintf("block header truncated: %d of 8 bytes", len(h)))
	}
	be := r.secBE
	typ := u32(h, be)
	if isPcapHeader(h) {
		return 0, r.damage(off, nil, "a pcap file header, where a pcapng block was due: a pcap file joined to a pcapng file (cat)? the rest of the file is "+
			r.restOf(off, "pcap")+"; mergecap joins captures")
	}
	if typ == blockSHB {
		// A new section, with a byte order of its own: the
		// byte-order magic follows the length.
		h, err = r.s.peek(12)
		if err != nil {
			r.s.next(len(h))
			return 0, r.damage(off, err, fmt.Sprintf("section header block truncated: %d of at least %d bytes", len(h), minBlockLen(blockSHB)))
		}
		switch binary.BigEndian.Uint32(h[8:]) {
		case byteOrderMagic:
			be = true
		case byteOrderMagicSwapped:
			be = false
		default:
			return 0, r.damage(off, nil, fmt.Sprintf("section header block has a bad byte-order magic 0x%08x", binary.BigEndian.Uint32(h[8:])))
		}
	}
	length := u32(h[4:], be)
	if reason := checkBlockLen(typ, length); reason != "" {
		return 0, r.damage(off, nil, reason)
	}
	switch typ {
	case blockSHB, blockIDB, blockEPB, blockSPB, blockPB:
	default:
		// Not for us (statistics, name resolution, secrets,
		// custom blocks...): skip it, checking its trailing
		// length.
		if n, err := r.s.skip(int64(length) - 4); err != nil {
			return 0, r.damage(off, truncated(err), fmt.Sprintf("%s truncated: %d of %d bytes", blockName(typ), n, length))
		}
		t, err := r.s.next(4)
		if err != nil {
			return 0, r.damage(off, truncated(err), fmt.Sprintf("%s truncated: %d of %d bytes", blockName(typ), int(length)-4+len(t), length))
		}
		if tl := u32(t, be); tl != length {
			return 0, r.damage(off, nil, fmt.Sprintf("%s trailing length %d does not match its length %d", blockName(typ), tl, length))
		}
		return typ, nil
	}
	b, err := r.s.next(int(length))
	if err != nil {
		return 0, r.damage(off, truncated(err), fmt.Sprintf("%s truncated: %d of %d bytes", blockName(typ), len(b), length))
	}
	if tl := u32(b[length-4:], be); tl != length {
		return 0, r.damage(off, nil, fmt.Sprintf("%s trailing length %d does not match its length %d", blockName(typ), tl, length))
	}
	body := b[8 : length-4]
	switch typ {
	case blockSHB:
		if err := r.startSection(off, body, be); err != nil {
			return 0, err
		}
	case blockIDB:
		if err := r.addInterface(off, body); err != nil {
			return 0, err
		}
	default:
		if !r.inSection {
			return 0, r.damage(off, nil, blockName(typ)+" before any section header block")
		}
		if reason := r.decodePacket(typ, body, be); reason != "" {
			return 0, r.damage(off, nil, reason)
		}
		r.rec.Offset = off
	}
	return typ, nil
}

// truncated makes the io.EOF of a read in the middle of a block an
// io.ErrUnexpectedEOF.
func truncated(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// decodePacket decodes the body of a packet block of the current section
// into r.rec (decodePacketBlock, onInterface); a non-empty reason when the
// block cannot be right. The record's Interface is ^ID when no packet named
// its interface before (nextPacketBlock publishes it).
func (r *Reader) decodePacket(typ uint32, body []byte, be bool) string {
	id, ticks, reason := decodePacketBlock(typ, body, be, &r.rec)
	if reason != "" {
		return reason
	}
	if uint64(id) >= uint64(len(r.ifaces)) {
		return fmt.Sprintf("%s names interface %d but the section defines %d", blockName(typ), id, len(r.ifaces))
	}
	return r.rec.onInterface(typ, &r.ifaces[id], ticks)
}

// startSection handles a Section Header Block. A section's interfaces are
// numbered from 0 again, and the bound on them is the section's.
func (r *Reader) startSection(off int64, body []byte, be bool) error {
	major, minor := u16(body[4:], be), u16(body[6:], be)
	if major != 1 {
		// Readers are to skip sections of a version they do not know;
		// but then a file whose first section is unreadable is not
		// one we can read at all, and a later one is likely damage.
		reason := fmt.Sprintf("unsupported pcapng version %d.%d", major, minor)
		if !r.inSection {
			return fmt.Errorf("%s: %s", r.name, reason)
		}
		return r.damage(off, nil, reason)
	}
	if r.inSection {
		r.secNum++
	}
	r.inSection, r.secBE, r.secOff = true, be, off
	clear(r.ifaces)
	r.ifaces = r.ifaces[:0]
	clear(r.secShared)
	r.run = -1
	r.idbBase = r.idbs
	return nil
}

// addInterface handles an Interface Description Block. The interface is
// the section's until a packet names it (publish): a section whose packets
// name none of its interfaces leaves nothing behind.
func (r *Reader) addInterface(off int64, body []byte) error {
	if !r.inSection {
		return r.damage(off, nil, "interface description block before any section header block")
	}
	if len(r.ifaces) >= maxInterfaces {
		return r.damage(off, nil, fmt.Sprintf("more than %d interfaces in one section", maxInterfaces))
	}
	ifc, bad := decodeIDB(body, r.secBE)
	if bad {
		r.noteBadOptions(off, r.idbs)
	}
	id := len(r.ifaces)
	ifc.Index = ^id
	ifc.Section = r.secNum
	ifc.ID = id
	r.ifaces = append(r.ifaces, ifc)
	r.idbs++
	return nil
}

// ifaceKey is what an interface says (every field of Interface but
// Index, Section and ID), for sections that describe an interface alike
// to share it. marked sets apart an interface of the first section with
// a capture point's mark, which is that point's alone (pointSet.pointOf);
// nth, the section's interfaces of a kind: two alike in one section are
// two interfaces (tshark tells them apart by ID), and stay two.
type ifaceKey struct {
	linkType                         layers.LinkType
	snapLen                          uint32
	tsResol                          uint8
	marked                           bool
	tsOffset                         int64
	fcsLen                           int
	name, desc, filter, os, comments string
	nth                              int32
}

// keyOf returns ifc's ifaceKey, but for nth.
func (r *Reader) keyOf(ifc *Interface) ifaceKey {
	k := ifaceKey{linkType: ifc.LinkType, snapLen: ifc.SnapLen, tsResol: ifc.TsResol, tsOffset: ifc.TsOffset,
		fcsLen: ifc.FCSLen, name: ifc.Name, desc: ifc.Description, filter: ifc.Filter, os: ifc.OS}
	if len(ifc.Comments) > 0 {
		var b []byte
		for _, c := range ifc.Comments {
			b = binary.LittleEndian.AppendUint32(b, uint32(len(c)))
			b = append(b, c...)
			k.marked = k.marked || r.secNum == 0 && isPointComment(c)
		}
		k.comments = string(b)
	}
	return k
}

// publish makes interface id of the current section one of the file's
// (Interfaces), shared with the sections before that described it alike,
// when a packet first names it, and says what id means to the Rereaders:
// in the last run if no section of it meant another interface by id, else
// in a new run from the current section on. It reports false, and does
// nothing, when the interface would be one more than maxInterfaces
// different ones: each costs about 1 KB, and a file of a million sections
// that each describe another interface for one packet (136 MB) took 1 GB.
// Files joined with cat describe a few interfaces again and again.
func (r *Reader) publish(id int) bool {
	ifc := &r.ifaces[id]
	key := r.keyOf(ifc)
	if r.secShared == nil {
		r.shared, r.secShared = map[ifaceKey]int32{}, map[ifaceKey]int32{}
	}
	key.nth = r.secShared[key]
	m := r.meta
	m.mu.Lock()
	defer m.mu.Unlock()
	g, ok := r.shared[key]
	if !ok && len(m.ifaces) >= maxInterfaces {
		return false
	}
	r.secShared[key]++
	if !ok {
		g = int32(len(m.ifaces))
		r.shared[key] = g
		pub := *ifc
		pub.Index = int(g)
		m.ifaces = append(m.ifaces, pub)
	}
	ifc.Index = int(g)
	if m.ids == nil {
		m.ids = map[uint64]int32{}
	}
	if r.run < 0 {
		if len(m.runs) == 0 {
			m.runs = append(m.runs, r.secOff)
		}
		r.run = len(m.runs) - 1
	}
	if have, ok := m.ids[runID(r.run, uint32(id))]; !ok || have == g {
		m.ids[runID(r.run, uint32(id))] = g
		return true
	}
	// A section of the run meant another interface by id: the current
	// section starts a run of its own, with what it published so far.
	m.runs = append(m.runs, r.secOff)
	r.run = len(m.runs) - 1
	for j := range r.ifaces {
		if x := r.ifaces[j].Index; x >= 0 {
			m.ids[runID(r.run, uint32(j))] = int32(x)
		}
	}
	return true
}

// publishAll publishes the current section's interfaces that no packet
// named, as many as the bound leaves room for.
func (r *Reader) publishAll() {
	for id := range r.ifaces {
		if r.ifaces[id].Index < 0 && !r.publish(id) {
			return
		}
	}
}

// noteBadOptions notes the interface description block at off, of
// interface index, whose option list is malformed.
func (r *Reader) noteBadOptions(off int64, index int) {
	if r.badOpts++; r.badOpts == 1 {
		r.badOpt = fmt.Sprintf("interface %d's description block (byte %d) has a malformed option list: the options from the broken one on are ignored; if if_tsresol or if_tsoffset was among them, its times are wrong", index, off)
	}
}

// Notes returns what the Reader found worth a word about the input read so
// far that is not damage (the frames are read all the same): one line
// each, without the input's name. It must not be called while Next runs.
func (r *Reader) Notes() []string {
	out := r.pointNotes()
	switch r.badOpts {
	case 0:
	case 1:
		out = append(out, r.badOpt)
	default:
		out = append(out, fmt.Sprintf("%s; %d more interfaces' blocks are alike", r.badOpt, r.badOpts-1))
	}
	if r.oddFrac > 0 {
		unit, most := "microseconds", "999999"
		if r.meta.pcap.nano {
			unit, most = "nanoseconds", "999999999"
		}
		at, v := r.oddFracAt[0], r.oddFracAt[1]
		if r.oddFrac == 1 {
			out = append(out, fmt.Sprintf("frame %d has a time stamp whose %s field is out of range (%d; at most %s): added to the seconds as it is, so its time is off", at, unit, v, most))
		} else {
			out = append(out, fmt.Sprintf("%d frames have a time stamp whose %s field is out of range (the first, frame %d: %d; at most %s): added to the seconds as they are, so their times are off", r.oddFrac, unit, at, v, most))
		}
	}
	if r.oddTime > 0 {
		when := stampText(r.oddTimeAt[0], r.oddTimeAt[1])
		if r.oddTime == 1 {
			held, _ := fitNanos(r.oddTimeAt[0], r.oddTimeAt[1])
			out = append(out, fmt.Sprintf("frame %d has a time stamp outside what synscope's times hold (1677-09-21 to 2262-04-11): %s, read as %s, so its time is off", r.oddTimeFrame, when, time.Unix(0, held).UTC().Format("2006-01-02 15:04:05 UTC")))
		} else {
			out = append(out, fmt.Sprintf("%d frames have a time stamp outside what synscope's times hold (1677-09-21 to 2262-04-11; the first, frame %d: %s): read as the nearest they hold, so their times are off", r.oddTime, r.oddTimeFrame, when))
		}
	}
	if r.joined > 0 {
		if r.joined == 1 {
			out = append(out, fmt.Sprintf("a second pcap file header at byte %d, before frame %d: files joined with cat (or tcpdump -w - appended to the file)? read on, as it has the first's format and link type; tcpdump and tshark read its bytes as packets and stop there with an error", r.joinedAt, r.joinedFrame))
		} else {
			out = append(out, fmt.Sprintf("%d more pcap file headers (the first at byte %d, before frame %d): files joined with cat (or tcpdump -w - appended to the file)? read on, as each has the first's format and link type; tcpdump and tshark read the first's bytes as packets and stop there with an error", r.joined, r.joinedAt, r.joinedFrame))
		}
	}
	if r.oddLen > 0 {
		at, v := r.oddLenAt[0], r.oddLenAt[1]
		if r.oddLen == 1 {
			out = append(out, fmt.Sprintf("frame %d claims fewer bytes on the wire (%d) than it holds: read as its captured length", at, v))
		} else {
			out = append(out, fmt.Sprintf("%d frames claim fewer bytes on the wire than they hold (the first, frame %d: %d): read as their captured length", r.oddLen, at, v))
		}
	}
	return out
}

// noteOdd counts what r.rec's header said that cannot be right (Notes).
func (r *Reader) noteOdd() {
	if r.rec.odd&oddFrac != 0 {
		if r.oddFrac++; r.oddFrac == 1 {
			r.oddFracAt = [2]uint64{r.frame, uint64(r.rec.oddVal)}
		}
	}
	if r.rec.odd&oddLen != 0 {
		if r.oddLen++; r.oddLen == 1 {
			r.oddLenAt = [2]uint64{r.frame, uint64(r.rec.oddOrig)}
		}
	}
	if r.rec.odd&oddTime != 0 {
		if r.oddTime++; r.oddTime == 1 {
			r.oddTimeFrame, r.oddTimeAt = r.frame, r.rec.oddStamp
		}
	}
}

// damage builds the error for damage found in the record or block at off.
// A read error that is not about the data itself (an I/O error) is
// reported as such instead.
func (r *Reader) damage(off int64, cause error, reason string) error {
	if cause == io.EOF {
		cause = io.ErrUnexpectedEOF
	}
	var trail *gzipTrailError
	if errors.As(cause, &trail) {
		if r.s.pos == off {
			// Nothing of the record was read: the frames before
			// are the whole capture, and gzip -d would say the
			// same of the bytes after it.
			reason = trail.Error()
		} else {
			reason += " (the gzip data ends there, " + trail.followed() + ")"
		}
		return &DamageError{Path: r.name, Offset: off, Frame: r.frame, Reason: reason, Err: cause}
	}
	if cause != nil && cause != io.ErrUnexpectedEOF && !isCorrupt(cause) {
		return r.readError(off, cause, "read error")
	}
	if cause != nil && cause != io.ErrUnexpectedEOF {
		reason = fmt.Sprintf("%s (%v)", reason, cause)
	} else if cause == io.ErrUnexpectedEOF && r.meta.gzip {
		reason += " (compressed data ends)"
	}
	return &DamageError{Path: r.name, Offset: off, Frame: r.frame, Reason: reason, Err: cause}
}

// isCorrupt tells errors from the decompressor about bad compressed data.
func isCorrupt(err error) bool {
	var ce flate.CorruptInputError
	return errors.Is(err, gzip.ErrChecksum) || errors.Is(err, gzip.ErrHeader) || errors.As(err, &ce)
}

// readError reports an input error; a read that gave way to the Reader's
// context is not one, but an *InterruptedError.
func (r *Reader) readError(off int64, err error, what string) error {
	if isStopped(err) {
		return r.interrupted(off, err)
	}
	return fmt.Errorf("%s: %s at byte %d: %w", r.name, what, off, BareError(err))
}

// Name returns the name of the input: the path given to Open ("standard
// input" for "-") or the name given to NewReader.
func (r *Reader) Name() string { return r.name }

// Format returns "pcap", "pcap-ns", "pcap-modified" or "pcapng", followed
// by " (gzip)" when the input is gzip compressed.
func (r *Reader) Format() string {
	if r.meta.gzip {
		return r.format + " (gzip)"
	}
	return r.format
}

// Size returns the size of the input on disk (the compressed size for
// gzip), or -1 when unknown, as for standard input.
func (r *Reader) Size() int64 { return r.size }

// BytesRead returns how much of the on-disk input has been consumed: for a
// progress bar, comparable with Size. For compressed input it counts the
// compressed bytes fed to the decompressor.
func (r *Reader) BytesRead() int64 {
	if r.meta.gzip {
		return r.disk.n - int64(r.diskBr.Buffered())
	}
	return r.s.pos
}

// Interfaces returns the interfaces seen so far: the one interface of a
// pcap file, or those of a pcapng file's Interface Description Blocks that
// the packets read so far named, in the order they first did, once for
// all the sections that describe them alike; also those described before
// the first packet, once Points looked at them, and the last section's,
// once the reading ended (a file without packets has those). Only the
// point's, with their Index among them, for a Reader of one capture point
// (SelectPoint). Record.Interface indexes it.
func (r *Reader) Interfaces() []Interface {
	r.meta.mu.RLock()
	defer r.meta.mu.RUnlock()
	if r.point == nil {
		return append([]Interface(nil), r.meta.ifaces...)
	}
	var out []Interface
	for _, ifc := range r.meta.ifaces {
		if r.point.owns(&ifc) {
			ifc.Index = len(out)
			out = append(out, ifc)
		}
	}
	return out
}

// MapInput makes the Reader read an uncompressed capture file that Open
// opened through a memory mapping of the file rather than read calls, which
// copy every byte once more; it reports whether it did (not for gzip, nor
// for standard input or NewReader's input). Records are the same either way.
//
// A mapped file that shrinks while it is read (truncated by another
// program) faults when a vanished page is touched, in Next or wherever the
// Record's Data is read. The goroutines doing either must run with
// debug.SetPanicOnFault(true) and recover the panic, whose value FaultError
// turns into an error.
func (r *Reader) MapInput() bool {
	f, ok := r.closer.(*os.File)
	if !ok || r.meta.gzip || r.path == "" || r.err != nil || r.mapped != nil {
		return false
	}
	m, err := newMapSource(f, r.base+r.s.pos)
	if err != nil {
		return false
	}
	r.s.br, r.mapped = m, m
	r.plainNG = r.meta.kind == kindPcapng && r.point == nil
	if f := &r.meta.pcap; r.meta.kind == kindPcap && !f.be && !f.modified && f.swapLens == lengthsNotSwapped && r.point == nil {
		r.plain = m
		r.plainFracLimit, r.plainFracScale = 1e6, 1000
		if f.nano {
			r.plainFracLimit, r.plainFracScale = 1e9, 1
		}
	}
	return true
}

// FaultError turns the value recovered from a panic into an error if it
// is a memory fault (see MapInput): reading the mapped file failed, most
// likely because the file was truncated while it was read. It returns nil
// for any other value, which the caller should panic with again.
func (r *Reader) FaultError(v any) error {
	// Only a fault inside the mapped window: with SetPanicOnFault, a
	// nil pointer's fault carries an address too, and is a bug to report
	// as such, not damage.
	f, ok := v.(interface{ Addr() uintptr })
	if !ok || r.mapped == nil || !r.mapped.contains(f.Addr()) {
		return nil
	}
	// A fault in Next is in the record after the last one returned; a
	// fault elsewhere, in the last one returned, whose Data was read.
	off, frame := r.s.pos, r.frame
	if !r.inNext && frame > 0 {
		off, frame = r.rec.Offset, frame-1
	}
	r.inNext = false
	r.err = &DamageError{Path: r.name, Offset: off, Frame: frame,
		Reason: "the file ends here: it shrank while it was read (truncated by another program?)", Err: io.ErrUnexpectedEOF}
	return r.err
}

// Close closes the file Open opened (never standard input, nor the
// io.Reader given to NewReader). Rereaders made from the Reader stay
// usable.
func (r *Reader) Close() error {
	r.err = fmt.Errorf("%s: reader is closed", r.name)
	if r.mapped != nil {
		r.mapped.close()
		r.mapped, r.plain, r.plainNG = nil, nil, false
	}
	if r.closer == nil {
		return nil
	}
	c := r.closer
	r.closer = nil
	if err := c.Close(); err != nil {
		return fmt.Errorf("%s: close: %w", r.name, BareError(err))
	}
	return nil
}
