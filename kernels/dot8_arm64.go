//go:build !purego

package kernels

func init() {
	registerDot8(NEON, "s8-dot-rows-16-neon", &dot8Impl{dot: asmRows(dot8RowsNEON)})
}

// dot8RowsNEON computes, for dim ≥ 1 and n ≥ 0,
//
//	for i := 0; i < n; i++ {
//		var s int32
//		for j := 0; j < dim; j++ { s += int32(q[j]) * int32(rows[i*dim+j]) }
//		out[i] = s
//	}
//
// 16 int8 at a time (smull, smull2, sadalp), then a scalar tail.
//
//go:noescape
func dot8RowsNEON(q, rows *int8, dim, n int, out *int32)
