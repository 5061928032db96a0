package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// Tests of Pad, Softmax, LayerNorm and ReduceSum/Max/Min against plain
// float64 loops.

// padWant is output element o (multi-index) of a pad, by the definition.
func padWant(x []float32, in, begin []int, mode PadMode, value float32, o []int) float32 {
	j := 0
	st := 1
	for d := len(in) - 1; d >= 0; d-- {
		s := o[d] - begin[d]
		n := in[d]
		if s < 0 || s >= n {
			switch mode {
			case PadConstant:
				return value
			case PadEdge:
				s = min(max(s, 0), n-1)
			case PadReflect:
				// Reflect step by step, as numpy.pad does.
				for s < 0 || s >= n {
					if n == 1 {
						s = 0
						break
					}
					if s < 0 {
						s = -s
					} else {
						s = 2*(n-1) - s
					}
				}
			}
		}
		j += s * st
		st *= n
	}
	return x[j]
}

func TestPad(t *testing.T) {
	r := rand.New(rand.NewPCG(31, 32))
	cases := []struct{ in, begin, end []int }{
		{[]int{5}, []int{2}, []int{3}},
		{[]int{1, 3, 4, 5}, []int{0, 0, 1, 2}, []int{0, 0, 1, 2}},          // NCHW spatial
		{[]int{1, 4, 5, 3}, []int{0, 1, 2, 0}, []int{0, 1, 2, 0}},          // NHWC spatial: rows of C
		{[]int{2, 3, 4}, []int{1, 0, -1}, []int{0, 2, 1}},                  // crop and pad
		{[]int{1, 2, 3, 3}, []int{0, 1, 5, 7}, []int{0, 0, 4, 6}},          // reflect past the input
		{[]int{2, 1, 3}, []int{0, 2, 0}, []int{1, 1, 0}},                   // one-element dim
		{[]int{1, 1, 2, 2}, []int{0, 0, 0, 0}, []int{0, 0, 0, 0}},          // nothing
		{[]int{3, 4}, []int{0, -2}, []int{0, -1}},                          // crop only
		{[]int{1, 2, 2, 8}, []int{0, 0, 0, 0}, []int{0, 0, 0, 0}},          // merges to one row
		{[]int{2, 3, 2, 2, 2}, []int{0, 1, 0, 1, 0}, []int{1, 0, 0, 0, 1}}, // rank 5
	}
	for _, c := range cases {
		for _, mode := range []PadMode{PadConstant, PadEdge, PadReflect} {
			out := make([]int, len(c.in))
			for d := range out {
				out[d] = c.in[d] + c.begin[d] + c.end[d]
			}
			x := loopFloats(r, prodInts(c.in))
			p, ok := NewPadParams(out, c.in, c.begin, mode, 2.5)
			if !ok {
				t.Fatalf("%v: NewPadParams refused", c)
			}
			y, check := loopGuarded(prodInts(out))
			rows := p.Rows()
			PadRows(&p, x, y, 0, rows/2)
			PadRows(&p, x, y, rows/2, rows)
			check(t)
			o := make([]int, len(out))
			for i := range y {
				if want := padWant(x, c.in, c.begin, mode, 2.5, o); y[i] != want {
					t.Fatalf("%v mode %d: y%v = %v, want %v", c, mode, o, y[i], want)
				}
				for d := len(o) - 1; d >= 0; d-- {
					if o[d]++; o[d] < out[d] {
						break
					}
					o[d] = 0
				}
			}
		}
	}
	if _, ok := NewPadParams([]int{2}, []int{2, 2}, []int{0}, PadConstant, 0); ok {
		t.Error("NewPadParams accepted ranks that differ")
	}
}

func prodInts(s []int) int {
	n := 1
	for _, d := range s {
		n *= d
	}
	return n
}

// normShape draws the shape of accuracy test it: n ≤ 1000 elements along
// the normalised axis, and every fourth test a strided one (inner > 1).
func normShape(r *rand.Rand, it int) (n, inner int) {
	n, inner = 1+r.IntN(1000), 1
	if it%4 == 3 {
		inner = 1 + r.IntN(9)
		n = 1 + r.IntN(200)
	}
	return n, inner
}

// TestSoftmaxAccuracy measures every tier's Softmax against the float64
// loop, in ulps of the float64 answer (see Softmax's doc).
func TestSoftmaxAccuracy(t *testing.T) {
	forEachTier(t, func(t *testing.T, tier Tier) {
		el := ElemFor(tier)
		r := rand.New(rand.NewPCG(41, 42))
		var worst [2]float64
		for it := 0; it < 2000; it++ {
			n, inner := normShape(r, it)
			if it%100 == 0 {
				n = 1000
			}
			scale := []float32{1, 5, 20}[it%3]
			x := loopFloats(r, n*inner)
			for i := range x {
				x[i] *= scale
			}
			y, check := loopGuarded(n * inner)
			el.Softmax(x, y, n, inner, make([]float32, 3*inner))
			check(t)
			want := softmaxF64(x, n, inner)
			w := &worst[min(inner-1, 1)]
			for i := range y {
				*w = max(*w, ulpErr(y[i], want[i]))
			}
		}
		t.Logf("tier %v: worst %.2f ulp (inner 1), %.2f ulp (inner > 1)", tier, worst[0], worst[1])
		if worst[0] > 4 || worst[1] > 4 {
			t.Errorf("worst %.2f / %.2f ulp, bound 4", worst[0], worst[1])
		}
		// Large values: no overflow; NaN and -Inf as documented.
		y := make([]float32, 3)
		el.Softmax([]float32{1000, 1001, 999}, y, 3, 1, nil)
		if d := math.Abs(float64(y[1]) - 0.66524096); d > 1e-6 {
			t.Errorf("softmax of large values = %v", y)
		}
		el.Softmax([]float32{1, float32(math.NaN()), 2}, y, 3, 1, nil)
		for _, v := range y {
			if v == v {
				t.Errorf("softmax with a NaN = %v", y)
			}
		}
		ninf := float32(math.Inf(-1))
		el.Softmax([]float32{ninf, 0, ninf}, y, 3, 1, nil)
		if y[0] != 0 || y[1] != 1 || y[2] != 0 {
			t.Errorf("softmax with -Inf = %v", y)
		}
		y2 := make([]float32, 4)
		el.Softmax([]float32{1, float32(math.NaN()), 3, 0}, y2, 2, 2, make([]float32, 6))
		if y2[0] != y2[0] || y2[1] == y2[1] || y2[3] == y2[3] {
			t.Errorf("strided softmax with a NaN = %v", y2)
		}
	})
}

