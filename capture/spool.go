package capture

import (
	"bufio"
	"cmp"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"
)

// DefaultSpoolSize bounds a spool when SpoolOptions.MaxSize is 0. $TMPDIR
// is often a tmpfs, that is memory.
const DefaultSpoolSize = 256 << 20

// DefaultSpoolSegments is how many files a spool's size is divided into
// when SpoolOptions.Segments is 0: rotation drops an eighth at a time.
const DefaultSpoolSegments = 8

// minSegmentSize is the smallest segment NewSpool accepts.
const minSegmentSize = 4 << 10

// SpoolOptions configures a Spool.
type SpoolOptions struct {
	// Dir is where the spool's private directory is made (--spool DIR);
	// "" means os.TempDir(), that is $TMPDIR or /tmp.
	Dir string
	// MaxSize bounds the bytes on disk (--spool-size); 0 means
	// DefaultSpoolSize. It is divided among Segments files: when the
	// newest is full a new one is started, and the oldest is deleted
	// once there are Segments of them, so that the total stays under
	// MaxSize (a packet larger than a segment gets a file to itself).
	MaxSize int64
	// Segments is the number of files; 0 means DefaultSpoolSegments.
	Segments int
	// Keep leaves the files in place at Close (--keep-spool).
	Keep bool
	// OnRotate, if set, is called (in the goroutine of WritePacket,
	// after the spool's lock is released) each time the oldest file is
	// deleted.
	OnRotate func(SpoolRotation)
}

// SpoolRotation describes a file rotated out of a spool.
type SpoolRotation struct {
	Segment    SpoolSegment
	Rotations  uint64 // how many files have been rotated out so far, this one included
	LostFrames uint64 // packets rotated out so far, this file's included
}

// SpoolSegment is one file of a spool.
type SpoolSegment struct {
	Seq        uint64 // 1 for the first file, then 2, 3...
	Path       string
	Size       int64
	Packets    uint64
	FirstFrame uint64 // Record.Frame of its first and last packets (0 if none)
	LastFrame  uint64
}

// SpoolRef says where WritePacket wrote a packet: which segment, and the
// offset of its block in that file (a Record.Offset, for Rereader.ReadAt on
// a Reader opened on the segment's Path).
type SpoolRef struct {
	Seq    uint64
	Offset int64
}

// SpoolStats are a spool's counters.
type SpoolStats struct {
	Packets        uint64 // written in all
	Bytes          int64  // on disk now
	Segments       int    // files on disk now
	Rotations      uint64 // files deleted to stay under MaxSize
	RotatedPackets uint64 // packets in them
	RotatedBytes   int64
	OldestFrame    uint64 // Record.Frame of the oldest packet still in the spool (0 if none)
}

// Spool keeps live packets in pcapng files in a private directory (0700;
// files 0600), bounded in size by rotation, so that they can be read again
// (drill-down, export) as from any capture file. It is safe for use by
// several goroutines.
type Spool struct {
	mu       sync.Mutex
	dir      string
	segSize  int64
	maxSegs  int
	keep     bool
	onRotate func(SpoolRotation)
	ifaces   []Interface

	segs    []SpoolSegment // on disk, oldest first; the last is open
	cur     *spoolFile
	nextSeq uint64
	stats   SpoolStats
	err     error // sticky write error
	closed  bool

	// The read side (ReadPacket, Export): a Reader and Rereader per
	// segment, opened when first needed, under rmu. rmu is taken before
	// mu, never after.
	rmu     sync.Mutex
	readers map[uint64]*segmentReader
}

// segmentReader reads packets back from one segment.
type segmentReader struct {
	r  *Reader
	rr *Rereader
}

func (sr *segmentReader) close() {
	sr.rr.Close()
	sr.r.Close()
}

// ErrRotatedOut is matched (errors.Is) by the error ReadPacket returns for
// a packet whose segment was rotated out of the spool.
var ErrRotatedOut = errors.New("rotated out of the spool")

