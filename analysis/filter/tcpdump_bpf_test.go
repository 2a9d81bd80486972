package filter_test

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"golang.org/x/net/bpf"

	"github.com/synscope/synscope/analysis"
	"github.com/synscope/synscope/analysis/filter"
	"github.com/synscope/synscope/capture"
)

// corpusDir is the shared capture corpus, relative to this package.
const corpusDir = "../../../shared/corpus/tcpdump-tests"

// corpusPacket is one packet as a socket filter would see it.
type corpusPacket struct {
	name     string // file#frame, for messages
	link     int    // filter.LinkTypeEthernet or filter.LinkTypeRaw
	data     []byte // the bytes the filter runs on
	frame    []byte // the whole record
	complete bool   // the capture holds the whole packet (the kernel's filter always sees it whole)
	arp      bool   // an Ethernet ARP or RARP frame
	fixture  bool   // from the project's testdata
	pkt      *analysis.Packet
}

// loadBPFCorpus reads every packet of the corpus and of ../../testdata that
// a kernel socket filter compiled by CompileBPF could see, as the filter
// sees it:
//
//   - Ethernet frames as they are, and in addition, for a frame with an
//     802.1Q or 802.1ad tag, the frame without its outer tag: the Linux
//     kernel takes that tag out (into the packet's metadata) before a
//     packet socket's filter runs;
//   - raw IP packets (LINKTYPE_RAW, DLT_RAW) as they are;
//   - the packets of Linux cooked captures (SLL, SLL2) from their network
//     header, which is where the kernel runs the filter of a cooked
//     (SOCK_DGRAM) socket, as synscope opens for "any" and non-Ethernet
//     devices.
//
// Each file is decoded in order by one analysis.Decoder, as synscope does,
// so that Match sees reassembled fragments as it would.
func loadBPFCorpus(t testing.TB) ([]corpusPacket, []string) {
	t.Helper()
	var files []string
	if _, err := os.Stat(corpusDir); err != nil {
		msg := "capture corpus not found at " + corpusDir
		if os.Getenv("SYNSCOPE_REQUIRE_CORPUS") == "1" {
			t.Fatalf("%s, and SYNSCOPE_REQUIRE_CORPUS=1", msg)
		}
		t.Logf("%s: only the project's fixtures are used (SYNSCOPE_REQUIRE_CORPUS=1 makes this a failure)", msg)
	} else {
		for _, pat := range []string{"*.pcap", "*.pcapng"} {
			m, _ := filepath.Glob(filepath.Join(corpusDir, pat))
			files = append(files, m...)
		}
	}
	for _, pat := range []string{"*.pcap", "*.pcapng"} {
		m, _ := filepath.Glob(filepath.Join("../../testdata", pat))
		files = append(files, m...)
	}
	slices.Sort(files)
	var pkts []corpusPacket
	var used []string
	for _, file := range files {
		r, err := capture.Open(file)
		if err != nil {
			continue // unreadable on purpose; the capture tests cover them
		}
		fixture := !strings.HasPrefix(file, corpusDir)
		d := analysis.NewDecoder()
		n := 0
		for {
			rec, err := r.Next()
			if err != nil {
				if !errors.Is(err, io.EOF) && !errors.As(err, new(*capture.DamageError)) {
					t.Errorf("%s: %v", file, err)
				}
				break
			}
			data := slices.Clone(rec.Data)
			cp := *rec
			cp.Data = data
			p := new(analysis.Packet)
			d.Decode(&cp, p)
			c := corpusPacket{
				name:     fmt.Sprintf("%s#%d", filepath.Base(file), rec.Frame),
				frame:    data,
				complete: rec.CapLen == rec.OrigLen,
				fixture:  fixture,
				pkt:      p,
			}
			switch rec.LinkType {
			case 1:
				c.link, c.data = filter.LinkTypeEthernet, data
				if len(data) >= 14 {
					et := uint16(data[12])<<8 | uint16(data[13])
					c.arp = et == 0x0806 || et == 0x8035
					if (et == 0x8100 || et == 0x88a8) && len(data) >= 18 {
						k := c
						k.name += " (outer tag taken out)"
						k.data = append(slices.Clone(data[:12]), data[16:]...)
						inner := uint16(data[16])<<8 | uint16(data[17])
						k.arp = inner == 0x0806 || inner == 0x8035
						pkts = append(pkts, k)
					}
				}
			case 101, 12, 14:
				c.link, c.data = filter.LinkTypeRaw, data
			case 113: // LINUX_SLL: 16-byte header
				if len(data) < 16 {
					continue
				}
				c.link, c.data = filter.LinkTypeRaw, data[16:]
			case 276: // LINUX_SLL2: 20-byte header
				if len(data) < 20 {
					continue
				}
				c.link, c.data = filter.LinkTypeRaw, data[20:]
			default:
				continue
			}
			pkts = append(pkts, c)
			n++
		}
		r.Close()
		if n > 0 {
			used = append(used, file)
		}
	}
	return pkts, used
}

