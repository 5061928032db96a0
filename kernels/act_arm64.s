//go:build !purego

// Activation and Add/Mul kernels for arm64 NEON, on whole vectors (the Go
// wrappers run tails through a 4-lane buffer or the Go loop). The float
// instructions the Go assembler lacks are WORDs from neon_arm64.h and the
// macros below, each with its mnemonic; the tier tests run them all under
// qemu-aarch64 on amd64 hosts.

#include "textflag.h"
#include "go_asm.h"
#include "neon_arm64.h"

// fmla vd.4s, vn.4s, vm.4s   (vd += vn·vm, one rounding)
#define FMLA4S(m, n, d) WORD $(0x4E20CC00 | ((m)<<16) | ((n)<<5) | (d))

// fmls vd.4s, vn.4s, vm.4s   (vd -= vn·vm, one rounding)
#define FMLS4S(m, n, d) WORD $(0x4EA0CC00 | ((m)<<16) | ((n)<<5) | (d))

// mov vd.16b, vn.16b   (orr vd.16b, vn.16b, vn.16b)
#define VMOVQ(n, d) WORD $(0x4EA01C00 | ((n)<<16) | ((n)<<5) | (d))

// sshr vd.4s, vn.4s, #1
#define SSHR1(n, d) WORD $(0x4F3F0400 | ((n)<<5) | (d))

// shl vd.4s, vn.4s, #23
#define SHL23(n, d) WORD $(0x4F375400 | ((n)<<5) | (d))

// add vd.4s, vn.4s, vm.4s   (integer)
#define IADD4S(m, n, d) WORD $(0x4EA08400 | ((m)<<16) | ((n)<<5) | (d))

// sub vd.4s, vn.4s, vm.4s   (integer, vd = vn - vm)
#define ISUB4S(m, n, d) WORD $(0x6EA08400 | ((m)<<16) | ((n)<<5) | (d))

// fcmlt vd.4s, vn.4s, #0.0   (all ones where vn < 0)
#define FCMLTZ(n, d) WORD $(0x4EA0E800 | ((n)<<5) | (d))

// bit vd.16b, vn.16b, vm.16b   (vd takes vn's bits where vm is set)
#define BIT16B(m, n, d) WORD $(0x6EA01C00 | ((m)<<16) | ((n)<<5) | (d))

// The constants come in the order actNEON loads them from ·actNEONConsts
// (consts_arm64.s, generated from kernels/_asm's table with the amd64
// kernels' constants); the exponential is actAVX2's (kernels_amd64.s), with
// the same fused steps in the same order, so the bits agree with the AVX2 and
// AVX-512 kernels.

// Registers: V16..V26 exp constants (clamps, log2e, ln2hi, ln2lo, c5..c0),
// V27 = 1, V28 = 0, V29/V30 the kind's parameters, V31 = 127.
// Data: V0 (first vector), V1 (second); temporaries V2..V5 and V6..V9.

// d = Vc + a·r, a Horner step of the polynomial.
#define HORNER(c, a, r, d) \
	VMOVQ(c, d); \
	FMLA4S(a, r, d)

// p = e^r; r is clobbered, n and q are temporaries.
#define EXPV(r, n, p, q) \
	FMAX4S(16, r, r); \
	FMIN4S(17, r, r); \
	FMUL4S(18, r, n); \
	FRINTN4S(n, n); \
	FMLS4S(19, n, r); \
	FMLS4S(20, n, r); \
	HORNER(22, 21, r, p); \
	HORNER(23, p, r, q); \
	HORNER(24, q, r, p); \
	HORNER(25, p, r, q); \
	HORNER(26, q, r, p); \
	HORNER(27, p, r, q); \
	HORNER(27, q, r, p); \
	FCVTZS4S(n, n); \
	SSHR1(n, r); \
	ISUB4S(r, n, n); \
	IADD4S(31, r, r); \
	SHL23(r, r); \
	FMUL4S(r, p, p); \
	IADD4S(31, n, n); \
	SHL23(n, n); \
	FMUL4S(n, p, p)

