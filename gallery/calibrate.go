package gallery

import (
	"container/heap"
	"fmt"
	"math"
	"sort"
)

// CalibrateOptions tune Calibrate.
type CalibrateOptions struct {
	// Background embeddings belong to no class (other signs, street clutter):
	// they are impostors for every class and make the false-accept estimate
	// honest for queries the gallery has never seen.
	Background [][]float32
	// DryRun computes thresholds without applying them.
	DryRun bool
}

// ClassCalibration is the outcome for one class.
type ClassCalibration struct {
	ID        uint64  `json:"id"`
	Label     string  `json:"label"`
	Threshold float32 `json:"threshold"`
	// GenuineAcceptRate is the share of genuine scores ≥ Threshold, or -1
	// when the class has no genuine pairs (a single training exemplar and no
	// validation exemplars).
	GenuineAcceptRate float64 `json:"genuine_accept_rate"`
	Genuine           int     `json:"genuine"`
	Impostors         int     `json:"impostors"`
	// FalseAcceptRate is the share of impostor scores ≥ Threshold: at most
	// the target, lower where ties or few impostors force it.
	FalseAcceptRate float64 `json:"false_accept_rate"`
	// Resolved is false when there are fewer than 1/target impostor scores:
	// the threshold then only lies above every impostor seen, and the target
	// rate is not demonstrated by the data.
	Resolved bool `json:"resolved"`
	// Estimate is the threshold the scores alone give. Threshold equals it
	// unless Kept.
	Estimate float32 `json:"estimate"`
	// Kept is true when the target was not resolved and Estimate was looser
	// (lower) than the threshold already in force, which Threshold keeps:
	// a handful of impostors far from a class cannot justify accepting
	// everything above them (with two classes the estimate can fall below 0).
	Kept bool `json:"kept"`
}

// Calibration reports what Calibrate found (and applied unless DryRun).
type Calibration struct {
	TargetFAR float64 `json:"target_far"`
	// Global is the pooled threshold over every class's genuine and impostor
	// scores; it becomes the gallery default.
	Global  ClassCalibration   `json:"global"`
	Classes []ClassCalibration `json:"classes"`
}

