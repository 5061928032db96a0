package onnx

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/signet-go/signet/engine/reference"
	"github.com/signet-go/signet/model"
)

// Tests of Pad (and its folding), LayerNormalization, Softmax and
// ReduceSum/Max/Min. Numeric checks run the converted graph and a native
// graph built by hand on the reference.

func convertOK(t *testing.T, data []byte) (*model.Model, *Report) {
	t.Helper()
	m, rep, err := ConvertReport(data, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return m, rep
}

func nodeOps(m *model.Model) []string {
	var ops []string
	for _, n := range m.Graph.Nodes {
		ops = append(ops, n.Op)
	}
	return ops
}

func mustAttr(t *testing.T, n *model.Node, name string) model.Attr {
	t.Helper()
	a, ok := n.Attr(name)
	if !ok {
		t.Fatalf("%s node has no attribute %q: %+v", n.Op, name, n.Attrs)
	}
	return a
}

// runRef runs m on the reference with deterministic inputs.
func runRef(t *testing.T, m *model.Model) [][]float32 {
	t.Helper()
	var ins [][]float32
	for i, v := range m.Graph.Inputs {
		n := 1
		for _, d := range v.Shape {
			n *= int(max(d, 1))
		}
		ins = append(ins, values(n, uint32(7+i)))
	}
	out, err := reference.Run(m, ins)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func closeAll(t *testing.T, got, want []float32, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d values, want %d", len(got), len(want))
	}
	for i := range got {
		if d := math.Abs(float64(got[i]) - float64(want[i])); d > tol*(1+math.Abs(float64(want[i]))) {
			t.Fatalf("value %d = %v, want %v", i, got[i], want[i])
		}
	}
}

func TestPadTranslation(t *testing.T) {
	// Opset 13: pads and constant_value are inputs.
	m := newModel(13, enc{})
	m.input("x", 1, 2, 3, 4)
	m.initI("pads", []int64{8}, []int64{0, 0, 1, 2, 0, 0, 3, -1})
	m.initF("cv", nil, []float32{1.5})
	m.node("Pad", "p", []string{"x", "pads", "cv"}, []string{"y"})
	m.output("y", 1, 2, 7, 5)
	got, _ := convertOK(t, m.bytes())
	if ops := nodeOps(got); !slices.Equal(ops, []string{model.OpPad}) {
		t.Fatalf("ops %v", ops)
	}
	n := &got.Graph.Nodes[0]
	if a := mustAttr(t, n, "pads"); !slices.Equal(a.Ints, []int64{0, 0, 1, 2, 0, 0, 3, -1}) {
		t.Errorf("pads %v", a.Ints)
	}
	if a := mustAttr(t, n, "value"); a.Float != 1.5 {
		t.Errorf("value %v", a.Float)
	}
	if s := got.Graph.Outputs[0].Shape; !slices.Equal(s, []int64{1, 2, 7, 5}) {
		t.Errorf("output shape %v", s)
	}

	// Opset 10: the attribute form (Pad-2), reflect.
	m = newModel(10, enc{})
	m.input("x", 1, 2, 3, 4)
	m.node("Pad", "p", []string{"x"}, []string{"y"}, aString("mode", "reflect"), aInts("pads", []int64{0, 0, 2, 2, 0, 0, 2, 2}, true))
	m.output("y", 1, 2, 7, 8)
	got, _ = convertOK(t, m.bytes())
	if a := mustAttr(t, &got.Graph.Nodes[0], "mode"); a.String != "reflect" {
		t.Errorf("mode %q", a.String)
	}

	// All-zero pads (what torch.onnx puts before AveragePool) vanish.
	m = newModel(13, enc{})
	m.input("x", 1, 2, 4, 4)
	m.initI("pads", []int64{8}, make([]int64, 8))
	m.node("Pad", "p", []string{"x", "pads"}, []string{"t"})
	m.node("AveragePool", "a", []string{"t"}, []string{"y"}, aInts("kernel_shape", []int64{2, 2}, true), aInts("strides", []int64{2, 2}, true))
	m.output("y", 1, 2, 2, 2)
	got, _ = convertOK(t, m.bytes())
	if ops := nodeOps(got); !slices.Equal(ops, []string{model.OpAveragePool}) {
		t.Errorf("ops %v, want the Pad removed", ops)
	}

	for _, c := range []struct {
		name  string
		opset int64
		in    []string
		attrs []attr
		want  error
		msg   string
	}{
		{"wrap", 13, []string{"x", "pads"}, []attr{aString("mode", "wrap")}, ErrUnsupported, `mode "wrap"`},
		{"pads computed", 13, []string{"x", "x"}, nil, ErrUnsupported, "not a constant"},
		{"attribute at 13", 13, []string{"x", "pads"}, []attr{aInts("pads", []int64{0, 0}, true)}, ErrMalformed, "an input from opset 11"},
		{"no pads at 10", 10, []string{"x"}, nil, ErrMalformed, "missing pads"},
		{"opset 1", 1, []string{"x"}, nil, ErrUnsupported, "operator changed in opset 2"},
		{"empty", 13, []string{"x", "crop"}, nil, ErrUnsupported, "empty"},
	} {
		m := newModel(c.opset, enc{})
		m.input("x", 1, 2, 3, 4)
		m.initI("pads", []int64{8}, []int64{0, 0, 1, 1, 0, 0, 1, 1})
		m.initI("crop", []int64{8}, []int64{0, 0, -2, 0, 0, 0, -1, 0})
		m.node("Pad", "p", c.in, []string{"y"}, c.attrs...)
		m.output("y")
		_, err := Convert(m.bytes(), Options{})
		if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: %v, want %v containing %q", c.name, err, c.want, c.msg)
		}
	}
}

