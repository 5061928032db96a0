package main

import (
	"github.com/mmcloughlin/avo/reg"
)

// isa is a vector instruction set a kernel family is generated for.
type isa struct {
	name   string // suffix of the routine names: "AVX512", "AVX2"
	lanes  int    // float32 lanes in one vector register
	nvec   int    // vector registers
	masked bool   // opmask registers: tails under a mask
}

var (
	avx512 = isa{name: "AVX512", lanes: 16, nvec: 32, masked: true}
	avx2   = isa{name: "AVX2", lanes: 8, nvec: 16}
	// tiers are the instruction sets each family is written for, in the
	// order its routines appear.
	tiers = []isa{avx512, avx2}
)

// bytes is the width of one vector register.
func (v isa) bytes() int { return 4 * v.lanes }

// V is vector register i (Zi or Yi).
func (v isa) V(i int) reg.VecPhysical {
	if i < 0 || i >= v.nvec {
		panic("vector register out of range")
	}
	if v.masked {
		return zmm[i]
	}
	return ymm[i]
}

var (
	zmm = []reg.VecPhysical{
		reg.Z0, reg.Z1, reg.Z2, reg.Z3, reg.Z4, reg.Z5, reg.Z6, reg.Z7,
		reg.Z8, reg.Z9, reg.Z10, reg.Z11, reg.Z12, reg.Z13, reg.Z14, reg.Z15,
		reg.Z16, reg.Z17, reg.Z18, reg.Z19, reg.Z20, reg.Z21, reg.Z22, reg.Z23,
		reg.Z24, reg.Z25, reg.Z26, reg.Z27, reg.Z28, reg.Z29, reg.Z30, reg.Z31,
	}
	ymm = []reg.VecPhysical{
		reg.Y0, reg.Y1, reg.Y2, reg.Y3, reg.Y4, reg.Y5, reg.Y6, reg.Y7,
		reg.Y8, reg.Y9, reg.Y10, reg.Y11, reg.Y12, reg.Y13, reg.Y14, reg.Y15,
	}
)

// zero clears vector register r the way each tier always has: VPXORD on
// AVX-512 (EVEX, reaches Z16..Z31), VXORPS on AVX2.
func (f *file) zero(v isa, r reg.VecPhysical) {
	if v.masked {
		f.VPXORD(r, r, r)
	} else {
		f.VXORPS(r, r, r)
	}
}
