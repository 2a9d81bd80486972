package analysis

import (
	"bytes"
	"testing"
	"time"

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

// TestAgeEndsHandshakeWaits: in a live capture (Age called), a SYN sent
// once and not answered is pending until pendingWait has passed since it
// was sent, then unanswered (✗) with the finding Finish gives it, though
// its flow gets no more packets: Changed gives it again, and Progress says
// when the next wait ends, for a view that polls only on change. A SYN-ACK
// sent once and not acknowledged likewise turns incomplete (a warning).
func TestAgeEndsHandshakeWaits(t *testing.T) {
	const ms = int64(time.Millisecond)
	a := NewAnalyzer(Config{Name: "live"})
	a.Age(1)
	a.Changed(nil, 0)
	add := func(port uint16, sg seg) {
		p := packetOf(int(a.res.Frames), sg)
		if sg.fromServer {
			p.DstPort = port
		} else {
			p.SrcPort = port
		}
		a.res.Frames++
		a.addPacket(&p)
	}
	add(40001, c("S", cISN, 0, 0, 0))
	add(40002, c("S", cISN, 0, 0, 5))
	add(40002, s("SA", sISN, cISN+1, 0, 10))
	add(40003, c("S", cISN, 0, 0, 20))
	add(40003, s("SA", sISN, cISN+1, 0, 30))
	add(40003, c("A", cISN+1, sISN+1, 0, 40))
	if got := a.Progress().WaitEnds; got != 3000*ms {
		t.Errorf("Progress().WaitEnds = %d, want %d (the first SYN's wait)", got, 3000*ms)
	}
	status := func(sums []FlowSummary) map[uint16]FlowSummary {
		m := map[uint16]FlowSummary{}
		for _, s := range sums {
			m[s.Client.Port()] = s
		}
		return m
	}
	a.Age(2999 * ms)
	sums, gen, _ := a.Changed(nil, a.gen)
	got := status(a.Summaries(nil))
	for port, want := range map[uint16]Status{40001: StatusPartial, 40002: StatusPartial, 40003: StatusOK} {
		if got[port].Status != want {
			t.Errorf("port %d within its wait: %s, want %s", port, got[port].Status, want)
		}
	}
	a.Age(3010 * ms)
	sums, _, full := a.Changed(sums[:0], gen)
	if full || len(sums) != 2 {
		t.Fatalf("Changed after the waits gave %d summaries (full %v), want the 2 that waited", len(sums), full)
	}
	got = status(sums)
	for port, want := range map[uint16]struct {
		st   Status
		code Code
	}{40001: {StatusInvalid, CodeUnanswered}, 40002: {StatusWarning, CodeIncomplete}} {
		s := got[port]
		if s.Status != want.st || !s.HasFirst || s.First.Code != want.code || s.Codes&(1<<want.code) == 0 {
			t.Errorf("port %d after its wait: %s, first %v (%v), codes %b; want %s with %s", port, s.Status, s.First.Code, s.HasFirst, s.Codes, want.st, want.code)
		}
	}
	// (The third connection's SYN still has its wait noted: answered,
	// it ends with a snapshot that changes nothing.)
	if w := a.Progress().WaitEnds; w != 0 && w <= 3010*ms {
		t.Errorf("Progress().WaitEnds = %d, a wait already over", w)
	}
	// The drill-down's copy says what the row does, with Finish's words.
	cp, _ := a.FlowCopy(got[40001].ID)
	res := a.Finish()
	fin := res.Flow(got[40001].ID)
	if cp.Status != StatusInvalid || len(cp.Findings) != 1 || len(fin.Findings) != 1 || cp.Findings[0] != fin.Findings[0] ||
		cp.Message(cp.Findings[0]) != fin.Message(fin.Findings[0]) {
		t.Errorf("the live copy has %s %v, Finish gives %s %v", cp.Status, cp.Findings, fin.Status, fin.Findings)
	}
}

// TestAgeManyWaits: more waits than the Analyzer notes one by one (a SYN
// flood) are not lost: once the latest of them has ended, Changed gives
// every flow, each aged. Waits of evicted flows touch nothing.
func TestAgeManyWaits(t *testing.T) {
	const ms = int64(time.Millisecond)
	a := NewAnalyzer(Config{Name: "live", MaxFlows: 4000})
	a.Age(1)
	_, gen, _ := a.Changed(nil, 0)
	n := a.trackMax() + 50
	var sums []FlowSummary
	for i := range n {
		p := packetOf(i, c("S", cISN, 0, 0, float64(i)/10))
		p.SrcPort = uint16(1024 + i)
		a.res.Frames++
		a.addPacket(&p)
		if i%1000 == 999 {
			sums, gen, _ = a.Changed(sums[:0], gen)
		}
	}
	sums, gen, _ = a.Changed(sums[:0], gen)
	last := int64(n-1) * ms / 10
	a.Age(last + pendingWait - 1)
	sums, gen, full := a.Changed(sums[:0], gen)
	if full {
		t.Errorf("Changed gave every flow before the last wait ended")
	}
	for _, s := range sums {
		if s.Status != StatusInvalid {
			t.Errorf("flow %d touched by its wait's end is %s, want invalid", s.ID, s.Status)
		}
	}
	a.Age(last + pendingWait)
	sums, _, full = a.Changed(sums[:0], gen)
	if !full || len(sums) != a.live {
		t.Fatalf("Changed after the last wait: %d summaries, full %v; want all %d flows", len(sums), full, a.live)
	}
	for _, s := range sums {
		if s.Status != StatusInvalid || s.First.Code != CodeUnanswered {
			t.Fatalf("flow %d after every wait: %s, %v; want invalid, unanswered", s.ID, s.Status, s.First.Code)
		}
	}
}
