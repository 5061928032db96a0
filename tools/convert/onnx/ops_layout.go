package onnx

import (
	"fmt"

	"github.com/signet-go/signet/internal/shape"
	"github.com/signet-go/signet/model"
)

// Operators that select or rearrange elements: Concat, Split, Slice, Gather,
// Transpose.

var layoutOps = opTable{
	"Concat": {
		versions: []int64{1, 4, 11, 13},
		native:   model.OpConcat,
		attrs:    []attrSpec{optIntNote("axis", "required")},
		inputs:   arity{1, -1}, outputs: exactlyOne,
		fold:      (*nctx).foldConcat,
		translate: (*nctx).concat,
	},
	"Split": {
		versions: []int64{1, 2, 11, 13},
		native:   model.OpSplit,
		// The sizes are an attribute before opset 13, input 1 since.
		attrs:  []attrSpec{optInt("axis", 0), optInts("split", "equal parts")},
		inputs: arity{1, 2}, outputs: arity{1, -1},
		translate: (*nctx).split,
	},
	"Slice": {
		versions: []int64{1, 10, 11, 13},
		native:   model.OpSlice,
		// starts, ends, axes, steps: constant inputs 1–4.
		inputs: arity{3, 5}, outputs: exactlyOne,
		fold:      (*nctx).foldSlice,
		translate: (*nctx).slice,
	},
	"Gather": {
		versions: []int64{1, 11, 13},
		attrs:    []attrSpec{optInt("axis", 0)},
		inputs:   arity{2, 2}, outputs: exactlyOne,
		fold: (*nctx).foldGather,
		translate: func(x *nctx) error {
			return x.unsupported("gathering from a computed tensor (only constant-foldable Gather is supported)")
		},
	},
	"Transpose": {
		versions: []int64{1, 13},
		native:   model.OpTranspose,
		attrs:    []attrSpec{optInts("perm", "the axes reversed")},
		inputs:   exactlyOne, outputs: exactlyOne,
		fold:      (*nctx).foldTranspose,
		translate: (*nctx).transpose,
	},
}

// outerInner returns the element counts before and after axis of a
// constant's shape (whose product fits maxElements).
func outerInner(s []int64, axis int64) (outer, inner int) {
	o, _ := shape.Prod64(s[:axis], maxElements)
	i, _ := shape.Prod64(s[axis+1:], maxElements)
	return int(o), int(i)
}

func (x *nctx) concat() error {
	a := x.attr("axis")
	if a == nil {
		return x.malformed("missing axis")
	}
	axis, err := x.getInt("axis")
	if err != nil {
		return err
	}
	var out []int64
	known := true
	for i, in := range x.n.inputs {
		if in == "" {
			return x.malformed("empty input")
		}
		if err := x.floatOperand(i); err != nil {
			return err
		}
		s, ok := x.shape(in)
		if !ok {
			known = false
			continue
		}
		if out == nil {
			out = append([]int64{}, s...)
			if axis, err = x.normAxis(axis, len(s)); err != nil {
				return err
			}
			continue
		}
		if len(s) != len(out) {
			return x.malformed("inputs of ranks %d and %d", len(out), len(s))
		}
		for k := range s {
			switch {
			case int64(k) == axis:
				if out[k] < 0 || s[k] < 0 {
					out[k] = -1
				} else if sum := shape.AddSat(out[k], s[k]); sum <= maxElements {
					out[k] = sum
				} else {
					return x.errorf(ErrTooLarge, "concatenated dimension exceeds %d", maxElements)
				}
			case out[k] < 0:
				out[k] = s[k]
			case s[k] >= 0 && s[k] != out[k]:
				return x.malformed("inputs of shapes %v and %v", out, s)
			}
		}
	}
	if !known {
		out = nil
		if axis < 0 {
			return x.unsupported("negative axis on inputs of unknown rank")
		}
	}
	if len(x.n.inputs) == 0 {
		return x.malformed("no inputs")
	}
	return x.emit(x.d.native, append([]string{}, x.n.inputs...), []model.Attr{intAttr("axis", axis)}, out)
}

