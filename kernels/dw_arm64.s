//go:build !purego

// Hand-written arm64 NEON depthwise convolution kernels. The Go
// declarations and the loops they compute are in dw_arm64.go; dw_generic.go
// is their twin. FMAX/FMIN come from neon_arm64.h as WORDs.
//
// Row kernels keep the block's bias in V25 and its KH·KW weights in V0..V24,
// lo and hi in V26 and V27, inputs in V29, and split each pixel's sum over
// V28 (bias and kernel rows 0 and 3), V30 (rows 1 and 4) and V31 (row 2) so
// no chain of dependent fmla is longer than ten.
// Registers: R1..R5 = input rows, R6 = out, R7 = w, R8 = blocks left,
// R9 = c4 (column step), R10 = pstep, R11 = inRewind, R12 = outRewind,
// R13 = pixels left, R14 walks one row's window.

#include "textflag.h"
#include "go_asm.h"
#include "neon_arm64.h"

// acc += the three (five) taps of row r, weights a, b, c (, d, e); R14
// walks the row. Loads all go through V29: register renaming gives each its
// own physical register.
#define TAP(w, acc) \
	VLD1.P (R14)(R9), [V29.S4]; \
	VFMLA  w.S4, V29.S4, acc.S4
#define LASTTAP(w, acc) \
	VLD1   (R14), [V29.S4]; \
	VFMLA  w.S4, V29.S4, acc.S4

#define ROW3(r, a, b, c, acc) \
	MOVD r, R14; \
	TAP(a, acc); \
	TAP(b, acc); \
	LASTTAP(c, acc)

#define ROW5(r, a, b, c, d, e, acc) \
	MOVD r, R14; \
	TAP(a, acc); \
	TAP(b, acc); \
	TAP(c, acc); \
	TAP(d, acc); \
	LASTTAP(e, acc)

// min(max(Vx, lo), hi) with lo, hi in V26, V27.
#define CLAMP(x) CLAMP4S(x, 26, 27)

// A pixel's sum starts from the bias (V28) and zero (V30, V31).
#define PIXSTART \
	VORR V25.B16, V25.B16, V28.B16; \
	VZERO(V30); \
	VZERO(V31)

// The three partial sums added, clamped, stored; out moves on a column.
#define PIXEND \
	FADD4S(30, 28, 28); \
	FADD4S(31, 28, 28); \
	CLAMP(28); \
	VST1.P [V28.S4], (R6)(R9)

// OP x, Ri for the first three (five) input rows.
#define ROWS3(OP, x) OP x, R1; OP x, R2; OP x, R3
#define ROWS5(OP, x) ROWS3(OP, x); OP x, R4; OP x, R5

// The next block: input rows and out back to its first pixel (R11, R12).
#define NEXTBLOCK(ROWS, label) \
	ROWS(SUB, R11); \
	SUB  R12, R6; \
	SUBS $1, R8; \
	BNE  label; \
	RET

#define ARGS \
	MOVD  rows+0(FP), R0; \
	MOVD  out+8(FP), R6; \
	MOVD  w+16(FP), R7; \
	MOVD  blocks+32(FP), R8; \
	MOVD  c4+40(FP), R9; \
	MOVD  pstep+48(FP), R10; \
	MOVD  inRewind+56(FP), R11; \
	MOVD  outRewind+64(FP), R12; \
	MOVD  $lo+76(FP), R13; \
	VLD1R (R13), [V26.S4]; \
	MOVD  $hi+80(FP), R13; \
	VLD1R (R13), [V27.S4]

// The first three input rows from rows (R0).
#define INROWS3 \
	MOVD 0(R0), R1; \
	MOVD 8(R0), R2; \
	MOVD 16(R0), R3

// The block's bias and its first eight weights.
#define WEIGHTS8 \
	VLD1.P 16(R7), [V25.S4]; \
	VLD1.P 64(R7), [V0.S4, V1.S4, V2.S4, V3.S4]; \
	VLD1.P 64(R7), [V4.S4, V5.S4, V6.S4, V7.S4]

// func dwRow3x3NEON(rows *[5]unsafe.Pointer, out, w *float32, npix, blocks, c4, pstep, inRewind, outRewind int, lastMask uint32, lo, hi float32)
TEXT ·dwRow3x3NEON(SB), NOSPLIT, $0-84
	ARGS
	INROWS3

block3:
	WEIGHTS8
	VLD1.P 16(R7), [V8.S4]
	MOVD   npix+24(FP), R13

pix3:
	PIXSTART
	ROW3(R1, V0, V1, V2, V28)
	ROW3(R2, V3, V4, V5, V30)
	ROW3(R3, V6, V7, V8, V31)
	PIXEND
	ROWS3(ADD, R10)
	SUBS $1, R13
	BNE  pix3

	NEXTBLOCK(ROWS3, block3)

