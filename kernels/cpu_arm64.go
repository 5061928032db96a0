//go:build !purego

package kernels

import "github.com/klauspost/cpuid/v2"

// hasDotprod reports FEAT_DotProd (SDOT/UDOT, HWCAP asimddp on Linux): the
// NEON tier's int8 GEMM uses sdot where it is set and a widening multiply
// where not.
var hasDotprod = cpuid.CPU.Supports(cpuid.ASIMDDP)

// cpuRuns reports whether this CPU has what tier t's kernels use. NEON
// (ASIMD) is part of every arm64 CPU Go runs on, so it needs no detection.
// This file is the only place that decides what an arm64 CPU runs.
func cpuRuns(t Tier) bool { return t == Generic || t == NEON }
