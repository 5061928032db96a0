// Command beforeafter compares the speed and the peak resident memory of
// `signet bench` built from an older revision with the one built from the
// working tree, in one run: it builds both binaries, then runs them
// alternately on the same models, round after round, the order flipped
// every round, so that a shared machine's disturbances fall on both alike,
// and prints medians and ratios.
//
// It belongs to the tools/bench module; from the repository root (model
// paths are relative to it):
//
//	go -C tools/bench run ./beforeafter -rev HEAD testdata/models/signs.sgn \
//	    testdata/torchvision-full/resnet18/model.onnx
//
// A .sgn model is run as it is by both binaries; an .onnx model is converted
// by each tree's own tools/convert first (use that when the file format
// differs between the two). It needs git and the Go toolchain; see
// ../README.md.
package main

import (
	"archive/tar"
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/signet-go/signet/internal/procmem"
	"github.com/signet-go/signet/tools/bench/internal/host"
	"github.com/signet-go/signet/tools/bench/internal/repo"
)

type config struct {
	root    string
	rev     string
	rounds  int
	runs    int
	warmup  int
	threads []int
	tier    string
	models  []string
	keep    string
}

// side is one of the two builds.
type side struct {
	name   string // "before" or "after"
	tree   string // source tree it was built from
	signet string // its signet binary
	models []string
}

// sample is one `signet bench -json` run.
type sample struct {
	MedianMS float64 `json:"median_ms"`
	MinMS    float64 `json:"min_ms"`
	Memory   *struct {
		FileBytes    int64  `json:"file_bytes"`
		EngineBytes  int64  `json:"engine_bytes"`
		SessionBytes int64  `json:"session_bytes"`
		PeakRSSBytes *int64 `json:"peak_rss_bytes"`
	} `json:"memory"` // absent in builds older than the memory report
	maxRSS int64 // wait4's ru_maxrss of the process, bytes; 0 when unknown
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	cfg, err := parseConfig(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "beforeafter:", err)
		return 2
	}
	if err := compare(cfg, stdout, stderr); err != nil {
		fmt.Fprintln(stderr, "beforeafter:", err)
		return 1
	}
	return 0
}

