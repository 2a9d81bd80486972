package capture

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/layers"
)

// Files joined with cat: pcapng sections, each numbering its interfaces
// from 0, and pcap files whose second header comes where a record was due.

// dumpcapSection appends what one file of a dumpcap ring buffer holds: a
// section, its interface (named, with if_os and if_tsresol as dumpcap
// writes them) and packets, whose ticks are microseconds.
func dumpcapSection(w *ngWriter, o byteOrder, pkts ...pkt) {
	w.shb(o).idb(layers.LinkTypeEthernet, 262144, opt{optIfName, []byte("eth0")}, opt{optIfOS, []byte("Linux 6.1")},
		opt{optIfTsresol, []byte{6}})
	for _, p := range pkts {
		w.epb(0, p)
	}
}

// writeTemp writes data to a file of that name in a temporary directory.
func writeTemp(t *testing.T, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// tsharkFrames returns how many frames tshark reads in the file at path,
// -1 without tshark (or in -short mode: it is slow).
func tsharkFrames(t *testing.T, path string) int {
	tshark, err := exec.LookPath("tshark")
	if err != nil || testing.Short() {
		return -1
	}
	out, _ := exec.Command(tshark, "-r", path, "-T", "fields", "-e", "frame.number").Output()
	return bytes.Count(out, []byte("\n"))
}

// TestSectionsJoined: interface numbers start again in each pcapng
// section, and 70,000 one-interface sections (a day of per-second dumpcap
// files joined with cat) are all read, as tshark and capinfos read them.
// The bound on interfaces counted the whole file's: the reader stopped at
// frame 65,536 saying the file was damaged, with "more than 65536
// interfaces", no section having more than one. The sections describe
// their interface alike, so the file has one, and one run of sections
// means it by ID 0: what the reader keeps does not grow with the sections.
func TestSectionsJoined(t *testing.T) {
	const n = 70_000
	w := &ngWriter{}
	for s := range n {
		dumpcapSection(w, le, pkt{ts: 1_700_000_000_000_000 + int64(s)*1_000_000, data: payload(s, 54+s%7)})
	}
	recs, r, err := readAll(t, w.b, "day.pcapng")
	if err != nil || len(recs) != n {
		t.Fatalf("%d frames, %v: want %d and no error", len(recs), err, n)
	}
	if last := recs[n-1]; last.Timestamp != (1_700_000_000+n-1)*1e9 || !bytes.Equal(last.Data, payload(n-1, 54+(n-1)%7)) || last.Interface != 0 {
		t.Errorf("the last frame: time %d, interface %d, data equal %v", last.Timestamp, last.Interface, bytes.Equal(last.Data, payload(n-1, 54+(n-1)%7)))
	}
	ifs := r.Interfaces()
	if len(ifs) != 1 || ifs[0].Name != "eth0" || ifs[0].Section != 0 || len(r.meta.runs) != 1 || len(r.meta.ids) != 1 {
		t.Errorf("%d interfaces (%+v), %d runs, %d IDs: want one of each", len(ifs), ifs, len(r.meta.runs), len(r.meta.ids))
	}
	// Mapped, as synscope reads files: the same records.
	path := writeTemp(t, "day.pcapng", w.b)
	mapped, _, err := readFileMapped(t, path, true)
	if err != nil || len(mapped) != n || !sameRecord(mapped[n-1], recs[n-1]) {
		t.Errorf("mapped: %d frames, %v", len(mapped), err)
	}
	if got := tsharkFrames(t, path); got >= 0 && got != n {
		t.Errorf("tshark reads %d frames, synscope %d", got, n)
	}
}

// TestSectionsRenumbered: sections that describe the same interfaces in
// another order, or other ones, under the IDs an earlier section used: a
// record is read back (Rereader) on the interface its own section meant.
// Two alike in one section stay two, as tshark tells them apart: the
// first a packet names is the one the sections before described.
func TestSectionsRenumbered(t *testing.T) {
	eth := func(w *ngWriter) { w.idb(layers.LinkTypeEthernet, 0, opt{optIfName, []byte("eth0")}) }
	raw := func(w *ngWriter) { w.idb(layers.LinkTypeRaw, 0, opt{optIfName, []byte("tun0")}) }
	w := &ngWriter{}
	type want struct {
		lt    layers.LinkType
		iface int
	}
	var wants []want
	frame := 0
	packet := func(id uint32, lt layers.LinkType, iface int) {
		w.epb(id, pkt{ts: int64(frame), data: payload(frame, 40)})
		wants = append(wants, want{lt, iface})
		frame++
	}
	w.shb(le)
	eth(w)
	raw(w)
	packet(0, layers.LinkTypeEthernet, 0)
	packet(1, layers.LinkTypeRaw, 1)
	w.shb(be) // the other way round
	raw(w)
	eth(w)
	packet(0, layers.LinkTypeRaw, 1)
	packet(1, layers.LinkTypeEthernet, 0)
	w.shb(le) // as the first, and the first's IDs again
	eth(w)
	raw(w)
	packet(1, layers.LinkTypeRaw, 1)
	w.shb(le) // eth0 twice: two interfaces
	eth(w)
	eth(w)
	packet(1, layers.LinkTypeEthernet, 0)
	packet(0, layers.LinkTypeEthernet, 2)
	w.shb(be) // an interface no section described so far
	w.idb(layers.LinkTypeNull, 128)
	packet(0, layers.LinkTypeNull, 3)

	recs, r, err := readAll(t, w.b, "renumbered.pcapng")
	if err != nil || len(recs) != len(wants) {
		t.Fatalf("%d frames, %v: want %d", len(recs), err, len(wants))
	}
	for i, rec := range recs {
		if rec.LinkType != wants[i].lt || rec.Interface != wants[i].iface || !bytes.Equal(rec.Data, payload(i, 40)) {
			t.Errorf("frame %d: %s on interface %d, want %s on %d", i+1, rec.LinkType, rec.Interface, wants[i].lt, wants[i].iface)
		}
	}
	if ifs := r.Interfaces(); len(ifs) != 4 || ifs[2].Section != 3 || ifs[2].ID != 0 || ifs[3].LinkType != layers.LinkTypeNull {
		t.Errorf("interfaces %+v", ifs)
	}
	if got := tsharkFrames(t, writeTemp(t, "renumbered.pcapng", w.b)); got >= 0 && got != len(wants) {
		t.Errorf("tshark reads %d frames, synscope %d", got, len(wants))
	}
}

// TestSectionsBounded: what the reader keeps of pcapng interfaces is
// bounded. A section's interfaces that no packet names leave nothing (a
// million of them in a 48 MB file: 13 MB RSS); 65,536 are the most one
// section may define, and the most different ones a file may have, each
// kept once however many sections describe it (a file of a million
// sections, each describing another interface for one packet, took 1 GB).
func TestSectionsBounded(t *testing.T) {
	// Sections of different interfaces without packets, then one with.
	w := &ngWriter{}
	for s := range 5000 {
		w.shb(le).idb(layers.LinkTypeEthernet, uint32(s+1))
	}
	dumpcapSection(w, le, pkt{ts: 1, data: payload(1, 60)})
	recs, r, err := readAll(t, w.b, "quiet.pcapng")
	if err != nil || len(recs) != 1 || len(r.Interfaces()) != 1 || len(r.meta.ids) != 1 {
		t.Errorf("%d frames, %v, %d interfaces, %d IDs: want 1, none, 1 and 1", len(recs), err, len(r.Interfaces()), len(r.meta.ids))
	}

	// 65,536 interfaces in one section are read, and a second section
	// may have as many again: the bound is a section's.
	w = (&ngWriter{}).shb(le)
	for range maxInterfaces {
		w.idb(layers.LinkTypeEthernet, 0)
	}
	w.epb(maxInterfaces-1, pkt{ts: 1, data: payload(1, 60)})
	w.shb(le)
	for range maxInterfaces {
		w.idb(layers.LinkTypeEthernet, 0)
	}
	w.epb(maxInterfaces-1, pkt{ts: 2, data: payload(2, 60)})
	recs, _, err = readAll(t, w.b, "wide.pcapng")
	if err != nil || len(recs) != 2 || recs[1].Interface != 0 {
		t.Errorf("%d frames, %v: want 2 and no error, the second on interface 0", len(recs), err)
	}
	// One more in a section is damage, and says so.
	w.idb(layers.LinkTypeEthernet, 0)
	at := len(w.b) - 20
	_, _, err = readAll(t, w.b, "wide.pcapng")
	var de *DamageError
	if !errors.As(err, &de) || de.Offset != int64(at) || de.Reason != "more than 65536 interfaces in one section" || de.Frame != 2 {
		t.Errorf("%v: want damage at byte %d after frame 2, more than 65536 interfaces in one section", err, at)
	}

	// 65,536 sections of different interfaces, each with a packet, are
	// read; one more is damage at its packet.
	w = &ngWriter{}
	for s := range maxInterfaces {
		w.shb(le).idb(layers.LinkTypeEthernet, uint32(s+1)).epb(0, pkt{ts: int64(s), data: payload(s, 40)})
	}
	recs, r, err = readAll(t, w.b, "many.pcapng")
	if err != nil || len(recs) != maxInterfaces || len(r.Interfaces()) != maxInterfaces {
		t.Fatalf("%d frames, %v, %d interfaces: want %d, no error", len(recs), err, len(r.Interfaces()), maxInterfaces)
	}
	w.shb(le).idb(layers.LinkTypeEthernet, 0)
	at = len(w.b)
	w.epb(0, pkt{ts: 1, data: payload(1, 40)})
	recs, _, err = readAll(t, w.b, "many.pcapng")
	if !errors.As(err, &de) || de.Offset != int64(at) || len(recs) != maxInterfaces ||
		!strings.HasPrefix(de.Reason, "more than 65536 different interfaces in the file") {
		t.Errorf("%d frames, %v: want %d and damage at byte %d, more than 65536 different interfaces", len(recs), err, maxInterfaces, at)
	}
	checkOneLine(t, err, "many.pcapng")
}

// TestPointsJoinedTwice: an export of capture points joined to itself with
// cat. Its second section's interfaces are described as the first's, marks
// and all, but a point is the first section's interfaces alone: the second
// section's packets are in no point, and the first point's reader says
// so, naming the interface as tshark numbers it, as before sections
// shared their interfaces. Shared, the points read each packet twice.
func TestPointsJoinedTwice(t *testing.T) {
	mark := func(k, n int, name string) []opt { return []opt{{optComment, []byte(PointComment(k, n, name))}} }
	one := twoInterfaces(mark(1, 2, "a"), mark(2, 2, "b"))
	path := writeTemp(t, "twice.pcapng", cat(one, one))
	if pts := FilePoints(path); len(pts) != 2 || pts[0].Name != "a" || pts[1].Name != "b" {
		t.Fatalf("points %+v, want a and b", pts)
	}
	ra, recs := readPoint(t, path, "a")
	if len(recs) != 3 {
		t.Errorf("point a: %d frames, want 3", len(recs))
	}
	if n := ra.Notes(); len(n) != 1 || !strings.HasPrefix(n[0], "6 frames on interfaces that no capture point's mark names (the first on interface 2,") ||
		!strings.HasSuffix(n[0], "frame.interface_id==2 reads them") {
		t.Errorf("point a's notes %q", n)
	}
	if _, recs := readPoint(t, path, "b"); len(recs) != 3 {
		t.Errorf("point b: %d frames, want 3", len(recs))
	}
}

// timesFile is a pcapng of one interface with if_tsresol resol and
// if_tsoffset offset, whose packets have the ticks given.
func timesFile(resol uint8, offset int64, ticks ...uint64) []byte {
	opts := []opt{{optIfTsresol, []byte{resol}}}
	if offset != 0 {
		opts = append(opts, opt{optIfTsoffset, le.AppendUint64(nil, uint64(offset))})
	}
	w := (&ngWriter{}).shb(le).idb(layers.LinkTypeEthernet, 0, opts...)
	for i, tk := range ticks {
		w.epb(0, pkt{ts: int64(tk), data: payload(i, 60)})
	}
	return w.b
}

// TestTimesBeyondInt64: a pcapng time stamp whose time does not fit in
// an int64 of nanoseconds (past 2262-04-11 or before 1677-09-21) is read
// as the nearest that does, and noted once with the first frame, its
// time and the count; times that fit are exact, whatever the ticks and
// the offset that make them. The ticks of the year 3000 wrapped to 1830,
// ticks near 2^64 to 1969, and an if_tsoffset of 10^10 s overflowed, all
// without a word.
func TestTimesBeyondInt64(t *testing.T) {
	const y3000 = 32_503_680_000 // 3000-01-01 in Unix seconds
	const maxNs, minNs = int64(1<<63 - 1), int64(-1 << 63)
	// tshark's time of ticks near 2^64 µs is 18446744073709.55 s: in
	// years of 365.2425 days, after 1970:
	secs := 18446744073709.55
	year := 1970 + int64(secs/31556952)
	for _, tc := range []struct {
		name string
		file []byte
		want []int64
		note string // "" for none
	}{
		{"year 3000 in microseconds", timesFile(6, 0, y3000*1e6, y3000*1e6+1000),
			[]int64{maxNs, maxNs}, "2 frames have a time stamp outside what synscope's times hold (1677-09-21 to 2262-04-11; the first, frame 1: 3000-01-01 00:00:00 UTC): read as the nearest they hold, so their times are off"},
		{"ticks near 2^64", timesFile(6, 0, 1e9, 1<<64-1),
			[]int64{1e12, maxNs}, fmt.Sprintf("frame 2 has a time stamp outside what synscope's times hold (1677-09-21 to 2262-04-11): the year %d, read as 2262-04-11 23:47:16 UTC, so its time is off", year)},
		{"if_tsoffset of 10^10 s", timesFile(6, 1e10, 0),
			[]int64{maxNs}, "frame 1 has a time stamp outside what synscope's times hold (1677-09-21 to 2262-04-11): 2286-11-20 17:46:40 UTC, read as 2262-04-11 23:47:16 UTC, so its time is off"},
		{"if_tsoffset of -10^10 s", timesFile(9, -1e10, 5),
			[]int64{minNs}, "frame 1 has a time stamp outside what synscope's times hold (1677-09-21 to 2262-04-11): 1653-02-10 06:13:20 UTC, read as 1677-09-21 00:12:43 UTC, so its time is off"},
		{"1906: if_tsoffset -2*10^9 s", timesFile(6, -2e9, 1e15, 1e15+1000),
			[]int64{-1e18, -1e18 + 1e6}, ""},
		{"the year 3000, and an offset back to 2049", timesFile(6, -30e9, y3000*1e6+7),
			[]int64{(y3000-30e9)*1e9 + 7000}, ""},
		{"seconds, in 2^0 units", timesFile(0x80, 0, 9_223_372_036, 9_223_372_037),
			[]int64{9_223_372_036e9, maxNs}, "frame 2 has a time stamp outside what synscope's times hold (1677-09-21 to 2262-04-11): 2262-04-11 23:47:17 UTC, read as 2262-04-11 23:47:16 UTC, so its time is off"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			recs, r, err := readAll(t, tc.file, "t.pcapng")
			if err != nil || len(recs) != len(tc.want) {
				t.Fatalf("%d frames, %v", len(recs), err)
			}
			for i, rec := range recs {
				if rec.Timestamp != tc.want[i] {
					t.Errorf("frame %d: time %d, want %d", i+1, rec.Timestamp, tc.want[i])
				}
			}
			notes := r.Notes()
			if tc.note == "" && len(notes) != 0 || tc.note != "" && (len(notes) != 1 || notes[0] != tc.note) {
				t.Errorf("notes %q\nwant %q", notes, tc.note)
			}
			// Mapped (the reader's fast path): the same.
			mapped, _, err := readFileMapped(t, writeTemp(t, "t.pcapng", tc.file), true)
			if err != nil || len(mapped) != len(recs) || mapped[len(mapped)-1].Timestamp != recs[len(recs)-1].Timestamp {
				t.Errorf("mapped: %d frames, %v", len(mapped), err)
			}
		})
	}
}

