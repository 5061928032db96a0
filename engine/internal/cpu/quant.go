package cpu

import (
	"github.com/signet-go/signet/engine/internal/backend"
	"github.com/signet-go/signet/kernels"
)

// The int8 Ops: explicit QuantizeLinear and DequantizeLinear steps, Adds,
// max pooling, convolutions and GEMMs on the int8 kernels of package
// kernels, whose results are bit-identical on every tier and for any split
// of the work.

// lowerQuant lowers the int8 kinds of Op; ok is false for any other kind.
func (be *Backend) lowerQuant(op *backend.Op, g backend.Graph) (l backend.Lowered, ok bool, err error) {
	switch a := op.Args.(type) {
	case *backend.Quantize:
		return be.lowerQuantize(op, g, a.Scale, a.Zero, a.Inner, false), true, nil
	case *backend.Dequantize:
		return be.lowerQuantize(op, g, a.Scale, a.Zero, a.Inner, true), true, nil
	case *backend.QConv:
		l, err := be.lowerQConv(op, a, g)
		return l, true, err
	case *backend.QGemm:
		l, err := be.lowerQGemm(op, a, g)
		return l, true, err
	case *backend.QGlobalAvgPool:
		st := &qgapStep{in: op.In[0], out: op.Out[0], args: *a}
		return backend.Lowered{Kernel: st, Name: "qs8-gap-nhwc-go", Tier: kernels.Generic}, true, nil
	case *backend.QAdd:
		n := g.Value(op.Out[0]).Size
		q8 := kernels.Q8For(be.tier)
		st := &qaddStep{a: op.In[0], b: op.In[1], out: op.Out[0], n: n, tasks: elemTasks(n, g.Threads()), args: kernels.QAddParams(*a), q8: q8}
		return backend.Lowered{Kernel: st, Name: "qs8-add/" + q8.Name(), Tier: q8.Tier()}, true, nil
	case *backend.QMaxPool:
		q8 := kernels.Q8For(be.tier)
		st := &qmaxPoolStep{in: op.In[0], out: op.Out[0], nin: g.Value(op.In[0]).Size, nout: g.Value(op.Out[0]).Size, p: a.P, q8: q8}
		return backend.Lowered{Kernel: st, Name: "qs8-maxpool-nhwc/" + q8.Name(), Tier: q8.Tier()}, true, nil
	}
	return l, false, nil
}

// isQuant reports whether a is one of the int8 kinds.
func isQuant(a backend.Args) bool {
	switch a.(type) {
	case *backend.Quantize, *backend.Dequantize, *backend.QConv, *backend.QGemm, *backend.QMaxPool, *backend.QAdd, *backend.QGlobalAvgPool:
		return true
	}
	return false
}

// lowerQuantize lowers a QuantizeLinear or, with deq, DequantizeLinear
// with per-channel scale and zero (one value for a whole tensor), a channel
// being a run of inner elements.
func (be *Backend) lowerQuantize(op *backend.Op, g backend.Graph, scale []float32, zero []int8, inner int, deq bool) backend.Lowered {
	n := g.Value(op.In[0]).Size
	if len(scale) == 1 {
		inner = n
	}
	q8 := kernels.Q8For(be.tier)
	st := &quantStep{in: op.In[0], out: op.Out[0], n: n, tasks: elemTasks(n, g.Threads()), scale: scale, zero: zero, inner: max(1, inner), deq: deq, q8: q8}
	kind := "qs8-quantize/"
	if deq {
		kind = "qs8-dequantize/"
	}
	return backend.Lowered{Kernel: st, Name: kind + q8.Name(), Tier: q8.Tier()}
}

// quantStep is an element-wise QuantizeLinear (float32 to int8) or, with
// deq, DequantizeLinear (int8 to float32), in blocks of elements.
type quantStep struct {
	in, out  int
	n, tasks int
	scale    []float32
	zero     []int8
	inner    int
	deq      bool
	q8       kernels.Q8
}

