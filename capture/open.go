package capture

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// Open opens a capture file; "-" reads standard input, which may be a pipe.
// The format and any gzip compression are recognised by content, not by
// name.
func Open(path string) (*Reader, error) {
	return OpenContext(context.Background(), path)
}

// OpenContext is Open for a run that ctx stops (ctrl-c, SIGTERM: see
// signal.NotifyContext). Opening a FIFO waits for a program to open it for
// writing, and reading a pipe, a FIFO, a terminal or a socket waits for the
// next bytes, each for as long as it takes, in a system call that a signal
// does not end once the program catches it: synscope -r FIFO, with nothing
// writing to it, ignored ctrl-c, SIGTERM and SIGHUP until SIGKILL. Here
// each wait gives way when ctx is done: OpenContext returns an
// *InterruptedError, or the Reader's Next does, after the frames read
// before. A regular file never waits; a caller that reads it checks ctx
// between packets and asks Reader.Interrupted for the error (analysis.Run
// does).
func OpenContext(ctx context.Context, path string) (*Reader, error) {
	if path == "-" {
		return openStdin(ctx)
	}
	f, err := openWaiting(ctx, path)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: cannot open: %w", path, BareError(err))
	}
	if fi.IsDir() {
		f.Close()
		return nil, fmt.Errorf("%s: is a directory, not a capture file", path)
	}
	size := int64(-1)
	if fi.Mode().IsRegular() {
		size = fi.Size()
	}
	var src io.Reader = f
	if waits(fi.Mode()) {
		src = newCtxReader(ctx, f)
	}
	r, err := newReader(ctx, src, path, size)
	if err != nil {
		f.Close()
		return nil, err
	}
	r.closer = f
	if fi.Mode().IsRegular() {
		r.path = path
	}
	return r, nil
}

// openStdin reads standard input.
func openStdin(ctx context.Context) (*Reader, error) {
	// Standard input redirected from a file has a size; a pipe has not.
	size := int64(-1)
	var src io.Reader = os.Stdin
	if fi, err := os.Stdin.Stat(); err == nil {
		switch {
		case fi.Mode().IsRegular():
			if pos, err := os.Stdin.Seek(0, io.SeekCurrent); err == nil {
				size = fi.Size() - pos
			}
		case waits(fi.Mode()):
			src = newCtxReader(ctx, os.Stdin)
		}
	}
	r, err := newReader(ctx, src, StdinName, size)
	if err != nil {
		return nil, err
	}
	r.stdin = true
	return r, nil
}

// waits tells the inputs whose reads wait for a writer: pipes and FIFOs,
// sockets, terminals (a regular file or a disk ends instead).
func waits(m fs.FileMode) bool {
	return m&(fs.ModeNamedPipe|fs.ModeSocket|fs.ModeCharDevice) != 0
}

// openWaiting opens path, giving up when ctx is done first: open(2) of a
// FIFO waits until a program opens it for writing, and nothing but
// SIGKILL ends that wait. The open goes on in its goroutine, which closes
// the file if it ever opens; the program is ending anyway.
func openWaiting(ctx context.Context, path string) (*os.File, error) {
	type opened struct {
		f   *os.File
		err error
	}
	ch := make(chan opened, 1)
	go func() {
		f, err := os.Open(path)
		ch <- opened{f, err}
	}()
	var o opened
	select {
	case o = <-ch:
	case <-ctx.Done():
		go func() {
			if o := <-ch; o.f != nil {
				o.f.Close()
			}
		}()
		e := &InterruptedError{Path: path, Cause: context.Cause(ctx), While: "opening it"}
		if fi, err := os.Stat(path); err == nil && fi.Mode()&fs.ModeNamedPipe != 0 {
			e.While = "waiting for a program to open the FIFO for writing"
		}
		return nil, e
	}
	if o.err != nil {
		return nil, fmt.Errorf("%s: cannot open: %w", path, BareError(o.err))
	}
	return o.f, nil
}

