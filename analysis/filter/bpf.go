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
// The program is a pre-filter: it accepts every packet Match could accept
// on the Fields synscope's decoder reports for it, so Match must still be
// applied to the decoded packet. It is exact (it accepts a packet if and
// only if Match does) on "plain" frames: Ethernet frames without VLAN tags
// (or raw IP packets) that carry a non-IP protocol, or a well-formed IPv4
// or IPv6 packet with no option, extension header, fragmentation or
// tunnel. The other frames it accepts without evaluating the expression,
// leaving the decision to Match:
//   - frames whose innermost layer it cannot reach: VLAN-tagged frames
//     (TPID 0x8100, 0x88a8 or 0x9100), MPLS, PPPoE, 802.1ah and NSH frames,
//     802.3 length-field frames, EtherTypes 0x6558 (bridged Ethernet) and
//     0xffff (which the decoder reads as IPv4); IPv4 and IPv6 packets
//     whose protocol is an IPv6 extension header (hop-by-hop, routing,
//     fragment, destination options, mobility, HIP, shim6), or that carry
//     AH, IP-in-IP, 6in4, GRE, EtherIP, L2TPv3 or MPLS-in-IP; UDP to or
//     from the VXLAN (4789, 8472), VXLAN-GPE (4790), Geneve (6081), GTP-U
//     (2152), L2TP (1701) or Teredo (3544) ports. Should the decoder learn
//     other encapsulations, this list must grow with it;
//   - IPv4 fragments (more-fragments flag or an offset): the decoder
//     reassembles the datagram and Match sees its ports at the last
//     fragment, which carries none (tcpdump, which has no reassembly,
//     matches "port" on the first fragment only);
//   - packets the decoder reads differently from their header's face
//     value, or not at all: frames too short for the headers the program
//     reads (a runt Ethernet frame, a short IP header), IPv4 headers with
//     options or a header length other than 20, IPv4 total lengths below
//     20 (0 with segmentation offload), IPv6 payload length 0 (jumbograms,
//     BIG TCP), fewer than 16 bytes of TCP or 8 of UDP or SCTP after the IP
//     header, UDP length fields of 1 to 7; and, for LinkTypeRaw, packets
//     that are neither IPv4 nor IPv6.
//
// The program therefore never reads past the end of a packet, and rejects
// no packet for being short. Where it is exact it agrees with tcpdump's
// program for the same expression, except that tcpdump's host and net also
// match ARP and RARP addresses (TestCompileBPFTcpdump checks both on the
// shared corpus).
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
		why := "the kernel takes VLAN tags out of frames before a socket filter sees them"
		if kw != "vlan" {
			why += ", so a tagged frame's length there is 4 bytes short of the one EXPR means"
		}
		return nil, fmt.Errorf("filter: %q is %w: %s", kw, ErrNotCompiled, why)
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
// for frames that are not plain: those whose innermost layer it cannot
// reach, and those on which the decoder's fields could differ from what it
// would read (a header the decoder refuses, a transport header it does not
// decode, a datagram it reassembles). Each check costs a few instructions
// on every packet; what it passes on is rare and goes to Match.
func (c *compiler) prologue(accept int) {
	v4, v6, nonIP, expr := c.newLabel(), c.newLabel(), c.newLabel(), c.newLabel()
	nl := c.nl
	// atLeast falls through when A >= v and goes to accept otherwise.
	atLeast := func(v uint32) {
		next := c.newLabel()
		c.cond(bpf.JumpGreaterOrEqual, v, next, accept)
		c.label(next)
	}
	// frameAtLeast falls through when the frame holds n bytes or more.
	frameAtLeast := func(n uint32) {
		c.emit(bpf.LoadExtension{Num: bpf.ExtLen})
		atLeast(n)
	}
	// The kernel's checker wants every scratch word stored before any load
	// on every path, whatever the values that guard it.
	c.emit(bpf.LoadConstant{Dst: bpf.RegA, Val: 0})
	for m := mIPVer; m < mDst+4; m++ {
		c.stM(m)
	}
	if c.raw {
		frameAtLeast(1)
		c.emit(bpf.LoadAbsolute{Off: 0, Size: 1})
		c.emit(bpf.ALUOpConstant{Op: bpf.ALUOpShiftRight, Val: 4})
		c.jeq(4, v4)
		c.jeq(6, v6)
		c.jump(accept)
	} else {
		// A runt: the decoder finds no Ethernet header.
		frameAtLeast(14)
		c.emit(bpf.LoadAbsolute{Off: 12, Size: 2})
		c.jeq(0x0800, v4)
		c.jeq(0x86dd, v6)
		// 802.3 length field: LLC/SNAP may carry anything.
		atLeast(0x0600)
		// Tags, MPLS, PPPoE, 802.1ah, NSH; and the two EtherTypes the
		// decoder (gopacket) reads as something else than their
		// registration: 0x6558 (an Ethernet frame, as in GRE) and 0xffff
		// ("raw" IPv4).
		for _, et := range []uint32{0x8100, 0x88a8, 0x9100, 0x8847, 0x8848, 0x8863, 0x8864, 0x88e7, 0x894f, 0x6558, 0xffff} {
			c.jeq(et, accept)
		}
		c.jump(nonIP)
	}

	tunnelProtos := []uint32{4, 41, 47, 51, 97, 115, 137}
	// IPv6 extension headers, which the decoder follows after an IPv4
	// header too.
	extProtos := []uint32{0, 43, 44, 60, 135, 139, 140}
	tunnelPorts := []uint32{4789, 8472, 4790, 6081, 2152, 1701, 3544}
	// ports loads the ports at off and goes on to done. For UDP, a length
	// field of 1 to 7 (the decoder refuses the header) and the tunnel
	// ports go to accept.
	ports := func(off uint32, done int) {
		c.emit(bpf.LoadAbsolute{Off: off, Size: 2})
		c.stM(mSrcPort)
		c.emit(bpf.LoadAbsolute{Off: off + 2, Size: 2})
		c.stM(mDstPort)
		c.emit(bpf.LoadConstant{Dst: bpf.RegA, Val: 1})
		c.stM(mHasPorts)
		c.ldM(mProto)
		udp := c.newLabel()
		c.cond(bpf.JumpEqual, 17, udp, done)
		c.label(udp)
		c.emit(bpf.LoadAbsolute{Off: off + 4, Size: 2})
		okLen := c.newLabel()
		c.jeq(0, okLen)
		atLeast(8)
		c.label(okLen)
		for _, m := range []int{mSrcPort, mDstPort} {
			c.ldM(m)
			for _, p := range tunnelPorts {
				c.jeq(p, accept)
			}
		}
		c.jump(done)
	}

	// transport sends TCP, UDP and SCTP (protocol in A) to portsAt and the
	// other protocols to other, and a transport header too short for the
	// decoder to take the ports from (fewer than 16 bytes of TCP, 8 of UDP
	// or SCTP, in the datagram or in the frame) to accept. minLen checks
	// that n bytes follow the IP header.
	transport := func(minLen func(n uint32), portsAt, other int) {
		tcp, udp := c.newLabel(), c.newLabel()
		c.jeq(6, tcp)
		c.jeq(17, udp)
		c.jeq(132, udp)
		c.jump(other)
		c.label(tcp)
		minLen(16)
		c.jump(portsAt)
		c.label(udp)
		minLen(8)
		c.label(portsAt)
	}

	// IPv4. The first byte must be 0x45 (version 4, a 20-byte header):
	// options, a header length below 20, or a version the EtherType
	// contradicts go to Match.
	c.label(v4)
	addr4, ports4 := c.newLabel(), c.newLabel()
	frameAtLeast(nl + 20)
	c.emit(bpf.LoadAbsolute{Off: nl, Size: 1})
	next := c.newLabel()
	c.cond(bpf.JumpEqual, 0x45, next, accept)
	c.label(next)
	// A fragment (more fragments, or an offset): Match sees the datagram
	// once the decoder has reassembled it, at its last fragment.
	c.emit(bpf.LoadAbsolute{Off: nl + 6, Size: 2})
	next = c.newLabel()
	c.cond(bpf.JumpBitsSet, 0x3fff, accept, next)
	c.label(next)
	// A total length below the header's (0: segmentation offload).
	c.emit(bpf.LoadAbsolute{Off: nl + 2, Size: 2})
	atLeast(20)
	c.emit(bpf.LoadConstant{Dst: bpf.RegA, Val: 4})
	c.stM(mIPVer)
	c.emit(bpf.LoadAbsolute{Off: nl + 9, Size: 1})
	c.stM(mProto)
	for _, p := range append(extProtos, tunnelProtos...) {
		c.jeq(p, accept)
	}
	minTransport := func(n uint32) {
		c.emit(bpf.LoadAbsolute{Off: nl + 2, Size: 2})
		atLeast(20 + n)
		frameAtLeast(nl + 20 + n)
	}
	transport(minTransport, ports4, addr4)
	ports(nl+20, addr4)
	c.label(addr4)
	c.emit(bpf.LoadAbsolute{Off: nl + 12, Size: 4})
	c.stM(mSrc)
	c.emit(bpf.LoadAbsolute{Off: nl + 16, Size: 4})
	c.stM(mDst)
	c.jump(expr)

	// IPv6.
	c.label(v6)
	addr6, ports6 := c.newLabel(), c.newLabel()
	frameAtLeast(nl + 40)
	// Payload length 0: a jumbogram or a BIG TCP packet, whose length the
	// decoder takes from elsewhere, or a header it refuses.
	c.emit(bpf.LoadAbsolute{Off: nl + 4, Size: 2})
	atLeast(1)
	c.emit(bpf.LoadConstant{Dst: bpf.RegA, Val: 6})
	c.stM(mIPVer)
	c.emit(bpf.LoadAbsolute{Off: nl + 6, Size: 1})
	c.stM(mProto)
	for _, p := range append(extProtos, tunnelProtos...) {
		c.jeq(p, accept)
	}
	minTransport = func(n uint32) {
		c.emit(bpf.LoadAbsolute{Off: nl + 4, Size: 2})
		atLeast(n)
		frameAtLeast(nl + 40 + n)
	}
	transport(minTransport, ports6, addr6)
	ports(nl+40, addr6)
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
