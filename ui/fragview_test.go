package ui

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"github.com/synscope/synscope/analysis"
	"github.com/synscope/synscope/capture"
	"github.com/synscope/synscope/capture/fixture"
)

// fragFlow is a connection whose 64th packet, a ClientHello of 147 bytes,
// travels in three IPv4 fragments (frames 64-66), past the drill-down's
// first read (readAhead), with 40 more packets after it (more than
// readBehind).
func fragFlow() string {
	var b strings.Builder
	b.WriteString(`
client 10.0.0.1:40000 isn=1000
server 10.0.0.2:443   isn=5000
0     C>S S  mss=1460
+0.01 S>C SA mss=1460
+0.01 C>S A
`)
	for range 30 {
		b.WriteString("+0.01 S>C PA len=10\n+0.01 C>S A\n")
	}
	b.WriteString("+0.01 C>S PA len=147 frag=56\n")
	for range 20 {
		b.WriteString("+0.01 S>C PA len=10\n+0.01 C>S A\n")
	}
	return b.String()
}

// fragRefs returns the index in refs of frame 66, which completes the
// fragmented datagram, and checks that its two earlier fragments come
// right before it.
func fragRefs(t *testing.T, refs []analysis.PacketRef) int {
	t.Helper()
	for k, r := range refs {
		if r.Frame == 66 && r.Bits&analysis.RefFragment == 0 {
			if k < 2 || refs[k-2].Frame != 64 || refs[k-1].Frame != 65 || refs[k-2].Bits&refs[k-1].Bits&analysis.RefFragment == 0 {
				t.Fatalf("frames 64 and 65 are not the earlier fragments before frame 66: %+v", refs[max(0, k-2):k+1])
			}
			if k <= readAhead || k+readBehind >= len(refs) {
				t.Fatalf("frame 66 is at %d of %d refs: want it past the first read (%d) and %d refs after it", k, len(refs), readAhead, readBehind)
			}
			return k
		}
	}
	t.Fatal("frame 66 is not in the flow")
	return 0
}

// TestFragmentsReadBack: the frame that completes a datagram shows the
// segment reassembled from its fragments' bytes, also when a read starts
// at that frame (a jump 16 packets past it, readBehind, then scrolling
// back up): the read must start at the datagram's first fragment. It
// started at the frame, and the pane said "reassembled from fragments
// (their bytes are not shown)".
func TestFragmentsReadBack(t *testing.T) {
	data := fixture.Build(fragFlow())
	// A model afresh for each way there: models share what they read.
	opened := func() Model {
		m := newLoaded(t, testConfig([]Source{memSource(t, "frag.pcap", data)}), 80, 24)
		return press(t, m, "enter")
	}
	m := opened()
	k := fragRefs(t, m.detail.flow.Refs)
	// The datagram's segment, reassembled, with frame 66 at the cursor.
	reassembled := func(what string, m Model) {
		t.Helper()
		if m.detail.cursor != k {
			t.Fatalf("%s: the cursor is on ref %d, want %d (frame 66)", what, m.detail.cursor, k)
		}
		var pane []string
		for _, l := range m.detail.packetLines(80) {
			pane = append(pane, ansi.Strip(l))
		}
		text := strings.Join(pane, "\n")
		if !strings.Contains(text, "reassembled from 3 fragments") || strings.Contains(text, "not shown") {
			t.Errorf("%s: frame 66 is not shown reassembled:\n%s", what, text)
		}
		hasLine(t, what, pane, "payload 147 bytes…")
		// This frame's own length field (the last fragment's 55
		// bytes and its 20-byte header), as tshark and the hex show
		// it, then the datagram's: the line gave the datagram's as
		// the frame's.
		if !strings.Contains(text, "total length 75 (the datagram 187)") {
			t.Errorf("%s: the frame's own total length not shown:\n%s", what, text)
		}
	}
	reassembled("frame 66", detailAt(t, m, 66))
	far := m.detail.flow.Refs[k+readBehind].Frame
	reassembled(fmt.Sprintf("frame %d, then up %d", far, readBehind),
		press(t, detailAt(t, opened(), far), slices.Repeat([]string{"k"}, readBehind)...))
}

// detailAt moves the drill-down to frame and runs the reads it asks for.
func detailAt(t *testing.T, m Model, frame uint64) Model {
	t.Helper()
	d, cmd := m.detail.at(frame)
	m.detail = d
	return update(t, m, runCmd(cmd)...)
}

// TestFragmentsNotReadBack: when a datagram's earlier fragments cannot be
// read again (a live capture's spool rotated them out, or a ref without
// the fragment's offset), each says why, and the frame that completes
// the datagram, read alone, shows the segment's numbers from the flow.
func TestFragmentsNotReadBack(t *testing.T) {
	data := fixture.Build(fragFlow())
	m := newLoaded(t, testConfig([]Source{memSource(t, "frag.pcap", data)}), 80, 24)
	m = press(t, m, "enter")
	k := fragRefs(t, m.detail.flow.Refs)
	refs := append([]analysis.PacketRef(nil), m.detail.flow.Refs[k-2:k+1]...)
	rd, err := capture.NewReader(strings.NewReader(string(data)), "frag.pcap", int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	store := fileStore(rd)
	read := store.read
	store.read = func(ref analysis.PacketRef) (*capture.Record, error) {
		if ref.Frame == 64 {
			return nil, errors.New("spool: frame 64 was rotated out")
		}
		return read(ref)
	}
	refs[1].Offset = 0 // frame 65 without its offset
	infos := readPackets(store, refs)
	if infos[0].err != "spool: frame 64 was rotated out" || !strings.Contains(infos[1].err, "frame 65 is an earlier IP fragment") {
		t.Errorf("fragments: %q, %q; want the spool's error and the missing offset", infos[0].err, infos[1].err)
	}
	last := infos[2]
	if last.err != "" || !last.p.Fragment || last.p.HasTCP {
		t.Fatalf("frame 66 read alone: err %q, fragment %v, TCP %v; want a fragment not reassembled", last.err, last.p.Fragment, last.p.HasTCP)
	}
	m.detail.infos[k] = last
	m.detail.cursor = k
	var pane []string
	for _, l := range m.detail.packetLines(80) {
		pane = append(pane, ansi.Strip(l))
	}
	hasLine(t, "frame 66 alone", pane, "TCP reassembled from fragments (their bytes are not shown) · seq 1 · ack 301")
	hasLine(t, "frame 66 alone", pane, "    flags ACK PSH · window 65535 · payload 147 bytes")
}
