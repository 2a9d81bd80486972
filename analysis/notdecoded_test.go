package analysis

import (
	"bytes"
	"context"
	"fmt"
	"net/netip"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/layers"

	"github.com/synscope/synscope/capture"
	"github.com/synscope/synscope/capture/fixture/synth"
)

// linkDecodedFiles are corpus captures whose TCP synscope could not see
// before it read their link type or encapsulation: each must now give the
// TCP conversations tshark gives, and say nothing about undecoded frames.
var linkDecodedFiles = []string{
	"ipoib.pcap",                        // IPoIB (242)
	"bgp_vpn_attrset.pcap",              // PPP (9)
	"lspping-fec-ldp.pcap",              // PPP (9), MPLS
	"bgp-aigp.pcap",                     // Juniper Ethernet (178)
	"arcnet-rfc1051-arp-icmp-http.pcap", // Linux ARCNET (129), RFC 1051
	"arcnet-rfc1201-arp-icmp-http.pcap", // Linux ARCNET (129), RFC 1201
	"wccp_redirect_gre.pcap",            // WCCP redirect in GRE
}

// TestLinkDecodedAgainstTshark compares the TCP conversations of the
// captures above with tshark's, as TestAgainstTshark does for every
// capture that holds TCP: it names them, so that they cannot drop out of
// that comparison unnoticed by decoding to no TCP again.
func TestLinkDecodedAgainstTshark(t *testing.T) {
	tshark := tsharkPath(t)
	tcpCaptures(t) // skips without the corpus
	for _, name := range linkDecodedFiles {
		file := filepath.Join(corpusDir, name)
		res, err := analyzeFile(file)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if len(res.Flows) == 0 || res.NotDecodedFrames > 0 {
			t.Errorf("%s: %d flows, %q", name, len(res.Flows), res.NotDecodedNote())
		}
		view, err := runTshark(t, tshark, file)
		if err != nil {
			t.Fatal(err)
		}
		if len(view.streams) == 0 {
			t.Errorf("%s: tshark finds no TCP", name)
		}
		compareWithTshark(t, file, res, view)
		t.Logf("%s: %d flows, %d TCP frames, tshark %d streams", name, len(res.Flows), res.TCPFrames, len(view.streams))
	}
}

// encapFiles are corpus captures of Ethernet or raw IP whose frames hold
// the encapsulations the decoder follows besides VLAN tags, IP-in-IP, GRE,
// VXLAN and Geneve: PPPoE, PPP in GRE (PPTP), MPLS, ERSPAN types I and
// II, a WCCP redirect.
var encapFiles = []string{
	"pppoe.pcap", "pppoes.pcap", "pptp.pcap", "mpls-traceroute.pcap", "mpls-label-heapoverflow.pcap",
	"lsp-ping-timestamp.pcap", "lspping-fec-rsvp.pcap", "wb-oobr.pcap",
	"erspan-type-i-1.pcap", "erspan-type-i-2.pcap", "erspan-type-i-3.pcap", "erspan-type-i-4.pcap",
	"erspan-type-ii-1.pcap", "erspan-type-ii-2.pcap", "erspan-type-ii-3.pcap", "wccp_redirect_gre.pcap",
}

