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
