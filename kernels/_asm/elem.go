package main

import (
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// genElem writes elemBinAVX512 and elemBinAVX2: dst = a op b, op elemAdd
// or elemMul; four vectors a step, then one, then (AVX-512) the tail under
// a mask. Loads, one vector op, stores: each lane's IEEE result is the Go
// loop's bit for bit. SI = a, DX = b, DI = dst, CX = n.
func genElem(f *file) {
	f.doc("Elementwise add and multiply (declared in elem_amd64.go).")
	for _, v := range tiers {
		f.text("elemBin"+v.name, "func(op uint32, dst, a, b *float32, n int)")
		f.args("op dst a b n", EAX, RDI, RSI, RDX, RCX)
		f.cmpConst(EAX, "elemAdd")
		f.JNE(LabelRef("mul"))
		f.elemLoop(v, "add", func(m Op, x, d Op) { f.VADDPS(m, x, d) })
		f.Label("mul")
		f.elemLoop(v, "mul", func(m Op, x, d Op) { f.VMULPS(m, x, d) })
		f.Label("done")
		f.ret()
	}
}

func (f *file) elemLoop(v isa, name string, op func(m, x, d Op)) {
	w := v.bytes()
	l4, l1, lt := name+"four", name+"one", name+"tail"
	f.Label(l4)
	f.CMPQ(RCX, U8(4*v.lanes))
	f.JLT(LabelRef(l1))
	for i := 0; i < 4; i++ {
		f.VMOVUPS(Mem{Base: RSI, Disp: i * w}, v.V(i))
	}
	for i := 0; i < 4; i++ {
		op(Mem{Base: RDX, Disp: i * w}, v.V(i), v.V(i))
	}
	for i := 0; i < 4; i++ {
		f.VMOVUPS(v.V(i), Mem{Base: RDI, Disp: i * w})
	}
	f.advance(U32(4*w), U8(4*v.lanes), RSI, RDX, RDI)
	f.JMP(LabelRef(l4))
	f.Label(l1)
	f.CMPQ(RCX, U8(v.lanes))
	f.JLT(LabelRef(tailOrDone(v, lt)))
	f.VMOVUPS(Mem{Base: RSI}, v.V(0))
	op(Mem{Base: RDX}, v.V(0), v.V(0))
	f.VMOVUPS(v.V(0), Mem{Base: RDI})
	f.advance(U8(w), U8(v.lanes), RSI, RDX, RDI)
	f.JMP(LabelRef(l1))
	if !v.masked {
		return
	}
	f.maskedTail(lt, func() {
		f.VMOVUPS_Z(Mem{Base: RSI}, K1, v.V(0))
		f.VMOVUPS_Z(Mem{Base: RDX}, K1, v.V(1))
		op(v.V(1), v.V(0), v.V(0))
		f.VMOVUPS(v.V(0), K1, Mem{Base: RDI})
	})
}

// The streaming loops (elementwise, activation, erf) share their shape: CX
// elements from SI (and DX) to DI, whole vectors first, then on AVX-512 the
// tail under a mask; every one ends at label done.

// tailOrDone is where a loop goes when fewer than a vector are left: the
// masked tail at label tail, or (AVX2: the Go wrapper feeds whole vectors
// only) done.
func tailOrDone(v isa, tail string) string {
	if v.masked {
		return tail
	}
	return "done"
}

// advance adds by (bytes) to each of ptrs and takes elems off CX.
func (f *file) advance(by, elems Constant, ptrs ...GPPhysical) {
	for _, p := range ptrs {
		f.ADDQ(by, p)
	}
	f.SUBQ(elems, RCX)
}

// maskedTail is the AVX-512 tail at label: when CX (< 16) elements are
// left, body runs under K1 = their mask, then to done.
func (f *file) maskedTail(label string, body func()) {
	f.Label(label)
	f.TESTQ(RCX, RCX)
	f.JEQ(LabelRef("done"))
	// K1 = the low CX bits, through AX.
	f.MOVL(U32(1), EAX)
	f.SHLL(CL, EAX)
	f.DECL(EAX)
	f.KMOVW(EAX, K1)
	body()
	f.JMP(LabelRef("done"))
}

// unaryVec runs op on one vector from SI, in V0, and stores it to DI:
// under K1 for a tail.
func (f *file) unaryVec(v isa, tail bool, op func()) {
	if tail {
		f.VMOVUPS_Z(Mem{Base: RSI}, K1, v.V(0))
	} else {
		f.VMOVUPS(Mem{Base: RSI}, v.V(0))
	}
	op()
	if tail {
		f.VMOVUPS(v.V(0), K1, Mem{Base: RDI})
	} else {
		f.VMOVUPS(v.V(0), Mem{Base: RDI})
	}
}

// genElemMax writes elemMaxAVX2: dst = max(a, b) lane by lane with Go's
// max exactly (the pooling's Go loop is the oracle): b when b is NaN, else
// a when a is NaN, else the larger, and for equal values their bitwise AND
// (max(−0, +0) = +0; equal non-zero values have the same bits). VMAXPS
// gives a > b ? a : b, and b when either is NaN; two blends mend the NaN-a
// and the signed-zero lanes. n is a multiple of 8 (the Go wrapper does the
// rest). The AVX-512 tier runs it too: pooling is bound by loads, not by
// the vector width. SI = a, DX = b, DI = dst, CX = n.
func genElemMax(f *file) {
	f.doc("Elementwise max with Go's semantics (declared in elem_amd64.go).")
	f.text("elemMaxAVX2", "func(dst, a, b *float32, n int)")
	f.args("dst a b n", RDI, RSI, RDX, RCX)
	x, y, r, m, t := Y0, Y1, Y2, Y3, Y4
	f.Label("loop")
	f.CMPQ(RCX, U8(8))
	f.JLT(LabelRef("done"))
	f.VMOVUPS(Mem{Base: RSI}, x)
	f.VMOVUPS(Mem{Base: RDX}, y)
	f.VMAXPS(y, x, r)        // r = x > y ? x : y; y if either is NaN
	f.VCMPPS(U8(3), x, x, m) // x is NaN (unordered)
	f.VCMPPS(U8(7), y, y, t) // y is not NaN (ordered)
	f.VANDPS(t, m, m)        // NaN x, ordered y: Go's max gives x
	f.VBLENDVPS(m, x, r, r)  // r = m ? x : r
	f.VCMPPS(U8(0), y, x, m) // x == y (ordered, so never NaN)
	f.VANDPS(y, x, t)        // their bitwise AND: +0 for ±0
	f.VBLENDVPS(m, t, r, r)  // r = m ? x&y : r
	f.VMOVUPS(r, Mem{Base: RDI})
	f.advance(U8(32), U8(8), RSI, RDX, RDI)
	f.JMP(LabelRef("loop"))
	f.Label("done")
	f.ret()
}
