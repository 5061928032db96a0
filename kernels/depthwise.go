package kernels

import (
	"fmt"
	"math"
	"sync"
)

// Depthwise is a depthwise convolution (Group == C == K) over NHWC
// activations, vectorised over channels.
//
// The kernel is chosen once, when the layer is planned: a SIMD tier runs
// 3×3 and 5×5 windows with dilation 1 (any stride, any padding) through its
// assembly row kernel; every other shape, and the Generic tier, runs the Go
// loops below. Results depend only on the tier, never on how rows are split
// over threads. The weights are held once, in the layout of the path taken.
type Depthwise struct {
	P   ConvParams
	Act Act

	tier   Tier
	lo, hi float32 // clamp fused into the kernels; ±Inf when there is none
	el     Elem    // element-wise kernels of the layer's tier, for Act
	// Generic tier:
	w     []float32 // [KH*KW][C], tap-major
	bias  []float32 // [C], zero when the model has none
	go3x3 bool      // 3×3, dilation 1, stride 1 or 2 both ways (interior fast paths)
	// SIMD tiers:
	v      int       // channels per vector
	masked bool      // the tier's kernels handle the last partial vector themselves
	packed []float32 // bias and weights in blocks of v channels, see packDepthwise
	zero   []float32 // at least W*C zeros, shared by every layer: the input row or pixel read for padding
	post   bool      // Act runs over each finished output row (HardSwish, SiLU, ...)
}

// NewDepthwiseTier repacks OIHW weights [C,1,KH,KW] for tier t (Generic when
// t is not available here or has no kernel for the shape; Tier reports
// which). p must be resolved and have Group == C == K.
func NewDepthwiseTier(p ConvParams, w, bias []float32, act Act, t Tier) *Depthwise {
	taps := p.KH * p.KW
	d := &Depthwise{P: p, Act: act, el: ElemFor(t), lo: float32(math.Inf(-1)), hi: float32(math.Inf(1))}
	if act.Kind == ActClamp {
		d.lo, d.hi = act.A, act.B
	}
	if k, kt, ok := dwSIMD(&p, t); ok {
		d.tier, d.v, d.masked = kt, k.v, k.masked
		d.packed = packDepthwise(p.C, taps, d.v, w, bias)
		d.zero = zeros(p.W * p.C)
		d.post = act.Kind != ActNone && act.Kind != ActClamp
		return d
	}
	d.w, d.bias = make([]float32, taps*p.C), make([]float32, p.C)
	for c := 0; c < p.C; c++ {
		for k := 0; k < taps; k++ {
			d.w[k*p.C+c] = w[c*taps+k]
		}
	}
	if bias != nil {
		copy(d.bias, bias)
	}
	d.go3x3 = p.KH == 3 && p.KW == 3 && p.DilH == 1 && p.DilW == 1 && (p.StrideH == 1 || p.StrideH == 2) && p.StrideH == p.StrideW
	return d
}

// DepthwiseFloats is the number of floats NewDepthwiseTier(p, ..., t)
// holds for its layer: its weights and bias in the layout of the path it
// takes. The row of zeros SIMD tiers read for padding is not counted: one
// row, as long as the widest layer's W·C, serves every layer.
func DepthwiseFloats(p ConvParams, t Tier) int {
	taps := p.KH * p.KW
	if k, _, ok := dwSIMD(&p, t); ok {
		return (p.C + k.v - 1) / k.v * (taps + 1) * k.v
	}
	return (taps + 1) * p.C
}

// dwSIMD returns the SIMD kernels tier t (or the tier it falls back to)
// has for p's window, and false when the Go loops run it instead.
func dwSIMD(p *ConvParams, t Tier) (dwTier, Tier, bool) {
	im := dwFamily.Lookup(uint8(t))
	shapeOK := p.KH == p.KW && (p.KH == 3 || p.KH == 5) && p.DilH == 1 && p.DilW == 1
	return im.Kernels, Tier(im.Tier), Tier(im.Tier) != Generic && shapeOK
}

// zeroRow is a read-only run of zeros that every SIMD depthwise layer reads
// for its padding; it only grows, and a layer keeps the one it was given.
var zeroRow struct {
	sync.Mutex
	buf []float32
}

