package engine

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/signet-go/signet/engine/internal/backend"
	"github.com/signet-go/signet/engine/internal/cpu"
	"github.com/signet-go/signet/internal/shape"
	"github.com/signet-go/signet/kernels"
	"github.com/signet-go/signet/model"
)

type layout = backend.Layout

const (
	// layoutLogical stores a tensor row-major in its logical dimension order.
	layoutLogical = backend.Logical
	// layoutNHWC stores a rank-4 logical [N,C,H,W] tensor as [N,H,W,C].
	layoutNHWC = backend.NHWC
)

// maxElements bounds the size of any one tensor (and, with attrLimit, keeps
// every size computation far from integer overflow).
const maxElements = 1 << 31

// attrLimit bounds kernel sizes, strides, dilations and pads.
const attrLimit = 1 << 20

// maxRank bounds the rank of any tensor the engine plans, so strided loops
// can use fixed arrays (no allocation at run time).
const maxRank = 8

// value is one tensor of the plan.
type value struct {
	name   string
	shape  []int // logical
	size   int   // elements
	layout layout
	// konst is a constant's data in its layout. While planning, a float
	// initializer's konst aliases the model's bytes (src); once planned, the
	// constants a step reads at run time hold a copy of their own and the
	// others none (see ownConstants), so the plan keeps no model memory.
	konst   []float32
	isConst bool          // a constant (konst may be nil once planned)
	src     *model.Tensor // the initializer konst aliases, nil when konst is the plan's own
	ints    []int64       // Int64 constants (shape operands), dropped once planned
	isInt   bool
	buf     int // arena buffer, -1 when constant
	def     int // defining step, -1 for graph inputs and constants
	last    int // last step reading it
	// view, when set, says the value has no storage of its own (see view.go).
	view *viewInfo
	// converted[l] is the id of a copy in layout l planned for a consumer
	// (-1: none yet), shared by every later consumer.
	converted [2]int
	// on says which memories hold a current copy of a runtime value while
	// planning (onHost, onDevice; see cross).
	on uint8
	// dtype is model.Int8 for a quantised runtime value (ops_quant.go),
	// 0 for float32.
	dtype model.DType
}

// Memories a runtime value may be current in: the host's (Exec.Buf), and
// the own memory of a backend.Resident engine backend.
const (
	onHost uint8 = 1 << iota
	onDevice
)

// trivialNHWC reports whether NHWC and logical order coincide (H·W == 1 or
// C == 1), so the two layouts hold the same bytes.
func (v *value) trivialNHWC() bool {
	return len(v.shape) == 4 && (v.shape[1] == 1 || v.shape[2]*v.shape[3] == 1)
}

// perm returns, for each physical dimension, the logical dimension stored there.
func (v *value) perm() []int {
	if v.layout == layoutNHWC {
		return []int{0, 2, 3, 1}
	}
	p := make([]int, len(v.shape))
	for i := range p {
		p[i] = i
	}
	return p
}

// physShape returns the dimensions in storage order.
func (v *value) physShape() []int {
	p := v.perm()
	out := make([]int, len(p))
	for i, d := range p {
		out[i] = v.shape[d]
	}
	return out
}

// physShapeIn returns the storage-order dimensions of a tensor of logical
// shape s held in layout l.
func physShapeIn(s []int, l layout) []int {
	v := value{shape: s, layout: l}
	if len(s) != 4 {
		v.layout = layoutLogical
	}
	return v.physShape()
}

// logicalStrides returns the storage stride of each logical dimension.
func (v *value) logicalStrides() []int {
	p := v.perm()
	st := make([]int, len(p))
	s := 1
	for i := len(p) - 1; i >= 0; i-- {
		st[p[i]] = s
		s *= v.shape[p[i]]
	}
	return st
}

// physAxis maps a logical axis to its storage position.
func (v *value) physAxis(axis int) int {
	for i, d := range v.perm() {
		if d == axis {
			return i
		}
	}
	return axis
}

type plan struct {
	vals      []value
	steps     []backend.Kernel
	layers    []LayerInfo
	bes       []backend.Backend // the engine's backend, then the CPU fallback when it is another
	stepBe    []uint8           // per step: index in bes of the backend that lowered it
	inputs    []int
	outputs   []int
	bufOff    []int
	arenaSize int
	scratch   int   // per-thread scratch floats
	par       []int // per step: most workers worth waking for its work
	// weightBytes counts packed weights and converted constants; work is
	// one inference's operations (see checkBudgets).
	weightBytes int64
	work        int64
}

