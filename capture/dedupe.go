package capture

// Each packet once, as tcpdump shows it.
//
// On Linux a packet socket sees every packet a device transmits (packet
// type PACKET_OUTGOING, from dev_queue_xmit_nit) and every packet it
// receives. The loopback device receives exactly what it transmits, so a
// capture on "lo", and the loopback part of a capture on "any", would see
// each packet twice: once outgoing, once incoming (PACKET_HOST).
//
// libpcap (pcap-linux.c, linux_check_direction) drops, for every packet it
// reads from the ring:
//
//   - an outgoing packet whose sll_ifindex is the loopback device's
//     ("we'll see the packet as an incoming packet as well, and we don't
//     want to see it twice");
//   - an outgoing CAN or CAN FD frame, which the CAN stack always loops
//     back as an incoming one as well (unless only outgoing packets are
//     wanted, which synscope never asks for).
//
// It keeps everything else: outgoing packets of other devices, and the
// incoming copy of loopback packets, which tcpdump therefore shows as "In".
// The check is made in userspace on the packet's sockaddr_ll, after the
// kernel has put both copies in the ring and counted both in its
// statistics; loopbackDedupe does the same, so that LiveStats.Received
// agrees with tcpdump's "packets received by filter".
//
// macOS's BPF sees loopback packets once; there is nothing to drop.

// Linux sockaddr_ll values the check looks at.
const (
	packetOutgoing = 4   // PACKET_OUTGOING, <linux/if_packet.h>
	arphrdCAN      = 280 // ARPHRD_CAN, <linux/if_arp.h>
	ethPCAN        = 0x000C
	ethPCANFD      = 0x000D
)

// loopbackDedupe decides which packets are the second copy of another.
type loopbackDedupe struct {
	// loIndex is the ifindex of the loopback device ("lo" in the
	// capture's network namespace), 0 if there is none.
	loIndex int
}

// duplicate reports whether a packet with the given sockaddr_ll fields
// (protocol in host byte order) is a copy libpcap leaves out.
func (d loopbackDedupe) duplicate(pkttype uint8, ifindex int, hatype, protocol uint16) bool {
	if pkttype != packetOutgoing {
		return false
	}
	if d.loIndex != 0 && ifindex == d.loIndex {
		return true
	}
	return hatype == arphrdCAN || protocol == ethPCAN || protocol == ethPCANFD
}
