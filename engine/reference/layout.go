package reference

import (
	"fmt"
	"slices"

	"github.com/signet-go/signet/internal/shape"
	"github.com/signet-go/signet/model"
)

// Operators that move elements without arithmetic.

// concat: y = the inputs joined along axis (required equal elsewhere).
func concat(nd *node) error {
	ax := nd.attrInt("axis", 0)
	ins, err := nd.begin(max(1, len(nd.n.Inputs)), len(nd.n.Inputs), 1)
	if err != nil {
		return err
	}
	first := ins[0].shape
	a, err := axis(ax, len(first))
	if err != nil {
		return err
	}
	oshape := slices.Clone(first)
	oshape[a] = 0
	for i, t := range ins {
		if len(t.shape) != len(first) {
			return fmt.Errorf("%w: input %d has rank %d, want %d", ErrShape, i, len(t.shape), len(first))
		}
		for d := range first {
			if d != a && t.shape[d] != first[d] {
				return fmt.Errorf("%w: input %d shape %v does not match %v outside axis %d", ErrShape, i, t.shape, first, a)
			}
		}
		oshape[a] = int(shape.AddSat(int64(oshape[a]), int64(t.shape[a])))
	}
	y, err := nd.out(0, oshape)
	if err != nil {
		return err
	}
	if err := nd.work(int64(len(y))); err != nil {
		return err
	}
	if len(y) == 0 {
		return nil // the axis products below may not fit an int
	}
	outer := product(oshape[:a])
	pos := 0
	for o := 0; o < outer; o++ {
		for _, t := range ins {
			chunk := product(t.shape[a:])
			pos += copy(y[pos:], t.f[o*chunk:(o+1)*chunk])
		}
	}
	return nil
}

// split: the input cut along axis into the sizes of "split", or without it
// into equal parts of ceil(dim/outputs) (the last may be smaller, none empty).
func split(nd *node) error {
	ax := nd.attrInt("axis", 0)
	sp := nd.attrInts("split")
	in, err := nd.begin(1, 1, len(nd.n.Outputs))
	if err != nil {
		return err
	}
	x := in[0]
	a, err := axis(ax, len(x.shape))
	if err != nil {
		return err
	}
	nout, dim := len(nd.n.Outputs), x.shape[a]
	sizes := make([]int, nout)
	if sp != nil {
		if len(sp) != nout {
			return fmt.Errorf("%w: split %v for %d outputs", ErrShape, sp, nout)
		}
		sum := int64(0)
		for i, v := range sp {
			if v < 0 || v > int64(dim) {
				return fmt.Errorf("%w: split %v of %d", ErrShape, sp, dim)
			}
			sizes[i] = int(v)
			sum += v
		}
		if sum != int64(dim) {
			return fmt.Errorf("%w: split %v does not add up to %d", ErrShape, sp, dim)
		}
	} else {
		part := (dim + nout - 1) / nout
		for i := range sizes {
			sizes[i] = max(0, min(part, dim-i*part))
		}
		if sizes[nout-1] == 0 && dim > 0 {
			return fmt.Errorf("%w: cannot split %d into %d parts", ErrShape, dim, nout)
		}
	}
	if err := nd.work(int64(len(x.f))); err != nil {
		return err
	}
	outer, inner := product(x.shape[:a]), product(x.shape[a+1:])
	off := 0
	for i, sz := range sizes {
		oshape := slices.Clone(x.shape)
		oshape[a] = sz
		y, err := nd.out(i, oshape)
		if err != nil {
			return err
		}
		if len(y) == 0 {
			continue // outer·inner may not fit an int
		}
		for o := 0; o < outer; o++ {
			start := (o*dim + off) * inner
			copy(y[o*sz*inner:], x.f[start:start+sz*inner])
		}
		off += sz
	}
	return nil
}

// slice: ONNX Slice with constant starts, ends, axes (default 0, 1, ...)
// and steps (default 1), clamped as internal/shape.Slice computes.
func slice(nd *node) error {
	starts, ok1 := nd.attr("starts", model.AttrInts)
	ends, ok2 := nd.attr("ends", model.AttrInts)
	axes, steps := nd.attrInts("axes"), nd.attrInts("steps")
	in, err := nd.begin(1, 1, 1)
	if err != nil {
		return err
	}
	x := in[0]
	if !ok1 || !ok2 || len(starts.Ints) != len(ends.Ints) {
		return fmt.Errorf("%w: starts/ends missing or of different lengths", ErrShape)
	}
	n := len(starts.Ints)
	if (axes != nil && len(axes) != n) || (steps != nil && len(steps) != n) {
		return fmt.Errorf("%w: axes %v or steps %v not as long as starts %v", ErrShape, axes, steps, starts.Ints)
	}
	r := len(x.shape)
	first := make([]int, r)
	step := make([]int, r)
	oshape := slices.Clone(x.shape)
	for d := range step {
		step[d] = 1
	}
	seen := make([]bool, r)
	for i := 0; i < n; i++ {
		a := i
		if axes != nil {
			if a, err = axis(axes[i], r); err != nil {
				return err
			}
		} else if a >= r {
			return fmt.Errorf("%w: %d starts for rank %d", ErrShape, n, r)
		}
		if seen[a] {
			return fmt.Errorf("%w: axis %d repeated", ErrShape, a)
		}
		seen[a] = true
		k := int64(1)
		if steps != nil {
			k = steps[i]
		}
		if k == 0 {
			return fmt.Errorf("%w: step 0", ErrShape)
		}
		s, cnt := shape.Slice(int64(x.shape[a]), starts.Ints[i], ends.Ints[i], k)
		if cnt <= 1 {
			k = 1 // one element: the step never applies (and may not fit an int)
		}
		first[a], step[a], oshape[a] = int(s), int(k), int(cnt)
	}
	y, err := nd.out(0, oshape)
	if err != nil {
		return err
	}
	if err := nd.work(int64(len(y))); err != nil {
		return err
	}
	xs := strides(x.shape)
	base := 0
	for d := range first {
		base += first[d] * xs[d]
	}
	idx := make([]int, r)
	for i := range y {
		src := base
		for d := range idx {
			src += idx[d] * step[d] * xs[d]
		}
		y[i] = x.f[src]
		next(idx, oshape)
	}
	return nil
}

