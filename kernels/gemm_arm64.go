//go:build !purego

// The arm64 assembly in this package is hand-written: gemm_arm64.s and
// dot_arm64.s, with the NEON instructions the Go assembler lacks encoded as
// WORDs in neon_arm64.h. Which tiers this CPU runs is decided in
// cpu_arm64.go.

package kernels

func init() {
	registerGemm(GemmMicrokernel{Name: "f32-gemm-8x12-neon", Tier: NEON, MR: 8, NR: 12, Fn: gemmNEON})
}

// gemm8x12NEON computes one tile of the GemmMicrokernel contract with
// MR=8, NR=12 and all 12 columns valid:
//
//	for i := 0; i < mr; i++ {
//		for j := 0; j < 12; j++ {
//			var acc float32
//			for p := 0; p < k; p++ { acc += a[p*8+i] * b[p*12+j] }
//			if accumulate != 0 { acc += c[i*ldc+j] } else if bias != nil { acc += bias[j] }
//			acc = epilogue(epi, lo, hi, acc) // 0 none, 1 clamp [lo,hi], 2 hard-swish, 3 SiLU
//			c[i*ldc+j] = acc
//		}
//	}
//
// k may be 0. Rows ≥ mr are neither read nor written; gemmNEON routes edge
// tiles with nr < 12 through a scratch tile.
//
//go:noescape
func gemm8x12NEON(k int, a, b, c *float32, ldc, mr int, bias *float32, epi uint32, accumulate int, lo, hi float32)

// fmaPeakNEON runs n iterations of 24 vector FMAs over 12 independent
// chains (4 lanes each), the FMA-throughput ceiling of the core.
//
//go:noescape
func fmaPeakNEON(n int)

func fmaPeakLoop(t Tier) (loop func(n int), flopsPerIter int) {
	if t == NEON && t.Runs() {
		return fmaPeakNEON, 24 * 4 * 2
	}
	return nil, 0
}

func gemmNEON(k int, a, b, c []float32, ldc, mr, nr int, bias []float32, epi *Epilogue, accumulate, final bool) {
	if mr <= 0 || nr <= 0 {
		return
	}
	checkTile(8, 12, k, a, b, c, ldc, mr, nr, bias, accumulate)
	kind, lo, hi := epiArgs(epi, final)
	if nr == 12 {
		bp, acc := biasArgs(bias, accumulate)
		gemm8x12NEON(k, ptrOf(a), ptrOf(b), &c[0], ldc, mr, bp, kind, acc, lo, hi)
		return
	}
	// Edge tile: the kernel always works on 12 columns, so run it on a
	// scratch tile and copy the valid nr columns in and out.
	var tile [8 * 12]float32
	var bt [12]float32
	var bp *float32
	acc := 0
	if accumulate {
		acc = 1
		for i := 0; i < mr; i++ {
			copy(tile[i*12:i*12+nr], c[i*ldc:i*ldc+nr])
		}
	} else if bias != nil {
		copy(bt[:nr], bias[:nr])
		bp = &bt[0]
	}
	gemm8x12NEON(k, ptrOf(a), ptrOf(b), &tile[0], 12, mr, bp, kind, acc, lo, hi)
	for i := 0; i < mr; i++ {
		copy(c[i*ldc:i*ldc+nr], tile[i*12:i*12+nr])
	}
}