// padThen builds Pad(x, pads, value) → op(attrs) at opset 13, and the same
// graph natively (unfolded) for the reference.
func padThen(op string, pads []int64, value float32, attrs []attr, native []model.Attr) ([]byte, *model.Model) {
	m := newModel(13, enc{})
	m.input("x", 1, 3, 6, 7)
	m.initI("pads", []int64{8}, pads)
	m.initF("cv", nil, []float32{value})
	in := []string{"t"}
	nin := []string{"t"}
	g := model.Graph{Inputs: []model.Value{{Name: "x", Shape: []int64{1, 3, 6, 7}}}}
	if op == "Conv" {
		w := values(4*3*3*3, 5)
		m.initF("w", []int64{4, 3, 3, 3}, w)
		in = append(in, "w")
		nin = append(nin, "w")
		g.Initializers = append(g.Initializers, model.NewFloat32Tensor("w", []int64{4, 3, 3, 3}, w))
	}
	m.node("Pad", "p", []string{"x", "pads", "cv"}, []string{"t"})
	m.node(op, "n", in, []string{"y"}, attrs...)
	m.output("y")
	padAttrs := []model.Attr{stringAttr("mode", "constant"), intsAttr("pads", pads), floatAttr("value", value)}
	g.Nodes = []model.Node{
		{Op: model.OpPad, Name: "p", Inputs: []string{"x"}, Outputs: []string{"t"}, Attrs: padAttrs},
		{Op: op, Name: "n", Inputs: nin, Outputs: []string{"y"}, Attrs: native},
	}
	g.Outputs = []model.Value{{Name: "y"}}
	ref, err := model.New(model.Metadata{}, g)
	if err != nil {
		panic(err)
	}
	return m.bytes(), ref
}

