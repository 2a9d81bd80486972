// Command synscope inspects TCP flows in pcap and pcapng captures: it lists
// the connections with their handshake verdicts and says, on one line, what
// went wrong and why a firewall would drop it.
//
//	synscope -r FILE [-r FILE…] [EXPR]            the interactive view
//	synscope --demo                               the seed incident, embedded
//	synscope -r FILE [-r FILE…] --json [EXPR]
//	synscope -r FILE [-r FILE…] --report [EXPR]
//	synscope -r FILE [-r FILE…] -w OUT [EXPR], or -r FILE -w OUT --flow IDS
//	synscope -i IFACE [EXPR]                      the interactive view, live
//	synscope -i IFACE --json|--report [-c N] [--duration D] [-w FILE] [EXPR]
//
// EXPR is a packet filter in tcpdump syntax. Exit status: 0 when all went
// well, 1 otherwise: a mistake on the command line, an input that could
// not be read (or was read only up to damage), an output that could not be
// written. Each says why on one line of stderr.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
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

// usage is what --help prints. TestUsageListsEveryFlag checks that every
// flag parseArgs and liveFlag accept is in it, and that every flag in it is
// accepted.
const usage = `usage: synscope -r FILE [-r FILE...] [--report | --json] [EXPR]
       synscope -r FILE [-r FILE...] -w OUT [--overwrite] [EXPR]
       synscope -r FILE -w OUT --flow IDS [--overwrite]
       synscope --demo [--report | --json | -w OUT]
       synscope -i IFACE [--report | --json] [-w OUT] [-c COUNT] [--duration D]
                [-s SNAPLEN] [-p] [-B KIB] [-Z USER] [--spool DIR]
                [--spool-size SIZE] [--keep-spool] [EXPR]
       synscope -h | --help
Without --report, --json or -w: the interactive view (q quits).

input:
  -r, --read FILE     read a pcap or pcapng capture (gzip allowed); "-" reads
                      stdin; several -r are capture points along one path,
                      client side first; -r NAME=FILE names a point; a
                      pcapng that -w wrote of several points is those points
  --demo              read the seed incident's three captures, built in
  -i, --interface IFACE
                      capture live on IFACE ("any": every interface); see
                      live capture below
  EXPR                a packet filter in tcpdump syntax, after the flags,
                      e.g. 'tcp port 443 and not host 10.0.0.1'

output:
  --report            a readable report at 80 columns
  --json              one JSON record per flow per line (NDJSON)
  --max-flows N       keep at most N flows at once (default 0: sized to a
                      quarter of the memory); past it the flows idle the
                      longest are evicted, clean ones first, and counted
  --ascii             ASCII glyphs and borders only (the interactive view's
                      default when the locale is not UTF-8)
  --theme NAME        the interactive view's colours: dark, light,
                      high-contrast or mono (default: dark or light as the
                      terminal's background is; NO_COLOR set: mono)

saving packets:
  -w, --write OUT     with -r or --demo: write the packets of whole flows to
                      OUT: the flows --flow names, else those with a packet
                      matching EXPR, else all of them; with -i: save every
                      captured packet that matches EXPR (also with --json
                      or --report). OUT ending in .pcapng is pcapng, any
                      other name pcap; a compressed name (.gz, .xz...) or
                      "-" is refused. Written under a temporary name
                      (mode 0600) and renamed into place. Several capture
                      points: each point's interfaces are marked with it,
                      and -r OUT reads them back as the points
  --flow IDS          the flows to write, by the ids --report and --json
                      give: 3, 3,5 or 3-7,9 (--flows is the same)
  --overwrite         let -w replace an existing OUT (without it, refused)

live capture (-i; needs root or CAP_NET_RAW; stops after COUNT packets, after
D, or on ctrl-c, SIGTERM or SIGHUP, then prints as for a file):
  -c COUNT            stop after COUNT packets that match EXPR
  --duration D        stop after D (e.g. 30s, 5m; a bare number is seconds)
  -s SNAPLEN          keep at most SNAPLEN bytes of each packet (0: 262144)
  -p                  do not put the interface in promiscuous mode
  -B KIB              kernel capture buffer in KiB (default 32768)
  -Z USER             drop root for USER once the capture is open
  --spool DIR         keep live packets in a private directory under DIR
                      (default $TMPDIR), removed at exit unless --keep-spool
  --spool-size SIZE   bound the spool, oldest packets rotated out
                      (default 256M; K, M, G suffixes)
  --keep-spool        leave the spool in place at exit, and say where
  -n                  accepted for tcpdump's habit (also with -r):
                      synscope never resolves names

  -h, --help          this text

A flag's value is the next word, or follows "=" (--theme=mono); one-letter
flags take it glued too (-c100, -rFILE). -json, -report, -ascii, -demo,
-theme and -help are the same as with two dashes.

exit status: 0 all went well; 1 a mistake on the command line, an input that
could not be read (or only up to damage), or an output that could not be
written: stderr says which and why, on one line
`

