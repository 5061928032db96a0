package kernels

import (
	"math"
	"slices"
	"testing"
)

// TestPackConvB checks PackConvB against PackB of the transposed weight
// matrix built with plain loops, over shapes around the panel width (kg
// below, at and above NR) for every width a microkernel uses.
func TestPackConvB(t *testing.T) {
	for _, nr := range []int{4, 8, 16, 32} {
		for _, taps := range []int{1, 4, 9} {
			for _, cg := range []int{1, 3, 8} {
				for _, kg := range []int{1, nr - 1, nr, nr + 1, 2*nr + 3} {
					if kg < 1 {
						continue
					}
					K := taps * cg
					w := make([]float32, kg*K)
					for i := range w {
						w[i] = float32(i) + 0.5
					}
					wk := make([]float32, K*kg) // [t*cg+c][o]
					for o := 0; o < kg; o++ {
						for c := 0; c < cg; c++ {
							for tp := 0; tp < taps; tp++ {
								wk[(tp*cg+c)*kg+o] = w[(o*cg+c)*taps+tp]
							}
						}
					}
					want := PackB(nr, K, kg, wk, kg, false)
					// Extra weights after the group must not be read.
					w = append(w, float32(math.NaN()))
					got := PackConvB(nr, taps, cg, kg, w[:kg*K])
					if got.K != want.K || got.N != want.N || got.NR != want.NR || !slices.Equal(got.Data, want.Data) {
						t.Fatalf("nr %d taps %d cg %d kg %d: packed weights differ", nr, taps, cg, kg)
					}
				}
			}
		}
	}
}
