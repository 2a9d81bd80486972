package filter

import (
	"bytes"
	"encoding/binary"
	"net"
	"net/netip"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// testPacket describes a frame. build writes its bytes; fields gives the
// Fields a decoder would report for it, from the description alone.
type testPacket struct {
	name     string
	vlans    []uint16
	qinq     bool // outer tag with TPID 0x88a8
	tpid9100 bool // outer tag with TPID 0x9100, which the decoder does not read
	ipver    int  // 0: not IP (an LLDP-like frame)
	src, dst string
	proto    uint8
	sport    uint16
	dport    uint16
	payload  int
	fragOff  uint16 // IPv4 fragment offset (8-byte units): no ports then
}

// diffPackets is the capture the differential tests run on.
var diffPackets = []testPacket{
	{name: "v4 tcp to :80", ipver: 4, src: "10.0.0.1", dst: "192.168.1.10", proto: 6, sport: 34567, dport: 80},
	{name: "v4 tcp from :80, big", ipver: 4, src: "192.168.1.10", dst: "10.0.0.1", proto: 6, sport: 80, dport: 34567, payload: 1400},
	{name: "v4 ssh", ipver: 4, src: "10.0.0.2", dst: "10.0.0.1", proto: 6, sport: 51000, dport: 22, payload: 40},
	{name: "v4 dns", ipver: 4, src: "10.1.2.3", dst: "8.8.8.8", proto: 17, sport: 53000, dport: 53, payload: 30},
	{name: "v4 ntp", ipver: 4, src: "172.16.5.4", dst: "172.31.255.1", proto: 17, sport: 123, dport: 123, payload: 48},
	{name: "v4 udp :80", ipver: 4, src: "10.0.0.9", dst: "10.0.0.10", proto: 17, sport: 80, dport: 4000, payload: 10},
	{name: "v4 icmp", ipver: 4, src: "10.0.0.1", dst: "1.1.1.1", proto: 1, payload: 56},
	{name: "v4 self", ipver: 4, src: "10.0.0.1", dst: "10.0.0.1", proto: 6, sport: 5000, dport: 5001},
	{name: "v4 udp fragment", ipver: 4, src: "10.0.0.9", dst: "10.0.0.10", proto: 17, fragOff: 185, payload: 500},
	{name: "v4 gre", ipver: 4, src: "10.0.0.5", dst: "10.0.0.6", proto: 47, payload: 20},
	{name: "v4 sctp", ipver: 4, src: "10.0.0.5", dst: "10.0.0.6", proto: 132, sport: 2905, dport: 2905, payload: 16},
	{name: "v4 tcp 443", ipver: 4, src: "10.200.0.1", dst: "172.20.1.1", proto: 6, sport: 443, dport: 61000, payload: 100},
	{name: "v4 tcp high ports", ipver: 4, src: "192.168.200.1", dst: "192.168.7.7", proto: 6, sport: 50000, dport: 60000},
	{name: "v4 udp 1024", ipver: 4, src: "10.3.0.1", dst: "10.3.0.2", proto: 17, sport: 1024, dport: 1025},
	{name: "v6 tcp 443", ipver: 6, src: "2001:db8:1::2", dst: "2001:db8::1", proto: 6, sport: 50000, dport: 443},
	{name: "v6 mdns", ipver: 6, src: "fe80::1", dst: "ff02::fb", proto: 17, sport: 5353, dport: 5353, payload: 60},
	{name: "v6 icmp6", ipver: 6, src: "2001:db8::1", dst: "2001:db8::2", proto: 58, payload: 56},
	{name: "v6 mapped", ipver: 6, src: "::ffff:10.0.0.1", dst: "2001:db8::1", proto: 6, sport: 34000, dport: 80},
	{name: "v6 ssh", ipver: 6, src: "2001:db8:2::5", dst: "2001:db8:1::2", proto: 6, sport: 22, dport: 40022, payload: 200},
	{name: "v6 sctp", ipver: 6, src: "2001:db8::7", dst: "2001:db8::8", proto: 132, sport: 36412, dport: 36412},
	{name: "non-IP", ipver: 0, payload: 46},
	{name: "vlan100 v4 tcp", vlans: []uint16{100}, ipver: 4, src: "10.0.0.1", dst: "192.168.1.10", proto: 6, sport: 34567, dport: 80},
	{name: "vlan200 v6 udp", vlans: []uint16{200}, ipver: 6, src: "2001:db8::1", dst: "2001:db8::53", proto: 17, sport: 40000, dport: 53},
	{name: "vlan0 v4 icmp", vlans: []uint16{0}, ipver: 4, src: "10.0.0.1", dst: "1.1.1.1", proto: 1, payload: 56},
	{name: "vlan100 non-IP", vlans: []uint16{100}, ipver: 0, payload: 46},
	{name: "qinq 100/200 v4 dns", vlans: []uint16{100, 200}, qinq: true, ipver: 4, src: "10.1.2.3", dst: "8.8.8.8", proto: 17, sport: 53000, dport: 53},
	{name: "dot1q 300/100 v4 tcp", vlans: []uint16{300, 100}, ipver: 4, src: "192.168.7.7", dst: "10.0.0.1", proto: 6, sport: 443, dport: 40001},
	{name: "qinq 100/4095 v6 tcp", vlans: []uint16{100, 4095}, qinq: true, ipver: 6, src: "2001:db8::1", dst: "2001:db8::2", proto: 6, sport: 80, dport: 8080},
}

// bpfPackets adds to diffPackets frames where tcpdump and the decoder
// disagree, for the BPF tests.
var bpfPackets = append(slices.Clone(diffPackets),
	testPacket{name: "0x9100 tag v4 tcp", vlans: []uint16{100}, tpid9100: true, ipver: 4, src: "10.0.0.1", dst: "192.168.1.10", proto: 6, sport: 34567, dport: 80},
	testPacket{name: "0x9100 tag non-IP", vlans: []uint16{100}, tpid9100: true, ipver: 0, payload: 46},
	testPacket{name: "v4 vxlan", ipver: 4, src: "10.0.0.1", dst: "10.0.0.2", proto: 17, sport: 50000, dport: 4789, payload: 50},
	testPacket{name: "v6 ipip", ipver: 6, src: "2001:db8::1", dst: "2001:db8::2", proto: 4, payload: 40},
	testPacket{name: "v6 hop-by-hop", ipver: 6, src: "2001:db8::1", dst: "2001:db8::2", proto: 0, payload: 40},
)

func (tp testPacket) fields(length int) Fields {
	if tp.tpid9100 {
		// gopacket, like the synscope decoder, stops at an unknown
		// EtherType.
		return Fields{Length: length}
	}
	f := Fields{Length: length, IPVersion: tp.ipver, NVLAN: len(tp.vlans)}
	copy(f.VLANs[:], tp.vlans)
	if tp.ipver == 0 {
		return f
	}
	f.Src, f.Dst = netip.MustParseAddr(tp.src), netip.MustParseAddr(tp.dst)
	f.Proto = tp.proto
	if (tp.proto == 6 || tp.proto == 17 || tp.proto == 132) && tp.fragOff == 0 {
		f.HasPorts, f.SrcPort, f.DstPort = true, tp.sport, tp.dport
	}
	return f
}

func (tp testPacket) build(t testing.TB) []byte {
	t.Helper()
	var ls []gopacket.SerializableLayer
	etherType := layers.EthernetTypeIPv4
	switch tp.ipver {
	case 0:
		etherType = layers.EthernetTypeLinkLayerDiscovery
	case 6:
		etherType = layers.EthernetTypeIPv6
	}
	eth := &layers.Ethernet{
		SrcMAC:       net.HardwareAddr{0x02, 0, 0, 0, 0, 1},
		DstMAC:       net.HardwareAddr{0x02, 0, 0, 0, 0, 2},
		EthernetType: etherType,
	}
	ls = append(ls, eth)
	for i, id := range tp.vlans {
		tpid := layers.EthernetTypeDot1Q
		if i == 0 && tp.qinq {
			tpid = layers.EthernetTypeQinQ
		}
		if i == 0 && tp.tpid9100 {
			tpid = 0x9100
		}
		if i == 0 {
			eth.EthernetType = tpid
		} else {
			ls[len(ls)-1].(*layers.Dot1Q).Type = tpid
		}
		ls = append(ls, &layers.Dot1Q{VLANIdentifier: id, Type: etherType})
	}
	var transport []byte
	switch tp.proto {
	case 6:
		transport = make([]byte, 20)
		binary.BigEndian.PutUint16(transport[0:], tp.sport)
		binary.BigEndian.PutUint16(transport[2:], tp.dport)
		binary.BigEndian.PutUint32(transport[4:], 1000)
		transport[12] = 5 << 4
		transport[13] = 0x18 // PSH ACK
		binary.BigEndian.PutUint16(transport[14:], 65535)
	case 17:
		transport = make([]byte, 8)
		binary.BigEndian.PutUint16(transport[0:], tp.sport)
		binary.BigEndian.PutUint16(transport[2:], tp.dport)
		binary.BigEndian.PutUint16(transport[4:], uint16(8+tp.payload))
	case 132:
		transport = make([]byte, 12)
		binary.BigEndian.PutUint16(transport[0:], tp.sport)
		binary.BigEndian.PutUint16(transport[2:], tp.dport)
	case 1, 58:
		transport = []byte{8, 0, 0, 0, 0, 1, 0, 1}
		if tp.proto == 58 {
			transport[0] = 128
		}
	}
	if tp.fragOff != 0 {
		transport = nil // a non-first fragment carries no transport header
	}
	body := append(transport, bytes.Repeat([]byte{0xab}, tp.payload)...)
	switch tp.ipver {
	case 4:
		ls = append(ls, &layers.IPv4{
			Version: 4, IHL: 5, TTL: 64, Id: 1,
			Protocol:   layers.IPProtocol(tp.proto),
			FragOffset: tp.fragOff,
			SrcIP:      net.ParseIP(tp.src).To4(),
			DstIP:      net.ParseIP(tp.dst).To4(),
		})
	case 6:
		ls = append(ls, &layers.IPv6{
			Version: 6, HopLimit: 64,
			NextHeader: layers.IPProtocol(tp.proto),
			SrcIP:      net.ParseIP(tp.src),
			DstIP:      net.ParseIP(tp.dst),
		})
	}
	ls = append(ls, gopacket.Payload(body))
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
		t.Fatalf("%s: %v", tp.name, err)
	}
	return append([]byte(nil), buf.Bytes()...)
}

