package kernels

import (
	"fmt"
	"math"
	"os"
	"strconv"
	"testing"

	"github.com/signet-go/signet/internal/testrand"
)

// Tests of the unary math kinds (unary.go): accuracy against float64 math
// over a sweep of float32 inputs, special values, and every tier against
// the Go twin.

// mathKinds is every kind of unary.go with typical parameters.
var mathKinds = []Act{
	{Kind: ActTanh}, {Kind: ActErf}, {Kind: ActGELU}, {Kind: ActSqrt}, {Kind: ActLog},
	{Kind: ActNeg}, {Kind: ActAbs}, {Kind: ActReciprocal},
	{Kind: ActPow, A: 2}, {Kind: ActPow, A: 0.5}, {Kind: ActPow, A: 1}, {Kind: ActPow, A: 3},
	{Kind: ActPow, A: -1}, {Kind: ActPow, A: 1.5}, {Kind: ActPow, A: 0}, {Kind: ActPow, A: -0.5},
}

// mathWant is the float64 value a kind approximates.
func mathWant(a Act, x float32) float64 {
	v := float64(x)
	switch a.Kind {
	case ActTanh:
		return math.Tanh(v)
	case ActErf:
		return math.Erf(v)
	case ActGELU:
		if v < 0 {
			return 0.5 * v * math.Erfc(-v/math.Sqrt2)
		}
		return 0.5 * v * (1 + math.Erf(v/math.Sqrt2))
	case ActSqrt:
		return math.Sqrt(v)
	case ActLog:
		return math.Log(v)
	case ActNeg:
		return -v
	case ActAbs:
		return math.Abs(v)
	case ActReciprocal:
		return 1 / v
	case ActPow:
		return math.Pow(v, float64(a.A))
	}
	panic("kind")
}

// mathULP is each approximate kind's bound in ulp (GELU's where x ≥ -2.5;
// geluBound has the rest); the others must equal float32(mathWant) exactly.
var mathULP = map[ActKind]float64{ActTanh: 1.6, ActErf: 1.1, ActGELU: 4, ActLog: 1.1}

// geluBound is GELU's bound at x < -2.5 (unary.go): in ulp down to -4√2,
// below that |GELU(x) - got| in units of 4.4e-8, with got = -0.
func geluBound(x float32) float64 {
	switch {
	case x >= -3.5:
		return 7
	case x >= -4.92:
		return 14
	case x >= geluZeroBelow:
		return 50
	}
	return 1
}

// geluZeroBelow is where GELU gives -0: x/√2 rounds to 4 or more (x ≤
// -4√2 within an ulp).
const geluZeroBelow = -5.6568

// mathErr is the error of got for x under kind a in the kind's unit, and
// its bound (0: exact).
func mathErr(a Act, x, got float32) (err, bound float64) {
	w := mathWant(a, x)
	if math.IsNaN(w) {
		if got == got {
			return math.Inf(1), 0
		}
		return 0, 0
	}
	b, approx := mathULP[a.Kind]
	if !approx {
		if !sameBits(got, float32(w)) {
			return math.Inf(1), 0
		}
		return 0, 0
	}
	if a.Kind == ActGELU && x < -2.5 {
		if x < geluZeroBelow {
			return math.Abs(float64(got)-w) / 4.4e-8, 1
		}
		return ulpErr(got, w), geluBound(x)
	}
	return ulpErr(got, w), b
}

func (a Act) mathName() string {
	names := map[ActKind]string{ActTanh: "tanh", ActErf: "erf", ActGELU: "gelu", ActSqrt: "sqrt", ActLog: "log",
		ActNeg: "neg", ActAbs: "abs", ActReciprocal: "reciprocal", ActPow: "pow"}
	if a.Kind == ActPow {
		return fmt.Sprintf("pow(%g)", a.A)
	}
	return names[a.Kind]
}

