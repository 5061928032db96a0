// Package engine runs a signet model: it plans a graph once (shapes, kernels,
// packed weights, a static memory arena) and then executes it with no
// allocation per inference.
//
// Layout. Activations of rank 4 are stored NHWC internally while their
// logical shape stays NCHW as in the graph; inputs are converted from NCHW on
// the way in and outputs back on the way out. Conv, pooling, element-wise ops
// (broadcasting through per-operand strides), Concat, Split, Slice and the
// normalisations work on NHWC directly; the few ops that need the logical
// order (Reshape, Flatten, MatMul, the reductions) get a planned conversion
// ("Relayout" in Layers) only when H·W > 1 and C > 1.
//
// Memory. New infers every shape, computes each value's last reader and
// lays the values out in one arena (element-wise ops and reshapes write in
// place when their input dies there), the largest first, each where
// nothing live at the same time lies, so the arena comes close to the most
// data live at any one step (it equals it for the torchvision models).
// Weights are held once: packed from the model's tensors read in place,
// after which the plan keeps no reference to them (weights.go). NewSession
// allocates the arena, the per-thread GEMM scratch and the output buffers;
// Run and RunMulti allocate nothing.
//
// Backends. Planning is backend-neutral: New infers shapes and layouts and
// describes each operation as an engine/internal/backend Op (kind, operand
// values, attributes resolved to numbers); a backend says which Ops it
// supports and lowers each to a kernel. Options.Backend names the backend
// (Backends lists them; the default is the CPU backend, engine/internal/cpu,
// which lowers every Op to package kernels at the engine's tier); an Op the
// chosen backend does not support is lowered by the CPU backend instead,
// and Layers says which backend runs each layer. TestBackendOps runs every
// registered backend op by op against the reference.
//
// Threads. Options.Threads workers per Session (the caller plus Threads-1
// goroutines started by NewSession, stopped by Close). Each layer's work is
// cut into tasks over output tiles, rows or channel blocks; K is never split,
// so every output element is computed the same way whatever the thread count
// and results are bit-identical for any Threads.
//
// An Engine is immutable and may be shared by any number of goroutines; each
// goroutine uses its own Session. Inputs containing NaN or ±Inf are rejected
// before anything runs (ErrNonFinite, naming the first bad index).
package engine

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"math"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/signet-go/signet/engine/internal/backend"
	"github.com/signet-go/signet/engine/internal/cpu"
	"github.com/signet-go/signet/kernels"
	"github.com/signet-go/signet/model"
	"github.com/signet-go/signet/model/sign"
)

// Sentinel errors; every error the package returns for bad input wraps one.
var (
	// ErrShape reports an input or output slice of the wrong length, or a
	// graph whose shapes do not fit together.
	ErrShape = errors.New("engine: shape mismatch")
	// ErrNonFinite reports a NaN or ±Inf in an input tensor. Inputs are
	// checked before anything runs; the message names the first bad index.
	ErrNonFinite = errors.New("engine: non-finite input value")
	// ErrNilImage reports a nil image passed to Embed or Preprocess.
	ErrNilImage = errors.New("engine: nil image")
	// ErrUnsupported reports an op or attribute combination the engine
	// cannot run; the message names the node and its op. It is returned by
	// New, never by Run.
	ErrUnsupported = errors.New("engine: unsupported")
	// ErrBudget reports a model whose plan needs more memory or work than
	// Options.MemoryLimit or Options.MaxWork allow. It is returned by New.
	ErrBudget = errors.New("engine: over budget")
)

// MaxThreads bounds Options.Threads.
const MaxThreads = 256

