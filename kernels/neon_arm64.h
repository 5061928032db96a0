// NEON instructions the Go arm64 assembler does not accept, as WORDs.
// Register arguments are numbers (V0..V31 → 0..31). Each macro names the
// instruction it encodes; the tier tests run every one of them (under
// qemu-aarch64 on amd64 hosts).

// fmla vd.4s, vn.4s, vm.s[i]   (FMLA by element, single precision, Q=1)
#define FMLAE(d, n, m, i) WORD $(0x4F801000 | (((i)&1)<<21) | ((m)<<16) | (((i)>>1)<<11) | ((n)<<5) | (d))

// fadd vd.4s, vn.4s, vm.4s
#define FADD4S(m, n, d) WORD $(0x4E20D400 | ((m)<<16) | ((n)<<5) | (d))

// fsub vd.4s, vn.4s, vm.4s   (vd = vn - vm)
#define FSUB4S(m, n, d) WORD $(0x4EA0D400 | ((m)<<16) | ((n)<<5) | (d))

// faddp vd.4s, vn.4s, vm.4s
#define FADDP4S(m, n, d) WORD $(0x6E20D400 | ((m)<<16) | ((n)<<5) | (d))

// faddp sd, vn.2s
#define FADDP2S(n, d) WORD $(0x7E30D800 | ((n)<<5) | (d))

// smull vd.8h, vn.8b, vm.8b
#define SMULL8B(m, n, d) WORD $(0x0E20C000 | ((m)<<16) | ((n)<<5) | (d))

// smull2 vd.8h, vn.16b, vm.16b
#define SMULL2B16(m, n, d) WORD $(0x4E20C000 | ((m)<<16) | ((n)<<5) | (d))

// sadalp vd.4s, vn.8h
#define SADALP8H(n, d) WORD $(0x4E606800 | ((n)<<5) | (d))

// fmul vd.4s, vn.4s, vm.4s
#define FMUL4S(m, n, d) WORD $(0x6E20DC00 | ((m)<<16) | ((n)<<5) | (d))

// fdiv vd.4s, vn.4s, vm.4s   (vd = vn / vm)
#define FDIV4S(m, n, d) WORD $(0x6E20FC00 | ((m)<<16) | ((n)<<5) | (d))

// fmax vd.4s, vn.4s, vm.4s   (NaN in either operand gives NaN, as Go's max)
#define FMAX4S(m, n, d) WORD $(0x4E20F400 | ((m)<<16) | ((n)<<5) | (d))

// fmin vd.4s, vn.4s, vm.4s
#define FMIN4S(m, n, d) WORD $(0x4EA0F400 | ((m)<<16) | ((n)<<5) | (d))

// fneg vd.4s, vn.4s
#define FNEG4S(n, d) WORD $(0x6EA0F800 | ((n)<<5) | (d))

// frintn vd.4s, vn.4s   (round to nearest, ties to even)
#define FRINTN4S(n, d) WORD $(0x4E218800 | ((n)<<5) | (d))

// fcvtzs vd.4s, vn.4s
#define FCVTZS4S(n, d) WORD $(0x4EA1B800 | ((n)<<5) | (d))

// Shapes the hand-written kernels share.

#define VZERO(v) VEOR v.B16, v.B16, v.B16
#define VZERO4(a, b, c, d) VZERO(a); VZERO(b); VZERO(c); VZERO(d)

// M(0) … M(7): one macro per row of an 8-row tile.
#define EACH8(M) M(0); M(1); M(2); M(3); M(4); M(5); M(6); M(7)

// x = min(max(x, lo), hi); fmax/fmin order zeros and pass NaN through
// exactly as Go's max and min.
#define CLAMP4S(x, lo, hi) \
	FMAX4S(lo, x, x); \
	FMIN4S(hi, x, x)

// One k step of an 8×12 tile with by-element instruction OPE(d, n, m, i):
// V24 holds A's rows 0-3, V25 rows 4-7, V26..V28 B's columns 0-3, 4-7,
// 8-11; row i accumulates in V(3i), V(3i+1), V(3i+2).
#define TILEROW8x12(OPE, i) \
	OPE(3*(i), 26, 24+(i)/4, (i)&3); \
	OPE(3*(i)+1, 27, 24+(i)/4, (i)&3); \
	OPE(3*(i)+2, 28, 24+(i)/4, (i)&3)
#define TILE8x12(OPE) \
	TILEROW8x12(OPE, 0); TILEROW8x12(OPE, 1); TILEROW8x12(OPE, 2); TILEROW8x12(OPE, 3); \
	TILEROW8x12(OPE, 4); TILEROW8x12(OPE, 5); TILEROW8x12(OPE, 6); TILEROW8x12(OPE, 7)