func parseConfig(args []string, stderr io.Writer) (*config, error) {
	fs := flag.NewFlagSet("beforeafter", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: beforeafter [flags] MODEL.sgn|MODEL.onnx ...")
		fs.PrintDefaults()
	}
	root := fs.String("root", "", "repository root (default: found from the working directory)")
	rev := fs.String("rev", "HEAD", "git revision built as \"before\"; \"after\" is the working tree")
	rounds := fs.Int("rounds", 7, "rounds; each runs every model once with each binary, the order flipped every round")
	runs := fs.Int("n", 30, "timed runs per `signet bench` call")
	warmup := fs.Int("warmup", 5, "warm-up runs per `signet bench` call")
	threads := fs.String("threads", "1", "comma-separated thread counts")
	tier := fs.String("tier", "", "kernel tier passed to `signet bench -tier` (default: the best available)")
	keep := fs.String("keep", "", "build into this directory and keep it (default: a temporary directory, removed)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	cfg := &config{rev: *rev, rounds: *rounds, runs: *runs, warmup: *warmup, tier: *tier, keep: *keep, models: fs.Args()}
	switch {
	case cfg.rounds < 1:
		return nil, errors.New("-rounds must be at least 1")
	case cfg.runs < 1:
		return nil, errors.New("-n must be at least 1")
	case cfg.warmup < 0:
		return nil, errors.New("-warmup must not be negative")
	case len(cfg.models) == 0:
		fs.Usage()
		return nil, errors.New("no models given")
	}
	var err error
	if cfg.threads, err = host.Threads(*threads); err != nil {
		return nil, err
	}
	for _, m := range cfg.models {
		if ext := filepath.Ext(m); ext != ".sgn" && ext != ".onnx" {
			return nil, fmt.Errorf("%s: want a .sgn or .onnx file", m)
		}
	}
	if cfg.root, err = repo.RootOr(*root); err != nil {
		return nil, err
	}
	if cfg.root, err = filepath.Abs(cfg.root); err != nil {
		return nil, err
	}
	return cfg, nil
}

func compare(cfg *config, stdout, stderr io.Writer) error {
	work := cfg.keep
	if work == "" {
		d, err := os.MkdirTemp("", "beforeafter-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		work = d
	} else if err := os.MkdirAll(work, 0o755); err != nil {
		return err
	}
	revHash, err := gitOutput(cfg.root, "rev-parse", "--short=12", cfg.rev+"^{commit}")
	if err != nil {
		return err
	}
	oldTree := filepath.Join(work, "before-tree")
	if err := os.RemoveAll(oldTree); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "extracting %s (%s) into %s\n", cfg.rev, revHash, oldTree)
	if err := extractRev(cfg.root, cfg.rev, oldTree); err != nil {
		return err
	}
	sides := []*side{{name: "before", tree: oldTree}, {name: "after", tree: cfg.root}}
	for _, s := range sides {
		if err := s.build(cfg, work, stderr); err != nil {
			return err
		}
	}

	loadBefore := host.LoadAverage()
	started := time.Now().UTC()
	// samples[model][thread][side] collects one sample per round.
	samples := make([][][2][]sample, len(cfg.models))
	for i := range samples {
		samples[i] = make([][2][]sample, len(cfg.threads))
	}
	for round := 0; round < cfg.rounds; round++ {
		for mi := range cfg.models {
			for ti, t := range cfg.threads {
				order := []int{0, 1}
				if (round+mi+ti)%2 == 1 {
					order = []int{1, 0}
				}
				for _, si := range order {
					s := sides[si]
					fmt.Fprintf(stderr, "round %d/%d: %s %s, %d thread(s)\n", round+1, cfg.rounds, s.name, modelName(cfg.models[mi]), t)
					smp, err := s.bench(cfg, s.models[mi], t)
					if err != nil {
						return err
					}
					samples[mi][ti][si] = append(samples[mi][ti][si], smp)
				}
			}
		}
	}
	dirty, _ := gitOutput(cfg.root, "status", "--porcelain", "--untracked-files=no")
	head, _ := gitOutput(cfg.root, "rev-parse", "--short=12", "HEAD")
	state := "clean"
	if dirty != "" {
		state = fmt.Sprintf("%d tracked files changed", len(strings.Split(dirty, "\n")))
	}
	fmt.Fprintf(stdout, "- CPU: %s (%d logical CPUs)\n", cmp.Or(host.CPUModel(), runtime.GOARCH), runtime.NumCPU())
	fmt.Fprintf(stdout, "- Date: %s; load average (1 min) %s before, %s after\n", started.Format("2006-01-02 15:04 UTC"), loadBefore, host.LoadAverage())
	fmt.Fprintf(stdout, "- before: %s (%s); after: the working tree (HEAD %s, %s)\n", cfg.rev, revHash, head, state)
	tier := cfg.tier
	if tier == "" {
		tier = "best available"
	}
	fmt.Fprintf(stdout, "- %d rounds; each round runs `signet bench -n %d -warmup %d` once per binary, model and thread count, the order flipped every round; tier %s\n",
		cfg.rounds, cfg.runs, cfg.warmup, tier)
	fmt.Fprintf(stdout, "- ms: median over the rounds of each call's median (min: the smallest minimum); after/before: median over the rounds of the ratio of the two calls' medians (range: smallest and largest of those), and of their minima, the steadier figure on a busy machine; RSS: peak resident set of the process (ru_maxrss), median over the rounds\n\n")
	fmt.Fprint(stdout, formatTable(cfg, samples))
	if mem := formatMemory(cfg, samples); mem != "" {
		fmt.Fprint(stdout, "\nAs `signet bench -json` reports it (last round; builds older than its memory report have no row):\n\n"+mem)
	}
	return nil
}

// build compiles the side's signet binary and, for ONNX models, converts
// them with the side's own converter.
func (s *side) build(cfg *config, work string, stderr io.Writer) error {
	s.signet = filepath.Join(work, "signet-"+s.name)
	fmt.Fprintf(stderr, "building %s signet from %s\n", s.name, s.tree)
	if err := goBuild(s.tree, s.signet, "./tools/signet"); err != nil {
		return err
	}
	var convert string
	for i, m := range cfg.models {
		abs := m
		if !filepath.IsAbs(abs) {
			abs = filepath.Join(cfg.root, m)
		}
		if filepath.Ext(abs) != ".onnx" {
			s.models = append(s.models, abs)
			continue
		}
		if convert == "" {
			convert = filepath.Join(work, "convert-"+s.name)
			if err := goBuild(s.tree, convert, "./tools/convert"); err != nil {
				return err
			}
		}
		out := filepath.Join(work, fmt.Sprintf("%s-%d-%s.sgn", s.name, i, modelName(m)))
		cmd := exec.Command(convert, "-o", out, abs)
		if b, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("%s converter on %s: %v\n%s", s.name, m, err, b)
		}
		s.models = append(s.models, out)
	}
	return nil
}

