package capture

import (
	"fmt"

	"github.com/gopacket/gopacket/layers"
)

// Direction tells whether a packet was received or sent by the capturing
// host, when the capture file says so.
type Direction uint8

// Directions. The numbering follows bits 0-1 of the pcapng epb_flags option.
const (
	DirUnknown  Direction = 0 // the file does not say
	DirInbound  Direction = 1 // received by the capturing host
	DirOutbound Direction = 2 // sent by the capturing host
)

// String returns "unknown", "inbound" or "outbound".
func (d Direction) String() string {
	switch d {
	case DirInbound:
		return "inbound"
	case DirOutbound:
		return "outbound"
	case DirUnknown:
		return "unknown"
	}
	return fmt.Sprintf("Direction(%d)", uint8(d))
}

// directionFromFlags decodes bits 0-1 of a pcapng epb_flags (or the
// obsolete pack_flags) option: 01 inbound, 10 outbound, 00 and 11 unknown.
func directionFromFlags(flags uint32) Direction {
	switch flags & 3 {
	case 1:
		return DirInbound
	case 2:
		return DirOutbound
	}
	return DirUnknown
}

// Linux packet types (sll_pkttype, <linux/if_packet.h>), as found in Linux
// "cooked" capture headers and in the "modified pcap" record header.
const (
	sllHost      = 0 // PACKET_HOST: addressed to us
	sllBroadcast = 1 // PACKET_BROADCAST
	sllMulticast = 2 // PACKET_MULTICAST
	sllOtherHost = 3 // PACKET_OTHERHOST: seen in promiscuous mode
	sllOutgoing  = 4 // PACKET_OUTGOING: sent by us
)

// DirectionFromSLLPacketType maps a Linux packet type (the sll_pkttype field
// of a LINKTYPE_LINUX_SLL or LINUX_SLL2 header) to a Direction: host,
// broadcast, multicast and other-host packets were received, outgoing ones
// were sent; anything else (loopback, fastroute, unknown) is DirUnknown.
func DirectionFromSLLPacketType(t uint16) Direction {
	switch t {
	case sllHost, sllBroadcast, sllMulticast, sllOtherHost:
		return DirInbound
	case sllOutgoing:
		return DirOutbound
	}
	return DirUnknown
}

// linkDirection derives a direction from the link-layer header of Linux
// "cooked" captures (tcpdump -i any), which carry the packet type in every
// packet. It returns DirUnknown for other link types or short packets.
func linkDirection(lt layers.LinkType, data []byte) Direction {
	switch lt {
	case layers.LinkTypeLinuxSLL:
		// struct sll_header: the packet type is the first field, 16 bits
		// in network byte order.
		if len(data) >= 2 {
			return DirectionFromSLLPacketType(uint16(data[0])<<8 | uint16(data[1]))
		}
	case layers.LinkTypeLinuxSLL2:
		// struct sll2_header: protocol(2) reserved(2) ifindex(4)
		// hatype(2) pkttype(1) ...
		if len(data) >= 11 {
			return DirectionFromSLLPacketType(uint16(data[10]))
		}
	}
	return DirUnknown
}

// Record is one captured packet.
//
// A Record returned by Reader.Next or Rereader.ReadAt, and the bytes its Data
// field points to, belong to the reader and are valid only until the next
// call on that reader: copy whatever must be kept.
type Record struct {
	// Frame is the 1-based number of the packet within the file, as
	// Wireshark counts frames (every packet block of every section).
	Frame uint64
	// Offset is the byte offset of the record header (pcap) or of the
	// packet block (pcapng) in the decompressed stream; Rereader.ReadAt
	// takes it back.
	Offset int64
	// Timestamp is the capture time in Unix nanoseconds, with the pcapng
	// if_tsresol and if_tsoffset applied. Simple Packet Blocks carry no
	// time stamp at all; their Timestamp is 0. A pcapng time before
	// 1677-09-21 or after 2262-04-11 is the nearest an int64 holds, and
	// Reader.Notes says so.
	Timestamp int64
	// CapLen is the number of bytes captured, len(Data).
	CapLen uint32
	// OrigLen is the length of the packet on the wire. It is never less
	// than CapLen: a record claiming fewer original bytes than it holds
	// gets OrigLen = CapLen (tcpdump prints such packets too).
	OrigLen uint32
	// LinkType is the link-layer header type of Data.
	LinkType layers.LinkType
	// Interface is the index of the packet's interface in
	// Reader.Interfaces(); it is 0 for classic pcap. Interfaces are
	// numbered across all the sections of a pcapng file, but unlike
	// Wireshark's numbers, sections that describe an interface alike
	// share one (Reader.Interfaces says which are kept).
	Interface int
	// Direction is inbound or outbound when the file says so: the pcapng
	// epb_flags option, the packet type of the modified pcap format, or
	// the packet type of a Linux cooked (SLL, SLL2) header.
	Direction Direction
	// Data holds the captured bytes. See the note on Record about its
	// lifetime.
	Data []byte
	// odd marks what the record header said that cannot be right but was
	// read anyway (oddFrac, oddLen, oddTime), for Reader.Notes; oddVal is
	// the sub-second field, oddOrig the original length claimed, oddStamp
	// the time that did not fit (stampNanos).
	odd      uint8
	oddVal   uint32
	oddOrig  uint32
	oddStamp [2]uint64
}

