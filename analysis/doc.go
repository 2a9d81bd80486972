// Package analysis decodes packets, groups them into TCP flows and applies
// the rules of the synscope analysis contract (handshake validity, Wireshark's
// tcp.analysis checks, checksums, Zeek's conn_state and history). It is pure:
// it imports no UI package and knows nothing of terminals or colours.
package analysis
