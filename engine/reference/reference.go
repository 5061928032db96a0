// Package reference runs a signet graph the plainest way there is, as the
// oracle the optimised engine is tested against.
//
// Every operator is one small function in this package (conv2D in conv.go,
// gemm in matmul.go, add in elementwise.go, ...) that reads its inputs and
// attributes, checks them, and computes its output with direct loops over
// logical NCHW (row-major) tensors. It shares no code with the engine or
// the kernels: a bug there cannot hide here. It imports only the model, the
// shape arithmetic of internal/shape and the standard library.
//
// What the reference does not know it refuses with an error wrapping
// ErrUnsupported, never guessing: an unknown op, an attribute an op does
// not define, an attribute of the wrong kind or with a value outside the
// ones listed (a flag that is neither 0 nor 1, an auto_pad mode, a fused
// activation name, extra activation parameters), a tensor of a dtype other
// than float32 (int64 only where an op takes a shape; int8 and int32 only
// where QuantizeLinear and DequantizeLinear take them, quant.go). A
// malformed graph (missing inputs, shapes that do not fit) gives an error
// wrapping ErrShape. Before allocating, every element count is checked against
// Limits (see DefaultLimits); a graph over them gives ErrTooLarge. No model,
// however malformed, makes Run panic.
//
// Arithmetic is float32, accumulating in the loop order written (so the
// engine's SIMD kernels, which sum in another order and with FMA, differ in
// the last bits), except where noted: BatchNormalization takes the square
// root in float64, Sigmoid and SiLU (as ops and as fused activations) take
// the exponential in float64, Erf, GELU, Sqrt, Pow, Tanh, Exp and Log
// compute in float64 and round once, ReduceMean, ReduceL2, ReduceSum,
// LpNormalization and L2Normalize accumulate in float64, and
// LayerNormalization and Softmax compute entirely in float64. The engine's tests' tolerances assume
// exactly this.
//
// Adding an operator: write one function func(*node) error next to its
// family (conv.go, matmul.go, elementwise.go, layout.go, reduce.go) and list
// it in ops below.
package reference

import (
	"errors"
	"fmt"
	"math"

	"github.com/signet-go/signet/internal/shape"
	"github.com/signet-go/signet/model"
)

// Errors returned by Run wrap one of these.
var (
	// ErrUnsupported: an op, attribute, attribute value, activation or
	// dtype the reference does not implement.
	ErrUnsupported = errors.New("reference: unsupported")
	// ErrShape: a malformed graph or shapes that do not fit the op.
	ErrShape = errors.New("reference: shape mismatch")
	// ErrTooLarge: a tensor, all tensors together or the work exceed Limits.
	ErrTooLarge = errors.New("reference: over limits")
)

// Limits bound what one Run may allocate and compute.
type Limits struct {
	MaxElements int   // elements of any one tensor
	MaxTotal    int   // elements of all tensors together (the reference keeps every value)
	MaxWork     int64 // multiply-adds and element operations of the whole run
}

// DefaultLimits are the limits of Run: 2²⁶ elements (256 MiB of float32)
// per tensor, 2²⁸ (1 GiB) in all, 2⁴⁰ operations.
var DefaultLimits = Limits{MaxElements: 1 << 26, MaxTotal: 1 << 28, MaxWork: 1 << 40}

// Run executes m on inputs (one slice per graph input that is not also an
// initializer, in graph order, each in logical row-major order with every
// dynamic dimension taken as 1) under DefaultLimits and returns every graph
// output. An int64 graph output comes back as float32 values.
func Run(m *model.Model, inputs [][]float32) ([][]float32, error) {
	return RunLimits(m, inputs, DefaultLimits)
}

// RunLimits is Run under the given limits.
func RunLimits(m *model.Model, inputs [][]float32, lim Limits) ([][]float32, error) {
	r := &run{lim: lim, vals: map[string]*tensor{}, inits: map[string]*model.Tensor{}}
	return r.exec(m, inputs)
}

