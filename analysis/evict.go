package analysis

import (
	"bufio"
	"os"
	"strconv"
	"strings"
)

// Bounded memory: a capture (or a SYN flood on a live interface) may hold
// more connections than memory allows. Config.MaxFlows bounds the flows an
// Analyzer keeps; past it, each new flow evicts one, in this order:
//
//  1. a flow without warnings or errors, closed (FINs both ways, or a RST);
//  2. a flow without warnings or errors, open;
//  3. a closed flow with findings;
//  4. an open flow with findings.
//
// Within each class the flow idle the longest goes first, as a CLOCK
// approximates it: flows are queued in the order they entered the class,
// and one that has had packets since it was queued gets a second chance at
// the back of the queue. Evicted flows are gone from the result (their
// packets, findings and JSON record); Result.Evicted counts them.

// The eviction classes, in eviction order.
const (
	evictClosedClean = iota
	evictOpenClean
	evictClosedNoted
	evictOpenNoted
	numEvictClasses
	evictNone = -1
)

// flowList is a doubly linked list of flows, through Flow.lprev/lnext.
type flowList struct {
	head, tail *Flow
	n          int
}

func (l *flowList) pushBack(f *Flow) {
	f.lprev, f.lnext = l.tail, nil
	if l.tail != nil {
		l.tail.lnext = f
	} else {
		l.head = f
	}
	l.tail = f
	l.n++
}

func (l *flowList) remove(f *Flow) {
	if f.lprev != nil {
		f.lprev.lnext = f.lnext
	} else {
		l.head = f.lnext
	}
	if f.lnext != nil {
		f.lnext.lprev = f.lprev
	} else {
		l.tail = f.lprev
	}
	f.lprev, f.lnext = nil, nil
	l.n--
}

// evictClass is the class f belongs in now.
func (f *Flow) evictClass() int8 {
	c := int8(evictClosedClean)
	if !f.ended() {
		c = evictOpenClean
	}
	if f.noted {
		c += 2
	}
	return c
}

// requeue moves f to the back of the queue of its class when its class
// changed (it closed, or got its first warning or error).
func (a *Analyzer) requeue(f *Flow) {
	c := f.evictClass()
	if c == f.list || f.list == evictNone {
		return
	}
	a.lists[f.list].remove(f)
	f.list = c
	f.queuedAt = a.tick
	a.lists[c].pushBack(f)
}

// evictOne evicts the flow that goes first, and reports whether there was
// one.
func (a *Analyzer) evictOne() bool {
	for c := range a.lists {
		l := &a.lists[c]
		// Each flow gets at most one second chance per call: the ones
		// requeued come back after those not yet looked at.
		for range l.n {
			f := l.head
			if int32(f.lastActive-f.queuedAt) <= 0 {
				a.evict(f)
				return true
			}
			l.remove(f)
			f.queuedAt = a.tick
			l.pushBack(f)
		}
		if l.n > 0 {
			// Every flow of the class had packets since it was
			// queued: as CLOCK does, take the one at the head now,
			// requeued the earliest (not necessarily the one idle
			// the longest).
			a.evict(l.head)
			return true
		}
	}
	return false
}

// evict removes f from the table and from the result.
func (a *Analyzer) evict(f *Flow) {
	a.lists[f.list].remove(f)
	f.list = evictNone
	a.tab.remove(flowHash(f), f)
	a.res.Flows[f.pos] = nil
	a.holes++
	a.res.Evicted++
	f.evicted = true
	if a.tracking {
		a.gone = append(a.gone, f.Summary())
		if len(a.dirty)+len(a.gone) > a.trackMax() {
			a.untrack()
		}
	}
	if a.holes > 1024 && 2*a.holes > len(a.res.Flows) {
		a.compact()
	}
	// Nothing refers to f any more (a dirty entry for it is recognised as
	// stale by its id): clear it for the next new flow, keeping its
	// arrays, so that a flood of new flows does not churn the heap.
	n := f.notes
	if n != nil {
		a.offload.remove(f)
		*n = flowNotes{badSums: n.badSums[:0], malformed: n.malformed[:0], sent: n.sent}
	}
	*f = Flow{Refs: f.Refs[:0], Findings: f.Findings[:0], notes: n}
	a.spare = f
}

// compact takes the evicted flows' holes out of res.Flows.
func (a *Analyzer) compact() {
	n := int32(0)
	for _, f := range a.res.Flows {
		if f != nil {
			f.pos = n
			n++
		}
	}
	a.tab.renumber(a.res.Flows)
	fl := a.res.Flows[:0]
	for _, f := range a.res.Flows {
		if f != nil {
			fl = append(fl, f)
		}
	}
	clear(a.res.Flows[len(fl):])
	a.res.Flows = fl
	a.holes = 0
}

// bytesPerFlow is what a flow costs in memory, for sizing the default
// MaxFlows: the Flow (624 bytes), its share of the flow table (8-byte
// slots, at most half full), its first packet references and findings,
// and the garbage collector's headroom (the heap may grow to twice what is
// live before a collection). Measured on SYN floods through MaxFlows
// 20,000 to 200,000: 1.4 KB of peak RSS per flow kept, over 10 MB, and
// nothing per flow evicted (TestFloodBoundedMemory).
const bytesPerFlow = 2 << 10

// DefaultMaxFlows is the MaxFlows of a Config that leaves it 0: as many
// flows as fit in a quarter of the memory this process may use (the
// machine's memory, or the cgroup's limit when lower), at bytesPerFlow
// each, and at least 100,000.
func DefaultMaxFlows() int {
	mem := memoryLimit()
	if mem <= 0 {
		return 1_000_000
	}
	return int(max(mem/4/bytesPerFlow, 100_000))
}

// memoryLimit returns the memory this process may use in bytes: MemTotal,
// or the cgroup (v2 or v1) limit when lower; 0 when unknown.
func memoryLimit() int64 {
	var total int64
	if f, err := os.Open("/proc/meminfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if fs := strings.Fields(sc.Text()); len(fs) >= 2 && fs[0] == "MemTotal:" {
				if kb, err := strconv.ParseInt(fs[1], 10, 64); err == nil {
					total = kb << 10
				}
				break
			}
		}
		f.Close()
	}
	for _, p := range []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"} {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		if n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64); err == nil && n > 0 && (total == 0 || n < total) {
			total = n
		}
	}
	return total
}
