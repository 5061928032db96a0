package kernels

import (
	"fmt"
	"testing"

	"github.com/signet-go/signet/internal/testrand"
)

// qconvCases are convolutions around the packer's paths: whole kernel
// rows in and out of the borders, taps one by one (groups, W dilation),
// pointwise, strides, asymmetric padding, an RGB stem.
var qconvCases = []ConvParams{
	{N: 1, C: 3, H: 9, W: 11, K: 8, KH: 7, KW: 7, StrideH: 2, StrideW: 2, PadT: 3, PadL: 3, PadB: 3, PadR: 3},
	{N: 2, C: 8, H: 6, W: 7, K: 20, KH: 3, KW: 3, StrideH: 1, StrideW: 1, PadT: 1, PadL: 1, PadB: 1, PadR: 1},
	{N: 1, C: 16, H: 5, W: 5, K: 33, KH: 3, KW: 3, StrideH: 2, StrideW: 2, PadT: 0, PadL: 1, PadB: 2, PadR: 0},
	{N: 1, C: 12, H: 7, W: 6, K: 18, KH: 3, KW: 3, StrideH: 1, StrideW: 1, PadT: 2, PadL: 2, PadB: 2, PadR: 2, DilH: 2, DilW: 2},
	{N: 1, C: 12, H: 6, W: 6, K: 12, KH: 3, KW: 3, StrideH: 1, StrideW: 1, PadT: 1, PadL: 1, PadB: 1, PadR: 1, Group: 3},
	{N: 2, C: 24, H: 5, W: 4, K: 40, KH: 1, KW: 1, StrideH: 1, StrideW: 1},
	{N: 1, C: 10, H: 5, W: 4, K: 7, KH: 1, KW: 1, StrideH: 2, StrideW: 2, Group: 1},
	{N: 1, C: 5, H: 3, W: 3, K: 9, KH: 5, KW: 5, StrideH: 1, StrideW: 1, PadT: 2, PadL: 2, PadB: 2, PadR: 2},
}

// TestQConv: every microkernel's convolution against QConvRef, bit for
// bit, tasks run in scattered order with splits, nothing written outside
// the output.
func TestQConv(t *testing.T) {
	for _, kern := range qgemmTestKernels() {
		t.Run(kern.Name, func(t *testing.T) {
			r := testrand.New(20 << 8)
			for ci, p := range qconvCases {
				if p.DilH == 0 {
					p.DilH, p.DilW = 1, 1
				}
				if p.Group == 0 {
					p.Group = 1
				}
				if !p.Resolve() {
					t.Fatalf("case %d does not resolve", ci)
				}
				in := int8s(r, p.N*p.H*p.W*p.C)
				w := int8s(r, p.K*p.C/p.Group*p.KH*p.KW)
				bias := make([]int32, p.K)
				scale := make([]float32, p.K)
				for o := range bias {
					bias[o] = int32(r.IntN(40000)) - 20000
					scale[o] = float32(1e-3 * (1 + r.Float64()))
				}
				za := int8(r.Uint32())
				out := QOut{ZeroPoint: int8(r.Uint32()), Lo: -128, Hi: 127}
				if ci%2 == 1 {
					out.Lo = out.ZeroPoint // ReLU
				}
				want := make([]int8, p.N*p.OH*p.OW*p.K)
				QConvRef(&p, in, za, w, bias, scale, out, want)
				cv := NewQConv(p, kern, w, bias, za, scale, out)
				for _, split := range []int{1, 2} {
					cv.SetSplit(split)
					got, whole := guardedQ(len(want))
					scratch := make([]byte, cv.ScratchLen())
					n := cv.Tasks()
					for s := 0; s < n; s++ { // a stride coprime with most task counts
						task := (s * 7) % n
						if gcd(7, n) != 1 {
							task = s
						}
						cv.RunTasks(task, task+1, in, got, scratch)
					}
					checkGuardsQ(t, whole, len(want))
					for i := range want {
						if got[i] != want[i] {
							t.Fatalf("%s %s split=%d: out[%d] = %d, twin %d", kern.Name, convName(&p), split, i, got[i], want[i])
						}
					}
				}
			}
		})
	}
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

func convName(p *ConvParams) string {
	return fmt.Sprintf("N%d C%d %dx%d K%d %dx%d s%d,%d d%d,%d pad %d,%d,%d,%d g%d",
		p.N, p.C, p.H, p.W, p.K, p.KH, p.KW, p.StrideH, p.StrideW, p.DilH, p.DilW, p.PadT, p.PadL, p.PadB, p.PadR, p.Group)
}