func TestFoldPads(t *testing.T) {
	spatial := []int64{0, 0, 1, 2, 0, 0, 2, 1}
	k3 := []attr{aInts("kernel_shape", []int64{3, 3}, true)}
	nk3 := []model.Attr{intsAttr("kernel_shape", []int64{3, 3})}
	ninf := float32(math.Inf(-1))
	for _, c := range []struct {
		name   string
		op     string
		pads   []int64
		value  float32
		attrs  []attr
		native []model.Attr
		folded bool
		cip    int64 // count_include_pad after folding (AveragePool)
	}{
		{"conv", "Conv", spatial, 0, append(k3, aInts("pads", []int64{1, 0, 0, 1}, true)),
			append(nk3, intsAttr("pads", []int64{1, 0, 0, 1})), true, -1},
		{"conv nonzero", "Conv", spatial, 0.5, k3, nk3, false, -1},
		{"avg channel pad", "AveragePool", []int64{0, 1, 0, 0, 0, 0, 0, 0}, 0, k3, nk3, false, -1},
		{"avg pads reach the window", "AveragePool", []int64{0, 0, 2, 0, 0, 0, 0, 0}, 0, append(k3, aInt("count_include_pad", 1), aInts("pads", []int64{1, 1, 1, 1}, true)),
			append(nk3, intAttr("count_include_pad", 1), intsAttr("pads", []int64{1, 1, 1, 1})), false, -1},
		{"avg counted", "AveragePool", []int64{0, 0, 1, 0, 0, 0, 0, 1}, 0, append(k3, aInt("count_include_pad", 1), aInts("pads", []int64{1, 1, 1, 1}, true)),
			append(nk3, intAttr("count_include_pad", 1), intsAttr("pads", []int64{1, 1, 1, 1})), true, 1},
		{"avg no pads", "AveragePool", spatial, 0, k3, nk3, true, 1},
		{"avg own pads not counted", "AveragePool", spatial, 0, append(k3, aInts("pads", []int64{1, 1, 1, 1}, true)),
			append(nk3, intsAttr("pads", []int64{1, 1, 1, 1})), false, -1},
		{"avg ceil", "AveragePool", spatial, 0, append(k3, aInt("ceil_mode", 1), aInts("strides", []int64{2, 2}, true)),
			append(nk3, intAttr("ceil_mode", 1), intsAttr("strides", []int64{2, 2})), false, -1},
		{"max -inf", "MaxPool", spatial, ninf, k3, nk3, true, -1},
		{"max zero", "MaxPool", spatial, 0, k3, nk3, false, -1},
	} {
		t.Run(c.name, func(t *testing.T) {
			data, ref := padThen(c.op, c.pads, c.value, c.attrs, c.native)
			got, rep := convertOK(t, data)
			wantOps := []string{model.OpPad, c.op}
			if c.folded {
				wantOps = []string{c.op}
			}
			if ops := nodeOps(got); !slices.Equal(ops, wantOps) || (rep.PadFolded == 1) != c.folded {
				t.Fatalf("ops %v (%d folded), want %v", ops, rep.PadFolded, wantOps)
			}
			if c.cip >= 0 {
				if a := mustAttr(t, &got.Graph.Nodes[0], "count_include_pad"); a.Int != c.cip {
					t.Errorf("count_include_pad %d, want %d", a.Int, c.cip)
				}
			}
			closeAll(t, runRef(t, got)[0], runRef(t, ref)[0], 1e-5)
		})
	}
}

