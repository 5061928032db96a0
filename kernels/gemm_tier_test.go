package kernels

import (
	"fmt"
	"math"
	"testing"

	"github.com/signet-go/signet/internal/testrand"
)

// gemmKs straddles the unroll-by-4 loop of the assembly kernels and the
// lengths around powers of two.
var gemmKs = []int{1, 2, 3, 4, 7, 8, 9, 16, 17, 31, 32, 33, 64, 255}

// gemmCase is one accumulate/bias/final/epilogue combination. With both
// accumulate and bias set the bias is passed and must be ignored.
type gemmCase struct {
	accumulate, bias, final bool
	epi                     Epilogue
}

func (g gemmCase) String() string {
	s := "store"
	if g.accumulate && g.bias {
		s = "accumulate(bias ignored)"
	} else if g.accumulate {
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
	for mode := 0; mode < 4; mode++ {
		base := gemmCase{accumulate: mode == 1 || mode == 3, bias: mode >= 2}
		out = append(out, base)
		for _, e := range epis {
			g := base
			g.final, g.epi = true, e
			out = append(out, g)
		}
	}
	return out
}

// runGemmCase runs one tile through kern and through GemmRef and compares:
// valid elements within |got-ref| ≤ 1e-5·(1+Σ|a·b|+|c₀|)·L, where c₀ is the
// bias or accumulated value and L the epilogue's Lipschitz bound (1 for
// clamp, 1.5 hard-swish, 1.1 SiLU, rounded up to 2), every other element of
// c bit-identical to the guardVal. next supplies the inputs, values in
// [-1, 1): random ones (testrand) or a fuzzer's.
func runGemmCase(t *testing.T, next func() float32, kern GemmMicrokernel, k, mr, nr, ldc int, g gemmCase) {
	t.Helper()
	MR, NR := kern.MR, kern.NR
	// Packed panels with zero padding beyond mr/nr, followed by one step of
	// NaN: a kernel reading past k steps poisons its result.
	a := make([]float32, (k+1)*MR)
	b := make([]float32, (k+1)*NR)
	for p := 0; p < k; p++ {
		for i := 0; i < mr; i++ {
			a[p*MR+i] = next()
		}
		for j := 0; j < nr; j++ {
			b[p*NR+j] = next()
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
			bias[j] = 2 * next()
		}
		for j := nr; j < len(bias); j++ {
			bias[j] = float32(math.NaN()) // must not be read
		}
		bias = bias[:nr]
	}

	tile, buf := guarded(mr * ldc)
	for i := 0; i < mr; i++ {
		for j := 0; j < nr; j++ {
			tile[i*ldc+j] = 2 * next()
		}
	}
	want := append([]float32(nil), tile...)
	orig := append([]float32(nil), tile...)
	end := 0
	if mr > 0 && nr > 0 {
		end = (mr-1)*ldc + nr
	}
	epi := g.epi
	GemmRef(MR, NR, k, a, b, want[:end:end], ldc, mr, nr, bias, &epi, g.accumulate, g.final)
	kern.Fn(k, a, b, tile[:end:end], ldc, mr, nr, bias, &epi, g.accumulate, g.final)
	checkGuards(t, buf, mr*ldc)

	lip := float32(1)
	if g.final && g.epi.Kind != EpiClamp {
		lip = 2
	}
	for idx := range tile {
		i, j := idx/ldc, idx%ldc
		if j >= nr {
			if !isGuard(tile[idx]) {
				t.Fatalf("%s k=%d mr=%d nr=%d ldc=%d %v: wrote outside the tile at row %d col %d: %v",
					kern.Name, k, mr, nr, ldc, g, i, j, tile[idx])
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
		got, ref := tile[idx], want[idx]
		if !(math.Abs(float64(got-ref)) <= float64(tol)) {
			t.Fatalf("%s k=%d mr=%d nr=%d ldc=%d %v: c[%d][%d] = %v, reference %v (tol %g)",
				kern.Name, k, mr, nr, ldc, g, i, j, got, ref, tol)
		}
	}
}

// TestGemmTiers is the GEMM family's tester: every tier's microkernel
// against GemmRef on every tile shape (mr ≤ MR, nr ≤ NR, with tight and
// padded rows), every accumulate/bias/epilogue case at the K lengths up to
// 33 around the unroll steps, one case per shape at the longer ones.
func TestGemmTiers(t *testing.T) {
	forEachTier(t, func(t *testing.T, tier Tier) {
		kern := Gemm(tier)
		if kern.Tier != tier {
			t.Fatalf("Gemm(%v) returned %s of tier %v: the fast path would silently not be taken", tier, kern.Name, kern.Tier)
		}
		cases := gemmCases()
		rng := testrand.New(1<<8 | uint64(tier))
		n := 0
		for ki, k := range gemmKs {
			full := k <= 33 && k != 17 && k != 31 && k != 32
			for mr := 0; mr <= kern.MR; mr++ {
				for nr := 0; nr <= kern.NR; nr++ {
					ldc := nr + 1 + (ki+mr)%3*kern.NR
					if (mr+nr)%5 == 0 {
						ldc = max(nr, 1) // tight rows
					}
					if full {
						for _, g := range cases {
							runGemmCase(t, rng.Signed, kern, k, mr, nr, ldc, g)
							n++
						}
					} else {
						runGemmCase(t, rng.Signed, kern, k, mr, nr, ldc, cases[(mr*31+nr*7+ki)%len(cases)])
						n++
					}
				}
			}
		}
		t.Logf("%s: %d tiles checked", kern.Name, n)
	})
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
	forEachTier(t, func(t *testing.T, tier Tier) {
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
	})
}

func TestGemmTierAllocs(t *testing.T) {
	forEachTier(t, func(t *testing.T, tier Tier) {
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
	})
}

// FuzzGemmTile runs one tile, shaped and filled by the fuzzer, through
// every available tier's tester (runGemmCase).
func FuzzGemmTile(f *testing.F) {
	f.Add(uint8(5), uint8(7), uint8(9), uint8(0), []byte{1, 2, 3, 250, 128, 127})
	f.Add(uint8(255), uint8(255), uint8(64), uint8(0xff), []byte{0x80})
	f.Add(uint8(1), uint8(1), uint8(1), uint8(0x15), []byte{7})
	f.Fuzz(func(t *testing.T, mr8, nr8, k8, flags uint8, data []byte) {
		cases := gemmCases()
		g := cases[int(flags)%len(cases)]
		for _, tier := range Available() {
			kern := Gemm(tier)
			mr := int(mr8) % (kern.MR + 1)
			nr := int(nr8) % (kern.NR + 1)
			k := 1 + int(k8)%300
			ldc := max(nr+int(flags>>5), 1)
			runGemmCase(t, fuzzSource(append([]byte{flags}, data...)), kern, k, mr, nr, ldc, g)
		}
	})
}
