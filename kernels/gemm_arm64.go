//go:build !purego

// The arm64 assembly in this package is hand-written: gemm_arm64.s and
// dot_arm64.s, with the NEON instructions the Go assembler lacks encoded as
// WORDs in neon_arm64.h. NEON (ASIMD) is part of every arm64 CPU Go runs on,
// so the NEON tier is always available.

package kernels

import "unsafe"

func init() {
	registerGemm(GemmMicrokernel{Name: "f32-gemm-8x12-neon", Tier: NEON, MR: 8, NR: 12, Fn: gemmNEON}, true)
}

// gemm8x12NEON computes the raw product of one 8×12 tile into tile:
//
//	for i := 0; i < 8; i++ {
//		for j := 0; j < 12; j++ {
//			var acc float32
//			for p := 0; p < k; p++ { acc += a[p*8+i] * b[p*12+j] }
//			tile[i*12+j] = acc
//		}
//	}
//
// k may be 0. Bias, accumulation, the epilogue and the mr×nr edge are
// applied by gemmNEON in Go: the Go assembler lacks the vector
// FADD/FMAX/FMIN these need, and they cost O(MR·NR) against the O(MR·NR·k)
// of the product.
//
//go:noescape
func gemm8x12NEON(k int, a, b, tile *float32)

// fmaPeakNEON runs n iterations of 24 vector FMAs over 12 independent
// chains (4 lanes each), the FMA-throughput ceiling of the core.
//
//go:noescape
func fmaPeakNEON(n int)

func fmaPeakLoop(t Tier) (loop func(n int), flopsPerIter int) {
	if t == NEON {
		return fmaPeakNEON, 24 * 4 * 2
	}
	return nil, 0
}

func gemmNEON(k int, a, b, c []float32, ldc, mr, nr int, bias []float32, epi *Epilogue, accumulate, final bool) {
	if mr <= 0 || nr <= 0 {
		return
	}
	if mr > 8 || nr > 12 || k < 0 || ldc < nr {
		panic("kernels: GEMM tile arguments out of range")
	}
	_ = a[:k*8]
	_ = b[:k*12]
	_ = c[:(mr-1)*ldc+nr]
	if !accumulate && bias != nil {
		bias = bias[:nr]
	} else {
		bias = nil
	}
	var tile [8 * 12]float32
	var pa, pb *float32
	if k > 0 {
		pa, pb = unsafe.SliceData(a), unsafe.SliceData(b)
	}
	gemm8x12NEON(k, pa, pb, &tile[0])
	if !final {
		epi = nil
	}
	for i := 0; i < mr; i++ {
		row := c[i*ldc : i*ldc+nr]
		t := tile[i*12 : i*12+nr]
		for j, acc := range t {
			if accumulate {
				acc += row[j]
			} else if bias != nil {
				acc += bias[j]
			}
			if epi != nil {
				acc = epi.Apply(acc)
			}
			row[j] = acc
		}
	}
}
