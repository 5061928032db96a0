package cpu

// Strided loops: every layout conversion, Transpose, Slice and broadcasting
// element-wise op is "walk the output in storage order and read each operand
// at base + Σ index·stride". Dimensions are collapsed where the strides allow
// it, so a plain copy becomes one copy() and a per-channel broadcast becomes a
// contiguous inner loop.

import (
	"github.com/signet-go/signet/engine/internal/backend"
	"github.com/signet-go/signet/kernels"
)

// maxRank bounds the rank of a walk (the planner's tensors have at most
// this rank, so the loops use fixed arrays and allocate nothing).
const maxRank = kernels.MaxStridedRank

// walk is an output iteration space of up to maxRank dims with one stride set
// per operand.
type walk struct {
	rank int
	dims [maxRank]int
	st   [3][maxRank]int // per operand
	base [3]int
	nops int
}

// newWalk builds a walk over dims with the given operand strides (indexed
// like dims) and collapses mergeable dimensions. A rank-0 walk has one element.
func newWalk(dims []int, strides [][]int, bases []int) walk {
	var w walk
	w.nops = len(strides)
	copy(w.base[:], bases)
	// Drop size-1 dims, then merge neighbours contiguous for every operand.
	type dim struct {
		n  int
		st [3]int
	}
	var ds []dim
	for i, n := range dims {
		if n == 1 {
			continue
		}
		d := dim{n: n}
		for o := range strides {
			d.st[o] = strides[o][i]
		}
		ds = append(ds, d)
	}
	var merged []dim
	for _, d := range ds {
		if k := len(merged) - 1; k >= 0 {
			ok := true
			for o := 0; o < w.nops; o++ {
				if merged[k].st[o] != d.st[o]*d.n {
					ok = false
				}
			}
			if ok {
				merged[k].n *= d.n
				merged[k].st = d.st
				continue
			}
		}
		merged = append(merged, d)
	}
	if len(merged) == 0 {
		merged = append(merged, dim{n: 1})
	}
	w.rank = len(merged)
	for i, d := range merged {
		w.dims[i] = d.n
		for o := 0; o < w.nops; o++ {
			w.st[o][i] = d.st[o]
		}
	}
	return w
}

// rows is the number of inner-dimension runs.
func (w *walk) rows() int {
	n := 1
	for i := 0; i < w.rank-1; i++ {
		n *= w.dims[i]
	}
	return n
}

// offsets returns each operand's offset at the start of row r.
func (w *walk) offsets(r int) (off [3]int) {
	off = w.base
	for i := w.rank - 2; i >= 0; i-- {
		idx := r % w.dims[i]
		r /= w.dims[i]
		for o := 0; o < w.nops; o++ {
			off[o] += idx * w.st[o][i]
		}
	}
	return off
}

// copyStep writes out (contiguous, storage order) from a strided source.
type copyStep struct {
	out, in int
	w       walk
	tasks   int
}

func (b *Backend) lowerCopy(op *backend.Op, a *backend.Copy, g backend.Graph) backend.Lowered {
	dst := make([]int, len(a.Dims))
	s := 1
	for i := len(a.Dims) - 1; i >= 0; i-- {
		dst[i] = s
		s *= a.Dims[i]
	}
	w := newWalk(a.Dims, [][]int{dst, a.Src}, []int{0, a.Base})
	w.preferLongInner()
	st := &copyStep{out: op.Out[0], in: op.In[0], w: w}
	st.tasks = chunks(w.rows(), w.rows()*w.dims[w.rank-1], g.Threads())
	return backend.Lowered{Kernel: st, Name: a.Label, Tier: kernels.Generic}
}

func (st *copyStep) Run(x backend.Exec) { x.Parallel(st.tasks, st) }

func (st *copyStep) Task(x backend.Exec, _, t int) {
	w := &st.w
	rows := w.rows()
	r0, r1 := t*rows/st.tasks, (t+1)*rows/st.tasks
	if r0 >= r1 {
		return
	}
	dst, src := x.Buf(st.out), x.Buf(st.in)
	n := w.dims[w.rank-1]
	sd, ss := w.st[0][w.rank-1], w.st[1][w.rank-1]
	it := w.iter(r0)
	for r := r0; r < r1; r++ {
		od, os := it.off[0], it.off[1]
		d := dst[od : od+(n-1)*sd+1]
		switch {
		case ss == 1 && sd == 1:
			copy(d, src[os:os+n])
		case sd == 1 && ss > 0:
			sr := src[os : os+(n-1)*ss+1]
			for i := range d {
				d[i] = sr[i*ss]
			}
		default:
			o := os
			for i := 0; i < n; i++ {
				d[i*sd] = src[o]
				o += ss
			}
		}
		it.next(w)
	}
}

// rowIter walks the rows of a walk in order, updating operand offsets
// incrementally (no division per row).
type rowIter struct {
	idx [maxRank]int
	off [3]int
}

func (w *walk) iter(r int) rowIter {
	it := rowIter{off: w.offsets(r)}
	for i := w.rank - 2; i >= 0; i-- {
		it.idx[i] = r % w.dims[i]
		r /= w.dims[i]
	}
	return it
}

func (it *rowIter) next(w *walk) {
	for d := w.rank - 2; d >= 0; d-- {
		it.idx[d]++
		for o := 0; o < w.nops; o++ {
			it.off[o] += w.st[o][d]
		}
		if it.idx[d] < w.dims[d] {
			return
		}
		for o := 0; o < w.nops; o++ {
			it.off[o] -= w.st[o][d] * w.dims[d]
		}
		it.idx[d] = 0
	}
}

// preferLongInner reorders a copy walk so its innermost dimension is long:
// when the inner run is short, a longer dimension that is contiguous in the
// source or the destination becomes the inner loop (the iteration order of a
// copy does not matter: every element is written once).
func (w *walk) preferLongInner() {
	in := w.rank - 1
	if w.rank < 2 || w.dims[in] >= 16 {
		return
	}
	best := -1
	for d := 0; d < in; d++ {
		if (w.st[0][d] == 1 || w.st[1][d] == 1) && w.dims[d] > w.dims[in] && (best < 0 || w.dims[d] > w.dims[best]) {
			best = d
		}
	}
	if best < 0 {
		return
	}
	// Move dim best to the end, keeping the others in order.
	n := w.dims[best]
	st := [3]int{}
	for o := 0; o < w.nops; o++ {
		st[o] = w.st[o][best]
	}
	for d := best; d < in; d++ {
		w.dims[d] = w.dims[d+1]
		for o := 0; o < w.nops; o++ {
			w.st[o][d] = w.st[o][d+1]
		}
	}
	w.dims[in] = n
	for o := 0; o < w.nops; o++ {
		w.st[o][in] = st[o]
	}
}

// newWalkKeep builds a walk without collapsing dims (the caller indexes the
// innermost dim itself); operand strides index dims.
func newWalkKeep(dims []int, strides [][]int) walk {
	var w walk
	w.nops = len(strides)
	w.rank = len(dims)
	for i, d := range dims {
		w.dims[i] = d
		for o := range strides {
			w.st[o][i] = strides[o][i]
		}
	}
	return w
}
