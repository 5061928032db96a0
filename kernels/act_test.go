package kernels

import (
	"fmt"
	"math"
	"os"
	"strconv"
	"testing"

	"github.com/signet-go/signet/internal/testrand"
)

// Tests of the element-wise kernels: every tier this machine has against
// the Go twin (actGeneric, addGeneric, mulGeneric), over lengths straddling
// each vector width and unroll step, with guard bands, in place and not.

// actKinds is every activation the SIMD kernels implement, with typical
// parameters, plus the bare exponential.
var actKinds = []Act{
	{Kind: ActClamp, A: 0, B: float32(math.Inf(1))},
	{Kind: ActClamp, A: 0, B: 6},
	{Kind: ActClamp, A: -1.5, B: 2},
	{Kind: ActLeakyRelu, A: 0.01},
	{Kind: ActLeakyRelu, A: -0.5},
	{Kind: ActSigmoid},
	{Kind: ActHardSigmoid, A: 0.2, B: 0.5},
	{Kind: ActHardSigmoid, A: 1.0 / 6, B: 0.5},
	{Kind: ActHardSwish},
	{Kind: ActSiLU},
	{Kind: actExp},
	{Kind: ActNone},
}

func (a Act) String() string {
	names := map[ActKind]string{ActNone: "none", ActClamp: "clamp", ActLeakyRelu: "leakyrelu", ActSigmoid: "sigmoid",
		ActHardSigmoid: "hardsigmoid", ActHardSwish: "hardswish", ActSiLU: "silu", actExp: "exp"}
	return fmt.Sprintf("%s(%g,%g)", names[a.Kind], a.A, a.B)
}

// usesExp reports whether the kind goes through the vector exponential,
// whose bits differ from the Go twin's scalar one.
func usesExp(k ActKind) bool { return k == ActSigmoid || k == ActSiLU || k == actExp }

// Accuracy bounds in float32 ulp of the result against float64 math (see
// expf): the exponential of the SIMD tiers and of the Go twin, and sigmoid
// and SiLU built on either with one add and one divide (the exp's relative
// error passes through at most once, the add and the divide each round
// once: 4 ulp in the worst case, 2.48 measured over every float32 input
// with SIGNET_EXP_SWEEP=1).
const (
	expULP        = 1.0
	expGenericULP = 2.0
	sigmoidULP    = 3.0
)

// expBound is the ulp bound of an exp-based kind on a tier.
func expBound(tier Tier, k ActKind) float64 {
	switch {
	case k != actExp:
		return sigmoidULP
	case tier == Generic:
		return expGenericULP
	}
	return expULP
}

// ulpErr is |got - want| in units of the float32 ulp at want (a subnormal
// want counts in units of the smallest subnormal). ±Inf stands for ±2^128,
// the next step after the largest float32, so an overflow to Inf where
// the float32 rounding of want is MaxFloat32 counts as one ulp.
func ulpErr(got float32, want float64) float64 {
	if float32(want) == got {
		return 0
	}
	g := float64(got)
	if math.IsInf(g, 0) {
		g = math.Copysign(0x1p128, g)
	}
	if math.IsInf(want, 0) {
		want = math.Copysign(0x1p128, want)
	}
	_, e := math.Frexp(math.Abs(want))
	ulp := math.Ldexp(1, max(e-24, -149))
	return math.Abs(g-want) / ulp
}

// actWant is the float64 value an exp-based activation approximates. Where
// e^-x overflows float32 (x < -88.72) sigmoid and SiLU are documented to
// give ±0, as the Go twin and the GEMM epilogue do; the true magnitude
// there is below 1e-36.
func actWant(a Act, x float32) float64 {
	v := float64(x)
	if a.Kind == actExp {
		return math.Exp(v)
	}
	e := math.Exp(-v)
	if math.IsInf(float64(float32(e)), 1) {
		e = math.Inf(1)
	}
	if a.Kind == ActSigmoid {
		return 1 / (1 + e)
	}
	return v / (1 + e)
}

// sameVal treats every NaN as equal and +0 as -0 (max and min instructions
// differ from Go's builtins only in the sign they give a zero).
func sameVal(a, b float32) bool {
	return a == b || (a != a && b != b)
}

