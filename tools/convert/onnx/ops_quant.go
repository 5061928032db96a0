package onnx

import (
	"encoding/binary"
	"math"
	"slices"

	"github.com/signet-go/signet/model"
)

// QDQ quantisation: QuantizeLinear and DequantizeLinear become the native
// operators of the same names (model/FORMAT.md, "Quantised values"), int8
// throughout. uint8 is converted exactly: a uint8 value u with zero point z
// is the int8 value u−128 with zero point z−128, so a QuantizeLinear to
// uint8 becomes one to int8 with its zero point shifted and a uint8 constant
// has 128 subtracted from every byte. A DequantizeLinear of a constant (the
// weights and biases of a QDQ model) is folded to its float32 values, so the
// operators that need constant weights (Conv, Gemm, MatMul) and the passes
// see ordinary constants; when such a constant is still read unchanged by
// a native node at the end, it is written as the int8 (or int32) tensor and
// a native DequantizeLinear of it (emitConst), which is what lets the
// engine run the layer on int8 kernels. The operator-oriented form
// (QLinearConv and friends), block quantisation and types other than int8,
// uint8 (and int32 for a dequantised bias) are refused.

var quantOps = opTable{
	"QuantizeLinear":   quantOp(model.OpQuantizeLinear, (*nctx).quantize, (*nctx).foldQuantize),
	"DequantizeLinear": quantOp(model.OpDequantizeLinear, (*nctx).dequantize, nil),
}

// quantOp is the descriptor of QuantizeLinear or DequantizeLinear, which
// share their opsets, attributes and arity.
func quantOp(native string, translate func(*nctx) error, fold func(*nctx, []*cval) (*cval, error)) *opDesc {
	return &opDesc{
		versions: []int64{10, 13},
		native:   native,
		attrs:    quantAttrs,
		inputs:   arity{2, 3}, outputs: exactlyOne,
		fold:      fold,
		translate: translate,
	}
}

// quantAttrs are the attributes of QuantizeLinear and DequantizeLinear up
// to opset 21; all but axis are read only to refuse what signet lacks.
var quantAttrs = []attrSpec{optInt("axis", 1), optInt("block_size", 0), optInt("saturate", 1), optInt("output_dtype", 0)}

// operatorQuant are the operators of ONNX's operator-oriented quantisation
// and dynamic quantisation, refused with the way out.
var operatorQuant = map[string]bool{
	"QLinearConv": true, "QLinearMatMul": true, "ConvInteger": true, "MatMulInteger": true,
	"DynamicQuantizeLinear": true, "QLinearAdd": true, "QLinearMul": true, "QLinearGlobalAveragePool": true,
	"QLinearAveragePool": true, "QLinearConcat": true, "QLinearLeakyRelu": true, "QLinearSigmoid": true, "QGemm": true,
}

// refuseQuantOp returns the error for an operator of operator-oriented
// quantisation, nil for any other.
func (x *nctx) refuseQuantOp() error {
	if !operatorQuant[x.n.opType] {
		return nil
	}
	return x.unsupported("operator-oriented quantisation; export QDQ (QuantizeLinear/DequantizeLinear around float operators) instead")
}

// quantConv is what the converter keeps of QDQ: the int8/uint8 type of
// each runtime value a QuantizeLinear made, and the dequantised constants.
type quantConv struct {
	types  map[string]int32
	consts map[string]*qconst
}

// qconst is a constant that a DequantizeLinear made: its float32 cval (as
// folded), and the integer tensor, scale, zero point and axis it came from.
type qconst struct {
	v     *cval
	f     []float32 // the folded values, to see that no pass changed them
	data  model.Tensor
	scale []float32
	zero  []int8
	axis  int64 // -1 per tensor
}

func (c *conv) quant() *quantConv {
	if c.q == nil {
		c.q = &quantConv{types: map[string]int32{}, consts: map[string]*qconst{}}
	}
	return c.q
}

