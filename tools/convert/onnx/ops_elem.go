package onnx

import (
	"fmt"
	"math"

	"github.com/signet-go/signet/internal/shape"
	"github.com/signet-go/signet/model"
)

// Elementwise operators: activations and broadcasting arithmetic.

var elemOps = opTable{
	"Relu": {
		versions: []int64{1, 6, 13, 14},
		native:   model.OpRelu,
		inputs:   exactlyOne, outputs: exactlyOne,
		fold:      foldUnary(fixed(relu)),
		translate: (*nctx).unary,
	},
	"Sigmoid": {
		versions: []int64{1, 6, 13},
		native:   model.OpSigmoid,
		inputs:   exactlyOne, outputs: exactlyOne,
		fold:      foldUnary(fixed(sigmoid)),
		translate: (*nctx).unary,
	},
	"HardSwish": {
		versions: []int64{14},
		native:   model.OpHardSwish,
		inputs:   exactlyOne, outputs: exactlyOne,
		fold:      foldUnary(fixed(func(v float32) float32 { return v * hardSigmoid(v, 1.0/6, 0.5) })),
		translate: (*nctx).unary,
	},
	"LeakyRelu": {
		versions: []int64{1, 6, 16},
		native:   model.OpLeakyRelu,
		attrs:    []attrSpec{optFloat("alpha", 0.01)},
		inputs:   exactlyOne, outputs: exactlyOne,
		fold: foldUnary(func(x *nctx) (elemFn, error) {
			alpha, err := x.getFloat("alpha")
			return func(v float32) float32 {
				if v < 0 {
					return alpha * v
				}
				return v
			}, err
		}),
		translate: (*nctx).unaryWithFloats,
	},
	"HardSigmoid": {
		versions: []int64{1, 6},
		native:   model.OpHardSigmoid,
		attrs:    []attrSpec{optFloat("alpha", 0.2), optFloat("beta", 0.5)},
		inputs:   exactlyOne, outputs: exactlyOne,
		fold: foldUnary(func(x *nctx) (elemFn, error) {
			r := attrReader{x: x}
			alpha, beta := r.float("alpha"), r.float("beta")
			return func(v float32) float32 { return hardSigmoid(v, alpha, beta) }, r.err
		}),
		translate: (*nctx).unaryWithFloats,
	},
	"Clip": {
		versions: []int64{1, 6, 11, 12, 13},
		native:   model.OpClip,
		// Bounds are attributes before opset 11, inputs 1 and 2 since.
		attrs:  []attrSpec{optFloatNote("min", "-Inf"), optFloatNote("max", "+Inf")},
		inputs: arity{1, 3}, outputs: exactlyOne,
		fold: foldUnary(func(x *nctx) (elemFn, error) {
			lo, hi, err := x.clipBounds()
			return func(v float32) float32 { return max(lo, min(hi, v)) }, err
		}),
		translate: (*nctx).clip,
	},
	"Add": binaryOp(model.OpAdd, func(p, q float32) float32 { return p + q }, func(p, q int64) (int64, bool) { return p + q, true }),
	"Sub": binaryOp(model.OpSub, func(p, q float32) float32 { return p - q }, func(p, q int64) (int64, bool) { return p - q, true }),
	"Mul": binaryOp(model.OpMul, func(p, q float32) float32 { return p * q }, func(p, q int64) (int64, bool) { return p * q, true }),
	"Div": binaryOp(model.OpDiv, func(p, q float32) float32 { return p / q }, func(p, q int64) (int64, bool) {
		if q == 0 {
			return 0, false
		}
		return p / q, true
	}),
}

// elemFn is what an activation computes per element.
type elemFn = func(float32) float32

// fixed is an activation without attributes, for foldUnary.
func fixed(f elemFn) func(*nctx) (elemFn, error) {
	return func(*nctx) (elemFn, error) { return f, nil }
}

func relu(v float32) float32 { return max(v, 0) }

func sigmoid(v float32) float32 { return float32(1 / (1 + math.Exp(-float64(v)))) }

func hardSigmoid(v, alpha, beta float32) float32 { return max(0, min(1, alpha*v+beta)) }

// binaryOp describes Add, Sub, Mul and Div (same opsets, numpy
// broadcasting), which become native op native: f computes the float result, i the integer one (false: a
// division by zero).
func binaryOp(native string, f func(p, q float32) float32, i func(p, q int64) (int64, bool)) *opDesc {
	return &opDesc{
		versions: []int64{1, 6, 7, 13, 14},
		native:   native,
		inputs:   arity{2, 2}, outputs: exactlyOne,
		fold: func(x *nctx, in []*cval) (*cval, error) {
			return x.foldBinary(in[0], in[1], f, i)
		},
		translate: (*nctx).binary,
	}
}

func (x *nctx) unary() error {
	s, _ := x.shape(x.in(0))
	return x.emit(x.d.native, []string{x.in(0)}, nil, s)
}

