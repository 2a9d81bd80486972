package ui

import (
	"bytes"
	"path/filepath"
	"testing"

	tea "charm.land/bubbletea/v2"

	"github.com/synscope/synscope/capture"
	"github.com/synscope/synscope/capture/fixture"
)

// serialCapture is fixture.FrameRelayMix of the seed client: its 12
// Ethernet frames with 3 frames of Frame Relay, which the decoder does not
// read, among them.
func serialCapture(t *testing.T) []byte {
	t.Helper()
	data, err := fixture.FrameRelayMix(filepath.Join(seedDir, "seed-client.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestNotDecodedNote: frames the decoder could not look inside are counted
// on the progress line, as the capture is read and once it is, and the
// status line says which they are; a capture without any says nothing.
func TestNotDecodedNote(t *testing.T) {
	data := serialCapture(t)
	m := newLoaded(t, testConfig([]Source{memSource(t, "serial.pcapng", data)}), 80, 24)
	mustContain(t, m, "15 frames · 1 flow · ! 3 not decoded · sort",
		"! 3 frames of link type Frame Relay (107) not decoded: their TCP is in no flow")
	checkFrame(t, m, 80, 24)

	// While reading: the count so far, on the progress line.
	m = New(testConfig([]Source{memSource(t, "serial.pcapng", data)}))
	m.tick = func(int) tea.Cmd { return nil }
	m = update(t, m, tea.WindowSizeMsg{Width: 120, Height: 40})
	c := m.loader.caps[0]
	for range 5 {
		rec, err := c.rd.Next()
		if err != nil {
			t.Fatal(err)
		}
		c.an.Add(rec)
	}
	m = update(t, m, m.loader.snapshot(testClock))
	if !m.loading {
		t.Fatal("the capture reads as done")
	}
	mustContain(t, m, "5 pkts · 1 flow · ! 1 not decoded")

	// Two captures: the status line names the one.
	m = newLoaded(t, testConfig([]Source{openFile(t, filepath.Join(seedDir, "seed-client.pcap")), memSource(t, "serial.pcapng", data)}), 120, 40)
	mustContain(t, m, "! 3 not decoded", "! serial.pcapng: 3 frames of link type Frame Relay (107) not decoded")

	// Live: the count on the progress line.
	l := newFakeLive(t, memSource(t, "serial.pcapng", data))
	l.feed(1000)
	m = newLive(t, l, 120, 40)
	mustContain(t, m, "15 pkts · 1 flow · drops: 0 kernel, 0 queue · ! 3 not decoded")

	m = newLoaded(t, testConfig(seed(t, "seed-client.pcap")), 80, 24)
	if containsPlain(m, "not decoded") {
		t.Errorf("a capture decoded whole says frames were not:\n%s", plain(m))
	}
}

// TestOutsideNoteView: a capture whose only TCP frame was damaged read as
// one without TCP ("no TCP flow in this capture", nothing else); the
// status line now says which frame, and why it is in no flow.
func TestOutsideNoteView(t *testing.T) {
	data := fixture.Build("client 10.9.9.9:5555 isn=1\nserver 10.8.8.8:22 isn=2\ntime 2026-01-15T10:00:00Z\n0 C>S S mss=1460 iplen=30\n")
	m := newLoaded(t, testConfig([]Source{memSource(t, "lone.pcap", data)}), 80, 24)
	mustContain(t, m, "no TCP flow in this capture",
		"! 1 damaged TCP frame outside any flow (frame 1: TCP at byte 34: the 10-byte",
		"segment is shorter than a TCP header)")
	checkFrame(t, m, 80, 24)
}

// TestResultNotesView: what stderr and the report's head say of a capture
// (here: IP fragments of a datagram never completed, the middle one lost)
// is on the view's status line too; it said none of it.
func TestResultNotesView(t *testing.T) {
	data := fixture.Build("client 10.0.0.1:40000 isn=1000\nserver 10.0.0.2:443 isn=5000\ntime 2026-01-15T10:00:00Z\n" +
		"0 C>S S mss=1460\n+0.01 S>C SA mss=1460\n+0.01 C>S A\n+0.01 C>S PA len=100 frag=48\n")
	// Frames 4-6 are the fragments: leave out the middle one.
	data = dropFrame(t, data, 5)
	m := newLoaded(t, testConfig([]Source{memSource(t, "lost.pcap", data)}), 80, 24)
	mustContain(t, m, "· 2 IP fragments (the first, frame 4) belong to datagrams never completed")
	checkFrame(t, m, 80, 24)
}

// dropFrame returns pcap data without its frame n.
func dropFrame(t *testing.T, data []byte, n uint64) []byte {
	t.Helper()
	r, err := capture.NewReader(bytes.NewReader(data), "x", int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	w, err := capture.NewPcapWriter(&out, r.Interfaces()[0].LinkType, 65535, false)
	if err != nil {
		t.Fatal(err)
	}
	for {
		rec, err := r.Next()
		if err != nil {
			break
		}
		if rec.Frame != n {
			w.WritePacket(rec)
		}
	}
	w.Flush()
	return out.Bytes()
}
