package main

import (
	"bytes"
	"context"
	"embed"
	"path"

	"github.com/synscope/synscope/capture"
)

// demoFS holds the seed incident's three captures, so that --demo shows
// the point of synscope with one command and no file at hand: the client's
// capture (the SYN-ACK arrives with 2 bytes of payload, the client ACKs
// them), the firewall's inside interface (the same SYN-ACK left with 2
// bytes of Ethernet padding) and its outside interface.
//
//go:embed testdata/seed-client.pcap testdata/seed-inside.pcap testdata/seed-outside.pcap
var demoFS embed.FS

// demoFiles are the embedded captures, in path order (client side first),
// with the names of their capture points.
var demoFiles = []struct{ point, file string }{
	{"client", "testdata/seed-client.pcap"},
	{"fw-inside", "testdata/seed-inside.pcap"},
	{"fw-outside", "testdata/seed-outside.pcap"},
}

// demoInputs returns the embedded captures as inputs, labelled as
// -r NAME=FILE labels them. A bytes.Reader is an io.ReaderAt, so the
// drill-down can read their packets again.
func demoInputs() []input {
	var ins []input
	for _, d := range demoFiles {
		ins = append(ins, input{name: d.point, open: func(context.Context) (*capture.Reader, error) {
			data, err := demoFS.ReadFile(d.file)
			if err != nil {
				return nil, err
			}
			return capture.NewReader(bytes.NewReader(data), path.Base(d.file), int64(len(data)))
		}})
	}
	return ins
}