// writeCapture writes diffPackets to path, packet i with timestamp
// 1000+i seconds so that it can be recognised in tcpdump's output.
func writeCapture(t testing.TB, path string, pkts []testPacket) []Fields {
	t.Helper()
	var out bytes.Buffer
	w := pcapgo.NewWriter(&out)
	if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	var fs []Fields
	for i, tp := range pkts {
		data := tp.build(t)
		ci := gopacket.CaptureInfo{Timestamp: time.Unix(int64(1000+i), 0), CaptureLength: len(data), Length: len(data)}
		if err := w.WritePacket(ci, data); err != nil {
			t.Fatal(err)
		}
		fs = append(fs, tp.fields(len(data)))
	}
	if err := writeFile(path, out.Bytes()); err != nil {
		t.Fatal(err)
	}
	return fs
}

// readFrameNumbers reads a pcap written by tcpdump -w and returns the
// indexes (from the timestamps) of the packets in it.
func readFrameNumbers(data []byte) ([]int, error) {
	r, err := pcapgo.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	var idx []int
	for {
		_, ci, err := r.ReadPacketData()
		if err != nil {
			break
		}
		idx = append(idx, int(ci.Timestamp.Unix()-1000))
	}
	return idx, nil
}

// TestCaptureDecodes checks that the hand-built frames decode (with
// gopacket) to the Fields the tests claim for them.
func TestCaptureDecodes(t *testing.T) {
	for _, tp := range bpfPackets {
		if !plainPacket(tp) && !tp.tpid9100 {
			continue // tunnels: gopacket would decode the made-up inner bytes
		}
		data := tp.build(t)
		want := tp.fields(len(data))
		pkt := gopacket.NewPacket(data, layers.LayerTypeEthernet, gopacket.Default)
		got := Fields{Length: len(data)}
		for _, l := range pkt.Layers() {
			switch l := l.(type) {
			case *layers.Dot1Q:
				if got.NVLAN < len(got.VLANs) {
					got.VLANs[got.NVLAN] = l.VLANIdentifier
				}
				got.NVLAN++
			case *layers.IPv4:
				got.IPVersion = 4
				got.Src, _ = netip.AddrFromSlice(l.SrcIP.To4())
				got.Dst, _ = netip.AddrFromSlice(l.DstIP.To4())
				got.Proto = uint8(l.Protocol)
			case *layers.IPv6:
				got.IPVersion = 6
				got.Src, _ = netip.AddrFromSlice(l.SrcIP)
				got.Dst, _ = netip.AddrFromSlice(l.DstIP)
				got.Proto = uint8(l.NextHeader)
			case *layers.TCP:
				got.HasPorts, got.SrcPort, got.DstPort = true, uint16(l.SrcPort), uint16(l.DstPort)
			case *layers.UDP:
				got.HasPorts, got.SrcPort, got.DstPort = true, uint16(l.SrcPort), uint16(l.DstPort)
			case *layers.SCTP:
				got.HasPorts, got.SrcPort, got.DstPort = true, uint16(l.SrcPort), uint16(l.DstPort)
			}
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: decoded %+v\nwant %+v", tp.name, got, want)
		}
	}
}
