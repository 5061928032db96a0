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
	// Layer normalisation, softmax and the other reductions.
	"ReduceMax": reduceMinMaxOp(model.OpReduceMax),
	"ReduceMin": reduceMinMaxOp(model.OpReduceMin),
	"ReduceSum": {
		versions: []int64{1, 11, 13},
		native:   model.OpReduceSum,
		// axes: an attribute before opset 13, input 1 from it.
		attrs:  []attrSpec{optInts("axes", "all axes (before opset 13)"), optInt("keepdims", 1), optInt("noop_with_empty_axes", 0)},
		inputs: arity{1, 2}, outputs: exactlyOne,
		translate: (*nctx).reduceSum,
	},
	"LayerNormalization": {
		versions: []int64{17},
		native:   model.OpLayerNormalization,
		attrs:    []attrSpec{optInt("axis", -1), optFloat("epsilon", 1e-5), optInt("stash_type", 1)},
		// Outputs 1 and 2: the mean and 1/√(σ²+ε) of each vector.
		inputs: arity{2, 3}, outputs: arity{1, 3},
		translate: (*nctx).layerNorm,
	},
	"Softmax": {
		versions: []int64{1, 11, 13},
		native:   model.OpSoftmax,
		attrs:    []attrSpec{optIntNote("axis", "-1 from opset 13, 1 before")},
		inputs:   exactlyOne, outputs: exactlyOne,
		translate: (*nctx).softmax,
	},
}

