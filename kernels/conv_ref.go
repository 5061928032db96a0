package kernels

import "math"

// ConvParams describes one 2-D convolution with ONNX Conv semantics:
// input [N, C, H, W], weights [K, C/Group, KH, KW], output [N, K, OH, OW].
// Pads are explicit (auto_pad is resolved by the caller).
type ConvParams struct {
	N, C, H, W             int
	K                      int // output channels
	KH, KW                 int
	StrideH, StrideW       int
	DilH, DilW             int
	PadT, PadL, PadB, PadR int
	Group                  int
	OH, OW                 int // output size; see (*ConvParams).Resolve
}

// Resolve computes OH and OW from the other fields and reports whether the
// parameters describe a valid convolution.
func (p *ConvParams) Resolve() bool {
	if p.N < 1 || p.C < 1 || p.H < 1 || p.W < 1 || p.K < 1 || p.KH < 1 || p.KW < 1 ||
		p.StrideH < 1 || p.StrideW < 1 || p.DilH < 1 || p.DilW < 1 || p.Group < 1 ||
		p.PadT < 0 || p.PadL < 0 || p.PadB < 0 || p.PadR < 0 ||
		p.C%p.Group != 0 || p.K%p.Group != 0 {
		return false
	}
	ekh := (p.KH-1)*p.DilH + 1
	ekw := (p.KW-1)*p.DilW + 1
	h := p.H + p.PadT + p.PadB - ekh
	w := p.W + p.PadL + p.PadR - ekw
	if h < 0 || w < 0 {
		return false
	}
	p.OH = h/p.StrideH + 1
	p.OW = w/p.StrideW + 1
	return true
}

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
								acc += x[((n*p.C+ci)*p.H+ih)*p.W+iw] * w[((k*cg+c)*p.KH+kh)*p.KW+kw]
							}
						}
					}
					y[((n*p.K+k)*p.OH+oh)*p.OW+ow] = acc
				}
			}
		}
	}
}

// PoolParams describes a 2-D pooling window with ONNX MaxPool/AveragePool
// semantics over input [N, C, H, W] and output [N, C, OH, OW].
type PoolParams struct {
	N, C, H, W             int
	KH, KW                 int
	StrideH, StrideW       int
	DilH, DilW             int
	PadT, PadL, PadB, PadR int
	CeilMode               bool
	OH, OW                 int
}

// Resolve computes OH and OW (floor or ceil mode; in ceil mode a last window
// that would start inside the end padding is dropped, as PyTorch and ONNX
// Runtime do) and reports whether the parameters are valid.
func (p *PoolParams) Resolve() bool {
	if p.N < 1 || p.C < 1 || p.H < 1 || p.W < 1 || p.KH < 1 || p.KW < 1 ||
		p.StrideH < 1 || p.StrideW < 1 || p.DilH < 1 || p.DilW < 1 ||
		p.PadT < 0 || p.PadL < 0 || p.PadB < 0 || p.PadR < 0 {
		return false
	}
	var ok bool
	if p.OH, ok = poolOut(p.H, p.KH, p.StrideH, p.DilH, p.PadT, p.PadB, p.CeilMode); !ok {
		return false
	}
	p.OW, ok = poolOut(p.W, p.KW, p.StrideW, p.DilW, p.PadL, p.PadR, p.CeilMode)
	return ok
}

func poolOut(in, k, s, d, pb, pe int, ceil bool) (int, bool) {
	ek := (k-1)*d + 1
	span := in + pb + pe - ek
	if span < 0 {
		return 0, false
	}
	if !ceil {
		return span/s + 1, true
	}
	o := (span+s-1)/s + 1
	if (o-1)*s >= in+pb {
		o--
	}
	return o, true
}

// MaxPoolRef is the reference max pooling over NCHW tensors. Padding never
// wins (it is skipped, as if -Inf). A window with no valid element yields -Inf.
func MaxPoolRef(p *PoolParams, x, y []float32) {
	for nc := 0; nc < p.N*p.C; nc++ {
		for oh := 0; oh < p.OH; oh++ {
			for ow := 0; ow < p.OW; ow++ {
				m := float32(math.Inf(-1))
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
						if v := x[(nc*p.H+ih)*p.W+iw]; v > m || v != v {
							m = v
						}
					}
				}
				y[(nc*p.OH+oh)*p.OW+ow] = m
			}
		}
	}
}

// avgPoolSpan returns the divisor of one average-pooling window starting at
// input coordinate start (possibly negative) with extent k along one axis:
// with countPad, the positions inside the padded input [-pb, in+pe); without,
// the positions inside [0, in).
func avgPoolSpan(start, k, in, pb, pe int, countPad bool) int {
	lo, hi := start, start+k
	if countPad {
		lo = max(lo, -pb)
		hi = min(hi, in+pe)
	} else {
		lo = max(lo, 0)
		hi = min(hi, in)
	}
	return max(hi-lo, 0)
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
