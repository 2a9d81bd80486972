//go:build !linux && !darwin

package capture

import (
	"fmt"
	"runtime"

	"github.com/gopacket/gopacket/layers"
	"golang.org/x/net/bpf"
)

// FilterLinkType fails: there is no live capture on this system.
func FilterLinkType(iface string) (layers.LinkType, error) {
	return 0, errUnsupported()
}

func openBackend(opts LiveOptions, filter []bpf.RawInstruction, userFilter bool) (liveBackend, liveInfo, error) {
	return nil, liveInfo{}, errUnsupported()
}

func errUnsupported() error {
	return fmt.Errorf("live capture is not supported on %s: synscope captures on Linux and macOS; read a capture file with -r", runtime.GOOS)
}
