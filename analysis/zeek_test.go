package analysis

import (
	"math/rand/v2"
	"strings"
	"testing"
	"unsafe"
)

// zkA is a segment from the endpoint that sent the first captured segment
// (usually the client), zkB one from its peer. Windows are non-zero and
// checksums good unless a test says otherwise.
func zkA(flags uint8, seq, ack uint32, n int) zeekSeg {
	return zeekSeg{FromFirst: true, Flags: flags, Seq: seq, Ack: ack, PayloadLen: n, Window: 8192}
}

func zkB(flags uint8, seq, ack uint32, n int) zeekSeg {
	return zeekSeg{Flags: flags, Seq: seq, Ack: ack, PayloadLen: n, Window: 64240}
}

// zkBad marks a segment's checksum as verified and wrong.
func zkBad(s zeekSeg) zeekSeg {
	s.BadChecksum = true
	return s
}

// zkWin sets a segment's window field.
func zkWin(s zeekSeg, w uint16) zeekSeg {
	s.Window = w
	return s
}

const (
	zkSA  = FlagSYN | FlagACK
	zkPA  = 0x08 | FlagACK // PSH, ACK
	zkFA  = FlagFIN | FlagACK
	zkRA  = FlagRST | FlagACK
	zkCli = 1000 // client ISN
	zkSrv = 5000 // server ISN
)

// zkStep is one segment and, when not empty, the history and conn_state
// expected after it.
type zkStep struct {
	seg   zeekSeg
	hist  string
	state string
}

// zkHandshake is SYN, SYN-ACK, ACK with the client sending first.
func zkHandshake() []zkStep {
	return []zkStep{
		{zkA(FlagSYN, zkCli, 0, 0), "S", "S0"},
		{zkB(zkSA, zkSrv, zkCli+1, 0), "Sh", "S1"},
		{zkA(FlagACK, zkCli+1, zkSrv+1, 0), "ShA", "S1"},
	}
}

// zkExchange is the handshake, 100 bytes from the client and 50 bytes back.
func zkExchange() []zkStep {
	return append(zkHandshake(),
		zkStep{zkA(zkPA, zkCli+1, zkSrv+1, 100), "ShAD", "S1"},
		zkStep{zkB(zkPA, zkSrv+1, zkCli+101, 50), "ShADd", "S1"},
	)
}

func zkSteps(base []zkStep, more ...zkStep) []zkStep {
	return append(append([]zkStep(nil), base...), more...)
}

// zkRepeat is n copies of a step without expectations.
func zkRepeat(n int, s zeekSeg) []zkStep {
	out := make([]zkStep, n)
	for i := range out {
		out[i] = zkStep{seg: s}
	}
	return out
}

// The seed incident (../shared/seed): the client 10.110.233.50:50183
// talks HTTPS to 172.16.1.1:443 through TMG; a device on the path inflates
// the IP length of the server's 60-byte frames, so the client sees 2 bytes
// of payload on the SYN-ACK and 6 on the final RST.
const (
	seedCi = 367515135  // client ISN
	seedSi = 2180033885 // server ISN
)

// seedClient is the client-side capture, frames 453-568, in order.
// bad lists the frames the capture marks [Bad CheckSum] (checksum offload
// on the capturing host); nil means a capture with checksums verified good
// (or Zeek run with -C).
func seedClient(bad map[int]bool) []zeekSeg {
	segs := []struct {
		frame int
		seg   zeekSeg
	}{
		{453, zkA(FlagSYN, seedCi, 0, 0)},
		{456, zkB(zkSA, seedSi, seedCi+1, 2)},        // SYN-ACK with 2 bytes
		{457, zkA(FlagACK, seedCi+1, seedSi+3, 0)},   // ACKs ISN+3
		{458, zkA(zkPA, seedCi+1, seedSi+3, 127)},    // Client Hello
		{465, zkA(zkPA, seedCi+1, seedSi+3, 127)},    // retransmission
		{476, zkA(zkPA, seedCi+1, seedSi+3, 127)},    // retransmission
		{494, zkA(zkPA, seedCi+1, seedSi+3, 127)},    // retransmission
		{512, zkB(zkSA, seedSi, seedCi+1, 2)},        // SYN-ACK again, 2 bytes
		{513, zkA(FlagACK, seedCi+128, seedSi+3, 0)}, // ACK
		{516, zkA(zkPA, seedCi+1, seedSi+3, 127)},    // retransmission
		{535, zkA(zkPA, seedCi+1, seedSi+3, 127)},    // retransmission
		{568, zkB(zkRA, seedSi+1, seedCi+1, 6)},      // RST with 6 bytes
	}
	out := make([]zeekSeg, len(segs))
	for i, s := range segs {
		out[i] = s.seg
		if bad[s.frame] {
			out[i] = zkBad(s.seg)
		}
	}
	return out
}