// TestUnaryAccuracy sweeps every 4099th float32 bit pattern (SIGNET_UNARY_SWEEP=N
// takes every Nth, 1 all 4.3 billion; SIGNET_UNARY_ONLY=gelu, say, only
// that kind) through each kind on every tier that
// has kernels of its own for it (the Go twin, and the SIMD erf and GELU)
// and checks the bounds stated in unary.go; the exact kinds are sampled.
func TestUnaryAccuracy(t *testing.T) {
	step := uint64(4099)
	if testing.Short() {
		step = 99991
	}
	if n, err := strconv.Atoi(os.Getenv("SIGNET_UNARY_SWEEP")); err == nil && n > 0 {
		step = uint64(n)
	}
	x := make([]float32, 1<<16)
	got := make([]float32, len(x))
	forEachTier(t, func(t *testing.T, tier Tier) {
		el := ElemFor(tier)
		only := os.Getenv("SIGNET_UNARY_ONLY") // a kind's name: sweep just it
		for _, a := range mathKinds {
			if tier != Generic && !mathAsmKind(a.Kind) || only != "" && a.mathName() != only {
				continue // the Go twin's code, or not asked for
			}
			var worst, worstTail float64
			var worstX, worstTailX float32
			_, approx := mathULP[a.Kind]
			st := step
			if !approx {
				st = 997 // exact kinds: a sample suffices
			}
			for k := uint64(0); k < 1<<32; {
				n := 0
				for ; n < len(x) && k < 1<<32; k += st {
					x[n] = math.Float32frombits(uint32(k))
					n++
				}
				el.Apply(a, got[:n], x[:n])
				for i, v := range x[:n] {
					e, bound := mathErr(a, v, got[i])
					if e > bound && bound == 0 {
						t.Fatalf("%v %s(%v) = %v, want %v", tier, a.mathName(), v, got[i], float32(mathWant(a, v)))
					}
					switch {
					case bound == 0:
					case a.Kind == ActGELU && v < -2.5:
						if e/bound > worstTail {
							worstTail, worstTailX = e/bound, v
						}
					case e/bound > worst:
						worst, worstX = e/bound, v
					}
				}
			}
			if a.Kind == ActGELU {
				t.Logf("%v gelu below -2.5: worst error %.3f of the bound (geluBound) at x=%v", tier, worstTail, worstTailX)
				worst = max(worst, worstTail)
			}
			if approx {
				t.Logf("%v %s: worst error %.3f of the bound (%v ulp) at x=%v", tier, a.mathName(), worst, mathULP[a.Kind], worstX)
				if worst > 1 {
					t.Errorf("%v %s: error %.3f× the bound at x=%v", tier, a.mathName(), worst, worstX)
				}
			}
		}
	})
}

func TestUnarySpecialValues(t *testing.T) {
	inf, nan, negz := float32(math.Inf(1)), float32(math.NaN()), float32(math.Copysign(0, -1))
	cases := []struct {
		a       Act
		x, want float32
	}{
		{Act{Kind: ActTanh}, inf, 1}, {Act{Kind: ActTanh}, -inf, -1}, {Act{Kind: ActTanh}, negz, negz}, {Act{Kind: ActTanh}, 20, 1},
		{Act{Kind: ActErf}, inf, 1}, {Act{Kind: ActErf}, -inf, -1}, {Act{Kind: ActErf}, negz, negz}, {Act{Kind: ActErf}, 5, 1},
		{Act{Kind: ActGELU}, inf, inf}, {Act{Kind: ActGELU}, -inf, nan}, {Act{Kind: ActGELU}, 0, 0}, {Act{Kind: ActGELU}, -10, negz},
		{Act{Kind: ActLog}, 0, -inf}, {Act{Kind: ActLog}, negz, -inf}, {Act{Kind: ActLog}, -1, nan}, {Act{Kind: ActLog}, inf, inf},
		{Act{Kind: ActLog}, 1, 0}, {Act{Kind: ActLog}, -inf, nan},
		{Act{Kind: ActSqrt}, negz, negz}, {Act{Kind: ActSqrt}, -1, nan}, {Act{Kind: ActSqrt}, inf, inf},
		{Act{Kind: ActReciprocal}, 0, inf}, {Act{Kind: ActReciprocal}, negz, -inf},
		{Act{Kind: ActAbs}, negz, 0}, {Act{Kind: ActAbs}, -inf, inf}, {Act{Kind: ActNeg}, 0, negz},
		{Act{Kind: ActPow, A: 0.5}, negz, 0}, {Act{Kind: ActPow, A: 0.5}, -inf, inf}, {Act{Kind: ActPow, A: 0.5}, -4, nan},
		{Act{Kind: ActPow, A: 2}, negz, 0}, {Act{Kind: ActPow, A: 2}, -inf, inf}, {Act{Kind: ActPow, A: 0}, nan, 1},
	}
	forEachTier(t, func(t *testing.T, tier Tier) {
		el := ElemFor(tier)
		for _, c := range cases {
			for _, x := range []float32{c.x, nan} {
				var got [1]float32
				el.Apply(c.a, got[:], []float32{x})
				want := c.want
				if x != x && !(c.a.Kind == ActPow && c.a.A == 0) {
					want = nan
				}
				if math.Float32bits(got[0]) != math.Float32bits(want) && !(got[0] != got[0] && want != want) {
					t.Errorf("%v %s(%v) = %v, want %v", tier, c.a.mathName(), x, got[0], want)
				}
				if s := c.a.Apply(x); math.Float32bits(s) != math.Float32bits(got[0]) && !(s != s && got[0] != got[0]) {
					t.Errorf("%v %s(%v): Apply gives %v, the slice %v", tier, c.a.mathName(), x, s, got[0])
				}
			}
		}
	})
}