// compiler builds a plan node by node: it infers shapes and layouts and
// describes each operation as a backend.Op, which the backend lowers to a
// kernel (lowerNode); it then plans liveness, the arena and the budgets.
type compiler struct {
	m    *model.Model
	tier kernels.Tier
	// be is the backend the engine plans for (p.bes[0]); an Op it does not
	// lower goes to p.bes[1], the CPU backend, when be is another one.
	be backend.Backend
	// dev is be when it keeps values in memory of its own (see cross).
	dev     backend.Resident
	threads int
	p       *plan
	byName  map[string]int
	node    *model.Node
	// per step: values read, values written, and whether output 0 may reuse
	// input inplace[i] (-1: no)
	stepIn  [][]int
	stepOut [][]int
	inplace []int
	// budgets (bytes, operations); math.MaxInt64 for none
	memLimit, workLimit int64
	// err is the first error lowering a conversion the planner inserted
	// (need, materialize), reported once the node is planned.
	err error
	// q is the graph's QDQ structure (ops_quant.go), made on first use.
	q *quantState
}

// prod multiplies dims the planner has already bounded (shape.Prod).
func prod(s []int) int {
	n, _ := shape.Prod(s, math.MaxInt)
	return n
}

// newCompiler starts a plan of m for tier and threads under opts' budgets,
// lowering with be (nil: the CPU backend), and with the CPU backend the Ops
// be does not support.
func newCompiler(m *model.Model, tier kernels.Tier, threads int, opts Options, be backend.Backend) *compiler {
	if be == nil {
		be = cpu.New(tier, !opts.NoWinograd)
	}
	c := &compiler{m: m, tier: tier, be: be, threads: threads, p: &plan{bes: []backend.Backend{be}}, byName: map[string]int{},
		memLimit: limitOf(opts.MemoryLimit, DefaultMemoryLimit), workLimit: limitOf(opts.MaxWork, DefaultMaxWork)}
	if be.Name() != cpuBackend {
		c.p.bes = append(c.p.bes, cpu.New(tier, !opts.NoWinograd))
	}
	c.dev, _ = be.(backend.Resident)
	return c
}

// cpuBackend names the CPU backend, the default and the fallback.
const cpuBackend = "cpu"

func compileWith(c *compiler) (*plan, error) {
	m := c.m
	g := &m.Graph
	for i := range g.Initializers {
		t := &g.Initializers[i]
		if err := c.addInitializer(t); err != nil {
			return nil, err
		}
	}
	for _, in := range g.Inputs {
		if _, dup := c.byName[in.Name]; dup {
			continue // an input with a default initializer: the constant wins
		}
		dims := make([]int, len(in.Shape))
		for i, d := range in.Shape {
			switch {
			case d == -1 && i == 0:
				dims[i] = 1
			case d < 1:
				return nil, fmt.Errorf("%w: graph input %q has dynamic dimension %d (only the batch may be dynamic)", ErrUnsupported, in.Name, i)
			case d > maxElements:
				return nil, fmt.Errorf("%w: graph input %q of shape %v exceeds %d elements", ErrUnsupported, in.Name, in.Shape, maxElements)
			default:
				dims[i] = int(d)
			}
		}
		if len(dims) > maxRank {
			return nil, fmt.Errorf("%w: graph input %q has rank %d", ErrUnsupported, in.Name, len(dims))
		}
		if _, ok := shape.Prod(dims, maxElements); !ok {
			return nil, fmt.Errorf("%w: graph input %q of shape %v exceeds %d elements", ErrUnsupported, in.Name, in.Shape, maxElements)
		}
		id := c.newValue(in.Name, dims, defaultLayout(dims))
		c.p.vals[id].def = -1
		c.p.vals[id].on = onHost
		c.p.inputs = append(c.p.inputs, id)
	}
	// The file's pages were all read to verify its checksum: drop them, so
	// that the raw weights come back in one tensor at a time, while it is
	// packed, and leave again right after (weights.go).
	m.Evict(nil)
	for i := range g.Nodes {
		n := &g.Nodes[i]
		c.node = n
		if err := c.build(n); err != nil {
			return nil, err
		}
		if c.err != nil {
			return nil, c.err
		}
		c.evictInputs(n)
	}
	for _, o := range g.Outputs {
		id, ok := c.byName[o.Name]
		if !ok {
			return nil, fmt.Errorf("%w: graph output %q is never produced", ErrShape, o.Name)
		}
		id, err := c.quantOutput(id)
		if err != nil {
			return nil, err
		}
		if c.p.vals[id].isInt {
			if id, err = c.intOutput(id); err != nil {
				return nil, err
			}
		}
		if c.p.vals[id].view != nil {
			id = c.materialize(id, layoutLogical)
		}
		c.p.outputs = append(c.p.outputs, id)
	}
	c.node = nil
	if err := c.cross(onHost, c.p.outputs); err != nil { // outputs are copied out of host memory
		return nil, err
	}
	if c.err != nil {
		return nil, c.err
	}
	c.planMemory()
	if err := c.ownConstants(); err != nil {
		return nil, err
	}
	c.planParallelism()
	if err := c.checkBudgets(); err != nil {
		return nil, err
	}
	return c.p, nil
}