// qparams reads the node's scale and zero point: constants, one value or
// one per index of axis for an input of rank rank (-1: unknown). It
// returns the zero point's ONNX type (dtUint8 when absent and uint8 is
// the default, as for QuantizeLinear without output_dtype).
func (x *nctx) qparams(rank int, defType int32) (scale []float32, zero []int64, zt int32, axis int64, err error) {
	if bs, err := x.getInt("block_size"); err != nil {
		return nil, nil, 0, 0, err
	} else if bs != 0 {
		return nil, nil, 0, 0, x.unsupported("block quantisation (block_size %d)", bs)
	}
	s := x.cin(1)
	if s == nil {
		return nil, nil, 0, 0, x.unsupported("scale %q is not a constant: QDQ needs constant scales and zero points", x.in(1))
	}
	if !s.isFloat() || len(s.shape) > 1 {
		return nil, nil, 0, 0, x.malformed("scale of type %s and shape %v", typeName(s.onnxType), s.shape)
	}
	scale = s.f
	for _, v := range scale {
		if !(v > 0) || math.IsInf(float64(v), 0) {
			return nil, nil, 0, 0, x.unsupported("scale %v: signet needs finite positive scales", v)
		}
	}
	zt, zero = defType, make([]int64, len(scale))
	if x.in(2) != "" {
		z := x.cin(2)
		if z == nil {
			return nil, nil, 0, 0, x.unsupported("zero point %q is not a constant: QDQ needs constant scales and zero points", x.in(2))
		}
		if z.numel() != len(scale) || z.isFloat() {
			return nil, nil, 0, 0, x.malformed("zero point of type %s and shape %v for scale %v", typeName(z.onnxType), z.shape, s.shape)
		}
		zt, zero = z.onnxType, z.i
	}
	axis = -1
	if len(s.shape) == 1 && len(scale) > 1 {
		if axis, err = x.getInt("axis"); err != nil {
			return nil, nil, 0, 0, err
		}
		if rank >= 0 {
			if axis, err = x.normAxis(axis, rank); err != nil {
				return nil, nil, 0, 0, err
			}
		}
	}
	return scale, zero, zt, axis, nil
}

// int8Zero maps zero points of ONNX type t (int8 or uint8) to int8.
func (x *nctx) int8Zero(t int32, zero []int64) ([]int8, error) {
	shift, err := x.int8Shift(t)
	if err != nil {
		return nil, err
	}
	out := make([]int8, len(zero))
	for i, z := range zero {
		out[i] = int8(z - shift)
	}
	return out, nil
}

// int8Shift is what maps values of ONNX type t onto int8: 128 for uint8,
// 0 for int8.
func (x *nctx) int8Shift(t int32) (int64, error) {
	switch t {
	case dtInt8:
		return 0, nil
	case dtUint8:
		return 128, nil
	}
	return 0, x.unsupported("quantised type %s: signet runs int8 and uint8 (as int8)", typeName(t))
}

// outputType is a QuantizeLinear's output type: its zero point's, else
// output_dtype's (opset 21), else uint8.
func (x *nctx) outputType() (int32, error) {
	od, err := x.getInt("output_dtype")
	if err != nil {
		return 0, err
	}
	if od != 0 && od != dtInt8 && od != dtUint8 {
		return 0, x.unsupported("output_dtype %s: signet runs int8 and uint8 (as int8)", typeName(int32(od)))
	}
	if od == 0 {
		od = dtUint8
	}
	return int32(od), nil
}

// qnative writes scale and zero point as the native node's constant
// inputs 1 and 2 and its axis attribute.
func (x *nctx) qnative(in string, scale []float32, zero []int8, axis int64) ([]string, []model.Attr) {
	sc, zp := x.c.qparamConsts(shortName(x.name), scale, zero)
	var attrs []model.Attr
	if axis >= 0 {
		attrs = append(attrs, intAttr("axis", axis))
	}
	return []string{in, sc, zp}, attrs
}

// qparamConsts adds a scale and an int8 zero point as constants.
func (c *conv) qparamConsts(base string, scale []float32, zero []int8) (string, string) {
	shape := []int64{int64(len(scale))}
	if len(scale) == 1 {
		shape = nil
	}
	zi := make([]int64, len(zero))
	for i, z := range zero {
		zi[i] = int64(z)
	}
	return c.addConst(base+"_scale", &cval{onnxType: dtFloat, shape: shape, f: slices.Clone(scale)}),
		c.addConst(base+"_zero_point", &cval{onnxType: dtInt8, shape: shape, i: zi})
}

