package onnx

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/signet-go/signet/internal/shape"
	"github.com/signet-go/signet/model"
)

// Version is the converter's version, recorded in every model it writes.
const Version = "0.1.0"

// Sentinel errors. Every error Convert and ReadTensor return wraps one of them.
var (
	// ErrMalformed: the bytes are not a well-formed ONNX model or tensor, or
	// the graph contradicts itself (undefined inputs, shape mismatches).
	ErrMalformed = errors.New("onnx: malformed")
	// ErrUnsupported: a well-formed model uses something signet cannot run
	// exactly; the message names the operator, node and opset.
	ErrUnsupported = errors.New("onnx: unsupported")
	// ErrOptions: the Options do not fit the model (a constant bound to a
	// name that is not an input, an input shape of the wrong rank, ...).
	ErrOptions = errors.New("onnx: invalid options")
	// ErrTooLarge: a tensor or shape exceeds the converter's limits (more
	// than 2³¹-1 elements, more than model.MaxRank dimensions), or constant
	// folding would exceed its memory budget (see maxFoldBytes). It wraps
	// ErrUnsupported.
	ErrTooLarge = fmt.Errorf("%w: exceeds a size limit", ErrUnsupported)
	// ErrZeroSize: a graph input or a value the model computes has a
	// dimension of size 0, which the engine does not run. It wraps
	// ErrUnsupported.
	ErrZeroSize = fmt.Errorf("%w: zero-size tensor", ErrUnsupported)
)

// Options control a conversion.
type Options struct {
	// Name is the model name recorded in the metadata (default: the ONNX
	// graph name, else "model").
	Name string
	// Mean and Std are the per-channel input normalisation, applied after
	// scaling pixels to [0,1]. Empty means none.
	Mean, Std []float32
	// ChannelOrder is "RGB" (default) or "BGR".
	ChannelOrder string
	// Constants binds graph inputs to constant values: they become
	// initializers and stop being inputs. Conformance tests use it for
	// operands (Conv weights, Gemm B) that ONNX tests feed as inputs.
	Constants map[string]model.Tensor
	// InputShape overrides the shape of the first graph input that is not
	// bound to a constant. It may only fill dynamic dimensions; by default a
	// dynamic leading (batch) dimension becomes 1.
	InputShape []int64
	// Extra is copied into the metadata's Extra map (after the converter's
	// own keys, which it may override).
	Extra map[string]string
}

// Report says what a conversion did; the CLI prints it.
type Report struct {
	Opset           int64
	Producer        string
	SourceNodes     int // nodes in the ONNX graph
	Nodes           int // nodes in the native graph
	Folded          int // ONNX nodes evaluated at conversion time
	BatchNormFolded int
	ActivationFused int
	SiLU            int
	L2Normalize     int
	GELU            int // x·0.5·(1+erf(x/√2)) patterns made one GELU
	PadFolded       int // Pad nodes folded into the Conv or pool they feed
	LayerNorm       int // layer_norm patterns made one LayerNormalization
	Removed         int // Identity, Dropout and no-op nodes removed
	Dead            int // nodes removed as unused
	OpsBefore       map[string]int
	OpsAfter        map[string]int
	// work counts elementary steps (node visits, consumer rewrites, fold
	// loop iterations), so that tests can check that a conversion's cost
	// grows linearly; foldBytes is what constant folding charged to its
	// budget.
	work, foldBytes int64
}

// Convert converts a serialized ONNX ModelProto into a validated native model.
func Convert(data []byte, opts Options) (*model.Model, error) {
	m, _, err := ConvertReport(data, opts)
	return m, err
}

// ConvertFile reads the ONNX file at path and converts it; an empty
// opts.Name becomes DefaultName(path).
func ConvertFile(path string, opts Options) (*model.Model, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if opts.Name == "" {
		opts.Name = DefaultName(path)
	}
	return Convert(data, opts)
}

// ConvertReport is Convert that also reports what the passes did.
func ConvertReport(data []byte, opts Options) (*model.Model, *Report, error) {
	m, rep, err := convert(data, opts)
	if err != nil {
		return nil, nil, err
	}
	return m, rep, nil
}

// convert is ConvertReport, except that the report, when there is one, also
// comes with an error: tests read how much work and folding a refused
// model cost.
func convert(data []byte, opts Options) (*model.Model, *Report, error) {
	g, meta, rep, err := convertGraph(data, opts)
	if err != nil {
		return nil, rep, err
	}
	m, err := model.New(meta, g)
	if err != nil {
		// Limits of the native format (name lengths, ranks) the ONNX
		// model exceeds; the model package's error says which.
		return nil, rep, fmt.Errorf("%w: converted graph rejected: %w", ErrUnsupported, err)
	}
	return m, rep, nil
}

