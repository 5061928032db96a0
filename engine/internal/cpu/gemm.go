package cpu

import (
	"github.com/signet-go/signet/engine/internal/backend"
	"github.com/signet-go/signet/internal/shape"
	"github.com/signet-go/signet/kernels"
)

// packedGemmStep is C = A·B(+bias) with B constant and packed at load.
type packedGemmStep struct {
	a, out int
	op     kernels.GemmOp
	transA bool
	k      int
	post   kernels.Act
	split  int
}

func (st *packedGemmStep) Run(x backend.Exec) { x.Parallel(st.op.Tiles()*st.split, st) }

func (st *packedGemmStep) Task(x backend.Exec, w, i int) { st.TaskRange(x, w, i, i+1) }

func (st *packedGemmStep) TaskRange(x backend.Exec, w, lo, hi int) {
	out := x.Buf(st.out)
	N := st.op.B.N
	if st.transA {
		kernels.GemmRange(&st.op, kernels.DenseAT{Data: x.Buf(st.a), LD: st.op.M}, out, N, st.split, lo, hi, x.Scratch(w), st.post)
	} else {
		kernels.GemmRange(&st.op, kernels.DenseA{Data: x.Buf(st.a), LD: st.k}, out, N, st.split, lo, hi, x.Scratch(w), st.post)
	}
}

// newPackedGemm lowers a packed GEMM of M×K by constant b (K×N, or N×K when
// transB), scaled by alpha, plus bias (nil or N values), then act.
func (be *Backend) newPackedGemm(g backend.Graph, a, out, M, K, N int, transA bool, b []float32, transB bool, alpha float32, bias []float32, act kernels.Act) (*packedGemmStep, error) {
	mk := be.mk
	if err := g.Reserve(shape.MulSat(int64((N+mk.NR-1)/mk.NR*mk.NR), int64(K))); err != nil {
		return nil, err
	}
	if alpha != 1 {
		if err := g.ReserveTemp(int64(len(b))); err != nil {
			return nil, err
		}
		scaled := make([]float32, len(b))
		for i, v := range b {
			scaled[i] = v * alpha
		}
		b = scaled
	}
	ldb := N
	if transB {
		ldb = K
	}
	epi, fused := act.Epilogue()
	st := &packedGemmStep{a: a, out: out, transA: transA, k: K, split: 1}
	if !fused {
		epi = kernels.Identity()
		st.post = act
	}
	st.op = kernels.GemmOp{MK: mk, M: M, B: kernels.PackB(mk.NR, K, N, b, ldb, transB), Bias: bias, Epi: epi, El: kernels.ElemFor(mk.Tier)}
	if tiles, threads := st.op.Tiles(), g.Threads(); threads > 1 && tiles < 4*threads {
		st.split = max(1, min(st.op.B.Panels(), (4*threads+tiles-1)/tiles))
	}
	g.UseScratch(st.op.ScratchLen())
	return st, nil
}

// genericGemmStep is the straightforward Gemm for runtime B or a C that is
// not a row-broadcast bias: y = act(alpha·op(A)·op(B) + beta·C), one task
// per row.
type genericGemmStep struct {
	a, b, cIn, out int
	g              kernels.StridedGemm
}

func (st *genericGemmStep) Run(x backend.Exec) { x.Parallel(st.g.M, st) }

func (st *genericGemmStep) Task(x backend.Exec, _, m int) {
	var cv []float32
	if st.cIn >= 0 {
		cv = x.Buf(st.cIn)
	}
	st.g.Row(m, x.Buf(st.a), x.Buf(st.b), cv, x.Buf(st.out))
}

func (be *Backend) lowerGemm(op *backend.Op, a *backend.Gemm, g backend.Graph) (backend.Lowered, error) {
	A, B, out := op.In[0], op.In[1], op.Out[0]
	if bv := g.Value(B); bv.IsConst && a.BiasForm && a.K > 0 {
		st, err := be.newPackedGemm(g, A, out, a.M, a.K, a.N, a.TransA, bv.Const, a.TransB, a.Alpha, a.Bias, a.Act)
		if err != nil {
			return backend.Lowered{}, err
		}
		return backend.Lowered{Kernel: st, Name: "f32-gemm/" + be.mk.Name, Tier: be.mk.Tier, Reads: []int{A}}, nil
	}
	st := &genericGemmStep{a: A, b: B, cIn: -1, out: out, g: kernels.StridedGemm{M: a.M, K: a.K, N: a.N, Alpha: a.Alpha, Beta: a.Beta, Act: a.Act,
		AS0: a.K, AS1: 1, BS0: a.N, BS1: 1}}
	if a.TransA {
		st.g.AS0, st.g.AS1 = 1, a.M
	}
	if a.TransB {
		st.g.BS0, st.g.BS1 = 1, a.K
	}
	if len(op.In) > 2 {
		st.cIn = op.In[2]
		switch cs := a.CShape; len(cs) {
		case 0:
		case 1:
			if cs[0] != 1 {
				st.g.CS1 = 1
			}
		case 2:
			if cs[0] != 1 {
				st.g.CS0 = cs[1]
			}
			if cs[1] != 1 {
				st.g.CS1 = 1
			}
		}
	}
	return backend.Lowered{Kernel: st, Name: "f32-gemm-naive-go", Tier: kernels.Generic}, nil
}

// matmulStep is a batched MatMul with broadcasting over the batch dims.
type matmulStep struct {
	a, b, out int
	M, K, N   int
	batch     walk // over output batch dims; operands: a offset, b offset
	act       kernels.Act
}

func (st *matmulStep) Run(x backend.Exec) {
	x.Parallel(st.batch.rows()*st.batch.dims[st.batch.rank-1], st)
}

func (st *matmulStep) Task(x backend.Exec, _, i int) {
	w := &st.batch
	inner := w.dims[w.rank-1]
	off := w.offsets(i / inner)
	j := i % inner
	ao := off[0] + j*w.st[0][w.rank-1]
	bo := off[1] + j*w.st[1][w.rank-1]
	kernels.MatMul(x.Buf(st.a)[ao:], x.Buf(st.b)[bo:], x.Buf(st.out)[i*st.M*st.N:], st.M, st.K, st.N, st.act)
}

func (be *Backend) lowerMatMul(op *backend.Op, a *backend.MatMul, g backend.Graph) (backend.Lowered, error) {
	A, B, out := op.In[0], op.In[1], op.Out[0]
	if bv := g.Value(B); bv.IsConst && a.BMatrix && a.K > 0 {
		// A's leading dims fold into M: one packed GEMM.
		st, err := be.newPackedGemm(g, A, out, prod(a.Batch)*a.M, a.K, a.N, false, bv.Const, false, 1, nil, a.Act)
		if err != nil {
			return backend.Lowered{}, err
		}
		return backend.Lowered{Kernel: st, Name: "f32-gemm/" + be.mk.Name, Tier: be.mk.Tier, Reads: []int{A}}, nil
	}
	dims, sa, sb := a.Batch, a.SA, a.SB
	if len(dims) == 0 {
		dims = []int{1}
		sa, sb = []int{0}, []int{0}
	}
	st := &matmulStep{a: A, b: B, out: out, M: a.M, K: a.K, N: a.N, act: a.Act, batch: newWalkKeep(dims, [][]int{sa, sb})}
	return backend.Lowered{Kernel: st, Name: "f32-matmul-naive-go", Tier: kernels.Generic}, nil
}
