//go:build !purego

// Activation kernels for AVX-512 and AVX2+FMA: one loop per activation kind,
// each a step of two vectors, then one, then the tail (a mask on AVX-512;
// the Go wrapper feeds AVX2 whole vectors only). Input x is in Z0/Y0 (and
// Z4/Y4 for the second vector), result written back there.

#include "textflag.h"

// The vector exponential, identical on every tier:
//   t = clamp(x, -104, 89)               (NaN stays NaN)
//   n = round(t·log2e)                   (nearest, ties to even)
//   r = t - n·ln2hi - n·ln2lo            (Cody–Waite, both fused)
//   p = 1 + r·(1 + r·(c0 + r·(c1 + r·(c2 + r·(c3 + r·(c4 + r·c5))))))
//   e = p·2^n                            (one rounding, to subnormal or ±Inf)
// p is the Cephes expf polynomial. The clamp keeps n in [-150, 129], so
// e^x for x ≥ 88.73 is +Inf and for x ≤ -103.98 it is +0, as in float32.
// Every constant is stored eight times (32 bytes) so AVX2 can use it as a
// memory operand; AVX-512 broadcasts the first copy.
#define C8(i, v) \
	DATA actc<>+(32*i)(SB)/4, v; \
	DATA actc<>+(32*i+4)(SB)/4, v; \
	DATA actc<>+(32*i+8)(SB)/4, v; \
	DATA actc<>+(32*i+12)(SB)/4, v; \
	DATA actc<>+(32*i+16)(SB)/4, v; \
	DATA actc<>+(32*i+20)(SB)/4, v; \
	DATA actc<>+(32*i+24)(SB)/4, v; \
	DATA actc<>+(32*i+28)(SB)/4, v

C8(0, $0xc2d00000)  // -104: lower clamp of the exponent argument
C8(1, $0x42b20000)  // 89: upper clamp
C8(2, $0x3fb8aa3b)  // log2(e)
C8(3, $0x3f318000)  // ln2hi = 0.693359375
C8(4, $0xb95e8083)  // ln2lo = -2.12194440e-4
C8(5, $0x39506967)  // c5 = 1.9875691500e-4
C8(6, $0x3ab743ce)  // c4 = 1.3981999507e-3
C8(7, $0x3c088908)  // c3 = 8.3334519073e-3
C8(8, $0x3d2aa9c1)  // c2 = 4.1665795894e-2
C8(9, $0x3e2aaaaa)  // c1 = 1.6666665459e-1
C8(10, $0x3f000000) // c0 = 0.5
C8(11, $0x3f800000) // 1
C8(12, $0x0000007f) // 127, the float32 exponent bias
C8(13, $0x40400000) // 3
C8(14, $0x40c00000) // 6
GLOBL actc<>(SB), RODATA|NOPTR, $480

#define CK(i) actc<>+(32*i)(SB)
#define K_XMIN 0
#define K_XMAX 1
#define K_LOG2E 2
#define K_LN2HI 3
#define K_LN2LO 4
#define K_C5 5
#define K_C4 6
#define K_C3 7
#define K_C2 8
#define K_C1 9
#define K_C0 10
#define K_ONE 11
#define K_BIAS 12
#define K_THREE 13
#define K_SIX 14

// ---------------------------------------------------------------------------
// AVX-512. Z16..Z26: exp constants (clamps, log2e, ln2hi, ln2lo, c5..c0),
// Z27 = 1, Z28 = 0, Z29/Z30: the kind's parameters. K1: tail mask.
// Max/min take the data as their first Go operand (Intel's second source),
// which is the one returned when either is NaN: NaN inputs stay NaN.

#define EXPCONST512 \
	VBROADCASTSS CK(K_XMIN), Z16; \
	VBROADCASTSS CK(K_XMAX), Z17; \
	VBROADCASTSS CK(K_LOG2E), Z18; \
	VBROADCASTSS CK(K_LN2HI), Z19; \
	VBROADCASTSS CK(K_LN2LO), Z20; \
	VBROADCASTSS CK(K_C5), Z21; \
	VBROADCASTSS CK(K_C4), Z22; \
	VBROADCASTSS CK(K_C3), Z23; \
	VBROADCASTSS CK(K_C2), Z24; \
	VBROADCASTSS CK(K_C1), Z25; \
	VBROADCASTSS CK(K_C0), Z26

