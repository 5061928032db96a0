package gallery_test

import (
	"errors"
	"fmt"
	"image"
	"image/png"
	"log"
	"os"
	"path/filepath"

	"github.com/signet-go/signet/engine"
	"github.com/signet-go/signet/gallery"
)

// Example_engine enrols signs with the shipped encoder and recognises one.
// README.md ("Using it from Go") shows this function's body verbatim
// (TestReadmeSnippetIsExample keeps them equal).
func Example_engine() {
	// Paths are relative to the gallery folder, where this example runs.
	e, err := engine.Load("../testdata/models/signs.sgn", engine.Options{Threads: 1})
	if err != nil {
		log.Fatal(err)
	}
	defer e.Close()
	enc, err := gallery.NewEngineEncoder(e)
	if err != nil {
		log.Fatal(err)
	}
	defer enc.Close()
	load := func(path string) image.Image {
		f, err := os.Open(path)
		if err != nil {
			log.Fatal(err)
		}
		defer f.Close()
		img, err := png.Decode(f)
		if err != nil {
			log.Fatal(err)
		}
		return img
	}

	// The model's impostor calibration gives a new gallery a threshold at
	// a stated false-accept rate (0.1% per class) before it has any
	// impostors of its own: an honest Unknown from the first enrolment.
	opts := gallery.DefaultOptions()
	if cal, err := enc.Calibration(); err != nil {
		log.Fatal(err)
	} else if cal != nil {
		if opts.Threshold, _, err = cal.ThresholdAt(0.001); err != nil {
			log.Fatal(err)
		}
	}
	g, err := gallery.New(enc.Dim(), enc.Fingerprint(), opts)
	if err != nil {
		log.Fatal(err)
	}

	// Enrol each sign from five crops; the crops are kept so the gallery
	// can be re-embedded when the encoder changes.
	signs := "../testdata/signs/novel/"
	for _, label := range []string{"prohib-num-90", "prohib-limit-height-3p8_m", "plate_green-text-AUSFAHRT"} {
		var ex []gallery.Exemplar
		for _, n := range []string{"00", "01", "02", "03", "04"} {
			p := signs + label + "/" + n + ".png"
			x, err := gallery.NewExemplar(enc, load(p), p, true)
			if err != nil {
				log.Fatal(err)
			}
			ex = append(ex, x)
		}
		plan, err := g.Plan(label, ex, gallery.PlanOptions{TargetFAR: 0.01})
		if err != nil {
			log.Fatal(err)
		}
		// plan.Report: accuracy before/after, negative flip rate, nearest classes.
		fmt.Printf("%s: %d of %d held-out crops flipped\n", label, plan.Report.NegativeFlips, plan.Report.ValidationSamples)
		if _, err := g.Commit(plan); errors.Is(err, gallery.ErrFlipBudget) {
			fmt.Print(plan.Report) // refused: it would break a class that works
		} else if err != nil {
			log.Fatal(err)
		}
	}

	// Recognise: the nearest prototype by cosine, or an honest Unknown.
	r := gallery.NewResult(3) // reused across calls: matching allocates nothing
	for _, q := range []string{"prohib-num-90/05.png", "info_blue-fontawesome.f1ec/00.png"} {
		if err := g.MatchImage(enc, load(signs+q), r); err != nil {
			log.Fatal(err)
		}
		if r.Known {
			fmt.Printf("%s: %s (cosine %.2f)\n", q, r.Label, r.Score)
		} else {
			fmt.Printf("%s: unknown (%v)\n", q, r.Reason)
		}
	}

	dir, err := os.MkdirTemp("", "signet-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	// Save is atomic and keeps the previous versions for rollback.
	if err := g.Save(filepath.Join(dir, "signs.gal")); err != nil {
		log.Fatal(err)
	}
	// Output:
	// prohib-num-90: 0 of 0 held-out crops flipped
	// prohib-limit-height-3p8_m: 0 of 1 held-out crops flipped
	// plate_green-text-AUSFAHRT: 0 of 2 held-out crops flipped
	// prohib-num-90/05.png: prohib-num-90 (cosine 0.98)
	// info_blue-fontawesome.f1ec/00.png: unknown (below threshold)
}