// exec is RunLimits on a fresh run r.
func (r *run) exec(m *model.Model, inputs [][]float32) ([][]float32, error) {
	if m == nil {
		return nil, fmt.Errorf("%w: nil model", ErrShape)
	}
	g := &m.Graph
	for i := range g.Initializers {
		t := &g.Initializers[i]
		if _, dup := r.inits[t.Name]; dup {
			return nil, fmt.Errorf("%w: initializer %q defined twice", ErrShape, t.Name)
		}
		r.inits[t.Name] = t
	}
	k := 0
	for _, in := range g.Inputs {
		if _, ok := r.inits[in.Name]; ok {
			continue // an initializer with a default value for the input
		}
		if k >= len(inputs) {
			return nil, fmt.Errorf("%w: %d inputs given, the graph has more", ErrShape, len(inputs))
		}
		dims := make([]int, len(in.Shape))
		for j, d := range in.Shape {
			switch {
			case d == -1:
				dims[j] = 1
			case d < 0 || d > math.MaxInt32:
				return nil, fmt.Errorf("%w: input %q has dimension %d", ErrShape, in.Name, d)
			default:
				dims[j] = int(d)
			}
		}
		x, err := r.alloc(dims)
		if err != nil {
			return nil, fmt.Errorf("input %q: %w", in.Name, err)
		}
		if len(inputs[k]) != len(x) {
			return nil, fmt.Errorf("%w: input %q has %d values, shape %v holds %d", ErrShape, in.Name, len(inputs[k]), dims, len(x))
		}
		copy(x, inputs[k])
		if err := r.define(in.Name, &tensor{shape: dims, f: x}); err != nil {
			return nil, err
		}
		k++
	}
	if k != len(inputs) {
		return nil, fmt.Errorf("%w: %d inputs given, the graph takes %d", ErrShape, len(inputs), k)
	}
	for i := range g.Nodes {
		n := &g.Nodes[i]
		if err := r.node(n); err != nil {
			return nil, fmt.Errorf("node %d %q (%s): %w", i, n.Name, n.Op, err)
		}
	}
	outs := make([][]float32, 0, len(g.Outputs))
	for _, o := range g.Outputs {
		t, err := r.lookup(o.Name)
		if err != nil {
			return nil, fmt.Errorf("output %q: %w", o.Name, err)
		}
		if t.q != nil {
			outs = append(outs, int8Floats(t.q))
			continue
		}
		if t.i != nil {
			// An int64 output comes out as float32, refused where float32
			// cannot hold a value exactly.
			f := make([]float32, len(t.i))
			for j, v := range t.i {
				if v > 1<<24 || v < -(1<<24) {
					return nil, fmt.Errorf("%w: int64 output %q holds %d, not exact in float32", ErrUnsupported, o.Name, v)
				}
				f[j] = float32(v)
			}
			outs = append(outs, f)
			continue
		}
		outs = append(outs, t.f)
	}
	return outs, nil
}

// ops lists every operator the reference implements.
var ops = map[string]func(*node) error{
	model.OpConv:               conv2D,
	model.OpMaxPool:            maxPool,
	model.OpAveragePool:        avgPool,
	model.OpGlobalAveragePool:  globalAvgPool,
	model.OpGemm:               gemm,
	model.OpMatMul:             matMul,
	model.OpBatchNormalization: batchNorm,
	model.OpRelu:               relu,
	model.OpClip:               clip,
	model.OpLeakyRelu:          leakyRelu,
	model.OpSigmoid:            sigmoid,
	model.OpHardSigmoid:        hardSigmoid,
	model.OpHardSwish:          hardSwish,
	model.OpSiLU:               silu,
	model.OpAdd:                add,
	model.OpSub:                sub,
	model.OpMul:                mul,
	model.OpDiv:                div,
	model.OpConcat:             concat,
	model.OpSplit:              split,
	model.OpSlice:              slice,
	model.OpFlatten:            flatten,
	model.OpReshape:            reshape,
	model.OpTranspose:          transpose,
	model.OpReduceMean:         reduceMean,
	model.OpReduceL2:           reduceL2,
	model.OpLpNormalization:    lpNormalization,
	model.OpL2Normalize:        l2Normalize,
	// math.go.
	model.OpErf:        erf,
	model.OpGELU:       gelu,
	model.OpSqrt:       sqrt,
	model.OpPow:        pow,
	model.OpTanh:       tanh,
	model.OpNeg:        neg,
	model.OpAbs:        abs,
	model.OpReciprocal: reciprocal,
	model.OpExp:        exp,
	model.OpLog:        log,
	model.OpMax:        maxOp,
	model.OpMin:        minOp,
	model.OpPRelu:      prelu,
	// pad.go, norm.go, reduce.go.
	model.OpPad:                pad,
	model.OpLayerNormalization: layerNormalization,
	model.OpSoftmax:            softmax,
	model.OpReduceSum:          reduceSum,
	model.OpReduceMax:          reduceMax,
	model.OpReduceMin:          reduceMin,
}

