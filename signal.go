package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// stopSignals end a run as q does: the capture or the reading stops, and
// what was read is written out.
var stopSignals = []os.Signal{os.Interrupt, syscall.SIGTERM, syscall.SIGHUP}

// stopSignal is the cause of a run's context when a signal stopped it: an
// error whose text names the signal as kill -l does ("SIGINT"), for
// capture.InterruptedError to say what stopped the reading.
type stopSignal struct{ sig os.Signal }

func (s stopSignal) Error() string {
	switch s.sig {
	case os.Interrupt:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	case syscall.SIGHUP:
		return "SIGHUP"
	}
	return s.sig.String()
}

// repeatGrace is how long after the first stop signal another one is taken
// as the same request. systemd, with SendSIGHUP=yes, sends SIGHUP right
// after SIGTERM; a hung-up terminal can bring SIGHUP from the kernel and
// from the shell; and an impatient hand presses ctrl-c twice. Every read
// gives way to the first at once, so only a run that is still going after
// this long is stuck: a second signal within it, which ended a live
// capture before its -w file was flushed and renamed into place, waits
// like the first.
const repeatGrace = 3 * time.Second

// signalContext returns a context that the first SIGINT, SIGTERM or SIGHUP
// cancels, with a stopSignal as its cause; the run then ends as soon as
// what it was doing gives way (a read waiting on a pipe or a FIFO does:
// capture.OpenContext), with everything read so far written out.
//
// Catching them turns off the default, which ends the process at once: if
// something does not give way, a second signal, repeatGrace or more after
// the first, ends the process at once as the default would have (the
// output is then incomplete). stop restores the defaults.
func signalContext(stderr io.Writer) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(context.Background())
	ch := make(chan os.Signal, 4)
	for _, s := range stopSignals {
		// A SIGHUP the program was started with ignored stays so:
		// under nohup it must not stop a capture (catching it would
		// end the ignoring). SIGINT and SIGTERM are caught whatever
		// the start: a script's background job (`synscope -i eth0
		// -w x.pcap & ... kill -INT $!`) starts with SIGINT ignored,
		// and tcpdump stops on it; ignoring it left the capture
		// running and its -w file never renamed into place.
		if s != syscall.SIGHUP || !signal.Ignored(s) {
			signal.Notify(ch, s)
		}
	}
	done := make(chan struct{})
	go watchSignals(ch, done, cancel, time.Now, func(s os.Signal) {
		fmt.Fprintf(stderr, "synscope: %s again: exiting at once; the output is incomplete\n", stopSignal{s})
		dieBy(s)
	})
	return ctx, func() {
		signal.Stop(ch)
		close(done)
		cancel(nil)
	}
}

// watchSignals cancels the run at the first signal from ch, and calls die
// with a later one that comes repeatGrace or more after it; it returns
// when done is closed.
func watchSignals(ch <-chan os.Signal, done <-chan struct{}, cancel context.CancelCauseFunc, now func() time.Time, die func(os.Signal)) {
	var first time.Time
	for {
		select {
		case <-done:
			return
		case s := <-ch:
			switch {
			case first.IsZero():
				first = now()
				cancel(stopSignal{s})
			case now().Sub(first) >= repeatGrace:
				die(s)
				return
			}
		}
	}
}

// dieBy ends the process by the signal s, with its default action, so
// that the shell sees it killed by s (exit status 128+n), as a program
// that does not catch s is.
func dieBy(s os.Signal) {
	signal.Reset(stopSignals...)
	if p, err := os.FindProcess(os.Getpid()); err == nil {
		p.Signal(s)
	}
	time.Sleep(100 * time.Millisecond) // the signal is delivered
	os.Exit(1)
}
