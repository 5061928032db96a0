package engine

import (
	"errors"
	"image"
	"image/color"
	"math"
	"math/rand"
	"testing"

	"github.com/signet-go/signet/model"
)

// imageModel is a tiny model over a [1,3,h,w] input whose Preprocess/Embed
// behaviour is under test.
func imageModel(t testing.TB, h, w int64, order string, mean, std []float32) *model.Model {
	b := newGB(3, []int64{1, 3, h, w})
	x := b.conv("input", 3, 4, 3, 1, ints("pads", 1, 1, 1, 1), strA("activation", "Relu"))
	x = b.node(model.OpGlobalAveragePool, []string{x})
	b.g.Outputs = []model.Value{{Name: x}}
	m, err := model.New(model.Metadata{Name: "img", InputLayout: "NCHW", ChannelOrder: order, Mean: mean, Std: std}, b.g)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// hidden hides an image's concrete type so the generic At() path runs.
type hidden struct{ image.Image }

func testImages(r *rand.Rand) map[string]image.Image {
	rgba := image.NewRGBA(image.Rect(0, 0, 23, 17))
	nrgba := image.NewNRGBA(image.Rect(0, 0, 9, 31))
	ycc := image.NewYCbCr(image.Rect(0, 0, 20, 14), image.YCbCrSubsampleRatio420)
	gray := image.NewGray(image.Rect(0, 0, 7, 5))
	r.Read(rgba.Pix)
	for i := 3; i < len(rgba.Pix); i += 4 {
		rgba.Pix[i] = 255 // keep premultiplied values valid
	}
	r.Read(nrgba.Pix)
	r.Read(ycc.Y)
	r.Read(ycc.Cb)
	r.Read(ycc.Cr)
	r.Read(gray.Pix)
	big := image.NewRGBA(image.Rect(-5, -3, 40, 30))
	r.Read(big.Pix)
	return map[string]image.Image{
		"rgba": rgba, "nrgba": nrgba, "ycbcr": ycc, "gray": gray,
		"subimage": big.SubImage(image.Rect(3, 2, 30, 21)),
		"ycc-sub":  ycc.SubImage(image.Rect(3, 3, 17, 12)),
	}
}

// refPreprocess is the float64 statement of the documented convention.
func refPreprocess(img image.Image, h, w int, bgr bool, mean, std []float32) []float64 {
	b := img.Bounds()
	sw, sh := b.Dx(), b.Dy()
	out := make([]float64, 3*h*w)
	coord := func(o, n, m int) (int, int, float64) {
		s := (float64(o)+0.5)*float64(n)/float64(m) - 0.5
		s = math.Max(s, 0)
		i0 := min(int(math.Floor(s)), n-1)
		return i0, min(i0+1, n-1), s - float64(i0)
	}
	px := func(x, y, c int) float64 {
		r, g, bb, _ := img.At(b.Min.X+x, b.Min.Y+y).RGBA()
		return float64([3]uint32{r, g, bb}[c] >> 8)
	}
	for oy := 0; oy < h; oy++ {
		y0, y1, fy := coord(oy, sh, h)
		for ox := 0; ox < w; ox++ {
			x0, x1, fx := coord(ox, sw, w)
			for c := 0; c < 3; c++ {
				v := (1-fy)*((1-fx)*px(x0, y0, c)+fx*px(x1, y0, c)) + fy*((1-fx)*px(x0, y1, c)+fx*px(x1, y1, c))
				oc := c
				if bgr {
					oc = 2 - c
				}
				out[oc*h*w+oy*w+ox] = (v/255 - float64(mean[oc])) / float64(std[oc])
			}
		}
	}
	return out
}

func TestPreprocessMatchesConvention(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	mean := []float32{0.485, 0.456, 0.406}
	std := []float32{0.229, 0.224, 0.225}
	for _, order := range []string{"RGB", "BGR"} {
		for _, size := range [][2]int{{8, 8}, {16, 12}, {40, 33}} {
			e, err := New(imageModel(t, int64(size[0]), int64(size[1]), order, mean, std), Options{})
			if err != nil {
				t.Fatal(err)
			}
			s := e.NewSession()
			for name, img := range testImages(r) {
				got := make([]float32, 3*size[0]*size[1])
				if err := s.Preprocess(img, got); err != nil {
					t.Fatal(err)
				}
				want := refPreprocess(img, size[0], size[1], order == "BGR", mean, std)
				for i := range want {
					if math.Abs(float64(got[i])-want[i]) > 1e-4 {
						t.Fatalf("%s %s %v: [%d] = %v, want %v", order, name, size, i, got[i], want[i])
					}
				}
				// The fast paths equal the generic At() path exactly.
				gen := make([]float32, len(got))
				if err := s.Preprocess(hidden{img}, gen); err != nil {
					t.Fatal(err)
				}
				for i := range gen {
					if gen[i] != got[i] {
						t.Fatalf("%s %s: fast path [%d] = %v, At() path %v", order, name, i, got[i], gen[i])
					}
				}
				// Embed equals Run on the preprocessed tensor.
				emb, err := s.Embed(img)
				if err != nil {
					t.Fatal(err)
				}
				emb = append([]float32(nil), emb...)
				run, err := s.Run(got)
				if err != nil {
					t.Fatal(err)
				}
				for i := range run {
					if run[i] != emb[i] {
						t.Fatalf("%s: Embed [%d] = %v, Run %v", name, i, emb[i], run[i])
					}
				}
				// EmbedMirrored equals Run on the tensor flipped left to right.
				flipped := make([]float32, len(got))
				for c := 0; c < 3; c++ {
					for y := 0; y < size[0]; y++ {
						row := got[(c*size[0]+y)*size[1]:][:size[1]]
						for x, v := range row {
							flipped[(c*size[0]+y)*size[1]+size[1]-1-x] = v
						}
					}
				}
				mir, err := s.EmbedMirrored(img)
				if err != nil {
					t.Fatal(err)
				}
				mir = append([]float32(nil), mir...)
				if run, err = s.Run(flipped); err != nil {
					t.Fatal(err)
				}
				for i := range run {
					if run[i] != mir[i] {
						t.Fatalf("%s: EmbedMirrored [%d] = %v, Run on the flipped tensor %v", name, i, mir[i], run[i])
					}
				}
			}
			s.Close()
		}
	}
}

func TestPreprocessSameSizeIsExact(t *testing.T) {
	img := image.NewNRGBA(image.Rect(0, 0, 5, 4))
	for i := range img.Pix {
		img.Pix[i] = uint8(i * 7)
	}
	for i := 3; i < len(img.Pix); i += 4 {
		img.Pix[i] = 255
	}
	e, err := New(imageModel(t, 4, 5, "RGB", nil, nil), Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := e.NewSession()
	defer s.Close()
	got := make([]float32, 3*4*5)
	if err := s.Preprocess(img, got); err != nil {
		t.Fatal(err)
	}
	for y := 0; y < 4; y++ {
		for x := 0; x < 5; x++ {
			c := img.NRGBAAt(x, y)
			for ch, v := range []uint8{c.R, c.G, c.B} {
				if want := float32(v) / 255; got[ch*20+y*5+x] != want {
					t.Fatalf("(%d,%d,%d) = %v, want %v", x, y, ch, got[ch*20+y*5+x], want)
				}
			}
		}
	}
}

func TestPreprocessErrors(t *testing.T) {
	e, err := New(imageModel(t, 8, 8, "RGB", nil, nil), Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := e.NewSession()
	defer s.Close()
	if _, err := s.Embed(nil); !errors.Is(err, ErrNilImage) {
		t.Fatalf("nil image: %v", err)
	}
	var typedNil *image.RGBA
	if _, err := s.Embed(typedNil); !errors.Is(err, ErrNilImage) {
		t.Fatalf("typed nil image: %v", err)
	}
	if err := s.Preprocess(image.NewRGBA(image.Rect(0, 0, 4, 4)), make([]float32, 5)); !errors.Is(err, ErrShape) {
		t.Fatalf("short dst: %v", err)
	}
	if _, err := s.Embed(image.NewRGBA(image.Rect(0, 0, 0, 4))); !errors.Is(err, ErrShape) {
		t.Fatalf("empty image: %v", err)
	}
	// model.New rejects such metadata; the engine must not trust it either.
	bm := imageModel(t, 8, 8, "RGB", nil, nil)
	bm.Meta.Mean = []float32{0.5}
	bad, err := New(bm, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bad.NewSession().Embed(image.NewRGBA(image.Rect(0, 0, 4, 4))); !errors.Is(err, ErrShape) {
		t.Fatalf("one mean for three channels: %v", err)
	}
}

func TestEmbedAllocatesNothing(t *testing.T) {
	e, err := New(imageModel(t, 16, 16, "RGB", []float32{0.5, 0.5, 0.5}, []float32{0.25, 0.25, 0.25}), Options{Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	s := e.NewSession()
	defer s.Close()
	for name, img := range map[string]image.Image{
		"rgba":  image.NewRGBA(image.Rect(0, 0, 30, 20)),
		"nrgba": image.NewNRGBA(image.Rect(0, 0, 30, 20)),
		"ycbcr": image.NewYCbCr(image.Rect(0, 0, 30, 20), image.YCbCrSubsampleRatio420),
	} {
		if _, err := s.Embed(img); err != nil {
			t.Fatal(err)
		}
		if n := testing.AllocsPerRun(10, func() { s.Embed(img) }); n != 0 {
			t.Errorf("%s: Embed allocates %v times", name, n)
		}
		if n := testing.AllocsPerRun(10, func() { s.EmbedMirrored(img) }); n != 0 {
			t.Errorf("%s: EmbedMirrored allocates %v times", name, n)
		}
	}
	_ = color.RGBA{}
}
