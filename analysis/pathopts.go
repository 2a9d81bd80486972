package analysis

// This file compares the TCP options of the data segments (and ACKs) a
// connection's points both saw: a firewall that resets the timestamp
// option on every segment after the handshake (nftables' "reset tcp option
// timestamp": NOP NOP TS becomes 12 NOPs, the header length the same)
// breaks PAWS and the ends' RTT measurement, and was not said at all; the
// view said "the same segments, lengths and options at every point"
// (review realpath3, s4ts: 308 of the server's segments).
//
// The index entry (PacketRef) holds no option, and has no room for one:
// the options are read back from the capture files. Reading every
// matched segment at two points would read each file again; so, per pair
// of points and side, only the first matched segment after the handshake
// is read, and any whose IP less TCP payload length differs between the
// points (an option removed or added changes the header's length, at no
// cost to see). Where one of those differs, every matched segment of that
// side between the two points is read, to count them. The reads are
// gathered over all connections and made in file order, point by point:
// a gzip capture re-read backwards is decompressed again from its start
// (capture.Rereader).
//
// Limits: a device that changes the options of some segments only,
// keeping the header's length, and not the first of a side, is not seen;
// neither is a point that cannot be read back (a pipe, a live capture),
// whose connections say their SYN options only (SegmentOptionsCompared).
// Options are compared by kind (timestamps, SACK blocks, MD5...), not by
// value: a rewritten TSval is not a change here.

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// OptionChange is what a path.options_changed on a segment after the
// handshake tells: the first changed segment's options at the related
// point (Was) and at its own (Now), raw, and how many of the side's
// segments matched between the two points were read back (Compared), of
// which Count (on the finding) changed.
type OptionChange struct {
	Was, Now []byte
	Compared int
}

// optCand is one side of a connection between two points whose matched
// segments' options are compared: first the first matched segment and
// those whose header length changed (pairs), then, where one of those
// changed, every matched segment of the side.
type optCand struct {
	a, b     *Flow // the flows at points i and j (i before j)
	i, j     int
	side     Side
	pairs    [][2]PacketRef // up, down
	firstSet bool
}

// optComparable reports whether r's options can be compared with its copy
// at another point: a whole TCP header, not a SYN (its options are the
// handshake's, compared by compareOptions) nor a RST (a middlebox sends it
// in the receiver's name).
func optComparable(r PacketRef) bool {
	return r.Bits&(RefFragment|RefHeaderCut|RefMalformed|RefBadHeader) == 0 && r.Flags&(FlagSYN|FlagRST) == 0
}

// see takes a matched pair of the candidate's side (up where the segment
// was first) into the first reading: the first, and any whose header
// length changed.
func (c *optCand) see(ru, rd PacketRef) {
	if ru.Len != rd.Len || !optComparable(ru) || !optComparable(rd) {
		return
	}
	if !c.firstSet || int(ru.IPLen)-int(ru.Len) != int(rd.IPLen)-int(rd.Len) {
		c.pairs = append(c.pairs, [2]PacketRef{ru, rd})
		c.firstSet = true
	}
}

// SegmentOptionsCompared reports whether the options of the segments after
// the handshake were compared between points (every point can be read
// back): where they were not, only the SYN's and SYN-ACK's are.
func (pa *Path) SegmentOptionsCompared() bool { return pa.segOpts }

// rereadable reports whether every point's packets can be read back.
func (pa *Path) rereadable() bool {
	for _, p := range pa.points {
		if p.Reread == nil {
			return false
		}
	}
	return len(pa.points) > 1
}

// optReads reads packets' TCP options back, point by point in file order.
type optReads struct {
	pa   *Path
	want []map[int64]PacketRef // per point: offset → the packet indexed there
	got  []map[int64][]byte    // per point: offset → options (nil: unreadable)
}

func newOptReads(pa *Path) *optReads {
	r := &optReads{pa: pa, want: make([]map[int64]PacketRef, len(pa.points)), got: make([]map[int64][]byte, len(pa.points))}
	for p := range pa.points {
		r.want[p], r.got[p] = map[int64]PacketRef{}, map[int64][]byte{}
	}
	return r
}

func (o *optReads) ask(p int, r PacketRef) {
	if _, ok := o.got[p][r.Offset]; !ok {
		o.want[p][r.Offset] = r
	}
}

