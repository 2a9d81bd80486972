package capture

import (
	"io"
	"slices"
)

// Sizes of the buffers used for reading.
const (
	// readBufferSize is the bufio buffer over the (decompressed) input.
	// Records and blocks that fit in it are returned straight from it,
	// without copying.
	readBufferSize = 1 << 20
	// diskBufferSize is the bufio buffer between a gzip decompressor and
	// the compressed file.
	diskBufferSize = 64 << 10
	// bigChunk is the step by which the buffer for records larger than
	// readBufferSize grows: it grows only as data actually arrives, so a
	// header that lies about a block's length cannot make us allocate
	// more than about twice what the file really holds.
	bigChunk = 1 << 20
)

// byteSource is what a stream reads from: a bufio.Reader over the input,
// or a mapping of the file (mapSource).
type byteSource interface {
	// Peek returns the next n bytes without consuming them, as
	// bufio.Reader.Peek: fewer, with an error, at the end of the input.
	Peek(n int) ([]byte, error)
	Discard(n int) (int, error)
	Read(p []byte) (int, error)
	// Size is the most Peek can return.
	Size() int
}

// stream reads the decompressed input and keeps track of the offset.
type stream struct {
	br  byteSource
	pos int64  // offset of the next unread byte in the decompressed stream
	big []byte // storage for reads that do not fit in br's buffer
}

// peek returns the next n bytes without consuming them; n must not exceed
// readBufferSize. At the end of the input it returns fewer bytes, with
// io.EOF when there are none and io.ErrUnexpectedEOF when there are some.
// Other errors are passed on.
func (s *stream) peek(n int) ([]byte, error) {
	b, err := s.br.Peek(n)
	if err != nil {
		err = eofError(len(b), err)
	}
	return b, err
}

// next consumes and returns the next n bytes. The slice aliases internal
// buffers and is valid until the next call to peek or next. Errors are as
// for peek; on error the bytes that were there are consumed and returned.
func (s *stream) next(n int) ([]byte, error) {
	if n <= s.br.Size() {
		b, err := s.br.Peek(n)
		d, _ := s.br.Discard(len(b)) // cannot fail: the bytes are buffered
		s.pos += int64(d)
		if err != nil {
			return b, eofError(len(b), err)
		}
		return b, nil
	}
	// Too big for the bufio buffer: copy into s.big, growing it chunk by
	// chunk as the data arrives.
	s.big = s.big[:0]
	empty := 0
	for len(s.big) < n {
		if len(s.big) == cap(s.big) {
			s.big = slices.Grow(s.big, min(n-len(s.big), max(len(s.big), bigChunk)))
		}
		m, err := s.br.Read(s.big[len(s.big):min(cap(s.big), n)])
		s.big = s.big[:len(s.big)+m]
		s.pos += int64(m)
		if m == 0 && err == nil {
			if empty++; empty > 100 {
				err = io.ErrNoProgress
			}
		}
		if err != nil && len(s.big) < n {
			return s.big, eofError(len(s.big), err)
		}
	}
	return s.big, nil
}

// skip consumes n bytes without looking at them. It returns the number of
// bytes skipped and, if fewer than n, an error as for peek.
func (s *stream) skip(n int64) (int64, error) {
	var done int64
	for done < n {
		step := int(min(n-done, 1<<30))
		d, err := s.br.Discard(step)
		done += int64(d)
		s.pos += int64(d)
		if err != nil {
			return done, eofError(int(done), err)
		}
	}
	return done, nil
}

// eofError turns the io.EOF of a short read into io.EOF when nothing at all
// was read and io.ErrUnexpectedEOF otherwise. Other errors, including an
// io.ErrUnexpectedEOF from a truncated gzip stream, are passed on: only a
// clean io.EOF from the input can mean a clean end.
func eofError(got int, err error) error {
	if err == io.EOF {
		if got == 0 {
			return io.EOF
		}
		return io.ErrUnexpectedEOF
	}
	return err
}

// countingReader counts the bytes read from the on-disk input.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
