package main

import (
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// genDot writes the gallery dot products dotRowsAVX512 and dotRowsAVX2:
// out[i] = Σ_j q[j]·rows[i*dim+j], four accumulators of one vector each,
// then one vector a step, then the dim%lanes tail (under a mask on AVX-512,
// scalar FMAs on AVX2), the accumulators summed in a fixed order.
// SI = q, DI = current row, DX = out, CX = rows left, R8 = dim,
// R9 = q cursor, R10 = elements left in the row.
func genDot(f *file) {
	f.doc("Gallery dot products (declared in dot_amd64.go).")
	for _, v := range tiers {
		w := v.bytes()
		f.text("dotRows"+v.name, "func(q, rows *float32, dim, n int, out *float32)")
		f.args("q rows dim n out", RSI, RDI, R8, RCX, RDX)
		if v.masked {
			f.Comment("K1 selects the dim%16 tail elements.")
			f.MOVQ(R8, R11)
			f.ANDQ(U8(v.lanes-1), R11)
			f.MOVL(U32(1), EAX)
			f.SHLXL(R11L, EAX, EAX)
			f.DECL(EAX)
			f.KMOVW(EAX, K1)
		}
		f.TESTQ(RCX, RCX)
		f.JLE(LabelRef("done"))

		f.Label("row")
		for i := 0; i < 4; i++ {
			f.zero(v, v.V(i))
		}
		f.MOVQ(RSI, R9)
		f.MOVQ(R8, R10)
		f.CMPQ(R10, U8(4*v.lanes))
		f.JLT(LabelRef("by1"))

		f.Label("by4")
		for i := 0; i < 4; i++ {
			f.VMOVUPS(Mem{Base: R9, Disp: i * w}, v.V(4+i))
		}
		for i := 0; i < 4; i++ {
			f.VFMADD231PS(Mem{Base: RDI, Disp: i * w}, v.V(4+i), v.V(i))
		}
		f.ADDQ(U32(4*w), R9)
		f.ADDQ(U32(4*w), RDI)
		f.SUBQ(U8(4*v.lanes), R10)
		f.CMPQ(R10, U8(4*v.lanes))
		f.JGE(LabelRef("by4"))

		f.Label("by1")
		f.CMPQ(R10, U8(v.lanes))
		if v.masked {
			f.JLT(LabelRef("tail"))
		} else {
			f.JLT(LabelRef("reduce"))
		}
		f.VMOVUPS(Mem{Base: R9}, v.V(4))
		f.VFMADD231PS(Mem{Base: RDI}, v.V(4), v.V(0))
		f.ADDQ(U8(w), R9)
		f.ADDQ(U8(w), RDI)
		f.SUBQ(U8(v.lanes), R10)
		f.JMP(LabelRef("by1"))

		if v.masked {
			f.Label("tail")
			f.VMOVUPS_Z(Mem{Base: R9}, K1, v.V(4))
			f.VMOVUPS_Z(Mem{Base: RDI}, K1, v.V(5))
			f.VFMADD231PS(v.V(5), v.V(4), v.V(1))
			f.LEAQ(Mem{Base: RDI, Index: R10, Scale: 4}, RDI)
			f.dotReduce(v)
		} else {
			f.Label("reduce")
			f.dotReduce(v)
			f.TESTQ(R10, R10)
			f.JLE(LabelRef("store"))
			f.Label("tail")
			f.VMOVSS(Mem{Base: R9}, X4)
			f.VFMADD231SS(Mem{Base: RDI}, X4, X0)
			f.ADDQ(U8(4), R9)
			f.ADDQ(U8(4), RDI)
			f.DECQ(R10)
			f.JNZ(LabelRef("tail"))
			f.Label("store")
		}
		f.VMOVSS(X0, Mem{Base: RDX})
		f.ADDQ(U8(4), RDX)
		f.DECQ(RCX)
		f.JNZ(LabelRef("row"))

		f.Label("done")
		f.ret()
	}
}

// dotReduce sums the four accumulators into X0: (V0+V1) + (V2+V3), then
// halves of the register down to one lane. Clobbers V1..V3.
func (f *file) dotReduce(v isa) {
	f.VADDPS(v.V(1), v.V(0), v.V(0))
	f.VADDPS(v.V(3), v.V(2), v.V(2))
	f.VADDPS(v.V(2), v.V(0), v.V(0))
	if v.masked {
		f.VEXTRACTF64X4(U8(1), Z0, Y1)
		f.VADDPS(Y1, Y0, Y0)
	}
	f.VEXTRACTF128(U8(1), Y0, X1)
	f.VADDPS(X1, X0, X0)
	f.VMOVHLPS(X0, X0, X1)
	f.VADDPS(X1, X0, X0)
	f.VPSHUFD(U8(1), X0, X1)
	f.VADDSS(X1, X0, X0)
}
