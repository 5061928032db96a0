package main

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"text/tabwriter"

	"github.com/signet-go/signet/engine"
	"github.com/signet-go/signet/gallery"
	"github.com/signet-go/signet/internal/textsafe"
)

// encoder is an opened model ready to embed images.
type encoder struct {
	eng *engine.Engine
	enc *gallery.EngineEncoder
}

func openEncoder(path string, threads int) (*encoder, error) {
	eng, err := engine.Load(path, engine.Options{Threads: threads})
	if err != nil {
		return nil, err
	}
	enc, err := gallery.NewEngineEncoder(eng)
	if err != nil {
		eng.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &encoder{eng: eng, enc: enc}, nil
}

func (e *encoder) Close() {
	e.enc.Close()
	e.eng.Close()
}

// embedFiles embeds image files, showing progress on a terminal.
func (e *encoder) embedFiles(env *env, label string, paths []string) ([][]float32, error) {
	prog := newProgress(env.stderr, label, len(paths))
	defer prog.Done()
	out := make([][]float32, len(paths))
	for i, p := range paths {
		img, err := loadImage(p)
		if err != nil {
			return nil, err
		}
		if out[i], err = e.enc.Embed(img); err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		prog.Add(1)
	}
	return out, nil
}

// openGallery opens path for a model: the gallery must come from that
// model's encoder. With create set, a missing file yields a new, empty
// gallery (created reports it); a file that exists but cannot be read is
// always an error, never silently replaced.
func openGallery(path string, enc *encoder, create bool, opts gallery.Options) (g *gallery.Gallery, created bool, err error) {
	if _, err := os.Stat(path); create && errors.Is(err, fs.ErrNotExist) {
		g, err := gallery.New(enc.enc.Dim(), enc.enc.Fingerprint(), opts)
		if err == nil {
			g.SetTier(enc.enc.Tier()) // score on the engine's kernel tier
		}
		return g, true, err
	}
	g, err = gallery.Open(path, enc.enc.Fingerprint())
	if err != nil {
		return nil, false, err
	}
	if err := g.CheckEncoder(enc.enc); err != nil {
		return nil, false, err
	}
	g.SetTier(enc.enc.Tier()) // score on the engine's kernel tier
	return g, false, nil
}

// galleryFlags are the flags most gallery commands share.
type galleryFlags struct {
	model, gallery *string
	threads        *int
	json           *bool
}

func addGalleryFlags(fs interface {
	String(string, string, string) *string
	Int(string, int, string) *int
	Bool(string, bool, string) *bool
}, needModel bool) galleryFlags {
	modelHelp := "model file (.sgn)"
	if needModel {
		modelHelp += ", required"
	}
	return galleryFlags{
		model:   fs.String("model", "", modelHelp),
		gallery: fs.String("gallery", "", "gallery file (.gal), required"),
		threads: fs.Int("threads", 1, "threads per inference"),
		json:    fs.Bool("json", false, "print JSON instead of tables"),
	}
}

func (f galleryFlags) check(needModel bool) error {
	if *f.gallery == "" {
		return usagef("-gallery is required")
	}
	if needModel && *f.model == "" {
		return usagef("-model is required")
	}
	if *f.threads < 1 {
		return usagef("-threads must be at least 1")
	}
	return nil
}

// printJSON writes v as indented JSON. encoding/json escapes C0 controls
// but leaves DEL, C1 and bidi controls raw; textsafe.JSON escapes those too,
// so no label or file name reaches the terminal unescaped.
func printJSON(e *env, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = e.stdout.Write(append(textsafe.JSON(b), '\n'))
	return err
}

// printJSONLine writes v as one line of JSON, escaped as printJSON does.
func printJSONLine(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = w.Write(append(textsafe.JSON(b), '\n'))
	return err
}

// lockGallery takes the gallery's write lock for a command's whole
// read-modify-write, so that two signet processes changing one gallery
// cannot both start from the same version and lose one change. It says so
// on stderr when it has to wait for another writer.
func lockGallery(e *env, path string) (*gallery.FileLock, error) {
	l, err := gallery.TryLockFile(path)
	if errors.Is(err, gallery.ErrLocked) {
		fmt.Fprintf(e.stderr, "waiting for another process writing %s\n", textsafe.Escape(path))
		l, err = gallery.LockFile(path)
	}
	return l, err
}

// testHookLocked runs once a command holds the gallery lock and has read
// the gallery; tests widen the read-modify-write window with it.
var testHookLocked = func() {}

// ---- enroll and report ----

type enrollResult struct {
	Gallery   string `json:"gallery"`
	Created   bool   `json:"created"`
	Committed bool   `json:"committed"`
	Forced    bool   `json:"forced,omitempty"`
	ClassID   uint64 `json:"class_id,omitempty"`
	// Default is where a new gallery's default threshold came from; absent
	// when the gallery already existed (enroll never changes its threshold).
	Default *defaultThreshold `json:"default_threshold,omitempty"`
	Report  *gallery.Report   `json:"report"`
}

// defaultThreshold describes a new gallery's default threshold: from the
// encoder's impostor calibration (Calibrated) or the uncalibrated 0.5.
type defaultThreshold struct {
	Threshold  float32 `json:"threshold"`
	Calibrated bool    `json:"calibrated"`
	// FAR is the tabulated per-class rate used: the largest at or below
	// RequestedFAR.
	FAR          float64 `json:"far,omitempty"`
	RequestedFAR float64 `json:"requested_far,omitempty"`
	Scores       int     `json:"scores,omitempty"`
	Classes      int     `json:"classes,omitempty"`
	Source       string  `json:"source,omitempty"`
}

// newGalleryDefault reads the default threshold a new gallery gets: the
// encoder's impostor calibration at far per class, else DefaultOptions'.
func newGalleryDefault(enc *encoder, far float64) (*defaultThreshold, error) {
	cal, err := enc.enc.Calibration()
	if err != nil {
		return nil, err
	}
	if cal == nil {
		return &defaultThreshold{Threshold: gallery.DefaultOptions().Threshold}, nil
	}
	thr, got, err := cal.ThresholdAt(far)
	if err != nil {
		return nil, fmt.Errorf("-default-far: %w (a larger -default-far, or calibrate the gallery)", err)
	}
	return &defaultThreshold{Threshold: thr, Calibrated: true, FAR: got, RequestedFAR: far,
		Scores: cal.Scores, Classes: cal.Classes, Source: cal.Source}, nil
}

func (d *defaultThreshold) String() string {
	if !d.Calibrated {
		return fmt.Sprintf("default threshold %.4g is uncalibrated: the model carries no impostor calibration (run signet calibrate once the gallery has impostors)", d.Threshold)
	}
	s := fmt.Sprintf("default threshold %.4f from the encoder's impostor calibration at FAR %g per class (%d scores, %d background classes)",
		d.Threshold, d.FAR, d.Scores, d.Classes)
	if d.FAR != d.RequestedFAR {
		s += fmt.Sprintf("; %g is the largest tabulated rate at or below %g", d.FAR, d.RequestedFAR)
	}
	return s
}

func cmdEnroll(e *env, args []string) error { return enrollOrReport(e, "enroll", args) }
func cmdReport(e *env, args []string) error { return enrollOrReport(e, "report", args) }

// enrollOrReport plans an enrolment and prints its risk report; enroll then
// commits and saves it, report stops there and leaves the file alone.
func enrollOrReport(e *env, name string, args []string) error {
	fs := newFlagSet(e, name)
	gf := addGalleryFlags(fs, true)
	label := fs.String("label", "", "class label, required; an existing label gets more exemplars")
	valDir := fs.String("val", "", "folder of validation images of existing classes, one sub-folder per label")
	far := fs.Float64("far", 0.01, "target false-accept rate for the suggested threshold")
	applyThr := fs.Bool("apply-threshold", false, "give the class the suggested threshold")
	noCrops := fs.Bool("no-crops", false, "do not store the images (the gallery then cannot be re-embedded)")
	mode := fs.String("mode", "mean", "prototype mode of a new gallery: mean, multi or knn")
	defFAR := fs.Float64("default-far", 0.001, "false-accept rate per class of a new gallery's default threshold, "+
		"read from the model's impostor calibration when it has one (else the uncalibrated 0.5)")
	htmlOut := fs.String("html", "", "also write the plan's review page, one self-contained HTML file, to this path")
	var force *bool
	if name == "enroll" {
		force = fs.Bool("force", false, "commit even when the negative flip rate is over the gallery's budget")
	}
	paths, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if err := gf.check(true); err != nil {
		return err
	}
	if err := checkHTMLOut(*htmlOut, *gf.gallery); err != nil {
		return err
	}
	if *label == "" {
		return usagef("-label is required")
	}
	if len(paths) == 0 {
		return usagef("no images")
	}
	if !(*defFAR > 0 && *defFAR < 1) {
		return usagef("-default-far must be in (0, 1)")
	}
	opts := gallery.DefaultOptions()
	if opts.Mode, err = parseMode(*mode); err != nil {
		return err
	}
	files, err := imageArgs(paths)
	if err != nil {
		return err
	}
	if err := checkImages(files); err != nil {
		return err
	}
	enc, err := openEncoder(*gf.model, *gf.threads)
	if err != nil {
		return err
	}
	defer enc.Close()
	if name == "enroll" {
		l, err := lockGallery(e, *gf.gallery)
		if err != nil {
			return err
		}
		defer l.Unlock()
	}
	// Only a new gallery takes the calibration's threshold, so a model
	// whose calibration cannot serve -default-far still adds to galleries
	// that exist.
	def, defErr := newGalleryDefault(enc, *defFAR)
	if defErr == nil {
		opts.Threshold = def.Threshold
	}
	g, created, err := openGallery(*gf.gallery, enc, true, opts)
	if err != nil {
		return err
	}
	if created && defErr != nil {
		return defErr
	}
	testHookLocked()
	ex, err := exemplars(e, enc, files, !*noCrops)
	if err != nil {
		return err
	}
	popts := gallery.PlanOptions{TargetFAR: *far, ApplyThreshold: *applyThr}
	if *valDir != "" {
		if popts.Validation, err = labelledFolder(e, enc, *valDir); err != nil {
			return err
		}
	}
	plan, err := g.Plan(*label, ex, popts)
	if err != nil {
		return err
	}
	if *htmlOut != "" { // before Commit: a refused plan is the one to review
		if err := writePlanHTML(e, *htmlOut, plan, files, popts.Validation); err != nil {
			return err
		}
	}
	res := enrollResult{Gallery: *gf.gallery, Created: created, Report: plan.Report}
	if created {
		res.Default = def
	}
	if name == "enroll" {
		commit := g.Commit
		if *force {
			commit, res.Forced = g.ForceCommit, plan.Report.OverBudget
		}
		id, cerr := commit(plan)
		if cerr == nil {
			if cerr = g.Save(*gf.gallery); cerr == nil {
				res.Committed, res.ClassID = true, id
			}
		}
		if cerr != nil {
			// The report explains a refused commit: print it first.
			if *gf.json {
				printJSON(e, res)
			} else {
				fmt.Fprint(e.stdout, plan.Report.String())
			}
			if errors.Is(cerr, gallery.ErrFlipBudget) {
				return fmt.Errorf("%w; %s is unchanged (use -force to enrol anyway)", cerr, *gf.gallery)
			}
			return cerr
		}
	}
	if *gf.json {
		return printJSON(e, res)
	}
	fmt.Fprint(e.stdout, plan.Report.String())
	if res.Default != nil {
		fmt.Fprintf(e.stdout, "\n%s\n", textsafe.Escape(res.Default.String()))
	}
	switch {
	case !res.Committed:
		fmt.Fprintf(e.stdout, "\nnot committed (report only); %s is unchanged\n", textsafe.Escape(*gf.gallery))
	case created:
		fmt.Fprintf(e.stdout, "\ncreated %s; enrolled %q as class %d\n", textsafe.Escape(*gf.gallery), *label, res.ClassID)
	default:
		fmt.Fprintf(e.stdout, "\nenrolled %q as class %d in %s\n", *label, res.ClassID, textsafe.Escape(*gf.gallery))
	}
	return nil
}

func parseMode(s string) (gallery.Mode, error) {
	for _, m := range []gallery.Mode{gallery.MeanPrototype, gallery.MultiPrototype, gallery.KNN} {
		if m.String() == s {
			return m, nil
		}
	}
	return 0, usagef("unknown mode %q (want mean, multi or knn)", s)
}

// exemplars decodes and embeds one image at a time, so that memory holds
// one decoded image, not all of them.
func exemplars(e *env, enc *encoder, files []string, keepCrops bool) ([]gallery.Exemplar, error) {
	prog := newProgress(e.stderr, "embed", len(files))
	defer prog.Done()
	out := make([]gallery.Exemplar, len(files))
	for i, f := range files {
		img, err := loadImage(f)
		if err != nil {
			return nil, err
		}
		if out[i], err = gallery.NewExemplar(enc.enc, img, f, keepCrops); err != nil {
			return nil, err
		}
		prog.Add(1)
	}
	return out, nil
}

// labelledFolder embeds a folder-per-class dataset.
func labelledFolder(e *env, enc *encoder, dir string) ([]gallery.Labelled, error) {
	labels, files, err := classFolders(dir)
	if err != nil {
		return nil, err
	}
	var all []string
	var owner []string
	for _, l := range labels {
		all = append(all, files[l]...)
		for range files[l] {
			owner = append(owner, l)
		}
	}
	vs, err := enc.embedFiles(e, "embed "+dir, all)
	if err != nil {
		return nil, err
	}
	out := make([]gallery.Labelled, len(vs))
	for i, v := range vs {
		out[i] = gallery.Labelled{Label: owner[i], Embedding: v, Source: all[i]}
	}
	return out, nil
}

// ---- classify ----

type classifyCandidate struct {
	Label string  `json:"label"`
	ID    uint64  `json:"id"`
	Score float32 `json:"score"`
}

type classifyRecord struct {
	File      string  `json:"file"`
	Label     string  `json:"label"` // "" when unknown
	ID        uint64  `json:"id"`    // 0 when unknown
	Score     float32 `json:"score"`
	Margin    float32 `json:"margin"`
	Unknown   bool    `json:"unknown"`
	Reason    string  `json:"reason"`
	Threshold float32 `json:"threshold"`
	// MirrorScore is the mirror image's score with the best class when
	// the mirror check ran and the image alone passed.
	MirrorScore float32             `json:"mirror_score,omitempty"`
	Top         []classifyCandidate `json:"top"`
}

func cmdClassify(e *env, args []string) error {
	fs := newFlagSet(e, "classify")
	gf := addGalleryFlags(fs, true)
	topN := fs.Int("top", 3, "number of ranked candidates to show")
	mirrorCheck := fs.Bool("mirror-check", true, "when the model carries a mirror margin (convert -impostors), answer unknown for an image "+
		"whose mirror image matches the best class better, by more than the margin: that class's mirrored twin (one more inference per image)")
	paths, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if err := gf.check(true); err != nil {
		return err
	}
	if len(paths) == 0 {
		return usagef("no images")
	}
	if *topN < 1 {
		return usagef("-top must be at least 1")
	}
	files, err := imageArgs(paths)
	if err != nil {
		return err
	}
	enc, err := openEncoder(*gf.model, *gf.threads)
	if err != nil {
		return err
	}
	defer enc.Close()
	g, _, err := openGallery(*gf.gallery, enc, false, gallery.Options{})
	if err != nil {
		return err
	}
	if g.Len() == 0 {
		return fmt.Errorf("%s: gallery has no classes", *gf.gallery)
	}
	cal, err := enc.enc.Calibration()
	if err != nil {
		return err
	}
	useMirror := *mirrorCheck && cal != nil && cal.Mirror != nil
	asJSON := *gf.json
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	defer tw.Flush()
	if !asJSON {
		fmt.Fprintln(tw, "FILE\tDECISION\tSCORE\tMARGIN\tTOP")
	}
	r := gallery.NewResult(min(*topN, g.Len())) // -top 1000000000 must not allocate for a billion
	prog := newProgress(e.stderr, "classify", len(files))
	defer prog.Done()
	failed := 0
	for _, f := range files {
		img, err := loadImage(f)
		switch {
		case err == nil && useMirror:
			err = g.MatchImageMirrored(enc.enc, img, cal.Mirror.Margin, r)
		case err == nil:
			err = g.MatchImage(enc.enc, img, r)
		}
		if err != nil {
			prog.Done()
			fmt.Fprintf(e.stderr, "signet classify: %s\n", textsafe.Escape(err.Error()))
			failed++
			continue
		}
		rec := classifyRecord{File: f, Label: r.Label, ID: r.ID, Score: r.Score, Margin: r.Margin,
			Unknown: !r.Known, Reason: r.Reason.String(), Threshold: r.Threshold, MirrorScore: r.MirrorScore}
		for _, c := range r.Candidates {
			rec.Top = append(rec.Top, classifyCandidate{Label: c.Label, ID: c.ID, Score: c.Score})
		}
		if asJSON {
			if err := printJSONLine(e.stdout, rec); err != nil {
				return err
			}
		} else {
			decision := textsafe.Cell(rec.Label)
			if rec.Unknown {
				decision = "unknown (" + rec.Reason + ")"
			}
			top := ""
			for i, c := range rec.Top {
				if i > 0 {
					top += ", "
				}
				top += fmt.Sprintf("%s %.3f", textsafe.Cell(c.Label), c.Score)
			}
			fmt.Fprintf(tw, "%s\t%s\t%.4f\t%.4f\t%s\n", textsafe.Cell(f), decision, rec.Score, rec.Margin, top)
		}
		prog.Add(1)
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d images failed", failed, len(files))
	}
	return nil
}

// ---- list, remove, rename ----

// openAny opens a gallery without a model, for commands that only touch
// labels and stored data. When -model is given, the gallery must match it.
func openAny(gf galleryFlags) (*gallery.Gallery, error) {
	if *gf.model == "" {
		return gallery.OpenForReembed(*gf.gallery)
	}
	enc, err := openEncoder(*gf.model, *gf.threads)
	if err != nil {
		return nil, err
	}
	defer enc.Close()
	g, _, err := openGallery(*gf.gallery, enc, false, gallery.Options{})
	return g, err
}

type listClass struct {
	ID                uint64            `json:"id"`
	Label             string            `json:"label"`
	Exemplars         int               `json:"exemplars"`
	Validation        int               `json:"validation"`
	Threshold         float32           `json:"threshold"`
	OwnThreshold      bool              `json:"own_threshold"`
	GenuineAcceptRate float64           `json:"genuine_accept_rate"`
	Meta              map[string]string `json:"meta,omitempty"`
}

type listResult struct {
	Gallery     string      `json:"gallery"`
	Fingerprint string      `json:"fingerprint"`
	Dim         int         `json:"dim"`
	Version     uint64      `json:"version"`
	Mode        string      `json:"mode"`
	K           int         `json:"k"`
	Threshold   float32     `json:"threshold"`
	MinMargin   float32     `json:"min_margin"`
	FlipBudget  float64     `json:"flip_budget"`
	Classes     []listClass `json:"classes"`
}

func cmdList(e *env, args []string) error {
	fs := newFlagSet(e, "list")
	gf := addGalleryFlags(fs, false)
	htmlOut := fs.String("html", "", "also write an overview page, one self-contained HTML file, to this path")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	if err := gf.check(false); err != nil {
		return err
	}
	if err := checkHTMLOut(*htmlOut, *gf.gallery); err != nil {
		return err
	}
	g, err := openAny(gf)
	if err != nil {
		return err
	}
	if *htmlOut != "" {
		if err := writeGalleryHTML(e, *htmlOut, g, "Gallery "+*gf.gallery); err != nil {
			return err
		}
	}
	fp := g.Fingerprint()
	o := g.Options()
	res := listResult{Gallery: *gf.gallery, Fingerprint: hex.EncodeToString(fp[:]), Dim: g.Dim(), Version: g.Version(),
		Mode: o.Mode.String(), K: o.K, Threshold: o.Threshold, MinMargin: o.MinMargin, FlipBudget: o.FlipBudget,
		Classes: []listClass{}}
	for _, c := range g.List() {
		thr := o.Threshold
		if c.HasThreshold {
			thr = c.Threshold
		}
		res.Classes = append(res.Classes, listClass{ID: c.ID, Label: c.Label, Exemplars: c.Exemplars, Validation: c.Validation,
			Threshold: thr, OwnThreshold: c.HasThreshold, GenuineAcceptRate: c.GenuineAcceptRate, Meta: c.Meta})
	}
	if *gf.json {
		return printJSON(e, res)
	}
	fmt.Fprintf(e.stdout, "%s: %d classes, dim %d, mode %s, threshold %.4f, encoder %s\n\n",
		textsafe.Escape(res.Gallery), len(res.Classes), res.Dim, res.Mode, res.Threshold, res.Fingerprint[:16])
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tLABEL\tEXEMPLARS\tHELD OUT\tTHRESHOLD\tGAR")
	for _, c := range res.Classes {
		thr := fmt.Sprintf("%.4f", c.Threshold)
		if !c.OwnThreshold {
			thr += " (default)"
		}
		gar := "-"
		if c.GenuineAcceptRate >= 0 {
			gar = fmt.Sprintf("%.1f%%", 100*c.GenuineAcceptRate)
		}
		// Labels of a gallery written by another program may hold any
		// bytes: never print them raw.
		fmt.Fprintf(tw, "%d\t%s\t%d\t%d\t%s\t%s\n", c.ID, textsafe.Cell(c.Label), c.Exemplars, c.Validation, thr, gar)
	}
	return tw.Flush()
}

// classArg resolves -id or -label to a class.
func classArg(g *gallery.Gallery, id uint64, label string) (gallery.ClassInfo, error) {
	switch {
	case id != 0 && label != "":
		return gallery.ClassInfo{}, usagef("give -id or -label, not both")
	case id != 0:
		return g.Class(id)
	case label != "":
		return g.Lookup(label)
	}
	return gallery.ClassInfo{}, usagef("-id or -label is required")
}

// changeClass applies change to the class named by -id or -label (one is
// required) under the gallery's lock, and saves the gallery. It returns the
// class as it was before the change.
func changeClass(e *env, gf galleryFlags, id uint64, label string, change func(g *gallery.Gallery, id uint64) error) (gallery.ClassInfo, error) {
	if id == 0 && label == "" {
		return gallery.ClassInfo{}, usagef("-id or -label is required")
	}
	l, err := lockGallery(e, *gf.gallery)
	if err != nil {
		return gallery.ClassInfo{}, err
	}
	defer l.Unlock()
	g, err := openAny(gf)
	if err != nil {
		return gallery.ClassInfo{}, err
	}
	testHookLocked()
	c, err := classArg(g, id, label)
	if err != nil {
		return gallery.ClassInfo{}, err
	}
	if err := change(g, c.ID); err != nil {
		return gallery.ClassInfo{}, err
	}
	return c, g.Save(*gf.gallery)
}

func cmdRemove(e *env, args []string) error {
	fs := newFlagSet(e, "remove")
	gf := addGalleryFlags(fs, false)
	id := fs.Uint64("id", 0, "id of the class to remove")
	label := fs.String("label", "", "label of the class to remove")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	if err := gf.check(false); err != nil {
		return err
	}
	c, err := changeClass(e, gf, *id, *label, func(g *gallery.Gallery, id uint64) error { return g.Remove(id) })
	if err != nil {
		return err
	}
	if *gf.json {
		return printJSON(e, map[string]any{"gallery": *gf.gallery, "removed": map[string]any{"id": c.ID, "label": c.Label}})
	}
	fmt.Fprintf(e.stdout, "removed class %d %q from %s\n", c.ID, c.Label, textsafe.Escape(*gf.gallery))
	return nil
}

func cmdRename(e *env, args []string) error {
	fs := newFlagSet(e, "rename")
	gf := addGalleryFlags(fs, false)
	id := fs.Uint64("id", 0, "id of the class to rename")
	label := fs.String("label", "", "current label of the class to rename")
	to := fs.String("to", "", "new label, required")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	if err := gf.check(false); err != nil {
		return err
	}
	if *to == "" {
		return usagef("-to is required")
	}
	c, err := changeClass(e, gf, *id, *label, func(g *gallery.Gallery, id uint64) error { return g.Rename(id, *to) })
	if err != nil {
		return err
	}
	if *gf.json {
		return printJSON(e, map[string]any{"gallery": *gf.gallery, "id": c.ID, "old_label": c.Label, "label": *to})
	}
	fmt.Fprintf(e.stdout, "renamed class %d %q to %q in %s\n", c.ID, c.Label, *to, textsafe.Escape(*gf.gallery))
	return nil
}

// ---- calibrate, reembed, rollback ----

func cmdCalibrate(e *env, args []string) error {
	fs := newFlagSet(e, "calibrate")
	gf := addGalleryFlags(fs, false)
	far := fs.Float64("far", 0.001, "target false-accept rate per class; when the gallery's own impostors do not resolve it, "+
		"the gallery default becomes the model's impostor calibration threshold at this rate if that is tighter (needs -model)")
	bgDir := fs.String("background", "", "folder of images of no class (extra impostors), or a folder of class folders of them "+
		"(every image is an impostor for every class; the folder names are not labels); needs -model")
	dry := fs.Bool("dry-run", false, "compute thresholds without saving them")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	if err := gf.check(false); err != nil {
		return err
	}
	if !(*far > 0 && *far < 1) {
		return usagef("-far must be in (0, 1)")
	}
	if *bgDir != "" && *gf.model == "" {
		return usagef("-background needs -model to embed the images")
	}
	if !*dry {
		l, err := lockGallery(e, *gf.gallery)
		if err != nil {
			return err
		}
		defer l.Unlock()
	}
	var g *gallery.Gallery
	var copts gallery.CalibrateOptions
	var encCal *gallery.EncoderCalibration
	if *gf.model != "" {
		enc, err := openEncoder(*gf.model, *gf.threads)
		if err != nil {
			return err
		}
		defer enc.Close()
		if g, _, err = openGallery(*gf.gallery, enc, false, gallery.Options{}); err != nil {
			return err
		}
		if encCal, err = enc.enc.Calibration(); err != nil {
			return err
		}
		if *bgDir != "" {
			files, err := backgroundFiles(*bgDir)
			if err != nil {
				return err
			}
			if copts.Background, err = enc.embedFiles(e, "embed background", files); err != nil {
				return err
			}
		}
	} else {
		var err error
		if g, err = gallery.OpenForReembed(*gf.gallery); err != nil {
			return err
		}
	}
	testHookLocked()
	copts.DryRun = *dry
	before := g.Options().Threshold
	cal, err := g.Calibrate(*far, copts)
	if err != nil {
		return err
	}
	fb := encoderFallback(cal, encCal, before, *far, *gf.model != "")
	if fb != nil && fb.Applied && !*dry {
		if err := g.SetThreshold(fb.Threshold); err != nil {
			return err
		}
	}
	if !*dry {
		if err := g.Save(*gf.gallery); err != nil {
			return err
		}
	}
	if *gf.json {
		return printJSON(e, map[string]any{"gallery": *gf.gallery, "saved": !*dry, "calibration": cal, "encoder_fallback": fb})
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tLABEL\tTHRESHOLD\tGAR\tFAR\tGENUINE\tIMPOSTORS\tRESOLVED")
	kept := 0
	row := func(c gallery.ClassCalibration, id string) {
		gar := "-"
		if c.GenuineAcceptRate >= 0 {
			gar = fmt.Sprintf("%.1f%%", 100*c.GenuineAcceptRate)
		}
		thr := fmt.Sprintf("%.4f", c.Threshold)
		if c.Kept {
			thr += "*"
			kept++
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%.4f\t%d\t%d\t%v\n", id, textsafe.Cell(c.Label), thr, gar, c.FalseAcceptRate, c.Genuine, c.Impostors, c.Resolved)
	}
	for _, c := range cal.Classes {
		row(c, fmt.Sprint(c.ID))
	}
	g0 := cal.Global
	g0.Label = "(gallery default)"
	row(g0, "-")
	tw.Flush()
	if kept > 0 {
		fmt.Fprintf(e.stdout, "\n* too few impostors to resolve FAR %g and the estimate was looser: the threshold in force was kept\n", *far)
	}
	if fb != nil {
		fmt.Fprintf(e.stdout, "\n%s\n", fb.Note)
	}
	if *dry {
		fmt.Fprintf(e.stdout, "\ndry run at target FAR %g; %s is unchanged\n", *far, textsafe.Escape(*gf.gallery))
	} else {
		fmt.Fprintf(e.stdout, "\ncalibrated at target FAR %g; saved %s\n", *far, textsafe.Escape(*gf.gallery))
	}
	return nil
}

// calibrationFallback reports the gallery-default rule of calibrate: when
// the gallery's own impostors do not resolve the target FAR, the default
// becomes the model's encoder calibration threshold at that FAR if it is
// tighter (higher) than the one the gallery's data gives. Per-class
// thresholds are left as Calibrate set them.
type calibrationFallback struct {
	Applied   bool    `json:"applied"`
	Threshold float32 `json:"threshold,omitempty"` // the encoder calibration's, when it has one at the target
	FAR       float64 `json:"far,omitempty"`       // the tabulated rate it was read at
	Estimate  float32 `json:"estimate"`            // the gallery default from the gallery's own scores
	Scores    int     `json:"scores,omitempty"`    // the encoder calibration's impostor scores
	Note      string  `json:"note"`
}

// encoderFallback applies the rule of calibrationFallback; nil when the
// gallery's impostors resolve the target.
func encoderFallback(cal *gallery.Calibration, enc *gallery.EncoderCalibration, before float32, far float64, haveModel bool) *calibrationFallback {
	if cal.Global.Resolved {
		return nil
	}
	est := before // Calibrate keeps the default when there are no impostors
	if cal.Global.Impostors > 0 {
		est = cal.Global.Threshold
	}
	fb := &calibrationFallback{Estimate: est}
	unresolved := fmt.Sprintf("gallery default: %d impostor scores do not resolve FAR %g", cal.Global.Impostors, far)
	switch {
	case !haveModel:
		fb.Note = unresolved + "; pass -model to fall back on the encoder's impostor calibration"
		return fb
	case enc == nil:
		fb.Note = unresolved + "; the model carries no impostor calibration, so the default stays " + fmt.Sprintf("%.4f", est)
		return fb
	}
	thr, got, err := enc.ThresholdAt(far)
	if err != nil {
		fb.Note = unresolved + "; " + err.Error()
		return fb
	}
	fb.Threshold, fb.FAR, fb.Scores = thr, got, enc.Scores
	if thr > est {
		fb.Applied = true
		fb.Note = fmt.Sprintf("%s; the encoder's impostor calibration gives %.4f at FAR %g per class (%d scores), tighter than the gallery's %.4f: it is the default",
			unresolved, thr, got, enc.Scores, est)
	} else {
		fb.Note = fmt.Sprintf("%s; the encoder's impostor calibration gives %.4f at FAR %g per class, no tighter than the gallery's %.4f, which stays",
			unresolved, thr, got, est)
	}
	return fb
}

func cmdReembed(e *env, args []string) error {
	fs := newFlagSet(e, "reembed")
	gf := addGalleryFlags(fs, true)
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	if err := gf.check(true); err != nil {
		return err
	}
	enc, err := openEncoder(*gf.model, *gf.threads)
	if err != nil {
		return err
	}
	defer enc.Close()
	l, err := lockGallery(e, *gf.gallery)
	if err != nil {
		return err
	}
	defer l.Unlock()
	g, err := gallery.OpenForReembed(*gf.gallery)
	if err != nil {
		return err
	}
	testHookLocked()
	rep, err := g.Reembed(enc.enc)
	if err != nil {
		return err
	}
	if err := g.Save(*gf.gallery); err != nil {
		return err
	}
	if *gf.json {
		return printJSON(e, map[string]any{"gallery": *gf.gallery, "report": rep})
	}
	fmt.Fprintf(e.stdout, "re-embedded %d exemplars: encoder %s (dim %d) -> %s (dim %d); %d of %d classes moved\n\n",
		rep.Exemplars, rep.OldFingerprint[:16], rep.OldDim, rep.NewFingerprint[:16], rep.NewDim, rep.Moved, len(rep.Classes))
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tLABEL\tSELF-ACC BEFORE\tSELF-ACC AFTER\tNEIGHBOUR OVERLAP\tMOVED")
	for _, c := range rep.Classes {
		fmt.Fprintf(tw, "%d\t%s\t%.1f%%\t%.1f%%\t%.2f\t%v\n", c.ID, textsafe.Cell(c.Label), 100*c.SelfAccuracyBefore, 100*c.SelfAccuracyAfter, c.NeighbourOverlap, c.Moved)
	}
	tw.Flush()
	fmt.Fprintf(e.stdout, "\nsaved %s; per-class thresholds were cleared: run 'signet calibrate' next\n", textsafe.Escape(*gf.gallery))
	return nil
}

func cmdRollback(e *env, args []string) error {
	fs := newFlagSet(e, "rollback")
	gpath := fs.String("gallery", "", "gallery file (.gal), required")
	n := fs.Int("n", 1, "version to restore: 1 is the one before the last save")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	if *gpath == "" {
		return usagef("-gallery is required")
	}
	if *n < 1 {
		return usagef("-n must be at least 1")
	}
	l, err := lockGallery(e, *gpath)
	if err != nil {
		return err
	}
	defer l.Unlock()
	testHookLocked()
	if err := gallery.Rollback(*gpath, *n); err != nil {
		return err
	}
	target, err := gallery.Target(*gpath) // versions of a symlinked gallery sit beside its target
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "restored version %d of %s; the version it replaced is now %s\n", *n, textsafe.Escape(*gpath), textsafe.Escape(gallery.BackupPath(target, 1)))
	return nil
}
