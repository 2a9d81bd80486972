package ui

import (
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/teatest/v2"
)

// waitFor waits until the program's output since the last wait, escape
// sequences stripped, holds s. The renderer writes only the cells that
// change, so s must be text that no earlier screen had in the same place:
// long numbers, not words.
func waitFor(t *testing.T, tm *teatest.TestModel, s string) {
	t.Helper()
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool {
		return strings.Contains(ansi.Strip(string(b)), s)
	}, teatest.WithDuration(5*time.Second), teatest.WithCheckInterval(10*time.Millisecond))
}

// TestEndToEnd runs the program as a user would at 80x24: the seed
// client's capture loads, its flow is invalid, Enter shows the expected
// and actual ACK, the SYN-ACK its 2 bytes of payload, and q quits.
func TestEndToEnd(t *testing.T) {
	m := New(testConfig(seed(t, "seed-client.pcap")))
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(80, 24))
	// The row, not the title's count: the renderer may write only the
	// digit that changed there.
	waitFor(t, tm, "6.048s SYN-ACK")
	tm.Send(keyMsg("enter"))
	waitFor(t, tm, "2180033886")
	tm.Send(keyMsg("G"))
	waitFor(t, tm, "6.047779") // the time of frame 12
	tm.Send(keyMsg("g"))
	tm.Send(keyMsg("j"))
	waitFor(t, tm, "0x1bc9") // the SYN-ACK's TCP checksum
	tm.Send(keyMsg("x"))
	waitFor(t, tm, "4Vx") // its MAC addresses in the hex dump's ASCII
	tm.Send(keyMsg("q"))
	tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
	fm := tm.FinalModel(t).(Model)
	if fm.state != stateDetail || fm.detail.cursor != 1 || !fm.detail.hex {
		t.Errorf("final state %d, ladder at %d, hex %v", fm.state, fm.detail.cursor, fm.detail.hex)
	}
}

// TestEndToEndFilter filters a list of many flows while it is shown.
func TestEndToEndFilter(t *testing.T) {
	m := New(testConfig([]Source{memSource(t, "many.pcap", manyFlows(200))}))
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(120, 40))
	waitFor(t, tm, "200 flows")
	tm.Type("/status:partial port:22")
	tm.Send(keyMsg("enter"))
	// Flow 195 is partial, on port 22, and below the first screen
	// without the filter.
	waitFor(t, tm, "10.1.0.195:40194")
	tm.Send(keyMsg("ctrl+c"))
	tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
	fm := tm.FinalModel(t).(Model)
	if fm.list.filter != "status:partial port:22" || len(fm.list.view.idx) != 10 {
		t.Errorf("filter %q, %d shown", fm.list.filter, len(fm.list.view.idx))
	}
}
