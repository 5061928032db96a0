package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/signet-go/signet/engine"
	"github.com/signet-go/signet/gallery"
	"github.com/signet-go/signet/internal/textsafe"
)

// The demo is the project's first run for a newcomer: everything it needs is
// in the repository (the shipped encoder and the sign benchmark), it keeps
// its gallery in memory, and every number it prints is measured while it
// runs.
const (
	demoModelRel = "testdata/models/signs.sgn"
	// demoInt8Rel is the same encoder quantised to int8 (demo -int8).
	demoInt8Rel  = "testdata/models/signs-int8.sgn"
	demoDataRel  = "testdata/signs"
	demoBaseDir  = "base-val"
	demoNovelDir = "novel"
	// The default sign is a prohibition whose pictogram (Symbola's
	// U+1F46F) no training class contains: the case a gallery exists for.
	demoDefaultSign = "prohib-symbola.1f46f"
	demoTop         = 3 // candidates shown per photo
	demoQueries     = 5 // queries per class and episode, at most (fewer when a class has fewer photos)
	demoMaxSessions = 8
)

// demoCandidate is one ranked class of a match.
type demoCandidate struct {
	Label string  `json:"label"`
	Score float32 `json:"score"`
}

// demoMatch is the decision for one photo.
type demoMatch struct {
	Source    string          `json:"source"`
	Label     string          `json:"label"` // "" when unknown
	Unknown   bool            `json:"unknown"`
	Reason    string          `json:"reason"`
	Score     float32         `json:"score"`
	Threshold float32         `json:"threshold"`
	Top       []demoCandidate `json:"top"`
}

// demoCount summarises the decisions on a set of photos of one class.
type demoCount struct {
	Photos     int            `json:"photos"`
	Recognised int            `json:"recognised"` // accepted as the true class
	Unknown    int            `json:"unknown"`
	Wrong      map[string]int `json:"wrong,omitempty"` // accepted as another class: label → photos
}

type demoBase struct {
	Classes           int     `json:"classes"`
	Exemplars         int     `json:"exemplars"`
	Training          int     `json:"training"`
	HeldOut           int     `json:"held_out"`
	Mode              string  `json:"mode"`
	TargetFAR         float64 `json:"target_far"`
	DefaultThreshold  float32 `json:"default_threshold"`
	MinClassThreshold float32 `json:"min_class_threshold"`
	MaxClassThreshold float32 `json:"max_class_threshold"`
	Unresolved        int     `json:"unresolved"` // classes whose FAR target the data could not show
	Background        int     `json:"background"` // photos of other novel signs used as impostors
}

type demoEnrol struct {
	Sign      string          `json:"sign"`
	Photos    []string        `json:"photos"`
	Report    *gallery.Report `json:"report"`
	Committed bool            `json:"committed"`
	Forced    bool            `json:"forced"` // over the flip budget; the demo commits anyway
	ClassID   uint64          `json:"class_id"`
}

type demoBaseCheck struct {
	Class  string      `json:"class"`
	Before []demoMatch `json:"before"`
	After  []demoMatch `json:"after"`
}

type demoEpisodes struct {
	Ways       int     `json:"ways"`
	Shots      int     `json:"shots"`
	Queries    int     `json:"queries"`
	Episodes   int     `json:"episodes"`
	Seed       uint64  `json:"seed"`
	Accuracy   float64 `json:"accuracy"`
	Accuracy95 float64 `json:"accuracy95"`
	// AUROC is set for the open-set row: as many never-enrolled classes
	// as enrolled ones per episode, scored by the best cosine.
	UnknownWays int     `json:"unknown_ways,omitempty"`
	AUROC       float64 `json:"auroc,omitempty"`
	AUROC95     float64 `json:"auroc95,omitempty"`
}

type demoAccuracy struct {
	BaseSamples       int            `json:"base_samples"`
	BaseBefore        float64        `json:"base_before"`
	BaseAfter         float64        `json:"base_after"`
	SignSamples       int            `json:"sign_samples"`
	SignRecallBefore  float64        `json:"sign_recall_before"`
	SignRecallAfter   float64        `json:"sign_recall_after"`
	SignUnknownBefore float64        `json:"sign_unknown_before"`
	Episodes          []demoEpisodes `json:"episodes"`
}

