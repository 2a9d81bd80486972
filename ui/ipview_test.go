package ui

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/ansi"

	"github.com/synscope/synscope/capture/fixture"
)

// paneAt is the packet pane of a frame of the first flow at width w, as
// plain text, line by line.
func paneAt(t *testing.T, m Model, frame uint64, w int) []string {
	t.Helper()
	if m.state != stateDetail {
		m = press(t, m, "enter")
	}
	d, cmd := m.detail.at(frame)
	m.detail = d
	m = update(t, m, runCmd(cmd)...)
	var out []string
	for _, l := range m.detail.packetLines(w) {
		out = append(out, ansi.Strip(l))
	}
	return out
}

// hasLine fails unless one of lines is want, or starts with it when want
// ends with "…".
func hasLine(t *testing.T, what string, lines []string, want string) {
	t.Helper()
	for _, l := range lines {
		if l == want || strings.HasSuffix(want, "…") && strings.HasPrefix(l, strings.TrimSuffix(want, "…")) {
			return
		}
	}
	t.Errorf("%s: no line %q in\n%s", what, want, strings.Join(lines, "\n"))
}

// extSizes matches the lines that give a header of the datagram its
// size: "hop-by-hop options, 8 bytes · ...".
var extSizes = regexp.MustCompile(`^(hop-by-hop options|destination options|routing header|fragment header), (\d+) bytes`)

// TestPacketPaneIPv6ExtensionHeaders: the extension headers between the
// IPv6 header and TCP's are listed in order with their options and
// sizes, which with the 40-byte header add up to where TCP starts; the
// TCP fields are read where TCP is (the pane read the checksum, reserved
// bits and options at the hop-by-hop header, and said "kind 96 ... runs
// past the header").
func TestPacketPaneIPv6ExtensionHeaders(t *testing.T) {
	m := newLoaded(t, testConfig(seed(t, "seed-client-ipv6ext.pcap")), 80, 24)
	want := map[uint64][]string{
		1: {"hop-by-hop options, 8 bytes · Router Alert 0 (MLD) · padding 2",
			"options MSS 1460 · NOP · WS 2 (×4) · NOP · NOP · SACK permitted", "payload 0 bytes"},
		2: {"hop-by-hop options, 8 bytes · padding 6", "payload 2 bytes on a SYN-ACK · 00 00 · \"..\""},
		3: {"hop-by-hop options, 8 bytes · padding 6", "destination options, 8 bytes · padding 6", "payload 0 bytes"},
		// The last fragment: its headers up to the fragment header; the
		// destination options are in the first fragment's bytes.
		6: {"hop-by-hop options, 8 bytes · padding 6", "fragment header, 8 bytes · offset 112 · last fragment…"},
		7: {"routing header, 24 bytes · segment routing (type 4) · segments left 0…", "    2001:db8:172::1…"},
		9: {"hop-by-hop options, 8 bytes · option 0x3e, length 2: 01 02 · padding 2"},
	}
	for frame, lines := range want {
		pane := paneAt(t, m, frame, 80)
		for _, w := range lines {
			hasLine(t, "frame "+strconv.FormatUint(frame, 10), pane, w)
		}
	}
	// Every header byte before TCP is accounted for.
	for _, r := range press(t, m, "enter").detail.flow.Refs {
		pane := paneAt(t, m, r.Frame, 200)
		info := infoAt(t, m, r.Frame)
		if info == nil || info.err != "" || !info.p.HasTCP || info.p.TCPOffset < 0 {
			continue
		}
		n := 40
		for _, l := range pane {
			if s := extSizes.FindStringSubmatch(l); s != nil {
				k, _ := strconv.Atoi(s[2])
				n += k
			}
		}
		if got := info.p.TCPOffset - info.p.IPOffset; n != got {
			t.Errorf("frame %d: the IPv6 header and the lines' sizes make %d bytes, TCP starts %d bytes after the IP header", r.Frame, n, got)
		}
		for _, l := range pane {
			if strings.Contains(l, "damaged") || strings.Contains(l, "not decoded here") {
				t.Errorf("frame %d: %q", r.Frame, l)
			}
		}
	}
}

// infoAt is the read-back packet of a frame of the first flow.
func infoAt(t *testing.T, m Model, frame uint64) *pktInfo {
	t.Helper()
	if m.state != stateDetail {
		m = press(t, m, "enter")
	}
	d, cmd := m.detail.at(frame)
	m.detail = d
	m = update(t, m, runCmd(cmd)...)
	return m.detail.infos[m.detail.cursor]
}

