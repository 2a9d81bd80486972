package capture

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Capture points in one pcapng file.
//
// An export of several captures of one path (-r client=a.pcap -r
// fw-inside=b.pcap -w case.pcapng) puts each capture's packets on
// interfaces of its own. Read back as one capture, the points' packets of
// a connection made one flow: the seed's three points gave a flow of 648 s
// with retransmissions and data after close that never happened. So the
// export marks every interface with the point it belongs to, in an
// interface comment (opt_comment in its description block) of a fixed
// form, PointComment's "synscope point 2 of 3: fw-inside", and a file
// whose interfaces are so marked is read as those points (Points,
// OpenPoint). Interface comments survive editcap, editcap -r, tshark -w
// and mergecap (Wireshark 4.0.17): they copy every interface description
// block with its options. The section header's shb_userappl ("synscope")
// does not survive mergecap, which writes its own, so it is not relied on.

// pointPrefix starts a point's interface comment.
const pointPrefix = "synscope point "

// headScanLimit bounds how far Points looks for interface description
// blocks before the first packet: writers put them first (synscope's
// export and Wireshark's tools do), and a file with none in its first
// MiB is read as it is.
const headScanLimit = 1 << 20

// PointComment is the interface comment that marks an interface as one of
// point k (counted from 1, client side first) of n, named name.
func PointComment(k, n int, name string) string {
	return fmt.Sprintf("%s%d of %d: %s", pointPrefix, k, n, name)
}

// parsePointComment reads a PointComment; ok is false for any other
// comment.
func parsePointComment(c string) (k, n int, name string, ok bool) {
	rest, found := strings.CutPrefix(c, pointPrefix)
	if !found {
		return 0, 0, "", false
	}
	ks, rest, found := strings.Cut(rest, " of ")
	if !found {
		return 0, 0, "", false
	}
	ns, name, found := strings.Cut(rest, ": ")
	if !found || name == "" {
		return 0, 0, "", false
	}
	k, err1 := strconv.Atoi(ks)
	n, err2 := strconv.Atoi(ns)
	if err1 != nil || err2 != nil || k < 1 || k > n || n > maxInterfaces {
		return 0, 0, "", false
	}
	return k, n, name, true
}

// isPointComment tells a point's interface comment: an export of the
// points again writes its own marks, not the old ones too.
func isPointComment(c string) bool {
	_, _, _, ok := parsePointComment(c)
	return ok
}

// Point is one capture point of a file that holds several.
type Point struct {
	Name string
	// Interfaces are the point's interfaces, as indexes in the list of
	// all the file's interfaces (the Interfaces of a Reader that reads
	// the whole file).
	Interfaces []int
}

// pointSet is how a file's interfaces are shared out among its points.
type pointSet struct {
	n     int      // points marked in the file
	names []string // their names, by number - 1
	// rest names one more point, after the marked ones, that holds the
	// interfaces no mark names (another capture merged in with
	// mergecap); "" when every interface is marked.
	rest string
}

// pointOf returns the number (1 to n) of the point that marks ifc, 0 for
// none. Only the first section's marks count: a file that is two exports
// concatenated (cat a.pcapng b.pcapng) has a second section with marks of
// its own, for other packets.
func (ps *pointSet) pointOf(ifc *Interface) int {
	if ifc.Section != 0 {
		return 0
	}
	for _, c := range ifc.Comments {
		if k, n, name, ok := parsePointComment(c); ok && n == ps.n && ps.names[k-1] == name {
			return k
		}
	}
	return 0
}

// points returns the Points of ifaces (a whole file's interfaces).
func (ps *pointSet) points(ifaces []Interface) []Point {
	pts := make([]Point, ps.n, ps.n+1)
	for i := range pts {
		pts[i].Name = ps.names[i]
	}
	var rest []int
	for i := range ifaces {
		if k := ps.pointOf(&ifaces[i]); k > 0 {
			pts[k-1].Interfaces = append(pts[k-1].Interfaces, i)
		} else {
			rest = append(rest, i)
		}
	}
	if ps.rest != "" {
		pts = append(pts, Point{Name: ps.rest, Interfaces: rest})
	}
	return pts
}

