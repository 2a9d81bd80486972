package analysis

import (
	"math/bits"
	"math/rand/v2"
	"net/netip"
	"unsafe"
)

// flowTable finds the current flow of a connection: an open-addressing
// hash table (linear probing, at most half full) keyed by the two
// endpoints in either order. It does what a map[key]*Flow did, at a
// fraction of the cost: the key is not stored (the flow holds it), and the
// hash is computed once per packet, possibly on another goroutine (see
// pipeline.go).
//
// A slot holds the flow's place in Result.Flows and the top half of its
// hash, which also gives the slot's home (its top bits): 8 bytes and no
// pointer, so the collector does not scan the table, and a table outgrown
// leaves half the garbage that 16-byte slots of a pointer and a hash did:
// 3.6 MB less peak RSS on 100k short connections (85.4 MB before). When
// Result.Flows closes up the places of evicted flows, renumber follows it.
type flowTable struct {
	slots  []flowSlot
	n      int
	shift  uint // 32 minus log2(len(slots)): a tag's top bits are its home
	recent *[recentN]recentEntry
}

// recent is a direct-mapped cache in front of the table: the flow last
// found or set for each of recentN values of a hash's low bits. A packet
// whose connection is there skips the table's slot and Result.Flows' entry,
// two loads that miss the caches once the table has outgrown them (2 MB of
// slots and 800 KB of places for 100k connections), for a flow that is in
// the cache because it is open. An entry is replaced by set and cleared by
// remove, so it names the table's current flow for its connection or none
// (sameConn checks the connection).
const recentN = 4096

type recentEntry struct {
	h uint64
	f *Flow
}

// recentFlow returns the flow the recent cache holds for hash h, which
// may be another connection's: addHashed asks connSide, which also tells
// the side that sent the packet (sideOf compared the sender again, and a
// method that did both was a call: together 11 instructions a packet on
// the benchmark file, 12 on small frames; cachegrind, -pgo=off).
func (t *flowTable) recentFlow(h uint64) *Flow {
	if t.recent == nil {
		return nil
	}
	if e := &t.recent[h&(recentN-1)]; e.h == h {
		return e.f
	}
	return nil
}

// remember puts f, whose hash is h, in the recent cache.
func (t *flowTable) remember(h uint64, f *Flow) {
	if t.recent == nil {
		t.recent = new([recentN]recentEntry)
	}
	t.recent[h&(recentN-1)] = recentEntry{h, f}
}

type flowSlot struct {
	tag uint32 // the hash's top 32 bits
	pos uint32 // the flow's place in Result.Flows, plus 1; 0: empty
}

// home is the slot where a search for a hash whose top half is tag
// starts: the tag's top bits.
func (t *flowTable) home(tag uint32) int { return int(tag >> t.shift) }

// minTableSlots is the table's first size.
const minTableSlots = 1024

// packetHash is connHash of p's endpoints, from the words the decoder
// read (Packet.keysSet) when it did.
func packetHash(p *Packet) uint64 {
	if p.keysSet {
		return mixKeys(wordsKey(p.srcW[0], p.srcW[1])+uint64(p.SrcPort)*portMul, wordsKey(p.dstW[0], p.dstW[1])+uint64(p.DstPort)*portMul)
	}
	return connHash(p.Src, p.SrcPort, p.Dst, p.DstPort)
}

// flowHash is connHash of f's endpoints, from the words it keeps them in.
func flowHash(f *Flow) uint64 {
	return mixKeys(wordsKey(f.clientW[0], f.clientW[1])+uint64(f.clientPort)*portMul, wordsKey(f.serverW[0], f.serverW[1])+uint64(f.serverPort)*portMul)
}

// connHash hashes a connection's endpoints so that both directions give
// the same value: each endpoint is folded into 64 bits, and the two are
// combined in the order of their values (mixKeys).
func connHash(src netip.Addr, sport uint16, dst netip.Addr, dport uint16) uint64 {
	return mixKeys(endpointKey(src, sport), endpointKey(dst, dport))
}