// ctxReader reads r, giving way when ctx is done. Each Read runs in a
// goroutine, into a buffer of its own: a read still waiting when ctx is
// done may end later, or never, without writing into the caller's buffer.
// A goroutine a read costs about a microsecond; reads of a pipe are of up
// to 64 KiB.
type ctxReader struct {
	ctx  context.Context
	r    io.Reader
	buf  []byte
	done chan ctxRead
}

type ctxRead struct {
	n   int
	err error
}

// newCtxReader returns r itself when ctx can never be done.
func newCtxReader(ctx context.Context, r io.Reader) io.Reader {
	if ctx == nil || ctx.Done() == nil {
		return r
	}
	return &ctxReader{ctx: ctx, r: r, done: make(chan ctxRead, 1)}
}

// Read returns ctx's error once ctx is done (the Reader turns it into an
// *InterruptedError).
func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	if len(p) == 0 {
		return 0, nil
	}
	if cap(c.buf) < len(p) {
		c.buf = make([]byte, len(p))
	}
	buf := c.buf[:len(p)]
	go func() {
		n, err := c.r.Read(buf)
		c.done <- ctxRead{n, err}
	}()
	select {
	case res := <-c.done:
		return copy(p, buf[:res.n]), res.err
	case <-c.ctx.Done():
		// The read goes on with c.buf: c is never read again.
		c.buf = nil
		return 0, c.ctx.Err()
	}
}

// InterruptedError says that reading a capture stopped before its end
// because the run was stopped (ctrl-c, a signal: a context that was done),
// not because of anything wrong with the capture: every frame before it
// was read whole. It is not damage.
type InterruptedError struct {
	Path   string // the input's name, as given to Open or NewReader
	Frame  uint64 // frames read before it
	Offset int64  // where the next frame starts, in the (decompressed) stream, as DamageError counts
	// While says what was being waited for when nothing was read yet
	// ("waiting for a program to open the FIFO for writing"), if so.
	While string
	// Cause is what stopped the run: the context's cause
	// (context.Cause); its text names it ("SIGINT") unless it is
	// context.Canceled.
	Cause error
}

// Error says where reading stopped and why, on one line:
// "-: reading stopped by SIGINT after frame 115712 (at byte 9876543)...".
func (e *InterruptedError) Error() string {
	how := "reading was interrupted"
	if e.Cause != nil && !errors.Is(e.Cause, context.Canceled) && !errors.Is(e.Cause, context.DeadlineExceeded) {
		how = "reading stopped by " + e.Cause.Error()
	}
	switch {
	case e.While != "":
		return fmt.Sprintf("%s: %s while %s: nothing was read", e.Path, how, e.While)
	case e.Frame == 0:
		return fmt.Sprintf("%s: %s before the first frame: nothing was read", e.Path, how)
	}
	return fmt.Sprintf("%s: %s after frame %d (at byte %d): the output holds the frames before it", e.Path, how, e.Frame, e.Offset)
}

// Unwrap returns the cause.
func (e *InterruptedError) Unwrap() error { return e.Cause }

// Interrupted stops the Reader after the frames it returned so far, because
// the run was stopped (cause: context.Cause of the run's context), and
// returns the *InterruptedError that Next returns from then on. A Reader
// already stopped so (its input gave way to the same context) keeps its
// error. It must not be called while Next runs.
func (r *Reader) Interrupted(cause error) error {
	var ie *InterruptedError
	if errors.As(r.err, &ie) {
		return r.err
	}
	r.err = &InterruptedError{Path: r.name, Frame: r.frame, Offset: r.s.pos, Cause: cause}
	return r.err
}

// interrupted is the *InterruptedError of a read of the record at off that
// gave way to the Reader's context (err is the context's error).
func (r *Reader) interrupted(off int64, err error) error {
	cause := err
	if r.ctx != nil {
		if c := context.Cause(r.ctx); c != nil {
			cause = c
		}
	}
	return &InterruptedError{Path: r.name, Frame: r.frame, Offset: off, Cause: cause}
}

// isStopped tells the error of a read that gave way to a context.
func isStopped(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}
