package analysis

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
)

// PathGlyphs are the characters a path sentence uses that a terminal in
// ASCII mode does not show.
type PathGlyphs struct{ Arrow, NotEqual, Sep string }

// unicodeGlyphs are the glyphs of the JSON record's and export's text.
var unicodeGlyphs = PathGlyphs{Arrow: "→", NotEqual: "≠", Sep: " · "}

// pathWords is what a sentence is said from.
type pathWords struct {
	pa *Path
	c  *Connection
	g  PathGlyphs
}

// refAt returns the packet of point p's flow with the given frame.
func (w *pathWords) refAt(p int, frame uint64) (PacketRef, bool) {
	if p < 0 || p >= len(w.c.Flows) || w.c.Flows[p] == nil {
		return PacketRef{}, false
	}
	return refOf(w.c.Flows[p], frame)
}

// point names a capture point: its label, or its file's base name.
func (w *pathWords) point(p int) string {
	if p < 0 || p >= len(w.pa.Points) {
		return "?"
	}
	return filepath.Base(w.pa.Points[p])
}

// sideWord names the side that sends the packets travelling from point up
// to point down.
func sideWord(up, down int) string {
	if up < down {
		return "client"
	}
	return "server"
}

// hexUpTo gives the first max bytes of b in hex, and how many more.
func hexUpTo(b []byte, max int) string {
	s := spacedHex(b[:min(len(b), max)])
	if len(b) > max {
		s += fmt.Sprintf(" …+%d", len(b)-max)
	}
	return s
}

// sentences sets the Message of every path finding: Sentence's words.
func (pa *Path) sentences() {
	for _, c := range pa.Conns {
		for _, f := range c.Flows {
			fs := pa.Findings[f]
			for i := range fs {
				fs[i].Message = pa.Sentence(c, fs[i], unicodeGlyphs)
			}
		}
	}
}

