package analysis

// A flow's Refs grows as its packets arrive. Left to append, the arrays it
// outgrows are garbage until the next collection: on a large capture that
// is as much memory again as the references themselves, and the time to
// fault it in and collect it. Instead the Analyzer grows Refs through fixed
// capacities that fill the allocator's size classes, and keeps the arrays
// flows outgrow (and those of evicted flows) on free lists, one per
// capacity, for the next flows that reach that size. Flows grow through
// the same sizes, so the lists stay short, and the heap holds little more
// than the references in use.
//
// This is safe because nothing outside the Analyzer sees a flow's Refs
// while the capture is read (Analyzer.FlowCopy copies them); after Finish
// Refs never change.

// refCaps are the capacities Refs grows through: each a multiple of 48
// bytes that is a Go size class, growing by 1.5 to 2 times; past the last,
// capacities grow by half (refGrowLarge).
var refCaps = [...]int{1, 4, 8, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512, 682}

// refPool holds arrays of PacketRef for reuse, by capacity class.
type refPool struct {
	free [len(refCaps)][][]PacketRef
}

// refClass returns the class of capacity c, or -1 for a capacity that is
// not one of refCaps.
func refClass(c int) int {
	for i, rc := range refCaps {
		if rc == c {
			return i
		}
		if rc > c {
			break
		}
	}
	return -1
}

// put keeps an array for reuse.
func (rp *refPool) put(refs []PacketRef) {
	if i := refClass(cap(refs)); i >= 0 && len(rp.free[i]) < 1<<16 {
		rp.free[i] = append(rp.free[i], refs[:0])
	}
}

// get returns an empty array of the class's capacity.
func (rp *refPool) get(class int) []PacketRef {
	if n := len(rp.free[class]); n > 0 {
		refs := rp.free[class][n-1]
		rp.free[class][n-1] = nil
		rp.free[class] = rp.free[class][:n-1]
		return refs
	}
	return make([]PacketRef, 0, refCaps[class])
}

// appendRef appends r to refs, growing it from the pool.
func (rp *refPool) appendRef(refs []PacketRef, r PacketRef) []PacketRef {
	if len(refs) < cap(refs) {
		return append(refs, r)
	}
	var grown []PacketRef
	switch c := cap(refs); {
	case c >= refCaps[len(refCaps)-1]:
		grown = make([]PacketRef, len(refs), c+c/2)
	default:
		class := 0
		for refCaps[class] <= c {
			class++
		}
		grown = rp.get(class)[:len(refs)]
	}
	copy(grown, refs)
	if cap(refs) > 0 {
		rp.put(refs)
	}
	return append(grown, r)
}