// spoolFile is the segment being written: file ← counter ← bufio ←
// PcapngWriter, which writes into the bufio.Writer itself (it takes one
// that is big enough as its own). A block's offset is what the counter
// has passed to the file plus what the buffer holds. Before, the writer
// had a buffer of its own, flushed after each packet to count it: two
// more copies of every packet, when copying was most of the spool's
// time at 300,000 packets a second.
type spoolFile struct {
	f   *os.File
	bw  *bufio.Writer
	cw  *countingWriter
	nw  *PcapngWriter
	ids []int // pcapng interface id per Interface index
}

// pos is the offset in the file of the next byte written.
func (sf *spoolFile) pos() int64 { return sf.cw.n + int64(sf.bw.Buffered()) }

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// NewSpool makes the spool's directory. Each file gets one interface per
// ifaces entry, in order: a Record's Interface indexes it. Create it after
// DropPrivileges, so that it belongs to the user capturing.
func NewSpool(opts SpoolOptions, ifaces ...Interface) (*Spool, error) {
	if len(ifaces) == 0 {
		return nil, errors.New("spool: no interface")
	}
	if opts.MaxSize < 0 || opts.Segments < 0 {
		return nil, errors.New("spool: negative size or segment count")
	}
	if opts.MaxSize == 0 {
		opts.MaxSize = DefaultSpoolSize
	}
	if opts.Segments == 0 {
		opts.Segments = DefaultSpoolSegments
	}
	segSize := opts.MaxSize / int64(opts.Segments)
	if segSize < minSegmentSize {
		return nil, fmt.Errorf("spool: %d bytes in %d files is too small (at least %d bytes a file)", opts.MaxSize, opts.Segments, minSegmentSize)
	}
	parent := opts.Dir
	if parent == "" {
		parent = os.TempDir()
	}
	dir, err := os.MkdirTemp(parent, "synscope-spool-")
	if err != nil {
		return nil, &SpoolDirError{Dir: parent, Err: pathCause(err)}
	}
	// MkdirTemp makes it 0700; say so in case of an odd umask handling.
	if err := os.Chmod(dir, 0o700); err != nil {
		os.Remove(dir)
		return nil, &SpoolDirError{Dir: parent, Err: pathCause(err)}
	}
	return &Spool{
		dir:      dir,
		segSize:  segSize,
		maxSegs:  opts.Segments,
		keep:     opts.Keep,
		onRotate: opts.OnRotate,
		ifaces:   append([]Interface(nil), ifaces...),
		nextSeq:  1,
	}, nil
}

// SpoolDirError is a spool directory that could not be made in Dir.
type SpoolDirError struct {
	Dir string
	Err error
}

func (e *SpoolDirError) Error() string {
	return fmt.Sprintf("spool: cannot make its directory in %s: %v", e.Dir, e.Err)
}

func (e *SpoolDirError) Unwrap() error { return e.Err }

