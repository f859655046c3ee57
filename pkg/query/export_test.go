package query

// CPUTime exports cpuTime to the external tests' benchmarks.
var CPUTime = cpuTime
