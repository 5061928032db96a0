package kernels

import (
	"fmt"
	"math"
	"testing"

	"github.com/signet-go/signet/internal/testrand"
)

// winoCases cover partial tiles on every side (sizes 1..4 past a multiple of
// the 4-pixel tile), padding 0, 1 and asymmetric, batches, and channel
// counts around the 8- and 16-lane vector widths and the microkernels' NR.
var winoCases = []ConvParams{
	{N: 1, C: 3, H: 7, W: 9, K: 5, PadT: 1, PadL: 1, PadB: 1, PadR: 1},
	{N: 2, C: 8, H: 8, W: 8, K: 16, PadT: 1, PadL: 1, PadB: 1, PadR: 1},
	{N: 1, C: 9, H: 6, W: 5, K: 17, PadT: 0, PadL: 0, PadB: 0, PadR: 0},
	{N: 1, C: 16, H: 3, W: 3, K: 8, PadT: 1, PadL: 1, PadB: 1, PadR: 1},
	{N: 1, C: 17, H: 13, W: 10, K: 33, PadT: 2, PadL: 0, PadB: 1, PadR: 2},
	{N: 3, C: 1, H: 5, W: 6, K: 1, PadT: 1, PadL: 1, PadB: 1, PadR: 1},
	{N: 1, C: 40, H: 11, W: 12, K: 24, PadT: 1, PadL: 1, PadB: 1, PadR: 1},
	{N: 1, C: 64, H: 16, W: 16, K: 64, PadT: 1, PadL: 1, PadB: 1, PadR: 1},
	{N: 1, C: 7, H: 1, W: 1, K: 3, PadT: 1, PadL: 1, PadB: 1, PadR: 1},
}

// winoBound is the stated error of Winograd F(4×4, 3×3) against the direct
// sum, relative to the output's largest magnitude: the transforms scale
// values by up to 8, so it is looser than the direct convolution's 1e-5.
const winoBound = 5e-5

func resolveWino(t *testing.T, p ConvParams) ConvParams {
	t.Helper()
	p.KH, p.KW, p.StrideH, p.StrideW, p.DilH, p.DilW, p.Group = 3, 3, 1, 1, 1, 1, 1
	if !p.Resolve() || !WinogradApplies(p) {
		t.Fatalf("case %+v does not resolve", p)
	}
	return p
}

func runWino(wg *Winograd, in, out []float32) {
	scratch := make([]float32, wg.ScratchLen())
	for task := 0; task < wg.Tasks(); task++ {
		wg.RunTasks(task, task+1, in, out, scratch)
	}
}

func TestWinogradAgainstRef(t *testing.T) {
	forEachTier(t, func(t *testing.T, tier Tier) {
		r := testrand.New(0x3143<<8 | uint64(tier))
		mk := Gemm(tier)
		for ci, p := range winoCases {
			p = resolveWino(t, p)
			x := r.Floats(p.N * p.C * p.H * p.W)
			w := r.Floats(p.K * p.C * 9)
			bias := r.Floats(p.K)
			want := make([]float32, p.N*p.K*p.OH*p.OW)
			Conv2DRef(&p, x, w, bias, want)
			in := nchwToNHWC(x, p.N, p.C, p.H, p.W)
			for _, act := range []Act{{}, {Kind: ActLeakyRelu, A: 0.1}, {Kind: ActClamp, A: 0, B: 6}} {
				var first []float32
				for _, b := range [][2]int{{0, 1}, {1, 1}, {7, 1}, {1000, 1}, {1, 2}, {7, 3}, {1000, 100}} {
					wg := NewWinograd(p, mk, w, bias, act, 1)
					if b[0] > 0 {
						wg.setBlocking(b[0], b[1])
					}
					out, whole := guarded(len(want))
					runWino(wg, in, out)
					checkGuards(t, whole, len(want))
					wa := make([]float32, len(want))
					act.ApplySlice(wa, want)
					tiles, split := wg.Blocking()
					name := fmt.Sprintf("%s case %d act %d tiles %d split %d", wg.Kernel(), ci, act.Kind, tiles, split)
					compareMaxRel(t, name, nhwcToNCHW(out, p.N, p.K, p.OH, p.OW), wa, winoBound)
					// How tiles and channels are cut into tasks never changes a bit.
					if first == nil {
						first = out
					} else if i := firstBitDiff(out, first); i >= 0 {
						t.Fatalf("%s: [%d]=%v, %v with another tile block", name, i, out[i], first[i])
					}
				}
			}
		}
	})
}

