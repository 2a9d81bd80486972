package analysis

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/synscope/synscope/capture"
	"github.com/synscope/synscope/capture/fixture"
)

// Every rule of the contract (shared/spec/tcp-analysis.md), shown by a pair
// of captures built with capture/fixture: one where the rule fires, and a
// near-identical one (one attribute changed) where it must not. The
// captures are also read by tshark 4.0, which must show each of its
// tcp.analysis fields on the frames where we have the matching finding.

// ruleHosts starts every description: fixed addresses and ISNs, so that the
// numbers in the descriptions below can be read off directly. A case may
// override them (a later client or server line changes only what it names).
const ruleHosts = `
client 10.0.0.1:40000 isn=1000
server 10.0.0.2:80    isn=5000
`

// ruleHandshake is a clean handshake, frames 1-3, initial RTT 20 ms. The
// client's next sequence number is then 1001, the server's 5001.
const ruleHandshake = `
0     C>S S  mss=1460
+0.01 S>C SA mss=1460
+0.01 C>S A
`

// A ruleCase is one rule shown twice.
type ruleCase struct {
	name  string
	code  string // the finding code
	fires string // a description (after ruleHosts) where the code fires
	quiet string // the same with one attribute changed: the code must not fire

	frame   uint64 // the frame the finding is on
	related uint64 // the frame that explains it, 0 when none
	msg     string // a phrase of Flow.Message (or of the capture finding)

	// state is "status/handshake" of the flow with the finding, quietState
	// that of the quiet capture's first flow; empty: not checked.
	state, quietState string

	// bug, when set, names a known engine bug: the case is skipped.
	bug string
}

