package filter_test

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/net/bpf"
)

// runCBPF runs a classic BPF program on pkt as libpcap's bpf_filter and the
// Linux kernel do, and reports whether it accepted the packet (returned a
// non-zero length) and whether it was cut short by a load outside the
// packet (which rejects it). x/net/bpf's VM answers the first question but
// not the second, which the differential test needs to tell a difference
// caused by a capture's snap length from a real one.
//
// Division or modulo by a zero X rejects the packet, as in the kernel.
// Extension loads (ancillary data, k >= 0xfffff000) are refused with an
// error: neither CompileBPF nor tcpdump -y emits them for the expressions
// compared.
func runCBPF(prog []bpf.RawInstruction, pkt []byte) (accept, oob bool, err error) {
	var a, x uint32
	var mem [16]uint32
	n := uint32(len(pkt))
	load := func(off uint32, size uint32) (uint32, bool) {
		if off >= 0xfffff000 {
			return 0, false
		}
		if uint64(off)+uint64(size) > uint64(n) {
			return 0, false
		}
		switch size {
		case 1:
			return uint32(pkt[off]), true
		case 2:
			return uint32(pkt[off])<<8 | uint32(pkt[off+1]), true
		}
		return uint32(pkt[off])<<24 | uint32(pkt[off+1])<<16 | uint32(pkt[off+2])<<8 | uint32(pkt[off+3]), true
	}
	size := func(op uint16) uint32 {
		switch op & 0x18 {
		case 0x10:
			return 1
		case 0x08:
			return 2
		}
		return 4
	}
	for pc := 0; pc < len(prog); pc++ {
		in := prog[pc]
		k := in.K
		switch in.Op & 0x07 {
		case 0x00, 0x01: // LD, LDX
			var v uint32
			switch mode := in.Op & 0xe0; mode {
			case 0x00: // IMM
				v = k
			case 0x20, 0x40: // ABS, IND
				if k >= 0xfffff000 {
					return false, false, fmt.Errorf("instruction %d: extension load %#x", pc, k)
				}
				off := k
				if mode == 0x40 {
					if uint64(x)+uint64(k) > 0xffffffff {
						return false, true, nil
					}
					off = x + k
				}
				var ok bool
				if v, ok = load(off, size(in.Op)); !ok {
					return false, true, nil
				}
			case 0x60: // MEM
				if k >= 16 {
					return false, false, fmt.Errorf("instruction %d: scratch word %d", pc, k)
				}
				v = mem[k]
			case 0x80: // LEN
				v = n
			case 0xa0: // MSH: 4*(P[k]&0xf), LDX B only
				if in.Op != 0xb1 {
					return false, false, fmt.Errorf("instruction %d: bad opcode %#x", pc, in.Op)
				}
				b, ok := load(k, 1)
				if !ok {
					return false, true, nil
				}
				v = 4 * (b & 0xf)
			default:
				return false, false, fmt.Errorf("instruction %d: bad opcode %#x", pc, in.Op)
			}
			if in.Op&0x07 == 0x00 {
				a = v
			} else {
				x = v
			}
		case 0x02, 0x03: // ST, STX
			if k >= 16 {
				return false, false, fmt.Errorf("instruction %d: scratch word %d", pc, k)
			}
			if in.Op&0x07 == 0x02 {
				mem[k] = a
			} else {
				mem[k] = x
			}
		case 0x04: // ALU
			v := k
			if in.Op&0x08 != 0 {
				v = x
			}
			switch in.Op & 0xf0 {
			case 0x00:
				a += v
			case 0x10:
				a -= v
			case 0x20:
				a *= v
			case 0x30:
				if v == 0 {
					return false, false, nil
				}
				a /= v
			case 0x40:
				a |= v
			case 0x50:
				a &= v
			case 0x60:
				a <<= v & 31
				if v >= 32 {
					a = 0
				}
			case 0x70:
				a >>= v & 31
				if v >= 32 {
					a = 0
				}
			case 0x80:
				a = -a
			case 0x90:
				if v == 0 {
					return false, false, nil
				}
				a %= v
			case 0xa0:
				a ^= v
			default:
				return false, false, fmt.Errorf("instruction %d: bad opcode %#x", pc, in.Op)
			}
		case 0x05: // JMP
			v := k
			if in.Op&0x08 != 0 {
				v = x
			}
			var cond bool
			switch in.Op & 0xf0 {
			case 0x00: // JA
				pc += int(k)
				if pc >= len(prog) {
					return false, false, fmt.Errorf("instruction %d: jump past the end", pc-int(k))
				}
				continue
			case 0x10:
				cond = a == v
			case 0x20:
				cond = a > v
			case 0x30:
				cond = a >= v
			case 0x40:
				cond = a&v != 0
			default:
				return false, false, fmt.Errorf("instruction %d: bad opcode %#x", pc, in.Op)
			}
			skip := int(in.Jf)
			if cond {
				skip = int(in.Jt)
			}
			if pc+skip+1 >= len(prog) {
				return false, false, fmt.Errorf("instruction %d: jump past the end", pc)
			}
			pc += skip
		case 0x06: // RET
			v := k
			switch in.Op & 0x18 {
			case 0x10:
				v = a
			case 0x00:
			default:
				return false, false, fmt.Errorf("instruction %d: bad opcode %#x", pc, in.Op)
			}
			return v != 0, false, nil
		case 0x07: // MISC
			switch in.Op & 0xf8 {
			case 0x00:
				x = a
			case 0x80:
				a = x
			default:
				return false, false, fmt.Errorf("instruction %d: bad opcode %#x", pc, in.Op)
			}
		}
	}
	return false, false, errors.New("program runs off its end")
}

