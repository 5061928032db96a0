package cpu

import (
	"github.com/signet-go/signet/engine/internal/backend"
	"github.com/signet-go/signet/kernels"
)

// Element-wise ops keep their input's layout; each task handles a contiguous
// block of elements.

type unaryStep struct {
	in, out int
	act     kernels.Act
	el      kernels.Elem
	tasks   int
}

func (st *unaryStep) Run(x backend.Exec) { x.Parallel(st.tasks, st) }

func (st *unaryStep) Task(x backend.Exec, _, i int) {
	in, y := x.Buf(st.in), x.Buf(st.out)
	lo, hi := i*len(y)/st.tasks, (i+1)*len(y)/st.tasks
	st.el.Apply(st.act, y[lo:hi], in[lo:hi])
}

func (be *Backend) lowerUnary(op *backend.Op, a *backend.Unary, g backend.Graph) backend.Lowered {
	n := g.Value(op.Out[0]).Size
	st := &unaryStep{in: op.In[0], out: op.Out[0], act: a.Act, el: be.el, tasks: elemTasks(n, g.Threads())}
	et := be.el.ApplyTier(a.Act)
	return backend.Lowered{Kernel: st, Name: "f32-" + op.OpType + "-" + et.String(), Tier: et}
}

// binaryStep is out = a op b with broadcasting, walking out in storage order.
type binaryStep struct {
	a, b, out int
	op        byte // + - * /
	w         walk // operands: out, a, b
	el        kernels.Elem
	tasks     int
}

func (st *binaryStep) Run(x backend.Exec) { x.Parallel(st.tasks, st) }

func (st *binaryStep) Task(x backend.Exec, _, t int) {
	w := &st.w
	rows := w.rows()
	r0, r1 := t*rows/st.tasks, (t+1)*rows/st.tasks
	y, a, b := x.Buf(st.out), x.Buf(st.a), x.Buf(st.b)
	r := w.rank - 1
	n := w.dims[r]
	sy, sa, sb := w.st[0][r], w.st[1][r], w.st[2][r]
	if r0 >= r1 {
		return
	}
	it := w.iter(r0)
	for row := r0; row < r1; row++ {
		off := it.off
		it.next(w)
		if sy == 1 && sa == 1 && sb == 1 {
			binContig(st.el, st.op, y[off[0]:off[0]+n], a[off[1]:off[1]+n], b[off[2]:off[2]+n])
			continue
		}
		if sy == 1 && sa == 1 && sb == 0 {
			binScalarB(st.op, y[off[0]:off[0]+n], a[off[1]:off[1]+n], b[off[2]])
			continue
		}
		yo, ao, bo := off[0], off[1], off[2]
		for i := 0; i < n; i++ {
			y[yo] = binApply(st.op, a[ao], b[bo])
			yo += sy
			ao += sa
			bo += sb
		}
	}
}

func binApply(op byte, x, z float32) float32 {
	switch op {
	case '+':
		return x + z
	case '-':
		return x - z
	case '*':
		return x * z
	case '/':
		return x / z
	}
	return binMath(op, x, z) // elem_math.go
}

func binContig(el kernels.Elem, op byte, y, a, b []float32) {
	a = a[:len(y)]
	b = b[:len(y)]
	switch op {
	case '+':
		el.Add(y, a, b)
	case '-':
		for i := range y {
			y[i] = a[i] - b[i]
		}
	case '*':
		el.Mul(y, a, b)
	case '/':
		for i := range y {
			y[i] = a[i] / b[i]
		}
	default:
		binMathContig(op, y, a, b) // elem_math.go
	}
}

func binScalarB(op byte, y, a []float32, z float32) {
	a = a[:len(y)]
	switch op {
	case '+':
		for i := range y {
			y[i] = a[i] + z
		}
	case '-':
		for i := range y {
			y[i] = a[i] - z
		}
	case '*':
		for i := range y {
			y[i] = a[i] * z
		}
	case '/':
		for i := range y {
			y[i] = a[i] / z
		}
	default:
		binMathScalarB(op, y, a, z) // elem_math.go
	}
}