// read reads what was asked, in file order at each point.
func (o *optReads) read() {
	d := NewDecoder()
	var pkt Packet
	for p, want := range o.want {
		offs := make([]int64, 0, len(want))
		for off := range want {
			offs = append(offs, off)
		}
		slices.Sort(offs)
		for _, off := range offs {
			o.got[p][off] = nil
			r := want[off]
			rec, err := o.pa.points[p].Reread(off, r.Frame)
			if err != nil {
				continue
			}
			d.Decode(rec, &pkt)
			if !pkt.HasTCP || pkt.TCPOffset < 0 || pkt.HeaderCut || pkt.HeaderLen < 20 || pkt.TCPOffset+pkt.HeaderLen > len(rec.Data) {
				continue
			}
			// The packet read back must be the one indexed: a file
			// overwritten in place since it was read (a tcpdump -W
			// ring, a capture run again under the same name) holds
			// another there, and its options would be said as changed
			// between points (review diff21b). Such a point is said
			// once (Path.Changed) and its segments are not compared.
			if pkt.Seq != r.Seq || pkt.Ack != r.Ack || uint32(pkt.PayloadLen) != r.Len || pkt.Flags != r.Flags {
				if !slices.Contains(o.pa.Changed, p) {
					o.pa.Changed = append(o.pa.Changed, p)
				}
				continue
			}
			o.got[p][off] = append([]byte{}, rec.Data[pkt.TCPOffset+20:pkt.TCPOffset+pkt.HeaderLen]...)
		}
		clear(want)
	}
}

// opts returns the options read back of r at point p.
func (o *optReads) opts(p int, r PacketRef) ([]byte, bool) {
	b, ok := o.got[p][r.Offset]
	return b, ok && b != nil
}

// segmentOptions compares the options of the candidates' segments (see
// the top of the file) and says each side whose options changed between
// two points once, on the first changed segment, with how many changed.
func (pa *Path) segmentOptions() {
	pa.segOpts = pa.rereadable()
	if !pa.segOpts || len(pa.optCands) == 0 {
		pa.optCands = nil
		return
	}
	o := newOptReads(pa)
	ends := func(c *optCand) (up, down int) {
		if c.side == FromServer {
			return c.j, c.i
		}
		return c.i, c.j
	}
	for _, c := range pa.optCands {
		up, down := ends(c)
		for _, p := range c.pairs {
			o.ask(up, p[0])
			o.ask(down, p[1])
		}
	}
	o.read()
	changed := func(c *optCand, p [2]PacketRef) (was, now []byte, ok, diff bool) {
		up, down := ends(c)
		was, okU := o.opts(up, p[0])
		now, okD := o.opts(down, p[1])
		if !okU || !okD {
			return nil, nil, false, false
		}
		return was, now, true, !slices.Equal(optionKinds(was), optionKinds(now))
	}
	var again []*optCand
	for _, c := range pa.optCands {
		if slices.ContainsFunc(c.pairs, func(p [2]PacketRef) bool { _, _, _, d := changed(c, p); return d }) {
			again = append(again, c)
		}
	}
	if len(again) == 0 {
		pa.optCands = nil
		return
	}
	// Every matched segment of the sides that changed, to count them.
	for _, c := range again {
		m := matchSegs(c.a, c.b, pa.pairOff(c.i, c.j), pa.shifts.of(c.a, c.b))
		c.pairs = c.pairs[:0]
		for _, p := range m.pairs {
			ra, rb := c.a.Refs[p.a], c.b.Refs[p.b]
			if ra.Side() != c.side {
				continue
			}
			ru, rd := ra, rb
			if c.side == FromServer {
				ru, rd = rb, ra
			}
			if ru.Len == rd.Len && optComparable(ru) && optComparable(rd) {
				c.pairs = append(c.pairs, [2]PacketRef{ru, rd})
			}
		}
		up, down := ends(c)
		for _, p := range c.pairs {
			o.ask(up, p[0])
			o.ask(down, p[1])
		}
	}
	o.read()
	for _, c := range again {
		up, down := ends(c)
		fd := c.b
		if c.side == FromServer {
			fd = c.a
		}
		slices.SortFunc(c.pairs, func(x, y [2]PacketRef) int { return cmp.Compare(x[1].Frame, y[1].Frame) })
		var fi *PathFinding
		n := 0
		for _, p := range c.pairs {
			was, now, ok, diff := changed(c, p)
			if !ok {
				continue
			}
			n++
			if !diff {
				continue
			}
			if fi == nil {
				fi = &PathFinding{Code: PathOptionsChanged, Point: down, Frame: p[1].Frame, RelatedPoint: up, RelatedFrame: p[0].Frame,
					Options: &OptionChange{Was: was, Now: now}}
			}
			fi.Count++
		}
		if fi != nil {
			fi.Options.Compared = n
			pa.add(fd, *fi)
			sortFindings(pa.Findings[fd])
		}
	}
	pa.optCands = nil
}

