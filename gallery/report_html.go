package gallery

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"html/template"
	"image"
	"io"
	"maps"
	"math"
	"slices"
	"sort"

	"github.com/signet-go/signet/internal/svgplot"
	"github.com/signet-go/signet/internal/textsafe"
	"github.com/signet-go/signet/internal/thumb"
)

// planDetail is what Plan measured beyond the Report, kept for WriteHTML.
// It holds the snapshot the plan was made against (immutable, so sharing
// it costs a pointer) rather than copies of it.
type planDetail struct {
	snap    *snapshot
	target  int // newcomer's class index: existing when extending, len(classes) when new
	newRows []float32
	newThr  float32
	// genuine: leave-one-out scores of the new training exemplars (the
	// first loo of them, in order), then the new validation exemplars',
	// then, when extending, the class's old held-out exemplars'.
	genuine, impostors []float32
	loo                int
	samples            []planSample // validation samples of existing classes, in Plan's order
	flips              []int        // index into samples for each Report.Flips entry
}

// planSample is one validation sample as Plan scored it.
type planSample struct {
	class         int
	own, newcomer float32 // against its own class before, and against the newcomer
	crop          []byte
	external      bool // from PlanOptions.Validation: no stored image
}

// HTMLOptions tune Plan.WriteHTML and Gallery.WriteHTML.
type HTMLOptions struct {
	// Title heads the page; empty means one naming the class or gallery.
	Title string
	// SampleImage supplies, by Source, the image of a sample the caller
	// gave without a stored crop: a new exemplar without Crop, or a
	// validation sample from PlanOptions.Validation. It is never called
	// with a name read from the gallery. Nil leaves those samples without
	// a thumbnail.
	SampleImage func(source string) (image.Image, error)
	// ThumbSize is the longest side of a thumbnail in pixels; 0 means 64.
	ThumbSize int
}

// Page bounds: a hostile or huge gallery must not make a page of gigabytes.
// Tables list every row; thumbnails stop after these counts.
const (
	htmlMaxThumbRows     = 200 // newcomer exemplars and flips with a thumbnail
	htmlNearestThumbs    = 8   // exemplars shown per nearest class
	htmlMovedClasses     = 6   // classes with their own histogram
	htmlOverviewThumbs   = 3   // exemplars per class on the gallery page
	htmlOverviewMaxThumb = 2000
	htmlMaxThumbSize     = 256
)

// contentPolicy is the page's Content-Security-Policy: nothing may load
// from anywhere (no scripts at all), images only from data: URIs in the
// page, styles only inline. It enforces what the page promises.
const contentPolicy = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"

type htmlThumb struct {
	URI template.URL // a data: URI made here from an image encoded here
	Alt string
	Err string // why there is no image
}

type htmlFingerprints struct {
	Encoder, Gallery, Enrolment string
	Version                     uint64
	Classes, Dim                int
	Mode                        string
}

type htmlExemplar struct {
	Thumb    htmlThumb
	Source   string
	Role     string
	Score    string
	Decision string
	OK       bool
}

type htmlNearest struct {
	ID        uint64
	Label     string
	Cosine    string
	Threshold string
	Thumbs    []htmlThumb
	More      int
}

type htmlFlip struct {
	Negative                          bool
	Thumb                             htmlThumb
	Source, Label, Before, After      string
	BeforeScore, AfterScore, Newcomer string
}

type htmlMoved struct {
	Label string
	Plot  template.HTML // SVG from svgplot, which escapes its text
	Text  string
}

type htmlReport struct {
	Title, CSP       string
	Label, What      string
	Fingerprints     htmlFingerprints
	VerdictClass     string
	Verdict          string
	Findings         []string
	Accuracy         [][3]string
	Exemplars        []htmlExemplar
	ExemplarText     string
	ThresholdPlot    template.HTML
	ThresholdText    []string
	Nearest          []htmlNearest
	Flips            []htmlFlip
	FlipsNoThumb     int
	Moved            []htmlMoved
	MovedText        string
	Notes            []string
	ThumbRowsOmitted int
}

