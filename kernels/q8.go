package kernels

import (
	"math"

	"github.com/signet-go/signet/kernels/internal/impl"
)

// The int8 element-wise kernels: QuantizeLinear, DequantizeLinear, the
// requantising Add of two int8 tensors and the running max of int8 max
// pooling. Every tier is one q8Impl in q8Family; the Go loops in this file
// are the oracle, and every assembly tier gives their bits exactly: the
// integer steps are exact, and the float steps are the same IEEE
// operations in the same order (two products and a sum, never fused; a
// true division; rounding half to even).

// q8Impl is one tier's int8 element-wise kernels. The functions receive
// len(dst) ≥ 1 and sources at least as long as dst.
type q8Impl struct {
	quant   func(dst []int8, src []float32, scale float32, zero int8)
	dequant func(dst []float32, src []int8, scale float32, zero int8)
	add     func(dst, a, b []int8, p *QAddParams)
	max     func(dst, a []int8)
}

// q8Family holds the int8 element-wise kernels of every tier.
var q8Family = impl.NewFamily[*q8Impl]("q8")

func registerQ8(t Tier, name string, k *q8Impl) { register(q8Family, t, name, k) }

func init() {
	registerQ8(Generic, "qs8-elem-go", &q8Impl{quant: q8QuantGeneric, dequant: q8DequantGeneric, add: q8AddGeneric, max: q8MaxGeneric})
}

// QAddParams are the parameters of an int8 Add: inputs a and b with their
// scales and zero points, the output's scale, zero point and clamp.
type QAddParams struct {
	ScaleA, ScaleB float32
	ZeroA, ZeroB   int8
	Scale          float32
	Out            QOut
}

// QuantizeInt8 is ONNX QuantizeLinear of one value: saturate(round(x/scale)
// + zero) with the division in float32 and rounding half to even; NaN
// gives the zero point.
func QuantizeInt8(x, scale float32, zero int8) int8 {
	q := x / scale
	if q != q {
		return zero
	}
	// Beyond ±512 the result saturates whatever the rounding; within,
	// adding and subtracting 1.5·2²³ rounds to an integer, half to even,
	// in float32 arithmetic (the same value as math.RoundToEven, without
	// the float64 round trip, and as the vector conversions under the
	// default rounding mode).
	q = min(max(q, -q8Bound), q8Bound)
	r := int32((q + roundMagic) - roundMagic)
	return int8(min(max(r+int32(zero), math.MinInt8), math.MaxInt8))
}

const (
	roundMagic float32 = 0x1.8p23
	q8Bound    float32 = 512
)

func q8QuantGeneric(dst []int8, src []float32, scale float32, zero int8) {
	src = src[:len(dst)]
	for i, v := range src {
		dst[i] = QuantizeInt8(v, scale, zero)
	}
}

func q8DequantGeneric(dst []float32, src []int8, scale float32, zero int8) {
	src = src[:len(dst)]
	for i, v := range src {
		dst[i] = float32(int32(v)-int32(zero)) * scale
	}
}

func q8AddGeneric(dst, a, b []int8, p *QAddParams) {
	a, b = a[:len(dst)], b[:len(dst)]
	for i := range dst {
		// The conversions keep the products apart from the sum: no FMA.
		y := float32(float32(int32(a[i])-int32(p.ZeroA))*p.ScaleA) + float32(float32(int32(b[i])-int32(p.ZeroB))*p.ScaleB)
		dst[i] = min(max(QuantizeInt8(y, p.Scale, p.Out.ZeroPoint), p.Out.Lo), p.Out.Hi)
	}
}

func q8MaxGeneric(dst, a []int8) {
	a = a[:len(dst)]
	for i, v := range a {
		dst[i] = max(dst[i], v)
	}
}

// Q8 is the int8 element-wise kernel set of one tier, fixed when a layer is
// planned. The zero value runs on Best.
type Q8 struct{ c chosen[q8Impl] }

// Q8For returns tier t's int8 element-wise kernels, or Generic's when t is
// not available on this machine; Tier reports which.
func Q8For(t Tier) Q8 { return Q8{choose(q8Family, t)} }

func (q Q8) get() *q8Impl { return q.c.or(q8Family).k }

// Tier is the tier q runs on.
func (q Q8) Tier() Tier { return q.c.or(q8Family).tier }

// Name is the name of q's implementation.
func (q Q8) Name() string { return q8Family.Lookup(uint8(q.Tier())).Name }

// Quantize computes dst[i] = QuantizeInt8(src[i], scale, zero) for i <
// len(dst); src must be at least as long.
func (q Q8) Quantize(dst []int8, src []float32, scale float32, zero int8) {
	src = src[:len(dst)]
	if len(dst) == 0 {
		return
	}
	q.get().quant(dst, src, scale, zero)
}

// Dequantize computes dst[i] = float32(src[i]-zero)*scale for i < len(dst);
// src must be at least as long.
func (q Q8) Dequantize(dst []float32, src []int8, scale float32, zero int8) {
	src = src[:len(dst)]
	if len(dst) == 0 {
		return
	}
	q.get().dequant(dst, src, scale, zero)
}

// Add computes, for i < len(dst),
//
//	y := float32(a[i]-ZeroA)*ScaleA + float32(b[i]-ZeroB)*ScaleB // not fused
//	dst[i] = min(max(QuantizeInt8(y, Scale, Out.ZeroPoint), Out.Lo), Out.Hi)
//
// a and b must be at least as long as dst; dst may be a or b.
func (q Q8) Add(dst, a, b []int8, p *QAddParams) {
	a, b = a[:len(dst)], b[:len(dst)]
	if len(dst) == 0 {
		return
	}
	q.get().add(dst, a, b, p)
}

// Max computes dst[i] = max(dst[i], a[i]) for i < len(dst); a must be at
// least as long.
func (q Q8) Max(dst, a []int8) {
	a = a[:len(dst)]
	if len(dst) == 0 {
		return
	}
	q.get().max(dst, a)
}

// MaxPoolRow computes output row t of a max pooling of NHWC int8 in into
// NHWC out on q's tier (semantics: MaxPoolRef on the quantised values,
// whose order the scale and zero point preserve): each pixel's channels
// start at -128 and take the running max of the window's taps.
func (q Q8) MaxPoolRow(p *PoolParams, t int, in, out []int8) {
	if p.C == 0 {
		return
	}
	// The implementation's func, not the method value q.Max, which would
	// escape and cost an allocation a row.
	into := q.get().max
	n, oh := t/p.OH, t%p.OH
	C := p.C
	ih0 := oh*p.StrideH - p.PadT
	for ow := 0; ow < p.OW; ow++ {
		iw0 := ow*p.StrideW - p.PadL
		o := out[((n*p.OH+oh)*p.OW+ow)*C : ((n*p.OH+oh)*p.OW+ow+1)*C]
		for c := range o {
			o[c] = math.MinInt8
		}
		for kh := 0; kh < p.KH; kh++ {
			ih := ih0 + kh*p.DilH
			if ih < 0 || ih >= p.H {
				continue
			}
			for kw := 0; kw < p.KW; kw++ {
				iw := iw0 + kw*p.DilW
				if iw < 0 || iw >= p.W {
					continue
				}
				into(o, in[((n*p.H+ih)*p.W+iw)*C:])
			}
		}
	}
}
