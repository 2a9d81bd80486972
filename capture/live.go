package capture

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gopacket/gopacket/layers"
	"golang.org/x/net/bpf"
)

// Defaults for LiveOptions.
const (
	// DefaultSnapLen is tcpdump's default snapshot length.
	DefaultSnapLen = 262144
	// DefaultBufferSize is the size of the kernel ring when
	// LiveOptions.BufferSize is 0. tcpdump's default is 2 MiB; a firewall
	// box sees bursts, and the ring is all that absorbs them.
	DefaultBufferSize = 32 << 20
	// MinBufferSize is the smallest ring OpenLive sets up: two blocks.
	MinBufferSize = 256 << 10
)

// pollSlice is how long the backend waits for a packet before Next looks
// whether Close was called: it bounds the time Close takes to stop a Next
// that is waiting.
const pollSlice = 25 * time.Millisecond

// ErrPermission is matched (errors.Is) by the error OpenLive returns when
// the process may not capture: a *PermissionError, whose text is the one
// line to show the user.
var ErrPermission = errors.New("capture: permission denied")

// ErrTimeout is returned by LiveSource.Next when LiveOptions.Timeout passed
// without a packet. The source is still open: call Next again.
var ErrTimeout = errors.New("capture: no packet before the timeout")

// ErrInterfaceRemoved is matched (errors.Is) by the error LiveSource.Next
// returns, "capturing on IFACE: the interface was removed", once the
// interface is gone (ip link del, or moved to another network namespace)
// and every packet the kernel had taken from it was returned. An interface
// that only goes down does not end the capture (LiveOptions.OnLink).
var ErrInterfaceRemoved = errors.New("the interface was removed")

// LinkChange tells that the interface captured on went down (ip link set
// down, an HA failover) or came back up. The capture goes on through
// both: while the link is down no packet comes, and the packets the
// kernel took before it went down are all returned.
type LinkChange struct {
	Up   bool      // it came back up; false: it went down
	Time time.Time // when the capture saw it
}

// PermissionError says that capturing on an interface needs a privilege
// the process lacks. Its Error is a single line telling what to do.
type PermissionError struct {
	Interface string // the interface asked for
	Binary    string // the program's path, for the setcap advice
	Err       error  // the system's error (EPERM, EACCES)
}

// Error returns "capturing on IFACE needs CAP_NET_RAW: run as root, or
// setcap cap_net_raw,cap_net_admin+eip BINARY" (on macOS, where there are
// no capabilities, it says that the BPF devices need root).
func (e *PermissionError) Error() string {
	if runtime.GOOS == "darwin" {
		return fmt.Sprintf("capturing on %s needs access to the BPF devices (/dev/bpf*): run as root", e.Interface)
	}
	return fmt.Sprintf("capturing on %s needs CAP_NET_RAW: run as root, or setcap cap_net_raw,cap_net_admin+eip %s", e.Interface, e.Binary)
}

// Is makes errors.Is(err, ErrPermission) true.
func (e *PermissionError) Is(target error) bool { return target == ErrPermission }

// Unwrap returns the system's error.
func (e *PermissionError) Unwrap() error { return e.Err }

func permissionError(iface string, err error) error {
	bin, xerr := os.Executable()
	if xerr != nil || bin == "" {
		bin = os.Args[0]
	}
	return &PermissionError{Interface: iface, Binary: bin, Err: err}
}

// LiveOptions says what to capture and how.
type LiveOptions struct {
	// Interface is the interface name, or "any" for all of them (Linux).
	Interface string
	// SnapLen is the most bytes kept of each packet; 0 means
	// DefaultSnapLen. With "any" and other cooked captures it counts the
	// 20-byte LINUX_SLL2 header, as in libpcap.
	SnapLen int
	// Promisc puts the interface in promiscuous mode for as long as the
	// source is open (tcpdump's default; -p turns it off). It is ignored
	// for "any", which has no such mode.
	Promisc bool
	// BufferSize is the size of the kernel's packet ring in bytes (tcpdump
	// -B takes KiB); 0 means DefaultBufferSize, and it is at least
	// MinBufferSize.
	BufferSize int
	// Filter is a classic BPF program to attach to the socket, compiled
	// for the link type FilterLinkType(Interface) reports; nil captures
	// everything. Its accept values are lowered to SnapLen. Packets the
	// kernel took before it was attached are not returned. It is a
	// pre-filter: apply the expression to the decoded packets as well.
	Filter []bpf.Instruction
	// Timeout is how long Next waits for a packet before it returns
	// ErrTimeout; 0 means until a packet comes or Close is called.
	Timeout time.Duration
	// OnLink, if set, is called when the interface goes down or comes
	// back up (Linux; not for "any", which no interface takes down). It
	// runs in the goroutine calling Next, before Next returns: it must
	// not call the source.
	OnLink func(LinkChange)
}

