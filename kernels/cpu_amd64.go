//go:build !purego

package kernels

import "github.com/klauspost/cpuid/v2"

// CPU features of amd64, detected once at start-up. cpuid checks that the
// OS saves the ymm/zmm register state (XCR0) before it reports AVX2 or
// AVX-512. This file is the only place that asks the CPU what it has.
var (
	hasAVX2   = cpuid.CPU.Supports(cpuid.AVX, cpuid.AVX2, cpuid.FMA3)
	hasAVX512 = cpuid.CPU.Supports(cpuid.AVX512F, cpuid.AVX512BW, cpuid.AVX512VL, cpuid.AVX512DQ, cpuid.BMI2)
	// hasVNNI adds AVX512_VNNI (vpdpbusd) to the AVX512 tier: the int8
	// GEMM's AVX512 kernel needs it (without, that tier runs AVX2's).
	hasVNNI = hasAVX512 && cpuid.CPU.Supports(cpuid.AVX512VNNI)
)

// cpuRuns reports whether this CPU has what tier t's kernels use.
func cpuRuns(t Tier) bool {
	switch t {
	case Generic:
		return true
	case AVX2:
		return hasAVX2
	case AVX512:
		return hasAVX512
	}
	return false
}
