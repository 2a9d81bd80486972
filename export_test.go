package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/synscope/synscope/capture"
	"github.com/synscope/synscope/capture/fixture"
)

// jsonWithoutCapture runs --json on path and returns its records with the
// capture's name taken out, one a line.
func jsonWithoutCapture(t *testing.T, path string) []string {
	t.Helper()
	code, out, errs := runCLI(t, "-r", path, "--json")
	if code != 0 {
		t.Fatalf("--json of %s: exit %d: %s", path, code, errs)
	}
	var recs []string
	for line := range strings.Lines(out) {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		delete(m, "capture")
		b, _ := json.Marshal(m)
		recs = append(recs, string(b))
	}
	return recs
}

// TestExportFragmentsRoundTrip: a flow with IP fragments, from a pcap and
// from a pcapng, exported to either format, reads back as the original:
// the same --json, and tshark finds nothing malformed. The earlier
// fragments' records were not kept: the pcap export wrote the file header
// as two 0-byte packets dated 2055 (and said "wrote 14 packets", exit 0),
// the pcapng export failed.
func TestExportFragmentsRoundTrip(t *testing.T) {
	c, err := fixture.Parse("testdata/seed-client-frag-ng.txt", "include seed-client-frag.txt\nformat pcapng\n")
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	ng := filepath.Join(dir, "frag.pcapng")
	if err := os.WriteFile(ng, b, 0o600); err != nil {
		t.Fatal(err)
	}
	tshark, _ := exec.LookPath("tshark")
	for _, src := range []string{"testdata/seed-client-frag.pcap", ng} {
		want := jsonWithoutCapture(t, src)
		for _, ext := range []string{".pcap", ".pcapng"} {
			out := filepath.Join(t.TempDir(), "x"+ext)
			code, stdout, errs := runCLI(t, "-r", src, "-w", out)
			if code != 0 || !strings.Contains(stdout, "wrote 14 packets of 1 flow") {
				t.Errorf("%s -w %s: exit %d, %q %q", src, ext, code, stdout, errs)
				continue
			}
			if got := jsonWithoutCapture(t, out); strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("%s -w %s: --json of the export\n%s\nof the original\n%s", src, ext, got, want)
			}
			if tshark == "" {
				continue
			}
			o, err := exec.Command(tshark, "-n", "-r", out).CombinedOutput()
			if err != nil || strings.Contains(string(o), "Malformed") || strings.Count(string(o), "\n") < 14 {
				t.Errorf("%s -w %s: tshark: %v\n%s", src, ext, err, o)
			}
		}
	}
}

// TestExportRenumbersCommentFrames: the comments of an exported flow name
// its frames as the file written numbers them. The second flow of a
// capture, frames 5-16 there, said "the client acknowledged the 2 bytes
// of SYN-ACK payload (frame 6)" in a file whose SYN-ACK is frame 2.
func TestExportRenumbersCommentFrames(t *testing.T) {
	outside, err := os.ReadFile("testdata/seed-outside.pcap")
	if err != nil {
		t.Fatal(err)
	}
	client, err := os.ReadFile("testdata/seed-client.pcap")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cat := filepath.Join(dir, "cat.pcap")
	// The same pcap header: the second file's records follow the first's.
	if err := os.WriteFile(cat, append(outside, client[24:]...), 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "one.pcapng")
	if code, _, errs := runCLI(t, "-r", cat, "--flow", "2", "-w", out); code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	r, err := capture.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	rr, err := r.Rereader()
	if err != nil {
		t.Fatal(err)
	}
	defer rr.Close()
	var third []string
	for {
		rec, err := r.Next()
		if err != nil {
			break
		}
		if rec.Frame == 3 {
			if _, err := rr.ReadAt(rec.Offset, rec.Frame); err != nil {
				t.Fatal(err)
			}
			third = rr.Comments()
		}
	}
	text := strings.Join(third, "\n")
	if !strings.Contains(text, "synscope: handshake.ack_mismatch: ") || !strings.Contains(text, "SYN-ACK payload (frame 2).") || strings.Contains(text, "frame 6") {
		t.Errorf("frame 3's comments:\n%s", text)
	}
}
