package capture

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/gopacket/gopacket/layers"
)

// ExportItem names one packet to export: where its record is in the source
// file, its frame number there, and the comments to attach (pcapng only).
// The comments name frames as their sources number them ("frame 6",
// "frame 3 at fw-inside", a point being a source's Label or file name);
// Export writes those references as the file written numbers its frames.
type ExportItem struct {
	Offset   int64
	Frame    uint64
	Comments []string
}

// ExportSource is one input capture and the packets to take from it, in
// capture order.
type ExportSource struct {
	Reader *Reader // the Reader the items' offsets come from
	Items  []ExportItem
	// Label is the name the user gave the capture (-r NAME=FILE: a
	// capture point), empty for none. In a pcapng file it names the
	// source's interfaces, and the name they had goes in their
	// description (see exportInterface).
	Label string
}

// ExportFormat returns the output format a file name asks for: "pcapng"
// for a .pcapng name, else "pcap".
func ExportFormat(path string) string {
	if strings.EqualFold(filepath.Ext(path), ".pcapng") {
		return "pcapng"
	}
	return "pcap"
}

// compressedExts are the names of compressed files. An export is written
// uncompressed whatever its name, so one of these would be a pcap file
// that its name says is not.
var compressedExts = []string{".gz", ".gzip", ".tgz", ".z", ".bz2", ".xz", ".lz4", ".zst", ".zip", ".7z"}

// CheckExportName refuses a name that asks for a compressed file. Exports
// are not compressed: on a full disk an export keeps the packets that
// fitted by cutting the file after its last whole record
// (AtomicFile.CommitPartial), and a gzip stream cut anywhere is damaged;
// ending it cleanly would take a trailer written to the full disk. Any
// other name is pcap, or pcapng for .pcapng (ExportFormat).
func CheckExportName(path string) error {
	ext := strings.ToLower(filepath.Ext(path))
	if slices.Contains(compressedExts, ext) {
		return fmt.Errorf("%s: cannot write a compressed (%s) capture: name it .pcapng or .pcap, and compress it afterwards", path, ext)
	}
	return nil
}

// Export writes the sources' items to path, byte for byte with their
// original time stamps, link types and precision, in capture order (source
// by source). A .pcapng path gets one interface per source interface used
// and each packet's own comments, then the item's; a pcap holds one link
// type, and a nanosecond time-stamp format when an interface written has
// finer than microsecond time stamps.
// The file is written atomically and created 0600; an existing one is
// replaced only with overwrite. A compressed name is refused
// (CheckExportName). It returns the number of packets written.
func Export(path string, srcs []ExportSource, overwrite bool) (int, error) {
	if err := CheckExportName(path); err != nil {
		return 0, err
	}
	format := ExportFormat(path)
	var (
		lt      layers.LinkType
		nanos   bool
		snaplen uint32
	)
	if format == "pcap" {
		var err error
		if lt, nanos, snaplen, err = pcapParams(srcs); err != nil {
			return 0, fmt.Errorf("%s: %w", path, err)
		}
	}
	out, err := CreateAtomic(path, overwrite)
	if err != nil {
		return 0, err
	}
	n, err := writeExport(out, format, srcs, lt, nanos, snaplen)
	if err == nil {
		return n, out.Commit()
	}
	if !DiskFull(err) {
		out.Abort()
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	// A full disk: keep the packets that fitted, as a valid capture.
	total := 0
	for _, s := range srcs {
		total += len(s.Items)
	}
	kept, cerr := out.CommitPartial()
	switch {
	case cerr != nil:
		return 0, fmt.Errorf("%s: %v; and keeping what was written failed: %v", path, BareError(err), cerr)
	case kept == 0:
		return 0, fmt.Errorf("%s: %v: nothing written", path, BareError(err))
	}
	return kept, &PartialError{Path: path, Written: kept, Total: total, Err: BareError(err)}
}

// PartialError says that an export stopped part way, its file holding the
// first Written of Total packets as a valid capture.
type PartialError struct {
	Path           string
	Written, Total int
	Err            error
}

func (e *PartialError) Error() string {
	return fmt.Sprintf("%s: %v: the file holds only the first %d of %d packets", e.Path, e.Err, e.Written, e.Total)
}

func (e *PartialError) Unwrap() error { return e.Err }

// DiskFull tells a write that failed for lack of space (a full disk, a
// quota, a file size limit): what Export and a live capture's -w file
// answer by keeping the packets that fitted.
func DiskFull(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) || errors.Is(err, syscall.EFBIG)
}

