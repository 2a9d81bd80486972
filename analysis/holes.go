package analysis

// This file remembers where the capture misses a side's bytes below the
// highest sequence number it sent: its holes. Wireshark calls a segment
// behind that number, sent within the initial RTT of the one that set it,
// out of order (tcp.out_of_order), and synscope keeps the code; but when
// every byte of it is in segments captured before, it is a retransmission,
// not a segment that arrived late, and its message says so. On the
// sender's own capture there is never a hole: the 29 go-back-N segments
// after an RTO on a Linux client's capture (realtcp rto-a.pcap) were all
// "out-of-order", and so was, on a receiver's capture without a single
// lost segment, the server's segment sent again 1 ms after the original
// (half-a.pcap frame 1559, first sent in frame 1254).
//
// A side's bytes from its base (the ISN, or the first number seen less
// one) up to its next expected sequence number are in the capture, but for
// the holes. A hole is made where the sequence analysis finds bytes
// skipped: a segment past the next expected number (tcp.lost_segment, or a
// RST, which moves that number as Wireshark's analysis does, without a
// flag), and a side whose first segment starts past what the other side
// had acknowledged (its base). A segment that does not advance the
// sequence number fills what it covers of them.
//
// None of it runs for a healthy segment: holes are made where a flag was
// found or on a side's first segment, and filled and read only by segments
// that do not advance the sequence number, all of which carry a finding
// (seqFindings). The holes live in flowNotes, allocated on the first one.
//
// Limitations: a flow remembers maxHoles holes a side. Past them, nothing
// from the start of the first that did not fit is known to be captured
// (seqHoles.lost), and a hole a segment would split in two when the list
// is full stays whole: both only keep Wireshark's words where they could
// have been replaced. A SYN-ACK with a new ISN (tcp.reused_ports) starts
// the server's numbers over: nothing of them is known captured after it.

// maxHoles is how many holes of one side a flow remembers: 8 (144 bytes a
// flow with holes, both sides). A receiver's capture on a lossy link has a
// hole for each segment lost upstream, until its retransmission fills it.
const maxHoles = 8

// seqHoles are the holes of one side: the ranges [lo, hi) of sequence
// numbers it sent that the capture does not hold, below the highest it
// sent.
type seqHoles struct {
	h [maxHoles][2]uint32
	n uint8
	// full: a hole did not fit, and lost is the lowest number of such a
	// hole: from it on, the holes are not all known.
	full bool
	lost uint32
}

// addHole notes that the capture holds none of side's sequence numbers
// lo to hi-1.
func (f *Flow) addHole(side Side, lo, hi uint32) {
	if !seqLT(lo, hi) {
		return
	}
	n := f.note()
	if n.holes == nil {
		n.holes = new([2]seqHoles)
	}
	s := &n.holes[side]
	switch {
	case int(s.n) < maxHoles:
		s.h[s.n] = [2]uint32{lo, hi}
		s.n++
	case !s.full || seqLT(lo, s.lost):
		s.full, s.lost = true, lo
	}
}

// forgetCaptured notes that nothing side sent from seq on is known to be
// captured: its numbers started over there.
func (f *Flow) forgetCaptured(side Side, seq uint32) {
	n := f.note()
	if n.holes == nil {
		n.holes = new([2]seqHoles)
	}
	n.holes[side] = seqHoles{full: true, lost: seq}
}

// fillHoles notes that side's sequence numbers lo to hi-1 are now in the
// capture: a segment sent again, or late, over them.
func (f *Flow) fillHoles(side Side, lo, hi uint32) {
	if f.notes == nil || f.notes.holes == nil {
		return
	}
	s := &f.notes.holes[side]
	for i := 0; i < int(s.n); {
		h := &s.h[i]
		if !seqLT(lo, h[1]) || !seqLT(h[0], hi) {
			i++ // apart
			continue
		}
		switch {
		case seqLE(lo, h[0]) && seqLE(h[1], hi):
			// All of it: the last hole takes its place.
			s.n--
			s.h[i] = s.h[s.n]
			continue
		case seqLE(lo, h[0]):
			h[0] = hi // its start
		case seqLE(h[1], hi):
			h[1] = lo // its end
		case int(s.n) < maxHoles:
			// Its middle: two holes.
			s.h[s.n] = [2]uint32{hi, h[1]}
			s.n++
			h[1] = lo
		}
		i++
	}
}

// capturedBefore reports whether the capture holds every one of side's
// sequence numbers lo to hi-1, all below its next expected one (the
// caller's to know): none is before the side's base, in a hole, or past
// where its holes stopped being known.
func (f *Flow) capturedBefore(side Side, lo, hi uint32) bool {
	if seqLE(lo, f.dir[side].baseSeq) {
		return false
	}
	if f.notes == nil || f.notes.holes == nil {
		return true
	}
	s := &f.notes.holes[side]
	if s.full && seqGT(hi, s.lost) {
		return false
	}
	for _, h := range s.h[:s.n] {
		if seqLT(lo, h[1]) && seqLT(h[0], hi) {
			return false
		}
	}
	return true
}
