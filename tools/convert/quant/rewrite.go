package quant

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"

	"github.com/signet-go/signet/model"
)

// rewrite returns m with the layers cs in QDQ form and every tensor in
// codes carried as int8: such a tensor t is written under the name t::f by
// its producer and read by every consumer as DQ(Q(t::f)) under its own
// name t, which leaves consumers and graph outputs as they were (a graph
// input, which cannot be renamed, is read as t::dq). The engine fuses
// DequantizeLinear → layer → QuantizeLinear into int8 kernels, so a layer
// whose input and output are both in codes runs in int8.
func rewrite(m *model.Model, cs []*cand, codes []string, ranges map[string]qrange) (*model.Model, error) {
	g := model.Graph{
		Inputs:       m.Graph.Inputs,
		Outputs:      m.Graph.Outputs,
		Initializers: slices.Clone(m.Graph.Initializers),
	}
	byNode := map[int]*cand{}
	for _, c := range cs {
		byNode[c.node] = c
	}
	in := map[string]bool{}
	for _, t := range codes {
		if _, ok := ranges[t]; !ok {
			return nil, fmt.Errorf("quant: no calibrated range for %q", t)
		}
		in[t] = true
	}
	b := &builder{g: &g}
	redirect := map[string]string{}
	for _, v := range g.Inputs {
		if in[v.Name] {
			redirect[v.Name] = b.qdq(v.Name, v.Name+"::dq", ranges[v.Name])
		}
	}
	for i := range m.Graph.Nodes {
		n := m.Graph.Nodes[i]
		n.Inputs = slices.Clone(n.Inputs)
		n.Outputs = slices.Clone(n.Outputs)
		for j, x := range n.Inputs {
			if r, ok := redirect[x]; ok {
				n.Inputs[j] = r
			}
		}
		if c := byNode[i]; c != nil {
			b.weights(m, c, &n, ranges[c.x].scale)
		}
		var post []string
		for j, o := range n.Outputs {
			if in[o] {
				n.Outputs[j] = o + "::f"
				post = append(post, o)
			}
		}
		g.Nodes = append(g.Nodes, n)
		for _, o := range post {
			b.qdq(o+"::f", o, ranges[o])
		}
	}
	// The float weights of quantised layers are read by nothing now.
	used := map[string]bool{}
	for _, n := range g.Nodes {
		for _, x := range n.Inputs {
			used[x] = true
		}
	}
	for _, o := range g.Outputs {
		used[o.Name] = true
	}
	g.Initializers = slices.DeleteFunc(g.Initializers, func(t model.Tensor) bool { return !used[t.Name] })
	return &model.Model{Meta: m.Meta, Graph: g}, nil
}

// weights gives layer n (cand c, input scale sx) int8 weights per output
// channel and an int32 bias, each read through a DequantizeLinear.
func (b *builder) weights(m *model.Model, c *cand, n *model.Node, sx float32) {
	w, _ := m.Initializer(c.w)
	wq, ws := quantWeights(w, c.axis)
	wname := c.y + "::w"
	b.init(model.Tensor{Name: wname + "_q", DType: model.Int8, Shape: w.Shape, Data: wq})
	b.init(model.NewFloat32Tensor(wname+"_scale", []int64{int64(len(ws))}, ws))
	b.init(model.Tensor{Name: wname + "_zero", DType: model.Int8, Shape: []int64{int64(len(ws))}, Data: make([]byte, len(ws))})
	b.node(opDequantize, wname, []string{wname + "_q", wname + "_scale", wname + "_zero"}, c.axis)
	n.Inputs[1] = wname
	if c.b == "" {
		return
	}
	bt, _ := m.Initializer(c.b)
	bq, bs := quantBias(bt.Float32s(), sx, ws)
	bname := c.y + "::b"
	b.init(model.Tensor{Name: bname + "_q", DType: model.Int32, Shape: bt.Shape, Data: bq})
	b.init(model.NewFloat32Tensor(bname+"_scale", []int64{int64(len(bs))}, bs))
	b.node(opDequantize, bname, []string{bname + "_q", bname + "_scale"}, 0)
	n.Inputs[2] = bname
}

type builder struct{ g *model.Graph }

func (b *builder) init(t model.Tensor) { b.g.Initializers = append(b.g.Initializers, t) }

// node appends op; axis >= 0 is written (ONNX's default axis is 1, so a
// per-channel axis 0 must be), axis < 0 (per tensor) is not.
func (b *builder) node(op, out string, in []string, axis int) {
	n := model.Node{Op: op, Name: out, Inputs: in, Outputs: []string{out}}
	if axis >= 0 {
		n.Attrs = []model.Attr{{Name: "axis", Kind: model.AttrInt, Int: int64(axis)}}
	}
	b.g.Nodes = append(b.g.Nodes, n)
}

// qdq appends Q and DQ of x with encoding r; the DequantizeLinear writes
// out, which it returns.
func (b *builder) qdq(x, out string, r qrange) string {
	base := out + "::q"
	b.init(model.NewFloat32Tensor(base+"_scale", nil, []float32{r.scale}))
	b.init(model.Tensor{Name: base + "_zero", DType: model.Int8, Data: []byte{byte(r.zero)}})
	b.node(opQuantize, base, []string{x, base + "_scale", base + "_zero"}, -1)
	b.node(opDequantize, out, []string{base, base + "_scale", base + "_zero"}, -1)
	return out
}

// quantWeights quantises w symmetrically per slice along axis: scale
// max|w|/127 (1 for an all-zero slice), values round-half-to-even in
// [-127, 127].
func quantWeights(w *model.Tensor, axis int) ([]byte, []float32) {
	f := w.Float32s()
	ch := int(w.Shape[axis])
	inner := 1
	for _, d := range w.Shape[axis+1:] {
		inner *= int(d)
	}
	at := func(i int) int { return i / inner % ch }
	amax := make([]float64, ch)
	for i, v := range f {
		amax[at(i)] = math.Max(amax[at(i)], math.Abs(float64(v)))
	}
	scale := make([]float32, ch)
	for c, a := range amax {
		scale[c] = 1
		if a > 0 {
			scale[c] = float32(a / 127)
		}
	}
	q := make([]byte, len(f))
	for i, v := range f {
		r := math.RoundToEven(float64(v) / float64(scale[at(i)]))
		q[i] = byte(int8(max(-127, min(127, r))))
	}
	return q, scale
}

// quantBias quantises the bias to int32 with scale sx·sw[c].
func quantBias(b []float32, sx float32, sw []float32) ([]byte, []float32) {
	q := make([]byte, 4*len(b))
	s := make([]float32, len(b))
	for c, v := range b {
		s[c] = sx * sw[c]
		r := math.RoundToEven(float64(v) / float64(s[c]))
		r = max(math.MinInt32, min(math.MaxInt32, r))
		binary.LittleEndian.PutUint32(q[4*c:], uint32(int32(r)))
	}
	return q, s
}
