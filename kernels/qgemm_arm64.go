//go:build !purego

// The int8 GEMM microkernels of arm64, hand-written in qgemm_arm64.s. Each
// declaration states the loop it computes over the packed operands
// (QLayout); QGemmRef is the twin every one of them matches bit for bit.

package kernels

const (
	qgemmAsmNEONDot qgemmAsmID = iota
	qgemmAsmNEONMull
)

var (
	qgemmKernNEONDot  = asmQGemm{id: qgemmAsmNEONDot, l: &qlayoutNEONDot}
	qgemmKernNEONMull = asmQGemm{id: qgemmAsmNEONMull, l: &qlayoutNEONMull}

	qgemmNEONDot  = qgemmKernNEONDot.microkernel("qs8-gemm-8x12c4-neondot", NEON)
	qgemmNEONMull = qgemmKernNEONMull.microkernel("qs8-gemm-8x8-neonmull", NEON)
)

func init() {
	// The NEON tier's kernel depends on the CPU: sdot where it has
	// FEAT_DotProd (ARMv8.2+: Cortex-A55/A76 and later, Apple, Graviton2+),
	// the widening multiply on older cores (Cortex-A53/A72).
	if hasDotprod {
		registerQGemm(NEON, qgemmNEONDot)
	} else {
		registerQGemm(NEON, qgemmNEONMull)
	}
}

// qgemmArchKernels lists the assembly int8 GEMM microkernels this CPU
// runs.
func qgemmArchKernels() []QGemmMicrokernel {
	out := []QGemmMicrokernel{qgemmNEONMull}
	if hasDotprod {
		out = append(out, qgemmNEONDot)
	}
	return out
}

// qgemm8x12c4NEONDot computes one tile of the QGemmMicrokernel contract for
// the layout MR=8, NR=12, KR=4 (int8 quads), all 12 columns:
//
//	for i := 0; i < mr; i++ {
//		for j := 0; j < 12; j++ {
//			acc := bias[j]
//			for g := 0; g < kg; g++ {
//				for r := 0; r < 4; r++ { // one SDOT lane
//					acc += int32(int8(a[(g*8+i)*4+r])) * int32(int8(b[(g*12+j)*4+r]))
//				}
//			}
//			y := float32(acc) * scale[j]
//			y = min(max(y, lo), hi)
//			c[i*ldc+j] = int8(int32(math.RoundToEven(float64(y))) + zp)
//		}
//	}
//
// kg may be 0. Rows ≥ mr are computed from a's padding rows but not
// stored; lo and hi are QOut.bounds. Needs FEAT_DotProd (hasDotprod).
//
//go:noescape
func qgemm8x12c4NEONDot(kg int, a, b *byte, c *int8, ldc, mr int, bias *int32, scale *float32, zp int32, lo, hi float32)

// qgemm8x8NEONMull computes one tile of the QGemmMicrokernel contract for
// the layout MR=8, NR=8, KR=1, Wide (int16), all 8 columns:
//
//	for i := 0; i < mr; i++ {
//		for j := 0; j < 8; j++ {
//			acc := bias[j]
//			for p := 0; p < kg; p++ { // one SMLAL lane
//				acc += int32(a16[p*8+i]) * int32(b16[p*8+j])
//			}
//			y := float32(acc) * scale[j]
//			y = min(max(y, lo), hi)
//			c[i*ldc+j] = int8(int32(math.RoundToEven(float64(y))) + zp)
//		}
//	}
//
// where a16, b16 are a and b read as int16. kg may be 0; rows ≥ mr are not
// stored.
//
//go:noescape
func qgemm8x8NEONMull(kg int, a, b *byte, c *int8, ldc, mr int, bias *int32, scale *float32, zp int32, lo, hi float32)

// qgemmAsmRun calls g's kernel on one checked tile of all NR columns.
func qgemmAsmRun(g *asmQGemm, kg int, a, b *byte, c *int8, ldc, mr, _ int, bias *int32, scale *float32, out *QOut) {
	lo, hi := out.bounds()
	zp := int32(out.ZeroPoint)
	if g.id == qgemmAsmNEONDot {
		qgemm8x12c4NEONDot(kg, a, b, c, ldc, mr, bias, scale, zp, lo, hi)
		return
	}
	qgemm8x8NEONMull(kg, a, b, c, ldc, mr, bias, scale, zp, lo, hi)
}
