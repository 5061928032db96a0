package kernels

import (
	"fmt"
	"math"
	"testing"
	"unsafe"

	"github.com/signet-go/signet/internal/testrand"
)

// dwRefNHWC is the depthwise reference on NHWC tensors, summed in float64:
// out[n,oh,ow,c] = act(bias[c] + Σ in[n,ih,iw,c]·w[c,kh,kw]) with padding
// reading zero. mag receives Σ|terms| per output, the scale of its rounding.
func dwRefNHWC(p *ConvParams, in, w, bias []float32, act Act, out []float32, mag []float64) {
	C := p.C
	for n := 0; n < p.N; n++ {
		for oh := 0; oh < p.OH; oh++ {
			for ow := 0; ow < p.OW; ow++ {
				for c := 0; c < C; c++ {
					acc := float64(bias[c])
					m := math.Abs(acc)
					for kh := 0; kh < p.KH; kh++ {
						ih := oh*p.StrideH - p.PadT + kh*p.DilH
						for kw := 0; kw < p.KW; kw++ {
							iw := ow*p.StrideW - p.PadL + kw*p.DilW
							if ih < 0 || ih >= p.H || iw < 0 || iw >= p.W {
								continue
							}
							t := float64(in[((n*p.H+ih)*p.W+iw)*C+c]) * float64(w[(c*p.KH+kh)*p.KW+kw])
							acc += t
							m += math.Abs(t)
						}
					}
					i := ((n*p.OH+oh)*p.OW+ow)*C + c
					out[i] = act.Apply(float32(acc))
					mag[i] = m
				}
			}
		}
	}
}

// dwTol is the bound on |got-want| for one output: fp32 rounding of a sum
// whose absolute terms add to mag, plus the activation's own error.
func dwTol(mag float64) float64 { return 2e-6 * (1 + mag) }

type dwCase struct {
	c, h, w, k, s int
	pad           [4]int // top, left, bottom, right
	n             int
}

func (dc dwCase) params() (ConvParams, bool) {
	p := ConvParams{N: max(dc.n, 1), C: dc.c, H: dc.h, W: dc.w, K: dc.c, KH: dc.k, KW: dc.k, StrideH: dc.s, StrideW: dc.s,
		DilH: 1, DilW: 1, PadT: dc.pad[0], PadL: dc.pad[1], PadB: dc.pad[2], PadR: dc.pad[3], Group: dc.c}
	return p, p.Resolve()
}

// runDepthwiseCase runs one case on tier t, the output surrounded by guard
// bands, tasks in reverse order (rows must not depend on each other), and
// compares with the reference.
func runDepthwiseCase(t *testing.T, r testrand.Rand, tier Tier, dc dwCase, act Act) {
	t.Helper()
	p, ok := dc.params()
	if !ok {
		return
	}
	in := r.Floats(p.N * p.H * p.W * p.C)
	w := r.Floats(p.C * p.KH * p.KW)
	bias := r.Floats(p.C)
	want := make([]float32, p.N*p.OH*p.OW*p.C)
	mag := make([]float64, len(want))
	dwRefNHWC(&p, in, w, bias, act, want, mag)
	d := NewDepthwiseTier(p, w, bias, act, tier)
	if d.Tier() != tier {
		t.Fatalf("%+v: planned on %v, want %v", dc, d.Tier(), tier)
	}
	out, whole := guarded(len(want))
	for task := d.Tasks() - 1; task >= 0; task-- {
		d.RunTask(task, in, out)
	}
	checkGuards(t, whole, len(want))
	for i := range want {
		if diff := math.Abs(float64(out[i] - want[i])); !(diff <= dwTol(mag[i])) {
			t.Fatalf("%s %+v act=%+v: out[%d]=%v want %v (tol %g)", d.Kernel(), dc, act, i, out[i], want[i], dwTol(mag[i]))
		}
	}
}

var dwActs = []Act{{}, {Kind: ActClamp, A: 0, B: 6}, {Kind: ActClamp, A: 0, B: float32(math.Inf(1))}, {Kind: ActHardSwish}, {Kind: ActSiLU}}

