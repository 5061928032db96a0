//go:build !purego

// Hand-written arm64 NEON kernels. The Go assembler has the vector FMLA but
// not its by-element form, nor the vector FADD/FMUL/FDIV/FMAX/FMIN/FNEG/
// FRINTN/FCVTZS and FADDP/SMULL/SADALP these kernels need;
// those are emitted as WORDs by the macros in neon_arm64.h, each with its
// mnemonic, and proven by the tier tests under qemu-aarch64.

#include "textflag.h"
#include "neon_arm64.h"

// One k step of the 8×12 tile: V24 = a[0:4], V25 = a[4:8],
// V26..V28 = b[0:12]; row i accumulates in V(3i), V(3i+1), V(3i+2).
#define ROW(i, av, idx) \
	FMLAE(3*i, 26, av, idx); \
	FMLAE(3*i+1, 27, av, idx); \
	FMLAE(3*i+2, 28, av, idx)

#define KSTEP \
	VLD1.P 32(R0), [V24.S4, V25.S4]; \
	VLD1.P 48(R1), [V26.S4, V27.S4, V28.S4]; \
	ROW(0, 24, 0); \
	ROW(1, 24, 1); \
	ROW(2, 24, 2); \
	ROW(3, 24, 3); \
	ROW(4, 25, 0); \
	ROW(5, 25, 1); \
	ROW(6, 25, 2); \
	ROW(7, 25, 3)

// Constants of the SiLU epilogue in the order SILUV loads them.
// exp(t) = 2^n · P(r), n = round(t·log2e), r = t - n·ln2 (Cody–Waite), P the
// Cephes expf polynomial; -x is clamped to [-87.33, 88.75] so 2^n, built in
// the exponent field, stays normal at the bottom and is +Inf at n = 128.
DATA siluconst<>+0(SB)/4, $0xc2aea8f6  // -87.33
DATA siluconst<>+4(SB)/4, $0x42b18000  // 88.75
DATA siluconst<>+8(SB)/4, $0x3fb8aa3b  // log2(e)
DATA siluconst<>+12(SB)/4, $0x3f318000 // ln2hi = 0.693359375
DATA siluconst<>+16(SB)/4, $0xb95e8083 // ln2lo = -2.12194440e-4
DATA siluconst<>+20(SB)/4, $0x39506967 // c5 = 1.9875691500e-4
DATA siluconst<>+24(SB)/4, $0x3ab743ce // c4 = 1.3981999507e-3
DATA siluconst<>+28(SB)/4, $0x3c088908 // c3 = 8.3334519073e-3
DATA siluconst<>+32(SB)/4, $0x3d2aa9c1 // c2 = 4.1665795894e-2
DATA siluconst<>+36(SB)/4, $0x3e2aaaaa // c1 = 1.6666665459e-1
DATA siluconst<>+40(SB)/4, $0x3f000000 // c0 = 5.0000001201e-1
DATA siluconst<>+44(SB)/4, $0x3f800000 // 1
DATA siluconst<>+48(SB)/4, $0x3f800000 // 1
DATA siluconst<>+52(SB)/4, $0x0000007f // 127, the float32 exponent bias
DATA siluconst<>+56(SB)/4, $0x3f800000 // 1
GLOBL siluconst<>(SB), RODATA|NOPTR, $60

// 3 and 6 of the hard-swish epilogue.
DATA hswishconst<>+0(SB)/4, $0x40400000
DATA hswishconst<>+4(SB)/4, $0x40c00000
GLOBL hswishconst<>(SB), RODATA|NOPTR, $8

// Adds V29..V31 (bias) to row i's accumulators.
#define BIASROW(i) \
	FADD4S(29, 3*i, 3*i); \
	FADD4S(30, 3*i+1, 3*i+1); \
	FADD4S(31, 3*i+2, 3*i+2)

// Adds row i of C to its accumulators unless i ≥ mr; R10 walks the rows.
#define ACCROW(i) \
	CMP  $i, R5; \
	BLE  accdone; \
	VLD1 (R10), [V24.S4, V25.S4, V26.S4]; \
	ADD  R4, R10; \
	FADD4S(24, 3*i, 3*i); \
	FADD4S(25, 3*i+1, 3*i+1); \
	FADD4S(26, 3*i+2, 3*i+2)

// V29 = lo, V30 = hi.
#define CLAMPV(d) \
	FMAX4S(29, d, d); \
	FMIN4S(30, d, d)

// V29 = 3, V30 = 0, V31 = 6.
#define HSWISHV(d) \
	FADD4S(29, d, 24); \
	FMAX4S(30, 24, 24); \
	FMIN4S(31, 24, 24); \
	FMUL4S(24, d, d); \
	FDIV4S(31, d, d)

