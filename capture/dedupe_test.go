package capture

import "testing"

func TestLoopbackDedupe(t *testing.T) {
	d := loopbackDedupe{loIndex: 1}
	for _, c := range []struct {
		pkttype  uint8
		ifindex  int
		hatype   uint16
		protocol uint16
		dup      bool
	}{
		{packetOutgoing, 1, 772, 0x0800, true},       // lo, outgoing: the copy libpcap drops
		{0, 1, 772, 0x0800, false},                   // lo, incoming (PACKET_HOST): kept
		{packetOutgoing, 4, 1, 0x0800, false},        // eth0, outgoing: kept
		{0, 4, 1, 0x0800, false},                     // eth0, incoming
		{3, 4, 1, 0x86dd, false},                     // eth0, PACKET_OTHERHOST
		{packetOutgoing, 7, arphrdCAN, 0x000c, true}, // CAN loops its frames back
		{0, 7, arphrdCAN, 0x000c, false},
		{packetOutgoing, 8, 65534, ethPCANFD, true},
	} {
		if got := d.duplicate(c.pkttype, c.ifindex, c.hatype, c.protocol); got != c.dup {
			t.Errorf("pkttype %d, ifindex %d, hatype %d, protocol %#x: duplicate %v, want %v", c.pkttype, c.ifindex, c.hatype, c.protocol, got, c.dup)
		}
	}
	// No loopback device (a namespace without lo): nothing is dropped
	// for it.
	if (loopbackDedupe{}).duplicate(packetOutgoing, 0, 1, 0x0800) {
		t.Error("ifindex 0 taken for the loopback device")
	}
}
