package onnx

import (
	"fmt"

	"github.com/signet-go/signet/internal/shape"
	"github.com/signet-go/signet/model"
)

// Matrix products with a constant right operand.

var gemmOps = opTable{
	"Gemm": {
		versions: []int64{1, 6, 7, 9, 11, 13},
		native:   model.OpGemm,
		attrs: []attrSpec{
			optFloat("alpha", 1), optFloat("beta", 1),
			optInt("transA", 0), optInt("transB", 0),
		},
		inputs: arity{2, 3}, outputs: exactlyOne,
		translate: (*nctx).gemm,
	},
	"MatMul": {
		versions: []int64{1, 9, 13},
		native:   model.OpMatMul,
		inputs:   arity{2, 2}, outputs: exactlyOne,
		translate: (*nctx).matmul,
	},
}

func (x *nctx) gemm() error {
	r := attrReader{x: x}
	alpha, beta := r.float("alpha"), r.float("beta")
	ta, tb := r.int("transA"), r.int("transB")
	if r.err != nil {
		return r.err
	}
	if (ta != 0 && ta != 1) || (tb != 0 && tb != 1) {
		return x.malformed("transA %d, transB %d", ta, tb)
	}
	B, err := x.constB(true)
	if err != nil {
		return err
	}
	k, n := B.shape[0], B.shape[1]
	if tb == 1 {
		k, n = n, k
	}
	a, known := x.shape(x.in(0))
	var out []int64
	if known {
		if len(a) != 2 {
			return x.malformed("A of rank %d", len(a))
		}
		m, ka := a[0], a[1]
		if ta == 1 {
			m, ka = ka, m
		}
		if ka >= 0 && ka != k {
			return x.malformed("A has inner dimension %d, B %d", ka, k)
		}
		out = []int64{m, n}
	}
	inputs := []string{x.in(0), x.in(1)}
	if name := x.in(2); name != "" {
		C := x.cin(2)
		if C == nil {
			return x.unsupported("C %q is not a constant", name)
		}
		if !C.isFloat() {
			return x.malformed("C of type %s", typeName(C.onnxType))
		}
		if out != nil {
			if _, err := broadcast(out, C.shape); err != nil || len(C.shape) > 2 {
				return x.malformed("C of shape %v does not broadcast to %v", C.shape, out)
			}
		}
		inputs = append(inputs, name)
	}
	return x.emit(x.d.native, inputs, []model.Attr{
		floatAttr("alpha", alpha), floatAttr("beta", beta), intAttr("transA", ta), intAttr("transB", tb),
	}, out)
}

func (x *nctx) matmul() error {
	B, err := x.constB(false)
	if err != nil {
		return err
	}
	var out []int64
	if a, known := x.shape(x.in(0)); known {
		if out, err = matmulShape(a, B.shape); err != nil {
			return x.malformed("%v", err)
		}
	}
	return x.emit(x.d.native, []string{x.in(0), x.in(1)}, nil, out)
}

// constB returns input 1 of Gemm (matrix) or MatMul, which signet
// multiplies only as a float constant, of rank 2 for Gemm, into a computed
// input 0.
func (x *nctx) constB(matrix bool) (*cval, error) {
	B := x.cin(1)
	switch {
	case B == nil:
		return nil, x.unsupported("B %q is not a constant (bind it with Options.Constants)", x.in(1))
	case matrix && (!B.isFloat() || len(B.shape) != 2):
		return nil, x.malformed("B of type %s and shape %v", typeName(B.onnxType), B.shape)
	case !B.isFloat():
		return nil, x.malformed("B of type %s", typeName(B.onnxType))
	case x.cin(0) != nil:
		return nil, x.unsupported("constant A")
	}
	return B, nil
}

// matmulShape follows numpy matmul: rank-1 operands are promoted and the
// leading dimensions broadcast.
func matmulShape(a, b []int64) ([]int64, error) {
	ea, eb, _, out, fault := shape.MatMul(a, b)
	switch fault {
	case shape.MatMulScalar:
		return nil, fmt.Errorf("matmul of a scalar")
	case shape.MatMulInner:
		return nil, fmt.Errorf("matmul of %v and %v: inner dimensions differ", a, b)
	case shape.MatMulBatch:
		return nil, fmt.Errorf("shapes %v and %v do not broadcast", ea[:len(ea)-2], eb[:len(eb)-2])
	}
	return out, nil
}
