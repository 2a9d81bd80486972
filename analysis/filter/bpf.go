package filter

import (
	"errors"
	"fmt"

	"golang.org/x/net/bpf"
)

// Link types CompileBPF accepts (pcap LINKTYPE_ values).
const (
	LinkTypeEthernet = 1   // LINKTYPE_ETHERNET (DLT_EN10MB)
	LinkTypeRaw      = 101 // LINKTYPE_RAW: the packet starts with the IPv4 or IPv6 header
)

// ErrNotCompiled is wrapped by CompileBPF's errors for expressions or link
// types outside the compiled subset.
var ErrNotCompiled = errors.New("not in compiled subset")

// maxBPFInstructions is the kernel's BPF_MAXINSNS for classic BPF.
const maxBPFInstructions = 4096

// CompileBPF compiles e into a classic BPF program for a kernel socket
// filter, for frames of the given link type (LinkTypeEthernet or
// LinkTypeRaw). Accepted packets are returned with snaplen bytes; snaplen
// <= 0 means 262144, libpcap's default.
//
// The program is a pre-filter: it accepts every packet Match could accept,
// so Match must still be applied to the decoded packet. It is exact (it
// accepts a packet if and only if Match does) on "plain" frames: Ethernet
// frames without VLAN tags (or raw IP packets) that carry a non-IP protocol,
// or an IPv4 or IPv6 packet with no extension header and no tunnel. The
// other frames, whose innermost layer it cannot reach, it accepts without
// evaluating the expression, leaving the decision to Match: VLAN-tagged
// frames (TPID 0x8100, 0x88a8 or 0x9100), MPLS, PPPoE, 802.1ah and NSH
// frames, 802.3 length-field frames; IPv6 packets with extension headers
// (hop-by-hop, routing, fragment, destination options, mobility, HIP,
// shim6); IPv4 and IPv6 packets carrying AH, IP-in-IP, 6in4, GRE, EtherIP,
// L2TPv3 or MPLS-in-IP; UDP to or from the VXLAN (4789, 8472), VXLAN-GPE
// (4790), Geneve (6081), GTP-U (2152), L2TP (1701) or Teredo (3544) ports.
// Should the decoder learn other encapsulations, this list must grow with
// it. As in libpcap, a frame too short for a header the program reads is
// rejected.
//
// An expression that uses vlan, less or greater anywhere is refused with an
// error wrapping ErrNotCompiled, and runs in userspace only: on Linux the
// kernel takes the VLAN tag out of a frame (into the packet's metadata)
// before a packet socket's filter runs, so a program testing for a tag
// would reject every tagged frame, and one measuring the length would find
// it 4 bytes short for each tag taken out.
//
// Other link types are refused with an error wrapping ErrNotCompiled, as is
// a program longer than the kernel's 4096-instruction limit.
func (e *Expr) CompileBPF(linkType int, snaplen int) ([]bpf.Instruction, error) {
	if snaplen <= 0 {
		snaplen = 262144
	}
	ret := uint32(min(uint64(snaplen), 1<<32-1))
	var nl uint32
	switch linkType {
	case LinkTypeEthernet:
		nl = 14
	case LinkTypeRaw:
		nl = 0
	default:
		return nil, fmt.Errorf("filter: link type %d is %w (compiled: %d ethernet, %d raw IP)", linkType, ErrNotCompiled, LinkTypeEthernet, LinkTypeRaw)
	}
	c := &compiler{nl: nl, raw: linkType == LinkTypeRaw}
	if e.MatchesAll() {
		return []bpf.Instruction{bpf.RetConstant{Val: ret}}, nil
	}
	if kw := frameLevel(e.root); kw != "" {
		return nil, fmt.Errorf("filter: %q is %w: the kernel takes VLAN tags out of frames before a socket filter sees them", kw, ErrNotCompiled)
	}
	accept, reject := c.newLabel(), c.newLabel()
	c.prologue(accept)
	c.node(e.root, accept, reject)
	c.label(accept)
	c.emit(bpf.RetConstant{Val: ret})
	c.label(reject)
	c.emit(bpf.RetConstant{Val: 0})
	prog, err := c.assemble()
	if err != nil {
		return nil, err
	}
	if len(prog) > maxBPFInstructions {
		return nil, fmt.Errorf("filter: expression is %w: %d BPF instructions, more than the kernel's %d", ErrNotCompiled, len(prog), maxBPFInstructions)
	}
	return prog, nil
}

