package quant

import (
	"encoding/binary"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/signet-go/signet/engine"
	"github.com/signet-go/signet/model"
)

func TestRangeOf(t *testing.T) {
	cases := []struct {
		name   string
		lo, hi float64
		sym    bool
		want   qrange
	}{
		{"post-relu", 0, 2.55, false, qrange{scale: 0.01, zero: -128}},
		{"centred", -1.275, 1.275, false, qrange{scale: 0.01, zero: 0}},
		{"negative only holds 0", -2.55, -1, false, qrange{scale: 0.01, zero: 127}},
		{"symmetric", -0.5, 1.27, true, qrange{scale: 0.01}},
		{"constant zero", 0, 0, false, qrange{scale: 1}},
		{"symmetric zero", 0, 0, true, qrange{scale: 1}},
	}
	for _, c := range cases {
		got := rangeOf(c.lo, c.hi, c.sym)
		if math.Abs(float64(got.scale-c.want.scale)) > 1e-7 || got.zero != c.want.zero {
			t.Errorf("%s: rangeOf(%v, %v, %v) = %+v, want %+v", c.name, c.lo, c.hi, c.sym, got, c.want)
		}
		// 0 must be exactly representable: q = zero.
		if z := float64(got.zero) * float64(got.scale); c.sym && z != 0 {
			t.Errorf("%s: symmetric zero point %d", c.name, got.zero)
		}
	}
}

func TestQuantWeights(t *testing.T) {
	// Two output channels along axis 0 of a [2, 3] tensor, and the same
	// values transposed ([3, 2], axis 1): the same scales and codes.
	w := model.NewFloat32Tensor("w", []int64{2, 3}, []float32{1.27, -0.635, 0, 0, 0, 0})
	q, s := quantWeights(&w, 0)
	if s[0] != float32(1.27/127) || s[1] != 1 {
		t.Fatalf("scales %v", s)
	}
	want := []int8{127, -64, 0, 0, 0, 0} // -63.5 rounds half to even
	for i, v := range want {
		if int8(q[i]) != v {
			t.Fatalf("codes %v, want %v", q, want)
		}
	}
	wt := model.NewFloat32Tensor("wt", []int64{3, 2}, []float32{1.27, 0, -0.635, 0, 0, 0})
	qt, st := quantWeights(&wt, 1)
	if st[0] != s[0] || st[1] != s[1] || int8(qt[0]) != 127 || int8(qt[2]) != -64 {
		t.Fatalf("axis 1: scales %v codes %v", st, qt)
	}
}

func TestQuantBias(t *testing.T) {
	q, s := quantBias([]float32{1, -3e9}, 0.5, []float32{0.01, 1})
	if s[0] != 0.005 || s[1] != 0.5 {
		t.Fatalf("scales %v", s)
	}
	if v := int32(binary.LittleEndian.Uint32(q)); v != 200 {
		t.Errorf("bias 0 = %d, want 200", v)
	}
	if v := int32(binary.LittleEndian.Uint32(q[4:])); v != math.MinInt32 {
		t.Errorf("bias 1 = %d, want saturated %d", v, math.MinInt32)
	}
}

func TestTail(t *testing.T) {
	h := []int64{5, 0, 3, 2}
	for _, c := range []struct {
		p    float64
		want int
	}{{0.5, 0}, {0.8, 2}, {0.81, 3}, {1, 3}} {
		if got := tail(h, c.p); got != c.want {
			t.Errorf("tail(%v) = %d, want %d", c.p, got, c.want)
		}
	}
	if tail(make([]int64, 4), 0.9) != -1 {
		t.Error("empty histogram")
	}
}

func TestOptionsRefused(t *testing.T) {
	m := tinyModel(t)
	for _, o := range []Options{{Method: "entropy"}, {Percentile: 0.4}, {Percentile: 1.5}} {
		if _, _, err := Quantize(m, [][][]float32{{make([]float32, 12)}}, o); !errors.Is(err, ErrOptions) {
			t.Errorf("%+v: %v, want ErrOptions", o, err)
		}
	}
	if _, _, err := Quantize(m, nil, Options{}); !errors.Is(err, ErrOptions) {
		t.Errorf("no calibration: %v, want ErrOptions", err)
	}
}

func TestCandidates(t *testing.T) {
	m := tinyModel(t)
	cs, glues, rep := candidates(m, Options{KeepFP32: []string{"fc"}})
	if len(glues) != 0 {
		t.Errorf("%d adds or pools", len(glues))
	}
	if len(rep.Layers) != 3 {
		t.Fatalf("%d layers in the report, want 3", len(rep.Layers))
	}
	if len(cs) != 2 || cs[0].x != "x" || cs[0].y != "c1" || cs[1].y != "y" || !cs[1].keep || cs[1].axis != 0 {
		t.Fatalf("candidates %+v %+v", cs[0], cs[1])
	}
	if r := rep.Layers[1].Reason; r != "depthwise: float32 (no int8 depthwise kernel)" {
		t.Errorf("depthwise reason %q", r)
	}
	if rep.Layers[2].Reason == "" || rep.Layers[0].Reason != "" {
		t.Errorf("reasons %q, %q", rep.Layers[0].Reason, rep.Layers[2].Reason)
	}
}

