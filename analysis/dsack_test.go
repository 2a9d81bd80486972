package analysis

import (
	"bytes"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/synscope/synscope/capture"
)

// dsackCases are captures described for capture/fixture whose server
// sends duplicate ACKs with SACK blocks of every shape, and the frames
// whose first block is a D-SACK block (RFC 2883) as tshark 4.0 reads it.
var dsackCases = []struct {
	name  string
	text  string
	dsack []uint64
	// msgs holds phrases of the duplicate ACKs' messages, by frame.
	msgs map[uint64]string
}{
	{name: "blocks of every shape",
		text: ruleHandshake + `
patch 1-3 sackok
+0.01  C>S PA len=100                            # 4: 1001-1101
+0.01  S>C A                                     # 5: ACK 1101
+0.001 S>C A  sack=1001-1101                     # 6: ends at the ACK
+0.001 S>C A  sack=1001-1051                     # 7: below it
+0.001 S>C A  sack=1051-1151                     # 8: across it
+0.001 S>C A  sack=1201-1301                     # 9: above a hole
+0.001 S>C A  sack=1251-1301,1201-1401           # 10: inside the second
+0.001 S>C A  sack=1201-1301,1251-1401           # 11: its end inside the second
+0.001 S>C A  sack=1201-1301,1401-1501           # 12: two holes
+0.001 S>C A  sack=1201-1301,1101-1301           # 13: the same end as the second
+0.001 S>C A  sack=1401-1501,1201-1301,1001-1101 # 14: a D-SACK block only third`,
		dsack: []uint64{6, 7, 10, 11, 13},
		msgs: map[uint64]string{
			6:  "duplicate ACK #1 from the server: the ACK of frame 5 again, and reports bytes 1-101 (relative) received twice (D-SACK): the client's retransmission",
			7:  "and reports bytes 1-51 (relative) received twice (D-SACK)",
			8:  "duplicate ACK #3 from the server: the ACK of frame 5 again",
			10: "and reports bytes 251-301 (relative) received twice (D-SACK)",
			14: "duplicate ACK #9 from the server: the ACK of frame 5 again",
		}},

	{name: "across sequence number 0",
		// The client's numbers wrap: its 200 bytes are 4294967196-100,
		// and 4294967246-50 is relative 51-151.
		text: ruleHandshake + `
client isn=4294967195
patch 1-3 sackok
+0.01  C>S PA len=200                            # 4: relative 1-201
+0.01  S>C A                                     # 5: ACK 100 (raw)
+0.001 S>C A  sack=4294967246-50                 # 6: below it, across 0
+0.001 S>C A  sack=100-200                       # 7: above it`,
		dsack: []uint64{6},
		msgs: map[uint64]string{
			6: "and reports bytes 51-151 (relative) received twice (D-SACK)",
			7: "duplicate ACK #2 from the server: the ACK of frame 5 again",
		}},
}

// TestDSACKAgainstTshark holds Options.DSACK to tshark 4.0's "D-SACK Left
// Edge" on every frame of dsackCases, and the duplicate ACKs' messages to
// what they report.
func TestDSACKAgainstTshark(t *testing.T) {
	var caps []described
	for _, c := range dsackCases {
		d := analyzeDescription(t, c.name, withClientPort(c.text, uint16(43000+len(caps))))
		caps = append(caps, d)
		r, err := capture.NewReader(bytes.NewReader(d.data), c.name, -1)
		if err != nil {
			t.Fatal(err)
		}
		dec := NewDecoder()
		var p Packet
		var ours []uint64
		for {
			rec, err := r.Next()
			if err != nil {
				break
			}
			dec.Decode(rec, &p)
			if p.Opts.DSACK(p.Ack) {
				ours = append(ours, p.Frame)
			}
		}
		if !slices.Equal(ours, c.dsack) {
			t.Errorf("%s: D-SACK on %v, want %v", c.name, ours, c.dsack)
		}
		f := d.res.Flows[0]
		for _, fi := range f.Findings {
			if fi.Code != CodeDupAck {
				continue
			}
			msg := f.Message(fi)
			if fi.HasDSACK() != slices.Contains(c.dsack, fi.Frame) || strings.Contains(msg, "D-SACK") != fi.HasDSACK() {
				t.Errorf("%s: frame %d: HasDSACK %v: %q", c.name, fi.Frame, fi.HasDSACK(), msg)
			}
			if want, ok := c.msgs[fi.Frame]; ok && !strings.Contains(msg, want) {
				t.Errorf("%s: frame %d: %q does not say %q", c.name, fi.Frame, msg, want)
			}
		}
	}

	tshark, err := exec.LookPath("tshark")
	if err != nil {
		skipOrFail(t, "SYNSCOPE_REQUIRE_TSHARK", "tshark not installed: D-SACK blocks not compared with tshark")
	}
	file, first := writeConcat(t, caps, "dsack.pcap")
	out, err := exec.Command(tshark, "-n", "-r", file, "-T", "fields", "-e", "frame.number", "-e", "tcp.options.sack.dsack_le").Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	var theirs []uint64
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		frame, le, _ := strings.Cut(line, "\t")
		if le == "" {
			continue
		}
		n, err := strconv.ParseUint(frame, 10, 64)
		if err != nil {
			t.Fatalf("tshark: %q", line)
		}
		theirs = append(theirs, n)
	}
	var want []uint64
	for i, c := range dsackCases {
		for _, fr := range c.dsack {
			want = append(want, fr+first[i])
		}
	}
	if !slices.Equal(want, theirs) {
		t.Errorf("D-SACK on frames %v of the merged captures, tshark's D-SACK Left Edge on %v", want, theirs)
	}
	if len(theirs) == 0 {
		t.Error("tshark shows no D-SACK: nothing compared")
	}
}