func TestReduceSumTranslation(t *testing.T) {
	build := func(opset int64, in []string, attrs ...attr) []byte {
		m := newModel(opset, enc{})
		m.input("x", 2, 3, 4)
		m.initI("axes", []int64{2}, []int64{-1, 0})
		m.initI("none", []int64{0}, nil)
		m.node("ReduceSum", "r", in, []string{"y"}, attrs...)
		m.output("y")
		return m.bytes()
	}
	got, _ := convertOK(t, build(13, []string{"x", "axes"}, aInt("keepdims", 0)))
	n := &got.Graph.Nodes[0]
	if a := mustAttr(t, n, "axes"); n.Op != model.OpReduceSum || !slices.Equal(a.Ints, []int64{2, 0}) {
		t.Errorf("%s axes %v", n.Op, a.Ints)
	}
	if s := got.Graph.Outputs[0].Shape; !slices.Equal(s, []int64{3}) {
		t.Errorf("shape %v", s)
	}
	got, _ = convertOK(t, build(11, []string{"x"}, aInts("axes", []int64{1}, true)))
	if a := mustAttr(t, &got.Graph.Nodes[0], "axes"); !slices.Equal(a.Ints, []int64{1}) {
		t.Errorf("opset 11 axes %v", a.Ints)
	}
	// Empty axes: all of them, or (noop_with_empty_axes) the identity.
	got, _ = convertOK(t, build(13, []string{"x", "none"}))
	if a := mustAttr(t, &got.Graph.Nodes[0], "axes"); !slices.Equal(a.Ints, []int64{0, 1, 2}) {
		t.Errorf("empty axes %v", a.Ints)
	}
	got, _ = convertOK(t, build(13, []string{"x", "none"}, aInt("noop_with_empty_axes", 1)))
	if ops := nodeOps(got); !slices.Equal(ops, []string{model.OpReshape}) {
		t.Errorf("noop: ops %v", ops)
	}
	if _, err := Convert(build(13, []string{"x", "x"}), Options{}); !errors.Is(err, ErrUnsupported) {
		t.Errorf("computed axes: %v", err)
	}
	if _, err := Convert(build(13, []string{"x"}, aInts("axes", []int64{1}, true)), Options{}); !errors.Is(err, ErrMalformed) {
		t.Errorf("axes attribute at opset 13: %v", err)
	}
	// ReduceMax and ReduceMin: axes attribute, as ReduceMean.
	for _, op := range []string{"ReduceMax", "ReduceMin"} {
		m := newModel(13, enc{})
		m.input("x", 2, 3, 4)
		m.node(op, "r", []string{"x"}, []string{"y"}, aInts("axes", []int64{-2}, true))
		m.output("y")
		got, _ := convertOK(t, m.bytes())
		if a := mustAttr(t, &got.Graph.Nodes[0], "axes"); got.Graph.Nodes[0].Op != op || !slices.Equal(a.Ints, []int64{1}) {
			t.Errorf("%s: %v axes %v", op, got.Graph.Nodes[0].Op, a.Ints)
		}
	}
}

func TestSoftmaxTranslation(t *testing.T) {
	build := func(opset int64, attrs ...attr) []byte {
		m := newModel(opset, enc{})
		m.input("x", 2, 3, 4)
		m.node("Softmax", "s", []string{"x"}, []string{"y"}, attrs...)
		m.output("y")
		return m.bytes()
	}
	got, _ := convertOK(t, build(13, aInt("axis", 1)))
	if ops := nodeOps(got); !slices.Equal(ops, []string{model.OpSoftmax}) || mustAttr(t, &got.Graph.Nodes[0], "axis").Int != 1 {
		t.Errorf("opset 13: %v", ops)
	}
	got, _ = convertOK(t, build(13))
	if a := mustAttr(t, &got.Graph.Nodes[0], "axis"); a.Int != 2 {
		t.Errorf("opset 13 default axis %d", a.Int)
	}
	// Opset 11, axis 2 (the last): the same op.
	got, _ = convertOK(t, build(11, aInt("axis", -1)))
	if ops := nodeOps(got); !slices.Equal(ops, []string{model.OpSoftmax}) {
		t.Errorf("opset 11 last axis: %v", ops)
	}
	// Opset 11, default axis 1: the dims 1.. flattened.
	got, _ = convertOK(t, build(11))
	if ops := nodeOps(got); !slices.Equal(ops, []string{model.OpReshape, model.OpSoftmax, model.OpReshape}) {
		t.Fatalf("opset 11 axis 1: %v", ops)
	}
	y := runRef(t, got)[0]
	x := values(24, 7)
	for r := 0; r < 2; r++ {
		var s float64
		for k := 0; k < 12; k++ {
			s += math.Exp(float64(x[r*12+k]))
		}
		for k := 0; k < 12; k++ {
			want := math.Exp(float64(x[r*12+k])) / s
			if math.Abs(float64(y[r*12+k])-want) > 1e-6 {
				t.Fatalf("y[%d] = %v, want %v", r*12+k, y[r*12+k], want)
			}
		}
	}
	if _, err := Convert(build(10), Options{}); !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "operator changed in opset 11") {
		t.Errorf("opset 10: %v", err)
	}
}

