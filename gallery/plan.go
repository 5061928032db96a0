package gallery

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/signet-go/signet/internal/textsafe"
)

// Labelled is an embedding with its true label, for validation and
// evaluation.
type Labelled struct {
	Label     string    `json:"label"`
	Embedding []float32 `json:"-"`
	Source    string    `json:"source,omitempty"`
}

// PlanOptions tune Plan.
type PlanOptions struct {
	// Meta is the metadata of a new class.
	Meta map[string]string
	// Validation adds labelled samples of existing classes to the gallery's
	// own held-out exemplars.
	Validation []Labelled
	// Background embeddings serve as extra impostors for the newcomer's
	// suggested threshold.
	Background [][]float32
	// TargetFAR for the suggested threshold; 0 means 0.01.
	TargetFAR float64
	// ApplyThreshold makes Commit give the class the suggested threshold
	// (the report's after-accuracy is measured with it).
	ApplyThreshold bool
}

// Flip is one validation sample whose decision changed.
type Flip struct {
	Source string `json:"source"`
	Label  string `json:"label"`  // true label
	Before string `json:"before"` // decision before ("" = unknown)
	After  string `json:"after"`  // decision after ("" = unknown)
	// Scores of the decided (or best, when unknown) class.
	BeforeScore float32 `json:"before_score"`
	AfterScore  float32 `json:"after_score"`
	// NewcomerScore is the sample's score against the planned class.
	NewcomerScore float32 `json:"newcomer_score"`
}

// Neighbour is an existing class close to the newcomer.
type Neighbour struct {
	ID     uint64  `json:"id"`
	Label  string  `json:"label"`
	Cosine float32 `json:"cosine"` // between the two classes' mean prototypes
}

// Report says what a planned enrolment does to the gallery.
type Report struct {
	Label   string `json:"label"`
	ClassID uint64 `json:"class_id,omitempty"` // set when extending an existing class
	// NewExemplars were passed; NewValidation of them are held out.
	NewExemplars  int `json:"new_exemplars"`
	NewValidation int `json:"new_validation"`
	// ValidationSamples of existing classes were classified before and
	// after; accuracies are decision accuracies (Unknown counts as wrong).
	ValidationSamples int     `json:"validation_samples"`
	AccuracyBefore    float64 `json:"accuracy_before"`
	AccuracyAfter     float64 `json:"accuracy_after"`
	// NegativeFlipRate = NegativeFlips / ValidationSamples (Yan et al. 2021).
	NegativeFlipRate float64 `json:"negative_flip_rate"`
	NegativeFlips    int     `json:"negative_flips"`
	PositiveFlips    int     `json:"positive_flips"`
	Flips            []Flip  `json:"flips"` // negative flips, then positive
	// Nearest existing classes by prototype–prototype cosine, closest first.
	Nearest []Neighbour `json:"nearest"`
	// LeaveOneOutAccuracy of the newcomer's exemplars: each new training
	// exemplar matched against the gallery with the newcomer rebuilt
	// without it, and each new validation exemplar against the full
	// newcomer; LeaveOneOutSamples = how many (0 for a single exemplar).
	LeaveOneOutAccuracy float64 `json:"leave_one_out_accuracy"`
	LeaveOneOutSamples  int     `json:"leave_one_out_samples"`
	// SuggestedThreshold is what Calibrate's rule picks for the newcomer at
	// TargetFAR; SuggestedGAR the genuine-accept rate at it.
	TargetFAR          float64  `json:"target_far"`
	SuggestedThreshold float32  `json:"suggested_threshold"`
	SuggestedGAR       float64  `json:"suggested_gar"`
	ThresholdImpostors int      `json:"threshold_impostors"`
	ThresholdResolved  bool     `json:"threshold_resolved"`
	AppliedThreshold   float32  `json:"applied_threshold"`
	FlipBudget         float64  `json:"flip_budget"`
	OverBudget         bool     `json:"over_budget"`
	Notes              []string `json:"notes,omitempty"`
}

// Plan is a prepared enrolment; Commit applies it.
type Plan struct {
	Report *Report

	version   uint64
	label     string
	meta      map[string]string
	exemplars []Exemplar // prepared: normalised, flags final
	classID   uint64     // 0: new class
	threshold float32
	setThr    bool
	detail    *planDetail // what WriteHTML shows beyond the Report
}

