// Package capture reads packets from pcap and pcapng files, standard input
// and (later) live interfaces. It knows nothing of flows: each packet comes
// out as a Record with its frame number and its byte offset in the file, so
// that any packet can be read again later without being held in memory.
package capture