// DefaultName derives a model name from a file path ("models/resnet18.onnx"
// → "resnet18"), for callers that convert files.
func DefaultName(path string) string {
	base := filepath.Base(path)
	return strings.TrimSuffix(base, filepath.Ext(base))
}

// conv holds the state of one conversion.
type conv struct {
	opts   Options
	opset  int64
	consts map[string]*cval
	shapes map[string][]int64 // value → shape (-1 = unknown dim); absent = unknown rank
	// runtime marks values computed when the model runs (graph inputs and
	// outputs of emitted nodes), as opposed to constants.
	runtime map[string]bool
	// poisoned marks outputs signet does not compute (MaxPool indices,
	// Dropout mask, BatchNormalization training statistics), with the reason.
	poisoned map[string]poison
	names    map[string]bool // every value name defined so far
	reserved map[string]bool // every node output name of the ONNX graph
	suffix   map[string]int  // fresh: last numeric suffix used per base name
	outSet   map[string]bool // the graph outputs
	// foldBudget is what constant folding may still allocate, in bytes,
	// of foldTotal (see maxFoldBytes).
	foldBudget, foldTotal int64
	nodes                 []*gnode
	inputs                []model.Value
	outputs               []string
	rep                   Report
	q                     *quantConv // QDQ (ops_quant.go), made on first use
}

// gnode is a node of the native graph under construction.
type gnode struct {
	op      string
	name    string
	inputs  []string
	outputs []string
	attrs   []model.Attr
	dead    bool
}

func (n *gnode) attr(name string) (model.Attr, bool) {
	for _, a := range n.attrs {
		if a.Name == name {
			return a, true
		}
	}
	return model.Attr{}, false
}

func (n *gnode) setAttr(a model.Attr) {
	for i := range n.attrs {
		if n.attrs[i].Name == a.Name {
			n.attrs[i] = a
			return
		}
	}
	n.attrs = append(n.attrs, a)
}

func intAttr(name string, v int64) model.Attr {
	return model.Attr{Name: name, Kind: model.AttrInt, Int: v}
}
func floatAttr(name string, v float32) model.Attr {
	return model.Attr{Name: name, Kind: model.AttrFloat, Float: v}
}
func intsAttr(name string, v []int64) model.Attr {
	return model.Attr{Name: name, Kind: model.AttrInts, Ints: append([]int64{}, v...)}
}
func floatsAttr(name string, v []float32) model.Attr {
	return model.Attr{Name: name, Kind: model.AttrFloats, Floats: append([]float32{}, v...)}
}
func stringAttr(name, v string) model.Attr {
	return model.Attr{Name: name, Kind: model.AttrString, String: v}
}

// fresh returns an unused value name derived from base.
// The next suffix to try is remembered per base, so that many nodes sharing
// a name cost linear, not quadratic, time.
func (c *conv) fresh(base string) string {
	name := base
	k := c.suffix[base]
	for c.names[name] || c.reserved[name] {
		k++
		name = base + "_" + strconv.Itoa(k)
	}
	c.suffix[base] = k
	c.names[name] = true
	return name
}

// addConst registers a constant under a fresh name derived from base.
func (c *conv) addConst(base string, v *cval) string {
	name := c.fresh(base)
	c.consts[name] = v
	c.shapes[name] = v.shape
	return name
}

