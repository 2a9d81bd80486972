//go:build !amd64

package capture

import "unsafe"

func prefetchLines(p unsafe.Pointer, n int) {}
