package kernels

import (
	"math/rand/v2"
	"testing"
)

func TestAffineChannels(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for _, C := range []int{1, 3, 16, 33} {
		for _, inner := range []int{1, 2, 49} {
			x := loopFloats(r, C*inner)
			scale, shift := loopFloats(r, C), loopFloats(r, C)
			y, check := loopGuarded(C * inner)
			AffineChannels(x, y, scale, shift, inner)
			check(t)
			for c := 0; c < C; c++ {
				for i := 0; i < inner; i++ {
					want := float64(x[c*inner+i])*float64(scale[c]) + float64(shift[c])
					if got := y[c*inner+i]; !loopClose(got, want) {
						t.Fatalf("C %d inner %d: y[%d] = %v, want %v", C, inner, c*inner+i, got, want)
					}
				}
			}
			AffineChannels(x, x, scale, shift, inner) // in place
			for i := range x {
				if x[i] != y[i] {
					t.Fatalf("C %d inner %d: in place differs at %d", C, inner, i)
				}
			}
		}
	}
}