var ruleCases = []ruleCase{
	// ---- handshake.* ----

	{name: "synack payload", code: "handshake.synack_payload",
		// The SYN-ACK carries two bytes; the client ignores them (ACK = ISN+1).
		fires: `
0     C>S S  mss=1460
+0.01 S>C SA mss=1460 data=hex:0102
+0.01 C>S A  ack=5001`,
		quiet: `
0     C>S S  mss=1460
+0.01 S>C SA mss=1460
+0.01 C>S A  ack=5001`,
		frame: 2, msg: "SYN-ACK carries 2 bytes of TCP payload (bytes 01 02)",
		state: "invalid/invalid", quietState: "ok/complete"},

	{name: "synack payload that looks like padding", code: "handshake.synack_payload",
		// The seed: two zero bytes inside the datagram of a 60-byte frame
		// are payload (and look like padding taken in by a device in the
		// path); the same two bytes after the datagram are Ethernet padding.
		fires: `
0     C>S S  mss=1460
+0.01 S>C SA mss=1460 data=zero:2
+0.01 C>S A  ack=5001`,
		quiet: `
0     C>S S  mss=1460
+0.01 S>C SA mss=1460 pad=2
+0.01 C>S A  ack=5001`,
		frame: 2, msg: "the bytes look like Ethernet padding taken into the IP datagram by a device in the path",
		state: "invalid/invalid", quietState: "ok/complete"},

	{name: "ack acknowledges the synack payload", code: "handshake.ack_mismatch",
		// The seed's client: it acknowledges the SYN-ACK's 2 bytes (5003);
		// the quiet one acknowledges only the SYN (5001).
		fires: `
0     C>S S  mss=1460
+0.01 S>C SA mss=1460 data=zero:2
+0.01 C>S A  ack=5003`,
		quiet: `
0     C>S S  mss=1460
+0.01 S>C SA mss=1460 data=zero:2
+0.01 C>S A  ack=5001`,
		frame: 3, related: 2, msg: "the client acknowledged the 2 bytes of SYN-ACK payload (frame 2). RFC 9293 allows it, but stateful firewalls",
		state: "invalid/invalid", quietState: "invalid/invalid"},

	{name: "ack acknowledges bytes never sent", code: "handshake.ack_mismatch",
		fires: ruleHandshake + `
# the same handshake, but the third segment acknowledges 10 bytes more
patch 3 ack=5011`,
		quiet: ruleHandshake,
		frame: 3, related: 2, msg: "ACK expected 5001 (server ISN+1), got 5011 (+10): it acknowledges bytes that were never sent",
		state: "invalid/invalid", quietState: "ok/complete"},

	{name: "ack acknowledges bytes the server never sent, third segment not captured", code: "handshake.ack_mismatch",
		// A server that speaks first (SSH, SMTP) sends its banner as
		// soon as the third segment arrives; a capture that missed that
		// segment has the client's ACK of the banner first. It
		// acknowledges bytes that were sent: no mismatch (quiet). Past
		// them it acknowledges bytes never sent (fires).
		fires: `
0      C>S S  mss=1460
+0.01  S>C SA mss=1460
+0.011 S>C PA seq=5001 ack=1001 len=20
+0.01  C>S A  seq=1001 ack=5041`,
		quiet: `
0      C>S S  mss=1460
+0.01  S>C SA mss=1460
+0.011 S>C PA seq=5001 ack=1001 len=20
+0.01  C>S A  seq=1001 ack=5021`,
		frame: 4, related: 2, msg: "ACK expected 5001 (server ISN+1), got 5041 (+40): it acknowledges bytes that were never sent",
		state: "invalid/invalid", quietState: "ok/complete"},

	{name: "ack acknowledges the synack padding", code: "handshake.ack_mismatch",
		// The seed's inside capture: the SYN-ACK leaves with 2 bytes of
		// Ethernet padding (a 58-byte frame) and the client acknowledges 2
		// bytes more than the server sent.
		fires: ruleHandshake + `patch 3 ack=5003`,
		quiet: ruleHandshake,
		frame: 3, related: 2, msg: "left here with 2 bytes of Ethernet padding",
		state: "invalid/invalid", quietState: "ok/complete"},

	{name: "ack below the server's ISN+1", code: "handshake.ack_mismatch",
		// ISN+0, the off-by-one of a stack or middlebox: the client has
		// not acknowledged the SYN-ACK, which sent nothing to overshoot.
		fires: ruleHandshake + `patch 3 ack=5000`,
		quiet: ruleHandshake,
		frame: 3, related: 2, msg: "ACK expected 5001 (server ISN+1), got 5000 (-1): it does not acknowledge the SYN-ACK (1 below ISN+1); stateful firewalls drop this segment",
		state: "invalid/invalid", quietState: "ok/complete"},

	{name: "ack is the client's own sequence number", code: "handshake.ack_mismatch",
		fires: ruleHandshake + `patch 3 ack=1001`,
		quiet: ruleHandshake,
		frame: 3, related: 2, msg: "got 1001 (-4000): it does not acknowledge the SYN-ACK (4000 below ISN+1); it is the client's own sequence number",
		state: "invalid/invalid", quietState: "ok/complete"},

	{name: "ack covers part of the synack payload", code: "handshake.ack_mismatch",
		// The SYN-ACK carries 3 bytes and the client acknowledges 1: sent
		// bytes, not bytes never sent.
		fires: `
0     C>S S  mss=1460
+0.01 S>C SA mss=1460 data=hex:010203
+0.01 C>S A  ack=5002`,
		quiet: `
0     C>S S  mss=1460
+0.01 S>C SA mss=1460 data=hex:010203
+0.01 C>S A  ack=5001`,
		frame: 3, related: 2, msg: "got 5002 (+1): it acknowledges 1 of the SYN-ACK's 3 payload bytes",
		state: "invalid/invalid", quietState: "invalid/invalid"},

	{name: "synack acknowledges the syn's data without fast open", code: "handshake.synack_ack_mismatch",
		// RFC 9293 lets a server queue a SYN's data and acknowledge it:
		// the SYN-ACK answers the SYN. The contract's code stays (the
		// ACK is not ISN+1 and there is no Fast Open cookie).
		fires: `
0     C>S S  mss=1460 data=text:hello
+0.01 S>C SA mss=1460 ack=1006
+0.01 C>S A`,
		quiet: `
0     C>S S  mss=1460 data=text:hello
+0.01 S>C SA mss=1460 ack=1001
+0.01 C>S A`,
		frame: 2, related: 1, msg: "SYN-ACK acknowledges 1006, expected 1001 (client ISN+1): it acknowledges the SYN's 5 bytes of data, without a Fast Open cookie (RFC 9293 allows it)",
		state: "invalid/invalid", quietState: "warning/complete"},

	{name: "synack accepts part of the fast open data", code: "handshake.synack_ack_mismatch",
		fires: `
0     C>S S  mss=1460 data=text:0123456789abcdef tfo=0102030405060708
+0.01 S>C SA mss=1460 ack=1006
+0.01 C>S A`,
		quiet: `
0     C>S S  mss=1460 data=text:0123456789abcdef tfo=0102030405060708
+0.01 S>C SA mss=1460 ack=1017
+0.01 C>S A`,
		frame: 2, related: 1, msg: "SYN-ACK acknowledges 1006, expected 1001 (client ISN+1, or +16 with Fast Open data): the server accepted 5 of the SYN's 16 bytes of Fast Open data",
		state: "invalid/invalid", quietState: "ok/complete"},

	{name: "synack acknowledges the wrong number", code: "handshake.synack_ack_mismatch",
		fires: ruleHandshake + `patch 2 ack=1005`,
		quiet: ruleHandshake,
		frame: 2, related: 1, msg: "SYN-ACK acknowledges 1005, expected 1001 (client ISN+1): it does not answer the SYN of frame 1",
		state: "invalid/invalid", quietState: "ok/complete"},

	{name: "syn payload without a cookie", code: "handshake.syn_payload",
		// Data on a SYN, which the server does not take (it acknowledges
		// ISN+1); with a Fast Open cookie it is TFO, not a warning.
		fires: `
0     C>S S  mss=1460 data=text:hello
+0.01 S>C SA mss=1460 ack=1001
+0.01 C>S A`,
		quiet: `
0     C>S S  mss=1460 data=text:hello tfo=0102030405060708
+0.01 S>C SA mss=1460 ack=1001
+0.01 C>S A`,
		frame: 1, msg: "SYN carries 5 bytes of data (bytes 68 65 6c 6c 6f) without a TCP Fast Open cookie",
		state: "warning/complete", quietState: "ok/complete"},

	{name: "fast open cookie, data accepted", code: "handshake.tfo",
		// The server accepts the Fast Open data: it acknowledges ISN+1+5.
		fires: `
0     C>S S  mss=1460 data=text:hello tfo=0102030405060708
+0.01 S>C SA mss=1460 ack=1006
+0.01 C>S A`,
		quiet: `
0     C>S S  mss=1460 data=text:hello
+0.01 S>C SA mss=1460 ack=1006
+0.01 C>S A`,
		frame: 1, msg: "SYN carries a TCP Fast Open cookie and 5 bytes of data; the server accepted the data",
		state: "ok/complete", quietState: "invalid/invalid"},

	{name: "experimental fast open cookie, data not accepted", code: "handshake.tfo",
		// Kind 254 is Fast Open only with the magic 0xF989.
		fires: `
0     C>S S  mss=1460 data=text:hello tfo-exp=0102030405060708
+0.01 S>C SA mss=1460 ack=1001
+0.01 C>S A`,
		quiet: `
0     C>S S  mss=1460 data=text:hello opt=254:abcd0102030405060708
+0.01 S>C SA mss=1460 ack=1001
+0.01 C>S A`,
		frame: 1, msg: "5 bytes of data; the server did not accept the data",
		state: "ok/complete", quietState: "warning/complete"},

	{name: "fast open cookie, part of the data accepted", code: "handshake.tfo",
		fires: `
0     C>S S  mss=1460 data=text:0123456789abcdef tfo=0102030405060708
+0.01 S>C SA mss=1460 ack=1006
+0.01 C>S A`,
		quiet: `
0     C>S S  mss=1460 data=text:0123456789abcdef
+0.01 S>C SA mss=1460 ack=1006
+0.01 C>S A`,
		frame: 1, msg: "SYN carries a TCP Fast Open cookie and 16 bytes of data; the server accepted 5 of the 16 bytes",
		state: "invalid/invalid", quietState: "invalid/invalid"},

	{name: "fast open cookie request with data", code: "handshake.tfo",
		// A client without a cookie asks for one (kind 34, empty); its
		// data waits for the handshake.
		fires: `
0     C>S S  mss=1460 data=text:0123456789 tfo
+0.01 S>C SA mss=1460 ack=1001
+0.01 C>S A`,
		quiet: `
0     C>S S  mss=1460 data=text:0123456789
+0.01 S>C SA mss=1460 ack=1001
+0.01 C>S A`,
		frame: 1, msg: "SYN carries a TCP Fast Open cookie request and 10 bytes of data; the server did not accept the data",
		state: "ok/complete", quietState: "warning/complete"},

	{name: "refused", code: "handshake.refused",
		fires: `
0     C>S S  mss=1460
+0.01 S>C RA`,
		quiet: `
0     C>S S  mss=1460
+0.01 S>C SA mss=1460`,
		frame: 2, related: 1, msg: "connection refused: the SYN (frame 1) was answered with a RST from 10.0.0.2:80",
		state: "invalid/refused", quietState: "warning/incomplete"},

	{name: "unanswered", code: "handshake.unanswered",
		// (A SYN sent again needs seq=: the default is the side's next.)
		fires: `
0  C>S S  mss=1460
+1 C>S S  mss=1460 seq=1000
+2 C>S S  mss=1460 seq=1000`,
		quiet: `
0  C>S S  mss=1460
+1 C>S S  mss=1460 seq=1000
+2 S>C SA mss=1460`,
		frame: 1, msg: "3 SYNs over 3s with no SYN-ACK or RST from the server in the capture",
		state: "invalid/unanswered", quietState: "warning/incomplete"},

	{name: "unanswered: the client gives up", code: "handshake.unanswered",
		// A SYN, then only the client's reset: nothing says the SYN was
		// answered. An ACK from the client instead would say that it had
		// a SYN-ACK, which the capture missed (the next pair).
		fires: `
0  C>S S  mss=1460
+3 C>S R  seq=1001`,
		quiet: `
0  C>S S  mss=1460
+3 C>S A  seq=1001 ack=5001`,
		frame: 1, msg: "1 SYN over 0s with no SYN-ACK or RST from the server in the capture",
		state: "invalid/unanswered", quietState: "partial/not_seen"},

	{name: "synack not captured, the client's ACK shows it", code: "handshake.not_seen",
		// Only the client's direction is captured (asymmetric routing, a
		// one-way SPAN, tcpdump -Q out): the client's ACK after its SYN
		// acknowledges the server's ISN+1, so it had the SYN-ACK. Not
		// unanswered (an error that sends the engineer looking for a
		// firewall that drops SYNs); the handshake was not seen whole.
		fires: `
0      C>S S  mss=1460 ws=7
+0.02  C>S A  seq=1001 ack=5001
+0.001 C>S PA seq=1001 ack=5001 len=200
+0.03  C>S A  seq=1201 ack=6401
+0.01  C>S FA seq=1201 ack=6402`,
		quiet: `
0      C>S S  mss=1460 ws=7
+0.01  S>C SA mss=1460 ws=7
+0.01  C>S A  seq=1001 ack=5001
+0.001 C>S PA seq=1001 ack=5001 len=200
+0.03  C>S A  seq=1201 ack=6401
+0.01  C>S FA seq=1201 ack=6402`,
		frame: 1, related: 2, msg: "no SYN-ACK in the capture, but the client's ACK in frame 2 shows that it received one: the SYN-ACK was sent but not captured",
		state: "partial/not_seen", quietState: "warning/complete"},

	{name: "synack not captured, the server's segment shows it", code: "handshake.not_seen",
		// The capture dropped the SYN-ACK and the client's ACK: the
		// server's banner acknowledges the SYN, so the server had it and
		// answered. Its reset later ends the connection: not a refusal.
		fires: `
0      C>S S  mss=1460
+0.02  S>C PA seq=5001 ack=1001 len=20
+0.01  C>S A  seq=1001 ack=5021
+1     S>C RA seq=5021 ack=1001`,
		quiet: `
0      C>S S  mss=1460
+0.01  S>C SA mss=1460
+0.01  C>S A  seq=1001 ack=5001
+0.001 S>C PA seq=5001 ack=1001 len=20
+0.01  C>S A  seq=1001 ack=5021
+1     S>C RA seq=5021 ack=1001`,
		frame: 1, related: 2, msg: "no SYN-ACK in the capture, but frame 2 from the server shows that the SYN was answered",
		state: "partial/not_seen", quietState: "warning/complete"},

	{name: "unanswered: a challenge ACK is no answer", code: "handshake.unanswered",
		// The server still holds an older connection on these ports: it
		// answers the SYN with an ACK for that connection's numbers (RFC
		// 5961's challenge ACK), and the client resets. Nothing answered
		// this SYN. An ACK of the SYN's ISN+1 would have (the quiet one).
		fires: `
0     C>S S  mss=1460
+0.01 S>C A  seq=90000 ack=70001
+0.01 C>S R  seq=70001`,
		quiet: `
0     C>S S  mss=1460
+0.01 S>C A  seq=5001 ack=1001
+0.01 C>S A  seq=1001 ack=5001`,
		frame: 1, msg: "1 SYN over 0s with no SYN-ACK or RST from the server in the capture",
		state: "invalid/unanswered", quietState: "partial/not_seen"},

	{name: "refused, and a reset after the SYN-ACK was missed", code: "handshake.refused",
		// A reset from the server after a packet that shows the SYN was
		// answered ends a connection; it does not refuse one.
		fires: `
0     C>S S  mss=1460
+0.01 S>C RA ack=1001`,
		quiet: `
0     C>S S  mss=1460
+0.02 C>S A  seq=1001 ack=5001
+0.01 S>C RA seq=5001 ack=1001`,
		frame: 2, related: 1, msg: "connection refused",
		state: "invalid/refused", quietState: "partial/not_seen"},

	{name: "syn retransmitted", code: "handshake.syn_retransmit",
		// The same ISN again; with another ISN the SYN starts a new
		// connection on the same ports instead.
		fires: `
0     C>S S  mss=1460
+1    C>S S  mss=1460 seq=1000
+0.01 S>C SA mss=1460
+0.01 C>S A`,
		quiet: `
0     C>S S  mss=1460
+1    C>S S  mss=1460 seq=2000
+0.01 S>C SA mss=1460
+0.01 C>S A`,
		frame: 2, related: 1, msg: "SYN sent again (same ISN 1000, #2): the first was not answered",
		state: "warning/complete", quietState: "invalid/unanswered"},

	{name: "synack retransmitted", code: "handshake.synack_retransmit",
		// seed-outside: the server sends its SYN-ACK again because no
		// acceptable third segment came; in the quiet one it comes.
		fires: `
0     C>S S  mss=1460
+0.01 S>C SA mss=1460
+1    S>C SA mss=1460 seq=5000`,
		quiet: `
0     C>S S  mss=1460
+0.01 S>C SA mss=1460
+1    C>S A`,
		frame: 3, related: 2, msg: "SYN-ACK sent again (same ISN 5000, #2): the server never saw an acceptable third segment",
		state: "warning/incomplete", quietState: "ok/complete"},

	{name: "incomplete", code: "handshake.incomplete",
		fires: `
0     C>S S  mss=1460
+0.01 S>C SA mss=1460
# +0.01 C>S A          (no third segment)`,
		quiet: ruleHandshake,
		frame: 2, related: 1, msg: "SYN and SYN-ACK seen, but no third segment from the client",
		state: "warning/incomplete", quietState: "ok/complete"},

	{name: "incomplete: the client resets instead", code: "handshake.incomplete",
		// A RST,ACK (a Windows client that gave up, or closed its socket)
		// where the third segment should be: its ACK is the server's
		// ISN+1, but a reset never completes a handshake (RFC 9293 takes
		// the server back to LISTEN; Zeek: RSTO ShR). Once the third
		// segment came, the reset ends an established connection.
		fires: `
0      C>S S  mss=1460
+0.01  S>C SA mss=1460
+0.001 C>S RA seq=1001 ack=5001`,
		quiet: ruleHandshake + `
+0.001 C>S RA seq=1001 ack=5001`,
		frame: 2, related: 3, msg: "SYN and SYN-ACK seen, but no third segment from the client: the client reset the connection instead (frame 3)",
		state: "warning/incomplete", quietState: "warning/complete"},

	{name: "incomplete: the client resets (no ACK) instead", code: "handshake.incomplete",
		// The same with a bare RST (a half-open scan): the same verdict.
		fires: `
0      C>S S  mss=1460
+0.01  S>C SA mss=1460
+0.001 C>S R  seq=1001`,
		quiet: ruleHandshake + `
+0.001 C>S R  seq=1001`,
		frame: 2, related: 3, msg: "the client reset the connection instead (frame 3)",
		state: "warning/incomplete", quietState: "warning/complete"},

	{name: "self-connect", code: "handshake.unanswered",
		// A socket bound to 127.0.0.1:47014 connects to itself (the
		// ephemeral-port self-connect): a simultaneous open on one
		// 4-tuple, every packet from the same end. Its SYN-ACK (frame 2,
		// the SYN's ISN again: tshark calls it a retransmission) answers
		// the SYN. With the SYN alone it is unanswered.
		fires: `
client 127.0.0.1:47014
server 127.0.0.1:47014
0 C>S S mss=1460 seq=1000`,
		quiet: `
client 127.0.0.1:47014
server 127.0.0.1:47014
0        C>S S  mss=1460 seq=1000
+0.00001 C>S SA mss=1460 seq=1000 ack=1001
+0.00001 C>S A  seq=1001 ack=1001
+0.00001 C>S PA seq=1001 ack=1001 len=4
+0.00001 C>S A  seq=1005 ack=1005`,
		frame: 1, msg: "1 SYN over 0s with no SYN-ACK or RST from the server in the capture",
		state: "invalid/unanswered", quietState: "warning/complete"},

	{name: "synack without syn", code: "handshake.synack_without_syn",
		fires: `
# 0   C>S S  mss=1460  (not captured)
0.01  S>C SA mss=1460 ack=1001
0.02  C>S A  seq=1001`,
		quiet: `
0     C>S S  mss=1460
0.01  S>C SA mss=1460 ack=1001
0.02  C>S A  seq=1001`,
		frame: 1, msg: "SYN-ACK with no SYN in the capture",
		// The contract's incomplete is "SYN and SYN-ACK seen, no third
		// segment": here the SYN is before the capture, and the third
		// segment is there. Not seen (partial), not incomplete.
		state: "partial/not_seen", quietState: "ok/complete"},

	{name: "synack without syn, then data", code: "handshake.synack_without_syn",
		// The capture starts between the SYN and its SYN-ACK (just after
		// the client connected): the connection is established.
		fires: `
0.01  S>C SA mss=1460 ack=1001
0.02  C>S A  seq=1001
0.021 C>S PA len=10
0.03  S>C A`,
		quiet: `
0.02  C>S A  seq=1001 ack=5001
0.021 C>S PA len=10
0.03  S>C A`,
		frame: 1, msg: "SYN-ACK with no SYN in the capture",
		state: "partial/not_seen", quietState: "partial/not_seen"},

	{name: "refused, then answered when sent again", code: "handshake.refused",
		// Windows tries a refused connect() again with the same ISN; the
		// service came up: the connection is established, and its data
		// is no data after a reset.
		fires: `
0      C>S S  mss=1460
+0.01  S>C RA
+1     C>S S  mss=1460 seq=1000
+0.01  S>C SA mss=1460
+0.01  C>S A  seq=1001 ack=5001
+0.01  C>S PA seq=1001 ack=5001 len=10
+0.01  S>C A  seq=5001 ack=1011`,
		quiet: ruleHandshake,
		frame: 2, related: 1, msg: "the SYN (frame 1) was refused with a RST from 10.0.0.2:80; the client tried again, and the server answered (SYN-ACK, frame 4)",
		state: "warning/complete", quietState: "ok/complete"},

	{name: "synack captured before its syn", code: "handshake.synack_without_syn",
		// Two directions captured apart and merged, the server's clock
		// ahead: the SYN-ACK comes first, its SYN next. "No SYN in the
		// capture" was false.
		fires: `
0.01  S>C SA mss=1460 ack=1001
0.011 C>S S  mss=1460
0.02  C>S A  seq=1001`,
		quiet: `
0     C>S S  mss=1460
0.01  S>C SA mss=1460 ack=1001
0.02  C>S A  seq=1001`,
		frame: 1, related: 2, msg: "SYN-ACK captured before its SYN (frame 2): the two directions' time stamps disagree",
		state: "ok/complete", quietState: "ok/complete"},

	{name: "syn sent again after its synack", code: "handshake.syn_retransmit",
		// The SYN-ACK was lost past this point (the client's side of a
		// firewall that drops it): not "the first was not answered".
		fires: `
0     C>S S  mss=1460
+0.01 S>C SA mss=1460
+1    C>S S  mss=1460 seq=1000
+0.01 S>C SA mss=1460 seq=5000
+0.01 C>S A  seq=1001`,
		quiet: ruleHandshake,
		frame: 3, related: 1, msg: "SYN sent again (same ISN 1000, #2) after the SYN-ACK (frame 2): the client did not get it, or did not accept it",
		state: "warning/complete", quietState: "ok/complete"},

	{name: "syn sent again after a reset", code: "handshake.syn_retransmit",
		// Windows tries a refused connection again, with the same ISN.
		fires: `
0      C>S S  mss=1460
+0.01  S>C RA
+0.5   C>S S  mss=1460 seq=1000
+0.01  S>C RA`,
		quiet: `
0     C>S S  mss=1460
+0.01 S>C RA`,
		frame: 3, related: 1, msg: "SYN sent again (same ISN 1000, #2) after the reset (frame 2): the client tries again",
		state: "invalid/refused", quietState: "invalid/refused"},

	{name: "handshake not seen", code: "handshake.not_seen",
		fires: `
# the capture starts after the handshake
0.03  C>S PA seq=1001 ack=5001 len=100
0.04  S>C A  seq=5001 ack=1101`,
		quiet: ruleHandshake + `
0.03  C>S PA seq=1001 ack=5001 len=100
0.04  S>C A  seq=5001 ack=1101`,
		frame: 1, msg: "the capture starts mid-connection: no handshake seen",
		state: "partial/not_seen", quietState: "ok/complete"},

	{name: "window scaling on one side", code: "handshake.wscale_one_sided",
		fires: `
0     C>S S  mss=1460 ws=2
+0.01 S>C SA mss=1460
+0.01 C>S A`,
		quiet: `
0     C>S S  mss=1460 ws=2
+0.01 S>C SA mss=1460 ws=7
+0.01 C>S A`,
		frame: 2, related: 1, msg: "window scaling offered by one side only (client offered shift 2, server did not): neither side scales",
		state: "ok/complete", quietState: "ok/complete"},

	{name: "syn without mss", code: "handshake.mss_missing",
		fires: ruleHandshake + `patch 1 sackok`, // options in a patch replace the line's
		quiet: ruleHandshake + `patch 1 mss=1460 sackok`,
		frame: 1, msg: "SYN without the MSS option",
		state: "ok/complete", quietState: "ok/complete"},

	{name: "synack without mss", code: "handshake.mss_missing",
		fires: ruleHandshake + `patch 2 sackok`,
		quiet: ruleHandshake + `patch 2 mss=1460 sackok`,
		frame: 2, msg: "SYN-ACK without the MSS option",
		state: "ok/complete", quietState: "ok/complete"},

	{name: "syn whose options were not captured", code: "handshake.mss_missing",
		// tcpdump -s 54: the SYN's options (MSS first) were not captured,
		// so nothing says the MSS was missing; the SYN-ACK's are cut
		// after SACK-permitted, before its MSS.
		fires: ruleHandshake + `patch 1 sackok`,
		quiet: ruleHandshake + `patch 1 snap=54
patch 2 sackok mss=1460 snap=56`,
		frame: 1, msg: "SYN without the MSS option",
		state: "ok/complete", quietState: "ok/complete"},

	{name: "window scale not captured", code: "handshake.wscale_one_sided",
		// The server's window scale option sits after its MSS option,
		// which the snap length (14+20+20+4 bytes) ends with: whether
		// the server offered one is not known.
		fires: `
0     C>S S  mss=1460 ws=2
+0.01 S>C SA mss=1460
+0.01 C>S A`,
		quiet: `
0     C>S S  mss=1460 ws=2
+0.01 S>C SA mss=1460 ws=7 snap=58
+0.01 C>S A`,
		frame: 2, related: 1, msg: "window scaling offered by one side only (client offered shift 2, server did not): neither side scales",
		state: "ok/complete", quietState: "ok/complete"},

	{name: "synack payload not captured", code: "handshake.synack_payload",
		// The seed cut by tcpdump -s 54: the IP total length says the
		// SYN-ACK carries 2 bytes; the capture holds none of them.
		fires: `
0     C>S S  mss=1460 snap=54
+0.01 S>C SA mss=1460 data=zero:2 snap=54
+0.01 C>S A  ack=5001`,
		quiet: `
0     C>S S  mss=1460 snap=54
+0.01 S>C SA mss=1460 snap=54
+0.01 C>S A  ack=5001`,
		frame: 2, msg: "SYN-ACK carries 2 bytes of TCP payload (by its IP length; the bytes were not captured); a SYN-ACK should carry none",
		state: "invalid/invalid", quietState: "ok/complete"},

	{name: "synack payload partly captured", code: "handshake.synack_payload",
		fires: `
0     C>S S  mss=1460
+0.01 S>C SA mss=1460 data=hex:01020304 snap=60
+0.01 C>S A  ack=5001`,
		quiet: `
0     C>S S  mss=1460
+0.01 S>C SA mss=1460 snap=60
+0.01 C>S A  ack=5001`,
		frame: 2, msg: "SYN-ACK carries 4 bytes of TCP payload (bytes 01 02 …+2 not captured)",
		state: "invalid/invalid", quietState: "ok/complete"},

	{name: "syn payload with options not captured", code: "handshake.syn_payload",
		// Data on a SYN whose options were cut: a Fast Open cookie may be
		// among them. Still a warning, but the message says so.
		fires: `
0     C>S S  mss=1460 tfo=0102030405060708 data=text:hello snap=58
+0.01 S>C SA mss=1460 ack=1001
+0.01 C>S A`,
		quiet: `
0     C>S S  mss=1460 tfo=0102030405060708 snap=58
+0.01 S>C SA mss=1460
+0.01 C>S A`,
		frame: 1, msg: "SYN carries 5 bytes of data (by its IP length; the bytes were not captured); its options were not captured whole: whether it carries a TCP Fast Open cookie is unknown",
		state: "warning/complete", quietState: "ok/complete"},

	// ---- tcp.* (Wireshark's sequence analysis; every capture is also
	// compared with tshark by TestRuleCapturesAgainstTshark) ----

	{name: "retransmission", code: "tcp.retransmission",
		// Sent again 500 ms later (well past the 20 ms iRTT, so not
		// out-of-order); in the quiet one the segment carries new data.
		fires: ruleHandshake + `
+0.01 C>S PA len=100             # 4: 1001-1101
+0.5  C>S PA len=100 seq=1001    # 5: the same bytes again
+0.01 S>C A`,
		quiet: ruleHandshake + `
+0.01 C>S PA len=100             # 4: 1001-1101
+0.5  C>S PA len=100 seq=1101    # 5: the next bytes
+0.01 S>C A`,
		frame: 5, related: 4, msg: "retransmission of frame 4 by the client (100 bytes)",
		state: "warning/complete", quietState: "ok/complete"},

	{name: "retransmission of an older segment", code: "tcp.retransmission",
		// Segment 4 sent again after 5: the message names the segment
		// that took the client's sequence furthest (tshark 4.0 names 4,
		// the eldest not acknowledged: knownRelated), and says the bytes
		// are behind it.
		fires: ruleHandshake + `
+0.01  C>S PA len=100            # 4: 1001-1101
+0.001 C>S PA len=100            # 5: 1101-1201
+0.5   C>S PA len=100 seq=1001   # 6: 4's bytes again
+0.01  S>C A`,
		quiet: ruleHandshake + `
+0.01  C>S PA len=100            # 4: 1001-1101
+0.001 C>S PA len=100            # 5: 1101-1201
+0.5   C>S PA len=100 seq=1201   # 6: the next bytes
+0.01  S>C A`,
		frame: 6, related: 5, msg: "retransmission by the client (100 bytes; frame 5 had already gone past them)",
		state: "warning/complete", quietState: "ok/complete"},

	{name: "retransmission with new bytes", code: "tcp.retransmission",
		// Half of segment 4 again, and 150 bytes past it.
		fires: ruleHandshake + `
+0.01 C>S PA len=100             # 4: 1001-1101
+0.5  C>S PA len=200 seq=1051    # 5: 1051-1251
+0.01 S>C A`,
		quiet: ruleHandshake + `
+0.01 C>S PA len=100             # 4: 1001-1101
+0.5  C>S PA len=200 seq=1101    # 5: 1101-1301
+0.01 S>C A`,
		frame: 5, related: 4, msg: "retransmission by the client (200 bytes, some of them new after frame 4's)",
		state: "warning/complete", quietState: "ok/complete"},

	{name: "fast retransmission", code: "tcp.fast_retransmission",
		// Three duplicate ACKs for 1101, and the missing segment is resent
		// 2 ms after the last (less than 20 ms); 50 ms after it, it is a
		// plain retransmission.
		fires: ruleHandshake + `
+0.01  C>S PA len=100            # 4: 1001-1101
+0.002 C>S PA len=100 seq=1201   # 5: 1101-1201 is lost
+0.008 S>C A  ack=1101           # 6
+0.001 S>C A  ack=1101           # 7: dup #1
+0.001 S>C A  ack=1101           # 8: dup #2
+0.001 S>C A  ack=1101           # 9: dup #3
+0.002 C>S PA len=100 seq=1101   # 10
+0.005 S>C A  ack=1301`,
		quiet: ruleHandshake + `
+0.01  C>S PA len=100            # 4: 1001-1101
+0.002 C>S PA len=100 seq=1201   # 5: 1101-1201 is lost
+0.008 S>C A  ack=1101           # 6
+0.001 S>C A  ack=1101           # 7: dup #1
+0.001 S>C A  ack=1101           # 8: dup #2
+0.001 S>C A  ack=1101           # 9: dup #3
+0.05  C>S PA len=100 seq=1101   # 10
+0.005 S>C A  ack=1301`,
		// The lost segment was never captured: the message names the
		// segment past it (tshark's rto_frame would), not as the original.
		frame: 10, related: 5, msg: "fast retransmission by the client after duplicate ACKs (100 bytes; frame 5 had already gone past them)",
		state: "warning/complete", quietState: "warning/complete"},

	{name: "spurious retransmission", code: "tcp.spurious_retransmission",
		// The server acknowledged all of the segment before it was sent
		// again; in the quiet one it acknowledged only half.
		fires: ruleHandshake + `
+0.01 C>S PA len=100             # 4: 1001-1101
+0.01 S>C A  ack=1101            # 5
+0.5  C>S PA len=100 seq=1001    # 6`,
		quiet: ruleHandshake + `
+0.01 C>S PA len=100             # 4: 1001-1101
+0.01 S>C A  ack=1051            # 5
+0.5  C>S PA len=100 seq=1001    # 6`,
		frame: 6, related: 4, msg: "spurious retransmission of frame 4 by the client (100 bytes): the data was already acknowledged",
		state: "warning/complete", quietState: "warning/complete"},

	{name: "out of order", code: "tcp.out_of_order",
		// 1101-1201 arrives 2 ms after 1201-1301, within the 20 ms iRTT;
		// 500 ms later it is a retransmission.
		fires: ruleHandshake + `
+0.01  C>S PA len=100            # 4: 1001-1101
+0.002 C>S PA len=100 seq=1201   # 5
+0.002 C>S PA len=100 seq=1101   # 6
+0.01  S>C A  ack=1301`,
		quiet: ruleHandshake + `
+0.01  C>S PA len=100            # 4: 1001-1101
+0.002 C>S PA len=100 seq=1201   # 5
+0.5   C>S PA len=100 seq=1101   # 6
+0.01  S>C A  ack=1301`,
		frame: 6, related: 5, msg: "out-of-order segment from the client: frame 5, captured before it, is further in the sequence",
		state: "warning/complete", quietState: "warning/complete"},

	{name: "out of order, its bytes captured before", code: "tcp.out_of_order",
		// 1101-1201 again, 2 ms after 1201-1301: Wireshark's out of
		// order, but the capture holds every byte the client sent, so it
		// was sent again, not late (the sender's own capture after an
		// RTO: go-back-N). 500 ms later it is a retransmission.
		fires: ruleHandshake + `
+0.01  C>S PA len=100            # 4: 1001-1101
+0.001 C>S PA len=100            # 5: 1101-1201
+0.001 C>S PA len=100            # 6: 1201-1301
+0.002 C>S PA len=100 seq=1101   # 7: 5's bytes again
+0.01  S>C A  ack=1301`,
		quiet: ruleHandshake + `
+0.01  C>S PA len=100            # 4: 1001-1101
+0.001 C>S PA len=100            # 5: 1101-1201
+0.001 C>S PA len=100            # 6: 1201-1301
+0.5   C>S PA len=100 seq=1101   # 7
+0.01  S>C A  ack=1301`,
		frame: 7, related: 6, msg: "retransmission by the client (100 bytes, all captured by frame 6): not a late arrival; Wireshark calls it out of order",
		state: "warning/complete", quietState: "warning/complete"},

	{name: "lost segment", code: "tcp.lost_segment",
		fires: ruleHandshake + `
+0.01 C>S PA len=100             # 4: 1001-1101
+0.01 C>S PA len=100 seq=1201    # 5: 1101-1201 was not captured
+0.01 S>C A`,
		quiet: ruleHandshake + `
+0.01 C>S PA len=100             # 4: 1001-1101
+0.01 C>S PA len=100 seq=1101    # 5
+0.01 S>C A`,
		frame: 5, related: 4, msg: "previous segment from the client not captured (100 bytes missing after frame 4)",
		state: "warning/complete", quietState: "ok/complete"},

	{name: "lost segment before a FIN", code: "tcp.lost_segment",
		// A FIN counts too.
		fires: ruleHandshake + `
+0.01 C>S PA len=100             # 4: 1001-1101
+0.01 C>S FA seq=1201            # 5
+0.01 S>C FA`,
		quiet: ruleHandshake + `
+0.01 C>S PA len=100             # 4: 1001-1101
+0.01 C>S FA seq=1101            # 5
+0.01 S>C FA`,
		frame: 5, related: 4, msg: "previous segment from the client not captured (100 bytes missing after frame 4)",
		state: "warning/complete", quietState: "ok/complete"},

	{name: "ack of unseen data", code: "tcp.ack_unseen",
		fires: ruleHandshake + `
+0.01 C>S PA len=100             # 4: 1001-1101
+0.01 S>C A  ack=1201            # 5: 100 bytes more than captured`,
		quiet: ruleHandshake + `
+0.01 C>S PA len=100             # 4: 1001-1101
+0.01 S>C A  ack=1101            # 5`,
		frame: 5, msg: "the server acknowledges data that was never captured (ACK 1201)",
		state: "warning/complete", quietState: "ok/complete"},

	{name: "duplicate ack", code: "tcp.dup_ack",
		// The same ACK twice; with another window the second is a window
		// update instead.
		fires: ruleHandshake + `
+0.01 C>S PA len=100             # 4
+0.01 S>C A                      # 5
+0.01 S>C A                      # 6`,
		quiet: ruleHandshake + `
+0.01 C>S PA len=100             # 4
+0.01 S>C A                      # 5
+0.01 S>C A  win=1000            # 6`,
		frame: 6, related: 5, msg: "duplicate ACK #1 from the server: the ACK of frame 5 again",
		state: "ok/complete", quietState: "ok/complete"},

	{name: "duplicate ack after data", code: "tcp.dup_ack",
		// The server's data segment carries the same ACK without being a
		// duplicate ACK; the duplicate repeats the ACK of frame 5, where
		// the server's ACK last moved (tshark's duplicate_ack_frame).
		fires: ruleHandshake + `
+0.01 C>S PA len=100             # 4
+0.01 S>C A                      # 5: ACK 1101
+0.01 S>C PA len=50              # 6: data, ACK 1101
+0.01 S>C A                      # 7: ACK 1101 again`,
		quiet: ruleHandshake + `
+0.01 C>S PA len=100             # 4
+0.01 S>C A                      # 5: ACK 1101
+0.01 S>C PA len=50              # 6: data, ACK 1101
+0.01 C>S PA len=100             # 7
+0.01 S>C A                      # 8: ACK 1201`,
		frame: 7, related: 5, msg: "duplicate ACK #1 from the server: the ACK of frame 5 again",
		state: "ok/complete", quietState: "ok/complete"},

	{name: "duplicate ack with a D-SACK block", code: "tcp.dup_ack",
		// The client sends 1001-1101 again after the server acknowledged
		// it; the server's duplicate ACK reports it received twice (RFC
		// 2883: a SACK block below the ACK). With another window the
		// ACK is a window update, D-SACK or not.
		fires: ruleHandshake + `
patch 1-3 sackok
+0.01  C>S PA len=100            # 4: 1001-1101
+0.01  S>C A                     # 5: ACK 1101
+0.2   C>S PA len=100 seq=1001   # 6: sent again
+0.001 S>C A  sack=1001-1101     # 7`,
		quiet: ruleHandshake + `
patch 1-3 sackok
+0.01  C>S PA len=100            # 4: 1001-1101
+0.01  S>C A                     # 5: ACK 1101
+0.2   C>S PA len=100 seq=1001   # 6: sent again
+0.001 S>C A  sack=1001-1101 win=1000`,
		frame: 7, related: 5, msg: "duplicate ACK #1 from the server: the ACK of frame 5 again, and reports bytes 1-101 (relative) received twice (D-SACK): " +
			"the client's retransmission of them was spurious, the original having arrived too, or the network duplicated them",
		state: "warning/complete", quietState: "warning/complete"},

	{name: "zero window", code: "tcp.zero_window",
		fires: ruleHandshake + `
+0.01 C>S PA len=100             # 4
+0.01 S>C A  win=0               # 5: the server's buffer is full`,
		quiet: ruleHandshake + `
+0.01 C>S PA len=100             # 4
+0.01 S>C A  win=100             # 5`,
		frame: 5, msg: "zero window from the server: it cannot take more data",
		state: "warning/complete", quietState: "ok/complete"},

	{name: "zero window probe", code: "tcp.zero_window_probe",
		// One byte into the closed window is a probe; two bytes are not.
		fires: ruleHandshake + `
+0.01 C>S PA len=100             # 4: 1001-1101
+0.01 S>C A  win=0               # 5
+0.3  C>S A  len=1               # 6: 1101-1102
+0.01 S>C A  win=0 ack=1101      # 7: the probe's answer`,
		quiet: ruleHandshake + `
+0.01 C>S PA len=100             # 4: 1001-1101
+0.01 S>C A  win=0               # 5
+0.3  C>S A  len=2               # 6: 1101-1103
+0.01 S>C A  win=0 ack=1101      # 7`,
		frame: 6, related: 5, msg: "zero window probe from the client: the server's window has been zero since frame 5",
		state: "warning/complete", quietState: "warning/complete"},

	{name: "window full", code: "tcp.window_full",
		// The server offers 300 bytes (no window scaling); the client's
		// second segment ends exactly at 1001+300.
		fires: `server win=300` + ruleHandshake + `
+0.01  C>S PA len=100            # 4: 1001-1101
+0.001 C>S PA len=200            # 5: 1101-1301`,
		quiet: `server win=300` + ruleHandshake + `
+0.01  C>S PA len=100            # 4: 1001-1101
+0.001 C>S PA len=199            # 5: 1101-1300`,
		frame: 5, msg: "the client filled the receiver's window",
		state: "warning/complete", quietState: "ok/complete"},

	{name: "window full with window scaling", code: "tcp.window_full",
		// Both sides scale: the server's window 100 << 2 = 400 bytes once it
		// has sent an ACK after its SYN-ACK (in the SYN-ACK the window is
		// not scaled). Without ws=2 on the SYN-ACK neither side scales and
		// the window is 100 bytes, which no segment here ends at.
		fires: "server win=100\n" + ruleHandshake + `
patch 1 mss=1460 ws=7
patch 2 mss=1460 ws=2
+0.01  S>C A                     # 4
+0.01  C>S PA len=200            # 5: 1001-1201
+0.001 C>S PA len=200            # 6: 1201-1401 = 1001 + 400`,
		quiet: "server win=100\n" + ruleHandshake + `
patch 1 mss=1460 ws=7
patch 2 mss=1460
+0.01  S>C A                     # 4
+0.01  C>S PA len=200            # 5
+0.001 C>S PA len=200            # 6`,
		frame: 6, msg: "the client filled the receiver's window",
		state: "warning/complete", quietState: "ok/complete"},

	{name: "window update", code: "tcp.window_update",
		// The same ACK with a larger window; with the same window it is a
		// duplicate ACK.
		fires: ruleHandshake + `
+0.01 C>S PA len=100             # 4
+0.01 S>C A  win=1000            # 5
+0.01 S>C A  win=2000            # 6`,
		quiet: ruleHandshake + `
+0.01 C>S PA len=100             # 4
+0.01 S>C A  win=1000            # 5
+0.01 S>C A  win=1000            # 6`,
		frame: 6, msg: "window update from the server (window 2000 bytes)",
		state: "ok/complete", quietState: "ok/complete"},

	{name: "window update with window scaling", code: "tcp.window_update",
		// The window is in bytes: the field scaled by the server's shift
		// (2 here), as tshark's tcp.window_size and Win= show it
		// (TestWindowUpdateBytesAgainstTshark). lo3.pcap said "window 93"
		// for 95,232 bytes.
		fires: ruleHandshake + `
patch 1 mss=1460 ws=7
patch 2 mss=1460 ws=2
+0.01 C>S PA len=100             # 4
+0.01 S>C A  win=1000            # 5
+0.01 S>C A  win=2000            # 6`,
		quiet: ruleHandshake + `
patch 1 mss=1460 ws=7
patch 2 mss=1460 ws=2
+0.01 C>S PA len=100             # 4
+0.01 S>C A  win=1000            # 5
+0.01 S>C A  win=1000            # 6`,
		frame: 6, msg: "window update from the server (window 8000 bytes, field 2000 × 4)",
		state: "ok/complete", quietState: "ok/complete"},

	{name: "window update, window scale unknown", code: "tcp.window_update",
		// Without the handshake the scale is unknown: the message says the
		// number is the field, unscaled.
		fires: `
0.03  C>S PA seq=1001 ack=5001 len=100
0.04  S>C A  seq=5001 ack=1101 win=1000
0.05  S>C A  seq=5001 ack=1101 win=2000`,
		quiet: `
0.03  C>S PA seq=1001 ack=5001 len=100
0.04  S>C A  seq=5001 ack=1101 win=1000
0.05  S>C A  seq=5001 ack=1101 win=1000`,
		frame: 3, msg: "window update from the server (window field 2000, unscaled: the SYN-ACK is not in the capture, so the window scale is unknown)",
		state: "partial/not_seen", quietState: "partial/not_seen"},

	{name: "keep-alive", code: "tcp.keep_alive",
		// An empty segment one byte before the next sequence number, after
		// 5 s of silence; at the next sequence number it is a duplicate ACK.
		fires: ruleHandshake + `
+0.01 C>S PA len=100             # 4: 1001-1101
+0.01 S>C A                      # 5
+5    C>S A  seq=1100            # 6
+0.01 S>C A                      # 7: its answer`,
		quiet: ruleHandshake + `
+0.01 C>S PA len=100             # 4: 1001-1101
+0.01 S>C A                      # 5
+5    C>S A  seq=1101            # 6: a duplicate ACK instead
+0.01 S>C A                      # 7`,
		frame: 6, msg: "keep-alive from the client",
		state: "ok/complete", quietState: "ok/complete"},

	{name: "keep-alive probing a zero window", code: "tcp.keep_alive",
		// Linux's persist timer probes a closed window with no data at
		// one below the next sequence number (tcp_xmit_probe_skb): a
		// keep-alive to Wireshark, a probe of the server's zero window
		// here. A byte at the next sequence number would be a zero
		// window probe.
		fires: ruleHandshake + `
+0.01 C>S PA len=100             # 4: 1001-1101
+0.01 S>C A  win=0               # 5: the server's window closes
+0.2  C>S A  seq=1100            # 6: the probe
+0.01 S>C A  win=0               # 7: still closed`,
		quiet: ruleHandshake + `
+0.01 C>S PA len=100             # 4: 1001-1101
+0.01 S>C A  win=0               # 5
+0.2  C>S A  seq=1101 len=1      # 6: a zero window probe
+0.01 S>C A  win=0               # 7`,
		frame: 6, related: 5, msg: "zero window probe from the client, shaped like a keep-alive (0 bytes at one below its next sequence number, as Linux sends them): " +
			"the server's window has been zero since frame 5; Wireshark calls it a keep-alive",
		state: "warning/complete", quietState: "warning/complete"},

	{name: "keep-alive carrying one byte", code: "tcp.keep_alive",
		// Some stacks send the byte before the next sequence number again.
		fires: ruleHandshake + `
+0.01 C>S PA len=100             # 4: 1001-1101
+0.01 S>C A                      # 5
+5    C>S A  seq=1100 len=1      # 6
+0.01 S>C A                      # 7`,
		quiet: ruleHandshake + `
+0.01 C>S PA len=100             # 4: 1001-1101
+0.01 S>C A                      # 5
+5    C>S A  seq=1101 len=1      # 6: a new byte
+0.01 S>C A                      # 7`,
		frame: 6, msg: "keep-alive from the client",
		state: "ok/complete", quietState: "ok/complete"},

	{name: "ports reused before the connection ended", code: "tcp.reused_ports",
		// A new SYN with another ISN on the same addresses and ports starts
		// flow 2. The contract flags the OLD flow, and only when it had not
		// ended; the finding names the new SYN and the old flow's last frame.
		// Deliberate difference: tshark 4.0 flags every such SYN (frame 6
		// in both captures); the tshark comparison counts our flows that
		// took over ports (PrevID) as its flag.
		fires: ruleHandshake + `
+0.01 C>S PA len=100             # 4
+0.01 S>C A                      # 5
+10   C>S S  mss=1460 seq=9000   # 6: the old connection had not ended
+0.01 S>C SA mss=1460 seq=7000
+0.01 C>S A`,
		quiet: ruleHandshake + `
+0.01 C>S PA len=100             # 4
+0.01 S>C RA                     # 5: the server ends it
+10   C>S S  mss=1460 seq=9000   # 6
+0.01 S>C SA mss=1460 seq=7000
+0.01 C>S A`,
		frame: 6, related: 5, msg: "a new connection (flow 2) took over these ports before this one ended",
		state: "warning/complete", quietState: "warning/complete"},

	{name: "synack with a new ISN", code: "tcp.reused_ports",
		// The server answers the same SYN again with another ISN: it
		// started over (tshark 4.0 flags it too, in a single pass). With
		// the same ISN it is a SYN-ACK retransmission.
		fires: `
0     C>S S  mss=1460
+0.01 S>C SA mss=1460
+1    S>C SA mss=1460 seq=7000`,
		quiet: `
0     C>S S  mss=1460
+0.01 S>C SA mss=1460
+1    S>C SA mss=1460 seq=5000`,
		frame: 3, msg: "SYN-ACK with a new ISN: the server started the connection over",
		state: "warning/incomplete", quietState: "warning/incomplete"},

	{name: "reset", code: "tcp.rst",
		fires: ruleHandshake + `
+0.01 C>S PA len=100             # 4
+0.01 S>C RA                     # 5`,
		quiet: ruleHandshake + `
+0.01 C>S PA len=100             # 4
+0.01 S>C FA                     # 5`,
		frame: 5, msg: "connection reset by the server (10.0.0.2:80)",
		state: "warning/complete", quietState: "ok/complete"},

	{name: "reset outside the window", code: "tcp.rst",
		// A blind or stale RST: its sequence number is far outside the
		// client's window (RFC 9293 §3.10.7.4 ignores it). The
		// connection goes on, and no data after it is after close.
		// tshark flags it "Connection reset (RST)" as any RST, and its
		// sequence analysis (and ours, to match it) moves the server's
		// next sequence number to it: frame 7 is a retransmission.
		fires: ruleHandshake + `
+0.01 C>S PA len=100             # 4
+0.01 S>C A                      # 5
+0.01 S>C R  seq=123456789       # 6
+0.01 C>S PA len=100             # 7: the connection goes on
+0.01 S>C PA len=300`,
		quiet: ruleHandshake + `
+0.01 C>S PA len=100             # 4
+0.01 S>C A                      # 5
+0.01 S>C A                      # 6
+0.01 C>S PA len=100             # 7
+0.01 S>C PA len=300`,
		frame: 6, msg: "reset by the server (10.0.0.2:80) with seq 123456789 outside the client's window (next expected 5001): the client ignores it (forged or stale?)",
		state: "warning/complete", quietState: "ok/complete"},

	{name: "reset in the window, challenged", code: "tcp.rst",
		// In the window but not at the next expected sequence number:
		// RFC 5961 §3.2 answers it with a challenge ACK (frame 7), and
		// the connection goes on.
		fires: ruleHandshake + `
+0.01  C>S PA len=100            # 4
+0.01  S>C A                     # 5
+0.01  S>C R  seq=6000           # 6
+0.001 C>S A  seq=1101 ack=5001  # 7: the challenge ACK
+0.01  C>S PA len=100            # 8
+0.01  S>C PA seq=5001 len=300`,
		quiet: ruleHandshake + `
+0.01  C>S PA len=100            # 4
+0.01  S>C A                     # 5
+0.01  S>C A                     # 6
+0.001 C>S A  seq=1101 ack=5001  # 7
+0.01  C>S PA len=100            # 8
+0.01  S>C PA seq=5001 len=300`,
		frame: 6, msg: "with seq 6000, in the client's window but not the next expected 5001: a receiver following RFC 5961 answers it with a challenge ACK, and the connection went on",
		state: "warning/complete", quietState: "ok/complete"},

	{name: "data after close", code: "tcp.data_after_close",
		fires: ruleHandshake + `
+0.01 C>S PA len=100             # 4
+0.01 S>C RA                     # 5
+0.01 C>S PA len=50              # 6: the client sends on`,
		quiet: ruleHandshake + `
+0.01 C>S PA len=100             # 4
+0.01 S>C A                      # 5
+0.01 C>S PA len=50              # 6`,
		frame: 6, related: 5, msg: "50 bytes of data from the client after the connection was reset",
		state: "warning/complete", quietState: "ok/complete"},

	{name: "data after a reset the client did not take", code: "tcp.data_after_close",
		// The same RST outside the client's window (quiet) ended nothing.
		fires: ruleHandshake + `
+0.01 C>S PA len=100             # 4
+0.01 S>C RA                     # 5
+0.01 C>S PA len=50              # 6`,
		quiet: ruleHandshake + `
+0.01 C>S PA len=100             # 4
+0.01 S>C RA seq=123456789       # 5
+0.01 C>S PA len=50              # 6`,
		frame: 6, related: 5, msg: "50 bytes of data from the client after the connection was reset",
		state: "warning/complete", quietState: "warning/complete"},

	{name: "data past the sender's own FIN", code: "tcp.data_after_close",
		// Whether or not the peer closed; the related frame is the
		// sender's FIN. The same bytes before the FIN, sent again, are
		// no data after close (quiet).
		fires: ruleHandshake + `
+0.01 C>S PA len=100             # 4
+0.01 C>S FA                     # 5: the client's FIN at 1101
+0.01 S>C A                      # 6
+0.01 C>S PA seq=1102 len=50     # 7: past it`,
		quiet: ruleHandshake + `
+0.01 C>S PA len=100             # 4
+0.01 C>S FA                     # 5
+0.01 S>C A                      # 6
+0.01 C>S PA seq=1051 len=50     # 7: before it, sent again`,
		frame: 7, related: 5, msg: "50 bytes of data from the client past its own FIN (seq 1101): nothing may follow a FIN",
		state: "warning/complete", quietState: "warning/complete"},

	{name: "data after both FINs", code: "tcp.data_after_close",
		// After both FINs, the bytes a side sent before its FIN and sends
		// again are loss recovery at close (quiet: frame 6 was lost past
		// the capture point, and the client acknowledged frame 5 only).
		// Past the server's FIN they are data after close.
		fires: ruleHandshake + `
+0.01  C>S PA len=100                     # 4
+0.01  S>C PA seq=5001 ack=1101 len=1000  # 5
+0.001 S>C PA seq=6001 ack=1101 len=1000  # 6
+0.001 S>C FA seq=7001 ack=1101           # 7: the server's FIN
+0.01  C>S A  seq=1101 ack=6001           # 8
+0.001 C>S FA seq=1101 ack=6001           # 9: the client's FIN
+0.2   S>C PA seq=7002 ack=1102 len=1000  # 10: past the server's FIN`,
		quiet: ruleHandshake + `
+0.01  C>S PA len=100                     # 4
+0.01  S>C PA seq=5001 ack=1101 len=1000  # 5
+0.001 S>C PA seq=6001 ack=1101 len=1000  # 6
+0.001 S>C FA seq=7001 ack=1101           # 7
+0.01  C>S A  seq=1101 ack=6001           # 8
+0.001 C>S FA seq=1101 ack=6001           # 9
+0.2   S>C PA seq=6001 ack=1102 len=1000  # 10: frame 6 sent again`,
		frame: 10, related: 7, msg: "1000 bytes of data from the server past its own FIN (seq 7001)",
		state: "warning/complete", quietState: "warning/complete"},

	// ---- checksums ----

	{name: "checksum offload, marked outgoing (pcapng)", code: "checksum.offload",
		// The client's last packet has a bad checksum and no good one
		// follows it: only the direction flag tells offload from damage.
		// Marked inbound it is checksum.bad.
		fires: "format pcapng\nclient dir=out\nserver dir=in\n" + ruleHandshake + `
+0.01 C>S PA len=100 badsum      # 4
+0.01 S>C A`,
		quiet: "format pcapng\nclient dir=in\nserver dir=in\n" + ruleHandshake + `
+0.01 C>S PA len=100 badsum=0x1234 # 4: a wrong value, not the pseudo-header sum offload leaves
+0.01 S>C A`,
		frame: 4, msg: "1 packet sent by the capturing host with a bad TCP checksum: checksum offload",
		state: "ok/complete", quietState: "warning/complete"},

	{name: "checksum offload, marked outgoing (SLL)", code: "checksum.offload",
		// The same with Linux cooked capture packet types 4 and 0.
		fires: "link sll\nclient dir=out\nserver dir=in\n" + ruleHandshake + `
+0.01 C>S PA len=100 badsum      # 4
+0.01 S>C A`,
		quiet: "link sll\nclient dir=in\nserver dir=in\n" + ruleHandshake + `
+0.01 C>S PA len=100 badsum=0x1234 # 4: a wrong value, not the pseudo-header sum offload leaves
+0.01 S>C A`,
		frame: 4, msg: "1 packet sent by the capturing host with a bad TCP checksum",
		state: "ok/complete", quietState: "warning/complete"},

	{name: "checksum offload, pseudo-header sum left for the NIC", code: "checksum.offload",
		// Captured on lo every packet is marked received, but its checksum
		// field holds the pseudo-header sum the stack left for the NIC
		// (fixture badsum writes exactly that): offload, not damage.
		fires: "link sll\nclient dir=in\nserver dir=in\n" + ruleHandshake + `
+0.01 C>S PA len=100 badsum      # 4
+0.01 S>C A`,
		quiet: "link sll\nclient dir=in\nserver dir=in\n" + ruleHandshake + `
+0.01 C>S PA len=100 badsum=0x1234 # 4
+0.01 S>C A`,
		// Not "sent by the capturing host": a router's capture on a veth
		// shows the same on the packets it only forwards, both ways.
		frame: 4, msg: "1 packet with a TCP checksum left unfinished (the pseudo-header sum a stack leaves for the NIC)",
		state: "ok/complete", quietState: "warning/complete"},

	{name: "checksum offload, one address with good ones later", code: "checksum.offload",
		// No direction marks (pcap on Ethernet): every bad checksum comes
		// from the client, which sends good ones later. When the server's
		// SYN-ACK is bad too, the bad checksums are no longer one sender's.
		// The values are plainly wrong, not the pseudo-header sum an
		// offloading stack leaves (that alone says offload).
		fires: `
0     C>S S  mss=1460 badsum=0x1234
+0.01 S>C SA mss=1460
+0.01 C>S A  badsum=0x1234
+0.01 C>S PA len=100             # 4: good
+0.01 S>C A`,
		quiet: `
0     C>S S  mss=1460 badsum=0x1234
+0.01 S>C SA mss=1460 badsum=0x1234
+0.01 C>S A  badsum=0x1234
+0.01 C>S PA len=100             # 4: good
+0.01 S>C A`,
		frame: 1, msg: "2 packets sent by the capturing host with bad TCP checksums",
		state: "ok/complete", quietState: "warning/complete"},

	{name: "bad checksum from the far side", code: "checksum.bad",
		// A forwarded packet from the server, received with a bad checksum.
		fires: "format pcapng\nclient dir=out\nserver dir=in\n" + ruleHandshake + `
+0.01 C>S PA len=100             # 4
+0.01 S>C PA len=50 badsum=0x1234  # 5`,
		quiet: "format pcapng\nclient dir=out\nserver dir=in\n" + ruleHandshake + `
+0.01 C>S PA len=100             # 4
+0.01 S>C PA len=50              # 5`,
		frame: 5, msg: "bad TCP checksum on a packet from the server (10.0.0.2:80)",
		state: "warning/complete", quietState: "ok/complete"},

	{name: "bad checksum on a packet marked inbound", code: "checksum.bad",
		// The capture says the server's packet was received: whatever
		// else the capture holds, the capturing host did not send it, so
		// offload cannot explain its checksum. (Without the good packet
		// after it, the engine says checksum.bad.)
		fires: "format pcapng\nclient dir=out\nserver dir=in\n" + ruleHandshake + `
+0.01 C>S PA len=100             # 4
+0.01 S>C PA len=50 badsum=0x1234  # 5
+0.01 S>C PA len=50              # 6: good`,
		quiet: "format pcapng\nclient dir=out\nserver dir=in\n" + ruleHandshake + `
+0.01 C>S PA len=100             # 4
+0.01 S>C PA len=50              # 5
+0.01 S>C PA len=50              # 6`,
		frame: 5, msg: "bad TCP checksum on a packet from the server (10.0.0.2:80)",
		state: "warning/complete", quietState: "ok/complete"},

	{name: "bad IPv4 header checksum", code: "checksum.bad",
		fires: ruleHandshake + `
+0.01 C>S PA len=100             # 4
+0.01 S>C PA len=50 ipbadsum=0x1234  # 5`,
		quiet: ruleHandshake + `
+0.01 C>S PA len=100             # 4
+0.01 S>C PA len=50              # 5`,
		frame: 5, msg: "bad IPv4 header checksum on a packet from the server (10.0.0.2:80)",
		state: "warning/complete", quietState: "ok/complete"},

	{name: "bad checksum over IPv6", code: "checksum.bad",
		// The TCP checksum with the IPv6 pseudo-header.
		fires: "client [2001:db8::1]:40000\nserver [2001:db8::2]:80\n" + ruleHandshake + `
+0.01 C>S PA len=100             # 4
+0.01 S>C PA len=50 badsum=0x1234  # 5`,
		quiet: "client [2001:db8::1]:40000\nserver [2001:db8::2]:80\n" + ruleHandshake + `
+0.01 C>S PA len=100             # 4
+0.01 S>C PA len=50              # 5`,
		frame: 5, msg: "bad TCP checksum on a packet from the server ([2001:db8::2]:80)",
		state: "warning/complete", quietState: "ok/complete"},

	{name: "truncated segment: checksum unverified", code: "checksum.bad",
		// The same bad checksum, but the capture holds only the first 60
		// bytes of the frame: the checksum cannot be verified, never bad.
		fires: ruleHandshake + `
+0.01 C>S PA len=100             # 4
+0.01 S>C PA len=50 badsum=0x1234  # 5`,
		quiet: ruleHandshake + `
+0.01 C>S PA len=100             # 4
+0.01 S>C PA len=50 badsum=0x1234 snap=60  # 5`,
		frame: 5, msg: "bad TCP checksum on a packet from the server (10.0.0.2:80)",
		state: "warning/complete", quietState: "ok/complete"},

	// ---- damaged input ----

	{name: "bad IPv4 header checksum, TCP segment cut by the snap length", code: "checksum.bad",
		// tcpdump's heapoverflow-tcp_print.pcap: the IPv4 header checksum
		// is wrong, the TCP checksum cannot be verified. The message says
		// which is which.
		fires: ruleHandshake + `
+0.01 C>S PA len=100             # 4
+0.01 S>C PA len=50 ipbadsum=0x1234 snap=70  # 5`,
		quiet: ruleHandshake + `
+0.01 C>S PA len=100             # 4
+0.01 S>C PA len=50 snap=70      # 5`,
		frame: 5, msg: "bad IPv4 header checksum on a packet from the server (10.0.0.2:80); its TCP checksum is unverified: the segment was not captured whole",
		state: "warning/complete", quietState: "ok/complete"},

	{name: "bad IPv4 header and TCP checksums", code: "checksum.bad",
		fires: ruleHandshake + `
+0.01 C>S PA len=100             # 4
+0.01 S>C PA len=50 ipbadsum=0x1234 badsum=0x1234  # 5`,
		quiet: ruleHandshake + `
+0.01 C>S PA len=100             # 4
+0.01 S>C PA len=50              # 5`,
		frame: 5, msg: "bad IPv4 header and TCP checksums on a packet from the server (10.0.0.2:80)",
		state: "warning/complete", quietState: "ok/complete"},

	// ---- damaged input ----
	//
	// A header the capture's snap length cut short was sent whole: it is
	// not damaged, and the quiet capture of each pair below cuts the frame
	// where its twin's datagram is damaged (TestSnapLengthCuts checks what
	// becomes of the cut frames).

	{name: "TCP header truncated to 10 bytes", code: "decode.malformed",
		// The IP datagram ends 10 bytes into the TCP header (total length
		// 30): not even the sequence number, so no flow; a capture
		// finding. Cut there by the snap length instead, the segment was
		// sent whole and only not captured.
		fires: ruleHandshake + `
+0.01 C>S PA len=100 iplen=30    # 4`,
		quiet: ruleHandshake + `
+0.01 C>S PA len=100 snap=44     # 4`,
		frame: 4, msg: "TCP at byte 34: the 10-byte segment is shorter than a TCP header",
		quietState: "ok/complete"},

	{name: "IPv4 header truncated", code: "decode.malformed",
		// An IPv4 total length (16) shorter than its header; cut inside
		// the header (14+16 bytes) by the snap length instead.
		fires: ruleHandshake + `
+0.01 C>S PA len=100 iplen=16    # 4`,
		quiet: ruleHandshake + `
+0.01 C>S PA len=100 snap=30     # 4`,
		frame: 4, msg: "IPv4 at byte 14",
		quietState: "ok/complete"},

	{name: "TCP header truncated to 16 bytes", code: "decode.malformed",
		// Ports, numbers, flags and window are there: the packet counts in
		// its flow, which carries the finding. The datagram ends 16
		// bytes into the header; cut there by the snap length instead,
		// the header was sent whole and the flow has nothing to report.
		fires: ruleHandshake + `
+0.01 C>S PA len=100 iplen=36    # 4`,
		quiet: ruleHandshake + `
+0.01 C>S PA len=100 snap=50     # 4`,
		frame: 4, msg: "TCP at byte 46: bad TCP data offset 5: header length 20 runs past the 16-byte segment",
		state: "warning/complete", quietState: "ok/complete"},

	{name: "TCP options cut by the snap length", code: "decode.malformed",
		// tcpdump -s 54 ends an Ethernet frame at the fixed TCP header:
		// the SYN's options were sent, not captured. An option running
		// past the header is damage.
		fires: `
0     C>S S  optraw=020805b4
+0.01 S>C SA mss=1460
+0.01 C>S A`,
		quiet: `
0     C>S S  mss=1460 sackok ws=7 snap=54
+0.01 S>C SA mss=1460 snap=54
+0.01 C>S A`,
		frame: 1, msg: "TCP option at byte 54",
		state: "warning/complete", quietState: "ok/complete"},

	{name: "TCP data offset below 20 bytes", code: "decode.malformed",
		fires: ruleHandshake + `
+0.01 C>S PA len=10 doff=4       # 4: a 16-byte header`,
		quiet: ruleHandshake + `
+0.01 C>S PA len=10 doff=5       # 4`,
		frame: 4, msg: "byte 46",
		state: "warning/complete", quietState: "ok/complete"},

	{name: "TCP data offset past the segment", code: "decode.malformed",
		fires: ruleHandshake + `
+0.01 S>C PA len=10 doff=15      # 4: a 60-byte header in a 30-byte segment`,
		quiet: ruleHandshake + `
+0.01 S>C PA len=10 doff=5       # 4`,
		frame: 4, msg: "byte 46",
		state: "warning/complete", quietState: "ok/complete"},

	{name: "TCP option running past the header", code: "decode.malformed",
		// An MSS option claiming 8 bytes in a 4-byte option area.
		fires: ruleHandshake + `
+0.01 C>S PA len=10 optraw=020805b4  # 4`,
		quiet: ruleHandshake + `
+0.01 C>S PA len=10 optraw=020405b4  # 4`,
		frame: 4, msg: "byte 54",
		state: "warning/complete", quietState: "ok/complete"},

	{name: "IPv4 option running past the header", code: "decode.malformed",
		// A security option claiming 110 bytes in a 24-byte header.
		// gopacket refuses the whole IPv4 header for it; tshark decodes
		// TCP after the header length and warns of the option. Left
		// out of its flow, the segment made the client's ACK of it
		// (frame 5) a tcp.ack_unseen that tshark does not show.
		fires: ruleHandshake + `
+0.01 S>C PA len=10 ipopt=raw:826e0000  # 4
+0.01 C>S A                             # 5`,
		quiet: ruleHandshake + `
+0.01 S>C PA len=10 ipopt=130:0001     # 4
+0.01 C>S A                             # 5`,
		frame: 4, msg: "IPv4 option at byte 34: option type 130 of length 110 runs past the 24-byte header",
		state: "warning/complete", quietState: "ok/complete"},

	{name: "IPv4 option shorter than its type and length", code: "decode.malformed",
		// Option 153, which tshark decodes as unknown: given a length
		// of 2 (no data), a security option (130) or a router alert
		// (148) makes tshark 4.0 throw at the IPv4 layer and leave the
		// segment out of its stream, where gopacket and synscope
		// decode it.
		fires: ruleHandshake + `
+0.01 S>C PA len=10 ipopt=raw:01990100  # 4: a length of 1
+0.01 C>S A                             # 5`,
		quiet: ruleHandshake + `
+0.01 S>C PA len=10 ipopt=raw:01990200  # 4: a length of 2, no data
+0.01 C>S A                             # 5`,
		frame: 4, msg: "IPv4 option at byte 35: option type 153 of length 1: too short",
		state: "warning/complete", quietState: "ok/complete"},

	{name: "IPv4 option without its length byte", code: "decode.malformed",
		fires: ruleHandshake + `
+0.01 S>C PA len=10 ipopt=raw:01010182  # 4: the last byte starts an option
+0.01 C>S A                             # 5`,
		quiet: ruleHandshake + `
+0.01 S>C PA len=10 ipopt=raw:01010100  # 4: the list ends there
+0.01 C>S A                             # 5`,
		frame: 4, msg: "IPv4 option at byte 37: option type 130 has no length byte",
		state: "warning/complete", quietState: "ok/complete"},

	{name: "damaged packet message names the layer", code: "decode.malformed",
		// The contract: decode.malformed is reported "with the layer and
		// the byte offset".
		fires: ruleHandshake + `
+0.01 C>S PA len=10 doff=4       # 4`,
		quiet: ruleHandshake + `
+0.01 C>S PA len=10 doff=5       # 4`,
		frame: 4, msg: "TCP at byte 46: bad TCP data offset 4"},
}

