package onnx

import (
	"errors"
	"fmt"
	"math"
	"unicode/utf8"

	"github.com/signet-go/signet/model"
)

// allowedAttrs lists, per supported ONNX operator, the attributes the
// converter understands. Any other attribute is refused: ignoring one could
// change what the node computes.
var allowedAttrs = map[string]map[string]bool{
	"Conv":               set("auto_pad", "dilations", "group", "kernel_shape", "pads", "strides"),
	"BatchNormalization": set("epsilon", "momentum", "training_mode"),
	"Relu":               set(),
	"Clip":               set("min", "max"),
	"LeakyRelu":          set("alpha"),
	"Sigmoid":            set(),
	"HardSigmoid":        set("alpha", "beta"),
	"HardSwish":          set(),
	"MaxPool":            set("auto_pad", "ceil_mode", "dilations", "kernel_shape", "pads", "storage_order", "strides"),
	"AveragePool":        set("auto_pad", "ceil_mode", "count_include_pad", "kernel_shape", "pads", "strides"),
	"GlobalAveragePool":  set(),
	"Add":                set(),
	"Sub":                set(),
	"Mul":                set(),
	"Div":                set(),
	"Concat":             set("axis"),
	"Flatten":            set("axis"),
	"Reshape":            set("allowzero"),
	"Transpose":          set("perm"),
	"Split":              set("axis", "split"),
	"Slice":              set(),
	"ReduceMean":         set("axes", "keepdims"),
	"ReduceL2":           set("axes", "keepdims"),
	"LpNormalization":    set("axis", "p"),
	"Gemm":               set("alpha", "beta", "transA", "transB"),
	"MatMul":             set(),
	"Identity":           set(),
	"Dropout":            set("ratio", "seed"),
	"Constant":           set("value", "value_float", "value_floats", "value_int", "value_ints"),
	"Shape":              set("start", "end"),
	"Gather":             set("axis"),
	"Unsqueeze":          set("axes"),
	"Squeeze":            set("axes"),
	"Expand":             set(),
	"Cast":               set("to"),
}

// opVersions lists, per supported operator, the opsets in which its
// definition changed (up to 17), from onnx.defs of onnx 1.12. The converter
// implements the definitions current in opsets 11–17. Models declaring an
// older opset are read only when none of their operators changed between
// that opset and 11: ONNX's backend tests declare the opset in which an
// operator last changed (GlobalAveragePool: 1, HardSigmoid: 6).
var opVersions = map[string][]int64{
	"Conv": {1, 11}, "BatchNormalization": {1, 6, 7, 9, 14, 15}, "Relu": {1, 6, 13, 14},
	"Clip": {1, 6, 11, 12, 13}, "LeakyRelu": {1, 6, 16}, "Sigmoid": {1, 6, 13}, "HardSigmoid": {1, 6},
	"HardSwish": {14}, "MaxPool": {1, 8, 10, 11, 12}, "AveragePool": {1, 7, 10, 11},
	"GlobalAveragePool": {1}, "Add": {1, 6, 7, 13, 14}, "Sub": {1, 6, 7, 13, 14},
	"Mul": {1, 6, 7, 13, 14}, "Div": {1, 6, 7, 13, 14}, "Concat": {1, 4, 11, 13},
	"Flatten": {1, 9, 11, 13}, "Reshape": {1, 5, 13, 14}, "Transpose": {1, 13}, "Split": {1, 2, 11, 13},
	"Slice": {1, 10, 11, 13}, "ReduceMean": {1, 11, 13}, "ReduceL2": {1, 11, 13}, "LpNormalization": {1},
	"Gemm": {1, 6, 7, 9, 11, 13}, "MatMul": {1, 9, 13}, "Identity": {1, 13, 14, 16},
	"Dropout": {1, 6, 7, 10, 12, 13}, "Constant": {1, 9, 11, 12, 13}, "Shape": {1, 13, 15},
	"Gather": {1, 11, 13}, "Unsqueeze": {1, 11, 13}, "Squeeze": {1, 11, 13}, "Expand": {8, 13},
	"Cast": {1, 6, 9, 13},
}

// arity gives each operator's required and maximal input counts (-1: any).
var arity = map[string][2]int{
	"Conv": {2, 3}, "BatchNormalization": {5, 5}, "Clip": {1, 3}, "Add": {2, 2}, "Sub": {2, 2},
	"Mul": {2, 2}, "Div": {2, 2}, "Concat": {1, -1}, "Reshape": {2, 2}, "Split": {1, 2},
	"Slice": {3, 5}, "ReduceMean": {1, 2}, "ReduceL2": {1, 2}, "Gemm": {2, 3}, "MatMul": {2, 2},
	"Dropout": {1, 3}, "Constant": {0, 0}, "Gather": {2, 2}, "Unsqueeze": {1, 2}, "Squeeze": {1, 2},
	"Expand": {2, 2},
	// every other operator: exactly one input
}

func set(names ...string) map[string]bool {
	m := map[string]bool{}
	for _, n := range names {
		m[n] = true
	}
	return m
}

// poison says which output of which node signet does not compute. The
// message is built only when it is reported: a node with many outputs and a
// long name must not cost their product.
type poison struct {
	out      int
	op, node string
}

func (p poison) String() string {
	return fmt.Sprintf("output %d of %s node %q is not computed by signet", p.out, p.op, p.node)
}

// shortName is name cut to at most 64 bytes (at a UTF-8 boundary), as the
// base of generated names: fresh names derived per output of a node with a
// long name would otherwise cost the product of the two.
func shortName(name string) string {
	if len(name) <= 64 {
		return name
	}
	name = name[:64]
	for len(name) > 0 && !utf8.ValidString(name) {
		name = name[:len(name)-1]
	}
	return name
}

// nctx is the ONNX node being translated.
type nctx struct {
	c      *conv
	n      *nodeProto
	op     string
	name   string
	folded bool
}

func (x *nctx) errorf(sentinel error, format string, a ...any) error {
	return fmt.Errorf("%w: %s node %q (opset %d): %s", sentinel, x.op, x.name, x.c.opset, fmt.Sprintf(format, a...))
}

func (x *nctx) unsupported(format string, a ...any) error {
	return x.errorf(ErrUnsupported, format, a...)
}

func (x *nctx) malformed(format string, a ...any) error {
	return x.errorf(ErrMalformed, format, a...)
}