// TestPacketPaneJumbogram: a jumbogram's payload length field is 0 and
// says so; the hop-by-hop header gives the length, and the TCP segment is
// as long as tshark takes it, all captured. It said "payload 80008 bytes
// (80000 captured)" on the corpus's BIG TCP capture.
func TestPacketPaneJumbogram(t *testing.T) {
	const desc = `
snaplen 262144
client [2001:db8::1]:40000
server [2001:db8::2]:443
+0    C>S S  mss=1440
+0.01 S>C SA mss=1440
+0.01 C>S A
+0.01 C>S PA len=70000 hbh=jumbo nop nop ts=7/9
`
	m := newLoaded(t, testConfig([]Source{memSource(t, "jumbo.pcap", fixture.Build(desc))}), 80, 24)
	pane := paneAt(t, m, 4, 80)
	hasLine(t, "jumbogram", pane, "IPv6 2001:db8::1 → 2001:db8::2 · payload length 0 (jumbogram of 70040)…")
	hasLine(t, "jumbogram", pane, "hop-by-hop options, 8 bytes · Jumbo Payload 70040")
	hasLine(t, "jumbogram", pane, "options NOP · NOP · TS val 7 ecr 9")
	hasLine(t, "jumbogram", pane, "payload 70000 bytes · 62 63 64…")
	for _, l := range pane {
		if strings.Contains(l, "captured)") || strings.Contains(l, "reserved bits") || strings.Contains(l, "✗") {
			t.Errorf("jumbogram: %q", l)
		}
	}

	corpus := filepath.Join(corpusDir, "bigtcp-ipv6-hbh.pcap")
	if _, err := os.Stat(corpus); err != nil {
		t.Skip("corpus not found: ", err)
	}
	m = newLoaded(t, testConfig([]Source{openFile(t, corpus)}), 80, 24)
	pane = paneAt(t, m, 1, 80)
	// tshark: checksum 0xc8eb, reserved bits not set, options NOP NOP
	// TS val 1186840160 ecr 4237097528, Len: 80000.
	hasLine(t, "bigtcp", pane, "    checksum 0xc8eb not verifiable (offload) · urgent 0")
	hasLine(t, "bigtcp", pane, "options NOP · NOP · TS val 1186840160 ecr 4237097528")
	hasLine(t, "bigtcp", pane, "payload 80000 bytes · 6e 65 74 70 65 72 66 00 6e 65 74 70 65 72 66 00 …+79984")
}

// TestPacketPaneIPv4Options: a header longer than 20 bytes says its
// length, and its options follow by name; the reserved flag is shown.
// Firewalls drop or rewrite datagrams with options, and the pane said
// nothing of the 12 bytes.
func TestPacketPaneIPv4Options(t *testing.T) {
	const desc = `
client 10.1.1.1:40000
server 10.2.2.2:80
+0    C>S S  mss=1460 ipopt=ra ipopt=rr:10.9.9.9,0.0.0.0 df evil
+0.01 S>C SA mss=1460 ipopt=ts:2
+0.01 C>S A  ipopt=lsrr:10.3.3.3,10.2.2.2 ipopt=nop ipopt=nop ipopt=nop ipopt=130:0001020304
`
	m := newLoaded(t, testConfig([]Source{memSource(t, "ipopts.pcap", fixture.Build(desc))}), 80, 24)
	for frame, lines := range map[uint64][]string{
		1: {"IPv4 10.1.1.1 → 10.2.2.2 · header 36 bytes · total length 60 · ID 1 (0x0001)…",
			"    TTL 64 · reserved bit set · DF · checksum 0x…",
			"IP options Router Alert 0 · Record Route 10.9.9.9 (1 of 2 slots free) · EOL"},
		2: {"IP options Timestamp (timestamps only), 2 slots, none recorded"},
		3: {"IP options Loose Source Route 10.3.3.3 10.2.2.2 (every hop taken) · NOP ×3…",
			"    kind 130, length 7: 00 01 02 03 04 · EOL"},
	} {
		pane := paneAt(t, m, frame, 80)
		for _, w := range lines {
			hasLine(t, "frame "+strconv.FormatUint(frame, 10), pane, w)
		}
	}
}

