//go:build linux || darwin

package capture

import (
	"errors"
	"io"
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// mapWindow is how much of the file a mapSource maps at a time after the
// next unread byte. The mapped pages count in the process's resident
// memory while they are mapped, so the window is small; moving it costs
// one or two system calls every few megabytes.
const mapWindow = 4 << 20

// mapSource reads a regular file through a window mapped into memory, so
// that the bytes are read where the page cache holds them: read(2) copies
// every byte once more, into a buffer, and the copy was the biggest single
// cost of reading a large capture (about a seventh of the CPU time of
// synscope -r F --json on the 1M-packet benchmark).
//
// A slice returned by Peek is valid until the next call, as bufio's.
// Touching a mapped page that the file no longer holds (it was truncated
// meanwhile) raises SIGBUS: the goroutine reading must run with
// debug.SetPanicOnFault(true) and turn the panic into an error (see
// Reader.MapInput).
type mapSource struct {
	fd   int
	page int64
	win  []byte // the mapped window
	off  int64  // file offset of win[0]
	pos  int    // next unread byte in win
	pf   int    // bytes of win asked into the caches (moved)
	kept int    // where win's pages are still mapped from (dropBehind)

	// The window is always mapped at base, the first mapAlign boundary
	// of an address range the source reserved (reserved, mapped with no
	// access) so that no other mapping can take its place.
	reserved []byte
	base     unsafe.Pointer
	mapped   int // bytes of the file mapped at base
}

// mapAlign is the boundary both the window's file offset and its address
// fall on. The page cache may hold a file in folios of up to 2 MB (Linux
// 6.16 and later on ext4, earlier on xfs: written in large writes, or
// read by read(2) with a large readahead), and the kernel maps such a
// folio with one page-table entry, in one fault, only where the file's
// offset and the address agree modulo 2 MB. Measured on the benchmark
// file held in 2 MB folios: 15.7k page faults become 10.6k (most of
// those left are the heap's), and one core takes 0.93-0.96 of the time,
// two cores 0.90-0.92. Where the page cache holds small folios (a file
// written 4 KB at a time, or read in by MADV_WILLNEED), within noise. The
// folios' size matters more than this: one core takes 0.80-0.85 of the
// time on the same file in 2 MB folios as in 4 KB ones (DEVELOPERS.md).
const mapAlign = 2 << 20

func newMapSource(f *os.File, at int64) (*mapSource, error) {
	m := &mapSource{fd: int(f.Fd()), page: int64(os.Getpagesize()), off: at}
	if m.page > mapAlign {
		return nil, errors.New("page size above 2 MB")
	}
	// The window holds at most mapWindow bytes after the next unread
	// one, which is less than mapAlign after the window's start.
	r, err := unix.Mmap(-1, 0, mapWindow+2*mapAlign, unix.PROT_NONE, unix.MAP_PRIVATE|unix.MAP_ANON)
	if err != nil {
		return nil, err
	}
	m.reserved = r
	a := uintptr(unsafe.Pointer(unsafe.SliceData(r)))
	m.base = unsafe.Add(unsafe.Pointer(unsafe.SliceData(r)), (a+mapAlign-1)&^(mapAlign-1)-a)
	if err := m.remap(1); err != nil {
		m.close()
		return nil, err
	}
	return m, nil
}

// remap maps a window from the mapAlign boundary at or before the next
// unread byte that holds at least need bytes after it (need is at most
// mapWindow, Size), or as many as the file has.
func (m *mapSource) remap(need int) error {
	if need > mapWindow {
		return errors.New("record larger than the mapped window")
	}
	if m.reserved == nil {
		return errors.New("the mapping's address range was lost")
	}
	next := m.off + int64(m.pos)
	var st unix.Stat_t
	if err := unix.Fstat(m.fd, &st); err != nil {
		return err
	}
	start := next &^ (mapAlign - 1)
	length := int64(mapWindow) + next - start
	length = (length + m.page - 1) &^ (m.page - 1)
	if start+length > st.Size {
		length = max(st.Size-start, 0)
	}
	m.win = nil
	m.off, m.pos = start, int(next-start)
	m.pf, m.kept = m.pos, 0
	if length == 0 {
		return m.release(0)
	}
	// MAP_FIXED replaces what was mapped there, in the same call.
	p, err := unix.MmapPtr(m.fd, start, m.base, uintptr(length), unix.PROT_READ, unix.MAP_SHARED|unix.MAP_FIXED)
	if err != nil {
		// What was mapped there may be gone: take the whole range
		// back into the reservation.
		m.mapped = mapWindow + mapAlign
		m.release(0)
		return err
	}
	if err := m.release(int(length)); err != nil {
		return err
	}
	b := unsafe.Slice((*byte)(p), length)
	// Read ahead: advice, whose failure changes nothing but speed.
	unix.Madvise(b, unix.MADV_SEQUENTIAL)
	unix.Madvise(b, unix.MADV_WILLNEED)
	m.win = b
	return nil
}

// release gives the part of the window's range past keep bytes back to
// the reservation, so that no stale part of the file stays mapped there.
// If that fails, the reservation is abandoned rather than unmapped whole
// at close: part of it may then belong to another mapping.
func (m *mapSource) release(keep int) error {
	keep = (keep + int(m.page) - 1) &^ (int(m.page) - 1)
	if m.mapped > keep {
		at := unsafe.Add(m.base, keep)
		if _, err := unix.MmapPtr(-1, 0, at, uintptr(m.mapped-keep), unix.PROT_NONE, unix.MAP_PRIVATE|unix.MAP_ANON|unix.MAP_FIXED); err != nil {
			m.reserved = nil
			return err
		}
	}
	m.mapped = keep
	return nil
}

// prefetchDistance is how far ahead of the reading moved keeps the caches
// filled, and prefetchStep how far the reading moves on before it asks for
// more: a call for every few small packets, one for each large one.
const (
	prefetchDistance = 4096
	prefetchStep     = 512
)

// moved is called each time the reading has moved on in the window. It
// asks the bytes that follow the next unread one into the caches, each
// cache line once, so that a packet's bytes are there when it is decoded
// and its checksum summed, and drops the pages left behind from the page
// tables (dropBehind). The processor's own prefetcher stops at the end of
// each 4 KB page, and the page cache's pages are scattered: summing the
// checksums was where more than a quarter of one core's time went on the
// benchmark file, waiting on memory (perf annotate put the samples on the
// loads). With this, 0.84-0.94 of the time on files of full-size segments;
// the same on small frames (BenchmarkRunFile).
func (m *mapSource) moved() {
	if m.pf-m.pos < prefetchDistance-prefetchStep {
		m.step()
	}
}

// step is moved's work, once the reading has moved prefetchStep bytes on.
// It is kept out of moved, so that moved stays small enough to be inlined
// into the readers' fast paths whatever default.pgo says: with step in
// it, moved was a call of 22 instructions a packet on small frames.
//
//go:noinline
func (m *mapSource) step() {
	from := max(m.pf, m.pos) &^ 63
	end := min(m.pos+prefetchDistance, len(m.win))
	if end > from {
		prefetchLines(unsafe.Pointer(unsafe.SliceData(m.win[from:])), end-from)
	}
	m.pf = end
	if m.pos-m.kept >= dropLag+dropStep {
		m.dropBehind()
	}
}

// dropLag is how far behind the reading the window's pages stay in the
// process's page tables, and dropStep how much dropBehind drops at a time.
// Each call makes the kernel flush the page tables' caches on every
// processor the process runs on: in steps of 256 KB, two cores spent
// 0.05-0.09 s more in the kernel on the benchmark file; in steps of 1 MB,
// within noise (11 interleaved runs each). The step is mapAlign, so that
// a 2 MB folio mapped whole is dropped whole: dropping half of it unmaps
// all of it, and the other half is mapped again, page by page.
const (
	dropLag  = 256 << 10
	dropStep = mapAlign
)

// dropBehind takes the pages the reading has left dropLag behind out of
// the process's page tables (madvise MADV_DONTNEED: the page cache keeps
// them, and a page touched again is mapped again from it), so that of
// the window at most about 2.25 MB counts in the resident memory, not the
// 4-6 MB it had when it was unmapped.
func (m *mapSource) dropBehind() {
	to := (m.pos - dropLag) &^ (dropStep - 1)
	if to > m.kept {
		unix.Madvise(m.win[m.kept:to], unix.MADV_DONTNEED)
		m.kept = to
	}
}

// available returns the unread bytes of the window.
func (m *mapSource) available() []byte {
	if m.pos >= len(m.win) {
		return nil
	}
	return m.win[m.pos:]
}

// Peek returns the next n bytes; fewer, with io.EOF, at the end of the
// file.
func (m *mapSource) Peek(n int) ([]byte, error) {
	if b := m.available(); len(b) >= n {
		return b[:n], nil
	}
	// At the end of the window, or of the file as last seen (it may
	// have grown since): map on from here.
	if err := m.remap(n); err != nil {
		return m.available(), err
	}
	b := m.available()
	if len(b) >= n {
		return b[:n], nil
	}
	return b, io.EOF
}

// Discard skips n bytes; fewer, with io.EOF, at the end of the file.
func (m *mapSource) Discard(n int) (int, error) {
	done := 0
	for done < n {
		b := m.available()
		if len(b) == 0 {
			if err := m.remap(1); err != nil {
				return done, err
			}
			if len(m.available()) == 0 {
				return done, io.EOF
			}
			continue
		}
		k := min(len(b), n-done)
		m.pos += k
		done += k
	}
	return done, nil
}

// Read copies the next bytes into p.
func (m *mapSource) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	b, err := m.Peek(min(len(p), mapWindow))
	n := copy(p, b)
	m.pos += n
	if n > 0 {
		return n, nil
	}
	return 0, err
}

// Size is the most Peek returns: a record larger than the window is read
// by copying.
func (m *mapSource) Size() int { return mapWindow }

// close unmaps the window with the whole reserved range, unless the
// range was abandoned (release).
func (m *mapSource) close() {
	m.win, m.mapped = nil, 0
	if m.reserved != nil {
		unix.Munmap(m.reserved)
		m.reserved = nil
	}
}

// contains reports whether addr is in the mapped window.
func (m *mapSource) contains(addr uintptr) bool {
	if len(m.win) == 0 {
		return false
	}
	base := uintptr(unsafe.Pointer(unsafe.SliceData(m.win)))
	return addr >= base && addr < base+uintptr(len(m.win))
}
