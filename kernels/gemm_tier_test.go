package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// gemmKs straddles the unroll-by-4 loop of the assembly kernels and the
// lengths around powers of two.
var gemmKs = []int{1, 2, 3, 4, 7, 8, 9, 16, 17, 31, 32, 33, 64, 255}

// gemmCase is one accumulate/bias/final/epilogue combination.
type gemmCase struct {
	accumulate, bias, final bool
	epi                     Epilogue
}

func (g gemmCase) String() string {
	s := "store"
	if g.accumulate {
		s = "accumulate"
	} else if g.bias {
		s = "bias"
	}
	if !g.final {
		return s
	}
	switch g.epi.Kind {
	case EpiHardSwish:
		return s + "+hardswish"
	case EpiSiLU:
		return s + "+silu"
	}
	return fmt.Sprintf("%s+clamp[%g,%g]", s, g.epi.Lo, g.epi.Hi)
}

func gemmCases() []gemmCase {
	inf := float32(math.Inf(1))
	epis := []Epilogue{
		{Kind: EpiClamp, Lo: -inf, Hi: inf},
		{Kind: EpiClamp, Lo: 0, Hi: inf},
		{Kind: EpiClamp, Lo: 0, Hi: 6},
		{Kind: EpiClamp, Lo: -0.25, Hi: 0.5},
		{Kind: EpiHardSwish},
		{Kind: EpiSiLU},
	}
	var out []gemmCase
	for mode := 0; mode < 3; mode++ {
		base := gemmCase{accumulate: mode == 1, bias: mode == 2}
		out = append(out, base)
		for _, e := range epis {
			g := base
			g.final, g.epi = true, e
			out = append(out, g)
		}
	}
	return out
}

// guardVal marks memory a kernel must not touch; a NaN payload no
// arithmetic produces.
var guardVal = math.Float32frombits(0x7fc0beef)

// runGemmCase runs one tile through kern and through GemmRef and compares:
// valid elements within |got-ref| ≤ 1e-5·(1+Σ|a·b|+|c₀|)·L, where c₀ is the
// bias or accumulated value and L the epilogue's Lipschitz bound (1 for
// clamp, 1.5 hard-swish, 1.1 SiLU, rounded up to 2), every other element of
// c bit-identical to the guardVal.
func runGemmCase(t *testing.T, rng *rand.Rand, kern GemmMicrokernel, k, mr, nr, ldc int, g gemmCase) {
	t.Helper()
	MR, NR := kern.MR, kern.NR
	// Packed panels with zero padding beyond mr/nr, followed by one step of
	// NaN: a kernel reading past k steps poisons its result.
	a := make([]float32, (k+1)*MR)
	b := make([]float32, (k+1)*NR)
	for p := 0; p < k; p++ {
		for i := 0; i < mr; i++ {
			a[p*MR+i] = rng.Float32()*2 - 1
		}
		for j := 0; j < nr; j++ {
			b[p*NR+j] = rng.Float32()*2 - 1
		}
	}
	for i := k * MR; i < len(a); i++ {
		a[i] = float32(math.NaN())
	}
	for j := k * NR; j < len(b); j++ {
		b[j] = float32(math.NaN())
	}
	a, b = a[:k*MR], b[:k*NR]

	var bias []float32
	if g.bias {
		bias = make([]float32, nr+4)
		for j := range bias {
			bias[j] = rng.Float32()*4 - 2
		}
		for j := nr; j < len(bias); j++ {
			bias[j] = float32(math.NaN()) // must not be read
		}
		bias = bias[:nr]
	}

	const guard = 37
	buf := make([]float32, guard+mr*ldc+guard)
	for i := range buf {
		buf[i] = guardVal
	}
	for i := 0; i < mr; i++ {
		for j := 0; j < nr; j++ {
			buf[guard+i*ldc+j] = rng.Float32()*4 - 2
		}
	}
	want := append([]float32(nil), buf...)
	orig := append([]float32(nil), buf...)
	var c, cw []float32
	if mr > 0 && nr > 0 {
		end := guard + (mr-1)*ldc + nr
		c, cw = buf[guard:end:end], want[guard:end:end]
	} else {
		c, cw = buf[guard:guard:guard], want[guard:guard:guard]
	}
	epi := g.epi
	GemmRef(MR, NR, k, a, b, cw, ldc, mr, nr, bias, &epi, g.accumulate, g.final)
	kern.Fn(k, a, b, c, ldc, mr, nr, bias, &epi, g.accumulate, g.final)

	lip := float32(1)
	if g.final && g.epi.Kind != EpiClamp {
		lip = 2
	}
	for idx := range buf {
		off := idx - guard
		i, j := -1, -1
		if off >= 0 && ldc > 0 {
			i, j = off/ldc, off%ldc
		}
		valid := off >= 0 && i < mr && j < nr
		if !valid {
			if math.Float32bits(buf[idx]) != math.Float32bits(guardVal) {
				t.Fatalf("%s k=%d mr=%d nr=%d ldc=%d %v: wrote outside the tile at offset %d (row %d col %d): %v",
					kern.Name, k, mr, nr, ldc, g, off, i, j, buf[idx])
			}
			continue
		}
		var mag float32
		for p := 0; p < k; p++ {
			mag += float32(math.Abs(float64(a[p*MR+i] * b[p*NR+j])))
		}
		c0 := float32(0)
		if g.accumulate {
			c0 = orig[idx]
		} else if g.bias {
			c0 = bias[j]
		}
		tol := 1e-5 * (1 + mag + float32(math.Abs(float64(c0)))) * lip
		got, ref := buf[idx], want[idx]
		if !(math.Abs(float64(got-ref)) <= float64(tol)) {
			t.Fatalf("%s k=%d mr=%d nr=%d ldc=%d %v: c[%d][%d] = %v, reference %v (tol %g)",
				kern.Name, k, mr, nr, ldc, g, i, j, got, ref, tol)
		}
	}
}