// Scratch memory filled by the prologue: the compiled counterpart of Fields.
const (
	mIPVer    = 0 // 0, 4 or 6
	mProto    = 1
	mHasPorts = 2 // 0 or 1
	mSrcPort  = 3
	mDstPort  = 4
	mSrc      = 5 // IPv4: one word; IPv6: four words
	mDst      = 9
)

// frameLevel returns the first of vlan, less and greater that the
// expression uses, or "" when it uses none: the primitives that look at the
// frame as it was on the wire, which a Linux socket filter does not see.
func frameLevel(n *node) string {
	if n == nil {
		return ""
	}
	if n.op != opPrim {
		for _, k := range n.kids {
			if kw := frameLevel(k); kw != "" {
				return kw
			}
		}
		return ""
	}
	switch n.p.kind {
	case pVLAN:
		return "vlan"
	case pLess:
		return "less"
	case pGreater:
		return "greater"
	}
	return ""
}

// asmIns is an instruction with symbolic jump targets.
type asmIns struct {
	kind   uint8 // insPlain, insCond, insJump, insLabel
	ins    bpf.Instruction
	cond   bpf.JumpTest
	val    uint32
	jt, jf int // insCond targets; jt is insJump's target; jt is insLabel's id
}

const (
	insPlain uint8 = iota
	insCond
	insJump
	insLabel
)

type compiler struct {
	nl     uint32 // offset of the IP header in plain frames
	raw    bool
	code   []asmIns
	labels int
}

func (c *compiler) newLabel() int           { c.labels++; return c.labels - 1 }
func (c *compiler) label(l int)             { c.code = append(c.code, asmIns{kind: insLabel, jt: l}) }
func (c *compiler) emit(in bpf.Instruction) { c.code = append(c.code, asmIns{kind: insPlain, ins: in}) }
func (c *compiler) jump(l int)              { c.code = append(c.code, asmIns{kind: insJump, jt: l}) }
func (c *compiler) cond(t bpf.JumpTest, v uint32, jt, jf int) {
	c.code = append(c.code, asmIns{kind: insCond, cond: t, val: v, jt: jt, jf: jf})
}

// jeq jumps to jt if A == v, else falls through.
func (c *compiler) jeq(v uint32, jt int) {
	next := c.newLabel()
	c.cond(bpf.JumpEqual, v, jt, next)
	c.label(next)
}

func (c *compiler) ldM(i int) { c.emit(bpf.LoadScratch{Dst: bpf.RegA, N: i}) }
func (c *compiler) stM(i int) { c.emit(bpf.StoreScratch{Src: bpf.RegA, N: i}) }