// TestDepthwiseChannels sweeps the channel count across the vector widths
// (1..33 covers 4, 8 and 16 lanes with tails on both sides) and a few model
// widths, on every tier, both window sizes and both strides.
func TestDepthwiseChannels(t *testing.T) {
	r := testrand.New(uint64(11))
	chans := []int{96, 144, 240, 672}
	for c := 1; c <= 33; c++ {
		chans = append(chans, c)
	}
	forEachTier(t, func(t *testing.T, tier Tier) {
		for _, c := range chans {
			for _, k := range []int{3, 5} {
				for _, s := range []int{1, 2} {
					h := k/2 + 1 + c%5
					for i, pad := range [][4]int{{k / 2, k / 2, k / 2, k / 2}, {0, 0, 0, 0}, {k/2 - 1, k / 2, k / 2, k/2 - 1 + s/2}} {
						runDepthwiseCase(t, r, tier, dwCase{c: c, h: h, w: h + 2 + i, k: k, s: s, pad: pad, n: 1 + c%2}, dwActs[(c+i)%len(dwActs)])
					}
				}
			}
		}
	})
}

// TestDepthwiseSpatial sweeps input sizes 1..9 and a few odd larger ones
// against every padding the models use, asymmetric ones, and padding wider
// than the window's reach (rows and pixels with no input at all).
func TestDepthwiseSpatial(t *testing.T) {
	r := testrand.New(uint64(12))
	sizes := []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 13, 15}
	forEachTier(t, func(t *testing.T, tier Tier) {
		for _, c := range []int{5, 16, 19} {
			for _, k := range []int{3, 5} {
				q := k / 2
				pads := [][4]int{{q, q, q, q}, {0, 0, 0, 0}, {0, 0, 1, 1}, {q - 1, q - 1, q, q}, {q, 0, 0, q}, {0, q + 1, q + 1, 0}, {k, k, k, k}}
				for _, s := range []int{1, 2, 3} {
					for hi, h := range sizes {
						for wi, w := range sizes {
							if (hi+wi)%2 == 1 && h > 3 && w > 3 {
								continue // every pair of small sizes, half the larger ones
							}
							pad := pads[(hi*3+wi+c)%len(pads)]
							runDepthwiseCase(t, r, tier, dwCase{c: c, h: h, w: w, k: k, s: s, pad: pad}, dwActs[(hi+wi)%len(dwActs)])
						}
					}
				}
			}
		}
	})
}

func TestDepthwiseKernelNames(t *testing.T) {
	p := ConvParams{N: 1, C: 8, H: 9, W: 9, K: 8, KH: 5, KW: 5, StrideH: 2, StrideW: 2, DilH: 1, DilW: 1, PadT: 2, PadL: 2, PadB: 2, PadR: 2, Group: 8}
	p.Resolve()
	w, b := make([]float32, 8*25), make([]float32, 8)
	forEachTier(t, func(t *testing.T, tier Tier) {
		d := NewDepthwiseTier(p, w, b, Act{}, tier)
		want := "f32-dwconv-5x5-" + tier.String()
		if tier == Generic {
			want = "f32-dwconv-5xN-go"
		}
		if d.Kernel() != want || d.Tier() != tier {
			t.Errorf("tier %v: kernel %q on %v, want %q", tier, d.Kernel(), d.Tier(), want)
		}
	})
	// A shape without SIMD kernels stays on the Go path whatever the tier.
	p7 := p
	p7.KH, p7.KW = 7, 7
	p7.Resolve()
	if d := NewDepthwiseTier(p7, make([]float32, 8*49), b, Act{}, Best()); d.Tier() != Generic || d.Kernel() != "f32-dwconv-go" {
		t.Errorf("7x7: kernel %q on %v, want the generic path", d.Kernel(), d.Tier())
	}
}

