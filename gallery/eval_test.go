package gallery

import (
	"errors"
	"fmt"
	"math"
	"testing"
)

func TestAUROC(t *testing.T) {
	cases := []struct {
		pos, neg []float32
		want     float64
	}{
		{[]float32{0.9, 0.8}, []float32{0.1, 0.2}, 1},
		{[]float32{0.1}, []float32{0.9}, 0},
		{[]float32{0.5, 0.5}, []float32{0.5}, 0.5},
		{[]float32{0.5, 0.3}, []float32{0.4, 0.3}, 0.625}, // 1+1+0+½ of 4 pairs
	}
	for _, c := range cases {
		if got := AUROC(c.pos, c.neg); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("AUROC(%v, %v) = %v, want %v", c.pos, c.neg, got, c.want)
		}
	}
	if !math.IsNaN(AUROC(nil, []float32{1})) {
		t.Error("empty positives should give NaN")
	}
}

func labelled(cl *clusters, classes, per int, spread float64) []Labelled {
	var out []Labelled
	for c := 0; c < classes; c++ {
		for i := 0; i < per; i++ {
			out = append(out, Labelled{Label: fmt.Sprint("c", c), Embedding: cl.sample(c, spread)})
		}
	}
	return out
}

func TestEpisodesKnownAnswers(t *testing.T) {
	// Tight, separated clusters: every query is right, every unknown scores
	// below every known.
	easy := labelled(newClusters(50, 64, 20), 20, 12, 0.1)
	cfg := EpisodeConfig{Ways: 5, Shots: 1, Queries: 5, Episodes: 50, UnknownWays: 5, Seed: 1}
	for _, mode := range []Mode{MeanPrototype, MultiPrototype, KNN} {
		cfg.Mode, cfg.K = mode, 2
		r, err := Episodes(easy, cfg)
		if err != nil {
			t.Fatal(err)
		}
		if r.Accuracy != 1 || r.Accuracy95 != 0 || r.AUROC != 1 {
			t.Fatalf("%v: separated clusters: %+v", mode, r)
		}
	}
	// Labels unrelated to the embeddings: accuracy must be chance (1/5) and
	// AUROC 0.5 within the reported interval (with slack for 3 sigma).
	cl := newClusters(51, 32, 1)
	var noise []Labelled
	for c := 0; c < 20; c++ {
		for i := 0; i < 12; i++ {
			noise = append(noise, Labelled{Label: fmt.Sprint(c), Embedding: cl.randomUnit()})
		}
	}
	cfg = EpisodeConfig{Ways: 5, Shots: 3, Queries: 5, Episodes: 400, UnknownWays: 5, Seed: 2}
	r, err := Episodes(noise, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("random labels: %+v", r)
	if math.Abs(r.Accuracy-0.2) > 1.5*r.Accuracy95 || r.Accuracy95 <= 0 {
		t.Fatalf("chance accuracy: %+v", r)
	}
	if math.Abs(r.AUROC-0.5) > 1.5*r.AUROC95 {
		t.Fatalf("chance AUROC: %+v", r)
	}
	// Deterministic by seed; a different seed draws different episodes.
	again, _ := Episodes(noise, cfg)
	if again != r {
		t.Fatal("same seed, different result")
	}
	cfg.Seed = 3
	if other, _ := Episodes(noise, cfg); other == r {
		t.Fatal("different seeds gave identical results")
	}
	// More shots help on overlapping clusters.
	hard := labelled(newClusters(52, 32, 10), 10, 30, 1.5)
	one, _ := Episodes(hard, EpisodeConfig{Ways: 5, Shots: 1, Queries: 10, Episodes: 200, Seed: 4})
	five, _ := Episodes(hard, EpisodeConfig{Ways: 5, Shots: 10, Queries: 10, Episodes: 200, Seed: 4})
	t.Logf("overlapping clusters: 1-shot %+v, 10-shot %+v", one, five)
	if !(one.Accuracy < five.Accuracy && one.Accuracy > 0.2) {
		t.Fatalf("1-shot %v, 10-shot %v", one.Accuracy, five.Accuracy)
	}
	if _, err := Episodes(easy, EpisodeConfig{Ways: 30, Shots: 1, Queries: 1, Episodes: 1}); !errors.Is(err, ErrInvalidOptions) {
		t.Fatalf("too many ways: %v", err)
	}
	if _, err := Episodes(nil, EpisodeConfig{Ways: 1, Shots: 1, Queries: 1, Episodes: 1}); !errors.Is(err, ErrNoExemplars) {
		t.Fatalf("no data: %v", err)
	}
}

func TestOpenSet(t *testing.T) {
	cl := newClusters(53, 64, 10)
	g := mustNew(t, 64, noHoldout())
	for c := 0; c < 5; c++ {
		g.AddClass(fmt.Sprint("c", c), nil, cl.exemplars(c, 3, 0.5, ""))
	}
	known := labelled(cl, 5, 10, 0.5)
	var unknown [][]float32
	for c := 5; c < 10; c++ {
		for i := 0; i < 10; i++ {
			unknown = append(unknown, cl.sample(c, 0.5))
		}
	}
	r, err := g.OpenSet(known, unknown)
	if err != nil {
		t.Fatal(err)
	}
	if r.AUROC != 1 || r.KnownCorrect != 1 || r.UnknownRejected != 1 || r.Known != 50 || r.Unknown != 50 {
		t.Fatalf("%+v", r)
	}
	// Raise the threshold above every score: known queries turn Unknown.
	g.SetThreshold(maxThreshold)
	if r, _ = g.OpenSet(known, unknown); r.KnownCorrect != 0 || r.AUROC != 1 {
		t.Fatalf("threshold above 1: %+v", r)
	}
	if _, err := g.OpenSet(known, nil); !errors.Is(err, ErrInvalidOptions) {
		t.Fatalf("no unknowns: %v", err)
	}
	if _, err := g.OpenSet([]Labelled{{Label: "nope", Embedding: cl.sample(0, 0)}}, unknown); !errors.Is(err, ErrUnknownClass) {
		t.Fatalf("unknown label: %v", err)
	}
}
