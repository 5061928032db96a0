package gallery

import (
	"fmt"
	"math"
	"testing"

	"github.com/signet-go/signet/engine"
	"github.com/signet-go/signet/kernels"
)

// scoresOn is what a match's candidate scores are on dot product d: the
// query normalised as matchInto does, one row per class.
func scoresOn(t *testing.T, d kernels.Dot, g *Gallery, q []float32) map[uint64]float32 {
	t.Helper()
	s := g.load()
	qn := make([]float32, s.dim)
	if err := normalizeVec(qn, q); err != nil {
		t.Fatal(err)
	}
	out := make([]float32, s.nrows())
	d.Rows(qn, s.rows, s.dim, s.nrows(), out)
	m := map[uint64]float32{}
	for i, c := range s.classes {
		m[c.id] = clampCos(out[i])
	}
	return m
}

// TestForceTierReachesScores: an engine forced onto the generic tier hands
// that tier, through its encoder, to the gallery, whose scores then equal
// the generic dot product bit for bit (and differ from the best tier's
// where the machine has a faster one, so the check can fail).
func TestForceTierReachesScores(t *testing.T) {
	enc := tinyEncoder(t, engine.Options{Threads: 1, Tier: kernels.Generic, ForceTier: true})
	if enc.Tier() != kernels.Generic {
		t.Fatalf("encoder of a forced-generic engine reports %v", enc.Tier())
	}

	const dim, classes = 301, 40
	g := mustNew(t, dim, noHoldout())
	if g.Tier() != kernels.Best() {
		t.Errorf("a new gallery scores on %v, want kernels.Best() = %v", g.Tier(), kernels.Best())
	}
	cl := newClusters(90, dim, classes)
	for i := range classes {
		if _, err := g.AddClass(fmt.Sprint("c", i), nil, cl.exemplars(i, 1, 0.3, "x")); err != nil {
			t.Fatal(err)
		}
	}
	v := g.Version()
	if got := g.SetTier(enc.Tier()); got != kernels.Generic || g.Tier() != kernels.Generic {
		t.Fatalf("SetTier(generic) = %v, Tier() = %v", got, g.Tier())
	}
	if g.Version() != v {
		t.Errorf("SetTier changed the version from %d to %d", v, g.Version())
	}
	// A change after SetTier keeps the tier.
	if _, err := g.AddClass("late", nil, cl.exemplars(0, 1, 0.5, "y")); err != nil {
		t.Fatal(err)
	}
	if g.Tier() != kernels.Generic {
		t.Fatalf("AddClass moved the gallery to %v", g.Tier())
	}

	differ := 0
	r := NewResult(classes + 1)
	for qi := range 20 {
		q := cl.sample(qi%classes, 0.6)
		if err := g.MatchInto(q, r); err != nil {
			t.Fatal(err)
		}
		gen := scoresOn(t, kernels.DotFor(kernels.Generic), g, q)
		best := scoresOn(t, kernels.DotFor(kernels.Best()), g, q)
		for _, c := range r.Candidates {
			if math.Float32bits(c.Score) != math.Float32bits(gen[c.ID]) {
				t.Fatalf("query %d, class %s: score %v, generic dot product %v", qi, c.Label, c.Score, gen[c.ID])
			}
			if c.Score != best[c.ID] {
				differ++
			}
		}
	}
	if kernels.Best() != kernels.Generic && differ == 0 {
		t.Errorf("no score differs between generic and %v: the test cannot tell the tiers apart", kernels.Best())
	}
	t.Logf("%d scores differ between generic and %v", differ, kernels.Best())

	// Calibration scores through the same tier: its genuine scores are the
	// generic ones.
	s := g.load()
	for _, c := range s.classes {
		for _, e := range c.exemplars {
			if got, want := maxRow(s.dot, e.Embedding, c.rows, dim), maxRow(scorerFor(kernels.Generic), e.Embedding, c.rows, dim); got != want {
				t.Fatalf("class %s: calibration score %v, generic %v", c.label, got, want)
			}
		}
	}
}

// TestSetTierFallsBack: a tier the machine does not run scores on Generic,
// and SetTier says so.
func TestSetTierFallsBack(t *testing.T) {
	g := mustNew(t, 8, noHoldout())
	for _, tr := range kernels.Tiers() {
		want := tr
		if !tr.Runs() {
			want = kernels.Generic
		}
		if got := g.SetTier(tr); got != want || g.Tier() != want {
			t.Errorf("SetTier(%v) = %v, Tier() = %v; want %v", tr, got, g.Tier(), want)
		}
	}
}
