package model

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"math"
	"strconv"
)

// reader parses one section. Every read checks the bytes left in the section
// first; the first failure sticks, so a loop can read a whole record and
// check once. Errors name the section, the record being read and the file
// offset of the failing field.
type reader struct {
	buf     []byte
	pos     int
	base    uint64 // file offset of buf[0]
	section string
	item    string // record being read, e.g. "node"; "" outside records
	index   int
	name    string
	err     error
}

func (r *reader) fail(kind error, what, format string, args ...any) {
	if r.err != nil {
		return
	}
	where := r.section + " section"
	if r.item != "" {
		where += ", " + r.item + " " + strconv.Itoa(r.index)
		if r.name != "" {
			where += " " + strconv.Quote(r.name)
		}
	}
	r.err = fmt.Errorf("%w: %s, %s (at offset %d): %s", kind, where, what, r.base+uint64(r.pos), fmt.Sprintf(format, args...))
}

func (r *reader) need(what string, n uint64) bool {
	if r.err != nil {
		return false
	}
	if left := uint64(len(r.buf) - r.pos); n > left {
		r.fail(ErrTruncated, what, "need %d bytes, %d left in section", n, left)
		return false
	}
	return true
}

// fixed reads an n-byte value with get.
func fixed[T any](r *reader, what string, n int, get func([]byte) T) (v T) {
	if r.need(what, uint64(n)) {
		v = get(r.buf[r.pos:])
		r.pos += n
	}
	return v
}

func (r *reader) u8(what string) uint8 {
	return fixed(r, what, 1, func(b []byte) uint8 { return b[0] })
}
func (r *reader) u32(what string) uint32  { return fixed(r, what, 4, binary.LittleEndian.Uint32) }
func (r *reader) u64(what string) uint64  { return fixed(r, what, 8, binary.LittleEndian.Uint64) }
func (r *reader) f32(what string) float32 { return math.Float32frombits(r.u32(what)) }

// count reads an element count and checks it against limit and against the
// bytes left, given that every element takes at least minSize bytes, so the
// caller may allocate count elements: the allocation is bounded by the
// section's size.
func (r *reader) count(what string, limit int, minSize uint64) int {
	return r.sized(what, "count", limit, minSize)
}

// sized reads a count or length (noun says which, for messages).
func (r *reader) sized(what, noun string, limit int, minSize uint64) int {
	n := r.u32(what)
	if r.err != nil {
		return 0
	}
	if uint64(n) > uint64(limit) {
		r.pos -= 4
		r.fail(ErrCorrupt, what, "%s %d exceeds limit %d", noun, n, limit)
		return 0
	}
	if left := uint64(len(r.buf) - r.pos); uint64(n)*minSize > left {
		r.pos -= 4
		r.fail(ErrTruncated, what, "%s %d needs at least %d bytes, %d left in section", noun, n, uint64(n)*minSize, left)
		return 0
	}
	return int(n)
}

func (r *reader) str(what string, limit int) string {
	n := r.sized(what, "length", limit, 1)
	if r.err != nil || n == 0 {
		return ""
	}
	s := string(r.buf[r.pos : r.pos+n])
	r.pos += n
	return s
}

func (r *reader) ident(what string) string { return r.str(what, MaxNameLen) }

// list reads n elements with read; nil for none (or after an error), so
// that decoded models compare equal to models built with nil slices.
func list[T any](r *reader, n int, read func() T) []T {
	if r.err != nil || n == 0 {
		return nil
	}
	v := make([]T, n)
	for i := range v {
		v[i] = read()
	}
	return v
}

// dims reads a rank-prefixed shape.
func (r *reader) dims(what string) []int64 {
	return list(r, r.count(what, MaxRank, 8), func() int64 { return int64(r.u64(what)) })
}

func (r *reader) f32s(what string, limit int) []float32 {
	return list(r, r.count(what, limit, 4), func() float32 { return r.f32(what) })
}

func (r *reader) strs(what string) []string {
	return list(r, r.count(what+" count", MaxNodeIO, 4), func() string { return r.ident(what) })
}

func (r *reader) enter(item string, index int) { r.item, r.index, r.name = item, index, "" }

