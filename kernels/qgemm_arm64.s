//go:build !purego

// Hand-written arm64 int8 GEMM microkernels (declared, with the loops they
// compute, in qgemm_arm64.go):
//
//   - qs8-gemm-8x12c4-neondot: SDOT by element (FEAT_DotProd), four
//     int8 products of a k quad added into each int32 lane;
//   - qs8-gemm-8x8-neonmull: for CPUs without it, SMLAL/SMLAL2 by element
//     on int16 values widened at pack time (exact: int16 × int16 products
//     accumulate in int32 with nothing saturating).
//
// The Go assembler has none of SDOT, SMLAL by element, SCVTF, FCVTNS or
// SQXTN; they are the WORD macros below, each with the instruction it
// encodes (checked against llvm-mc), proven by the kernel tests under
// qemu-aarch64 (QEMU_CPU=max runs the sdot kernel, a CPU without dotprod
// the other). The requantization is QOut.Requantize, instruction for
// instruction: scvtf, fmul by the column's scale, fmax/fmin against the
// bounds, fcvtns (round to nearest, ties to even), add the zero point, and
// narrow with signed saturation (never saturating: the value is already
// within [-128, 127]).

#include "textflag.h"
#include "neon_arm64.h"

// sdot vd.4s, vn.16b, vm.4b[i]
#define SDOTE(d, n, m, i) WORD $(0x4F80E000 | (((i)&1)<<21) | ((m)<<16) | (((i)>>1)<<11) | ((n)<<5) | (d))

// smlal vd.4s, vn.4h, vm.h[i]   (m < 16)
#define SMLALE(d, n, m, i) WORD $(0x0F402000 | ((((i)>>1)&1)<<21) | (((i)&1)<<20) | ((m)<<16) | ((((i)>>2)&1)<<11) | ((n)<<5) | (d))

// smlal2 vd.4s, vn.8h, vm.h[i]   (m < 16)
#define SMLAL2E(d, n, m, i) WORD $(0x4F402000 | ((((i)>>1)&1)<<21) | (((i)&1)<<20) | ((m)<<16) | ((((i)>>2)&1)<<11) | ((n)<<5) | (d))

// scvtf vd.4s, vn.4s   (int32 → float32, FPCR rounding: to nearest even)
#define SCVTF4S(n, d) WORD $(0x4E21D800 | ((n)<<5) | (d))

// fcvtns vd.4s, vn.4s   (float32 → int32, to nearest, ties to even)
#define FCVTNS4S(n, d) WORD $(0x4E21A800 | ((n)<<5) | (d))

// sqxtn vd.4h, vn.4s
#define SQXTN4H(n, d) WORD $(0x0E614800 | ((n)<<5) | (d))

// sqxtn2 vd.8h, vn.4s
#define SQXTN28H(n, d) WORD $(0x4E614800 | ((n)<<5) | (d))

// sqxtn vd.8b, vn.8h
#define SQXTN8B(n, d) WORD $(0x0E214800 | ((n)<<5) | (d))

// sqxtn2 vd.16b, vn.8h
#define SQXTN216B(n, d) WORD $(0x4E214800 | ((n)<<5) | (d))

// add vd.4s, vn.4s, vm.4s
#define ADD4S(m, n, d) WORD $(0x4EA08400 | ((m)<<16) | ((n)<<5) | (d))

// Requantizes accumulator x (int32 → int8 value in int32 lanes) with the
// scale in sv, bounds in lo/hi, zero point in zp (register numbers).
#define QREQ(x, sv, lo, hi, zp) \
	SCVTF4S(x, x); \
	FMUL4S(sv, x, x); \
	FMAX4S(lo, x, x); \
	FMIN4S(hi, x, x); \
	FCVTNS4S(x, x); \
	ADD4S(zp, x, x)

#define HEAD(i) \
	CMP  $i, R5; \
	BLE  done

// The arguments both kernels load first.
#define ARGS \
	MOVD kg+0(FP), R3; \
	MOVD a+8(FP), R0; \
	MOVD b+16(FP), R1; \
	MOVD c+24(FP), R2; \
	MOVD ldc+32(FP), R4; \
	MOVD mr+40(FP), R5; \
	MOVD bias+48(FP), R6

// Broadcasts the bounds and the zero point into Vl, Vh, Vz.
#define BOUNDS(l, h, z) \
	MOVD $lo+68(FP), R8; \
	VLD1R (R8), [l.S4]; \
	MOVD $hi+72(FP), R8; \
	VLD1R (R8), [h.S4]; \
	MOVD $zp+64(FP), R8; \
	VLD1R (R8), [z.S4]

// ---- qs8-gemm-8x12c4-neondot ----
//
// Row i accumulates in V(3i), V(3i+1), V(3i+2) (columns 0-3, 4-7, 8-11);
// one k quad is V24 = rows 0-3, V25 = rows 4-7 of A (4 bytes a row) and
// V26..V28 = columns 0-3, 4-7, 8-11 of B (4 bytes a column).
#define DSTEP \
	VLD1.P 32(R0), [V24.B16, V25.B16]; \
	VLD1.P 48(R1), [V26.B16, V27.B16, V28.B16]; \
	TILE8x12(SDOTE)

