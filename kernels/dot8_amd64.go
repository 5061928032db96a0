//go:build !purego

package kernels

func init() {
	registerDot8(AVX2, "s8-dot-rows-4x16-avx2", &dot8Impl{dot: asmRows(dot8RowsAVX2)})
	registerDot8(AVX512, "s8-dot-rows-4x32-avx512", &dot8Impl{dot: asmRows(dot8RowsAVX512)})
}

// dot8RowsAVX512 computes, for dim ≥ 1 and n ≥ 0,
//
//	for i := 0; i < n; i++ {
//		var s int32
//		for j := 0; j < dim; j++ { s += int32(q[j]) * int32(rows[i*dim+j]) }
//		out[i] = s
//	}
//
// 32 int8 at a time widened to int16 and summed in pairs (vpmaddwd), four
// rows at a time while four are left; the dim%32 tail under a byte mask,
// nothing read past the end.
//
//go:noescape
func dot8RowsAVX512(q, rows *int8, dim, n int, out *int32)

// dot8RowsAVX2 is dot8RowsAVX512 16 int8 at a time, with a scalar tail.
//
//go:noescape
func dot8RowsAVX2(q, rows *int8, dim, n int, out *int32)