func (r *reader) end() error {
	if r.err == nil && r.pos != len(r.buf) {
		r.item = ""
		r.fail(ErrCorrupt, "end", "%d unread bytes after the last record", len(r.buf)-r.pos)
	}
	return r.err
}

type header struct {
	fileLen, metaOff, metaLen, graphOff, graphLen, dataOff, dataLen uint64
}

// parseHeader checks the fixed header and the section layout against the
// bytes present, and every section's checksum.
func parseHeader(data []byte) (header, error) {
	var h header
	n := min(len(data), len(magic))
	if !bytes.Equal(data[:n], magic[:n]) {
		return h, errf(ErrCorrupt, "not a signet model file (bad magic % x)", data[:n])
	}
	if len(data) < headerSize {
		return h, errf(ErrTruncated, "file is %d bytes, the header alone is %d", len(data), headerSize)
	}
	le := binary.LittleEndian
	if v := le.Uint32(data[offVersion:]); v != Version {
		return h, errf(ErrVersion, "file has format version %d, this reader supports %d", v, Version)
	}
	if want, got := le.Uint32(data[offHeaderCRC:]), crc32.Checksum(data[:offHeaderCRC], castagnoli); want != got {
		return h, errf(ErrChecksum, "header: stored CRC-32C %08x, computed %08x", want, got)
	}
	if f := le.Uint32(data[offFlags:]); f != 0 {
		return h, errf(ErrCorrupt, "header at offset %d: reserved flags %#x must be 0", offFlags, f)
	}
	h = header{
		fileLen: le.Uint64(data[offFileLen:]),
		metaOff: le.Uint64(data[offMetaOff:]), metaLen: le.Uint64(data[offMetaLen:]),
		graphOff: le.Uint64(data[offGraphOff:]), graphLen: le.Uint64(data[offGraphLen:]),
		dataOff: le.Uint64(data[offDataOff:]), dataLen: le.Uint64(data[offDataLen:]),
	}
	size := uint64(len(data))
	switch {
	case h.fileLen > size:
		return h, errf(ErrTruncated, "header declares %d bytes, file has %d", h.fileLen, size)
	case h.fileLen < size:
		return h, errf(ErrCorrupt, "header declares %d bytes, file has %d (trailing data)", h.fileLen, size)
	}
	// The sections follow each other in a fixed order; anything else is a
	// file this package did not write. Lengths are capped first so that the
	// sums below cannot overflow.
	switch {
	case h.metaOff != headerSize:
		return h, errf(ErrCorrupt, "header: metadata section at offset %d, want %d", h.metaOff, headerSize)
	case h.metaLen > MaxMetaSection:
		return h, errf(ErrCorrupt, "header: metadata section length %d exceeds limit %d", h.metaLen, MaxMetaSection)
	case h.graphOff != h.metaOff+h.metaLen:
		return h, errf(ErrCorrupt, "header: graph section at offset %d, want %d (right after metadata)", h.graphOff, h.metaOff+h.metaLen)
	case h.graphLen > MaxGraphSection:
		return h, errf(ErrCorrupt, "header: graph section length %d exceeds limit %d", h.graphLen, MaxGraphSection)
	case h.dataOff != align(h.graphOff+h.graphLen):
		return h, errf(ErrCorrupt, "header: data section at offset %d, want %d (graph end aligned to %d)", h.dataOff, align(h.graphOff+h.graphLen), Alignment)
	case h.dataOff > size || h.dataLen != size-h.dataOff:
		return h, errf(ErrCorrupt, "header: data section [%d, +%d) does not end at the end of the %d-byte file", h.dataOff, h.dataLen, size)
	}
	for i := h.graphOff + h.graphLen; i < h.dataOff; i++ {
		if data[i] != 0 {
			return h, errf(ErrCorrupt, "padding byte at offset %d is %#x, must be 0", i, data[i])
		}
	}
	for _, s := range []struct {
		name     string
		off, len uint64
		at       int
	}{
		{"metadata", h.metaOff, h.metaLen, offMetaCRC},
		{"graph", h.graphOff, h.graphLen, offGraphCRC},
		{"data", h.dataOff, h.dataLen, offDataCRC},
	} {
		want := le.Uint32(data[s.at:])
		if got := crc32.Checksum(data[s.off:s.off+s.len], castagnoli); got != want {
			return h, errf(ErrChecksum, "%s section [%d, +%d): stored CRC-32C %08x, computed %08x", s.name, s.off, s.len, want, got)
		}
	}
	return h, nil
}

