package gallery

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// planGallery: 8 classes of 10 exemplars, 2 of each held out.
func planGallery(t *testing.T) (*Gallery, *clusters) {
	t.Helper()
	cl := newClusters(20, 32, 12)
	o := DefaultOptions()
	o.Threshold = 0.3
	g := mustNew(t, 32, o)
	for i := 0; i < 8; i++ {
		if _, err := g.AddClass(fmt.Sprint("sign", i), nil, cl.exemplars(i, 10, 0.6, fmt.Sprint("s", i))); err != nil {
			t.Fatal(err)
		}
	}
	return g, cl
}

// decisions matches every held-out exemplar of the gallery's classes the
// real way, for checking Plan's shortcut.
type heldOut struct {
	label string
	e     []float32
}

func heldOutSamples(g *Gallery) []heldOut {
	var out []heldOut
	for _, c := range g.load().classes {
		for _, e := range c.exemplars {
			if e.Validation {
				out = append(out, heldOut{c.label, e.Embedding})
			}
		}
	}
	return out
}

func decisionsOf(t *testing.T, g *Gallery, hs []heldOut) []string {
	out := make([]string, len(hs))
	for i, h := range hs {
		r, err := g.Match(h.e)
		if err != nil {
			t.Fatal(err)
		}
		if r.Known {
			out[i] = r.Label
		}
	}
	return out
}

