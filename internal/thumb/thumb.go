// Package thumb turns stored images into small thumbnails, as data: URIs,
// for HTML reports. Stored crops come from gallery files written by someone else, so
// they are decoded only through imagedec, which refuses an image larger
// than its pixel limit from the header: a small, highly compressed file
// cannot make a report allocate gigabytes.
package thumb

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"

	"github.com/signet-go/signet/internal/imagedec"
)

// Scale fits img inside size×size by averaging the source pixels under
// each target pixel (a box filter: no aliasing when shrinking a lot). An
// image that already fits is copied, not enlarged.
func Scale(img image.Image, size int) *image.NRGBA {
	r := img.Bounds()
	sw, sh := r.Dx(), r.Dy()
	if sw <= 0 || sh <= 0 || size <= 0 {
		return image.NewNRGBA(image.Rect(0, 0, 1, 1))
	}
	dw, dh := sw, sh
	if sw > size || sh > size {
		if sw >= sh {
			dw, dh = size, max(1, int(int64(sh)*int64(size)/int64(sw)))
		} else {
			dw, dh = max(1, int(int64(sw)*int64(size)/int64(sh))), size
		}
	}
	out := image.NewNRGBA(image.Rect(0, 0, dw, dh))
	for y := 0; y < dh; y++ {
		y0, y1 := y*sh/dh, max((y+1)*sh/dh, y*sh/dh+1)
		for x := 0; x < dw; x++ {
			x0, x1 := x*sw/dw, max((x+1)*sw/dw, x*sw/dw+1)
			var sr, sg, sb, sa uint64
			for yy := y0; yy < y1; yy++ {
				for xx := x0; xx < x1; xx++ {
					cr, cg, cb, ca := img.At(r.Min.X+xx, r.Min.Y+yy).RGBA() // premultiplied, 16-bit
					sr, sg, sb, sa = sr+uint64(cr), sg+uint64(cg), sb+uint64(cb), sa+uint64(ca)
				}
			}
			i := out.PixOffset(x, y)
			if sa == 0 {
				continue // transparent
			}
			n := uint64((y1 - y0) * (x1 - x0))
			// Un-premultiply the average for NRGBA.
			out.Pix[i+0] = uint8(sr * 255 / sa)
			out.Pix[i+1] = uint8(sg * 255 / sa)
			out.Pix[i+2] = uint8(sb * 255 / sa)
			out.Pix[i+3] = uint8(sa / n >> 8)
		}
	}
	return out
}

// FromBytes decodes a stored PNG or JPEG under imagedec's pixel limit and
// returns its thumbnail, at most size×size, as a data: URI.
func FromBytes(data []byte, size int) (string, error) {
	img, err := imagedec.DecodeBytes(data)
	if err != nil {
		return "", err
	}
	return FromImage(img, size)
}

// FromImage returns the thumbnail of an already decoded image as a data:
// URI: JPEG (quality 85) when it is opaque, which keeps a photo's colours
// at a third of PNG's size, PNG when it has transparency. It refuses an
// image over imagedec's pixel limit, which scaling would read in full.
func FromImage(img image.Image, size int) (string, error) {
	if r := img.Bounds(); int64(r.Dx())*int64(r.Dy()) > imagedec.MaxPixels {
		return "", fmt.Errorf("%w: %dx%d pixels", imagedec.ErrTooLarge, r.Dx(), r.Dy())
	}
	t := Scale(img, size)
	var b bytes.Buffer
	mime := "image/jpeg"
	var err error
	if t.Opaque() {
		err = jpeg.Encode(&b, t, &jpeg.Options{Quality: 85})
	} else {
		mime = "image/png"
		err = (&png.Encoder{CompressionLevel: png.BestCompression}).Encode(&b, t)
	}
	if err != nil {
		return "", fmt.Errorf("thumb: %w", err)
	}
	return "data:" + mime + ";base64," + base64.StdEncoding.EncodeToString(b.Bytes()), nil
}