// options are the parsed command line.
type options struct {
	files     []string
	write     string // -w: export flows to this file
	flows     []int  // --flow: the flows to export
	overwrite bool   // --overwrite: -w may replace an existing file
	// given holds the value of each flag that takes one value, by its
	// short name: such a flag given twice is an error (once).
	given    map[string]string
	demo     bool
	json     bool
	report   bool
	ascii    bool
	theme    string
	help     bool
	maxFlows int // --max-flows; 0: analysis.DefaultMaxFlows
	expr     []string
	live     liveOptions // -i and the flags that go with it
	// pointsOf holds the capture points of each file -r names
	// (filePoints), looked up once a run; nil: looked up each time.
	pointsOf map[string][]capture.Point
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
// (-c 5), what follows "=" (--duration=5s, -c=5) or, for a one-letter flag,
// the rest of this word (-c5). An empty value is refused: --theme= would
// otherwise quietly mean the default.
func flagValue(args []string, i *int, flag, what string) (string, error) {
	a := args[*i]
	var v string
	switch {
	case len(a) > len(flag) && strings.HasPrefix(a, flag):
		v = strings.TrimPrefix(a[len(flag):], "=")
	case *i+1 < len(args):
		*i++
		v = args[*i]
	}
	if v == "" {
		return "", fmt.Errorf("flag %s needs %s", flag, what)
	}
	return v, nil
}

// once records that flag (its short name) was given value v, and refuses
// it given again: -w a.pcap -w b.pcap wrote only b.pcap, -i lo -i eth0
// captured on eth0, and nothing said so.
func (o *options) once(flag, v string) error {
	if prev, ok := o.given[flag]; ok {
		return fmt.Errorf("flag %s given twice (%s, then %s): give it once", flag, prev, v)
	}
	if o.given == nil {
		o.given = map[string]string{}
	}
	o.given[flag] = v
	return nil
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
			return 0, fmt.Errorf("flag %s: %q is not a number of %d or more", flag, v, lo)
		}
		return n, nil
	}
	var err error
	var v string
	switch {
	case long("--interface") || short("-i"):
		flag := "-i"
		if strings.HasPrefix(a, "--") {
			flag = "--interface"
		}
		if o.live.iface, err = flagValue(args, i, flag, "an interface name (or any)"); err == nil {
			err = o.once("-i", o.live.iface)
		}
		return true, err
	case short("-c"):
		if v, err = flagValue(args, i, "-c", "a packet count"); err == nil {
			if err = o.once("-c", v); err != nil {
				return true, err
			}
			o.live.count, err = num("-c", v, 1)
		}
	case long("--duration"):
		if v, err = flagValue(args, i, "--duration", "a duration, e.g. 30s"); err == nil {
			if err = o.once("--duration", v); err != nil {
				return true, err
			}
			o.live.duration, err = parseDuration(v)
		}
	case short("-s"):
		if v, err = flagValue(args, i, "-s", "a snapshot length in bytes"); err == nil {
			if err = o.once("-s", v); err != nil {
				return true, err
			}
			o.live.snaplen, err = num("-s", v, 0)
		}
	case short("-B"):
		if v, err = flagValue(args, i, "-B", "a buffer size in KiB"); err == nil {
			if err = o.once("-B", v); err != nil {
				return true, err
			}
			o.live.bufferKiB, err = num("-B", v, 1)
			if err == nil && o.live.bufferKiB > 1<<30 {
				err = fmt.Errorf("flag -B: %d KiB is too large", o.live.bufferKiB)
			}
		}
	case short("-Z"):
		if o.live.user, err = flagValue(args, i, "-Z", "a user name"); err == nil {
			err = o.once("-Z", o.live.user)
		}
	case long("--spool"):
		if o.live.spoolDir, err = flagValue(args, i, "--spool", "a directory"); err == nil {
			err = o.once("--spool", o.live.spoolDir)
		}
	case long("--spool-size"):
		if v, err = flagValue(args, i, "--spool-size", "a size, e.g. 512M"); err == nil {
			if err = o.once("--spool-size", v); err != nil {
				return true, err
			}
			o.live.spoolSize, err = parseSize(v)
		}
	case a == "--keep-spool":
		o.live.keepSpool = true
	case a == "-p":
		o.live.noPromisc = true
	case a == "-n":
		return true, nil // accepted anywhere: synscope never resolves names
	case len(a) >= 2 && a[0] == '-' && strings.Trim(a[1:], "np") == "":
		// -nn, -pn...: -n is accepted anywhere; -p goes with -i.
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
			return 0, fmt.Errorf("--duration %q: not a duration (e.g. 30s, 5m, 1h)", v)
		}
		d = time.Duration(f * float64(time.Second))
	}
	if d <= 0 {
		return 0, fmt.Errorf("--duration %q: must be more than zero", v)
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
		return 0, fmt.Errorf("--spool-size %q: not a size (e.g. 512M, 2G)", v)
	}
	return int64(n * float64(mult)), nil
}

