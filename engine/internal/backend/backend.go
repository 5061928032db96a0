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
// The CPU backend (engine/internal/cpu) is the first implementation and
// the fallback: engine.Options.Backend picks a backend by its Register
// name, and every Op that backend does not support (Supports false, or
// Lower failing with an error other than a budget's) is lowered by the CPU
// backend instead; engine.LayerInfo.Backend shows the mix.
//
// # Memory
//
// Values live in host memory: Exec.Buf is the arena slice or constant the
// planner assigned, and a backend's kernels may compute in it directly.
// A device backend (CUDA, issue 14) keeps the values it computes in memory
// of its own instead and implements Resident: the planner then inserts a
// transfer step (Op "Transfer" in Layers) wherever a value crosses between
// the two memories — before the first of the backend's steps that reads a
// value computed in host memory (a graph input, the output of a
// CPU-lowered op), and before the first CPU step that reads a value the
// backend computed, and for each graph output it computed. A value is
// written once, so after its transfer it is current in both memories.
// Constants never cross at run time: the backend gets them while lowering
// (Value.Const) and uploads what it keeps, once per engine. The host arena
// still holds a buffer for every runtime value, and the planner's buffer
// reuse is the host's: the backend plans its own memory, per session in
// NewState (called once planning is done), from the Ops and Transfers it
// was given, in execution order.
//
// # Adding a backend
//
// Files to touch:
//   - engine/internal/<name>/ (a new package; under engine/ so that it may
//     import this one): a type implementing Backend (and Resident if its
//     values do not live in host memory), registered from init with
//     Register("<name>", factory), Supports true only for the Op kinds and
//     attributes it lowers;
//   - engine/backends.go: one blank import of the package, so that linking
//     the engine links the backend (or a file of its own beside it behind
//     a build tag, e.g. backends_cuda.go, for a backend that needs a
//     toolchain or driver some builds lack).
//
// Nothing else: engine.Options.Backend names it, the CPU backend lowers
// what it does not, and TestBackendOps (engine/backend_ops_test.go) runs
// it at every tier and thread count against engine/reference with each
// case's error bound, with no change to the test. A backend may start with
// one kind of Op. engine/backend_fake_test.go registers two such backends
// from a test file (element-wise Ops only, in plain Go; one of them
// Resident) as worked examples.
//
// # Adding an operator
//
// The planner's build function in engine/ops_*.go (shapes, layouts,
// attributes) emits an Op, reusing an Args kind of ops.go when one fits or
// adding one (and listing it in Kinds); the CPU backend lowers it (a lower
// function and a step in engine/internal/cpu over a kernel in package
// kernels with its generic twin), other backends when they choose to (a
// new kind falls back to the CPU until they do); one case in
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
	// Int8 says the elements are int8, four to a float32 of storage
	// (see Int8s).
	Int8 bool
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
	// Buf returns the host storage of value id.
	Buf(id int) []float32
	// Scratch returns worker w's scratch (at least the largest UseScratch).
	Scratch(w int) []float32
	// Parallel runs tasks 0..n-1 of t over the session's workers and
	// waits for them; which worker runs a task never changes its result.
	Parallel(n int, t Tasker)
	// State returns what NewState made for this session when the backend
	// that lowered the running kernel is a Resident, else nil.
	State() any
}

// A Resident is a backend whose kernels keep the values they compute in
// memory of their own (a device's) rather than in Exec.Buf; see Memory in
// the package comment.
type Resident interface {
	Backend
	// Transfer lowers the copy of runtime value id between its host
	// storage (Exec.Buf) and the backend's memory, in direction dir. The
	// planner runs the kernel as a step of its own, attributed to this
	// backend, and frees neither copy before its last reader.
	Transfer(id int, dir Direction, g Graph) (Lowered, error)
	// NewState makes one session's state (its device memory, streams),
	// handed to the backend's kernels as Exec.State. Session.Close closes
	// it when it is an io.Closer.
	NewState() any
}

// Direction is the way a Transfer copies.
type Direction uint8

const (
	// ToDevice copies host storage into the backend's memory.
	ToDevice Direction = iota
	// ToHost copies the backend's copy into host storage.
	ToHost
)

func (d Direction) String() string {
	if d == ToHost {
		return "to-host"
	}
	return "to-device"
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
