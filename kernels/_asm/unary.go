package main

import (
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// The erf and GELU kernels erfAVX512 and erfAVX2 (declared in
// unary_amd64.go): the Go twin's algorithm (erfCore, erff and geluf in
// unary.go), vector for vector. Each lane looks its interval's
// coefficients up with one VPERMPS per table row (tab is erfVecTab of
// unary_amd64.go: the twelve rows of erfTab, then the scalar constants,
// each row eight floats):
//
//	z = x (erf) or x·√½ (GELU, x clamped to ±8 first), zl = x·√½ - z
//	    (fused, exact) + x·lo(√½)
//	a = min(|z|, 4), al = ±zl            (NaN stays NaN)
//	k = min(int(a·scale + offset), 7)    (the interval)
//	t = a·(a·s0 + s1) - c + al·s1        (a² for k = 0, a - c_k + al above)
//	m = a·s0 + t·s1                      (a, t)
//	h = h7·t + h6 … ·t + h0              (fused Horner steps)
//	p = (a·s0 + q0) + m·h                (erf(a) for k = 0, erfc(a) above)
//	erf:  (p·s0 + (1-p)·s1) with z's sign
//	GELU: x·(A + B·p/2), A = s0/2 + s1·[x ≥ 0], B = ±(s0 - s1) with x's sign
//
// The selections by s0, s1 and B (0 or ±1) are exact, so the rounding
// steps are those of the Go twin, fused where the twin's are not (the
// Horner steps and m·h).

// Rows of erfVecTab: erfTab's twelve, then the constants.
const (
	erfRowS0     = 0
	erfRowS1     = 1
	erfRowC      = 2
	erfRowH0     = 3
	erfRowH7     = 10
	erfRowQ0     = 11
	erfRowScale  = 12
	erfRowOffset = 13
	erfRowFour   = 14
	erfRowAbs    = 15
	erfRowSign   = 16
	erfRowSeven  = 17
	erfRowRSqrt2 = 18
	erfRowHalf   = 19
	erfRowOne    = 20
	erfRowRSqLo  = 21
	erfRowEight  = 22
	erfRowMinus8 = 23
)

// erfRegs are the registers one tier keeps its constants in; rows, on
// AVX-512, holds the table rows 0..11 (AVX2 reads them from memory).
type erfRegs struct {
	abs, four, scale, offset, rsqrt2, one   VecPhysical
	half, seven, sign, rsqlo, eight, minus8 Op
	rows                                    []VecPhysical
}

func (r erfRegs) row(j int) Op {
	if r.rows != nil {
		return r.rows[j]
	}
	return Mem{Base: R8, Disp: 32 * j}
}

func genUnary(f *file) {
	f.doc("Erf and GELU kernels for AVX-512 and AVX2+FMA (declared in unary_amd64.go):",
		"the Go twin's table-driven polynomials, one VPERMPS per coefficient;",
		"see kernels/_asm/unary.go.")
	for _, v := range tiers {
		f.text("erf"+v.name, "func(kind uint32, tab *[24][8]float32, dst, src *float32, n int)")
		f.args("kind tab dst src n", EAX, R8, RDI, RSI, RCX)
		var r erfRegs
		bcast := func(row int, d VecPhysical) { f.VBROADCASTSS(Mem{Base: R8, Disp: 32 * row}, d) }
		if v.masked {
			// Z16..Z27: the table rows; Z28..Z31, Z10..Z15: constants;
			// Z0..Z9: the work.
			for j := 0; j <= erfRowQ0; j++ {
				r.rows = append(r.rows, v.V(16+j))
				f.VBROADCASTF64X4(Mem{Base: R8, Disp: 32 * j}, v.V(16+j))
			}
			r.abs, r.four, r.scale, r.offset = v.V(28), v.V(29), v.V(30), v.V(31)
			r.rsqrt2, r.one = v.V(10), v.V(11)
			for i, row := range []int{erfRowHalf, erfRowSeven, erfRowSign, erfRowRSqLo} {
				bcast(row, v.V(12+i))
			}
			r.half, r.seven, r.sign, r.rsqlo = v.V(12), v.V(13), v.V(14), v.V(15)
			// ±8 (GELU's clamp): broadcast memory operands.
			r.eight, r.minus8 = Mem{Base: R8, Disp: 32 * erfRowEight}, Mem{Base: R8, Disp: 32 * erfRowMinus8}
		} else {
			// Y10..Y15: constants, the others memory operands; Y0..Y9: the work.
			r.abs, r.four, r.scale, r.offset = v.V(10), v.V(11), v.V(12), v.V(13)
			r.rsqrt2, r.one = v.V(14), v.V(15)
			mem := func(row int) Op { return Mem{Base: R8, Disp: 32 * row} }
			r.half, r.seven, r.sign, r.rsqlo = mem(erfRowHalf), mem(erfRowSeven), mem(erfRowSign), mem(erfRowRSqLo)
			r.eight, r.minus8 = mem(erfRowEight), mem(erfRowMinus8)
		}
		bcast(erfRowAbs, r.abs)
		bcast(erfRowFour, r.four)
		bcast(erfRowScale, r.scale)
		bcast(erfRowOffset, r.offset)
		bcast(erfRowRSqrt2, r.rsqrt2)
		bcast(erfRowOne, r.one)
		f.cmpConst(EAX, "ActGELU")
		f.JEQ(LabelRef("gelu"))
		f.erfLoop(v, r, "erf", false)
		f.Label("gelu")
		f.erfLoop(v, r, "gelu", true)
		f.Label("done")
		f.ret()
	}
}

// erfLoop runs erf (or GELU) over CX elements from SI to DI, one vector a
// step, then on AVX-512 the tail under mask K1.
func (f *file) erfLoop(v isa, r erfRegs, label string, gelu bool) {
	loop, tail := label+"loop", label+"tail"
	op := func() { f.erfVec(v, r, gelu) }
	f.Label(loop)
	f.CMPQ(RCX, U8(v.lanes))
	f.JLT(LabelRef(tailOrDone(v, tail)))
	f.unaryVec(v, false, op)
	f.advance(U8(v.bytes()), U8(v.lanes), RSI, RDI)
	f.JMP(LabelRef(loop))
	if v.masked {
		f.maskedTail(tail, func() { f.unaryVec(v, true, op) })
	}
}

// erfVec replaces V0 (x) by erf(x) or GELU(x); V1..V9 are temporaries.
func (f *file) erfVec(v isa, r erfRegs, gelu bool) {
	x, a, k, t, m, h, s0, s1, p, lo := v.V(0), v.V(1), v.V(2), v.V(3), v.V(4), v.V(5), v.V(6), v.V(7), v.V(8), v.V(9)
	and, or, xor, andn := f.VANDPS, f.VORPS, f.VXORPS, f.VANDNPS
	if v.masked {
		and, or, xor, andn = f.VPANDD, f.VPORD, f.VPXORD, f.VPANDND
	}
	// a = min(|z|, 4); the data is Go's first operand (Intel's second
	// source), the one returned when either is NaN.
	if gelu {
		// x clamped to ±8 (a clamps at 4 anyway) so that zl is finite;
		// a NaN x may become ±8 here: the final product with x keeps it.
		if v.masked {
			f.VMAXPS_BCST(r.minus8, x, t)
			f.VMINPS_BCST(r.eight, t, t)
		} else {
			f.VMAXPS(r.minus8, x, t)
			f.VMINPS(r.eight, t, t)
		}
		f.VMULPS(r.rsqrt2, t, a)
		f.VMOVAPS(a, lo)
		f.VFMSUB231PS(r.rsqrt2, t, lo) // x·√½ - z, exact
		f.VFMADD231PS(r.rsqlo, t, lo)
		and(r.sign, a, m)
		xor(m, lo, lo) // al: zl with z's sign off
		and(r.abs, a, a)
	} else {
		and(r.abs, x, a)
	}
	f.VMINPS(a, r.four, a)
	f.VMOVAPS(a, k)
	f.VFMADD213PS(r.offset, r.scale, k)
	f.VCVTTPS2DQ(k, k)
	f.VPMINSD(r.seven, k, k)
	f.VPERMPS(r.row(erfRowS0), k, s0)
	f.VPERMPS(r.row(erfRowS1), k, s1)
	f.VPERMPS(r.row(erfRowC), k, p)
	f.VMOVAPS(s0, t)
	f.VFMADD213PS(s1, a, t) // a·s0 + s1
	f.VFMADD213PS(p, a, t)  // a·(a·s0 + s1) - c
	if gelu {
		f.VFMADD231PS(s1, lo, t) // + al·s1
	}
	f.VMULPS(s0, a, m)
	f.VFMADD231PS(s1, t, m) // a·s0 + t·s1
	f.VPERMPS(r.row(erfRowQ0), k, p)
	f.VFMADD231PS(s0, a, p) // a·s0 + q0
	f.VPERMPS(r.row(erfRowH7), k, h)
	for j := erfRowH7 - 1; j >= erfRowH0; j-- {
		f.VPERMPS(r.row(j), k, a)
		f.VFMADD213PS(a, t, h)
	}
	f.VFMADD231PS(h, m, p) // p = (a·s0 + q0) + m·h
	if !gelu {
		f.VSUBPS(p, r.one, t)   // 1 - p
		f.VMULPS(s1, t, t)      // (1 - p)·s1
		f.VFMADD231PS(s0, p, t) // + p·s0
		and(r.sign, x, m)
		or(m, t, x)
		return
	}
	f.VPSRAD(U8(31), x, m)
	andn(r.one, m, m)       // [x ≥ 0]
	f.VMULPS(r.half, s0, h) // A = s0/2 + s1·[x ≥ 0]
	f.VFMADD231PS(m, s1, h)
	f.VSUBPS(s1, s0, t) // B = ±(s0 - s1)
	and(r.sign, x, a)
	xor(a, t, t)
	f.VMULPS(r.half, p, p)
	f.VFMADD231PS(p, t, h) // Φ = A + B·p/2
	f.VMULPS(h, x, x)
}
