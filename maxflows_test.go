package main

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/synscope/synscope/capture/fixture/synth"
)

// floodCapture writes a generated capture to dir: 200 connections with
// planted anomalies in a SYN flood of 6,000 distinct connections, 1,000 a
// second.
func floodCapture(t *testing.T, dir string) (string, *synth.Summary) {
	t.Helper()
	path := filepath.Join(dir, "flood.pcap")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	bw := bufio.NewWriter(f)
	sum, err := synth.Write(bw, synth.Config{Seed: 21, Conns: 200, Anomalies: 1, Kinds: synth.FloodKinds,
		Flood: 6000, FloodRate: 1e3, Duration: 2 * time.Second})
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		t.Fatal(err)
	}
	return path, sum
}

// TestMaxFlowsCLI runs synscope --max-flows on a SYN flood: --json keeps
// at most that many records, all the planted anomalies among them, and
// stderr says how many flows were evicted, as it does with --report; the
// exit status is 1, as an export's is, for the output leaves flows out
// (it was 0: a script saw a clean run); without the flag (the default,
// sized to memory) nothing is evicted.
func TestMaxFlowsCLI(t *testing.T) {
	path, sum := floodCapture(t, t.TempDir())
	// 2,000 flows hold the last 2 s of the flood, longer than any planted
	// connection stays idle before its anomaly shows.
	const maxFlows = 2000

	code, out, errs := runCLI(t, "-r", path, "--json", "--max-flows", fmt.Sprint(maxFlows))
	if code != 1 {
		t.Fatalf("--json --max-flows %d: exit %d: %s", maxFlows, code, errs)
	}
	records := strings.Count(out, "\n")
	v, err := synth.Check(sum, strings.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	if !v.OK() || records > maxFlows || records == 0 {
		t.Fatalf("%d records (at most %d): %s\n%s", records, maxFlows, v, v.Details(20))
	}
	evicted := sum.Flows - records
	note := fmt.Sprintf("%s: %d flows evicted to stay within %d flows at once (--max-flows)", path, evicted, maxFlows)
	if !strings.Contains(errs, note) || strings.Count(errs, "\n") != 1 {
		t.Errorf("--json: stderr %q, want one line with %q", errs, note)
	}

	code, out, errs = runCLI(t, "-r", path, "--report", "--max-flows="+fmt.Sprint(maxFlows))
	head := fmt.Sprintf("%d TCP flows\n  and %d more, evicted to stay within --max-flows %d: not reported\n", records, evicted, maxFlows)
	if code != 1 || !strings.Contains(errs, note) || !strings.Contains(out, head) {
		t.Errorf("--report: exit %d, stderr %q, want %q; report starts %.200q", code, errs, note, out)
	}

	for _, args := range [][]string{{"--json"}, {"--json", "--max-flows", "0"}} {
		code, out, errs = runCLI(t, append([]string{"-r", path}, args...)...)
		if code != 0 || errs != "" || strings.Count(out, "\n") != sum.Flows {
			t.Errorf("%v: exit %d, %d records of %d, stderr %q", args, code, strings.Count(out, "\n"), sum.Flows, errs)
		}
	}
}

// TestMaxFlowsUsage: a --max-flows that is not a number of flows is a
// one-line error that names the flag, exit status 1.
func TestMaxFlowsUsage(t *testing.T) {
	for _, args := range [][]string{
		{"--max-flows", "lots"},
		{"--max-flows=-1"},
		{"--max-flows", "1.5"},
		{"--max-flows"},
	} {
		code, _, errs := runCLI(t, append([]string{"-r", "testdata/seed-client.pcap", "--json"}, args...)...)
		if code != 1 || !strings.HasPrefix(errs, "synscope: flag --max-flows") || strings.Count(errs, "\n") != 1 {
			t.Errorf("%v: exit %d, stderr %q; want 1 and one line naming --max-flows", args, code, errs)
		}
	}
}

// TestLiveMaxFlows: live, past --max-flows the evicted flows are counted
// in the summary on stderr.
func TestLiveMaxFlows(t *testing.T) {
	requireLiveRoot(t)
	t.Parallel()
	port := httpServer(t)
	syn := startSynscope(t, "-i", "lo", "--json", "--max-flows", "2", "--duration", "3s", fmt.Sprintf("tcp port %d", port))
	get(t, port, 5) // five connections, each closed
	if code := syn.wait(t, 15*time.Second); code != 0 {
		t.Fatalf("exit status %d\nstderr: %s", code, syn.stderr.String())
	}
	flows := parseFlows(t, syn.stdout.String())
	// Three of the five connections are evicted, or more: a connection
	// whose last packets (the server's FIN, the last ACK) come after the
	// next one's SYN was evicted open if the two flows kept were both
	// still open then, and those packets start a flow of their own, which
	// is evicted in turn. Go's client closes each connection after its
	// body is read, so the next SYN can come before the last FIN: 4
	// evicted in 3 runs of 30 here, with the builds before and after the
	// flow table's 8-byte slots alike.
	var evicted int
	for line := range strings.Lines(syn.stderr.String()) {
		if strings.Contains(line, "flows evicted to stay within 2 flows at once (--max-flows)") {
			fmt.Sscanf(strings.TrimPrefix(line, "synscope: "), "%d flows evicted", &evicted)
		}
	}
	if len(flows) != 2 || evicted < 3 || evicted > 5 {
		t.Errorf("%d flows, %d evicted, stderr %q; want 2 flows and 3 to 5 flows evicted to stay within 2 flows at once (--max-flows)", len(flows), evicted, syn.stderr.String())
	}
}
