package main

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/signet-go/signet/engine"
	"github.com/signet-go/signet/internal/procmem"
	"github.com/signet-go/signet/internal/textsafe"
	"github.com/signet-go/signet/kernels"
)

type benchLayer struct {
	Name   string `json:"name"`
	Op     string `json:"op"`
	Kernel string `json:"kernel"`
	Tier   string `json:"tier"`
	FLOPs  int64  `json:"flops"`
	Bytes  int64  `json:"bytes"` // engine.LayerInfo.Bytes: activations in and out, weights
	// With -layers: the layer's median wall time over the profiling runs,
	// its share of the sum of all layers' medians, and the rates at it.
	MedianUS *float64 `json:"median_us,omitempty"`
	Share    *float64 `json:"share,omitempty"`
	GFLOPS   *float64 `json:"gflops,omitempty"`
	GBPS     *float64 `json:"gbytes_per_s,omitempty"`
}

type benchReport struct {
	Model          string       `json:"model"`
	Fingerprint    string       `json:"fingerprint"`
	Threads        int          `json:"threads"`
	RequestedTier  string       `json:"requested_tier,omitempty"`
	Runs           int          `json:"runs"`
	Warmup         int          `json:"warmup"`
	MedianMS       float64      `json:"median_ms"`
	P90MS          float64      `json:"p90_ms"`
	P99MS          float64      `json:"p99_ms"`
	MinMS          float64      `json:"min_ms"`
	GFLOP          float64      `json:"gflop"`
	GFLOPS         float64      `json:"gflops_at_median"`
	AllocsPerRun   float64      `json:"allocs_per_run"`
	BytesPerRun    float64      `json:"bytes_per_run"`
	Layers         []benchLayer `json:"layers"`
	AvailableTiers []string     `json:"available_tiers"`
	Memory         benchMemory  `json:"memory"`
	// LoadMS is engine.Load (read, check, plan, pack); StartupMS is from
	// the start of engine.Load to the first inference's result (session
	// creation and that first run included), measured once.
	LoadMS    float64 `json:"load_ms"`
	StartupMS float64 `json:"startup_ms"`
}

// benchMemory sets the process's resident memory beside what the model
// should cost: the file and the engine's own accounting, all from the same
// run. RSS fields are null where the system reports none (RSSSource "n/a").
type benchMemory struct {
	FileBytes    int64 `json:"file_bytes"`    // size of the model file
	EngineBytes  int64 `json:"engine_bytes"`  // Engine.MemoryBytes: packed weights and constants plus one session
	SessionBytes int64 `json:"session_bytes"` // Engine.SessionBytes: activation arena, scratch and outputs of one session
	// PeakRSSBytes is the process's peak resident set over the whole run
	// (loading, planning, warm-up and timed runs): VmHWM, or ru_maxrss.
	PeakRSSBytes *int64 `json:"peak_rss_bytes"`
	// BaselineRSSBytes is the resident set before the model was opened:
	// the Go runtime and the binary, which any model pays.
	BaselineRSSBytes *int64 `json:"baseline_rss_bytes,omitempty"`
	// EndRSSBytes is the resident set after the last run (Linux only).
	EndRSSBytes *int64 `json:"end_rss_bytes,omitempty"`
	RSSSource   string `json:"rss_source"`
	// PeakRatio is PeakRSSBytes / (FileBytes + SessionBytes), the figure
	// the weights-held-once target (at most 1.3) is stated in.
	PeakRatio *float64 `json:"peak_rss_over_file_plus_arena"`
}