func decodeMeta(buf []byte, base uint64) (Metadata, error) {
	r := &reader{buf: buf, base: base, section: "metadata"}
	var m Metadata
	m.Name = r.str("name", MaxTextLen)
	m.InputLayout = r.str("input layout", MaxTextLen)
	m.ChannelOrder = r.str("channel order", MaxTextLen)
	m.Mean = r.f32s("mean", MaxChannels)
	m.Std = r.f32s("std", MaxChannels)
	m.OutputName = r.str("output name", MaxTextLen)
	if v := r.u64("output size"); v > MaxOutputSize {
		r.pos -= 8
		r.fail(ErrCorrupt, "output size", "%d exceeds limit %d", v, MaxOutputSize)
	} else {
		m.OutputSize = int(v)
	}
	switch b := r.u8("L2-normalised flag"); b {
	case 0, 1:
		m.L2Normalized = b == 1
	default:
		r.pos--
		r.fail(ErrCorrupt, "L2-normalised flag", "%d, must be 0 or 1", b)
	}
	if r.need("source SHA-256", 32) {
		copy(m.SourceSHA256[:], r.buf[r.pos:])
		r.pos += 32
	}
	m.ConverterVersion = r.str("converter version", MaxTextLen)
	n := r.count("extra count", MaxExtra, 8)
	if n > 0 {
		m.Extra = make(map[string]string, n)
	}
	prev := ""
	for i := 0; i < n && r.err == nil; i++ {
		r.enter("extra entry", i)
		at := r.pos
		k := r.ident("key")
		v := r.str("value", MaxTextLen)
		if r.err == nil && i > 0 && k <= prev {
			r.pos = at
			r.fail(ErrCorrupt, "key", "%q follows %q: keys must be unique and sorted", k, prev)
		}
		m.Extra[k] = v
		prev = k
	}
	r.item = ""
	return m, r.end()
}

