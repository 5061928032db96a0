package engine_test

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/signet-go/signet/engine"
	"github.com/signet-go/signet/kernels"
	"github.com/signet-go/signet/model"
	"github.com/signet-go/signet/tools/convert/onnx"
)

// The ONNX backend node tests (testdata/onnx-node, generated from the onnx
// package by tools/testdata-gen/gen_onnx_node.py) run through the converter
// and the engine, and every output is compared with the suite's expected
// output under the tolerance ONNX's own backend runner uses:
//
//	|got - want| <= conformanceAtol + conformanceRtol * |want|
//
// (numpy.testing.assert_allclose with rtol=1e-3, atol=1e-7).
const (
	conformanceRtol = 1e-3
	conformanceAtol = 1e-7
)

// conformanceSkips lists the cases that are not run, each with the reason.
// Every other case must convert, plan and match; a case listed here that
// passes is reported so the entry gets removed.
var conformanceSkips = map[string]string{
	"test_averagepool_1d_default": "1-D pooling over (N, C, L): signet pools 2-D feature maps only",
	"test_maxpool_1d_default":     "1-D pooling over (N, C, L): signet pools 2-D feature maps only",

	"test_batchnorm_epsilon_training_mode": "training_mode=1 (batch statistics, running-stat outputs): signet is inference-only",
	"test_batchnorm_example_training_mode": "training_mode=1 (batch statistics, running-stat outputs): signet is inference-only",

	"test_reshape_allowzero_reordered": "zero-size input [0 3 4]: signet graphs require every dimension >= 1",
	"test_split_zero_size_splits":      "zero-size input [0] and outputs: signet graphs require every dimension >= 1",
	"test_slice_start_out_of_bounds":   "zero-size output (start beyond the end): signet graphs require every dimension >= 1",
}

// dataPositions says which input positions of an op carry data that the
// test feeds at run time; every other operand is bound as a constant
// (signet needs weights, bounds, shapes, split sizes and slice parameters
// at plan time). Ops not listed take data at position 0 only. MatMul's B is
// a constant: in signet MatMul is a weight layer like Gemm.
var dataPositions = map[string][]int{
	model.OpAdd:    {0, 1},
	model.OpSub:    {0, 1},
	model.OpMul:    {0, 1},
	model.OpDiv:    {0, 1},
	model.OpConcat: nil, // all inputs
	model.OpMax:    nil, // variadic
	model.OpMin:    nil,
}

func isDataPosition(op string, pos int) bool {
	ps, ok := dataPositions[op]
	if !ok {
		return pos == 0
	}
	if ps == nil {
		return true
	}
	for _, p := range ps {
		if p == pos {
			return true
		}
	}
	return false
}

// conformanceTiers returns the kernel tiers every case runs under: the
// generic Go kernels (the reference) and the best tier of this machine.
func conformanceTiers() []kernels.Tier {
	tiers := []kernels.Tier{kernels.Generic}
	if b := kernels.Best(); b != kernels.Generic {
		tiers = append(tiers, b)
	}
	return tiers
}

func TestONNXConformance(t *testing.T) {
	root := filepath.Join("..", "testdata", "onnx-node")
	entries, err := os.ReadDir(root)
	if err != nil {
		t.Fatalf("reading %s: %v", root, err)
	}
	var cases []string
	for _, e := range entries {
		if e.IsDir() && strings.HasPrefix(e.Name(), "test_") {
			cases = append(cases, e.Name())
		}
	}
	if len(cases) == 0 {
		t.Fatalf("no cases under %s", root)
	}
	for name := range conformanceSkips {
		if _, err := os.Stat(filepath.Join(root, name)); err != nil {
			t.Errorf("skip table names %s, which is not in %s", name, root)
		}
	}

	var ran, passed, skipped int
	var failed []string
	for _, name := range cases {
		dir := filepath.Join(root, name)
		reason, skip := conformanceSkips[name]
		err := runConformanceCase(t, dir)
		switch {
		case skip && err == nil:
			skipped++
			t.Errorf("%s: listed as skipped (%s) but passes: remove it from conformanceSkips", name, reason)
		case skip:
			skipped++
			t.Logf("%s: skipped: %s (now: %v)", name, reason, err)
		case err != nil:
			ran++
			failed = append(failed, name)
			t.Errorf("%s: %v", name, err)
		default:
			ran++
			passed++
		}
	}
	summary := fmt.Sprintf("onnx conformance: %d ran, %d passed, %d skipped", ran, passed, skipped)
	fmt.Println(summary)
	t.Log(summary)
	if len(failed) > 0 {
		sort.Strings(failed)
		t.Errorf("%d failed: %s", len(failed), strings.Join(failed, " "))
	}
}