// LiveStats are a live source's counters since it was opened. The kernel
// counters (Received, Dropped, QueueFreezes) start when the filter, if any,
// was attached; on macOS they are zero (the backend has none).
type LiveStats struct {
	// Received is what the kernel counted: packets that passed the
	// socket's filter, including the Dropped ones (tcpdump's "received
	// by filter"). On the loopback device each packet counts twice: its
	// outgoing and incoming copies.
	Received uint64
	// Dropped is the packets the kernel could not put in the ring
	// because it was full (tcpdump's "dropped by kernel").
	Dropped uint64
	// QueueFreezes is how many times the ring filled up and the kernel
	// froze it until a block was given back (TPACKET_V3 tp_freeze_q_cnt).
	QueueFreezes uint64
	// Captured is the packets Next returned.
	Captured uint64
	// Duplicates is the outgoing copies of loopback packets that were
	// skipped, as libpcap skips them (see dedupe.go).
	Duplicates uint64
}

// liveBackend is the platform's part of a LiveSource.
type liveBackend interface {
	// next waits up to about pollSlice for a packet and appends it to
	// buf[:0], link-layer header first, or returns the packet's bytes
	// where they are (meta.borrowed) when it has nothing to add. It
	// returns errNoPacket when none came in time; skip is set (and out
	// is empty) for a packet to leave out, such as a loopback duplicate,
	// and when meta.link is the only news.
	next(buf []byte) (out []byte, meta packetMeta, err error)
	// stats returns the kernel's counters since the source was opened.
	stats() (kernelStats, error)
	// settle reads the counters for the last time, as stats, and
	// reports whether next can then return exactly the packets they
	// counted, and errSettled after the last of them.
	settle() (kernelStats, bool, error)
	// close releases the socket. next is not running.
	close() error
}

// packetMeta is what a backend tells about a packet besides its bytes.
type packetMeta struct {
	ts      int64 // Unix nanoseconds
	origLen int   // length on the wire, with any header we added
	dir     Direction
	skip    bool // leave the packet out (a loopback duplicate)
	// borrowed is set when out is the backend's own bytes (the kernel's
	// ring), valid until the next call, rather than appended to buf.
	borrowed bool
	// link, if set, is news of the interface to pass on first
	// (LiveOptions.OnLink); with skip, it is all there is.
	link *LinkChange
}

type kernelStats struct {
	received, dropped, freezes, duplicates uint64
}

// errNoPacket is a backend's "nothing yet".
var errNoPacket = errors.New("no packet yet")

// errSettled is a settled backend's "every packet counted was returned".
var errSettled = errors.New("every packet counted was returned")

// liveInfo is what a backend knows once open.
type liveInfo struct {
	linkType     layers.LinkType
	kernelFilter bool // the Filter is attached to the socket
	bufferSize   int  // the ring's actual size
}

// LiveSource captures packets from a network interface. Next returns them
// one by one like Reader.Next; Close, from any goroutine, stops it.
type LiveSource struct {
	name    string
	snaplen int
	timeout time.Duration
	onLink  func(LinkChange)
	info    liveInfo

	mu     sync.Mutex // held by Next; Close takes it to release the socket
	closed atomic.Bool
	be     liveBackend // nil once closed
	frame  uint64
	rec    Record
	buf    []byte

	statsMu  sync.Mutex
	final    *kernelStats // the counters at Close
	beClosed bool
	closeErr error
	captured atomic.Uint64
}

