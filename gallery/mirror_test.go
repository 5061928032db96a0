package gallery

import (
	"errors"
	"image"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestMatchMirroredInto: a gallery that knows one design of a mirrored
// pair turns its twin away as MirrorImage, keeps the design itself and a
// symmetric design, and leaves Unknown answers and errors as MatchInto.
func TestMatchMirroredInto(t *testing.T) {
	c := newClusters(5, 16, 4)
	right, left, sym := c.sample(0, 0), c.sample(1, 0), c.sample(2, 0)
	// The twin scores just above the threshold against the design it
	// mirrors; its mirror image is that design.
	twin := mix(right, left, 0.7)
	o := noHoldout()
	o.Threshold = cosine64(unit(right), unit(twin)) - 0.05
	g := mustNew(t, 16, o)
	if _, err := g.AddClass("no-right-turn", nil, []Exemplar{{Embedding: right}}); err != nil {
		t.Fatal(err)
	}
	if _, err := g.AddClass("roundabout", nil, []Exemplar{{Embedding: sym}}); err != nil {
		t.Fatal(err)
	}
	r := NewResult(2)
	for _, tc := range []struct {
		name         string
		q, mirrored  []float32
		known        bool
		reason       Reason
		mirrorScored bool
	}{
		{"design", right, twin, true, Accepted, true},
		{"twin", twin, right, false, MirrorImage, true},
		{"symmetric", sym, sym, true, Accepted, true},
		{"unknown", c.sample(3, 0), right, false, BelowThreshold, false},
	} {
		if err := g.MatchMirroredInto(tc.q, tc.mirrored, 0.02, r); err != nil {
			t.Fatal(err)
		}
		if r.Known != tc.known || r.Reason != tc.reason || (r.MirrorScore != 0) != tc.mirrorScored {
			t.Errorf("%s: known %v reason %v mirror score %v, want %v %v (scored %v)", tc.name, r.Known, r.Reason, r.MirrorScore, tc.known, tc.reason, tc.mirrorScored)
		}
		if !r.Known && r.Label != "" {
			t.Errorf("%s: unknown answer names %q", tc.name, r.Label)
		}
	}
	// The twin passes a margin larger than its mirror's lead.
	if err := g.MatchMirroredInto(twin, right, 1, r); err != nil || !r.Known {
		t.Errorf("margin 1: known %v, %v", r.Known, err)
	}
	if n := testing.AllocsPerRun(20, func() { g.MatchMirroredInto(twin, right, 0.02, r) }); n != 0 {
		t.Errorf("MatchMirroredInto allocates %v times", n)
	}
	for _, m := range []float32{float32(math.NaN()), 3, -3} {
		if err := g.MatchMirroredInto(right, twin, m, r); !errors.Is(err, ErrInvalidOptions) {
			t.Errorf("margin %v: %v, want ErrInvalidOptions", m, err)
		}
	}
	if err := g.MatchMirroredInto(right, twin[:3], 0, r); !errors.Is(err, ErrDim) {
		t.Errorf("short mirrored query: %v, want ErrDim", err)
	}
}

func mix(a, b []float32, wb float32) []float32 {
	out := make([]float32, len(a))
	for i := range a {
		out[i] = (1-wb)*a[i] + wb*b[i]
	}
	return out
}

// TestMeasureMirror: the margin is Calibrate's threshold rule over the
// genuine queries' mirror gains, written out by hand here, and it
// round-trips through the stored JSON; bad inputs are refused.
func TestMeasureMirror(t *testing.T) {
	classes := backgroundClasses(21, 16, 30, 6, 0.5)
	mirrored := backgroundClasses(22, 16, 30, 6, 0.5)
	// Half the classes are symmetric: their mirror images are the images.
	for k := 0; k < 30; k += 2 {
		mirrored[k] = classes[k]
	}
	cal, err := MeasureEncoderCalibration(classes, 3, "synthetic")
	if err != nil {
		t.Fatal(err)
	}
	if err := cal.MeasureMirror(classes, mirrored, 0.05); err != nil {
		t.Fatal(err)
	}
	var ds []float64
	for k := range classes {
		var sum [16]float64
		for _, e := range classes[k][:3] {
			u := unit(e)
			for i := range sum {
				sum[i] += float64(u[i])
			}
		}
		proto := make([]float32, 16)
		var n float64
		for _, v := range sum {
			n += v * v
		}
		for i, v := range sum {
			proto[i] = float32(v / math.Sqrt(n))
		}
		for i := 3; i < 6; i++ {
			ds = append(ds, float64(cosine64(proto, unit(mirrored[k][i]))-cosine64(proto, unit(classes[k][i]))))
		}
	}
	slices.Sort(ds)
	slices.Reverse(ds)
	// 90 queries, known loss 0.05: the margin lies just above the 5th
	// largest gain (⌊0.05·90⌋ = 4 of them above it).
	m := cal.Mirror
	if m == nil || m.Queries != 90 || m.KnownLoss != 0.05 {
		t.Fatalf("mirror %+v", m)
	}
	if !(float64(m.Margin) > ds[4]) || float64(m.Margin) > ds[4]+1e-6 || float64(m.Margin) <= ds[5] {
		t.Errorf("margin %v, want just above %v (gains %v…)", m.Margin, ds[4], ds[:6])
	}
	s, err := cal.Encode()
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParseEncoderCalibration(s)
	if err != nil || *back.Mirror != *m {
		t.Fatalf("round trip: %+v, %v", back.Mirror, err)
	}
	for name, bad := range map[string]MirrorCalibration{
		"margin":   {Margin: 2.5, KnownLoss: 0.05, Queries: 90},
		"loss":     {Margin: 0.1, KnownLoss: 0, Queries: 90},
		"queries":  {Margin: 0.1, KnownLoss: 0.05, Queries: 10},
		"too many": {Margin: 0.1, KnownLoss: 0.05, Queries: 1000},
		"nan":      {Margin: float32(math.NaN()), KnownLoss: 0.05, Queries: 90},
	} {
		c := *cal
		c.Mirror = &bad
		if err := c.Validate(); !errors.Is(err, ErrInvalidCalibration) {
			t.Errorf("%s: %v, want ErrInvalidCalibration", name, err)
		}
	}
	if err := cal.MeasureMirror(classes, mirrored[:3], 0.05); !errors.Is(err, ErrInvalidOptions) {
		t.Errorf("mismatched classes: %v", err)
	}
	if err := cal.MeasureMirror(classes, mirrored, 0.001); !errors.Is(err, ErrInvalidOptions) {
		t.Errorf("unresolved known loss: %v", err)
	}
}

// mirrorEncoder is fakeEncoder with EmbedMirrored: the embedding of the
// image flipped left to right.
type mirrorEncoder struct{ *fakeEncoder }

func (m mirrorEncoder) EmbedMirrored(img image.Image) ([]float32, error) {
	b := img.Bounds()
	flip := image.NewRGBA(b)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			flip.Set(b.Max.X-1-(x-b.Min.X), y, img.At(x, y))
		}
	}
	return m.Embed(flip)
}

