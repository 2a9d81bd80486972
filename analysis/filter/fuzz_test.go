package filter_test

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/layers"
	"golang.org/x/net/bpf"

	"github.com/synscope/synscope/analysis"
	"github.com/synscope/synscope/analysis/filter"
	"github.com/synscope/synscope/capture"
)

// corpusExprs derives from the packets of the corpus and the fixtures the
// expressions an engineer types to isolate a conversation, as in the
// incident ("host A and host B and port P and port Q").
func corpusExprs(pkts []corpusPacket) []string {
	exprs := []string{"host 10.110.233.50 and host 172.16.1.1 and port 50183 and port 443"}
	n := 0
	for i, c := range pkts {
		p := c.pkt
		if p.IPVersion == 0 || i%7 != 0 {
			continue
		}
		bits := 24
		if p.IPVersion == 6 {
			bits = 64
		}
		src, dst := p.Src.String(), p.Dst.String()
		hasPorts := p.HasTCP || p.Proto == 17
		switch n++; n % 5 {
		case 0:
			if hasPorts {
				exprs = append(exprs, fmt.Sprintf("host %s and host %s and port %d and port %d", src, dst, p.SrcPort, p.DstPort))
			} else {
				exprs = append(exprs, fmt.Sprintf("host %s and host %s", src, dst))
			}
		case 1:
			exprs = append(exprs, fmt.Sprintf("src %s and dst %s and proto %d", src, dst, p.Proto))
		case 2:
			exprs = append(exprs, fmt.Sprintf("net %s or dst net %s", netip.PrefixFrom(p.Src, bits).Masked(), netip.PrefixFrom(p.Dst, bits).Masked()))
		case 3:
			if hasPorts {
				exprs = append(exprs, fmt.Sprintf("not (host %s or %s) and not port %d", src, dst, p.DstPort))
			}
		case 4:
			if p.HasTCP {
				exprs = append(exprs, fmt.Sprintf("tcp and (src port %d or dst portrange %d-%d)", p.SrcPort, p.DstPort, p.DstPort+10))
			}
		}
	}
	return exprs
}

// FuzzParse checks that Parse never panics, that its errors are one line,
// and that the canonical form parses back to the same canonical form and to
// an expression that accepts the same packets. It is seeded with every
// expression of the package's tests and with expressions built from the
// conversations of the corpus and the fixtures.
func FuzzParse(f *testing.F) {
	pkts, _ := loadBPFCorpus(f)
	for _, s := range filter.AllTestExpressions() {
		f.Add(s)
	}
	for _, s := range bpfDiffExprs(f) {
		f.Add(s)
	}
	for _, s := range corpusExprs(pkts) {
		f.Add(s)
	}
	fields := filter.MatchFieldsTable()
	f.Fuzz(func(t *testing.T, s string) {
		e, err := filter.Parse(s)
		if err != nil {
			msg := err.Error()
			if !strings.HasPrefix(msg, "filter: ") || strings.ContainsAny(msg, "\n\r") {
				t.Fatalf("Parse(%q): bad error %q", s, msg)
			}
			return
		}
		c := e.String()
		e2, err := filter.Parse(c)
		if err != nil {
			t.Fatalf("Parse(%q) = %q, which does not parse: %v", s, c, err)
		}
		if c2 := e2.String(); c2 != c {
			t.Fatalf("Parse(%q) = %q, which parses to %q", s, c, c2)
		}
		for i := range fields {
			if a, b := e.Match(&fields[i]), e2.Match(&fields[i]); a != b {
				t.Fatalf("%q and its canonical form %q differ on match test packet %d: %v, %v", s, c, i, a, b)
			}
		}
	})
}

