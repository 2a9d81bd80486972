//go:build !linux

package filter

import (
	"testing"

	"golang.org/x/net/bpf"
)

func attachToSocket(t *testing.T, prog []bpf.Instruction) {
	t.Helper()
	t.Skip("SO_ATTACH_FILTER is Linux only")
}
