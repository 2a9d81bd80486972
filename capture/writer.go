package capture

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"math/bits"
	"os"
	"path/filepath"

	"github.com/gopacket/gopacket/layers"
)

// PcapWriter writes a classic pcap file: one link type, microsecond or
// nanosecond time stamps, little-endian.
type PcapWriter struct {
	w     *bufio.Writer
	nanos bool
	hdr   [16]byte
}

// NewPcapWriter writes the file header and returns a writer for packets of
// one link type. With nanos the file uses the nanosecond magic (a1b23c4d).
func NewPcapWriter(w io.Writer, lt layers.LinkType, snaplen uint32, nanos bool) (*PcapWriter, error) {
	pw := &PcapWriter{w: bufio.NewWriterSize(w, 1<<16), nanos: nanos}
	var h [24]byte
	magic := uint32(0xa1b2c3d4)
	if nanos {
		magic = 0xa1b23c4d
	}
	if snaplen == 0 {
		snaplen = MaxCapLen
	}
	binary.LittleEndian.PutUint32(h[0:], magic)
	binary.LittleEndian.PutUint16(h[4:], 2)
	binary.LittleEndian.PutUint16(h[6:], 4)
	binary.LittleEndian.PutUint32(h[16:], snaplen)
	binary.LittleEndian.PutUint32(h[20:], uint32(lt))
	_, err := pw.w.Write(h[:])
	return pw, err
}

// WritePacket writes one record with its time stamp, captured and original
// lengths and bytes. A time stamp finer than the file's precision is
// truncated, as tcpdump does.
func (pw *PcapWriter) WritePacket(rec *Record) error {
	sec, frac := splitTime(rec.Timestamp)
	if !pw.nanos {
		frac /= 1000
	}
	orig := max(rec.OrigLen, uint32(len(rec.Data)))
	binary.LittleEndian.PutUint32(pw.hdr[0:], uint32(sec))
	binary.LittleEndian.PutUint32(pw.hdr[4:], uint32(frac))
	binary.LittleEndian.PutUint32(pw.hdr[8:], uint32(len(rec.Data)))
	binary.LittleEndian.PutUint32(pw.hdr[12:], orig)
	if _, err := pw.w.Write(pw.hdr[:]); err != nil {
		return err
	}
	_, err := pw.w.Write(rec.Data)
	return err
}

// Flush writes out what is buffered.
func (pw *PcapWriter) Flush() error { return pw.w.Flush() }

// splitTime splits Unix nanoseconds into seconds and nanoseconds, the
// latter in [0, 1e9) also before 1970.
func splitTime(ns int64) (int64, int64) {
	sec, frac := ns/1e9, ns%1e9
	if frac < 0 {
		sec--
		frac += 1e9
	}
	return sec, frac
}

// pcapng block types and option codes the writer uses.
const (
	ngSHB           = 0x0A0D0D0A
	ngIDB           = 0x00000001
	ngEPB           = 0x00000006
	ngByteOrder     = 0x1A2B3C4D
	ngOptEnd        = 0
	ngOptComment    = 1
	ngOptIfName     = 2
	ngOptIfDescr    = 3
	ngOptTsResol    = 9
	ngOptTsOffset   = 14
	ngOptEpbFlags   = 2
	ngOptShbUserApp = 4
)

// PcapngWriter writes a pcapng file: one section, any number of
// interfaces (each with its own link type and time stamp resolution), and
// enhanced packet blocks with the direction flag and comments.
type PcapngWriter struct {
	w      *bufio.Writer
	ifaces []ngIface
	buf    []byte
}

// ngIface is what WritePacket needs of an interface: its if_tsresol, and
// its if_tsoffset in nanoseconds.
type ngIface struct {
	resol  uint8
	offset int64
}

