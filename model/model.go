package model

import (
	"crypto/sha256"
	"encoding/hex"
	"math"
	"math/bits"
	"strconv"
)

// New validates meta and g and returns the model they describe, with its
// fingerprint computed. The model takes ownership of every slice and map in
// meta and g (tensor data is not copied); neither may be modified afterwards.
//
// The graph rules: at least one graph output; every name (graph input,
// initializer, node output) defined once; every node input empty (an omitted
// optional input) or defined by a graph input, an initializer or an earlier
// node; every graph output defined; initializer dims >= 1 (a scalar has
// rank 0), graph input/output dims >= 1 or -1 (dynamic); initializer data
// exactly elements × dtype size bytes of a known dtype; attribute kinds known
// and names unique per node; all caps (Max*) respected. The metadata rules:
// InputLayout "", "NCHW" or "NHWC"; ChannelOrder "", "RGB" or "BGR"; Mean
// finite and Std finite and > 0, of equal length when both are given, and
// matching the channel dimension of the first graph input when that is known;
// OutputName empty or a graph output; 0 <= OutputSize <= MaxOutputSize.
//
// Errors wrap ErrInvalidGraph or ErrInvalidMetadata.
func New(meta Metadata, g Graph) (*Model, error) {
	m := &Model{Meta: meta, Graph: g}
	if err := m.init(0); err != nil {
		return nil, err
	}
	return m, nil
}

// init validates the model and derives everything New and Decode cache: the
// encoded sections, the initializer index and the fingerprint.
func (m *Model) init(graphSizeHint int) error {
	if err := validateGraph(&m.Graph); err != nil {
		return err
	}
	if err := validateMeta(&m.Meta, &m.Graph); err != nil {
		return err
	}
	m.metaSec = encodeMeta(&m.Meta)
	if len(m.metaSec) > MaxMetaSection {
		return errf(ErrInvalidMetadata, "encoded metadata is %d bytes, limit %d", len(m.metaSec), MaxMetaSection)
	}
	m.graphSec, m.dataLen = encodeGraph(&m.Graph, graphSizeHint)
	if len(m.graphSec) > MaxGraphSection {
		return errf(ErrInvalidGraph, "encoded graph is %d bytes, limit %d", len(m.graphSec), MaxGraphSection)
	}
	m.inits = make(map[string]int, len(m.Graph.Initializers))
	for i := range m.Graph.Initializers {
		m.inits[m.Graph.Initializers[i].Name] = i
	}
	m.fingerprint = fingerprint(&m.Meta, m.graphSec, m.dataLen, m.Graph.Initializers)
	m.ready = true
	return nil
}

const fingerprintDomain = "signet model fingerprint v1\x00"

// fingerprint hashes what decides the meaning of an embedding; FORMAT.md
// lists the exact byte sequence.
func fingerprint(meta *Metadata, graphSec []byte, dataLen uint64, ts []Tensor) [32]byte {
	var e enc
	e.b = append(e.b, fingerprintDomain...)
	e.str(meta.InputLayout)
	e.str(meta.ChannelOrder)
	e.f32s(meta.Mean)
	e.f32s(meta.Std)
	e.str(meta.OutputName)
	e.u64(uint64(len(graphSec)))
	h := sha256.New()
	h.Write(e.b)
	h.Write(graphSec)
	e.b = e.b[:0]
	e.u64(dataLen)
	h.Write(e.b)
	_ = writeData(h, ts) // hash.Hash never fails
	var sum [32]byte
	h.Sum(sum[:0])
	return sum
}

// Fingerprint returns the SHA-256 identifying the model's behaviour: two
// models with equal fingerprints map every input to the same output. It
// covers, in this order: a domain string, the preprocessing metadata
// (InputLayout, ChannelOrder, Mean, Std, OutputName), the encoded graph
// section (inputs, outputs, tensor table, nodes with attributes) and the
// data section (all tensor bytes with their alignment padding). It does not
// cover Name, OutputSize, L2Normalized, SourceSHA256, ConverterVersion or
// Extra, which describe the model without changing what it computes, so
// renaming a model or editing its model card keeps its fingerprint and
// galleries built with it stay valid. See FORMAT.md for the byte sequence.
func (m *Model) Fingerprint() [32]byte { return m.fingerprint }