// TestUnaryTiers: every tier gives the Go twin's bits, at every length and
// in place.
func TestUnaryTiers(t *testing.T) {
	r := testrand.New(4005)
	forEachTier(t, func(t *testing.T, tier Tier) {
		el := ElemFor(tier)
		for _, a := range mathKinds {
			for _, n := range actLengths() {
				x := actInputs(r, n)
				twin := make([]float32, n)
				unaryGeneric(a, twin, x)
				got, whole := guarded(n)
				el.Apply(a, got, x)
				checkGuards(t, whole, n)
				xs := append([]float32(nil), x...)
				el.Apply(a, x, x)
				for i := range got {
					if !sameBits(got[i], x[i]) {
						t.Fatalf("%v %s n=%d: [%d] = %v in place, %v not", tier, a.mathName(), n, i, x[i], got[i])
					}
					if tier == Generic || !mathAsmKind(a.Kind) {
						if !sameBits(got[i], twin[i]) {
							t.Fatalf("%v %s n=%d: [%d] = %v, Go twin %v", tier, a.mathName(), n, i, got[i], twin[i])
						}
						continue
					}
					// The SIMD kernels fuse multiply-adds: the bound, not the bits.
					if e, bound := mathErr(a, xs[i], got[i]); e > max(bound, 0) && !(bound > 0 && e <= bound) {
						t.Fatalf("%v %s(%v) = %v, Go twin %v (error %.3g, bound %v)", tier, a.mathName(), xs[i], got[i], twin[i], e, bound)
					}
				}
			}
		}
	})
}

// TestUnaryPositionIndependent: an element's bits do not depend on where
// it sits (vector body, mask or buffer tail), so any split over threads
// gives the same tensor.
func TestUnaryPositionIndependent(t *testing.T) {
	checkPositionIndependent(t, actInputs(testrand.New(3005), 200), mathKinds, sameBits, Act.mathName)
}

func sameBits(a, b float32) bool {
	return math.Float32bits(a) == math.Float32bits(b) || (a != a && b != b)
}

func BenchmarkUnary(b *testing.B) {
	r := testrand.New(5)
	x := make([]float32, 4096)
	for i := range x {
		x[i] = float32(r.NormFloat64() * 3)
		if i%2 == 0 {
			x[i] = float32(math.Abs(float64(x[i])))
		}
	}
	y := make([]float32, len(x))
	for _, a := range append([]Act{{Kind: ActExp}, {Kind: ActSigmoid}}, mathKinds...) {
		b.Run(a.mathName()+fmt.Sprint(a.A), func(b *testing.B) {
			b.SetBytes(int64(4 * len(x)))
			for i := 0; i < b.N; i++ {
				Elem{}.Apply(a, y, x)
			}
		})
	}
}

// BenchmarkPowSpecial compares the special-cased exponents 2 and 0.5 with
// the general float32(math.Pow) they equal bit for bit.
func BenchmarkPowSpecial(b *testing.B) {
	r := testrand.New(6)
	x := make([]float32, 4096)
	for i := range x {
		x[i] = float32(math.Abs(r.NormFloat64() * 3))
	}
	y := make([]float32, len(x))
	for _, p := range []float32{2, 0.5} {
		b.Run(fmt.Sprintf("special/%g", p), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				unaryGeneric(Act{Kind: ActPow, A: p}, y, x)
			}
		})
		b.Run(fmt.Sprintf("math.Pow/%g", p), func(b *testing.B) {
			pp := float64(p)
			for i := 0; i < b.N; i++ {
				for j, v := range x {
					y[j] = float32(math.Pow(float64(v), pp))
				}
			}
		})
	}
}
