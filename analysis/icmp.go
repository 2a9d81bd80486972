package analysis

import (
	"encoding/binary"
	"net/netip"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// TooBig is an ICMP error a capture holds that says a TCP segment was too
// big for a link on the way: IPv4 "fragmentation needed" (type 3 code 4)
// or ICMPv6 "packet too big" (type 2). It quotes the segment's IP header
// and the first 8 bytes of its TCP header, so that the segment a router
// refused is known by its addresses, ports and sequence number: with path
// MTU discovery working, the sender sends the bytes again smaller, and its
// receiver acknowledges them, though the refused segment never reached the
// next capture point (realpath3 s1ok: 11 segments of 1448 bytes refused
// for MTU 1280, each answered by one of these right after it).
type TooBig struct {
	Frame uint64
	Time  int64
	V6    bool
	MTU   int        // the next hop's MTU the router named; 0 when it named none
	From  netip.Addr // the router that refused the segment
	// The refused segment, as quoted: its endpoints, sequence number and
	// IP total length.
	Src, Dst netip.AddrPort
	Seq      uint32
	IPLen    int
}

// maxTooBig bounds the ICMP errors a capture's list keeps: routers rate
// limit them (Linux: one a second per destination after a burst of 50),
// and a hostile capture could hold millions. Past it they are counted only.
const maxTooBig = 4096

type tooBigKey struct {
	src, dst netip.AddrPort
	seq      uint32
}

// tooBigList is the ICMP "too big" errors of one capture, in frame order,
// and by the segment they quote. The map is shared by the copies of a
// Result the path makes (Path restricts each point's flows).
type tooBigList struct {
	msgs  []TooBig
	n     uint64 // all of them, also those past maxTooBig
	byKey map[tooBigKey][]int32
}

// icmpError keeps the ICMP error at data (its ICMP header first) when it
// says a TCP segment was too big: frames that hold no TCP, so only ever
// read on the decoder's general path (walk).
func (d *Decoder) icmpError(p *Packet, typ gopacket.LayerType, data []byte) {
	tb, ok := parseTooBig(typ == layers.LayerTypeICMPv6, data)
	if !ok {
		return
	}
	tb.Frame, tb.Time, tb.From = p.Frame, p.Time, p.Src
	l := &d.tooBig
	if l.n++; len(l.msgs) >= maxTooBig {
		return
	}
	if l.byKey == nil {
		l.byKey = map[tooBigKey][]int32{}
	}
	k := tooBigKey{tb.Src, tb.Dst, tb.Seq}
	l.byKey[k] = append(l.byKey[k], int32(len(l.msgs)))
	l.msgs = append(l.msgs, tb)
}

// parseTooBig reads an ICMP (v6: ICMPv6) message that says a TCP segment
// was too big, and the segment it quotes. ok is false for any other
// message, one that quotes no TCP, a fragment after the first, or one cut
// before the quoted TCP sequence number.
func parseTooBig(v6 bool, b []byte) (tb TooBig, ok bool) {
	if len(b) < 8 {
		return tb, false
	}
	q := b[8:]
	tb.V6 = v6
	var tcp []byte
	if !v6 {
		if b[0] != 3 || b[1] != 4 || len(q) < 20 || q[0]>>4 != 4 {
			return tb, false
		}
		hl := int(q[0]&0x0f) * 4
		if hl < 20 || q[9] != 6 || binary.BigEndian.Uint16(q[6:8])&0x1fff != 0 || len(q) < hl+8 {
			return tb, false
		}
		tb.MTU = int(binary.BigEndian.Uint16(b[6:8]))
		tb.IPLen = int(binary.BigEndian.Uint16(q[2:4]))
		src, dst := netip.AddrFrom4([4]byte(q[12:16])), netip.AddrFrom4([4]byte(q[16:20]))
		tcp = q[hl:]
		tb.Src = netip.AddrPortFrom(src, binary.BigEndian.Uint16(tcp[0:2]))
		tb.Dst = netip.AddrPortFrom(dst, binary.BigEndian.Uint16(tcp[2:4]))
	} else {
		// Extension headers before the quoted TCP are not followed: a
		// segment refused for its size rarely carries any.
		if b[0] != 2 || b[1] != 0 || len(q) < 48 || q[0]>>4 != 6 || q[6] != 6 {
			return tb, false
		}
		tb.MTU = int(binary.BigEndian.Uint32(b[4:8]))
		tb.IPLen = 40 + int(binary.BigEndian.Uint16(q[4:6]))
		src, dst := netip.AddrFrom16([16]byte(q[8:24])), netip.AddrFrom16([16]byte(q[24:40]))
		tcp = q[40:]
		tb.Src = netip.AddrPortFrom(src, binary.BigEndian.Uint16(tcp[0:2]))
		tb.Dst = netip.AddrPortFrom(dst, binary.BigEndian.Uint16(tcp[2:4]))
	}
	tb.Seq = binary.BigEndian.Uint32(tcp[4:8])
	// A router names an MTU below the datagram it refused; one that names
	// the datagram's own size or more says nothing of it.
	if tb.MTU != 0 && tb.IPLen <= tb.MTU {
		return tb, false
	}
	return tb, true
}

// tooBigWindow is how long after a segment the ICMP error refusing it may
// come, at the same point: microseconds on the way back from the router
// (0.4 ms in s1ok), a second at most.
const tooBigWindow = int64(1e9)

// tooBigFor returns the ICMP error in res's capture that refused segment
// r of flow f as too big: quoting r's endpoints and sequence number, and
// seen within tooBigWindow after it.
func (res *Result) tooBigFor(f *Flow, r PacketRef) (TooBig, bool) {
	l := &res.tooBig
	if len(l.msgs) == 0 || r.Len == 0 {
		return TooBig{}, false
	}
	src, dst := f.Client(), f.Server()
	if r.Side() == FromServer {
		src, dst = dst, src
	}
	for _, i := range l.byKey[tooBigKey{src, dst, r.Seq}] {
		if tb := l.msgs[i]; tb.Time >= r.Time && tb.Time-r.Time <= tooBigWindow {
			return tb, true
		}
	}
	return TooBig{}, false
}