func TestGemmTiers(t *testing.T) {
	for _, tier := range Available() {
		kern := Gemm(tier)
		if kern.Tier != tier {
			t.Fatalf("Gemm(%v) returned %s of tier %v: the fast path would silently not be taken", tier, kern.Name, kern.Tier)
		}
		t.Run(tier.String(), func(t *testing.T) {
			cases := gemmCases()
			rng := rand.New(rand.NewPCG(1, uint64(tier)))
			n := 0
			for ki, k := range gemmKs {
				full := k == 1 || k == 9 || k == 33
				for mr := 0; mr <= kern.MR; mr++ {
					for nr := 0; nr <= kern.NR; nr++ {
						ldc := nr + 1 + (ki+mr)%3*kern.NR
						if (mr+nr)%5 == 0 {
							ldc = max(nr, 1) // tight rows
						}
						if full {
							for _, g := range cases {
								runGemmCase(t, rng, kern, k, mr, nr, ldc, g)
								n++
							}
						} else {
							runGemmCase(t, rng, kern, k, mr, nr, ldc, cases[(mr*31+nr*7+ki)%len(cases)])
							n++
						}
					}
				}
			}
			t.Logf("%s: %d tiles checked", kern.Name, n)
		})
	}
}

// TestGemmEpilogueRange drives the epilogues with exact inputs (k=1, b=1)
// over a wide range, including values where exp over- or underflows, and
// checks them against Epilogue.Apply. Bound for SiLU:
// |got-ref| ≤ 2e-6·|ref| + 1e-30 (the polynomial exp is within a few ulp,
// and for x < -87 both results are below 1e-35 in magnitude);
// hard-swish and clamp: within 1 ulp (the operations are those of Apply).
func TestGemmEpilogueRange(t *testing.T) {
	var xs []float32
	for x := -110.0; x <= 110; x += 0.0137 {
		xs = append(xs, float32(x))
	}
	for x := -5.0; x <= 5; x += 1.0 / 1024 {
		xs = append(xs, float32(x))
	}
	xs = append(xs, 0, float32(math.Copysign(0, -1)), 1e-30, -1e-30, 3, -3, 88.7, -88.7, 87.4, -87.4, 1e30, -1e30,
		float32(math.Inf(1)), float32(math.NaN()))
	epis := []Epilogue{{Kind: EpiSiLU}, {Kind: EpiHardSwish}, {Kind: EpiClamp, Lo: 0, Hi: 6}, {Kind: EpiClamp, Lo: -1, Hi: 2}}
	for _, tier := range Available() {
		kern := Gemm(tier)
		MR, NR := kern.MR, kern.NR
		b := make([]float32, NR)
		for j := range b {
			b[j] = 1
		}
		a := make([]float32, MR)
		c := make([]float32, MR*NR)
		for _, e := range epis {
			worst := 0.0
			for start := 0; start < len(xs); start += MR {
				mr := min(MR, len(xs)-start)
				clear(a)
				copy(a, xs[start:start+mr])
				kern.Fn(1, a, b, c, NR, mr, NR, nil, &e, false, true)
				for i := 0; i < mr; i++ {
					ref := e.Apply(xs[start+i])
					for j := 0; j < NR; j++ {
						got := c[i*NR+j]
						if math.IsNaN(float64(ref)) {
							if !math.IsNaN(float64(got)) {
								t.Fatalf("%s %+v: f(%v) = %v, want NaN", kern.Name, e, xs[start+i], got)
							}
							continue
						}
						if got == ref {
							continue
						}
						d := math.Abs(float64(got) - float64(ref))
						bound := 2e-6*math.Abs(float64(ref)) + 1e-30
						if e.Kind != EpiSiLU {
							bound = 1.2e-7 * math.Abs(float64(ref))
						}
						if !(d <= bound) {
							t.Fatalf("%s %+v: f(%v) = %v, want %v (diff %g > %g)", kern.Name, e, xs[start+i], got, ref, d, bound)
						}
						if math.Abs(float64(ref)) >= 1e-30 {
							worst = max(worst, d/math.Abs(float64(ref)))
						}
					}
				}
			}
			t.Logf("%s kind %d: worst relative error %.3g over %d inputs", kern.Name, e.Kind, worst, len(xs))
		}
	}
}

func TestGemmTierAllocs(t *testing.T) {
	for _, tier := range Available() {
		kern := Gemm(tier)
		k := 8
		a := make([]float32, k*kern.MR)
		b := make([]float32, k*kern.NR)
		c := make([]float32, kern.MR*kern.NR)
		bias := make([]float32, kern.NR)
		epi := Epilogue{Kind: EpiSiLU}
		n := testing.AllocsPerRun(20, func() {
			kern.Fn(k, a, b, c, kern.NR, kern.MR-1, kern.NR-1, bias, &epi, false, true)
			kern.Fn(k, a, b, c, kern.NR, kern.MR, kern.NR, nil, &epi, true, false)
		})
		if n != 0 {
			t.Errorf("%s: %v allocations per tile", kern.Name, n)
		}
	}
}