// 1/(1+e^-x)
#define SIGV(x, r, n, p, q) \
	FSUB4S(x, 28, r); \
	EXPV(r, n, p, q); \
	FADD4S(27, p, p); \
	FDIV4S(p, 27, x)

// x/(1+e^-x)
#define SILUV(x, r, n, p, q) \
	FSUB4S(x, 28, r); \
	EXPV(r, n, p, q); \
	FADD4S(27, p, p); \
	FDIV4S(p, x, x)

#define EXPXV(x, n, p, q) \
	EXPV(x, n, p, q); \
	VMOVQ(p, x)

// min(max(x, lo), hi) with V29 = lo, V30 = hi
#define CLAMPV(x) CLAMP4S(x, 29, 30)

// x < 0 ? alpha·x : x with V29 = alpha
#define LEAKYV(x, m, t) \
	FCMLTZ(x, m); \
	FMUL4S(29, x, t); \
	BIT16B(m, t, x)

// max(0, min(1, alpha·x + beta)), the product rounded first as in Go
#define HSIGV(x) \
	FMUL4S(29, x, x); \
	FADD4S(30, x, x); \
	FMIN4S(27, x, x); \
	FMAX4S(28, x, x)

// x·min(max(x+3, 0), 6)/6 with V29 = 3, V30 = 6
#define HSWISHV(x, t) \
	FADD4S(29, x, t); \
	FMAX4S(28, t, t); \
	FMIN4S(30, t, t); \
	FMUL4S(t, x, x); \
	FDIV4S(30, x, x)

#define SIG_2 SIGV(0, 2, 3, 4, 5); SIGV(1, 6, 7, 8, 9)
#define SIG_1 SIGV(0, 2, 3, 4, 5)
#define SILU_2 SILUV(0, 2, 3, 4, 5); SILUV(1, 6, 7, 8, 9)
#define SILU_1 SILUV(0, 2, 3, 4, 5)
#define EXPX_2 EXPXV(0, 3, 4, 5); EXPXV(1, 7, 8, 9)
#define EXPX_1 EXPXV(0, 3, 4, 5)
#define CLAMP_2 CLAMPV(0); CLAMPV(1)
#define CLAMP_1 CLAMPV(0)
#define LEAKY_2 LEAKYV(0, 2, 3); LEAKYV(1, 6, 7)
#define LEAKY_1 LEAKYV(0, 2, 3)
#define HSIG_2 HSIGV(0); HSIGV(1)
#define HSIG_1 HSIGV(0)
#define HSWISH_2 HSWISHV(0, 2); HSWISHV(1, 6)
#define HSWISH_1 HSWISHV(0, 2)

// Loop of one kind over R2 elements (a multiple of 4): OP2 on V0, V1 (8
// lanes), then OP1 on V0 for the last 4. R1 = src, R0 = dst.
#define LOOPV(OP2, OP1, L2, L1) \
L2: \
	CMP    $8, R2; \
	BLT    L1; \
	VLD1.P 32(R1), [V0.S4, V1.S4]; \
	OP2; \
	VST1.P [V0.S4, V1.S4], 32(R0); \
	SUB    $8, R2; \
	B      L2; \
L1: \
	CBZ    R2, doneneon; \
	VLD1.P 16(R1), [V0.S4]; \
	OP1; \
	VST1.P [V0.S4], 16(R0); \
	B      doneneon