// mixKeys combines two endpoint keys, in either order, into a hash: the
// smaller one and the larger, each XORed with a key of the process's,
// multiplied into 128 bits, whose two halves are XORed (wyhash's "mum"):
// every bit of either end reaches the hash, through the carries of the
// multiply, which go up, and the high half. The keys' halves are swapped
// first: an address's last bytes, which vary most from host to host, are
// the top of its little-endian word, where a product carries them to few
// bits (IPv6 hosts counted up put 12 of 65,536 in one home of a
// 65,536-slot table where a fair hash puts 7 or 8; swapped, 3 to 5:
// TestHashSpread). It was their sum and exclusive or, mixed: two connections whose
// keys have the same AND and XOR (bits swapped between the two ends, as
// spoofed SYNs between addresses on equal ports can be made) had one hash,
// all of them one slot, and each packet compared with every flow before:
// 128k such SYNs (9 MB) took 70 s where 128k random ones take 0.25 s.
// Then the smaller mixed with a key (SplitMix64's finaliser), the larger
// added and mixed again: two finalisers, 27 instructions a packet on the
// benchmark file, where the multiply is 5. (A product of the two keys
// without the high half was tried in session 19: the top bits of an
// address, which a multiply does not carry down, collided.)
func mixKeys(a, b uint64) uint64 {
	lo, hi := min(a, b), max(a, b)
	h, l := bits.Mul64(bits.RotateLeft64(lo, 32)^hashKey[1], bits.RotateLeft64(hi, 32)^hashKey[2])
	return h ^ l
}

// hashKey is the flow table's key, random in each process, so that nobody
// can make a capture or traffic whose connections fall on one slot of the
// table without knowing it: [0] for the addresses' high words (wordsKey),
// [1] and [2] for the two ends (mixKeys). v4Key is wordsKey's for a high
// word of 0, which IPv4 addresses (and IPv6 ones under ::/64) have.
var (
	hashKey = [3]uint64{rand.Uint64(), rand.Uint64(), rand.Uint64()}
	v4Key   = mix64(hashKey[0])
)

// endpointKey folds an address and port into 64 bits, by multiplying and
// adding (addrKey, then the port times portMul). An IPv4 address and the
// same address mapped into IPv6 have one key: sameConn tells them apart.
func endpointKey(a netip.Addr, port uint16) uint64 {
	return addrKey(a) + uint64(port)*portMul
}

const portMul = 0xc2b2ae3d27d4eb4f

// addrKey is an address's part of endpointKey: wordsKey of its words.
func addrKey(a netip.Addr) uint64 {
	w := addrWords(a)
	return wordsKey(w[0], w[1])
}

// wordsKey is an address's part of endpointKey, from its words
// (addrWords): the high word mixed with the process's key, the low one
// added in. An IPv4 address's high word is zero. (The high word was
// multiplied by a constant: anyone could make IPv6 addresses, as many as
// wanted, of one key, by choosing the low word to cancel the high one.)
//
// It takes the two words apart: given the array, the compiler copied it
// to the stack before reading its words back, twice a packet (3
// instructions a packet more, cachegrind).
func wordsKey(hi, lo uint64) uint64 {
	if hi == 0 {
		return v4Key ^ lo
	}
	return mix64(hi^hashKey[0]) ^ lo
}

// mix64 is SplitMix64's finaliser.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

// sameConn reports whether f is a flow between p's two endpoints.
func sameConn(f *Flow, p *Packet) bool { return connSide(f, p) != notConn }

// notConn is connSide's answer for a packet of another connection.
const notConn Side = 2

// connSide returns which side of f sent p (as sideOf), or notConn when f
// is not a flow between p's two endpoints.
func connSide(f *Flow, p *Packet) Side {
	if !p.keysSet {
		return connSideAddrs(f, p)
	}
	// The two ports of each as one word (the compiler loads it whole):
	// the ports tell most other connections apart, and the direction.
	// The families last: only an IPv4 address and the same address
	// mapped into IPv6 have the same words. 5 fewer instructions a packet
	// than ports, families and words compared one by one, each way
	// (cachegrind, -pgo=off). The forward match first: where the two
	// ends are one (a connection to itself), both match, and sideOf
	// says FromClient too.
	fp := uint32(f.clientPort) | uint32(f.serverPort)<<16
	pp := uint32(p.SrcPort) | uint32(p.DstPort)<<16
	side := notConn
	if fp == pp && f.clientW == p.srcW && f.serverW == p.dstW {
		side = FromClient
	} else if fp == bits.RotateLeft32(pp, 16) && f.clientW == p.dstW && f.serverW == p.srcW {
		side = FromServer
	} else {
		return notConn
	}
	if (f.clientKind == addrV4) != (p.IPVersion == 4) {
		return notConn
	}
	return side
}

