package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestScrollBytes measures, through tmux's pty, what the real binary
// writes to the terminal to move the cursor one row down the flow list at
// 200x50, and what an idle screen writes: issue 6 asks for at most 400
// bytes per row over a slow SSH link, and an idle screen must write
// nothing.
func TestScrollBytes(t *testing.T) {
	needTmux(t)
	file := manyFlows(t, 3000)
	s := newTmux(t, 200, 50, "TERM=xterm-256color", "LANG=C.UTF-8")
	s.keys(synscopeBinary(t)+" -r "+file, "Enter")
	s.waitFor("3,000 flows")
	// Let the loading finish and the screen settle.
	time.Sleep(1500 * time.Millisecond)
	out := filepath.Join(t.TempDir(), "pane.out")
	s.tmux("pipe-pane", "-o", "-t", s.name, "cat >> "+out)
	idle := waitSize(out, 1500*time.Millisecond)
	// Ten rows down from the top, then ten more once the cursor is on
	// the last visible row, where each key scrolls the whole list.
	var per []int
	for i := 0; i < 20; i++ {
		if i == 10 {
			for j := 0; j < 50; j++ {
				s.keys("j")
			}
			waitSize(out, time.Second)
		}
		before := waitSize(out, 0)
		s.keys("j")
		after := waitSize(out, 300*time.Millisecond)
		per = append(per, int(after-before))
	}
	s.tmux("pipe-pane", "-t", s.name)
	t.Logf("idle: %d bytes in 1.5 s; one row down: %v bytes", idle, per)
	if idle != 0 {
		t.Errorf("the idle screen wrote %d bytes", idle)
	}
	for i, n := range per {
		if n == 0 {
			t.Errorf("key %d: nothing written: the cursor did not move", i+1)
		}
		if n > 400 {
			t.Errorf("key %d: %d bytes written to move one row (at most 400)", i+1, n)
		}
	}
	s.keys("q")
	s.waitFor("READY$")
	if p := s.pane(); strings.Contains(p, "panic") {
		t.Errorf("pane: %s", p)
	}
}

// waitSize waits d, then returns the file's size (0 when absent).
func waitSize(path string, d time.Duration) int64 {
	time.Sleep(d)
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}