// zeros returns at least n zeros that no one writes.
func zeros(n int) []float32 {
	zeroRow.Lock()
	defer zeroRow.Unlock()
	if len(zeroRow.buf) < n {
		zeroRow.buf = make([]float32, n)
	}
	return zeroRow.buf[:n]
}

// Tier returns the tier whose kernel Run uses.
func (d *Depthwise) Tier() Tier { return d.tier }

// Kernel names the path Run takes, e.g. "f32-dwconv-3x3-avx512".
func (d *Depthwise) Kernel() string {
	if d.tier != Generic {
		return fmt.Sprintf("f32-dwconv-%dx%d-%v", d.P.KH, d.P.KW, d.tier)
	}
	if d.P.KW == 5 && d.P.DilW == 1 {
		return "f32-dwconv-5xN-go"
	}
	if d.go3x3 {
		return "f32-dwconv-3x3-go"
	}
	return "f32-dwconv-go"
}

// Tasks returns the number of output rows (N·OH), the unit of work.
func (d *Depthwise) Tasks() int { return d.P.N * d.P.OH }

// RunTask computes output row t (n = t/OH, oh = t%OH).
func (d *Depthwise) RunTask(t int, in, out []float32) {
	if d.tier != Generic {
		d.runSIMD(t, in, out)
		return
	}
	p := &d.P
	n, oh := t/p.OH, t%p.OH
	C := p.C
	ih0 := oh*p.StrideH - p.PadT
	fast3 := d.go3x3 && ih0 >= 0 && ih0+2 < p.H
	for ow := 0; ow < p.OW; ow++ {
		iw0 := ow*p.StrideW - p.PadL
		o := out[((n*p.OH+oh)*p.OW+ow)*C : ((n*p.OH+oh)*p.OW+ow+1)*C]
		if fast3 && p.StrideW == 1 && iw0 >= 0 && iw0+3 < p.W && ow+1 < p.OW && (d.Act.Kind == ActClamp || d.Act.Kind == ActNone) {
			// Two neighbouring pixels share six of their nine input columns.
			o2 := out[((n*p.OH+oh)*p.OW+ow)*C : ((n*p.OH+oh)*p.OW+ow+2)*C]
			d.interior3x3Pair(in, o2, n, ih0, iw0)
			ow++
			continue
		}
		if fast3 && iw0 >= 0 && iw0+2 < p.W {
			d.interior3x3(in, o, n, ih0, iw0)
			if d.Act.Kind == ActClamp || d.Act.Kind == ActNone {
				continue
			}
		} else {
			copy(o, d.bias)
			for kh := 0; kh < p.KH; kh++ {
				ih := ih0 + kh*p.DilH
				if ih < 0 || ih >= p.H {
					continue
				}
				if p.KW == 5 && p.DilW == 1 && iw0 >= 0 && iw0+4 < p.W {
					// A whole 5-tap row in one pass over the channels.
					b := ((n*p.H+ih)*p.W + iw0) * C
					x0, x1, x2, x3, x4 := in[b:b+C], in[b+C:b+2*C], in[b+2*C:b+3*C], in[b+3*C:b+4*C], in[b+4*C:b+5*C]
					w := d.w[kh*5*C : (kh+1)*5*C]
					w0, w1, w2, w3, w4 := w[:C], w[C:2*C], w[2*C:3*C], w[3*C:4*C], w[4*C:5*C]
					o := o[:C]
					for c := range o {
						acc := o[c]
						acc += x0[c] * w0[c]
						acc += x1[c] * w1[c]
						acc += x2[c] * w2[c]
						acc += x3[c] * w3[c]
						acc += x4[c] * w4[c]
						o[c] = acc
					}
					continue
				}
				for kw := 0; kw < p.KW; kw++ {
					iw := iw0 + kw*p.DilW
					if iw < 0 || iw >= p.W {
						continue
					}
					x := in[((n*p.H+ih)*p.W+iw)*C : ((n*p.H+ih)*p.W+iw+1)*C]
					w := d.w[(kh*p.KW+kw)*C : (kh*p.KW+kw+1)*C]
					x = x[:len(o)]
					w = w[:len(o)]
					for c := range o {
						o[c] += x[c] * w[c]
					}
				}
			}
		}
		if d.Act.Kind != ActNone {
			d.el.Apply(d.Act, o, o)
		}
	}
}

