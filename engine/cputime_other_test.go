//go:build !linux

package engine_test

// threadCPUSeconds is unavailable here; benchmarks report wall time only.
func threadCPUSeconds() float64 { return 0 }
