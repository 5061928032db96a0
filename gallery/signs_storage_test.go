package gallery_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/signet-go/signet/gallery"
)

// int8Options is closedSetOptions for mean prototypes with Int8 storage.
func int8Options() gallery.Options {
	o := closedSetOptions(gallery.MeanPrototype, 1)
	o.Storage = gallery.Int8
	return o
}

// TestSignsStorage measures what Int8 storage costs on the sign benchmark,
// paired with the float32 measurements of TestSigns (same episodes, splits
// and trials): 5-way 1-shot and all-way 5-shot accuracy, 5-shot open-set
// AUROC and base flips. Int8 may lose at most 0.5 points of accuracy,
// 0.005 AUROC and 0.5 points of flip rate.
func TestSignsStorage(t *testing.T) {
	d := loadSigns(t)
	m := signsMean
	episodes8 := func(ways, shots, n int) gallery.EpisodeResult {
		r, err := gallery.Episodes(d.novel, gallery.EpisodeConfig{
			Ways: ways, Shots: shots, Queries: signsNovelPer - shots, Episodes: n,
			Seed: signsSeed, Mode: m.mode, K: m.k, Storage: gallery.Int8,
		})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	var w1, a5 gallery.EpisodeResult
	var o5 float64
	var flips8, base8 int
	jobs := map[string]func(t *testing.T){
		"5way1shot":   func(t *testing.T) { episodesFor(t, d, 5, 1, signsEpisodesN, m) },
		"allway5shot": func(t *testing.T) { episodesFor(t, d, signsNovelN, 5, signsAllWayN, m) },
		"open5shot":   func(t *testing.T) { openSetFor(t, d, 5, signsOpenTrials, m) },
		"int8/5way1shot": func(t *testing.T) {
			w1 = episodes8(5, 1, signsEpisodesN)
		},
		"int8/allway5shot": func(t *testing.T) {
			a5 = episodes8(signsNovelN, 5, signsAllWayN)
		},
		"int8/open5shot": func(t *testing.T) {
			o5, _ = signsOpenSetWith(t, d.fingerprint, d.novel, 5, signsOpenTrials, int8Options())
		},
		"int8/general": func(t *testing.T) {
			for tr := range signsGenTrials {
				f, b := signsFlipsWith(t, d, tr, int8Options())
				flips8 += f
				base8 += b
			}
		},
	}
	for tr := range signsGenTrials {
		jobs[fmt.Sprintf("general%d", tr)] = func(t *testing.T) { generalTrialFor(t, d, tr, m, false) }
	}
	measure(t, jobs)
	f1 := episodesFor(t, d, 5, 1, signsEpisodesN, m)
	f5 := episodesFor(t, d, signsNovelN, 5, signsAllWayN, m)
	fo := openSetFor(t, d, 5, signsOpenTrials, m)
	gen := generalFor(t, d, m, false)
	flip8 := float64(flips8) / float64(base8)
	t.Logf("storage  5-way 1-shot  %d-way 5-shot  open-set AUROC  base flips", signsNovelN)
	t.Logf("float32  %s        %s        %.4f          %s", pct(f1.Accuracy), pct(f5.Accuracy), fo.mean, pct(gen.flipRate()))
	t.Logf("int8     %s        %s        %.4f          %s", pct(w1.Accuracy), pct(a5.Accuracy), o5, pct(flip8))
	for _, c := range []struct {
		what          string
		f32, int8, by float64
	}{
		{"5-way 1-shot accuracy", f1.Accuracy, w1.Accuracy, 0.005},
		{"all-way 5-shot accuracy", f5.Accuracy, a5.Accuracy, 0.005},
		{"open-set AUROC", fo.mean, o5, 0.005},
		{"base flips (lower is better)", -gen.flipRate(), -flip8, 0.005},
	} {
		if c.int8 < c.f32-c.by {
			t.Errorf("%s: int8 %.4f, float32 %.4f: more than %.3f lost", c.what, c.int8, c.f32, c.by)
		}
	}
}

// signsOpenSetWith is signsOpenSet on galleries made with options o.
func signsOpenSetWith(t *testing.T, fingerprint [32]byte, novel []gallery.Labelled, shots, trials int, o gallery.Options) (mean, half float64) {
	t.Helper()
	cls := classes(novel, signsNovelPer)
	aucs := make([]float64, trials)
	for tr := range aucs {
		rng := rand.New(rand.NewPCG(signsSeed, uint64(tr)))
		g, err := gallery.New(signsEmbedDim, fingerprint, o)
		if err != nil {
			t.Fatal(err)
		}
		perm := rng.Perm(len(cls))
		enrolled := len(cls) / 2
		var batch []gallery.NewClass
		var known []gallery.Labelled
		var unknown [][]float32
		for i, ci := range perm {
			c := cls[ci]
			if i >= enrolled {
				for _, l := range c {
					unknown = append(unknown, l.Embedding)
				}
				continue
			}
			var sup []gallery.Labelled
			for j, o := range rng.Perm(len(c)) {
				if j < shots {
					sup = append(sup, c[o])
				} else {
					known = append(known, c[o])
				}
			}
			batch = append(batch, gallery.NewClass{Label: c[0].Label, Exemplars: exemplars(sup, false)})
		}
		if _, err := g.AddClasses(batch); err != nil {
			t.Fatal(err)
		}
		r, err := g.OpenSet(known, unknown)
		if err != nil {
			t.Fatal(err)
		}
		aucs[tr] = r.AUROC
	}
	return meanCI95(aucs)
}

// signsFlipsWith is signsGeneralTrial's flip count (no plans) on a
// gallery made with options o: the same draws, so the trial is paired
// with the float32 one.
func signsFlipsWith(t *testing.T, d *signsData, trial int, o gallery.Options) (flips, base int) {
	t.Helper()
	rng := rand.New(rand.NewPCG(signsSeed, 1000+uint64(trial)))
	g, err := gallery.New(signsEmbedDim, d.fingerprint, o)
	if err != nil {
		t.Fatal(err)
	}
	var batch []gallery.NewClass
	var baseQ []gallery.Labelled
	for _, c := range classes(d.base, signsBasePer) {
		var ex []gallery.Exemplar
		for j, o := range rng.Perm(len(c)) {
			ex = append(ex, exemplars(c[o:o+1], j >= 3)...)
			if j >= 3 {
				baseQ = append(baseQ, c[o])
			}
		}
		batch = append(batch, gallery.NewClass{Label: c[0].Label, Exemplars: ex})
	}
	if _, err := g.AddClasses(batch); err != nil {
		t.Fatal(err)
	}
	r := gallery.NewResult(1)
	right := func() []bool {
		ok := make([]bool, len(baseQ))
		for i, q := range baseQ {
			if err := g.MatchInto(q.Embedding, r); err != nil {
				t.Fatal(err)
			}
			ok[i] = r.Known && r.Label == q.Label
		}
		return ok
	}
	before := right()
	batch = batch[:0]
	for _, c := range classes(d.novel, signsNovelPer) {
		var sup []gallery.Labelled
		for j, o := range rng.Perm(len(c)) {
			if j < 5 {
				sup = append(sup, c[o])
			}
		}
		batch = append(batch, gallery.NewClass{Label: c[0].Label, Exemplars: exemplars(sup, false)})
	}
	if _, err := g.AddClasses(batch); err != nil {
		t.Fatal(err)
	}
	for i, ok := range right() {
		if before[i] && !ok {
			flips++
		}
	}
	return flips, len(baseQ)
}
