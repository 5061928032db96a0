package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// GEMM microkernels (declared, with the loops they compute, in
// gemm_amd64.go): one MR×NR tile of C = A·B (+ C or + bias) with an
// epilogue, NR two vectors wide.
//
// Registers: V(2i), V(2i+1) accumulate row i (two column halves); the next
// two, b0/b1, hold the packed B step and the two after, a0/a1, broadcast A
// elements (both pairs are the epilogue's temporaries later). SI = a,
// BX = b, DI = c, R8 = ldc in bytes, R9 = mr, CX = k. On AVX-512 K1/K2 mask
// the two column halves (nr < 32 edge tiles); AVX2 tiles are always full
// width (the Go wrapper routes edge tiles through a scratch tile).
type gemmShape struct {
	v  isa
	mr int // rows of the tile
	// partial lists smaller row counts with a k loop of their own
	// (AVX-512: mr ≤ 4 and mr ≤ 6 tiles skip the FMAs of absent rows).
	partial []gemmPartial
}

type gemmPartial struct {
	rows   int
	prefix string
}

var gemmShapes = []gemmShape{
	{v: avx512, mr: 12, partial: []gemmPartial{{4, "quarter"}, {6, "half"}}},
	{v: avx2, mr: 6},
}

func (g gemmShape) nr() int                  { return 2 * g.v.lanes }
func (g gemmShape) acc(i, h int) VecPhysical { return g.v.V(2*i + h) }
func (g gemmShape) b(h int) VecPhysical      { return g.v.V(2*g.mr + h) }
func (g gemmShape) a(h int) VecPhysical      { return g.v.V(2*g.mr + 2 + h) }
func (g gemmShape) name() string {
	return fmt.Sprintf("gemm%dx%d%s", g.mr, g.nr(), g.v.name)
}

func genGemm(f *file) {
	f.doc("GEMM microkernels f32-gemm-12x32-avx512 and f32-gemm-6x16-avx2; see gemm.go",
		"in kernels/_asm.")
	for _, g := range gemmShapes {
		f.gemm(g)
	}
}

func (f *file) gemm(g gemmShape) {
	v := g.v
	sig := "func(k int, a, b, c *float32, ldc, mr int, bias *float32, nrMask uint32, epi uint32, accumulate int, lo, hi float32, lda, nseg, segskip int)"
	if !v.masked {
		sig = "func(k int, a, b, c *float32, ldc, mr int, bias *float32, epi uint32, accumulate int, lo, hi float32, lda, nseg, segskip int)"
	}
	f.text(g.name(), sig)
	f.args("k a b c ldc", RCX, RSI, RBX, RDI, R8)
	f.SHLQ(U8(2), R8)
	f.MOVQ(f.arg("mr"), R9)
	if v.masked {
		f.MOVL(f.arg("nrMask"), EAX)
		f.KMOVW(EAX, K1)
		f.SHRL(U8(16), EAX)
		f.KMOVW(EAX, K2)
	}
	for i := 0; i < g.mr; i++ {
		f.zero(v, g.acc(i, 0))
		f.zero(v, g.acc(i, 1))
	}
	f.MOVQ(f.arg("lda"), R10)
	f.TESTQ(R10, R10)
	f.JNZ(LabelRef("strided"))
	for _, p := range g.partial {
		f.CMPQ(R9, U8(p.rows))
		f.JLE(LabelRef(p.prefix))
	}
	f.gemmPackedLoop(g, "", g.mr)
	for _, p := range g.partial {
		f.Label(p.prefix)
		f.gemmPackedLoop(g, p.prefix, p.rows)
	}
	f.gemmStridedLoop(g)
	f.gemmAddC(g)
	f.gemmEpilogue(g)
}

// gemmStep is one k step over rows 0..rows-1: B's two vectors at byte
// offset bo, row i's A element at aAddr(i).
func (f *file) gemmStep(g gemmShape, rows int, aAddr func(i int) Mem, bo int) {
	w := g.v.bytes()
	f.VMOVUPS(Mem{Base: RBX, Disp: bo}, g.b(0))
	f.VMOVUPS(Mem{Base: RBX, Disp: bo + w}, g.b(1))
	for i := 0; i < rows; i += 2 {
		f.VBROADCASTSS(aAddr(i), g.a(0))
		f.VBROADCASTSS(aAddr(i+1), g.a(1))
		f.VFMADD231PS(g.b(0), g.a(0), g.acc(i, 0))
		f.VFMADD231PS(g.b(1), g.a(0), g.acc(i, 1))
		f.VFMADD231PS(g.b(0), g.a(1), g.acc(i+1, 0))
		f.VFMADD231PS(g.b(1), g.a(1), g.acc(i+1, 1))
	}
}