// NewPcapngWriter writes the section header, with the comments given
// (opt_comment), and returns the writer. It buffers what it writes, in w
// itself when w is a *bufio.Writer of 64 KiB or more (bufio.NewWriterSize
// returns it then).
func NewPcapngWriter(w io.Writer, comments ...string) (*PcapngWriter, error) {
	nw := &PcapngWriter{w: bufio.NewWriterSize(w, 1<<16)}
	b := nw.buf[:0]
	b = binary.LittleEndian.AppendUint32(b, ngSHB)
	b = binary.LittleEndian.AppendUint32(b, 0) // length, set below
	b = binary.LittleEndian.AppendUint32(b, ngByteOrder)
	b = binary.LittleEndian.AppendUint16(b, 1)
	b = binary.LittleEndian.AppendUint16(b, 0)
	b = binary.LittleEndian.AppendUint64(b, math.MaxUint64) // section length unknown
	for _, c := range comments {
		b = appendOption(b, ngOptComment, []byte(c))
	}
	b = appendOption(b, ngOptShbUserApp, []byte("synscope"))
	b = appendOption(b, ngOptEnd, nil)
	nw.buf = b
	return nw, nw.writeBlock()
}

// AddInterface adds an interface with nanosecond time stamps and returns
// its id for WritePacket.
func (nw *PcapngWriter) AddInterface(lt layers.LinkType, snaplen uint32, name string) (int, error) {
	return nw.AddInterfaceLike(Interface{LinkType: lt, SnapLen: snaplen, Name: name, TsResol: 9})
}

// AddInterfaceLike adds an interface with the link type, snap length,
// name, description, comments, time stamp resolution and offset of a
// source's interface, so that packets keep their precision, and their
// times before 1970: the ticks are unsigned, and such times are the
// offset's (if_tsoffset) and ticks after it. It returns the id for
// WritePacket.
func (nw *PcapngWriter) AddInterfaceLike(in Interface) (int, error) {
	resol := in.TsResol
	if resol == 0 {
		resol = 6
	}
	// An offset beyond an int64 of nanoseconds (292 years) leaves no
	// time that Record.Timestamp holds unpinned: not written.
	offset := in.TsOffset
	if offset > math.MaxInt64/1_000_000_000 || offset < math.MinInt64/1_000_000_000 {
		offset = 0
	}
	b := nw.buf[:0]
	b = binary.LittleEndian.AppendUint32(b, ngIDB)
	b = binary.LittleEndian.AppendUint32(b, 0)
	b = binary.LittleEndian.AppendUint16(b, uint16(in.LinkType))
	b = binary.LittleEndian.AppendUint16(b, 0)
	b = binary.LittleEndian.AppendUint32(b, in.SnapLen)
	if in.Name != "" {
		b = appendOption(b, ngOptIfName, []byte(in.Name))
	}
	if in.Description != "" {
		b = appendOption(b, ngOptIfDescr, []byte(in.Description))
	}
	if resol != 6 {
		b = appendOption(b, ngOptTsResol, []byte{resol})
	}
	if offset != 0 {
		b = appendOption(b, ngOptTsOffset, binary.LittleEndian.AppendUint64(nil, uint64(offset)))
	}
	for _, c := range in.Comments {
		b = appendOption(b, ngOptComment, []byte(c))
	}
	b = appendOption(b, ngOptEnd, nil)
	nw.buf = b
	if err := nw.writeBlock(); err != nil {
		return 0, err
	}
	nw.ifaces = append(nw.ifaces, ngIface{resol: resol, offset: offset * 1e9})
	return len(nw.ifaces) - 1, nil
}

// WritePacket writes one record on interface iface, with its direction
// (epb_flags) when known and a comment block option per comment.
func (nw *PcapngWriter) WritePacket(iface int, rec *Record, comments ...string) error {
	if iface < 0 || iface >= len(nw.ifaces) {
		return fmt.Errorf("pcapng: no interface %d", iface)
	}
	in := nw.ifaces[iface]
	ns := rec.Timestamp - in.offset
	switch {
	// Beyond an int64: a time pinned in reading (fitNanos).
	case in.offset > 0 && ns > rec.Timestamp:
		ns = math.MinInt64
	case in.offset < 0 && ns < rec.Timestamp:
		ns = math.MaxInt64
	}
	ticks := nanosToTicks(ns, in.resol)
	orig := max(rec.OrigLen, uint32(len(rec.Data)))
	b := nw.buf[:0]
	b = binary.LittleEndian.AppendUint32(b, ngEPB)
	b = binary.LittleEndian.AppendUint32(b, 0)
	b = binary.LittleEndian.AppendUint32(b, uint32(iface))
	b = binary.LittleEndian.AppendUint32(b, uint32(ticks>>32))
	b = binary.LittleEndian.AppendUint32(b, uint32(ticks))
	b = binary.LittleEndian.AppendUint32(b, uint32(len(rec.Data)))
	b = binary.LittleEndian.AppendUint32(b, orig)
	head := len(b)
	// The packet's bytes go to the buffered writer as they are, between
	// the header and the rest of the block, not through nw.buf.
	b = append(b, make([]byte, ngPad(len(rec.Data)))...)
	if rec.Direction != DirUnknown {
		b = appendOption(b, ngOptEpbFlags, binary.LittleEndian.AppendUint32(nil, uint32(rec.Direction)))
	}
	for _, c := range comments {
		b = appendOption(b, ngOptComment, []byte(c))
	}
	if rec.Direction != DirUnknown || len(comments) > 0 {
		b = appendOption(b, ngOptEnd, nil)
	}
	nw.buf = b
	return nw.writeBlockWith(head, rec.Data)
}