func cmdBench(e *env, args []string) error {
	fs := newFlagSet(e, "bench")
	modelPath := fs.String("model", "", "model file (.sgn), required")
	threads := fs.Int("threads", 1, "threads per inference")
	n := fs.Int("n", 100, "number of timed runs")
	warmup := fs.Int("warmup", 5, "untimed runs before timing")
	tierName := fs.String("tier", "", "force a kernel tier: generic, avx2, avx512 or neon (default: best available)")
	asJSON := fs.Bool("json", false, "print the report as one JSON object")
	perLayer := fs.Bool("layers", false, "after the timed runs, profile -n more runs layer by layer (median time, share, GFLOP/s and GB/s per layer)")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	switch {
	case *modelPath == "":
		return usagef("-model is required")
	case len(rest) > 0:
		return usagef("unexpected arguments %q", rest)
	case *n < 1:
		return usagef("-n must be at least 1")
	case *warmup < 0:
		return usagef("-warmup must not be negative")
	case *threads < 1:
		return usagef("-threads must be at least 1")
	}
	baseline := currentRSS()
	opts := engine.Options{Threads: *threads}
	if *tierName != "" {
		t, err := kernels.ParseTier(*tierName)
		if err != nil {
			return usagef("%v", err)
		}
		if !slices.Contains(kernels.Available(), t) {
			return fmt.Errorf("tier %s is not available on this machine (available: %v)", t, kernels.Available())
		}
		opts.Tier, opts.ForceTier = t, true
	}
	loadStart := time.Now()
	eng, err := engine.Load(*modelPath, opts)
	if err != nil {
		return err
	}
	defer eng.Close()
	loaded := time.Since(loadStart)

	// Deterministic inputs in the range a normalised image takes, so every
	// run of the benchmark does the same work.
	rng := rand.New(rand.NewPCG(1, 2))
	shapes := eng.InputShapes()
	inputs := make([][]float32, len(shapes))
	for i, s := range shapes {
		inputs[i] = make([]float32, product(s))
		for j := range inputs[i] {
			inputs[i][j] = rng.Float32()*4 - 2
		}
	}
	outShapes := eng.OutputShapes()
	outputs := make([][]float32, len(outShapes))
	for i, s := range outShapes {
		outputs[i] = make([]float32, product(s))
	}
	sess := eng.NewSession()
	defer sess.Close()
	infer := func() error {
		if len(inputs) == 1 {
			_, err := sess.Run(inputs[0])
			return err
		}
		return sess.RunMulti(inputs, outputs)
	}

	// Start-up: from engine.Load to the first result, the first run
	// included (it pays for cold caches and first-touch page faults).
	if err := infer(); err != nil {
		return err
	}
	startup := time.Since(loadStart)
	for i := 0; i < *warmup; i++ {
		if err := infer(); err != nil {
			return err
		}
	}
	times := make([]time.Duration, *n)
	prog := newProgress(e.stderr, "bench", *n)
	for i := range times {
		t0 := time.Now()
		if err := infer(); err != nil {
			prog.Done()
			return err
		}
		times[i] = time.Since(t0)
		prog.Add(1)
	}
	prog.Done()
	allocs, bytes, err := allocsPerRun(min(*n, 100), infer)
	if err != nil {
		return err
	}

	r := benchReport{
		Model:        *modelPath,
		Memory:       measureMemory(eng, *modelPath, baseline),
		Fingerprint:  eng.Model().FingerprintHex(),
		Threads:      *threads,
		Runs:         *n,
		Warmup:       *warmup,
		AllocsPerRun: allocs,
		BytesPerRun:  bytes,
		LoadMS:       ms(loaded),
		StartupMS:    ms(startup),
	}
	if opts.ForceTier {
		r.RequestedTier = opts.Tier.String()
	}
	for _, t := range kernels.Available() {
		r.AvailableTiers = append(r.AvailableTiers, t.String())
	}
	var flops int64
	for _, l := range eng.Layers() {
		r.Layers = append(r.Layers, benchLayer{Name: l.Name, Op: l.Op, Kernel: l.Kernel, Tier: l.Tier.String(), FLOPs: l.FLOPs, Bytes: l.Bytes})
		flops += l.FLOPs
	}
	if *perLayer {
		if err := profileLayers(e, sess, inputs, outputs, *n, r.Layers); err != nil {
			return err
		}
	}
	slices.Sort(times)
	r.MedianMS = ms(percentile(times, 50))
	r.P90MS = ms(percentile(times, 90))
	r.P99MS = ms(percentile(times, 99))
	r.MinMS = ms(times[0])
	r.GFLOP = float64(flops) / 1e9
	if r.MedianMS > 0 {
		r.GFLOPS = r.GFLOP / (r.MedianMS / 1e3)
	}
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	printBench(e, &r)
	return nil
}