// gemmPackedLoop runs the k loop over a packed A panel (MR floats a step)
// for the first rows rows, four steps at a time, then one.
func (f *file) gemmPackedLoop(g gemmShape, prefix string, rows int) {
	astep, bstep := 4*g.mr, 4*g.nr()
	step := func(s int) {
		f.gemmStep(g, rows, func(i int) Mem { return Mem{Base: RSI, Disp: s*astep + 4*i} }, s*bstep)
	}
	f.CMPQ(RCX, U8(4))
	f.JLT(LabelRef(prefix + "tail"))
	f.Label(prefix + "loop")
	for s := 0; s < 4; s++ {
		step(s)
	}
	f.ADDQ(U32(4*astep), RSI)
	f.ADDQ(U32(4*bstep), RBX)
	f.SUBQ(U8(4), RCX)
	f.CMPQ(RCX, U8(4))
	f.JGE(LabelRef(prefix + "loop"))
	f.Label(prefix + "tail")
	f.TESTQ(RCX, RCX)
	f.JLE(LabelRef("kdone"))
	f.Label(prefix + "loop1")
	step(0)
	f.ADDQ(U8(astep), RSI)
	f.ADDQ(U32(bstep), RBX)
	f.DECQ(RCX)
	f.JNZ(LabelRef(prefix + "loop1"))
	f.JMP(LabelRef("kdone"))
}

// rowStrides sets up rowAddr for a tile of mr rows from R10 = lda in
// elements: rows 0..5 at SI + i·lda and 6..11 at DX + (i-6)·lda, with
// R10 = lda, R12 = 3·lda and R13 = 5·lda in bytes (x86 addressing scales by
// 1, 2, 4 or 8 only). It returns the row bases.
func (f *file) rowStrides(mr int) []GPPhysical {
	f.SHLQ(U8(2), R10)
	f.LEAQ(Mem{Base: R10, Index: R10, Scale: 2}, R12)
	f.LEAQ(Mem{Base: R10, Index: R10, Scale: 4}, R13)
	if mr <= 6 {
		return []GPPhysical{RSI}
	}
	f.LEAQ(Mem{Base: RSI, Index: R12, Scale: 2}, RDX)
	return []GPPhysical{RSI, RDX}
}

// rowAddr addresses byte o of row i (see rowStrides).
func rowAddr(i, o int) Mem {
	m := Mem{Base: []GPPhysical{RSI, RDX}[i/6], Disp: o}
	switch i % 6 {
	case 1, 2, 4:
		m.Index, m.Scale = R10, uint8(i%6)
	case 3:
		m.Index, m.Scale = R12, 1
	case 5:
		m.Index, m.Scale = R13, 1
	}
	return m
}

// gemmStridedLoop reads A in place (rowStrides) over nseg segments (AX) of
// k steps, segskip (R11, bytes) between segments.
func (f *file) gemmStridedLoop(g gemmShape) {
	bstep := 4 * g.nr()
	f.Label("strided")
	bases := f.rowStrides(g.mr)
	f.args("nseg segskip", RAX, R11)
	f.SHLQ(U8(2), R11)
	row := func(o int) func(i int) Mem {
		return func(i int) Mem { return rowAddr(i, o) }
	}
	advance := func(n int) {
		for _, b := range bases {
			f.ADDQ(U8(n), b)
		}
	}
	f.Label("seg")
	f.MOVQ(f.arg("k"), RCX)
	f.CMPQ(RCX, U8(4))
	f.JLT(LabelRef("stail"))
	f.Label("sloop")
	for s := 0; s < 4; s++ {
		f.gemmStep(g, g.mr, row(4*s), s*bstep)
	}
	advance(16)
	f.ADDQ(U32(4*bstep), RBX)
	f.SUBQ(U8(4), RCX)
	f.CMPQ(RCX, U8(4))
	f.JGE(LabelRef("sloop"))
	f.Label("stail")
	f.TESTQ(RCX, RCX)
	f.JLE(LabelRef("snext"))
	f.Label("sloop1")
	f.gemmStep(g, g.mr, row(0), 0)
	advance(4)
	f.ADDQ(U32(bstep), RBX)
	f.DECQ(RCX)
	f.JNZ(LabelRef("sloop1"))
	f.Label("snext")
	for _, b := range bases {
		f.ADDQ(R11, b)
	}
	f.DECQ(RAX)
	f.JNZ(LabelRef("seg"))
}

