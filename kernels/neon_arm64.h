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
