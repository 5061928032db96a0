package gallery

import (
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/signet-go/signet/engine"
	"github.com/signet-go/signet/model"
	"github.com/signet-go/signet/model/modeltest"
)

// backgroundClasses draws n classes of per embeddings each.
func backgroundClasses(seed uint64, dim, n, per int, spread float64) [][][]float32 {
	c := newClusters(seed, dim, n)
	out := make([][][]float32, n)
	for i := range out {
		for range per {
			out[i] = append(out[i], c.sample(i, spread))
		}
	}
	return out
}

func TestMeasureEncoderCalibration(t *testing.T) {
	classes := backgroundClasses(11, 16, 40, 6, 0.8)
	cal, err := MeasureEncoderCalibration(classes, 3, "synthetic clusters")
	if err != nil {
		t.Fatal(err)
	}
	n := 40 * 6 * 39
	if cal.Shots != 3 || cal.Classes != 40 || cal.Embeddings != 240 || cal.Scores != n || cal.Source != "synthetic clusters" {
		t.Fatalf("counts %+v", cal)
	}
	if err := cal.Validate(); err != nil {
		t.Fatal(err)
	}
	// The oracle: every impostor score written out, thresholds by the
	// plain-list rule of Calibrate.
	var scores []float32
	for c := range classes {
		var train [][]float32
		for _, e := range classes[c][:3] {
			train = append(train, unit(e))
		}
		p := meanRow(train, 16)
		for o := range classes {
			if o != c {
				for _, e := range classes[o] {
					scores = append(scores, cosine64(p, unit(e)))
				}
			}
		}
	}
	var fars []float64
	for _, p := range cal.Points {
		fars = append(fars, p.FAR)
		want, _ := thresholdAtFAR(scores, p.FAR)
		if math.Abs(float64(p.Threshold-want)) > 1e-6 {
			t.Errorf("FAR %g: threshold %v, oracle %v", p.FAR, p.Threshold, want)
		}
		acc := 0
		for _, s := range scores {
			if s >= p.Threshold {
				acc++
			}
		}
		if float64(acc) > p.FAR*float64(n) {
			t.Errorf("FAR %g: %d of %d impostors accepted", p.FAR, acc, n)
		}
	}
	// 9360 scores resolve down to 0.0002 (5000), not 0.0001 (10000).
	if want := []float64{0.1, 0.05, 0.02, 0.01, 0.005, 0.002, 0.001, 0.0005, 0.0002}; !reflect.DeepEqual(fars, want) {
		t.Errorf("rates %v, want %v", fars, want)
	}
	again, _ := MeasureEncoderCalibration(classes, 3, "synthetic clusters")
	if !reflect.DeepEqual(cal, again) {
		t.Error("not deterministic")
	}
}