// TestDepthwiseKernelsAgainstTwin drives each assembly kernel directly and
// compares it with its Go twin in dw_generic.go on the contract's own terms.
func TestDepthwiseKernelsAgainstTwin(t *testing.T) {
	r := testrand.New(uint64(13))
	forEachTier(t, func(t *testing.T, tier Tier) {
		if tier == Generic {
			t.Skip("generic: the Go loops are the twins themselves")
		}
		dt := dwFamily.Lookup(uint8(tier)).Kernels
		for _, k := range []int{3, 5} {
			for _, C := range []int{dt.v, 2*dt.v + 3, 3 * dt.v} {
				for _, stride := range []int{1, 2} {
					for _, npix := range []int{1, 2, 7} {
						taps := k * k
						blocks, c1, mask := C/dt.v, C/dt.v*dt.v, uint32(0)
						if dt.masked {
							blocks, c1 = (C+dt.v-1)/dt.v, C
							mask = uint32(1)<<uint(C-(blocks-1)*dt.v) - 1
						}
						w := packDepthwise(C, taps, dt.v, r.Floats(C*taps), r.Floats(C))
						rowLen := ((npix-1)*stride + k) * C
						var rs [5][]float32
						var rp [5]unsafe.Pointer
						for i := 0; i < k; i++ {
							rs[i] = r.Floats(rowLen)
							rp[i] = unsafe.Pointer(&rs[i][0])
						}
						got, want := make([]float32, npix*C), make([]float32, npix*C)
						lo, hi := float32(-0.5), float32(0.75)
						dwRowAsm(tier, k, &rp, &got[0], &w[0], npix, blocks, 4*C, 4*C*stride, npix*4*C*stride-4*dt.v, npix*4*C-4*dt.v, mask, lo, hi)
						dwRowGeneric(&rs, want, w, k, k, npix, C, dt.v, stride, 0, c1, lo, hi)
						compareRel(t, fmt.Sprintf("%v row %dx%d C=%d s=%d npix=%d", tier, k, k, C, stride, npix), got, want, 1e-5)

						// A border pixel: a subset of the taps, every
						// (1+npix%3)-th counting back from the last.
						var xs [25][]float32
						var tap [25]int
						var tp dwTaps
						n := 0
						for tt := taps - 1; tt >= 0; tt -= 1 + npix%3 {
							xs[n] = r.Floats(C)
							tap[n] = tt
							tp.ptrs[n] = unsafe.Pointer(&xs[n][0])
							tp.offs[n] = (1 + tt) * dt.v * 4
							n++
						}
						got, want = got[:C], want[:C]
						dwPixelAsm(tier, &tp, n, &got[0], &w[0], blocks, (taps+1)*dt.v*4, mask, lo, hi)
						dwPixelGeneric(&xs, &tap, n, taps, want, w, dt.v, 0, c1, lo, hi)
						compareRel(t, fmt.Sprintf("%v pixel %dx%d C=%d n=%d", tier, k, k, C, n), got, want, 1e-5)
					}
				}
			}
		}
	})
}

// FuzzDepthwise compares every tier with the reference on shapes drawn from
// the fuzzer's bytes.
func FuzzDepthwise(f *testing.F) {
	f.Add(uint8(17), uint8(7), uint8(9), uint8(0), uint8(1), uint8(0x55), uint8(2), int64(1))
	f.Add(uint8(3), uint8(1), uint8(2), uint8(1), uint8(2), uint8(0xff), uint8(3), int64(2))
	f.Add(uint8(33), uint8(12), uint8(5), uint8(1), uint8(1), uint8(0x12), uint8(0), int64(3))
	f.Fuzz(func(t *testing.T, c, h, w, k5, s, pads, act uint8, seed int64) {
		k := 3 + 2*int(k5%2)
		dc := dwCase{c: 1 + int(c%48), h: 1 + int(h%14), w: 1 + int(w%14), k: k, s: 1 + int(s%3),
			pad: [4]int{int(pads & 3), int(pads >> 2 & 3), int(pads >> 4 & 3), int(pads >> 6)}, n: 1}
		for _, tier := range Available() {
			runDepthwiseCase(t, testrand.New(uint64(seed)), tier, dc, dwActs[int(act)%len(dwActs)])
		}
	})
}

// BenchmarkDepthwise runs the depthwise layers of MobileNetV2 and
// EfficientNet-B0 (shape HxWxC, window, stride) on every tier, and reports
// GFLOP per second of the benchmark thread's CPU time.
func BenchmarkDepthwise(b *testing.B) {
	shapes := []struct{ hw, ch, k, s int }{
		{112, 32, 3, 1}, {112, 96, 3, 2}, {56, 144, 3, 1}, {28, 192, 3, 1}, {14, 576, 3, 1}, {7, 960, 3, 1},
		{56, 144, 5, 2}, {28, 240, 5, 1}, {14, 672, 5, 1}, {14, 672, 5, 2}, {7, 1152, 5, 1},
	}
	for _, tier := range Available() {
		for _, c := range shapes {
			p := ConvParams{N: 1, C: c.ch, H: c.hw, W: c.hw, K: c.ch, KH: c.k, KW: c.k, StrideH: c.s, StrideW: c.s, DilH: 1, DilW: 1,
				PadT: c.k / 2, PadL: c.k / 2, PadB: c.k / 2, PadR: c.k / 2, Group: c.ch}
			p.Resolve()
			r := testrand.New(uint64(1))
			d := NewDepthwiseTier(p, r.Floats(c.ch*c.k*c.k), r.Floats(c.ch), Act{Kind: ActClamp, A: 0, B: 6}, tier)
			in := r.Floats(c.hw * c.hw * c.ch)
			out := make([]float32, p.OH*p.OW*c.ch)
			b.Run(fmt.Sprintf("%s/%dx%dx%d-k%d-s%d", tier, c.hw, c.hw, c.ch, c.k, c.s), func(b *testing.B) {
				cpu := startCPUTimer(b)
				for b.Loop() {
					for t := 0; t < d.Tasks(); t++ {
						d.RunTask(t, in, out)
					}
				}
				flops := 2 * float64(c.k*c.k) * float64(len(out)) * float64(b.N)
				if s := cpu(); s > 0 {
					b.ReportMetric(flops/s/1e9, "GFLOP/cpu-s")
					b.ReportMetric(s/float64(b.N)*1e6, "cpu-us/op")
				}
			})
		}
	}
}