// func actNEON(kind uint32, a, b float32, dst, src *float32, n int)
TEXT ·actNEON(SB), NOSPLIT, $0-40
	MOVWU kind+0(FP), R3
	FMOVS a+4(FP), F29
	VDUP  V29.S[0], V29.S4
	FMOVS b+8(FP), F30
	VDUP  V30.S[0], V30.S4
	MOVD  dst+16(FP), R0
	MOVD  src+24(FP), R1
	MOVD  n+32(FP), R2
	MOVD  $·actNEONConsts(SB), R4
	VLD1R.P 4(R4), [V16.S4]
	VLD1R.P 4(R4), [V17.S4]
	VLD1R.P 4(R4), [V18.S4]
	VLD1R.P 4(R4), [V19.S4]
	VLD1R.P 4(R4), [V20.S4]
	VLD1R.P 4(R4), [V21.S4]
	VLD1R.P 4(R4), [V22.S4]
	VLD1R.P 4(R4), [V23.S4]
	VLD1R.P 4(R4), [V24.S4]
	VLD1R.P 4(R4), [V25.S4]
	VLD1R.P 4(R4), [V26.S4]
	VLD1R.P 4(R4), [V27.S4]
	VLD1R.P 4(R4), [V31.S4]
	VEOR  V28.B16, V28.B16, V28.B16
	CMP   $const_ActClamp, R3
	BEQ   clampneon
	CMP   $const_ActLeakyRelu, R3
	BEQ   leakyneon
	CMP   $const_ActSigmoid, R3
	BEQ   signeon
	CMP   $const_ActHardSigmoid, R3
	BEQ   hsigneon
	CMP   $const_ActHardSwish, R3
	BEQ   hswishneon
	CMP   $const_ActSiLU, R3
	BEQ   siluneon
	CMP   $const_actExp, R3
	BEQ   expneon
	LOOPV(NOP, NOP, copyneon, copyneonone)

clampneon:
	LOOPV(CLAMP_2, CLAMP_1, clampneontwo, clampneonone)

leakyneon:
	LOOPV(LEAKY_2, LEAKY_1, leakyneontwo, leakyneonone)

signeon:
	LOOPV(SIG_2, SIG_1, sigineontwo, signeonone)

hsigneon:
	LOOPV(HSIG_2, HSIG_1, hsigneontwo, hsigneonone)

hswishneon:
	VLD1R.P 4(R4), [V29.S4]
	VLD1R.P 4(R4), [V30.S4]
	LOOPV(HSWISH_2, HSWISH_1, hswishneontwo, hswishneonone)

siluneon:
	LOOPV(SILU_2, SILU_1, siluneontwo, siluneonone)

expneon:
	LOOPV(EXPX_2, EXPX_1, expneontwo, expneonone)

doneneon:
	RET

// Loop of one elementwise OP(m, n, d) over R4 elements (a multiple of 4):
// 16 lanes a step (L4), then 4 (L1). R1 = a, R2 = b, R0 = dst.
#define BINLOOP(OP, L4, L1) \
L4: \
	CMP    $16, R4; \
	BLT    L1; \
	VLD1.P 64(R1), [V0.S4, V1.S4, V2.S4, V3.S4]; \
	VLD1.P 64(R2), [V4.S4, V5.S4, V6.S4, V7.S4]; \
	OP(4, 0, 0); \
	OP(5, 1, 1); \
	OP(6, 2, 2); \
	OP(7, 3, 3); \
	VST1.P [V0.S4, V1.S4, V2.S4, V3.S4], 64(R0); \
	SUB    $16, R4; \
	B      L4; \
L1: \
	CBZ    R4, binneondone; \
	VLD1.P 16(R1), [V0.S4]; \
	VLD1.P 16(R2), [V4.S4]; \
	OP(4, 0, 0); \
	VST1.P [V0.S4], 16(R0); \
	SUB    $4, R4; \
	B      L1

// func elemBinNEON(op uint32, dst, a, b *float32, n int)
// n a multiple of 4: 16 lanes a step, then 4. dst may be a or b.
TEXT ·elemBinNEON(SB), NOSPLIT, $0-40
	MOVWU op+0(FP), R3
	MOVD  dst+8(FP), R0
	MOVD  a+16(FP), R1
	MOVD  b+24(FP), R2
	MOVD  n+32(FP), R4
	CMP   $const_elemAdd, R3
	BNE   mulneon

	BINLOOP(FADD4S, addneon4, addneon1)

	BINLOOP(FMUL4S, mulneon, mulneon1)

binneondone:
	RET