// pathCause returns the reason of a *fs.PathError (its path is said
// otherwise), or err.
func pathCause(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// Dir returns the spool's directory.
func (s *Spool) Dir() string { return s.dir }

// SetKeep says whether Close leaves the files (for -w, --keep-spool).
func (s *Spool) SetKeep(keep bool) {
	s.mu.Lock()
	s.keep = keep
	s.mu.Unlock()
}

// WritePacket appends a packet, with comments (pcapng opt_comment), and
// says where it went. It starts a new file when the current one is full,
// deleting the oldest when there are as many as SpoolOptions.Segments.
// After a write error, every call returns it.
func (s *Spool) WritePacket(rec *Record, comments ...string) (SpoolRef, error) {
	s.mu.Lock()
	ref, rot, err := s.write(rec, comments)
	cb := s.onRotate
	first := uint64(0)
	if len(s.segs) > 0 {
		first = s.segs[0].Seq
	}
	s.mu.Unlock()
	if rot != nil {
		// A reader left open on the segment rotated out would keep its
		// space (memory, on a tmpfs) until the next ReadPacket. Unless
		// a read or an export holds the readers now (the capture must
		// not wait for it), close it here.
		if s.rmu.TryLock() {
			for seq, sr := range s.readers {
				if seq < first {
					sr.close()
					delete(s.readers, seq)
				}
			}
			s.rmu.Unlock()
		}
		if cb != nil {
			cb(*rot)
		}
	}
	return ref, err
}

func (s *Spool) write(rec *Record, comments []string) (SpoolRef, *SpoolRotation, error) {
	if s.closed {
		return SpoolRef{}, nil, errors.New("spool: closed")
	}
	if s.err != nil {
		return SpoolRef{}, nil, s.err
	}
	if rec.Interface < 0 || rec.Interface >= len(s.ifaces) {
		return SpoolRef{}, nil, fmt.Errorf("spool: packet on interface %d, the spool has %d", rec.Interface, len(s.ifaces))
	}
	// An upper bound of the block's size: header, data, padding,
	// flags, comments, end of options.
	est := int64(32 + len(rec.Data) + 3 + 12 + 4)
	for _, c := range comments {
		est += int64(4 + len(c) + 3)
	}
	var rot *SpoolRotation
	if s.cur != nil && s.segs[len(s.segs)-1].Size+est > s.segSize && s.segs[len(s.segs)-1].Packets > 0 {
		if err := s.closeCurrent(); err != nil {
			return SpoolRef{}, nil, s.fail(err)
		}
	}
	if s.cur == nil {
		if len(s.segs) >= s.maxSegs {
			r, err := s.rotate()
			if err != nil {
				return SpoolRef{}, nil, s.fail(err)
			}
			rot = &r
		}
		if err := s.open(); err != nil {
			return SpoolRef{}, rot, s.fail(err)
		}
	}
	seg := &s.segs[len(s.segs)-1]
	off := s.cur.pos()
	if err := s.cur.nw.WritePacket(s.cur.ids[rec.Interface], rec, comments...); err != nil {
		return SpoolRef{}, rot, s.fail(err)
	}
	n := s.cur.pos() - off
	seg.Size += n
	seg.Packets++
	if seg.FirstFrame == 0 {
		seg.FirstFrame = rec.Frame
	}
	seg.LastFrame = rec.Frame
	s.stats.Packets++
	s.stats.Bytes += n
	return SpoolRef{Seq: seg.Seq, Offset: off}, rot, nil
}

func (s *Spool) fail(err error) error {
	s.err = fmt.Errorf("spool %s: %w", s.dir, err)
	return s.err
}

// open starts the next segment.
func (s *Spool) open() error {
	seq := s.nextSeq
	path := filepath.Join(s.dir, fmt.Sprintf("spool-%06d.pcapng", seq))
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	sf := &spoolFile{f: f, cw: &countingWriter{w: f}}
	sf.bw = bufio.NewWriterSize(sf.cw, 256<<10)
	if sf.nw, err = NewPcapngWriter(sf.bw); err == nil {
		for _, in := range s.ifaces {
			var id int
			if id, err = sf.nw.AddInterfaceLike(in); err != nil {
				break
			}
			sf.ids = append(sf.ids, id)
		}
	}
	if err == nil {
		err = sf.nw.Flush()
	}
	if err != nil {
		f.Close()
		os.Remove(path)
		return err
	}
	s.nextSeq++
	s.cur = sf
	s.segs = append(s.segs, SpoolSegment{Seq: seq, Path: path, Size: sf.cw.n})
	s.stats.Bytes += sf.cw.n
	return nil
}

// closeCurrent flushes and closes the segment being written.
func (s *Spool) closeCurrent() error {
	if s.cur == nil {
		return nil
	}
	cur := s.cur
	s.cur = nil
	err := cur.bw.Flush()
	if cerr := cur.f.Close(); err == nil {
		err = cerr
	}
	return err
}

// rotate deletes the oldest segment.
func (s *Spool) rotate() (SpoolRotation, error) {
	old := s.segs[0]
	if err := os.Remove(old.Path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return SpoolRotation{}, err
	}
	s.segs = s.segs[1:]
	s.stats.Rotations++
	s.stats.RotatedPackets += old.Packets
	s.stats.RotatedBytes += old.Size
	s.stats.Bytes -= old.Size
	return SpoolRotation{Segment: old, Rotations: s.stats.Rotations, LostFrames: s.stats.RotatedPackets}, nil
}

// Flush writes what is buffered to the current file, so that a Reader
// opened on it sees every packet written so far.
func (s *Spool) Flush() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cur == nil || s.err != nil {
		return s.err
	}
	if err := s.cur.bw.Flush(); err != nil {
		return s.fail(err)
	}
	return nil
}