// WriteHTML writes the plan's review page: one self-contained HTML file
// (images inline, plots as inline SVG, no script, a Content-Security-Policy
// that forbids loading anything) with the newcomer's exemplars and their
// leave-one-out scores, the nearest classes, every flipped validation
// sample, score histograms with the thresholds, the flip-rate verdict in
// words, and the fingerprints of the encoder, the gallery and the
// enrolment, so the page names exactly what a reviewer approved. Labels
// and file names are escaped; stored images are decoded under a pixel
// limit and shrunk to thumbnails. A stored image that cannot be shown is
// named with the reason instead of failing the page.
func (p *Plan) WriteHTML(w io.Writer, opts HTMLOptions) error {
	if p == nil || p.Report == nil || p.detail == nil {
		return fmt.Errorf("%w: plan not made by Gallery.Plan", ErrInvalidOptions)
	}
	tb, err := newThumbnailer(opts)
	if err != nil {
		return err
	}
	d, r, s := p.detail, p.Report, p.detail.snap
	show := textsafe.Escape
	page := htmlReport{CSP: contentPolicy, Label: show(r.Label), Title: opts.Title}
	if page.Title == "" {
		page.Title = "Enrolment review: " + r.Label
	}
	page.Title = show(page.Title)
	page.What = "a new class from " + plural(r.NewExemplars, "exemplar", "exemplars")
	if r.ClassID != 0 {
		page.What = fmt.Sprintf("%s more for class %d", plural(r.NewExemplars, "exemplar", "exemplars"), r.ClassID)
	}
	page.Fingerprints = snapshotFingerprints(s)
	page.Fingerprints.Enrolment = p.digest()
	page.VerdictClass, page.Verdict, page.Findings, page.Accuracy = verdict(r)

	// The newcomer's exemplars with their leave-one-out scores.
	training, validation, loOK, loN := 0, 0, 0, 0
	res := &Result{}
	for j, e := range p.exemplars {
		row := htmlExemplar{Source: show(e.Source), Role: "training, scored with itself left out", Score: "not measurable", Decision: "-"}
		var score float32
		measured := false
		if e.Validation {
			row.Role = "held out, scored against the full newcomer"
			score, measured = d.genuine[d.loo+validation], true
			validation++
		} else {
			if training < d.loo {
				score, measured = d.genuine[training], true
			}
			training++
		}
		if measured {
			ai, _ := decide(s, s.classScores(e.Embedding, res), d.target, score, d.newThr)
			row.Score = fmt.Sprintf("%.4f", clampCos(score))
			row.Decision = orUnknown(labelOf(s, ai, r.Label))
			row.OK = ai == d.target
			loN++
			if row.OK {
				loOK++
			}
			row.Decision = show(row.Decision)
		}
		if j < htmlMaxThumbRows {
			row.Thumb = tb.caller(e.Crop, e.Source)
		} else {
			page.ThumbRowsOmitted++
		}
		page.Exemplars = append(page.Exemplars, row)
	}
	switch {
	case loN == 0:
		page.ExemplarText = "A single exemplar: leave-one-out recognition cannot be measured. Enrol more photos to know whether the class generalises."
	default:
		page.ExemplarText = fmt.Sprintf("%d of %d exemplars are recognised as “%s” when the newcomer is built without them (%.1f%%). An exemplar that is not is one the others do not explain: check it is the right sign.",
			loOK, loN, show(r.Label), 100*float64(loOK)/float64(loN))
	}

	// The newcomer's score histogram and thresholds.
	marks := []svgplot.Mark{{Name: "suggested threshold", X: float64(r.SuggestedThreshold)}}
	if r.AppliedThreshold != r.SuggestedThreshold {
		marks = append(marks, svgplot.Mark{Name: "applied threshold", X: float64(r.AppliedThreshold)})
	} else {
		marks[0].Name = "suggested = applied threshold"
	}
	page.ThresholdPlot = template.HTML(svgplot.Histogram{
		Title:  "Scores against " + show(r.Label),
		XLabel: "cosine score",
		Series: []svgplot.Series{
			{Name: "genuine: its own exemplars", Values: d.genuine},
			{Name: "impostors: other classes' exemplars and any background", Values: d.impostors},
		},
		Marks: marks,
	}.SVG())
	page.ThresholdText = thresholdText(r, d)

	// Nearest existing classes.
	for _, n := range r.Nearest {
		ci, ok := s.byID[n.ID]
		if !ok {
			continue
		}
		c := s.classes[ci]
		row := htmlNearest{ID: n.ID, Label: show(n.Label), Cosine: fmt.Sprintf("%.4f", n.Cosine), Threshold: fmt.Sprintf("%.4f", s.thr[ci])}
		for _, e := range c.exemplars {
			if len(row.Thumbs) == htmlNearestThumbs {
				row.More++
				continue
			}
			row.Thumbs = append(row.Thumbs, tb.stored(e.Crop, e.Source))
		}
		page.Nearest = append(page.Nearest, row)
	}

	// Every flipped sample.
	for i, f := range r.Flips {
		row := htmlFlip{Negative: i < r.NegativeFlips, Source: show(orDash(f.Source)), Label: show(f.Label),
			Before: show(orUnknown(f.Before)), After: show(orUnknown(f.After)),
			BeforeScore: fmt.Sprintf("%.4f", f.BeforeScore), AfterScore: fmt.Sprintf("%.4f", f.AfterScore),
			Newcomer: fmt.Sprintf("%.4f", clampCos(f.NewcomerScore))}
		if i < htmlMaxThumbRows && i < len(d.flips) {
			sm := d.samples[d.flips[i]]
			if sm.external {
				row.Thumb = tb.caller(nil, f.Source)
			} else {
				row.Thumb = tb.stored(sm.crop, f.Source)
			}
		} else {
			page.FlipsNoThumb++
		}
		page.Flips = append(page.Flips, row)
	}

	page.Moved, page.MovedText = movedClasses(p, d, r)
	for _, n := range r.Notes {
		page.Notes = append(page.Notes, show(n))
	}
	return render(w, reportTemplate, page)
}