// func dwRow5x5NEON(rows *[5]unsafe.Pointer, out, w *float32, npix, blocks, c4, pstep, inRewind, outRewind int, lastMask uint32, lo, hi float32)
TEXT ·dwRow5x5NEON(SB), NOSPLIT, $0-84
	ARGS
	INROWS3
	MOVD 24(R0), R4
	MOVD 32(R0), R5

block5:
	WEIGHTS8
	VLD1.P 64(R7), [V8.S4, V9.S4, V10.S4, V11.S4]
	VLD1.P 64(R7), [V12.S4, V13.S4, V14.S4, V15.S4]
	VLD1.P 64(R7), [V16.S4, V17.S4, V18.S4, V19.S4]
	VLD1.P 64(R7), [V20.S4, V21.S4, V22.S4, V23.S4]
	VLD1.P 16(R7), [V24.S4]
	MOVD   npix+24(FP), R13

pix5:
	PIXSTART
	ROW5(R1, V0, V1, V2, V3, V4, V28)
	ROW5(R2, V5, V6, V7, V8, V9, V30)
	ROW5(R3, V10, V11, V12, V13, V14, V31)
	ROW5(R4, V15, V16, V17, V18, V19, V28)
	ROW5(R5, V20, V21, V22, V23, V24, V30)
	PIXEND
	ROWS5(ADD, R10)
	SUBS $1, R13
	BNE  pix5

	NEXTBLOCK(ROWS5, block5)

// R8 = the next tap's input at this block (R5), R12 = its weight offset.
#define NEXTTAP \
	MOVD   dwTaps_offs(R6), R12; \
	MOVD.P 8(R6), R8; \
	ADD    R5, R8

// Loads four consecutive blocks of w (R9 bytes apart) from base.
#define BLOCKS4(base, a, b, c, d) \
	VLD1 (base), [a.S4]; \
	ADD  R9, base, R13; \
	VLD1 (R13), [b.S4]; \
	ADD  R10, base, R13; \
	VLD1 (R13), [c.S4]; \
	ADD  R11, base, R13; \
	VLD1 (R13), [d.S4]

// func dwPixelNEON(t *dwTaps, n int, out, w *float32, blocks, wstride int, lastMask uint32, lo, hi float32)
// R0 = t, R1 = n, R2 = out, R3 = the block's weights, R4 = blocks left,
// R5 = byte offset of the block within a pixel, R6/R7 walk the taps (a
// tap's weight offset sits dwTaps_offs bytes after its pointer), R9..R11 = one, two
// and three blocks of w in bytes.
TEXT ·dwPixelNEON(SB), NOSPLIT, $0-60
	MOVD  t+0(FP), R0
	MOVD  n+8(FP), R1
	MOVD  out+16(FP), R2
	MOVD  w+24(FP), R3
	MOVD  blocks+32(FP), R4
	MOVD  wstride+40(FP), R9
	ADD   R9, R9, R10
	ADD   R9, R10, R11
	MOVD  $0, R5
	MOVD  $lo+52(FP), R8
	VLD1R (R8), [V26.S4]
	MOVD  $hi+56(FP), R8
	VLD1R (R8), [V27.S4]

	// Four blocks at a time while four are left: four independent sums
	// hide the fmla latency of one long chain.
pgroup:
	CMP  $4, R4
	BLT  pone
	BLOCKS4(R3, V28, V29, V30, V31)
	MOVD R0, R6
	MOVD R1, R7

pgtap:
	NEXTTAP
	VLD1   (R8), [V0.S4, V1.S4, V2.S4, V3.S4]
	ADD    R3, R12
	BLOCKS4(R12, V4, V5, V6, V7)
	VFMLA  V4.S4, V0.S4, V28.S4
	VFMLA  V5.S4, V1.S4, V29.S4
	VFMLA  V6.S4, V2.S4, V30.S4
	VFMLA  V7.S4, V3.S4, V31.S4
	SUBS   $1, R7
	BNE    pgtap

	CLAMP(28)
	CLAMP(29)
	CLAMP(30)
	CLAMP(31)
	ADD  R5, R2, R8
	VST1 [V28.S4, V29.S4, V30.S4, V31.S4], (R8)
	ADD  $64, R5
	ADD  R11, R3
	ADD  R9, R3
	SUB  $4, R4
	B    pgroup

pone:
	CBZ R4, pdone

pblock:
	VLD1 (R3), [V28.S4]
	MOVD R0, R6
	MOVD R1, R7

ptap:
	NEXTTAP
	VLD1   (R8), [V29.S4]
	ADD    R3, R12
	VLD1   (R12), [V30.S4]
	VFMLA  V30.S4, V29.S4, V28.S4
	SUBS   $1, R7
	BNE    ptap

	CLAMP(28)
	ADD  R5, R2, R8
	VST1 [V28.S4], (R8)
	ADD  $16, R5
	ADD  R9, R3
	SUBS $1, R4
	BNE  pblock

pdone:
	RET
