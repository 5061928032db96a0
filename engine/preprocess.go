package engine

import (
	"fmt"
	"image"
	"image/color"
	"reflect"
)

// Preprocessing turns an image into the model's input tensor:
//
//  1. Bilinear resize to the model's input H×W with half-pixel centres: output
//     pixel (ox, oy) samples the source at sx = (ox+0.5)·srcW/W − 0.5 (same for
//     y), clamped to [0, srcW−1], blending the two nearest source pixels on
//     each axis. This is PyTorch's F.interpolate(mode="bilinear",
//     align_corners=False, antialias=False) and OpenCV's INTER_LINEAR; it is
//     not PIL's antialiased resize, which differs when shrinking a lot.
//  2. Pixels are read as 8-bit values the way image/color converts them:
//     c.RGBA() >> 8, so a translucent pixel is premultiplied (composited over
//     black), and YCbCr is converted with color.YCbCr's 16-bit formula.
//  3. Channels in the model's order (Metadata.ChannelOrder "RGB" or "BGR";
//     a one-channel model gets ITU-R 601 luma), then v/255, then
//     (v − Mean[c]) / Std[c].
//
// *image.RGBA, *image.NRGBA and *image.YCbCr are read directly (no
// allocation); other image types go through At().

// preproc is the resolved preprocessing of a model input.
type preproc struct {
	c, h, w   int
	bgr       bool
	mean, std [3]float32
	err       error // why the model cannot take images, reported by Embed
}

func newPreproc(p *plan, meta metaView) preproc {
	var pp preproc
	if len(p.inputs) != 1 {
		pp.err = fmt.Errorf("%w: image input needs a model with one input, this one has %d", ErrShape, len(p.inputs))
		return pp
	}
	v := &p.vals[p.inputs[0]]
	if len(v.shape) != 4 || v.shape[0] != 1 || (v.shape[1] != 3 && v.shape[1] != 1) {
		pp.err = fmt.Errorf("%w: image input needs shape [1,3,H,W] or [1,1,H,W], model input is %v", ErrShape, v.shape)
		return pp
	}
	pp.c, pp.h, pp.w = v.shape[1], v.shape[2], v.shape[3]
	switch meta.order {
	case "", "RGB":
	case "BGR":
		pp.bgr = true
	default:
		pp.err = fmt.Errorf("%w: unknown channel order %q", ErrShape, meta.order)
		return pp
	}
	for i := 0; i < pp.c; i++ {
		pp.mean[i], pp.std[i] = 0, 1
	}
	if n := len(meta.mean); n != 0 && n != pp.c {
		pp.err = fmt.Errorf("%w: %d mean values for %d channels", ErrShape, n, pp.c)
		return pp
	}
	if n := len(meta.std); n != 0 && n != pp.c {
		pp.err = fmt.Errorf("%w: %d std values for %d channels", ErrShape, n, pp.c)
		return pp
	}
	copy(pp.mean[:], meta.mean)
	copy(pp.std[:], meta.std)
	for i := 0; i < pp.c; i++ {
		if pp.std[i] == 0 || pp.std[i] != pp.std[i] {
			pp.err = fmt.Errorf("%w: std[%d] = %v", ErrShape, i, pp.std[i])
			return pp
		}
	}
	return pp
}

type metaView struct {
	order     string
	mean, std []float32
}

// pixelReader reads 8-bit R, G, B at absolute image coordinates.
type pixelReader interface {
	rgb(x, y int) (r, g, b uint8)
}

type rgbaReader struct{ m *image.RGBA }

func (p rgbaReader) rgb(x, y int) (uint8, uint8, uint8) {
	i := p.m.PixOffset(x, y)
	s := p.m.Pix[i : i+3 : i+3]
	return s[0], s[1], s[2]
}

type nrgbaReader struct{ m *image.NRGBA }

func (p nrgbaReader) rgb(x, y int) (uint8, uint8, uint8) {
	i := p.m.PixOffset(x, y)
	s := p.m.Pix[i : i+4 : i+4]
	a := uint32(s[3])
	if a == 0xff {
		return s[0], s[1], s[2]
	}
	// color.NRGBA.RGBA, then >> 8.
	pm := func(c uint8) uint8 {
		v := uint32(c)
		v |= v << 8
		v *= a
		v /= 0xff
		return uint8(v >> 8)
	}
	return pm(s[0]), pm(s[1]), pm(s[2])
}

type ycbcrReader struct{ m *image.YCbCr }

func (p ycbcrReader) rgb(x, y int) (uint8, uint8, uint8) {
	yi := p.m.YOffset(x, y)
	ci := p.m.COffset(x, y)
	r, g, b, _ := color.YCbCr{Y: p.m.Y[yi], Cb: p.m.Cb[ci], Cr: p.m.Cr[ci]}.RGBA()
	return uint8(r >> 8), uint8(g >> 8), uint8(b >> 8)
}

type genericReader struct{ m image.Image }

func (p genericReader) rgb(x, y int) (uint8, uint8, uint8) {
	r, g, b, _ := p.m.At(x, y).RGBA()
	return uint8(r >> 8), uint8(g >> 8), uint8(b >> 8)
}

