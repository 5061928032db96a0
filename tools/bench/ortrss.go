package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"

	"github.com/signet-go/signet/internal/procmem"
	ort "github.com/yalue/onnxruntime_go"
)

// ONNX Runtime's resident memory is measured in a process of its own: the
// harness holds both engines, the ONNX bytes and signet's converted model,
// so its own peak says nothing about either engine. The child loads the
// model from its file (as an application would, no copy of the bytes in Go's
// heap), runs it with the timing run's session options, and reports its
// peak resident set (VmHWM) before it exits.

const rssChildCommand = "ort-rss-child"

// ortMemory is what the child reports, in bytes; zero means unknown.
type ortMemory struct {
	// StartRSS is the resident set at the child's start (Go runtime).
	StartRSS int64 `json:"start_rss_bytes"`
	// EnvRSS is the resident set once the ONNX Runtime library is loaded and
	// its environment made, before the session: what any model pays.
	EnvRSS int64 `json:"env_rss_bytes"`
	// PeakRSS is the peak resident set over loading the model, creating the
	// session and the runs (VmHWM, else the parent's wait4 ru_maxrss).
	PeakRSS int64  `json:"peak_rss_bytes"`
	Source  string `json:"source"`
	Runs    int    `json:"runs"`
}

// measureORTMemory runs the child for one model and thread count.
func measureORTMemory(cfg *config, path string, threads int, inName, outName string, inShape, outShape []int64) (ortMemory, error) {
	exe, err := os.Executable()
	if err != nil {
		return ortMemory{}, err
	}
	runs := cfg.warmup + cfg.block
	cmd := exec.Command(exe, rssChildCommand,
		"-ort-lib", cfg.ortLib, "-model", path, "-threads", strconv.Itoa(threads), "-runs", strconv.Itoa(runs),
		"-ort-spin="+strconv.FormatBool(cfg.ortSpin), "-in", inName, "-out", outName,
		"-in-shape", joinInts(inShape), "-out-shape", joinInts(outShape))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return ortMemory{}, fmt.Errorf("ONNX Runtime memory child: %v: %s", err, strings.TrimSpace(stderr.String()))
	}
	var m ortMemory
	if err := json.Unmarshal(stdout.Bytes(), &m); err != nil {
		return ortMemory{}, fmt.Errorf("ONNX Runtime memory child: %v in %q", err, stdout.String())
	}
	if m.PeakRSS == 0 {
		if n := procmem.ChildMaxRSS(cmd.ProcessState); n > 0 {
			m.PeakRSS, m.Source = n, "ru_maxrss"
		}
	}
	return m, nil
}

// rssChild is the child's main: it prints one ortMemory as JSON.
func rssChild(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet(rssChildCommand, flag.ContinueOnError)
	fs.SetOutput(stderr)
	lib := fs.String("ort-lib", "", "path to libonnxruntime.so")
	path := fs.String("model", "", "ONNX file")
	threads := fs.Int("threads", 1, "intra-op threads")
	runs := fs.Int("runs", 10, "inferences after the session is made")
	spin := fs.Bool("ort-spin", true, "intra-op spinning")
	inName := fs.String("in", "", "input name")
	outName := fs.String("out", "", "output name")
	inShape := fs.String("in-shape", "", "input shape, comma-separated")
	outShape := fs.String("out-shape", "", "output shape, comma-separated")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	m, err := childRun(*lib, *path, *threads, *runs, *spin, *inName, *outName, *inShape, *outShape)
	if err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return 1
	}
	if err := json.NewEncoder(stdout).Encode(m); err != nil {
		return 1
	}
	return 0
}

func childRun(lib, path string, threads, runs int, spin bool, inName, outName, inShapeS, outShapeS string) (ortMemory, error) {
	var m ortMemory
	m.StartRSS, _ = procmem.Self("VmRSS")
	inShape, err := parseInt64s(inShapeS)
	if err != nil {
		return m, err
	}
	outShape, err := parseInt64s(outShapeS)
	if err != nil {
		return m, err
	}
	shape := make([]int, len(inShape))
	for i, d := range inShape {
		shape[i] = int(d)
	}
	input, _, err := modelInput(path, shape)
	if err != nil {
		return m, err
	}
	if _, err := initORT(lib); err != nil {
		return m, err
	}
	m.EnvRSS, _ = procmem.Self("VmRSS")
	r, err := newORTSession(ortSource{path: path}, threads, spin, input, inName, outName, inShape, outShape)
	if err != nil {
		return m, err
	}
	defer r.Close()
	for i := 0; i < runs; i++ {
		if err := r.Run(); err != nil {
			return m, err
		}
	}
	m.Runs = runs
	if n, ok := procmem.Self("VmHWM"); ok {
		m.PeakRSS, m.Source = n, "VmHWM"
	}
	return m, nil
}

func joinInts(s []int64) string {
	parts := make([]string, len(s))
	for i, d := range s {
		parts[i] = strconv.FormatInt(d, 10)
	}
	return strings.Join(parts, ",")
}

func parseInt64s(s string) ([]int64, error) {
	if s == "" {
		return nil, errors.New("empty shape")
	}
	var out []int64
	for _, p := range strings.Split(s, ",") {
		d, err := strconv.ParseInt(p, 10, 64)
		if err != nil || d < 1 {
			return nil, fmt.Errorf("bad shape %q", s)
		}
		out = append(out, d)
	}
	return out, nil
}

// ortSource is where a session's model comes from: the bytes in memory (the
// timing run, which has them already) or the file (the memory child).
type ortSource struct {
	data      []byte
	path      string
	optimized string // where ONNX Runtime writes the graph it optimised, when set
}

func (s ortSource) newSession(inName, outName string, in, out ort.Value, opts *ort.SessionOptions) (*ort.AdvancedSession, error) {
	if s.optimized != "" {
		if err := opts.SetOptimizedModelFilePath(s.optimized); err != nil {
			return nil, err
		}
	}
	if s.path != "" {
		return ort.NewAdvancedSession(s.path, []string{inName}, []string{outName}, []ort.Value{in}, []ort.Value{out}, opts)
	}
	return ort.NewAdvancedSessionWithONNXData(s.data, []string{inName}, []string{outName}, []ort.Value{in}, []ort.Value{out}, opts)
}
