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
	signsRoot      = "../testdata/signs"
	signsPer       = 6 // images per novel and cross-source class
	signsBaseN     = 110
	signsBasePer   = 4
	signsPairsN    = 95 // mirrored pairs in pairs.txt
	signsSeed      = 2026
	signsEmbedDim  = 128
	signsEmbedWork = 2 // sessions embedding in parallel
)

// The two splits of never-trained classes the targets apply to alike:
// novel (training icon sets: mirrored pairs, the first benchmark's hard
// cases, unseen pictograms) and cross-source (an icon set held out of
// training and selection altogether).
const (
	splitNovel = "novel"
	splitCross = "cross-source"
)

// signsSplits names the splits and their class counts.
var signsSplits = []struct {
	name    string
	classes int
}{{splitNovel, 220}, {splitCross, 90}}

// signsData holds every benchmark embedding, grouped by class in sorted
// class order, images in file-name order.
type signsData struct {
	fingerprint [32]byte
	splits      map[string][]gallery.Labelled // novel, cross-source
	base        []gallery.Labelled
	pairs       [][2]string // mirrored pairs, both twins in one split
	embedTime   time.Duration
	tier        string
	side        int // the encoder's input side
	// cal is the model's encoder-level impostor calibration (nil if none).
	cal *gallery.EncoderCalibration
	// mirrored holds each image's mirrored embedding by Source.
	mirrored map[string][]float32
}

// novel is split name's embeddings.
func (d *signsData) novel(name string) []gallery.Labelled { return d.splits[name] }

// allNovel is every never-trained class, novel then cross-source.
func (d *signsData) allNovel() []gallery.Labelled {
	return append(append([]gallery.Labelled(nil), d.splits[splitNovel]...), d.splits[splitCross]...)
}

// ways is the number of classes of a split.
func ways(novel []gallery.Labelled) int { return len(novel) / signsPer }

// signsByModel holds, per model file, the benchmark embedded once per
// test binary.
var signsByModel sync.Map // path -> *signsLoad

type signsLoad struct {
	once sync.Once
	d    *signsData
	err  error
}

// loadSigns embeds the benchmark with the shipped encoder.
func loadSigns(t *testing.T) *signsData { return loadSignsWith(t, signsModel) }

// loadSignsWith embeds the benchmark with the model at path, once.
func loadSignsWith(t *testing.T, path string) *signsData {
	t.Helper()
	v, _ := signsByModel.LoadOrStore(path, &signsLoad{})
	l := v.(*signsLoad)
	l.once.Do(func() { l.d, l.err = embedSigns(path) })
	if l.err != nil {
		t.Fatal(l.err)
	}
	return l.d
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

// readPairs reads pairs.txt and checks that both twins of every pair are
// classes of one split.
func readPairs(path string, split map[string]string) ([][2]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out [][2]string
	for i, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		f := strings.Fields(line)
		if len(f) != 2 || split[f[0]] == "" || split[f[0]] != split[f[1]] || f[0] == f[1] {
			return nil, fmt.Errorf("%s:%d: want two classes of one split, got %q", path, i+1, line)
		}
		out = append(out, [2]string{f[0], f[1]})
	}
	if len(out) != signsPairsN {
		return nil, fmt.Errorf("%s: %d pairs, want %d", path, len(out), signsPairsN)
	}
	return out, nil
}

// embedSigns embeds the benchmark with the model file at path.
func embedSigns(path string) (*signsData, error) {
	start := time.Now()
	var all []signFile
	var counts []int
	splitOf := map[string]string{}
	for _, sp := range signsSplits {
		fs, err := listSigns(filepath.Join(signsRoot, sp.name), sp.classes, signsPer)
		if err != nil {
			return nil, err
		}
		for _, f := range fs {
			splitOf[f.label] = sp.name
		}
		all = append(all, fs...)
		counts = append(counts, len(fs))
	}
	base, err := listSigns(filepath.Join(signsRoot, "base-val"), signsBaseN, signsBasePer)
	if err != nil {
		return nil, err
	}
	pairs, err := readPairs(filepath.Join(signsRoot, "pairs.txt"), splitOf)
	if err != nil {
		return nil, err
	}
	all = append(all, base...)
	eng, err := engine.Load(path, engine.Options{Threads: 1})
	if err != nil {
		return nil, err
	}
	defer eng.Close()
	side := eng.InputShapes()[0][3]
	enc0, err := gallery.NewEngineEncoder(eng)
	if err != nil {
		return nil, err
	}
	cal, err := enc0.Calibration()
	enc0.Close()
	if err != nil {
		return nil, err
	}
	out := make([]gallery.Labelled, len(all))
	mirrored := make([][]float32, len(all))
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
				v, m, err := embedFile(enc, all[i].path, side)
				if err != nil {
					errs[w] = err
					return
				}
				mirrored[i] = m
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
	d := &signsData{
		fingerprint: eng.Model().Fingerprint(),
		splits:      map[string][]gallery.Labelled{},
		pairs:       pairs,
		embedTime:   time.Since(start),
		tier:        eng.Tier().String(),
		side:        side,
		cal:         cal,
		mirrored:    map[string][]float32{},
	}
	for i, l := range out {
		if _, dup := d.mirrored[l.Source]; dup {
			return nil, fmt.Errorf("two benchmark images named %s", l.Source)
		}
		d.mirrored[l.Source] = mirrored[i]
	}
	at := 0
	for i, sp := range signsSplits {
		d.splits[sp.name] = out[at : at+counts[i]]
		at += counts[i]
	}
	d.base = out[at:]
	return d, nil
}