// fail attributes an error of a helper to the node, prefixed by what it
// concerns: a sizeError keeps its sentinel, an error wrapping a sentinel
// keeps it, any other error means malformed input.
func (x *nctx) fail(prefix string, err error) error {
	var se *sizeError
	switch {
	case errors.As(err, &se):
		return x.errorf(se.kind, "%s%s", prefix, se.msg)
	case errors.Is(err, ErrMalformed), errors.Is(err, ErrUnsupported), errors.Is(err, ErrOptions):
		return fmt.Errorf("%s node %q (opset %d): %s%w", x.op, x.name, x.c.opset, prefix, err)
	}
	return x.malformed("%s%v", prefix, err)
}

func (x *nctx) in(i int) string {
	if i < len(x.n.inputs) {
		return x.n.inputs[i]
	}
	return ""
}

func (x *nctx) out(i int) string {
	if i < len(x.n.outputs) {
		return x.n.outputs[i]
	}
	return ""
}

// cin returns input i when it is a constant, nil when absent or computed.
func (x *nctx) cin(i int) *cval {
	name := x.in(i)
	if name == "" {
		return nil
	}
	return x.c.consts[name]
}

func (x *nctx) shape(name string) ([]int64, bool) {
	s, ok := x.c.shapes[name]
	return s, ok
}

func (x *nctx) allConst() bool {
	for _, in := range x.n.inputs {
		if in != "" && x.c.consts[in] == nil {
			return false
		}
	}
	return true
}

func (x *nctx) attr(name string) *attrProto {
	for i := range x.n.attrs {
		if x.n.attrs[i].name == name {
			return &x.n.attrs[i]
		}
	}
	return nil
}

func (x *nctx) wantAttr(a *attrProto, typ int32) error {
	if a.typ != typ {
		return x.malformed("attribute %q has type %d, want %d", a.name, a.typ, typ)
	}
	return nil
}

func (x *nctx) getInt(name string, def int64) (int64, error) {
	a := x.attr(name)
	if a == nil {
		return def, nil
	}
	return a.i, x.wantAttr(a, attrInt)
}

func (x *nctx) getFloat(name string, def float32) (float32, error) {
	a := x.attr(name)
	if a == nil {
		return def, nil
	}
	return a.f, x.wantAttr(a, attrFloat)
}

func (x *nctx) getInts(name string) ([]int64, bool, error) {
	a := x.attr(name)
	if a == nil {
		return nil, false, nil
	}
	if a.typ != attrInts {
		return nil, false, x.malformed("attribute %q has type %d, want ints", a.name, a.typ)
	}
	return a.ints, true, nil
}

func (x *nctx) getString(name, def string) (string, error) {
	a := x.attr(name)
	if a == nil {
		return def, nil
	}
	return string(a.s), x.wantAttr(a, attrString)
}

// setConst records output i as a folded constant.
func (x *nctx) setConst(i int, v *cval) {
	name := x.out(i)
	if name == "" {
		return
	}
	x.c.consts[name] = v
	x.c.shapes[name] = v.shape
	x.folded = true
}

// emit appends a native node computing the ONNX node's outputs. It refuses
// output shapes the engine cannot hold (see checkShape): this is where a
// zero-size or oversized intermediate value is caught.
func (x *nctx) emit(op string, inputs []string, attrs []model.Attr, shapes ...[]int64) error {
	for i, s := range shapes {
		if s == nil || i >= len(x.n.outputs) {
			continue
		}
		if err := checkShape(s); err != nil {
			return x.fail(fmt.Sprintf("output %q: ", x.n.outputs[i]), err)
		}
	}
	n := &gnode{op: op, name: x.name, inputs: inputs, attrs: attrs}
	for i, out := range x.n.outputs {
		if i >= len(shapes) {
			if out != "" {
				x.c.poisoned[out] = poison{i, x.op, x.name}
			}
			continue
		}
		if out == "" {
			out = x.c.fresh(shortName(x.name) + "_unused")
		}
		n.outputs = append(n.outputs, out)
		x.c.runtime[out] = true
		if shapes[i] != nil {
			x.c.shapes[out] = shapes[i]
		}
	}
	x.c.nodes = append(x.c.nodes, n)
	return nil
}

// floatOperand checks that a constant operand of a runtime node is float:
// the engine computes in float32, so an integer tensor there means the model
// does integer arithmetic at run time.
func (x *nctx) floatOperand(i int) error {
	if v := x.cin(i); v != nil && !v.isFloat() {
		return x.unsupported("input %q is a %s constant in float arithmetic", x.in(i), typeName(v.onnxType))
	}
	return nil
}

func (c *conv) translate(n *nodeProto, idx int) error {
	x := &nctx{c: c, n: n, op: n.opType, name: n.name}
	if x.name == "" {
		x.name = fmt.Sprintf("%s_%d", n.opType, idx)
	}
	if n.domain != "" && n.domain != "ai.onnx" {
		return x.unsupported("operator domain %q", n.domain)
	}
	allowed, ok := allowedAttrs[n.opType]
	if !ok {
		return x.unsupported("operator not supported")
	}
	vs := opVersions[n.opType]
	if vs[0] > c.opset {
		return x.unsupported("operator does not exist before opset %d", vs[0])
	}
	for _, v := range vs {
		if c.opset < v && v <= 11 {
			return x.unsupported("operator changed in opset %d; signet implements opsets 11 to 17", v)
		}
	}
	seen := map[string]bool{}
	for _, a := range n.attrs {
		if !allowed[a.name] {
			return x.unsupported("attribute %q", a.name)
		}
		if seen[a.name] {
			return x.malformed("attribute %q given twice", a.name)
		}
		seen[a.name] = true
		if a.hasOther {
			return x.unsupported("attribute %q holds a graph, tensor list or type", a.name)
		}
	}
	ar, ok := arity[n.opType]
	if !ok {
		ar = [2]int{1, 1}
	}
	if len(n.inputs) < ar[0] || (ar[1] >= 0 && len(n.inputs) > ar[1]) {
		return x.malformed("%d inputs", len(n.inputs))
	}
	for i, in := range n.inputs {
		if in == "" {
			if i < ar[0] {
				return x.malformed("required input %d is empty", i)
			}
			continue
		}
		if why, ok := c.poisoned[in]; ok {
			return x.unsupported("input %q: %s", in, why)
		}
		if !c.runtime[in] && c.consts[in] == nil {
			return x.malformed("input %q is not defined before use", in)
		}
	}
	if len(n.outputs) == 0 || n.outputs[0] == "" {
		return x.malformed("node has no output")
	}
	for _, out := range n.outputs {
		if out == "" {
			continue
		}
		if c.names[out] {
			return x.malformed("value %q defined twice", out)
		}
		c.names[out] = true
	}
	if err := x.translate(); err != nil {
		return err
	}
	if x.folded {
		c.rep.Folded++
	}
	c.rep.work += int64(1 + len(n.inputs) + len(n.outputs) + len(n.attrs))
	return nil
}

