package onnx

import (
	"fmt"
	"math"
)

// Operators that make a constant or pass their input on: Identity, Dropout
// and Cast to float become native nodes the passes remove.

var valueOps = opTable{
	"Constant": {
		versions: []int64{1, 9, 11, 12, 13},
		attrs: []attrSpec{
			optTensor("value", "exactly one value attribute"),
			optFloat("value_float", 0), optFloats("value_floats", ""),
			optInt("value_int", 0), optInts("value_ints", ""),
		},
		inputs: arity{0, 0}, outputs: exactlyOne,
		translate: (*nctx).constant,
	},
	// What torch.onnx puts in front of a Pad from F.pad builds the
	// pads with ConstantOfShape, folded here.
	"ConstantOfShape": {
		versions: []int64{9},
		attrs:    []attrSpec{optTensor("value", "a float 0")},
		inputs:   exactlyOne, outputs: exactlyOne,
		fold:      (*nctx).foldConstantOfShape,
		translate: func(x *nctx) error { return x.unsupported("shape %q is computed at run time", x.in(0)) },
	},
	"Identity": {
		versions: []int64{1, 13, 14, 16},
		inputs:   exactlyOne, outputs: exactlyOne,
		fold:      foldSame,
		translate: (*nctx).identity,
	},
	"Dropout": {
		versions: []int64{1, 6, 7, 10, 12, 13},
		attrs:    []attrSpec{optFloat("ratio", 0.5), optIntNote("seed", "random")},
		// Inputs 1 and 2 are the ratio and training_mode; output 1 is the
		// mask, not computed.
		inputs: arity{1, 3}, outputs: arity{1, 2},
		fold:      foldSame,
		translate: (*nctx).dropout,
	},
	"Cast": {
		versions: []int64{1, 6, 9, 13},
		attrs:    []attrSpec{optIntNote("to", "required")},
		inputs:   exactlyOne, outputs: exactlyOne,
		fold:      (*nctx).foldCast,
		translate: (*nctx).cast,
	},
}

// foldSame folds an operator that returns its input.
func foldSame(_ *nctx, in []*cval) (*cval, error) { return in[0], nil }

func (x *nctx) identity() error {
	s, _ := x.shape(x.in(0))
	return x.emit("Identity", []string{x.in(0)}, nil, s)
}

func (x *nctx) dropout() error {
	v, err := x.scalarIn(2, "training_mode")
	if err != nil {
		return err
	}
	if v != nil && v.ints()[0] != 0 {
		return x.unsupported("training_mode true")
	}
	s, _ := x.shape(x.in(0))
	return x.emit("Dropout", []string{x.in(0)}, nil, s)
}

// constantValues are Constant's value_* attributes: the type each must
// have and the constant it holds.
var constantValues = map[string]struct {
	typ   int32
	value func(a *attrProto) *cval
}{
	"value_float": {attrFloat, func(a *attrProto) *cval {
		return &cval{onnxType: dtFloat, shape: []int64{}, f: []float32{a.f}}
	}},
	"value_floats": {attrFloats, func(a *attrProto) *cval {
		return &cval{onnxType: dtFloat, shape: []int64{int64(len(a.floats))}, f: append([]float32{}, a.floats...)}
	}},
	"value_int": {attrInt, func(a *attrProto) *cval {
		return &cval{onnxType: dtInt64, shape: []int64{}, i: []int64{a.i}}
	}},
	"value_ints": {attrInts, func(a *attrProto) *cval {
		return &cval{onnxType: dtInt64, shape: []int64{int64(len(a.ints))}, i: append([]int64{}, a.ints...)}
	}},
}