// parseMaxFlows reads --max-flows: a number of flows, 0 for the default
// (analysis.DefaultMaxFlows, sized to the machine's memory).
func parseMaxFlows(v string) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("flag --max-flows: %q is not a number of flows (0 or more; 0: sized to memory)", v)
	}
	return n, nil
}

// evictedNote says how many flows were evicted to stay within
// --max-flows: they are in no record and no report.
func evictedNote(res *analysis.Result) string {
	return fmt.Sprintf("%d flow%s evicted to stay within %d flow%s at once (--max-flows): the flows idle the longest, without findings first; the output leaves them out",
		res.Evicted, plural(int(res.Evicted)), res.MaxFlows, plural(res.MaxFlows))
}

// parseArgs reads the command line the way tcpdump users expect: flags
// first, then the filter expression as the remaining words. A mistake is
// one line naming the flag and what is wrong with it; run prints it
// without the usage, which would push it off an SSH session's screen.
func parseArgs(args []string) (options, error) {
	o := options{pointsOf: map[string][]capture.Point{}}
	long := func(a, f string) bool { return a == f || strings.HasPrefix(a, f+"=") }
	for i := 0; i < len(args); i++ {
		a := args[i]
		var (
			v   string
			err error
		)
		switch {
		case a == "--":
			o.expr = append(o.expr, args[i+1:]...)
			return o, o.check()
		case a == "--report" || a == "-report":
			// Before -r: -report is not -r eport.
			o.report = true
		case long(a, "--read") || a == "-r" || strings.HasPrefix(a, "-r") && !strings.HasPrefix(a, "--"):
			flag := "-r"
			if strings.HasPrefix(a, "--") {
				flag = "--read"
			}
			if v, err = flagValue(args, &i, flag, "a file name"); err == nil {
				o.files = append(o.files, v)
			}
		case long(a, "--write") || a == "-w" || strings.HasPrefix(a, "-w") && !strings.HasPrefix(a, "--"):
			flag := "-w"
			if strings.HasPrefix(a, "--") {
				flag = "--write"
			}
			if o.write, err = flagValue(args, &i, flag, "a file name"); err == nil {
				err = o.once("-w", o.write)
			}
		case long(a, "--flow") || long(a, "--flows"):
			flag, _, _ := strings.Cut(a, "=")
			if v, err = flagValue(args, &i, flag, "flow ids, e.g. 3 or 3,5 or 3-7"); err == nil {
				var ids []int
				ids, err = parseFlowIDs(v)
				o.flows = append(o.flows, ids...)
			}
		case a == "--overwrite":
			o.overwrite = true
		case long(a, "--max-flows"):
			if v, err = flagValue(args, &i, "--max-flows", "a number of flows"); err == nil {
				if o.maxFlows, err = parseMaxFlows(v); err == nil {
					err = o.once("--max-flows", v)
				}
			}
		case a == "--json" || a == "-json":
			o.json = true
		case a == "--ascii" || a == "-ascii":
			o.ascii = true
		case a == "--demo" || a == "-demo":
			o.demo = true
		case long(a, "--theme") || long(a, "-theme"):
			flag, _, _ := strings.Cut(a, "=")
			if o.theme, err = flagValue(args, &i, flag, "a theme name: "+strings.Join(ui.ThemeNames(), ", ")); err == nil {
				err = o.once("--theme", o.theme)
			}
		case a == "-h" || a == "--help" || a == "-help":
			o.help = true
		case strings.HasPrefix(a, "-") && a != "-" && len(o.expr) == 0:
			var ok bool
			if ok, err = o.liveFlag(args, &i); !ok && err == nil {
				err = fmt.Errorf("unknown flag %s (synscope --help lists the flags)", a)
			}
		default:
			o.expr = append(o.expr, a)
		}
		if err != nil {
			return o, err
		}
	}
	return o, o.check()
}

