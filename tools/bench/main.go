// Command bench runs the same ONNX models through signet and through ONNX
// Runtime's CPU execution provider in one process, alternating the two in
// blocks of runs so that both see the same machine state (clock, neighbours), and
// prints latency, throughput and output agreement side by side.
//
// It lives in its own module because ONNX Runtime is reached through cgo,
// which the signet module itself never uses. See README.md and run.sh.
package main

import (
	"cmp"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/signet-go/signet/internal/npy"
	"github.com/signet-go/signet/tools/bench/internal/host"
	"github.com/signet-go/signet/tools/bench/internal/repo"
)

type config struct {
	root      string
	models    []string
	threads   []int
	runs      int
	warmup    int
	ortLib    string
	ortSpin   bool
	block     int
	lead      time.Duration
	cosMin    float64
	absRel    float64
	markdown  string
	command   string
	rss       bool
	int8      bool   // also time signet's int8 quantisation of each model
	calib     string // calibration images for -int8
	calibN    int
	ranges    string // folder for the int8 activation ranges (-int8-ranges)
	ortGraphs string // folder for ONNX Runtime's optimised graphs (-ort-graphs)
	startup   bool   // time start-up (open to first result) instead of inference (-startup)
}

// result is one (model, thread count) measurement.
type result struct {
	Model        string
	InputShape   []int
	Threads      int
	GFLOP        float64
	Signet, ORT  timing
	MaxAbsDiff   float64
	MaxAbsRef    float64
	Cosine       float64
	Agree        bool
	SignetTiers  map[string]int
	PyTorchCheck string      // agreement of signet with the exporter's reference output, when present
	ORTMemory    *ortMemory  // ONNX Runtime's resident memory in a process of its own (-rss)
	Int8         *int8Result // signet int8 (-int8)
}

type timing struct {
	Median, P90, Min time.Duration
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == rssChildCommand {
		os.Exit(rssChild(os.Args[2:], os.Stdout, os.Stderr))
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	cfg, err := parseConfig(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return 2
	}
	version, err := initORT(cfg.ortLib)
	if err != nil {
		fmt.Fprintf(stderr, "bench: loading ONNX Runtime from %q: %v\n", cfg.ortLib, err)
		return 1
	}
	if cfg.startup {
		return runStartup(cfg, version, stdout, stderr)
	}
	loadBefore := host.LoadAverage()
	var results []result
	failed := false
	for _, path := range cfg.models {
		var q *int8Model
		if cfg.int8 {
			fmt.Fprintf(stderr, "%s: quantising ...\n", displayName(cfg.root, path))
			if q, err = quantizeModel(cfg, path); err != nil {
				fmt.Fprintf(stderr, "bench: %s: %v\n", path, err)
				failed = true
				continue
			}
			if cfg.ranges != "" {
				if err := writeRanges(cfg.ranges, path, q); err != nil {
					fmt.Fprintf(stderr, "bench: %s: %v\n", path, err)
					failed = true
				}
			}
		}
		for _, t := range cfg.threads {
			fmt.Fprintf(stderr, "%s, %d thread(s) ...\n", displayName(cfg.root, path), t)
			r, err := benchModel(cfg, path, t, q)
			if err != nil {
				fmt.Fprintf(stderr, "bench: %s: %v\n", path, err)
				failed = true
				continue
			}
			if !r.Agree {
				fmt.Fprintf(stderr, "bench: %s: OUTPUTS DISAGREE: max |signet-ORT| = %.3g (max |ORT| = %.3g), cosine = %.7f\n",
					path, r.MaxAbsDiff, r.MaxAbsRef, r.Cosine)
				failed = true
			}
			results = append(results, r)
		}
	}
	env := describeEnv(version) + fmt.Sprintf("\nLoad average (1 min) of the machine: %s before the runs, %s after", loadBefore, host.LoadAverage())
	table := formatTable(cfg, results)
	fmt.Fprintln(stdout, env)
	fmt.Fprintln(stdout, table)
	if cfg.markdown != "" && len(results) > 0 {
		begin, end := cfg.markers()
		failed = !writeSection(cfg, formatSection(cfg, env, table), begin, end, stderr) || failed
	}
	if failed {
		return 1
	}
	return 0
}

// writeSection puts section into cfg.markdown between begin and end and
// says so on stderr; false when it could not.
func writeSection(cfg *config, section, begin, end string, stderr io.Writer) bool {
	if err := updateMarkdown(cfg.markdown, section, begin, end); err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return false
	}
	fmt.Fprintf(stderr, "updated %s\n", cfg.markdown)
	return true
}