// parseDDD reads tcpdump -ddd output: the instruction count, then one
// "code jt jf k" line per instruction, in decimal.
func parseDDD(out string) ([]bpf.RawInstruction, error) {
	lines := strings.Split(strings.TrimSpace(out), "\n")
	n, err := strconv.Atoi(strings.TrimSpace(lines[0]))
	if err != nil {
		return nil, fmt.Errorf("first line %q is not an instruction count", lines[0])
	}
	if n != len(lines)-1 {
		return nil, fmt.Errorf("%d instructions announced, %d given", n, len(lines)-1)
	}
	prog := make([]bpf.RawInstruction, 0, n)
	for _, l := range lines[1:] {
		f := strings.Fields(l)
		if len(f) != 4 {
			return nil, fmt.Errorf("line %q: want 4 numbers", l)
		}
		var v [4]uint64
		for i, s := range f {
			bits := []int{16, 8, 8, 32}[i]
			if v[i], err = strconv.ParseUint(s, 10, bits); err != nil {
				return nil, fmt.Errorf("line %q: %v", l, err)
			}
		}
		prog = append(prog, bpf.RawInstruction{Op: uint16(v[0]), Jt: uint8(v[1]), Jf: uint8(v[2]), K: uint32(v[3])})
	}
	return prog, nil
}