// Options configures an Engine.
type Options struct {
	// Threads is the number of threads one inference uses (0 or 1: one;
	// at most MaxThreads).
	Threads int
	// Tier is the kernel tier used when ForceTier is set.
	Tier kernels.Tier
	// ForceTier selects exactly Tier (Generic when Tier is not available on
	// this machine). By default the best available tier is used.
	ForceTier bool
	// Backend names the backend that runs the model (one of Backends; ""
	// is "cpu"). The layers it has no kernel for run on the CPU backend,
	// at the tier above, and LayerInfo.Backend says so; an unknown name
	// makes New fail with ErrUnsupported.
	Backend string
	// WorkerSpin is how long a session's idle worker threads keep polling
	// for work before they sleep (0: DefaultWorkerSpin; negative: sleep at
	// once). The default keeps them awake through one inference, whose
	// layers follow each other within microseconds. Waking a sleeping
	// thread costs from tens of microseconds to milliseconds (more on a
	// virtual machine), and the first layers after the wake-up may run on a
	// shared core: to run at a steady frame rate with Threads > 1, set it
	// above the frame interval, at the price of Threads-1 cores busy-waiting
	// between frames (ONNX Runtime's thread spinning makes the same trade).
	WorkerSpin time.Duration
	// NoWinograd turns off Winograd F(4×4, 3×3) convolution. By default the
	// CPU backend runs 3×3 stride-1 convolutions with enough output tiles
	// by Winograd (about twice as fast on large feature maps; LayerInfo's
	// Kernel says which), whose fp32 rounding differs from the direct
	// convolution's within the engine's parity bar, and where a NaN or an
	// infinity among a layer's inputs makes every output of its 4×4 tile
	// NaN (the direct convolution keeps ±Inf to the pixels it reaches).
	// Either way results do not depend on Threads.
	NoWinograd bool
	// MemoryLimit bounds, in bytes, the packed weights plus one session's
	// arena, scratch and outputs (Engine.MemoryBytes), checked by New before
	// any of it is allocated. 0 means DefaultMemoryLimit (2 GiB), NoLimit
	// none: the zero Options are safe for a model nobody here made.
	MemoryLimit int64
	// MaxWork bounds the work of one inference (Engine.WorkPerRun: FLOPs,
	// or elements written for layers that only move data). 0 means
	// DefaultMaxWork (64e9), NoLimit none.
	MaxWork int64
	// TrustedKeys, when not nil, makes Load refuse a model file without a
	// valid signature by one of these keys in path+".sig" (ErrSignature),
	// checked on the file's bytes before they are decoded or planned; an
	// empty non-nil set refuses every file. New gets a decoded model, not a
	// file, so it cannot check a signature and refuses Options with
	// TrustedKeys set rather than run an unchecked model believed checked.
	TrustedKeys []ed25519.PublicKey
}

// DefaultWorkerSpin is the default of Options.WorkerSpin.
const DefaultWorkerSpin = 200 * time.Microsecond

// LayerInfo describes one planned layer.
type LayerInfo struct {
	Name   string       // node name
	Op     string       // op type
	Kernel string       // kernel the layer runs, e.g. "f32-conv-igemm/f32-gemm-4x8-go"
	Tier   kernels.Tier // tier of that kernel
	FLOPs  int64        // multiply-adds count twice
	// Bytes is what the layer moves at the least: its runtime inputs and
	// outputs (4 bytes a float32 element, 1 an int8 one) and the stored
	// size of the constants its node reads (the weights). The kernels may
	// touch some of it more than once.
	Bytes int64
	// Backend names the backend that lowered the layer: Options.Backend's,
	// or "cpu" for a layer that backend has no kernel for.
	Backend string
}

// Backends returns the names of the backends Options.Backend may name,
// sorted; "cpu" is always one of them.
func Backends() []string { return backend.Registered() }

// Engine is a planned model. It is immutable and safe for concurrent use.
type Engine struct {
	m       *model.Model
	opts    Options
	threads int
	tier    kernels.Tier
	p       *plan
	pre     preproc
	closer  func() error
	sig     *sign.Signature // set by Load with TrustedKeys
}

// New plans m for execution. Any op or attribute combination the engine
// cannot run is reported here (ErrUnsupported), never at Run time.
func New(m *model.Model, opts Options) (*Engine, error) { return newEngine(m, opts, nil) }

