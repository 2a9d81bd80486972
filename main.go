// Command synscope inspects TCP flows in pcap and pcapng captures: it lists
// the connections with their handshake verdicts and says, on one line, what
// went wrong and why a firewall would drop it.
//
//	synscope -r FILE [-r FILE…] [EXPR]            the interactive view
//	synscope --demo                               the seed incident, embedded
//	synscope -r FILE [-r FILE…] --json [EXPR]
//	synscope -r FILE [-r FILE…] --report [EXPR]
//	synscope -i IFACE [EXPR]                      the interactive view, live
//	synscope -i IFACE --json|--report [-c N] [--duration D] [-w FILE] [EXPR]
//
// EXPR is a packet filter in tcpdump syntax. Exit status: 0 when all went
// well, 1 when an input could not be read (or was read only up to damage),
// 2 on a usage error.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/charmbracelet/x/term"

	"github.com/synscope/synscope/analysis"
	"github.com/synscope/synscope/analysis/filter"
	"github.com/synscope/synscope/capture"
	"github.com/synscope/synscope/ui"
)

const usage = `usage: synscope -r FILE [-r FILE...] [--json | --report] [--ascii] [--theme NAME]
                [--max-flows N] [EXPR]
       synscope --demo
       synscope -i IFACE [--json | --report] [-w FILE] [-c COUNT] [--duration D]
                [-s SNAPLEN] [-p] [-B KIB] [-Z USER] [--spool DIR]
                [--spool-size SIZE] [--keep-spool] [-n] [EXPR]

  -r FILE       read a pcap or pcapng capture (gzip allowed); "-" reads stdin
  --demo        read the seed incident's three captures, built into synscope
  --json        one JSON record per flow per line (NDJSON)
  --report      a readable report at 80 columns
                (without --json or --report: the interactive view)
  --ascii       ASCII glyphs and borders only (the interactive view's
                default when the locale is not UTF-8)
  --theme NAME  dark (default), light, high-contrast or mono; NO_COLOR set
                means mono
  --max-flows N keep at most N flows at once (default 0: sized to a quarter
                of the memory); past it the flows idle the longest are
                evicted, clean ones first, and counted
  EXPR          a packet filter in tcpdump syntax, e.g. 'tcp port 443 and not host 10.0.0.1'

live capture (needs root or CAP_NET_RAW; without --json, --report or -w:
the interactive view, q quits; else it stops after COUNT packets, after D,
or on ctrl-c, SIGTERM or SIGHUP, then prints as for a file):
  -i IFACE      capture on IFACE ("any": every interface)
  -c COUNT      stop after COUNT packets that match EXPR
  --duration D  stop after D (e.g. 30s, 5m; a bare number is seconds)
  -s SNAPLEN    keep at most SNAPLEN bytes of each packet (0: 262144)
  -p            do not put the interface in promiscuous mode
  -B KIB        kernel capture buffer in KiB (default 32768)
  -Z USER       drop root for USER once the capture is open
  -w FILE       also save the captured packets to FILE (.pcapng or .pcap)
  --spool DIR   keep live packets in a private directory under DIR
                (default $TMPDIR), removed at exit unless --keep-spool
  --spool-size SIZE  bound the spool, oldest packets rotated out
                (default 256M; K, M, G suffixes)
  -n            accepted for tcpdump's habit: synscope never resolves names

exit status: 0 all went well, 1 an input could not be read, 2 usage error
`

// options are the parsed command line.
type options struct {
	files     []string
	write     string // -w: export flows to this file
	flows     []int  // --flow: the flows to export
	overwrite bool   // --overwrite: -w may replace an existing file
	demo      bool
	json      bool
	report    bool
	ascii     bool
	theme     string
	help      bool
	maxFlows  int // --max-flows; 0: analysis.DefaultMaxFlows
	expr      []string
	live      liveOptions // -i and the flags that go with it
}

// liveOptions are the live-capture flags.
type liveOptions struct {
	iface     string        // -i
	count     int           // -c; 0: no limit
	duration  time.Duration // --duration; 0: no limit
	snaplen   int           // -s; 0: the default
	noPromisc bool          // -p
	bufferKiB int           // -B; 0: the default
	user      string        // -Z
	spoolDir  string        // --spool
	spoolSize int64         // --spool-size; 0: the default
	keepSpool bool          // --keep-spool
	set       []string      // live-only flags given, for the usage errors
}

// tui reports whether the options ask for the interactive view.
func (o options) tui() bool { return !o.json && !o.report && o.write == "" }

// flagValue returns the value of a flag that takes one: the next word
// (-c 5) or, for a one-letter flag, the rest of this one (-c5).
func flagValue(args []string, i *int, flag, what string) (string, error) {
	a := args[*i]
	if len(a) > len(flag) && strings.HasPrefix(a, flag) {
		return strings.TrimPrefix(a[len(flag):], "="), nil
	}
	if *i+1 >= len(args) {
		return "", usageError{"flag " + flag + " needs " + what}
	}
	*i++
	return args[*i], nil
}