func convertGraph(data []byte, opts Options) (model.Graph, model.Metadata, *Report, error) {
	var g model.Graph
	var meta model.Metadata
	mp, err := parseModel(data)
	if err != nil {
		return g, meta, nil, err
	}
	if mp.graph == nil {
		return g, meta, nil, fmt.Errorf("%w: model has no graph", ErrMalformed)
	}
	opset, err := defaultOpset(mp.opsets)
	if err != nil {
		return g, meta, nil, err
	}
	if len(opts.Mean) > 0 && len(opts.Std) > 0 && len(opts.Mean) != len(opts.Std) {
		return g, meta, nil, fmt.Errorf("%w: %d mean values, %d std values", ErrOptions, len(opts.Mean), len(opts.Std))
	}
	for _, s := range opts.Std {
		if !(s > 0) {
			return g, meta, nil, fmt.Errorf("%w: std %v (must be > 0)", ErrOptions, opts.Std)
		}
	}
	switch opts.ChannelOrder {
	case "", "RGB", "BGR":
	default:
		return g, meta, nil, fmt.Errorf("%w: channel order %q (want RGB or BGR)", ErrOptions, opts.ChannelOrder)
	}
	if len(mp.graph.nodes) > model.MaxNodes {
		return g, meta, nil, fmt.Errorf("%w: %d nodes (limit %d)", ErrUnsupported, len(mp.graph.nodes), model.MaxNodes)
	}
	// Sized for the values the graph defines: growing maps of 10⁵ entries
	// dominates the conversion time otherwise.
	nv := len(mp.graph.inits) + len(mp.graph.inputs)
	for i := range mp.graph.nodes {
		nv += len(mp.graph.nodes[i].outputs)
	}
	c := &conv{
		opts:     opts,
		opset:    opset,
		consts:   map[string]*cval{},
		shapes:   make(map[string][]int64, nv),
		runtime:  make(map[string]bool, nv),
		poisoned: map[string]poison{},
		names:    make(map[string]bool, nv),
		reserved: make(map[string]bool, nv),
		suffix:   map[string]int{},
		outSet:   map[string]bool{},
	}
	c.foldTotal = maxFoldBytes + 8*int64(len(data))
	c.foldBudget = c.foldTotal
	for _, n := range mp.graph.nodes {
		for _, o := range n.outputs {
			c.reserved[o] = true
		}
	}
	c.rep.Opset = opset
	c.rep.Producer = strings.TrimSpace(mp.producerName + " " + mp.producerVersion)
	c.rep.SourceNodes = len(mp.graph.nodes)
	c.rep.OpsBefore = map[string]int{}
	for _, n := range mp.graph.nodes {
		c.rep.OpsBefore[n.opType]++
	}
	if err := c.load(mp.graph); err != nil {
		return g, meta, &c.rep, err
	}
	if s := c.inputs[0].Shape; len(s) >= 2 && s[1] > 0 {
		for _, v := range [][]float32{opts.Mean, opts.Std} {
			if len(v) > 0 && int64(len(v)) != s[1] {
				return g, meta, &c.rep, fmt.Errorf("%w: %d normalisation values for an input of %d channels", ErrOptions, len(v), s[1])
			}
		}
	}
	for i := range mp.graph.nodes {
		if err := c.translate(&mp.graph.nodes[i], i); err != nil {
			return g, meta, &c.rep, err
		}
	}
	if err := c.setOutputs(mp.graph); err != nil {
		return g, meta, &c.rep, err
	}
	if err := c.runPasses(); err != nil {
		return g, meta, &c.rep, err
	}
	g, err = c.emit()
	if err != nil {
		return g, meta, &c.rep, err
	}
	meta = c.metadata(mp, g, data)
	c.rep.Nodes = len(g.Nodes)
	c.rep.OpsAfter = map[string]int{}
	for _, n := range g.Nodes {
		c.rep.OpsAfter[n.Op]++
	}
	return g, meta, &c.rep, nil
}

func defaultOpset(ops []opsetID) (int64, error) {
	found := false
	var v int64
	for _, o := range ops {
		if o.domain != "" && o.domain != "ai.onnx" {
			continue
		}
		if found && o.version != v {
			return 0, fmt.Errorf("%w: default domain imported twice (opsets %d and %d)", ErrMalformed, v, o.version)
		}
		found, v = true, o.version
	}
	if !found {
		return 0, fmt.Errorf("%w: no opset import for the default ONNX domain (opset 1); supported: opsets 11 to 17", ErrUnsupported)
	}
	// Opsets below 11 pass here; translate checks that each operator's
	// definition is the same as in opset 11.
	if v < 1 || v > 17 {
		return 0, fmt.Errorf("%w: opset %d; supported: opsets 11 to 17", ErrUnsupported, v)
	}
	return v, nil
}