// leftToMatch says why CompileBPF's program leaves a packet to Match
// without evaluating the expression, or "" when it evaluates it. It is
// written from CompileBPF's documentation, independently of its code, and
// the test checks the two agree on every packet.
func leftToMatch(d []byte, link int) string {
	be16 := func(b []byte) uint16 { return uint16(b[0])<<8 | uint16(b[1]) }
	var ip []byte
	v := 0
	if link == filter.LinkTypeEthernet {
		if len(d) < 14 {
			return "runt frame"
		}
		switch et := be16(d[12:]); {
		case et == 0x0800:
			v = 4
		case et == 0x86dd:
			v = 6
		case et < 0x0600:
			return "802.3 length field"
		case et == 0x8100 || et == 0x88a8 || et == 0x9100:
			return "VLAN tag"
		case et == 0x8847 || et == 0x8848 || et == 0x8863 || et == 0x8864 || et == 0x88e7 || et == 0x894f:
			return "MPLS, PPPoE, 802.1ah or NSH"
		case et == 0x6558 || et == 0xffff:
			return "EtherType 0x6558 or 0xffff"
		default:
			return "" // not IP: evaluated
		}
		ip = d[14:]
	} else {
		if len(d) == 0 {
			return "empty packet"
		}
		if v = int(d[0] >> 4); v != 4 && v != 6 {
			return "raw packet neither IPv4 nor IPv6"
		}
		ip = d
	}
	var proto uint8
	var avail, hl int // bytes after the IP header, in the datagram and in the frame; header length
	if v == 4 {
		switch {
		case len(ip) < 20:
			return "short IPv4 header"
		case ip[0] != 0x45:
			return "IPv4 options or bad header"
		case be16(ip[6:])&0x3fff != 0:
			return "IPv4 fragment"
		case be16(ip[2:]) < 20:
			return "IPv4 total length below 20"
		}
		proto, hl = ip[9], 20
		avail = int(be16(ip[2:])) - 20
	} else {
		switch {
		case len(ip) < 40:
			return "short IPv6 header"
		case be16(ip[4:]) == 0:
			return "IPv6 payload length 0"
		}
		proto, hl = ip[6], 40
		avail = int(be16(ip[4:]))
	}
	avail = min(avail, len(ip)-hl)
	if slices.Contains([]uint8{0, 43, 44, 60, 135, 139, 140}, proto) {
		return "IPv6 extension header"
	}
	if slices.Contains([]uint8{4, 41, 47, 51, 97, 115, 137}, proto) {
		return "tunnel or AH"
	}
	switch proto {
	case 6:
		if avail < 16 {
			return "short transport header"
		}
	case 17, 132:
		if avail < 8 {
			return "short transport header"
		}
	}
	if proto == 17 {
		if l := be16(ip[hl+4:]); l > 0 && l < 8 {
			return "UDP length below 8"
		}
		for _, port := range []uint16{be16(ip[hl:]), be16(ip[hl+2:])} {
			if slices.Contains([]uint16{4789, 8472, 4790, 6081, 2152, 1701, 3544}, port) {
				return "UDP tunnel port"
			}
		}
	}
	return ""
}

