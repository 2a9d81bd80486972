//go:build amd64

package analysis

import "unsafe"

// prefetch asks the processor to bring the cache line at p into its
// caches, without waiting for it. An address that is not mapped is no
// fault.
//
//go:noescape
func prefetch(p unsafe.Pointer)

// prefetchFlow does the same for each cache line of a Flow.
//
//go:noescape
func prefetchFlow(f *Flow)