func TestRuleCaptures(t *testing.T) {
	seen := map[string]bool{}
	for _, rc := range ruleCases {
		seen[rc.code] = true
		t.Run(rc.name, func(t *testing.T) {
			t.Parallel()
			if rc.bug != "" {
				t.Skip("known bug: " + rc.bug)
			}
			rc.checkFires(t, analyzeDescription(t, rc.name+" (fires)", rc.fires).res)
			rc.checkQuiet(t, analyzeDescription(t, rc.name+" (quiet)", rc.quiet).res)
		})
	}
	// Every code of the contract has its pair.
	for c := range numCodes {
		if !seen[c.String()] {
			t.Errorf("no capture pair for %s", c)
		}
	}
}

// TestRuleCapturesAgainstTshark reads the rule captures with tshark 4.0: in
// both captures of every pair, each tcp.analysis field must be on the frames
// where we have the matching finding. All the tcp.* pairs are compared, and
// every other pair built as a pcap on Ethernet (the fixture's default).
//
// tshark takes about 0.3 s to start, so the captures are read in one run:
// each is built with its own client port and the captures are put one after
// the other in one file. Wireshark's sequence analysis keeps its state per
// connection, so each capture's connection is analysed as it would be
// alone; only the frame numbers move, by the frames before it.
func TestRuleCapturesAgainstTshark(t *testing.T) {
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		skipOrFail(t, "SYNSCOPE_REQUIRE_TSHARK", "tshark not installed: rule captures not compared with tshark (apt-get install tshark)")
	}
	type half struct {
		rc    ruleCase
		fires bool
		described
	}
	var halves []half
	for _, rc := range ruleCases {
		if rc.bug != "" {
			continue
		}
		for _, fires := range []bool{true, false} {
			text, which := rc.quiet, " (quiet)"
			if fires {
				text, which = rc.fires, " (fires)"
			}
			d := analyzeDescription(t, rc.name+which, withClientPort(text, uint16(41000+len(halves))))
			if !isEthernetPcap(d.data) {
				if strings.HasPrefix(rc.code, "tcp.") {
					t.Errorf("%s: not a pcap on Ethernet: the tcp.* captures must be compared with tshark", d.name)
				}
				continue
			}
			halves = append(halves, half{rc, fires, d})
		}
	}
	caps := make([]described, len(halves))
	for i, h := range halves {
		caps[i] = h.described
	}
	v, first := tsharkConcat(t, tshark, caps, "rules.pcap")
	var related [2]int
	irtts := 0
	for i, h := range halves {
		r := compareRelated(t, h.name, h.res, v, first[i], first[i+1])
		related[0] += r[0]
		related[1] += r[1]
		for _, f := range h.res.Flows {
			theirs, ok := v.irtt[f.Handshake.AckFrame+first[i]]
			ok = ok && f.Handshake.AckFrame != 0
			if ours, known := f.Handshake.IRTT(); ok && (!known || ours != theirs) {
				// tshark times the first segment with ACK after the last
				// SYN: the server's banner where the third segment was
				// not captured (synscope gives no iRTT), the RST,ACK
				// that refused the first SYN (synscope times the SYN
				// that was answered to the third segment).
				if strings.HasPrefix(h.name, "ack acknowledges bytes the server never sent, third segment not captured") ||
					h.name == "refused, then answered when sent again (fires)" {
					continue
				}
				t.Errorf("%s: flow %d: iRTT %d ns (known %v), tshark's initial_rtt %d ns (given %v)", h.name, f.ID, ours, known, theirs, ok)
			}
			if ok {
				irtts++
			}
		}
		for _, fl := range tsharkFlags {
			ours := tsharkFramesOf(h.res, fl.code)
			theirs := framesIn(v.frames[fl.field], first, i)
			if !slices.Equal(ours, theirs) {
				t.Errorf("%s: %s on frames %v, tshark %s on %v; found:%s", h.name, fl.code, ours, fl.field, theirs, summary(h.res))
			}
			// Not a vacuous comparison: where the pair's code is one of
			// tshark's, tshark shows it where the rule fires.
			if h.fires && fl.code.String() == h.rc.code && !slices.Contains(theirs, h.rc.frame) {
				t.Errorf("%s: tshark %s on frames %v, not on frame %d", h.name, fl.field, theirs, h.rc.frame)
			}
		}
	}
	t.Logf("%d captures (%d frames) compared with tshark in one run; the frames named by %d retransmissions and %d duplicate ACKs; %d initial round-trip times",
		len(halves), first[len(halves)], related[0], related[1], irtts)
}