func TestPlanHarmlessNewcomer(t *testing.T) {
	g, cl := planGallery(t)
	p, err := g.Plan("newsign", cl.exemplars(9, 5, 0.6, "new"), PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	r := p.Report
	if r.ValidationSamples != 16 || r.NewExemplars != 5 || r.NewValidation != 1 {
		t.Fatalf("counts: %+v", r)
	}
	if r.NegativeFlips != 0 || r.OverBudget || r.AccuracyAfter != r.AccuracyBefore {
		t.Fatalf("a distant class should not flip anything: %+v", r)
	}
	if r.LeaveOneOutSamples != 5 || r.LeaveOneOutAccuracy != 1 {
		t.Fatalf("leave-one-out: %v over %d", r.LeaveOneOutAccuracy, r.LeaveOneOutSamples)
	}
	if len(r.Nearest) != 5 || r.Nearest[0].Cosine < r.Nearest[4].Cosine {
		t.Fatalf("nearest: %+v", r.Nearest)
	}
	id, err := g.Commit(p)
	if err != nil {
		t.Fatal(err)
	}
	ci, _ := g.Class(id)
	if ci.Label != "newsign" || ci.Exemplars != 5 || ci.Validation != 1 || ci.HasThreshold {
		t.Fatalf("committed class: %+v", ci)
	}
	if _, err := g.Commit(p); !errors.Is(err, ErrStale) {
		t.Fatalf("second commit of the same plan: %v", err)
	}
}

func TestPlanHarmfulNewcomer(t *testing.T) {
	g, cl := planGallery(t)
	hs := heldOutSamples(g)
	before := decisionsOf(t, g, hs)
	// A "new" sign that is really sign0 under another name.
	p, err := g.Plan("impostor", cl.exemplars(0, 5, 0.4, "dup"), PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	r := p.Report
	if r.NegativeFlips == 0 || !r.OverBudget {
		t.Fatalf("a clone of sign0 should flip its samples: %+v", r)
	}
	if r.Nearest[0].Label != "sign0" || r.Nearest[0].Cosine < 0.8 {
		t.Fatalf("nearest: %+v", r.Nearest)
	}
	f := r.Flips[0]
	if f.Label != "sign0" || f.After != "impostor" || f.Before != "sign0" || !strings.HasPrefix(f.Source, "s0#") {
		t.Fatalf("flip: %+v", f)
	}
	_, err = g.Commit(p)
	if !errors.Is(err, ErrFlipBudget) || !strings.Contains(err.Error(), "impostor") {
		t.Fatalf("commit over budget: %v", err)
	}
	if _, err := g.Lookup("impostor"); err == nil {
		t.Fatal("refused commit changed the gallery")
	}
	if _, err := g.ForceCommit(p); err != nil {
		t.Fatal(err)
	}
	// The report must agree with what the committed gallery really does.
	after := decisionsOf(t, g, hs)
	neg, okB, okA := 0, 0, 0
	for i, h := range hs {
		rb, ra := before[i] == h.label, after[i] == h.label
		if rb {
			okB++
		}
		if ra {
			okA++
		}
		if rb && !ra {
			neg++
		}
	}
	n := float64(len(hs))
	if neg != r.NegativeFlips || float64(okB)/n != r.AccuracyBefore || float64(okA)/n != r.AccuracyAfter {
		t.Fatalf("report says %d flips, acc %v→%v; gallery does %d, %v→%v",
			r.NegativeFlips, r.AccuracyBefore, r.AccuracyAfter, neg, float64(okB)/n, float64(okA)/n)
	}
	txt := r.String()
	for _, want := range []string{"negative flip rate", "OVER BUDGET", "impostor", "sign0", "Flipped validation samples"} {
		if !strings.Contains(txt, want) {
			t.Errorf("report text lacks %q:\n%s", want, txt)
		}
	}
	js, err := json.Marshal(r)
	if err != nil || !strings.Contains(string(js), `"negative_flip_rate"`) {
		t.Fatalf("json: %v %s", err, js)
	}
}

func TestPlanStaleAndExtend(t *testing.T) {
	g, cl := planGallery(t)
	p, err := g.Plan("sign3", cl.exemplars(3, 3, 0.6, "more"), PlanOptions{ApplyThreshold: true})
	if err != nil {
		t.Fatal(err)
	}
	if p.Report.ClassID == 0 {
		t.Fatal("existing label should plan an extension")
	}
	stale, _ := g.Plan("x", cl.exemplars(10, 2, 0.6, ""), PlanOptions{})
	id, err := g.Commit(p)
	if err != nil || id != p.Report.ClassID {
		t.Fatalf("commit extension: %d %v", id, err)
	}
	ci, _ := g.Class(id)
	if ci.Exemplars != 13 || !ci.HasThreshold || ci.Threshold != p.Report.SuggestedThreshold {
		t.Fatalf("extended class: %+v", ci)
	}
	if _, err := g.Commit(stale); !errors.Is(err, ErrStale) {
		t.Fatalf("stale plan: %v", err)
	}
}

func TestPlanSuggestedThreshold(t *testing.T) {
	g, cl := planGallery(t)
	ex := cl.exemplars(9, 4, 0.6, "n")
	p, err := g.Plan("n", ex, PlanOptions{TargetFAR: 0.05})
	if err != nil {
		t.Fatal(err)
	}
	var train [][]float32
	for _, e := range ex {
		train = append(train, unit(e.Embedding))
	}
	proto := meanRow(train, 32)
	var imp []float32
	for _, c := range g.load().classes {
		for _, e := range c.exemplars {
			imp = append(imp, dot(e.Embedding, proto))
		}
	}
	want, _ := thresholdAtFAR(imp, 0.05)
	if d := p.Report.SuggestedThreshold - want; d > 1e-6 || d < -1e-6 {
		t.Fatalf("suggested %v, want %v", p.Report.SuggestedThreshold, want)
	}
	if p.Report.ThresholdImpostors != 80 || !p.Report.ThresholdResolved {
		t.Fatalf("impostors %d resolved %v", p.Report.ThresholdImpostors, p.Report.ThresholdResolved)
	}
}

func TestPlanCallerValidation(t *testing.T) {
	cl := newClusters(21, 16, 4)
	g := mustNew(t, 16, noHoldout())
	for i := 0; i < 3; i++ {
		g.AddClass(fmt.Sprint(i), nil, cl.exemplars(i, 3, 0.3, ""))
	}
	val := []Labelled{{Label: "0", Embedding: cl.sample(0, 0.3)}, {Label: "nope", Embedding: cl.sample(1, 0.3)}}
	p, err := g.Plan("3", cl.exemplars(3, 1, 0.3, ""), PlanOptions{Validation: val})
	if err != nil {
		t.Fatal(err)
	}
	r := p.Report
	if r.ValidationSamples != 1 || r.LeaveOneOutSamples != 0 || len(r.Notes) < 2 {
		t.Fatalf("%+v", r)
	}
	bad := []Labelled{{Label: "0", Embedding: make([]float32, 3)}}
	if _, err := g.Plan("3", cl.exemplars(3, 1, 0.3, ""), PlanOptions{Validation: bad}); !errors.Is(err, ErrDim) {
		t.Fatalf("bad validation: %v", err)
	}
	if _, err := g.Plan("3", nil, PlanOptions{}); !errors.Is(err, ErrNoExemplars) {
		t.Fatalf("no exemplars: %v", err)
	}
}

func TestPlanFewImpostorsKeepsThreshold(t *testing.T) {
	// Two far-apart classes: the newcomer's three impostors all score low,
	// so "just above every impostor" would accept nearly anything. The
	// suggestion must not go below the threshold in force.
	cl := newClusters(21, 8, 2)
	g := mustNew(t, 8, noHoldout())
	if _, err := g.AddClass("a", nil, cl.exemplars(0, 3, 0.2, "")); err != nil {
		t.Fatal(err)
	}
	p, err := g.Plan("b", cl.exemplars(1, 3, 0.2, ""), PlanOptions{TargetFAR: 0.01, ApplyThreshold: true})
	if err != nil {
		t.Fatal(err)
	}
	r := p.Report
	def := g.Options().Threshold
	if r.ThresholdResolved || r.ThresholdImpostors != 3 {
		t.Fatalf("resolved %v over %d impostors", r.ThresholdResolved, r.ThresholdImpostors)
	}
	if r.SuggestedThreshold != def || r.AppliedThreshold != def {
		t.Fatalf("suggested %v applied %v, want the default %v kept", r.SuggestedThreshold, r.AppliedThreshold, def)
	}
	if !strings.Contains(strings.Join(r.Notes, "\n"), "kept") {
		t.Fatalf("notes do not say the threshold was kept: %q", r.Notes)
	}
}
