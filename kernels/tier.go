package kernels

import (
	"fmt"
	"sync"
)

// Tier names one implementation level of the kernels.
type Tier uint8

const (
	// Generic is the portable Go implementation, available everywhere.
	Generic Tier = iota
	// AVX2 uses 256-bit FMA on amd64 (AVX2 + FMA3).
	AVX2
	// AVX512 uses 512-bit FMA on amd64 (AVX-512F with OS support for zmm state).
	AVX512
	// NEON uses 128-bit fmla on arm64.
	NEON
)

func (t Tier) String() string {
	switch t {
	case Generic:
		return "generic"
	case AVX2:
		return "avx2"
	case AVX512:
		return "avx512"
	case NEON:
		return "neon"
	}
	return fmt.Sprintf("tier(%d)", uint8(t))
}

// ParseTier maps a tier name ("generic", "avx2", "avx512", "neon") to a Tier.
func ParseTier(s string) (Tier, error) {
	for t := Generic; t <= NEON; t++ {
		if t.String() == s {
			return t, nil
		}
	}
	return 0, fmt.Errorf("kernels: unknown tier %q", s)
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

var (
	registryMu sync.Mutex
	gemmByTier = map[Tier]GemmMicrokernel{}
	available  = map[Tier]bool{Generic: true}
)

// register is called from init functions of the architecture files.
func registerGemm(k GemmMicrokernel, cpuHas bool) {
	registryMu.Lock()
	defer registryMu.Unlock()
	gemmByTier[k.Tier] = k
	if cpuHas {
		available[k.Tier] = true
	}
}

// Available lists the tiers this machine can run, best last.
func Available() []Tier {
	registryMu.Lock()
	defer registryMu.Unlock()
	var out []Tier
	for t := Generic; t <= NEON; t++ {
		if available[t] {
			out = append(out, t)
		}
	}
	return out
}

// Best returns the fastest tier this machine can run.
func Best() Tier {
	a := Available()
	return a[len(a)-1]
}

// Gemm returns the GEMM microkernel of a tier, falling back to Generic
// when the tier is not available on this machine.
func Gemm(t Tier) GemmMicrokernel {
	registryMu.Lock()
	defer registryMu.Unlock()
	if k, ok := gemmByTier[t]; ok && available[t] {
		return k
	}
	return gemmByTier[Generic]
}

func init() {
	registerGemm(GemmMicrokernel{Name: "f32-gemm-4x8-go", Tier: Generic, MR: 4, NR: 8, Fn: gemmGeneric4x8}, true)
}
