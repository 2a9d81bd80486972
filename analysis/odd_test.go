package analysis

import (
	"bytes"
	"context"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/synscope/synscope/capture"
	"github.com/synscope/synscope/capture/fixture"
)

// TestTimeOrderNote: a frame more than a second earlier than one before
// it (captures merged unsorted, a clock stepped back) is said in the
// result's notes, on one core and two; frames a little out of order, as
// a pcapng's interfaces deliver them, are not.
func TestTimeOrderNote(t *testing.T) {
	const head = "client 10.0.0.1:40000\nserver 10.0.0.2:443\n"
	cases := []struct{ name, desc, want string }{
		{"an hour back", head + "3600 C>S S seq=1\n+0.02 S>C SA seq=9 ack=2\n+0.01 C>S A seq=2 ack=10\n0 C>S PA seq=2 ack=10 len=5\n",
			"1 frame more than 1 s earlier than a frame before it (the first, frame 4, by 1h0m0.03s)"},
		{"a millisecond back", head + "0 C>S S seq=1\n+0.02 S>C SA seq=9 ack=2\n+0.01 C>S A seq=2 ack=10\n0.029 C>S PA seq=2 ack=10 len=5\n", ""},
	}
	for _, tc := range cases {
		for _, procs := range []int{1, 2} {
			data := fixture.Build(tc.desc)
			res := runOn(t, data, "c.pcap", procs)
			got := strings.Join(res.Notes, "\n")
			if tc.want == "" && got != "" || tc.want != "" && !strings.Contains(got, tc.want) {
				t.Errorf("%s, %d cores: notes %q, want %q", tc.name, procs, got, tc.want)
			}
		}
	}
}

// TestTimeOrderBefore1970: a capture dated before 1970 (an interface's
// if_tsoffset of -2*10^9 s: 1906, as tshark shows it), in time order, is
// said to be in order; a frame of it an hour back is still noted. The
// latest time started at 0 (1970), and the in-order frames were all
// "earlier than a frame before them", frame 1 first, by 555555h.
func TestTimeOrderBefore1970(t *testing.T) {
	const head = "client 10.0.0.1:40000\nserver 10.0.0.2:443\n"
	const offset = -2_000_000_000 // s
	for _, tc := range []struct{ name, desc, want string }{
		{"in order", head + "0 C>S S seq=1\n+0.02 S>C SA seq=9 ack=2\n+0.01 C>S A seq=2 ack=10\n+0.01 C>S PA seq=2 ack=10 len=5\n", ""},
		{"an hour back", head + "3600 C>S S seq=1\n+0.02 S>C SA seq=9 ack=2\n+0.01 C>S A seq=2 ack=10\n0 C>S PA seq=2 ack=10 len=5\n",
			"1 frame more than 1 s earlier than a frame before it (the first, frame 4, by 1h0m0.03s)"},
	} {
		// The fixture's frames, dated 2*10^9 s earlier, through an
		// interface with that if_tsoffset (which the writer keeps).
		data := fixture.Build(tc.desc)
		src, err := capture.NewReader(bytes.NewReader(data), "c.pcap", int64(len(data)))
		if err != nil {
			t.Fatal(err)
		}
		var ng bytes.Buffer
		nw, _ := capture.NewPcapngWriter(&ng)
		id, _ := nw.AddInterfaceLike(capture.Interface{LinkType: src.Interfaces()[0].LinkType, TsResol: 9, TsOffset: offset})
		for {
			rec, err := src.Next()
			if err != nil {
				break
			}
			rec.Timestamp += offset * 1e9
			if err := nw.WritePacket(id, rec); err != nil {
				t.Fatal(err)
			}
		}
		nw.Flush()
		for _, procs := range []int{1, 2} {
			res := runOn(t, ng.Bytes(), "c.pcapng", procs)
			got := strings.Join(res.Notes, "\n")
			if tc.want == "" && got != "" || tc.want != "" && !strings.Contains(got, tc.want) {
				t.Errorf("%s, %d cores: notes %q, want %q", tc.name, procs, got, tc.want)
			}
			if len(res.Flows) != 1 || time.Unix(0, res.Flows[0].Start).UTC().Year() != 1906 {
				t.Errorf("%s: %d flows, the first starting %v: want one, in 1906", tc.name, len(res.Flows), time.Unix(0, res.Flows[0].Start).UTC())
			}
		}
	}
}

// runOn analyses a capture's bytes with Run on procs cores.
func runOn(t *testing.T, data []byte, name string, procs int) *Result {
	t.Helper()
	r, err := capture.NewReader(bytes.NewReader(data), name, int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	prev := runtime.GOMAXPROCS(procs)
	res, err := Run(context.Background(), r, Config{Name: name})
	runtime.GOMAXPROCS(prev)
	if err != nil {
		t.Fatal(err)
	}
	return res
}