// newEngine is New lowering with the backend f makes (nil: the one
// opts.Backend names).
func newEngine(m *model.Model, opts Options, f backend.Factory) (*Engine, error) {
	if m == nil {
		return nil, fmt.Errorf("%w: nil model", ErrUnsupported)
	}
	if opts.TrustedKeys != nil {
		return nil, errNewTrustedKeys
	}
	e := &Engine{m: m, opts: opts, threads: min(max(1, opts.Threads), MaxThreads), tier: kernels.Best()}
	if opts.ForceTier {
		e.tier = kernels.Gemm(opts.Tier).Tier
	}
	if f == nil {
		name := opts.Backend
		if name == "" {
			name = cpuBackend
		}
		var ok bool
		if f, ok = backend.Get(name); !ok {
			return nil, fmt.Errorf("%w: no backend %q (backends: %s)", ErrUnsupported, name, strings.Join(backend.Registered(), ", "))
		}
	}
	be := f(e.tier)
	if _, isCPU := be.(*cpu.Backend); isCPU && opts.NoWinograd {
		be = cpu.New(e.tier, false)
	}
	p, err := compileWith(newCompiler(m, e.tier, e.threads, opts, be))
	if err != nil {
		return nil, err
	}
	e.p = p
	e.pre = newPreproc(p, metaView{order: m.Meta.ChannelOrder, mean: m.Meta.Mean, std: m.Meta.Std})
	return e, nil
}

// Load opens a model file and plans it; Close releases the file.
func Load(path string, opts Options) (*Engine, error) {
	m, sig, err := openModel(path, opts.TrustedKeys)
	if err != nil {
		return nil, err
	}
	opts.TrustedKeys = nil // verified by openModel
	e, err := New(m, opts)
	if err != nil {
		m.Close()
		return nil, err
	}
	e.closer, e.sig = m.Close, sig
	return e, nil
}

// Close releases the model file opened by Load. Sessions must not be used
// afterwards. It is a no-op for engines made with New.
func (e *Engine) Close() error {
	if e.closer == nil {
		return nil
	}
	c := e.closer
	e.closer = nil
	return c()
}

// Model returns the model the engine runs.
func (e *Engine) Model() *model.Model { return e.m }

// Tier returns the kernel tier the engine's GEMM layers use.
func (e *Engine) Tier() kernels.Tier { return e.tier }

// InputShapes returns the logical (NCHW) shape of each graph input, batch 1.
func (e *Engine) InputShapes() [][]int {
	var out [][]int
	for _, id := range e.p.inputs {
		out = append(out, append([]int(nil), e.p.vals[id].shape...))
	}
	return out
}

// OutputShapes returns the logical shape of each graph output.
func (e *Engine) OutputShapes() [][]int {
	var out [][]int
	for _, id := range e.p.outputs {
		out = append(out, append([]int(nil), e.p.vals[id].shape...))
	}
	return out
}

// SessionBytes is the memory one Session allocates (activation arena,
// per-thread scratch and output buffers): the bound on its working memory.
func (e *Engine) SessionBytes() int64 { return e.p.sessionBytes(e.threads) }

// Layers describes every planned layer in execution order, including the
// layout conversions the planner inserted (Op "Relayout").
func (e *Engine) Layers() []LayerInfo {
	out := make([]LayerInfo, len(e.p.layers))
	copy(out, e.p.layers)
	return out
}

// Session runs an Engine. It owns all buffers and worker goroutines; it must
// be used by one goroutine at a time. Close stops its workers.
type Session struct {
	e       *Engine
	arena   []float32
	v       [][]float32 // every value's storage (arena slice or constant)
	outs    [][]float32 // graph outputs in logical layout
	scratch [][]float32 // per-thread scratch
	states  []any       // per backend of the plan: its NewState (backend.Resident), else nil
	state   any         // states entry of the running step's backend
	pool    *workerPool
	par     int           // workers the running step may use (plan.par)
	next    atomic.Uint64 // generation<<32 | next unclaimed task of the running step
	gen     uint32        // generation of the running step's tasks
	active  atomic.Int32  // workers inside drain
	closed  bool
	profile []time.Duration // per-step times RunProfile adds to, else nil
}