// TestHeaderOptionsText holds the option lists to their words, byte
// for byte.
func TestHeaderOptionsText(t *testing.T) {
	abs := func(v uint32) string { return strconv.FormatUint(uint64(v), 10) }
	words := func(opts []hdrOption) string {
		var w []string
		n := 0
		for _, o := range opts {
			s := o.text
			if o.bad {
				s = "✗ " + s
			}
			w = append(w, s)
			n += o.bytes
		}
		return strings.Join(w, " · ") + " [" + strconv.Itoa(n) + "]"
	}
	for _, c := range []struct {
		name string
		got  []hdrOption
		want string
	}{
		{"NOPs", tcpOptions(append([]byte{1, 1, 1, 1}, 5, 10, 0, 0, 0, 10, 0, 0, 0, 20), abs), "NOP ×4 · SACK 10-20 [14]"},
		{"two NOPs stay", tcpOptions([]byte{1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2}, abs), "NOP · NOP · TS val 1 ecr 2 [12]"},
		{"SACK relative", tcpOptions([]byte{5, 10, 0, 0, 0x13, 0x88, 0, 0, 0x13, 0x92}, func(v uint32) string { return abs(v - 5000) }), "SACK 0-10 [10]"},
		// The first block of a D-SACK option is marked, a comma keeping
		// it apart from the others; only the first SACK option's.
		{"D-SACK", tcpOptionsDSACK([]byte{5, 10, 0, 0, 0, 10, 0, 0, 0, 20}, abs, true), "SACK D-SACK 10-20 [10]"},
		{"D-SACK and a block", tcpOptionsDSACK([]byte{5, 18, 0, 0, 0, 10, 0, 0, 0, 20, 0, 0, 0, 30, 0, 0, 0, 40}, abs, true), "SACK D-SACK 10-20, 30-40 [18]"},
		{"two SACK options", tcpOptionsDSACK([]byte{5, 10, 0, 0, 0, 10, 0, 0, 0, 20, 5, 10, 0, 0, 0, 30, 0, 0, 0, 40}, abs, true), "SACK D-SACK 10-20 · SACK 30-40 [20]"},
		// RFC 7323: a shift over 14 is taken as 14, as the analysis
		// does (it read "WS 15 (×16384)", a multiplier 15 does not give).
		{"WS over 14", tcpOptions([]byte{3, 3, 15}, abs), "WS 15 (over 14: taken as 14, ×16384) [3]"},
		{"WS 14", tcpOptions([]byte{3, 3, 14}, abs), "WS 14 (×16384) [3]"},
		// The verdict comes before the bytes, which 80 columns cut.
		{"wrong length", tcpOptions([]byte{5, 4, 0, 1}, abs), "✗ kind 5, length 4 (wrong length for its kind): 00 01 [4]"},
		{"MP_CAPABLE", tcpOptions([]byte{30, 4, 0x01, 0x01}, abs), "MPTCP MP_CAPABLE v1, length 4: 01 01 [4]"},
		// An empty experimental cookie is a request, as kind 34's is
		// (it read "cookie " and nothing).
		{"TFO 254 request", tcpOptions([]byte{254, 4, 0xf9, 0x89}, abs), "TFO (experimental 254) cookie request [4]"},
		{"TFO 254 cookie", tcpOptions([]byte{254, 6, 0xf9, 0x89, 0xab, 0xcd}, abs), "TFO (experimental 254) cookie ab cd [6]"},
		{"MP_JOIN", tcpOptions([]byte{30, 3, 0x10}, abs), "MPTCP MP_JOIN, length 3: 10 [3]"},
		{"DSS", tcpOptions([]byte{30, 4, 0x20, 0x01}, abs), "MPTCP DSS, length 4: 20 01 [4]"},
		{"ADD_ADDR", tcpOptions([]byte{30, 3, 0x30}, abs), "MPTCP ADD_ADDR, length 3: 30 [3]"},
		{"REMOVE_ADDR", tcpOptions([]byte{30, 3, 0x40}, abs), "MPTCP REMOVE_ADDR, length 3: 40 [3]"},
		{"MP_PRIO", tcpOptions([]byte{30, 3, 0x50}, abs), "MPTCP MP_PRIO, length 3: 50 [3]"},
		{"MP_FAIL", tcpOptions([]byte{30, 3, 0x60}, abs), "MPTCP MP_FAIL, length 3: 60 [3]"},
		{"MP_FASTCLOSE", tcpOptions([]byte{30, 3, 0x70}, abs), "MPTCP MP_FASTCLOSE, length 3: 70 [3]"},
		{"MP_TCPRST", tcpOptions([]byte{30, 3, 0x80}, abs), "MPTCP MP_TCPRST, length 3: 80 [3]"},
		{"MPTCP subtype 9", tcpOptions([]byte{30, 3, 0x90}, abs), "MPTCP subtype 9, length 3: 90 [3]"},
		{"IPv4 record route, full", ipv4Options([]byte{7, 7, 8, 10, 0, 0, 1, 0}), "Record Route 10.0.0.1 (0 of 1 slots free) · EOL [8]"},
		{"IPv4 strict route", ipv4Options([]byte{137, 11, 8, 10, 0, 0, 1, 10, 0, 0, 2, 0}), "Strict Source Route 10.0.0.1 10.0.0.2 (next hop 2 of 2) · EOL [12]"},
		{"IPv4 timestamp with addresses", ipv4Options([]byte{68, 20, 13, 0x21, 10, 0, 0, 1, 0, 0, 0, 99, 0, 0, 0, 0, 0, 0, 0, 0}),
			"Timestamp (with addresses) 10.0.0.1@99 (1 of 2 slots free), overflow 2 [20]"},
		{"IPv4 option past the header", ipv4Options([]byte{7, 5, 0, 0}), "✗ kind 7 at option byte 0: length 5 runs past the header or is too short [4]"},
		{"IPv4 router alert, wrong length", ipv4Options([]byte{148, 3, 0, 0}), "✗ kind 148, length 3 (wrong length for its kind): 00 · EOL [4]"},
		{"IPv6 options", ext6Options([]byte{0xc2, 4, 0, 1, 0, 0, 0, 1, 0, 0x04, 1, 7, 0}), "Jumbo Payload 65536 · padding 3 · Tunnel Encapsulation Limit 7 · padding 1 [13]"},
		{"IPv6 option past the header", ext6Options([]byte{1, 0, 5, 9, 0}), "padding 2 · ✗ option 0x05 at byte 4: length 9 runs past the header [5]"},
	} {
		if got := words(c.got); got != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.name, got, c.want)
		}
	}
}