// embedFile embeds one benchmark PNG, which must have the encoder's input
// side (the benchmark measures the encoder, not a resize), as it is and
// mirrored.
func embedFile(enc *gallery.EngineEncoder, path string, side int) (v, mirrored []float32, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	if b := img.Bounds(); b.Dx() != side || b.Dy() != side {
		return nil, nil, fmt.Errorf("%s: %v, want %dx%d", path, b.Size(), side, side)
	}
	if v, err = enc.Embed(img); err == nil {
		mirrored, err = enc.EmbedMirrored(img)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return v, mirrored, nil
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
func closedSetOptions(m modeSpec) gallery.Options {
	o := gallery.DefaultOptions()
	o.Mode, o.K, o.Storage = m.mode, m.k, m.storage
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
// query (6 − K per class), as in tools/train/fewshot.py.
func signsEpisodes(t *testing.T, novel []gallery.Labelled, ways, shots, n int, m modeSpec) gallery.EpisodeResult {
	t.Helper()
	r, err := gallery.Episodes(novel, gallery.EpisodeConfig{
		Ways: ways, Shots: shots, Queries: signsPer - shots, Episodes: n,
		Seed: signsSeed, Mode: m.mode, K: m.k, Storage: m.storage,
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
func signsOpenSet(t *testing.T, fingerprint [32]byte, novel []gallery.Labelled, shots, trials int, m modeSpec) (mean, half float64) {
	t.Helper()
	aucs := make([]float64, trials)
	for tr := range aucs {
		rng := rand.New(rand.NewPCG(signsSeed, uint64(tr)))
		g, known, unknown := halfEnrolled(t, fingerprint, novel, shots, closedSetOptions(m), rng)
		uv := make([][]float32, len(unknown))
		for i, l := range unknown {
			uv[i] = l.Embedding
		}
		r, err := g.OpenSet(known, uv)
		if err != nil {
			t.Fatal(err)
		}
		aucs[tr] = r.AUROC
	}
	return meanCI95(aucs)
}

// halfEnrolled is the open-set protocol's gallery: a random half of the
// classes enrolled with shots random images each (no validation
// exemplars); known holds the enrolled classes' other images, unknown every
// image of the other half.
func halfEnrolled(t *testing.T, fingerprint [32]byte, novel []gallery.Labelled, shots int, o gallery.Options, rng *rand.Rand) (g *gallery.Gallery, known, unknown []gallery.Labelled) {
	t.Helper()
	cls := classes(novel, signsPer)
	g, err := gallery.New(signsEmbedDim, fingerprint, o)
	if err != nil {
		t.Fatal(err)
	}
	var batch []gallery.NewClass
	for i, ci := range rng.Perm(len(cls)) {
		c := cls[ci]
		if i >= len(cls)/2 {
			unknown = append(unknown, c...)
			continue
		}
		var sup []gallery.Labelled
		for j, k := range rng.Perm(len(c)) {
			if j < shots {
				sup = append(sup, c[k])
			} else {
				known = append(known, c[k])
			}
		}
		batch = append(batch, gallery.NewClass{Label: c[0].Label, Exemplars: exemplars(sup, false)})
	}
	if _, err := g.AddClasses(batch); err != nil {
		t.Fatal(err)
	}
	return g, known, unknown
}

// genTrial counts one trial of the deployed situation: the 110 base
// classes and the 310 never-trained ones (novel and cross-source) in one
// gallery.
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
	// baseOK is, per base query, whether the base + novel gallery got it
	// right (the same queries in the same order for every encoder).
	baseOK []bool
}

// signsGeneralTrial builds the base gallery, measures it, adds every
// novel class and measures again.
//
// Split: only 4 renders per base class are committed (the training renders
// are not), so each trial draws 3 of them to build the base prototype and
// holds out the 4th as the query; it is enrolled as the class's validation
// exemplar, which is what Plan measures flips on. Each novel and
// cross-source class is enrolled with 5 random images, its 6th is the
// query. With
// plan set, novel classes are added one at a time through Plan and Commit
// (ForceCommit when a single plan is over budget), so the direct count can
// be checked against the sum of the reports; otherwise in one AddClasses.
func signsGeneralTrial(t *testing.T, d *signsData, trial int, m modeSpec, plan bool) genTrial {
	t.Helper()
	var res genTrial
	rng := rand.New(rand.NewPCG(signsSeed, 1000+uint64(trial)))
	g, err := gallery.New(signsEmbedDim, d.fingerprint, closedSetOptions(m))
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
	for _, c := range classes(d.allNovel(), signsPer) {
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
		res.baseOK = append(res.baseOK, ok)
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

// signsMemo keeps measurements for the life of the test binary, so that
// TestSignsModes and TestSignsShuffled reuse what TestSigns measured.
var signsMemo sync.Map

func memo[T any](key string, f func() T) T {
	if v, ok := signsMemo.Load(key); ok {
		return v.(T)
	}
	v := f()
	signsMemo.Store(key, v)
	return v
}

// modeSpec is how the benchmark's galleries match: prototype mode, its K,
// and prototype storage (Float32 unless said).
type modeSpec struct {
	mode    gallery.Mode
	k       int
	storage gallery.Storage
}

func (m modeSpec) String() string {
	s := m.mode.String()
	if m.mode == gallery.MultiPrototype {
		s = fmt.Sprintf("multi K=%d", m.k)
	}
	if m.storage != gallery.Float32 {
		s += "/" + m.storage.String()
	}
	return s
}

var signsMean = modeSpec{mode: gallery.MeanPrototype, k: 1}

const (
	signsEpisodesN  = 1000 // 5-way episodes
	signsAllWayN    = 100  // all-novel-way episodes
	signsOpenTrials = 100  // open-set halvings
	signsGenTrials  = 20   // generalised / flip-rate trials
	// TestSignsModes runs half as many all-way episodes and open-set
	// splits: KNN and multi-prototype matching cost up to five times mean
	// matching, and the suite must stay fast with the plain-Go kernels.
	// Every mode sees the same episodes and splits (same seed), so the
	// comparison is paired.
	signsModeAllWayN    = 50
	signsModeOpenTrials = 50
)

// episodesFor runs (once per test binary) N-way K-shot episodes over a
// split; ways 0 means every class of the split.
func episodesFor(t *testing.T, d *signsData, split string, ways, shots, n int, m modeSpec) gallery.EpisodeResult {
	return memo(fmt.Sprintf("episodes/%s/%d/%d/%d/%s", split, ways, shots, n, m), func() gallery.EpisodeResult {
		if ways == 0 {
			ways = len(d.novel(split)) / signsPer
		}
		return signsEpisodes(t, d.novel(split), ways, shots, n, m)
	})
}

type meanHalf struct{ mean, half float64 }

func openSetFor(t *testing.T, d *signsData, split string, shots, trials int, m modeSpec) meanHalf {
	return memo(fmt.Sprintf("open/%s/%d/%d/%s", split, shots, trials, m), func() meanHalf {
		a, h := signsOpenSet(t, d.fingerprint, d.novel(split), shots, trials, m)
		return meanHalf{a, h}
	})
}

// signsPairEpisodes measures chirality: for each mirrored pair of the
// split, 2-way episodes with both twins enrolled (shots each) and the
// twins' other images as queries. The result is the mean over pairs, the
// interval over pairs.
func signsPairEpisodes(t *testing.T, d *signsData, split string, shots, perPair int, m modeSpec) (acc, half float64) {
	t.Helper()
	byLabel := map[string][]gallery.Labelled{}
	for _, c := range classes(d.novel(split), signsPer) {
		byLabel[c[0].Label] = c
	}
	var accs []float64
	for i, p := range d.pairs {
		a, b := byLabel[p[0]], byLabel[p[1]]
		if a == nil || b == nil {
			continue
		}
		r, err := gallery.Episodes(append(append([]gallery.Labelled(nil), a...), b...), gallery.EpisodeConfig{
			Ways: 2, Shots: shots, Queries: signsPer - shots, Episodes: perPair,
			Seed: signsSeed + uint64(i), Mode: m.mode, K: m.k, Storage: m.storage,
		})
		if err != nil {
			t.Fatal(err)
		}
		accs = append(accs, r.Accuracy)
	}
	return meanCI95(accs)
}

func pairsFor(t *testing.T, d *signsData, split string, shots int, m modeSpec) meanHalf {
	return memo(fmt.Sprintf("pairs/%s/%d/%s", split, shots, m), func() meanHalf {
		a, h := signsPairEpisodes(t, d, split, shots, signsPairEpisodesN, m)
		return meanHalf{a, h}
	})
}

func generalTrialFor(t *testing.T, d *signsData, trial int, m modeSpec, plan bool) genTrial {
	return memo(fmt.Sprintf("general/%d/%s/%v", trial, m, plan), func() genTrial {
		return signsGeneralTrial(t, d, trial, m, plan)
	})
}

// general sums the trials.
type general struct {
	genTrial
	trials int
}

func (g general) baseBeforeAcc() float64 { return float64(g.baseBefore) / float64(g.base) }
func (g general) baseAfterAcc() float64  { return float64(g.baseAfter) / float64(g.base) }
func (g general) novelAcc() float64      { return float64(g.novelOK) / float64(g.novel) }
func (g general) flipRate() float64      { return float64(g.flips) / float64(g.base) }
func (g general) planFlipRate() float64  { return float64(g.planFlips) / float64(g.base) }

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

// measure runs jobs as parallel subtests (CI has two cores) and stops the
// test if one failed.
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

// Bars TestSigns holds the shipped model to, per split. Where the model
// meets the target the bar is the target. Where it falls short, or
// there is no target, the bar is the value measured when the test was
// written minus a margin: 1 point of accuracy (0.5 for 5-way 5-shot),
// 0.01 of AUROC, 0.5 point more flips. The seeds are fixed, so the results
// are deterministic; the margin absorbs float differences between kernel
// tiers and small deliberate changes, not sampling noise.
type signsBars struct {
	w1, w5, a1, a5 float64 // 5-way 1-/5-shot, all-way 1-/5-shot
	open5, open1   float64
	pairs          float64 // mirrored pairs, 2-way 5-shot
}

var signsBarsBySplit = map[string]signsBars{
	// Targets: 5-way 1-shot ≥ 98%, 5-way 5-shot ≥ 99.5%, all-way 5-shot
	// ≥ 95%, open-set AUROC ≥ 0.95, mirrored pairs ≥ 97%.
	splitNovel: {w1: 0.98, w5: 0.995, a1: barNovelAllWay1Shot, a5: 0.95, open5: 0.95, open1: barNovelOpen1Shot, pairs: barNovelPairs},
	splitCross: {w1: 0.98, w5: 0.995, a1: barCrossAllWay1Shot, a5: 0.95, open5: 0.95, open1: barCrossOpen1Shot, pairs: 0.97},
}

const (
	// No target for the 1-shot all-way and open-set measures: the values
	// measured when the test was written, minus the margin.
	barNovelAllWay1Shot = 0.9054 - 0.01
	barCrossAllWay1Shot = 0.9655 - 0.01
	barNovelOpen1Shot   = 0.9376 - 0.01
	barCrossOpen1Shot   = 0.9846 - 0.01
	// Target ≥ 97%: met on cross-source (99.01%), not on novel, measured
	// 96.05% (the nearly symmetric pictograms whose twins differ in a few
	// pixels at 64 px; see MODEL_CARD.md).
	barNovelPairs = 0.9605 - 0.01
	// No target; measured 98.50%, 98.14% and 96.16% (20 trials).
	barBaseOnly         = 0.9850 - 0.01
	barGeneralisedBase  = 0.9814 - 0.01
	barGeneralisedNovel = 0.9616 - 0.01
	// Target ≤ 0.5%: met, measured 0.36% (8 of 2,200 base queries).
	barFlipRate = 0.005
)

const signsPairEpisodesN = 60 // 2-way episodes per mirrored pair (6 supports per twin: 36 pairings)

// signsCheck holds one measure to its bar.
type signsCheck struct {
	name     string
	got, bar float64
	ceiling  bool // the bar is a maximum (flip rate)
}

func (c signsCheck) ok() bool {
	if c.ceiling {
		return c.got <= c.bar
	}
	return c.got >= c.bar
}

// TestSigns measures the shipped encoder and the gallery on the committed
// benchmark: run it with go test -run Signs -v ./gallery/ to see the table.
func TestSigns(t *testing.T) {
	d := loadSigns(t)
	start := time.Now()
	m := signsMean
	jobs := map[string]func(t *testing.T){}
	for _, sp := range signsSplits {
		n := sp.name
		jobs[n+"/5way1shot"] = func(t *testing.T) { episodesFor(t, d, n, 5, 1, signsEpisodesN, m) }
		jobs[n+"/5way5shot"] = func(t *testing.T) { episodesFor(t, d, n, 5, 5, signsEpisodesN, m) }
		jobs[n+"/allway1shot"] = func(t *testing.T) { episodesFor(t, d, n, 0, 1, signsAllWayN, m) }
		jobs[n+"/allway5shot"] = func(t *testing.T) { episodesFor(t, d, n, 0, 5, signsAllWayN, m) }
		jobs[n+"/open1shot"] = func(t *testing.T) { openSetFor(t, d, n, 1, signsOpenTrials, m) }
		jobs[n+"/open5shot"] = func(t *testing.T) { openSetFor(t, d, n, 5, signsOpenTrials, m) }
		jobs[n+"/pairs"] = func(t *testing.T) { pairsFor(t, d, n, 5, m) }
	}
	for tr := range signsGenTrials {
		jobs[fmt.Sprintf("general%d", tr)] = func(t *testing.T) { generalTrialFor(t, d, tr, m, true) }
	}
	measure(t, jobs)
	gen := generalFor(t, d, m, true)

	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "measure (mean prototypes, seed %d)\tvalue\ttarget\tasserted\n", signsSeed)
	var checks []signsCheck
	for _, sp := range signsSplits {
		n, bar := sp.name, signsBarsBySplit[sp.name]
		w1 := episodesFor(t, d, n, 5, 1, signsEpisodesN, m)
		w5 := episodesFor(t, d, n, 5, 5, signsEpisodesN, m)
		a1 := episodesFor(t, d, n, 0, 1, signsAllWayN, m)
		a5 := episodesFor(t, d, n, 0, 5, signsAllWayN, m)
		o1 := openSetFor(t, d, n, 1, signsOpenTrials, m)
		o5 := openSetFor(t, d, n, 5, signsOpenTrials, m)
		pr := pairsFor(t, d, n, 5, m)
		c := sp.classes
		fmt.Fprintf(tw, "%s 5-way 1-shot, %d episodes, 5 queries/class\t%s\t≥ 98%%\t≥ %s\n", n, w1.Episodes, pctCI(w1), pct(bar.w1))
		fmt.Fprintf(tw, "%s 5-way 5-shot, %d episodes, 1 query/class\t%s\t≥ 99.5%%\t≥ %s\n", n, w5.Episodes, pctCI(w5), pct(bar.w5))
		fmt.Fprintf(tw, "%s all-way (%d) 1-shot, %d episodes\t%s\t\t≥ %s\n", n, c, a1.Episodes, pctCI(a1), pct(bar.a1))
		fmt.Fprintf(tw, "%s all-way (%d) 5-shot, %d episodes\t%s\t≥ 95%%\t≥ %s\n", n, c, a5.Episodes, pctCI(a5), pct(bar.a5))
		fmt.Fprintf(tw, "%s open-set AUROC 5-shot, %d enrolled / %d unknown, %d splits\t%.4f ± %.4f\t≥ 0.95\t≥ %.4f\n", n, c/2, c-c/2, signsOpenTrials, o5.mean, o5.half, bar.open5)
		fmt.Fprintf(tw, "%s open-set AUROC 1-shot, same protocol\t%.4f ± %.4f\t\t≥ %.4f\n", n, o1.mean, o1.half, bar.open1)
		fmt.Fprintf(tw, "%s mirrored pairs, 2-way 5-shot, both twins enrolled\t%.2f ± %.2f%%\t≥ 97%%\t≥ %s\n", n, 100*pr.mean, 100*pr.half, pct(bar.pairs))
		checks = append(checks,
			signsCheck{n + " 5-way 1-shot", w1.Accuracy, bar.w1, false},
			signsCheck{n + " 5-way 5-shot", w5.Accuracy, bar.w5, false},
			signsCheck{n + " all-way 1-shot", a1.Accuracy, bar.a1, false},
			signsCheck{n + " all-way 5-shot", a5.Accuracy, bar.a5, false},
			signsCheck{n + " open-set AUROC 5-shot", o5.mean, bar.open5, false},
			signsCheck{n + " open-set AUROC 1-shot", o1.mean, bar.open1, false},
			signsCheck{n + " mirrored pairs", pr.mean, bar.pairs, false})
	}
	nn := ways(d.allNovel())
	fmt.Fprintf(tw, "base accuracy, %d base classes (3 renders each), %d trials\t%s\t\t≥ %s\n", signsBaseN, gen.trials, pct(gen.baseBeforeAcc()), pct(barBaseOnly))
	fmt.Fprintf(tw, "generalised %d-way: base queries\t%s\t\t≥ %s\n", signsBaseN+nn, pct(gen.baseAfterAcc()), pct(barGeneralisedBase))
	fmt.Fprintf(tw, "generalised %d-way: novel and cross-source queries (5-shot)\t%s\t\t≥ %s\n", signsBaseN+nn, pct(gen.novelAcc()), pct(barGeneralisedNovel))
	fmt.Fprintf(tw, "base negative flip rate, +%d novel classes (matched)\t%s (%d/%d)\t≤ 0.5%%\t≤ %s\n", nn, pct(gen.flipRate()), gen.flips, gen.base, pct(barFlipRate))
	fmt.Fprintf(tw, "same, summed over the %d Plan reports of each trial\t%s (%d/%d)\t\tequal\n", nn, pct(gen.planFlipRate()), gen.planFlips, gen.base)
	fmt.Fprintf(tw, "single-class plans over the 0.5%% flip budget\t%d of %d\t\t\n", gen.overBudget, gen.trials*nn)
	tw.Flush()
	t.Logf("sign benchmark: %d novel + %d cross-source + %d base images embedded in %v (kernel tier %s), metrics in %v\n%s",
		len(d.novel(splitNovel)), len(d.novel(splitCross)), len(d.base), d.embedTime.Round(time.Millisecond), d.tier, time.Since(start).Round(time.Millisecond), b.String())

	if gen.planFlips != gen.flips {
		t.Errorf("Plan reports sum to %d negative flips; matching before and after counts %d", gen.planFlips, gen.flips)
	}
	checks = append(checks,
		signsCheck{"base accuracy, base gallery", gen.baseBeforeAcc(), barBaseOnly, false},
		signsCheck{"generalised base accuracy", gen.baseAfterAcc(), barGeneralisedBase, false},
		signsCheck{"generalised novel accuracy", gen.novelAcc(), barGeneralisedNovel, false},
		signsCheck{"base negative flip rate", gen.flipRate(), barFlipRate, true})
	for _, c := range checks {
		if !c.ok() {
			t.Errorf("%s: %.4f, bar %.4f", c.name, c.got, c.bar)
		}
	}
}

// signsModes are the prototype modes TestSignsModes compares.
var signsModes = []modeSpec{
	signsMean,
	{mode: gallery.MultiPrototype, k: 2},
	{mode: gallery.MultiPrototype, k: 3},
	{mode: gallery.KNN, k: 1},
}

// TestSignsModes compares the prototype modes with TestSigns's protocols
// (5 enrolled images per novel class, 3 per base class); the package
// documentation quotes its table and the checks at the end keep the
// documented ranking true.
func TestSignsModes(t *testing.T) {
	d := loadSigns(t)
	start := time.Now()
	jobs := map[string]func(t *testing.T){}
	for _, m := range signsModes {
		plan := m == signsMean // the trials TestSigns ran
		jobs[m.String()+"/5way5shot"] = func(t *testing.T) { episodesFor(t, d, splitNovel, 5, 5, signsEpisodesN, m) }
		jobs[m.String()+"/allway5shot"] = func(t *testing.T) { episodesFor(t, d, splitNovel, 0, 5, signsModeAllWayN, m) }
		jobs[m.String()+"/open5shot"] = func(t *testing.T) { openSetFor(t, d, splitNovel, 5, signsModeOpenTrials, m) }
		for tr := range signsGenTrials {
			jobs[fmt.Sprintf("%s/general%d", m, tr)] = func(t *testing.T) { generalTrialFor(t, d, tr, m, plan) }
		}
	}
	measure(t, jobs)
	type row struct {
		w5, a5 gallery.EpisodeResult
		o5     meanHalf
		gen    general
	}
	rows := make([]row, len(signsModes))
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "mode\t5-way 5-shot\tall-way 5-shot\topen-set AUROC\tbase only\tgeneralised base\tgeneralised novel\tbase flip rate\n")
	for i, m := range signsModes {
		r := row{
			w5:  episodesFor(t, d, splitNovel, 5, 5, signsEpisodesN, m),
			a5:  episodesFor(t, d, splitNovel, 0, 5, signsModeAllWayN, m),
			o5:  openSetFor(t, d, splitNovel, 5, signsModeOpenTrials, m),
			gen: generalFor(t, d, m, m == signsMean),
		}
		rows[i] = r
		fmt.Fprintf(tw, "%s\t%s\t%s\t%.4f ± %.4f\t%s\t%s\t%s\t%s\n", m, pctCI(r.w5), pctCI(r.a5), r.o5.mean, r.o5.half,
			pct(r.gen.baseBeforeAcc()), pct(r.gen.baseAfterAcc()), pct(r.gen.novelAcc()), pct(r.gen.flipRate()))
	}
	tw.Flush()
	t.Logf("prototype modes (seed %d; 5-way: %d episodes, all-way: %d, open-set: %d splits, generalised: %d trials), measured in %v\n%s",
		signsSeed, signsEpisodesN, signsModeAllWayN, signsModeOpenTrials, signsGenTrials, time.Since(start).Round(time.Millisecond), b.String())

	// The ranking the documentation states. Mean prototypes lead on the
	// all-way and generalised novel measures; the modes with several rows
	// a class lead on base accuracy, and KNN pays with the most flips.
	mean, knn := rows[0], rows[len(rows)-1]
	for i, r := range rows[1:] {
		m := signsModes[i+1]
		if r.a5.Accuracy > mean.a5.Accuracy || r.gen.novelAcc() > mean.gen.novelAcc() {
			t.Errorf("%s beats mean prototypes on all-way (%.4f vs %.4f) or generalised novel accuracy (%.4f vs %.4f): update the package documentation",
				m, r.a5.Accuracy, mean.a5.Accuracy, r.gen.novelAcc(), mean.gen.novelAcc())
		}
		if r.gen.baseBefore < mean.gen.baseBefore {
			t.Errorf("%s base accuracy %.4f below mean prototypes' %.4f: update the package documentation", m, r.gen.baseBeforeAcc(), mean.gen.baseBeforeAcc())
		}
	}
	if !(knn.gen.flips > mean.gen.flips) {
		t.Errorf("knn flips %d (mean %d): the documented trade-off no longer holds", knn.gen.flips, mean.gen.flips)
	}
}

// TestSignsShuffled is the negative control: the same protocols on the same
// embeddings with the images dealt to classes at random must fall to chance
// and fail TestSigns's bars, so the measures and bars can fail.
func TestSignsShuffled(t *testing.T) {
	d := loadSigns(t)
	rng := rand.New(rand.NewPCG(signsSeed, 99))
	novel := d.novel(splitNovel)
	shuffled := append([]gallery.Labelled(nil), novel...)
	perm := rng.Perm(len(shuffled))
	for i, p := range perm {
		shuffled[i].Embedding = novel[p].Embedding
	}
	fake := &signsData{fingerprint: d.fingerprint, splits: map[string][]gallery.Labelled{splitNovel: shuffled}, base: d.base}
	w1 := signsEpisodes(t, fake.novel(splitNovel), 5, 1, signsEpisodesN, signsMean)
	w5 := signsEpisodes(t, fake.novel(splitNovel), 5, 5, signsEpisodesN, signsMean)
	oa, oh := signsOpenSet(t, fake.fingerprint, fake.novel(splitNovel), 5, 20, signsMean)
	gen := signsGeneralTrial(t, fake, 0, signsMean, false)
	novelAcc := float64(gen.novelOK) / float64(gen.novel)
	t.Logf("shuffled labels (chance: 20%% 5-way, 0.5 AUROC, 1/%d generalised):\n"+
		"5-way 1-shot %s, 5-way 5-shot %s, open-set AUROC 5-shot %.4f ± %.4f (20 splits), generalised novel %s",
		signsBaseN+ways(shuffled), pctCI(w1), pctCI(w5), oa, oh, pct(novelAcc))
	bar := signsBarsBySplit[splitNovel]
	for _, c := range []signsCheck{
		{"5-way 1-shot", w1.Accuracy, bar.w1, false},
		{"5-way 5-shot", w5.Accuracy, bar.w5, false},
		{"open-set AUROC 5-shot", oa, bar.open5, false},
		{"generalised novel accuracy", novelAcc, barGeneralisedNovel, false},
	} {
		if c.ok() {
			t.Errorf("%s on shuffled labels %.4f passes the bar %.4f", c.name, c.got, c.bar)
		}
	}
	if w1.Accuracy > 0.25 || w5.Accuracy > 0.25 || oa < 0.45 || oa > 0.55 || novelAcc > 0.02 {
		t.Errorf("shuffled labels score above chance: %.4f %.4f %.4f %.4f", w1.Accuracy, w5.Accuracy, oa, novelAcc)
	}
}

// Fresh-gallery protocol of TestSignsUnknown: half the classes of a split
// enrolled with 3 crops each and nothing else (the gallery's default
// threshold from the encoder's calibration at 0.1% FAR per class, as
// `signet enroll` sets it), the other half queried as unknowns.
const (
	unknownShots  = 3
	unknownFAR    = 0.001
	unknownTrials = 20
	// Targets: at least 90% of unknown photos answered Unknown while at
	// least 90% of known photos are recognised, queries going through the
	// mirror check as signet classify runs them. Met on cross-source
	// (measured 97.41% and 97.31%). On novel 92.35% of known photos are
	// recognised but 87.13% of unknowns rejected (84.30% without the
	// check): the unknowns accepted are almost all the deliberately
	// confusable designs (numbers that differ from an enrolled limit, the
	// mirrored twin of an enrolled class), against about 1% of unseen
	// pictograms (MODEL_CARD.md). The bar there is the measured value minus
	// a point.
	barKnownRecognised      = 0.90
	barUnknownRejected      = 0.90
	barNovelUnknownRejected = 0.8713 - 0.01
)

// unknownTrial counts one halving.
type unknownTrial struct{ known, knownOK, unknown, unknownOK int }

// signsUnknownTrial runs halving trial; with mirror set, queries go
// through the chirality check at the model's mirror margin, as `signet
// classify` runs them.
func signsUnknownTrial(t *testing.T, d *signsData, split string, thr float32, trial int, mirror bool) unknownTrial {
	t.Helper()
	rng := rand.New(rand.NewPCG(signsSeed, 5000+uint64(trial)))
	o := gallery.DefaultOptions()
	o.Threshold = thr
	// As enrol does: the default validation share holds none of 3 out.
	g, known, unknown := halfEnrolled(t, d.fingerprint, d.novel(split), unknownShots, o, rng)
	var r unknownTrial
	res := gallery.NewResult(1)
	match := func(q gallery.Labelled) {
		t.Helper()
		var err error
		if mirror {
			err = g.MatchMirroredInto(q.Embedding, d.mirrored[q.Source], d.cal.Mirror.Margin, res)
		} else {
			err = g.MatchInto(q.Embedding, res)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, q := range known {
		match(q)
		r.known++
		if res.Known && res.Label == q.Label {
			r.knownOK++
		}
	}
	for _, q := range unknown {
		match(q)
		r.unknown++
		if !res.Known {
			r.unknownOK++
		}
	}
	return r
}

// TestSignsUnknown: a gallery created by enrolment alone answers Unknown
// honestly, because its default threshold comes from the encoder's
// impostor calibration stored in the model (tools/convert -impostors).
// tools/signet's TestFreshGalleryUnknown runs the same protocol through
// the CLI.
func TestSignsUnknown(t *testing.T) {
	d := loadSigns(t)
	if d.cal == nil || d.cal.Mirror == nil {
		t.Fatal("the shipped model carries no impostor calibration with a mirror margin")
	}
	thr, far, err := d.cal.ThresholdAt(unknownFAR)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "split\tmirror check\tenrolled / unknown classes\tknown recognised\tunknown answered Unknown\n")
	for _, sp := range signsSplits {
		for _, mirror := range []bool{true, false} {
			var sum unknownTrial
			for tr := range unknownTrials {
				r := signsUnknownTrial(t, d, sp.name, thr, tr, mirror)
				sum.known += r.known
				sum.knownOK += r.knownOK
				sum.unknown += r.unknown
				sum.unknownOK += r.unknownOK
			}
			kr, ur := float64(sum.knownOK)/float64(sum.known), float64(sum.unknownOK)/float64(sum.unknown)
			check := "off"
			if mirror {
				check = fmt.Sprintf("margin %.4f", d.cal.Mirror.Margin)
			}
			fmt.Fprintf(tw, "%s\t%s\t%d / %d\t%s (%d/%d)\t%s (%d/%d)\n", sp.name, check, sp.classes/2, sp.classes-sp.classes/2,
				pct(kr), sum.knownOK, sum.known, pct(ur), sum.unknownOK, sum.unknown)
			if !mirror {
				continue // measured for comparison; classify runs the check
			}
			barU := barUnknownRejected
			if sp.name == splitNovel {
				barU = barNovelUnknownRejected
			}
			if kr < barKnownRecognised || ur < barU {
				t.Errorf("%s: %.4f of known recognised (bar %.2f), %.4f of unknown rejected (bar %.4f)", sp.name, kr, barKnownRecognised, ur, barU)
			}
		}
	}
	tw.Flush()
	t.Logf("fresh gallery, %d crops a class, default threshold %.4f (encoder calibration at FAR %g per class, %d impostor scores), %d halvings:\n%s",
		unknownShots, thr, far, d.cal.Scores, unknownTrials, b.String())
}