func (x *nctx) translate() error {
	if x.op != "Constant" && x.op != "Shape" && x.allConst() && len(x.n.inputs) > 0 {
		if ok, err := x.fold(); ok || err != nil {
			return err
		}
	}
	switch x.op {
	case "Conv":
		return x.conv()
	case "BatchNormalization":
		return x.batchNorm()
	case "Relu", "Sigmoid", "HardSwish":
		return x.unary(nil)
	case "LeakyRelu":
		alpha, err := x.getFloat("alpha", 0.01)
		if err != nil {
			return err
		}
		return x.unary([]model.Attr{floatAttr("alpha", alpha)})
	case "HardSigmoid":
		alpha, err := x.getFloat("alpha", 0.2)
		if err != nil {
			return err
		}
		beta, err := x.getFloat("beta", 0.5)
		if err != nil {
			return err
		}
		return x.unary([]model.Attr{floatAttr("alpha", alpha), floatAttr("beta", beta)})
	case "Clip":
		lo, hi, err := x.clipBounds()
		if err != nil {
			return err
		}
		var attrs []model.Attr
		if !math.IsInf(float64(lo), -1) {
			attrs = append(attrs, floatAttr("min", lo))
		}
		if !math.IsInf(float64(hi), 1) {
			attrs = append(attrs, floatAttr("max", hi))
		}
		s, _ := x.shape(x.in(0))
		return x.emit(model.OpClip, []string{x.in(0)}, attrs, s)
	case "MaxPool", "AveragePool":
		return x.pool()
	case "GlobalAveragePool":
		var out []int64
		if s, ok := x.shape(x.in(0)); ok {
			if len(s) < 3 {
				return x.malformed("input of rank %d", len(s))
			}
			out = append([]int64{}, s...)
			for k := 2; k < len(out); k++ {
				out[k] = 1
			}
		}
		return x.emit(x.op, []string{x.in(0)}, nil, out)
	case "Add", "Sub", "Mul", "Div":
		return x.binary()
	case "Concat":
		return x.concat()
	case "Flatten":
		return x.flatten()
	case "Reshape":
		return x.reshape()
	case "Transpose":
		return x.transpose()
	case "Split":
		return x.split()
	case "Slice":
		return x.slice()
	case "ReduceMean", "ReduceL2":
		return x.reduce()
	case "LpNormalization":
		return x.lpNorm()
	case "Gemm":
		return x.gemm()
	case "MatMul":
		return x.matmul()
	case "Identity":
		s, _ := x.shape(x.in(0))
		return x.emit("Identity", []string{x.in(0)}, nil, s)
	case "Dropout":
		return x.dropout()
	case "Constant":
		return x.constant()
	case "Shape":
		return x.shapeOp()
	case "Gather":
		return x.unsupported("gathering from a computed tensor (only constant-foldable Gather is supported)")
	case "Unsqueeze", "Squeeze":
		return x.squeeze()
	case "Expand":
		return x.expand()
	case "Cast":
		return x.cast()
	}
	return x.unsupported("operator not supported")
}

func (x *nctx) unary(attrs []model.Attr) error {
	s, _ := x.shape(x.in(0))
	return x.emit(x.op, []string{x.in(0)}, attrs, s)
}

// clipBounds returns Clip's bounds (±Inf when absent), from inputs (opset 11+)
// or attributes (older exports).
func (x *nctx) clipBounds() (float32, float32, error) {
	lo, hi := float32(math.Inf(-1)), float32(math.Inf(1))
	if a := x.attr("min"); a != nil {
		v, err := x.getFloat("min", 0)
		if err != nil {
			return 0, 0, err
		}
		lo = v
	}
	if a := x.attr("max"); a != nil {
		v, err := x.getFloat("max", 0)
		if err != nil {
			return 0, 0, err
		}
		hi = v
	}
	for i, p := range []*float32{&lo, &hi} {
		name := x.in(i + 1)
		if name == "" {
			continue
		}
		v := x.c.consts[name]
		if v == nil {
			return 0, 0, x.unsupported("bound %q is not a constant", name)
		}
		if v.numel() != 1 {
			return 0, 0, x.malformed("bound %q has %d elements, want 1", name, v.numel())
		}
		*p = v.floats()[0]
	}
	return lo, hi, nil
}

// window holds the attributes Conv and the pools share, for a 2-D window.
type window struct {
	kernel, strides, dilations, pads []int64
	autoPad                          string // "" once resolved into pads
}

// window reads the window attributes, resolving auto_pad SAME_* into
// explicit pads where the input's spatial size in is known.
func (x *nctx) window(kernel []int64, in []int64, dilations bool) (window, error) {
	w := window{kernel: kernel}
	var err error
	get := func(name string, n int, def, min int64) ([]int64, error) {
		v, ok, err := x.getInts(name)
		if err != nil {
			return nil, err
		}
		if !ok {
			v = make([]int64, n)
			for i := range v {
				v[i] = def
			}
			return v, nil
		}
		if len(v) != n {
			return nil, x.malformed("attribute %q has %d values, want %d", name, len(v), n)
		}
		for _, e := range v {
			if e < min || e > 1<<20 {
				return nil, x.malformed("attribute %q value %d out of range", name, e)
			}
		}
		return append([]int64{}, v...), nil
	}
	if w.strides, err = get("strides", 2, 1, 1); err != nil {
		return w, err
	}
	w.dilations = []int64{1, 1}
	if dilations {
		if w.dilations, err = get("dilations", 2, 1, 1); err != nil {
			return w, err
		}
	}
	if w.pads, err = get("pads", 4, 0, 0); err != nil {
		return w, err
	}
	mode, err := x.getString("auto_pad", "NOTSET")
	if err != nil {
		return w, err
	}
	switch mode {
	case "NOTSET", "":
	case "VALID":
		w.pads = []int64{0, 0, 0, 0}
	case "SAME_UPPER", "SAME_LOWER":
		if in == nil || in[0] < 0 || in[1] < 0 {
			w.autoPad = mode
			break
		}
		for k := 0; k < 2; k++ {
			out := (in[k] + w.strides[k] - 1) / w.strides[k]
			total := (out-1)*w.strides[k] + (w.kernel[k]-1)*w.dilations[k] + 1 - in[k]
			if total < 0 {
				total = 0
			}
			lo := total / 2
			if mode == "SAME_LOWER" {
				lo = total - total/2
			}
			w.pads[k], w.pads[k+2] = lo, total-lo
		}
	default:
		return w, x.unsupported("auto_pad %q", mode)
	}
	return w, nil
}

