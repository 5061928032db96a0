package kernels

import (
	"fmt"
	"math"
	"sync"
	"testing"

	"github.com/signet-go/signet/internal/testrand"
)

// BenchmarkConv3x3 runs ResNet18's stride-1 3×3 convolutions with 64 to
// 512 channels through ConvGemm exactly as the engine's single-threaded
// plan does (weights packed once, ReLU fused, all tasks in one RunTasks
// call), on every tier this machine has. It reports
//
//	GFLOP/s         2·OH·OW·K·C·9 per second of the thread's CPU time
//	peak-frac       that over the core's fp32 FMA peak (the best tier's FMA
//	                loop, measured in the same run)
//	tier-peak-frac  that over the tier's own FMA loop (AVX2: 8 lanes)
//	peak-GFLOP/s    the core's peak as measured
//
// CPU time rather than wall time, because the build machines are shared:
// the rates count only the turns this thread got.
func BenchmarkConv3x3(b *testing.B) {
	layers := []struct{ hw, c int }{{56, 64}, {28, 128}, {14, 256}, {7, 512}}
	core := 0.0
	for _, tier := range Available() {
		core = max(core, fmaPeak(b, tier))
	}
	for _, tier := range Available() {
		mk := Gemm(tier)
		own := fmaPeak(b, tier)
		for _, l := range layers {
			p := ConvParams{N: 1, C: l.c, H: l.hw, W: l.hw, K: l.c, KH: 3, KW: 3, StrideH: 1, StrideW: 1, DilH: 1, DilW: 1,
				PadT: 1, PadL: 1, PadB: 1, PadR: 1, Group: 1}
			if !p.Resolve() {
				b.Fatalf("%+v does not resolve", p)
			}
			b.Run(fmt.Sprintf("%v/%dx%dx%d", tier, l.hw, l.hw, l.c), func(b *testing.B) {
				r := testrand.New(uint64(l.c))
				w := make([]float32, p.K*p.C*9)
				for i := range w {
					w[i] = float32(r.NormFloat64()) / 24
				}
				bias := make([]float32, p.K)
				in := make([]float32, p.H*p.W*p.C)
				for i := range in {
					in[i] = r.Float32()
				}
				out := make([]float32, p.OH*p.OW*p.K)
				cv := NewConvGemm(p, mk, w, bias, Act{Kind: ActClamp, A: 0, B: float32(math.Inf(1))})
				scratch := make([]float32, cv.ScratchLen())
				cv.RunTasks(0, cv.Tasks(), in, out, scratch)
				cpu := startCPUTimer(b)
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					cv.RunTasks(0, cv.Tasks(), in, out, scratch)
				}
				secs := cpu()
				if secs <= 0 {
					b.Skip("no thread CPU clock")
				}
				rate := 2 * 9 * float64(p.OH*p.OW*p.K*p.C) * float64(b.N) / secs / 1e9
				b.ReportMetric(rate, "GFLOP/s")
				b.ReportMetric(rate/core, "peak-frac")
				if own > 0 {
					b.ReportMetric(rate/own, "tier-peak-frac")
				}
				b.ReportMetric(core, "peak-GFLOP/s")
			})
		}
	}
}

var (
	fmaPeakMu    sync.Mutex
	fmaPeakCache = map[Tier]float64{}
)

// fmaPeak measures a tier's FMA-loop throughput in GFLOP per CPU second
// (the loop BenchmarkFMAPeak runs), best of five 20 ms runs, once per
// process; 0 when the tier has no FMA loop here.
func fmaPeak(b *testing.B, t Tier) float64 {
	fmaPeakMu.Lock()
	defer fmaPeakMu.Unlock()
	if v, ok := fmaPeakCache[t]; ok {
		return v
	}
	loop, perIter := fmaPeakLoop(t)
	best := 0.0
	if loop != nil {
		for range 5 {
			const iters = 10000
			cpu := startCPUTimer(b)
			n := 0
			for cpu() < 0.02 {
				loop(iters)
				n++
			}
			best = max(best, float64(perIter)*iters*float64(n)/cpu()/1e9)
		}
	}
	fmaPeakCache[t] = best
	return best
}
