package kernels

import (
	"fmt"

	"github.com/signet-go/signet/kernels/internal/impl"
)

// Tier names one implementation level of the kernels.
type Tier uint8

// The tiers, in the order Best prefers them (a later one is faster where
// the machine runs it). A new tier goes before numTiers, with its name in
// tierNames and its CPU test in cpu_<arch>.go.
const (
	// Generic is the portable Go implementation, available everywhere.
	Generic Tier = iota
	// AVX2 uses 256-bit FMA on amd64 (AVX2 + FMA3).
	AVX2
	// AVX512 uses 512-bit FMA on amd64 (AVX-512F with OS support for zmm state).
	AVX512
	// NEON uses 128-bit fmla on arm64.
	NEON

	numTiers // keep last
)

var tierNames = [numTiers]string{Generic: "generic", AVX2: "avx2", AVX512: "avx512", NEON: "neon"}

func (t Tier) String() string {
	if t < numTiers {
		return tierNames[t]
	}
	return fmt.Sprintf("tier(%d)", uint8(t))
}

// Tiers lists every tier this package defines, whether or not this machine
// runs it, in Tier order.
func Tiers() []Tier {
	out := make([]Tier, numTiers)
	for t := range out {
		out[t] = Tier(t)
	}
	return out
}

// ParseTier maps a tier name ("generic", "avx2", "avx512", "neon") to a Tier.
func ParseTier(s string) (Tier, error) {
	for t := Generic; t < numTiers; t++ {
		if t.String() == s {
			return t, nil
		}
	}
	return 0, fmt.Errorf("kernels: unknown tier %q", s)
}

// Runs reports whether this machine runs tier t: the CPU (and OS) support
// what the tier needs and the build has assembly (not the purego tag).
func (t Tier) Runs() bool { return t < numTiers && cpuRuns(t) && impl.Allowed(uint8(t)) }

// Available lists the tiers this machine runs, best last. A kernel family
// without an implementation for one of them falls back to Generic, and says
// so (see Resolve).
func Available() []Tier {
	var out []Tier
	for t := Generic; t < numTiers; t++ {
		if t.Runs() {
			out = append(out, t)
		}
	}
	return out
}

// Best returns the fastest tier this machine runs.
func Best() Tier {
	for t := numTiers - 1; t > Generic; t-- {
		if t.Runs() {
			return t
		}
	}
	return Generic
}

// Kernel names the implementation one kernel family runs.
type Kernel struct {
	Family string // "gemm", "dot", "elem", "depthwise", "winograd", ...
	Tier   Tier
	Name   string // e.g. "f32-gemm-12x32-avx512"
}

// Resolve reports, for each kernel family, the implementation a request for
// tier t gets: its Tier is t, or Generic where the family lacks t or this
// machine does not run it, so a tool can print which families fall back.
// Gemm, ElemFor, DotFor and NewDepthwiseTier follow the same rule, and each
// reports the tier it chose.
func Resolve(t Tier) []Kernel {
	return []Kernel{
		kernelOf(gemmFamily.Lookup(uint8(t))),
		kernelOf(dotFamily.Lookup(uint8(t))),
		kernelOf(dot8Family.Lookup(uint8(t))),
		kernelOf(elemFamily.Lookup(uint8(t))),
		kernelOf(dwFamily.Lookup(uint8(t))),
		kernelOf(qgemmFamily.Lookup(uint8(t))),
		kernelOf(q8Family.Lookup(uint8(t))),
		kernelOf(winoFamily.Lookup(uint8(t))),
	}
}

func kernelOf[T any](im impl.Impl[T]) Kernel {
	return Kernel{Family: im.Family, Tier: Tier(im.Tier), Name: im.Name}
}

// chosen is a family's kernels for one tier, resolved once by the caller
// (DotFor, ElemFor) and passed down; the zero value resolves to Best's on
// use.
type chosen[T any] struct {
	k    *T
	tier Tier // the tier k belongs to: the one asked for, or the fallback
}

