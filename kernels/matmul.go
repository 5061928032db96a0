package kernels

// Plain loops for the matrix products the packed GEMM does not take: a Gemm
// whose B is computed at run time or whose C is not a row-broadcast bias,
// and a batched MatMul of two runtime operands. Each output element is one
// dot product summed in order of k, so a result never depends on how the
// rows are split over threads.

// StridedGemm is y = act(Alpha·A·B + Beta·C) with every operand read
// through strides, so a transposed or broadcast operand is just other
// strides: element (m,k) of A is a[m*AS0+k*AS1], (k,n) of B is
// b[k*BS0+n*BS1] and (m,n) of C is c[m*CS0+n*CS1]; y is M×N row-major.
type StridedGemm struct {
	M, K, N                      int
	AS0, AS1, BS0, BS1, CS0, CS1 int
	Alpha, Beta                  float32
	Act                          Act
}

// Row computes row m of y: for each n,
//
//	acc = Σ_k a[m*AS0+k*AS1]·b[k*BS0+n*BS1]   (k = 0, 1, …, K-1 in order)
//	y[m*N+n] = Act(acc·Alpha + Beta·c[m*CS0+n*CS1])
//
// with the C term left out when c is nil.
func (g *StridedGemm) Row(m int, a, b, c, y []float32) {
	for n := 0; n < g.N; n++ {
		var acc float32
		for k := 0; k < g.K; k++ {
			acc += a[m*g.AS0+k*g.AS1] * b[k*g.BS0+n*g.BS1]
		}
		acc *= g.Alpha
		if c != nil {
			acc += g.Beta * c[m*g.CS0+n*g.CS1]
		}
		y[m*g.N+n] = g.Act.Apply(acc)
	}
}

// MatMul computes one M×K by K×N product of row-major matrices:
// y[m*N+n] = act(Σ_k a[m*K+k]·b[k*N+n]), k in order.
func MatMul(a, b, y []float32, M, K, N int, act Act) {
	for m := 0; m < M; m++ {
		for n := 0; n < N; n++ {
			var acc float32
			for k := 0; k < K; k++ {
				acc += a[m*K+k] * b[k*N+n]
			}
			y[m*N+n] = act.Apply(acc)
		}
	}
}
