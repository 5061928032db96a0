package engine

import (
	"errors"
	"image"
	"math"
	"slices"
	"testing"

	"github.com/signet-go/signet/engine/reference"
	"github.com/signet-go/signet/model"
)

// Concat of rank-4 values stored in plain order (C == 1 or H·W == 1: the
// outputs of ReduceMean/ReduceL2 over channels, of MatMul) next to NHWC ones,
// as CBAM-style attention builds them. The planner used the inputs' own
// physical shapes with the output's axis position and produced wrong values
// or sliced past the end.
func TestConcatOfPlainOrderInputs(t *testing.T) {
	cases := map[string]func() *gb{
		"spatial-attention": func() *gb { // [mean_c, l2_c] → conv → sigmoid
			b := newGB(1, []int64{1, 3, 7, 6})
			x := b.conv("input", 3, 8, 3, 1, ints("pads", 1, 1, 1, 1))
			m := b.node(model.OpReduceMean, []string{x}, ints("axes", 1), intA("keepdims", 1))
			l := b.node(model.OpReduceL2, []string{x}, ints("axes", 1), intA("keepdims", 1))
			cat := b.node(model.OpConcat, []string{m, l}, intA("axis", 1))
			return b.outputs(b.conv(cat, 2, 1, 3, 1, ints("pads", 1, 1, 1, 1)), cat)
		},
		"plain-with-nhwc": func() *gb { // C==1 plain next to a 4-channel NHWC value
			b := newGB(2, []int64{1, 3, 5, 4})
			x := b.conv("input", 3, 4, 1, 1)
			m := b.node(model.OpReduceMean, []string{x}, ints("axes", 1), intA("keepdims", 1))
			return b.outputs(b.node(model.OpConcat, []string{x, m, x}, intA("axis", 1)))
		},
		"hw1-channels": func() *gb { // H·W==1 plain order from ReduceL2 over space
			b := newGB(3, []int64{1, 3, 5, 4})
			x := b.conv("input", 3, 6, 3, 1)
			l := b.node(model.OpReduceL2, []string{x}, ints("axes", 2, 3), intA("keepdims", 1))
			g := b.node(model.OpGlobalAveragePool, []string{x})
			return b.outputs(b.node(model.OpConcat, []string{l, g, l}, intA("axis", 1)))
		},
		"plain-along-width": func() *gb {
			b := newGB(4, []int64{1, 3, 5, 4})
			x := b.conv("input", 3, 1, 3, 1, ints("pads", 1, 1, 1, 1))
			m := b.node(model.OpReduceMean, []string{"input"}, ints("axes", 1), intA("keepdims", 1))
			return b.outputs(b.node(model.OpConcat, []string{x, m}, intA("axis", 3)), b.node(model.OpConcat, []string{m, x, m}, intA("axis", 2)))
		},
	}
	for name, build := range cases {
		t.Run(name, func(t *testing.T) {
			for _, threads := range []int{1, 3} {
				compareToReference(t, build().build(t), Options{Threads: threads})
			}
		})
	}
}

// An Int64 initializer that is a graph output came out as zeros.
func TestInt64InitializerOutput(t *testing.T) {
	b := newGB(1, []int64{1, 4})
	b.g.Initializers = append(b.g.Initializers, model.NewInt64Tensor("shape", []int64{3}, []int64{7, -2, 1 << 20}))
	m := b.build(t, b.node(model.OpRelu, []string{"input"}), "shape")
	e, err := New(m, Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := e.NewSession()
	defer s.Close()
	outs := [][]float32{make([]float32, 4), make([]float32, 3)}
	if err := s.RunMulti([][]float32{{1, -1, 2, -2}}, outs); err != nil {
		t.Fatal(err)
	}
	if want := []float32{7, -2, 1 << 20}; !slices.Equal(outs[1], want) {
		t.Errorf("int64 output = %v, want %v", outs[1], want)
	}
	ref, err := reference.Run(m, [][]float32{{1, -1, 2, -2}})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ref[1], outs[1]) {
		t.Errorf("reference int64 output = %v, engine %v", ref[1], outs[1])
	}

	// A value float32 cannot hold exactly is refused rather than rounded.
	b = newGB(1, []int64{1, 4})
	b.g.Initializers = append(b.g.Initializers, model.NewInt64Tensor("big", []int64{1}, []int64{1<<24 + 1}))
	if _, err := New(b.build(t, "big"), Options{}); !errors.Is(err, ErrUnsupported) {
		t.Errorf("inexact int64 output: err = %v, want ErrUnsupported", err)
	}
}