func (x *nctx) quantize() error {
	def, err := x.outputType()
	if err != nil {
		return err
	}
	zt, err := x.emitQDQ(def, false)
	x.c.quant().types[x.out(0)] = zt
	return err
}

// emitQDQ emits the native QuantizeLinear or DequantizeLinear of a
// runtime input whose (or whose output's) ONNX type is by default def; a
// DequantizeLinear's zero point must be of that type. It returns the
// zero point's type.
func (x *nctx) emitQDQ(def int32, sameType bool) (int32, error) {
	s, known := x.shape(x.in(0))
	rank := -1
	if known {
		rank = len(s)
	}
	scale, zero, zt, axis, err := x.qparams(rank, def)
	if err != nil {
		return 0, err
	}
	if sameType && zt != def {
		return 0, x.malformed("zero point of type %s for an input of type %s", typeName(zt), typeName(def))
	}
	z8, err := x.int8Zero(zt, zero)
	if err != nil {
		return 0, err
	}
	if axis >= 0 && rank < 0 {
		return 0, x.unsupported("per-axis parameters for a value of unknown rank")
	}
	in, attrs := x.qnative(x.in(0), scale, z8, axis)
	if !known {
		s = nil
	}
	return zt, x.emit(x.d.native, in, attrs, s)
}

// foldQuantize quantises a constant (to an int8 or uint8 constant).
func (x *nctx) foldQuantize(in []*cval) (*cval, error) {
	def, err := x.outputType()
	if err != nil {
		return nil, err
	}
	scale, zero, zt, axis, err := x.qparams(len(in[0].shape), def)
	if err != nil {
		return nil, err
	}
	lo, hi := int64(-128), int64(127)
	if zt == dtUint8 {
		lo, hi = 0, 255
	} else if zt != dtInt8 {
		return nil, x.unsupported("quantised type %s", typeName(zt))
	}
	f := in[0].floats()
	at := perAxis(in[0].shape, axis, len(scale))
	out := &cval{onnxType: zt, shape: in[0].shape, i: make([]int64, len(f))}
	for i, v := range f {
		k := at(i)
		q := math.RoundToEven(float64(v/scale[k])) + float64(zero[k])
		out.i[i] = int64(math.Min(math.Max(q, float64(lo)), float64(hi)))
	}
	return out, nil
}

// perAxis returns the parameter index of each element of a tensor of
// shape s for n parameters along axis (-1: one for all).
func perAxis(s []int64, axis int64, n int) func(int) int {
	if axis < 0 || n == 1 {
		return func(int) int { return 0 }
	}
	inner := 1
	for _, d := range s[axis+1:] {
		inner *= int(d)
	}
	return func(i int) int { return i / inner % n }
}

func (x *nctx) dequantize() error {
	if v := x.cin(0); v != nil {
		return x.dequantizeConst(v)
	}
	t, ok := x.c.quant().types[x.in(0)]
	if !ok {
		return x.unsupported("input %q is not the output of a QuantizeLinear (int8 graph inputs are not supported)", x.in(0))
	}
	_, err := x.emitQDQ(t, true)
	return err
}

