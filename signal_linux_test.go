package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/synscope/synscope/capture"
)

// These tests run the real binary and send it the signals a user, timeout,
// systemctl stop or a dropped SSH session send. Each is bounded: a
// synscope that does not exit within stopWithin is killed and the test
// fails. The review found synscope -r FIFO, with nothing writing to it,
// ignoring SIGINT, SIGTERM and SIGHUP (only SIGKILL ended it), and an idle
// -r - pipe ignoring timeout's SIGTERM.

const stopWithin = 5 * time.Second

// signalled is a synscope run the test stops with a signal.
type signalled struct {
	cmd            *exec.Cmd
	stdout, stderr bytes.Buffer
	done           chan struct{}
}

func startSignalled(t *testing.T, stdin *os.File, args ...string) *signalled {
	t.Helper()
	cmd := exec.Command(synscopeBinary(t), args...)
	if stdin != nil {
		cmd.Stdin = stdin
	}
	return startCmd(t, cmd)
}

// startCmd starts cmd as a signalled run.
func startCmd(t *testing.T, cmd *exec.Cmd) *signalled {
	t.Helper()
	s := &signalled{cmd: cmd, done: make(chan struct{})}
	s.cmd.Stdout, s.cmd.Stderr = &s.stdout, &s.stderr
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		s.cmd.Wait()
		close(s.done)
	}()
	t.Cleanup(func() {
		s.cmd.Process.Kill()
		<-s.done
	})
	return s
}

// stop sends sig and returns the exit status, failing the test if
// synscope is still running after stopWithin.
func (s *signalled) stop(t *testing.T, sig syscall.Signal) int {
	t.Helper()
	start := time.Now()
	s.cmd.Process.Signal(sig)
	select {
	case <-s.done:
	case <-time.After(stopWithin):
		s.cmd.Process.Kill()
		<-s.done
		t.Fatalf("still running %v after %v; stderr %q", stopWithin, sig, s.stderr.String())
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("%v took %v to end the run", sig, d)
	}
	st := s.cmd.ProcessState
	if ws, ok := st.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		t.Fatalf("killed by %v: the signal was not caught; stderr %q", ws.Signal(), s.stderr.String())
	}
	return st.ExitCode()
}