// Sentence says path finding fi of connection c in words, from its typed
// values and the packets it names, with the glyphs g: the one wording of
// a path finding, in the view, --report, the JSON record and an export's
// packet comments (they read differently, and the report's lacked what
// the JSON said).
func (pa *Path) Sentence(c *Connection, fi PathFinding, g PathGlyphs) string {
	w := pathWords{pa, c, g}
	at, rel := w.point(fi.Point), w.point(fi.RelatedPoint)
	r, _ := w.refAt(fi.Point, fi.Frame)
	ru, _ := w.refAt(fi.RelatedPoint, fi.RelatedFrame)
	switch fi.Code {
	case PathPayloadAdded, PathPayloadRemoved:
		verb := "grew"
		if fi.Code == PathPayloadRemoved {
			verb = "shrank"
		}
		detail := fmt.Sprintf("IP length %d %s %d", ru.IPLen, w.g.Arrow, r.IPLen)
		if len(fi.Data) > 0 {
			detail += ", bytes " + hexUpTo(fi.Data, 16)
			if allZero(fi.Data) && int(r.IPLen)+14 <= 64 {
				detail += ": Ethernet padding?"
			}
		}
		return fmt.Sprintf("%s %s by %d byte%s between %s and %s (%s)", SegmentName(ru), verb, fi.Bytes, plural(fi.Bytes), rel, at, detail)
	case PathDropped, PathTooBig:
		how := "between them"
		if f := w.c.Flows[fi.Point]; f != nil {
			if a, ok := f.First(CodeAckMismatch); ok && a.Frame == fi.Frame {
				// The wrong ACK is what a stateful firewall refuses
				// (the flow's ack_mismatch finding says so); the points
				// do not tell which device between them dropped it.
				how = fmt.Sprintf("on the way; ACK %d %s server ISN+1 %d", uint32(a.B), w.g.NotEqual, uint32(a.A))
			}
		}
		if fi.Bytes > 0 && uint32(fi.Bytes) < r.Len {
			// A piece of a segment cut on the way (resegmented).
			return fmt.Sprintf("%d of the %d bytes of %s (frame %d at %s) never reached %s, the segment cut into pieces on the way: that piece was dropped between them",
				fi.Bytes, r.Len, SegmentName(r), fi.Frame, at, rel)
		}
		tb, tail := tooBigText(&w, fi, r, at)
		if tb != "" {
			how = tb
		} else {
			how = "dropped " + how
		}
		if fi.Code == PathTooBig {
			tail += " (path MTU discovery)"
		}
		return fmt.Sprintf("%s (frame %d at %s) never reached %s: %s%s", SegmentName(r), fi.Frame, at, rel, how, tail)
	case PathInjected:
		if o, ok := w.refAt(fi.Point, fi.OtherFrame); ok && fi.OtherFrame != 0 {
			// Its TTL not the one its side's forwarded packets arrive
			// with there.
			return fmt.Sprintf("%s (frame %d at %s) was not seen at %s, which it should have passed: sent by a device between %s and %s: TTL %d where the %s's packets arrive with %d (frame %d)",
				SegmentName(r), fi.Frame, at, rel, rel, at, r.TTL, sideWord(fi.RelatedPoint, fi.Point), o.TTL, o.Frame)
		}
		return fmt.Sprintf("%s (frame %d at %s) was not seen at %s, which it should have passed: injected between them", SegmentName(r), fi.Frame, at, rel)
	case PathMSSChanged, PathOptionsChanged:
		if fi.Options != nil {
			return segmentOptionsText(fi, at, rel, w.g.Arrow)
		}
		name, ou, od := w.synOptions(fi)
		if fi.Code == PathMSSChanged {
			return fmt.Sprintf("%s's MSS changed from %s at %s to %s at %s: MSS clamping", name, mssWord(ou), rel, mssWord(od), at)
		}
		return fmt.Sprintf("%s's options changed between %s and %s: %s %s %s", name, rel, at, optionsText(ou, w.g.Sep), w.g.Arrow, optionsText(od, w.g.Sep))
	case PathWindowChanged:
		return fmt.Sprintf("the %s's window changed from %d at %s to %d at %s (%s, frame %d)", sideWord(fi.RelatedPoint, fi.Point), ru.Window, rel, r.Window, at, SegmentName(r), fi.Frame)
	case PathTOSChanged:
		return fmt.Sprintf("the %s's TOS changed from %#02x at %s to %#02x at %s", sideWord(fi.RelatedPoint, fi.Point), ru.TOS, rel, r.TOS, at)
	case PathTTL:
		return ttlText(&w, fi, at, rel)
	case PathClockOffset:
		return clockText(at, rel, fi.Seconds)
	case PathNAT:
		a, b := w.c.Flows[fi.RelatedPoint], w.c.Flows[fi.Point]
		var parts []string
		if a.Client() != b.Client() {
			parts = append(parts, fmt.Sprintf("client %s at %s is %s at %s", a.Client(), rel, b.Client(), at))
		}
		if a.Server() != b.Server() {
			parts = append(parts, fmt.Sprintf("server %s at %s is %s at %s", a.Server(), rel, b.Server(), at))
		}
		return "address translation: " + strings.Join(parts, "; ")
	case PathISNRewritten:
		a, b := w.c.Flows[fi.RelatedPoint], w.c.Flows[fi.Point]
		hb := &b.Handshake
		var parts []string
		// The ISNs the numbers count from (pairISNs): of a server's
		// SYN-ACKs of several ISNs, the one acknowledged.
		for _, s := range []Side{FromClient, FromServer} {
			if ia, ib, ok := pairISNs(a, b, s); ok && ia != ib {
				parts = append(parts, fmt.Sprintf("%s ISN %d at %s is %d at %s (%+d)", sideName(s), ia, rel, ib, at, int32(ib-ia)))
			}
		}
		for side, d := range w.pa.shifts.of(a, b) {
			if d != 0 {
				missed, who := at, "client"
				if hb.HaveSyn || hb.HaveSynAck {
					missed = rel
				}
				if Side(side) == FromServer {
					who = "server"
				}
				parts = append(parts, fmt.Sprintf("the %s's numbers at %s are those at %s %+d (%s saw no handshake: found from the segments)",
					who, at, rel, int32(d), missed))
			}
		}
		return "sequence numbers rewritten by a constant offset: " + strings.Join(parts, "; ")
	case PathUnjoined:
		if f := w.c.Flows[fi.Point]; f != nil {
			if tw, ok := w.pa.twins[f]; ok {
				return fmt.Sprintf("seen at %s only: flow %d at %s has its addresses and ports at the same time, but not its ISNs, nor its segments' numbers (or none that tell one shift of them, as a one-way transfer whose ACK never moves): not joined", at, tw.id, w.point(tw.point))
			}
		}
		if fi.OtherFrame != 0 {
			return fmt.Sprintf("seen at %s only: no flow at the other points has its ISNs or its segments; its packets were answered (frame %d at %s), so they went another way (another interface of a firewall, a host on the same LAN) or the other captures left them out", at, fi.OtherFrame, at)
		}
		return fmt.Sprintf("seen at %s only: no flow at the other points has its ISNs or its segments", at)
	case PathResegmented:
		return resegmentedText(fi, r, at, rel)
	case PathDuplicated:
		return fmt.Sprintf("%s (frame %d at %s) is one more copy of frame %d at %s, which %s saw fewer times: duplicated between them",
			SegmentName(r), fi.Frame, at, fi.RelatedFrame, rel, rel)
	case PathOneWay:
		return oneWayText(fi, r.Side(), at, rel)
	case PathSwapped:
		return fmt.Sprintf("the same connection as at %s (the same sequence and ACK numbers), its direction guessed the other way at %s, which saw no SYN: its packets are not compared between the two", rel, at)
	case PathBypassed:
		c := w.point(fi.RelatedPoint + 1)
		return fmt.Sprintf("the connection was not seen at %s, though %s and %s saw it: it went another way (ECMP, the other firewall of a pair), or %s's capture left it out", rel, at, c, rel)
	case PathUncaptured:
		if fi.RelatedFrame == 0 {
			// Not acknowledged itself (an ACK): the capture's other
			// misses around then say it.
			return fmt.Sprintf("%s (frame %d at %s) is not in %s's capture, which missed %d packet%s of this connection around then that their receiver acknowledged there (the nearest, frame %d at %s): %s's capture missed this one too, most likely, or it went another way",
				segName(r), fi.Frame, at, rel, fi.Count, plural(fi.Count), fi.OtherFrame, at, rel)
		}
		if fi.OtherFrame != 0 {
			// A copy came, and the receiver took the bytes later, amid
			// the capture's other misses: the copy was lost on the
			// receiving host after the capture point, this one taken.
			return fmt.Sprintf("%s (frame %d at %s) is not in %s's capture, though its receiver acknowledged it there (frame %d at %s), an earlier copy having reached that point (frame %d at %s), and that capture missed others of this connection around then: %s's capture missed it, most likely",
				segName(r), fi.Frame, at, rel, fi.RelatedFrame, rel, fi.OtherFrame, rel, rel)
		}
		return fmt.Sprintf("%s (frame %d at %s) is not in %s's capture, though its receiver acknowledged it there (frame %d at %s) and no copy of it came: %s's capture missed it, or it went another way",
			segName(r), fi.Frame, at, rel, fi.RelatedFrame, rel, rel)
	case PathFragmented:
		return fragmentedText(&w, fi)
	case PathReordered:
		return reorderedText(&w, fi)
	case PathPayloadChanged:
		return changedText(&w, fi, SegmentName(ru), rel, at)
	case PathCaptureEnded:
		return endedText(&w, fi, at, rel)
	case PathSynProxy:
		return proxyText(&w, fi, at, rel)
	case PathAnswered:
		return answeredText(&w, fi, at, rel)
	case PathScaling:
		// Said where the option changed: the ends' views are the
		// points nearest them that saw the handshake.
		cl, sv := scalingEnds(w.c)
		if cl < 0 {
			return fi.Code.String()
		}
		return scalingText(fi, w.point(cl), w.point(sv), rel, at, &w.c.Flows[cl].Handshake, &w.c.Flows[sv].Handshake)
	}
	return fi.Code.String()
}

