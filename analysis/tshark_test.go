package analysis

import (
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/synscope/synscope/capture"
)

// The differential test: tshark is the reference for per-connection packet
// counts and for the counts of its tcp.analysis.* flags. Every TCP capture of
// the corpus and of testdata/ is read by both, and the results compared.

// corpusDir is where the shared capture corpus sits, relative to this package.
const corpusDir = "../../shared/corpus/tcpdump-tests"

// tsharkFlags maps our codes to tshark's field names.
var tsharkFlags = []struct {
	code  Code
	field string
}{
	{CodeRetransmission, "tcp.analysis.retransmission"},
	{CodeFastRetransmission, "tcp.analysis.fast_retransmission"},
	{CodeSpuriousRetransmission, "tcp.analysis.spurious_retransmission"},
	{CodeOutOfOrder, "tcp.analysis.out_of_order"},
	{CodeLostSegment, "tcp.analysis.lost_segment"},
	{CodeAckUnseen, "tcp.analysis.ack_lost_segment"},
	{CodeDupAck, "tcp.analysis.duplicate_ack"},
	{CodeZeroWindow, "tcp.analysis.zero_window"},
	{CodeZeroWindowProbe, "tcp.analysis.zero_window_probe"},
	{CodeWindowFull, "tcp.analysis.window_full"},
	{CodeWindowUpdate, "tcp.analysis.window_update"},
	{CodeKeepAlive, "tcp.analysis.keep_alive"},
	{CodeReusedPorts, "tcp.analysis.reused_ports"},
}

// knownDifferences names, per capture file, where synscope deliberately
// differs from tshark 4.0 and why. Keys are "file" for packet counts and
// "file code" for a flag.
var knownDifferences = map[string]string{
	"bigtcp-ipv4-geneve-ipv4.pcap": "BIG TCP (GSO) frame: the outer UDP length is 0; tshark stops at 'Bad length value 0 < 8', synscope takes the length from the IP datagram and finds the inner TCP segment",
	"bigtcp-ipv4-vxlan-ipv4.pcap":  "BIG TCP (GSO) frame: the outer UDP length is 0; tshark stops at 'Bad length value 0 < 8', synscope takes the length from the IP datagram and finds the inner TCP segment",
}

// knownDifference looks key up in knownDifferences, for a copy cut short
// by snapCopy ("name-s54.pcap") also under the name of the capture it was
// cut from.
func knownDifference(key string) (string, bool) {
	if reason, ok := knownDifferences[key]; ok {
		return reason, true
	}
	name, rest, _ := strings.Cut(key, " ")
	if orig := snapOriginal(name); orig != name {
		reason, ok := knownDifferences[strings.TrimSpace(orig+" "+rest)]
		return reason, ok
	}
	return "", false
}

// snapOriginal returns the name of the capture a copy cut short by
// snapCopy ("name-s54.pcap") was cut from, and any other name as it is.
func snapOriginal(name string) string {
	if i := strings.LastIndex(name, "-s"); i > 0 && strings.HasSuffix(name, ".pcap") {
		if _, err := strconv.Atoi(strings.TrimSuffix(name[i+2:], ".pcap")); err == nil {
			return name[:i] + ".pcap"
		}
	}
	return name
}

// Deliberate differences that apply to every capture, and how the
// comparison allows for them:
//   - A packet whose TCP data offset is below 20 stays in its flow in
//     synscope: it is evidence. tshark leaves it out of its conversation table. Such packets
//     carry RefBadHeader and are not counted against tshark's.
//   - tcp.reused_ports: tshark 4.0 flags every SYN that takes over a 5-tuple
//     with a new ISN; the contract flags the old connection only when it had
//     not ended. Flows that took over ports carry PrevID, and those are
//     counted against tshark's flag.
//   - Streams, not conversations, are compared: in beep-oobr.pcap,
//     heapoverflow-tcp_print.pcap, tcp-auth-heapoverflow.pcap and
//     mptcp-dss-oobr.pcap tshark gives the frame a tcp.stream, but its
//     dissector throws (a payload past the captured bytes, a malformed MPTCP
//     option) before its conversation tap runs: -z conv,tcp has no
//     conversation there, and synscope has a flow.
//   - A frame whose TCP header the capture's snap length cut short: tshark
//     4.0 analyses it but stops at the header bytes it cannot read before
//     it shows the frame's flags (TestSnapLengthTsharkHidesFlags); synscope
//     reports what the frame is, and the message says that Wireshark shows
//     nothing there. Such findings (Finding.onHeaderCut) are not counted
//     against tshark's.