// interior3x3Pair computes output pixels ow and ow+1 (stride 1, both
// windows inside the input) in one pass over the channels, each input column
// loaded once for both; same summation order as interior3x3.
func (d *Depthwise) interior3x3Pair(in, o []float32, n, ih, iw int) {
	p := &d.P
	C := p.C
	rs := p.W * C
	base := ((n*p.H+ih)*p.W + iw) * C
	oa, ob := o[:C], o[C:2*C]
	x00, x01, x02, x03 := in[base:base+C], in[base+C:base+2*C], in[base+2*C:base+3*C], in[base+3*C:base+4*C]
	base += rs
	x10, x11, x12, x13 := in[base:base+C], in[base+C:base+2*C], in[base+2*C:base+3*C], in[base+3*C:base+4*C]
	base += rs
	x20, x21, x22, x23 := in[base:base+C], in[base+C:base+2*C], in[base+2*C:base+3*C], in[base+3*C:base+4*C]
	w := d.w
	w00, w01, w02 := w[0:C], w[C:2*C], w[2*C:3*C]
	w10, w11, w12 := w[3*C:4*C], w[4*C:5*C], w[5*C:6*C]
	w20, w21, w22 := w[6*C:7*C], w[7*C:8*C], w[8*C:9*C]
	b, lo, hi := d.bias[:C], d.lo, d.hi
	for c := range oa {
		acc, acc2 := pair3(b[c], b[c], x00[c], x01[c], x02[c], x03[c], w00[c], w01[c], w02[c])
		acc, acc2 = pair3(acc, acc2, x10[c], x11[c], x12[c], x13[c], w10[c], w11[c], w12[c])
		acc, acc2 = pair3(acc, acc2, x20[c], x21[c], x22[c], x23[c], w20[c], w21[c], w22[c])
		oa[c] = min(max(acc, lo), hi)
		ob[c] = min(max(acc2, lo), hi)
	}
}

// pair3 adds one window row to two neighbouring pixels' sums: columns
// y0..y2 to a and y1..y3 to b, each times weights v0..v2, alternating
// between the two (inlined; the order fixes the rounding).
func pair3(a, b, y0, y1, y2, y3, v0, v1, v2 float32) (float32, float32) {
	a += y0 * v0
	b += y1 * v0
	a += y1 * v1
	b += y2 * v1
	a += y2 * v2
	b += y3 * v2
	return a, b
}

// interior3x3 computes one output pixel whose 3×3 window is inside the input,
// all nine taps in one pass over the channels, with a clamp activation fused.
// Every slice is cut to exactly C elements so the loop has no bounds checks.
func (d *Depthwise) interior3x3(in, o []float32, n, ih, iw int) {
	p := &d.P
	C := p.C
	rs := p.W * C
	base := ((n*p.H+ih)*p.W + iw) * C
	o = o[:C]
	x00, x01, x02 := in[base:base+C], in[base+C:base+2*C], in[base+2*C:base+3*C]
	base += rs
	x10, x11, x12 := in[base:base+C], in[base+C:base+2*C], in[base+2*C:base+3*C]
	base += rs
	x20, x21, x22 := in[base:base+C], in[base+C:base+2*C], in[base+2*C:base+3*C]
	w := d.w
	w00, w01, w02 := w[0:C], w[C:2*C], w[2*C:3*C]
	w10, w11, w12 := w[3*C:4*C], w[4*C:5*C], w[5*C:6*C]
	w20, w21, w22 := w[6*C:7*C], w[7*C:8*C], w[8*C:9*C]
	b, lo, hi := d.bias[:C], d.lo, d.hi
	for c := range o {
		acc := b[c]
		acc += x00[c] * w00[c]
		acc += x01[c] * w01[c]
		acc += x02[c] * w02[c]
		acc += x10[c] * w10[c]
		acc += x11[c] * w11[c]
		acc += x12[c] * w12[c]
		acc += x20[c] * w20[c]
		acc += x21[c] * w21[c]
		acc += x22[c] * w22[c]
		o[c] = min(max(acc, lo), hi)
	}
}
