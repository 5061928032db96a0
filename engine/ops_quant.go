package engine

import (
	"math"
	"slices"
	"unsafe"

	"github.com/signet-go/signet/engine/internal/backend"
	"github.com/signet-go/signet/engine/internal/cpu"
	"github.com/signet-go/signet/internal/shape"
	"github.com/signet-go/signet/kernels"
	"github.com/signet-go/signet/model"
)

// QDQ graphs. QuantizeLinear gives an int8 runtime value (dtype Int8; its
// elements lie four to a float32 slot of the arena, so the arena, the
// liveness and the buffer placement treat it as any value of (n+3)/4
// floats). DequantizeLinear is planned lazily: its float32 output is
// computed only when a float op reads it (a Dequantize step for a runtime
// input; for a constant one, such as weights, the float32 values at plan
// time, after which it is a constant like any other). That leaves the int8
// value itself to the int8 steps that can read it directly:
//
//	DequantizeLinear(x int8, per tensor)
//	  + DequantizeLinear(W int8 constant, per output channel or per tensor, zero point 0)
//	  + bias: none, a float32 constant, or DequantizeLinear(int32 constant)
//	→ Conv (group 1) | Gemm (transA 0) | MatMul (A of rank 2 or 3)
//	  [fused activation Relu or Clip, and/or a Relu or Clip node]
//	→ QuantizeLinear(y, per tensor)
//
// becomes one step on kernels.QConv or the kernels.QGemm family: the
// weights are packed once (the model's int8 tensor is read in place and
// not kept), the bias goes into accumulator units (round(b / (x_scale ·
// w_scale[o])): the int32 itself when its scale is that product, as
// quantisers write it), the requantisation scale is x_scale · w_scale[o] /
// y_scale, and Relu or Clip(a, b) become the output clamp [Q(a), Q(b)]
// (QuantizeLinear is monotonic, so clamping after it is the same as
// before). Every intermediate of the chain must have that one reader and
// not be a graph output. Back-to-back layers so stay int8 from one to the
// next, and so do these int8 steps between them: MaxPool between a
// DequantizeLinear and a QuantizeLinear of the same scale and zero point
// (exact: the maximum commutes with dequantisation); Add of two
// dequantised int8 values of one shape [→ Relu or Clip] → QuantizeLinear,
// a residual connection (exact: the float32 operations of the unfused
// chain); GlobalAveragePool [→ Relu or Clip] → QuantizeLinear (the
// integer sum, requantised once like a convolution's).
//
// The fused convolutions, GEMMs and means compute the exact integer sum
// and round once, where the graph's float32 semantics (the reference's)
// sum float32 products and round to int8 at the end: the two differ only
// when the float32 result lies within its rounding error of a half
// quantum, and then by one quantum (TestQuantFusedWithinOneQuantum).
// Everything else runs on the float path with explicit Quantize and
// Dequantize steps, which give exactly what the reference gives:
// depthwise and grouped convolutions, average pooling and Flatten/Reshape
// among them (constant weights dequantised once at plan time). Scales
// must be positive and finite (the reference computes any finite one).

// quantState is what the planner knows of the graph's QDQ structure.
type quantState struct {
	idx     map[*model.Node]int
	readers map[string][]int // node indices reading each value
	output  map[string]bool  // graph outputs
	done    []bool           // node i was planned as part of a fused step
	deq     map[int]*deq     // DequantizeLinear outputs, by value id
}

// deq is a DequantizeLinear, its output computed (settled) only once a
// float op reads it; fused steps read its input whether or not it is.
type deq struct {
	settled bool
	node    string
	src     int     // runtime int8 input, -1 for a constant one
	w       []int8  // constant int8 input (the model's bytes)
	w32     []int32 // constant int32 input
	shape   []int
	qp      qparams
}

// qparams are a QuantizeLinear's or DequantizeLinear's scale and zero
// point: one of each (per tensor) or one per index of logical axis axis.
type qparams struct {
	scale []float32
	zero  []int8
	axis  int // -1 per tensor
}

