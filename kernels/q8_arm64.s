//go:build !purego

#include "textflag.h"

// The int8 element-wise kernels on NEON (declared in q8_arm64.go): eight
// lanes a step (sixteen for max), the Go loops doing the rest. The float
// steps are the Go loop's IEEE operations in its order: fdiv, fmul and
// fadd unfused, frintn (half to even) after clamping to ±512, then
// saturating narrows (sqxtn) to int8.

// Instructions the Go assembler does not accept, as WORDs (register
// numbers).
#define FDIV4S(m, n, d) WORD $(0x6E20FC00 | ((m)<<16) | ((n)<<5) | (d))
#define FMUL4S(m, n, d) WORD $(0x6E20DC00 | ((m)<<16) | ((n)<<5) | (d))
#define FADD4S(m, n, d) WORD $(0x4E20D400 | ((m)<<16) | ((n)<<5) | (d))
#define FMAX4S(m, n, d) WORD $(0x4E20F400 | ((m)<<16) | ((n)<<5) | (d))
#define FMIN4S(m, n, d) WORD $(0x4EA0F400 | ((m)<<16) | ((n)<<5) | (d))
// fcmeq vd.4s, vn.4s, vm.4s: all ones where equal (not NaN when m = n)
#define FCMEQ4S(m, n, d) WORD $(0x4E20E400 | ((m)<<16) | ((n)<<5) | (d))
#define FRINTN4S(n, d) WORD $(0x4E218800 | ((n)<<5) | (d))
#define FCVTZS4S(n, d) WORD $(0x4EA1B800 | ((n)<<5) | (d))
#define SCVTF4S(n, d) WORD $(0x4E21D800 | ((n)<<5) | (d))
#define SMAX4S(m, n, d) WORD $(0x4EA06400 | ((m)<<16) | ((n)<<5) | (d))
#define SMIN4S(m, n, d) WORD $(0x4EA06C00 | ((m)<<16) | ((n)<<5) | (d))
#define SMAX16B(m, n, d) WORD $(0x4E206400 | ((m)<<16) | ((n)<<5) | (d))
// sqxtn vd.4h, vn.4s; sqxtn2 vd.8h, vn.4s; sqxtn vd.8b, vn.8h
#define SQXTN4H(n, d) WORD $(0x0E614800 | ((n)<<5) | (d))
#define SQXTN28H(n, d) WORD $(0x4E614800 | ((n)<<5) | (d))
#define SQXTN8B(n, d) WORD $(0x0E214800 | ((n)<<5) | (d))
// sshll vd.8h, vn.8b, #0; sshll vd.4s, vn.4h, #0; sshll2 vd.4s, vn.8h, #0
#define SXTL8H(n, d) WORD $(0x0F08A400 | ((n)<<5) | (d))
#define SXTL4S(n, d) WORD $(0x0F10A400 | ((n)<<5) | (d))
#define SXTL24S(n, d) WORD $(0x4F10A400 | ((n)<<5) | (d))

// BCAST(arg, v) broadcasts the 32 bits of an argument to v.S4.
#define BCAST(arg, v) MOVWU arg, R5; VDUP R5, v.S4

// QCONSTS loads V29 = 512, V30 = -512.
#define QCONSTS MOVW $0x44000000, R5; VDUP R5, V29.S4; MOVW $0xC4000000, R5; VDUP R5, V30.S4

// REQUANT(x, vx, t, vt): float lanes vx (number x) to int32 lanes: x/V31,
// NaN to 0, clamped to ±512, rounded half to even, plus V28; vt is scratch.
#define REQUANT(x, vx, t, vt) FDIV4S(31, x, x); FCMEQ4S(x, x, t); VAND vt.B16, vx.B16, vx.B16; FMAX4S(30, x, x); FMIN4S(29, x, x); FRINTN4S(x, x); FCVTZS4S(x, x); VADD V28.S4, vx.S4, vx.S4

// NARROW8: the int32 lanes of V0, V1 saturated to eight int8s in V0.
#define NARROW8 SQXTN4H(0, 0); SQXTN28H(1, 0); SQXTN8B(0, 0)

