package onnx

import (
	"fmt"

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
	alpha, err := x.getFloat("alpha")
	if err != nil {
		return err
	}
	beta, err := x.getFloat("beta")
	if err != nil {
		return err
	}
	ta, err := x.getInt("transA")
	if err != nil {
		return err
	}
	tb, err := x.getInt("transB")
	if err != nil {
		return err
	}
	if (ta != 0 && ta != 1) || (tb != 0 && tb != 1) {
		return x.malformed("transA %d, transB %d", ta, tb)
	}
	B := x.cin(1)
	if B == nil {
		return x.unsupported("B %q is not a constant (bind it with Options.Constants)", x.in(1))
	}
	if !B.isFloat() || len(B.shape) != 2 {
		return x.malformed("B of type %s and shape %v", typeName(B.onnxType), B.shape)
	}
	if x.cin(0) != nil {
		return x.unsupported("constant A")
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
	B := x.cin(1)
	if B == nil {
		return x.unsupported("B %q is not a constant (bind it with Options.Constants)", x.in(1))
	}
	if !B.isFloat() {
		return x.malformed("B of type %s", typeName(B.onnxType))
	}
	if x.cin(0) != nil {
		return x.unsupported("constant A")
	}
	var out []int64
	if a, known := x.shape(x.in(0)); known {
		var err error
		if out, err = matmulShape(a, B.shape); err != nil {
			return x.malformed("%v", err)
		}
	}
	return x.emit(x.d.native, []string{x.in(0), x.in(1)}, nil, out)
}

// matmulShape follows numpy matmul: rank-1 operands are promoted and the
// leading dimensions broadcast.
func matmulShape(a, b []int64) ([]int64, error) {
	if len(a) == 0 || len(b) == 0 {
		return nil, fmt.Errorf("matmul of a scalar")
	}
	aa, bb := a, b
	if len(a) == 1 {
		aa = []int64{1, a[0]}
	}
	if len(b) == 1 {
		bb = []int64{b[0], 1}
	}
	ka, kb := aa[len(aa)-1], bb[len(bb)-2]
	if ka >= 0 && kb >= 0 && ka != kb {
		return nil, fmt.Errorf("matmul of %v and %v: inner dimensions differ", a, b)
	}
	batch, err := broadcast(aa[:len(aa)-2], bb[:len(bb)-2])
	if err != nil {
		return nil, err
	}
	// Promoted rank-1 operands lose their added dimension again.
	out := batch
	if len(a) != 1 {
		out = append(out, aa[len(aa)-2])
	}
	if len(b) != 1 {
		out = append(out, bb[len(bb)-1])
	}
	return out, nil
}