// checkAct compares one kernel output with the Go twin's.
func checkAct(t *testing.T, what string, tier Tier, a Act, x, got, twin []float32) {
	t.Helper()
	for i := range got {
		if !usesExp(a.Kind) {
			if !sameVal(got[i], twin[i]) {
				t.Fatalf("%s: f(%v) = %v, Go twin %v", what, x[i], got[i], twin[i])
			}
			continue
		}
		w := actWant(a, x[i])
		g := got[i]
		switch {
		case math.IsNaN(w) || math.IsNaN(float64(twin[i])):
			// NaN in (or SiLU(-Inf) = -Inf/Inf): both must say NaN.
			if g == g {
				t.Fatalf("%s: f(%v) = %v, want NaN", what, x[i], g)
			}
		default:
			if e, bound := ulpErr(g, w), expBound(tier, a.Kind); e > bound {
				t.Fatalf("%s: f(%v) = %v, want %v (%.2f ulp > %v)", what, x[i], g, w, e, bound)
			}
		}
	}
}

// actInputs returns n values: mostly moderate ones around the activations'
// bends, with special values sprinkled in at positions depending on n.
func actInputs(r testrand.Rand, n int) []float32 {
	specials := []float32{0, float32(math.Copysign(0, -1)), 1, -1, 3, -3, 6, -6,
		float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()), -float32(math.NaN()),
		88.72, 88.73, 89, 200, -87.33, -103.9, -104, -150, 1e-30, -1e-30, math.MaxFloat32, -math.MaxFloat32}
	x := make([]float32, n)
	for i := range x {
		if r.IntN(5) == 0 {
			x[i] = specials[r.IntN(len(specials))]
		} else {
			x[i] = float32(r.NormFloat64() * 8)
		}
	}
	return x
}

// actLengths straddles the AVX-512 tail mask (16), both unroll steps (32
// lanes on AVX-512, 16 on AVX2, 8 on NEON) and the tail buffers.
func actLengths() []int {
	var ls []int
	for n := 0; n <= 2*32+1; n++ {
		ls = append(ls, n)
	}
	return append(ls, 95, 96, 97, 1000, 4096+7)
}

func TestActTiersAgainstGoTwin(t *testing.T) {
	r := testrand.New(1002)
	forEachTier(t, func(t *testing.T, tier Tier) {
		el := ElemFor(tier)
		if el.Tier() != tier {
			t.Fatalf("ElemFor(%v) runs on %v", tier, el.Tier())
		}
		for _, a := range actKinds {
			for _, n := range actLengths() {
				x := actInputs(r, n)
				twin := make([]float32, n)
				actGeneric(a, twin, x)
				what := fmt.Sprintf("%v %v n=%d", tier, a, n)

				got, whole := guarded(n)
				el.Apply(a, got, x)
				checkGuards(t, whole, n)
				checkAct(t, what, tier, a, x, got, twin)

				inplace, whole := guarded(n)
				copy(inplace, x)
				el.Apply(a, inplace, inplace)
				checkGuards(t, whole, n)
				for i := range got {
					if math.Float32bits(inplace[i]) != math.Float32bits(got[i]) && !(got[i] != got[i] && inplace[i] != inplace[i]) {
						t.Fatalf("%s: in place [%d] = %v, out of place %v", what, i, inplace[i], got[i])
					}
				}
			}
		}
	})
}

// TestActPositionIndependent checks that an element's result does not
// depend on where it sits (vector body, tail mask or tail buffer): a
// tensor split differently over threads must give the same bits.
func TestActPositionIndependent(t *testing.T) {
	checkPositionIndependent(t, actInputs(testrand.New(3004), 200), actKinds,
		func(a, b float32) bool { return math.Float32bits(a) == math.Float32bits(b) },
		func(a Act) string { return fmt.Sprint(a) })
}

// checkPositionIndependent checks, on every tier, that each kind's result
// for an element of x is the same (same) whether x is done whole or in
// pieces of several lengths; name labels a kind in failures.
func checkPositionIndependent(t *testing.T, x []float32, kinds []Act, same func(a, b float32) bool, name func(Act) string) {
	forEachTier(t, func(t *testing.T, tier Tier) {
		el := ElemFor(tier)
		for _, a := range kinds {
			whole := make([]float32, len(x))
			el.Apply(a, whole, x)
			for _, cut := range []int{1, 3, 7, 9, 15, 17, 31, 33, 50} {
				part := make([]float32, len(x))
				for lo := 0; lo < len(x); lo += cut {
					hi := min(lo+cut, len(x))
					el.Apply(a, part[lo:hi], x[lo:hi])
				}
				for i := range whole {
					if !same(part[i], whole[i]) {
						t.Fatalf("%v %s: [%d] = %v in pieces of %d, %v whole", tier, name(a), i, part[i], cut, whole[i])
					}
				}
			}
		}
	})
}