// load registers initializers, bound constants and graph inputs.
func (c *conv) load(g *graphProto) error {
	if g.sparse > 0 {
		return fmt.Errorf("%w: sparse initializers", ErrUnsupported)
	}
	for i := range g.inits {
		t := &g.inits[i]
		if t.name == "" {
			return fmt.Errorf("%w: initializer %d has no name", ErrMalformed, i)
		}
		if c.names[t.name] {
			return fmt.Errorf("%w: initializer %q defined twice", ErrMalformed, t.name)
		}
		v, err := decodeTensor(t)
		if err != nil {
			return err
		}
		c.names[t.name] = true
		c.consts[t.name] = v
		c.shapes[t.name] = v.shape
	}
	isInput := map[string]bool{}
	for _, vi := range g.inputs {
		isInput[vi.name] = true
	}
	for name := range c.opts.Constants {
		if !isInput[name] {
			return fmt.Errorf("%w: Constants[%q] names no graph input", ErrOptions, name)
		}
	}
	shapeUsed := false
	for _, vi := range g.inputs {
		if vi.name == "" {
			return fmt.Errorf("%w: graph input without a name", ErrMalformed)
		}
		_, isInit := c.consts[vi.name]
		if isInit && c.opts.Constants[vi.name].Data == nil {
			// IR < 4 lists initializers among the inputs; they are
			// constants unless a binding overrides the default.
			continue
		}
		if c.names[vi.name] && !isInit {
			return fmt.Errorf("%w: graph input %q declared twice", ErrMalformed, vi.name)
		}
		c.names[vi.name] = true
		if t, ok := c.opts.Constants[vi.name]; ok {
			v, err := fromModelTensor(t)
			if err != nil {
				return fmt.Errorf("%w: Constants[%q]: %v", ErrOptions, vi.name, err)
			}
			if vi.hasShape && !shapeFits(vi.dims, v.shape) {
				return fmt.Errorf("%w: Constants[%q] has shape %v, input declares %v", ErrOptions, vi.name, v.shape, vi.dims)
			}
			c.consts[vi.name] = v
			c.shapes[vi.name] = v.shape
			continue
		}
		if !vi.isTensor {
			return fmt.Errorf("%w: graph input %q is not a tensor", ErrUnsupported, vi.name)
		}
		if vi.elemType != dtFloat {
			return fmt.Errorf("%w: graph input %q has element type %s; signet computes in float32 (bind it with Options.Constants if it is a constant operand)", ErrUnsupported, vi.name, typeName(vi.elemType))
		}
		var shape []int64
		if vi.hasShape {
			shape = append([]int64{}, vi.dims...)
			if !shapeUsed && c.opts.InputShape != nil {
				if len(c.opts.InputShape) != len(shape) {
					return fmt.Errorf("%w: input shape %v has rank %d, input %q has rank %d", ErrOptions, c.opts.InputShape, len(c.opts.InputShape), vi.name, len(shape))
				}
				for k, d := range c.opts.InputShape {
					if d < 1 || (shape[k] >= 0 && shape[k] != d) {
						return fmt.Errorf("%w: input shape %v does not fit input %q of shape %v", ErrOptions, c.opts.InputShape, vi.name, vi.dims)
					}
					shape[k] = d
				}
			}
			if len(shape) > 0 && shape[0] < 0 {
				shape[0] = 1
			}
			if err := checkShape(shape); err != nil {
				return fmt.Errorf("graph input %q: %w", vi.name, err)
			}
			c.shapes[vi.name] = shape
		} else if !shapeUsed && c.opts.InputShape != nil {
			shape = append([]int64{}, c.opts.InputShape...)
			for _, d := range shape {
				if d < 1 {
					return fmt.Errorf("%w: input shape %v has a dimension below 1", ErrOptions, shape)
				}
			}
			if err := checkShape(shape); err != nil {
				return fmt.Errorf("graph input %q: %w", vi.name, err)
			}
			c.shapes[vi.name] = shape
		}
		shapeUsed = true
		c.runtime[vi.name] = true
		c.inputs = append(c.inputs, model.Value{Name: vi.name, Shape: shape})
	}
	if len(c.inputs) == 0 {
		return fmt.Errorf("%w: graph has no runtime input", ErrUnsupported)
	}
	return nil
}

// shapeFits reports whether a concrete shape matches a declared one whose
// dynamic dimensions are -1.
func shapeFits(decl, got []int64) bool {
	if len(decl) != len(got) {
		return false
	}
	for i, d := range decl {
		if d >= 0 && d != got[i] {
			return false
		}
	}
	return true
}

func fromModelTensor(t model.Tensor) (*cval, error) {
	n, err := numElements(t.Shape)
	if err != nil {
		return nil, err
	}
	if t.DType.Size() == 0 || len(t.Data) != n*t.DType.Size() {
		return nil, fmt.Errorf("%s tensor of shape %v has %d bytes", t.DType, t.Shape, len(t.Data))
	}
	v := &cval{shape: append([]int64{}, t.Shape...)}
	switch t.DType {
	case model.Float32:
		v.onnxType = dtFloat
		v.f = t.Float32s()
	case model.Int64:
		v.onnxType = dtInt64
		v.i = t.Int64s()
	case model.Int32:
		v.onnxType = dtInt32
		v.i = make([]int64, n)
		rawDecode(v, t.Data, 4)
	case model.Int8:
		v.onnxType = dtInt8
		v.i = make([]int64, n)
		rawDecode(v, t.Data, 1)
	}
	return v, nil
}