// liveFlag parses the live-capture flag args[*i], if it is one.
func (o *options) liveFlag(args []string, i *int) (bool, error) {
	a := args[*i]
	short := func(f string) bool {
		return a == f || len(a) > 2 && strings.HasPrefix(a, f) && !strings.HasPrefix(a, "--")
	}
	long := func(f string) bool { return a == f || strings.HasPrefix(a, f+"=") }
	num := func(flag, v string, lo int) (int, error) {
		n, err := strconv.Atoi(v)
		if err != nil || n < lo {
			return 0, usageError{fmt.Sprintf("flag %s: %q is not a number of %d or more", flag, v, lo)}
		}
		return n, nil
	}
	var err error
	var v string
	switch {
	case a == "-i" || a == "--interface" || strings.HasPrefix(a, "--interface=") || short("-i"):
		flag := "-i"
		if strings.HasPrefix(a, "--") {
			flag = "--interface"
		}
		if v, err = flagValue(args, i, flag, "an interface name (or any)"); err == nil {
			if v == "" {
				err = usageError{"flag -i needs an interface name (or any)"}
			}
			o.live.iface = v
		}
		return true, err
	case short("-c"):
		if v, err = flagValue(args, i, "-c", "a packet count"); err == nil {
			o.live.count, err = num("-c", v, 1)
		}
	case long("--duration"):
		if v, err = flagValue(args, i, "--duration", "a duration, e.g. 30s"); err == nil {
			o.live.duration, err = parseDuration(v)
		}
	case short("-s"):
		if v, err = flagValue(args, i, "-s", "a snapshot length in bytes"); err == nil {
			o.live.snaplen, err = num("-s", v, 0)
		}
	case short("-B"):
		if v, err = flagValue(args, i, "-B", "a buffer size in KiB"); err == nil {
			o.live.bufferKiB, err = num("-B", v, 1)
			if err == nil && o.live.bufferKiB > 1<<30 {
				err = usageError{fmt.Sprintf("flag -B: %d KiB is too large", o.live.bufferKiB)}
			}
		}
	case short("-Z"):
		if v, err = flagValue(args, i, "-Z", "a user name"); err == nil {
			o.live.user = v
		}
	case long("--spool"):
		if v, err = flagValue(args, i, "--spool", "a directory"); err == nil {
			o.live.spoolDir = v
		}
	case long("--spool-size"):
		if v, err = flagValue(args, i, "--spool-size", "a size, e.g. 512M"); err == nil {
			o.live.spoolSize, err = parseSize(v)
		}
	case a == "--keep-spool":
		o.live.keepSpool = true
	case a == "-p":
		o.live.noPromisc = true
	case len(a) >= 2 && a[0] == '-' && strings.Trim(a[1:], "np") == "":
		// -n, -nn, -pn...: -n is accepted anywhere (synscope never
		// resolves names); -p goes with -i.
		if strings.Contains(a, "p") {
			o.live.noPromisc = true
			o.live.set = append(o.live.set, "-p")
		}
		return true, nil
	default:
		return false, nil
	}
	name := a[:2]
	if strings.HasPrefix(a, "--") {
		name, _, _ = strings.Cut(a, "=")
	}
	o.live.set = append(o.live.set, name)
	return true, err
}

// parseDuration reads --duration: a Go duration (30s, 1m30s) or a bare
// number of seconds.
func parseDuration(v string) (time.Duration, error) {
	d, err := time.ParseDuration(v)
	if err != nil {
		f, ferr := strconv.ParseFloat(v, 64)
		if ferr != nil {
			return 0, usageError{fmt.Sprintf("--duration %q: not a duration (e.g. 30s, 5m, 1h)", v)}
		}
		d = time.Duration(f * float64(time.Second))
	}
	if d <= 0 {
		return 0, usageError{fmt.Sprintf("--duration %q: must be more than zero", v)}
	}
	return d, nil
}

// parseSize reads --spool-size: bytes, or with a K, M, G or T suffix
// (powers of 1024; KB, KiB, MB, MiB... are read the same).
func parseSize(v string) (int64, error) {
	s := strings.ToUpper(strings.TrimSpace(v))
	s = strings.TrimSuffix(strings.TrimSuffix(s, "B"), "I")
	mult := int64(1)
	if n := len(s); n > 0 {
		switch s[n-1] {
		case 'K':
			mult = 1 << 10
		case 'M':
			mult = 1 << 20
		case 'G':
			mult = 1 << 30
		case 'T':
			mult = 1 << 40
		}
		if mult > 1 {
			s = s[:n-1]
		}
	}
	n, err := strconv.ParseFloat(s, 64)
	if err != nil || n <= 0 || n*float64(mult) > 1<<50 {
		return 0, usageError{fmt.Sprintf("--spool-size %q: not a size (e.g. 512M, 2G)", v)}
	}
	return int64(n * float64(mult)), nil
}

