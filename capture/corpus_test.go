package capture

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The tcpdump test suite's captures (hostile, odd and ordinary), shared by
// the project outside the repository.
var corpusDir = filepath.Join("..", "..", "shared", "corpus", "tcpdump-tests")

// corpusFiles lists the corpus, skipping the test when it is absent unless
// SYNSCOPE_REQUIRE_CORPUS=1.
func corpusFiles(t testing.TB) []string {
	t.Helper()
	entries, err := os.ReadDir(corpusDir)
	if err != nil || len(entries) == 0 {
		msg := fmt.Sprintf("capture corpus %s not available (%v)", corpusDir, err)
		if os.Getenv("SYNSCOPE_REQUIRE_CORPUS") == "1" {
			t.Fatalf("%s, and SYNSCOPE_REQUIRE_CORPUS=1", msg)
		}
		t.Skipf("%s; set SYNSCOPE_REQUIRE_CORPUS=1 to make this a failure", msg)
	}
	var files []string
	for _, e := range entries {
		if e.Type().IsRegular() {
			files = append(files, filepath.Join(corpusDir, e.Name()))
		}
	}
	return files
}

// corpusResult is what reading one corpus file gave.
type corpusResult struct {
	records int
	err     error  // nil: clean end
	open    bool   // err came from Open
	problem string // a failed check, "" if none
}

// readCorpusFile reads path with Open and Next, re-reads every record with
// a Rereader and checks the invariants every file must satisfy, whatever
// its content.
func readCorpusFile(path string) (res corpusResult) {
	defer func() {
		if p := recover(); p != nil {
			res.problem = fmt.Sprintf("panic: %v", p)
		}
	}()
	r, err := Open(path)
	if err != nil {
		return corpusResult{err: err, open: true}
	}
	defer r.Close()
	var recs []Record
	for {
		rec, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			res.err = err
			break
		}
		if rec.Frame != uint64(len(recs)+1) || int(rec.CapLen) != len(rec.Data) || rec.OrigLen < rec.CapLen {
			res.problem = fmt.Sprintf("inconsistent record %+v", *rec)
			return res
		}
		recs = append(recs, copyRecord(rec))
	}
	res.records = len(recs)
	if res.err == nil && r.BytesRead() != r.Size() {
		res.problem = fmt.Sprintf("clean end after %d of %d bytes", r.BytesRead(), r.Size())
		return res
	}
	var de *DamageError
	if errors.As(res.err, &de) && de.Frame != uint64(len(recs)) {
		res.problem = fmt.Sprintf("damage error names frame %d after %d records", de.Frame, len(recs))
		return res
	}
	rr, err := r.Rereader()
	if err != nil {
		res.problem = err.Error()
		return res
	}
	defer rr.Close()
	for i := len(recs) - 1; i >= 0; i-- {
		want := recs[i]
		got, err := rr.ReadAt(want.Offset, want.Frame)
		if err != nil {
			res.problem = err.Error()
			return res
		}
		if !sameRecord(*got, want) {
			res.problem = fmt.Sprintf("frame %d re-read differently", want.Frame)
			return res
		}
	}
	return res
}

// sameRecord compares two records field by field.
func sameRecord(a, b Record) bool {
	return a.Frame == b.Frame && a.Offset == b.Offset && a.Timestamp == b.Timestamp &&
		a.CapLen == b.CapLen && a.OrigLen == b.OrigLen && a.LinkType == b.LinkType &&
		a.Interface == b.Interface && a.Direction == b.Direction && bytes.Equal(a.Data, b.Data)
}

// TestCorpusReaders reads every file of the tcpdump test corpus: no panic,
// no file taking more than 5 s, and every error one line naming the file.
func TestCorpusReaders(t *testing.T) {
	files := corpusFiles(t)
	var full, damaged, rejected, records int
	for _, path := range files {
		done := make(chan corpusResult, 1)
		go func() { done <- readCorpusFile(path) }()
		var res corpusResult
		select {
		case res = <-done:
		case <-time.After(5 * time.Second):
			t.Errorf("%s: still reading after 5 s", path)
			continue
		}
		if res.problem != "" {
			t.Errorf("%s: %s", path, res.problem)
			continue
		}
		records += res.records
		var de *DamageError
		switch {
		case res.err == nil:
			full++
		case res.open:
			rejected++
		case errors.As(res.err, &de):
			damaged++
		default:
			t.Errorf("%s: neither damage nor rejection: %v", path, res.err)
		}
		if res.err != nil {
			msg := res.err.Error()
			if strings.ContainsAny(msg, "\r\n") || !strings.Contains(msg, path) {
				t.Errorf("%s: error is not one line naming the file: %q", path, msg)
			}
			if testing.Verbose() {
				t.Logf("%v", res.err)
			}
		}
	}
	t.Logf("%d files: %d read fully, %d damaged, %d rejected; %d records", len(files), full, damaged, rejected, records)
}