// TestExpSpecialValues pins the exponential's documented behaviour at the
// edges on every tier (see expf).
func TestExpSpecialValues(t *testing.T) {
	inf := float32(math.Inf(1))
	cases := []struct{ x, want float32 }{
		{0, 1},
		{float32(math.Copysign(0, -1)), 1},
		{inf, inf},
		{-inf, 0},
		{89, inf},
		{88.73, inf},
		{math.MaxFloat32, inf},
		{-104, 0},
		{-1000, 0},
		{-math.MaxFloat32, 0},
	}
	forEachTier(t, func(t *testing.T, tier Tier) {
		el := ElemFor(tier)
		x := []float32{float32(math.NaN()), -float32(math.NaN())}
		for _, c := range cases {
			x = append(x, c.x)
		}
		got := make([]float32, len(x))
		expSlice(el, got, x)
		for i := 0; i < 2; i++ {
			if got[i] == got[i] {
				t.Errorf("%v: exp(NaN) = %v", tier, got[i])
			}
		}
		for i, c := range cases {
			if g := got[i+2]; math.Float32bits(g) != math.Float32bits(c.want) {
				t.Errorf("%v: exp(%v) = %v, want %v", tier, c.x, g, c.want)
			}
		}
		// Gradual underflow: results below the normal range are rounded
		// subnormals, not flushed, as float32(math.Exp) gives.
		for _, x := range []float32{-87.5, -90, -95, -100, -103} {
			var g [1]float32
			expSlice(el, g[:], []float32{x})
			if e := ulpErr(g[0], math.Exp(float64(x))); e > expULP {
				t.Errorf("%v: exp(%v) = %v, want %v (%.2f ulp)", tier, x, g[0], math.Exp(float64(x)), e)
			}
		}
	})
}

// TestExpAccuracy sweeps float32 inputs over the whole range where e^x is
// neither 0 nor +Inf in float32 (every 1009th bit pattern, about 2.2
// million inputs; SIGNET_EXP_SWEEP=N in the environment takes every Nth,
// N=1 all 2.2 billion) on each tier and checks the error bound stated in
// expf, and the bounds of sigmoid and SiLU.
func TestExpAccuracy(t *testing.T) {
	if testing.Short() {
		t.Skip("sweep")
	}
	step := uint32(1009)
	if n, err := strconv.Atoi(os.Getenv("SIGNET_EXP_SWEEP")); err == nil && n > 0 {
		step = uint32(n)
	}
	// Input k: the bit patterns from -104 up through -0, then +0 up
	// through 89, generated a buffer at a time.
	nneg := uint64(math.Float32bits(-104)) - 0x80000000 + 1
	total := nneg + uint64(math.Float32bits(89)) + 1
	input := func(k uint64) float32 {
		if k < nneg {
			return math.Float32frombits(math.Float32bits(-104) - uint32(k))
		}
		return math.Float32frombits(uint32(k - nneg))
	}
	x := make([]float32, 1<<16)
	got := make([]float32, len(x))
	forEachTier(t, func(t *testing.T, tier Tier) {
		el := ElemFor(tier)
		for _, a := range []Act{{Kind: actExp}, {Kind: ActSigmoid}, {Kind: ActSiLU}} {
			var worst float64
			var worstX float32
			count := 0
			for k := uint64(0); k < total; {
				n := 0
				for ; n < len(x) && k < total; k += uint64(step) {
					x[n] = input(k)
					n++
				}
				count += n
				el.Apply(a, got[:n], x[:n])
				for i, v := range x[:n] {
					if e := ulpErr(got[i], actWant(a, v)); e > worst {
						worst, worstX = e, v
					}
				}
			}
			bound := expBound(tier, a.Kind)
			t.Logf("%v %v: max error %.3f ulp at x=%v over %d inputs", tier, a, worst, worstX, count)
			if worst > bound {
				t.Errorf("%v %v: max error %.3f ulp at x=%v, bound %v", tier, a, worst, worstX, bound)
			}
		}
	})
}

