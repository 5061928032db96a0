package gallery

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
)

// EpisodeConfig describes N-way K-shot evaluation episodes.
type EpisodeConfig struct {
	Ways     int // N: classes enrolled per episode
	Shots    int // K: exemplars enrolled per class
	Queries  int // queries per class
	Episodes int
	// UnknownWays adds that many further classes per episode whose queries
	// are not enrolled: they measure open-set rejection (AUROC).
	UnknownWays int
	Seed        uint64
	Mode        Mode
	K           int // prototypes per class in MultiPrototype mode
	// Storage is the prototype storage the episodes score with.
	Storage Storage
}

// EpisodeResult is the outcome of Episodes.
type EpisodeResult struct {
	Episodes int `json:"episodes"`
	// Accuracy is the mean closed-set top-1 accuracy over episodes and
	// Accuracy95 the half-width of its 95% interval (1.96·sd/√episodes).
	Accuracy   float64 `json:"accuracy"`
	Accuracy95 float64 `json:"accuracy95"`
	// AUROC (and its interval) of known versus unknown queries scored by the
	// best cosine; only set when UnknownWays > 0.
	AUROC   float64 `json:"auroc,omitempty"`
	AUROC95 float64 `json:"auroc95,omitempty"`
}

// Episodes runs few-shot episodes over labelled embeddings. Each episode
// draws Ways (+UnknownWays) classes among those with at least
// Shots+Queries samples, enrols Shots samples of each enrolled class,
// and classifies Queries other samples per class. The same data and Seed
// give the same result.
func Episodes(data []Labelled, cfg EpisodeConfig) (EpisodeResult, error) {
	if cfg.Ways < 1 || cfg.Shots < 1 || cfg.Queries < 1 || cfg.Episodes < 1 || cfg.UnknownWays < 0 {
		return EpisodeResult{}, fmt.Errorf("%w: episodes need ways, shots, queries, episodes ≥ 1", ErrInvalidOptions)
	}
	if cfg.Mode > KNN || cfg.Storage > Int8 {
		return EpisodeResult{}, fmt.Errorf("%w: unknown mode %d or storage %d", ErrInvalidOptions, cfg.Mode, cfg.Storage)
	}
	k := cfg.K
	if k < 1 {
		k = 1
	}
	byLabel, labels, dim, err := groupLabelled(data)
	if err != nil {
		return EpisodeResult{}, err
	}
	var eligible []string
	for _, l := range labels {
		if len(byLabel[l]) >= cfg.Shots+cfg.Queries {
			eligible = append(eligible, l)
		}
	}
	need := cfg.Ways + cfg.UnknownWays
	if len(eligible) < need {
		return EpisodeResult{}, fmt.Errorf("%w: %d classes have %d+ samples, episodes need %d", ErrInvalidOptions, len(eligible), cfg.Shots+cfg.Queries, need)
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x5167_6e65_7467_616c))
	accs := make([]float64, cfg.Episodes)
	var aucs []float64
	for ep := range accs {
		pick := rng.Perm(len(eligible))[:need]
		protos := make([][]float32, cfg.Ways)
		var queries [][]float32
		var truth []int
		for w, ci := range pick {
			samples := byLabel[eligible[ci]]
			order := rng.Perm(len(samples))
			if w < cfg.Ways {
				support := make([][]float32, cfg.Shots)
				for i := range support {
					support[i] = samples[order[i]]
				}
				protos[w] = prototypeRows(support, dim, cfg.Mode, k)
			}
			for _, o := range order[cfg.Shots : cfg.Shots+cfg.Queries] {
				queries = append(queries, samples[o])
				truth = append(truth, w)
			}
		}
		ok, nKnown := 0, 0
		var pos, neg []float32
		score := scorer{int8: cfg.Storage == Int8}
		for qi, q := range queries {
			best, bs := -1, float32(math.Inf(-1))
			for w, rows := range protos {
				if v := maxRow(score, q, rows, dim); v > bs {
					best, bs = w, v
				}
			}
			if truth[qi] < cfg.Ways {
				nKnown++
				if best == truth[qi] {
					ok++
				}
				pos = append(pos, bs)
			} else {
				neg = append(neg, bs)
			}
		}
		accs[ep] = float64(ok) / float64(nKnown)
		if cfg.UnknownWays > 0 {
			aucs = append(aucs, AUROC(pos, neg))
		}
	}
	res := EpisodeResult{Episodes: cfg.Episodes}
	res.Accuracy, res.Accuracy95 = meanCI(accs)
	if len(aucs) > 0 {
		res.AUROC, res.AUROC95 = meanCI(aucs)
	}
	return res, nil
}