// Deliberate differences in packet counts from Wireshark (tshark and
// capinfos), by file name. Wireshark 4.0 refuses these whole files because it does not know their
// link type (for the two Juniper ones because it does not mask the upper
// 16 bits of the pcap link type field, which libpcap and we do); tcpdump
// reads as many packets as we do. The capture layer does not judge link
// types: a packet it cannot dissect is for the analysis to report.
var tsharkDifferences = map[string]string{
	"brcm-tag-prepend.pcap":                      "link type 282",
	"brcm-tag.pcap":                              "link type 281",
	"dsa-high-vid.pcap":                          "link type 284",
	"dsa.pcap":                                   "link type 284",
	"edsa-high-vid.pcap":                         "link type 285",
	"edsa.pcap":                                  "link type 285",
	"frf16_magic_ie-oobr.pcap":                   "link type 182",
	"hoobr_juniper3.pcap":                        "link type 0x30000084",
	"juniper_es_oobr.pcap":                       "link type 0x30000084",
	"juniper_monitor_invalid_cookie_length.pcap": "link type 164",
	"kday6.pcap":                                 "link type 182",
	"vtp_asan-2.pcap":                            "link type 182",
	"vtp_asan-3.pcap":                            "link type 182",
	"vtp_asan.pcap":                              "link type 182",
}

// TestCorpusCounts compares the number of packets we read with what
// Wireshark's capinfos counts for the whole corpus (it reads files with the
// same library as tshark, without dissecting them, so it is quick), or else
// tshark, or else tcpdump, for a sample of it. It is skipped when none of
// them is installed.
func TestCorpusCounts(t *testing.T) {
	files := corpusFiles(t)
	tool, counts := referenceCounts(t, files)
	if tool == "" {
		t.Skip("none of capinfos, tshark and tcpdump is installed")
	}
	agree := 0
	for path, want := range counts {
		res := readCorpusFile(path)
		if res.problem != "" {
			t.Errorf("%s: %s", path, res.problem)
			continue
		}
		if res.records == want {
			agree++
			continue
		}
		if why, ok := tsharkDifferences[filepath.Base(path)]; ok && tool != "tcpdump" {
			t.Logf("%s: %d records, %s counts %d: known difference: %s", path, res.records, tool, want, why)
			continue
		}
		t.Errorf("%s: read %d records (%v), %s counts %d", path, res.records, res.err, tool, want)
	}
	t.Logf("%s agrees on %d of %d files", tool, agree, len(counts))
}

// referenceCounts counts the packets of files, or of a sample of them, with
// an installed tool, and returns its name. Files the tool cannot read count
// as 0.
func referenceCounts(t *testing.T, files []string) (string, map[string]int) {
	counts := make(map[string]int)
	if p, err := exec.LookPath("capinfos"); err == nil {
		// One line per file it can read: "name<TAB>count".
		out, _ := exec.Command(p, append([]string{"-c", "-M", "-T", "-r", "--"}, files...)...).Output()
		for _, f := range files {
			counts[f] = 0
		}
		for line := range strings.Lines(string(out)) {
			name, n, ok := strings.Cut(strings.TrimSpace(line), "\t")
			if v, err := strconv.Atoi(n); ok && err == nil {
				counts[name] = v
			}
		}
		return "capinfos", counts
	}
	// Every 16th file, some 50 of them: these tools are slower.
	var sample []string
	for i, f := range files {
		if i%16 == 0 {
			sample = append(sample, f)
		}
	}
	if p, err := exec.LookPath("tshark"); err == nil {
		if testing.Short() {
			t.Skip("tshark is slow: skipped in -short mode")
		}
		for _, f := range sample {
			out, _ := exec.Command(p, "-r", f, "-T", "fields", "-e", "frame.number").Output()
			counts[f] = bytes.Count(out, []byte("\n"))
		}
		return "tshark", counts
	}
	if p, err := exec.LookPath("tcpdump"); err == nil {
		for _, f := range sample {
			// -# numbers the packets; some print on several lines,
			// so take the largest number starting a line.
			out, _ := exec.Command(p, "-#", "-n", "-q", "-r", f).Output()
			n := 0
			for line := range strings.Lines(string(out)) {
				if fields := strings.Fields(line); len(fields) > 0 {
					if v, err := strconv.Atoi(fields[0]); err == nil {
						n = max(n, v)
					}
				}
			}
			counts[f] = n
		}
		return "tcpdump", counts
	}
	return "", nil
}
