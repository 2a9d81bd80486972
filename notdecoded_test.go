package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/synscope/synscope/analysis"
	"github.com/synscope/synscope/capture"
	"github.com/synscope/synscope/capture/fixture"
)

// frameRelayCapture writes fixture.FrameRelayMix of the seed client to
// dir: its 12 Ethernet frames and 3 frames of Frame Relay, which synscope
// does not decode.
func frameRelayCapture(t *testing.T, dir string) string {
	t.Helper()
	data, err := fixture.FrameRelayMix("testdata/seed-client.pcap")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "serial.pcapng")
	if err := os.WriteFile(path, data, 0o600); err != nil {
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

	// A filter cannot look inside them either: they are still said,
	// and that nothing matched.
	code, _, errs = runCLI(t, "-r", path, "--json", "port", "80")
	if code != 0 || errs != warn+"synscope: no flow matches the filter port 80 given on the command line\n" {
		t.Errorf("--json with a filter: exit %d, stderr %q", code, errs)
	}

	// A capture it decodes whole says nothing.
	code, _, errs = runCLI(t, "-r", "testdata/seed-client.pcap", "--report")
	if code != 0 || errs != "" {
		t.Errorf("seed: exit %d, stderr %q", code, errs)
	}
}

// TestLiveNotDecodedFiltered: a live capture with a filter counts the
// frames it could not look inside, as the analysis of a file does, though
// the filter leaves them out before the Analyzer: on a link type synscope
// does not decode, `-i IF tcp port 80` showed no flows and no "not
// decoded" note. The packets go through liveRun.batch as the capture
// goroutine hands them over, in batches.
func TestLiveNotDecodedFiltered(t *testing.T) {
	path := frameRelayCapture(t, t.TempDir())
	r, err := capture.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var recs []capture.Record
	for {
		rec, err := r.Next()
		if err != nil {
			break
		}
		c := *rec
		c.Data = slices.Clone(rec.Data)
		recs = append(recs, c)
	}
	if len(recs) != 15 {
		t.Fatalf("%s: %d frames, want 15", path, len(recs))
	}
	note := "3 frames of link type Frame Relay (107) not decoded"
	for _, c := range []struct {
		expr    string
		packets uint64 // analysed
		flows   int
	}{
		{"tcp port 80", 0, 0}, // every frame left out
		{"port 443", 12, 1},   // the Ethernet ones kept
	} {
		match, err := compileFilter(strings.Fields(c.expr))
		if err != nil {
			t.Fatal(err)
		}
		lr := &liveRun{
			full:  make(chan struct{}),
			note:  func(s string) { t.Errorf("%s: note %q", c.expr, s) },
			match: match,
			dec:   analysis.NewDecoder(),
			an:    analysis.NewAnalyzer(analysis.Config{Name: "serial0", NoPacketIndex: true}),
		}
		batch := slices.Clone(recs)
		lr.batch(batch[:8])
		if got := lr.an.Progress().NotDecoded; got != 2 {
			t.Errorf("%s: after the first batch, %d frames not decoded, want 2", c.expr, got)
		}
		lr.batch(batch[8:])
		res := lr.an.Finish()
		if got := res.NotDecodedNote(); got != note || lr.n.Load() != c.packets || len(res.Flows) != c.flows {
			t.Errorf("%s: note %q, want %q; %d packets, want %d; %d flows, want %d",
				c.expr, got, note, lr.n.Load(), c.packets, len(res.Flows), c.flows)
		}
	}
}

// TestOutsideNoteJSON: TCP frames that could not be put in a flow (a
// header the IP length cuts, or the snap length does) are listed by the
// report; --json said nothing of them, and a capture whose only TCP was
// such a frame gave an empty stream, exit 0, as one without TCP. They are
// now said on stderr (not damage to the file: exit 0).
func TestOutsideNoteJSON(t *testing.T) {
	dir := t.TempDir()
	write := func(name, desc string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, fixture.Build(desc), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	lone := write("lone.pcap", "client 10.9.9.9:5555 isn=1\nserver 10.8.8.8:22 isn=2\ntime 2026-01-15T10:00:00Z\n0 C>S S mss=1460 iplen=30\n")
	code, out, errs := runCLI(t, "-r", lone, "--json")
	want := "synscope: " + lone + ": 1 damaged TCP frame outside any flow (frame 1: TCP at byte 34: the 10-byte segment is shorter than a TCP header): not in the records\n"
	if code != 0 || out != "" || errs != want {
		t.Errorf("lone damaged SYN: exit %d, stdout %q, stderr %q, want %q", code, out, errs, want)
	}
	cut := write("cut.pcap", `client 10.0.0.1:40000 isn=1000
server 10.0.0.2:443 isn=5000
time 2026-01-15T10:00:00Z
0 C>S S mss=1460
+0.01 S>C SA mss=1460
+0.01 C>S A
+0.01 C>S PA len=40 snap=38
+0.01 C>S PA len=40 snap=38
+0.01 S>C A
`)
	code, out, errs = runCLI(t, "-r", cut, "--json")
	want = "synscope: " + cut + ": 2 TCP frames cut by the snap length outside any flow (the first, frame 4: TCP at byte 34: header not captured whole: the capture stopped 4 bytes into its 20, at byte 38 (snap length)): not in the records\n"
	if code != 0 || strings.Count(out, "\n") != 1 || errs != want {
		t.Errorf("cut frames: exit %d, stdout %q, stderr %q, want %q", code, out, errs, want)
	}
	// The report lists them, and says nothing on stderr.
	if code, out, errs = runCLI(t, "-r", cut, "--report"); code != 0 || errs != "" || !strings.Contains(out, "2 frames cut short by the snap length, outside any flow") {
		t.Errorf("--report: exit %d, stderr %q, report %q", code, errs, out)
	}
}
