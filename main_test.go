package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/synscope/synscope/capture/fixture"
)

// runCLI runs the command line in-process and returns its exit status,
// stdout and stderr.
func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestJSONSeedClient(t *testing.T) {
	code, out, errs := runCLI(t, "-r", "testdata/seed-client.pcap", "--json")
	if code != 0 || errs != "" {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 1 {
		t.Fatalf("%d lines of JSON, want 1 (one flow)", len(lines))
	}
	var rec struct {
		Capture   string `json:"capture"`
		ID        int    `json:"id"`
		Status    string `json:"status"`
		Packets   int    `json:"packets"`
		Start     string `json:"start"`
		Handshake struct {
			Status      string `json:"status"`
			ExpectedAck uint32 `json:"expected_ack"`
			ActualAck   uint32 `json:"actual_ack"`
		} `json:"handshake"`
		Findings []struct {
			Code         string `json:"code"`
			Severity     string `json:"severity"`
			Frame        uint64 `json:"frame"`
			RelatedFrame uint64 `json:"related_frame"`
			Message      string `json:"message"`
		} `json:"findings"`
	}
	if err := json.Unmarshal([]byte(lines[0]), &rec); err != nil {
		t.Fatal(err)
	}
	if rec.Status != "invalid" || rec.Handshake.Status != "invalid" || rec.Packets != 12 || rec.ID != 1 {
		t.Errorf("record %+v", rec)
	}
	if rec.Handshake.ExpectedAck != 2180033886 || rec.Handshake.ActualAck != 2180033888 {
		t.Errorf("expected/actual %d/%d", rec.Handshake.ExpectedAck, rec.Handshake.ActualAck)
	}
	if rec.Start != "2012-05-01T14:44:32.139504Z" {
		t.Errorf("start %s", rec.Start)
	}
	found := map[string]uint64{}
	for _, f := range rec.Findings {
		if _, ok := found[f.Code]; !ok {
			found[f.Code] = f.Frame
		}
	}
	if found["handshake.synack_payload"] != 2 || found["handshake.ack_mismatch"] != 3 {
		t.Errorf("findings %v", found)
	}
}

func TestReportFits80Columns(t *testing.T) {
	code, out, _ := runCLI(t, "-r", "testdata/seed-client.pcap", "-r", "testdata/seed-client-ipv6.pcap", "-r", "testdata/seed-outside.pcap", "--report")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		if n := utf8.RuneCountInString(sc.Text()); n > 80 {
			t.Errorf("line of %d columns: %q", n, sc.Text())
		}
	}
	for _, want := range []string{"✗ 1  10.110.233.50:50183 → 172.16.1.1:443", "handshake.ack_mismatch", "summary: ✗ 1 invalid", "[2001:db8:10::50]:50183"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	// Invalid flows come first: the outside capture's flow is a warning.
	code, out, _ = runCLI(t, "-r", "testdata/seed-outside.pcap", "--report", "--ascii")
	if code != 0 || !strings.Contains(out, "! 1  10.110.235.202:55073 -> 172.16.1.1:443") || strings.ContainsAny(out, "✓✗→·…") {
		t.Errorf("ascii report:\n%s", out)
	}
}

func TestExitStatuses(t *testing.T) {
	dir := t.TempDir()
	junk := filepath.Join(dir, "junk.pcap")
	os.WriteFile(junk, []byte("this is not a capture at all"), 0o600)
	seed, _ := os.ReadFile("testdata/seed-client.pcap")
	trunc := filepath.Join(dir, "trunc.pcap")
	os.WriteFile(trunc, seed[:300], 0o600)

	cases := []struct {
		name   string
		args   []string
		code   int
		stderr string // substring
		stdout string // substring
	}{
		{"no input", []string{"--json"}, 1, "no capture given", ""},
		{"unknown flag", []string{"-r", "testdata/seed-client.pcap", "--bogus"}, 1, "unknown flag --bogus", ""},
		{"both outputs", []string{"-r", "testdata/seed-client.pcap", "--json", "--report"}, 1, "cannot be used together", ""},
		{"missing file", []string{"-r", filepath.Join(dir, "nope.pcap"), "--json"}, 1, "nope.pcap: cannot open: no such file or directory", ""},
		{"not a capture", []string{"-r", junk, "--json"}, 1, "junk.pcap: not a pcap or pcapng file", ""},
		// A path without one of its points is another path: refused,
		// nothing written (it was the path of the other two).
		{"point missing", []string{"-r", "client=testdata/seed-client.pcap", "-r", "fw=" + filepath.Join(dir, "nope.pcap"), "-r", "out=testdata/seed-outside.pcap", "--report"}, 1, "nope.pcap: cannot open: no such file or directory", ""},
		{"truncated", []string{"-r", trunc, "--report"}, 1, "trunc.pcap: damaged at byte", "damaged at byte"},
		{"bad filter", []string{"-r", "testdata/seed-client.pcap", "--json", "tcp[13]", "&", "2", "!=", "0"}, 1, "filter", ""},
		{"filter drops all", []string{"-r", "testdata/seed-client.pcap", "--report", "port", "80"}, 0, "", "0 TCP flows"},
		{"filter keeps", []string{"-r", "testdata/seed-client-vlan.pcap", "--report", "vlan", "and", "host", "10.110.233.50", "and", "port", "443"}, 0, "", "1 TCP flow"},
		{"help", []string{"--help"}, 0, "", "usage: synscope"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := runCLI(t, tc.args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d (stderr %q)", code, tc.code, errs)
			}
			if !strings.Contains(errs, tc.stderr) {
				t.Errorf("stderr %q lacks %q", errs, tc.stderr)
			}
			if !strings.Contains(out, tc.stdout) {
				t.Errorf("stdout lacks %q:\n%s", tc.stdout, out)
			}
			if tc.name == "point missing" && out != "" {
				t.Errorf("stdout %q, want nothing", out)
			}
			if tc.code != 0 && strings.Count(strings.TrimSpace(errs), "\n") != 0 {
				t.Errorf("stderr is not one line: %q", errs)
			}
		})
	}
}