// pcapParams checks that the items of every source share one link type and
// returns the pcap header's parameters, from the interfaces of the items
// only: a pcapng source's other interfaces are not written. Taken from all
// of them, a flow of Ethernet packets from a file that also held Linux
// cooked ones was refused as "several link types".
func pcapParams(srcs []ExportSource) (lt layers.LinkType, nanos bool, snaplen uint32, err error) {
	found := false
	for _, s := range srcs {
		used, err := usedInterfaces(s)
		if err != nil {
			return 0, false, 0, err
		}
		ifs := s.Reader.Interfaces()
		for _, i := range used {
			in := ifs[i]
			if in.TsResol != 6 {
				nanos = true
			}
			snaplen = max(snaplen, in.SnapLen)
			switch {
			case !found:
				lt, found = in.LinkType, true
			case in.LinkType != lt:
				return 0, false, 0, fmt.Errorf("the packets have several link types (%s and %s): a pcap file holds one; name the file .pcapng", LinkTypeName(lt), LinkTypeName(in.LinkType))
			}
		}
	}
	// No packet to write: the file still says what the capture was, as
	// tcpdump's does (it said link type 0, BSD loopback).
	if !found {
		for _, s := range srcs {
			if ifs := s.Reader.Interfaces(); len(ifs) > 0 {
				return ifs[0].LinkType, ifs[0].TsResol != 6, ifs[0].SnapLen, nil
			}
		}
	}
	return lt, nanos, snaplen, nil
}

// usedInterfaces returns the indexes (in Reader.Interfaces) of the
// interfaces that s's items were captured on, in order. An item says only
// where its record is, so with several interfaces the records are read
// (their headers decide); with one, none is.
func usedInterfaces(s ExportSource) ([]int, error) {
	if len(s.Items) == 0 {
		return nil, nil
	}
	ifs := s.Reader.Interfaces()
	if len(ifs) == 1 {
		return []int{0}, nil
	}
	rr, err := s.Reader.Rereader()
	if err != nil {
		return nil, err
	}
	defer rr.Close()
	seen := make([]bool, len(ifs))
	for _, it := range sortedItems(s.Items) {
		rec, err := rr.ReadAt(it.Offset, it.Frame)
		if err != nil {
			return nil, err
		}
		if rec.Interface >= 0 && rec.Interface < len(seen) {
			seen[rec.Interface] = true
		}
	}
	var used []int
	for i, ok := range seen {
		if ok {
			used = append(used, i)
		}
	}
	return used, nil
}

// sortedItems returns a copy of items in frame order, the order they are
// written in (and read in: a gzip source is read forwards).
func sortedItems(items []ExportItem) []ExportItem {
	items = slices.Clone(items)
	slices.SortFunc(items, func(a, b ExportItem) int { return cmp.Compare(a.Frame, b.Frame) })
	return items
}

// exportInterface is source interface i as an export names it: by the
// source's label when it has one (its only interface "fw-inside", several
// "fw-inside eth0", "fw-inside #2"), else by its own name or, without
// one, the file's base name (the path as typed put the user's directories
// in a file handed to a vendor). A labelled interface keeps its
// description, or is described by the file and the name it had, so that
// tshark's frame.interface_description still tells where the packets came
// from. Its comments are kept, but for the marks of the capture point it
// was in (an export of points marks its interfaces anew). ifs are the
// source's Interfaces, taken once: a copy of them all for each interface
// written made an export of many interfaces quadratic.
func exportInterface(s ExportSource, ifs []Interface, i int) Interface {
	in := ifs[i]
	in.Comments = slices.DeleteFunc(slices.Clone(in.Comments), isPointComment)
	file := filepath.Base(s.Reader.Name())
	if s.Label == "" {
		if in.Name == "" {
			in.Name = file
		}
		return in
	}
	own := in.Name
	switch {
	case len(ifs) == 1:
		in.Name = s.Label
	case own == s.Label || strings.HasPrefix(own, s.Label+" "):
		// Named so by an export of the points already ("fw-inside
		// eth0", "fw-inside #2"), read back as the point's.
	case own != "":
		in.Name = s.Label + " " + own
	default:
		in.Name = fmt.Sprintf("%s #%d", s.Label, i+1)
	}
	if in.Description == "" {
		in.Description = file
		if own != "" {
			in.Description = file + ", interface " + own
		}
	}
	return in
}

// pointNames names the sources as points (their labels, or their files'
// base names, as exportNumbering does), each name once: a second source
// of one name gets " (2)", and so on, for the marks to tell them apart.
func pointNames(srcs []ExportSource) []string {
	names := make([]string, len(srcs))
	seen := map[string]bool{}
	for i, s := range srcs {
		name := s.Label
		if name == "" {
			name = filepath.Base(s.Reader.Name())
		}
		for k := 2; seen[name]; k++ {
			name = fmt.Sprintf("%s (%d)", strings.TrimSuffix(name, fmt.Sprintf(" (%d)", k-1)), k)
		}
		seen[name] = true
		names[i] = name
	}
	return names
}