func (c *compiler) quant() *quantState {
	if c.q != nil {
		return c.q
	}
	g := &c.m.Graph
	q := &quantState{idx: map[*model.Node]int{}, readers: map[string][]int{}, output: map[string]bool{},
		done: make([]bool, len(g.Nodes)), deq: map[int]*deq{}}
	for i := range g.Nodes {
		n := &g.Nodes[i]
		q.idx[n] = i
		for _, in := range n.Inputs {
			if in != "" {
				q.readers[in] = append(q.readers[in], i)
			}
		}
	}
	for _, o := range g.Outputs {
		q.output[o.Name] = true
	}
	c.q = q
	return q
}

// buildQuant plans the current node when it is a QDQ op, part of a fused
// chain already planned, or the head of one (done true); otherwise the
// float path plans it.
func (c *compiler) buildQuant(n *model.Node) (done bool, err error) {
	q := c.quant()
	if q.done[q.idx[n]] {
		return true, nil
	}
	switch n.Op {
	case model.OpQuantizeLinear:
		return true, c.buildQ()
	case model.OpDequantizeLinear:
		return true, c.buildDQ()
	case model.OpConv:
		return c.tryQConv()
	case model.OpGemm, model.OpMatMul:
		return c.tryQGemm()
	case model.OpMaxPool:
		return c.tryQMaxPool()
	case model.OpAdd:
		return c.tryQAdd()
	case model.OpGlobalAveragePool:
		return c.tryQGAP()
	}
	return false, nil
}

// slots is the number of float32 slots of storage the value takes.
func (v *value) slots() int {
	if v.dtype == model.Int8 {
		return (v.size + 3) / 4
	}
	return v.size
}

// quantIn prepares value id for a float op: a pending DequantizeLinear is
// computed, an int8 value refused.
func (c *compiler) quantIn(id int) error {
	if err := c.settle(id); err != nil {
		return err
	}
	if c.p.vals[id].dtype == model.Int8 {
		return c.errf(ErrUnsupported, "input %q is an int8 tensor; only DequantizeLinear reads it", c.p.vals[id].name)
	}
	return nil
}

// quantOutput returns the value holding graph output id as float32: a
// pending DequantizeLinear computed, an int8 value's integers converted.
func (c *compiler) quantOutput(id int) (int, error) {
	if err := c.settle(id); err != nil {
		return -1, err
	}
	v := &c.p.vals[id]
	if v.dtype != model.Int8 {
		return id, nil
	}
	out := c.newValue("", v.shape, v.layout)
	err := c.lower(&backend.Op{Name: v.name + "#float", OpType: model.OpDequantizeLinear, In: []int{id}, Out: []int{out},
		Args: &backend.Dequantize{Scale: []float32{1}, Zero: []int8{0}, Inner: 1}}, int64(v.size), -1)
	return out, err
}

// settle computes a pending DequantizeLinear's output: a Dequantize step
// for a runtime input, the float32 values for a constant one.
func (c *compiler) settle(id int) error {
	q := c.quant()
	d := q.deq[id]
	if d == nil || d.settled {
		return nil
	}
	d.settled = true
	v := &c.p.vals[id]
	if d.src >= 0 {
		sv := &c.p.vals[d.src]
		return c.lower(&backend.Op{Name: d.node, OpType: model.OpDequantizeLinear, In: []int{d.src}, Out: []int{id},
			Args: &backend.Dequantize{Scale: d.qp.scale, Zero: d.qp.zero, Inner: innerOf(sv, d.qp.axis)}}, int64(v.size), -1)
	}
	if err := c.reserve(v.size); err != nil {
		return err
	}
	f := make([]float32, v.size)
	inner := innerOf(v, d.qp.axis)
	for i := range f {
		k := i / inner % len(d.qp.scale)
		x := int32(0)
		if d.w != nil {
			x = int32(d.w[i]) - int32(d.qp.zero[k])
		} else {
			x = d.w32[i] // a zero point of 0
		}
		f[i] = float32(x) * d.qp.scale[k]
	}
	v.konst, v.isConst, v.layout = f, true, layoutLogical
	return nil
}

// innerOf is the number of storage elements after the storage position of
// logical axis (1 for per-tensor parameters, axis -1).
func innerOf(v *value, axis int) int {
	if axis < 0 {
		return 1
	}
	ps := v.physShape()
	return max(1, prod(ps[v.physAxis(axis)+1:]))
}

