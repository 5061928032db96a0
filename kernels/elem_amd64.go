//go:build !purego

package kernels

func init() {
	registerElem(AVX2, "f32-elem-avx2", &elemImpl{act: actAVX2Go, add: addVec, mul: mulVec, max: maxAVX2})
	registerElem(AVX512, "f32-elem-avx512", &elemImpl{act: actAVX512Go, add: addAVX512Go, mul: mulAVX512Go, max: maxAVX2})
}

// elemBinAVX512 computes, for n ≥ 0,
//
//	for i := 0; i < n; i++ {
//		if op == elemAdd { dst[i] = a[i] + b[i] } else { dst[i] = a[i] * b[i] }
//	}
//
// 64 lanes a step, then 16, then the n%16 tail under a mask (nothing
// outside the n elements is touched). dst may be a or b.
//
//go:noescape
func elemBinAVX512(op uint32, dst, a, b *float32, n int)

// elemBinAVX2 is elemBinAVX512 in 32 then 8 lanes for n a multiple of 8.
//
//go:noescape
func elemBinAVX2(op uint32, dst, a, b *float32, n int)

func addAVX512Go(dst, a, b []float32) { elemBinAVX512(elemAdd, &dst[0], &a[0], &b[0], len(dst)) }
func mulAVX512Go(dst, a, b []float32) { elemBinAVX512(elemMul, &dst[0], &a[0], &b[0], len(dst)) }

const elemVecLanes = 8 // the lanes of elemBinVec

// elemBinVec is the unmasked kernel elemVec runs.
func elemBinVec(op uint32, dst, a, b *float32, n int) { elemBinAVX2(op, dst, a, b, n) }

// elemMaxAVX2 computes, for n a multiple of 8,
//
//	for i := 0; i < n; i++ {
//		dst[i] = max(a[i], b[i]) // Go's max: NaN and signed zeros included
//	}
//
// dst may be a or b.
//
//go:noescape
func elemMaxAVX2(dst, a, b *float32, n int)

// maxAVX2 is maxGeneric with its blocks of 8 in assembly.
func maxAVX2(dst, a, b []float32) {
	body := len(dst) &^ 7
	if body > 0 {
		elemMaxAVX2(&dst[0], &a[0], &b[0], body)
	}
	maxGeneric(dst[body:], a[body:], b[body:])
}
