//go:build !purego

package kernels

func init() {
	registerElem(NEON, "f32-elem-neon", &elemImpl{act: actNEONGo, add: addVec, mul: mulVec})
}

// elemBinNEON computes, for n a multiple of 4,
//
//	for i := 0; i < n; i++ {
//		if op == elemAdd { dst[i] = a[i] + b[i] } else { dst[i] = a[i] * b[i] }
//	}
//
// 16 lanes a step, then 4. dst may be a or b.
//
//go:noescape
func elemBinNEON(op uint32, dst, a, b *float32, n int)

const elemVecLanes = 4 // the lanes of elemBinVec

// elemBinVec is the kernel elemVec runs.
func elemBinVec(op uint32, dst, a, b *float32, n int) { elemBinNEON(op, dst, a, b, n) }