type demoResult struct {
	Model         string        `json:"model"`
	ModelName     string        `json:"model_name"`
	Fingerprint   string        `json:"fingerprint"`
	Dim           int           `json:"dim"`
	Tier          string        `json:"tier"`
	Data          string        `json:"data"`
	BaseClasses   int           `json:"base_classes"`
	NovelClasses  int           `json:"novel_classes"`
	Images        int           `json:"images"`
	Sessions      int           `json:"sessions"`
	EmbedSeconds  float64       `json:"embed_seconds"`
	Base          demoBase      `json:"base"`
	Sign          string        `json:"sign"`
	Before        demoMatch     `json:"before"`
	HeldOutBefore demoCount     `json:"held_out_before"`
	Enrolment     demoEnrol     `json:"enrolment"`
	After         demoMatch     `json:"after"`
	HeldOutAfter  demoCount     `json:"held_out_after"`
	BaseCheck     demoBaseCheck `json:"base_check"`
	Accuracy      demoAccuracy  `json:"accuracy"`
	Seconds       float64       `json:"seconds"`
}

// demoImage is one benchmark photo and, once embedded, its embedding.
type demoImage struct {
	label  string
	source string // relative to the data folder, slash-separated
	path   string
	vec    []float32
}

func cmdDemo(e *env, args []string) error {
	start := time.Now()
	fs := newFlagSet(e, "demo")
	modelPath := fs.String("model", "", "model file (.sgn); default "+demoModelRel+" found from the working directory upwards")
	int8 := fs.Bool("int8", false, "run on the int8 encoder "+demoInt8Rel+" instead of the float32 one")
	dataDir := fs.String("data", "", "sign benchmark folder with "+demoBaseDir+"/ and "+demoNovelDir+"/ (one sub-folder per class); default "+demoDataRel)
	sign := fs.String("sign", "", "novel sign to enrol (a folder name under "+demoNovelDir+"/); default "+demoDefaultSign)
	shots := fs.Int("shots", 3, "photos of the sign to enrol; its other photos are the test")
	far := fs.Float64("far", 0.001, "target false-accept rate per class for the thresholds")
	episodes := fs.Int("episodes", 500, "episodes per few-shot measurement")
	seed := fs.Uint64("seed", 2026, "seed of the episode sampler")
	useBG := fs.Bool("background", true, "calibrate against photos of the other novel signs too, as signs the gallery does not know (the enrolled sign's photos are never among them)")
	threads := fs.Int("threads", 1, "threads per inference")
	asJSON := fs.Bool("json", false, "print one JSON object instead of the tour")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	switch {
	case *shots < 1:
		return usagef("-shots must be at least 1")
	case !(*far > 0 && *far < 1):
		return usagef("-far must be in (0, 1)")
	case *episodes < 1:
		return usagef("-episodes must be at least 1")
	case *threads < 1:
		return usagef("-threads must be at least 1")
	}
	var err error
	if *int8 && *modelPath != "" {
		return usagef("-int8 and -model name two models: give one")
	}
	if *modelPath == "" {
		rel := demoModelRel
		if *int8 {
			rel = demoInt8Rel
		}
		if *modelPath, err = findUp(rel); err != nil {
			return usagef("%v: run the demo from the signet repository root (go run ./tools/signet demo) or pass -model FILE", err)
		}
	}
	if *dataDir == "" {
		if *dataDir, err = findUp(demoDataRel); err != nil {
			return usagef("%v: run the demo from the signet repository root (go run ./tools/signet demo) or pass -data DIR", err)
		}
	}

	// Read the benchmark's layout before the model: a wrong folder or sign
	// name fails at once.
	baseLabels, baseFiles, err := classFolders(filepath.Join(*dataDir, demoBaseDir))
	if err != nil {
		return err
	}
	novelLabels, novelFiles, err := classFolders(filepath.Join(*dataDir, demoNovelDir))
	if err != nil {
		return err
	}
	if *sign == "" {
		*sign = demoDefaultSign
		if _, ok := novelFiles[*sign]; !ok {
			*sign = novelLabels[0] // another data set: its first novel sign
		}
	}
	if _, ok := novelFiles[*sign]; !ok {
		if _, base := baseFiles[*sign]; base {
			return usagef("%q is a base sign, already in the gallery; pick one of %s/", *sign, filepath.Join(*dataDir, demoNovelDir))
		}
		return usagef("no novel sign %q; pick a folder name of %s/ (for example %s)", *sign, filepath.Join(*dataDir, demoNovelDir), novelLabels[0])
	}
	if n := len(novelFiles[*sign]); n < *shots+1 {
		return usagef("-shots %d leaves no test photo: %s has %d photos", *shots, *sign, n)
	}
	if _, clash := baseFiles[*sign]; clash {
		return fmt.Errorf("%s: %q is both a base and a novel class", *dataDir, *sign)
	}
	base := demoImages(*dataDir, demoBaseDir, baseLabels, baseFiles)
	novel := demoImages(*dataDir, demoNovelDir, novelLabels, novelFiles)

	eng, err := engine.Load(*modelPath, engine.Options{Threads: *threads})
	if err != nil {
		return err
	}
	defer eng.Close()
	probe, err := gallery.NewEngineEncoder(eng)
	if err != nil {
		return fmt.Errorf("%s: %w", *modelPath, err)
	}
	dim, fp := probe.Dim(), probe.Fingerprint()
	probe.Close()
	res := demoResult{Model: *modelPath, ModelName: eng.Model().Meta.Name, Fingerprint: eng.Model().FingerprintHex(), Dim: dim,
		Tier: eng.Tier().String(), Data: *dataDir, BaseClasses: len(baseLabels), NovelClasses: len(novelLabels),
		Images: len(base) + len(novel), Sign: *sign}
	all := append(append([]*demoImage(nil), base...), novel...)
	t0 := time.Now()
	if res.Sessions, err = embedParallel(e, eng, all, *threads); err != nil {
		return err
	}
	res.EmbedSeconds = time.Since(t0).Seconds()

	// Base gallery: the last third of each base class's photos is held out
	// (the report's validation samples), the rest builds the prototypes.
	g, err := gallery.New(dim, fp, gallery.DefaultOptions())
	if err != nil {
		return err
	}
	g.SetTier(eng.Tier()) // score on the engine's kernel tier
	bySource := make(map[string]*demoImage, len(base))
	for _, im := range base {
		bySource[im.source] = im
	}
	batch := demoClasses(baseLabels, baseFiles, base, func(im *demoImage) gallery.Exemplar {
		return gallery.Exemplar{Embedding: im.vec, Source: im.source}
	})
	ids, err := g.AddClasses(batch)
	if err != nil {
		return err
	}
	// Options.ValidationShare may hold out more than the last third: the
	// gallery's own flags decide which photos measure accuracy.
	var held []*demoImage
	for _, id := range ids {
		exs, err := g.Exemplars(id)
		if err != nil {
			return err
		}
		for _, x := range exs {
			if x.Validation {
				held = append(held, bySource[x.Source])
			}
		}
	}
	res.Base.Classes, res.Base.Exemplars, res.Base.HeldOut = len(ids), len(base), len(held)
	res.Base.Training = len(base) - len(held)
	// Base signs are far apart in the encoder's space (it was trained to
	// separate them), so impostors drawn from them alone set thresholds
	// that accept almost any unseen sign as its nearest base sign. Photos
	// of other never-seen signs are the impostors that matter in the field.
	var bg [][]float32
	if *useBG {
		for _, im := range novel {
			if im.label != *sign {
				bg = append(bg, im.vec)
			}
		}
	}
	res.Base.Background = len(bg)
	cal, err := g.Calibrate(*far, gallery.CalibrateOptions{Background: bg})
	if err != nil {
		return err
	}
	res.Base.Mode, res.Base.TargetFAR, res.Base.DefaultThreshold = g.Options().Mode.String(), *far, g.Options().Threshold
	for k, c := range cal.Classes {
		if k == 0 || c.Threshold < res.Base.MinClassThreshold {
			res.Base.MinClassThreshold = c.Threshold
		}
		if k == 0 || c.Threshold > res.Base.MaxClassThreshold {
			res.Base.MaxClassThreshold = c.Threshold
		}
		if !c.Resolved {
			res.Base.Unresolved++
		}
	}

	r := gallery.NewResult(demoTop)
	baseOK, err := countCorrect(g, held, r)
	if err != nil {
		return err
	}

	// The new sign: the first photos are enrolled, the others are the test.
	var signImgs []*demoImage
	for _, im := range novel {
		if im.label == *sign {
			signImgs = append(signImgs, im)
		}
	}
	enrol, test := signImgs[:*shots], signImgs[*shots:]
	if res.Before, err = matchOne(g, test[0], r); err != nil {
		return err
	}
	if res.HeldOutBefore, err = countSign(g, test, *sign, r); err != nil {
		return err
	}

	ex := make([]gallery.Exemplar, len(enrol))
	res.Enrolment.Sign = *sign
	for k, im := range enrol {
		ex[k] = gallery.Exemplar{Embedding: im.vec, Source: im.source}
		res.Enrolment.Photos = append(res.Enrolment.Photos, im.source)
	}
	plan, err := g.Plan(*sign, ex, gallery.PlanOptions{TargetFAR: *far, ApplyThreshold: true, Background: bg})
	if err != nil {
		return err
	}
	res.Enrolment.Report = plan.Report
	// The base class most like the newcomer is the one it could take
	// photos from: check its held-out photos before and after.
	checkClass := baseLabels[0]
	if len(plan.Report.Nearest) > 0 {
		checkClass = plan.Report.Nearest[0].Label
	}
	res.BaseCheck.Class = checkClass
	var checkImgs []*demoImage
	for _, im := range held {
		if im.label == checkClass {
			checkImgs = append(checkImgs, im)
		}
	}
	for _, im := range checkImgs {
		m, err := matchOne(g, im, r)
		if err != nil {
			return err
		}
		res.BaseCheck.Before = append(res.BaseCheck.Before, m)
	}
	id, err := g.Commit(plan)
	if errors.Is(err, gallery.ErrFlipBudget) {
		// signet enroll stops here unless -force; the demo goes on so the
		// rest of the tour still runs, and says so.
		res.Enrolment.Forced = true
		id, err = g.ForceCommit(plan)
	}
	if err != nil {
		return err
	}
	res.Enrolment.Committed, res.Enrolment.ClassID = true, id

	if res.After, err = matchOne(g, test[0], r); err != nil {
		return err
	}
	if res.HeldOutAfter, err = countSign(g, test, *sign, r); err != nil {
		return err
	}
	for _, im := range checkImgs {
		m, err := matchOne(g, im, r)
		if err != nil {
			return err
		}
		res.BaseCheck.After = append(res.BaseCheck.After, m)
	}
	baseOKAfter, err := countCorrect(g, held, r)
	if err != nil {
		return err
	}

	acc := &res.Accuracy
	acc.BaseSamples = len(held)
	if len(held) > 0 {
		acc.BaseBefore = float64(baseOK) / float64(len(held))
		acc.BaseAfter = float64(baseOKAfter) / float64(len(held))
	}
	acc.SignSamples = len(test)
	acc.SignRecallBefore = float64(res.HeldOutBefore.Recognised) / float64(len(test))
	acc.SignRecallAfter = float64(res.HeldOutAfter.Recognised) / float64(len(test))
	acc.SignUnknownBefore = float64(res.HeldOutBefore.Unknown) / float64(len(test))

	ds := make([]gallery.Labelled, len(novel))
	for k, im := range novel {
		ds[k] = gallery.Labelled{Label: im.label, Embedding: im.vec, Source: im.source}
	}
	// 5-way episodes, fewer ways on a smaller data set; the open-set row
	// needs classes left over to play the unknown ones.
	for _, row := range []struct{ shots, unknown int }{{1, 0}, {5, 0}, {5, 5}} {
		// Classes with a photo left after the shots take part; the row's
		// queries per class are what the smallest of them has left.
		eligible, queries := 0, demoQueries
		for _, l := range novelLabels {
			if n := len(novelFiles[l]); n > row.shots {
				eligible++
				queries = min(queries, n-row.shots)
			}
		}
		c := gallery.EpisodeConfig{Ways: min(5, eligible), Shots: row.shots}
		c.UnknownWays = min(row.unknown, eligible-c.Ways)
		if c.Ways < 2 || (row.unknown > 0 && c.UnknownWays < 1) {
			continue // too few classes with enough photos for this row
		}
		c.Queries, c.Episodes, c.Seed = queries, *episodes, *seed
		er, err := gallery.Episodes(ds, c)
		if err != nil {
			return fmt.Errorf("%s: %d-way %d-shot episodes: %w", filepath.Join(*dataDir, demoNovelDir), c.Ways, c.Shots, err)
		}
		acc.Episodes = append(acc.Episodes, demoEpisodes{Ways: c.Ways, Shots: c.Shots, Queries: c.Queries, Episodes: er.Episodes,
			Seed: c.Seed, Accuracy: er.Accuracy, Accuracy95: er.Accuracy95, UnknownWays: c.UnknownWays, AUROC: er.AUROC, AUROC95: er.AUROC95})
	}
	res.Seconds = time.Since(start).Seconds()
	if *asJSON {
		return printJSON(e, res)
	}
	return printDemo(e, &res)
}