// TestLinkLayersAgainstTshark decodes every frame of every corpus capture
// of a link type added with this test (PPP, PPP serial, Cisco HDLC,
// IPoIB, Juniper Ethernet, Linux ARCNET) and of encapFiles, and compares
// it with tshark's dissection of the frame: the decoder must find an IP
// header where tshark finds one, with addresses tshark shows (a frame
// holds several, the tunnel's and the quoted one of an ICMP error), and
// a TCP segment, with tshark's ports, where tshark finds a TCP segment
// that is not quoted in an ICMP error. Frames the decoder finds damaged
// are left out (they are the corpus's hostile ones; the tests of damage
// hold them).
func TestLinkLayersAgainstTshark(t *testing.T) {
	tshark := tsharkPath(t)
	files := tcpCaptures(t)
	added := map[layers.LinkType]bool{layers.LinkTypePPP: true, linkTypePPPSerial: true, linkTypeCHDLC: true,
		linkTypeIPoIB: true, linkTypeJuniperEther: true, linkTypeARCNETLinux: true}
	var picked []string
	for _, file := range files {
		if !strings.HasPrefix(file, corpusDir) {
			continue
		}
		if slices.Contains(encapFiles, filepath.Base(file)) {
			picked = append(picked, file)
			continue
		}
		r, err := capture.Open(file)
		if err != nil {
			continue
		}
		if rec, err := r.Next(); err == nil && added[rec.LinkType] {
			picked = append(picked, file)
		}
		r.Close()
	}
	var frames, withIP, withTCP int
	kinds := map[string]int{}
	for _, file := range picked {
		want, err := tsharkFrames(tshark, file)
		if err != nil {
			t.Errorf("%s: %v", file, err)
			continue
		}
		r, err := capture.Open(file)
		if err != nil {
			t.Errorf("%s: %v", file, err)
			continue
		}
		dec := NewDecoder()
		var p Packet
		for {
			rec, err := r.Next()
			if err != nil {
				break
			}
			dec.Decode(rec, &p)
			w, ok := want[rec.Frame]
			if !ok || p.MalformedLayer != "" {
				continue
			}
			frames++
			kinds[LinkTypeName(rec.LinkType)]++
			name := fmt.Sprintf("%s frame %d (%s)", filepath.Base(file), rec.Frame, w.protocols)
			if (p.IPVersion != 0) != (len(w.addrs) > 0) {
				t.Errorf("%s: IP version %d, tshark's addresses %v", name, p.IPVersion, w.addrs)
				continue
			}
			if p.IPVersion != 0 {
				withIP++
				if !slices.Contains(w.addrs, p.Src) || !slices.Contains(w.addrs, p.Dst) {
					t.Errorf("%s: %v > %v, not among tshark's %v", name, p.Src, p.Dst, w.addrs)
				}
			}
			if p.HasTCP != w.tcp {
				t.Errorf("%s: TCP %v, tshark %v", name, p.HasTCP, w.tcp)
				continue
			}
			if p.HasTCP {
				withTCP++
				if p.SrcPort != w.ports[0] || p.DstPort != w.ports[1] {
					t.Errorf("%s: ports %d > %d, tshark %d > %d", name, p.SrcPort, p.DstPort, w.ports[0], w.ports[1])
				}
			}
		}
		r.Close()
	}
	t.Logf("%d files, %d frames compared (by link type %v): %d with IP, %d with TCP", len(picked), frames, kinds, withIP, withTCP)
	for lt := range added {
		if kinds[LinkTypeName(lt)] == 0 {
			t.Errorf("no frame of link type %s compared", LinkTypeName(lt))
		}
	}
	if withTCP < 30 {
		t.Errorf("only %d TCP frames compared", withTCP)
	}
}

// tsharkFrame is what tshark finds in one frame.
type tsharkFrame struct {
	protocols string
	addrs     []netip.Addr
	tcp       bool // a TCP segment of the frame's own, not quoted in an ICMP error
	ports     [2]uint16
}

func tsharkFrames(tshark, file string) (map[uint64]tsharkFrame, error) {
	out, err := exec.Command(tshark, "-n", "-r", file, "-T", "fields", "-E", "occurrence=a", "-E", "separator=\t", "-E", "aggregator=,",
		"-e", "frame.number", "-e", "frame.protocols", "-e", "ip.src", "-e", "ip.dst", "-e", "ipv6.src", "-e", "ipv6.dst",
		"-e", "tcp.srcport", "-e", "tcp.dstport").Output()
	if err != nil && len(out) == 0 {
		return nil, fmt.Errorf("tshark: %v", err)
	}
	frames := map[uint64]tsharkFrame{}
	for line := range strings.Lines(string(out)) {
		cols := strings.Split(strings.TrimRight(line, "\n"), "\t")
		if len(cols) != 8 {
			continue
		}
		var n uint64
		if _, err := fmt.Sscan(cols[0], &n); err != nil {
			continue
		}
		f := tsharkFrame{protocols: cols[1]}
		for _, col := range cols[2:6] {
			for _, s := range strings.Split(col, ",") {
				if a, err := netip.ParseAddr(s); err == nil {
					f.addrs = append(f.addrs, a)
				}
			}
		}
		tcp := strings.Index(cols[1], ":tcp")
		icmp := strings.Index(cols[1], ":icmp")
		if tcp >= 0 && (icmp < 0 || icmp > tcp) && cols[6] != "" {
			f.tcp = true
			fmt.Sscan(strings.Split(cols[6], ",")[0], &f.ports[0])
			fmt.Sscan(strings.Split(cols[7], ",")[0], &f.ports[1])
		}
		frames[n] = f
	}
	return frames, nil
}

