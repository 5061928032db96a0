package onnx

import (
	"math"

	"github.com/signet-go/signet/model"
)

// Element-wise math: Erf, Sqrt, Tanh, Neg, Abs, Reciprocal, Exp, Log (one
// input), Pow (a broadcasting exponent), Max and Min (variadic, chained into
// two-input native nodes) and PRelu (a slope broadcast to X). The GELU
// pattern built of Erf is recognised by rewriteGELU (passes_gelu.go).

var mathOps = opTable{
	"Erf":        mathUnary([]int64{9, 13}, model.OpErf, math.Erf, nil),
	"Sqrt":       mathUnary([]int64{1, 6, 13}, model.OpSqrt, math.Sqrt, nil),
	"Tanh":       mathUnary([]int64{1, 6, 13}, model.OpTanh, math.Tanh, nil),
	"Neg":        mathUnary([]int64{1, 6, 13}, model.OpNeg, func(v float64) float64 { return -v }, func(v int64) int64 { return -v }),
	"Abs":        mathUnary([]int64{1, 6, 13}, model.OpAbs, math.Abs, func(v int64) int64 { return max(v, -v) }),
	"Reciprocal": mathUnary([]int64{1, 6, 13}, model.OpReciprocal, func(v float64) float64 { return 1 / v }, nil),
	"Exp":        mathUnary([]int64{1, 6, 13}, model.OpExp, math.Exp, nil),
	"Log":        mathUnary([]int64{1, 6, 13}, model.OpLog, math.Log, nil),
	"Pow": {
		versions: []int64{1, 7, 12, 13, 15},
		native:   model.OpPow,
		inputs:   arity{2, 2}, outputs: exactlyOne,
		fold:      (*nctx).foldPow,
		translate: (*nctx).pow,
	},
	"Max": variadicOp(model.OpMax, func(p, q float32) float32 { return max(p, q) }, func(p, q int64) (int64, bool) { return max(p, q), true }),
	"Min": variadicOp(model.OpMin, func(p, q float32) float32 { return min(p, q) }, func(p, q int64) (int64, bool) { return min(p, q), true }),
	"PRelu": {
		versions: []int64{1, 6, 7, 9, 16},
		native:   model.OpPRelu,
		inputs:   arity{2, 2}, outputs: exactlyOne,
		fold: func(x *nctx, in []*cval) (*cval, error) {
			if err := x.preluShapes(in[0].shape, in[1].shape); err != nil {
				return nil, err
			}
			return x.foldBinary(in[0], in[1], func(p, q float32) float32 {
				if p < 0 {
					return p * q
				}
				return p
			}, func(p, q int64) (int64, bool) {
				if p < 0 {
					return p * q, true
				}
				return p, true
			})
		},
		translate: (*nctx).prelu,
	},
}

// mathUnary describes a one-input operator that becomes native: f computes
// it (in float64, rounded once) when folding a float constant, i an integer
// one (nil: integer constants are refused).
func mathUnary(versions []int64, native string, f func(float64) float64, i func(int64) int64) *opDesc {
	return &opDesc{
		versions: versions,
		native:   native,
		inputs:   exactlyOne, outputs: exactlyOne,
		fold: func(x *nctx, in []*cval) (*cval, error) {
			v := in[0]
			if !v.isFloat() && i == nil {
				return nil, x.unsupported("%s of an integer constant", x.op)
			}
			if _, err := x.foldSize(v.shape, 8); err != nil {
				return nil, err
			}
			out := &cval{onnxType: v.onnxType, shape: v.shape}
			if v.isFloat() {
				out.f = make([]float32, len(v.f))
				for k, e := range v.f {
					out.f[k] = float32(f(float64(e)))
				}
				return out, nil
			}
			out.i = make([]int64, len(v.i))
			for k, e := range v.i {
				out.i[k] = i(e)
			}
			return out, nil
		},
		translate: (*nctx).unary,
	}
}