// bpfDiffExprs is the table of the BPF differential test: every form the
// compiler supports (host, net with prefixes, abbreviations and masks, port
// and portrange with names, protocols by keyword, number and name, src/dst
// and their combinations, ip/ip6 qualifiers, and/or/not with parentheses
// and qualifier inheritance), with addresses and ports that occur in the
// corpus so that many expressions accept some packets. Forms the parser
// refuses (tcp[13] & 2 != 0, tcp[tcpflags] & (tcp-syn|tcp-ack), arp,
// ether, len, comparisons) are not compiled and not listed; vlan, less and
// greater parse but are refused by CompileBPF and run in userspace only.
func bpfDiffExprs(tb testing.TB) []string {
	prims := []string{
		"ip", "ip6", "tcp", "udp", "icmp", "icmp6", "sctp", "igmp", "pim", "vrrp", "ah", "esp",
		"ip proto 47", "proto 89", "ip proto 0", "ip6 proto 0", "ip6 proto 58", "proto 33", "proto 88",
		`ip proto \ospf`, `proto \udp`, "ip proto 6", "ip6 proto 17", "proto 112", "proto 103",

		"host 127.0.0.1", "host 131.151.32.21", "host 10.0.0.1", "host 224.0.0.13", "host 172.16.1.1",
		"src host 131.151.1.59", "dst host 192.168.1.142", "src and dst host 127.0.0.1",
		"dst or src host 10.2.1.2", "ip host 10.0.0.2", "ip src 10.1.1.2", "dst 224.0.0.2",
		"host fe80::1", "host ff02::5", "host 10::2", "host ::1", "src host fe80::e091:f5ff:fecc:7abd",
		"dst host ff02::1:6", "ip6 host 3ffe::1", "src and dst host ::1", "ip6 dst ff02::d", "host ::",
		"host ::ffff:127.0.0.1",

		"net 10", "net 131.151", "net 192.168.1", "net 10.0.0.0/8", "net 131.151.0.0/16",
		"net 224.0.0.0/4", "net 172.16/12", "net 127.0.0.0/8", "net 0.0.0.0/0", "net 10.0.0.1/32",
		"net 10.0.0.1 mask 255.0.0.255", "net 192.168.0.0 mask 255.255.0.0", "src net 10.0.0.0/24",
		"dst net 224.0.0.0/24", "src and dst net 131.151.0.0/16", "ip net 192.168.0.0/16",
		"net fe80::/10", "net ff02::/16", "net 10::/16", "net ::1/128", "net ::/0", "net fe80::/64",
		"net fe80:0:0:0:8000::/65", "net 3ffe::/17", "src net fe80::/10", "dst net ff02::/16",
		"ip6 net 2001:db8::/32", "ip6 src and dst net fe80::/10",

		"port 22", "port 6633", "tcp port 6379", "udp port 53", "port 179", "tcp src port 443",
		"udp dst port 67", "src and dst port 123", "port 0", "udp port 0", "sctp port 2905",
		"port 0x1bb", "tcp dst or src port 22", "udp src port 1985", "port 4500", "dst port 6633",
		"port ssh", "port domain", "port https", "port bgp", "udp port bootps", "port ntp",
		"portrange 1-1024", "tcp portrange 6000-7000", "udp portrange 1985-1986", "src portrange 0-1023",
		"dst portrange 49152-65535", "portrange 0-65535", "udp portrange 7000-7003", "sctp portrange 1-10000",
		"portrange 7003-7000", "tcp src and dst portrange 1024-65535",
	}
	exprs := slices.Clone(prims)
	for _, p := range prims {
		exprs = append(exprs, "not "+p)
	}
	// Pairs across the table, deterministically spread.
	for i, p := range prims {
		q := prims[(i*37+11)%len(prims)]
		op := []string{"and", "or", "and not", "or not", "&&", "||"}[i%6]
		exprs = append(exprs, p+" "+op+" "+q)
	}
	exprs = append(exprs,
		"tcp and not port 22", "not port 22", "not tcp port 22", "not (tcp port 22)", "tcp or udp",
		"not (tcp or udp)", "ip and not tcp", "ip6 and udp", "tcp and host 131.151.32.21",
		"host 127.0.0.1 and port 6379", "src net 10 and dst net 10", "net 10 and not net 10.0.0.0/24",
		"(tcp port 6633 or tcp port 6653) and host 10.0.0.1", "udp and (port 53 or port 67 or port 123)",
		"icmp or icmp6", "not ip and not ip6", "ip6 and not icmp6", "(host 131.151.32.21 or host 131.151.1.59) and tcp",
		"tcp portrange 1-1024 and not port 22", "not (host 127.0.0.1 or net 10)", "host fe80::1 or host 10.0.0.1",
		"ip6 src net fe80::/10 and udp", "tcp dst port 179 or tcp src port 179",
		"port 22 or port 6633 or port 6379 or port 179 or port 443", "not not tcp", "!udp && !tcp", "tcp||icmp",
		"host 10.0.0.1 or 10.0.0.2 or 10.1.1.2", "tcp port 22 or 179 or 6633", "not host 127.0.0.1 and 10.0.0.1",
		"host 131.151.32.21 and (131.151.1.59 or 131.151.1.146)", "src 10.0.0.1 and not (10.0.0.2 or 10.0.0.20)",
		"net 10 or 131.151 or 192.168", "udp port 1985 or 53 and not host 224.0.0.2",
		"tcp and (port 22 or port 179) and not src net 10", "((tcp)) and ((not (port 22)))",
		"ip and (tcp or udp or icmp) and not (net 224.0.0.0/4 or net 127.0.0.0/8)",
		"ip6 and (tcp or udp) and not net fe80::/10", "tcp and dst portrange 1-1023 or udp and src portrange 1-1023",
		"not (ip6 or icmp or tcp) and not udp", "ip proto 47 or proto 4 or ip6 proto 41",
		"not port 22 and not port 6633 and not host 127.0.0.1",
		"src host 10.0.0.1 and dst host 10.0.0.2 or src host 10.0.0.2 and dst host 10.0.0.1",
	)
	exprs = append(exprs, filter.DiffExprs()...)
	// Each once, and only what CompileBPF compiles.
	seen := map[string]bool{}
	var out []string
	for _, s := range exprs {
		e, err := filter.Parse(s)
		if err != nil {
			tb.Fatalf("table expression %q: %v", s, err)
		}
		if seen[s] || filter.UsesFrameLevel(e) {
			continue
		}
		seen[s] = true
		out = append(out, s)
	}
	return out
}