func TestLayerNormTranslation(t *testing.T) {
	build := func(scaleDims []int64, attrs ...attr) []byte {
		m := newModel(17, enc{})
		m.input("x", 2, 3, 4)
		n := 1
		for _, d := range scaleDims {
			n *= int(d)
		}
		m.initF("w", scaleDims, values(n, 3))
		m.initF("b", scaleDims, values(n, 4))
		m.node("LayerNormalization", "ln", []string{"x", "w", "b"}, []string{"y", "mean", "inv"}, attrs...)
		m.output("y")
		m.output("mean")
		m.output("inv")
		return m.bytes()
	}
	got, _ := convertOK(t, build([]int64{4}))
	n := &got.Graph.Nodes[0]
	if a := mustAttr(t, n, "axes"); n.Op != model.OpLayerNormalization || !slices.Equal(a.Ints, []int64{2}) {
		t.Errorf("%s axes %v", n.Op, a.Ints)
	}
	if s := got.Graph.Outputs[1].Shape; !slices.Equal(s, []int64{2, 3, 1}) {
		t.Errorf("mean shape %v", s)
	}
	// axis 1 with a scale of shape [4]: broadcast to [3, 4].
	got, _ = convertOK(t, build([]int64{4}, aInt("axis", 1)))
	if a := mustAttr(t, &got.Graph.Nodes[0], "axes"); !slices.Equal(a.Ints, []int64{1, 2}) {
		t.Errorf("axis 1: axes %v", a.Ints)
	}
	w, _ := got.Initializer(got.Graph.Nodes[0].Inputs[1])
	if !slices.Equal(w.Shape, []int64{3, 4}) {
		t.Errorf("broadcast scale of shape %v", w.Shape)
	}
	runRef(t, got)
	if _, err := Convert(build([]int64{3}), Options{}); !errors.Is(err, ErrMalformed) {
		t.Errorf("scale [3] over dims [4]: %v", err)
	}
	if _, err := Convert(build([]int64{4}, aInt("stash_type", 10)), Options{}); !errors.Is(err, ErrUnsupported) {
		t.Errorf("stash_type 10: %v", err)
	}
}

// lnPattern builds what torch.onnx (opset < 17) exports for F.layer_norm
// over axes of x, with optional W and B, and lets edit change one piece.
func lnPattern(xdims []int64, axes []int64, wdims, bdims []int64, edit string) []byte {
	m := newModel(13, enc{})
	dims := make([]any, len(xdims))
	n := 1
	for i, d := range xdims {
		dims[i] = int(d)
		n *= int(d)
	}
	m.input("x", dims...)
	m.initF("two", nil, []float32{2})
	if edit == "pow3" {
		m.inits[len(m.inits)-1] = floatTensor("two", nil, []float32{3}, m.e)
	}
	m.initF("eps", nil, []float32{1e-6})
	vaxes := axes
	if edit == "axes" {
		vaxes = axes[len(axes)-1:]
	}
	m.node("ReduceMean", "m", []string{"x"}, []string{"mean"}, aInts("axes", axes, true))
	m.node("Sub", "s", []string{"x", "mean"}, []string{"d"})
	if edit == "mul" {
		m.node("Mul", "p", []string{"d", "d"}, []string{"sq"})
	} else {
		m.node("Pow", "p", []string{"d", "two"}, []string{"sq"})
	}
	m.node("ReduceMean", "v", []string{"sq"}, []string{"var"}, aInts("axes", vaxes, true))
	m.node("Add", "a", []string{"var", "eps"}, []string{"ve"})
	m.node("Sqrt", "q", []string{"ve"}, []string{"std"})
	m.node("Div", "dv", []string{"d", "std"}, []string{"y0"})
	out := "y0"
	if wdims != nil {
		m.initF("W", wdims, values(int(prodI64(wdims)), 3))
		m.node("Mul", "w", []string{"W", out}, []string{"y1"})
		out = "y1"
	}
	if bdims != nil {
		m.initF("B", bdims, values(int(prodI64(bdims)), 4))
		m.node("Add", "b", []string{out, "B"}, []string{"y2"})
		out = "y2"
	}
	m.output(out)
	if edit == "d out" {
		m.output("d")
	}
	return m.bytes()
}

