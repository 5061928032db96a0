//go:build !purego

package kernels

func init() {
	registerDot(&dotImpl{tier: AVX2, dot: dotRowsAVX2Go, dotI8: dotRowsInt8AVX2Go, l2: l2RowsAVX2Go}, hasAVX2)
	i8 := dotRowsInt8AVX2Go
	if hasVNNI {
		i8 = dotRowsInt8VNNIGo
	}
	registerDot(&dotImpl{tier: AVX512, dot: dotRowsAVX512Go, dotI8: i8, l2: l2RowsAVX512Go}, hasAVX512)
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

// l2RowsAVX512 computes, for dim ≥ 1 and n ≥ 0,
//
//	for i := 0; i < n; i++ {
//		var s float32
//		for j := 0; j < dim; j++ { d := q[j] - rows[i*dim+j]; s += d * d }
//		out[i] = s
//	}
//
// with the same lanes and masked tail as dotRowsAVX512.
//
//go:noescape
func l2RowsAVX512(q, rows *float32, dim, n int, out *float32)

// dotRowsInt8VNNI computes, with corr = 128·Σ_j q[j] (mod 2³²),
//
//	for i := 0; i < n; i++ {
//		var s int32
//		for j := 0; j < dim; j++ { s += int32(uint8(rows[i*dim+j]^-128)) * int32(q[j]) }
//		out[i] = s - corr // = Σ_j int32(q[j])*int32(rows[i*dim+j])
//	}
//
// with vpdpbusd (u8×s8): flipping the sign bit of each row byte adds 128,
// and the query-only correction removes it again exactly.
//
//go:noescape
func dotRowsInt8VNNI(q, rows *int8, dim, n int, out *int32, corr int32)

// dotRowsAVX2 is dotRowsAVX512 in 4×8 lanes with a scalar tail.
//
//go:noescape
func dotRowsAVX2(q, rows *float32, dim, n int, out *float32)

// l2RowsAVX2 is l2RowsAVX512 in 4×8 lanes with a scalar tail.
//
//go:noescape
func l2RowsAVX2(q, rows *float32, dim, n int, out *float32)

// dotRowsInt8AVX2 computes
//
//	for i := 0; i < n; i++ {
//		var s int32
//		for j := 0; j < dim; j++ { s += int32(q[j]) * int32(rows[i*dim+j]) }
//		out[i] = s
//	}
//
// sign-extending to int16 and summing pairs with vpmaddwd (exact).
//
//go:noescape
func dotRowsInt8AVX2(q, rows *int8, dim, n int, out *int32)

func dotRowsAVX512Go(q, rows []float32, dim, n int, out []float32) {
	dotRowsAVX512(&q[0], &rows[0], dim, n, &out[0])
}

func l2RowsAVX512Go(q, rows []float32, dim, n int, out []float32) {
	l2RowsAVX512(&q[0], &rows[0], dim, n, &out[0])
}

func dotRowsInt8VNNIGo(q, rows []int8, dim, n int, out []int32) {
	var sum int32
	for _, v := range q[:dim] {
		sum += int32(v)
	}
	dotRowsInt8VNNI(&q[0], &rows[0], dim, n, &out[0], sum*128)
}

func dotRowsAVX2Go(q, rows []float32, dim, n int, out []float32) {
	dotRowsAVX2(&q[0], &rows[0], dim, n, &out[0])
}

func l2RowsAVX2Go(q, rows []float32, dim, n int, out []float32) {
	l2RowsAVX2(&q[0], &rows[0], dim, n, &out[0])
}

func dotRowsInt8AVX2Go(q, rows []int8, dim, n int, out []int32) {
	dotRowsInt8AVX2(&q[0], &rows[0], dim, n, &out[0])
}
