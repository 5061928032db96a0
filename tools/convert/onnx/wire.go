package onnx

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"
)

// Protobuf wire types used by ONNX (proto2). Groups (3, 4) never appear in
// onnx.proto, so a stream that contains them is malformed.
const (
	wireVarint  = 0
	wireFixed64 = 1
	wireBytes   = 2
	wireFixed32 = 5
)

// maxDepth caps message nesting. ONNX's deepest path the converter reads is
// Model → Graph → Node → Attribute → Tensor; anything far deeper is an attack
// on the stack, not a model.
const maxDepth = 16

// field is one decoded key/value of a protobuf message. For wireBytes, b
// aliases the input; for the numeric wire types, v holds the raw bits.
type field struct {
	num int32
	wt  uint8
	v   uint64
	b   []byte
}

// reader walks the fields of one message. It never slices past len(buf).
type reader struct {
	buf   []byte
	pos   int
	depth int
}

func newReader(b []byte, depth int) (*reader, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("%w: messages nested deeper than %d", ErrMalformed, maxDepth)
	}
	return &reader{buf: b, depth: depth}, nil
}

// sub returns a reader for an embedded message one level deeper.
func (r *reader) sub(b []byte) (*reader, error) { return newReader(b, r.depth+1) }

func (r *reader) done() bool { return r.pos >= len(r.buf) }

// each calls fn for every field left in r's message, stopping at the first
// error. fn gets r as well: it is the parent of any message the field embeds.
func (r *reader) each(fn func(r *reader, f field) error) error {
	for !r.done() {
		f, err := r.next()
		if err != nil {
			return err
		}
		if err := fn(r, f); err != nil {
			return err
		}
	}
	return nil
}

// message decodes b as a message embedded one level below r, calling fn for
// each of its fields.
func (r *reader) message(b []byte, fn func(r *reader, f field) error) error {
	sub, err := r.sub(b)
	if err != nil {
		return err
	}
	return sub.each(fn)
}

// varint decodes a base-128 varint from b, returning the value and the number
// of bytes used. It rejects encodings longer than 10 bytes or overflowing 64 bits.
func varint(b []byte) (uint64, int, error) {
	var v uint64
	for i := 0; i < len(b); i++ {
		if i == 10 {
			break
		}
		c := b[i]
		if i == 9 && c > 1 {
			return 0, 0, fmt.Errorf("%w: varint overflows 64 bits", ErrMalformed)
		}
		v |= uint64(c&0x7f) << (7 * uint(i))
		if c < 0x80 {
			return v, i + 1, nil
		}
	}
	if len(b) < 10 {
		return 0, 0, fmt.Errorf("%w: truncated varint", ErrMalformed)
	}
	return 0, 0, fmt.Errorf("%w: varint longer than 10 bytes", ErrMalformed)
}

// next decodes the next field. Lengths are checked against the bytes left in
// the message before anything is sliced.
func (r *reader) next() (field, error) {
	key, n, err := varint(r.buf[r.pos:])
	if err != nil {
		return field{}, err
	}
	r.pos += n
	num := key >> 3
	if num == 0 || num > 1<<29-1 {
		return field{}, fmt.Errorf("%w: invalid field number %d", ErrMalformed, num)
	}
	f := field{num: int32(num), wt: uint8(key & 7)}
	rest := r.buf[r.pos:]
	switch f.wt {
	case wireVarint:
		f.v, n, err = varint(rest)
		if err != nil {
			return field{}, err
		}
		r.pos += n
	case wireFixed64:
		if len(rest) < 8 {
			return field{}, fmt.Errorf("%w: truncated fixed64 field %d", ErrMalformed, num)
		}
		f.v = binary.LittleEndian.Uint64(rest)
		r.pos += 8
	case wireFixed32:
		if len(rest) < 4 {
			return field{}, fmt.Errorf("%w: truncated fixed32 field %d", ErrMalformed, num)
		}
		f.v = uint64(binary.LittleEndian.Uint32(rest))
		r.pos += 4
	case wireBytes:
		l, n, err := varint(rest)
		if err != nil {
			return field{}, err
		}
		if l > uint64(len(rest)-n) {
			return field{}, fmt.Errorf("%w: field %d declares %d bytes, %d left", ErrMalformed, num, l, len(rest)-n)
		}
		f.b = rest[n : n+int(l)]
		r.pos += n + int(l)
	default:
		return field{}, fmt.Errorf("%w: unsupported wire type %d for field %d", ErrMalformed, f.wt, num)
	}
	return f, nil
}

