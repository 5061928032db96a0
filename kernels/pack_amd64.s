//go:build !purego

#include "textflag.h"

// func transpose4Rows(dst *float32, dstStride int, r0, r1, r2, r3 *float32, n int)
//
// Four rows at a time through 4×4 SSE transposes (SSE2 is the amd64
// baseline, so every amd64 CPU runs it).
TEXT ·transpose4Rows(SB), NOSPLIT, $0-56
	MOVQ dst+0(FP), DI
	MOVQ dstStride+8(FP), DX
	SHLQ $2, DX
	LEAQ (DX)(DX*2), R12
	LEAQ (DX*4), R13
	MOVQ r0+16(FP), R8
	MOVQ r1+24(FP), R9
	MOVQ r2+32(FP), R10
	MOVQ r3+40(FP), R11
	MOVQ n+48(FP), CX
	SHRQ $2, CX
	JZ   done
	XORQ AX, AX

loop:
	MOVUPS (R8)(AX*1), X0
	MOVUPS (R9)(AX*1), X1
	MOVUPS (R10)(AX*1), X2
	MOVUPS (R11)(AX*1), X3
	MOVAPS X0, X4
	UNPCKLPS X1, X0 // a0 b0 a1 b1
	UNPCKHPS X1, X4 // a2 b2 a3 b3
	MOVAPS X2, X5
	UNPCKLPS X3, X2 // c0 d0 c1 d1
	UNPCKHPS X3, X5 // c2 d2 c3 d3
	MOVAPS X0, X6
	UNPCKLPD X2, X0 // a0 b0 c0 d0
	UNPCKHPD X2, X6 // a1 b1 c1 d1
	MOVAPS X4, X7
	UNPCKLPD X5, X4 // a2 b2 c2 d2
	UNPCKHPD X5, X7 // a3 b3 c3 d3
	MOVUPS X0, (DI)
	MOVUPS X6, (DI)(DX*1)
	MOVUPS X4, (DI)(DX*2)
	MOVUPS X7, (DI)(R12*1)
	ADDQ R13, DI
	ADDQ $16, AX
	DECQ CX
	JNZ  loop

done:
	RET
