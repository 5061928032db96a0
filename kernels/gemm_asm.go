//go:build !purego && (amd64 || arm64)

// Glue shared by the amd64 and arm64 GEMM microkernel wrappers.

package kernels

import (
	"math"
	"unsafe"
)

// biasArgs is how the microkernels take bias and accumulation: the bias
// pointer only when the tile starts fresh (a later K block adds to C and
// must not add the bias again), and accumulate as 0 or 1.
func biasArgs(bias []float32, accumulate bool) (*float32, int) {
	if accumulate {
		return nil, 1
	}
	return ptrOf(bias), 0
}

// epiArgs flattens an epilogue for the assembly (the epiAsm codes).
func epiArgs(epi *Epilogue, final bool) (kind uint32, lo, hi float32) {
	if !final || epi == nil {
		return epiAsmNone, 0, 0
	}
	switch epi.Kind {
	case EpiHardSwish:
		return epiAsmHardSwish, 0, 0
	case EpiSiLU:
		return epiAsmSiLU, 0, 0
	}
	if epi.Lo == float32(math.Inf(-1)) && epi.Hi == float32(math.Inf(1)) {
		return epiAsmNone, 0, 0
	}
	return epiAsmClamp, epi.Lo, epi.Hi
}

// checkTile panics, as slice indexing would, when the slices are too short
// for the tile the assembly is about to touch. It keeps a driver bug from
// becoming a silent out-of-bounds write.
func checkTile(MR, NR, k int, a, b, c []float32, ldc, mr, nr int, bias []float32, accumulate bool) {
	if mr > MR || nr > NR || k < 0 || ldc < nr {
		panic("kernels: GEMM tile arguments out of range")
	}
	_ = a[:k*MR]
	_ = b[:k*NR]
	_ = c[:(mr-1)*ldc+nr]
	if bias != nil && !accumulate {
		_ = bias[:nr]
	}
}

// checkTileA is checkTile for a full-height tile whose A is read in place.
func checkTileA(MR, NR int, a *InPlaceA, b, c []float32, ldc, nr int, bias []float32, accumulate bool) {
	if nr > NR || a.Seg < 1 || a.NSeg < 1 || a.LD < 1 || a.SegStride < 0 || ldc < nr {
		panic("kernels: GEMM tile arguments out of range")
	}
	_ = a.Data[:(MR-1)*a.LD+(a.NSeg-1)*a.SegStride+a.Seg]
	_ = b[:a.Seg*a.NSeg*NR]
	_ = c[:(MR-1)*ldc+nr]
	if bias != nil && !accumulate {
		_ = bias[:nr]
	}
}

func ptrOf(s []float32) *float32 {
	if len(s) == 0 {
		return nil
	}
	return unsafe.SliceData(s)
}