// connSideAddrs is connSide for a packet not from the decoder (tests),
// which compares the addresses. (Apart, connSide's frame is that of its
// common case.)
func connSideAddrs(f *Flow, p *Packet) Side {
	c, s := f.Client(), f.Server()
	src, dst := p.SrcAddrPort(), p.DstAddrPort()
	if c == src && s == dst || c == dst && s == src {
		return f.sideOf(p)
	}
	return notConn
}

// find returns the slot of p's connection, whose hash is h: the slot
// holding its flow (one of flows, Result.Flows), or the empty slot where it
// would go.
func (t *flowTable) find(h uint64, p *Packet, flows []*Flow) int {
	if len(t.slots) == 0 {
		t.slots, t.shift = make([]flowSlot, minTableSlots), 32-uint(bits.TrailingZeros(minTableSlots))
	}
	tag := uint32(h >> 32)
	mask := len(t.slots) - 1
	for i := t.home(tag); ; i = (i + 1) & mask {
		s := t.slots[i]
		if s.pos == 0 || (s.tag == tag && sameConn(flows[s.pos-1], p)) {
			return i
		}
	}
}

// prefetchSlot starts loading the slot where a search for hash h starts.
func (t *flowTable) prefetchSlot(h uint64) {
	if len(t.slots) > 0 {
		prefetch(unsafe.Pointer(&t.slots[t.home(uint32(h>>32))]))
	}
}

// prefetchFlow starts loading the flow whose hash is h, when the slot
// where its search starts holds it (or another with the same tag).
func (t *flowTable) prefetchFlow(h uint64, flows []*Flow) {
	tag := uint32(h >> 32)
	if len(t.slots) > 0 {
		if s := t.slots[t.home(tag)]; s.tag == tag && uint(s.pos-1) < uint(len(flows)) {
			prefetchFlow(flows[s.pos-1]) // nil, for an evicted flow's place: no fault
		}
	}
}

// flow returns the flow in slot i, nil when it is empty.
func (t *flowTable) flow(i int, flows []*Flow) *Flow {
	if s := t.slots[i]; s.pos != 0 {
		return flows[s.pos-1]
	}
	return nil
}

// set puts f, whose hash is h, in slot i, which find returned. It may grow
// the table, after which slot numbers from earlier finds are stale.
func (t *flowTable) set(i int, h uint64, f *Flow) {
	s := &t.slots[i]
	if s.pos == 0 {
		t.n++
	}
	s.tag, s.pos = uint32(h>>32), uint32(f.pos)+1
	t.remember(h, f)
	if 2*t.n > len(t.slots) {
		t.grow()
	}
}

func (t *flowTable) grow() {
	old := t.slots
	t.slots = make([]flowSlot, 2*len(old))
	t.shift--
	mask := len(t.slots) - 1
	for _, s := range old {
		if s.pos == 0 {
			continue
		}
		i := t.home(s.tag)
		for t.slots[i].pos != 0 {
			i = (i + 1) & mask
		}
		t.slots[i] = s
	}
}

// remove takes f, whose hash is h, out of the table, if it is there (a
// flow whose ports a newer flow took over is not).
func (t *flowTable) remove(h uint64, f *Flow) {
	if len(t.slots) == 0 {
		return
	}
	if t.recent != nil && t.recent[h&(recentN-1)].f == f {
		t.recent[h&(recentN-1)] = recentEntry{}
	}
	mask := len(t.slots) - 1
	i := t.home(uint32(h >> 32))
	for {
		s := t.slots[i]
		if s.pos == 0 {
			return
		}
		if s.pos == uint32(f.pos)+1 {
			break
		}
		i = (i + 1) & mask
	}
	// Backward-shift deletion: move later entries of the probe run into
	// the hole when their home slot allows it, so that no tombstones are
	// needed.
	for {
		t.slots[i] = flowSlot{}
		j := i
		for {
			j = (j + 1) & mask
			s := t.slots[j]
			if s.pos == 0 {
				t.n--
				return
			}
			home := t.home(s.tag)
			// s may move to i when i lies cyclically in [home, j).
			if (j > i && (home <= i || home > j)) || (j < i && home <= i && home > j) {
				t.slots[i] = s
				i = j
				break
			}
		}
	}
}

// renumber follows Result.Flows closing up: flows is the list as it was,
// whose flows hold their new places (Flow.pos).
func (t *flowTable) renumber(flows []*Flow) {
	for i := range t.slots {
		if s := &t.slots[i]; s.pos != 0 {
			s.pos = uint32(flows[s.pos-1].pos) + 1
		}
	}
}