// Typed accessors. Each checks the wire type so that a field of the wrong
// type is reported instead of being reinterpreted.

func (f field) wantType(wt uint8, what string) error {
	if f.wt != wt {
		return fmt.Errorf("%w: field %d (%s) has wire type %d, want %d", ErrMalformed, f.num, what, f.wt, wt)
	}
	return nil
}

func (f field) int64(what string) (int64, error) {
	if err := f.wantType(wireVarint, what); err != nil {
		return 0, err
	}
	return int64(f.v), nil
}

// int32 decodes a proto int32: negative values are sign-extended varints.
func (f field) int32(what string) (int32, error) {
	if err := f.wantType(wireVarint, what); err != nil {
		return 0, err
	}
	v := int64(f.v)
	if v < math.MinInt32 || v > math.MaxInt32 {
		return 0, fmt.Errorf("%w: field %d (%s) value %d out of int32 range", ErrMalformed, f.num, what, v)
	}
	return int32(v), nil
}

func (f field) bytes(what string) ([]byte, error) {
	if err := f.wantType(wireBytes, what); err != nil {
		return nil, err
	}
	return f.b, nil
}

func (f field) str(what string) (string, error) {
	b, err := f.bytes(what)
	return string(b), err
}

func (f field) float32(what string) (float32, error) {
	if err := f.wantType(wireFixed32, what); err != nil {
		return 0, err
	}
	return math.Float32frombits(uint32(f.v)), nil
}

// Repeated numeric fields: proto2 writers may emit them one element per key
// (unpacked) or as one length-delimited run (packed); readers must accept both.

func appendVarints(dst []int64, f field, what string) ([]int64, error) {
	switch f.wt {
	case wireVarint:
		return append(dst, int64(f.v)), nil
	case wireBytes:
		b := f.b
		// Every varint ends in one byte below 0x80: grow once, exactly.
		n := 0
		for _, c := range b {
			if c < 0x80 {
				n++
			}
		}
		dst = slices.Grow(dst, n)
		for len(b) > 0 {
			v, n, err := varint(b)
			if err != nil {
				return nil, fmt.Errorf("packed %s: %w", what, err)
			}
			dst = append(dst, int64(v))
			b = b[n:]
		}
		return dst, nil
	}
	return nil, fmt.Errorf("%w: field %d (%s) has wire type %d", ErrMalformed, f.num, what, f.wt)
}

func appendFloats(dst []float32, f field, what string) ([]float32, error) {
	return appendFixed(dst, f, what, wireFixed32, func(bits uint64) float32 { return math.Float32frombits(uint32(bits)) })
}

func appendDoubles(dst []float64, f field, what string) ([]float64, error) {
	return appendFixed(dst, f, what, wireFixed64, math.Float64frombits)
}

// appendFixed appends a repeated fixed-width field, 4 bytes an element for
// wireFixed32 and 8 for wireFixed64; fromBits turns an element's raw
// little-endian bits into T.
func appendFixed[T float32 | float64](dst []T, f field, what string, wt uint8, fromBits func(uint64) T) ([]T, error) {
	switch f.wt {
	case wt:
		return append(dst, fromBits(f.v)), nil
	case wireBytes:
		size := 8
		if wt == wireFixed32 {
			size = 4
		}
		if len(f.b)%size != 0 {
			return nil, fmt.Errorf("%w: packed %s length %d not a multiple of %d", ErrMalformed, what, len(f.b), size)
		}
		if dst == nil {
			dst = make([]T, 0, len(f.b)/size)
		}
		for i := 0; i < len(f.b); i += size {
			var bits uint64
			if size == 4 {
				bits = uint64(binary.LittleEndian.Uint32(f.b[i:]))
			} else {
				bits = binary.LittleEndian.Uint64(f.b[i:])
			}
			dst = append(dst, fromBits(bits))
		}
		return dst, nil
	}
	return nil, fmt.Errorf("%w: field %d (%s) has wire type %d", ErrMalformed, f.num, what, f.wt)
}