// qparamsOf reads node n's scale (input 1) and zero point (input 2) for
// an input of rank rank and dimensions dims: float32 and int8 constants,
// one value or one per index of the axis attribute. ok is false, with why,
// when they are not such constants.
func (c *compiler) qparamsOf(n *model.Node, dims []int, zeroInt32 bool) (qparams, string) {
	var p qparams
	if len(n.Inputs) < 2 || n.Inputs[1] == "" {
		return p, "missing scale"
	}
	st, ok := c.m.Initializer(n.Inputs[1])
	if !ok || st.DType != model.Float32 {
		return p, "the scale must be a float32 constant"
	}
	if len(st.Shape) > 1 {
		return p, "the scale must be a scalar or 1-D"
	}
	p.scale = st.Float32s()
	for _, s := range p.scale {
		if !(s > 0) || math.IsInf(float64(s), 0) {
			return p, "scales must be finite and positive"
		}
	}
	p.axis = -1
	if len(p.scale) > 1 {
		a, _ := n.Attr("axis")
		axis := int64(1)
		if a.Kind == model.AttrInt {
			axis = a.Int
		}
		if axis < 0 {
			axis += int64(len(dims))
		}
		if axis < 0 || axis >= int64(len(dims)) || dims[axis] != len(p.scale) {
			return p, "per-axis scales do not match the input's axis"
		}
		p.axis = int(axis)
	}
	p.zero = make([]int8, len(p.scale))
	if len(n.Inputs) < 3 || n.Inputs[2] == "" {
		return p, ""
	}
	zt, ok := c.m.Initializer(n.Inputs[2])
	if !ok || zt.NumElements() != int64(len(p.scale)) {
		return p, "the zero point must be a constant of the scale's shape"
	}
	switch {
	case zt.DType == model.Int8 && !zeroInt32:
		for i, b := range zt.Data {
			p.zero[i] = int8(b)
		}
	case zt.DType == model.Int32 && zeroInt32:
		for i := range p.zero {
			if zt.Data[4*i]|zt.Data[4*i+1]|zt.Data[4*i+2]|zt.Data[4*i+3] != 0 {
				return p, "an int32 input's zero point must be 0"
			}
		}
	default:
		return p, "the zero point must be int8 (int32 for an int32 input)"
	}
	return p, ""
}

func (c *compiler) buildQ() error {
	x, xv, err := c.inVal(0)
	if err != nil {
		return err
	}
	qp, why := c.qparamsOf(c.node, xv.shape, false)
	if why != "" {
		return c.errf(ErrUnsupported, "%s", why)
	}
	out, err := c.output(0, xv.shape, xv.layout)
	if err != nil {
		return err
	}
	c.p.vals[out].dtype = model.Int8
	return c.lowerNode(&backend.Quantize{Scale: qp.scale, Zero: qp.zero, Inner: innerOf(&c.p.vals[x], qp.axis)},
		[]int{x}, []int{out}, int64(xv.size), -1)
}

func (c *compiler) buildDQ() error {
	n := c.node
	if len(n.Inputs) == 0 || n.Inputs[0] == "" {
		return c.errf(ErrUnsupported, "missing input 0")
	}
	id, ok := c.byName[n.Inputs[0]]
	if !ok {
		return c.errf(ErrShape, "input %q is not defined before use", n.Inputs[0])
	}
	xv := &c.p.vals[id]
	d := &deq{node: n.Name, src: id, shape: xv.shape}
	t, isInit := c.m.Initializer(n.Inputs[0])
	switch {
	case isInit && t.DType == model.Int8:
		d.src, d.w = -1, unsafe.Slice((*int8)(unsafe.Pointer(unsafe.SliceData(t.Data))), len(t.Data))
	case isInit && t.DType == model.Int32:
		d.src, d.w32 = -1, make([]int32, len(xv.ints))
		for i, v := range xv.ints {
			d.w32[i] = int32(v)
		}
	case !isInit && xv.dtype == model.Int8:
	default:
		return c.errf(ErrUnsupported, "input %q is not int8 (or an int32 constant)", n.Inputs[0])
	}
	qp, why := c.qparamsOf(n, xv.shape, d.w32 != nil)
	if why != "" {
		return c.errf(ErrUnsupported, "%s", why)
	}
	d.qp = qp
	l := xv.layout
	if d.src < 0 {
		l = layoutLogical
	}
	out, err := c.output(0, xv.shape, l)
	if err != nil {
		return err
	}
	c.p.vals[out].def = -1
	c.quant().deq[out] = d
	return nil
}