// ipv4HostNet finds the unqualified IPv4 host and net primitives of a
// canonical expression (Expr.String).
var ipv4HostNet = regexp.MustCompile(`(^|[( ])(?:ip )?((?:src and dst |src |dst )?(?:host|net) [0-9]+\.)`)

// tcpdumpProgram compiles expr with tcpdump -ddd for the link type.
func tcpdumpProgram(td, expr string, link int) ([]bpf.RawInstruction, error) {
	dlt := "EN10MB"
	if link == filter.LinkTypeRaw {
		dlt = "RAW"
	}
	out, err := exec.Command(td, "-y", dlt, "-ddd", expr).Output()
	if err != nil {
		msg := ""
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			msg = strings.TrimSpace(string(ee.Stderr))
		}
		if !strings.Contains(msg, "rejects all packets") {
			return nil, fmt.Errorf("tcpdump -y %s -ddd %q: %v: %s", dlt, expr, err, msg)
		}
		// libpcap's optimizer refuses an always-false program; the
		// unoptimized one is as good to compare.
		if out, err = exec.Command(td, "-O", "-y", dlt, "-ddd", expr).Output(); err != nil {
			return nil, fmt.Errorf("tcpdump -O -y %s -ddd %q: %v", dlt, expr, err)
		}
	}
	return parseDDD(string(out))
}

