package onnx

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/signet-go/signet/model"
)

// cval is a constant the converter knows the value of: an initializer, a
// Constant node, a bound input or a folded result. Floating types are held as
// float32 (the engine's only compute type), every integer and bool type as
// int64; onnxType remembers the source type for Cast and for ReadTensor.
type cval struct {
	onnxType int32
	shape    []int64
	f        []float32 // when isFloat
	i        []int64   // otherwise
}

func (c *cval) isFloat() bool { return isFloatType(c.onnxType) }

func (c *cval) numel() int {
	if c.isFloat() {
		return len(c.f)
	}
	return len(c.i)
}

// ints returns the values as int64 (floats truncated), for shape operands.
func (c *cval) ints() []int64 {
	if !c.isFloat() {
		return c.i
	}
	out := make([]int64, len(c.f))
	for k, v := range c.f {
		out[k] = int64(v)
	}
	return out
}

// floats returns the values as float32.
func (c *cval) floats() []float32 {
	if c.isFloat() {
		return c.f
	}
	out := make([]float32, len(c.i))
	for k, v := range c.i {
		out[k] = float32(v)
	}
	return out
}

func isFloatType(t int32) bool {
	return t == dtFloat || t == dtDouble || t == dtFloat16 || t == dtBfloat16
}

// elemSize is the raw_data size of one element, 0 for unsupported types.
func elemSize(t int32) int {
	switch t {
	case dtFloat, dtInt32, dtUint32:
		return 4
	case dtDouble, dtInt64, dtUint64:
		return 8
	case dtFloat16, dtBfloat16, dtInt16, dtUint16:
		return 2
	case dtInt8, dtUint8, dtBool:
		return 1
	}
	return 0
}

func typeName(t int32) string {
	names := map[int32]string{1: "float", 2: "uint8", 3: "int8", 4: "uint16", 5: "int16", 6: "int32", 7: "int64",
		8: "string", 9: "bool", 10: "float16", 11: "double", 12: "uint32", 13: "uint64", 14: "complex64",
		15: "complex128", 16: "bfloat16"}
	if s, ok := names[t]; ok {
		return s
	}
	return fmt.Sprintf("type %d", t)
}

// numElements returns the element count of a tensor of shape dims,
// rejecting negative dims, ranks above maxRank and counts above maxElements.
func numElements(dims []int64) (int, error) {
	if len(dims) > maxRank {
		return 0, sizeErr(ErrTooLarge, "tensor of rank %d (limit %d)", len(dims), maxRank)
	}
	for _, d := range dims {
		if d < 0 {
			return 0, sizeErr(ErrMalformed, "negative dimension %d", d)
		}
	}
	n, ok := knownElems(dims)
	if !ok {
		return 0, sizeErr(ErrTooLarge, "tensor of shape %v has more than %d elements", dims, maxElements)
	}
	return int(n), nil
}

// decodeTensor turns a TensorProto into a cval, checking that the data
// present matches the declared shape exactly.
func decodeTensor(t *tensorProto) (*cval, error) {
	if t.dataLocation == 1 || t.external {
		return nil, fmt.Errorf("%w: tensor %q uses external data (signet needs a single self-contained file)", ErrUnsupported, t.name)
	}
	if t.segment {
		return nil, fmt.Errorf("%w: tensor %q is segmented", ErrUnsupported, t.name)
	}
	size := elemSize(t.dataType)
	if size == 0 {
		return nil, fmt.Errorf("%w: tensor %q has element type %s", ErrUnsupported, t.name, typeName(t.dataType))
	}
	n, err := numElements(t.dims)
	if err != nil {
		return nil, fmt.Errorf("tensor %q: %w", t.name, err)
	}
	c := &cval{onnxType: t.dataType, shape: append([]int64{}, t.dims...)}
	if t.hasRaw {
		if len(t.raw) != n*size {
			return nil, fmt.Errorf("%w: tensor %q of shape %v has %d raw bytes, want %d", ErrMalformed, t.name, t.dims, len(t.raw), n*size)
		}
		if c.isFloat() {
			c.f = make([]float32, n)
		} else {
			c.i = make([]int64, n)
		}
		rawDecode(c, t.raw, size)
		return c, nil
	}
	// Typed fields: each type lives in exactly one of them.
	var got int
	switch t.dataType {
	case dtFloat:
		got = len(t.floatData)
		c.f = append([]float32{}, t.floatData...)
	case dtDouble:
		got = len(t.doubleData)
		c.f = make([]float32, len(t.doubleData))
		for k, v := range t.doubleData {
			c.f[k] = float32(v)
		}
	case dtFloat16, dtBfloat16:
		got = len(t.int32Data)
		c.f = make([]float32, len(t.int32Data))
		for k, v := range t.int32Data {
			c.f[k] = halfToFloat(t.dataType, uint16(v))
		}
	case dtInt64:
		got = len(t.int64Data)
		c.i = append([]int64{}, t.int64Data...)
	case dtUint32, dtUint64:
		got = len(t.uint64Data)
		c.i = append([]int64{}, t.uint64Data...)
	default: // int32 and narrower, bool
		got = len(t.int32Data)
		c.i = make([]int64, len(t.int32Data))
		for k, v := range t.int32Data {
			c.i[k] = int64(int32(v))
		}
	}
	if got != n {
		return nil, fmt.Errorf("%w: tensor %q of shape %v has %d values, want %d", ErrMalformed, t.name, t.dims, got, n)
	}
	return c, nil
}