// Shape products past int64 wrapped around (1×3×2³²×2³² became 0 elements)
// and panicked in preprocessing and NewSession.
func TestHugeShapesRefused(t *testing.T) {
	for _, shape := range [][]int64{
		{1, 3, 1 << 32, 1 << 32},
		{1, 3, 1 << 21, 1 << 21},
		{1 << 62, 4},
		{1, 1 << 31, 1 << 31, 4},
	} {
		for _, direct := range []bool{false, true} {
			b := newGB(1, shape)
			out := "input" // the input itself is the output: no layer checks it
			if !direct {
				out = b.node(model.OpRelu, []string{"input"})
			}
			checkHugeRefused(t, b.build(t, out), shape)
		}
	}
}

func checkHugeRefused(t *testing.T, m *model.Model, shape []int64) {
	t.Helper()
	func() {
		defer func() {
			if p := recover(); p != nil {
				t.Fatalf("shape %v: panic %v", shape, p)
			}
		}()
		e, err := New(m, Options{MemoryLimit: NoLimit})
		if err == nil {
			s := e.NewSession()
			defer s.Close()
			_, err := s.Embed(image.NewRGBA(image.Rect(0, 0, 4, 4)))
			t.Fatalf("shape %v: planned (Embed: %v)", shape, err)
		}
		if !errors.Is(err, ErrUnsupported) {
			t.Errorf("shape %v: err = %v", shape, err)
		}
	}()
}

// A Slice with step MaxInt64 takes one element (ONNX), not zero.
func TestSliceExtremeSteps(t *testing.T) {
	for _, c := range []struct {
		start, end, step int64
		want             int
	}{
		{0, math.MaxInt64, math.MaxInt64, 1},
		{2, math.MaxInt64, math.MaxInt64 - 1, 1},
		{-1, math.MinInt64, math.MinInt64, 1},
		{math.MaxInt64, math.MinInt64, -(1 << 40), 1},
		{0, 9, 4, 3},
	} {
		b := newGB(1, []int64{1, 2, 3, 9})
		y := b.node(model.OpSlice, []string{"input"}, ints("starts", c.start), ints("ends", c.end), ints("axes", 3), ints("steps", c.step))
		m := b.build(t, y)
		e, err := New(m, Options{})
		if err != nil {
			t.Fatalf("%+v: %v", c, err)
		}
		if got := e.OutputShapes()[0][3]; got != c.want {
			t.Errorf("%+v: width %d, want %d", c, got, c.want)
		}
		compareToReference(t, m, Options{})
	}
}

// Zero-size values (a Slice to width, height or batch 0) passed the planner
// and panicked at run time; they are refused at plan time.
func TestZeroSizeRefusedAtPlan(t *testing.T) {
	for axis := int64(0); axis < 4; axis++ {
		b := newGB(1, []int64{1, 2, 3, 4})
		y := b.node(model.OpSlice, []string{"input"}, ints("starts", 1), ints("ends", 1), ints("axes", axis))
		m := b.build(t, b.node(model.OpRelu, []string{y}))
		_, err := New(m, Options{})
		if !errors.Is(err, ErrUnsupported) {
			t.Errorf("axis %d: err = %v, want ErrUnsupported", axis, err)
		}
	}
	b := newGB(1, []int64{1, 4, 3, 3})
	y := b.node(model.OpSplit, []string{"input"}, ints("split", 4, 0), intA("axis", 1))
	b.g.Nodes[len(b.g.Nodes)-1].Outputs = append(b.g.Nodes[len(b.g.Nodes)-1].Outputs, "empty")
	if _, err := New(b.build(t, y, "empty"), Options{}); !errors.Is(err, ErrUnsupported) {
		t.Errorf("split with an empty part: err = %v, want ErrUnsupported", err)
	}
}

