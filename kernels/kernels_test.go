package kernels

import (
	"fmt"
	"math"
	"testing"

	"github.com/signet-go/signet/internal/testrand"
)

func naiveGemm(M, N, K int, a, b, bias []float32, epi *Epilogue) ([]float32, []float64) {
	c := make([]float32, M*N)
	mag := make([]float64, M*N)
	for i := 0; i < M; i++ {
		for j := 0; j < N; j++ {
			var s float64
			var m float64
			for p := 0; p < K; p++ {
				s += float64(a[i*K+p]) * float64(b[p*N+j])
				m += math.Abs(float64(a[i*K+p]) * float64(b[p*N+j]))
			}
			if bias != nil {
				s += float64(bias[j])
			}
			c[i*N+j] = epi.Apply(float32(s))
			mag[i*N+j] = m
		}
	}
	return c, mag
}

// TestGemmDriver runs GemmRange one M tile at a time (one task per panel)
// against a float64 GEMM.
func TestGemmDriver(t *testing.T) {
	forEachTier(t, func(t *testing.T, tier Tier) {
		r := testrand.New(2<<8 | uint64(tier))
		mk := Gemm(tier)
		MR, NR := mk.MR, mk.NR
		for _, K := range []int{1, 3, 8, 17} {
			for _, kc := range []int{0, 5} {
				for M := 0; M <= 2*MR+1; M++ {
					for N := 1; N <= 2*NR+1; N++ {
						a := r.Floats(M * K)
						b := r.Floats(K * N)
						bias := r.Floats(N)
						epi := Epilogue{Kind: EpiClamp, Lo: -0.5, Hi: 0.7}
						want, mag := naiveGemm(M, N, K, a, b, bias, &epi)
						op := GemmOp{MK: mk, M: M, B: PackB(NR, K, N, b, N, false), Bias: bias, Epi: epi, KC: kc}
						got, whole := guarded(M * N)
						scratch := make([]float32, op.ScratchLen())
						np := op.B.Panels()
						for mt := 0; mt < op.Tiles(); mt++ {
							GemmRange(&op, DenseA{Data: a, LD: K}, got, N, np, mt*np, (mt+1)*np, scratch, Act{})
						}
						checkGuards(t, whole, M*N)
						for i := range want {
							if d := math.Abs(float64(got[i] - want[i])); d > tol(mag[i]) {
								t.Fatalf("%s M=%d N=%d K=%d kc=%d: c[%d]=%v want %v", mk.Name, M, N, K, kc, i, got[i], want[i])
							}
						}
					}
				}
			}
		}
	})
}

// GemmRange gives bit-identical results however its tasks are cut into
// ranges (the property that makes thread count irrelevant to the output).
func TestGemmRangeSplitInvariant(t *testing.T) {
	forEachTier(t, func(t *testing.T, tier Tier) {
		r := testrand.New(7<<8 | uint64(tier))
		mk := Gemm(tier)
		M, N, K := 3*mk.MR+1, 3*mk.NR+2, 37
		a := r.Floats(M * K)
		b := r.Floats(K * N)
		op := GemmOp{MK: mk, M: M, B: PackB(mk.NR, K, N, b, N, false), Bias: r.Floats(N), Epi: Identity(), KC: 16}
		post := Act{Kind: ActSigmoid}
		scratch := make([]float32, op.ScratchLen())
		for _, split := range []int{1, 2, 3} {
			tasks := op.Tiles() * split
			whole := make([]float32, M*N)
			GemmRange(&op, DenseA{Data: a, LD: K}, whole, N, split, 0, tasks, scratch, post)
			for _, cut := range []int{1, 2, 5} {
				got, g := guarded(M * N)
				for lo := 0; lo < tasks; lo += cut {
					GemmRange(&op, DenseA{Data: a, LD: K}, got, N, split, lo, min(tasks, lo+cut), scratch, post)
				}
				checkGuards(t, g, M*N)
				for i := range whole {
					if math.Float32bits(got[i]) != math.Float32bits(whole[i]) {
						t.Fatalf("%s split=%d cut=%d: c[%d]=%v, one range gave %v", mk.Name, split, cut, i, got[i], whole[i])
					}
				}
			}
			id := Identity()
			want, mag := naiveGemm(M, N, K, a, b, op.Bias, &id)
			for i := range want {
				w := post.Apply(want[i])
				if d := math.Abs(float64(whole[i] - w)); d > tol(mag[i]) {
					t.Fatalf("%s split=%d: c[%d]=%v want %v", mk.Name, split, i, whole[i], w)
				}
			}
		}
	})
}

