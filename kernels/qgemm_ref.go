package kernels

// QGemmRef is the int8 GEMM's definition, the twin every tier answers to
// bit for bit: C[M×N] = requantize(bias + (A − za)·W) with A element (i, p)
// at a[i*lda+p], W element (p, j) at w[p*ldw+j], bias nil for zero:
//
//	for i := 0; i < M; i++ {
//		for j := 0; j < N; j++ {
//			acc := bias[j]
//			for p := 0; p < K; p++ {
//				acc += (int32(a[i*lda+p]) - int32(za)) * int32(w[p*ldw+j])
//			}
//			c[i*ldc+j] = out.Requantize(acc, scale[j])
//		}
//	}
//
// The int32 arithmetic wraps (Go's), as it does in every tier.
func QGemmRef(M, N, K int, a []int8, lda int, za int8, w []int8, ldw int, bias []int32, scale []float32, out QOut, c []int8, ldc int) {
	for i := 0; i < M; i++ {
		for j := 0; j < N; j++ {
			var acc int32
			if bias != nil {
				acc = bias[j]
			}
			for p := 0; p < K; p++ {
				acc += (int32(a[i*lda+p]) - int32(za)) * int32(w[p*ldw+j])
			}
			c[i*ldc+j] = out.Requantize(acc, scale[j])
		}
	}
}