// intOutput returns a float32 constant holding integer constant id, so an
// integer initializer that is a graph output comes out with its values; a
// value float32 cannot hold exactly is refused rather than rounded.
func (c *compiler) intOutput(id int) (int, error) {
	v := c.p.vals[id]
	if v.ints == nil && v.size > 0 {
		return -1, fmt.Errorf("%w: graph output %q is an integer tensor of a type the engine does not run", ErrUnsupported, v.name)
	}
	if err := c.reserve(len(v.ints)); err != nil {
		return -1, err
	}
	f := make([]float32, len(v.ints))
	for i, x := range v.ints {
		f[i] = float32(x)
		if int64(f[i]) != x || x > 1<<24 || x < -(1<<24) {
			return -1, fmt.Errorf("%w: graph output %q: integer %d at index %d has no exact float32", ErrUnsupported, v.name, x, i)
		}
	}
	v.konst, v.isConst, v.src, v.ints, v.isInt = f, true, nil, nil, false
	v.layout = layoutLogical
	c.p.vals = append(c.p.vals, v)
	return len(c.p.vals) - 1, nil
}

func defaultLayout(shape []int) layout {
	if len(shape) == 4 {
		return layoutNHWC
	}
	return layoutLogical
}

func (c *compiler) addInitializer(t *model.Tensor) error {
	dims := make([]int, len(t.Shape))
	for i, d := range t.Shape {
		if d < 0 {
			return fmt.Errorf("%w: initializer %q has negative dimension", ErrShape, t.Name)
		}
		if d > maxElements {
			return fmt.Errorf("%w: initializer %q of shape %v exceeds %d elements", ErrUnsupported, t.Name, t.Shape, maxElements)
		}
		dims[i] = int(d)
	}
	if len(dims) > maxRank {
		return fmt.Errorf("%w: initializer %q has rank %d", ErrUnsupported, t.Name, len(dims))
	}
	n, ok := shape.Prod(dims, maxElements)
	if !ok {
		return fmt.Errorf("%w: initializer %q of shape %v exceeds %d elements", ErrUnsupported, t.Name, t.Shape, maxElements)
	}
	if int64(len(t.Data)) != int64(n)*int64(t.DType.Size()) || t.DType.Size() == 0 {
		return fmt.Errorf("%w: initializer %q: %d bytes for %d elements of %s", ErrShape, t.Name, len(t.Data), n, t.DType)
	}
	v := value{name: t.Name, shape: dims, size: n, buf: -1, def: -1, last: -1, converted: [2]int{-1, -1}}
	switch t.DType {
	case model.Float32:
		v.konst, v.isConst, v.src = floatsOf(t), true, t
	case model.Int64:
		v.ints = t.Int64s()
		v.isInt = true
	case model.Int32:
		raw := t.Data
		v.isInt = true
		v.ints = make([]int64, n)
		for i := range v.ints {
			v.ints[i] = int64(int32(uint32(raw[4*i]) | uint32(raw[4*i+1])<<8 | uint32(raw[4*i+2])<<16 | uint32(raw[4*i+3])<<24))
		}
	default:
		// No op reads int8 weights yet (there is no quantized path); keep the name known so a
		// node that uses it reports an unsupported op rather than a missing input.
		v.isInt = true
	}
	c.byName[t.Name] = len(c.p.vals)
	c.p.vals = append(c.p.vals, v)
	return nil
}

func (c *compiler) newValue(name string, shape []int, l layout) int {
	if len(shape) != 4 {
		l = layoutLogical
	}
	id := len(c.p.vals)
	c.p.vals = append(c.p.vals, value{name: name, shape: shape, size: prod(shape), layout: l, buf: -1,
		def: len(c.p.steps), last: -1, converted: [2]int{-1, -1}})
	if name != "" {
		c.byName[name] = id
	}
	return id
}

