package imagedec

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"testing"

	"github.com/signet-go/signet/internal/testalloc"
)

// pngChunk appends one PNG chunk with its CRC.
func pngChunk(b []byte, typ string, data []byte) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(data)))
	start := len(b)
	b = append(b, typ...)
	b = append(b, data...)
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b[start:]))
}

// rawPNG builds a PNG from its IHDR fields and the inflated row data
// (filter bytes included), compressed at the best ratio.
func rawPNG(w, h uint32, depth, colour, interlace byte, raw io.Reader) []byte {
	ihdr := binary.BigEndian.AppendUint32(nil, w)
	ihdr = binary.BigEndian.AppendUint32(ihdr, h)
	ihdr = append(ihdr, depth, colour, 0, 0, interlace)
	var z bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&z, zlib.BestCompression)
	if raw != nil {
		io.Copy(zw, raw)
	}
	zw.Close()
	b := pngChunk([]byte(pngMagic), "IHDR", ihdr)
	b = pngChunk(b, "IDAT", z.Bytes())
	return pngChunk(b, "IEND", nil)
}

// zeros is an endless source of zero bytes.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// bomb is a complete, valid PNG of w×h 8-bit grey pixels, all zero: a few
// kilobytes that decode to w·h bytes.
func bomb(w, h uint32) []byte {
	return rawPNG(w, h, 8, 0, 0, io.LimitReader(zeros{}, int64(h)*int64(w+1)))
}

// liar is a PNG whose header claims w×h RGBA16 pixels over an empty data
// stream, like the gallery crop claiming 100000×100000.
func liar(w, h uint32) []byte { return rawPNG(w, h, 16, 6, 0, nil) }

func smallPNG(t testing.TB, interlace bool) []byte {
	img := image.NewNRGBA64(image.Rect(0, 0, 9, 7))
	for i := range img.Pix {
		img.Pix[i] = byte(i * 7)
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	if !interlace {
		return b.Bytes()
	}
	// Re-wrap the same pixels Adam7-interlaced: Go's encoder cannot.
	var raw bytes.Buffer
	for _, p := range adam7 {
		for y := p.y; y < 7; y += p.dy {
			if p.x >= 9 {
				break
			}
			raw.WriteByte(0)
			for x := p.x; x < 9; x += p.dx {
				c := img.NRGBA64At(x, y)
				for _, v := range []uint16{c.R, c.G, c.B, c.A} {
					raw.WriteByte(byte(v >> 8))
					raw.WriteByte(byte(v))
				}
			}
		}
	}
	return rawPNG(9, 7, 16, 6, 1, &raw)
}

var adam7 = []struct{ x, y, dx, dy int }{
	{0, 0, 8, 8}, {4, 0, 8, 8}, {0, 4, 4, 8}, {2, 0, 4, 4}, {0, 2, 2, 4}, {1, 0, 2, 2}, {0, 1, 1, 2},
}

func smallJPEG(t testing.TB) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 20, 12))
	for i := range img.Pix {
		img.Pix[i] = byte(i * 13)
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestDecodeAccepts(t *testing.T) {
	for name, data := range map[string][]byte{
		"png": smallPNG(t, false), "interlaced png": smallPNG(t, true), "jpeg": smallJPEG(t),
	} {
		img, err := DecodeBytes(data)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		ref, _, err := image.Decode(bytes.NewReader(data))
		if err != nil || img.Bounds() != ref.Bounds() {
			t.Fatalf("%s: bounds %v, reference %v (%v)", name, img.Bounds(), ref.Bounds(), err)
		}
		if ref.ColorModel() == color.NRGBA64Model && img.At(3, 2) != ref.At(3, 2) {
			t.Fatalf("%s: pixel differs", name)
		}
	}
	// The interlaced and plain encodings carry the same pixels.
	a, _ := DecodeBytes(smallPNG(t, false))
	b, _ := DecodeBytes(smallPNG(t, true))
	for y := 0; y < 7; y++ {
		for x := 0; x < 9; x++ {
			if a.At(x, y) != b.At(x, y) {
				t.Fatalf("interlaced pixel %d,%d differs", x, y)
			}
		}
	}
	// Decoding starts at the reader's position, not at offset 0.
	r := bytes.NewReader(append([]byte("junk"), smallJPEG(t)...))
	r.Seek(4, io.SeekStart)
	want, err := DecodeBytes(smallJPEG(t))
	if err != nil {
		t.Fatal(err)
	}
	if img, err := Decode(r); err != nil || img.Bounds() != want.Bounds() || img.At(3, 2) != want.At(3, 2) {
		t.Fatalf("offset reader: %v (or not the JPEG after the junk)", err)
	}
}

func TestDecodeRefuses(t *testing.T) {
	cases := []struct {
		name string
		data []byte
		want error
	}{
		{"empty", nil, ErrFormat},
		{"text", []byte("hello, world"), ErrFormat},
		{"gif", []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;"), ErrFormat},
		{"claims 100000x100000", liar(100000, 100000), ErrTooLarge},
		{"claims 2^31-1 x 2^31-1", liar(1<<31-1, 1<<31-1), ErrCorrupt}, // image/png refuses the byte count itself
		{"one row over the cap", liar(MaxPixels>>10, 1025), ErrTooLarge},
		{"at the cap, data missing", liar(MaxPixels>>10, 1024), ErrCorrupt},
		{"claims 4096x4096 RGBA16 in 100 bytes", liar(4096, 4096), ErrCorrupt},
		{"zero width", rawPNG(0, 5, 8, 0, 0, nil), ErrCorrupt},
		{"truncated png", smallPNG(t, false)[:60], ErrCorrupt},
		{"truncated jpeg", smallJPEG(t)[:200], ErrCorrupt},
	}
	for _, c := range cases {
		var err error
		n := testalloc.Bytes(func() { _, err = DecodeBytes(c.data) })
		if !errors.Is(err, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, err, c.want)
		}
		// Refused from the header: nothing near the claimed size is
		// allocated.
		if n > 1<<20 {
			t.Errorf("%s: allocated %d bytes", c.name, n)
		}
	}
}

func TestCheck(t *testing.T) {
	for _, data := range [][]byte{smallPNG(t, false), smallJPEG(t)} {
		r := bytes.NewReader(data)
		if err := Check(r); err != nil {
			t.Fatal(err)
		}
		if pos, _ := r.Seek(0, io.SeekCurrent); pos != 0 {
			t.Fatalf("Check moved the reader to %d", pos)
		}
		if _, err := Decode(r); err != nil {
			t.Fatalf("decode after Check: %v", err)
		}
	}
	for data, want := range map[string]error{string(liar(100000, 100000)): ErrTooLarge, string(liar(4096, 4096)): ErrCorrupt, "text": ErrFormat} {
		if err := Check(bytes.NewReader([]byte(data))); !errors.Is(err, want) {
			t.Errorf("Check: got %v, want %v", err, want)
		}
	}
}

func TestDecodePNG(t *testing.T) {
	if _, err := DecodePNG(smallPNG(t, true)); err != nil {
		t.Fatal(err)
	}
	if _, err := DecodePNG(smallJPEG(t)); !errors.Is(err, ErrFormat) {
		t.Fatalf("JPEG through DecodePNG: %v", err)
	}
	if _, err := DecodePNG(liar(100000, 100000)); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("oversized PNG: %v", err)
	}
}