func (x *nctx) foldConcat(in []*cval) (*cval, error) {
	axis, err := x.getInt("axis")
	if err != nil {
		return nil, err
	}
	if x.attr("axis") == nil {
		return nil, x.malformed("missing axis")
	}
	first := in[0]
	rank := len(first.shape)
	if axis, err = x.normAxis(axis, rank); err != nil {
		return nil, err
	}
	out := &cval{onnxType: first.onnxType, shape: append([]int64{}, first.shape...)}
	out.shape[axis] = 0
	for _, v := range in {
		if v == nil {
			return nil, x.malformed("empty input")
		}
		if v.isFloat() != first.isFloat() || len(v.shape) != rank {
			return nil, x.malformed("inputs of types %s, %s and shapes %v, %v", typeName(first.onnxType), typeName(v.onnxType), first.shape, v.shape)
		}
		for k := range v.shape {
			if int64(k) != axis && v.shape[k] != first.shape[k] {
				return nil, x.malformed("inputs of shapes %v and %v", first.shape, v.shape)
			}
		}
		if out.shape[axis] = shape.AddSat(out.shape[axis], v.shape[axis]); out.shape[axis] > maxElements {
			return nil, x.errorf(ErrTooLarge, "constant folding: concatenated dimension exceeds %d", maxElements)
		}
	}
	n, err := x.foldSize(out.shape, elemBytes(first.onnxType))
	if err != nil {
		return nil, err
	}
	if first.isFloat() {
		out.f = make([]float32, 0, n)
	} else {
		out.i = make([]int64, 0, n)
	}
	if n == 0 {
		return out, nil
	}
	// Copy blocks: outer = product of dims before axis. Empty inputs are
	// skipped, so that the loop costs at most one step per element.
	outer, inner := outerInner(first.shape, axis)
	parts := make([]*cval, 0, len(in))
	for _, v := range in {
		if v.shape[axis] > 0 {
			parts = append(parts, v)
		}
	}
	x.c.rep.work += int64(outer * len(parts))
	for o := 0; o < outer; o++ {
		for _, v := range parts {
			blk := int(v.shape[axis]) * inner
			if first.isFloat() {
				out.f = append(out.f, v.f[o*blk:(o+1)*blk]...)
			} else {
				out.i = append(out.i, v.i[o*blk:(o+1)*blk]...)
			}
		}
	}
	return out, nil
}

func (x *nctx) split() error {
	axis, err := x.getInt("axis")
	if err != nil {
		return err
	}
	parts, ok, err := x.getInts("split")
	if err != nil {
		return err
	}
	if name := x.in(1); name != "" {
		v := x.cin(1)
		if v == nil || v.isFloat() {
			return x.unsupported("split sizes %q are not an integer constant", name)
		}
		parts, ok = v.ints(), true
	}
	nout := len(x.n.outputs)
	if ok && len(parts) != nout {
		return x.malformed("%d split sizes for %d outputs", len(parts), nout)
	}
	s, known := x.shape(x.in(0))
	shapes := make([][]int64, nout)
	if known {
		if axis, err = x.normAxis(axis, len(s)); err != nil {
			return err
		}
		dim := s[axis]
		if !ok && dim >= 0 {
			// Equal parts, the last one smaller when the size does not divide.
			chunk := (dim + int64(nout) - 1) / int64(nout)
			parts = make([]int64, nout)
			rest := dim
			for i := range parts {
				parts[i] = min(chunk, rest)
				rest -= parts[i]
			}
			ok = true
		}
		if ok {
			var sum int64
			for _, p := range parts {
				if p < 0 {
					return x.malformed("negative split size in %v", parts)
				}
				if sum = shape.AddSat(sum, p); sum > maxElements {
					return x.errorf(ErrTooLarge, "split sizes %v add up to more than %d", parts, maxElements)
				}
			}
			if dim >= 0 && sum != dim {
				return x.malformed("split sizes %v do not add up to %d", parts, dim)
			}
		}
		for i := range shapes {
			shapes[i] = append([]int64{}, s...)
			shapes[i][axis] = -1
			if ok {
				shapes[i][axis] = parts[i]
			}
		}
	} else if axis < 0 {
		return x.unsupported("negative axis on input of unknown rank")
	}
	attrs := []model.Attr{intAttr("axis", axis)}
	if ok {
		attrs = append(attrs, intsAttr("split", parts))
	}
	return x.emit(x.d.native, []string{x.in(0)}, attrs, shapes...)
}

