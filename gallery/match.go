package gallery

import (
	"fmt"
	"math"
	"slices"
)

// Candidate is one ranked class of a match.
type Candidate struct {
	ID    uint64  `json:"id"`
	Label string  `json:"label"`
	Score float32 `json:"score"` // cosine of the query and the class's best row
	// Margin is Score minus the score of the next class in the ranking (the
	// runner-up for the first candidate); -1 stands in for a missing next
	// class, so a one-class gallery has margin Score+1.
	Margin float32 `json:"margin"`
}

// Reason says why a match came out Unknown.
type Reason uint8

// Reasons for an Unknown decision.
const (
	Accepted       Reason = iota // not unknown: the best class passed
	Empty                        // the gallery has no classes
	BelowThreshold               // best score under the class's threshold
	LowMargin                    // best − runner-up under Options.MinMargin
	MirrorImage                  // the query mirrored matches the best class better (MatchMirroredInto)
)

func (r Reason) String() string {
	switch r {
	case Accepted:
		return "accepted"
	case Empty:
		return "empty gallery"
	case BelowThreshold:
		return "below threshold"
	case LowMargin:
		return "low margin"
	case MirrorImage:
		return "mirror image of the class"
	}
	return fmt.Sprintf("reason(%d)", uint8(r))
}

// Result is the outcome of a match. Reuse one Result across MatchInto calls:
// it keeps its scratch buffers, so matching allocates nothing once they have
// grown to the gallery's size.
type Result struct {
	// Candidates holds the best classes, best first; MatchInto fills at most
	// the n given to NewResult (cap(Candidates) for a Result made otherwise),
	// at least one, and never more than the gallery has classes.
	Candidates []Candidate `json:"candidates"`
	// Known is the decision: true when Candidates[0] is accepted. Only the
	// best class is ever accepted: when it fails its threshold the answer is
	// Unknown even if the runner-up would pass its own, because the query
	// still looks most like the rejected class.
	Known  bool   `json:"known"`
	Reason Reason `json:"reason"`
	// ID and Label name the accepted class (zero values when unknown).
	ID    uint64 `json:"id,omitempty"`
	Label string `json:"label,omitempty"`
	// Score is the best cosine even when unknown: it is the open-set score.
	Score     float32 `json:"score"`
	Margin    float32 `json:"margin"`
	Threshold float32 `json:"threshold"` // the threshold the best class was held to
	// MirrorScore is the mirrored query's cosine with the best class, set
	// by MatchMirroredInto when the query alone would have been accepted
	// (0 otherwise).
	MirrorScore float32 `json:"mirror_score,omitempty"`
	// Version is the gallery version the match saw.
	Version uint64 `json:"version"`

	snap     *snapshot
	rowBuf   []float32
	classBuf []float32
	qBuf     []float32 // the query as a unit vector
	q8Buf    []int8    // the query quantised (Int8 storage)
	accBuf   []int32   // integer dot products (Int8 storage)
	top      []int32
	want     int // candidates asked of NewResult; 0: cap(Candidates)
}

// preallocCandidates is how many candidate slots NewResult allocates up
// front; more are allocated by the first match that can fill them, so a
// huge n costs no more than the gallery's class count.
const preallocCandidates = 16

// NewResult returns a Result that keeps up to n candidates.
func NewResult(n int) *Result {
	if n < 1 {
		n = 1
	}
	m := min(n, preallocCandidates)
	return &Result{Candidates: make([]Candidate, 0, m), top: make([]int32, 0, m+1), want: n}
}

// DefaultCandidates is how many candidates Match returns.
const DefaultCandidates = 5

// Match ranks the classes for one embedding. It allocates its Result; use
// MatchInto in a hot loop.
func (g *Gallery) Match(q []float32) (*Result, error) {
	r := NewResult(DefaultCandidates)
	if err := g.MatchInto(q, r); err != nil {
		return nil, err
	}
	return r, nil
}

// MatchInto ranks the classes for one embedding and writes the outcome into
// r. The embedding need not be normalised. Concurrent calls need separate
// Results.
func (g *Gallery) MatchInto(q []float32, r *Result) error {
	return g.load().matchInto(q, r)
}

