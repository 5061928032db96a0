// Package imagedec decodes PNG and JPEG images with a bound on what a
// hostile file can make the decoder allocate. Every image signet decodes
// (command-line inputs, crops stored in galleries) goes through it, so one
// limit holds everywhere.
package imagedec

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"io"
)

// MaxPixels is the largest image (width × height) Decode accepts: 32 Mi
// pixels, which admits an 8K UHD frame (7680×4320) and any phone or camera
// photo up to about 33 megapixels. The Go decoders allocate the whole image
// before reading its data, at up to 8 bytes per pixel (16-bit RGBA PNG):
// 256 MiB at the cap. While decoding, an interlaced PNG also allocates its
// seven passes (another 8 bytes per pixel at most) and a progressive JPEG
// keeps 4 bytes of coefficients per pixel and component beside the image,
// so the worst case, a progressive four-component (CMYK) JPEG, allocates
// about 24 bytes per pixel: 768 MiB at the cap, plus padding to its 32-pixel
// blocks. Larger images are refused from their header with ErrTooLarge
// before any pixel is allocated.
const MaxPixels = 32 << 20

// Errors; decode failures wrap ErrCorrupt, refused sizes ErrTooLarge, and
// anything that is neither PNG nor JPEG ErrFormat.
var (
	ErrTooLarge = errors.New("image larger than the pixel limit")
	ErrFormat   = errors.New("not a PNG or JPEG image") // DecodePNG: not a PNG
	ErrCorrupt  = errors.New("corrupt image")
)

// deflateMaxRatio is the most a deflate stream can expand: a 258-byte match
// coded in two 1-bit codes, 1032:1. A PNG whose pixel rows need more bytes
// than that times the file size cannot be complete, so it is refused before
// its image is allocated; no valid PNG is refused by this.
const deflateMaxRatio = 1032

const pngMagic = "\x89PNG\r\n\x1a\n"

// Decode decodes a PNG or JPEG image from the rest of r. It checks the
// header first (format, then size against MaxPixels, then for PNG that the
// data present can hold that many pixels) and only then decodes.
func Decode(r io.ReadSeeker) (image.Image, error) { return DecodeLimit(r, MaxPixels) }

// DecodeBytes decodes an image held in memory.
func DecodeBytes(b []byte) (image.Image, error) { return Decode(bytes.NewReader(b)) }

// DecodePNG decodes a PNG held in memory, such as a crop stored in a
// gallery, and refuses any other format. For PNG the data check bounds the
// decoded image by the input size as well as by MaxPixels: at most 8256
// pixels (a 1-bit image) per byte of input.
func DecodePNG(b []byte) (image.Image, error) {
	return decode(bytes.NewReader(b), MaxPixels, false)
}

// DecodeLimit is Decode with another pixel limit (tests and fuzzing use a
// small one).
func DecodeLimit(r io.ReadSeeker, maxPixels int64) (image.Image, error) {
	return decode(r, maxPixels, true)
}

// Check runs every test Decode makes before it allocates the image
// (format, size, data enough for that size) without decoding, and leaves r
// where it was. A command checks all its inputs with it before starting
// work, then decodes them one at a time.
func Check(r io.ReadSeeker) error {
	start, err := r.Seek(0, io.SeekCurrent)
	if err != nil {
		return err
	}
	_, err = header(r, MaxPixels, true)
	if _, serr := r.Seek(start, io.SeekStart); err == nil {
		err = serr
	}
	return err
}

func decode(r io.ReadSeeker, maxPixels int64, allowJPEG bool) (image.Image, error) {
	h, err := header(r, maxPixels, allowJPEG)
	if err != nil {
		return nil, err
	}
	img, err := h.decode(r)
	if err != nil {
		return nil, fmt.Errorf("%w: cannot decode %s image: %v", ErrCorrupt, h.format, err)
	}
	return img, nil
}

type checked struct {
	format string
	decode func(io.Reader) (image.Image, error)
}

// header checks what r holds from its header and leaves r where it was.
func header(r io.ReadSeeker, maxPixels int64, allowJPEG bool) (checked, error) {
	var c checked
	start, err := r.Seek(0, io.SeekCurrent)
	if err != nil {
		return c, err
	}
	end, err := r.Seek(0, io.SeekEnd)
	if err != nil {
		return c, err
	}
	size := end - start
	rewind := func() error { _, err := r.Seek(start, io.SeekStart); return err }
	if err := rewind(); err != nil {
		return c, err
	}
	var head [33]byte // PNG signature and IHDR chunk
	n, err := io.ReadFull(r, head[:])
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return c, err
	}
	var config func(io.Reader) (image.Config, error)
	switch {
	case n >= len(pngMagic) && string(head[:len(pngMagic)]) == pngMagic:
		c.format, config, c.decode = "png", png.DecodeConfig, png.Decode
	case allowJPEG && n >= 2 && head[0] == 0xff && head[1] == 0xd8:
		c.format, config, c.decode = "jpeg", jpeg.DecodeConfig, jpeg.Decode
	case !allowJPEG:
		return c, fmt.Errorf("%w: a PNG is required", ErrFormat)
	default:
		return c, ErrFormat
	}
	if err := rewind(); err != nil {
		return c, err
	}
	cfg, err := config(r)
	if err != nil {
		return c, fmt.Errorf("%w: cannot decode %s image: %v", ErrCorrupt, c.format, err)
	}
	w, h := int64(cfg.Width), int64(cfg.Height)
	if w <= 0 || h <= 0 {
		return c, fmt.Errorf("%w: %s image of %dx%d pixels", ErrCorrupt, c.format, w, h)
	}
	if w > maxPixels/h {
		return c, fmt.Errorf("%w: %s image of %dx%d pixels, the limit is %d pixels", ErrTooLarge, c.format, w, h, maxPixels)
	}
	if c.format == "png" && n == len(head) {
		if need := pngMinRaw(head[:], w, h); need > 0 && need/deflateMaxRatio > size {
			return c, fmt.Errorf("%w: png image of %dx%d pixels needs at least %d bytes of data, the file has %d", ErrCorrupt, w, h, need/deflateMaxRatio, size)
		}
	}
	return c, rewind()
}

// pngMinRaw is the fewest bytes of inflated pixel data a PNG with this IHDR
// holds: every row's packed samples, ignoring the filter bytes (fewer than
// an interlaced image has). 0 when the header is not the expected IHDR;
// DecodeConfig has accepted it, so that does not happen.
func pngMinRaw(head []byte, w, h int64) int64 {
	if string(head[12:16]) != "IHDR" {
		return 0
	}
	depth := int64(head[24])
	var channels int64
	switch head[25] {
	case 0, 3: // grey, palette
		channels = 1
	case 4: // grey + alpha
		channels = 2
	case 2: // RGB
		channels = 3
	case 6: // RGBA
		channels = 4
	default:
		return 0
	}
	if binary.BigEndian.Uint32(head[16:]) != uint32(w) || binary.BigEndian.Uint32(head[20:]) != uint32(h) {
		return 0
	}
	rowBits := w * depth * channels // w < 2^31, depth·channels ≤ 64: no overflow
	return h * ((rowBits + 7) / 8)  // w·h ≤ maxPixels keeps this far from overflow
}
