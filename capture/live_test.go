package capture

import (
	"errors"
	"os"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/net/bpf"
)

func TestPermissionError(t *testing.T) {
	err := permissionError("eth0", syscall.EPERM)
	if !errors.Is(err, ErrPermission) || !errors.Is(err, syscall.EPERM) {
		t.Errorf("%v: not ErrPermission and EPERM", err)
	}
	bin, _ := os.Executable()
	want := "capturing on eth0 needs CAP_NET_RAW: run as root, or setcap cap_net_raw,cap_net_admin+eip " + bin
	if runtime.GOOS == "linux" && err.Error() != want {
		t.Errorf("message %q, want %q", err, want)
	}
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("message on several lines: %q", err)
	}
}

func TestClampFilter(t *testing.T) {
	prog := []bpf.Instruction{
		bpf.LoadAbsolute{Off: 12, Size: 2},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: 0x800, SkipFalse: 1},
		bpf.RetConstant{Val: 262144},
		bpf.RetConstant{Val: 0},
	}
	got := clampFilter(prog, 96)
	if got[2] != (bpf.RetConstant{Val: 96}) || got[3] != (bpf.RetConstant{Val: 0}) || got[0] != prog[0] || got[1] != prog[1] {
		t.Errorf("clampFilter: %v", got)
	}
	if prog[2] != (bpf.RetConstant{Val: 262144}) {
		t.Error("clampFilter changed its argument")
	}
}

func TestOpenLiveArguments(t *testing.T) {
	for _, o := range []LiveOptions{
		{},
		{Interface: "lo", SnapLen: -1},
		{Interface: "lo", BufferSize: -1},
		{Interface: "lo", Timeout: -1},
	} {
		if _, err := OpenLive(o); err == nil || errors.Is(err, ErrPermission) {
			t.Errorf("OpenLive(%+v): %v", o, err)
		}
	}
}
