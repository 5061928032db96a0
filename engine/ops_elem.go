package engine

import (
	"math"

	"github.com/signet-go/signet/kernels"
	"github.com/signet-go/signet/model"
)

// Element-wise ops keep their input's layout; each task handles a contiguous
// block of elements.

const elemBlock = 1 << 14

func elemTasks(n, threads int) int {
	if threads <= 1 {
		return 1
	}
	return max(1, min(4*threads, n/elemBlock))
}

type unaryStep struct {
	in, out int
	act     kernels.Act
	el      kernels.Elem
	tasks   int
}

func (st *unaryStep) run(s *Session) { s.parallel(st.tasks, st) }

func (st *unaryStep) task(s *Session, _, i int) {
	x, y := s.v[st.in], s.v[st.out]
	lo, hi := i*len(y)/st.tasks, (i+1)*len(y)/st.tasks
	st.el.Apply(st.act, y[lo:hi], x[lo:hi])
}

func (c *compiler) buildUnary() error {
	x, err := c.in(0)
	if err != nil {
		return err
	}
	var act kernels.Act
	inf := float32(math.Inf(1))
	switch c.node.Op {
	case model.OpRelu:
		act = kernels.Act{Kind: kernels.ActClamp, A: 0, B: inf}
	case model.OpClip:
		act = kernels.Act{Kind: kernels.ActClamp, A: c.attrFloat("min", -inf), B: c.attrFloat("max", inf)}
	case model.OpLeakyRelu:
		act = kernels.Act{Kind: kernels.ActLeakyRelu, A: c.attrFloat("alpha", 0.01)}
	case model.OpSigmoid:
		act = kernels.Act{Kind: kernels.ActSigmoid}
	case model.OpHardSigmoid:
		act = kernels.Act{Kind: kernels.ActHardSigmoid, A: c.attrFloat("alpha", 0.2), B: c.attrFloat("beta", 0.5)}
	case model.OpHardSwish:
		act = kernels.Act{Kind: kernels.ActHardSwish}
	case model.OpSiLU:
		act = kernels.Act{Kind: kernels.ActSiLU}
	}
	xv := &c.p.vals[x]
	out, err := c.output(0, xv.shape, xv.layout)
	if err != nil {
		return err
	}
	n := c.p.vals[out].size
	el := kernels.ElemFor(c.tier)
	st := &unaryStep{in: x, out: out, act: act, el: el, tasks: elemTasks(n, c.threads)}
	et := el.Tier()
	c.addStep(st, c.layer("f32-"+c.node.Op+"-"+et.String(), et, int64(n)), []int{x}, []int{out}, x)
	return nil
}

// binaryStep is out = a op b with broadcasting, walking out in storage order.
type binaryStep struct {
	a, b, out int
	op        byte // + - * /
	w         walk // operands: out, a, b
	el        kernels.Elem
	tasks     int
}

func (st *binaryStep) run(s *Session) { s.parallel(st.tasks, st) }

func (st *binaryStep) task(s *Session, _, t int) {
	w := &st.w
	rows := w.rows()
	r0, r1 := t*rows/st.tasks, (t+1)*rows/st.tasks
	y, a, b := s.v[st.out], s.v[st.a], s.v[st.b]
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
	}
	return x / z
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
	default:
		for i := range y {
			y[i] = a[i] / b[i]
		}
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
	default:
		for i := range y {
			y[i] = a[i] / z
		}
	}
}

// broadcastStrides returns, for each logical dim of an output of rank r, the
// storage stride of value v broadcast to it (0 along broadcast dims).
func broadcastStrides(v *value, oshape []int) []int {
	ls := v.logicalStrides()
	r := len(oshape)
	st := make([]int, r)
	for i := range st {
		j := i - (r - len(v.shape))
		if j >= 0 && v.shape[j] != 1 {
			st[i] = ls[j]
		}
	}
	return st
}

