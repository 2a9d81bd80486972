package ui

import (
	"bytes"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"github.com/synscope/synscope/analysis"
	"github.com/synscope/synscope/capture/fixture"
)

// snapDesc is a handshake as tcpdump -s 60 takes it: the SYN's options
// are cut after its MSS (14+20+20+4 bytes, then 2 of the window scale's
// 3), the SYN-ACK's are all there.
const snapDesc = `client 10.0.0.1:40000
server 10.0.0.2:443
0     C>S S  mss=1460 ws=7 sackok snap=60
+0.01 S>C SA mss=1380
+0.01 C>S A
`

// TestSnapLengthOptionsView: options the snap length cut off are not
// shown as missing. The flow's summary says what was captured and that
// the rest was not; the packet pane shows the options captured whole and
// how many bytes were not, never a damaged option.
func TestSnapLengthOptionsView(t *testing.T) {
	data := fixture.Build(snapDesc)
	m := newLoaded(t, testConfig([]Source{memSource(t, "c.pcap", data)}), 120, 40)
	m = press(t, m, "enter")
	var summary []string
	for _, l := range m.detail.summaryLines(200) {
		summary = append(summary, ansi.Strip(l))
	}
	s := strings.Join(summary, "\n")
	var client, server string
	for _, l := range summary {
		if strings.HasPrefix(l, "client ISN") {
			client = l
		}
		if strings.HasPrefix(l, "server ISN") {
			server = l
		}
	}
	if !strings.HasSuffix(client, "  MSS 1460 · options not captured whole") {
		t.Errorf("summary does not say the client's options were cut, nor only those:\n%s", s)
	}
	if !strings.HasSuffix(server, "  MSS 1380 · no WS · no SACK · no TS") {
		t.Errorf("summary lost the server's options, which were captured:\n%s", s)
	}

	d, cmd := m.detail.at(1)
	m.detail = d
	m = update(t, m, runCmd(cmd)...)
	var pkt []string
	for _, l := range m.detail.packetLines(200) {
		pkt = append(pkt, ansi.Strip(l))
	}
	p := strings.Join(pkt, "\n")
	// 12 bytes of options (MSS, window scale, SACK-permitted, 3 of
	// padding), the MSS's 4 captured whole.
	if !strings.Contains(p, "options MSS 1460 · 8 bytes not captured") {
		t.Errorf("packet pane does not say which options were captured:\n%s", p)
	}
	if strings.Contains(p, "runs past") || strings.Contains(p, "damaged") {
		t.Errorf("packet pane calls the cut header damaged:\n%s", p)
	}
}

// TestReportSnapLengthFrames: frames cut before their TCP sequence numbers
// are listed apart from damaged frames, as not captured.
func TestReportSnapLengthFrames(t *testing.T) {
	const desc = `client 10.0.0.1:40000
server 10.0.0.2:443
0     C>S S  mss=1460
+0.01 S>C SA mss=1380
+0.01 C>S A
+0.01 C>S PA len=100 snap=44
+0.01 C>S PA len=100 iplen=30
`
	res := resultOf(t, desc)
	var buf bytes.Buffer
	if err := WriteReport(&buf, []*analysis.Result{res}, ReportOptions{ASCII: true}); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		"1 damaged frame outside any flow:\n    frame 5: TCP at byte 34: the 10-byte segment is shorter than a TCP header",
		"1 frame cut short by the snap length, outside any flow:\n    frame 4: TCP at byte 34: header not captured whole: the capture stopped 10\n      bytes into its 20, at byte 44 (snap length)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report does not say %q:\n%s", want, out)
		}
	}
}