// withClientPort gives a description's client another port: it appends a
// client line with the last client address the description gives.
func withClientPort(text string, port uint16) string {
	addr := netip.MustParseAddr("10.0.0.1")
	for _, line := range strings.Split(ruleHosts+text, "\n") {
		if w := strings.Fields(line); len(w) > 1 && w[0] == "client" && !strings.Contains(w[1], "=") {
			addr = netip.MustParseAddrPort(w[1]).Addr()
		}
	}
	return text + "\nclient " + netip.AddrPortFrom(addr, port).String() + "\n"
}

// isEthernetPcap reports whether b is a little-endian microsecond pcap file
// with Ethernet frames, as the fixture builds by default.
func isEthernetPcap(b []byte) bool {
	return len(b) >= 24 && bytes.Equal(b[:4], []byte{0xd4, 0xc3, 0xb2, 0xa1}) && binary.LittleEndian.Uint32(b[20:24]) == 1
}

// concatPcaps puts the records of pcap files with the same header (see
// isEthernetPcap) one after the other in one file, 1000 s apart. first[i]
// is the number of frames before capture i; first[len(caps)] is the total.
// writeConcat writes caps one after the other to a file called name in a
// temporary directory, and returns its path and where each capture's
// frames start (concatPcaps).
func writeConcat(t *testing.T, caps []described, name string) (string, []uint64) {
	t.Helper()
	merged, first := concatPcaps(t, caps)
	file := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(file, merged, 0o644); err != nil {
		t.Fatal(err)
	}
	return file, first
}