// pendingDQ returns the DequantizeLinear whose output value name is, or nil.
func (c *compiler) pendingDQ(name string) *deq {
	id, ok := c.byName[name]
	if !ok {
		return nil
	}
	return c.quant().deq[id]
}

// qchain is the tail of a fusable chain: the output clamp bounds (in
// float32 units of the op's result) and the QuantizeLinear that ends it.
type qchain struct {
	lo, hi float32
	q      qparams
	out    string // the QuantizeLinear's output
	nodes  []int  // the chain's nodes after the head
}

// chainFrom follows value name, the output of a Conv, Gemm or MatMul with
// fused activation act (ActRelu, ActClip with params, or none), through at
// most one Relu or Clip node to the QuantizeLinear ending the chain.
func (c *compiler) chainFrom(name string, act string, params []float32) (qchain, bool) {
	q := c.quant()
	inf := float32(math.Inf(1))
	ch := qchain{lo: -inf, hi: inf}
	clamp := func(op string, lo, hi float32) bool {
		switch op {
		case "":
		case model.ActRelu:
			ch.lo = max(ch.lo, 0)
		case model.ActClip:
			ch.lo, ch.hi = max(ch.lo, lo), min(ch.hi, hi)
		default:
			return false
		}
		return true
	}
	lo, hi := -inf, inf
	if len(params) > 0 {
		lo = params[0]
	}
	if len(params) > 1 {
		hi = params[1]
	}
	if !clamp(act, lo, hi) {
		return ch, false
	}
	g := &c.m.Graph
	for range 2 {
		rd := q.readers[name]
		if len(rd) != 1 || q.output[name] {
			return ch, false
		}
		n := &g.Nodes[rd[0]]
		if len(n.Inputs) == 0 || n.Inputs[0] != name || len(n.Outputs) != 1 {
			return ch, false
		}
		ch.nodes = append(ch.nodes, rd[0])
		switch n.Op {
		case model.OpQuantizeLinear:
			qp, why := c.qparamsOf(n, nil, false)
			if why != "" || qp.axis >= 0 {
				return ch, false
			}
			ch.q, ch.out = qp, n.Outputs[0]
			if _, dup := c.byName[ch.out]; dup || ch.out == "" || !(ch.lo <= ch.hi) {
				return ch, false
			}
			return ch, true
		case model.OpRelu, model.OpClip:
			if len(ch.nodes) > 1 || len(n.Inputs) != 1 {
				return ch, false
			}
			op, lo, hi := model.ActRelu, -inf, inf
			for _, a := range n.Attrs {
				switch {
				case n.Op == model.OpClip && a.Name == "min" && a.Kind == model.AttrFloat:
					lo = a.Float
				case n.Op == model.OpClip && a.Name == "max" && a.Kind == model.AttrFloat:
					hi = a.Float
				default:
					return ch, false
				}
			}
			if n.Op == model.OpClip {
				op = model.ActClip
			}
			clamp(op, lo, hi)
			name = n.Outputs[0]
		default:
			return ch, false
		}
	}
	return ch, false
}

// qout is the int8 requantisation of a chain: zero point and clamp.
func (ch *qchain) qout() kernels.QOut {
	s, z := ch.q.scale[0], ch.q.zero[0]
	return kernels.QOut{ZeroPoint: z, Lo: cpu.Quantize(ch.lo, s, z), Hi: cpu.Quantize(ch.hi, s, z)}
}

// fusedAct returns the current node's fused activation name and params.
func (c *compiler) fusedAct() (string, []float32) {
	p, _ := c.node.Attr("activation_params")
	return c.attrString("activation", ""), p.Floats
}