// TestNotDecodedCorpus reads every corpus capture and counts its frames by
// link type: the frames of every link type the decoder does not read must
// be counted in Result.NotDecoded, and said in NotDecodedNote; a capture
// of link types it reads must have no such count. It also holds the notes
// of the corpus's undecoded encapsulations.
//
// These captures are not compared with tshark: tshark takes about two
// minutes over the 256 of them here. When this test was written tshark
// found TCP in none of them (sflow_expanded.pcap aside, whose TCP headers
// are samples inside sFlow datagrams, not traffic: that is not TCP to
// follow).
func TestNotDecodedCorpus(t *testing.T) {
	files := tcpCaptures(t)
	var noted, withNotes int
	for _, file := range files {
		if !strings.HasPrefix(file, corpusDir) {
			continue
		}
		r, err := capture.Open(file)
		if err != nil {
			continue
		}
		unknown := map[layers.LinkType]uint64{}
		for {
			rec, err := r.Next()
			if err != nil {
				break
			}
			if _, _, known := linkHeader(new(Packet), rec.LinkType, rec.Data); !known {
				unknown[rec.LinkType]++
			}
		}
		r.Close()
		r, err = capture.Open(file)
		if err != nil {
			t.Fatal(err)
		}
		res, _ := Run(context.Background(), r, Config{Name: file})
		r.Close()
		got := map[layers.LinkType]uint64{}
		for _, n := range res.NotDecoded {
			if n.What == UndecodedLinkType {
				got[n.LinkType] += n.Frames
			}
		}
		base := filepath.Base(file)
		if fmt.Sprint(got) != fmt.Sprint(unknown) {
			t.Errorf("%s: frames not decoded by link type %v, want %v", base, got, unknown)
		}
		note := res.NotDecodedNote()
		for lt, n := range unknown {
			noted++
			want := fmt.Sprintf("%d frame", n)
			if !strings.Contains(note, want) || !strings.Contains(note, "link type "+LinkTypeName(lt)) || !strings.HasSuffix(note, " not decoded") {
				t.Errorf("%s: note %q does not say %s of link type %s", base, note, want, LinkTypeName(lt))
			}
		}
		if note != "" {
			withNotes++
		}
		if want, ok := corpusEncapNotes[base]; ok && note != want {
			t.Errorf("%s: note %q, want %q", base, note, want)
		}
		if (note == "") != (res.NotDecodedFrames == 0) {
			t.Errorf("%s: note %q for %d frames not decoded", base, note, res.NotDecodedFrames)
		}
	}
	t.Logf("%d captures with a note; %d link types noted", withNotes, noted)
	if noted < 100 {
		t.Errorf("only %d link types not decoded in the corpus: the corpus has about 250", noted)
	}
}

// corpusEncapNotes are the notes of corpus captures whose undecoded frames
// are an encapsulation inside a link type the decoder reads.
var corpusEncapNotes = map[string]string{
	"erspan-type-iii-ft-0.pcap": "9 frames in GRE carrying protocol 0x22eb not decoded",
	"erspan-type-iii-ft-7.pcap": "58 frames in GRE carrying protocol 0x22eb not decoded",
	"erspan-type-iii-pb-1.pcap": "1 frame in GRE carrying protocol 0x22eb not decoded",
	// Cisco MetaData (TrustSec tags) in GRE; the 2 frames of CDP in GRE
	// are not a carrier of IP.
	"various_gre.pcap":      "20 frames in GRE carrying protocol 0x8909 not decoded",
	"macsec-encrypted.pcap": "1 frame of Ethernet type 0x88e5 (MACsec) not decoded",
	"macsec-integonly.pcap": "1 frame of Ethernet type 0x88e5 (MACsec) not decoded",
	"mlppp-oobr.pcap":       "1 frame in PPP protocol 0x003d (multilink fragments) not decoded",
}

