package main

import (
	"fmt"
	"os"
	"runtime/pprof"
)

// startProfile writes a CPU profile of the whole run to the file named by
// SYNSCOPE_CPUPROFILE, for developers (see DEVELOPERS.md): live capture and
// the interactive view are profiled as they run, which a benchmark cannot
// do. The returned function ends the profile.
func startProfile() func() {
	path := os.Getenv("SYNSCOPE_CPUPROFILE")
	if path == "" {
		return func() {}
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err == nil {
		err = pprof.StartCPUProfile(f)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "synscope: SYNSCOPE_CPUPROFILE: %v\n", err)
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}
