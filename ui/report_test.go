package ui

import (
	"bytes"
	"strings"
	"testing"

	"github.com/synscope/synscope/analysis"
)

// TestReportMoreLine: the line that stands for the findings of one code
// past those listed takes the glyph of the worst of them, and says how
// many of each severity when they differ. Here the first three
// retransmissions listed are copies of packets captured twice (info); of
// the two left out, one is a real retransmission (a warning), which the
// line showed as info when it took the first one left out.
func TestReportMoreLine(t *testing.T) {
	const desc = `client 10.0.0.1:40000 isn=1000
server 10.0.0.2:443   isn=5000
0         C>S S  mss=1460 id=1
+0.01     S>C SA mss=1460 id=1
+0.01     C>S A  id=2
+0.01     C>S PA len=100 id=3             # 4: 1001-1101
+0.000015 C>S PA len=100 seq=1001 id=3 ttl=63
+0.01     C>S PA len=100 id=4             # 6: 1101-1201
+0.000015 C>S PA len=100 seq=1101 id=4 ttl=63
+0.01     C>S PA len=100 id=5             # 8: 1201-1301
+0.000015 C>S PA len=100 seq=1201 id=5 ttl=63
+0.01     C>S PA len=100 id=6             # 10: 1301-1401
+0.000015 C>S PA len=100 seq=1301 id=6 ttl=63
+0.5      C>S PA len=100 seq=1301 id=7    # 12: sent again
+0.01     S>C A  ack=1401 id=2
+0.01     S>C A  ack=1401 id=3            # dup #1
+0.01     S>C A  ack=1401 id=4            # dup #2
`
	res := resultOf(t, desc)
	for _, tc := range []struct {
		perCode int
		want    []string
	}{
		{3, []string{"    ! … 2 more tcp.retransmission (1 warning, 1 info)\n"}},
		{4, []string{"    ! … 1 more tcp.retransmission\n"}},
		{1, []string{"    ! … 4 more tcp.retransmission (1 warning, 3 info)\n", "    · … 1 more tcp.dup_ack\n"}},
	} {
		var buf bytes.Buffer
		if err := WriteReport(&buf, []*analysis.Result{res}, ReportOptions{ASCII: false, PerCode: tc.perCode}); err != nil {
			t.Fatal(err)
		}
		for _, want := range tc.want {
			if !strings.Contains(buf.String(), want) {
				t.Errorf("%d a code: report does not say %q:\n%s", tc.perCode, want, buf.String())
			}
		}
	}
}
