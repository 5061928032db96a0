package onnx

import (
	"encoding/binary"
	"math"
)

// A minimal protobuf writer for building ONNX models in tests, so that the
// tests need neither Python nor a protobuf library. Field numbers follow
// onnx.proto.

type pb struct{ b []byte }

func (p *pb) key(field, wt int) { p.b = binary.AppendUvarint(p.b, uint64(field<<3|wt)) }

func (p *pb) varint(field int, v int64) {
	p.key(field, wireVarint)
	p.b = binary.AppendUvarint(p.b, uint64(v))
}

func (p *pb) bytes(field int, b []byte) {
	p.key(field, wireBytes)
	p.b = binary.AppendUvarint(p.b, uint64(len(b)))
	p.b = append(p.b, b...)
}

func (p *pb) str(field int, s string) { p.bytes(field, []byte(s)) }
func (p *pb) msg(field int, m *pb)    { p.bytes(field, m.b) }

func (p *pb) fixed32(field int, v uint32) {
	p.key(field, wireFixed32)
	p.b = binary.LittleEndian.AppendUint32(p.b, v)
}

func (p *pb) fixed64(field int, v uint64) {
	p.key(field, wireFixed64)
	p.b = binary.LittleEndian.AppendUint64(p.b, v)
}

// ints writes a repeated int64 field packed or one key per element.
func (p *pb) ints(field int, vs []int64, packed bool) {
	if !packed {
		for _, v := range vs {
			p.varint(field, v)
		}
		return
	}
	var q []byte
	for _, v := range vs {
		q = binary.AppendUvarint(q, uint64(v))
	}
	p.bytes(field, q)
}

func (p *pb) floats(field int, vs []float32, packed bool) {
	if !packed {
		for _, v := range vs {
			p.fixed32(field, math.Float32bits(v))
		}
		return
	}
	var q []byte
	for _, v := range vs {
		q = binary.LittleEndian.AppendUint32(q, math.Float32bits(v))
	}
	p.bytes(field, q)
}

// enc selects how tensors and repeated fields are written.
type enc struct{ packed, raw bool }

func floatTensor(name string, dims []int64, vals []float32, e enc) *pb {
	t := tensorHeader(name, dims, dtFloat, e)
	if e.raw {
		var q []byte
		for _, v := range vals {
			q = binary.LittleEndian.AppendUint32(q, math.Float32bits(v))
		}
		t.bytes(9, q)
	} else {
		t.floats(4, vals, e.packed)
	}
	return t
}

func int64Tensor(name string, dims []int64, vals []int64, e enc) *pb {
	t := tensorHeader(name, dims, dtInt64, e)
	if e.raw {
		var q []byte
		for _, v := range vals {
			q = binary.LittleEndian.AppendUint64(q, uint64(v))
		}
		t.bytes(9, q)
	} else {
		t.ints(7, vals, e.packed)
	}
	return t
}

// tensorHeader starts a TensorProto with its dims, data type and name; the
// caller appends the data.
func tensorHeader(name string, dims []int64, dataType int64, e enc) *pb {
	t := &pb{}
	t.ints(1, dims, e.packed)
	t.varint(2, dataType)
	if name != "" {
		t.str(8, name)
	}
	return t
}

// valueInfo writes a tensor ValueInfoProto; a string dim is a dim_param.
func valueInfoPB(name string, elem int64, dims ...any) *pb {
	shape := &pb{}
	for _, d := range dims {
		dim := &pb{}
		switch v := d.(type) {
		case int:
			dim.varint(1, int64(v))
		case string:
			dim.str(2, v)
		}
		shape.msg(1, dim)
	}
	return tensorValueInfo(name, elem, shape)
}

// tensorValueInfo writes a tensor ValueInfoProto with the given shape, or
// with none when shape is nil.
func tensorValueInfo(name string, elem int64, shape *pb) *pb {
	tt := &pb{}
	tt.varint(1, elem)
	if shape != nil {
		tt.msg(2, shape)
	}
	typ := &pb{}
	typ.msg(1, tt)
	v := &pb{}
	v.str(1, name)
	v.msg(2, typ)
	return v
}

type attr = *pb

// attrHeader starts an AttributeProto with its name and type; the caller
// appends the value.
func attrHeader(name string, typ int64) *pb {
	a := &pb{}
	a.str(1, name)
	a.varint(20, typ)
	return a
}

func aInt(name string, v int64) attr {
	a := attrHeader(name, attrInt)
	a.varint(3, v)
	return a
}

func aFloat(name string, v float32) attr {
	a := attrHeader(name, attrFloat)
	a.fixed32(2, math.Float32bits(v))
	return a
}

func aString(name, v string) attr {
	a := attrHeader(name, attrString)
	a.str(4, v)
	return a
}

func aInts(name string, vs []int64, packed bool) attr {
	a := attrHeader(name, attrInts)
	a.ints(8, vs, packed)
	return a
}

func aFloats(name string, vs []float32, packed bool) attr {
	a := attrHeader(name, attrFloats)
	a.floats(7, vs, packed)
	return a
}

func aTensor(name string, t *pb) attr {
	a := attrHeader(name, attrTensor)
	a.msg(5, t)
	return a
}

func nodePB(op, name string, in, out []string, attrs ...attr) *pb {
	n := &pb{}
	for _, s := range in {
		n.str(1, s)
	}
	for _, s := range out {
		n.str(2, s)
	}
	if name != "" {
		n.str(3, name)
	}
	n.str(4, op)
	for _, a := range attrs {
		n.msg(5, a)
	}
	return n
}

// mb assembles a ModelProto.
type mb struct {
	opset           int64
	nodes, inits    []*pb
	inputs, outputs []*pb
	e               enc
}

func newModel(opset int64, e enc) *mb { return &mb{opset: opset, e: e} }

func (m *mb) node(op, name string, in, out []string, attrs ...attr) {
	m.nodes = append(m.nodes, nodePB(op, name, in, out, attrs...))
}

func (m *mb) initF(name string, dims []int64, vals []float32) {
	m.inits = append(m.inits, floatTensor(name, dims, vals, m.e))
}

func (m *mb) initI(name string, dims []int64, vals []int64) {
	m.inits = append(m.inits, int64Tensor(name, dims, vals, m.e))
}

func (m *mb) input(name string, dims ...any) {
	m.inputs = append(m.inputs, valueInfoPB(name, dtFloat, dims...))
}

func (m *mb) output(name string, dims ...any) {
	m.outputs = append(m.outputs, valueInfoPB(name, dtFloat, dims...))
}

func (m *mb) bytes() []byte {
	g := &pb{}
	for _, n := range m.nodes {
		g.msg(1, n)
	}
	g.str(2, "test_graph")
	for _, t := range m.inits {
		g.msg(5, t)
	}
	for _, v := range m.inputs {
		g.msg(11, v)
	}
	for _, v := range m.outputs {
		g.msg(12, v)
	}
	p := &pb{}
	p.varint(1, 8)
	p.str(2, "signet-test")
	p.str(3, "1")
	p.msg(7, g)
	op := &pb{}
	op.str(1, "")
	op.varint(2, m.opset)
	p.msg(8, op)
	return p.b
}

// pseudo-random but deterministic test values.
func values(n int, seed uint32) []float32 {
	out := make([]float32, n)
	s := seed*2654435761 + 1
	for i := range out {
		s ^= s << 13
		s ^= s >> 17
		s ^= s << 5
		out[i] = float32(int32(s%2001)-1000) / 1000
	}
	return out
}
