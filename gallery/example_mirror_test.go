package gallery_test

import (
	"fmt"
	"log"

	"github.com/signet-go/signet/gallery"
)

// ExampleGallery_MatchMirroredInto tells a sign from its mirrored twin. The
// gallery knows "no right turn" only; a photo of "no left turn" looks much
// like it (the same red ring and arrow) and would pass the threshold, but
// its mirror image is "no right turn" itself, which the check sees. In a
// deployment the second embedding comes from engine's
// Session.EmbedMirrored (or Gallery.MatchImageMirrored does both), and the
// margin from the model's calibration (EncoderCalibration.Mirror).
func ExampleGallery_MatchMirroredInto() {
	noRight := []float32{1, 0.2, 0, 0}
	noLeft := []float32{0.8, -0.1, 0.5, 0}
	opts := gallery.DefaultOptions()
	opts.Threshold = 0.7
	g, err := gallery.New(4, [32]byte{1}, opts)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := g.AddClass("no right turn", nil, []gallery.Exemplar{{Embedding: noRight}}); err != nil {
		log.Fatal(err)
	}
	r := gallery.NewResult(1)
	for _, q := range []struct {
		name            string
		photo, mirrored []float32
	}{
		{"no-right-turn photo", noRight, noLeft},
		{"no-left-turn photo", noLeft, noRight},
	} {
		if err := g.MatchMirroredInto(q.photo, q.mirrored, 0.04, r); err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s: known %v (%v), score %.3f, mirror score %.3f\n", q.name, r.Known, r.Reason, r.Score, r.MirrorScore)
	}
	// Output:
	// no-right-turn photo: known true (accepted), score 1.000, mirror score 0.806
	// no-left-turn photo: known false (mirror image of the class), score 0.806, mirror score 1.000
}