func writeExport(w io.Writer, format string, srcs []ExportSource, lt layers.LinkType, nanos bool, snaplen uint32) (int, error) {
	var (
		pw  *PcapWriter
		nw  *PcapngWriter
		err error
	)
	// Several sources are the capture points of a path: each point's
	// interfaces are marked with it (PointComment), so that the file is
	// read back as the points, not as one capture that merges them.
	points := format == "pcapng" && len(srcs) > 1
	var names []string
	if format == "pcap" {
		pw, err = NewPcapWriter(w, lt, snaplen, nanos)
	} else if points {
		names = pointNames(srcs)
		nw, err = NewPcapngWriter(w, fmt.Sprintf("synscope: %d capture points of one path, client side first: %s. The comment of each interface names its point (%s); synscope -r reads each point as its own capture",
			len(names), strings.Join(names, ", "), PointComment(1, len(names), names[0])))
	} else {
		nw, err = NewPcapngWriter(w)
	}
	if err != nil {
		return 0, err
	}
	n := 0
	ids := make([]map[int]int, len(srcs)) // per source: source interface index → output interface id
	for i := range ids {
		ids[i] = map[int]int{}
	}
	noItems := !slices.ContainsFunc(srcs, func(s ExportSource) bool { return len(s.Items) > 0 })
	if nw != nil && (noItems || points) {
		// Without a packet the interfaces still say what the captures
		// were. A point's are written first, before any packet, where
		// a reader looks for them (Reader.Points), with those of
		// a point without packets: the file still has the point.
		for si, s := range srcs {
			var use []int
			if !noItems {
				if use, err = usedInterfaces(s); err != nil {
					return 0, err
				}
			}
			ifs := s.Reader.Interfaces()
			if len(use) == 0 {
				for i := range ifs {
					use = append(use, i)
				}
			}
			for _, i := range use {
				in := exportInterface(s, ifs, i)
				if points {
					in.Comments = append(in.Comments, PointComment(si+1, len(srcs), names[si]))
				}
				if ids[si][i], err = nw.AddInterfaceLike(in); err != nil {
					return 0, err
				}
			}
			if points && len(use) == 0 {
				// A pcapng source without an interface (nor a
				// packet) is still a point.
				if _, err = nw.AddInterfaceLike(Interface{Name: names[si], Comments: []string{PointComment(si+1, len(srcs), names[si])}}); err != nil {
					return 0, err
				}
			}
		}
	}
	sorted := make([][]ExportItem, len(srcs))
	for i, s := range srcs {
		sorted[i] = sortedItems(s.Items)
	}
	num := newExportNumbering(srcs, sorted)
	var comments []string
	for si, s := range srcs {
		if len(s.Items) == 0 {
			continue
		}
		rr, err := s.Reader.Rereader()
		if err != nil {
			return n, err
		}
		ids := ids[si]
		var ifs []Interface
		for _, it := range sorted[si] {
			rec, err := rr.ReadAt(it.Offset, it.Frame)
			if err != nil {
				rr.Close()
				return n, err
			}
			if pw != nil {
				err = pw.WritePacket(rec)
			} else {
				id, ok := ids[rec.Interface]
				if !ok {
					if rec.Interface >= len(ifs) {
						// Found since (a source still read).
						ifs = s.Reader.Interfaces()
					}
					in := exportInterface(s, ifs, rec.Interface)
					if id, err = nw.AddInterfaceLike(in); err != nil {
						rr.Close()
						return n, err
					}
					ids[rec.Interface] = id
				}
				// The packet's own comments first, as tshark keeps
				// them, then ours, naming frames as the file does.
				// Those an earlier export of synscope's wrote are
				// written anew: kept, they named frames as that file
				// numbered them, and an export of an export had each
				// finding twice.
				comments = comments[:0]
				for _, c := range rr.Comments() {
					if !strings.HasPrefix(c, "synscope: ") {
						comments = append(comments, c)
					}
				}
				for _, c := range it.Comments {
					comments = append(comments, num.rewrite(si, c))
				}
				err = nw.WritePacket(id, rec, comments...)
			}
			if err != nil {
				rr.Close()
				return n, err
			}
			n++
		}
		rr.Close()
	}
	if pw != nil {
		return n, pw.Flush()
	}
	return n, nw.Flush()
}