// reduceMinMaxOp describes ReduceMax and ReduceMin: as ReduceMean, with the
// integer types of opset 12 (which change nothing for float32).
func reduceMinMaxOp(native string) *opDesc {
	d := reduceOp(native)
	d.versions = []int64{1, 11, 12, 13}
	return d
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

// normAxes normalises reduction axes (ok false: absent, meaning all axes)
// for an input of rank rank (-1: unknown), refusing repeated axes.
func (x *nctx) normAxes(rank int, axes []int64, ok bool) ([]int64, error) {
	var err error
	if rank < 0 {
		if !ok {
			return nil, x.unsupported("reduction over all axes of an input of unknown rank")
		}
		for _, a := range axes {
			if a < 0 {
				return nil, x.unsupported("negative axis on input of unknown rank")
			}
		}
		return append([]int64{}, axes...), nil
	}
	if !ok {
		for i := 0; i < rank; i++ {
			axes = append(axes, int64(i))
		}
		return axes, nil
	}
	out := make([]int64, len(axes))
	seen := map[int64]bool{}
	for i, a := range axes {
		if out[i], err = x.normAxis(a, rank); err != nil {
			return nil, err
		}
		if seen[out[i]] {
			return nil, x.malformed("axis %d repeated", a)
		}
		seen[out[i]] = true
	}
	return out, nil
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

// reduce translates ReduceMean, ReduceL2, ReduceMax and ReduceMin, whose
// axes are an attribute in opsets 11–17 (absent: all axes).
func (x *nctx) reduce() error {
	keep, err := x.getFlag("keepdims")
	if err != nil {
		return err
	}
	if len(x.n.inputs) > 1 && x.in(1) != "" {
		return x.unsupported("axes as an input (opset 18)")
	}
	axes, ok, err := x.getInts("axes")
	if err != nil {
		return err
	}
	return x.emitReduce(axes, ok, keep)
}

// emitReduce emits the native reduction of input 0 over axes (ok false:
// absent, meaning all axes).
func (x *nctx) emitReduce(axes []int64, ok bool, keep int64) error {
	s, known := x.shape(x.in(0))
	rank := -1
	if known {
		rank = len(s)
	}
	axes, err := x.normAxes(rank, axes, ok)
	if err != nil {
		return err
	}
	var out []int64
	if known {
		out = reducedShape(s, axes, keep == 1)
	}
	return x.emit(x.d.native, []string{x.in(0)}, []model.Attr{intsAttr("axes", axes), intAttr("keepdims", keep)}, out)
}

// reduceSum translates ReduceSum, whose axes are an attribute before opset
// 13 and a constant input from it; with noop_with_empty_axes and no axes it
// is the identity.
func (x *nctx) reduceSum() error {
	r := attrReader{x: x}
	keep, noop := r.flag("keepdims"), r.flag("noop_with_empty_axes")
	if r.err != nil {
		return r.err
	}
	var axes []int64
	var ok bool
	var err error
	if x.c.opset >= 13 {
		if x.attr("axes") != nil {
			return x.malformed("attribute axes (an input from opset 13)")
		}
		if name := x.in(1); name != "" {
			v := x.cin(1)
			if v == nil {
				return x.unsupported("axes %q are not a constant", name)
			}
			if v.isFloat() || len(v.shape) != 1 {
				return x.malformed("axes of type %s and shape %v", typeName(v.onnxType), v.shape)
			}
			axes, ok = v.ints(), v.numel() > 0
		}
	} else {
		if len(x.n.inputs) > 1 {
			return x.malformed("%d inputs before opset 13", len(x.n.inputs))
		}
		if axes, ok, err = x.getInts("axes"); err != nil {
			return err
		}
		ok = ok && len(axes) > 0
	}
	if !ok && noop == 1 {
		s, _ := x.shape(x.in(0))
		return x.emit("Identity", []string{x.in(0)}, nil, s)
	}
	return x.emitReduce(axes, ok, keep)
}

// layerNorm translates LayerNormalization (opset 17): the axes axis..rank-1
// are normalised; Scale and B, constants, are broadcast to exactly those
// dims.
func (x *nctx) layerNorm() error {
	if v, err := x.getInt("stash_type"); err != nil {
		return err
	} else if v != dtFloat {
		return x.unsupported("stash_type %d (signet computes the statistics at float32 precision or better)", v)
	}
	r := attrReader{x: x}
	eps, axis := r.float("epsilon"), r.int("axis")
	if r.err != nil {
		return r.err
	}
	s, known := x.shape(x.in(0))
	if !known {
		return x.unsupported("input of unknown rank")
	}
	axis, err := x.normAxis(axis, len(s))
	if err != nil {
		return err
	}
	var axes []int64
	for a := axis; a < int64(len(s)); a++ {
		axes = append(axes, a)
	}
	inputs, err := x.normParams(s, int(axis), x.in(1), x.in(2))
	if err != nil {
		return err
	}
	stats := append([]int64{}, s...)
	for _, a := range axes {
		stats[a] = 1
	}
	return x.emit(x.d.native, inputs, []model.Attr{intsAttr("axes", axes), floatAttr("epsilon", eps)}, s, stats, stats)
}

// normParams returns the inputs of a native LayerNormalization over axes
// first..rank-1 of an input of shape s: x, then the scale and bias (names of
// constants, empty when absent) as tensors of exactly the normalised dims,
// the trailing empty names dropped. Each must broadcast against x as numpy
// does (ONNX's definition multiplies and adds them to the reshaped result)
// and vary only along the normalised axes.
func (x *nctx) normParams(s []int64, first int, scale, bias string) ([]string, error) {
	last := len(s) - 1
	for a := first; a <= last; a++ {
		if s[a] < 0 {
			return nil, x.unsupported("normalised dimension %d of %v is unknown", a, s)
		}
	}
	inputs := []string{x.in(0)}
	for i, name := range []string{scale, bias} {
		if name == "" {
			inputs = append(inputs, "")
			continue
		}
		v := x.c.consts[name]
		if v == nil {
			return nil, x.unsupported("parameter %q is not a constant", name)
		}
		if !v.isFloat() {
			return nil, x.malformed("parameter %q of type %s", name, typeName(v.onnxType))
		}
		if !x.c.paramFits(name, s, first, last) {
			return nil, x.malformed("parameter %d of shape %v does not broadcast to the normalised dims %v", i+1, v.shape, s[first:])
		}
		if _, err := x.foldSize(s[first:], 4); err != nil {
			return nil, err
		}
		inputs = append(inputs, x.c.expandParam(name, s, first, last))
	}
	for len(inputs) > 1 && inputs[len(inputs)-1] == "" {
		inputs = inputs[:len(inputs)-1]
	}
	return inputs, nil
}

// softmax translates Softmax. From opset 13 it is along one axis (default
// -1), as the native op; before, the input is seen as a matrix whose rows
// are the dims axis.. (default 1) flattened, which is the native op itself
// when axis is the last dim and Reshape, Softmax, Reshape otherwise.
func (x *nctx) softmax() error {
	s, known := x.shape(x.in(0))
	def := int64(-1)
	if x.c.opset < 13 {
		def = 1
	}
	axis := def
	if a := x.attr("axis"); a != nil {
		if err := x.wantAttr(a, attrInt); err != nil {
			return err
		}
		axis = a.i
	}
	if !known {
		if x.c.opset < 13 || axis < 0 {
			return x.unsupported("axis %d of an input of unknown rank", axis)
		}
		return x.emit(x.d.native, []string{x.in(0)}, []model.Attr{intAttr("axis", axis)}, nil)
	}
	a, err := x.normAxis(axis, len(s))
	if err != nil {
		return err
	}
	if x.c.opset >= 13 || a == int64(len(s))-1 {
		return x.emit(x.d.native, []string{x.in(0)}, []model.Attr{intAttr("axis", a)}, s)
	}
	// Rows of the flattened dims a..: keep the dims before a (0 copies
	// them, so a dynamic batch stays dynamic), one row dim of their product.
	row := int64(1)
	flat := make([]int64, a+1)
	for d := range s {
		if int64(d) < a {
			continue
		}
		if s[d] < 0 {
			return x.unsupported("dimension %d of %v is unknown (Softmax before opset 13 flattens it)", d, s)
		}
		row *= s[d]
	}
	flat[a] = row
	back := append([]int64{}, s...)
	for d := int64(0); d < a; d++ {
		back[d] = 0
	}
	fshape := append(append([]int64{}, s[:a]...), row)
	base := shortName(x.name)
	flatName := x.c.addConst(base+"_flat_shape", &cval{onnxType: dtInt64, shape: []int64{int64(len(flat))}, i: flat})
	backName := x.c.addConst(base+"_shape", &cval{onnxType: dtInt64, shape: []int64{int64(len(back))}, i: back})
	v1 := x.inner(model.OpReshape, []string{x.in(0), flatName}, nil, fshape)
	v2 := x.inner(x.d.native, []string{v1}, []model.Attr{intAttr("axis", a)}, fshape)
	return x.emit(model.OpReshape, []string{v2, backName}, nil, s)
}

// inner appends a native node computing an intermediate value of shape
// shape (nil: unknown) and returns its name.
func (x *nctx) inner(op string, inputs []string, attrs []model.Attr, shape []int64) string {
	out := x.c.fresh(shortName(x.name) + "_" + op)
	x.c.nodes = append(x.c.nodes, &gnode{op: op, name: x.name, inputs: inputs, attrs: attrs, outputs: []string{out}})
	x.c.runtime[out] = true
	if shape != nil {
		x.c.shapes[out] = shape
	}
	return out
}
