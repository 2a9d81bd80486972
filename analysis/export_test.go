package analysis

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/synscope/synscope/capture"
)

// TestExportMatchesTsharkStream exports each flow of real multi-connection
// captures and compares it with what tshark writes for the same tcp.stream:
// the same frames, bytes and time stamps, in the same order.
func TestExportMatchesTsharkStream(t *testing.T) {
	tshark := tsharkPath(t)
	tcpCaptures(t) // skips or fails without the corpus
	for _, name := range []string{"resp_1_benchmark.pcap", "of13_ericsson.pcapng", "kday7.pcap"} {
		file := filepath.Join(corpusDir, name)
		t.Run(name, func(t *testing.T) {
			r, err := capture.Open(file)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			res, err := Run(context.Background(), r, Config{Name: name})
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range res.Flows {
				items, err := res.ExportItems([]int{f.ID})
				if err != nil {
					t.Fatal(err)
				}
				dir := t.TempDir()
				ours := filepath.Join(dir, "ours.pcap")
				if _, err := capture.Export(ours, []capture.ExportSource{{Reader: r, Items: items}}, false); err != nil {
					t.Fatal(err)
				}
				theirs := filepath.Join(dir, "tshark.pcap")
				cmd := exec.Command(tshark, "-n", "-r", file, "-Y", fmt.Sprintf("tcp.stream eq %d", f.ID-1), "-F", "pcap", "-w", theirs)
				if out, err := cmd.CombinedOutput(); err != nil {
					t.Fatalf("tshark: %v %s", err, out)
				}
				a, b := records(t, ours), records(t, theirs)
				if len(a) != len(b) {
					t.Errorf("flow %d: %d packets, tshark's stream %d has %d", f.ID, len(a), f.ID-1, len(b))
					continue
				}
				for i := range a {
					if !bytes.Equal(a[i].Data, b[i].Data) || a[i].Timestamp/1000 != b[i].Timestamp/1000 || a[i].OrigLen != b[i].OrigLen {
						t.Errorf("flow %d packet %d differs from tshark's", f.ID, i+1)
					}
				}
			}
		})
	}
}

func records(t *testing.T, path string) []capture.Record {
	t.Helper()
	r, err := capture.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var out []capture.Record
	for {
		rec, err := r.Next()
		if err != nil {
			return out
		}
		c := *rec
		c.Data = bytes.Clone(rec.Data)
		out = append(out, c)
	}
}
