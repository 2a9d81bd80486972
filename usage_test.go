package main

import (
	"bytes"
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// acceptedFlags returns the flags parseArgs and liveFlag match, read from
// main.go's source: every string literal in the case expressions of their
// switches that looks like a flag (-r, --read, --theme=...).
func acceptedFlags(t *testing.T) []string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "main.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	isFlag := regexp.MustCompile(`^--?[A-Za-z][A-Za-z-]*=?$`)
	var flags []string
	for _, d := range f.Decls {
		fn, ok := d.(*ast.FuncDecl)
		if !ok || fn.Name.Name != "parseArgs" && fn.Name.Name != "liveFlag" {
			continue
		}
		ast.Inspect(fn.Body, func(n ast.Node) bool {
			cc, ok := n.(*ast.CaseClause)
			if !ok {
				return true
			}
			for _, e := range cc.List {
				ast.Inspect(e, func(n ast.Node) bool {
					if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
						s, _ := strconv.Unquote(lit.Value)
						if isFlag.MatchString(s) && !slices.Contains(flags, strings.TrimSuffix(s, "=")) {
							flags = append(flags, strings.TrimSuffix(s, "="))
						}
					}
					return true
				})
			}
			return true
		})
	}
	return flags
}

// TestUsageListsEveryFlag keeps --help and the parser together: every
// flag the parser accepts is in the usage, and every flag the usage names
// is accepted. --flow, -w with -r and --overwrite were once accepted but
// missing from --help.
func TestUsageListsEveryFlag(t *testing.T) {
	flags := acceptedFlags(t)
	// The source reading must find the flags, or the test proves nothing.
	for _, want := range []string{"-r", "--read", "-w", "--write", "--flow", "--flows", "--overwrite", "-i", "--interface", "-c", "-Z", "--keep-spool", "-n", "-p", "--max-flows", "-json", "-h", "--help"} {
		if !slices.Contains(flags, want) {
			t.Errorf("no %s among the flags read from main.go: %q", want, flags)
		}
	}
	for _, f := range flags {
		// A flag, not a prefix of a longer word: -r is in "-r FILE", not in "-report".
		re := regexp.MustCompile(`(^|[\s\[(|,])` + regexp.QuoteMeta(f) + `($|[^A-Za-z-])`)
		if !re.MatchString(usage) {
			t.Errorf("%s is accepted but not in the usage", f)
		}
	}
	named := regexp.MustCompile(`(?:^|[\s\[(|,])(--?[A-Za-z][A-Za-z-]*)`).FindAllStringSubmatch(usage, -1)
	if len(named) < len(flags) {
		t.Errorf("the usage names %d flags, fewer than the %d accepted", len(named), len(flags))
	}
	for _, m := range named {
		if _, err := parseArgs([]string{m[1], "1"}); err != nil && strings.Contains(err.Error(), "unknown flag") {
			t.Errorf("the usage names %s, which is not accepted: %v", m[1], err)
		}
	}
	for i, line := range strings.Split(usage, "\n") {
		if n := len([]rune(line)); n > 80 {
			t.Errorf("usage line %d is %d columns: %q", i+1, n, line)
		}
	}
}

// TestFlagForms: a value follows its flag as the next word, after "=", or
// glued to a one-letter flag; single-dash long flags are the double-dash
// ones.
func TestFlagForms(t *testing.T) {
	for _, args := range [][]string{
		{"-r", "a.pcap", "-w", "o.pcapng", "--flow", "3", "--theme", "mono", "--max-flows", "9"},
		{"--read=a.pcap", "--write=o.pcapng", "--flow=3", "--theme=mono", "--max-flows=9"},
		{"--read", "a.pcap", "--write", "o.pcapng", "--flows", "3", "-theme", "mono", "--max-flows", "9"},
		{"-ra.pcap", "-wo.pcapng", "--flows=3", "-theme=mono", "--max-flows=9"},
	} {
		o, err := parseArgs(args)
		if err != nil {
			t.Errorf("%q: %v", args, err)
			continue
		}
		if !slices.Equal(o.files, []string{"a.pcap"}) || o.write != "o.pcapng" || !slices.Equal(o.flows, []int{3}) || o.theme != "mono" || o.maxFlows != 9 {
			t.Errorf("%q: parsed files %q, write %q, flows %v, theme %q, max-flows %d", args, o.files, o.write, o.flows, o.theme, o.maxFlows)
		}
	}
	// -report was once read as -r eport.
	o, err := parseArgs([]string{"-r", "a.pcap", "-report", "-ascii"})
	if err != nil || !o.report || !o.ascii || !slices.Equal(o.files, []string{"a.pcap"}) {
		t.Errorf("-report -ascii: %+v, %v", o, err)
	}
	o, err = parseArgs([]string{"-demo", "-json"})
	if err != nil || !o.demo || !o.json {
		t.Errorf("-demo -json: %+v, %v", o, err)
	}
	// "--" ends the flags, and the checks still apply.
	if _, err := parseArgs([]string{"--", "port", "80"}); err == nil || !strings.Contains(err.Error(), "no capture given") {
		t.Errorf("-- port 80: %v, want no capture given", err)
	}
}