// Segments returns the files on disk, oldest first.
func (s *Spool) Segments() []SpoolSegment {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]SpoolSegment(nil), s.segs...)
}

// SegmentPath returns the path of segment seq, and false if it has been
// rotated out (or never was).
func (s *Spool) SegmentPath(seq uint64) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, g := range s.segs {
		if g.Seq == seq {
			return g.Path, true
		}
	}
	return "", false
}

// Stats returns the spool's counters.
func (s *Spool) Stats() SpoolStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.Segments = len(s.segs)
	for _, g := range s.segs {
		if g.FirstFrame != 0 {
			st.OldestFrame = g.FirstFrame
			break
		}
	}
	return st
}

// ReadPacket reads a packet back: frame is its Record.Frame, offset the
// SpoolRef.Offset WritePacket gave for it. What is buffered for the
// segment being written is flushed first. A packet whose segment was
// rotated out gives an error that wraps ErrRotatedOut and says which frames
// the spool still holds. The Record and its Data are the caller's. It is
// safe to call from several goroutines, while packets are written.
func (s *Spool) ReadPacket(frame uint64, offset int64) (*Record, error) {
	s.rmu.Lock()
	defer s.rmu.Unlock()
	rec, err := s.readPacket(frame, offset)
	if err != nil {
		return nil, err
	}
	c := *rec
	c.Data = append([]byte(nil), rec.Data...)
	return &c, nil
}

// readPacket is ReadPacket under rmu.
func (s *Spool) readPacket(frame uint64, offset int64) (*Record, error) {
	if offset < 0 {
		return nil, fmt.Errorf("frame %d was not written to the spool", frame)
	}
	seg, err := s.segmentOf(frame)
	if err != nil {
		return nil, err
	}
	sr := s.readers[seg.Seq]
	if sr == nil {
		if sr, err = openSegment(seg); err != nil {
			return nil, fmt.Errorf("spool: %w", err)
		}
		if s.readers == nil {
			s.readers = map[uint64]*segmentReader{}
		}
		s.readers[seg.Seq] = sr
	}
	return sr.rr.ReadAt(offset, frame)
}

// segmentOf finds the segment that holds frame, flushing it if it is the
// one being written, and closes the readers of segments rotated out.
func (s *Spool) segmentOf(frame uint64) (SpoolSegment, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return SpoolSegment{}, errors.New("spool: closed")
	}
	for seq, sr := range s.readers {
		if len(s.segs) == 0 || seq < s.segs[0].Seq {
			sr.close()
			delete(s.readers, seq)
		}
	}
	for i, g := range s.segs {
		if g.Packets == 0 || frame < g.FirstFrame || frame > g.LastFrame {
			continue
		}
		if i == len(s.segs)-1 && s.cur != nil {
			if err := s.cur.bw.Flush(); err != nil {
				return SpoolSegment{}, s.fail(err)
			}
		}
		return g, nil
	}
	oldest := uint64(0)
	for _, g := range s.segs {
		if g.Packets > 0 {
			oldest = g.FirstFrame
			break
		}
	}
	if s.stats.Rotations > 0 && (oldest == 0 || frame < oldest) {
		if oldest == 0 {
			return SpoolSegment{}, fmt.Errorf("frame %d: %w (the spool holds no packet now; --spool-size keeps more)", frame, ErrRotatedOut)
		}
		return SpoolSegment{}, fmt.Errorf("frame %d: %w (it holds frames %d and later; --spool-size keeps more)", frame, ErrRotatedOut, oldest)
	}
	return SpoolSegment{}, fmt.Errorf("frame %d is not in the spool", frame)
}