// flatten: y = x as [Π dims before axis, Π dims from axis] (axis 1).
func flatten(nd *node) error {
	ax := nd.attrInt("axis", 1)
	in, err := nd.begin(1, 1, 1)
	if err != nil {
		return err
	}
	x := in[0]
	r := int64(len(x.shape))
	if ax < 0 {
		ax += r
	}
	if ax < 0 || ax > r {
		return fmt.Errorf("%w: axis %d out of range for rank %d", ErrShape, ax, r)
	}
	return copyAs(nd, x, []int{product(x.shape[:ax]), product(x.shape[ax:])})
}

// reshape: y = x with the shape of the int64 input 1, where -1 (once) is
// inferred and 0 copies the input's dimension (unless allowzero=1).
func reshape(nd *node) error {
	if err := nd.arity(2, 2, 1, 1); err != nil {
		return err
	}
	allowZero := nd.attrFlag("allowzero", false)
	if err := nd.checkAttrs(); err != nil {
		return err
	}
	x, err := nd.in(0)
	if err != nil {
		return err
	}
	st, err := nd.intIn(1)
	if err != nil {
		return err
	}
	spec := st.i
	if len(spec) > maxRank {
		return fmt.Errorf("%w: shape %v of rank above %d", ErrUnsupported, spec, maxRank)
	}
	oshape := make([]int, len(spec))
	infer, known := -1, 1
	for i, d := range spec {
		switch {
		case d == -1 && infer < 0:
			infer = i
			continue
		case d == 0 && !allowZero:
			if i >= len(x.shape) {
				return fmt.Errorf("%w: shape %v copies dimension %d of a rank-%d input", ErrShape, spec, i, len(x.shape))
			}
			oshape[i] = x.shape[i]
		case d < 0 || d > int64(nd.r.lim.MaxElements):
			return fmt.Errorf("%w: dimension %d in shape %v", ErrShape, d, spec)
		default:
			oshape[i] = int(d)
		}
		known = int(shape.MulSat(int64(known), int64(oshape[i])))
	}
	if infer >= 0 {
		if known == 0 || len(x.f)%known != 0 {
			return fmt.Errorf("%w: cannot infer -1 in %v for %d elements", ErrShape, spec, len(x.f))
		}
		oshape[infer] = len(x.f) / known
	}
	if n, ok := shape.Prod(oshape, nd.r.lim.MaxElements); !ok || n != len(x.f) {
		return fmt.Errorf("%w: shape %v does not hold the %d elements of %v", ErrShape, oshape, len(x.f), x.shape)
	}
	return copyAs(nd, x, oshape)
}

// copyAs defines output 0 as a copy of x's elements with shape dims.
func copyAs(nd *node, x *tensor, dims []int) error {
	if err := nd.work(int64(len(x.f))); err != nil {
		return err
	}
	y, err := nd.out(0, dims)
	if err != nil {
		return err
	}
	copy(y, x.f)
	return nil
}

// transpose: y[i_0, ..., i_r-1] = x[j] with j[perm[d]] = i_d (perm default:
// the axes reversed).
func transpose(nd *node) error {
	perm := nd.attrInts("perm")
	in, err := nd.begin(1, 1, 1)
	if err != nil {
		return err
	}
	x := in[0]
	r := len(x.shape)
	if perm == nil {
		for d := r - 1; d >= 0; d-- {
			perm = append(perm, int64(d))
		}
	}
	if len(perm) != r {
		return fmt.Errorf("%w: perm %v for rank %d", ErrShape, perm, r)
	}
	seen := make([]bool, r)
	for _, p := range perm {
		if p < 0 || p >= int64(r) || seen[p] {
			return fmt.Errorf("%w: invalid perm %v", ErrShape, perm)
		}
		seen[p] = true
	}
	oshape := make([]int, r)
	xs := strides(x.shape)
	src := make([]int, r) // the stride in x of each output axis
	for d, p := range perm {
		oshape[d], src[d] = x.shape[p], xs[p]
	}
	if err := nd.work(int64(len(x.f))); err != nil {
		return err
	}
	y, err := nd.out(0, oshape)
	if err != nil {
		return err
	}
	idx := make([]int, r)
	for i := range y {
		j := 0
		for d := range idx {
			j += idx[d] * src[d]
		}
		y[i] = x.f[j]
		next(idx, oshape)
	}
	return nil
}