func (x *nctx) constant() error {
	if len(x.n.attrs) != 1 {
		return x.malformed("%d value attributes, want 1", len(x.n.attrs))
	}
	a := &x.n.attrs[0]
	var v *cval
	switch a.name {
	case "value":
		if a.typ != attrTensor || a.t == nil {
			return x.malformed("value is not a tensor")
		}
		var err error
		if v, err = decodeTensor(a.t); err != nil {
			return fmt.Errorf("%s node %q: %w", x.op, x.name, err)
		}
	default:
		c, ok := constantValues[a.name]
		if !ok {
			return x.unsupported("attribute %q", a.name)
		}
		if err := x.wantAttr(a, c.typ); err != nil {
			return err
		}
		v = c.value(a)
	}
	x.setConst(0, v)
	return nil
}

func (x *nctx) cast() error {
	to, err := x.getInt("to")
	if err != nil {
		return err
	}
	if to != dtFloat && to != dtDouble {
		// Computed values are float32; a cast to anything narrower or
		// integral changes them.
		return x.unsupported("cast of a computed value to %s", typeName(int32(to)))
	}
	s, _ := x.shape(x.in(0))
	return x.emit("Identity", []string{x.in(0)}, nil, s)
}

func (x *nctx) foldCast(in []*cval) (*cval, error) {
	v := in[0]
	to, err := x.getInt("to")
	if err != nil {
		return nil, err
	}
	t := int32(to)
	if elemSize(t) == 0 {
		return nil, x.unsupported("cast to %s", typeName(t))
	}
	out := &cval{onnxType: t, shape: v.shape}
	// Casts between floats, and between integers, share the elements.
	var perElem int64
	switch {
	case isFloatType(t) && !v.isFloat():
		perElem = 4
	case !isFloatType(t) && v.isFloat():
		perElem = 8
	}
	if t == dtBool {
		perElem += 8
	}
	if perElem > 0 {
		if _, err := x.foldSize(v.shape, perElem); err != nil {
			return nil, err
		}
	}
	switch {
	case isFloatType(t):
		out.f = v.floats()
	case v.isFloat():
		out.i = make([]int64, len(v.f))
		for k, f := range v.f {
			if math.IsNaN(float64(f)) || math.Abs(float64(f)) >= 1<<63 {
				return nil, x.unsupported("cast of %v to %s", f, typeName(t))
			}
			out.i[k] = int64(f)
		}
	default:
		out.i = v.i
	}
	if t == dtBool {
		b := make([]int64, len(out.i))
		for k, e := range out.i {
			if e != 0 {
				b[k] = 1
			}
		}
		out.i = b
	}
	return out, nil
}

// foldConstantOfShape makes a tensor of the shape its input holds, every
// element the one of attribute value (float 0 when absent).
func (x *nctx) foldConstantOfShape(in []*cval) (*cval, error) {
	s := in[0]
	if s.isFloat() || len(s.shape) != 1 {
		return nil, x.malformed("shape of type %s and shape %v", typeName(s.onnxType), s.shape)
	}
	dims := append([]int64{}, s.ints()...)
	for _, d := range dims {
		if d < 0 {
			return nil, x.malformed("negative dimension in %v", dims)
		}
	}
	v := &cval{onnxType: dtFloat, shape: []int64{}, f: []float32{0}}
	if a := x.attr("value"); a != nil {
		if a.typ != attrTensor || a.t == nil {
			return nil, x.malformed("value is not a tensor")
		}
		var err error
		if v, err = decodeTensor(a.t); err != nil {
			return nil, fmt.Errorf("%s node %q: %w", x.op, x.name, err)
		}
		if v.numel() != 1 {
			return nil, x.malformed("value has %d elements, want 1", v.numel())
		}
	}
	n, err := x.foldSize(dims, 8)
	if err != nil {
		return nil, err
	}
	out := &cval{onnxType: v.onnxType, shape: dims}
	if v.isFloat() {
		out.f = make([]float32, n)
		for k := range out.f {
			out.f[k] = v.f[0]
		}
	} else {
		out.i = make([]int64, n)
		for k := range out.i {
			out.i[k] = v.i[0]
		}
	}
	return out, nil
}
