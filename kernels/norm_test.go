package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestLpNormalize(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, sz := range [][2]int{{1, 1}, {5, 1}, {4, 3}, {17, 8}} {
		n, stride := sz[0], sz[1]
		for _, p1 := range []bool{false, true} {
			for _, scale := range []float32{1, 1e-25} { // 1e-25: float32 squares underflow
				x := loopFloats(r, n*stride)
				for i := range x {
					x[i] *= scale
				}
				y, check := loopGuarded(n * stride)
				LpNormalize(x, y, n, stride, p1, 1e-30)
				check(t)
				for in := 0; in < stride; in++ {
					var norm float64
					for k := 0; k < n; k++ {
						v := float64(x[in+k*stride])
						if p1 {
							norm += math.Abs(v)
						} else {
							norm += v * v
						}
					}
					if !p1 {
						norm = math.Sqrt(norm)
					}
					norm = math.Max(norm, 1e-30)
					for k := 0; k < n; k++ {
						want := float64(x[in+k*stride]) / norm
						if got := y[in+k*stride]; !loopClose(got, want) {
							t.Fatalf("n %d stride %d p1 %v scale %g: y[%d] = %v, want %v", n, stride, p1, scale, in+k*stride, got, want)
						}
					}
				}
			}
		}
	}
	// In place, and eps bounds the norm of a zero vector.
	x := []float32{0, 0, 0}
	LpNormalize(x, x, 3, 1, false, 0.5)
	for _, v := range x {
		if v != 0 {
			t.Fatalf("zero vector normalised to %v", x)
		}
	}
}
