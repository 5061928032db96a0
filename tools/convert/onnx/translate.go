package onnx

import (
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/signet-go/signet/model"
)

// Translation of one ONNX node: the checks every node passes (domain,
// opset, attributes, arity, operands defined before use), the attribute
// getters, and emit, which appends native nodes. What each operator does is
// in its descriptor (ops.go and the ops_*.go files).

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

// nctx is the ONNX node being translated, with its operator's descriptor.
type nctx struct {
	c      *conv
	n      *nodeProto
	d      *opDesc
	op     string
	name   string
	folded bool
}

// translate checks node n (the idx-th of the graph) against its operator's
// descriptor and translates it.
func (c *conv) translate(n *nodeProto, idx int) error {
	x := &nctx{c: c, n: n, op: n.opType, name: n.name}
	if x.name == "" {
		x.name = fmt.Sprintf("%s_%d", n.opType, idx)
	}
	if err := x.check(); err != nil {
		return err
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

// check looks up the node's descriptor and enforces it: the operator
// exists in the model's opset as signet implements it, every attribute is
// declared (once), the operand counts fit, every input is defined before use
// and no output is defined twice.
func (x *nctx) check() error {
	c, n := x.c, x.n
	if n.domain != "" && n.domain != "ai.onnx" {
		return x.unsupported("operator domain %q", n.domain)
	}
	if err := x.refuseQuantOp(); err != nil {
		return err
	}
	d, ok := operators[n.opType]
	if !ok {
		return x.unsupported("operator not supported")
	}
	x.d = d
	if d.versions[0] > c.opset {
		return x.unsupported("operator does not exist before opset %d", d.versions[0])
	}
	if d.readsFrom > 0 && c.opset < d.readsFrom {
		return x.unsupported("operator changed in opset %d; signet reads it from opset %d", d.readsFrom, d.readsFrom)
	}
	for _, v := range d.versions {
		if c.opset < v && v <= 11 && d.readsFrom == 0 {
			return x.unsupported("operator changed in opset %d; signet implements opsets 11 to 17", v)
		}
	}
	seen := map[string]bool{}
	for _, a := range n.attrs {
		if d.attr(a.name) == nil {
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
	if !d.inputs.admits(len(n.inputs)) {
		return x.malformed("%d inputs", len(n.inputs))
	}
	for i, in := range n.inputs {
		if in == "" {
			if i < d.inputs.min {
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
	if !d.outputs.admits(len(n.outputs)) {
		return x.malformed("%d outputs", len(n.outputs))
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
	return nil
}

// translate folds the node when its operator folds and every input is a
// constant, and translates it otherwise.
func (x *nctx) translate() error {
	if x.d.fold != nil && x.allConst() && len(x.n.inputs) > 0 {
		in := make([]*cval, len(x.n.inputs))
		for i := range in {
			in[i] = x.cin(i)
		}
		if in[0] != nil {
			return x.fold(in)
		}
	}
	return x.d.translate(x)
}

// fold evaluates the node on its constant inputs: the first output becomes
// a constant, the others are not computed.
func (x *nctx) fold(in []*cval) error {
	out, err := x.d.fold(x, in)
	if err != nil {
		return err
	}
	// Relabelling folds (Reshape, Unsqueeze) must not build shapes that a
	// file tensor could not have.
	if _, err := numElements(out.shape); err != nil {
		return x.fail("constant folding: ", err)
	}
	x.setConst(0, out)
	for i := 1; i < len(x.n.outputs); i++ {
		if name := x.n.outputs[i]; name != "" {
			x.c.poisoned[name] = poison{i, x.op, x.name}
		}
	}
	return nil
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

// scalarIn returns input i, called what in errors, which must be a
// one-element constant; nil when the node omits it.
func (x *nctx) scalarIn(i int, what string) (*cval, error) {
	name := x.in(i)
	if name == "" {
		return nil, nil
	}
	v := x.c.consts[name]
	if v == nil {
		return nil, x.unsupported("%s %q is not a constant", what, name)
	}
	if v.numel() != 1 {
		return nil, x.malformed("%s %q has %d elements, want 1", what, name, v.numel())
	}
	return v, nil
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

// spec returns the declaration of attribute name, which a translation
// may only read when its operator declares it with type typ.
func (x *nctx) spec(name string, typ int32) (*attrSpec, error) {
	s := x.d.attr(name)
	if s == nil || s.typ != typ {
		return nil, x.unsupported("attribute %q of type %d is not declared by the operator's descriptor", name, typ)
	}
	return s, nil
}

// getInt returns int attribute name, or its declared default when absent.
func (x *nctx) getInt(name string) (int64, error) {
	return getScalar(x, name, attrInt, func(a *attrProto) int64 { return a.i }, func(s *attrSpec) int64 { return s.i })
}

// getFlag returns int attribute name, or its declared default when absent,
// refusing any value but 0 and 1.
func (x *nctx) getFlag(name string) (int64, error) {
	v, err := x.getInt(name)
	if err != nil {
		return 0, err
	}
	if v != 0 && v != 1 {
		return 0, x.malformed("%s %d", name, v)
	}
	return v, nil
}

// getFloat returns float attribute name, or its declared default when absent.
func (x *nctx) getFloat(name string) (float32, error) {
	return getScalar(x, name, attrFloat, func(a *attrProto) float32 { return a.f }, func(s *attrSpec) float32 { return s.f })
}

// getScalar returns the attribute name of type typ as the node sets it
// (fromNode) or, when the node omits it, as the operator declares its
// default (fromSpec).
func getScalar[T any](x *nctx, name string, typ int32, fromNode func(*attrProto) T, fromSpec func(*attrSpec) T) (T, error) {
	s, err := x.spec(name, typ)
	if err != nil {
		var zero T
		return zero, err
	}
	a := x.attr(name)
	if a == nil {
		return fromSpec(s), nil
	}
	return fromNode(a), x.wantAttr(a, typ)
}

// getInts returns ints attribute name and whether the node has it: the
// defaults of lists depend on the node.
func (x *nctx) getInts(name string) ([]int64, bool, error) {
	if _, err := x.spec(name, attrInts); err != nil {
		return nil, false, err
	}
	a := x.attr(name)
	if a == nil {
		return nil, false, nil
	}
	if a.typ != attrInts {
		return nil, false, x.malformed("attribute %q has type %d, want ints", a.name, a.typ)
	}
	return a.ints, true, nil
}

// getString returns string attribute name, or its declared default when absent.
func (x *nctx) getString(name string) (string, error) {
	return getScalar(x, name, attrString, func(a *attrProto) string { return string(a.s) }, func(s *attrSpec) string { return s.s })
}

// attrReader reads several scalar attributes in turn and keeps the first
// error; once one read fails the later ones return zero values unread, so
// the error is the one the first failing read would have returned alone.
type attrReader struct {
	x   *nctx
	err error
}

func readScalar[T any](r *attrReader, get func(string) (T, error), name string) T {
	var v T
	if r.err == nil {
		v, r.err = get(name)
	}
	return v
}

func (r *attrReader) int(name string) int64     { return readScalar(r, r.x.getInt, name) }
func (r *attrReader) flag(name string) int64    { return readScalar(r, r.x.getFlag, name) }
func (r *attrReader) float(name string) float32 { return readScalar(r, r.x.getFloat, name) }

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

func hasUnknown(d []int64) bool {
	for _, v := range d {
		if v < 0 {
			return true
		}
	}
	return false
}