func (be *Backend) lowerBinary(op *backend.Op, a *backend.Binary, g backend.Graph) backend.Lowered {
	A, B := op.In[0], op.In[1]
	pa, pb := a.SA, a.SB
	// Commutative ops put the broadcast operand second for the fast inner loop.
	if r := len(a.Dims); binCommutes(a.Op) && r > 0 && pa[r-1] == 0 && pb[r-1] == 1 {
		A, B, pa, pb = B, A, pb, pa
	}
	st := &binaryStep{a: A, b: B, out: op.Out[0], op: a.Op, w: newWalk(a.Dims, [][]int{a.SY, pa, pb}, nil), el: be.el}
	st.tasks = chunks(st.w.rows(), g.Value(op.Out[0]).Size, g.Threads())
	// Contiguous rows of + and * (same-shape residuals, the per-channel
	// squeeze-excite scale over NHWC) run on the SIMD AddSlice/MulSlice.
	name, tier := "f32-binary-strided-go", kernels.Generic
	if a.Op == '+' || a.Op == '*' {
		tier = be.el.Tier()
		name = "f32-binary-strided-" + tier.String()
	}
	return backend.Lowered{Kernel: st, Name: name, Tier: tier}
}

// affineStep is y = x·scale[c] + shift[c] over channel axis 1 of a tensor in
// any layout: storage is (outer, C, inner).
type affineStep struct {
	in, out      int
	outer, inner int
	scale, shift []float32
	tasks        int
}

func (st *affineStep) Run(x backend.Exec) { x.Parallel(st.tasks, st) }

func (st *affineStep) Task(x backend.Exec, _, t int) {
	in, y := x.Buf(st.in), x.Buf(st.out)
	blk := len(st.scale) * st.inner
	for o := t * st.outer / st.tasks; o < (t+1)*st.outer/st.tasks; o++ {
		kernels.AffineChannels(in[o*blk:(o+1)*blk], y[o*blk:(o+1)*blk], st.scale, st.shift, st.inner)
	}
}

func (be *Backend) lowerAffine(op *backend.Op, a *backend.Affine, g backend.Graph) backend.Lowered {
	st := &affineStep{in: op.In[0], out: op.Out[0], outer: a.Outer, inner: a.Inner, scale: a.Scale, shift: a.Shift}
	st.tasks = max(1, min(a.Outer, elemTasks(g.Value(op.Out[0]).Size, g.Threads())))
	return backend.Lowered{Kernel: st, Name: "f32-affine-channel-go", Tier: kernels.Generic}
}

// concatStep copies each input's (outer, chunk) blocks side by side along
// the concatenation axis in storage order.
type concatStep struct {
	ins    []int
	chunk  []int // per input: elements per outer index
	out    int
	outer  int
	tasks  int
	rowLen int
}

func (st *concatStep) Run(x backend.Exec) { x.Parallel(st.tasks, st) }

func (st *concatStep) Task(x backend.Exec, _, t int) {
	y := x.Buf(st.out)
	for o := t * st.outer / st.tasks; o < (t+1)*st.outer/st.tasks; o++ {
		d := y[o*st.rowLen:]
		for i, id := range st.ins {
			n := st.chunk[i]
			copy(d[:n], x.Buf(id)[o*n:o*n+n])
			d = d[n:]
		}
	}
}

func (be *Backend) lowerConcat(op *backend.Op, a *backend.Concat, g backend.Graph) backend.Lowered {
	st := &concatStep{ins: op.In, chunk: a.Chunk, out: op.Out[0], outer: a.Outer, rowLen: a.RowLen}
	st.tasks = max(1, min(a.Outer, elemTasks(g.Value(op.Out[0]).Size, g.Threads())))
	return backend.Lowered{Kernel: st, Name: "copy-concat", Tier: kernels.Generic}
}

// splitStep is the inverse of concatStep.
type splitStep struct {
	in     int
	outs   []int
	chunk  []int
	outer  int
	rowLen int
}

func (st *splitStep) Run(x backend.Exec) {
	in := x.Buf(st.in)
	for o := 0; o < st.outer; o++ {
		src := in[o*st.rowLen:]
		for i, id := range st.outs {
			n := st.chunk[i]
			copy(x.Buf(id)[o*n:o*n+n], src[:n])
			src = src[n:]
		}
	}
}

func (be *Backend) lowerSplit(op *backend.Op, a *backend.Split) backend.Lowered {
	st := &splitStep{in: op.In[0], outs: op.Out, chunk: a.Chunk, outer: a.Outer, rowLen: a.RowLen}
	return backend.Lowered{Kernel: st, Name: "copy-split", Tier: kernels.Generic}
}
