//go:build linux

package capture

// The Linux backend: an AF_PACKET socket with a TPACKET_V3 ring, through
// github.com/gopacket/gopacket/afpacket (pure Go; poll with a timeout;
// kernel statistics). Not go-pcap, which the macOS backend uses: on Linux
// it delivers every packet twice on lo, ignores its timeout, has no drop
// counters, logs to stderr and miscompiles filters.
//
// afpacket hands over the packet bytes but not the struct sockaddr_ll the
// kernel writes in front of each of them (google/gopacket#1050, never
// merged): no packet type, so no direction and no way to drop loopback
// duplicates, and no hardware type or address for a cooked header. Its
// slices point into the ring, though, and the ring's layout is the
// kernel's ABI (Documentation/networking/packet_mmap.rst): each packet
// starts with a struct tpacket3_hdr, 8-byte aligned, whose tp_mac is the
// distance from that header to the packet's first byte; the sockaddr_ll
// follows the header at TPACKET_ALIGN(sizeof(struct tpacket3_hdr)) = 48.
// readRingHeader finds the header from the slice and checks that it is
// the one (its tp_mac and tp_snaplen describe the slice, its sll_family
// is AF_PACKET) before anything is read from it.
//
// An interface going down does not end the capture; only its removal
// does, and only once the ring is drained. What the kernel does
// (net/packet/af_packet.c, packet_notifier): when the interface the socket
// is bound to goes down (NETDEV_DOWN), it unhooks the socket and sets the
// socket's error to ENETDOWN, so that poll reports POLLERR until SO_ERROR
// is read, which clears it. When it comes back up (NETDEV_UP) it hooks the
// socket in again: the same ring, filter and promiscuous mode. Removing an
// interface takes it down first, then unregisters it (NETDEV_UNREGISTER),
// which unbinds the socket (getsockname's sll_ifindex becomes -1) with no
// second error. The block the kernel was filling at the down is not
// handed over then, but by its retire timer (blockTimeout) a period or
// two later. afpacket returns ErrPoll at the first POLLERR, before that:
// ending the capture there lost the packets in that block, which the
// kernel had counted as received and not as dropped (10 of 38 on a veth).
// Like libpcap (pcap_wait_for_frames_mmap), the backend reads SO_ERROR,
// keeps reading the ring while the interface is down, looks at the
// interface every linkCheck, and ends the capture only when it is gone
// and drainWait has passed since the down, with nothing left in the ring.

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"reflect"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"github.com/gopacket/gopacket/afpacket"
	"github.com/gopacket/gopacket/layers"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// blockTimeout is TPACKET_V3's tp_retire_blk_tov: how long the kernel
// keeps a block that is not full before handing it over, the longest a
// packet waits before Next can see it when traffic is light.
const blockTimeout = 20 * time.Millisecond

// sll2Len is the length of a LINUX_SLL2 header.
const sll2Len = 20

// While the interface is down, the backend looks at it at most every
// linkCheck, to see it come back up or go away. A removed interface ends
// the capture no sooner than drainWait after the down, and only after a
// poll found the ring empty: the kernel's retire timer hands over the
// block it was filling within a period or two of blockTimeout (12-18 ms
// after the down on a veth, TestLiveLinkDownAndUp).
const (
	linkCheck = 100 * time.Millisecond
	drainWait = 5 * blockTimeout
)

type linuxBackend struct {
	tp      *afpacket.TPacket
	fd      int  // tp's socket, for SO_ERROR and the interface's state
	ifindex int  // the interface it is bound to; 0 for "any"
	cooked  bool // SOCK_DGRAM: we build a LINUX_SLL2 header
	dedupe  loopbackDedupe
	cutoff  int64 // skip packets stamped before this (taken before the filter was attached); 0 once past

	// The interface is down (the kernel said ENETDOWN) and not yet seen
	// up again; downAt is when the kernel said so last, checkedAt when
	// the backend last looked at the interface.
	down      bool
	downAt    time.Time
	checkedAt time.Time

	dups atomic.Uint64
	// ringRead is how many packets were read from the ring, those
	// skipped too; once settled, next stops at target, the packets the
	// kernel had put in it when its counters were read for the last time.
	ringRead uint64
	settled  bool
	target   uint64
	// kernel counters: afpacket's 32-bit totals as last read, their
	// 64-bit sums, and the sums when the filter was attached
	last [3]uint32
	sum  [3]uint64
	base [3]uint64
}