// requireEnv fails the test instead of skipping when the variable is "1".
func skipOrFail(t *testing.T, env, msg string) {
	t.Helper()
	if os.Getenv(env) == "1" {
		t.Fatalf("%s (and %s=1 requires it)", msg, env)
	}
	t.Skip(msg)
}

func tsharkPath(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("tshark")
	if err != nil {
		skipOrFail(t, "SYNSCOPE_REQUIRE_TSHARK", "tshark not installed: differential test skipped (apt-get install tshark)")
	}
	return p
}

// tsharkRelated maps our codes to the tshark field that names the frame
// explaining the flag: a retransmission's rto_frame (the frame that took
// the sender's sequence furthest; tshark 4.0 gives it on plain
// retransmissions only) and the ACK a duplicate ACK repeats.
var tsharkRelated = []struct {
	code  Code
	field string
}{
	{CodeRetransmission, "tcp.analysis.rto_frame"},
	{CodeDupAck, "tcp.analysis.duplicate_ack_frame"},
}

// tsharkView is what tshark says about one capture.
type tsharkView struct {
	streams map[int][]uint64 // tcp.stream → frames
	flags   map[string]int   // field → frames with it
	frames  map[string][]uint64
	related map[string]map[uint64]uint64 // tsharkRelated's field → frame → the frame it names
	irtt    map[uint64]int64             // frame → tcp.analysis.initial_rtt, in nanoseconds
}

func runTshark(t *testing.T, tshark, file string) (tsharkView, error) {
	args := []string{"-n", "-r", file, "-T", "fields", "-E", "occurrence=a", "-E", "separator=\t",
		"-e", "frame.number", "-e", "tcp.stream", "-e", "tcp.hdr_len"}
	for _, f := range tsharkFlags {
		args = append(args, "-e", f.field)
	}
	for _, f := range tsharkRelated {
		args = append(args, "-e", f.field)
	}
	args = append(args, "-e", "tcp.analysis.initial_rtt")
	out, err := exec.Command(tshark, args...).Output()
	v := tsharkView{streams: map[int][]uint64{}, flags: map[string]int{}, frames: map[string][]uint64{},
		related: map[string]map[uint64]uint64{}, irtt: map[uint64]int64{}}
	if err != nil && len(out) == 0 {
		return v, fmt.Errorf("tshark: %v", err)
	}
	for _, line := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		cols := strings.Split(line, "\t")
		if len(cols) < 4+len(tsharkFlags)+len(tsharkRelated) {
			continue
		}
		frame, err := strconv.ParseUint(cols[0], 10, 64)
		if err != nil || cols[1] == "" {
			continue
		}
		// A frame can hold TCP more than once (ICMP errors quote a TCP
		// header); the first occurrence is the frame's own segment.
		stream, err := strconv.Atoi(strings.Split(cols[1], ",")[0])
		if err != nil {
			continue
		}
		// A header length below 20 ends tshark's dissection before its
		// conversation tap: such frames are not in -z conv,tcp.
		v.streams[stream] = v.streams[stream][:len(v.streams[stream]):len(v.streams[stream])]
		if hl, err := strconv.Atoi(strings.Split(cols[2], ",")[0]); err == nil && hl >= 20 {
			v.streams[stream] = append(v.streams[stream], frame)
		}
		for i, f := range tsharkFlags {
			if cols[3+i] != "" {
				v.flags[f.field]++
				v.frames[f.field] = append(v.frames[f.field], frame)
			}
		}
		for i, f := range tsharkRelated {
			if rel, err := strconv.ParseUint(strings.Split(cols[3+len(tsharkFlags)+i], ",")[0], 10, 64); err == nil && rel != 0 {
				if v.related[f.field] == nil {
					v.related[f.field] = map[uint64]uint64{}
				}
				v.related[f.field][frame] = rel
			}
		}
		if secs, err := strconv.ParseFloat(strings.Split(cols[3+len(tsharkFlags)+len(tsharkRelated)], ",")[0], 64); err == nil {
			v.irtt[frame] = int64(math.Round(secs * 1e9))
		}
	}
	return v, nil
}

