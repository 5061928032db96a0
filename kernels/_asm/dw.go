package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
	"github.com/mmcloughlin/avo/x86"
)

// Depthwise convolution kernels (declared, with the loops they compute, in
// dw_amd64.go; dw_generic.go is their twin).
//
// Row kernels dwRow{3x3,5x5}{AVX512,AVX2}: the block's bias sits in one
// vector register and its KH·KW weights in KH·KW more (AVX2 5×5 holds only
// the middle row's and streams the rest from memory: 16 ymm are too few),
// so each tap of a pixel is a single FMA reading the input directly.
// Registers: R8, R9, R10, R12, R11 = the window's input rows, DI = out,
// SI = w, AX = pixels left, BX = blocks left, CX = c4 (column step),
// DX = pstep (pixel step), R13 = 3*c4 (the fourth column).
//
// AVX-512 runs every block under K1 (all ones, or lastMask on the last
// block); AVX2 runs whole blocks only.

const dwRowSig = "func(rows *[5]unsafe.Pointer, out, w *float32, npix, blocks, c4, pstep, inRewind, outRewind int, lastMask uint32, lo, hi float32)"

var dwRowRegs = []GPPhysical{R8, R9, R10, R12, R11}

// dwCol is column c (0..4) of the window row starting at r.
func dwCol(r GPPhysical, c int) Mem {
	switch c {
	case 0:
		return Mem{Base: r}
	case 1, 2:
		return Mem{Base: r, Index: RCX, Scale: uint8(c)}
	case 3:
		return Mem{Base: r, Index: R13, Scale: 1}
	case 4:
		return Mem{Base: r, Index: RCX, Scale: 4}
	}
	panic("column")
}

// dwClampRegs are lo and hi: Z26/Z27 on AVX-512, Y14/Y15 on AVX2.
func dwClampRegs(v isa) (lo, hi VecPhysical) {
	if v.masked {
		return v.V(26), v.V(27)
	}
	return v.V(14), v.V(15)
}

// clamp sets x = min(max(x, lo), hi); x is the second source so a NaN
// stays NaN, as with Go's min and max.
func (f *file) clamp(x, lo, hi VecPhysical) {
	f.VMAXPS(x, lo, x)
	f.VMINPS(x, hi, x)
}

// Masked forms on AVX-512 (K1), plain ones on AVX2.
func (f *file) fmaK(v isa, m Op, w, acc VecPhysical) {
	if v.masked {
		f.VFMADD231PS(m, w, K1, acc)
	} else {
		f.VFMADD231PS(m, w, acc)
	}
}

func (f *file) mulK(v isa, m Op, w, acc VecPhysical) {
	if v.masked {
		f.VMULPS_Z(m, w, K1, acc)
	} else {
		f.VMULPS(m, w, acc)
	}
}

func (f *file) addK(v isa, a, b, dst VecPhysical) {
	if v.masked {
		f.VADDPS(a, b, K1, dst)
	} else {
		f.VADDPS(a, b, dst)
	}
}

func (f *file) storeK(v isa, x VecPhysical, m Mem) {
	if v.masked {
		f.VMOVUPS(x, K1, m)
	} else {
		f.VMOVUPS(x, m)
	}
}

func genDepthwise(f *file) {
	f.doc("Depthwise convolution kernels; see dw.go in kernels/_asm.")
	for _, v := range tiers {
		f.dwRow(v, 3)
		f.dwRow(v, 5)
		f.dwPixel(v)
	}
}

// dwRowPrologue loads the row kernels' arguments.
func (f *file) dwRowPrologue(v isa, k int, needR13 bool) {
	f.MOVQ(f.arg("rows"), RAX)
	for i := 0; i < k; i++ {
		f.MOVQ(Mem{Base: RAX, Disp: 8 * i}, dwRowRegs[i])
	}
	f.args("out w blocks c4", RDI, RSI, RBX, RCX)
	if needR13 {
		f.LEAQ(Mem{Base: RCX, Index: RCX, Scale: 2}, R13)
	}
	f.MOVQ(f.arg("pstep"), RDX)
	lo, hi := dwClampRegs(v)
	f.VBROADCASTSS(f.arg("lo"), lo)
	f.VBROADCASTSS(f.arg("hi"), hi)
}