// verdict words the flip-rate decision and accuracy change for a reviewer.
func verdict(r *Report) (class, headline string, findings []string, acc [][3]string) {
	name := textsafe.Escape(r.Label)
	if r.ValidationSamples == 0 {
		class = "unmeasured"
		headline = "Not checked: there were no validation samples, so what this enrolment does to existing classes is unknown."
		findings = append(findings, "Hold out exemplars (Options.ValidationShare) or pass validation images (signet -val) and plan again before approving.")
	} else {
		changed := r.NegativeFlips + r.PositiveFlips
		rate := fmt.Sprintf("%.2f%%", 100*r.NegativeFlipRate)
		budget := fmt.Sprintf("%.2f%%", 100*r.FlipBudget)
		if r.OverBudget {
			class = "over"
			headline = fmt.Sprintf("Over budget: enrolling “%s” turns %s for existing classes into wrong ones (%s of %d validation samples), more than the gallery allows (%s). Commit refuses this plan; only a forced commit applies it.",
				name, plural(r.NegativeFlips, "correct answer", "correct answers"), rate, r.ValidationSamples, budget)
		} else {
			class = "ok"
			headline = fmt.Sprintf("Within budget: enrolling “%s” turns %s for existing classes into wrong ones (%s of %d validation samples); the gallery allows %s. Commit accepts this plan.",
				name, plural(r.NegativeFlips, "correct answer", "correct answers"), rate, r.ValidationSamples, budget)
		}
		findings = append(findings, fmt.Sprintf("Accuracy on the %d validation samples of existing classes goes from %.2f%% to %.2f%% (%+.2f points); Unknown counts as wrong.",
			r.ValidationSamples, 100*r.AccuracyBefore, 100*r.AccuracyAfter, 100*(r.AccuracyAfter-r.AccuracyBefore)))
		switch {
		case changed == 0:
			findings = append(findings, "No validation sample changes its answer.")
		case r.PositiveFlips > 0:
			findings = append(findings, plural(r.PositiveFlips, "sample", "samples")+" answered wrongly before are answered correctly after.")
		}
		acc = append(acc, [3]string{"existing classes, validation samples", fmt.Sprintf("%.2f%%", 100*r.AccuracyBefore), fmt.Sprintf("%.2f%%", 100*r.AccuracyAfter)},
			[3]string{"negative flips (right → wrong)", "", fmt.Sprintf("%d (%.2f%%, budget %.2f%%)", r.NegativeFlips, 100*r.NegativeFlipRate, 100*r.FlipBudget)},
			[3]string{"positive flips (wrong → right)", "", fmt.Sprint(r.PositiveFlips)})
	}
	if r.LeaveOneOutSamples > 0 {
		acc = append(acc, [3]string{"newcomer, leave-one-out", "", fmt.Sprintf("%.2f%% of %d", 100*r.LeaveOneOutAccuracy, r.LeaveOneOutSamples)})
	}
	return class, headline, findings, acc
}