type links[T any] [2]T // index 0: Ethernet, 1: raw IP

func linkIndex(link int) int {
	if link == filter.LinkTypeRaw {
		return 1
	}
	return 0
}

var linkNames = links[string]{"ethernet", "raw"}

type diffCase struct {
	expr   string
	e      *filter.Expr
	ours   links[[]bpf.RawInstruction]
	theirs links[[]bpf.RawInstruction]
	ipOnly []bpf.RawInstruction // Ethernet, host/net qualified with ip (nil if the same)
	err    error
}

// TestCompileBPFTcpdump is the differential test of issue #4: for every
// expression form CompileBPF compiles, the program it makes and the one
// tcpdump -ddd makes (libpcap's compiler and optimizer) are run over every
// Ethernet, raw IP and Linux cooked packet of the shared corpus and of the
// project's fixtures, and must accept and reject the same packets.
//
// Where they differ, the difference must be one of these, each checked
// mechanically, never assumed:
//
//   - The packet is one CompileBPF leaves to Match: VLAN-tagged and other
//     non-plain frames, IPv4 fragments, IPv6 extension headers, tunnels,
//     raw packets that are not IPv4 or IPv6 (see CompileBPF). Our program
//     accepts these whatever the expression; tcpdump's evaluates its byte
//     offsets on them. Checked: the program compiled from an expression
//     that is always false ("ip and not ip") accepts the packet.
//     The reasons are counted, and checked against leftToMatch.
//   - The capture holds only part of the packet (snap length), and
//     tcpdump's program read past its end, which rejects the packet. A
//     kernel socket filter always sees the whole packet, so this never
//     arises live. Checked: the interpreter reports the out-of-bounds load.
//     Our program never reads past the end: it leaves a packet too short
//     for its prologue to Match.
//   - An ARP or RARP frame with an IPv4 host or net primitive: tcpdump's
//     host and net also test ARP/RARP addresses, synscope's are IP-level
//     (documented in the package comment). Checked: tcpdump's program for
//     the same expression with every such primitive qualified with "ip"
//     gives our answer.
//
// It also checks, on every packet the capture holds whole, that the
// program is a pre-filter for Match on what analysis.Decoder decodes
// (Match accepts => the program accepts), and that on packets it does not
// leave to Match it gives Match's answer. One gap of analysis is bridged
// there, and counted: it does not decode SCTP ports, which "port" matches
// (see sctpPorts).
func TestCompileBPFTcpdump(t *testing.T) {
	td := filter.TcpdumpPath(t)
	pkts, files := loadBPFCorpus(t)
	exprs := bpfDiffExprs(t)

	cases := make([]diffCase, len(exprs))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 4)
	for i, s := range exprs {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			c := &cases[i]
			c.expr = s
			c.e, c.err = filter.Parse(s)
			if c.err != nil {
				return
			}
			for _, link := range []int{filter.LinkTypeEthernet, filter.LinkTypeRaw} {
				li := linkIndex(link)
				prog, err := c.e.CompileBPF(link, 262144)
				if err != nil {
					c.err = fmt.Errorf("CompileBPF(%q, %s): %w", s, linkNames[li], err)
					return
				}
				if c.ours[li], err = bpf.Assemble(prog); err != nil {
					c.err = err
					return
				}
				if c.theirs[li], err = tcpdumpProgram(td, s, link); err != nil {
					c.err = err
					return
				}
			}
			canon := c.e.String()
			if q := ipv4HostNet.ReplaceAllString(canon, "${1}ip ${2}"); q != canon {
				var err error
				if c.ipOnly, err = tcpdumpProgram(td, q, filter.LinkTypeEthernet); err != nil {
					c.err = err
				}
			}
		})
	}
	wg.Wait()

	// The packets CompileBPF leaves to Match, and why.
	probe := probePrograms(t)
	passed := make([]bool, len(pkts))
	var perLink links[int]
	reasons := map[string]int{}
	for i, p := range pkts {
		perLink[linkIndex(p.link)]++
		ok, _, err := runCBPF(probe[linkIndex(p.link)], p.data)
		if err != nil {
			t.Fatal(err)
		}
		passed[i] = ok
		why := leftToMatch(p.data, p.link)
		if ok != (why != "") {
			t.Errorf("%s (%s, % x): CompileBPF leaves it to Match: %v; its documentation: %q", p.name, linkNames[linkIndex(p.link)], p.data[:min(len(p.data), 64)], ok, why)
		}
		if ok {
			reasons[why]++
		}
	}

	var (
		pairs, agree, passDiff, truncDiff, arpDiff int
		matchPairs, exactPairs, sctpDiff           int
		failures                                   int
	)
	fail := func(format string, args ...any) {
		failures++
		if failures <= 40 {
			t.Errorf(format, args...)
		}
	}
	_, errServices := os.Stat("/etc/services")
	_, errProtocols := os.Stat("/etc/protocols")
	skipped := 0
	for _, c := range cases {
		if c.err != nil && (errServices != nil || errProtocols != nil) && strings.Contains(c.err.Error(), "tcpdump") {
			// tcpdump looks port and protocol names up there.
			t.Logf("%q: not compared: %v (/etc/services or /etc/protocols is missing)", c.expr, c.err)
			skipped++
			continue
		}
		if c.err != nil {
			fail("%q: %v", c.expr, c.err)
			continue
		}
		match := analysis.Matcher(c.e)
		for i, p := range pkts {
			li := linkIndex(p.link)
			ours, oobOurs, err := runCBPF(c.ours[li], p.data)
			if err != nil || oobOurs {
				t.Fatalf("%q on %s: our program: error %v, read out of bounds %v", c.expr, p.name, err, oobOurs)
			}
			theirs, oobTheirs, err := runCBPF(c.theirs[li], p.data)
			if err != nil {
				t.Fatalf("%q: tcpdump's program: %v", c.expr, err)
			}
			pairs++
			switch {
			case ours == theirs:
				agree++
			case passed[i]:
				passDiff++
				if !ours {
					fail("%q on %s (%s): left to Match, but our program rejects it", c.expr, p.name, linkNames[li])
				}
			case !p.complete && oobTheirs:
				truncDiff++
			case p.arp && c.ipOnly != nil:
				ipOnly, _, err := runCBPF(c.ipOnly, p.data)
				if err != nil {
					t.Fatalf("%q: tcpdump's ip-only program: %v", c.expr, err)
				}
				if ipOnly != ours {
					fail("%q (%s) on ARP %s: ours %v, tcpdump %v, tcpdump with ip host/net %v", c.expr, c.e, p.name, ours, theirs, ipOnly)
				}
				arpDiff++
			default:
				fail("%q (%s) on %s (%s, %d bytes): ours %v, tcpdump %v", c.expr, c.e, p.name, linkNames[li], len(p.data), ours, theirs)
			}

			if !p.complete {
				continue
			}
			matchPairs++
			m := match(p.pkt)
			if isSCTP(p.pkt) {
				f := matcherFields(p.pkt)
				if c.e.Match(&f) != m {
					t.Fatalf("%q on %s: matcherFields does not give analysis.Matcher's fields", c.expr, p.name)
				}
				if sctpPorts(&f, p.pkt, p.frame) {
					if m2 := c.e.Match(&f); m2 != m {
						sctpDiff++
						m = m2
					}
				}
			}
			if m && !ours {
				fail("%q (%s) on %s (%s): Match accepts it, our program rejects it: not a pre-filter", c.expr, c.e, p.name, linkNames[li])
			}
			if !passed[i] {
				exactPairs++
				if m != ours {
					fail("%q (%s) on %s (%s): exact frame, Match %v, our program %v", c.expr, c.e, p.name, linkNames[li], m, ours)
				}
			}
		}
	}
	if failures > 40 {
		t.Errorf("... %d failures in all", failures)
	}
	nPassed := 0
	var why []string
	for r, n := range reasons {
		nPassed += n
		why = append(why, fmt.Sprintf("%s %d", r, n))
	}
	slices.Sort(why)
	t.Logf("%d expressions x %d packets (%d ethernet, %d raw/cooked) from %d files: %d (expression, packet) pairs compared with tcpdump",
		len(cases)-skipped, len(pkts), perLink[0], perLink[1], len(files), pairs)
	t.Logf("%d packets left to Match: %s", nPassed, strings.Join(why, ", "))
	t.Logf("same answer %d; differ on packets left to Match %d, on truncated packets %d, on ARP/RARP (host/net) %d", agree, passDiff, truncDiff, arpDiff)
	t.Logf("%d pairs on whole packets checked against Match (pre-filter), %d of them exact; %d with SCTP ports, which analysis does not decode", matchPairs, exactPairs, sctpDiff)

	crossCheckVM(t, cases, pkts)
}