// FingerprintHex returns Fingerprint as 64 lowercase hex digits.
func (m *Model) FingerprintHex() string { return hex.EncodeToString(m.fingerprint[:]) }

// Initializer returns the initializer with the given name. The tensor is
// shared with the model and must not be modified.
func (m *Model) Initializer(name string) (*Tensor, bool) {
	i, ok := m.inits[name]
	if !ok {
		return nil, false
	}
	return &m.Graph.Initializers[i], true
}

// Close releases the file mapping of a model returned by Open; after it the
// model's tensor data must not be touched (on most systems reading it
// faults). Close is a no-op for models from New or Decode. Call it once, when
// no goroutine uses the model any more; later calls return nil.
func (m *Model) Close() error {
	if m == nil || m.closer == nil {
		return nil
	}
	c := m.closer
	m.closer = nil
	return c()
}

// checkValue checks the name and shape of graph input, initializer or graph
// output index; dynamicOK admits -1 dimensions.
func checkValue(what string, index int, name string, shape []int64, dynamicOK bool) error {
	if name == "" {
		return errf(ErrInvalidGraph, "%s %d has an empty name", what, index)
	}
	if len(name) > MaxNameLen {
		return errf(ErrInvalidGraph, "%s %d: name is %d bytes, limit %d", what, index, len(name), MaxNameLen)
	}
	if len(shape) > MaxRank {
		return errf(ErrInvalidGraph, "%s %q: rank %d exceeds limit %d", what, name, len(shape), MaxRank)
	}
	for i, d := range shape {
		if d >= 1 || (dynamicOK && d == -1) {
			continue
		}
		allowed := ">= 1"
		if dynamicOK {
			allowed = ">= 1 or -1"
		}
		return errf(ErrInvalidGraph, "%s %q: dimension %d is %d, must be %s", what, name, i, d, allowed)
	}
	return nil
}

