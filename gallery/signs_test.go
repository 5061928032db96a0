package gallery_test

import (
	"fmt"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/signet-go/signet/engine"
	"github.com/signet-go/signet/gallery"
)

// The sign benchmark: the shipped encoder (testdata/models/signs.sgn) on the
// committed crops (testdata/signs). Every image is embedded once per test
// binary by the real engine; the tests below then measure the gallery on
// those embeddings. testdata/signs/README.md describes the data,
// testdata/models/MODEL_CARD.md the model and the targets.
const (
	signsModel     = "../testdata/models/signs.sgn"
	signsNovelDir  = "../testdata/signs/novel"
	signsBaseDir   = "../testdata/signs/base-val"
	signsNovelN    = 68 // classes
	signsNovelPer  = 20 // images per novel class
	signsBaseN     = 203
	signsBasePer   = 6
	signsSeed      = 2026
	signsEmbedDim  = 128
	signsEmbedWork = 2 // sessions embedding in parallel
)

// signsData holds every benchmark embedding, grouped by class in sorted
// class order, images in file-name order.
type signsData struct {
	fingerprint [32]byte
	novel       []gallery.Labelled
	base        []gallery.Labelled
	embedTime   time.Duration
	tier        string
}

var (
	signsOnce sync.Once
	signsSet  *signsData
	signsErr  error
)

// loadSigns embeds the benchmark once per test binary.
func loadSigns(t *testing.T) *signsData {
	t.Helper()
	signsOnce.Do(func() { signsSet, signsErr = embedSigns() })
	if signsErr != nil {
		t.Fatal(signsErr)
	}
	return signsSet
}

type signFile struct {
	label, path string
}

// listSigns lists a folder-per-class tree and checks its shape, so a
// missing or partial checkout fails loudly instead of measuring less.
func listSigns(dir string, classes, per int) ([]signFile, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []signFile
	n := 0
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		n++
		files, err := filepath.Glob(filepath.Join(dir, e.Name(), "*.png"))
		if err != nil {
			return nil, err
		}
		if len(files) != per {
			return nil, fmt.Errorf("%s: %d images, want %d", filepath.Join(dir, e.Name()), len(files), per)
		}
		sort.Strings(files)
		for _, f := range files {
			out = append(out, signFile{e.Name(), f})
		}
	}
	if n != classes {
		return nil, fmt.Errorf("%s: %d classes, want %d", dir, n, classes)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].label < out[j].label })
	return out, nil
}

