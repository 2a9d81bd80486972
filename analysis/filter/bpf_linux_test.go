//go:build linux

package filter

import (
	"syscall"
	"testing"

	"golang.org/x/net/bpf"
)

// attachToSocket has the kernel's classic BPF checker validate prog, by
// attaching it to a UDP socket (SO_ATTACH_FILTER needs no privilege).
func attachToSocket(t *testing.T, prog []bpf.Instruction) {
	t.Helper()
	raw, err := bpf.Assemble(prog)
	if err != nil {
		t.Fatalf("bpf.Assemble: %v", err)
	}
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_DGRAM, 0)
	if err != nil {
		t.Skipf("no socket to attach a filter to: %v", err)
	}
	defer syscall.Close(fd)
	sf := make([]syscall.SockFilter, len(raw))
	for i, r := range raw {
		sf[i] = syscall.SockFilter{Code: r.Op, Jt: r.Jt, Jf: r.Jf, K: r.K}
	}
	//lint:ignore SA1019 AttachLsf is the stdlib's SO_ATTACH_FILTER.
	if err := syscall.AttachLsf(fd, sf); err != nil {
		t.Errorf("kernel refuses the program (%d instructions): %v", len(prog), err)
	}
}
