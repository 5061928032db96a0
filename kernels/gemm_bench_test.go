package kernels

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkGemmMicro measures each available tier's microkernel on one full
// tile with a large k (operands stay in L1/L2 as in a blocked GEMM), and
// reports GFLOP/s. Compare with BenchmarkFMAPeak run in the same process.
func BenchmarkGemmMicro(b *testing.B) {
	const k = 256
	for _, tier := range Available() {
		kern := Gemm(tier)
		b.Run(tier.String(), func(b *testing.B) {
			rng := rand.New(rand.NewPCG(3, 4))
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