// prologue decodes a plain frame into scratch memory, and jumps to accept
// for frames that are not plain.
func (c *compiler) prologue(accept int) {
	v4, v6, nonIP, expr := c.newLabel(), c.newLabel(), c.newLabel(), c.newLabel()
	nl := c.nl
	// The kernel's checker wants every scratch word stored before any load
	// on every path, whatever the values that guard it.
	c.emit(bpf.LoadConstant{Dst: bpf.RegA, Val: 0})
	for m := mIPVer; m < mDst+4; m++ {
		c.stM(m)
	}
	if c.raw {
		c.emit(bpf.LoadAbsolute{Off: 0, Size: 1})
		c.emit(bpf.ALUOpConstant{Op: bpf.ALUOpShiftRight, Val: 4})
		c.jeq(4, v4)
		c.jeq(6, v6)
		c.jump(accept)
	} else {
		c.emit(bpf.LoadAbsolute{Off: 12, Size: 2})
		c.jeq(0x0800, v4)
		c.jeq(0x86dd, v6)
		// 802.3 length field: LLC/SNAP may carry anything.
		next := c.newLabel()
		c.cond(bpf.JumpGreaterOrEqual, 0x0600, next, accept)
		c.label(next)
		for _, et := range []uint32{0x8100, 0x88a8, 0x9100, 0x8847, 0x8848, 0x8863, 0x8864, 0x88e7, 0x894f} {
			c.jeq(et, accept)
		}
		c.jump(nonIP)
	}

	tunnelProtos := []uint32{4, 41, 47, 51, 97, 115, 137}
	tunnelPorts := []uint32{4789, 8472, 4790, 6081, 2152, 1701, 3544}
	udpTunnel := func(done int) {
		for _, m := range []int{mSrcPort, mDstPort} {
			c.ldM(m)
			for _, p := range tunnelPorts {
				c.jeq(p, accept)
			}
		}
		c.jump(done)
	}

	// IPv4.
	c.label(v4)
	addr4, ports4 := c.newLabel(), c.newLabel()
	c.emit(bpf.LoadConstant{Dst: bpf.RegA, Val: 4})
	c.stM(mIPVer)
	c.emit(bpf.LoadConstant{Dst: bpf.RegA, Val: 0})
	c.stM(mHasPorts)
	c.emit(bpf.LoadAbsolute{Off: nl + 9, Size: 1})
	c.stM(mProto)
	for _, p := range tunnelProtos {
		c.jeq(p, accept)
	}
	c.jeq(6, ports4)
	c.jeq(17, ports4)
	c.jeq(132, ports4)
	c.jump(addr4)
	c.label(ports4)
	first := c.newLabel()
	c.emit(bpf.LoadAbsolute{Off: nl + 6, Size: 2})
	c.cond(bpf.JumpBitsSet, 0x1fff, addr4, first) // not the first fragment: no ports
	c.label(first)
	c.emit(bpf.LoadMemShift{Off: nl})
	c.emit(bpf.LoadIndirect{Off: nl, Size: 2})
	c.stM(mSrcPort)
	c.emit(bpf.LoadIndirect{Off: nl + 2, Size: 2})
	c.stM(mDstPort)
	c.emit(bpf.LoadConstant{Dst: bpf.RegA, Val: 1})
	c.stM(mHasPorts)
	c.ldM(mProto)
	udp4 := c.newLabel()
	c.cond(bpf.JumpEqual, 17, udp4, addr4)
	c.label(udp4)
	udpTunnel(addr4)
	c.label(addr4)
	c.emit(bpf.LoadAbsolute{Off: nl + 12, Size: 4})
	c.stM(mSrc)
	c.emit(bpf.LoadAbsolute{Off: nl + 16, Size: 4})
	c.stM(mDst)
	c.jump(expr)

	// IPv6.
	c.label(v6)
	addr6, ports6 := c.newLabel(), c.newLabel()
	c.emit(bpf.LoadConstant{Dst: bpf.RegA, Val: 6})
	c.stM(mIPVer)
	c.emit(bpf.LoadConstant{Dst: bpf.RegA, Val: 0})
	c.stM(mHasPorts)
	c.emit(bpf.LoadAbsolute{Off: nl + 6, Size: 1})
	c.stM(mProto)
	for _, p := range append([]uint32{0, 43, 44, 60, 135, 139, 140}, tunnelProtos...) {
		c.jeq(p, accept)
	}
	c.jeq(6, ports6)
	c.jeq(17, ports6)
	c.jeq(132, ports6)
	c.jump(addr6)
	c.label(ports6)
	c.emit(bpf.LoadAbsolute{Off: nl + 40, Size: 2})
	c.stM(mSrcPort)
	c.emit(bpf.LoadAbsolute{Off: nl + 42, Size: 2})
	c.stM(mDstPort)
	c.emit(bpf.LoadConstant{Dst: bpf.RegA, Val: 1})
	c.stM(mHasPorts)
	c.ldM(mProto)
	udp6 := c.newLabel()
	c.cond(bpf.JumpEqual, 17, udp6, addr6)
	c.label(udp6)
	udpTunnel(addr6)
	c.label(addr6)
	for i := uint32(0); i < 4; i++ {
		c.emit(bpf.LoadAbsolute{Off: nl + 8 + 4*i, Size: 4})
		c.stM(mSrc + int(i))
		c.emit(bpf.LoadAbsolute{Off: nl + 24 + 4*i, Size: 4})
		c.stM(mDst + int(i))
	}
	c.jump(expr)

	// Not IP.
	c.label(nonIP)
	c.emit(bpf.LoadConstant{Dst: bpf.RegA, Val: 0})
	c.stM(mIPVer)
	c.label(expr)
}