// Tiny models that declare huge tensors are refused by the memory budget
// before anything large is allocated; the budget is configurable.
func TestMemoryBudget(t *testing.T) {
	huge := func() *model.Model { // 26000² input: 8 GB of arena
		b := newGB(1, []int64{1, 3, 26000, 26000})
		return b.build(t, b.node(model.OpRelu, []string{"input"}))
	}
	padded := func() *model.Model { // pads of 8000 on a 1×1 input
		b := newGB(1, []int64{1, 3, 4, 4})
		return b.build(t, b.conv("input", 3, 4, 1, 1, ints("pads", 8000, 8000, 8000, 8000)))
	}
	manyConcat := func() *model.Model {
		b := newGB(1, []int64{1, 3, 64, 64})
		x := b.conv("input", 3, 64, 3, 1, ints("pads", 1, 1, 1, 1))
		in := make([]string, 4096)
		for i := range in {
			in[i] = x
		}
		return b.build(t, b.node(model.OpConcat, in, intA("axis", 1)))
	}
	for name, mk := range map[string]func() *model.Model{"huge-input": huge, "padded-conv": padded, "concat-4096": manyConcat} {
		_, err := New(mk(), Options{})
		if !errors.Is(err, ErrBudget) {
			t.Errorf("%s: err = %v, want ErrBudget", name, err)
		}
	}
	// Within a small explicit limit, a small model plans; one byte less than
	// it needs does not.
	b := newGB(1, []int64{1, 3, 16, 16})
	m := b.build(t, b.conv("input", 3, 8, 3, 1))
	e, err := New(m, Options{MemoryLimit: NoLimit})
	if err != nil {
		t.Fatal(err)
	}
	need := e.MemoryBytes()
	if need <= 0 {
		t.Fatalf("MemoryBytes = %d", need)
	}
	if _, err := New(m, Options{MemoryLimit: need}); err != nil {
		t.Errorf("limit = need: %v", err)
	}
	if _, err := New(m, Options{MemoryLimit: need - 1}); !errors.Is(err, ErrBudget) {
		t.Errorf("limit = need-1: err = %v, want ErrBudget", err)
	}
	// The session really allocates what MemoryBytes promised (the arena,
	// scratch and outputs; packed weights were allocated by New).
	if got := e.SessionBytes(); got > need {
		t.Errorf("SessionBytes %d > MemoryBytes %d", got, need)
	}
}

// A 4096² MatMul of a runtime input with itself is 137 GFLOP: refused by the
// work budget at plan time instead of running for minutes.
func TestWorkBudget(t *testing.T) {
	b := newGB(1, []int64{4096, 4096})
	m := b.build(t, b.node(model.OpMatMul, []string{"input", "input"}))
	if _, err := New(m, Options{}); !errors.Is(err, ErrBudget) {
		t.Errorf("err = %v, want ErrBudget", err)
	}
	small := newGB(1, []int64{64, 64})
	sm := small.build(t, small.node(model.OpMatMul, []string{"input", "input"}))
	e, err := New(sm, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := e.WorkPerRun(), int64(2*64*64*64); got < want {
		t.Errorf("WorkPerRun = %d, want ≥ %d", got, want)
	}
	if _, err := New(sm, Options{MaxWork: e.WorkPerRun() - 1}); !errors.Is(err, ErrBudget) {
		t.Errorf("MaxWork below the model's work: err = %v, want ErrBudget", err)
	}
	if _, err := New(m, Options{MaxWork: NoLimit, MemoryLimit: NoLimit}); err != nil {
		t.Errorf("NoLimit: %v", err)
	}
}

// The reference turned an activation it did not know into identity.
func TestReferenceRefusesUnknownActivation(t *testing.T) {
	b := newGB(1, []int64{1, 3, 4, 4})
	y := b.conv("input", 3, 2, 1, 1, strA("activation", "Swoosh"))
	m := b.build(t, y)
	if _, err := reference.Run(m, [][]float32{make([]float32, 48)}); !errors.Is(err, reference.ErrUnsupported) {
		t.Errorf("reference: err = %v, want ErrUnsupported", err)
	}
}