// optionKinds lists the kinds of the options in b, no-operations left
// out, up to the end of the list, in order of kind.
func optionKinds(b []byte) []byte {
	var out []byte
	for i := 0; i < len(b); {
		k := b[i]
		if k == 0 {
			break
		}
		if k == 1 {
			i++
			continue
		}
		out = append(out, k)
		if i+1 >= len(b) || b[i+1] < 2 {
			break
		}
		i += int(b[i+1])
	}
	slices.Sort(out)
	return out
}

// optionName names an option kind, as the sentences do.
func optionName(k byte) string {
	switch k {
	case 2:
		return "MSS"
	case 3:
		return "window scale"
	case 4:
		return "SACK permitted"
	case 5:
		return "SACK blocks"
	case 8:
		return "timestamps"
	case 19:
		return "MD5 signature"
	case 29:
		return "TCP-AO"
	case 30:
		return "MPTCP"
	case 34, 254:
		return "fast open"
	}
	return fmt.Sprintf("option %d", k)
}

// optionLayout gives options as a person reads them in a dump: "NOP NOP
// TS", runs of NOPs counted ("12 NOPs"), "none".
func optionLayout(b []byte) string {
	var parts []string
	nops := 0
	flush := func() {
		switch {
		case nops == 1:
			parts = append(parts, "NOP")
		case nops == 2:
			parts = append(parts, "NOP NOP")
		case nops > 2:
			parts = append(parts, fmt.Sprintf("%d NOPs", nops))
		}
		nops = 0
	}
	for i := 0; i < len(b); {
		k := b[i]
		if k == 1 {
			nops++
			i++
			continue
		}
		flush()
		if k == 0 {
			parts = append(parts, "EOL")
			break
		}
		name := map[byte]string{2: "MSS", 3: "WS", 4: "SACK-perm", 5: "SACK", 8: "TS", 19: "MD5", 29: "AO", 30: "MPTCP", 34: "TFO"}[k]
		if name == "" {
			name = fmt.Sprintf("kind %d", k)
		}
		parts = append(parts, name)
		if i+1 >= len(b) || b[i+1] < 2 {
			break
		}
		i += int(b[i+1])
	}
	flush()
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, " ")
}

// kindsDiff says which option kinds went and came between was and now:
// "timestamps removed", "SACK blocks added".
func kindsDiff(was, now []byte) string {
	kw, kn := optionKinds(was), optionKinds(now)
	var gone, came []string
	for _, k := range kw {
		if i := slices.Index(kn, k); i >= 0 {
			kn = slices.Delete(kn, i, i+1)
		} else if n := optionName(k); !slices.Contains(gone, n) {
			gone = append(gone, n)
		}
	}
	for _, k := range kn {
		if n := optionName(k); !slices.Contains(came, n) {
			came = append(came, n)
		}
	}
	var parts []string
	if len(gone) > 0 {
		parts = append(parts, strings.Join(gone, " and ")+" removed")
	}
	if len(came) > 0 {
		parts = append(parts, strings.Join(came, " and ")+" added")
	}
	return strings.Join(parts, ", ")
}

// segmentOptionsText says a path.options_changed on a segment after the
// handshake: what changed, on how many of the side's segments, and the
// first one's options at both points.
func segmentOptionsText(fi PathFinding, at, rel, arrow string) string {
	oc := fi.Options
	who := sideWord(fi.RelatedPoint, fi.Point)
	of := fmt.Sprintf("%d of the %s's %d segments", fi.Count, who, oc.Compared)
	if fi.Count == oc.Compared {
		of = fmt.Sprintf("every one of the %s's %d segments", who, oc.Compared)
	}
	s := fmt.Sprintf("%s from %s after the handshake between %s and %s (the first: frame %d at %s, %s %s frame %d at %s, %s)",
		kindsDiff(oc.Was, oc.Now), of, rel, at, fi.RelatedFrame, rel, optionLayout(oc.Was), arrow, fi.Frame, at, optionLayout(oc.Now))
	if slices.Contains(optionKinds(oc.Was), 8) && !slices.Contains(optionKinds(oc.Now), 8) {
		s += ": the receiver has no timestamps on them (PAWS, RTT measurement)"
	}
	return s
}
