package capture

import (
	"strconv"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/layers"
)

// TestIDBBadOptionsNoted checks an interface description block whose
// option list is malformed (the review's ng-badidbopt.pcapng: an option
// whose length runs past the block). It is read, as tshark's "damaged
// after 0 packets" would not, but with a note: here the broken option
// hides the if_tsresol of 10^-9 after it, so the nanosecond ticks are read
// as microseconds and every time stamp is a thousand times too late.
func TestIDBBadOptionsNoted(t *testing.T) {
	w := (&ngWriter{}).shb(le)
	var body []byte
	body = le.AppendUint16(body, uint16(layers.LinkTypeEthernet))
	body = le.AppendUint16(body, 0)
	body = le.AppendUint32(body, 262144)
	body = le.AppendUint16(body, optIfName)
	body = le.AppendUint16(body, 200) // 200 bytes of if_name: 12 are there
	body = append(body, "eth0"...)
	body = le.AppendUint16(body, optIfTsresol)
	body = le.AppendUint16(body, 1)
	body = append(body, 9, 0, 0, 0)
	idbAt := len(w.b)
	w.block(blockIDB, body)
	w.idb(layers.LinkTypeEthernet, 262144, opt{optIfTsresol, []byte{9}}) // a sound one
	w.epb(0, pkt{ts: 1_700_000_000_123_456_789, data: payload(1, 60)})
	w.epb(1, pkt{ts: 1_700_000_000_123_456_789, data: payload(2, 60)})
	recs, r, err := readAll(t, w.b, "bad.pcapng")
	if err != nil || len(recs) != 2 {
		t.Fatalf("%d records, %v: want both, and no error", len(recs), err)
	}
	if recs[0].Timestamp == recs[1].Timestamp {
		t.Fatalf("the broken list's if_tsresol was read: %d", recs[0].Timestamp)
	}
	// Read as microseconds, the first frame's nanosecond ticks are in
	// the year 55840, past what a time holds: said too (it wrapped, to
	// 1706, without a word).
	notes := r.Notes()
	want := "interface 0's description block (byte " + strconv.Itoa(idbAt) + ") has a malformed option list: the options from the broken one on are ignored; if if_tsresol or if_tsoffset was among them, its times are wrong"
	if len(notes) != 2 || notes[0] != want || !strings.HasPrefix(notes[1], "frame 1 has a time stamp outside what synscope's times hold (1677-09-21 to 2262-04-11): the year 55840,") {
		t.Errorf("notes %q\nwant  %q and frame 1's time", notes, want)
	}
	for _, n := range notes {
		if strings.Contains(n, "\n") {
			t.Errorf("note of more than one line: %q", n)
		}
	}

	// Sound option lists, with or without an end-of-options, give none.
	_, r, err = readAll(t, (&ngWriter{}).shb(le).idb(layers.LinkTypeEthernet, 0).idb(layers.LinkTypeEthernet, 0, opt{optIfTsresol, []byte{9}}).b, "ok.pcapng")
	if err != nil || r.Notes() != nil {
		t.Errorf("sound blocks: notes %q, %v", r.Notes(), err)
	}
	noEnd := append([]byte(nil), body[:8]...)
	noEnd = le.AppendUint16(noEnd, optIfTsresol)
	noEnd = le.AppendUint16(noEnd, 1)
	noEnd = append(noEnd, 9, 0, 0, 0)
	_, r, err = readAll(t, (&ngWriter{}).shb(le).block(blockIDB, noEnd).b, "noend.pcapng")
	if err != nil || r.Notes() != nil || r.Interfaces()[0].TsResol != 9 {
		t.Errorf("a list without end-of-options: notes %q, %v", r.Notes(), err)
	}

	// Three broken blocks: one note, which counts the others.
	w = (&ngWriter{}).shb(le)
	for range 3 {
		w.block(blockIDB, body)
	}
	_, r, _ = readAll(t, w.b, "three.pcapng")
	if n := r.Notes(); len(n) != 1 || !strings.HasPrefix(n[0], "interface 0's") || !strings.HasSuffix(n[0], "; 2 more interfaces' blocks are alike") {
		t.Errorf("three broken blocks: %q", n)
	}
}