// qweights checks that d is a constant int8 weight of rank 2 or 4 whose
// scales are per tensor or along axis, zero point 0, and returns its
// scale for each of n output channels.
func qweights(d *deq, rank, axis, n int) ([]float32, bool) {
	if d == nil || d.w == nil || len(d.shape) != rank || (d.qp.axis >= 0 && d.qp.axis != axis) {
		return nil, false
	}
	for _, z := range d.qp.zero {
		if z != 0 {
			return nil, false
		}
	}
	ws := make([]float32, n)
	for o := range ws {
		ws[o] = d.qp.scale[min(o, len(d.qp.scale)-1)]
	}
	return ws, true
}

// qbias returns the bias of input i of the current node in accumulator
// units of scale acc[o] (x_scale · w_scale[o], times alpha) times beta:
// none, a float32 constant or a DequantizeLinear of an int32 constant,
// of 1 or n values.
func (c *compiler) qbias(i int, acc []float64, beta float64) ([]int32, bool) {
	n := c.node
	if i >= len(n.Inputs) || n.Inputs[i] == "" {
		return nil, true
	}
	N := len(acc)
	real := make([]float64, N)
	exact := make([]int32, N) // the int32 when its scale is the accumulator's
	isExact := make([]bool, N)
	if d := c.pendingDQ(n.Inputs[i]); d != nil {
		if d.w32 == nil || (len(d.w32) != 1 && len(d.w32) != N) {
			return nil, false
		}
		for o := range real {
			k := min(o, len(d.w32)-1)
			s := d.qp.scale[min(k, len(d.qp.scale)-1)]
			real[o] = float64(d.w32[k]) * float64(s) * beta
			isExact[o] = beta == 1 && s == float32(acc[o])
			exact[o] = d.w32[k]
		}
	} else if t, ok := c.m.Initializer(n.Inputs[i]); ok && t.DType == model.Float32 && (t.NumElements() == 1 || t.NumElements() == int64(N)) {
		f := floatsOf(t)
		for o := range real {
			real[o] = float64(f[min(o, len(f)-1)]) * beta
		}
	} else {
		return nil, false
	}
	b := make([]int32, N)
	for o := range b {
		if isExact[o] {
			b[o] = exact[o]
			continue
		}
		v := math.RoundToEven(real[o] / acc[o])
		if !(math.Abs(v) < 1<<30) {
			return nil, false
		}
		b[o] = int32(v)
	}
	return b, true
}

// qscales returns the requantisation scales acc[o] / y_scale.
func qscales(acc []float64, ys float32) []float32 {
	s := make([]float32, len(acc))
	for o, a := range acc {
		s[o] = float32(a / float64(ys))
	}
	return s
}

// qfused declares the int8 output of a fused chain and marks its nodes
// planned.
func (c *compiler) qfused(ch *qchain, dims []int, l layout) int {
	out := c.newValue(ch.out, dims, l)
	c.p.vals[out].dtype = model.Int8
	for _, i := range ch.nodes {
		c.q.done[i] = true
	}
	return out
}

// qinput returns the runtime int8 input of a fusable op: a pending
// per-tensor DequantizeLinear of a runtime value.
func (c *compiler) qinput(name string) (*deq, *value, bool) {
	d := c.pendingDQ(name)
	if d == nil || d.src < 0 || d.qp.axis >= 0 {
		return nil, nil, false
	}
	return d, &c.p.vals[d.src], true
}

