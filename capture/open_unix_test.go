//go:build linux || darwin

package capture

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// errSIGTERM stands for the cause main gives the run's context when a
// signal stops it.
var errSIGTERM = errors.New("SIGTERM")

// fifo makes a FIFO; at cleanup it is opened for writing and closed, which
// ends an open for reading still waiting on it (the goroutine openWaiting
// left behind) and a read waiting on it.
func fifo(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "fifo")
	if err := unix.Mkfifo(path, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if fd, err := unix.Open(path, unix.O_WRONLY|unix.O_NONBLOCK, 0); err == nil {
			unix.Close(fd)
		}
	})
	return path
}

// within runs f and fails the test if it takes longer than d.
func within[T any](t *testing.T, d time.Duration, f func() T) T {
	t.Helper()
	ch := make(chan T, 1)
	go func() { ch <- f() }()
	select {
	case v := <-ch:
		return v
	case <-time.After(d):
		t.Fatalf("still waiting after %v", d)
		panic("unreachable")
	}
}

// TestOpenFIFONoWriter opens a FIFO that nothing writes to: open(2) waits
// for a writer, and only SIGKILL ended synscope -r FIFO. Stopping the run
// ends the wait, with an error that says what it waited for.
func TestOpenFIFONoWriter(t *testing.T) {
	path := fifo(t)
	ctx, cancel := context.WithCancelCause(context.Background())
	start := time.Now()
	time.AfterFunc(100*time.Millisecond, func() { cancel(errSIGTERM) })
	err := within(t, 5*time.Second, func() error {
		_, err := OpenContext(ctx, path)
		return err
	})
	var ie *InterruptedError
	// It waited for the stop, not returned at once. (Not the whole 100
	// ms: in CI the VM's clock read 96.5 ms when the timer fired.)
	if !errors.As(err, &ie) || time.Since(start) < 50*time.Millisecond {
		t.Fatalf("got %v after %v, want an InterruptedError once the run stops", err, time.Since(start))
	}
	want := path + ": reading stopped by SIGTERM while waiting for a program to open the FIFO for writing: nothing was read"
	if err.Error() != want {
		t.Errorf("got  %s\nwant %s", err, want)
	}
	if !errors.Is(err, errSIGTERM) {
		t.Errorf("%v does not unwrap to its cause", err)
	}
}

// TestReadIdlePipe reads a FIFO whose writer sent a capture's first
// packets and then nothing: Next waits in read(2), which no caught signal
// ends. Stopping the run ends it, after the frames that came, and says
// where.
func TestReadIdlePipe(t *testing.T) {
	data := pcapFile(le, false, 1, testPackets[:2]...)
	for _, tc := range []struct {
		name   string
		send   []byte
		frames int
		want   string
	}{
		{"after two frames", data, 2, "f: reading stopped by SIGTERM after frame 2 (at byte 1630): the output holds the frames before it"},
		// The second record's header came, its data did not.
		{"inside a record", data[:pcapFileHeaderLen+16+60+16+100], 1, "f: reading stopped by SIGTERM after frame 1 (at byte 100): the output holds the frames before it"},
		{"header only", data[:pcapFileHeaderLen], 0, "f: reading stopped by SIGTERM before the first frame: nothing was read"},
		// The decompressor gives out nothing before its window (32
		// KiB) or the block is full: OpenContext waits for the
		// capture's header, and gives way.
		{"gzip", gz(t, data)[:30], 0, "f: reading stopped by SIGTERM before the first frame: nothing was read"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := fifo(t)
			w := make(chan *os.File, 1)
			go func() {
				f, err := os.OpenFile(path, os.O_WRONLY, 0)
				if err != nil {
					w <- nil
					return
				}
				f.Write(tc.send)
				w <- f // kept open: the reader waits for more
			}()
			ctx, cancel := context.WithCancelCause(context.Background())
			time.AfterFunc(200*time.Millisecond, func() { cancel(errSIGTERM) })
			frames := 0
			err := within(t, 5*time.Second, func() error {
				r, err := OpenContext(ctx, path)
				if err != nil {
					return err
				}
				defer r.Close()
				r.name = "f"
				for {
					if _, err := r.Next(); err != nil {
						if _, again := r.Next(); again != err {
							t.Errorf("Next after it: %v", again)
						}
						return err
					}
					frames++
				}
			})
			if f := <-w; f != nil {
				defer f.Close()
			}
			var ie *InterruptedError
			if !errors.As(err, &ie) {
				t.Fatalf("got %v after %d frames, want an InterruptedError", err, frames)
			}
			if got := strings.Replace(err.Error(), path, "f", 1); frames != tc.frames || got != tc.want {
				t.Errorf("%d frames, %s\nwant %d, %s", frames, err, tc.frames, tc.want)
			}
			if ie.Frame != uint64(frames) {
				t.Errorf("error says frame %d, %d were read", ie.Frame, frames)
			}
		})
	}
}

// TestReadIdleStdin is TestReadIdlePipe on standard input, which a
// pipeline gives synscope -r -: os.Stdin is not in Go's poller, and its
// reads wait in read(2) until data comes.
func TestReadIdleStdin(t *testing.T) {
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pw.Close()
	// A blocking descriptor, as fd 0 is: os.Pipe's are not.
	fd, err := unix.Dup(int(pr.Fd()))
	if err != nil {
		t.Fatal(err)
	}
	unix.SetNonblock(fd, false)
	pr.Close()
	old := os.Stdin
	os.Stdin = os.NewFile(uintptr(fd), "/dev/stdin")
	t.Cleanup(func() { os.Stdin.Close(); os.Stdin = old })
	pw.Write(pcapFile(le, false, 1, testPackets[:1]...))
	ctx, cancel := context.WithCancelCause(context.Background())
	r, err := OpenContext(ctx, "-")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Next(); err != nil {
		t.Fatal(err)
	}
	time.AfterFunc(100*time.Millisecond, func() { cancel(errSIGTERM) })
	err = within(t, 5*time.Second, func() error {
		_, err := r.Next()
		return err
	})
	want := "standard input: reading stopped by SIGTERM after frame 1 (at byte 100): the output holds the frames before it"
	if err == nil || err.Error() != want {
		t.Errorf("got  %v\nwant %s", err, want)
	}
}

// TestInterrupted checks the error a caller makes of a Reader it stops
// between packets (a regular file's reads never wait), and the words
// before the first frame and without a signal.
func TestInterrupted(t *testing.T) {
	data := pcapFile(le, false, 1, testPackets...)
	r, err := NewReader(bytes.NewReader(data), "a.pcap", int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		r.Next()
	}
	err = r.Interrupted(errSIGTERM)
	if want := "a.pcap: reading stopped by SIGTERM after frame 2 (at byte 1630): the output holds the frames before it"; err.Error() != want {
		t.Errorf("got  %s\nwant %s", err, want)
	}
	if _, again := r.Next(); again != err {
		t.Errorf("Next after Interrupted: %v", again)
	}
	for _, tc := range []struct {
		e    InterruptedError
		want string
	}{
		{InterruptedError{Path: "-", Cause: context.Canceled}, "-: reading was interrupted before the first frame: nothing was read"},
		{InterruptedError{Path: "p", Frame: 7, Offset: 900}, "p: reading was interrupted after frame 7 (at byte 900): the output holds the frames before it"},
	} {
		if got := tc.e.Error(); got != tc.want {
			t.Errorf("got  %s\nwant %s", got, tc.want)
		}
	}
}
