package onnx

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/signet-go/signet/model"
)

var encodings = []enc{{false, false}, {true, false}, {false, true}, {true, true}}

func opsOf(m *model.Model) []string {
	var ops []string
	for _, n := range m.Graph.Nodes {
		ops = append(ops, n.Op)
	}
	return ops
}

func mustConvert(t *testing.T, data []byte, opts Options) *model.Model {
	t.Helper()
	m, err := Convert(data, opts)
	if err != nil {
		t.Fatalf("Convert: %v", err)
	}
	return m
}

func wantOps(t *testing.T, m *model.Model, want ...string) {
	t.Helper()
	got := strings.Join(opsOf(m), ",")
	if got != strings.Join(want, ",") {
		t.Fatalf("ops = %s, want %s", got, strings.Join(want, ","))
	}
}

func initFloats(t *testing.T, m *model.Model, name string) []float32 {
	t.Helper()
	tn, ok := m.Initializer(name)
	if !ok {
		t.Fatalf("no initializer %q", name)
	}
	return tn.Float32s()
}

func attrOf(t *testing.T, n *model.Node, name string) model.Attr {
	t.Helper()
	a, ok := n.Attr(name)
	if !ok {
		t.Fatalf("node %s has no attribute %q", n.Name, name)
	}
	return a
}

// convBNRelu builds x[N,3,6,6] → Conv(4 out, 3×3, pad 1, bias) → BN → Relu.
func convBNRelu(e enc) []byte {
	m := newModel(13, e)
	m.input("x", "N", 3, 6, 6)
	m.initF("W", []int64{4, 3, 3, 3}, values(108, 1))
	m.initF("B", []int64{4}, values(4, 2))
	m.initF("scale", []int64{4}, []float32{1.5, 0.5, -1, 2})
	m.initF("bias", []int64{4}, []float32{0.1, -0.2, 0.3, 0})
	m.initF("mean", []int64{4}, []float32{0.05, -0.1, 0.2, 0.4})
	m.initF("var", []int64{4}, []float32{1, 0.25, 4, 0.01})
	m.node("Conv", "conv1", []string{"x", "W", "B"}, []string{"c"},
		aInts("kernel_shape", []int64{3, 3}, e.packed), aInts("pads", []int64{1, 1, 1, 1}, e.packed))
	m.node("BatchNormalization", "bn1", []string{"c", "scale", "bias", "mean", "var"}, []string{"b"}, aFloat("epsilon", 1e-3))
	m.node("Relu", "relu1", []string{"b"}, []string{"y"})
	m.output("y", "N", 4, 6, 6)
	return m.bytes()
}

func TestBatchNormFoldAndFusion(t *testing.T) {
	var fp [32]byte
	for i, e := range encodings {
		m := mustConvert(t, convBNRelu(e), Options{})
		wantOps(t, m, "Conv")
		n := &m.Graph.Nodes[0]
		if a := attrOf(t, n, "activation"); a.String != model.ActRelu {
			t.Fatalf("activation = %q", a.String)
		}
		if n.Outputs[0] != "y" {
			t.Fatalf("output renamed to %q, want graph output name y", n.Outputs[0])
		}
		W, B := values(108, 1), values(4, 2)
		scale := []float64{1.5, 0.5, -1, 2}
		bias := []float64{0.1, -0.2, 0.3, 0}
		mean := []float64{0.05, -0.1, 0.2, 0.4}
		vr := []float64{1, 0.25, 4, 0.01}
		gw, gb := initFloats(t, m, n.Inputs[1]), initFloats(t, m, n.Inputs[2])
		for o := 0; o < 4; o++ {
			s := scale[o] / math.Sqrt(vr[o]+float64(float32(1e-3)))
			for k := 0; k < 27; k++ {
				want := float64(W[o*27+k]) * s
				if d := math.Abs(float64(gw[o*27+k]) - want); d > 1e-6*math.Max(1, math.Abs(want)) {
					t.Fatalf("W'[%d,%d] = %v, want %v", o, k, gw[o*27+k], want)
				}
			}
			want := (float64(B[o])-mean[o])*s + bias[o]
			if d := math.Abs(float64(gb[o]) - want); d > 1e-6 {
				t.Fatalf("B'[%d] = %v, want %v", o, gb[o], want)
			}
		}
		if got := m.Graph.Inputs[0].Shape; len(got) != 4 || got[0] != 1 {
			t.Fatalf("input shape %v, want batch 1", got)
		}
		if got := m.Graph.Outputs[0].Shape; !slices.Equal(got, []int64{1, 4, 6, 6}) {
			t.Fatalf("output shape %v", got)
		}
		// Every encoding of the same model must give the same native model.
		if i == 0 {
			fp = m.Fingerprint()
		} else if m.Fingerprint() != fp {
			t.Fatalf("encoding %+v gives a different fingerprint", e)
		}
		if m.Meta.OutputName != "y" || m.Meta.OutputSize != 144 || m.Meta.L2Normalized {
			t.Fatalf("metadata %+v", m.Meta)
		}
	}
}