// TestAsmTiersAgreeBitwise: the exponential is one algorithm with fused
// steps in the same order on every SIMD tier, so AVX2 and AVX-512 (and NEON,
// by construction) give identical bits.
func TestAsmTiersAgreeBitwise(t *testing.T) {
	var simd []Tier
	for _, tier := range Available() {
		if tier != Generic {
			simd = append(simd, tier)
		}
	}
	if len(simd) < 2 {
		t.Skipf("tiers %v: nothing to compare", Available())
	}
	r := testrand.New(5006)
	x := actInputs(r, 1<<14)
	for i := range x[:1<<13] {
		x[i] = float32(r.Float64()*200 - 105)
	}
	for _, a := range actKinds {
		var ref []float32
		for _, tier := range simd {
			got := make([]float32, len(x))
			ElemFor(tier).Apply(a, got, x)
			if ref == nil {
				ref = got
				continue
			}
			for i := range got {
				if math.Float32bits(got[i]) != math.Float32bits(ref[i]) && !(got[i] != got[i] && ref[i] != ref[i]) {
					t.Fatalf("%v: %v gives %v for %v, %v gives %v", a, tier, got[i], x[i], simd[0], ref[i])
				}
			}
		}
	}
}

func TestActNaNBoundClamp(t *testing.T) {
	nan := float32(math.NaN())
	forEachTier(t, func(t *testing.T, tier Tier) {
		el := ElemFor(tier)
		for _, a := range []Act{{Kind: ActClamp, A: nan, B: 6}, {Kind: ActClamp, A: 0, B: nan}} {
			got := make([]float32, 20)
			x := make([]float32, 20)
			for i := range x {
				x[i] = float32(i) - 10
			}
			el.Apply(a, got, x)
			for i := range got {
				if got[i] == got[i] {
					t.Fatalf("%v %v: [%d] = %v, Go's min/max give NaN", tier, a, i, got[i])
				}
			}
		}
	})
}

func TestElemBinaryTiers(t *testing.T) {
	r := testrand.New(7008)
	ops := []struct {
		name string
		fn   func(e Elem, dst, a, b []float32)
		twin func(dst, a, b []float32)
	}{{"add", Elem.Add, addGeneric}, {"mul", Elem.Mul, mulGeneric}, {"max", Elem.Max, maxGeneric}}
	var lengths []int
	for n := 0; n <= 2*64+1; n++ {
		lengths = append(lengths, n)
	}
	lengths = append(lengths, 1000, 4096+9)
	forEachTier(t, func(t *testing.T, tier Tier) {
		el := ElemFor(tier)
		for _, op := range ops {
			for _, n := range lengths {
				a, b := actInputs(r, n), actInputs(r, n)
				want := make([]float32, n)
				op.twin(want, a, b)
				what := fmt.Sprintf("%v %s n=%d", tier, op.name, n)
				same := func(got []float32) {
					t.Helper()
					for i := range want {
						if math.Float32bits(got[i]) != math.Float32bits(want[i]) && !(got[i] != got[i] && want[i] != want[i]) {
							t.Fatalf("%s: [%d] %v, %v → %v, want %v", what, i, a[i], b[i], got[i], want[i])
						}
					}
				}
				got, whole := guarded(n)
				op.fn(el, got, a, b)
				checkGuards(t, whole, n)
				same(got)
				// dst aliasing either operand.
				for _, first := range []bool{true, false} {
					dst, whole := guarded(n)
					if first {
						copy(dst, a)
						op.fn(el, dst, dst, b)
					} else {
						copy(dst, b)
						op.fn(el, dst, a, dst)
					}
					checkGuards(t, whole, n)
					same(dst)
				}
			}
		}
	})
}

// TestElemMaxSpecials: every tier's Max against Go's max bit for bit on
// every pairing of NaNs (two payloads), signed zeros, infinities, equal and
// ordinary values, at every lane of a vector and in the scalar tail; a NaN
// result must be a NaN (its payload is Go's compiler's choice, as for every
// float kernel here).
func TestElemMaxSpecials(t *testing.T) {
	nan1, nan2 := math.Float32frombits(0x7fc00001), math.Float32frombits(0xffc00002)
	negZero := math.Float32frombits(0x80000000)
	vals := []float32{nan1, nan2, 0, negZero, float32(math.Inf(1)), float32(math.Inf(-1)), 1, -1, 2.5, 1e-40, -1e-40}
	var a, b []float32
	for _, x := range vals {
		for _, y := range vals {
			a, b = append(a, x), append(b, y)
		}
	}
	forEachTier(t, func(t *testing.T, tier Tier) {
		el := ElemFor(tier)
		// Rotations put each pair in every lane and in the tail.
		for rot := 0; rot < 17; rot++ {
			ra, rb := append(a[rot:], a[:rot]...), append(b[rot:], b[:rot]...)
			got, whole := guarded(len(ra))
			el.Max(got, ra, rb)
			checkGuards(t, whole, len(ra))
			for i := range ra {
				want := max(ra[i], rb[i])
				if want != want && got[i] != got[i] {
					continue
				}
				if math.Float32bits(got[i]) != math.Float32bits(want) {
					t.Fatalf("%v rot %d: max(%#x, %#x) = %#x, Go's max %#x", tier, rot,
						math.Float32bits(ra[i]), math.Float32bits(rb[i]), math.Float32bits(got[i]), math.Float32bits(want))
				}
			}
		}
	})
}