// findUp looks for rel in the working directory and its parents, so the
// demo also runs from a folder inside the repository. The path comes back
// relative to the working directory when it can be.
func findUp(rel string) (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for dir := wd; ; {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if _, err := os.Stat(p); err == nil {
			if r, err := filepath.Rel(wd, p); err == nil {
				return r, nil
			}
			return p, nil
		} else if !errors.Is(err, fs.ErrNotExist) {
			return "", err
		}
		up := filepath.Dir(dir)
		if up == dir {
			return "", fmt.Errorf("no %s in %s or any folder above it", rel, wd)
		}
		dir = up
	}
}

// demoImages lists a folder-per-class part of the benchmark in class order,
// photos in name order.
func demoImages(root, part string, labels []string, files map[string][]string) []*demoImage {
	var out []*demoImage
	for _, l := range labels {
		for _, f := range files[l] {
			out = append(out, &demoImage{label: l, path: f, source: part + "/" + l + "/" + filepath.Base(f)})
		}
	}
	return out
}

// demoClasses makes one new class per label from imgs, which hold the
// files[l] photos of each label in turn (as demoImages lists them), with
// the last third of each class's photos flagged for validation: the demo's
// base gallery. exemplar makes the exemplar of one embedded photo.
func demoClasses(labels []string, files map[string][]string, imgs []*demoImage, exemplar func(*demoImage) gallery.Exemplar) []gallery.NewClass {
	batch := make([]gallery.NewClass, 0, len(labels))
	i := 0
	for _, l := range labels {
		n := len(files[l])
		ex := make([]gallery.Exemplar, n)
		for j := range ex {
			ex[j] = exemplar(imgs[i])
			ex[j].Validation = j >= n-n/3
			i++
		}
		batch = append(batch, gallery.NewClass{Label: l, Exemplars: ex})
	}
	return batch
}

