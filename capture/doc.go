// Package capture reads packets from pcap and pcapng files, standard input
// and live interfaces (OpenLive: afpacket on Linux, go-pcap on macOS), and
// writes them (PcapWriter, PcapngWriter, Export, Spool). It knows nothing of flows: each packet comes
// out as a Record with its frame number and its byte offset in the file, so
// that any packet can be read again later without being held in memory.
//
// # Formats
//
// Open and NewReader recognise by content, not by name: classic pcap with
// microsecond or nanosecond time stamps in either byte order, Kuznetzov's
// "modified pcap", and pcapng with any number of sections (each with its
// own byte order) and interfaces (each with its own link type and time
// stamp resolution); any of them gzip compressed. Reader.Next returns the
// packets one by one, reusing its buffers: in the steady state it
// allocates nothing. Rereader reads a packet again from its Record.Offset.
//
// # Capture points
//
// An Export of several captures (the points of one path) marks each
// point's interfaces with an interface comment, PointComment's "synscope
// point 2 of 3: fw-inside". FilePoints tells a file so marked, and
// OpenPoint reads one of its points as if it were a file of its own
// (Reader.SelectPoint): frames numbered within the point, its interfaces
// only.
//
// # Damage
//
// A file that is not a capture at all is refused by Open with an error
// naming it. A capture that is cut short or corrupt somewhere gives all the
// packets before the damage, then a *DamageError that says where (the byte
// offset of the bad record or block) and after which frame. Lengths claimed
// by headers are checked before anything is allocated for them: a packet
// may hold at most MaxCapLen bytes, a pcapng block at most MaxBlockLen, and
// a block's buffer only grows as its bytes actually arrive. Every error is
// a single line that starts with the file's name. Bytes after the end of
// gzip data that are not gzip are damage too, said as such.
//
// # Stopping
//
// OpenContext ties the reading to a context: opening a FIFO that waits for
// a writer, and reading a pipe, FIFO, terminal or socket that waits for
// data, give way when it is done, with an *InterruptedError that says
// after which frame reading stopped and why (the context's cause). It is
// not damage. Reader.Interrupted makes the same error for a caller that
// stops reading a file between packets.
//
// # Differences from libpcap and Wireshark
//
// The packet counts agree with Wireshark's on the tcpdump test suite
// captures, except where noted. Deliberate differences:
//
//   - The pcap link type is the low 16 bits of the header field, as the
//     pcap specification and libpcap say; Wireshark 4.0 refuses files
//     with bits set above them, and link types it does not know, whole.
//   - Packets longer than the file's snapshot length are returned whole
//     (libpcap cuts them to the snapshot length); packets longer than
//     MaxCapLen are damage, whatever the link type (libpcap and Wireshark
//     allow more for D-Bus, USBPcap and EBHSCR captures).
//   - A record whose original length is less than its captured length
//     gets OrigLen = CapLen.
//   - A pcap sub-second field out of range (a million microseconds or
//     more) is added as it is; Wireshark overflows it, tcpdump prints it
//     as it is.
//   - The link-layer header is returned as it is in the file: Wireshark
//     moves some of them (SunATM, for one) into a pseudo-header.
//   - Malformed pcapng options are ignored rather than reported as
//     damage; an interface description block's are noted (Reader.Notes),
//     as they may hide the interface's time resolution or offset.
//   - pcapng files with several link types or byte orders are read
//     (libpcap refuses them; Wireshark reads them too).
//   - Simple Packet Blocks have no time stamp: their Timestamp is 0.
//   - pcapng sections that describe an interface alike share it: a day of
//     per-second files joined with cat has one interface, where Wireshark
//     has one a section (frame.interface_id), so Record.Interface is not
//     Wireshark's number. At most 65,536 interfaces in one section, and
//     as many different ones in a file, are read.
//   - A pcapng time before 1677-09-21 or after 2262-04-11 is the nearest
//     an int64 of nanoseconds holds, noted; Wireshark shows it.
//   - A second pcap file header where a record was due (files joined with
//     cat), with the first's format and link type, is read past, noted;
//     libpcap and Wireshark read it as a record and stop with an error.
//   - Direction comes from the pcapng epb_flags option, or from the
//     packet type of modified pcap records and of Linux cooked (SLL,
//     SLL2) headers; Wireshark shows only the first.
package capture
