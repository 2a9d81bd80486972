package analysis

import (
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// A new connection on reused ports whose server still held the older one:
// three exchanges of the reviewer's real Linux captures under 10% loss
// (/tmp/review/realtcp, cap/manyloss-a.pcap and cap/manyloss2-a.pcap, the
// client's side), copied field by field from tshark (raw sequence
// numbers, flags, windows, options, IP IDs, TOS, times, the checksums the
// client's host left to its NIC). Each line ends with the frame number it
// had there; staleFrames maps those to the frames here.
//
// The server answers the new SYN with a segment of the older connection
// (an ACK, or its FIN sent again), whose ACK number is not the new ISN+1;
// the client, in SYN-SENT, answers that with a RST whose sequence number
// is that ACK number (RFC 9293 §3.10.7.3), which clears the older
// connection on the server; its SYN sent again opens this one. The RST
// was taken as ending this connection: "connection reset by the client",
// tcp.data_after_close on its request and reply, "the server started the
// connection over", and "the first [SYN] was not answered".

// staleHosts starts the descriptions: the reviewer's namespaces.
const staleHosts = `
client 10.77.0.1:40000 df
server 10.77.0.2:5024 df
`

// staleLastAckLost is manyloss-a.pcap frames 449-458 (the older
// connection: the client's final ACK, 458, was dropped at the server's
// input, which stayed in LAST-ACK) and 479-501 (the new one: the server's
// ACK of the older connection, 480; the client's RST at its ACK number,
// 481; the SYN again after 15 ms, 482, and the SYN-ACK, 483, which the
// client's host dropped after its capture point: the SYN again after 1 s,
// 490, and the rest of the connection).
const staleLastAckLost = staleHosts + `
time 2026-12-05T06:24:10.255244Z
6.511678  C>S SEC seq=3023814494 win=65160 mss=1460 sackok ts=2247964013/1937503464 nop ws=10 id=26623 badsum  # 449
6.511691  S>C SAE seq=2668504820 ack=3023814495 win=65160 mss=1460 sackok ts=1937504502/2247964013 nop ws=10 id=0 badsum  # 450
6.511699  C>S A   seq=3023814495 ack=2668504821 win=64 nop nop ts=2247964013/1937504502 id=26624 badsum  # 451
6.51187   C>S AP  seq=3023814495 ack=2668504821 win=64 len=4 nop nop ts=2247964013/1937504502 id=26625 tos=2 badsum  # 452
6.511875  S>C A   seq=2668504821 ack=3023814499 win=64 nop nop ts=1937504502/2247964013 id=12186 badsum  # 453
6.511941  S>C AP  seq=2668504821 ack=3023814499 win=64 len=3 nop nop ts=1937504502/2247964013 id=12187 tos=2 badsum  # 454
6.511944  C>S A   seq=3023814499 ack=2668504824 win=64 nop nop ts=2247964013/1937504502 id=26626 badsum  # 455
6.511954  C>S AF  seq=3023814499 ack=2668504824 win=64 nop nop ts=2247964013/1937504502 id=26627 badsum  # 456
6.511979  S>C AF  seq=2668504824 ack=3023814500 win=64 nop nop ts=1937504502/2247964013 id=12188 badsum  # 457
6.511981  C>S A   seq=3023814500 ack=2668504825 win=64 nop nop ts=2247964013/1937504502 id=26628 badsum  # 458
6.542902  C>S SEC seq=3023880037 win=65160 mss=1460 sackok ts=2247964044/1937504502 nop ws=10 id=54874 badsum  # 479
6.542913  S>C A   seq=2668504825 ack=3023814500 win=64 nop nop ts=1937504533/2247964013 id=12189 badsum  # 480
6.542921  C>S R   seq=3023814500 win=0 id=0  # 481
6.558432  C>S S   seq=3023880037 win=65160 mss=1460 sackok ts=2247964060/1937504502 nop ws=10 id=54875 badsum  # 482
6.558484  S>C SA  seq=2669235953 ack=3023880038 win=65160 mss=1460 sackok ts=1937504549/2247964060 nop ws=10 id=0 badsum  # 483
7.582468  C>S S   seq=3023880037 win=65160 mss=1460 sackok ts=2247965084/1937504502 nop ws=10 id=54876 badsum  # 490
7.582483  S>C SA  seq=2669235953 ack=3023880038 win=65160 mss=1460 sackok ts=1937505573/2247964060 nop ws=10 id=0 badsum  # 491
7.582508  C>S A   seq=3023880038 ack=2669235954 win=64 nop nop ts=2247965084/1937505573 id=54877 badsum  # 492
7.582541  S>C SA  seq=2669235953 ack=3023880038 win=65160 mss=1460 sackok ts=1937505573/2247964060 nop ws=10 id=0 badsum  # 493
7.582543  C>S A   seq=3023880038 ack=2669235954 win=64 nop nop ts=2247965084/1937505573 id=54878 badsum  # 494
7.582605  C>S AP  seq=3023880038 ack=2669235954 win=64 len=4 nop nop ts=2247965084/1937505573 id=54879 badsum  # 495
7.58261   S>C A   seq=2669235954 ack=3023880042 win=64 nop nop ts=1937505573/2247965084 id=44520 badsum  # 496
7.582895  S>C AP  seq=2669235954 ack=3023880042 win=64 len=3 nop nop ts=1937505573/2247965084 id=44521 badsum  # 497
7.582911  C>S A   seq=3023880042 ack=2669235957 win=64 nop nop ts=2247965084/1937505573 id=54880 badsum  # 498
7.582944  C>S AF  seq=3023880042 ack=2669235957 win=64 nop nop ts=2247965084/1937505573 id=54881 badsum  # 499
7.58299   S>C AF  seq=2669235957 ack=3023880043 win=64 nop nop ts=1937505573/2247965084 id=44522 badsum  # 500
7.582993  C>S A   seq=3023880043 ack=2669235958 win=64 nop nop ts=2247965084/1937505573 id=54882 badsum  # 501
`

// staleFINAgain is manyloss2-a.pcap frames 666-674 and 745-748 (the older
// connection: the client's ACK of the server's FIN sent again, 747, was
// dropped at the server) and 763-777: the server's stale segment is its
// FIN sent again (766), which the client resets.
const staleFINAgain = staleHosts + `
time 2026-12-05T06:24:50.953099Z
9.739013  C>S SEC seq=3715107899 win=65160 mss=1460 sackok ts=2248007938/1937547913 nop ws=10 id=10616 badsum  # 666
9.739045  S>C SAE seq=3354836151 ack=3715107900 win=65160 mss=1460 sackok ts=1937548427/2248007938 nop ws=10 id=0 badsum  # 667
9.739062  C>S A   seq=3715107900 ack=3354836152 win=64 nop nop ts=2248007938/1937548427 id=10617 badsum  # 668
9.739383  C>S AP  seq=3715107900 ack=3354836152 win=64 len=4 nop nop ts=2248007938/1937548427 id=10618 tos=2 badsum  # 669
9.739393  S>C A   seq=3354836152 ack=3715107904 win=64 nop nop ts=1937548427/2248007938 id=1749 badsum  # 670
9.739413  S>C AP  seq=3354836152 ack=3715107904 win=64 len=3 nop nop ts=1937548427/2248007938 id=1750 tos=2 badsum  # 671
9.739417  C>S A   seq=3715107904 ack=3354836155 win=64 nop nop ts=2248007938/1937548427 id=10619 badsum  # 672
9.739431  C>S AF  seq=3715107904 ack=3354836155 win=64 nop nop ts=2248007938/1937548427 id=10620 badsum  # 673
9.739475  S>C AF  seq=3354836155 ack=3715107905 win=64 nop nop ts=1937548427/2248007938 id=1751 badsum  # 674
9.944586  C>S AF  seq=3715107904 ack=3354836155 win=64 nop nop ts=2248008144/1937548427 id=10621 badsum  # 745
9.944603  S>C AF  seq=3354836155 ack=3715107905 win=64 nop nop ts=1937548633/2248007938 id=1752 badsum  # 746
9.944618  C>S A   seq=3715107905 ack=3354836156 win=64 nop nop ts=2248008144/1937548633 id=10622 badsum  # 747
9.944633  S>C A   seq=3354836156 ack=3715107905 win=64 nop nop ts=1937548633/2248008144 nop nop sack=3715107904-3715107905 id=1753 badsum  # 748
9.958209  C>S SEC seq=3715173442 win=65160 mss=1460 sackok ts=2248008157/1937548633 nop ws=10 id=19796 badsum  # 763
10.156621 S>C AF  seq=3354836155 ack=3715107905 win=64 nop nop ts=1937548845/2248008144 id=1754 badsum  # 766
10.156648 C>S R   seq=3715107905 win=0 id=0  # 767
10.168592 C>S S   seq=3715173442 win=65160 mss=1460 sackok ts=2248008368/1937548633 nop ws=10 id=19797 badsum  # 768
10.168693 S>C SA  seq=3361549385 ack=3715173443 win=65160 mss=1460 sackok ts=1937548857/2248008368 nop ws=10 id=0 badsum  # 769
10.168717 C>S A   seq=3715173443 ack=3361549386 win=64 nop nop ts=2248008368/1937548857 id=19798 badsum  # 770
10.172429 C>S AP  seq=3715173443 ack=3361549386 win=64 len=4 nop nop ts=2248008371/1937548857 id=19799 badsum  # 771
10.17245  S>C A   seq=3361549386 ack=3715173447 win=64 nop nop ts=1937548860/2248008371 id=9220 badsum  # 772
10.172811 S>C AP  seq=3361549386 ack=3715173447 win=64 len=3 nop nop ts=1937548861/2248008371 id=9221 badsum  # 773
10.172835 C>S A   seq=3715173447 ack=3361549389 win=64 nop nop ts=2248008372/1937548861 id=19800 badsum  # 774
10.172852 S>C AF  seq=3361549389 ack=3715173447 win=64 nop nop ts=1937548861/2248008372 id=9222 badsum  # 775
10.172903 C>S AF  seq=3715173447 ack=3361549390 win=64 nop nop ts=2248008372/1937548861 id=19801 badsum  # 776
10.172938 S>C A   seq=3361549390 ack=3715173448 win=64 nop nop ts=1937548861/2248008372 id=9223 badsum  # 777
`

// staleFINUnacked is manyloss2-a.pcap frames 798-810 and 831-843. Here
// the server closed first, and its FIN (808) was dropped at the client's
// input after the capture point: the client's FIN acknowledges the data
// only, and the server, its FIN never acknowledged, answers the new SYN
// with its last ACK of the older connection (832).
const staleFINUnacked = staleHosts + `
time 2026-12-05T06:24:50.953099Z
10.209699 C>S SEC seq=3733661295 win=64240 mss=1460 sackok ts=2248008409/0 nop ws=10 id=51676 badsum  # 798
11.232595 C>S S   seq=3733661295 win=64240 mss=1460 sackok ts=2248009432/0 nop ws=10 id=51677 badsum  # 801
11.23264  S>C SA  seq=3361614927 ack=3733661296 win=65160 mss=1460 sackok ts=1937549921/2248009432 nop ws=10 id=0 badsum  # 802
11.23266  C>S A   seq=3733661296 ack=3361614928 win=63 nop nop ts=2248009432/1937549921 id=51678 badsum  # 803
11.236869 C>S AP  seq=3733661296 ack=3361614928 win=63 len=4 nop nop ts=2248009436/1937549921 id=51679 badsum  # 804
11.236892 S>C A   seq=3361614928 ack=3733661300 win=64 nop nop ts=1937549925/2248009436 id=49369 badsum  # 805
11.240753 S>C AP  seq=3361614928 ack=3733661300 win=64 len=3 nop nop ts=1937549929/2248009436 id=49370 badsum  # 806
11.240781 C>S A   seq=3733661300 ack=3361614931 win=63 nop nop ts=2248009440/1937549929 id=51680 badsum  # 807
11.240804 S>C AF  seq=3361614931 ack=3733661300 win=64 nop nop ts=1937549929/2248009440 id=49371 badsum  # 808
11.244634 C>S AF  seq=3733661300 ack=3361614931 win=63 nop nop ts=2248009444/1937549929 id=51681 badsum  # 809
11.24465  S>C A   seq=3361614932 ack=3733661301 win=64 nop nop ts=1937549933/2248009444 id=49372 badsum  # 810
11.279007 C>S SEC seq=3733726838 win=65160 mss=1460 sackok ts=2248009478/1937549929 nop ws=10 id=54226 badsum  # 831
11.279021 S>C A   seq=3361614932 ack=3733661301 win=64 nop nop ts=1937549967/2248009444 id=49373 badsum  # 832
11.27903  C>S R   seq=3733661301 win=0 id=0  # 833
11.288593 C>S S   seq=3733726838 win=65160 mss=1460 sackok ts=2248009488/1937549929 nop ws=10 id=54227 badsum  # 834
11.288632 S>C SA  seq=3379048478 ack=3733726839 win=65160 mss=1460 sackok ts=1937549977/2248009488 nop ws=10 id=0 badsum  # 835
11.288661 C>S A   seq=3733726839 ack=3379048479 win=64 nop nop ts=2248009488/1937549977 id=54228 badsum  # 836
11.288724 C>S AP  seq=3733726839 ack=3379048479 win=64 len=4 nop nop ts=2248009488/1937549977 id=54229 badsum  # 837
11.288777 S>C A   seq=3379048479 ack=3733726843 win=64 nop nop ts=1937549977/2248009488 id=49354 badsum  # 838
11.292728 S>C AP  seq=3379048479 ack=3733726843 win=64 len=3 nop nop ts=1937549981/2248009488 id=49355 badsum  # 839
11.292739 C>S A   seq=3733726843 ack=3379048482 win=64 nop nop ts=2248009492/1937549981 id=54230 badsum  # 840
11.292766 C>S AF  seq=3733726843 ack=3379048482 win=64 nop nop ts=2248009492/1937549981 id=54231 badsum  # 841
11.292814 S>C AF  seq=3379048482 ack=3733726844 win=64 nop nop ts=1937549981/2248009492 id=49356 badsum  # 842
11.292817 C>S A   seq=3733726844 ack=3379048483 win=64 nop nop ts=2248009492/1937549981 id=54232 badsum  # 843
`

// staleFrames maps the frame numbers a description's packet lines end
// with ("# 479") to the frames of the capture it builds.
func staleFrames(t *testing.T, desc string) map[uint64]uint64 {
	t.Helper()
	m := map[uint64]uint64{}
	n := uint64(0)
	for _, line := range strings.Split(desc, "\n") {
		if w := strings.Fields(line); len(w) < 2 || (w[1] != "C>S" && w[1] != "S>C") {
			continue
		}
		n++
		_, c, _ := strings.Cut(line, "# ")
		orig, err := strconv.ParseUint(strings.TrimSpace(c), 10, 64)
		if err != nil {
			t.Fatalf("packet line without its frame number: %q", line)
		}
		m[orig] = n
	}
	return m
}

// findingsAt lists a flow's findings as "code@frame", frames given by the
// original numbers of staleFrames (0 for a frame it does not map).
func findingsAt(f *Flow, frames map[uint64]uint64) []string {
	orig := map[uint64]uint64{}
	for o, n := range frames {
		orig[n] = o
	}
	var out []string
	for _, fi := range f.Findings {
		out = append(out, fi.Code.String()+"@"+strconv.FormatUint(orig[fi.Frame], 10))
	}
	return out
}

// TestStaleReset: on the three real exchanges, the client's RST clears the
// older connection, not this one. The flow goes on (no data after close,
// its status from its own handshake and data); the RST's finding names the
// server's stale segment and why the server held the older connection;
// the SYN sent again says its first was answered by the older connection
// and reset; the SYN-ACK, which tshark flags reused_ports and lost_segment
// (as we do), is the first answer to this SYN, not a server starting over.
func TestStaleReset(t *testing.T) {
	for _, tc := range []struct {
		name, desc string
		// Original frame numbers: the server's stale segment, the RST,
		// the SYN sent again, the first SYN-ACK, the client's first ACK
		// of it, and the frame the RST's finding names for why the server
		// held the older connection.
		stale, rst, synAgain, synAck, ack, held uint64
		seq                                     uint32 // the RST's
		segment, heldWords                      string
		oldState                                string // the older connection's flow
		// The new flow's findings, at the original frames: those of the
		// same flow in the real capture, frame for frame.
		findings []string
	}{
		{name: "last ACK lost (manyloss-a.pcap, flow 43)", desc: staleLastAckLost,
			stale: 480, rst: 481, synAgain: 482, synAck: 483, ack: 492, held: 458, oldState: "ok/complete", seq: 3023814500,
			segment: "an ACK", heldWords: "the client's last ACK of it, frame %d, not taken",
			findings: []string{"checksum.offload@479", "tcp.rst@481", "handshake.syn_retransmit@482", "tcp.retransmission@482",
				"tcp.lost_segment@483", "tcp.reused_ports@483", "handshake.syn_retransmit@490", "tcp.retransmission@490",
				"handshake.synack_retransmit@491", "tcp.retransmission@491", "tcp.ack_unseen@492",
				"handshake.synack_retransmit@493", "tcp.retransmission@493", "tcp.dup_ack@494"}},
		{name: "FIN sent again (manyloss2-a.pcap, flow 68)", desc: staleFINAgain,
			stale: 766, rst: 767, synAgain: 768, synAck: 769, ack: 770, held: 747, oldState: "warning/complete", seq: 3715107905,
			segment: "a FIN", heldWords: "the client's last ACK of it, frame %d, not taken",
			findings: []string{"checksum.offload@763", "tcp.rst@767", "handshake.syn_retransmit@768", "tcp.retransmission@768",
				"tcp.lost_segment@769", "tcp.reused_ports@769", "tcp.ack_unseen@770"}},
		{name: "server's FIN never acknowledged (manyloss2-a.pcap, flow 74)", desc: staleFINUnacked,
			stale: 832, rst: 833, synAgain: 834, synAck: 835, ack: 836, held: 808, oldState: "warning/complete", seq: 3733661301,
			segment: "an ACK", heldWords: "the client never acknowledged its last segment, frame %d",
			findings: []string{"checksum.offload@831", "tcp.rst@833", "handshake.syn_retransmit@834", "tcp.retransmission@834",
				"tcp.lost_segment@835", "tcp.reused_ports@835", "tcp.ack_unseen@836"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fr := staleFrames(t, tc.desc)
			res := analyzeDescription(t, tc.name, tc.desc).res
			if len(res.Flows) != 2 {
				t.Fatalf("%d flows, want the older connection and the new one:%s", len(res.Flows), summary(res))
			}
			old, f := res.Flows[0], res.Flows[1]
			if f.PrevID != old.ID || stateOf(old) != tc.oldState || old.Has(CodeReusedPorts) {
				t.Errorf("flow 2 took over flow %d's ports, want %d; flow 1 is %s, want %s, with no tcp.reused_ports (it had ended):%s", f.PrevID, old.ID, stateOf(old), tc.oldState, summary(res))
			}
			if got := findingsAt(f, fr); !slices.Equal(got, tc.findings) {
				t.Errorf("findings %v\nwant %v;%s", got, tc.findings, summary(res))
			}
			if got := stateOf(f); got != "warning/complete" || f.rst != rstNone || !f.closed || f.closeFrame != 0 {
				t.Errorf("flow 2 is %s (rst %d at frame %d, closed %v), want warning/complete, closed by its FINs, not reset",
					got, f.rst, f.closeFrame, f.closed)
			}
			for _, fi := range f.Findings {
				msg := f.Message(fi)
				if strings.Contains(msg, "started the connection over") || strings.Contains(msg, "not answered") || strings.Contains(msg, "connection reset") {
					t.Errorf("%s frame %d: %q", fi.Code, fi.Frame, msg)
				}
			}

			rst, _ := f.First(CodeRST)
			seg := tc.segment + " of that connection (frame " + strconv.FormatUint(fr[tc.stale], 10) + ")"
			held := strings.Replace(tc.heldWords, "%d", strconv.FormatUint(fr[tc.held], 10), 1)
			want := "reset by the client (10.77.0.1:40000) of an older connection on these ports, not of this one: the server answered the SYN with " +
				seg + ", which it still held (" + held + "); a client in SYN-SENT answers such a segment with a RST at its ACK number (seq " +
				strconv.FormatUint(uint64(tc.seq), 10) + ", RFC 9293 §3.10.7.3), which clears it"
			if rst.Frame != fr[tc.rst] || rst.RelatedFrame != fr[tc.stale] || !rst.RSTOfStale() || rst.Severity() != Warning {
				t.Errorf("tcp.rst %+v (%v), want frame %d naming frame %d, a warning", rst, rst.Severity(), fr[tc.rst], fr[tc.stale])
			}
			if got := f.Message(rst); got != want {
				t.Errorf("tcp.rst says\n%q\nwant\n%q", got, want)
			}
			for _, c := range []struct {
				code  Code
				frame uint64
				msg   string
			}{
				{CodeSynRetransmit, tc.synAgain, "): the first was answered with " + tc.segment + " of an older connection on these ports (frame " +
					strconv.FormatUint(fr[tc.stale], 10) + "), which the client reset (frame " + strconv.FormatUint(fr[tc.rst], 10) + ")"},
				{CodeReusedPorts, tc.synAck, "SYN-ACK after the client's reset of an older connection on these ports (frame " +
					strconv.FormatUint(fr[tc.rst], 10) + "): the first answer to this SYN; its ISN is new to Wireshark, which counts the ports reused"},
				{CodeLostSegment, tc.synAck, "after frame " + strconv.FormatUint(fr[tc.stale], 10) + "): frame " + strconv.FormatUint(fr[tc.stale], 10) +
					" was of an older connection on these ports and this SYN-ACK is the server's first segment of this one"},
				{CodeAckUnseen, tc.ack, "it acknowledges the SYN-ACK (frame " + strconv.FormatUint(fr[tc.synAck], 10) + "); Wireshark counts a gap"},
			} {
				fi, ok := f.First(c.code)
				if !ok || fi.Frame != fr[c.frame] || !strings.Contains(f.Message(fi), c.msg) {
					t.Errorf("%s on frame %d (%v): %q, want frame %d saying %q", c.code, fi.Frame, ok, f.Message(fi), fr[c.frame], c.msg)
				}
			}
		})
	}
}

// staleOld is the older connection of staleLastAckLost, frames 449-458,
// and staleNewSYN the new connection's SYN (479), for the variants below.
var (
	staleOld    = staleLastAckLost[:strings.Index(staleLastAckLost, "# 458\n")+len("# 458\n")]
	staleNewSYN = "6.542902  C>S SEC seq=3023880037 win=65160 mss=1460 sackok nop ws=10  # 479\n"
)

// TestStaleResetVariants: what is not a RST of an older connection still
// ends the connection, and the stale exchange is known without the older
// connection in the capture.
func TestStaleResetVariants(t *testing.T) {
	for _, tc := range staleVariants {
		t.Run(tc.name, func(t *testing.T) {
			fr := staleFrames(t, tc.desc)
			res := analyzeDescription(t, tc.name, tc.desc).res
			f := res.Flows[len(res.Flows)-1]
			if got := findingsAt(f, fr); !slices.Equal(got, tc.findings) {
				t.Errorf("findings %v\nwant %v;%s", got, tc.findings, summary(res))
			}
			fi, _ := f.First(tc.code)
			if got := f.Message(fi); !strings.Contains(got, tc.msg) {
				t.Errorf("%s says %q, want %q", tc.code, got, tc.msg)
			}
			if got := stateOf(f); got != tc.state || (f.rst == rstTaken) != tc.ended {
				t.Errorf("flow %d is %s, reset taken %v; want %s, %v", f.ID, got, f.rst == rstTaken, tc.state, tc.ended)
			}
		})
	}
}

// staleVariants are TestStaleResetVariants' cases, also read by tshark.
var staleVariants = []struct {
	name, desc string
	findings   []string // the last flow's, at the original frames
	code       Code
	msg        string
	state      string
	ended      bool // a RST ended the last flow
}{
	{name: "refused: the server's RST,ACK answers the SYN",
		desc: staleOld + staleNewSYN + `
6.542913  S>C RA seq=0 ack=3023880038 win=0  # 480`,
		findings: []string{"handshake.refused@480"}, code: CodeRefused,
		msg: "connection refused: the SYN (frame 11) was answered with a RST from 10.77.0.2:5024", state: "invalid/refused", ended: true},
	{name: "the client's RST is not at the stale ACK's number",
		// The client aborts (seq ISN+1, as a stack that resets its own
		// SYN): the connection ends, and what follows is after it.
		desc: staleOld + staleNewSYN + `
6.542913  S>C A   seq=2668504825 ack=3023814500 win=64  # 480
6.542921  C>S R   seq=3023880038 win=0  # 481
6.558432  C>S S   seq=3023880037 win=65160 mss=1460 sackok nop ws=10  # 482
6.558484  S>C SA  seq=2669235953 ack=3023880038 win=65160 mss=1460 sackok nop ws=10  # 483
6.558508  C>S A   seq=3023880038 ack=2669235954 win=64  # 492
6.558605  C>S PA  seq=3023880038 ack=2669235954 win=64 len=4  # 495`,
		findings: []string{"tcp.rst@481", "handshake.syn_retransmit@482", "tcp.retransmission@482", "tcp.lost_segment@483",
			"tcp.reused_ports@483", "tcp.ack_unseen@492", "tcp.data_after_close@495"},
		code: CodeRST, msg: "connection reset by the client (10.77.0.1:40000)", state: "warning/complete", ended: true},
	{name: "the client's RST at the ACK number of an ACK of this SYN",
		// The SYN-ACK was not captured; the server's ACK acknowledges
		// the SYN, and the client's RST at its number ends the connection.
		desc: staleOld + staleNewSYN + `
6.542913  S>C A   seq=2669235954 ack=3023880038 win=64  # 480
6.542921  C>S R   seq=3023880038 win=0  # 481`,
		findings: []string{"handshake.not_seen@479", "tcp.rst@481"}, code: CodeRST,
		msg: "connection reset by the client (10.77.0.1:40000)", state: "partial/not_seen", ended: true},
	{name: "the older connection not in the capture",
		// The stale exchange alone: the RST is known for what it is, and
		// no frame of the older connection is named.
		desc: staleHosts + staleNewSYN + `
6.542913  S>C A   seq=2668504825 ack=3023814500 win=64  # 480
6.542921  C>S R   seq=3023814500 win=0  # 481
6.558432  C>S S   seq=3023880037 win=65160 mss=1460 sackok nop ws=10  # 482
6.558484  S>C SA  seq=2669235953 ack=3023880038 win=65160 mss=1460 sackok nop ws=10  # 483
6.558508  C>S A   seq=3023880038 ack=2669235954 win=64  # 492
6.558605  C>S PA  seq=3023880038 ack=2669235954 win=64 len=4  # 495`,
		findings: []string{"tcp.rst@481", "handshake.syn_retransmit@482", "tcp.retransmission@482", "tcp.lost_segment@483",
			"tcp.reused_ports@483", "tcp.ack_unseen@492"},
		code: CodeRST, msg: "the server answered the SYN with an ACK of that connection (frame 2), which it still held; a client in SYN-SENT",
		state: "warning/complete"},
}

// TestStaleResetAgainstTshark reads the captures of TestStaleReset and
// TestStaleResetVariants with tshark 4.0, in one file: each tcp.analysis
// flag must be on the frames where we have its finding. tshark flags the
// new SYN reused_ports where we do not (the older connection had ended:
// the contract flags the old flow only when it had not, and the
// comparison counts a flow that took over ports as tshark's flag), and
// flags the first SYN-ACK reused_ports and lost_segment, and the client's
// ACK of it ack_lost_segment, as we do: the words of those say what they
// are. tshark has no flag for a RST, nor for data after one.
func TestStaleResetAgainstTshark(t *testing.T) {
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		skipOrFail(t, "SYNSCOPE_REQUIRE_TSHARK", "tshark not installed: stale resets not compared with tshark (apt-get install tshark)")
	}
	descs := []string{staleLastAckLost, staleFINAgain, staleFINUnacked}
	for _, v := range staleVariants {
		descs = append(descs, v.desc)
	}
	var caps []described
	for i, d := range descs {
		caps = append(caps, analyzeDescription(t, "stale "+strconv.Itoa(i), withClientPort(d, uint16(42000+i))))
	}
	v, first := tsharkConcat(t, tshark, caps, "stale.pcap")
	for i, c := range caps {
		for _, fl := range tsharkFlags {
			ours := tsharkFramesOf(c.res, fl.code)
			theirs := framesIn(v.frames[fl.field], first, i)
			if !slices.Equal(ours, theirs) {
				t.Errorf("%s: %s on frames %v, tshark %s on %v;%s", c.name, fl.code, ours, fl.field, theirs, summary(c.res))
			}
			// Not a vacuous comparison: on the real exchanges tshark
			// flags the first SYN-ACK (483, 769, 835) so.
			if i < 3 && (fl.code == CodeReusedPorts || fl.code == CodeLostSegment) {
				if synAck := c.res.Flows[1].Handshake.SynAckFrame; !slices.Contains(theirs, synAck) {
					t.Errorf("%s: tshark %s on frames %v, not on the SYN-ACK (frame %d)", c.name, fl.field, theirs, synAck)
				}
			}
		}
	}
}