// tsharkConcat runs tshark on caps written one after the other
// (writeConcat), and returns what it flagged and where each capture's
// frames start.
func tsharkConcat(t *testing.T, tshark string, caps []described, name string) (tsharkView, []uint64) {
	t.Helper()
	file, first := writeConcat(t, caps, name)
	v, err := runTshark(t, tshark, file)
	if err != nil {
		t.Fatal(err)
	}
	return v, first
}

// framesIn returns the frames of the i-th capture of a concatenation
// (first as concatPcaps gives it) among frames, numbered within it.
func framesIn(frames, first []uint64, i int) []uint64 {
	var out []uint64
	for _, fr := range frames {
		if fr > first[i] && fr <= first[i+1] {
			out = append(out, fr-first[i])
		}
	}
	return out
}

func concatPcaps(t *testing.T, caps []described) (out []byte, first []uint64) {
	t.Helper()
	const hdr, rec = 24, 16
	var n uint64
	for i, d := range caps {
		b := d.data
		if out == nil {
			out = append(out, b[:hdr]...)
		} else if !bytes.Equal(b[:hdr], out[:hdr]) {
			t.Fatalf("%s: pcap header differs from the first capture's", d.name)
		}
		first = append(first, n)
		for b = b[hdr:]; len(b) >= rec; n++ {
			size := rec + int(binary.LittleEndian.Uint32(b[8:12]))
			r := slices.Clone(b[:size])
			binary.LittleEndian.PutUint32(r, binary.LittleEndian.Uint32(r)+uint32(1000*i))
			out = append(out, r...)
			b = b[size:]
		}
	}
	return out, append(first, n)
}