// p = e^x; x is clobbered (it ends as r), n holds round(x·log2e).
#define EXP512(x, n, p) \
	VMAXPS x, Z16, x; \
	VMINPS x, Z17, x; \
	VMULPS Z18, x, n; \
	VRNDSCALEPS $0, n, n; \
	VFNMADD231PS Z19, n, x; \
	VFNMADD231PS Z20, n, x; \
	VMOVAPS Z21, p; \
	VFMADD213PS Z22, x, p; \
	VFMADD213PS Z23, x, p; \
	VFMADD213PS Z24, x, p; \
	VFMADD213PS Z25, x, p; \
	VFMADD213PS Z26, x, p; \
	VFMADD213PS Z27, x, p; \
	VFMADD213PS Z27, x, p; \
	VSCALEFPS n, p, p

// 1/(1+e^-x)
#define SIG512(x, t, n, p) \
	VSUBPS x, Z28, t; \
	EXP512(t, n, p); \
	VADDPS Z27, p, p; \
	VDIVPS p, Z27, x

// x/(1+e^-x)
#define SILU512(x, t, n, p) \
	VSUBPS x, Z28, t; \
	EXP512(t, n, p); \
	VADDPS Z27, p, p; \
	VDIVPS p, x, x

#define EXPX512(x, n, p) \
	EXP512(x, n, p); \
	VMOVAPS p, x

// min(max(x, lo), hi) with Z29 = lo, Z30 = hi
#define CLAMP512(x) \
	VMAXPS x, Z29, x; \
	VMINPS x, Z30, x

// x < 0 ? alpha·x : x with Z29 = alpha
#define LEAKY512(x, k) \
	VCMPPS $1, Z28, x, k; \
	VMULPS Z29, x, k, x

// max(0, min(1, alpha·x + beta)), rounded after the product as the Go loop
#define HSIG512(x) \
	VMULPS Z29, x, x; \
	VADDPS Z30, x, x; \
	VMINPS x, Z27, x; \
	VMAXPS x, Z28, x

// x·min(max(x+3, 0), 6)/6 with Z29 = 3, Z30 = 6
#define HSWISH512(x, t) \
	VADDPS Z29, x, t; \
	VMAXPS t, Z28, t; \
	VMINPS t, Z30, t; \
	VMULPS t, x, x; \
	VDIVPS Z30, x, x

#define SIG512_2 SIG512(Z0, Z1, Z2, Z3); SIG512(Z4, Z5, Z6, Z7)
#define SIG512_1 SIG512(Z0, Z1, Z2, Z3)
#define SILU512_2 SILU512(Z0, Z1, Z2, Z3); SILU512(Z4, Z5, Z6, Z7)
#define SILU512_1 SILU512(Z0, Z1, Z2, Z3)
#define EXPX512_2 EXPX512(Z0, Z2, Z3); EXPX512(Z4, Z6, Z7)
#define EXPX512_1 EXPX512(Z0, Z2, Z3)
#define CLAMP512_2 CLAMP512(Z0); CLAMP512(Z4)
#define CLAMP512_1 CLAMP512(Z0)
#define LEAKY512_2 LEAKY512(Z0, K2); LEAKY512(Z4, K3)
#define LEAKY512_1 LEAKY512(Z0, K2)
#define HSIG512_2 HSIG512(Z0); HSIG512(Z4)
#define HSIG512_1 HSIG512(Z0)
#define HSWISH512_2 HSWISH512(Z0, Z1); HSWISH512(Z4, Z5)
#define HSWISH512_1 HSWISH512(Z0, Z1)

// Loop of one kind: OP2 on Z0 and Z4 (32 lanes), OP1 on Z0 (16 lanes), then
// OP1 on the n%16 tail under mask K1. SI = src, DI = dst, CX = n.
#define LOOP512(OP2, OP1, L2, L1, LT) \
L2: \
	CMPQ    CX, $32; \
	JLT     L1; \
	VMOVUPS (SI), Z0; \
	VMOVUPS 64(SI), Z4; \
	OP2; \
	VMOVUPS Z0, (DI); \
	VMOVUPS Z4, 64(DI); \
	ADDQ    $128, SI; \
	ADDQ    $128, DI; \
	SUBQ    $32, CX; \
	JMP     L2; \
L1: \
	CMPQ    CX, $16; \
	JLT     LT; \
	VMOVUPS (SI), Z0; \
	OP1; \
	VMOVUPS Z0, (DI); \
	ADDQ    $64, SI; \
	ADDQ    $64, DI; \
	SUBQ    $16, CX; \