func TestBatchNormNotFoldedWhenConvShared(t *testing.T) {
	m := newModel(13, enc{})
	m.input("x", 1, 2, 4, 4)
	m.initF("W", []int64{2, 2, 1, 1}, values(4, 3))
	for _, p := range []string{"s", "b", "m", "v"} {
		m.initF(p, []int64{2}, []float32{1, 2})
	}
	m.node("Conv", "conv", []string{"x", "W"}, []string{"c"})
	m.node("BatchNormalization", "bn", []string{"c", "s", "b", "m", "v"}, []string{"n"})
	m.node("Add", "add", []string{"c", "n"}, []string{"y"})
	m.output("y", 1, 2, 4, 4)
	got := mustConvert(t, m.bytes(), Options{})
	wantOps(t, got, "Conv", "BatchNormalization", "Add")
}

func TestActivationFusion(t *testing.T) {
	cases := []struct {
		op     string
		attrs  []attr
		extra  func(m *mb) []string
		params []float32
	}{
		{op: "Relu"},
		{op: "Sigmoid"},
		{op: "HardSwish"},
		{op: "LeakyRelu", attrs: []attr{aFloat("alpha", 0.2)}, params: []float32{0.2}},
		{op: "HardSigmoid", params: []float32{0.2, 0.5}},
		{op: "Clip", extra: func(m *mb) []string {
			m.initF("lo", nil, []float32{0})
			m.initF("hi", nil, []float32{6})
			return []string{"lo", "hi"}
		}, params: []float32{0, 6}},
		{op: "Clip", extra: func(m *mb) []string {
			m.initF("lo", nil, []float32{-1})
			return []string{"lo", ""}
		}, params: []float32{-1, float32(math.Inf(1))}},
	}
	for _, tc := range cases {
		t.Run(tc.op, func(t *testing.T) {
			m := newModel(14, enc{})
			m.input("x", 1, 8)
			m.initF("B", []int64{8, 4}, values(32, 4))
			m.node("MatMul", "mm", []string{"x", "B"}, []string{"h"})
			in := []string{"h"}
			if tc.extra != nil {
				in = append(in, tc.extra(m)...)
			}
			m.node(tc.op, "act", in, []string{"y"}, tc.attrs...)
			m.output("y", 1, 4)
			got := mustConvert(t, m.bytes(), Options{})
			wantOps(t, got, "MatMul")
			n := &got.Graph.Nodes[0]
			if a := attrOf(t, n, "activation"); a.String != tc.op {
				t.Fatalf("activation %q", a.String)
			}
			if tc.params != nil {
				p := attrOf(t, n, "activation_params").Floats
				if len(p) != len(tc.params) {
					t.Fatalf("params %v, want %v", p, tc.params)
				}
				for i := range p {
					if p[i] != tc.params[i] {
						t.Fatalf("params %v, want %v", p, tc.params)
					}
				}
			}
		})
	}
}