// OpenLive opens a live capture. It fails with a *PermissionError
// (errors.Is(err, ErrPermission)) when the process may not capture, and
// with a one-line error naming the interface otherwise.
func OpenLive(opts LiveOptions) (*LiveSource, error) {
	if opts.Interface == "" {
		return nil, errors.New("capture: no interface given")
	}
	if opts.SnapLen < 0 || opts.BufferSize < 0 || opts.Timeout < 0 {
		return nil, fmt.Errorf("capturing on %s: negative snapshot length, buffer size or timeout", opts.Interface)
	}
	if opts.SnapLen == 0 {
		opts.SnapLen = DefaultSnapLen
	}
	opts.SnapLen = min(opts.SnapLen, MaxCapLen)
	if opts.BufferSize == 0 {
		opts.BufferSize = DefaultBufferSize
	}
	opts.BufferSize = max(opts.BufferSize, MinBufferSize)
	prog, userFilter := opts.Filter, opts.Filter != nil
	if !userFilter && opts.SnapLen < DefaultSnapLen {
		// Have the kernel copy no more than we keep.
		prog = []bpf.Instruction{bpf.RetConstant{Val: uint32(opts.SnapLen)}}
	}
	var raw []bpf.RawInstruction
	if prog != nil {
		var err error
		raw, err = bpf.Assemble(clampFilter(prog, uint32(opts.SnapLen)))
		if err != nil {
			return nil, fmt.Errorf("capturing on %s: bad filter program: %v", opts.Interface, err)
		}
	}
	be, info, err := openBackend(opts, raw, userFilter)
	if err != nil {
		return nil, err
	}
	return &LiveSource{
		name:    opts.Interface,
		snaplen: opts.SnapLen,
		timeout: opts.Timeout,
		onLink:  opts.OnLink,
		info:    info,
		be:      be,
	}, nil
}

// clampFilter returns prog with every constant accept value above snaplen
// lowered to it, so that the kernel copies no more than snaplen bytes.
func clampFilter(prog []bpf.Instruction, snaplen uint32) []bpf.Instruction {
	out := make([]bpf.Instruction, len(prog))
	for i, in := range prog {
		if r, ok := in.(bpf.RetConstant); ok && r.Val > snaplen {
			in = bpf.RetConstant{Val: snaplen}
		}
		out[i] = in
	}
	return out
}

// Next returns the next packet. The Record and its Data are valid until the
// next call to Next. Its Frame counts the packets returned, from 1; its
// Offset is -1 (it is in no file); Timestamp has nanoseconds; Interface is
// 0. After Close, Next returns io.EOF; with LiveOptions.Timeout it may
// return ErrTimeout. Other errors come from the system and end the
// capture: the interface was removed (ErrInterfaceRemoved), for one. An
// interface going down is not one of them: Next waits for it to come back
// up, and tells LiveOptions.OnLink.
func (s *LiveSource) Next() (*Record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.next(false)
}

// NextFunc calls fn with the next packet, as Next returns it, except that
// its Data may be the kernel's ring itself, valid only while fn runs (Close
// waits for it): fn must copy what it keeps. It saves the copy Next makes
// out of the ring, which was a sixth of the capture goroutine's time at
// 300,000 packets a second. Errors are Next's; fn is not called then.
func (s *LiveSource) NextFunc(fn func(*Record)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, err := s.next(true)
	if err != nil {
		return err
	}
	fn(rec)
	return nil
}

// next is Next, under s.mu. With borrow, the record's Data may be the
// backend's bytes (meta.borrowed); otherwise they are copied into s.buf.
func (s *LiveSource) next(borrow bool) (*Record, error) {
	var deadline time.Time
	if s.timeout > 0 {
		deadline = time.Now().Add(s.timeout)
	}
	for {
		if s.closed.Load() || s.be == nil {
			return nil, io.EOF
		}
		out, meta, err := s.be.next(s.buf)
		if meta.link != nil && s.onLink != nil {
			s.onLink(*meta.link)
		}
		if err == errSettled {
			return nil, io.EOF
		}
		if err == errNoPacket {
			if !deadline.IsZero() && !time.Now().Before(deadline) {
				return nil, ErrTimeout
			}
			continue
		}
		if err != nil {
			if s.closed.Load() {
				return nil, io.EOF
			}
			return nil, fmt.Errorf("capturing on %s: %w", s.name, err)
		}
		if meta.skip {
			continue
		}
		switch {
		case !meta.borrowed:
			s.buf = out[:0] // it may have grown
		case !borrow:
			out = append(s.buf[:0], out...)
			s.buf = out[:0]
		}
		if len(out) > s.snaplen {
			out = out[:s.snaplen]
		}
		s.frame++
		s.captured.Add(1)
		s.rec = Record{
			Frame:     s.frame,
			Offset:    -1,
			Timestamp: meta.ts,
			CapLen:    uint32(len(out)),
			OrigLen:   uint32(max(meta.origLen, len(out))),
			LinkType:  s.info.linkType,
			Direction: meta.dir,
			Data:      out,
		}
		return &s.rec, nil
	}
}

