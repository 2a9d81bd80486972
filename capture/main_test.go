package capture_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the run when a test leaves a goroutine behind: a live
// source that was not closed, a spool writer, a reader still running.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
