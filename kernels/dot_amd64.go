//go:build !purego

package kernels

func init() {
	registerDot(AVX2, "f32-dot-rows-4x8-avx2", &dotImpl{dot: dotRowsAVX2Go})
	registerDot(AVX512, "f32-dot-rows-4x16-avx512", &dotImpl{dot: dotRowsAVX512Go})
}

// dotRowsAVX512 computes, for dim ≥ 1 and n ≥ 0,
//
//	for i := 0; i < n; i++ {
//		var s float32
//		for j := 0; j < dim; j++ { s += q[j] * rows[i*dim+j] }
//		out[i] = s
//	}
//
// in 4×16 lanes (the dim%16 tail under a mask, nothing read past the end).
//
//go:noescape
func dotRowsAVX512(q, rows *float32, dim, n int, out *float32)

// dotRowsAVX2 is dotRowsAVX512 in 4×8 lanes with a scalar tail.
//
//go:noescape
func dotRowsAVX2(q, rows *float32, dim, n int, out *float32)

func dotRowsAVX512Go(q, rows []float32, dim, n int, out []float32) {
	dotRowsAVX512(&q[0], &rows[0], dim, n, &out[0])
}

func dotRowsAVX2Go(q, rows []float32, dim, n int, out []float32) {
	dotRowsAVX2(&q[0], &rows[0], dim, n, &out[0])
}