// runConformanceCase converts one case and checks every data set under
// every tier; the first problem is returned.
func runConformanceCase(t *testing.T, dir string) error {
	t.Helper()
	src, err := os.ReadFile(filepath.Join(dir, "model.onnx"))
	if err != nil {
		return err
	}
	g, err := parseONNXGraph(src)
	if err != nil {
		return fmt.Errorf("reading model.onnx: %w", err)
	}
	// A graph input is data only if every use of it is at a data position.
	isData := map[string]bool{}
	for _, in := range g.inputs {
		isData[in] = true
	}
	for _, n := range g.nodes {
		for pos, in := range n.inputs {
			if in != "" && !isDataPosition(n.op, pos) {
				isData[in] = false
			}
		}
	}

	sets, err := filepath.Glob(filepath.Join(dir, "test_data_set_*"))
	if err != nil || len(sets) == 0 {
		return fmt.Errorf("no test_data_set_* in %s", dir)
	}
	sort.Strings(sets)
	for _, set := range sets {
		inputs, err := readPBTensors(set, "input_")
		if err != nil {
			return err
		}
		wants, err := readPBTensors(set, "output_")
		if err != nil {
			return err
		}
		consts := map[string]model.Tensor{}
		feed := map[string]model.Tensor{}
		for _, in := range inputs {
			if isData[in.Name] && in.DType == model.Float32 {
				feed[in.Name] = in
			} else {
				consts[in.Name] = in
			}
		}
		m, err := onnx.Convert(src, onnx.Options{Constants: consts})
		if err != nil {
			return fmt.Errorf("convert: %w", err)
		}
		for _, tier := range conformanceTiers() {
			if err := runConformanceSet(m, tier, feed, wants); err != nil {
				return fmt.Errorf("%s, tier %v: %w", filepath.Base(set), tier, err)
			}
		}
	}
	return nil
}

func runConformanceSet(m *model.Model, tier kernels.Tier, feed map[string]model.Tensor, wants []model.Tensor) error {
	e, err := engine.New(m, engine.Options{Tier: tier, ForceTier: true})
	if err != nil {
		return fmt.Errorf("engine.New: %w", err)
	}
	defer e.Close()
	ins := make([][]float32, len(m.Graph.Inputs))
	for i, v := range m.Graph.Inputs {
		tv, ok := feed[v.Name]
		if !ok {
			return fmt.Errorf("converted graph input %q has no data tensor", v.Name)
		}
		ins[i] = tv.Float32s()
	}
	if len(m.Graph.Outputs) != len(wants) {
		return fmt.Errorf("converted graph has %d outputs, case expects %d", len(m.Graph.Outputs), len(wants))
	}
	shapes := e.OutputShapes()
	outs := make([][]float32, len(m.Graph.Outputs))
	byName := map[string]model.Tensor{}
	for _, w := range wants {
		byName[w.Name] = w
	}
	for i, v := range m.Graph.Outputs {
		w, ok := byName[v.Name]
		if !ok {
			return fmt.Errorf("converted graph output %q is not among the expected outputs", v.Name)
		}
		wantShape := make([]int, len(w.Shape))
		for j, d := range w.Shape {
			wantShape[j] = int(d)
		}
		if !sameShape(shapes[i], wantShape) {
			return fmt.Errorf("output %q: shape %v, want %v", v.Name, shapes[i], wantShape)
		}
		outs[i] = make([]float32, w.NumElements())
	}
	s := e.NewSession()
	defer s.Close()
	if err := s.RunMulti(ins, outs); err != nil {
		return fmt.Errorf("RunMulti: %w", err)
	}
	for i, v := range m.Graph.Outputs {
		w := byName[v.Name]
		want := w.Float32s()
		if err := allClose(outs[i], want, conformanceRtol, conformanceAtol); err != nil {
			return fmt.Errorf("output %q: %w", v.Name, err)
		}
	}
	return nil
}