func validateGraph(g *Graph) error {
	switch {
	case len(g.Inputs) > MaxValues:
		return errf(ErrInvalidGraph, "%d graph inputs, limit %d", len(g.Inputs), MaxValues)
	case len(g.Outputs) > MaxValues:
		return errf(ErrInvalidGraph, "%d graph outputs, limit %d", len(g.Outputs), MaxValues)
	case len(g.Outputs) == 0:
		return errf(ErrInvalidGraph, "graph has no outputs")
	case len(g.Initializers) > MaxTensors:
		return errf(ErrInvalidGraph, "%d initializers, limit %d", len(g.Initializers), MaxTensors)
	case len(g.Nodes) > MaxNodes:
		return errf(ErrInvalidGraph, "%d nodes, limit %d", len(g.Nodes), MaxNodes)
	}
	// defined maps a value name to its producer: byInput, byInitializer or
	// a node index.
	const byInput, byInitializer = -1, -2
	producer := func(by int) string {
		switch by {
		case byInput:
			return "graph input"
		case byInitializer:
			return "initializer"
		}
		return nodeWhere(by, &g.Nodes[by])
	}
	defined := make(map[string]int, len(g.Inputs)+len(g.Initializers)+len(g.Nodes))
	define := func(name string, by int) error {
		if prev, dup := defined[name]; dup {
			return errf(ErrInvalidGraph, "value %q defined twice: by %s and by %s", name, producer(prev), producer(by))
		}
		defined[name] = by
		return nil
	}
	for i := range g.Inputs {
		v := &g.Inputs[i]
		if err := checkValue("graph input", i, v.Name, v.Shape, true); err != nil {
			return err
		}
		if err := define(v.Name, byInput); err != nil {
			return err
		}
	}
	for i := range g.Initializers {
		t := &g.Initializers[i]
		if err := checkValue("initializer", i, t.Name, t.Shape, false); err != nil {
			return err
		}
		size := t.DType.Size()
		if size == 0 {
			return errf(ErrInvalidGraph, "initializer %q: unknown dtype %d", t.Name, uint8(t.DType))
		}
		n := uint64(1)
		for _, d := range t.Shape {
			hi, lo := bits.Mul64(n, uint64(d))
			if hi != 0 || lo > math.MaxInt64 {
				return errf(ErrInvalidGraph, "initializer %q: element count of shape %v overflows", t.Name, t.Shape)
			}
			n = lo
		}
		hi, want := bits.Mul64(n, uint64(size))
		if hi != 0 || want != uint64(len(t.Data)) {
			return errf(ErrInvalidGraph, "initializer %q: %s %v needs %d elements × %d bytes, data has %d bytes",
				t.Name, t.DType, t.Shape, n, size, len(t.Data))
		}
		if err := define(t.Name, byInitializer); err != nil {
			return err
		}
	}
	for i := range g.Nodes {
		n := &g.Nodes[i]
		if n.Op == "" {
			return errf(ErrInvalidGraph, "node %d %q: empty op", i, n.Name)
		}
		switch {
		case len(n.Op) > MaxNameLen || len(n.Name) > MaxNameLen:
			return errf(ErrInvalidGraph, "node %d: op or name longer than %d bytes", i, MaxNameLen)
		case len(n.Inputs) > MaxNodeIO || len(n.Outputs) > MaxNodeIO:
			return errf(ErrInvalidGraph, "%s: %d inputs, %d outputs, limit %d each", nodeWhere(i, n), len(n.Inputs), len(n.Outputs), MaxNodeIO)
		case len(n.Attrs) > MaxAttrs:
			return errf(ErrInvalidGraph, "%s: %d attributes, limit %d", nodeWhere(i, n), len(n.Attrs), MaxAttrs)
		}
		for _, in := range n.Inputs {
			if in == "" {
				continue
			}
			if _, ok := defined[in]; !ok {
				return errf(ErrInvalidGraph, "%s: input %q is not defined by a graph input, an initializer or an earlier node", nodeWhere(i, n), in)
			}
		}
		for j, a := range n.Attrs {
			if a.Name == "" || len(a.Name) > MaxNameLen {
				return errf(ErrInvalidGraph, "%s: attribute %d: name must be 1 to %d bytes", nodeWhere(i, n), j, MaxNameLen)
			}
			for _, b := range n.Attrs[:j] {
				if b.Name == a.Name {
					return errf(ErrInvalidGraph, "%s: attribute %q given twice", nodeWhere(i, n), a.Name)
				}
			}
			switch a.Kind {
			case AttrInt, AttrFloat:
			case AttrInts, AttrFloats:
				if len(a.Ints) > MaxAttrElems || len(a.Floats) > MaxAttrElems {
					return errf(ErrInvalidGraph, "%s: attribute %q has more than %d elements", nodeWhere(i, n), a.Name, MaxAttrElems)
				}
			case AttrString:
				if len(a.String) > MaxTextLen {
					return errf(ErrInvalidGraph, "%s: attribute %q is %d bytes, limit %d", nodeWhere(i, n), a.Name, len(a.String), MaxTextLen)
				}
			default:
				return errf(ErrInvalidGraph, "%s: attribute %q has unknown kind %d", nodeWhere(i, n), a.Name, uint8(a.Kind))
			}
		}
		for _, out := range n.Outputs {
			if out == "" {
				continue // an omitted optional output
			}
			if len(out) > MaxNameLen {
				return errf(ErrInvalidGraph, "%s: output name is %d bytes, limit %d", nodeWhere(i, n), len(out), MaxNameLen)
			}
			if err := define(out, i); err != nil {
				return err
			}
		}
	}
	seen := make(map[string]bool, len(g.Outputs))
	for i := range g.Outputs {
		v := &g.Outputs[i]
		if err := checkValue("graph output", i, v.Name, v.Shape, true); err != nil {
			return err
		}
		if seen[v.Name] {
			return errf(ErrInvalidGraph, "graph output %q listed twice", v.Name)
		}
		seen[v.Name] = true
		if _, ok := defined[v.Name]; !ok {
			return errf(ErrInvalidGraph, "graph output %q is not defined by any graph input, initializer or node", v.Name)
		}
	}
	return nil
}

