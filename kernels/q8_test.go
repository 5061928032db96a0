package kernels

import (
	"math"
	"slices"
	"testing"

	"github.com/signet-go/signet/internal/testrand"
)

// guardedOf is guarded for any element type, the guard being g.
func guardedOf[T any](n int, g T) (inner, whole []T) {
	whole = make([]T, n+2*guardLen)
	for i := range whole {
		whole[i] = g
	}
	return whole[guardLen : guardLen+n : guardLen+n], whole
}

// checkGuardsOf is checkGuards for guardedOf, comparing with same.
func checkGuardsOf[T any](t *testing.T, whole []T, n int, g T, same func(a, b T) bool) {
	t.Helper()
	for i := range whole {
		if (i < guardLen || i >= guardLen+n) && !same(whole[i], g) {
			t.Fatalf("wrote element %d outside [0,%d)", i-guardLen, n)
		}
	}
}

const guard8 int8 = 0x5b

func sameInt8(a, b int8) bool       { return a == b }
func sameF32Bits(a, b float32) bool { return math.Float32bits(a) == math.Float32bits(b) }
func q8Lengths() []int              { return append(seq(0, 130), 255, 256, 1000, 4099) }
func seq(lo, hi int) (s []int) {
	for i := lo; i <= hi; i++ {
		s = append(s, i)
	}
	return s
}
func pick[T any](r testrand.Rand, s []T) T { return s[int(r.Uint32()%uint32(len(s)))] }

// q8Specials are quantizer inputs, in units of the scale, that the rounding
// and saturation must get right: halves, the clamp at ±512, the int8
// range's ends, and values past any.
var q8Specials = []float32{0, -0.0, 0.5, -0.5, 1.5, -1.5, 2.5, -2.5, 126.5, 127.5, -128.5, -127.5, 511.5, 512, 512.5, -512.5,
	1e30, -1e30, 0x1p-140}

// q8Floats is n quantizer inputs for scale: mostly random in ±200 scales,
// with specials, NaN, ±Inf and ±MaxFloat32 mixed in.
func q8Floats(r testrand.Rand, n int, scale float32) []float32 {
	inf := float32(math.Inf(1))
	odd := []float32{float32(math.NaN()), inf, -inf, math.MaxFloat32, -math.MaxFloat32}
	x := make([]float32, n)
	for i := range x {
		switch r.Uint32() % 8 {
		case 0:
			x[i] = pick(r, q8Specials) * scale
		case 1:
			x[i] = pick(r, odd)
		case 2:
			x[i] = float32(int32(r.Uint32()%512)-256) * 0.5 * scale // halves
		default:
			x[i] = r.Range(-200, 200) * scale
		}
	}
	return x
}

// runQ8Case checks every kernel of q against the Go loops on n elements,
// the outputs inside guard bands.
func runQ8Case(t *testing.T, r testrand.Rand, q Q8, n int) {
	t.Helper()
	scale := pick(r, []float32{1, 0.5, 0.0173, 3e-3, 7.25})
	zero := pick(r, []int8{-128, -3, 0, 5, 127})

	x := q8Floats(r, n, scale)
	got, whole := guardedOf(n, guard8)
	q.Quantize(got, x, scale, zero)
	checkGuardsOf(t, whole, n, guard8, sameInt8)
	want := make([]int8, n)
	q8QuantGeneric(want, x, scale, zero)
	if i := firstDiff(got, want, sameInt8); i >= 0 {
		t.Fatalf("%v Quantize n=%d scale=%v zero=%d: [%d] %v -> %d, Go %d", q.Tier(), n, scale, zero, i, x[i], got[i], want[i])
	}

	a, b := int8s(r, n), int8s(r, n)
	deq, fwhole := guarded(n)
	q.Dequantize(deq, a, scale, zero)
	checkGuards(t, fwhole, n)
	wantF := make([]float32, n)
	q8DequantGeneric(wantF, a, scale, zero)
	if i := firstDiff(deq, wantF, sameF32Bits); i >= 0 {
		t.Fatalf("%v Dequantize n=%d: [%d] %d -> %v, Go %v", q.Tier(), n, i, a[i], deq[i], wantF[i])
	}

	lo, hi := int8(r.Uint32()), int8(r.Uint32())
	p := QAddParams{ScaleA: r.Range(1e-3, 0.1), ScaleB: r.Range(1e-3, 0.1), ZeroA: int8(r.Uint32()), ZeroB: int8(r.Uint32()),
		Scale: r.Range(1e-3, 0.1), Out: QOut{ZeroPoint: int8(r.Uint32()), Lo: min(lo, hi), Hi: max(lo, hi)}}
	if r.Uint32()%2 == 0 {
		p.Out = QOutFull(p.Out.ZeroPoint)
	}
	got, whole = guardedOf(n, guard8)
	q.Add(got, a, b, &p)
	checkGuardsOf(t, whole, n, guard8, sameInt8)
	q8AddGeneric(want, a, b, &p)
	if i := firstDiff(got, want, sameInt8); i >= 0 {
		t.Fatalf("%v Add n=%d %+v: [%d] %d+%d -> %d, Go %d", q.Tier(), n, p, i, a[i], b[i], got[i], want[i])
	}
	inPlace := slices.Clone(a)
	q.Add(inPlace, inPlace, b, &p)
	if i := firstDiff(inPlace, want, sameInt8); i >= 0 {
		t.Fatalf("%v Add in place n=%d: [%d] %d, Go %d", q.Tier(), n, i, inPlace[i], want[i])
	}

	got, whole = guardedOf(n, guard8)
	copy(got, b)
	q.Max(got, a)
	checkGuardsOf(t, whole, n, guard8, sameInt8)
	copy(want, b)
	q8MaxGeneric(want, a)
	if i := firstDiff(got, want, sameInt8); i >= 0 {
		t.Fatalf("%v Max n=%d: [%d] %d, Go %d", q.Tier(), n, i, got[i], want[i])
	}
}