// profileLayers runs n profiling runs (Session.RunProfile) and fills each
// layer's median time, share and rates.
func profileLayers(e *env, sess *engine.Session, inputs, outputs [][]float32, n int, layers []benchLayer) error {
	samples := make([][]time.Duration, len(layers))
	for i := range samples {
		samples[i] = make([]time.Duration, n)
	}
	times := make([]time.Duration, len(layers))
	prog := newProgress(e.stderr, "profile", n)
	defer prog.Done()
	for k := range n {
		clear(times)
		if err := sess.RunProfile(inputs, outputs, times); err != nil {
			return err
		}
		for i, d := range times {
			samples[i][k] = d
		}
		prog.Add(1)
	}
	var sum float64
	med := make([]float64, len(layers))
	for i, s := range samples {
		slices.Sort(s)
		med[i] = float64(percentile(s, 50)) / float64(time.Microsecond)
		sum += med[i]
	}
	for i := range layers {
		l := &layers[i]
		us := med[i]
		l.MedianUS = &us
		share := 0.0
		if sum > 0 {
			share = us / sum
		}
		l.Share = &share
		if us > 0 {
			gf, gb := float64(l.FLOPs)/(us*1e3), float64(l.Bytes)/(us*1e3)
			l.GFLOPS, l.GBPS = &gf, &gb
		}
	}
	return nil
}