// TestNewLinkHeaders puts every frame of a generated capture behind each
// link header the general path reads (and an MPLS label stack, PPPoE and
// a WCCP redirect): the decoded packet must be the Ethernet frame's,
// offsets moved by the header's growth, and the flows of the capture the
// same.
func TestNewLinkHeaders(t *testing.T) {
	var gen bytes.Buffer
	if _, err := synth.Write(&gen, synth.Config{Seed: 9, Conns: 40, Anomalies: 0.5}); err != nil {
		t.Fatal(err)
	}
	for _, w := range linkWraps {
		t.Run(w.name, func(t *testing.T) {
			eth, err := capture.NewReader(bytes.NewReader(gen.Bytes()), "synth", int64(gen.Len()))
			if err != nil {
				t.Fatal(err)
			}
			de, dw := NewDecoder(), NewDecoder()
			ae, aw := NewAnalyzer(Config{Name: "eth"}), NewAnalyzer(Config{Name: w.name})
			var pe, pw Packet
			for {
				rec, err := eth.Next()
				if err != nil {
					break
				}
				et := uint16(rec.Data[12])<<8 | uint16(rec.Data[13])
				if et != 0x0800 && et != 0x86dd {
					t.Fatalf("frame %d: Ethernet type 0x%04x", rec.Frame, et)
				}
				data := w.wrap(bytes.Clone(rec.Data[14:]), et)
				moved := len(data) - len(rec.Data)
				wr := capture.Record{Frame: rec.Frame, Offset: rec.Offset, Timestamp: rec.Timestamp, LinkType: w.lt, Data: data,
					CapLen: uint32(len(data)), OrigLen: uint32(int(rec.OrigLen) + moved)}
				de.Decode(rec, &pe)
				dw.Decode(&wr, &pw)
				if w.name == "WCCP redirect" {
					// The inner datagram of a GRE tunnel: so marked.
					if pw.Tunnel != TunnelGRE {
						t.Fatalf("frame %d: tunnel %v", rec.Frame, pw.Tunnel)
					}
					pw.Tunnel = TunnelNone
					// and the tunnel's header is kept for the filter.
					if len(pw.Outer) != 1 || pw.Outer[0].Src != netip.MustParseAddr("10.9.9.1") || pw.Outer[0].Proto != 47 {
						t.Fatalf("frame %d: outer headers %+v", rec.Frame, pw.Outer)
					}
					pw.Outer = nil
				}
				if diff := packetDiff(&pe, &pw, moved); diff != "" {
					t.Fatalf("frame %d (% x): %s", rec.Frame, data[:min(len(data), 64)], diff)
				}
				ae.Add(rec)
				aw.Add(&wr)
			}
			re, rw := ae.Finish(), aw.Finish()
			if len(re.Flows) == 0 || len(re.Flows) != len(rw.Flows) || re.TCPFrames != rw.TCPFrames || rw.NotDecodedFrames != 0 {
				t.Fatalf("%d flows of %d TCP frames, Ethernet %d of %d; %q", len(rw.Flows), rw.TCPFrames, len(re.Flows), re.TCPFrames, rw.NotDecodedNote())
			}
			for i, f := range re.Flows {
				g := rw.Flows[i]
				if f.Client() != g.Client() || f.Server() != g.Server() || f.Packets != g.Packets || f.Status != g.Status || fmt.Sprint(f.Counts()) != fmt.Sprint(g.Counts()) {
					t.Errorf("flow %d: %v %v %d packets %v, Ethernet %v %v %d %v", f.ID, g.Client(), g.Server(), g.Packets, g.Status, f.Client(), f.Server(), f.Packets, f.Status)
				}
			}
		})
	}
}

