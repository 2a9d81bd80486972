//go:build !amd64

package analysis

import "unsafe"

func prefetch(p unsafe.Pointer) {}

func prefetchFlow(f *Flow) {}