// WIDEN8(lo, vlo, hi, vhi, vz): the eight int8s in vlo (number lo) to
// floats vlo, vhi, each minus vz first.
#define WIDEN8(lo, vlo, hi, vhi, vz) SXTL8H(lo, lo); SXTL24S(lo, hi); SXTL4S(lo, lo); VSUB vz.S4, vlo.S4, vlo.S4; VSUB vz.S4, vhi.S4, vhi.S4; SCVTF4S(lo, lo); SCVTF4S(hi, hi)

// func q8QuantNEON(dst *int8, src *float32, n int, scale float32, zero int32)
TEXT ·q8QuantNEON(SB), NOSPLIT, $0-32
	MOVD dst+0(FP), R0
	MOVD src+8(FP), R1
	MOVD n+16(FP), R2
	BCAST(scale+24(FP), V31)
	BCAST(zero+28(FP), V28)
	QCONSTS

quantloop:
	CMP  $8, R2
	BLT  quantdone
	VLD1.P 32(R1), [V0.S4, V1.S4]
	REQUANT(0, V0, 2, V2)
	REQUANT(1, V1, 3, V3)
	NARROW8
	VST1.P [V0.B8], 8(R0)
	SUB  $8, R2
	B    quantloop

quantdone:
	RET

// func q8DequantNEON(dst *float32, src *int8, n int, scale float32, zero int32)
TEXT ·q8DequantNEON(SB), NOSPLIT, $0-32
	MOVD dst+0(FP), R0
	MOVD src+8(FP), R1
	MOVD n+16(FP), R2
	BCAST(scale+24(FP), V31)
	BCAST(zero+28(FP), V28)

dequantloop:
	CMP  $8, R2
	BLT  dequantdone
	VLD1.P 8(R1), [V0.B8]
	WIDEN8(0, V0, 1, V1, V28)
	FMUL4S(31, 0, 0)
	FMUL4S(31, 1, 1)
	VST1.P [V0.S4, V1.S4], 32(R0)
	SUB  $8, R2
	B    dequantloop

dequantdone:
	RET

// func q8AddNEON(dst *int8, a *int8, b *int8, n int, sa float32, sb float32, s float32, za int32, zb int32, zo int32, lo int32, hi int32)
TEXT ·q8AddNEON(SB), NOSPLIT, $0-64
	MOVD dst+0(FP), R0
	MOVD a+8(FP), R1
	MOVD b+16(FP), R3
	MOVD n+24(FP), R2
	BCAST(sa+32(FP), V27)
	BCAST(sb+36(FP), V26)
	BCAST(s+40(FP), V31)
	BCAST(za+44(FP), V25)
	BCAST(zb+48(FP), V24)
	BCAST(zo+52(FP), V28)
	BCAST(lo+56(FP), V23)
	BCAST(hi+60(FP), V22)
	QCONSTS

addloop:
	CMP  $8, R2
	BLT  adddone
	VLD1.P 8(R1), [V0.B8]
	VLD1.P 8(R3), [V2.B8]
	WIDEN8(0, V0, 1, V1, V25)
	WIDEN8(2, V2, 3, V3, V24)
	FMUL4S(27, 0, 0)
	FMUL4S(27, 1, 1)
	FMUL4S(26, 2, 2)
	FMUL4S(26, 3, 3)
	FADD4S(2, 0, 0)
	FADD4S(3, 1, 1)
	REQUANT(0, V0, 2, V2)
	REQUANT(1, V1, 3, V3)
	SMAX4S(23, 0, 0)
	SMAX4S(23, 1, 1)
	SMIN4S(22, 0, 0)
	SMIN4S(22, 1, 1)
	NARROW8
	VST1.P [V0.B8], 8(R0)
	SUB  $8, R2
	B    addloop

adddone:
	RET

// func q8MaxNEON(dst *int8, a *int8, n int)
TEXT ·q8MaxNEON(SB), NOSPLIT, $0-24
	MOVD dst+0(FP), R0
	MOVD a+8(FP), R1
	MOVD n+16(FP), R2

maxloop:
	CMP  $16, R2
	BLT  maxdone
	VLD1.P 16(R1), [V0.B16]
	VLD1   (R0), [V1.B16]
	SMAX16B(1, 0, 0)
	VST1.P [V0.B16], 16(R0)
	SUB  $16, R2
	B    maxloop

maxdone:
	RET
