// Flood size of the fault suites under the race detector.

//go:build race

package fcgitest

// FloodBytes is the size of the stderr flood in the fault suites: 16 MiB under the race
// detector (-race), where shadow memory and instrumented copies make 100 MiB slow and heavy;
// 100 MiB otherwise (hostile_norace.go).
const FloodBytes = 16 << 20

// RaceEnabled tells whether the race detector is on (-race): timing bounds of the fault suites
// scale by the race detector's slowdown.
const RaceEnabled = true
