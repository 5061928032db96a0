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

const (
	unaryActAVX2 unaryAsmID = iota
	unaryErfAVX2
)

// unaryAsm calls kernel id (erf's takes no parameters a, b).
func unaryAsm(id unaryAsmID, kind uint32, a, b float32, dst, src *float32, n int) {
	if id == unaryErfAVX2 {
		erfAVX2(kind, &erfVecTab, dst, src, n)
		return
	}
	actAVX2(kind, a, b, dst, src, n)
}

func actAVX512Go(a Act, dst, src []float32) {
	switch {
	case actAsmKind(a):
		actAVX512(uint32(a.Kind), a.A, a.B, &dst[0], &src[0], len(dst))
	case mathAsmKind(a.Kind):
		erfAVX512(uint32(a.Kind), &erfVecTab, &dst[0], &src[0], len(dst))
	default:
		actGeneric(a, dst, src)
	}
}

func actAVX2Go(a Act, dst, src []float32) {
	switch {
	case actAsmKind(a):
		vecUnary(unaryActAVX2, 8, uint32(a.Kind), a.A, a.B, dst, src)
	case mathAsmKind(a.Kind):
		vecUnary(unaryErfAVX2, 8, uint32(a.Kind), 0, 0, dst, src)
	default:
		actGeneric(a, dst, src)
	}
}