// seedServer is the capture on TMG's internal interface, frames 6457-7481:
// the SYN-ACK leaves without payload, yet the client acknowledges ISN+3.
func seedServer() []zeekSeg {
	return []zeekSeg{
		zkA(FlagSYN, seedCi, 0, 0),
		zkB(zkSA, seedSi, seedCi+1, 0),
		zkA(FlagACK, seedCi+1, seedSi+3, 0),
		zkA(zkPA, seedCi+1, seedSi+3, 127),
		zkA(zkPA, seedCi+1, seedSi+3, 127),
		zkA(zkPA, seedCi+1, seedSi+3, 127),
		zkA(zkPA, seedCi+1, seedSi+3, 127),
		zkB(zkSA, seedSi, seedCi+1, 0),
		zkA(FlagACK, seedCi+128, seedSi+3, 0),
		zkA(zkPA, seedCi+1, seedSi+3, 127),
		zkA(zkPA, seedCi+1, seedSi+3, 127),
		zkB(zkRA, seedSi+1, seedCi+1, 0),
	}
}

func zkPlain(segs []zeekSeg) []zkStep {
	out := make([]zkStep, len(segs))
	for i, s := range segs {
		out[i] = zkStep{seg: s}
	}
	return out
}

func TestZeekConnStateAndHistory(t *testing.T) {
	tests := []struct {
		name    string
		steps   []zkStep
		state   string
		history string
		flipped bool
		conns   int // conn.log entries; 0 means 1
	}{
		{
			// A typical HTTP connection, client closing first.
			name: "SF",
			steps: []zkStep{
				{zkA(FlagSYN, zkCli, 0, 0), "S", "S0"},
				{zkB(zkSA, zkSrv, zkCli+1, 0), "Sh", "S1"},
				{zkA(FlagACK, zkCli+1, zkSrv+1, 0), "ShA", "S1"},
				{zkA(zkPA, zkCli+1, zkSrv+1, 100), "ShAD", "S1"},
				{zkB(FlagACK, zkSrv+1, zkCli+101, 0), "ShADa", "S1"},
				{zkB(zkPA, zkSrv+1, zkCli+101, 200), "ShADad", "S1"},
				{zkA(FlagACK, zkCli+101, zkSrv+201, 0), "ShADad", "S1"},
				{zkA(zkFA, zkCli+101, zkSrv+201, 0), "ShADadF", "S2"},
				{zkB(zkFA, zkSrv+201, zkCli+102, 0), "ShADadFf", "SF"},
				{zkA(FlagACK, zkCli+102, zkSrv+202, 0), "ShADadFf", "SF"},
			},
			state: "SF", history: "ShADadFf",
		},
		{
			// Data and FIN in one segment: the FIN letter only.
			name: "SF FIN with data",
			steps: zkSteps(zkExchange(),
				zkStep{zkA(zkFA|0x08, zkCli+101, zkSrv+51, 10), "ShADdF", "S2"},
				zkStep{zkB(zkFA, zkSrv+51, zkCli+112, 0), "ShADdFf", "SF"},
			),
			state: "SF", history: "ShADdFf",
		},
		{
			name:  "S0 SYN only",
			steps: []zkStep{{zkA(FlagSYN, zkCli, 0, 0), "S", "S0"}},
			state: "S0", history: "S",
		},
		{
			// Same ISN: no new 'S'.
			name: "S0 SYN retransmitted",
			steps: []zkStep{
				{zkA(FlagSYN, zkCli, 0, 0), "S", "S0"},
				{zkA(FlagSYN, zkCli, 0, 0), "S", "S0"},
				{zkA(FlagSYN, zkCli, 0, 0), "S", "S0"},
			},
			state: "S0", history: "S",
		},
		{
			name: "REJ",
			steps: []zkStep{
				{zkA(FlagSYN, zkCli, 0, 0), "S", "S0"},
				{zkB(zkRA, 0, zkCli+1, 0), "Sr", "REJ"},
			},
			state: "REJ", history: "Sr",
		},
		{
			name:  "S1 handshake only",
			steps: zkHandshake(),
			state: "S1", history: "ShA",
		},
		{
			name:  "S1 data both ways",
			steps: zkExchange(),
			state: "S1", history: "ShADd",
		},
		{
			name:  "S2 originator closes, no reply",
			steps: zkSteps(zkExchange(), zkStep{zkA(zkFA, zkCli+101, zkSrv+51, 0), "ShADdF", "S2"}),
			state: "S2", history: "ShADdF",
		},
		{
			name:  "S3 responder closes, no reply",
			steps: zkSteps(zkExchange(), zkStep{zkB(zkFA, zkSrv+51, zkCli+101, 0), "ShADdf", "S3"}),
			state: "S3", history: "ShADdf",
		},
		{
			name:  "RSTO",
			steps: zkSteps(zkExchange(), zkStep{zkA(zkRA, zkCli+101, zkSrv+51, 0), "ShADdR", "RSTO"}),
			state: "RSTO", history: "ShADdR",
		},
		{
			name:  "RSTR",
			steps: zkSteps(zkExchange(), zkStep{zkB(zkRA, zkSrv+51, zkCli+101, 0), "ShADdr", "RSTR"}),
			state: "RSTR", history: "ShADdr",
		},
		{
			// Zeek's testing/btest conn_state-RST-behavior: "SR, RSTOS0".
			name: "RSTOS0 SYN then originator RST",
			steps: []zkStep{
				{zkA(FlagSYN, zkCli, 0, 0), "S", "S0"},
				{zkA(FlagRST, zkCli+1, 0, 0), "SR", "RSTOS0"},
			},
			state: "RSTOS0", history: "SR",
		},
		{
			// Same test: "SaR, RSTOS0". The responder ACKs the SYN
			// without a SYN-ACK, which does not activate it.
			name: "RSTOS0 with a bare ACK from the responder",
			steps: []zkStep{
				{zkA(FlagSYN, zkCli, 0, 0), "S", "S0"},
				{zkB(FlagACK, zkSrv, zkCli+1, 0), "Sa", "S0"},
				{zkA(FlagRST, zkCli+1, 0, 0), "SaR", "RSTOS0"},
			},
			state: "RSTOS0", history: "SaR",
		},
		{
			// Same test: "SaFR, OTH" (an F between S and R).
			name: "OTH SYN ACK FIN RST",
			steps: []zkStep{
				{zkA(FlagSYN, zkCli, 0, 0), "S", "S0"},
				{zkB(FlagACK, zkSrv, zkCli+1, 0), "Sa", "S0"},
				{zkA(zkFA, zkCli+1, zkSrv+1, 0), "SaF", "SH"},
				{zkA(FlagRST, zkCli+2, 0, 0), "SaFR", "OTH"},
			},
			state: "OTH", history: "SaFR",
		},
		{
			// Same test: "R, OTH".
			name:  "OTH single RST",
			steps: []zkStep{{zkA(FlagRST, zkCli, 0, 0), "R", "OTH"}},
			state: "OTH", history: "R",
		},
		{
			// The capture starts with the SYN-ACK: Zeek flips the roles.
			name: "RSTRH",
			steps: []zkStep{
				{zkA(zkSA, zkSrv, zkCli+1, 0), "^h", "OTH"},
				{zkA(zkRA, zkSrv+1, zkCli+1, 0), "^hr", "RSTRH"},
			},
			state: "RSTRH", history: "^hr", flipped: true,
		},
		{
			name: "SH SYN then FIN",
			steps: []zkStep{
				{zkA(FlagSYN, zkCli, 0, 0), "S", "S0"},
				{zkA(FlagFIN, zkCli+1, 0, 0), "SF", "SH"},
			},
			state: "SH", history: "SF",
		},
		{
			name: "SHR SYN-ACK then FIN",
			steps: []zkStep{
				{zkA(zkSA, zkSrv, zkCli+1, 0), "^h", "OTH"},
				{zkA(zkFA, zkSrv+1, zkCli+1, 0), "^hf", "SHR"},
			},
			state: "SHR", history: "^hf", flipped: true,
		},
		{
			// The capture starts mid-stream: both endpoints PARTIAL.
			name: "OTH mid-stream",
			steps: []zkStep{
				{zkA(zkPA, 700, 900, 10), "D", "OTH"},
				{zkB(zkPA, 900, 710, 20), "Dd", "OTH"},
				{zkA(FlagACK, 710, 920, 0), "DdA", "OTH"},
			},
			state: "OTH", history: "DdA",
		},
		{
			name:  "OTH lone SYN-ACK",
			steps: []zkStep{{zkA(zkSA, zkSrv, zkCli+1, 0), "^h", "OTH"}},
			state: "OTH", history: "^h", flipped: true,
		},
		{
			// Zeek's testing/btest core.tcp.flip-without-syn baseline:
			// "^hADadFf", SF.
			name: "flip SYN-ACK first",
			steps: []zkStep{
				{zkA(zkSA, zkSrv, zkCli+1, 0), "^h", "OTH"},
				{zkB(FlagACK, zkCli+1, zkSrv+1, 0), "^hA", "S1"},
				{zkB(zkPA, zkCli+1, zkSrv+1, 100), "^hAD", "S1"},
				{zkA(FlagACK, zkSrv+1, zkCli+101, 0), "^hADa", "S1"},
				{zkA(zkPA, zkSrv+1, zkCli+101, 300), "^hADad", "S1"},
				{zkB(zkFA, zkCli+101, zkSrv+301, 0), "^hADadF", "S2"},
				{zkA(zkFA, zkSrv+301, zkCli+102, 0), "^hADadFf", "SF"},
				{zkB(FlagACK, zkCli+102, zkSrv+302, 0), "^hADadFf", "SF"},
			},
			state: "SF", history: "^hADadFf", flipped: true,
		},
		{
			// Zeek's testing/btest core.tcp.missing-syn baseline:
			// "^hADdFaf", SF.
			name: "flip SYN-ACK first, responder closes last",
			steps: []zkStep{
				{zkA(zkSA, zkSrv, zkCli+1, 0), "^h", "OTH"},
				{zkB(FlagACK, zkCli+1, zkSrv+1, 0), "^hA", "S1"},
				{zkB(zkPA, zkCli+1, zkSrv+1, 98), "^hAD", "S1"},
				{zkA(zkPA, zkSrv+1, zkCli+99, 1400), "^hADd", "S1"},
				{zkB(zkFA, zkCli+99, zkSrv+1401, 0), "^hADdF", "S2"},
				{zkA(FlagACK, zkSrv+1401, zkCli+100, 0), "^hADdFa", "S2"},
				{zkA(zkFA, zkSrv+1401, zkCli+100, 0), "^hADdFaf", "SF"},
			},
			state: "SF", history: "^hADdFaf", flipped: true,
		},
		{
			// The SYN arrives after the SYN-ACK: the capture starts with
			// the SYN-ACK, so the roles are flipped at once and the SYN
			// (its ISN is the one the SYN-ACK acknowledged, so no reuse)
			// leaves the originator in SYN_SENT: OTH, as Zeek logs it for
			// a SYN-ACK from a likely server port.
			name: "handshake reordered",
			steps: []zkStep{
				{zkA(zkSA, zkSrv, zkCli+1, 0), "^h", "OTH"},
				{zkB(FlagSYN, zkCli, 0, 0), "^hS", "OTH"},
				{zkB(FlagACK, zkCli+1, zkSrv+1, 0), "^hSA", "OTH"},
				{zkB(zkFA, zkCli+1, zkSrv+1, 0), "^hSAF", "S2"},
				{zkA(zkFA, zkSrv+1, zkCli+2, 0), "^hSAFf", "SF"},
			},
			state: "SF", history: "^hSAFf", flipped: true,
		},
		{
			// After a RST any SYN starts a new Zeek connection, even
			// with the same ISN.
			name: "reuse after REJ",
			steps: []zkStep{
				{zkA(FlagSYN, zkCli, 0, 0), "S", "S0"},
				{zkB(zkRA, 0, zkCli+1, 0), "Sr", "REJ"},
				{zkA(FlagSYN, zkCli, 0, 0), "S", "S0"},
				{zkB(zkRA, 0, zkCli+1, 0), "Sr", "REJ"},
			},
			state: "REJ", history: "Sr", conns: 2,
		},
		{
			// A SYN with another ISN (IsReuse: SYN_seq_jump).
			name: "reuse by new ISN",
			steps: []zkStep{
				{zkA(FlagSYN, zkCli, 0, 0), "S", "S0"},
				{zkA(FlagSYN, zkCli+7777, 0, 0), "S", "S0"},
				{zkB(zkSA, zkSrv, zkCli+7778, 0), "Sh", "S1"},
			},
			state: "S1", history: "Sh", conns: 2,
		},
		{
			// A SYN-ACK retransmitted after the handshake is no reuse.
			name: "SYN-ACK retransmitted",
			steps: zkSteps(zkHandshake(),
				zkStep{zkB(zkSA, zkSrv, zkCli+1, 0), "ShA", "S1"},
			),
			state: "S1", history: "ShA",
		},
		{
			// Zeek drops the packet but logs the letter: "C", OTH
			// (zeek/zeek#5277, docs "Connection Handling").
			name:  "bad checksum lone SYN",
			steps: []zkStep{{zkBad(zkA(FlagSYN, zkCli, 0, 0)), "C", "OTH"}},
			state: "OTH", history: "C",
		},
		{
			name: "bad checksum responder",
			steps: zkSteps(zkHandshake(),
				zkStep{zkBad(zkB(zkPA, zkSrv+1, zkCli+1, 10)), "ShAc", "S1"},
				zkStep{zkB(zkPA, zkSrv+1, zkCli+1, 10), "ShAcd", "S1"},
			),
			state: "S1", history: "ShAcd",
		},
		{
			// 'c' at the 1st, 10th and 100th bad checksum.
			name: "bad checksum scaled",
			steps: zkSteps(zkHandshake(),
				zkRepeat(100, zkBad(zkA(zkPA, zkCli+1, zkSrv+1, 10)))...),
			state: "S1", history: "ShACCC",
		},
		{
			name: "retransmission",
			steps: zkSteps(zkExchange(),
				zkStep{zkA(zkPA, zkCli+1, zkSrv+51, 100), "ShADdT", "S1"},
				zkStep{zkA(zkPA, zkCli+1, zkSrv+51, 100), "ShADdT", "S1"},
			),
			state: "S1", history: "ShADdT",
		},
		{
			// 10 retransmissions: 'T' at the 1st and the 10th.
			name: "retransmission scaled",
			steps: zkSteps(zkSteps(zkExchange(),
				zkRepeat(9, zkA(zkPA, zkCli+1, zkSrv+51, 100))...),
				zkStep{zkA(zkPA, zkCli+1, zkSrv+51, 100), "ShADdTT", "S1"},
				zkStep{zkB(zkPA, zkSrv+1, zkCli+101, 50), "ShADdTTt", "S1"},
			),
			state: "S1", history: "ShADdTTt",
		},
		{
			// A 1-byte keep-alive (seq = next-1) counts as a
			// retransmission for Zeek.
			name: "keep-alive is a retransmission",
			steps: zkSteps(zkExchange(),
				zkStep{zkA(FlagACK, zkCli+100, zkSrv+51, 1), "ShADdT", "S1"},
			),
			state: "S1", history: "ShADdT",
		},
		{
			// An out-of-order segment is below the highest end seen.
			name: "out of order is a retransmission",
			steps: zkSteps(zkHandshake(),
				zkStep{zkA(zkPA, zkCli+101, zkSrv+1, 100), "ShAD", "S1"},
				zkStep{zkA(zkPA, zkCli+1, zkSrv+1, 100), "ShADT", "S1"},
				zkStep{zkB(FlagACK, zkSrv+1, zkCli+201, 0), "ShADTa", "S1"},
			),
			state: "S1", history: "ShADTa",
		},
		{
			// The pure ACK gives 'a' before the window gives 'w'.
			name: "zero window",
			steps: zkSteps(zkHandshake(),
				zkStep{zkA(zkPA, zkCli+1, zkSrv+1, 100), "ShAD", "S1"},
				zkStep{zkWin(zkB(FlagACK, zkSrv+1, zkCli+101, 0), 0), "ShADaw", "S1"},
				zkStep{zkWin(zkB(FlagACK, zkSrv+1, zkCli+101, 0), 0), "ShADaw", "S1"},
				zkStep{zkB(FlagACK, zkSrv+1, zkCli+101, 0), "ShADaw", "S1"},
			),
			state: "S1", history: "ShADaw",
		},
		{
			// After the peer's FIN a zero window is not interesting.
			name: "zero window after peer FIN",
			steps: zkSteps(zkExchange(),
				zkStep{zkA(zkFA, zkCli+101, zkSrv+51, 0), "ShADdF", "S2"},
				zkStep{zkWin(zkB(FlagACK, zkSrv+51, zkCli+102, 0), 0), "ShADdFa", "S2"},
			),
			state: "S2", history: "ShADdFa",
		},
		{
			name:  "SYN+FIN",
			steps: []zkStep{{zkA(FlagSYN|FlagFIN, zkCli, 0, 0), "Q", "SH"}},
			state: "SH", history: "Q",
		},
		{
			name:  "SYN+RST",
			steps: []zkStep{{zkA(FlagSYN|FlagRST, zkCli, 0, 0), "Q", "OTH"}},
			state: "OTH", history: "Q",
		},
		{
			name:  "FIN+RST",
			steps: zkSteps(zkExchange(), zkStep{zkA(FlagFIN|zkRA, zkCli+101, zkSrv+51, 0), "ShADdI", "RSTO"}),
			state: "RSTO", history: "ShADdI",
		},
		{
			// A RST repeats only at a new sequence number.
			name: "RST repeats",
			steps: zkSteps(zkExchange(),
				zkStep{zkA(zkRA, zkCli+101, zkSrv+51, 0), "ShADdR", "RSTO"},
				zkStep{zkA(zkRA, zkCli+101, zkSrv+51, 0), "ShADdR", "RSTO"},
				zkStep{zkA(zkRA, zkCli+301, zkSrv+51, 0), "ShADdRR", "RSTO"},
			),
			state: "RSTO", history: "ShADdRR",
		},
		{
			// The capture misses the client's second segment; the server
			// acknowledges it: a content gap in the originator's stream.
			name: "content gap",
			steps: zkSteps(zkHandshake(),
				zkStep{zkA(zkPA, zkCli+1, zkSrv+1, 100), "ShAD", "S1"},
				zkStep{zkA(zkPA, zkCli+201, zkSrv+1, 100), "ShAD", "S1"},
				zkStep{zkB(FlagACK, zkSrv+1, zkCli+301, 0), "ShADaG", "S1"},
				zkStep{zkA(zkPA, zkCli+301, zkSrv+1, 100), "ShADaG", "S1"},
				zkStep{zkB(FlagACK, zkSrv+1, zkCli+401, 0), "ShADaG", "S1"},
			),
			state: "S1", history: "ShADaG",
		},
		{
			// The hole is filled by a retransmission before the ACK: no gap.
			name: "hole filled, no gap",
			steps: zkSteps(zkHandshake(),
				zkStep{zkA(zkPA, zkCli+1, zkSrv+1, 100), "ShAD", "S1"},
				zkStep{zkA(zkPA, zkCli+201, zkSrv+1, 100), "ShAD", "S1"},
				zkStep{zkA(zkPA, zkCli+101, zkSrv+1, 100), "ShADT", "S1"},
				zkStep{zkB(FlagACK, zkSrv+1, zkCli+301, 0), "ShADTa", "S1"},
			),
			state: "S1", history: "ShADTa",
		},
		{
			// A partial connection reports no gaps.
			name: "no gap while partial",
			steps: []zkStep{
				{zkA(zkPA, 700, 900, 10), "D", "OTH"},
				{zkB(FlagACK, 900, 810, 0), "Da", "OTH"},
			},
			state: "OTH", history: "Da",
		},
		{
			// Client capture, checksums good (or zeek -C). The SYN-ACK
			// carries 2 bytes: Zeek sets the responder's last_seq to the
			// end of the SYN-ACK before its retransmission check, so its
			// payload counts as retransmitted ('t', and a SYN_with_data
			// weird), not as data ('d' is only for segments without
			// SYN/FIN/RST). The ACK of ISN+3 acknowledges bytes Zeek has
			// seen, so no gap. The four retransmissions of the Client
			// Hello give one 'T' (next at 10). The second SYN-ACK re-sets
			// the responder's sequence numbers (SYN_inside_connection),
			// adds no 'h' (same relative sequence number) and counts as
			// another responder retransmission. The final RST carries 6
			// bytes below the highest sequence seen: 'r', and a third
			// responder retransmission. Responder RESET, originator
			// ESTABLISHED: RSTR.
			name:  "seed client capture, checksums good",
			steps: zkPlain(seedClient(nil)),
			state: "RSTR", history: "ShtADTr",
		},
		{
			// Client capture as recorded, with checksum offload: Zeek
			// (without -C) drops frames 453, 457, 465, 476 and 535, with
			// a 'C' for the 1st (next at the 10th). The SYN is dropped,
			// so the SYN-ACK reaches an originator that has sent nothing,
			// with a sequence number that is not the (never set)
			// responder ISN: IsReuse says active_connection_reuse. Zeek
			// logs a first connection "C", OTH, and starts a second one
			// with the SYN-ACK, flipped because 443 is a likely server
			// port: "^h", 't' for its 2 bytes, then 'C' for frame 457,
			// 'D' when the Client Hello (458) establishes the originator
			// (the SYN-ACK was seen, this is its ACK), 'T' at frame 494,
			// 'A' at 513 (the first good pure ACK), 'r' for the RST: RSTR.
			name: "seed client capture, offload checksums",
			steps: zkPlain(seedClient(map[int]bool{
				453: true, 457: true, 465: true, 476: true, 535: true,
			})),
			state: "RSTR", history: "^htCDTAr", conns: 2,
		},
		{
			// TMG's side: the SYN-ACK has no payload, so the client's ACK
			// of ISN+3 acknowledges 2 bytes the responder never sent:
			// a content gap 'g' right after the 'A'. That is the only
			// trace in Zeek's history of what the firewall refused.
			name:  "seed server capture",
			steps: zkPlain(seedServer()),
			state: "RSTR", history: "ShAgDTr",
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var z zeekState
			for i, st := range tt.steps {
				z.observeSeg(st.seg)
				if st.hist != "" && z.history() != st.hist {
					t.Fatalf("%s: after segment %d: history %q, want %q (%v)", tt.name, i, z.history(), st.hist, &z)
				}
				if st.state != "" && z.connState() != st.state {
					t.Fatalf("%s: after segment %d: conn_state %s, want %s (%v)", tt.name, i, z.connState(), st.state, &z)
				}
			}
			conns := tt.conns
			if conns == 0 {
				conns = 1
			}
			if z.connState() != tt.state || z.history() != tt.history || z.flipped() != tt.flipped || z.connCount() != conns {
				t.Errorf("%s: after %d segments: conn_state %s history %q flipped %v conns %d, want %s %q %v %d (%v)",
					tt.name, len(tt.steps), z.connState(), z.history(), z.flipped(), z.connCount(),
					tt.state, tt.history, tt.flipped, conns, &z)
			}
		})
	}
}

