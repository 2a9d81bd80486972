package analysis

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/synscope/synscope/capture"
	"github.com/synscope/synscope/capture/fixture"
)

// fragCaptures returns seed-client-frag.pcap and a pcapng copy built from
// its description.
func fragCaptures(t *testing.T) []string {
	t.Helper()
	c, err := fixture.Parse("../testdata/seed-client-frag-ng.txt", "include seed-client-frag.txt\nformat pcapng\n")
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	ng := filepath.Join(t.TempDir(), "seed-client-frag.pcapng")
	if err := os.WriteFile(ng, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return []string{"../testdata/seed-client-frag.pcap", ng}
}

// TestFragmentRefsHaveOffsets: the earlier IP fragments of a reassembled
// datagram keep where their records are, so that an export writes them
// byte for byte. Without, their refs had offset 0 and the export re-read
// the file header as their records: 0-byte packets dated 2055 from a pcap,
// a failed export from a pcapng.
func TestFragmentRefsHaveOffsets(t *testing.T) {
	for _, path := range fragCaptures(t) {
		t.Run(filepath.Ext(path), func(t *testing.T) {
			r, err := capture.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			want := records(t, path)
			offsets := map[uint64]int64{}
			for _, rec := range want {
				offsets[rec.Frame] = rec.Offset
			}
			res, err := Run(context.Background(), r, Config{Name: filepath.Base(path)})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Flows) != 1 {
				t.Fatalf("%d flows", len(res.Flows))
			}
			frags := 0
			for _, ref := range res.Flows[0].Refs {
				if ref.Offset != offsets[ref.Frame] {
					t.Errorf("frame %d: ref offset %d, its record is at %d", ref.Frame, ref.Offset, offsets[ref.Frame])
				}
				if ref.Bits&RefFragment != 0 {
					frags++
				}
			}
			if frags != 2 {
				t.Errorf("%d earlier fragments in the flow's refs, want 2 (frames 4 and 5)", frags)
			}

			items, err := res.ExportItems([]int{1})
			if err != nil {
				t.Fatal(err)
			}
			for _, ext := range []string{".pcap", ".pcapng"} {
				out := filepath.Join(t.TempDir(), "out"+ext)
				n, err := capture.Export(out, []capture.ExportSource{{Reader: r, Items: items}}, false)
				if err != nil || n != 14 {
					t.Fatalf("export to %s: %d, %v", ext, n, err)
				}
				got := records(t, out)
				if len(got) != len(want) {
					t.Fatalf("%s: %d packets, want %d", ext, len(got), len(want))
				}
				for i := range want {
					if !slices.Equal(got[i].Data, want[i].Data) || got[i].Timestamp != want[i].Timestamp || got[i].OrigLen != want[i].OrigLen {
						t.Errorf("%s: packet %d is not frame %d as it was (%d bytes at %d, want %d at %d)", ext, i+1, want[i].Frame,
							len(got[i].Data), got[i].Timestamp, len(want[i].Data), want[i].Timestamp)
					}
				}
			}
		})
	}
}

// TestLiveExportItemsHaveChecksumFindings: an export of a flow before
// Finish (the live view's) carries the checksum findings the view shows
// (FlowCopy's), as the export of the same packets read from a file does:
// it had no checksum.offload where the list showed it. The Analyzer is
// not changed by it.
func TestLiveExportItemsHaveChecksumFindings(t *testing.T) {
	a := analyzerOf(t, "client 127.0.0.1:40000\nserver 127.0.0.1:8765\n+0 C>S S mss=1460\n+0.01 S>C SA mss=1460\n+0.01 C>S A\n"+
		"+0.01 C>S PA len=100 badsum\n+0.01 S>C PA len=50 badsum\n")
	comments := func(items []capture.ExportItem) string {
		var all []string
		for _, it := range items {
			all = append(all, it.Comments...)
		}
		return strings.Join(all, "\n")
	}
	items, err := a.ExportItems([]int{1})
	if err != nil {
		t.Fatal(err)
	}
	live := comments(items)
	if !strings.Contains(live, "synscope: checksum.offload: ") {
		t.Errorf("live export comments lack checksum.offload:\n%s", live)
	}
	if again, _ := a.ExportItems([]int{1}); comments(again) != live {
		t.Errorf("a second export differs: the first changed the analysis\n%s\n%s", comments(again), live)
	}
	res := a.Finish()
	n := 0
	for _, fi := range res.Flows[0].Findings {
		if fi.Code == CodeChecksumOffload {
			n++
		}
	}
	if n != 1 {
		t.Errorf("after Finish %d checksum.offload findings, want 1", n)
	}
	done, err := res.ExportItems([]int{1})
	if err != nil {
		t.Fatal(err)
	}
	if comments(done) != live {
		t.Errorf("export after Finish:\n%s\nbefore:\n%s", comments(done), live)
	}
}