// Flush writes out what is buffered.
func (nw *PcapngWriter) Flush() error { return nw.w.Flush() }

// writeBlock finishes the block in nw.buf (type and body, length still 0)
// with its two length fields and writes it.
func (nw *PcapngWriter) writeBlock() error { return nw.writeBlockWith(len(nw.buf), nil) }

// writeBlockWith is writeBlock for a block whose body has data at byte at
// of nw.buf, written from where it is rather than copied into nw.buf.
func (nw *PcapngWriter) writeBlockWith(at int, data []byte) error {
	n := uint32(len(nw.buf) + len(data) + 4)
	binary.LittleEndian.PutUint32(nw.buf[4:], n)
	nw.buf = binary.LittleEndian.AppendUint32(nw.buf, n)
	if _, err := nw.w.Write(nw.buf[:at]); err != nil {
		return err
	}
	if _, err := nw.w.Write(data); err != nil {
		return err
	}
	_, err := nw.w.Write(nw.buf[at:])
	return err
}

func appendOption(b []byte, code uint16, val []byte) []byte {
	if len(val) > math.MaxUint16 {
		// An option's length is 16 bits: a longer value, written
		// whole, would be read as its length's worth and the rest as
		// options.
		val = val[:math.MaxUint16]
	}
	b = binary.LittleEndian.AppendUint16(b, code)
	b = binary.LittleEndian.AppendUint16(b, uint16(len(val)))
	b = append(b, val...)
	return append(b, make([]byte, ngPad(len(val)))...)
}

func ngPad(n int) int { return (4 - n%4) % 4 }

// nanosToTicks converts Unix nanoseconds to units of an if_tsresol: exact
// for the decimal resolutions up to nanoseconds, and for the binary ones up
// to 2^-29 s gives back the ticks ticksToNanos read. ticksToNanos rounds a
// binary fraction down to the nanosecond, so the ticks are the fraction's
// rounded up: with the fraction truncated twice (and through a float64),
// 12 of 12 time stamps of a 2^-20 file were written one tick early.
func nanosToTicks(ns int64, resol uint8) uint64 {
	if resol&0x80 != 0 {
		sec, frac := splitTime(ns)
		shift := uint(resol & 0x7f)
		if shift > 63 {
			shift = 63
		}
		// ceil(frac × 2^shift / 1e9) in 128 bits: frac < 1e9 < 2^30,
		// so the quotient's high word is 0 and Div64 cannot panic.
		hi, lo := bits.Mul64(uint64(frac), uint64(1)<<shift)
		lo, carry := bits.Add64(lo, 1e9-1, 0)
		ticks, _ := bits.Div64(hi+carry, lo, 1e9)
		return uint64(sec)<<shift + ticks
	}
	switch {
	case resol == 9:
		return uint64(ns)
	case resol < 9:
		div := uint64(math.Pow10(int(9 - resol)))
		sec, frac := splitTime(ns)
		return uint64(sec)*uint64(math.Pow10(int(resol))) + uint64(frac)/div
	default:
		return uint64(ns) * uint64(math.Pow10(int(min(resol, 18)-9)))
	}
}