// TestZeekSYNSYNACKReversal drives the SYN/SYN-ACK reversal of
// UpdateInactiveState: the SYN-ACK came first but WantConnection did not
// flip it (its source port is not a likely server port, which zeekState
// cannot know, so the first segment is fed to process directly); the SYN
// that follows flips the roles, after its own letter.
func TestZeekSYNSYNACKReversal(t *testing.T) {
	z := zeekState{bits: zeekStarted, conns: 1}
	z.process(0, zkA(zkSA, zkSrv, zkCli+1, 0))
	steps := []zkStep{
		{zkB(FlagSYN, zkCli, 0, 0), "Hs^", "S1"},
		{zkB(FlagACK, zkCli+1, zkSrv+1, 0), "Hs^A", "S1"},
		{zkB(zkPA, zkCli+1, zkSrv+1, 10), "Hs^AD", "S1"},
		{zkB(zkFA, zkCli+11, zkSrv+1, 0), "Hs^ADF", "S2"},
		{zkA(zkFA, zkSrv+1, zkCli+12, 0), "Hs^ADFf", "SF"},
	}
	if z.history() != "H" || z.connState() != "OTH" {
		t.Fatalf("after the SYN-ACK: %v", &z)
	}
	for i, st := range steps {
		z.observeSeg(st.seg)
		if z.history() != st.hist || z.connState() != st.state {
			t.Fatalf("after segment %d: history %q conn_state %s, want %q %s (%v)", i, z.history(), z.connState(), st.hist, st.state, &z)
		}
	}
	if !z.flipped() || z.connCount() != 1 {
		t.Fatalf("flipped %v conns %d, want true 1 (%v)", z.flipped(), z.connCount(), &z)
	}
}

