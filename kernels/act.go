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
		return max(0, min(1, a.A*x+a.B))
	case ActHardSwish:
		return x * min(max(x+3, 0), 6) / 6
	case ActSiLU:
		return x / (1 + expf(-x))
	}
	return x
}

func sigmoid(x float32) float32 {
	return 1 / (1 + expf(-x))
}

// ApplySlice applies the activation to dst[i] = act(src[i]); dst and src may
// be the same slice.
func (a Act) ApplySlice(dst, src []float32) {
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
	default:
		for i, v := range src {
			dst[i] = a.Apply(v)
		}
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
