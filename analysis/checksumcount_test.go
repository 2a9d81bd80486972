package analysis

import (
	"fmt"
	"strings"
	"testing"
)

// TestChecksumCountsPastTheList: a flow's bad checksums are counted past
// the 1,000 it lists, and every side that sends one counts for the offload
// sender's rule. checksum.offload counted the list: "1000 packets" for the
// 4,076 of the reviewer's bulk transfer (bulkloss-a.pcap, 2,157 from the
// client and 1,919 from the server, as tshark counts them). And a side whose
// first bad checksum came after the list was full was not known: the
// server's bad checksums here were neither offload nor checksum.bad, and
// the client, the only sender left, was the offload sender.
//
// The client sends 1,200 segments with bad checksums, then the server
// 1,100, then each a good one: the server's first comes after the client's
// first 1,000.
func TestChecksumCountsPastTheList(t *testing.T) {
	const nc, ns = maxFindingsPerCode + 200, maxFindingsPerCode + 100
	build := func(head, client, server string) string {
		var b strings.Builder
		b.WriteString(head + "0 C>S S mss=1460\n+0.001 S>C SA mss=1460\n+0.001 C>S A\n")
		for range nc {
			fmt.Fprintf(&b, "+0.001 C>S PA len=100 %s\n", client)
		}
		for range ns {
			fmt.Fprintf(&b, "+0.001 S>C PA len=100 %s\n", server)
		}
		b.WriteString("+0.001 C>S PA len=100\n+0.001 S>C PA len=100\n")
		return b.String()
	}
	const hosts = "client 10.0.0.1:40000\nserver 10.0.0.2:443\n"
	const sent, unfinished = "sent by the capturing host with bad TCP checksums", "with TCP checksums left unfinished"
	for _, tc := range []struct {
		name, desc string
		senders    int    // addresses with bad checksums, as the offload tally knows them
		offload    int    // checksum.offload's count, 0 for none
		bad        int    // checksum.bad findings, counted
		record     string // in the JSON record
		// words is how checksum.offload's message starts after its count:
		// the capturing host's packets only where that is known (marked
		// outgoing, or the offload sender's).
		words string
	}{
		{"pseudo-header sums from both sides (offload on lo, or a veth)",
			build(hosts, "badsum", "badsum"), 2, nc + ns, 0, "", unfinished},
		{"pseudo-header sums from the client only, good ones after: the offload sender",
			build(hosts, "badsum", ""), 1, nc, 0, "", sent},
		{"bad sums from both sides, direction unknown: no offload sender",
			build(hosts, "badsum=0x1234", "badsum=0x1234"), 2, 0, nc + ns, `"finding_counts":{"checksum.bad":2300}`, ""},
		{"bad sums from the client only, good ones after: the offload sender",
			build(hosts, "badsum=0x1234", ""), 1, nc, 0, "", sent},
		{"marked outgoing from the client, received from the server (pcapng)",
			build("format pcapng\n"+hosts+"client dir=out\nserver dir=in\n", "badsum=0x1234", "badsum=0x1234"),
			2, nc, ns, `"finding_counts":{"checksum.bad":1100}`, sent},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := analyzerOf(t, tc.desc)
			if got := a.offload.senders; len(got) != tc.senders {
				t.Errorf("the offload tally knows the senders %v, want %d", got, tc.senders)
			}
			// A drill-down before the end judges them as Finish does.
			cp, _ := a.FlowCopy(1)
			f := a.Finish().Flows[0]
			for _, g := range []*Flow{cp, f} {
				off, ok := g.First(CodeChecksumOffload)
				switch {
				case tc.offload == 0 && ok:
					t.Errorf("checksum.offload: %s", g.Message(off))
				case tc.offload != 0 && (!ok || off.A != int64(tc.offload) || off.Frame != 4):
					t.Errorf("checksum.offload %v on frame %d: %q, want %d packets from frame 4", ok, off.Frame, g.Message(off), tc.offload)
				case tc.offload != 0 && !strings.HasPrefix(g.Message(off), fmt.Sprintf("%d packets %s", tc.offload, tc.words)):
					t.Errorf("checksum.offload says %q", g.Message(off))
				}
				if got, kept := g.Count(CodeChecksumBad), len(framesOf(g, CodeChecksumBad)); got != tc.bad || kept != min(tc.bad, maxFindingsPerCode) {
					t.Errorf("%d checksum.bad counted, %d kept; want %d, %d", got, kept, tc.bad, min(tc.bad, maxFindingsPerCode))
				}
			}
			if fi, ok := f.First(CodeChecksumBad); ok && tc.bad == ns && fi.Frame != 4+nc {
				t.Errorf("the first checksum.bad is on frame %d, want the server's first, %d", fi.Frame, 4+nc)
			}
			rec := string(f.appendJSON(nil, jsonHead("test", nil)))
			if tc.record != "" && !strings.Contains(rec, tc.record) {
				t.Errorf("record lacks %s", tc.record)
			}
			if want := tc.bad > 0; (f.Status == StatusWarning) != want {
				t.Errorf("status %s, want a warning %v", f.Status, want)
			}
		})
	}
}
