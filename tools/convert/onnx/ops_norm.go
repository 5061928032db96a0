package onnx

import "github.com/signet-go/signet/model"

// Normalisation and reductions.

var normOps = opTable{
	"BatchNormalization": {
		versions: []int64{1, 6, 7, 9, 14, 15},
		native:   model.OpBatchNormalization,
		attrs: []attrSpec{
			optFloat("epsilon", 1e-5),
			optFloat("momentum", 0.9), // used only in training
			optInt("training_mode", 0),
		},
		// Outputs past the first are training statistics, not computed.
		inputs: arity{5, 5}, outputs: arity{1, 5},
		translate: (*nctx).batchNorm,
	},
	"LpNormalization": {
		versions: []int64{1},
		native:   model.OpLpNormalization,
		attrs:    []attrSpec{optInt("axis", -1), optInt("p", 2)},
		inputs:   exactlyOne, outputs: exactlyOne,
		translate: (*nctx).lpNorm,
	},
	"ReduceMean": reduceOp(model.OpReduceMean),
	"ReduceL2":   reduceOp(model.OpReduceL2),
}

// reduceOp describes ReduceMean and ReduceL2, whose axes are an attribute
// in opsets 11–17 (an input from opset 18).
func reduceOp(native string) *opDesc {
	return &opDesc{
		versions: []int64{1, 11, 13},
		native:   native,
		attrs:    []attrSpec{optInts("axes", "all axes"), optInt("keepdims", 1)},
		inputs:   arity{1, 2}, outputs: exactlyOne,
		translate: (*nctx).reduce,
	}
}

func (x *nctx) batchNorm() error {
	if v, err := x.getInt("training_mode"); err != nil {
		return err
	} else if v != 0 {
		return x.unsupported("training_mode %d", v)
	}
	eps, err := x.getFloat("epsilon")
	if err != nil {
		return err
	}
	in, known := x.shape(x.in(0))
	if known && len(in) < 2 {
		return x.malformed("input of rank %d", len(in))
	}
	var ch int64 = -1
	for i := 1; i < 5; i++ {
		v := x.cin(i)
		if v == nil {
			return x.unsupported("parameter %q is not a constant", x.in(i))
		}
		if !v.isFloat() || len(v.shape) != 1 {
			return x.malformed("parameter %q of shape %v", x.in(i), v.shape)
		}
		if ch >= 0 && v.shape[0] != ch {
			return x.malformed("parameters of different lengths")
		}
		ch = v.shape[0]
	}
	if known && in[1] >= 0 && in[1] != ch {
		return x.malformed("input has %d channels, parameters %d", in[1], ch)
	}
	return x.emit(x.d.native, append([]string{}, x.n.inputs...), []model.Attr{floatAttr("epsilon", eps)}, in)
}

func (x *nctx) lpNorm() error {
	p, err := x.getInt("p")
	if err != nil {
		return err
	}
	if p != 1 && p != 2 {
		return x.unsupported("p = %d", p)
	}
	axis, err := x.getInt("axis")
	if err != nil {
		return err
	}
	s, known := x.shape(x.in(0))
	if known {
		if axis, err = x.normAxis(axis, len(s)); err != nil {
			return err
		}
	}
	return x.emit(x.d.native, []string{x.in(0)}, []model.Attr{intAttr("axis", axis), intAttr("p", p)}, s)
}

// reduceAxes resolves ReduceMean/ReduceL2 axes (attribute in opsets 11–17;
// absent means all axes) and keepdims.
func (x *nctx) reduceAxes(rank int) ([]int64, int64, error) {
	keep, err := x.getInt("keepdims")
	if err != nil {
		return nil, 0, err
	}
	if keep != 0 && keep != 1 {
		return nil, 0, x.malformed("keepdims %d", keep)
	}
	if len(x.n.inputs) > 1 && x.in(1) != "" {
		return nil, 0, x.unsupported("axes as an input (opset 18)")
	}
	axes, ok, err := x.getInts("axes")
	if err != nil {
		return nil, 0, err
	}
	if rank < 0 {
		if !ok {
			return nil, 0, x.unsupported("reduction over all axes of an input of unknown rank")
		}
		for _, a := range axes {
			if a < 0 {
				return nil, 0, x.unsupported("negative axis on input of unknown rank")
			}
		}
		return append([]int64{}, axes...), keep, nil
	}
	if !ok {
		for i := 0; i < rank; i++ {
			axes = append(axes, int64(i))
		}
		return axes, keep, nil
	}
	out := make([]int64, len(axes))
	seen := map[int64]bool{}
	for i, a := range axes {
		if out[i], err = x.normAxis(a, rank); err != nil {
			return nil, 0, err
		}
		if seen[out[i]] {
			return nil, 0, x.malformed("axis %d repeated", a)
		}
		seen[out[i]] = true
	}
	return out, keep, nil
}

func reducedShape(s, axes []int64, keep bool) []int64 {
	red := map[int64]bool{}
	for _, a := range axes {
		red[a] = true
	}
	var out []int64
	for i, d := range s {
		switch {
		case !red[int64(i)]:
			out = append(out, d)
		case keep:
			out = append(out, 1)
		}
	}
	if out == nil {
		out = []int64{}
	}
	return out
}

func (x *nctx) reduce() error {
	s, known := x.shape(x.in(0))
	rank := -1
	if known {
		rank = len(s)
	}
	axes, keep, err := x.reduceAxes(rank)
	if err != nil {
		return err
	}
	var out []int64
	if known {
		out = reducedShape(s, axes, keep == 1)
	}
	return x.emit(x.d.native, []string{x.in(0)}, []model.Attr{intsAttr("axes", axes), intAttr("keepdims", keep)}, out)
}
