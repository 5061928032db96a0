//go:build !purego

// Hand-written amd64 depthwise convolution kernels. The Go declarations and
// the loops they compute are in dw_amd64.go; dw_generic.go is their twin.
//
// Row kernels: the block's bias sits in one vector register and its KH·KW
// weights in KH·KW more (AVX2 5×5 holds only the middle row's and streams
// the rest from memory: 16 ymm are too few), so each tap of a pixel is a single FMA reading the input directly.
// Registers: R8..R10 (R12, R11) = input rows, DI = out, SI = w, AX = pixels left,
// BX = blocks left, CX = c4 (column step), DX = pstep (pixel step),
// R13 = 3*c4 (fourth column of a 5×5 window); R8, R9, R10, R12, R11 hold
// the five rows of a 5×5 window.

#include "textflag.h"

// Columns 1..4 of a 5×5 window row into acc; column 0 is the caller's
// (a multiply starting a fresh partial sum, or an FMA into one).
#define TAPS5_512(r, w1, w2, w3, w4, acc) \
	VFMADD231PS (r)(CX*1), w1, K1, acc; \
	VFMADD231PS (r)(CX*2), w2, K1, acc; \
	VFMADD231PS (r)(R13*1), w3, K1, acc; \
	VFMADD231PS (r)(CX*4), w4, K1, acc

// One kernel row r (weights w0..w2) of a stride-1 pixel pair: columns 0..3
// loaded once under K1 (masked lanes read as zero), pixel A's sum in a,
// pixel B's in b; first is VFMADD231PS to add to a sum, VMULPS to start one.
#define PAIRROW3(r, w0, w1, w2, first, a, b) \
	VMOVUPS.Z   (r), K1, Z12; \
	VMOVUPS.Z   (r)(CX*1), K1, Z13; \
	VMOVUPS.Z   (r)(CX*2), K1, Z14; \
	VMOVUPS.Z   (r)(R13*1), K1, Z15; \
	first       Z12, w0, a; \
	first       Z13, w0, b; \
	VFMADD231PS Z13, w1, a; \
	VFMADD231PS Z14, w1, b; \
	VFMADD231PS Z14, w2, a; \
	VFMADD231PS Z15, w2, b

// min(max(x, lo), hi) with Z26 = lo, Z27 = hi; x is the second source so a
// NaN stays NaN, as with Go's min and max.
#define CLAMP512(z) \
	VMAXPS z, Z26, z; \
	VMINPS z, Z27, z

// K1 = all ones, or lastMask when only one block is left (BX == 1); uses AX.
#define MASK512(label) \
	MOVL  $0xffff, AX; \
	CMPQ  BX, $1; \
	JNE   label; \
	MOVL  lastMask+72(FP), AX; \
label: \
	KMOVW AX, K1

// func dwRow3x3AVX512(rows *[5]unsafe.Pointer, out, w *float32, npix, blocks, c4, pstep, inRewind, outRewind int, lastMask uint32, lo, hi float32)
// Requires: AVX512F
TEXT ·dwRow3x3AVX512(SB), NOSPLIT, $0-84
	MOVQ         rows+0(FP), AX
	MOVQ         0(AX), R8
	MOVQ         8(AX), R9
	MOVQ         16(AX), R10
	MOVQ         out+8(FP), DI
	MOVQ         w+16(FP), SI
	MOVQ         blocks+32(FP), BX
	MOVQ         c4+40(FP), CX
	LEAQ         (CX)(CX*2), R13
	MOVQ         pstep+48(FP), DX
	VBROADCASTSS lo+76(FP), Z26
	VBROADCASTSS hi+80(FP), Z27

block3_512:
	MASK512(mask3_512)
	VMOVUPS 0(SI), Z25
	VMOVUPS 64(SI), Z0
	VMOVUPS 128(SI), Z1
	VMOVUPS 192(SI), Z2
	VMOVUPS 256(SI), Z3
	VMOVUPS 320(SI), Z4
	VMOVUPS 384(SI), Z5
	VMOVUPS 448(SI), Z6
	VMOVUPS 512(SI), Z7
	VMOVUPS 576(SI), Z8
	MOVQ    npix+24(FP), AX
	CMPQ    DX, CX
	JNE     pix3_512

	// Stride 1: two neighbouring pixels share two of each row's three
	// input columns, so a pair loads four columns per row instead of six.
	// A's partial sums in Z28..Z30, B's in Z9..Z11, columns in Z12..Z15.