// x/(1+exp(-x)); t in V24, n in V25, P alternating V26/V27, constants
// streamed through V28 from siluconst.
#define SILUV(d) \
	MOVD $siluconst<>(SB), R8; \
	FNEG4S(d, 24); \
	VLD1R.P 4(R8), [V28.S4]; \
	FMAX4S(28, 24, 24); \
	VLD1R.P 4(R8), [V28.S4]; \
	FMIN4S(28, 24, 24); \
	VLD1R.P 4(R8), [V28.S4]; \
	FMUL4S(28, 24, 25); \
	FRINTN4S(25, 25); \
	VLD1R.P 4(R8), [V28.S4]; \
	VFMLS V28.S4, V25.S4, V24.S4; \
	VLD1R.P 4(R8), [V28.S4]; \
	VFMLS V28.S4, V25.S4, V24.S4; \
	VLD1R.P 4(R8), [V26.S4]; \
	VLD1R.P 4(R8), [V27.S4]; \
	VFMLA V26.S4, V24.S4, V27.S4; \
	VLD1R.P 4(R8), [V26.S4]; \
	VFMLA V27.S4, V24.S4, V26.S4; \
	VLD1R.P 4(R8), [V27.S4]; \
	VFMLA V26.S4, V24.S4, V27.S4; \
	VLD1R.P 4(R8), [V26.S4]; \
	VFMLA V27.S4, V24.S4, V26.S4; \
	VLD1R.P 4(R8), [V27.S4]; \
	VFMLA V26.S4, V24.S4, V27.S4; \
	VLD1R.P 4(R8), [V26.S4]; \
	VFMLA V27.S4, V24.S4, V26.S4; \
	VLD1R.P 4(R8), [V27.S4]; \
	VFMLA V26.S4, V24.S4, V27.S4; \
	FCVTZS4S(25, 25); \
	VLD1R.P 4(R8), [V28.S4]; \
	VADD V28.S4, V25.S4, V25.S4; \
	VSHL $23, V25.S4, V25.S4; \
	FMUL4S(25, 27, 27); \
	VLD1R.P 4(R8), [V28.S4]; \
	FADD4S(28, 27, 27); \
	FDIV4S(27, d, d)

#define HEAD(i) \
	CMP  $i, R5; \
	BLE  done

#define STORE(v0, v1, v2) \
	VST1 [v0.S4, v1.S4, v2.S4], (R2); \
	ADD  R4, R2

#define ROWS(E0, E1, E2, E3, E4, E5, E6, E7) \
	HEAD(0); E0; STORE(V0, V1, V2); \
	HEAD(1); E1; STORE(V3, V4, V5); \
	HEAD(2); E2; STORE(V6, V7, V8); \
	HEAD(3); E3; STORE(V9, V10, V11); \
	HEAD(4); E4; STORE(V12, V13, V14); \
	HEAD(5); E5; STORE(V15, V16, V17); \
	HEAD(6); E6; STORE(V18, V19, V20); \
	HEAD(7); E7; STORE(V21, V22, V23)

#define CLAMPR(i) CLAMPV(3*i); CLAMPV(3*i+1); CLAMPV(3*i+2)
#define HSWISHR(i) HSWISHV(3*i); HSWISHV(3*i+1); HSWISHV(3*i+2)
#define SILUR(i) SILUV(3*i); SILUV(3*i+1); SILUV(3*i+2)

// func gemm8x12NEON(k int, a, b, c *float32, ldc, mr int, bias *float32, epi uint32, accumulate int, lo, hi float32)
TEXT ·gemm8x12NEON(SB), NOSPLIT, $0-80
	MOVD k+0(FP), R3
	MOVD a+8(FP), R0
	MOVD b+16(FP), R1
	MOVD c+24(FP), R2
	MOVD ldc+32(FP), R4
	LSL  $2, R4
	MOVD mr+40(FP), R5
	VEOR V0.B16, V0.B16, V0.B16
	VEOR V1.B16, V1.B16, V1.B16
	VEOR V2.B16, V2.B16, V2.B16
	VEOR V3.B16, V3.B16, V3.B16
	VEOR V4.B16, V4.B16, V4.B16
	VEOR V5.B16, V5.B16, V5.B16
	VEOR V6.B16, V6.B16, V6.B16
	VEOR V7.B16, V7.B16, V7.B16
	VEOR V8.B16, V8.B16, V8.B16
	VEOR V9.B16, V9.B16, V9.B16
	VEOR V10.B16, V10.B16, V10.B16
	VEOR V11.B16, V11.B16, V11.B16
	VEOR V12.B16, V12.B16, V12.B16
	VEOR V13.B16, V13.B16, V13.B16
	VEOR V14.B16, V14.B16, V14.B16
	VEOR V15.B16, V15.B16, V15.B16
	VEOR V16.B16, V16.B16, V16.B16
	VEOR V17.B16, V17.B16, V17.B16
	VEOR V18.B16, V18.B16, V18.B16
	VEOR V19.B16, V19.B16, V19.B16
	VEOR V20.B16, V20.B16, V20.B16
	VEOR V21.B16, V21.B16, V21.B16
	VEOR V22.B16, V22.B16, V22.B16
	VEOR V23.B16, V23.B16, V23.B16
	CMP  $2, R3
	BLT  tail

