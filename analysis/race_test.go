//go:build race

package analysis

// raceEnabled: the race detector is on. Its shadow memory makes a child
// process's RSS several times its heap, and it slows the analysis tenfold.
const raceEnabled = true