// compareMaxRel fails when any |got-want| exceeds bound·max|want| (or
// bound, for an all-zero want), or got is NaN where want is not.
func compareMaxRel(t *testing.T, name string, got, want []float32, bound float64) {
	t.Helper()
	var maxRef, maxDiff float64
	for _, v := range want {
		maxRef = max(maxRef, math.Abs(float64(v)))
	}
	for i := range want {
		d := math.Abs(float64(got[i] - want[i]))
		if math.IsNaN(d) {
			t.Fatalf("%s: [%d]=%v want %v", name, i, got[i], want[i])
		}
		maxDiff = max(maxDiff, d)
	}
	if maxDiff > bound*max(maxRef, 1) {
		t.Fatalf("%s: max|diff| %.3g > %.0e·max|ref| (%.3g)", name, maxDiff, bound, maxRef)
	}
}

func firstBitDiff(a, b []float32) int {
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return i
		}
	}
	return -1
}

// TestWinogradTransformTiers holds every tier's transforms to the Go
// twins bit for bit, on every channel count up to past two 16-lane vectors
// (the vector loops and their tails), with guard bands around the outputs.
func TestWinogradTransformTiers(t *testing.T) {
	base := winoFamily.Lookup(uint8(Generic)).Kernels
	forEachTier(t, func(t *testing.T, tier Tier) {
		im := winoFamily.Lookup(uint8(tier))
		if Tier(im.Tier) != tier {
			t.Skipf("tier %v has no Winograd transforms of its own (falls back to %s)", tier, im.Name)
		}
		tr := im.Kernels
		r := testrand.New(0x3144<<8 | uint64(tier))
		for c := 1; c <= 40; c++ {
			// Input: a 6×6 block inside a wider image row, with a
			// destination stride larger than c.
			rowStride := 9 * c
			src := r.Floats(winoAlpha * rowStride)
			dstStride := c + 3
			n := winoXi * dstStride
			got, gw := guarded(n)
			want, _ := guarded(n)
			tr.in(got, dstStride, src, rowStride, c)
			base.in(want, dstStride, src, rowStride, c)
			checkGuards(t, gw, n)
			if i := firstBitDiff(got, want); i >= 0 {
				t.Fatalf("%s input c=%d: [%d]=%v want %v", im.Name, c, i, got[i], want[i])
			}

			m := r.Floats(winoXi * dstStride)
			bias := r.Floats(c)
			ors, ocs := 7*c+1, c+2
			on := 3*ors + 3*ocs + c
			for _, lh := range [][2]float32{{float32(math.Inf(-1)), float32(math.Inf(1))}, {0, float32(math.Inf(1))}, {-0.5, 0.25}} {
				got, gw := guarded(on)
				want, _ := guarded(on)
				tr.out(got, ors, ocs, m, dstStride, c, bias, lh[0], lh[1])
				base.out(want, ors, ocs, m, dstStride, c, bias, lh[0], lh[1])
				checkGuards(t, gw, on)
				for i := range want {
					// ±0 from the clamp compare equal; everything else bit for bit.
					if math.Float32bits(got[i]) != math.Float32bits(want[i]) && !(got[i] == 0 && want[i] == 0) {
						t.Fatalf("%s output c=%d clamp %v: [%d]=%v want %v", im.Name, c, lh, i, got[i], want[i])
					}
				}
			}
		}
	})
}