// tensor is one value: a logical shape and float32 (or, for shape inputs,
// int64) elements in row-major order.
type tensor struct {
	shape []int
	f     []float32
	i     []int64
	q     []int8  // an int8 tensor (quant.go)
	i32   []int32 // an int32 constant (a quantised bias)
}

// run is the state of one Run: the values computed so far, the
// initializers not yet decoded, and what has been spent of the limits.
type run struct {
	lim   Limits
	vals  map[string]*tensor
	inits map[string]*model.Tensor
	total int
	work  int64
}

// alloc returns a zeroed float32 slice for a tensor of shape dims after
// checking its size and the running total against the limits.
func (r *run) alloc(dims []int) ([]float32, error) {
	n, err := r.count(dims)
	if err != nil {
		return nil, err
	}
	return make([]float32, n), nil
}

// maxRank is the highest tensor rank the reference handles.
const maxRank = model.MaxRank

// count checks and charges a tensor of shape dims.
func (r *run) count(dims []int) (int, error) {
	if len(dims) > maxRank {
		return 0, fmt.Errorf("%w: rank %d above %d", ErrUnsupported, len(dims), maxRank)
	}
	n, ok := shape.Prod(dims, r.lim.MaxElements)
	if !ok {
		return 0, fmt.Errorf("%w: shape %v: more than %d elements or a negative dimension", ErrTooLarge, dims, r.lim.MaxElements)
	}
	if n > r.lim.MaxTotal-r.total {
		return 0, fmt.Errorf("%w: %d elements held in all, limit %d", ErrTooLarge, r.total+n, r.lim.MaxTotal)
	}
	r.total += n
	return n, nil
}

// spend charges w operations.
func (r *run) spend(w int64) error {
	r.work = shape.AddSat(r.work, w)
	if r.work > r.lim.MaxWork {
		return fmt.Errorf("%w: more than %d operations", ErrTooLarge, r.lim.MaxWork)
	}
	return nil
}

func (r *run) define(name string, t *tensor) error {
	if _, dup := r.vals[name]; dup {
		return fmt.Errorf("%w: value %q defined twice", ErrShape, name)
	}
	if _, dup := r.inits[name]; dup {
		return fmt.Errorf("%w: value %q is also an initializer", ErrShape, name)
	}
	r.vals[name] = t
	return nil
}

// lookup returns a value, decoding an initializer on first use.
func (r *run) lookup(name string) (*tensor, error) {
	if t, ok := r.vals[name]; ok {
		return t, nil
	}
	init, ok := r.inits[name]
	if !ok {
		return nil, fmt.Errorf("%w: value %q is not defined before use", ErrShape, name)
	}
	dims := make([]int, len(init.Shape))
	for j, d := range init.Shape {
		if d < 0 || d > math.MaxInt32 {
			return nil, fmt.Errorf("%w: initializer %q has dimension %d", ErrShape, name, d)
		}
		dims[j] = int(d)
	}
	var size int
	switch init.DType {
	case model.Float32:
		size = 4
	case model.Int64:
		size = 8
	case model.Int8, model.Int32:
		size = init.DType.Size()
	default:
		return nil, fmt.Errorf("%w: initializer %q has dtype %s", ErrUnsupported, name, init.DType)
	}
	n, ok := shape.Prod(dims, r.lim.MaxElements)
	if !ok {
		return nil, fmt.Errorf("%w: initializer %q of shape %v", ErrTooLarge, name, dims)
	}
	if len(init.Data) != n*size {
		return nil, fmt.Errorf("%w: initializer %q of shape %v has %d bytes", ErrShape, name, dims, len(init.Data))
	}
	if _, err := r.count(dims); err != nil {
		return nil, err
	}
	t := &tensor{shape: dims}
	switch init.DType {
	case model.Float32:
		t.f = init.Float32s()
	case model.Int64:
		t.i = init.Int64s()
	default:
		decodeQuant(init, t)
	}
	delete(r.inits, name)
	r.vals[name] = t
	return t, nil
}