// FilterLinkType returns the link type a LiveOptions.Filter must be
// compiled for on iface: Ethernet for Ethernet and loopback devices, raw
// IP for "any" and the other devices, which are captured cooked: the kernel
// runs the filter on the packet from its network header, before the
// LINUX_SLL2 header is added.
func FilterLinkType(iface string) (layers.LinkType, error) {
	if iface == "any" {
		return layers.LinkTypeRaw, nil
	}
	d, err := lookupDevice(iface)
	if err != nil {
		return 0, err
	}
	if d.cooked() {
		return layers.LinkTypeRaw, nil
	}
	return layers.LinkTypeEthernet, nil
}

// device is what the backend needs to know about an interface.
type device struct {
	name   string
	index  int
	hatype uint16 // ARPHRD_*
	up     bool
}

// cooked reports whether the device is captured with SOCK_DGRAM and a
// LINUX_SLL2 header, as libpcap does for devices whose link-layer header
// it does not know.
func (d device) cooked() bool {
	return d.hatype != unix.ARPHRD_ETHER && d.hatype != unix.ARPHRD_LOOPBACK
}

func lookupDevice(name string) (device, error) {
	ifc, err := net.InterfaceByName(name)
	if err != nil {
		return device{}, fmt.Errorf("capturing on %s: no such interface%s", name, interfaceList())
	}
	d := device{name: name, index: ifc.Index, up: ifc.Flags&net.FlagUp != 0}
	if d.hatype, err = arphrd(ifc.Index); err != nil {
		return device{}, fmt.Errorf("capturing on %s: %v", name, err)
	}
	return d, nil
}

// interfaceList returns " (interfaces: any, eth0, lo)" for an error
// message.
func interfaceList() string {
	ifcs, err := net.Interfaces()
	if err != nil {
		return ""
	}
	names := []string{"any"}
	for _, i := range ifcs {
		names = append(names, i.Name)
	}
	slices.Sort(names)
	return " (interfaces: " + strings.Join(names, ", ") + ")"
}

// arphrd returns the hardware type (ARPHRD_*) of an interface, from the
// kernel's RTM_GETLINK dump in the current network namespace.
func arphrd(index int) (uint16, error) {
	tab, err := syscall.NetlinkRIB(syscall.RTM_GETLINK, syscall.AF_UNSPEC)
	if err != nil {
		return 0, fmt.Errorf("listing interfaces: %v", os.NewSyscallError("netlinkrib", err))
	}
	msgs, err := syscall.ParseNetlinkMessage(tab)
	if err != nil {
		return 0, fmt.Errorf("listing interfaces: %v", os.NewSyscallError("parsenetlinkmessage", err))
	}
	for _, m := range msgs {
		// struct ifinfomsg: family(1) pad(1) type(2) index(4) flags(4) change(4)
		if m.Header.Type != syscall.RTM_NEWLINK || len(m.Data) < syscall.SizeofIfInfomsg {
			continue
		}
		if int(int32(binary.NativeEndian.Uint32(m.Data[4:8]))) == index {
			return binary.NativeEndian.Uint16(m.Data[2:4]), nil
		}
	}
	return 0, fmt.Errorf("interface %d not in the kernel's list", index)
}

// ringGeometry divides a ring of about bufferSize bytes into TPACKET_V3
// blocks: each at least one page and big enough for a 64 KiB packet
// (GSO) with the headers before it, then larger, up to 1 MiB, while there
// are at least 16 of them.
func ringGeometry(bufferSize, snaplen, page int) (blockSize, numBlocks int) {
	need := min(snaplen, 65535) + 256
	blockSize = page
	for blockSize < need {
		blockSize <<= 1
	}
	for blockSize < 1<<20 && bufferSize/(blockSize*2) >= 16 {
		blockSize <<= 1
	}
	return blockSize, max(bufferSize/blockSize, 2)
}