func parseConfig(args []string, stderr io.Writer) (*config, error) {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	root := fs.String("root", "", "signet repository root (default: found from the working directory)")
	models := fs.String("models", "", "comma-separated ONNX files, relative to -root (default: the standard set, see README.md)")
	threads := fs.String("threads", "1,2", "comma-separated thread counts; each model is measured at each")
	runs := fs.Int("n", 40, "timed runs per engine (alternating signet/ORT); at least 30")
	warmup := fs.Int("warmup", 5, "untimed runs per engine before timing")
	ortLib := fs.String("ort-lib", os.Getenv("ONNXRUNTIME_LIB"), "path to libonnxruntime.so (default $ONNXRUNTIME_LIB)")
	ortSpin := fs.Bool("ort-spin", true, "let ONNX Runtime's intra-op threads spin between parallel sections (its default)")
	block := fs.Int("block", 10, "timed runs per engine in a row before switching to the other (each block starts with -lead of untimed runs)")
	lead := fs.Duration("lead", 200*time.Millisecond, "untimed runs at the start of each block, at least this long")
	cosMin := fs.Float64("min-cosine", 0.9999, "fail when the cosine similarity of the outputs is below this")
	absRel := fs.Float64("max-abs", 1e-3, "fail when max |signet-ORT| exceeds this times max(1, max |ORT|)")
	md := fs.String("markdown", "", "write the results into this Markdown file between the bench markers")
	command := fs.String("command", "", "command line to record in the Markdown section (default: this invocation)")
	rss := fs.Bool("rss", true, "also measure ONNX Runtime's peak resident memory for each model and thread count, in a process of its own")
	int8On := fs.Bool("int8", false, "also quantise each model to int8 with signet's quantiser and time it in the same alternation (the Markdown section is then the int8 one)")
	calib := fs.String("calib", "testdata/signs-calib", "calibration images for -int8 (PNG or JPEG), relative to -root")
	calibN := fs.Int("calib-n", 32, "calibration images to use for -int8, spread evenly over the folder")
	ortGraphs := fs.String("ort-graphs", "", "write the graph ONNX Runtime optimised for each model into this folder (which kernels it fused)")
	ranges := fs.String("int8-ranges", "", "with -int8, write each model's activation ranges as JSON into this folder (for tools/bench/qdq_onnx.py)")
	startup := fs.Bool("startup", false, "time start-up instead: opening the model to the first result, -n times per engine, alternating (the Markdown section is then the start-up one)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	cfg := &config{runs: *runs, warmup: *warmup, ortLib: *ortLib, ortSpin: *ortSpin, block: *block, lead: *lead, cosMin: *cosMin, absRel: *absRel, markdown: *md, command: *command, rss: *rss, int8: *int8On, calib: *calib, calibN: *calibN, ranges: *ranges, ortGraphs: *ortGraphs, startup: *startup}
	if cfg.runs < 30 {
		return nil, errors.New("-n must be at least 30")
	}
	if cfg.warmup < 1 {
		return nil, errors.New("-warmup must be at least 1")
	}
	if cfg.block < 1 {
		return nil, errors.New("-block must be at least 1")
	}
	if cfg.ortLib == "" {
		return nil, errors.New("no ONNX Runtime library: pass -ort-lib or set ONNXRUNTIME_LIB (run.sh does both)")
	}
	var err error
	if cfg.threads, err = host.Threads(*threads); err != nil {
		return nil, err
	}
	if cfg.root, err = repo.RootOr(*root); err != nil {
		return nil, err
	}
	if !filepath.IsAbs(cfg.calib) {
		cfg.calib = filepath.Join(cfg.root, cfg.calib)
	}
	if cfg.calibN < 1 {
		return nil, errors.New("-calib-n must be at least 1")
	}
	if *models != "" {
		for _, m := range strings.Split(*models, ",") {
			m = strings.TrimSpace(m)
			if !filepath.IsAbs(m) {
				m = filepath.Join(cfg.root, m)
			}
			cfg.models = append(cfg.models, m)
		}
	} else {
		cfg.models = defaultModels(cfg.root)
	}
	for _, m := range cfg.models {
		if _, err := os.Stat(m); err != nil {
			return nil, fmt.Errorf("%v (the full-size models come from: python3 tools/testdata-gen/export_torchvision.py --full)", err)
		}
	}
	if cfg.command == "" {
		cfg.command = "go run ./tools/bench " + strings.Join(args, " ")
	}
	return cfg, nil
}

// defaultModels is the standard comparison set: six ImageNet networks at
// 224×224 (plain and bottleneck residual, inverted residual with and
// without squeeze-excite and hard-swish, fire modules) and the embedding
// encoder signet ships (or, before it exists, a VGG-style encoder of the
// same shape class).
func defaultModels(root string) []string {
	var ms []string
	for _, n := range fullSizeModels {
		ms = append(ms, "testdata/torchvision-full/"+n+"/model.onnx")
	}
	if _, err := os.Stat(filepath.Join(root, "testdata/models/signs.onnx")); err == nil {
		ms = append(ms, "testdata/models/signs.onnx")
	} else {
		ms = append(ms, "testdata/torchvision/vgg_l2/model.onnx")
	}
	for i := range ms {
		ms[i] = filepath.Join(root, ms[i])
	}
	return ms
}

// fullSizeModels are the torchvision networks of the standard set, as
// export_torchvision.py --full names them (run.sh exports the missing ones).
var fullSizeModels = []string{"resnet18", "resnet50", "mobilenet_v2", "mobilenet_v3_small", "efficientnet_b0", "squeezenet1_1"}

func displayName(root, path string) string {
	if rel, err := filepath.Rel(root, path); err == nil {
		return rel
	}
	return path
}

func benchModel(cfg *config, path string, threads int, q *int8Model) (result, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return result{}, err
	}
	name := displayName(cfg.root, path)
	sg, err := newSignet(data, name, threads)
	if err != nil {
		return result{}, err
	}
	defer sg.Close()
	input, ref, err := modelInput(path, sg.InputShape())
	if err != nil {
		return result{}, err
	}
	if err := sg.SetInput(input); err != nil {
		return result{}, err
	}
	src := ortSource{data: data}
	if cfg.ortGraphs != "" {
		src.optimized = filepath.Join(cfg.ortGraphs, shortName(path)+".ort.onnx")
	}
	or, err := newORT(src, threads, cfg.ortSpin, input)
	if err != nil {
		return result{}, fmt.Errorf("onnxruntime: %w", err)
	}
	defer or.Close()
	// The engines in the order of the first block: signet, ONNX Runtime,
	// then signet int8 when asked.
	engines := []*timedEngine{{name: "signet", run: sg.Run}, {name: "onnxruntime", run: or.Run}}
	var sq *signetRunner
	if q != nil {
		if sq, err = newSignetModel(q.model, threads); err != nil {
			return result{}, fmt.Errorf("int8: %w", err)
		}
		defer sq.Close()
		if err := sq.SetInput(input); err != nil {
			return result{}, err
		}
		engines = append(engines, &timedEngine{name: "signet int8", run: sq.Run})
	}

	for i := 0; i < cfg.warmup; i++ {
		for _, e := range engines {
			if err := e.run(); err != nil {
				return result{}, fmt.Errorf("%s: %w", e.name, err)
			}
		}
	}
	r := result{Model: name, InputShape: sg.InputShape(), Threads: threads, GFLOP: sg.gflop, SignetTiers: sg.tiers}
	r.MaxAbsDiff, r.MaxAbsRef, r.Cosine, err = compare(sg.Output(), or.Output())
	if err != nil {
		return result{}, err
	}
	r.Agree = r.Cosine >= cfg.cosMin && r.MaxAbsDiff <= cfg.absRel*math.Max(1, r.MaxAbsRef)
	if ref != nil {
		d, _, c, err := compare(sg.Output(), ref)
		if err != nil {
			r.PyTorchCheck = err.Error()
		} else {
			r.PyTorchCheck = fmt.Sprintf("max abs %.2g, cosine %.6f", d, c)
		}
	}

	if sq != nil {
		r.Int8 = &int8Result{int8Model: q, Int8FLOPs: sq.int8}
		if _, _, r.Int8.CosineFP32, err = compare(sq.Output(), sg.Output()); err != nil {
			return result{}, fmt.Errorf("int8: %w", err)
		}
		if _, _, r.Int8.CosineORT, err = compare(sq.Output(), or.Output()); err != nil {
			return result{}, fmt.Errorf("int8: %w", err)
		}
		if r.Int8.AllocsInt8, err = sq.allocsPerRun(3 * cfg.block); err != nil {
			return result{}, err
		}
		if r.Int8.AllocsFP32, err = sg.allocsPerRun(3 * cfg.block); err != nil {
			return result{}, err
		}
	}

	// The engines alternate in blocks of back-to-back runs, each block led
	// by untimed runs: all keep their worker threads spinning for a
	// while after a run (ONNX Runtime with spinning on, signet for a fraction
	// of a millisecond), and run-by-run alternation would time each engine
	// while the other's threads still hold the cores. Within a block an
	// engine runs as it would on a stream of frames. The order rotates
	// from block to block, so that each engine leads in turn.
	timeBlock := func(run func() error, dst *[]time.Duration, n int) error {
		// Untimed lead-in runs for at least cfg.lead: long enough for the
		// other engine's spinning threads to give up the cores.
		for t0 := time.Now(); ; {
			if err := run(); err != nil {
				return err
			}
			if time.Since(t0) >= cfg.lead {
				break
			}
		}
		for k := 0; k < n; k++ {
			t0 := time.Now()
			if err := run(); err != nil {
				return err
			}
			*dst = append(*dst, time.Since(t0))
		}
		return nil
	}
	for b := 0; len(engines[0].times) < cfg.runs; b++ {
		n := min(cfg.block, cfg.runs-len(engines[0].times))
		for k := range engines {
			e := engines[(b+k)%len(engines)]
			if err := timeBlock(e.run, &e.times, n); err != nil {
				return result{}, fmt.Errorf("%s: %w", e.name, err)
			}
		}
	}
	r.Signet, r.ORT = summarize(engines[0].times), summarize(engines[1].times)
	if r.Int8 != nil {
		r.Int8.Timing = summarize(engines[2].times)
	}
	if cfg.rss {
		inName, outName, inShape, outShape, err := ortShapes(data)
		if err != nil {
			return result{}, err
		}
		m, err := measureORTMemory(cfg, path, threads, inName, outName, inShape, outShape)
		if err != nil {
			return result{}, err
		}
		r.ORTMemory = &m
	}
	return r, nil
}

