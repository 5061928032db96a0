package cpu

import (
	"github.com/signet-go/signet/engine/internal/backend"
	"github.com/signet-go/signet/kernels"
)

// reduceStep reduces over a set of dims: output element i reduces the
// elements of inner (the reduced dims) from offset outer.Offset(i) (the
// kept dims).
type reduceStep struct {
	in, out      int
	outer, inner kernels.Strided
	kind         backend.ReduceKind
}

func (st *reduceStep) Run(x backend.Exec) { x.Parallel(len(x.Buf(st.out)), st) }

func (st *reduceStep) Task(x backend.Exec, _, i int) {
	in := x.Buf(st.in)
	base := st.outer.Offset(i)
	var v float32
	switch st.kind {
	case backend.ReduceL2:
		v = kernels.ReduceL2(in, base, &st.inner)
	case backend.ReduceSum:
		v = kernels.ReduceSum(in, base, &st.inner)
	case backend.ReduceMax:
		v = kernels.ReduceMax(in, base, &st.inner)
	case backend.ReduceMin:
		v = kernels.ReduceMin(in, base, &st.inner)
	default:
		v = kernels.ReduceMean(in, base, &st.inner)
	}
	x.Buf(st.out)[i] = v
}

func (be *Backend) lowerReduce(op *backend.Op, a *backend.Reduce) backend.Lowered {
	st := &reduceStep{in: op.In[0], out: op.Out[0], outer: kernels.NewStrided(a.KeptDims, a.KeptStrides),
		inner: kernels.NewStrided(a.RedDims, a.RedStrides), kind: a.Kind}
	return backend.Lowered{Kernel: st, Name: "f32-reduce-strided-go", Tier: kernels.Generic}
}

// normStep divides each vector along one storage axis by its norm.
type normStep struct {
	in, out          int
	outer, n, stride int // vectors: outer × stride of them, n elements, stride apart
	p1               bool
	eps              float32
}

func (st *normStep) Run(x backend.Exec) { x.Parallel(st.outer, st) }

func (st *normStep) Task(x backend.Exec, _, o int) {
	blk := st.n * st.stride
	kernels.LpNormalize(x.Buf(st.in)[o*blk:(o+1)*blk], x.Buf(st.out)[o*blk:(o+1)*blk], st.n, st.stride, st.p1, st.eps)
}

func (be *Backend) lowerNormalize(op *backend.Op, a *backend.Normalize) backend.Lowered {
	st := &normStep{in: op.In[0], out: op.Out[0], outer: a.Outer, n: a.N, stride: a.Stride, p1: a.P1, eps: a.Eps}
	return backend.Lowered{Kernel: st, Name: "f32-normalize-go", Tier: kernels.Generic}
}
