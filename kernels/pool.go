package kernels

import "math"

// Pooling over NHWC activations; the unit of work is one output row
// (t = n*OH + oh), vectorised over channels.

// MaxPoolRowLen is the scratch, in floats, Elem.MaxPoolRow needs.
func (p *PoolParams) MaxPoolRowLen() int { return p.W * p.C }

// MaxPoolRow computes output row t of a max pooling of NHWC in into NHWC
// out on e's tier (semantics: MaxPoolRef), in two passes through rows (at
// least p.MaxPoolRowLen() floats): first the max over the window's input
// rows, whole rows at a time, then each output pixel's max over its
// columns of that. Max is exact, commutative and associative on values
// (signed zeros included), so the result is a running max's over the
// window in any order, NaN for NaN; the first pass turns KH·KW short
// calls per pixel into KW (about a third of the time of SqueezeNet's 3×3
// pools on AVX2).
func (e Elem) MaxPoolRow(p *PoolParams, t int, in, out, rows []float32) {
	n, oh := t/p.OH, t%p.OH
	C, W := p.C, p.W
	rows = rows[:W*C]
	ih0 := oh*p.StrideH - p.PadT
	have := false
	for kh := 0; kh < p.KH; kh++ {
		ih := ih0 + kh*p.DilH
		if ih < 0 || ih >= p.H {
			continue
		}
		src := in[(n*p.H+ih)*W*C : (n*p.H+ih+1)*W*C]
		if have {
			e.Max(rows, rows, src)
		} else {
			copy(rows, src)
			have = true
		}
	}
	lowest := float32(math.Inf(-1))
	for ow := 0; ow < p.OW; ow++ {
		iw0 := ow*p.StrideW - p.PadL
		o := out[((n*p.OH+oh)*p.OW+ow)*C : ((n*p.OH+oh)*p.OW+ow+1)*C]
		first := true
		for kw := 0; have && kw < p.KW; kw++ {
			iw := iw0 + kw*p.DilW
			if iw < 0 || iw >= W {
				continue
			}
			if first {
				copy(o, rows[iw*C:(iw+1)*C])
				first = false
			} else {
				e.Max(o, o, rows[iw*C:(iw+1)*C])
			}
		}
		if first { // the window lies in the padding only
			for c := range o {
				o[c] = lowest
			}
		}
	}
}

// AvgPoolRow computes output row t of an average pooling (dilation 1) of
// NHWC in into NHWC out. Semantics match AvgPoolRef.
func AvgPoolRow(p *PoolParams, countPad bool, t int, in, out []float32) {
	n, oh := t/p.OH, t%p.OH
	C := p.C
	h0 := oh*p.StrideH - p.PadT
	dh := avgPoolSpan(h0, p.KH, p.H, p.PadT, p.PadB, countPad)
	for ow := 0; ow < p.OW; ow++ {
		w0 := ow*p.StrideW - p.PadL
		dw := avgPoolSpan(w0, p.KW, p.W, p.PadL, p.PadR, countPad)
		o := out[((n*p.OH+oh)*p.OW+ow)*C : ((n*p.OH+oh)*p.OW+ow+1)*C]
		clear(o)
		for ih := max(h0, 0); ih < min(h0+p.KH, p.H); ih++ {
			for iw := max(w0, 0); iw < min(w0+p.KW, p.W); iw++ {
				x := in[((n*p.H+ih)*p.W+iw)*C:]
				x = x[:len(o)]
				for c, v := range x {
					o[c] += v
				}
			}
		}
		inv := float32(dh * dw)
		for c := range o {
			o[c] /= inv
		}
	}
}

// GlobalAvgPoolNHWC averages channels c0..c1-1 of NHWC in ([n][hw][c]) over
// the hw pixels of image n into out[n*c+ch]. acc is summed in pixel order,
// one pixel's channels at a time with AddSlice (so every tier gives the
// same bits).
func GlobalAvgPoolNHWC(n, hw, c, c0, c1 int, in, out []float32) {
	Elem{}.GlobalAvgPoolNHWC(n, hw, c, c0, c1, in, out)
}

// GlobalAvgPoolNHWC is the package function on e's tier.
func (e Elem) GlobalAvgPoolNHWC(n, hw, c, c0, c1 int, in, out []float32) {
	o := out[n*c+c0 : n*c+c1]
	clear(o)
	for i := 0; i < hw; i++ {
		e.Add(o, o, in[(n*hw+i)*c+c0:(n*hw+i)*c+c1])
	}
	d := float32(hw)
	for j := range o {
		o[j] /= d
	}
}