// check checks that the flags go together.
func (o options) check() error {
	if o.help {
		return nil
	}
	if o.write != "" {
		if err := checkWrite(o.write); err != nil {
			return err
		}
		if ins := o.inputs(); len(ins) > 1 && capture.ExportFormat(o.write) != "pcapng" {
			if len(o.files) == 1 {
				return fmt.Errorf("-w %s: -r %s holds %d capture points, whose packets go into a pcapng file (one interface per point, or more): name it .pcapng", o.write, o.files[0], len(ins))
			}
			return fmt.Errorf("-w %s: the packets of %d captures go into a pcapng file (one interface per capture): name it .pcapng", o.write, len(ins))
		}
	}
	if o.live.iface != "" {
		return o.checkLive()
	}
	switch {
	case len(o.live.set) > 0:
		return fmt.Errorf("%s is a live-capture flag: add -i IFACE", o.live.set[0])
	case len(o.files) == 0 && !o.demo:
		return errors.New("no capture given: use -r FILE, or --demo, or -i IFACE (synscope --help lists the flags)")
	case o.json && o.report:
		return errors.New("--json and --report cannot be used together")
	case o.write != "" && (o.json || o.report):
		return errors.New("-w writes a capture; it cannot be combined with --json or --report")
	case len(o.flows) > 0 && o.write == "":
		return errors.New("--flow picks flows to export: add -w FILE")
	case len(o.flows) > 0 && len(o.expr) > 0:
		// Both given, the filter left packets out of the flows --flow
		// picked (half a flow for "src host X"), and numbered them its
		// own way.
		return fmt.Errorf("--flow takes the ids of a run without a filter, and writes those flows whole: drop the filter %s (with -w, a filter alone picks the whole flows it matches)", strings.Join(o.expr, " "))
	case len(o.flows) > 0 && o.demo:
		return errors.New("--flow picks flows of one capture, and --demo reads three capture points: write them with --demo -w FILE.pcapng (a filter picks connections)")
	case len(o.flows) > 0 && len(o.files) == 1 && len(o.inputs()) > 1:
		ins := o.inputs()
		return fmt.Errorf("--flow picks flows of one capture, and -r %s holds %d capture points (%s): write connections with a filter instead (-r %s -w FILE.pcapng EXPR)", o.files[0], len(ins), pointList(ins), o.files[0])
	case len(o.flows) > 0 && len(o.files) > 1:
		return errors.New("--flow picks flows of one capture; give one -r with it (with several, a filter picks connections)")
	case o.overwrite && o.write == "":
		return errors.New("--overwrite lets -w replace an existing file: add -w FILE")
	case o.demo && len(o.files) > 0:
		return errors.New("--demo reads the built-in incident's three captures; it cannot be combined with -r")
	}
	if err := o.checkPointNames(); err != nil {
		return err
	}
	if o.write != "" {
		if err := o.checkRereadable(); err != nil {
			return err
		}
	}
	return o.checkTheme()
}

// checkRereadable refuses -w on an input that cannot be read twice: -w
// writes the packets of whole flows, read back from the capture once it
// is analysed. Said at the start: a pipe read to its end (minutes, or
// hours) was refused then, and its packets were gone.
func (o options) checkRereadable() error {
	for _, arg := range o.files {
		_, path := splitLabel(arg)
		what := ""
		if path == "-" {
			what = "standard input"
		} else if fi, err := os.Stat(path); err == nil && !fi.Mode().IsRegular() {
			what = "not a regular file but a pipe, a FIFO or a device"
		}
		if what != "" {
			return fmt.Errorf("-r %s: %s, which cannot be read twice, and -w reads the flows' packets back from it: save the capture to a file first (tcpdump -w FILE), then -r FILE -w %s", arg, what, o.write)
		}
	}
	return nil
}

