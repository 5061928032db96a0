package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// genDot8 writes the gallery's int8 dot products dot8RowsAVX512 and
// dot8RowsAVX2: out[i] = Σ_j q[j]·rows[i*dim+j] in int32. VPMOVSXBW widens
// one vector of int16 from half a vector of int8, VPMADDWD multiplies and
// adds neighbouring pairs into int32 lanes (exact). Rows go four at a time
// (dot8Block), the last n%4 one at a time with four accumulators; each
// row's dim%lanes tail is under a byte mask on AVX-512 (masked loads read
// nothing past the row) and scalar on AVX2. Integer sums do not depend on
// their order, so every tier returns the same values.
// SI = q, DI = current row, DX = out, CX = rows left, R8 = dim,
// R9 = q cursor, R10 = elements left in the row, AX = the row's sum.
func genDot8(f *file) {
	f.doc("Gallery int8 dot products (declared in dot8_amd64.go).")
	for _, v := range tiers {
		step := v.bytes() / 2 // int8 elements widened into one vector
		f.text("dot8Rows"+v.name, "func(q, rows *int8, dim, n int, out *int32)")
		f.args("q rows dim n out", RSI, RDI, R8, RCX, RDX)
		if v.masked {
			f.Comment("K1 selects the dim%32 tail elements.")
			f.MOVQ(R8, R11)
			f.ANDQ(U8(step-1), R11)
			f.MOVL(U32(1), EAX)
			f.SHLXL(R11L, EAX, EAX)
			f.DECL(EAX)
			f.KMOVD(EAX, K1)
		}
		f.TESTQ(RCX, RCX)
		f.JLE(LabelRef("done"))
		f.CMPQ(RCX, U8(4))
		f.JLT(LabelRef("row"))
		f.dot8Block(v, step)
		f.TESTQ(RCX, RCX)
		f.JZ(LabelRef("done"))

		f.Label("row")
		for i := 0; i < 4; i++ {
			f.zero(v, v.V(i))
		}
		f.MOVQ(RSI, R9)
		f.MOVQ(R8, R10)
		f.CMPQ(R10, U32(4*step))
		f.JLT(LabelRef("by1"))

		f.Label("by4")
		for i := 0; i < 4; i++ {
			f.dot8Step(v, Mem{Base: R9, Disp: i * step}, Mem{Base: RDI, Disp: i * step}, v.V(4+i), v.V(8+i), v.V(i))
		}
		f.ADDQ(U32(4*step), R9)
		f.ADDQ(U32(4*step), RDI)
		f.SUBQ(U32(4*step), R10)
		f.CMPQ(R10, U32(4*step))
		f.JGE(LabelRef("by4"))

		f.Label("by1")
		f.CMPQ(R10, U8(step))
		f.JLT(LabelRef("tail"))
		f.dot8Step(v, Mem{Base: R9}, Mem{Base: RDI}, v.V(4), v.V(8), v.V(0))
		f.ADDQ(U8(step), R9)
		f.ADDQ(U8(step), RDI)
		f.SUBQ(U8(step), R10)
		f.JMP(LabelRef("by1"))

		f.Label("tail")
		if v.masked {
			f.TESTQ(R10, R10)
			f.JZ(LabelRef("reduce"))
			half := v.V(4).AsY()
			f.VMOVDQU8_Z(Mem{Base: R9}, K1, half)
			f.VPMOVSXBW(half, v.V(4))
			half = v.V(5).AsY()
			f.VMOVDQU8_Z(Mem{Base: RDI}, K1, half)
			f.VPMOVSXBW(half, v.V(5))
			f.VPMADDWD(v.V(5), v.V(4), v.V(4))
			f.VPADDD(v.V(4), v.V(1), v.V(1))
			f.ADDQ(R10, RDI)
			f.Label("reduce")
			f.dot8Reduce(v)
		} else {
			f.dot8Reduce(v)
			f.TESTQ(R10, R10)
			f.JLE(LabelRef("store"))
			f.Label("scalar")
			f.MOVBLSX(Mem{Base: R9}, R11L)
			f.MOVBLSX(Mem{Base: RDI}, R12L)
			f.IMULL(R12L, R11L)
			f.ADDL(R11L, EAX)
			f.INCQ(R9)
			f.INCQ(RDI)
			f.DECQ(R10)
			f.JNZ(LabelRef("scalar"))
		}
		f.Label("store")
		f.MOVL(EAX, Mem{Base: RDX})
		f.ADDQ(U8(4), RDX)
		f.DECQ(RCX)
		f.JNZ(LabelRef("row"))

		f.Label("done")
		f.VZEROUPPER()
		f.RET()
	}
}