// sliceParams reads Slice's constant starts/ends/axes/steps inputs.
func (x *nctx) sliceParams(rank int) (starts, ends, axes, steps []int64, err error) {
	get := func(i int) ([]int64, error) {
		if x.in(i) == "" {
			return nil, nil
		}
		v := x.cin(i)
		if v == nil || v.isFloat() {
			return nil, x.unsupported("operand %q is not an integer constant", x.in(i))
		}
		if len(v.shape) != 1 {
			return nil, x.malformed("operand %q of shape %v", x.in(i), v.shape)
		}
		return v.ints(), nil
	}
	if starts, err = get(1); err != nil {
		return
	}
	if ends, err = get(2); err != nil {
		return
	}
	if axes, err = get(3); err != nil {
		return
	}
	if steps, err = get(4); err != nil {
		return
	}
	if x.in(1) == "" || x.in(2) == "" {
		err = x.malformed("missing starts or ends")
		return
	}
	if len(ends) != len(starts) {
		err = x.malformed("%d starts, %d ends", len(starts), len(ends))
		return
	}
	// Each axis appears once, so there are at most rank of them; checking
	// first keeps the work per node bounded when nodes share a long vector.
	if rank >= 0 && len(starts) > rank {
		err = x.malformed("%d starts for rank %d", len(starts), rank)
		return
	}
	if len(starts) > maxRank {
		err = x.errorf(ErrTooLarge, "%d axes (limit %d)", len(starts), maxRank)
		return
	}
	if axes == nil {
		if rank < 0 && len(starts) > 0 {
			axes = make([]int64, len(starts))
			for i := range axes {
				axes[i] = int64(i)
			}
		} else {
			for i := range starts {
				axes = append(axes, int64(i))
			}
		}
	}
	if steps == nil {
		steps = make([]int64, len(starts))
		for i := range steps {
			steps[i] = 1
		}
	}
	if len(axes) != len(starts) || len(steps) != len(starts) {
		err = x.malformed("starts, ends, axes, steps of different lengths")
		return
	}
	seen := map[int64]bool{}
	for i := range axes {
		if steps[i] == 0 {
			err = x.malformed("step 0")
			return
		}
		if rank >= 0 {
			if axes[i], err = x.normAxis(axes[i], rank); err != nil {
				return
			}
		} else if axes[i] < 0 {
			err = x.unsupported("negative axis on input of unknown rank")
			return
		}
		if seen[axes[i]] {
			err = x.malformed("axis %d repeated", axes[i])
			return
		}
		seen[axes[i]] = true
	}
	return
}

func (x *nctx) slice() error {
	s, known := x.shape(x.in(0))
	rank := -1
	if known {
		rank = len(s)
	}
	starts, ends, axes, steps, err := x.sliceParams(rank)
	if err != nil {
		return err
	}
	var out []int64
	if known {
		out = append([]int64{}, s...)
		for i, ax := range axes {
			if s[ax] < 0 {
				out[ax] = -1
				continue
			}
			_, out[ax] = shape.Slice(s[ax], starts[i], ends[i], steps[i])
		}
	}
	return x.emit(x.d.native, []string{x.in(0)}, []model.Attr{
		intsAttr("starts", starts), intsAttr("ends", ends), intsAttr("axes", axes), intsAttr("steps", steps),
	}, out)
}

func (x *nctx) foldSlice(in []*cval) (*cval, error) {
	v := in[0]
	r := len(v.shape)
	starts, ends, axes, steps, err := x.sliceParams(r)
	if err != nil {
		return nil, err
	}
	dims := append([]int64{}, v.shape...)
	stride := stridesOf(v.shape)
	base := 0
	for i, ax := range axes {
		var first int64
		first, dims[ax] = shape.Slice(v.shape[ax], starts[i], ends[i], steps[i])
		base += int(first) * stride[ax]
		stride[ax] *= int(steps[i])
	}
	if _, err := x.foldSize(dims, elemBytes(v.onnxType)+8); err != nil {
		return nil, err
	}
	return gatherFrom(v, dims, walk(dims, base, stride)), nil
}

