package analysis

import (
	"bytes"
	"testing"

	"github.com/synscope/synscope/capture"
	"github.com/synscope/synscope/capture/fixture"
)

// TestProvisionalHandshakeMatchesFinish: the handshake status a live row
// shows before Finish (provisional) is the one Finish gives, for every
// flow of every rule capture, and so is the status, but for a SYN sent
// once and not answered, or a SYN-ACK sent once and not acknowledged
// (pending before; invalid or warning after): a live row showed ✓ for a
// SYN a firewall dropped, retransmitted or not.
// Where the contract is silent, both say the same: a SYN-ACK without its
// SYN is not_seen, a SYN whose missed SYN-ACK a later packet shows is
// not_seen, a reset from the client instead of the third segment is
// incomplete.
func TestProvisionalHandshakeMatchesFinish(t *testing.T) {
	n := 0
	for _, rc := range ruleCases {
		for _, text := range []string{rc.fires, rc.quiet} {
			c, err := fixture.Parse(rc.name, ruleHosts+text)
			if err != nil {
				t.Fatalf("%s: %v", rc.name, err)
			}
			data, err := c.Bytes()
			if err != nil {
				t.Fatalf("%s: %v", rc.name, err)
			}
			r, err := capture.NewReader(bytes.NewReader(data), rc.name, int64(len(data)))
			if err != nil {
				t.Fatalf("%s: %v", rc.name, err)
			}
			a := NewAnalyzer(Config{Name: rc.name})
			for {
				rec, err := r.Next()
				if err != nil {
					break
				}
				a.Add(rec)
			}
			live := a.Summaries(nil)
			res := a.Finish()
			if len(live) != len(res.Flows) {
				t.Fatalf("%s: %d summaries before Finish, %d flows after", rc.name, len(live), len(res.Flows))
			}
			for i, f := range res.Flows {
				if live[i].Handshake != f.Handshake.Status {
					t.Errorf("%s: flow %d: handshake %s before Finish, %s after", rc.name, f.ID, live[i].Handshake, f.Handshake.Status)
				}
				// The status too, but for a SYN sent once and not
				// answered: pending (partial) before, invalid after.
				want, h := f.Status, &f.Handshake
				if h.Status == HSUnanswered && h.Syns == 1 && want == StatusInvalid ||
					h.Status == HSIncomplete && h.SynAcks == 1 && want == StatusWarning && f.Count(CodeIncomplete) == len(f.Findings) {
					want = StatusPartial
				}
				if live[i].Status != want {
					t.Errorf("%s: flow %d: status %s before Finish, %s after (handshake %s)", rc.name, f.ID, live[i].Status, f.Status, f.Handshake.Status)
				}
				n++
			}
		}
	}
	t.Logf("%d flows compared", n)
}
