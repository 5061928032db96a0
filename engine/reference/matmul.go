package reference

import (
	"fmt"
	"math"
	"slices"

	"github.com/signet-go/signet/internal/shape"
)

// Matrix products and the per-channel affine BatchNormalization.

// gemm: y[i,j] = act(alpha·Σ_p A[i,p]·B[p,j] + beta·C[i,j]), A [M,K] (or
// [K,M] with transA=1), B [K,N] (or [N,K] with transB=1), C optional and
// broadcast to [M,N] (alpha, beta 1). Accumulates in float32 over p in order.
func gemm(nd *node) error {
	alpha, beta := nd.attrFloat("alpha", 1), nd.attrFloat("beta", 1)
	ta, tb := nd.attrFlag("transA", false), nd.attrFlag("transB", false)
	act := nd.fusedActivation()
	in, err := nd.begin(2, 3, 1)
	if err != nil {
		return err
	}
	a, b := in[0], in[1]
	c, err := nd.optIn(2)
	if err != nil {
		return err
	}
	if len(a.shape) != 2 || len(b.shape) != 2 {
		return fmt.Errorf("%w: Gemm needs 2-D operands, got %v and %v", ErrShape, a.shape, b.shape)
	}
	M, K := a.shape[0], a.shape[1]
	if ta {
		M, K = K, M
	}
	KB, N := b.shape[0], b.shape[1]
	if tb {
		KB, N = N, KB
	}
	if K != KB {
		return fmt.Errorf("%w: inner dimensions differ: %v and %v", ErrShape, a.shape, b.shape)
	}
	var cs []int
	if c != nil {
		if len(c.shape) > 2 {
			return fmt.Errorf("%w: C %v does not broadcast to [%d %d]", ErrShape, c.shape, M, N)
		}
		if bs, ok := shape.Broadcast(c.shape, []int{M, N}); !ok || !slices.Equal(bs, []int{M, N}) {
			return fmt.Errorf("%w: C %v does not broadcast to [%d %d]", ErrShape, c.shape, M, N)
		}
		cs = broadcastStrides(c.shape, []int{M, N})
	}
	if err := nd.work(int64(M), int64(N), int64(K)); err != nil {
		return err
	}
	y, err := nd.out(0, []int{M, N})
	if err != nil {
		return err
	}
	for i := 0; i < M; i++ {
		for j := 0; j < N; j++ {
			var acc float32
			for p := 0; p < K; p++ {
				av := a.f[i*K+p]
				if ta {
					av = a.f[p*M+i]
				}
				bv := b.f[p*N+j]
				if tb {
					bv = b.f[j*K+p]
				}
				acc += av * bv
			}
			acc *= alpha
			if c != nil {
				acc += beta * c.f[i*cs[0]+j*cs[1]]
			}
			if act != nil {
				acc = act(acc)
			}
			y[i*N+j] = acc
		}
	}
	return nil
}

// matMul: numpy matmul, y[..., i, j] = act(Σ_p A[..., i, p]·B[..., p, j])
// with the batch axes broadcast; a 1-D A is a row [1,K] and a 1-D B a
// column [K,1], whose added axis is dropped from the output. Accumulates in
// float32 over p in order.
func matMul(nd *node) error {
	act := nd.fusedActivation()
	in, err := nd.begin(2, 2, 1)
	if err != nil {
		return err
	}
	a, b := in[0], in[1]
	as, bs := a.shape, b.shape
	if len(as) == 0 || len(bs) == 0 {
		return fmt.Errorf("%w: MatMul operands must have rank ≥ 1, got %v and %v", ErrShape, as, bs)
	}
	if len(as) == 1 {
		as = []int{1, as[0]}
	}
	if len(bs) == 1 {
		bs = []int{bs[0], 1}
	}
	M, K, N := as[len(as)-2], as[len(as)-1], bs[len(bs)-1]
	if bs[len(bs)-2] != K {
		return fmt.Errorf("%w: inner dimensions differ: %v and %v", ErrShape, a.shape, b.shape)
	}
	batch, ok := shape.Broadcast(as[:len(as)-2], bs[:len(bs)-2])
	if !ok {
		return fmt.Errorf("%w: batch dimensions of %v and %v do not broadcast", ErrShape, a.shape, b.shape)
	}
	oshape := slices.Clone(batch)
	if len(a.shape) > 1 {
		oshape = append(oshape, M)
	}
	if len(b.shape) > 1 {
		oshape = append(oshape, N)
	}
	if _, ok := shape.Prod(append(slices.Clone(batch), M, N), nd.r.lim.MaxElements); !ok {
		return fmt.Errorf("%w: output of %v × %v", ErrTooLarge, a.shape, b.shape)
	}
	nb := product(batch)
	if err := nd.work(int64(nb), int64(M), int64(N), int64(K)); err != nil {
		return err
	}
	y, err := nd.out(0, oshape)
	if err != nil {
		return err
	}
	ast, bst := broadcastStrides(as[:len(as)-2], batch), broadcastStrides(bs[:len(bs)-2], batch)
	idx := make([]int, len(batch))
	for bi := 0; bi < nb; bi++ {
		ao, bo := 0, 0
		for d := range idx {
			ao += idx[d] * ast[d]
			bo += idx[d] * bst[d]
		}
		ao *= M * K
		bo *= K * N
		for i := 0; i < M; i++ {
			for j := 0; j < N; j++ {
				var acc float32
				for p := 0; p < K; p++ {
					acc += a.f[ao+i*K+p] * b.f[bo+p*N+j]
				}
				if act != nil {
					acc = act(acc)
				}
				y[(bi*M+i)*N+j] = acc
			}
		}
		next(idx, batch)
	}
	return nil
}

// batchNorm (inference): y[n,c,...] = (x − mean[c]) / √(var[c]+ε) · scale[c] + B[c]
// over channel axis 1 (epsilon 1e-5). The square root is taken in float64,
// the rest in float32.
func batchNorm(nd *node) error {
	eps := nd.attrFloat("epsilon", 1e-5)
	in, err := nd.begin(5, 5, 3)
	if err != nil {
		return err
	}
	if err := nd.onlyOutput(); err != nil {
		return err
	}
	x := in[0]
	if len(x.shape) < 2 {
		return fmt.Errorf("%w: input rank %d, want ≥ 2", ErrShape, len(x.shape))
	}
	C := x.shape[1]
	for i, t := range in[1:] {
		if len(t.f) != C {
			return fmt.Errorf("%w: parameter %d has %d values for %d channels", ErrShape, i+1, len(t.f), C)
		}
	}
	scale, bias, mean, vr := in[1].f, in[2].f, in[3].f, in[4].f
	if err := nd.work(int64(len(x.f))); err != nil {
		return err
	}
	y, err := nd.out(0, x.shape)
	if err != nil {
		return err
	}
	inner := product(x.shape[2:])
	for i := range y {
		c := 0
		if inner > 0 {
			c = (i / inner) % C
		}
		y[i] = (x.f[i]-mean[c])/float32(math.Sqrt(float64(vr[c]+eps)))*scale[c] + bias[c]
	}
	return nil
}
