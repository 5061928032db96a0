package onnx

import (
	"fmt"
	"slices"

	"github.com/signet-go/signet/internal/shape"
	"github.com/signet-go/signet/model"
)

// Operators that relabel dimensions without moving elements (Flatten,
// Reshape, Unsqueeze, Squeeze), broadcast (Expand) or read a shape (Shape).
// With the layout operators they fold, which is how the Shape → Gather →
// Unsqueeze → Concat chains exporters put in front of Reshape disappear.

var shapeOps = opTable{
	"Flatten": {
		versions: []int64{1, 9, 11, 13},
		native:   model.OpFlatten,
		attrs:    []attrSpec{optInt("axis", 1)},
		inputs:   exactlyOne, outputs: exactlyOne,
		fold:      (*nctx).foldFlatten,
		translate: (*nctx).flatten,
	},
	"Reshape": {
		versions: []int64{1, 5, 13, 14},
		native:   model.OpReshape,
		attrs:    []attrSpec{optInt("allowzero", 0)},
		inputs:   arity{2, 2}, outputs: exactlyOne,
		fold:      (*nctx).foldReshape,
		translate: (*nctx).reshape,
	},
	"Unsqueeze": relabelOp((*nctx).unsqueezeShape),
	"Squeeze":   relabelOp((*nctx).squeezeShape),
	"Expand": {
		versions: []int64{8, 13},
		inputs:   arity{2, 2}, outputs: exactlyOne,
		fold:      (*nctx).foldExpand,
		translate: (*nctx).expand,
	},
	"Shape": {
		versions: []int64{1, 13, 15},
		attrs:    []attrSpec{optInt("start", 0), optIntNote("end", "the rank")},
		inputs:   exactlyOne, outputs: exactlyOne,
		// Always a constant: translate records it (input shapes are static).
		translate: (*nctx).shapeOp,
	},
}

// flatDims is Flatten's output shape [prod(s[:axis]), prod(s[axis:])], -1
// where a product has an unknown dimension or exceeds maxElements.
func flatDims(s []int64, axis int64) []int64 {
	out := []int64{-1, -1}
	if p, ok := shape.Prod64(s[:axis], maxElements); ok {
		out[0] = p
	}
	if p, ok := shape.Prod64(s[axis:], maxElements); ok {
		out[1] = p
	}
	return out
}

func (x *nctx) flatten() error {
	axis, err := x.getInt("axis")
	if err != nil {
		return err
	}
	s, known := x.shape(x.in(0))
	var out []int64
	if known {
		if axis < -int64(len(s)) || axis > int64(len(s)) {
			return x.malformed("axis %d for rank %d", axis, len(s))
		}
		if axis < 0 {
			axis += int64(len(s))
		}
		out = flatDims(s, axis)
	} else if axis < 0 {
		return x.unsupported("negative axis on input of unknown rank")
	}
	return x.emit(x.d.native, []string{x.in(0)}, []model.Attr{intAttr("axis", axis)}, out)
}

func (x *nctx) foldFlatten(in []*cval) (*cval, error) {
	v := in[0]
	axis, err := x.getInt("axis")
	if err != nil {
		return nil, err
	}
	r := int64(len(v.shape))
	if axis < -r || axis > r {
		return nil, x.malformed("axis %d for rank %d", axis, r)
	}
	if axis < 0 {
		axis += r
	}
	return relabel(v, flatDims(v.shape, axis)), nil
}

func (x *nctx) reshape() error {
	sv := x.cin(1)
	if sv == nil {
		return x.unsupported("shape %q is not a constant and could not be folded (are the input dimensions static?)", x.in(1))
	}
	if sv.isFloat() || len(sv.shape) != 1 {
		return x.malformed("shape operand of type %s and shape %v", typeName(sv.onnxType), sv.shape)
	}
	allowZero, err := x.getInt("allowzero")
	if err != nil {
		return err
	}
	in, known := x.shape(x.in(0))
	target := sv.ints()
	if len(target) > maxRank {
		return x.errorf(ErrTooLarge, "shape operand of %d dimensions (limit %d)", len(target), maxRank)
	}
	if !known {
		for _, d := range target {
			if d == 0 && allowZero != 0 {
				return x.unsupported("allowzero with a zero dimension")
			}
			if d < -1 {
				return x.malformed("shape %v has a negative dimension", target)
			}
		}
		if _, ok := knownElems(target); !ok {
			return x.errorf(ErrTooLarge, "shape %v has more than %d elements", target, maxElements)
		}
		return x.emit(x.d.native, []string{x.in(0), x.in(1)}, nil, nil)
	}
	out, err := reshapeDims(in, target, allowZero != 0)
	if err != nil {
		return x.fail("", err)
	}
	shapeName := x.in(1)
	if !slices.Equal(out, target) && !hasUnknown(out) {
		// Store the resolved shape so the engine never interprets 0 and -1.
		shapeName = x.c.addConst(x.name+"_shape", &cval{onnxType: dtInt64, shape: []int64{int64(len(out))}, i: out})
	}
	return x.emit(x.d.native, []string{x.in(0), shapeName}, nil, out)
}

