package kernels

// Softmax computes y = e^(x-m) / Σ e^(x-m) over each of inner interleaved
// vectors of n elements (vector j is x[j], x[j+inner], …, x[j+(n-1)·inner])
// with m the vector's maximum, on e's tier, writing the same positions of y
// (y may be x). With inner > 1 it needs 3·inner floats of scratch (nil is
// allowed when inner == 1).
//
// The maximum is subtracted first, so no exponential overflows. x-m is
// rounded to float32 and its exponential taken by the tier's vector exp
// (expf on the Go tier; see expf for each tier's accuracy); the rounding
// error of the subtraction, which alone would cost up to |x-m|·2⁻²⁴ of
// relative error (30 ulps at |x-m| = 40), is recovered exactly (TwoSum) and
// applied as e^(x-m) ≈ e^fl(x-m)·(1+err). The sum runs in float64 (four
// interleaved partial sums combined in a fixed order, rounded once) when
// inner == 1, and as a compensated (Kahan) float32 sum in order of k when
// inner > 1; each element is then divided by it. Measured against a float64
// loop (TestSoftmaxAccuracy: 2000 vectors of 1 to 1000 elements, |x| up to
// 20): at most 2.9 ulps of the float64 answer on the Go tier and 2.8 on
// AVX2, for either inner. The result does not depend on how vectors are
// split between threads. A NaN in a vector makes it all NaN, as does +Inf
// (e^(Inf-Inf)); -Inf elements give 0 unless every element is -Inf (then
// NaN), as numpy.
func (e Elem) Softmax(x, y []float32, n, inner int, scratch []float32) {
	if n < 1 || inner < 1 {
		return
	}
	x, y = x[:n*inner], y[:n*inner]
	if inner == 1 {
		m := x[0]
		for _, v := range x[1:] {
			if v > m || v != v {
				m = v
				if v != v {
					break
				}
			}
		}
		for k, v := range x {
			y[k] = v - m
		}
		expSlice(e, y, y)
		if m-m == 0 { // finite m: undo the rounding of x-m
			for k, v := range x {
				if d := subErr(v, m); d == d {
					y[k] *= 1 + d
				}
			}
		}
		s := float32(sum64(y))
		for k := range y {
			y[k] /= s
		}
		return
	}
	m, s, c := scratch[:inner], scratch[inner:2*inner], scratch[2*inner:3*inner]
	copy(m, x[:inner])
	for k := 1; k < n; k++ {
		row := x[k*inner : (k+1)*inner]
		for j, v := range row {
			if v > m[j] || v != v {
				m[j] = v
			}
		}
	}
	clear(s)
	clear(c)
	for k := 0; k < n; k++ {
		row, out := x[k*inner:(k+1)*inner], y[k*inner:(k+1)*inner]
		for j, v := range row {
			out[j] = v - m[j]
		}
		expSlice(e, out, out)
		for j, v := range row {
			if d := subErr(v, m[j]); d == d {
				out[j] *= 1 + d
			}
		}
		// Kahan's compensated sum across the vectors' elements.
		for j, v := range out {
			u := v - c[j]
			t := s[j] + u
			c[j] = (t - s[j]) - u
			s[j] = t
		}
	}
	for k := 0; k < n; k++ {
		out := y[k*inner : (k+1)*inner]
		for j := range out {
			out[j] /= s[j]
		}
	}
}

// subErr is the rounding error of the float32 difference v-m: exactly
// (v-m) - float32(v-m) (Knuth's TwoSum, no FMA involved), so that
// e^(v-m) = e^float32(v-m)·(1+subErr) to first order. For non-finite
// operands it is NaN or ±Inf; callers apply it only when m is finite (and
// an infinite or NaN v makes the result non-finite either way).
func subErr(v, m float32) float32 {
	s := v - m
	z := s - v
	return (v - (s - z)) + (-m - z)
}