// TestMatchImageMirrored: through an encoder, the mirror image of an
// enrolled design is turned away and the design itself recognised; a nil
// image and another encoder are refused as MatchImage refuses them.
func TestMatchImageMirrored(t *testing.T) {
	enc := mirrorEncoder{&fakeEncoder{grid: 4, id: 1}}
	rng := rand.New(rand.NewPCG(3, 4))
	design := signImage(7, rng) // four differently coloured quadrants: chiral
	o := noHoldout()
	o.Threshold = -1 // everything passes the threshold: only the check decides
	g := mustNew(t, enc.Dim(), o)
	ex, err := NewExemplar(enc, design, "design", false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.AddClass("design", nil, []Exemplar{ex}); err != nil {
		t.Fatal(err)
	}
	other, err := NewExemplar(enc, signImage(8, rng), "other", false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.AddClass("other", nil, []Exemplar{other}); err != nil {
		t.Fatal(err)
	}
	mirrored := image.NewRGBA(design.Bounds())
	for y := 0; y < 16; y++ {
		for x := 0; x < 16; x++ {
			mirrored.Set(15-x, y, design.At(x, y))
		}
	}
	r := NewResult(2)
	if err := g.MatchImageMirrored(enc, design, 0.05, r); err != nil || !r.Known || r.Label != "design" {
		t.Fatalf("design: known %v %q (%v), %v", r.Known, r.Label, r.Reason, err)
	}
	if err := g.MatchImageMirrored(enc, mirrored, 0.05, r); err != nil || r.Known || r.Reason != MirrorImage {
		t.Fatalf("mirror image: known %v %q (%v), %v", r.Known, r.Label, r.Reason, err)
	}
	if err := g.MatchImageMirrored(enc, nil, 0.05, r); !errors.Is(err, ErrNilImage) {
		t.Errorf("nil image: %v", err)
	}
	if err := g.MatchImageMirrored(mirrorEncoder{&fakeEncoder{grid: 4, id: 2}}, design, 0.05, r); !errors.Is(err, ErrEncoderMismatch) {
		t.Errorf("other encoder: %v", err)
	}
}

// TestClassScore: the mirror check's one-class score equals classScores'
// for every class, in every prototype mode and storage (rows of several
// per class, int8 included).
func TestClassScore(t *testing.T) {
	c := newClusters(9, 24, 7)
	for _, mode := range []Mode{MeanPrototype, MultiPrototype, KNN} {
		for _, st := range []Storage{Float32, Int8} {
			o := noHoldout()
			o.Mode, o.K, o.Storage = mode, 2, st
			g := mustNew(t, 24, o)
			for i := range 7 {
				if _, err := g.AddClass(string(rune('a'+i)), nil, c.exemplars(i, 1+i%4, 0.4, "x")); err != nil {
					t.Fatal(err)
				}
			}
			s := g.load()
			r := NewResult(1)
			q := unit(c.sample(3, 0.6))
			all := slices.Clone(s.classScores(q, r))
			for ci, want := range all {
				if got := s.classScore(q, ci, r); got != want {
					t.Errorf("%v %v class %d: classScore %v, classScores %v", mode, st, ci, got, want)
				}
			}
		}
	}
}