pair3_512:
	CMPQ AX, $2
	JLT  tail3_512
	VMOVAPS Z25, Z28
	VMOVAPS Z25, Z9
	PAIRROW3(R8, Z0, Z1, Z2, VFMADD231PS, Z28, Z9)
	PAIRROW3(R9, Z3, Z4, Z5, VMULPS, Z29, Z10)
	PAIRROW3(R10, Z6, Z7, Z8, VMULPS, Z30, Z11)
	VADDPS  Z29, Z28, Z28
	VADDPS  Z10, Z9, Z9
	VADDPS  Z30, Z28, Z28
	VADDPS  Z11, Z9, Z9
	CLAMP512(Z28)
	CLAMP512(Z9)
	VMOVUPS Z28, K1, (DI)
	VMOVUPS Z9, K1, (DI)(CX*1)
	LEAQ    (R8)(CX*2), R8
	LEAQ    (R9)(CX*2), R9
	LEAQ    (R10)(CX*2), R10
	LEAQ    (DI)(CX*2), DI
	SUBQ    $2, AX
	JMP     pair3_512

tail3_512:
	TESTQ AX, AX
	JZ    end3_512

pix3_512:
	VMOVAPS Z25, Z28
	VMULPS.Z    (R9), Z3, K1, Z29
	VMULPS.Z    (R10), Z6, K1, Z30
	VFMADD231PS (R8), Z0, K1, Z28
	VFMADD231PS (R9)(CX*1), Z4, K1, Z29
	VFMADD231PS (R10)(CX*1), Z7, K1, Z30
	VFMADD231PS (R8)(CX*1), Z1, K1, Z28
	VFMADD231PS (R9)(CX*2), Z5, K1, Z29
	VFMADD231PS (R10)(CX*2), Z8, K1, Z30
	VFMADD231PS (R8)(CX*2), Z2, K1, Z28
	VADDPS      Z29, Z28, K1, Z28
	VADDPS      Z30, Z28, K1, Z28
	CLAMP512(Z28)
	VMOVUPS Z28, K1, (DI)
	ADDQ    DX, R8
	ADDQ    DX, R9
	ADDQ    DX, R10
	ADDQ    CX, DI
	DECQ    AX
	JNZ     pix3_512

end3_512:
	SUBQ inRewind+56(FP), R8
	SUBQ inRewind+56(FP), R9
	SUBQ inRewind+56(FP), R10
	SUBQ outRewind+64(FP), DI
	ADDQ $(10*64), SI
	DECQ BX
	JNZ  block3_512
	VZEROUPPER
	RET

// func dwRow5x5AVX512(rows *[5]unsafe.Pointer, out, w *float32, npix, blocks, c4, pstep, inRewind, outRewind int, lastMask uint32, lo, hi float32)
// Requires: AVX512F
TEXT ·dwRow5x5AVX512(SB), NOSPLIT, $0-84
	MOVQ         rows+0(FP), AX
	MOVQ         0(AX), R8
	MOVQ         8(AX), R9
	MOVQ         16(AX), R10
	MOVQ         24(AX), R12
	MOVQ         32(AX), R11
	MOVQ         out+8(FP), DI
	MOVQ         w+16(FP), SI
	MOVQ         blocks+32(FP), BX
	MOVQ         c4+40(FP), CX
	LEAQ         (CX)(CX*2), R13
	MOVQ         pstep+48(FP), DX
	VBROADCASTSS lo+76(FP), Z26
	VBROADCASTSS hi+80(FP), Z27