// Calibrate sets thresholds at a target false-accept rate.
//
// Method. Scores are cosines between an embedding and a class's prototype
// rows (the class score used by matching: best row).
//   - Genuine scores of class c: each training exemplar against the
//     prototypes rebuilt from c's other training exemplars (leave-one-out, so
//     an exemplar never vouches for itself), plus each validation exemplar of
//     c against c's full prototypes.
//   - Impostor scores of class c: every exemplar (training and validation)
//     of every other class, and every background embedding, against c's full
//     prototypes.
//   - Threshold: with n impostor scores and m = ⌊targetFAR·n⌋ false accepts
//     allowed, the threshold is the smallest float32 strictly above the
//     (m+1)-th highest impostor score, so at most m impostors reach it.
//   - When fewer than 1/targetFAR impostor scores exist the target is not
//     resolved, and the threshold never goes below the one in force (the
//     class's own, else the gallery default): sparse data may tighten a
//     threshold but not loosen it (see ClassCalibration.Kept).
//   - The achieved genuine-accept rate is recorded per class (ClassInfo).
//
// Per-class thresholds bound each class's own false accepts; a query from an
// unseen class can be falsely accepted by any class, so the system-level
// rate for such a query is up to the sum over the classes it resembles:
// choose the target accordingly, and pass Background embeddings to measure
// the unseen case directly. Only the top m+1 impostor scores per class are
// kept, so memory stays bounded for large galleries.
func (g *Gallery) Calibrate(targetFAR float64, opts CalibrateOptions) (*Calibration, error) {
	if !(targetFAR > 0 && targetFAR < 1) {
		return nil, fmt.Errorf("%w: target FAR %v outside (0,1)", ErrInvalidOptions, targetFAR)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	s := g.load()
	bg := make([][]float32, len(opts.Background))
	for i, b := range opts.Background {
		v, err := normalized(b, s.dim)
		if err != nil {
			return nil, fmt.Errorf("background %d: %w", i, err)
		}
		bg[i] = v
	}
	cal := calibrate(s, targetFAR, bg)
	if opts.DryRun {
		return cal, nil
	}
	d := s.derive()
	if cal.Global.Impostors > 0 {
		d.opts.Threshold = cal.Global.Threshold
	}
	for i, cc := range cal.Classes {
		c := d.classes[i].clone()
		if cc.Impostors > 0 {
			c.threshold, c.hasThr = cc.Threshold, true
		}
		c.gar, c.garN = cc.GenuineAcceptRate, cc.Genuine
		d.classes[i] = c
	}
	d.build()
	g.snap.Store(d)
	return cal, nil
}

func calibrate(s *snapshot, far float64, bg [][]float32) *Calibration {
	nc := len(s.classes)
	total := len(bg)
	for _, c := range s.classes {
		total += len(c.exemplars)
	}
	cal := &Calibration{TargetFAR: far, Classes: make([]ClassCalibration, nc)}
	tops := make([]*topScores, nc)
	for i, c := range s.classes {
		n := total - len(c.exemplars)
		tops[i] = newTopScores(int(far*float64(n)) + 1)
		cal.Classes[i] = ClassCalibration{ID: c.id, Label: c.label, Impostors: n}
	}
	inForce := func(c *class) float32 {
		if c.hasThr {
			return c.threshold
		}
		return s.opts.Threshold
	}
	globalN := 0
	for i := range cal.Classes {
		globalN += cal.Classes[i].Impostors
	}
	gtop := newTopScores(int(far*float64(globalN)) + 1)
	r := &Result{}
	addImpostor := func(owner int, e []float32) {
		scores := s.classScores(e, r)
		for ci, v := range scores {
			if ci != owner {
				tops[ci].add(v)
				gtop.add(v)
			}
		}
	}
	for ci, c := range s.classes {
		for _, e := range c.exemplars {
			addImpostor(ci, e.Embedding)
		}
	}
	for _, e := range bg {
		addImpostor(-1, e)
	}
	genuine := make([][]float32, nc)
	var allGenuine []float32
	for ci, c := range s.classes {
		genuine[ci] = genuineScores(s.dot, c, s.dim, s.opts)
		allGenuine = append(allGenuine, genuine[ci]...)
	}
	for ci, c := range s.classes {
		finishCalibration(&cal.Classes[ci], tops[ci], genuine[ci], far, inForce(c))
	}
	cal.Global = ClassCalibration{Label: "(global)", Impostors: globalN}
	finishCalibration(&cal.Global, gtop, allGenuine, far, s.opts.Threshold)
	return cal
}

// genuineScores returns leave-one-out scores of a class's training
// exemplars and full-prototype scores of its validation exemplars.
func genuineScores(d scorer, c *class, dim int, o Options) []float32 {
	train := c.training()
	var out []float32
	if len(train) >= 2 {
		others := make([][]float32, 0, len(train)-1)
		for i := range train {
			others = append(others[:0], train[:i]...)
			others = append(others, train[i+1:]...)
			rows := prototypeRows(others, dim, o.Mode, o.K)
			out = append(out, maxRow(d, train[i], rows, dim))
		}
	}
	for _, e := range c.exemplars {
		if e.Validation {
			out = append(out, maxRow(d, e.Embedding, c.rows, dim))
		}
	}
	return out
}

func finishCalibration(cc *ClassCalibration, top *topScores, genuine []float32, far float64, inForce float32) {
	cc.Genuine = len(genuine)
	cc.GenuineAcceptRate = -1
	if cc.Impostors == 0 {
		return
	}
	cc.Estimate = thresholdAbove(top.min())
	cc.Resolved = resolvesFAR(cc.Impostors, far)
	cc.Threshold, cc.Kept = sparseFloor(cc.Estimate, inForce, cc.Resolved)
	acc := 0
	for _, v := range top.h {
		if v >= cc.Threshold {
			acc++
		}
	}
	cc.FalseAcceptRate = float64(acc) / float64(cc.Impostors)
	if len(genuine) > 0 {
		ok := 0
		for _, v := range genuine {
			if v >= cc.Threshold {
				ok++
			}
		}
		cc.GenuineAcceptRate = float64(ok) / float64(len(genuine))
	}
}

// resolvesFAR reports whether n impostor scores can demonstrate a
// false-accept rate of far: at least 1/far of them.
func resolvesFAR(n int, far float64) bool { return float64(n) >= math.Ceil(1/far-1e-9) }

// sparseFloor applies the rule shared by Calibrate and Plan: a threshold
// estimated from too few impostors (not resolved) may tighten the one in
// force but never loosen it. kept reports that inForce was kept.
func sparseFloor(estimate, inForce float32, resolved bool) (thr float32, kept bool) {
	if !resolved && estimate < inForce {
		return inForce, true
	}
	return estimate, false
}

// thresholdAbove is the smallest float32 strictly greater than v, kept in
// the cosine range.
func thresholdAbove(v float32) float32 {
	t := math.Nextafter32(v, 2)
	if t > maxThreshold {
		t = maxThreshold
	}
	return t
}

// topScores keeps the k highest scores seen (a min-heap).
type topScores struct {
	k int
	h float32Heap
}

func newTopScores(k int) *topScores { return &topScores{k: k} }

func (t *topScores) add(v float32) {
	if len(t.h) < t.k {
		heap.Push(&t.h, v)
		return
	}
	if v > t.h[0] {
		t.h[0] = v
		heap.Fix(&t.h, 0)
	}
}

// min returns the k-th highest score (or the lowest seen when fewer than k).
func (t *topScores) min() float32 { return t.h[0] }

type float32Heap []float32

func (h float32Heap) Len() int           { return len(h) }
func (h float32Heap) Less(i, j int) bool { return h[i] < h[j] }
func (h float32Heap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *float32Heap) Push(x any)        { *h = append(*h, x.(float32)) }
func (h *float32Heap) Pop() any {
	old := *h
	v := old[len(old)-1]
	*h = old[:len(old)-1]
	return v
}

// thresholdAtFAR picks the threshold for a plain list of impostor scores,
// with the same rule as Calibrate.
func thresholdAtFAR(impostors []float32, far float64) (float32, bool) {
	if len(impostors) == 0 {
		return 0, false
	}
	sorted := append([]float32(nil), impostors...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i] > sorted[j] })
	return thresholdInDescending(sorted, far), true
}

// thresholdInDescending is Calibrate's rule on scores sorted from the
// highest: with m = ⌊far·n⌋ false accepts allowed, the smallest float32
// strictly above the (m+1)-th highest score. desc must not be empty.
func thresholdInDescending(desc []float32, far float64) float32 {
	m := min(int(far*float64(len(desc))), len(desc)-1)
	return thresholdAbove(desc[m])
}
