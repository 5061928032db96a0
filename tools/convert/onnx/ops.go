package onnx

// Operators described once. Every ONNX operator the converter reads has one
// descriptor, an opDesc, in the table of its family:
//
//	ops_conv.go   Conv, MaxPool, AveragePool, GlobalAveragePool
//	ops_elem.go   Relu, Sigmoid, HardSwish, LeakyRelu, HardSigmoid, Clip, Add, Sub, Mul, Div
//	ops_gemm.go   Gemm, MatMul
//	ops_math.go   Erf, Sqrt, Tanh, Neg, Abs, Reciprocal, Exp, Log, Pow, Max, Min, PRelu
//	ops_norm.go   BatchNormalization, LpNormalization, LayerNormalization, Softmax,
//	              ReduceMean, ReduceL2, ReduceSum, ReduceMax, ReduceMin
//	ops_pad.go    Pad
//	ops_layout.go Concat, Split, Slice, Gather, Transpose
//	ops_shape.go  Flatten, Reshape, Unsqueeze, Squeeze, Expand, Shape
//	ops_value.go  Constant, ConstantOfShape, Identity, Dropout, Cast
//	ops_quant.go  QuantizeLinear, DequantizeLinear
//
// The descriptor says which opsets define the operator as the converter
// implements it, the native operator it becomes, which attributes it
// understands and their defaults, how many inputs and outputs a node has,
// how it is evaluated when every input is a constant, and how it is
// translated into native nodes. nctx.check enforces opsets, attributes and
// arity for every node before anything reads it, so a translation only sees
// declared attributes and the declared number of operands; the set of
// native operators the converter writes (nativeOps) is derived from the
// descriptors.
//
// Adding an operator, say Tanh, is one entry in its family's table:
//
//	"Tanh": {
//		versions:  []int64{1, 6, 13}, // where onnx.defs changed it
//		native:    "Tanh",            // the engine operator it becomes
//		inputs:    exactlyOne, outputs: exactlyOne,
//		fold:      foldUnary(fixed(tanh)), // optional: evaluate on constants
//		translate: (*nctx).unary,
//	},
//
// plus the engine's kernel and reference function for the native operator.
// Only an activation that should fuse into Conv, Gemm or MatMul also needs
// a case in fuseActivations (passes.go).

// An opDesc is everything the converter knows about one ONNX operator.
type opDesc struct {
	// versions lists the opsets in which the operator's definition
	// changed, up to 17, from onnx.defs of onnx 1.12. The converter
	// implements the definitions current in opsets 11–17; a model
	// declaring an older opset is read only when the operator did not
	// change between that opset and 11 (ONNX's backend tests declare the
	// opset in which an operator last changed: GlobalAveragePool 1,
	// HardSigmoid 6).
	versions []int64
	// readsFrom, when set, is the oldest opset whose definition the
	// translation also reads, though the operator changed between it and
	// 11 (Pad: its pads and value are attributes before opset 11).
	readsFrom int64
	// native is the operator of the native graph (model/ops.go) the node
	// becomes. Empty: it becomes a constant, or a placeholder (Identity,
	// Dropout, Expand) that the passes remove or refuse.
	native string
	// attrs are the attributes the converter understands, with their
	// defaults. Any other attribute is refused: ignoring one could change
	// what the node computes.
	attrs []attrSpec
	// inputs and outputs are the node's required and maximal operand
	// counts (max -1: any number). Inputs below the minimum must not be
	// empty; outputs past the ones a translation computes are marked as
	// not computed by signet.
	inputs, outputs arity
	// fold evaluates a node whose inputs are all constants and returns its
	// first output; nil means the operator is never evaluated at
	// conversion time.
	fold func(x *nctx, in []*cval) (*cval, error)
	// translate turns a node into native nodes (x.emit) or a constant
	// (x.setConst). It runs when fold is nil or an input is computed.
	translate func(x *nctx) error
}

// arity is a required and a maximal operand count; max -1 means any.
type arity struct{ min, max int }

func (a arity) admits(n int) bool { return n >= a.min && (a.max < 0 || n <= a.max) }

// exactlyOne is the arity of most operators.
var exactlyOne = arity{1, 1}

// attrSpec is one attribute an operator understands: its AttributeProto
// type and its default, a constant (i, f or s by type) or, when it depends
// on the node, described by note.
type attrSpec struct {
	name string
	typ  int32
	i    int64
	f    float32
	s    string
	note string
}

func optInt(name string, def int64) attrSpec { return attrSpec{name: name, typ: attrInt, i: def} }

func optFloat(name string, def float32) attrSpec {
	return attrSpec{name: name, typ: attrFloat, f: def}
}

func optString(name, def string) attrSpec { return attrSpec{name: name, typ: attrString, s: def} }

// optIntNote is an int attribute whose default depends on the node, or
// that has none.
func optIntNote(name, note string) attrSpec {
	return attrSpec{name: name, typ: attrInt, note: note}
}

func optFloatNote(name, note string) attrSpec {
	return attrSpec{name: name, typ: attrFloat, note: note}
}

func optInts(name, note string) attrSpec { return attrSpec{name: name, typ: attrInts, note: note} }

func optFloats(name, note string) attrSpec {
	return attrSpec{name: name, typ: attrFloats, note: note}
}

func optTensor(name, note string) attrSpec {
	return attrSpec{name: name, typ: attrTensor, note: note}
}

// attr returns the spec of the attribute name, nil when d does not declare it.
func (d *opDesc) attr(name string) *attrSpec {
	for i := range d.attrs {
		if d.attrs[i].name == name {
			return &d.attrs[i]
		}
	}
	return nil
}

// opTable maps ONNX operator types to their descriptors.
type opTable map[string]*opDesc

// families are the operator tables, one per file.
var families = []opTable{convOps, elemOps, gemmOps, layoutOps, mathOps, normOps, padOps, shapeOps, valueOps, quantOps}

// operators is every supported operator.
var operators = union(families)

func union(ts []opTable) opTable {
	all := opTable{}
	for _, t := range ts {
		for op, d := range t {
			all[op] = d
		}
	}
	return all
}