// tinyModel is conv(relu) → depthwise conv → flatten → gemm (transB) on a
// 1×3×2×2 input.
func tinyModel(t testing.TB) *model.Model {
	t.Helper()
	f := func(name string, shape []int64, seed float32) model.Tensor {
		n := 1
		for _, d := range shape {
			n *= int(d)
		}
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(math.Sin(float64(seed) + float64(i)*0.7))
		}
		return model.NewFloat32Tensor(name, shape, v)
	}
	ints := func(name string, v ...int64) model.Attr { return model.Attr{Name: name, Kind: model.AttrInts, Ints: v} }
	g := model.Graph{
		Inputs:  []model.Value{{Name: "x", Shape: []int64{1, 3, 2, 2}}},
		Outputs: []model.Value{{Name: "y", Shape: []int64{1, 5}}},
		Initializers: []model.Tensor{
			f("w1", []int64{4, 3, 1, 1}, 1), f("b1", []int64{4}, 2),
			f("w2", []int64{4, 1, 1, 1}, 3),
			f("w3", []int64{5, 16}, 4), f("b3", []int64{5}, 5),
		},
		Nodes: []model.Node{
			{Op: model.OpConv, Name: "conv1", Inputs: []string{"x", "w1", "b1"}, Outputs: []string{"c1"},
				Attrs: []model.Attr{ints("kernel_shape", 1, 1), {Name: "activation", Kind: model.AttrString, String: "Relu"}}},
			{Op: model.OpConv, Name: "dw", Inputs: []string{"c1", "w2"}, Outputs: []string{"c2"},
				Attrs: []model.Attr{ints("kernel_shape", 1, 1), {Name: "group", Kind: model.AttrInt, Int: 4}}},
			{Op: model.OpFlatten, Name: "flat", Inputs: []string{"c2"}, Outputs: []string{"f"}},
			{Op: model.OpGemm, Name: "fc", Inputs: []string{"f", "w3", "b3"}, Outputs: []string{"y"},
				Attrs: []model.Attr{{Name: "transB", Kind: model.AttrInt, Int: 1}}},
		},
	}
	m, err := model.New(model.Metadata{Name: "tiny", InputLayout: "NCHW", ChannelOrder: "RGB", OutputName: "y", OutputSize: 5,
		Extra: map[string]string{"card": "tiny"}}, g)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// calibSet is n deterministic inputs for tinyModel.
func calibSet(n int) [][][]float32 {
	out := make([][][]float32, n)
	for i := range out {
		x := make([]float32, 12)
		for j := range x {
			x[j] = float32(math.Sin(float64(i*12+j)*1.3)) * 2
		}
		out[i] = [][]float32{x}
	}
	return out
}

func TestQuantizeTiny(t *testing.T) {
	m := tinyModel(t)
	for _, o := range []Options{{}, {Method: Percentile, Percentile: 0.99}, {Symmetric: true}, {KeepFP32: []string{"conv1"}}} {
		o.MaxLayerError = 0.01 // a random 16-input head costs more than real models' layers
		q, rep, err := Quantize(m, calibSet(16), o)
		if err != nil {
			t.Fatalf("%+v: %v", o, err)
		}
		keep := len(o.KeepFP32) > 0
		if rep.Layers[0].Int8 == keep || rep.Layers[1].Int8 || !rep.Layers[2].Int8 {
			t.Errorf("%+v: layers %+v", o, rep.Layers)
		}
		if rep.Cosine < 0.999 || rep.MinCosine > rep.Cosine || rep.Images != 16 {
			t.Errorf("%+v: cosine mean %v min %v over %d", o, rep.Cosine, rep.MinCosine, rep.Images)
		}
		if q.Meta.Extra[MetaKey] != rep.Scheme || rep.Scheme == "" {
			t.Errorf("%+v: metadata %q, scheme %q", o, q.Meta.Extra[MetaKey], rep.Scheme)
		}
		if _, ok := m.Meta.Extra[MetaKey]; ok || q.Meta.Extra["card"] != "tiny" {
			t.Errorf("%+v: input metadata %v, output %v: the input model must stay as it was", o, m.Meta.Extra, q.Meta.Extra)
		}
		// The float weights of int8 layers are gone; the depthwise one stays.
		for _, name := range []string{"w3", "b3", "w2"} {
			_, ok := q.Initializer(name)
			if want := name == "w2"; ok != want {
				t.Errorf("%+v: initializer %s present %v, want %v", o, name, ok, want)
			}
		}
		_, ok := q.Initializer("w1")
		if ok != keep {
			t.Errorf("%+v: w1 present %v", o, ok)
		}
		// The engine runs the int8 layers on int8 kernels.
		e, err := engine.New(q, engine.Options{})
		if err != nil {
			t.Fatal(err)
		}
		var qs8 int
		for _, l := range e.Layers() {
			if strings.HasPrefix(l.Kernel, "qs8-conv") || strings.HasPrefix(l.Kernel, "qs8-gemm") {
				qs8++
			}
		}
		e.Close()
		if want := 2 - btoi(keep); qs8 != want {
			t.Errorf("%+v: %d int8 conv/gemm layers, want %d", o, qs8, want)
		}
	}
}

// TestQuantizeBound: a bound nothing meets keeps every layer float32 and
// the model exact.
func TestQuantizeBound(t *testing.T) {
	q, rep, err := Quantize(tinyModel(t), calibSet(8), Options{MaxLayerError: 1e-300})
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range rep.Layers {
		if l.Int8 || l.Reason == "" {
			t.Errorf("layer %+v", l)
		}
	}
	if rep.Cosine != 1 || rep.Int8Params != 0 {
		t.Errorf("cosine %v, int8 params %d", rep.Cosine, rep.Int8Params)
	}
	for _, n := range q.Graph.Nodes {
		if n.Op == opQuantize || n.Op == opDequantize {
			t.Errorf("node %s left in", n.Op)
		}
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
