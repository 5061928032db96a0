//go:build !purego

package kernels

func init() {
	registerElem(NEON, "f32-elem-neon", &elemImpl{act: actNEONGo, add: addNEONGo, mul: mulNEONGo})
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

func addNEONGo(dst, a, b []float32) {
	body := len(dst) &^ 3
	if body > 0 {
		elemBinNEON(elemAdd, &dst[0], &a[0], &b[0], body)
	}
	addGeneric(dst[body:], a[body:], b[body:])
}

func mulNEONGo(dst, a, b []float32) {
	body := len(dst) &^ 3
	if body > 0 {
		elemBinNEON(elemMul, &dst[0], &a[0], &b[0], body)
	}
	mulGeneric(dst[body:], a[body:], b[body:])
}