// Stats returns the counters. It may be called from any goroutine, also
// after Close, which keeps the last counts.
func (s *LiveSource) Stats() (LiveStats, error) {
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	st := LiveStats{Captured: s.captured.Load()}
	var k kernelStats
	switch {
	case s.final != nil:
		k = *s.final
	case s.beClosed:
	default:
		var err error
		if k, err = s.be.stats(); err != nil {
			return st, fmt.Errorf("capturing on %s: reading the kernel's counters: %w", s.name, err)
		}
	}
	st.Received, st.Dropped, st.QueueFreezes, st.Duplicates = k.received, k.dropped, k.freezes, k.duplicates
	return st, nil
}

// Settle ends the capture's counts, for a stop that keeps what the kernel
// already has: it reads the kernel's counters for the last time (Stats
// returns them from now on), and Next returns the packets they counted
// that it has not returned yet, then io.EOF. Those include the packets in
// the ring block the kernel is still filling, which it hands over within
// a period or two of its retire timer: wait for them (Next's ErrTimeout)
// as long as a stop may take. Packets that came after Settle are not
// returned, so that every packet the kernel counted as received and not
// as dropped is returned, and no other. Reading the counters when the
// reading stopped, as tcpdump does, counted the packets that came
// between the two, which were never returned: at the stop of
// TestLiveLinkFlap, a veth's IPv6 MLD reports (a hop-by-hop header, let
// through by the kernel filter for "tcp" for the decoder to look at), up
// to 3 of them with the gap widened to 1 s.
//
// exact is false where the backend cannot tell which packets the
// counters counted (macOS): Next then goes on returning packets, and the
// caller stops reading when it likes. Settle, like Next, must not be
// called while a Next runs.
func (s *LiveSource) Settle() (exact bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	if s.be == nil || s.final != nil {
		return false, nil
	}
	k, exact, err := s.be.settle()
	if err != nil {
		return false, fmt.Errorf("capturing on %s: reading the kernel's counters: %w", s.name, err)
	}
	s.final = &k
	return exact, nil
}

// Close stops the capture and releases the socket (and the promiscuous
// mode). A Next waiting in another goroutine returns io.EOF within about
// 25 ms. Close may be called more than once, from any goroutine. Unless
// Settle read them, the kernel's counters are read for the last time.
func (s *LiveSource) Close() error {
	s.closed.Store(true)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	if s.be == nil {
		return s.closeErr
	}
	if s.final == nil { // else Settle read them
		if k, err := s.be.stats(); err == nil {
			s.final = &k
		}
	}
	s.closeErr = s.be.close()
	s.be = nil
	s.beClosed = true
	return s.closeErr
}

// Name returns the interface name the source was opened on.
func (s *LiveSource) Name() string { return s.name }

// LinkType returns the link type of the records: Ethernet for Ethernet
// and loopback devices, LINUX_SLL2 for "any" and other devices (Linux
// cooked capture), NULL for the macOS loopback.
func (s *LiveSource) LinkType() layers.LinkType { return s.info.linkType }

// KernelFilter reports whether LiveOptions.Filter is attached to the
// socket (it is not on macOS).
func (s *LiveSource) KernelFilter() bool { return s.info.kernelFilter }

// BufferSize returns the size of the kernel ring actually set up (0 on
// macOS, whose BPF buffer go-pcap does not report).
func (s *LiveSource) BufferSize() int { return s.info.bufferSize }

// Interface describes the source as a capture interface, for writing its
// packets to a pcapng file: name, link type, snapshot length, nanosecond
// time stamps.
func (s *LiveSource) Interface() Interface {
	return Interface{
		Name:     s.name,
		LinkType: s.info.linkType,
		SnapLen:  uint32(s.snaplen),
		TsResol:  9,
		FCSLen:   -1,
	}
}