// NewSession allocates a session's arena and starts its worker goroutines
// (Threads-1 of them; the calling goroutine is the first worker).
func (e *Engine) NewSession() *Session {
	p := e.p
	s := &Session{e: e, arena: make([]float32, p.arenaSize)}
	s.v = make([][]float32, len(p.vals))
	for i := range p.vals {
		v := &p.vals[i]
		if v.isConst {
			s.v[i] = v.konst
		} else if v.size >= 0 && v.buf >= 0 {
			off := p.bufOff[v.buf]
			s.v[i] = s.arena[off : off+v.slots() : off+v.slots()]
		}
	}
	for _, id := range p.outputs {
		s.outs = append(s.outs, make([]float32, p.vals[id].size))
	}
	s.scratch = make([][]float32, e.threads)
	for i := range s.scratch {
		s.scratch[i] = make([]float32, p.scratch)
	}
	s.states = make([]any, len(p.bes))
	for i, be := range p.bes {
		if r, ok := be.(backend.Resident); ok {
			s.states[i] = r.NewState()
		}
	}
	spin := e.opts.WorkerSpin
	if spin == 0 {
		spin = DefaultWorkerSpin
	}
	s.pool = newWorkerPool(e.threads, spin)
	// Idle workers hold no reference to the session, so a session dropped
	// without Close is collected and its workers stopped.
	runtime.AddCleanup(s, func(wp *workerPool) { wp.stop() }, s.pool)
	return s
}

// Close stops the session's worker goroutines and releases what its
// backends hold for it. The session must not be used afterwards.
func (s *Session) Close() {
	if s.closed {
		return
	}
	s.closed = true
	s.pool.stop()
	for _, st := range s.states {
		if c, ok := st.(io.Closer); ok {
			c.Close()
		}
	}
}

// Run runs a model with one input and returns its first output. input is in
// the graph's logical layout (NCHW for images, batch 1). The returned slice
// belongs to the session and is overwritten by the next call.
func (s *Session) Run(input []float32) ([]float32, error) {
	p := s.e.p
	if len(p.inputs) != 1 {
		return nil, fmt.Errorf("%w: Run needs a model with one input, this one has %d (use RunMulti)", ErrShape, len(p.inputs))
	}
	if err := s.load(0, input); err != nil {
		return nil, err
	}
	s.exec()
	return s.outs[0], nil
}

// RunMulti runs a model with all its inputs (in graph order) and copies every
// graph output into outputs, whose lengths must match OutputShapes.
func (s *Session) RunMulti(inputs [][]float32, outputs [][]float32) error {
	p := s.e.p
	if len(inputs) != len(p.inputs) {
		return fmt.Errorf("%w: %d inputs given, model has %d", ErrShape, len(inputs), len(p.inputs))
	}
	if len(outputs) != len(p.outputs) {
		return fmt.Errorf("%w: %d outputs given, model has %d", ErrShape, len(outputs), len(p.outputs))
	}
	for i, o := range outputs {
		if len(o) != len(s.outs[i]) {
			return fmt.Errorf("%w: output %d has length %d, want %d", ErrShape, i, len(o), len(s.outs[i]))
		}
	}
	for i, in := range inputs {
		if err := checkInput(p, i, in); err != nil {
			return err
		}
	}
	for i, in := range inputs {
		s.store(i, in)
	}
	s.exec()
	for i, o := range outputs {
		copy(o, s.outs[i])
	}
	return nil
}

// RunProfile is RunMulti that also adds each layer's wall-clock time to
// times (one entry per Layers() element, in that order): a profiling run,
// which reads the clock twice a layer and otherwise computes exactly what
// RunMulti does. It allocates nothing.
func (s *Session) RunProfile(inputs, outputs [][]float32, times []time.Duration) error {
	if len(times) != len(s.e.p.steps) {
		return fmt.Errorf("%w: %d layer times given, model has %d layers", ErrShape, len(times), len(s.e.p.steps))
	}
	s.profile = times
	defer func() { s.profile = nil }()
	return s.RunMulti(inputs, outputs)
}

func checkInput(p *plan, i int, in []float32) error {
	v := &p.vals[p.inputs[i]]
	if len(in) != v.size {
		return fmt.Errorf("%w: input %d (%q) has %d values, want %d for shape %v", ErrShape, i, v.name, len(in), v.size, v.shape)
	}
	if j := firstNonFinite(in); j >= 0 {
		return fmt.Errorf("%w: input %d (%q) index %d is %v", ErrNonFinite, i, v.name, j, in[j])
	}
	return nil
}

