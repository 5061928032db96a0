//go:build !purego

package kernels

import "unsafe"

// The depthwise kernels in dw_arm64.s, 4 channels per vector, whole blocks
// only (the caller computes channels past blocks*4 in Go; lastMask is
// ignored). A row kernel walks channel blocks outermost, keeping the block's
// bias and KH·KW weights in registers, and the npix pixels innermost. In
// terms of dwRowGeneric (KH = KW = 3 or 5, V = 4), with rows[kh] =
// (*rows)[kh]:
//
//	for b := 0; b < blocks; b++ {          // channels c0 = b*4 .. c0+3
//		for p := 0; p < npix; p++ {
//			dwRowGeneric(rows, out, w, KH, KW, npix, C, 4, stride, c0, c0+4, lo, hi) // pixel p only
//		}
//	}
//
// with C = c4/4 and stride = pstep/c4. inRewind = npix*pstep - 16 and
// outRewind = npix*c4 - 16 take the row and output pointers from the end of
// one block's pixels to the start of the next block. Everything they touch
// lies inside the rows' windows, out[:npix*C] and w[:blocks*(KH*KW+1)*4].

//go:noescape
func dwRow3x3NEON(rows *[5]unsafe.Pointer, out, w *float32, npix, blocks, c4, pstep, inRewind, outRewind int, lastMask uint32, lo, hi float32)

//go:noescape
func dwRow5x5NEON(rows *[5]unsafe.Pointer, out, w *float32, npix, blocks, c4, pstep, inRewind, outRewind int, lastMask uint32, lo, hi float32)

// dwPixelNEON computes one output pixel over the n ≥ 1 taps in t
// (dwPixelGeneric with x[i] starting at t.ptrs[i] and
// t.offs[i] = (1+tap[i])*16), blocks of 4 channels whose packed weights are
// wstride = (KH*KW+1)*16 bytes apart:
//
//	for b := 0; b < blocks; b++ {
//		dwPixelGeneric(x, tap, n, KH*KW, out, w, 4, b*4, b*4+4, lo, hi)
//	}
//
//go:noescape
func dwPixelNEON(t *dwTaps, n int, out, w *float32, blocks, wstride int, lastMask uint32, lo, hi float32)

func init() {
	registerDepthwise(NEON, "f32-dwconv-3x3-5x5-neon", dwTier{v: 4})
}

// dwRowAsm calls tier t's row kernel for a k×k window.
func dwRowAsm(t Tier, k int, rows *[5]unsafe.Pointer, out, w *float32, npix, blocks, c4, pstep, inRewind, outRewind int, lastMask uint32, lo, hi float32) {
	switch {
	case t == NEON && k == 3:
		dwRow3x3NEON(rows, out, w, npix, blocks, c4, pstep, inRewind, outRewind, lastMask, lo, hi)
	case t == NEON && k == 5:
		dwRow5x5NEON(rows, out, w, npix, blocks, c4, pstep, inRewind, outRewind, lastMask, lo, hi)
	default:
		panic("kernels: no depthwise row kernel for this tier and window")
	}
}

// dwPixelAsm calls tier t's pixel kernel.
func dwPixelAsm(t Tier, taps *dwTaps, n int, out, w *float32, blocks, wstride int, lastMask uint32, lo, hi float32) {
	if t != NEON {
		panic("kernels: no depthwise pixel kernel for this tier")
	}
	dwPixelNEON(taps, n, out, w, blocks, wstride, lastMask, lo, hi)
}