// embedParallel decodes and embeds every image, one engine session per
// worker (a session serves one goroutine), and returns how many sessions
// ran. Results do not depend on the number of workers: each image is
// embedded alone.
func embedParallel(e *env, eng *engine.Engine, imgs []*demoImage, threads int) (int, error) {
	workers := max(1, min(runtime.GOMAXPROCS(0)/threads, demoMaxSessions, len(imgs)))
	encs := make([]*gallery.EngineEncoder, workers)
	for w := range encs {
		enc, err := gallery.NewEngineEncoder(eng)
		if err != nil {
			for _, x := range encs[:w] {
				x.Close()
			}
			return 0, err
		}
		encs[w] = enc
	}
	var next atomic.Int64
	var failed atomic.Bool
	errs := make([]error, workers)
	done := make(chan struct{}, len(imgs))
	var wg sync.WaitGroup
	for w, enc := range encs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer enc.Close()
			for !failed.Load() {
				k := int(next.Add(1)) - 1
				if k >= len(imgs) {
					return
				}
				im := imgs[k]
				img, err := loadImage(im.path)
				if err == nil {
					if im.vec, err = enc.Embed(img); err != nil {
						err = fmt.Errorf("%s: %w", im.path, err)
					}
				}
				if err != nil {
					errs[w] = err
					failed.Store(true)
					return
				}
				done <- struct{}{}
			}
		}()
	}
	go func() { wg.Wait(); close(done) }()
	prog := newProgress(e.stderr, fmt.Sprintf("embedding %d images", len(imgs)), len(imgs))
	for range done {
		prog.Add(1)
	}
	prog.Done()
	return workers, errors.Join(errs...)
}

