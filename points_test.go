package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/synscope/synscope/capture"
)

// seedPoints are the seed's three captures as the labelled points of one
// path.
var seedPoints = []string{"-r", "client=testdata/seed-client.pcap", "-r", "fw-inside=testdata/seed-inside.pcap",
	"-r", "fw-outside=testdata/seed-outside.pcap"}

// TestPointsFileRoundTrip: the pcapng that -w writes of several capture
// points reads back as those points. Read as one capture, the client's
// and fw-inside's packets of the connection (clocks 642 s apart) made one
// flow of 648 s with retransmissions and data after close that never
// happened. Now the --json records (path records: ids, findings, codes,
// frames, clock offsets) and the report are those of the three files
// given directly, and exporting the file again, whole or by a filter,
// writes the file the three files give.
func TestPointsFileRoundTrip(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "case.pcapng")
	code, stdout, errs := runCLI(t, append(seedPoints, "-w", out)...)
	if code != 0 || stdout != "wrote 28 packets of 3 flows to "+out+"\n" {
		t.Fatalf("export: exit %d, %q %q", code, stdout, errs)
	}
	for _, mode := range []string{"--json", "--report"} {
		code, want, errs := runCLI(t, append(seedPoints, mode)...)
		if code != 0 || errs != "" {
			t.Fatalf("%s of the three files: exit %d, %q", mode, code, errs)
		}
		code, got, errs := runCLI(t, "-r", out, mode)
		if code != 0 || errs != "" {
			t.Errorf("%s of %s: exit %d, stderr %q", mode, out, code, errs)
		}
		if got != want {
			t.Errorf("%s of %s:\n%s\nwant, as of the three files:\n%s", mode, out, got, want)
		}
	}
	// What the equality holds: three path records, one a point, with
	// the clock offsets and the path's findings.
	_, js, _ := runCLI(t, "-r", out, "--json")
	type record struct {
		Capture string `json:"capture"`
		Path    struct {
			Points []string `json:"points"`
		} `json:"path"`
		Packets  int `json:"packets"`
		Findings []struct {
			Code    string  `json:"code"`
			Seconds float64 `json:"seconds"`
		} `json:"findings"`
	}
	var recs []record
	for line := range strings.Lines(js) {
		var r record
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatal(err)
		}
		recs = append(recs, r)
	}
	codes := map[string]float64{}
	for _, r := range recs {
		for _, f := range r.Findings {
			codes[r.Capture+" "+f.Code] = f.Seconds
		}
	}
	if len(recs) != 3 || recs[0].Capture != "client" || recs[1].Capture != "fw-inside" || recs[2].Capture != "fw-outside" ||
		recs[0].Packets != 12 || recs[1].Packets != 12 || recs[2].Packets != 4 ||
		strings.Join(recs[0].Path.Points, ",") != "client,fw-inside,fw-outside" {
		t.Errorf("records %+v", recs)
	}
	if s, ok := codes["fw-inside path.clock_offset"]; !ok || s > -641 || s < -644 {
		t.Errorf("fw-inside's clock offset %v (%v), want about -642 s", s, ok)
	}
	if _, ok := codes["fw-inside path.dropped"]; !ok {
		t.Errorf("no path.dropped at fw-inside: %v", codes)
	}
	if _, ok := codes["client tcp.data_after_close"]; ok {
		t.Errorf("data after close at the client: the points were merged")
	}

	// Exported again, whole and by a filter (the NAT'd port, seen at
	// fw-outside only: the connection is picked at every point).
	for _, expr := range [][]string{nil, {"port", "55073"}} {
		direct := filepath.Join(dir, "direct"+strings.Join(expr, "")+".pcapng")
		again := filepath.Join(dir, "again"+strings.Join(expr, "")+".pcapng")
		if code, _, errs := runCLI(t, append(append(seedPoints, "-w", direct), expr...)...); code != 0 {
			t.Fatalf("export of the three files %v: %s", expr, errs)
		}
		code, stdout, errs := runCLI(t, append([]string{"-r", out, "-w", again}, expr...)...)
		if code != 0 || stdout != "wrote 28 packets of 3 flows to "+again+"\n" {
			t.Fatalf("export of %s %v: exit %d, %q %q", out, expr, code, stdout, errs)
		}
		a, _ := os.ReadFile(direct)
		b, _ := os.ReadFile(again)
		if !bytes.Equal(a, b) {
			t.Errorf("export %v of %s differs from the three files' (%d and %d bytes)", expr, out, len(b), len(a))
		}
	}
}