func TestZeekScaledThresholds(t *testing.T) {
	// Counts at which Connection::ScaledHistoryEntry adds a letter.
	var counter uint32
	var at []uint32
	for n := 1; n <= 100000; n++ {
		if zeekBump(&counter) {
			at = append(at, counter)
		}
	}
	want := []uint32{1, 10, 100, 1000, 10000, 100000}
	if len(at) != len(want) {
		t.Fatalf("letters at %v, want %v", at, want)
	}
	for i := range want {
		if at[i] != want[i] {
			t.Fatalf("letters at %v, want %v", at, want)
		}
	}
	// The 16-bit gap counter stops at its maximum instead of wrapping.
	g := uint16(65534)
	if zeekBump(&g) || zeekBump(&g) || g != 65535 {
		t.Fatalf("16-bit counter at %d", g)
	}
}

func TestZeekHistoryCapped(t *testing.T) {
	var z zeekState
	z.observeSeg(zkA(FlagSYN, zkCli, 0, 0))
	for i := 0; i < 3*zeekHistoryMax; i++ {
		// RSTs at new sequence numbers each add an 'R'.
		z.observeSeg(zkA(FlagRST, zkCli+1+uint32(i)*10, 0, 0))
	}
	h := z.history()
	if len(h) != zeekHistoryMax || h != "S"+strings.Repeat("R", zeekHistoryMax-1) {
		t.Fatalf("history %q (%d letters), want S and %d R", h, len(h), zeekHistoryMax-1)
	}
	if z.connState() != "RSTOS0" {
		t.Fatalf("conn_state %s, want RSTOS0 (%v)", z.connState(), &z)
	}
}

