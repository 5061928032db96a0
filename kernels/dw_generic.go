package kernels

import "unsafe"

// The SIMD depthwise kernels work on weights packed per block of V channels
// (V = 16 for AVX-512, 8 for AVX2, 4 for NEON):
//
//	block b: bias[b*V : b*V+V], then for each tap t = kh*KW+kw the V weights of
//	channels b*V .. b*V+V-1, zero beyond the last channel.
//
// so one block's bias and taps are one contiguous run of (taps+1)*V floats and
// a kernel can keep all of them in registers while it walks a row of pixels.
// The functions below are the Go twins of the assembly kernels: they state
// the contract on slices, serve as the oracle in the tests, and compute the
// channels past the last whole vector on tiers without masked loads.

// packDepthwise repacks OIHW weights [C,1,KH,KW] and bias (nil: zero) into
// the block layout above.
func packDepthwise(C, taps, V int, w, bias []float32) []float32 {
	blocks := (C + V - 1) / V
	out := make([]float32, blocks*(taps+1)*V)
	for c := 0; c < C; c++ {
		b, k := c/V, c%V
		blk := out[b*(taps+1)*V:]
		if bias != nil {
			blk[k] = bias[c]
		}
		for t := 0; t < taps; t++ {
			blk[(1+t)*V+k] = w[c*taps+t]
		}
	}
	return out
}

// dwRowGeneric is the contract of the dwRow3x3* and dwRow5x5* kernels:
// npix output pixels of one output row, channels [c0, c1), every window
// inside the rows it reads. rows[kh] starts at channel 0 of the first
// pixel's leftmost window column in input row kh (or in a zero row standing
// for padding); consecutive pixels are stride columns apart.
//
//	for p := 0; p < npix; p++ {
//		for c := c0; c < c1; c++ {
//			blk := w[c/V*(KH*KW+1)*V:]
//			acc := blk[c%V]
//			for kh := 0; kh < KH; kh++ {
//				for kw := 0; kw < KW; kw++ {
//					acc += rows[kh][(p*stride+kw)*C+c] * blk[(1+kh*KW+kw)*V+c%V]
//				}
//			}
//			out[p*C+c] = min(max(acc, lo), hi)
//		}
//	}
//
// The assembly fuses each multiply-add (one rounding), so it agrees with
// this loop to fp32 rounding, not bit for bit.
func dwRowGeneric(rows *[5][]float32, out, w []float32, KH, KW, npix, C, V, stride, c0, c1 int, lo, hi float32) {
	taps := KH * KW
	for p := 0; p < npix; p++ {
		for c := c0; c < c1; c++ {
			blk := w[c/V*(taps+1)*V:]
			k := c % V
			acc := blk[k]
			for kh := 0; kh < KH; kh++ {
				r := rows[kh]
				for kw := 0; kw < KW; kw++ {
					acc += r[(p*stride+kw)*C+c] * blk[(1+kh*KW+kw)*V+k]
				}
			}
			out[p*C+c] = min(max(acc, lo), hi)
		}
	}
}

// dwTaps lists the window positions of one output pixel that fall inside
// the input: ptrs[i] is that input pixel's channel 0 and offs[i] the byte
// offset of its weights within a block of the packed layout,
// (1+t)*V*4 for tap t = kh*KW+kw. The assembly reads offs[i] at a fixed
// distance from ptrs[i], so the two arrays stay together in this order.
type dwTaps struct {
	ptrs [25]unsafe.Pointer
	offs [25]int
}

// dwPixelGeneric is the contract of the dwPixel* kernels: one output pixel,
// channels [c0, c1), summed over the n ≥ 1 taps that lie inside the input
// (x[i] is that input pixel's channel 0, tap[i] its window position
// kh*KW+kw); taps is KH*KW, which sets the packed block size.
//
//	for c := c0; c < c1; c++ {
//		blk := w[c/V*(taps+1)*V:]
//		acc := blk[c%V]
//		for i := 0; i < n; i++ {
//			acc += x[i][c] * blk[(1+tap[i])*V+c%V]
//		}
//		out[c] = min(max(acc, lo), hi)
//	}
func dwPixelGeneric(x *[25][]float32, tap *[25]int, n, taps int, out, w []float32, V, c0, c1 int, lo, hi float32) {
	for c := c0; c < c1; c++ {
		blk := w[c/V*(taps+1)*V:]
		k := c % V
		acc := blk[k]
		for i := 0; i < n; i++ {
			acc += x[i][c] * blk[(1+tap[i])*V+k]
		}
		out[c] = min(max(acc, lo), hi)
	}
}
