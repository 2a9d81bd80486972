// Command synscope inspects TCP flows in pcap and pcapng captures: it lists
// the connections with their handshake verdicts and says, on one line, what
// went wrong and why a firewall would drop it.
//
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
	"strings"
	"syscall"

	"github.com/synscope/synscope/analysis"
	"github.com/synscope/synscope/analysis/filter"
	"github.com/synscope/synscope/capture"
	"github.com/synscope/synscope/ui"
)

const usage = `usage: synscope -r FILE [-r FILE...] (--json | --report) [--ascii] [EXPR]

  -r FILE     read a pcap or pcapng capture (gzip allowed); "-" reads stdin
  --json      one JSON record per flow per line (NDJSON)
  --report    a readable report at 80 columns
  --ascii     ASCII glyphs only
  EXPR        a packet filter in tcpdump syntax, e.g. 'tcp port 443 and not host 10.0.0.1'

exit status: 0 all went well, 1 an input could not be read, 2 usage error
`

// options are the parsed command line.
type options struct {
	files  []string
	json   bool
	report bool
	ascii  bool
	help   bool
	expr   []string
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
		case a == "--json" || a == "-json":
			o.json = true
		case a == "--report" || a == "-report":
			o.report = true
		case a == "--ascii" || a == "-ascii":
			o.ascii = true
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
	case len(o.files) == 0:
		return o, usageError{"no capture given: use -r FILE"}
	case o.json && o.report:
		return o, usageError{"--json and --report cannot be used together"}
	case !o.json && !o.report:
		return o, usageError{"the interactive view is not built yet: add --report or --json"}
	}
	return o, nil
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

	status := 0
	var results []*analysis.Result
	for _, name := range o.files {
		res, err := analyzeFile(ctx, name, match)
		if err != nil {
			fmt.Fprintf(stderr, "synscope: %s\n", ui.Safe(err.Error(), false))
			status = 1
		}
		if res == nil {
			continue
		}
		results = append(results, res)
		if o.json {
			if err := res.WriteJSON(stdout); err != nil {
				return writeFailed(stderr, err)
			}
		}
		if ctx.Err() != nil {
			break
		}
	}
	if o.report {
		if err := ui.WriteReport(stdout, results, ui.ReportOptions{ASCII: o.ascii}); err != nil {
			return writeFailed(stderr, err)
		}
	}
	return status
}

// analyzeFile reads one capture. A file that cannot be opened gives a nil
// result; a damaged one gives what was read before the damage, and the
// error.
func analyzeFile(ctx context.Context, name string, match func(*analysis.Packet) bool) (*analysis.Result, error) {
	r, err := capture.Open(name)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return analysis.Run(ctx, r, analysis.Config{Name: name, Match: match})
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
