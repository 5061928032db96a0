package kernels

// DotRows computes one query against n rows of a row-major matrix:
//
//	for i := 0; i < n; i++ {
//		var s float32
//		for j := 0; j < dim; j++ { s += q[j] * rows[i*dim+j] }
//		out[i] = s
//	}
//
// len(q) ≥ dim, len(rows) ≥ n*dim, len(out) ≥ n.
func DotRows(q, rows []float32, dim, n int, out []float32) {
	dotRowsGeneric(q, rows, dim, n, out)
}

func dotRowsGeneric(q, rows []float32, dim, n int, out []float32) {
	q = q[:dim]
	for i := 0; i < n; i++ {
		r := rows[i*dim : i*dim+dim]
		var s float32
		for j, v := range q {
			s += v * r[j]
		}
		out[i] = s
	}
}

// DotRowsInt8 is DotRows over int8 vectors with exact int32 sums.
func DotRowsInt8(q, rows []int8, dim, n int, out []int32) {
	dotRowsInt8Generic(q, rows, dim, n, out)
}

func dotRowsInt8Generic(q, rows []int8, dim, n int, out []int32) {
	q = q[:dim]
	for i := 0; i < n; i++ {
		r := rows[i*dim : i*dim+dim]
		var s int32
		for j, v := range q {
			s += int32(v) * int32(r[j])
		}
		out[i] = s
	}
}

// L2Rows computes squared Euclidean distances of a query to n rows:
// out[i] = Σ_j (q[j]-rows[i*dim+j])².
func L2Rows(q, rows []float32, dim, n int, out []float32) {
	l2RowsGeneric(q, rows, dim, n, out)
}

func l2RowsGeneric(q, rows []float32, dim, n int, out []float32) {
	q = q[:dim]
	for i := 0; i < n; i++ {
		r := rows[i*dim : i*dim+dim]
		var s float32
		for j, v := range q {
			d := v - r[j]
			s += d * d
		}
		out[i] = s
	}
}