// synOptions returns the SYN's or SYN-ACK's name and options upstream and
// downstream for an options finding.
func (w *pathWords) synOptions(fi PathFinding) (string, SideOptions, SideOptions) {
	down, up := w.c.Flows[fi.Point], w.c.Flows[fi.RelatedPoint]
	if down.Handshake.HaveSynAck && fi.Frame == down.Handshake.SynAckFrame {
		return "SYN-ACK", up.Handshake.Server, down.Handshake.Server
	}
	return "SYN", up.Handshake.Client, down.Handshake.Client
}

func mssWord(o SideOptions) string {
	if !o.HasMSS {
		return "none"
	}
	return fmt.Sprint(o.MSS)
}

// optionsText lists the options a side announced: "MSS 1460 · WS 2 · SACK
// · no TS".
func optionsText(o SideOptions, sep string) string {
	opt := []string{"no MSS", "no WS", "no SACK", "no TS"}
	if o.HasMSS {
		opt[0] = fmt.Sprintf("MSS %d", o.MSS)
	}
	if o.HasWScale {
		opt[1] = fmt.Sprintf("WS %d", o.WScale)
	}
	if o.SACKPerm {
		opt[2] = "SACK"
	}
	if o.HasTS {
		opt[3] = "TS"
	}
	if o.TFO {
		opt = append(opt, "TFO")
	}
	return strings.Join(opt, sep)
}