// dwBlockMask sets K1 to all ones, or lastMask when only one block is left
// (BX == 1), through scratch register r.
func (f *file) dwBlockMask(r GPPhysical, label string) {
	f.MOVL(U32(0xffff), r)
	f.CMPQ(RBX, U8(1))
	f.JNE(LabelRef(label))
	f.MOVL(f.arg("lastMask"), r)
	f.Label(label)
	f.KMOVW(r, K1)
}

// dwRowEpilogue moves the row and output pointers to the next block.
func (f *file) dwRowEpilogue(v isa, k int) {
	for i := 0; i < k; i++ {
		f.SUBQ(f.arg("inRewind"), dwRowRegs[i])
	}
	f.SUBQ(f.arg("outRewind"), RDI)
	f.ADDQ(U32((k*k+1)*v.bytes()), RSI)
	f.DECQ(RBX)
	f.JNZ(LabelRef("block"))
	f.ret()
}

func (f *file) dwRow(v isa, k int) {
	name := fmt.Sprintf("dwRow%dx%d%s", k, k, v.name)
	f.text(name, dwRowSig)
	// R13 = 3·c4 addresses the fourth column: the 3×3 AVX-512 pair loop
	// and every 5×5 window read it.
	f.dwRowPrologue(v, k, k == 5 || v.masked)
	w := v.bytes()
	f.Label("block")
	if v.masked {
		f.dwBlockMask(EAX, "mask")
	}
	// The bias in V(25) (AVX-512) or V(9) (AVX2), then the weights.
	bias := v.V(9)
	if v.masked {
		bias = v.V(25)
	}
	f.VMOVUPS(Mem{Base: RSI}, bias)
	switch {
	case k == 3 || v.masked:
		for t := 0; t < k*k; t++ {
			f.VMOVUPS(Mem{Base: RSI, Disp: (1 + t) * w}, v.V(t))
		}
	default:
		// AVX2 5×5: the middle row's weights in Y8, Y10..Y13.
		for c, r := range []int{8, 10, 11, 12, 13} {
			f.VMOVUPS(Mem{Base: RSI, Disp: (1 + 10 + c) * w}, v.V(r))
		}
	}
	f.MOVQ(f.arg("npix"), RAX)
	switch {
	case k == 3 && v.masked:
		f.dwPair3(v, bias)
		f.dwPix3(v, bias)
		f.Label("end")
	case k == 3:
		f.dwPix3(v, bias)
	case v.masked:
		f.dwPix5Held(v, bias)
	default:
		f.dwPix5Streamed(v, bias)
	}
	f.dwRowEpilogue(v, k)
}

// dwAdvance moves the k row pointers one pixel (DX) and out one pixel (CX)
// and loops to label while pixels are left.
func (f *file) dwAdvance(k int, label string) {
	for i := 0; i < k; i++ {
		f.ADDQ(RDX, dwRowRegs[i])
	}
	f.ADDQ(RCX, RDI)
	f.DECQ(RAX)
	f.JNZ(LabelRef(label))
}