// isSCTP reports an SCTP packet whose ports analysis.Decoder left out.
func isSCTP(p *analysis.Packet) bool {
	return p.IPVersion != 0 && p.Proto == 132 && !p.HasTCP && p.SrcPort == 0 && p.DstPort == 0
}

// matcherFields builds the Fields analysis.Matcher gives Match (the test
// checks that it does, on every packet it is used on).
func matcherFields(p *analysis.Packet) filter.Fields {
	return filter.Fields{
		VLANs: p.VLAN, NVLAN: p.NVLAN, IPVersion: int(p.IPVersion), Src: p.Src, Dst: p.Dst, Proto: p.Proto,
		HasPorts: p.HasTCP || p.Proto == 17, SrcPort: p.SrcPort, DstPort: p.DstPort, Length: p.WireLen,
		Outer: p.Outer,
	}
}

// sctpPorts puts into f the ports of p's SCTP header, which
// analysis.Decoder does not decode: with them, Match answers as the filter
// package documents ("port" matches TCP, UDP and SCTP) and as CompileBPF's
// program does. It reports false when the header is not there.
func sctpPorts(f *filter.Fields, p *analysis.Packet, frame []byte) bool {
	ip := p.IPOffset
	if ip < 0 || ip >= len(frame) {
		return false
	}
	hl := 40
	if p.IPVersion == 4 {
		hl = int(frame[ip]&0xf) * 4
	}
	at := ip + hl
	if at+4 > len(frame) {
		return false
	}
	f.HasPorts = true
	f.SrcPort = uint16(frame[at])<<8 | uint16(frame[at+1])
	f.DstPort = uint16(frame[at+2])<<8 | uint16(frame[at+3])
	return true
}

