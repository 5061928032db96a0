package kernels

import "testing"

// TestActPageGuards places inputs and outputs flush against an inaccessible
// page on either side, so a kernel reading or writing one element past its
// slice (a tail mask or loop bound off by one) crashes the test.
func TestActPageGuards(t *testing.T) {
	for _, tier := range Available() {
		restore := SetElemTier(tier)
		for _, n := range []int{1, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 65, 100} {
			for _, atEnd := range []bool{true, false} {
				x := newGuardedMem(t, n*4).f32(n, atEnd)
				z := newGuardedMem(t, n*4).f32(n, atEnd)
				y := newGuardedMem(t, n*4).f32(n, atEnd)
				for i := range x {
					x[i] = float32(i%11) - 5
					z[i] = 0.25
				}
				for _, a := range actKinds {
					a.ApplySlice(y, x)
				}
				AddSlice(y, x, z)
				MulSlice(y, x, z)
				want := make([]float32, n)
				mulGeneric(want, x, z)
				for i := range want {
					if y[i] != want[i] {
						t.Fatalf("%v n=%d: mul [%d] = %v, want %v", tier, n, i, y[i], want[i])
					}
				}
			}
		}
		restore()
	}
}