// linkWraps are the link headers and encapsulations of TestNewLinkHeaders
// (FuzzDecode seeds its input with them too).
var linkWraps = []struct {
	name string
	lt   layers.LinkType
	// wrap puts the IP datagram ip, of Ethernet type et, behind a header.
	wrap func(ip []byte, et uint16) []byte
}{
	{"PPP", layers.LinkTypePPP, func(ip []byte, et uint16) []byte { return append([]byte{0xff, 0x03, 0, pppProto(et)}, ip...) }},
	{"PPP without address", layers.LinkTypePPP, func(ip []byte, et uint16) []byte { return append([]byte{0, pppProto(et)}, ip...) }},
	{"PPP compressed protocol", layers.LinkTypePPP, func(ip []byte, et uint16) []byte { return append([]byte{pppProto(et)}, ip...) }},
	{"PPP serial", linkTypePPPSerial, func(ip []byte, et uint16) []byte { return append([]byte{0xff, 0x03, 0, pppProto(et)}, ip...) }},
	{"Cisco HDLC in PPP serial", linkTypePPPSerial, func(ip []byte, et uint16) []byte { return append([]byte{0x0f, 0, byte(et >> 8), byte(et)}, ip...) }},
	{"Cisco HDLC", linkTypeCHDLC, func(ip []byte, et uint16) []byte { return append([]byte{0x8f, 0, byte(et >> 8), byte(et)}, ip...) }},
	{"IPoIB", linkTypeIPoIB, func(ip []byte, et uint16) []byte {
		h := make([]byte, 44)
		h[40], h[41] = byte(et>>8), byte(et)
		return append(h, ip...)
	}},
	{"Juniper Ethernet", linkTypeJuniperEther, func(ip []byte, et uint16) []byte {
		h := []byte{'M', 'G', 'C', 0x80, 0, 3, 3, 1, 1}
		return append(append(h, ethHeader(et)...), ip...)
	}},
	{"Juniper without L2", linkTypeJuniperEther, func(ip []byte, et uint16) []byte {
		return append([]byte{'M', 'G', 'C', 0x03, 2, 0, 0, 0}, ip...)
	}},
	{"ARCNET RFC 1201", linkTypeARCNETLinux, func(ip []byte, et uint16) []byte {
		typ := byte(212)
		if et == 0x86dd {
			typ = 0xc4
		}
		return append([]byte{1, 2, 0, 0, typ, 0, 0, 1}, ip...)
	}},
	{"MPLS", layers.LinkTypeEthernet, func(ip []byte, et uint16) []byte {
		return append(append(ethHeader(0x8847), 0, 0x10, 0, 64, 0, 0x20, 1, 64), ip...)
	}},
	{"PPPoE", layers.LinkTypeEthernet, func(ip []byte, et uint16) []byte {
		n := len(ip) + 2
		return append(append(ethHeader(0x8864), 0x11, 0, 0, 7, byte(n>>8), byte(n), 0, pppProto(et)), ip...)
	}},
	{"WCCP redirect", layers.LinkTypeRaw, func(ip []byte, et uint16) []byte {
		outer := []byte{0x45, 0, 0, 0, 0, 1, 0, 0, 64, 47, 0, 0, 10, 9, 9, 1, 10, 9, 9, 2}
		n := 20 + 8 + len(ip)
		outer[2], outer[3] = byte(n>>8), byte(n)
		sum := internetChecksum(outer, 0)
		outer[10], outer[11] = byte(sum>>8), byte(sum)
		return append(append(outer, 0, 0, 0x88, 0x3e, 0x02, 0, 0, 0), ip...)
	}},
}

// pppProto is the PPP protocol (low byte; the high byte is 0) of an IP
// datagram of Ethernet type et.
func pppProto(et uint16) byte {
	if et == 0x86dd {
		return 0x57
	}
	return 0x21
}

// ethHeader is an Ethernet header with Ethernet type et.
func ethHeader(et uint16) []byte {
	return []byte{2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, byte(et >> 8), byte(et)}
}

// packetDiff says where a (an Ethernet frame's) and b (the same datagram
// behind another header, moved bytes longer) decoded differently, or ""
// when they decoded the same.
func packetDiff(a, b *Packet, moved int) string {
	c := *b
	c.LinkType, c.WireLen, c.CapLen = a.LinkType, a.WireLen, a.CapLen
	c.rare = a.rare // which path decoded it, not what it holds
	c.IPOffset -= moved
	if c.TCPOffset > 0 {
		c.TCPOffset -= moved
	}
	if c.MalformedOffset != 0 {
		c.MalformedOffset -= moved
	}
	fa, fc := strings.Fields(fmt.Sprintf("%+v", *a)), strings.Fields(fmt.Sprintf("%+v", c))
	for i := range min(len(fa), len(fc)) {
		if fa[i] != fc[i] {
			return fmt.Sprintf("Ethernet %s, here %s", fa[i], fc[i])
		}
	}
	if len(fa) != len(fc) {
		return "packets of different lengths"
	}
	return ""
}

