package gallery

import (
	"image"
	"image/color"
	"math"
	"math/rand/v2"
	"testing"
)

// clusters makes synthetic classes: a random unit centre per class and
// samples = centre + Gaussian noise of the given spread, normalised.
type clusters struct {
	dim     int
	centres [][]float32
	rng     *rand.Rand
}

func newClusters(seed uint64, dim, n int) *clusters {
	c := &clusters{dim: dim, rng: rand.New(rand.NewPCG(seed, 1))}
	for i := 0; i < n; i++ {
		c.centres = append(c.centres, c.randomUnit())
	}
	return c
}

func (c *clusters) randomUnit() []float32 {
	v := make([]float32, c.dim)
	for i := range v {
		v[i] = float32(c.rng.NormFloat64())
	}
	return unit(v)
}

func unit(v []float32) []float32 {
	var ss float64
	for _, x := range v {
		ss += float64(x) * float64(x)
	}
	inv := float32(1 / math.Sqrt(ss))
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = x * inv
	}
	return out
}

// sample draws one embedding of class i; spread is the per-coordinate
// noise relative to a unit vector's typical coordinate size.
func (c *clusters) sample(i int, spread float64) []float32 {
	v := make([]float32, c.dim)
	s := spread / math.Sqrt(float64(c.dim))
	for j := range v {
		v[j] = c.centres[i][j] + float32(s*c.rng.NormFloat64())
	}
	return unit(v)
}

func (c *clusters) exemplars(i, n int, spread float64, src string) []Exemplar {
	out := make([]Exemplar, n)
	for j := range out {
		out[j] = Exemplar{Embedding: c.sample(i, spread), Source: src + "#" + string(rune('a'+j))}
	}
	return out
}

func fp(b byte) [32]byte {
	var f [32]byte
	for i := range f {
		f[i] = b + byte(i)
	}
	return f
}

func mustNew(t testing.TB, dim int, o Options) *Gallery {
	t.Helper()
	g, err := New(dim, fp(1), o)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func noHoldout() Options {
	o := DefaultOptions()
	o.ValidationShare = 0
	return o
}

// fakeEncoder embeds an image by the mean colour of a grid of cells,
// optionally followed by a fixed orthogonal mixing, so two fakes with
// different mixings are "different encoders" describing the same images.
type fakeEncoder struct {
	grid int
	mix  [][]float32 // nil: identity
	id   byte
	fail bool
}

func (f *fakeEncoder) Dim() int              { return 3 * f.grid * f.grid }
func (f *fakeEncoder) Fingerprint() [32]byte { return fp(f.id) }

func (f *fakeEncoder) Embed(img image.Image) ([]float32, error) {
	if f.fail {
		return nil, ErrNonFinite
	}
	b := img.Bounds()
	v := make([]float32, f.Dim())
	n := make([]float32, f.grid*f.grid)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			cx := (x - b.Min.X) * f.grid / b.Dx()
			cy := (y - b.Min.Y) * f.grid / b.Dy()
			cell := cy*f.grid + cx
			r, g, bb, _ := img.At(x, y).RGBA()
			v[3*cell] += float32(r)/65535 - 0.5
			v[3*cell+1] += float32(g)/65535 - 0.5
			v[3*cell+2] += float32(bb)/65535 - 0.5
			n[cell]++
		}
	}
	for i := range v {
		v[i] /= n[i/3]
	}
	if f.mix != nil {
		out := make([]float32, len(v))
		for i, row := range f.mix {
			for j, m := range row {
				out[i] += m * v[j]
			}
		}
		v = out
	}
	return v, nil
}

// signImage draws a 16×16 crop: a class-specific colour pattern plus a
// little per-sample noise.
func signImage(class int, rng *rand.Rand) image.Image {
	img := image.NewRGBA(image.Rect(0, 0, 16, 16))
	base := rand.New(rand.NewPCG(uint64(class)+100, 7))
	cells := make([]color.RGBA, 4)
	for i := range cells {
		cells[i] = color.RGBA{uint8(base.IntN(256)), uint8(base.IntN(256)), uint8(base.IntN(256)), 255}
	}
	for y := 0; y < 16; y++ {
		for x := 0; x < 16; x++ {
			c := cells[(y/8)*2+x/8]
			j := func(v uint8) uint8 {
				w := int(v) + rng.IntN(21) - 10
				return uint8(min(255, max(0, w)))
			}
			img.Set(x, y, color.RGBA{j(c.R), j(c.G), j(c.B), 255})
		}
	}
	return img
}

// permutationMix is an orthogonal matrix: a signed permutation.
func permutationMix(dim int, seed uint64) [][]float32 {
	rng := rand.New(rand.NewPCG(seed, 3))
	p := rng.Perm(dim)
	m := make([][]float32, dim)
	for i := range m {
		m[i] = make([]float32, dim)
		s := float32(1)
		if rng.IntN(2) == 0 {
			s = -1
		}
		m[i][p[i]] = s
	}
	return m
}