func (c *compiler) tryQConv() (bool, error) {
	n := c.node
	if len(n.Inputs) < 2 || c.attrInt("group", 1) != 1 {
		return false, nil
	}
	xd, xv, ok := c.qinput(n.Inputs[0])
	if !ok || len(xv.shape) != 4 || (xv.layout != layoutNHWC && !xv.trivialNHWC()) {
		return false, nil
	}
	wd := c.pendingDQ(n.Inputs[1])
	if wd == nil || len(wd.shape) != 4 {
		return false, nil
	}
	ws, ok := qweights(wd, 4, 0, wd.shape[0])
	if !ok {
		return false, nil
	}
	act, params := c.fusedAct()
	ch, ok := c.chainFrom(n.Outputs[0], act, params)
	if !ok {
		return false, nil
	}
	acc := make([]float64, len(ws))
	for o, w := range ws {
		acc[o] = float64(xd.qp.scale[0]) * float64(w)
	}
	bias, ok := c.qbias(2, acc, 1)
	if !ok {
		return false, nil
	}
	N, C, H, W := xv.shape[0], xv.shape[1], xv.shape[2], xv.shape[3]
	if wd.shape[1] != C {
		return true, c.errf(ErrShape, "weights %v for %d input channels", wd.shape, C)
	}
	win, err := c.window2D(H, W, wd.shape[2], wd.shape[3], true)
	if err != nil {
		return true, err
	}
	p := kernels.ConvParams{N: N, C: C, H: H, W: W, K: wd.shape[0], KH: win.kh, KW: win.kw,
		StrideH: win.sh, StrideW: win.sw, DilH: win.dh, DilW: win.dw,
		PadT: win.pt, PadL: win.pl, PadB: win.pb, PadR: win.pr, Group: 1}
	if !p.Resolve() {
		return true, c.errf(ErrShape, "convolution does not fit: input %v, weights %v", xv.shape, wd.shape)
	}
	dims := []int{N, p.K, p.OH, p.OW}
	if _, ok := shape.Prod(dims, maxElements); !ok {
		return true, c.errf(ErrUnsupported, "output %v exceeds %d elements", dims, maxElements)
	}
	out := c.qfused(&ch, dims, layoutNHWC)
	flops := shape.MulSat(2, int64(N*p.OH*p.OW), int64(p.K), int64(C), int64(p.KH), int64(p.KW))
	args := &backend.QConv{P: p, W: wd.w, Bias: bias, ZeroIn: xd.qp.zero[0], Scale: qscales(acc, ch.q.scale[0]), Out: ch.qout()}
	return true, c.lowerNode(args, []int{xd.src}, []int{out}, flops, -1)
}

func (c *compiler) tryQGemm() (bool, error) {
	n := c.node
	if len(n.Inputs) < 2 {
		return false, nil
	}
	isGemm := n.Op == model.OpGemm
	xd, xv, ok := c.qinput(n.Inputs[0])
	if !ok || len(xv.shape) < 2 || len(xv.shape) > 3 || (isGemm && (len(xv.shape) != 2 || c.attrInt("transA", 0) != 0)) {
		return false, nil
	}
	wd := c.pendingDQ(n.Inputs[1])
	if wd == nil || len(wd.shape) != 2 {
		return false, nil
	}
	transB := isGemm && c.attrInt("transB", 0) != 0
	K, N, axis := wd.shape[0], wd.shape[1], 1
	if transB {
		K, N, axis = N, K, 0
	}
	ws, ok := qweights(wd, 2, axis, N)
	if !ok || xv.shape[len(xv.shape)-1] != K {
		return false, nil
	}
	alpha, beta := float64(1), float64(1)
	if isGemm {
		alpha, beta = float64(c.attrFloat("alpha", 1)), float64(c.attrFloat("beta", 1))
	}
	if !(alpha > 0) {
		return false, nil
	}
	act, params := c.fusedAct()
	ch, ok := c.chainFrom(n.Outputs[0], act, params)
	if !ok {
		return false, nil
	}
	acc := make([]float64, N)
	for o, w := range ws {
		acc[o] = float64(xd.qp.scale[0]) * float64(w) * alpha
	}
	var bias []int32
	if isGemm {
		if bias, ok = c.qbias(2, acc, beta); !ok {
			return false, nil
		}
	}
	dims := append(append([]int(nil), xv.shape[:len(xv.shape)-1]...), N)
	M := prod(xv.shape) / K
	if _, ok := shape.Prod(dims, maxElements); !ok {
		return true, c.errf(ErrUnsupported, "output %v exceeds %d elements", dims, maxElements)
	}
	out := c.qfused(&ch, dims, layoutLogical)
	args := &backend.QGemm{M: M, K: K, N: N, W: wd.w, TransB: transB, Bias: bias, ZeroIn: xd.qp.zero[0],
		Scale: qscales(acc, ch.q.scale[0]), Out: ch.qout()}
	return true, c.lowerNode(args, []int{xd.src}, []int{out}, shape.MulSat(2, int64(M), int64(N), int64(K)), -1)
}

