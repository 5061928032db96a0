//go:build !purego

// Winograd F(4×4, 3×3) transforms, 4 channels a step (declared, with the
// loops they compute, in winograd_arm64.go; winoInputGo and winoOutputGo
// in winograd.go are their twins, bit for bit: the same products and sums
// in the same order, no fused multiply-add). The row pass writes its result
// to tmp and the column pass reads it back, as on amd64.

#include "textflag.h"
#include "neon_arm64.h"

// V28 = 4.0, V29 = 5.0 (input) or 8.0 (output), from the float32 bits.
#define SPLAT(bits, v) \
	MOVW $bits, R9; \
	VDUP R9, v.S4

// winoIn1 (winograd.go) of d = V0..V5 into t = V6..V11; V12 is scratch.
#define WINOIN1 \
	FMUL4S(28, 0, 6); FMUL4S(29, 2, 12); FSUB4S(12, 6, 6); FADD4S(4, 6, 6); \
	FADD4S(4, 3, 7); FADD4S(2, 1, 12); FMUL4S(28, 12, 12); FSUB4S(12, 7, 7); \
	FSUB4S(3, 4, 8); FSUB4S(2, 1, 12); FMUL4S(28, 12, 12); FADD4S(12, 8, 8); \
	FSUB4S(1, 3, 9); FADD4S(9, 9, 9); FSUB4S(2, 4, 12); FADD4S(12, 9, 9); \
	FSUB4S(3, 1, 10); FADD4S(10, 10, 10); FADD4S(12, 10, 10); \
	FMUL4S(28, 1, 11); FMUL4S(29, 3, 12); FSUB4S(12, 11, 11); FADD4S(5, 11, 11)

// winoOut1 (winograd.go) of m = V0..V5 into y = V6..V9; V10 = m1+m2 and
// V11 = m1-m2 are kept, m3+m4 and m3-m4 are formed in V8 and V9.
#define WINOOUT1 \
	FADD4S(2, 1, 10); FSUB4S(2, 1, 11); FADD4S(4, 3, 8); FSUB4S(4, 3, 9); \
	FADD4S(10, 0, 6); FADD4S(8, 6, 6); \
	FADD4S(9, 9, 7); FADD4S(7, 11, 7); \
	FMUL4S(28, 8, 8); FADD4S(8, 10, 8); \
	FMUL4S(29, 9, 9); FADD4S(9, 11, 9); FADD4S(5, 9, 9)

// Loads V0..V5 from R6, R6+step, ..., R6+5·step (R6 advances).
#define LOAD6(step) \
	VLD1 (R6), [V0.S4]; ADD step, R6; \
	VLD1 (R6), [V1.S4]; ADD step, R6; \
	VLD1 (R6), [V2.S4]; ADD step, R6; \
	VLD1 (R6), [V3.S4]; ADD step, R6; \
	VLD1 (R6), [V4.S4]; ADD step, R6; \
	VLD1 (R6), [V5.S4]

// func winoInputNEON(dst *float32, dstStride int, src *float32, rowStride, colStride int, tmp *float32, blocks int)
//
// R0 = dst, R1 = dst stride (bytes), R2 = src, R3 = row stride (bytes),
// R4 = column stride (bytes), R5 = tmp, R7 = blocks, R8 = 6·dst stride,
// R6 and R10 walk the tile, R11 = 6·4·4 bytes (one tmp row of t).
TEXT ·winoInputNEON(SB), NOSPLIT, $0-56
	MOVD dst+0(FP), R0
	MOVD dstStride+8(FP), R1
	MOVD src+16(FP), R2
	MOVD rowStride+24(FP), R3
	MOVD colStride+32(FP), R4
	MOVD tmp+40(FP), R5
	MOVD blocks+48(FP), R7
	LSL  $2, R1
	LSL  $2, R3
	LSL  $2, R4
	ADD  R1<<1, R1, R8
	LSL  $1, R8
	MOVD $96, R11
	SPLAT(0x40800000, V28)
	SPLAT(0x40a00000, V29)

inblock:
	CBZ R7, indone

	// Rows: pixels 0..5 of row r into tmp[r*6 .. r*6+5].
	MOVD R2, R10
	MOVD R5, R12
	MOVD $6, R13