// knownRelated names, per capture (or rule capture) and frame, where the
// frame a finding names deliberately differs from tshark's, and why.
var knownRelated = map[string]string{
	"ssh.pcap 49": "frames 45 (36 bytes), 46 (60 bytes) and 47 (FIN) are unacknowledged, and frame 49 " +
		"sends their 96 bytes and FIN again in one segment: tshark 4.0 names the eldest segment not yet " +
		"acknowledged (45), synscope the one that took the sender's sequence furthest (47, where 49 ends), " +
		"as tshark did before keeping its list of unacknowledged segments, which a flow here does not keep " +
		"(tshark keeps up to 10,000 a side)",
	"out of order (quiet) 6": "1101-1201 was never captured; tshark 4.0 names the eldest segment not yet " +
		"acknowledged (4: 1001-1101), synscope the one that took the sender's sequence furthest (5: 1201-1301); " +
		"neither is the original",
	"retransmission of an older segment (fires) 6": "segment 4 is sent again after 5: tshark 4.0 names the eldest " +
		"segment not yet acknowledged (4), synscope the one that took the sender's sequence furthest (5), and its " +
		"message says the bytes are behind it",
	"out of order, its bytes captured before (quiet) 7": "frames 4, 5 and 6 are unacknowledged and 5 is sent again: tshark 4.0 " +
		"names the eldest segment not yet acknowledged (4), synscope the one that took the sender's sequence furthest (6), " +
		"and its message says the bytes are behind it",
	"data after both FINs (quiet) 10": "frame 6 (6001-7001) is sent again after the server's FIN (7): tshark 4.0 names " +
		"the eldest segment not yet acknowledged (6), synscope the one that took the sender's sequence furthest " +
		"(7, the FIN), and its message says the bytes are behind it",
}

// knownIRTT names the captures whose initial round-trip time deliberately
// differs from tshark's tcp.analysis.initial_rtt, and why.
var knownIRTT = map[string]string{
	"routed-vlans.pcap": "each SYN is captured twice, before and after the router (VLAN 10 and 20); tshark " +
		"takes the last copy of the last SYN (frame 4, VLAN 20) to the third segment on VLAN 10 (frame 7), " +
		"synscope the last SYN the client sent (frame 3, VLAN 10): one point's round trip",
	"timestamp_invalid_micro.pcap": "frame 3's microseconds field is out of range (a note says so): synscope adds it " +
		"to the seconds as it is, tshark reads its own value",
	"timestamp_invalid_nano.pcap": "frame 3's nanoseconds field is out of range (a note says so): synscope adds it " +
		"to the seconds as it is, tshark reads its own value",
}