func TestNoFusionWithSecondConsumer(t *testing.T) {
	m := newModel(13, enc{})
	m.input("x", 1, 8)
	m.initF("B", []int64{8, 8}, values(64, 4))
	m.node("Gemm", "fc", []string{"x", "B"}, []string{"h"})
	m.node("Relu", "act", []string{"h"}, []string{"r"})
	m.node("Add", "add", []string{"h", "r"}, []string{"y"})
	m.output("y", 1, 8)
	wantOps(t, mustConvert(t, m.bytes(), Options{}), "Gemm", "Relu", "Add")
}

// TestShapeSubgraphFolding: the Reshape target computed from Shape(x) by
// Gather/Unsqueeze/Concat/Cast, as PyTorch's flatten exports, folds into a
// constant.
func TestShapeSubgraphFolding(t *testing.T) {
	for _, opset := range []int64{11, 13} {
		m := newModel(opset, enc{packed: true})
		m.input("x", "batch", 4, 2, 2)
		m.initI("zero", nil, []int64{0})
		m.initI("minus1", []int64{1}, []int64{-1})
		m.node("Shape", "shape", []string{"x"}, []string{"s"})
		m.node("Gather", "gather", []string{"s", "zero"}, []string{"n"}, aInt("axis", 0))
		if opset >= 13 {
			m.initI("axes0", []int64{1}, []int64{0})
			m.node("Unsqueeze", "unsq", []string{"n", "axes0"}, []string{"n1"})
		} else {
			m.node("Unsqueeze", "unsq", []string{"n"}, []string{"n1"}, aInts("axes", []int64{0}, false))
		}
		m.node("Concat", "cat", []string{"n1", "minus1"}, []string{"target"}, aInt("axis", 0))
		m.node("Cast", "cast", []string{"target"}, []string{"target64"}, aInt("to", dtInt64))
		m.node("Reshape", "reshape", []string{"x", "target64"}, []string{"y"})
		m.output("y", "batch", 16)
		got, rep, err := ConvertReport(m.bytes(), Options{})
		if err != nil {
			t.Fatal(err)
		}
		wantOps(t, got, "Reshape")
		shape, ok := got.Initializer(got.Graph.Nodes[0].Inputs[1])
		if !ok || !slices.Equal(shape.Int64s(), []int64{1, 16}) {
			t.Fatalf("opset %d: reshape target %v", opset, shape)
		}
		if rep.Folded != 5 {
			t.Fatalf("folded %d nodes, want 5", rep.Folded)
		}
		if got.Meta.OutputSize != 16 {
			t.Fatalf("output size %d", got.Meta.OutputSize)
		}
	}
}

func TestInputShapeOption(t *testing.T) {
	m := newModel(13, enc{})
	m.input("x", "N", 3, "H", "W")
	m.node("GlobalAveragePool", "gap", []string{"x"}, []string{"g"})
	m.node("Flatten", "flat", []string{"g"}, []string{"y"})
	m.output("y", "N", 3)
	got := mustConvert(t, m.bytes(), Options{InputShape: []int64{1, 3, 32, 48}})
	if s := got.Graph.Inputs[0].Shape; !slices.Equal(s, []int64{1, 3, 32, 48}) {
		t.Fatalf("input shape %v", s)
	}
	if _, err := Convert(m.bytes(), Options{InputShape: []int64{1, 4, 32, 48}}); !errors.Is(err, ErrOptions) {
		t.Fatalf("static dim override: %v", err)
	}
	if _, err := Convert(m.bytes(), Options{InputShape: []int64{1, 3, 32}}); !errors.Is(err, ErrOptions) {
		t.Fatalf("wrong rank: %v", err)
	}
}

