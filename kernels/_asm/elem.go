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
	for _, v := range []isa{avx512, avx2} {
		f.text("elemBin"+v.name, "func(op uint32, dst, a, b *float32, n int)")
		f.MOVL(f.arg("op"), EAX)
		f.MOVQ(f.arg("dst"), RDI)
		f.MOVQ(f.arg("a"), RSI)
		f.MOVQ(f.arg("b"), RDX)
		f.MOVQ(f.arg("n"), RCX)
		f.cmpConst(EAX, "elemAdd")
		f.JNE(LabelRef("mul"))
		f.elemLoop(v, "add", func(m Op, x, d Op) { f.VADDPS(m, x, d) })
		f.Label("mul")
		f.elemLoop(v, "mul", func(m Op, x, d Op) { f.VMULPS(m, x, d) })
		f.Label("done")
		f.VZEROUPPER()
		f.RET()
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
	f.ADDQ(U32(4*w), RSI)
	f.ADDQ(U32(4*w), RDX)
	f.ADDQ(U32(4*w), RDI)
	f.SUBQ(U8(4*v.lanes), RCX)
	f.JMP(LabelRef(l4))
	f.Label(l1)
	f.CMPQ(RCX, U8(v.lanes))
	if v.masked {
		f.JLT(LabelRef(lt))
	} else {
		f.JLT(LabelRef("done"))
	}
	f.VMOVUPS(Mem{Base: RSI}, v.V(0))
	op(Mem{Base: RDX}, v.V(0), v.V(0))
	f.VMOVUPS(v.V(0), Mem{Base: RDI})
	f.ADDQ(U8(w), RSI)
	f.ADDQ(U8(w), RDX)
	f.ADDQ(U8(w), RDI)
	f.SUBQ(U8(v.lanes), RCX)
	f.JMP(LabelRef(l1))
	if !v.masked {
		return
	}
	f.Label(lt)
	f.TESTQ(RCX, RCX)
	f.JEQ(LabelRef("done"))
	f.tailMask(K1)
	f.VMOVUPS_Z(Mem{Base: RSI}, K1, v.V(0))
	f.VMOVUPS_Z(Mem{Base: RDX}, K1, v.V(1))
	op(v.V(1), v.V(0), v.V(0))
	f.VMOVUPS(v.V(0), K1, Mem{Base: RDI})
	f.JMP(LabelRef("done"))
}

// tailMask sets k to the low CX bits (CX < 16), through AX.
func (f *file) tailMask(k Op) {
	f.MOVL(U32(1), EAX)
	f.SHLL(CL, EAX)
	f.DECL(EAX)
	f.KMOVW(EAX, k)
}
