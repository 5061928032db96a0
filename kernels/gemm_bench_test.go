package kernels

import (
	"fmt"
	"math"
	"testing"

	"github.com/signet-go/signet/internal/testrand"
)

// BenchmarkGemmMicro measures each available tier's microkernel on one full
// tile with a large k (operands stay in L1/L2 as in a blocked GEMM), and
// reports GFLOP/s. Compare with BenchmarkFMAPeak run in the same process.
func BenchmarkGemmMicro(b *testing.B) {
	const k = 256
	for _, tier := range Available() {
		kern := Gemm(tier)
		b.Run(tier.String(), func(b *testing.B) {
			rng := testrand.New(3004)
			pa := make([]float32, k*kern.MR)
			pb := make([]float32, k*kern.NR)
			for i := range pa {
				pa[i] = rng.Float32()
			}
			for i := range pb {
				pb[i] = rng.Float32()
			}
			c := make([]float32, kern.MR*kern.NR)
			bias := make([]float32, kern.NR)
			epi := Epilogue{Kind: EpiClamp, Lo: 0, Hi: 6}
			b.ResetTimer()
			cpu := startCPUTimer(b)
			for i := 0; i < b.N; i++ {
				kern.Fn(k, pa, pb, c, kern.NR, kern.MR, kern.NR, bias, &epi, false, true)
			}
			reportGFLOPs(b, 2*float64(k*kern.MR*kern.NR)*float64(b.N), cpu())
		})
	}
}

// BenchmarkFMAPeak measures the core's fp32 FMA throughput with independent
// FMA chains (no loads), the ceiling for BenchmarkGemmMicro.
func BenchmarkFMAPeak(b *testing.B) {
	for _, tier := range Available() {
		loop, perIter := fmaPeakLoop(tier)
		if loop == nil {
			continue
		}
		b.Run(tier.String(), func(b *testing.B) {
			const iters = 1000
			cpu := startCPUTimer(b)
			for i := 0; i < b.N; i++ {
				loop(iters)
			}
			reportGFLOPs(b, float64(perIter)*iters*float64(b.N), cpu())
		})
	}
}

// reportGFLOPs reports GFLOP/s over wall time and over the thread's CPU
// time (see startCPUTimer); quote the latter on a shared machine.
func reportGFLOPs(b *testing.B, flops, cpuSeconds float64) {
	b.ReportMetric(flops/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	if cpuSeconds > 0 {
		b.ReportMetric(flops/cpuSeconds/1e9, "GFLOP/cpu-s")
	}
}

// BenchmarkGemmMicroK shows how the microkernels' rate depends on k (the
// driver's KC) and what the SiLU epilogue costs at small k.
func BenchmarkGemmMicroK(b *testing.B) {
	for _, tier := range Available() {
		kern := Gemm(tier)
		for _, k := range []int{16, 64, 256, 1024} {
			for _, epi := range []Epilogue{{Kind: EpiClamp, Lo: 0, Hi: 6}, {Kind: EpiSiLU}} {
				name := fmt.Sprintf("%v/k=%d/relu6", tier, k)
				if epi.Kind == EpiSiLU {
					name = fmt.Sprintf("%v/k=%d/silu", tier, k)
				}
				b.Run(name, func(b *testing.B) {
					pa := make([]float32, k*kern.MR)
					pb := make([]float32, k*kern.NR)
					for i := range pa {
						pa[i] = float32(i%13) / 13
					}
					for i := range pb {
						pb[i] = float32(i%7) / 7
					}
					c := make([]float32, kern.MR*kern.NR)
					cpu := startCPUTimer(b)
					for i := 0; i < b.N; i++ {
						kern.Fn(k, pa, pb, c, kern.NR, kern.MR, kern.NR, nil, &epi, false, true)
					}
					reportGFLOPs(b, 2*float64(k*kern.MR*kern.NR)*float64(b.N), cpu())
				})
			}
		}
	}
}

// BenchmarkConvGemm runs whole convolution layers of ResNet18 and
// MobileNetV2 at 224×224 (one thread, best tier) and reports GFLOP per CPU
// second: the driver's packing, in-place reads and blocking around the
// microkernel, which BenchmarkGemmMicro measures alone.
func BenchmarkConvGemm(b *testing.B) {
	for _, cs := range convBenchCases(b) {
		p := cs.p
		b.Run(cs.name, func(b *testing.B) {
			w := make([]float32, p.K*p.C*p.KH*p.KW)
			for i := range w {
				w[i] = float32(i%7)/7 - 0.4
			}
			in := make([]float32, p.N*p.C*p.H*p.W)
			for i := range in {
				in[i] = float32(i%13)/13 - 0.3
			}
			out := make([]float32, p.N*p.K*p.OH*p.OW)
			cv := NewConvGemm(p, Gemm(Best()), w, make([]float32, p.K), Act{Kind: ActClamp, A: 0, B: float32(math.Inf(1))})
			scratch := make([]float32, cv.ScratchLen())
			flops := 2 * float64(p.OH*p.OW*p.K*p.C*p.KH*p.KW)
			b.ResetTimer()
			cpu := startCPUTimer(b)
			for i := 0; i < b.N; i++ {
				cv.RunTasks(0, cv.Tasks(), in, out, scratch)
			}
			reportGFLOPs(b, flops*float64(b.N), cpu())
		})
	}
}

// convBenchCases are convolution layers of ResNet18 and MobileNetV2 at
// 224×224, resolved.
func convBenchCases(b *testing.B) []convBenchCase {
	cases := []convBenchCase{
		{"resnet18-conv1-7x7s2-c3", ConvParams{N: 1, C: 3, H: 224, W: 224, K: 64, KH: 7, KW: 7, StrideH: 2, StrideW: 2, PadT: 3, PadL: 3, PadB: 3, PadR: 3}},
		{"resnet18-layer1-3x3-c64", ConvParams{N: 1, C: 64, H: 56, W: 56, K: 64, KH: 3, KW: 3, StrideH: 1, StrideW: 1, PadT: 1, PadL: 1, PadB: 1, PadR: 1}},
		{"resnet18-layer3-3x3-c256", ConvParams{N: 1, C: 256, H: 14, W: 14, K: 256, KH: 3, KW: 3, StrideH: 1, StrideW: 1, PadT: 1, PadL: 1, PadB: 1, PadR: 1}},
		{"resnet18-layer4-3x3-c512", ConvParams{N: 1, C: 512, H: 7, W: 7, K: 512, KH: 3, KW: 3, StrideH: 1, StrideW: 1, PadT: 1, PadL: 1, PadB: 1, PadR: 1}},
		{"mobilenetv2-1x1-c144-k24", ConvParams{N: 1, C: 144, H: 56, W: 56, K: 24, KH: 1, KW: 1, StrideH: 1, StrideW: 1}},
		{"mobilenetv2-1x1-c96-k576", ConvParams{N: 1, C: 96, H: 14, W: 14, K: 576, KH: 1, KW: 1, StrideH: 1, StrideW: 1}},
	}
	for i := range cases {
		p := &cases[i].p
		p.DilH, p.DilW, p.Group = 1, 1, 1
		if !p.Resolve() {
			b.Fatalf("%s does not resolve", cases[i].name)
		}
	}
	return cases
}

type convBenchCase struct {
	name string
	p    ConvParams
}
