//go:build !purego

// Same-length Add and Mul for AVX-512 and AVX2: loads, one vector op,
// stores; the IEEE result of each lane is the Go loop's bit for bit.

#include "textflag.h"

// SI = a, DX = b, DI = dst, CX = n; OPI is VADDPS or VMULPS.
#define BIN512(OPI, L4, L1, LT) \
L4: \
	CMPQ    CX, $64; \
	JLT     L1; \
	VMOVUPS (SI), Z0; \
	VMOVUPS 64(SI), Z1; \
	VMOVUPS 128(SI), Z2; \
	VMOVUPS 192(SI), Z3; \
	OPI     (DX), Z0, Z0; \
	OPI     64(DX), Z1, Z1; \
	OPI     128(DX), Z2, Z2; \
	OPI     192(DX), Z3, Z3; \
	VMOVUPS Z0, (DI); \
	VMOVUPS Z1, 64(DI); \
	VMOVUPS Z2, 128(DI); \
	VMOVUPS Z3, 192(DI); \
	ADDQ    $256, SI; \
	ADDQ    $256, DX; \
	ADDQ    $256, DI; \
	SUBQ    $64, CX; \
	JMP     L4; \
L1: \
	CMPQ    CX, $16; \
	JLT     LT; \
	VMOVUPS (SI), Z0; \
	OPI     (DX), Z0, Z0; \
	VMOVUPS Z0, (DI); \
	ADDQ    $64, SI; \
	ADDQ    $64, DX; \
	ADDQ    $64, DI; \
	SUBQ    $16, CX; \
	JMP     L1; \
LT: \
	TESTQ   CX, CX; \
	JEQ     bindone512; \
	MOVL    $1, AX; \
	SHLL    CX, AX; \
	DECL    AX; \
	KMOVW   AX, K1; \
	VMOVUPS.Z (SI), K1, Z0; \
	VMOVUPS.Z (DX), K1, Z1; \
	OPI     Z1, Z0, Z0; \
	VMOVUPS Z0, K1, (DI); \
	JMP     bindone512

// func elemBinAVX512(op uint32, dst, a, b *float32, n int)
TEXT ·elemBinAVX512(SB), NOSPLIT, $0-40
	MOVL op+0(FP), AX
	MOVQ dst+8(FP), DI
	MOVQ a+16(FP), SI
	MOVQ b+24(FP), DX
	MOVQ n+32(FP), CX
	CMPL AX, $0
	JNE  mul512
	BIN512(VADDPS, add512four, add512one, add512tail)

mul512:
	BIN512(VMULPS, mul512four, mul512one, mul512tail)

bindone512:
	VZEROUPPER
	RET

#define BIN256(OPI, L4, L1) \
L4: \
	CMPQ    CX, $32; \
	JLT     L1; \
	VMOVUPS (SI), Y0; \
	VMOVUPS 32(SI), Y1; \
	VMOVUPS 64(SI), Y2; \
	VMOVUPS 96(SI), Y3; \
	OPI     (DX), Y0, Y0; \
	OPI     32(DX), Y1, Y1; \
	OPI     64(DX), Y2, Y2; \
	OPI     96(DX), Y3, Y3; \
	VMOVUPS Y0, (DI); \
	VMOVUPS Y1, 32(DI); \
	VMOVUPS Y2, 64(DI); \
	VMOVUPS Y3, 96(DI); \
	ADDQ    $128, SI; \
	ADDQ    $128, DX; \
	ADDQ    $128, DI; \
	SUBQ    $32, CX; \
	JMP     L4; \
L1: \
	CMPQ    CX, $8; \
	JLT     bindone256; \
	VMOVUPS (SI), Y0; \
	OPI     (DX), Y0, Y0; \
	VMOVUPS Y0, (DI); \
	ADDQ    $32, SI; \
	ADDQ    $32, DX; \
	ADDQ    $32, DI; \
	SUBQ    $8, CX; \
	JMP     L1

// func elemBinAVX2(op uint32, dst, a, b *float32, n int)
TEXT ·elemBinAVX2(SB), NOSPLIT, $0-40
	MOVL op+0(FP), AX
	MOVQ dst+8(FP), DI
	MOVQ a+16(FP), SI
	MOVQ b+24(FP), DX
	MOVQ n+32(FP), CX
	CMPL AX, $0
	JNE  mul256
	BIN256(VADDPS, add256four, add256one)

mul256:
	BIN256(VMULPS, mul256four, mul256one)

bindone256:
	VZEROUPPER
	RET