func (w window) attrs() []model.Attr {
	a := []model.Attr{
		intsAttr("kernel_shape", w.kernel),
		intsAttr("strides", w.strides),
		intsAttr("pads", w.pads),
		intsAttr("dilations", w.dilations),
	}
	if w.autoPad != "" {
		a = append(a, stringAttr("auto_pad", w.autoPad))
	}
	return a
}

// outSize computes one spatial output size; -1 when unknown.
func (x *nctx) outSize(w window, k int, in int64, ceil bool) (int64, error) {
	if in < 0 {
		return -1, nil
	}
	if w.autoPad != "" {
		return (in + w.strides[k] - 1) / w.strides[k], nil
	}
	span := (w.kernel[k]-1)*w.dilations[k] + 1
	avail := in + w.pads[k] + w.pads[k+2] - span
	if avail < 0 {
		return 0, x.malformed("window %d (dilated) larger than padded input %d", span, in+w.pads[k]+w.pads[k+2])
	}
	out := avail/w.strides[k] + 1
	if ceil {
		out = (avail+w.strides[k]-1)/w.strides[k] + 1
		// The last window must start inside the input or the leading pad
		// (PyTorch's and ONNX Runtime's rule).
		if (out-1)*w.strides[k] >= in+w.pads[k] {
			out--
		}
	}
	return out, nil
}

func (x *nctx) conv() error {
	W := x.cin(1)
	if W == nil {
		return x.unsupported("weights %q are not a constant (bind them with Options.Constants)", x.in(1))
	}
	if !W.isFloat() {
		return x.unsupported("weights of type %s", typeName(W.onnxType))
	}
	if len(W.shape) != 4 {
		return x.unsupported("weights of rank %d: only 2-D convolution is supported", len(W.shape))
	}
	for _, d := range W.shape {
		if d == 0 {
			return x.unsupported("empty weights of shape %v", W.shape)
		}
	}
	if x.cin(0) != nil {
		return x.unsupported("constant data input")
	}
	in, known := x.shape(x.in(0))
	if known && len(in) != 4 {
		return x.malformed("input of rank %d, weights of rank 4", len(in))
	}
	group, err := x.getInt("group", 1)
	if err != nil {
		return err
	}
	cout, cin := W.shape[0], W.shape[1]
	if group < 1 || cout%group != 0 {
		return x.malformed("group %d does not divide %d output channels", group, cout)
	}
	if known && in[1] >= 0 && in[1] != cin*group {
		return x.malformed("input has %d channels, weights expect %d×%d", in[1], cin, group)
	}
	inputs := []string{x.in(0), x.in(1)}
	if b := x.in(2); b != "" {
		B := x.cin(2)
		if B == nil {
			return x.unsupported("bias %q is not a constant", b)
		}
		if !B.isFloat() || len(B.shape) != 1 || B.shape[0] != cout {
			return x.malformed("bias of shape %v, want [%d]", B.shape, cout)
		}
		inputs = append(inputs, b)
	}
	kernel := W.shape[2:]
	if ks, ok, err := x.getInts("kernel_shape"); err != nil {
		return err
	} else if ok && (len(ks) != 2 || ks[0] != kernel[0] || ks[1] != kernel[1]) {
		return x.malformed("kernel_shape %v does not match weights %v", ks, W.shape)
	}
	var spatial []int64
	if known {
		spatial = in[2:]
	}
	w, err := x.window(kernel, spatial, true)
	if err != nil {
		return err
	}
	var out []int64
	if known {
		out = []int64{in[0], cout, 0, 0}
		for k := 0; k < 2; k++ {
			if out[2+k], err = x.outSize(w, k, in[2+k], false); err != nil {
				return err
			}
		}
	}
	attrs := append(w.attrs(), intAttr("group", group))
	return x.emit(model.OpConv, inputs, attrs, out)
}

func (x *nctx) pool() error {
	if v, err := x.getInt("storage_order", 0); err != nil {
		return err
	} else if v != 0 {
		return x.unsupported("storage_order %d (column-major indices)", v)
	}
	ks, ok, err := x.getInts("kernel_shape")
	if err != nil {
		return err
	}
	if !ok {
		return x.malformed("missing kernel_shape")
	}
	if len(ks) != 2 {
		return x.unsupported("%d-D pooling: only 2-D is supported", len(ks))
	}
	for _, k := range ks {
		if k < 1 || k > 1<<20 {
			return x.malformed("kernel_shape %v", ks)
		}
	}
	in, known := x.shape(x.in(0))
	if known && len(in) != 4 {
		return x.unsupported("input of rank %d: only 2-D pooling is supported", len(in))
	}
	var spatial []int64
	if known {
		spatial = in[2:]
	}
	w, err := x.window(append([]int64{}, ks...), spatial, x.op == "MaxPool")
	if err != nil {
		return err
	}
	ceil, err := x.getInt("ceil_mode", 0)
	if err != nil {
		return err
	}
	if ceil != 0 && ceil != 1 {
		return x.malformed("ceil_mode %d", ceil)
	}
	attrs := append(w.attrs(), intAttr("ceil_mode", ceil))
	if x.op == "AveragePool" {
		cip, err := x.getInt("count_include_pad", 0)
		if err != nil {
			return err
		}
		if cip != 0 && cip != 1 {
			return x.malformed("count_include_pad %d", cip)
		}
		attrs = append(attrs, intAttr("count_include_pad", cip))
	}
	var out []int64
	if known {
		out = []int64{in[0], in[1], 0, 0}
		for k := 0; k < 2; k++ {
			if out[2+k], err = x.outSize(w, k, in[2+k], ceil == 1); err != nil {
				return err
			}
		}
	}
	return x.emit(x.op, []string{x.in(0)}, attrs, out)
}