func (x *nctx) foldGather(in []*cval) (*cval, error) {
	data, indices := in[0], in[1]
	if indices.isFloat() {
		return nil, x.malformed("indices of type %s", typeName(indices.onnxType))
	}
	axis, err := x.getInt("axis")
	if err != nil {
		return nil, err
	}
	if len(data.shape) == 0 {
		return nil, x.malformed("gather from a scalar")
	}
	if axis, err = x.normAxis(axis, len(data.shape)); err != nil {
		return nil, err
	}
	dim := data.shape[axis]
	dims := append(append(append([]int64{}, data.shape[:axis]...), indices.shape...), data.shape[axis+1:]...)
	n, err := x.foldSize(dims, elemBytes(data.onnxType)+8)
	if err != nil {
		return nil, err
	}
	if n == 0 {
		// Nothing to read (and a loop over an empty dimension's neighbours
		// could be long).
		return gatherFrom(data, dims, nil), nil
	}
	outer, inner := outerInner(data.shape, axis)
	x.c.rep.work += int64(outer * len(indices.i))
	idx := make([]int, 0, n)
	for o := 0; o < outer; o++ {
		for _, j := range indices.i {
			if j < -dim || j >= dim {
				return nil, x.malformed("index %d out of range for dimension %d", j, dim)
			}
			if j < 0 {
				j += dim
			}
			base := (o*int(dim) + int(j)) * inner
			for k := 0; k < inner; k++ {
				idx = append(idx, base+k)
			}
		}
	}
	return gatherFrom(data, dims, idx), nil
}

func (x *nctx) transpose() error {
	perm, ok, err := x.getInts("perm")
	if err != nil {
		return err
	}
	s, known := x.shape(x.in(0))
	if !ok {
		if !known {
			return x.unsupported("no perm on input of unknown rank")
		}
		perm = make([]int64, len(s))
		for i := range perm {
			perm[i] = int64(len(s) - 1 - i)
		}
	}
	if err := checkPerm(perm); err != nil {
		return x.malformed("%v", err)
	}
	var out []int64
	if known {
		if len(perm) != len(s) {
			return x.malformed("perm %v for rank %d", perm, len(s))
		}
		out = make([]int64, len(s))
		for i, p := range perm {
			out[i] = s[p]
		}
	}
	return x.emit(x.d.native, []string{x.in(0)}, []model.Attr{intsAttr("perm", perm)}, out)
}

func (x *nctx) foldTranspose(in []*cval) (*cval, error) {
	v := in[0]
	perm, ok, err := x.getInts("perm")
	if err != nil {
		return nil, err
	}
	r := len(v.shape)
	if !ok {
		perm = make([]int64, r)
		for i := range perm {
			perm[i] = int64(r - 1 - i)
		}
	}
	if len(perm) != r {
		return nil, x.malformed("perm %v for rank %d", perm, r)
	}
	if err := checkPerm(perm); err != nil {
		return nil, x.malformed("%v", err)
	}
	dims := make([]int64, r)
	for i, p := range perm {
		dims[i] = v.shape[p]
	}
	if _, err := x.foldSize(dims, elemBytes(v.onnxType)+8); err != nil {
		return nil, err
	}
	st := stridesOf(v.shape)
	stride := make([]int, r)
	for d, p := range perm {
		stride[d] = st[p]
	}
	return gatherFrom(v, dims, walk(dims, 0, stride)), nil
}

func checkPerm(perm []int64) error {
	seen := make([]bool, len(perm))
	for _, p := range perm {
		if p < 0 || p >= int64(len(perm)) || seen[p] {
			return fmt.Errorf("perm %v is not a permutation", perm)
		}
		seen[p] = true
	}
	return nil
}
