package model

// The operator set of the native graph. Op names, input order and attribute
// names follow ONNX (opsets 11–17) so a converted graph reads like its source;
// the differences, all resolved by the converter, are:
//
//   - every operand that ONNX allows as a tensor input but signet needs at plan
//     time is a constant: Clip's min/max become float attributes "min"/"max";
//     Split's split, Slice's starts/ends/axes/steps, ReduceL2/ReduceMean axes
//     become int attributes; Reshape's shape stays an Int64 initializer input;
//   - Conv, Gemm and MatMul may carry a fused activation: attribute
//     "activation" (one of the Act* names below) and "activation_params"
//     (floats: Clip min,max; LeakyRelu alpha; HardSigmoid alpha,beta);
//   - BatchNormalization after Conv is folded into the Conv's weights;
//     a standalone one (no preceding Conv) stays and is executed;
//   - OpGELU replaces the x·0.5·(1+Erf(x/√2)) PyTorch exports for GELU
//     (the products in any order, x·(1/√2) for the division);
//   - OpSiLU replaces x*Sigmoid(x); OpL2Normalize replaces the
//     ReduceL2 → Clip(min=eps) → Expand → Div pattern PyTorch's F.normalize
//     emits (y = x / max(‖x‖₂ over axis, epsilon));
//   - Identity and Dropout are removed;
//   - Pad's pads and constant value become attributes "pads" (ints, ONNX
//     order: all begins, then all ends) and "value" (float); a zero Pad
//     that feeds a Conv or an equivalent AveragePool/MaxPool is folded
//     into that node's pads;
//   - LayerNormalization names its normalised axes in an ints attribute
//     "axes" (ascending and contiguous; ONNX's axis a becomes a..rank-1),
//     and Scale and B, when present, are constants of exactly the
//     normalised dims. The ReduceMean/Sub/Pow/ReduceMean/Add/Sqrt/Div
//     (Mul, Add) pattern PyTorch exports for layer_norm becomes one;
//   - Softmax has opset 13's single-axis semantics (older opsets'
//     flatten-to-2-D semantics become Reshape, Softmax, Reshape);
//   - ReduceSum's axes (an input from opset 13) become an attribute, as
//     ReduceMax's and ReduceMin's.
//
// Conv keeps ONNX's OIHW weight layout [Cout, Cin/group, kH, kW] in the file;
// the engine repacks weights once at load for its kernels.
const (
	OpConv               = "Conv"               // X, W, B?; strides, pads, dilations, group, auto_pad, kernel_shape
	OpGemm               = "Gemm"               // A, B, C?; alpha, beta, transA, transB
	OpMatMul             = "MatMul"             // A, B
	OpBatchNormalization = "BatchNormalization" // X, scale, B, mean, var; epsilon
	OpRelu               = "Relu"
	OpClip               = "Clip" // min, max (float attrs; absent = unbounded)
	OpLeakyRelu          = "LeakyRelu"
	OpSigmoid            = "Sigmoid"
	OpHardSigmoid        = "HardSigmoid" // alpha (0.2), beta (0.5)
	OpHardSwish          = "HardSwish"
	OpSiLU               = "SiLU" // x*sigmoid(x); signet-native
	OpMaxPool            = "MaxPool"
	OpAveragePool        = "AveragePool"
	OpGlobalAveragePool  = "GlobalAveragePool"
	OpAdd                = "Add"
	OpSub                = "Sub"
	OpMul                = "Mul"
	OpDiv                = "Div"
	OpConcat             = "Concat"
	OpFlatten            = "Flatten"
	OpReshape            = "Reshape"
	OpTranspose          = "Transpose"
	OpSplit              = "Split"
	OpSlice              = "Slice"
	OpReduceMean         = "ReduceMean"
	OpReduceL2           = "ReduceL2"
	OpLpNormalization    = "LpNormalization"
	OpL2Normalize        = "L2Normalize" // axis, epsilon; signet-native
	// Element-wise math. Pow's exponent Y broadcasts as Add's
	// operands do, Max and Min take two inputs (the converter chains ONNX's
	// variadic ones), PRelu's slope broadcasts to X's shape.
	OpErf        = "Erf"
	OpGELU       = "GELU" // x·(1+erf(x/√2))/2; signet-native
	OpSqrt       = "Sqrt"
	OpPow        = "Pow" // X, Y
	OpTanh       = "Tanh"
	OpNeg        = "Neg"
	OpAbs        = "Abs"
	OpReciprocal = "Reciprocal"
	OpExp        = "Exp"
	OpLog        = "Log"
	OpMax        = "Max"   // A, B
	OpMin        = "Min"   // A, B
	OpPRelu      = "PRelu" // X, slope
	// Pad, layer normalisation, softmax and the other reductions.
	OpPad                = "Pad"                // X; mode, pads (ints), value (float)
	OpLayerNormalization = "LayerNormalization" // X, Scale?, B?; axes, epsilon (outputs Y, Mean?, InvStdDev?)
	OpSoftmax            = "Softmax"            // axis (opset 13 semantics)
	OpReduceSum          = "ReduceSum"          // axes, keepdims (as ReduceMean)
	OpReduceMax          = "ReduceMax"
	OpReduceMin          = "ReduceMin"
	// QDQ quantisation (see FORMAT.md, "Quantised values"): X, scale,
	// zero point; attribute axis.
	OpQuantizeLinear   = "QuantizeLinear"   // X float32 → int8
	OpDequantizeLinear = "DequantizeLinear" // X int8 (or an int32 constant) → float32
)

// Names of fused activations (the "activation" attribute of Conv, Gemm, MatMul).
const (
	ActRelu        = "Relu"
	ActClip        = "Clip"
	ActLeakyRelu   = "LeakyRelu"
	ActSigmoid     = "Sigmoid"
	ActHardSigmoid = "HardSigmoid"
	ActHardSwish   = "HardSwish"
	ActSiLU        = "SiLU"
	ActGELU        = "GELU"
)