func validateMeta(m *Metadata, g *Graph) error {
	for _, s := range []struct{ what, v string }{
		{"name", m.Name}, {"input layout", m.InputLayout}, {"channel order", m.ChannelOrder},
		{"output name", m.OutputName}, {"converter version", m.ConverterVersion},
	} {
		if len(s.v) > MaxTextLen {
			return errf(ErrInvalidMetadata, "%s is %d bytes, limit %d", s.what, len(s.v), MaxTextLen)
		}
	}
	switch m.InputLayout {
	case "", "NCHW", "NHWC":
	default:
		return errf(ErrInvalidMetadata, "input layout %q: want NCHW, NHWC or empty", m.InputLayout)
	}
	switch m.ChannelOrder {
	case "", "RGB", "BGR":
	default:
		return errf(ErrInvalidMetadata, "channel order %q: want RGB, BGR or empty", m.ChannelOrder)
	}
	if len(m.Mean) > MaxChannels || len(m.Std) > MaxChannels {
		return errf(ErrInvalidMetadata, "mean/std have %d/%d entries, limit %d", len(m.Mean), len(m.Std), MaxChannels)
	}
	for i, v := range m.Mean {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return errf(ErrInvalidMetadata, "mean[%d] is %v", i, v)
		}
	}
	for i, v := range m.Std {
		if !(v > 0) || math.IsInf(float64(v), 0) {
			return errf(ErrInvalidMetadata, "std[%d] is %v, must be finite and > 0", i, v)
		}
	}
	if len(m.Mean) > 0 && len(m.Std) > 0 && len(m.Mean) != len(m.Std) {
		return errf(ErrInvalidMetadata, "mean has %d entries, std %d", len(m.Mean), len(m.Std))
	}
	if c := channels(m.InputLayout, g); c > 0 {
		for _, s := range []struct {
			what string
			n    int
		}{{"mean", len(m.Mean)}, {"std", len(m.Std)}} {
			if s.n != 0 && int64(s.n) != c {
				return errf(ErrInvalidMetadata, "%s has %d entries, input %q has %d channels", s.what, s.n, g.Inputs[0].Name, c)
			}
		}
	}
	if m.OutputName != "" {
		found := false
		for _, v := range g.Outputs {
			found = found || v.Name == m.OutputName
		}
		if !found {
			return errf(ErrInvalidMetadata, "output name %q is not a graph output", m.OutputName)
		}
	}
	if m.OutputSize < 0 || m.OutputSize > MaxOutputSize {
		return errf(ErrInvalidMetadata, "output size %d outside [0, %d]", m.OutputSize, MaxOutputSize)
	}
	if len(m.Extra) > MaxExtra {
		return errf(ErrInvalidMetadata, "%d extra entries, limit %d", len(m.Extra), MaxExtra)
	}
	for k, v := range m.Extra {
		if k == "" || len(k) > MaxNameLen {
			return errf(ErrInvalidMetadata, "extra key %q: must be 1 to %d bytes", k, MaxNameLen)
		}
		if len(v) > MaxTextLen {
			return errf(ErrInvalidMetadata, "extra %q: value is %d bytes, limit %d", k, len(v), MaxTextLen)
		}
	}
	return nil
}

// channels returns the channel dimension of the first graph input when the
// layout says where it is and the shape fixes it, else 0.
func channels(layout string, g *Graph) int64 {
	if len(g.Inputs) == 0 || len(g.Inputs[0].Shape) != 4 {
		return 0
	}
	var c int64
	switch layout {
	case "NCHW":
		c = g.Inputs[0].Shape[1]
	case "NHWC":
		c = g.Inputs[0].Shape[3]
	}
	if c < 1 {
		return 0
	}
	return c
}

// nodeWhere names a node in error messages; it is built only on failure so
// that validating a large graph does not allocate per node.
func nodeWhere(i int, n *Node) string {
	return "node " + strconv.Itoa(i) + " " + strconv.Quote(n.Name) + " (" + n.Op + ")"
}
