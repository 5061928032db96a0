//go:build !purego

package kernels

// actNEON computes, for n a multiple of 4,
//
//	for i := 0; i < n; i++ { dst[i] = Act{Kind: kind, A: a, B: b}.Apply(src[i]) }
//
// for kind ActClamp, ActLeakyRelu, ActSigmoid, ActHardSigmoid, ActHardSwish,
// ActSiLU or actExp (any other kind copies), 8 lanes a step, then 4. The
// exponential is the one expf describes for the SIMD tiers.
//
//go:noescape
func actNEON(kind uint32, a, b float32, dst, src *float32, n int)

func actNEONGo(a Act, dst, src []float32) {
	if !actAsmKind(a) {
		actGeneric(a, dst, src)
		return
	}
	// Whole vectors, then the tail through a 4-lane buffer, so tail
	// elements get exactly the bits the vector loop would give them.
	n := len(dst)
	body := n &^ 3
	if body > 0 {
		actNEON(uint32(a.Kind), a.A, a.B, &dst[0], &src[0], body)
	}
	if body < n {
		var buf [4]float32
		t := copy(buf[:], src[body:n])
		actNEON(uint32(a.Kind), a.A, a.B, &buf[0], &buf[0], 4)
		copy(dst[body:n], buf[:t])
	}
}