func (x *nctx) batchNorm() error {
	if v, err := x.getInt("training_mode", 0); err != nil {
		return err
	} else if v != 0 {
		return x.unsupported("training_mode %d", v)
	}
	eps, err := x.getFloat("epsilon", 1e-5)
	if err != nil {
		return err
	}
	if len(x.n.inputs) != 5 {
		return x.malformed("%d inputs, want 5", len(x.n.inputs))
	}
	in, known := x.shape(x.in(0))
	if known && len(in) < 2 {
		return x.malformed("input of rank %d", len(in))
	}
	var ch int64 = -1
	for i := 1; i < 5; i++ {
		v := x.cin(i)
		if v == nil {
			return x.unsupported("parameter %q is not a constant", x.in(i))
		}
		if !v.isFloat() || len(v.shape) != 1 {
			return x.malformed("parameter %q of shape %v", x.in(i), v.shape)
		}
		if ch >= 0 && v.shape[0] != ch {
			return x.malformed("parameters of different lengths")
		}
		ch = v.shape[0]
	}
	if known && in[1] >= 0 && in[1] != ch {
		return x.malformed("input has %d channels, parameters %d", in[1], ch)
	}
	return x.emit(model.OpBatchNormalization, append([]string{}, x.n.inputs...), []model.Attr{floatAttr("epsilon", eps)}, in)
}

func (x *nctx) binary() error {
	for i := 0; i < 2; i++ {
		if err := x.floatOperand(i); err != nil {
			return err
		}
	}
	a, aok := x.shape(x.in(0))
	b, bok := x.shape(x.in(1))
	var out []int64
	if aok && bok {
		var err error
		if out, err = broadcast(a, b); err != nil {
			return x.malformed("%v", err)
		}
	}
	return x.emit(x.op, []string{x.in(0), x.in(1)}, nil, out)
}

// normAxis maps a possibly negative axis into [0, rank).
func (x *nctx) normAxis(axis int64, rank int) (int64, error) {
	if axis < -int64(rank) || axis >= int64(rank) {
		return 0, x.malformed("axis %d out of range for rank %d", axis, rank)
	}
	if axis < 0 {
		axis += int64(rank)
	}
	return axis, nil
}

func (x *nctx) concat() error {
	a := x.attr("axis")
	if a == nil {
		return x.malformed("missing axis")
	}
	axis, err := x.getInt("axis", 0)
	if err != nil {
		return err
	}
	var out []int64
	known := true
	for i, in := range x.n.inputs {
		if in == "" {
			return x.malformed("empty input")
		}
		if err := x.floatOperand(i); err != nil {
			return err
		}
		s, ok := x.shape(in)
		if !ok {
			known = false
			continue
		}
		if out == nil {
			out = append([]int64{}, s...)
			if axis, err = x.normAxis(axis, len(s)); err != nil {
				return err
			}
			continue
		}
		if len(s) != len(out) {
			return x.malformed("inputs of ranks %d and %d", len(out), len(s))
		}
		for k := range s {
			switch {
			case int64(k) == axis:
				if out[k] < 0 || s[k] < 0 {
					out[k] = -1
				} else if sum, fits := addDims(out[k], s[k]); fits {
					out[k] = sum
				} else {
					return x.errorf(ErrTooLarge, "concatenated dimension exceeds %d", maxElements)
				}
			case out[k] < 0:
				out[k] = s[k]
			case s[k] >= 0 && s[k] != out[k]:
				return x.malformed("inputs of shapes %v and %v", out, s)
			}
		}
	}
	if !known {
		out = nil
		if axis < 0 {
			return x.unsupported("negative axis on inputs of unknown rank")
		}
	}
	if len(x.n.inputs) == 0 {
		return x.malformed("no inputs")
	}
	return x.emit(model.OpConcat, append([]string{}, x.n.inputs...), []model.Attr{intAttr("axis", axis)}, out)
}

func (x *nctx) flatten() error {
	axis, err := x.getInt("axis", 1)
	if err != nil {
		return err
	}
	s, known := x.shape(x.in(0))
	var out []int64
	if known {
		if axis < -int64(len(s)) || axis > int64(len(s)) {
			return x.malformed("axis %d for rank %d", axis, len(s))
		}
		if axis < 0 {
			axis += int64(len(s))
		}
		out = []int64{prodDims(s[:axis]), prodDims(s[axis:])}
	} else if axis < 0 {
		return x.unsupported("negative axis on input of unknown rank")
	}
	return x.emit(model.OpFlatten, []string{x.in(0)}, []model.Attr{intAttr("axis", axis)}, out)
}

// prodDims multiplies dims, -1 if any is unknown or the product exceeds
// maxElements (so that it cannot overflow).
func prodDims(d []int64) int64 {
	p := int64(1)
	for _, v := range d {
		if v < 0 || (v != 0 && p > maxElements/v) {
			return -1
		}
		p *= v
	}
	return p
}

func (x *nctx) reshape() error {
	sv := x.cin(1)
	if sv == nil {
		return x.unsupported("shape %q is not a constant and could not be folded (are the input dimensions static?)", x.in(1))
	}
	if sv.isFloat() || len(sv.shape) != 1 {
		return x.malformed("shape operand of type %s and shape %v", typeName(sv.onnxType), sv.shape)
	}
	allowZero, err := x.getInt("allowzero", 0)
	if err != nil {
		return err
	}
	in, known := x.shape(x.in(0))
	target := sv.ints()
	if len(target) > maxRank {
		return x.errorf(ErrTooLarge, "shape operand of %d dimensions (limit %d)", len(target), maxRank)
	}
	if !known {
		for _, d := range target {
			if d == 0 && allowZero != 0 {
				return x.unsupported("allowzero with a zero dimension")
			}
			if d < -1 {
				return x.malformed("shape %v has a negative dimension", target)
			}
		}
		if _, ok := knownElems(target); !ok {
			return x.errorf(ErrTooLarge, "shape %v has more than %d elements", target, maxElements)
		}
		return x.emit(model.OpReshape, []string{x.in(0), x.in(1)}, nil, nil)
	}
	out, err := reshapeDims(in, target, allowZero != 0)
	if err != nil {
		return x.fail("", err)
	}
	shapeName := x.in(1)
	if !equalDims(out, target) && !hasUnknown(out) {
		// Store the resolved shape so the engine never interprets 0 and -1.
		shapeName = x.c.addConst(x.name+"_shape", &cval{onnxType: dtInt64, shape: []int64{int64(len(out))}, i: out})
	}
	return x.emit(model.OpReshape, []string{x.in(0), shapeName}, nil, out)
}