// compareRelated holds the frames our findings name (RelatedFrame) to
// those tshark names for the same flag (tsharkRelated), on the frames
// lo < frame <= hi of v, which are ours moved by lo. tshark 4.0 shows a
// retransmission's rto_frame only when the retransmission came later than
// that frame (packet-tcp.c shows it with the RTO, when that is not zero):
// where it shows none, ours must name a frame of the same time. It
// returns how many related frames were compared, per field of
// tsharkRelated.
func compareRelated(t *testing.T, name string, res *Result, v tsharkView, lo, hi uint64) (n [2]int) {
	t.Helper()
	for _, f := range res.Flows {
		times := map[uint64]int64{}
		for _, r := range f.Refs {
			times[r.Frame] = r.Time
		}
		for _, fi := range f.Findings {
			for i, rf := range tsharkRelated {
				if fi.Code != rf.code || fi.onHeaderCut() {
					continue
				}
				theirs, ok := v.related[rf.field][fi.Frame+lo]
				if ok {
					theirs -= lo
				}
				switch {
				case !ok && rf.code == CodeRetransmission && fi.RelatedFrame != 0 && times[fi.RelatedFrame] == times[fi.Frame]:
					// tshark hides an RTO of 0.
				case fi.RelatedFrame != theirs:
					if reason, ok := knownRelated[snapOriginal(name)+" "+strconv.FormatUint(fi.Frame, 10)]; ok {
						t.Logf("%s: %s at frame %d names frame %d, tshark %d, known: %s", name, fi.Code, fi.Frame, fi.RelatedFrame, theirs, reason)
						continue
					}
					t.Errorf("%s: %s at frame %d names frame %d, tshark's %s %d", name, fi.Code, fi.Frame, fi.RelatedFrame, rf.field, theirs)
				default:
					n[i]++
				}
			}
		}
	}
	for _, rf := range tsharkRelated {
		for fr := range v.related[rf.field] {
			if fr > lo && fr <= hi && !hasFinding(res, rf.code, fr-lo) {
				t.Errorf("%s: tshark's %s on frame %d, where we have no %s", name, rf.field, fr-lo, rf.code)
			}
		}
	}
	return n
}

// hasFinding reports whether a flow of res has a finding with the code on
// the frame, or, for a retransmission, one of its kinds that tshark's
// tcp.analysis.retransmission also marks.
func hasFinding(res *Result, code Code, frame uint64) bool {
	for _, f := range res.Flows {
		for _, fi := range f.Findings {
			if fi.Frame == frame && (fi.Code == code || (code == CodeRetransmission &&
				(fi.Code == CodeFastRetransmission || fi.Code == CodeSpuriousRetransmission))) {
				return true
			}
		}
	}
	return false
}

func tcpCaptures(t *testing.T) []string {
	var files []string
	if _, err := os.Stat(corpusDir); err != nil {
		skipOrFail(t, "SYNSCOPE_REQUIRE_CORPUS", "capture corpus not found at "+corpusDir)
	}
	for _, pat := range []string{corpusDir + "/*.pcap", corpusDir + "/*.pcapng", "../testdata/*.pcap", "../testdata/*.pcapng", "../testdata/*.gz"} {
		m, _ := filepath.Glob(pat)
		files = append(files, m...)
	}
	return files
}

func analyzeFile(file string) (*Result, error) {
	r, err := capture.Open(file)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return Run(context.Background(), r, Config{Name: file})
}

func TestAgainstTshark(t *testing.T) {
	compareFilesWithTshark(t, tcpCaptures(t), 10)
}

// compareFilesWithTshark compares every TCP capture of files with tshark,
// and fails when fewer than least were compared.
func compareFilesWithTshark(t *testing.T, files []string, least int) {
	tshark := tsharkPath(t)
	var (
		mu       sync.Mutex
		compared int
		related  [2]int
	)
	sem := make(chan struct{}, 2)
	var wg sync.WaitGroup
	for _, file := range files {
		res, _ := analyzeFile(file)
		if res == nil || (res.TCPFrames == 0 && res.MalformedCount == 0) {
			// No TCP found. Frames it could not look inside are
			// said instead (TestNotDecodedCorpus).
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			view, err := runTshark(t, tshark, file)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				t.Errorf("%s: %v", file, err)
				return
			}
			compared++
			compareWithTshark(t, file, res, view)
			r := compareRelated(t, filepath.Base(file), res, view, 0, res.Frames)
			related[0] += r[0]
			related[1] += r[1]
		}()
	}
	wg.Wait()
	t.Logf("compared %d TCP captures with tshark; the frames named by %d retransmissions and %d duplicate ACKs",
		compared, related[0], related[1])
	if compared < least {
		t.Errorf("only %d TCP captures compared, want %d or more", compared, least)
	}
}