LT: \
	TESTQ   CX, CX; \
	JEQ     done512; \
	MOVL    $1, AX; \
	SHLL    CX, AX; \
	DECL    AX; \
	KMOVW   AX, K1; \
	VMOVUPS.Z (SI), K1, Z0; \
	OP1; \
	VMOVUPS Z0, K1, (DI); \
	JMP     done512

// func actAVX512(kind uint32, a, b float32, dst, src *float32, n int)
TEXT ·actAVX512(SB), NOSPLIT, $0-40
	MOVL kind+0(FP), AX
	MOVQ dst+16(FP), DI
	MOVQ src+24(FP), SI
	MOVQ n+32(FP), CX
	VPXORD Z28, Z28, Z28
	VBROADCASTSS CK(K_ONE), Z27
	VBROADCASTSS a+4(FP), Z29
	VBROADCASTSS b+8(FP), Z30
	CMPL AX, $1
	JEQ  clamp512
	CMPL AX, $2
	JEQ  leaky512
	CMPL AX, $4
	JEQ  hsig512
	CMPL AX, $5
	JEQ  hswish512
	EXPCONST512
	CMPL AX, $3
	JEQ  sig512
	CMPL AX, $6
	JEQ  silu512
	CMPL AX, $7
	JEQ  exp512
	LOOP512(NOP, NOP, copy512, copy512one, copy512tail)

clamp512:
	LOOP512(CLAMP512_2, CLAMP512_1, clamp512two, clamp512one, clamp512tail)

leaky512:
	LOOP512(LEAKY512_2, LEAKY512_1, leaky512two, leaky512one, leaky512tail)

hsig512:
	LOOP512(HSIG512_2, HSIG512_1, hsig512two, hsig512one, hsig512tail)

hswish512:
	VBROADCASTSS CK(K_THREE), Z29
	VBROADCASTSS CK(K_SIX), Z30
	LOOP512(HSWISH512_2, HSWISH512_1, hswish512two, hswish512one, hswish512tail)

sig512:
	LOOP512(SIG512_2, SIG512_1, sig512two, sig512one, sig512tail)

silu512:
	LOOP512(SILU512_2, SILU512_1, silu512two, silu512one, silu512tail)

exp512:
	LOOP512(EXPX512_2, EXPX512_1, exp512two, exp512one, exp512tail)

done512:
	VZEROUPPER
	RET

// ---------------------------------------------------------------------------
// AVX2 + FMA. Y8 = 0, Y9 = 1, Y10/Y11: exp clamps, Y12/Y13: the kind's
// parameters; the other constants are memory operands. n is a multiple of 8.

// p = e^x; x is clobbered, n holds round(x·log2e) then the second half of
// the exponent. 2^n is applied as 2^(n>>1)·2^(n-(n>>1)), both factors
// normal, so the product rounds once: the same bits as vscalefps.
#define EXP256(x, n, p) \
	VMAXPS       x, Y10, x; \
	VMINPS       x, Y11, x; \
	VMULPS       CK(K_LOG2E), x, n; \
	VROUNDPS     $0, n, n; \
	VFNMADD231PS CK(K_LN2HI), n, x; \
	VFNMADD231PS CK(K_LN2LO), n, x; \
	VMOVUPS      CK(K_C5), p; \
	VFMADD213PS  CK(K_C4), x, p; \
	VFMADD213PS  CK(K_C3), x, p; \
	VFMADD213PS  CK(K_C2), x, p; \
	VFMADD213PS  CK(K_C1), x, p; \
	VFMADD213PS  CK(K_C0), x, p; \
	VFMADD213PS  Y9, x, p; \
	VFMADD213PS  Y9, x, p; \
	VCVTPS2DQ    n, n; \
	VPSRAD       $1, n, x; \
	VPSUBD       x, n, n; \
	VPADDD       CK(K_BIAS), x, x; \
	VPSLLD       $23, x, x; \
	VMULPS       x, p, p; \
	VPADDD       CK(K_BIAS), n, n; \
	VPSLLD       $23, n, n; \
	VMULPS       n, p, p

#define SIG256(x, t, n, p) \
	VSUBPS x, Y8, t; \
	EXP256(t, n, p); \
	VADDPS Y9, p, p; \
	VDIVPS p, Y9, x

#define SILU256(x, t, n, p) \
	VSUBPS x, Y8, t; \
	EXP256(t, n, p); \
	VADDPS Y9, p, p; \
	VDIVPS p, x, x

#define EXPX256(x, n, p) \
	EXP256(x, n, p); \
	VMOVAPS p, x

#define CLAMP256(x) \
	VMAXPS x, Y12, x; \
	VMINPS x, Y13, x

