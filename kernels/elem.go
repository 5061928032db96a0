package kernels

import "github.com/signet-go/signet/kernels/internal/impl"

// Element-wise kernels: activations (Act.ApplySlice) and the same-length
// Add and Mul the engine's residual, squeeze-excite and pooling steps run.
// Every tier of them is one elemImpl in elemFamily: the assembly tiers are
// drop-in replacements of the Go loops in this file and act.go, which stay
// as the oracle the tests compare against.

// elemImpl is one tier's element-wise kernels. The functions receive
// len(dst) ≥ 1 and src, a, b at least as long as dst.
type elemImpl struct {
	act func(a Act, dst, src []float32)
	add func(dst, a, b []float32)
	mul func(dst, a, b []float32)
	max func(dst, a, b []float32) // nil: the tier has none, maxGeneric runs
}

// elemFamily holds the element-wise kernels of every tier.
var elemFamily = impl.NewFamily[*elemImpl]("elem")

func registerElem(t Tier, name string, e *elemImpl) { register(elemFamily, t, name, e) }

func init() {
	registerElem(Generic, "f32-elem-go", &elemImpl{act: actGeneric, add: addGeneric, mul: mulGeneric, max: maxGeneric})
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

// maxGeneric is dst[i] = max(a[i], b[i]), branch-free: the
// compare-and-branch form mispredicted on real activations (4.7 ms of
// resnet18's 3x3 max pool vs 1.4 ms). Go's max propagates NaN as
// MaxPoolRef does and prefers +0 over -0; the assembly tiers give the same
// bits.
func maxGeneric(dst, a, b []float32) {
	a, b = a[:len(dst)], b[:len(dst)]
	for i := range dst {
		dst[i] = max(a[i], b[i])
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
// covers its activations, Add and Mul too. The zero value runs on Best.
type Elem struct{ c chosen[elemImpl] }

// ElemFor returns tier t's element-wise kernels, or Generic's when t is not
// available on this machine; Tier reports which.
func ElemFor(t Tier) Elem { return Elem{choose(elemFamily, t)} }

func (e Elem) get() *elemImpl { return e.c.or(elemFamily).k }

// Tier is the tier e runs on.
func (e Elem) Tier() Tier { return e.c.or(elemFamily).tier }

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

// Max computes dst[i] = max(a[i], b[i]) (Go's max) on e's tier, with
// AddSlice's length and aliasing rules; MaxTier is the tier that runs it.
func (e Elem) Max(dst, a, b []float32) {
	a, b = a[:len(dst)], b[:len(dst)]
	if len(dst) == 0 {
		return
	}
	if k := e.get().max; k != nil {
		k(dst, a, b)
		return
	}
	maxGeneric(dst, a, b)
}

// MaxTier is the tier Max runs on: e's, or Generic where e's tier has no
// max kernel (NEON today).
func (e Elem) MaxTier() Tier {
	if e.get().max == nil {
		return Generic
	}
	return e.Tier()
}

// Mul is MulSlice on e's tier.
func (e Elem) Mul(dst, a, b []float32) {
	a, b = a[:len(dst)], b[:len(dst)]
	if len(dst) == 0 {
		return
	}
	e.get().mul(dst, a, b)
}