// srcCoord returns the two source indices and the blend weight of output
// index o along an axis of n source and m output pixels.
func srcCoord(o, n, m int) (int, int, float32) {
	s := (float32(o)+0.5)*float32(n)/float32(m) - 0.5
	if s < 0 {
		s = 0
	}
	i0 := int(s)
	if i0 > n-1 {
		i0 = n - 1
	}
	i1 := min(i0+1, n-1)
	return i0, i1, s - float32(i0)
}

// fill writes the preprocessed image into dst, NHWC when nhwc is set, else
// NCHW; mirror flips it left to right (output column ox lands in column
// w−1−ox), so a mirrored input is exactly the mirror of the normal one.
func fill[R pixelReader](pp *preproc, rd R, b image.Rectangle, dst []float32, nhwc, mirror bool) {
	sw, sh := b.Dx(), b.Dy()
	hw := pp.h * pp.w
	var scale, shift [3]float32
	for c := 0; c < pp.c; c++ {
		scale[c] = 1 / pp.std[c]
		shift[c] = pp.mean[c]
	}
	for oy := 0; oy < pp.h; oy++ {
		y0, y1, fy := srcCoord(oy, sh, pp.h)
		y0 += b.Min.Y
		y1 += b.Min.Y
		for ox := 0; ox < pp.w; ox++ {
			x0, x1, fx := srcCoord(ox, sw, pp.w)
			x0 += b.Min.X
			x1 += b.Min.X
			r00, g00, b00 := rd.rgb(x0, y0)
			r01, g01, b01 := rd.rgb(x1, y0)
			r10, g10, b10 := rd.rgb(x0, y1)
			r11, g11, b11 := rd.rgb(x1, y1)
			rgb := [3]float32{
				lerp2(r00, r01, r10, r11, fx, fy),
				lerp2(g00, g01, g10, g11, fx, fy),
				lerp2(b00, b01, b10, b11, fx, fy),
			}
			if pp.c == 1 {
				rgb[0] = 0.299*rgb[0] + 0.587*rgb[1] + 0.114*rgb[2]
			} else if pp.bgr {
				rgb[0], rgb[2] = rgb[2], rgb[0]
			}
			col := ox
			if mirror {
				col = pp.w - 1 - ox
			}
			pix := oy*pp.w + col
			for c := 0; c < pp.c; c++ {
				v := (rgb[c]/255 - shift[c]) * scale[c]
				if nhwc {
					dst[pix*pp.c+c] = v
				} else {
					dst[c*hw+pix] = v
				}
			}
		}
	}
}

func lerp2(p00, p01, p10, p11 uint8, fx, fy float32) float32 {
	top := float32(p00) + (float32(p01)-float32(p00))*fx
	bot := float32(p10) + (float32(p11)-float32(p10))*fx
	return top + (bot-top)*fy
}

func (pp *preproc) run(img image.Image, dst []float32, nhwc, mirror bool) error {
	if pp.err != nil {
		return pp.err
	}
	if img == nil {
		return ErrNilImage
	}
	if rv := reflect.ValueOf(img); rv.Kind() == reflect.Pointer && rv.IsNil() {
		return ErrNilImage
	}
	b := img.Bounds()
	if b.Dx() < 1 || b.Dy() < 1 {
		return fmt.Errorf("%w: empty image %v", ErrShape, b)
	}
	if len(dst) != pp.c*pp.h*pp.w {
		return fmt.Errorf("%w: destination has %d values, want %d", ErrShape, len(dst), pp.c*pp.h*pp.w)
	}
	switch m := img.(type) {
	case *image.RGBA:
		fill(pp, rgbaReader{m}, b, dst, nhwc, mirror)
	case *image.NRGBA:
		fill(pp, nrgbaReader{m}, b, dst, nhwc, mirror)
	case *image.YCbCr:
		fill(pp, ycbcrReader{m}, b, dst, nhwc, mirror)
	default:
		fill(pp, genericReader{img}, b, dst, nhwc, mirror)
	}
	return nil
}

// Preprocess writes img, resized and normalised as the model expects (see the
// package's preprocessing notes), into dst in the logical NCHW layout.
func (s *Session) Preprocess(img image.Image, dst []float32) error {
	return s.e.pre.run(img, dst, false, false)
}

// Embed preprocesses img straight into the model's input buffer and runs the
// model, returning its first output (owned by the session, valid until the
// next call).
func (s *Session) Embed(img image.Image) ([]float32, error) { return s.embed(img, false) }

// EmbedMirrored is Embed of img's mirror image, flipped left to right after
// preprocessing. A gallery compares the two to tell a design from its
// mirrored twin (gallery.MatchMirroredInto).
func (s *Session) EmbedMirrored(img image.Image) ([]float32, error) { return s.embed(img, true) }

func (s *Session) embed(img image.Image, mirror bool) ([]float32, error) {
	p := s.e.p
	if s.e.pre.err != nil {
		return nil, s.e.pre.err
	}
	id := p.inputs[0]
	v := &p.vals[id]
	if err := s.e.pre.run(img, s.v[id], v.layout == layoutNHWC && !v.trivialNHWC(), mirror); err != nil {
		return nil, err
	}
	s.exec()
	return s.outs[0], nil
}
