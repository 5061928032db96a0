package kernels

import "unsafe"

// dwTier describes the SIMD depthwise kernels of one tier.
type dwTier struct {
	v      int  // channels per vector
	masked bool // kernels handle a partial last vector with masked loads and stores
}

var dwTiers = map[Tier]dwTier{}

// registerDepthwise is called from init functions of the architecture files.
func registerDepthwise(t Tier, k dwTier, cpuHas bool) {
	registryMu.Lock()
	defer registryMu.Unlock()
	if cpuHas {
		dwTiers[t] = k
	}
}

// depthwiseTier reports the SIMD depthwise kernels of tier t, if this
// machine runs them.
func depthwiseTier(t Tier) (dwTier, bool) {
	registryMu.Lock()
	defer registryMu.Unlock()
	k, ok := dwTiers[t]
	return k, ok
}

// runSIMD computes output row t with the tier's assembly: the pixels whose
// window lies inside the input columns in one call of the row kernel (input
// rows in the padding read d.zero), the few border pixels one at a time
// through the pixel kernel with their padding taps pointed at d.zero, and on
// unmasked tiers the channels past the last whole vector in Go.
func (d *Depthwise) runSIMD(t int, in, out []float32) {
	p := &d.P
	C, H, W := p.C, p.H, p.W
	n, oh := t/p.OH, t%p.OH
	in = in[:p.N*H*W*C]
	row := out[(n*p.OH+oh)*p.OW*C : (n*p.OH+oh+1)*p.OW*C]
	ih0 := oh*p.StrideH - p.PadT
	sw := p.StrideW
	taps := p.KH * p.KW

	blocks, cFull, mask := C/d.v, C/d.v*d.v, uint32(0)
	if d.masked {
		blocks, cFull = (C+d.v-1)/d.v, C
		mask = uint32(1)<<uint(C-(blocks-1)*d.v) - 1
	}

	// Output columns [owLo, owHi) have their whole window inside the input.
	owLo := min((p.PadL+sw-1)/sw, p.OW)
	owHi := owLo
	if e := W - p.KW + p.PadL; e >= 0 {
		owHi = max(owLo, min(p.OW, e/sw+1))
	}
	if blocks > 0 && owHi > owLo {
		iwLo := owLo*sw - p.PadL
		var rows [5]unsafe.Pointer
		for kh := 0; kh < p.KH; kh++ {
			if ih := ih0 + kh; ih >= 0 && ih < H {
				rows[kh] = unsafe.Pointer(&in[((n*H+ih)*W+iwLo)*C])
			} else {
				rows[kh] = unsafe.Pointer(&d.zero[iwLo*C])
			}
		}
		npix := owHi - owLo
		c4, pstep := 4*C, 4*C*sw
		dwRowAsm(d.tier, p.KH, &rows, &row[owLo*C], &d.packed[0], npix, blocks, c4, pstep,
			npix*pstep-4*d.v, npix*c4-4*d.v, mask, d.lo, d.hi)
	}
	var xs [25][]float32
	if blocks > 0 {
		var ptrs [25]unsafe.Pointer
		for ow := 0; ow < p.OW; ow++ {
			if ow == owLo {
				ow = max(owHi, ow)
				if ow >= p.OW {
					break
				}
			}
			d.tapSlices(&xs, in, n, ih0, ow*sw-p.PadL)
			for i := 0; i < taps; i++ {
				ptrs[i] = unsafe.Pointer(&xs[i][0])
			}
			dwPixelAsm(d.tier, &ptrs, taps, &row[ow*C], &d.packed[0], blocks, mask, d.lo, d.hi)
		}
	}
	if cFull < C {
		for ow := 0; ow < p.OW; ow++ {
			d.tapSlices(&xs, in, n, ih0, ow*sw-p.PadL)
			dwPixelGeneric(&xs, taps, row[ow*C:(ow+1)*C], d.packed, d.v, cFull, C, d.lo, d.hi)
		}
	}
	if d.post {
		d.Act.ApplySlice(row, row)
	}
}

// tapSlices points xs[kh*KW+kw] at the C channels of input pixel
// (ih0+kh, iw0+kw) of image n, or at zeros where that pixel is padding.
func (d *Depthwise) tapSlices(xs *[25][]float32, in []float32, n, ih0, iw0 int) {
	p := &d.P
	C := p.C
	zero := d.zero[:C]
	for kh := 0; kh < p.KH; kh++ {
		ih := ih0 + kh
		for kw := 0; kw < p.KW; kw++ {
			iw := iw0 + kw
			if ih < 0 || ih >= p.H || iw < 0 || iw >= p.W {
				xs[kh*p.KW+kw] = zero
				continue
			}
			o := ((n*p.H+ih)*p.W + iw) * C
			xs[kh*p.KW+kw] = in[o : o+C]
		}
	}
}