// decodeGraph parses the graph section; tensors alias data, the data
// section, whose first byte is at file offset dataOff.
func decodeGraph(buf []byte, base uint64, data []byte, dataOff uint64) (Graph, error) {
	r := &reader{buf: buf, base: base, section: "graph"}
	var g Graph
	values := func(item string) []Value {
		n := r.count(item+" count", MaxValues, 8)
		if r.err != nil || n == 0 {
			return nil
		}
		vs := make([]Value, n)
		for i := range vs {
			r.enter(item, i)
			vs[i].Name = r.ident("name")
			r.name = vs[i].Name
			vs[i].Shape = r.dims("shape")
			if r.err != nil {
				return nil
			}
		}
		r.item = ""
		return vs
	}
	g.Inputs = values("input")
	g.Outputs = values("output")

	// name, dtype, rank, offset, length
	const minTensor = 4 + 1 + 4 + 8 + 8
	nt := r.count("initializer count", MaxTensors, minTensor)
	if nt > 0 {
		g.Initializers = make([]Tensor, nt)
	}
	var end uint64 // end of the previous tensor within the data section
	dataLen := uint64(len(data))
	for i := 0; i < nt && r.err == nil; i++ {
		r.enter("initializer", i)
		t := &g.Initializers[i]
		t.Name = r.ident("name")
		r.name = t.Name
		t.DType = DType(r.u8("dtype"))
		t.Shape = r.dims("shape")
		at := r.pos
		off := r.u64("data offset")
		n := r.u64("data length")
		if r.err != nil {
			break
		}
		want := uint64(0)
		if i > 0 {
			want = align(end)
		}
		r.pos = at
		switch {
		case off%Alignment != 0:
			r.fail(ErrCorrupt, "data offset", "%d (file offset %d) is not %d-byte aligned", off, dataOff+off, Alignment)
		case n > dataLen || off > dataLen-n:
			r.fail(ErrCorrupt, "data offset", "tensor [%d, +%d) lies outside the %d-byte data section", off, n, dataLen)
		case off != want:
			r.fail(ErrCorrupt, "data offset", "%d, want %d: tensors must follow each other in table order", off, want)
		}
		r.pos = at + 16
		if r.err != nil {
			break
		}
		// The padding is covered by the data CRC, but it must also be zero:
		// the fingerprint and the encoder assume so.
		for p := end; p < off; p++ {
			if data[p] != 0 {
				r.pos = at
				r.fail(ErrCorrupt, "data offset", "padding byte at file offset %d before this tensor is %#x, must be 0", dataOff+p, data[p])
				break
			}
		}
		if r.err != nil {
			break
		}
		// Full slice expression: an append through Data must never reach
		// the next tensor.
		t.Data = data[off : off+n : off+n]
		end = off + n
	}
	r.item = ""
	if r.err == nil && end != dataLen {
		r.fail(ErrCorrupt, "initializer table", "tensors end at %d, data section is %d bytes", end, dataLen)
	}

	// op, name, and three counts
	const minNode = 4 * 5
	nn := r.count("node count", MaxNodes, minNode)
	if nn > 0 {
		g.Nodes = make([]Node, nn)
	}
	for i := 0; i < nn && r.err == nil; i++ {
		r.enter("node", i)
		n := &g.Nodes[i]
		n.Op = r.ident("op")
		n.Name = r.ident("name")
		r.name = n.Name
		n.Inputs = r.strs("input")
		n.Outputs = r.strs("output")
		// name, kind, and at least a 4-byte payload
		na := r.count("attribute count", MaxAttrs, 4+1+4)
		if na > 0 {
			n.Attrs = make([]Attr, na)
		}
		for j := 0; j < na && r.err == nil; j++ {
			a := &n.Attrs[j]
			a.Name = r.ident("attribute name")
			at := r.pos
			a.Kind = AttrKind(r.u8("attribute kind"))
			switch a.Kind {
			case AttrInt:
				a.Int = int64(r.u64("int attribute"))
			case AttrFloat:
				a.Float = r.f32("float attribute")
			case AttrInts:
				if k := r.count("ints attribute", MaxAttrElems, 8); k > 0 {
					a.Ints = make([]int64, k)
					for x := range a.Ints {
						a.Ints[x] = int64(r.u64("ints attribute"))
					}
				}
			case AttrFloats:
				a.Floats = r.f32s("floats attribute", MaxAttrElems)
			case AttrString:
				a.String = r.str("string attribute", MaxTextLen)
			default:
				if r.err == nil {
					r.pos = at
					r.fail(ErrInvalidGraph, "attribute kind", "attribute %q has unknown kind %d", a.Name, uint8(a.Kind))
				}
			}
		}
	}
	r.item = ""
	return g, r.end()
}

// Decode parses a model file held in data and validates it as New does.
// Tensor data aliases data, which must therefore stay unchanged while the
// model is in use; everything else is copied. Empty slices and maps decode
// as nil.
//
// Every count, length and offset is checked against the bytes present
// before anything is allocated or indexed, so Decode neither panics nor
// allocates more than a small multiple of len(data), whatever data holds.
// Errors wrap ErrTruncated, ErrChecksum, ErrVersion, ErrInvalidGraph or
// ErrInvalidMetadata, all of which wrap ErrCorrupt.
func Decode(data []byte) (*Model, error) {
	h, err := parseHeader(data)
	if err != nil {
		return nil, err
	}
	metaSec := data[h.metaOff : h.metaOff+h.metaLen]
	graphSec := data[h.graphOff : h.graphOff+h.graphLen]
	meta, err := decodeMeta(metaSec, h.metaOff)
	if err != nil {
		return nil, err
	}
	g, err := decodeGraph(graphSec, h.graphOff, data[h.dataOff:h.dataOff+h.dataLen], h.dataOff)
	if err != nil {
		return nil, err
	}
	m := &Model{Meta: meta, Graph: g}
	if err := m.init(len(graphSec)); err != nil {
		return nil, err
	}
	// The fingerprint hashes the re-encoded sections; insisting that they
	// equal the file's bytes keeps it a function of the file alone.
	if !bytes.Equal(m.metaSec, metaSec) || !bytes.Equal(m.graphSec, graphSec) {
		return nil, errf(ErrCorrupt, "sections are not in canonical encoding")
	}
	m.metaSec, m.graphSec = metaSec, graphSec // alias data rather than keep copies
	return m, nil
}
