package gallery

import (
	"errors"
	"image"
	"testing"

	"github.com/signet-go/signet/engine"
)

// One ErrNilImage: the gallery's is the engine's, so errors.Is answers the
// same whichever package noticed, and a typed nil image is refused before
// an encoder or the PNG encoder dereferences it.
func TestErrNilImageIsShared(t *testing.T) {
	if !errors.Is(ErrNilImage, engine.ErrNilImage) || !errors.Is(engine.ErrNilImage, ErrNilImage) {
		t.Fatalf("gallery.ErrNilImage %q and engine.ErrNilImage %q are different errors", ErrNilImage, engine.ErrNilImage)
	}
	enc := &fakeEncoder{grid: 2, id: 1}
	g := mustNew(t, enc.Dim(), noHoldout())
	for _, img := range []image.Image{nil, (*image.RGBA)(nil), (*image.Gray)(nil)} {
		if _, err := NewExemplar(enc, img, "x.png", true); !errors.Is(err, engine.ErrNilImage) {
			t.Errorf("NewExemplar(%T): %v, want engine.ErrNilImage", img, err)
		}
		if err := g.MatchImage(enc, img, NewResult(1)); !errors.Is(err, engine.ErrNilImage) {
			t.Errorf("MatchImage(%T): %v, want engine.ErrNilImage", img, err)
		}
	}
}