// FuzzCompileBPF fuzzes an expression and a packet together. Every parsed
// expression compiles, or is refused for using vlan, less or greater, or
// for being too long; the program never reads outside the packet; x/net/bpf's
// VM gives the same answer; and on what analysis.Decoder decodes from the
// packet the program is a pre-filter for Match (Match accepts => the
// program accepts), exact on the packets it does not leave to Match. It is
// seeded with the packets of the fixtures, a sample of the corpus's, and
// the hand-built frames of the BPF tests, each with an expression.
func FuzzCompileBPF(f *testing.F) {
	pkts, _ := loadBPFCorpus(f)
	exprs := append(bpfDiffExprs(f), filter.AllTestExpressions()...)
	k := 0
	add := func(frame []byte, raw bool) {
		f.Add(exprs[k%len(exprs)], frame, raw)
		k++
	}
	for i, p := range pkts {
		if p.fixture || i%25 == 0 {
			add(p.data, p.link == filter.LinkTypeRaw)
		}
	}
	for _, fr := range filter.BPFTestFrames(f) {
		add(fr, false)
		add(fr[14:], true)
	}
	probe := probePrograms(f)
	f.Fuzz(func(t *testing.T, expr string, frame []byte, raw bool) {
		checkPrefilter(t, expr, frame, raw, probe)
	})
}

// probePrograms compiles an expression that is always false: its program
// accepts exactly the packets CompileBPF leaves to Match.
func probePrograms(tb testing.TB) links[[]bpf.RawInstruction] {
	never, err := filter.Parse("ip and not ip")
	if err != nil {
		tb.Fatal(err)
	}
	var probe links[[]bpf.RawInstruction]
	for _, link := range []int{filter.LinkTypeEthernet, filter.LinkTypeRaw} {
		prog, err := never.CompileBPF(link, 0)
		if err != nil {
			tb.Fatal(err)
		}
		if probe[linkIndex(link)], err = bpf.Assemble(prog); err != nil {
			tb.Fatal(err)
		}
	}
	return probe
}

func checkPrefilter(t *testing.T, expr string, frame []byte, raw bool, probe links[[]bpf.RawInstruction]) {
	e, err := filter.Parse(expr)
	if err != nil {
		return
	}
	link, lt := filter.LinkTypeEthernet, layers.LinkTypeEthernet
	if raw {
		link, lt = filter.LinkTypeRaw, layers.LinkTypeRaw
	}
	prog, err := e.CompileBPF(link, 0)
	switch {
	case filter.UsesFrameLevel(e):
		if !errors.Is(err, filter.ErrNotCompiled) {
			t.Fatalf("CompileBPF(%q) = %d instructions, %v; want ErrNotCompiled", expr, len(prog), err)
		}
		return
	case errors.Is(err, filter.ErrNotCompiled):
		if !strings.Contains(err.Error(), "instructions") {
			t.Fatalf("CompileBPF(%q): %v", expr, err)
		}
		return
	case err != nil:
		t.Fatalf("CompileBPF(%q): %v", expr, err)
	}
	rawProg, err := bpf.Assemble(prog)
	if err != nil {
		t.Fatalf("CompileBPF(%q): bpf.Assemble: %v", expr, err)
	}
	ours, oob, err := runCBPF(rawProg, frame)
	if err != nil || oob {
		t.Fatalf("%q on % x: error %v, read out of bounds %v", expr, frame, err, oob)
	}
	vm, err := bpf.NewVM(prog)
	if err != nil {
		t.Fatalf("CompileBPF(%q): bpf.NewVM: %v", expr, err)
	}
	if n, err := vm.Run(frame); err != nil || (n != 0) != ours {
		t.Fatalf("%q on % x: x/net/bpf returns %d, %v; runCBPF accepts %v", expr, frame, n, err, ours)
	}
	passed, _, _ := runCBPF(probe[linkIndex(link)], frame)
	if passed && !ours {
		t.Fatalf("%q (%s) on % x: left to Match, but the program rejects it", expr, e, frame)
	}

	rec := capture.Record{Frame: 1, CapLen: uint32(len(frame)), OrigLen: uint32(len(frame)), LinkType: lt, Data: frame}
	var p analysis.Packet
	analysis.NewDecoder().Decode(&rec, &p)
	m := true
	if match := analysis.Matcher(e); match != nil {
		m = match(&p)
	}
	if isSCTP(&p) {
		f := matcherFields(&p)
		if e.Match(&f) != m {
			t.Fatalf("%q on % x: matcherFields does not give analysis.Matcher's fields", expr, frame)
		}
		if sctpPorts(&f, &p, frame) {
			m = e.Match(&f)
		}
	}
	if m && !ours {
		t.Fatalf("%q (%s, %s) on % x: Match accepts it, the program rejects it: not a pre-filter", expr, e, linkNames[linkIndex(link)], frame)
	}
	if !passed && m != ours {
		t.Fatalf("%q (%s, %s) on % x: not left to Match, but Match %v, the program %v", expr, e, linkNames[linkIndex(link)], frame, m, ours)
	}
}

