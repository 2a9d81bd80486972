package main

import (
	"bytes"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"sync"
	"time"
)

// startProfile writes profiles of the whole run, for developers (see
// DEVELOPERS.md): live capture and the interactive view are profiled as they
// run, which a benchmark cannot do.
//
//   - SYNSCOPE_CPUPROFILE=FILE: a CPU profile.
//   - SYNSCOPE_MEMPROFILE=FILE: a heap profile taken near the run's peak of
//     heap in use (sampled every 20 ms; a new profile whenever the heap has
//     grown by a tenth since the last one), which is what peak RSS is made of.
//
// The returned function ends the profiles.
func startProfile() func() {
	stopCPU := startCPUProfile(os.Getenv("SYNSCOPE_CPUPROFILE"))
	stopMem := startMemProfile(os.Getenv("SYNSCOPE_MEMPROFILE"))
	return func() {
		stopCPU()
		stopMem()
	}
}

func createProfile(env, path string) (*os.File, bool) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		fmt.Fprintf(os.Stderr, "synscope: %s: %v\n", env, err)
		return nil, false
	}
	return f, true
}

func startCPUProfile(path string) func() {
	if path == "" {
		return func() {}
	}
	f, ok := createProfile("SYNSCOPE_CPUPROFILE", path)
	if !ok {
		return func() {}
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		fmt.Fprintf(os.Stderr, "synscope: SYNSCOPE_CPUPROFILE: %v\n", err)
		f.Close()
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}

func startMemProfile(path string) func() {
	if path == "" {
		return func() {}
	}
	f, ok := createProfile("SYNSCOPE_MEMPROFILE", path)
	if !ok {
		return func() {}
	}
	var (
		mu   sync.Mutex
		best bytes.Buffer
		peak uint64
	)
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		var ms runtime.MemStats
		for {
			select {
			case <-done:
				return
			case <-tick.C:
			}
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse <= peak+peak/10 {
				continue
			}
			peak = ms.HeapInuse
			// The profile reports in-use memory as of the last GC; a GC
			// now makes it this moment's.
			runtime.GC()
			mu.Lock()
			best.Reset()
			pprof.Lookup("heap").WriteTo(&best, 0)
			mu.Unlock()
		}
	}()
	return func() {
		close(done)
		<-finished
		mu.Lock()
		defer mu.Unlock()
		if _, err := f.Write(best.Bytes()); err != nil {
			fmt.Fprintf(os.Stderr, "synscope: SYNSCOPE_MEMPROFILE: %v\n", err)
		}
		f.Close()
		fmt.Fprintf(os.Stderr, "synscope: SYNSCOPE_MEMPROFILE: peak heap in use %d MB\n", peak>>20)
	}
}