func openBackend(opts LiveOptions, filter []bpf.RawInstruction, userFilter bool) (liveBackend, liveInfo, error) {
	name := opts.Interface
	b := &linuxBackend{}
	afOpts := []any{afpacket.TPacketVersion3}
	info := liveInfo{linkType: layers.LinkTypeEthernet}
	if name == "any" {
		b.cooked = true
	} else {
		d, err := lookupDevice(name)
		if err != nil {
			return nil, info, err
		}
		if !d.up {
			return nil, info, fmt.Errorf("capturing on %s: the interface is not up", name)
		}
		b.cooked = d.cooked()
		afOpts = append(afOpts, afpacket.OptInterface(name))
	}
	if b.cooked {
		info.linkType = layers.LinkTypeLinuxSLL2
		afOpts = append(afOpts, afpacket.SocketDgram)
	} else {
		afOpts = append(afOpts, afpacket.SocketRaw)
	}
	// libpcap drops the outgoing copies on the device named "lo", in
	// the capture's network namespace.
	if lo, err := net.InterfaceByName("lo"); err == nil {
		b.dedupe.loIndex = lo.Index
	}
	page := os.Getpagesize()
	blockSize, numBlocks := ringGeometry(opts.BufferSize, opts.SnapLen, page)
	info.bufferSize = blockSize * numBlocks
	afOpts = append(afOpts,
		afpacket.OptFrameSize(page),
		afpacket.OptBlockSize(blockSize),
		afpacket.OptNumBlocks(numBlocks),
		afpacket.OptBlockTimeout(blockTimeout),
		afpacket.OptPollTimeout(pollSlice),
	)
	tp, err := afpacket.NewTPacket(afOpts...)
	if err != nil {
		if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
			return nil, info, permissionError(name, err)
		}
		if errors.Is(err, unix.ENOMEM) {
			return nil, info, fmt.Errorf("capturing on %s: no memory for a %d-byte ring; ask for a smaller buffer", name, info.bufferSize)
		}
		return nil, info, fmt.Errorf("capturing on %s: %v", name, err)
	}
	b.tp = tp
	if b.fd, b.ifindex, err = packetSocket(tp); err != nil {
		tp.Close()
		return nil, info, fmt.Errorf("capturing on %s: %v", name, err)
	}
	if opts.Promisc && name != "any" {
		if err := tp.SetPromiscuous(true); err != nil {
			tp.Close()
			if errors.Is(err, unix.EPERM) {
				return nil, info, permissionError(name, err)
			}
			return nil, info, fmt.Errorf("capturing on %s: cannot set promiscuous mode: %v", name, err)
		}
	}
	if filter != nil {
		// The socket has been taking packets since it was bound: skip
		// the ones stamped before the user's filter went on.
		if userFilter {
			b.cutoff = time.Now().UnixNano()
		}
		if err := tp.SetBPF(filter); err != nil {
			tp.Close()
			return nil, info, fmt.Errorf("capturing on %s: the kernel refused the filter program (%d instructions): %v", name, len(filter), err)
		}
		info.kernelFilter = userFilter
	}
	if _, err := b.stats(); err != nil {
		tp.Close()
		return nil, info, fmt.Errorf("capturing on %s: reading the kernel's counters: %v", name, err)
	}
	// With the user's filter, count from here: what the kernel counted
	// before it was attached is not the filter's (and those packets are
	// skipped). Without one, count from the ring's start (afpacket reset
	// the counters once the ring was set up): every packet in it is
	// returned, those that came while the socket was being set up too. A
	// base taken here left them out: on a fresh veth the summary said
	// "58 packets captured, 57 received by filter" in one run of three.
	if userFilter {
		b.base = b.sum
	}
	return b, info, nil
}

// errRingLayout means that a packet's ring header could not be found: the
// afpacket module no longer hands out slices of the ring.
var errRingLayout = errors.New("cannot find the kernel's header in front of a packet (has github.com/gopacket/gopacket/afpacket changed?)")

// errSocketFD means that afpacket's socket could not be found.
var errSocketFD = errors.New("cannot find the packet socket (has github.com/gopacket/gopacket/afpacket changed?)")

// packetSocket returns the descriptor of tp's socket and the index of the
// interface it is bound to (0 for all of them). afpacket keeps the
// descriptor to itself (TPacket.fd, unexported), but SO_ERROR must be read
// on it when the interface goes down, or every poll after that fails at
// once; it is checked to be a packet socket before it is used.
func packetSocket(tp *afpacket.TPacket) (fd, ifindex int, err error) {
	f := reflect.ValueOf(tp).Elem().FieldByName("fd")
	if !f.IsValid() || f.Kind() != reflect.Int || f.Int() < 0 {
		return -1, 0, errSocketFD
	}
	fd = int(f.Int())
	if d, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_DOMAIN); err != nil || d != unix.AF_PACKET {
		return -1, 0, errSocketFD
	}
	sa, err := unix.Getsockname(fd)
	ll, ok := sa.(*unix.SockaddrLinklayer)
	if err != nil || !ok {
		return -1, 0, errSocketFD
	}
	return fd, ll.Ifindex, nil
}