// TestNotFollowed decodes frames of encapsulations the decoder does not
// follow but which may hold TCP, and of some that cannot: the first must
// be noted (Packet.Undecoded) and counted, the others not.
func TestNotFollowed(t *testing.T) {
	tcp4 := []byte{0x45, 0, 0, 40, 0, 1, 0, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
		0, 80, 0, 81, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0x20, 0, 0, 0, 0, 0}
	gre := func(proto uint16, payload []byte) []byte {
		outer := []byte{0x45, 0, 0, byte(20 + 4 + len(payload)), 0, 1, 0, 0, 64, 47, 0, 0, 10, 9, 9, 1, 10, 9, 9, 2}
		return append(append(outer, 0, 0, byte(proto>>8), byte(proto)), payload...)
	}
	cases := []struct {
		name  string
		lt    layers.LinkType
		frame []byte
		what  Undecoded
		proto uint16
		note  string
	}{
		{"unknown link type", 147, tcp4, UndecodedLinkType, 0, "1 frame of link type user 0 (147) not decoded"},
		{"Frame Relay", 107, tcp4, UndecodedLinkType, 0, "1 frame of link type Frame Relay (107) not decoded"},
		{"link type without a name", 9999, tcp4, UndecodedLinkType, 0, "1 frame of link type 9999 not decoded"},
		{"ERSPAN III", layers.LinkTypeRaw, gre(0x22eb, tcp4), UndecodedGRE, 0x22eb, "1 frame in GRE carrying protocol 0x22eb not decoded"},
		{"GRE keepalive", layers.LinkTypeRaw, gre(0x0000, nil), UndecodedNone, 0, ""},
		{"GRE NHRP", layers.LinkTypeRaw, gre(0x2001, tcp4), UndecodedNone, 0, ""},
		{"WCCP not IP", layers.LinkTypeRaw, gre(0x883e, append([]byte{2, 0, 0, 0}, 0x70, 0, 0)), UndecodedGRE, 0x883e, "1 frame in GRE carrying protocol 0x883e not decoded"},
		{"MPLS pseudowire", layers.LinkTypeEthernet, append(append(ethHeader(0x8847), 0, 0x10, 1, 64), 0, 0, 0, 0), UndecodedMPLS, 0, "1 frame in MPLS carrying neither IPv4 nor IPv6 not decoded"},
		{"MACsec", layers.LinkTypeEthernet, append(ethHeader(0x88e5), tcp4...), UndecodedEtherType, 0x88e5, "1 frame of Ethernet type 0x88e5 (MACsec) not decoded"},
		{"802.1ah", layers.LinkTypeEthernet, append(ethHeader(0x88e7), tcp4...), UndecodedEtherType, 0x88e7, "1 frame of Ethernet type 0x88e7 (802.1ah) not decoded"},
		{"ARP", layers.LinkTypeEthernet, append(ethHeader(0x0806), make([]byte, 28)...), UndecodedNone, 0, ""},
		{"PPP VJ compressed", layers.LinkTypePPP, []byte{0xff, 0x03, 0x00, 0x2d, 0x0b, 1, 2, 3}, UndecodedPPP, 0x2d, "1 frame in PPP protocol 0x002d (Van Jacobson compressed TCP/IP) not decoded"},
		{"PPP LCP", layers.LinkTypePPP, []byte{0xff, 0x03, 0xc0, 0x21, 1, 1, 0, 4}, UndecodedNone, 0, ""},
		{"PPPoE discovery", layers.LinkTypeEthernet, append(ethHeader(0x8863), 0x11, 0x09, 0, 0, 0, 0), UndecodedNone, 0, ""},
		{"ARCNET ARP", linkTypeARCNETLinux, []byte{1, 2, 0, 0, 213, 0, 0, 1, 0, 7}, UndecodedNone, 0, ""},
	}
	for _, c := range cases {
		d := NewDecoder()
		var p Packet
		rec := capture.Record{Frame: 1, LinkType: c.lt, Data: c.frame, CapLen: uint32(len(c.frame)), OrigLen: uint32(len(c.frame))}
		d.Decode(&rec, &p)
		if p.Undecoded != c.what || p.UndecodedProto != c.proto || p.MalformedLayer != "" {
			t.Errorf("%s: undecoded %d 0x%04x, want %d 0x%04x (malformed %q %q)", c.name, p.Undecoded, p.UndecodedProto, c.what, c.proto, p.MalformedLayer, p.MalformedReason)
		}
		// Counted whatever the filter says: it cannot look inside either.
		for _, match := range []func(*Packet) bool{nil, func(*Packet) bool { return false }} {
			a := NewAnalyzer(Config{Match: match})
			a.Add(&rec)
			if note := a.Finish().NotDecodedNote(); note != c.note {
				t.Errorf("%s (filter %v): note %q, want %q", c.name, match != nil, note, c.note)
			}
		}
	}
}

