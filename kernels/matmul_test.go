package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

func loopFloats(r *rand.Rand, n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = r.Float32()*2 - 1
	}
	return x
}

// loopGuarded returns a slice of n elements between guard bands of NaN-free
// sentinels, and a check that the bands are intact.
func loopGuarded(n int) ([]float32, func(t *testing.T)) {
	const g = 16
	const sentinel = -12345.5
	buf := make([]float32, n+2*g)
	for i := range buf {
		buf[i] = sentinel
	}
	return buf[g : g+n : g+n], func(t *testing.T) {
		t.Helper()
		for i := 0; i < g; i++ {
			if buf[i] != sentinel || buf[g+n+i] != sentinel {
				t.Fatalf("wrote outside the output (guard band %d)", i)
			}
		}
	}
}

// loopClose reports |got-want| ≤ 1e-5·(1+|want|) (float32 sums against a
// float64 oracle).
func loopClose(got float32, want float64) bool {
	return math.Abs(float64(got)-want) <= 1e-5*(1+math.Abs(want))
}

func TestStridedGemmRow(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, sz := range [][3]int{{1, 1, 1}, {3, 5, 7}, {4, 1, 9}, {2, 17, 3}} {
		M, K, N := sz[0], sz[1], sz[2]
		for _, transA := range []bool{false, true} {
			for _, transB := range []bool{false, true} {
				for _, cForm := range []string{"none", "full", "row", "col", "scalar"} {
					g := StridedGemm{M: M, K: K, N: N, Alpha: 0.75, Beta: -1.5, Act: Act{Kind: ActClamp, A: -0.5, B: 0.5},
						AS0: K, AS1: 1, BS0: N, BS1: 1}
					if transA {
						g.AS0, g.AS1 = 1, M
					}
					if transB {
						g.BS0, g.BS1 = 1, K
					}
					a, b := loopFloats(r, M*K), loopFloats(r, K*N)
					var c []float32
					switch cForm {
					case "full":
						c, g.CS0, g.CS1 = loopFloats(r, M*N), N, 1
					case "row":
						c, g.CS1 = loopFloats(r, N), 1
					case "col":
						c, g.CS0 = loopFloats(r, M), 1
					case "scalar":
						c = loopFloats(r, 1)
					}
					y, check := loopGuarded(M * N)
					for m := 0; m < M; m++ {
						g.Row(m, a, b, c, y)
					}
					check(t)
					for m := 0; m < M; m++ {
						for n := 0; n < N; n++ {
							var acc float64
							for k := 0; k < K; k++ {
								acc += float64(a[m*g.AS0+k*g.AS1]) * float64(b[k*g.BS0+n*g.BS1])
							}
							acc *= float64(g.Alpha)
							if c != nil {
								acc += float64(g.Beta) * float64(c[m*g.CS0+n*g.CS1])
							}
							want := math.Min(math.Max(acc, -0.5), 0.5)
							if !loopClose(y[m*N+n], want) {
								t.Fatalf("%v transA %v transB %v C %s: y[%d,%d] = %v, want %v", sz, transA, transB, cForm, m, n, y[m*N+n], want)
							}
						}
					}
				}
			}
		}
	}
}

func TestMatMul(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, sz := range [][3]int{{1, 1, 1}, {3, 5, 7}, {8, 16, 1}, {1, 33, 4}} {
		M, K, N := sz[0], sz[1], sz[2]
		a, b := loopFloats(r, M*K), loopFloats(r, K*N)
		y, check := loopGuarded(M * N)
		MatMul(a, b, y, M, K, N, Act{})
		check(t)
		for m := 0; m < M; m++ {
			for n := 0; n < N; n++ {
				var want float64
				for k := 0; k < K; k++ {
					want += float64(a[m*K+k]) * float64(b[k*N+n])
				}
				if !loopClose(y[m*N+n], want) {
					t.Fatalf("%v: y[%d,%d] = %v, want %v", sz, m, n, y[m*N+n], want)
				}
			}
		}
	}
}