// node compiles n to jump to t if it is true and f if it is false.
func (c *compiler) node(n *node, t, f int) {
	switch n.op {
	case opAnd, opOr:
		for i, k := range n.kids {
			if i == len(n.kids)-1 {
				c.node(k, t, f)
				break
			}
			next := c.newLabel()
			if n.op == opAnd {
				c.node(k, next, f)
			} else {
				c.node(k, t, next)
			}
			c.label(next)
		}
	case opNot:
		c.node(n.kids[0], f, t)
	default:
		c.prim(&n.p, t, f)
	}
}

// sides evaluates a src/dst test according to the direction qualifier.
func (c *compiler) sides(d dirKind, side func(src bool, t, f int), t, f int) {
	switch d {
	case dirSrc:
		side(true, t, f)
	case dirDst:
		side(false, t, f)
	case dirBoth:
		next := c.newLabel()
		side(true, next, f)
		c.label(next)
		side(false, t, f)
	default:
		next := c.newLabel()
		side(true, t, next)
		c.label(next)
		side(false, t, f)
	}
}

// requireIPVer jumps to f unless the packet's IP version is v.
func (c *compiler) requireIPVer(v uint32, f int) {
	c.ldM(mIPVer)
	next := c.newLabel()
	c.cond(bpf.JumpEqual, v, next, f)
	c.label(next)
}

func (c *compiler) prim(p *prim, t, f int) {
	switch p.kind {
	case pIPVer:
		c.ldM(mIPVer)
		c.cond(bpf.JumpEqual, uint32(p.ipver), t, f)
	case pProto:
		if p.ipver != 0 {
			c.requireIPVer(uint32(p.ipver), f)
		} else {
			c.ldM(mIPVer)
			next := c.newLabel()
			c.cond(bpf.JumpEqual, 0, f, next)
			c.label(next)
		}
		c.ldM(mProto)
		c.cond(bpf.JumpEqual, uint32(p.num), t, f)
	case pHost, pNet:
		var words [4]uint32
		var masks [4]uint32
		n := 1
		v4 := p.kind == pHost && p.addr.Is4() || p.kind == pNet && (p.mask || p.pfx.Addr().Is4())
		switch {
		case p.kind == pNet && p.mask:
			words[0], masks[0] = p.mnet, p.mbits
		case p.kind == pHost && v4:
			b := p.addr.As4()
			words[0], masks[0] = be32(b[:]), 0xffffffff
		case p.kind == pHost:
			b := p.addr.As16()
			n = 4
			for i := range 4 {
				words[i], masks[i] = be32(b[4*i:]), 0xffffffff
			}
		default:
			bits := p.pfx.Bits()
			if v4 {
				b := p.pfx.Addr().As4()
				words[0], masks[0] = be32(b[:]), prefixMask(bits)
			} else {
				b := p.pfx.Addr().As16()
				n = 4
				for i := range 4 {
					words[i], masks[i] = be32(b[4*i:]), prefixMask(min(max(bits-32*i, 0), 32))
				}
			}
		}
		if v4 {
			c.requireIPVer(4, f)
		} else {
			c.requireIPVer(6, f)
		}
		c.sides(p.dir, func(src bool, t, f int) {
			base := mDst
			if src {
				base = mSrc
			}
			for i := range n {
				if masks[i] == 0 {
					continue
				}
				c.ldM(base + i)
				if masks[i] != 0xffffffff {
					c.emit(bpf.ALUOpConstant{Op: bpf.ALUOpAnd, Val: masks[i]})
				}
				next := c.newLabel()
				c.cond(bpf.JumpEqual, words[i], next, f)
				c.label(next)
			}
			c.jump(t)
		}, t, f)
	case pPort, pPortRange:
		c.ldM(mHasPorts)
		ok := c.newLabel()
		c.cond(bpf.JumpEqual, 1, ok, f)
		c.label(ok)
		c.ldM(mProto)
		if p.tproto != 0 {
			next := c.newLabel()
			c.cond(bpf.JumpEqual, uint32(p.tproto), next, f)
			c.label(next)
		} else {
			next := c.newLabel()
			c.jeq(6, next)
			c.jeq(17, next)
			c.cond(bpf.JumpEqual, 132, next, f)
			c.label(next)
		}
		c.sides(p.dir, func(src bool, t, f int) {
			m := mDstPort
			if src {
				m = mSrcPort
			}
			c.ldM(m)
			if p.lo == p.hi {
				c.cond(bpf.JumpEqual, uint32(p.lo), t, f)
				return
			}
			next := c.newLabel()
			c.cond(bpf.JumpGreaterOrEqual, uint32(p.lo), next, f)
			c.label(next)
			c.cond(bpf.JumpGreaterThan, uint32(p.hi), f, t)
		}, t, f)
	default:
		// vlan, less and greater are refused by CompileBPF.
		c.jump(f)
	}
}

