package capture

import (
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"io"
)

// gzipStream decompresses a gzip input of one or more members, as gzip -d
// does. gzip.Reader's own multistream mode takes any bytes after a member
// for the header of the next one: seven bytes appended to a whole
// compressed capture read as "record header truncated: 0 of 16 bytes
// (compressed data ends)", ten or more as an invalid gzip header. Here the
// bytes after the last member that are not gzip end the stream with a
// *gzipTrailError, which says so.
type gzipStream struct {
	z   *gzip.Reader
	r   *Reader // the compressed input: r.diskBr, counted by r.disk
	err error   // sticky, once the stream has ended
}

// newGzipStream starts decompressing r's input, whose first two bytes are
// gzip's magic.
func newGzipStream(r *Reader) (*gzipStream, error) {
	z, err := gzip.NewReader(r.diskBr)
	if err != nil {
		return nil, err
	}
	z.Multistream(false)
	return &gzipStream{z: z, r: r}, nil
}

func (g *gzipStream) Read(p []byte) (int, error) {
	for g.err == nil {
		n, err := g.z.Read(p)
		if err != io.EOF {
			g.err = err
			return n, err
		}
		// The end of a member, checked whole (length and CRC): the
		// input ends, or another member follows, or something else.
		src := g.r.diskBr
		next, perr := src.Peek(2)
		switch {
		case len(next) == 0 && perr == io.EOF:
			g.err = io.EOF
		case len(next) == 2 && binary.BigEndian.Uint16(next) == magicGzip:
			if err := g.z.Reset(src); err != nil {
				g.err = truncated(err)
			} else {
				g.z.Multistream(false)
			}
		case len(next) < 2 && perr != nil && perr != io.EOF:
			g.err = perr // a read error, or a stopped run
		default:
			at := g.r.disk.n - int64(src.Buffered())
			e := &gzipTrailError{at: at, n: -1}
			if g.r.size >= 0 {
				e.n = g.r.size - at
			}
			g.err = e
		}
		if n > 0 {
			return n, nil // the error, if any, on the next call
		}
	}
	return 0, g.err
}

// gzipTrailError ends a gzip input whose last member is followed by bytes
// that are not gzip.
type gzipTrailError struct {
	at int64 // offset in the input of the first byte after the gzip data
	n  int64 // the bytes after it, -1 when unknown (a pipe)
}

func (e *gzipTrailError) Error() string {
	if e.n < 0 {
		return fmt.Sprintf("the bytes after the end of the gzip data (from byte %d of the input) are not gzip", e.at)
	}
	if e.n == 1 {
		return fmt.Sprintf("1 byte after the end of the gzip data (byte %d of the input) is not gzip", e.at)
	}
	return fmt.Sprintf("%d bytes after the end of the gzip data (bytes %d-%d of the input) are not gzip", e.n, e.at, e.at+e.n-1)
}

// followed says what follows the gzip data, after a record it cut.
func (e *gzipTrailError) followed() string {
	switch e.n {
	case -1:
		return fmt.Sprintf("followed by bytes that are not gzip, from byte %d of the input", e.at)
	case 1:
		return fmt.Sprintf("followed by 1 byte that is not gzip, byte %d of the input", e.at)
	}
	return fmt.Sprintf("followed by %d bytes that are not gzip, from byte %d of the input", e.n, e.at)
}