// runBinary runs the built synscope and returns its exit status, stdout
// and stderr.
func runBinary(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(synscopeBinary(t), args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, out.String(), errb.String()
	case errors.As(err, &ee) && ee.Exited():
		return ee.ExitCode(), out.String(), errb.String()
	}
	t.Fatalf("synscope %q: %v", args, err)
	return -1, "", ""
}

// TestCommandLineErrors runs the binary on mistakes on the command line:
// each gets exit status 1 and one line on stderr naming the flag or file
// and what is wrong, with nothing on stdout. The usage used to follow the
// line (some 40 lines, pushing it off the screen) with exit status 2.
func TestCommandLineErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	exists := filepath.Join(dir, "exists.pcap")
	if err := os.WriteFile(exists, []byte("keep me"), 0o600); err != nil {
		t.Fatal(err)
	}
	seed := "testdata/seed-client.pcap"
	cases := []struct {
		name   string
		args   []string
		stderr string // the whole of it
	}{
		{"unknown flag", []string{"-r", seed, "--bogus"}, "synscope: unknown flag --bogus (synscope --help lists the flags)\n"},
		{"flow 0", []string{"-r", seed, "--flow", "0", "-w", filepath.Join(dir, "x.pcap")}, "synscope: --flow \"0\": \"0\" is not a flow id (1, 2, 3…)\n"},
		{"flow without -w", []string{"-r", seed, "--flow", "1"}, "synscope: --flow picks flows to export: add -w FILE\n"},
		{"overwrite without -w", []string{"-r", seed, "--overwrite", "--report"}, "synscope: --overwrite lets -w replace an existing file: add -w FILE\n"},
		{"live overwrite without -w", []string{"-i", "lo", "--overwrite", "--report"}, "synscope: --overwrite lets -w replace an existing file: add -w FILE\n"},
		{"-w twice", []string{"-r", seed, "-w", filepath.Join(dir, "a.pcap"), "-w", filepath.Join(dir, "b.pcap")},
			"synscope: flag -w given twice (" + filepath.Join(dir, "a.pcap") + ", then " + filepath.Join(dir, "b.pcap") + "): give it once\n"},
		{"-i twice", []string{"-i", "lo", "--interface", "eth0", "--report"}, "synscope: flag -i given twice (lo, then eth0): give it once\n"},
		{"-c twice", []string{"-i", "lo", "-c", "5", "-c1", "--report"}, "synscope: flag -c given twice (5, then 1): give it once\n"},
		{"demo and -r", []string{"--demo", "-r", seed, "--report"}, "synscope: --demo reads the built-in incident's three captures; it cannot be combined with -r\n"},
		{"theme", []string{"--demo", "--theme", "neon"}, "synscope: --theme neon: no such theme: use dark, light, high-contrast, mono\n"},
		{"-c 0", []string{"-i", "lo", "--json", "-c", "0"}, "synscope: flag -c: \"0\" is not a number of 1 or more\n"},
		{"-r without a file", []string{"--json", "-r"}, "synscope: flag -r needs a file name\n"},
		{"no capture", nil, "synscope: no capture given: use -r FILE, or --demo, or -i IFACE (synscope --help lists the flags)\n"},
		{"no terminal", []string{"-r", seed}, "synscope: the interactive view needs a terminal: add --report or --json\n"},
		{"-w gzip", []string{"-r", seed, "-w", filepath.Join(dir, "out.pcap.gz")},
			"synscope: -w " + filepath.Join(dir, "out.pcap.gz") + ": cannot write a compressed (.gz) capture: name it .pcapng or .pcap, and compress it afterwards\n"},
		{"-w stdout", []string{"-r", seed, "-w", "-"}, "synscope: -w -: synscope writes captures to files, not to standard output: give a file name (./- for a file named -)\n"},
		{"-w exists", []string{"-r", seed, "-w", exists}, "synscope: -w " + exists + ": already exists; choose another name, or add --overwrite\n"},
		{"-w pcap of several captures", []string{"--demo", "-w", filepath.Join(dir, "demo.pcap")},
			"synscope: -w " + filepath.Join(dir, "demo.pcap") + ": the packets of 3 captures go into a pcapng file (one interface per capture): name it .pcapng\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := runBinary(t, tc.args...)
			if code != 1 || errs != tc.stderr || out != "" {
				t.Errorf("synscope %q: exit %d, stderr %q, stdout %q; want 1, %q and nothing", tc.args, code, errs, out, tc.stderr)
			}
		})
	}
	// A filter's message comes from the filter package; it is one line,
	// prefixed, with status 1.
	code, out, errs := runBinary(t, "-r", seed, "--json", "tcp", "port")
	if code != 1 || !strings.HasPrefix(errs, "synscope: filter: ") || strings.Count(errs, "\n") != 1 || out != "" {
		t.Errorf("bad filter: exit %d, stderr %q, stdout %q", code, errs, out)
	}
	if b, _ := os.ReadFile(exists); string(b) != "keep me" {
		t.Errorf("the existing file was changed: %q", b)
	}
	for _, name := range []string{"out.pcap.gz", "x.pcap", "demo.pcap"} {
		if _, err := os.Lstat(filepath.Join(dir, name)); err == nil {
			t.Errorf("%s was written", name)
		}
	}
	if _, err := os.Lstat("-"); err == nil {
		t.Errorf("-w - wrote a file named -")
	}
}

