package reference

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/signet-go/signet/model"
)

// Every case below is one node checked against values computed by hand,
// never against the engine.

// tin is one input of a test node: a graph input (float32) unless konst,
// then an initializer of dtype (Float32 unless i is set or dtype given).
type tin struct {
	shape []int64
	f     []float32
	i     []int64
	konst bool
	dtype model.DType
}

func in(shape []int64, f ...float32) tin    { return tin{shape: shape, f: f} }
func konst(shape []int64, f ...float32) tin { return tin{shape: shape, f: f, konst: true} }
func ints64(shape []int64, i ...int64) tin  { return tin{shape: shape, i: i, konst: true} }
func sh(d ...int64) []int64                 { return d }

func iA(name string, v int64) model.Attr { return model.Attr{Name: name, Kind: model.AttrInt, Int: v} }
func fA(name string, v float32) model.Attr {
	return model.Attr{Name: name, Kind: model.AttrFloat, Float: v}
}
func isA(name string, v ...int64) model.Attr {
	return model.Attr{Name: name, Kind: model.AttrInts, Ints: v}
}
func fsA(name string, v ...float32) model.Attr {
	return model.Attr{Name: name, Kind: model.AttrFloats, Floats: v}
}
func sA(name, v string) model.Attr { return model.Attr{Name: name, Kind: model.AttrString, String: v} }

// oneNode builds a graph of one node op over ins with nout outputs, all of
// them graph outputs, and the feeds for its graph inputs.
func oneNode(op string, ins []tin, nout int, attrs ...model.Attr) (model.Graph, [][]float32) {
	var g model.Graph
	var feeds [][]float32
	node := model.Node{Op: op, Name: "n", Attrs: attrs}
	for k, x := range ins {
		name := fmt.Sprintf("in%d", k)
		node.Inputs = append(node.Inputs, name)
		switch {
		case x.dtype != 0 && x.dtype != model.Float32 && x.dtype != model.Int64:
			g.Initializers = append(g.Initializers, model.Tensor{Name: name, DType: x.dtype, Shape: x.shape,
				Data: intBytes(x.dtype, x.i)})
		case x.i != nil:
			g.Initializers = append(g.Initializers, model.NewInt64Tensor(name, x.shape, x.i))
		case x.konst:
			g.Initializers = append(g.Initializers, model.NewFloat32Tensor(name, x.shape, x.f))
		default:
			g.Inputs = append(g.Inputs, model.Value{Name: name, Shape: x.shape})
			feeds = append(feeds, x.f)
		}
	}
	for k := 0; k < nout; k++ {
		name := fmt.Sprintf("y%d", k)
		node.Outputs = append(node.Outputs, name)
		g.Outputs = append(g.Outputs, model.Value{Name: name})
	}
	g.Nodes = []model.Node{node}
	return g, feeds
}

// runCase runs one node under lim and returns its outputs and their shapes.
func runCase(t *testing.T, op string, ins []tin, nout int, lim Limits, attrs ...model.Attr) ([][]float32, [][]int, error) {
	t.Helper()
	g, feeds := oneNode(op, ins, nout, attrs...)
	m, err := model.New(model.Metadata{}, g)
	if err != nil {
		t.Fatalf("model.New: %v", err)
	}
	r := &run{lim: lim, vals: map[string]*tensor{}, inits: map[string]*model.Tensor{}}
	outs, err := r.exec(m, feeds)
	if err != nil {
		return nil, nil, err
	}
	var shapes [][]int
	for _, o := range g.Outputs {
		shapes = append(shapes, r.vals[o.Name].shape)
	}
	return outs, shapes, nil
}

type opCase struct {
	name  string
	op    string
	ins   []tin
	attrs []model.Attr
	nout  int         // outputs (1 when 0)
	want  [][]float32 // per output
	shape [][]int     // per output, checked when set
	err   error       // expected error instead
}

var nan = float32(math.NaN())