func (x *nctx) foldReshape(in []*cval) (*cval, error) {
	v, target := in[0], in[1]
	if target.isFloat() {
		return nil, x.malformed("shape operand missing or not integer")
	}
	az, err := x.getInt("allowzero")
	if err != nil {
		return nil, err
	}
	s, err := reshapeDims(v.shape, target.ints(), az != 0)
	if err != nil {
		return nil, x.fail("", err)
	}
	return relabel(v, s), nil
}

// reshapeDims resolves a Reshape target (0 = copy, -1 = infer) against the
// input shape, whose known dimensions multiply to at most maxElements.
func reshapeDims(in, target []int64, allowZero bool) ([]int64, error) {
	if len(target) > maxRank {
		return nil, sizeErr(ErrTooLarge, "shape operand of %d dimensions (limit %d)", len(target), maxRank)
	}
	out := make([]int64, len(target))
	infer := -1
	known := int64(1)
	for i, d := range target {
		switch {
		case d == 0 && !allowZero:
			if i >= len(in) {
				return nil, fmt.Errorf("shape %v copies dimension %d of a rank-%d input", target, i, len(in))
			}
			d = in[i]
		case d == -1:
			if infer >= 0 {
				return nil, fmt.Errorf("shape %v has two -1", target)
			}
			infer = i
			continue
		case d < -1:
			return nil, fmt.Errorf("shape %v has a negative dimension", target)
		}
		out[i] = d
		if d < 0 || known < 0 {
			known = -1
		} else if p := shape.MulSat(known, d); p <= maxElements {
			known = p
		} else {
			return nil, sizeErr(ErrTooLarge, "shape %v has more than %d elements", target, maxElements)
		}
	}
	total := int64(-1)
	if !hasUnknown(in) {
		var ok bool
		if total, ok = knownElems(in); !ok {
			return nil, sizeErr(ErrTooLarge, "input shape %v has more than %d elements", in, maxElements)
		}
	}
	if infer >= 0 {
		if total < 0 || known < 0 {
			out[infer] = -1
		} else if known == 0 || total%known != 0 {
			return nil, fmt.Errorf("cannot reshape %v into %v", in, target)
		} else {
			out[infer] = total / known
		}
	} else if total >= 0 && known >= 0 && total != known {
		return nil, fmt.Errorf("cannot reshape %v (%d elements) into %v", in, total, target)
	}
	return out, nil
}

// relabelOp describes Unsqueeze and Squeeze, which only relabel
// dimensions: of shapes, out computes the output shape from the input's.
func relabelOp(out func(x *nctx, s []int64) ([]int64, error)) *opDesc {
	return &opDesc{
		versions: []int64{1, 11, 13},
		native:   model.OpReshape,
		attrs:    []attrSpec{optInts("axes", "Squeeze: every axis of size 1")}, // an input from opset 13
		inputs:   arity{1, 2}, outputs: exactlyOne,
		fold: func(x *nctx, in []*cval) (*cval, error) {
			s, err := out(x, in[0].shape)
			if err != nil {
				return nil, err
			}
			return relabel(in[0], s), nil
		},
		translate: func(x *nctx) error { return x.squeeze(out) },
	}
}

// squeezeAxes reads Unsqueeze/Squeeze axes from the attribute (opset < 13)
// or the constant input (opset 13+).
func (x *nctx) squeezeAxes() ([]int64, bool, error) {
	if name := x.in(1); name != "" {
		v := x.cin(1)
		if v == nil || v.isFloat() {
			return nil, false, x.unsupported("axes %q are not an integer constant", name)
		}
		return v.ints(), true, nil
	}
	return x.getInts("axes")
}

// unsqueezeShape computes the output shape of Unsqueeze.
func (x *nctx) unsqueezeShape(s []int64) ([]int64, error) {
	axes, ok, err := x.squeezeAxes()
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, x.malformed("missing axes")
	}
	if len(axes) > maxRank-len(s) {
		return nil, x.errorf(ErrTooLarge, "output rank %d+%d (limit %d)", len(s), len(axes), maxRank)
	}
	rank := len(s) + len(axes)
	ins := make([]bool, rank)
	for _, a := range axes {
		n, err := x.normAxis(a, rank)
		if err != nil {
			return nil, err
		}
		if ins[n] {
			return nil, x.malformed("axis %d repeated", a)
		}
		ins[n] = true
	}
	out := make([]int64, 0, rank)
	k := 0
	for i := 0; i < rank; i++ {
		if ins[i] {
			out = append(out, 1)
		} else {
			out = append(out, s[k])
			k++
		}
	}
	return out, nil
}