func TestSiLURewrite(t *testing.T) {
	m := newModel(13, enc{})
	m.input("x", 1, 2, 4, 4)
	m.initF("W", []int64{2, 2, 1, 1}, values(4, 5))
	m.node("Conv", "conv", []string{"x", "W"}, []string{"c"})
	m.node("Sigmoid", "sig", []string{"c"}, []string{"s"})
	m.node("Mul", "mul", []string{"s", "c"}, []string{"y"}) // operands swapped on purpose
	m.output("y", 1, 2, 4, 4)
	got := mustConvert(t, m.bytes(), Options{})
	wantOps(t, got, "Conv")
	if a := attrOf(t, &got.Graph.Nodes[0], "activation"); a.String != model.ActSiLU {
		t.Fatalf("activation %q", a.String)
	}

	// Without a Conv in front the rewrite still happens, as a SiLU node.
	m = newModel(13, enc{})
	m.input("x", 1, 4)
	m.node("Sigmoid", "sig", []string{"x"}, []string{"s"})
	m.node("Mul", "mul", []string{"x", "s"}, []string{"y"})
	m.output("y", 1, 4)
	wantOps(t, mustConvert(t, m.bytes(), Options{}), "SiLU")
}

// normalizeModel builds Gemm then F.normalize(p=2, dim=1) as PyTorch exports
// it: ReduceL2 → Clip(min=eps) → Expand(Shape(h)) → Div.
func normalizeModel(withExpand bool) []byte {
	m := newModel(13, enc{raw: true})
	m.input("x", "N", 8)
	m.initF("B", []int64{6, 8}, values(48, 6))
	m.initF("eps", nil, []float32{1e-12})
	m.node("Gemm", "fc", []string{"x", "B"}, []string{"h"}, aInt("transB", 1))
	m.node("ReduceL2", "l2", []string{"h"}, []string{"r"}, aInts("axes", []int64{1}, false), aInt("keepdims", 1))
	m.node("Clip", "clip", []string{"r", "eps"}, []string{"cl"})
	d := "cl"
	if withExpand {
		m.node("Shape", "shape", []string{"h"}, []string{"hs"})
		m.node("Expand", "expand", []string{"cl", "hs"}, []string{"ex"})
		d = "ex"
	}
	m.node("Div", "div", []string{"h", d}, []string{"emb"})
	m.output("emb", "N", 6)
	return m.bytes()
}

func TestL2NormalizeRewrite(t *testing.T) {
	for _, withExpand := range []bool{true, false} {
		got := mustConvert(t, normalizeModel(withExpand), Options{})
		wantOps(t, got, "Gemm", "L2Normalize")
		n := &got.Graph.Nodes[1]
		if a := attrOf(t, n, "axis"); a.Int != 1 {
			t.Fatalf("axis %d", a.Int)
		}
		if a := attrOf(t, n, "epsilon"); a.Float != 1e-12 {
			t.Fatalf("epsilon %v", a.Float)
		}
		if !got.Meta.L2Normalized || got.Meta.OutputSize != 6 || got.Meta.OutputName != "emb" {
			t.Fatalf("metadata %+v", got.Meta)
		}
		if len(got.Graph.Initializers) != 1 {
			t.Fatalf("unused initializers kept: %d", len(got.Graph.Initializers))
		}
	}
}

func TestLpNormalizationMetadata(t *testing.T) {
	m := newModel(13, enc{})
	m.input("x", 1, 8)
	m.node("LpNormalization", "norm", []string{"x"}, []string{"y"}, aInt("axis", -1))
	m.output("y", 1, 8)
	got := mustConvert(t, m.bytes(), Options{})
	if !got.Meta.L2Normalized {
		t.Fatal("LpNormalization p=2 over the last axis should mark the output normalised")
	}
	if a := attrOf(t, &got.Graph.Nodes[0], "axis"); a.Int != 1 {
		t.Fatalf("axis not normalised: %d", a.Int)
	}
}