func TestZeekStateSize(t *testing.T) {
	// One zeekState lives in every flow.
	if n := unsafe.Sizeof(zeekState{}); n > 120 {
		t.Fatalf("zeekState is %d bytes, want at most 120", n)
	}
}

// TestZeekRandomSegments feeds random segments: no panic, a conn_state
// among Zeek's thirteen, a history within bounds and made of Zeek's letters.
func TestZeekRandomSegments(t *testing.T) {
	states := map[string]bool{}
	for _, s := range strings.Fields("S0 S1 SF REJ S2 S3 RSTO RSTR RSTOS0 RSTRH SH SHR OTH") {
		states[s] = true
	}
	r := rand.New(rand.NewPCG(1, 2))
	flags := []uint8{FlagSYN, zkSA, FlagACK, zkPA, zkFA, zkRA, FlagRST, FlagSYN | FlagFIN, FlagFIN | zkRA, 0}
	for run := 0; run < 2000; run++ {
		var z zeekState
		var segs []zeekSeg
		for n := r.IntN(40) + 1; n > 0; n-- {
			s := zeekSeg{
				FromFirst:   len(segs) == 0 || r.IntN(2) == 0,
				Flags:       flags[r.IntN(len(flags))],
				Seq:         zkCli + uint32(r.IntN(400)),
				Ack:         zkSrv + uint32(r.IntN(400)),
				PayloadLen:  r.IntN(3) * 50,
				Window:      uint16(r.IntN(3)),
				BadChecksum: r.IntN(8) == 0,
			}
			if !s.FromFirst {
				s.Seq, s.Ack = s.Ack, s.Seq
			}
			segs = append(segs, s)
			z.observeSeg(s)
			h := z.history()
			if !states[z.connState()] || len(h) > zeekHistoryMax || strings.Trim(h, "^ShHaAdDfFrRcCgGtTwWiIqQs") != "" || z.connCount() < 1 {
				t.Fatalf("run %d, after segment %d: %v\nsegments %+v", run, len(segs)-1, &z, segs)
			}
		}
	}
}