// parseMaxFlows reads --max-flows: a number of flows, 0 for the default
// (analysis.DefaultMaxFlows, sized to the machine's memory).
func parseMaxFlows(v string) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, usageError{fmt.Sprintf("flag --max-flows: %q is not a number of flows (0 or more; 0: sized to memory)", v)}
	}
	return n, nil
}

// evictedNote says how many flows were evicted to stay within
// --max-flows: they are in no record and no report.
func evictedNote(res *analysis.Result) string {
	return fmt.Sprintf("%d flow%s evicted to stay within %d flows at once (--max-flows): the flows idle the longest, without findings first; the output leaves them out",
		res.Evicted, plural(int(res.Evicted)), res.MaxFlows)
}

// usageError is a mistake on the command line: exit status 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// parseArgs reads the command line the way tcpdump users expect: flags
// first, then the filter expression as the remaining words.
func parseArgs(args []string) (options, error) {
	var o options
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			o.expr = append(o.expr, args[i+1:]...)
			return o, nil
		case a == "-r" || a == "--read":
			if i+1 >= len(args) {
				return o, usageError{"flag " + a + " needs a file name"}
			}
			i++
			o.files = append(o.files, args[i])
		case strings.HasPrefix(a, "-r") && !strings.HasPrefix(a, "--"):
			o.files = append(o.files, a[2:])
		case a == "-w" || a == "--write":
			if i+1 >= len(args) {
				return o, usageError{"flag " + a + " needs a file name"}
			}
			i++
			o.write = args[i]
		case a == "--flow" || a == "--flows":
			if i+1 >= len(args) {
				return o, usageError{"flag " + a + " needs flow ids, e.g. 3 or 3,5 or 3-7"}
			}
			i++
			ids, err := parseFlowIDs(args[i])
			if err != nil {
				return o, usageError{err.Error()}
			}
			o.flows = append(o.flows, ids...)
		case a == "--overwrite":
			o.overwrite = true
		case a == "--max-flows" || strings.HasPrefix(a, "--max-flows="):
			v, err := flagValue(args, &i, "--max-flows", "a number of flows")
			if err != nil {
				return o, err
			}
			if o.maxFlows, err = parseMaxFlows(v); err != nil {
				return o, err
			}
		case a == "--json" || a == "-json":
			o.json = true
		case a == "--report" || a == "-report":
			o.report = true
		case a == "--ascii" || a == "-ascii":
			o.ascii = true
		case a == "--demo" || a == "-demo":
			o.demo = true
		case a == "--theme" || a == "-theme":
			if i+1 >= len(args) {
				return o, usageError{"flag " + a + " needs a theme name: " + strings.Join(ui.ThemeNames(), ", ")}
			}
			i++
			o.theme = args[i]
		case strings.HasPrefix(a, "--theme="):
			o.theme = strings.TrimPrefix(a, "--theme=")
		case a == "-h" || a == "--help" || a == "-help":
			o.help = true
		case strings.HasPrefix(a, "-") && a != "-" && len(o.expr) == 0:
			if ok, err := o.liveFlag(args, &i); ok || err != nil {
				if err != nil {
					return o, err
				}
				continue
			}
			return o, usageError{fmt.Sprintf("unknown flag %q", a)}
		default:
			o.expr = append(o.expr, a)
		}
	}
	if o.help {
		return o, nil
	}
	if o.live.iface != "" {
		return o, o.checkLive()
	}
	switch {
	case len(o.live.set) > 0:
		return o, usageError{fmt.Sprintf("%s is a live-capture flag: add -i IFACE", o.live.set[0])}
	case len(o.files) == 0 && !o.demo:
		return o, usageError{"no capture given: use -r FILE, or --demo, or -i IFACE"}
	case o.json && o.report:
		return o, usageError{"--json and --report cannot be used together"}
	case o.write != "" && (o.json || o.report):
		return o, usageError{"-w writes a capture; it cannot be combined with --json or --report"}
	case len(o.flows) > 0 && o.write == "":
		return o, usageError{"--flow picks flows to export: add -w FILE"}
	}
	return o, o.checkTheme()
}

func (o options) checkTheme() error {
	if o.theme != "" && !slices.Contains(ui.ThemeNames(), o.theme) {
		return usageError{fmt.Sprintf("unknown theme %q: use %s", o.theme, strings.Join(ui.ThemeNames(), ", "))}
	}
	return nil
}

