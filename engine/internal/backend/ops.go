package backend

import "github.com/signet-go/signet/kernels"

// Op is one planned operation: the values it reads and writes (value ids,
// in the order its Args describe) and its resolved attributes.
type Op struct {
	Name   string // graph node name (or a planner-made name for conversions)
	OpType string // ONNX op type, or "Relayout" / "Materialize" for conversions
	In     []int
	Out    []int
	Args   Args
}

// Args are an Op's resolved attributes; the concrete type says the kind.
type Args interface{ kind() string }

// Copy writes Out[0] in storage order from In[0] read at
// Base + Σ idx[d]·Src[d] over Dims (given in Out's storage order; Out is
// contiguous). Layout conversions, view materialisation, Slice, Transpose
// and copying reshapes are all copies.
type Copy struct {
	Dims, Src []int
	Base      int
	Label     string // kernel label: "copy" or "copy-strided"
}

// Conv is a 2-D convolution of In[0] (NHWC) into Out[0] (NHWC) with
// weights W ([K][C/Group][KH][KW]), Bias (nil or K values) and a fused
// activation.
type Conv struct {
	P       kernels.ConvParams
	W, Bias []float32
	Act     kernels.Act
}

// Pool is a max or average pooling window over In[0] (NHWC) into Out[0]
// (NHWC).
type Pool struct {
	P        kernels.PoolParams
	Max      bool
	CountPad bool // average: count padded elements in the divisor
}

// GlobalAvgPool is the mean over H·W of an NHWC tensor of N images with C
// channels.
type GlobalAvgPool struct{ N, HW, C int }

// Gemm is Out[0] = act(Alpha·op(A)·op(B) + Beta·C) for In = [A, B] or
// [A, B, C], A M×K (K×M when TransA), B K×N (N×K when TransB), all
// logical row-major.
type Gemm struct {
	M, K, N        int
	TransA, TransB bool
	Alpha, Beta    float32
	Act            kernels.Act
	// BiasForm: C is absent or a constant broadcast along rows, given in
	// Bias (N values with Beta applied; nil when there is no C).
	BiasForm bool
	Bias     []float32
	CShape   []int // logical shape of C when present
}

// MatMul is Out[0] = act(A·B) for In = [A, B], stacks of M×K and K×N
// matrices broadcast over the batch dims Batch; SA and SB are each
// operand's element stride per batch dim (0 where broadcast).
type MatMul struct {
	M, K, N int
	Batch   []int
	SA, SB  []int
	Act     kernels.Act
	// BMatrix: B is one matrix (rank ≤ 2), so A's batch dims may fold into M.
	BMatrix bool
}

// Unary applies Act element-wise, In[0] to Out[0] (same layout).
type Unary struct{ Act kernels.Act }

// Binary is Out[0] = In[0] Op In[1] with broadcasting, Op one of + - * /,
// BinMax, BinMin (max and min, NaN if either is NaN), BinPow (a^b as
// float32(math.Pow)) and BinPRelu (a ≥ 0 ? a : a·b): Dims is Out's storage
// shape and SY, SA, SB each operand's stride per dim (0 along broadcast
// dims).
type Binary struct {
	Op         byte
	Dims       []int
	SY, SA, SB []int
}

// Binary ops beyond the four arithmetic ones (which use their symbols).
const (
	BinMax   byte = 'M'
	BinMin   byte = 'm'
	BinPow   byte = '^'
	BinPRelu byte = 'p'
)

// Affine is y = x·Scale[c] + Shift[c] over storage (Outer, C, Inner).
type Affine struct {
	Outer, Inner int
	Scale, Shift []float32
}

// Concat lays its inputs' blocks side by side: for each of Outer rows of
// RowLen floats of Out[0], Chunk[i] floats from In[i].
type Concat struct {
	Outer, RowLen int
	Chunk         []int
}

// Split is the inverse of Concat: Out[i] gets Chunk[i] floats of each of
// In[0]'s Outer rows of RowLen.
type Split struct {
	Outer, RowLen int
	Chunk         []int
}

// Reduce writes, for each element of the kept dims (KeptDims, with
// In[0]'s strides KeptStrides), the reduction Kind (mean, Euclidean norm,
// sum, maximum or minimum) over the reduced dims (RedDims, RedStrides)
// into Out[0], row-major.
type Reduce struct {
	KeptDims, KeptStrides []int
	RedDims, RedStrides   []int
	Kind                  ReduceKind
}

// ReduceKind names what a Reduce computes.
type ReduceKind uint8

// Reductions.
const (
	ReduceMean ReduceKind = iota
	ReduceL2
	ReduceSum
	ReduceMax
	ReduceMin
)

// Pad writes Out[0], of storage dims Dims, from In[0], of storage dims
// InDims (same order and rank): element o reads input element o-Begin
// along every dim (Begin < 0 removes elements); outside the input Mode
// gives Value, the nearest element or the reflected one (kernels.PadMode).
type Pad struct {
	Dims, InDims, Begin []int
	Mode                kernels.PadMode
	Value               float32
}

// LayerNorm normalises the vectors of In[0] along a run of storage dims:
// Outer blocks of N·Inner elements, each holding Inner interleaved vectors
// of N elements Inner apart, into Out[0] (same layout), with Scale and
// Bias (N values each, nil for 1 and 0) applied per element of a vector.
// With Stats, Out[1] and Out[2] receive each vector's mean and
// 1/√(σ²+Eps), Outer·Inner values in storage order.
type LayerNorm struct {
	Outer, N, Inner int
	Eps             float32
	Scale, Bias     []float32
	Stats           bool
}

// Softmax is the softmax of In[0] into Out[0] (same layout) over vectors of
// N elements Inner apart, Outer blocks of N·Inner elements.
type Softmax struct{ Outer, N, Inner int }

// Normalize divides each vector along one storage axis (N elements,
// Stride apart, Outer·Stride of them) by its L2 norm (L1 with P1), at
// least Eps.
type Normalize struct {
	Outer, N, Stride int
	P1               bool
	Eps              float32
}

func (*Copy) kind() string          { return "Copy" }
func (*Conv) kind() string          { return "Conv" }
func (*Pool) kind() string          { return "Pool" }
func (*GlobalAvgPool) kind() string { return "GlobalAvgPool" }
func (*Gemm) kind() string          { return "Gemm" }
func (*MatMul) kind() string        { return "MatMul" }
func (*Unary) kind() string         { return "Unary" }
func (*Binary) kind() string        { return "Binary" }
func (*Affine) kind() string        { return "Affine" }
func (*Concat) kind() string        { return "Concat" }
func (*Split) kind() string         { return "Split" }
func (*Reduce) kind() string        { return "Reduce" }
func (*Normalize) kind() string     { return "Normalize" }
func (*Pad) kind() string           { return "Pad" }
func (*LayerNorm) kind() string     { return "LayerNorm" }
func (*Softmax) kind() string       { return "Softmax" }

// Kind names the kind of op's Args ("Conv", "Copy", ...).
func Kind(a Args) string { return a.kind() }

// Kinds lists every kind of Op the planner emits, for tests that check a
// backend's coverage.
func Kinds() []Args {
	return append([]Args{&Copy{}, &Conv{}, &Pool{}, &GlobalAvgPool{}, &Gemm{}, &MatMul{}, &Unary{}, &Binary{},
		&Affine{}, &Concat{}, &Split{}, &Reduce{}, &Normalize{},
		&Pad{}, &LayerNorm{}, &Softmax{}}, quantKinds()...)
}
