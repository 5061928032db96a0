package kernels

import "math"

// ActKind names an element-wise activation.
type ActKind uint8

// Activations. ActClamp covers Relu (Lo=0, Hi=+Inf), Relu6 and Clip.
const (
	ActNone ActKind = iota
	ActClamp
	ActLeakyRelu   // x if x ≥ 0 else A·x
	ActSigmoid     // 1/(1+exp(-x))
	ActHardSigmoid // max(0, min(1, A·x+B))
	ActHardSwish   // x·min(max(x+3,0),6)/6
	ActSiLU        // x·sigmoid(x)
)

// Act is an activation with its parameters.
type Act struct {
	Kind ActKind
	A, B float32 // LeakyRelu alpha; HardSigmoid alpha, beta; Clamp lo, hi
}

// Epilogue returns the GEMM epilogue equivalent to the activation and whether
// one exists (LeakyRelu, Sigmoid and HardSigmoid run as a separate pass).
func (a Act) Epilogue() (Epilogue, bool) {
	switch a.Kind {
	case ActNone:
		return Identity(), true
	case ActClamp:
		return Epilogue{Kind: EpiClamp, Lo: a.A, Hi: a.B}, true
	case ActHardSwish:
		return Epilogue{Kind: EpiHardSwish}, true
	case ActSiLU:
		return Epilogue{Kind: EpiSiLU}, true
	}
	return Epilogue{}, false
}

// Apply computes the activation of one value: the scalar definition.
func (a Act) Apply(x float32) float32 {
	switch a.Kind {
	case ActClamp:
		return min(max(x, a.A), a.B)
	case ActLeakyRelu:
		if x < 0 {
			return a.A * x
		}
		return x
	case ActSigmoid:
		return sigmoid(x)
	case ActHardSigmoid:
		// The conversion rounds the product, so no compiler fuses it
		// into an FMA: the result is the same on every architecture.
		return max(0, min(1, float32(a.A*x)+a.B))
	case ActHardSwish:
		return x * min(max(x+3, 0), 6) / 6
	case ActSiLU:
		return x / (1 + expf(-x))
	case actExp:
		return expf(x)
	}
	return applyMath(a, x) // unary.go; x for ActNone
}

func sigmoid(x float32) float32 {
	return 1 / (1 + expf(-x))
}

// ApplySlice applies the activation to dst[i] = act(src[i]) for i <
// len(dst); src must be at least as long. dst and src may be the same slice
// (not a partial overlap). It runs on Best's kernels (Elem.Apply runs a
// chosen tier's): on amd64 and arm64 SIMD (see act_amd64.go,
// act_arm64.go), elsewhere and under the purego tag the Go loops of
// actGeneric.
//
// Results per tier: Clamp, LeakyRelu, HardSigmoid and HardSwish equal the
// Go loop's exactly (a -0 may come out as +0 or the other way round where
// max/min meet a zero bound); Sigmoid and SiLU go through the vector exp
// (see expf for its accuracy) and stay within 3 ulp of the float64 answer.
// Every element is computed the same way wherever it sits in the slice, so
// splitting a tensor differently over threads never changes a bit.
func (a Act) ApplySlice(dst, src []float32) { Elem{}.Apply(a, dst, src) }

// actExp is the exponential as an activation kind: only the kernels and
// their tests use it (through expSlice), so the vector exp is tested on its
// own.
const actExp ActKind = 7

// expSlice computes dst[i] = e^src[i] on e's kernels.
func expSlice(e Elem, dst, src []float32) { e.Apply(Act{Kind: actExp}, dst, src) }

// actGeneric is the Go twin of the SIMD activation kernels.
func actGeneric(a Act, dst, src []float32) {
	src = src[:len(dst)]
	switch a.Kind {
	case ActNone:
		copy(dst, src)
	case ActClamp:
		lo, hi := a.A, a.B
		for i, v := range src {
			dst[i] = min(max(v, lo), hi)
		}
	case ActLeakyRelu:
		al := a.A
		for i, v := range src {
			if v < 0 {
				v *= al
			}
			dst[i] = v
		}
	case ActSigmoid:
		for i, v := range src {
			dst[i] = 1 / (1 + expInline(-v))
		}
	case ActSiLU:
		for i, v := range src {
			dst[i] = v / (1 + expInline(-v))
		}
	case ActHardSwish:
		for i, v := range src {
			dst[i] = v * min(max(v+3, 0), 6) / 6
		}
	case ActHardSigmoid:
		al, be := a.A, a.B
		for i, v := range src {
			dst[i] = max(0, min(1, float32(al*v)+be))
		}
	case actExp:
		for i, v := range src {
			dst[i] = expf(v)
		}
	default:
		unaryGeneric(a, dst, src) // unary.go
	}
}

// expInline is expf with the common case inlined into the caller's loop.
func expInline(z float32) float32 {
	if z > -87 && z < 88 {
		return expRange(z)
	}
	return expSlow(z)
}

//go:noinline
func expSlow(z float32) float32 { return float32(math.Exp(float64(z))) }
