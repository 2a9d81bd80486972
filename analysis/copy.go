package analysis

// This file recognises a packet seen twice: one IP datagram captured at two
// points of its path, before and after a router that routes it between two
// VLANs of one trunk, or on two switch ports mirrored to one capture port.
// Wireshark takes the second sighting for a retransmission (or a duplicate
// ACK), and the findings keep its codes so that their counts still compare
// with tshark's; their messages say what the packet is.
//
// The proof is the IPv4 identification. A sender gives every datagram a new
// one, a retransmission included, and routers and switches pass it on
// unchanged: a packet from the same side that ends at the same sequence
// number as the last packet that side sent at the front of its sequence
// space (new data, a SYN, a FIN, an ACK), with the same IP ID, shortly after
// it, is that packet again. The TTL, one lower after each router, is
// evidence the message gives, not a condition. IP ID 0 proves nothing (some
// stacks send 0 on every datagram with DF set), and IPv6 has no IP ID.
//
// Every flow remembers the last packet each side sent at the front (its IP
// ID, TTL and time, in dirState). Once a flow has shown a copy, it also
// remembers the last sentLen packets each side sent, wherever they fell in
// the sequence space (flowNotes.sent): in a burst through a router, segment
// 1's copy comes after segment 2 (Wireshark calls it out of order), and the
// copy of a retransmission that fills a hole is not at the front either. A
// packet with the IP ID of one of those, ending at the same sequence
// number, within copyWindow of it, is its copy.
//
// Limitations: until a flow's first copy at the front, copies elsewhere are
// not recognised and keep Wireshark's words (the flows of a trunk show one
// in their handshake: the SYN's copy follows the SYN). A sender that gives
// every datagram the same IP ID and resends its last segment within
// copyWindow (a tail loss probe on a fast network) has it taken for a copy
// at the front; the rings see the repeated ID and match nothing for that
// side (sentRing.repeats). The VLAN of the first sighting is not kept.

// copyWindow is how long after a packet, in nanoseconds, a packet with the
// same IP ID can be a copy of it: 100 ms. A copy trails its original by the
// time the datagram takes from one capture point to the other, microseconds
// through a router or a switch and a few milliseconds through a congested
// one, or by what the clocks of two merged captures disagree (NTP keeps them
// within a few milliseconds). A sender's retransmission timer never fires
// that soon (its minimum is 200 ms on Linux, 300 ms on Windows, 1 s for a
// SYN), so a sender that gives every datagram the same IP ID does not have
// its timed retransmissions taken for copies.
const copyWindow = 100e6

// copyNote is what shows a packet to be a copy of an earlier one: their IP
// ID, the TTL of each, and the microseconds between them. The zero value
// (IP ID 0, which never proves a copy) means "not a copy".
type copyNote struct {
	ipID         uint16
	ttl, copyTTL uint8 // of the first packet, of the copy
	micros       int64
}

func (c copyNote) ok() bool { return c.ipID != 0 }

// A finding about a copy carries its copyNote in B: bits 8-23 the IP ID,
// 24-31 the first packet's TTL, 32-39 the copy's, 40-61 the microseconds
// between them (up to 4.19 s, more than copyWindow), and bit 62 set. Bit 0
// is the side that sent the packet, where the sequence findings keep it in
// B (Finding.side reads it), and bit 1 headerCutFlag, as on any finding of
// the sequence analysis. B stays positive, and the small numbers B holds
// otherwise never have bit 62.
const (
	copyFlag      int64 = 1 << 62
	copyMicrosMax int64 = 1<<22 - 1
)

// pack returns B for a finding about the copy c, sent by side.
func (c copyNote) pack(side Side) int64 {
	return copyFlag | min(c.micros, copyMicrosMax)<<40 | int64(c.copyTTL)<<32 | int64(c.ttl)<<24 | int64(c.ipID)<<8 | int64(side&1)
}

