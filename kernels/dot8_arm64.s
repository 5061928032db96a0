//go:build !purego

// Gallery int8 dot products on NEON; the declaration and the loop it
// computes are in dot8_arm64.go. SMULL/SMULL2 multiply 16 int8 pairs into
// int16 (exact: |product| ≤ 2^14) and SADALP adds neighbouring int16 into
// the int32 accumulators. Registers: R0 = q, R1 = current row, R2 = dim,
// R3 = rows left, R4 = out, R5 = q cursor, R6 = elements left in the row,
// R7 = the row's sum.

#include "textflag.h"
#include "neon_arm64.h"

// func dot8RowsNEON(q, rows *int8, dim, n int, out *int32)
TEXT ·dot8RowsNEON(SB), NOSPLIT, $0-40
	MOVD q+0(FP), R0
	MOVD rows+8(FP), R1
	MOVD dim+16(FP), R2
	MOVD n+24(FP), R3
	MOVD out+32(FP), R4
	CBZ  R3, done

row:
	VZERO(V0)
	VZERO(V1)
	MOVD R0, R5
	MOVD R2, R6
	CMP  $16, R6
	BLT  reduce

by16:
	VLD1.P 16(R5), [V4.B16]
	VLD1.P 16(R1), [V5.B16]
	SMULL8B(5, 4, 6)
	SMULL2B16(5, 4, 7)
	SADALP8H(6, 0)
	SADALP8H(7, 1)
	SUB  $16, R6
	CMP  $16, R6
	BGE  by16

reduce:
	VADD  V1.S4, V0.S4, V0.S4
	VADDV V0.S4, V0
	VMOV  V0.S[0], R7
	CBZ   R6, store

tail:
	MOVB.P 1(R5), R8
	MOVB.P 1(R1), R9
	MULW   R8, R9, R9
	ADDW   R9, R7, R7
	SUB    $1, R6
	CBNZ   R6, tail

store:
	MOVW.P R7, 4(R4)
	SUB  $1, R3
	CBNZ R3, row

done:
	RET