func (c *conv) setOutputs(g *graphProto) error {
	if len(g.outputs) == 0 {
		return fmt.Errorf("%w: graph has no outputs", ErrMalformed)
	}
	if len(g.outputs) > model.MaxValues {
		return fmt.Errorf("%w: %d graph outputs (limit %d)", ErrUnsupported, len(g.outputs), model.MaxValues)
	}
	seen := map[string]bool{}
	for _, vi := range g.outputs {
		if seen[vi.name] {
			return fmt.Errorf("%w: graph output %q listed twice", ErrUnsupported, vi.name)
		}
		seen[vi.name] = true
		if why, ok := c.poisoned[vi.name]; ok {
			return fmt.Errorf("%w: graph output %q: %s", ErrUnsupported, vi.name, why)
		}
		if _, ok := c.consts[vi.name]; ok {
			return fmt.Errorf("%w: graph output %q is a constant", ErrUnsupported, vi.name)
		}
		if !c.runtime[vi.name] {
			return fmt.Errorf("%w: graph output %q is not computed by any node", ErrMalformed, vi.name)
		}
		if _, ok := c.shapes[vi.name]; !ok && vi.hasShape {
			if err := checkShape(vi.dims); err != nil {
				return fmt.Errorf("graph output %q: %w", vi.name, err)
			}
			c.shapes[vi.name] = vi.dims
		}
		c.outputs = append(c.outputs, vi.name)
		c.outSet[vi.name] = true
	}
	return nil
}

// metadata fills the model metadata from the options and the final graph.
func (c *conv) metadata(mp *modelProto, g model.Graph, src []byte) model.Metadata {
	meta := model.Metadata{
		Name:             c.opts.Name,
		InputLayout:      "NCHW",
		ChannelOrder:     c.opts.ChannelOrder,
		Mean:             append([]float32(nil), c.opts.Mean...),
		Std:              append([]float32(nil), c.opts.Std...),
		SourceSHA256:     sha256.Sum256(src),
		ConverterVersion: "signet-convert " + Version,
		Extra: map[string]string{
			"onnx_opset": strconv.FormatInt(c.opset, 10),
		},
	}
	if meta.Name == "" {
		meta.Name = mp.graph.name
	}
	if meta.Name == "" {
		meta.Name = "model"
	}
	if meta.ChannelOrder == "" {
		meta.ChannelOrder = "RGB"
	}
	if mp.producerName != "" {
		meta.Extra["onnx_producer"] = mp.producerName
	}
	if mp.producerVersion != "" {
		meta.Extra["onnx_producer_version"] = mp.producerVersion
	}
	meta.Extra["onnx_ir_version"] = strconv.FormatInt(mp.irVersion, 10)
	for k, v := range c.opts.Extra {
		meta.Extra[k] = v
	}
	out := g.Outputs[0]
	meta.OutputName = out.Name
	// The values per batch element; 0 when a dimension is unknown.
	size := int64(1)
	if len(out.Shape) > 0 {
		size, _ = shape.Prod64(out.Shape[1:], maxElements)
	}
	meta.OutputSize = int(size)
	meta.L2Normalized = c.endsNormalized(g, out)
	return meta
}

// endsNormalized reports whether the output is L2-normalised over its
// feature axis: produced by L2Normalize or LpNormalization(p=2) over an axis
// that holds every non-batch element.
func (c *conv) endsNormalized(g model.Graph, out model.Value) bool {
	for i := range g.Nodes {
		n := &g.Nodes[i]
		if len(n.Outputs) == 0 || n.Outputs[0] != out.Name {
			continue
		}
		switch n.Op {
		case model.OpL2Normalize:
		case model.OpLpNormalization:
			if p, ok := n.Attr("p"); !ok || p.Int != 2 {
				return false
			}
		default:
			return false
		}
		a, ok := n.Attr("axis")
		if !ok || len(out.Shape) < 2 {
			return false
		}
		axis := a.Int
		if axis < 0 {
			axis += int64(len(out.Shape))
		}
		if axis < 1 || axis >= int64(len(out.Shape)) {
			return false
		}
		for k, d := range out.Shape {
			if k != 0 && int64(k) != axis && d != 1 {
				return false
			}
		}
		return true
	}
	return false
}