// dwPix3 is one 3×3 pixel a step: rows 0, 1, 2 summed in three registers
// (the first starting from the bias), added in order.
func (f *file) dwPix3(v isa, bias VecPhysical) {
	lo, hi := dwClampRegs(v)
	a, b, c := v.V(12), v.V(10), v.V(11)
	if v.masked {
		a, b, c = v.V(28), v.V(29), v.V(30)
	}
	f.Label("pix")
	f.VMOVAPS(bias, a)
	f.mulK(v, dwCol(R9, 0), v.V(3), b)
	f.mulK(v, dwCol(R10, 0), v.V(6), c)
	f.fmaK(v, dwCol(R8, 0), v.V(0), a)
	f.fmaK(v, dwCol(R9, 1), v.V(4), b)
	f.fmaK(v, dwCol(R10, 1), v.V(7), c)
	f.fmaK(v, dwCol(R8, 1), v.V(1), a)
	f.fmaK(v, dwCol(R9, 2), v.V(5), b)
	f.fmaK(v, dwCol(R10, 2), v.V(8), c)
	f.fmaK(v, dwCol(R8, 2), v.V(2), a)
	f.addK(v, b, a, a)
	f.addK(v, c, a, a)
	f.clamp(a, lo, hi)
	f.storeK(v, a, Mem{Base: RDI})
	f.dwAdvance(3, "pix")
}

// dwPair3 (AVX-512, stride 1): two neighbouring pixels share two of each
// row's three input columns, so a pair loads four columns per row instead
// of six. A's partial sums in Z28..Z30, B's in Z9..Z11, columns in
// Z12..Z15. Falls through to the single-pixel loop for an odd last pixel.
func (f *file) dwPair3(v isa, bias VecPhysical) {
	lo, hi := dwClampRegs(v)
	f.CMPQ(RDX, RCX)
	f.JNE(LabelRef("pix"))
	f.Label("pair")
	f.CMPQ(RAX, U8(2))
	f.JLT(LabelRef("tail"))
	f.VMOVAPS(bias, v.V(28))
	f.VMOVAPS(bias, v.V(9))
	for r := 0; r < 3; r++ {
		row := dwRowRegs[r]
		for c := 0; c < 4; c++ {
			f.VMOVUPS_Z(dwCol(row, c), K1, v.V(12+c))
		}
		a, b := v.V(28+r), v.V(9+r)
		w0, w1, w2 := v.V(3*r), v.V(3*r+1), v.V(3*r+2)
		if r == 0 {
			f.VFMADD231PS(v.V(12), w0, a)
			f.VFMADD231PS(v.V(13), w0, b)
		} else {
			f.VMULPS(v.V(12), w0, a)
			f.VMULPS(v.V(13), w0, b)
		}
		f.VFMADD231PS(v.V(13), w1, a)
		f.VFMADD231PS(v.V(14), w1, b)
		f.VFMADD231PS(v.V(14), w2, a)
		f.VFMADD231PS(v.V(15), w2, b)
	}
	f.VADDPS(v.V(29), v.V(28), v.V(28))
	f.VADDPS(v.V(10), v.V(9), v.V(9))
	f.VADDPS(v.V(30), v.V(28), v.V(28))
	f.VADDPS(v.V(11), v.V(9), v.V(9))
	f.clamp(v.V(28), lo, hi)
	f.clamp(v.V(9), lo, hi)
	f.VMOVUPS(v.V(28), K1, Mem{Base: RDI})
	f.VMOVUPS(v.V(9), K1, Mem{Base: RDI, Index: RCX, Scale: 1})
	for r := 0; r < 3; r++ {
		f.LEAQ(Mem{Base: dwRowRegs[r], Index: RCX, Scale: 2}, dwRowRegs[r])
	}
	f.LEAQ(Mem{Base: RDI, Index: RCX, Scale: 2}, RDI)
	f.SUBQ(U8(2), RAX)
	f.JMP(LabelRef("pair"))
	f.Label("tail")
	f.TESTQ(RAX, RAX)
	f.JZ(LabelRef("end"))
}

