//go:build amd64

package capture

import "unsafe"

// prefetchLines asks the processor to bring the n bytes at p into its
// caches, a cache line at a time, without waiting for them. An address
// that is not mapped is no fault.
//
//go:noescape
func prefetchLines(p unsafe.Pointer, n int)