func softmaxF64(x []float32, n, inner int) []float64 {
	y := make([]float64, n*inner)
	for j := 0; j < inner; j++ {
		m := math.Inf(-1)
		for k := 0; k < n; k++ {
			m = math.Max(m, float64(x[k*inner+j]))
		}
		var s float64
		for k := 0; k < n; k++ {
			y[k*inner+j] = math.Exp(float64(x[k*inner+j]) - m)
			s += y[k*inner+j]
		}
		for k := 0; k < n; k++ {
			y[k*inner+j] /= s
		}
	}
	return y
}

// TestLayerNormAccuracy measures LayerNorm against the float64 loop.
func TestLayerNormAccuracy(t *testing.T) {
	r := rand.New(rand.NewPCG(51, 52))
	var worst, worstStat float64
	for it := 0; it < 3000; it++ {
		n, inner := normShape(r, it)
		x := loopFloats(r, n*inner)
		offset := []float32{0, 1, 100, 1e4}[it%4]
		for i := range x {
			x[i] += offset
		}
		var scale, bias []float32
		if it%3 != 0 {
			scale = loopFloats(r, n)
		}
		if it%3 == 1 || it%5 == 0 {
			bias = loopFloats(r, n)
		}
		eps := float32(1e-5)
		y, check := loopGuarded(n * inner)
		mean, rstd := make([]float32, inner), make([]float32, inner)
		LayerNorm(x, y, n, inner, scale, bias, eps, mean, rstd)
		check(t)
		for j := 0; j < inner; j++ {
			var s float64
			for k := 0; k < n; k++ {
				s += float64(x[k*inner+j])
			}
			mu := s / float64(n)
			var q float64
			for k := 0; k < n; k++ {
				d := float64(x[k*inner+j]) - mu
				q += d * d
			}
			rs := 1 / math.Sqrt(q/float64(n)+float64(eps))
			worstStat = max(worstStat, ulpErr(mean[j], mu), ulpErr(rstd[j], rs))
			for k := 0; k < n; k++ {
				want := (float64(x[k*inner+j]) - mu) * rs
				if scale != nil {
					want *= float64(scale[k])
				}
				if bias != nil {
					want += float64(bias[k])
				}
				worst = max(worst, ulpErr(y[k*inner+j], want))
			}
		}
	}
	t.Logf("worst %.3f ulp (outputs), %.3f ulp (mean, 1/std)", worst, worstStat)
	if worst > 1 || worstStat > 1 {
		t.Errorf("worst %.3f / %.3f ulp, bound 1", worst, worstStat)
	}
	// In place, without parameters or statistics.
	x := []float32{1, 2, 3}
	LayerNorm(x, x, 3, 1, nil, nil, 0, nil, nil)
	if math.Abs(float64(x[0])+1.2247449) > 1e-6 || x[1] != 0 {
		t.Errorf("in place = %v", x)
	}
}

func TestReduceExt(t *testing.T) {
	forReduceMasks(rand.New(rand.NewPCG(61, 62)), func(mask int, x []float32, inner, outer Strided) {
		for i := 0; i < outer.Len(); i++ {
			base := outer.Offset(i)
			var sum float64
			hi, lo := math.Inf(-1), math.Inf(1)
			for j := 0; j < inner.Len(); j++ {
				v := float64(x[base+inner.Offset(j)])
				sum += v
				hi, lo = math.Max(hi, v), math.Min(lo, v)
			}
			if got := ReduceSum(x, base, &inner); !loopClose(got, sum) {
				t.Fatalf("mask %b output %d: sum %v, want %v", mask, i, got, sum)
			}
			if got := ReduceMax(x, base, &inner); float64(got) != hi {
				t.Fatalf("mask %b output %d: max %v, want %v", mask, i, got, hi)
			}
			if got := ReduceMin(x, base, &inner); float64(got) != lo {
				t.Fatalf("mask %b output %d: min %v, want %v", mask, i, got, lo)
			}
		}
	})
	nan := float32(math.NaN())
	s := NewStrided([]int{3}, []int{1})
	for _, v := range [][]float32{{nan, 1, 2}, {1, nan, 2}, {1, 2, nan}} {
		if m := ReduceMax(v, 0, &s); m == m {
			t.Errorf("ReduceMax(%v) = %v", v, m)
		}
		if m := ReduceMin(v, 0, &s); m == m {
			t.Errorf("ReduceMin(%v) = %v", v, m)
		}
	}
}
