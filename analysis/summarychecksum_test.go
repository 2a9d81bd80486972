package analysis

import (
	"testing"
)

const checksumCodes = 1<<CodeChecksumBad | 1<<CodeChecksumOffload

// TestSummaryChecksumsBeforeFinish: before Finish, the Analyzer's summaries
// (a live list's rows) count the checksum findings Finish would give if the
// capture ended there, as FlowCopy does for the drill-down. A live list
// showed a flow with bad checksums from two senders as ok, and
// code:checksum.bad found nothing, until the capture stopped.
func TestSummaryChecksumsBeforeFinish(t *testing.T) {
	const hs = "+0 C>S S mss=1460\n+0.01 S>C SA mss=1460\n+0.01 C>S A\n"
	cases := []struct {
		name, desc string
		code       Code // the checksum code the row has
		status     Status
	}{
		{"two senders", "client 10.0.0.1:40000\nserver 10.0.0.2:443\n" +
			"0 C>S S mss=1460 badsum=0x1234\n+0.01 S>C SA mss=1460 badsum=0x1234\n+0.01 C>S A\n+0.01 C>S PA len=100\n+0.01 S>C A\n",
			CodeChecksumBad, StatusWarning},
		{"pseudo-header sum", "client 127.0.0.1:40000\nserver 127.0.0.1:8765\n" + hs +
			"+0.01 C>S PA len=100 badsum\n+0.01 S>C PA len=50 badsum\n", CodeChecksumOffload, StatusOK},
		{"one sender with good ones later", "client 10.0.0.1:40000\nserver 10.0.0.2:443\n" +
			"0 C>S S mss=1460 badsum=0x1234\n+0.01 S>C SA mss=1460\n+0.01 C>S A badsum=0x1234\n+0.01 C>S PA len=100\n+0.01 S>C A\n",
			CodeChecksumOffload, StatusOK},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := analyzerOf(t, tc.desc)
			live, _, _ := a.Changed(nil, 0)
			all := a.Summaries(nil)
			res := a.Finish()
			final := res.Flows[0].Summary()
			if len(live) != 1 || len(all) != 1 {
				t.Fatalf("%d summaries from Changed, %d from Summaries, want 1", len(live), len(all))
			}
			for _, s := range []FlowSummary{live[0], all[0]} {
				if s.Codes&checksumCodes != 1<<tc.code || s.Status != tc.status {
					t.Errorf("before Finish: codes %b status %s, want %s and %s", s.Codes&checksumCodes, s.Status, tc.code, tc.status)
				}
				// As the row after Finish shows it.
				if s.Codes != final.Codes || s.Status != final.Status || s.First != final.First {
					t.Errorf("before Finish: codes %b status %s first %+v; after: %b %s %+v",
						s.Codes, s.Status, s.First, final.Codes, final.Status, final.First)
				}
			}
		})
	}
}

// TestChangedGivesFlowsTheOffloadSenderChanges: a flow whose bad checksum
// is judged again because of another flow's packets (the capture's
// offload sender appears) is given by Changed although no packet of its
// own arrived.
func TestChangedGivesFlowsTheOffloadSenderChanges(t *testing.T) {
	a := NewAnalyzer(Config{Name: "t"})
	_, gen, _ := a.Changed(nil, 0)
	p := tallyPkt(1, 1, true, "A", 100)
	p.TCPChecksum = CheckBad
	a.addPacket(p)
	got, gen, _ := a.Changed(nil, gen)
	if len(got) != 1 || got[0].Codes&checksumCodes != 1<<CodeChecksumBad {
		t.Fatalf("after the first bad checksum: %+v, want flow 1 with checksum.bad", got)
	}
	// The server's bad checksum in another flow, then a good one after
	// it: the server is the capture's offload sender.
	p = tallyPkt(2, 2, true, "A", 100)
	p.TCPChecksum = CheckBad
	a.addPacket(p)
	p = tallyPkt(3, 2, true, "A", 200)
	p.TCPChecksum = CheckGood
	a.addPacket(p)
	got, _, full := a.Changed(nil, gen)
	if !full || len(got) != 2 {
		t.Fatalf("after the offload sender appeared: %d summaries, full %v; want both flows", len(got), full)
	}
	for _, s := range got {
		if s.Codes&checksumCodes != 1<<CodeChecksumOffload {
			t.Errorf("flow %d: checksum codes %b, want checksum.offload alone", s.ID, s.Codes&checksumCodes)
		}
	}
	res := a.Finish()
	for _, f := range res.Flows {
		if !f.Has(CodeChecksumOffload) || f.Has(CodeChecksumBad) {
			t.Errorf("flow %d after Finish: %v", f.ID, f.Findings)
		}
	}
}
