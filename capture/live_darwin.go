//go:build darwin

package capture

// The macOS backend: a BPF device through github.com/packetcap/go-pcap
// (pure Go). It is what go-pcap offers, with these limits:
//
//   - go-pcap returns the first packet of each read(2) of the BPF device
//     (it sets immediate mode, so a read usually holds one; a burst loses
//     the rest) and no time stamp: packets are stamped when read.
//   - No promiscuous mode, no kernel statistics (LiveStats has zeros),
//     no direction.
//   - Its reads block until a packet comes: a goroutine reads, and Close
//     returns at once but leaves that goroutine until the next packet.
//   - The loopback device lo0 (and utun) has the NULL link type, which
//     the filter compiler does not take: filtering there is synscope's own.
//
// go-pcap's filter compiler is not used: the Filter, compiled by synscope,
// is attached with BIOCSETF.

import (
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/gopacket/gopacket/layers"
	pcap "github.com/packetcap/go-pcap"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// FilterLinkType returns the link type a LiveOptions.Filter must be
// compiled for on iface: NULL for the loopback and utun devices, Ethernet
// for the others.
func FilterLinkType(iface string) (layers.LinkType, error) {
	if iface == "any" {
		return 0, errNoAny()
	}
	ifc, err := net.InterfaceByName(iface)
	if err != nil {
		return 0, fmt.Errorf("capturing on %s: no such interface", iface)
	}
	return darwinLinkType(ifc), nil
}

func darwinLinkType(ifc *net.Interface) layers.LinkType {
	if ifc.Flags&net.FlagLoopback != 0 || strings.HasPrefix(ifc.Name, "utun") {
		return layers.LinkTypeNull
	}
	return layers.LinkTypeEthernet
}

func errNoAny() error {
	return fmt.Errorf(`capturing on any: macOS has no "any" device here; name an interface (ifconfig -l lists them)`)
}

type darwinPacket struct {
	data    []byte
	ts      int64
	origLen int
	err     error
}

type darwinBackend struct {
	h     *pcap.Handle
	pkts  chan darwinPacket
	done  chan struct{}
	timer *time.Timer
}

func openBackend(opts LiveOptions, filter []bpf.RawInstruction, userFilter bool) (liveBackend, liveInfo, error) {
	name := opts.Interface
	info := liveInfo{bufferSize: 0}
	if name == "any" {
		return nil, info, errNoAny()
	}
	ifc, err := net.InterfaceByName(name)
	if err != nil {
		return nil, info, fmt.Errorf("capturing on %s: no such interface", name)
	}
	info.linkType = darwinLinkType(ifc)
	// go-pcap flattens the open error into text: look first.
	if err := unix.Access("/dev/bpf0", unix.R_OK|unix.W_OK); err == unix.EACCES || err == unix.EPERM {
		return nil, info, permissionError(name, err)
	}
	h, err := pcap.OpenLive(name, int32(opts.SnapLen), opts.Promisc, pollSlice, true)
	if err != nil {
		if strings.Contains(err.Error(), "permission denied") {
			return nil, info, permissionError(name, err)
		}
		return nil, info, fmt.Errorf("capturing on %s: %v", name, err)
	}
	if len(filter) > 0 {
		if err := h.SetRawBPFFilter(filter); err != nil {
			h.Close()
			return nil, info, fmt.Errorf("capturing on %s: the kernel refused the filter program: %v", name, err)
		}
		info.kernelFilter = userFilter
	}
	b := &darwinBackend{
		h:     h,
		pkts:  make(chan darwinPacket, 256),
		done:  make(chan struct{}),
		timer: time.NewTimer(pollSlice),
	}
	go b.read()
	return b, info, nil
}

// read runs in its own goroutine: go-pcap's reads block.
func (b *darwinBackend) read() {
	for {
		data, ci, err := b.h.ReadPacketData()
		p := darwinPacket{err: err}
		if err == nil {
			p.data = append([]byte(nil), data...)
			p.ts = ci.Timestamp.UnixNano()
			if ci.Timestamp.IsZero() {
				p.ts = time.Now().UnixNano()
			}
			p.origLen = max(ci.Length, len(data))
		}
		select {
		case b.pkts <- p:
		case <-b.done:
			return
		}
		if err != nil {
			return
		}
	}
}

func (b *darwinBackend) next(buf []byte) ([]byte, packetMeta, error) {
	b.timer.Reset(pollSlice)
	select {
	case p := <-b.pkts:
		if p.err != nil {
			return nil, packetMeta{}, p.err
		}
		return append(buf[:0], p.data...), packetMeta{ts: p.ts, origLen: p.origLen}, nil
	case <-b.timer.C:
		return nil, packetMeta{}, errNoPacket
	}
}

func (b *darwinBackend) stats() (kernelStats, error) { return kernelStats{}, nil }

// settle cannot tell which packets were counted: there are no counters.
func (b *darwinBackend) settle() (kernelStats, bool, error) { return kernelStats{}, false, nil }

func (b *darwinBackend) close() error {
	close(b.done)
	b.timer.Stop()
	b.h.Close()
	return nil
}