func (st *quantStep) Run(x backend.Exec) { x.Parallel(st.tasks, st) }

func (st *quantStep) Task(x backend.Exec, _, t int) {
	lo, hi := t*st.n/st.tasks, (t+1)*st.n/st.tasks
	// Runs of inner elements share one channel's parameters: one kernel
	// call a run.
	for i := lo; i < hi; {
		c := i / st.inner % len(st.scale)
		end := min(hi, (i/st.inner+1)*st.inner)
		s, z := st.scale[c], st.zero[c]
		if st.deq {
			st.q8.Dequantize(x.Buf(st.out)[i:end], backend.Int8s(x.Buf(st.in), st.n)[i:end], s, z)
		} else {
			st.q8.Quantize(backend.Int8s(x.Buf(st.out), st.n)[i:end], x.Buf(st.in)[i:end], s, z)
		}
		i = end
	}
}

// Quantize is ONNX QuantizeLinear of one value (kernels.QuantizeInt8).
func Quantize(x, scale float32, zero int8) int8 { return kernels.QuantizeInt8(x, scale, zero) }

// qconvStep runs a packed int8 convolution, tasks over (group, M tile,
// panel chunk).
type qconvStep struct {
	in, out   int
	nin, nout int
	cv        *kernels.QConv
	tasks     int
}

func (st *qconvStep) Run(x backend.Exec) { x.Parallel(st.tasks, st) }

func (st *qconvStep) Task(x backend.Exec, w, i int) { st.TaskRange(x, w, i, i+1) }

func (st *qconvStep) TaskRange(x backend.Exec, w, lo, hi int) {
	st.cv.RunTasks(lo, hi, backend.Int8s(x.Buf(st.in), st.nin), backend.Int8s(x.Buf(st.out), st.nout), backend.Bytes(x.Scratch(w)))
}

// qpackedFloats is the storage, in float32s, of weights packed by PackQB
// for K×N: the panels and the per-column bias and scale.
func qpackedFloats(l kernels.QLayout, K, N int) int64 {
	np := int64((N + l.NR - 1) / l.NR)
	return (np*int64(l.BLen(K)) + 8*np*int64(l.NR) + 3) / 4
}

func (be *Backend) lowerQConv(op *backend.Op, a *backend.QConv, g backend.Graph) (backend.Lowered, error) {
	p := a.P
	mk := kernels.QGemmFor(be.tier)
	kg, cg := p.K/p.Group, p.C/p.Group
	if err := g.Reserve(int64(p.Group) * qpackedFloats(mk.QLayout, p.KH*p.KW*cg, kg)); err != nil {
		return backend.Lowered{}, err
	}
	st := &qconvStep{in: op.In[0], out: op.Out[0], nin: g.Value(op.In[0]).Size, nout: g.Value(op.Out[0]).Size}
	st.cv = kernels.NewQConv(p, mk, a.W, a.Bias, a.ZeroIn, a.Scale, a.Out)
	base := st.cv.Tasks()
	if threads := g.Threads(); threads > 1 && base < 4*threads {
		st.cv.SetSplit((4*threads + base - 1) / base)
	}
	st.tasks = max(1, st.cv.Tasks())
	g.UseScratch((st.cv.ScratchLen() + 3) / 4)
	kind := "qs8-conv-igemm"
	if st.cv.Pointwise() {
		kind = "qs8-conv-1x1-gemm"
	}
	return backend.Lowered{Kernel: st, Name: kind + "/" + mk.Name, Tier: mk.Tier, Reads: []int{op.In[0]}}, nil
}

// qgemmStep is an int8 GEMM of a row-major int8 A by packed weights.
type qgemmStep struct {
	a, out int
	na, nc int
	k, n   int
	op     kernels.QGemmOp
	split  int
}

func (st *qgemmStep) Run(x backend.Exec) { x.Parallel(st.op.Tiles()*st.split, st) }

func (st *qgemmStep) Task(x backend.Exec, w, i int) { st.TaskRange(x, w, i, i+1) }