func printBench(e *env, r *benchReport) {
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	profiled := len(r.Layers) > 0 && r.Layers[0].MedianUS != nil
	if profiled {
		fmt.Fprintln(tw, "LAYER\tOP\tKERNEL\tTIER\tMFLOP\tKB\tMEDIAN µs\tSHARE\tGFLOP/s\tGB/s\t")
	} else {
		fmt.Fprintln(tw, "LAYER\tOP\tKERNEL\tTIER\tMFLOP\tKB\t")
	}
	for _, l := range r.Layers {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%.2f\t%.1f\t", textsafe.Cell(l.Name), textsafe.Cell(l.Op), l.Kernel, l.Tier, float64(l.FLOPs)/1e6, float64(l.Bytes)/1e3)
		if profiled {
			gf, gb := "-", "-"
			if l.GFLOPS != nil {
				gf, gb = fmt.Sprintf("%.1f", *l.GFLOPS), fmt.Sprintf("%.2f", *l.GBPS)
			}
			fmt.Fprintf(tw, "%.1f\t%.1f%%\t%s\t%s\t", *l.MedianUS, 100**l.Share, gf, gb)
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
	fmt.Fprintln(e.stdout)
	fmt.Fprintf(e.stdout, "model       %s (%s)\n", r.Model, r.Fingerprint[:min(16, len(r.Fingerprint))])
	fmt.Fprintf(e.stdout, "threads     %d   tiers available: %v", r.Threads, r.AvailableTiers)
	if r.RequestedTier != "" {
		fmt.Fprintf(e.stdout, "   forced: %s", r.RequestedTier)
	}
	fmt.Fprintln(e.stdout)
	fmt.Fprintf(e.stdout, "start-up    %.2f ms from engine.Load to the first result (load and plan %.2f ms)\n", r.StartupMS, r.LoadMS)
	fmt.Fprintf(e.stdout, "runs        %d timed after 1 + %d warm-up\n", r.Runs, r.Warmup)
	fmt.Fprintf(e.stdout, "latency     median %.3f ms   p90 %.3f ms   p99 %.3f ms   min %.3f ms\n", r.MedianMS, r.P90MS, r.P99MS, r.MinMS)
	fmt.Fprintf(e.stdout, "compute     %.3f GFLOP   %.1f GFLOP/s at the median\n", r.GFLOP, r.GFLOPS)
	fmt.Fprintf(e.stdout, "allocations %.0f per inference (%.0f bytes)\n", r.AllocsPerRun, r.BytesPerRun)
	m := &r.Memory
	fmt.Fprintf(e.stdout, "memory      file %s   engine %s (session %s)   peak RSS %s",
		megabytes(&m.FileBytes), megabytes(&m.EngineBytes), megabytes(&m.SessionBytes), megabytes(m.PeakRSSBytes))
	if m.PeakRSSBytes != nil {
		fmt.Fprintf(e.stdout, " (%s; %s before loading, %s at the end)", m.RSSSource, megabytes(m.BaselineRSSBytes), megabytes(m.EndRSSBytes))
	}
	fmt.Fprintln(e.stdout)
	if m.PeakRatio != nil {
		fmt.Fprintf(e.stdout, "            peak RSS / (file + session) = %.2f\n", *m.PeakRatio)
	}
}

// megabytes formats a byte count in MB (10^6 bytes), "n/a" when unknown.
func megabytes(n *int64) string {
	if n == nil {
		return "n/a"
	}
	return fmt.Sprintf("%.1f MB", float64(*n)/1e6)
}

// measureMemory reads the process's peak resident set once the runs are
// over, with the engine still open, and the engine's own figures.
func measureMemory(eng *engine.Engine, path string, baseline *int64) benchMemory {
	m := benchMemory{EngineBytes: eng.MemoryBytes(), SessionBytes: eng.SessionBytes(), BaselineRSSBytes: baseline, RSSSource: "n/a"}
	if st, err := os.Stat(path); err == nil {
		m.FileBytes = st.Size()
	}
	// The resident set now first: the peak read after it is at least as
	// large.
	if v, ok := procmem.Self("VmRSS"); ok {
		m.EndRSSBytes = &v
	}
	if v, ok := procmem.Self("VmHWM"); ok {
		m.PeakRSSBytes, m.RSSSource = &v, "VmHWM"
	} else if v, ok := procmem.MaxRSS(); ok {
		m.PeakRSSBytes, m.RSSSource = &v, "ru_maxrss"
	}
	if m.PeakRSSBytes != nil && m.FileBytes+m.SessionBytes > 0 {
		ratio := float64(*m.PeakRSSBytes) / float64(m.FileBytes+m.SessionBytes)
		m.PeakRatio = &ratio
	}
	return m
}

// currentRSS is the resident set now (VmRSS), nil where /proc is absent.
func currentRSS() *int64 {
	if v, ok := procmem.Self("VmRSS"); ok {
		return &v
	}
	return nil
}

// allocsPerRun counts heap allocations per inference from runtime.MemStats
// around n runs. Like testing.AllocsPerRun it runs them with GOMAXPROCS(1) so
// that allocations of unrelated goroutines are unlikely to be counted (the
// engine's own worker goroutines still run, interleaved), and it reports
// whole allocations per run: the runtime itself allocates a few bytes now
// and then, which would otherwise show as a fraction such as 0.01.
func allocsPerRun(n int, infer func() error) (allocs, bytes float64, err error) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	if err := infer(); err != nil {
		return 0, 0, err
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for i := 0; i < n; i++ {
		if err := infer(); err != nil {
			return 0, 0, err
		}
	}
	runtime.ReadMemStats(&after)
	return float64((after.Mallocs - before.Mallocs) / uint64(n)), float64((after.TotalAlloc - before.TotalAlloc) / uint64(n)), nil
}

// percentile returns the nearest-rank percentile of sorted durations.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p/100*float64(len(sorted)))) - 1
	rank = max(0, min(rank, len(sorted)-1))
	return sorted[rank]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
