package main

import (
	"fmt"

	"github.com/signet-go/signet/gallery"
)

type evalResult struct {
	Data        string  `json:"data"`
	Model       string  `json:"model"`
	Classes     int     `json:"classes"`
	Images      int     `json:"images"`
	Ways        int     `json:"ways"`
	Shots       int     `json:"shots"`
	Queries     int     `json:"queries"`
	Episodes    int     `json:"episodes"`
	UnknownWays int     `json:"unknown_ways,omitempty"`
	Seed        uint64  `json:"seed"`
	Mode        string  `json:"mode"`
	Accuracy    float64 `json:"accuracy"`
	Accuracy95  float64 `json:"accuracy95"`
	AUROC       float64 `json:"auroc,omitempty"`
	AUROC95     float64 `json:"auroc95,omitempty"`
}

func cmdEval(e *env, args []string) error {
	fs := newFlagSet(e, "eval")
	modelPath := fs.String("model", "", "model file (.sgn), required")
	data := fs.String("data", "", "dataset folder with one sub-folder of images per class, required")
	ways := fs.Int("ways", 5, "N: classes per episode")
	shots := fs.Int("shots", 1, "K: enrolled exemplars per class")
	queries := fs.Int("queries", 5, "queries per class and episode")
	episodes := fs.Int("episodes", 100, "number of episodes")
	seed := fs.Uint64("seed", 1, "seed of the episode sampler")
	open := fs.Bool("open", false, "add never-enrolled classes to each episode and report open-set AUROC")
	unknownWays := fs.Int("unknown-ways", 0, "never-enrolled classes per episode with -open (default: as many as -ways, fewer if the data has fewer)")
	mode := fs.String("mode", "mean", "prototype mode: mean, multi or knn")
	k := fs.Int("k", 3, "prototypes per class in multi mode")
	threads := fs.Int("threads", 1, "threads per inference")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	if err := requireFlags(fs, "model", "data"); err != nil {
		return err
	}
	switch {
	case *ways < 1 || *shots < 1 || *queries < 1 || *episodes < 1:
		return usagef("-ways, -shots, -queries and -episodes must be at least 1")
	case *unknownWays < 0 || (*unknownWays > 0 && !*open):
		return usagef("-unknown-ways needs -open and must not be negative")
	case *threads < 1:
		return usagef("-threads must be at least 1")
	}
	m, err := parseMode(*mode)
	if err != nil {
		return err
	}
	labels, files, err := classFolders(*data)
	if err != nil {
		return err
	}
	need := *shots + *queries
	eligible := 0
	for _, l := range labels {
		if len(files[l]) >= need {
			eligible++
		}
	}
	if eligible < *ways {
		return fmt.Errorf("%s: %d of %d classes have at least %d images (shots+queries); %d-way episodes need %d", *data, eligible, len(labels), need, *ways, *ways)
	}
	cfg := gallery.EpisodeConfig{Ways: *ways, Shots: *shots, Queries: *queries, Episodes: *episodes, Seed: *seed, Mode: m, K: *k}
	if *open {
		cfg.UnknownWays = *unknownWays
		if cfg.UnknownWays == 0 {
			cfg.UnknownWays = min(*ways, eligible-*ways)
		}
		if cfg.UnknownWays < 1 || *ways+cfg.UnknownWays > eligible {
			return fmt.Errorf("%s: open-set episodes need %d known + at least 1 unknown classes with %d+ images, the data has %d", *data, *ways, need, eligible)
		}
	}
	enc, err := openEncoder(*modelPath, *threads)
	if err != nil {
		return err
	}
	defer enc.Close()
	ds, err := labelledFolder(e, enc, *data)
	if err != nil {
		return err
	}
	res, err := gallery.Episodes(ds, cfg)
	if err != nil {
		return err
	}
	out := evalResult{Data: *data, Model: *modelPath, Classes: len(labels), Images: len(ds), Ways: cfg.Ways, Shots: cfg.Shots,
		Queries: cfg.Queries, Episodes: res.Episodes, UnknownWays: cfg.UnknownWays, Seed: cfg.Seed, Mode: m.String(),
		Accuracy: res.Accuracy, Accuracy95: res.Accuracy95, AUROC: res.AUROC, AUROC95: res.AUROC95}
	if *asJSON {
		return printJSON(e, out)
	}
	fmt.Fprintf(e.stdout, "%s: %d classes, %d images\n", out.Data, out.Classes, out.Images)
	fmt.Fprintf(e.stdout, "%d-way %d-shot, %d queries per class, %d episodes (seed %d, %s prototypes)\n",
		out.Ways, out.Shots, out.Queries, out.Episodes, out.Seed, out.Mode)
	fmt.Fprintf(e.stdout, "accuracy     %.2f%% ± %.2f%% (95%% interval)\n", 100*out.Accuracy, 100*out.Accuracy95)
	if *open {
		fmt.Fprintf(e.stdout, "open-set     AUROC %.4f ± %.4f (%d unknown classes per episode)\n", out.AUROC, out.AUROC95, out.UnknownWays)
	}
	return nil
}