// markedPoints finds the points that the interfaces of the first section
// are marked with, nil unless the marks make sense together: two points or
// more, every interface marked at most once, every mark of the same count,
// each point named one way and at least one interface each, and no two
// points of one name. A file that fails any of these is read as one
// capture, as before there were marks. file names the point of the
// interfaces without a mark, if any.
func markedPoints(ifaces []Interface, file string) *pointSet {
	ps := &pointSet{}
	unmarked := false
	for i := range ifaces {
		ifc := &ifaces[i]
		if ifc.Section != 0 {
			unmarked = true
			continue
		}
		marks := 0
		for _, c := range ifc.Comments {
			k, n, name, ok := parsePointComment(c)
			if !ok {
				continue
			}
			if marks++; marks > 1 || ps.n != 0 && n != ps.n {
				return nil
			}
			if ps.n == 0 {
				ps.n, ps.names = n, make([]string, n)
			}
			if ps.names[k-1] != "" && ps.names[k-1] != name {
				return nil
			}
			ps.names[k-1] = name
		}
		if marks == 0 {
			unmarked = true
		}
	}
	if ps.n < 2 {
		return nil
	}
	seen := map[string]bool{}
	for _, name := range ps.names {
		if name == "" || seen[name] {
			return nil
		}
		seen[name] = true
	}
	if unmarked {
		ps.rest = filepath.Base(file)
		if seen[ps.rest] {
			ps.rest += " (other interfaces)"
		}
	}
	return ps
}

// pointSel is the point a Reader reads (SelectPoint): its number in the
// set, 0 for the set's rest.
type pointSel struct {
	set  *pointSet
	k    int
	name string
}

// owns tells whether ifc is one of the point's interfaces.
func (p *pointSel) owns(ifc *Interface) bool {
	k := p.set.pointOf(ifc)
	if p.k == 0 {
		return k == 0 && p.set.rest != ""
	}
	return k == p.k
}

// stray tells an interface that no point of the file owns: unmarked, or
// in a later section, in a file whose marks left no point for such.
func (p *pointSel) stray(ifc *Interface) bool {
	return p.set.rest == "" && p.set.pointOf(ifc) == 0
}

// pointIndex maps the interfaces of a file to their indexes among a
// point's, growing as the file's interfaces are found.
type pointIndex struct {
	local []int // by interface of the file: its index among the point's, -1 for none
	n     int   // the point's interfaces so far
}

// of returns the point's index of interface i of ifaces (all the file's
// interfaces found so far), -1 when the point does not own it.
func (x *pointIndex) of(p *pointSel, ifaces []Interface, i int) int {
	for len(x.local) < len(ifaces) {
		idx := -1
		if p.owns(&ifaces[len(x.local)]) {
			idx = x.n
			x.n++
		}
		x.local = append(x.local, idx)
	}
	if i < 0 || i >= len(x.local) {
		return -1
	}
	return x.local[i]
}

// Points returns the capture points a pcapng file that synscope wrote from
// several captures holds, client side first, and, after them, the point of
// the interfaces none of their marks names, if any; nil for any other
// capture. It reads the blocks before the first packet (the interface
// descriptions) and must be called before the first Next; what it reads
// goes on to Next, which reports any damage in it.
func (r *Reader) Points() []Point {
	ps := r.pointSet()
	if ps == nil {
		return nil
	}
	return ps.points(r.Interfaces())
}

// pointSet reads the head of the file (Points) and returns its points.
func (r *Reader) pointSet() *pointSet {
	if r.meta.kind != kindPcapng || r.point != nil || r.frame > 0 {
		return nil
	}
	r.scanHead()
	// The head's interfaces are kept, in order, though no packet named
	// them yet: a point is known by them, with or without packets.
	if r.secNum == 0 {
		r.publishAll()
	}
	return markedPoints(r.Interfaces(), r.name)
}

// scanHead reads the blocks that come before the first packet block, up
// to headScanLimit bytes into the file, and leaves the packet block for
// Next. Damage found there is kept for Next to return.
func (r *Reader) scanHead() {
	for r.err == nil && r.s.pos < headScanLimit {
		h, err := r.s.peek(8)
		if err != nil {
			return
		}
		if typ := u32(h, r.secBE); isPacketBlock(typ) || typ == blockSHB {
			return
		}
		if _, err := r.readBlock(); err != nil {
			r.err = err
			return
		}
	}
}