// errf formats an error about the current node.
func (c *compiler) errf(sentinel error, format string, args ...any) error {
	return fmt.Errorf("%w: node %q (%s): %s", sentinel, c.node.Name, c.node.Op, fmt.Sprintf(format, args...))
}

// in returns the value id of input i of the current node, checking it is a
// float tensor; a view is materialized in its default layout.
func (c *compiler) in(i int) (int, error) {
	id, err := c.inRaw(i)
	if err != nil || c.p.vals[id].view == nil {
		return id, err
	}
	return c.materialize(id, defaultLayout(c.p.vals[id].shape)), nil
}

// inVal is in that also returns the value, valid until the next value is
// added.
func (c *compiler) inVal(i int) (int, *value, error) {
	id, err := c.in(i)
	if err != nil {
		return id, nil, err
	}
	return id, &c.p.vals[id], nil
}

// inRaw is in without materializing views.
func (c *compiler) inRaw(i int) (int, error) {
	n := c.node
	if i >= len(n.Inputs) || n.Inputs[i] == "" {
		return -1, c.errf(ErrUnsupported, "missing input %d", i)
	}
	id, ok := c.byName[n.Inputs[i]]
	if !ok {
		return -1, c.errf(ErrShape, "input %q is not defined before use", n.Inputs[i])
	}
	if err := c.quantIn(id); err != nil {
		return -1, err
	}
	if c.p.vals[id].isInt {
		return -1, c.errf(ErrUnsupported, "input %q is not a float32 tensor", n.Inputs[i])
	}
	return id, nil
}

// in2 returns inputs 0 and 1 of the current node, as in does.
func (c *compiler) in2() (int, int, error) {
	a, err := c.in(0)
	if err != nil {
		return -1, -1, err
	}
	b, err := c.in(1)
	return a, b, err
}

// optIn is like in but returns -1 for an omitted optional input.
func (c *compiler) optIn(i int) (int, error) {
	if i >= len(c.node.Inputs) || c.node.Inputs[i] == "" {
		return -1, nil
	}
	return c.in(i)
}

// constIn returns a constant float input in logical layout.
func (c *compiler) constIn(i int) ([]float32, []int, error) {
	id, err := c.in(i)
	if err != nil {
		return nil, nil, err
	}
	v := &c.p.vals[id]
	if !v.isConst {
		return nil, nil, c.errf(ErrUnsupported, "input %q must be a constant", v.name)
	}
	if v.layout == layoutNHWC && !v.trivialNHWC() {
		if err := c.reserve(v.size); err != nil {
			return nil, nil, err
		}
		out := make([]float32, v.size)
		nhwcToNCHW(v.konst, out, v.shape)
		return out, v.shape, nil
	}
	return v.konst, v.shape, nil
}

// output declares output i of the current node.
func (c *compiler) output(i int, dims []int, l layout) (int, error) {
	n := c.node
	if i >= len(n.Outputs) || n.Outputs[i] == "" {
		return -1, c.errf(ErrShape, "missing output %d", i)
	}
	if len(dims) > maxRank {
		return -1, c.errf(ErrUnsupported, "output rank %d exceeds %d", len(dims), maxRank)
	}
	for _, d := range dims {
		if d < 0 {
			return -1, c.errf(ErrShape, "negative output dimension in %v", dims)
		}
		if d == 0 {
			// Kernels assume at least one element per dimension; ONNX allows
			// empty tensors, but no encoder needs them.
			return -1, c.errf(ErrUnsupported, "output %v is empty (zero-size tensors are not supported)", dims)
		}
	}
	if _, ok := shape.Prod(dims, maxElements); !ok {
		return -1, c.errf(ErrUnsupported, "output %v exceeds %d elements", dims, maxElements)
	}
	if _, dup := c.byName[n.Outputs[i]]; dup {
		return -1, c.errf(ErrShape, "output %q defined twice", n.Outputs[i])
	}
	return c.newValue(n.Outputs[i], dims, l), nil
}