func meanCI(x []float64) (mean, half float64) {
	for _, v := range x {
		mean += v
	}
	mean /= float64(len(x))
	if len(x) < 2 {
		return mean, 0
	}
	var ss float64
	for _, v := range x {
		ss += (v - mean) * (v - mean)
	}
	sd := math.Sqrt(ss / float64(len(x)-1))
	return mean, 1.96 * sd / math.Sqrt(float64(len(x)))
}

// groupLabelled normalises the embeddings and groups them by label; labels
// come back sorted so that sampling does not depend on input order of
// classes.
func groupLabelled(data []Labelled) (map[string][][]float32, []string, int, error) {
	if len(data) == 0 {
		return nil, nil, 0, ErrNoExemplars
	}
	dim := len(data[0].Embedding)
	if dim < 1 || dim > maxDim {
		return nil, nil, 0, fmt.Errorf("%w: dim %d", ErrDim, dim)
	}
	by := make(map[string][][]float32)
	for i, d := range data {
		v, err := normalized(d.Embedding, dim)
		if err != nil {
			return nil, nil, 0, fmt.Errorf("sample %d (%s): %w", i, d.Source, err)
		}
		by[d.Label] = append(by[d.Label], v)
	}
	labels := make([]string, 0, len(by))
	for l := range by {
		labels = append(labels, l)
	}
	sort.Strings(labels)
	return by, labels, dim, nil
}

// OpenSetResult measures how a gallery treats queries of enrolled and of
// never-enrolled classes.
type OpenSetResult struct {
	Known   int `json:"known"`
	Unknown int `json:"unknown"`
	// AUROC of known versus unknown queries, score = best cosine: the
	// chance a random known query outscores a random unknown one (ties
	// count half). Independent of thresholds.
	AUROC float64 `json:"auroc"`
	// At the gallery's current thresholds: share of known queries accepted
	// as their true class, and share of unknown queries answered Unknown.
	KnownCorrect    float64 `json:"known_correct"`
	UnknownRejected float64 `json:"unknown_rejected"`
}

// OpenSet matches known queries (labels of enrolled classes) and unknown
// ones (from classes not in the gallery) and reports AUROC and the
// decision rates at the current thresholds.
func (g *Gallery) OpenSet(known []Labelled, unknown [][]float32) (OpenSetResult, error) {
	s := g.load()
	if len(s.classes) == 0 {
		return OpenSetResult{}, fmt.Errorf("%w: empty gallery", ErrNoExemplars)
	}
	if len(known) == 0 || len(unknown) == 0 {
		return OpenSetResult{}, fmt.Errorf("%w: open-set evaluation needs known and unknown queries (%d, %d)", ErrInvalidOptions, len(known), len(unknown))
	}
	r := NewResult(1)
	res := OpenSetResult{Known: len(known), Unknown: len(unknown)}
	pos := make([]float32, 0, len(known))
	neg := make([]float32, 0, len(unknown))
	ok := 0
	for i, q := range known {
		if _, in := s.byLabel[q.Label]; !in {
			return OpenSetResult{}, fmt.Errorf("%w: known query %d has label %q", ErrUnknownClass, i, q.Label)
		}
		if err := s.matchInto(q.Embedding, r); err != nil {
			return OpenSetResult{}, fmt.Errorf("known query %d: %w", i, err)
		}
		pos = append(pos, r.Score)
		if r.Known && r.Label == q.Label {
			ok++
		}
	}
	rej := 0
	for i, q := range unknown {
		if err := s.matchInto(q, r); err != nil {
			return OpenSetResult{}, fmt.Errorf("unknown query %d: %w", i, err)
		}
		neg = append(neg, r.Score)
		if !r.Known {
			rej++
		}
	}
	res.AUROC = AUROC(pos, neg)
	res.KnownCorrect = float64(ok) / float64(len(known))
	res.UnknownRejected = float64(rej) / float64(len(unknown))
	return res, nil
}

// AUROC is the area under the ROC curve of scores where pos should rank
// above neg: the Mann–Whitney statistic, ties counted half. It is NaN when
// either list is empty.
func AUROC(pos, neg []float32) float64 {
	if len(pos) == 0 || len(neg) == 0 {
		return math.NaN()
	}
	type item struct {
		v   float32
		pos bool
	}
	all := make([]item, 0, len(pos)+len(neg))
	for _, v := range pos {
		all = append(all, item{v, true})
	}
	for _, v := range neg {
		all = append(all, item{v, false})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].v < all[j].v })
	// Sum of positive ranks with average ranks for ties.
	var rankSum float64
	for i := 0; i < len(all); {
		j := i
		for j < len(all) && all[j].v == all[i].v {
			j++
		}
		avg := float64(i+j+1) / 2 // ranks i+1..j
		for k := i; k < j; k++ {
			if all[k].pos {
				rankSum += avg
			}
		}
		i = j
	}
	np, nn := float64(len(pos)), float64(len(neg))
	return (rankSum - np*(np+1)/2) / (np * nn)
}