// TestMeasureMatchesCalibrate: with exactly shots exemplars per class, a
// gallery's pooled impostor scores are the calibration's, so Calibrate's
// gallery default lands on the tabulated threshold.
func TestMeasureMatchesCalibrate(t *testing.T) {
	classes := backgroundClasses(12, 16, 30, 4, 0.8)
	cal, err := MeasureEncoderCalibration(classes, 4, "")
	if err != nil {
		t.Fatal(err)
	}
	g := mustNew(t, 16, noHoldout())
	for i, es := range classes {
		var ex []Exemplar
		for _, e := range es {
			ex = append(ex, Exemplar{Embedding: e})
		}
		if _, err := g.AddClass(string(rune('a'+i%26))+string(rune('a'+i/26)), nil, ex); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range cal.Points {
		gc, err := g.Calibrate(p.FAR, CalibrateOptions{DryRun: true})
		if err != nil {
			t.Fatal(err)
		}
		if !gc.Global.Resolved || math.Abs(float64(gc.Global.Threshold-p.Threshold)) > 1e-6 {
			t.Errorf("FAR %g: gallery %v (resolved %v), encoder %v", p.FAR, gc.Global.Threshold, gc.Global.Resolved, p.Threshold)
		}
	}
}

func TestMeasureEncoderCalibrationRefused(t *testing.T) {
	ok := backgroundClasses(13, 4, 5, 3, 0.5)
	nan := backgroundClasses(13, 4, 5, 3, 0.5)
	nan[2][1][0] = float32(math.NaN())
	zero := backgroundClasses(13, 4, 5, 3, 0.5)
	zero[1][0] = make([]float32, 4)
	short := backgroundClasses(13, 4, 5, 3, 0.5)
	short[3][2] = short[3][2][:3]
	few := backgroundClasses(13, 4, 5, 3, 0.5)
	few[4] = few[4][:2]
	huge := make([][][]float32, 3000) // 3000·2999 scores
	for i := range huge {
		huge[i] = [][]float32{{1}}
	}
	for _, tc := range []struct {
		name    string
		classes [][][]float32
		shots   int
		source  string
		want    error
	}{
		{"zero shots", ok, 0, "", ErrInvalidOptions},
		{"one class", ok[:1], 3, "", ErrInvalidOptions},
		{"no classes", nil, 3, "", ErrInvalidOptions},
		{"class shorter than shots", few, 3, "", ErrInvalidOptions},
		{"too few scores", ok[:2], 3, "", ErrInvalidOptions},
		{"too many scores", huge, 1, "", ErrInvalidOptions},
		{"dims differ", short, 3, "", ErrDim},
		{"NaN", nan, 3, "", ErrNonFinite},
		{"zero embedding", zero, 3, "", ErrZeroEmbedding},
		{"control character in source", ok, 3, "a\nb", ErrInvalidOptions},
		{"source too long", ok, 3, strings.Repeat("x", MaxCalibrationSource+1), ErrInvalidOptions},
	} {
		if _, err := MeasureEncoderCalibration(tc.classes, tc.shots, tc.source); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
}

const goodCalibration = `{"version":1,"shots":3,"classes":11,"embeddings":100,"scores":1000,"source":"bg",` +
	`"points":[{"far":0.1,"threshold":0.3},{"far":0.01,"threshold":0.5},{"far":0.001,"threshold":0.7}]}`

func TestParseEncoderCalibration(t *testing.T) {
	c, err := ParseEncoderCalibration(goodCalibration)
	if err != nil {
		t.Fatal(err)
	}
	if c.String() != goodCalibration {
		t.Errorf("round trip:\n%s\n%s", c.String(), goodCalibration)
	}
	for _, tc := range []struct{ name, s string }{
		{"empty", ""},
		{"not JSON", "x"},
		{"array", "[]"},
		{"unknown field", strings.Replace(goodCalibration, `"shots"`, `"extra":1,"shots"`, 1)},
		{"trailing data", goodCalibration + "{}"},
		{"too large", goodCalibration + strings.Repeat(" ", MaxCalibrationBytes)},
		{"version", strings.Replace(goodCalibration, `"version":1`, `"version":2`, 1)},
		{"shots", strings.Replace(goodCalibration, `"shots":3`, `"shots":0`, 1)},
		{"one class", strings.Replace(goodCalibration, `"classes":11`, `"classes":1`, 1)},
		{"scores inconsistent", strings.Replace(goodCalibration, `"scores":1000`, `"scores":999`, 1)},
		{"embeddings below shots·classes", strings.Replace(goodCalibration, `"embeddings":100`, `"embeddings":32`, 1)},
		{"no points", `{"version":1,"shots":3,"classes":11,"embeddings":100,"scores":1000,"source":"","points":[]}`},
		{"FAR not decreasing", strings.Replace(goodCalibration, `"far":0.01`, `"far":0.1`, 1)},
		{"FAR unresolved", strings.Replace(goodCalibration, `"far":0.001`, `"far":0.0001`, 1)},
		{"FAR zero", strings.Replace(goodCalibration, `"far":0.001`, `"far":0`, 1)},
		{"threshold decreasing", strings.Replace(goodCalibration, `"threshold":0.7`, `"threshold":0.4`, 1)},
		{"threshold above 1", strings.Replace(goodCalibration, `"threshold":0.7`, `"threshold":1.5`, 1)},
		{"threshold below -1", strings.Replace(goodCalibration, `"threshold":0.3`, `"threshold":-2`, 1)},
		{"threshold overflows float32", strings.Replace(goodCalibration, `"threshold":0.7`, `"threshold":1e39`, 1)},
		{"control in source", strings.Replace(goodCalibration, `"bg"`, `"b\u001bg"`, 1)},
	} {
		_, err := ParseEncoderCalibration(tc.s)
		if !errors.Is(err, ErrInvalidCalibration) || !errors.Is(err, model.ErrCorrupt) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}

func TestThresholdAt(t *testing.T) {
	c, err := ParseEncoderCalibration(goodCalibration)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		far     float64
		thr     float32
		reached float64
	}{
		{0.5, 0.3, 0.1}, {0.1, 0.3, 0.1}, {0.05, 0.5, 0.01}, {0.01, 0.5, 0.01}, {0.002, 0.7, 0.001}, {0.001, 0.7, 0.001},
	} {
		thr, reached, err := c.ThresholdAt(tc.far)
		if err != nil || thr != tc.thr || reached != tc.reached {
			t.Errorf("ThresholdAt(%g) = %v, %v, %v; want %v, %v", tc.far, thr, reached, err, tc.thr, tc.reached)
		}
	}
	if _, _, err := c.ThresholdAt(0.0009); !errors.Is(err, ErrUnresolvedFAR) || !strings.Contains(err.Error(), "0.001") {
		t.Errorf("below the table: %v", err)
	}
	for _, far := range []float64{0, 1, -0.1, math.NaN()} {
		if _, _, err := c.ThresholdAt(far); !errors.Is(err, ErrInvalidOptions) {
			t.Errorf("ThresholdAt(%v): %v", far, err)
		}
	}
	var none *EncoderCalibration
	if _, _, err := none.ThresholdAt(0.01); !errors.Is(err, ErrUnresolvedFAR) {
		t.Errorf("nil calibration: %v", err)
	}
}

func TestEngineEncoderCalibration(t *testing.T) {
	withExtra := func(v string) *EngineEncoder {
		m := modeltest.Tiny(t)
		meta := m.Meta
		meta.Extra = map[string]string{EncoderCalibrationKey: v}
		m2, err := model.New(meta, m.Graph)
		if err != nil {
			t.Fatal(err)
		}
		if m2.Fingerprint() != m.Fingerprint() {
			t.Fatal("the calibration changed the fingerprint")
		}
		e, err := engine.New(m2, engine.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { e.Close() })
		enc, err := NewEngineEncoder(e)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(enc.Close)
		return enc
	}
	if c, err := tinyEncoder(t, engine.Options{}).Calibration(); c != nil || err != nil {
		t.Errorf("no calibration: %v, %v", c, err)
	}
	c, err := withExtra(goodCalibration).Calibration()
	if err != nil || c.Scores != 1000 {
		t.Errorf("stored calibration: %+v, %v", c, err)
	}
	if _, err := withExtra(`{"version":1}`).Calibration(); !errors.Is(err, ErrInvalidCalibration) {
		t.Errorf("bad calibration: %v", err)
	}
}

// FuzzParseEncoderCalibration: the parser never panics, and whatever it
// accepts encodes back to text it accepts as the same calibration, whose
// every tabulated rate gives its own threshold.
func FuzzParseEncoderCalibration(f *testing.F) {
	f.Add(goodCalibration)
	f.Add(`{"version":1,"shots":1,"classes":2,"embeddings":10,"scores":10,"source":"","points":[{"far":0.1,"threshold":1.0000001}]}`)
	f.Add(`{"version":1,"shots":1,"classes":2,"embeddings":10,"scores":10,"source":"","points":[{"far":0.1,"threshold":-1}]}`)
	f.Add(`{"version":1} `)
	f.Add(`{"version":1,"shots":3,"classes":40,"embeddings":240,"scores":9360,"source":"x","points":[{"far":0.1,"threshold":0.5}],"mirror":{"margin":0.04,"known_loss":0.01,"queries":120}}`)
	f.Add(`{"version":1,"shots":3,"classes":40,"embeddings":240,"scores":9360,"source":"x","points":[{"far":0.1,"threshold":0.5}],"mirror":{"margin":-3,"known_loss":0.01,"queries":120}}`)
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseEncoderCalibration(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidCalibration) {
				t.Fatalf("error %v does not wrap ErrInvalidCalibration", err)
			}
			return
		}
		enc, err := c.Encode()
		if err != nil {
			t.Fatalf("accepted but does not encode: %v", err)
		}
		c2, err := ParseEncoderCalibration(enc)
		if err != nil || !reflect.DeepEqual(c, c2) {
			t.Fatalf("round trip: %v\n%+v\n%+v", err, c, c2)
		}
		for _, p := range c.Points {
			thr, far, err := c.ThresholdAt(p.FAR)
			if err != nil || thr != p.Threshold || far != p.FAR {
				t.Fatalf("ThresholdAt(%v) = %v, %v, %v", p.FAR, thr, far, err)
			}
		}
	})
}
