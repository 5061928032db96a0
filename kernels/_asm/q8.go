package main

import (
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// genQ8 writes the int8 element-wise kernels q8{Quant,Dequant,Add,Max}
// for AVX-512 and AVX2 (declared in q8_amd64.go). Each lane runs the Go
// loop's IEEE operations in its order: VDIVPS for x/scale, VMULPS and
// VADDPS unfused, VCVTPS2DQ under the default rounding mode (half to
// even) after clamping to ±512, then saturating packs to int8. AVX-512
// does four vectors a step, then one, then the tail under a mask; AVX2
// two, then one, and leaves the tail to Go. DI = dst, SI = src or a,
// DX = b, CX = n.
func genQ8(f *file) {
	f.doc("Int8 quantize, dequantize, requantising add and max (declared in q8_amd64.go).")
	for _, v := range tiers {
		f.q8Quant(v)
		f.q8Dequant(v)
		f.q8Add(v)
		f.q8Max(v)
	}
}

// q8Unroll is the vectors a main step handles.
func q8Unroll(v isa) int {
	if v.masked {
		return 4
	}
	return 2
}

// q8Stream is a pointer register and the bytes of its elements.
type q8Stream struct {
	r    GPPhysical
	size int
}

// q8Loop runs body over CX elements, lanes a vector, of the streams:
// q8Unroll(v) vectors a step, then one, then (AVX-512) the tail under K1
// (built by mask from CX); body(u, tail) handles u vectors.
func (f *file) q8Loop(v isa, lanes int, streams []q8Stream, mask func(), body func(u int, tail bool)) {
	step := func(label, next string, u int) {
		f.Label(label)
		f.CMPQ(RCX, U32(u*lanes))
		f.JLT(LabelRef(next))
		body(u, false)
		for _, s := range streams {
			f.ADDQ(U32(u*lanes*s.size), s.r)
		}
		f.SUBQ(U32(u*lanes), RCX)
		f.JMP(LabelRef(label))
	}
	step("many", "one", q8Unroll(v))
	step("one", tailOrDone(v, "tail"), 1)
	if v.masked {
		f.Label("tail")
		f.TESTQ(RCX, RCX)
		f.JEQ(LabelRef("done"))
		mask()
		body(1, true)
	}
	f.Label("done")
	f.ret()
}

// q8Mask16 sets K1 to the low CX (< 16) bits.
func (f *file) q8Mask16() {
	f.MOVL(U32(1), EAX)
	f.SHLL(CL, EAX)
	f.DECL(EAX)
	f.KMOVW(EAX, K1)
}

// q8Bcast broadcasts the 32-bit arg name (a float or an int32) into r.
func (f *file) q8Bcast(v isa, name string, r VecPhysical) { f.q8BcastAX(v, f.arg(name), r) }

// q8BcastImm broadcasts the 32-bit constant c into r.
func (f *file) q8BcastImm(v isa, c uint32, r VecPhysical) { f.q8BcastAX(v, U32(c), r) }

// q8BcastAX broadcasts the 32 bits of src into r, through AX (go vet
// rejects a broadcast straight from a 4-byte argument).
func (f *file) q8BcastAX(v isa, src Op, r VecPhysical) {
	f.MOVL(src, EAX)
	if v.masked {
		f.VPBROADCASTD(EAX, r)
		return
	}
	f.VMOVD(EAX, r.AsX())
	f.VPBROADCASTD(r.AsX(), r)
}

// q8Consts names the broadcast registers, counted down from the last.
type q8Consts struct {
	scale, lo512, hi512, zero VecPhysical // the quantize step
	clampLo, clampHi          VecPhysical // Add's output clamp (nil: none)
}

// q8QuantConsts loads the quantize step's constants from args scale and
// zero into the top vector registers; more are the further registers the
// caller needs, below them.
func (f *file) q8QuantConsts(v isa, scale, zero string, more int) (q8Consts, []VecPhysical) {
	top := func(i int) VecPhysical { return v.V(v.nvec - 1 - i) }
	c := q8Consts{scale: top(0), lo512: top(1), hi512: top(2), zero: top(3)}
	f.q8Bcast(v, scale, c.scale)
	f.q8BcastImm(v, 0xc4000000, c.lo512) // -512
	f.q8BcastImm(v, 0x44000000, c.hi512) // 512
	f.q8Bcast(v, zero, c.zero)
	var rest []VecPhysical
	for i := 0; i < more; i++ {
		rest = append(rest, top(4+i))
	}
	return c, rest
}

// q8Requant turns float lanes x into int8s stored at m (under K1 for a
// tail): x/scale, NaN to 0, clamped to ±512, rounded half to even, plus
// the zero point, clamped (Add) and saturated. t is a scratch register.
func (f *file) q8Requant(v isa, c q8Consts, x, t VecPhysical, m Mem, tail bool) {
	f.VDIVPS(c.scale, x, x)
	if v.masked {
		f.VCMPPS(U8(7), x, x, K2) // ordered: not NaN
		f.VMOVAPS_Z(x, K2, x)
	} else {
		f.VCMPPS(U8(7), x, x, t)
		f.VANDPS(t, x, x)
	}
	f.VMAXPS(c.lo512, x, x)
	f.VMINPS(c.hi512, x, x)
	f.VCVTPS2DQ(x, x)
	f.VPADDD(c.zero, x, x)
	if c.clampLo != nil {
		f.VPMAXSD(c.clampLo, x, x)
		f.VPMINSD(c.clampHi, x, x)
	}
	switch {
	case tail:
		f.VPMOVSDB(x, K1, m)
	case v.masked:
		f.VPMOVSDB(x, m)
	default:
		f.VEXTRACTI128(U8(1), x, t.AsX())
		f.VPACKSSDW(t.AsX(), x.AsX(), x.AsX())
		f.VPACKSSWB(x.AsX(), x.AsX(), x.AsX())
		f.VMOVQ(x.AsX(), m)
	}
}

// q8Widen loads lanes int8s from m into x as int32s minus zero.
func (f *file) q8Widen(x, zero VecPhysical, m Mem, tail bool) {
	if tail {
		f.VPMOVSXBD_Z(m, K1, x)
	} else {
		f.VPMOVSXBD(m, x)
	}
	f.VPSUBD(zero, x, x)
	f.VCVTDQ2PS(x, x)
}

func (f *file) q8Quant(v isa) {
	f.text("q8Quant"+v.name, "func(dst *int8, src *float32, n int, scale float32, zero int32)")
	f.args("dst src n", RDI, RSI, RCX)
	c, _ := f.q8QuantConsts(v, "scale", "zero", 0)
	w := v.lanes
	f.q8Loop(v, w, []q8Stream{{RDI, 1}, {RSI, 4}}, f.q8Mask16, func(u int, tail bool) {
		for i := 0; i < u; i++ {
			if tail {
				f.VMOVUPS_Z(Mem{Base: RSI}, K1, v.V(i))
			} else {
				f.VMOVUPS(Mem{Base: RSI, Disp: 4 * w * i}, v.V(i))
			}
		}
		for i := 0; i < u; i++ {
			f.q8Requant(v, c, v.V(i), v.V(u+i), Mem{Base: RDI, Disp: w * i}, tail)
		}
	})
}

func (f *file) q8Dequant(v isa) {
	f.text("q8Dequant"+v.name, "func(dst *float32, src *int8, n int, scale float32, zero int32)")
	f.args("dst src n", RDI, RSI, RCX)
	scale, zero := v.V(v.nvec-1), v.V(v.nvec-2)
	f.q8Bcast(v, "scale", scale)
	f.q8Bcast(v, "zero", zero)
	w := v.lanes
	f.q8Loop(v, w, []q8Stream{{RDI, 4}, {RSI, 1}}, f.q8Mask16, func(u int, tail bool) {
		for i := 0; i < u; i++ {
			f.q8Widen(v.V(i), zero, Mem{Base: RSI, Disp: w * i}, tail)
			f.VMULPS(scale, v.V(i), v.V(i))
			if tail {
				f.VMOVUPS(v.V(i), K1, Mem{Base: RDI})
			} else {
				f.VMOVUPS(v.V(i), Mem{Base: RDI, Disp: 4 * w * i})
			}
		}
	})
}

func (f *file) q8Add(v isa) {
	f.text("q8Add"+v.name, "func(dst, a, b *int8, n int, sa, sb, s float32, za, zb, zo, lo, hi int32)")
	f.args("dst a b n", RDI, RSI, RDX, RCX)
	c, r := f.q8QuantConsts(v, "s", "zo", 6)
	sa, sb, za, zb := r[0], r[1], r[2], r[3]
	c.clampLo, c.clampHi = r[4], r[5]
	for i, name := range []string{"sa", "sb", "za", "zb", "lo", "hi"} {
		f.q8Bcast(v, name, r[i])
	}
	w := v.lanes
	f.q8Loop(v, w, []q8Stream{{RDI, 1}, {RSI, 1}, {RDX, 1}}, f.q8Mask16, func(u int, tail bool) {
		for i := 0; i < u; i++ {
			x, y := v.V(i), v.V(u+i)
			f.q8Widen(x, za, Mem{Base: RSI, Disp: w * i}, tail)
			f.q8Widen(y, zb, Mem{Base: RDX, Disp: w * i}, tail)
			f.VMULPS(sa, x, x)
			f.VMULPS(sb, y, y)
			f.VADDPS(y, x, x)
		}
		for i := 0; i < u; i++ {
			f.q8Requant(v, c, v.V(i), v.V(u+i), Mem{Base: RDI, Disp: w * i}, tail)
		}
	})
}

func (f *file) q8Max(v isa) {
	f.text("q8Max"+v.name, "func(dst, a *int8, n int)")
	f.args("dst a n", RDI, RSI, RCX)
	w := v.bytes()
	mask := func() {
		f.MOVQ(U32(1), RAX)
		f.SHLQ(CL, RAX)
		f.DECQ(RAX)
		f.KMOVQ(RAX, K1)
	}
	f.q8Loop(v, w, []q8Stream{{RDI, 1}, {RSI, 1}}, mask, func(u int, tail bool) {
		for i := 0; i < u; i++ {
			x, m, d := v.V(i), Mem{Base: RSI, Disp: w * i}, Mem{Base: RDI, Disp: w * i}
			switch {
			case tail:
				f.VMOVDQU8_Z(m, K1, x)
				f.VMOVDQU8_Z(d, K1, v.V(u))
				f.VPMAXSB(v.V(u), x, x)
				f.VMOVDQU8(x, K1, d)
			case v.masked:
				f.VMOVDQU8(m, x)
				f.VPMAXSB(d, x, x)
				f.VMOVDQU8(x, d)
			default:
				f.VMOVDQU(m, x)
				f.VPMAXSB(d, x, x)
				f.VMOVDQU(x, d)
			}
		}
	})
}
