package reference

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/signet-go/signet/model"
)

// QDQ quantisation, executed as written (simulated quantisation): a
// QuantizeLinear makes an int8 tensor, a DequantizeLinear reads one (or an
// int32 constant) back into float32, and every other op sees only the
// float32 values. Scales and zero points are constants, one value or one
// per index of the axis attribute's dimension.

func init() {
	ops[model.OpQuantizeLinear] = quantizeLinear
	ops[model.OpDequantizeLinear] = dequantizeLinear
}

// decodeQuant decodes an int8 or int32 initializer into t.
func decodeQuant(init *model.Tensor, t *tensor) {
	if init.DType == model.Int8 {
		t.q = make([]int8, len(init.Data))
		for i, b := range init.Data {
			t.q[i] = int8(b)
		}
		return
	}
	t.i32 = make([]int32, len(init.Data)/4)
	for i := range t.i32 {
		t.i32[i] = int32(binary.LittleEndian.Uint32(init.Data[4*i:]))
	}
}

// int8Floats returns q's integers as float32 (an int8 graph output).
func int8Floats(q []int8) []float32 {
	f := make([]float32, len(q))
	for i, v := range q {
		f[i] = float32(v)
	}
	return f
}

// quantParams reads a Q or DQ node's scale (input 1), zero point (input 2,
// optional: 0) and axis for input x, and returns for each element of x
// the index of its scale and zero point, via the returned function.
func quantParams(nd *node, x *tensor, zeroInt32 bool) (scale []float32, zero []int32, at func(i int) int, err error) {
	axisAttr := nd.attrInt("axis", 1)
	if err := nd.checkAttrs(); err != nil {
		return nil, nil, nil, err
	}
	if err := nd.arity(2, 3, 1, 1); err != nil {
		return nil, nil, nil, err
	}
	s, err := nd.in(1)
	if err != nil {
		return nil, nil, nil, err
	}
	if len(s.shape) > 1 {
		return nil, nil, nil, fmt.Errorf("%w: scale of shape %v, want a scalar or 1-D", ErrUnsupported, s.shape)
	}
	scale = s.f
	for _, v := range scale {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return nil, nil, nil, fmt.Errorf("%w: scale %v (must be finite)", ErrUnsupported, v)
		}
	}
	zero = make([]int32, len(scale))
	if z, err := nd.anyIn(2); err != nil {
		return nil, nil, nil, err
	} else if z != nil {
		switch {
		case z.q != nil && !zeroInt32 && len(z.q) == len(scale):
			for i, v := range z.q {
				zero[i] = int32(v)
			}
		case z.i32 != nil && zeroInt32 && len(z.i32) == len(scale):
			for _, v := range z.i32 {
				if v != 0 {
					return nil, nil, nil, fmt.Errorf("%w: an int32 input's zero point must be 0", ErrUnsupported)
				}
			}
		default:
			return nil, nil, nil, fmt.Errorf("%w: zero point must be int8 (int32 for int32 input) of the scale's shape", ErrUnsupported)
		}
	}
	if len(scale) == 1 {
		return scale, zero, func(int) int { return 0 }, nil
	}
	a, err := axis(axisAttr, len(x.shape))
	if err != nil {
		return nil, nil, nil, err
	}
	if x.shape[a] != len(scale) {
		return nil, nil, nil, fmt.Errorf("%w: %d scales for dimension %d of %v", ErrShape, len(scale), a, x.shape)
	}
	inner := product(x.shape[a+1:])
	return scale, zero, func(i int) int { return i / inner % len(scale) }, nil
}

// anyIn returns input i of whatever dtype, nil when omitted.
func (nd *node) anyIn(i int) (*tensor, error) {
	if i >= len(nd.n.Inputs) || nd.n.Inputs[i] == "" {
		return nil, nil
	}
	return nd.r.lookup(nd.n.Inputs[i])
}

// quantizeLinear: y = saturate(round(x / scale) + zero) in int8, the
// division in float32, rounding half to even; NaN gives the zero point.
func quantizeLinear(nd *node) error {
	x, err := nd.in(0)
	if err != nil {
		return err
	}
	scale, zero, at, err := quantParams(nd, x, false)
	if err != nil {
		return err
	}
	if err := nd.work(int64(len(x.f))); err != nil {
		return err
	}
	n, err := nd.r.count(x.shape)
	if err != nil {
		return err
	}
	y := make([]int8, n)
	for i, v := range x.f {
		k := at(i)
		q := v / scale[k]
		if q != q {
			y[i] = int8(zero[k])
			continue
		}
		r := math.RoundToEven(float64(q)) + float64(zero[k])
		y[i] = int8(math.Min(math.Max(r, -128), 127))
	}
	return nd.r.define(nd.n.Outputs[0], &tensor{shape: x.shape, q: y})
}

// dequantizeLinear: y = float32(x - zero) · scale for int8 x, or an int32
// constant x with zero point 0.
func dequantizeLinear(nd *node) error {
	x, err := nd.anyIn(0)
	if err != nil {
		return err
	}
	if x == nil || (x.q == nil && x.i32 == nil) {
		return fmt.Errorf("%w: DequantizeLinear input must be int8 or int32", ErrUnsupported)
	}
	scale, zero, at, err := quantParams(nd, x, x.i32 != nil)
	if err != nil {
		return err
	}
	if err := nd.work(int64(product(x.shape))); err != nil {
		return err
	}
	y, err := nd.out(0, x.shape)
	if err != nil {
		return err
	}
	for i := range y {
		k := at(i)
		var v int32
		if x.q != nil {
			v = int32(x.q[i]) - zero[k]
		} else {
			v = x.i32[i]
		}
		y[i] = float32(v) * scale[k]
	}
	return nil
}