func matchOne(g *gallery.Gallery, im *demoImage, r *gallery.Result) (demoMatch, error) {
	if err := g.MatchInto(im.vec, r); err != nil {
		return demoMatch{}, fmt.Errorf("%s: %w", im.source, err)
	}
	m := demoMatch{Source: im.source, Label: r.Label, Unknown: !r.Known, Reason: r.Reason.String(), Score: r.Score, Threshold: r.Threshold}
	for _, c := range r.Candidates {
		m.Top = append(m.Top, demoCandidate{Label: c.Label, Score: c.Score})
	}
	return m, nil
}

// countCorrect counts the photos accepted as their own class; Unknown
// counts as wrong, as in the enrolment report.
func countCorrect(g *gallery.Gallery, imgs []*demoImage, r *gallery.Result) (int, error) {
	ok := 0
	for _, im := range imgs {
		if err := g.MatchInto(im.vec, r); err != nil {
			return 0, fmt.Errorf("%s: %w", im.source, err)
		}
		if r.Known && r.Label == im.label {
			ok++
		}
	}
	return ok, nil
}

func countSign(g *gallery.Gallery, imgs []*demoImage, sign string, r *gallery.Result) (demoCount, error) {
	c := demoCount{Photos: len(imgs)}
	for _, im := range imgs {
		if err := g.MatchInto(im.vec, r); err != nil {
			return c, fmt.Errorf("%s: %w", im.source, err)
		}
		switch {
		case !r.Known:
			c.Unknown++
		case r.Label == sign:
			c.Recognised++
		default:
			if c.Wrong == nil {
				c.Wrong = map[string]int{}
			}
			c.Wrong[r.Label]++
		}
	}
	return c, nil
}