// TestDamagedLinkHeaders: a link header cut short, or without its magic,
// is a damaged frame (counted outside any flow), not an undecoded one.
func TestDamagedLinkHeaders(t *testing.T) {
	cases := []struct {
		lt     layers.LinkType
		frame  []byte
		layer  string
		reason string
	}{
		{linkTypeIPoIB, make([]byte, 43), "IPoIB", "IPoIB header truncated: 43 of 44 bytes captured"},
		{linkTypeCHDLC, []byte{0x0f, 0, 8}, "Cisco HDLC", "Cisco HDLC header truncated: 3 of 4 bytes captured"},
		{linkTypeJuniperEther, []byte("MGX\x00"), "Juniper", "no Juniper magic number (0x4d4743): 0x4d4758"},
		{linkTypeJuniperEther, []byte("MGC\x80\x00\x30\x00"), "Juniper", "Juniper extensions truncated: 7 of 54 bytes captured"},
		{linkTypeARCNETLinux, []byte{1, 2, 0, 0, 212, 0}, "ARCNET", "ARCNET header truncated: 6 of 8 bytes captured"},
		{layers.LinkTypePPP, []byte{0xff, 0x03, 0x7e}, "PPP", "PPP protocol field truncated"},
		{layers.LinkTypeEthernet, append(ethHeader(0x8847), 0, 0x10, 0, 64), "MPLS", "MPLS label stack truncated: no bottom-of-stack entry in 4 bytes"},
	}
	for _, c := range cases {
		var p Packet
		rec := capture.Record{Frame: 1, LinkType: c.lt, Data: c.frame, CapLen: uint32(len(c.frame)), OrigLen: uint32(len(c.frame))}
		NewDecoder().Decode(&rec, &p)
		if p.MalformedLayer != c.layer || p.MalformedReason != c.reason || p.Undecoded != UndecodedNone {
			t.Errorf("link type %d % x: malformed %q %q, undecoded %d; want %q %q", c.lt, c.frame, p.MalformedLayer, p.MalformedReason, p.Undecoded, c.layer, c.reason)
		}
		a := NewAnalyzer(Config{})
		a.Add(&rec)
		if res := a.Finish(); res.MalformedCount != 1 || res.NotDecodedFrames != 0 {
			t.Errorf("link type %d % x: %d damaged, %d not decoded", c.lt, c.frame, res.MalformedCount, res.NotDecodedFrames)
		}
	}
}

// TestNotDecodedKinds: the kinds counted are bounded, and the frames past
// them still counted and said.
func TestNotDecodedKinds(t *testing.T) {
	a := NewAnalyzer(Config{})
	for i := range 40 {
		frame := []byte{0x45}
		rec := capture.Record{Frame: uint64(i + 1), LinkType: layers.LinkType(2000 + i%20), Data: frame, CapLen: 1, OrigLen: 1}
		a.Add(&rec)
	}
	res := a.Finish()
	if len(res.NotDecoded) != maxNotDecodedKinds || res.NotDecodedFrames != 40 {
		t.Fatalf("%d kinds, %d frames", len(res.NotDecoded), res.NotDecodedFrames)
	}
	if n := res.NotDecoded[3]; n.LinkType != 2003 || n.Frames != 2 || n.First != 4 {
		t.Errorf("fourth kind %+v", n)
	}
	note := res.NotDecodedNote()
	if !strings.HasPrefix(note, "2 frames of link type 2000, 2 frames of link type 2001, ") ||
		!strings.HasSuffix(note, ", 8 more of other kinds not decoded") {
		t.Errorf("note %q", note)
	}
}
