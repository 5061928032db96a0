package kernels

import (
	"sync"
	"sync/atomic"
)

// Element-wise kernels: activations (Act.ApplySlice) and the same-length
// Add and Mul the engine's residual, squeeze-excite and pooling steps run.
// Every tier of them lives in one table, switched together: the assembly
// tiers are drop-in replacements of the Go loops in this file and act.go,
// which stay as the oracle the tests compare against.

// elemImpl is one tier's element-wise kernels. The functions receive
// len(dst) ≥ 1 and src, a, b at least as long as dst.
type elemImpl struct {
	tier Tier
	act  func(a Act, dst, src []float32)
	add  func(dst, a, b []float32)
	mul  func(dst, a, b []float32)
}

var (
	elemMu    sync.Mutex
	elemTiers = map[Tier]*elemImpl{
		Generic: {tier: Generic, act: actGeneric, add: addGeneric, mul: mulGeneric},
	}
	elemCur atomic.Pointer[elemImpl]
)

func init() { elemCur.Store(elemTiers[Generic]) }

// registerElem makes a tier's element-wise kernels available when the CPU
// has what they need; the best available tier becomes the default.
func registerElem(e *elemImpl, cpuHas bool) {
	if !cpuHas {
		return
	}
	elemMu.Lock()
	defer elemMu.Unlock()
	elemTiers[e.tier] = e
	if e.tier > elemCur.Load().tier {
		elemCur.Store(e)
	}
}

// ElemTier reports the tier Act.ApplySlice, AddSlice and MulSlice run on.
func ElemTier() Tier { return elemCur.Load().tier }

// SetElemTier makes the element-wise kernels use tier t (Generic when t is
// not available on this machine) and returns a function restoring the
// previous choice. It is meant for tests and benchmarks; the default is the
// best tier. Calls running concurrently finish on the tier they started
// with.
func SetElemTier(t Tier) (restore func()) {
	prev := elemCur.Swap(ElemFor(t).impl)
	return func() { elemCur.Store(prev) }
}

// Operations of the assembly add/mul kernels (elemBin*).
const (
	elemAdd uint32 = iota
	elemMul
)

// AddSlice computes dst[i] = a[i] + b[i] for i < len(dst); a and b must be
// at least as long as dst. dst may be a or b itself (not a partial
// overlap). Every tier gives the same bits as the Go loop.
func AddSlice(dst, a, b []float32) { Elem{}.Add(dst, a, b) }

// MulSlice computes dst[i] = a[i] * b[i] for i < len(dst), with the same
// length, aliasing and exactness rules as AddSlice.
func MulSlice(dst, a, b []float32) { Elem{}.Mul(dst, a, b) }

func addGeneric(dst, a, b []float32) {
	a, b = a[:len(dst)], b[:len(dst)]
	for i := range dst {
		dst[i] = a[i] + b[i]
	}
}

func mulGeneric(dst, a, b []float32) {
	a, b = a[:len(dst)], b[:len(dst)]
	for i := range dst {
		dst[i] = a[i] * b[i]
	}
}

// Elem is the element-wise kernel set of one tier, fixed when a layer is
// planned so that forcing a tier on an engine (and the tier a layer reports)
// covers its activations, Add and Mul too. The zero value runs the process
// default (ElemTier).
type Elem struct{ impl *elemImpl }

// ElemFor returns tier t's element-wise kernels, or Generic's when t is not
// available on this machine.
func ElemFor(t Tier) Elem {
	elemMu.Lock()
	defer elemMu.Unlock()
	e, ok := elemTiers[t]
	if !ok {
		e = elemTiers[Generic]
	}
	return Elem{e}
}

func (e Elem) get() *elemImpl {
	if e.impl == nil {
		return elemCur.Load()
	}
	return e.impl
}

// Tier is the tier e runs on.
func (e Elem) Tier() Tier { return e.get().tier }

// Apply is Act.ApplySlice on e's tier.
func (e Elem) Apply(a Act, dst, src []float32) {
	src = src[:len(dst)]
	if len(dst) == 0 {
		return
	}
	e.get().act(a, dst, src)
}

// Add is AddSlice on e's tier.
func (e Elem) Add(dst, a, b []float32) {
	a, b = a[:len(dst)], b[:len(dst)]
	if len(dst) == 0 {
		return
	}
	e.get().add(dst, a, b)
}

// Mul is MulSlice on e's tier.
func (e Elem) Mul(dst, a, b []float32) {
	a, b = a[:len(dst)], b[:len(dst)]
	if len(dst) == 0 {
		return
	}
	e.get().mul(dst, a, b)
}
