package ui

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"github.com/synscope/synscope/analysis"
	"github.com/synscope/synscope/capture"
)

// exportJob is what w writes: the packets of some flows, taken from one or
// more sources, and the file name offered for them.
type exportJob struct {
	what    string // "flow 3", "2 flows", "connection 1 (3 flows)"
	name    string // the file name offered
	sources int    // sources with packets: more than one needs pcapng
	// write writes the packets to path (atomically, 0600) and returns how
	// many it wrote. It runs in a tea.Cmd.
	write func(path string, overwrite bool) (int, error)
}

// exportStage is where the export prompt is.
type exportStage int

const (
	exportOff     exportStage = iota
	exportNaming              // the file name input has the keys
	exportConfirm             // the file exists: overwrite it?
	exportBusy                // looking at the file, or writing it
)

// exportModel is the file name prompt of w, on the status line. While it
// is open it takes every key (but ctrl+c).
type exportModel struct {
	c     *common
	stage exportStage
	job   exportJob
	input textinput.Model
	path  string // the name given, as typed
	err   string // why the name was refused
}

// exportCheckedMsg says whether the file chosen for an export exists, and
// when it does, whether it is a file that may be replaced.
type exportCheckedMsg struct {
	path    string
	exists  bool
	dir     bool // a directory
	special bool // neither a regular file nor a directory: a link, a device...
	err     error
}

// exportDoneMsg reports a finished export.
type exportDoneMsg struct {
	path    string
	what    string
	packets int
	err     error
}

func newExportModel(c *common) exportModel {
	in := textinput.New()
	in.SetStyles(inputStyles(in.Styles(), c.styles))
	in.CharLimit = 4096
	return exportModel{c: c, input: in}
}

// active reports whether the prompt has the keys.
func (e *exportModel) active() bool { return e.stage != exportOff }

// start opens the prompt for a job, the offered name filled in.
func (e exportModel) start(job exportJob) (exportModel, tea.Cmd) {
	e.job, e.stage, e.err = job, exportNaming, ""
	e.input.Prompt = "write " + job.what + " to "
	e.input.SetValue(job.name)
	e.input.CursorEnd()
	e.fit()
	return e, e.input.Focus()
}

// fit sizes the input to the terminal's width.
func (e *exportModel) fit() {
	e.input.SetWidth(max(10, e.c.width-width(e.input.Prompt)-1))
}

// Update handles the prompt's keys and its commands' answers. A finished
// export closes the prompt; the root shows the outcome (exportDoneMsg).
func (e exportModel) Update(msg tea.Msg) (exportModel, tea.Cmd) {
	k := e.c.keys
	switch msg := msg.(type) {
	case exportCheckedMsg:
		if e.stage != exportBusy || msg.path != e.path {
			return e, nil
		}
		switch {
		case msg.err != nil:
			return e.refuse(msg.err.Error())
		case msg.dir:
			// Said before asking to overwrite it, which y would then
			// refuse.
			return e.refuse(e.path + " is a directory: name a file in it")
		case msg.special:
			return e.refuse(e.path + " exists and is not a regular file: it is never replaced")
		case msg.exists:
			e.stage = exportConfirm
			e.input.Blur()
			return e, nil
		}
		return e, writeExportCmd(e.job, e.path, false)
	case exportDoneMsg:
		e.stage = exportOff
		e.input.Blur()
		return e, nil
	case tea.KeyPressMsg:
		switch e.stage {
		case exportNaming:
			switch {
			case key.Matches(msg, k.Write):
				return e.submit()
			case key.Matches(msg, k.Cancel):
				e.stage = exportOff
				e.input.Blur()
				return e, nil
			}
			var cmd tea.Cmd
			before := e.input.Value()
			e.input, cmd = e.input.Update(msg)
			if e.input.Value() != before {
				e.err = ""
			}
			return e, cmd
		case exportConfirm:
			switch {
			case key.Matches(msg, k.Overwrite):
				e.stage = exportBusy
				return e, writeExportCmd(e.job, e.path, true)
			case key.Matches(msg, k.Keep):
				e.stage = exportNaming
				return e, e.input.Focus()
			}
		}
	}
	return e, nil
}

// submit checks the name typed and asks whether the file exists.
func (e exportModel) submit() (exportModel, tea.Cmd) {
	path := expandHome(strings.TrimSpace(e.input.Value()))
	switch {
	case path == "":
		return e.refuse("give a file name (.pcapng or .pcap)")
	case e.job.sources > 1 && capture.ExportFormat(path) != "pcapng":
		return e.refuse(fmt.Sprintf("packets of %d captures go into a pcapng file (one interface per capture): name it .pcapng", e.job.sources))
	}
	if err := capture.CheckExportName(path); err != nil {
		// Said here, the name still in the prompt to correct, rather
		// than after the prompt has closed.
		return e.refuse(err.Error())
	}
	e.path, e.stage, e.err = path, exportBusy, ""
	e.input.Blur()
	return e, checkFileCmd(path)
}

// refuse keeps the prompt open with a reason.
func (e exportModel) refuse(why string) (exportModel, tea.Cmd) {
	e.stage, e.err = exportNaming, why
	return e, e.input.Focus()
}

// expandHome reads a leading ~/ as the home directory, as a shell would.
func expandHome(p string) string {
	if p == "~" || strings.HasPrefix(p, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, p[1:])
		}
	}
	return p
}

