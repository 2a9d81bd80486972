package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/synscope/synscope/capture"
)

// TestExportRefusedAtOnce: what makes -w fail is said before the input is
// read. A pipe was read to its end (minutes, or hours) and then refused,
// its packets gone; a directory that does not exist was said once the
// whole input had been read.
func TestExportRefusedAtOnce(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "in.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out.pcap")
	for _, c := range []struct {
		args []string
		want string
	}{
		// Neither is opened: a FIFO with no writer would block.
		{[]string{"-r", "-", "-w", out}, "synscope: -r -: standard input, which cannot be read twice, and -w reads the flows' packets back from it: save the capture to a file first (tcpdump -w FILE), then -r FILE -w " + out + "\n"},
		{[]string{"-r", "pt=" + fifo, "-w", out}, "synscope: -r pt=" + fifo + ": not a regular file but a pipe, a FIFO or a device, which cannot be read twice, and -w reads the flows' packets back from it: save the capture to a file first (tcpdump -w FILE), then -r FILE -w " + out + "\n"},
		{[]string{"-r", "testdata/seed-client.pcap", "-w", filepath.Join(dir, "no", "x.pcap")}, "synscope: -w " + filepath.Join(dir, "no", "x.pcap") + ": cannot create: no such file or directory\n"},
		// Both given, the filter cut the flow --flow picked in half.
		{[]string{"-r", "testdata/seed-client.pcap", "--flow", "1", "-w", out, "src", "host", "10.110.233.50"}, "synscope: --flow takes the ids of a run without a filter, and writes those flows whole: drop the filter src host 10.110.233.50 (with -w, a filter alone picks the whole flows it matches)\n"},
		// Refused once the captures had been read.
		{[]string{"-r", "testdata/seed-client.pcap", "-r", "testdata/seed-inside.pcap", "--flow", "1", "-w", out + "ng"}, "synscope: --flow picks flows of one capture; give one -r with it (with several, a filter picks connections)\n"},
		// It told the user to give one -r, which they had not.
		{[]string{"--demo", "--flow", "1", "-w", out + "ng"}, "synscope: --flow picks flows of one capture, and --demo reads three capture points: write them with --demo -w FILE.pcapng (a filter picks connections)\n"},
	} {
		code, stdout, errs := runCLI(t, c.args...)
		if code != 1 || stdout != "" || errs != c.want {
			t.Errorf("%q: exit %d, stdout %q, stderr %q\nwant exit 1, stderr %q", c.args, code, stdout, errs, c.want)
		}
		if _, err := os.Stat(out); err == nil {
			t.Fatalf("%q wrote %s", c.args, out)
		}
	}
}

// TestExportCounts: --flow 1,1 is one flow (it said "of 2 flows"), and an
// export that left out flows --max-flows evicted ends with exit status 1
// (stderr names them; the file lacks flows it was asked for).
func TestExportCounts(t *testing.T) {
	dir := t.TempDir()
	corpus := corpusFile(t, "of13_ericsson.pcapng")
	code, stdout, errs := runCLI(t, "-r", corpus, "--flow", "1,1,1-2", "-w", filepath.Join(dir, "d.pcap"))
	if code != 0 || errs != "" || !strings.HasSuffix(stdout, " packets of 2 flows to "+filepath.Join(dir, "d.pcap")+"\n") {
		t.Errorf("--flow 1,1,1-2: exit %d, stdout %q, stderr %q", code, stdout, errs)
	}
	code, stdout, errs = runCLI(t, "-r", corpus, "--max-flows", "2", "-w", filepath.Join(dir, "ev.pcap"))
	if code != 1 || !strings.Contains(errs, "19 flows evicted") || !strings.HasPrefix(stdout, "wrote 20 packets of 2 flows") {
		t.Errorf("--max-flows 2: exit %d, stdout %q, stderr %q; want exit 1", code, stdout, errs)
	}
}

// corpusFile returns the path of a corpus capture, skipping the test when
// the corpus is not there (failing under SYNSCOPE_REQUIRE_CORPUS=1).
func corpusFile(t *testing.T, name string) string {
	t.Helper()
	path := filepath.Join("..", "shared", "corpus", "tcpdump-tests", name)
	if _, err := os.Stat(path); err != nil {
		if os.Getenv("SYNSCOPE_REQUIRE_CORPUS") == "1" {
			t.Fatalf("%s not found, and SYNSCOPE_REQUIRE_CORPUS=1", path)
		}
		t.Skipf("%s not found", path)
	}
	return path
}

// TestExportSingleLabel: -w names the interfaces of a single -r NAME=FILE
// by NAME, as the view's w does and as several -r do; it kept the file's
// name.
func TestExportSingleLabel(t *testing.T) {
	out := filepath.Join(t.TempDir(), "lab.pcapng")
	if code, _, errs := runCLI(t, "-r", "edge-fw=testdata/seed-client.pcap", "-w", out); code != 0 {
		t.Fatal(errs)
	}
	r, err := capture.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := r.Next(); err != nil {
		t.Fatal(err)
	}
	if ifs := r.Interfaces(); len(ifs) != 1 || ifs[0].Name != "edge-fw" || ifs[0].Description != "seed-client.pcap" {
		t.Errorf("interfaces %+v, want edge-fw described as seed-client.pcap", ifs)
	}
}