// Plan measures what enrolling ex under label would do, without changing
// the gallery. If the label exists, the exemplars extend that class.
func (g *Gallery) Plan(label string, ex []Exemplar, opts PlanOptions) (*Plan, error) {
	if err := checkLabel(label); err != nil {
		return nil, err
	}
	if err := checkMeta(opts.Meta); err != nil {
		return nil, err
	}
	far := opts.TargetFAR
	if far == 0 {
		far = 0.01
	}
	if !(far > 0 && far < 1) {
		return nil, fmt.Errorf("%w: target FAR %v outside (0,1)", ErrInvalidOptions, far)
	}
	s := g.load()
	target, extending := s.byLabel[label]
	have := 0
	p := &Plan{version: s.version, label: label, meta: copyMeta(opts.Meta)}
	if extending {
		have = len(s.classes[target].exemplars)
		p.classID = s.classes[target].id
	} else {
		target = len(s.classes)
	}
	exs, err := prepareExemplars(ex, s.dim, have, s.opts.ValidationShare)
	if err != nil {
		return nil, fmt.Errorf("class %q: %w", label, err)
	}
	p.exemplars = exs
	bg := make([][]float32, len(opts.Background))
	for i, b := range opts.Background {
		if bg[i], err = normalized(b, s.dim); err != nil {
			return nil, fmt.Errorf("background %d: %w", i, err)
		}
	}
	rep := &Report{Label: label, ClassID: p.classID, NewExemplars: len(exs), TargetFAR: far, FlipBudget: s.opts.FlipBudget}
	p.Report = rep

	var oldTrain, newTrain [][]float32
	if extending {
		oldTrain = s.classes[target].training()
	}
	newTrain = append(newTrain, oldTrain...)
	var newOnlyTrain [][]float32
	for _, e := range exs {
		if e.Validation {
			rep.NewValidation++
		} else {
			newOnlyTrain = append(newOnlyTrain, e.Embedding)
		}
	}
	newTrain = append(newTrain, newOnlyTrain...)
	newRows := prototypeRows(newTrain, s.dim, s.opts.Mode, s.opts.K)

	// Suggested threshold: Calibrate's rule restricted to the newcomer.
	var genuine, impostors []float32
	var looRows [][]float32 // rows without new training exemplar i
	others := make([][]float32, 0, len(newTrain))
	for i := range newOnlyTrain {
		if len(newTrain) < 2 {
			break
		}
		skip := len(oldTrain) + i
		others = append(others[:0], newTrain[:skip]...)
		others = append(others, newTrain[skip+1:]...)
		rows := prototypeRows(others, s.dim, s.opts.Mode, s.opts.K)
		looRows = append(looRows, rows)
		genuine = append(genuine, maxRow(s.dot, newOnlyTrain[i], rows, s.dim))
	}
	for _, e := range exs {
		if e.Validation {
			genuine = append(genuine, maxRow(s.dot, e.Embedding, newRows, s.dim))
		}
	}
	if extending {
		for _, e := range s.classes[target].exemplars {
			if e.Validation {
				genuine = append(genuine, maxRow(s.dot, e.Embedding, newRows, s.dim))
			}
		}
	}
	for ci, c := range s.classes {
		if ci == target {
			continue
		}
		for _, e := range c.exemplars {
			impostors = append(impostors, maxRow(s.dot, e.Embedding, newRows, s.dim))
		}
	}
	for _, e := range bg {
		impostors = append(impostors, maxRow(s.dot, e, newRows, s.dim))
	}
	rep.ThresholdImpostors = len(impostors)
	if t, ok := thresholdAtFAR(impostors, far); ok {
		rep.SuggestedThreshold = t
		rep.ThresholdResolved = resolvesFAR(len(impostors), far)
		rep.SuggestedGAR = acceptRate(genuine, t)
	} else {
		rep.SuggestedThreshold = s.opts.Threshold
		rep.SuggestedGAR = acceptRate(genuine, s.opts.Threshold)
		rep.Notes = append(rep.Notes, "no impostors: suggested threshold is the gallery default")
	}
	// Threshold the newcomer is held to after commit.
	newThr := s.opts.Threshold
	if extending {
		newThr = s.thr[target]
	}
	if !rep.ThresholdResolved && len(impostors) > 0 {
		rep.Notes = append(rep.Notes, fmt.Sprintf("only %d impostor scores: the threshold lies above every impostor seen but FAR %.3g is not demonstrated", len(impostors), far))
		if thr, kept := sparseFloor(rep.SuggestedThreshold, newThr, rep.ThresholdResolved); kept {
			rep.SuggestedThreshold = thr
			rep.SuggestedGAR = acceptRate(genuine, thr)
			rep.Notes = append(rep.Notes, fmt.Sprintf("suggested threshold kept at %.4f, the one in force", newThr))
		}
	}
	if opts.ApplyThreshold {
		newThr, p.threshold, p.setThr = rep.SuggestedThreshold, rep.SuggestedThreshold, true
	}
	rep.AppliedThreshold = newThr
	d := &planDetail{snap: s, target: target, newRows: newRows, newThr: newThr, genuine: genuine, impostors: impostors, loo: len(looRows)}
	p.detail = d

	// Validation samples of existing classes, before and after.
	type sample struct {
		class    int
		e        []float32
		source   string
		crop     []byte
		external bool // from opts.Validation
	}
	var samples []sample
	for ci, c := range s.classes {
		for _, e := range c.exemplars {
			if e.Validation {
				samples = append(samples, sample{ci, e.Embedding, e.Source, e.Crop, false})
			}
		}
	}
	skipped := 0
	for i, l := range opts.Validation {
		ci, ok := s.byLabel[l.Label]
		if !ok {
			skipped++
			continue
		}
		v, err := normalized(l.Embedding, s.dim)
		if err != nil {
			return nil, fmt.Errorf("validation %d (%s): %w", i, l.Source, err)
		}
		samples = append(samples, sample{ci, v, l.Source, nil, true})
	}
	if skipped > 0 {
		rep.Notes = append(rep.Notes, fmt.Sprintf("%d validation samples skipped: label not in the gallery", skipped))
	}
	r := &Result{}
	var before, after, negFlips, posFlips int
	var pos []Flip
	var posIdx []int
	for _, sm := range samples {
		scores := s.classScores(sm.e, r)
		bi, bs := decide(s, scores, -1, 0, 0)
		ns := maxRow(s.dot, sm.e, newRows, s.dim)
		d.samples = append(d.samples, planSample{class: sm.class, own: clampCos(scores[sm.class]), newcomer: ns, crop: sm.crop, external: sm.external})
		ai, as := decide(s, scores, target, ns, newThr)
		rb, ra := bi == sm.class, ai == sm.class
		if rb {
			before++
		}
		if ra {
			after++
		}
		if rb == ra && bi == ai {
			continue
		}
		f := Flip{Source: sm.source, Label: s.classes[sm.class].label,
			Before: labelOf(s, bi, label), After: labelOf(s, ai, label),
			BeforeScore: bs, AfterScore: as, NewcomerScore: ns}
		switch {
		case rb && !ra:
			negFlips++
			rep.Flips = append(rep.Flips, f)
			d.flips = append(d.flips, len(d.samples)-1)
		case !rb && ra:
			posFlips++
			pos = append(pos, f)
			posIdx = append(posIdx, len(d.samples)-1)
		}
	}
	rep.Flips = append(rep.Flips, pos...)
	d.flips = append(d.flips, posIdx...)
	rep.ValidationSamples = len(samples)
	rep.NegativeFlips, rep.PositiveFlips = negFlips, posFlips
	if len(samples) > 0 {
		n := float64(len(samples))
		rep.AccuracyBefore, rep.AccuracyAfter = float64(before)/n, float64(after)/n
		rep.NegativeFlipRate = float64(negFlips) / n
		rep.OverBudget = rep.NegativeFlipRate > rep.FlipBudget
	} else {
		rep.Notes = append(rep.Notes, "no validation samples: flip rate not measured (hold out exemplars with Options.ValidationShare or pass PlanOptions.Validation)")
	}

	// Leave-one-out accuracy of the newcomer.
	loOK, loN := 0, 0
	for i, e := range newOnlyTrain {
		if i >= len(looRows) {
			break
		}
		scores := s.classScores(e, r)
		ai, _ := decide(s, scores, target, maxRow(s.dot, e, looRows[i], s.dim), newThr)
		loN++
		if ai == target {
			loOK++
		}
	}
	for _, e := range exs {
		if !e.Validation {
			continue
		}
		scores := s.classScores(e.Embedding, r)
		ai, _ := decide(s, scores, target, maxRow(s.dot, e.Embedding, newRows, s.dim), newThr)
		loN++
		if ai == target {
			loOK++
		}
	}
	rep.LeaveOneOutSamples = loN
	if loN > 0 {
		rep.LeaveOneOutAccuracy = float64(loOK) / float64(loN)
	} else {
		rep.Notes = append(rep.Notes, "a single exemplar: leave-one-out accuracy not measurable")
	}

	// Nearest existing classes by mean prototype.
	newMean := meanRow(newTrain, s.dim)
	for ci, c := range s.classes {
		if ci == target {
			continue
		}
		m := c.rows
		if s.opts.Mode != MeanPrototype {
			m = meanRow(c.training(), s.dim)
		}
		rep.Nearest = append(rep.Nearest, Neighbour{ID: c.id, Label: c.label, Cosine: clampCos(dot(newMean, m))})
	}
	sort.SliceStable(rep.Nearest, func(i, j int) bool { return rep.Nearest[i].Cosine > rep.Nearest[j].Cosine })
	if len(rep.Nearest) > 5 {
		rep.Nearest = rep.Nearest[:5]
	}
	return p, nil
}

