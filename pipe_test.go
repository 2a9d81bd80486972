package main

import (
	"bufio"
	"bytes"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/synscope/synscope/capture"
)

// manyFlows writes a capture of n handshakes, each its own connection,
// enough that their JSON records overflow a pipe's buffer.
func manyFlows(t *testing.T, n int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "many.pcap")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := capture.NewPcapWriter(f, layers.LinkTypeEthernet, 65535, false)
	if err != nil {
		t.Fatal(err)
	}
	cli, srv := net.HardwareAddr{2, 0, 0, 0, 0, 1}, net.HardwareAddr{2, 0, 0, 0, 0, 2}
	ts := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	buf := gopacket.NewSerializeBuffer()
	for i := 0; i < n; i++ {
		c := net.IPv4(10, 0, byte(i>>8), byte(i)).To4()
		s := net.IPv4(10, 9, 0, 1).To4()
		port := layers.TCPPort(20000 + i%40000)
		for _, seg := range []struct {
			fromClient bool
			syn, ack   bool
			seq, ackn  uint32
		}{{true, true, false, 100, 0}, {false, true, true, 500, 101}, {true, false, true, 101, 501}} {
			eth := &layers.Ethernet{SrcMAC: cli, DstMAC: srv, EthernetType: layers.EthernetTypeIPv4}
			ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: c, DstIP: s}
			tcp := &layers.TCP{SrcPort: port, DstPort: 443, SYN: seg.syn, ACK: seg.ack, Seq: seg.seq, Ack: seg.ackn, Window: 65535}
			if !seg.fromClient {
				eth.SrcMAC, eth.DstMAC = srv, cli
				ip.SrcIP, ip.DstIP = s, c
				tcp.SrcPort, tcp.DstPort = 443, port
			}
			tcp.SetNetworkLayerForChecksum(ip)
			if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, eth, ip, tcp); err != nil {
				t.Fatal(err)
			}
			ts += int64(time.Millisecond)
			data := buf.Bytes()
			if err := w.WritePacket(&capture.Record{Timestamp: ts, CapLen: uint32(len(data)), OrigLen: uint32(len(data)), Data: data}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestJSONIntoClosedPipe is `synscope -r F --json | head -1`: the reader
// goes away after one line, and synscope ends quietly, with status 0,
// not killed by SIGPIPE and not complaining on stderr.
func TestJSONIntoClosedPipe(t *testing.T) {
	file := manyFlows(t, 3000)
	for _, mode := range []string{"--json", "--report"} {
		t.Run(mode, func(t *testing.T) {
			cmd := exec.Command(synscopeBinary(t), "-r", file, mode)
			var errb bytes.Buffer
			cmd.Stderr = &errb
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			line, err := bufio.NewReader(out).ReadString('\n')
			if err != nil || line == "" {
				t.Fatalf("first line %q: %v", line, err)
			}
			out.Close() // head -1 exits
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case err = <-done:
			case <-time.After(time.Minute):
				cmd.Process.Kill()
				t.Fatal("synscope did not stop after its reader went away")
			}
			if err != nil {
				t.Errorf("exit: %v (a closed pipe must end the run quietly with status 0)", err)
			}
			if errb.Len() != 0 {
				t.Errorf("stderr: %q", errb.String())
			}
		})
	}
}