// TestZeekEstablishedSame holds the shortcuts for segments of established
// connections (zeekState.established, and closing for their FINs) to the
// general code (observeAll):
// random connections, mostly established, with data and ACKs in and out
// of order, retransmissions, zero windows, bad checksums and the odd SYN,
// FIN or RST, must leave the same state after every segment whichever
// way they went.
func TestZeekEstablishedSame(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	flags := []uint8{FlagACK, zkPA, zkPA, FlagACK, FlagPSH, 0, zkFA, zkFA | FlagPSH, FlagFIN, zkRA, FlagRST, FlagSYN, zkSA, FlagACK | FlagURG}
	fast, total := 0, 0
	for run := range 5000 {
		var z, ref zeekState
		seq := [2]uint32{zkCli, zkSrv}
		k := 0
		feed := func(s zeekSeg) {
			scratch := z
			if scratch.shortcut(s.packet(), s.FromFirst) {
				fast++
			}
			total++
			z.observeSeg(s)
			ref.observeAll(s)
			if z != ref {
				t.Fatalf("run %d, segment %d %+v:\nshortcut %v\ngeneral  %v", run, k, s, &z, &ref)
			}
			k++
		}
		handshake := []zeekSeg{
			{FromFirst: true, Flags: FlagSYN, Seq: zkCli, Window: 1},
			{FromFirst: false, Flags: zkSA, Seq: zkSrv, Ack: zkCli + 1, Window: 1},
			{FromFirst: true, Flags: FlagACK, Seq: zkCli + 1, Ack: zkSrv + 1, Window: 1},
		}
		switch run % 8 {
		case 0, 4:
			handshake = handshake[2:] // a partial connection
		case 1:
			handshake = handshake[:1] // the SYN-ACK missed
		case 2:
			handshake = handshake[1:] // the SYN missed
		}
		seq[0]++
		seq[1]++
		for _, s := range handshake {
			feed(s)
		}
		for n := r.IntN(60) + 1; n > 0; n-- {
			side := r.IntN(2)
			s := zeekSeg{FromFirst: side == 0, Flags: FlagACK, Window: uint16(1 + r.IntN(100))}
			if r.IntN(12) == 0 {
				s.Flags = flags[r.IntN(len(flags))]
			} else if r.IntN(2) == 0 {
				s.Flags = zkPA
			}
			if s.Flags&FlagACK == 0 && r.IntN(2) == 0 {
				s.Flags |= FlagACK
			}
			if s.Flags&FlagPSH != 0 || r.IntN(10) == 0 {
				s.PayloadLen = 1 + r.IntN(1460)
			}
			s.Seq = seq[side]
			switch r.IntN(10) {
			case 0: // a retransmission
				s.Seq -= uint32(r.IntN(3000))
			case 1: // a hole
				s.Seq += uint32(r.IntN(3000))
			case 2: // starting before the endpoint's first sequence number
				s.Seq = ref.ep[side].start - uint32(r.IntN(s.PayloadLen+2))
			}
			s.Ack = seq[1-side] - uint32(r.IntN(2)*r.IntN(3000))
			if r.IntN(20) == 0 {
				s.Window = 0
			}
			if r.IntN(50) == 0 {
				s.Ack = 0
			}
			if r.IntN(8) == 0 {
				// Just below, at or past where the peer's stream
				// is seen without a hole: AckReceived's edge.
				peer := &ref.ep[1-side]
				s.Ack = peer.start + max(peer.reassem, 1) + uint32(r.IntN(3)) - 1
			}
			s.BadChecksum = r.IntN(30) == 0
			if int32(s.Seq+uint32(s.PayloadLen)-seq[side]) > 0 {
				seq[side] = s.Seq + uint32(s.PayloadLen)
			}
			feed(s)
		}
	}
	if fast < total/4 {
		t.Fatalf("the shortcut took %d segments of %d: the test does not exercise it", fast, total)
	}
	t.Logf("%d segments, %d through the shortcut", total, fast)
}

// observeSeg feeds s as Flow.addAny feeds its Packet.
func (z *zeekState) observeSeg(s zeekSeg) { z.observe(s.packet(), s.FromFirst) }

// packet is a Packet that observe turns back into s.
func (s zeekSeg) packet() *Packet {
	p := &Packet{Flags: s.Flags, Seq: s.Seq, Ack: s.Ack, PayloadLen: s.PayloadLen, Window: s.Window, TCPChecksum: CheckGood}
	if s.BadChecksum {
		p.TCPChecksum = CheckBad
	}
	return p
}
