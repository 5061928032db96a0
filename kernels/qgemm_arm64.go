//go:build !purego

// The int8 GEMM microkernels of arm64, hand-written in qgemm_arm64.s. Each
// declaration states the loop it computes over the packed operands
// (QLayout); QGemmRef is the twin every one of them matches bit for bit.

package kernels

import "unsafe"

var (
	qgemmNEONDot  = QGemmMicrokernel{Name: "qs8-gemm-8x12c4-neondot", Tier: NEON, QLayout: qlayoutNEONDot, Fn: qgemmNEONDotFn}
	qgemmNEONMull = QGemmMicrokernel{Name: "qs8-gemm-8x8-neonmull", Tier: NEON, QLayout: qlayoutNEONMull, Fn: qgemmNEONMullFn}
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

// checkQTile panics, as slice indexing would, when the slices are too
// short for the tile the assembly is about to touch.
func checkQTile(l *QLayout, kg int, a, b []byte, c []int8, ldc, mr, nr int, bias []int32, scale []float32) {
	if mr > l.MR || nr > l.NR || kg < 0 || ldc < nr {
		panic("kernels: int8 GEMM tile arguments out of range")
	}
	_ = a[:kg*l.MR*l.KR*l.esize()]
	_ = b[:kg*l.NR*l.KR*l.esize()]
	_ = c[:(mr-1)*ldc+nr]
	_ = bias[:l.NR]
	_ = scale[:l.NR]
}

func bytePtr(s []byte) *byte {
	if len(s) == 0 {
		return nil
	}
	return unsafe.SliceData(s)
}

// qgemmNEONRun calls kern on c when the tile is full width, and otherwise
// on a scratch tile whose valid nr columns it copies out (the kernels store
// whole rows).
func qgemmNEONRun(kern func(kg int, a, b *byte, c *int8, ldc, mr int, bias *int32, scale *float32, zp int32, lo, hi float32),
	l *QLayout, kg int, a, b []byte, c []int8, ldc, mr, nr int, bias []int32, scale []float32, out *QOut) {
	if mr <= 0 || nr <= 0 {
		return
	}
	checkQTile(l, kg, a, b, c, ldc, mr, nr, bias, scale)
	lo, hi := out.bounds()
	zp := int32(out.ZeroPoint)
	if nr == l.NR {
		kern(kg, bytePtr(a), bytePtr(b), &c[0], ldc, mr, &bias[0], &scale[0], zp, lo, hi)
		return
	}
	var tile [8 * 12]int8
	kern(kg, bytePtr(a), bytePtr(b), &tile[0], l.NR, mr, &bias[0], &scale[0], zp, lo, hi)
	for i := 0; i < mr; i++ {
		copy(c[i*ldc:i*ldc+nr], tile[i*l.NR:i*l.NR+nr])
	}
}

func qgemmNEONDotFn(kg int, a, b []byte, c []int8, ldc, mr, nr int, bias []int32, scale []float32, out *QOut) {
	qgemmNEONRun(qgemm8x12c4NEONDot, &qlayoutNEONDot, kg, a, b, c, ldc, mr, nr, bias, scale, out)
}

func qgemmNEONMullFn(kg int, a, b []byte, c []int8, ldc, mr, nr int, bias []int32, scale []float32, out *QOut) {
	qgemmNEONRun(qgemm8x8NEONMull, &qlayoutNEONMull, kg, a, b, c, ldc, mr, nr, bias, scale, out)
}