func TestGemmTransposedOperands(t *testing.T) {
	r := testrand.New(3)
	mk := Gemm(Generic)
	M, N, K := 7, 13, 9
	a := r.Floats(M * K)
	b := r.Floats(K * N)
	at := make([]float32, K*M)
	bt := make([]float32, N*K)
	for i := 0; i < M; i++ {
		for p := 0; p < K; p++ {
			at[p*M+i] = a[i*K+p]
		}
	}
	for p := 0; p < K; p++ {
		for j := 0; j < N; j++ {
			bt[j*K+p] = b[p*N+j]
		}
	}
	id := Identity()
	want, mag := naiveGemm(M, N, K, a, b, nil, &id)
	op := GemmOp{MK: mk, M: M, B: PackB(mk.NR, K, N, bt, K, true), Epi: id}
	got := make([]float32, M*N)
	scratch := make([]float32, op.ScratchLen())
	np := op.B.Panels()
	for mt := 0; mt < op.Tiles(); mt++ {
		GemmRange(&op, DenseAT{Data: at, LD: M}, got, N, np, mt*np, (mt+1)*np, scratch, Act{})
	}
	for i := range want {
		if d := math.Abs(float64(got[i] - want[i])); d > tol(mag[i]) {
			t.Fatalf("c[%d]=%v want %v", i, got[i], want[i])
		}
	}
}

func nchwToNHWC(x []float32, n, c, h, w int) []float32 {
	y := make([]float32, len(x))
	for i := 0; i < n; i++ {
		for ch := 0; ch < c; ch++ {
			for p := 0; p < h*w; p++ {
				y[(i*h*w+p)*c+ch] = x[(i*c+ch)*h*w+p]
			}
		}
	}
	return y
}

func nhwcToNCHW(x []float32, n, c, h, w int) []float32 {
	y := make([]float32, len(x))
	for i := 0; i < n; i++ {
		for ch := 0; ch < c; ch++ {
			for p := 0; p < h*w; p++ {
				y[(i*c+ch)*h*w+p] = x[(i*h*w+p)*c+ch]
			}
		}
	}
	return y
}

func compareRel(t *testing.T, name string, got, want []float32, bound float64) {
	t.Helper()
	var maxRef float64
	for _, v := range want {
		maxRef = max(maxRef, math.Abs(float64(v)))
	}
	for i := range want {
		if d := math.Abs(float64(got[i] - want[i])); d > bound*(1+maxRef) || math.IsNaN(d) {
			t.Fatalf("%s: [%d]=%v want %v", name, i, got[i], want[i])
		}
	}
}

