//go:build !purego

package kernels

// cpuRuns reports whether this CPU has what tier t's kernels use. NEON
// (ASIMD) is part of every arm64 CPU Go runs on, so it needs no detection.
// This file is the only place that decides what an arm64 CPU runs.
func cpuRuns(t Tier) bool { return t == Generic || t == NEON }