// node runs one node: its op function reads inputs and attributes through
// nd, must call nd.checkAttrs before computing, and defines its outputs.
func (r *run) node(n *model.Node) error {
	op, ok := ops[n.Op]
	if !ok {
		return fmt.Errorf("%w: op %q", ErrUnsupported, n.Op)
	}
	nd := &node{n: n, r: r, read: make([]bool, len(n.Attrs))}
	if err := op(nd); err != nil {
		return err
	}
	if !nd.checked {
		return fmt.Errorf("%w: internal: the reference's %s never checked its attributes", ErrUnsupported, n.Op)
	}
	return nil
}

// node is the view of one graph node that an op function works through.
type node struct {
	n       *model.Node
	r       *run
	read    []bool // attribute i was read
	err     error  // first attribute error
	checked bool
}

// arity checks the number of inputs (optional ones may be given as "")
// and outputs.
func (nd *node) arity(minIn, maxIn, minOut, maxOut int) error {
	if len(nd.n.Inputs) < minIn || len(nd.n.Inputs) > maxIn {
		return fmt.Errorf("%w: %d inputs, want %d to %d", ErrShape, len(nd.n.Inputs), minIn, maxIn)
	}
	if len(nd.n.Outputs) < minOut || len(nd.n.Outputs) > maxOut {
		return fmt.Errorf("%w: %d outputs, want %d to %d", ErrShape, len(nd.n.Outputs), minOut, maxOut)
	}
	return nil
}

// begin is how an op function starts once it has read its attributes: it
// checks them (checkAttrs) and the arity (need to maxIn inputs, 1 to maxOut
// outputs) and returns the first need inputs, float32 and present.
func (nd *node) begin(need, maxIn, maxOut int) ([]*tensor, error) {
	if err := nd.checkAttrs(); err != nil {
		return nil, err
	}
	if err := nd.arity(need, maxIn, 1, maxOut); err != nil {
		return nil, err
	}
	ins := make([]*tensor, need)
	for i := range ins {
		t, err := nd.in(i)
		if err != nil {
			return nil, err
		}
		ins[i] = t
	}
	return ins, nil
}

// in returns input i, a float32 tensor that must be present.
func (nd *node) in(i int) (*tensor, error) {
	t, err := nd.optIn(i)
	if err == nil && t == nil {
		err = fmt.Errorf("%w: input %d missing", ErrShape, i)
	}
	return t, err
}

// optIn returns input i, or nil when it is omitted.
func (nd *node) optIn(i int) (*tensor, error) {
	if i >= len(nd.n.Inputs) || nd.n.Inputs[i] == "" {
		return nil, nil
	}
	t, err := nd.r.lookup(nd.n.Inputs[i])
	if err != nil {
		return nil, err
	}
	if t.f == nil && t.i != nil {
		return nil, fmt.Errorf("%w: input %q is int64, want float32", ErrUnsupported, nd.n.Inputs[i])
	}
	if t.f == nil && (t.q != nil || t.i32 != nil) {
		return nil, fmt.Errorf("%w: input %q is an integer tensor, want float32", ErrUnsupported, nd.n.Inputs[i])
	}
	return t, nil
}

// intIn returns input i, an int64 tensor that must be present.
func (nd *node) intIn(i int) (*tensor, error) {
	if i >= len(nd.n.Inputs) || nd.n.Inputs[i] == "" {
		return nil, fmt.Errorf("%w: input %d missing", ErrShape, i)
	}
	t, err := nd.r.lookup(nd.n.Inputs[i])
	if err != nil {
		return nil, err
	}
	if t.i == nil {
		return nil, fmt.Errorf("%w: input %q is not an int64 tensor", ErrUnsupported, nd.n.Inputs[i])
	}
	return t, nil
}

