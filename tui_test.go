package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/synscope/synscope/capture"
)

func TestTUIFlags(t *testing.T) {
	cases := []struct {
		name   string
		args   []string
		code   int
		stderr string
		stdout string
	}{
		{"no capture", nil, 1, "no capture given: use -r FILE, or --demo", ""},
		{"unknown theme", []string{"--demo", "--theme", "pink"}, 1, "--theme pink: no such theme: use dark, light, high-contrast, mono", ""},
		{"theme without name", []string{"--demo", "--theme"}, 1, "needs a theme name", ""},
		{"empty theme", []string{"--demo", "--theme="}, 1, "flag --theme needs a theme name", ""},
		// The tests' stdout is not a terminal: the TUI says so rather than
		// drawing into a pipe.
		{"not a terminal", []string{"-r", "testdata/seed-client.pcap"}, 1, "the interactive view needs a terminal", ""},
		// --demo's captures are the seed's three capture points.
		{"demo report", []string{"--demo", "--report", "--theme=mono"}, 0, "", "path: client → fw-inside → fw-outside"},
		{"demo json", []string{"--demo", "--json"}, 0, "", `"capture":"fw-outside"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := runCLI(t, tc.args...)
			if code != tc.code || !strings.Contains(errs, tc.stderr) || !strings.Contains(out, tc.stdout) {
				t.Errorf("exit %d (want %d)\nstderr %q (want %q)\nstdout %q (want %q)", code, tc.code, errs, tc.stderr, out, tc.stdout)
			}
		})
	}
}

var sgr = regexp.MustCompile(`\x1b\[([0-9;:]*)m`)

// colourSGR returns the SGR sequences of s that set a colour.
func colourSGR(s string) []string {
	var out []string
	for _, m := range sgr.FindAllStringSubmatch(s, -1) {
		for _, p := range strings.FieldsFunc(m[1], func(r rune) bool { return r == ';' || r == ':' }) {
			n, _ := strconv.Atoi(p)
			if (n >= 30 && n <= 38) || (n >= 40 && n <= 48) || (n >= 90 && n <= 97) || (n >= 100 && n <= 107) {
				out = append(out, m[0])
				break
			}
		}
	}
	return out
}

// tmuxSession drives the real binary in a detached tmux session of a given
// size, on a private tmux server, as a user over SSH would meet it.
type tmuxSession struct {
	t      *testing.T
	socket string
	name   string
}

func needTmux(t *testing.T) {
	if _, err := exec.LookPath("tmux"); err != nil {
		if os.Getenv("SYNSCOPE_REQUIRE_ROOT") == "1" || os.Getenv("CI") != "" {
			t.Fatal("tmux is required here (SYNSCOPE_REQUIRE_ROOT or CI is set) and is not installed")
		}
		t.Skip("tmux not installed: skipping the test of the real binary in a terminal")
	}
}

func newTmux(t *testing.T, w, h int, env ...string) *tmuxSession {
	s := &tmuxSession{t: t, socket: filepath.Join(t.TempDir(), "tmux.sock"), name: "synscope"}
	args := []string{"new-session", "-d", "-s", s.name, "-x", fmt.Sprint(w), "-y", fmt.Sprint(h)}
	for _, e := range env {
		args = append(args, "-e", e)
	}
	// A plain shell with a known prompt, so that the test can see it come
	// back.
	args = append(args, "env", "PS1=READY$ ", "sh", "-i")
	s.tmux(args...)
	t.Cleanup(func() { exec.Command("tmux", "-S", s.socket, "kill-server").Run() })
	s.waitFor("READY$")
	return s
}

func (s *tmuxSession) tmux(args ...string) string {
	s.t.Helper()
	out, err := exec.Command("tmux", append([]string{"-S", s.socket}, args...)...).CombinedOutput()
	if err != nil {
		s.t.Fatalf("tmux %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func (s *tmuxSession) keys(keys ...string) {
	s.t.Helper()
	s.tmux(append([]string{"send-keys", "-t", s.name}, keys...)...)
}

func (s *tmuxSession) pane() string {
	s.t.Helper()
	return s.tmux("capture-pane", "-t", s.name, "-p")
}

// waitFor waits until the pane shows every string.
func (s *tmuxSession) waitFor(want ...string) string {
	s.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		p := s.pane()
		ok := true
		for _, w := range want {
			ok = ok && strings.Contains(p, w)
		}
		if ok {
			return p
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("the pane never showed %q:\n%s", want, p)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// readmeMatches checks the README's capture of the drill-down against the
// screen.
func readmeMatches(t *testing.T, pane string) {
	t.Helper()
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	i := strings.Index(readme, "Enter opens the drill-down")
	if i < 0 {
		t.Fatal("README has no capture of the drill-down")
	}
	readme = readme[i:]
	start := strings.Index(readme, "```\n") + 4
	end := strings.Index(readme[start:], "\n```")
	if start < 4 || end < 0 {
		t.Fatal("README's capture has no code block")
	}
	if got, want := trimLines(pane), trimLines(readme[start:start+end]); got != want {
		t.Errorf("README's capture of the drill-down differs from the screen:\nREADME:\n%s\nscreen:\n%s", want, got)
	}
}

func trimLines(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	return strings.TrimRight(strings.Join(lines, "\n"), "\n")
}

// TestTmux runs the real binary at 80x24 the way the issue says it will be
// driven: the seed client's capture, the flow marked invalid, Enter, the
// expected and actual ACK, the SYN-ACK's 2 bytes of payload, the client's
// offloaded checksum shown as such, q, and the shell back as it was.
func TestTmux(t *testing.T) {
	needTmux(t)
	bin := filepath.Join(t.TempDir(), "synscope")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	for _, tc := range []struct {
		name    string
		env     []string
		invalid string // how the invalid flow's row starts
	}{
		{"utf8", []string{"LANG=C.UTF-8", "TERM=xterm-256color"}, "✗  1 10.110.233.50:50183 → 172.16.1.1:443 invalid"},
		{"no_color ascii", []string{"LANG=C", "LC_ALL=", "LC_CTYPE=", "TERM=xterm-256color", "NO_COLOR=1"}, "x  1 10.110.233.50:50183 -> 172.16.1.1:443 invalid"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newTmux(t, 80, 24, tc.env...)
			s.keys("clear; "+bin+" -r testdata/seed-client.pcap", "Enter")
			s.waitFor(tc.invalid)
			s.keys("Enter")
			// The packet's decoded layers are read back from the file after
			// the ladder is drawn: wait for them too.
			p := s.waitFor("ACK expected 2180033886 (server ISN+1), got 2180033888 (+2)", "payload 2 bytes on a SYN-ACK")
			if tc.name == "utf8" {
				readmeMatches(t, p)
			}
			s.keys("g", "j") // the SYN-ACK
			s.waitFor("[frame 2]", "payload 2 bytes on a SYN-ACK")
			// NO_COLOR: not one colour escape reaches the terminal; without
			// it, the dark theme's colours do (so the check can fail).
			esc := s.tmux("capture-pane", "-t", s.name, "-p", "-e")
			switch c := colourSGR(esc); {
			case tc.name == "utf8" && len(c) == 0:
				t.Errorf("no colour at all without NO_COLOR:\n%q", esc)
			case tc.name != "utf8" && len(c) > 0:
				t.Errorf("colour escapes with NO_COLOR: %q", c)
			}
			// The client's ACK: its checksum field holds the pseudo-header
			// sum its stack left for the NIC (offload), not a bad one.
			s.keys("j")
			p = s.waitFor("[frame 3]", "checksum 0xa0cc not verifiable (offload)")
			if strings.Contains(p, " bad") {
				t.Errorf("a checksum is shown bad:\n%s", p)
			}
			s.keys("q")
			p = s.waitFor("READY$")
			if strings.Contains(p, "2180033886") || strings.Contains(p, "synscope") && strings.Contains(p, "invalid") {
				t.Errorf("the screen was not restored after q:\n%s", p)
			}
		})
	}
}

// TestTmuxPath runs the real binary at 80x24 on the seed's three captures
// as the capture points of one path: the list has the one connection, seen
// at every point; Enter gives the verdict and the ladder; tab and Enter
// open the firewall's inside flow at the SYN-ACK; w writes the connection
// as one pcapng with an interface per point, which the view opens again as
// the three points; q gives the terminal back.
func TestTmuxPath(t *testing.T) {
	needTmux(t)
	bin := synscopeBinary(t)
	dir := t.TempDir()
	abs := func(name string) string {
		p, err := filepath.Abs(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	s := newTmux(t, 80, 24, "LANG=C.UTF-8", "TERM=xterm-256color")
	s.keys(fmt.Sprintf("cd '%s' && clear && '%s' -r client='%s' -r fw-inside='%s' -r fw-outside='%s'", dir, bin,
		abs("seed-client.pcap"), abs("seed-inside.pcap"), abs("seed-outside.pcap")), "Enter")
	s.waitFor("synscope  1 client → 2 fw-inside → 3 fw-outside", "● ● ● invalid   12 SYN-ACK +2B")
	s.keys("Enter")
	s.waitFor("✗ SYN-ACK grew by 2 bytes between fw-inside and client (IP length 44 → 46, bytes",
		"  00 00: Ethernet padding?)",
		"✗ ACK (frame 3 at fw-inside) never reached fw-outside: dropped on the way; ACK",
		"  2180033888 ≠ server ISN+1 2180033886",
		"▶ 1 client", "46Δ", "✗ dropped")
	s.keys("Tab")
	s.waitFor("▶ 2 fw-inside")
	s.keys("Enter")
	s.waitFor("fw-inside", "[frame 2]", "Ethernet padding 2 bytes (not payload)")
	s.keys("Escape")
	s.waitFor("▶ 2 fw-inside", "tab next point")
	s.keys("w")
	s.waitFor("write connection 1 (3 flows) to client-conn1.pcapng")
	s.keys("Enter")
	s.waitFor("wrote 28 packets of connection 1 (3 flows) to client-conn1.pcapng")
	out := filepath.Join(dir, "client-conn1.pcapng")
	if fi, err := os.Stat(out); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("%s: %v, %v; want mode 0600", out, fi, err)
	}
	r, err := capture.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for ; ; n++ {
		if _, err := r.Next(); err != nil {
			break
		}
	}
	if got := len(r.Interfaces()); got != 3 || n != 28 {
		t.Errorf("%s: %d packets on %d interfaces, want 28 on 3", out, n, got)
	}
	// Each interface is named as the view names its point.
	for i, in := range r.Interfaces() {
		if want := []string{"client", "fw-inside", "fw-outside"}[i]; in.Name != want {
			t.Errorf("%s: interface %d is named %q, want %q", out, i, in.Name, want)
		}
	}
	r.Close()
	s.keys("q")
	if p := s.waitFor("READY$"); strings.Contains(p, "fw-inside") {
		t.Errorf("the screen was not restored after q:\n%s", p)
	}
	// The file written reads back as the three points, in the view as
	// from the command line.
	s.keys("clear; '"+bin+"' -r client-conn1.pcapng", "Enter")
	s.waitFor("synscope  1 client → 2 fw-inside → 3 fw-outside", "● ● ● invalid   12 SYN-ACK +2B")
	s.keys("Enter")
	s.waitFor("✗ ACK (frame 3 at fw-inside) never reached fw-outside: dropped on the way; ACK", "▶ 1 client")
	s.keys("q")
	s.waitFor("READY$")
	// --demo is the same three points.
	if err := os.Remove(out); err != nil {
		t.Fatal(err)
	}
	s.keys("clear; '"+bin+"' --demo", "Enter")
	s.waitFor("synscope  1 client → 2 fw-inside → 3 fw-outside", "● ● ● invalid")
	// Too small, only q acts: w and Enter wrote the connection out of
	// sight, Enter and ? changed the view.
	s.tmux("resize-window", "-t", s.name, "-x", "40", "-y", "12")
	s.waitFor("at least", "40x12")
	s.keys("w")
	s.keys("Enter")
	s.keys("?")
	s.keys("Enter")
	time.Sleep(500 * time.Millisecond)
	s.waitFor("at least", "40x12", "press q to quit")
	if _, err := os.Stat(out); err == nil {
		t.Errorf("%s written while the terminal was too small", out)
	}
	s.tmux("resize-window", "-t", s.name, "-x", "80", "-y", "24")
	s.waitFor("synscope  1 client → 2 fw-inside → 3 fw-outside", "enter open flow")
	s.keys("q")
	s.waitFor("READY$")
}

// TestTmuxDumbTerminal runs the real binary with TERM=dumb, whose colour
// profile shows no attribute at all: not one SGR sequence reaches the
// terminal, so the selection's background and reverse are lost, and every
// row looked the same. The selected row carries the cursor glyph instead,
// in the list and in the ladder, and it moves with the cursor.
func TestTmuxDumbTerminal(t *testing.T) {
	needTmux(t)
	bin := synscopeBinary(t)
	s := newTmux(t, 80, 24, "LANG=C.UTF-8")
	s.keys("clear; TERM=dumb '"+bin+"' -r testdata/seed-client.pcap -r testdata/seed-inside.pcap", "Enter")
	s.waitFor("▶✗  1 10.110.233.50:50183")
	if esc := s.tmux("capture-pane", "-t", s.name, "-p", "-e"); sgr.MatchString(esc) {
		t.Errorf("SGR sequences with TERM=dumb: %q", sgr.FindAllString(esc, -1))
	}
	s.keys("Enter")
	p := s.waitFor("✗ connection 1")
	sel := 0
	for _, l := range strings.Split(p, "\n") {
		if strings.HasPrefix(l, "▶") {
			sel++
		}
	}
	if sel != 1 {
		t.Errorf("%d rows start with the cursor, want 1:\n%s", sel, p)
	}
	s.keys("j")
	s.waitFor("▶→ A")
	s.keys("q")
	s.waitFor("READY$")
}