// tryQMaxPool runs DequantizeLinear → MaxPool → QuantizeLinear with the
// same scale and zero point on both sides as an int8 max pooling (exact).
func (c *compiler) tryQMaxPool() (bool, error) {
	n := c.node
	if len(n.Outputs) > 1 && n.Outputs[1] != "" {
		return false, nil
	}
	xd, xv, ok := c.qinput(n.Inputs[0])
	if !ok || len(xv.shape) != 4 || (xv.layout != layoutNHWC && !xv.trivialNHWC()) {
		return false, nil
	}
	ch, ok := c.chainFrom(n.Outputs[0], "", nil)
	if !ok || len(ch.nodes) != 1 || ch.q.scale[0] != xd.qp.scale[0] || ch.q.zero[0] != xd.qp.zero[0] {
		return false, nil
	}
	N, C, H, W := xv.shape[0], xv.shape[1], xv.shape[2], xv.shape[3]
	win, err := c.window2D(H, W, 0, 0, true)
	if err != nil {
		return true, err
	}
	p := kernels.PoolParams{N: N, C: C, H: H, W: W, KH: win.kh, KW: win.kw, StrideH: win.sh, StrideW: win.sw,
		DilH: win.dh, DilW: win.dw, PadT: win.pt, PadL: win.pl, PadB: win.pb, PadR: win.pr,
		CeilMode: c.attrInt("ceil_mode", 0) != 0 && !win.autoPadSame}
	if !p.Resolve() {
		return true, c.errf(ErrShape, "pooling window does not fit input %v", xv.shape)
	}
	out := c.qfused(&ch, []int{N, C, p.OH, p.OW}, layoutNHWC)
	return true, c.lowerNode(&backend.QMaxPool{P: p}, []int{xd.src}, []int{out}, shape.MulSat(int64(N*C*p.OH*p.OW), int64(p.KH), int64(p.KW)), -1)
}

// tryQAdd runs DequantizeLinear(a), DequantizeLinear(b) → Add [→ Relu or
// Clip] → QuantizeLinear, a residual connection, on int8 values of one
// shape and layout, with the float32 operations of the unfused chain.
func (c *compiler) tryQAdd() (bool, error) {
	n := c.node
	if len(n.Inputs) != 2 {
		return false, nil
	}
	ad, av, ok := c.qinput(n.Inputs[0])
	if !ok {
		return false, nil
	}
	bd, bv, ok := c.qinput(n.Inputs[1])
	if !ok || !slices.Equal(av.shape, bv.shape) || av.layout != bv.layout {
		return false, nil
	}
	ch, ok := c.chainFrom(n.Outputs[0], "", nil)
	if !ok {
		return false, nil
	}
	out := c.qfused(&ch, av.shape, av.layout)
	args := &backend.QAdd{ScaleA: ad.qp.scale[0], ScaleB: bd.qp.scale[0], ZeroA: ad.qp.zero[0], ZeroB: bd.qp.zero[0],
		Scale: ch.q.scale[0], Out: ch.qout()}
	return true, c.lowerNode(args, []int{ad.src, bd.src}, []int{out}, int64(av.size), -1)
}

// tryQGAP runs DequantizeLinear → GlobalAveragePool [→ Relu or Clip] →
// QuantizeLinear as an int8 mean: the exact integer sum, requantised once
// (within one quantum of the float32 chain, as the fused convolutions).
func (c *compiler) tryQGAP() (bool, error) {
	n := c.node
	xd, xv, ok := c.qinput(n.Inputs[0])
	if !ok || len(xv.shape) != 4 || (xv.layout != layoutNHWC && !xv.trivialNHWC()) {
		return false, nil
	}
	N, C, hw := xv.shape[0], xv.shape[1], xv.shape[2]*xv.shape[3]
	if hw > 1<<23 { // keeps the int32 sum exact
		return false, nil
	}
	ch, ok := c.chainFrom(n.Outputs[0], "", nil)
	if !ok {
		return false, nil
	}
	out := c.qfused(&ch, []int{N, C, 1, 1}, layoutNHWC)
	args := &backend.QGlobalAvgPool{N: N, HW: hw, C: C, ZeroIn: xd.qp.zero[0], Out: ch.qout(),
		Scale: float32(float64(xd.qp.scale[0]) / (float64(hw) * float64(ch.q.scale[0])))}
	return true, c.lowerNode(args, []int{xd.src}, []int{out}, int64(xv.size), -1)
}