func (s *Session) load(i int, in []float32) error {
	if err := checkInput(s.e.p, i, in); err != nil {
		return err
	}
	s.store(i, in)
	return nil
}

// store copies logical input i into its planned layout.
func (s *Session) store(i int, in []float32) {
	p := s.e.p
	id := p.inputs[i]
	v := &p.vals[id]
	if v.layout == layoutNHWC && !v.trivialNHWC() {
		nchwToNHWC(in, s.v[id], v.shape)
	} else {
		copy(s.v[id], in)
	}
}

// exec runs every step; under RunProfile it also clocks them.
func (s *Session) exec() {
	p := s.e.p
	times := s.profile
	for i, st := range p.steps {
		s.par = p.par[i]
		s.state = s.states[p.stepBe[i]]
		if times == nil {
			st.Run(s)
			continue
		}
		t0 := time.Now()
		st.Run(s)
		times[i] += time.Since(t0)
	}
	for i, id := range p.outputs {
		v := &p.vals[id]
		if v.layout == layoutNHWC && !v.trivialNHWC() {
			nhwcToNCHW(s.v[id], s.outs[i], v.shape)
		} else {
			copy(s.outs[i], s.v[id])
		}
	}
}

// The session is the backend.Exec its kernels run against.

// Buf implements backend.Exec: the storage of value id.
func (s *Session) Buf(id int) []float32 { return s.v[id] }

// Scratch implements backend.Exec: worker w's scratch.
func (s *Session) Scratch(w int) []float32 { return s.scratch[w] }

// State implements backend.Exec: the session's state for the backend of
// the running step.
func (s *Session) State() any { return s.state }

// Parallel implements backend.Exec (see parallel).
func (s *Session) Parallel(n int, t backend.Tasker) { s.parallel(n, t) }

// runRange runs tasks lo..hi-1 of t on one worker.
func runRange(s *Session, t backend.Tasker, worker, lo, hi int) {
	if rt, ok := t.(backend.RangeTasker); ok {
		rt.TaskRange(s, worker, lo, hi)
		return
	}
	for i := lo; i < hi; i++ {
		t.Task(s, worker, i)
	}
}

type job struct {
	s        *Session
	t        backend.Tasker
	n, chunk int
	gen      uint32
}

// workerPool is a fixed set of goroutines started with the session. The
// caller of parallel is worker 0.
type workerPool struct {
	n    int
	spin time.Duration
	jobs []chan job
	once sync.Once
}

func newWorkerPool(n int, spin time.Duration) *workerPool {
	wp := &workerPool{n: n, spin: spin}
	for w := 1; w < n; w++ {
		ch := make(chan job, 1)
		wp.jobs = append(wp.jobs, ch)
		go wp.loop(w, ch)
	}
	return wp
}

// An idle worker polls for the next job for the pool's spin time before it
// parks: waking a parked goroutine costs more than many layers take, while a
// polled handoff is a channel-buffer write. The worker keeps an OS thread of
// its own, so it never queues behind the caller on the caller's thread and
// the OS sees two threads to place on two cores.
func (wp *workerPool) loop(w int, ch chan job) {
	runtime.LockOSThread()
	// Unlock before exiting, or the runtime ends the thread with the
	// goroutine and must create (and allocate for) a new one later.
	defer runtime.UnlockOSThread()
	for {
		j, ok := recvSpin(ch, wp.spin)
		if !ok {
			return
		}
		// Announce before claiming: the caller waits for active to drop to
		// zero, so no claimed chunk can be outstanding when it returns.
		j.s.active.Add(1)
		j.s.drain(j.t, w, j.n, j.chunk, j.gen)
		j.s.active.Add(-1)
		j = job{} // hold no reference to the session while idle
	}
}

