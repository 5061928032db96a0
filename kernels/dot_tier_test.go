package kernels

import (
	"math"
	"testing"

	"github.com/signet-go/signet/internal/testrand"
)

// dotDims covers 0..2×(the widest unrolled stride: 4×16 lanes on AVX-512)+1
// densely, then the lengths around every 16 up to 257, so every tail length
// of every tier is hit.
func dotDims() []int {
	var d []int
	for i := 0; i <= 70; i++ {
		d = append(d, i)
	}
	for i := 71; i <= 257; i++ {
		if i%16 <= 1 || i%16 == 15 || i%7 == 0 {
			d = append(d, i)
		}
	}
	return append(d, 300, 512, 1000)
}

var dotNs = []int{0, 1, 2, 3, 7}

// runDotCase is the dot family's tester: one query against n rows on d,
// the output inside a guard band, each score within 1e-5·(1+Σ|q·r|) of a
// float64 sum.
func runDotCase(t *testing.T, r testrand.Rand, d Dot, dim, n int) {
	t.Helper()
	q, rows := r.Floats(dim), r.Floats(n*dim)
	out, whole := guarded(n)
	d.Rows(q, rows, dim, n, out)
	checkGuards(t, whole, n)
	for i := 0; i < n; i++ {
		var ref, mag float64
		for j := 0; j < dim; j++ {
			p := float64(q[j]) * float64(rows[i*dim+j])
			ref += p
			mag += math.Abs(p)
		}
		if diff := math.Abs(float64(out[i]) - ref); !(diff <= tol(mag)) {
			t.Fatalf("%v dim=%d n=%d: out[%d]=%v, want %v", d.Tier(), dim, n, i, out[i], ref)
		}
	}
}

func TestDotTiers(t *testing.T) {
	forEachTier(t, func(t *testing.T, tier Tier) {
		d := DotFor(tier)
		if d.Tier() != tier {
			t.Fatalf("DotFor(%v) runs on %v: the fast path would silently not be taken", tier, d.Tier())
		}
		r := testrand.New(5<<8 | uint64(tier))
		for _, dim := range dotDims() {
			for _, n := range dotNs {
				runDotCase(t, r, d, dim, n)
			}
		}
	})
}

// TestDotRowsIsBest: the package-level DotRows and the zero Dot run on Best.
func TestDotRowsIsBest(t *testing.T) {
	if got := (Dot{}).Tier(); got != Best() {
		t.Errorf("Dot{} runs on %v, best tier is %v", got, Best())
	}
	r := testrand.New(3)
	q, rows := r.Floats(77), r.Floats(5*77)
	got, want := make([]float32, 5), make([]float32, 5)
	DotRows(q, rows, 77, 5, got)
	DotFor(Best()).Rows(q, rows, 77, 5, want)
	for i := range want {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Fatalf("DotRows [%d] = %v, DotFor(Best()) %v", i, got[i], want[i])
		}
	}
}

func TestDotAllocs(t *testing.T) {
	q := make([]float32, 128)
	rows := make([]float32, 128*10)
	out := make([]float32, 10)
	forEachTier(t, func(t *testing.T, tier Tier) {
		d := DotFor(tier)
		if n := testing.AllocsPerRun(20, func() { d.Rows(q, rows, 128, 10, out) }); n != 0 {
			t.Errorf("%v: %v allocations", tier, n)
		}
	})
}

func TestDotShortSlicesPanic(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("DotRows accepted rows shorter than n*dim")
		}
	}()
	DotRows(make([]float32, 4), make([]float32, 7), 4, 2, make([]float32, 2))
}

// BenchmarkDotRows is one query against 1024 rows of 256, float32 (DotFor)
// and int8 (Dot8For), on every tier; bytes are those of the rows.
func BenchmarkDotRows(b *testing.B) {
	const dim, n = 256, 1024
	q, rows, out := make([]float32, dim), make([]float32, dim*n), make([]float32, n)
	q8, rows8, out8 := make([]int8, dim), make([]int8, dim*n), make([]int32, n)
	for _, tier := range Available() {
		d, d8 := DotFor(tier), Dot8For(tier)
		for _, c := range []struct {
			name  string
			bytes int64
			run   func()
		}{
			{"f32", dim * n * 4, func() { d.Rows(q, rows, dim, n, out) }},
			{"s8", dim * n, func() { d8.Rows(q8, rows8, dim, n, out8) }},
		} {
			b.Run(c.name+"/"+tier.String(), func(b *testing.B) {
				b.SetBytes(c.bytes)
				for i := 0; i < b.N; i++ {
					c.run()
				}
			})
		}
	}
}

// FuzzDotRows compares every available tier's dot product with the
// generic loop, within 1e-5·(1+Σ|q·r|).
func FuzzDotRows(f *testing.F) {
	f.Add(uint16(33), uint8(3), []byte{1, 255, 128, 127, 0, 9})
	f.Add(uint16(129), uint8(1), []byte{0x80})
	f.Fuzz(func(t *testing.T, dim16 uint16, n8 uint8, data []byte) {
		dim, n := int(dim16)%600, int(n8)%9
		q := fuzzVals(data, dim)
		rows := fuzzVals(append([]byte{n8}, data...), n*dim)
		want := make([]float32, n)
		dotRowsGeneric(q, rows, dim, n, want)
		for _, tier := range Available() {
			got := make([]float32, n)
			DotFor(tier).Rows(q, rows, dim, n, got)
			for i := 0; i < n; i++ {
				var mag float64
				for j := 0; j < dim; j++ {
					mag += math.Abs(float64(q[j] * rows[i*dim+j]))
				}
				if d := math.Abs(float64(got[i] - want[i])); !(d <= 1e-5*(1+mag)) {
					t.Fatalf("%v DotRows dim=%d: out[%d]=%v, generic %v", tier, dim, i, got[i], want[i])
				}
			}
		}
	})
}