// need returns a value holding id's data in layout l, planning a conversion
// (a relayout step, or a converted constant) when the storage differs.
func (c *compiler) need(id int, l layout) int {
	v := &c.p.vals[id]
	if v.view != nil {
		return c.materialize(id, l)
	}
	if len(v.shape) != 4 || v.layout == l || v.trivialNHWC() {
		return id
	}
	if v.converted[l] >= 0 {
		return v.converted[l]
	}
	if v.isConst {
		// A copy of a constant from the file: bounded by the file's size,
		// counted here and checked with the rest by checkBudgets.
		c.p.weightBytes = shape.AddSat(c.p.weightBytes, 4*int64(v.size))
		nv := value{name: v.name + "#relayout", shape: v.shape, size: v.size, layout: l, isConst: true, buf: -1, def: -1, last: -1, converted: [2]int{-1, -1}}
		nv.konst = make([]float32, v.size)
		if l == layoutNHWC {
			nchwToNHWC(v.konst, nv.konst, v.shape)
		} else {
			nhwcToNCHW(v.konst, nv.konst, v.shape)
		}
		c.p.vals = append(c.p.vals, nv)
		nid := len(c.p.vals) - 1
		c.p.vals[id].converted[l] = nid
		return nid
	}
	nid := c.newValue("", v.shape, l)
	c.p.vals[id].converted[l] = nid
	name := v.name + "#relayout"
	c.lowerAux(&backend.Op{Name: name, OpType: "Relayout", In: []int{id}, Out: []int{nid},
		Args: c.copyArgs(nid, c.p.vals[id].logicalStrides(), 0, "copy-strided")})
	return nid
}

// copyArgs describes the copy of a value into out, reading it at base plus
// srcStrides per logical dim of out.
func (c *compiler) copyArgs(out int, srcStrides []int, base int, label string) *backend.Copy {
	ov := &c.p.vals[out]
	perm := ov.perm()
	src := make([]int, len(perm))
	for i, d := range perm {
		src[i] = srcStrides[d]
	}
	return &backend.Copy{Dims: ov.physShape(), Src: src, Base: base, Label: label}
}

// lowerNode has the backend lower an op of the current node (reading in,
// writing out, output 0 possibly in inplace's buffer) and appends the step.
func (c *compiler) lowerNode(args backend.Args, in, out []int, flops int64, inplace int) error {
	return c.lower(&backend.Op{Name: c.node.Name, OpType: c.node.Op, In: in, Out: out, Args: args}, flops, inplace)
}

// lowerLike lowers an op whose output 0 has x's shape and layout and may
// overwrite x, costing flopsPerElem per element.
func (c *compiler) lowerLike(args backend.Args, x int, flopsPerElem int64) error {
	xv := &c.p.vals[x]
	out, err := c.output(0, xv.shape, xv.layout)
	if err != nil {
		return err
	}
	return c.lowerNode(args, []int{x}, []int{out}, flopsPerElem*int64(c.p.vals[out].size), x)
}

// lowerAux lowers a conversion the planner inserted, keeping the first
// error for the node's end (its callers return value ids, not errors).
func (c *compiler) lowerAux(op *backend.Op) {
	if err := c.lower(op, 0, -1); err != nil && c.err == nil {
		c.err = err
	}
}

// lower has the engine's backend lower op, or the CPU backend when the
// engine's backend refuses it (Supports, or an unsupported case Lower
// found), and appends the step after the transfers its reads need.
func (c *compiler) lower(op *backend.Op, flops int64, inplace int) error {
	bi := 0
	l, err := c.lowerWith(c.be, op)
	if err != nil && !errors.Is(err, ErrBudget) && len(c.p.bes) > 1 {
		bi = 1
		l, err = c.lowerWith(c.p.bes[1], op)
	}
	if err != nil {
		return err
	}
	reads := op.In
	if l.Reads != nil {
		reads = l.Reads
	}
	if err := c.cross(c.memOf(bi), reads); err != nil {
		return err
	}
	c.addStep(bi, l, LayerInfo{Name: op.Name, Op: op.OpType, FLOPs: flops}, reads, op.Out, inplace)
	return nil
}

func (c *compiler) lowerWith(be backend.Backend, op *backend.Op) (backend.Lowered, error) {
	if !be.Supports(op, c) {
		return backend.Lowered{}, fmt.Errorf("%w: node %q (%s): the %s backend has no kernel for %s", ErrUnsupported, op.Name, op.OpType, be.Name(), backend.Kind(op.Args))
	}
	l, err := be.Lower(op, c)
	if err != nil {
		if errors.Is(err, ErrBudget) {
			return l, err
		}
		return l, fmt.Errorf("%w: node %q (%s): %v", ErrUnsupported, op.Name, op.OpType, err)
	}
	return l, nil
}

// memOf is the memory the kernels of backend p.bes[bi] read and write.
func (c *compiler) memOf(bi int) uint8 {
	if bi == 0 && c.dev != nil {
		return onDevice
	}
	return onHost
}

