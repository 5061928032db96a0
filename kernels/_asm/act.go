package main

import (
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// Activation kernels actAVX512 and actAVX2: one loop per activation kind,
// each a step of two vectors, then one, then the tail (under a mask on
// AVX-512; the Go wrapper feeds AVX2 whole vectors only). The input vector
// is in V(b), b = 0 or 4, the result written back there; V(b+1)..V(b+3)
// are its temporaries.

// actRegs are the registers an activation tier keeps its constants in.
type actRegs struct {
	zero, one, p1, p2 VecPhysical // 0, 1, the kind's parameters a and b
	// exp constants held in registers (xmin, xmax, ...); the rest are
	// memory operands.
	held map[int]VecPhysical
}

func actRegsFor(v isa) actRegs {
	if v.masked {
		// Z16..Z26: the exp constants, Z27 = 1, Z28 = 0, Z29/Z30: a, b.
		held := map[int]VecPhysical{}
		for i, k := range expConstOrder {
			held[k] = v.V(16 + i)
		}
		return actRegs{zero: v.V(28), one: v.V(27), p1: v.V(29), p2: v.V(30), held: held}
	}
	// Y8 = 0, Y9 = 1, Y10/Y11: the exp clamps, Y12/Y13: a, b.
	return actRegs{zero: v.V(8), one: v.V(9), p1: v.V(12), p2: v.V(13),
		held: map[int]VecPhysical{kXMin: v.V(10), kXMax: v.V(11)}}
}

// expConstOrder lists the exp constants the AVX-512 tiers broadcast into
// consecutive registers.
var expConstOrder = []int{kXMin, kXMax, kLog2e, kLn2Hi, kLn2Lo, kC5, kC4, kC3, kC2, kC1, kC0}

func (r actRegs) c(k int) Op {
	if x, ok := r.held[k]; ok {
		return x
	}
	return K(k)
}

// exp sets p = e^x; x is clobbered (it ends as r), n holds round(x·log2e).
// AVX-512 builds 2^n with vscalefps; AVX2 applies it as 2^(n>>1)·2^(n-(n>>1)),
// both factors normal, so the product rounds once: the same bits.
func (f *file) exp(v isa, r actRegs, x, n, p VecPhysical) {
	f.VMAXPS(x, r.c(kXMin), x)
	f.VMINPS(x, r.c(kXMax), x)
	f.VMULPS(r.c(kLog2e), x, n)
	if v.masked {
		f.VRNDSCALEPS(U8(0), n, n)
	} else {
		f.VROUNDPS(U8(0), n, n)
	}
	f.VFNMADD231PS(r.c(kLn2Hi), n, x)
	f.VFNMADD231PS(r.c(kLn2Lo), n, x)
	if v.masked {
		f.VMOVAPS(r.c(kC5), p)
	} else {
		f.VMOVUPS(r.c(kC5), p)
	}
	for _, k := range []int{kC4, kC3, kC2, kC1, kC0} {
		f.VFMADD213PS(r.c(k), x, p)
	}
	f.VFMADD213PS(r.one, x, p)
	f.VFMADD213PS(r.one, x, p)
	if v.masked {
		f.VSCALEFPS(n, p, p)
		return
	}
	f.VCVTPS2DQ(n, n)
	f.VPSRAD(U8(1), n, x)
	f.VPSUBD(x, n, n)
	f.VPADDD(K(kBias), x, x)
	f.VPSLLD(U8(23), x, x)
	f.VMULPS(x, p, p)
	f.VPADDD(K(kBias), n, n)
	f.VPSLLD(U8(23), n, n)
	f.VMULPS(n, p, p)
}

// actKind is one activation: its go_asm.h constant (empty: the copy loop),
// its label and the code applied to the vector in V(b).
type actKind struct {
	name, label string
	op          func(f *file, v isa, r actRegs, b, lane int)
}

var (
	actCopy  = actKind{"", "copy", func(*file, isa, actRegs, int, int) {}}
	actClamp = actKind{"ActClamp", "clamp", func(f *file, v isa, r actRegs, b, _ int) {
		// min(max(x, a), b); the data is Go's first operand (Intel's
		// second source), the one returned when either is NaN.
		x := v.V(b)
		f.VMAXPS(x, r.p1, x)
		f.VMINPS(x, r.p2, x)
	}}
	actLeaky = actKind{"ActLeakyRelu", "leaky", func(f *file, v isa, r actRegs, b, lane int) {
		// x < 0 ? a·x : x
		x := v.V(b)
		if v.masked {
			k := []OpmaskPhysical{K2, K3}[lane]
			f.VCMPPS(U8(1), r.zero, x, k)
			f.VMULPS(r.p1, x, k, x)
			return
		}
		t, m := v.V(b+1), v.V(b+2)
		f.VMULPS(r.p1, x, t)
		f.VCMPPS(U8(1), r.zero, x, m)
		f.VBLENDVPS(m, t, x, x)
	}}
	actSigmoid = actKind{"ActSigmoid", "sig", func(f *file, v isa, r actRegs, b, _ int) {
		// 1/(1+e^-x)
		x, t := v.V(b), v.V(b+1)
		f.VSUBPS(x, r.zero, t)
		f.exp(v, r, t, v.V(b+2), v.V(b+3))
		f.VADDPS(r.one, v.V(b+3), v.V(b+3))
		f.VDIVPS(v.V(b+3), r.one, x)
	}}
	actHardSigmoid = actKind{"ActHardSigmoid", "hsig", func(f *file, v isa, r actRegs, b, _ int) {
		// max(0, min(1, a·x + b)), rounded after the product as the Go loop
		x := v.V(b)
		f.VMULPS(r.p1, x, x)
		f.VADDPS(r.p2, x, x)
		f.VMINPS(x, r.one, x)
		f.VMAXPS(x, r.zero, x)
	}}
	actHardSwish = actKind{"ActHardSwish", "hswish", func(f *file, v isa, r actRegs, b, _ int) {
		// x·min(max(x+3, 0), 6)/6 with a = 3, b = 6
		x, t := v.V(b), v.V(b+1)
		f.VADDPS(r.p1, x, t)
		f.VMAXPS(t, r.zero, t)
		f.VMINPS(t, r.p2, t)
		f.VMULPS(t, x, x)
		f.VDIVPS(r.p2, x, x)
	}}
	actSiLU = actKind{"ActSiLU", "silu", func(f *file, v isa, r actRegs, b, _ int) {
		// x/(1+e^-x)
		x, t := v.V(b), v.V(b+1)
		f.VSUBPS(x, r.zero, t)
		f.exp(v, r, t, v.V(b+2), v.V(b+3))
		f.VADDPS(r.one, v.V(b+3), v.V(b+3))
		f.VDIVPS(v.V(b+3), x, x)
	}}
	actExpKind = actKind{"actExp", "exp", func(f *file, v isa, r actRegs, b, _ int) {
		x := v.V(b)
		f.exp(v, r, x, v.V(b+2), v.V(b+3))
		f.VMOVAPS(v.V(b+3), x)
	}}
)

func genAct(f *file) {
	f.doc("Activation kernels for AVX-512 and AVX2+FMA (declared in act_amd64.go): one",
		"loop per activation kind, two vectors a step, then one, then the tail.",
		"The exponential is the one consts.go in kernels/_asm describes.")
	for _, v := range tiers {
		r := actRegsFor(v)
		f.text("act"+v.name, "func(kind uint32, a, b float32, dst, src *float32, n int)")
		f.args("kind dst src n", EAX, RDI, RSI, RCX)
		f.zero(v, r.zero)
		f.VBROADCASTSS(K(kOne), r.one)
		var bodies []actKind
		if v.masked {
			f.VBROADCASTSS(f.arg("a"), r.p1)
			f.VBROADCASTSS(f.arg("b"), r.p2)
			// The kinds without exp first, so they skip its constants.
			bodies = []actKind{actCopy, actClamp, actLeaky, actHardSigmoid, actHardSwish, actSigmoid, actSiLU, actExpKind}
			for _, k := range bodies[1:5] {
				f.cmpConst(EAX, k.name)
				f.JEQ(LabelRef(k.label))
			}
			for _, k := range expConstOrder {
				f.VBROADCASTSS(K(k), r.held[k])
			}
			for _, k := range bodies[5:] {
				f.cmpConst(EAX, k.name)
				f.JEQ(LabelRef(k.label))
			}
		} else {
			f.VBROADCASTSS(K(kXMin), r.held[kXMin])
			f.VBROADCASTSS(K(kXMax), r.held[kXMax])
			f.VBROADCASTSS(f.arg("a"), r.p1)
			f.VBROADCASTSS(f.arg("b"), r.p2)
			bodies = []actKind{actCopy, actClamp, actLeaky, actSigmoid, actHardSigmoid, actHardSwish, actSiLU, actExpKind}
			for _, k := range bodies[1:] {
				f.cmpConst(EAX, k.name)
				f.JEQ(LabelRef(k.label))
			}
		}
		for i, k := range bodies {
			if i > 0 {
				f.Label(k.label)
			}
			if k.name == "ActHardSwish" {
				f.VBROADCASTSS(K(kThree), r.p1)
				f.VBROADCASTSS(K(kSix), r.p2)
			}
			f.actLoop(v, r, k)
		}
		f.Label("done")
		f.ret()
	}
}

// actLoop runs kind k over CX elements from SI to DI: two vectors (V0 and
// V4) a step, then one, then on AVX-512 the n%16 tail under mask K1.
func (f *file) actLoop(v isa, r actRegs, k actKind) {
	w := v.bytes()
	two, one, tail := k.label+"two", k.label+"one", k.label+"tail"
	op := func() { k.op(f, v, r, 0, 0) }
	f.Label(two)
	f.CMPQ(RCX, U8(2*v.lanes))
	f.JLT(LabelRef(one))
	f.VMOVUPS(Mem{Base: RSI}, v.V(0))
	f.VMOVUPS(Mem{Base: RSI, Disp: w}, v.V(4))
	k.op(f, v, r, 0, 0)
	k.op(f, v, r, 4, 1)
	f.VMOVUPS(v.V(0), Mem{Base: RDI})
	f.VMOVUPS(v.V(4), Mem{Base: RDI, Disp: w})
	f.advance(U32(2*w), U8(2*v.lanes), RSI, RDI)
	f.JMP(LabelRef(two))
	f.Label(one)
	f.CMPQ(RCX, U8(v.lanes))
	f.JLT(LabelRef(tailOrDone(v, tail)))
	f.unaryVec(v, false, op)
	if !v.masked {
		f.JMP(LabelRef("done"))
		return
	}
	f.advance(U8(w), U8(v.lanes), RSI, RDI)
	f.maskedTail(tail, func() { f.unaryVec(v, true, op) })
}