// described is a capture built from a description, and what we make of it.
type described struct {
	name string
	data []byte
	res  *Result
}

// analyzeDescription builds the capture ruleHosts+text describes and
// analyses it in memory.
func analyzeDescription(t *testing.T, name, text string) described {
	t.Helper()
	c, err := fixture.Parse(name, ruleHosts+text)
	if err != nil {
		t.Fatalf("description: %v", err)
	}
	b, err := c.Bytes()
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	r, err := capture.NewReader(bytes.NewReader(b), name, int64(len(b)))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	res, err := Run(context.Background(), r, Config{Name: name})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return described{name, b, res}
}

// found is a finding with the flow it belongs to (nil for a damaged frame
// outside any flow) and its message.
type found struct {
	Finding
	flow *Flow
	msg  string
}

// allFindings lists the findings of every flow, then the capture's damaged
// frames as decode.malformed findings.
func allFindings(res *Result) []found {
	var out []found
	for _, f := range res.Flows {
		for _, fi := range f.Findings {
			out = append(out, found{fi, f, f.Message(fi)})
		}
	}
	for _, m := range res.Malformed {
		out = append(out, found{Finding{Code: CodeMalformed, Frame: m.Frame, A: int64(m.Offset)}, nil,
			fmt.Sprintf("%s at byte %d: %s", m.Layer, m.Offset, m.Reason)})
	}
	return out
}