// SelectPoint makes the Reader read point i of Points alone, as if it were
// a file of its own: Next returns only the records of the point's
// interfaces, numbering them from 1 within the point; Interfaces returns
// the point's interfaces and Record.Interface indexes them; Rereaders made
// from the Reader do the same; the Reader's name becomes "FILE, point
// NAME". It must be called before the first Next.
func (r *Reader) SelectPoint(i int) error {
	ps := r.pointSet()
	if ps == nil {
		return fmt.Errorf("%s: holds no capture points", r.name)
	}
	pts := ps.points(r.Interfaces())
	if i < 0 || i >= len(pts) {
		return fmt.Errorf("%s: holds %d capture points, not %d", r.name, len(pts), i+1)
	}
	k := i + 1
	if i == ps.n {
		k = 0 // the rest
	}
	r.point = &pointSel{set: ps, k: k, name: pts[i].Name}
	r.plain, r.plainNG = nil, false // Next's shortcuts do not select
	r.name = r.name + ", point " + pts[i].Name
	return nil
}

// inPoint tells whether r.rec, just read, is on an interface of the point
// the Reader reads, and gives it the point's index of that interface. A
// record on an interface of no point is counted (Notes).
func (r *Reader) inPoint() bool {
	// The Reader is the only goroutine that appends interfaces: it may
	// read them without the lock.
	m := r.meta
	g := r.rec.Interface
	if l := r.local.of(r.point, m.ifaces, g); l >= 0 {
		r.rec.Interface = l
		return true
	}
	if g >= 0 && g < len(m.ifaces) && r.point.stray(&m.ifaces[g]) {
		if r.strays++; r.strays == 1 {
			// tshark's number of the interface: the blocks
			// before its section's, and its ID.
			for id := range r.ifaces {
				if r.ifaces[id].Index == g {
					r.strayIface = r.idbBase + id
				}
			}
		}
	}
	return false
}

// pointNotes are Notes about the capture points: the records of no point
// (said by the first point's Reader only, as every point's skips them),
// and a file of points read as one capture (standard input, a pipe).
func (r *Reader) pointNotes() []string {
	if p := r.point; p != nil {
		if r.strays == 0 || p.k != 1 {
			return nil
		}
		file, _, _ := strings.Cut(r.name, ", point ")
		return []string{fmt.Sprintf("%d frame%s on interfaces that no capture point's mark names (the first on interface %d, described after the capture points') %s in no point: tshark -r %s -Y frame.interface_id==%d reads them",
			r.strays, plural(r.strays), r.strayIface, isAre(r.strays), file, r.strayIface)}
	}
	if r.meta.kind != kindPcapng {
		return nil
	}
	ps := markedPoints(r.Interfaces(), r.name)
	if ps == nil {
		return nil
	}
	return []string{fmt.Sprintf("its interfaces are %d capture points that synscope wrote (%s), read here as one capture, which merges their packets: give the file itself to -r (not a pipe or standard input) to read each point as its own capture",
		ps.n, strings.Join(ps.names, ", "))}
}

func plural(n uint64) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func isAre(n uint64) string {
	if n == 1 {
		return "is"
	}
	return "are"
}

// FilePoints returns the capture points of the file at path (Points), nil
// for a capture that holds none, and for anything that is not a regular
// file or cannot be read as a capture: reading it will say why. It reads
// only the file's first blocks, with a small buffer (a gzip file's first
// compressed bytes): cheap enough to ask of every file named.
func FilePoints(path string) []Point {
	if fi, err := os.Stat(path); err != nil || !fi.Mode().IsRegular() {
		return nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	r, err := newReaderSized(nil, f, path, -1, 64<<10)
	if err != nil {
		return nil
	}
	return r.Points()
}

// OpenPoint opens the file at path (OpenContext) to read its capture point
// named name alone (SelectPoint). A file that no longer holds that point
// (replaced since FilePoints looked) is an error naming the file.
func OpenPoint(ctx context.Context, path, name string) (*Reader, error) {
	r, err := OpenContext(ctx, path)
	if err != nil {
		return nil, err
	}
	for i, p := range r.Points() {
		if p.Name == name {
			if err := r.SelectPoint(i); err != nil {
				r.Close()
				return nil, err
			}
			return r, nil
		}
	}
	r.Close()
	return nil, fmt.Errorf("%s: holds no capture point %s (any more: was the file replaced?)", path, name)
}