// TestCompileBPFDecoderCorners pins the packets on which the decoder's
// fields differ from a header's face value, each of which a fuzz run or
// the corpus found: the program must leave them to Match.
func TestCompileBPFDecoderCorners(t *testing.T) {
	eth := func(et uint16, payload ...byte) []byte {
		return append([]byte{2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, byte(et >> 8), byte(et)}, payload...)
	}
	// An IPv4 header with protocol p and total length l, then TCP or UDP
	// ports 34567 -> 22 and 16 more bytes.
	ip4 := func(first byte, flags uint16, l uint16, p byte) []byte {
		h := []byte{first, 0, byte(l >> 8), byte(l), 0, 1, byte(flags >> 8), byte(flags), 64, p, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2}
		h = append(h, 0x87, 0x07, 0, 22, 0, 20, 0, 0)
		return append(h, make([]byte, 16)...)
	}
	tests := []struct {
		name  string
		frame []byte
		why   string
	}{
		{"EtherType 0xffff (gopacket: raw IPv4)", eth(0xffff, ip4(0x45, 0, 44, 6)...), "EtherType 0x6558 or 0xffff"},
		{"EtherType 0x6558 (bridged Ethernet)", eth(0x6558, eth(0x0800, ip4(0x45, 0, 44, 6)...)...), "EtherType 0x6558 or 0xffff"},
		{"IPv4 protocol 44 (IPv6 fragment header)", eth(0x0800, ip4(0x45, 0, 44, 44)...), "IPv6 extension header"},
		{"IPv4 protocol 0 (hop-by-hop)", eth(0x0800, ip4(0x45, 0, 44, 0)...), "IPv6 extension header"},
		{"IPv4 first fragment", eth(0x0800, ip4(0x45, 0x2000, 44, 6)...), "IPv4 fragment"},
		{"IPv4 last fragment", eth(0x0800, ip4(0x45, 0x0003, 44, 17)...), "IPv4 fragment"},
		{"IPv4 header length 16", eth(0x0800, ip4(0x44, 0, 44, 6)...), "IPv4 options or bad header"},
		{"IPv4 total length 19", eth(0x0800, ip4(0x45, 0, 19, 6)...), "IPv4 total length below 20"},
		{"IPv4 total length 0 (segmentation offload)", eth(0x0800, ip4(0x45, 0, 0, 6)...), "IPv4 total length below 20"},
		{"TCP of 12 bytes", eth(0x0800, ip4(0x45, 0, 32, 6)...), "short transport header"},
		{"UDP length 5", eth(0x0800, ip4(0x45, 0, 44, 17)...), "UDP length below 8"},
		{"runt frame", eth(0x0800)[:13], "runt frame"},
		{"short IPv4 header", eth(0x0800, ip4(0x45, 0, 44, 6)[:19]...), "short IPv4 header"},
	}
	probe := probePrograms(t)
	for _, tt := range tests {
		if tt.name == "UDP length 5" {
			tt.frame[14+20+5] = 5
		}
		if got := leftToMatch(tt.frame, filter.LinkTypeEthernet); got != tt.why {
			t.Errorf("%s: leftToMatch = %q, want %q", tt.name, got, tt.why)
		}
		if passed, _, _ := runCBPF(probe[0], tt.frame); !passed {
			t.Errorf("%s: not left to Match", tt.name)
		}
		for _, expr := range []string{"tcp", "not tcp", "port 22", "not port 22", "udp port 0", "host 10.0.0.1", "not ip"} {
			checkPrefilter(t, expr, tt.frame, false, probe)
		}
	}
}