// checkFileCmd looks whether path exists, off the UI goroutine.
func checkFileCmd(path string) tea.Cmd {
	return func() tea.Msg {
		fi, err := os.Lstat(path)
		switch {
		case err == nil:
			return exportCheckedMsg{path: path, exists: true, dir: fi.IsDir(), special: !fi.IsDir() && !fi.Mode().IsRegular()}
		case errors.Is(err, os.ErrNotExist):
			return exportCheckedMsg{path: path}
		}
		return exportCheckedMsg{path: path, err: err}
	}
}

// writeExportCmd runs an export off the UI goroutine.
func writeExportCmd(job exportJob, path string, overwrite bool) tea.Cmd {
	return func() tea.Msg {
		n, err := job.write(path, overwrite)
		return exportDoneMsg{path: path, what: job.what, packets: n, err: err}
	}
}

// View is the prompt's status line. Why a name was refused goes on the
// lines above the name, wrapped: after it, the input's width left it no
// room at all (an empty name said nothing). A path too long for the line
// is cut in its middle, so that its end, the file's name, stays.
func (e *exportModel) View() []string {
	st, g, w := e.c.styles, e.c.g, e.c.width
	switch e.stage {
	case exportNaming:
		if e.err != "" {
			return append(wrapStyled(st.Error, e.c.safe(e.err), w, g.Invalid+" ", "  ", g.Ellipsis), e.input.View())
		}
		return []string{e.input.View()}
	case exportConfirm:
		ask := " exists: overwrite it?"
		path := shortenMiddle(e.c.safe(e.path), w-width(g.Warning+" "+ask+" y/n"), g.Ellipsis)
		return []string{st.Status.Warning.Render(g.Warning+" "+path+ask) + " " + st.HelpKey.Render("y") + st.Dim.Render("/") + st.HelpKey.Render("n")}
	case exportBusy:
		path := shortenMiddle(e.c.safe(e.path), w-width("writing "+g.Ellipsis), g.Ellipsis)
		return []string{st.Dim.Render("writing " + path + g.Ellipsis)}
	}
	return nil
}

// doneNote says how an export went, in one line.
func doneNote(msg exportDoneMsg) (string, bool) {
	if msg.err != nil {
		return msg.err.Error(), true
	}
	return fmt.Sprintf("wrote %d packet%s of %s to %s", msg.packets, plural(msg.packets), msg.what, msg.path), false
}

// fileExportJob writes flows of the captures read from files: one export
// source per capture, so that a pcapng file gets one interface per
// capture (per capture point in path mode).
func (m *Model) fileExportJob(refs []flowRef) exportJob {
	byCap := map[int][]int{}
	for _, r := range refs {
		byCap[r.cap] = append(byCap[r.cap], r.id)
	}
	caps := make([]int, 0, len(byCap))
	for c := range byCap {
		caps = append(caps, c)
	}
	slices.Sort(caps)
	results := make([]*analysis.Result, len(caps))
	readers := make([]*capture.Reader, len(caps))
	labels := make([]string, len(caps))
	for i, c := range caps {
		results[i], readers[i] = m.caps[c].Result, m.loader.caps[c].rd
		if name := m.loader.caps[c].name; name != readers[i].Name() {
			// Labelled (-r NAME=FILE, and --demo's points): the
			// pcapng's interfaces are named as the view names the
			// points.
			labels[i] = name
		}
	}
	pa := m.path // the path's findings go into the comments too
	job := exportJob{sources: len(caps), what: flowsWhat(refs, len(m.caps) > 1)}
	job.name = exportName(m.caps[caps[0]].Name, refs, len(caps) > 1)
	job.write = func(path string, overwrite bool) (int, error) {
		srcs := make([]capture.ExportSource, len(caps))
		for i, c := range caps {
			items, err := results[i].ExportItems(byCap[c])
			if err != nil {
				return 0, err
			}
			if pa != nil {
				pa.ExportComments(c, byCap[c], items)
			}
			srcs[i] = capture.ExportSource{Reader: readers[i], Items: items, Label: labels[i]}
		}
		return capture.Export(path, srcs, overwrite)
	}
	return job
}

// flowsWhat names flows for the prompt and the report: "flow 3", "flow
// 2:3" (several captures), "4 flows".
func flowsWhat(refs []flowRef, multi bool) string {
	if len(refs) != 1 {
		return fmt.Sprintf("%d flows", len(refs))
	}
	if multi {
		return fmt.Sprintf("flow %d:%d", refs[0].cap+1, refs[0].id)
	}
	return fmt.Sprintf("flow %d", refs[0].id)
}

// exportName offers a file name in the current directory: the capture's
// name without its extensions, then the flow ids, .pcapng (which keeps
// the findings as packet comments).
func exportName(capName string, refs []flowRef, multi bool) string {
	base := filepath.Base(capName)
	for _, ext := range []string{".gz", ".pcapng", ".pcap", ".cap"} {
		if len(base) > len(ext) && strings.EqualFold(base[len(base)-len(ext):], ext) {
			base = base[:len(base)-len(ext)]
		}
	}
	base = strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.' {
			return r
		}
		return '_'
	}, base)
	if base == "" || base[0] == '.' {
		base = "synscope" + base
	}
	id := func(r flowRef) string {
		if multi {
			return strconv.Itoa(r.cap+1) + "_" + strconv.Itoa(r.id)
		}
		return strconv.Itoa(r.id)
	}
	switch n := len(refs); {
	case n == 1:
		return base + "-flow" + id(refs[0]) + ".pcapng"
	case n <= 4:
		ids := make([]string, n)
		for i, r := range refs {
			ids[i] = id(r)
		}
		return base + "-flows-" + strings.Join(ids, "-") + ".pcapng"
	default:
		return fmt.Sprintf("%s-%d-flows.pcapng", base, n)
	}
}