// TestPointsFileFlags: a file of points goes with the flags as its points
// would: a label, which the points have already, is refused; so are
// --flow (flows of one capture) and a .pcap output (one link type); a
// point's name taken by another -r is refused as two -r of one name are.
// A file that cannot be opened gets its usual error, and standard input,
// which cannot be read once per point, is read as one capture, with a
// note that says so.
func TestPointsFileFlags(t *testing.T) {
	dir := t.TempDir()
	out, out2 := filepath.Join(dir, "case.pcapng"), filepath.Join(dir, "case2.pcapng")
	for _, o := range []string{out, out2} {
		if code, _, errs := runCLI(t, append(seedPoints, "-w", o)...); code != 0 {
			t.Fatal(errs)
		}
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-r", "case=" + out, "--report"}, "synscope: -r case=" + out + ": " + out + " holds 3 capture points that synscope wrote, named in it (client, fw-inside, fw-outside): give it without a label, -r " + out + "\n"},
		{[]string{"-r", out, "--flow", "1", "-w", filepath.Join(dir, "f.pcapng")}, "synscope: --flow picks flows of one capture, and -r " + out + " holds 3 capture points (client, fw-inside, fw-outside): write connections with a filter instead (-r " + out + " -w FILE.pcapng EXPR)\n"},
		{[]string{"-r", out, "-w", filepath.Join(dir, "f.pcap")}, "synscope: -w " + filepath.Join(dir, "f.pcap") + ": -r " + out + " holds 3 capture points, whose packets go into a pcapng file (one interface per point, or more): name it .pcapng\n"},
		{[]string{"-r", out, "-r", "client=testdata/seed-client.pcap", "--report"}, "synscope: -r " + out + " and -r client=testdata/seed-client.pcap both have a capture point named client, and the points of a file synscope wrote (-r " + out + ") keep their names: give the other another label, as -r NAME=testdata/seed-client.pcap\n"},
		// Two such files: neither can be labelled (the advice to label
		// each point could not be followed).
		{[]string{"-r", out, "-r", out2, "--report"}, "synscope: -r " + out2 + ": its capture point client has the name of one in -r " + out + ", and the points of a file synscope wrote keep their names: read the two files one at a time\n"},
		{[]string{"-r", filepath.Join(dir, "none.pcapng"), "--report"}, "synscope: " + filepath.Join(dir, "none.pcapng") + ": cannot open: no such file or directory\n"},
	} {
		code, stdout, errs := runCLI(t, c.args...)
		if code != 1 || stdout != "" || errs != c.want {
			t.Errorf("%q: exit %d, stdout %q, stderr %q\nwant exit 1, stderr %q", c.args, code, stdout, errs, c.want)
		}
	}
	// With another capture point after them.
	code, stdout, errs := runCLI(t, "-r", out, "-r", "server=testdata/seed-outside.pcap", "--report")
	if code != 0 || !strings.HasPrefix(stdout, "path: client → fw-inside → fw-outside → server\n") {
		t.Errorf("a fourth point: exit %d, %q, %q", code, stdout, errs)
	}

	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cmd := exec.Command(synscopeBinary(t), "-r", "-", "--json")
	cmd.Stdin = f
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	if err := cmd.Run(); err != nil {
		t.Fatalf("-r - < %s: %v, %s", out, err, e.String())
	}
	if !strings.Contains(e.String(), "synscope: standard input: its interfaces are 3 capture points that synscope wrote (client, fw-inside, fw-outside), read here as one capture, which merges their packets: give the file itself to -r") {
		t.Errorf("-r - < %s: stderr %q", out, e.String())
	}
}

// TestPlainPcapngNotSplit: a pcapng of two interfaces that synscope did
// not write as capture points is one capture, as before: one that another
// program wrote, and one that synscope wrote from one capture.
func TestPlainPcapngNotSplit(t *testing.T) {
	dir := t.TempDir()
	plain := filepath.Join(dir, "plain.pcapng")
	f, err := os.Create(plain)
	if err != nil {
		t.Fatal(err)
	}
	nw, err := capture.NewPcapngWriter(f)
	if err != nil {
		t.Fatal(err)
	}
	for i, file := range []string{"testdata/seed-client.pcap", "testdata/seed-inside.pcap"} {
		r, err := capture.Open(file)
		if err != nil {
			t.Fatal(err)
		}
		in := r.Interfaces()[0]
		in.Name = []string{"eth0", "eth1"}[i]
		id, err := nw.AddInterfaceLike(in)
		if err != nil {
			t.Fatal(err)
		}
		for {
			rec, err := r.Next()
			if err != nil {
				break
			}
			if err := nw.WritePacket(id, rec); err != nil {
				t.Fatal(err)
			}
		}
		r.Close()
	}
	if err := nw.Flush(); err != nil {
		t.Fatal(err)
	}
	f.Close()

	again := filepath.Join(dir, "again.pcapng")
	if code, _, errs := runCLI(t, "-r", plain, "-w", again); code != 0 {
		t.Fatal(errs)
	}
	for _, path := range []string{plain, again} {
		code, out, _ := runCLI(t, "-r", path, "--json")
		if code != 0 || strings.Count(out, "\n") != 1 || !strings.HasPrefix(out, `{"capture":"`+path+`","id":1,`) || strings.Contains(out, `"path":`) {
			t.Errorf("%s: exit %d, want one record of one capture (the two interfaces' packets in one flow):\n%s", path, code, out)
		}
	}
}

// TestExportInterfaceBaseName: a single unlabelled -r names its pcapng
// interface by the file's base name: the path as typed put the user's
// directories (case folders, home directories) in a file handed to a
// vendor.
func TestExportInterfaceBaseName(t *testing.T) {
	in, err := filepath.Abs("testdata/seed-client.pcap")
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "x.pcapng")
	if code, _, errs := runCLI(t, "-r", in, "-w", out); code != 0 {
		t.Fatal(errs)
	}
	b, _ := os.ReadFile(out)
	if bytes.Contains(b, []byte(filepath.Dir(in))) {
		t.Errorf("%s holds the directory %s", out, filepath.Dir(in))
	}
	r, err := capture.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := r.Next(); err != nil {
		t.Fatal(err)
	}
	if ifs := r.Interfaces(); len(ifs) != 1 || ifs[0].Name != "seed-client.pcap" {
		t.Errorf("interfaces %+v, want one named seed-client.pcap", ifs)
	}
}
