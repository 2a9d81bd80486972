package analysis

import "testing"

// TestWindowBytes: a segment's window in bytes is its field shifted by
// its sender's window scale once both sides offered scaling, as tshark's
// tcp.window_size; a SYN's is never scaled; one-sided scaling means none;
// without the handshake the scale is unknown.
func TestWindowBytes(t *testing.T) {
	const data = "+0.001 C>S PA seq=1001 ack=5001 len=10 win=93\n+0.01 S>C A seq=5001 ack=1011 win=7\n"
	cases := []struct {
		name       string
		hs         string
		client     uint64 // frame of the client's data
		server     uint64
		known      bool
		clientSide uint64 // its window in bytes
		serverSide uint64
	}{
		{"both scale", "+0 C>S S seq=1000 mss=1460 ws=10 win=65495\n+0.01 S>C SA seq=5000 ack=1001 ws=7\n+0.001 C>S A seq=1001 ack=5001\n",
			4, 5, true, 93 << 10, 7 << 7},
		{"one side only", "+0 C>S S seq=1000 mss=1460 ws=10 win=65495\n+0.01 S>C SA seq=5000 ack=1001\n+0.001 C>S A seq=1001 ack=5001\n",
			4, 5, true, 93, 7},
		{"no handshake", "", 1, 2, false, 93, 7},
	}
	for _, tc := range cases {
		f := analyzerOf(t, "client 10.0.0.1:40000\nserver 10.0.0.2:443\n"+tc.hs+data).Finish().Flows[0]
		ref := func(frame uint64) PacketRef {
			for _, r := range f.Refs {
				if r.Frame == frame {
					return r
				}
			}
			t.Fatalf("%s: no frame %d", tc.name, frame)
			return PacketRef{}
		}
		if n, ok := f.WindowBytes(ref(tc.client)); n != tc.clientSide || ok != tc.known {
			t.Errorf("%s: client's window %d (%v), want %d (%v)", tc.name, n, ok, tc.clientSide, tc.known)
		}
		if n, ok := f.WindowBytes(ref(tc.server)); n != tc.serverSide || ok != tc.known {
			t.Errorf("%s: server's window %d (%v), want %d (%v)", tc.name, n, ok, tc.serverSide, tc.known)
		}
		if tc.hs != "" {
			if n, ok := f.WindowBytes(ref(1)); n != 65495 || !ok {
				t.Errorf("%s: the SYN's window %d (%v), want 65495 unscaled", tc.name, n, ok)
			}
		}
	}
}