func goBuild(dir, out, pkg string) error {
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s in %s: %v\n%s", pkg, dir, err, b)
	}
	return nil
}

func (s *side) bench(cfg *config, modelPath string, threads int) (sample, error) {
	args := []string{"bench", "-model", modelPath, "-n", strconv.Itoa(cfg.runs), "-warmup", strconv.Itoa(cfg.warmup),
		"-threads", strconv.Itoa(threads), "-json"}
	if cfg.tier != "" {
		args = append(args, "-tier", cfg.tier)
	}
	cmd := exec.Command(s.signet, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return sample{}, fmt.Errorf("%s signet bench %s: %v\n%s", s.name, modelPath, err, errb.String())
	}
	var smp sample
	if err := json.Unmarshal(out.Bytes(), &smp); err != nil {
		return sample{}, fmt.Errorf("%s signet bench %s: %v", s.name, modelPath, err)
	}
	smp.maxRSS = procmem.ChildMaxRSS(cmd.ProcessState)
	return smp, nil
}

// extractRev writes the tree of rev (git archive) into dir.
func extractRev(root, rev, dir string) error {
	cmd := exec.Command("git", "-C", root, "archive", "--format=tar", rev)
	var errb bytes.Buffer
	cmd.Stderr = &errb
	pipe, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	xerr := untar(pipe, dir)
	if xerr != nil {
		io.Copy(io.Discard, pipe)
	}
	if err := cmd.Wait(); err != nil {
		return fmt.Errorf("git archive %s: %v: %s", rev, err, strings.TrimSpace(errb.String()))
	}
	return xerr
}

// untar extracts regular files, directories and symbolic links of a tar
// stream into dir, refusing any name that would leave it.
func untar(r io.Reader, dir string) error {
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		name := filepath.FromSlash(h.Name)
		if !filepath.IsLocal(name) {
			return fmt.Errorf("archive entry %q leaves the tree", h.Name)
		}
		dst := filepath.Join(dir, name)
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(dst, 0o755); err != nil {
				return err
			}
		case tar.TypeReg:
			if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
				return err
			}
			f, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, os.FileMode(h.Mode&0o777)|0o600)
			if err != nil {
				return err
			}
			_, err = io.Copy(f, tr)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
		case tar.TypeSymlink:
			if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
				return err
			}
			if err := os.Symlink(h.Linkname, dst); err != nil {
				return err
			}
		case tar.TypeXGlobalHeader:
			// git archive's commit id comment
		default:
			return fmt.Errorf("archive entry %q has unsupported type %c", h.Name, h.Typeflag)
		}
	}
}

func gitOutput(root string, args ...string) (string, error) {
	cmd := exec.Command("git", append([]string{"-C", root}, args...)...)
	b, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return "", fmt.Errorf("git %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(ee.Stderr)))
		}
		return "", fmt.Errorf("git %s: %v", strings.Join(args, " "), err)
	}
	return strings.TrimSpace(string(b)), nil
}

// modelName turns x/resnet18/model.onnx into resnet18 and x/signs.sgn into
// signs.
func modelName(path string) string {
	base := filepath.Base(path)
	stem := strings.TrimSuffix(base, filepath.Ext(base))
	if stem == "model" {
		return filepath.Base(filepath.Dir(path))
	}
	return stem
}

