//go:build !purego

// The amd64 assembly in this package is hand-written (no generator): the
// GEMM microkernels in gemm_amd64.s and the gallery dot products in
// dot_amd64.s. Each declaration below states the Go loop it computes; the
// generic twins in gemm_ref.go and dot.go are the oracles the tests compare
// against. Tiers are chosen once, at init, from CPU features (cpuid checks
// that the OS saves the ymm/zmm state, XCR0, before reporting AVX2/AVX-512).

package kernels

import "github.com/klauspost/cpuid/v2"

var (
	hasAVX2   = cpuid.CPU.Supports(cpuid.AVX, cpuid.AVX2, cpuid.FMA3)
	hasAVX512 = cpuid.CPU.Supports(cpuid.AVX512F, cpuid.AVX512BW, cpuid.AVX512VL, cpuid.AVX512DQ, cpuid.BMI2)
	// hasVNNI gates the vpdpbusd int8 dot product; without it the AVX-512
	// tier uses the AVX2 int8 path.
	hasVNNI = hasAVX512 && cpuid.CPU.Supports(cpuid.AVX512VNNI)
)

func init() {
	registerGemm(GemmMicrokernel{Name: "f32-gemm-6x16-avx2", Tier: AVX2, MR: 6, NR: 16, Fn: gemmAVX2, FnA: gemmAVX2A}, hasAVX2)
	registerGemm(GemmMicrokernel{Name: "f32-gemm-12x32-avx512", Tier: AVX512, MR: 12, NR: 32, Fn: gemmAVX512, FnA: gemmAVX512A}, hasAVX512)
}

// gemm12x32AVX512 computes one tile of the GemmMicrokernel contract with
// MR=12, NR=32, where nrMask has bit j set for every valid column j < nr:
//
//	for i := 0; i < mr; i++ {
//		for j := 0; j < 32; j++ {
//			if nrMask&(1<<j) == 0 { continue }
//			var acc float32
//			for p := 0; p < k; p++ { acc += a[p*12+i] * b[p*32+j] }
//			if accumulate != 0 { acc += c[i*ldc+j] } else if bias != nil { acc += bias[j] }
//			acc = epilogue(epi, lo, hi, acc) // 0 none, 1 clamp [lo,hi], 2 hard-swish, 3 SiLU
//			c[i*ldc+j] = acc
//		}
//	}
//
// k may be 0. Columns outside nrMask are neither read nor written (masked
// loads and stores), nor are rows ≥ mr.
//
// With lda > 0, A is read in place instead of packed, over nseg segments
// of k steps: a[p*12+i] above becomes a[i*lda + s*(k+segskip) + p] for step
// s·k+p, and the loop runs to nseg·k; all 12 rows are read whatever mr (so
// mr must be 12 for the reads to stay inside the caller's slice).
//
//go:noescape
func gemm12x32AVX512(k int, a, b, c *float32, ldc, mr int, bias *float32, nrMask uint32, epi uint32, accumulate int, lo, hi float32, lda, nseg, segskip int)

// gemm6x16AVX2 computes one tile of the GemmMicrokernel contract with MR=6,
// NR=16 and all 16 columns valid:
//
//	for i := 0; i < mr; i++ {
//		for j := 0; j < 16; j++ {
//			var acc float32
//			for p := 0; p < k; p++ { acc += a[p*6+i] * b[p*16+j] }
//			if accumulate != 0 { acc += c[i*ldc+j] } else if bias != nil { acc += bias[j] }
//			acc = epilogue(epi, lo, hi, acc) // 0 none, 1 clamp [lo,hi], 2 hard-swish, 3 SiLU
//			c[i*ldc+j] = acc
//		}
//	}
//
// k may be 0. Rows ≥ mr are neither read nor written; gemmAVX2 routes
// edge tiles with nr < 16 through a scratch tile. With lda > 0, A is read
// in place as in gemm12x32AVX512, for all 6 rows.
//
//go:noescape
func gemm6x16AVX2(k int, a, b, c *float32, ldc, mr int, bias *float32, epi uint32, accumulate int, lo, hi float32, lda, nseg, segskip int)

