package filter

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"golang.org/x/net/bpf"
)

// plainPacket reports whether CompileBPF's program is exact on tp (see
// CompileBPF): untagged, not a fragment, no tunnel.
func plainPacket(tp testPacket) bool {
	if len(tp.vlans) > 0 || tp.fragOff != 0 {
		return false // tagged frames and fragments are left to Match
	}
	if slices.Contains([]uint8{4, 41, 47, 51, 97, 115, 137}, tp.proto) {
		return false
	}
	if tp.ipver != 0 && slices.Contains([]uint8{0, 43, 44, 60, 135, 139, 140}, tp.proto) {
		return false
	}
	if tp.proto == 17 && tp.fragOff == 0 {
		for _, p := range []uint16{4789, 8472, 4790, 6081, 2152, 1701, 3544} {
			if tp.sport == p || tp.dport == p {
				return false
			}
		}
	}
	return true
}

// exactOn reports whether CompileBPF's program must agree with Match on tp;
// elsewhere it must accept tp.
func exactOn(tp testPacket) bool {
	return !tp.tpid9100 && plainPacket(tp)
}

func bpfExprs() []string {
	var exprs []string
	for _, tc := range diffExprs {
		exprs = append(exprs, tc.expr)
	}
	exprs = append(exprs, fuzzSeeds...)
	exprs = append(exprs,
		"", "net 0.0.0.0/0", "net ::/0", "net 2001:db8::/33", "net 2001:db8:0:0:8000::/65",
		"src and dst portrange 0-65535", "not vlan 100", "vlan and vlan and vlan and vlan 4",
		"less 0", "greater 4294967295", "host 10.0.0.1 and vlan", "vlan or host 10.0.0.1",
	)
	return exprs
}

// runBPF runs prog on data in x/net/bpf's virtual machine.
func runBPF(t *testing.T, prog []bpf.Instruction, data []byte) bool {
	t.Helper()
	vm, err := bpf.NewVM(prog)
	if err != nil {
		t.Fatalf("bpf.NewVM: %v", err)
	}
	n, err := vm.Run(data)
	if err != nil {
		t.Fatalf("bpf VM: %v", err)
	}
	return n != 0
}

// TestCompileBPF runs the compiled program over the differential capture:
// it must agree with Match on plain frames and accept every frame Match
// accepts.
func TestCompileBPF(t *testing.T) {
	var frames [][]byte
	var fields []Fields
	for _, tp := range bpfPackets {
		data := tp.build(t)
		frames = append(frames, data)
		fields = append(fields, tp.fields(len(data)))
	}
	exact, superset := 0, 0
	for _, s := range bpfExprs() {
		e, err := Parse(s)
		if err != nil {
			continue // the error seeds
		}
		prog, err := e.CompileBPF(LinkTypeEthernet, 65535)
		if frameLevel(e.root) != "" {
			if !errors.Is(err, ErrNotCompiled) {
				t.Errorf("CompileBPF(%q) = %d instructions, %v; want ErrNotCompiled (vlan, less, greater)", s, len(prog), err)
			}
			continue
		}
		if err != nil {
			t.Errorf("CompileBPF(%q): %v", s, err)
			continue
		}
		for i, tp := range bpfPackets {
			ours := e.Match(&fields[i])
			got := runBPF(t, prog, frames[i])
			if exactOn(tp) {
				exact++
				if got != ours {
					t.Errorf("%q on %q: BPF %v, Match %v", s, tp.name, got, ours)
				}
			} else {
				superset++
				// Non-plain frames are left to Match.
				if !got {
					t.Errorf("%q on non-plain %q: BPF rejects it (Match %v); it must leave it to Match", s, tp.name, ours)
				}
			}
		}

		// The same packets as raw IP.
		rawProg, err := e.CompileBPF(LinkTypeRaw, 65535)
		if err != nil {
			t.Errorf("CompileBPF(%q, raw): %v", s, err)
			continue
		}
		for i, tp := range bpfPackets {
			if len(tp.vlans) > 0 || tp.ipver == 0 {
				continue
			}
			f := fields[i]
			f.Length -= 14
			ours := e.Match(&f)
			got := runBPF(t, rawProg, frames[i][14:])
			if plainPacket(tp) {
				if got != ours {
					t.Errorf("%q on raw %q: BPF %v, Match %v", s, tp.name, got, ours)
				}
			} else if !got {
				t.Errorf("%q on raw non-plain %q: BPF rejects it", s, tp.name)
			}
		}
	}
	t.Logf("%d exact and %d pass-to-Match (expression, frame) checks", exact, superset)
}