// timedEngine is one engine of the alternation and its timed runs.
type timedEngine struct {
	name  string
	run   func() error
	times []time.Duration
}

// modelInput returns the input the exporter saved beside the model
// (input_0.npy) and its reference output (output_0.npy) when present, else a
// fixed pseudo-random tensor with the statistics of a normalised image.
func modelInput(path string, shape []int) (input, ref []float32, err error) {
	dir := filepath.Dir(path)
	if s, x, err := npy.ReadFile(filepath.Join(dir, "input_0.npy")); err == nil {
		if !slices.Equal(s, shape) {
			return nil, nil, fmt.Errorf("input_0.npy has shape %v, the model takes %v", s, shape)
		}
		if _, y, err := npy.ReadFile(filepath.Join(dir, "output_0.npy")); err == nil {
			ref = y
		}
		return x, ref, nil
	}
	n := 1
	for _, d := range shape {
		n *= d
	}
	rng := rand.New(rand.NewPCG(7, 11))
	input = make([]float32, n)
	for i := range input {
		input[i] = float32(rng.NormFloat64())
	}
	return input, nil, nil
}

// compare returns max |a-b|, max |b| and the cosine similarity of a and b.
func compare(a, b []float32) (maxAbs, maxRef, cosine float64, err error) {
	if len(a) != len(b) {
		return 0, 0, 0, fmt.Errorf("output lengths differ: signet %d, reference %d", len(a), len(b))
	}
	var dot, na, nb float64
	for i := range a {
		x, y := float64(a[i]), float64(b[i])
		if math.IsNaN(x) || math.IsNaN(y) {
			return math.NaN(), 0, math.NaN(), fmt.Errorf("NaN in output at %d", i)
		}
		maxAbs = math.Max(maxAbs, math.Abs(x-y))
		maxRef = math.Max(maxRef, math.Abs(y))
		dot += x * y
		na += x * x
		nb += y * y
	}
	if na == 0 || nb == 0 {
		if na == nb {
			return maxAbs, maxRef, 1, nil
		}
		return maxAbs, maxRef, 0, nil
	}
	return maxAbs, maxRef, dot / math.Sqrt(na*nb), nil
}