func equalDims(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func hasUnknown(d []int64) bool {
	for _, v := range d {
		if v < 0 {
			return true
		}
	}
	return false
}

func (x *nctx) transpose() error {
	perm, ok, err := x.getInts("perm")
	if err != nil {
		return err
	}
	s, known := x.shape(x.in(0))
	if !ok {
		if !known {
			return x.unsupported("no perm on input of unknown rank")
		}
		perm = make([]int64, len(s))
		for i := range perm {
			perm[i] = int64(len(s) - 1 - i)
		}
	}
	if err := checkPerm(perm); err != nil {
		return x.malformed("%v", err)
	}
	var out []int64
	if known {
		if len(perm) != len(s) {
			return x.malformed("perm %v for rank %d", perm, len(s))
		}
		out = make([]int64, len(s))
		for i, p := range perm {
			out[i] = s[p]
		}
	}
	return x.emit(model.OpTranspose, []string{x.in(0)}, []model.Attr{intsAttr("perm", perm)}, out)
}

func checkPerm(perm []int64) error {
	seen := make([]bool, len(perm))
	for _, p := range perm {
		if p < 0 || p >= int64(len(perm)) || seen[p] {
			return fmt.Errorf("perm %v is not a permutation", perm)
		}
		seen[p] = true
	}
	return nil
}

func (x *nctx) split() error {
	axis, err := x.getInt("axis", 0)
	if err != nil {
		return err
	}
	parts, ok, err := x.getInts("split")
	if err != nil {
		return err
	}
	if name := x.in(1); name != "" {
		v := x.cin(1)
		if v == nil || v.isFloat() {
			return x.unsupported("split sizes %q are not an integer constant", name)
		}
		parts, ok = v.ints(), true
	}
	nout := len(x.n.outputs)
	if ok && len(parts) != nout {
		return x.malformed("%d split sizes for %d outputs", len(parts), nout)
	}
	s, known := x.shape(x.in(0))
	shapes := make([][]int64, nout)
	if known {
		if axis, err = x.normAxis(axis, len(s)); err != nil {
			return err
		}
		dim := s[axis]
		if !ok && dim >= 0 {
			// Equal parts, the last one smaller when the size does not divide.
			chunk := (dim + int64(nout) - 1) / int64(nout)
			parts = make([]int64, nout)
			rest := dim
			for i := range parts {
				parts[i] = min(chunk, rest)
				rest -= parts[i]
			}
			ok = true
		}
		if ok {
			var sum int64
			for _, p := range parts {
				if p < 0 {
					return x.malformed("negative split size in %v", parts)
				}
				var fits bool
				if sum, fits = addDims(sum, p); !fits {
					return x.errorf(ErrTooLarge, "split sizes %v add up to more than %d", parts, maxElements)
				}
			}
			if dim >= 0 && sum != dim {
				return x.malformed("split sizes %v do not add up to %d", parts, dim)
			}
		}
		for i := range shapes {
			shapes[i] = append([]int64{}, s...)
			shapes[i][axis] = -1
			if ok {
				shapes[i][axis] = parts[i]
			}
		}
	} else if axis < 0 {
		return x.unsupported("negative axis on input of unknown rank")
	}
	attrs := []model.Attr{intAttr("axis", axis)}
	if ok {
		attrs = append(attrs, intsAttr("split", parts))
	}
	return x.emit(model.OpSplit, []string{x.in(0)}, attrs, shapes...)
}

// sliceParams reads Slice's constant starts/ends/axes/steps inputs.
func (x *nctx) sliceParams(rank int) (starts, ends, axes, steps []int64, err error) {
	get := func(i int) ([]int64, error) {
		if x.in(i) == "" {
			return nil, nil
		}
		v := x.cin(i)
		if v == nil || v.isFloat() {
			return nil, x.unsupported("operand %q is not an integer constant", x.in(i))
		}
		if len(v.shape) != 1 {
			return nil, x.malformed("operand %q of shape %v", x.in(i), v.shape)
		}
		return v.ints(), nil
	}
	if starts, err = get(1); err != nil {
		return
	}
	if ends, err = get(2); err != nil {
		return
	}
	if axes, err = get(3); err != nil {
		return
	}
	if steps, err = get(4); err != nil {
		return
	}
	if x.in(1) == "" || x.in(2) == "" {
		err = x.malformed("missing starts or ends")
		return
	}
	if len(ends) != len(starts) {
		err = x.malformed("%d starts, %d ends", len(starts), len(ends))
		return
	}
	// Each axis appears once, so there are at most rank of them; checking
	// first keeps the work per node bounded when nodes share a long vector.
	if rank >= 0 && len(starts) > rank {
		err = x.malformed("%d starts for rank %d", len(starts), rank)
		return
	}
	if len(starts) > maxRank {
		err = x.errorf(ErrTooLarge, "%d axes (limit %d)", len(starts), maxRank)
		return
	}
	if axes == nil {
		if rank < 0 && len(starts) > 0 {
			axes = make([]int64, len(starts))
			for i := range axes {
				axes[i] = int64(i)
			}
		} else {
			for i := range starts {
				axes = append(axes, int64(i))
			}
		}
	}
	if steps == nil {
		steps = make([]int64, len(starts))
		for i := range steps {
			steps[i] = 1
		}
	}
	if len(axes) != len(starts) || len(steps) != len(starts) {
		err = x.malformed("starts, ends, axes, steps of different lengths")
		return
	}
	seen := map[int64]bool{}
	for i := range axes {
		if steps[i] == 0 {
			err = x.malformed("step 0")
			return
		}
		if rank >= 0 {
			if axes[i], err = x.normAxis(axes[i], rank); err != nil {
				return
			}
		} else if axes[i] < 0 {
			err = x.unsupported("negative axis on input of unknown rank")
			return
		}
		if seen[axes[i]] {
			err = x.malformed("axis %d repeated", axes[i])
			return
		}
		seen[axes[i]] = true
	}
	return
}

func (x *nctx) slice() error {
	s, known := x.shape(x.in(0))
	rank := -1
	if known {
		rank = len(s)
	}
	starts, ends, axes, steps, err := x.sliceParams(rank)
	if err != nil {
		return err
	}
	var out []int64
	if known {
		out = append([]int64{}, s...)
		for i, ax := range axes {
			if s[ax] < 0 {
				out[ax] = -1
				continue
			}
			_, out[ax] = sliceRange(starts[i], ends[i], steps[i], s[ax])
		}
	}
	return x.emit(model.OpSlice, []string{x.in(0)}, []model.Attr{
		intsAttr("starts", starts), intsAttr("ends", ends), intsAttr("axes", axes), intsAttr("steps", steps),
	}, out)
}

// reduceAxes resolves ReduceMean/ReduceL2 axes (attribute in opsets 11–17;
// absent means all axes) and keepdims.
func (x *nctx) reduceAxes(rank int) ([]int64, int64, error) {
	keep, err := x.getInt("keepdims", 1)
	if err != nil {
		return nil, 0, err
	}
	if keep != 0 && keep != 1 {
		return nil, 0, x.malformed("keepdims %d", keep)
	}
	if len(x.n.inputs) > 1 && x.in(1) != "" {
		return nil, 0, x.unsupported("axes as an input (opset 18)")
	}
	axes, ok, err := x.getInts("axes")
	if err != nil {
		return nil, 0, err
	}
	if rank < 0 {
		if !ok {
			return nil, 0, x.unsupported("reduction over all axes of an input of unknown rank")
		}
		for _, a := range axes {
			if a < 0 {
				return nil, 0, x.unsupported("negative axis on input of unknown rank")
			}
		}
		return append([]int64{}, axes...), keep, nil
	}
	if !ok {
		for i := 0; i < rank; i++ {
			axes = append(axes, int64(i))
		}
		return axes, keep, nil
	}
	out := make([]int64, len(axes))
	seen := map[int64]bool{}
	for i, a := range axes {
		if out[i], err = x.normAxis(a, rank); err != nil {
			return nil, 0, err
		}
		if seen[out[i]] {
			return nil, 0, x.malformed("axis %d repeated", a)
		}
		seen[out[i]] = true
	}
	return out, keep, nil
}

func reducedShape(s, axes []int64, keep bool) []int64 {
	red := map[int64]bool{}
	for _, a := range axes {
		red[a] = true
	}
	var out []int64
	for i, d := range s {
		switch {
		case !red[int64(i)]:
			out = append(out, d)
		case keep:
			out = append(out, 1)
		}
	}
	if out == nil {
		out = []int64{}
	}
	return out
}

func (x *nctx) reduce() error {
	s, known := x.shape(x.in(0))
	rank := -1
	if known {
		rank = len(s)
	}
	axes, keep, err := x.reduceAxes(rank)
	if err != nil {
		return err
	}
	var out []int64
	if known {
		out = reducedShape(s, axes, keep == 1)
	}
	return x.emit(x.op, []string{x.in(0)}, []model.Attr{intsAttr("axes", axes), intAttr("keepdims", keep)}, out)
}

func (x *nctx) lpNorm() error {
	p, err := x.getInt("p", 2)
	if err != nil {
		return err
	}
	if p != 1 && p != 2 {
		return x.unsupported("p = %d", p)
	}
	axis, err := x.getInt("axis", -1)
	if err != nil {
		return err
	}
	s, known := x.shape(x.in(0))
	if known {
		if axis, err = x.normAxis(axis, len(s)); err != nil {
			return err
		}
	}
	return x.emit(model.OpLpNormalization, []string{x.in(0)}, []model.Attr{intAttr("axis", axis), intAttr("p", p)}, s)
}

func (x *nctx) gemm() error {
	alpha, err := x.getFloat("alpha", 1)
	if err != nil {
		return err
	}
	beta, err := x.getFloat("beta", 1)
	if err != nil {
		return err
	}
	ta, err := x.getInt("transA", 0)
	if err != nil {
		return err
	}
	tb, err := x.getInt("transB", 0)
	if err != nil {
		return err
	}
	if (ta != 0 && ta != 1) || (tb != 0 && tb != 1) {
		return x.malformed("transA %d, transB %d", ta, tb)
	}
	B := x.cin(1)
	if B == nil {
		return x.unsupported("B %q is not a constant (bind it with Options.Constants)", x.in(1))
	}
	if !B.isFloat() || len(B.shape) != 2 {
		return x.malformed("B of type %s and shape %v", typeName(B.onnxType), B.shape)
	}
	if x.cin(0) != nil {
		return x.unsupported("constant A")
	}
	k, n := B.shape[0], B.shape[1]
	if tb == 1 {
		k, n = n, k
	}
	a, known := x.shape(x.in(0))
	var out []int64
	if known {
		if len(a) != 2 {
			return x.malformed("A of rank %d", len(a))
		}
		m, ka := a[0], a[1]
		if ta == 1 {
			m, ka = ka, m
		}
		if ka >= 0 && ka != k {
			return x.malformed("A has inner dimension %d, B %d", ka, k)
		}
		out = []int64{m, n}
	}
	inputs := []string{x.in(0), x.in(1)}
	if name := x.in(2); name != "" {
		C := x.cin(2)
		if C == nil {
			return x.unsupported("C %q is not a constant", name)
		}
		if !C.isFloat() {
			return x.malformed("C of type %s", typeName(C.onnxType))
		}
		if out != nil {
			if _, err := broadcast(out, C.shape); err != nil || len(C.shape) > 2 {
				return x.malformed("C of shape %v does not broadcast to %v", C.shape, out)
			}
		}
		inputs = append(inputs, name)
	}
	return x.emit(model.OpGemm, inputs, []model.Attr{
		floatAttr("alpha", alpha), floatAttr("beta", beta), intAttr("transA", ta), intAttr("transB", tb),
	}, out)
}

func (x *nctx) matmul() error {
	B := x.cin(1)
	if B == nil {
		return x.unsupported("B %q is not a constant (bind it with Options.Constants)", x.in(1))
	}
	if !B.isFloat() {
		return x.malformed("B of type %s", typeName(B.onnxType))
	}
	if x.cin(0) != nil {
		return x.unsupported("constant A")
	}
	var out []int64
	if a, known := x.shape(x.in(0)); known {
		var err error
		if out, err = matmulShape(a, B.shape); err != nil {
			return x.malformed("%v", err)
		}
	}
	return x.emit(model.OpMatMul, []string{x.in(0), x.in(1)}, nil, out)
}

func (x *nctx) dropout() error {
	if name := x.in(2); name != "" {
		v := x.cin(2)
		if v == nil {
			return x.unsupported("training_mode %q is not a constant", name)
		}
		if v.numel() != 1 {
			return x.malformed("training_mode %q has %d elements, want 1", name, v.numel())
		}
		for _, t := range v.ints() {
			if t != 0 {
				return x.unsupported("training_mode true")
			}
		}
	}
	s, _ := x.shape(x.in(0))
	return x.emit("Dropout", []string{x.in(0)}, nil, s)
}

func (x *nctx) constant() error {
	if len(x.n.attrs) != 1 {
		return x.malformed("%d value attributes, want 1", len(x.n.attrs))
	}
	a := &x.n.attrs[0]
	var v *cval
	switch a.name {
	case "value":
		if a.typ != attrTensor || a.t == nil {
			return x.malformed("value is not a tensor")
		}
		var err error
		if v, err = decodeTensor(a.t); err != nil {
			return fmt.Errorf("%s node %q: %w", x.op, x.name, err)
		}
	case "value_float":
		if err := x.wantAttr(a, attrFloat); err != nil {
			return err
		}
		v = &cval{onnxType: dtFloat, shape: []int64{}, f: []float32{a.f}}
	case "value_floats":
		if err := x.wantAttr(a, attrFloats); err != nil {
			return err
		}
		v = &cval{onnxType: dtFloat, shape: []int64{int64(len(a.floats))}, f: append([]float32{}, a.floats...)}
	case "value_int":
		if err := x.wantAttr(a, attrInt); err != nil {
			return err
		}
		v = &cval{onnxType: dtInt64, shape: []int64{}, i: []int64{a.i}}
	case "value_ints":
		if err := x.wantAttr(a, attrInts); err != nil {
			return err
		}
		v = &cval{onnxType: dtInt64, shape: []int64{int64(len(a.ints))}, i: append([]int64{}, a.ints...)}
	}
	x.setConst(0, v)
	return nil
}

func (x *nctx) shapeOp() error {
	s, known := x.shape(x.in(0))
	if !known || hasUnknown(s) {
		return x.unsupported("shape of %q is not static (set the input shape)", x.in(0))
	}
	start, err := x.getInt("start", 0)
	if err != nil {
		return err
	}
	end, err := x.getInt("end", int64(len(s)))
	if err != nil {
		return err
	}
	r := int64(len(s))
	if start < 0 {
		start += r
	}
	if end < 0 {
		end += r
	}
	start = max(0, min(start, r))
	end = max(start, min(end, r))
	dims := append([]int64{}, s[start:end]...)
	x.setConst(0, &cval{onnxType: dtInt64, shape: []int64{int64(len(dims))}, i: dims})
	return nil
}

// squeezeAxes reads Unsqueeze/Squeeze axes from the attribute (opset < 13)
// or the constant input (opset 13+).
func (x *nctx) squeezeAxes() ([]int64, bool, error) {
	if name := x.in(1); name != "" {
		v := x.cin(1)
		if v == nil || v.isFloat() {
			return nil, false, x.unsupported("axes %q are not an integer constant", name)
		}
		return v.ints(), true, nil
	}
	return x.getInts("axes")
}

// squeezeShape computes the output shape of Unsqueeze/Squeeze.
func (x *nctx) squeezeShape(s []int64) ([]int64, error) {
	axes, ok, err := x.squeezeAxes()
	if err != nil {
		return nil, err
	}
	if x.op == "Unsqueeze" {
		if !ok {
			return nil, x.malformed("missing axes")
		}
		if len(axes) > maxRank-len(s) {
			return nil, x.errorf(ErrTooLarge, "output rank %d+%d (limit %d)", len(s), len(axes), maxRank)
		}
		rank := len(s) + len(axes)
		ins := make([]bool, rank)
		for _, a := range axes {
			n, err := x.normAxis(a, rank)
			if err != nil {
				return nil, err
			}
			if ins[n] {
				return nil, x.malformed("axis %d repeated", a)
			}
			ins[n] = true
		}
		out := make([]int64, 0, rank)
		k := 0
		for i := 0; i < rank; i++ {
			if ins[i] {
				out = append(out, 1)
			} else {
				out = append(out, s[k])
				k++
			}
		}
		return out, nil
	}
	if len(axes) > len(s) {
		// Each axis may be squeezed once.
		return nil, x.malformed("%d axes for rank %d", len(axes), len(s))
	}
	drop := make([]bool, len(s))
	if !ok {
		for i, d := range s {
			if d < 0 {
				return nil, x.unsupported("squeezing an input with unknown dimensions")
			}
			drop[i] = d == 1
		}
	}
	for _, a := range axes {
		n, err := x.normAxis(a, len(s))
		if err != nil {
			return nil, err
		}
		if s[n] != 1 && s[n] >= 0 {
			return nil, x.malformed("squeezing axis %d of size %d", a, s[n])
		}
		drop[n] = true
	}
	out := []int64{}
	for i, d := range s {
		if !drop[i] {
			out = append(out, d)
		}
	}
	return out, nil
}

// squeeze handles a computed Unsqueeze/Squeeze: it only relabels
// dimensions, so it becomes a Reshape to the static output shape.
func (x *nctx) squeeze() error {
	s, known := x.shape(x.in(0))
	if !known {
		return x.unsupported("input of unknown rank")
	}
	out, err := x.squeezeShape(s)
	if err != nil {
		return err
	}
	if hasUnknown(out) {
		return x.unsupported("input with unknown dimensions %v", s)
	}
	shapeName := x.c.addConst(x.name+"_shape", &cval{onnxType: dtInt64, shape: []int64{int64(len(out))}, i: out})
	return x.emit(model.OpReshape, []string{x.in(0), shapeName}, nil, out)
}

// expand keeps a computed Expand for the passes: it is either part of the
// F.normalize pattern, a no-op, or refused when the graph is emitted.
func (x *nctx) expand() error {
	target, err := x.expandTarget(x.cin(1))
	if err != nil {
		return err
	}
	var out []int64
	if s, known := x.shape(x.in(0)); known {
		if out, err = broadcast(s, target); err != nil {
			return x.malformed("%v", err)
		}
	}
	return x.emit("Expand", []string{x.in(0), x.in(1)}, nil, out)
}

func (x *nctx) cast() error {
	to, err := x.getInt("to", 0)
	if err != nil {
		return err
	}
	if to != dtFloat && to != dtDouble {
		// Computed values are float32; a cast to anything narrower or
		// integral changes them.
		return x.unsupported("cast of a computed value to %s", typeName(int32(to)))
	}
	s, _ := x.shape(x.in(0))
	return x.emit("Identity", []string{x.in(0)}, nil, s)
}