// unaryWithFloats is unary carrying every float attribute the operator
// declares, in the declared order, with its value or default.
func (x *nctx) unaryWithFloats() error {
	var attrs []model.Attr
	for _, a := range x.d.attrs {
		if a.typ != attrFloat {
			continue
		}
		v, err := x.getFloat(a.name)
		if err != nil {
			return err
		}
		attrs = append(attrs, floatAttr(a.name, v))
	}
	s, _ := x.shape(x.in(0))
	return x.emit(x.d.native, []string{x.in(0)}, attrs, s)
}

func (x *nctx) clip() error {
	lo, hi, err := x.clipBounds()
	if err != nil {
		return err
	}
	var attrs []model.Attr
	if !math.IsInf(float64(lo), -1) {
		attrs = append(attrs, floatAttr("min", lo))
	}
	if !math.IsInf(float64(hi), 1) {
		attrs = append(attrs, floatAttr("max", hi))
	}
	s, _ := x.shape(x.in(0))
	return x.emit(x.d.native, []string{x.in(0)}, attrs, s)
}

// clipBounds returns Clip's bounds (±Inf when absent), from inputs (opset 11+)
// or attributes (older exports).
func (x *nctx) clipBounds() (float32, float32, error) {
	lo, hi := float32(math.Inf(-1)), float32(math.Inf(1))
	if a := x.attr("min"); a != nil {
		v, err := x.getFloat("min")
		if err != nil {
			return 0, 0, err
		}
		lo = v
	}
	if a := x.attr("max"); a != nil {
		v, err := x.getFloat("max")
		if err != nil {
			return 0, 0, err
		}
		hi = v
	}
	for i, p := range []*float32{&lo, &hi} {
		v, err := x.scalarIn(i+1, "bound")
		if err != nil {
			return 0, 0, err
		}
		if v != nil {
			*p = v.floats()[0]
		}
	}
	return lo, hi, nil
}

func (x *nctx) binary() error {
	for i := 0; i < 2; i++ {
		if err := x.floatOperand(i); err != nil {
			return err
		}
	}
	a, aok := x.shape(x.in(0))
	b, bok := x.shape(x.in(1))
	var out []int64
	if aok && bok {
		var err error
		if out, err = broadcast(a, b); err != nil {
			return x.malformed("%v", err)
		}
	}
	return x.emit(x.d.native, []string{x.in(0), x.in(1)}, nil, out)
}

// foldUnary folds an activation of a float constant; fn reads the node's
// attributes and returns the function applied to every element.
func foldUnary(fn func(x *nctx) (elemFn, error)) func(x *nctx, in []*cval) (*cval, error) {
	return func(x *nctx, in []*cval) (*cval, error) {
		v := in[0]
		if !v.isFloat() {
			return nil, x.unsupported("%s of an integer constant", x.op)
		}
		f, err := fn(x)
		if err != nil {
			return nil, err
		}
		if _, err := x.foldSize(v.shape, 4); err != nil {
			return nil, err
		}
		out := &cval{onnxType: v.onnxType, shape: v.shape, f: make([]float32, len(v.f))}
		for k, e := range v.f {
			out.f[k] = f(e)
		}
		return out, nil
	}
}

// foldBinary folds broadcasting arithmetic on two constants of the same
// kind: f for floats, i for integers (false: division by zero).
func (x *nctx) foldBinary(a, b *cval, f func(p, q float32) float32, i func(p, q int64) (int64, bool)) (*cval, error) {
	if a.isFloat() != b.isFloat() {
		return nil, x.malformed("operands of types %s and %s", typeName(a.onnxType), typeName(b.onnxType))
	}
	s, err := broadcast(a.shape, b.shape)
	if err != nil {
		return nil, x.malformed("%v", err)
	}
	if _, err := x.foldSize(s, elemBytes(a.onnxType)+16); err != nil {
		return nil, err
	}
	ia, ib := broadcastIndex(s, a.shape), broadcastIndex(s, b.shape)
	out := &cval{onnxType: a.onnxType, shape: s}
	if a.isFloat() {
		out.f = make([]float32, len(ia))
		for k := range ia {
			out.f[k] = f(a.f[ia[k]], b.f[ib[k]])
		}
		return out, nil
	}
	out.i = make([]int64, len(ia))
	for k := range ia {
		var ok bool
		if out.i[k], ok = i(a.i[ia[k]], b.i[ib[k]]); !ok {
			return nil, x.malformed("integer division by zero")
		}
	}
	return out, nil
}

// broadcast returns the numpy-broadcast shape of a and b (-1: unknown), or
// an error saying they do not broadcast.
func broadcast(a, b []int64) ([]int64, error) {
	out, ok := shape.Broadcast(a, b)
	if !ok {
		return nil, fmt.Errorf("shapes %v and %v do not broadcast", a, b)
	}
	return out, nil
}
