// Flood size of the fault suites without the race detector.

//go:build !race

package fcgitest

// FloodBytes is the size of the stderr flood in the fault suites: 100 MiB; 16 MiB under the
// race detector (hostile_race.go).
const FloodBytes = 100 << 20

// RaceEnabled tells whether the race detector is on (-race); see hostile_race.go.
const RaceEnabled = false
