package ui

import (
	"os"
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the run when a test leaves a goroutine behind: a reading
// of captures not stopped, a command still running, a program not ended.
//
// teatest's NewTestModel starts a goroutine that waits for a SIGINT to
// kill its program and never stops it (signal.Notify is not undone when
// the program ends): it is teatest's, not ours. The benchmarks' capture is
// removed at the end.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("github.com/charmbracelet/x/exp/teatest/v2.NewTestModel.func2"),
		goleak.Cleanup(func(code int) {
			removeBenchFile()
			os.Exit(code)
		}))
}