func opCases() []opCase {
	x9 := in(sh(1, 1, 3, 3), 1, 2, 3, 4, 5, 6, 7, 8, 9)
	diag := konst(sh(1, 1, 2, 2), 1, 0, 0, 1)
	a23 := in(sh(2, 3), 1, 2, 3, 4, 5, 6)
	m22 := in(sh(2, 2), 1, 2, 3, 4)
	n22 := konst(sh(2, 2), 5, 6, 7, 8)
	return append([]opCase{
		// Conv
		{name: "valid", op: model.OpConv, ins: []tin{x9, diag, konst(sh(1), 10)},
			want: [][]float32{{16, 18, 22, 24}}, shape: [][]int{{1, 1, 2, 2}}},
		{name: "pads+strides", op: model.OpConv, ins: []tin{x9, diag, konst(sh(1), 10)},
			attrs: []model.Attr{isA("pads", 1, 1, 1, 1), isA("strides", 2, 2), isA("kernel_shape", 2, 2)},
			want:  [][]float32{{11, 13, 17, 24}}, shape: [][]int{{1, 1, 2, 2}}},
		{name: "groups", op: model.OpConv, ins: []tin{in(sh(1, 2, 1, 1), 2, 3), konst(sh(2, 1, 1, 1), 10, 100)},
			attrs: []model.Attr{iA("group", 2)}, want: [][]float32{{20, 300}}},
		{name: "dilation", op: model.OpConv, ins: []tin{x9, konst(sh(1, 1, 2, 2), 1, 1, 1, 1)},
			attrs: []model.Attr{isA("dilations", 2, 2)}, want: [][]float32{{20}}, shape: [][]int{{1, 1, 1, 1}}},
		{name: "same_upper", op: model.OpConv, ins: []tin{in(sh(1, 1, 1, 4), 1, 2, 3, 4), konst(sh(1, 1, 1, 2), 1, 1)},
			attrs: []model.Attr{sA("auto_pad", "SAME_UPPER")}, want: [][]float32{{3, 5, 7, 4}}},
		{name: "same_lower", op: model.OpConv, ins: []tin{in(sh(1, 1, 1, 4), 1, 2, 3, 4), konst(sh(1, 1, 1, 2), 1, 1)},
			attrs: []model.Attr{sA("auto_pad", "SAME_LOWER"), isA("pads", 0, 0, 0, 0)}, want: [][]float32{{1, 3, 5, 7}}},
		{name: "fused relu", op: model.OpConv, ins: []tin{in(sh(1, 1, 1, 2), 1, -1), konst(sh(1, 1, 1, 1), 3)},
			attrs: []model.Attr{sA("activation", model.ActRelu)}, want: [][]float32{{3, 0}}},
		{name: "fused clip", op: model.OpConv, ins: []tin{in(sh(1, 1, 1, 3), 1, -1, 0.1), konst(sh(1, 1, 1, 1), 1)},
			attrs: []model.Attr{sA("activation", model.ActClip), fsA("activation_params", -0.5, 0.5)}, want: [][]float32{{0.5, -0.5, 0.1}}},
		{name: "fused leaky default", op: model.OpConv, ins: []tin{in(sh(1, 1, 1, 2), -2, 3), konst(sh(1, 1, 1, 1), 1)},
			attrs: []model.Attr{sA("activation", model.ActLeakyRelu)}, want: [][]float32{{-0.02, 3}}},
		{name: "kernel_shape mismatch", op: model.OpConv, ins: []tin{x9, diag}, attrs: []model.Attr{isA("kernel_shape", 3, 3)}, err: ErrShape},
		{name: "group mismatch", op: model.OpConv, ins: []tin{x9, diag}, attrs: []model.Attr{iA("group", 2)}, err: ErrShape},
		{name: "bias length", op: model.OpConv, ins: []tin{x9, diag, konst(sh(2), 1, 2)}, err: ErrShape},
		{name: "weights rank 3", op: model.OpConv, ins: []tin{x9, konst(sh(1, 2, 2), 1, 0, 0, 1)}, err: ErrShape},
		{name: "rank 3 input", op: model.OpConv, ins: []tin{in(sh(1, 3, 3), 1, 2, 3, 4, 5, 6, 7, 8, 9), diag}, err: ErrUnsupported},
		{name: "window larger than input", op: model.OpConv, ins: []tin{in(sh(1, 1, 1, 1), 1), diag}, err: ErrShape},
		{name: "auto_pad SAME", op: model.OpConv, ins: []tin{x9, diag}, attrs: []model.Attr{sA("auto_pad", "SAME")}, err: ErrUnsupported},
		{name: "negative pads", op: model.OpConv, ins: []tin{x9, diag}, attrs: []model.Attr{isA("pads", -1, 0, 0, 0)}, err: ErrUnsupported},
		{name: "three strides", op: model.OpConv, ins: []tin{x9, diag}, attrs: []model.Attr{isA("strides", 1, 1, 1)}, err: ErrUnsupported},
		{name: "group as float", op: model.OpConv, ins: []tin{x9, diag}, attrs: []model.Attr{fA("group", 1)}, err: ErrUnsupported},
		{name: "unknown activation", op: model.OpConv, ins: []tin{x9, diag}, attrs: []model.Attr{sA("activation", "Swoosh")}, err: ErrUnsupported},
		{name: "empty activation", op: model.OpConv, ins: []tin{x9, diag}, attrs: []model.Attr{sA("activation", "")}, err: ErrUnsupported},
		{name: "params for relu", op: model.OpConv, ins: []tin{x9, diag},
			attrs: []model.Attr{sA("activation", model.ActRelu), fsA("activation_params", 1)}, err: ErrUnsupported},
		{name: "params without activation", op: model.OpConv, ins: []tin{x9, diag}, attrs: []model.Attr{fsA("activation_params", 1)}, err: ErrUnsupported},
		{name: "three clip params", op: model.OpConv, ins: []tin{x9, diag},
			attrs: []model.Attr{sA("activation", model.ActClip), fsA("activation_params", 0, 1, 2)}, err: ErrUnsupported},
		{name: "unknown attribute", op: model.OpConv, ins: []tin{x9, diag}, attrs: []model.Attr{iA("storage_order", 0)}, err: ErrUnsupported},
		{name: "int64 weights", op: model.OpConv, ins: []tin{x9, ints64(sh(1, 1, 2, 2), 1, 0, 0, 1)}, err: ErrUnsupported},
		{name: "int8 weights", op: model.OpConv, ins: []tin{x9, {shape: sh(1, 1, 2, 2), i: make([]int64, 4), konst: true, dtype: model.Int8}}, err: ErrUnsupported},
		{name: "missing weights", op: model.OpConv, ins: []tin{x9}, err: ErrShape},

		// MaxPool
		{name: "2x2", op: model.OpMaxPool, ins: []tin{in(sh(1, 1, 2, 3), 1, 5, 2, 4, 3, 6)}, attrs: []model.Attr{isA("kernel_shape", 2, 2)},
			want: [][]float32{{5, 6}}, shape: [][]int{{1, 1, 1, 2}}},
		{name: "floor", op: model.OpMaxPool, ins: []tin{in(sh(1, 1, 1, 5), 1, 2, 3, 4, 5)},
			attrs: []model.Attr{isA("kernel_shape", 1, 2), isA("strides", 2, 2)}, want: [][]float32{{2, 4}}},
		{name: "ceil", op: model.OpMaxPool, ins: []tin{in(sh(1, 1, 1, 5), 1, 2, 3, 4, 5)},
			attrs: []model.Attr{isA("kernel_shape", 1, 2), isA("strides", 2, 2), iA("ceil_mode", 1)}, want: [][]float32{{2, 4, 5}}},
		{name: "padding never wins", op: model.OpMaxPool, ins: []tin{in(sh(1, 1, 1, 2), -1, -2)},
			attrs: []model.Attr{isA("kernel_shape", 1, 2), isA("pads", 0, 1, 0, 1)}, want: [][]float32{{-1, -1, -2}}},
		{name: "NaN wins", op: model.OpMaxPool, ins: []tin{in(sh(1, 1, 1, 2), nan, 1)},
			attrs: []model.Attr{isA("kernel_shape", 1, 2)}, want: [][]float32{{nan}}},
		{name: "dilated", op: model.OpMaxPool, ins: []tin{in(sh(1, 1, 1, 3), 7, 9, 8)},
			attrs: []model.Attr{isA("kernel_shape", 1, 2), isA("dilations", 1, 2)}, want: [][]float32{{8}}},
		{name: "no kernel_shape", op: model.OpMaxPool, ins: []tin{x9}, err: ErrShape},
		{name: "pad as large as kernel", op: model.OpMaxPool, ins: []tin{x9},
			attrs: []model.Attr{isA("kernel_shape", 2, 2), isA("pads", 2, 0, 0, 0)}, err: ErrUnsupported},
		{name: "ceil_mode 2", op: model.OpMaxPool, ins: []tin{x9}, attrs: []model.Attr{isA("kernel_shape", 2, 2), iA("ceil_mode", 2)}, err: ErrUnsupported},
		{name: "indices", op: model.OpMaxPool, ins: []tin{x9}, attrs: []model.Attr{isA("kernel_shape", 2, 2)}, nout: 2, err: ErrUnsupported},

		// AveragePool
		{name: "exclude pad", op: model.OpAveragePool, ins: []tin{in(sh(1, 1, 1, 2), 1, 2)},
			attrs: []model.Attr{isA("kernel_shape", 1, 2), isA("pads", 0, 1, 0, 1)}, want: [][]float32{{1, 1.5, 2}}},
		{name: "include pad", op: model.OpAveragePool, ins: []tin{in(sh(1, 1, 1, 2), 1, 2)},
			attrs: []model.Attr{isA("kernel_shape", 1, 2), isA("pads", 0, 1, 0, 1), iA("count_include_pad", 1)}, want: [][]float32{{0.5, 1.5, 1}}},
		{name: "ceil extra not counted", op: model.OpAveragePool, ins: []tin{in(sh(1, 1, 1, 3), 2, 4, 6)},
			attrs: []model.Attr{isA("kernel_shape", 1, 2), isA("strides", 1, 2), iA("ceil_mode", 1), iA("count_include_pad", 1)},
			want:  [][]float32{{3, 6}}},
		{name: "dilations", op: model.OpAveragePool, ins: []tin{x9}, attrs: []model.Attr{isA("kernel_shape", 2, 2), isA("dilations", 2, 1)}, err: ErrUnsupported},

		// GlobalAveragePool
		{name: "planes", op: model.OpGlobalAveragePool, ins: []tin{in(sh(1, 2, 1, 2), 1, 2, 3, 5)},
			want: [][]float32{{1.5, 4}}, shape: [][]int{{1, 2, 1, 1}}},
		{name: "rank 2", op: model.OpGlobalAveragePool, ins: []tin{m22}, err: ErrUnsupported},
		{name: "any attribute", op: model.OpGlobalAveragePool, ins: []tin{x9}, attrs: []model.Attr{iA("axis", 1)}, err: ErrUnsupported},

		// Gemm
		{name: "plain", op: model.OpGemm, ins: []tin{m22, n22}, want: [][]float32{{19, 22, 43, 50}}, shape: [][]int{{2, 2}}},
		{name: "alpha beta C row", op: model.OpGemm, ins: []tin{m22, n22, konst(sh(2), 1, 2)},
			attrs: []model.Attr{fA("alpha", 2), fA("beta", 1)}, want: [][]float32{{39, 46, 87, 102}}},
		{name: "beta C column", op: model.OpGemm, ins: []tin{m22, n22, konst(sh(2, 1), 1, 2)},
			attrs: []model.Attr{fA("beta", 10)}, want: [][]float32{{29, 32, 63, 70}}},
		{name: "transA", op: model.OpGemm, ins: []tin{m22, n22}, attrs: []model.Attr{iA("transA", 1)}, want: [][]float32{{26, 30, 38, 44}}},
		{name: "transB", op: model.OpGemm, ins: []tin{m22, n22}, attrs: []model.Attr{iA("transB", 1)}, want: [][]float32{{17, 23, 39, 53}}},
		{name: "non-square", op: model.OpGemm, ins: []tin{in(sh(1, 3), 1, 2, 3), konst(sh(3, 2), 1, 0, 0, 1, 1, 1)},
			attrs: []model.Attr{sA("activation", model.ActHardSigmoid), fsA("activation_params", 0.125, 0)},
			want:  [][]float32{{0.5, 0.625}}, shape: [][]int{{1, 2}}},
		{name: "inner mismatch", op: model.OpGemm, ins: []tin{a23, n22}, err: ErrShape},
		{name: "C does not broadcast", op: model.OpGemm, ins: []tin{m22, n22, konst(sh(3), 1, 2, 3)}, err: ErrShape},
		{name: "transA 2", op: model.OpGemm, ins: []tin{m22, n22}, attrs: []model.Attr{iA("transA", 2)}, err: ErrUnsupported},
		{name: "rank 3", op: model.OpGemm, ins: []tin{in(sh(1, 2, 2), 1, 2, 3, 4), n22}, err: ErrShape},

		// MatMul
		{name: "vector by matrix", op: model.OpMatMul, ins: []tin{in(sh(2), 1, 2), konst(sh(2, 3), 1, 2, 3, 4, 5, 6)},
			want: [][]float32{{9, 12, 15}}, shape: [][]int{{3}}},
		{name: "matrix by vector", op: model.OpMatMul, ins: []tin{a23, konst(sh(3), 1, 0, -1)},
			want: [][]float32{{-2, -2}}, shape: [][]int{{2}}},
		{name: "batch broadcast", op: model.OpMatMul, ins: []tin{in(sh(2, 1, 2), 1, 2, 3, 4), konst(sh(2, 1), 1, 1)},
			want: [][]float32{{3, 7}}, shape: [][]int{{2, 1, 1}}},
		{name: "both batched", op: model.OpMatMul, ins: []tin{in(sh(2, 1, 1), 1, 2), konst(sh(1, 1, 2), 3, 4)},
			attrs: []model.Attr{sA("activation", model.ActSigmoid)},
			want:  [][]float32{{sigmoidF(3), sigmoidF(4), sigmoidF(6), sigmoidF(8)}}, shape: [][]int{{2, 1, 2}}},
		{name: "inner mismatch", op: model.OpMatMul, ins: []tin{a23, n22}, err: ErrShape},
		{name: "scalar", op: model.OpMatMul, ins: []tin{in(sh(), 1), n22}, err: ErrShape},

		// BatchNormalization
		{name: "two channels", op: model.OpBatchNormalization,
			ins:   []tin{in(sh(1, 2, 1, 1), 1, 2), konst(sh(2), 2, 1), konst(sh(2), 0, 1), konst(sh(2), 1, 0), konst(sh(2), 3, 0)},
			attrs: []model.Attr{fA("epsilon", 1)}, want: [][]float32{{0, 3}}},
		{name: "parameter length", op: model.OpBatchNormalization,
			ins: []tin{in(sh(1, 2), 1, 2), konst(sh(1), 1), konst(sh(2), 0, 1), konst(sh(2), 1, 0), konst(sh(2), 3, 0)}, err: ErrShape},
		{name: "training outputs", op: model.OpBatchNormalization, nout: 2,
			ins: []tin{in(sh(1, 1), 1), konst(sh(1), 1), konst(sh(1), 0), konst(sh(1), 0), konst(sh(1), 1)}, err: ErrUnsupported},

		// Activations
		{name: "relu", op: model.OpRelu, ins: []tin{in(sh(3), -1, 0, 2)}, want: [][]float32{{0, 0, 2}}},
		{name: "clip", op: model.OpClip, ins: []tin{in(sh(3), -1, 0.25, 1)}, attrs: []model.Attr{fA("min", -0.5), fA("max", 0.5)},
			want: [][]float32{{-0.5, 0.25, 0.5}}},
		{name: "clip unbounded", op: model.OpClip, ins: []tin{in(sh(2), -1e30, 1e30)}, want: [][]float32{{-1e30, 1e30}}},
		{name: "leaky default", op: model.OpLeakyRelu, ins: []tin{in(sh(2), -2, 3)}, want: [][]float32{{-0.02, 3}}},
		{name: "leaky alpha", op: model.OpLeakyRelu, ins: []tin{in(sh(2), -2, 3)}, attrs: []model.Attr{fA("alpha", 0.5)}, want: [][]float32{{-1, 3}}},
		{name: "sigmoid", op: model.OpSigmoid, ins: []tin{in(sh(3), 0, 100, -100)}, want: [][]float32{{0.5, 1, 3.720076e-44}}},
		{name: "hard sigmoid", op: model.OpHardSigmoid, ins: []tin{in(sh(3), 0, 10, -10)}, want: [][]float32{{0.5, 1, 0}}},
		{name: "hard sigmoid params", op: model.OpHardSigmoid, ins: []tin{in(sh(1), 1)},
			attrs: []model.Attr{fA("alpha", 0.25), fA("beta", 0.25)}, want: [][]float32{{0.5}}},
		{name: "hard swish", op: model.OpHardSwish, ins: []tin{in(sh(4), 3, -3, 0, 1.5)}, want: [][]float32{{3, 0, 0, 1.125}}},
		{name: "silu", op: model.OpSiLU, ins: []tin{in(sh(2), 0, 1)}, want: [][]float32{{0, 0.7310586}}},
		{name: "relu int64", op: model.OpRelu, ins: []tin{ints64(sh(1), 1)}, err: ErrUnsupported},
		{name: "relu alpha", op: model.OpRelu, ins: []tin{in(sh(1), 1)}, attrs: []model.Attr{fA("alpha", 1)}, err: ErrUnsupported},
		{name: "clip min as ints", op: model.OpClip, ins: []tin{in(sh(1), 1)}, attrs: []model.Attr{isA("min", 0)}, err: ErrUnsupported},

		// Binary
		{name: "add row", op: model.OpAdd, ins: []tin{a23, konst(sh(3), 10, 20, 30)}, want: [][]float32{{11, 22, 33, 14, 25, 36}}, shape: [][]int{{2, 3}}},
		{name: "sub column", op: model.OpSub, ins: []tin{a23, konst(sh(2, 1), 1, 2)}, want: [][]float32{{0, 1, 2, 2, 3, 4}}},
		{name: "mul outer", op: model.OpMul, ins: []tin{in(sh(2, 1), 1, 2), konst(sh(1, 3), 1, 10, 100)},
			want: [][]float32{{1, 10, 100, 2, 20, 200}}, shape: [][]int{{2, 3}}},
		{name: "div scalar", op: model.OpDiv, ins: []tin{a23, konst(sh(), 2)}, want: [][]float32{{0.5, 1, 1.5, 2, 2.5, 3}}},
		{name: "div by zero", op: model.OpDiv, ins: []tin{in(sh(2), 1, 0), konst(sh(1), 0)}, want: [][]float32{{inf, nan}}},
		{name: "no broadcast", op: model.OpAdd, ins: []tin{a23, konst(sh(2), 1, 2)}, err: ErrShape},
		{name: "one input", op: model.OpAdd, ins: []tin{a23}, err: ErrShape},

		// Concat
		{name: "axis 1", op: model.OpConcat, ins: []tin{in(sh(2, 1), 1, 2), konst(sh(2, 2), 3, 4, 5, 6)}, attrs: []model.Attr{iA("axis", 1)},
			want: [][]float32{{1, 3, 4, 2, 5, 6}}, shape: [][]int{{2, 3}}},
		{name: "axis -2", op: model.OpConcat, ins: []tin{in(sh(1, 2), 1, 2), konst(sh(2, 2), 3, 4, 5, 6)}, attrs: []model.Attr{iA("axis", -2)},
			want: [][]float32{{1, 2, 3, 4, 5, 6}}, shape: [][]int{{3, 2}}},
		{name: "mismatch", op: model.OpConcat, ins: []tin{in(sh(2, 1), 1, 2), konst(sh(3, 1), 3, 4, 5)}, attrs: []model.Attr{iA("axis", 1)}, err: ErrShape},
		{name: "axis out of range", op: model.OpConcat, ins: []tin{in(sh(2, 1), 1, 2)}, attrs: []model.Attr{iA("axis", 2)}, err: ErrShape},

		// Split
		{name: "sizes", op: model.OpSplit, ins: []tin{a23}, nout: 2, attrs: []model.Attr{iA("axis", 1), isA("split", 1, 2)},
			want: [][]float32{{1, 4}, {2, 3, 5, 6}}, shape: [][]int{{2, 1}, {2, 2}}},
		{name: "equal parts", op: model.OpSplit, ins: []tin{a23}, nout: 2, attrs: []model.Attr{iA("axis", -1)},
			want: [][]float32{{1, 2, 4, 5}, {3, 6}}, shape: [][]int{{2, 2}, {2, 1}}},
		{name: "empty part", op: model.OpSplit, ins: []tin{a23}, nout: 2, attrs: []model.Attr{isA("split", 0, 2)},
			want: [][]float32{{}, {1, 2, 3, 4, 5, 6}}, shape: [][]int{{0, 3}, {2, 3}}},
		{name: "too many parts", op: model.OpSplit, ins: []tin{in(sh(1), 1)}, nout: 3, err: ErrShape},
		{name: "sizes do not add up", op: model.OpSplit, ins: []tin{a23}, nout: 2, attrs: []model.Attr{isA("split", 1, 2)}, err: ErrShape},

		// Slice
		{name: "negative step from the end", op: model.OpSlice, ins: []tin{in(sh(5), 0, 1, 2, 3, 4)},
			attrs: []model.Attr{isA("starts", -1), isA("ends", math.MinInt64), isA("steps", -2)}, want: [][]float32{{4, 2, 0}}},
		{name: "to the end", op: model.OpSlice, ins: []tin{in(sh(5), 0, 1, 2, 3, 4)},
			attrs: []model.Attr{isA("starts", 1), isA("ends", math.MaxInt64)}, want: [][]float32{{1, 2, 3, 4}}},
		{name: "huge step", op: model.OpSlice, ins: []tin{in(sh(5), 0, 1, 2, 3, 4)},
			attrs: []model.Attr{isA("starts", 1), isA("ends", 5), isA("steps", math.MaxInt64)}, want: [][]float32{{1}}},
		{name: "axis -1", op: model.OpSlice, ins: []tin{a23}, attrs: []model.Attr{isA("starts", 1), isA("ends", 3), isA("axes", -1)},
			want: [][]float32{{2, 3, 5, 6}}, shape: [][]int{{2, 2}}},
		{name: "two axes", op: model.OpSlice, ins: []tin{a23}, attrs: []model.Attr{isA("starts", 2, 1), isA("ends", 0, 2), isA("axes", 1, 0), isA("steps", -1, 1)},
			want: [][]float32{{6, 5}}, shape: [][]int{{1, 2}}},
		{name: "empty", op: model.OpSlice, ins: []tin{a23}, attrs: []model.Attr{isA("starts", 2), isA("ends", 1)},
			want: [][]float32{{}}, shape: [][]int{{0, 3}}},
		{name: "step 0", op: model.OpSlice, ins: []tin{a23}, attrs: []model.Attr{isA("starts", 0), isA("ends", 1), isA("steps", 0)}, err: ErrShape},
		{name: "repeated axis", op: model.OpSlice, ins: []tin{a23}, attrs: []model.Attr{isA("starts", 0, 0), isA("ends", 1, 1), isA("axes", 0, -2)}, err: ErrShape},
		{name: "no ends", op: model.OpSlice, ins: []tin{a23}, attrs: []model.Attr{isA("starts", 0)}, err: ErrShape},

		// Flatten, Reshape, Transpose
		{name: "axis 0", op: model.OpFlatten, ins: []tin{a23}, attrs: []model.Attr{iA("axis", 0)},
			want: [][]float32{{1, 2, 3, 4, 5, 6}}, shape: [][]int{{1, 6}}},
		{name: "axis 2", op: model.OpFlatten, ins: []tin{a23}, attrs: []model.Attr{iA("axis", 2)}, shape: [][]int{{6, 1}}},
		{name: "default axis", op: model.OpFlatten, ins: []tin{in(sh(1, 2, 3), 1, 2, 3, 4, 5, 6)}, shape: [][]int{{1, 6}}},
		{name: "axis 3", op: model.OpFlatten, ins: []tin{a23}, attrs: []model.Attr{iA("axis", 3)}, err: ErrShape},
		{name: "infer", op: model.OpReshape, ins: []tin{a23, ints64(sh(2), 3, -1)}, want: [][]float32{{1, 2, 3, 4, 5, 6}}, shape: [][]int{{3, 2}}},
		{name: "copy dim", op: model.OpReshape, ins: []tin{a23, ints64(sh(3), 0, 3, 1)}, shape: [][]int{{2, 3, 1}}},
		{name: "drop axis", op: model.OpReshape, ins: []tin{in(sh(1, 1), 7), ints64(sh(1), 1)}, want: [][]float32{{7}}, shape: [][]int{{1}}},
		{name: "two -1", op: model.OpReshape, ins: []tin{a23, ints64(sh(2), -1, -1)}, err: ErrShape},
		{name: "wrong count", op: model.OpReshape, ins: []tin{a23, ints64(sh(2), 4, 2)}, err: ErrShape},
		{name: "allowzero", op: model.OpReshape, ins: []tin{a23, ints64(sh(2), 0, 6)}, attrs: []model.Attr{iA("allowzero", 1)}, err: ErrShape},
		{name: "float shape", op: model.OpReshape, ins: []tin{a23, konst(sh(2), 3, 2)}, err: ErrUnsupported},
		{name: "reverse", op: model.OpTranspose, ins: []tin{a23}, want: [][]float32{{1, 4, 2, 5, 3, 6}}, shape: [][]int{{3, 2}}},
		{name: "perm", op: model.OpTranspose, ins: []tin{in(sh(2, 1, 2), 1, 2, 3, 4)}, attrs: []model.Attr{isA("perm", 2, 0, 1)},
			want: [][]float32{{1, 3, 2, 4}}, shape: [][]int{{2, 2, 1}}},
		{name: "bad perm", op: model.OpTranspose, ins: []tin{a23}, attrs: []model.Attr{isA("perm", 0, 0)}, err: ErrShape},

		// Reductions
		{name: "mean axis 1", op: model.OpReduceMean, ins: []tin{a23}, attrs: []model.Attr{isA("axes", 1), iA("keepdims", 0)},
			want: [][]float32{{2, 5}}, shape: [][]int{{2}}},
		{name: "mean axis 0 kept", op: model.OpReduceMean, ins: []tin{a23}, attrs: []model.Attr{isA("axes", -2)},
			want: [][]float32{{2.5, 3.5, 4.5}}, shape: [][]int{{1, 3}}},
		{name: "l2 all", op: model.OpReduceL2, ins: []tin{in(sh(2, 2), 3, 0, 0, 4)}, want: [][]float32{{5}}, shape: [][]int{{1, 1}}},
		{name: "noop", op: model.OpReduceMean, ins: []tin{a23}, attrs: []model.Attr{iA("noop_with_empty_axes", 1)},
			want: [][]float32{{1, 2, 3, 4, 5, 6}}, shape: [][]int{{2, 3}}},
		{name: "two inputs", op: model.OpReduceMean, ins: []tin{a23, ints64(sh(1), 0)}, err: ErrShape},
		{name: "p1", op: model.OpLpNormalization, ins: []tin{in(sh(1, 4), 1, -1, 1, 1)}, attrs: []model.Attr{iA("p", 1)},
			want: [][]float32{{0.25, -0.25, 0.25, 0.25}}},
		{name: "p2 axis 0", op: model.OpLpNormalization, ins: []tin{in(sh(2, 1), 3, 4)}, attrs: []model.Attr{iA("axis", 0)},
			want: [][]float32{{0.6, 0.8}}},
		{name: "p3", op: model.OpLpNormalization, ins: []tin{in(sh(2), 3, 4)}, attrs: []model.Attr{iA("p", 3)}, err: ErrUnsupported},
		{name: "l2 eps", op: model.OpL2Normalize, ins: []tin{in(sh(2, 2), 3, 0, 4, 0)}, attrs: []model.Attr{iA("axis", 0), fA("epsilon", 10)},
			want: [][]float32{{0.3, 0, 0.4, 0}}},
		{name: "zero vector", op: model.OpL2Normalize, ins: []tin{in(sh(1, 2), 0, 0)}, want: [][]float32{{0, 0}}},
		{name: "scalar", op: model.OpL2Normalize, ins: []tin{in(sh(), 1)}, err: ErrShape},

		// Ops the reference does not know
		{name: "unknown op", op: "Swoosh", ins: []tin{a23}, err: ErrUnsupported},
		// Pad, LayerNormalization, Softmax, ReduceSum/Max/Min.
		{name: "constant", op: model.OpPad, ins: []tin{m22}, attrs: []model.Attr{isA("pads", 0, 1, 1, 0), fA("value", 9)},
			want: [][]float32{{9, 1, 2, 9, 3, 4, 9, 9, 9}}, shape: [][]int{{3, 3}}},
		{name: "constant default crop", op: model.OpPad, ins: []tin{a23}, attrs: []model.Attr{isA("pads", 0, -1, 0, 1)},
			want: [][]float32{{2, 3, 0, 5, 6, 0}}},
		{name: "edge", op: model.OpPad, ins: []tin{a23}, attrs: []model.Attr{sA("mode", "edge"), isA("pads", 1, 2, 0, 0)},
			want: [][]float32{{1, 1, 1, 2, 3, 1, 1, 1, 2, 3, 4, 4, 4, 5, 6}}},
		{name: "reflect", op: model.OpPad, ins: []tin{in(sh(1, 3), 1, 2, 3)}, attrs: []model.Attr{sA("mode", "reflect"), isA("pads", 0, 3, 0, 4)},
			want: [][]float32{{2, 3, 2, 1, 2, 3, 2, 1, 2, 3}}},
		{name: "reflect single", op: model.OpPad, ins: []tin{in(sh(1, 1), 7)}, attrs: []model.Attr{sA("mode", "reflect"), isA("pads", 0, 1, 0, 1)},
			want: [][]float32{{7, 7, 7}}},
		{name: "wrap", op: model.OpPad, ins: []tin{m22}, attrs: []model.Attr{sA("mode", "wrap"), isA("pads", 0, 0, 0, 0)}, err: ErrUnsupported},
		{name: "empty", op: model.OpPad, ins: []tin{m22}, attrs: []model.Attr{isA("pads", 0, -2, 0, 0)}, err: ErrShape},
		{name: "pads length", op: model.OpPad, ins: []tin{m22}, attrs: []model.Attr{isA("pads", 1, 1)}, err: ErrShape},
		{name: "last axis", op: model.OpLayerNormalization, ins: []tin{a23, konst(sh(3), 1, 2, 3), konst(sh(3), 0, 0, 1)},
			attrs: []model.Attr{isA("axes", 1), fA("epsilon", 0)}, nout: 3,
			want:  [][]float32{{-1.2247449, 0, 4.6742346, -1.2247449, 0, 4.6742346}, {2, 5}, {1.2247449, 1.2247449}},
			shape: [][]int{{2, 3}, {2, 1}, {2, 1}}},
		{name: "first axis no params", op: model.OpLayerNormalization, ins: []tin{a23}, attrs: []model.Attr{isA("axes", 0)},
			want: [][]float32{{-0.9999978, -0.9999978, -0.9999978, 0.9999978, 0.9999978, 0.9999978}}},
		{name: "axes gap", op: model.OpLayerNormalization, ins: []tin{in(sh(1, 2, 2), 1, 2, 3, 4)}, attrs: []model.Attr{isA("axes", 0, 2)}, err: ErrUnsupported},
		{name: "scale shape", op: model.OpLayerNormalization, ins: []tin{a23, konst(sh(2), 1, 1)}, attrs: []model.Attr{isA("axes", 1)}, err: ErrShape},
		{name: "last axis", op: model.OpSoftmax, ins: []tin{in(sh(1, 3), 1, 2, 3)},
			want: [][]float32{{0.09003057, 0.24472847, 0.66524096}}},
		{name: "axis 0 large", op: model.OpSoftmax, ins: []tin{in(sh(2, 1), 1000, 1001)}, attrs: []model.Attr{iA("axis", 0)},
			want: [][]float32{{0.26894142, 0.73105858}}},
		{name: "sum", op: model.OpReduceSum, ins: []tin{a23}, attrs: []model.Attr{isA("axes", 0)}, want: [][]float32{{5, 7, 9}}, shape: [][]int{{1, 3}}},
		{name: "max", op: model.OpReduceMax, ins: []tin{in(sh(2, 2), 1, 5, -3, 2)}, attrs: []model.Attr{isA("axes", 1), iA("keepdims", 0)},
			want: [][]float32{{5, 2}}, shape: [][]int{{2}}},
		{name: "max nan", op: model.OpReduceMax, ins: []tin{in(sh(3), 1, nan, 2)}, want: [][]float32{{nan}}},
		{name: "min", op: model.OpReduceMin, ins: []tin{in(sh(2, 2), 1, 5, -3, 2)}, want: [][]float32{{-3}}, shape: [][]int{{1, 1}}},
		// Element-wise math.
		{name: "values", op: model.OpErf, ins: []tin{in(sh(3), 0.5, -1, 0)}, want: [][]float32{{0.52049988, -0.84270079, 0}}},
		{name: "values", op: model.OpGELU, ins: []tin{in(sh(3), 1, -1, 0)}, want: [][]float32{{0.84134475, -0.15865525, 0}}},
		{name: "fused GELU", op: model.OpConv, ins: []tin{in(sh(1, 1, 1, 2), 1, -1), konst(sh(1, 1, 1, 1), 1)},
			attrs: []model.Attr{sA("activation", model.ActGELU)}, want: [][]float32{{0.84134475, -0.15865525}}},
		{name: "values", op: model.OpSqrt, ins: []tin{in(sh(3), 4, 2, -1)}, want: [][]float32{{2, 1.4142135, nan}}},
		{name: "scalar", op: model.OpPow, ins: []tin{in(sh(2), 2, 3), konst(sh(), 2)}, want: [][]float32{{4, 9}}},
		{name: "broadcast", op: model.OpPow, ins: []tin{m22, konst(sh(2), 2, 0.5)}, want: [][]float32{{1, 1.4142135, 9, 2}}},
		{name: "rank up", op: model.OpPow, ins: []tin{in(sh(2), 2, 3), konst(sh(1, 1), 3)}, want: [][]float32{{8, 27}},
			shape: [][]int{{1, 2}}},
		{name: "values", op: model.OpTanh, ins: []tin{in(sh(2), 0.5, -2)}, want: [][]float32{{0.46211716, -0.96402758}}},
		{name: "values", op: model.OpNeg, ins: []tin{in(sh(2), 0.5, -2)}, want: [][]float32{{-0.5, 2}}},
		{name: "values", op: model.OpAbs, ins: []tin{in(sh(2), 0.5, -2)}, want: [][]float32{{0.5, 2}}},
		{name: "values", op: model.OpReciprocal, ins: []tin{in(sh(2), 2, -4)}, want: [][]float32{{0.5, -0.25}}},
		{name: "values", op: model.OpExp, ins: []tin{in(sh(2), 1, -1)}, want: [][]float32{{2.7182817, 0.36787944}}},
		{name: "values", op: model.OpLog, ins: []tin{in(sh(3), 2, 0, -1)}, want: [][]float32{{0.69314718, float32(math.Inf(-1)), nan}}},
		{name: "broadcast", op: model.OpMax, ins: []tin{in(sh(2, 2), 1, 5, -3, 2), konst(sh(2), 0, 3)}, want: [][]float32{{1, 5, 0, 3}}},
		{name: "nan", op: model.OpMax, ins: []tin{in(sh(2), nan, 1), konst(sh(2), 1, nan)}, want: [][]float32{{nan, nan}}},
		{name: "broadcast", op: model.OpMin, ins: []tin{in(sh(2, 2), 1, 5, -3, 2), konst(sh(2), 0, 3)}, want: [][]float32{{0, 3, -3, 2}}},
		{name: "channel", op: model.OpPRelu, ins: []tin{in(sh(1, 2, 1, 2), -1, 2, -3, 4), konst(sh(2, 1, 1), 0.1, 0.5)},
			want: [][]float32{{-0.1, 2, -1.5, 4}}},
		{name: "slope too large", op: model.OpPRelu, ins: []tin{in(sh(2), -1, 2), konst(sh(2, 2), 1, 1, 1, 1)}, err: ErrShape},
		{name: "slope mismatch", op: model.OpPRelu, ins: []tin{m22, konst(sh(3), 1, 1, 1)}, err: ErrShape},
		{name: "Identity", op: "Identity", ins: []tin{a23}, err: ErrUnsupported},
	}, quantCases()...)
}