func BenchmarkWinogradVsDirect(b *testing.B) {
	for _, p := range []ConvParams{
		{N: 1, C: 64, H: 56, W: 56, K: 64, PadT: 1, PadL: 1, PadB: 1, PadR: 1},
		{N: 1, C: 128, H: 28, W: 28, K: 128, PadT: 1, PadL: 1, PadB: 1, PadR: 1},
		{N: 1, C: 256, H: 14, W: 14, K: 256, PadT: 1, PadL: 1, PadB: 1, PadR: 1},
		{N: 1, C: 512, H: 7, W: 7, K: 512, PadT: 1, PadL: 1, PadB: 1, PadR: 1},
		{N: 1, C: 24, H: 32, W: 32, K: 32, PadT: 1, PadL: 1, PadB: 1, PadR: 1},
		{N: 1, C: 64, H: 16, W: 16, K: 64, PadT: 1, PadL: 1, PadB: 1, PadR: 1},
		{N: 1, C: 128, H: 8, W: 8, K: 128, PadT: 1, PadL: 1, PadB: 1, PadR: 1},
		{N: 1, C: 128, H: 7, W: 7, K: 128, PadT: 1, PadL: 1, PadB: 1, PadR: 1},
		{N: 1, C: 256, H: 7, W: 7, K: 256, PadT: 1, PadL: 1, PadB: 1, PadR: 1},
		{N: 1, C: 256, H: 8, W: 8, K: 256, PadT: 1, PadL: 1, PadB: 1, PadR: 1},
		{N: 1, C: 512, H: 14, W: 14, K: 512, PadT: 1, PadL: 1, PadB: 1, PadR: 1},
		{N: 1, C: 64, H: 4, W: 4, K: 64, PadT: 1, PadL: 1, PadB: 1, PadR: 1},
		{N: 1, C: 16, H: 55, W: 55, K: 64, PadT: 1, PadL: 1, PadB: 1, PadR: 1},
		{N: 1, C: 64, H: 13, W: 13, K: 256, PadT: 1, PadL: 1, PadB: 1, PadR: 1},
	} {
		p.KH, p.KW, p.StrideH, p.StrideW, p.DilH, p.DilW, p.Group = 3, 3, 1, 1, 1, 1, 1
		p.Resolve()
		r := testrand.New(1)
		w := r.Floats(p.K * p.C * 9)
		in := r.Floats(p.N * p.C * p.H * p.W)
		out := make([]float32, p.N*p.K*p.OH*p.OW)
		mk := Gemm(Best())
		name := fmt.Sprintf("c%d_k%d_%dx%d", p.C, p.K, p.H, p.W)
		b.Run(name+"/direct", func(b *testing.B) {
			cv := NewConvGemm(p, mk, w, nil, Act{Kind: ActClamp, B: float32(math.Inf(1))})
			scratch := make([]float32, cv.ScratchLen())
			b.SetBytes(0)
			for b.Loop() {
				cv.RunTasks(0, cv.Tasks(), in, out, scratch)
			}
		})
		b.Run(name+"/winograd", func(b *testing.B) {
			wg := NewWinograd(p, mk, w, nil, Act{Kind: ActClamp, B: float32(math.Inf(1))}, 1)
			scratch := make([]float32, wg.ScratchLen())
			for b.Loop() {
				wg.RunTasks(0, wg.Tasks(), in, out, scratch)
			}
		})
	}
}

func BenchmarkWinogradSplit(b *testing.B) {
	p := ConvParams{N: 1, C: 128, H: 8, W: 8, K: 128, PadT: 1, PadL: 1, PadB: 1, PadR: 1, KH: 3, KW: 3, StrideH: 1, StrideW: 1, DilH: 1, DilW: 1, Group: 1}
	p.Resolve()
	r := testrand.New(1)
	w := r.Floats(p.K * p.C * 9)
	in := r.Floats(p.N * p.C * p.H * p.W)
	out := make([]float32, p.N*p.K*p.OH*p.OW)
	for _, split := range []int{1, 2, 4, 8} {
		b.Run(fmt.Sprint(split), func(b *testing.B) {
			wg := NewWinograd(p, Gemm(Best()), w, nil, Act{}, 1)
			wg.setBlocking(6, split)
			scratch := make([]float32, wg.ScratchLen())
			for b.Loop() {
				wg.RunTasks(0, wg.Tasks(), in, out, scratch)
			}
		})
	}
}