// cross makes the runtime values in ids current in memory m (onHost or
// onDevice) before a step reads them there: when the engine's backend is a
// backend.Resident, a value computed in the other memory gets a transfer
// step (Op "Transfer", lowered by that backend) the first time it is read
// across, and is current in both memories from then on (a value is written
// once). Constants reach a backend while it lowers (Value.Const).
func (c *compiler) cross(m uint8, ids []int) error {
	if c.dev == nil {
		return nil
	}
	for _, id := range ids {
		v := &c.p.vals[id]
		if v.isConst || v.on&m != 0 {
			continue
		}
		dir := backend.ToDevice
		if m == onHost {
			dir = backend.ToHost
		}
		l, err := c.dev.Transfer(id, dir, c)
		if err != nil {
			if errors.Is(err, ErrBudget) {
				return err
			}
			return fmt.Errorf("%w: value %q: %s transfer: %v", ErrUnsupported, v.name, dir, err)
		}
		c.addStep(0, l, LayerInfo{Name: v.name + "#" + dir.String(), Op: "Transfer"}, []int{id}, nil, -1)
		c.p.vals[id].on |= m
	}
	return nil
}

// Value implements backend.Graph.
func (c *compiler) Value(id int) backend.Value {
	v := &c.p.vals[id]
	return backend.Value{Name: v.name, Shape: v.shape, Size: v.size, Layout: v.layout, Const: v.konst, IsConst: v.isConst, Int8: v.dtype == model.Int8}
}

// Reserve implements backend.Graph (see reserve).
func (c *compiler) Reserve(floats int64) error {
	if floats > math.MaxInt32 {
		return c.budgetErr("packed weights of %d floats", floats)
	}
	return c.reserve(int(floats))
}

// ReserveTemp implements backend.Graph (see reserveTemp).
func (c *compiler) ReserveTemp(floats int64) error {
	if floats > math.MaxInt32 {
		return c.budgetErr("temporary weights of %d floats", floats)
	}
	return c.reserveTemp(int(floats))
}

// UseScratch implements backend.Graph.
func (c *compiler) UseScratch(floats int) { c.p.scratch = max(c.p.scratch, floats) }

// Threads implements backend.Graph.
func (c *compiler) Threads() int { return c.threads }

// addStep appends the step backend p.bes[bi] lowered, with its layer
// description (info completed from l) and dataflow; its outputs are current
// in that backend's memory.
// bytesMoved is LayerInfo.Bytes of a step reading in and writing out; the
// node's constants count when the step is the node itself (not a layout
// change or copy planned while building it).
func (c *compiler) bytesMoved(in, out []int, node bool) int64 {
	var b int64
	for _, ids := range [][]int{in, out} {
		for _, id := range ids {
			v := &c.p.vals[id]
			if v.isConst {
				continue
			}
			if v.dtype == model.Int8 {
				b += int64(v.size)
			} else {
				b += 4 * int64(v.size)
			}
		}
	}
	if node {
		for _, name := range c.node.Inputs {
			if t, ok := c.m.Initializer(name); ok {
				b += int64(len(t.Data))
			}
		}
	}
	return b
}

func (c *compiler) addStep(bi int, l backend.Lowered, info LayerInfo, in, out []int, inplace int) {
	info.Kernel, info.Tier, info.Backend = l.Name, l.Tier, c.p.bes[bi].Name()
	info.Bytes = c.bytesMoved(in, out, c.node != nil && info.Name == c.node.Name && info.Op == c.node.Op)
	c.p.steps = append(c.p.steps, l.Kernel)
	c.p.stepBe = append(c.p.stepBe, uint8(bi))
	c.p.layers = append(c.p.layers, info)
	c.stepIn = append(c.stepIn, in)
	c.stepOut = append(c.stepOut, out)
	c.inplace = append(c.inplace, inplace)
	for _, id := range out {
		c.p.vals[id].def = len(c.p.steps) - 1 // a conversion may have been planned since the output was declared
		c.p.vals[id].on = c.memOf(bi)
	}
}