func be32(b []byte) uint32 {
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

func prefixMask(bits int) uint32 {
	if bits <= 0 {
		return 0
	}
	return ^uint32(0) << (32 - bits)
}

// assemble resolves labels. Conditional jumps reach at most 255
// instructions ahead: a farther one becomes a short conditional jump over
// two unconditional ones, repeated until every jump fits.
func (c *compiler) assemble() ([]bpf.Instruction, error) {
	long := make([]bool, len(c.code))
	for {
		pos := make([]int, len(c.code)+1)
		at := make(map[int]int, c.labels) // label -> position
		n := 0
		for i, in := range c.code {
			pos[i] = n
			switch in.kind {
			case insLabel:
				at[in.jt] = n
			case insCond:
				if long[i] {
					n += 3
				} else {
					n++
				}
			default:
				n++
			}
		}
		pos[len(c.code)] = n
		grew := false
		for i, in := range c.code {
			if in.kind != insCond || long[i] {
				continue
			}
			if at[in.jt]-pos[i]-1 > 255 || at[in.jf]-pos[i]-1 > 255 {
				long[i] = true
				grew = true
			}
		}
		if grew {
			continue
		}
		if n > 4*maxBPFInstructions {
			return nil, fmt.Errorf("filter: expression is %w: more than %d BPF instructions", ErrNotCompiled, maxBPFInstructions)
		}
		prog := make([]bpf.Instruction, 0, n)
		for i, in := range c.code {
			here := pos[i]
			if (in.kind == insJump || in.kind == insCond) && at[in.jt] <= here || in.kind == insCond && at[in.jf] <= here {
				return nil, fmt.Errorf("filter: internal error: backward jump at BPF instruction %d", here)
			}
			switch in.kind {
			case insLabel:
			case insPlain:
				prog = append(prog, in.ins)
			case insJump:
				prog = append(prog, bpf.Jump{Skip: uint32(at[in.jt] - here - 1)})
			case insCond:
				if long[i] {
					prog = append(prog,
						bpf.JumpIf{Cond: in.cond, Val: in.val, SkipTrue: 0, SkipFalse: 1},
						bpf.Jump{Skip: uint32(at[in.jt] - here - 2)},
						bpf.Jump{Skip: uint32(at[in.jf] - here - 3)})
				} else {
					prog = append(prog, bpf.JumpIf{Cond: in.cond, Val: in.val,
						SkipTrue: uint8(at[in.jt] - here - 1), SkipFalse: uint8(at[in.jf] - here - 1)})
				}
			}
		}
		for i, in := range prog {
			if _, err := in.Assemble(); err != nil {
				return nil, fmt.Errorf("filter: internal error assembling BPF instruction %d (%v): %v", i, in, err)
			}
		}
		return prog, nil
	}
}