// dot8Block scores rows four at a time while four are left, sharing each
// widened vector of q between them; each row has one accumulator, the
// four reduced together (vphaddd) and stored as one vector. R13 = row 0's
// cursor, rows 1..3 at R13 + R8, + 2·R8, + R12 (3·dim); in the AVX2 scalar
// tail R11 walks the rows, BX indexes the elements and R12, R13 are
// scratch.
func (f *file) dot8Block(v isa, step int) {
	f.Label("block")
	f.LEAQ(Mem{Base: R8, Index: R8, Scale: 2}, R12)
	for r := 0; r < 4; r++ {
		f.zero(v, v.V(r))
	}
	f.MOVQ(RSI, R9)
	f.MOVQ(RDI, R13)
	f.MOVQ(R8, R10)
	f.CMPQ(R10, U32(step))
	f.JLT(LabelRef("btail"))
	rowAt := func(r int, disp int) Mem {
		switch r {
		case 0:
			return Mem{Base: R13, Disp: disp}
		case 3:
			return Mem{Base: R13, Index: R12, Scale: 1, Disp: disp}
		}
		return Mem{Base: R13, Index: R8, Scale: uint8(r), Disp: disp}
	}

	f.Label("bstep")
	f.VPMOVSXBW(Mem{Base: R9}, v.V(4))
	for r := 0; r < 4; r++ {
		x := v.V(5 + r)
		f.VPMOVSXBW(rowAt(r, 0), x)
		f.VPMADDWD(x, v.V(4), x)
		f.VPADDD(x, v.V(r), v.V(r))
	}
	f.ADDQ(U32(step), R9)
	f.ADDQ(U32(step), R13)
	f.SUBQ(U32(step), R10)
	f.CMPQ(R10, U32(step))
	f.JGE(LabelRef("bstep"))

	f.Label("btail")
	if v.masked {
		f.TESTQ(R10, R10)
		f.JZ(LabelRef("breduce"))
		f.VMOVDQU8_Z(Mem{Base: R9}, K1, v.V(4).AsY())
		f.VPMOVSXBW(v.V(4).AsY(), v.V(4))
		for r := 0; r < 4; r++ {
			x := v.V(5 + r)
			f.VMOVDQU8_Z(rowAt(r, 0), K1, x.AsY())
			f.VPMOVSXBW(x.AsY(), x)
			f.VPMADDWD(x, v.V(4), x)
			f.VPADDD(x, v.V(r), v.V(r))
		}
		f.Label("breduce")
		for r := 0; r < 4; r++ {
			f.VEXTRACTI64X4(U8(1), v.V(r), v.V(8+r).AsY())
			f.VPADDD(v.V(8+r).AsY(), v.V(r).AsY(), v.V(r).AsY())
		}
	}
	f.VPHADDD(Y1, Y0, Y0)
	f.VPHADDD(Y3, Y2, Y2)
	f.VPHADDD(Y2, Y0, Y0)
	f.VEXTRACTI128(U8(1), Y0, X1)
	f.VPADDD(X1, X0, X0)
	f.VMOVDQU(X0, Mem{Base: RDX})
	f.LEAQ(Mem{Base: RDI, Index: R8, Scale: 4}, RDI)
	if !v.masked {
		f.TESTQ(R10, R10)
		f.JZ(LabelRef("bnext"))
		f.MOVQ(R13, R11)
		for r := 0; r < 4; r++ {
			loop := LabelRef(fmt.Sprintf("bscalar%d", r))
			f.XORL(EAX, EAX)
			f.XORL(EBX, EBX)
			f.Label(string(loop))
			f.MOVBLSX(Mem{Base: R9, Index: RBX, Scale: 1}, R12L)
			f.MOVBLSX(Mem{Base: R11, Index: RBX, Scale: 1}, R13L)
			f.IMULL(R13L, R12L)
			f.ADDL(R12L, EAX)
			f.INCQ(RBX)
			f.CMPQ(RBX, R10)
			f.JLT(loop)
			f.ADDL(EAX, Mem{Base: RDX, Disp: 4 * r})
			f.ADDQ(R8, R11)
		}
		f.Label("bnext")
	}
	f.ADDQ(U8(16), RDX)
	f.SUBQ(U8(4), RCX)
	f.CMPQ(RCX, U8(4))
	f.JGE(LabelRef("block"))
}

// dot8Step adds the pairwise products of one widened vector of q and of the
// row into acc; a and b are scratch.
func (f *file) dot8Step(v isa, q, row Mem, a, b, acc VecPhysical) {
	f.VPMOVSXBW(q, a)
	f.VPMOVSXBW(row, b)
	f.VPMADDWD(b, a, a)
	f.VPADDD(a, acc, acc)
}

// dot8Reduce sums the four int32 accumulators into EAX: (V0+V1) + (V2+V3),
// then halves of the register down to one lane. Clobbers V1..V3.
func (f *file) dot8Reduce(v isa) {
	f.VPADDD(v.V(1), v.V(0), v.V(0))
	f.VPADDD(v.V(3), v.V(2), v.V(2))
	f.VPADDD(v.V(2), v.V(0), v.V(0))
	if v.masked {
		f.VEXTRACTI64X4(U8(1), Z0, Y1)
		f.VPADDD(Y1, Y0, Y0)
	}
	f.VEXTRACTI128(U8(1), Y0, X1)
	f.VPADDD(X1, X0, X0)
	f.VPSHUFD(U8(0x4e), X0, X1)
	f.VPADDD(X1, X0, X0)
	f.VPSHUFD(U8(0xb1), X0, X1)
	f.VPADDD(X1, X0, X0)
	f.VMOVD(X0, EAX)
}
