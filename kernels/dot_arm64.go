//go:build !purego

package kernels

func init() {
	registerDot(&dotImpl{tier: NEON, dot: dotRowsNEONGo, dotI8: dotRowsInt8NEONGo, l2: l2RowsNEONGo}, true)
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

// l2RowsNEON computes, for dim ≥ 1 and n ≥ 0,
//
//	for i := 0; i < n; i++ {
//		var s float32
//		for j := 0; j < dim; j++ { d := q[j] - rows[i*dim+j]; s += d * d }
//		out[i] = s
//	}
//
// with the same lanes and tail as dotRowsNEON.
//
//go:noescape
func l2RowsNEON(q, rows *float32, dim, n int, out *float32)

// dotRowsInt8NEON computes
//
//	for i := 0; i < n; i++ {
//		var s int32
//		for j := 0; j < dim; j++ { s += int32(q[j]) * int32(rows[i*dim+j]) }
//		out[i] = s
//	}
//
// with smull/smull2 (exact int16 products) and sadalp (pairwise widening
// into int32), 16 bytes a step, then a scalar tail. It does not need the
// optional dotprod (sdot) extension.
//
//go:noescape
func dotRowsInt8NEON(q, rows *int8, dim, n int, out *int32)

func dotRowsNEONGo(q, rows []float32, dim, n int, out []float32) {
	dotRowsNEON(&q[0], &rows[0], dim, n, &out[0])
}

func l2RowsNEONGo(q, rows []float32, dim, n int, out []float32) {
	l2RowsNEON(&q[0], &rows[0], dim, n, &out[0])
}

func dotRowsInt8NEONGo(q, rows []int8, dim, n int, out []int32) {
	dotRowsInt8NEON(&q[0], &rows[0], dim, n, &out[0])
}
