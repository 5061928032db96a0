package kernels

import "math"

// LpNormalize divides stride interleaved vectors of n elements by their
// norm: vector i (0 ≤ i < stride) is x[i], x[i+stride], …, x[i+(n-1)·stride],
// written to the same positions of y (y may be x). The norm is the sum of
// absolute values when p1 is set, else the Euclidean norm, and at least eps:
//
//	norm = max(Σ|v| or sqrt(Σv²), eps);  y = x / norm
//
// Sums run in order in float32. When float32 squares underflow to a zero
// norm that is itself representable, the L2 norm is recomputed in float64,
// so tiny vectors normalise instead of dividing by zero.
func LpNormalize(x, y []float32, n, stride int, p1 bool, eps float32) {
	for in := 0; in < stride; in++ {
		var acc float32
		for k := 0; k < n; k++ {
			v := x[in+k*stride]
			if p1 {
				acc += float32(math.Abs(float64(v)))
			} else {
				acc += v * v
			}
		}
		if !p1 {
			acc = float32(math.Sqrt(float64(acc)))
			if acc == 0 {
				var a64 float64
				for k := 0; k < n; k++ {
					v := float64(x[in+k*stride])
					a64 += v * v
				}
				acc = float32(math.Sqrt(a64))
			}
		}
		acc = max(acc, eps)
		for k := 0; k < n; k++ {
			y[in+k*stride] = x[in+k*stride] / acc
		}
	}
}