// TestDepthwiseNoAllocs: the hot path allocates nothing on any tier (tap
// pointer arrays live on the stack), border pixels and channel tails included.
func TestDepthwiseNoAllocs(t *testing.T) {
	r := testrand.New(uint64(15))
	forEachTier(t, func(t *testing.T, tier Tier) {
		for _, k := range []int{3, 5} {
			p, _ := dwCase{c: 21, h: 9, w: 8, k: k, s: 1, pad: [4]int{k / 2, k / 2, k / 2, k / 2}}.params()
			d := NewDepthwiseTier(p, r.Floats(p.C*k*k), r.Floats(p.C), Act{Kind: ActHardSwish}, tier)
			in, out := r.Floats(p.H*p.W*p.C), make([]float32, p.OH*p.OW*p.C)
			if a := testing.AllocsPerRun(10, func() {
				for task := 0; task < d.Tasks(); task++ {
					d.RunTask(task, in, out)
				}
			}); a != 0 {
				t.Errorf("%s: %v allocations per run", d.Kernel(), a)
			}
		}
	})
}

// TestDepthwiseAgainstRef compares every tier with the NCHW convolution
// reference (Conv2DRef), independent of dwRefNHWC, over strides 1..3 and
// symmetric, zero and asymmetric padding, two images per batch.
func TestDepthwiseAgainstRef(t *testing.T) {
	forEachTier(t, func(t *testing.T, tier Tier) {
		testDepthwiseAgainstRef(t, tier)
	})
}

func testDepthwiseAgainstRef(t *testing.T, tier Tier) {
	r := testrand.New(5<<8 | uint64(tier))
	for _, c := range []int{1, 3, 8, 17} {
		for _, s := range []int{1, 2, 3} {
			for _, k := range []int{3, 5} {
				for _, pad := range [][4]int{{1, 1, 1, 1}, {0, 0, 0, 0}, {0, 1, 2, 1}} {
					p := ConvParams{N: 2, C: c, H: 7, W: 9, K: c, KH: k, KW: k, StrideH: s, StrideW: s, DilH: 1, DilW: 1,
						PadT: pad[0], PadL: pad[1], PadB: pad[2], PadR: pad[3], Group: c}
					if !p.Resolve() {
						continue
					}
					x := r.Floats(p.N * p.C * p.H * p.W)
					w := r.Floats(p.K * p.KH * p.KW)
					bias := r.Floats(p.K)
					ref := make([]float32, p.N*p.K*p.OH*p.OW)
					Conv2DRef(&p, x, w, bias, ref)
					for _, act := range []Act{{Kind: ActHardSwish}, {Kind: ActClamp, A: 0, B: 6}, {}} {
						want := make([]float32, len(ref))
						act.ApplySlice(want, ref)
						d := NewDepthwiseTier(p, w, bias, act, tier)
						in := nchwToNHWC(x, p.N, p.C, p.H, p.W)
						out, whole := guarded(len(want))
						for task := 0; task < d.Tasks(); task++ {
							d.RunTask(task, in, out)
						}
						checkGuards(t, whole, len(want))
						compareRel(t, fmt.Sprintf("%s c=%d s=%d k=%d pad=%v act=%d", d.Kernel(), c, s, k, pad, act.Kind), nhwcToNCHW(out, p.N, p.K, p.OH, p.OW), want, 1e-5)
					}
				}
			}
		}
	}
}