// copyOf returns the copyNote of p when p is a copy of the last packet its
// side sent at the front of its sequence space, or, once the flow has shown
// a copy, of one of the last packets its side sent; the zero copyNote
// otherwise. It is called before p is analysed, and remembers p for the
// copies to come.
func (f *Flow) copyOf(p *Packet, side Side) copyNote {
	id := uint16(p.IPID)
	if p.IPVersion != 4 || id == 0 {
		return copyNote{}
	}
	d := &f.dir[side]
	front := id == d.origID && p.Seq+p.SegLen() == d.nextSeq && within(p.Time, d.origTime, copyWindow)
	if !front && !f.copies {
		return copyNote{} // nearly every packet
	}
	return f.copyOfAny(p, side, id, front)
}

// copyOfAny is copyOf for a copy at the front (front), and for any packet
// of a flow that has shown a copy, which remembers the last packets sent.
func (f *Flow) copyOfAny(p *Packet, side Side, id uint16, front bool) copyNote {
	d := &f.dir[side]
	end := p.Seq + p.SegLen()
	var c copyNote
	switch {
	case front:
		c = copyNote{ipID: id, ttl: d.origTTL, copyTTL: p.TTL, micros: (p.Time - d.origTime) / 1e3}
	case f.copies:
		c = f.notes.sent[side].find(p, id, end)
	}
	switch {
	case c.ok() && !f.copies:
		// The flow's first copy: from now on, remember more than the
		// last packet at the front (in the rings an evicted flow left,
		// if it did).
		f.copies = true
		n := f.note()
		if n.sent == nil {
			n.sent = new([2]sentRing)
		} else {
			*n.sent = [2]sentRing{}
		}
	case !c.ok() && f.copies:
		f.notes.sent[side].add(p, id, end)
	}
	return c
}

// sentLen is how many packets of each side a flow that has shown a copy
// remembers: a burst's copies may trail it by as many segments as a router
// holds while it forwards the first.
const sentLen = 8

// sentRing holds the last sentLen packets one side sent (with an IP ID),
// those a copy may repeat: 136 bytes. A side that gave two of them one IP
// ID (a stack that repeats its IDs) proves nothing by it: its ring matches
// no copy from then on, so that its retransmissions keep their words.
type sentRing struct {
	pkts    [sentLen]sentPacket
	next    uint8 // where the next packet goes
	repeats bool  // two packets with one IP ID
}

// sentPacket is what a copy must match of a packet sent (its IP ID and the
// sequence number it ends at, within copyWindow of its time), and its TTL
// for the message.
type sentPacket struct {
	time int64
	end  uint32
	id   uint16 // 0: none yet
	ttl  uint8
}

func (r *sentRing) add(p *Packet, id uint16, end uint32) {
	for i := range r.pkts {
		if r.pkts[i].id == id {
			r.repeats = true
		}
	}
	r.pkts[r.next%sentLen] = sentPacket{time: p.Time, end: end, id: id, ttl: p.TTL}
	r.next = (r.next + 1) % sentLen
}

// find returns the copyNote of p when it repeats a packet of the ring (at
// most one can match: the ring holds no IP ID twice unless repeats is set),
// and the zero copyNote otherwise.
func (r *sentRing) find(p *Packet, id uint16, end uint32) copyNote {
	if r.repeats {
		return copyNote{}
	}
	for i := range sentLen {
		s := &r.pkts[(int(r.next)+sentLen-1-i)%sentLen]
		if s.id == id && s.end == end && within(p.Time, s.time, copyWindow) {
			return copyNote{ipID: id, ttl: s.ttl, copyTTL: p.TTL, micros: (p.Time - s.time) / 1e3}
		}
	}
	return copyNote{}
}

// setOriginal remembers p as the last packet its side sent at the front of
// its sequence space, the one a copy would repeat.
func (d *dirState) setOriginal(p *Packet) {
	d.origID, d.origTTL, d.origTime = 0, p.TTL, p.Time
	if p.IPVersion == 4 {
		d.origID = uint16(p.IPID)
	}
}

// canBeCopy reports whether a finding with the code says so when it is
// about a copy: those that take a packet seen twice for one sent twice.
func (c Code) canBeCopy() bool {
	switch c {
	case CodeSynRetransmit, CodeSynAckRetransmit, CodeRetransmission, CodeFastRetransmission,
		CodeSpuriousRetransmission, CodeOutOfOrder, CodeDupAck:
		return true
	}
	return false
}