// waitWchan waits until a thread of pid waits in the kernel function
// named (/proc/PID/task/*/wchan): the process is past its start, with its
// signal handlers in place, and blocked where the test wants it.
func waitWchan(t *testing.T, pid int, fn string) {
	t.Helper()
	deadline := time.Now().Add(stopWithin)
	for time.Now().Before(deadline) {
		tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/wchan", pid))
		for _, task := range tasks {
			if b, err := os.ReadFile(task); err == nil && strings.Contains(string(b), fn) {
				return
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("synscope never waited in %s", fn)
}

// waitDrained waits until the pipe w writes to is empty (TIOCINQ is
// FIONREAD): synscope has read
// all that was sent, so it is past its start, and waiting for more.
func waitDrained(t *testing.T, w *os.File) {
	t.Helper()
	deadline := time.Now().Add(stopWithin)
	for time.Now().Before(deadline) {
		n, err := unix.IoctlGetInt(int(w.Fd()), unix.TIOCINQ)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			time.Sleep(50 * time.Millisecond) // from read(2) back to waiting
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("synscope never read what was sent")
}

// TestSignalFIFONoWriter: synscope -r FIFO, with nothing writing to it,
// waits in open(2). Each stop signal ends it at once, with one line that
// says what it waited for, and exit status 1 (nothing was read).
func TestSignalFIFONoWriter(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP} {
		t.Run(sig.String(), func(t *testing.T) {
			t.Parallel()
			fifo := filepath.Join(t.TempDir(), "nofifo")
			if err := unix.Mkfifo(fifo, 0o600); err != nil {
				t.Fatal(err)
			}
			s := startSignalled(t, nil, "-r", fifo, "--report")
			waitWchan(t, s.cmd.Process.Pid, "wait_for_partner")
			code := s.stop(t, sig)
			want := fmt.Sprintf("synscope: %s: reading stopped by %s while waiting for a program to open the FIFO for writing: nothing was read\n", fifo, stopSignal{sig})
			if code != 1 || s.stderr.String() != want || s.stdout.Len() != 0 {
				t.Errorf("exit %d, stderr %q, stdout %q\nwant exit 1, stderr %q", code, s.stderr.String(), s.stdout.String(), want)
			}
		})
	}
}

// TestSignalIdlePipe: (head -c N capture; sleep) | synscope -r - waits in
// read(2) for the rest. timeout's SIGTERM (or ctrl-c, or SIGHUP) ends the
// run at once with what came: the report or the records of the frames
// read, and a line naming the input, the signal and where reading
// stopped, which the report says too, not as damage; exit status 1, as
// the output is incomplete.
func TestSignalIdlePipe(t *testing.T) {
	file := "testdata/seed-client.pcap"
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	// Frames 1-5 whole and 10 bytes of the sixth.
	r, err := capture.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	var sixth int64
	for range 6 {
		rec, err := r.Next()
		if err != nil {
			t.Fatal(err)
		}
		sixth = rec.Offset
	}
	r.Close()
	send := data[:sixth+10]
	for _, tc := range []struct {
		mode string
		sig  syscall.Signal
	}{{"--report", syscall.SIGTERM}, {"--report", syscall.SIGINT}, {"--json", syscall.SIGHUP}} {
		t.Run(tc.mode+"-"+tc.sig.String(), func(t *testing.T) {
			t.Parallel()
			pr, pw, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			defer pw.Close()
			s := startSignalled(t, pr, "-r", "-", tc.mode)
			pr.Close()
			if _, err := pw.Write(send); err != nil {
				t.Fatal(err)
			}
			waitDrained(t, pw)
			code := s.stop(t, tc.sig)
			stopped := fmt.Sprintf("standard input: reading stopped by %s after frame 5 (at byte %d): the output holds the frames before it", stopSignal{tc.sig}, sixth)
			if code != 1 || s.stderr.String() != "synscope: "+stopped+"\n" {
				t.Errorf("exit %d, stderr %q\nwant exit 1, stderr %q", code, s.stderr.String(), "synscope: "+stopped)
			}
			out := s.stdout.String()
			if strings.Contains(out, "context canceled") || strings.Contains(out, "✗ "+stopped[:20]) {
				t.Errorf("the stop reads as damage:\n%s", out)
			}
			switch tc.mode {
			case "--report":
				// The last line, wrapped at 80 columns, says it,
				// with the info glyph.
				unwrapped := strings.ReplaceAll(out, "\n  ", " ")
				if !strings.HasPrefix(out, "standard input: 5 frames, 1 TCP flow\n") || !strings.HasSuffix(unwrapped, "\n· "+stopped+"\n") {
					t.Errorf("report:\n%s", out)
				}
			case "--json":
				if n := strings.Count(out, "\n"); n != 1 || !strings.Contains(out, `"capture":"standard input"`) || !strings.Contains(out, `"packets":5`) {
					t.Errorf("%d records:\n%s", n, out)
				}
			}
		})
	}
}

// TestSecondSignal: a second signal ends the process at once, as the
// default would have, but not one that comes with the first (systemd's
// SIGHUP right after SIGTERM).
func TestSecondSignal(t *testing.T) {
	ch := make(chan os.Signal, 4)
	done := make(chan struct{})
	defer close(done)
	var cause error
	cancelled := make(chan struct{})
	died := make(chan os.Signal, 1)
	now := time.Unix(0, 0)
	clock := make(chan time.Time, 4)
	go watchSignals(ch, done, func(err error) { cause = err; close(cancelled) }, func() time.Time { return <-clock }, func(s os.Signal) { died <- s })
	clock <- now
	ch <- syscall.SIGTERM
	<-cancelled
	if cause == nil || cause.Error() != "SIGTERM" {
		t.Fatalf("cause %v, want SIGTERM", cause)
	}
	clock <- now.Add(repeatGrace / 10)
	ch <- syscall.SIGHUP
	select {
	case s := <-died:
		t.Fatalf("died by %v, which came with the first", s)
	case <-time.After(100 * time.Millisecond):
	}
	clock <- now.Add(2 * repeatGrace)
	ch <- syscall.SIGINT
	select {
	case s := <-died:
		if s != syscall.SIGINT {
			t.Errorf("died by %v, want SIGINT", s)
		}
	case <-time.After(stopWithin):
		t.Fatal("a second SIGINT did not end the process")
	}
}

// TestSignalView: the interactive view reading a FIFO whose writer went
// quiet, stopped by SIGTERM (systemctl stop, timeout): the terminal comes
// back, and stderr says where reading stopped, as --report does (the view
// said nothing, with exit status 0).
func TestSignalView(t *testing.T) {
	needTmux(t)
	bin := synscopeBinary(t)
	data, err := os.ReadFile("testdata/seed-client.pcap")
	if err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(t.TempDir(), "cap")
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	s := newTmux(t, 80, 24, "LANG=C.UTF-8", "TERM=xterm-256color")
	s.keys("clear; "+bin+" -r "+fifo+"; echo rc=$?", "Enter")
	w, err := os.OpenFile(fifo, os.O_WRONLY, 0) // waits for synscope to open it
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	const frames = 5 // whole, then a part of the sixth
	r, err := capture.Open("testdata/seed-client.pcap")
	if err != nil {
		t.Fatal(err)
	}
	var next int64
	for range frames + 1 {
		rec, err := r.Next()
		if err != nil {
			t.Fatal(err)
		}
		next = rec.Offset
	}
	r.Close()
	w.Write(data[:next+10])
	s.waitFor("10.110.233.50:50183 → 172.16.1.1:443")
	pid := pidOf(t, bin)
	syscall.Kill(pid, syscall.SIGTERM)
	want := fmt.Sprintf("synscope: %s: reading stopped by SIGTERM after frame %d (at byte %d): the output holds the frames before it", fifo, frames, next)
	deadline := time.Now().Add(stopWithin)
	for {
		// -J joins the lines the terminal wrapped.
		p := s.tmux("capture-pane", "-t", s.name, "-p", "-J")
		if strings.Contains(p, want+"\nrc=1\n") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after SIGTERM the pane shows:\n%s\nwant %s and rc=1", p, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// pidOf finds the process running the program at path.
func pidOf(t *testing.T, path string) int {
	t.Helper()
	deadline := time.Now().Add(stopWithin)
	for time.Now().Before(deadline) {
		cmds, _ := filepath.Glob("/proc/[0-9]*/cmdline")
		for _, c := range cmds {
			b, err := os.ReadFile(c)
			if err == nil && bytes.HasPrefix(b, []byte(path+"\x00")) {
				var pid int
				fmt.Sscanf(c, "/proc/%d/cmdline", &pid)
				return pid
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no process runs %s", path)
	return 0
}

// TestSignalsIgnoredAtStart: a script's background job starts with SIGINT
// ignored (`synscope -i eth0 -w x.pcap & ... kill -INT $!`), and synscope
// left it so: the capture ran on, its -w file never renamed into place
// (tcpdump stops). SIGINT and SIGTERM are caught however it started; a
// SIGHUP ignored at start (nohup) stays ignored.
func TestSignalsIgnoredAtStart(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "nofifo")
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	s := startCmd(t, exec.Command("sh", "-c", `trap "" INT HUP; exec "$0" -r "$1" --report`, synscopeBinary(t), fifo))
	waitWchan(t, s.cmd.Process.Pid, "wait_for_partner")
	s.cmd.Process.Signal(syscall.SIGHUP)
	select {
	case <-s.done:
		t.Fatalf("a SIGHUP ignored at start ended the run: stderr %q", s.stderr.String())
	case <-time.After(300 * time.Millisecond):
	}
	code := s.stop(t, syscall.SIGINT)
	want := fmt.Sprintf("synscope: %s: reading stopped by SIGINT while waiting for a program to open the FIFO for writing: nothing was read\n", fifo)
	if code != 1 || s.stderr.String() != want {
		t.Errorf("exit %d, stderr %q\nwant exit 1, stderr %q", code, s.stderr.String(), want)
	}
}
