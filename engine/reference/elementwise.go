package reference

import (
	"fmt"
	"math"

	"github.com/signet-go/signet/internal/shape"
	"github.com/signet-go/signet/model"
)

// Element-wise operators: the activations (as ops and as the fused
// "activation" of Conv, Gemm and MatMul) and the broadcasting binary ops.

var inf = float32(math.Inf(1))

// The scalar definitions of the activations.

func reluF(v float32) float32         { return max(v, 0) }
func clipF(v, lo, hi float32) float32 { return min(max(v, lo), hi) }
func hardSwishF(v float32) float32    { return v * max(0, min(1, v/6+0.5)) }

// hardSigmoidF rounds the product before adding, so no compiler fuses an
// FMA and every architecture gives the same bits.
func hardSigmoidF(v, a, b float32) float32 { return max(0, min(1, float32(a*v)+b)) }

func leakyReluF(v, alpha float32) float32 {
	if v < 0 {
		return alpha * v
	}
	return v
}

// sigmoidF and siluF take the exponential in float64.
func sigmoidF(v float32) float32 { return float32(1 / (1 + math.Exp(-float64(v)))) }
func siluF(v float32) float32    { return float32(float64(v) / (1 + math.Exp(-float64(v)))) }

// fusedActivation reads the "activation" and "activation_params" attributes
// of Conv, Gemm and MatMul: nil for none. An unknown name, parameters without
// an activation or more parameters than the activation takes are refused.
func (nd *node) fusedActivation() func(float32) float32 {
	act, hasAct := nd.attr("activation", model.AttrString)
	params, hasParams := nd.attrFloats("activation_params")
	if !hasAct {
		if hasParams {
			nd.fail("%w: activation_params without an activation", ErrUnsupported)
		}
		return nil
	}
	name := act.String
	param := func(i int, def float32) float32 {
		if i < len(params) {
			return params[i]
		}
		return def
	}
	takes := 0
	var f func(float32) float32
	switch name {
	case model.ActRelu:
		f = reluF
	case model.ActClip:
		lo, hi := param(0, -inf), param(1, inf)
		f, takes = func(v float32) float32 { return clipF(v, lo, hi) }, 2
	case model.ActLeakyRelu:
		alpha := param(0, 0.01)
		f, takes = func(v float32) float32 { return leakyReluF(v, alpha) }, 1
	case model.ActSigmoid:
		f = sigmoidF
	case model.ActHardSigmoid:
		a, b := param(0, 0.2), param(1, 0.5)
		f, takes = func(v float32) float32 { return hardSigmoidF(v, a, b) }, 2
	case model.ActHardSwish:
		f = hardSwishF
	case model.ActSiLU:
		f = siluF
	case model.ActGELU:
		f = geluF
	default:
		nd.fail("%w: fused activation %q", ErrUnsupported, name)
		return nil
	}
	if len(params) > takes {
		nd.fail("%w: %d activation_params for %s, which takes %d", ErrUnsupported, len(params), name, takes)
	}
	return f
}

// unary applies f to every element of input 0.
func unary(nd *node, f func(float32) float32) error {
	in, err := nd.begin(1, 1, 1)
	if err != nil {
		return err
	}
	x := in[0]
	if err := nd.work(int64(len(x.f))); err != nil {
		return err
	}
	y, err := nd.out(0, x.shape)
	if err != nil {
		return err
	}
	for i, v := range x.f {
		y[i] = f(v)
	}
	return nil
}

// relu: y = max(x, 0).
func relu(nd *node) error { return unary(nd, reluF) }

// clip: y = min(max(x, min), max); absent bounds are ±Inf.
func clip(nd *node) error {
	lo, hi := nd.attrFloat("min", -inf), nd.attrFloat("max", inf)
	return unary(nd, func(v float32) float32 { return clipF(v, lo, hi) })
}

// leakyRelu: y = x ≥ 0 ? x : alpha·x (alpha 0.01).
func leakyRelu(nd *node) error {
	alpha := nd.attrFloat("alpha", 0.01)
	return unary(nd, func(v float32) float32 { return leakyReluF(v, alpha) })
}

// sigmoid: y = 1/(1+e^-x).
func sigmoid(nd *node) error { return unary(nd, sigmoidF) }

// hardSigmoid: y = max(0, min(1, alpha·x+beta)) (alpha 0.2, beta 0.5).
func hardSigmoid(nd *node) error {
	a, b := nd.attrFloat("alpha", 0.2), nd.attrFloat("beta", 0.5)
	return unary(nd, func(v float32) float32 { return hardSigmoidF(v, a, b) })
}

// hardSwish: y = x·max(0, min(1, x/6+1/2)).
func hardSwish(nd *node) error { return unary(nd, hardSwishF) }

// silu: y = x·sigmoid(x).
func silu(nd *node) error { return unary(nd, siluF) }

// binaryOp computes y = f(a, b) with multidirectional (numpy) broadcasting.
func binaryOp(nd *node, f func(a, b float32) float32) error {
	in, err := nd.begin(2, 2, 1)
	if err != nil {
		return err
	}
	a, b := in[0], in[1]
	oshape, ok := shape.Broadcast(a.shape, b.shape)
	if !ok {
		return fmt.Errorf("%w: shapes %v and %v do not broadcast", ErrShape, a.shape, b.shape)
	}
	y, err := nd.out(0, oshape)
	if err != nil {
		return err
	}
	if err := nd.work(int64(len(y))); err != nil {
		return err
	}
	as, bs := broadcastStrides(a.shape, oshape), broadcastStrides(b.shape, oshape)
	idx := make([]int, len(oshape))
	for i := range y {
		ai, bi := 0, 0
		for d := range idx {
			ai += idx[d] * as[d]
			bi += idx[d] * bs[d]
		}
		y[i] = f(a.f[ai], b.f[bi])
		next(idx, oshape)
	}
	return nil
}

// add: y = a + b, broadcasting.
func add(nd *node) error { return binaryOp(nd, func(a, b float32) float32 { return a + b }) }

// sub: y = a − b, broadcasting.
func sub(nd *node) error { return binaryOp(nd, func(a, b float32) float32 { return a - b }) }

// mul: y = a·b, broadcasting.
func mul(nd *node) error { return binaryOp(nd, func(a, b float32) float32 { return a * b }) }

// div: y = a/b, broadcasting.
func div(nd *node) error { return binaryOp(nd, func(a, b float32) float32 { return a / b }) }

// broadcastStrides returns, for each axis of oshape, the stride of a tensor
// of shape s broadcast to it (aligned at the last axis; a size-1 or missing
// axis repeats, stride 0).
func broadcastStrides(s, oshape []int) []int {
	st := make([]int, len(oshape))
	own := strides(s)
	off := len(oshape) - len(s)
	for d := range s {
		if s[d] != 1 {
			st[d+off] = own[d]
		}
	}
	return st
}

// next advances the row-major index idx over dims by one element.
func next(idx, dims []int) {
	for d := len(idx) - 1; d >= 0; d-- {
		idx[d]++
		if idx[d] < dims[d] {
			return
		}
		idx[d] = 0
	}
}
