package filter

import (
	"errors"
	"strings"
	"testing"

	"golang.org/x/net/bpf"
)

var fuzzSeeds = []string{
	"", "tcp", "host 10.0.0.1", "host 1.2.3.4 or 5.6.7.8", "port 80 or 443",
	"tcp and not port 22 and (host 10.0.0.1 or net 192.168.0.0/16)",
	"not port 22 and host 10.0.0.1", "tcp or udp and icmp", "host 1.1.1.1 and (port 80) or 2.2.2.2",
	"not host 1.1.1.1 or 2.2.2.2", "host 1.1.1.1 or (2.2.2.2 and not 3.3.3.3)",
	"net 10", "net 10.1/16", "net 10.0.0.0 mask 255.0.255.0", "ip6 net 2001:db8::/32",
	"udp src portrange 1-1024", "port http", "src and dst port 123", "proto \\tcp", "ip proto 6 or 17",
	"vlan 100 and vlan 200 and host 10.0.0.1", "vlan and vlan and vlan and vlan and vlan",
	"less 100 or greater 1500", "host ::ffff:1.2.3.4", "tcp[13] & 2 != 0", "ether host 1:2:3:4:5:6",
	"((tcp) or (udp))", "!(tcp||udp)&&icmp", "dst or src host 10.0.0.1", "host fe80::1%eth0",
	"port 010", "net 0x0a", "host é", "(((", ")))", "net 10.0.0.0 / 8 or 172.16 / 12",
}

// FuzzParse checks that Parse never panics, that its errors are one line,
// and that the canonical form parses back to the same canonical form and to
// an expression that accepts the same packets.
func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	for _, tc := range diffExprs {
		f.Add(tc.expr)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := Parse(s)
		if err != nil {
			msg := err.Error()
			if !strings.HasPrefix(msg, "filter: ") || strings.ContainsAny(msg, "\n\r") {
				t.Fatalf("Parse(%q): bad error %q", s, msg)
			}
			return
		}
		c := e.String()
		e2, err := Parse(c)
		if err != nil {
			t.Fatalf("Parse(%q) = %q, which does not parse: %v", s, c, err)
		}
		if c2 := e2.String(); c2 != c {
			t.Fatalf("Parse(%q) = %q, which parses to %q", s, c, c2)
		}
		for _, mf := range matchFields {
			f := mf.f
			if a, b := e.Match(&f), e2.Match(&f); a != b {
				t.Fatalf("%q and its canonical form %q differ on %s: %v, %v", s, c, mf.name, a, b)
			}
		}
	})
}

// FuzzCompileBPF checks that every parsed expression compiles (or is
// refused as too long, or for using vlan, less or greater) and that the program agrees with Match on the plain
// frames of the differential capture and accepts the others when Match does.
func FuzzCompileBPF(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	for _, tc := range diffExprs {
		f.Add(tc.expr)
	}
	var frames [][]byte
	var fields []Fields
	for _, tp := range bpfPackets {
		data := tp.build(f)
		frames = append(frames, data)
		fields = append(fields, tp.fields(len(data)))
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := Parse(s)
		if err != nil {
			return
		}
		prog, err := e.CompileBPF(LinkTypeEthernet, 65535)
		if errors.Is(err, ErrNotCompiled) {
			return
		}
		if err != nil {
			t.Fatalf("CompileBPF(%q): %v", s, err)
		}
		vm, err := bpf.NewVM(prog)
		if err != nil {
			t.Fatalf("CompileBPF(%q): bpf.NewVM: %v", s, err)
		}
		for i, tp := range bpfPackets {
			n, err := vm.Run(frames[i])
			if err != nil {
				t.Fatalf("%q on %q: %v", s, tp.name, err)
			}
			got, want := n != 0, e.Match(&fields[i])
			if exactOn(tp) && got != want || want && !got {
				t.Fatalf("%q (%s) on %q: BPF %v, Match %v", s, e, tp.name, got, want)
			}
		}
	})
}