// out allocates output i of shape dims (checked against the limits) and
// defines it; an omitted output ("") is computed but not kept.
func (nd *node) out(i int, dims []int) ([]float32, error) {
	y, err := nd.r.alloc(dims)
	if err != nil {
		return nil, err
	}
	if name := nd.n.Outputs[i]; name != "" {
		if err := nd.r.define(name, &tensor{shape: dims, f: y}); err != nil {
			return nil, err
		}
	}
	return y, nil
}

// onlyOutput refuses optional outputs past the first (training-mode
// BatchNormalization, MaxPool's Indices) that the reference does not compute.
func (nd *node) onlyOutput() error {
	for _, o := range nd.n.Outputs[1:] {
		if o != "" {
			return fmt.Errorf("%w: output %q (only the first output is computed)", ErrUnsupported, o)
		}
	}
	return nil
}

// work charges w operations.
func (nd *node) work(w ...int64) error { return nd.r.spend(shape.MulSat(1, w...)) }

// attr returns the attribute name with kind, marking it read.
func (nd *node) attr(name string, kind model.AttrKind) (model.Attr, bool) {
	for i, a := range nd.n.Attrs {
		if a.Name != name {
			continue
		}
		nd.read[i] = true
		if a.Kind != kind && nd.err == nil {
			nd.err = fmt.Errorf("%w: attribute %q has kind %d, want %d", ErrUnsupported, name, a.Kind, kind)
		}
		return a, a.Kind == kind
	}
	return model.Attr{}, false
}

func (nd *node) attrInt(name string, def int64) int64 {
	if a, ok := nd.attr(name, model.AttrInt); ok {
		return a.Int
	}
	return def
}

// attrFlag reads a 0/1 attribute; any other value is refused.
func (nd *node) attrFlag(name string, def bool) bool {
	a, ok := nd.attr(name, model.AttrInt)
	if !ok {
		return def
	}
	if a.Int != 0 && a.Int != 1 {
		nd.fail("%w: %s = %d, want 0 or 1", ErrUnsupported, name, a.Int)
	}
	return a.Int == 1
}

func (nd *node) attrFloat(name string, def float32) float32 {
	if a, ok := nd.attr(name, model.AttrFloat); ok {
		return a.Float
	}
	return def
}

// attrInts returns an ints attribute; an empty list reads as absent.
func (nd *node) attrInts(name string) []int64 {
	if a, ok := nd.attr(name, model.AttrInts); ok && len(a.Ints) > 0 {
		return a.Ints
	}
	return nil
}

func (nd *node) attrFloats(name string) ([]float32, bool) {
	a, ok := nd.attr(name, model.AttrFloats)
	return a.Floats, ok
}

func (nd *node) attrString(name, def string) string {
	if a, ok := nd.attr(name, model.AttrString); ok {
		return a.String
	}
	return def
}

// fail records the first attribute error.
func (nd *node) fail(format string, args ...any) {
	if nd.err == nil {
		nd.err = fmt.Errorf(format, args...)
	}
}

// checkAttrs reports the first attribute error and refuses attributes the
// op never read (ones it does not define). Op functions call it after
// reading every attribute and before computing.
func (nd *node) checkAttrs() error {
	nd.checked = true
	if nd.err != nil {
		return nd.err
	}
	for i, a := range nd.n.Attrs {
		if !nd.read[i] {
			return fmt.Errorf("%w: attribute %q is not one %s takes", ErrUnsupported, a.Name, nd.n.Op)
		}
	}
	return nil
}

// axis maps a possibly negative axis into [0, rank).
func axis(a int64, rank int) (int, error) {
	if a < 0 {
		a += int64(rank)
	}
	if a < 0 || a >= int64(rank) {
		return 0, fmt.Errorf("%w: axis %d out of range for rank %d", ErrShape, a, rank)
	}
	return int(a), nil
}

// strides returns the row-major strides of dims.
func strides(dims []int) []int {
	s := make([]int, len(dims))
	n := 1
	for d := len(dims) - 1; d >= 0; d-- {
		s[d] = n
		n *= dims[d]
	}
	return s
}

// product multiplies dims already checked against the limits.
func product(dims []int) int {
	n := 1
	for _, d := range dims {
		n *= d
	}
	return n
}
