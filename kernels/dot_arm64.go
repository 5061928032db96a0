//go:build !purego

package kernels

func init() {
	registerDot(NEON, "f32-dot-rows-4x4-neon", &dotImpl{dot: asmRows(dotRowsNEON)})
}

// dotRowsNEON computes, for dim ≥ 1 and n ≥ 0,
//
//	for i := 0; i < n; i++ {
//		var s float32
//		for j := 0; j < dim; j++ { s += q[j] * rows[i*dim+j] }
//		out[i] = s
//	}
//
// in 4×4 lanes, then 4 lanes, then a scalar tail.
//
//go:noescape
func dotRowsNEON(q, rows *float32, dim, n int, out *float32)
