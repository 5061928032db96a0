package main

import (
	"fmt"
	"slices"

	"github.com/signet-go/signet/engine"
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
}

func newSignet(onnxData []byte, name string, threads int) (*signetRunner, error) {
	m, err := onnx.Convert(onnxData, onnx.Options{Name: name})
	if err != nil {
		return nil, fmt.Errorf("convert: %w", err)
	}
	eng, err := engine.New(m, engine.Options{Threads: threads})
	if err != nil {
		return nil, fmt.Errorf("engine: %w", err)
	}
	r := &signetRunner{eng: eng, sess: eng.NewSession(), tiers: map[string]int{}}
	var flops int64
	for _, l := range eng.Layers() {
		flops += l.FLOPs
		r.tiers[l.Tier.String()]++
	}
	r.gflop = float64(flops) / 1e9
	return r, nil
}

func (r *signetRunner) InputShape() []int { return r.eng.InputShapes()[0] }

func (r *signetRunner) SetInput(x []float32) error {
	want := 1
	for _, d := range r.InputShape() {
		want *= d
	}
	if len(x) != want {
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