// TestHelp: -h and --help print the usage on stdout, exit status 0.
func TestHelp(t *testing.T) {
	t.Parallel()
	for _, flag := range []string{"-h", "--help", "-help"} {
		code, out, errs := runBinary(t, flag)
		if code != 0 || out != usage || errs != "" {
			t.Errorf("%s: exit %d, stderr %q, stdout starts %.40q", flag, code, errs, out)
		}
	}
}

// TestLiveCommandLineErrors: the mistakes found once the capture is open
// (it needs root): an unknown -Z user, a -w file that exists.
func TestLiveCommandLineErrors(t *testing.T) {
	requireLiveRoot(t)
	t.Parallel()
	exists := filepath.Join(t.TempDir(), "exists.pcapng")
	if err := os.WriteFile(exists, []byte("keep me"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args   []string
		stderr string
	}{
		{[]string{"-i", "lo", "--json", "-c", "1", "-Z", "synscope-no-such-user"}, "synscope: -Z synscope-no-such-user: no such user\n"},
		{[]string{"-i", "lo", "--json", "-c", "1", "-w", exists}, "synscope: -w " + exists + ": already exists; choose another name, or add --overwrite\n"},
	} {
		code, out, errs := runBinary(t, tc.args...)
		if code != 1 || errs != tc.stderr || out != "" {
			t.Errorf("synscope %q: exit %d, stderr %q, stdout %q; want 1, %q and nothing", tc.args, code, errs, out, tc.stderr)
		}
	}
	if b, _ := os.ReadFile(exists); string(b) != "keep me" {
		t.Errorf("the existing file was changed: %q", b)
	}
}

// TestExportNames: -w writes pcapng for a .pcapng name, in any case, and
// pcap for any other name; --overwrite replaces a file.
func TestExportNames(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name  string
		magic []byte
	}{
		{"a.pcapng", []byte{0x0a, 0x0d, 0x0d, 0x0a}},
		{"A.PCAPNG", []byte{0x0a, 0x0d, 0x0d, 0x0a}},
		{"a.pcap", []byte{0xd4, 0xc3, 0xb2, 0xa1}},
		{"a.cap", []byte{0xd4, 0xc3, 0xb2, 0xa1}},
		{"case.txt", []byte{0xd4, 0xc3, 0xb2, 0xa1}},
	} {
		out := filepath.Join(dir, tc.name)
		code, stdout, errs := runCLI(t, "-r", "testdata/seed-client.pcap", "-w", out)
		b, _ := os.ReadFile(out)
		if code != 0 || errs != "" || !strings.Contains(stdout, "wrote 12 packets of 1 flow") || !bytes.HasPrefix(b, tc.magic) {
			t.Errorf("-w %s: exit %d, stderr %q, stdout %q, file starts % x; want % x", tc.name, code, errs, stdout, b[:min(4, len(b))], tc.magic)
		}
	}
	// --overwrite replaces a file, which is refused without it.
	out := filepath.Join(dir, "a.pcap")
	if err := os.WriteFile(out, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, errs := runCLI(t, "-r", "testdata/seed-client.pcap", "-w", out, "--overwrite"); code != 0 || errs != "" {
		t.Errorf("--overwrite over a file: exit %d, stderr %q", code, errs)
	}
	if b, _ := os.ReadFile(out); !bytes.HasPrefix(b, []byte{0xd4, 0xc3, 0xb2, 0xa1}) {
		t.Errorf("--overwrite left % x", b[:min(4, len(b))])
	}
}