// TestTimesBefore1970Exported: an export keeps an interface's if_tsoffset,
// so that times before 1970 (ticks are unsigned) are written as the offset
// and ticks after it, and read back as they were, by tshark too.
// They were written as ticks of 2^64 minus the time, which synscope read
// back by wrapping around and tshark as the year 2554.
func TestTimesBefore1970Exported(t *testing.T) {
	src := timesFile(6, -2e9, 1e15, 1e15+1500)
	in, r, err := readAll(t, src, "1906.pcapng")
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	nw, err := NewPcapngWriter(&out)
	if err != nil {
		t.Fatal(err)
	}
	id, _ := nw.AddInterfaceLike(r.Interfaces()[0])
	for i := range in {
		if err := nw.WritePacket(id, &in[i]); err != nil {
			t.Fatal(err)
		}
	}
	nw.Flush()
	back, rb, err := readAll(t, out.Bytes(), "export.pcapng")
	if err != nil || len(back) != 2 || back[0].Timestamp != in[0].Timestamp || back[1].Timestamp != in[1].Timestamp || len(rb.Notes()) != 0 {
		t.Errorf("read back: %d frames, %v, notes %q", len(back), err, rb.Notes())
	}
	if tshark, err := exec.LookPath("tshark"); err == nil {
		times := func(data []byte) string {
			b, err := exec.Command(tshark, "-r", writeTemp(t, "t.pcapng", data), "-T", "fields", "-e", "frame.time_epoch").Output()
			if err != nil {
				t.Fatal(err)
			}
			return string(b)
		}
		if got, want := times(out.Bytes()), times(src); got != want {
			t.Errorf("tshark reads the export's times as %q, the source's as %q", got, want)
		}
	}
}