block5_512:
	MASK512(mask5_512)
	VMOVUPS 0(SI), Z25
	VMOVUPS 64(SI), Z0
	VMOVUPS 128(SI), Z1
	VMOVUPS 192(SI), Z2
	VMOVUPS 256(SI), Z3
	VMOVUPS 320(SI), Z4
	VMOVUPS 384(SI), Z5
	VMOVUPS 448(SI), Z6
	VMOVUPS 512(SI), Z7
	VMOVUPS 576(SI), Z8
	VMOVUPS 640(SI), Z9
	VMOVUPS 704(SI), Z10
	VMOVUPS 768(SI), Z11
	VMOVUPS 832(SI), Z12
	VMOVUPS 896(SI), Z13
	VMOVUPS 960(SI), Z14
	VMOVUPS 1024(SI), Z15
	VMOVUPS 1088(SI), Z16
	VMOVUPS 1152(SI), Z17
	VMOVUPS 1216(SI), Z18
	VMOVUPS 1280(SI), Z19
	VMOVUPS 1344(SI), Z20
	VMOVUPS 1408(SI), Z21
	VMOVUPS 1472(SI), Z22
	VMOVUPS 1536(SI), Z23
	VMOVUPS 1600(SI), Z24
	MOVQ    npix+24(FP), AX

pix5_512:
	VMOVAPS Z25, Z28
	VMULPS.Z (R9), Z5, K1, Z29
	VMULPS.Z (R10), Z10, K1, Z30
	VFMADD231PS (R8), Z0, K1, Z28
	TAPS5_512(R8, Z1, Z2, Z3, Z4, Z28)
	TAPS5_512(R9, Z6, Z7, Z8, Z9, Z29)
	TAPS5_512(R10, Z11, Z12, Z13, Z14, Z30)
	VFMADD231PS (R12), Z15, K1, Z28
	TAPS5_512(R12, Z16, Z17, Z18, Z19, Z28)
	VFMADD231PS (R11), Z20, K1, Z29
	TAPS5_512(R11, Z21, Z22, Z23, Z24, Z29)
	VADDPS Z29, Z28, K1, Z28
	VADDPS Z30, Z28, K1, Z28
	CLAMP512(Z28)
	VMOVUPS Z28, K1, (DI)
	ADDQ    DX, R8
	ADDQ    DX, R9
	ADDQ    DX, R10
	ADDQ    DX, R12
	ADDQ    DX, R11
	ADDQ    CX, DI
	DECQ    AX
	JNZ     pix5_512

	SUBQ inRewind+56(FP), R8
	SUBQ inRewind+56(FP), R9
	SUBQ inRewind+56(FP), R10
	SUBQ inRewind+56(FP), R12
	SUBQ inRewind+56(FP), R11
	SUBQ outRewind+64(FP), DI
	ADDQ $(26*64), SI
	DECQ BX
	JNZ  block5_512
	VZEROUPPER
	RET

// func dwPixelAVX512(t *dwTaps, n int, out, w *float32, blocks, wstride int, lastMask uint32, lo, hi float32)
// Requires: AVX512F
// R8 = t, R9 = n, DI = out, SI = the block's weights, BX = blocks left,
// DX = byte offset of the block within a pixel, R10/CX walk the taps (a
// tap's weight offset sits 200 bytes after its pointer), R12/R13 = one and
// three blocks of w in bytes, Z28..Z31 sum up to four blocks.
TEXT ·dwPixelAVX512(SB), NOSPLIT, $0-60
	MOVQ         t+0(FP), R8
	MOVQ         n+8(FP), R9
	MOVQ         out+16(FP), DI
	MOVQ         w+24(FP), SI
	MOVQ         blocks+32(FP), BX
	MOVQ         wstride+40(FP), R12
	LEAQ         (R12)(R12*2), R13
	XORQ         DX, DX
	VBROADCASTSS lo+52(FP), Z26
	VBROADCASTSS hi+56(FP), Z27

	// Four blocks at a time while more than four are left (the last,
	// maybe partial, block goes through the masked loop below): four
	// independent sums hide the FMA latency of one long chain.
