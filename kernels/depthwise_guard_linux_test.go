package kernels

import (
	"math/rand"
	"testing"
)

// TestDepthwisePageGuards places input and output flush against an
// inaccessible page on either side, so a kernel touching one float outside
// them (a masked tail read, a rewind gone wrong) crashes the test. Channel
// counts above 4 vectors take the pixel kernels' four-block path.
func TestDepthwisePageGuards(t *testing.T) {
	r := rand.New(rand.NewSource(14))
	for _, tier := range dwTestTiers() {
		for _, c := range []int{1, 3, 4, 7, 8, 15, 16, 17, 33, 40, 65, 72, 81} {
			for _, k := range []int{3, 5} {
				for _, s := range []int{1, 2} {
					for _, atEnd := range []bool{true, false} {
						p := ConvParams{N: 1, C: c, H: 6, W: 7, K: c, KH: k, KW: k, StrideH: s, StrideW: s, DilH: 1, DilW: 1,
							PadT: k / 2, PadL: k / 2, PadB: k / 2, PadR: k / 2, Group: c}
						p.Resolve()
						in := newGuardedMem(t, p.H*p.W*c*4).f32(p.H*p.W*c, atEnd)
						out := newGuardedMem(t, p.OH*p.OW*c*4).f32(p.OH*p.OW*c, atEnd)
						copy(in, randSlice(r, len(in)))
						d := NewDepthwiseTier(p, randSlice(r, c*k*k), randSlice(r, c), Act{Kind: ActClamp, A: 0, B: 6}, tier)
						for task := 0; task < d.Tasks(); task++ {
							d.RunTask(task, in, out)
						}
						want := make([]float32, len(out))
						mag := make([]float64, len(out))
						dwRefNHWC(&p, in, dwWeightsOIHW(d), d.Bias, d.Act, want, mag)
						for i := range want {
							if diff := out[i] - want[i]; float64(max(diff, -diff)) > dwTol(mag[i]) {
								t.Fatalf("%s c=%d k=%d s=%d: out[%d]=%v want %v", d.Kernel(), c, k, s, i, out[i], want[i])
							}
						}
					}
				}
			}
		}
	}
}

// dwWeightsOIHW recovers OIHW weights from the tap-major copy.
func dwWeightsOIHW(d *Depthwise) []float32 {
	taps := d.P.KH * d.P.KW
	w := make([]float32, taps*d.P.C)
	for c := 0; c < d.P.C; c++ {
		for t := 0; t < taps; t++ {
			w[c*taps+t] = d.W[t*d.P.C+c]
		}
	}
	return w
}