// TestBombRefusedCheaply: a valid, highly compressed PNG over the pixel cap
// (6000×6000: 36 MB of pixels in a few kilobytes) is refused from its header.
func TestBombRefusedCheaply(t *testing.T) {
	data := bomb(6000, 6000)
	if len(data) > 1<<20 {
		t.Fatalf("bomb is %d bytes", len(data))
	}
	var err error
	n := testalloc.Bytes(func() { _, err = DecodeBytes(data) })
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("got %v, want ErrTooLarge", err)
	}
	if n > 1<<20 {
		t.Fatalf("refusing the bomb allocated %d bytes", n)
	}
	// The same bomb under a larger limit decodes: the limit, not the
	// compression ratio, refused it.
	img, err := DecodeLimit(bytes.NewReader(data), 6000*6000)
	if err != nil || img.Bounds().Dx() != 6000 {
		t.Fatalf("under a larger limit: %v", err)
	}
}

// allocBound is what decoding may allocate: about 24 bytes per pixel of
// the claimed size padded to 32-pixel JPEG blocks (see MaxPixels), plus a
// margin for the decoders' tables and small buffers.
func allocBound(data []byte) uint64 {
	const margin = 1 << 20
	var cfg image.Config
	var err error
	switch {
	case bytes.HasPrefix(data, []byte(pngMagic)):
		cfg, err = png.DecodeConfig(bytes.NewReader(data))
	case bytes.HasPrefix(data, []byte{0xff, 0xd8}):
		cfg, err = jpeg.DecodeConfig(bytes.NewReader(data))
	default:
		return margin
	}
	if err != nil || cfg.Width <= 0 || cfg.Height <= 0 || int64(cfg.Width)*int64(cfg.Height) > fuzzPixels {
		return margin
	}
	pw, ph := uint64(cfg.Width+31)&^31, uint64(cfg.Height+31)&^31
	return 24*pw*ph + 16*uint64(len(data)) + margin
}

// fuzzPixels keeps each fuzz input under 1 Mi pixels, so a header claiming
// the production cap cannot make every input allocate hundreds of MiB.
const fuzzPixels = 1 << 20

func FuzzDecode(f *testing.F) {
	f.Add(smallPNG(f, false))
	f.Add(smallPNG(f, true))
	f.Add(smallJPEG(f))
	f.Add(liar(100000, 100000))
	f.Add(liar(1000, 1000))
	f.Add(bomb(1024, 1024)) // at the fuzz limit
	f.Add(bomb(2048, 2048)) // over it
	f.Add(rawPNG(3, 3, 1, 3, 0, bytes.NewReader(make([]byte, 6))))
	f.Fuzz(func(t *testing.T, data []byte) {
		bound := allocBound(data)
		var img image.Image
		var err error
		n := testalloc.Bytes(func() { img, err = DecodeLimit(bytes.NewReader(data), fuzzPixels) })
		if n > bound {
			t.Fatalf("allocated %d bytes, bound %d (err %v)", n, bound, err)
		}
		if err != nil {
			if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrTooLarge) && !errors.Is(err, ErrFormat) {
				t.Fatalf("unclassified error: %v", err)
			}
			return
		}
		b := img.Bounds()
		if b.Dx() <= 0 || b.Dy() <= 0 || int64(b.Dx())*int64(b.Dy()) > fuzzPixels {
			t.Fatalf("decoded bounds %v outside the limit", b)
		}
	})
}