func TestOps(t *testing.T) {
	covered := map[string]bool{}
	for _, c := range opCases() {
		t.Run(c.op+"/"+c.name, func(t *testing.T) {
			nout := max(c.nout, 1)
			got, shapes, err := runCase(t, c.op, c.ins, nout, DefaultLimits, c.attrs...)
			if c.err != nil {
				if !errors.Is(err, c.err) {
					t.Fatalf("err = %v, want %v", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			covered[c.op] = true
			for i, want := range c.want {
				if !close32(got[i], want) {
					t.Errorf("output %d = %v, want %v", i, got[i], want)
				}
			}
			for i, want := range c.shape {
				if !slices.Equal(shapes[i], want) {
					t.Errorf("output %d has shape %v, want %v", i, shapes[i], want)
				}
			}
		})
	}
	for op := range ops {
		if !covered[op] {
			t.Errorf("no case computes %s", op)
		}
	}
}

// close32 compares within 2 ulp-ish (1e-6 relative); NaN equals NaN.
func close32(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := float64(a[i]), float64(b[i])
		if math.IsNaN(x) || math.IsNaN(y) {
			if math.IsNaN(x) != math.IsNaN(y) {
				return false
			}
			continue
		}
		if x != y && math.Abs(x-y) > 1e-6*math.Max(math.Abs(x), math.Abs(y)) {
			return false
		}
	}
	return true
}

// The engine's own model op list must all be known here: a model op the
// reference lacks would leave the engine untested on it.
func TestEveryModelOp(t *testing.T) {
	for _, op := range []string{model.OpConv, model.OpGemm, model.OpMatMul, model.OpBatchNormalization, model.OpRelu,
		model.OpClip, model.OpLeakyRelu, model.OpSigmoid, model.OpHardSigmoid, model.OpHardSwish, model.OpSiLU,
		model.OpMaxPool, model.OpAveragePool, model.OpGlobalAveragePool, model.OpAdd, model.OpSub, model.OpMul,
		model.OpDiv, model.OpConcat, model.OpFlatten, model.OpReshape, model.OpTranspose, model.OpSplit, model.OpSlice,
		model.OpReduceMean, model.OpReduceL2, model.OpLpNormalization, model.OpL2Normalize,
		model.OpPad, model.OpLayerNormalization, model.OpSoftmax, model.OpReduceSum, model.OpReduceMax, model.OpReduceMin} {
		if ops[op] == nil {
			t.Errorf("op %s has no reference function", op)
		}
	}
}

func TestLimits(t *testing.T) {
	big := in(sh(1, 1, 4, 4), make([]float32, 16)...)
	w := konst(sh(1, 1, 1, 1), 1)
	cases := []struct {
		name string
		lim  Limits
		err  error
	}{
		{"fits", Limits{MaxElements: 16, MaxTotal: 33, MaxWork: 16}, nil},
		{"one tensor", Limits{MaxElements: 15, MaxTotal: 1 << 20, MaxWork: 1 << 20}, ErrTooLarge},
		{"all tensors", Limits{MaxElements: 16, MaxTotal: 32, MaxWork: 1 << 20}, ErrTooLarge},
		{"work", Limits{MaxElements: 16, MaxTotal: 1 << 20, MaxWork: 15}, ErrTooLarge},
	}
	for _, c := range cases {
		// input 16 + weights 1 + output 16 = 33 elements, 16 multiply-adds
		_, _, err := runCase(t, model.OpConv, []tin{big, w}, 1, c.lim)
		if (c.err == nil && err != nil) || (c.err != nil && !errors.Is(err, c.err)) {
			t.Errorf("%s: err = %v, want %v", c.name, err, c.err)
		}
	}
	// A graph input too large to allocate is refused before allocating.
	g := model.Graph{Inputs: []model.Value{{Name: "x", Shape: sh(1<<20, 1<<20, 1<<20)}}, Outputs: []model.Value{{Name: "x"}}}
	if _, err := Run(&model.Model{Graph: g}, [][]float32{{1}}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("huge input: err = %v, want ErrTooLarge", err)
	}
	// Reshape to a shape whose product wraps around an int.
	_, _, err := runCase(t, model.OpReshape, []tin{in(sh(1), 1), ints64(sh(3), 1<<32, 1<<32, 0)}, 1, DefaultLimits, iA("allowzero", 1))
	if !errors.Is(err, ErrShape) {
		t.Errorf("reshape to 2^32×2^32×0: err = %v, want ErrShape", err)
	}
}

// Malformed graphs that model.New would refuse still give errors, not panics.
func TestUnvalidatedGraphs(t *testing.T) {
	f := model.NewFloat32Tensor
	cases := []struct {
		name string
		g    model.Graph
		in   [][]float32
		err  error
	}{
		{"undefined input", model.Graph{Nodes: []model.Node{{Op: model.OpRelu, Inputs: []string{"nope"}, Outputs: []string{"y"}}},
			Outputs: []model.Value{{Name: "y"}}}, nil, ErrShape},
		{"no outputs on node", model.Graph{Initializers: []model.Tensor{f("x", sh(1), []float32{1})},
			Nodes: []model.Node{{Op: model.OpRelu, Inputs: []string{"x"}}}, Outputs: []model.Value{{Name: "x"}}}, nil, ErrShape},
		{"defined twice", model.Graph{Initializers: []model.Tensor{f("x", sh(1), []float32{1})},
			Nodes:   []model.Node{{Op: model.OpRelu, Inputs: []string{"x"}, Outputs: []string{"x"}}},
			Outputs: []model.Value{{Name: "x"}}}, nil, ErrShape},
		{"short data", model.Graph{Initializers: []model.Tensor{{Name: "x", DType: model.Float32, Shape: sh(4), Data: make([]byte, 8)}},
			Outputs: []model.Value{{Name: "x"}}}, nil, ErrShape},
		{"negative dim", model.Graph{Initializers: []model.Tensor{{Name: "x", DType: model.Float32, Shape: sh(-4)}},
			Outputs: []model.Value{{Name: "x"}}}, nil, ErrShape},
		{"unknown dtype", model.Graph{Initializers: []model.Tensor{{Name: "x", DType: 99, Shape: sh(1), Data: make([]byte, 4)}},
			Outputs: []model.Value{{Name: "x"}}}, nil, ErrUnsupported},
		{"missing output", model.Graph{Outputs: []model.Value{{Name: "y"}}}, nil, ErrShape},
		{"too few inputs", model.Graph{Inputs: []model.Value{{Name: "x", Shape: sh(1)}}, Outputs: []model.Value{{Name: "x"}}}, nil, ErrShape},
		{"too many inputs", model.Graph{Inputs: []model.Value{{Name: "x", Shape: sh(1)}}, Outputs: []model.Value{{Name: "x"}}},
			[][]float32{{1}, {2}}, ErrShape},
		{"wrong input size", model.Graph{Inputs: []model.Value{{Name: "x", Shape: sh(-1, 2)}}, Outputs: []model.Value{{Name: "x"}}},
			[][]float32{{1}}, ErrShape},
		{"inexact int64 output", model.Graph{Initializers: []model.Tensor{model.NewInt64Tensor("x", sh(1), []int64{1<<24 + 1})},
			Outputs: []model.Value{{Name: "x"}}}, nil, ErrUnsupported},
	}
	for _, c := range cases {
		if _, err := Run(&model.Model{Graph: c.g}, c.in); !errors.Is(err, c.err) {
			t.Errorf("%s: err = %v, want %v", c.name, err, c.err)
		}
	}
	if _, err := Run(nil, nil); !errors.Is(err, ErrShape) {
		t.Errorf("nil model: err = %v", err)
	}
}

// A graph of several nodes: outputs flow from node to node, a graph input
// can be an output, an int64 initializer output comes out as float32.
func TestGraph(t *testing.T) {
	g := model.Graph{
		Inputs:       []model.Value{{Name: "x", Shape: sh(-1, 2)}},
		Initializers: []model.Tensor{model.NewFloat32Tensor("b", sh(2), []float32{1, -10}), model.NewInt64Tensor("s", sh(2), []int64{2, -7})},
		Nodes: []model.Node{
			{Op: model.OpAdd, Inputs: []string{"x", "b"}, Outputs: []string{"y"}},
			{Op: model.OpRelu, Inputs: []string{"y"}, Outputs: []string{"z"}},
		},
		Outputs: []model.Value{{Name: "z"}, {Name: "x"}, {Name: "s"}},
	}
	m, err := model.New(model.Metadata{}, g)
	if err != nil {
		t.Fatal(err)
	}
	x := []float32{1, 2}
	outs, err := Run(m, [][]float32{x})
	if err != nil {
		t.Fatal(err)
	}
	want := [][]float32{{2, 0}, {1, 2}, {2, -7}}
	for i := range want {
		if !slices.Equal(outs[i], want[i]) {
			t.Errorf("output %d = %v, want %v", i, outs[i], want[i])
		}
	}
	outs[1][0] = 99
	if x[0] != 1 {
		t.Error("an output aliases the caller's input")
	}
}