// openSegment opens a segment for re-reading. Its Reader reads the first
// packet, so that the interfaces before it are known.
func openSegment(seg SpoolSegment) (*segmentReader, error) {
	r, err := Open(seg.Path)
	if err != nil {
		return nil, err
	}
	if _, err := r.Next(); err != nil {
		r.Close()
		return nil, err
	}
	rr, err := r.Rereader()
	if err != nil {
		r.Close()
		return nil, err
	}
	return &segmentReader{r: r, rr: rr}, nil
}

// Export writes the spooled packets items name (Frame and Offset as
// ReadPacket takes them) to path, in frame order, byte for byte with their
// time stamps: a .pcapng file with the spool's interfaces and each item's
// comments, else a pcap file with nanosecond time stamps. The file is
// written atomically and created 0600; an existing one is replaced only
// with overwrite; a compressed name is refused (CheckExportName). It
// returns the number of packets written; a packet rotated out of the spool
// fails the export (nothing is written).
func (s *Spool) Export(path string, items []ExportItem, overwrite bool) (int, error) {
	if err := CheckExportName(path); err != nil {
		return 0, err
	}
	items = slices.Clone(items)
	slices.SortFunc(items, func(a, b ExportItem) int { return cmp.Compare(a.Frame, b.Frame) })
	var pw *PcapWriter
	if ExportFormat(path) == "pcap" {
		for _, in := range s.ifaces[1:] {
			if in.LinkType != s.ifaces[0].LinkType {
				return 0, fmt.Errorf("%s: the packets have several link types (%s and %s): a pcap file holds one; name the file .pcapng", path, LinkTypeName(s.ifaces[0].LinkType), LinkTypeName(in.LinkType))
			}
		}
	}
	out, err := CreateAtomic(path, overwrite)
	if err != nil {
		return 0, err
	}
	var nw *PcapngWriter
	ids := make([]int, len(s.ifaces))
	if ExportFormat(path) == "pcap" {
		pw, err = NewPcapWriter(out, s.ifaces[0].LinkType, s.ifaces[0].SnapLen, true)
	} else if nw, err = NewPcapngWriter(out); err == nil {
		for i, in := range s.ifaces {
			if ids[i], err = nw.AddInterfaceLike(in); err != nil {
				break
			}
		}
	}
	n := 0
	if err == nil {
		n, err = s.writeItems(items, pw, nw, ids)
	}
	if err != nil {
		out.Abort()
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	return n, out.Commit()
}

// writeItems reads the items back and writes them with pw or nw.
func (s *Spool) writeItems(items []ExportItem, pw *PcapWriter, nw *PcapngWriter, ids []int) (int, error) {
	s.rmu.Lock()
	defer s.rmu.Unlock()
	num := spoolNumbering(items)
	for i, it := range items {
		rec, err := s.readPacket(it.Frame, it.Offset)
		if err != nil {
			return i, err
		}
		if rec.Interface < 0 || rec.Interface >= len(ids) {
			return i, fmt.Errorf("frame %d: interface %d, the spool has %d", it.Frame, rec.Interface, len(ids))
		}
		if pw != nil {
			err = pw.WritePacket(rec)
		} else {
			comments := make([]string, len(it.Comments))
			for k, c := range it.Comments {
				comments[k] = num.rewrite(0, c)
			}
			err = nw.WritePacket(ids[rec.Interface], rec, comments...)
		}
		if err != nil {
			return i, err
		}
	}
	if pw != nil {
		return len(items), pw.Flush()
	}
	return len(items), nw.Flush()
}

// Close flushes and closes the current file, then removes the directory
// and its files unless the spool is kept. It returns the first error met,
// the write errors included. Close may be called more than once.
func (s *Spool) Close() error {
	s.rmu.Lock()
	for _, sr := range s.readers {
		sr.close()
	}
	s.readers = nil
	s.rmu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return s.err
	}
	s.closed = true
	if err := s.closeCurrent(); err != nil && s.err == nil {
		s.err = fmt.Errorf("spool %s: %w", s.dir, err)
	}
	if !s.keep {
		if err := os.RemoveAll(s.dir); err != nil && s.err == nil {
			s.err = fmt.Errorf("spool: removing %s: %w", s.dir, err)
		}
	}
	return s.err
}
