//go:build !purego

package kernels

// actAVX512 computes, for n ≥ 0,
//
//	for i := 0; i < n; i++ { dst[i] = Act{Kind: kind, A: a, B: b}.Apply(src[i]) }
//
// for kind ActClamp, ActLeakyRelu, ActSigmoid, ActHardSigmoid, ActHardSwish,
// ActSiLU or actExp (any other kind copies), 32 lanes a step, then 16, then
// the n%16 tail under a mask: nothing outside dst[:n] and src[:n] is touched.
// The exponential is the one expf describes (vscalefps builds 2^n).
//
//go:noescape
func actAVX512(kind uint32, a, b float32, dst, src *float32, n int)

// actAVX2 is actAVX512 in 16 then 8 lanes for n a multiple of 8; the
// exponential builds 2^n in two exponent-field factors, which gives the
// same bits as vscalefps.
//
//go:noescape
func actAVX2(kind uint32, a, b float32, dst, src *float32, n int)

func actAVX512Go(a Act, dst, src []float32) {
	if !actAsmKind(a) {
		if !mathAVX512Go(a, dst, src) { // unary_amd64.go
			actGeneric(a, dst, src)
		}
		return
	}
	actAVX512(uint32(a.Kind), a.A, a.B, &dst[0], &src[0], len(dst))
}

func actAVX2Go(a Act, dst, src []float32) {
	if !actAsmKind(a) {
		if !mathAVX2Go(a, dst, src) { // unary_amd64.go
			actGeneric(a, dst, src)
		}
		return
	}
	// Whole vectors, then the tail through an 8-lane buffer, so tail
	// elements get exactly the bits the vector loop would give them.
	n := len(dst)
	body := n &^ 7
	if body > 0 {
		actAVX2(uint32(a.Kind), a.A, a.B, &dst[0], &src[0], body)
	}
	if body < n {
		var buf [8]float32
		t := copy(buf[:], src[body:n])
		actAVX2(uint32(a.Kind), a.A, a.B, &buf[0], &buf[0], 8)
		copy(dst[body:n], buf[:t])
	}
}