// summary shows what the analysis found, for failure messages.
func summary(res *Result) string {
	var sb strings.Builder
	for _, f := range res.Flows {
		fmt.Fprintf(&sb, "\n  flow %d %s:", f.ID, stateOf(f))
		for _, fi := range f.Findings {
			fmt.Fprintf(&sb, "\n    %s frame %d", fi.Code, fi.Frame)
			if fi.RelatedFrame != 0 {
				fmt.Fprintf(&sb, " (related %d)", fi.RelatedFrame)
			}
			fmt.Fprintf(&sb, ": %s", f.Message(fi))
		}
	}
	for _, m := range res.Malformed {
		fmt.Fprintf(&sb, "\n  outside any flow: frame %d %s at byte %d: %s", m.Frame, m.Layer, m.Offset, m.Reason)
	}
	return sb.String()
}

func stateOf(f *Flow) string { return f.Status.String() + "/" + f.Handshake.Status.String() }

func (rc ruleCase) checkFires(t *testing.T, res *Result) {
	t.Helper()
	var hit *found
	for _, fd := range allFindings(res) {
		if fd.Code.String() == rc.code && fd.Frame == rc.frame {
			hit = &fd
			break
		}
	}
	if hit == nil {
		t.Fatalf("fires: no %s on frame %d; found:%s", rc.code, rc.frame, summary(res))
	}
	if hit.RelatedFrame != rc.related {
		t.Errorf("fires: %s related frame %d, want %d", rc.code, hit.RelatedFrame, rc.related)
	}
	if !strings.Contains(hit.msg, rc.msg) {
		t.Errorf("fires: %s message %q does not say %q", rc.code, hit.msg, rc.msg)
	}
	if rc.state != "" {
		if hit.flow == nil {
			t.Errorf("fires: %s is outside any flow, want a flow %s", rc.code, rc.state)
		} else if got := stateOf(hit.flow); got != rc.state {
			t.Errorf("fires: flow %d is %s, want %s; found:%s", hit.flow.ID, got, rc.state, summary(res))
		}
	}
}

