package gallery

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"
)

func imageGallery(t *testing.T, enc Encoder, classes int) *Gallery {
	t.Helper()
	g, err := New(enc.Dim(), enc.Fingerprint(), noHoldout())
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(40, 1))
	for c := 0; c < classes; c++ {
		var ex []Exemplar
		for i := 0; i < 4; i++ {
			e, err := NewExemplar(enc, signImage(c, rng), fmt.Sprintf("c%d-%d.png", c, i), true)
			if err != nil {
				t.Fatal(err)
			}
			ex = append(ex, e)
		}
		if _, err := g.AddClass(fmt.Sprint("sign", c), nil, ex); err != nil {
			t.Fatal(err)
		}
	}
	return g
}

func checkImageMatches(t *testing.T, g *Gallery, enc Encoder, classes int) {
	t.Helper()
	rng := rand.New(rand.NewPCG(41, 1))
	r := NewResult(3)
	for c := 0; c < classes; c++ {
		if err := g.MatchImage(enc, signImage(c, rng), r); err != nil {
			t.Fatal(err)
		}
		if r.Candidates[0].Label != fmt.Sprint("sign", c) {
			t.Fatalf("class %d matched %+v", c, r.Candidates[0])
		}
	}
}

func TestReembedSameSpaceRotated(t *testing.T) {
	encA := &fakeEncoder{grid: 2, id: 1}
	g := imageGallery(t, encA, 10)
	checkImageMatches(t, g, encA, 10)
	// An orthogonal remix describes the same images with other coordinates:
	// nothing may move.
	encB := &fakeEncoder{grid: 2, id: 2, mix: permutationMix(12, 5)}
	if err := g.MatchImage(encB, signImage(0, rand.New(rand.NewPCG(1, 1))), NewResult(1)); !errors.Is(err, ErrEncoderMismatch) {
		t.Fatalf("matching with another encoder: %v", err)
	}
	rep, err := g.Reembed(encB)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Exemplars != 40 || rep.Moved != 0 || len(rep.Classes) != 10 {
		t.Fatalf("report: %+v", rep)
	}
	for _, m := range rep.Classes {
		if m.NeighbourOverlap != 1 || m.SelfAccuracyAfter != m.SelfAccuracyBefore || !m.PrototypeComparable || len(m.NeighboursBefore) != 5 {
			t.Fatalf("class moved under a rotation: %+v", m)
		}
	}
	if g.Fingerprint() != encB.Fingerprint() {
		t.Fatal("fingerprint not updated")
	}
	checkImageMatches(t, g, encB, 10)
	path := filepath.Join(t.TempDir(), "g.gal")
	if err := g.Save(path); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(path, encB.Fingerprint()); err != nil {
		t.Fatal(err)
	}
}

func TestReembedNewDimAndCollapse(t *testing.T) {
	encA := &fakeEncoder{grid: 2, id: 1}
	g := imageGallery(t, encA, 10)
	g.SetClassThreshold(1, 0.7)
	// A coarser encoder (mean colour only, 3-d) loses the layout: classes
	// must be reported as moved, and coordinates are not comparable.
	encC := &fakeEncoder{grid: 1, id: 3}
	rep, err := g.Reembed(encC)
	if err != nil {
		t.Fatal(err)
	}
	if g.Dim() != 3 || rep.NewDim != 3 || rep.OldDim != 12 {
		t.Fatalf("dims: %d %+v", g.Dim(), rep)
	}
	t.Logf("collapse: %d of %d moved; first %+v", rep.Moved, len(rep.Classes), rep.Classes[0])
	if rep.Moved == 0 {
		t.Fatal("collapsing encoder moved nothing")
	}
	for i, m := range rep.Classes {
		if m.PrototypeComparable {
			t.Fatal("prototypes of different dims marked comparable")
		}
		if i > 0 && rep.Classes[i-1].NeighbourOverlap > m.NeighbourOverlap {
			t.Fatal("report not sorted most-moved first")
		}
	}
	if ci, _ := g.Class(1); ci.HasThreshold {
		t.Fatal("thresholds of the old space survived re-embedding")
	}
}

func TestReembedRefusals(t *testing.T) {
	encA := &fakeEncoder{grid: 2, id: 1}
	g := imageGallery(t, encA, 3)
	v := g.Version()
	if _, err := g.Reembed(&fakeEncoder{grid: 2, id: 4, fail: true}); !errors.Is(err, ErrNonFinite) || g.Version() != v || g.Fingerprint() != encA.Fingerprint() {
		t.Fatalf("failing encoder: %v (gallery must be unchanged)", err)
	}
	e, _ := NewExemplar(encA, signImage(7, rand.New(rand.NewPCG(2, 2))), "no-crop", false)
	g.AddClass("nocrop", nil, []Exemplar{e})
	v = g.Version()
	if _, err := g.Reembed(&fakeEncoder{grid: 2, id: 5}); !errors.Is(err, ErrNoCrop) || g.Version() != v {
		t.Fatalf("missing crop: %v", err)
	}
}
