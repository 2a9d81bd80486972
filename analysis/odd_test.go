package analysis

import (
	"bytes"
	"context"
	"runtime"
	"strings"
	"testing"

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
			r, err := capture.NewReader(bytes.NewReader(data), "c.pcap", int64(len(data)))
			if err != nil {
				t.Fatal(err)
			}
			prev := runtime.GOMAXPROCS(procs)
			res, err := Run(context.Background(), r, Config{Name: "c.pcap"})
			runtime.GOMAXPROCS(prev)
			if err != nil {
				t.Fatal(err)
			}
			got := strings.Join(res.Notes, "\n")
			if tc.want == "" && got != "" || tc.want != "" && !strings.Contains(got, tc.want) {
				t.Errorf("%s, %d cores: notes %q, want %q", tc.name, procs, got, tc.want)
			}
		}
	}
}
