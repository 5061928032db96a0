package main

import (
	"fmt"
	"runtime"
	"slices"
	"strings"

	"github.com/signet-go/signet/engine"
	"github.com/signet-go/signet/model"
	"github.com/signet-go/signet/tools/convert/onnx"
)

// signetRunner converts the ONNX model in-process, exactly as
// `go run ./tools/convert` would, and runs it with one engine session.
type signetRunner struct {
	eng    *engine.Engine
	sess   *engine.Session
	input  []float32
	output []float32
	gflop  float64
	tiers  map[string]int // kernel tier -> number of layers using it
	int8   float64        // share of the FLOPs in int8 kernels
}

func newSignet(onnxData []byte, name string, threads int) (*signetRunner, error) {
	m, err := onnx.Convert(onnxData, onnx.Options{Name: name})
	if err != nil {
		return nil, fmt.Errorf("convert: %w", err)
	}
	return newSignetModel(m, threads)
}

// newSignetModel runs an already converted (or quantised) model.
func newSignetModel(m *model.Model, threads int) (*signetRunner, error) {
	eng, err := engine.New(m, engine.Options{Threads: threads})
	if err != nil {
		return nil, fmt.Errorf("engine: %w", err)
	}
	r := &signetRunner{eng: eng, sess: eng.NewSession(), tiers: map[string]int{}}
	var flops, qflops int64
	for _, l := range eng.Layers() {
		flops += l.FLOPs
		r.tiers[l.Tier.String()]++
		if strings.HasPrefix(l.Kernel, "qs8-") {
			qflops += l.FLOPs
		}
	}
	r.gflop = float64(flops) / 1e9
	r.int8 = float64(qflops) / float64(max(1, flops))
	return r, nil
}

func (r *signetRunner) InputShape() []int { return r.eng.InputShapes()[0] }

// inputLen is the number of values of the model's input.
func (r *signetRunner) inputLen() int {
	n := 1
	for _, d := range r.InputShape() {
		n *= d
	}
	return n
}

func (r *signetRunner) SetInput(x []float32) error {
	if want := r.inputLen(); len(x) != want {
		return fmt.Errorf("signet input %v has %d elements, the harness input has %d", r.InputShape(), want, len(x))
	}
	r.input = slices.Clone(x)
	return nil
}

func (r *signetRunner) Run() error {
	out, err := r.sess.Run(r.input)
	r.output = out
	return err
}

// Output is valid until the next Run.
func (r *signetRunner) Output() []float32 { return r.output }

func (r *signetRunner) Close() {
	r.sess.Close()
	r.eng.Close()
}

// allocsPerRun is the mean number of heap allocations of one Run, after
// warm-up.
func (r *signetRunner) allocsPerRun(n int) (float64, error) {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range n {
		if err := r.Run(); err != nil {
			return 0, err
		}
	}
	runtime.ReadMemStats(&after)
	return float64(after.Mallocs-before.Mallocs) / float64(n), nil
}
