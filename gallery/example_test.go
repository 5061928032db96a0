package gallery_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/signet-go/signet/gallery"
)

// encoderID stands in for (*model.Model).Fingerprint() of the network that
// produced the embeddings.
var encoderID = [32]byte{0x5e, 0x11, 0x0e}

// Embeddings here are 4-d for readability; real ones come from
// engine.Session.Embed (or gallery.NewExemplar with an Encoder).
func signGallery() *gallery.Gallery {
	opts := gallery.DefaultOptions()
	opts.Threshold = 0.8
	g, err := gallery.New(4, encoderID, opts)
	if err != nil {
		panic(err)
	}
	g.AddClass("stop", map[string]string{"kind": "regulatory"}, []gallery.Exemplar{
		{Embedding: []float32{1, 0.1, 0, 0}, Source: "stop-1.png"},
		{Embedding: []float32{0.9, 0, 0.1, 0}, Source: "stop-2.png"},
		{Embedding: []float32{1, 0, 0, 0.1}, Source: "stop-3.png"},
	})
	g.AddClass("yield", nil, []gallery.Exemplar{
		{Embedding: []float32{0, 1, 0.1, 0}, Source: "yield-1.png"},
		{Embedding: []float32{0.1, 0.9, 0, 0}, Source: "yield-2.png"},
	})
	return g
}

func Example() {
	g := signGallery()
	r, err := g.Match([]float32{0.95, 0.1, 0.05, 0})
	if err != nil {
		panic(err)
	}
	fmt.Printf("known=%v %s (id %d) cosine %.3f margin %.3f\n", r.Known, r.Label, r.ID, r.Score, r.Margin)

	// Something the gallery has never seen is answered honestly.
	r, _ = g.Match([]float32{0, 0, 0.2, 1})
	fmt.Printf("known=%v (%v, best %s at %.3f)\n", r.Known, r.Reason, r.Candidates[0].Label, r.Score)
	// Output:
	// known=true stop (id 1) cosine 0.997 margin 0.835
	// known=false (below threshold, best stop at 0.040)
}

func ExampleGallery_MatchInto() {
	g := signGallery()
	r := gallery.NewResult(2) // reuse: no allocation per match
	for _, q := range [][]float32{{0.1, 1, 0, 0}, {1, 0, 0, 0}} {
		if err := g.MatchInto(q, r); err != nil {
			panic(err)
		}
		fmt.Printf("%s %.3f, runner-up %s %.3f\n", r.Label, r.Score, r.Candidates[1].Label, r.Candidates[1].Score)
	}
	// Output:
	// yield 0.998, runner-up stop 0.132
	// stop 0.998, runner-up yield 0.055
}

func ExampleGallery_Plan() {
	g := signGallery()
	// Hold out validation samples of the existing classes (the gallery also
	// holds out a share of enrolled exemplars; this one enrolled too few).
	val := []gallery.Labelled{
		{Label: "stop", Embedding: []float32{0.8, 0.1, 0, 0.5}, Source: "val-stop.png"},
		{Label: "yield", Embedding: []float32{0.1, 1, 0, 0.1}, Source: "val-yield.png"},
	}
	// "no entry" is new but looks a lot like stop in this embedding.
	newcomer := []gallery.Exemplar{
		{Embedding: []float32{0.8, 0.1, 0, 0.6}, Source: "noentry-1.png"},
		{Embedding: []float32{0.7, 0, 0.1, 0.7}, Source: "noentry-2.png"},
		{Embedding: []float32{0.8, 0, 0, 0.6}, Source: "noentry-3.png"},
	}
	p, err := g.Plan("no entry", newcomer, gallery.PlanOptions{Validation: val})
	if err != nil {
		panic(err)
	}
	rep := p.Report
	fmt.Printf("accuracy %.0f%% -> %.0f%%, flips %d of %d, nearest %s (%.2f)\n",
		100*rep.AccuracyBefore, 100*rep.AccuracyAfter, rep.NegativeFlips, rep.ValidationSamples,
		rep.Nearest[0].Label, rep.Nearest[0].Cosine)
	for _, f := range rep.Flips {
		fmt.Printf("flip: %s %s -> %s\n", f.Source, f.Before, f.After)
	}
	if _, err := g.Commit(p); errors.Is(err, gallery.ErrFlipBudget) {
		fmt.Println("refused: over the flip budget")
	}
	// After review (say, more exemplars of stop), a team may force it.
	id, err := g.ForceCommit(p)
	fmt.Println("forced:", id, err)
	// Output:
	// accuracy 100% -> 50%, flips 1 of 2, nearest stop (0.79)
	// flip: val-stop.png stop -> no entry
	// refused: over the flip budget
	// forced: 3 <nil>
}

func ExampleOpen() {
	dir, err := os.MkdirTemp("", "gallery-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "signs.gal")

	if err := signGallery().Save(path); err != nil {
		panic(err)
	}
	g, err := gallery.Open(path, encoderID)
	if err != nil {
		panic(err)
	}
	fmt.Println(g.Len(), "classes")

	// A gallery embedded by another network is refused, not misread.
	_, err = gallery.Open(path, [32]byte{1})
	fmt.Println(errors.Is(err, gallery.ErrEncoderMismatch))
	// Output:
	// 2 classes
	// true
}