// TestStdinPipe runs the real binary with a gzip-compressed capture on a
// pipe, as `ssh fw tcpdump -w - | synscope -r - --report` would.
func TestStdinPipe(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "synscope")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	gz, err := os.Open("testdata/seed-client.pcap.gz")
	if err != nil {
		t.Fatal(err)
	}
	defer gz.Close()
	cmd := exec.Command(bin, "-r", "-", "--json")
	stdin, _ := cmd.StdinPipe()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 97) // dribble it in, as a slow pipe would
	for {
		n, err := gz.Read(buf)
		stdin.Write(buf[:n])
		if err != nil {
			break
		}
	}
	stdin.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("%v: %s", err, errb.String())
	}
	if !strings.Contains(out.String(), `"capture":"-"`) && !strings.Contains(out.String(), `"status":"invalid"`) {
		t.Errorf("output %s", out.String())
	}
}

// TestPathModeSeed reads the seed's three captures as points of one path,
// as issue 5's "done means" asks.
func TestPathModeSeed(t *testing.T) {
	code, out, errs := runCLI(t, "-r", "client=testdata/seed-client.pcap", "-r", "fw-inside=testdata/seed-inside.pcap",
		"-r", "fw-outside=testdata/seed-outside.pcap", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	type finding struct {
		Code           string  `json:"code"`
		Capture        string  `json:"capture"`
		RelatedCapture string  `json:"related_capture"`
		Frame          uint64  `json:"frame"`
		Seconds        float64 `json:"seconds"`
		Message        string  `json:"message"`
	}
	type record struct {
		Capture string `json:"capture"`
		Path    struct {
			ID     int      `json:"id"`
			Points []string `json:"points"`
		} `json:"path"`
		Findings []finding `json:"findings"`
	}
	var recs []record
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var r record
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatal(err)
		}
		recs = append(recs, r)
	}
	if len(recs) != 3 {
		t.Fatalf("%d records, want 3", len(recs))
	}
	has := func(i int, code string, frame uint64) *finding {
		for j := range recs[i].Findings {
			f := &recs[i].Findings[j]
			if f.Code == code && (frame == 0 || f.Frame == frame) {
				return f
			}
		}
		return nil
	}
	for i, r := range recs {
		if r.Path.ID != 1 || strings.Join(r.Path.Points, ",") != "client,fw-inside,fw-outside" {
			t.Errorf("record %d: path %+v", i, r.Path)
		}
	}
	if f := has(0, "path.payload_added", 2); f == nil || f.Capture != "client" || f.RelatedCapture != "fw-inside" {
		t.Errorf("client flow: payload_added %+v", f)
	}
	if f := has(1, "path.dropped", 3); f == nil || f.RelatedCapture != "fw-outside" {
		t.Errorf("inside flow: dropped %+v", f)
	}
	nat := has(2, "path.nat", 0)
	if nat == nil || !strings.Contains(nat.Message, "10.110.233.50:50183") || !strings.Contains(nat.Message, "10.110.235.202:55073") {
		t.Errorf("nat %+v", nat)
	}
	co := has(1, "path.clock_offset", 0)
	if co == nil || co.Seconds > -641 || co.Seconds < -644 {
		t.Errorf("clock offset %+v, want about -642 s (the client's clock ahead)", co)
	}
}