// checkLive checks the flags that go with -i.
func (o options) checkLive() error {
	switch {
	case len(o.files) > 0 || o.demo:
		return usageError{"-i captures live; it cannot be combined with -r or --demo"}
	case o.json && o.report:
		return usageError{"--json and --report cannot be used together"}
	case len(o.flows) > 0:
		return usageError{"--flow picks flows of a capture file; with -i, give a filter EXPR"}
	}
	return o.checkTheme()
}

// input is one capture to read: a file, standard input, or an embedded
// demo capture.
type input struct {
	name string
	open func() (*capture.Reader, error)
}

// inputs lists the captures the options name, in order.
func (o options) inputs() []input {
	var ins []input
	for _, arg := range o.files {
		name, path := splitLabel(arg)
		ins = append(ins, input{name: name, open: func() (*capture.Reader, error) { return capture.Open(path) }})
	}
	if o.demo {
		ins = append(ins, demoInputs()...)
	}
	return ins
}

// splitLabel reads -r NAME=FILE, which labels a capture point; a file whose
// own name holds '=' is read as it is.
func splitLabel(arg string) (name, path string) {
	label, file, ok := strings.Cut(arg, "=")
	if !ok || label == "" || file == "" || strings.ContainsRune(label, '/') {
		return arg, arg
	}
	if _, err := os.Stat(arg); err == nil {
		return arg, arg
	}
	return label, file
}

func main() {
	// A reader that goes away (synscope --json | head -1) makes writes to
	// stdout fail with EPIPE, which ends the run quietly (writeFailed),
	// instead of the runtime killing the process by SIGPIPE.
	signal.Ignore(syscall.SIGPIPE)
	stopProfile := startProfile()
	code := run(os.Args[1:], os.Stdout, os.Stderr)
	stopProfile()
	os.Exit(code)
}

// run is main without the process: it returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	o, err := parseArgs(args)
	if err != nil {
		fmt.Fprintf(stderr, "synscope: %s\n%s", ui.Safe(err.Error(), false), usage)
		return 2
	}
	if o.help {
		fmt.Fprint(stdout, usage)
		return 0
	}
	match, err := compileFilter(o.expr)
	if err != nil {
		fmt.Fprintf(stderr, "synscope: %s\n", ui.Safe(err.Error(), false))
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()

	if o.live.iface != "" && o.tui() {
		return runLiveTUI(ctx, o, match, stdout, stderr)
	}
	if o.live.iface != "" {
		return runLive(ctx, o, match, stdout, stderr)
	}
	if o.tui() {
		return runTUI(ctx, o, match, stdout, stderr)
	}
	return runHeadless(ctx, o, match, stdout, stderr)
}

// runTUI opens every capture, failing before the terminal is taken over
// when one cannot be opened, and runs the interactive view. A capture read
// only up to damage makes the exit status 1, as for --report.
func runTUI(ctx context.Context, o options, match func(*analysis.Packet) bool, stdout, stderr io.Writer) int {
	if f, ok := stdout.(*os.File); !ok || !term.IsTerminal(f.Fd()) {
		fmt.Fprintf(stderr, "synscope: the interactive view needs a terminal: add --report or --json\n")
		return 2
	}
	var sources []ui.Source
	defer func() {
		for _, s := range sources {
			s.Reader.Close()
		}
	}()
	for _, in := range o.inputs() {
		r, err := in.open()
		if err != nil {
			fmt.Fprintf(stderr, "synscope: %s\n", ui.Safe(err.Error(), o.ascii))
			return 1
		}
		// Several captures are the points of a path, named by their
		// labels (-r NAME=FILE) or as given, as in the report.
		name := in.name
		if name == "-" {
			name = r.Name()
		}
		sources = append(sources, ui.Source{Name: name, Reader: r})
	}
	cfg := ui.Config{Sources: sources, Match: match, MaxFlows: o.maxFlows, Theme: o.theme,
		ASCII: o.ascii || !ui.LocaleIsUTF8(), NoColor: os.Getenv("NO_COLOR") != ""}
	if err := ui.Run(ctx, cfg); err != nil {
		for _, line := range strings.Split(err.Error(), "\n") {
			fmt.Fprintf(stderr, "synscope: %s\n", ui.Safe(line, o.ascii))
		}
		return 1
	}
	return 0
}

// writeFailed reports a failed write to stdout. A closed pipe (synscope …
// | head) is not an error worth a word.
func writeFailed(stderr io.Writer, err error) int {
	if errors.Is(err, syscall.EPIPE) {
		return 0
	}
	fmt.Fprintf(stderr, "synscope: writing output: %v\n", err)
	return 1
}

// compileFilter parses the trailing words as a tcpdump-syntax filter.
func compileFilter(words []string) (func(*analysis.Packet) bool, error) {
	if len(words) == 0 {
		return nil, nil
	}
	e, err := filter.ParseArgs(words)
	if err != nil {
		return nil, err
	}
	return analysis.Matcher(e), nil
}