func gemmAVX512(k int, a, b, c []float32, ldc, mr, nr int, bias []float32, epi *Epilogue, accumulate, final bool) {
	if mr <= 0 || nr <= 0 {
		return
	}
	checkTile(12, 32, k, a, b, c, ldc, mr, nr, bias, accumulate)
	gemmAVX512Run(k, ptrOf(a), 0, 0, 0, b, c, ldc, mr, nr, bias, epi, accumulate, final)
}

func gemmAVX512A(a InPlaceA, b, c []float32, ldc, nr int, bias []float32, epi *Epilogue, accumulate, final bool) {
	if nr <= 0 {
		return
	}
	checkTileA(12, 32, &a, b, c, ldc, nr, bias, accumulate)
	gemmAVX512Run(a.Seg, &a.Data[0], a.LD, a.NSeg, a.SegStride-a.Seg, b, c, ldc, 12, nr, bias, epi, accumulate, final)
}

// gemmAVX512Run calls the 12x32 kernel (A packed when lda is 0, in place
// otherwise); edge columns are masked inside the kernel.
func gemmAVX512Run(k int, a *float32, lda, nseg, segskip int, b, c []float32, ldc, mr, nr int, bias []float32, epi *Epilogue, accumulate, final bool) {
	kind, lo, hi := epiArgs(epi, final)
	bp, acc := biasArgs(bias, accumulate)
	mask := uint32(uint64(1)<<uint(nr) - 1)
	gemm12x32AVX512(k, a, ptrOf(b), &c[0], ldc, mr, bp, mask, kind, acc, lo, hi, lda, nseg, segskip)
}

func gemmAVX2(k int, a, b, c []float32, ldc, mr, nr int, bias []float32, epi *Epilogue, accumulate, final bool) {
	if mr <= 0 || nr <= 0 {
		return
	}
	checkTile(6, 16, k, a, b, c, ldc, mr, nr, bias, accumulate)
	gemmAVX2Run(k, ptrOf(a), 0, 0, 0, b, c, ldc, mr, nr, bias, epi, accumulate, final)
}

func gemmAVX2A(a InPlaceA, b, c []float32, ldc, nr int, bias []float32, epi *Epilogue, accumulate, final bool) {
	if nr <= 0 {
		return
	}
	checkTileA(6, 16, &a, b, c, ldc, nr, bias, accumulate)
	gemmAVX2Run(a.Seg, &a.Data[0], a.LD, a.NSeg, a.SegStride-a.Seg, b, c, ldc, 6, nr, bias, epi, accumulate, final)
}

// gemmAVX2Run calls the 6x16 kernel (A packed when lda is 0, in place
// otherwise), through a scratch tile for edge tiles.
func gemmAVX2Run(k int, a *float32, lda, nseg, segskip int, b, c []float32, ldc, mr, nr int, bias []float32, epi *Epilogue, accumulate, final bool) {
	kind, lo, hi := epiArgs(epi, final)
	if nr == 16 {
		bp, acc := biasArgs(bias, accumulate)
		gemm6x16AVX2(k, a, ptrOf(b), &c[0], ldc, mr, bp, kind, acc, lo, hi, lda, nseg, segskip)
		return
	}
	// Edge tile: the kernel always works on 16 columns, so run it on a
	// scratch tile and copy the valid nr columns in and out.
	var tile [6 * 16]float32
	var bt [16]float32
	var bp *float32
	acc := 0
	if accumulate {
		acc = 1
		for i := 0; i < mr; i++ {
			copy(tile[i*16:i*16+nr], c[i*ldc:i*ldc+nr])
		}
	} else if bias != nil {
		copy(bt[:nr], bias[:nr])
		bp = &bt[0]
	}
	gemm6x16AVX2(k, a, ptrOf(b), &tile[0], 16, mr, bp, kind, acc, lo, hi, lda, nseg, segskip)
	for i := 0; i < mr; i++ {
		copy(c[i*ldc:i*ldc+nr], tile[i*16:i*16+nr])
	}
}