func TestExportCLI(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "seed.pcapng")
	code, stdout, errs := runCLI(t, "-r", "testdata/seed-client.pcap", "--flow", "1", "-w", out)
	if code != 0 || !strings.Contains(stdout, "wrote 12 packets of 1 flow") {
		t.Fatalf("exit %d, %q %q", code, stdout, errs)
	}
	code, _, errs = runCLI(t, "-r", "testdata/seed-client.pcap", "--flow", "1", "-w", out)
	if code != 1 || !strings.Contains(errs, "already exists") {
		t.Errorf("second export over the first: exit %d %q", code, errs)
	}
	code, _, errs = runCLI(t, "-r", "testdata/seed-client.pcap", "--flow", "7", "-w", filepath.Join(dir, "x.pcap"))
	if code != 1 || !strings.Contains(errs, "no flow 7") {
		t.Errorf("unknown flow: exit %d %q", code, errs)
	}
	// -w OUT EXPR takes whole flows with a matching packet.
	code, stdout, _ = runCLI(t, "-r", "testdata/seed-client.pcap", "-w", filepath.Join(dir, "rst.pcap"), "host", "172.16.1.1", "and", "port", "443")
	if code != 0 || !strings.Contains(stdout, "wrote 12 packets of 1 flow") {
		t.Errorf("export by expression: exit %d %q", code, stdout)
	}
	code, stdout, _ = runCLI(t, "-r", "testdata/seed-client.pcap", "-w", filepath.Join(dir, "none.pcap"), "port", "80")
	if code != 0 || !strings.Contains(stdout, "wrote 0 packets of 0 flows") {
		t.Errorf("export of nothing: exit %d %q", code, stdout)
	}
	code, _, errs = runCLI(t, "-r", "testdata/seed-client.pcap", "--flow", "1")
	if code != 1 || !strings.Contains(errs, "add -w FILE") {
		t.Errorf("--flow without -w: exit %d %q", code, errs)
	}
}