var convCases = []ConvParams{
	{N: 1, C: 3, H: 7, W: 9, K: 5, KH: 3, KW: 3, StrideH: 1, StrideW: 1, DilH: 1, DilW: 1, PadT: 1, PadL: 1, PadB: 1, PadR: 1, Group: 1},
	{N: 2, C: 8, H: 5, W: 5, K: 17, KH: 1, KW: 1, StrideH: 1, StrideW: 1, DilH: 1, DilW: 1, Group: 1},
	{N: 1, C: 8, H: 6, W: 7, K: 9, KH: 1, KW: 1, StrideH: 2, StrideW: 2, DilH: 1, DilW: 1, Group: 1},
	{N: 1, C: 6, H: 9, W: 8, K: 4, KH: 3, KW: 2, StrideH: 2, StrideW: 1, DilH: 2, DilW: 3, PadT: 0, PadL: 2, PadB: 3, PadR: 1, Group: 2},
	{N: 1, C: 12, H: 6, W: 6, K: 12, KH: 3, KW: 3, StrideH: 1, StrideW: 1, DilH: 1, DilW: 1, PadT: 1, PadL: 1, PadB: 1, PadR: 1, Group: 3},
	{N: 1, C: 4, H: 5, W: 5, K: 8, KH: 3, KW: 3, StrideH: 1, StrideW: 1, DilH: 1, DilW: 1, PadT: 1, PadL: 1, PadB: 1, PadR: 1, Group: 4},
	{N: 1, C: 3, H: 19, W: 17, K: 13, KH: 7, KW: 7, StrideH: 2, StrideW: 2, DilH: 1, DilW: 1, PadT: 3, PadL: 3, PadB: 3, PadR: 3, Group: 1},
	{N: 2, C: 5, H: 9, W: 11, K: 6, KH: 3, KW: 3, StrideH: 1, StrideW: 2, DilH: 2, DilW: 1, PadT: 2, PadL: 0, PadB: 1, PadR: 3, Group: 1},
	{N: 1, C: 40, H: 4, W: 3, K: 33, KH: 5, KW: 5, StrideH: 3, StrideW: 2, DilH: 1, DilW: 1, PadT: 2, PadL: 2, PadB: 2, PadR: 2, Group: 1},
}

func TestConvGemmAgainstRef(t *testing.T) {
	forEachTier(t, func(t *testing.T, tier Tier) {
		r := testrand.New(4<<8 | uint64(tier))
		mk := Gemm(tier)
		for ci, p := range convCases {
			if !p.Resolve() {
				t.Fatalf("case %d does not resolve", ci)
			}
			x := r.Floats(p.N * p.C * p.H * p.W)
			w := r.Floats(p.K * (p.C / p.Group) * p.KH * p.KW)
			bias := r.Floats(p.K)
			want := make([]float32, p.N*p.K*p.OH*p.OW)
			Conv2DRef(&p, x, w, bias, want)
			for _, act := range []Act{{}, {Kind: ActLeakyRelu, A: 0.1}, {Kind: ActClamp, A: 0, B: 6}} {
				for _, split := range []int{1, 3} {
					cv := NewConvGemm(p, mk, w, bias, act)
					cv.SetSplit(split)
					in := nchwToNHWC(x, p.N, p.C, p.H, p.W)
					out, whole := guarded(len(want))
					scratch := make([]float32, cv.ScratchLen())
					for task := 0; task < cv.Tasks(); task++ {
						cv.RunTask(task, in, out, scratch)
					}
					checkGuards(t, whole, len(want))
					wa := make([]float32, len(want))
					act.ApplySlice(wa, want)
					compareRel(t, fmt.Sprintf("%s conv case %d act %d split %d", mk.Name, ci, act.Kind, split), nhwcToNCHW(out, p.N, p.K, p.OH, p.OW), wa, 1e-5)
				}
			}
		}
	})
}

