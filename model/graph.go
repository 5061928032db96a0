package model

import (
	"encoding/binary"
	"math"
)

// DType is the element type of a tensor stored in a model file.
type DType uint8

// Element types. The numeric values are part of the file format.
const (
	Float32 DType = 1
	Int64   DType = 2
	Int8    DType = 3
	Int32   DType = 4
)

// Size returns the size in bytes of one element, or 0 for an unknown type.
func (d DType) Size() int {
	switch d {
	case Float32, Int32:
		return 4
	case Int64:
		return 8
	case Int8:
		return 1
	}
	return 0
}

func (d DType) String() string {
	switch d {
	case Float32:
		return "float32"
	case Int64:
		return "int64"
	case Int8:
		return "int8"
	case Int32:
		return "int32"
	}
	return "dtype(" + itoa(int(d)) + ")"
}

// Tensor is a named constant (weights, biases, shape vectors).
// Data holds the elements little-endian; when the model was memory-mapped it
// aliases the mapping, so it must never be written to.
type Tensor struct {
	Name  string
	DType DType
	Shape []int64
	Data  []byte
}

// NumElements returns the product of the tensor's dimensions (1 for a scalar).
func (t *Tensor) NumElements() int64 {
	n := int64(1)
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// Float32s decodes a Float32 tensor into a new slice.
func (t *Tensor) Float32s() []float32 {
	out := make([]float32, len(t.Data)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(t.Data[4*i:]))
	}
	return out
}

// Int64s decodes an Int64 tensor into a new slice.
func (t *Tensor) Int64s() []int64 {
	out := make([]int64, len(t.Data)/8)
	for i := range out {
		out[i] = int64(binary.LittleEndian.Uint64(t.Data[8*i:]))
	}
	return out
}

// NewFloat32Tensor builds a Float32 tensor from values (copied).
func NewFloat32Tensor(name string, shape []int64, values []float32) Tensor {
	b := make([]byte, 4*len(values))
	for i, v := range values {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	return Tensor{Name: name, DType: Float32, Shape: append([]int64(nil), shape...), Data: b}
}

// NewInt64Tensor builds an Int64 tensor from values (copied).
func NewInt64Tensor(name string, shape []int64, values []int64) Tensor {
	b := make([]byte, 8*len(values))
	for i, v := range values {
		binary.LittleEndian.PutUint64(b[8*i:], uint64(v))
	}
	return Tensor{Name: name, DType: Int64, Shape: append([]int64(nil), shape...), Data: b}
}

// AttrKind tells which field of an Attr is set. Values are part of the format.
type AttrKind uint8

const (
	AttrInt    AttrKind = 1
	AttrFloat  AttrKind = 2
	AttrInts   AttrKind = 3
	AttrFloats AttrKind = 4
	AttrString AttrKind = 5
)

// Attr is one node attribute.
type Attr struct {
	Name   string
	Kind   AttrKind
	Int    int64
	Float  float32
	Ints   []int64
	Floats []float32
	String string
}

// Node is one operation. Inputs name graph inputs, initializers or other
// nodes' outputs; an empty input name means an omitted optional input.
type Node struct {
	Op      string
	Name    string
	Inputs  []string
	Outputs []string
	Attrs   []Attr
}

// Attr returns the attribute with the given name.
func (n *Node) Attr(name string) (Attr, bool) {
	for _, a := range n.Attrs {
		if a.Name == name {
			return a, true
		}
	}
	return Attr{}, false
}

// Value describes a graph input or output. A dimension of -1 is dynamic
// (typically the batch).
type Value struct {
	Name  string
	Shape []int64
}

// Graph is a topologically ordered list of nodes over named values.
type Graph struct {
	Inputs       []Value
	Outputs      []Value
	Nodes        []Node
	Initializers []Tensor
}

// Metadata describes how to feed the model and read its output.
type Metadata struct {
	Name string
	// InputLayout is "NCHW" (the only layout the converter emits today).
	InputLayout string
	// ChannelOrder is "RGB" or "BGR": the order of the C dimension.
	ChannelOrder string
	// Pixel values are scaled to [0,1] (divided by 255) before
	// (x - Mean[c]) / Std[c]. Mean and Std are per channel; empty means 0 and 1.
	Mean, Std []float32
	// OutputName names the graph output used as the embedding.
	OutputName string
	// OutputSize is the number of elements of that output per sample.
	OutputSize int
	// L2Normalized says the output already has unit L2 norm.
	L2Normalized bool
	// SourceSHA256 is the SHA-256 of the file the model was converted from.
	SourceSHA256 [32]byte
	// ConverterVersion names the converter that wrote the file.
	ConverterVersion string
	// Extra is free-form metadata (model card fields, class names, ...).
	Extra map[string]string
}

// Model is a loaded, immutable model. It is safe to share between goroutines.
type Model struct {
	Meta  Metadata
	Graph Graph

	fingerprint [32]byte
	closer      func() error // unmaps the file for models from Open
	mapped      []byte       // the file mapping of a model from Open; nil otherwise and after Close

	// Derived by init (New, Decode): the encoded metadata and graph
	// sections, the data section's length and the initializer index.
	ready    bool
	metaSec  []byte
	graphSec []byte
	dataLen  uint64
	inits    map[string]int
}

func itoa(v int) string {
	if v == 0 {
		return "0"
	}
	neg := v < 0
	if neg {
		v = -v
	}
	var b [20]byte
	i := len(b)
	for v > 0 {
		i--
		b[i] = byte('0' + v%10)
		v /= 10
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}