// crossCheckVM runs both programs of every case in x/net/bpf's VM on a
// deterministic sample of the packets, as a check of runCBPF.
func crossCheckVM(t *testing.T, cases []diffCase, pkts []corpusPacket) {
	n := 0
	for _, c := range cases {
		if c.err != nil {
			continue
		}
		for _, which := range []links[[]bpf.RawInstruction]{c.ours, c.theirs} {
			var vms links[*bpf.VM]
			for li, raw := range which {
				prog, ok := bpf.Disassemble(raw)
				if !ok {
					t.Fatalf("%q: %s program does not disassemble", c.expr, linkNames[li])
				}
				vm, err := bpf.NewVM(prog)
				if err != nil {
					t.Fatalf("%q: bpf.NewVM: %v", c.expr, err)
				}
				vms[li] = vm
			}
			for i := 0; i < len(pkts); i += 53 {
				p := pkts[i]
				li := linkIndex(p.link)
				got, _, _ := runCBPF(which[li], p.data)
				ret, err := vms[li].Run(p.data)
				if err != nil {
					t.Fatalf("%q on %s: VM: %v", c.expr, p.name, err)
				}
				if (ret != 0) != got {
					t.Fatalf("%q on %s: x/net/bpf accepts %v, runCBPF %v", c.expr, p.name, ret != 0, got)
				}
				n++
			}
		}
	}
	t.Logf("runCBPF agrees with x/net/bpf's VM on %d sampled (program, packet) runs", n)
}