// TestPacketPaneSACK: SACK blocks follow the view's numbers, relative to
// the other side's ISN (tshark's SLE and SRE with relative sequence
// numbers) or absolute after r; fourteen NOPs are one entry.
func TestPacketPaneSACK(t *testing.T) {
	const desc = `
client 10.0.0.1:40000 isn=1000
server 10.0.0.2:80 isn=5000
+0    C>S S  mss=1460 sackok
+0.01 S>C SA mss=1460 sackok
+0.01 C>S A
+0.01 C>S PA len=100
+0.01 C>S PA len=100 seq=1201
+0.01 S>C A  ack=1101 nop nop nop nop nop nop nop nop nop nop nop nop nop nop sack=1201-1301
`
	m := newLoaded(t, testConfig([]Source{memSource(t, "sack.pcap", fixture.Build(desc))}), 80, 24)
	hasLine(t, "relative", paneAt(t, m, 6, 80), "options NOP ×14 · SACK 201-301 (relative)")
	m = press(t, m, "enter", "r")
	hasLine(t, "absolute", paneAt(t, m, 6, 80), "options NOP ×14 · SACK 1201-1301")
}

// TestPacketPaneDSACK: a D-SACK block (RFC 2883: at or below the ACK) is
// marked where the SACK blocks are shown, relative and absolute; an
// ordinary block above the ACK is not.
func TestPacketPaneDSACK(t *testing.T) {
	const desc = `
client 10.0.0.1:40000 isn=1000
server 10.0.0.2:80 isn=5000
+0     C>S S  mss=1460 sackok
+0.01  S>C SA mss=1460 sackok
+0.01  C>S A
+0.01  C>S PA len=100
+0.01  S>C A
+0.2   C>S PA len=100 seq=1001
+0.001 S>C A  sack=1001-1101 nop nop
+0.001 C>S PA len=100 seq=1201
+0.001 S>C A  ack=1101 sack=1201-1301 nop nop
`
	m := newLoaded(t, testConfig([]Source{memSource(t, "dsack.pcap", fixture.Build(desc))}), 80, 24)
	hasLine(t, "relative", paneAt(t, m, 7, 80), "options SACK D-SACK 1-101 (relative) · NOP · NOP")
	hasLine(t, "above the ACK", paneAt(t, m, 9, 80), "options SACK 201-301 (relative) · NOP · NOP")
	m = press(t, m, "enter", "r")
	hasLine(t, "absolute", paneAt(t, m, 7, 80), "options SACK D-SACK 1001-1101 · NOP · NOP")
}