func rawDecode(c *cval, raw []byte, size int) {
	le := binary.LittleEndian
	for k := 0; k*size < len(raw); k++ {
		b := raw[k*size:]
		switch c.onnxType {
		case dtFloat:
			c.f[k] = math.Float32frombits(le.Uint32(b))
		case dtDouble:
			c.f[k] = float32(math.Float64frombits(le.Uint64(b)))
		case dtFloat16, dtBfloat16:
			c.f[k] = halfToFloat(c.onnxType, le.Uint16(b))
		case dtInt64, dtUint64:
			c.i[k] = int64(le.Uint64(b))
		case dtInt32:
			c.i[k] = int64(int32(le.Uint32(b)))
		case dtUint32:
			c.i[k] = int64(le.Uint32(b))
		case dtInt16:
			c.i[k] = int64(int16(le.Uint16(b)))
		case dtUint16:
			c.i[k] = int64(le.Uint16(b))
		case dtInt8:
			c.i[k] = int64(int8(b[0]))
		case dtUint8:
			c.i[k] = int64(b[0])
		case dtBool:
			if b[0] != 0 {
				c.i[k] = 1
			}
		}
	}
}

// halfToFloat widens IEEE binary16 or bfloat16 bits to float32.
func halfToFloat(t int32, h uint16) float32 {
	if t == dtBfloat16 {
		return math.Float32frombits(uint32(h) << 16)
	}
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f: // Inf/NaN
		return math.Float32frombits(sign | 0xff<<23 | mant<<13)
	case exp == 0:
		if mant == 0 {
			return math.Float32frombits(sign)
		}
		// Subnormal half: value is mant * 2^-24.
		v := float32(mant) * (1.0 / (1 << 24))
		if sign != 0 {
			v = -v
		}
		return v
	}
	return math.Float32frombits(sign | (exp+112)<<23 | mant<<13)
}

// toModel converts a constant to a file tensor: floats as Float32, integers
// as Int64 (the only integer operands the native graph takes are shapes).
func (c *cval) toModel(name string) model.Tensor {
	if t, ok := c.quantTensor(name); ok {
		return t
	}
	if c.isFloat() {
		return model.NewFloat32Tensor(name, c.shape, c.f)
	}
	return model.NewInt64Tensor(name, c.shape, c.i)
}

// ReadTensor decodes a serialized ONNX TensorProto, such as the input_*.pb and
// output_*.pb files of the ONNX backend tests. Floating types (float, double,
// float16, bfloat16) become Float32; int64 stays Int64, int32 Int32, int8
// Int8; uint8, int16, uint16 and bool become Int32, which holds them exactly.
func ReadTensor(data []byte) (model.Tensor, error) {
	r, err := newReader(data, 0)
	if err != nil {
		return model.Tensor{}, err
	}
	t, err := parseTensor(r, data)
	if err != nil {
		return model.Tensor{}, err
	}
	// parseTensor ran one level deeper than needed; harmless.
	c, err := decodeTensor(t)
	if err != nil {
		return model.Tensor{}, err
	}
	switch c.onnxType {
	case dtFloat, dtDouble, dtFloat16, dtBfloat16, dtInt64:
		return c.toModel(t.name), nil
	case dtUint32, dtUint64:
		return model.Tensor{}, fmt.Errorf("%w: tensor %q has element type %s", ErrUnsupported, t.name, typeName(c.onnxType))
	case dtInt8:
		b := make([]byte, len(c.i))
		for k, v := range c.i {
			b[k] = byte(int8(v))
		}
		return model.Tensor{Name: t.name, DType: model.Int8, Shape: c.shape, Data: b}, nil
	}
	b := make([]byte, 4*len(c.i))
	for k, v := range c.i {
		binary.LittleEndian.PutUint32(b[4*k:], uint32(int32(v)))
	}
	return model.Tensor{Name: t.name, DType: model.Int32, Shape: c.shape, Data: b}, nil
}
