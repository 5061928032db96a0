package main

import (
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// Winograd F(4×4, 3×3) transforms, 8 channels a step (declared, with the
// loops they compute, in winograd_amd64.go; winoInputGo and winoOutputGo in
// winograd.go are their twins, bit for bit: the same products and sums in
// the same order, no FMA). A tile does not fit in 16 vector registers, so
// the row pass writes its result to tmp (36 or 24 vectors) and the column
// pass reads it back. The AVX-512 tier runs these too: a transform is a few
// additions per value loaded, bound by loads and stores.

// winoConst broadcasts the float32 with bits b into r (through AX).
func (f *file) winoConst(b uint32, r VecPhysical) {
	f.MOVL(U32(b), EAX)
	f.VMOVD(EAX, r.AsX())
	f.VBROADCASTSS(r.AsX(), r)
}

// winoIn1 is the 1-D input transform of d[0..5] into t[0..5] (winoIn1 in
// winograd.go); four, five are the constants and tmp a scratch register.
func (f *file) winoIn1(d, t [6]VecPhysical, four, five, tmp VecPhysical) {
	f.VMULPS(four, d[0], t[0]) // t0 = 4d0 - 5d2 + d4
	f.VMULPS(five, d[2], tmp)
	f.VSUBPS(tmp, t[0], t[0])
	f.VADDPS(d[4], t[0], t[0])
	f.VADDPS(d[4], d[3], t[1]) // t1 = (d3 + d4) - 4(d1 + d2)
	f.VADDPS(d[2], d[1], tmp)
	f.VMULPS(four, tmp, tmp)
	f.VSUBPS(tmp, t[1], t[1])
	f.VSUBPS(d[3], d[4], t[2]) // t2 = (d4 - d3) + 4(d1 - d2)
	f.VSUBPS(d[2], d[1], tmp)
	f.VMULPS(four, tmp, tmp)
	f.VADDPS(tmp, t[2], t[2])
	f.VSUBPS(d[1], d[3], t[3]) // t3 = 2(d3 - d1) + (d4 - d2)
	f.VADDPS(t[3], t[3], t[3])
	f.VSUBPS(d[2], d[4], tmp)
	f.VADDPS(tmp, t[3], t[3])
	f.VSUBPS(d[3], d[1], t[4]) // t4 = 2(d1 - d3) + (d4 - d2)
	f.VADDPS(t[4], t[4], t[4])
	f.VADDPS(tmp, t[4], t[4])
	f.VMULPS(four, d[1], t[5]) // t5 = 4d1 - 5d3 + d5
	f.VMULPS(five, d[3], tmp)
	f.VSUBPS(tmp, t[5], t[5])
	f.VADDPS(d[5], t[5], t[5])
}

func genWinograd(f *file) {
	ys := func(i ...int) (r [6]VecPhysical) {
		for j, k := range i {
			r[j] = ymm[k]
		}
		return r
	}

	// Input: DI = dst, SI = src, R8 = dstStride bytes, R9 = rowStride
	// bytes, R10 = colStride bytes, CX = blocks, DX = tmp, R11 = 3·col,
	// R12 = 5·col, R13 = 6·dst, BX = the row's or column's pointer.
	f.doc("Winograd F(4×4, 3×3) transforms (declared in winograd_amd64.go).")
	f.text("winoInputAVX2", "func(dst *float32, dstStride int, src *float32, rowStride, colStride int, tmp *float32, blocks int)")
	f.args("dst dstStride src rowStride colStride tmp blocks", RDI, R8, RSI, R9, R10, RDX, RCX)
	f.SHLQ(U8(2), R8)
	f.SHLQ(U8(2), R9)
	f.SHLQ(U8(2), R10)
	f.LEAQ(Mem{Base: R10, Index: R10, Scale: 2}, R11) // 3·col
	f.LEAQ(Mem{Base: R10, Index: R10, Scale: 4}, R12) // 5·col
	f.LEAQ(Mem{Base: R8, Index: R8, Scale: 2}, R13)   // 3·dst
	f.SHLQ(U8(1), R13)                                // 6·dst: one row of ξ
	four, five, tmp := Y12, Y13, Y14
	f.winoConst(0x40800000, four)
	f.winoConst(0x40a00000, five)
	d, t := ys(0, 1, 2, 3, 4, 5), ys(6, 7, 8, 9, 10, 11)
	f.Label("inblock")
	f.TESTQ(RCX, RCX)
	f.JEQ(LabelRef("indone"))
	// Rows: d = pixels 0..5 of row r, t → tmp[r*6 .. r*6+5].
	f.MOVQ(RSI, RBX)
	for r := 0; r < 6; r++ {
		cols := []Mem{
			{Base: RBX}, {Base: RBX, Index: R10, Scale: 1}, {Base: RBX, Index: R10, Scale: 2},
			{Base: RBX, Index: R11, Scale: 1}, {Base: RBX, Index: R10, Scale: 4}, {Base: RBX, Index: R12, Scale: 1},
		}
		for s, m := range cols {
			f.VMOVUPS(m, d[s])
		}
		f.winoIn1(d, t, four, five, tmp)
		for s := 0; s < 6; s++ {
			f.VMOVUPS(t[s], Mem{Base: RDX, Disp: (r*6 + s) * 32})
		}
		if r < 5 {
			f.ADDQ(R9, RBX)
		}
	}
	// Columns: d = tmp[0*6+s .. 5*6+s], t[r] → dst[(r*6+s)*dstStride]:
	// rows 0..2 from BX, rows 3..5 from R12 = BX + 18·dst (R12 is free
	// until the next block's row pass).
	f.MOVQ(RDI, RBX)
	for s := 0; s < 6; s++ {
		for r := 0; r < 6; r++ {
			f.VMOVUPS(Mem{Base: RDX, Disp: (r*6 + s) * 32}, d[r])
		}
		f.winoIn1(d, t, four, five, tmp)
		f.LEAQ(Mem{Base: RBX, Index: R13, Scale: 2}, R12)
		f.ADDQ(R13, R12)
		rows := []Mem{
			{Base: RBX}, {Base: RBX, Index: R13, Scale: 1}, {Base: RBX, Index: R13, Scale: 2},
			{Base: R12}, {Base: R12, Index: R13, Scale: 1}, {Base: R12, Index: R13, Scale: 2},
		}
		for r := 0; r < 6; r++ {
			f.VMOVUPS(t[r], rows[r])
		}
		if s < 5 {
			f.ADDQ(R8, RBX)
		}
	}
	f.LEAQ(Mem{Base: R10, Index: R10, Scale: 4}, R12)
	f.ADDQ(U8(32), RSI)
	f.ADDQ(U8(32), RDI)
	f.DECQ(RCX)
	f.JMP(LabelRef("inblock"))
	f.Label("indone")
	f.ret()

	// Output: DI = dst, R9 = rowStride bytes, R10 = colStride bytes,
	// SI = src, R8 = srcStride bytes, BX = bias, CX = blocks, DX = tmp,
	// R11 = 3·src, R12 = 5·src, AX = the row's or column's pointer.
	f.text("winoOutputAVX2", "func(dst *float32, rowStride, colStride int, src *float32, srcStride int, bias *float32, lo, hi float32, tmp *float32, blocks int)")
	f.args("dst rowStride colStride src srcStride bias tmp blocks", RDI, R9, R10, RSI, R8, RBX, RDX, RCX)
	f.SHLQ(U8(2), R8)
	f.SHLQ(U8(2), R9)
	f.SHLQ(U8(2), R10)
	f.LEAQ(Mem{Base: R8, Index: R8, Scale: 2}, R11) // 3·src
	f.LEAQ(Mem{Base: R8, Index: R8, Scale: 4}, R12) // 5·src
	four, eight := Y12, Y13
	lo, hi := Y14, Y15
	f.winoConst(0x40800000, four)
	f.winoConst(0x41000000, eight)
	f.VBROADCASTSS(f.arg("lo"), lo)
	f.VBROADCASTSS(f.arg("hi"), hi)
	m := ys(0, 1, 2, 3, 4, 5)
	y := [4]VecPhysical{Y6, Y7, Y8, Y9}
	sa, sb := Y10, Y11
	f.Label("outblock")
	f.TESTQ(RCX, RCX)
	f.JEQ(LabelRef("outdone"))
	// Rows: m = src[(r*6+0..5)*srcStride], y → tmp[r*4 .. r*4+3].
	f.MOVQ(RSI, RAX)
	for r := 0; r < 6; r++ {
		cols := []Mem{
			{Base: RAX}, {Base: RAX, Index: R8, Scale: 1}, {Base: RAX, Index: R8, Scale: 2},
			{Base: RAX, Index: R11, Scale: 1}, {Base: RAX, Index: R8, Scale: 4}, {Base: RAX, Index: R12, Scale: 1},
		}
		for s, a := range cols {
			f.VMOVUPS(a, m[s])
		}
		f.winoOut1Regs(m, y, four, eight, sa, sb)
		for s := 0; s < 4; s++ {
			f.VMOVUPS(y[s], Mem{Base: RDX, Disp: (r*4 + s) * 32})
		}
		if r < 5 {
			f.LEAQ(Mem{Base: RAX, Index: R12, Scale: 1}, RAX) // 6 ξ on: + 5·src
			f.ADDQ(R8, RAX)                                   // + src
		}
	}
	// Columns: m = tmp[0*4+s .. 5*4+s], y[r] + bias, clamped → dst[r*row +
	// s*col]; R11 = 3·row until the next block's row pass.
	f.LEAQ(Mem{Base: R9, Index: R9, Scale: 2}, R11)
	f.MOVQ(RDI, RAX)
	for s := 0; s < 4; s++ {
		for r := 0; r < 6; r++ {
			f.VMOVUPS(Mem{Base: RDX, Disp: (r*4 + s) * 32}, m[r])
		}
		f.winoOut1Regs(m, y, four, eight, sa, sb)
		f.VMOVUPS(Mem{Base: RBX}, sa)
		rows := []Mem{
			{Base: RAX}, {Base: RAX, Index: R9, Scale: 1}, {Base: RAX, Index: R9, Scale: 2}, {Base: RAX, Index: R11, Scale: 1},
		}
		for r := 0; r < 4; r++ {
			f.VADDPS(sa, y[r], y[r])
			f.clamp(y[r], lo, hi)
			f.VMOVUPS(y[r], rows[r])
		}
		if s < 3 {
			f.ADDQ(R10, RAX)
		}
	}
	f.LEAQ(Mem{Base: R8, Index: R8, Scale: 2}, R11)
	f.ADDQ(U8(32), RSI)
	f.ADDQ(U8(32), RDI)
	f.ADDQ(U8(32), RBX)
	f.DECQ(RCX)
	f.JMP(LabelRef("outblock"))
	f.Label("outdone")
	f.ret()
}

// winoOut1Regs is winoOut1 with two scratch registers: a = m1+m2 and
// b = m1-m2 are kept, c = m3+m4 and d = m3-m4 are formed in y2 and y3
// (and y1 = 2d from y3 before y3 is overwritten).
func (f *file) winoOut1Regs(m [6]VecPhysical, y [4]VecPhysical, four, eight, a, b VecPhysical) {
	f.VADDPS(m[2], m[1], a)
	f.VSUBPS(m[2], m[1], b)
	f.VADDPS(m[4], m[3], y[2]) // c
	f.VSUBPS(m[4], m[3], y[3]) // d
	f.VADDPS(a, m[0], y[0])    // y0 = (m0 + a) + c
	f.VADDPS(y[2], y[0], y[0])
	f.VADDPS(y[3], y[3], y[1]) // y1 = b + 2d
	f.VADDPS(y[1], b, y[1])
	f.VMULPS(four, y[2], y[2]) // y2 = a + 4c
	f.VADDPS(y[2], a, y[2])
	f.VMULPS(eight, y[3], y[3]) // y3 = (b + 8d) + m5
	f.VADDPS(y[3], b, y[3])
	f.VADDPS(m[5], y[3], y[3])
}