// checkPointNames refuses two captures that would be shown by one name:
// with -r x=in.pcap -r x=out.pcap the report said "x's clock is 2.000 s
// ahead of x's", and the JSON records of both points said "capture":"x".
// The views name a point by its label or its file's base name.
func (o options) checkPointNames() error {
	stdin := 0
	for _, f := range o.files {
		if f == "-" {
			stdin++
		}
		// A file of capture points names them itself.
		if name, path := splitLabel(f); name != path {
			if pts := o.filePoints(path); len(pts) > 1 {
				return fmt.Errorf("-r %s: %s holds %d capture points that synscope wrote, named in it (%s): give it without a label, -r %s", f, path, len(pts), pointNames(pts), path)
			}
		}
	}
	if stdin > 1 {
		return errors.New("-r - is given twice: standard input can be read once")
	}
	seen := map[string]input{}
	for _, in := range o.inputs() {
		if in.arg == "" {
			continue // --demo's, which -r cannot join
		}
		short := filepath.Base(in.name)
		prev, ok := seen[short]
		switch {
		case ok && prev.point && in.point:
			// Neither can be labelled: label each point was advice
			// that could not be followed.
			return fmt.Errorf("-r %s: its capture point %s has the name of one in -r %s, and the points of a file synscope wrote keep their names: read the two files one at a time", in.arg, short, prev.arg)
		case ok && (prev.point || in.point):
			points, plain := prev.arg, in.arg
			if in.point {
				points, plain = in.arg, prev.arg
			}
			_, path := splitLabel(plain)
			return fmt.Errorf("-r %s and -r %s both have a capture point named %s, and the points of a file synscope wrote (-r %s) keep their names: give the other another label, as -r NAME=%s", prev.arg, in.arg, short, points, path)
		case ok:
			return fmt.Errorf("-r %s: the capture point %s has that name already (-r %s): label each point, as -r NAME=FILE", in.arg, short, prev.arg)
		}
		seen[short] = in
	}
	return nil
}

// checkWrite checks the name -w is given. synscope writes pcap or pcapng,
// uncompressed (capture.CheckExportName says why), and always to a file:
// the file is written under a temporary name and renamed into place,
// which standard output cannot be.
func checkWrite(path string) error {
	if path == "-" {
		return errors.New("-w -: synscope writes captures to files, not to standard output: give a file name (./- for a file named -)")
	}
	if err := capture.CheckExportName(path); err != nil {
		return fmt.Errorf("-w %w", err)
	}
	// Said now: "already exists; ... or add --overwrite" would suggest a
	// flag that cannot help.
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return fmt.Errorf("-w %s: is a directory: give the name of a file to write, e.g. %s", path, filepath.Join(path, "capture.pcapng"))
	}
	return nil
}

func (o options) checkTheme() error {
	if o.theme != "" && !slices.Contains(ui.ThemeNames(), o.theme) {
		return fmt.Errorf("--theme %s: no such theme: use %s", o.theme, strings.Join(ui.ThemeNames(), ", "))
	}
	return nil
}

// checkLive checks the flags that go with -i.
func (o options) checkLive() error {
	switch {
	case len(o.files) > 0 || o.demo:
		return errors.New("-i captures live; it cannot be combined with -r or --demo")
	case o.json && o.report:
		return errors.New("--json and --report cannot be used together")
	case len(o.flows) > 0:
		return errors.New("--flow picks flows of a capture file; with -i, give a filter EXPR")
	case o.overwrite && o.write == "":
		return errors.New("--overwrite lets -w replace an existing file: add -w FILE")
	}
	return o.checkTheme()
}

// userHint names -Z in the error of a file synscope could not create after
// dropping root for USER: as root, "permission denied" is a riddle.
func userHint(user string, err error) error {
	if user != "" && errors.Is(err, fs.ErrPermission) {
		return fmt.Errorf("%w (as user %s, from -Z)", err, user)
	}
	return err
}

// overwriteHint names --overwrite in the error of a -w file that exists:
// the capture package, which the interactive view uses too (it asks y/n),
// says only "allow overwriting".
func overwriteHint(path string, err error) error {
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("-w %s: already exists; choose another name, or add --overwrite", path)
	}
	return err
}