// TestPcapJoined: a pcap file header where a record header was due is a
// second file joined with cat (or tcpdump -w - appended to a file). One
// like the first is read past, and noted, so that every packet is read;
// tcpdump and tshark read it as a record or two and stop with an error,
// and synscope did the same, saying the damage was 20 bytes after it
// started. One unlike the first is damage at its first byte, saying how.
func TestPcapJoined(t *testing.T) {
	a := pcapFile(le, false, 1, testPackets[:2]...)
	b := pcapFile(le, false, 1, testPackets[2:]...)
	all := pcapRecords(false, 16, testPackets)
	for i := 2; i < len(all); i++ {
		all[i].Offset += pcapFileHeaderLen // the second header
	}
	bigger := bytes.Clone(b)
	le.PutUint32(bigger[16:], 262144)
	abNs := pcapFile(be, true, 1, testPackets[:2]...)
	wantNs := pcapRecords(true, 16, testPackets)
	for i := 2; i < len(wantNs); i++ {
		wantNs[i].Offset += pcapFileHeaderLen
	}
	threeWant := append(slices.Clone(all), all[2:]...)
	for i := 4; i < len(threeWant); i++ {
		threeWant[i].Frame = uint64(i + 1)
		threeWant[i].Offset = all[i-2].Offset + int64(len(b))
	}
	for _, tc := range []struct {
		name string
		data []byte
		want []Record
		note string
	}{
		{"two", cat(a, b), all, fmt.Sprintf("a second pcap file header at byte %d, before frame 3: files joined with cat (or tcpdump -w - appended to the file)? read on, as it has the first's format and link type; tcpdump and tshark read its bytes as packets and stop there with an error", len(a))},
		{"three", cat(a, b, b), threeWant, fmt.Sprintf("2 more pcap file headers (the first at byte %d, before frame 3): files joined with cat (or tcpdump -w - appended to the file)? read on, as each has the first's format and link type; tcpdump and tshark read the first's bytes as packets and stop there with an error", len(a))},
		{"big-endian, nanoseconds", cat(abNs, pcapFile(be, true, 1, testPackets[2:]...)), wantNs, ""},
		{"a larger snap length", cat(a, bigger), all, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, data := range [][]byte{tc.data, gz(t, tc.data), cat(gz(t, tc.data[:len(a)]), gz(t, tc.data[len(a):]))} {
				recs, r, err := readAll(t, data, "j.pcap")
				if err != nil {
					t.Fatal(err)
				}
				checkRecords(t, recs, tc.want)
				if n := r.Notes(); len(n) != 1 || tc.note != "" && n[0] != tc.note {
					t.Errorf("notes %q\nwant %q", n, tc.note)
				}
			}
			mapped, _, err := readFileMapped(t, writeTemp(t, "j.pcap", tc.data), true)
			if err != nil {
				t.Fatal(err)
			}
			checkRecords(t, mapped, tc.want)
		})
	}
	_, r, _ := readAll(t, cat(a, bigger), "j.pcap")
	if snap := r.Interfaces()[0].SnapLen; snap != 262144 {
		t.Errorf("snap length %d, want the second header's 262144", snap)
	}

	sll := pcapFile(le, false, uint32(layers.LinkTypeLinuxSLL), testPackets[2:]...)
	ng := (&ngWriter{}).shb(le).idb(layers.LinkTypeEthernet, 0).epb(0, pkt{ts: 1, data: payload(1, 60)}).b
	for _, tc := range []struct {
		name   string
		data   []byte
		at     int
		frames int
		reason string
	}{
		{"another link type", cat(a, sll), len(a), 2, "a second pcap file header (files joined with cat?), with link type Linux cooked (113) where the first has Ethernet (1): the rest of the file is a capture of its own"},
		{"big-endian after little", cat(a, pcapFile(be, false, 1, testPackets[2:]...)), len(a), 2, "a second pcap file header (files joined with cat?), big-endian where the first is little-endian: the rest of the file is a capture of its own"},
		{"nanoseconds after micro", cat(a, pcapFile(le, true, 1)), len(a), 2, "a second pcap file header (files joined with cat?), pcap-ns where the first is pcap: the rest of the file is a capture of its own"},
		{"truncated", cat(a, b[:10]), len(a), 2, "a second pcap file header (files joined with cat?), truncated: 10 of 24 bytes"},
		{"pcapng after pcap", cat(a, ng), len(a), 2, "a pcapng section header block, where a pcap record was due: a pcapng file joined to a pcap file (cat)? the rest of the file is a capture of its own"},
		{"pcap after pcapng", cat(ng, b), len(ng), 1, "a pcap file header, where a pcapng block was due: a pcap file joined to a pcapng file (cat)? the rest of the file is a capture of its own"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			recs, _, err := readAll(t, tc.data, "j.pcap")
			var de *DamageError
			if !errors.As(err, &de) || de.Offset != int64(tc.at) || len(recs) != tc.frames || !strings.HasPrefix(de.Reason, tc.reason) {
				t.Fatalf("%d frames, %v\nwant %d frames and damage at byte %d: %s", len(recs), err, tc.frames, tc.at, tc.reason)
			}
			checkOneLine(t, err, "j.pcap")
			// From a file, the command that cuts the rest out.
			path := writeTemp(t, "j.pcap", tc.data)
			_, _, err = readFileMapped(t, path, true)
			rest := "rest.pcap"
			if tc.name == "pcapng after pcap" {
				rest = "rest.pcapng"
			}
			if strings.Contains(tc.reason, "of its own") && (err == nil || !strings.Contains(err.Error(), "(tail -c +"+strconv.Itoa(tc.at+1)+" "+path+" > "+rest+"); mergecap joins captures")) {
				t.Errorf("from a file: %v", err)
			}
		})
	}
	if got := tsharkFrames(t, writeTemp(t, "j.pcap", cat(a, b))); got >= len(all) {
		t.Errorf("tshark reads all %d frames of files joined with cat: the test's premise is gone", got)
	}
}

// cat joins byte slices, as cat(1) joins files.
func cat(parts ...[]byte) []byte {
	return bytes.Join(parts, nil)
}
