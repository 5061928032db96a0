//go:build !purego && (amd64 || arm64)

// The GEMM microkernel wrappers shared by amd64 and arm64; the arch files
// declare the kernels and gemmAsm.

package kernels

import (
	"math"
	"unsafe"
)

// gemmAsmID names an assembly GEMM microkernel for gemmAsmRun, the arch
// file's switch, whose direct calls keep the edge path's scratch tile on
// the stack.
type gemmAsmID uint8

// asmGemm is an assembly GEMM microkernel with its tile shape. A masked
// kernel takes the valid columns as a bit mask; the others always work on
// NR columns, so their edge tiles go through a scratch tile (edge).
type asmGemm struct {
	id     gemmAsmID
	MR, NR int
	masked bool
}

// Scratch for the edge tiles of unmasked kernels: MR·NR ≤ gemmScratchTile
// and NR ≤ gemmScratchNR (6x16 and 8x12 both fill it).
const (
	gemmScratchTile = 96
	gemmScratchNR   = 16
)

// microkernel describes g for the registry; FnA is set when the kernel can
// read A in place. It is not inlined, so that the calls in the closures it
// returns are: the compiler leaves the calls inside closures of an inlined
// call as calls, checkTile and ptrOf included.
//
//go:noinline
func (g *asmGemm) microkernel(name string, t Tier, inPlaceA bool) GemmMicrokernel {
	m := GemmMicrokernel{Name: name, Tier: t, MR: g.MR, NR: g.NR}
	m.Fn = func(k int, a, b, c []float32, ldc, mr, nr int, bias []float32, epi *Epilogue, accumulate, final bool) {
		if mr <= 0 || nr <= 0 {
			return
		}
		checkTile(g.MR, g.NR, k, a, b, c, ldc, mr, nr, bias, accumulate)
		if nr < g.NR && !g.masked {
			g.edge(k, ptrOf(a), 0, 0, 0, b, c, ldc, mr, nr, bias, epi, accumulate, final)
			return
		}
		gemmAsmRun(g, k, ptrOf(a), 0, 0, 0, b, c, ldc, mr, nr, bias, epi, accumulate, final)
	}
	if inPlaceA {
		m.FnA = func(a InPlaceA, b, c []float32, ldc, nr int, bias []float32, epi *Epilogue, accumulate, final bool) {
			if nr <= 0 {
				return
			}
			checkTileA(g.MR, g.NR, &a, b, c, ldc, nr, bias, accumulate)
			if nr < g.NR && !g.masked {
				g.edge(a.Seg, &a.Data[0], a.LD, a.NSeg, a.SegStride-a.Seg, b, c, ldc, g.MR, nr, bias, epi, accumulate, final)
				return
			}
			gemmAsmRun(g, a.Seg, &a.Data[0], a.LD, a.NSeg, a.SegStride-a.Seg, b, c, ldc, g.MR, nr, bias, epi, accumulate, final)
		}
	}
	return m
}

// edge runs an unmasked kernel on a tile of nr < NR columns: on a scratch
// tile the valid columns of C (when accumulating) and of the bias are
// copied into, and C's out of.
func (g *asmGemm) edge(k int, a *float32, lda, nseg, segskip int, b, c []float32, ldc, mr, nr int, bias []float32, epi *Epilogue, accumulate, final bool) {
	var tile [gemmScratchTile]float32
	var bt [gemmScratchNR]float32
	if accumulate {
		for i := 0; i < mr; i++ {
			copy(tile[i*g.NR:i*g.NR+nr], c[i*ldc:i*ldc+nr])
		}
	} else if bias != nil {
		copy(bt[:nr], bias[:nr])
		bias = bt[:g.NR]
	}
	gemmAsmRun(g, k, a, lda, nseg, segskip, b, tile[:], g.NR, mr, g.NR, bias, epi, accumulate, final)
	for i := 0; i < mr; i++ {
		copy(c[i*ldc:i*ldc+nr], tile[i*g.NR:i*g.NR+nr])
	}
}

// biasArgs is how the microkernels take bias and accumulation: the bias
// pointer only when the tile starts fresh (a later K block adds to C and
// must not add the bias again), and accumulate as 0 or 1.
func biasArgs(bias []float32, accumulate bool) (*float32, int) {
	if accumulate {
		return nil, 1
	}
	return ptrOf(bias), 0
}

// epiArgs flattens an epilogue for the assembly (the epiAsm codes).
func epiArgs(epi *Epilogue, final bool) (kind uint32, lo, hi float32) {
	if !final || epi == nil {
		return epiAsmNone, 0, 0
	}
	switch epi.Kind {
	case EpiHardSwish:
		return epiAsmHardSwish, 0, 0
	case EpiSiLU:
		return epiAsmSiLU, 0, 0
	}
	if epi.Lo == float32(math.Inf(-1)) && epi.Hi == float32(math.Inf(1)) {
		return epiAsmNone, 0, 0
	}
	return epiAsmClamp, epi.Lo, epi.Hi
}

// checkTile panics, as slice indexing would, when the slices are too short
// for the tile the assembly is about to touch. It keeps a driver bug from
// becoming a silent out-of-bounds write.
func checkTile(MR, NR, k int, a, b, c []float32, ldc, mr, nr int, bias []float32, accumulate bool) {
	if mr > MR || nr > NR || k < 0 || ldc < nr {
		panic("kernels: GEMM tile arguments out of range")
	}
	_ = a[:k*MR]
	_ = b[:k*NR]
	_ = c[:(mr-1)*ldc+nr]
	if bias != nil && !accumulate {
		_ = bias[:nr]
	}
}

// checkTileA is checkTile for a full-height tile whose A is read in place.
func checkTileA(MR, NR int, a *InPlaceA, b, c []float32, ldc, nr int, bias []float32, accumulate bool) {
	if nr > NR || a.Seg < 1 || a.NSeg < 1 || a.LD < 1 || a.SegStride < 0 || ldc < nr {
		panic("kernels: GEMM tile arguments out of range")
	}
	_ = a.Data[:(MR-1)*a.LD+(a.NSeg-1)*a.SegStride+a.Seg]
	_ = b[:a.Seg*a.NSeg*NR]
	_ = c[:(MR-1)*ldc+nr]
	if bias != nil && !accumulate {
		_ = bias[:nr]
	}
}

func ptrOf(s []float32) *float32 {
	if len(s) == 0 {
		return nil
	}
	return unsafe.SliceData(s)
}
