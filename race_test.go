//go:build race

package main

// raceEnabled: the race detector slows the exhaustive tests tenfold; they
// take a sample under it (the plain go test run covers every case).
const raceEnabled = true