func TestPoolsAgainstRef(t *testing.T) {
	r := testrand.New(6)
	cases := []PoolParams{
		{N: 1, C: 3, H: 7, W: 7, KH: 3, KW: 3, StrideH: 2, StrideW: 2, DilH: 1, DilW: 1, PadT: 1, PadL: 1, PadB: 1, PadR: 1},
		{N: 2, C: 5, H: 6, W: 5, KH: 2, KW: 2, StrideH: 2, StrideW: 2, DilH: 1, DilW: 1, CeilMode: true},
		{N: 1, C: 4, H: 8, W: 9, KH: 3, KW: 2, StrideH: 2, StrideW: 3, DilH: 1, DilW: 1, PadT: 0, PadL: 1, PadB: 2, PadR: 0, CeilMode: true},
		{N: 1, C: 2, H: 9, W: 9, KH: 3, KW: 3, StrideH: 1, StrideW: 2, DilH: 2, DilW: 2, PadT: 2, PadL: 1, PadB: 1, PadR: 2},
		// SqueezeNet's pools: 3×3 stride 2, ceil mode, channels over a vector.
		{N: 1, C: 67, H: 13, W: 13, KH: 3, KW: 3, StrideH: 2, StrideW: 2, DilH: 1, DilW: 1, CeilMode: true},
	}
	for ci, p := range cases {
		if !p.Resolve() {
			t.Fatalf("case %d invalid", ci)
		}
		x := r.Floats(p.N * p.C * p.H * p.W)
		in := nchwToNHWC(x, p.N, p.C, p.H, p.W)
		n := p.N * p.C * p.OH * p.OW
		want := make([]float32, n)
		MaxPoolRef(&p, x, want)
		// Every tier, scratch and output guarded.
		forEachTier(t, func(t *testing.T, tier Tier) {
			out, whole := guarded(n)
			rows, rowsWhole := guarded(p.MaxPoolRowLen())
			for task := 0; task < p.N*p.OH; task++ {
				ElemFor(tier).MaxPoolRow(&p, task, in, out, rows)
			}
			checkGuards(t, whole, n)
			checkGuards(t, rowsWhole, p.MaxPoolRowLen())
			compareRel(t, fmt.Sprintf("%v two-pass maxpool %d", tier, ci), nhwcToNCHW(out, p.N, p.C, p.OH, p.OW), want, 0)
		})
		if p.DilH != 1 {
			continue
		}
		for _, cp := range []bool{false, true} {
			AvgPoolRef(&p, cp, x, want)
			out, whole := guarded(n)
			for task := 0; task < p.N*p.OH; task++ {
				AvgPoolRow(&p, cp, task, in, out)
			}
			checkGuards(t, whole, n)
			compareRel(t, fmt.Sprintf("avgpool %d countPad=%v", ci, cp), nhwcToNCHW(out, p.N, p.C, p.OH, p.OW), want, 1e-6)
		}
	}
	// Global average pooling, split over channel ranges.
	x := r.Floats(2 * 7 * 30)
	want := make([]float32, 2*7)
	GlobalAvgPoolRef(2, 7, 30, x, want)
	in := nchwToNHWC(x, 2, 7, 5, 6)
	got, whole := guarded(14)
	for n := 0; n < 2; n++ {
		GlobalAvgPoolNHWC(n, 30, 7, 0, 3, in, got)
		GlobalAvgPoolNHWC(n, 30, 7, 3, 7, in, got)
	}
	checkGuards(t, whole, 14)
	compareRel(t, "gap", got, want, 1e-6)
}

// TestMaxPoolAllPadding: a window that lies wholly in the padding (pads as
// large as the kernel) gives −Inf, as MaxPoolRef does, on every tier.
func TestMaxPoolAllPadding(t *testing.T) {
	p := PoolParams{N: 1, C: 9, H: 4, W: 4, KH: 2, KW: 2, StrideH: 1, StrideW: 1, DilH: 1, DilW: 1, PadT: 2, PadL: 2, PadB: 2, PadR: 2}
	if !p.Resolve() {
		t.Fatal("invalid")
	}
	x := testrand.New(8).Floats(p.H * p.W * p.C)
	in := nchwToNHWC(x, p.N, p.C, p.H, p.W)
	n := p.OH * p.OW * p.C
	want := make([]float32, n)
	MaxPoolRef(&p, x, want)
	if !math.IsInf(float64(want[0]), -1) {
		t.Fatalf("reference corner window: %v, want -Inf", want[0])
	}
	forEachTier(t, func(t *testing.T, tier Tier) {
		out := make([]float32, n)
		rows := make([]float32, p.MaxPoolRowLen())
		for task := 0; task < p.OH; task++ {
			ElemFor(tier).MaxPoolRow(&p, task, in, out, rows)
		}
		got := nhwcToNCHW(out, p.N, p.C, p.OH, p.OW)
		for i := range want {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
				t.Fatalf("%v [%d]: %v, reference %v", tier, i, got[i], want[i])
			}
		}
	})
}