// dwPix5Held (AVX-512): all 25 weights in Z0..Z24; rows 0 and 3 sum into
// Z28 (from the bias), rows 1 and 4 into Z29, row 2 into Z30.
func (f *file) dwPix5Held(v isa, bias VecPhysical) {
	lo, hi := dwClampRegs(v)
	acc := []VecPhysical{v.V(28), v.V(29), v.V(30), v.V(28), v.V(29)}
	f.Label("pix")
	f.VMOVAPS(bias, acc[0])
	f.mulK(v, dwCol(R9, 0), v.V(5), acc[1])
	f.mulK(v, dwCol(R10, 0), v.V(10), acc[2])
	for r := 0; r < 5; r++ {
		if r != 1 && r != 2 {
			f.fmaK(v, dwCol(dwRowRegs[r], 0), v.V(5*r), acc[r])
		}
		for c := 1; c < 5; c++ {
			f.fmaK(v, dwCol(dwRowRegs[r], c), v.V(5*r+c), acc[r])
		}
	}
	f.addK(v, acc[1], acc[0], acc[0])
	f.addK(v, acc[2], acc[0], acc[0])
	f.clamp(acc[0], lo, hi)
	f.storeK(v, acc[0], Mem{Base: RDI})
	f.dwAdvance(5, "pix")
}

// dwPix5Streamed (AVX2): the middle row's weights in Y8, Y10..Y13, the
// others read from memory; rows 0 and 3 sum into Y0 (from the bias), rows
// 1 and 4 into Y6, row 2 into Y7.
func (f *file) dwPix5Streamed(v isa, bias VecPhysical) {
	lo, hi := dwClampRegs(v)
	w := v.bytes()
	acc := []VecPhysical{v.V(0), v.V(6), v.V(7), v.V(0), v.V(6)}
	f.Label("pix")
	f.VMOVAPS(bias, acc[0])
	f.VXORPS(acc[1], acc[1], acc[1])
	f.VXORPS(acc[2], acc[2], acc[2])
	for r := 0; r < 5; r++ {
		row := dwRowRegs[r]
		for c := 0; c < 5; c++ {
			if r == 2 {
				f.VFMADD231PS(dwCol(row, c), v.V([]int{8, 10, 11, 12, 13}[c]), acc[r])
				continue
			}
			x := v.V(1 + c)
			f.VMOVUPS(dwCol(row, c), x)
			f.VFMADD231PS(Mem{Base: RSI, Disp: (1 + 5*r + c) * w}, x, acc[r])
		}
	}
	f.VADDPS(acc[1], acc[0], acc[0])
	f.VADDPS(acc[2], acc[0], acc[0])
	f.clamp(acc[0], lo, hi)
	f.VMOVUPS(acc[0], Mem{Base: RDI})
	f.dwAdvance(5, "pix")
}