func (s *snapshot) matchInto(q []float32, r *Result) error {
	if len(q) != s.dim {
		return fmt.Errorf("%w: got %d, want %d", ErrDim, len(q), s.dim)
	}
	if cap(r.qBuf) < s.dim {
		r.qBuf = make([]float32, s.dim)
	}
	qn := r.qBuf[:s.dim]
	if err := normalizeVec(qn, q); err != nil {
		return err
	}
	n := r.want
	if n == 0 {
		n = cap(r.Candidates)
	}
	// Never more than there are classes: the buffers below grow to n.
	n = max(1, min(n, len(s.classes)))
	if cap(r.Candidates) < n {
		r.Candidates = make([]Candidate, 0, n)
	}
	r.snap, r.Version = s, s.version
	r.Candidates = r.Candidates[:0]
	r.Known, r.Reason, r.ID, r.Label = false, Empty, 0, ""
	r.Score, r.Margin, r.Threshold, r.MirrorScore = 0, 0, 0, 0
	nc := len(s.classes)
	if nc == 0 {
		return nil
	}
	scores := s.classScores(qn, r)
	if cap(r.top) < n+1 {
		r.top = make([]int32, 0, n+1)
	}
	top := r.top[:0]
	for i, v := range scores {
		if len(top) == n+1 && v <= scores[top[n]] {
			continue
		}
		if len(top) < n+1 {
			top = append(top, int32(i))
		} else {
			top[n] = int32(i)
		}
		for j := len(top) - 1; j > 0 && scores[top[j-1]] < v; j-- {
			top[j], top[j-1] = top[j-1], top[j]
		}
	}
	r.top = top
	for j := 0; j < len(top) && j < n; j++ {
		ci := top[j]
		sc := clampCos(scores[ci])
		next := float32(-1)
		if j+1 < len(top) {
			next = clampCos(scores[top[j+1]])
		}
		c := s.classes[ci]
		r.Candidates = append(r.Candidates, Candidate{ID: c.id, Label: c.label, Score: sc, Margin: sc - next})
	}
	best := r.Candidates[0]
	r.Score, r.Margin, r.Threshold = best.Score, best.Margin, s.thr[top[0]]
	switch {
	case best.Score < r.Threshold:
		r.Reason = BelowThreshold
	case best.Margin < s.opts.MinMargin:
		r.Reason = LowMargin
	default:
		r.Known, r.Reason, r.ID, r.Label = true, Accepted, best.ID, best.Label
	}
	return nil
}

// MatchMirroredInto is MatchInto with a chirality check. mirrored is the
// embedding of the query's mirror image (engine.Session.EmbedMirrored).
// When the query would be accepted but its mirror image scores higher
// against the accepted class, by more than margin, the answer is Unknown
// with Reason MirrorImage: the query is the class's mirrored twin (a
// no-left-turn sign shown to a gallery that knows no-right-turn). A
// symmetric design scores about the same both ways and passes. The
// encoder's calibration measures the margin (EncoderCalibration.Mirror).
// It allocates nothing once r has grown, as MatchInto.
func (g *Gallery) MatchMirroredInto(q, mirrored []float32, margin float32, r *Result) error {
	if !(margin >= -2 && margin <= 2) {
		return fmt.Errorf("%w: mirror margin %v outside [-2,2]", ErrInvalidOptions, margin)
	}
	s := g.load()
	if len(mirrored) != s.dim {
		return fmt.Errorf("%w: mirrored query has %d values, want %d", ErrDim, len(mirrored), s.dim)
	}
	if err := s.matchInto(q, r); err != nil || !r.Known {
		return err
	}
	qn := r.qBuf[:s.dim]
	if err := normalizeVec(qn, mirrored); err != nil {
		return err
	}
	r.MirrorScore = clampCos(s.classScore(qn, int(r.top[0]), r))
	if r.MirrorScore > r.Score+margin {
		r.Known, r.Reason, r.ID, r.Label = false, MirrorImage, 0, ""
	}
	return nil
}

// classScores returns, per class index, the raw dot product of q with the
// class's best row, in scratch owned by r.
func (s *snapshot) classScores(q []float32, r *Result) []float32 {
	nc, nr := len(s.classes), s.nrows()
	if cap(r.classBuf) < nc {
		r.classBuf = make([]float32, nc)
	}
	cls := r.classBuf[:nc]
	if nr == nc {
		// One row per class (mean mode, or every class with one row).
		s.scoreRows(q, r, cls)
		return cls
	}
	if cap(r.rowBuf) < nr {
		r.rowBuf = make([]float32, nr)
	}
	rows := r.rowBuf[:nr]
	s.scoreRows(q, r, rows)
	for i := range cls {
		cls[i] = float32(math.Inf(-1))
	}
	for i, v := range rows {
		if c := s.rowClass[i]; v > cls[c] {
			cls[c] = v
		}
	}
	return cls
}

// classScore is classScores' value for class ci alone: only its rows
// (contiguous, rowClass ascending) are scored.
func (s *snapshot) classScore(q []float32, ci int, r *Result) float32 {
	lo, _ := slices.BinarySearch(s.rowClass, int32(ci))
	hi, _ := slices.BinarySearch(s.rowClass, int32(ci)+1)
	if cap(r.rowBuf) < hi-lo {
		r.rowBuf = make([]float32, hi-lo)
	}
	rows := r.rowBuf[:hi-lo]
	s.scoreRange(q, r, lo, rows)
	best := float32(math.Inf(-1))
	for _, v := range rows {
		best = max(best, v)
	}
	return best
}

// scoreRows scores q against every stored row into out (len nrows).
func (s *snapshot) scoreRows(q []float32, r *Result, out []float32) { s.scoreRange(q, r, 0, out) }

// scoreRange scores q against rows lo .. lo+len(out)-1 into out.
func (s *snapshot) scoreRange(q []float32, r *Result, lo int, out []float32) {
	if s.dot.int8 {
		s.match8(q, r, lo, out)
		return
	}
	s.dot.f32.Rows(q, s.rows[lo*s.dim:], s.dim, len(out), out)
}

// clampCos keeps rounding from reporting a cosine outside [-1, 1].
func clampCos(x float32) float32 {
	if x > 1 {
		return 1
	}
	if x < -1 {
		return -1
	}
	return x
}