func TestConstantsOption(t *testing.T) {
	m := newModel(13, enc{})
	m.input("x", 1, 1, 5, 5)
	m.input("W", 2, 1, 3, 3)
	m.node("Conv", "", []string{"x", "W"}, []string{"y"})
	m.output("y", 1, 2, 3, 3)
	data := m.bytes()
	if _, err := Convert(data, Options{}); !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "Options.Constants") {
		t.Fatalf("conv with W as input: %v", err)
	}
	w := model.NewFloat32Tensor("W", []int64{2, 1, 3, 3}, values(18, 7))
	got := mustConvert(t, data, Options{Constants: map[string]model.Tensor{"W": w}})
	if len(got.Graph.Inputs) != 1 || got.Graph.Inputs[0].Name != "x" {
		t.Fatalf("inputs %+v", got.Graph.Inputs)
	}
	if gw := initFloats(t, got, "W"); gw[17] != values(18, 7)[17] {
		t.Fatal("bound constant not stored")
	}
	if _, err := Convert(data, Options{Constants: map[string]model.Tensor{"nope": w}}); !errors.Is(err, ErrOptions) {
		t.Fatalf("unknown constant name: %v", err)
	}
	bad := model.NewFloat32Tensor("W", []int64{2, 1, 3, 2}, values(12, 7))
	if _, err := Convert(data, Options{Constants: map[string]model.Tensor{"W": bad}}); !errors.Is(err, ErrOptions) {
		t.Fatalf("constant of the wrong shape: %v", err)
	}
}

func TestConstantNodes(t *testing.T) {
	for _, e := range encodings {
		m := newModel(13, e)
		m.input("x", 1, 2, 3, 3)
		m.node("Constant", "wc", nil, []string{"W"}, aTensor("value", floatTensor("", []int64{4, 2, 1, 1}, values(8, 8), e)))
		m.node("Constant", "sc", nil, []string{"shape"}, aInts("value_ints", []int64{1, -1}, e.packed))
		m.node("Constant", "k", nil, []string{"k"}, aFloat("value_float", 2))
		m.node("Conv", "conv", []string{"x", "W"}, []string{"c"})
		m.node("Reshape", "flat", []string{"c", "shape"}, []string{"r"})
		m.node("Mul", "scale", []string{"r", "k"}, []string{"y"})
		m.output("y", 1, 36)
		got := mustConvert(t, m.bytes(), Options{})
		wantOps(t, got, "Conv", "Reshape", "Mul")
		if w := initFloats(t, got, "W"); w[5] != values(8, 8)[5] {
			t.Fatalf("Constant weights %v", w)
		}
		if s, _ := got.Initializer(got.Graph.Nodes[1].Inputs[1]); !slices.Equal(s.Int64s(), []int64{1, 36}) {
			t.Fatalf("reshape target %v", s.Int64s())
		}
	}
}