func thresholdText(r *Report, d *planDetail) []string {
	var out []string
	above := atOrAbove(d.impostors, r.SuggestedThreshold)
	gar := "no genuine scores to measure it on"
	if r.SuggestedGAR >= 0 {
		gar = fmt.Sprintf("accepts %.1f%% of the newcomer's %d genuine scores", 100*r.SuggestedGAR, len(d.genuine))
	}
	out = append(out, fmt.Sprintf("The suggested threshold %.4f %s and lets %d of %d impostor scores through (target false-accept rate %g).",
		r.SuggestedThreshold, gar, above, len(d.impostors), r.TargetFAR))
	if !r.ThresholdResolved && len(d.impostors) > 0 {
		out = append(out, fmt.Sprintf("%d impostor scores cannot demonstrate a rate of %g (that takes %.0f): the threshold only lies above every impostor seen.",
			len(d.impostors), r.TargetFAR, math.Ceil(1/r.TargetFAR)))
	}
	if r.AppliedThreshold == r.SuggestedThreshold {
		out = append(out, fmt.Sprintf("After commit the class is held to the suggested threshold, %.4f.", r.AppliedThreshold))
		return out
	}
	genuine, impostors := atOrAbove(d.genuine, r.AppliedThreshold), atOrAbove(d.impostors, r.AppliedThreshold)
	out = append(out, fmt.Sprintf("After commit the class is held to %.4f, the threshold in force, not the suggested one (signet -apply-threshold, PlanOptions.ApplyThreshold, applies it): %d of %d genuine scores and %d of %d impostor scores reach it.",
		r.AppliedThreshold, genuine, len(d.genuine), impostors, len(d.impostors)))
	return out
}

func atOrAbove(vs []float32, t float32) int {
	n := 0
	for _, v := range vs {
		if v >= t {
			n++
		}
	}
	return n
}

// movedClasses draws, for the existing classes with flipped samples (most
// flips first), their genuine and impostor scores with their threshold and
// where the newcomer's exemplars fall against them.
func movedClasses(p *Plan, d *planDetail, r *Report) ([]htmlMoved, string) {
	s := d.snap
	count := map[int]int{}
	for i := range r.Flips {
		if i < len(d.flips) {
			count[d.samples[d.flips[i]].class]++
		}
	}
	if len(count) == 0 {
		return nil, "No validation sample changed its answer, so no existing class moved."
	}
	classes := make([]int, 0, len(count))
	for ci := range count {
		classes = append(classes, ci)
	}
	sort.Slice(classes, func(i, j int) bool {
		a, b := classes[i], classes[j]
		if count[a] != count[b] {
			return count[a] > count[b]
		}
		return a < b
	})
	text := plural(len(classes), "existing class has", "existing classes have") + " samples whose answer changed."
	if len(classes) > htmlMovedClasses {
		text += fmt.Sprintf(" The %d with the most are drawn.", htmlMovedClasses)
		classes = classes[:htmlMovedClasses]
	}
	var out []htmlMoved
	for _, ci := range classes {
		c := s.classes[ci]
		var genuine, vsNew, impostors, newcomer []float32
		for _, sm := range d.samples {
			if sm.class == ci {
				genuine = append(genuine, sm.own)
				vsNew = append(vsNew, sm.newcomer)
			}
		}
		for cj, o := range s.classes {
			if cj == ci {
				continue
			}
			for _, e := range o.exemplars {
				impostors = append(impostors, maxRow(s.dot, e.Embedding, c.rows, s.dim))
			}
		}
		for _, e := range p.exemplars {
			newcomer = append(newcomer, maxRow(s.dot, e.Embedding, c.rows, s.dim))
		}
		label := textsafe.Escape(c.label)
		plot := svgplot.Histogram{
			Title:  "Scores against " + label,
			XLabel: "cosine score",
			Series: []svgplot.Series{
				{Name: "genuine: its validation samples", Values: genuine},
				{Name: "impostors: other classes' exemplars", Values: impostors},
				{Name: "the newcomer's exemplars", Values: newcomer},
			},
			Marks: []svgplot.Mark{{Name: "its threshold", X: float64(s.thr[ci])}},
		}
		hi := float32(math.Inf(-1))
		for _, v := range vsNew {
			hi = max(hi, v)
		}
		out = append(out, htmlMoved{Label: label, Plot: template.HTML(plot.SVG()),
			Text: fmt.Sprintf("%d of its %d validation samples changed answer; against the newcomer they score up to %.4f (the newcomer is held to %.4f).",
				count[ci], len(genuine), clampCos(hi), d.newThr)})
	}
	return out, text
}

