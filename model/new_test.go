package model_test

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/signet-go/signet/model"
	"github.com/signet-go/signet/model/modeltest"
)

func TestNewRejects(t *testing.T) {
	type mut = func(*model.Metadata, *model.Graph)
	g := model.ErrInvalidGraph
	md := model.ErrInvalidMetadata
	cases := []struct {
		name string
		edit mut
		want error
		msg  string
	}{
		{"no outputs", func(_ *model.Metadata, g *model.Graph) { g.Outputs = nil }, g, "no outputs"},
		{"undefined output", func(_ *model.Metadata, g *model.Graph) { g.Outputs = append(g.Outputs, model.Value{Name: "ghost"}) }, g, `"ghost" is not defined`},
		{"output listed twice", func(_ *model.Metadata, g *model.Graph) { g.Outputs = append(g.Outputs, g.Outputs[0]) }, g, "listed twice"},
		{"input used before defined", func(_ *model.Metadata, g *model.Graph) { g.Nodes[0], g.Nodes[1] = g.Nodes[1], g.Nodes[0] }, g, `input "conv.out" is not defined`},
		{"initializer shadows input", func(_ *model.Metadata, g *model.Graph) { g.Initializers[0].Name = "image" }, g, `"image" defined twice`},
		{"node redefines initializer", func(_ *model.Metadata, g *model.Graph) { g.Nodes[1].Outputs[0] = "fc.bias" }, g, `"fc.bias" defined twice`},
		{"empty op", func(_ *model.Metadata, g *model.Graph) { g.Nodes[2].Op = "" }, g, "empty op"},
		{"empty input name", func(_ *model.Metadata, g *model.Graph) { g.Inputs[0].Name = "" }, g, "empty name"},
		{"long name", func(_ *model.Metadata, g *model.Graph) {
			g.Initializers[1].Name = strings.Repeat("x", model.MaxNameLen+1)
		}, g, "limit 4096"},
		{"rank above limit", func(_ *model.Metadata, g *model.Graph) { g.Inputs[0].Shape = make([]int64, 9) }, g, "rank 9"},
		{"zero dim in input", func(_ *model.Metadata, g *model.Graph) { g.Inputs[0].Shape[2] = 0 }, g, "dimension 2 is 0"},
		{"dynamic dim in initializer", func(_ *model.Metadata, g *model.Graph) { g.Initializers[1].Shape[0] = -1 }, g, "must be >= 1"},
		{"short tensor data", func(_ *model.Metadata, g *model.Graph) { g.Initializers[0].Data = g.Initializers[0].Data[1:] }, g, "data has 431 bytes"},
		{"unknown dtype", func(_ *model.Metadata, g *model.Graph) { g.Initializers[0].DType = 0 }, g, "unknown dtype 0"},
		{"element count overflow", func(_ *model.Metadata, g *model.Graph) { g.Initializers[0].Shape = []int64{1 << 32, 1 << 32} }, g, "overflows"},
		{"byte count overflow", func(_ *model.Metadata, g *model.Graph) { g.Initializers[0].Shape = []int64{1 << 62} }, g, "needs"},
		{"unknown attr kind", func(_ *model.Metadata, g *model.Graph) { g.Nodes[0].Attrs[0].Kind = 0 }, g, "unknown kind 0"},
		{"duplicate attr", func(_ *model.Metadata, g *model.Graph) { g.Nodes[0].Attrs[1].Name = "kernel_shape" }, g, "given twice"},
		{"empty attr name", func(_ *model.Metadata, g *model.Graph) { g.Nodes[0].Attrs[1].Name = "" }, g, "name must be"},
		{"too many attr elements", func(_ *model.Metadata, g *model.Graph) {
			g.Nodes[0].Attrs[0].Ints = make([]int64, model.MaxAttrElems+1)
		}, g, "more than"},
		{"layout", func(m *model.Metadata, _ *model.Graph) { m.InputLayout = "CHW" }, md, "input layout"},
		{"channel order", func(m *model.Metadata, _ *model.Graph) { m.ChannelOrder = "rgb" }, md, "channel order"},
		{"NaN mean", func(m *model.Metadata, _ *model.Graph) { m.Mean[0] = float32(math.NaN()) }, md, "mean[0] is NaN"},
		{"negative std", func(m *model.Metadata, _ *model.Graph) { m.Std[1] = -1 }, md, "std[1] is -1"},
		{"infinite std", func(m *model.Metadata, _ *model.Graph) { m.Std[2] = float32(math.Inf(1)) }, md, "std[2] is +Inf"},
		{"mean/std lengths", func(m *model.Metadata, _ *model.Graph) { m.Std = m.Std[:2] }, md, "mean has 3 entries, std 2"},
		{"mean vs channels", func(m *model.Metadata, _ *model.Graph) { m.Mean, m.Std = m.Mean[:1], nil }, md, "3 channels"},
		{"output name", func(m *model.Metadata, _ *model.Graph) { m.OutputName = "fc.out" }, md, "not a graph output"},
		{"negative output size", func(m *model.Metadata, _ *model.Graph) { m.OutputSize = -1 }, md, "output size -1"},
		{"empty extra key", func(m *model.Metadata, _ *model.Graph) { m.Extra[""] = "x" }, md, "extra key"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			meta, gr := modeltest.TinyParts()
			c.edit(&meta, &gr)
			_, err := model.New(meta, gr)
			if !errors.Is(err, c.want) || !errors.Is(err, model.ErrCorrupt) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
			if !strings.Contains(err.Error(), c.msg) {
				t.Errorf("message %q does not say %q", err, c.msg)
			}
		})
	}
}

// TestNewAccepts covers what the rules allow: dynamic dims in graph
// inputs/outputs, omitted optional inputs and outputs, graphs without
// inputs, no preprocessing metadata at all, every dtype and attribute kind.
func TestNewAccepts(t *testing.T) {
	meta, g := modeltest.TinyParts()
	g.Inputs[0].Shape[0] = -1
	g.Outputs[0].Shape[0] = -1
	g.Nodes[0].Inputs = append(g.Nodes[0].Inputs, "")
	g.Nodes[1].Outputs = append(g.Nodes[1].Outputs, "")
	g.Nodes[4].Attrs = append(g.Nodes[4].Attrs, model.Attr{Name: "activation_params", Kind: model.AttrFloats, Floats: []float32{0, 6}})
	g.Initializers = append(g.Initializers,
		model.Tensor{Name: "q", DType: model.Int8, Shape: []int64{3}, Data: []byte{1, 2, 0xff}},
		model.Tensor{Name: "scalar", DType: model.Int32, Data: []byte{1, 0, 0, 0}})
	round(t, meta, g)

	round(t, model.Metadata{}, model.Graph{
		Initializers: []model.Tensor{model.NewFloat32Tensor("c", nil, []float32{2})},
		Outputs:      []model.Value{{Name: "c"}},
	})
}

func round(t *testing.T, meta model.Metadata, g model.Graph) {
	t.Helper()
	m, err := model.New(meta, g)
	if err != nil {
		t.Fatal(err)
	}
	roundTrip(t, m)
}