// FuzzActTiers runs fuzzer-chosen values (any float32 bit patterns)
// through every tier's kernels and compares with the Go twin under the
// same rules as TestActTiersAgainstGoTwin.
func FuzzActTiers(f *testing.F) {
	f.Add(uint8(6), float32(0), float32(0), []byte{0, 0, 0x80, 0x7f, 0, 0, 0x80, 0xff, 1, 2, 3, 4})
	f.Add(uint8(3), float32(0), float32(0), []byte{0xb0, 0x42, 0xb2, 0x42, 0xd0, 0xc2, 0, 0})
	f.Add(uint8(1), float32(-1), float32(2), []byte{0, 0, 0xc0, 0x7f})
	f.Add(uint8(4), float32(0.2), float32(0.5), []byte{1, 2, 3, 4, 5, 6, 7, 8, 9})
	f.Fuzz(func(t *testing.T, kind uint8, pa, pb float32, data []byte) {
		a := Act{Kind: ActKind(kind % 8), A: pa, B: pb}
		x := make([]float32, len(data)/4)
		for i := range x {
			x[i] = math.Float32frombits(uint32(data[4*i]) | uint32(data[4*i+1])<<8 | uint32(data[4*i+2])<<16 | uint32(data[4*i+3])<<24)
		}
		twin := make([]float32, len(x))
		actGeneric(a, twin, x)
		for _, tier := range Available() {
			got, whole := guarded(len(x))
			ElemFor(tier).Apply(a, got, x)
			checkGuards(t, whole, len(x))
			checkAct(t, fmt.Sprintf("%v %v", tier, a), tier, a, x, got, twin)
		}
		sum := make([]float32, len(x))
		prod := make([]float32, len(x))
		addGeneric(sum, x, twin)
		mulGeneric(prod, x, twin)
		for _, tier := range Available() {
			el := ElemFor(tier)
			gs, gp := make([]float32, len(x)), make([]float32, len(x))
			el.Add(gs, x, twin)
			el.Mul(gp, x, twin)
			for i := range x {
				if math.Float32bits(gs[i]) != math.Float32bits(sum[i]) && gs[i] == gs[i] ||
					math.Float32bits(gp[i]) != math.Float32bits(prod[i]) && gp[i] == gp[i] {
					t.Fatalf("%v: add/mul [%d] differ from the Go loop", tier, i)
				}
			}
		}
	})
}

func BenchmarkAct(b *testing.B) {
	const n = 16384
	r := testrand.New(9010)
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(r.NormFloat64() * 4)
	}
	y := make([]float32, n)
	for _, tier := range Available() {
		for _, a := range []Act{{Kind: ActSiLU}, {Kind: ActSigmoid}, {Kind: ActHardSwish}, {Kind: ActClamp, A: 0, B: 6}, {Kind: ActLeakyRelu, A: 0.1}, {Kind: ActHardSigmoid, A: 0.2, B: 0.5}} {
			benchElem(b, fmt.Sprintf("%v/%v", tier, a), tier, n, func(el Elem) { el.Apply(a, y, x) })
		}
	}
}

func BenchmarkElemBinary(b *testing.B) {
	const n = 16384
	r := testrand.New(11012)
	x, z := actInputs(r, n), actInputs(r, n)
	y := make([]float32, n)
	for _, tier := range Available() {
		benchElem(b, tier.String()+"/add", tier, n, func(el Elem) { el.Add(y, x, z) })
	}
}

// benchElem runs op, an element-wise kernel call over n elements on tier's
// Elem, as sub-benchmark name and reports its CPU time per element.
func benchElem(b *testing.B, name string, tier Tier, n int, op func(el Elem)) {
	b.Run(name, func(b *testing.B) {
		el := ElemFor(tier)
		b.SetBytes(int64(4 * n))
		cpu := startCPUTimer(b)
		for b.Loop() {
			op(el)
		}
		b.ReportMetric(cpu()*1e9/float64(b.N)/float64(n), "cpu-ns/elem")
	})
}