// Record.odd bits.
const (
	oddFrac uint8 = 1 << iota // a pcap sub-second field out of range
	oddLen                    // fewer original bytes than captured
	oddTime                   // a pcapng time outside what an int64 of nanoseconds holds
)

// Interface describes one capture interface: the single implied interface
// of a classic pcap file, or one Interface Description Block of a pcapng
// file.
type Interface struct {
	// Index is the interface's position in Reader.Interfaces() and the
	// value found in Record.Interface.
	Index int
	// Section is the 0-based number of the pcapng section that defined
	// the interface (0 for pcap), ID the interface number within that
	// section, which is what the packet blocks name: for an interface that
	// several sections describe alike, the first of them whose packets
	// named it.
	Section int
	ID      int
	// LinkType is the link-layer header type of the interface's packets.
	LinkType layers.LinkType
	// SnapLen is the snapshot length the interface declared (0: none).
	SnapLen uint32
	// TsResol is the raw if_tsresol value: with the high bit clear, time
	// stamps count units of 10^-TsResol seconds; with it set, units of
	// 2^-(TsResol&0x7f) seconds. The default is 6 (microseconds); classic
	// pcap files have 6, or 9 for the nanosecond format.
	TsResol uint8
	// TsOffset is the if_tsoffset option, in seconds, already added to
	// the Record timestamps.
	TsOffset int64
	// FCSLen is the number of frame check sequence bytes at the end of
	// each packet (if_fcslen, or the FCS bits of a pcap link type), -1
	// when unknown.
	FCSLen int
	// Name, Description, Filter and OS are the if_name, if_description,
	// if_filter (its text, without the leading type byte) and if_os
	// options, when present.
	Name        string
	Description string
	Filter      string
	OS          string
	// Comments are the interface's comments (opt_comment), in order. An
	// export of several capture points marks each interface with its
	// point in one (PointComment).
	Comments []string
}

// DamageError reports a capture file that cannot be read past some point:
// truncated, corrupted or hostile. All the records before the damage have
// been returned; the reader returns the same error from then on.
type DamageError struct {
	Path   string // the file's name, as given to Open or NewReader
	Offset int64  // offset of the damaged record or block in the (decompressed) stream
	Frame  uint64 // the last good frame, 0 if none
	Reason string // what is wrong, one line
	// Err is the underlying cause when there is one: io.ErrUnexpectedEOF
	// for a file that ends in the middle of a record, a gzip or flate
	// error for corrupt compressed data. It is nil for inconsistent
	// headers.
	Err error
}

// Error returns "<path>: damaged at byte N after frame K: reason"; before
// the first frame, "at byte N, before the first frame", and at byte 0 (the
// file's header) "at byte 0" alone.
func (e *DamageError) Error() string {
	switch {
	case e.Frame > 0:
		return fmt.Sprintf("%s: damaged at byte %d after frame %d: %s", e.Path, e.Offset, e.Frame, e.Reason)
	case e.Offset > 0:
		return fmt.Sprintf("%s: damaged at byte %d, before the first frame: %s", e.Path, e.Offset, e.Reason)
	}
	return fmt.Sprintf("%s: damaged at byte 0: %s", e.Path, e.Reason)
}

// Unwrap returns the underlying cause, if any, so that
// errors.Is(err, io.ErrUnexpectedEOF) tells a truncated capture.
func (e *DamageError) Unwrap() error { return e.Err }
