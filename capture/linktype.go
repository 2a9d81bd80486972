package capture

import (
	"strconv"

	"github.com/gopacket/gopacket/layers"
)

// LinkTypeName names a link type as "IPoIB (242)", or "242" when it has no
// name here. The names are libpcap's LINKTYPE_ descriptions, shortened.
func LinkTypeName(lt layers.LinkType) string {
	num := strconv.Itoa(int(lt))
	if name, ok := linkTypeNames[lt]; ok {
		return name + " (" + num + ")"
	}
	if lt >= 147 && lt <= 162 { // LINKTYPE_USER0-15: private use
		return "user " + strconv.Itoa(int(lt)-147) + " (" + num + ")"
	}
	return num
}

var linkTypeNames = map[layers.LinkType]string{
	0: "BSD loopback", 1: "Ethernet", 3: "AX.25", 6: "Token Ring", 7: "ARCNET",
	8: "SLIP", 9: "PPP", 10: "FDDI", 50: "PPP serial", 51: "PPPoE",
	100: "ATM RFC 1483", 101: "raw IP", 104: "Cisco HDLC", 105: "802.11",
	106: "Linux ATM CLIP", 107: "Frame Relay", 108: "OpenBSD loopback",
	113: "Linux cooked", 114: "LocalTalk", 117: "OpenBSD pflog",
	119: "802.11 Prism", 122: "IP over Fibre Channel", 123: "SunATM",
	127: "802.11 radiotap", 129: "Linux ARCNET", 130: "Juniper MLPPP",
	131: "Juniper MLFR", 132: "Juniper ES", 133: "Juniper GGSN",
	134: "Juniper MFR", 135: "Juniper ATM2", 136: "Juniper services",
	137: "Juniper ATM1", 138: "IP over FireWire", 139: "MTP2 with pseudo-header",
	140: "MTP2", 141: "MTP3", 142: "SCCP", 143: "DOCSIS", 144: "Linux IrDA",
	163: "802.11 AVS", 164: "Juniper monitor", 166: "PPP (pppd)",
	177: "Linux LAPD", 178: "Juniper Ethernet", 179: "Juniper PPP",
	180: "Juniper Frame Relay", 181: "Juniper Cisco HDLC", 182: "Multilink Frame Relay",
	187: "Bluetooth HCI H4", 189: "Linux USB", 192: "PPI", 195: "802.15.4",
	197: "ERF", 220: "Linux USB", 224: "Fibre Channel FC-2", 226: "Solaris IPNET",
	227: "SocketCAN", 228: "raw IPv4", 229: "raw IPv6", 230: "802.15.4",
	231: "D-Bus", 239: "Linux NFLOG", 240: "netANALYZER", 242: "IPoIB",
	247: "InfiniBand", 248: "SCTP", 249: "USBPcap", 251: "Bluetooth LE",
	253: "Linux netlink", 254: "Bluetooth Linux monitor", 258: "Apple PKTAP",
	271: "Linux vsock", 276: "Linux cooked v2", 281: "Broadcom tag",
	282: "Broadcom tag (prepended)", 284: "Marvell DSA", 285: "Marvell EDSA",
}
