// Package backend is the seam between the engine's planner and the code
// that runs a plan. The planner (package engine) is backend-neutral: it
// infers every shape, chooses each tensor's layout, plans the views and
// layout conversions, computes liveness and the arena, and describes each
// operation as an Op: a kind, its operand values and attributes resolved to
// plain numbers (a Conv's padding, a Gemm's strides, a BatchNormalization
// folded into a scale and a shift). A Backend lowers each Op to a Kernel of
// its own, and says beforehand which Ops it can lower (Supports), as ggml's
// backends answer supports_op and ollama's ml.Backend builds its own
// operations.
//
// A Kernel runs against an Exec, which hands out the storage of each value
// (the arena slice or constant the planner assigned), per-worker scratch
// and the session's worker threads. Kernels must not allocate.
//
// The CPU backend (engine/internal/cpu) is the first implementation. A new
// backend is one package implementing Backend (under engine/, so that it may
// import this package) that calls Register from init; engine's op-by-op test
// (TestBackendOps) then runs it against the reference with no change to the
// tests. Today the engine plans every model for the CPU backend; a second
// backend needs the engine to choose it, and kernels that read values from
// Exec.Buf, which is host memory (a device backend keeps device copies of
// the values it computes and uploads and downloads at its boundaries).
//
// Adding an operator: the planner's build function in engine/ops_*.go
// (shapes, layouts, attributes) emits an Op, reusing an Args kind of ops.go
// when one fits or adding one (and listing it in Kinds); each backend lowers
// it (for the CPU, a lower function and a step in engine/internal/cpu over a
// kernel in package kernels with its generic twin); one case in
// engine/backend_ops_test.go and one function in engine/reference check it.
package backend

import "github.com/signet-go/signet/kernels"

// Layout is how a value's elements lie in storage.
type Layout uint8

const (
	// Logical stores a tensor row-major in its logical dimension order.
	Logical Layout = iota
	// NHWC stores a rank-4 logical [N,C,H,W] tensor as [N,H,W,C].
	NHWC
)

// Value is what a backend sees of one planned tensor.
type Value struct {
	Name   string
	Shape  []int // logical dims
	Size   int   // elements
	Layout Layout
	// Const is a constant's data in Layout while planning (it may alias
	// the model: a backend copies what it keeps); nil for runtime values.
	Const   []float32
	IsConst bool
}

// Graph is what a backend may ask of the planner while lowering an Op.
type Graph interface {
	// Value returns planned value id.
	Value(id int) Value
	// Reserve accounts floats the backend is about to hold (packed
	// weights, copies of constants) against the memory budget; it must
	// be called before allocating them and its error returned.
	Reserve(floats int64) error
	// ReserveTemp checks that floats more, freed once the Op is lowered,
	// fit the budget beside what is reserved.
	ReserveTemp(floats int64) error
	// UseScratch asks for at least floats of per-worker scratch.
	UseScratch(floats int)
	// Threads is the number of workers a session runs.
	Threads() int
}

// Backend lowers planned Ops to Kernels.
type Backend interface {
	// Name names the backend, e.g. "cpu".
	Name() string
	// Supports reports whether Lower can lower op.
	Supports(op *Op, g Graph) bool
	// Lower returns the kernel that computes op. An error is an
	// unsupported case Supports could not see, or a budget refused.
	Lower(op *Op, g Graph) (Lowered, error)
}

// Lowered is one Op lowered.
type Lowered struct {
	Kernel Kernel
	Name   string       // kernel name, e.g. "f32-conv-igemm/f32-gemm-4x8-go"
	Tier   kernels.Tier // tier of that kernel
	// Reads lists the values the kernel reads at run time when that is
	// fewer than the Op's inputs (a constant packed while lowering is read
	// no more); nil means all of op.In. The planner's liveness and its
	// release of constants follow it.
	Reads []int
}

// A Kernel computes one planned Op.
type Kernel interface {
	Run(x Exec)
}

// Exec is a session as kernels see it.
type Exec interface {
	// Buf returns the storage of value id.
	Buf(id int) []float32
	// Scratch returns worker w's scratch (at least the largest UseScratch).
	Scratch(w int) []float32
	// Parallel runs tasks 0..n-1 of t over the session's workers and
	// waits for them; which worker runs a task never changes its result.
	Parallel(n int, t Tasker)
}

// A Tasker is a kernel whose work is split into independent tasks; task i
// always computes the same outputs the same way, whichever worker runs it.
type Tasker interface {
	Task(x Exec, worker, i int)
}

// A RangeTasker runs a contiguous range of its tasks at once, which lets a
// GEMM keep a block of weights in cache across the range.
type RangeTasker interface {
	Tasker
	TaskRange(x Exec, worker, lo, hi int)
}
