package reference

import (
	"fmt"
	"math"

	"github.com/signet-go/signet/internal/shape"
)

// Element-wise math: Erf, GELU, Sqrt, Pow, Tanh, Neg, Abs, Reciprocal, Exp,
// Log (each computed in float64 and rounded once), and Max, Min and PRelu
// (exact in float32).

func erfF(v float32) float32  { return float32(math.Erf(float64(v))) }
func tanhF(v float32) float32 { return float32(math.Tanh(float64(v))) }
func expF(v float32) float32  { return float32(math.Exp(float64(v))) }
func logF(v float32) float32  { return float32(math.Log(float64(v))) }
func sqrtF(v float32) float32 { return float32(math.Sqrt(float64(v))) }

// geluF is x·(1+erf(x/√2))/2 in float64.
func geluF(v float32) float32 {
	x := float64(v)
	return float32(0.5 * x * (1 + math.Erf(x/math.Sqrt2)))
}

func powF(a, b float32) float32 { return float32(math.Pow(float64(a), float64(b))) }

// erf: y = erf(x).
func erf(nd *node) error { return unary(nd, erfF) }

// gelu: y = x·(1+erf(x/√2))/2 (signet-native; PyTorch's exact GELU).
func gelu(nd *node) error { return unary(nd, geluF) }

// sqrt: y = √x (NaN below 0).
func sqrt(nd *node) error { return unary(nd, sqrtF) }

// tanh: y = tanh(x).
func tanh(nd *node) error { return unary(nd, tanhF) }

// neg: y = -x.
func neg(nd *node) error { return unary(nd, func(v float32) float32 { return -v }) }

// abs: y = |x|.
func abs(nd *node) error {
	return unary(nd, func(v float32) float32 { return float32(math.Abs(float64(v))) })
}

// reciprocal: y = 1/x.
func reciprocal(nd *node) error { return unary(nd, func(v float32) float32 { return 1 / v }) }

// exp: y = e^x.
func exp(nd *node) error { return unary(nd, expF) }

// log: y = ln x.
func log(nd *node) error { return unary(nd, logF) }

// pow: y = x^y, broadcasting, as math.Pow defines it.
func pow(nd *node) error { return binaryOp(nd, powF) }

// maxOp: y = max(a, b), broadcasting; NaN if either is NaN.
func maxOp(nd *node) error { return binaryOp(nd, func(a, b float32) float32 { return max(a, b) }) }

// minOp: y = min(a, b), broadcasting; NaN if either is NaN.
func minOp(nd *node) error { return binaryOp(nd, func(a, b float32) float32 { return min(a, b) }) }

// prelu: y = x < 0 ? slope·x : x, the slope broadcast to X's shape.
func prelu(nd *node) error {
	in, err := nd.begin(2, 2, 1)
	if err != nil {
		return err
	}
	x, s := in[0], in[1]
	if o, ok := shape.Broadcast(x.shape, s.shape); !ok || len(o) != len(x.shape) || product(o) != len(x.f) {
		return fmt.Errorf("%w: slope of shape %v does not broadcast to X's %v", ErrShape, s.shape, x.shape)
	}
	return binaryOp(nd, func(a, b float32) float32 {
		if a < 0 {
			return a * b
		}
		return a
	})
}
