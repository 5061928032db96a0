//go:build !purego

// Gallery dot products on NEON; declarations and the loops they compute are
// in dot_arm64.go. Registers: R0 = q, R1 = current row, R2 = dim,
// R3 = rows left, R4 = out, R5 = q cursor, R6 = elements left in the row.

#include "textflag.h"
#include "neon_arm64.h"

// Sum of V0..V3 into S0 (F0).
#define REDUCE4 \
	FADD4S(1, 0, 0); \
	FADD4S(3, 2, 2); \
	FADD4S(2, 0, 0); \
	FADDP4S(0, 0, 0); \
	FADDP2S(0, 0)

// func dotRowsNEON(q, rows *float32, dim, n int, out *float32)
TEXT ·dotRowsNEON(SB), NOSPLIT, $0-40
	MOVD q+0(FP), R0
	MOVD rows+8(FP), R1
	MOVD dim+16(FP), R2
	MOVD n+24(FP), R3
	MOVD out+32(FP), R4
	CBZ  R3, done

row:
	VZERO4(V0, V1, V2, V3)
	MOVD R0, R5
	MOVD R2, R6
	CMP  $16, R6
	BLT  by4

by16:
	VLD1.P 64(R5), [V4.S4, V5.S4, V6.S4, V7.S4]
	VLD1.P 64(R1), [V16.S4, V17.S4, V18.S4, V19.S4]
	VFMLA V4.S4, V16.S4, V0.S4
	VFMLA V5.S4, V17.S4, V1.S4
	VFMLA V6.S4, V18.S4, V2.S4
	VFMLA V7.S4, V19.S4, V3.S4
	SUB  $16, R6
	CMP  $16, R6
	BGE  by16

by4:
	CMP  $4, R6
	BLT  reduce
	VLD1.P 16(R5), [V4.S4]
	VLD1.P 16(R1), [V16.S4]
	VFMLA V4.S4, V16.S4, V0.S4
	SUB  $4, R6
	B    by4

reduce:
	REDUCE4
	CBZ  R6, store

tail:
	FMOVS.P 4(R5), F4
	FMOVS.P 4(R1), F5
	FMULS F4, F5, F5
	FADDS F5, F0, F0
	SUB  $1, R6
	CBNZ R6, tail

store:
	FMOVS.P F0, 4(R4)
	SUB  $1, R3
	CBNZ R3, row

done:
	RET
