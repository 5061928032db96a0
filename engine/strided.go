package engine

// Strided loops: every layout conversion, Transpose, Slice and broadcasting
// element-wise op is "walk the output in storage order and read each operand
// at base + Σ index·stride". Dimensions are collapsed where the strides allow
// it, so a plain copy becomes one copy() and a per-channel broadcast becomes a
// contiguous inner loop.

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

// chunks returns how many tasks a walk of total elements is cut into.
func chunks(rows, total, threads int) int {
	if threads <= 1 || total < 1<<14 {
		return 1
	}
	return min(rows, 4*threads)
}

// copyStep writes out (contiguous, storage order) from a strided source.
type copyStep struct {
	out, in int
	w       walk
	tasks   int
}

// newCopyStep plans out = in read with srcStrides per logical dim of out plus base.
func newCopyStep(out *value, outID int, inID int, srcStrides []int, base int) *copyStep {
	perm := out.perm()
	phys := out.physShape()
	dst := make([]int, len(phys))
	src := make([]int, len(phys))
	s := 1
	for i := len(phys) - 1; i >= 0; i-- {
		dst[i] = s
		s *= phys[i]
		src[i] = srcStrides[perm[i]]
	}
	w := newWalk(phys, [][]int{dst, src}, []int{0, base})
	w.preferLongInner()
	return &copyStep{out: outID, in: inID, w: w, tasks: 1}
}

func (st *copyStep) run(s *Session) { s.parallel(st.tasks, st) }

func (st *copyStep) task(s *Session, _, t int) {
	w := &st.w
	rows := w.rows()
	r0, r1 := t*rows/st.tasks, (t+1)*rows/st.tasks
	if r0 >= r1 {
		return
	}
	dst, src := s.v[st.out], s.v[st.in]
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

// setTasks chooses the task count for a walk under the engine's threads.
func (st *copyStep) setTasks(threads int) *copyStep {
	st.tasks = chunks(st.w.rows(), st.w.rows()*st.w.dims[st.w.rank-1], threads)
	return st
}