pgroup512:
	CMPQ    BX, $4
	JLE     pblock512
	VMOVUPS (SI), Z28
	VMOVUPS (SI)(R12*1), Z29
	VMOVUPS (SI)(R12*2), Z30
	VMOVUPS (SI)(R13*1), Z31
	MOVQ    R8, R10
	MOVQ    R9, CX

pgtap512:
	MOVQ        (R10), AX
	ADDQ        DX, AX
	MOVQ        200(R10), R11
	ADDQ        SI, R11
	VMOVUPS     (R11), Z0
	VMOVUPS     (R11)(R12*1), Z1
	VMOVUPS     (R11)(R12*2), Z2
	VMOVUPS     (R11)(R13*1), Z3
	VFMADD231PS (AX), Z0, Z28
	VFMADD231PS 64(AX), Z1, Z29
	VFMADD231PS 128(AX), Z2, Z30
	VFMADD231PS 192(AX), Z3, Z31
	ADDQ        $8, R10
	DECQ        CX
	JNZ         pgtap512

	CLAMP512(Z28)
	CLAMP512(Z29)
	CLAMP512(Z30)
	CLAMP512(Z31)
	VMOVUPS Z28, (DI)(DX*1)
	VMOVUPS Z29, 64(DI)(DX*1)
	VMOVUPS Z30, 128(DI)(DX*1)
	VMOVUPS Z31, 192(DI)(DX*1)
	ADDQ    $256, DX
	LEAQ    (SI)(R12*4), SI
	SUBQ    $4, BX
	JMP     pgroup512

pblock512:
	MOVL $0xffff, R11
	CMPQ BX, $1
	JNE  pmask512
	MOVL lastMask+48(FP), R11

pmask512:
	KMOVW   R11, K1
	VMOVUPS (SI), Z28
	MOVQ    R8, R10
	MOVQ    R9, CX

ptap512:
	MOVQ        (R10), AX
	MOVQ        200(R10), R11
	VMOVUPS     (SI)(R11*1), Z0
	VFMADD231PS (AX)(DX*1), Z0, K1, Z28
	ADDQ        $8, R10
	DECQ        CX
	JNZ         ptap512

	CLAMP512(Z28)
	VMOVUPS Z28, K1, (DI)(DX*1)
	ADDQ    $64, DX
	ADDQ    R12, SI
	DECQ    BX
	JNZ     pblock512
	VZEROUPPER
	RET

// ---------------------------------------------------------------------------
// AVX2: whole blocks of 8 channels.

// One 5×5 window row into acc, weights from memory at byte offset o of the
// block (after the bias).
#define TAPS5_256(r, o, acc) \
	VMOVUPS     (r), Y1; \
	VFMADD231PS o(SI), Y1, acc; \
	VMOVUPS     (r)(CX*1), Y2; \
	VFMADD231PS o+32(SI), Y2, acc; \
	VMOVUPS     (r)(CX*2), Y3; \
	VFMADD231PS o+64(SI), Y3, acc; \
	VMOVUPS     (r)(R13*1), Y4; \
	VFMADD231PS o+96(SI), Y4, acc; \
	VMOVUPS     (r)(CX*4), Y5; \
	VFMADD231PS o+128(SI), Y5, acc

// The middle row, its weights held in Y8, Y10..Y13.
#define TAPS5MID_256(r, acc) \
	VFMADD231PS (r), Y8, acc; \
	VFMADD231PS (r)(CX*1), Y10, acc; \
	VFMADD231PS (r)(CX*2), Y11, acc; \
	VFMADD231PS (r)(R13*1), Y12, acc; \
	VFMADD231PS (r)(CX*4), Y13, acc

// Y14 = lo, Y15 = hi.
#define CLAMP256(y) \
	VMAXPS y, Y14, y; \
	VMINPS y, Y15, y

