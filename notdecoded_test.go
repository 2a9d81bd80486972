package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/layers"

	"github.com/synscope/synscope/capture"
)

// frameRelayCapture writes a pcapng file to dir with the seed client's 12
// Ethernet frames on one interface and 3 frames of Frame Relay (link type
// 107, which synscope does not decode) on another, interleaved.
func frameRelayCapture(t *testing.T, dir string) string {
	t.Helper()
	r, err := capture.Open("testdata/seed-client.pcap")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var buf bytes.Buffer
	w, err := capture.NewPcapngWriter(&buf)
	if err != nil {
		t.Fatal(err)
	}
	eth, _ := w.AddInterface(layers.LinkTypeEthernet, 65535, "eth0")
	serial, _ := w.AddInterface(layers.LinkTypeFRelay, 65535, "serial0")
	// Q.922 address, UI, NLPID IP, then an IPv4 header: what the frames
	// hold does not matter, only that synscope cannot look inside.
	frame := []byte{0x18, 0x41, 0x03, 0xcc, 0x45, 0, 0, 20, 0, 0, 0, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2}
	for n := 0; ; n++ {
		rec, err := r.Next()
		if err != nil {
			break
		}
		if err := w.WritePacket(eth, rec); err != nil {
			t.Fatal(err)
		}
		if n%4 == 0 {
			fr := capture.Record{Timestamp: rec.Timestamp, Data: frame, OrigLen: uint32(len(frame))}
			if err := w.WritePacket(serial, &fr); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "serial.pcapng")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestNotDecodedCLI: frames of a link type synscope does not decode are
// said in every headless output, and are not damage: the exit status
// stays 0 and the flows of the frames it does decode are all there.
func TestNotDecodedCLI(t *testing.T) {
	path := frameRelayCapture(t, t.TempDir())
	note := "3 frames of link type Frame Relay (107) not decoded"
	warn := "synscope: " + path + ": " + note + ": any TCP in them is not in the output\n"

	code, out, errs := runCLI(t, "-r", path, "--json")
	if code != 0 || errs != warn || strings.Count(out, "\n") != 1 || !strings.Contains(out, `"packets":12`) {
		t.Errorf("--json: exit %d, stderr %q, want %q; stdout %q", code, errs, warn, out)
	}

	code, out, errs = runCLI(t, "-r", path, "--report")
	head := path + ": 15 frames, 1 TCP flow;\n  " + note + "\n"
	if code != 0 || errs != warn || !strings.HasPrefix(out, head) {
		t.Errorf("--report: exit %d, stderr %q; report starts %.200q, want %q", code, errs, out, head)
	}

	// A filter cannot look inside them either: they are still said.
	code, _, errs = runCLI(t, "-r", path, "--json", "port", "80")
	if code != 0 || errs != warn {
		t.Errorf("--json with a filter: exit %d, stderr %q", code, errs)
	}

	// A capture it decodes whole says nothing.
	code, _, errs = runCLI(t, "-r", "testdata/seed-client.pcap", "--report")
	if code != 0 || errs != "" {
		t.Errorf("seed: exit %d, stderr %q", code, errs)
	}
}