func choose[T any](f *impl.Family[*T], t Tier) chosen[T] {
	im := f.Lookup(uint8(t))
	return chosen[T]{k: im.Kernels, tier: Tier(im.Tier)}
}

// or is c, or Best's kernels of f when c is the zero value.
func (c chosen[T]) or(f *impl.Family[*T]) chosen[T] {
	if c.k == nil {
		return choose(f, Best())
	}
	return c
}

// register adds tier t's implementation of a family; whether the machine
// runs it follows from the tier alone (cpuRuns), the one rule for every
// family.
func register[T any](f *impl.Family[T], t Tier, name string, k T) {
	f.Register(uint8(t), name, cpuRuns(t), k)
}

// Epilogue kinds applied to each output element of a GEMM tile at store time.
const (
	// EpiClamp clamps to [Lo, Hi]; Lo=-Inf, Hi=+Inf is the identity, Lo=0 is
	// ReLU, [0,6] is ReLU6.
	EpiClamp uint8 = iota
	// EpiHardSwish computes x*min(max(x+3,0),6)/6.
	EpiHardSwish
	// EpiSiLU computes x/(1+exp(-x)).
	EpiSiLU
)

// Epilogue is what a GEMM microkernel applies to acc+bias before storing.
type Epilogue struct {
	Kind   uint8
	Lo, Hi float32
}

// GemmMicrokernel computes one MR×NR tile of C = A·B + bias with an epilogue:
//
//	for i := 0; i < mr; i++ {
//		for j := 0; j < nr; j++ {
//			var acc float32
//			for p := 0; p < k; p++ {
//				acc += a[p*MR+i] * b[p*NR+j]
//			}
//			if accumulate { acc += c[i*ldc+j] } else if bias != nil { acc += bias[j] }
//			if final { acc = epi.apply(acc) }
//			c[i*ldc+j] = acc
//		}
//	}
//
// a is packed A: k steps of MR floats (rows beyond mr are zero padding);
// b is packed B: k steps of NR floats (columns beyond nr are zero padding);
// mr ≤ MR and nr ≤ NR; k ≥ 1. Only the mr×nr valid elements of c are
// touched. The summation order may differ between tiers, so results agree to
// fp32 rounding, not bit for bit.
//
// FnA, when not nil, computes the same full-height tile (mr = MR) over
// k = a.Seg·a.NSeg steps, reading A in place (see InPlaceA) instead of
// packed. With the same values it gives bit for bit what Fn gives on the
// packed A; it lets a driver skip packing when A's rows are evenly spaced in
// memory (1×1 convolutions, interior tiles of larger kernels).
type GemmMicrokernel struct {
	Name   string // e.g. "f32-gemm-12x32-avx512"
	Tier   Tier
	MR, NR int
	Fn     func(k int, a, b, c []float32, ldc, mr, nr int, bias []float32, epi *Epilogue, accumulate, final bool)
	FnA    func(a InPlaceA, b, c []float32, ldc, nr int, bias []float32, epi *Epilogue, accumulate, final bool)
}

// InPlaceA is an MR-row block of A as it lies in memory: step s·Seg+p
// (s < NSeg, p < Seg) of row i is Data[i*LD + s*SegStride + p]. Rows may
// overlap (LD < Seg), as the im2col rows of neighbouring output pixels do;
// segments are the kernel rows of a convolution.
type InPlaceA struct {
	Data                     []float32
	LD, Seg, NSeg, SegStride int
}

// gemmFamily holds the GEMM microkernels.
var gemmFamily = impl.NewFamily[GemmMicrokernel]("gemm")

func registerGemm(k GemmMicrokernel) { register(gemmFamily, k.Tier, k.Name, k) }

// Gemm returns the GEMM microkernel of a tier, falling back to Generic
// when the tier is not available on this machine; its Tier field is the
// tier actually used.
func Gemm(t Tier) GemmMicrokernel { return gemmFamily.Lookup(uint8(t)).Kernels }

func init() {
	registerGemm(GemmMicrokernel{Name: "f32-gemm-4x8-go", Tier: Generic, MR: 4, NR: 8, Fn: gemmGeneric4x8})
}