func embedSigns() (*signsData, error) {
	start := time.Now()
	novel, err := listSigns(signsNovelDir, signsNovelN, signsNovelPer)
	if err != nil {
		return nil, err
	}
	base, err := listSigns(signsBaseDir, signsBaseN, signsBasePer)
	if err != nil {
		return nil, err
	}
	all := append(append([]signFile(nil), novel...), base...)
	eng, err := engine.Load(signsModel, engine.Options{Threads: 1})
	if err != nil {
		return nil, err
	}
	defer eng.Close()
	out := make([]gallery.Labelled, len(all))
	workers := min(signsEmbedWork, runtime.GOMAXPROCS(0))
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		enc, err := gallery.NewEngineEncoder(eng)
		if err != nil {
			return nil, err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer enc.Close()
			for i := w; i < len(all); i += workers {
				v, err := embedFile(enc, all[i].path)
				if err != nil {
					errs[w] = err
					return
				}
				out[i] = gallery.Labelled{Label: all[i].label, Embedding: v, Source: filepath.Base(filepath.Dir(all[i].path)) + "/" + filepath.Base(all[i].path)}
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	if d := len(out[0].Embedding); d != signsEmbedDim {
		return nil, fmt.Errorf("embedding size %d, want %d", d, signsEmbedDim)
	}
	return &signsData{
		fingerprint: eng.Model().Fingerprint(),
		novel:       out[:len(novel)],
		base:        out[len(novel):],
		embedTime:   time.Since(start),
		tier:        eng.Tier().String(),
	}, nil
}

func embedFile(enc *gallery.EngineEncoder, path string) ([]float32, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if b := img.Bounds(); b.Dx() != 48 || b.Dy() != 48 {
		return nil, fmt.Errorf("%s: %v, want 48x48", path, b.Size())
	}
	v, err := enc.Embed(img)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return v, nil
}

// classes splits data (grouped by class, per images each) into classes.
func classes(data []gallery.Labelled, per int) [][]gallery.Labelled {
	out := make([][]gallery.Labelled, 0, len(data)/per)
	for i := 0; i+per <= len(data); i += per {
		out = append(out, data[i:i+per])
	}
	return out
}

func exemplars(ls []gallery.Labelled, validation bool) []gallery.Exemplar {
	out := make([]gallery.Exemplar, len(ls))
	for i, l := range ls {
		out[i] = gallery.Exemplar{Embedding: l.Embedding, Source: l.Source, Validation: validation}
	}
	return out
}

// closedSetOptions: every match is accepted, so a decision is the arg-max
// class and accuracies and flips are those of the ranking alone.
func closedSetOptions(mode gallery.Mode, k int) gallery.Options {
	o := gallery.DefaultOptions()
	o.Mode, o.K = mode, k
	o.ValidationShare = 0
	o.Threshold = -1
	return o
}

func meanCI95(x []float64) (mean, half float64) {
	for _, v := range x {
		mean += v
	}
	mean /= float64(len(x))
	var ss float64
	for _, v := range x {
		ss += (v - mean) * (v - mean)
	}
	if len(x) > 1 {
		half = 1.96 * math.Sqrt(ss/float64(len(x)-1)/float64(len(x)))
	}
	return mean, half
}

// signsEpisodes runs N-way K-shot episodes over the novel classes. Query
// protocol: every image of an episode's class that is not enrolled is a
// query (20 − K per class), as in tools/train/fewshot.py.
func signsEpisodes(t *testing.T, novel []gallery.Labelled, ways, shots, n int, mode gallery.Mode, k int) gallery.EpisodeResult {
	t.Helper()
	r, err := gallery.Episodes(novel, gallery.EpisodeConfig{
		Ways: ways, Shots: shots, Queries: signsNovelPer - shots, Episodes: n,
		Seed: signsSeed, Mode: mode, K: k,
	})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// signsOpenSet enrols a random half of the novel classes (shots images
// each) in a real gallery; the enrolled classes' other images are known
// queries, every image of the other half an unknown query. The score is the
// gallery's match score (best cosine); AUROC is averaged over trials.
func signsOpenSet(t *testing.T, fingerprint [32]byte, novel []gallery.Labelled, shots, trials int, mode gallery.Mode, k int) (mean, half float64) {
	t.Helper()
	cls := classes(novel, signsNovelPer)
	aucs := make([]float64, trials)
	for tr := range aucs {
		rng := rand.New(rand.NewPCG(signsSeed, uint64(tr)))
		g, err := gallery.New(signsEmbedDim, fingerprint, closedSetOptions(mode, k))
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
			order := rng.Perm(len(c))
			var sup []gallery.Labelled
			for j, o := range order {
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

// genTrial counts one trial of the deployed situation: the 203 base
// classes and the 68 novel ones in one gallery.
type genTrial struct {
	base, novel int // queries
	// Correct closed-set decisions (arg-max over every class).
	baseBefore int // base queries, base classes only
	baseAfter  int // base queries, base + novel classes
	novelOK    int // novel queries, base + novel classes
	// flips counts base queries right before and wrong after, by matching;
	// planFlips sums the Plan reports' negative flips (plan set only).
	flips, planFlips int
	overBudget       int // single-class plans over the default budget
}

// signsGeneralTrial builds the base gallery, measures it, adds every
// novel class and measures again.
//
// Split: only 6 renders per base class are committed (the training renders
// are not), so each trial draws 3 of them to build the base prototype and
// holds out the other 3 as queries; they are enrolled as the class's
// validation exemplars, which is what Plan measures flips on. Each novel
// class is enrolled with 5 random images, its other 15 are queries. With
// plan set, novel classes are added one at a time through Plan and Commit
// (ForceCommit when a single plan is over budget), so the direct count can
// be checked against the sum of the reports; otherwise in one AddClasses.
func signsGeneralTrial(t *testing.T, d *signsData, trial int, m modeSpec, plan bool) genTrial {
	t.Helper()
	var res genTrial
	rng := rand.New(rand.NewPCG(signsSeed, 1000+uint64(trial)))
	g, err := gallery.New(signsEmbedDim, d.fingerprint, closedSetOptions(m.mode, m.k))
	if err != nil {
		t.Fatal(err)
	}
	var batch []gallery.NewClass
	var baseQ []gallery.Labelled
	for _, c := range classes(d.base, signsBasePer) {
		var ex []gallery.Exemplar
		for j, o := range rng.Perm(len(c)) {
			val := j >= 3
			ex = append(ex, exemplars(c[o:o+1], val)...)
			if val {
				baseQ = append(baseQ, c[o])
			}
		}
		batch = append(batch, gallery.NewClass{Label: c[0].Label, Exemplars: ex})
	}
	if _, err := g.AddClasses(batch); err != nil {
		t.Fatal(err)
	}
	r := gallery.NewResult(1)
	match := func(q gallery.Labelled) bool {
		if err := g.MatchInto(q.Embedding, r); err != nil {
			t.Fatal(err)
		}
		return r.Known && r.Label == q.Label
	}
	before := make([]bool, len(baseQ))
	for i, q := range baseQ {
		if before[i] = match(q); before[i] {
			res.baseBefore++
		}
	}
	batch = batch[:0]
	var novelQ []gallery.Labelled
	for _, c := range classes(d.novel, signsNovelPer) {
		var sup []gallery.Labelled
		for j, o := range rng.Perm(len(c)) {
			if j < 5 {
				sup = append(sup, c[o])
			} else {
				novelQ = append(novelQ, c[o])
			}
		}
		batch = append(batch, gallery.NewClass{Label: c[0].Label, Exemplars: exemplars(sup, false)})
	}
	if plan {
		for i, nc := range batch {
			p, err := g.Plan(nc.Label, nc.Exemplars, gallery.PlanOptions{})
			if err != nil {
				t.Fatal(err)
			}
			rep := p.Report
			// No base query carries a novel label, so adding a novel
			// class can break a base decision but never fix one.
			if rep.ValidationSamples != len(baseQ) || rep.PositiveFlips != 0 {
				t.Fatalf("plan %d: %d validation samples (want %d), %d positive flips (want 0)",
					i, rep.ValidationSamples, len(baseQ), rep.PositiveFlips)
			}
			res.planFlips += rep.NegativeFlips
			if rep.OverBudget {
				res.overBudget++
				_, err = g.ForceCommit(p)
			} else {
				_, err = g.Commit(p)
			}
			if err != nil {
				t.Fatal(err)
			}
		}
	} else if _, err := g.AddClasses(batch); err != nil {
		t.Fatal(err)
	}
	for i, q := range baseQ {
		ok := match(q)
		if ok {
			res.baseAfter++
		}
		if before[i] && !ok {
			res.flips++
		}
	}
	for _, q := range novelQ {
		if match(q) {
			res.novelOK++
		}
	}
	res.base, res.novel = len(baseQ), len(novelQ)
	return res
}

// signsMemo lets TestSignsModes reuse what TestSigns measured for the
// default mode within one test binary.
var signsMemo sync.Map

func memo[T any](key string, f func() T) T {
	if v, ok := signsMemo.Load(key); ok {
		return v.(T)
	}
	v := f()
	signsMemo.Store(key, v)
	return v
}

type modeSpec struct {
	mode gallery.Mode
	k    int
}

func (m modeSpec) String() string {
	if m.mode == gallery.MultiPrototype {
		return fmt.Sprintf("multi-K%d", m.k)
	}
	return m.mode.String()
}

var signsMean = modeSpec{gallery.MeanPrototype, 1}

const (
	signsEpisodesN  = 1000 // 5-way episodes
	signsAllWayN    = 100  // all-novel-way episodes
	signsOpenTrials = 100  // open-set halvings
	signsGenTrials  = 5    // generalised / flip-rate trials
)

func episodesFor(t *testing.T, d *signsData, ways, shots int, m modeSpec) gallery.EpisodeResult {
	n := signsEpisodesN
	if ways == signsNovelN {
		n = signsAllWayN
	}
	return memo(fmt.Sprintf("ep/%d/%d/%s", ways, shots, m), func() gallery.EpisodeResult {
		return signsEpisodes(t, d.novel, ways, shots, n, m.mode, m.k)
	})
}

type meanHalf struct{ mean, half float64 }

func openSetFor(t *testing.T, d *signsData, shots int, m modeSpec) meanHalf {
	return memo(fmt.Sprintf("open/%d/%s", shots, m), func() meanHalf {
		a, h := signsOpenSet(t, d.fingerprint, d.novel, shots, signsOpenTrials, m.mode, m.k)
		return meanHalf{a, h}
	})
}

func generalTrialFor(t *testing.T, d *signsData, trial int, m modeSpec, plan bool) genTrial {
	return memo(fmt.Sprintf("gen/%d/%s/%v", trial, m, plan), func() genTrial {
		return signsGeneralTrial(t, d, trial, m, plan)
	})
}

// general sums the trials.
type general struct {
	genTrial
	trials int
}

func (g general) rate(n, of int) float64 { return float64(n) / float64(of) }

func generalFor(t *testing.T, d *signsData, m modeSpec, plan bool) general {
	sum := general{trials: signsGenTrials}
	for tr := range signsGenTrials {
		r := generalTrialFor(t, d, tr, m, plan)
		sum.base += r.base
		sum.novel += r.novel
		sum.baseBefore += r.baseBefore
		sum.baseAfter += r.baseAfter
		sum.novelOK += r.novelOK
		sum.flips += r.flips
		sum.planFlips += r.planFlips
		sum.overBudget += r.overBudget
	}
	return sum
}

// measure runs jobs as parallel subtests (the CI machine has two cores)
// and stops the test if one failed.
func measure(t *testing.T, jobs map[string]func(t *testing.T)) {
	t.Helper()
	names := make([]string, 0, len(jobs))
	for n := range jobs {
		names = append(names, n)
	}
	sort.Strings(names)
	t.Run("measure", func(t *testing.T) {
		for _, n := range names {
			t.Run(n, func(t *testing.T) {
				t.Parallel()
				jobs[n](t)
			})
		}
	})
	if t.Failed() {
		t.FailNow()
	}
}

func pct(x float64) string { return fmt.Sprintf("%.2f%%", 100*x) }

func pctCI(r gallery.EpisodeResult) string {
	return fmt.Sprintf("%.2f ± %.2f%%", 100*r.Accuracy, 100*r.Accuracy95)
}

// TestSigns measures the shipped encoder and the gallery on the committed
// benchmark and holds them to the targets, or, where the model
// falls short, to the level measured minus a stated margin.
func TestSigns(t *testing.T) {
	d := loadSigns(t)
	start := time.Now()
	m := signsMean
	jobs := map[string]func(t *testing.T){
		"5way1shot":   func(t *testing.T) { episodesFor(t, d, 5, 1, m) },
		"5way5shot":   func(t *testing.T) { episodesFor(t, d, 5, 5, m) },
		"allway1shot": func(t *testing.T) { episodesFor(t, d, signsNovelN, 1, m) },
		"allway5shot": func(t *testing.T) { episodesFor(t, d, signsNovelN, 5, m) },
		"open1shot":   func(t *testing.T) { openSetFor(t, d, 1, m) },
		"open5shot":   func(t *testing.T) { openSetFor(t, d, 5, m) },
	}
	for tr := range signsGenTrials {
		jobs[fmt.Sprintf("general%d", tr)] = func(t *testing.T) { generalTrialFor(t, d, tr, m, true) }
	}
	measure(t, jobs)
	w1 := episodesFor(t, d, 5, 1, m)
	w5 := episodesFor(t, d, 5, 5, m)
	a1 := episodesFor(t, d, signsNovelN, 1, m)
	a5 := episodesFor(t, d, signsNovelN, 5, m)
	o5 := openSetFor(t, d, 5, m)
	o1 := openSetFor(t, d, 1, m)
	gen := generalFor(t, d, m, true)

	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "measure (mean prototypes, seed %d)\tvalue\ttarget\n", signsSeed)
	fmt.Fprintf(tw, "novel 5-way 1-shot, %d episodes, 19 queries/class\t%s\t≥ 97%%\n", w1.Episodes, pctCI(w1))
	fmt.Fprintf(tw, "novel 5-way 5-shot, %d episodes, 15 queries/class\t%s\t≥ 99.5%%\n", w5.Episodes, pctCI(w5))
	fmt.Fprintf(tw, "novel all-way (68) 1-shot, %d episodes\t%s\t\n", a1.Episodes, pctCI(a1))
	fmt.Fprintf(tw, "novel all-way (68) 5-shot, %d episodes\t%s\t≥ 95%%\n", a5.Episodes, pctCI(a5))
	fmt.Fprintf(tw, "open-set AUROC 5-shot, 34 enrolled / 34 unknown, %d splits\t%.4f ± %.4f\t≥ 0.95\n", signsOpenTrials, o5.mean, o5.half)
	fmt.Fprintf(tw, "open-set AUROC 1-shot, same protocol\t%.4f ± %.4f\t\n", o1.mean, o1.half)
	fmt.Fprintf(tw, "base accuracy, 203 base classes (3 renders each), %d trials\t%s\t\n", gen.trials, pct(gen.rate(gen.baseBefore, gen.base)))
	fmt.Fprintf(tw, "generalised 271-way: base queries\t%s\t\n", pct(gen.rate(gen.baseAfter, gen.base)))
	fmt.Fprintf(tw, "generalised 271-way: novel queries (5-shot)\t%s\t\n", pct(gen.rate(gen.novelOK, gen.novel)))
	fmt.Fprintf(tw, "base negative flip rate, +68 novel classes (matched)\t%s (%d/%d)\t≤ 0.5%%\n", pct(gen.rate(gen.flips, gen.base)), gen.flips, gen.base)
	fmt.Fprintf(tw, "same, summed over the 68 Plan reports of each trial\t%s (%d/%d)\t\n", pct(gen.rate(gen.planFlips, gen.base)), gen.planFlips, gen.base)
	fmt.Fprintf(tw, "single-class plans over the 0.5%% flip budget\t%d of %d\t\n", gen.overBudget, gen.trials*signsNovelN)
	tw.Flush()
	t.Logf("sign benchmark: %d novel + %d base images embedded in %v (kernel tier %s), metrics in %v\n%s",
		len(d.novel), len(d.base), d.embedTime.Round(time.Millisecond), d.tier, time.Since(start).Round(time.Millisecond), b.String())

	if gen.planFlips != gen.flips {
		t.Errorf("Plan reports sum to %d negative flips, matching the galleries before and after counts %d", gen.planFlips, gen.flips)
	}
	// Bars. Where the shipped model (stage 5, MODEL_CARD.md) meets the
	// issue's target, the bar is the target. Where it falls short, the bar
	// is the value measured when this test was written minus a margin: 1
	// point of accuracy (0.5 for 5-way 5-shot, whose error rate is under
	// 1%), 0.01 of AUROC, +0.5 point of flip rate. The seed is fixed, so the
	// margin only absorbs float differences between kernel tiers and
	// deliberate changes of the encoder or the gallery.
	checks := []signsCheck{
		// Target ≥ 97%: met (97.98%).
		{"novel 5-way 1-shot", w1.Accuracy, 0.97, false},
		// Target ≥ 99.5%: short, measured 99.16%.
		{"novel 5-way 5-shot", w5.Accuracy, 0.9916 - 0.005, false},
		// No target; measured 84.09%.
		{"novel all-way 1-shot", a1.Accuracy, 0.8409 - 0.01, false},
		// Target ≥ 95%: short, measured 91.27%.
		{"novel all-way 5-shot", a5.Accuracy, 0.9127 - 0.01, false},
		// Target ≥ 0.95: short, measured 0.9246.
		{"open-set AUROC 5-shot", o5.mean, 0.9246 - 0.01, false},
		// No target; measured 0.8898.
		{"open-set AUROC 1-shot", o1.mean, 0.8898 - 0.01, false},
		// No target; measured 97.18%, 94.58%, 77.24%.
		{"base accuracy, base gallery", gen.rate(gen.baseBefore, gen.base), 0.9718 - 0.01, false},
		{"generalised base accuracy", gen.rate(gen.baseAfter, gen.base), 0.9458 - 0.01, false},
		{"generalised novel accuracy", gen.rate(gen.novelOK, gen.novel), 0.7724 - 0.01, false},
		// Target ≤ 0.5%: short, measured 2.59%.
		{"base negative flip rate", gen.rate(gen.flips, gen.base), 0.0259 + 0.005, true},
	}
	for _, c := range checks {
		if c.fail() {
			t.Errorf("%s: %.4f, bar %.4f", c.name, c.got, c.bar)
		}
	}
}

// signsCheck holds one measure to its bar.
type signsCheck struct {
	name        string
	got, bar    float64
	higherIsBad bool // flip rates: the bar is a ceiling
}

func (c signsCheck) fail() bool {
	if c.higherIsBad {
		return !(c.got <= c.bar)
	}
	return !(c.got >= c.bar)
}