func acceptRate(genuine []float32, t float32) float64 {
	if len(genuine) == 0 {
		return -1
	}
	ok := 0
	for _, v := range genuine {
		if v >= t {
			ok++
		}
	}
	return float64(ok) / float64(len(genuine))
}

func labelOf(s *snapshot, i int, newcomer string) string {
	switch {
	case i < 0:
		return ""
	case i < len(s.classes):
		return s.classes[i].label
	}
	return newcomer
}

// decide applies matching's decision rule to per-class scores of a unit
// vector. When over ≥ 0, class index over gets score os and threshold ot
// instead of its own (over == len(classes) appends a class). It returns the
// accepted class index (-1 for unknown) and the best score.
func decide(s *snapshot, scores []float32, over int, os, ot float32) (int, float32) {
	best, runner := -1, float32(-1)
	bs := float32(math.Inf(-1))
	consider := func(i int, v float32) {
		if v > bs {
			if best >= 0 {
				runner = bs
			}
			best, bs = i, v
		} else if v > runner {
			runner = v
		}
	}
	for i, v := range scores {
		if i == over {
			v = os
		}
		consider(i, v)
	}
	if over == len(scores) {
		consider(over, os)
	}
	if best < 0 {
		return -1, 0
	}
	thr := ot
	if best != over {
		thr = s.thr[best]
	}
	bs, runner = clampCos(bs), clampCos(runner)
	if bs < thr || bs-runner < s.opts.MinMargin {
		return -1, bs
	}
	return best, bs
}

