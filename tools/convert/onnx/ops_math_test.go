package onnx

import (
	"errors"
	"math"
	"slices"
	"testing"

	"github.com/signet-go/signet/model"
)

// geluModel builds x → [Conv →] GELU as PyTorch exports it, in one of the
// association orders rewriteGELU recognises.
func geluModel(order int, conv bool, sqrt2 float32) []byte {
	m := newModel(13, enc{raw: true})
	m.input("in", 1, 2, 3, 3)
	x := "in"
	if conv {
		m.initF("W", []int64{2, 2, 1, 1}, values(4, 7))
		m.node("Conv", "conv", []string{"in", "W"}, []string{"c"})
		x = "c"
	}
	m.initF("half", nil, []float32{0.5})
	m.initF("one", []int64{1}, []float32{1})
	if order == 2 {
		m.initF("k", nil, []float32{float32(1 / math.Sqrt2)})
		m.node("Mul", "scale", []string{"k", x}, []string{"d"})
	} else {
		m.initF("k", nil, []float32{sqrt2})
		m.node("Div", "scale", []string{x, "k"}, []string{"d"})
	}
	m.node("Erf", "erf", []string{"d"}, []string{"e"})
	m.node("Add", "add", []string{"one", "e"}, []string{"a"})
	switch order {
	case 0: // (x·a)·0.5, PyTorch's
		m.node("Mul", "m1", []string{x, "a"}, []string{"m"})
		m.node("Mul", "m2", []string{"m", "half"}, []string{"y"})
	case 1: // (x·0.5)·a
		m.node("Mul", "m1", []string{"half", x}, []string{"h"})
		m.node("Mul", "m2", []string{"a", "h"}, []string{"y"})
	case 2: // x·(a·0.5)
		m.node("Mul", "m1", []string{"a", "half"}, []string{"t"})
		m.node("Mul", "m2", []string{x, "t"}, []string{"y"})
	}
	m.output("y", 1, 2, 3, 3)
	return m.bytes()
}

func TestGELURewrite(t *testing.T) {
	for order := 0; order < 3; order++ {
		got, rep, err := ConvertReport(geluModel(order, false, float32(math.Sqrt2)), Options{})
		if err != nil {
			t.Fatal(err)
		}
		wantOps(t, got, model.OpGELU)
		if rep.GELU != 1 || got.Graph.Nodes[0].Inputs[0] != "in" || got.Graph.Nodes[0].Outputs[0] != "y" {
			t.Fatalf("order %d: %d rewrites, node %+v", order, rep.GELU, got.Graph.Nodes[0])
		}
		if len(got.Graph.Initializers) != 0 {
			t.Errorf("order %d: constants of the pattern kept: %d", order, len(got.Graph.Initializers))
		}
		// After a Conv it is the Conv's fused activation.
		got = mustConvert(t, geluModel(order, true, float32(math.Sqrt2)), Options{})
		wantOps(t, got, model.OpConv)
		if a := attrOf(t, &got.Graph.Nodes[0], "activation"); a.String != model.ActGELU {
			t.Fatalf("order %d: activation %q", order, a.String)
		}
	}
	// Another constant is not GELU: the ops stay.
	got := mustConvert(t, geluModel(0, false, 1.5), Options{})
	wantOps(t, got, model.OpDiv, model.OpErf, model.OpAdd, model.OpMul, model.OpMul)

	// An intermediate value with a second consumer keeps the pattern.
	m := newModel(13, enc{})
	m.input("x", 1, 4)
	m.initF("k", nil, []float32{float32(math.Sqrt2)})
	m.initF("one", nil, []float32{1})
	m.initF("half", nil, []float32{0.5})
	m.node("Div", "d", []string{"x", "k"}, []string{"d"})
	m.node("Erf", "erf", []string{"d"}, []string{"e"})
	m.node("Add", "add", []string{"e", "one"}, []string{"a"})
	m.node("Mul", "m1", []string{"x", "a"}, []string{"m"})
	m.node("Mul", "m2", []string{"m", "half"}, []string{"y"})
	m.node("Add", "other", []string{"m", "x"}, []string{"z"})
	m.output("y", 1, 4)
	m.output("z", 1, 4)
	wantOps(t, mustConvert(t, m.bytes(), Options{}), model.OpDiv, model.OpErf, model.OpAdd, model.OpMul, model.OpMul, model.OpAdd)
}

