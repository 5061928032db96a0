//go:build !purego

package kernels

// fmaPeakAVX512 runs n iterations of 24 independent-chain zmm FMAs:
//
//	for i := 0; i < n; i++ {
//		for r := 0; r < 24; r++ { acc[r%12] += x * y } // 16 lanes each, results discarded
//	}
//
//go:noescape
func fmaPeakAVX512(n int)

// fmaPeakAVX2 is fmaPeakAVX512 on ymm registers (8 lanes).
//
//go:noescape
func fmaPeakAVX2(n int)

// fmaPeakLoop returns the FMA-throughput loop of a tier and the fp32
// operations one of its iterations performs; nil when the tier has none
// on this machine.
func fmaPeakLoop(t Tier) (loop func(n int), flopsPerIter int) {
	switch {
	case t == AVX512 && t.Runs():
		return fmaPeakAVX512, 24 * 16 * 2
	case t == AVX2 && t.Runs():
		return fmaPeakAVX2, 24 * 8 * 2
	}
	return nil, 0
}
