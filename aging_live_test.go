//go:build linux

package main

import (
	"net"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"golang.org/x/sys/unix"
)

// TestLiveTUIHandshakeAges: a SYN sent once that nothing answers (a scan's
// probe, or a client whose retransmission the capture missed) is pending
// (?) while its answer may be a round trip away, and ✗ unanswered once
// 3 s have passed, though its flow gets no more packets; a SYN-ACK sent
// once and never acknowledged likewise turns from ? to ! incomplete. The
// row stayed ? until the capture stopped. The frames come from inside a
// namespace of the test's own, onto a veth pair whose host end synscope
// captures; the host drops them (they are for another station's MAC).
func TestLiveTUIHandshakeAges(t *testing.T) {
	requireLiveRoot(t)
	host, ns, peer := floodVeth(t)
	fd, ifindex := packetSocketIn(t, ns, peer)
	defer unix.Close(fd)
	dir := t.TempDir()
	s, _ := liveTUI(t, dir, "-i", host, "--spool", dir, "-n")
	to := &unix.SockaddrLinklayer{Ifindex: ifindex, Halen: 6}
	client, server := net.IPv4(198, 51, 100, 1), net.IPv4(198, 51, 100, 2)
	send := func(src, dst net.IP, sport, dport uint16, synAck bool) {
		t.Helper()
		eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, src[15]}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, dst[15]}, EthernetType: layers.EthernetTypeIPv4}
		ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: src, DstIP: dst}
		tcp := &layers.TCP{SrcPort: layers.TCPPort(sport), DstPort: layers.TCPPort(dport), Seq: 1000, SYN: true, Window: 64240,
			Options: []layers.TCPOption{{OptionType: layers.TCPOptionKindMSS, OptionLength: 4, OptionData: []byte{5, 0xb4}}}}
		if synAck {
			tcp.Seq, tcp.ACK, tcp.Ack = 5000, true, 1001
		}
		tcp.SetNetworkLayerForChecksum(ip)
		buf := gopacket.NewSerializeBuffer()
		if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, eth, ip, tcp); err != nil {
			t.Fatal(err)
		}
		if err := unix.Sendto(fd, buf.Bytes(), 0, to); err != nil {
			t.Fatalf("sendto: %v", err)
		}
	}
	start := time.Now()
	send(client, server, 40001, 443, false) // a SYN, never answered
	send(client, server, 40002, 443, false) // a SYN, answered once
	send(server, client, 443, 40002, true)
	// (The veth's own IPv6 neighbour and listener packets come too.)
	p := s.waitFor(":40001", ":40002", "incomplete")
	rowOf := func(p, port string) string {
		for _, l := range strings.Split(p, "\n") {
			if strings.Contains(l, port) {
				return l
			}
		}
		return ""
	}
	if time.Since(start) < 2*time.Second {
		// Within the wait: pending. (A machine so loaded that the
		// screen came later than that checks only the end.)
		for _, port := range []string{":40001", ":40002"} {
			if row := rowOf(p, port); !strings.HasPrefix(strings.TrimSpace(row), "?") {
				t.Errorf("the row of %s within its wait is not pending (?):\n%s", port, p)
			}
		}
	}
	p = s.waitFor("✗ 1", "! 1")
	if row := rowOf(p, ":40001"); !strings.HasPrefix(strings.TrimSpace(row), "✗") || !strings.Contains(row, "unanswered") {
		t.Errorf("the unanswered SYN's row after its wait is %q, want ✗ unanswered:\n%s", row, p)
	}
	if row := rowOf(p, ":40002"); !strings.HasPrefix(strings.TrimSpace(row), "!") || !strings.Contains(row, "incomplete") {
		t.Errorf("the unacknowledged SYN-ACK's row after its wait is %q, want ! incomplete:\n%s", row, p)
	}
	if took := time.Since(start); took < 3*time.Second {
		t.Errorf("the rows turned after %v, before the 3 s wait", took)
	}
	// The list's filter and the drill-down say what the report will.
	s.keys("/", "code:handshake.unanswered", "Enter")
	p = s.waitFor("1 shown")
	if !strings.Contains(p, ":40001") || strings.Contains(p, ":40002") {
		t.Errorf("code:handshake.unanswered does not give the one flow:\n%s", p)
	}
	s.keys("Enter")
	s.waitFor("✗ flow 1", "handshake unanswered", "✗ SYN unanswered", "findings (1)")
	s.keys("Tab")
	s.keys("Tab")
	s.waitFor("1 SYN over 0s with no SYN-ACK or RST from the server in the capture")
	s.keys("Escape", "/", "C-u", "Enter", "q")
}
