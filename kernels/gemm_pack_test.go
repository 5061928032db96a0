package kernels

import (
	"math"
	"testing"
)

// TestTransposeRows checks the A-panel transpose (assembly groups of four
// rows where there is assembly, Go loops for the rest) against the plain
// loop for every tile height in use and step counts around the groups of
// four, with guard values on both sides of the panel.
func TestTransposeRows(t *testing.T) {
	for _, MR := range []int{4, 6, 8, 12} {
		for mr := 1; mr <= MR; mr++ {
			for seg := 0; seg <= 13; seg++ {
				src := make([][]float32, mr)
				for i := range src {
					src[i] = make([]float32, seg+3) // longer than seg: must not be read past seg
					for q := range src[i] {
						src[i][q] = float32(i*100 + q)
					}
					src[i] = src[i][:seg]
				}
				const guard = 5
				buf := make([]float32, guard+seg*MR+guard)
				for i := range buf {
					buf[i] = guardVal
				}
				transposeRows(buf[guard:guard+seg*MR], append([][]float32(nil), src...), MR, seg)
				for idx, v := range buf {
					off := idx - guard
					want := guardVal
					if off >= 0 && off < seg*MR {
						q, i := off/MR, off%MR
						want = 0
						if i < mr {
							want = float32(i*100 + q)
						}
					}
					if math.Float32bits(v) != math.Float32bits(want) {
						t.Fatalf("MR=%d mr=%d seg=%d: element %d is %v, want %v", MR, mr, seg, off, v, want)
					}
				}
			}
		}
	}
}