// func dwRow3x3AVX2(rows *[5]unsafe.Pointer, out, w *float32, npix, blocks, c4, pstep, inRewind, outRewind int, lastMask uint32, lo, hi float32)
// Requires: AVX, AVX2, FMA3
TEXT ·dwRow3x3AVX2(SB), NOSPLIT, $0-84
	MOVQ         rows+0(FP), AX
	MOVQ         0(AX), R8
	MOVQ         8(AX), R9
	MOVQ         16(AX), R10
	MOVQ         out+8(FP), DI
	MOVQ         w+16(FP), SI
	MOVQ         blocks+32(FP), BX
	MOVQ         c4+40(FP), CX
	MOVQ         pstep+48(FP), DX
	VBROADCASTSS lo+76(FP), Y14
	VBROADCASTSS hi+80(FP), Y15

block3_256:
	VMOVUPS 0(SI), Y9
	VMOVUPS 32(SI), Y0
	VMOVUPS 64(SI), Y1
	VMOVUPS 96(SI), Y2
	VMOVUPS 128(SI), Y3
	VMOVUPS 160(SI), Y4
	VMOVUPS 192(SI), Y5
	VMOVUPS 224(SI), Y6
	VMOVUPS 256(SI), Y7
	VMOVUPS 288(SI), Y8
	MOVQ    npix+24(FP), AX

pix3_256:
	VMOVAPS     Y9, Y12
	VMULPS      (R9), Y3, Y10
	VMULPS      (R10), Y6, Y11
	VFMADD231PS (R8), Y0, Y12
	VFMADD231PS (R9)(CX*1), Y4, Y10
	VFMADD231PS (R10)(CX*1), Y7, Y11
	VFMADD231PS (R8)(CX*1), Y1, Y12
	VFMADD231PS (R9)(CX*2), Y5, Y10
	VFMADD231PS (R10)(CX*2), Y8, Y11
	VFMADD231PS (R8)(CX*2), Y2, Y12
	VADDPS      Y10, Y12, Y12
	VADDPS      Y11, Y12, Y12
	CLAMP256(Y12)
	VMOVUPS Y12, (DI)
	ADDQ    DX, R8
	ADDQ    DX, R9
	ADDQ    DX, R10
	ADDQ    CX, DI
	DECQ    AX
	JNZ     pix3_256

	SUBQ inRewind+56(FP), R8
	SUBQ inRewind+56(FP), R9
	SUBQ inRewind+56(FP), R10
	SUBQ outRewind+64(FP), DI
	ADDQ $(10*32), SI
	DECQ BX
	JNZ  block3_256
	VZEROUPPER
	RET

// func dwRow5x5AVX2(rows *[5]unsafe.Pointer, out, w *float32, npix, blocks, c4, pstep, inRewind, outRewind int, lastMask uint32, lo, hi float32)
// Requires: AVX, AVX2, FMA3
TEXT ·dwRow5x5AVX2(SB), NOSPLIT, $0-84
	MOVQ         rows+0(FP), AX
	MOVQ         0(AX), R8
	MOVQ         8(AX), R9
	MOVQ         16(AX), R10
	MOVQ         24(AX), R12
	MOVQ         32(AX), R11
	MOVQ         out+8(FP), DI
	MOVQ         w+16(FP), SI
	MOVQ         blocks+32(FP), BX
	MOVQ         c4+40(FP), CX
	LEAQ         (CX)(CX*2), R13
	MOVQ         pstep+48(FP), DX
	VBROADCASTSS lo+76(FP), Y14
	VBROADCASTSS hi+80(FP), Y15

block5_256:
	VMOVUPS 0(SI), Y9
	VMOVUPS 352(SI), Y8
	VMOVUPS 384(SI), Y10
	VMOVUPS 416(SI), Y11
	VMOVUPS 448(SI), Y12
	VMOVUPS 480(SI), Y13
	MOVQ    npix+24(FP), AX

	// Partial sums: Y0 = bias + rows 0 and 3, Y6 = rows 1 and 4, Y7 = row 2.
