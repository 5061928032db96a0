package main

import (
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
	"github.com/mmcloughlin/avo/x86"
)

// genPack writes transpose4Rows: four rows into four columns of a k-major
// panel through 4×4 SSE transposes (SSE2 is the amd64 baseline).
func genPack(f *file) {
	f.doc("GEMM panel packing (declared in pack_amd64.go).")
	f.text("transpose4Rows", "func(dst *float32, dstStride int, r0, r1, r2, r3 *float32, n int)")
	f.args("dst dstStride", RDI, RDX)
	f.SHLQ(U8(2), RDX)
	f.LEAQ(Mem{Base: RDX, Index: RDX, Scale: 2}, R12)
	// 4·stride: avo insists on a base register, the assembler does not.
	i, err := x86.LEAQ(Mem{Base: RDX, Index: RDX, Scale: 4}, R13)
	f.withRaw(i, err, 0, "(DX*4)")
	f.args("r0 r1 r2 r3 n", R8, R9, R10, R11, RCX)
	f.SHRQ(U8(2), RCX)
	f.JZ(LabelRef("done"))
	f.XORQ(RAX, RAX)
	f.Label("loop")
	f.MOVUPS(Mem{Base: R8, Index: RAX, Scale: 1}, X0)
	f.MOVUPS(Mem{Base: R9, Index: RAX, Scale: 1}, X1)
	f.MOVUPS(Mem{Base: R10, Index: RAX, Scale: 1}, X2)
	f.MOVUPS(Mem{Base: R11, Index: RAX, Scale: 1}, X3)
	// x, t = the low and the high halves of x and y interleaved.
	unpack := func(lo, hi func(y, x Op), x, y, t Op) {
		f.MOVAPS(x, t)
		lo(y, x)
		hi(y, t)
	}
	unpack(f.UNPCKLPS, f.UNPCKHPS, X0, X1, X4) // a0 b0 a1 b1, a2 b2 a3 b3
	unpack(f.UNPCKLPS, f.UNPCKHPS, X2, X3, X5) // c0 d0 c1 d1, c2 d2 c3 d3
	unpack(f.UNPCKLPD, f.UNPCKHPD, X0, X2, X6) // a0 b0 c0 d0, a1 b1 c1 d1
	unpack(f.UNPCKLPD, f.UNPCKHPD, X4, X5, X7) // a2 b2 c2 d2, a3 b3 c3 d3
	f.MOVUPS(X0, Mem{Base: RDI})
	f.MOVUPS(X6, Mem{Base: RDI, Index: RDX, Scale: 1})
	f.MOVUPS(X4, Mem{Base: RDI, Index: RDX, Scale: 2})
	f.MOVUPS(X7, Mem{Base: RDI, Index: R12, Scale: 1})
	f.ADDQ(R13, RDI)
	f.ADDQ(U8(16), RAX)
	f.DECQ(RCX)
	f.JNZ(LabelRef("loop"))
	f.Label("done")
	f.RET()
}
