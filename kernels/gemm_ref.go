package kernels

import "math"

// Identity returns the epilogue that stores acc+bias unchanged.
func Identity() Epilogue {
	return Epilogue{Kind: EpiClamp, Lo: float32(math.Inf(-1)), Hi: float32(math.Inf(1))}
}

// Apply applies the epilogue to one value. It is the scalar definition the
// assembly epilogues must match.
func (e *Epilogue) Apply(x float32) float32 {
	switch e.Kind {
	case EpiHardSwish:
		return x * min(max(x+3, 0), 6) / 6
	case EpiSiLU:
		return x / (1 + float32(math.Exp(float64(-x))))
	}
	return min(max(x, e.Lo), e.Hi)
}

// GemmRef is the reference GEMM microkernel for any tile shape: the oracle the
// optimised tiers are tested against. See GemmMicrokernel for the contract.
func GemmRef(MR, NR, k int, a, b, c []float32, ldc, mr, nr int, bias []float32, epi *Epilogue, accumulate, final bool) {
	for i := 0; i < mr; i++ {
		for j := 0; j < nr; j++ {
			var acc float32
			for p := 0; p < k; p++ {
				acc += a[p*MR+i] * b[p*NR+j]
			}
			if accumulate {
				acc += c[i*ldc+j]
			} else if bias != nil {
				acc += bias[j]
			}
			if final {
				acc = epi.Apply(acc)
			}
			c[i*ldc+j] = acc
		}
	}
}
