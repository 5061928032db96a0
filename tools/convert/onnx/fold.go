package onnx

import (
	"fmt"
	"math"
)

// Shape arithmetic and constant folding. Folding evaluates nodes whose
// inputs are all constants, which is how the Shape/Gather/Unsqueeze/Concat
// chains in front of Reshape disappear. What folding allocates is charged to
// a budget of maxFoldBytes (plus a multiple of the file size) before it is
// allocated, and the work of a fold is proportional to what it allocates.

// elemBytes is what one element of a folded tensor of type t costs.
func elemBytes(t int32) int64 {
	if isFloatType(t) {
		return 4
	}
	return 8
}

// foldSize returns the element count of a tensor of the given shape that a
// fold is about to build, after reserving perElem bytes per element (the
// tensor and the index tables built with it) against the folding budget.
func (x *nctx) foldSize(shape []int64, perElem int64) (int, error) {
	n, err := numElements(shape)
	if err != nil {
		return 0, x.fail("constant folding: ", err)
	}
	cost := int64(n) * perElem // n ≤ maxElements, perElem ≤ 24: no overflow
	if cost > x.c.foldBudget {
		return 0, x.errorf(ErrTooLarge, "constant folding of a tensor of shape %v needs %d bytes, over its budget of %d bytes for this file (%d left)",
			shape, cost, x.c.foldTotal, x.c.foldBudget)
	}
	x.c.foldBudget -= cost
	x.c.rep.foldBytes += cost
	x.c.rep.work += int64(n)
	return n, nil
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

// broadcast returns the numpy-broadcast shape of a and b; -1 is unknown.
func broadcast(a, b []int64) ([]int64, error) {
	n := max(len(a), len(b))
	out := make([]int64, n)
	for i := 0; i < n; i++ {
		da, db := int64(1), int64(1)
		if k := i - (n - len(a)); k >= 0 {
			da = a[k]
		}
		if k := i - (n - len(b)); k >= 0 {
			db = b[k]
		}
		switch {
		case da == db:
			out[i] = da
		case da == 1:
			out[i] = db
		case db == 1:
			out[i] = da
		case da < 0:
			out[i] = db
		case db < 0:
			out[i] = da
		default:
			return nil, fmt.Errorf("shapes %v and %v do not broadcast", a, b)
		}
	}
	return out, nil
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
		} else if p, ok := mulDims(known, d); ok {
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

func stridesOf(shape []int64) []int {
	st := make([]int, len(shape))
	s := 1
	for i := len(shape) - 1; i >= 0; i-- {
		st[i] = s
		s *= int(shape[i])
	}
	return st
}

// broadcastIndex maps every element of out (row-major) to the element of in
// it reads under numpy broadcasting.
func broadcastIndex(out, in []int64) []int {
	n := int(prodDims(out))
	idx := make([]int, n)
	st := stridesOf(in)
	// Strides of in aligned to out, 0 on broadcast axes.
	bs := make([]int, len(out))
	off := len(out) - len(in)
	for i := range in {
		if in[i] != 1 {
			bs[off+i] = st[i]
		}
	}
	ctr := make([]int64, len(out))
	pos := 0
	for k := 0; k < n; k++ {
		idx[k] = pos
		for d := len(out) - 1; d >= 0; d-- {
			ctr[d]++
			pos += bs[d]
			if ctr[d] < out[d] {
				break
			}
			pos -= bs[d] * int(ctr[d])
			ctr[d] = 0
		}
	}
	return idx
}

// gatherFrom builds a constant of the given shape whose element k is
// src[idx[k]].
func gatherFrom(src *cval, shape []int64, idx []int) *cval {
	out := &cval{onnxType: src.onnxType, shape: shape}
	if src.isFloat() {
		out.f = make([]float32, len(idx))
		for k, j := range idx {
			out.f[k] = src.f[j]
		}
	} else {
		out.i = make([]int64, len(idx))
		for k, j := range idx {
			out.i[k] = src.i[j]
		}
	}
	return out
}

// relabel returns v with a new shape and the same elements.
func relabel(v *cval, shape []int64) *cval {
	return &cval{onnxType: v.onnxType, shape: shape, f: v.f, i: v.i}
}

func (x *nctx) fold() (bool, error) {
	in := make([]*cval, len(x.n.inputs))
	for i := range in {
		in[i] = x.cin(i)
	}
	v0 := in[0]
	if v0 == nil {
		return false, nil
	}
	var out *cval
	var err error
	switch x.op {
	case "Identity", "Dropout":
		out = v0
	case "Cast":
		out, err = x.foldCast(v0)
	case "Add", "Sub", "Mul", "Div":
		if len(in) != 2 {
			return false, x.malformed("%d inputs", len(in))
		}
		out, err = x.foldBinary(v0, in[1])
	case "Relu", "Sigmoid", "LeakyRelu", "HardSigmoid", "HardSwish", "Clip":
		out, err = x.foldUnary(v0)
	case "Concat":
		out, err = x.foldConcat(in)
	case "Gather":
		if len(in) != 2 {
			return false, x.malformed("%d inputs", len(in))
		}
		out, err = x.foldGather(v0, in[1])
	case "Unsqueeze", "Squeeze":
		var s []int64
		if s, err = x.squeezeShape(v0.shape); err == nil {
			out = relabel(v0, s)
		}
	case "Flatten":
		axis, e := x.getInt("axis", 1)
		if e != nil {
			return false, e
		}
		r := int64(len(v0.shape))
		if axis < -r || axis > r {
			return false, x.malformed("axis %d for rank %d", axis, r)
		}
		if axis < 0 {
			axis += r
		}
		out = relabel(v0, []int64{prodDims(v0.shape[:axis]), prodDims(v0.shape[axis:])})
	case "Reshape":
		if len(in) < 2 || in[1] == nil || in[1].isFloat() {
			return false, x.malformed("shape operand missing or not integer")
		}
		az, e := x.getInt("allowzero", 0)
		if e != nil {
			return false, e
		}
		var s []int64
		if s, err = reshapeDims(v0.shape, in[1].ints(), az != 0); err == nil {
			out = relabel(v0, s)
		} else {
			err = x.fail("", err)
		}
	case "Transpose":
		out, err = x.foldTranspose(v0)
	case "Slice":
		out, err = x.foldSlice(v0)
	case "Expand":
		if len(in) != 2 {
			return false, x.malformed("%d inputs", len(in))
		}
		var t, s []int64
		if t, err = x.expandTarget(in[1]); err != nil {
			return false, err
		}
		if s, err = broadcast(v0.shape, t); err != nil {
			return false, x.malformed("%v", err)
		}
		if _, err = x.foldSize(s, elemBytes(v0.onnxType)+8); err == nil {
			out = gatherFrom(v0, s, broadcastIndex(s, v0.shape))
		}
	default:
		return false, nil
	}
	if err != nil {
		return false, err
	}
	// Relabelling folds (Reshape, Unsqueeze) must not build shapes that a
	// file tensor could not have.
	if _, err := numElements(out.shape); err != nil {
		return false, x.fail("constant folding: ", err)
	}
	x.setConst(0, out)
	for i := 1; i < len(x.n.outputs); i++ {
		if name := x.n.outputs[i]; name != "" {
			x.c.poisoned[name] = poison{i, x.op, x.name}
		}
	}
	return true, nil
}

func (x *nctx) foldCast(v *cval) (*cval, error) {
	to, err := x.getInt("to", 0)
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

func (x *nctx) foldBinary(a, b *cval) (*cval, error) {
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
			p, q := a.f[ia[k]], b.f[ib[k]]
			switch x.op {
			case "Add":
				out.f[k] = p + q
			case "Sub":
				out.f[k] = p - q
			case "Mul":
				out.f[k] = p * q
			case "Div":
				out.f[k] = p / q
			}
		}
		return out, nil
	}
	out.i = make([]int64, len(ia))
	for k := range ia {
		p, q := a.i[ia[k]], b.i[ib[k]]
		switch x.op {
		case "Add":
			out.i[k] = p + q
		case "Sub":
			out.i[k] = p - q
		case "Mul":
			out.i[k] = p * q
		case "Div":
			if q == 0 {
				return nil, x.malformed("integer division by zero")
			}
			out.i[k] = p / q
		}
	}
	return out, nil
}

func (x *nctx) foldUnary(v *cval) (*cval, error) {
	if !v.isFloat() {
		return nil, x.unsupported("%s of an integer constant", x.op)
	}
	var f func(float32) float32
	switch x.op {
	case "Relu":
		f = func(v float32) float32 { return max(v, 0) }
	case "Sigmoid":
		f = func(v float32) float32 { return float32(1 / (1 + math.Exp(-float64(v)))) }
	case "LeakyRelu":
		alpha, err := x.getFloat("alpha", 0.01)
		if err != nil {
			return nil, err
		}
		f = func(v float32) float32 {
			if v < 0 {
				return alpha * v
			}
			return v
		}
	case "HardSigmoid", "HardSwish":
		alpha, beta := float32(0.2), float32(0.5)
		if x.op == "HardSwish" {
			alpha = 1.0 / 6
		} else {
			var err error
			if alpha, err = x.getFloat("alpha", 0.2); err != nil {
				return nil, err
			}
			if beta, err = x.getFloat("beta", 0.5); err != nil {
				return nil, err
			}
		}
		swish := x.op == "HardSwish"
		f = func(v float32) float32 {
			h := max(0, min(1, alpha*v+beta))
			if swish {
				return v * h
			}
			return h
		}
	case "Clip":
		lo, hi, err := x.clipBounds()
		if err != nil {
			return nil, err
		}
		f = func(v float32) float32 { return max(lo, min(hi, v)) }
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

func (x *nctx) foldConcat(in []*cval) (*cval, error) {
	axis, err := x.getInt("axis", 0)
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
		var fits bool
		if out.shape[axis], fits = addDims(out.shape[axis], v.shape[axis]); !fits {
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
	outer := int(prodDims(first.shape[:axis]))
	inner := int(prodDims(first.shape[axis+1:]))
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

func (x *nctx) foldGather(data, indices *cval) (*cval, error) {
	if indices.isFloat() {
		return nil, x.malformed("indices of type %s", typeName(indices.onnxType))
	}
	axis, err := x.getInt("axis", 0)
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
	shape := append(append(append([]int64{}, data.shape[:axis]...), indices.shape...), data.shape[axis+1:]...)
	n, err := x.foldSize(shape, elemBytes(data.onnxType)+8)
	if err != nil {
		return nil, err
	}
	if n == 0 {
		// Nothing to read (and a loop over an empty dimension's neighbours
		// could be long).
		return gatherFrom(data, shape, nil), nil
	}
	outer := int(prodDims(data.shape[:axis]))
	inner := int(prodDims(data.shape[axis+1:]))
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
	return gatherFrom(data, shape, idx), nil
}

func (x *nctx) foldTranspose(v *cval) (*cval, error) {
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
	shape := make([]int64, r)
	for i, p := range perm {
		shape[i] = v.shape[p]
	}
	n, err := x.foldSize(shape, elemBytes(v.onnxType)+8)
	if err != nil {
		return nil, err
	}
	st := stridesOf(v.shape)
	idx := make([]int, n)
	ctr := make([]int64, r)
	for k := 0; k < n; k++ {
		pos := 0
		for d := 0; d < r; d++ {
			pos += int(ctr[d]) * st[perm[d]]
		}
		idx[k] = pos
		for d := r - 1; d >= 0; d-- {
			ctr[d]++
			if ctr[d] < shape[d] {
				break
			}
			ctr[d] = 0
		}
	}
	return gatherFrom(v, shape, idx), nil
}

func (x *nctx) foldSlice(v *cval) (*cval, error) {
	r := len(v.shape)
	starts, ends, axes, steps, err := x.sliceParams(r)
	if err != nil {
		return nil, err
	}
	begin := make([]int64, r)
	step := make([]int64, r)
	shape := append([]int64{}, v.shape...)
	for d := range step {
		step[d] = 1
	}
	for i, ax := range axes {
		begin[ax], shape[ax] = sliceRange(starts[i], ends[i], steps[i], v.shape[ax])
		step[ax] = steps[i]
	}
	n, err := x.foldSize(shape, elemBytes(v.onnxType)+8)
	if err != nil {
		return nil, err
	}
	st := stridesOf(v.shape)
	idx := make([]int, n)
	ctr := make([]int64, r)
	for k := 0; k < n; k++ {
		pos := 0
		for d := 0; d < r; d++ {
			pos += int(begin[d]+ctr[d]*step[d]) * st[d]
		}
		idx[k] = pos
		for d := r - 1; d >= 0; d-- {
			ctr[d]++
			if ctr[d] < shape[d] {
				break
			}
			ctr[d] = 0
		}
	}
	return gatherFrom(v, shape, idx), nil
}