func TestIdentityAndDropoutRemoved(t *testing.T) {
	m := newModel(13, enc{})
	m.input("x", 1, 4)
	m.initF("B", []int64{4, 4}, values(16, 9))
	m.node("Identity", "id0", []string{"x"}, []string{"x1"})
	m.node("MatMul", "mm", []string{"x1", "B"}, []string{"h"})
	m.node("Dropout", "drop", []string{"h"}, []string{"d"})
	m.node("Identity", "id1", []string{"d"}, []string{"out"})
	m.output("out", 1, 4)
	got, rep, err := ConvertReport(m.bytes(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	wantOps(t, got, "MatMul")
	n := got.Graph.Nodes[0]
	if n.Inputs[0] != "x" || n.Outputs[0] != "out" || got.Graph.Outputs[0].Name != "out" {
		t.Fatalf("node %+v outputs %+v", n, got.Graph.Outputs)
	}
	if rep.Removed != 3 {
		t.Fatalf("removed %d, want 3", rep.Removed)
	}

	// Input straight to output through Identity: kept as a copying Reshape.
	m = newModel(13, enc{})
	m.input("x", 1, 4)
	m.node("Identity", "id", []string{"x"}, []string{"y"})
	m.output("y", 1, 4)
	wantOps(t, mustConvert(t, m.bytes(), Options{}), "Reshape")
}

func TestDeadNodesRemoved(t *testing.T) {
	m := newModel(13, enc{})
	m.input("x", 1, 4)
	m.node("Relu", "used", []string{"x"}, []string{"y"})
	m.node("Sigmoid", "unused", []string{"x"}, []string{"z"})
	m.output("y", 1, 4)
	wantOps(t, mustConvert(t, m.bytes(), Options{}), "Relu")
}

func TestPoolsAndAutoPad(t *testing.T) {
	m := newModel(13, enc{})
	m.input("x", 1, 2, 7, 7)
	m.initF("W", []int64{2, 2, 3, 3}, values(36, 10))
	m.node("Conv", "conv", []string{"x", "W"}, []string{"c"}, aString("auto_pad", "SAME_UPPER"), aInts("strides", []int64{2, 2}, false))
	m.node("MaxPool", "pool", []string{"c"}, []string{"p"}, aInts("kernel_shape", []int64{3, 3}, false), aInts("strides", []int64{2, 2}, false), aInt("ceil_mode", 1))
	m.node("AveragePool", "avg", []string{"p"}, []string{"y"}, aInts("kernel_shape", []int64{2, 2}, false))
	m.output("y", 1, 2, 1, 1)
	got := mustConvert(t, m.bytes(), Options{})
	conv := &got.Graph.Nodes[0]
	if p := attrOf(t, conv, "pads").Ints; !slices.Equal(p, []int64{1, 1, 1, 1}) {
		t.Fatalf("SAME_UPPER pads %v", p)
	}
	if _, ok := conv.Attr("auto_pad"); ok {
		t.Fatal("auto_pad kept after resolving it")
	}
	// conv 7→4 (SAME, stride 2); maxpool k3 s2 ceil: 4→2; avgpool k2: 2→1.
	if s := got.Graph.Outputs[0].Shape; !slices.Equal(s, []int64{1, 2, 1, 1}) {
		t.Fatalf("output shape %v", s)
	}
}

func TestUnsqueezeBecomesReshape(t *testing.T) {
	m := newModel(13, enc{})
	m.input("x", 1, 4)
	m.initI("axes", []int64{2}, []int64{2, 3})
	m.node("Unsqueeze", "u", []string{"x", "axes"}, []string{"y"})
	m.output("y", 1, 4, 1, 1)
	got := mustConvert(t, m.bytes(), Options{})
	wantOps(t, got, "Reshape")
	if s, _ := got.Initializer(got.Graph.Nodes[0].Inputs[1]); !slices.Equal(s.Int64s(), []int64{1, 4, 1, 1}) {
		t.Fatalf("target %v", s.Int64s())
	}
}

func TestConstantFoldingOps(t *testing.T) {
	// Transpose, Slice, Concat, Mul and Expand on constants, feeding a Gemm.
	m := newModel(13, enc{})
	m.input("x", 1, 3)
	m.initF("Bt", []int64{2, 3}, []float32{1, 2, 3, 4, 5, 6})
	m.initI("st", []int64{1}, []int64{1})
	m.initI("en", []int64{1}, []int64{math.MaxInt64})
	m.initI("ax", []int64{1}, []int64{0})
	m.initF("two", nil, []float32{2})
	m.initI("eshape", []int64{2}, []int64{3, 1})
	m.initF("one", []int64{1, 1}, []float32{1})
	m.node("Transpose", "t", []string{"Bt"}, []string{"B"})                         // [3,2] = [[1,4],[2,5],[3,6]]
	m.node("Slice", "s", []string{"B", "st", "en", "ax"}, []string{"Bs"})           // [2,2] = [[2,5],[3,6]]
	m.node("Expand", "e", []string{"one", "eshape"}, []string{"ones"})              // [3,1]
	m.node("Slice", "s2", []string{"ones", "st", "en", "ax"}, []string{"ones2"})    // [2,1]
	m.node("Concat", "c", []string{"Bs", "ones2"}, []string{"Bc"}, aInt("axis", 1)) // [2,3]
	m.node("Mul", "m", []string{"Bc", "two"}, []string{"B2"})                       // ×2
	m.node("Gemm", "fc", []string{"x", "B2"}, []string{"y"}, aInt("transB", 1))
	m.output("y", 1, 2)
	got := mustConvert(t, m.bytes(), Options{})
	wantOps(t, got, "Gemm")
	b := initFloats(t, got, got.Graph.Nodes[0].Inputs[1])
	want := []float32{4, 10, 2, 6, 12, 2}
	for i := range want {
		if b[i] != want[i] {
			t.Fatalf("folded B = %v, want %v", b, want)
		}
	}
}

func TestReadTensor(t *testing.T) {
	vals := []float32{1.5, -2, 3.25, 0}
	for _, e := range encodings {
		tn, err := ReadTensor(floatTensor("t", []int64{2, 2}, vals, e).b)
		if err != nil {
			t.Fatal(err)
		}
		if tn.DType != model.Float32 || !slices.Equal(tn.Shape, []int64{2, 2}) || tn.Float32s()[2] != 3.25 || tn.Name != "t" {
			t.Fatalf("%+v: %+v", e, tn)
		}
		ti, err := ReadTensor(int64Tensor("i", []int64{3}, []int64{-1, 7, 1 << 40}, e).b)
		if err != nil || ti.DType != model.Int64 || ti.Int64s()[2] != 1<<40 || ti.Int64s()[0] != -1 {
			t.Fatalf("int64 %+v: %v %v", e, ti, err)
		}
	}
	// double, typed and raw
	d := &pb{}
	d.ints(1, []int64{2}, false)
	d.varint(2, dtDouble)
	d.fixed64(10, math.Float64bits(0.5))
	d.fixed64(10, math.Float64bits(-4))
	if tn, err := ReadTensor(d.b); err != nil || tn.DType != model.Float32 || tn.Float32s()[1] != -4 {
		t.Fatalf("double: %v %v", tn, err)
	}
	// int8, uint8 and bool from int32_data; int32 raw.
	for _, tc := range []struct {
		dt    int64
		in    []int64
		dtype model.DType
		want  []byte
	}{
		{dtInt8, []int64{-3, 5}, model.Int8, []byte{0xfd, 5}},
		{dtUint8, []int64{200, 1}, model.Int32, []byte{200, 0, 0, 0, 1, 0, 0, 0}},
		{dtBool, []int64{1, 0}, model.Int32, []byte{1, 0, 0, 0, 0, 0, 0, 0}},
		{dtInt32, []int64{-1, 2}, model.Int32, []byte{0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0}},
	} {
		p := &pb{}
		p.ints(1, []int64{2}, true)
		p.varint(2, tc.dt)
		p.ints(5, tc.in, true)
		tn, err := ReadTensor(p.b)
		if err != nil || tn.DType != tc.dtype || string(tn.Data) != string(tc.want) {
			t.Fatalf("type %d: %+v %v", tc.dt, tn, err)
		}
	}
	// float16 raw: 0x3c00 = 1, 0xc000 = -2.
	h := &pb{}
	h.ints(1, []int64{2}, false)
	h.varint(2, dtFloat16)
	h.bytes(9, []byte{0x00, 0x3c, 0x00, 0xc0})
	if tn, err := ReadTensor(h.b); err != nil || tn.Float32s()[0] != 1 || tn.Float32s()[1] != -2 {
		t.Fatalf("float16: %v %v", tn, err)
	}
}

func TestMatMulShapes(t *testing.T) {
	for _, tc := range []struct{ a, b, want []int64 }{
		{[]int64{4}, []int64{4}, []int64{}},
		{[]int64{4}, []int64{4, 3}, []int64{3}},
		{[]int64{2, 4}, []int64{4}, []int64{2}},
		{[]int64{5, 2, 4}, []int64{4, 3}, []int64{5, 2, 3}},
		{[]int64{1, 2, 4}, []int64{6, 4, 3}, []int64{6, 2, 3}},
	} {
		got, err := matmulShape(tc.a, tc.b)
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("matmul %v × %v = %v, %v; want %v", tc.a, tc.b, got, err, tc.want)
		}
	}
	if _, err := matmulShape([]int64{2, 4}, []int64{5, 3}); err == nil {
		t.Error("inner dimension mismatch accepted")
	}
}

func TestMetadataOptions(t *testing.T) {
	data := convBNRelu(enc{})
	m := mustConvert(t, data, Options{Name: "net", Mean: []float32{0.5, 0.5, 0.5}, Std: []float32{0.25, 0.25, 0.25},
		ChannelOrder: "BGR", Extra: map[string]string{"license": "test"}})
	if m.Meta.Name != "net" || m.Meta.ChannelOrder != "BGR" || m.Meta.InputLayout != "NCHW" || m.Meta.Std[2] != 0.25 ||
		m.Meta.Extra["license"] != "test" || m.Meta.Extra["onnx_opset"] != "13" || m.Meta.Extra["onnx_producer"] != "signet-test" ||
		!strings.HasPrefix(m.Meta.ConverterVersion, "signet-convert ") {
		t.Fatalf("metadata %+v", m.Meta)
	}
	if m.Meta.SourceSHA256 == [32]byte{} {
		t.Fatal("no source hash")
	}
	for _, o := range []Options{
		{Mean: []float32{0.5, 0.5}},
		{Mean: []float32{0.5, 0.5, 0.5}, Std: []float32{1, 1}},
		{Std: []float32{1, 0, 1}},
		{ChannelOrder: "RGBA"},
	} {
		if _, err := Convert(data, o); !errors.Is(err, ErrOptions) {
			t.Errorf("options %+v: %v", o, err)
		}
	}
}

func TestFreshNamesAvoidLaterValues(t *testing.T) {
	// The converter names the resolved Reshape target "<node>_shape"; a
	// later ONNX value of that very name must not clash with it.
	m := newModel(13, enc{})
	m.input("x", 1, 2, 2)
	m.initI("s", []int64{2}, []int64{0, -1})
	m.node("Reshape", "r", []string{"x", "s"}, []string{"y0"})
	m.node("Relu", "act", []string{"y0"}, []string{"r_shape"})
	m.output("r_shape", 1, 4)
	mustConvert(t, m.bytes(), Options{})
}

func TestCastSqueezeAndUnaryFolding(t *testing.T) {
	m := newModel(13, enc{})
	m.input("x", 1, 3, 1, 1)
	m.initF("c", []int64{3}, []float32{-1.5, 0.5, 2.5})
	m.initI("ax", []int64{2}, []int64{2, 3})
	m.node("Relu", "relu_c", []string{"c"}, []string{"rc"})                       // [0, 0.5, 2.5]
	m.node("Cast", "to_int", []string{"rc"}, []string{"ic"}, aInt("to", dtInt32)) // [0, 0, 2]
	m.node("Cast", "to_float", []string{"ic"}, []string{"fc"}, aInt("to", dtFloat))
	m.node("Clip", "clip_c", []string{"fc"}, []string{"cc"}, aFloat("min", 1)) // [1, 1, 2]
	m.node("Squeeze", "sq", []string{"x", "ax"}, []string{"xs"})               // runtime → Reshape [1,3]
	m.node("Cast", "noop", []string{"xs"}, []string{"xf"}, aInt("to", dtFloat))
	m.node("Mul", "mul", []string{"xf", "cc"}, []string{"y"})
	m.output("y", 1, 3)
	got, rep, err := ConvertReport(m.bytes(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	wantOps(t, got, "Reshape", "Mul")
	if s, _ := got.Initializer(got.Graph.Nodes[0].Inputs[1]); !slices.Equal(s.Int64s(), []int64{1, 3}) {
		t.Fatalf("squeeze target %v", s.Int64s())
	}
	c := initFloats(t, got, got.Graph.Nodes[1].Inputs[1])
	if len(c) != 3 || c[0] != 1 || c[1] != 1 || c[2] != 2 {
		t.Fatalf("folded constant %v, want [1 1 2]", c)
	}
	if rep.Folded != 4 || rep.Removed != 1 {
		t.Fatalf("folded %d removed %d", rep.Folded, rep.Removed)
	}

	// A computed value cast to an integer type cannot be represented.
	m = newModel(13, enc{})
	m.input("x", 1, 3)
	m.node("Cast", "c", []string{"x"}, []string{"y"}, aInt("to", dtInt64))
	m.output("y", 1, 3)
	if _, err := Convert(m.bytes(), Options{}); !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "int64") {
		t.Fatalf("cast to int64: %v", err)
	}
}

func TestDefaultName(t *testing.T) {
	if got := DefaultName("models/resnet18.onnx"); got != "resnet18" {
		t.Fatalf("DefaultName = %q", got)
	}
}