loop2:
	KSTEP
	KSTEP
	SUB  $2, R3
	CMP  $2, R3
	BGE  loop2

tail:
	CBZ  R3, kdone
	KSTEP

kdone:
	MOVD accumulate+64(FP), R9
	CBZ  R9, bias
	MOVD R2, R10
	ACCROW(0)
	ACCROW(1)
	ACCROW(2)
	ACCROW(3)
	ACCROW(4)
	ACCROW(5)
	ACCROW(6)
	ACCROW(7)
	B    accdone

bias:
	MOVD bias+48(FP), R6
	CBZ  R6, accdone
	VLD1 (R6), [V29.S4, V30.S4, V31.S4]
	BIASROW(0)
	BIASROW(1)
	BIASROW(2)
	BIASROW(3)
	BIASROW(4)
	BIASROW(5)
	BIASROW(6)
	BIASROW(7)

accdone:
	MOVWU epi+56(FP), R7
	CMP  $1, R7
	BEQ  clamp
	CMP  $2, R7
	BEQ  hswish
	CMP  $3, R7
	BEQ  silu
	ROWS(NOP, NOP, NOP, NOP, NOP, NOP, NOP, NOP)
	B    done

clamp:
	MOVD $lo+72(FP), R8
	VLD1R (R8), [V29.S4]
	MOVD $hi+76(FP), R8
	VLD1R (R8), [V30.S4]
	ROWS(CLAMPR(0), CLAMPR(1), CLAMPR(2), CLAMPR(3), CLAMPR(4), CLAMPR(5), CLAMPR(6), CLAMPR(7))
	B    done

hswish:
	MOVD $hswishconst<>(SB), R8
	VLD1R.P 4(R8), [V29.S4]
	VLD1R (R8), [V31.S4]
	VEOR V30.B16, V30.B16, V30.B16
	ROWS(HSWISHR(0), HSWISHR(1), HSWISHR(2), HSWISHR(3), HSWISHR(4), HSWISHR(5), HSWISHR(6), HSWISHR(7))
	B    done

silu:
	ROWS(SILUR(0), SILUR(1), SILUR(2), SILUR(3), SILUR(4), SILUR(5), SILUR(6), SILUR(7))

done:
	RET

// func fmaPeakNEON(n int)
TEXT ·fmaPeakNEON(SB), NOSPLIT, $0-8
	MOVD n+0(FP), R0
	VEOR V0.B16, V0.B16, V0.B16
	VEOR V1.B16, V1.B16, V1.B16
	VEOR V2.B16, V2.B16, V2.B16
	VEOR V3.B16, V3.B16, V3.B16
	VEOR V4.B16, V4.B16, V4.B16
	VEOR V5.B16, V5.B16, V5.B16
	VEOR V6.B16, V6.B16, V6.B16
	VEOR V7.B16, V7.B16, V7.B16
	VEOR V8.B16, V8.B16, V8.B16
	VEOR V9.B16, V9.B16, V9.B16
	VEOR V10.B16, V10.B16, V10.B16
	VEOR V11.B16, V11.B16, V11.B16
	VEOR V12.B16, V12.B16, V12.B16
	VEOR V13.B16, V13.B16, V13.B16
	CBZ  R0, pdone

ploop:
	VFMLA V12.S4, V13.S4, V0.S4
	VFMLA V12.S4, V13.S4, V1.S4
	VFMLA V12.S4, V13.S4, V2.S4
	VFMLA V12.S4, V13.S4, V3.S4
	VFMLA V12.S4, V13.S4, V4.S4
	VFMLA V12.S4, V13.S4, V5.S4
	VFMLA V12.S4, V13.S4, V6.S4
	VFMLA V12.S4, V13.S4, V7.S4
	VFMLA V12.S4, V13.S4, V8.S4
	VFMLA V12.S4, V13.S4, V9.S4
	VFMLA V12.S4, V13.S4, V10.S4
	VFMLA V12.S4, V13.S4, V11.S4
	VFMLA V12.S4, V13.S4, V0.S4
	VFMLA V12.S4, V13.S4, V1.S4
	VFMLA V12.S4, V13.S4, V2.S4
	VFMLA V12.S4, V13.S4, V3.S4
	VFMLA V12.S4, V13.S4, V4.S4
	VFMLA V12.S4, V13.S4, V5.S4
	VFMLA V12.S4, V13.S4, V6.S4
	VFMLA V12.S4, V13.S4, V7.S4
	VFMLA V12.S4, V13.S4, V8.S4
	VFMLA V12.S4, V13.S4, V9.S4
	VFMLA V12.S4, V13.S4, V10.S4
	VFMLA V12.S4, V13.S4, V11.S4
	SUB  $1, R0
	CBNZ R0, ploop

pdone:
	RET
