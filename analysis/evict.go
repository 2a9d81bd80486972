package analysis

import (
	"bufio"
	"os"
	"path/filepath"
	"slices"
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
	h := flowHash(f)
	a.tab.remove(h, f)
	a.noteEvicted(h)
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
// each, and at least 10,000. (The least was 100,000: 200 MB of flows, so
// that a service with MemoryMax=128M was killed by a flood before it
// evicted a flow; 10,000 flows take about 25 MB with the process's own.)
func DefaultMaxFlows() int {
	mem := memoryLimit()
	if mem <= 0 {
		return 1_000_000
	}
	return int(max(mem/4/bytesPerFlow, 10_000))
}

// memoryLimit returns the memory this process may use in bytes: MemTotal,
// or its cgroup's (v2 or v1) limit when lower; 0 when unknown.
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
	self, _ := os.ReadFile("/proc/self/cgroup")
	if n := cgroupLimit(string(self), os.ReadFile); n > 0 && (total == 0 || n < total) {
		total = n
	}
	return total
}

// cgroupLimit returns the lowest memory limit of the cgroups the process
// is in, as /proc/self/cgroup (self) names them, and of their ancestors,
// each of which bounds it; 0 when none is set. It read only the limit at
// the root of the cgroup mounts, which is not the process's own outside a
// container: under systemd (a service's MemoryMax=, systemd-run -p
// MemoryMax=) the default --max-flows was sized from the machine's memory,
// and a SYN flood got the process killed instead of its flows evicted.
// The files are read through read, for tests.
func cgroupLimit(self string, read func(string) ([]byte, error)) int64 {
	var lowest int64
	limit := func(file string) {
		b, err := read(file)
		if err != nil {
			return
		}
		// "max" (v2) is no limit; v1 says so with a huge number.
		if n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64); err == nil && n > 0 && n < 1<<62 && (lowest == 0 || n < lowest) {
			lowest = n
		}
	}
	// Each directory from the process's own cgroup up to the mount's
	// root; a path not under this mount (another cgroup namespace's)
	// leaves only the root, as before.
	walk := func(mount, path, file string) {
		for dir := filepath.Clean("/" + path); ; dir = filepath.Dir(dir) {
			limit(filepath.Join(mount, dir, file))
			if dir == "/" {
				return
			}
		}
	}
	for _, line := range strings.Split(self, "\n") {
		id, rest, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		controllers, path, ok := strings.Cut(rest, ":")
		if !ok {
			continue
		}
		switch {
		case id == "0" && controllers == "":
			// v2: the unified mount, at the usual place or beside
			// v1's (hybrid).
			walk("/sys/fs/cgroup", path, "memory.max")
			walk("/sys/fs/cgroup/unified", path, "memory.max")
		case slices.Contains(strings.Split(controllers, ","), "memory"):
			walk("/sys/fs/cgroup/memory", path, "memory.limit_in_bytes")
		}
	}
	if self == "" {
		// No /proc/self/cgroup: the roots, as a container shows them.
		limit("/sys/fs/cgroup/memory.max")
		limit("/sys/fs/cgroup/memory/memory.limit_in_bytes")
	}
	return lowest
}

// evictedBits is the size, in bits, of the filter of evicted connections
// (Analyzer.evictedConns): 1 MB, made at the first eviction. With k = 3,
// after 100,000 evictions one connection in 20,000 never evicted is taken
// for one that was; after 1,000,000, one in 30.
const evictedBits = 1 << 23

// noteEvicted adds the connection whose hash is h to the filter of evicted
// connections, a Bloom filter: a flow that starts later without a SYN on
// such a connection (its packets resumed after the eviction) said "the
// capture starts mid-connection", its handshake at frames 1 to 3.
func (a *Analyzer) noteEvicted(h uint64) {
	if a.evictedConns == nil {
		a.evictedConns = make([]uint64, evictedBits/64)
	}
	for _, b := range evictedBitsOf(h) {
		a.evictedConns[b/64] |= 1 << (b % 64)
	}
}

// evictedBefore reports whether the connection whose hash is h is, in all
// likelihood, one of those evicted.
func (a *Analyzer) evictedBefore(h uint64) bool {
	if a.evictedConns == nil {
		return false
	}
	for _, b := range evictedBitsOf(h) {
		if a.evictedConns[b/64]&(1<<(b%64)) == 0 {
			return false
		}
	}
	return true
}

// evictedBitsOf gives a connection's three bits in the filter, from three
// parts of its hash.
func evictedBitsOf(h uint64) [3]uint64 {
	const m = evictedBits - 1
	return [3]uint64{h & m, h >> 21 & m, h >> 42 & m}
}