func (c *compiler) buildBinary() error {
	a, err := c.in(0)
	if err != nil {
		return err
	}
	b, err := c.in(1)
	if err != nil {
		return err
	}
	oshape, ok := broadcastShapes(c.p.vals[a].shape, c.p.vals[b].shape)
	if !ok {
		return c.errf(ErrShape, "shapes %v and %v do not broadcast", c.p.vals[a].shape, c.p.vals[b].shape)
	}
	out, err := c.output(0, oshape, defaultLayout(oshape))
	if err != nil {
		return err
	}
	ov := &c.p.vals[out]
	av, bv := &c.p.vals[a], &c.p.vals[b]
	perm := ov.perm()
	phys := ov.physShape()
	sa, sb := broadcastStrides(av, oshape), broadcastStrides(bv, oshape)
	ys := make([]int, len(phys))
	pa, pb := make([]int, len(phys)), make([]int, len(phys))
	s := 1
	for i := len(phys) - 1; i >= 0; i-- {
		ys[i] = s
		s *= phys[i]
		pa[i], pb[i] = sa[perm[i]], sb[perm[i]]
	}
	op := map[string]byte{model.OpAdd: '+', model.OpSub: '-', model.OpMul: '*', model.OpDiv: '/'}[c.node.Op]
	// Commutative ops put the broadcast operand second for the fast inner loop.
	if (op == '+' || op == '*') && len(phys) > 0 && pa[len(phys)-1] == 0 && pb[len(phys)-1] == 1 {
		a, b, pa, pb = b, a, pb, pa
	}
	st := &binaryStep{a: a, b: b, out: out, op: op, w: newWalk(phys, [][]int{ys, pa, pb}, nil)}
	st.tasks = chunks(st.w.rows(), ov.size, c.threads)
	inplace := -1
	// Writing into an operand is safe when it is read at exactly the output's
	// positions (same shape and layout).
	for _, cand := range []int{a, b} {
		cv := &c.p.vals[cand]
		if cv.konst == nil && cv.size == ov.size && cv.layout == ov.layout && sameShape(cv.shape, oshape) {
			inplace = cand
			break
		}
	}
	// Contiguous rows of + and * (same-shape residuals, the per-channel
	// squeeze-excite scale over NHWC) run on the SIMD AddSlice/MulSlice.
	kern, tier := "f32-binary-strided-go", kernels.Generic
	st.el = kernels.ElemFor(c.tier)
	if op == '+' || op == '*' {
		tier = st.el.Tier()
		kern = "f32-binary-strided-" + tier.String()
	}
	c.addStep(st, c.layer(kern, tier, int64(ov.size)), []int{a, b}, []int{out}, inplace)
	return nil
}

func sameShape(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// affineStep is y = x·scale[c] + shift[c] over channel axis 1 of a tensor in
// any layout: storage is (outer, C, inner).
type affineStep struct {
	in, out      int
	outer, inner int
	scale, shift []float32
	tasks        int
}

func (st *affineStep) run(s *Session) { s.parallel(st.tasks, st) }

func (st *affineStep) task(s *Session, _, t int) {
	x, y := s.v[st.in], s.v[st.out]
	C := len(st.scale)
	if st.inner == 1 { // NHWC: channels are the contiguous axis
		sc, sh := st.scale, st.shift[:len(st.scale)]
		for o := t * st.outer / st.tasks; o < (t+1)*st.outer/st.tasks; o++ {
			xs, ys := x[o*C:o*C+C], y[o*C:o*C+C]
			xs = xs[:len(sc)]
			ys = ys[:len(sc)]
			for c, k := range sc {
				ys[c] = xs[c]*k + sh[c]
			}
		}
		return
	}
	for o := t * st.outer / st.tasks; o < (t+1)*st.outer/st.tasks; o++ {
		for ch := 0; ch < C; ch++ {
			base := (o*C + ch) * st.inner
			xs, ys := x[base:base+st.inner], y[base:base+st.inner]
			k, b := st.scale[ch], st.shift[ch]
			for i, v := range xs {
				ys[i] = v*k + b
			}
		}
	}
}

func (c *compiler) buildBatchNorm() error {
	x, err := c.in(0)
	if err != nil {
		return err
	}
	xv := &c.p.vals[x]
	if len(xv.shape) < 2 {
		return c.errf(ErrShape, "input rank %d, want ≥ 2", len(xv.shape))
	}
	ch := xv.shape[1]
	var params [4][]float32
	for i := range params {
		v, shape, err := c.constIn(i + 1)
		if err != nil {
			return err
		}
		if prod(shape) != ch {
			return c.errf(ErrShape, "parameter %d has %d values for %d channels", i+1, prod(shape), ch)
		}
		params[i] = v
	}
	if len(c.node.Outputs) > 1 {
		for _, o := range c.node.Outputs[1:] {
			if o != "" {
				return c.errf(ErrUnsupported, "training-mode outputs")
			}
		}
	}
	eps := c.attrFloat("epsilon", 1e-5)
	if err := c.reserve(2 * ch); err != nil {
		return err
	}
	st := &affineStep{in: x, scale: make([]float32, ch), shift: make([]float32, ch)}
	for i := 0; i < ch; i++ {
		k := params[0][i] / float32(math.Sqrt(float64(params[3][i]+eps)))
		st.scale[i] = k
		st.shift[i] = params[1][i] - params[2][i]*k
	}
	phys := xv.physShape()
	pa := xv.physAxis(1)
	st.outer, st.inner = prod(phys[:pa]), prod(phys[pa+1:])
	out, err := c.output(0, xv.shape, xv.layout)
	if err != nil {
		return err
	}
	st.out = out
	st.tasks = max(1, min(st.outer, elemTasks(c.p.vals[out].size, c.threads)))
	c.addStep(st, c.layer("f32-affine-channel-go", kernels.Generic, 2*int64(c.p.vals[out].size)), []int{x}, []int{out}, x)
	return nil
}