func (b *linuxBackend) next(buf []byte) ([]byte, packetMeta, error) {
	if b.settled && b.ringRead >= b.target {
		return nil, packetMeta{}, errSettled
	}
	data, _, err := b.tp.ZeroCopyReadPacketData()
	switch {
	case err == afpacket.ErrTimeout:
		if !b.down {
			return nil, packetMeta{}, errNoPacket
		}
		// Nothing in the ring: perhaps the interface is gone.
		change, err := b.watchLink(true)
		if err != nil || change == nil {
			return nil, packetMeta{}, cmp.Or(err, errNoPacket)
		}
		return nil, packetMeta{skip: true, link: change}, nil
	case err == afpacket.ErrPoll:
		return b.pollError()
	case err != nil:
		return nil, packetMeta{}, err
	}
	b.ringRead++
	var change *LinkChange
	if b.down {
		// Packets the kernel took before the down, or after it came
		// back up.
		if change, err = b.watchLink(false); err != nil {
			return nil, packetMeta{}, err
		}
	}
	h, ok := readRingHeader(data, b.cooked)
	if !ok {
		return nil, packetMeta{}, errRingLayout
	}
	ts := int64(h.sec)*1e9 + int64(h.nsec)
	if b.cutoff != 0 {
		if ts < b.cutoff {
			return nil, packetMeta{skip: true, link: change}, nil
		}
		b.cutoff = 0
	}
	if b.dedupe.duplicate(h.pkttype, int(h.ifindex), h.hatype, h.protocol) {
		b.dups.Add(1)
		return nil, packetMeta{skip: true, link: change}, nil
	}
	meta := packetMeta{
		ts:      ts,
		origLen: int(h.len),
		dir:     DirectionFromSLLPacketType(uint16(h.pkttype)),
		link:    change,
	}
	out := buf[:0]
	switch {
	case b.cooked:
		out = appendSLL2(out, &h)
		meta.origLen += sll2Len
		out = append(out, data...)
	case h.vlanValid() && len(data) >= 12:
		// The NIC or the kernel took the 802.1Q tag off; put it back
		// behind the MAC addresses, as libpcap does.
		tpid := uint16(unix.ETH_P_8021Q)
		if h.status&unix.TP_STATUS_VLAN_TPID_VALID != 0 && h.vlanTPID != 0 {
			tpid = h.vlanTPID
		}
		out = append(out, data[:12]...)
		out = binary.BigEndian.AppendUint16(out, tpid)
		out = binary.BigEndian.AppendUint16(out, uint16(h.vlanTCI))
		out = append(out, data[12:]...)
		meta.origLen += 4
	default:
		// Nothing to add: the ring's bytes themselves.
		meta.borrowed = true
		return data, meta, nil
	}
	return out, meta, nil
}

// pollError handles a POLLERR on the socket: the error is read (which
// clears it). ENETDOWN, the interface going down, is news; any other error
// ends the capture.
func (b *linuxBackend) pollError() ([]byte, packetMeta, error) {
	serr, err := unix.GetsockoptInt(b.fd, unix.SOL_SOCKET, unix.SO_ERROR)
	switch {
	case err != nil:
		return nil, packetMeta{}, fmt.Errorf("reading the packet socket's error: %w", os.NewSyscallError("getsockopt", err))
	case serr == 0:
		// libpcap gives up here too: a POLLERR with no error would
		// come back at every poll.
		return nil, packetMeta{}, errors.New("the kernel flagged an error on the packet socket but gave none")
	case syscall.Errno(serr) != unix.ENETDOWN:
		return nil, packetMeta{}, fmt.Errorf("error on the packet socket: %w", syscall.Errno(serr))
	}
	now := time.Now()
	wasDown := b.down
	b.down, b.downAt, b.checkedAt = true, now, now
	if wasDown {
		// Up and down again between two looks: still down.
		return nil, packetMeta{}, errNoPacket
	}
	return nil, packetMeta{skip: true, link: &LinkChange{Time: now}}, nil
}