func formatTable(cfg *config, samples [][][2][]sample) string {
	var b strings.Builder
	b.WriteString("| model | threads | before ms (median / min) | after ms (median / min) | after/before, medians | per-round range | after/before, minima | before peak RSS MB | after peak RSS MB |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for mi, m := range cfg.models {
		for ti, t := range cfg.threads {
			before, after := samples[mi][ti][0], samples[mi][ti][1]
			ratios := roundRatios(before, after, func(s sample) float64 { return s.MedianMS })
			minRatios := roundRatios(before, after, func(s sample) float64 { return s.MinMS })
			fmt.Fprintf(&b, "| %s | %d | %.3f / %.3f | %.3f / %.3f | %.3f× | %.3f – %.3f | %.3f× | %s | %s |\n",
				modelName(m), t,
				median(field(before, func(s sample) float64 { return s.MedianMS })), minOf(field(before, func(s sample) float64 { return s.MinMS })),
				median(field(after, func(s sample) float64 { return s.MedianMS })), minOf(field(after, func(s sample) float64 { return s.MinMS })),
				median(ratios), minOf(ratios), maxOf(ratios), median(minRatios), rssMB(before), rssMB(after))
		}
	}
	return b.String()
}

// formatMemory lists the memory figures each binary reported about itself,
// from the last round: the file, the engine's accounting, and its peak RSS
// over (file + session), the weights-held-once target's ratio.
func formatMemory(cfg *config, samples [][][2][]sample) string {
	var b strings.Builder
	for mi, m := range cfg.models {
		for ti, t := range cfg.threads {
			for si, name := range []string{"before", "after"} {
				ss := samples[mi][ti][si]
				if len(ss) == 0 || ss[len(ss)-1].Memory == nil {
					continue
				}
				mem := ss[len(ss)-1].Memory
				if b.Len() == 0 {
					b.WriteString("| model | threads | build | file MB | engine MB (weights + session) | session MB | peak RSS MB | peak RSS / (file + session) |\n")
					b.WriteString("|---|---:|---|---:|---:|---:|---:|---:|\n")
				}
				peak, ratio := "n/a", "n/a"
				if mem.PeakRSSBytes != nil {
					peak = fmt.Sprintf("%.1f", float64(*mem.PeakRSSBytes)/1e6)
					if d := mem.FileBytes + mem.SessionBytes; d > 0 {
						ratio = fmt.Sprintf("%.2f", float64(*mem.PeakRSSBytes)/float64(d))
					}
				}
				fmt.Fprintf(&b, "| %s | %d | %s | %.1f | %.1f | %.1f | %s | %s |\n", modelName(m), t, name,
					float64(mem.FileBytes)/1e6, float64(mem.EngineBytes)/1e6, float64(mem.SessionBytes)/1e6, peak, ratio)
			}
		}
	}
	return b.String()
}

// roundRatios is after/before of a figure (median or minimum) of each
// round's two calls.
func roundRatios(before, after []sample, f func(sample) float64) []float64 {
	n := min(len(before), len(after))
	out := make([]float64, 0, n)
	for i := 0; i < n; i++ {
		if b := f(before[i]); b > 0 {
			out = append(out, f(after[i])/b)
		}
	}
	return out
}

func field(ss []sample, f func(sample) float64) []float64 {
	out := make([]float64, len(ss))
	for i, s := range ss {
		out[i] = f(s)
	}
	return out
}

// rssMB is the median peak RSS over the rounds: the process's ru_maxrss, or
// what the binary itself reported when wait4 gave none.
func rssMB(ss []sample) string {
	var v []float64
	for _, s := range ss {
		switch {
		case s.maxRSS > 0:
			v = append(v, float64(s.maxRSS))
		case s.Memory != nil && s.Memory.PeakRSSBytes != nil:
			v = append(v, float64(*s.Memory.PeakRSSBytes))
		}
	}
	if len(v) == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.1f", median(v)/1e6)
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func minOf(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	return slices.Min(v)
}

func maxOf(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	return slices.Max(v)
}
