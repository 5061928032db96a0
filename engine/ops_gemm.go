package engine

import (
	"math"

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

func (st *packedGemmStep) run(s *Session) { s.parallel(st.op.Tiles()*st.split, st) }

func (st *packedGemmStep) task(s *Session, w, i int) { st.taskRange(s, w, i, i+1) }

func (st *packedGemmStep) taskRange(s *Session, w, lo, hi int) {
	out := s.v[st.out]
	N := st.op.B.N
	if st.transA {
		kernels.GemmRange(&st.op, kernels.DenseAT{Data: s.v[st.a], LD: st.op.M}, out, N, st.split, lo, hi, s.scratch[w], st.post)
	} else {
		kernels.GemmRange(&st.op, kernels.DenseA{Data: s.v[st.a], LD: st.k}, out, N, st.split, lo, hi, s.scratch[w], st.post)
	}
}

// newPackedGemm plans a packed GEMM of M×K by constant b (K×N, or N×K when
// transB), scaled by alpha, plus bias (nil or N values), then act.
func (c *compiler) newPackedGemm(a, out, M, K, N int, transA bool, b []float32, transB bool, alpha float32, bias []float32, act kernels.Act) (*packedGemmStep, error) {
	packed := shape.MulSat(int64((N+c.mk.NR-1)/c.mk.NR*c.mk.NR), int64(K))
	if packed > math.MaxInt32 {
		return nil, c.budgetErr("packed weights of %d floats", packed)
	}
	scaled := 0
	if alpha != 1 {
		scaled = len(b)
	}
	if err := c.reserve(int(packed) + scaled); err != nil {
		return nil, err
	}
	if alpha != 1 {
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
	st.op = kernels.GemmOp{MK: c.mk, M: M, B: kernels.PackB(c.mk.NR, K, N, b, ldb, transB), Bias: bias, Epi: epi, El: kernels.ElemFor(c.mk.Tier)}
	if tiles := st.op.Tiles(); c.threads > 1 && tiles < 4*c.threads {
		st.split = max(1, min(st.op.B.Panels(), (4*c.threads+tiles-1)/tiles))
	}
	c.useScratch(st.op.ScratchLen())
	return st, nil
}

// genericGemmStep is the straightforward Gemm for runtime B or a C that is
// not a row-broadcast bias: y = act(alpha·op(A)·op(B) + beta·C).
type genericGemmStep struct {
	a, b, cIn, out int
	M, K, N        int
	// element (m,k) of A at a[m*as0+k*as1]; (k,n) of B at b[k*bs0+n*bs1];
	// (m,n) of C at c[m*cs0+n*cs1]
	as0, as1, bs0, bs1, cs0, cs1 int
	alpha, beta                  float32
	act                          kernels.Act
}

func (st *genericGemmStep) run(s *Session) { s.parallel(st.M, st) }

func (st *genericGemmStep) task(s *Session, _, m int) {
	a, b, y := s.v[st.a], s.v[st.b], s.v[st.out]
	var cv []float32
	if st.cIn >= 0 {
		cv = s.v[st.cIn]
	}
	for n := 0; n < st.N; n++ {
		var acc float32
		for k := 0; k < st.K; k++ {
			acc += a[m*st.as0+k*st.as1] * b[k*st.bs0+n*st.bs1]
		}
		acc *= st.alpha
		if cv != nil {
			acc += st.beta * cv[m*st.cs0+n*st.cs1]
		}
		y[m*st.N+n] = st.act.Apply(acc)
	}
}

func (c *compiler) buildGemm() error {
	a, err := c.in(0)
	if err != nil {
		return err
	}
	b, err := c.in(1)
	if err != nil {
		return err
	}
	ci, err := c.optIn(2)
	if err != nil {
		return err
	}
	act, err := c.activation()
	if err != nil {
		return err
	}
	alpha := c.attrFloat("alpha", 1)
	beta := c.attrFloat("beta", 1)
	transA := c.attrInt("transA", 0) != 0
	transB := c.attrInt("transB", 0) != 0
	as, bs := c.p.vals[a].shape, c.p.vals[b].shape
	if len(as) != 2 || len(bs) != 2 {
		return c.errf(ErrShape, "Gemm needs 2-D operands, got %v and %v", as, bs)
	}
	M, K := as[0], as[1]
	if transA {
		M, K = K, M
	}
	K2, N := bs[0], bs[1]
	if transB {
		K2, N = N, K2
	}
	if K != K2 {
		return c.errf(ErrShape, "inner dimensions differ: %v and %v", as, bs)
	}
	var cshape []int
	if ci >= 0 {
		cshape = c.p.vals[ci].shape
		if _, ok := broadcastShapes([]int{M, N}, cshape); !ok || len(cshape) > 2 {
			return c.errf(ErrShape, "C %v does not broadcast to [%d %d]", cshape, M, N)
		}
	}
	// A row-broadcast constant C is a bias vector.
	var bias []float32
	biasForm := ci < 0
	if ci >= 0 && c.p.vals[ci].konst != nil && (len(cshape) < 2 || cshape[0] == 1) {
		biasForm = true
		cv := c.p.vals[ci].konst
		bias = make([]float32, N)
		for n := range bias {
			if len(cv) == 1 {
				bias[n] = beta * cv[0]
			} else {
				bias[n] = beta * cv[n]
			}
		}
	}
	out, err := c.output(0, []int{M, N}, layoutLogical)
	if err != nil {
		return err
	}
	flops := shape.MulSat(2, int64(M), int64(N), int64(K))
	if bv := &c.p.vals[b]; bv.konst != nil && biasForm && K > 0 {
		st, err := c.newPackedGemm(a, out, M, K, N, transA, bv.konst, transB, alpha, bias, act)
		if err != nil {
			return err
		}
		c.addStep(st, c.layer("f32-gemm/"+c.mk.Name, c.mk.Tier, flops), []int{a}, []int{out}, -1)
		return nil
	}
	st := &genericGemmStep{a: a, b: b, cIn: ci, out: out, M: M, K: K, N: N, alpha: alpha, beta: beta, act: act,
		as0: K, as1: 1, bs0: N, bs1: 1}
	if transA {
		st.as0, st.as1 = 1, M
	}
	if transB {
		st.bs0, st.bs1 = 1, K
	}
	ins := []int{a, b}
	if ci >= 0 {
		ins = append(ins, ci)
		switch len(cshape) {
		case 0:
		case 1:
			if cshape[0] != 1 {
				st.cs1 = 1
			}
		case 2:
			if cshape[0] != 1 {
				st.cs0 = cshape[1]
			}
			if cshape[1] != 1 {
				st.cs1 = 1
			}
		}
	}
	c.addStep(st, c.layer("f32-gemm-naive-go", kernels.Generic, flops), ins, []int{out}, -1)
	return nil
}

// matmulStep is a batched MatMul with broadcasting over the batch dims.
type matmulStep struct {
	a, b, out int
	M, K, N   int
	batch     walk // over output batch dims; operands: a offset, b offset
	act       kernels.Act
}

func (st *matmulStep) run(s *Session) { s.parallel(st.batch.rows()*st.batch.dims[st.batch.rank-1], st) }

func (st *matmulStep) task(s *Session, _, i int) {
	w := &st.batch
	inner := w.dims[w.rank-1]
	off := w.offsets(i / inner)
	j := i % inner
	ao := off[0] + j*w.st[0][w.rank-1]
	bo := off[1] + j*w.st[1][w.rank-1]
	a, b := s.v[st.a][ao:], s.v[st.b][bo:]
	y := s.v[st.out][i*st.M*st.N:]
	for m := 0; m < st.M; m++ {
		for n := 0; n < st.N; n++ {
			var acc float32
			for k := 0; k < st.K; k++ {
				acc += a[m*st.K+k] * b[k*st.N+n]
			}
			y[m*st.N+n] = st.act.Apply(acc)
		}
	}
}

func (c *compiler) buildMatMul() error {
	a, err := c.in(0)
	if err != nil {
		return err
	}
	b, err := c.in(1)
	if err != nil {
		return err
	}
	act, err := c.activation()
	if err != nil {
		return err
	}
	a = c.need(a, layoutLogical)
	b = c.need(b, layoutLogical)
	as, bs := c.p.vals[a].shape, c.p.vals[b].shape
	if len(as) == 0 || len(bs) == 0 {
		return c.errf(ErrShape, "MatMul operands must have rank ≥ 1")
	}
	// Promote rank-1 operands as numpy.matmul does.
	ea, eb := as, bs
	if len(as) == 1 {
		ea = []int{1, as[0]}
	}
	if len(bs) == 1 {
		eb = []int{bs[0], 1}
	}
	M, K := ea[len(ea)-2], ea[len(ea)-1]
	K2, N := eb[len(eb)-2], eb[len(eb)-1]
	if K != K2 {
		return c.errf(ErrShape, "inner dimensions differ: %v and %v", as, bs)
	}
	batch, ok := broadcastShapes(ea[:len(ea)-2], eb[:len(eb)-2])
	if !ok {
		return c.errf(ErrShape, "batch dimensions of %v and %v do not broadcast", as, bs)
	}
	var oshape []int
	oshape = append(oshape, batch...)
	if len(as) > 1 {
		oshape = append(oshape, M)
	}
	if len(bs) > 1 {
		oshape = append(oshape, N)
	}
	out, err := c.output(0, oshape, layoutLogical)
	if err != nil {
		return err
	}
	flops := shape.MulSat(2, int64(prod(batch)), int64(M), int64(N), int64(K))
	if bv := &c.p.vals[b]; bv.konst != nil && len(eb) == 2 && K > 0 {
		// A's leading dims fold into M: one packed GEMM.
		st, err := c.newPackedGemm(a, out, prod(batch)*M, K, N, false, bv.konst, false, 1, nil, act)
		if err != nil {
			return err
		}
		c.addStep(st, c.layer("f32-gemm/"+c.mk.Name, c.mk.Tier, flops), []int{a}, []int{out}, -1)
		return nil
	}
	// Batch strides (in elements) of each operand, aligned right.
	sa := batchStrides(ea, len(batch), M*K)
	sb := batchStrides(eb, len(batch), K*N)
	dims := batch
	if len(dims) == 0 {
		dims = []int{1}
		sa, sb = []int{0}, []int{0}
	}
	st := &matmulStep{a: a, b: b, out: out, M: M, K: K, N: N, act: act, batch: newWalkKeep(dims, [][]int{sa, sb})}
	c.addStep(st, c.layer("f32-matmul-naive-go", kernels.Generic, flops), []int{a, b}, []int{out}, -1)
	return nil
}

// batchStrides returns the element stride of each of rank batch dims of a
// matrix-stack shape s (trailing two dims are the matrix), 0 where broadcast.
func batchStrides(s []int, rank, mat int) []int {
	st := make([]int, rank)
	bd := s[:len(s)-2]
	stride := mat
	for i := len(bd) - 1; i >= 0; i-- {
		j := rank - len(bd) + i
		if bd[i] != 1 {
			st[j] = stride
		}
		stride *= bd[i]
	}
	return st
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

// broadcastShapes returns the multidirectional broadcast of a and b.
func broadcastShapes(a, b []int) ([]int, bool) {
	r := max(len(a), len(b))
	out := make([]int, r)
	for i := 0; i < r; i++ {
		da, db := 1, 1
		if j := i - (r - len(a)); j >= 0 {
			da = a[j]
		}
		if j := i - (r - len(b)); j >= 0 {
			db = b[j]
		}
		switch {
		case da == db:
			out[i] = da
		case da == 1:
			out[i] = db
		case db == 1:
			out[i] = da
		default:
			return nil, false
		}
	}
	return out, true
}