func pct(x float64) string { return fmt.Sprintf("%.2f%%", 100*x) }

func decision(m demoMatch) string {
	if m.Unknown {
		return "UNKNOWN (" + m.Reason + ")"
	}
	return m.Label
}

func printDemo(e *env, res *demoResult) error {
	w := e.stdout
	section := func(n int, title string) { fmt.Fprintf(w, "\n== %d. %s\n\n", n, title) }
	fmt.Fprintln(w, "signet demo: teach a recognizer a traffic sign it has never seen, from a few photos, without retraining")

	section(1, "Encoder and data")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "model\t%s (%s, fingerprint %s), %d-d embeddings, kernel tier %s\n", res.Model, res.ModelName, res.Fingerprint[:16], res.Dim, res.Tier)
	fmt.Fprintf(tw, "data\t%s: %d base signs (the encoder was trained on their designs), %d novel signs (never seen)\n", res.Data, res.BaseClasses, res.NovelClasses)
	fmt.Fprintf(tw, "embedded\t%d photos in %.2f s (%d sessions)\n", res.Images, res.EmbedSeconds, res.Sessions)
	tw.Flush()

	section(2, "Gallery of base signs")
	b := res.Base
	fmt.Fprintf(w, "enrolled %d base signs: %d photos, %d in the prototypes (%s mode), %d held out to measure accuracy\n",
		b.Classes, b.Exemplars, b.Training, b.Mode, b.HeldOut)
	fmt.Fprintf(w, "calibrated at a false-accept rate of %g per class: thresholds %.4f to %.4f, default %.4f",
		b.TargetFAR, b.MinClassThreshold, b.MaxClassThreshold, b.DefaultThreshold)
	if b.Unresolved > 0 {
		fmt.Fprintf(w, " (%d classes had too few impostors to show the rate)", b.Unresolved)
	}
	fmt.Fprintln(w)
	if b.Background > 0 {
		fmt.Fprintf(w, "impostors: the other base signs and %d photos of other never-seen signs (not the one enrolled below),\n", b.Background)
		fmt.Fprintln(w, "so signs the gallery does not know come out Unknown; the price is paid in base accuracy (compare -background=false)")
	}
	a := res.Accuracy
	fmt.Fprintf(w, "held-out base photos recognised: %s (%d of %d)\n", pct(a.BaseBefore), int(a.BaseBefore*float64(a.BaseSamples)+0.5), a.BaseSamples)

	section(3, fmt.Sprintf("A sign the gallery does not know: %s", res.Sign))
	printMatch(w, res.Before)
	hb := res.HeldOutBefore
	fmt.Fprintf(w, "all %d test photos of it: %d unknown, %d taken for a base sign%s\n", hb.Photos, hb.Unknown, hb.Photos-hb.Unknown-hb.Recognised, wrongList(hb.Wrong))

	en := res.Enrolment
	section(4, fmt.Sprintf("Enrol it from %d photos (Plan, risk report, Commit)", len(en.Photos)))
	fmt.Fprintf(w, "photos: %s\n\n", textsafe.Escape(strings.Join(en.Photos, ", "))) // file names of the -data folder
	fmt.Fprint(w, en.Report.String())
	fmt.Fprintln(w)
	if en.Forced {
		fmt.Fprintf(w, "Commit refused: the negative flip rate is over budget (signet enroll stops here unless -force); the demo commits anyway to go on\n")
	}
	fmt.Fprintf(w, "enrolled %q as class %d (gallery in memory, nothing written)\n", en.Sign, en.ClassID)

	section(5, "After enrolment")
	printMatch(w, res.After)
	ha := res.HeldOutAfter
	fmt.Fprintf(w, "all %d test photos of it: %d recognised, %d unknown, %d taken for another sign%s\n", ha.Photos, ha.Recognised, ha.Unknown, ha.Photos-ha.Unknown-ha.Recognised, wrongList(ha.Wrong))
	fmt.Fprintf(w, "\nits nearest base sign, %s, on its held-out photos:\n", res.BaseCheck.Class)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  photo\tbefore\tafter\tscore after")
	for k, m := range res.BaseCheck.After {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%.4f\n", textsafe.Cell(m.Source), decision(res.BaseCheck.Before[k]), decision(m), m.Score)
	}
	tw.Flush()

	section(6, "Accuracy, measured in this run")
	rows := [][]string{{"measure", "photos", "before", "after"},
		{"base signs recognised (held-out photos)", fmt.Sprint(a.BaseSamples), pct(a.BaseBefore), pct(a.BaseAfter)},
		{res.Sign + " recognised (test photos)", fmt.Sprint(a.SignSamples), pct(a.SignRecallBefore), pct(a.SignRecallAfter)},
		{res.Sign + " answered unknown", fmt.Sprint(a.SignSamples), pct(a.SignUnknownBefore), pct(float64(ha.Unknown) / float64(ha.Photos))},
	}
	table(w, []bool{false, true, true, true}, rows)
	fmt.Fprintln(w)
	rows = [][]string{{fmt.Sprintf("novel signs (%d classes)", res.NovelClasses), "episodes", "accuracy", "95% interval", "open-set AUROC"}}
	for _, ep := range a.Episodes {
		name := fmt.Sprintf("%d-way %d-shot", ep.Ways, ep.Shots)
		auroc := "-"
		if ep.UnknownWays > 0 {
			name += fmt.Sprintf(", %d unknown classes", ep.UnknownWays)
			auroc = fmt.Sprintf("%.4f ± %.4f", ep.AUROC, ep.AUROC95)
		}
		rows = append(rows, []string{name, fmt.Sprint(ep.Episodes), pct(ep.Accuracy), "± " + pct(ep.Accuracy95), auroc})
	}
	table(w, []bool{false, true, true, true, true}, rows)
	if len(a.Episodes) > 0 {
		q := make([]string, len(a.Episodes))
		for i, ep := range a.Episodes {
			q[i] = fmt.Sprint(ep.Queries)
		}
		fmt.Fprintf(w, "(queries per class and episode: %s by row, every photo not enrolled up to %d; seed %d; accuracy is closed-set, nearest prototype; AUROC separates enrolled from unknown classes by best score)\n",
			strings.Join(q, ", "), demoQueries, a.Episodes[0].Seed)
	}
	fmt.Fprintf(w, "\ndone in %.2f s\n", res.Seconds)
	return nil
}

