package gallery

import (
	"fmt"
	"testing"

	"github.com/signet-go/signet/kernels"
)

// BenchmarkMatch is one query against 10,000 classes (one prototype row
// each) of dim 128 and 512: the DotRows pass plus ranking, on every dot
// product tier this machine has.
func BenchmarkMatch(b *testing.B) {
	for _, tier := range kernels.Available() {
		for _, dim := range []int{128, 512} {
			b.Run(fmt.Sprintf("tier=%v/classes=10000/dim=%d", tier, dim), func(b *testing.B) { benchMatch(b, tier, dim, 10000) })
		}
	}
}

func benchMatch(b *testing.B, tier kernels.Tier, dim, n int) {
	g := benchGallery(b, dim, n)
	if got := g.SetTier(tier); got != tier {
		b.Fatalf("SetTier(%v) scores on %v", tier, got)
	}
	q := newClusters(61, dim, 1).randomUnit()
	r := NewResult(5)
	g.MatchInto(q, r)
	b.SetBytes(int64(4 * dim * n))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := g.MatchInto(q, r); err != nil {
			b.Fatal(err)
		}
	}
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
			exemplars: []Exemplar{{Embedding: e}}, gar: -1, rows: e})
	}
	s.nextID = uint64(n + 1)
	s.build()
	g.snap.Store(s)
	return g
}