// planMemory lays the runtime values out in one arena. A value is live from
// the step that defines it to its last reader (graph inputs and outputs for
// the whole run); an element-wise step may write output 0 into its dying
// input's storage, so the two share a buffer. The buffers are then placed
// (placeBySize, or placeInOrder for very many of them): buffers live at
// the same step never overlap, and each starts on a 64-byte boundary
// relative to the arena (its size is padded to 16 floats).
func (c *compiler) planMemory() {
	p := c.p
	nsteps := len(p.steps)
	for si, ins := range c.stepIn {
		for _, id := range ins {
			p.vals[id].last = max(p.vals[id].last, si)
		}
	}
	for _, id := range p.outputs {
		p.vals[id].last = nsteps
	}
	for _, id := range p.inputs {
		p.vals[id].last = max(p.vals[id].last, nsteps) // the caller's data stays inspectable
	}
	var bufs []arenaBuf
	newBuf := func(id, first int) {
		v := &p.vals[id]
		v.buf = len(bufs)
		bufs = append(bufs, arenaBuf{size: (v.slots() + 15) &^ 15, first: first, last: max(v.last, first)})
	}
	for _, id := range p.inputs {
		newBuf(id, -1)
	}
	for si := 0; si < nsteps; si++ {
		for k, id := range c.stepOut[si] {
			v := &p.vals[id]
			if k == 0 && c.inplace[si] >= 0 {
				src := &p.vals[c.inplace[si]]
				if !src.isConst && src.last == si && src.size == v.size && src.dtype == v.dtype && src.buf >= 0 {
					v.buf = src.buf
					bufs[v.buf].last = max(v.last, si)
					continue
				}
			}
			newBuf(id, si)
		}
	}
	if len(bufs) <= placeBySizeMax {
		p.bufOff, p.arenaSize = placeBySize(bufs)
	} else {
		p.bufOff, p.arenaSize = placeInOrder(bufs)
	}
}

// arenaBuf is one buffer of the arena: size floats (padded), live from
// step first to step last.
type arenaBuf struct{ size, first, last int }

// placeBySizeMax bounds the buffers placeBySize places, whose time grows
// with their square (2048: about 10 ms; ResNet18 has 25, EfficientNet-B0
// 101); a variable for tests.
var placeBySizeMax = 2048

// placeBySize places the largest buffer first, each at the lowest offset
// where it overlaps no buffer already placed that is live at the same
// time (TensorFlow Lite's greedy-by-size arena planner). It comes close to
// the most data live at any one step (it equals it for the torchvision
// models), where placing in order of definition leaves holes: MobileNetV2
// 6.6 MB against 7.4.
func placeBySize(bufs []arenaBuf) (off []int, size int) {
	order := make([]int, len(bufs))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return bufs[b].size - bufs[a].size })
	off = make([]int, len(bufs))
	type span struct{ lo, hi int }
	var busy []span
	for i, b := range order {
		busy = busy[:0]
		for _, o := range order[:i] {
			if bufs[o].first <= bufs[b].last && bufs[b].first <= bufs[o].last {
				busy = append(busy, span{off[o], off[o] + bufs[o].size})
			}
		}
		slices.SortFunc(busy, func(x, y span) int { return x.lo - y.lo })
		at := 0
		for _, sp := range busy {
			if sp.lo >= at+bufs[b].size {
				break
			}
			at = max(at, sp.hi)
		}
		off[b] = at
		size = max(size, at+bufs[b].size)
	}
	return off, size
}

// placeInOrder places buffers in order of definition, each in the lowest
// free span that holds it once the buffers dead before its step are freed
// (first fit, freed spans merged). Its time is the buffers times the free
// spans, which stay few unless very many values are live at once.
func placeInOrder(bufs []arenaBuf) (off []int, size int) {
	type span struct{ lo, hi int }
	var free []span // sorted, disjoint, none touching top
	top := 0
	byLast := make([]int, len(bufs))
	for i := range byLast {
		byLast[i] = i
	}
	slices.SortStableFunc(byLast, func(a, b int) int { return bufs[a].last - bufs[b].last })
	off = make([]int, len(bufs))
	dead := 0
	for b := range bufs { // buffers are made in order of definition
		for ; dead < len(byLast) && bufs[byLast[dead]].last < bufs[b].first; dead++ {
			d := byLast[dead]
			s := span{off[d], off[d] + bufs[d].size}
			i, _ := slices.BinarySearchFunc(free, s.lo, func(x span, lo int) int { return x.lo - lo })
			if i > 0 && free[i-1].hi == s.lo {
				i--
				s.lo = free[i].lo
				free = slices.Delete(free, i, i+1)
			}
			if i < len(free) && free[i].lo == s.hi {
				s.hi = free[i].hi
				free = slices.Delete(free, i, i+1)
			}
			if s.hi == top {
				top = s.lo
			} else {
				free = slices.Insert(free, i, s)
			}
		}
		need, at := bufs[b].size, -1
		for i, s := range free {
			if s.hi-s.lo >= need {
				at = s.lo
				if free[i].lo += need; free[i].lo == free[i].hi {
					free = slices.Delete(free, i, i+1)
				}
				break
			}
		}
		if at < 0 {
			at, top = top, top+need
		}
		off[b] = at
		size = max(size, at+need)
	}
	return off, size
}

