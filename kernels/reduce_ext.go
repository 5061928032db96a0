package kernels

// ReduceSum returns the sum of x[base+r.Offset(j)] over the r.Len()
// elements j, in order of j in float32 (as ReduceMean, without the
// division): the error is at most (n-1)·2⁻²⁴·Σ|x| for n = r.Len(), the
// bound of recursive summation; the reference sums in float64.
func ReduceSum(x []float32, base int, r *Strided) float32 {
	n := r.Len()
	var acc float32
	for j := 0; j < n; j++ {
		acc += x[base+r.Offset(j)]
	}
	return acc
}

// ReduceMax returns the largest of x[base+r.Offset(j)] over the r.Len()
// elements j; NaN when any of them is NaN (as numpy.max). Exact.
func ReduceMax(x []float32, base int, r *Strided) float32 {
	n := r.Len()
	acc := x[base+r.Offset(0)]
	for j := 1; j < n && acc == acc; j++ {
		if v := x[base+r.Offset(j)]; v > acc || v != v {
			acc = v
		}
	}
	return acc
}

// ReduceMin returns the smallest of x[base+r.Offset(j)] over the r.Len()
// elements j; NaN when any of them is NaN (as numpy.min). Exact.
func ReduceMin(x []float32, base int, r *Strided) float32 {
	n := r.Len()
	acc := x[base+r.Offset(0)]
	for j := 1; j < n && acc == acc; j++ {
		if v := x[base+r.Offset(j)]; v < acc || v != v {
			acc = v
		}
	}
	return acc
}