func TestMathOps(t *testing.T) {
	for _, op := range []string{"Erf", "Sqrt", "Tanh", "Neg", "Abs", "Reciprocal", "Exp", "Log"} {
		m := newModel(13, enc{})
		m.input("x", 1, 3)
		m.node(op, "n", []string{"x"}, []string{"y"})
		m.output("y", 1, 3)
		wantOps(t, mustConvert(t, m.bytes(), Options{}), op)
	}

	// Max of three inputs chains two native nodes; of one it is a copy.
	m := newModel(13, enc{})
	m.input("a", 1, 3)
	m.input("b", 1, 1)
	m.initF("c", []int64{3}, []float32{0, 1, 2})
	m.node("Max", "max", []string{"a", "b", "c"}, []string{"y"})
	m.node("Min", "min", []string{"y"}, []string{"z"})
	m.output("z", 1, 3)
	got := mustConvert(t, m.bytes(), Options{})
	wantOps(t, got, model.OpMax, model.OpMax)
	if n := got.Graph.Nodes[1]; n.Inputs[0] != got.Graph.Nodes[0].Outputs[0] || n.Inputs[1] != "c" || n.Outputs[0] != "z" {
		t.Fatalf("chained Max %+v", n)
	}

	// An integer exponent becomes a float constant.
	m = newModel(13, enc{})
	m.input("x", 1, 3)
	m.initI("p", nil, []int64{3})
	m.node("Pow", "pow", []string{"x", "p"}, []string{"y"})
	m.output("y", 1, 3)
	got = mustConvert(t, m.bytes(), Options{})
	wantOps(t, got, model.OpPow)
	if p := initFloats(t, got, got.Graph.Nodes[0].Inputs[1]); len(p) != 1 || p[0] != 3 {
		t.Fatalf("exponent %v", p)
	}

	// PRelu's slope must broadcast to X's shape.
	for _, tc := range []struct {
		slope []int64
		err   error
	}{{[]int64{2, 1, 1}, nil}, {[]int64{1}, nil}, {[]int64{3, 1, 1}, ErrMalformed}, {[]int64{1, 1, 2, 1, 1}, ErrMalformed}} {
		m = newModel(13, enc{})
		m.input("x", 1, 2, 3, 3)
		n := 1
		for _, d := range tc.slope {
			n *= int(d)
		}
		m.initF("s", tc.slope, values(n, 3))
		m.node("PRelu", "prelu", []string{"x", "s"}, []string{"y"})
		m.output("y", 1, 2, 3, 3)
		_, err := Convert(m.bytes(), Options{})
		if !errors.Is(err, tc.err) && !(tc.err == nil && err == nil) {
			t.Errorf("slope %v: %v, want %v", tc.slope, err, tc.err)
		}
	}
}

func TestMathFolding(t *testing.T) {
	m := newModel(13, enc{})
	m.input("x", 1, 4)
	m.initF("c", []int64{4}, []float32{-4, 1, 4, 9})
	m.initI("two", nil, []int64{2})
	m.initF("slope", []int64{1}, []float32{0.5})
	m.node("Abs", "abs", []string{"c"}, []string{"a"})        // 4 1 4 9
	m.node("Sqrt", "sqrt", []string{"a"}, []string{"s"})      // 2 1 2 3
	m.node("Pow", "pow", []string{"s", "two"}, []string{"p"}) // 4 1 4 9
	m.node("Neg", "neg", []string{"p"}, []string{"n"})        // -4 -1 -4 -9
	m.node("Max", "max", []string{"n", "c"}, []string{"mx"})  // -4 1 4 9
	m.node("Min", "min", []string{"mx", "p", "c"}, []string{"mn"})
	m.node("PRelu", "prelu", []string{"n", "slope"}, []string{"pr"}) // -2 -0.5 -2 -4.5
	m.node("Add", "add1", []string{"x", "mn"}, []string{"y1"})
	m.node("Add", "add2", []string{"y1", "pr"}, []string{"y"})
	m.output("y", 1, 4)
	got := mustConvert(t, m.bytes(), Options{})
	wantOps(t, got, model.OpAdd, model.OpAdd)
	want := [][]float32{{-4, 1, 4, 9}, {-2, -0.5, -2, -4.5}}
	for i, n := range got.Graph.Nodes {
		c := initFloats(t, got, n.Inputs[1])
		for k := range want[i] {
			if c[k] != want[i][k] {
				t.Fatalf("node %d constant %v, want %v", i, c, want[i])
			}
		}
	}
	// Integer Neg, Abs, Max and Pow fold exactly.
	m = newModel(13, enc{})
	m.input("x", 2, 3)
	m.initI("s", []int64{2}, []int64{-3, 2})
	m.initI("two", nil, []int64{2})
	m.node("Abs", "abs", []string{"s"}, []string{"a"})        // 3 2
	m.node("Pow", "pow", []string{"a", "two"}, []string{"p"}) // 9 4
	m.node("Neg", "neg", []string{"p"}, []string{"n"})        // -9 -4
	m.node("Max", "max", []string{"n", "s"}, []string{"sh"})  // -3 2 → abs
	m.node("Abs", "abs2", []string{"sh"}, []string{"shape"})  // 3 2
	m.node("Reshape", "r", []string{"x", "shape"}, []string{"y"})
	m.output("y", 3, 2)
	got = mustConvert(t, m.bytes(), Options{})
	if s, _ := got.Initializer(got.Graph.Nodes[0].Inputs[1]); !slices.Equal(s.Int64s(), []int64{3, 2}) {
		t.Fatalf("folded shape %v", s.Int64s())
	}
}
