//go:build race

package tiered

// raceEnabled is true when the race detector is on; heavy tests scale down.
const raceEnabled = true
