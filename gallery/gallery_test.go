package gallery

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"testing"
)

func TestEnrolAndMatch(t *testing.T) {
	cl := newClusters(1, 32, 4)
	g := mustNew(t, 32, noHoldout())
	var ids []uint64
	for i := 0; i < 4; i++ {
		id, err := g.AddClass(fmt.Sprintf("sign%d", i), map[string]string{"i": fmt.Sprint(i)}, cl.exemplars(i, 4, 0.3, "s"))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if ids[0] != 1 || ids[3] != 4 {
		t.Fatalf("ids %v, want 1..4", ids)
	}
	for i := 0; i < 4; i++ {
		r, err := g.Match(cl.sample(i, 0.3))
		if err != nil {
			t.Fatal(err)
		}
		if !r.Known || r.ID != ids[i] || r.Label != fmt.Sprintf("sign%d", i) {
			t.Fatalf("class %d: got %+v", i, r)
		}
		if len(r.Candidates) != 4 {
			t.Fatalf("want 4 candidates, got %d", len(r.Candidates))
		}
		for j := 1; j < len(r.Candidates); j++ {
			a, b := r.Candidates[j-1], r.Candidates[j]
			if a.Score < b.Score || math.Abs(float64(a.Margin-(a.Score-b.Score))) > 1e-6 {
				t.Fatalf("ranking/margin wrong: %+v", r.Candidates)
			}
		}
		if last := r.Candidates[3]; math.Abs(float64(last.Margin-(last.Score+1))) > 1e-6 {
			t.Fatalf("last margin %v, want score+1", last.Margin)
		}
	}
	// Enrol extends by label; the id stays.
	id, err := g.Enrol("sign2", cl.exemplars(2, 2, 0.3, "more"))
	if err != nil || id != ids[2] {
		t.Fatalf("Enrol existing: id %d err %v", id, err)
	}
	if ci, _ := g.Class(id); ci.Exemplars != 6 {
		t.Fatalf("exemplars %d, want 6", ci.Exemplars)
	}
	if err := g.Rename(ids[0], "stop"); err != nil {
		t.Fatal(err)
	}
	if ci, err := g.Lookup("stop"); err != nil || ci.ID != ids[0] || ci.Meta["i"] != "0" {
		t.Fatalf("after rename: %+v %v", ci, err)
	}
	if err := g.Remove(ids[1]); err != nil {
		t.Fatal(err)
	}
	list := g.List()
	if len(list) != 3 || list[0].ID != ids[0] || list[1].ID != ids[2] {
		t.Fatalf("List after remove: %+v", list)
	}
	r, _ := g.Match(cl.sample(1, 0.3))
	for _, c := range r.Candidates {
		if c.ID == ids[1] {
			t.Fatal("removed class still matched")
		}
	}
}

func TestErrors(t *testing.T) {
	cl := newClusters(2, 8, 2)
	g := mustNew(t, 8, noHoldout())
	id, err := g.AddClass("a", nil, cl.exemplars(0, 2, 0.1, "a"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.AddClass("b", nil, cl.exemplars(1, 2, 0.1, "b")); err != nil {
		t.Fatal(err)
	}
	nan := cl.sample(0, 0.1)
	nan[3] = float32(math.NaN())
	inf := cl.sample(0, 0.1)
	inf[0] = float32(math.Inf(1))
	cases := []struct {
		name string
		err  error
		want error
	}{
		{"duplicate label", func() error { _, e := g.AddClass("a", nil, cl.exemplars(0, 1, 0.1, "")); return e }(), ErrDuplicateLabel},
		{"empty exemplars", func() error { _, e := g.AddClass("c", nil, nil); return e }(), ErrNoExemplars},
		{"all validation", func() error {
			_, e := g.AddClass("c", nil, []Exemplar{{Embedding: cl.sample(0, 0.1), Validation: true}})
			return e
		}(), ErrNoExemplars},
		{"wrong size", func() error { _, e := g.AddClass("c", nil, []Exemplar{{Embedding: make([]float32, 7)}}); return e }(), ErrDim},
		{"NaN", func() error { _, e := g.AddClass("c", nil, []Exemplar{{Embedding: nan}}); return e }(), ErrNonFinite},
		{"Inf", func() error { _, e := g.AddClass("c", nil, []Exemplar{{Embedding: inf}}); return e }(), ErrNonFinite},
		{"zero", func() error { _, e := g.AddClass("c", nil, []Exemplar{{Embedding: make([]float32, 8)}}); return e }(), ErrZeroEmbedding},
		{"empty label", func() error { _, e := g.AddClass("", nil, cl.exemplars(0, 1, 0.1, "")); return e }(), ErrEmptyLabel},
		{"remove unknown", g.Remove(99), ErrUnknownClass},
		{"rename unknown", g.Rename(99, "z"), ErrUnknownClass},
		{"rename to existing", g.Rename(id, "b"), ErrDuplicateLabel},
		{"extend unknown", g.AddExemplars(99, cl.exemplars(0, 1, 0.1, "")), ErrUnknownClass},
		{"match wrong size", func() error { _, e := g.Match(make([]float32, 3)); return e }(), ErrDim},
		{"match NaN", func() error { _, e := g.Match(nan); return e }(), ErrNonFinite},
		{"match zero", func() error { _, e := g.Match(make([]float32, 8)); return e }(), ErrZeroEmbedding},
		{"bad options", func() error { o := DefaultOptions(); o.K = 0; _, e := New(8, fp(0), o); return e }(), ErrInvalidOptions},
		{"bad dim", func() error { _, e := New(0, fp(0), DefaultOptions()); return e }(), ErrDim},
		{"class threshold NaN", g.SetClassThreshold(id, float32(math.NaN())), ErrInvalidOptions},
	}
	for _, c := range cases {
		if !errors.Is(c.err, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, c.err, c.want)
		}
	}
	if g.Len() != 2 {
		t.Fatalf("failed calls changed the gallery: %d classes", g.Len())
	}
}

func TestIDsNeverReused(t *testing.T) {
	cl := newClusters(3, 8, 4)
	g := mustNew(t, 8, noHoldout())
	a, _ := g.AddClass("a", nil, cl.exemplars(0, 1, 0.1, ""))
	b, _ := g.AddClass("b", nil, cl.exemplars(1, 1, 0.1, ""))
	if err := g.Remove(b); err != nil {
		t.Fatal(err)
	}
	if err := g.Remove(a); err != nil {
		t.Fatal(err)
	}
	c, _ := g.AddClass("b", nil, cl.exemplars(2, 1, 0.1, ""))
	if c != 3 {
		t.Fatalf("new id %d, want 3", c)
	}
	g2, err := Decode(g.Encode())
	if err != nil {
		t.Fatal(err)
	}
	if err := g2.Remove(c); err != nil {
		t.Fatal(err)
	}
	d, _ := g2.AddClass("d", nil, cl.exemplars(3, 1, 0.1, ""))
	if d != 4 {
		t.Fatalf("id after reload %d, want 4 (next id must be persisted)", d)
	}
}

func TestUnknownDecisions(t *testing.T) {
	cl := newClusters(4, 16, 2)
	o := noHoldout()
	g := mustNew(t, 16, o)
	if r, err := g.Match(cl.sample(0, 0)); err != nil || r.Known || r.Reason != Empty || len(r.Candidates) != 0 {
		t.Fatalf("empty gallery: %+v %v", r, err)
	}
	a, _ := g.AddClass("a", nil, cl.exemplars(0, 3, 0.1, ""))
	g.AddClass("b", nil, cl.exemplars(1, 3, 0.1, ""))
	// A vector orthogonal-ish to both centres: built from a fresh direction.
	other := newClusters(99, 16, 1).centres[0]
	r, _ := g.Match(other)
	if r.Score >= 0.5 {
		t.Fatalf("test setup: random direction too close (%v); change seed", r.Score)
	}
	if r.Known || r.Reason != BelowThreshold || r.Label != "" || r.ID != 0 {
		t.Fatalf("far query accepted: %+v", r)
	}
	q := cl.sample(0, 0.1)
	if r, _ = g.Match(q); !r.Known || r.ID != a {
		t.Fatalf("near query rejected: %+v", r)
	}
	// A class threshold above the score rejects; clearing it restores.
	if err := g.SetClassThreshold(a, 0.9999); err != nil {
		t.Fatal(err)
	}
	if r, _ = g.Match(q); r.Known || r.Reason != BelowThreshold || r.Threshold != 0.9999 {
		t.Fatalf("class threshold ignored: %+v", r)
	}
	if err := g.ClearClassThreshold(a); err != nil {
		t.Fatal(err)
	}
	if r, _ = g.Match(q); !r.Known {
		t.Fatalf("cleared threshold still rejects: %+v", r)
	}
	// A margin requirement: a query halfway between both classes.
	mid := make([]float32, 16)
	for i := range mid {
		mid[i] = cl.centres[0][i] + cl.centres[1][i]
	}
	g2 := mustNew(t, 16, Options{Mode: MeanPrototype, K: 1, Threshold: -1, MinMargin: 0.05})
	g2.AddClass("a", nil, []Exemplar{{Embedding: cl.centres[0]}})
	g2.AddClass("b", nil, []Exemplar{{Embedding: cl.centres[1]}})
	if r, _ = g2.Match(mid); r.Known || r.Reason != LowMargin {
		t.Fatalf("ambiguous query accepted: %+v", r)
	}
}

// bruteRank scores every class by its best exemplar-derived row, the slow
// obvious way.
func bruteRank(g *Gallery, q []float32) []Candidate {
	s := g.load()
	qq := unit(q)
	var out []Candidate
	for _, c := range s.classes {
		best := float32(-2)
		for r := 0; r < len(c.rows); r += s.dim {
			var d float64
			for j := 0; j < s.dim; j++ {
				d += float64(qq[j]) * float64(c.rows[r+j])
			}
			best = max(best, float32(d))
		}
		out = append(out, Candidate{ID: c.id, Label: c.label, Score: best})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Score > out[j].Score })
	return out
}

func TestMatchAgainstBruteForce(t *testing.T) {
	for _, mode := range []Mode{MeanPrototype, MultiPrototype, KNN} {
		t.Run(mode.String(), func(t *testing.T) {
			cl := newClusters(5, 24, 30)
			o := noHoldout()
			o.Mode = mode
			g := mustNew(t, 24, o)
			for i := 0; i < 30; i++ {
				if _, err := g.AddClass(fmt.Sprint(i), nil, cl.exemplars(i, 1+i%6, 0.6, "")); err != nil {
					t.Fatal(err)
				}
			}
			r := NewResult(7)
			for q := 0; q < 50; q++ {
				query := cl.sample(q%30, 0.9)
				for i := range query {
					query[i] *= 3 // matching must not assume unit queries
				}
				if err := g.MatchInto(query, r); err != nil {
					t.Fatal(err)
				}
				want := bruteRank(g, query)
				if len(r.Candidates) != 7 {
					t.Fatalf("%d candidates", len(r.Candidates))
				}
				for j, c := range r.Candidates {
					if math.Abs(float64(c.Score-want[j].Score)) > 1e-4 {
						t.Fatalf("rank %d: got %+v, want %+v", j, c, want[j])
					}
					if c.ID != want[j].ID && math.Abs(float64(want[j].Score-c.Score)) > 1e-6 {
						t.Fatalf("rank %d: id %d, want %d", j, c.ID, want[j].ID)
					}
					next := want[j+1].Score
					if math.Abs(float64(c.Margin-(c.Score-next))) > 1e-4 {
						t.Fatalf("rank %d margin %v, want %v", j, c.Margin, c.Score-next)
					}
				}
			}
		})
	}
}

func TestMatchIntoAllocatesNothing(t *testing.T) {
	for _, mode := range []Mode{MeanPrototype, MultiPrototype, KNN} {
		cl := newClusters(6, 64, 50)
		o := noHoldout()
		o.Mode = mode
		g := mustNew(t, 64, o)
		for i := 0; i < 50; i++ {
			g.AddClass(fmt.Sprint(i), nil, cl.exemplars(i, 4, 0.5, ""))
		}
		q := cl.sample(3, 0.5)
		r := NewResult(5)
		g.MatchInto(q, r) // grows scratch once
		if n := testing.AllocsPerRun(200, func() { g.MatchInto(q, r) }); n != 0 {
			t.Errorf("%v: %v allocs per MatchInto, want 0", mode, n)
		}
	}
}

func TestMultiPrototypeBimodal(t *testing.T) {
	// One label, two looks (day/night): its mean sits between the modes.
	cl := newClusters(7, 32, 3)
	day, night, other := 0, 1, 2
	ex := append(cl.exemplars(day, 4, 0.2, "day"), cl.exemplars(night, 4, 0.2, "night")...)
	mean := mustNew(t, 32, noHoldout())
	o := noHoldout()
	o.Mode, o.K = MultiPrototype, 2
	multi := mustNew(t, 32, o)
	for _, g := range []*Gallery{mean, multi} {
		g.AddClass("sign", nil, ex)
		g.AddClass("other", nil, cl.exemplars(other, 4, 0.2, "o"))
	}
	if n := len(multi.load().classes[0].rows) / 32; n != 2 {
		t.Fatalf("multi rows %d, want 2", n)
	}
	q := cl.sample(day, 0.2)
	rm, _ := mean.Match(q)
	rk, _ := multi.Match(q)
	if rk.Candidates[0].Label != "sign" || rk.Score <= rm.Candidates[0].Score {
		t.Fatalf("multi-prototype should score the day mode higher: mean %v, multi %v", rm.Candidates[0], rk.Candidates[0])
	}
	// Deterministic: rebuilding from the same exemplars gives identical rows.
	a := sphericalKMeans(multi.load().classes[0].training(), 32, 2)
	b := sphericalKMeans(multi.load().classes[0].training(), 32, 2)
	for i := range a {
		if a[i] != b[i] {
			t.Fatal("k-means not deterministic")
		}
	}
	// More prototypes than exemplars: capped; duplicates: one row.
	dup := [][]float32{cl.centres[0], cl.centres[0], cl.centres[0]}
	if n := len(sphericalKMeans(dup, 32, 3)) / 32; n != 1 {
		t.Fatalf("duplicates gave %d rows", n)
	}
	if n := len(sphericalKMeans(dup[:2], 32, 5)) / 32; n != 1 {
		t.Fatalf("k>n gave %d rows", n)
	}
}

func TestSetModeRebuilds(t *testing.T) {
	cl := newClusters(8, 16, 2)
	g := mustNew(t, 16, noHoldout())
	g.AddClass("a", nil, cl.exemplars(0, 5, 0.3, ""))
	if err := g.SetMode(KNN, 1); err != nil {
		t.Fatal(err)
	}
	if n := g.load().nrows(); n != 5 {
		t.Fatalf("knn rows %d, want 5", n)
	}
	if err := g.SetMode(Mode(9), 1); !errors.Is(err, ErrInvalidOptions) {
		t.Fatalf("bad mode: %v", err)
	}
}

func TestValidationShare(t *testing.T) {
	cl := newClusters(9, 8, 2)
	g := mustNew(t, 8, DefaultOptions()) // share 0.2
	a, _ := g.AddClass("a", nil, cl.exemplars(0, 5, 0.1, ""))
	b, _ := g.AddClass("b", nil, cl.exemplars(1, 3, 0.1, ""))
	ca, _ := g.Class(a)
	cb, _ := g.Class(b)
	if ca.Validation != 1 || cb.Validation != 0 {
		t.Fatalf("validation counts %d, %d; want 1, 0", ca.Validation, cb.Validation)
	}
	ex, _ := g.Exemplars(a)
	if !ex[4].Validation {
		t.Fatal("the 5th exemplar should be held out")
	}
	// Extending b to 5 holds out its 5th.
	g.AddExemplars(b, cl.exemplars(1, 2, 0.1, ""))
	if cb, _ = g.Class(b); cb.Validation != 1 {
		t.Fatalf("after extension: %d held out", cb.Validation)
	}
	// Held-out exemplars are not in the prototype.
	s := g.load()
	want := meanRow(s.classes[0].training(), 8)
	for i, v := range s.classes[0].rows {
		if v != want[i] {
			t.Fatal("prototype includes validation exemplars")
		}
	}
	if len(s.classes[0].training()) != 4 {
		t.Fatal("training set size")
	}
}

func TestSnapshotImmutable(t *testing.T) {
	cl := newClusters(10, 8, 2)
	g := mustNew(t, 8, noHoldout())
	in := cl.exemplars(0, 2, 0.1, "")
	id, _ := g.AddClass("a", nil, in)
	before := g.load()
	in[0].Embedding[0] = 42 // the caller's slice is copied
	ex, _ := g.Exemplars(id)
	ex[1].Embedding[1] = 42 // so is what Exemplars returns
	g.AddExemplars(id, cl.exemplars(0, 1, 0.1, ""))
	if len(before.classes[0].exemplars) != 2 {
		t.Fatal("writer mutated a published snapshot")
	}
	for _, e := range g.load().classes[0].exemplars {
		if e.Embedding[0] == 42 || e.Embedding[1] == 42 {
			t.Fatal("gallery shares caller memory")
		}
	}
}

func TestAddClassesAllOrNothing(t *testing.T) {
	cl := newClusters(15, 8, 4)
	g := mustNew(t, 8, noHoldout())
	g.AddClass("a", nil, cl.exemplars(0, 1, 0.1, ""))
	v := g.Version()
	_, err := g.AddClasses([]NewClass{
		{Label: "b", Exemplars: cl.exemplars(1, 2, 0.1, "")},
		{Label: "a", Exemplars: cl.exemplars(2, 2, 0.1, "")},
	})
	if !errors.Is(err, ErrDuplicateLabel) || g.Version() != v || g.Len() != 1 {
		t.Fatalf("failed batch must change nothing: %v, %d classes", err, g.Len())
	}
	_, err = g.AddClasses([]NewClass{
		{Label: "b", Exemplars: cl.exemplars(1, 2, 0.1, "")},
		{Label: "b", Exemplars: cl.exemplars(2, 2, 0.1, "")},
	})
	if !errors.Is(err, ErrDuplicateLabel) {
		t.Fatalf("duplicate within a batch: %v", err)
	}
	ids, err := g.AddClasses([]NewClass{
		{Label: "b", Meta: map[string]string{"k": "v"}, Exemplars: cl.exemplars(1, 2, 0.1, "")},
		{Label: "c", Exemplars: cl.exemplars(2, 2, 0.1, "")},
	})
	if err != nil || len(ids) != 2 || ids[0] != 2 || ids[1] != 3 || g.Version() != v+1 {
		t.Fatalf("batch: %v %v version %d", ids, err, g.Version())
	}
	if r, _ := g.Match(cl.sample(2, 0.1)); r.Label != "c" {
		t.Fatalf("batch-enrolled class not matched: %+v", r)
	}
}