// recvSpin receives from ch, polling for up to spin before blocking.
func recvSpin(ch chan job, spin time.Duration) (job, bool) {
	var start time.Time
poll:
	for i := 0; spin > 0; i++ {
		select {
		case j, ok := <-ch:
			return j, ok
		default:
		}
		if i&63 == 0 {
			if i == 0 {
				start = time.Now()
			} else if time.Since(start) > spin {
				break poll
			}
			// With more busy threads than cores (other work, or Threads
			// above the core count) a poller must not hold a core the
			// thread with the real work needs.
			yieldThread()
		}
	}
	j, ok := <-ch
	return j, ok
}

func (wp *workerPool) stop() {
	wp.once.Do(func() {
		for _, ch := range wp.jobs {
			close(ch)
		}
	})
}

// parallel runs tasks 0..n-1 of t over the workers and waits for them.
// Tasks are claimed in contiguous chunks (about four per worker) from a
// counter tagged with a generation; the caller claims too, so a worker the OS
// schedules late (a loaded machine, a slow core) simply takes less or none of
// the work, and the layer waits only for chunks actually being computed.
// Which worker runs a task never changes what the task computes.
func (s *Session) parallel(n int, t backend.Tasker) {
	wp := s.pool
	workers := min(wp.n, n, s.par)
	if workers <= 1 {
		runRange(s, t, 0, 0, n)
		return
	}
	chunk := (n + 4*workers - 1) / (4 * workers)
	s.gen++
	s.next.Store(uint64(s.gen) << 32)
	for w := 1; w < workers; w++ {
		select {
		case wp.jobs[w-1] <- job{s: s, t: t, n: n, chunk: chunk, gen: s.gen}:
		default: // still busy with an earlier job: it will find nothing left
		}
	}
	s.drain(t, 0, n, chunk, s.gen)
	// Wait without yielding first: a yield lets a just-woken worker run on
	// this goroutine's P, sharing one core with the caller, instead of on
	// the idle P it was woken for. Yield only when the wait drags on (fewer
	// OS threads than workers), so the worker can finish.
	for i := 0; s.active.Load() != 0; i++ {
		if i >= 1<<12 {
			runtime.Gosched()
		}
	}
}

// claim returns the first task of the next unclaimed chunk of generation gen,
// or -1 when none is left (or gen is over).
func (s *Session) claim(gen uint32, n, chunk int) int {
	for {
		cur := s.next.Load()
		lo := int(uint32(cur))
		if uint32(cur>>32) != gen || lo >= n {
			return -1
		}
		if s.next.CompareAndSwap(cur, uint64(gen)<<32|uint64(lo+chunk)) {
			return lo
		}
	}
}

// drain runs chunks of t's tasks until none is left.
func (s *Session) drain(t backend.Tasker, worker, n, chunk int, gen uint32) {
	for {
		lo := s.claim(gen, n, chunk)
		if lo < 0 {
			return
		}
		runRange(s, t, worker, lo, min(n, lo+chunk))
	}
}

// firstNonFinite returns the index of the first NaN or ±Inf in x, or -1: a
// float32 is non-finite exactly when its exponent bits are all ones. Blocks of
// eight are tested together so the common all-finite case runs branch-light.
func firstNonFinite(x []float32) int {
	const exp = 0x7f800000
	i := 0
	for ; i+8 <= len(x); i += 8 {
		b := x[i : i+8 : i+8]
		e0 := math.Float32bits(b[0])&exp ^ exp
		e1 := math.Float32bits(b[1])&exp ^ exp
		e2 := math.Float32bits(b[2])&exp ^ exp
		e3 := math.Float32bits(b[3])&exp ^ exp
		e4 := math.Float32bits(b[4])&exp ^ exp
		e5 := math.Float32bits(b[5])&exp ^ exp
		e6 := math.Float32bits(b[6])&exp ^ exp
		e7 := math.Float32bits(b[7])&exp ^ exp
		if e0 == 0 || e1 == 0 || e2 == 0 || e3 == 0 || e4 == 0 || e5 == 0 || e6 == 0 || e7 == 0 {
			break
		}
	}
	for ; i < len(x); i++ {
		if math.Float32bits(x[i])&exp == exp {
			return i
		}
	}
	return -1
}
