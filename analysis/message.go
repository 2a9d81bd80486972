package analysis

import (
	"encoding/hex"
	"fmt"
	"strings"
	"time"
)

// Message returns the sentence a person reads for one of f's findings. It
// is plain text: the ui and the report style it.
func (f *Flow) Message(fi Finding) string {
	h := &f.Handshake
	switch fi.Code {
	case CodeSynAckPayload:
		n := int(fi.A)
		msg := fmt.Sprintf("SYN-ACK carries %d byte%s of TCP payload (%s); a SYN-ACK should carry none",
			n, plural(n), payloadHex(h.SynAckBytes[:h.SynAckCaptured], n))
		if fi.B == 1 {
			msg += ": the bytes look like Ethernet padding taken into the IP datagram by a device in the path"
		}
		return msg
	case CodeAckMismatch:
		exp, act := uint32(fi.A), uint32(fi.B)
		diff := int32(act - exp)
		msg := fmt.Sprintf("ACK expected %d (server ISN+1), got %d (%+d)", exp, act, diff)
		switch {
		case h.SynAckPayload > 0 && act == exp+uint32(h.SynAckPayload):
			msg += fmt.Sprintf(": the client acknowledged the %d byte%s of SYN-ACK payload (frame %d). RFC 9293 allows it, "+
				"but stateful firewalls that require ACK = ISN+1 drop this segment (Microsoft TMG logs FWX_E_SEQ_ACK_MISMATCH 0xC0040034), "+
				"so the connection never establishes through them",
				h.SynAckPayload, plural(h.SynAckPayload), h.SynAckFrame)
		case h.SynAckPadding > 0 && int(diff) == h.SynAckPadding:
			msg += fmt.Sprintf(": it acknowledges %d byte%s the server never sent. The SYN-ACK (frame %d) left here with %d byte%s of "+
				"Ethernet padding: a device between here and the client that takes padding into the IP datagram would make the client "+
				"acknowledge exactly these. Stateful firewalls drop this segment (Microsoft TMG: FWX_E_SEQ_ACK_MISMATCH)",
				diff, plural(int(diff)), h.SynAckFrame, h.SynAckPadding, plural(h.SynAckPadding))
		default:
			msg += ": it acknowledges bytes that were never sent; stateful firewalls drop this segment"
		}
		return msg
	case CodeSynAckAckMismatch:
		return fmt.Sprintf("SYN-ACK acknowledges %d, expected %d (client ISN+1%s): it does not answer the SYN of frame %d",
			uint32(fi.B), uint32(fi.A), tfoNote(h), h.SynFrame)
	case CodeSynPayload:
		return fmt.Sprintf("SYN carries %d byte%s of data (%s) without a TCP Fast Open cookie", fi.A, plural(int(fi.A)),
			payloadHex(h.SynBytes[:h.SynCaptured], int(fi.A)))
	case CodeTFO:
		switch {
		case fi.A == 0:
			return "SYN carries a TCP Fast Open cookie request, no data"
		case fi.B == 1:
			return fmt.Sprintf("SYN carries a TCP Fast Open cookie and %d byte%s of data; the server accepted the data", fi.A, plural(int(fi.A)))
		case fi.B == 0:
			return fmt.Sprintf("SYN carries a TCP Fast Open cookie and %d byte%s of data; the server did not accept the data", fi.A, plural(int(fi.A)))
		}
		return fmt.Sprintf("SYN carries a TCP Fast Open cookie and %d byte%s of data; no SYN-ACK seen", fi.A, plural(int(fi.A)))
	case CodeRefused:
		return fmt.Sprintf("connection refused: the SYN (frame %d) was answered with a RST from %s", fi.RelatedFrame, f.Server)
	case CodeUnanswered:
		return fmt.Sprintf("%d SYN%s over %s with neither SYN-ACK nor RST in the capture", fi.A, plural(int(fi.A)), seconds(fi.B))
	case CodeSynRetransmit:
		return fmt.Sprintf("SYN sent again (same ISN %d, #%d): the first was not answered", h.ClientISN, fi.A)
	case CodeSynAckRetransmit:
		return fmt.Sprintf("SYN-ACK sent again (same ISN %d, #%d): the server never saw an acceptable third segment", h.ServerISN, fi.A)
	case CodeIncomplete:
		return "SYN and SYN-ACK seen, but no third segment from the client"
	case CodeSynAckWithoutSyn:
		return "SYN-ACK with no SYN in the capture"
	case CodeNotSeen:
		return "the capture starts mid-connection: no handshake seen"
	case CodeWScaleOneSided:
		c, s := "did not", "did not"
		if h.Client.HasWScale {
			c = fmt.Sprintf("offered shift %d", h.Client.WScale)
		}
		if h.Server.HasWScale {
			s = fmt.Sprintf("offered shift %d", h.Server.WScale)
		}
		return fmt.Sprintf("window scaling offered by one side only (client %s, server %s): neither side scales", c, s)
	case CodeMSSMissing:
		if fi.Frame == h.SynAckFrame {
			return "SYN-ACK without the MSS option"
		}
		return "SYN without the MSS option"
	case CodeRetransmission:
		return fmt.Sprintf("retransmission by the %s (%d bytes)", sideName(Side(fi.B)), fi.A)
	case CodeFastRetransmission:
		return fmt.Sprintf("fast retransmission by the %s after duplicate ACKs (%d bytes)", sideName(Side(fi.B)), fi.A)
	case CodeSpuriousRetransmission:
		return fmt.Sprintf("spurious retransmission by the %s: the data was already acknowledged", sideName(Side(fi.B)))
	case CodeOutOfOrder:
		return fmt.Sprintf("out-of-order segment from the %s", sideName(Side(fi.B)))
	case CodeLostSegment:
		return fmt.Sprintf("previous segment from the %s not captured (%d bytes missing)", sideName(Side(fi.B)), fi.A)
	case CodeAckUnseen:
		return fmt.Sprintf("the %s acknowledges data that was never captured (ACK %d)", sideName(Side(fi.B)), uint32(fi.A))
	case CodeDupAck:
		return fmt.Sprintf("duplicate ACK #%d from the %s", fi.A, sideName(Side(fi.B)))
	case CodeZeroWindow:
		return fmt.Sprintf("zero window from the %s: it cannot take more data", sideName(Side(fi.B)))
	case CodeZeroWindowProbe:
		return fmt.Sprintf("zero window probe from the %s", sideName(Side(fi.B)))
	case CodeWindowFull:
		return fmt.Sprintf("the %s filled the receiver's window", sideName(Side(fi.B)))
	case CodeWindowUpdate:
		return fmt.Sprintf("window update from the %s (window %d)", sideName(Side(fi.B)), fi.A)
	case CodeKeepAlive:
		return fmt.Sprintf("keep-alive from the %s", sideName(Side(fi.B)))
	case CodeReusedPorts:
		if fi.B == 1 {
			return "SYN-ACK with a new ISN: the server started the connection over"
		}
		return fmt.Sprintf("a new connection (flow %d) took over these ports before this one ended", fi.A)
	case CodeRST:
		s := Side(fi.A)
		return fmt.Sprintf("connection reset by the %s (%s)", sideName(s), f.endpoint(s))
	case CodeDataAfterClose:
		return fmt.Sprintf("%d bytes of data after the connection was closed", fi.A)
	case CodeChecksumOffload:
		return fmt.Sprintf("%d packet%s sent by the capturing host with bad checksums: checksum offload (the NIC fills them in after the capture point)",
			fi.A, plural(int(fi.A)))
	case CodeChecksumBad:
		return fmt.Sprintf("bad checksum on a packet from the %s (%s)", sideName(Side(fi.A)), f.endpoint(Side(fi.A)))
	case CodeMalformed:
		for _, m := range f.malformed {
			if m.frame == fi.Frame {
				return fmt.Sprintf("damaged packet: %s at byte %d: %s", m.layer, fi.A, m.reason)
			}
		}
		return fmt.Sprintf("damaged packet: decoding stops at byte %d", fi.A)
	}
	return fi.Code.String()
}

func (f *Flow) endpoint(s Side) string {
	if s == FromClient {
		return f.Client.String()
	}
	return f.Server.String()
}

func sideName(s Side) string {
	if s == FromClient {
		return "client"
	}
	return "server"
}

func tfoNote(h *Handshake) string {
	if h.Client.TFO && h.SynPayload > 0 {
		return fmt.Sprintf(", or +%d with Fast Open data", h.SynPayload)
	}
	return ""
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// payloadHex shows the first bytes of a payload in hex, noting how many
// more there are.
func payloadHex(b []byte, n int) string {
	shown := min(n, len(b))
	s := strings.TrimSpace(spacedHex(b[:shown]))
	if n > shown {
		s += fmt.Sprintf(" …+%d", n-shown)
	}
	if s == "" {
		return "not captured"
	}
	return "bytes " + s
}

func spacedHex(b []byte) string {
	var sb strings.Builder
	for i, c := range b {
		if i > 0 {
			sb.WriteByte(' ')
		}
		sb.WriteString(hex.EncodeToString([]byte{c}))
	}
	return sb.String()
}

func seconds(ns int64) string {
	return time.Duration(ns).Round(time.Millisecond).String()
}
