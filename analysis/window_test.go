package analysis

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// windowCaptures hold window updates in each state of the sender's window
// scale, for TestWindowUpdateBytesAgainstTshark (after ruleHosts).
var windowCaptures = []struct{ name, text string }{
	{"both sides scale", ruleHandshake + `
patch 1 mss=1460 ws=7
patch 2 mss=1460 ws=10
+0.01 C>S PA len=100
+0.01 S>C A  win=93
+0.01 S>C A  win=635
+0.01 C>S A  win=300
+0.01 C>S A  win=301`},
	{"one side offers a scale: neither scales", ruleHandshake + `
patch 1 mss=1460 ws=7
+0.01 C>S PA len=100
+0.01 S>C A  win=93
+0.01 S>C A  win=635
+0.01 C>S A  win=300`},
	{"no handshake: scale unknown", `
0.03  C>S PA seq=1001 ack=5001 len=100
0.04  S>C A  seq=5001 ack=1101 win=93
0.05  S>C A  seq=5001 ack=1101 win=635
0.06  C>S A  seq=1101 ack=5001 win=300`},
	{"SYN-ACK not captured: the client's own scale, the server's unknown", `
0      C>S S  mss=1460 ws=7
+0.02  C>S A  seq=1001 ack=5001
+0.001 C>S PA seq=1001 ack=5001 len=200
+0.01  S>C A  seq=5001 ack=1201 win=93
+0.01  S>C A  seq=5001 ack=1201 win=635
+0.01  C>S A  seq=1201 ack=5001 win=300`},
	{"SYN options not captured: scale unknown", ruleHandshake + `
patch 1 mss=1460 ws=7 snap=54
patch 2 mss=1460 ws=2
+0.01 C>S PA len=100
+0.01 C>S A  win=300
+0.01 S>C A  win=93
+0.01 S>C A  win=635`},
}

// TestWindowUpdateBytesAgainstTshark: every tcp.window_update gives the
// window in bytes as tshark 4.0's tcp.window_size has it (the field
// shifted by the sender's scale), and says it is the unscaled field
// exactly where tshark's tcp.window_size_scalefactor is -1 (unknown): on
// the captures above, the rule captures, testdata and the corpus.
func TestWindowUpdateBytesAgainstTshark(t *testing.T) {
	tshark := tsharkPath(t)
	var caps []described
	for i, wc := range windowCaptures {
		caps = append(caps, analyzeDescription(t, wc.name, withClientPort(wc.text, uint16(42000+i))))
	}
	for i, rc := range ruleCases {
		if rc.code == "tcp.window_update" {
			for j, text := range []string{rc.fires, rc.quiet} {
				d := analyzeDescription(t, rc.name, withClientPort(text, uint16(43000+2*i+j)))
				if isEthernetPcap(d.data) {
					caps = append(caps, d)
				}
			}
		}
	}
	merged, first := concatPcaps(t, caps)
	file := filepath.Join(t.TempDir(), "windows.pcap")
	if err := os.WriteFile(file, merged, 0o644); err != nil {
		t.Fatal(err)
	}
	compared, unknown := 0, 0
	check := func(name string, res *Result, frameBase uint64, tw map[uint64]tsharkWindow) {
		for _, f := range res.Flows {
			for _, fi := range f.Findings {
				if fi.Code != CodeWindowUpdate {
					continue
				}
				n, known := windowBytes(fi)
				w, ok := tw[frameBase+fi.Frame]
				switch {
				case !ok:
					t.Errorf("%s: frame %d: tshark has no window update (ours: %q)", name, fi.Frame, f.Message(fi))
				case n != w.size || known != (w.scale != -1):
					t.Errorf("%s: frame %d: %q; tshark: window %d, scale factor %d", name, fi.Frame, f.Message(fi), w.size, w.scale)
				}
				if !known && !strings.Contains(f.Message(fi), "unscaled") {
					t.Errorf("%s: frame %d: %q does not say the window is unscaled", name, fi.Frame, f.Message(fi))
				}
				compared++
				if !known {
					unknown++
				}
			}
		}
	}
	tw := tsharkWindows(t, tshark, file)
	for i, d := range caps {
		check(d.name, d.res, first[i], tw)
	}
	// Testdata and the corpus: those with window updates.
	for _, file := range tcpCaptures(t) {
		res, _ := analyzeFile(file)
		if res == nil || !hasCode(res, CodeWindowUpdate) {
			continue
		}
		check(filepath.Base(file), res, 0, tsharkWindows(t, tshark, file))
	}
	t.Logf("%d window updates compared with tshark, %d with the scale unknown", compared, unknown)
	if compared < 15 || unknown < 4 {
		t.Errorf("only %d window updates compared, %d unscaled", compared, unknown)
	}
}

func hasCode(res *Result, c Code) bool {
	for _, f := range res.Flows {
		if f.Has(c) {
			return true
		}
	}
	return false
}

// tsharkWindow is tshark's window of one frame.
type tsharkWindow struct{ size, scale int64 }

// tsharkWindows returns, by frame, the window tshark gives each frame it
// flags tcp.analysis.window_update.
func tsharkWindows(t *testing.T, tshark, file string) map[uint64]tsharkWindow {
	t.Helper()
	out, err := exec.Command(tshark, "-n", "-r", file, "-Y", "tcp.analysis.window_update", "-T", "fields",
		"-e", "frame.number", "-e", "tcp.window_size", "-e", "tcp.window_size_scalefactor").Output()
	if err != nil {
		t.Fatalf("tshark %s: %v", file, err)
	}
	m := map[uint64]tsharkWindow{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		c := strings.Split(line, "\t")
		if len(c) < 3 {
			continue
		}
		fr, err1 := strconv.ParseUint(c[0], 10, 64)
		size, err2 := strconv.ParseInt(c[1], 10, 64)
		scale, err3 := strconv.ParseInt(c[2], 10, 64)
		if err1 != nil || err2 != nil || err3 != nil {
			t.Fatalf("tshark %s: %q", file, line)
		}
		m[fr] = tsharkWindow{size, scale}
	}
	return m
}
