package ui

import (
	"fmt"
	"strings"

	"github.com/synscope/synscope/analysis"
	"github.com/synscope/synscope/themes"
)

// shortFinding says a finding in a few words, at most room columns when it
// can, for a list row or a ladder row. It needs only the finding (not its
// flow), so it works on the summaries taken while a capture is still being
// read. Flow.Message gives the whole sentence in the drill-down.
func shortFinding(fi analysis.Finding, g themes.Glyphs, room int) string {
	s := findingWords(fi, g)
	if width(s) <= room {
		return s
	}
	for _, c := range compactFinding(fi, g) {
		s = c
		if width(c) <= room {
			break
		}
	}
	return s
}

// compactFinding gives shorter and shorter forms of the findings whose
// words carry a number, so that the number survives a narrow column.
func compactFinding(fi analysis.Finding, g themes.Glyphs) []string {
	if fi.IsCopy() {
		return []string{copiedName(fi.Code) + " copy"}
	}
	switch fi.Code {
	case analysis.CodeSynAckPayload:
		return []string{fmt.Sprintf("SYN-ACK +%dB", fi.A), fmt.Sprintf("SYN-ACK+%dB", fi.A)}
	case analysis.CodeAckMismatch:
		d := int32(uint32(fi.B) - uint32(fi.A))
		return []string{fmt.Sprintf("ACK%sISN+1 %+d", g.NotEqual, d), fmt.Sprintf("bad ACK %+d", d)}
	case analysis.CodeSynPayload:
		return []string{fmt.Sprintf("SYN +%dB", fi.A)}
	}
	switch {
	case fi.CapturedBefore():
		return []string{"resent (ooo)", "resent"}
	case fi.HasDSACK():
		return []string{"dup ack D-SACK"}
	}
	return nil
}

func findingWords(fi analysis.Finding, g themes.Glyphs) string {
	if fi.IsCopy() {
		// The same packet captured at two points, which Wireshark (and
		// the code) takes for a retransmission or a duplicate ACK.
		return "same " + copiedName(fi.Code) + " seen again"
	}
	switch fi.Code {
	case analysis.CodeSynAckPayload:
		return fmt.Sprintf("SYN-ACK carries %d byte%s", fi.A, plural(int(fi.A)))
	case analysis.CodeAckMismatch:
		return fmt.Sprintf("ACK %s ISN+1 (%+d)", g.NotEqual, int32(uint32(fi.B)-uint32(fi.A)))
	case analysis.CodeSynAckAckMismatch:
		return fmt.Sprintf("SYN-ACK ACK %s ISN+1 (%+d)", g.NotEqual, int32(uint32(fi.B)-uint32(fi.A)))
	case analysis.CodeSynPayload:
		return fmt.Sprintf("SYN carries %d byte%s", fi.A, plural(int(fi.A)))
	case analysis.CodeTFO:
		return "TCP Fast Open"
	case analysis.CodeRefused:
		if fi.Severity() == analysis.Warning {
			// Sent again, and answered.
			return "refused, then answered"
		}
		return "refused (RST)"
	case analysis.CodeUnanswered:
		return "SYN unanswered"
	case analysis.CodeSynRetransmit:
		return "SYN sent again"
	case analysis.CodeSynAckRetransmit:
		return "SYN-ACK sent again"
	case analysis.CodeIncomplete:
		return "no third segment"
	case analysis.CodeSynAckWithoutSyn:
		return "SYN-ACK without SYN"
	case analysis.CodeNotSeen:
		return "handshake not seen"
	case analysis.CodeWScaleOneSided:
		return "one-sided window scale"
	case analysis.CodeMSSMissing:
		return "no MSS option"
	case analysis.CodeRST:
		switch ignored, outside := fi.RSTIgnored(); {
		case fi.RSTOfStale():
			// The client's answer to the server's ACK of an older
			// connection on these ports: not a reset of this one.
			return "RST of stale conn."
		case outside:
			return "RST out of window"
		case ignored:
			return "RST challenged"
		}
		return "reset"
	case analysis.CodeChecksumOffload:
		return "checksum offload"
	case analysis.CodeChecksumBad:
		return "bad checksum"
	case analysis.CodeMalformed:
		return "damaged packet"
	}
	// Wireshark's codes, where the capture shows more than its words.
	switch {
	case fi.CapturedBefore():
		// Its bytes were captured before: sent again, not late.
		return "resent (out of order)"
	case fi.ProbesZeroWindow():
		// A keep-alive's shape, probing the other side's zero window.
		return "zw probe"
	case fi.HasDSACK():
		return "dup ack, D-SACK"
	}
	_, short, _ := strings.Cut(fi.Code.String(), ".")
	return strings.ReplaceAll(short, "_", " ")
}

// copiedName names what a finding about a copy saw again.
func copiedName(c analysis.Code) string {
	switch c {
	case analysis.CodeSynRetransmit:
		return "SYN"
	case analysis.CodeSynAckRetransmit:
		return "SYN-ACK"
	case analysis.CodeDupAck:
		return "ACK"
	}
	return "segment"
}
