//go:build !purego

package kernels

import "unsafe"

// The depthwise kernels in kernels_amd64.s. A row kernel walks channel blocks
// outermost, keeping the block's bias and KH·KW weights in registers, and
// the npix pixels innermost, each tap one fused multiply-add with the input
// as memory operand. In terms of dwRowGeneric (KH = KW = 3 or 5, V = 16 or
// 8), with rows[kh] = (*rows)[kh]:
//
//	for b := 0; b < blocks; b++ {          // channels c0 = b*V .. c0+V-1
//		for p := 0; p < npix; p++ {
//			dwRowGeneric(rows, out, w, KH, KW, npix, C, V, stride, c0, min(c0+V, C), lo, hi) // pixel p only
//		}
//	}
//
// with C = c4/4 and stride = pstep/c4. inRewind = npix*pstep - 4*V and
// outRewind = npix*c4 - 4*V take the row and output pointers from the end
// of one block's pixels to the start of the next block. The AVX-512 kernels
// load and store the last block under lastMask (bit k: channel c0+k exists),
// every other block whole; the AVX2 kernels ignore lastMask and run whole
// blocks only (the caller computes channels past blocks*8 in Go).
// Everything they touch lies inside the rows' windows, out[:npix*C] and
// w[:blocks*(KH*KW+1)*V].

//go:noescape
func dwRow3x3AVX512(rows *[5]unsafe.Pointer, out, w *float32, npix, blocks, c4, pstep, inRewind, outRewind int, lastMask uint32, lo, hi float32)

//go:noescape
func dwRow5x5AVX512(rows *[5]unsafe.Pointer, out, w *float32, npix, blocks, c4, pstep, inRewind, outRewind int, lastMask uint32, lo, hi float32)

//go:noescape
func dwRow3x3AVX2(rows *[5]unsafe.Pointer, out, w *float32, npix, blocks, c4, pstep, inRewind, outRewind int, lastMask uint32, lo, hi float32)

//go:noescape
func dwRow5x5AVX2(rows *[5]unsafe.Pointer, out, w *float32, npix, blocks, c4, pstep, inRewind, outRewind int, lastMask uint32, lo, hi float32)

// dwPixelAVX512 and dwPixelAVX2 compute one output pixel over the n ≥ 1
// taps in t (dwPixelGeneric with x[i] starting at t.ptrs[i] and
// t.offs[i] = (1+tap[i])*V*4), blocks of V channels whose packed weights
// are wstride = (KH*KW+1)*V*4 bytes apart, the last block under lastMask on
// AVX-512:
//
//	for b := 0; b < blocks; b++ {
//		dwPixelGeneric(x, tap, n, KH*KW, out, w, V, b*V, min(b*V+V, C), lo, hi)
//	}
//
//go:noescape
func dwPixelAVX512(t *dwTaps, n int, out, w *float32, blocks, wstride int, lastMask uint32, lo, hi float32)

//go:noescape
func dwPixelAVX2(t *dwTaps, n int, out, w *float32, blocks, wstride int, lastMask uint32, lo, hi float32)

func init() {
	registerDepthwise(AVX512, "f32-dwconv-3x3-5x5-avx512", dwTier{v: 16, masked: true})
	registerDepthwise(AVX2, "f32-dwconv-3x3-5x5-avx2", dwTier{v: 8})
}

// dwRowAsm calls tier t's row kernel for a k×k window.
func dwRowAsm(t Tier, k int, rows *[5]unsafe.Pointer, out, w *float32, npix, blocks, c4, pstep, inRewind, outRewind int, lastMask uint32, lo, hi float32) {
	switch {
	case t == AVX512 && k == 3:
		dwRow3x3AVX512(rows, out, w, npix, blocks, c4, pstep, inRewind, outRewind, lastMask, lo, hi)
	case t == AVX512 && k == 5:
		dwRow5x5AVX512(rows, out, w, npix, blocks, c4, pstep, inRewind, outRewind, lastMask, lo, hi)
	case t == AVX2 && k == 3:
		dwRow3x3AVX2(rows, out, w, npix, blocks, c4, pstep, inRewind, outRewind, lastMask, lo, hi)
	case t == AVX2 && k == 5:
		dwRow5x5AVX2(rows, out, w, npix, blocks, c4, pstep, inRewind, outRewind, lastMask, lo, hi)
	default:
		panic("kernels: no depthwise row kernel for this tier and window")
	}
}

// dwPixelAsm calls tier t's pixel kernel.
func dwPixelAsm(t Tier, taps *dwTaps, n int, out, w *float32, blocks, wstride int, lastMask uint32, lo, hi float32) {
	switch t {
	case AVX512:
		dwPixelAVX512(taps, n, out, w, blocks, wstride, lastMask, lo, hi)
	case AVX2:
		dwPixelAVX2(taps, n, out, w, blocks, wstride, lastMask, lo, hi)
	default:
		panic("kernels: no depthwise pixel kernel for this tier")
	}
}
