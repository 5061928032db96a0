package thumb

import (
	"bytes"
	"encoding/base64"
	"errors"
	"image"
	"image/color"
	_ "image/jpeg"
	"image/png"
	"strings"
	"testing"

	"github.com/signet-go/signet/internal/imagedec"
)

func fill(w, h int, c func(x, y int) color.NRGBA) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.SetNRGBA(x, y, c(x, y))
		}
	}
	return img
}

func TestScaleSize(t *testing.T) {
	for _, c := range []struct{ w, h, size, dw, dh int }{
		{300, 100, 64, 64, 21},
		{100, 300, 64, 21, 64},
		{48, 48, 64, 48, 48}, // never enlarged
		{1000, 1, 64, 64, 1},
		{1, 1000, 64, 1, 64},
	} {
		got := Scale(image.NewGray(image.Rect(0, 0, c.w, c.h)), c.size).Bounds()
		if got.Dx() != c.dw || got.Dy() != c.dh {
			t.Errorf("%dx%d in %d: %v, want %dx%d", c.w, c.h, c.size, got, c.dw, c.dh)
		}
	}
	if got := Scale(image.NewGray(image.Rect(0, 0, 0, 5)), 64).Bounds(); got.Dx() != 1 || got.Dy() != 1 {
		t.Errorf("empty image: %v", got)
	}
}

// Each target pixel is the mean of the source pixels under it, with
// transparency weighted as premultiplied colour.
func TestScaleAverages(t *testing.T) {
	red, blue := color.NRGBA{255, 0, 0, 255}, color.NRGBA{0, 0, 255, 255}
	halves := fill(4, 4, func(x, y int) color.NRGBA {
		if x < 2 {
			return red
		}
		return blue
	})
	s := Scale(halves, 2)
	if s.NRGBAAt(0, 0) != red || s.NRGBAAt(1, 1) != blue {
		t.Errorf("halves: %v %v", s.NRGBAAt(0, 0), s.NRGBAAt(1, 1))
	}
	if got := Scale(halves, 1).NRGBAAt(0, 0); got != (color.NRGBA{127, 0, 127, 255}) {
		t.Errorf("mean of red and blue: %v", got)
	}
	// Half transparent black, half opaque red: the colour stays red and the
	// alpha halves (transparent pixels carry no colour).
	ghost := fill(2, 1, func(x, y int) color.NRGBA {
		if x == 0 {
			return color.NRGBA{}
		}
		return red
	})
	if got := Scale(ghost, 1).NRGBAAt(0, 0); got != (color.NRGBA{255, 0, 0, 127}) {
		t.Errorf("mean with transparency: %v", got)
	}
}

func decodeURI(t *testing.T, uri, mime string) image.Image {
	t.Helper()
	prefix := "data:" + mime + ";base64,"
	if !strings.HasPrefix(uri, prefix) {
		t.Fatalf("URI %.40s…, want %s", uri, prefix)
	}
	raw, err := base64.StdEncoding.DecodeString(uri[len(prefix):])
	if err != nil {
		t.Fatal(err)
	}
	img, _, err := image.Decode(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func TestFromImage(t *testing.T) {
	opaque := fill(120, 60, func(x, y int) color.NRGBA { return color.NRGBA{uint8(x), uint8(y), 90, 255} })
	uri, err := FromImage(opaque, 64)
	if err != nil {
		t.Fatal(err)
	}
	if b := decodeURI(t, uri, "image/jpeg").Bounds(); b.Dx() != 64 || b.Dy() != 32 {
		t.Errorf("opaque thumbnail %v", b)
	}
	see := fill(10, 10, func(x, y int) color.NRGBA { return color.NRGBA{200, 0, 0, uint8(20 * x)} })
	uri, err = FromImage(see, 64)
	if err != nil {
		t.Fatal(err)
	}
	img := decodeURI(t, uri, "image/png")
	if _, _, _, a := img.At(0, 0).RGBA(); a != 0 {
		t.Error("transparency lost")
	}
	var b bytes.Buffer
	if err := png.Encode(&b, opaque); err != nil {
		t.Fatal(err)
	}
	uri, err = FromBytes(b.Bytes(), 16)
	if err != nil {
		t.Fatal(err)
	}
	if b := decodeURI(t, uri, "image/jpeg").Bounds(); b.Dx() != 16 || b.Dy() != 8 {
		t.Errorf("stored image thumbnail %v", b)
	}
}

// huge claims more pixels than the limit without holding them.
type huge struct{ *image.Gray }

func (huge) Bounds() image.Rectangle { return image.Rect(0, 0, 1<<20, 1<<20) }

func TestRefuses(t *testing.T) {
	if _, err := FromImage(huge{image.NewGray(image.Rect(0, 0, 1, 1))}, 64); !errors.Is(err, imagedec.ErrTooLarge) {
		t.Errorf("huge image: %v", err)
	}
	if _, err := FromBytes([]byte("GIF89a nope"), 64); !errors.Is(err, imagedec.ErrFormat) {
		t.Errorf("not an image: %v", err)
	}
	if _, err := FromBytes(nil, 64); err == nil {
		t.Error("empty data accepted")
	}
}
