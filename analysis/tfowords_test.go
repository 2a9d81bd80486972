package analysis

import "testing"

// TestFastOpenCookieRequestWords: handshake.tfo says "cookie request" for a
// Fast Open option without a cookie (kind 34, or 254 with magic 0xF989),
// with or without data, and "cookie" for one with a cookie: it said
// "cookie" for a request with data, and "cookie request" for a cookie
// without data.
func TestFastOpenCookieRequestWords(t *testing.T) {
	for _, tc := range []struct{ opt, data, want string }{
		{"tfo", "data=text:0123456789", "SYN carries a TCP Fast Open cookie request and 10 bytes of data; the server did not accept the data"},
		{"tfo-exp", "data=text:0123456789", "SYN carries a TCP Fast Open cookie request and 10 bytes of data; the server did not accept the data"},
		{"tfo", "", "SYN carries a TCP Fast Open cookie request, no data"},
		{"tfo-exp", "", "SYN carries a TCP Fast Open cookie request, no data"},
		{"tfo=0102030405060708", "", "SYN carries a TCP Fast Open cookie, no data"},
		{"tfo-exp=0102030405060708", "data=text:ab", "SYN carries a TCP Fast Open cookie and 2 bytes of data; the server did not accept the data"},
	} {
		text := "0 C>S S mss=1460 " + tc.opt + " " + tc.data + "\n+0.01 S>C SA mss=1460 ack=1001\n+0.01 C>S A\n"
		res := analyzeDescription(t, tc.opt+" "+tc.data, text).res
		f := res.Flows[0]
		fi, ok := f.First(CodeTFO)
		if !ok {
			t.Fatalf("%s %s: no handshake.tfo:%s", tc.opt, tc.data, summary(res))
		}
		if got := f.Message(fi); got != tc.want {
			t.Errorf("%s %s: %q, want %q", tc.opt, tc.data, got, tc.want)
		}
	}
}
