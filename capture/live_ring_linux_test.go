//go:build linux

package capture

import (
	"encoding/binary"
	"testing"
	"unsafe"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"golang.org/x/sys/unix"
)

// fakeRing lays out one packet as tpacket_rcv does in a TPACKET_V3 block:
// struct tpacket3_hdr at an 8-byte aligned address, struct sockaddr_ll 48
// bytes after it, the packet tp_mac bytes after it. It returns the packet
// slice, as afpacket hands it out.
func fakeRing(t *testing.T, mac int, payload []byte, fill func(hdr []byte)) []byte {
	t.Helper()
	buf := make([]byte, 4096)
	k := 0
	for (uintptr(unsafe.Pointer(&buf[k])) % 8) != 0 {
		k++
	}
	k += 64 // as if after a block descriptor
	hdr := buf[k:]
	binary.NativeEndian.PutUint32(hdr[4:], 1_700_000_000)         // tp_sec
	binary.NativeEndian.PutUint32(hdr[8:], 123_456_789)           // tp_nsec
	binary.NativeEndian.PutUint32(hdr[12:], uint32(len(payload))) // tp_snaplen
	binary.NativeEndian.PutUint32(hdr[16:], uint32(len(payload)+100))
	binary.NativeEndian.PutUint32(hdr[20:], unix.TP_STATUS_USER)
	binary.NativeEndian.PutUint16(hdr[24:], uint16(mac))
	sll := hdr[48:]
	binary.NativeEndian.PutUint16(sll[0:], unix.AF_PACKET)
	binary.BigEndian.PutUint16(sll[2:], 0x0800)
	binary.NativeEndian.PutUint32(sll[4:], 7)
	binary.NativeEndian.PutUint16(sll[8:], unix.ARPHRD_ETHER)
	sll[10] = packetOutgoing
	sll[11] = 6
	copy(sll[12:], []byte{2, 0, 0, 0, 0, 9, 0xee, 0xee})
	if fill != nil {
		fill(hdr)
	}
	copy(hdr[mac:], payload)
	return hdr[mac : mac+len(payload)]
}

func TestReadRingHeader(t *testing.T) {
	payload := []byte("0123456789abcdefghijklmnopqrstuvwxyz")
	for mac := minMacOffset; mac <= maxMacOffset; mac++ {
		data := fakeRing(t, mac, payload, nil)
		h, ok := readRingHeader(data, false)
		if !ok {
			t.Fatalf("tp_mac %d: header not found", mac)
		}
		if h.sec != 1_700_000_000 || h.nsec != 123_456_789 || h.snaplen != uint32(len(payload)) || h.len != uint32(len(payload)+100) ||
			h.protocol != 0x0800 || h.ifindex != 7 || h.hatype != unix.ARPHRD_ETHER || h.pkttype != packetOutgoing || h.halen != 6 || h.addr[5] != 9 {
			t.Fatalf("tp_mac %d: %+v", mac, h)
		}
	}
	if _, ok := readRingHeader(fakeRing(t, cookedMacOffset, payload, nil), true); !ok {
		t.Error("cooked: header not found")
	}
	if _, ok := readRingHeader(fakeRing(t, 90, payload, nil), true); ok {
		t.Error("cooked: a header with tp_mac 90 was taken")
	}
	for name, spoil := range map[string]func([]byte){
		"family":  func(h []byte) { binary.NativeEndian.PutUint16(h[48:], unix.AF_INET) },
		"snaplen": func(h []byte) { binary.NativeEndian.PutUint32(h[12:], 5) },
		"mac":     func(h []byte) { binary.NativeEndian.PutUint16(h[24:], 200) },
	} {
		if _, ok := readRingHeader(fakeRing(t, 82, payload, spoil), false); ok {
			t.Errorf("a header with a wrong %s was taken", name)
		}
	}
	if _, ok := readRingHeader(nil, false); ok {
		t.Error("an empty packet had a header")
	}
}

func TestAppendSLL2(t *testing.T) {
	h := ringHeader{protocol: 0x86dd, ifindex: 3, hatype: unix.ARPHRD_ETHER, pkttype: packetOutgoing, halen: 6, addr: [8]byte{1, 2, 3, 4, 5, 6}}
	b := appendSLL2(nil, &h)
	if len(b) != sll2Len {
		t.Fatalf("%d bytes", len(b))
	}
	var sll layers.LinuxSLL2
	if err := sll.DecodeFromBytes(append(b, make([]byte, 40)...), gopacket.NilDecodeFeedback); err != nil {
		t.Fatal(err)
	}
	if sll.ProtocolType != layers.EthernetTypeIPv6 || sll.InterfaceIndex != 3 || sll.ARPHardwareType != 1 ||
		sll.PacketType != layers.LinuxSLL2PacketTypeOutgoing || sll.AddrLength != 6 || sll.Addr.String() != "01:02:03:04:05:06" {
		t.Errorf("decoded %+v", sll)
	}
	if linkDirection(layers.LinkTypeLinuxSLL2, b) != DirOutbound {
		t.Error("direction of the SLL2 header is not outbound")
	}
}

func TestRingGeometry(t *testing.T) {
	for _, c := range []struct{ buffer, snaplen, block, blocks int }{
		{DefaultBufferSize, DefaultSnapLen, 1 << 20, 32},
		{8 << 20, DefaultSnapLen, 512 << 10, 16},
		{MinBufferSize, DefaultSnapLen, 128 << 10, 2},
		{64 << 20, DefaultSnapLen, 1 << 20, 64},
		{MinBufferSize, 96, 16 << 10, 16},
		{3 << 20, 1500, 128 << 10, 24},
	} {
		b, n := ringGeometry(c.buffer, c.snaplen, 4096)
		if b != c.block || n != c.blocks {
			t.Errorf("ringGeometry(%d, %d) = %d × %d, want %d × %d", c.buffer, c.snaplen, n, b, c.blocks, c.block)
		}
	}
}