// Requantizes row i (scale V24..V26, lo V29, hi V30, zero point V31) and
// stores its 12 bytes: narrowed into V27 (bytes 0-11), stored as 8 + 4.
#define DSTORE(i) \
	HEAD(i); \
	QREQ(3*i, 24, 29, 30, 31); \
	QREQ(3*i+1, 25, 29, 30, 31); \
	QREQ(3*i+2, 26, 29, 30, 31); \
	SQXTN4H(3*i, 27); \
	SQXTN28H(3*i+1, 27); \
	SQXTN4H(3*i+2, 28); \
	SQXTN8B(27, 27); \
	SQXTN216B(28, 27); \
	VMOV V27.D[0], R8; \
	MOVD R8, (R2); \
	VMOV V27.S[2], R8; \
	MOVW R8, 8(R2); \
	ADD  R4, R2

// Row 0's bias (V0..V2) into another row's accumulators.
#define COPY3(a, b, c) \
	VMOV V0.B16, a.B16; \
	VMOV V1.B16, b.B16; \
	VMOV V2.B16, c.B16

// func qgemm8x12c4NEONDot(kg int, a *byte, b *byte, c *int8, ldc int, mr int, bias *int32, scale *float32, zp int32, lo float32, hi float32)
TEXT ·qgemm8x12c4NEONDot(SB), NOSPLIT, $0-76
	ARGS
	VLD1 (R6), [V0.S4, V1.S4, V2.S4]
	COPY3(V3, V4, V5)
	COPY3(V6, V7, V8)
	COPY3(V9, V10, V11)
	COPY3(V12, V13, V14)
	COPY3(V15, V16, V17)
	COPY3(V18, V19, V20)
	COPY3(V21, V22, V23)
	CMP  $2, R3
	BLT  dtail

dloop:
	DSTEP
	DSTEP
	SUB  $2, R3
	CMP  $2, R3
	BGE  dloop

dtail:
	CBZ  R3, dkdone
	DSTEP

dkdone:
	MOVD scale+56(FP), R7
	VLD1 (R7), [V24.S4, V25.S4, V26.S4]
	BOUNDS(V29, V30, V31)
	EACH8(DSTORE)

done:
	RET

// ---- qs8-gemm-8x8-neonmull ----
//
// Row i accumulates in V(16+2i) (columns 0-3) and V(17+2i) (4-7); one k
// step is A's 8 rows as int16 (V0 or V1, the by-element operand, which
// must lie in V0..V15) and B's 8 columns as int16 (V2 or V3).

#define MROW(i, av, bv) \
	SMLALE(16+2*i, bv, av, i); \
	SMLAL2E(17+2*i, bv, av, i)

#define MSTEP(av, bv) \
	MROW(0, av, bv); \
	MROW(1, av, bv); \
	MROW(2, av, bv); \
	MROW(3, av, bv); \
	MROW(4, av, bv); \
	MROW(5, av, bv); \
	MROW(6, av, bv); \
	MROW(7, av, bv)

// Requantizes row i (scale V4, V5, lo V6, hi V7, zero point V8) and stores
// its 8 bytes, narrowed into V9.
#define MSTORE(i) \
	HEAD(i); \
	QREQ(16+2*i, 4, 6, 7, 8); \
	QREQ(17+2*i, 5, 6, 7, 8); \
	SQXTN4H(16+2*i, 9); \
	SQXTN28H(17+2*i, 9); \
	SQXTN8B(9, 9); \
	VMOV V9.D[0], R8; \
	MOVD R8, (R2); \
	ADD  R4, R2

// Row 0's bias (V16, V17) into another row's accumulators.
#define COPY2(a, b) \
	VMOV V16.B16, a.B16; \
	VMOV V17.B16, b.B16

// func qgemm8x8NEONMull(kg int, a *byte, b *byte, c *int8, ldc int, mr int, bias *int32, scale *float32, zp int32, lo float32, hi float32)
TEXT ·qgemm8x8NEONMull(SB), NOSPLIT, $0-76
	ARGS
	VLD1 (R6), [V16.S4, V17.S4]
	COPY2(V18, V19)
	COPY2(V20, V21)
	COPY2(V22, V23)
	COPY2(V24, V25)
	COPY2(V26, V27)
	COPY2(V28, V29)
	COPY2(V30, V31)
	CMP  $2, R3
	BLT  mtail

mloop:
	VLD1.P 32(R0), [V0.H8, V1.H8]
	VLD1.P 32(R1), [V2.H8, V3.H8]
	MSTEP(0, 2)
	MSTEP(1, 3)
	SUB  $2, R3
	CMP  $2, R3
	BGE  mloop

mtail:
	CBZ  R3, mkdone
	VLD1.P 16(R0), [V0.H8]
	VLD1.P 16(R1), [V2.H8]
	MSTEP(0, 2)

mkdone:
	MOVD scale+56(FP), R7
	VLD1 (R7), [V4.S4, V5.S4]
	BOUNDS(V6, V7, V8)
	EACH8(MSTORE)

done:
	RET