// snapshotFingerprints names a gallery state: the encoder's fingerprint
// and the SHA-256 of the gallery's encoding, which is the .gal file Save
// writes for that state.
func snapshotFingerprints(s *snapshot) htmlFingerprints {
	sum := sha256.Sum256(encodeSnapshot(s))
	return htmlFingerprints{Encoder: hex.EncodeToString(s.fingerprint[:]), Gallery: hex.EncodeToString(sum[:]),
		Version: s.version, Classes: len(s.classes), Dim: s.dim, Mode: s.opts.Mode.String()}
}

// digest is the SHA-256 of what Commit would apply: the label, the class
// it extends, the threshold it sets and the prepared exemplars, each
// length-prefixed so no two plans share an encoding.
func (p *Plan) digest() string {
	h := sha256.New()
	le := binary.LittleEndian
	var b []byte
	str := func(x string) {
		b = le.AppendUint64(b, uint64(len(x)))
		b = append(b, x...)
	}
	str("signet enrolment plan v1")
	str(p.label)
	b = le.AppendUint64(b, p.classID)
	if p.setThr {
		b = append(b, 1)
		b = le.AppendUint32(b, math.Float32bits(p.threshold))
	} else {
		b = append(b, 0)
	}
	b = le.AppendUint64(b, uint64(len(p.meta)))
	for _, k := range slices.Sorted(maps.Keys(p.meta)) {
		str(k)
		str(p.meta[k])
	}
	b = le.AppendUint64(b, uint64(len(p.exemplars)))
	h.Write(b)
	for _, e := range p.exemplars {
		b = b[:0]
		if e.Validation {
			b = append(b, 1)
		} else {
			b = append(b, 0)
		}
		str(e.Source)
		b = le.AppendUint64(b, uint64(len(e.Embedding)))
		for _, x := range e.Embedding {
			b = le.AppendUint32(b, math.Float32bits(x))
		}
		str(string(e.Crop))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// thumbnailer turns images into data-URI thumbnails, once per stored crop.
type thumbnailer struct {
	size   int
	sample func(string) (image.Image, error)
	cache  map[*byte]htmlThumb
}

func newThumbnailer(opts HTMLOptions) (*thumbnailer, error) {
	size := opts.ThumbSize
	if size == 0 {
		size = 64
	}
	if size < 8 || size > htmlMaxThumbSize {
		return nil, fmt.Errorf("%w: thumbnail size %d outside 8..%d", ErrInvalidOptions, size, htmlMaxThumbSize)
	}
	return &thumbnailer{size: size, sample: opts.SampleImage, cache: map[*byte]htmlThumb{}}, nil
}

// stored makes a thumbnail from a crop read from the gallery.
func (t *thumbnailer) stored(crop []byte, source string) htmlThumb {
	alt := textsafe.Escape(source)
	if len(crop) == 0 {
		return htmlThumb{Alt: alt, Err: "no stored image"}
	}
	if th, ok := t.cache[&crop[0]]; ok {
		return th
	}
	th := htmlThumb{Alt: alt}
	if uri, err := thumb.FromBytes(crop, t.size); err != nil {
		th.Err = notShown(err)
	} else {
		th.URI = template.URL(uri)
	}
	t.cache[&crop[0]] = th
	return th
}

// caller makes a thumbnail for a sample the caller supplied: its crop when
// it has one, else the image SampleImage returns for its source.
func (t *thumbnailer) caller(crop []byte, source string) htmlThumb {
	if len(crop) > 0 || t.sample == nil {
		return t.stored(crop, source)
	}
	th := htmlThumb{Alt: textsafe.Escape(source)}
	img, err := t.sample(source)
	if err == nil && img == nil {
		err = ErrNilImage
	}
	var uri string
	if err == nil {
		uri, err = thumb.FromImage(img, t.size)
	}
	if err != nil {
		th.Err = notShown(err)
		return th
	}
	th.URI = template.URL(uri)
	return th
}

// notShown says why an image is missing, briefly: the reason is on the
// page once per image.
func notShown(err error) string {
	msg := textsafe.Escape(err.Error())
	if r := []rune(msg); len(r) > 90 {
		msg = string(r[:90]) + "…"
	}
	return "image not shown: " + msg
}

// plural is "1 sample", "2 samples".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// ---- the gallery overview ----

type htmlClass struct {
	ID                     uint64
	Label                  string
	Exemplars, Validation  int
	Threshold, GAR         string
	Nearest, NearestCosine string
	Thumbs                 []htmlThumb
}

type htmlOverview struct {
	Title, CSP   string
	Fingerprints htmlFingerprints
	Settings     [][2]string
	Classes      []htmlClass
	Omitted      int
}

// WriteHTML writes an overview of the gallery as one self-contained HTML
// page: its fingerprints and settings, and one row per class with a few
// exemplar thumbnails, the threshold in force, the genuine-accept rate of
// the last calibration and the nearest other class by mean prototype.
func (g *Gallery) WriteHTML(w io.Writer, opts HTMLOptions) error {
	tb, err := newThumbnailer(opts)
	if err != nil {
		return err
	}
	s := g.load()
	page := htmlOverview{CSP: contentPolicy, Title: opts.Title, Fingerprints: snapshotFingerprints(s)}
	if page.Title == "" {
		page.Title = "Gallery overview"
	}
	page.Title = textsafe.Escape(page.Title)
	o := s.opts
	page.Settings = [][2]string{
		{"prototype mode", fmt.Sprintf("%s (K %d)", o.Mode, o.K)},
		{"default threshold", fmt.Sprintf("%.4f", o.Threshold)},
		{"minimum margin", fmt.Sprintf("%.4f", o.MinMargin)},
		{"validation share", fmt.Sprintf("%.2f", o.ValidationShare)},
		{"flip budget", fmt.Sprintf("%.2f%%", 100*o.FlipBudget)},
	}
	near, cos := nearestClasses(s)
	shown := 0
	for i, c := range s.classes {
		info := c.info()
		row := htmlClass{ID: c.id, Label: textsafe.Escape(c.label), Exemplars: info.Exemplars, Validation: info.Validation,
			Threshold: fmt.Sprintf("%.4f", s.thr[i]), GAR: "not calibrated", Nearest: "-"}
		if !c.hasThr {
			row.Threshold += " (default)"
		}
		if c.gar >= 0 {
			row.GAR = fmt.Sprintf("%.1f%% of %d", 100*c.gar, c.garN)
		}
		if near[i] >= 0 {
			row.Nearest, row.NearestCosine = textsafe.Escape(s.classes[near[i]].label), fmt.Sprintf("%.4f", cos[i])
		}
		for _, e := range c.exemplars {
			if len(row.Thumbs) == htmlOverviewThumbs {
				break
			}
			if shown == htmlOverviewMaxThumb {
				page.Omitted++
				break
			}
			row.Thumbs = append(row.Thumbs, tb.stored(e.Crop, e.Source))
			shown++
		}
		page.Classes = append(page.Classes, row)
	}
	return render(w, overviewTemplate, page)
}

// nearestClasses returns, per class, the index of the other class with the
// closest mean prototype (-1 when alone) and that cosine.
func nearestClasses(s *snapshot) ([]int, []float32) {
	n, dim := len(s.classes), s.dim
	means := make([]float32, 0, n*dim)
	for _, c := range s.classes {
		if s.opts.Mode == MeanPrototype {
			means = append(means, c.rows...)
		} else {
			means = append(means, meanRow(c.training(), dim)...)
		}
	}
	near, cos := make([]int, n), make([]float32, n)
	out := make([]float32, n)
	for i := range n {
		s.dot.Rows(means[i*dim:(i+1)*dim], means, dim, n, out)
		near[i], cos[i] = -1, float32(math.Inf(-1))
		for j, v := range out {
			if j != i && v > cos[i] {
				near[i], cos[i] = j, clampCos(v)
			}
		}
	}
	return near, cos
}

func render(w io.Writer, t *template.Template, data any) error {
	var b bytes.Buffer
	if err := t.Execute(&b, data); err != nil {
		return fmt.Errorf("gallery: render HTML: %w", err)
	}
	_, err := w.Write(b.Bytes())
	return err
}

const pageHead = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{{.CSP}}">
<meta name="referrer" content="no-referrer">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;margin:24px auto;max-width:1100px;padding:0 16px;color:#1b1b1b;line-height:1.4}
h1{font-size:1.5em;margin:0 0 4px}h2{font-size:1.15em;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}
table{border-collapse:collapse;margin:6px 0}th,td{border:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:middle;font-size:.92em}
th{background:#f3f3f3}td.num{text-align:right;font-variant-numeric:tabular-nums}
code{font-size:.85em;word-break:break-all}
.verdict{padding:12px 16px;border-radius:6px;margin:12px 0;font-weight:600}
.ok{background:#e6f4ea;border:1px solid #34a853}.over{background:#fce8e6;border:1px solid #d93025}.unmeasured{background:#fef7e0;border:1px solid #f9ab00}
.thumbs{display:flex;flex-wrap:wrap;gap:4px}.thumb img{display:block;image-rendering:pixelated;border:1px solid #ccc}
.noimg{display:inline-block;font-size:.75em;color:#777;max-width:120px}
.neg{color:#b3261e;font-weight:600}.pos{color:#1e7d32;font-weight:600}
.muted{color:#666;font-size:.9em}
</style>
</head>
<body>
`

const thumbTemplate = `{{define "thumb"}}{{if .URI}}<span class="thumb"><img src="{{.URI}}" alt="{{.Alt}}" title="{{.Alt}}"></span>{{else}}<span class="noimg" title="{{.Alt}}">{{.Err}}</span>{{end}}{{end}}`

const fingerprintTemplate = `{{define "fingerprints"}}<table>
<tr><th>encoder fingerprint</th><td><code>{{.Encoder}}</code></td></tr>
<tr><th>gallery SHA-256</th><td><code>{{.Gallery}}</code> <span class="muted">(of its .gal encoding; version {{.Version}}, {{.Classes}} classes, {{.Dim}}-d, {{.Mode}} mode)</span></td></tr>
{{if .Enrolment}}<tr><th>enrolment SHA-256</th><td><code>{{.Enrolment}}</code> <span class="muted">(label, exemplars and threshold that Commit applies)</span></td></tr>{{end}}
</table>{{end}}`

var reportTemplate = template.Must(template.New("report").Parse(thumbTemplate + fingerprintTemplate + pageHead + `<h1>{{.Title}}</h1>
<p class="muted">Plan: enrol <strong>{{.Label}}</strong> as {{.What}}. This page is self-contained: it loads nothing and runs no script.</p>

<section id="verdict">
<h2>Verdict</h2>
<div class="verdict {{.VerdictClass}}">{{.Verdict}}</div>
{{range .Findings}}<p>{{.}}</p>{{end}}
{{if .Accuracy}}<table><tr><th>measure</th><th>before</th><th>after</th></tr>
{{range .Accuracy}}<tr><td>{{index . 0}}</td><td class="num">{{index . 1}}</td><td class="num">{{index . 2}}</td></tr>
{{end}}</table>{{end}}
</section>

<section id="fingerprints">
<h2>What this page approves</h2>
{{template "fingerprints" .Fingerprints}}
</section>

<section id="newcomer">
<h2>The newcomer's exemplars</h2>
<p>{{.ExemplarText}}</p>
<table><tr><th>image</th><th>source</th><th>role</th><th>leave-one-out score</th><th>decided as</th></tr>
{{range .Exemplars}}<tr><td>{{template "thumb" .Thumb}}</td><td>{{.Source}}</td><td>{{.Role}}</td><td class="num">{{.Score}}</td><td{{if .OK}} class="pos"{{else if ne .Decision "-"}} class="neg"{{end}}>{{.Decision}}</td></tr>
{{end}}</table>
{{if .ThumbRowsOmitted}}<p class="muted">{{.ThumbRowsOmitted}} rows are listed without a thumbnail to keep the page small.</p>{{end}}
</section>

<section id="threshold">
<h2>Threshold</h2>
{{.ThresholdPlot}}
{{range .ThresholdText}}<p>{{.}}</p>{{end}}
</section>

<section id="nearest">
<h2>Nearest existing classes</h2>
{{if .Nearest}}<table><tr><th>id</th><th>label</th><th>prototype cosine</th><th>threshold</th><th>exemplars</th></tr>
{{range .Nearest}}<tr><td class="num">{{.ID}}</td><td>{{.Label}}</td><td class="num">{{.Cosine}}</td><td class="num">{{.Threshold}}</td><td><div class="thumbs">{{range .Thumbs}}{{template "thumb" .}}{{end}}{{if .More}}<span class="muted">+{{.More}} more</span>{{end}}</div></td></tr>
{{end}}</table>{{else}}<p>The gallery has no other class.</p>{{end}}
</section>

<section id="flips">
<h2>Flipped validation samples</h2>
{{if .Flips}}<table><tr><th>change</th><th>image</th><th>source</th><th>true label</th><th>before</th><th>after</th><th>score before</th><th>score after</th><th>score against the newcomer</th></tr>
{{range .Flips}}<tr><td>{{if .Negative}}<span class="neg">right → wrong</span>{{else}}<span class="pos">wrong → right</span>{{end}}</td><td>{{template "thumb" .Thumb}}</td><td>{{.Source}}</td><td>{{.Label}}</td><td>{{.Before}}</td><td>{{.After}}</td><td class="num">{{.BeforeScore}}</td><td class="num">{{.AfterScore}}</td><td class="num">{{.Newcomer}}</td></tr>
{{end}}</table>
{{if .FlipsNoThumb}}<p class="muted">{{.FlipsNoThumb}} rows are listed without a thumbnail to keep the page small.</p>{{end}}
{{else}}<p>No validation sample changes its answer.</p>{{end}}
</section>

<section id="moved">
<h2>Classes it moved</h2>
<p>{{.MovedText}}</p>
{{range .Moved}}<div class="moved"><h3>{{.Label}}</h3>{{.Plot}}<p>{{.Text}}</p></div>
{{end}}
</section>

<section id="notes">
<h2>Notes</h2>
{{if .Notes}}<ul>{{range .Notes}}<li>{{.}}</li>{{end}}</ul>{{else}}<p>None.</p>{{end}}
</section>
</body>
</html>
`))

var overviewTemplate = template.Must(template.New("overview").Parse(thumbTemplate + fingerprintTemplate + pageHead + `<h1>{{.Title}}</h1>
<p class="muted">This page is self-contained: it loads nothing and runs no script.</p>

<section id="fingerprints">
<h2>Fingerprints</h2>
{{template "fingerprints" .Fingerprints}}
<table>{{range .Settings}}<tr><th>{{index . 0}}</th><td>{{index . 1}}</td></tr>{{end}}</table>
</section>

<section id="classes">
<h2>Classes</h2>
<table><tr><th>id</th><th>label</th><th>images</th><th>exemplars (held out)</th><th>threshold</th><th>genuine-accept rate</th><th>nearest class</th><th>prototype cosine</th></tr>
{{range .Classes}}<tr><td class="num">{{.ID}}</td><td>{{.Label}}</td><td><div class="thumbs">{{range .Thumbs}}{{template "thumb" .}}{{end}}</div></td><td class="num">{{.Exemplars}} ({{.Validation}})</td><td class="num">{{.Threshold}}</td><td class="num">{{.GAR}}</td><td>{{.Nearest}}</td><td class="num">{{.NearestCosine}}</td></tr>
{{end}}</table>
{{if .Omitted}}<p class="muted">{{.Omitted}} classes are listed without thumbnails to keep the page small.</p>{{end}}
</section>
</body>
</html>
`))