// watchLink looks at the interface while it is down, every linkCheck at
// most. It returns the news that it came back up, or ErrInterfaceRemoved
// when it is gone, the ring is empty (idle: the last poll found nothing)
// and drainWait has passed since the down, so that the block the kernel
// was filling has been handed over and read.
func (b *linuxBackend) watchLink(idle bool) (*LinkChange, error) {
	now := time.Now()
	if now.Sub(b.checkedAt) < linkCheck {
		return nil, nil
	}
	b.checkedAt = now
	exists, up, err := b.linkState()
	switch {
	case err != nil:
		return nil, err
	case up:
		b.down = false
		return &LinkChange{Up: true, Time: now}, nil
	case !exists && idle && now.Sub(b.downAt) >= drainWait:
		return nil, ErrInterfaceRemoved
	}
	return nil, nil
}

// linkState reports whether the interface the socket is bound to still
// exists, and whether it is up (IFF_UP), as libpcap finds out: the kernel
// unbinds the socket from a removed interface, and the interface's flags
// are looked up by its index, which stays the same when it is renamed.
func (b *linuxBackend) linkState() (exists, up bool, err error) {
	if b.ifindex == 0 {
		return true, true, nil // "any": no interface to go down
	}
	sa, err := unix.Getsockname(b.fd)
	if err != nil {
		return false, false, fmt.Errorf("looking at the interface: %w", os.NewSyscallError("getsockname", err))
	}
	if ll, ok := sa.(*unix.SockaddrLinklayer); !ok || ll.Ifindex != b.ifindex {
		return false, false, nil // unbound (sll_ifindex -1): removed
	}
	ifr, err := unix.NewIfreq("")
	if err != nil {
		return false, false, err
	}
	ifr.SetUint32(uint32(b.ifindex))
	if err := unix.IoctlIfreq(b.fd, unix.SIOCGIFNAME, ifr); err != nil {
		return false, false, ifError("SIOCGIFNAME", err)
	}
	if ifr, err = unix.NewIfreq(ifr.Name()); err != nil {
		return false, false, err
	}
	if err := unix.IoctlIfreq(b.fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return false, false, ifError("SIOCGIFFLAGS", err)
	}
	return true, ifr.Uint16()&unix.IFF_UP != 0, nil
}

// ifError is nil for ENODEV and ENXIO, which say that the interface is
// gone (libpcap's test), and the error otherwise.
func ifError(call string, err error) error {
	if errors.Is(err, unix.ENODEV) || errors.Is(err, unix.ENXIO) {
		return nil
	}
	return fmt.Errorf("looking at the interface: %w", os.NewSyscallError(call, err))
}

func (b *linuxBackend) stats() (kernelStats, error) {
	_, v3, err := b.tp.SocketStats()
	if err != nil {
		return kernelStats{}, err
	}
	cur := [3]uint32{uint32(v3.Packets()), uint32(v3.Drops()), uint32(v3.QueueFreezes())}
	for i := range cur {
		b.sum[i] += uint64(cur[i] - b.last[i]) // modulo 2^32: afpacket's totals wrap
		b.last[i] = cur[i]
	}
	return kernelStats{
		received:   b.sum[0] - b.base[0],
		dropped:    b.sum[1] - b.base[1],
		freezes:    b.sum[2] - b.base[2],
		duplicates: b.dups.Load(),
	}, nil
}

// settle reads the counters for the last time. The kernel counts a packet
// (tp_packets) as it takes its place in the ring, under the lock that
// orders the places (net/packet/af_packet.c, tpacket_rcv), and counts a
// packet with no place as dropped, in tp_packets too: the ring's first
// received-minus-dropped packets since afpacket cleared the counters, once
// the ring was set up, are those counted. A packet that came between the
// ring's set-up and the clearing is in the ring and not counted; it makes
// next stop that many packets early, never late.
func (b *linuxBackend) settle() (kernelStats, bool, error) {
	k, err := b.stats()
	if err != nil {
		return k, false, err
	}
	b.settled, b.target = true, b.sum[0]-b.sum[1]
	return k, true, nil
}

func (b *linuxBackend) close() error {
	b.tp.Close()
	return nil
}

// appendSLL2 appends the LINUX_SLL2 header libpcap builds for a cooked
// capture from the packet's sockaddr_ll.
func appendSLL2(out []byte, h *ringHeader) []byte {
	out = binary.BigEndian.AppendUint16(out, h.protocol)
	out = append(out, 0, 0) // reserved
	out = binary.BigEndian.AppendUint32(out, uint32(h.ifindex))
	out = binary.BigEndian.AppendUint16(out, h.hatype)
	out = append(out, h.pkttype, h.halen)
	return append(out, h.addr[:]...)
}

