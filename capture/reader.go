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
)

// StdinName is the name a Reader opened on "-" goes by.
const StdinName = "standard input"

// Kinds of capture files.
const (
	kindPcap = iota + 1
	kindPcapng
)

// layout is what a Reader learns about a file's structure that is needed
// to decode records again later: the pcap header, or the pcapng sections
// and interfaces. The Reader is its only writer and appends under mu;
// Rereaders read it under mu, possibly while the Reader goes on.
// Interfaces and sections are never changed once appended, except for the
// interface count of the last section.
type layout struct {
	mu       sync.RWMutex
	kind     int
	gzip     bool
	pcap     pcapFormat
	sections []section
	ifaces   []Interface
}

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

	meta   *layout
	format string
	frame  uint64 // frames returned so far
	err    error  // sticky error, returned by every Next after it
	rec    Record

	// pcapng: the current section, its number and its interfaces
	sec    *section
	secNum int
	ifaces []Interface

	// oddFrac and oddLen count the records whose sub-second field was
	// out of range, and those that claimed fewer original bytes than
	// they hold; oddFracAt and oddLenAt are the first of each (its
	// frame, and the value).
	oddFrac, oddLen     uint64
	oddFracAt, oddLenAt [2]uint64
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
	r := &Reader{name: name, size: size, meta: &layout{}, ctx: ctx}
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
	r.inNext = false
	if err != nil {
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
	off := r.s.pos
	if m := r.mapped; m != nil {
		// Straight from the mapped window when the record is whole in
		// it: what peek, decodeRecordHeader and next do below, at half
		// the cost.
		if w := m.available(); len(w) >= f.hdrLen {
			caplen, reason := f.decodeRecordHeader(w[:f.hdrLen], &r.rec)
			if n := f.hdrLen + int(caplen); reason == "" && n <= len(w) {
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
	if err != nil {
		r.s.next(len(h))
		return r.damage(off, err, fmt.Sprintf("record header truncated: %d of %d bytes", len(h), f.hdrLen))
	}
	caplen, reason := f.decodeRecordHeader(h, &r.rec)
	if reason != "" {
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

// nextPacketBlock reads pcapng blocks until it has read a packet into
// r.rec.
func (r *Reader) nextPacketBlock() error {
	if r.mapped != nil && r.sec != nil && !r.sec.be && r.epbFast() {
		return nil
	}
	for {
		typ, err := r.readBlock()
		if err != nil {
			return err
		}
		if isPacketBlock(typ) {
			return nil
		}
	}
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
	if uint64(id) >= uint64(len(r.ifaces)) || caplen > MaxCapLen || uint64(caplen) > uint64(len(body)-20) {
		return false
	}
	ifc := &r.ifaces[id]
	ticks := uint64(binary.LittleEndian.Uint32(body[4:]))<<32 | uint64(binary.LittleEndian.Uint32(body[8:]))
	rec := &r.rec
	rec.Timestamp = ticksToNanos(ticks, ifc.TsResol) + ifc.TsOffset*1e9
	rec.CapLen = caplen
	rec.OrigLen = max(binary.LittleEndian.Uint32(body[16:]), caplen)
	rec.odd = 0
	if rec.OrigLen != binary.LittleEndian.Uint32(body[16:]) {
		rec.odd, rec.oddOrig = oddLen, binary.LittleEndian.Uint32(body[16:])
	}
	rec.LinkType = ifc.LinkType
	rec.Interface = ifc.Index
	rec.Data = body[20 : 20+caplen]
	rec.Direction = DirUnknown
	if opts := body[min(len(body), 20+int((caplen+3)&^3)):]; len(opts) >= 4 {
		rec.Direction = flagsDirection(opts, false)
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
	if r.mapped != nil && r.sec != nil {
		// An enhanced packet block whole in the mapped window, and
		// sound, is taken straight from it: what the code below does,
		// at half the cost. Anything else goes the long way, which
		// also says what is wrong.
		if w := r.mapped.available(); len(w) >= int(minBlockLen(blockEPB)) {
			be := r.sec.be
			length := u32(w[4:], be)
			if u32(w, be) == blockEPB && checkBlockLen(blockEPB, length) == "" && int(length) <= len(w) &&
				u32(w[length-4:], be) == length && decodePacketBlock(blockEPB, w[8:length-4], be, r.ifaces, &r.rec) == "" {
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
	be := r.sec != nil && r.sec.be
	typ := u32(h, be)
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
		if r.sec == nil {
			return 0, r.damage(off, nil, blockName(typ)+" before any section header block")
		}
		if reason := decodePacketBlock(typ, body, be, r.ifaces, &r.rec); reason != "" {
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

// startSection handles a Section Header Block.
func (r *Reader) startSection(off int64, body []byte, be bool) error {
	major, minor := u16(body[4:], be), u16(body[6:], be)
	if major != 1 {
		// Readers are to skip sections of a version they do not know;
		// but then a file whose first section is unreadable is not
		// one we can read at all, and a later one is likely damage.
		reason := fmt.Sprintf("unsupported pcapng version %d.%d", major, minor)
		if r.sec == nil {
			return fmt.Errorf("%s: %s", r.name, reason)
		}
		return r.damage(off, nil, reason)
	}
	m := r.meta
	m.mu.Lock()
	defer m.mu.Unlock()
	sec := section{offset: off, be: be, firstIface: len(m.ifaces)}
	if n := len(m.sections); n > 0 && m.sections[n-1].nIfaces == 0 {
		// The previous section defined no interface, so no packet can
		// refer to it: reuse its entry, which keeps the list as short
		// as the list of interfaces.
		m.sections[n-1] = sec
	} else {
		m.sections = append(m.sections, sec)
	}
	if r.sec != nil {
		r.secNum++
	}
	r.sec = &m.sections[len(m.sections)-1]
	r.ifaces = nil
	return nil
}

// addInterface handles an Interface Description Block.
func (r *Reader) addInterface(off int64, body []byte) error {
	if r.sec == nil {
		return r.damage(off, nil, "interface description block before any section header block")
	}
	m := r.meta
	if len(m.ifaces) >= maxInterfaces {
		return r.damage(off, nil, fmt.Sprintf("more than %d interfaces", maxInterfaces))
	}
	ifc, bad := decodeIDB(body, r.sec.be)
	if bad {
		r.noteBadOptions(off, len(m.ifaces))
	}
	ifc.Index = len(m.ifaces)
	ifc.Section = r.secNum
	ifc.ID = r.sec.nIfaces
	m.mu.Lock()
	m.ifaces = append(m.ifaces, ifc)
	r.sec.nIfaces++
	m.mu.Unlock()
	r.ifaces = m.ifaces[r.sec.firstIface:]
	return nil
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
// pcap file, or the Interface Description Blocks of all the sections of a
// pcapng file read so far, in order; only the point's, with their Index
// among them, for a Reader of one capture point (SelectPoint).
// Record.Interface indexes it.
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
		r.mapped = nil
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