// TestPointNamesUnique: two capture points shown by one name are refused:
// "x's clock is 2.000 s ahead of x's" told nothing, and both points' JSON
// records said "capture":"x".
func TestPointNamesUnique(t *testing.T) {
	for _, args := range [][]string{
		{"-r", "x=testdata/seed-client.pcap", "-r", "x=testdata/seed-inside.pcap"},
		{"-r", "testdata/seed-client.pcap", "-r", "./testdata/seed-client.pcap"},
		{"-r", " x =testdata/seed-client.pcap", "-r", "x=testdata/seed-inside.pcap"}, // spaces are not the label's
	} {
		code, _, errs := runCLI(t, append(args, "--report")...)
		if code != 1 || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, "has that name already") || !strings.Contains(errs, "-r NAME=FILE") {
			t.Errorf("%v: exit %d, %q", args, code, errs)
		}
	}
	if code, _, errs := runCLI(t, "-r", "a=testdata/seed-client.pcap", "-r", "b=testdata/seed-client.pcap", "--report"); code != 0 {
		t.Errorf("one file at two labelled points: exit %d, %q", code, errs)
	}
}

// TestExportPathComments: -w with several captures writes the path's
// findings (the seed's drop at the firewall) into the packets' comments,
// and names each interface by its point's label.
func TestExportPathComments(t *testing.T) {
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		if os.Getenv("SYNSCOPE_REQUIRE_TSHARK") == "1" {
			t.Fatal("tshark is not installed and SYNSCOPE_REQUIRE_TSHARK=1")
		}
		t.Skip("tshark is not installed")
	}
	out := filepath.Join(t.TempDir(), "seed.pcapng")
	code, _, errs := runCLI(t, "-r", "client=testdata/seed-client.pcap", "-r", "fw-inside=testdata/seed-inside.pcap",
		"-r", "fw-outside=testdata/seed-outside.pcap", "-w", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	b, err := exec.Command(tshark, "-r", out, "-T", "fields", "-E", "separator=|", "-e", "frame.interface_name", "-e", "frame.comment").Output()
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	for _, want := range []string{"fw-inside|", "synscope: path.dropped: ACK (frame 15 at fw-inside) never reached fw-outside", "synscope: path.payload_added: SYN-ACK grew by 2 bytes"} {
		if !strings.Contains(text, want) {
			t.Errorf("tshark's fields lack %q:\n%s", want, text)
		}
	}
}

// TestPathTTLRisesStderr: points given server side first are said on
// stderr with --json (the records would not say it), and at the report's
// head, not twice, with --report.
func TestPathTTLRisesStderr(t *testing.T) {
	dir := t.TempDir()
	conns := func(clientTTL, serverTTL int) string {
		var b strings.Builder
		fmt.Fprintf(&b, "format pcap\nlink ethernet\nserver 203.0.113.10:443 ttl=%d\ntime 2026-01-01T00:00:00Z\n", serverTTL)
		for k := range 4 {
			fmt.Fprintf(&b, "client 10.0.0.5:%d ttl=%d\n+1 C>S S seq=%d\n+0.02 S>C SA seq=%d ack=%d\n+0.0002 C>S A seq=%d ack=%d\n",
				40010+k, clientTTL, 1000*k, 7000*k, 1000*k+1, 1000*k+1, 7000*k+1)
		}
		return b.String()
	}
	write := func(name, desc string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, fixture.Build(desc), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	near, far := write("near.pcap", conns(64, 58)), write("far.pcap", conns(62, 60))
	const want = "synscope: the packets gain TTL from far to near (4 connections, 0 the other way): the points look given server side first"
	code, _, stderr := runCLI(t, "-r", "far="+far, "-r", "near="+near, "--json")
	if code != 0 || !strings.Contains(stderr, want) {
		t.Errorf("--json: exit %d, stderr %q lacks %q", code, stderr, want)
	}
	code, out, stderr := runCLI(t, "-r", "far="+far, "-r", "near="+near, "--report")
	if code != 0 || strings.Contains(stderr, "gain TTL") || !strings.Contains(strings.Join(strings.Fields(out), " "), "! the packets gain TTL from far to near") {
		t.Errorf("--report: exit %d, stderr %q, report:\n%s", code, stderr, out)
	}
	if _, _, stderr := runCLI(t, "-r", "near="+near, "-r", "far="+far, "--json"); strings.Contains(stderr, "gain TTL") {
		t.Errorf("in order: stderr %q", stderr)
	}
}
