package backend

import (
	"unsafe"

	"github.com/signet-go/signet/kernels"
)

// Quantised values. An int8 value (Value.Int8) lives in host storage like
// any other, its elements packed four to a float32 slot of the arena: Buf
// returns the slots and Int8s the elements. Constants are never int8 at
// run time; int8 weights reach a backend in the Args of the Op that packs
// them (QConv, QGemm).

// Quantize is Out[0] (int8) = saturate(round(In[0] / Scale[c]) + Zero[c])
// element by element in storage order, the division in float32 and the
// rounding half to even, where c = i / Inner % len(Scale) for storage
// element i (one Scale for a per-tensor quantisation, one per index of a
// storage axis, Inner the elements after it, for a per-axis one). Zero
// has the length of Scale.
type Quantize struct {
	Scale []float32
	Zero  []int8
	Inner int
}

// Dequantize is Out[0] (float32) = float32(In[0] − Zero[c]) · Scale[c],
// c as in Quantize; In[0] is int8.
type Dequantize struct {
	Scale []float32
	Zero  []int8
	Inner int
}

// QConv is an int8 convolution of In[0] (int8, NHWC, zero point ZeroIn)
// into Out[0] (int8, NHWC), kernels.QConvRef's computation: weights W
// (OIHW, symmetric), Bias (nil or K values, accumulator units), Scale (K
// requantisation scales: input scale × weight scale / output scale) and
// the output's zero point and clamp Out.
type QConv struct {
	P      kernels.ConvParams
	W      []int8
	Bias   []int32
	ZeroIn int8
	Scale  []float32
	Out    kernels.QOut
}

// QGemm is Out[0] (int8, M×N) = requantize(Bias + (In[0] − ZeroIn)·W) for
// In[0] int8 M×K row-major, kernels.QGemmRef's computation with W K×N (N×K
// when TransB), Bias nil or N values and Scale N values.
type QGemm struct {
	M, K, N int
	W       []int8
	TransB  bool
	Bias    []int32
	ZeroIn  int8
	Scale   []float32
	Out     kernels.QOut
}

// QMaxPool is a max pooling of In[0] (int8, NHWC) into Out[0] (int8,
// NHWC): the maximum commutes with dequantisation, so with the input's
// scale and zero point kept it is exact; a window wholly in the padding
// gives -128 (float32's -Inf quantised).
type QMaxPool struct {
	P kernels.PoolParams
}

// QAdd is Out[0] = clamp(quantize(float32(In[0] − ZeroA)·ScaleA +
// float32(In[1] − ZeroB)·ScaleB, Scale, Out.ZeroPoint), Out.Lo, Out.Hi)
// element by element over three int8 values of one shape and layout: the
// float32 operations of DequantizeLinear, Add and QuantizeLinear in their
// order, so it is exact.
type QAdd struct {
	ScaleA, ScaleB float32
	ZeroA, ZeroB   int8
	Scale          float32
	Out            kernels.QOut
}

// QGlobalAvgPool is Out[0][n, c] (int8, N×C) = Out.Requantize(Σ over
// the HW pixels of (In[0][n, ·, c] − ZeroIn), Scale) for In[0] int8 NHWC
// (N images of HW pixels of C channels): the exact integer sum, scaled
// once by input scale / (HW · output scale).
type QGlobalAvgPool struct {
	N, HW, C int
	ZeroIn   int8
	Scale    float32
	Out      kernels.QOut
}

func (*QGlobalAvgPool) kind() string { return "QGlobalAvgPool" }
func (*QAdd) kind() string           { return "QAdd" }
func (*QMaxPool) kind() string       { return "QMaxPool" }
func (*Quantize) kind() string       { return "Quantize" }
func (*Dequantize) kind() string     { return "Dequantize" }
func (*QConv) kind() string          { return "QConv" }
func (*QGemm) kind() string          { return "QGemm" }

// quantKinds are the kinds of Op over int8 values, listed in Kinds.
func quantKinds() []Args {
	return []Args{&Quantize{}, &Dequantize{}, &QConv{}, &QGemm{}, &QMaxPool{}, &QAdd{}, &QGlobalAvgPool{}}
}

// Int8s returns the first n int8 elements held in the float32 slots buf
// (at least (n+3)/4 of them).
func Int8s(buf []float32, n int) []int8 {
	if n == 0 {
		return nil
	}
	_ = buf[(n-1)/4]
	return unsafe.Slice((*int8)(unsafe.Pointer(unsafe.SliceData(buf))), n)
}

// Bytes returns the float32 slots buf as bytes (int8 kernels' scratch).
func Bytes(buf []float32) []byte {
	if len(buf) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(buf))), 4*len(buf))
}
