package kernels

import "math"

// The reference convolution and pooling loops over NCHW tensors: the oracles
// kernel tests compare the optimised kernels with (the engine's own oracle
// is engine/reference, which shares nothing with this package).

// Conv2DRef is the reference convolution over NCHW tensors: x [N,C,H,W],
// w [K,C/G,KH,KW] (OIHW), bias [K] or nil, y [N,K,OH,OW]. Padding reads zero.
// p must have been resolved.
func Conv2DRef(p *ConvParams, x, w, bias, y []float32) {
	cg := p.C / p.Group
	kg := p.K / p.Group
	for n := 0; n < p.N; n++ {
		for k := 0; k < p.K; k++ {
			g := k / kg
			for oh := 0; oh < p.OH; oh++ {
				for ow := 0; ow < p.OW; ow++ {
					var acc float32
					if bias != nil {
						acc = bias[k]
					}
					for c := 0; c < cg; c++ {
						ci := g*cg + c
						windowTaps(p, oh, ow, func(kh, kw, ih, iw int) {
							acc += x[((n*p.C+ci)*p.H+ih)*p.W+iw] * w[((k*cg+c)*p.KH+kh)*p.KW+kw]
						})
					}
					y[((n*p.K+k)*p.OH+oh)*p.OW+ow] = acc
				}
			}
		}
	}
}

// windowTaps calls f for each tap (kh, kw) of output pixel (oh, ow)'s
// window that lies inside the H×W input, at input pixel (ih, iw).
func windowTaps(p *ConvParams, oh, ow int, f func(kh, kw, ih, iw int)) {
	for kh := 0; kh < p.KH; kh++ {
		ih := oh*p.StrideH - p.PadT + kh*p.DilH
		if ih < 0 || ih >= p.H {
			continue
		}
		for kw := 0; kw < p.KW; kw++ {
			iw := ow*p.StrideW - p.PadL + kw*p.DilW
			if iw < 0 || iw >= p.W {
				continue
			}
			f(kh, kw, ih, iw)
		}
	}
}

// MaxPoolRef is the reference max pooling over NCHW tensors. Padding never
// wins (it is skipped, as if -Inf). A window with no valid element yields -Inf.
func MaxPoolRef(p *PoolParams, x, y []float32) {
	win := &ConvParams{H: p.H, W: p.W, KH: p.KH, KW: p.KW, StrideH: p.StrideH, StrideW: p.StrideW,
		DilH: p.DilH, DilW: p.DilW, PadT: p.PadT, PadL: p.PadL}
	for nc := 0; nc < p.N*p.C; nc++ {
		for oh := 0; oh < p.OH; oh++ {
			for ow := 0; ow < p.OW; ow++ {
				m := float32(math.Inf(-1))
				windowTaps(win, oh, ow, func(_, _, ih, iw int) {
					if v := x[(nc*p.H+ih)*p.W+iw]; v > m || v != v {
						m = v
					}
				})
				y[(nc*p.OH+oh)*p.OW+ow] = m
			}
		}
	}
}

// AvgPoolRef is the reference average pooling over NCHW tensors (dilation 1).
// With countPad (count_include_pad=1) the divisor counts padding positions
// inside the declared pads but not the extra positions ceil mode adds past them.
// Valid parameters (pads smaller than the window) never give an empty window.
func AvgPoolRef(p *PoolParams, countPad bool, x, y []float32) {
	for nc := 0; nc < p.N*p.C; nc++ {
		for oh := 0; oh < p.OH; oh++ {
			h0 := oh*p.StrideH - p.PadT
			dh := avgPoolSpan(h0, p.KH, p.H, p.PadT, p.PadB, countPad)
			for ow := 0; ow < p.OW; ow++ {
				w0 := ow*p.StrideW - p.PadL
				dw := avgPoolSpan(w0, p.KW, p.W, p.PadL, p.PadR, countPad)
				var s float32
				for ih := max(h0, 0); ih < min(h0+p.KH, p.H); ih++ {
					for iw := max(w0, 0); iw < min(w0+p.KW, p.W); iw++ {
						s += x[(nc*p.H+ih)*p.W+iw]
					}
				}
				y[(nc*p.OH+oh)*p.OW+ow] = s / float32(dh*dw)
			}
		}
	}
}

// GlobalAvgPoolRef averages each [H,W] plane of an NCHW tensor: y [N,C].
func GlobalAvgPoolRef(n, c, hw int, x, y []float32) {
	for i := 0; i < n*c; i++ {
		var s float32
		for _, v := range x[i*hw : i*hw+hw] {
			s += v
		}
		y[i] = s / float32(hw)
	}
}
