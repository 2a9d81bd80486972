package analysis

import (
	"bytes"
	"cmp"
	"slices"
	"testing"

	"github.com/synscope/synscope/capture"
	"github.com/synscope/synscope/capture/fixture"
)

// TestFlowCopyWhileReading: a copy of a flow taken part way through a
// capture keeps what it had, with the status the flow would have if the
// capture ended there, while the Analyzer goes on; ExportItems lists the
// packets read so far.
func TestFlowCopyWhileReading(t *testing.T) {
	r, err := capture.Open("../testdata/seed-client.pcap")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	a := NewAnalyzer(Config{Name: "seed-client.pcap"})
	for range 3 {
		rec, err := r.Next()
		if err != nil {
			t.Fatal(err)
		}
		a.Add(rec)
	}
	if _, ok := a.FlowCopy(2); ok {
		t.Error("a copy of flow 2, which does not exist")
	}
	f, ok := a.FlowCopy(1)
	if !ok {
		t.Fatal("no flow 1")
	}
	items, err := a.ExportItems([]int{1})
	if err != nil || len(items) != 3 {
		t.Fatalf("export items so far: %d, %v", len(items), err)
	}
	for {
		rec, err := r.Next()
		if err != nil {
			break
		}
		a.Add(rec)
	}
	res := a.Finish()
	if len(f.Refs) != 3 || f.Packets != 3 || len(res.Flows[0].Refs) != 12 {
		t.Errorf("copy has %d refs (%d packets), the flow %d", len(f.Refs), f.Packets, len(res.Flows[0].Refs))
	}
	if f.Status != StatusInvalid || f.Handshake.Status != HSInvalid {
		t.Errorf("copy status %s, handshake %s; want invalid, invalid", f.Status, f.Handshake.Status)
	}
	if !f.Has(CodeAckMismatch) {
		t.Error("the copy lacks the wrong ACK of frame 3")
	}
	if items, _ := a.ExportItems([]int{1}); len(items) != 12 {
		t.Errorf("%d export items after Finish", len(items))
	}
}

// TestFlowCopyChecksums: before Finish, a copy of a flow has the checksum
// findings Finish would give it if the capture ended there, judged
// against the whole capture so far: a live drill-down showed none where
// the report of the same packets had checksum.offload. The Analyzer's own
// flow is left as it was, for Finish.
func TestFlowCopyChecksums(t *testing.T) {
	const hs = "+0 C>S S mss=1460\n+0.01 S>C SA mss=1460\n+0.01 C>S A\n"
	cases := []struct {
		name, desc string
		want       []Code // the copy's checksum findings, as Finish gives them
	}{
		// lo: the field holds the pseudo-header sum a stack leaves for
		// its NIC.
		{"pseudo-header sum", "client 127.0.0.1:40000\nserver 127.0.0.1:8765\n" + hs +
			"+0.01 C>S PA len=100 badsum\n+0.01 S>C PA len=50 badsum\n", []Code{CodeChecksumOffload}},
		// The direction unknown: offload when every bad checksum of the
		// capture comes from one address that sends good ones later.
		{"one sender with good ones later", "client 10.0.0.1:40000\nserver 10.0.0.2:443\n" +
			"0 C>S S mss=1460 badsum=0x1234\n+0.01 S>C SA mss=1460\n+0.01 C>S A badsum=0x1234\n+0.01 C>S PA len=100\n+0.01 S>C A\n",
			[]Code{CodeChecksumOffload}},
		{"two senders", "client 10.0.0.1:40000\nserver 10.0.0.2:443\n" +
			"0 C>S S mss=1460 badsum=0x1234\n+0.01 S>C SA mss=1460 badsum=0x1234\n+0.01 C>S A\n+0.01 C>S PA len=100\n+0.01 S>C A\n",
			[]Code{CodeChecksumBad, CodeChecksumBad}},
		{"no bad checksum", "client 10.0.0.1:40000\nserver 10.0.0.2:443\n" + hs, nil},
	}
	checksums := func(f *Flow) (out []Finding) {
		for _, fi := range f.Findings {
			if fi.Code == CodeChecksumOffload || fi.Code == CodeChecksumBad {
				out = append(out, fi)
			}
		}
		return out
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := analyzerOf(t, tc.desc)
			cp, ok := a.FlowCopy(1)
			if !ok {
				t.Fatal("no flow 1")
			}
			again, _ := a.FlowCopy(1)
			res := a.Finish()
			got, final := checksums(cp), checksums(res.Flows[0])
			if len(got) != len(tc.want) {
				t.Fatalf("copy's checksum findings %+v, want codes %v", got, tc.want)
			}
			for i, c := range tc.want {
				if got[i].Code != c {
					t.Errorf("finding %d: %s, want %s", i, got[i].Code, c)
				}
			}
			// The same as Finish gives the flow, and taking a copy
			// twice gives the same: the flow itself was not judged.
			if !slices.Equal(got, final) || !slices.Equal(checksums(again), final) {
				t.Errorf("copy %+v, second copy %+v, after Finish %+v", got, checksums(again), final)
			}
			if cp.Status != res.Flows[0].Status {
				t.Errorf("copy status %s, after Finish %s", cp.Status, res.Flows[0].Status)
			}
			if !slices.IsSortedFunc(cp.Findings, func(x, y Finding) int { return cmp.Compare(x.Frame, y.Frame) }) {
				t.Errorf("copy's findings out of frame order: %+v", cp.Findings)
			}
		})
	}
}

// analyzerOf returns an Analyzer that has read the capture a fixture
// description builds, not yet finished.
func analyzerOf(t testing.TB, desc string) *Analyzer {
	t.Helper()
	data := fixture.Build(desc)
	r, err := capture.NewReader(bytes.NewReader(data), "c.pcap", int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	a := NewAnalyzer(Config{Name: "c.pcap"})
	for {
		rec, err := r.Next()
		if err != nil {
			return a
		}
		a.Add(rec)
	}
}