// squeezeShape computes the output shape of Squeeze.
func (x *nctx) squeezeShape(s []int64) ([]int64, error) {
	axes, ok, err := x.squeezeAxes()
	if err != nil {
		return nil, err
	}
	if len(axes) > len(s) {
		// Each axis may be squeezed once.
		return nil, x.malformed("%d axes for rank %d", len(axes), len(s))
	}
	drop := make([]bool, len(s))
	if !ok {
		for i, d := range s {
			if d < 0 {
				return nil, x.unsupported("squeezing an input with unknown dimensions")
			}
			drop[i] = d == 1
		}
	}
	for _, a := range axes {
		n, err := x.normAxis(a, len(s))
		if err != nil {
			return nil, err
		}
		if s[n] != 1 && s[n] >= 0 {
			return nil, x.malformed("squeezing axis %d of size %d", a, s[n])
		}
		drop[n] = true
	}
	out := []int64{}
	for i, d := range s {
		if !drop[i] {
			out = append(out, d)
		}
	}
	return out, nil
}

// squeeze handles a computed Unsqueeze/Squeeze: it only relabels
// dimensions, so it becomes a Reshape to the static output shape.
func (x *nctx) squeeze(shapeOf func(x *nctx, s []int64) ([]int64, error)) error {
	s, known := x.shape(x.in(0))
	if !known {
		return x.unsupported("input of unknown rank")
	}
	out, err := shapeOf(x, s)
	if err != nil {
		return err
	}
	if hasUnknown(out) {
		return x.unsupported("input with unknown dimensions %v", s)
	}
	shapeName := x.c.addConst(x.name+"_shape", &cval{onnxType: dtInt64, shape: []int64{int64(len(out))}, i: out})
	return x.emit(x.d.native, []string{x.in(0), shapeName}, nil, out)
}

// expand keeps a computed Expand for the passes: it is either part of the
// F.normalize pattern, a no-op, or refused when the graph is emitted.
func (x *nctx) expand() error {
	target, err := x.expandTarget(x.cin(1))
	if err != nil {
		return err
	}
	var out []int64
	if s, known := x.shape(x.in(0)); known {
		if out, err = broadcast(s, target); err != nil {
			return x.malformed("%v", err)
		}
	}
	return x.emit("Expand", []string{x.in(0), x.in(1)}, nil, out)
}

func (x *nctx) foldExpand(in []*cval) (*cval, error) {
	v, target := in[0], in[1]
	t, err := x.expandTarget(target)
	if err != nil {
		return nil, err
	}
	s, err := broadcast(v.shape, t)
	if err != nil {
		return nil, x.malformed("%v", err)
	}
	if _, err = x.foldSize(s, elemBytes(v.onnxType)+8); err != nil {
		return nil, err
	}
	return gatherFrom(v, s, broadcastIndex(s, v.shape)), nil
}

// expandTarget reads Expand's shape operand: an integer vector of at most
// maxRank non-negative dimensions.
func (x *nctx) expandTarget(v *cval) ([]int64, error) {
	if v == nil || v.isFloat() || len(v.shape) != 1 {
		return nil, x.unsupported("shape %q is not an integer constant vector", x.in(1))
	}
	t := v.ints()
	if len(t) > maxRank {
		return nil, x.errorf(ErrTooLarge, "shape operand of %d dimensions (limit %d)", len(t), maxRank)
	}
	for _, d := range t {
		if d < 0 {
			return nil, x.malformed("shape %v has a negative dimension", t)
		}
	}
	return t, nil
}

func (x *nctx) shapeOp() error {
	s, known := x.shape(x.in(0))
	if !known || hasUnknown(s) {
		return x.unsupported("shape of %q is not static (set the input shape)", x.in(0))
	}
	start, err := x.getInt("start")
	if err != nil {
		return err
	}
	end := int64(len(s))
	if x.attr("end") != nil {
		if end, err = x.getInt("end"); err != nil {
			return err
		}
	}
	r := int64(len(s))
	if start < 0 {
		start += r
	}
	if end < 0 {
		end += r
	}
	start = max(0, min(start, r))
	end = max(start, min(end, r))
	dims := append([]int64{}, s[start:end]...)
	x.setConst(0, &cval{onnxType: dtInt64, shape: []int64{int64(len(dims))}, i: dims})
	return nil
}
