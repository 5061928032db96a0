package gallery

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/signet-go/signet/kernels"
)

// BenchmarkMatch is one query against 10,000 classes (one prototype row
// each) of dim 128 and 512: the DotRows pass plus ranking, on every dot
// product tier this machine has.
func BenchmarkMatch(b *testing.B) {
	for _, tier := range kernels.Available() {
		for _, dim := range []int{128, 512} {
			b.Run(fmt.Sprintf("tier=%v/classes=10000/dim=%d", tier, dim), func(b *testing.B) { benchMatch(b, tier, Float32, dim, 10000) })
		}
	}
}

// BenchmarkMatchStorage compares Float32 and Int8 storage at 10,000 and
// 100,000 classes of dim 128 on the best tier; rowbytes is the matrix a
// match scans, heapbytes the whole gallery (one exemplar a class, kept
// with its float32 class row for Plan, Calibrate and Save).
func BenchmarkMatchStorage(b *testing.B) {
	for _, n := range []int{10000, 100000} {
		for _, st := range []Storage{Float32, Int8} {
			b.Run(fmt.Sprintf("storage=%v/classes=%d/dim=128", st, n), func(b *testing.B) { benchMatch(b, kernels.Best(), st, 128, n) })
		}
	}
}

func benchMatch(b *testing.B, tier kernels.Tier, st Storage, dim, n int) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	g := benchGallery(b, dim, n)
	if err := g.SetStorage(st); err != nil {
		b.Fatal(err)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	heapBytes := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	s := g.load()
	rowBytes := 4*len(s.rows) + len(s.rows8) + 4*len(s.rowScale)
	if got := g.SetTier(tier); got != tier {
		b.Fatalf("SetTier(%v) scores on %v", tier, got)
	}
	q := newClusters(61, dim, 1).randomUnit()
	r := NewResult(5)
	g.MatchInto(q, r)
	b.SetBytes(int64(rowBytes))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := g.MatchInto(q, r); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(rowBytes), "rowbytes")
	b.ReportMetric(float64(heapBytes), "heapbytes")
}

// benchGallery builds the snapshot directly: going through AddClass 10,000
// times would rebuild the contiguous rows each time.
func benchGallery(b *testing.B, dim, n int) *Gallery {
	b.Helper()
	g := mustNew(b, dim, noHoldout())
	cl := newClusters(60, dim, 1)
	s := g.load().derive()
	for i := 0; i < n; i++ {
		e := cl.randomUnit()
		s.classes = append(s.classes, &class{id: uint64(i + 1), label: fmt.Sprint("c", i),
			exemplars: []Exemplar{{Embedding: e}}, gar: -1, rows: append([]float32(nil), e...)})
	}
	s.nextID = uint64(n + 1)
	s.build()
	g.snap.Store(s)
	return g
}
