package main

import (
	"github.com/mmcloughlin/avo/ir"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// int8 GEMM microkernels (declared, with the loops they compute, in
// qgemm_amd64.go): one MR×NR tile of C = requantize(bias + A·B) from a
// packed A tile and a packed B panel (QLayout in qgemm.go), NR two vectors
// of int32 wide.
//
//   - qs8-gemm-6x16c2-avx2: A and B widened to int16 at pack time, k in
//     pairs: VPMADDWD multiplies one broadcast pair of row i by the pairs of
//     16 columns and adds each two products into int32 (exact: no int16
//     saturation, unlike VPMADDUBSW), VPADDD accumulates.
//   - qs8-gemm-12x32c4-avx512vnni: A stored +128 as uint8 and B as int8, k
//     in quads: VPDPBUSD adds the four u8·s8 products of each column into
//     its int32 lane in one instruction; the extra 128·Σw is already out of
//     the packed bias.
//
// Registers: V(2i), V(2i+1) accumulate row i (two column halves), starting
// from the bias; the B step's two vectors and the broadcast A groups come
// after. SI = a, BX = b, DI = c, R8 = ldc, R9 = mr, CX = k groups. The
// requantization (float32(acc)·scale, clamp, round to nearest even, + zero
// point, narrowed with signed saturation) is the same sequence of IEEE
// operations as QOut.Requantize, so every tier stores the same bytes.
type qgemmShape struct {
	v      isa
	mr     int
	kr     int // k steps per group
	unroll int // k groups per main-loop iteration
	name   string
}

var qgemmShapes = []qgemmShape{
	{v: avx512, mr: 12, kr: 4, unroll: 2, name: "qgemm12x32c4VNNI"},
	{v: avx2, mr: 6, kr: 2, unroll: 2, name: "qgemm6x16c2AVX2"},
}

func (g qgemmShape) acc(i, h int) VecPhysical { return g.v.V(2*i + h) }
func (g qgemmShape) b(h int) VecPhysical      { return g.v.V(2*g.mr + h) }

// bStep is the bytes of one k group of the B panel; a group of one row of
// A is 4 bytes in both layouts (two int16, four bytes).
func (g qgemmShape) bStep() int { return 2 * g.v.bytes() }

func genQGemm(f *file) {
	f.doc("int8 GEMM microkernels qs8-gemm-12x32c4-avx512vnni and qs8-gemm-6x16c2-avx2;",
		"see qgemm.go in kernels/_asm.")
	for _, g := range qgemmShapes {
		f.qgemm(g)
	}
	f.qwiden()
}

func (f *file) qgemm(g qgemmShape) {
	v := g.v
	sig := "func(kg int, a, b *byte, c *int8, ldc, mr int, bias *int32, scale *float32, zp int32, lo, hi float32, nrMask uint32)"
	if !v.masked {
		sig = "func(kg int, a, b *byte, c *int8, ldc, mr int, bias *int32, scale *float32, zp int32, lo, hi float32)"
	}
	f.text(g.name, sig)
	f.args("kg a b c ldc mr bias", RCX, RSI, RBX, RDI, R8, R9, RAX)
	// A is packed row by row (QLayout.ARows), kg groups of 4 bytes a row:
	// lda = kg (rowStrides).
	f.MOVQ(RCX, R10)
	bases := f.rowStrides(g.mr)
	if v.masked {
		f.MOVL(f.arg("nrMask"), R11L)
		f.KMOVW(R11L, K1)
		f.SHRL(U8(16), R11L)
		f.KMOVW(R11L, K2)
	}
	// Every row starts from the bias.
	f.qmov(v, Mem{Base: RAX}, g.acc(0, 0))
	f.qmov(v, Mem{Base: RAX, Disp: v.bytes()}, g.acc(0, 1))
	for i := 1; i < g.mr; i++ {
		f.qmov(v, g.acc(0, 0), g.acc(i, 0))
		f.qmov(v, g.acc(0, 1), g.acc(i, 1))
	}
	step := func(s int) { f.qgemmStep(g, 4*s, s*g.bStep()) }
	advance := func(groups int) {
		for _, b := range bases {
			f.ADDQ(U8(4*groups), b)
		}
	}
	f.CMPQ(RCX, U8(g.unroll))
	f.JLT(LabelRef("tail"))
	f.Label("loop")
	for s := 0; s < g.unroll; s++ {
		step(s)
	}
	advance(g.unroll)
	f.ADDQ(U32(g.unroll*g.bStep()), RBX)
	f.SUBQ(U8(g.unroll), RCX)
	f.CMPQ(RCX, U8(g.unroll))
	f.JGE(LabelRef("loop"))
	f.Label("tail")
	f.TESTQ(RCX, RCX)
	f.JLE(LabelRef("kdone"))
	f.Label("loop1")
	step(0)
	advance(1)
	f.ADDQ(U32(g.bStep()), RBX)
	f.DECQ(RCX)
	f.JNZ(LabelRef("loop1"))
	f.Label("kdone")
	f.qgemmStore(g)
}

// qmov copies a vector of int32s (register or memory to register).
func (f *file) qmov(v isa, src Op, dst VecPhysical) {
	if v.masked {
		f.VMOVDQU32(src, dst)
	} else {
		f.VMOVDQU(src, dst)
	}
}

// qgemmStep is one k group over all rows: B's two vectors at byte offset
// bo, row i's group at byte ao of its row (see qgemm).
func (f *file) qgemmStep(g qgemmShape, ao, bo int) {
	v := g.v
	w := v.bytes()
	f.qmov(v, Mem{Base: RBX, Disp: bo}, g.b(0))
	f.qmov(v, Mem{Base: RBX, Disp: bo + w}, g.b(1))
	for i := 0; i < g.mr; i++ {
		m := rowAddr(i, ao)
		if v.masked {
			// Four broadcast registers in turn let the loads run ahead.
			a := v.V(2*g.mr + 2 + i%4)
			f.VPBROADCASTD(m, a)
			f.vpdpbusd(g.b(0), a, g.acc(i, 0))
			f.vpdpbusd(g.b(1), a, g.acc(i, 1))
			continue
		}
		a, t := v.V(2*g.mr+2), v.V(2*g.mr+3)
		f.VPBROADCASTD(m, a)
		f.VPMADDWD(g.b(0), a, t)
		f.VPADDD(t, g.acc(i, 0), g.acc(i, 0))
		f.VPMADDWD(g.b(1), a, t)
		f.VPADDD(t, g.acc(i, 1), g.acc(i, 1))
	}
}

// vpdpbusd emits VPDPBUSD signed, unsigned, acc (Go operand order: acc +=
// Σ₄ unsigned bytes of the second operand × signed bytes of the first, per
// int32 lane). avo has no AVX512_VNNI instructions; the Go assembler
// encodes this EVEX form.
func (f *file) vpdpbusd(signed, unsigned, acc VecPhysical) {
	f.Instruction(&ir.Instruction{
		Opcode:   "VPDPBUSD",
		Operands: []Op{signed, unsigned, acc},
		Inputs:   []Op{signed, unsigned, acc},
		Outputs:  []Op{acc},
		ISA:      []string{"AVX512_VNNI"},
	})
}

// qgemmStore requantizes each row < mr and stores its NR bytes: AVX-512
// narrows with VPMOVSDB straight to memory under the column masks K1/K2;
// AVX2 packs with saturation (dword → word → byte, in column order) and
// stores 16 bytes (the Go wrapper routes edge tiles through a scratch
// tile).
func (f *file) qgemmStore(g qgemmShape) {
	v := g.v
	// After the loop: scale in b0/b1 (AVX-512) or memory (AVX2); lo, hi,
	// zero point, and AVX2's packing temporary in the registers after.
	lo, hi, zp, t := g.b(0), g.b(1), v.V(2*g.mr+2), v.V(2*g.mr+3)
	if v.masked {
		lo, hi, zp = v.V(2*g.mr+2), v.V(2*g.mr+3), v.V(2*g.mr+4)
	}
	f.MOVQ(f.arg("scale"), RAX)
	f.VBROADCASTSS(f.arg("lo"), lo)
	f.VBROADCASTSS(f.arg("hi"), hi)
	f.VBROADCASTSS(f.arg("zp"), zp) // the int32's bits (vet rejects VPBROADCASTD of a frame slot)
	if v.masked {
		f.VMOVUPS(Mem{Base: RAX}, g.b(0))
		f.VMOVUPS(Mem{Base: RAX, Disp: v.bytes()}, g.b(1))
	}
	for i := 0; i < g.mr; i++ {
		f.CMPQ(R9, U8(i))
		f.JLE(LabelRef("done"))
		for h := 0; h < 2; h++ {
			x := g.acc(i, h)
			f.VCVTDQ2PS(x, x)
			if v.masked {
				f.VMULPS(g.b(h), x, x)
			} else {
				f.VMULPS(Mem{Base: RAX, Disp: h * v.bytes()}, x, x)
			}
			f.VMAXPS(lo, x, x)
			f.VMINPS(hi, x, x)
			f.VCVTPS2DQ(x, x)
			f.VPADDD(zp, x, x)
		}
		x0, x1 := g.acc(i, 0), g.acc(i, 1)
		if v.masked {
			f.VPMOVSDB(x0, K1, Mem{Base: RDI})
			f.VPMOVSDB(x1, K2, Mem{Base: RDI, Disp: 16})
		} else {
			// Columns 0-3 | 4-7 of each half to words, then the two
			// halves to bytes: X(x0) = columns 0..15.
			f.VEXTRACTI128(U8(1), x0, t.AsX())
			f.VPACKSSDW(t.AsX(), x0.AsX(), x0.AsX())
			f.VEXTRACTI128(U8(1), x1, t.AsX())
			f.VPACKSSDW(t.AsX(), x1.AsX(), x1.AsX())
			f.VPACKSSWB(x1.AsX(), x0.AsX(), x0.AsX())
			f.VMOVDQU(x0.AsX(), Mem{Base: RDI})
		}
		f.ADDQ(R8, RDI)
	}
	f.Label("done")
	f.ret()
}

// qwiden writes qwidenAVX2: dst[q] = int16(src[q]) for q < n rounded
// down to 16 (the Go caller converts the rest), for packing A in the AVX2
// layout.
func (f *file) qwiden() {
	f.text("qwidenAVX2", "func(dst *byte, src *int8, n int)")
	f.args("dst src n", RDI, RSI, RCX)
	f.SHRQ(U8(4), RCX)
	f.JZ(LabelRef("wdone"))
	f.Label("wloop")
	f.VPMOVSXBW(Mem{Base: RSI}, Y0)
	f.VMOVDQU(Y0, Mem{Base: RDI})
	f.ADDQ(U8(16), RSI)
	f.ADDQ(U8(32), RDI)
	f.DECQ(RCX)
	f.JNZ(LabelRef("wloop"))
	f.Label("wdone")
	f.ret()
}