// gemmAddC adds C (accumulate ≠ 0, rows < mr) or else the bias (when not
// nil) to the accumulators.
func (f *file) gemmAddC(g gemmShape) {
	v, w := g.v, g.v.bytes()
	f.Label("kdone")
	f.MOVQ(f.arg("accumulate"), RAX)
	f.TESTQ(RAX, RAX)
	f.JZ(LabelRef("bias"))
	f.MOVQ(RDI, R11)
	for i := 0; i < g.mr; i++ {
		f.CMPQ(R9, U8(i))
		f.JLE(LabelRef("accdone"))
		if v.masked {
			f.VMOVUPS_Z(Mem{Base: R11}, K1, g.b(0))
			f.VMOVUPS_Z(Mem{Base: R11, Disp: w}, K2, g.b(1))
			f.VADDPS(g.b(0), g.acc(i, 0), g.acc(i, 0))
			f.VADDPS(g.b(1), g.acc(i, 1), g.acc(i, 1))
		} else {
			f.VADDPS(Mem{Base: R11}, g.acc(i, 0), g.acc(i, 0))
			f.VADDPS(Mem{Base: R11, Disp: w}, g.acc(i, 1), g.acc(i, 1))
		}
		f.ADDQ(R8, R11)
	}
	f.JMP(LabelRef("accdone"))
	f.Label("bias")
	f.MOVQ(f.arg("bias"), RAX)
	f.TESTQ(RAX, RAX)
	f.JZ(LabelRef("accdone"))
	if v.masked {
		f.VMOVUPS_Z(Mem{Base: RAX}, K1, g.b(0))
		f.VMOVUPS_Z(Mem{Base: RAX, Disp: w}, K2, g.b(1))
	} else {
		f.VMOVUPS(Mem{Base: RAX}, g.b(0))
		f.VMOVUPS(Mem{Base: RAX, Disp: w}, g.b(1))
	}
	for i := 0; i < g.mr; i++ {
		f.VADDPS(g.b(0), g.acc(i, 0), g.acc(i, 0))
		f.VADDPS(g.b(1), g.acc(i, 1), g.acc(i, 1))
	}
}

// The epilogue codes of the epi argument (asmconst.go in package kernels).
var gemmEpis = []struct{ name, label string }{
	{"epiAsmClamp", "clamp"},
	{"epiAsmHardSwish", "hswish"},
	{"epiAsmSiLU", "silu"},
}

// gemmEpilogue applies the epilogue to each row < mr and stores it.
func (f *file) gemmEpilogue(g gemmShape) {
	v := g.v
	f.Label("accdone")
	f.MOVL(f.arg("epi"), EAX)
	for _, e := range gemmEpis {
		f.cmpConst(EAX, e.name)
		f.JEQ(LabelRef(e.label))
	}
	f.gemmRows(g, func(VecPhysical) {})
	f.JMP(LabelRef("done"))

	// Clamp: lo, hi in the last two registers (Z30/Z31, Y14/Y15); x is
	// the second source so a NaN x stays NaN, as with Go's min and max.
	lo, hi := v.V(v.nvec-2), v.V(v.nvec-1)
	f.Label("clamp")
	f.VBROADCASTSS(f.arg("lo"), lo)
	f.VBROADCASTSS(f.arg("hi"), hi)
	f.gemmRows(g, func(x VecPhysical) { f.clamp(x, lo, hi) })
	f.JMP(LabelRef("done"))

	// Hard-swish x·min(max(x+3, 0), 6)/6: AVX-512 broadcasts 3 and 6 from
	// memory, Z29 = 0; AVX2 holds 0, 3, 6 in a0's neighbours.
	f.Label("hswish")
	t := g.b(0)
	var zero VecPhysical
	if v.masked {
		zero = v.V(29)
		f.VPXORD(zero, zero, zero)
	} else {
		zero = g.b(1)
		f.VXORPS(zero, zero, zero)
		f.VBROADCASTSS(K(kThree), g.a(0))
		f.VBROADCASTSS(K(kSix), g.a(1))
	}
	f.gemmRows(g, func(x VecPhysical) {
		if v.masked {
			f.VADDPS_BCST(K(kThree), x, t)
			f.VMAXPS(t, zero, t)
			f.VMINPS_BCST(K(kSix), t, t)
			f.VMULPS(t, x, x)
			f.VDIVPS_BCST(K(kSix), x, x)
			return
		}
		f.VADDPS(g.a(0), x, t)
		f.VMAXPS(t, zero, t)
		f.VMINPS(g.a(1), t, t)
		f.VMULPS(t, x, x)
		f.VDIVPS(g.a(1), x, x)
	})
	f.JMP(LabelRef("done"))

	f.Label("silu")
	f.gemmRows(g, func(x VecPhysical) { f.gemmSiLU(g, x) })
	f.Label("done")
	f.ret()
}

