package main

import (
	"bytes"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"testing"
)

// TestReportSaysFilter: with a filter, each capture's heading says its
// flows are those that match it. "12 frames, 0 TCP flows" read as a
// capture without TCP when a typo in the filter (port 4433) matched
// nothing. --json, whose records are all its stdout, says so on stderr,
// in the words of the view's empty list.
func TestReportSaysFilter(t *testing.T) {
	seed := "testdata/seed-client.pcap"
	for _, tc := range []struct {
		args           []string
		stdout, stderr string // stdout's first line
	}{
		{[]string{"-r", seed, "--report", "port", "9"}, "testdata/seed-client.pcap: 12 frames, 0 TCP flows match the filter port 9", ""},
		{[]string{"-r", seed, "--report", "tcp", "port", "443"}, "testdata/seed-client.pcap: 12 frames, 1 TCP flow matches the filter tcp port 443", ""},
		{[]string{"-r", seed, "--report"}, "testdata/seed-client.pcap: 12 frames, 1 TCP flow", ""},
		{[]string{"-r", seed, "--json", "port", "9"}, "", "synscope: no flow matches the filter port 9 given on the command line\n"},
		{[]string{"-r", "client=" + seed, "-r", "inside=testdata/seed-inside.pcap", "--report", "port", "9"},
			"", ""},
		{[]string{"-r", "client=" + seed, "-r", "inside=testdata/seed-inside.pcap", "--json", "port", "9"},
			"", "synscope: no connection matches the filter port 9 given on the command line\n"},
	} {
		code, out, errs := runCLI(t, tc.args...)
		first, _, _ := strings.Cut(out, "\n")
		if code != 0 || errs != tc.stderr || tc.stdout != "" && first != tc.stdout {
			t.Errorf("%v: exit %d, stderr %q, first line %q\nwant exit 0, stderr %q, first line %q", tc.args, code, errs, first, tc.stderr, tc.stdout)
		}
	}
	// Several points: each point's heading, under the path's.
	_, out, _ := runCLI(t, "-r", "client="+seed, "-r", "inside=testdata/seed-inside.pcap", "--report", "port", "9")
	for _, want := range []string{
		"client: 12 frames, 0 TCP flows of the connections that match the filter port 9\n",
		"inside: 12 frames, 0 TCP flows of the connections that match the filter port 9\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("path report lacks %q:\n%s", want, out)
		}
	}
	// A long filter wraps at 80 columns.
	_, out, _ = runCLI(t, "-r", seed, "--report", "tcp", "port", "443", "and", "not", "host", "10.1.2.3", "and", "not", "host", "10.1.2.4")
	for _, line := range strings.Split(out, "\n") {
		if len([]rune(line)) > 80 {
			t.Errorf("line of %d columns: %q", len([]rune(line)), line)
		}
	}
}

// TestWriteDirectory: -w naming a directory says so at once. It said
// "already exists; choose another name, or add --overwrite", and with
// --overwrite then "exists and is not a regular file".
func TestWriteDirectory(t *testing.T) {
	dir := t.TempDir()
	want := "synscope: -w " + dir + ": is a directory: give the name of a file to write, e.g. " + filepath.Join(dir, "capture.pcapng") + "\n"
	for _, args := range [][]string{
		{"-r", "testdata/seed-client.pcap", "-w", dir},
		{"-r", "testdata/seed-client.pcap", "-w", dir, "--overwrite"},
		{"--demo", "-w", dir},
		{"-i", "lo", "--report", "-w", dir}, // before any capture starts
	} {
		if code, out, errs := runCLI(t, args...); code != 1 || errs != want || out != "" {
			t.Errorf("%v: exit %d, stderr %q, stdout %q\nwant exit 1, stderr %q", args, code, errs, out, want)
		}
	}
}

// TestStdinOneName: standard input goes by one name in the report's
// heading, its damage line and the JSON records (the heading said "-",
// the damage "standard input"); given twice it is refused as such.
func TestStdinOneName(t *testing.T) {
	data, err := os.ReadFile("testdata/seed-client.pcap")
	if err != nil {
		t.Fatal(err)
	}
	cut := data[:len(data)-5]
	for _, mode := range []string{"--report", "--json"} {
		cmd := exec.Command(synscopeBinary(t), "-r", "-", mode)
		cmd.Stdin = bytes.NewReader(cut)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, _ := cmd.Output()
		damage := "standard input: damaged at byte "
		switch {
		case !strings.HasPrefix(stderr.String(), "synscope: "+damage):
			t.Errorf("%s: stderr %q", mode, stderr.String())
		case mode == "--report" && (!strings.HasPrefix(string(out), "standard input: 11 frames, 1 TCP flow\n") || !strings.Contains(string(out), "✗ "+damage)):
			t.Errorf("%s:\n%s", mode, out)
		case mode == "--json" && !strings.Contains(string(out), `"capture":"standard input"`):
			t.Errorf("%s:\n%s", mode, out)
		}
	}
	want := "synscope: -r - is given twice: standard input can be read once\n"
	if code, _, errs := runCLI(t, "-r", "-", "-r", "-", "--report"); code != 1 || errs != want {
		t.Errorf("-r - -r -: exit %d, %q; want %q", code, errs, want)
	}
}