func compareWithTshark(t *testing.T, file string, res *Result, v tsharkView) {
	base := filepath.Base(file)
	// Per connection: tshark's stream, found by its first frame in our
	// flows, must hold as many packets.
	flowOf := map[uint64]*Flow{}
	for _, f := range res.Flows {
		for _, r := range f.Refs {
			if r.Bits&RefFragment == 0 {
				flowOf[r.Frame] = f
			}
		}
	}
	if reason, ok := knownDifference(base); ok {
		t.Logf("%s: packet counts not compared: %s", base, reason)
	} else {
		streams := slices.Sorted(mapsKeys(v.streams))
		for _, s := range streams {
			frames := v.streams[s]
			if len(frames) == 0 {
				continue
			}
			f := flowOf[frames[0]]
			if f == nil {
				t.Errorf("%s: tshark stream %d (first frame %d, %d packets) is in no flow of ours", base, s, frames[0], len(frames))
				continue
			}
			if n := tsharkPackets(f); n != len(frames) {
				t.Errorf("%s: flow %d (%s %s) has %d packets, tshark stream %d has %d", base, f.ID, f.Client(), f.Server(), n, s, len(frames))
			}
		}
		n := 0
		for _, f := range res.Flows {
			if tsharkPackets(f) > 0 {
				n++
			}
		}
		if len(v.streams) != n {
			t.Errorf("%s: %d flows, tshark has %d streams", base, n, len(v.streams))
		}
	}
	// The initial round-trip time, on the third segment, where tshark
	// gives it there.
	for _, f := range res.Flows {
		h := &f.Handshake
		theirs, ok := v.irtt[h.AckFrame]
		if !ok {
			continue
		}
		if ours, ok := h.IRTT(); !ok || ours != theirs {
			if reason, ok := knownIRTT[snapOriginal(base)]; ok {
				t.Logf("%s: flow %d: iRTT %d ns, tshark %d ns, known: %s", base, f.ID, ours, theirs, reason)
				continue
			}
			t.Errorf("%s: flow %d: iRTT %d ns (known %v), tshark's initial_rtt on frame %d %d ns", base, f.ID, ours, ok, h.AckFrame, theirs)
		}
	}
	for _, fl := range tsharkFlags {
		var ours int
		var ourFrames []uint64
		for _, f := range res.Flows {
			if fl.code == CodeReusedPorts && f.PrevID > 0 {
				ours++
				ourFrames = append(ourFrames, f.FirstFrame)
			}
			for _, fi := range f.Findings {
				// tshark's tcp.analysis.retransmission also marks fast
				// and spurious retransmissions.
				sameField := fi.Code == fl.code || (fl.code == CodeRetransmission &&
					(fi.Code == CodeFastRetransmission || fi.Code == CodeSpuriousRetransmission))
				if !sameField || (fl.code == CodeReusedPorts && fi.B == 0) || fi.onHeaderCut() {
					continue
				}
				ours++
				ourFrames = append(ourFrames, fi.Frame)
			}
		}
		if ours == v.flags[fl.field] {
			continue
		}
		key := base + " " + fl.code.String()
		if reason, ok := knownDifference(key); ok {
			t.Logf("%s: %d vs tshark %d, known: %s", key, ours, v.flags[fl.field], reason)
			continue
		}
		slices.Sort(ourFrames)
		t.Errorf("%s: %s on %d frames, tshark %s on %d\n  ours   %v\n  tshark %v", base, fl.code, ours, fl.field, v.flags[fl.field],
			head(ourFrames), head(v.frames[fl.field]))
	}
}

// tsharkPackets is the number of a flow's packets tshark counts: all but
// those with a damaged TCP header.
func tsharkPackets(f *Flow) int {
	n := f.Packets
	for _, r := range f.Refs {
		if r.Bits&RefBadHeader != 0 && r.Bits&RefFragment == 0 {
			n--
		}
	}
	return n
}

func head(f []uint64) []uint64 {
	if len(f) > 12 {
		return f[:12]
	}
	return f
}

func mapsKeys[K comparable, V any](m map[K]V) func(func(K) bool) {
	return func(yield func(K) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}
