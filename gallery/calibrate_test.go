package gallery

import (
	"errors"
	"fmt"
	"math"
	"testing"
)

func TestCalibrate(t *testing.T) {
	const dim, far = 32, 0.05
	cl := newClusters(12, dim, 6)
	g := mustNew(t, dim, DefaultOptions()) // 0.2 held out: validation genuine pairs too
	for i := 0; i < 6; i++ {
		if _, err := g.AddClass(fmt.Sprint("c", i), nil, cl.exemplars(i, 6, 1.0, "")); err != nil {
			t.Fatal(err)
		}
	}
	var bg [][]float32
	for i := 0; i < 60; i++ {
		bg = append(bg, cl.randomUnit())
	}
	v0 := g.Version()
	dry, err := g.Calibrate(far, CalibrateOptions{Background: bg, DryRun: true})
	if err != nil || g.Version() != v0 {
		t.Fatalf("dry run changed the gallery (%v)", err)
	}
	cal, err := g.Calibrate(far, CalibrateOptions{Background: bg})
	if err != nil {
		t.Fatal(err)
	}
	if cal.Global.Threshold != dry.Global.Threshold {
		t.Fatal("dry run and real run disagree")
	}
	s := g.load()
	for ci, c := range s.classes {
		cc := cal.Classes[ci]
		// Brute-force impostor scores against the class's prototypes.
		var imp []float32
		for cj, o := range s.classes {
			if cj == ci {
				continue
			}
			for _, e := range o.exemplars {
				imp = append(imp, maxRow(s.dot, e.Embedding, c.rows, dim))
			}
		}
		for _, b := range bg {
			nb, _ := normalized(b, dim) // as Calibrate stores it
			imp = append(imp, maxRow(s.dot, nb, c.rows, dim))
		}
		if cc.Impostors != len(imp) {
			t.Fatalf("%s: %d impostors, want %d", c.label, cc.Impostors, len(imp))
		}
		allowed := int(far * float64(len(imp)))
		above, atPrev := 0, 0
		prev := math.Nextafter32(cc.Threshold, -2)
		for _, v := range imp {
			if v >= cc.Threshold {
				above++
			}
			if v >= prev {
				atPrev++
			}
		}
		if above > allowed {
			t.Errorf("%s: %d impostors accepted, %d allowed", c.label, above, allowed)
		}
		if atPrev <= allowed {
			t.Errorf("%s: threshold not tight: one ulp lower accepts only %d ≤ %d", c.label, atPrev, allowed)
		}
		if math.Abs(cc.FalseAcceptRate-float64(above)/float64(len(imp))) > 1e-12 {
			t.Errorf("%s: FAR %v, counted %v", c.label, cc.FalseAcceptRate, float64(above)/float64(len(imp)))
		}
		// Genuine: leave-one-out on training, full prototype on validation.
		train := c.training()
		var gen []float32
		for i := range train {
			var others [][]float32
			for j := range train {
				if j != i {
					others = append(others, train[j])
				}
			}
			gen = append(gen, dot(train[i], meanRow(others, dim)))
		}
		for _, e := range c.exemplars {
			if e.Validation {
				gen = append(gen, dot(e.Embedding, c.rows))
			}
		}
		ok := 0
		for _, v := range gen {
			if v >= cc.Threshold {
				ok++
			}
		}
		if cc.Genuine != len(gen) || math.Abs(cc.GenuineAcceptRate-float64(ok)/float64(len(gen))) > 1e-12 {
			t.Errorf("%s: GAR %v over %d, want %v over %d", c.label, cc.GenuineAcceptRate, cc.Genuine, float64(ok)/float64(len(gen)), len(gen))
		}
		if !cc.Resolved {
			t.Errorf("%s: %d impostors should resolve FAR %v", c.label, len(imp), far)
		}
		ci2, _ := g.Class(c.id)
		if !ci2.HasThreshold || ci2.Threshold != cc.Threshold || ci2.GenuineAcceptRate != cc.GenuineAcceptRate {
			t.Errorf("%s: calibration not applied: %+v", c.label, ci2)
		}
	}
	if g.Options().Threshold != cal.Global.Threshold {
		t.Fatal("global threshold not applied")
	}
	if _, err := g.Calibrate(0, CalibrateOptions{}); !errors.Is(err, ErrInvalidOptions) {
		t.Fatalf("FAR 0: %v", err)
	}
}

