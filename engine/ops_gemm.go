package engine

import (
	"github.com/signet-go/signet/engine/internal/backend"
	"github.com/signet-go/signet/internal/shape"
)

func (c *compiler) buildGemm() error {
	a, b, err := c.in2()
	if err != nil {
		return err
	}
	ci, err := c.optIn(2)
	if err != nil {
		return err
	}
	act, err := c.fusedActivation()
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
		if _, ok := shape.Broadcast([]int{M, N}, cshape); !ok || len(cshape) > 2 {
			return c.errf(ErrShape, "C %v does not broadcast to [%d %d]", cshape, M, N)
		}
	}
	// A row-broadcast constant C is a bias vector.
	var bias []float32
	biasForm := ci < 0
	if ci >= 0 && c.p.vals[ci].isConst && (len(cshape) < 2 || cshape[0] == 1) {
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
	ins := []int{a, b}
	if ci >= 0 {
		ins = append(ins, ci)
	}
	args := &backend.Gemm{M: M, K: K, N: N, TransA: transA, TransB: transB, Alpha: alpha, Beta: beta, Act: act,
		BiasForm: biasForm, Bias: bias, CShape: cshape}
	return c.lowerNode(args, ins, []int{out}, flops, -1)
}

func (c *compiler) buildMatMul() error {
	a, b, err := c.in2()
	if err != nil {
		return err
	}
	act, err := c.fusedActivation()
	if err != nil {
		return err
	}
	a = c.need(a, layoutLogical)
	b = c.need(b, layoutLogical)
	as, bs := c.p.vals[a].shape, c.p.vals[b].shape
	ea, eb, batch, oshape, fault := shape.MatMul(as, bs)
	switch fault {
	case shape.MatMulScalar:
		return c.errf(ErrShape, "MatMul operands must have rank ≥ 1")
	case shape.MatMulInner:
		return c.errf(ErrShape, "inner dimensions differ: %v and %v", as, bs)
	case shape.MatMulBatch:
		return c.errf(ErrShape, "batch dimensions of %v and %v do not broadcast", as, bs)
	}
	M, K, N := ea[len(ea)-2], ea[len(ea)-1], eb[len(eb)-1]
	out, err := c.output(0, oshape, layoutLogical)
	if err != nil {
		return err
	}
	flops := shape.MulSat(2, int64(prod(batch)), int64(M), int64(N), int64(K))
	// Batch strides (in elements) of each operand, aligned right.
	args := &backend.MatMul{M: M, K: K, N: N, Batch: batch, Act: act, BMatrix: len(eb) == 2,
		SA: batchStrides(ea, len(batch), M*K), SB: batchStrides(eb, len(batch), K*N)}
	return c.lowerNode(args, []int{a, b}, []int{out}, flops, -1)
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