func (rc ruleCase) checkQuiet(t *testing.T, res *Result) {
	t.Helper()
	for _, fd := range allFindings(res) {
		if fd.Code.String() == rc.code {
			t.Errorf("quiet: %s on frame %d: %s; found:%s", rc.code, fd.Frame, fd.msg, summary(res))
		}
	}
	if rc.quietState != "" {
		if len(res.Flows) == 0 {
			t.Fatalf("quiet: no flow")
		}
		if got := stateOf(res.Flows[0]); got != rc.quietState {
			t.Errorf("quiet: flow 1 is %s, want %s; found:%s", got, rc.quietState, summary(res))
		}
	}
}

// tsharkFramesOf returns the frames on which tshark 4.0 shows the field of
// code, from our findings: tcp.analysis.retransmission also marks fast and
// spurious retransmissions, and tshark's reused_ports marks the SYN of
// every flow that took over ports (PrevID), where the contract's finding is
// on the old flow, only when it had not ended (B == 0: not counted here).
func tsharkFramesOf(res *Result, code Code) []uint64 {
	var frames []uint64
	for _, f := range res.Flows {
		if code == CodeReusedPorts && f.PrevID > 0 {
			frames = append(frames, f.FirstFrame)
		}
		for _, fi := range f.Findings {
			same := fi.Code == code || (code == CodeRetransmission &&
				(fi.Code == CodeFastRetransmission || fi.Code == CodeSpuriousRetransmission))
			if same && !(code == CodeReusedPorts && fi.B == 0) {
				frames = append(frames, fi.Frame)
			}
		}
	}
	slices.Sort(frames)
	return slices.Compact(frames)
}