func prodI64(s []int64) int64 {
	n := int64(1)
	for _, d := range s {
		n *= d
	}
	return n
}

// lnWant is layer normalisation of values(·, 7) over axes first..last of
// dims, with W and B broadcast numpy-style (nil: absent), in float64.
func lnWant(dims []int64, first, last int, wdims, bdims []int64, eps float64) []float32 {
	n := int(prodI64(dims))
	x := values(n, 7)
	outer, inner := int(prodI64(dims[:first])), int(prodI64(dims[last+1:]))
	k := int(prodI64(dims[first : last+1]))
	param := func(pd []int64, seed uint32, flat int) float64 {
		if pd == nil {
			return 0
		}
		v := values(int(prodI64(pd)), seed)
		// Element flat of x, its index in the broadcast parameter.
		idx, j, st := flat, 0, 1
		full := make([]int64, len(dims))
		for i := range full {
			full[i] = 1
		}
		copy(full[len(dims)-len(pd):], pd)
		for d := len(dims) - 1; d >= 0; d-- {
			id := idx % int(dims[d])
			idx /= int(dims[d])
			if full[d] != 1 {
				j += id * st
			}
			st *= int(full[d])
		}
		return float64(v[j])
	}
	y := make([]float32, n)
	for o := 0; o < outer; o++ {
		for i := 0; i < inner; i++ {
			at := func(j int) int { return (o*k+j)*inner + i }
			var s float64
			for j := 0; j < k; j++ {
				s += float64(x[at(j)])
			}
			mu := s / float64(k)
			var q float64
			for j := 0; j < k; j++ {
				q += (float64(x[at(j)]) - mu) * (float64(x[at(j)]) - mu)
			}
			r := 1 / math.Sqrt(q/float64(k)+eps)
			for j := 0; j < k; j++ {
				v := (float64(x[at(j)]) - mu) * r
				if wdims != nil {
					v *= param(wdims, 3, at(j))
				}
				if bdims != nil {
					v += param(bdims, 4, at(j))
				}
				y[at(j)] = float32(v)
			}
		}
	}
	return y
}