#define LEAKY256(x, t, m) \
	VMULPS    Y12, x, t; \
	VCMPPS    $1, Y8, x, m; \
	VBLENDVPS m, t, x, x

#define HSIG256(x) \
	VMULPS Y12, x, x; \
	VADDPS Y13, x, x; \
	VMINPS x, Y9, x; \
	VMAXPS x, Y8, x

#define HSWISH256(x, t) \
	VADDPS Y12, x, t; \
	VMAXPS t, Y8, t; \
	VMINPS t, Y13, t; \
	VMULPS t, x, x; \
	VDIVPS Y13, x, x

#define SIG256_2 SIG256(Y0, Y1, Y2, Y3); SIG256(Y4, Y5, Y6, Y7)
#define SIG256_1 SIG256(Y0, Y1, Y2, Y3)
#define SILU256_2 SILU256(Y0, Y1, Y2, Y3); SILU256(Y4, Y5, Y6, Y7)
#define SILU256_1 SILU256(Y0, Y1, Y2, Y3)
#define EXPX256_2 EXPX256(Y0, Y2, Y3); EXPX256(Y4, Y6, Y7)
#define EXPX256_1 EXPX256(Y0, Y2, Y3)
#define CLAMP256_2 CLAMP256(Y0); CLAMP256(Y4)
#define CLAMP256_1 CLAMP256(Y0)
#define LEAKY256_2 LEAKY256(Y0, Y1, Y2); LEAKY256(Y4, Y5, Y6)
#define LEAKY256_1 LEAKY256(Y0, Y1, Y2)
#define HSIG256_2 HSIG256(Y0); HSIG256(Y4)
#define HSIG256_1 HSIG256(Y0)
#define HSWISH256_2 HSWISH256(Y0, Y1); HSWISH256(Y4, Y5)
#define HSWISH256_1 HSWISH256(Y0, Y1)

#define LOOP256(OP2, OP1, L2, L1) \
L2: \
	CMPQ    CX, $16; \
	JLT     L1; \
	VMOVUPS (SI), Y0; \
	VMOVUPS 32(SI), Y4; \
	OP2; \
	VMOVUPS Y0, (DI); \
	VMOVUPS Y4, 32(DI); \
	ADDQ    $64, SI; \
	ADDQ    $64, DI; \
	SUBQ    $16, CX; \
	JMP     L2; \
L1: \
	CMPQ    CX, $8; \
	JLT     done256; \
	VMOVUPS (SI), Y0; \
	OP1; \
	VMOVUPS Y0, (DI); \
	JMP     done256

// func actAVX2(kind uint32, a, b float32, dst, src *float32, n int)
TEXT ·actAVX2(SB), NOSPLIT, $0-40
	MOVL kind+0(FP), AX
	MOVQ dst+16(FP), DI
	MOVQ src+24(FP), SI
	MOVQ n+32(FP), CX
	VXORPS Y8, Y8, Y8
	VBROADCASTSS CK(K_ONE), Y9
	VBROADCASTSS CK(K_XMIN), Y10
	VBROADCASTSS CK(K_XMAX), Y11
	VBROADCASTSS a+4(FP), Y12
	VBROADCASTSS b+8(FP), Y13
	CMPL AX, $1
	JEQ  clamp256
	CMPL AX, $2
	JEQ  leaky256
	CMPL AX, $3
	JEQ  sig256
	CMPL AX, $4
	JEQ  hsig256
	CMPL AX, $5
	JEQ  hswish256
	CMPL AX, $6
	JEQ  silu256
	CMPL AX, $7
	JEQ  exp256
	LOOP256(NOP, NOP, copy256, copy256one)

clamp256:
	LOOP256(CLAMP256_2, CLAMP256_1, clamp256two, clamp256one)

leaky256:
	LOOP256(LEAKY256_2, LEAKY256_1, leaky256two, leaky256one)

sig256:
	LOOP256(SIG256_2, SIG256_1, sig256two, sig256one)

hsig256:
	LOOP256(HSIG256_2, HSIG256_1, hsig256two, hsig256one)

hswish256:
	VBROADCASTSS CK(K_THREE), Y12
	VBROADCASTSS CK(K_SIX), Y13
	LOOP256(HSWISH256_2, HSWISH256_1, hswish256two, hswish256one)

silu256:
	LOOP256(SILU256_2, SILU256_1, silu256two, silu256one)

exp256:
	LOOP256(EXPX256_2, EXPX256_1, exp256two, exp256one)

done256:
	VZEROUPPER
	RET