// changedText says a path.payload_changed: the segment, and the bytes
// that changed (counted from 0, as a hex dump's offsets are) when both copies could be read back (as text when both
// are printable, as an ALG's rewrite of an address in a command is).
func changedText(w *pathWords, fi PathFinding, seg, rel, at string) string {
	s := fmt.Sprintf("%s changed between %s and %s, its length the same", seg, rel, at)
	if len(fi.Data) == 0 {
		return s + ": its bytes sum differently at the two points (they could not be read back to say which changed)"
	}
	which := fmt.Sprintf("payload byte %d differs", fi.At)
	if fi.Count > 1 {
		which = fmt.Sprintf("%d bytes differ in payload bytes %d-%d", fi.Bytes, fi.At, fi.At+fi.Count-1)
	}
	return fmt.Sprintf("%s: %s (%s %s %s)", s, which, bytesText(fi.Was, fi.Count), w.g.Arrow, bytesText(fi.Data, fi.Count))
}

// bytesText gives b, the first bytes of a span of n, as quoted text when
// every byte is printable ASCII, else in hex, with how many more the span
// holds.
func bytesText(b []byte, n int) string {
	text := true
	for _, c := range b {
		if c < 0x20 || c > 0x7e {
			text = false
			break
		}
	}
	if !text {
		return hexUpTo(b[:min(len(b), 16)], 16) + more(n-min(len(b), 16))
	}
	return strconv.Quote(string(b[:min(len(b), 40)])) + more(n-min(len(b), 40))
}

// more says how many bytes a shortened run left out.
func more(n int) string {
	if n <= 0 {
		return ""
	}
	return fmt.Sprintf(" …+%d", n)
}

// ttlText says a path.ttl finding: the hops a side's packets lose between
// two points, and the packets whose TTL changed unlike the rest (oddTTL).
func ttlText(w *pathWords, fi PathFinding, at, rel string) string {
	who := sideWord(fi.RelatedPoint, fi.Point)
	s := fmt.Sprintf("the %s's packets lose %d hop%s of TTL between %s and %s", who, fi.Hops, plural(fi.Hops), rel, at)
	if fi.Hops == 0 {
		s = fmt.Sprintf("the %s's packets keep their TTL between %s and %s", who, rel, at)
	}
	if fi.Count == 0 {
		return s
	}
	rd, _ := w.refAt(fi.Point, fi.OtherFrame)
	ru, _ := w.refAt(fi.RelatedPoint, fi.RelatedFrame)
	change := fmt.Sprintf("gained %d", int(rd.TTL)-int(ru.TTL))
	if rd.TTL < ru.TTL {
		change = fmt.Sprintf("lost %d", int(ru.TTL)-int(rd.TTL))
	}
	name := SegmentName(rd)
	s += fmt.Sprintf("; but its %s (frame %d at %s) has TTL %d there and had %d at %s (%s)", name, fi.OtherFrame, at, rd.TTL, ru.TTL, rel, change)
	if fi.Count > 1 {
		s += fmt.Sprintf(", and %d more of its packets changed TTL unlike the rest", fi.Count-1)
	}
	s += ": a device between them sent or rewrote it"
	if rd.Flags&(FlagSYN|FlagACK) == FlagSYN|FlagACK || rd.Flags&FlagRST != 0 {
		s += fmt.Sprintf(" in the %s's name (a SYN proxy answering the handshake itself, a forged answer)", who)
	}
	return s
}
