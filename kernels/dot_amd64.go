//go:build !purego

package kernels

func init() {
	registerDot(AVX2, "f32-dot-rows-4x8-avx2", &dotImpl{dot: asmRows(dotRowsAVX2)})
	registerDot(AVX512, "f32-dot-rows-4x16-avx512", &dotImpl{dot: asmRows(dotRowsAVX512)})
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