// AtomicFile is an output file written under a temporary name in the same
// directory (created 0600 with O_EXCL, so never through a planted link) and
// put in place by Commit: a reader never sees half a file, and a failed
// write leaves the old file, if any, as it was.
type AtomicFile struct {
	*os.File
	path      string
	overwrite bool
	done      bool
}

// CreateAtomic starts writing path. It refuses to replace an existing file
// unless overwrite is set, and never replaces anything but a regular file.
func CreateAtomic(path string, overwrite bool) (*AtomicFile, error) {
	if err := checkTarget(path, overwrite); err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return nil, fmt.Errorf("%s: cannot create: %w", path, BareError(err))
	}
	return &AtomicFile{File: f, path: path, overwrite: overwrite}, nil
}

// checkTarget says whether path may be written: it must not exist, or,
// with overwrite, be a regular file (a link is never followed).
func checkTarget(path string, overwrite bool) error {
	fi, err := os.Lstat(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("%s: %w", path, BareError(err))
	case !overwrite:
		return existsError(path)
	case !fi.Mode().IsRegular():
		return fmt.Errorf("%s: exists and is not a regular file; refusing to replace it", path)
	}
	return nil
}

// existsError says that path exists and may not be replaced. It is
// fs.ErrExist to errors.Is, so that a caller can name its own way of
// allowing it (the command line's --overwrite, the view's y).
type existsError string

func (e existsError) Error() string {
	return string(e) + ": already exists; choose another name or allow overwriting"
}

func (e existsError) Unwrap() error { return fs.ErrExist }

// Commit flushes the file to disk and puts it in place. Without overwrite
// it is linked to its name, which fails if a file of that name appeared in
// the meantime (no check-then-rename race); with overwrite it is renamed
// over the old one, which replaces a link rather than following it.
func (a *AtomicFile) Commit() error {
	if a.done {
		return nil
	}
	a.done = true
	tmp := a.File.Name()
	defer os.Remove(tmp) // after a link, or after a failure
	if err := a.File.Sync(); err != nil {
		a.File.Close()
		return fmt.Errorf("%s: %w", a.path, BareError(err))
	}
	if err := a.File.Close(); err != nil {
		return fmt.Errorf("%s: %w", a.path, BareError(err))
	}
	if !a.overwrite {
		err := os.Link(tmp, a.path)
		if err == nil {
			return nil
		}
		if errors.Is(err, os.ErrExist) {
			return existsError(a.path)
		}
		// A file system without hard links: check, then rename.
		if err := checkTarget(a.path, false); err != nil {
			return err
		}
	} else if err := checkTarget(a.path, true); err != nil {
		return err
	}
	if err := os.Rename(tmp, a.path); err != nil {
		return fmt.Errorf("%s: %w", a.path, BareError(err))
	}
	return nil
}

// CommitPartial keeps what a write that failed part way (a full disk) left
// in the file: it is cut after its last whole record or block, so that it
// is a valid capture, and put in place as Commit does. It returns the
// number of packets kept; with none (not even the file header fitted) the
// file is removed instead and the destination is untouched.
func (a *AtomicFile) CommitPartial() (int, error) {
	if a.done {
		return 0, nil
	}
	end, packets, err := validPrefix(a.File)
	if err != nil || packets == 0 {
		a.Abort()
		return 0, err
	}
	if err := a.File.Truncate(end); err != nil {
		a.Abort()
		return 0, fmt.Errorf("%s: %w", a.path, BareError(err))
	}
	return packets, a.Commit()
}

// validPrefix reads the capture in f from its start and returns where its
// last whole record or block ends and how many packets come before that.
func validPrefix(f *os.File) (end int64, packets int, err error) {
	size, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return 0, 0, err
	}
	r, err := NewReader(io.NewSectionReader(f, 0, size), f.Name(), size)
	if err != nil {
		return 0, 0, nil // not even the header is whole
	}
	end = r.BytesRead()
	for {
		_, err := r.Next()
		if err != nil {
			return end, packets, nil
		}
		packets++
		end = r.BytesRead()
	}
}

// Abort removes the temporary file; the destination is untouched. It does
// nothing after Commit.
func (a *AtomicFile) Abort() {
	if a.done {
		return
	}
	a.done = true
	a.File.Close()
	os.Remove(a.File.Name())
}
