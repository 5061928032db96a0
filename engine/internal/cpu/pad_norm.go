package cpu

import (
	"fmt"

	"github.com/signet-go/signet/engine/internal/backend"
	"github.com/signet-go/signet/kernels"
)

// Pad, layer normalisation and softmax. Each task handles a contiguous
// range of rows (Pad) or blocks of vectors (LayerNorm, Softmax); every
// vector is computed the same way whichever task holds it.

type padStep struct {
	in, out int
	p       kernels.PadParams
	tasks   int
}

func (st *padStep) Run(x backend.Exec) { x.Parallel(st.tasks, st) }

func (st *padStep) Task(x backend.Exec, _, i int) {
	rows := st.p.Rows()
	kernels.PadRows(&st.p, x.Buf(st.in), x.Buf(st.out), i*rows/st.tasks, (i+1)*rows/st.tasks)
}

func (be *Backend) lowerPad(op *backend.Op, a *backend.Pad, g backend.Graph) (backend.Lowered, error) {
	p, ok := kernels.NewPadParams(a.Dims, a.InDims, a.Begin, a.Mode, a.Value)
	if !ok {
		return backend.Lowered{}, fmt.Errorf("cpu: pad of %v into %v with begin %v", a.InDims, a.Dims, a.Begin)
	}
	st := &padStep{in: op.In[0], out: op.Out[0], p: p}
	st.tasks = chunks(p.Rows(), g.Value(op.Out[0]).Size, g.Threads())
	return backend.Lowered{Kernel: st, Name: "f32-pad-go", Tier: kernels.Generic}, nil
}

type layerNormStep struct {
	in, out, mean, rstd int // mean, rstd: -1 without statistics
	outer, n, inner     int
	eps                 float32
	scale, bias         []float32
	tasks               int
}

func (st *layerNormStep) Run(x backend.Exec) { x.Parallel(st.tasks, st) }

func (st *layerNormStep) Task(x backend.Exec, _, i int) {
	in, y := x.Buf(st.in), x.Buf(st.out)
	var mean, rstd []float32
	if st.mean >= 0 {
		mean, rstd = x.Buf(st.mean), x.Buf(st.rstd)
	}
	blk := st.n * st.inner
	for o := i * st.outer / st.tasks; o < (i+1)*st.outer/st.tasks; o++ {
		var m, r []float32
		if mean != nil {
			m, r = mean[o*st.inner:(o+1)*st.inner], rstd[o*st.inner:(o+1)*st.inner]
		}
		kernels.LayerNorm(in[o*blk:(o+1)*blk], y[o*blk:(o+1)*blk], st.n, st.inner, st.scale, st.bias, st.eps, m, r)
	}
}

func (be *Backend) lowerLayerNorm(op *backend.Op, a *backend.LayerNorm, g backend.Graph) (backend.Lowered, error) {
	st := &layerNormStep{in: op.In[0], out: op.Out[0], mean: -1, rstd: -1, outer: a.Outer, n: a.N, inner: a.Inner,
		eps: a.Eps, scale: a.Scale, bias: a.Bias}
	if a.Stats {
		if len(op.Out) != 3 {
			return backend.Lowered{}, fmt.Errorf("cpu: layer normalisation with statistics has %d outputs", len(op.Out))
		}
		st.mean, st.rstd = op.Out[1], op.Out[2]
	}
	st.tasks = chunks(a.Outer, a.Outer*a.N*a.Inner, g.Threads())
	return backend.Lowered{Kernel: st, Name: "f32-layernorm-go", Tier: kernels.Generic}, nil
}

type softmaxStep struct {
	in, out         int
	outer, n, inner int
	el              kernels.Elem
	tasks           int
}

func (st *softmaxStep) Run(x backend.Exec) { x.Parallel(st.tasks, st) }

func (st *softmaxStep) Task(x backend.Exec, w, i int) {
	in, y := x.Buf(st.in), x.Buf(st.out)
	var scratch []float32
	if st.inner > 1 {
		scratch = x.Scratch(w)
	}
	blk := st.n * st.inner
	for o := i * st.outer / st.tasks; o < (i+1)*st.outer/st.tasks; o++ {
		st.el.Softmax(in[o*blk:(o+1)*blk], y[o*blk:(o+1)*blk], st.n, st.inner, scratch)
	}
}

func (be *Backend) lowerSoftmax(op *backend.Op, a *backend.Softmax, g backend.Graph) backend.Lowered {
	st := &softmaxStep{in: op.In[0], out: op.Out[0], outer: a.Outer, n: a.N, inner: a.Inner, el: be.el}
	if a.Inner > 1 {
		g.UseScratch(3 * a.Inner)
	}
	st.tasks = chunks(a.Outer, a.Outer*a.N*a.Inner, g.Threads())
	et := be.el.Tier()
	return backend.Lowered{Kernel: st, Name: "f32-softmax-" + et.String(), Tier: et}
}
