//go:build !purego

// The arm64 assembly in this package is hand-written: gemm_arm64.s and
// dot_arm64.s, with the NEON instructions the Go assembler lacks encoded as
// WORDs in neon_arm64.h. Which tiers this CPU runs is decided in
// cpu_arm64.go.

package kernels

var gemmKernNEON = asmGemm{MR: 8, NR: 12}

func init() {
	registerGemm(gemmKernNEON.microkernel("f32-gemm-8x12-neon", NEON, false))
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
// k may be 0. Rows ≥ mr are neither read nor written; asmGemm.edge routes edge
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

// gemmAsmRun calls the kernel on one checked tile of all 12 columns (g is
// gemmKernNEON; A is always packed).
func gemmAsmRun(g *asmGemm, k int, a *float32, _, _, _ int, b, c []float32, ldc, mr, nr int, bias []float32, epi *Epilogue, accumulate, final bool) {
	kind, lo, hi := epiArgs(epi, final)
	bp, acc := biasArgs(bias, accumulate)
	gemm8x12NEON(k, a, ptrOf(b), &c[0], ldc, mr, bp, kind, acc, lo, hi)
}