// variadicOp describes Max and Min: one or more inputs broadcast together.
// One input is an Identity; n inputs become n-1 two-input native nodes.
func variadicOp(native string, f func(p, q float32) float32, i func(p, q int64) (int64, bool)) *opDesc {
	return &opDesc{
		versions: []int64{1, 6, 8, 12, 13},
		native:   native,
		inputs:   arity{1, -1}, outputs: exactlyOne,
		fold: func(x *nctx, in []*cval) (*cval, error) {
			acc := in[0]
			for _, v := range in[1:] {
				var err error
				if acc, err = x.foldBinary(acc, v, f, i); err != nil {
					return nil, err
				}
			}
			return acc, nil
		},
		translate: (*nctx).variadic,
	}
}

func (x *nctx) variadic() error {
	n := len(x.n.inputs)
	for k := 0; k < n; k++ {
		if x.in(k) == "" {
			return x.malformed("input %d is empty", k)
		}
		if err := x.floatOperand(k); err != nil {
			return err
		}
	}
	acc := x.in(0)
	s, known := x.shape(acc)
	if n == 1 {
		return x.emit("Identity", []string{acc}, nil, s)
	}
	for k := 1; k < n; k++ {
		b, ok := x.shape(x.in(k))
		var out []int64
		if known = known && ok; known {
			var err error
			if out, err = broadcast(s, b); err != nil {
				return x.malformed("%v", err)
			}
		}
		if k == n-1 {
			return x.emit(x.d.native, []string{acc, x.in(k)}, nil, out)
		}
		acc, s = x.inner(x.d.native, []string{acc, x.in(k)}, nil, out), out
	}
	return nil
}

// pow translates Pow(X, Y). An integer constant exponent (opset 12 allows
// one) becomes a float constant: the engine computes in float32.
func (x *nctx) pow() error {
	if err := x.floatOperand(0); err != nil {
		return err
	}
	y := x.in(1)
	if v := x.cin(1); v != nil && !v.isFloat() {
		y = x.c.addConst(shortName(x.name)+"_exponent", &cval{onnxType: dtFloat, shape: v.shape, f: v.floats()})
	}
	a, aok := x.shape(x.in(0))
	b, bok := x.shape(y)
	var out []int64
	if aok && bok {
		var err error
		if out, err = broadcast(a, b); err != nil {
			return x.malformed("%v", err)
		}
	}
	return x.emit(x.d.native, []string{x.in(0), y}, nil, out)
}

// foldPow evaluates Pow on constants: float X in float64 (an integer Y
// converted), integer X with an integer Y ≥ 0 exactly (wrapping as int64).
func (x *nctx) foldPow(in []*cval) (*cval, error) {
	a, b := in[0], in[1]
	if a.isFloat() && !b.isFloat() {
		b = &cval{onnxType: dtFloat, shape: b.shape, f: b.floats()}
	}
	if !a.isFloat() && b.isFloat() {
		return nil, x.unsupported("an integer constant to a floating-point power")
	}
	return x.foldBinary(a, b, func(p, q float32) float32 { return float32(math.Pow(float64(p), float64(q))) },
		func(p, q int64) (int64, bool) {
			if q < 0 {
				return 0, false
			}
			r := int64(1)
			for ; q > 0; q >>= 1 {
				if q&1 == 1 {
					r *= p
				}
				p *= p
			}
			return r, true
		})
}

// preluShapes checks that a slope of shape s broadcasts to X's shape xs
// (ONNX: unidirectionally); unknown dimensions pass.
func (x *nctx) preluShapes(xs, s []int64) error {
	out, err := broadcast(xs, s)
	if err != nil {
		return x.malformed("%v", err)
	}
	if len(out) != len(xs) {
		return x.malformed("slope of shape %v does not broadcast to X's %v", s, xs)
	}
	for d := range out {
		if xs[d] >= 0 && out[d] != xs[d] {
			return x.malformed("slope of shape %v does not broadcast to X's %v", s, xs)
		}
	}
	return nil
}

func (x *nctx) prelu() error {
	for k := 0; k < 2; k++ {
		if err := x.floatOperand(k); err != nil {
			return err
		}
	}
	xs, xok := x.shape(x.in(0))
	if s, ok := x.shape(x.in(1)); xok && ok {
		if err := x.preluShapes(xs, s); err != nil {
			return err
		}
	}
	if !xok {
		xs = nil
	}
	return x.emit(x.d.native, []string{x.in(0), x.in(1)}, nil, xs)
}