func summarize(ds []time.Duration) timing {
	s := slices.Clone(ds)
	slices.Sort(s)
	return timing{Median: percentile(s, 50), P90: percentile(s, 90), Min: s[0]}
}

// percentile is the nearest-rank percentile of sorted durations.
func percentile(sorted []time.Duration, p float64) time.Duration {
	rank := int(math.Ceil(p/100*float64(len(sorted)))) - 1
	return sorted[max(0, min(rank, len(sorted)-1))]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func describeEnv(ortVersion string) string {
	return fmt.Sprintf("CPU: %s (%d logical CPUs; %s)\nDate: %s\nGo: %s %s/%s\nONNX Runtime: %s (CPU execution provider)",
		cmp.Or(host.CPUModel(), "unknown"), runtime.NumCPU(), cpuFeatures(), time.Now().UTC().Format("2006-01-02 15:04 UTC"),
		runtime.Version(), runtime.GOOS, runtime.GOARCH, ortVersion)
}

// cpuFeatures lists the SIMD features that decide which kernels either engine
// can use.
func cpuFeatures() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "features unknown"
	}
	var have []string
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok || (strings.TrimSpace(k) != "flags" && strings.TrimSpace(k) != "Features") {
			continue
		}
		flags := strings.Fields(v)
		for _, f := range []string{"avx2", "fma", "avx512f", "avx512_vnni", "asimd", "asimddp"} {
			if slices.Contains(flags, f) {
				have = append(have, f)
			}
		}
		break
	}
	if len(have) == 0 {
		return "no SIMD features of interest"
	}
	return strings.Join(have, " ")
}