func printMatch(w io.Writer, m demoMatch) {
	fmt.Fprintf(w, "photo %s -> %s; best score %.4f, threshold %.4f\n", textsafe.Escape(m.Source), decision(m), m.Score, m.Threshold)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  rank\tcandidate\tscore")
	for k, c := range m.Top {
		fmt.Fprintf(tw, "  %d\t%s\t%.4f\n", k+1, c.Label, c.Score)
	}
	tw.Flush()
}

func wrongList(m map[string]int) string {
	if len(m) == 0 {
		return ""
	}
	var parts []string
	for _, l := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s ×%d", l, m[l]))
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

// table prints rows as aligned columns, the first row a header; columns
// marked in right are right-aligned (numbers).
func table(w io.Writer, right []bool, rows [][]string) {
	width := make([]int, len(right))
	for _, r := range rows {
		for i, c := range r {
			width[i] = max(width[i], utf8.RuneCountInString(c))
		}
	}
	for _, r := range rows {
		var b strings.Builder
		for i, c := range r {
			pad := strings.Repeat(" ", width[i]-utf8.RuneCountInString(c))
			if i > 0 {
				b.WriteString("  ")
			}
			if right[i] {
				b.WriteString(pad + c)
			} else {
				b.WriteString(c + pad)
			}
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
}
