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

const unaryActNEON unaryAsmID = 0

// unaryAsm calls actNEON, the one unary kernel (id is unaryActNEON).
func unaryAsm(_ unaryAsmID, kind uint32, a, b float32, dst, src *float32, n int) {
	actNEON(kind, a, b, dst, src, n)
}

func actNEONGo(a Act, dst, src []float32) {
	if !actAsmKind(a) {
		actGeneric(a, dst, src)
		return
	}
	vecUnary(unaryActNEON, 4, uint32(a.Kind), a.A, a.B, dst, src)
}