// gemmRows stores each row i < mr after epi has run on its two halves.
func (f *file) gemmRows(g gemmShape, epi func(x VecPhysical)) {
	for i := 0; i < g.mr; i++ {
		f.CMPQ(R9, U8(i))
		f.JLE(LabelRef("done"))
		epi(g.acc(i, 0))
		epi(g.acc(i, 1))
		if g.v.masked {
			f.VMOVUPS(g.acc(i, 0), K1, Mem{Base: RDI})
			f.VMOVUPS(g.acc(i, 1), K2, Mem{Base: RDI, Disp: g.v.bytes()})
		} else {
			f.VMOVUPS(g.acc(i, 0), Mem{Base: RDI})
			f.VMOVUPS(g.acc(i, 1), Mem{Base: RDI, Disp: g.v.bytes()})
		}
		f.ADDQ(R8, RDI)
	}
}

// gemmSiLU sets x = x/(1+e^-x), with t = b0, n = b1, p = a0. AVX-512 takes
// each constant as a broadcast memory operand and builds 2^n with scalef,
// which over/underflows like exp does (-x clamped to [-104, 89]); AVX2
// broadcasts each constant into a1 and builds 2^n in the exponent field, so
// -x is clamped to [-87.33, 88.75]: n ≥ -126 keeps 2^n normal, n = 128 gives
// +Inf.
func (f *file) gemmSiLU(g gemmShape, x VecPhysical) {
	v := g.v
	t, n, p, c := g.b(0), g.b(1), g.a(0), g.a(1)
	held := -1
	// op applies an instruction whose first source is constant k.
	op := func(plain, bcst func(...Op), k int, rest ...Op) {
		if v.masked {
			bcst(append([]Op{K(k)}, rest...)...)
			return
		}
		if held != k {
			f.VBROADCASTSS(K(k), c)
			held = k
		}
		plain(append([]Op{c}, rest...)...)
	}
	f.VXORPS(t, t, t)
	f.VSUBPS(x, t, t)
	if v.masked {
		op(f.VMAXPS, f.VMAXPS_BCST, kXMin, t, t)
		op(f.VMINPS, f.VMINPS_BCST, kXMax, t, t)
	} else {
		op(f.VMAXPS, f.VMAXPS_BCST, kTMin256, t, t)
		op(f.VMINPS, f.VMINPS_BCST, kTMax256, t, t)
	}
	op(f.VMULPS, f.VMULPS_BCST, kLog2e, t, n)
	if v.masked {
		f.VRNDSCALEPS(U8(0), n, n)
	} else {
		f.VROUNDPS(U8(0), n, n)
	}
	op(f.VFNMADD231PS, f.VFNMADD231PS_BCST, kLn2Hi, n, t)
	op(f.VFNMADD231PS, f.VFNMADD231PS_BCST, kLn2Lo, n, t)
	f.VBROADCASTSS(K(kC5), p)
	for _, k := range []int{kC4, kC3, kC2, kC1, kC0, kOne, kOne} {
		op(f.VFMADD213PS, f.VFMADD213PS_BCST, k, t, p)
	}
	if v.masked {
		f.VSCALEFPS(n, p, p)
	} else {
		f.VCVTPS2DQ(n, n)
		f.VPBROADCASTD(K(kBias), t)
		f.VPADDD(t, n, n)
		f.VPSLLD(U8(23), n, n)
		f.VMULPS(n, p, p)
	}
	op(f.VADDPS, f.VADDPS_BCST, kOne, p, p)
	f.VDIVPS(p, x, x)
}