// dequantizeConst folds the DequantizeLinear of constant v and remembers
// its integers for emitConst.
func (x *nctx) dequantizeConst(v *cval) error {
	if v.onnxType != dtInt8 && v.onnxType != dtUint8 && v.onnxType != dtInt32 {
		return x.unsupported("quantised constant of type %s: signet runs int8, uint8 (as int8) and int32 biases", typeName(v.onnxType))
	}
	scale, zero, zt, axis, err := x.qparams(len(v.shape), v.onnxType)
	if err != nil {
		return err
	}
	if zt != v.onnxType {
		return x.malformed("zero point of type %s for an input of type %s", typeName(zt), typeName(v.onnxType))
	}
	if err := x.c.spendFold(int64(len(v.i)) * 5); err != nil {
		return x.fail("", err)
	}
	q := &qconst{scale: scale, axis: axis}
	at := perAxis(v.shape, axis, len(scale))
	f := make([]float32, len(v.i))
	if v.onnxType == dtInt32 {
		for _, z := range zero {
			if z != 0 {
				return x.unsupported("int32 input with zero point %d", z)
			}
		}
		b := make([]byte, 4*len(v.i))
		for i, w := range v.i {
			binary.LittleEndian.PutUint32(b[4*i:], uint32(int32(w)))
			f[i] = float32(int32(w)) * scale[at(i)]
		}
		q.data = model.Tensor{DType: model.Int32, Shape: v.shape, Data: b}
		q.zero = make([]int8, len(scale))
	} else {
		shift, _ := x.int8Shift(v.onnxType)
		if q.zero, err = x.int8Zero(zt, zero); err != nil {
			return err
		}
		b := make([]byte, len(v.i))
		for i, w := range v.i {
			k := at(i)
			b[i] = byte(int8(w - shift))
			f[i] = float32(int32(int8(w-shift))-int32(q.zero[k])) * scale[k]
		}
		q.data = model.Tensor{DType: model.Int8, Shape: v.shape, Data: b}
	}
	q.v = &cval{onnxType: dtFloat, shape: v.shape, f: f}
	q.f = slices.Clone(f)
	x.c.quant().consts[x.out(0)] = q
	x.setConst(0, q.v)
	return nil
}

// spendFold charges bytes against the folding budget.
func (c *conv) spendFold(bytes int64) error {
	if bytes > c.foldBudget {
		return sizeErr(ErrTooLarge, "dequantised constants over the folding budget of %d bytes", c.foldTotal)
	}
	c.foldBudget -= bytes
	c.rep.foldBytes += bytes
	return nil
}

// emitConst adds constant name (value v, read by a native node) to g: as
// its integer tensor and a DequantizeLinear when a DequantizeLinear made
// it and no pass changed it, else as itself.
func (c *conv) emitConst(g *model.Graph, name string, v *cval) {
	var q *qconst
	if c.q != nil {
		q = c.q.consts[name]
	}
	if q == nil || q.v != v || !slices.Equal(q.v.f, q.f) {
		g.Initializers = append(g.Initializers, v.toModel(name))
		return
	}
	base := shortName(name)
	data := q.data
	data.Name = c.fresh(base + "_quantized")
	sc, zp := c.fresh(base+"_scale"), c.fresh(base+"_zero_point")
	shape := []int64{int64(len(q.scale))}
	if len(q.scale) == 1 {
		shape = nil
	}
	zt := model.Tensor{Name: zp, DType: model.Int8, Shape: shape, Data: make([]byte, len(q.zero))}
	if data.DType == model.Int32 {
		zt = model.Tensor{Name: zp, DType: model.Int32, Shape: shape, Data: make([]byte, 4*len(q.zero))}
	}
	for i, z := range q.zero {
		if data.DType == model.Int8 {
			zt.Data[i] = byte(z)
		}
	}
	g.Initializers = append(g.Initializers, data, model.NewFloat32Tensor(sc, shape, q.scale), zt)
	n := model.Node{Op: model.OpDequantizeLinear, Name: c.fresh(base + "_dequantize"), Inputs: []string{data.Name, sc, zp}, Outputs: []string{name}}
	if q.axis >= 0 {
		n.Attrs = []model.Attr{intAttr("axis", q.axis)}
	}
	g.Nodes = append(g.Nodes, n)
}

// quantTensor converts an int8 constant (the scale's zero point the
// converter writes) to a file tensor; ok is false for other types.
func (c *cval) quantTensor(name string) (model.Tensor, bool) {
	if c.onnxType != dtInt8 {
		return model.Tensor{}, false
	}
	b := make([]byte, len(c.i))
	for i, v := range c.i {
		b[i] = byte(int8(v))
	}
	return model.Tensor{Name: name, DType: model.Int8, Shape: c.shape, Data: b}, true
}