// dwPixel{AVX512,AVX2}: one output pixel over the n taps in t, channel
// blocks outermost. R8 = t, R9 = n, DI = out, SI = the block's weights,
// BX = blocks left, DX = byte offset of the block within a pixel, R10/CX
// walk the taps (a tap's weight offset at dwTaps_offs past its pointer),
// R12/R13 = one and three blocks of w in bytes. Four blocks at a time
// while more than four are left (AVX-512: the last, maybe partial, block
// goes through the masked loop) or at least four (AVX2): four independent
// sums hide the FMA latency of one long chain.
func (f *file) dwPixel(v isa) {
	f.text("dwPixel"+v.name, "func(t *dwTaps, n int, out, w *float32, blocks, wstride int, lastMask uint32, lo, hi float32)")
	lo, hi := dwClampRegs(v)
	wb := v.bytes()
	f.args("t n out w blocks wstride", R8, R9, RDI, RSI, RBX, R12)
	f.LEAQ(Mem{Base: R12, Index: R12, Scale: 2}, R13)
	f.XORQ(RDX, RDX)
	f.VBROADCASTSS(f.arg("lo"), lo)
	f.VBROADCASTSS(f.arg("hi"), hi)

	acc := []VecPhysical{v.V(12), v.V(13), v.V(10), v.V(11)}
	if v.masked {
		acc = []VecPhysical{v.V(28), v.V(29), v.V(30), v.V(31)}
	}
	wblock := func(base GPPhysical, i int) Mem {
		switch i {
		case 0:
			return Mem{Base: base}
		case 3:
			return Mem{Base: base, Index: R13, Scale: 1}
		}
		return Mem{Base: base, Index: R12, Scale: uint8(i)}
	}
	f.Label("group")
	f.CMPQ(RBX, U8(4))
	if v.masked {
		f.JLE(LabelRef("block"))
	} else {
		f.JLT(LabelRef("one"))
	}
	for i := 0; i < 4; i++ {
		f.VMOVUPS(wblock(RSI, i), acc[i])
	}
	f.MOVQ(R8, R10)
	f.MOVQ(R9, RCX)
	f.Label("grouptap")
	f.MOVQ(Mem{Base: R10}, RAX)
	f.ADDQ(RDX, RAX)
	f.tapOffset(R11)
	f.ADDQ(RSI, R11)
	for i := 0; i < 4; i++ {
		if v.masked {
			f.VMOVUPS(wblock(R11, i), v.V(i))
		} else {
			f.VMOVUPS(Mem{Base: RAX, Disp: i * wb}, v.V(i))
		}
	}
	for i := 0; i < 4; i++ {
		if v.masked {
			f.VFMADD231PS(Mem{Base: RAX, Disp: i * wb}, v.V(i), acc[i])
		} else {
			f.VFMADD231PS(wblock(R11, i), v.V(i), acc[i])
		}
	}
	f.ADDQ(U8(8), R10)
	f.DECQ(RCX)
	f.JNZ(LabelRef("grouptap"))
	for i := 0; i < 4; i++ {
		f.clamp(acc[i], lo, hi)
	}
	for i := 0; i < 4; i++ {
		f.VMOVUPS(acc[i], Mem{Base: RDI, Disp: i * wb, Index: RDX, Scale: 1})
	}
	f.ADDQ(U32(4*wb), RDX)
	f.LEAQ(Mem{Base: RSI, Index: R12, Scale: 4}, RSI)
	f.SUBQ(U8(4), RBX)
	f.JMP(LabelRef("group"))

	if !v.masked {
		f.Label("one")
		f.TESTQ(RBX, RBX)
		f.JZ(LabelRef("done"))
	}
	f.Label("block")
	if v.masked {
		f.dwBlockMask(R11L, "mask")
	}
	f.VMOVUPS(Mem{Base: RSI}, acc[0])
	f.MOVQ(R8, R10)
	f.MOVQ(R9, RCX)
	f.Label("tap")
	f.MOVQ(Mem{Base: R10}, RAX)
	f.tapOffset(R11)
	if v.masked {
		f.VMOVUPS(Mem{Base: RSI, Index: R11, Scale: 1}, v.V(0))
		f.VFMADD231PS(Mem{Base: RAX, Index: RDX, Scale: 1}, v.V(0), K1, acc[0])
	} else {
		f.VMOVUPS(Mem{Base: RAX, Index: RDX, Scale: 1}, v.V(0))
		f.VFMADD231PS(Mem{Base: RSI, Index: R11, Scale: 1}, v.V(0), acc[0])
	}
	f.ADDQ(U8(8), R10)
	f.DECQ(RCX)
	f.JNZ(LabelRef("tap"))
	f.clamp(acc[0], lo, hi)
	f.storeK(v, acc[0], Mem{Base: RDI, Index: RDX, Scale: 1})
	f.ADDQ(U8(wb), RDX)
	f.ADDQ(R12, RSI)
	f.DECQ(RBX)
	f.JNZ(LabelRef("block"))
	if !v.masked {
		f.Label("done")
	}
	f.ret()
}

// tapOffset loads the current tap's weight offset, t.offs[i] with R10 at
// &t.ptrs[i], into r: dwTaps_offs(R10) from go_asm.h.
func (f *file) tapOffset(r GPPhysical) {
	i, err := x86.MOVQ(Mem{Base: R10}, r)
	f.withGoAsm(i, err, 0, "dwTaps_offs(R10)")
}
