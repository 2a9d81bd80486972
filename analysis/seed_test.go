package analysis

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// The seed incident's captures, rebuilt in testdata/ by capture/fixture,
// must give the contract's verdicts in every encapsulation.

func TestSeedClientEveryEncapsulation(t *testing.T) {
	files, _ := filepath.Glob("../testdata/seed-client*.pcap*")
	if len(files) < 10 {
		t.Fatalf("found %d seed-client captures in testdata, want the encapsulation variants", len(files))
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			res, err := analyzeFile(file)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Flows) != 1 {
				t.Fatalf("%d flows, want 1", len(res.Flows))
			}
			f := res.Flows[0]
			if f.Status != StatusInvalid || f.Handshake.Status != HSInvalid {
				t.Errorf("status %s, handshake %s; want invalid, invalid", f.Status, f.Handshake.Status)
			}
			pay, ok := f.First(CodeSynAckPayload)
			if !ok || pay.Frame != 2 {
				t.Errorf("synack_payload %v on frame %d, want frame 2", ok, pay.Frame)
			}
			mm, ok := f.First(CodeAckMismatch)
			if !ok || mm.Frame != 3 || mm.RelatedFrame != 2 {
				t.Errorf("ack_mismatch %v on frame %d (related %d), want 3 (2)", ok, mm.Frame, mm.RelatedFrame)
			}
			h := f.Handshake
			if h.ExpectedAck != 2180033886 || h.ActualAck != 2180033888 {
				t.Errorf("expected/actual ACK %d/%d, want 2180033886/2180033888", h.ExpectedAck, h.ActualAck)
			}
			if h.ClientISN != 367515135 || h.ServerISN != 2180033885 || h.SynAckPayload != 2 {
				t.Errorf("ISNs %d/%d, synack payload %d", h.ClientISN, h.ServerISN, h.SynAckPayload)
			}
			// An IPv6 TCP segment is never short enough to need Ethernet
			// padding, so there the bytes must not be called padding.
			ipv6 := strings.Contains(file, "ipv6")
			if strings.Contains(f.Message(pay), "Ethernet padding") == ipv6 {
				t.Errorf("synack_payload message and the padding hint (ipv6 %v): %q", ipv6, f.Message(pay))
			}
			if !strings.Contains(f.Message(mm), "acknowledged the 2 bytes of SYN-ACK payload") {
				t.Errorf("ack_mismatch message: %q", f.Message(mm))
			}
			if f.Client().Port() != 50183 || f.Server().Port() != 443 {
				t.Errorf("client %s server %s", f.Client(), f.Server())
			}
		})
	}
}

func TestSeedInsidePaddingIsNotPayload(t *testing.T) {
	res, err := analyzeFile("../testdata/seed-inside.pcap")
	if err != nil {
		t.Fatal(err)
	}
	f := res.Flows[0]
	if f.Has(CodeSynAckPayload) {
		t.Errorf("the inside SYN-ACK's Ethernet padding was taken for payload")
	}
	if f.Handshake.SynAckPayload != 0 || f.Handshake.SynAckPadding != 2 {
		t.Errorf("synack payload %d, padding %d; want 0 and 2", f.Handshake.SynAckPayload, f.Handshake.SynAckPadding)
	}
	mm, ok := f.First(CodeAckMismatch)
	if !ok || mm.Frame != 3 {
		t.Fatalf("no ack_mismatch on frame 3: %v", codes(f))
	}
	if msg := f.Message(mm); !strings.Contains(msg, "never sent") || !strings.Contains(msg, "2 bytes of Ethernet padding") {
		t.Errorf("message %q", msg)
	}
	if f.Status != StatusInvalid {
		t.Errorf("status %s", f.Status)
	}
}

func TestSeedOutside(t *testing.T) {
	res, err := analyzeFile("../testdata/seed-outside.pcap")
	if err != nil {
		t.Fatal(err)
	}
	f := res.Flows[0]
	for _, c := range []Code{CodeIncomplete, CodeSynAckRetransmit} {
		if !f.Has(c) {
			t.Errorf("missing %s: %v", c, codes(f))
		}
	}
	if f.Has(CodeAckMismatch) || f.Handshake.Status != HSIncomplete {
		t.Errorf("handshake %s, findings %v", f.Handshake.Status, codes(f))
	}
}

func TestSeedClientChecksumOffload(t *testing.T) {
	res, err := analyzeFile("../testdata/seed-client.pcap")
	if err != nil {
		t.Fatal(err)
	}
	f := res.Flows[0]
	if f.Has(CodeChecksumBad) {
		t.Errorf("offloaded checksums reported as bad")
	}
	fi, ok := f.First(CodeChecksumOffload)
	if !ok || fi.A != 5 {
		t.Errorf("checksum.offload %v count %d, want 5", ok, fi.A)
	}
}

// TestCorpusNoPanicNoHang runs the whole pipeline over every capture of the
// corpus: none may panic or take long, and each either reads, or fails with
// one line naming the file.
func TestCorpusNoPanicNoHang(t *testing.T) {
	if _, err := os.Stat(corpusDir); err != nil {
		skipOrFail(t, "SYNSCOPE_REQUIRE_CORPUS", "capture corpus not found at "+corpusDir)
	}
	files, _ := filepath.Glob(corpusDir + "/*")
	var read, damaged, rejected int
	for _, file := range files {
		if strings.HasSuffix(file, ".md") {
			continue
		}
		done := make(chan error, 1)
		start := time.Now()
		var res *Result
		go func() {
			defer func() {
				if r := recover(); r != nil {
					buf := make([]byte, 4096)
					buf = buf[:runtime.Stack(buf, false)]
					done <- &panicError{r, string(buf)}
				}
			}()
			var err error
			res, err = analyzeFile(file)
			done <- err
		}()
		select {
		case err := <-done:
			if pe, ok := err.(*panicError); ok {
				t.Fatalf("%s: panic: %v\n%s", file, pe.v, pe.stack)
			}
			switch {
			case err == nil:
				read++
			case res != nil:
				damaged++
				if res.Damage == "" {
					t.Errorf("%s: damaged but the result does not say where: %v", file, err)
				}
			default:
				rejected++
			}
			if err != nil && (strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), filepath.Base(file))) {
				t.Errorf("%s: error is not one line naming the file: %q", file, err)
			}
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("%s: took %v", file, d)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("%s: no result after 30 s", file)
		}
	}
	t.Logf("%d captures: %d read, %d read up to damage, %d rejected", len(files), read, damaged, rejected)
}

type panicError struct {
	v     any
	stack string
}

func (p *panicError) Error() string { return "panic" }