func TestCompileBPFEmptyAndErrors(t *testing.T) {
	e, _ := Parse("")
	prog, err := e.CompileBPF(LinkTypeEthernet, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(prog) != 1 || prog[0] != (bpf.RetConstant{Val: 262144}) {
		t.Errorf("empty filter compiles to %v, want [ret #262144]", prog)
	}
	e, _ = Parse("tcp")
	if _, err := e.CompileBPF(113, 65535); !errors.Is(err, ErrNotCompiled) || !strings.Contains(err.Error(), "link type 113 is not in compiled subset") {
		t.Errorf("linux cooked link type: err = %v", err)
	}
	// More than the kernel's 4096 instructions.
	var b strings.Builder
	b.WriteString("host 2001:db8::1")
	for i := 2; i < 400; i++ {
		fmt.Fprintf(&b, " or 2001:db8::%x", i)
	}
	e, err = Parse(b.String())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.CompileBPF(LinkTypeEthernet, 65535); !errors.Is(err, ErrNotCompiled) {
		t.Errorf("huge expression: err = %v, want ErrNotCompiled", err)
	}
}

// TestCompileBPFLongJumps checks expressions whose jumps exceed the 255
// instructions a conditional BPF jump can skip.
func TestCompileBPFLongJumps(t *testing.T) {
	var hosts []string
	for i := 0; i < 150; i++ {
		hosts = append(hosts, fmt.Sprintf("192.0.2.%d", i))
	}
	for _, s := range []string{
		"host " + strings.Join(hosts, " or ") + " or 10.0.0.1",
		"tcp and not (host " + strings.Join(hosts, " or ") + ") and port 80",
		"not host " + strings.Join(hosts, " and not ") + " and not 8.8.8.8",
	} {
		e, err := Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		prog, err := e.CompileBPF(LinkTypeEthernet, 65535)
		if err != nil {
			t.Fatal(err)
		}
		if len(prog) < 300 {
			t.Fatalf("program of %d instructions is too short to test long jumps", len(prog))
		}
		for i, tp := range bpfPackets {
			data := tp.build(t)
			f := tp.fields(len(data))
			if got, want := runBPF(t, prog, data), e.Match(&f); exactOn(tp) && got != want || !exactOn(tp) && !got {
				t.Errorf("%.40q... on frame %d %q: BPF %v, Match %v", s, i, tp.name, got, want)
			}
		}
		attachToSocket(t, prog)
	}
}

// TestCompileBPFKernelAccepts attaches compiled programs to a socket, so
// that the kernel's classic BPF checker validates them.
func TestCompileBPFKernelAccepts(t *testing.T) {
	for _, s := range bpfExprs() {
		e, err := Parse(s)
		if err != nil {
			continue
		}
		for _, lt := range []int{LinkTypeEthernet, LinkTypeRaw} {
			prog, err := e.CompileBPF(lt, 65535)
			if errors.Is(err, ErrNotCompiled) && frameLevel(e.root) != "" {
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			attachToSocket(t, prog)
		}
	}
}

// TestCompileBPFRefusesFrameLevel checks that vlan, less and greater, which
// a Linux socket filter cannot evaluate (the kernel takes VLAN tags out of
// the frame before the filter runs), are refused wherever they appear, so
// that they run in userspace only, and that the rest still compiles.
func TestCompileBPFRefusesFrameLevel(t *testing.T) {
	for _, s := range []string{
		"vlan", "vlan 100", "not vlan", "vlan and tcp port 80", "tcp port 80 and vlan 10",
		"less 100", "greater 1500", "host 10.0.0.1 or less 64", "not (port 22 or greater 9000)",
		"vlan and vlan 200 and udp",
	} {
		e, err := Parse(s)
		if err != nil {
			t.Fatalf("Parse(%q): %v", s, err)
		}
		for _, lt := range []int{LinkTypeEthernet, LinkTypeRaw} {
			prog, err := e.CompileBPF(lt, 65535)
			if !errors.Is(err, ErrNotCompiled) || prog != nil {
				t.Errorf("CompileBPF(%q, %d) = %d instructions, %v; want ErrNotCompiled", s, lt, len(prog), err)
			}
		}
		if _, err := e.CompileBPF(LinkTypeEthernet, 65535); err == nil || !strings.Contains(err.Error(), "VLAN tags") {
			t.Errorf("CompileBPF(%q): error %q does not say why", s, err)
		} else if lengths := strings.Contains(err.Error(), `"less"`) || strings.Contains(err.Error(), `"greater"`); lengths != strings.Contains(err.Error(), "length there is 4 bytes short") {
			// Said of less and greater, the reason read as one about
			// VLANs, not lengths.
			t.Errorf("CompileBPF(%q): error %q", s, err)
		}
	}
	for _, s := range []string{"", "tcp port 80", "not port 22", "host 10.0.0.1 and (tcp or udp)", "ip6 and net 2001:db8::/32"} {
		e, err := Parse(s)
		if err != nil {
			t.Fatalf("Parse(%q): %v", s, err)
		}
		if _, err := e.CompileBPF(LinkTypeEthernet, 65535); err != nil {
			t.Errorf("CompileBPF(%q): %v", s, err)
		}
	}
}