// copied returns the evidence of a finding about a copy, and false when
// the finding is not about one.
func (fi Finding) copied() (copyNote, bool) {
	if !fi.Code.canBeCopy() || fi.B < 0 || fi.B&copyFlag == 0 {
		return copyNote{}, false
	}
	b := fi.B
	return copyNote{ipID: uint16(b >> 8), ttl: uint8(b >> 24), copyTTL: uint8(b >> 32), micros: b >> 40 & copyMicrosMax}, true
}

// IsCopy reports whether the finding is about a copy of an earlier packet
// (the same IP datagram captured at a second point of its path), not about
// a packet its sender sent twice. The code stays Wireshark's
// (retransmission, duplicate ACK); the message says what it is.
func (fi Finding) IsCopy() bool {
	_, ok := fi.copied()
	return ok
}

// capturedTwice is what a copy is, as the flow alone can tell.
const capturedTwice = "captured at two points (routed between VLANs, or mirrored twice)"

// appendCopyMessage appends the sentence of a finding about the copy c:
// what was seen again, the evidence, what made the copy (how: "captured
// at two points …", or where a path found a device on the way that
// duplicated it), and what Wireshark calls it.
func appendCopyMessage(b []byte, fi Finding, c copyNote, how string) []byte {
	side := fi.side()
	switch fi.Code {
	case CodeSynRetransmit:
		side = FromClient
		b = append(b, "the same SYN seen again"...)
	case CodeSynAckRetransmit:
		side = FromServer
		b = append(b, "the same SYN-ACK seen again"...)
	case CodeDupAck:
		b = append(b, "the same ACK from the "...)
		b = append(b, sideName(side)...)
		b = append(b, " seen again"...)
	default:
		b = append(b, "the same "...)
		if fi.A > 0 {
			b = appendInt(b, fi.A)
			b = append(b, "-byte "...)
		}
		b = append(b, "segment from the "...)
		b = append(b, sideName(side)...)
		b = append(b, " seen again"...)
	}
	b = append(b, " (IP ID 0x"...)
	b = append(b, hexDigits[c.ipID>>12], hexDigits[c.ipID>>8&0xF], hexDigits[c.ipID>>4&0xF], hexDigits[c.ipID&0xF])
	b = append(b, ", TTL "...)
	b = appendUint(b, uint64(c.ttl))
	if c.copyTTL == c.ttl {
		b = append(b, " both times, "...)
	} else {
		b = append(b, " then "...)
		b = appendUint(b, uint64(c.copyTTL))
		b = append(b, ", "...)
	}
	b = appendMicros(b, c.micros)
	b = append(b, " later): a copy of one packet "...)
	b = append(b, how...)
	b = append(b, ", not a "...)
	if fi.Code == CodeDupAck {
		b = append(b, "duplicate ACK from the "...)
		b = append(b, sideName(side)...)
		b = append(b, "; Wireshark counts it as duplicate ACK #"...)
		return appendInt(b, fi.A)
	}
	if fi.Code == CodeOutOfOrder {
		b = append(b, "segment sent out of order by the "...)
		b = append(b, sideName(side)...)
		return append(b, "; Wireshark counts it as out-of-order"...)
	}
	b = append(b, "retransmission by the "...)
	b = append(b, sideName(side)...)
	switch fi.Code {
	case CodeFastRetransmission:
		return append(b, "; Wireshark counts it as a fast retransmission"...)
	case CodeSpuriousRetransmission:
		return append(b, "; Wireshark counts it as a spurious retransmission"...)
	}
	return append(b, "; Wireshark counts it as a retransmission"...)
}

// appendMicros appends a time of us microseconds in words: "15
// microseconds", "2.5 milliseconds".
func appendMicros(b []byte, us int64) []byte {
	switch {
	case us <= 0:
		return append(b, "less than a microsecond"...)
	case us < 1000:
		return appendCount64(b, us, " microsecond")
	}
	b = appendInt(b, us/1000)
	if frac := us % 1000; frac != 0 {
		d := [4]byte{'.', byte('0' + frac/100), byte('0' + frac/10%10), byte('0' + frac%10)}
		n := len(d)
		for d[n-1] == '0' {
			n--
		}
		b = append(b, d[:n]...)
	}
	if us == 1000 {
		return append(b, " millisecond"...)
	}
	return append(b, " milliseconds"...)
}