// TestHexMarksWithoutAttributes: where the terminal shows no attribute
// (TERM=dumb), the bytes the legend names are marked under the row: the
// seed's 2 bytes of SYN-ACK payload, and the inside capture's 2 bytes of
// padding. With attributes, nothing is added.
func TestHexMarksWithoutAttributes(t *testing.T) {
	for _, c := range []struct {
		file, mark, legend string
	}{
		{"seed-client.pcap", "^^", "payload on a SYN"},
		{"seed-inside.pcap", "~~", "padding"},
	} {
		for _, profile := range []colorprofile.Profile{colorprofile.NoTTY, colorprofile.ANSI256} {
			m := newLoaded(t, testConfig(seed(t, c.file)), 80, 24)
			m = update(t, m, tea.ColorProfileMsg{Profile: profile})
			m = press(t, m, "enter", "g", "j", "x")
			lines := strings.Split(plain(m), "\n")
			row, marks := -1, ""
			for i, l := range lines {
				if strings.HasPrefix(l, "0030  ") && i+1 < len(lines) {
					row, marks = i, lines[i+1]
				}
			}
			if row < 0 {
				t.Fatalf("%s: no row 0030:\n%s", c.file, plain(m))
			}
			if profile != colorprofile.NoTTY {
				if strings.Contains(marks, c.mark) {
					t.Errorf("%s with attributes: marks %q", c.file, marks)
				}
				continue
			}
			// Bytes 10 and 11 of row 0x30 (frame bytes 58-59), in hex
			// and as characters.
			hexCol, ascCol := 6+10*3+1, 6+16*3+1+1+10
			want := strings.Repeat(" ", hexCol) + c.mark + " " + c.mark + strings.Repeat(" ", ascCol-hexCol-5) + c.mark
			if marks != want {
				t.Errorf("%s: under\n%s\n got %q\nwant %q", c.file, lines[row], marks, want)
			}
			if !strings.Contains(plain(m), c.mark+" "+c.legend) {
				t.Errorf("%s: no legend %q", c.file, c.mark+" "+c.legend)
			}
		}
	}
}

// TestOuterLayerWords: the outer tag of QinQ is 802.1ad; cooked capture
// names its protocol first and its packet type by name, wrapping at 80
// columns instead of cutting; a link header the view does not decode is
// named with its length.
func TestOuterLayerWords(t *testing.T) {
	for _, c := range []struct {
		file  string
		lines []string
	}{
		{"seed-client-qinq.pcap", []string{"Ethernet 00:11:22:33:44:55 → 00:12:34:56:78:1b, type 0x88a8 802.1ad",
			"802.1ad (QinQ) VLAN 200, priority 0, type 0x8100 802.1Q", "802.1Q VLAN 100, priority 0, type 0x0800 IPv4"}},
		{"seed-client-sll2.pcap", []string{"Linux cooked (SLL2), protocol 0x0800 IPv4 · packet type outgoing · interface 2",
			"    address 00:11:22:33:44:55"}},
		{"seed-client-sll.pcap", []string{"Linux cooked (SLL), protocol 0x0800 IPv4 · packet type outgoing",
			"    address 00:11:22:33:44:55"}},
	} {
		m := newLoaded(t, testConfig(seed(t, c.file)), 80, 24)
		pane := paneAt(t, m, 1, 80)
		for _, w := range c.lines {
			hasLine(t, c.file, pane, w)
		}
	}
	if _, err := os.Stat(corpusDir); err != nil {
		t.Skip("corpus not found: ", err)
	}
	// PPP in HDLC framing: gopacket's PPP layer leaves the address and
	// control bytes out of its Contents, and the IP header after it was
	// also shown as an outer one.
	for _, c := range []struct{ file, line string }{
		{"ipoib.pcap", "IPoIB (242) link header, 44 bytes · not decoded here"},
		{"bgp-aigp.pcap", "Juniper Ethernet (178) link header, 36 bytes · not decoded here"},
		{"bgp_vpn_attrset.pcap", "PPP, protocol 0x0021"},
	} {
		m := newLoaded(t, testConfig([]Source{openFile(t, filepath.Join(corpusDir, c.file))}), 80, 24)
		pane := paneAt(t, m, press(t, m, "enter").detail.flow.Refs[0].Frame, 80)
		hasLine(t, c.file, pane, c.line)
		for _, l := range pane {
			if strings.HasPrefix(l, "outer IP") {
				t.Errorf("%s: %q: no tunnel there", c.file, l)
			}
		}
	}
}
