package onnx

import "github.com/signet-go/signet/internal/shape"

// What constant folding shares. Folding evaluates nodes whose inputs are
// all constants with the fold function of their operator's descriptor
// (ops_*.go), which is how the Shape/Gather/Unsqueeze/Concat chains in front
// of Reshape disappear. What folding allocates is charged to a budget of
// maxFoldBytes (plus a multiple of the file size) before it is allocated,
// and the work of a fold is proportional to what it allocates.

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
func (x *nctx) foldSize(dims []int64, perElem int64) (int, error) {
	n, err := numElements(dims)
	if err != nil {
		return 0, x.fail("constant folding: ", err)
	}
	cost := int64(n) * perElem // n ≤ maxElements, perElem ≤ 24: no overflow
	if cost > x.c.foldBudget {
		return 0, x.errorf(ErrTooLarge, "constant folding of a tensor of shape %v needs %d bytes, over its budget of %d bytes for this file (%d left)",
			dims, cost, x.c.foldTotal, x.c.foldBudget)
	}
	x.c.foldBudget -= cost
	x.c.rep.foldBytes += cost
	x.c.rep.work += int64(n)
	return n, nil
}

// stridesOf returns the row-major strides of a tensor of shape dims.
func stridesOf(dims []int64) []int {
	st := make([]int, len(dims))
	s := 1
	for i := len(dims) - 1; i >= 0; i-- {
		st[i] = s
		s *= int(dims[i])
	}
	return st
}

// walk lists, for every element of a tensor of shape dims in row-major
// order, the position base + Σ index[d]·stride[d] it reads: the index table
// of every fold that moves elements (Expand and broadcasting arithmetic,
// Transpose, Slice). dims passed foldSize.
func walk(dims []int64, base int, stride []int) []int {
	n, _ := shape.Prod64(dims, maxElements)
	idx := make([]int, n)
	ctr := make([]int64, len(dims))
	pos := base
	for k := range idx {
		idx[k] = pos
		for d := len(dims) - 1; d >= 0; d-- {
			ctr[d]++
			pos += stride[d]
			if ctr[d] < dims[d] {
				break
			}
			pos -= stride[d] * int(ctr[d])
			ctr[d] = 0
		}
	}
	return idx
}

// broadcastIndex maps every element of out (row-major) to the element of in
// it reads under numpy broadcasting.
func broadcastIndex(out, in []int64) []int {
	st := stridesOf(in)
	// Strides of in aligned to out, 0 on broadcast axes.
	bs := make([]int, len(out))
	off := len(out) - len(in)
	for i := range in {
		if in[i] != 1 {
			bs[off+i] = st[i]
		}
	}
	return walk(out, 0, bs)
}

// gatherFrom builds a constant of the given shape whose element k is
// src[idx[k]].
func gatherFrom(src *cval, dims []int64, idx []int) *cval {
	out := &cval{onnxType: src.onnxType, shape: dims}
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
func relabel(v *cval, dims []int64) *cval {
	return &cval{onnxType: v.onnxType, shape: dims, f: v.f, i: v.i}
}