// sameShape compares shapes, treating a 0-d scalar and a 1-element shape
// of rank 0 alike (both have no dimensions).
func sameShape(a, b []int) bool {
	if len(a) == 0 && len(b) == 0 {
		return true
	}
	return reflect.DeepEqual(a, b)
}

// allClose is numpy.testing.assert_allclose: NaN must match NaN, infinities
// must match exactly, everything else within atol + rtol*|want|.
func allClose(got, want []float32, rtol, atol float64) error {
	if len(got) != len(want) {
		return fmt.Errorf("%d values, want %d", len(got), len(want))
	}
	bad, worst, worstAt := 0, 0.0, -1
	for i := range want {
		g, w := float64(got[i]), float64(want[i])
		switch {
		case math.IsNaN(w) || math.IsNaN(g):
			if math.IsNaN(w) != math.IsNaN(g) {
				bad++
				worstAt = i
				worst = math.Inf(1)
			}
			continue
		case math.IsInf(w, 0) || math.IsInf(g, 0):
			if g != w {
				bad++
				worstAt = i
				worst = math.Inf(1)
			}
			continue
		}
		d := math.Abs(g - w)
		if d > atol+rtol*math.Abs(w) {
			bad++
			if ex := d / (atol + rtol*math.Abs(w)); ex > worst {
				worst, worstAt = ex, i
			}
		}
	}
	if bad > 0 {
		return fmt.Errorf("%d of %d values outside rtol %g atol %g; worst at %d: got %g, want %g",
			bad, len(want), rtol, atol, worstAt, got[worstAt], want[worstAt])
	}
	return nil
}

// readPBTensors reads prefix0.pb, prefix1.pb, ... from dir in index order.
func readPBTensors(dir, prefix string) ([]model.Tensor, error) {
	var ts []model.Tensor
	for i := 0; ; i++ {
		b, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("%s%d.pb", prefix, i)))
		if errors.Is(err, os.ErrNotExist) {
			break
		}
		if err != nil {
			return nil, err
		}
		tv, err := onnx.ReadTensor(b)
		if err != nil {
			return nil, fmt.Errorf("%s%d.pb: %w", prefix, i, err)
		}
		ts = append(ts, tv)
	}
	if len(ts) == 0 {
		return nil, fmt.Errorf("no %s*.pb in %s", prefix, dir)
	}
	return ts, nil
}

// TestAllClose pins the comparison the conformance test relies on, so a
// broken comparison cannot make every case pass.
func TestAllClose(t *testing.T) {
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	cases := []struct {
		got, want []float32
		ok        bool
	}{
		{[]float32{1, 2}, []float32{1, 2}, true},
		{[]float32{1.0009}, []float32{1}, true},
		{[]float32{1.0011}, []float32{1}, false},
		{[]float32{0.9e-7}, []float32{0}, true},
		{[]float32{3e-7}, []float32{0}, false},
		{[]float32{nan}, []float32{nan}, true},
		{[]float32{0}, []float32{nan}, false},
		{[]float32{nan}, []float32{0}, false},
		{[]float32{inf}, []float32{inf}, true},
		{[]float32{-inf}, []float32{inf}, false},
		{[]float32{1e30}, []float32{inf}, false},
		{[]float32{1}, []float32{1, 2}, false},
	}
	for _, c := range cases {
		err := allClose(c.got, c.want, conformanceRtol, conformanceAtol)
		if (err == nil) != c.ok {
			t.Errorf("allClose(%v, %v) = %v, want ok=%v", c.got, c.want, err, c.ok)
		}
	}
}
