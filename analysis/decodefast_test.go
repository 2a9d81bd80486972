package analysis

import (
	"bytes"
	"reflect"
	"strings"
	"testing"

	"github.com/synscope/synscope/capture"
	"github.com/synscope/synscope/capture/fixture/synth"
)

// TestFastDecodeMatchesWalk decodes every frame of testdata/, the corpus
// and a generated capture twice, with the fast path and with gopacket's
// layers only: the packets must be the same, field for field.
func TestFastDecodeMatchesWalk(t *testing.T) {
	files := captureFiles(1)
	var gen bytes.Buffer
	if _, err := synth.Write(&gen, synth.Config{Seed: 5, Conns: 300, Anomalies: 0.5}); err != nil {
		t.Fatal(err)
	}
	fast, total := 0, 0
	check := func(name string, r *capture.Reader) {
		df, ds := NewDecoder(), NewDecoder()
		ds.slow = true
		var pf, ps Packet
		for {
			rec, err := r.Next()
			if err != nil {
				return
			}
			total++
			if probe := (Packet{WireLen: int(rec.OrigLen), TCPOffset: -1}); rec.LinkType == 1 && df.fast(&probe, rec.Data) {
				fast++
			}
			df.Decode(rec, &pf)
			ds.Decode(rec, &ps)
			if !reflect.DeepEqual(pf, ps) {
				t.Fatalf("%s frame %d: fast path\n%+v\ngeneral path\n%+v", name, rec.Frame, pf, ps)
			}
		}
	}
	for _, file := range files {
		if strings.HasSuffix(file, ".md") {
			continue
		}
		r, err := capture.Open(file)
		if err != nil {
			continue
		}
		check(file, r)
		r.Close()
	}
	r, err := capture.NewReader(bytes.NewReader(gen.Bytes()), "synth", int64(gen.Len()))
	if err != nil {
		t.Fatal(err)
	}
	check("synth", r)
	if fast == 0 {
		t.Fatal("no frame took the fast path")
	}
	t.Logf("%d frames, %d on the fast path", total, fast)
}