func TestCalibrateFewImpostors(t *testing.T) {
	cl := newClusters(13, 8, 2)
	g := mustNew(t, 8, noHoldout())
	g.AddClass("a", nil, cl.exemplars(0, 3, 0.3, ""))
	g.AddClass("b", nil, []Exemplar{{Embedding: cl.sample(1, 0.3)}})
	cal, err := g.Calibrate(0.01, CalibrateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	a, b := cal.Classes[0], cal.Classes[1]
	if a.Resolved || b.Resolved {
		t.Fatal("3 impostors cannot resolve FAR 0.01")
	}
	if b.Genuine != 0 || b.GenuineAcceptRate != -1 {
		t.Fatalf("single-exemplar class: %+v", b)
	}
	// With zero false accepts allowed, the threshold sits just above the
	// best impostor.
	best := float32(-2)
	for _, e := range g.load().classes[1].exemplars {
		best = max(best, maxRow(g.load().dot, e.Embedding, g.load().classes[0].rows, 8))
	}
	if a.Estimate != math.Nextafter32(best, 2) {
		t.Fatalf("estimate %v, want just above %v", a.Estimate, best)
	}
	// Three impostors cannot justify loosening the default 0.5: it is kept,
	// and applied as it was.
	def := g.Options().Threshold
	if a.Estimate >= def || !a.Kept || a.Threshold != def {
		t.Fatalf("estimate %v default %v: kept %v threshold %v", a.Estimate, def, a.Kept, a.Threshold)
	}
	if ci, _ := g.Class(a.ID); ci.Threshold != def {
		t.Fatalf("applied %v, want the default %v kept", ci.Threshold, def)
	}
	// A stricter estimate from the same few impostors is applied: sparse data
	// may tighten a threshold.
	if err := g.SetThreshold(-0.5); err != nil {
		t.Fatal(err)
	}
	if err := g.ClearClassThreshold(a.ID); err != nil {
		t.Fatal(err)
	}
	cal, err = g.Calibrate(0.01, CalibrateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if a = cal.Classes[0]; a.Kept || a.Threshold != a.Estimate {
		t.Fatalf("tightening: %+v", a)
	}
}

func TestThresholdCeiling(t *testing.T) {
	// An impostor identical to a class's prototype scores 1 (or one ulp
	// below, depending on the dot-product tier's summation order): the only
	// threshold that rejects it lies just above that score, above 1 when the
	// score is 1, and must survive validation and a save/load.
	cl := newClusters(14, 8, 1)
	g := mustNew(t, 8, noHoldout())
	g.AddClass("a", nil, []Exemplar{{Embedding: cl.centres[0]}})
	g.AddClass("b", nil, []Exemplar{{Embedding: cl.centres[0]}})
	cal, err := g.Calibrate(0.01, CalibrateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	self := maxRow(g.load().dot, cl.centres[0], g.load().classes[1].rows, 8)
	if thr := cal.Classes[0].Threshold; thr <= self || (self >= 1 && thr <= 1) {
		t.Fatalf("threshold %v does not reject the impostor's score %v", thr, self)
	}
	h, err := Decode(g.Encode())
	if err != nil {
		t.Fatal(err)
	}
	if c, err := h.Class(cal.Classes[0].ID); err != nil || !c.HasThreshold || c.Threshold != cal.Classes[0].Threshold {
		t.Fatalf("after a save/load class %d has threshold %+v (%v), calibrated %v", cal.Classes[0].ID, c, err, cal.Classes[0].Threshold)
	}
	for name, x := range map[string]*Gallery{"calibrated": g, "reloaded": h} {
		if r, _ := x.Match(cl.centres[0]); r.Known {
			t.Fatalf("%s gallery accepted a query the calibration says is indistinguishable", name)
		}
	}
}