inrow:
	MOVD R10, R6
	LOAD6(R4)
	WINOIN1
	VST1.P [V6.S4, V7.S4, V8.S4, V9.S4], 64(R12)
	VST1.P [V10.S4, V11.S4], 32(R12)
	ADD  R3, R10
	SUBS $1, R13
	BNE  inrow

	// Columns: tmp[0*6+s .. 5*6+s] into dst[(r*6+s)*dstStride], r = 0..5.
	MOVD R5, R14
	MOVD R0, R10
	MOVD $6, R13

incol:
	MOVD R14, R6
	LOAD6(R11)
	WINOIN1
	MOVD R10, R6
	VST1 [V6.S4], (R6)
	ADD  R8, R6
	VST1 [V7.S4], (R6)
	ADD  R8, R6
	VST1 [V8.S4], (R6)
	ADD  R8, R6
	VST1 [V9.S4], (R6)
	ADD  R8, R6
	VST1 [V10.S4], (R6)
	ADD  R8, R6
	VST1 [V11.S4], (R6)
	ADD  $16, R14
	ADD  R1, R10
	SUBS $1, R13
	BNE  incol

	ADD $16, R2
	ADD $16, R0
	SUB $1, R7
	B   inblock

indone:
	RET

// func winoOutputNEON(dst *float32, rowStride, colStride int, src *float32, srcStride int, bias *float32, lo, hi float32, tmp *float32, blocks int)
//
// R0 = dst, R1 = row stride (bytes), R2 = column stride (bytes), R3 = src,
// R4 = src stride (bytes), R5 = bias, R14 = tmp, R7 = blocks, V30/V31 =
// lo/hi, V20 = the block's bias, R11 = 4·4·4 bytes (one tmp row of y).
TEXT ·winoOutputNEON(SB), NOSPLIT, $0-72
	MOVD  dst+0(FP), R0
	MOVD  rowStride+8(FP), R1
	MOVD  colStride+16(FP), R2
	MOVD  src+24(FP), R3
	MOVD  srcStride+32(FP), R4
	MOVD  bias+40(FP), R5
	FMOVS lo+48(FP), F30
	VDUP  V30.S[0], V30.S4
	FMOVS hi+52(FP), F31
	VDUP  V31.S[0], V31.S4
	MOVD  tmp+56(FP), R14
	MOVD  blocks+64(FP), R7
	LSL   $2, R1
	LSL   $2, R2
	LSL   $2, R4
	MOVD  $64, R11
	SPLAT(0x40800000, V28)
	SPLAT(0x41000000, V29)

outblock:
	CBZ R7, outdone

	// Rows: m = src[(r*6+0..5)*srcStride] into tmp[r*4 .. r*4+3].
	MOVD R3, R10
	MOVD R14, R12
	MOVD $6, R13

outrow:
	MOVD R10, R6
	LOAD6(R4)
	ADD  R4, R6, R10 // the next row of ξ: 6 strides on
	WINOOUT1
	VST1.P [V6.S4, V7.S4, V8.S4, V9.S4], 64(R12)
	SUBS $1, R13
	BNE  outrow

	// Columns: tmp[0*4+s .. 5*4+s], + bias, clamped, into
	// dst[r*rowStride + s*colStride], r = 0..3.
	VLD1 (R5), [V20.S4]
	MOVD R14, R15
	MOVD R0, R10
	MOVD $4, R13

outcol:
	MOVD R15, R6
	LOAD6(R11)
	WINOOUT1
	FADD4S(20, 6, 6); CLAMP4S(6, 30, 31)
	FADD4S(20, 7, 7); CLAMP4S(7, 30, 31)
	FADD4S(20, 8, 8); CLAMP4S(8, 30, 31)
	FADD4S(20, 9, 9); CLAMP4S(9, 30, 31)
	MOVD R10, R6
	VST1 [V6.S4], (R6)
	ADD  R1, R6
	VST1 [V7.S4], (R6)
	ADD  R1, R6
	VST1 [V8.S4], (R6)
	ADD  R1, R6
	VST1 [V9.S4], (R6)
	ADD  $16, R15
	ADD  R2, R10
	SUBS $1, R13
	BNE  outcol

	ADD $16, R3
	ADD $16, R0
	ADD $16, R5
	SUB $1, R7
	B   outblock

outdone:
	RET
