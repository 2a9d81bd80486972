package ui

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/synscope/synscope/capture"
)

// TestLoadTruncatedWhileRead truncates a capture file that the view reads
// through a mapping: the pages the file no longer has fault when touched,
// and the view must end the capture there as damage, with the flows before
// it, instead of crashing (and without keeping the capture's lock).
func TestLoadTruncatedWhileRead(t *testing.T) {
	data := manyFlows(8000)
	if len(data) < 2<<20 {
		t.Fatalf("the capture is %d bytes: too small to cut inside the first mapped window", len(data))
	}
	path := filepath.Join(t.TempDir(), "cut.pcap")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	src := openFile(t, path)
	if !src.Reader.MapInput() {
		t.Skip("no memory mapping of files here")
	}
	if err := os.Truncate(path, 1<<20); err != nil {
		t.Fatal(err)
	}
	l := newLoader([]Source{src}, nil, nil, 0, func() time.Time { return testClock })
	c := l.caps[0]
	l.read(c)
	var de *capture.DamageError
	if !errors.As(c.err, &de) || !strings.Contains(c.err.Error(), "shrank") {
		t.Fatalf("after the truncation: %v, want the damage of a file that shrank", c.err)
	}
	if c.res == nil || c.res.Frames == 0 || c.res.Frames != de.Frame || len(c.res.Flows) == 0 {
		t.Fatalf("result %+v after %v", c.res, c.err)
	}
	if !c.mu.TryLock() {
		t.Fatal("the capture's lock is still held")
	}
	c.mu.Unlock()
	snap := l.snapshot(testClock)
	if !snap.Done || !strings.Contains(snap.Caps[0].Err, "shrank") {
		t.Errorf("snapshot: done %v, error %q", snap.Done, snap.Caps[0].Err)
	}
}