pix5_256:
	VMOVAPS Y9, Y0
	VXORPS  Y6, Y6, Y6
	VXORPS  Y7, Y7, Y7
	TAPS5_256(R8, 32, Y0)
	TAPS5_256(R9, 192, Y6)
	TAPS5MID_256(R10, Y7)
	TAPS5_256(R12, 512, Y0)
	TAPS5_256(R11, 672, Y6)
	VADDPS  Y6, Y0, Y0
	VADDPS  Y7, Y0, Y0
	CLAMP256(Y0)
	VMOVUPS Y0, (DI)
	ADDQ    DX, R8
	ADDQ    DX, R9
	ADDQ    DX, R10
	ADDQ    DX, R12
	ADDQ    DX, R11
	ADDQ    CX, DI
	DECQ    AX
	JNZ     pix5_256

	SUBQ inRewind+56(FP), R8
	SUBQ inRewind+56(FP), R9
	SUBQ inRewind+56(FP), R10
	SUBQ inRewind+56(FP), R12
	SUBQ inRewind+56(FP), R11
	SUBQ outRewind+64(FP), DI
	ADDQ $(26*32), SI
	DECQ BX
	JNZ  block5_256
	VZEROUPPER
	RET

// func dwPixelAVX2(t *dwTaps, n int, out, w *float32, blocks, wstride int, lastMask uint32, lo, hi float32)
// Requires: AVX, AVX2, FMA3
// Registers as in dwPixelAVX512; Y12, Y13, Y10, Y11 sum up to four blocks.
TEXT ·dwPixelAVX2(SB), NOSPLIT, $0-60
	MOVQ         t+0(FP), R8
	MOVQ         n+8(FP), R9
	MOVQ         out+16(FP), DI
	MOVQ         w+24(FP), SI
	MOVQ         blocks+32(FP), BX
	MOVQ         wstride+40(FP), R12
	LEAQ         (R12)(R12*2), R13
	XORQ         DX, DX
	VBROADCASTSS lo+52(FP), Y14
	VBROADCASTSS hi+56(FP), Y15

	// Four blocks at a time while four are left, as in dwPixelAVX512.
pgroup256:
	CMPQ    BX, $4
	JLT     pone256
	VMOVUPS (SI), Y12
	VMOVUPS (SI)(R12*1), Y13
	VMOVUPS (SI)(R12*2), Y10
	VMOVUPS (SI)(R13*1), Y11
	MOVQ    R8, R10
	MOVQ    R9, CX

pgtap256:
	MOVQ        (R10), AX
	ADDQ        DX, AX
	MOVQ        200(R10), R11
	ADDQ        SI, R11
	VMOVUPS     (AX), Y0
	VMOVUPS     32(AX), Y1
	VMOVUPS     64(AX), Y2
	VMOVUPS     96(AX), Y3
	VFMADD231PS (R11), Y0, Y12
	VFMADD231PS (R11)(R12*1), Y1, Y13
	VFMADD231PS (R11)(R12*2), Y2, Y10
	VFMADD231PS (R11)(R13*1), Y3, Y11
	ADDQ        $8, R10
	DECQ        CX
	JNZ         pgtap256

	CLAMP256(Y12)
	CLAMP256(Y13)
	CLAMP256(Y10)
	CLAMP256(Y11)
	VMOVUPS Y12, (DI)(DX*1)
	VMOVUPS Y13, 32(DI)(DX*1)
	VMOVUPS Y10, 64(DI)(DX*1)
	VMOVUPS Y11, 96(DI)(DX*1)
	ADDQ    $128, DX
	LEAQ    (SI)(R12*4), SI
	SUBQ    $4, BX
	JMP     pgroup256

pone256:
	TESTQ BX, BX
	JZ    pdone256

pblock256:
	VMOVUPS (SI), Y12
	MOVQ    R8, R10
	MOVQ    R9, CX

ptap256:
	MOVQ        (R10), AX
	MOVQ        200(R10), R11
	VMOVUPS     (AX)(DX*1), Y0
	VFMADD231PS (SI)(R11*1), Y0, Y12
	ADDQ        $8, R10
	DECQ        CX
	JNZ         ptap256

	CLAMP256(Y12)
	VMOVUPS Y12, (DI)(DX*1)
	ADDQ    $32, DX
	ADDQ    R12, SI
	DECQ    BX
	JNZ     pblock256

pdone256:
	VZEROUPPER
	RET
