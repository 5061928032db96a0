package gallery_test

import (
	"fmt"
	"testing"

	"github.com/signet-go/signet/gallery"
)

// signsMeanInt8 is signsMean with Int8 prototype storage.
var signsMeanInt8 = modeSpec{mode: gallery.MeanPrototype, k: 1, storage: gallery.Int8}

// TestSignsStorage measures what Int8 storage costs on the sign benchmark,
// paired with the float32 measurements of TestSigns (same episodes, splits
// and trials): 5-way 1-shot and all-way 5-shot accuracy, 5-shot open-set
// AUROC and base flips. Int8 may lose at most 0.5 points of accuracy,
// 0.005 AUROC and 0.5 points of flip rate.
func TestSignsStorage(t *testing.T) {
	d := loadSigns(t)
	specs := []modeSpec{signsMean, signsMeanInt8}
	jobs := map[string]func(t *testing.T){}
	for _, m := range specs {
		jobs[m.String()+"/5way1shot"] = func(t *testing.T) { episodesFor(t, d, splitNovel, 5, 1, signsEpisodesN, m) }
		jobs[m.String()+"/allway5shot"] = func(t *testing.T) { episodesFor(t, d, splitNovel, 0, 5, signsAllWayN, m) }
		jobs[m.String()+"/open5shot"] = func(t *testing.T) { openSetFor(t, d, splitNovel, 5, signsOpenTrials, m) }
		for tr := range signsGenTrials {
			jobs[fmt.Sprintf("%s/general%d", m, tr)] = func(t *testing.T) { generalTrialFor(t, d, tr, m, false) }
		}
	}
	measure(t, jobs)
	type row struct {
		w1, a5, auroc, flips float64
	}
	rows := make([]row, len(specs))
	t.Logf("storage  5-way 1-shot  %d-way 5-shot  open-set AUROC  base flips", ways(d.novel(splitNovel)))
	for i, m := range specs {
		r := row{
			w1:    episodesFor(t, d, splitNovel, 5, 1, signsEpisodesN, m).Accuracy,
			a5:    episodesFor(t, d, splitNovel, 0, 5, signsAllWayN, m).Accuracy,
			auroc: openSetFor(t, d, splitNovel, 5, signsOpenTrials, m).mean,
			flips: generalFor(t, d, m, false).flipRate(),
		}
		rows[i] = r
		t.Logf("%-7s  %s        %s        %.4f          %s", m.storage, pct(r.w1), pct(r.a5), r.auroc, pct(r.flips))
	}
	f32, i8 := rows[0], rows[1]
	for _, c := range []struct {
		what          string
		f32, int8, by float64
	}{
		{"5-way 1-shot accuracy", f32.w1, i8.w1, 0.005},
		{"all-way 5-shot accuracy", f32.a5, i8.a5, 0.005},
		{"open-set AUROC", f32.auroc, i8.auroc, 0.005},
		{"base flips (lower is better)", -f32.flips, -i8.flips, 0.005},
	} {
		if c.int8 < c.f32-c.by {
			t.Errorf("%s: int8 %.4f, float32 %.4f: more than %.3f lost", c.what, c.int8, c.f32, c.by)
		}
	}
}