// input is one capture to read: a file, standard input, an embedded demo
// capture, or one capture point of a file that holds several. open gives
// way when ctx is done (capture.OpenContext).
type input struct {
	name  string
	arg   string // the -r argument it comes from; "" for --demo's
	point bool   // one of the points of a file synscope wrote
	open  func(ctx context.Context) (*capture.Reader, error)
}

// inputs lists the captures the options name, in order. Standard input
// ("-") goes by capture.StdinName, as its errors name it. A file that
// synscope wrote from several capture points (-w case.pcapng) is those
// points, in their order and by their names, as if each had its own -r:
// read as one capture, the points' packets of a connection made one flow
// of retransmissions that never happened. Such a file is a regular one
// given without a label (checkPointNames refuses a label); standard
// input and pipes, which can be read once, are read as one capture (with
// a note saying so, capture.Reader.Notes).
func (o options) inputs() []input {
	var ins []input
	for _, arg := range o.files {
		name, path := splitLabel(arg)
		if name == path {
			if pts := o.filePoints(path); len(pts) > 1 {
				for _, p := range pts {
					ins = append(ins, input{name: p.Name, arg: arg, point: true, open: func(ctx context.Context) (*capture.Reader, error) {
						return capture.OpenPoint(ctx, path, p.Name)
					}})
				}
				continue
			}
		}
		if name == "-" {
			name = capture.StdinName
		}
		ins = append(ins, input{name: name, arg: arg, open: func(ctx context.Context) (*capture.Reader, error) { return capture.OpenContext(ctx, path) }})
	}
	if o.demo {
		ins = append(ins, demoInputs()...)
	}
	return ins
}

// filePoints returns the capture points of the file -r names at path
// (capture.FilePoints: its first blocks are read), none for standard
// input. With o.pointsOf, each file is looked at once: inputs is asked
// for by the flag checks and again by the run.
func (o options) filePoints(path string) []capture.Point {
	if path == "-" {
		return nil
	}
	if pts, ok := o.pointsOf[path]; ok {
		return pts
	}
	pts := capture.FilePoints(path)
	if o.pointsOf != nil {
		o.pointsOf[path] = pts
	}
	return pts
}

// pointNames lists the points' names for a message: "client, fw-inside".
func pointNames(pts []capture.Point) string {
	names := make([]string, len(pts))
	for i, p := range pts {
		names[i] = p.Name
	}
	return strings.Join(names, ", ")
}

// pointList lists the inputs' names for a message.
func pointList(ins []input) string {
	names := make([]string, len(ins))
	for i, in := range ins {
		names[i] = in.name
	}
	return strings.Join(names, ", ")
}

// splitLabel reads -r NAME=FILE, which labels a capture point; a file whose
// own name holds '=' is read as it is.
func splitLabel(arg string) (name, path string) {
	label, file, ok := strings.Cut(arg, "=")
	// Spaces around a label are not part of it: -r " a =X" and -r a=Y
	// were two points, shown as " a " and "a".
	label = strings.TrimSpace(label)
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
		fmt.Fprintf(stderr, "synscope: %s\n", ui.Safe(err.Error(), false))
		return 1
	}
	if o.help {
		fmt.Fprint(stdout, usage)
		return 0
	}
	match, err := compileFilter(o.expr)
	if err != nil {
		fmt.Fprintf(stderr, "synscope: %s\n", ui.Safe(err.Error(), false))
		return 1
	}
	ctx, stop := signalContext(stderr)
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
		return 1
	}
	var sources []ui.Source
	defer func() {
		for _, s := range sources {
			s.Reader.Close()
		}
	}()
	for _, in := range o.inputs() {
		r, err := in.open(ctx)
		if err != nil {
			fmt.Fprintf(stderr, "synscope: %s\n", ui.Safe(err.Error(), o.ascii))
			return 1
		}
		// Several captures are the points of a path, named by their
		// labels (-r NAME=FILE) or as given, as in the report.
		sources = append(sources, ui.Source{Name: in.name, Reader: r})
	}
	// Several captures: the filter picks connections (ui.Config.Filter).
	// Parsed before, by compileFilter: it cannot fail here.
	sel, _ := filter.ParseArgs(o.expr)
	cfg := ui.Config{Sources: sources, Match: match, Filter: sel, MaxFlows: o.maxFlows, Theme: o.theme,
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