// ringHeader is what the kernel writes in front of a packet in a
// TPACKET_V3 block: struct tpacket3_hdr and struct sockaddr_ll.
type ringHeader struct {
	sec, nsec uint32
	snaplen   uint32
	len       uint32
	status    uint32
	vlanTCI   uint32
	vlanTPID  uint16

	protocol uint16 // sll_protocol, in host byte order
	ifindex  int32
	hatype   uint16
	pkttype  uint8
	halen    uint8
	addr     [8]byte
}

// vlanValid is libpcap's VLAN_VALID: the kernel removed a tag.
func (h *ringHeader) vlanValid() bool {
	return h.vlanTCI != 0 || h.status&unix.TP_STATUS_VLAN_VALID != 0
}

// Layout of a packet in a TPACKET_V3 block (<linux/if_packet.h>,
// net/packet/af_packet.c tpacket_rcv).
const (
	// Offsets in struct tpacket3_hdr.
	tp3Snaplen  = 12
	tp3Len      = 16
	tp3Status   = 20
	tp3Mac      = 24
	tp3VlanTCI  = 32 // hv1.tp_vlan_tci
	tp3VlanTPID = 36 // hv1.tp_vlan_tpid
	// sllOffset is TPACKET_ALIGN(sizeof(struct tpacket3_hdr)).
	sllOffset = 48
	// The kernel puts the packet at tp_mac from the header:
	// netoff - maclen with netoff = TPACKET_ALIGN(68 + max(maclen,
	// 16)) for SOCK_RAW (68 = TPACKET3_HDRLEN), so between 68 and 96;
	// and 96 for SOCK_DGRAM.
	minMacOffset    = 68
	maxMacOffset    = 96
	cookedMacOffset = 96
	// Packets in a block are aligned to V3_ALIGNMENT.
	v3Alignment = 8
)

// readRingHeader reads the header in front of data, a packet slice that
// afpacket returned from the ring. ok is false if no header, or more than
// one, matches the slice.
func readRingHeader(data []byte, cooked bool) (h ringHeader, ok bool) {
	if len(data) == 0 {
		return h, false
	}
	p := unsafe.Pointer(unsafe.SliceData(data))
	lo, hi := minMacOffset, maxMacOffset
	if cooked {
		lo, hi = cookedMacOffset, cookedMacOffset
	}
	found := false
	for off := lo; off <= hi; off++ {
		if (uintptr(p)-uintptr(off))%v3Alignment != 0 {
			continue
		}
		hp := unsafe.Add(p, -off)
		if *(*uint16)(unsafe.Add(hp, tp3Mac)) != uint16(off) ||
			*(*uint32)(unsafe.Add(hp, tp3Snaplen)) != uint32(len(data)) ||
			*(*uint16)(unsafe.Add(hp, sllOffset)) != unix.AF_PACKET {
			continue
		}
		if found {
			return ringHeader{}, false
		}
		found = true
		hdr := unsafe.Slice((*byte)(hp), sllOffset+20)
		h.sec = binary.NativeEndian.Uint32(hdr[4:])
		h.nsec = binary.NativeEndian.Uint32(hdr[8:])
		h.snaplen = binary.NativeEndian.Uint32(hdr[tp3Snaplen:])
		h.len = binary.NativeEndian.Uint32(hdr[tp3Len:])
		h.status = binary.NativeEndian.Uint32(hdr[tp3Status:])
		h.vlanTCI = binary.NativeEndian.Uint32(hdr[tp3VlanTCI:])
		h.vlanTPID = binary.NativeEndian.Uint16(hdr[tp3VlanTPID:])
		// struct sockaddr_ll: family(2) protocol(2, network order)
		// ifindex(4) hatype(2) pkttype(1) halen(1) addr(8)
		sll := hdr[sllOffset:]
		h.protocol = binary.BigEndian.Uint16(sll[2:])
		h.ifindex = int32(binary.NativeEndian.Uint32(sll[4:]))
		h.hatype = binary.NativeEndian.Uint16(sll[8:])
		h.pkttype = sll[10]
		h.halen = sll[11]
		copy(h.addr[:], sll[12:20])
	}
	return h, found
}
