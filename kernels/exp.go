package kernels

import "math"

// expf is e^x in float32 arithmetic, within 2 ulp of math.Exp over the
// normal range (1.22 ulp measured over every float32 in [-104, 89]); outside
// [-87, 88] it defers to math.Exp so overflow, underflow to subnormals, ±Inf
// and NaN behave exactly as there. It is the Go twin's exponential.
//
// The SIMD tiers (kernels_amd64.s, act_arm64.s) compute the exponential of
// Sigmoid and SiLU with one algorithm, bit-identical on AVX-512, AVX2 and
// NEON: x clamped to [-104, 89], n = round(x·log2e), r = x - n·ln2 in two
// fused steps, the Cephes degree-7 polynomial by fused Horner steps, and
// p·2^n rounded once. Its error is below 1 ulp of the float64 answer (0.894
// ulp at most over all 2.24 billion float32 inputs in [-104, 89]); results
// below the normal range are correctly scaled subnormals, e^x is +Inf for x
// ≥ 88.73 (and +Inf), +0 for x ≤ -103.98 (and -Inf), exactly 1 at ±0, and
// NaN for NaN. Sigmoid = 1/(1+e^-x) and SiLU = x/(1+e^-x) on top of it stay
// within 3 ulp (2.48 at most over the same inputs); where e^-x overflows (x
// < -88.72) they give ±0, as expf's callers do, for a true magnitude below
// 1e-36. TestExpAccuracy and TestExpSpecialValues check all of this on every
// tier.
func expf(x float32) float32 {
	if !(x > -87 && x < 88) {
		return float32(math.Exp(float64(x)))
	}
	return expRange(x)
}

// expRange is e^x for x in [-87, 88] (small enough to inline into the
// activation loops): x = n·ln2 + r with |r| ≤ ln2/2 (Cody–Waite split of
// ln2, n rounded with the 1.5·2^23 trick), e^r by its degree-7 Taylor
// polynomial (truncation below 2^-27), times 2^n from the exponent bits.
// Out of range the result is meaningless; NaN gives NaN.
func expRange(x float32) float32 {
	const round = 12582912 // 1.5·2^23
	n := x*1.44269504088896341 + round
	n -= round
	r := x - n*0.693359375 - n*-2.12194440e-4
	p := ((((((1.0/5040*r+1.0/720)*r+1.0/120)*r+1.0/24)*r+1.0/6)*r+0.5)*r+1)*r + 1
	return p * math.Float32frombits(uint32(int32(n)+127)<<23)
}