// Commit applies a plan. It fails with ErrStale when the gallery changed
// since Plan, and with ErrFlipBudget when the report is over budget.
func (g *Gallery) Commit(p *Plan) (uint64, error) { return g.commit(p, false) }

// ForceCommit applies a plan even when its flip rate is over budget.
func (g *Gallery) ForceCommit(p *Plan) (uint64, error) { return g.commit(p, true) }

func (g *Gallery) commit(p *Plan, force bool) (uint64, error) {
	if p == nil || p.Report == nil {
		return 0, fmt.Errorf("%w: nil plan", ErrInvalidOptions)
	}
	if p.Report.OverBudget && !force {
		return 0, fmt.Errorf("%w: adding %q flips %d of %d validation samples (%.2f%%, budget %.2f%%), first: %s; review the report or force the commit",
			ErrFlipBudget, p.label, p.Report.NegativeFlips, p.Report.ValidationSamples,
			100*p.Report.NegativeFlipRate, 100*p.Report.FlipBudget, firstFlip(p.Report))
	}
	var id uint64
	err := g.update(func(s *snapshot) error {
		if cur := g.load().version; cur != p.version {
			return fmt.Errorf("%w: planned at version %d, gallery is at %d; plan again", ErrStale, p.version, cur)
		}
		var err error
		if p.classID == 0 {
			id, err = s.addClass(p.label, p.meta, p.exemplars)
		} else {
			id = p.classID
			err = s.addExemplars(id, p.exemplars)
		}
		if err != nil {
			return err
		}
		if p.setThr {
			i := s.byID[id]
			c := s.classes[i].clone()
			c.threshold, c.hasThr = p.threshold, true
			s.classes[i] = c
		}
		return nil
	})
	return id, err
}