func TestPoolCeilMode(t *testing.T) {
	// 5 wide, kernel 2, stride 2: floor gives 2, ceil gives 3.
	p := PoolParams{N: 1, C: 1, H: 5, W: 5, KH: 2, KW: 2, StrideH: 2, StrideW: 2, DilH: 1, DilW: 1}
	p.Resolve()
	if p.OH != 2 {
		t.Fatalf("floor OH=%d", p.OH)
	}
	p.CeilMode = true
	p.Resolve()
	if p.OH != 3 {
		t.Fatalf("ceil OH=%d", p.OH)
	}
	// A window that would start in the end padding is dropped.
	p = PoolParams{N: 1, C: 1, H: 4, W: 4, KH: 2, KW: 2, StrideH: 2, StrideW: 2, DilH: 1, DilW: 1, PadB: 1, PadR: 1, CeilMode: true}
	p.Resolve()
	if p.OH != 2 {
		t.Fatalf("ceil with pad OH=%d", p.OH)
	}
}

func BenchmarkGemmTile(b *testing.B) {
	for _, tier := range Available() {
		mk := Gemm(tier)
		M, N, K := 196, 256, 576
		r := testrand.New(1)
		a := r.Floats(M * K)
		w := r.Floats(K * N)
		op := GemmOp{MK: mk, M: M, B: PackB(mk.NR, K, N, w, N, false), Epi: Identity()}
		c := make([]float32, M*N)
		scratch := make([]float32, op.ScratchLen())
		np := op.B.Panels()
		b.Run(mk.Name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				GemmRange(&op, DenseA{Data: a, LD: K}, c, N, np, 0, op.Tiles()*np, scratch, Act{})
			}
			b.ReportMetric(2*float64(M*N*K)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

func TestExpf(t *testing.T) {
	check := func(x float32) {
		got := float64(expf(x))
		want := float64(float32(math.Exp(float64(x))))
		if math.IsNaN(want) != math.IsNaN(got) || (want != got && math.Abs(got-want) > 2.5e-7*want) {
			t.Fatalf("expf(%v) = %v, want %v (rel %g)", x, got, want, math.Abs(got-want)/want)
		}
	}
	for x := float32(-100); x <= 100; x += 0.0137 {
		check(x)
	}
	for _, x := range []float32{0, -0, 1e-30, -1e-30, 87.99, -86.99, 88, -87, 89, -104, float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN())} {
		check(x)
	}
}

func BenchmarkSiLU(b *testing.B) {
	x := testrand.New(1).Floats(4096)
	y := make([]float32, len(x))
	a := Act{Kind: ActSiLU}
	b.SetBytes(4 * 4096)
	for b.Loop() {
		a.ApplySlice(y, x)
	}
}

func TestActSliceMatchesApply(t *testing.T) {
	var xs []float32
	for x := float32(-120); x <= 120; x += 0.173 {
		xs = append(xs, x)
	}
	xs = append(xs, 0, float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()))
	for _, a := range []Act{{Kind: ActSigmoid}, {Kind: ActSiLU}, {Kind: ActHardSwish}, {Kind: ActHardSigmoid, A: 0.2, B: 0.5}, {Kind: ActLeakyRelu, A: 0.1}, {Kind: ActClamp, A: -1, B: 2}} {
		got := make([]float32, len(xs))
		a.ApplySlice(got, xs)
		for i, x := range xs {
			var want float64
			switch a.Kind {
			case ActSigmoid:
				want = 1 / (1 + math.Exp(-float64(x)))
			case ActSiLU:
				want = float64(x) / (1 + math.Exp(-float64(x)))
			default:
				want = float64(a.Apply(x))
			}
			g := float64(got[i])
			if math.IsInf(float64(x), -1) && a.Kind == ActSiLU {
				continue // -Inf·0: NaN in float64, either answer is acceptable
			}
			if math.IsNaN(want) != math.IsNaN(g) || (!math.IsNaN(want) && math.Abs(g-want) > 1e-6*(1+math.Abs(want))) {
				t.Fatalf("kind %d: f(%v) = %v, want %v", a.Kind, x, g, want)
			}
		}
	}
}