// workPerThread is the work (FLOPs, or elements moved) below which waking
// one more worker costs more than it saves. A variable so tests can force
// every step onto every worker.
var workPerThread int64 = 1 << 17

// planParallelism caps each step's workers by its work, so tiny layers run
// on the calling goroutine alone. It never changes results.
func (c *compiler) planParallelism() {
	p := c.p
	p.par = make([]int, len(p.steps))
	unit := workPerThread
	if c.tier != kernels.Generic && unit > 1 {
		unit *= 8 // SIMD tiers finish the same work about ten times sooner
	}
	for i := range p.steps {
		work := p.layers[i].FLOPs
		for _, id := range c.stepOut[i] {
			work = max(work, int64(p.vals[id].size))
		}
		p.par[i] = int(max(1, min(int64(c.threads), work/unit)))
	}
}

// activation parses a fused activation ("activation", "activation_params").
func (c *compiler) activation() (kernels.Act, error) {
	a, ok := c.node.Attr("activation")
	if !ok || a.String == "" {
		return kernels.Act{}, nil
	}
	params, _ := c.node.Attr("activation_params")
	return actFrom(a.String, params.Floats, c)
}

func actFrom(name string, params []float32, c *compiler) (kernels.Act, error) {
	param := func(i int, def float32) float32 {
		if i < len(params) {
			return params[i]
		}
		return def
	}
	inf := float32(math.Inf(1))
	switch name {
	case model.ActRelu:
		return kernels.Act{Kind: kernels.ActClamp, A: 0, B: inf}, nil
	case model.ActClip:
		return kernels.Act{Kind: kernels.ActClamp, A: param(0, -inf), B: param(1, inf)}, nil
	case model.ActLeakyRelu:
		return kernels.Act{Kind: kernels.ActLeakyRelu, A: param(0, 0.01)}, nil
	case model.ActSigmoid:
		return kernels.Act{Kind: kernels.ActSigmoid}, nil
	case model.ActHardSigmoid:
		return kernels.Act{Kind: kernels.ActHardSigmoid, A: param(0, 0.2), B: param(1, 0.5)}, nil
	case model.ActHardSwish:
		return kernels.Act{Kind: kernels.ActHardSwish}, nil
	case model.ActSiLU:
		return kernels.Act{Kind: kernels.ActSiLU}, nil
	}
	return kernels.Act{}, c.errf(ErrUnsupported, "unknown fused activation %q", name)
}

func (c *compiler) attrInt(name string, def int64) int64 {
	if a, ok := c.node.Attr(name); ok {
		return a.Int
	}
	return def
}

func (c *compiler) attrFloat(name string, def float32) float32 {
	if a, ok := c.node.Attr(name); ok {
		return a.Float
	}
	return def
}

func (c *compiler) attrInts(name string) ([]int64, bool) {
	a, ok := c.node.Attr(name)
	return a.Ints, ok
}

func (c *compiler) attrString(name, def string) string {
	if a, ok := c.node.Attr(name); ok {
		return a.String
	}
	return def
}

// normAxis maps a possibly negative axis into [0, rank).
func (c *compiler) normAxis(axis int64, rank int) (int, error) {
	if axis < 0 {
		axis += int64(rank)
	}
	if axis < 0 || axis >= int64(rank) {
		return 0, c.errf(ErrShape, "axis %d out of range for rank %d", axis, rank)
	}
	return int(axis), nil
}

// nchwToNHWC and nhwcToNCHW convert rank-4 tensors of logical shape
// [N,C,H,W] between the two layouts.
func nchwToNHWC(src, dst []float32, shape []int) {
	transposeImages(src, dst, shape[0], shape[1], shape[2]*shape[3])
}

func nhwcToNCHW(src, dst []float32, shape []int) {
	transposeImages(src, dst, shape[0], shape[2]*shape[3], shape[1])
}

// transposeImages transposes each of n rows×cols matrices of src into dst.
func transposeImages(src, dst []float32, n, rows, cols int) {
	sz := rows * cols
	for i := 0; i < n; i++ {
		s, d := src[i*sz:(i+1)*sz], dst[i*sz:(i+1)*sz]
		for r := 0; r < rows; r++ {
			for c, x := range s[r*cols : (r+1)*cols] {
				d[c*rows+r] = x
			}
		}
	}
}