// TestRunCBPF checks the interpreter the differential test relies on
// against x/net/bpf's VM and hand-computed results.
func TestRunCBPF(t *testing.T) {
	pkt := []byte{0x45, 0x00, 0x00, 0x54, 0xde, 0xad, 0x40, 0x00, 0x40, 0x06, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2, 0x1f, 0x90, 0x00, 0x16}
	tests := []struct {
		name      string
		prog      []bpf.Instruction
		accept    bool
		oob       bool
		vmAgrees  bool // x/net/bpf gives the same accept
		wantError bool
	}{
		{"ret k", []bpf.Instruction{bpf.RetConstant{Val: 1}}, true, false, true, false},
		{"ret 0", []bpf.Instruction{bpf.RetConstant{Val: 0}}, false, false, true, false},
		{"ldh abs jeq", []bpf.Instruction{
			bpf.LoadAbsolute{Off: 2, Size: 2},
			bpf.JumpIf{Cond: bpf.JumpEqual, Val: 0x54, SkipTrue: 0, SkipFalse: 1},
			bpf.RetConstant{Val: 9}, bpf.RetConstant{Val: 0},
		}, true, false, true, false},
		{"ld word", []bpf.Instruction{
			bpf.LoadAbsolute{Off: 12, Size: 4},
			bpf.JumpIf{Cond: bpf.JumpEqual, Val: 0x0a000001, SkipTrue: 0, SkipFalse: 1},
			bpf.RetConstant{Val: 9}, bpf.RetConstant{Val: 0},
		}, true, false, true, false},
		{"msh and ind", []bpf.Instruction{
			bpf.LoadMemShift{Off: 0},
			bpf.LoadIndirect{Off: 2, Size: 2}, // 20 + 2: 0x0016
			bpf.JumpIf{Cond: bpf.JumpEqual, Val: 22, SkipTrue: 0, SkipFalse: 1},
			bpf.RetConstant{Val: 9}, bpf.RetConstant{Val: 0},
		}, true, false, true, false},
		{"out of bounds abs", []bpf.Instruction{bpf.LoadAbsolute{Off: 23, Size: 2}, bpf.RetConstant{Val: 1}}, false, true, true, false},
		{"out of bounds ind", []bpf.Instruction{bpf.LoadMemShift{Off: 0}, bpf.LoadIndirect{Off: 4, Size: 1}, bpf.RetConstant{Val: 1}}, false, true, true, false},
		{"jset, jgt, jge", []bpf.Instruction{
			bpf.LoadAbsolute{Off: 6, Size: 2},
			bpf.JumpIf{Cond: bpf.JumpBitsSet, Val: 0x1fff, SkipTrue: 3, SkipFalse: 0},
			bpf.JumpIf{Cond: bpf.JumpGreaterThan, Val: 0x4000, SkipTrue: 2, SkipFalse: 0},
			bpf.JumpIf{Cond: bpf.JumpGreaterOrEqual, Val: 0x4000, SkipTrue: 0, SkipFalse: 1},
			bpf.RetConstant{Val: 5}, bpf.RetConstant{Val: 0},
		}, true, false, true, false},
		{"alu, scratch, tax, txa, ret a", []bpf.Instruction{
			bpf.LoadConstant{Dst: bpf.RegA, Val: 7},
			bpf.ALUOpConstant{Op: bpf.ALUOpMul, Val: 6},       // 42
			bpf.ALUOpConstant{Op: bpf.ALUOpSub, Val: 2},       // 40
			bpf.ALUOpConstant{Op: bpf.ALUOpDiv, Val: 3},       // 13
			bpf.ALUOpConstant{Op: bpf.ALUOpMod, Val: 8},       // 5
			bpf.ALUOpConstant{Op: bpf.ALUOpXor, Val: 1},       // 4
			bpf.ALUOpConstant{Op: bpf.ALUOpShiftLeft, Val: 4}, // 64
			bpf.StoreScratch{Src: bpf.RegA, N: 3},
			bpf.LoadConstant{Dst: bpf.RegA, Val: 0},
			bpf.LoadScratch{Dst: bpf.RegX, N: 3},
			bpf.TXA{},
			bpf.ALUOpConstant{Op: bpf.ALUOpSub, Val: 64},
			bpf.RetA{},
		}, false, false, true, false},
		{"div by zero X", []bpf.Instruction{
			bpf.LoadConstant{Dst: bpf.RegA, Val: 7}, bpf.LoadConstant{Dst: bpf.RegX, Val: 0},
			bpf.ALUOpX{Op: bpf.ALUOpDiv}, bpf.RetConstant{Val: 1},
		}, false, false, true, false},
		{"len", []bpf.Instruction{
			bpf.LoadExtension{Num: bpf.ExtLen},
			bpf.JumpIf{Cond: bpf.JumpEqual, Val: 24, SkipTrue: 0, SkipFalse: 1},
			bpf.RetConstant{Val: 1}, bpf.RetConstant{Val: 0},
		}, true, false, true, false},
		{"extension", []bpf.Instruction{bpf.LoadExtension{Num: bpf.ExtVLANTag}, bpf.RetA{}}, false, false, false, true},
		{"runs off the end", []bpf.Instruction{bpf.LoadConstant{Dst: bpf.RegA, Val: 1}}, false, false, false, true},
	}
	for _, tt := range tests {
		raw, err := bpf.Assemble(tt.prog)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		accept, oob, err := runCBPF(raw, pkt)
		if (err != nil) != tt.wantError {
			t.Errorf("%s: err = %v", tt.name, err)
			continue
		}
		if accept != tt.accept || oob != tt.oob {
			t.Errorf("%s: accept %v oob %v, want %v %v", tt.name, accept, oob, tt.accept, tt.oob)
		}
		if !tt.vmAgrees {
			continue
		}
		vm, err := bpf.NewVM(tt.prog)
		if err != nil {
			t.Fatalf("%s: NewVM: %v", tt.name, err)
		}
		n, err := vm.Run(pkt)
		if err != nil {
			t.Fatalf("%s: VM: %v", tt.name, err)
		}
		if (n != 0) != accept {
			t.Errorf("%s: x/net/bpf accepts %v, runCBPF %v", tt.name, n != 0, accept)
		}
	}
}

func TestParseDDD(t *testing.T) {
	prog, err := parseDDD("3\n40 0 0 12\n21 0 1 2048\n6 0 0 262144\n")
	if err != nil {
		t.Fatal(err)
	}
	want := []bpf.RawInstruction{{Op: 40, K: 12}, {Op: 21, Jf: 1, K: 2048}, {Op: 6, K: 262144}}
	if fmt.Sprint(prog) != fmt.Sprint(want) {
		t.Errorf("got %v, want %v", prog, want)
	}
	for _, bad := range []string{"", "2\n40 0 0 12\n", "1\n40 0 0\n", "1\n40 0 256 1\n", "x\n"} {
		if _, err := parseDDD(bad); err == nil {
			t.Errorf("parseDDD(%q) accepted it", bad)
		}
	}
}
