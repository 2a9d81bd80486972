//go:build !linux

package capture

import (
	"fmt"
	"runtime"
)

// DropPrivileges is implemented on Linux only: elsewhere it fails, so that
// -Z never silently leaves root in place.
func DropPrivileges(name string) error {
	return fmt.Errorf("-Z %s: dropping privileges is not supported on %s", name, runtime.GOOS)
}
