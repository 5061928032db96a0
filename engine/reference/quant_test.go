package reference

import (
	"encoding/binary"

	"github.com/signet-go/signet/model"
)

// intBytes encodes v little-endian as dtype dt (Int8 or Int32).
func intBytes(dt model.DType, v []int64) []byte {
	b := make([]byte, len(v)*dt.Size())
	for i, x := range v {
		if dt == model.Int8 {
			b[i] = byte(int8(x))
		} else if dt == model.Int32 {
			binary.LittleEndian.PutUint32(b[4*i:], uint32(int32(x)))
		}
	}
	return b
}

func i8(shape []int64, v ...int64) tin {
	return tin{shape: shape, i: v, konst: true, dtype: model.Int8}
}
func i32(shape []int64, v ...int64) tin {
	return tin{shape: shape, i: v, konst: true, dtype: model.Int32}
}

// quantCases are the QuantizeLinear and DequantizeLinear cases of TestOps:
// rounding half to even, saturation, per-axis parameters, int32 input.
func quantCases() []opCase {
	return []opCase{
		{name: "round half even saturate", op: model.OpQuantizeLinear,
			ins:  []tin{in(sh(6), 0.25, 0.75, -0.25, 100, -100, 0.3), konst(sh(), 0.5), i8(sh(), 1)},
			want: [][]float32{{1, 3, 1, 127, -128, 2}}},
		{name: "no zero point", op: model.OpQuantizeLinear, ins: []tin{in(sh(2), 1, -1), konst(sh(), 0.1)},
			want: [][]float32{{10, -10}}},
		{name: "per axis", op: model.OpQuantizeLinear, ins: []tin{in(sh(2, 2), 1, 1, 1, 1), konst(sh(2), 0.5, 0.25), i8(sh(2), 0, -1)},
			attrs: []model.Attr{iA("axis", 0)}, want: [][]float32{{2, 2, 3, 3}}, shape: [][]int{{2, 2}}},
		{name: "zero scale", op: model.OpQuantizeLinear, ins: []tin{in(sh(3), 1, -1, 0), konst(sh(), 0), i8(sh(), 2)},
			want: [][]float32{{127, -128, 2}}},
		{name: "axis mismatch", op: model.OpQuantizeLinear, ins: []tin{in(sh(2, 3), 1, 1, 1, 1, 1, 1), konst(sh(2), 1, 1)},
			attrs: []model.Attr{iA("axis", 1)}, err: ErrShape},
		{name: "int8", op: model.OpDequantizeLinear, ins: []tin{i8(sh(3), -128, 0, 127), konst(sh(), 0.5), i8(sh(), -1)},
			want: [][]float32{{-63.5, 0.5, 64}}},
		{name: "per axis last", op: model.OpDequantizeLinear, ins: []tin{i8(sh(2, 2), 1, 2, 3, 4), konst(sh(2), 1, 0.5)},
			attrs: []model.Attr{iA("axis", -1)}, want: [][]float32{{1, 1, 3, 2}}},
		{name: "int32 bias", op: model.OpDequantizeLinear, ins: []tin{i32(sh(2), 1000, -3), konst(sh(), 0.25)},
			want: [][]float32{{250, -0.75}}},
		{name: "int32 zero point", op: model.OpDequantizeLinear, ins: []tin{i8(sh(1), 1), konst(sh(), 1), i32(sh(), 0)}, err: ErrUnsupported},
		{name: "float input", op: model.OpDequantizeLinear, ins: []tin{in(sh(1), 1), konst(sh(), 1)}, err: ErrUnsupported},
	}
}
