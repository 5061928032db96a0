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
	return &copyStep{out: outID, in: inID, w: w, tasks: 1}
}

func (st *copyStep) run(s *Session) { s.parallel(st.tasks, st) }

func (st *copyStep) task(s *Session, _, t int) {
	w := &st.w
	rows := w.rows()
	r0, r1 := t*rows/st.tasks, (t+1)*rows/st.tasks
	dst, src := s.v[st.out], s.v[st.in]
	n := w.dims[w.rank-1]
	sd, ss := w.st[0][w.rank-1], w.st[1][w.rank-1]
	for r := r0; r < r1; r++ {
		off := w.offsets(r)
		d := dst[off[0] : off[0]+(n-1)*sd+1]
		if ss == 1 && sd == 1 {
			copy(d, src[off[1]:off[1]+n])
			continue
		}
		o := off[1]
		for i := 0; i < n; i++ {
			d[i*sd] = src[o]
			o += ss
		}
	}
}

// setTasks chooses the task count for a walk under the engine's threads.
func (st *copyStep) setTasks(threads int) *copyStep {
	st.tasks = chunks(st.w.rows(), st.w.rows()*st.w.dims[st.w.rank-1], threads)
	return st
}
