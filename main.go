// Command synscope inspects TCP flows in pcap and pcapng captures: it lists
// the connections with their handshake verdicts and says, on one line, what
// went wrong and why a firewall would drop it.
//
//	synscope -r FILE [-r FILE…] [EXPR]            the interactive view
//	synscope --demo                               the seed incident, embedded
//	synscope -r FILE [-r FILE…] --json [EXPR]
//	synscope -r FILE [-r FILE…] --report [EXPR]
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
	"strings"
	"syscall"

	"github.com/charmbracelet/x/term"

	"github.com/synscope/synscope/analysis"
	"github.com/synscope/synscope/analysis/filter"
	"github.com/synscope/synscope/capture"
	"github.com/synscope/synscope/ui"
)

const usage = `usage: synscope -r FILE [-r FILE...] [--json | --report] [--ascii] [--theme NAME] [EXPR]
       synscope --demo

  -r FILE       read a pcap or pcapng capture (gzip allowed); "-" reads stdin
  --demo        read the seed incident's three captures, built into synscope
  --json        one JSON record per flow per line (NDJSON)
  --report      a readable report at 80 columns
                (without --json or --report: the interactive view)
  --ascii       ASCII glyphs and borders only (the interactive view's
                default when the locale is not UTF-8)
  --theme NAME  dark (default), light, high-contrast or mono; NO_COLOR set
                means mono
  EXPR          a packet filter in tcpdump syntax, e.g. 'tcp port 443 and not host 10.0.0.1'

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
	expr      []string
}

// tui reports whether the options ask for the interactive view.
func (o options) tui() bool { return !o.json && !o.report && o.write == "" }

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
			return o, usageError{fmt.Sprintf("unknown flag %q", a)}
		default:
			o.expr = append(o.expr, a)
		}
	}
	switch {
	case o.help:
		return o, nil
	case len(o.files) == 0 && !o.demo:
		return o, usageError{"no capture given: use -r FILE, or --demo"}
	case o.json && o.report:
		return o, usageError{"--json and --report cannot be used together"}
	case o.write != "" && (o.json || o.report):
		return o, usageError{"-w writes a capture; it cannot be combined with --json or --report"}
	case len(o.flows) > 0 && o.write == "":
		return o, usageError{"--flow picks flows to export: add -w FILE"}
	}
	if o.theme != "" {
		if !slices.Contains(ui.ThemeNames(), o.theme) {
			return o, usageError{fmt.Sprintf("unknown theme %q: use %s", o.theme, strings.Join(ui.ThemeNames(), ", "))}
		}
	}
	return o, nil
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
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
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
		sources = append(sources, ui.Source{Name: r.Name(), Reader: r})
	}
	cfg := ui.Config{Sources: sources, Match: match, Theme: o.theme,
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