// firstDiff is the first index where got and want differ, or -1.
func firstDiff[T any](got, want []T, same func(a, b T) bool) int {
	for i := range want {
		if !same(got[i], want[i]) {
			return i
		}
	}
	return -1
}

func TestQ8Tiers(t *testing.T) {
	forEachTier(t, func(t *testing.T, tier Tier) {
		q := Q8For(tier)
		if q.Tier() != tier {
			t.Skipf("q8 has no %v kernels", tier)
		}
		r := testrand.New(11)
		for _, n := range q8Lengths() {
			for range 3 {
				runQ8Case(t, r, q, n)
			}
		}
	})
}

// TestQ8AllocatesNothing: the int8 element-wise calls run in every
// inference. Inlining here differs from the engine's steps, so the
// engine's TestQuantRunAllocatesNothing checks them again through whole
// models of each int8 step kind.
func TestQ8AllocatesNothing(t *testing.T) {
	forEachTier(t, func(t *testing.T, tier Tier) {
		q := Q8For(tier)
		if q.Tier() != tier {
			t.Skipf("q8 has no %v kernels", tier)
		}
		p := PoolParams{N: 1, C: 64, H: 8, W: 8, OH: 4, OW: 4, KH: 3, KW: 3, StrideH: 2, StrideW: 2, DilH: 1, DilW: 1, PadT: 1, PadL: 1, PadB: 1, PadR: 1}
		in, out := make([]int8, 8*8*64), make([]int8, 4*4*64)
		f, d := make([]float32, 100), make([]int8, 100)
		ap := QAddParams{ScaleA: 0.1, ScaleB: 0.2, Scale: 0.3, Out: QOut{Lo: -128, Hi: 127}}
		if n := testing.AllocsPerRun(20, func() {
			for r := range p.OH {
				q.MaxPoolRow(&p, r, in, out)
			}
			q.Quantize(d, f, 0.5, 3)
			q.Dequantize(f, d, 0.5, 3)
			q.Add(d, d, d, &ap)
			q.Max(d, d)
		}); n != 0 {
			t.Errorf("%v allocations per run, want 0", n)
		}
	})
}

// TestQuantizeInt8 pins the scalar quantizer on the cases QuantizeLinear
// spells out: ties to even, saturation, NaN to the zero point.
func TestQuantizeInt8(t *testing.T) {
	inf := float32(math.Inf(1))
	for _, c := range []struct {
		x, scale float32
		zero     int8
		want     int8
	}{
		{0.5, 1, 0, 0}, {1.5, 1, 0, 2}, {2.5, 1, 0, 2}, {-2.5, 1, 0, -2}, {-0.5, 1, 3, 3},
		{126.5, 1, 0, 126}, {127.5, 1, 0, 127}, {-128.5, 1, 0, -128}, {1e30, 1, 0, 127}, {-1e30, 1, 0, -128},
		{inf, 1, -5, 127}, {-inf, 1, 5, -128}, {float32(math.NaN()), 1, 7, 7}, {3, 2, 0, 2}, {100, 1, 100, 127},
	} {
		if got := QuantizeInt8(c.x, c.scale, c.zero); got != c.want {
			t.Errorf("QuantizeInt8(%v, %v, %d) = %d, want %d", c.x, c.scale, c.zero, got, c.want)
		}
	}
}

func FuzzQ8(f *testing.F) {
	f.Add([]byte{1, 2, 3, 128, 255, 0, 64}, uint8(3), int8(0))
	f.Add([]byte{}, uint8(0), int8(-128))
	f.Fuzz(func(t *testing.T, data []byte, scaleExp uint8, zero int8) {
		n := len(data)
		scale := float32(math.Ldexp(1.37, int(scaleExp%24)-16))
		x := fuzzVals(data, n)
		for i := range x {
			x[i] *= 300 * scale
		}
		a := make([]int8, n)
		for i, v := range data {
			a[i] = int8(v)
		}
		b := slices.Clone(a)
		slices.Reverse(b)
		p := QAddParams{ScaleA: scale, ScaleB: 0.7 * scale, ZeroA: zero, ZeroB: -zero / 2, Scale: 1.3 * scale, Out: QOutFull(zero)}
		want8, wantF := make([]int8, n), make([]float32, n)
		for _, tier := range Available() {
			q := Q8For(tier)
			got8, gotF := make([]int8, n), make([]float32, n)
			q8QuantGeneric(want8, x, scale, zero)
			q.Quantize(got8, x, scale, zero)
			if i := firstDiff(got8, want8, sameInt8); i >= 0 {
				t.Fatalf("%v Quantize: [%d] %v -> %d, Go %d", tier, i, x[i], got8[i], want8[i])
			}
			q8DequantGeneric(wantF, a, scale, zero)
			q.Dequantize(gotF, a, scale, zero)
			if i := firstDiff(gotF, wantF, sameF32Bits); i >= 0 {
				t.Fatalf("%v Dequantize: [%d]", tier, i)
			}
			q8AddGeneric(want8, a, b, &p)
			q.Add(got8, a, b, &p)
			if i := firstDiff(got8, want8, sameInt8); i >= 0 {
				t.Fatalf("%v Add: [%d] %d, Go %d", tier, i, got8[i], want8[i])
			}
			copy(want8, b)
			copy(got8, b)
			q8MaxGeneric(want8, a)
			q.Max(got8, a)
			if i := firstDiff(got8, want8, sameInt8); i >= 0 {
				t.Fatalf("%v Max: [%d]", tier, i)
			}
		}
	})
}