// TestIDBOptionsNote: a pcapng whose interface description block has a
// malformed option list is read (exit status 0), with a note on stderr and
// at the head of the report: here the seed's pcapng with its if_name
// option's length made to run past the block, which hides the if_tsresol
// (nanoseconds) after it, so that every time stamp is read as microseconds:
// in the year 44302, which the times do not hold, and a second note says
// that (the times wrapped around, without a word).
func TestIDBOptionsNote(t *testing.T) {
	data, err := os.ReadFile("testdata/seed-client-pcapng.pcapng")
	if err != nil {
		t.Fatal(err)
	}
	// The IDB is at byte 60: type, length, link type, reserved, snap
	// length, then if_name (code 2) with its length at byte 78.
	if !bytes.Equal(data[76:82], []byte{2, 0, 3, 0, 'i', 'f'}) {
		t.Fatalf("the fixture's IDB has changed: % x", data[60:100])
	}
	data = bytes.Clone(data)
	data[78] = 0xff
	file := filepath.Join(t.TempDir(), "badidb.pcapng")
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	note := "interface 0's description block (byte 60) has a malformed option list: the options from the broken one on are ignored; if if_tsresol or if_tsoffset was among them, its times are wrong"
	times := "12 frames have a time stamp outside what synscope's times hold (1677-09-21 to 2262-04-11; the first, frame 1: the year 44302): read as the nearest they hold, so their times are off"
	code, out, errs := runCLI(t, "-r", file, "--report")
	if code != 0 || errs != "synscope: "+file+": "+note+"\n"+"synscope: "+file+": "+times+"\n" {
		t.Errorf("exit %d, stderr %q", code, errs)
	}
	head := strings.SplitN(out, "\n\n", 2)[0]
	if got := strings.Join(strings.Fields(head), " "); got != file+": 12 frames, 1 TCP flow "+note+" "+times {
		t.Errorf("report's head:\n%s", head)
	}
}

// TestWriteAsZUser: -Z drops root before the -w file is created, so a
// directory root may write to but USER may not refuses it. The error
// names -Z and the user: as root, a bare "permission denied" is a riddle.
func TestWriteAsZUser(t *testing.T) {
	requireLiveRoot(t)
	if _, err := user.Lookup("nobody"); err != nil {
		t.Skip("no user nobody")
	}
	bin := synscopeBinary(t)
	for _, mode := range []os.FileMode{0o755, 0o700} {
		// Root's: nobody may enter (0755) but not create, or not even
		// enter (0700).
		dir := t.TempDir()
		os.Chmod(filepath.Dir(dir), 0o755)
		os.Chmod(dir, mode)
		out := filepath.Join(dir, "z.pcap")
		cmd := exec.Command(bin, "-i", "lo", "--report", "--duration", "1s", "-w", out, "-Z", "nobody")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		err := cmd.Run()
		want := "synscope: " + out + ": cannot create: permission denied (as user nobody, from -Z)\n"
		if mode == 0o700 {
			want = "synscope: " + out + ": permission denied (as user nobody, from -Z)\n"
		}
		if cmd.ProcessState.ExitCode() != 1 || stderr.String() != want {
			t.Errorf("directory mode %v: %v, stderr %q\nwant exit 1, stderr %q", mode, err, stderr.String(), want)
		}
	}
}

// TestSpoolAsZUser: the spool is made after -Z drops root, in --spool DIR
// or $TMPDIR; a directory the user may not write in is named with its flag
// and -Z ("spool: mkdir DIR/synscope-spool-123: permission denied" named
// neither).
func TestSpoolAsZUser(t *testing.T) {
	requireLiveRoot(t)
	if _, err := user.Lookup("nobody"); err != nil {
		t.Skip("no user nobody")
	}
	bin := synscopeBinary(t)
	dir := t.TempDir()
	os.Chmod(filepath.Dir(dir), 0o755)
	os.Chmod(dir, 0o700)
	for _, c := range []struct {
		args []string
		env  string
		want string
	}{
		{[]string{"--spool", dir}, "", "synscope: --spool " + dir + ": cannot make the spool's directory there: permission denied (as user nobody, from -Z)\n"},
		{[]string{"--keep-spool"}, "TMPDIR=" + dir, "synscope: the spool's default directory " + dir + " (--spool DIR chooses another): cannot make the spool's directory there: permission denied (as user nobody, from -Z)\n"},
	} {
		cmd := exec.Command(bin, append([]string{"-i", "lo", "--json", "--duration", "1s", "-Z", "nobody"}, c.args...)...)
		cmd.Env = append(os.Environ(), c.env)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		err := cmd.Run()
		if cmd.ProcessState.ExitCode() != 1 || stderr.String() != c.want {
			t.Errorf("%v %s: %v, stderr %q\nwant exit 1, stderr %q", c.args, c.env, err, stderr.String(), c.want)
		}
	}
}