func firstFlip(r *Report) string {
	if len(r.Flips) == 0 {
		return "none listed"
	}
	f := r.Flips[0]
	return fmt.Sprintf("%s (%s → %s)", orDash(f.Source), f.Label, orUnknown(f.After))
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// String renders the report as aligned text tables for a terminal. Labels
// and sources that are not safe to print raw (a gallery written by another
// program, a hostile file name) are shown quoted with Go escapes.
func (r *Report) String() string {
	var b strings.Builder
	verb := "new class"
	if r.ClassID != 0 {
		verb = fmt.Sprintf("more exemplars for class %d", r.ClassID)
	}
	fmt.Fprintf(&b, "Enrolment plan: %q (%s), %d exemplars (%d held out)\n", r.Label, verb, r.NewExemplars, r.NewValidation)
	// table starts an aligned table under title (none for "") with a
	// header row of tab-separated columns.
	table := func(title, header string) *tabwriter.Writer {
		if title != "" {
			b.WriteString("\n" + title + "\n")
		}
		tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, header)
		return tw
	}
	tw := table("", "measure\tvalue")
	if r.ValidationSamples > 0 {
		fmt.Fprintf(tw, "validation samples\t%d\n", r.ValidationSamples)
		fmt.Fprintf(tw, "accuracy before\t%.2f%%\n", 100*r.AccuracyBefore)
		fmt.Fprintf(tw, "accuracy after\t%.2f%%\n", 100*r.AccuracyAfter)
		verdict := "within budget"
		if r.OverBudget {
			verdict = "OVER BUDGET"
		}
		fmt.Fprintf(tw, "negative flip rate\t%.2f%% (%d; budget %.2f%%: %s)\n", 100*r.NegativeFlipRate, r.NegativeFlips, 100*r.FlipBudget, verdict)
		fmt.Fprintf(tw, "positive flips\t%d\n", r.PositiveFlips)
	} else {
		fmt.Fprintf(tw, "negative flip rate\tnot measured (no validation samples)\n")
	}
	if r.LeaveOneOutSamples > 0 {
		fmt.Fprintf(tw, "newcomer leave-one-out accuracy\t%.2f%% (%d samples)\n", 100*r.LeaveOneOutAccuracy, r.LeaveOneOutSamples)
	} else {
		fmt.Fprintf(tw, "newcomer leave-one-out accuracy\tnot measurable\n")
	}
	gar := "n/a"
	if r.SuggestedGAR >= 0 {
		gar = fmt.Sprintf("%.2f%%", 100*r.SuggestedGAR)
	}
	fmt.Fprintf(tw, "suggested threshold\t%.4f (FAR %.3g over %d impostors, GAR %s)\n", r.SuggestedThreshold, r.TargetFAR, r.ThresholdImpostors, gar)
	fmt.Fprintf(tw, "applied threshold\t%.4f\n", r.AppliedThreshold)
	tw.Flush()
	if len(r.Nearest) > 0 {
		tw = table("Nearest existing classes", "id\tlabel\tcosine")
		for _, n := range r.Nearest {
			fmt.Fprintf(tw, "%d\t%s\t%.4f\n", n.ID, textsafe.Cell(n.Label), n.Cosine)
		}
		tw.Flush()
	}
	if len(r.Flips) > 0 {
		tw = table("Flipped validation samples", "kind\tsource\ttrue\tbefore\tafter\tscore before\tscore after\tnewcomer score")
		for i, f := range r.Flips {
			kind := "negative"
			if i >= r.NegativeFlips {
				kind = "positive"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%.4f\t%.4f\t%.4f\n", kind, textsafe.Cell(orDash(f.Source)), textsafe.Cell(f.Label),
				textsafe.Cell(orUnknown(f.Before)), textsafe.Cell(orUnknown(f.After)), f.BeforeScore, f.AfterScore, f.NewcomerScore)
		}
		tw.Flush()
	}
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "note: %s\n", textsafe.Escape(n))
	}
	return b.String()
}