func (st *qgemmStep) TaskRange(x backend.Exec, w, lo, hi int) {
	a := kernels.DenseQA{Data: backend.Int8s(x.Buf(st.a), st.na), LD: st.k}
	kernels.QGemmRange(&st.op, a, backend.Int8s(x.Buf(st.out), st.nc), st.n, st.split, lo, hi, backend.Bytes(x.Scratch(w)))
}

func (be *Backend) lowerQGemm(op *backend.Op, a *backend.QGemm, g backend.Graph) (backend.Lowered, error) {
	mk := kernels.QGemmFor(be.tier)
	if err := g.Reserve(qpackedFloats(mk.QLayout, a.K, a.N)); err != nil {
		return backend.Lowered{}, err
	}
	ldw := a.N
	if a.TransB {
		ldw = a.K
	}
	st := &qgemmStep{a: op.In[0], out: op.Out[0], na: g.Value(op.In[0]).Size, nc: g.Value(op.Out[0]).Size, k: a.K, n: a.N, split: 1}
	st.op = kernels.QGemmOp{MK: mk, M: a.M, Out: a.Out, B: kernels.PackQB(mk.QLayout, a.K, a.N, a.W, ldw, a.TransB, a.ZeroIn, a.Bias, a.Scale)}
	if tiles, threads := st.op.Tiles(), g.Threads(); threads > 1 && tiles < 4*threads {
		st.split = max(1, min(st.op.B.Panels(), (4*threads+tiles-1)/tiles))
	}
	g.UseScratch((st.op.ScratchLen() + 3) / 4)
	return backend.Lowered{Kernel: st, Name: "qs8-gemm/" + mk.Name, Tier: mk.Tier, Reads: []int{op.In[0]}}, nil
}

// qmaxPoolStep is an int8 max pooling, one task per output row.
type qmaxPoolStep struct {
	in, out   int
	nin, nout int
	p         kernels.PoolParams
	q8        kernels.Q8
}

func (st *qmaxPoolStep) Run(x backend.Exec) { x.Parallel(st.p.N*st.p.OH, st) }

// Task pools output row t (image n, row oh).
func (st *qmaxPoolStep) Task(x backend.Exec, _, t int) {
	st.q8.MaxPoolRow(&st.p, t, backend.Int8s(x.Buf(st.in), st.nin), backend.Int8s(x.Buf(st.out), st.nout))
}

// qaddStep is an int8 Add of two int8 values, requantised, in blocks.
type qaddStep struct {
	a, b, out int
	n, tasks  int
	args      kernels.QAddParams
	q8        kernels.Q8
}

func (st *qaddStep) Run(x backend.Exec) { x.Parallel(st.tasks, st) }

func (st *qaddStep) Task(x backend.Exec, _, t int) {
	lo, hi := t*st.n/st.tasks, (t+1)*st.n/st.tasks
	a, b := backend.Int8s(x.Buf(st.a), st.n), backend.Int8s(x.Buf(st.b), st.n)
	st.q8.Add(backend.Int8s(x.Buf(st.out), st.n)[lo:hi], a[lo:hi], b[lo:hi], &st.args)
}

// qgapStep is an int8 global average pooling, one task per image.
type qgapStep struct {
	in, out int
	args    backend.QGlobalAvgPool
}

func (st *qgapStep) Run(x backend.Exec) { x.Parallel(st.args.N, st) }

func (st *qgapStep) Task(x backend.Exec, _, n int) {
	a := &st.args
	in := backend.Int8s(x.Buf(st.in), a.N*a.HW*a.C)[n*a.HW*a.C : (n+1)*a.HW*a.C]
	out := backend.Int8s(x.Buf(st.out), a.N*a.C)[n*a.C : (n+1)*a.C]
	for c := range out {
		var acc int32
		for p := c; p < len(in); p += a.C {
			acc += int32(in[p]) - int32(a.ZeroIn)
		}
		out[c] = a.Out.Requantize(acc, a.Scale)
	}
}