func TestLayerNormPattern(t *testing.T) {
	if operators["Pow"] == nil || operators["Sqrt"] == nil {
		t.Skip("Pow and Sqrt are not converted yet")
	}
	for _, c := range []struct {
		name        string
		x, axes     []int64
		w, b        []int64
		first, last int
	}{
		{"last axis", []int64{2, 3, 8}, []int64{-1}, []int64{8}, []int64{8}, 2, 2},
		{"two axes", []int64{2, 3, 4}, []int64{-2, -1}, []int64{3, 4}, []int64{4}, 1, 2},
		{"channels first", []int64{1, 4, 3, 3}, []int64{1}, []int64{4, 1, 1}, []int64{1, 4, 1, 1}, 1, 1},
		{"no affine", []int64{3, 5}, []int64{1}, nil, nil, 1, 1},
		{"bias only", []int64{3, 5}, []int64{1}, nil, []int64{5}, 1, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, rep := convertOK(t, lnPattern(c.x, c.axes, c.w, c.b, ""))
			if ops := nodeOps(got); !slices.Equal(ops, []string{model.OpLayerNormalization}) || rep.LayerNorm != 1 {
				t.Fatalf("ops %v", ops)
			}
			n := &got.Graph.Nodes[0]
			want := []int64{}
			for a := c.first; a <= c.last; a++ {
				want = append(want, int64(a))
			}
			if a := mustAttr(t, n, "axes"); !slices.Equal(a.Ints, want) || mustAttr(t, n, "epsilon").Float != 1e-6 {
				t.Errorf("axes %v epsilon %v", a.Ints, mustAttr(t, n, "epsilon").Float)
			}
			closeAll(t, runRef(t, got)[0], lnWant(c.x, c.first, c.last, c.w, c.b, float64(float32(1e-6))), 1e-5)
		})
	}
	// Near misses convert as plain ops.
	for _, edit := range []string{"pow3", "axes", "d out"} {
		t.Run(edit, func(t *testing.T) {
			got, rep := convertOK(t, lnPattern([]int64{2, 3, 8}, []int64{1, 2}, []int64{8}, nil, edit))
			if rep.LayerNorm != 0 || len(got.Graph.Nodes) < 7 {
				t.Fatalf("%s: rewritten: %v", edit, nodeOps(got))
			}
			if _, err := reference.Run(got, [][]float32{values(48, 7)}); err != nil {
				t.Errorf("%s: plain ops: %v", edit, err)
			}
		})
	}
	// x·x for the square is the pattern too.
	got, _ := convertOK(t, lnPattern([]int64{2, 8}, []int64{1}, nil, nil, "mul"))
	if ops := nodeOps(got); !slices.Equal(ops, []string{model.OpLayerNormalization}) {
		t.Errorf("Mul(d, d): ops %v", ops)
	}
	// A weight varying outside the normalised axes is a plain Mul.
	got, _ = convertOK(t, lnPattern([]int64{2, 3, 8}, []int64{-1}, []int64{3, 1}, nil, ""))
	if ops := nodeOps(got); !slices.Equal(ops, []string{model.OpLayerNormalization, model.OpMul}) {
		t.Errorf("W [3,1]: ops %v", ops)
	}
}

// TestConstantOfShape: folded from a constant shape (float 0 by default, or
// the value attribute's element and type), refused on a computed one.
func TestConstantOfShape(t *testing.T) {
	build := func(shapeIn string, attrs ...attr) []byte {
		m := newModel(13, enc{})
		m.input("x", 2, 3)
		m.initI("s", []int64{2}, []int64{2, 3})
		m.node("ConstantOfShape", "c", []string{shapeIn}, []string{"k"}, attrs...)
		m.node("Add", "a", []string{"x", "k"}, []string{"y"})
		m.output("y")
		return m.bytes()
	}
	got, _ := convertOK(t, build("s"))
	k, ok := got.Initializer(got.Graph.Nodes[0].Inputs[1])
	if !ok || !slices.Equal(k.Shape, []int64{2, 3}) || !slices.Equal(k.Float32s(), make([]float32, 6)) {
		t.Fatalf("folded constant %+v", k)
	}
	got, _ = convertOK(t, build("s", aTensor("value", floatTensor("", []int64{1}, []float32{2.5}, enc{}))))
	k, _ = got.Initializer(got.Graph.Nodes[0].Inputs[1])
	if v := k.Float32s(); v[5] != 2.5 {
		t.Errorf("value 2.5: %v", v)
	}
	if _, err := Convert(build("s", aTensor("value", floatTensor("", []int64{2}, []float32{1, 2}, enc{}))), Options{}); !errors.Is(err, ErrMalformed) {
		t.Errorf("two-element value: %v", err)
	}
	m := newModel(13, enc{})
	m.input("x", 2)
	m.node("Shape", "sh", []string{"x"}, []string{"s"})
	m.node("ConstantOfShape", "c", []string{"x"}, []string{"y"})
	m.output("y")
	if _, err := Convert(m.bytes(), Options{}); !errors.Is(err, ErrUnsupported) {
		t.Errorf("computed shape: %v", err)
	}
}
